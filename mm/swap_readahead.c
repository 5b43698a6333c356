/*
 * Swap-in read-ahead (include/mm/vmscan.h; docs/reclaim.md, "Read-ahead").
 *
 * Pages that reclaim wrote out together sit in neighbouring slots
 * (mm/swap_cluster.c), and a process that touches one of them is likely
 * to touch the others soon.  So a major fault reads, besides its own
 * slot, the other slots of its read-ahead window that are in use and not
 * in the swap cache, in the same request, and leaves those pages in the
 * swap cache, mapped nowhere.  The fault that later finds one there is a
 * minor fault (counted in swap_ra_hit, and in the area's ra.hits); a page
 * nobody asks for is dropped by the clock like any clean swap-cache page
 * that no PTE maps (mm/vmscan.c).
 *
 * The window adapts, per area (si->ra, struct swap_ra_info), as Linux's
 * swapin_nr_pages sizes its windows by the hits and its file read-ahead
 * doubles them along a stream:
 *  - no history yet (after swapon): 2^page_cluster slots, aligned
 *    (vm.page-cluster's meaning; 0 turns read-ahead off altogether);
 *  - then, at each major fault, from the hits h counted since the last
 *    one: the smallest power of two >= h + 2 (at least 4), so a window
 *    whose every page was used doubles; no hit gives 2 if the fault is
 *    next to the last window and 1 (the page alone) otherwise; never
 *    above SWAP_RA_MAX, never below half the last window (it shrinks by
 *    halves, so one stray fault does not end a stream);
 *  - the window starts at the faulting slot when the fault lies after the
 *    last window, less than a window past its end (a forward stream: what
 *    lies behind was just used), ends there when it lies before it, at
 *    most a window away (a backward stream), and is aligned on its size
 *    otherwise.
 *
 * The request is the run of wanted slots around the faulting one inside
 * the window: the run stops at a slot that is free, bad, already cached,
 * or for which no frame is at hand (read-ahead frames are taken without
 * reclaim: they are a guess).  When the run's read fails, the faulting
 * page is read alone, so that its own error (or success) is what the
 * fault sees.
 *
 * Invariants: a page read ahead is in the swap cache (the cache's
 * reference on it and on its slot, swap_state.c) and only there: its
 * refcount is 1, PG_ANON with no anon_vma yet (mapping 0) and
 * PG2_READAHEAD until a fault maps it; its contents are its slot's.  An
 * area's ra.win is 0 (no history) or a power of two <= SWAP_RA_MAX.
 */
#include <mm/vmscan.h>
#include <mm/compaction.h>
#include <mm/rmap.h>
#include <mm/vma.h>
#include <mm/gfp.h>
#include <mm/page.h>
#include <mm/vm_event.h>
#include <kernel/blkdev.h>
#include <kernel/errno.h>

_Static_assert(SWAP_RA_MAX <= BLK_MAX_PAGES && 1u << PAGE_CLUSTER_MAX <= SWAP_RA_MAX &&
                   (SWAP_RA_MAX & (SWAP_RA_MAX - 1)) == 0,
               "a window is a power of two that fits one request");

unsigned page_cluster = 3;

unsigned swap_ra_window(const struct swap_ra_info *ra, uint64_t off, uint64_t *lo)
{
    *lo = off;
    if (page_cluster == 0)
        return 1;
    if (ra->win == 0) {
        *lo = off & ~(uint64_t)(SWAP_RA_PAGES - 1);
        return SWAP_RA_PAGES;
    }
    bool after = off >= ra->end && off - ra->end < ra->win;
    bool before = off < ra->start && ra->start - off <= ra->win;
    unsigned w;
    if (ra->hits) {
        w = 4;
        while (w < SWAP_RA_MAX && w < ra->hits + 2)
            w <<= 1;
    } else {
        w = off == ra->end || off + 1 == ra->start ? 2 : 1;
    }
    if (w < ra->win / 2)
        w = ra->win / 2;
    if (after)
        *lo = off;
    else if (before)
        *lo = off + 1 > w ? off + 1 - w : 0;
    else
        *lo = off & ~(uint64_t)(w - 1);
    return w;
}

/* Can slot off of si be read ahead: in use, not bad, not cached? */
static bool wanted(const struct swap_info_struct *si, uint64_t off)
{
    uint16_t c = si->swap_map[off];
    return c != 0 && c != SWAP_MAP_BAD && !lookup_swap_cache(swp_entry(si->type, off));
}

/* A frame for a page read ahead, or NULL: no reclaim, no warning, and
 * on the node of the faulting page's frame, which its process's memory
 * policy chose (none there: no read-ahead for it rather than a page
 * somewhere the policy may forbid). */
static struct page *ra_page(gfp_t gfp, int nid)
{
    gfp = (gfp | GFP_HIGHUSER_MOVABLE | __GFP_NOWARN) & ~__GFP_WAIT;
    if (mm_user_zone)
        gfp = (gfp & ~(gfp_t)(__GFP_DMA | __GFP_DMA32)) | mm_user_zone;
    nodemask_t only = { 1ul << nid };
    return __alloc_pages(gfp, 0, nid, &only);
}

int swap_readahead(swp_entry_t e, uint64_t pa, gfp_t gfp)
{
    unsigned t = swp_type(e);
    uint64_t off = swp_offset(e);
    if (t >= MAX_SWAPFILES || !(swap_info[t].flags & SWP_USED) || off >= swap_info[t].max)
        return swap_readpage(e, pa);  /* its error */
    struct swap_info_struct *si = &swap_info[t];
    uint64_t lo;
    unsigned w = swap_ra_window(&si->ra, off, &lo);
    uint64_t hi = lo + w;
    if (hi > si->max)
        hi = si->max;
    /* The run: [first, end), frames in pas[first - lo ..]; e's is pa. */
    uint64_t pas[SWAP_RA_MAX];
    uint64_t first = off, end = off + 1;
    pas[off - lo] = pa;
    int nid = page_to_nid(pfn_to_page(pa >> PAGE_SHIFT));
    while (first > lo && first - 1 > 0 && wanted(si, first - 1)) {
        struct page *p = ra_page(gfp, nid);
        if (!p)
            break;
        first--;
        pas[first - lo] = page_to_phys(p);
    }
    while (end < hi && wanted(si, end)) {
        struct page *p = ra_page(gfp, nid);
        if (!p)
            break;
        pas[end - lo] = page_to_phys(p);
        end++;
    }
    si->ra = (struct swap_ra_info){ .start = first, .end = end, .win = w };
    unsigned n = (unsigned)(end - first);
    if (n == 1)
        return swap_readpage(e, pa);
    int err = swap_readpages(swp_entry(t, first), pas + (first - lo), n);
    for (uint64_t o = first; o < end; o++) {
        if (o == off)
            continue;
        struct page *p = pfn_to_page(pas[o - lo] >> PAGE_SHIFT);
        if (!err) {
            p->flags |= PG_ANON;        /* its anon_vma comes with the fault that maps it */
            if (add_to_swap_cache(p, swp_entry(t, o)) == 0) {
                p->flags2 |= PG2_READAHEAD;
                count_vm_event(SWAP_RA);
                count_vm_event(PSWPIN);
            }
        }
        put_page(p);                    /* the cache's reference stays, if it took one */
    }
    return err ? swap_readpage(e, pa) : 0;
}

int swapin_cached(struct page *pg, struct vma *v, uint64_t va)
{
    if (!page_anon_vma(pg)) {
        /* Read ahead: not in any anon_vma until now. */
        if (anon_vma_prepare(v))
            return -ENOMEM;
        page_add_anon_rmap(pg, v, va);
    }
    if (pg->flags2 & PG2_READAHEAD) {
        pg->flags2 &= (uint8_t)~PG2_READAHEAD;
        count_vm_event(SWAP_RA_HIT);
        unsigned t = swp_type(page_swap_entry(pg));
        if (t < MAX_SWAPFILES)
            swap_info[t].ra.hits++;     /* the area's next window grows */
    }
    return 0;
}
