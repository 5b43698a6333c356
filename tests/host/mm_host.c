/*
 * Host glue for mm/: the arena, the hooks, and the two kernel functions
 * mm/ needs beyond the C library (panic, printk).  See mm_host.h.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mm_host.h"
#include <boot/boot_info.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <mm/check.h>
#include <mm/zone.h>
#include <mm/numa.h>

struct mem_node mm_host_node;

static uint8_t *arena;
static size_t arena_bytes;
static struct page *map;
static uint64_t map_pfns;
static struct host_ram ram[64];
static size_t nram;

#define RING 64
static char ring[RING][256];
static uint64_t nreports;
static bool echo;

void panic(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "panic: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

void printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

static void *host_phys_to_virt(uint64_t pa)
{
    return arena + pa;
}

static void host_report(const char *msg)
{
    snprintf(ring[nreports % RING], sizeof(ring[0]), "%s", msg);
    nreports++;
    if (echo)
        fprintf(stderr, "mm: %s\n", msg);
}

uint64_t mm_host_reports(void)
{
    return nreports;
}

const char *mm_host_last_report(void)
{
    return nreports ? ring[(nreports - 1) % RING] : "";
}

bool mm_host_reported_since(uint64_t mark, const char *needle)
{
    if (nreports - mark > RING)
        mark = nreports - RING;
    for (uint64_t i = mark; i < nreports; i++)
        if (strstr(ring[i % RING], needle))
            return true;
    return false;
}

void mm_host_echo(bool on)
{
    echo = on;
}

uint8_t *mm_host_arena(void)
{
    return arena;
}

bool mm_host_is_ram(uint64_t pa, uint64_t len)
{
    for (size_t i = 0; i < nram; i++)
        if (pa >= ram[i].start && pa < ram[i].end && len <= ram[i].end - pa)
            return true;
    return false;
}

void mm_host_fini(void)
{
    if (arena)
        munmap(arena, arena_bytes);
    free(map);
    arena = NULL;
    map = NULL;
    arena_bytes = 0;
    map_pfns = 0;
    nram = 0;
    node0 = NULL;
}

void mm_host_init_no_watermarks(uint64_t max_pfn, const struct host_ram *ram, size_t nram)
{
    mm_host_init(max_pfn, ram, nram);
    for (int z = 0; z < NR_ZONES; z++)
        mm_host_node.zones[z].wmark_min = mm_host_node.zones[z].wmark_low =
            mm_host_node.zones[z].wmark_high = 0;
}

/* The other nodes of mm_host_init_numa. */
static struct mem_node more_nodes[MAX_NUMNODES - 1];

/* node_init, the layout's nodes (none: one), the RAM to every node (each
 * takes its part), node_finish on each: mem_init's order. */
static int reset(const struct numa_layout *l, uint32_t cpu_apic)
{
    node_init(&mm_host_node, map, map_pfns, host_phys_to_virt, host_report);
    int err = l ? numa_nodes_init(l, more_nodes, cpu_apic) : 0;
    for (size_t i = 0; i < nram; i++)
        for (unsigned nid = 0; nid < nr_node_ids; nid++)
            node_add_free(node_data[nid], ram[i].start >> PAGE_SHIFT, ram[i].end >> PAGE_SHIFT);
    numa_finish();
    return err;
}

void mm_host_reset(void)
{
    reset(NULL, 0);
}

int mm_host_init_numa(uint64_t max_pfn, const struct host_ram *r, size_t n,
                      const struct numa_layout *l, uint32_t cpu_apic)
{
    mm_host_init(max_pfn, r, n);
    return reset(l, cpu_apic);
}

void mm_host_init(uint64_t max_pfn, const struct host_ram *r, size_t n)
{
    mm_host_fini();
    if (n > sizeof(ram) / sizeof(ram[0]))
        panic("mm_host_init: %zu RAM ranges, at most %zu", n, sizeof(ram) / sizeof(ram[0]));
    echo = getenv("MM_HOST_VERBOSE") != NULL;
    arena_bytes = (size_t)(max_pfn << PAGE_SHIFT);
    arena = mmap(NULL, arena_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
    if (arena == MAP_FAILED)
        panic("mm_host_init: cannot reserve %zu bytes of address space", arena_bytes);
    for (size_t i = 0; i < n; i++) {
        if ((r[i].start | r[i].end) & (PAGE_SIZE - 1) || r[i].start >= r[i].end ||
            r[i].end > arena_bytes)
            panic("mm_host_init: bad RAM range %#lx-%#lx", r[i].start,
                  r[i].end);
        if (mprotect(arena + r[i].start, r[i].end - r[i].start, PROT_READ | PROT_WRITE))
            panic("mm_host_init: mprotect failed");
        ram[i] = r[i];
    }
    nram = n;
    map_pfns = max_pfn;
    map = calloc(max_pfn, sizeof(struct page));
    if (!map)
        panic("mm_host_init: no memory for %lu frame descriptors",
              max_pfn);
    mm_host_reset();
}

/* ---- memmap_build output checks ------------------------------------------- */

#define LIMIT_PAGES (1ul << 40) /* 2^52 bytes */
#define HOLE (-1)

int memmap_check_output(const struct mem_range *r, size_t n, char *why, size_t size)
{
    CHECK(n > 0 && r[0].start == 0 && r[0].kind == MEM_RESERVED, "page 0 is not reserved");
    for (size_t i = 0; i < n; i++) {
        CHECK(!((r[i].start | r[i].end) & (PAGE_SIZE - 1)) && r[i].start < r[i].end &&
                  r[i].end <= LIMIT_PAGES * PAGE_SIZE && r[i].kind < MEM_KIND_COUNT,
              "range %zu [%#lx, %#lx) kind %u is malformed", i, r[i].start, r[i].end,
              r[i].kind);
        CHECK(!i || r[i - 1].end <= r[i].start, "ranges %zu and %zu overlap or are unsorted",
              i - 1, i);
        CHECK(!i || r[i - 1].end != r[i].start || r[i - 1].kind != r[i].kind,
              "ranges %zu and %zu are adjacent, both %s", i - 1, i, mem_kind_name(r[i].kind));
    }
    return 0;
}

/* The map-cleaning rules, stated again without looking at memmap.c. */
static int model_kind_of(uint32_t efi_type)
{
    switch (efi_type) {
    case EFI_CONVENTIONAL_MEMORY:
    case EFI_BOOT_SERVICES_CODE:
    case EFI_BOOT_SERVICES_DATA:
    case EFI_LOADER_CODE:
    case EFI_LOADER_DATA:
        return MEM_USABLE;
    case EFI_ACPI_RECLAIM_MEMORY:
        return MEM_ACPI_RECLAIM;
    case BOOT_MEM_KERNEL:
        return MEM_BOOT_KERNEL;
    case BOOT_MEM_INITRD:
        return MEM_BOOT_INITRD;
    case BOOT_MEM_BOOTINFO:
        return MEM_BOOT_INFO;
    case BOOT_MEM_PAGETABLE:
        return MEM_BOOT_TABLES;
    default:
        return MEM_RESERVED;
    }
}

struct mpages {
    uint64_t ps, pe; /* pages [ps, pe) */
    int kind;
};

static size_t model_pages(const uint8_t *map, uint64_t ndesc, uint64_t stride, struct mpages *m)
{
    size_t n = 0;
    m[n++] = (struct mpages){ 0, 1, MEM_RESERVED };
    for (uint64_t i = 0; i < ndesc; i++) {
        struct efi_mem_desc d;
        memcpy(&d, map + i * stride, sizeof(d));
        int kind = model_kind_of(d.type);
        unsigned __int128 end = (unsigned __int128)d.phys_start +
                                (unsigned __int128)d.num_pages * PAGE_SIZE;
        unsigned __int128 limit = (unsigned __int128)LIMIT_PAGES * PAGE_SIZE;
        uint64_t ps, pe;
        if (d.num_pages == 0)
            continue;
        if (kind == MEM_USABLE) {
            if (end > limit)
                continue;
            ps = (d.phys_start + PAGE_SIZE - 1) / PAGE_SIZE;
            pe = (uint64_t)(end / PAGE_SIZE);
        } else {
            if (d.phys_start >= limit)
                continue;
            if (end > limit)
                end = limit;
            ps = d.phys_start / PAGE_SIZE;
            pe = (uint64_t)((end + PAGE_SIZE - 1) / PAGE_SIZE);
        }
        if (ps < pe)
            m[n++] = (struct mpages){ ps, pe, kind };
    }
    return n;
}

static int model_at(const struct mpages *m, size_t n, uint64_t page)
{
    int kind = HOLE;
    for (size_t i = 0; i < n; i++)
        if (page >= m[i].ps && page < m[i].pe && m[i].kind > kind)
            kind = m[i].kind;
    return kind;
}

static int output_at(const struct mem_range *r, size_t n, uint64_t page)
{
    uint64_t a = page * PAGE_SIZE;
    size_t lo = 0, hi = n;
    while (lo < hi) { /* first range ending above a */
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].end > a)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo < n && r[lo].start <= a ? (int)r[lo].kind : HOLE;
}

static const char *kind_str(int k)
{
    return k == HOLE ? "hole" : mem_kind_name((uint32_t)k);
}

int memmap_check_model(const void *map, uint64_t map_size, uint64_t desc_size,
                       const struct mem_range *r, size_t n, char *why, size_t size)
{
    uint64_t ndesc = map_size / desc_size;
    struct mpages *m = malloc((ndesc + 1) * sizeof(*m));
    if (!m)
        return snprintf(why, size, "out of host memory"), -ENOMEM;
    size_t nm = model_pages(map, ndesc, desc_size, m);
    int rc = 0;
    /* Every boundary of the model and of the output, and the page after
     * page 0, is the first page of an interval where both are constant. */
    for (size_t i = 0; i < nm + n && rc == 0; i++) {
        uint64_t pts[2];
        if (i < nm) {
            pts[0] = m[i].ps;
            pts[1] = m[i].pe;
        } else {
            pts[0] = r[i - nm].start / PAGE_SIZE;
            pts[1] = r[i - nm].end / PAGE_SIZE;
        }
        for (int j = 0; j < 2 && rc == 0; j++) {
            if (pts[j] >= LIMIT_PAGES)
                continue;
            int want = model_at(m, nm, pts[j]), got = output_at(r, n, pts[j]);
            if (want != got) {
                snprintf(why, size, "page %#lx (address %#lx) is %s, the rules say %s",
                         pts[j], (pts[j] * PAGE_SIZE),
                         kind_str(got), kind_str(want));
                rc = -EUCLEAN;
            }
        }
    }
    free(m);
    return rc;
}
