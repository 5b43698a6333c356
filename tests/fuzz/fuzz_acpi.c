/*
 * libFuzzer target: the ACPI reader (kernel/acpi/tables.c) and the
 * SRAT/SLIT parsers (kernel/acpi/srat.c) on hostile tables, then the
 * fallback order (mm/numa_order.c) of whatever layout came out.
 *
 * The input first shapes a machine as QEMU would build it (tests/shared/
 * acpi_image.h): XSDT or RSDT, an SRAT of CPU, x2APIC and memory entries
 * over a few domains, a SLIT of some size; then changes bytes anywhere in
 * the image, in the root table or in one of the tables, each change
 * followed or not by fixing that table's checksum, so that hostile values
 * get past the checksums to the checks behind them.
 * After the run: a table the reader accepts has a sane length and sums
 * to 0; an accepted layout keeps include/mm/numa.h's promises (distinct
 * domains, disjoint non-empty ranges touching RAM, sums right, distances
 * 10 on the diagonal, above 10 elsewhere, symmetric); a refused one is
 * the single node; every fallback order lists each node with memory once,
 * by non-decreasing distance.
 */
#include <stdlib.h>
#include <string.h>

#include <kernel/acpi.h>
#include <kernel/errno.h>
#include <mm/numa.h>

#define FUZZ_NAME "fuzz_acpi"
#include "fuzz_input.h"
#include "../shared/acpi_image.h"

#define G (1ul << 30)
static const struct mem_range ram[] = {
    { 0x0, 0x9f000, MEM_USABLE },
    { 0x9f000, 0x100000, MEM_RESERVED },
    { 0x100000, 0x7f000000, MEM_USABLE },
    { 0x7f000000, 2 * G, MEM_ACPI_RECLAIM },
    { 4 * G, 8 * G, MEM_USABLE },
};
#define NRAM (sizeof(ram) / sizeof(ram[0]))

static struct ai_mem mem;
static struct ai_table srat, slit;
static struct numa_layout lay;
static uint8_t copy[AI_SIZE];

static void quiet(const char *line)
{
    if (!line || strlen(line) >= 200)
        DIE("report line too long or NULL");
}

static bool ram_touched(uint64_t s, uint64_t e)
{
    for (size_t i = 0; i < NRAM; i++)
        if (ram[i].kind != MEM_RESERVED && ram[i].start < e && s < ram[i].end)
            return true;
    return false;
}

static NOCOV void check_layout(int r)
{
    if (r != 0) {
        if (lay.nr_nodes != 1 || lay.from_srat || lay.from_slit || lay.distance[0][0] != 10)
            DIE("refused (%d) but not the single node", r);
        return;
    }
    if (lay.nr_nodes < 1 || lay.nr_nodes > MAX_NUMNODES || !lay.from_srat)
        DIE("accepted with %u nodes", lay.nr_nodes);
    uint64_t total = 0;
    for (unsigned a = 0; a < lay.nr_nodes; a++) {
        const struct numa_node *n = &lay.node[a];
        uint64_t sum = 0;
        if (n->nr_ranges > NUMA_MAX_RANGES)
            DIE("node %u: %u ranges", a, n->nr_ranges);
        for (unsigned b = a + 1; b < lay.nr_nodes; b++)
            if (lay.node[b].pxm == n->pxm)
                DIE("PXM %u twice", n->pxm);
        for (unsigned i = 0; i < n->nr_ranges; i++) {
            const struct numa_range *x = &n->range[i];
            if (x->start >= x->end || !ram_touched(x->start, x->end))
                DIE("node %u range %u empty or not RAM", a, i);
            sum += x->end - x->start;
            for (unsigned b = a; b < lay.nr_nodes; b++)
                for (unsigned j = b == a ? i + 1 : 0; j < lay.node[b].nr_ranges; j++)
                    if (x->start < lay.node[b].range[j].end &&
                        lay.node[b].range[j].start < x->end)
                        DIE("ranges overlap");
        }
        if (sum != n->mem_bytes)
            DIE("node %u: mem_bytes %lu, ranges %lu", a, n->mem_bytes, sum);
        total += sum;
        for (unsigned b = 0; b < lay.nr_nodes; b++) {
            uint8_t d = lay.distance[a][b];
            if ((a == b && d != 10) || (a != b && d <= 10) || d != lay.distance[b][a])
                DIE("distance %u-%u is %u", a, b, d);
        }
    }
    if (!total)
        DIE("accepted with no memory");
}

static NOCOV void check_orders(void)
{
    for (unsigned node = 0; node < lay.nr_nodes; node++) {
        uint8_t order[MAX_NUMNODES];
        int n = numa_fallback_order(&lay, node, order);
        unsigned want = 0, seen = 0;
        for (unsigned j = 0; j < lay.nr_nodes; j++)
            want += !lay.from_srat || lay.node[j].mem_bytes != 0;
        if (n < 0 || (unsigned)n != want)
            DIE("node %u: order of %d nodes, %u have memory", node, n, want);
        for (int i = 0; i < n; i++) {
            if (order[i] >= lay.nr_nodes || (seen & (1u << order[i])))
                DIE("node %u: order lists %u badly", node, order[i]);
            seen |= 1u << order[i];
            if (i > 0 && order[i] != node && order[i - 1] != node &&
                lay.distance[node][order[i]] < lay.distance[node][order[i - 1]])
                DIE("node %u: distances decrease along the order", node);
        }
        if (n > 0 && (seen & (1u << node)) && order[0] != node)
            DIE("node %u is not first in its own order", node);
    }
}

static NOCOV void check_table(const struct acpi_tables *t, const char *sig)
{
    uint64_t pa;
    uint32_t len;
    if (acpi_find_table(t, sig, &pa, &len) != 0)
        return;
    if (len < ACPI_HEADER_LEN || len > ACPI_TABLE_MAX)
        DIE("%s accepted with length %u", sig, len);
    long n = acpi_copy_table(t, sig, copy, sizeof(copy));
    if (n != (long)len || ai_sum(copy, len) != 0 || memcmp(copy, sig, 4) != 0)
        DIE("%s: copied %ld of %u bytes, or does not sum to 0", sig, n, len);
}

static void shape(struct input *in)
{
    unsigned nd = 1 + u8(in) % 5;             /* domains, sometimes more than... */
    ai_srat_begin(&srat);
    unsigned ne = u8(in) % 12;
    static const uint64_t bases[] = { 0, 0x100000, 2 * G, 4 * G, 6 * G, 16 * G };
    static const uint64_t sizes[] = { 0xa0000, 2 * G - 0x100000, 2 * G, 4 * G, 1, 0 };
    for (unsigned i = 0; i < ne && srat.len + 40 <= sizeof(srat.b); i++) {
        uint8_t op = u8(in);
        uint32_t pxm = (op >> 2) % (nd + (op & 0x80 ? 8 : 0));
        switch (op & 3) {
        case 0: ai_srat_cpu(&srat, pxm, u8(in), !(op & 0x40)); break;
        case 1: ai_srat_x2apic(&srat, pxm, u16(in)); break;
        default:
            ai_srat_mem(&srat, pxm, bases[u8(in) % 6], sizes[u8(in) % 6], 1 + (op >> 6));
            break;
        }
    }
    ai_finish(&srat);
    unsigned nl = u8(in) % 6;
    uint8_t d[25];
    for (unsigned i = 0; i < nl; i++)
        for (unsigned j = 0; j < nl; j++)
            d[i * nl + j] = i == j ? 10 : 20 + (uint8_t)(i + j);
    uint8_t flips = u8(in) % 4;
    for (unsigned k = 0; k < flips && nl; k++)
        d[u8(in) % (nl * nl)] = u8(in);
    ai_slit(&slit, nl, d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    bool xsdt = !(u8(&in) & 1);
    shape(&in);
    const struct ai_table *t[] = { &srat, &slit };
    uint64_t rsdp = ai_machine(&mem, xsdt, t, 2);
    unsigned ntab = 2, esz = xsdt ? 8 : 4;
    int fixes = 0;
    while (in.n) {
        uint8_t op = u8(&in);
        size_t at;
        uint8_t *table = NULL;
        uint32_t tlen = 0;
        switch (op & 3) {
        case 0: at = u8(&in) % 36; break;                         /* the RSDP */
        case 1: at = AI_ROOT + u8(&in) % (36 + esz * ntab);       /* the root table */
            table = mem.b + AI_ROOT, tlen = 36 + esz * ntab; break;
        case 2: {                                                 /* a table */
            uint64_t pa = 0;
            memcpy(&pa, mem.b + AI_ROOT + 36 + esz * (u8(&in) % ntab), esz);
            if (pa < AI_BASE || pa >= AI_BASE + AI_SIZE - 64)
                continue;
            table = mem.b + (pa - AI_BASE);
            memcpy(&tlen, table + 4, 4);
            if (tlen > AI_SIZE - (pa - AI_BASE))
                tlen = (uint32_t)(AI_SIZE - (pa - AI_BASE));
            at = (size_t)(pa - AI_BASE) + u16(&in) % (tlen ? tlen : 1);
            break;
        }
        default: at = u16(&in) % AI_SIZE; break;
        }
        mem.b[at] = (op & 0x10) ? u8(&in) : (uint8_t)(mem.b[at] ^ (1u << (op >> 5)));
        if ((op & 4) && table && tlen >= 10 && fixes++ < 4)
            ai_fix(table, tlen);
        if ((op & 8) && (op & 3) == 0) {                          /* RSDP checksums */
            mem.b[8] = 0, mem.b[8] = (uint8_t)(0 - ai_sum(mem.b, 20));
            mem.b[32] = 0, mem.b[32] = (uint8_t)(0 - ai_sum(mem.b, 36));
        }
    }

    struct acpi_tables tabs = { .read = ai_read, .ctx = &mem, .report = quiet };
    int r = acpi_tables_init(&tabs, rsdp);
    if (r != 0 && r != -EINVAL)
        DIE("init returned %d", r);
    if (tabs.nr > ACPI_MAX_TABLES)
        DIE("%u tables", tabs.nr);
    check_table(&tabs, "SRAT");
    check_table(&tabs, "SLIT");
    static uint8_t sb[AI_SIZE], lb[AI_SIZE];
    long sn = acpi_copy_table(&tabs, "SRAT", sb, sizeof(sb));
    long ln = acpi_copy_table(&tabs, "SLIT", lb, sizeof(lb));
    r = acpi_numa_parse(&lay, sn > 0 ? sb : NULL, sn > 0 ? (size_t)sn : 0,
                        ln > 0 ? lb : NULL, ln > 0 ? (size_t)ln : 0, ram, NRAM, quiet);
    if (r != 0 && r != -EINVAL && r != -ENOENT)
        DIE("parse returned %d", r);
    check_layout(r);
    check_orders();
    /* The parsers straight on the raw input too: no checksum in the way. */
    r = acpi_numa_parse(&lay, data, size, data, size, ram, NRAM, quiet);
    check_layout(r);
    check_orders();
    /* The MADT's CPUs (kernel/acpi/madt.c), with the input posing as one. */
    static struct acpi_cpus cpus;
    uint32_t boot = size ? data[0] : 0;
    r = acpi_madt_cpus(data, size, boot, &cpus, quiet);
    if (r != 0 && r != -EINVAL)
        DIE("madt returned %d", r);
    if (cpus.nr < 1 || cpus.nr > ACPI_MAX_CPUS || cpus.cpu[0].apic_id != boot)
        DIE("madt: %u CPUs, CPU 0 APIC %#x (boot %#x)", cpus.nr, cpus.cpu[0].apic_id, boot);
    for (unsigned i = 0; i < cpus.nr; i++)
        for (unsigned j = 0; j < i; j++)
            if (cpus.cpu[i].apic_id == cpus.cpu[j].apic_id)
                DIE("madt: APIC id %#x twice", cpus.cpu[i].apic_id);
    return 0;
}
