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
 * here was reserved, unreferenced and present in the zone before.
 */
#include <mm/zone.h>
#include <mm/buddy.h>
#include <kernel/printk.h>

uint64_t node_release(struct mem_node *node, uint64_t start, uint64_t end)
{
    uint64_t released = 0;
    if (end > node->max_pfn)
        end = node->max_pfn;
    for (uint64_t pfn = start; pfn < end; pfn++) {
        const struct page *p = &node->mem_map[pfn];
        if (!(p->flags & PG_RESERVED) || p->refcount) {
            node_report("release: frame %#lx is not a reserved, unused frame; range "
                      "%#lx-%#lx left as it is", pfn,
                      start, end);
            return 0;
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
        released += e - s;
    }
    return released;
}
