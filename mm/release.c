/*
 * Handing held-back RAM to the allocator after boot.
 *
 * At boot some RAM is present but not managed: the loader's page tables,
 * the boot_info block, the initrd, ACPI-reclaimable tables.  Their frames
 * stay PG_RESERVED until the kernel is done with them; then
 * node_release() turns them into ordinary free frames, zone by zone,
 * exactly as if they had been free at boot.
 *
 * Invariant kept: managed <= present for each zone, and every frame freed
 * here was reserved, unreferenced and present in the zone before.  A
 * range with any other frame in it is the caller's error (kernel/errno.h):
 * reported once, counted in node->errors, left exactly as it was, -EBUSY.
 */
#include <mm/zone.h>
#include <mm/buddy.h>
#include <kernel/errno.h>
#include <kernel/printk.h>

long node_release(struct mem_node *node, uint64_t start, uint64_t end)
{
    long released = 0;
    /* Only the node's own frames (each node takes its part of a range). */
    if (end > node->end_pfn)
        end = node->end_pfn;
    if (start < node->start_pfn)
        start = node->start_pfn;
    for (uint64_t pfn = start; pfn < end; pfn++) {
        const struct page *p = &node->mem_map[pfn];
        if (!(p->flags & PG_RESERVED) || p->refcount) {
            char msg[160];
            snprintf(msg, sizeof(msg), "node_release: frame %#lx (flags %#x, refcount %u) is "
                     "not a reserved, unused frame; range %#lx-%#lx left as it is", pfn,
                     p->flags, p->refcount, start, end);
            if (node->report)
                node->report(msg);
            node->errors++;
            return -EBUSY;
        }
    }
    for (int i = 0; i < NR_ZONES; i++) {
        struct zone *z = &node->zones[i];
        uint64_t s = start > z->start_pfn ? start : z->start_pfn;
        uint64_t e = end < z->end_pfn ? end : z->end_pfn;
        if (s >= e)
            continue;
        for (uint64_t pfn = s; pfn < e; pfn++)
            node->mem_map[pfn].flags = 0;
        z->managed += e - s;
        buddy_free_range(z, s, e);
        released += (long)(e - s);
    }
    /* A zone may have had no frames before: every node's zonelists may
     * now name it. */
    for (unsigned nid = 0; nid < nr_node_ids; nid++)
        node_build_zonelist(node_data[nid]);
    return released;
}
