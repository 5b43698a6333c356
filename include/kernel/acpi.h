/*
 * ACPI tables: the reader (kernel/acpi/tables.c), the SRAT and SLIT
 * parsers (kernel/acpi/srat.c) and the kernel's instance
 * (kernel/acpi/acpi_boot.c).  docs/numa.md.
 *
 * The firmware leaves its tables in memory: the RSDP (found by the
 * loader, boot_info.acpi_rsdp) points to a root table, the XSDT (64-bit
 * pointers, ACPI 2.0+) or the RSDT (32-bit, ACPI 1.0), which lists the
 * others, each a 36-byte header (signature "APIC", "SRAT", "SLIT"...,
 * length, checksum) followed by its body.  All of it is firmware data
 * and is trusted for nothing: the reader and the parsers are pure code
 * over a "read physical memory" function, so host tests and a fuzz
 * target feed them tables built in memory.
 */
#ifndef KERNEL_ACPI_H
#define KERNEL_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <mm/numa.h>
#include <mm/memmap.h>

#define ACPI_HEADER_LEN 36
#define ACPI_TABLE_MAX  (1u << 20)   /* a longer table is refused */
#define ACPI_MAX_TABLES 64           /* root entries looked at */
#define ACPI_PHYS_LIMIT (1ul << 52)  /* x86-64's widest physical address */

/* Little-endian fields of a table (ACPI is little-endian; the bytes may
 * be unaligned). */
static inline uint32_t acpi_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t acpi_le64(const uint8_t *p)
{
    return acpi_le32(p) | (uint64_t)acpi_le32(p + 4) << 32;
}
/* The address of a Generic Address Structure (12 bytes: space id, bit
 * width, bit offset, access size, 64-bit address); its space is g[0]. */
static inline uint64_t acpi_gas_address(const uint8_t *g)
{
    return acpi_le64(g + 4);
}

/* Copy n bytes of physical memory at pa to dst: false when it cannot
 * (not mapped, past what the caller has). */
typedef bool (*acpi_read_t)(void *ctx, uint64_t pa, void *dst, size_t n);
/* One line of warning or note, without its newline. */
typedef void (*acpi_report_t)(const char *line);
/* Format one line and hand it to report (nothing when report is NULL). */
void acpi_report(acpi_report_t report, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct acpi_table_ref {
    char sig[4];
    uint64_t pa;
    uint32_t len;
    bool ok;                 /* length sane, checksum 0: usable */
};

struct acpi_tables {
    acpi_read_t read;
    void *ctx;
    acpi_report_t report;
    int status;              /* acpi_tables_init's result */
    bool xsdt;               /* the root table is the XSDT */
    uint64_t root;           /* its address, 0 if none */
    unsigned nr;             /* tables listed (at most ACPI_MAX_TABLES) */
    struct acpi_table_ref table[ACPI_MAX_TABLES];
};

/*
 * Read the RSDP at rsdp_pa and the root table it names (the XSDT when
 * the RSDP's revision is 2 or more and its extended checksum holds, the
 * RSDT otherwise), and check every table listed: a length from 36 bytes
 * to ACPI_TABLE_MAX, readable, bytes summing to 0.  Each refusal is one
 * line through report.  Returns 0, -ENOENT (no RSDP: rsdp_pa is 0) or
 * -EINVAL (RSDP or root table unusable; no table is then found).  Read,
 * ctx and report must be set in t; the rest is filled.
 */
int acpi_tables_init(struct acpi_tables *t, uint64_t rsdp_pa);

/*
 * The first usable table with signature sig ("APIC", "SRAT"...): 0 with
 * its address and length, -ENOENT when none is listed, -EINVAL when only
 * unusable ones are (init said why).
 */
int acpi_find_table(const struct acpi_tables *t, const char *sig, uint64_t *pa,
                    uint32_t *len);

/* Read n bytes at offset off of a table found above, bounded by its
 * length: 0, -EINVAL past its end, -EIO when the memory cannot be read. */
int acpi_table_read(const struct acpi_tables *t, uint64_t pa, uint32_t len, uint32_t off,
                    void *dst, size_t n);

/* The bytes of a found table, whole, into buf: its length, -ENOSPC when
 * it is longer than cap, or acpi_find_table's / acpi_table_read's error. */
long acpi_copy_table(const struct acpi_tables *t, const char *sig, void *buf, size_t cap);

/*
 * The NUMA layout from an SRAT and a SLIT (either may be NULL: absent),
 * whole tables with their headers, already checksummed by the reader.
 * ram[0..nram) is the cleaned firmware map (include/mm/memmap.h): an SRAT
 * memory range must touch RAM in it, and usable RAM must lie in the nodes.
 * On success returns 0 with l->from_srat set; with no SRAT, -ENOENT; with
 * an SRAT refused (malformed, overlapping ranges, more domains than
 * MAX_NUMNODES, usable RAM outside every node...), -EINVAL after one line
 * through report: l is then the single node of numa_layout_single.  A
 * SLIT refused (wrong size, not 10 on the diagonal, not symmetric, a
 * remote distance <= 10) gets one line and the default distances.
 */
int acpi_numa_parse(struct numa_layout *l, const void *srat, size_t srat_len,
                    const void *slit, size_t slit_len, const struct mem_range *ram,
                    size_t nram, acpi_report_t report);

/*
 * The CPUs of a MADT (kernel/acpi/madt.c; docs/smp.md).  CPU 0 is the
 * boot CPU (APIC id boot_apic), the others in table order: enabled local
 * APIC (type 0) and local x2APIC (type 9) entries, each APIC id once.
 */
#define ACPI_MAX_CPUS 64             /* Linux's x86 default NR_CPUS is 64 too */
struct acpi_cpu {
    uint32_t apic_id;
    uint32_t uid;            /* the ACPI processor id / UID */
    bool x2apic;             /* from a type 9 entry */
};
struct acpi_cpus {
    unsigned nr;             /* 1 .. ACPI_MAX_CPUS */
    struct acpi_cpu cpu[ACPI_MAX_CPUS];
    uint64_t lapic_base;     /* the local APICs' MMIO base (type 5 overrides) */
    unsigned disabled;       /* entries not enabled (hot-pluggable or absent) */
    unsigned duplicates;     /* entries naming an APIC id seen before */
    unsigned dropped;        /* enabled CPUs past ACPI_MAX_CPUS */
};
/*
 * Parse a whole MADT (header included, checksummed by the reader).  An
 * entry running past the table or shorter than its type ends the walk
 * (what came before stays); a boot CPU the table does not list is added
 * (with a line).  Each oddity is one line through report.  Returns 0, or
 * -EINVAL when madt is not a MADT at all (too short, wrong signature):
 * then out holds the boot CPU alone.
 */
int acpi_madt_cpus(const void *madt, size_t len, uint32_t boot_apic, struct acpi_cpus *out,
                   acpi_report_t report);

/* The kernel's instance over boot_info's RSDP (kernel/acpi/acpi_boot.c):
 * read once on first use, through kmap (vm_init must have run). */
const struct acpi_tables *acpi_kernel(void);

/* Print the NUMA layout the firmware describes, Linux's way (boot). */
void acpi_numa_report(void);
/*
 * Early in mem_init, before the kernel's page tables (the loader's direct
 * map reaches every address of the firmware map): parse the SRAT and the
 * SLIT against the cleaned map ram[0..nram).  The layout when there are
 * several nodes, NULL for one (no SRAT, one domain, or refused: the
 * reason printed).  acpi_numa_report prints it later.
 */
const struct numa_layout *acpi_numa_init(const struct mem_range *ram, size_t nram);
/* The kernel's page tables are loaded: read tables through kmap_phys. */
void acpi_kernel_vm_ready(void);
/* The boot CPU's APIC id (CPUID leaf 1), as the SRAT names CPUs. */
uint32_t boot_cpu_apic_id(void);

#endif
