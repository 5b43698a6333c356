/*
 * MADV_PAGEOUT and MADV_COLD (Linux 5.4's madvise advice 21 and 20;
 * include/mm/vmscan.h; docs/reclaim.md): a process names a range of its
 * memory and the kernel writes those pages to swap now, or marks them as
 * the first the clock should take, without waiting for memory to run
 * short.  mm_madvise (mm/mmap.c) checks the arguments and calls
 * madvise_reclaim once per VMA piece of the range, through the
 * mm_madvise_reclaim hook (set at boot: host tests of address spaces
 * link no reclaim).
 *
 * Invariant: only a page that this PTE alone maps goes out (rmap_count 1,
 * Linux's "not mapped shared" rule: a page a forked child still shares
 * stays, so one process cannot push out another's working set), and it
 * goes out through pageout_cluster, the clock's own path (up to 32 pages
 * written in one request to consecutive slots), so everything that path
 * refuses stays too: a pinned page, a page of a file or MAP_SHARED
 * VMA, the zero page, a page when no slot is free.  The call itself never
 * fails for these: the advice is a hint, as Linux has it (0 with no swap
 * at all).  Nothing is written when the page-out path refuses; a write
 * error retires its slot and leaves the page mapped (pageout_write).
 *
 * Counters as Linux's reclaim_pages: pswpout for each page written (in
 * the page-out path), nothing in pgsteal_* or pgscan_* (those are the clock's
 * and kswapd's).
 *
 * MADV_COLD clears the accessed bit of each page mapped once, so that the
 * clock's next pass takes it without a second chance (Linux moves it to
 * the inactive list; the clock has no lists, and a clear bit is what it
 * reads as "not used lately").
 *
 * The walk collects a batch of addresses with pt_for_each, then works on
 * them with the table walk finished: a page-out rewrites the entries the
 * walker would be reading.
 */
#include <mm/vmscan.h>
#include <mm/vma.h>
#include <mm/rmap.h>
#include <kernel/errno.h>

#define PICK_BATCH 64

struct pick {
    unsigned n;
    uint64_t va[PICK_BATCH];
};

static int pick_leaf(const struct pt_view *v, void *arg)
{
    struct pick *p = arg;
    if (v->payload || v->size != PAGE_SIZE)
        return 0;                     /* out already, or a large leaf: not ours to split */
    p->va[p->n++] = v->va;
    return p->n == PICK_BATCH;
}

/* The anonymous page va maps, when this PTE alone maps it; else NULL. */
static struct page *private_page(struct mm *mm, uint64_t va, struct pt_view *pv)
{
    if (pt_walk(&mm->pt, va, pv) || pv->payload)
        return NULL;
    uint64_t pfn = pv->pa >> PAGE_SHIFT;
    if (pfn >= node0->max_pfn || pv->pa == mm_zero_page())
        return NULL;
    struct page *pg = pfn_to_page(pfn);
    if (!(pg->flags & PG_ANON) || pg->refcount == 0 || rmap_count(pg) != 1)
        return NULL;
    return pg;
}

/* MADV_COLD for one page of the range. */
static void advise_one(struct mm *mm, uint64_t va, int advice)
{
    struct pt_view pv;
    struct page *pg = private_page(mm, va, &pv);
    if (pg && advice == MADV_COLD)
        pt_test_clear_young(&mm->pt, &pv);
}

/* MADV_PAGEOUT for the picked pages: those this PTE alone maps go out in
 * batches, each written in one request to consecutive slots, as the
 * clock's (pageout_cluster).  False when no slot is left. */
static bool pageout_picked(struct mm *mm, const struct pick *p)
{
    struct page *batch[PAGEOUT_CLUSTER];
    unsigned nb = 0;
    for (unsigned i = 0; i < p->n; i++) {
        struct pt_view pv;
        struct page *pg = private_page(mm, p->va[i], &pv);
        if (pg)
            batch[nb++] = pg;
        if (nb == PAGEOUT_CLUSTER || (nb && i + 1 == p->n)) {
            pageout_cluster(batch, nb);
            nb = 0;
            if (!nr_swap_pages)
                return false;
        }
    }
    return true;
}

int madvise_reclaim(struct mm *mm, struct vma *v, uint64_t start, uint64_t end, int advice)
{
    if (advice != MADV_PAGEOUT && advice != MADV_COLD)
        return -EINVAL;
    if (start < v->start || end > v->end || start >= end)
        return -EINVAL;
    if (advice == MADV_PAGEOUT && !nr_swap_pages)
        return 0;                     /* nowhere to write: nothing happens, as Linux */
    uint64_t at = start;
    for (;;) {
        struct pick p = { 0 };
        int more = pt_for_each(&mm->pt, at, end, pick_leaf, &p);
        if (more < 0)
            return more;
        if (advice == MADV_COLD) {
            for (unsigned i = 0; i < p.n; i++)
                advise_one(mm, p.va[i], advice);
        } else if (!pageout_picked(mm, &p)) {
            return 0;                 /* no free slot left: the rest stays */
        }
        if (more == 0 || p.n == 0)
            return 0;
        at = p.va[p.n - 1] + PAGE_SIZE;
    }
}
