/*
 * Swap entries in address spaces (include/mm/vmscan.h; docs/reclaim.md):
 * the fault that brings a page back (Linux's do_swap_page), and the slot
 * references that exit, munmap and fork owe for the PTEs that hold an
 * entry.
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
#include <kernel/errno.h>
#include <kernel/printk.h>

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

int do_swap_page(struct mm *mm, struct vma *v, uint64_t va, uint64_t payload, unsigned access)
{
    swp_entry_t e = { payload };
    int count = swap_count(e);
    if (count <= 0 || count == (int)SWAP_MAP_BAD) {
        printk("swap: %#lx of pid's mm: entry %#lx names no slot in use\n", va, payload);
        return -EIO;
    }
    struct page *pg = lookup_swap_cache(e);
    if (pg) {
        get_page(pg);                 /* the PTE's reference */
    } else {
        /* A major fault: read the page in, into the cache (another PTE
         * naming the slot will find it there). */
        uint64_t pa = mm_new_anon_page(mm, v, va, 0);
        if (!pa)
            return -ENOMEM;
        pg = pfn_to_page(pa >> PAGE_SHIFT);
        if (swap_readpage(e, pa)) {
            put_page(pg);
            return -EIO;              /* SIGBUS, as Linux for a read error */
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
    else
        prot &= ~PT_W;                /* shared through the slot: a write copies */
    unsigned state = PT_ACCESSED;
    if ((access & FAULT_WRITE) && (prot & PT_W))
        state |= PT_DIRTY;
    mm_must(pt_fill_payload(&mm->pt, va, page_to_phys(pg), prot | state), "do_swap_page", va);
    mm->swap_ents--;
    mm_count_map(mm, page_to_phys(pg));
    return 0;
}
