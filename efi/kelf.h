/*
 * Validation of the kernel ELF before the loader trusts any of it.
 * Pure code over a byte buffer: no firmware calls, so tests/host/ runs it
 * on the build machine against truncated and corrupt files.
 */
#ifndef EFI_KELF_H
#define EFI_KELF_H

#include <stdint.h>
#include <stddef.h>

/* What the loader needs to place the kernel, once the file is known good. */
struct kelf_plan {
    uint64_t entry;      /* virtual entry point, inside a PF_X segment */
    uint64_t vbase;      /* lowest PT_LOAD vaddr, 4 KiB aligned down */
    uint64_t vend;       /* highest PT_LOAD vaddr + memsz, 4 KiB aligned up */
    unsigned nload;      /* number of PT_LOAD segments */
};

/* The kernel's link window: it must sit entirely in the top 2 GiB. */
#define KELF_MIN_VADDR 0xffffffff80000000ull
/* Refuse images larger than this; a kernel of ours is a few hundred KiB. */
#define KELF_MAX_SPAN  (256ull << 20)

/*
 * Check `len` bytes at `buf` as a kernel image: ELF magic, 64-bit,
 * little-endian, x86-64, ET_EXEC, program headers inside the file and of
 * the right size, every PT_LOAD with filesz <= memsz, its file bytes
 * inside the file, its addresses inside the kernel window without
 * wrap-around, no two PT_LOAD overlapping, and an entry point inside an
 * executable segment.  Returns 0 and fills *plan, or -1 with *why set
 * to a static English sentence.
 */
int kelf_check(const void *buf, uint64_t len, struct kelf_plan *plan,
               const char **why);

#endif
