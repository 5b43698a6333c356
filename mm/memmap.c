/*
 * Map ingestion: from the firmware's memory map to a clean list of ranges.
 *
 * Invariant of the output: ranges are sorted by start, never overlap,
 * are page aligned, and two adjacent ranges never have the same kind.
 * Every byte the firmware described as anything but usable stays out of
 * MEM_USABLE, whatever other descriptors say about it: overlaps are
 * resolved in favour of the higher `enum mem_kind`, usable ranges are
 * rounded inwards to whole pages and all other kinds outwards, and page 0
 * is reserved (a NULL physical address must never name a real frame).
 * A map the function cannot clean is refused whole with an errno
 * (kernel/errno.h: the map is input from outside, never asserted on).
 *
 * The map is untrusted input (seen in the wild: overlapping entries,
 * zero-length entries, unsorted maps, descriptor sizes of 48 bytes):
 * it is walked by the descriptor size the firmware reports, never by
 * sizeof, and every sum is checked for overflow.
 *
 * Method: a sweep.  Each descriptor becomes two events (start: +1 for its
 * kind, end: -1); after sorting the events by address, walking them keeps
 * a count of open ranges per kind, and the kind of the memory between two
 * consecutive event addresses is the highest kind with a non-zero count.
 * O(n log n) time, no allocation (the caller passes the scratch buffer).
 *
 * Reference: UEFI 2.10 section 7.2 (GetMemoryMap, EFI_MEMORY_DESCRIPTOR).
 */
#include <mm/memmap.h>
#include <boot/boot_info.h>
#include <kernel/errno.h>
#include <kernel/string.h>

#define PAGE 4096ul
/* Physical addresses stop at 2^52 on x86-64 (SDM vol. 3A, 4.1.4). */
#define PHYS_LIMIT (1ul << 52)

struct memmap_event {
    uint64_t addr;
    int32_t delta;    /* +1 opens a range, -1 closes one */
    uint32_t kind;
};

_Static_assert(MEMMAP_SCRATCH_BYTES == (2 * MEMMAP_MAX_IN + 2) * sizeof(struct memmap_event),
               "MEMMAP_SCRATCH_BYTES must hold the sweep's events");

size_t memmap_scratch_size(void)
{
    return MEMMAP_SCRATCH_BYTES;
}

const char *mem_kind_name(uint32_t kind)
{
    static const char *const n[MEM_KIND_COUNT] = {
        "usable", "ACPI reclaimable", "kernel image", "initrd",
        "boot info", "boot page tables", "reserved",
    };
    return kind < MEM_KIND_COUNT ? n[kind] : "?";
}

uint32_t memmap_kind(uint32_t efi_type)
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
    default: /* runtime, NVS, MMIO, unusable, persistent, unknown types... */
        return MEM_RESERVED;
    }
}

static int ev_less(const struct memmap_event *a, const struct memmap_event *b)
{
    if (a->addr != b->addr)
        return a->addr < b->addr;
    return a->delta > b->delta; /* opens before closes: no empty gaps */
}

/* Heap sort: no recursion, no allocation, O(n log n) on any input. */
static void sift(struct memmap_event *e, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && ev_less(&e[child], &e[child + 1]))
            child++;
        if (!ev_less(&e[root], &e[child]))
            return;
        struct memmap_event t = e[root];
        e[root] = e[child];
        e[child] = t;
        root = child;
    }
}

static void sort_events(struct memmap_event *e, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift(e, i, n);
    for (size_t end = n; end > 1; end--) {
        struct memmap_event t = e[0];
        e[0] = e[end - 1];
        e[end - 1] = t;
        sift(e, 0, end - 1);
    }
}

static size_t add_range(struct memmap_event *ev, size_t n, uint64_t start,
                        uint64_t end, uint32_t kind)
{
    ev[n++] = (struct memmap_event){ start, +1, kind };
    ev[n++] = (struct memmap_event){ end, -1, kind };
    return n;
}

long memmap_build(const void *map, uint64_t size, uint64_t desc_size,
                  struct mem_range *out, size_t cap, void *scratch,
                  struct memmap_stats *stats)
{
    struct memmap_event *ev = scratch;
    struct memmap_stats st = { 0 };
    const uint8_t *bytes = map;
    size_t nev = 0;

    if (desc_size < sizeof(struct efi_mem_desc) || (!map && size))
        return -EINVAL;
    uint64_t ndesc = size / desc_size;
    st.descriptors = ndesc;

    /* Page 0 is always reserved. */
    nev = add_range(ev, nev, 0, PAGE, MEM_RESERVED);

    /* Two passes: non-usable descriptors first, so that if the map is too
     * long it is usable memory that gets left out, never a reservation. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t i = 0; i < ndesc; i++) {
            /* Copied, not cast: a stride that is not a multiple of 8 (or
             * an unaligned map) leaves the fields unaligned. */
            struct efi_mem_desc d;
            memcpy(&d, bytes + i * desc_size, sizeof(d));
            uint32_t kind = memmap_kind(d.type);
            if ((kind == MEM_USABLE) != (pass == 1))
                continue;
            uint64_t start = d.phys_start, pages = d.num_pages, end;
            if (pages == 0) {
                st.dropped_empty++;
                continue;
            }
            if (pages > PHYS_LIMIT / PAGE || start >= PHYS_LIMIT ||
                PHYS_LIMIT - start < pages * PAGE) {
                st.dropped_overflow++;
                /* Usable memory past the limit is dropped; a reservation
                 * still covers what it describes below the limit (dropping
                 * it could let an overlapping usable entry win). */
                if (kind == MEM_USABLE || start >= PHYS_LIMIT)
                    continue;
                end = PHYS_LIMIT;
            } else {
                end = start + pages * PAGE;
            }
            if (kind == MEM_USABLE) {
                start = (start + PAGE - 1) & ~(PAGE - 1);
                end &= ~(PAGE - 1);
            } else {
                start &= ~(PAGE - 1);
                end = (end + PAGE - 1) & ~(PAGE - 1);
            }
            if (start >= end) {
                st.dropped_empty++;
                continue;
            }
            if (nev + 2 > 2 * MEMMAP_MAX_IN + 2) {
                /* Usable memory left out is only lost RAM; a reservation
                 * left out is not safe: refuse the whole map. */
                if (kind != MEM_USABLE)
                    return -ENOMEM;
                st.dropped_excess++;
                continue;
            }
            nev = add_range(ev, nev, start, end, kind);
        }
    }
    sort_events(ev, nev);

    /* Sweep. */
    uint32_t open[MEM_KIND_COUNT] = { 0 };
    size_t n = 0;
    for (size_t i = 0; i < nev;) {
        uint64_t addr = ev[i].addr;
        for (; i < nev && ev[i].addr == addr; i++)
            open[ev[i].kind] += (uint32_t)ev[i].delta;
        uint32_t nopen = 0;
        for (int k = 0; k < MEM_KIND_COUNT; k++)
            nopen += open[k];
        if (nopen > 1)
            st.overlaps++; /* the interval starting here is described twice */
        /* The kind from addr up to the next event address. */
        if (i == nev)
            break;
        uint32_t kind = MEM_KIND_COUNT;
        for (int k = MEM_KIND_COUNT - 1; k >= 0; k--)
            if (open[k]) { kind = (uint32_t)k; break; }
        if (kind == MEM_KIND_COUNT)
            continue; /* a hole: nothing described it */
        uint64_t next = ev[i].addr;
        if (n && out[n - 1].end == addr && out[n - 1].kind == kind) {
            out[n - 1].end = next;
            continue;
        }
        if (n == cap)
            return -ENOMEM;
        out[n++] = (struct mem_range){ addr, next, kind };
    }
    if (stats)
        *stats = st;
    return (long)n;
}

uint64_t memmap_total(const struct mem_range *r, size_t n, uint32_t kind)
{
    uint64_t t = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].kind == kind)
            t += r[i].end - r[i].start;
    return t;
}
