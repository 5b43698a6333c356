/*
 * Node and zone set-up.
 *
 * Zones split physical memory by what devices can reach (ZONE_DMA /
 * ZONE_NORMAL in the course slides on Linux's allocators, nodes and zones
 * in the SOS article on Linux's physical memory): ISA DMA sees the
 * first 16 MiB, 32-bit PCI devices (and our 32-bit processes, whose page
 * tables hold 20-bit frame numbers) the first 4 GiB.  Each zone is a
 * buddy allocator over its span; frames of the span that are not RAM
 * (holes, firmware, the kernel, mem_map itself) stay PG_RESERVED.
 *
 * Invariant: after set-up every frame below max_pfn belongs to exactly one
 * zone (by address); present counts the RAM frames of a zone, managed
 * those handed to its buddy allocator (managed <= present <= spanned),
 * and every frame not managed stays PG_RESERVED for good.  Each zone
 * points to its node (zone->node), the way mm/ code holding a zone
 * reaches mem_map and the node's hooks.  A frame handed to the allocator
 * twice (overlapping ranges reaching node_add_free) is the boot code's
 * bug: an assertion catches it in debug builds.
 *
 * Watermarks follow Linux's shape, simplified: min is about 1/256 of the
 * zone (at least 16 frames, at most 4 MiB), low = min * 5/4, high =
 * min * 3/2.  Only min is enforced: there is no reclaim beyond the slab
 * shrinker (the node's shrink hook) to aim at low and high.  The per-CPU
 * cache (free blocks of orders 0..PCP_MAX_ORDER) holds up to `high`
 * frames; single frames come in `batch` at a time, and `batch` frames or
 * more go back when it is over `high`.
 */
#include <mm/zone.h>
#include <mm/buddy.h>
#include <mm/numa.h>
#include <kernel/assert.h>
#include <kernel/string.h>

static const char *const zone_names[NR_ZONES] = { "DMA", "DMA32", "Normal" };
static const uint64_t zone_end[NR_ZONES] = {
    ZONE_DMA_END >> PAGE_SHIFT, ZONE_DMA32_END >> PAGE_SHIFT, ~0ul,
};

static void set_spans(struct mem_node *node, uint64_t start, uint64_t end);

/* Zones of `node` empty, their ids and names set (spans by node_set_span). */
static void zones_init(struct mem_node *node, int nid)
{
    for (int i = 0; i < NR_ZONES; i++) {
        struct zone *z = &node->zones[i];
        z->name = zone_names[i];
        z->node = node;
        z->id = (uint8_t)(nid * NR_ZONES + i);
        zone_table[z->id] = z;
        for (int k = 0; k <= MAX_ORDER; k++)
            z->area[k].head = PFN_NIL;
        z->lock = (spinlock_t)SPINLOCK_INIT("zone->lock");
        for (unsigned c = 0; c < PCP_CPUS; c++)
            for (int k = 0; k <= PCP_MAX_ORDER; k++)
                z->pcp[c].lists[k] = PFN_NIL;
    }
}

void node_init(struct mem_node *node, struct page *mem_map, uint64_t max_pfn,
                  void *(*phys_to_virt)(uint64_t), void (*report)(const char *))
{
    memset(node, 0, sizeof(*node));
    node->mem_map = mem_map;
    node->max_pfn = max_pfn;
    node->phys_to_virt = phys_to_virt;
    node->direct_map = phys_to_virt(0);
    node->report = report;
    zones_init(node, 0);
    node0 = node;
    numa_reset();
    set_spans(node, 0, max_pfn);
    for (int i = 0; i < NR_ZONES; i++) {
        const struct zone *z = &node->zones[i];
        for (uint64_t pfn = z->start_pfn; pfn < z->end_pfn; pfn++)
            mem_map[pfn] = (struct page){ .next = PFN_NIL, .prev = PFN_NIL,
                                          .flags = PG_RESERVED, .zone = z->id };
    }
    node_build_zonelist(node);
}

void node_init_empty(struct mem_node *node, int nid)
{
    memset(node, 0, sizeof(*node));
    node->mem_map = node0->mem_map;
    node->max_pfn = node0->max_pfn;
    node->phys_to_virt = node0->phys_to_virt;
    node->direct_map = node0->direct_map;
    node->report = node0->report;
    node->nid = nid;
    zones_init(node, nid);
    node_data[nid] = node;
    node_build_zonelist(node);
}

/* Node and zone spans: the node's [start, end) cut at the zone limits. */
static void set_spans(struct mem_node *node, uint64_t start, uint64_t end)
{
    if (end > node->max_pfn)
        end = node->max_pfn;
    if (start > end)
        start = end;
    node->start_pfn = start;
    node->end_pfn = end;
    uint64_t lo = 0;
    for (int i = 0; i < NR_ZONES; i++) {
        struct zone *z = &node->zones[i];
        uint64_t s = lo > start ? lo : start, e = zone_end[i] < end ? zone_end[i] : end;
        z->start_pfn = s < e ? s : e;   /* an empty zone: [e, e) */
        z->end_pfn = e;
        lo = zone_end[i];
    }
}

void node_set_span(struct mem_node *node, uint64_t start, uint64_t end)
{
    set_spans(node, start, end);
    for (int i = 0; i < NR_ZONES; i++) {
        const struct zone *z = &node->zones[i];
        for (uint64_t pfn = z->start_pfn; pfn < z->end_pfn; pfn++)
            node->mem_map[pfn].zone = z->id;
    }
    node_build_zonelist(node);
}

/* Call fn(zone, s, e) for each piece of [start, end) inside a zone. */
static void for_each_zone_part(struct mem_node *node, uint64_t start, uint64_t end,
                               void (*fn)(struct mem_node *, struct zone *, uint64_t,
                                          uint64_t))
{
    if (end > node->max_pfn)
        end = node->max_pfn;
    for (int i = 0; i < NR_ZONES && start < end; i++) {
        struct zone *z = &node->zones[i];
        uint64_t s = start > z->start_pfn ? start : z->start_pfn;
        uint64_t e = end < z->end_pfn ? end : z->end_pfn;
        if (s < e)
            fn(node, z, s, e);
    }
}

static void add_present(struct mem_node *node, struct zone *z, uint64_t s, uint64_t e)
{
    (void)node;
    z->present += e - s;
}

static void add_free(struct mem_node *node, struct zone *z, uint64_t s, uint64_t e)
{
    for (uint64_t pfn = s; pfn < e; pfn++) {
        DASSERT(node->mem_map[pfn].flags == PG_RESERVED, "%s: frame %#lx flags %#x added twice",
                z->name, pfn, node->mem_map[pfn].flags);
        node->mem_map[pfn].flags = 0;
    }
    z->present += e - s;
    z->managed += e - s;
    buddy_free_range(z, s, e);
}

void node_add_present(struct mem_node *node, uint64_t start, uint64_t end)
{
    for_each_zone_part(node, start, end, add_present);
}

void node_add_free(struct mem_node *node, uint64_t start, uint64_t end)
{
    for_each_zone_part(node, start, end, add_free);
    node_build_zonelist(node);
}

void node_build_zonelist(struct mem_node *node)
{
    uint8_t order[MAX_NUMNODES];
    unsigned n = node_fallback(node->nid, order);
    for (int t = 0; t < NR_ZONES; t++) {
        int zi = t;
        while (zi > 0 && !node->zones[zi].managed)
            zi--;
        node->preferred[t] = &node->zones[node->zones[zi].managed ? zi : t];
        /* The zonelist: node by node in fallback order, each node's
         * zones from t down, only those with frames. */
        unsigned k = 0;
        for (unsigned j = 0; j < n; j++) {
            struct mem_node *other = node_data[order[j]];
            for (int i = t; other && i >= 0; i--)
                if (other->zones[i].managed)
                    node->zonelist[t][k++] = &other->zones[i];
        }
        node->zonelist[t][k] = NULL;
    }
}

void node_finish(struct mem_node *node)
{
    for (int i = 0; i < NR_ZONES; i++) {
        struct zone *z = &node->zones[i];
        uint64_t min = z->managed / 256;
        if (min < 16)
            min = 16;
        if (min > 1024)
            min = 1024;
        if (min > z->managed / 4)
            min = z->managed / 4;
        z->wmark_min = min;
        z->wmark_low = min * 5 / 4;
        z->wmark_high = min * 3 / 2;
        /* Linux's zone_batchsize, simplified: a batch of about
         * managed / 4096 frames, a power of two from 4 to 64, and up to
         * six batches cached (256 KiB to 1.5 MiB). */
        uint32_t batch = 4;
        while (batch < 64 && (uint64_t)batch * 2 * 4096 <= z->managed)
            batch *= 2;
        for (unsigned c = 0; c < PCP_CPUS; c++) {
            z->pcp[c].batch = batch;
            z->pcp[c].high = batch * 6;
        }
    }
    node_build_zonelist(node);
}

int node_check(char *why, size_t size)
{
    for (unsigned nid = 0; nid < nr_node_ids; nid++) {
        for (int i = 0; i < NR_ZONES; i++) {
            int err = buddy_check(&node_data[nid]->zones[i], why, size);
            if (err)
                return err;
        }
    }
    return 0;
}
