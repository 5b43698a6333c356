/*
 * /proc/<pid>/pagemap: one 64-bit record per virtual page of the process,
 * record i for the page at address i * 4096, from 0 to the end of its
 * address space (mm->va_end), in the layout of Linux's
 * Documentation/admin-guide/mm/pagemap.rst:
 *
 *   bits 0-54  the frame number (PFN) when present; for a swapped page
 *              (a payload entry) the swap entry as Linux shows it: the
 *              area's type in bits 0-4, the slot's offset in bits 5-54
 *              (swp_entry's own layout, include/mm/swap.h)
 *   bit  55    soft-dirty (mmk does not track it: always 0)
 *   bit  56    the frame is mapped exactly once (by this pte alone)
 *   bit  61    a page-cache page or shared anonymous memory, not a
 *              private anonymous page
 *   bit  62    swapped (a payload entry)
 *   bit  63    present
 *
 * Unmapped pages, and mapped ones never touched, read 0.  The zero page
 * (a page read before it was written) is present with its PFN, but is
 * neither "exclusive" nor "file", as Linux has it (vm_normal_page gives
 * no page for it).  Linux shows the PFN only to CAP_SYS_ADMIN; every mmk
 * process is root and sees it.
 *
 * The page tables are walked with pt_for_each over the range read.  For
 * a 32-bit process the walk reads its i386 tables (mm->pt), the
 * authoritative map, not the 4-level ones derived from them.  How many
 * ptes map a frame is the reverse map's answer (rmap_count); a private
 * anonymous frame referenced once is mapped once (every pte holds one
 * reference), which spares the walk for most pages.
 */
#include <kernel/kernel.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <mm/page.h>
#include <mm/pgtable.h>
#include <mm/rmap.h>
#include <mm/vma.h>
#include "proc_impl.h"

#define PM_PFN_MASK       ((1ul << 55) - 1)
#define PM_SOFT_DIRTY     (1ul << 55)
#define PM_MMAP_EXCLUSIVE (1ul << 56)
#define PM_FILE           (1ul << 61)
#define PM_SWAP           (1ul << 62)
#define PM_PRESENT        (1ul << 63)

/* Is the frame behind this pte mapped by it alone? */
static bool mapped_once(struct page *pg)
{
    if (!pg->refcount || !(pg->flags & (PG_ANON | PG_FILE)))
        return false;                   /* no reverse map: Linux counts no mapping */
    if ((pg->flags & PG_ANON) && pg->refcount == 1)
        return true;
    return rmap_count(pg) == 1;
}

/* The record of a present page whose frame starts at pa. */
static uint64_t present_record(uint64_t pa)
{
    uint64_t pfn = pa >> PAGE_SHIFT;
    uint64_t e = PM_PRESENT | (pfn & PM_PFN_MASK);
    if (pfn >= node0->max_pfn || pa == mm_zero_page())
        return e;                       /* not a page of the allocator's: no flags */
    struct page *pg = pfn_to_page(pfn);
    if (!(pg->flags & PG_ANON))
        e |= PM_FILE;
    if (mapped_once(pg))
        e |= PM_MMAP_EXCLUSIVE;
    return e;
}

struct pagemap_walk {
    uint64_t *out;
    uint64_t start, end;                /* the addresses read: [start, end) */
};

static int pagemap_leaf(const struct pt_view *v, void *arg)
{
    struct pagemap_walk *w = arg;
    uint64_t lo = MAX(v->va, w->start), hi = MIN(v->va + v->size, w->end);
    for (uint64_t va = lo; va < hi; va += PAGE_SIZE) {
        uint64_t *rec = &w->out[(va - w->start) >> PAGE_SHIFT];
        *rec = v->payload ? PM_SWAP | (v->payload & PM_PFN_MASK)
                          : present_record(v->pa + (va - v->va));
    }
    return 0;
}

static uint64_t pagemap_count(struct task *t)
{
    return t && t->mm ? t->mm->va_end >> PAGE_SHIFT : 0;
}

static int pagemap_fill(struct task *t, uint64_t first, uint64_t *out, size_t n)
{
    memset(out, 0, n * sizeof(*out));
    struct pagemap_walk w = { out, first << PAGE_SHIFT, (first + n) << PAGE_SHIFT };
    return pt_for_each(&t->mm->pt, w.start, w.end, pagemap_leaf, &w);
}

const struct proc_records proc_pagemap = { pagemap_count, pagemap_fill };
