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
 * (kernel/acpi/srat.c) and the pure fallback order computed from it
 * (mm/numa_order.c).  Allocation does not use them yet: the kernel still
 * has one node, node0 (include/mm/page.h).
 */
#ifndef MM_NUMA_H
#define MM_NUMA_H

#include <stdbool.h>
#include <stdint.h>

/* Nodes we describe: more proximity domains than this and the SRAT is
 * refused (one node, as without it).  Linux's x86 default is 64. */
#define MAX_NUMNODES 8
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

#endif
