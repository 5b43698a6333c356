/*
 * The SRAT and the SLIT turned into a NUMA layout (include/kernel/acpi.h,
 * include/mm/numa.h; ACPI spec 5.2.16 and 5.2.17; docs/numa.md).
 *
 * The SRAT ("System Resource Affinity Table") says which proximity domain
 * each CPU (local APIC or x2APIC entry) and each range of memory belongs
 * to; the SLIT ("System Locality Information Table") gives the distance
 * between every two domains, a matrix of bytes indexed by domain number.
 * Domains become node numbers in order of first appearance, as Linux's
 * pxm_to_node does: like Linux, the CPU entries are read first and the
 * memory entries second, so a domain with CPUs comes before one with
 * memory only, whatever the order of the table; disabled entries are
 * ignored.
 *
 * What is refused, each with one line through report:
 *  - the SRAT as a whole (one node, exactly as without it): an entry whose
 *    length runs past the table or is too short for its type, more
 *    domains than MAX_NUMNODES, more than NUMA_MAX_RANGES ranges in a
 *    node, ranges that overlap (Linux refuses these too), no memory at
 *    all, or usable RAM of the firmware map left outside every node by
 *    1 MiB or more (Linux's "nodes only cover ... of your RAM");
 *  - one memory range: one that touches no RAM of the firmware map (a
 *    hot-pluggable one is noted, the others warned about);
 *  - the SLIT (default distances, 10 and 20): a number of localities that
 *    is not the highest domain + 1, a table too short for its matrix, a
 *    node's distance to itself other than 10, another distance of 10 or
 *    less, or a matrix that is not symmetric.
 *
 * Invariant: on success every node has a distinct PXM; node ranges are
 * disjoint, non-empty, touch RAM, and their sum is the node's mem_bytes;
 * the distances are 10 on the diagonal, more than 10 elsewhere and
 * symmetric.  On refusal l is numa_layout_single's.
 */
#include <kernel/acpi.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <stdarg.h>
#ifdef HOST_TEST
#include <stdio.h>
#else
#include <kernel/printk.h>
#endif

#define SRAT_ENTRIES  48       /* header, a reserved 32-bit 1, 8 reserved bytes */
#define SLIT_MATRIX   44       /* header, the 64-bit count of localities */
#define SRAT_CPU      0        /* processor local APIC affinity, 16 bytes */
#define SRAT_MEMORY   1        /* memory affinity, 40 bytes */
#define SRAT_X2APIC   2        /* processor local x2APIC affinity, 24 bytes */
#define AFF_ENABLED   1u
#define AFF_HOTPLUG   2u
#define COVER_SLACK   (1ul << 20)   /* RAM left outside the nodes that is tolerated */

struct parse {
    struct numa_layout *l;
    acpi_report_t report;
};

/* One line through the caller's report function (acpi_report). */
#define say(p, ...) acpi_report((p)->report, __VA_ARGS__)

/* The node of domain pxm, made on its first appearance; -1 when full. */
static int pxm_to_node(struct numa_layout *l, uint32_t pxm)
{
    for (unsigned i = 0; i < l->nr_nodes; i++)
        if (l->node[i].pxm == pxm)
            return (int)i;
    if (l->nr_nodes == MAX_NUMNODES)
        return -1;
    struct numa_node *n = &l->node[l->nr_nodes];
    *n = (struct numa_node){ .pxm = pxm };
    return (int)l->nr_nodes++;
}

static bool touches_ram(const struct mem_range *ram, size_t nram, uint64_t s, uint64_t e)
{
    for (size_t i = 0; i < nram; i++)
        if (ram[i].kind != MEM_RESERVED && ram[i].start < e && s < ram[i].end)
            return true;
    return false;
}

/* One SRAT entry, its CPUs on the first pass and its memory on the
 * second: 0, or -EINVAL after saying why the SRAT is refused. */
static int entry(const struct parse *p, const uint8_t *e, unsigned off,
                 const struct mem_range *ram, size_t nram, int pass)
{
    struct numa_layout *l = p->l;
    uint8_t type = e[0], len = e[1];
    uint32_t pxm, flags, apic = 0;
    uint64_t base = 0, size = 0;
    static const uint8_t need[3] = { 16, 40, 24 };
    if (type > SRAT_X2APIC || (pass == 1) != (type == SRAT_MEMORY))
        return 0;                       /* GICC and others: not ours; or not this pass */
    if (len < need[type]) {
        say(p, "ACPI: SRAT: entry of type %u at offset %u is %u bytes, not %u: "
            "ignored, one node", type, off, len, need[type]);
        return -EINVAL;
    }
    if (type == SRAT_CPU) {
        flags = acpi_le32(e + 4);
        pxm = e[2] | (uint32_t)e[9] << 8 | (uint32_t)e[10] << 16 | (uint32_t)e[11] << 24;
        apic = e[3];
    } else if (type == SRAT_X2APIC) {
        flags = acpi_le32(e + 12);
        pxm = acpi_le32(e + 4);
        apic = acpi_le32(e + 8);
    } else {
        flags = acpi_le32(e + 28);
        pxm = acpi_le32(e + 2);
        base = acpi_le64(e + 8);
        size = acpi_le64(e + 16);
    }
    if (!(flags & AFF_ENABLED) || (type == SRAT_MEMORY && size == 0))
        return 0;
    if (type == SRAT_MEMORY && (base >= ACPI_PHYS_LIMIT || size > ACPI_PHYS_LIMIT - base)) {
        say(p, "ACPI: SRAT: PXM %u [mem %#lx + %#lx] runs past physical addresses: "
            "ignored, one node", pxm, base, size);
        return -EINVAL;
    }
    /* A range with no RAM makes no node (a domain of hot-pluggable memory
     * not present, a bogus range): it would count against MAX_NUMNODES
     * and the SLIT's size for nothing. */
    if (type == SRAT_MEMORY && !touches_ram(ram, nram, base, base + size)) {
        say(p, "ACPI: SRAT: PXM %u [mem 0x%08lx-0x%08lx]%s is not RAM in the "
            "firmware map: range not used", pxm, base, base + size - 1,
            flags & AFF_HOTPLUG ? " (hot-pluggable)" : "");
        return 0;
    }
    int node = pxm_to_node(l, pxm);
    if (node < 0) {
        say(p, "ACPI: SRAT: more than %u proximity domains (PXM %u): ignored, one node",
            MAX_NUMNODES, pxm);
        return -EINVAL;
    }
    struct numa_node *n = &l->node[node];
    if (type != SRAT_MEMORY) {
        if (n->nr_cpus < NUMA_MAX_CPUS)
            n->cpu[n->nr_cpus] = apic;
        n->nr_cpus++;
        return 0;
    }
    if (n->nr_ranges == NUMA_MAX_RANGES) {
        say(p, "ACPI: SRAT: PXM %u has more than %u memory ranges: ignored, one node", pxm,
            NUMA_MAX_RANGES);
        return -EINVAL;
    }
    n->range[n->nr_ranges++] = (struct numa_range){ base, base + size,
                                                    (flags & AFF_HOTPLUG) != 0 };
    n->mem_bytes += size;
    return 0;
}

/* Checks over the whole set of ranges: 0 or -EINVAL after one line. */
static int check_ranges(const struct parse *p, const struct mem_range *ram, size_t nram)
{
    const struct numa_layout *l = p->l;
    uint64_t total = 0;
    for (unsigned a = 0; a < l->nr_nodes; a++)
        for (unsigned i = 0; i < l->node[a].nr_ranges; i++) {
            const struct numa_range *r = &l->node[a].range[i];
            total += r->end - r->start;
            for (unsigned b = a; b < l->nr_nodes; b++)
                for (unsigned j = b == a ? i + 1 : 0; j < l->node[b].nr_ranges; j++) {
                    const struct numa_range *q = &l->node[b].range[j];
                    if (r->start < q->end && q->start < r->end) {
                        say(p, "ACPI: SRAT: PXM %u [mem 0x%08lx-0x%08lx] overlaps PXM %u "
                            "[mem 0x%08lx-0x%08lx]: ignored, one node", l->node[a].pxm,
                            r->start, r->end - 1, l->node[b].pxm, q->start, q->end - 1);
                        return -EINVAL;
                    }
                }
        }
    if (total == 0) {
        say(p, "ACPI: SRAT: no enabled memory in RAM: ignored, one node");
        return -EINVAL;
    }
    /* Usable RAM outside every node: the ranges are disjoint, so the part
     * covered is a sum of intersections. */
    uint64_t usable = 0, covered = 0;
    for (size_t k = 0; k < nram; k++) {
        if (ram[k].kind != MEM_USABLE)
            continue;
        usable += ram[k].end - ram[k].start;
        for (unsigned a = 0; a < l->nr_nodes; a++)
            for (unsigned i = 0; i < l->node[a].nr_ranges; i++) {
                const struct numa_range *r = &l->node[a].range[i];
                uint64_t s = r->start > ram[k].start ? r->start : ram[k].start;
                uint64_t e = r->end < ram[k].end ? r->end : ram[k].end;
                if (s < e)
                    covered += e - s;
            }
    }
    if (usable - covered >= COVER_SLACK) {
        say(p, "ACPI: SRAT: nodes only cover %lu MiB of the %lu MiB of usable RAM: "
            "ignored, one node", covered >> 20, usable >> 20);
        return -EINVAL;
    }
    return 0;
}

static int parse_srat(const struct parse *p, const uint8_t *t, size_t n,
                      const struct mem_range *ram, size_t nram)
{
    uint32_t len = n >= ACPI_HEADER_LEN ? acpi_le32(t + 4) : 0;
    if (n < SRAT_ENTRIES || memcmp(t, "SRAT", 4) != 0 || len < SRAT_ENTRIES || len > n) {
        say(p, "ACPI: SRAT: header malformed or truncated (%zu bytes, length %u): "
            "ignored, one node", n, len);
        return -EINVAL;
    }
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t off = SRAT_ENTRIES; off < len;) {
            if (len - off < 2 || t[off + 1] < 2 || t[off + 1] > len - off) {
                say(p, "ACPI: SRAT: entry at offset %u runs past the table (%u bytes): "
                    "ignored, one node", off, len);
                return -EINVAL;
            }
            int err = entry(p, t + off, off, ram, nram, pass);
            if (err)
                return err;
            off += t[off + 1];
        }
    if (p->l->nr_nodes == 0) {
        say(p, "ACPI: SRAT: no enabled entry: ignored, one node");
        return -EINVAL;
    }
    return check_ranges(p, ram, nram);
}

/* The distances from the SLIT into l: 0, or -EINVAL after one line. */
static int parse_slit(const struct parse *p, const uint8_t *t, size_t n)
{
    struct numa_layout *l = p->l;
    uint32_t len = n >= ACPI_HEADER_LEN ? acpi_le32(t + 4) : 0;
    if (n < SLIT_MATRIX || memcmp(t, "SLIT", 4) != 0 || len < SLIT_MATRIX || len > n) {
        say(p, "ACPI: SLIT: header malformed or truncated (%zu bytes, length %u): "
            "ignored, default distances", n, len);
        return -EINVAL;
    }
    uint32_t top = 0;
    for (unsigned i = 0; i < l->nr_nodes; i++)
        top = l->node[i].pxm > top ? l->node[i].pxm : top;
    uint64_t loc = acpi_le64(t + 36);
    if (loc != (uint64_t)top + 1 || loc > 256 || loc * loc > len - SLIT_MATRIX) {
        say(p, "ACPI: SLIT: %lu localities in %u bytes for %u nodes (PXM up to %u): "
            "ignored, default distances", loc, len, l->nr_nodes, top);
        return -EINVAL;
    }
    const uint8_t *m = t + SLIT_MATRIX;
    for (unsigned i = 0; i < l->nr_nodes; i++)
        for (unsigned j = 0; j < l->nr_nodes; j++) {
            uint8_t d = m[l->node[i].pxm * loc + l->node[j].pxm];
            uint8_t back = m[l->node[j].pxm * loc + l->node[i].pxm];
            if (i == j && d != LOCAL_DISTANCE) {
                say(p, "ACPI: SLIT: node %u to itself is %u, not %u: ignored, default "
                    "distances", i, d, LOCAL_DISTANCE);
                return -EINVAL;
            }
            if (i != j && d <= LOCAL_DISTANCE) {
                say(p, "ACPI: SLIT: node %u to node %u is %u, not more than %u: ignored, "
                    "default distances", i, j, d, LOCAL_DISTANCE);
                return -EINVAL;
            }
            if (d != back) {
                say(p, "ACPI: SLIT: node %u to node %u is %u but back is %u, not symmetric: "
                    "ignored, default distances", i, j, d, back);
                return -EINVAL;
            }
            l->distance[i][j] = d;
        }
    l->from_slit = true;
    return 0;
}

int acpi_numa_parse(struct numa_layout *l, const void *srat, size_t srat_len,
                    const void *slit, size_t slit_len, const struct mem_range *ram,
                    size_t nram, acpi_report_t report)
{
    struct parse p = { l, report };
    numa_layout_single(l);
    if (!srat)
        return -ENOENT;
    l->nr_nodes = 0;
    l->from_srat = true;
    if (parse_srat(&p, srat, srat_len, ram, nram)) {
        numa_layout_single(l);
        return -EINVAL;
    }
    if (slit && parse_slit(&p, slit, slit_len))
        numa_default_distances(l);
    return 0;
}
