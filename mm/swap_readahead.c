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
 * A forward stream is read ahead without waiting as well, as Linux's
 * file read-ahead does: the major fault that continues one (it lies at
 * the previous run's end and reads its whole window) sends the next
 * window of the same size with blk_read_pages_async and returns; that
 * window's first page is marked (PG2_RA_MARK), and the fault that uses
 * it sends the next window, twice as large, up to SWAP_RA_MAX.  One such
 * window is in flight at a time (`ahead`).  Its pages are in the swap
 * cache from the start, locked (PG2_LOCKED) until the read is over:
 * lookup_swap_cache waits for them, and on a read error they leave the
 * cache, so that each fault reads its own page and sees its own error.
 *
 * Invariants: a page read ahead is in the swap cache (the cache's
 * reference on it and on its slot, swap_state.c) and only there: its
 * refcount is 1 (2 while its read is in flight: the read's reference,
 * PG2_LOCKED, listed in `ahead`), PG_ANON with no anon_vma yet (mapping
 * 0) and PG2_READAHEAD until a fault maps it; its contents are its
 * slot's once it is not locked.  An area's ra.win is 0 (no history) or a
 * power of two <= SWAP_RA_MAX.
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
    return c != 0 && c != SWAP_MAP_BAD && !swap_cache_find(swp_entry(si->type, off));
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

/* ---- the window read without waiting --------------------------------------------- */

/* One window at a time is read ahead of a stream without waiting for the
 * disk: its pages, each in the swap cache and PG2_LOCKED, with the
 * allocation's reference kept for the read (so that neither reclaim nor
 * migration takes a page whose contents are not there yet). */
static struct {
    struct blk_request rq;
    struct page *pg[SWAP_RA_MAX];
    unsigned n;
} ahead;

/* The read is over: the pages are usable, or (an error) out of the
 * cache, so that a fault on one reads it itself and sees its own error. */
static void ahead_end(struct blk_request *rq)
{
    for (unsigned i = 0; i < ahead.n; i++) {
        struct page *p = ahead.pg[i];
        p->flags2 &= (uint8_t)~PG2_LOCKED;
        if (!rq->status) {
            count_vm_event(SWAP_RA);
            count_vm_event(PSWPIN);
        } else if (page_in_swap_cache(p)) {
            p->flags2 &= (uint8_t)~(PG2_READAHEAD | PG2_RA_MARK);
            delete_from_swap_cache(p);
        }
        put_page(p);                    /* the read's reference */
    }
    ahead.n = 0;
}

void swap_ra_wait(void)
{
    blk_wait(&ahead.rq);
}

/*
 * Read ahead, without waiting, the run of wanted slots of si from `from`
 * on, at most w of them: their pages join the swap cache locked, the
 * first one marked (PG2_RA_MARK), and the area's history takes them in
 * (ra.end, ra.ahead).  Nothing when a window is still in flight.
 */
static void send_ahead(struct swap_info_struct *si, uint64_t from, unsigned w, gfp_t gfp,
                       int nid)
{
    if (ahead.rq.busy || ahead.n || w == 0 || page_cluster == 0)
        return;
    uint64_t pas[SWAP_RA_MAX];
    unsigned n = 0;
    for (uint64_t o = from; n < w && o < si->max && wanted(si, o); o++) {
        struct page *p = ra_page(gfp, nid);
        if (!p)
            break;
        p->flags |= PG_ANON;
        if (add_to_swap_cache(p, swp_entry(si->type, o))) {
            put_page(p);
            break;
        }
        p->flags2 |= PG2_READAHEAD | PG2_LOCKED;
        ahead.pg[n] = p;
        pas[n++] = page_to_phys(p);
    }
    if (n == 0)
        return;
    ahead.pg[0]->flags2 |= PG2_RA_MARK;
    ahead.n = n;
    si->ra.end = from + n;
    si->ra.ahead = n;
    ahead.rq.end = ahead_end;
    if (swap_readpages_async(swp_entry(si->type, from), pas, n, &ahead.rq)) {
        ahead.rq.status = -EIO;         /* cannot happen: the slots were checked */
        ahead_end(&ahead.rq);
    }
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
    bool stream = si->ra.win && lo == off && off == si->ra.end;
    si->ra = (struct swap_ra_info){ .start = first, .end = end, .win = w };
    unsigned n = (unsigned)(end - first);
    int err = n == 1 ? swap_readpage(e, pa)
                     : swap_readpages(swp_entry(t, first), pas + (first - lo), n);
    /* A forward stream: the next window is read while the faults use
     * this one (its first page, when used, sends the one after). */
    if (!err && stream && end == lo + w)
        send_ahead(si, end, w, gfp, nid);
    if (n == 1)
        return err;
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
    if (pg->flags2 & PG2_RA_MARK) {
        /* The first page of a window read without waiting is used: the
         * stream goes on, so the next window, twice as large, is sent
         * now, while the faults use this one. */
        pg->flags2 &= (uint8_t)~PG2_RA_MARK;
        swp_entry_t e = page_swap_entry(pg);
        unsigned t = swp_type(e);
        if (t < MAX_SWAPFILES && (swap_info[t].flags & SWP_USED)) {
            struct swap_info_struct *si = &swap_info[t];
            unsigned w = si->ra.ahead ? 2 * si->ra.ahead : SWAP_RA_PAGES;
            if (swp_offset(e) < si->ra.end)
                send_ahead(si, si->ra.end, w > SWAP_RA_MAX ? SWAP_RA_MAX : w,
                           v->mm ? v->mm->gfp : 0, page_to_nid(pg));
        }
    }
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
