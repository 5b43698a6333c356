/*
 * Swap entries in address spaces (include/mm/vmscan.h; docs/reclaim.md):
 * the fault that brings a page back (Linux's do_swap_page), the slot
 * references that exit, munmap and fork owe for the PTEs that hold an
 * entry, and swapoff's walk that brings every page of an area back
 * (Linux's try_to_unuse).
 *
 * Invariant: a slot's count (swap_map) is the number of PTEs, in every
 * address space, whose payload is its entry, plus one while the swap
 * cache holds a page for it; mm->swap_ents counts an address space's
 * such PTEs.
 */
#include <mm/vmscan.h>
#include <mm/vma.h>
#include <mm/rmap.h>
#include <mm/vm_event.h>
#include <kernel/blkdev.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/task.h>

void swap_payload_put(uint64_t payload)
{
    swp_entry_t e = { payload };
    swap_free(e);
    /* The last PTE gone and only the cache left: the page goes too. */
    struct page *pg = lookup_swap_cache(e);
    if (pg && pg->refcount == 1)
        try_to_free_swap(pg);
}

int swap_payload_dup(uint64_t payload)
{
    int err = swap_duplicate((swp_entry_t){ payload });
    return err == -ENOMEM ? -ENOMEM : err ? -EINVAL : 0;
}

/* Can mm's entries name the frame at pa (an i386 address space's hold 32
 * bits)? */
static bool reachable(const struct mm *mm, uint64_t pa)
{
    uint64_t bits = mm->pt.fmt->pa_bits;
    return bits >= 64 || pa + PAGE_SIZE <= (1ul << bits);
}

/*
 * A page in the swap cache that mm's entries cannot name: above 4 GiB for
 * an i386 address space, because another process's fault read it ahead
 * into one of its own frames, or compaction moved it while nothing mapped
 * it.  Only address spaces of one format share a slot (fork keeps the
 * format), so no PTE maps it: the cache takes a copy in a frame mm can
 * name, and the old frame goes.  The new page, or NULL (no frame).
 */
static struct page *cache_page_within(struct mm *mm, struct page *old)
{
    get_page(old);                    /* held while the allocation may reclaim */
    struct page *new = alloc_pages(GFP_HIGHUSER_MOVABLE | (mm->gfp & (__GFP_DMA | __GFP_DMA32)),
                                   0);
    if (new && (!reachable(mm, page_to_phys(new)) || old->refcount != 2 ||
                !page_in_swap_cache(old))) {
        __free_pages(new, 0);         /* mapped or dropped meanwhile: let the fault retry */
        new = NULL;
    }
    if (!new) {
        put_page(old);
        return NULL;
    }
    memcpy(page_address(new), page_address(old), PAGE_SIZE);
    new->flags |= PG_ANON;
    new->flags2 |= old->flags2 & (PG2_READAHEAD | PG2_RA_MARK);
    new->mapping = old->mapping;
    new->index = old->index;
    swap_cache_replace(old, new);     /* new's one reference is the cache's now */
    old->flags &= (uint8_t)~PG_ANON;
    old->flags2 &= (uint8_t)~(PG2_READAHEAD | PG2_RA_MARK);
    old->mapping = 0;
    old->index = 0;
    put_page(old);                    /* ours */
    put_page(old);                    /* the cache's: freed */
    return new;
}

int do_swap_page(struct mm *mm, struct vma *v, uint64_t va, uint64_t payload, unsigned access)
{
    swp_entry_t e = { payload };
    int count = swap_count(e);
    if (count <= 0 || count == (int)SWAP_MAP_BAD) {
        printk("swap: %#lx of pid's mm: entry %#lx names no slot in use\n", va, payload);
        return -EIO;
    }
    struct page *pg = lookup_swap_cache(e);
    if (pg && !reachable(mm, page_to_phys(pg)) && !(pg = cache_page_within(mm, pg)))
        return -ENOMEM;
    if (pg) {
        get_page(pg);                 /* the PTE's reference (before anything allocates) */
        if (swapin_cached(pg, v, va)) {   /* a page read ahead: its anon_vma */
            put_page(pg);
            return -ENOMEM;
        }
    } else {
        /* A major fault: read the page in, into the cache (another PTE
         * naming the slot will find it there). */
        uint64_t pa = mm_new_anon_page(mm, v, va, 0);
        if (!pa)
            return -ENOMEM;
        pg = pfn_to_page(pa >> PAGE_SHIFT);
        if (swap_readahead(e, pa, mm->gfp)) {     /* and its neighbours, into the cache */
            /* SIGBUS, as Linux's do_swap_page for a read error; the PTE
             * keeps the entry, so the next access tries the disk again. */
            put_page(pg);
            printk("Read-error on swap-device (%s:%lu)\n", swap_info[swp_type(e)].bdev->name,
                   swp_offset(e) * (PAGE_SIZE / SECTOR_SIZE));
            return -EIO;
        }
        if (add_to_swap_cache(pg, e)) {
            put_page(pg);
            return -ENOMEM;
        }
        mm->major_faults++;
        count_vm_event(PSWPIN);
        count_vm_event(PGMAJFAULT);
    }
    swap_free(e);                     /* the PTE holds the page now, not the slot */
    unsigned prot = vma_pt_prot(v);
    if (swap_count(e) == 1 && !(v->flags & VMA_SHARED))
        delete_from_swap_cache(pg);   /* nobody else names the slot: it is free */
    /* Writable only when ours alone: not still named through the slot,
     * and no other PTE mapping it (a process that read it in before us,
     * after a fork): otherwise a write copies, as copy-on-write does. */
    if (page_in_swap_cache(pg) || pg->refcount > 1)
        prot &= ~PT_W;
    unsigned state = PT_ACCESSED;
    if ((access & FAULT_WRITE) && (prot & PT_W))
        state |= PT_DIRTY;
    mm_must(pt_fill_payload(&mm->pt, va, page_to_phys(pg), prot | state), "do_swap_page", va);
    mm->swap_ents--;
    mm_count_map(mm, page_to_phys(pg));
    return 0;
}

/* ---- swapoff: every page of an area back in memory ----------------------------------- */

#define UNUSE_BATCH 64

struct unuse_batch {
    unsigned type, n;
    uint64_t va[UNUSE_BATCH], payload[UNUSE_BATCH];
};

static int collect_area(const struct pt_view *v, void *arg)
{
    struct unuse_batch *b = arg;
    if (!v->payload || swp_type((swp_entry_t){ v->payload }) != b->type)
        return 0;
    b->va[b->n] = v->va;
    b->payload[b->n++] = v->payload;
    return b->n == UNUSE_BATCH;
}

/* The PTEs of v holding an entry of area type get their pages back. */
static int unuse_vma(struct mm *mm, struct vma *v, unsigned type)
{
    uint64_t at = v->start;
    for (;;) {
        struct unuse_batch b = { .type = type };
        int more = pt_for_each(&mm->pt, at, v->end, collect_area, &b);
        for (unsigned i = 0; i < b.n; i++) {
            int err = do_swap_page(mm, v, b.va[i], b.payload[i], 0);
            if (err)
                return err;
        }
        if (more <= 0 || b.n == 0)
            return more < 0 ? more : 0;
        at = b.va[b.n - 1] + PAGE_SIZE;
    }
}

int swap_unuse(unsigned type)
{
    swap_ra_wait();     /* no read ahead still in flight from the area */
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = task_slot(i);
        if (!t || !t->mm || t->state == TASK_ZOMBIE)
            continue;
        for (struct vma *v = t->mm->vmas; v; v = v->next) {
            int err = unuse_vma(t->mm, v, type);
            if (err)
                return err;
        }
    }
    /* What only the swap cache still names: pages read ahead that nobody
     * took, and pages that processes map after reading them back while
     * the slot outlived its last PTE (Linux's try_to_unuse walks the swap
     * cache too).  The mappings keep the page; the slot goes. */
    for (uint64_t pfn = 0; pfn < node0->max_pfn && swap_cache_pages; pfn++) {
        struct page *pg = pfn_to_page(pfn);
        if (pg->refcount && page_in_swap_cache(pg) &&
            swp_type(page_swap_entry(pg)) == type && swap_count(page_swap_entry(pg)) == 1)
            delete_from_swap_cache(pg);
    }
    return 0;
}
