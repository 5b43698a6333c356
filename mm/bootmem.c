/*
 * Boot-time bring-up of physical memory (kernel only; the parts it calls
 * are host-tested on their own).
 *
 * 1. The firmware map is cleaned (mm/memmap.c) and printed.
 * 2. mem_map, the array of struct page, is placed in the first usable
 *    range that can hold it, above 16 MiB when possible (ISA DMA memory
 *    is scarce).  Its frames are never handed to the allocator.
 * 3. The node is built and every usable frame is freed into its zone.
 *    Each phase is timed with the TSC and printed (make bench reads it).
 *
 * Invariant afterwards: every MEM_USABLE frame except mem_map's own is
 * managed by exactly one zone; every other RAM frame is counted present
 * and stays reserved; nothing the cleaned map calls reserved is touched.
 *
 * What stays reserved for now, and who releases it later: the loader's
 * hand-off (kernel image, boot info, the loader's page tables: released
 * when mm/ builds the kernel's own tables; initrd: when it is unpacked),
 * ACPI reclaimable memory (once ACPI tables are parsed, which nothing
 * does yet).
 */
#include <mm/bootmem.h>
#include <mm/zone.h>
#include <mm/gfp.h>
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/x86.h>

#define MAX_RANGES 4096

static struct mem_range ranges[MAX_RANGES];
static size_t nranges;
static uint8_t scratch[MEMMAP_SCRATCH_BYTES] __attribute__((aligned(16)));
static struct mem_node node;

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

void mem_init(const struct boot_info *bi)
{
    struct memmap_stats st;
    char sz[24];

    long n = memmap_build(phys_to_virt(bi->mmap.phys), bi->mmap.size, bi->mmap.desc_size,
                          ranges, MAX_RANGES, scratch, &st);
    if (n < 0)
        panic("mem_init: the firmware memory map cannot be used (descriptor size %lu)",
              bi->mmap.desc_size);
    nranges = (size_t)n;
    printk("Physical memory map (cleaned: %lu descriptors, %lu empty and %lu "
           "overflowing dropped, %lu overlaps resolved):\n",
           st.descriptors, st.dropped_empty,
           st.dropped_overflow, st.overlaps);
    uint64_t top = 0;
    for (size_t i = 0; i < nranges; i++) {
        format_size(sz, sizeof(sz), ranges[i].end - ranges[i].start);
        printk("  0x%012lx-0x%012lx %10s  %s\n", ranges[i].start,
               ranges[i].end, sz, mem_kind_name(ranges[i].kind));
        if (ranges[i].kind != MEM_RESERVED && ranges[i].end > top)
            top = ranges[i].end;
    }
    uint64_t max_pfn = top >> PAGE_SHIFT;
    uint64_t map_bytes = ALIGN_UP(max_pfn * sizeof(struct page), PAGE_SIZE);

    /* Place mem_map: first usable range above 16 MiB that fits, else any. */
    uint64_t map_pa = 0;
    for (int pass = 0; pass < 2 && !map_pa; pass++)
        for (size_t i = 0; i < nranges && !map_pa; i++) {
            uint64_t s = ranges[i].start;
            if (pass == 0 && s < ZONE_DMA_END)
                s = ZONE_DMA_END;
            if (ranges[i].kind == MEM_USABLE && ranges[i].end > s &&
                ranges[i].end - s >= map_bytes)
                map_pa = s;
        }
    if (!map_pa)
        panic("mem_init: no room for mem_map (%lu bytes)", map_bytes);

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
    uint64_t t_touch = rdtsc();
    for (uint64_t off = 0; off < map_bytes; off += PAGE_SIZE)
        *(volatile uint64_t *)phys_to_virt(map_pa + off) = 0;

    uint64_t t0 = rdtsc();
    node_init(&node, phys_to_virt(map_pa), max_pfn, direct_map, mem_log);
    uint64_t t1 = rdtsc();
    uint64_t usable = 0;
    for (size_t i = 0; i < nranges; i++) {
        if (ranges[i].kind != MEM_USABLE) {
            if (ranges[i].kind != MEM_RESERVED) /* RAM held back for now */
                node_add_present(&node, ranges[i].start >> PAGE_SHIFT,
                                    ranges[i].end >> PAGE_SHIFT);
            continue;
        }
        uint64_t s = ranges[i].start >> PAGE_SHIFT, e = ranges[i].end >> PAGE_SHIFT;
        uint64_t ms = map_pa >> PAGE_SHIFT, me = (map_pa + map_bytes) >> PAGE_SHIFT;
        usable += e - s;
        if (me <= s || ms >= e) {
            node_add_free(&node, s, e);
        } else { /* the range holding mem_map: around it */
            node_add_present(&node, ms, me);
            if (s < ms)
                node_add_free(&node, s, ms);
            if (me < e)
                node_add_free(&node, me, e);
        }
    }
    uint64_t t2 = rdtsc();
    node_finish(&node);
    uint64_t t3 = rdtsc();
    uint64_t ticks = t3 - t0;
    uint64_t gib_x100 = usable * PAGE_SIZE * 100 >> 30;
    printk("mem_init: descriptors and free lists built in %lu TSC ticks for %lu.%02lu GiB "
           "(%lu ticks per GiB)\n", ticks,
           (gib_x100 / 100), (gib_x100 % 100),
           (gib_x100 ? ticks * 100 / gib_x100 : 0));
    /* Descriptors are per frame below max_pfn (holes included), free lists
     * per usable frame: make bench divides each by its own count. */
    printk("mem_init: phases in TSC ticks: first touch of mem_map %lu (%lu KiB, not "
           "counted above), descriptors %lu (%lu frames), free lists %lu (%lu frames), "
           "finish %lu\n",
           (t0 - t_touch), (map_bytes >> 10),
           (t1 - t0), max_pfn,
           (t2 - t1), usable,
           (t3 - t2));

    format_size(sz, sizeof(sz), map_bytes);
    uint64_t hundredths = usable ? map_bytes * 10000 / (usable * PAGE_SIZE) : 0;
    printk("mem_map: %lu frame descriptors of %zu bytes = %s at phys %#lx "
           "(%lu.%02lu%% of usable RAM)\n", max_pfn,
           sizeof(struct page), sz, map_pa,
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
    char why[200];
    if (node_check(why, sizeof(why)))
        panic("mem_init: allocator inconsistent after boot: %s", why);
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
        uint64_t n = node_release(&node, ranges[i].start >> PAGE_SHIFT,
                                     ranges[i].end >> PAGE_SHIFT);
        if (n == (ranges[i].end - ranges[i].start) >> PAGE_SHIFT)
            ranges[i].kind = MEM_USABLE;
        total += n;
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
