/*
 * /proc/kpagecount and /proc/kpageflags: one 64-bit record per frame
 * number, from 0 to max_pfn, in the layout of Linux's
 * Documentation/admin-guide/mm/pagemap.rst (root only: mode 0400).
 *
 * kpagecount: how many ptes map the frame: the reverse map's count
 * (rmap_count) for an anonymous or page-cache page, 0 for any other
 * frame (free, kernel memory, the zero page), as Linux counts no
 * mapping for those.
 *
 * kpageflags: Linux's KPF_* bits for the state mmk has:
 *   3  UPTODATE    a user page (anonymous or page cache): its contents
 *                  are valid, as Linux marks every such page once filled
 *   7  SLAB        a slab block or large kmalloc block, head and tails
 *  10  BUDDY       the head of a free block on a buddy list (not one in
 *                  the per-CPU cache, nor the other frames of a free
 *                  block: Linux marks only the head either)
 *  11  MMAP        mapped by at least one pte
 *  12  ANON        a private anonymous page
 *  14  SWAPBACKED  anonymous and tmpfs pages (every page-cache page is
 *                  tmpfs's here)
 *  15  COMPOUND_HEAD, 16 COMPOUND_TAIL  the frames of a slab block of
 *                  several frames (Linux's slabs are compound pages; other
 *                  blocks are not, there as here)
 *  24  ZERO_PAGE   the shared zero page
 *  26  PGTABLE     a page-table page
 *  32  RESERVED    not given to the allocator (holes, firmware, the
 *                  kernel, mem_map)
 * The LRU, dirty, writeback, lock bits and their kind describe
 * machinery mmk does not have: they stay 0.
 */
#include <kernel/kernel.h>
#include <kernel/task.h>
#include <mm/gfp.h>
#include <mm/page.h>
#include <mm/rmap.h>
#include <mm/vma.h>
#include "proc_impl.h"

#define KPF_UPTODATE      3
#define KPF_SLAB          7
#define KPF_BUDDY        10
#define KPF_MMAP         11
#define KPF_ANON         12
#define KPF_SWAPBACKED   14
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_ZERO_PAGE    24
#define KPF_PGTABLE      26
#define KPF_RESERVED     32
#define BIT(k) (1ul << (k))

static uint64_t kpage_count(struct task *t)
{
    (void)t;
    return node0->max_pfn;
}

/* ptes mapping an allocated frame (the head of its block). */
static uint64_t map_count(struct page *pg)
{
    if (!pg->refcount || !(pg->flags & (PG_ANON | PG_FILE)))
        return 0;
    return rmap_count(pg);
}

static int kpagecount_fill(struct task *t, uint64_t first, uint64_t *out, size_t n)
{
    (void)t;
    for (size_t i = 0; i < n; i++)
        out[i] = map_count(pfn_to_page(first + i));
    return 0;
}

static uint64_t frame_flags(uint64_t pfn)
{
    struct page *pg = pfn_to_page(pfn);
    uint64_t u = 0, head;
    if (pg->flags & PG_RESERVED)
        u |= BIT(KPF_RESERVED);
    if (pg->flags & PG_BUDDY)
        u |= BIT(KPF_BUDDY);
    uint64_t zero = mm_zero_page();
    if (zero && pfn << PAGE_SHIFT == zero)
        u |= BIT(KPF_ZERO_PAGE);
    if (!pg->refcount) {
        /* A frame inside an allocated block: only a slab's says so. */
        if (!pg->flags && frame_tail_of(pfn, &head) && (pfn_to_page(head)->flags & PG_SLAB))
            u |= BIT(KPF_SLAB) | BIT(KPF_COMPOUND_TAIL);
        return u;
    }
    if (pg->flags & PG_SLAB)
        u |= BIT(KPF_SLAB) | (pg->order ? BIT(KPF_COMPOUND_HEAD) : 0);
    if (pg->flags & PG_PGTABLE)
        u |= BIT(KPF_PGTABLE);
    if (pg->flags & (PG_ANON | PG_FILE))
        u |= BIT(KPF_UPTODATE) | BIT(KPF_SWAPBACKED);
    if (pg->flags & PG_ANON)
        u |= BIT(KPF_ANON);
    if (map_count(pg))
        u |= BIT(KPF_MMAP);
    return u;
}

static int kpageflags_fill(struct task *t, uint64_t first, uint64_t *out, size_t n)
{
    (void)t;
    for (size_t i = 0; i < n; i++)
        out[i] = frame_flags(first + i);
    return 0;
}

const struct proc_records proc_kpagecount = { kpage_count, kpagecount_fill };
const struct proc_records proc_kpageflags = { kpage_count, kpageflags_fill };
