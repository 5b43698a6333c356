/*
 * NUMA nodes as the firmware describes them (docs/numa.md).
 *
 * The SOS article on Linux's physical memory: a NUMA machine is a set of
 * nodes, each some CPUs and the memory closest to them; reaching another
 * node's memory costs more, by a "distance" the firmware gives (the ACPI
 * SLIT: 10 for a node's own memory, 20 for twice as far...).  Linux gives
 * every node its own zones and buddy allocators and, when a node runs
 * out, falls back to the others nearest first (its zonelists).
 *
 * This header holds the plain description the ACPI parser fills
 * (kernel/acpi/srat.c), the pure fallback order computed from it
 * (mm/numa_order.c), and the nodes the allocator runs on, made from it
 * (mm/numa.c): node_data[0 .. nr_node_ids), each with its zones
 * (include/mm/page.h).
 */
#ifndef MM_NUMA_H
#define MM_NUMA_H

#include <stdbool.h>
#include <stdint.h>
#include <mm/page.h>

/* MAX_NUMNODES (include/mm/page.h, 8): more proximity domains than this
 * and the SRAT is refused (one node, as without it).  Linux's x86
 * default is 64. */
/* Memory ranges kept per node (QEMU gives node 0 two or three: below
 * 640 KiB, the rest below the PCI hole, above 4 GiB). */
#define NUMA_MAX_RANGES 8
/* APIC ids kept per node; past it CPUs are counted, not listed. */
#define NUMA_MAX_CPUS 32

#define LOCAL_DISTANCE  10   /* a node to itself (ACPI, Linux) */
#define REMOTE_DISTANCE 20   /* every other pair when there is no SLIT */

struct numa_range {
    uint64_t start, end;     /* physical, end exclusive */
    bool hotplug;            /* the SRAT says hot-pluggable */
};

struct numa_node {
    uint32_t pxm;            /* the ACPI proximity domain it came from */
    unsigned nr_ranges;
    struct numa_range range[NUMA_MAX_RANGES];
    uint64_t mem_bytes;      /* sum of the ranges */
    unsigned nr_cpus;        /* CPUs seen; the first NUMA_MAX_CPUS listed */
    uint32_t cpu[NUMA_MAX_CPUS];   /* APIC (or x2APIC) ids */
};

struct numa_layout {
    unsigned nr_nodes;       /* 1..MAX_NUMNODES */
    bool from_srat;          /* false: the single node of a machine without one */
    bool from_slit;          /* false: distances are LOCAL/REMOTE_DISTANCE */
    struct numa_node node[MAX_NUMNODES];
    uint8_t distance[MAX_NUMNODES][MAX_NUMNODES];   /* [from][to] */
};

/* The layout of a machine with no (usable) SRAT: one node, PXM 0, no
 * ranges listed (all memory), distance 10 to itself. */
void numa_layout_single(struct numa_layout *l);

/* Distances with no SLIT: 10 on the diagonal, 20 elsewhere. */
void numa_default_distances(struct numa_layout *l);

/*
 * The fallback order of `node` (Linux's build_zonelists and
 * find_next_best_node): the nodes to allocate from, best first, written
 * to order[]: the node itself, then the others by increasing distance
 * from it, ties broken by the lower node number.  Nodes without memory
 * are never targets (a memory-less node's own list starts with its
 * nearest node that has memory).  Returns the count (0..nr_nodes), or
 * -EINVAL when node is not a node of the layout.
 */
int numa_fallback_order(const struct numa_layout *l, unsigned node,
                        uint8_t order[MAX_NUMNODES]);

/* A set of nodes: bit n for node n (Linux's nodemask_t). */
typedef struct {
    uint64_t bits;
} nodemask_t;
_Static_assert(MAX_NUMNODES <= 64, "nodemask_t is one word");

static inline bool node_isset(int nid, const nodemask_t *m)
{
    return nid >= 0 && nid < MAX_NUMNODES && (m->bits >> nid & 1);
}

/*
 * The allocator's nodes from a layout (mm/numa.c), after node_init has
 * made node0 over the whole mem_map: node i gets the frames of the
 * layout's node i's ranges (its span: from its lowest range to its
 * highest), node 0 shrinks to its own; extra[] is storage for nodes
 * 1 .. nr_nodes - 1.  Nodes whose spans would overlap (ranges of two
 * nodes interleaved) are not supported: -EINVAL, one node as before.
 * The boot CPU (APIC id cpu_apic) is put on its node (numa_set_cpu_node),
 * and the layout's CPU lists are kept for the others.
 * Then node_add_free / node_add_present on every node (each takes what
 * lies in its span) and numa_finish.
 */
int numa_nodes_init(const struct numa_layout *l, struct mem_node *extra, uint32_t cpu_apic);
/* node_finish on every node, then every node's zonelists. */
void numa_finish(void);
/* Back to one node, node0 (node_init calls it). */
void numa_reset(void);
/* Node nid's fallback order (nodes with memory, nearest first) into
 * order[]; returns the count (node_build_zonelist's input). */
unsigned node_fallback(int nid, uint8_t order[MAX_NUMNODES]);

/* Each CPU's node, by CPU number (Linux's cpu_to_node): where its
 * allocations start (the local node).  0 without NUMA, for CPUs the SRAT
 * does not name (they get the boot CPU's node) and for CPUs past
 * NUMA_CPU_SLOTS. */
#define NUMA_CPU_SLOTS 64
extern uint8_t numa_cpu_nodes[NUMA_CPU_SLOTS];
static inline int cpu_to_node(unsigned cpu)
{
    return cpu < NUMA_CPU_SLOTS ? numa_cpu_nodes[cpu] : numa_cpu_nodes[0];
}
/* The node of the CPU this runs on (Linux's numa_node_id). */
static inline int numa_node_id(void)
{
    return cpu_to_node(mm_cpu());
}
/* CPU number cpu, with APIC id apic, goes on the node the layout lists
 * that APIC id in, else on the boot CPU's: that node (smp_boot calls it
 * for each CPU that comes up; numa_nodes_init for the boot CPU). */
int numa_set_cpu_node(unsigned cpu, uint32_t apic);
/* Does node nid exist and have frames the allocator manages? */
bool node_has_memory(int nid);
/* The distance from a to b (10 for a == b), 0 when either is no node. */
int node_distance(int a, int b);
/* Frames the allocator manages, all nodes (Linux's totalram_pages). */
uint64_t totalram_pages(void);
/* Sum of a numa_stat_item over node nid's zones. */
uint64_t node_numa_stat(int nid, enum numa_stat_item item);
/* Node of frame pfn by the spans (node 0 for a frame of no node). */
int pfn_to_nid(uint64_t pfn);

#endif
