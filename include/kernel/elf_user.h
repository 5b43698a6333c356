/*
 * Checking a user executable before execve trusts any of it, and turning
 * it into a load plan: which bytes of the file go where, with which
 * protection, where the entry point, the program headers (AT_PHDR) and
 * the heap (brk) are.
 *
 * Both classes, each by the file's own header: ELF64 for x86-64 and ELF32
 * for i386 (run in compatibility mode, docs/compat32.md).  Static
 * programs only: ET_EXEC at its link addresses, or a static PIE (ET_DYN
 * without PT_INTERP) moved by a load bias the caller chooses.  A program
 * that asks for a dynamic linker is refused.
 *
 * Pure code over a byte buffer: nothing is mapped or allocated here, so
 * tests/host/test_elf_user.c runs it on real musl binaries, on every
 * truncation and on random corruption.  docs/exec.md explains each check.
 */
#ifndef KERNEL_ELF_USER_H
#define KERNEL_ELF_USER_H

#include <kernel/types.h>

#define ELF_USER_PAGE 4096ul

/* Program headers at most (Linux reads at most 64 KiB of them). */
#define ELF_USER_MAX_PHNUM 64
/* PT_LOAD segments at most; musl and glibc programs have 2 to 5. */
#define ELF_USER_MAX_LOAD  16

/*
 * Where user segments may lie: [ELF_USER_MIN_ADDR, end), end depending on
 * the class.  Below 64 KiB nothing is mapped, so that a NULL pointer
 * (plus a small offset) always faults: Linux's default vm.mmap_min_addr.
 * 64-bit: below the last page of the lower canonical half, as Linux's
 * TASK_SIZE_MAX (a user page there would let sysret return to a
 * non-canonical address).  32-bit: below 0xffc00000, where the process's
 * own page tables appear through SOS's mirror (docs/compat32.md).
 */
#define ELF_USER_MIN_ADDR 0x10000ul
#define ELF_USER_END64    0x00007ffffffff000ul
#define ELF_USER_END32    0xffc00000ul

/*
 * Suggested load biases for static PIEs: Linux's ELF_ET_DYN_BASE, where
 * it puts a PIE started through a dynamic linker.  (Linux maps a static
 * PIE near the mmap base instead; any page-aligned bias that keeps the
 * segments in range works.)
 */
#define ELF_USER_DYN_BASE64 0x0000555555554000ul
#define ELF_USER_DYN_BASE32 0x56555000ul

/* Segment protection: the values of mmap's PROT_READ/WRITE/EXEC. */
#define ELF_USER_R 0x1u
#define ELF_USER_W 0x2u
#define ELF_USER_X 0x4u

/*
 * One PT_LOAD, load bias applied.  Map [offset, offset + filesz) of the
 * file at vaddr, zero [vaddr + filesz, vaddr + memsz).  In pages:
 * [align_down(vaddr), align_up(vaddr + memsz)), file page
 * align_down(offset) at align_down(vaddr) (offset and vaddr are equal
 * modulo the page size).  [align_down(offset), offset + filesz) is inside
 * the file, even when filesz is 0.  No two segments share a page.
 */
struct elf_user_seg {
    uint64_t vaddr;
    uint64_t memsz;     /* > 0 */
    uint64_t offset;
    uint64_t filesz;    /* <= memsz */
    uint32_t prot;      /* ELF_USER_R | ELF_USER_W | ELF_USER_X */
};

struct elf_user_plan {
    uint8_t elf_class;      /* ELFCLASS64 or ELFCLASS32 */
    uint16_t machine;       /* EM_X86_64 or EM_386 */
    uint16_t type;          /* ET_EXEC or ET_DYN */
    uint64_t load_bias;     /* added to every address of the file; 0 for ET_EXEC */
    uint64_t entry;         /* AT_ENTRY, inside an executable segment */
    uint64_t phdr;          /* AT_PHDR; 0 if the headers are not loaded */
    uint32_t phent;         /* AT_PHENT: 56 or 32 */
    uint32_t phnum;         /* AT_PHNUM */
    uint64_t start;         /* lowest segment address, rounded down to a page */
    uint64_t brk;           /* end of the highest segment, rounded up: brk start */
    bool stack_exec;        /* PT_GNU_STACK has PF_X (absent: false) */
    uint32_t nseg;          /* 1..ELF_USER_MAX_LOAD */
    struct elf_user_seg seg[ELF_USER_MAX_LOAD];   /* sorted by vaddr */
};

/*
 * Check the `len`-byte file at `buf` and fill *plan.  load_bias is used
 * for ET_DYN only (page aligned; ELF_USER_DYN_BASE* is a good choice) and
 * ignored for ET_EXEC.  Returns 0, or -ENOEXEC with *why set to a static
 * English sentence (bad magic, class, byte order, version, machine, type,
 * PT_INTERP, too many or no segments, sizes or offsets outside the file,
 * filesz > memsz, offset and address disagreeing modulo the page size,
 * an address below ELF_USER_MIN_ADDR, wrapping, or reaching the kernel
 * half or the 32-bit mirror, overlapping segments, an entry point outside
 * executable memory, a PT_PHDR that does not point at the headers), or
 * -EINVAL when load_bias is not page aligned.  *plan is only meaningful
 * on success.  `why` may be NULL.  The buffer is only read, never kept.
 */
int elf_user_check(const void *buf, uint64_t len, uint64_t load_bias,
                   struct elf_user_plan *plan, const char **why);

#endif
