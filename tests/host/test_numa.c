/*
 * Host tests of the allocator's NUMA nodes (mm/numa.c, mm/zone.c,
 * mm/page_alloc.c; docs/numa.md): the nodes made from a layout, their
 * spans and zonelists, allocation on a node and the fallback to the
 * nearest one, masks, the counters, and the layouts refused.
 *
 * The machine: 64 MiB of frames, RAM from 1 MiB, split into three nodes
 * at 20 MiB + 12 KiB (not a multiple of any large block: the buddy
 * allocator must never merge across it) and 40 MiB; distances 0-1 20,
 * 0-2 30, 1-2 15, so node 1 falls back to 2, node 2 to 1, node 0 to 1.
 * All of it lies below 4 GiB: node 0 has DMA and DMA32, the others DMA32.
 */
#include "htest.h"
#include "mm_host.h"

#include <kernel/errno.h>
#include <mm/gfp.h>
#include <mm/numa.h>
#include <mm/zone.h>

#define MIB (1ul << 20)
#define MAX_PFN ((64 * MIB) >> PAGE_SHIFT)
#define CUT1 (20 * MIB + 12 * 1024)
#define CUT2 (40 * MIB)

static const struct host_ram ram[] = { { 1 * MIB, 64 * MIB } };

static void range(struct numa_layout *l, unsigned n, uint64_t s, uint64_t e)
{
    struct numa_node *node = &l->node[n];
    node->range[node->nr_ranges++] = (struct numa_range){ s, e, false };
    node->mem_bytes += e - s;
}

static void dist(struct numa_layout *l, unsigned a, unsigned b, uint8_t d)
{
    l->distance[a][b] = l->distance[b][a] = d;
}

/* The three nodes above; CPU with APIC id 0 on node 0, id 1 on node 2. */
static void three_nodes(struct numa_layout *l)
{
    memset(l, 0, sizeof(*l));
    l->nr_nodes = 3;
    l->from_srat = l->from_slit = true;
    numa_default_distances(l);
    range(l, 0, 0, 640 * 1024);
    range(l, 0, 1 * MIB, CUT1);
    range(l, 1, CUT1, CUT2);
    range(l, 2, CUT2, 64 * MIB);
    dist(l, 0, 1, 20);
    dist(l, 0, 2, 30);
    dist(l, 1, 2, 15);
    l->node[0].cpu[l->node[0].nr_cpus++] = 0;
    l->node[2].cpu[l->node[2].nr_cpus++] = 1;
}

static void setup3(uint32_t cpu)
{
    struct numa_layout l;
    three_nodes(&l);
    HT_ASSERT(mm_host_init_numa(MAX_PFN, ram, 1, &l, cpu) == 0, "layout refused");
}

static void zonelist_is(int nid, unsigned t, const char *want)
{
    char buf[256];
    zonelist_show(nid, t, buf, sizeof(buf));
    HT_EQ_STR(buf, want);
}

static void check_ok(void)
{
    char why[200];
    HT_ASSERT(node_check(why, sizeof(why)) == 0, "%s", why);
}

static void t_spans_and_zonelists(void)
{
    setup3(0);
    HT_EQ_U(nr_node_ids, 3);
    HT_EQ_U(node_data[0]->start_pfn, 0);
    HT_EQ_U(node_data[0]->end_pfn, CUT1 >> PAGE_SHIFT);
    HT_EQ_U(node_data[1]->start_pfn, CUT1 >> PAGE_SHIFT);
    HT_EQ_U(node_data[2]->end_pfn, MAX_PFN);
    /* DMA only where its addresses are. */
    HT_ASSERT(node_data[0]->zones[ZONE_DMA].managed > 0, "node 0 has no DMA");
    HT_EQ_U(node_data[1]->zones[ZONE_DMA].managed, 0);
    HT_EQ_U(node_data[2]->zones[ZONE_DMA].managed, 0);
    HT_EQ_U(node_data[1]->zones[ZONE_DMA32].managed, (CUT2 - CUT1) >> PAGE_SHIFT);
    zonelist_is(0, ZONE_NORMAL, "Zonelist of Node 0, Normal: 0:DMA32 0:DMA 1:DMA32 2:DMA32");
    zonelist_is(1, ZONE_NORMAL, "Zonelist of Node 1, Normal: 1:DMA32 2:DMA32 0:DMA32 0:DMA");
    zonelist_is(2, ZONE_DMA32, "Zonelist of Node 2, DMA32: 2:DMA32 1:DMA32 0:DMA32 0:DMA");
    zonelist_is(2, ZONE_DMA, "Zonelist of Node 2, DMA: 0:DMA");
    HT_EQ_U(pfn_to_nid(CUT1 >> PAGE_SHIFT), 1);
    HT_EQ_U(pfn_to_nid((CUT1 >> PAGE_SHIFT) - 1), 0);
    HT_EQ_U(page_to_nid(pfn_to_page(CUT2 >> PAGE_SHIFT)), 2);
    HT_EQ_U(node_distance(1, 2), 15);
    HT_EQ_U(node_distance(0, 3), 0);
    HT_EQ_U(node_distance(-1, 0), 0);
    HT_EQ_U(totalram_pages(), (63 * MIB) >> PAGE_SHIFT);
    check_ok();
}

/* Take every frame one by one, give them back in an order that makes
 * the most merges: no block may straddle the unaligned cut (buddy_check
 * would see a block running past its zone), and every frame returns. */
static void t_no_block_across_nodes(void)
{
    setup3(0);
    uint64_t base = nr_free_pages();
    static struct page *got[MAX_PFN];
    uint64_t n = 0;
    struct page *p;
    while ((p = alloc_pages(__GFP_ATOMIC | __GFP_HIGH | __GFP_MEMALLOC | __GFP_NOWARN, 0)))
        got[n++] = p;
    HT_EQ_U(nr_free_pages(), 0);
    for (uint64_t i = 0; i < n; i += 2)
        __free_pages(got[i], 0);
    for (uint64_t i = 1; i < n; i += 2)
        __free_pages(got[i], 0);
    drain_pcp();
    HT_EQ_U(nr_free_pages(), base);
    check_ok();
    /* The block ending at the cut is small: 12 KiB past 20 MiB. */
    const struct zone *z = &node_data[0]->zones[ZONE_DMA32];
    const struct page *last = pfn_to_page((CUT1 >> PAGE_SHIFT) - 1);
    HT_ASSERT(page_zone(last) == z, "frame before the cut is not node 0's");
}

static void t_alloc_on_node_and_counters(void)
{
    setup3(0);       /* the CPU on node 0 */
    struct page *p = alloc_pages_node(2, GFP_KERNEL, 0);
    HT_ASSERT(p && page_to_nid(p) == 2, "not on node 2");
    HT_EQ_U(node_numa_stat(2, NUMA_HIT), 1);
    HT_EQ_U(node_numa_stat(2, NUMA_OTHER), 1);    /* the CPU is on node 0 */
    HT_EQ_U(node_numa_stat(2, NUMA_LOCAL), 0);
    __free_pages(p, 0);
    p = alloc_pages(GFP_KERNEL, 3);
    HT_ASSERT(p && page_to_nid(p) == 0, "alloc_pages not on the CPU's node");
    HT_EQ_U(node_numa_stat(0, NUMA_LOCAL), 1);
    __free_pages(p, 3);
    /* -1 is the local node; a node that does not exist is an error. */
    p = __alloc_pages(GFP_KERNEL, 0, -1, NULL);
    HT_ASSERT(p && page_to_nid(p) == 0, "nid -1 not local");
    __free_pages(p, 0);
    uint64_t errors = node0->errors;
    HT_ASSERT(alloc_pages_node(3, GFP_KERNEL, 0) == NULL, "node 3 gave a frame");
    HT_EQ_U(node0->errors, errors + 1);
    HT_ASSERT(mm_host_reported_since(0, "node 3 does not exist"), "no report");
    setup3(1);       /* now the CPU is on node 2 */
    HT_EQ_U(numa_node_id(), 2);
    p = alloc_pages(GFP_KERNEL, 0);
    HT_ASSERT(p && page_to_nid(p) == 2, "alloc_pages not on node 2");
    __free_pages(p, 0);
    check_ok();
}

static void t_masks(void)
{
    setup3(0);
    nodemask_t m1 = { 1ul << 1 }, none = { 0 }, m02 = { 1ul << 0 | 1ul << 2 };
    struct page *p = __alloc_pages(GFP_KERNEL, 0, 0, &m1);
    HT_ASSERT(p && page_to_nid(p) == 1, "mask {1} preferring 0");
    /* Preferred node outside the mask: the mask's nodes, in the preferred
     * node's order.  The first zone allowed is node 1's, and that is what
     * Linux compares with (zone_statistics' preferred zone): a hit. */
    HT_EQ_U(node_numa_stat(1, NUMA_HIT), 1);
    __free_pages(p, 0);
    p = __alloc_pages(GFP_KERNEL, 0, 1, &m02);
    HT_ASSERT(p && page_to_nid(p) == 2, "mask {0,2} preferring 1: node %d, nearest is 2",
              p ? page_to_nid(p) : -1);
    __free_pages(p, 0);
    HT_ASSERT(__alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0, 0, &none) == NULL, "empty mask");
    check_ok();
}

/* Fill node 1: the next request preferring it goes to node 2 (distance
 * 15, nearer than node 0's 20), counted numa_miss on 2 and numa_foreign
 * on 1. */
static void t_fallback_nearest(void)
{
    setup3(0);
    uint64_t base = nr_free_pages();
    static struct page *got[MAX_PFN];
    uint64_t n = 0;
    struct page *p;
    while ((p = alloc_pages_node(1, GFP_KERNEL | __GFP_NOWARN, 0)) && page_to_nid(p) == 1)
        got[n++] = p;
    HT_ASSERT(p && page_to_nid(p) == 2, "after node 1: node %d", p ? page_to_nid(p) : -1);
    HT_EQ_U(node_numa_stat(2, NUMA_MISS), 1);
    HT_EQ_U(node_numa_stat(1, NUMA_FOREIGN), 1);
    HT_EQ_U(node_numa_stat(1, NUMA_HIT), n);
    /* Node 1 stopped at its reserve (wmark_min), not at zero. */
    const struct zone *z = &node_data[1]->zones[ZONE_DMA32];
    HT_ASSERT(zone_free_frames(z) >= z->wmark_min, "node 1 below its minimum");
    __free_pages(p, 0);
    /* A one-node mask of the full node: no fallback, NULL. */
    nodemask_t m1 = { 1ul << 1 };
    HT_ASSERT(__alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0, 1, &m1) == NULL,
              "bound to a full node, got a frame");
    while (n)
        __free_pages(got[--n], 0);
    drain_pcp();
    HT_EQ_U(nr_free_pages(), base);
    check_ok();
}

/* A node with a CPU and no memory: its zonelist starts on the nearest
 * node with memory, and allocations there count as hits (Linux: the
 * preferred zone is the zonelist's first). */
static void t_memoryless_node(void)
{
    struct numa_layout l;
    memset(&l, 0, sizeof(l));
    l.nr_nodes = 3;
    l.from_srat = true;
    numa_default_distances(&l);
    range(&l, 0, 1 * MIB, 32 * MIB);
    range(&l, 2, 32 * MIB, 64 * MIB);
    dist(&l, 1, 2, 12);
    l.node[1].cpu[l.node[1].nr_cpus++] = 5;
    HT_ASSERT(mm_host_init_numa(MAX_PFN, ram, 1, &l, 5) == 0, "refused");
    HT_EQ_U(numa_node_id(), 1);
    HT_ASSERT(!node_has_memory(1) && node_has_memory(2), "node_has_memory");
    zonelist_is(1, ZONE_NORMAL, "Zonelist of Node 1, Normal: 2:DMA32 0:DMA32 0:DMA");
    struct page *p = alloc_pages(GFP_KERNEL, 0);
    HT_ASSERT(p && page_to_nid(p) == 2, "CPU on memory-less node 1: frame of node %d",
              p ? page_to_nid(p) : -1);
    HT_EQ_U(node_numa_stat(2, NUMA_HIT), 1);
    HT_EQ_U(node_numa_stat(2, NUMA_OTHER), 1);
    HT_EQ_U(node_numa_stat(1, NUMA_FOREIGN), 0);
    __free_pages(p, 0);
    check_ok();
}

/* Nodes whose spans interleave are refused: one node, all the RAM. */
static void t_interleaved_refused(void)
{
    struct numa_layout l;
    memset(&l, 0, sizeof(l));
    l.nr_nodes = 2;
    l.from_srat = true;
    numa_default_distances(&l);
    range(&l, 0, 1 * MIB, 16 * MIB);
    range(&l, 0, 32 * MIB, 64 * MIB);
    range(&l, 1, 16 * MIB, 32 * MIB);
    uint64_t mark = mm_host_reports();
    HT_EQ_U(mm_host_init_numa(MAX_PFN, ram, 1, &l, 0), (uint64_t)-EINVAL);
    HT_ASSERT(mm_host_reported_since(mark, "interleave"), "no report");
    HT_EQ_U(nr_node_ids, 1);
    HT_EQ_U(totalram_pages(), (63 * MIB) >> PAGE_SHIFT);
    check_ok();
    /* A range past the end of memory is cut at max_pfn. */
    memset(&l, 0, sizeof(l));
    l.nr_nodes = 2;
    numa_default_distances(&l);
    range(&l, 0, 0, 32 * MIB);
    range(&l, 1, 32 * MIB, 1ul << 40);
    HT_EQ_U(mm_host_init_numa(MAX_PFN, ram, 1, &l, 0), 0);
    HT_EQ_U(node_data[1]->end_pfn, MAX_PFN);
    check_ok();
}

static const struct htest cases[] = {
    HT_CASE(spans_and_zonelists),
    HT_CASE(no_block_across_nodes),
    HT_CASE(alloc_on_node_and_counters),
    HT_CASE(masks),
    HT_CASE(fallback_nearest),
    HT_CASE(memoryless_node),
    HT_CASE(interleaved_refused),
};

int main(int argc, char **argv)
{
    int r = htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
    mm_host_fini();
    return r;
}
