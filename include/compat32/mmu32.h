/*
 * compat32's software i386 MMU (compat32/mmu32.c): a 32-bit process's
 * address space is described by i386 two-level tables (pt_i386, the
 * authoritative map), and the 4-level tables the CPU walks are derived
 * from them on demand, kept exact (docs/compat32.md).
 */
#ifndef COMPAT32_MMU32_H
#define COMPAT32_MMU32_H

#include <kernel/sbuf.h>
#include <mm/vma.h>

/* compat32.mirror=ro: the page-table mirror at 0xffc00000 is readable by
 * the process (supervisor-only otherwise).  Read when mm_init_user32 creates
 * an address space; fork's children keep their parent's policy. */
extern bool mmu32_mirror_user;

/*
 * Make *mm an empty 32-bit address space: i386 tables over
 * [MM_MIN_ADDR, MM_VA_END_32) from GFP_DMA32 (a 20-bit frame number names
 * nothing above 4 GiB), the mirror PDE, and the derived hardware tables
 * with the kernel half (mm_kernel_share).  The one place that decides how
 * a 32-bit address space is built: exec calls it for an ELF32, and from
 * then on only the generic mm_* and vma calls touch the result (mm_fork
 * copies it, mm_destroy frees it).  0, or -ENOMEM with nothing allocated.
 */
int mm_init_user32(struct mm *mm);

/* Is mm such a space (mm_fork's children of one are too)? */
bool mm_is32(const struct mm *mm);

/* The 4-level tables the CPU walks for mm (NULL if not a 32-bit space):
 * for the checker, dumps and tests, read-only. */
const struct pgtable *mmu32_hw(const struct mm *mm);

/* The checker: every hardware translation below 4 GiB agrees with the
 * i386 tables (frame, rights, accessed/dirty).  0, or -EUCLEAN with why
 * (-EINVAL when mm is not a 32-bit space). */
int mmu32_check(const struct mm *mm, char *why, size_t size);

/* The PDEs and PTEs of [start, end), in the documents' terms: index,
 * frame number, flags P RW US PWT PCD A D PS G (and NX, our soft bit). */
void mmu32_dump(const struct mm *mm, uint64_t start, uint64_t end, struct sbuf *out);

#endif
