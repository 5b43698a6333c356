/*
 * Global page counters that /proc/meminfo shows beside the allocator's
 * own free counts: how many pages the page cache holds, how many of those
 * are shared memory (tmpfs and MAP_SHARED anonymous memory), how many are
 * mapped into a process (mm/vmstat.c; docs/page-cache.md).
 *
 * Linux keeps these per node and per memory cgroup (enum node_stat_item,
 * mod_node_page_state, global_node_page_state in include/linux/vmstat.h);
 * with one node and no cgroups, one array is all of it.  The names are
 * Linux's so that a reader finds them there too.
 *
 * Who counts what:
 *  - NR_FILE_PAGES: a page enters or leaves a file's page cache
 *    (kernel/fs/pagecache.c, through filemap_page_added/removed);
 *  - NR_SHMEM: the same for a file system whose pages have no backing
 *    store (tmpfs, the MAP_SHARED anonymous objects): all of them here;
 *  - NR_FILE_MAPPED: a page-cache page's map count goes from 0 to 1 or
 *    back (mm/filemap.c).
 * One CPU, a kernel that is not preemptible: plain additions.
 */
#ifndef MM_VMSTAT_H
#define MM_VMSTAT_H

enum node_stat_item {
    NR_FILE_PAGES,      /* page-cache pages: meminfo's Cached */
    NR_SHMEM,           /* of those, tmpfs and shared anonymous pages: Shmem */
    NR_FILE_MAPPED,     /* page-cache pages mapped by at least one pte: Mapped */
    NR_VM_NODE_STAT_ITEMS
};

/* Add delta (may be negative) to a counter.  A counter going below zero
 * is a bug of its caller: panic. */
void mod_node_page_state(enum node_stat_item item, long delta);
/* A counter's value, in pages. */
unsigned long global_node_page_state(enum node_stat_item item);

#endif
