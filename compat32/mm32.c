/*
 * The address space of a 32-bit process.
 *
 * This is the one function that knows how a 32-bit process's memory is
 * described: exec calls it, and from then on only the generic mm_* and
 * vma calls touch the result (fork copies it with mm_fork, exit frees it
 * with mm_destroy, the user-copy helpers check against mm->pt.va_end).
 *
 * The space is compat32's (docs/compat32.md): i386 two-level tables over
 * [0, MM_VA_END_32 = 0xffc00000) as the authoritative map, every frame
 * and table page from GFP_DMA32 (a 20-bit frame number names nothing
 * above 4 GiB), SOS's mirror above, and the 4-level tables the CPU walks
 * derived from them by compat32/mmu32.c.  A pointer at or above
 * 0xffc00000 is not user memory and gets -EFAULT.
 *
 * Invariant: every 32-bit process's mm comes from here (exec) or from
 * mm_fork of one that did, so mm_is32() holds for it and its va_end is
 * MM_VA_END_32.
 */
#include <compat32/mmu32.h>
#include <kernel/compat32.h>
#include <mm/vma.h>

int mm_init_user32(struct mm *mm)
{
    return mmu32_init(mm);
}
