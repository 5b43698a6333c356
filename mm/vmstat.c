/*
 * The global page counters of include/mm/vmstat.h, and the marking of a
 * page-cache page that moves them (filemap_page_added/removed,
 * include/mm/filemap.h).
 *
 * Invariant: each counter equals the number of pages in its state
 * (NR_FILE_PAGES: pages held by page caches; NR_SHMEM: those of them on
 * memory-only file systems; NR_FILE_MAPPED: those mapped by some pte),
 * because every change of state goes through mod_node_page_state with
 * the matching delta.  A counter never goes below zero: a decrement past
 * zero means a page left a state it was never counted in, and panics.
 */
#include <mm/vmstat.h>
#include <mm/filemap.h>
#include <kernel/printk.h>

static unsigned long node_stat[NR_VM_NODE_STAT_ITEMS];

void mod_node_page_state(enum node_stat_item item, long delta)
{
    if (delta < 0 && node_stat[item] < (unsigned long)-delta)
        panic("mod_node_page_state: counter %d is %lu, %ld would take it below 0", (int)item,
              node_stat[item], delta);
    node_stat[item] += (unsigned long)delta;
}

unsigned long global_node_page_state(enum node_stat_item item)
{
    return node_stat[item];
}

/* ---- a page entering and leaving a page cache (include/mm/filemap.h) ---------------------- */

void filemap_page_added(struct page *pg, bool shmem)
{
    pg->flags |= PG_FILE;
    pg->prev = 0;                  /* the map count (no pte yet) */
    mod_node_page_state(NR_FILE_PAGES, 1);
    if (shmem)
        mod_node_page_state(NR_SHMEM, 1);
}

void filemap_page_removed(struct page *pg, bool shmem)
{
    if (!page_is_file(pg) || page_mapcount(pg))
        panic("filemap_page_removed: page %#lx flags %#x still mapped %u times",
              page_to_phys(pg), pg->flags, page_mapcount(pg));
    pg->flags &= (uint8_t)~PG_FILE;
    mod_node_page_state(NR_FILE_PAGES, -1);
    if (shmem)
        mod_node_page_state(NR_SHMEM, -1);
}
