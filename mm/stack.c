/*
 * Stacks that grow down: the main stack exec maps, and MAP_GROWSDOWN
 * mappings (include/mm/vma.h; docs/address-spaces.md, "The stack").
 *
 * A stack is a VMA with VMA_GROWSDOWN.  exec maps a small one (its
 * arguments and 128 KiB, as Linux's setup_arg_pages); a fault in the
 * hole just below it extends the VMA down to the faulting page (Linux's
 * expand_stack), so a deep recursion finds memory as it goes.  Growth is
 * refused, and the fault kills with SIGSEGV, when:
 *  - the VMA would pass the stack limit (RLIMIT_STACK, asked at each
 *    growth: a setrlimit applies at once, as on Linux);
 *  - it would come within mm->stack_guard bytes (Linux's stack_guard_gap,
 *    256 pages) of an accessible VMA below that does not grow down itself
 *    (a PROT_NONE VMA below is a guard page of its own: no gap kept);
 *  - it would go below MM_MIN_ADDR, or the memory could never be backed
 *    (the overcommit rule of mm/mmap.c).
 * The same gap is kept free by mmap's search and brk (vma_start_gap), and
 * mmap_base sits below all the room the main stack may take, so only
 * MAP_FIXED can put a mapping in its way.
 *
 * Invariants: a VMA_GROWSDOWN VMA is private anonymous (mmap refuses the
 * flag with a file or MAP_SHARED); growth only moves its start down over
 * a hole, so the VMA set stays sorted and disjoint; mm->stack_start is
 * the start of the VMA holding the top of the main stack.
 *
 * Left out: Linux's check that an access is near the stack pointer
 * (dropped by Linux in 4.20 too), and stacks growing up (no x86 use).
 */
#include <mm/vma.h>
#include <kernel/errno.h>
#include <kernel/types.h>

#include "mmap_impl.h"

#define STACK_LIMIT_DEFAULT (8ul << 20)   /* RLIMIT_STACK's usual soft value */
#define MMAP_GAP_MIN        (128ul << 20) /* Linux's mmap_base: at least 128 MiB for the stack */

uint64_t (*mm_stack_limit)(void);

uint64_t mm_stack_rlimit(void)
{
    return mm_stack_limit ? mm_stack_limit() : STACK_LIMIT_DEFAULT;
}

int mm_setup_stack(struct mm *mm, uint64_t top, uint64_t size, uint64_t guard)
{
    if (((top | size | guard) & PAGE_MASK_LOW) || size == 0 || top > mm->va_end ||
        top < MM_MIN_ADDR || size > top - MM_MIN_ADDR)
        return -EINVAL;
    uint64_t got;
    int err = mm_mmap(mm, top - size, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_GROWSDOWN, NULL, 0,
                      &got);
    if (err)
        return err;
    mm->stack_start = top - size;
    mm->stack_end = top;
    mm->stack_guard = guard;
    /* Linux's mmap_base: below the limit and the guard, within bounds. */
    uint64_t limit = mm_stack_rlimit(), gap = limit + guard, most = mm->va_end / 6 * 5;
    if (gap < limit || gap > most)
        gap = most;   /* RLIM_INFINITY and other huge limits */
    if (gap < MMAP_GAP_MIN)
        gap = MMAP_GAP_MIN;
    uint64_t base = top > gap ? ALIGN_DOWN(top - gap, PAGE_SIZE) : 0;
    base = MIN(base, mm->stack_start > guard ? mm->stack_start - guard : 0);
    if (base >= MM_MIN_ADDR && base < mm->mmap_base)
        mm->mmap_base = base;
    return 0;
}

struct vma *mm_grow_stack(struct mm *mm, uint64_t addr)
{
    if (addr < MM_MIN_ADDR || addr >= mm->va_end)
        return NULL;
    struct vma *v = vma_find(mm, addr);
    if (!v || v->start <= addr || !(v->flags & VMA_GROWSDOWN))
        return NULL;
    uint64_t start = ALIGN_DOWN(addr, PAGE_SIZE);
    if (v->end - start > mm_stack_rlimit())
        return NULL;
    struct vma *prev = v->prev;
    if (prev && !(prev->flags & VMA_GROWSDOWN) && prev->prot != PROT_NONE &&
        start - prev->end < mm->stack_guard)
        return NULL;
    if (prev && prev->end > start)
        return NULL;
    if (!mmap_enough_memory(v->start - start))
        return NULL;
    bool main_stack = v->start < mm->stack_end && v->end >= mm->stack_end;
    v->pgoff -= (v->start - start) >> PAGE_SHIFT;   /* the pages keep their indexes */
    v->start = start;   /* over a hole: the set stays sorted and disjoint */
    if (main_stack)
        mm->stack_start = start;
    vma_merge_range(mm, start, start);   /* a GROWSDOWN VMA just below it, same rights */
    return vma_lookup(mm, addr);
}
