/*
 * Host tests of map ingestion (mm/memmap.c) with hostile UEFI maps.
 *
 * Every map built here is checked three ways: the exact ranges a case
 * expects, the output invariants (memmap_check_output) and an independent
 * model of the rules over the whole address space (memmap_check_model,
 * tests/host/mm_host.c).  The randomized case adds a third, brute-force
 * model: every page of the first 64 MiB painted descriptor by descriptor.
 * Maps are laid out in buffers of exactly their size, so ASan catches a
 * read past the end; the bytes between descriptors are garbage.
 */
#include <stdlib.h>

#include "htest.h"
#include "mm_host.h"
#include <boot/boot_info.h>
#include <kernel/errno.h>
#include <mm/memmap.h>

#define KiB 1024ul
#define MiB (1ul << 20)
#define GiB (1ul << 30)
#define PG 4096ul
#define LIMIT (1ul << 52)

/* A descriptor as a test writes it. */
struct d {
    uint32_t type;
    uint64_t start, pages;
};

#define OUT_CAP 20000
static struct mem_range out[OUT_CAP];
static long nout;
static struct memmap_stats st;
static void *scratch;
static uint8_t *mapbuf;
static uint64_t mapsize;

/* Lay out n descriptors `stride` bytes apart at `offset` bytes into a fresh
 * buffer of exactly offset + n * stride bytes. */
static const uint8_t *lay_out(const struct d *ds, size_t n, uint64_t stride, size_t offset)
{
    free(mapbuf);
    mapsize = n * stride;
    mapbuf = malloc(offset + mapsize + 1);
    memset(mapbuf, 0xee, offset + mapsize);
    for (size_t i = 0; i < n; i++) {
        struct efi_mem_desc e = { ds[i].type, 0xdeadbeef, ds[i].start, 0x1234567800000000ul,
                                  ds[i].pages, EFI_MA_WB | (i & 1 ? EFI_MA_RUNTIME : 0) };
        memcpy(mapbuf + offset + i * stride, &e, sizeof(e));
    }
    return mapbuf + offset;
}

/* Build with the given stride and cap; check invariants and the model. */
static void build_with(const struct d *ds, size_t n, uint64_t stride, size_t cap)
{
    if (!scratch)
        scratch = malloc(memmap_scratch_size());
    const uint8_t *map = lay_out(ds, n, stride, 0);
    memset(&st, 0xa5, sizeof(st));
    memset(out, 0xa5, sizeof(out));
    nout = memmap_build(map, mapsize, stride, out, cap, scratch, &st);
    HT_ASSERT(nout >= 0, "memmap_build refused the map (%zu descriptors)", n);
    HT_EQ_U(st.descriptors, n);
    char why[256];
    HT_ASSERT(memmap_check_output(out, (size_t)nout, why, sizeof(why)) == 0, "%s", why);
    if (n <= MEMMAP_MAX_IN)
        HT_ASSERT(memmap_check_model(map, mapsize, stride, out, (size_t)nout, why,
                                     sizeof(why)) == 0, "%s", why);
}

static void build(const struct d *ds, size_t n)
{
    HT_TRY(build_with(ds, n, 48, OUT_CAP));
}

#define BUILD(arr) HT_TRY(build(arr, HT_COUNT(arr)))

/* The output must be exactly these ranges. */
static void expect(const struct mem_range *want, size_t n)
{
    for (size_t i = 0; i < n && i < (size_t)nout; i++)
        HT_ASSERT(out[i].start == want[i].start && out[i].end == want[i].end &&
                      out[i].kind == want[i].kind,
                  "range %zu is [%#lx, %#lx) %s, expected [%#lx, %#lx) %s", i,
                  out[i].start, out[i].end,
                  mem_kind_name(out[i].kind), want[i].start,
                  want[i].end, mem_kind_name(want[i].kind));
    HT_ASSERT((size_t)nout == n, "%ld ranges, expected %zu", nout, n);
}

#define EXPECT(...)                                                         \
    do {                                                                    \
        const struct mem_range w_[] = { __VA_ARGS__ };                      \
        HT_TRY(expect(w_, HT_COUNT(w_)));                                   \
    } while (0)

#define R(s, e, k) { (s), (e), (k) }
#define U MEM_USABLE
#define X MEM_RESERVED

/* Kind of the byte at addr in the output, -1 in a hole. */
static int kind_at(uint64_t addr)
{
    for (long i = 0; i < nout; i++)
        if (addr >= out[i].start && addr < out[i].end)
            return (int)out[i].kind;
    return -1;
}

/* ---- cases ------------------------------------------------------------------------ */

static void t_empty_map(void)
{
    if (!scratch)
        scratch = malloc(memmap_scratch_size());
    nout = memmap_build(NULL, 0, 48, out, OUT_CAP, scratch, &st);
    EXPECT(R(0, PG, X));
    HT_EQ_U(st.descriptors, 0);
    /* A size smaller than one descriptor is no descriptor at all. */
    uint8_t junk[47];
    memset(junk, 0x11, sizeof(junk));
    nout = memmap_build(junk, sizeof(junk), 48, out, OUT_CAP, scratch, &st);
    EXPECT(R(0, PG, X));
    /* A NULL map with a size is refused. */
    HT_EQ_U(memmap_build(NULL, 48, 48, out, OUT_CAP, scratch, &st), -EINVAL);
}

/* A map shaped like OVMF's, in order. */
static void t_typical(void)
{
    const struct d m[] = {
        { EFI_BOOT_SERVICES_CODE, 0, 1 },
        { EFI_CONVENTIONAL_MEMORY, PG, 159 },
        { EFI_RESERVED_MEMORY, 0xa0000, 96 },
        { EFI_CONVENTIONAL_MEMORY, 1 * MiB, 7 * 256 },
        { EFI_ACPI_MEMORY_NVS, 8 * MiB, 8 },
        { EFI_CONVENTIONAL_MEMORY, 8 * MiB + 8 * PG, 100 },
        { BOOT_MEM_KERNEL, 8 * MiB + 108 * PG, 50 },
        { EFI_LOADER_DATA, 8 * MiB + 158 * PG, 10 },
        { BOOT_MEM_BOOTINFO, 8 * MiB + 168 * PG, 2 },
        { BOOT_MEM_PAGETABLE, 8 * MiB + 170 * PG, 6 },
        { BOOT_MEM_INITRD, 8 * MiB + 176 * PG, 80 },
        { EFI_BOOT_SERVICES_DATA, 8 * MiB + 256 * PG, 256 },
        { EFI_ACPI_RECLAIM_MEMORY, 10 * MiB, 4 },
        { EFI_RUNTIME_SERVICES_DATA, 10 * MiB + 4 * PG, 12 },
        { EFI_CONVENTIONAL_MEMORY, 10 * MiB + 16 * PG, 118 * 256 - 16 },
        { EFI_MEMORY_MAPPED_IO, 0xffc00000, 1024 },
    };
    BUILD(m);
    EXPECT(R(0, PG, X), R(PG, 0xa0000, U), R(0xa0000, 0x100000, X), R(1 * MiB, 8 * MiB, U),
           R(8 * MiB, 8 * MiB + 8 * PG, X), R(8 * MiB + 8 * PG, 8 * MiB + 108 * PG, U),
           R(8 * MiB + 108 * PG, 8 * MiB + 158 * PG, MEM_BOOT_KERNEL),
           R(8 * MiB + 158 * PG, 8 * MiB + 168 * PG, U),
           R(8 * MiB + 168 * PG, 8 * MiB + 170 * PG, MEM_BOOT_INFO),
           R(8 * MiB + 170 * PG, 8 * MiB + 176 * PG, MEM_BOOT_TABLES),
           R(8 * MiB + 176 * PG, 8 * MiB + 256 * PG, MEM_BOOT_INITRD),
           R(8 * MiB + 256 * PG, 10 * MiB, U), R(10 * MiB, 10 * MiB + 4 * PG, MEM_ACPI_RECLAIM),
           R(10 * MiB + 4 * PG, 10 * MiB + 16 * PG, X), R(10 * MiB + 16 * PG, 128 * MiB, U),
           R(0xffc00000, 0x100000000, X));
    HT_EQ_U(memmap_total(out, (size_t)nout, U),
            (159 + 7 * 256 + 100 + 10 + 256 + 118 * 256 - 16) * PG);
    HT_EQ_U(st.dropped_empty + st.dropped_overflow + st.dropped_excess, 0);
}

/* Every type maps to its kind; types the OS does not know are reserved. */
static void t_every_type(void)
{
    static const struct { uint32_t type; uint32_t kind; } k[] = {
        { EFI_RESERVED_MEMORY, X }, { EFI_LOADER_CODE, U }, { EFI_LOADER_DATA, U },
        { EFI_BOOT_SERVICES_CODE, U }, { EFI_BOOT_SERVICES_DATA, U },
        { EFI_RUNTIME_SERVICES_CODE, X }, { EFI_RUNTIME_SERVICES_DATA, X },
        { EFI_CONVENTIONAL_MEMORY, U }, { EFI_UNUSABLE_MEMORY, X },
        { EFI_ACPI_RECLAIM_MEMORY, MEM_ACPI_RECLAIM }, { EFI_ACPI_MEMORY_NVS, X },
        { EFI_MEMORY_MAPPED_IO, X }, { EFI_MEMORY_MAPPED_IO_PORT_SPACE, X },
        { EFI_PAL_CODE, X }, { EFI_PERSISTENT_MEMORY, X }, { EFI_UNACCEPTED_MEMORY, X },
        { 16, X }, { 0x7fffffff, X }, { BOOT_MEM_KERNEL, MEM_BOOT_KERNEL },
        { BOOT_MEM_INITRD, MEM_BOOT_INITRD }, { BOOT_MEM_BOOTINFO, MEM_BOOT_INFO },
        { BOOT_MEM_PAGETABLE, MEM_BOOT_TABLES }, { 0x80000004, X }, { 0xffffffff, X },
    };
    struct d m[HT_COUNT(k)];
    for (size_t i = 0; i < HT_COUNT(k); i++)
        m[i] = (struct d){ k[i].type, (2 * i + 2) * MiB, 256 };
    BUILD(m);
    for (size_t i = 0; i < HT_COUNT(k); i++)
        HT_ASSERT(kind_at((2 * i + 2) * MiB) == (int)k[i].kind &&
                      kind_at((2 * i + 3) * MiB - 1) == (int)k[i].kind,
                  "type %#x is %d, expected %s", k[i].type, kind_at((2 * i + 2) * MiB),
                  mem_kind_name(k[i].kind));
    HT_EQ_STR(mem_kind_name(MEM_KIND_COUNT), "?");
    HT_EQ_STR(mem_kind_name(MEM_USABLE), "usable");
}

static void t_unsorted(void)
{
    struct d m[] = {
        { EFI_CONVENTIONAL_MEMORY, 64 * MiB, 1024 }, { EFI_RESERVED_MEMORY, 0xa0000, 96 },
        { EFI_CONVENTIONAL_MEMORY, PG, 159 }, { EFI_ACPI_MEMORY_NVS, 60 * MiB, 16 },
        { EFI_BOOT_SERVICES_DATA, 1 * MiB, 256 * 59 }, { EFI_LOADER_CODE, 68 * MiB, 4 },
    };
    BUILD(m);
    struct mem_range first[16];
    long n = nout;
    memcpy(first, out, sizeof(first));
    /* Reversed and rotated: the same output. */
    for (size_t rot = 0; rot < HT_COUNT(m); rot++) {
        struct d p[HT_COUNT(m)];
        for (size_t i = 0; i < HT_COUNT(m); i++)
            p[i] = m[(HT_COUNT(m) - 1 - i + rot) % HT_COUNT(m)];
        BUILD(p);
        HT_TRY(expect(first, (size_t)n));
    }
    EXPECT(R(0, PG, X), R(PG, 0xa0000, U), R(0xa0000, 0x100000, X), R(1 * MiB, 60 * MiB, U),
           R(60 * MiB, 60 * MiB + 16 * PG, X), R(64 * MiB, 68 * MiB + 4 * PG, U));
}

static void t_reserved_wins(void)
{
    /* Usable first, then a reservation inside it: split in three. */
    const struct d a[] = { { EFI_CONVENTIONAL_MEMORY, 1 * MiB, 256 },
                           { EFI_RESERVED_MEMORY, 1 * MiB + 16 * PG, 4 } };
    BUILD(a);
    EXPECT(R(0, PG, X), R(1 * MiB, 1 * MiB + 16 * PG, U),
           R(1 * MiB + 16 * PG, 1 * MiB + 20 * PG, X), R(1 * MiB + 20 * PG, 2 * MiB, U));
    HT_ASSERT(st.overlaps > 0, "overlap not counted");
    /* The other order. */
    const struct d b[] = { { EFI_RESERVED_MEMORY, 1 * MiB + 16 * PG, 4 },
                           { EFI_CONVENTIONAL_MEMORY, 1 * MiB, 256 } };
    BUILD(b);
    EXPECT(R(0, PG, X), R(1 * MiB, 1 * MiB + 16 * PG, U),
           R(1 * MiB + 16 * PG, 1 * MiB + 20 * PG, X), R(1 * MiB + 20 * PG, 2 * MiB, U));
    /* Partial overlaps at both ends, and a reservation covering usable whole. */
    const struct d c[] = { { EFI_CONVENTIONAL_MEMORY, 4 * MiB, 256 },
                           { EFI_MEMORY_MAPPED_IO, 3 * MiB, 300 },
                           { EFI_CONVENTIONAL_MEMORY, 8 * MiB, 256 },
                           { EFI_ACPI_MEMORY_NVS, 9 * MiB - 8 * PG, 16 },
                           { EFI_BOOT_SERVICES_DATA, 12 * MiB + 4 * PG, 8 },
                           { EFI_UNUSABLE_MEMORY, 12 * MiB, 256 } };
    BUILD(c);
    EXPECT(R(0, PG, X), R(3 * MiB, 4 * MiB + 44 * PG, X), R(4 * MiB + 44 * PG, 5 * MiB, U),
           R(8 * MiB, 9 * MiB - 8 * PG, U), R(9 * MiB - 8 * PG, 9 * MiB + 8 * PG, X),
           R(12 * MiB, 13 * MiB, X));
    HT_EQ_U(memmap_total(out, (size_t)nout, U), (212 + 248) * PG);
    /* Two identical descriptors of different kinds, both orders. */
    const struct d d1[] = { { EFI_CONVENTIONAL_MEMORY, 2 * MiB, 16 },
                            { EFI_RESERVED_MEMORY, 2 * MiB, 16 } };
    BUILD(d1);
    EXPECT(R(0, PG, X), R(2 * MiB, 2 * MiB + 16 * PG, X));
    const struct d d2[] = { { EFI_RESERVED_MEMORY, 2 * MiB, 16 },
                            { EFI_CONVENTIONAL_MEMORY, 2 * MiB, 16 } };
    BUILD(d2);
    EXPECT(R(0, PG, X), R(2 * MiB, 2 * MiB + 16 * PG, X));
}

static void t_usable_vs_runtime(void)
{
    const struct d m[] = { { EFI_RUNTIME_SERVICES_CODE, 0x7f000000, 64 },
                           { EFI_CONVENTIONAL_MEMORY, 0x7e000000, 8192 },
                           { EFI_RUNTIME_SERVICES_DATA, 0x7ffff000, 1 },
                           { EFI_BOOT_SERVICES_CODE, 0x7f020000, 32 } };
    BUILD(m);
    EXPECT(R(0, PG, X), R(0x7e000000, 0x7f000000, U), R(0x7f000000, 0x7f040000, X),
           R(0x7f040000, 0x7ffff000, U), R(0x7ffff000, 0x80000000, X));
}

/* Overlapping hand-off and ACPI kinds: the higher kind wins, page by page. */
static void t_kind_precedence(void)
{
    const struct d m[] = { { EFI_ACPI_RECLAIM_MEMORY, 1 * MiB, 64 },
                           { BOOT_MEM_KERNEL, 1 * MiB + 16 * PG, 32 },
                           { BOOT_MEM_PAGETABLE, 1 * MiB + 24 * PG, 4 },
                           { EFI_CONVENTIONAL_MEMORY, 1 * MiB, 128 },
                           { BOOT_MEM_INITRD, 1 * MiB + 40 * PG, 40 } };
    BUILD(m);
    EXPECT(R(0, PG, X), R(1 * MiB, 1 * MiB + 16 * PG, MEM_ACPI_RECLAIM),
           R(1 * MiB + 16 * PG, 1 * MiB + 24 * PG, MEM_BOOT_KERNEL),
           R(1 * MiB + 24 * PG, 1 * MiB + 28 * PG, MEM_BOOT_TABLES),
           R(1 * MiB + 28 * PG, 1 * MiB + 40 * PG, MEM_BOOT_KERNEL),
           R(1 * MiB + 40 * PG, 1 * MiB + 80 * PG, MEM_BOOT_INITRD),
           R(1 * MiB + 80 * PG, 1 * MiB + 128 * PG, U));
}

static void t_zero_length(void)
{
    const struct d m[] = { { EFI_CONVENTIONAL_MEMORY, 1 * MiB, 256 },
                           { EFI_RESERVED_MEMORY, 1 * MiB + 8 * PG, 0 },
                           { EFI_CONVENTIONAL_MEMORY, 64 * MiB, 0 },
                           { EFI_MEMORY_MAPPED_IO, 0, 0 },
                           { EFI_RESERVED_MEMORY, ~0ul, 0 } };
    BUILD(m);
    EXPECT(R(0, PG, X), R(1 * MiB, 2 * MiB, U));
    HT_EQ_U(st.dropped_empty, 4);
    HT_EQ_U(st.dropped_overflow, 0);
}

static void t_overflow(void)
{
    const struct d m[] = {
        { EFI_CONVENTIONAL_MEMORY, ~0ul - 5 * PG + 1, 10 },     /* wraps 2^64 */
        { EFI_CONVENTIONAL_MEMORY, 1 * MiB, 1ul << 52 },        /* pages * 4096 wraps */
        { EFI_CONVENTIONAL_MEMORY, 2 * MiB, ~0ul },
        { EFI_CONVENTIONAL_MEMORY, LIMIT, 16 },                   /* starts at 2^52 */
        { EFI_CONVENTIONAL_MEMORY, LIMIT - 8 * PG, 16 },          /* ends past 2^52 */
        { EFI_CONVENTIONAL_MEMORY, LIMIT - 32 * PG, 16 },         /* ends below: kept */
        { EFI_CONVENTIONAL_MEMORY, LIMIT - 16 * PG, 16 },         /* ends at 2^52: kept */
        { EFI_MEMORY_MAPPED_IO, ~0ul - PG + 1, 1 },              /* above 2^52: dropped */
        { EFI_CONVENTIONAL_MEMORY, 16 * MiB, 256 },
    };
    BUILD(m);
    EXPECT(R(0, PG, X), R(16 * MiB, 17 * MiB, U), R(LIMIT - 32 * PG, LIMIT, U));
    HT_EQ_U(st.dropped_overflow, 6);
    HT_EQ_U(st.dropped_empty, 0);

    /* A reservation running past 2^52 still reserves what it covers below
     * it, and wins over usable memory there. */
    const struct d r[] = { { EFI_CONVENTIONAL_MEMORY, 1 * GiB, 262144 },
                           { EFI_RUNTIME_SERVICES_DATA, 1 * GiB + 512 * MiB, ~0ul / 2 },
                           { EFI_CONVENTIONAL_MEMORY, 8 * GiB, 16 } };
    BUILD(r);
    EXPECT(R(0, PG, X), R(1 * GiB, 1 * GiB + 512 * MiB, U), R(1 * GiB + 512 * MiB, LIMIT, X));
    HT_ASSERT(kind_at(1 * GiB + 768 * MiB) == X && kind_at(8 * GiB) == X,
              "usable memory under an overflowing reservation");
    HT_EQ_U(st.dropped_overflow, 1);
    /* ... and one starting at 3 MiB covers everything from there. */
    const struct d s[] = { { EFI_CONVENTIONAL_MEMORY, 1 * MiB, 1024 },
                           { EFI_ACPI_MEMORY_NVS, 3 * MiB, 1ul << 53 } };
    BUILD(s);
    EXPECT(R(0, PG, X), R(1 * MiB, 3 * MiB, U), R(3 * MiB, LIMIT, X));
}

static void t_unaligned(void)
{
    /* Usable: rounded inwards. */
    const struct d a[] = { { EFI_CONVENTIONAL_MEMORY, 1 * MiB + 0x800, 3 } };
    BUILD(a);
    EXPECT(R(0, PG, X), R(1 * MiB + PG, 1 * MiB + 3 * PG, U));
    /* Usable inside one page after rounding: nothing. */
    const struct d b[] = { { EFI_CONVENTIONAL_MEMORY, 1 * MiB + 1, 1 } };
    BUILD(b);
    EXPECT(R(0, PG, X));
    HT_EQ_U(st.dropped_empty, 1);
    /* Reserved: rounded outwards. */
    const struct d c[] = { { EFI_RESERVED_MEMORY, 1 * MiB + 0x800, 3 } };
    BUILD(c);
    EXPECT(R(0, PG, X), R(1 * MiB, 1 * MiB + 4 * PG, X));
    /* A reservation sharing a page with usable memory takes the page. */
    const struct d d[] = { { EFI_CONVENTIONAL_MEMORY, 1 * MiB, 256 },
                           { EFI_ACPI_MEMORY_NVS, 1 * MiB + 10 * PG + 0xff0, 1 },
                           { BOOT_MEM_KERNEL, 1 * MiB + 100 * PG + 1, 1 } };
    BUILD(d);
    EXPECT(R(0, PG, X), R(1 * MiB, 1 * MiB + 10 * PG, U),
           R(1 * MiB + 10 * PG, 1 * MiB + 12 * PG, X), R(1 * MiB + 12 * PG, 1 * MiB + 100 * PG, U),
           R(1 * MiB + 100 * PG, 1 * MiB + 102 * PG, MEM_BOOT_KERNEL),
           R(1 * MiB + 102 * PG, 2 * MiB, U));
    /* Two unaligned usable pieces meeting mid-page leave that page out. */
    const struct d e[] = { { EFI_CONVENTIONAL_MEMORY, 1 * MiB, 2 },
                           { EFI_LOADER_DATA, 1 * MiB + 2 * PG + 0x800, 2 },
                           { EFI_CONVENTIONAL_MEMORY, 1 * MiB + 0x800, 2 } };
    BUILD(e);
    EXPECT(R(0, PG, X), R(1 * MiB, 1 * MiB + 2 * PG, U), R(1 * MiB + 3 * PG, 1 * MiB + 4 * PG, U));
}

static void t_page0(void)
{
    const struct d a[] = { { EFI_CONVENTIONAL_MEMORY, 0, 160 } };
    BUILD(a);
    EXPECT(R(0, PG, X), R(PG, 160 * PG, U));
    const struct d b[] = { { EFI_LOADER_DATA, 0, 1 }, { EFI_BOOT_SERVICES_CODE, 0, 2 } };
    BUILD(b);
    EXPECT(R(0, PG, X), R(PG, 2 * PG, U));
    const struct d c[] = { { BOOT_MEM_KERNEL, 0, 4 } };
    BUILD(c);
    EXPECT(R(0, PG, X), R(PG, 4 * PG, MEM_BOOT_KERNEL));
    const struct d e[] = { { EFI_CONVENTIONAL_MEMORY, 100, 1 } };  /* page 0, unaligned */
    BUILD(e);
    EXPECT(R(0, PG, X));
}

static void t_strides(void)
{
    const struct d m[] = { { EFI_CONVENTIONAL_MEMORY, PG, 159 },
                           { EFI_RESERVED_MEMORY, 0xa0000, 96 },
                           { EFI_CONVENTIONAL_MEMORY, 1 * MiB, 256 },
                           { EFI_RUNTIME_SERVICES_CODE, 2 * MiB, 4 } };
    const uint64_t strides[] = { 40, 48, 41, 44, 56, 64, 100, 4096 };
    for (size_t s = 0; s < HT_COUNT(strides); s++) {
        HT_TRY(build_with(m, HT_COUNT(m), strides[s], OUT_CAP));
        EXPECT(R(0, PG, X), R(PG, 0xa0000, U), R(0xa0000, 1 * MiB, X),
               R(1 * MiB, 2 * MiB, U), R(2 * MiB, 2 * MiB + 4 * PG, X));
    }
    /* A map at an odd address (with an odd stride its fields are all unaligned). */
    const uint8_t *map = lay_out(m, HT_COUNT(m), 45, 3);
    nout = memmap_build(map, mapsize, 45, out, OUT_CAP, scratch, &st);
    EXPECT(R(0, PG, X), R(PG, 0xa0000, U), R(0xa0000, 1 * MiB, X), R(1 * MiB, 2 * MiB, U),
           R(2 * MiB, 2 * MiB + 4 * PG, X));
    /* A trailing partial descriptor is ignored. */
    map = lay_out(m, HT_COUNT(m), 48, 0);
    nout = memmap_build(map, mapsize - 1, 48, out, OUT_CAP, scratch, &st);
    HT_EQ_U(st.descriptors, HT_COUNT(m) - 1);
    EXPECT(R(0, PG, X), R(PG, 0xa0000, U), R(0xa0000, 1 * MiB, X), R(1 * MiB, 2 * MiB, U));
    /* Descriptor sizes below the UEFI struct are refused. */
    const uint64_t bad[] = { 0, 1, 8, 24, 39 };
    for (size_t s = 0; s < HT_COUNT(bad); s++)
        HT_ASSERT(memmap_build(map, mapsize, bad[s], out, OUT_CAP, scratch, &st) == -EINVAL,
                  "desc_size %lu not refused with -EINVAL", bad[s]);
}

static void t_above_4g(void)
{
    const struct d m[] = { { EFI_CONVENTIONAL_MEMORY, 1 * MiB, 256 * 2047 },
                           { EFI_MEMORY_MAPPED_IO, 3 * GiB, 262144 },
                           { EFI_CONVENTIONAL_MEMORY, 4 * GiB, 262144 * 4 },
                           { EFI_RESERVED_MEMORY, 6 * GiB, 16 },
                           { EFI_CONVENTIONAL_MEMORY, 1ul << 40, 256 } };
    BUILD(m);
    EXPECT(R(0, PG, X), R(1 * MiB, 2 * GiB, U), R(3 * GiB, 4 * GiB, X), R(4 * GiB, 6 * GiB, U),
           R(6 * GiB, 6 * GiB + 16 * PG, X), R(6 * GiB + 16 * PG, 8 * GiB, U),
           R(1ul << 40, (1ul << 40) + 1 * MiB, U));
    HT_EQ_U(memmap_total(out, (size_t)nout, U), (2 * GiB - 1 * MiB) + (4 * GiB - 16 * PG) + 1 * MiB);
}

static struct d big[2 * MEMMAP_MAX_IN + 100];

static void shuffle(struct d *ds, size_t n, uint64_t *seed)
{
    for (size_t i = n; i > 1; i--) {
        *seed = *seed * 6364136223846793005ul + 1442695040888963407ul;
        size_t j = (size_t)((*seed >> 33) % i);
        struct d t = ds[i - 1];
        ds[i - 1] = ds[j];
        ds[j] = t;
    }
}

static void t_many_entries(void)
{
    /* 5000 entries alternating usable and reserved pages, shuffled. */
    uint64_t seed = 1;
    for (size_t i = 0; i < 5000; i++)
        big[i] = (struct d){ i % 2 ? EFI_ACPI_MEMORY_NVS : EFI_CONVENTIONAL_MEMORY,
                             1 * MiB + i * 2 * PG, 2 };
    shuffle(big, 5000, &seed);
    HT_TRY(build(big, 5000));
    HT_EQ_U(nout, 5001);
    HT_EQ_U(memmap_total(out, (size_t)nout, U), 2500 * 2 * PG);
    /* 5000 contiguous usable pages of mixed types merge into one range. */
    for (size_t i = 0; i < 5000; i++)
        big[i] = (struct d){ i % 3 ? EFI_CONVENTIONAL_MEMORY : EFI_BOOT_SERVICES_DATA,
                             1 * MiB + i * PG, 1 };
    shuffle(big, 5000, &seed);
    HT_TRY(build(big, 5000));
    EXPECT(R(0, PG, X), R(1 * MiB, 1 * MiB + 5000 * PG, U));
}

static void t_too_many_entries(void)
{
    /* 8000 usable entries after 300 reservations: the reservations all
     * stay, usable entries past MEMMAP_MAX_IN are dropped. */
    size_t nres = 300, nuse = 8000, n = nres + nuse;
    for (size_t i = 0; i < nuse; i++)
        big[i] = (struct d){ EFI_CONVENTIONAL_MEMORY, 1 * MiB + i * 4 * PG, 4 };
    for (size_t i = 0; i < nres; i++) /* one page inside every 20th usable entry */
        big[nuse + i] = (struct d){ EFI_RESERVED_MEMORY, 1 * MiB + (20 * i) * 4 * PG + PG, 1 };
    HT_TRY(build(big, n));
    HT_EQ_U(st.dropped_excess, n - MEMMAP_MAX_IN);
    for (size_t i = 0; i < nres; i++)
        HT_ASSERT(kind_at(big[nuse + i].start) == X, "reservation %zu lost", i);
    /* The usable ones kept are the first in the map. */
    HT_EQ_U(kind_at(1 * MiB + 2 * PG), U);
    HT_EQ_U(kind_at(1 * MiB + (nuse - 1) * 4 * PG), -1);
    HT_EQ_U(memmap_total(out, (size_t)nout, U), ((MEMMAP_MAX_IN - nres) * 4 - nres) * PG);
    /* The same with the reservations last in the map. */
    for (size_t i = 0; i < nres; i++) {
        struct d t = big[i];
        big[i] = big[nuse + i];
        big[nuse + i] = t;
    }
    HT_TRY(build(big, n));
    HT_EQ_U(st.dropped_excess, n - MEMMAP_MAX_IN);
    for (size_t i = 0; i < n; i++)
        if (big[i].type == EFI_RESERVED_MEMORY)
            HT_ASSERT(kind_at(big[i].start) == X, "reservation %zu lost", i);
    /* More reservations than fit: the map is refused rather than some lost. */
    for (size_t i = 0; i < MEMMAP_MAX_IN + 1; i++)
        big[i] = (struct d){ EFI_RUNTIME_SERVICES_DATA, 1 * MiB + i * 2 * PG, 1 };
    const uint8_t *map = lay_out(big, MEMMAP_MAX_IN + 1, 48, 0);
    HT_EQ_U(memmap_build(map, mapsize, 48, out, OUT_CAP, scratch, &st), -ENOMEM);
    /* Exactly MEMMAP_MAX_IN is fine. */
    HT_TRY(build(big, MEMMAP_MAX_IN));
    HT_EQ_U(nout, MEMMAP_MAX_IN + 1);
}

static void t_merge_adjacent(void)
{
    const struct d m[] = { { EFI_CONVENTIONAL_MEMORY, 1 * MiB, 16 },
                           { EFI_BOOT_SERVICES_CODE, 1 * MiB + 16 * PG, 16 },
                           { EFI_LOADER_DATA, 1 * MiB + 32 * PG, 16 },
                           { EFI_RESERVED_MEMORY, 1 * MiB + 48 * PG, 16 },
                           { EFI_ACPI_MEMORY_NVS, 1 * MiB + 64 * PG, 16 },
                           { EFI_MEMORY_MAPPED_IO, 1 * MiB + 80 * PG, 16 },
                           { EFI_ACPI_RECLAIM_MEMORY, 1 * MiB + 96 * PG, 16 },
                           { EFI_CONVENTIONAL_MEMORY, 1 * MiB + 112 * PG, 16 },
                           { EFI_CONVENTIONAL_MEMORY, 1 * MiB + 129 * PG, 16 } }; /* gap */
    BUILD(m);
    EXPECT(R(0, PG, X), R(1 * MiB, 1 * MiB + 48 * PG, U), R(1 * MiB + 48 * PG, 1 * MiB + 96 * PG, X),
           R(1 * MiB + 96 * PG, 1 * MiB + 112 * PG, MEM_ACPI_RECLAIM),
           R(1 * MiB + 112 * PG, 1 * MiB + 128 * PG, U),
           R(1 * MiB + 129 * PG, 1 * MiB + 145 * PG, U));
    /* Reserved page 0 merges with a reservation starting at page 1. */
    const struct d z[] = { { EFI_RESERVED_MEMORY, PG, 3 }, { EFI_CONVENTIONAL_MEMORY, 4 * PG, 4 } };
    BUILD(z);
    EXPECT(R(0, 4 * PG, X), R(4 * PG, 8 * PG, U));
}

/* The two checks are validators: a wrong output is -EUCLEAN with a reason. */
static void t_checks_refuse(void)
{
    const struct d m[] = { { EFI_CONVENTIONAL_MEMORY, PG, 159 },
                           { EFI_RESERVED_MEMORY, 0xa0000, 96 },
                           { EFI_CONVENTIONAL_MEMORY, 1 * MiB, 256 } };
    BUILD(m);
    const uint8_t *map = mapbuf;
    char why[256];
    int r;
    struct mem_range good[8];
    HT_ASSERT(nout == 4, "%ld ranges", nout);
    memcpy(good, out, sizeof(good[0]) * 4);
    out[0].kind = U; /* page 0 usable */
    r = memmap_check_output(out, 4, why, sizeof(why));
    HT_ASSERT(r == -EUCLEAN && strstr(why, "page 0"), "%d \"%s\"", r, why);
    memcpy(out, good, sizeof(good[0]) * 4);
    out[2].end = out[3].start + PG; /* overlap */
    r = memmap_check_output(out, 4, why, sizeof(why));
    HT_ASSERT(r == -EUCLEAN && strstr(why, "overlap"), "%d \"%s\"", r, why);
    memcpy(out, good, sizeof(good[0]) * 4);
    out[3].end += PG; /* one page more usable than the map says */
    HT_EQ_U(memmap_check_output(out, 4, why, sizeof(why)), 0);
    r = memmap_check_model(map, mapsize, 48, out, 4, why, sizeof(why));
    HT_ASSERT(r == -EUCLEAN && strstr(why, "the rules say hole"), "%d \"%s\"", r, why);
}

static void t_cap(void)
{
    const struct d m[] = { { EFI_CONVENTIONAL_MEMORY, PG, 159 },
                           { EFI_RESERVED_MEMORY, 0xa0000, 96 },
                           { EFI_CONVENTIONAL_MEMORY, 1 * MiB, 1024 } };
    BUILD(m);
    HT_EQ_U(nout, 4);
    HT_TRY(build_with(m, HT_COUNT(m), 48, 4));
    HT_EQ_U(nout, 4);
    const uint8_t *map = lay_out(m, HT_COUNT(m), 48, 0);
    for (size_t cap = 0; cap < 4; cap++)
        HT_ASSERT(memmap_build(map, mapsize, 48, out, cap, scratch, &st) == -ENOMEM,
                  "cap %zu not refused with -ENOMEM", cap);
    /* 2 * n + 1 is always enough: here usable pieces split by reservations. */
    for (size_t i = 0; i < 100; i++)
        big[i] = i < 50 ? (struct d){ EFI_CONVENTIONAL_MEMORY, 1 * MiB + i * 4 * PG, 2 }
                        : (struct d){ EFI_RESERVED_MEMORY, 1 * MiB + (i - 50) * 4 * PG + 2 * PG, 1 };
    HT_TRY(build_with(big, 100, 48, 201));
    HT_EQ_U(nout, 101);
}

/* ---- randomized property test ---------------------------------------------------- */

#define SPACE_PAGES (64 * MiB / PG)

static uint64_t rng = 0x243f6a8885a308d3ul;

static uint64_t rnd(uint64_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return n ? (rng * 0x2545f4914f6cdd1dul) % n : 0;
}

static uint32_t random_type(void)
{
    static const uint32_t t[] = {
        EFI_CONVENTIONAL_MEMORY, EFI_CONVENTIONAL_MEMORY, EFI_CONVENTIONAL_MEMORY,
        EFI_BOOT_SERVICES_CODE, EFI_BOOT_SERVICES_DATA, EFI_LOADER_CODE, EFI_LOADER_DATA,
        EFI_RESERVED_MEMORY, EFI_RUNTIME_SERVICES_CODE, EFI_RUNTIME_SERVICES_DATA,
        EFI_ACPI_RECLAIM_MEMORY, EFI_ACPI_MEMORY_NVS, EFI_MEMORY_MAPPED_IO,
        EFI_UNUSABLE_MEMORY, BOOT_MEM_KERNEL, BOOT_MEM_INITRD, BOOT_MEM_BOOTINFO,
        BOOT_MEM_PAGETABLE, 0x70000000, 0x80000007,
    };
    return t[rnd(HT_COUNT(t))];
}

static int kind_of(uint32_t t)
{
    switch (t) {
    case EFI_CONVENTIONAL_MEMORY: case EFI_BOOT_SERVICES_CODE: case EFI_BOOT_SERVICES_DATA:
    case EFI_LOADER_CODE: case EFI_LOADER_DATA:
        return U;
    case EFI_ACPI_RECLAIM_MEMORY: return MEM_ACPI_RECLAIM;
    case BOOT_MEM_KERNEL: return MEM_BOOT_KERNEL;
    case BOOT_MEM_INITRD: return MEM_BOOT_INITRD;
    case BOOT_MEM_BOOTINFO: return MEM_BOOT_INFO;
    case BOOT_MEM_PAGETABLE: return MEM_BOOT_TABLES;
    default: return X;
    }
}

static void random_desc(struct d *d)
{
    d->type = random_type();
    uint64_t r = rnd(100);
    d->start = rnd(SPACE_PAGES) * PG;
    if (rnd(3) == 0)
        d->start += rnd(PG); /* unaligned */
    d->pages = r < 5 ? 0 : r < 60 ? 1 + rnd(8) : r < 95 ? 1 + rnd(512) : 1 + rnd(SPACE_PAGES);
    if (rnd(40) == 0) { /* hostile: wraps, or starts or ends past 2^52 */
        switch (rnd(4)) {
        case 0: d->start = ~0ul - rnd(16 * PG); break;
        case 1: d->pages = (1ul << 52) + rnd(1000); break;
        case 2: d->start = LIMIT + rnd(SPACE_PAGES) * PG; break;
        default: d->start = LIMIT - rnd(16) * PG; d->pages = 1 + rnd(32); break;
        }
    }
}

/* Paint every page of the first 64 MiB and compare with the output. */
static void brute_force(const struct d *ds, size_t n)
{
    static int8_t want[SPACE_PAGES];
    memset(want, -1, sizeof(want));
    for (size_t i = 0; i < n; i++) {
        int k = kind_of(ds[i].type);
        unsigned __int128 end = (unsigned __int128)ds[i].start + (unsigned __int128)ds[i].pages * PG;
        for (uint64_t p = 0; p < SPACE_PAGES; p++) {
            uint64_t a = p * PG;
            bool cover;
            if (ds[i].pages == 0)
                cover = false;
            else if (k == U) /* the whole page inside, and the entry below 2^52 */
                cover = end <= LIMIT && a >= ds[i].start && a + PG <= end;
            else /* any byte of the page, if the entry starts below 2^52 */
                cover = ds[i].start < LIMIT && a + PG > ds[i].start && a < end;
            if (cover && k > want[p])
                want[p] = (int8_t)k;
        }
    }
    want[0] = X;
    for (uint64_t p = 0; p < SPACE_PAGES; p++) {
        int got = kind_at(p * PG);
        HT_ASSERT(got == want[p], "page %#lx is %d, brute force says %d",
                  (p * PG), got, want[p]);
        /* And the whole page has one kind. */
        HT_ASSERT(kind_at(p * PG + PG - 1) == got, "page %#lx split", (p * PG));
    }
}

static void t_random_property(void)
{
    struct d ds[64];
    for (int iter = 0; iter < 1500; iter++) {
        size_t n = 1 + rnd(iter < 1000 ? 12 : 64);
        for (size_t i = 0; i < n; i++)
            random_desc(&ds[i]);
        uint64_t stride = 40 + 8 * rnd(4);
        HT_TRY(build_with(ds, n, stride, 2 * n + 1));
        if (iter < 300) /* the page-by-page painting is slow: fewer runs */
            HT_TRY(brute_force(ds, n));
        /* The output does not depend on the order of the map. */
        struct mem_range first[130];
        long nfirst = nout;
        memcpy(first, out, (size_t)nout * sizeof(out[0]));
        uint64_t seed = (uint64_t)iter;
        shuffle(ds, n, &seed);
        HT_TRY(build_with(ds, n, stride, 2 * n + 1));
        HT_TRY(expect(first, (size_t)nfirst));
    }
}

static const struct htest cases[] = {
    HT_CASE(empty_map),
    HT_CASE(typical),
    HT_CASE(every_type),
    HT_CASE(unsorted),
    HT_CASE(reserved_wins),
    HT_CASE(usable_vs_runtime),
    HT_CASE(kind_precedence),
    HT_CASE(zero_length),
    HT_CASE(overflow),
    HT_CASE(unaligned),
    HT_CASE(page0),
    HT_CASE(strides),
    HT_CASE(above_4g),
    HT_CASE(many_entries),
    HT_CASE(too_many_entries),
    HT_CASE(merge_adjacent),
    HT_CASE(cap),
    HT_CASE(checks_refuse),
    HT_CASE(random_property),
};

int main(int argc, char **argv)
{
    int rc = htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
    free(mapbuf);
    free(scratch);
    return rc;
}
