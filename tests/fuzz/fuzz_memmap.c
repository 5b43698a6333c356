/*
 * libFuzzer target: memmap_build (mm/memmap.c) on arbitrary bytes.
 *
 * Byte 0 picks the mode, byte 1 the descriptor size:
 *   raw (byte 0 odd): the rest of the input is the map, as the firmware
 *     would hand it over, walked with desc_size = byte 1 (0..255; below 40
 *     must be refused);
 *   structured (byte 0 even): each 8 input bytes make one descriptor of
 *     plausible shape (known types, addresses mostly below 1 GiB or just
 *     above 4 GiB, unaligned starts, and now and then wrapping or past
 *     2^52), laid out at a stride of 40..63 bytes with garbage in between,
 *     so that overlaps and rounding come up far more often than in raw
 *     bytes.
 * The map is copied into a buffer of exactly its size (ASan catches reads
 * past it).  Checks: the output invariants and the independent model of
 * tests/host/mm_host.c over the whole address space, the statistics, the
 * cap (2 * n + 1 always enough, the exact count enough, one less refused)
 * and that the same map gives the same output twice.  Then mem_init's
 * placement (mm/mem_place.c) runs on the cleaned map, with the first
 * descriptors as the loader's held ranges: it must succeed or say -ENOMEM,
 * and its plan must keep mem_map and every free frame off the held ranges.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_host.h"
#include <kernel/errno.h>
#include <boot/boot_info.h>
#include <mm/mem_place.h>
#include <mm/memmap.h>

#define FUZZ_NAME "fuzz_memmap"
#include "fuzz_input.h"

static uint32_t type_of(uint8_t b)
{
    static const uint32_t t[] = {
        BOOT_MEM_KERNEL, BOOT_MEM_INITRD, BOOT_MEM_BOOTINFO, BOOT_MEM_PAGETABLE,
        0x80000004, 0xffffffff, EFI_CONVENTIONAL_MEMORY, EFI_CONVENTIONAL_MEMORY,
    };
    b %= 24;
    return b < 16 ? b : t[b - 16];
}

static void decode(const uint8_t *b, struct efi_mem_desc *d)
{
    uint64_t start = ((uint64_t)b[1] | (uint64_t)b[2] << 8 | (uint64_t)(b[3] & 3) << 16) * 4096;
    if (b[3] & 4)
        start += b[4] * 16ul; /* unaligned */
    if (b[3] & 8)
        start += 4ul << 30;
    uint64_t pages = (uint64_t)b[5] | (uint64_t)(b[6] & 0x3f) << 8;
    if (b[7] >= 240) { /* hostile */
        switch (b[7] & 3) {
        case 0: pages = ~0ul >> (b[6] >> 6); break;
        case 1: start = ~0ul - b[4] * 4096ul; break;
        case 2: start = (1ul << 52) - b[5] * 4096ul; break;
        default: pages = (1ul << 40) + b[4]; break;
        }
    }
    memset(d, 0, sizeof(*d));
    d->type = type_of(b[0]);
    d->phys_start = start;
    d->virt_start = 0x5555555555555555ul;
    d->num_pages = pages;
    d->attribute = b[7];
}

static void *scratch;

static bool overlaps(uint64_t s1, uint64_t e1, uint64_t s2, uint64_t e2)
{
    return s1 < e1 && s2 < e2 && s1 < e2 && s2 < e1;
}

/* The held range h in whole pages (an empty one holds nothing). */
static void held_pages(const struct mem_range *h, uint64_t *s, uint64_t *e)
{
    *s = h->start & ~4095ul;
    *e = h->end <= h->start  ? *s
         : h->end > ~0ul - 4095 ? ~0ul & ~4095ul
                                : (h->end + 4095) & ~4095ul;
}

static void check_place(const struct mem_range *r, size_t n, const uint8_t *map,
                        uint64_t ndesc, uint64_t desc_size)
{
    struct mem_range held[4];
    size_t nheld = 0;
    for (uint64_t i = 0; i < ndesc && nheld < 4; i++) {
        struct efi_mem_desc d;
        memcpy(&d, map + i * desc_size, sizeof(d));
        uint64_t len = d.num_pages > (~0ul - d.phys_start) / 4096 ? ~0ul - d.phys_start
                                                                   : d.num_pages * 4096;
        held[nheld++] = (struct mem_range){ d.phys_start, d.phys_start + len, MEM_BOOT_KERNEL };
    }
    size_t cap = MEM_PLACE_PIECES(n, nheld);
    struct mem_piece *pieces = malloc(cap * sizeof(*pieces));
    struct mem_plan plan;
    int rc = mem_place(r, n, held, nheld, pieces, cap, &plan);
    if (rc != 0 && rc != -ENOMEM)
        DIE("mem_place returned %d", rc);
    uint64_t ms = plan.map_pa, me = plan.map_pa + plan.map_bytes, ram = 0, covered = 0;
    bool inside = false;
    for (size_t i = 0; i < n; i++) {
        ram += r[i].kind != MEM_RESERVED ? r[i].end - r[i].start : 0;
        inside = inside || (r[i].kind == MEM_USABLE && r[i].start <= ms && me <= r[i].end);
    }
    if (rc == 0 && !inside)
        DIE("mem_map [%#lx, %#lx) outside every usable range", ms, me);
    for (size_t h = 0; rc == 0 && h < nheld; h++) {
        uint64_t hs, he;
        held_pages(&held[h], &hs, &he);
        if (overlaps(ms, me, hs, he))
            DIE("mem_map [%#lx, %#lx) overlaps held [%#lx, %#lx)", ms, me, hs, he);
        for (size_t k = 0; k < plan.npieces; k++)
            if (plan.pieces[k].free && overlaps(plan.pieces[k].start_pfn << 12,
                                                plan.pieces[k].end_pfn << 12, hs, he))
                DIE("free piece %zu overlaps held [%#lx, %#lx)", k, hs, he);
    }
    for (size_t k = 0; k < plan.npieces; k++) {
        const struct mem_piece *p = &plan.pieces[k];
        if (p->start_pfn >= p->end_pfn || (k && plan.pieces[k - 1].end_pfn > p->start_pfn))
            DIE("piece %zu [%#lx, %#lx) empty or out of order", k, p->start_pfn, p->end_pfn);
        if (p->free && overlaps(p->start_pfn << 12, p->end_pfn << 12, ms, me))
            DIE("free piece %zu overlaps mem_map", k);
        covered += (p->end_pfn - p->start_pfn) << 12;
    }
    if (rc == 0 && covered != ram)
        DIE("pieces cover %#lx bytes, the map has %#lx of RAM", covered, ram);
    free(pieces);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t mode = data[0], ds = data[1];
    data += 2;
    size -= 2;
    if (!scratch)
        scratch = malloc(memmap_scratch_size());

    uint64_t desc_size, map_size;
    uint8_t *map;
    if (mode & 1) {
        desc_size = ds;
        map_size = size;
        map = malloc(size ? size : 1);
        memcpy(map, data, size);
    } else {
        desc_size = 40 + ds % 24;
        size_t n = size / 8;
        map_size = n * desc_size;
        map = malloc(map_size ? map_size : 1);
        memset(map, 0xee, map_size);
        for (size_t i = 0; i < n; i++) {
            struct efi_mem_desc d;
            decode(data + 8 * i, &d);
            memcpy(map + i * desc_size, &d, sizeof(d));
        }
    }

    uint64_t ndesc = desc_size ? map_size / desc_size : 0;
    size_t cap = 2 * ndesc + 1;
    struct mem_range *out = malloc(cap * sizeof(*out)), *again = malloc(cap * sizeof(*out));
    struct memmap_stats st;
    long n = memmap_build(map, map_size, desc_size, out, cap, scratch, &st);
    if (desc_size < sizeof(struct efi_mem_desc)) {
        if (n != -EINVAL)
            DIE("desc_size %lu not refused with -EINVAL (%ld)", desc_size, n);
        goto done;
    }
    if (ndesc > MEMMAP_MAX_IN)
        goto done; /* not reachable with libFuzzer's input sizes */
    if (n < 1)
        DIE("map of %lu descriptors refused with cap %zu", ndesc, cap);

    char why[256];
    if (memmap_check_output(out, (size_t)n, why, sizeof(why)))
        DIE("%s", why);
    if (memmap_check_model(map, map_size, desc_size, out, (size_t)n, why, sizeof(why)))
        DIE("%s", why);
    if (st.descriptors != ndesc || st.dropped_excess ||
        st.dropped_empty + st.dropped_overflow > ndesc)
        DIE("statistics: %lu descriptors, %lu empty, %lu overflow, %lu excess",
            st.descriptors, st.dropped_empty,
            st.dropped_overflow, st.dropped_excess);

    /* The exact count is enough and gives the same ranges; one less is not. */
    long m = memmap_build(map, map_size, desc_size, again, (size_t)n, scratch, NULL);
    for (long i = 0; m == n && i < n; i++)
        if (out[i].start != again[i].start || out[i].end != again[i].end ||
            out[i].kind != again[i].kind)
            m = -2;
    if (m != n)
        DIE("second build with cap %ld gave %ld ranges or others", n, m);
    if (memmap_build(map, map_size, desc_size, again, (size_t)n - 1, scratch, NULL) != -ENOMEM)
        DIE("cap %ld not refused with -ENOMEM for %ld ranges", n - 1, n);
    uint64_t total = 0;
    for (uint32_t k = 0; k < MEM_KIND_COUNT; k++)
        total += memmap_total(out, (size_t)n, k);
    uint64_t sum = 0;
    for (long i = 0; i < n; i++)
        sum += out[i].end - out[i].start;
    if (total != sum)
        DIE("memmap_total over all kinds %#lx, ranges add up to %#lx",
            total, sum);
    check_place(out, (size_t)n, map, ndesc, desc_size);
done:
    free(out);
    free(again);
    free(map);
    return 0;
}
