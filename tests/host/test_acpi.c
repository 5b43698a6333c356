/*
 * The ACPI reader (kernel/acpi/tables.c), the SRAT/SLIT parsers
 * (kernel/acpi/srat.c) and the node fallback order (mm/numa_order.c),
 * over tables built in memory (tests/shared/acpi_image.h): QEMU's shape,
 * then every hostile case, each with its exact line and its fallback.
 */
#include "htest.h"
#include "../shared/acpi_image.h"

#include <kernel/acpi.h>
#include <kernel/errno.h>
#include <mm/numa.h>

static char lines[16][200];
static unsigned nlines;

static void report(const char *line)
{
    if (nlines < 16)
        snprintf(lines[nlines], sizeof(lines[0]), "%s", line);
    nlines++;
}

static struct ai_mem mem;
static struct acpi_tables tabs;
static struct numa_layout lay;

static int init_tables(uint64_t rsdp)
{
    nlines = 0;
    memset(&tabs, 0, sizeof(tabs));
    tabs.read = ai_read;
    tabs.ctx = &mem;
    tabs.report = report;
    return acpi_tables_init(&tabs, rsdp);
}

/* QEMU's two nodes of 2 GiB and 4 GiB (--numa 2G,4G): node 0 below the
 * PCI hole, node 1 above 4 GiB, one CPU each, distance 21. */
#define G (1ul << 30)
static const struct mem_range qemu_ram[] = {
    { 0x0, 0x9f000, MEM_USABLE },
    { 0x9f000, 0x100000, MEM_RESERVED },
    { 0x100000, 0x7f000000, MEM_USABLE },
    { 0x7f000000, 0x7f800000, MEM_ACPI_RECLAIM },
    { 0x7f800000, 2 * G, MEM_RESERVED },
    { 4 * G, 8 * G, MEM_USABLE },
};
#define NRAM (sizeof(qemu_ram) / sizeof(qemu_ram[0]))

static struct ai_table srat, slit, apic;

static void qemu_srat(void)
{
    ai_srat_begin(&srat);
    ai_srat_cpu(&srat, 0, 0, true);
    ai_srat_cpu(&srat, 1, 1, true);
    ai_srat_mem(&srat, 0, 0, 0xa0000, 1);
    ai_srat_mem(&srat, 0, 0x100000, 2 * G - 0x100000, 1);
    ai_srat_mem(&srat, 1, 4 * G, 4 * G, 1);
    ai_finish(&srat);
}

static void slit_of(unsigned n, const uint8_t *d)
{
    ai_slit(&slit, n, d);
}

static const uint8_t d2[] = { 10, 21, 21, 10 };

static int parse(const struct ai_table *s, const struct ai_table *l)
{
    nlines = 0;
    return acpi_numa_parse(&lay, s ? s->b : NULL, s ? s->len : 0, l ? l->b : NULL,
                           l ? l->len : 0, qemu_ram, NRAM, report);
}

/* The layout is the single node of a machine without SRAT. */
static void expect_single(void)
{
    HT_EQ_U(lay.nr_nodes, 1);
    HT_ASSERT(!lay.from_srat && !lay.from_slit, "not the single node");
    HT_EQ_U(lay.distance[0][0], 10);
    uint8_t order[MAX_NUMNODES];
    HT_EQ_U(numa_fallback_order(&lay, 0, order), 1);
    HT_EQ_U(order[0], 0);
}

static void expect_line(const char *want)
{
    HT_ASSERT(nlines == 1, "%u lines, expected one (%s); first: %s", nlines, want,
              nlines ? lines[0] : "");
    HT_EQ_STR(lines[0], want);
}

/* ---- the reader ----------------------------------------------------------------- */

static void make_apic(void)
{
    memset(apic.b, 0, sizeof(apic.b));
    ai_header(apic.b, "APIC", 44 + 12);
    apic.b[44] = 1, apic.b[45] = 12;   /* an I/O APIC entry */
    apic.len = 56;
    ai_fix(apic.b, apic.len);
}

static uint64_t three_tables(bool xsdt)
{
    make_apic();
    qemu_srat();
    slit_of(2, d2);
    const struct ai_table *t[] = { &apic, &srat, &slit };
    return ai_machine(&mem, xsdt, t, 3);
}

static void t_reader_xsdt(void)
{
    HT_EQ_U(init_tables(three_tables(true)), 0);
    HT_ASSERT(tabs.xsdt && tabs.nr == 3 && nlines == 0, "xsdt %d nr %u lines %u: %s",
              tabs.xsdt, tabs.nr, nlines, lines[0]);
    uint64_t pa;
    uint32_t len;
    HT_EQ_U(acpi_find_table(&tabs, "APIC", &pa, &len), 0);
    HT_EQ_U(len, 56);
    HT_EQ_U(acpi_find_table(&tabs, "SRAT", &pa, &len), 0);
    HT_EQ_U(len, srat.len);
    HT_EQ_U(acpi_find_table(&tabs, "HPET", &pa, &len), (uint64_t)-ENOENT);
    uint8_t buf[4096];
    HT_EQ_U(acpi_copy_table(&tabs, "SLIT", buf, sizeof(buf)), slit.len);
    HT_ASSERT(memcmp(buf, slit.b, slit.len) == 0, "SLIT copied wrong");
    HT_EQ_U(acpi_copy_table(&tabs, "SRAT", buf, 100), (uint64_t)-ENOSPC);
    HT_EQ_U(mem.reads_outside, 0);
}

static void t_reader_rsdt(void)
{
    HT_EQ_U(init_tables(three_tables(false)), 0);
    HT_ASSERT(!tabs.xsdt && tabs.nr == 3 && nlines == 0, "xsdt %d nr %u", tabs.xsdt, tabs.nr);
    uint64_t pa;
    uint32_t len;
    HT_EQ_U(acpi_find_table(&tabs, "SLIT", &pa, &len), 0);
    HT_EQ_U(len, 48);
}

/* Revision 2 but a broken extended checksum: the RSDT, with one line. */
static void t_reader_rev2_falls_back_to_rsdt(void)
{
    uint64_t rsdp = three_tables(true);
    /* an RSDT beside the XSDT, listing the same three tables */
    uint8_t rsdt[48];
    ai_header(rsdt, "RSDT", 48);
    for (int i = 0; i < 3; i++)
        ai_put32(rsdt + 36 + 4 * i, (uint32_t)(ai_table_at(&mem, (unsigned)i) - mem.b + AI_BASE));
    ai_fix(rsdt, 48);
    uint64_t pa = ai_place(&mem, rsdt, 48);
    ai_put32(mem.b + 16, (uint32_t)pa);
    mem.b[8] = 0, mem.b[8] = (uint8_t)(0 - ai_sum(mem.b, 20));
    mem.b[32] ^= 1;                       /* extended checksum broken */
    HT_EQ_U(init_tables(rsdp), 0);
    HT_ASSERT(!tabs.xsdt && tabs.nr == 3, "xsdt %d nr %u", tabs.xsdt, tabs.nr);
    expect_line("ACPI: RSDP revision 2 without a usable XSDT: using the RSDT");
}

static void t_reader_no_rsdp(void)
{
    HT_EQ_U(init_tables(0), (uint64_t)-ENOENT);
    uint64_t pa;
    uint32_t len;
    HT_EQ_U(acpi_find_table(&tabs, "APIC", &pa, &len), (uint64_t)-ENOENT);
    HT_EQ_U(nlines, 0);
}

static void t_reader_bad_rsdp(void)
{
    uint64_t rsdp = three_tables(true);
    mem.b[8] ^= 0x55;
    HT_EQ_U(init_tables(rsdp), (uint64_t)-EINVAL);
    expect_line("ACPI: RSDP at 0xe0000: bad checksum: no tables");
    uint64_t pa;
    uint32_t len;
    HT_EQ_U(acpi_find_table(&tabs, "APIC", &pa, &len), (uint64_t)-ENOENT);
    memcpy(mem.b, "RSD PTR?", 8);
    HT_EQ_U(init_tables(rsdp), (uint64_t)-EINVAL);
    expect_line("ACPI: no RSDP signature at 0xe0000: no tables");
    HT_EQ_U(init_tables(0x10), (uint64_t)-EINVAL);   /* outside the memory given */
    expect_line("ACPI: no RSDP signature at 0x10: no tables");
}

/* A bad checksum costs that table only, with one line. */
static void t_reader_bad_table_checksum(void)
{
    uint64_t rsdp = three_tables(true);
    uint8_t *s = ai_table_at(&mem, 1);
    s[40] ^= 1;
    HT_EQ_U(init_tables(rsdp), 0);
    char want[120];
    snprintf(want, sizeof(want), "ACPI: XSDT entry 1 SRAT at %#lx: bad checksum: ignored",
             (uint64_t)(s - mem.b) + AI_BASE);
    expect_line(want);
    uint64_t pa;
    uint32_t len;
    HT_EQ_U(acpi_find_table(&tabs, "SRAT", &pa, &len), (uint64_t)-EINVAL);
    HT_EQ_U(acpi_find_table(&tabs, "APIC", &pa, &len), 0);
    HT_EQ_U(acpi_copy_table(&tabs, "SRAT", mem.b, 16), (uint64_t)-EINVAL);
}

static void t_reader_truncated_length(void)
{
    uint64_t rsdp = three_tables(true);
    uint8_t *s = ai_table_at(&mem, 2);
    ai_put32(s + 4, 20);                 /* shorter than its own header */
    HT_EQ_U(init_tables(rsdp), 0);
    char want[120];
    snprintf(want, sizeof(want),
             "ACPI: XSDT entry 2 SLIT at %#lx: length 20 out of bounds: ignored",
             (uint64_t)(s - mem.b) + AI_BASE);
    expect_line(want);
    ai_put32(s + 4, 0x7fffffff);         /* past ACPI_TABLE_MAX */
    HT_EQ_U(init_tables(rsdp), 0);
    snprintf(want, sizeof(want),
             "ACPI: XSDT entry 2 SLIT at %#lx: length 2147483647 out of bounds: ignored",
             (uint64_t)(s - mem.b) + AI_BASE);
    expect_line(want);
}

/* A length within the bounds that runs past the memory that can be read. */
static void t_reader_length_past_mapping(void)
{
    uint64_t rsdp = three_tables(true);
    uint8_t *s = ai_table_at(&mem, 2);
    ai_put32(s + 4, AI_SIZE);
    HT_EQ_U(init_tables(rsdp), 0);
    char want[140];
    snprintf(want, sizeof(want), "ACPI: XSDT entry 2 SLIT at %#lx: length 65536 runs past "
             "readable memory: ignored", (uint64_t)(s - mem.b) + AI_BASE);
    expect_line(want);
    uint64_t pa;
    uint32_t len;
    HT_EQ_U(acpi_find_table(&tabs, "SLIT", &pa, &len), (uint64_t)-EINVAL);
}

/* Root entries pointing nowhere, and a root table past the limit. */
static void t_reader_hostile_root(void)
{
    uint64_t rsdp = three_tables(true);
    uint8_t *root = mem.b + AI_ROOT;
    ai_put64(root + 36, 0xfffffffffffff000ul);   /* entry 0: beyond physical addresses */
    ai_fix(root, 36 + 24);
    HT_EQ_U(init_tables(rsdp), 0);
    expect_line("ACPI: XSDT entry 0 at 0xfffffffffffff000 cannot be read: ignored");
    uint64_t pa;
    uint32_t len;
    HT_EQ_U(acpi_find_table(&tabs, "SRAT", &pa, &len), 0);
    HT_EQ_U(acpi_find_table(&tabs, "APIC", &pa, &len), (uint64_t)-ENOENT);
    /* the root's own length past the image */
    ai_put32(root + 4, 0x100000);
    HT_EQ_U(init_tables(rsdp), (uint64_t)-EINVAL);
    expect_line("ACPI: XSDT XSDT at 0xe0040: length 1048576 runs past readable memory: "
                "ignored");
    /* a root that is not an XSDT */
    three_tables(true);
    memcpy(root, "FACP", 4);
    ai_fix(root, 36 + 24);
    HT_EQ_U(init_tables(rsdp), (uint64_t)-EINVAL);
    expect_line("ACPI: the XSDT pointer leads to no XSDT: no tables");
    HT_EQ_U(mem.reads_outside, 0);
}

/* Reads of a found table stay inside it. */
static void t_reader_table_read_bounds(void)
{
    HT_EQ_U(init_tables(three_tables(true)), 0);
    uint64_t pa;
    uint32_t len;
    uint8_t b[64];
    HT_EQ_U(acpi_find_table(&tabs, "APIC", &pa, &len), 0);
    HT_EQ_U(acpi_table_read(&tabs, pa, len, 44, b, 12), 0);
    HT_EQ_U(acpi_table_read(&tabs, pa, len, 45, b, 12), (uint64_t)-EINVAL);
    HT_EQ_U(acpi_table_read(&tabs, pa, len, 0xffffffff, b, 2), (uint64_t)-EINVAL);
    HT_EQ_U(acpi_table_read(&tabs, 0x10, 64, 0, b, 8), (uint64_t)-EIO);
}

/* ---- SRAT and SLIT -------------------------------------------------------------- */

static void t_srat_qemu_two_nodes(void)
{
    qemu_srat();
    slit_of(2, d2);
    HT_EQ_U(parse(&srat, &slit), 0);
    HT_EQ_U(nlines, 0);
    HT_ASSERT(lay.from_srat && lay.from_slit, "flags");
    HT_EQ_U(lay.nr_nodes, 2);
    HT_EQ_U(lay.node[0].nr_ranges, 2);
    HT_EQ_U(lay.node[0].range[1].start, 0x100000);
    HT_EQ_U(lay.node[0].range[1].end, 2 * G);
    HT_EQ_U(lay.node[0].mem_bytes, 2 * G - 0x60000);
    HT_EQ_U(lay.node[1].mem_bytes, 4 * G);
    HT_EQ_U(lay.node[1].range[0].start, 4 * G);
    HT_ASSERT(lay.node[0].nr_cpus == 1 && lay.node[0].cpu[0] == 0 &&
              lay.node[1].nr_cpus == 1 && lay.node[1].cpu[0] == 1, "cpus");
    HT_EQ_U(lay.distance[0][1], 21);
    HT_EQ_U(lay.distance[1][0], 21);
    HT_EQ_U(lay.distance[1][1], 10);
}

static void t_srat_absent(void)
{
    HT_EQ_U(parse(NULL, NULL), (uint64_t)-ENOENT);
    HT_EQ_U(nlines, 0);
    HT_TRY(expect_single());
}

static void t_slit_absent_default_distances(void)
{
    qemu_srat();
    HT_EQ_U(parse(&srat, NULL), 0);
    HT_ASSERT(lay.from_srat && !lay.from_slit && nlines == 0, "flags");
    HT_EQ_U(lay.distance[0][1], 20);
    HT_EQ_U(lay.distance[1][1], 10);
}

static void t_srat_overlap(void)
{
    qemu_srat();
    srat.len -= 40;
    ai_srat_mem(&srat, 1, 2 * G - 0x1000000, 4 * G, 1);   /* reaches into node 0 */
    ai_finish(&srat);
    HT_EQ_U(parse(&srat, NULL), (uint64_t)-EINVAL);
    expect_line("ACPI: SRAT: PXM 0 [mem 0x00100000-0x7fffffff] overlaps PXM 1 "
                "[mem 0x7f000000-0x17effffff]: ignored, one node");
    HT_TRY(expect_single());
}

static void t_srat_too_many_domains(void)
{
    ai_srat_begin(&srat);
    ai_srat_mem(&srat, 0, 0, 2 * G, 1);
    for (uint32_t p = 1; p <= MAX_NUMNODES; p++)
        ai_srat_cpu(&srat, p, (uint8_t)p, true);
    ai_finish(&srat);
    HT_EQ_U(parse(&srat, NULL), (uint64_t)-EINVAL);
    expect_line("ACPI: SRAT: more than 8 proximity domains (PXM 0): ignored, one node");
    HT_TRY(expect_single());
}

static void t_srat_truncated_entry(void)
{
    qemu_srat();
    srat.b[srat.len - 40 + 1] = 60;      /* the last entry claims 60 bytes */
    ai_finish(&srat);
    HT_EQ_U(parse(&srat, NULL), (uint64_t)-EINVAL);
    expect_line("ACPI: SRAT: entry at offset 160 runs past the table (200 bytes): ignored, "
                "one node");
    HT_TRY(expect_single());
    qemu_srat();
    srat.b[48 + 1] = 8;                   /* a CPU entry of 8 bytes */
    HT_EQ_U(parse(&srat, NULL), (uint64_t)-EINVAL);
    expect_line("ACPI: SRAT: entry of type 0 at offset 48 is 8 bytes, not 16: ignored, "
                "one node");
    qemu_srat();
    HT_EQ_U(parse(&(struct ai_table){ .len = 0 }, NULL), (uint64_t)-EINVAL);
    HT_EQ_U(nlines, 1);
    qemu_srat();
    uint32_t full = srat.len;
    srat.len = 100;                       /* the header says more than we have */
    HT_EQ_U(parse(&srat, NULL), (uint64_t)-EINVAL);
    char want[120];
    snprintf(want, sizeof(want), "ACPI: SRAT: header malformed or truncated (100 bytes, "
             "length %u): ignored, one node", full);
    expect_line(want);
}

static void t_srat_memory_outside_ram(void)
{
    qemu_srat();
    ai_srat_mem(&srat, 1, 16 * G, G, 1);          /* no RAM there */
    ai_srat_mem(&srat, 1, 32 * G, G, 3);          /* hot-pluggable, not present */
    ai_srat_mem(&srat, 7, 48 * G, G, 3);          /* a domain with nothing present */
    ai_finish(&srat);
    HT_EQ_U(parse(&srat, NULL), 0);
    HT_EQ_U(nlines, 3);
    HT_EQ_STR(lines[0], "ACPI: SRAT: PXM 1 [mem 0x400000000-0x43fffffff] is not RAM "
              "in the firmware map: range not used");
    HT_EQ_STR(lines[1], "ACPI: SRAT: PXM 1 [mem 0x800000000-0x83fffffff] "
              "(hot-pluggable) is not RAM in the firmware map: range not used");
    HT_EQ_STR(lines[2], "ACPI: SRAT: PXM 7 [mem 0xc00000000-0xc3fffffff] "
              "(hot-pluggable) is not RAM in the firmware map: range not used");
    HT_EQ_U(lay.nr_nodes, 2);                     /* PXM 7 made no node */
    HT_EQ_U(lay.node[1].nr_ranges, 1);
    HT_EQ_U(lay.node[1].mem_bytes, 4 * G);
}

/* Usable RAM that no node holds: the SRAT is refused (Linux's rule). */
static void t_srat_ram_not_covered(void)
{
    ai_srat_begin(&srat);
    ai_srat_mem(&srat, 0, 0, 2 * G, 1);
    ai_srat_mem(&srat, 1, 4 * G, 2 * G, 1);       /* 4-6 GiB of the 4-8 GiB */
    ai_finish(&srat);
    HT_EQ_U(parse(&srat, NULL), (uint64_t)-EINVAL);
    expect_line("ACPI: SRAT: nodes only cover 4079 MiB of the 6127 MiB of usable RAM: "
                "ignored, one node");
    HT_TRY(expect_single());
}

/* PXM 2 has a CPU and no memory: a node of its own, never a target. */
static void t_srat_memoryless_node(void)
{
    qemu_srat();
    ai_srat_cpu(&srat, 2, 2, true);
    ai_srat_cpu(&srat, 3, 3, false);              /* disabled: not a node */
    ai_finish(&srat);
    const uint8_t d3[] = { 10, 21, 31, 21, 10, 21, 31, 21, 10 };
    slit_of(3, d3);
    HT_EQ_U(parse(&srat, &slit), 0);
    HT_EQ_U(nlines, 0);
    HT_EQ_U(lay.nr_nodes, 3);
    HT_ASSERT(lay.node[2].mem_bytes == 0 && lay.node[2].nr_cpus == 1 &&
              lay.node[2].cpu[0] == 2, "node 2");
    uint8_t order[MAX_NUMNODES];
    HT_EQ_U(numa_fallback_order(&lay, 2, order), 2);
    HT_ASSERT(order[0] == 1 && order[1] == 0, "node 2: %u %u", order[0], order[1]);
    HT_EQ_U(numa_fallback_order(&lay, 0, order), 2);
    HT_ASSERT(order[0] == 0 && order[1] == 1, "node 0: %u %u", order[0], order[1]);
}

/* Domains become nodes in order of first appearance, CPU entries read
 * before memory ones (as Linux): PXM 3, whose CPU comes after PXM 1's
 * memory in the table, is node 0.  The SLIT is indexed by domain; x2APIC
 * entries count as CPUs. */
static void t_srat_pxm_order_and_x2apic(void)
{
    ai_srat_begin(&srat);
    ai_srat_mem(&srat, 1, 0, 2 * G, 1);
    ai_srat_x2apic(&srat, 3, 0x1234);
    ai_srat_mem(&srat, 3, 4 * G, 4 * G, 1);
    ai_finish(&srat);
    uint8_t d4[16];
    for (int i = 0; i < 16; i++)
        d4[i] = i / 4 == i % 4 ? 10 : 40;
    d4[1 * 4 + 3] = d4[3 * 4 + 1] = 17;
    slit_of(4, d4);
    HT_EQ_U(parse(&srat, &slit), 0);
    HT_EQ_U(nlines, 0);
    HT_EQ_U(lay.nr_nodes, 2);
    HT_ASSERT(lay.node[0].pxm == 3 && lay.node[1].pxm == 1, "pxm %u %u", lay.node[0].pxm,
              lay.node[1].pxm);
    HT_ASSERT(lay.node[0].nr_cpus == 1 && lay.node[0].cpu[0] == 0x1234, "x2apic");
    HT_EQ_U(lay.node[0].range[0].start, 4 * G);
    HT_EQ_U(lay.distance[0][1], 17);
}

static void t_slit_bad_size(void)
{
    qemu_srat();
    const uint8_t d3[] = { 10, 21, 21, 21, 10, 21, 21, 21, 10 };
    slit_of(3, d3);
    HT_EQ_U(parse(&srat, &slit), 0);
    expect_line("ACPI: SLIT: 3 localities in 53 bytes for 2 nodes (PXM up to 1): ignored, "
                "default distances");
    HT_ASSERT(lay.from_srat && !lay.from_slit && lay.distance[0][1] == 20, "fallback");
    slit_of(2, d2);
    ai_put32(slit.b + 4, 46);            /* room for 2 of the 4 bytes only */
    HT_EQ_U(parse(&srat, &slit), 0);
    expect_line("ACPI: SLIT: 2 localities in 46 bytes for 2 nodes (PXM up to 1): ignored, "
                "default distances");
    slit_of(2, d2);
    ai_put64(slit.b + 36, 1ul << 32);    /* its square wraps around 2^64 */
    HT_EQ_U(parse(&srat, &slit), 0);
    HT_EQ_U(nlines, 1);
    HT_ASSERT(!lay.from_slit, "accepted");
}

static void t_slit_asymmetric(void)
{
    qemu_srat();
    const uint8_t d[] = { 10, 21, 30, 10 };
    slit_of(2, d);
    HT_EQ_U(parse(&srat, &slit), 0);
    expect_line("ACPI: SLIT: node 0 to node 1 is 21 but back is 30, not symmetric: ignored, "
                "default distances");
    HT_ASSERT(lay.from_srat && !lay.from_slit && lay.distance[1][0] == 20, "fallback");
}

static void t_slit_bad_diagonal(void)
{
    qemu_srat();
    const uint8_t d[] = { 10, 21, 21, 12 };
    slit_of(2, d);
    HT_EQ_U(parse(&srat, &slit), 0);
    expect_line("ACPI: SLIT: node 1 to itself is 12, not 10: ignored, default distances");
    HT_ASSERT(!lay.from_slit && lay.distance[1][1] == 10, "fallback");
    const uint8_t e[] = { 10, 9, 9, 10 };
    slit_of(2, e);
    HT_EQ_U(parse(&srat, &slit), 0);
    expect_line("ACPI: SLIT: node 0 to node 1 is 9, not more than 10: ignored, default "
                "distances");
}

/* ---- fallback order --------------------------------------------------------- */

static void layout_of(unsigned n, const uint8_t *d, const bool *memless)
{
    memset(&lay, 0, sizeof(lay));
    lay.nr_nodes = n;
    lay.from_srat = lay.from_slit = true;
    for (unsigned i = 0; i < n; i++) {
        lay.node[i].pxm = i;
        lay.node[i].mem_bytes = memless && memless[i] ? 0 : G;
        for (unsigned j = 0; j < n; j++)
            lay.distance[i][j] = d[i * n + j];
    }
}

static void expect_order(unsigned node, const char *want)
{
    uint8_t order[MAX_NUMNODES];
    int n = numa_fallback_order(&lay, node, order);
    char got[40] = "";
    for (int i = 0; i < n; i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%u", i ? " " : "",
                 order[i]);
    HT_EQ_STR(got, want);
}

static void t_order_two_nodes(void)
{
    layout_of(2, d2, NULL);
    HT_TRY(expect_order(0, "0 1"));
    HT_TRY(expect_order(1, "1 0"));
}

static void t_order_four_asymmetric(void)
{
    const uint8_t d[] = { 10, 15, 20, 30,
                          15, 10, 30, 20,
                          20, 30, 10, 15,
                          30, 20, 15, 10 };
    layout_of(4, d, NULL);
    HT_TRY(expect_order(0, "0 1 2 3"));
    HT_TRY(expect_order(1, "1 0 3 2"));
    HT_TRY(expect_order(2, "2 3 0 1"));
    HT_TRY(expect_order(3, "3 2 1 0"));
}

static void t_order_ties_by_node_number(void)
{
    const uint8_t d[] = { 10, 20, 20, 20,
                          20, 10, 20, 20,
                          20, 20, 10, 20,
                          20, 20, 20, 10 };
    layout_of(4, d, NULL);
    HT_TRY(expect_order(2, "2 0 1 3"));
    HT_TRY(expect_order(3, "3 0 1 2"));
}

static void t_order_memoryless(void)
{
    const uint8_t d[] = { 10, 15, 20, 30,
                          15, 10, 30, 20,
                          20, 30, 10, 15,
                          30, 20, 15, 10 };
    const bool memless[] = { false, true, false, false };
    layout_of(4, d, memless);
    HT_TRY(expect_order(0, "0 2 3"));
    HT_TRY(expect_order(1, "0 3 2"));     /* itself skipped: no memory */
    HT_TRY(expect_order(3, "3 2 0"));
}

static void t_order_refuses_bad_node(void)
{
    layout_of(2, d2, NULL);
    uint8_t order[MAX_NUMNODES];
    HT_EQ_U(numa_fallback_order(&lay, 2, order), (uint64_t)-EINVAL);
    HT_EQ_U(numa_fallback_order(NULL, 0, order), (uint64_t)-EINVAL);
    numa_layout_single(&lay);
    HT_EQ_U(numa_fallback_order(&lay, 0, order), 1);
}

static const struct htest cases[] = {
    HT_CASE(reader_xsdt), HT_CASE(reader_rsdt), HT_CASE(reader_rev2_falls_back_to_rsdt),
    HT_CASE(reader_no_rsdp), HT_CASE(reader_bad_rsdp), HT_CASE(reader_bad_table_checksum),
    HT_CASE(reader_truncated_length), HT_CASE(reader_length_past_mapping),
    HT_CASE(reader_hostile_root), HT_CASE(reader_table_read_bounds),
    HT_CASE(srat_qemu_two_nodes), HT_CASE(srat_absent), HT_CASE(slit_absent_default_distances),
    HT_CASE(srat_overlap), HT_CASE(srat_too_many_domains), HT_CASE(srat_truncated_entry),
    HT_CASE(srat_memory_outside_ram), HT_CASE(srat_ram_not_covered),
    HT_CASE(srat_memoryless_node), HT_CASE(srat_pxm_order_and_x2apic),
    HT_CASE(slit_bad_size), HT_CASE(slit_asymmetric), HT_CASE(slit_bad_diagonal),
    HT_CASE(order_two_nodes), HT_CASE(order_four_asymmetric),
    HT_CASE(order_ties_by_node_number), HT_CASE(order_memoryless),
    HT_CASE(order_refuses_bad_node),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
