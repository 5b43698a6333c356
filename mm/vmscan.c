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
 *  1. a slot (get_swap_page), the page into the swap cache;
 *  2. the page written to the slot (swap_writepage, polling the device);
 *  3. every PTE mapping it, found through the reverse map, becomes a
 *     non-present entry holding the slot's number (pt_set_payload: one
 *     flush each), the slot gaining a reference per PTE;
 *  4. the page leaves the cache and is freed.
 * A page with more references than PTEs (pinned), in a VMA with a file
 * (its copies go back with the file), or whose slot cannot be had, stays.
 *
 * Invariant: after pageout_page returns 0 no PTE maps the old frame, each
 * PTE that did holds the entry, and the slot's count is their number.
 */
#include <mm/vmscan.h>
#include <mm/vma.h>
#include <mm/rmap.h>
#include <mm/vm_event.h>
#include <kernel/errno.h>
#include <kernel/printk.h>

static uint64_t clock_hand;

/* ---- page-out --------------------------------------------------------------------- */

struct survey {
    uint64_t maps;
    bool young, file_vma;
};

static int survey_one(const struct rmap_hit *h, void *arg)
{
    struct survey *s = arg;
    s->maps++;
    if (h->vma->mapping || (h->vma->flags & VMA_SHARED))
        s->file_vma = true;
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
    if (s.file_vma || s.maps == 0 ||
        pg->refcount != s.maps + (page_in_swap_cache(pg) ? 1 : 0))
        return -EBUSY;                /* pinned, or shared through a file */
    return (int)s.maps;
}

int pageout_page(struct page *pg)
{
    if (eligible(pg, NULL) < 0)
        return -EBUSY;
    swp_entry_t e;
    if (page_in_swap_cache(pg)) {
        e = page_swap_entry(pg);      /* clean: its copy on disk is current */
    } else {
        e = get_swap_page();
        if (!e.val)
            return -ENOSPC;
        int err = add_to_swap_cache(pg, e);
        swap_free(e);                 /* the cache holds the slot now */
        if (err)
            return err;
        if (swap_writepage(e, page_to_phys(pg))) {
            /* The slot is retired: the cache's reference on it stays
             * forever; the page leaves the cache and stays mapped. */
            swap_duplicate(e);
            delete_from_swap_cache(pg);
            printk("swap: write error at entry %#lx: slot retired\n", e.val);
            return -EIO;
        }
        count_vm_event(PSWPOUT);
    }
    get_page(pg);                     /* ours, while the PTEs let go */
    int err = rmap_walk(pg, unmap_one, &e);
    if (err)
        panic("pageout: slot %#lx full of references (%d)", e.val, err);
    delete_from_swap_cache(pg);
    put_page(pg);                     /* the last reference: freed */
    return 0;
}

/* ---- the clock ------------------------------------------------------------------- */

uint64_t shrink_memory(uint64_t want, gfp_t gfp, bool kswapd)
{
    uint64_t freed = 0, scanned = 0, max = node0->max_pfn;
    if (node0->shrink && want)
        freed += node0->shrink();     /* the slab caches' empty slabs */
    if (!(gfp & __GFP_IO) || !nr_swap_pages || max == 0)
        return freed;                 /* no I/O allowed, or nowhere to write */
    /* Two turns at most: one to clear the accessed bits, one to reclaim. */
    for (uint64_t step = 0; step < 2 * max && freed < want; step++) {
        uint64_t pfn = clock_hand++;
        if (clock_hand >= max)
            clock_hand = 0;
        struct page *pg = pfn_to_page(pfn);
        if (!(pg->flags & PG_ANON) || pg->refcount == 0)
            continue;
        scanned++;
        bool young;
        if (eligible(pg, &young) < 0 || young)
            continue;                 /* pinned, or used since the last turn: a second chance */
        if (pageout_page(pg) == 0) {
            freed++;
            count_vm_event(kswapd ? PGSTEAL_KSWAPD : PGSTEAL_DIRECT);
        } else if (!nr_swap_pages) {
            break;
        }
    }
    count_vm_events(kswapd ? PGSCAN_KSWAPD : PGSCAN_DIRECT, scanned);
    return freed;
}

/* ---- kswapd ----------------------------------------------------------------------- */

static bool kswapd_active;

/* Free frames of the zones user pages come from, against a watermark. */
static bool below(bool high)
{
    for (int i = 0; i < NR_ZONES; i++) {
        const struct zone *z = &node0->zones[i];
        if (!z->managed)
            continue;
        uint64_t mark = high ? z->wmark_high : z->wmark_low;
        if (z->free + z->pcp.count < mark)
            return true;
    }
    return false;
}

void kswapd_poll(void)
{
    if (!node0 || !nr_swap_pages)
        return;
    /* Woken at the low watermark, at work until the high one (a batch
     * per idle round: the idle loop is kswapd's thread here). */
    if (!kswapd_active && !below(false))
        return;
    kswapd_active = true;
    if (!below(true) || shrink_memory(32, GFP_KSWAPD, true) == 0)
        kswapd_active = false;
}
