/*
 * Boot-time bring-up of physical memory (kernel only; the parts it calls
 * are host-tested on their own).
 *
 * 1. The firmware map is cleaned (mm/memmap.c).
 * 2. mem_place (mm/mem_place.c) decides: max_pfn, where mem_map (the
 *    array of struct page) goes, and which frames become free and which
 *    only present.  mem_map lands in the first usable range that can hold
 *    it, above 16 MiB when possible (ISA DMA memory is scarce), clear of
 *    the kernel, the initrd and the loader's hand-off even if the map
 *    failed to mark them.  Its frames are never handed to the allocator.
 * 3. The node is built from the plan: every free piece is freed into its
 *    zone.  Each phase is timed with the TSC.
 * 4. The boot report prints the cleaned map, the timings (make bench
 *    reads them), where mem_map went and the allocator's statistics; then
 *    the validator must pass.
 *
 * Invariant afterwards: every MEM_USABLE frame except mem_map's own is
 * managed by exactly one zone; every other RAM frame is counted present
 * and stays reserved; nothing the cleaned map calls reserved is touched.
 *
 * Errors: a map that cannot be cleaned or leaves no room for mem_map
 * stops the boot with a panic naming the error (there is no memory
 * manager to fall back on); a validator failing after the set-up is a
 * broken invariant, asserted.
 *
 * What stays reserved, and who releases it: the loader's page tables
 * and the boot info are handed to the allocator (mem_release_boot) once
 * the kernel runs on its own tables; the kernel image stays (it is the
 * kernel); the initrd stays too, for good, because its files are served
 * in place (kernel/fs/initrd_fs.c) and never unpacked; ACPI reclaimable
 * memory stays, because no ACPI table is read.
 */
#include <mm/bootmem.h>
#include <mm/mem_place.h>
#include <mm/zone.h>
#include <mm/numa.h>
#include <mm/gfp.h>
#include <kernel/acpi.h>
#include <kernel/smp.h>
#include <kernel/assert.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/x86.h>

#define MAX_RANGES 4096
#define NHELD 4

static struct mem_range ranges[MAX_RANGES];
static size_t nranges;
/* The sweep's events while the map is cleaned, then the plan's pieces. */
static union {
    uint8_t events[MEMMAP_SCRATCH_BYTES];
    struct mem_piece pieces[MEM_PLACE_PIECES(MAX_RANGES, NHELD)];
} scratch __attribute__((aligned(16)));
static struct mem_node node;
/* Nodes 1 .. MAX_NUMNODES - 1 when the ACPI SRAT describes several. */
static struct mem_node more_nodes[MAX_NUMNODES - 1];

/* TSC readings of the set-up's phases. */
struct mem_times {
    uint64_t touch, start, descriptors, free_lists, finish;
};

const struct mem_range *mem_ranges(size_t *n)
{
    *n = nranges;
    return ranges;
}

static void *direct_map(uint64_t pa)
{
    return phys_to_virt(pa);
}

static void mem_log(const char *msg)
{
    printk("mm: %s\n", msg);
}

static void print_map(const struct memmap_stats *st)
{
    char sz[24];
    printk("Physical memory map (cleaned: %lu descriptors, %lu empty and %lu "
           "overflowing dropped, %lu overlaps resolved):\n",
           st->descriptors, st->dropped_empty,
           st->dropped_overflow, st->overlaps);
    for (size_t i = 0; i < nranges; i++) {
        format_size(sz, sizeof(sz), ranges[i].end - ranges[i].start);
        printk("  0x%012lx-0x%012lx %10s  %s\n", ranges[i].start,
               ranges[i].end, sz, mem_kind_name(ranges[i].kind));
    }
}

/* What the loader handed over, as held ranges for mem_place. */
static size_t held_ranges(const struct boot_info *bi, struct mem_range held[NHELD])
{
    const struct { const struct boot_range *r; uint32_t kind; } from[NHELD] = {
        { &bi->kernel, MEM_BOOT_KERNEL },      { &bi->initrd, MEM_BOOT_INITRD },
        { &bi->pagetables, MEM_BOOT_TABLES },  { &bi->bootinfo, MEM_BOOT_INFO },
    };
    size_t n = 0;
    for (size_t i = 0; i < NHELD; i++)
        if (from[i].r->size)
            held[n++] = (struct mem_range){ from[i].r->phys, from[i].r->phys + from[i].r->size,
                                            from[i].kind };
    return n;
}

/* The boot report: the map, the cost of each phase, mem_map, the statistics. */
static void mem_report(const struct memmap_stats *st, const struct mem_plan *plan,
                       const struct mem_times *t)
{
    char sz[24];
    print_map(st);
    uint64_t ticks = t->finish - t->start;
    uint64_t gib_x100 = plan->usable * PAGE_SIZE * 100 >> 30;
    printk("mem_init: descriptors and free lists built in %lu TSC ticks for %lu.%02lu GiB "
           "(%lu ticks per GiB)\n", ticks,
           (gib_x100 / 100), (gib_x100 % 100),
           (gib_x100 ? ticks * 100 / gib_x100 : 0));
    /* Descriptors are per frame below max_pfn (holes included), free lists
     * per usable frame: make bench divides each by its own count. */
    printk("mem_init: phases in TSC ticks: first touch of mem_map %lu (%lu KiB, not "
           "counted above), descriptors %lu (%lu frames), free lists %lu (%lu frames), "
           "finish %lu\n",
           (t->start - t->touch), (plan->map_bytes >> 10),
           (t->descriptors - t->start), plan->max_pfn,
           (t->free_lists - t->descriptors), plan->usable,
           (t->finish - t->free_lists));

    format_size(sz, sizeof(sz), plan->map_bytes);
    uint64_t hundredths = plan->usable ? plan->map_bytes * 10000 / (plan->usable * PAGE_SIZE)
                                       : 0;
    printk("mem_map: %lu frame descriptors of %zu bytes = %s at phys %#lx "
           "(%lu.%02lu%% of usable RAM)\n", plan->max_pfn,
           sizeof(struct page), sz, plan->map_pa,
           (hundredths / 100), (hundredths % 100));

    static char text[2048];
    buddyinfo_show(text, sizeof(text));
    printk("buddyinfo (free blocks of order 0..%d):\n", MAX_ORDER);
    printk_lines(text);
    zoneinfo_show(text, sizeof(text));
    printk("zoneinfo:\n");
    printk_lines(text);
    meminfo_show(text, sizeof(text));
    printk_lines(text);
}

void mem_init(const struct boot_info *bi)
{
    struct memmap_stats st;
    long n = memmap_build(phys_to_virt(bi->mmap.phys), bi->mmap.size, bi->mmap.desc_size,
                          ranges, MAX_RANGES, scratch.events, &st);
    if (n < 0)
        panic("mem_init: the firmware memory map cannot be used (error %ld, descriptor "
              "size %lu)", n, bi->mmap.desc_size);
    nranges = (size_t)n;

    struct mem_range held[NHELD];
    size_t nheld = held_ranges(bi, held);
    struct mem_plan plan;
    int err = mem_place(ranges, nranges, held, nheld, scratch.pieces,
                        ARRAY_SIZE(scratch.pieces), &plan);
    if (err) {
        print_map(&st);
        panic("mem_init: cannot place mem_map (%lu bytes for %lu frames): %s (error %d)",
              plan.map_bytes, plan.max_pfn,
              err == -ENOMEM ? "no usable range holds it clear of the loader's ranges"
                             : "the map or the loader's ranges are malformed", err);
    }

    /*
     * First touch of mem_map, timed apart.  Under QEMU guest RAM is host
     * memory allocated on the first write to it: a host page fault that
     * zeroes 2 MiB (transparent huge pages), about 5 ms per 2 MiB on the
     * project's machine, so 13 M TSC ticks for every 2 MiB of mem_map
     * nobody had written before.  The firmware happens to have written
     * 16-24 MiB, where mem_map lands, so at -m 1G and 2G it is free and
     * at 16G it is 3 times the work below (docs/benchmarks.md).  That cost
     * belongs to the host, not to the algorithm: one write per 4 KiB page
     * pays it here, and the timing of the set-up starts after.  On real
     * hardware this loop is one cache miss per page.
     */
    struct mem_times t;
    t.touch = rdtsc();
    for (uint64_t off = 0; off < plan.map_bytes; off += PAGE_SIZE)
        *(volatile uint64_t *)phys_to_virt(plan.map_pa + off) = 0;

    t.start = rdtsc();
    node_init(&node, phys_to_virt(plan.map_pa), plan.max_pfn, direct_map, mem_log);
    /* NUMA: the nodes of the ACPI SRAT, each taking the frames of its
     * span (docs/numa.md); without one, node0 has them all. */
    const struct numa_layout *layout = acpi_numa_init(ranges, nranges);
    if (layout && numa_nodes_init(layout, more_nodes, boot_cpu_apic_id()))
        printk("NUMA: the nodes cannot be used as laid out: one node\n");
    t.descriptors = rdtsc();
    for (size_t i = 0; i < plan.npieces; i++) {
        const struct mem_piece *p = &plan.pieces[i];
        for (unsigned nid = 0; nid < nr_node_ids; nid++) {
            if (p->free)
                node_add_free(node_data[nid], p->start_pfn, p->end_pfn);
            else
                node_add_present(node_data[nid], p->start_pfn, p->end_pfn);
        }
    }
    t.free_lists = rdtsc();
    numa_finish();
    t.finish = rdtsc();

    mem_report(&st, &plan, &t);
    char why[200];
    err = node_check(why, sizeof(why));
    ASSERT(err == 0, "allocator inconsistent after boot (error %d): %s", err, why);
    smp_reserve_trampoline();   /* a page below 1 MiB, before anyone takes them */
}

bool mem_is_ram(uint64_t pa, uint64_t len)
{
    for (size_t i = 0; i < nranges; i++)
        if (ranges[i].kind != MEM_RESERVED && ranges[i].start < pa + len && pa < ranges[i].end)
            return true;
    return false;
}

uint64_t mem_release_boot(uint32_t kind)
{
    uint64_t total = 0;
    for (size_t i = 0; i < nranges; i++) {
        if (ranges[i].kind != kind)
            continue;
        long n = 0;
        for (unsigned nid = 0; n >= 0 && nid < nr_node_ids; nid++) {
            long k = node_release(node_data[nid], ranges[i].start >> PAGE_SHIFT,
                                  ranges[i].end >> PAGE_SHIFT);
            n = k < 0 ? k : n + k;
        }
        if (n < 0)
            continue; /* refused: reported and counted, the range stays held */
        if ((uint64_t)n == (ranges[i].end - ranges[i].start) >> PAGE_SHIFT)
            ranges[i].kind = MEM_USABLE;
        total += (uint64_t)n;
    }
    /* Keep the map's rule that neighbours differ in kind: merge. */
    size_t out = 0;
    for (size_t i = 0; i < nranges; i++) {
        if (out && ranges[out - 1].kind == ranges[i].kind &&
            ranges[out - 1].end == ranges[i].start)
            ranges[out - 1].end = ranges[i].end;
        else
            ranges[out++] = ranges[i];
    }
    nranges = out;
    return total;
}
