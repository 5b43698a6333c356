/*
 * Memory statistics as text, in the formats of Linux's /proc files so
 * that a reader can compare the two side by side:
 *   buddyinfo: free blocks per order per zone (proc(5): /proc/buddyinfo);
 *   zoneinfo:  per zone, free pages, watermarks, spanned/present/managed,
 *              the NUMA counters;
 *   node meminfo and numastat: one node's (Linux's
 *              /sys/devices/system/node/nodeN/meminfo and numastat);
 *   meminfo:   MemTotal, MemFree, MemAvailable, then the page cache's
 *              Buffers, Cached, then SwapTotal and SwapFree (the swap
 *              areas' pages, include/mm/swap.h), Mapped, Shmem
 *              (include/mm/vmstat.h), in kB.
 * Each function writes into buf like snprintf (returns the full length).
 * Invariant: these only read the node; they change nothing, take no lock
 * and allocate nothing, so they can be called from anywhere, even when
 * memory has run out.
 */
#include <mm/zone.h>
#include <mm/numa.h>
#include <mm/gfp.h>
#include <mm/vmstat.h>
#include <mm/swap.h>
#include <mm/vmscan.h>
#include <kernel/printk.h>
#include <kernel/sbuf.h>

int buddyinfo_show(char *buf, size_t size)
{
    struct sbuf s = { buf, size, 0 };
    if (size)
        buf[0] = 0;
    for_each_zone(z) {
        if (!z->managed)
            continue;
        sbuf_put(&s, "Node %d, zone %8s", zone_to_nid(z), z->name);
        for (int k = 0; k <= MAX_ORDER; k++)
            sbuf_put(&s, " %6lu", z->area[k].nr_free);
        sbuf_put(&s, "\n");
    }
    return (int)s.len;
}

int zoneinfo_show(char *buf, size_t size)
{
    struct sbuf s = { buf, size, 0 };
    if (size)
        buf[0] = 0;
    static const char *const numa_names[NR_NUMA_STAT] = {
        "numa_hit", "numa_miss", "numa_foreign", "numa_interleave", "numa_local", "numa_other",
    };
    for_each_zone(z) {
        sbuf_put(&s, "Node %d, zone %8s\n", zone_to_nid(z), z->name);
        sbuf_put(&s, "  pages free     %lu\n", zone_free_frames(z));
        sbuf_put(&s, "        min      %lu\n", z->wmark_min);
        sbuf_put(&s, "        low      %lu\n", z->wmark_low);
        sbuf_put(&s, "        high     %lu\n", z->wmark_high);
        sbuf_put(&s, "        spanned  %lu\n", (z->end_pfn - z->start_pfn));
        sbuf_put(&s, "        present  %lu\n", z->present);
        sbuf_put(&s, "        managed  %lu\n", z->managed);
        sbuf_put(&s, "      nr_free_pages %lu\n", zone_free_frames(z));
        for (int k = 0; k < NR_NUMA_STAT; k++)
            sbuf_put(&s, "      %-12s %lu\n", numa_names[k],
                     zone_numa_stat(z, (enum numa_stat_item)k));
        sbuf_put(&s, "  pagesets\n");
        for (unsigned c = 0; c < pcp_nr_cpus && c < PCP_CPUS; c++)
            sbuf_put(&s, "    cpu: %u\n              count: %u\n              high:  %u\n"
                     "              batch: %u\n", c, z->pcp[c].count, z->pcp[c].high,
                     z->pcp[c].batch);
        sbuf_put(&s, "  start_pfn:           %lu\n", z->start_pfn);
    }
    return (int)s.len;
}

/* Kept by mm/swapfile.c and mm/swap_slots.c; defined here so that every
 * build showing meminfo has them, swap or not. */
uint64_t total_swap_pages, nr_swap_pages;
uint64_t swap_cache_pages;   /* pages in the swap cache (mm/swap_state.c) */

int meminfo_show(char *buf, size_t size)
{
    struct sbuf s = { buf, size, 0 };
    uint64_t total = 0, free = 0, dma32_free = 0, reserve = 0;
    if (size)
        buf[0] = 0;
    for_each_zone(z) {
        total += z->managed;
        free += zone_free_frames(z);
        reserve += z->wmark_high;
        if (zone_idx(z) <= ZONE_DMA32)
            dma32_free += zone_free_frames(z);
    }
    uint64_t avail = free > reserve ? free - reserve : 0;
    sbuf_put(&s, "MemTotal:       %8lu kB\n", (total * 4));
    sbuf_put(&s, "MemFree:        %8lu kB\n", (free * 4));
    sbuf_put(&s, "MemAvailable:   %8lu kB\n", (avail * 4));
    /* Linux's order: Buffers, Cached ... Mapped, Shmem (no block devices:
     * no buffers; every cached page is tmpfs's, so Cached == Shmem). */
    sbuf_put(&s, "Buffers:        %8lu kB\n", 0ul);
    sbuf_put(&s, "Cached:         %8lu kB\n", global_node_page_state(NR_FILE_PAGES) * 4);
    sbuf_put(&s, "SwapCached:     %8lu kB\n", swap_cache_pages * 4);
    sbuf_put(&s, "SwapTotal:      %8lu kB\n", total_swap_pages * 4);
    sbuf_put(&s, "SwapFree:       %8lu kB\n", nr_swap_pages * 4);
    sbuf_put(&s, "Mapped:         %8lu kB\n", global_node_page_state(NR_FILE_MAPPED) * 4);
    sbuf_put(&s, "Shmem:          %8lu kB\n", global_node_page_state(NR_SHMEM) * 4);
    sbuf_put(&s, "DMA32Free:      %8lu kB\n", (dma32_free * 4));
    sbuf_put(&s, "MemMapBytes:    %8lu kB\n",
        (node0->max_pfn * sizeof(struct page) / 1024));
    return (int)s.len;
}

int zonelist_show(int nid, unsigned t, char *buf, size_t size)
{
    struct sbuf s = { buf, size, 0 };
    if (size)
        buf[0] = 0;
    if (nid < 0 || (unsigned)nid >= nr_node_ids || t >= NR_ZONES)
        return 0;
    sbuf_put(&s, "Zonelist of Node %d, %s:", nid, node_data[nid]->zones[t].name);
    for (struct zone *const *z = node_data[nid]->zonelist[t]; *z; z++)
        sbuf_put(&s, " %d:%s", zone_to_nid(*z), (*z)->name);
    return (int)s.len;
}

int node_meminfo_show(int nid, char *buf, size_t size)
{
    struct sbuf s = { buf, size, 0 };
    if (size)
        buf[0] = 0;
    if (nid < 0 || (unsigned)nid >= nr_node_ids)
        return 0;
    uint64_t total = 0, free = 0;
    for (int i = 0; i < NR_ZONES; i++) {
        const struct zone *z = &node_data[nid]->zones[i];
        total += z->managed;
        free += zone_free_frames(z);
    }
    /* Linux's first three lines, in its layout ("Node N Name: value kB"). */
    sbuf_put(&s, "Node %d MemTotal:       %8lu kB\n", nid, total * 4);
    sbuf_put(&s, "Node %d MemFree:        %8lu kB\n", nid, free * 4);
    sbuf_put(&s, "Node %d MemUsed:        %8lu kB\n", nid, (total - free) * 4);
    return (int)s.len;
}

int node_numastat_show(int nid, char *buf, size_t size)
{
    static const char *const names[NR_NUMA_STAT] = {
        "numa_hit", "numa_miss", "numa_foreign", "interleave_hit", "local_node", "other_node",
    };
    struct sbuf s = { buf, size, 0 };
    if (size)
        buf[0] = 0;
    if (nid < 0 || (unsigned)nid >= nr_node_ids)
        return 0;
    for (int k = 0; k < NR_NUMA_STAT; k++)
        sbuf_put(&s, "%s %lu\n", names[k], node_numa_stat(nid, (enum numa_stat_item)k));
    return (int)s.len;
}

int node_distance_show(int nid, char *buf, size_t size)
{
    struct sbuf s = { buf, size, 0 };
    if (size)
        buf[0] = 0;
    if (nid < 0 || (unsigned)nid >= nr_node_ids)
        return 0;
    for (unsigned j = 0; j < nr_node_ids; j++)
        sbuf_put(&s, j ? " %d" : "%d", node_distance(nid, (int)j));
    sbuf_put(&s, "\n");
    return (int)s.len;
}
