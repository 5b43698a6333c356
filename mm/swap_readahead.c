/*
 * Swap-in read-ahead (include/mm/vmscan.h; docs/reclaim.md, "Read-ahead").
 *
 * Pages that reclaim wrote out together sit in neighbouring slots
 * (mm/swap_cluster.c), and a process that touches one of them is likely
 * to touch the others soon.  So a major fault reads, besides its own
 * slot, the other slots of its aligned window of SWAP_RA_PAGES (Linux's
 * swap_cluster_readahead with vm.page-cluster = 3: 8 slots; the file
 * /proc/sys/vm/page-cluster changes it, 0 turns it off) that are in
 * use and not in the swap cache, in the same request, and leaves those
 * pages in the swap cache, mapped nowhere.  The fault that later finds
 * one there is a minor fault (counted in swap_ra_hit); a page nobody
 * asks for is dropped by the clock like any clean swap-cache page that
 * no PTE maps (mm/vmscan.c).
 *
 * The request is the run of such slots around the faulting one: the run
 * stops at a slot that is free, bad, already cached, or for which no
 * frame is at hand (read-ahead frames are taken without reclaim: they
 * are a guess).  When the run's read fails, the faulting page is read
 * alone, so that its own error (or success) is what the fault sees.
 *
 * Invariants: a page read ahead is in the swap cache (the cache's
 * reference on it and on its slot, swap_state.c) and only there: its
 * refcount is 1, PG_ANON with no anon_vma yet (mapping 0) and
 * PG2_READAHEAD until a fault maps it; its contents are its slot's.
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

_Static_assert(SWAP_RA_MAX <= BLK_MAX_PAGES && 1u << PAGE_CLUSTER_MAX <= SWAP_RA_MAX,
               "a window fits one request");

unsigned page_cluster = 3;

/* Can slot off of si be read ahead: in use, not bad, not cached? */
static bool wanted(const struct swap_info_struct *si, uint64_t off)
{
    uint16_t c = si->swap_map[off];
    return c != 0 && c != SWAP_MAP_BAD && !lookup_swap_cache(swp_entry(si->type, off));
}

/* A frame for a page read ahead, or NULL: no reclaim, no warning. */
static struct page *ra_page(gfp_t gfp)
{
    gfp = (gfp | GFP_HIGHUSER_MOVABLE | __GFP_NOWARN) & ~__GFP_WAIT;
    if (mm_user_zone)
        gfp = (gfp & ~(gfp_t)(__GFP_DMA | __GFP_DMA32)) | mm_user_zone;
    return alloc_pages(gfp, 0);
}

int swap_readahead(swp_entry_t e, uint64_t pa, gfp_t gfp)
{
    unsigned t = swp_type(e);
    uint64_t off = swp_offset(e);
    if (t >= MAX_SWAPFILES || !(swap_info[t].flags & SWP_USED) || off >= swap_info[t].max)
        return swap_readpage(e, pa);  /* its error */
    struct swap_info_struct *si = &swap_info[t];
    uint64_t lo = off & ~(uint64_t)(SWAP_RA_PAGES - 1), hi = lo + SWAP_RA_PAGES;
    if (hi > si->max)
        hi = si->max;
    /* The run: [first, first + n), the faulting slot at index at. */
    struct page *pg[SWAP_RA_MAX] = { 0 };
    uint64_t pas[SWAP_RA_MAX];
    uint64_t first = off, end = off + 1;
    while (first > lo && first - 1 > 0 && wanted(si, first - 1)) {
        struct page *p = ra_page(gfp);
        if (!p)
            break;
        first--;
        pg[first - lo] = p;
    }
    while (end < hi && wanted(si, end)) {
        struct page *p = ra_page(gfp);
        if (!p)
            break;
        pg[end - lo] = p;
        end++;
    }
    unsigned n = (unsigned)(end - first);
    if (n == 1)
        return swap_readpage(e, pa);
    for (uint64_t o = first; o < end; o++)
        pas[o - first] = o == off ? pa : page_to_phys(pg[o - lo]);
    int err = swap_readpages(swp_entry(t, first), pas, n);
    for (uint64_t o = first; o < end; o++) {
        struct page *p = pg[o - lo];
        if (o == off)
            continue;
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
    }
    return 0;
}
