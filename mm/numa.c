/*
 * The allocator's nodes (include/mm/numa.h; docs/numa.md).
 *
 * The SOS article on Linux's physical memory puts NUMA nodes at the top
 * of the hierarchy: each node a set of physical ranges with its own zones
 * and buddy allocators, and allocation taking memory from the nearest
 * node first.  numa_nodes_init turns the layout the ACPI SRAT/SLIT gave
 * (kernel/acpi/srat.c) into that: node i of the layout becomes
 * node_data[i], owning the frames from its lowest range to its highest
 * (its span; the zones of the node are that span cut at 16 MiB and
 * 4 GiB, so DMA and DMA32 exist only in the node that holds those
 * addresses), and every node gets its fallback order (mm/numa_order.c),
 * from which node_build_zonelist (mm/zone.c) makes its zonelists.
 *
 * Invariants: node_data[0 .. nr_node_ids) are the nodes, node_data[0] ==
 * node0; the spans of nodes never overlap (a layout whose nodes
 * interleave is refused), so every frame's page.zone names the one zone
 * whose span holds it; fallback[n] lists each node with memory once,
 * n first when it has memory, by increasing distance from n;
 * numa_cpu_nodes[c] is CPU c's node, the one whose SRAT entries list its
 * APIC id (the boot CPU's when none does).  Without a layout (no SRAT,
 * host tests) there is one node and these tables say so.
 */
#include <mm/numa.h>
#include <mm/zone.h>
#include <kernel/errno.h>
#include <kernel/string.h>

struct mem_node *node_data[MAX_NUMNODES];
struct zone *zone_table[MAX_NUMNODES * NR_ZONES];
unsigned nr_node_ids = 1;

static uint8_t fallback[MAX_NUMNODES][MAX_NUMNODES];
static uint8_t fallback_len[MAX_NUMNODES];
static uint8_t distance[MAX_NUMNODES][MAX_NUMNODES];
uint8_t numa_cpu_nodes[NUMA_CPU_SLOTS];
/* The layout's CPUs, by APIC id, for the CPUs that come up later. */
static struct { uint32_t apic; uint8_t node; } cpu_apics[MAX_NUMNODES * NUMA_MAX_CPUS];
static unsigned nr_cpu_apics;

void numa_reset(void)
{
    nr_node_ids = 1;
    node_data[0] = node0;
    for (int i = 1; i < MAX_NUMNODES; i++)
        node_data[i] = NULL;
    fallback[0][0] = 0;
    fallback_len[0] = 1;
    distance[0][0] = LOCAL_DISTANCE;
    memset(numa_cpu_nodes, 0, sizeof(numa_cpu_nodes));
    nr_cpu_apics = 0;
}

/* The layout's node of the CPU with APIC id apic, -1 if it names none. */
static int node_of_apic(uint32_t apic)
{
    for (unsigned i = 0; i < nr_cpu_apics; i++)
        if (cpu_apics[i].apic == apic)
            return cpu_apics[i].node;
    return -1;
}

int numa_set_cpu_node(unsigned cpu, uint32_t apic)
{
    int nid = node_of_apic(apic);
    if (nid < 0)
        nid = numa_cpu_nodes[0];   /* the SRAT does not name it: the boot CPU's */
    if (cpu < NUMA_CPU_SLOTS)
        numa_cpu_nodes[cpu] = (uint8_t)nid;
    return nid;
}

unsigned node_fallback(int nid, uint8_t order[MAX_NUMNODES])
{
    if (nid < 0 || (unsigned)nid >= nr_node_ids)
        return 0;
    memcpy(order, fallback[nid], fallback_len[nid]);
    return fallback_len[nid];
}

/* The span of layout node i in frames: [lowest range start, highest end),
 * empty (0, 0) for a node without memory. */
static void layout_span(const struct numa_layout *l, unsigned i, uint64_t *s, uint64_t *e)
{
    const struct numa_node *n = &l->node[i];
    *s = *e = 0;
    for (unsigned r = 0; r < n->nr_ranges; r++) {
        uint64_t rs = (n->range[r].start + PAGE_SIZE - 1) >> PAGE_SHIFT;
        uint64_t re = n->range[r].end >> PAGE_SHIFT;
        if (re > node0->max_pfn)
            re = node0->max_pfn;
        if (rs >= re)
            continue;
        if (*s == *e || rs < *s)
            *s = rs;
        if (*s == *e || re > *e)
            *e = re;
    }
}

int numa_nodes_init(const struct numa_layout *l, struct mem_node *extra, uint32_t cpu_apic)
{
    if (l->nr_nodes <= 1 || l->nr_nodes > MAX_NUMNODES)
        return 0;
    uint64_t s[MAX_NUMNODES], e[MAX_NUMNODES];
    for (unsigned i = 0; i < l->nr_nodes; i++)
        layout_span(l, i, &s[i], &e[i]);
    for (unsigned i = 0; i < l->nr_nodes; i++)
        for (unsigned j = i + 1; j < l->nr_nodes; j++)
            if (s[i] < e[i] && s[j] < e[j] && s[i] < e[j] && s[j] < e[i]) {
                node_report("NUMA: nodes %u and %u interleave ([%#lx-%#lx) and [%#lx-%#lx)): "
                            "not supported, one node", i, j, s[i] << PAGE_SHIFT,
                            e[i] << PAGE_SHIFT, s[j] << PAGE_SHIFT, e[j] << PAGE_SHIFT);
                return -EINVAL;
            }
    for (unsigned i = 1; i < l->nr_nodes; i++)
        node_init_empty(&extra[i - 1], (int)i);
    nr_node_ids = l->nr_nodes;
    /* The other nodes first: node 0 keeps whatever no node claims (it
     * stays reserved, outside node 0's span too). */
    for (unsigned i = l->nr_nodes; i-- > 0;)
        node_set_span(node_data[i], s[i], e[i]);
    for (unsigned i = 0; i < l->nr_nodes; i++) {
        for (unsigned j = 0; j < l->nr_nodes; j++)
            distance[i][j] = l->distance[i][j];
        int n = numa_fallback_order(l, i, fallback[i]);
        fallback_len[i] = (uint8_t)(n > 0 ? n : 0);
        for (unsigned c = 0; c < l->node[i].nr_cpus && c < NUMA_MAX_CPUS; c++) {
            cpu_apics[nr_cpu_apics].apic = l->node[i].cpu[c];
            cpu_apics[nr_cpu_apics++].node = (uint8_t)i;
        }
    }
    numa_set_cpu_node(0, cpu_apic);
    for (unsigned i = 0; i < l->nr_nodes; i++)
        node_build_zonelist(node_data[i]);
    return 0;
}

void numa_finish(void)
{
    for (unsigned i = 0; i < nr_node_ids; i++)
        node_finish(node_data[i]);
    for (unsigned i = 0; i < nr_node_ids; i++)
        node_build_zonelist(node_data[i]);   /* every node's zones now known */
}

bool node_has_memory(int nid)
{
    if (nid < 0 || (unsigned)nid >= nr_node_ids)
        return false;
    for (int i = 0; i < NR_ZONES; i++)
        if (node_data[nid]->zones[i].managed)
            return true;
    return false;
}

int node_distance(int a, int b)
{
    if (a < 0 || b < 0 || (unsigned)a >= nr_node_ids || (unsigned)b >= nr_node_ids)
        return 0;
    return distance[a][b];
}

uint64_t node_numa_stat(int nid, enum numa_stat_item item)
{
    uint64_t n = 0;
    for (int i = 0; nid >= 0 && (unsigned)nid < nr_node_ids && i < NR_ZONES; i++)
        n += zone_numa_stat(&node_data[nid]->zones[i], item);
    return n;
}

uint64_t totalram_pages(void)
{
    uint64_t n = 0;
    for_each_zone(z)
        n += z->managed;
    return n;
}

int pfn_to_nid(uint64_t pfn)
{
    for (unsigned i = 0; i < nr_node_ids; i++)
        if (pfn >= node_data[i]->start_pfn && pfn < node_data[i]->end_pfn)
            return (int)i;
    return 0;
}
