/*
 * The kernel's ACPI tables and the NUMA layout at boot (docs/numa.md).
 *
 * acpi_kernel reads the directory of tables once, from the RSDP the
 * loader found (boot_info.acpi_rsdp): first, in mem_init, through the
 * loader's direct map (it covers every address up to the end of the
 * firmware map, 4 GiB at least), then, once the kernel's own page tables
 * keep only RAM there (acpi_kernel_vm_ready), through kmap_phys a page at
 * a time: firmware tables lie outside what the allocator owns, so they
 * are never reached through struct page.  Users: the NUMA set-up below
 * and the I/O APIC (the MADT, kernel/cpu/ioapic.c).
 *
 * acpi_numa_init, called by mem_init before the allocator has a frame,
 * parses the SRAT and the SLIT (kernel/acpi/srat.c): the layout it
 * returns becomes the allocator's nodes (mm/numa.c).  acpi_numa_report,
 * later, prints it as Linux does: one "ACPI: SRAT: Node N PXM P [mem
 * ...]" line per range, one per CPU, the distance table in numactl
 * --hardware's form and each node's "Fallback order" (mm/numa_order.c).
 *
 * Invariant: the directory is read at most once; the tables are copied
 * into static buffers, never into allocated memory.
 */
#include <kernel/acpi.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include <mm/bootmem.h>
#include <mm/kmap.h>
#include <mm/zone.h>

#define SRAT_BUF (64u << 10)
#define SLIT_BUF (8u << 10)

static struct acpi_tables tables;
static bool tables_read;

/* The CPU's physical address width (CPUID 0x80000008, 36 bits without it):
 * a page-table entry naming a frame above it faults on use. */
static uint64_t phys_limit(void)
{
    uint32_t a, b, c, d;
    cpuid(0x80000000u, 0, &a, &b, &c, &d);
    unsigned bits = 36;
    if (a >= 0x80000008u) {
        cpuid(0x80000008u, 0, &a, &b, &c, &d);
        bits = a & 0xff;
    }
    return bits >= 52 ? ACPI_PHYS_LIMIT : 1ul << bits;
}

static bool use_kmap;           /* the kernel's page tables are loaded */
static uint64_t early_limit;    /* the loader's direct map ends there or later */

void acpi_kernel_vm_ready(void)
{
    use_kmap = true;
}

/* Copy n bytes of physical memory at pa: through the loader's direct map
 * at first, then a page at a time through kmap; false for addresses the
 * CPU (or the early map) cannot reach (hostile pointers). */
static bool phys_read(void *ctx, uint64_t pa, void *dst, size_t n)
{
    (void)ctx;
    static uint64_t limit;
    if (!limit)
        limit = phys_limit();
    if (pa >= limit || n > limit - pa)
        return false;
    if (!use_kmap) {
        if (pa >= early_limit || n > early_limit - pa)
            return false;
        memcpy(dst, phys_to_virt(pa), n);
        return true;
    }
    uint8_t *d = dst;
    while (n) {
        uint64_t page = pa & ~0xffful, off = pa & 0xfff;
        size_t k = n < 4096 - off ? n : (size_t)(4096 - off);
        const uint8_t *p = kmap_phys(page);
        if (!p)
            return false;
        memcpy(d, p + off, k);
        kunmap_phys(p);
        d += k, pa += k, n -= k;
    }
    return true;
}

static void report_line(const char *line)
{
    printk("%s\n", line);
}

const struct acpi_tables *acpi_kernel(void)
{
    if (!tables_read) {
        tables_read = true;
        tables.read = phys_read;
        tables.report = report_line;
        acpi_tables_init(&tables, boot_info ? boot_info->acpi_rsdp : 0);
    }
    return &tables;
}

static void print_layout(const struct numa_layout *l)
{
    for (unsigned i = 0; i < l->nr_nodes; i++) {
        const struct numa_node *n = &l->node[i];
        for (unsigned r = 0; r < n->nr_ranges; r++)
            printk("ACPI: SRAT: Node %u PXM %u [mem 0x%08lx-0x%08lx]%s\n", i, n->pxm,
                   n->range[r].start, n->range[r].end - 1,
                   n->range[r].hotplug ? " hotplug" : "");
        for (unsigned c = 0; c < n->nr_cpus && c < NUMA_MAX_CPUS; c++)
            printk("ACPI: SRAT: PXM %u -> APIC 0x%02x -> Node %u\n", n->pxm, n->cpu[c], i);
        if (n->nr_cpus > NUMA_MAX_CPUS)
            printk("ACPI: SRAT: Node %u: %u more CPUs not listed\n", i,
                   n->nr_cpus - NUMA_MAX_CPUS);
    }
    printk("NUMA: %u node%s from the ACPI SRAT, distances from %s; the allocator has %u "
           "node%s\n", l->nr_nodes, l->nr_nodes == 1 ? "" : "s",
           l->from_slit ? "the SLIT" : "no SLIT (10 local, 20 remote)", nr_node_ids,
           nr_node_ids == 1 ? "" : "s");
    for (unsigned i = 0; i < l->nr_nodes; i++) {
        char sz[24];
        format_size(sz, sizeof(sz), l->node[i].mem_bytes);
        if (l->node[i].mem_bytes)
            printk("NUMA: Node %u: %s in %u range%s, %u CPU%s\n", i, sz,
                   l->node[i].nr_ranges, l->node[i].nr_ranges == 1 ? "" : "s",
                   l->node[i].nr_cpus, l->node[i].nr_cpus == 1 ? "" : "s");
        else
            printk("NUMA: Node %u: memory-less, %u CPU%s only\n", i, l->node[i].nr_cpus,
                   l->node[i].nr_cpus == 1 ? "" : "s");
    }
    /* numactl --hardware's table: rows are "from", columns "to". */
    char line[8 + 4 * MAX_NUMNODES];
    int k = snprintf(line, sizeof(line), "node");
    for (unsigned j = 0; j < l->nr_nodes; j++)
        k += snprintf(line + k, sizeof(line) - (size_t)k, "%4u", j);
    printk("node distances:\n%s\n", line);
    for (unsigned i = 0; i < l->nr_nodes; i++) {
        k = snprintf(line, sizeof(line), "%3u:", i);
        for (unsigned j = 0; j < l->nr_nodes; j++)
            k += snprintf(line + k, sizeof(line) - (size_t)k, "%4u", l->distance[i][j]);
        printk("%s\n", line);
    }
    for (unsigned i = 0; i < l->nr_nodes; i++) {
        uint8_t order[MAX_NUMNODES];
        int n = numa_fallback_order(l, i, order);
        k = snprintf(line, sizeof(line), "%s", "");
        for (int j = 0; j < n; j++)
            k += snprintf(line + k, sizeof(line) - (size_t)k, " %u", order[j]);
        printk("Fallback order for Node %u:%s\n", i, line);
    }
    /* What the allocator made of it (mm/zone.c): each node's zonelist for
     * a GFP_KERNEL request (Normal and below). */
    for (unsigned i = 0; i < nr_node_ids && l->nr_nodes > 1; i++) {
        char zl[40 + MAX_NUMNODES * NR_ZONES * 10];
        zonelist_show((int)i, ZONE_NORMAL, zl, sizeof(zl));
        printk("%s\n", zl);
    }
}

uint32_t boot_cpu_apic_id(void)
{
    uint32_t a, b, c, d, max;
    cpuid(0, 0, &max, &b, &c, &d);
    if (max >= 0xb) {
        cpuid(0xb, 0, &a, &b, &c, &d);
        if (b)                  /* leaf 0xB present: EDX is the full (x2APIC) id */
            return d;
    }
    cpuid(1, 0, &a, &b, &c, &d);
    return b >> 24;             /* the 8-bit initial APIC id */
}

static struct numa_layout layout;
static const char *layout_why;  /* why there is one node, or NULL */

const struct numa_layout *acpi_numa_init(const struct mem_range *ram, size_t nram)
{
    static uint8_t srat[SRAT_BUF], slit[SLIT_BUF];
    early_limit = 4ul << 30;
    for (size_t i = 0; i < nram; i++)
        if (ram[i].end > early_limit)
            early_limit = ram[i].end;
    const struct acpi_tables *t = acpi_kernel();
    long sn = acpi_copy_table(t, "SRAT", srat, sizeof(srat));
    if (sn == -ENOENT) {
        layout_why = "NUMA: no SRAT: one node (No NUMA configuration found)";
        return NULL;
    }
    if (sn < 0) {
        printk("NUMA: the SRAT cannot be used (error %ld): one node\n", sn);
        layout_why = "NUMA: SRAT unusable: one node";
        return NULL;
    }
    long ln = acpi_copy_table(t, "SLIT", slit, sizeof(slit));
    if (ln < 0 && ln != -ENOENT)
        printk("NUMA: the SLIT cannot be used (error %ld): default distances\n", ln);
    if (acpi_numa_parse(&layout, srat, (size_t)sn, ln > 0 ? slit : NULL,
                        ln > 0 ? (size_t)ln : 0, ram, nram, report_line)) {
        layout_why = "NUMA: SRAT refused: one node";
        return NULL;
    }
    return layout.nr_nodes > 1 ? &layout : NULL;
}

void acpi_numa_report(void)
{
    if (layout_why)
        printk("%s\n", layout_why);
    else
        print_layout(&layout);
}
