/*
 * Clustered page-out (include/mm/vmscan.h; docs/reclaim.md, "Clustered
 * page-out").
 *
 * Writing one page per request costs a whole device round trip per page
 * (under QEMU's TCG about 0.4 ms, most of it the request, not the 4 KiB).
 * Linux avoids it twice: its slot allocator hands out slots by clusters,
 * so pages reclaimed together get neighbouring slots, and the block
 * layer merges their writes into one request.  Here the clock gathers a
 * batch of pages (PAGEOUT_CLUSTER), get_swap_pages gives them a run of
 * consecutive slots, and swap_writepages sends the run as one multi-page
 * request (a virtio descriptor chain, an NVMe PRP list).  Then each page
 * is unmapped and freed exactly as pageout_page does (mm/vmscan.c).
 *
 * Invariant, pageout_page's: for each page counted as freed, no PTE maps
 * the old frame, each PTE that did holds the page's entry, and the slot's
 * count is their number.  A page that is not freed is mapped as before
 * and out of the swap cache (or in it as before, if it was).
 */
#include <mm/vmscan.h>
#include <mm/vm_event.h>
#include <kernel/blkdev.h>

_Static_assert(PAGEOUT_CLUSTER <= BLK_MAX_PAGES, "a batch fits one request");

/* Pages of `pg` (n, all eligible, none in the cache) to a run of slots
 * at a time.  The number freed; stops when no slot is left. */
static uint64_t write_runs(struct page **pg, unsigned n)
{
    uint64_t freed = 0;
    for (unsigned i = 0; i < n;) {
        unsigned got;
        swp_entry_t first = get_swap_pages(n - i, &got);
        if (!got)
            break;                      /* every area is full */
        unsigned t = swp_type(first);
        uint64_t off = swp_offset(first), pa[PAGEOUT_CLUSTER];
        unsigned in = 0;
        for (; in < got; in++) {
            swp_entry_t e = swp_entry(t, off + in);
            int err = add_to_swap_cache(pg[i + in], e);
            swap_free(e);               /* the cache holds the slot now */
            if (err)
                break;                  /* (a fresh slot: cannot happen) */
            if (!pageout_wrprotect(pg[i + in])) {   /* no write may land after the copy */
                delete_from_swap_cache(pg[i + in]);  /* its slot is free again */
                break;                               /* a CPU did not flush: stop here */
            }
            pa[in] = page_to_phys(pg[i + in]);
        }
        for (unsigned k = in + (in < got); k < got; k++)
            swap_free(swp_entry(t, off + k));     /* slots not used after a failure */
        if (in && swap_writepages(first, pa, in) == 0) {
            count_vm_events(PSWPOUT, in);
            for (unsigned k = 0; k < in; k++)
                pageout_unmap(pg[i + k]);
            freed += in;
        } else {
            /* One page at a time: only a slot that fails alone retires. */
            for (unsigned k = 0; k < in; k++) {
                if (pageout_write(pg[i + k], swp_entry(t, off + k)) == 0) {
                    pageout_unmap(pg[i + k]);
                    freed++;
                }
            }
        }
        if (in < got)
            break;
        i += got;
    }
    return freed;
}

uint64_t pageout_cluster(struct page **pages, unsigned n)
{
    uint64_t freed = 0;
    struct page *fresh[PAGEOUT_CLUSTER];
    unsigned nf = 0;
    for (unsigned i = 0; i < n; i++) {
        struct page *pg = pages[i];
        if (pageout_eligible(pg, NULL) < 0)
            continue;
        if (page_in_swap_cache(pg)) {
            pageout_unmap(pg);          /* clean: its copy on disk is current */
            freed++;
            continue;
        }
        fresh[nf++] = pg;
        if (nf == PAGEOUT_CLUSTER) {
            freed += write_runs(fresh, nf);
            nf = 0;
        }
    }
    return freed + write_runs(fresh, nf);
}
