/*
 * Reclaim (include/mm/vmscan.h; docs/reclaim.md): the clock that finds
 * pages nobody used lately, and page-out through the reverse map.
 *
 * The clock: one hand sweeps the frames in address order (SVR4's page
 * daemon swept physical memory the same way; Linux keeps LRU lists
 * instead).  At each anonymous page it asks the reverse map whether any
 * PTE mapping it has its accessed bit set, clearing the bits as it looks
 * (pt_test_clear_young): a page used since the hand last passed gets a
 * second chance, one not used is paged out.  For an i386 process the bit
 * is the i386 PTE's, which its software MMU sets on every access exactly
 * as the CPU would (compat32/mmu32.c), and clearing it drops the derived
 * entry so that the next access is seen.
 *
 * Page-out of an anonymous page (pageout_page):
 *  1. a slot (get_swap_page), the page into the swap cache, and every
 *     PTE of it read-only (pageout_wrprotect, a shootdown each): with
 *     several CPUs, a thread of the process may be writing to the page
 *     right now; from here on its write faults and waits, and the copy
 *     on disk cannot miss it (Linux unmaps first, for the same reason);
 *  2. the page written to the slot (swap_writepage, polling the device);
 *  3. every PTE mapping it, found through the reverse map, becomes a
 *     non-present entry holding the slot's number (pt_set_payload: one
 *     flush each), the slot gaining a reference per PTE;
 *  4. the page leaves the cache and is freed.
 * A page with more references than PTEs (pinned), in a MAP_SHARED VMA, or
 * whose slot cannot be had, stays.  A private copy in a file VMA (a page
 * of a MAP_PRIVATE file mapping once written: PG_ANON) goes out as any
 * anonymous page, as in Linux; the fault finds the swap entry in its PTE
 * before it looks at the file (mm/user_fault.c).  A page-cache page
 * (tmpfs, shared anonymous memory) is the file system's to page out:
 * the clock hands it to shmem_reclaim_hook (kernel/fs/tmpfs_swap.c),
 * only when gfp allows __GFP_FS too, as Linux's may_enter_fs.
 *
 * The clock gathers up to PAGEOUT_CLUSTER pages before it writes: they
 * get consecutive slots and go to the disk in one request
 * (pageout_cluster, mm/swap_cluster.c, with the steps pageout_write and
 * pageout_unmap below); a page that only the swap cache holds (read
 * ahead and never used) is clean and simply dropped.
 *
 * Invariant: after pageout_page returns 0 no PTE maps the old frame, each
 * PTE that did holds the entry, and the slot's count is their number.
 */
#include <mm/vmscan.h>
#include <mm/vma.h>
#include <mm/rmap.h>
#include <mm/vm_event.h>
#include <kernel/blkdev.h>
#include <kernel/errno.h>
#include <kernel/printk.h>

static uint64_t clock_hand;

#define KSWAPD_SCAN 4096u   /* frames kswapd's clock looks at per call */
int (*shmem_reclaim_hook)(struct page *pg);

/* ---- page-out --------------------------------------------------------------------- */

struct survey {
    uint64_t maps;
    bool young, shared_vma;
};

static int survey_one(const struct rmap_hit *h, void *arg)
{
    struct survey *s = arg;
    s->maps++;
    /* A private copy in a file VMA (MAP_PRIVATE, written: PG_ANON) goes
     * out as any anonymous page; a MAP_SHARED mapping's pages do not. */
    if (h->vma->flags & VMA_SHARED)
        s->shared_vma = true;
    if (pt_test_clear_young(&h->mm->pt, &h->pv) > 0)
        s->young = true;
    return 0;
}

static int unmap_one(const struct rmap_hit *h, void *arg)
{
    swp_entry_t *e = arg;
    int err = swap_duplicate(*e);
    if (err)
        return err;
    mm_must(pt_set_payload(&h->mm->pt, h->pv.va, e->val), "pageout: pt_set_payload", h->pv.va);
    h->mm->swap_ents++;
    mm_count_unmap(h->mm, h->pv.pa);
    put_page(pfn_to_page(h->pv.pa >> PAGE_SHIFT));   /* the PTE's reference */
    return 0;
}

/* Can pg go out now?  Its PTE count, or -EBUSY. */
static int eligible(struct page *pg, bool *young)
{
    if (!(pg->flags & PG_ANON) || pg->refcount == 0 || pg->order ||
        (pg->flags & (PG_FILE | PG_SLAB | PG_PGTABLE | PG_RESERVED)))
        return -EBUSY;
    struct survey s = { 0, false, false };
    rmap_walk(pg, survey_one, &s);
    if (young)
        *young = s.young;
    if (s.shared_vma || s.maps == 0 ||
        pg->refcount != s.maps + (page_in_swap_cache(pg) ? 1 : 0))
        return -EBUSY;                /* pinned, or in a MAP_SHARED mapping */
    return (int)s.maps;
}

/* A PTE of the page read-only: a write faults from now on. */
static int wrprotect_one(const struct rmap_hit *h, void *arg)
{
    (void)arg;
    if (!(h->pv.prot & PT_W) || !mm_loaded_elsewhere(h->mm))
        return 0;   /* nobody can write it meanwhile: the next write need not fault */
    mm_must(pt_replace_view(&h->mm->pt, &h->pv, h->pv.pa, h->pv.prot & ~PT_W),
            "pageout: write-protect", h->pv.va);
    return 0;
}

bool pageout_wrprotect(struct page *pg)
{
    uint64_t timeouts = mm_flush_timeouts;
    rmap_walk(pg, wrprotect_one, NULL);
    return mm_flush_timeouts == timeouts;
}

/* Step 2 for a page in the cache under e: 0, or -EIO (the slot retired). */
int pageout_write(struct page *pg, swp_entry_t e)
{
    if (swap_writepage(e, page_to_phys(pg))) {
        /* The slot is retired: the cache's reference on it stays
         * forever (never handed out again, shown as used in /proc/swaps);
         * the page leaves the cache and stays mapped, its data intact.
         * Linux's line, then ours (docs/swap.md, "I/O errors"). */
        swap_duplicate(e);
        delete_from_swap_cache(pg);
        printk("Write-error on swap-device (%s:%lu)\n", swap_info[swp_type(e)].bdev->name,
               swp_offset(e) * (PAGE_SIZE / SECTOR_SIZE));
        printk("swap: write error at entry %#lx: slot %lu retired, the page stays in memory\n",
               e.val, swp_offset(e));
        return -EIO;
    }
    count_vm_event(PSWPOUT);
    return 0;
}

/* Steps 3 and 4 for a page in the cache whose slot holds its contents. */
void pageout_unmap(struct page *pg)
{
    swp_entry_t e = page_swap_entry(pg);
    get_page(pg);                     /* ours, while the PTEs let go */
    int err = rmap_walk(pg, unmap_one, &e);
    if (err)
        panic("pageout: slot %#lx full of references (%d)", e.val, err);
    delete_from_swap_cache(pg);
    put_page(pg);                     /* the last reference: freed */
}

int pageout_eligible(struct page *pg, bool *young)
{
    return eligible(pg, young);
}

int pageout_page(struct page *pg)
{
    if (eligible(pg, NULL) < 0)
        return -EBUSY;
    if (!page_in_swap_cache(pg)) {   /* else clean: its copy on disk is current */
        swp_entry_t e = get_swap_page();
        if (!e.val)
            return -ENOSPC;
        int err = add_to_swap_cache(pg, e);
        swap_free(e);                 /* the cache holds the slot now */
        if (err)
            return err;
        if (!pageout_wrprotect(pg)) { /* no write may land after the copy to disk */
            delete_from_swap_cache(pg);   /* a CPU did not flush: it may still write */
            return -EBUSY;
        }
        err = pageout_write(pg, e);
        if (err)
            return err;
    }
    pageout_unmap(pg);
    return 0;
}

/* ---- the clock ------------------------------------------------------------------- */

static uint64_t pageout_batch(struct page **pages, unsigned n, bool kswapd)
{
    uint64_t freed = n ? pageout_cluster(pages, n) : 0;
    count_vm_events(kswapd ? PGSTEAL_KSWAPD : PGSTEAL_DIRECT, freed);
    return freed;
}

uint64_t shrink_memory(uint64_t want, gfp_t gfp, bool kswapd)
{
    return shrink_node_memory(-1, want, gfp, kswapd);
}

uint64_t shrink_node_memory(int nid, uint64_t want, gfp_t gfp, bool kswapd)
{
    uint64_t freed = 0, scanned = 0, max = node0->max_pfn;
    struct page *batch[PAGEOUT_CLUSTER];
    unsigned nb = 0;
    if (node0->shrink && want)
        freed += node0->shrink();     /* the slab caches' empty slabs */
    /* A read-ahead window still in flight pins its pages (the read's
     * reference): collect it, so that the clock may drop the ones nobody
     * uses (mm/swap_readahead.c). */
    swap_ra_wait();
    /* Writing needs __GFP_IO and a free slot; dropping a clean page that
     * only the swap cache holds needs neither (the one thing a caller
     * without I/O, or a full swap area, can still have). */
    bool io = (gfp & __GFP_IO) && nr_swap_pages;
    if (max == 0 || (!io && !swap_cache_pages))
        return freed;
    /* Only frames the caller's zones hold can help it (Linux's
     * reclaim_idx): a DMA32 request gains nothing from a page freed
     * above 4 GiB. */
    uint64_t limit = (gfp & __GFP_DMA) ? ZONE_DMA_END >> PAGE_SHIFT
                   : (gfp & __GFP_DMA32) ? ZONE_DMA32_END >> PAGE_SHIFT : max;
    /* And only that node's frames when a node is named (kswapd
     * refilling the zone of one node). */
    uint64_t first = 0;
    if (nid >= 0 && (unsigned)nid < nr_node_ids) {
        first = node_data[nid]->start_pfn;
        if (limit > node_data[nid]->end_pfn)
            limit = node_data[nid]->end_pfn;
    }
    /* Two turns at most: one to clear the accessed bits, one to reclaim
     * (one when there is only dropping to do); kswapd looks at no more
     * than KSWAPD_SCAN pages a call, since it runs with interrupts off
     * and the others wait (it yields between calls). */
    uint64_t steps = io ? 2 * max : max;
    if (kswapd && steps > KSWAPD_SCAN)
        steps = KSWAPD_SCAN;
    /* A node's reclaim turns the clock over that node's frames only, so
     * its budget is not spent skipping the others'. */
    uint64_t wrap = nid >= 0 ? limit : max;
    if (nid >= 0 && (clock_hand < first || clock_hand >= limit))
        clock_hand = first;
    for (uint64_t step = 0; step < steps && freed < want; step++) {
        uint64_t pfn = clock_hand++;
        if (clock_hand >= wrap)
            clock_hand = first;
        if (pfn >= limit || pfn < first)
            continue;
        struct page *pg = pfn_to_page(pfn);
        if (pg->refcount == 1 && (pg->flags & PG_ANON) && page_in_swap_cache(pg)) {
            /* Only the swap cache holds it (read ahead and never used,
             * or its last PTE went): clean, dropped without I/O. */
            delete_from_swap_cache(pg);
            freed++;
            count_vm_event(kswapd ? PGSTEAL_KSWAPD : PGSTEAL_DIRECT);
            continue;
        }
        if (!io)
            continue;
        if ((pg->flags & PG_FILE) && pg->refcount && shmem_reclaim_hook && (gfp & __GFP_FS)) {
            scanned++;                /* a tmpfs page: kernel/fs/tmpfs_swap.c */
            if (shmem_reclaim_hook(pg) == 0) {
                freed++;
                count_vm_event(kswapd ? PGSTEAL_KSWAPD : PGSTEAL_DIRECT);
            }
            continue;
        }
        if (!(pg->flags & PG_ANON) || pg->refcount == 0)
            continue;
        scanned++;
        bool young;
        if (eligible(pg, &young) < 0 || young)
            continue;                 /* pinned, or used since the last turn: a second chance */
        /* Gathered, then written together in consecutive slots. */
        batch[nb++] = pg;
        if (nb == PAGEOUT_CLUSTER || freed + nb >= want || clock_hand == 0) {
            freed += pageout_batch(batch, nb, kswapd);
            nb = 0;
            if (!nr_swap_pages)
                break;
        }
    }
    freed += pageout_batch(batch, nb, kswapd);
    count_vm_events(kswapd ? PGSCAN_KSWAPD : PGSCAN_DIRECT, scanned);
    return freed;
}
