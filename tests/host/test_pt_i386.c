/*
 * Host tests of the i386 two-level format (compat32/pt_i386.c) behind the
 * generic walker (mm/pgtable.c), and of SOS-style mirroring.
 *
 * Physical memory is the private arena of tests/host/mm_host.c (32 MiB of
 * address space, 30 MiB of RAM, all below 4 GiB), as in test_pgtable.c:
 * table pages are real buddy allocations (GFP_DMA32), read and written
 * through the arena as arrays of 1024 uint32_t.  Mapped frames are just
 * numbers below 4 GiB.
 *
 * After every operation check() runs pt_check() and raw_count() below,
 * an independent validator written from the Intel bit layout (SDM vol.
 * 3A, 4.3) without the format's functions: the table count, no empty
 * page table, PDEs pointing to tables exactly P|RW|US, no stray bit in a
 * leaf (available bits 10-11, reserved bits 13-21 of a 4 MiB PDE), the
 * mirror entry untouched, and free frames + table pages + frames held by
 * the test = the free frames before pt_init.
 *
 * The random case keeps a model (one record per 4 KiB page) over two
 * windows, the low 48 MiB and the 16 MiB just below the mirror, and after
 * every step compares it with pt_for_each (every page) and with pt_walk
 * (the pages around the operation; every page every 16 steps).
 */
#include <stdlib.h>

#include "htest.h"
#include "mm_host.h"
#include <kernel/errno.h>
#include <mm/gfp.h>
#include <mm/pgtable.h>
#include <compat32/pt_i386.h>
#include <mm/zone.h>

#define MiB (1ul << 20)
#define GiB (1ul << 30)
#define FR 4096ul
#define M4 (4 * MiB)
#define TOP (1ul << 32)             /* the end of the 32-bit space */
#define VA_END 0xffc00000ul         /* the pgtable's end: the mirror starts here */
#define NX I386_PTE_SOFT_NX


/* ---- the arena, the tables under test, the flush log ---------------------------------- */

static const struct host_ram ram[] = { { 1 * MiB, 31 * MiB } };

static struct pgtable pt;
static uint64_t base_free; /* nr_free_pages() before pt_init */
static uint64_t held;      /* frames the test holds itself (exhaustion) */
static uint32_t mirror;    /* the value PDE 1023 must keep (0: no mirror) */

struct flush_log {
    unsigned calls;
    uint64_t va, len;
    uint64_t free_at;      /* nr_free_pages() when the flush came */
    bool check_failed;     /* pt_check() failed inside the flush */
};
static struct flush_log fl;

static void rec_flush(struct pgtable *p, uint64_t va, uint64_t len)
{
    char why[256];
    fl.calls++;
    fl.va = va;
    fl.len = len;
    fl.free_at = nr_free_pages();
    if (pt_check(p, why, sizeof(why)))
        fl.check_failed = true;
}

static uint32_t *tab(uint64_t pa)
{
    return (uint32_t *)(mm_host_arena() + pa);
}

static void setup_range(uint64_t start, uint64_t end)
{
    mm_host_init(32 * MiB / FR, ram, HT_COUNT(ram));
    base_free = nr_free_pages();
    held = 0;
    mirror = 0;
    memset(&fl, 0, sizeof(fl));
    int err = pt_init(&pt, &pt_i386, GFP_DMA32, start, end);
    HT_ASSERT(err == 0, "pt_init: %d", err);
    pt.flush = rec_flush;
}

/* The usual set-up: a 32-bit process's range, below the mirror. */
static void setup(void)
{
    HT_TRY(setup_range(0, VA_END));
}

/* Put the mirror entry in PDE 1023 by hand, as compat32 will. */
static void install_mirror(bool user_readable)
{
    mirror = pt_i386_mirror_entry(pt.root, user_readable);
    tab(pt.root)[I386_MIRROR_PDE] = mirror;
}

/* ---- random numbers (fixed seed: a failure reproduces) -------------------------- */

static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return n ? (rng * 0x2545f4914f6cdd1dul) % n : 0;
}

/* ---- the independent validator ----------------------------------------------------- */

static unsigned raw_present(uint64_t pa)
{
    unsigned n = 0;
    for (unsigned i = 0; i < 1024; i++)
        n += tab(pa)[i] & I386_PTE_P;
    return n;
}

/* Count the table pages of the root (level 1) or a page table (level 0),
 * checking each entry from the raw bits.  Root entries outside the range
 * (the mirror) are not the pgtable's and are skipped. */
static void raw_count(uint64_t pa, unsigned level, uint64_t base, uint64_t *tables)
{
    HT_ASSERT(pa && !(pa & (FR - 1)) && pa < TOP && mm_host_is_ram(pa, FR),
              "table %#lx is not RAM below 4 GiB", pa);
    HT_ASSERT(page_count(pfn_to_page(pa / FR)) >= 1, "table %#lx is a free frame", pa);
    (*tables)++;
    for (unsigned i = 0; i < 1024; i++) {
        uint32_t e = tab(pa)[i];
        uint64_t size = level ? M4 : FR, va = base + i * size;
        if (level == 1 && (va + size - 1 < pt.va_start || va >= pt.va_end))
            continue;
        if (!(e & I386_PTE_P))
            continue;
        HT_ASSERT(va >= pt.va_start && va + size <= pt.va_end,
                  "entry %#x at %#lx outside the range", e, va);
        if (level == 0 || (e & I386_PDE_PS)) {
            HT_ASSERT(!(e & 0xc00), "leaf %#x at %#lx: stray available bits", e, va);
            HT_ASSERT(level == 0 || !(e & I386_PDE_RSVD_LARGE),
                      "4 MiB leaf %#x at %#lx: reserved bits 13-21 set", e, va);
            continue;
        }
        HT_ASSERT((e & 0xfff) == (I386_PTE_P | I386_PTE_RW | I386_PTE_US),
                  "PDE %#x at %#lx is not exactly P|RW|US", e, va);
        HT_ASSERT(raw_present(e & I386_PTE_FRAME) > 0, "empty page table %#x at %#lx", e,
                  va);
        HT_TRY(raw_count(e & I386_PTE_FRAME, 0, va, tables));
    }
}

static void check(void)
{
    char why[256];
    uint64_t tables = 0;
    HT_ASSERT(pt_check(&pt, why, sizeof(why)) == 0, "pt_check: %s", why);
    HT_ASSERT(node_check(why, sizeof(why)) == 0, "node_check: %s", why);
    HT_TRY(raw_count(pt.root, 1, 0, &tables));
    HT_ASSERT(tables == pt.nr_tables, "%lu tables reachable, nr_tables %lu", tables,
              pt.nr_tables);
    HT_ASSERT(nr_free_pages() + pt.nr_tables + held == base_free,
              "%lu free + %lu tables + %lu held != %lu at the start", nr_free_pages(),
              pt.nr_tables, held, base_free);
    HT_ASSERT(!fl.check_failed, "pt_check failed inside a flush");
    HT_ASSERT(pt.va_end > VA_END || tab(pt.root)[I386_MIRROR_PDE] == mirror,
              "PDE 1023 is %#x, expected %#x", tab(pt.root)[I386_MIRROR_PDE], mirror);
}

/* Unmap the whole range, destroy: every frame must be back. */
static void teardown(void)
{
    HT_EQ_U(pt_unmap(&pt, pt.va_start, pt.va_end - pt.va_start), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 1);
    pt_destroy(&pt);
    HT_EQ_U(pt.nr_tables, 0);
    HT_EQ_U(nr_free_pages() + held, base_free);
}

/* A fingerprint of the root, every page table (address and contents),
 * nr_tables and the free frame count: equal means nothing changed. */
static uint64_t snapshot(void)
{
    uint64_t h = 0xcbf29ce484222325ul;
    for (unsigned i = 0; i <= 1024; i++) {
        uint64_t pa = i == 1024 ? pt.root : tab(pt.root)[i] & I386_PTE_FRAME;
        if (i < 1024 && (i == I386_MIRROR_PDE || !(tab(pt.root)[i] & I386_PTE_P) ||
                         (tab(pt.root)[i] & I386_PDE_PS)))
            continue;
        const uint8_t *b = (const uint8_t *)tab(pa);
        h = (h ^ pa) * 0x100000001b3ul;
        for (uint64_t k = 0; k < FR; k++)
            h = (h ^ b[k]) * 0x100000001b3ul;
    }
    return h ^ pt.nr_tables * 31 ^ nr_free_pages() * 977;
}

/* The leaf for va: rc 0 and these fields. */
static void expect_leaf(uint64_t va, uint64_t pa, uint64_t size, unsigned prot)
{
    struct pt_view v;
    int rc = pt_walk(&pt, va, &v);
    HT_ASSERT(rc == 0, "walk %#lx: %d", va, rc);
    HT_ASSERT(v.va == (va & ~(size - 1)) && v.pa == pa && v.size == size && v.prot == prot,
              "walk %#lx: va %#lx pa %#lx size %#lx prot %#x, expected pa %#lx size "
              "%#lx prot %#x",
              va, v.va, v.pa, v.size, v.prot, pa, size, prot);
    unsigned level = size == FR ? 0 : 1;
    HT_EQ_U(v.level, level);
    HT_EQ_U(v.nraw, 2 - level);
}

static void expect_hole(uint64_t va)
{
    struct pt_view v;
    int rc = pt_walk(&pt, va, &v);
    HT_ASSERT(rc == -ENOENT, "walk %#lx: %d (pa %#lx), expected -ENOENT", va, rc,
              v.pa);
}

/* ---- exhausting the arena ---------------------------------------------------------------- */

static struct page *hoard[8192];
static size_t nhoard;

static void exhaust(void)
{
    struct page *p;
    nhoard = 0;
    while ((p = alloc_pages(__GFP_MEMALLOC | __GFP_NOWARN, 0))) {
        HT_ASSERT(nhoard < HT_COUNT(hoard), "arena larger than the hoard");
        hoard[nhoard++] = p;
        held++;
    }
    HT_EQ_U(nr_free_pages(), 0);
}

static void give_back(size_t n)
{
    while (n-- && nhoard) {
        __free_pages(hoard[--nhoard], 0);
        held--;
    }
}

/* ---- leaves through pt_for_each ---------------------------------------------------------- */

struct leaves {
    size_t n;
    struct pt_view v[64];
};

static int collect(const struct pt_view *v, void *arg)
{
    struct leaves *l = arg;
    if (l->n < HT_COUNT(l->v))
        l->v[l->n] = *v;
    l->n++;
    return 0;
}

/* ---- the format ------------------------------------------------------------------------ */

static void t_format_bits(void)
{
    const struct pt_format *f = &pt_i386;
    HT_EQ_U(f->levels, 2);
    HT_EQ_U(f->entry_bytes, 4);
    HT_EQ_U(f->index_bits, 10);
    HT_EQ_U(f->leaf_levels, 3);
    HT_EQ_U(f->va_bits, 32);
    HT_EQ_U(f->pa_bits, 32);

    /* A user read-write 4 KiB page: P|RW|US = 7, plus soft NX unless executable. */
    uint64_t pa = 0x12345000;
    HT_EQ_U(f->make_leaf(pa, 0, PT_W | PT_U | PT_X), 0x12345007u);
    HT_EQ_U(f->make_leaf(pa, 0, PT_W | PT_U), 0x12345207u);
    HT_EQ_U(f->make_leaf(pa, 0, 0), 0x12345201u);
    HT_EQ_U(f->make_leaf(pa, 0, PT_X | PT_G), 0x12345101u);
    HT_EQ_U(f->make_leaf(pa, 0, PT_X | PT_ACCESSED), 0x12345021u);
    HT_EQ_U(f->make_leaf(pa, 0, PT_X | PT_DIRTY), 0x12345041u);
    HT_EQ_U(f->make_leaf(pa, 0, PT_X | PT_WC), 0x12345009u);
    HT_EQ_U(f->make_leaf(pa, 0, PT_X | PT_UC), 0x12345019u);
    HT_EQ_U(f->make_leaf(pa, 0, PT_X | PT_WT), 0x12345099u); /* PAT is bit 7 in a PTE */
    /* A 4 MiB page: PS (bit 7), PAT at bit 12, frame in bits 22..31. */
    HT_EQ_U(f->make_leaf(0x12c00000, 1, PT_W | PT_U | PT_X), 0x12c00087u);
    HT_EQ_U(f->make_leaf(0x12c00000, 1, PT_W | PT_U), 0x12c00287u);
    HT_EQ_U(f->make_leaf(0x12c00000, 1, PT_X | PT_WT), 0x12c01099u);
    HT_EQ_U(f->make_leaf(0xffc00000, 1, PT_W | PT_X | PT_ACCESSED | PT_DIRTY), 0xffc000e3u);
    /* make_leaf keeps only the frame bits of its level. */
    HT_EQ_U(f->make_leaf(0x12efffff, 1, PT_X), 0x12c00081u);
    HT_EQ_U(f->make_leaf(0x12345fff, 0, PT_X), 0x12345001u);

    /* Tables: P|RW|US whatever the address, never soft NX. */
    HT_EQ_U(f->make_table(0x345000, 0), 0x345007u);
    HT_EQ_U(f->make_table(0x345000, 0xff000000), 0x345007u);
    HT_EQ_U(f->table_pa(f->make_table(0xfffff000, 0)), 0xfffff000u);
    HT_EQ_U(f->table_pa(0x345067), 0x345000u);

    HT_ASSERT(!f->present(0) && f->present(I386_PTE_P) && !f->present(0xfffffffe), "present");
    HT_ASSERT(f->is_leaf(0x1, 0) && f->is_leaf(0x81, 0) && f->is_leaf(0x81, 1) &&
                  !f->is_leaf(0x1, 1) && !f->is_leaf(0x81, 2),
              "is_leaf");

    static const uint64_t ok[] = { 0, 0x1000, 0xbfffffff, 0xffc00000, 0xffffffff };
    static const uint64_t bad[] = { TOP, TOP + 0x1000, 1ul << 47, 0xfffffffffffffffful };
    for (size_t i = 0; i < HT_COUNT(ok); i++)
        HT_ASSERT(f->va_ok(ok[i]), "%#lx is a 32-bit address", ok[i]);
    for (size_t i = 0; i < HT_COUNT(bad); i++)
        HT_ASSERT(!f->va_ok(bad[i]), "%#lx is not a 32-bit address", bad[i]);

    /* Entries not made by make_leaf: UC- reads as UC, WP as WT, index 4 as WB. */
    struct pt_view v;
    static const struct { uint32_t bits; unsigned cache; } foreign[] = {
        { I386_PTE_PCD, PT_UC },
        { I386_PTE_PAT, PT_WB },
        { I386_PTE_PAT | I386_PTE_PWT, PT_WT },
        { I386_PTE_PAT | I386_PTE_PCD, PT_UC },
    };
    for (size_t i = 0; i < HT_COUNT(foreign); i++) {
        f->decode_leaf(pa | I386_PTE_P | foreign[i].bits, 0, &v);
        HT_EQ_U(v.prot, PT_X | foreign[i].cache);
    }
    /* In a 4 MiB PDE bit 7 is PS, not PAT; bit 12 is PAT, not address. */
    f->decode_leaf(0x12c01081u, 1, &v);
    HT_ASSERT(v.pa == 0x12c00000 && v.prot == (PT_X | PT_WB), "PAT alone: pa %#lx prot %#x",
              v.pa, v.prot);
    /* Soft NX, A, D decode. */
    f->decode_leaf(0x12345261u, 0, &v);
    HT_ASSERT(v.pa == pa && v.prot == 0 && v.accessed && v.dirty, "pa %#lx prot %#x a %d d %d",
              v.pa, v.prot, v.accessed, v.dirty);
}

/* The helpers of include/compat32/pt_i386.h, and the mirror entry's bits. */
static void t_header_helpers(void)
{
    HT_EQ_U(pde_index(0x00000000), 0);
    HT_EQ_U(pde_index(0x08048123), 32);
    HT_EQ_U(pde_index(0xffc00000), 1023);
    HT_EQ_U(pde_index(0xffffffff), 1023);
    HT_EQ_U(pte_index(0x12345678), 0x345);
    HT_EQ_U(pte_index(0x003ff000), 1023);
    HT_EQ_U(pte_index(0x00400000), 0);
    HT_EQ_U(pte_frame(0x12345067), 0x12345);
    HT_EQ_U(pte_addr(0x12345067), 0x12345000);
    HT_EQ_U(pde_large_addr(0x12c01087), 0x12c00000);
    /* The SOS formulas: the PTE of va at 0xffc00000 + (va >> 12) * 4, its PDE
     * at 0xfffff000 + (va >> 22) * 4. */
    uint32_t va = 0x08048123;
    HT_EQ_U(I386_MIRROR_BASE + pde_index(va) * I386_PAGE_SIZE + pte_index(va) * 4,
            I386_MIRROR_BASE + (va >> 12) * 4);
    HT_EQ_U(I386_MIRROR_BASE + I386_MIRROR_PDE * I386_PAGE_SIZE + pde_index(va) * 4,
            I386_MIRROR_PD + (va >> 22) * 4);

    /* P, soft NX, US only when user-readable; never RW, never PS. */
    HT_EQ_U(pt_i386_mirror_entry(0x345000, false), 0x345000u | I386_PTE_P | NX);
    HT_EQ_U(pt_i386_mirror_entry(0x345000, true), 0x345000u | I386_PTE_P | I386_PTE_US | NX);
    HT_EQ_U(pt_i386_mirror_entry(0xfffff000, true), 0xfffff205u);
    /* Read as a leaf, the mirror entry is read-only and not executable. */
    struct pt_view v;
    pt_i386.decode_leaf(pt_i386_mirror_entry(0x345000, true), 0, &v);
    HT_ASSERT(v.pa == 0x345000 && v.prot == PT_U, "mirror as a PTE: pa %#lx prot %#x",
              v.pa, v.prot);
    HT_ASSERT(!pt_i386.is_leaf(pt_i386_mirror_entry(0x345000, false), 1),
              "the mirror PDE must point to a table");
}

static void t_prot_roundtrip(void)
{
    const struct pt_format *f = &pt_i386;
    unsigned n = 0;
    for (unsigned level = 0; level < 2; level++) {
        uint64_t size = FR << (10 * level);
        uint64_t pas[] = { 0, size, TOP - size, 0x5a5a5ul * size & (TOP - 1) };
        for (size_t k = 0; k < HT_COUNT(pas); k++) {
            for (unsigned prot = 0; prot <= PT_PROT_MASK; prot++) {
                for (unsigned state = 0; state < 4; state++) {
                    unsigned full = prot | (state & 1 ? PT_ACCESSED : 0) |
                                    (state & 2 ? PT_DIRTY : 0);
                    uint64_t e = f->make_leaf(pas[k], level, full);
                    struct pt_view v;
                    memset(&v, 0xee, sizeof(v));
                    f->decode_leaf(e, level, &v);
                    HT_ASSERT(v.pa == pas[k] && v.prot == prot && v.accessed == (state & 1) &&
                                  v.dirty == !!(state & 2),
                              "level %u pa %#lx prot %#x state %u: entry %#lx decodes to "
                              "pa %#lx prot %#x a %d d %d",
                              level, pas[k], prot, state, e, v.pa, v.prot,
                              v.accessed, v.dirty);
                    HT_ASSERT(e < TOP && f->present(e) && f->is_leaf(e, level),
                              "entry %#lx", e);
                    HT_ASSERT(!(e & 0xc00) && (level == 0 || !(e & I386_PDE_RSVD_LARGE)),
                              "entry %#lx has stray bits", e);
                    HT_ASSERT(!!(e & NX) == !(prot & PT_X), "entry %#lx: soft NX", e);
                    if (level == 0)
                        HT_ASSERT(e == (pas[k] | f->make_leaf(0, 0, full)),
                                  "frame not in place in %#lx", e);
                    n++;
                }
            }
        }
    }
    HT_EQ_U(n, 2 * 4 * 64 * 4);
    /* The frame in place (bits 12..31, what the generic code assumes from
     * pa_bits) for frame numbers all over the 20 bits, with various prots. */
    for (uint64_t pa = 0; pa < TOP; pa += 0x1000 * 4099) {
        unsigned prot = (unsigned)(pa >> 12) & (PT_PROT_MASK | PT_ACCESSED | PT_DIRTY);
        HT_ASSERT(f->make_leaf(pa, 0, prot) == (pa | f->make_leaf(0, 0, prot)) &&
                      (f->make_leaf(pa, 0, prot) & I386_PTE_FRAME) == pa &&
                      !f->present(I386_PTE_FRAME),
                  "frame not in place at %#lx", pa);
    }
}

/* ---- set-up, mapping, walking ------------------------------------------------------------ */

static void t_init_destroy(void)
{
    HT_TRY(setup());
    HT_EQ_U(pt.nr_tables, 1);
    HT_TRY(check());
    pt_destroy(&pt);
    HT_EQ_U(nr_free_pages(), base_free);
    /* The whole 32-bit space is a valid range too. */
    struct pgtable all;
    HT_EQ_U(pt_init(&all, &pt_i386, GFP_DMA32, 0, TOP), 0);
    pt_destroy(&all);

    struct pgtable bad;
    static const uint64_t ranges[][2] = {
        { 0x1000, 0x1000 },           /* empty */
        { 0x2000, 0x1000 },           /* reversed */
        { 0x1001, 0x3000 },           /* unaligned */
        { 0, TOP + 0x1000 },          /* past 4 GiB */
        { TOP, TOP + 0x1000 },        /* above 4 GiB */
        { 0xffff800000000000ul, 0xfffffffffffff000ul }, /* an x86-64 kernel range */
    };
    for (size_t i = 0; i < HT_COUNT(ranges); i++)
        HT_ASSERT(pt_init(&bad, &pt_i386, GFP_DMA32, ranges[i][0], ranges[i][1]) == -EINVAL,
                  "pt_init [%#lx, %#lx) accepted", ranges[i][0], ranges[i][1]);
    HT_EQ_U(nr_free_pages(), base_free);
}

static void t_map_4k(void)
{
    HT_TRY(setup());
    uint64_t va = 0x08048000, pa = 0x12345000;
    HT_EQ_U(pt_map(&pt, va, pa, 3 * FR, PT_W | PT_U, 0), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 2); /* directory, one page table */
    HT_EQ_U(fl.calls, 0);
    for (uint64_t i = 0; i < 3; i++)
        HT_TRY(expect_leaf(va + i * FR + 0x123, pa + i * FR, FR, PT_W | PT_U));

    /* The bits in memory, at Intel's positions. */
    uint32_t pde = tab(pt.root)[pde_index((uint32_t)va)];
    HT_EQ_U(pde & 0xfff, I386_PTE_P | I386_PTE_RW | I386_PTE_US);
    HT_EQ_U(tab(pte_addr(pde))[pte_index((uint32_t)va)], 0x12345207u);
    HT_EQ_U(tab(pte_addr(pde))[pte_index((uint32_t)va) + 2], 0x12347207u);
    struct pt_view v;
    HT_EQ_U(pt_walk(&pt, va + FR, &v), 0);
    HT_EQ_U(v.raw[0], pde);
    HT_EQ_U(v.raw[1], 0x12346207u);
    HT_ASSERT(!v.accessed && !v.dirty, "fresh leaf accessed or dirty");
    /* What the CPU would record, read back through the view. */
    tab(pte_addr(pde))[pte_index((uint32_t)va) + 1] |= I386_PTE_A | I386_PTE_D;
    HT_EQ_U(pt_walk(&pt, va + FR, &v), 0);
    HT_ASSERT(v.accessed && v.dirty && v.prot == (PT_W | PT_U), "A/D not read back");

    /* -ENOENT at each depth. */
    HT_EQ_U(pt_walk(&pt, va + 3 * FR, &v), -ENOENT);
    HT_ASSERT(v.nraw == 2 && v.level == 0 && v.raw[1] == 0, "nraw %u level %u", v.nraw, v.level);
    HT_EQ_U(pt_walk(&pt, va + M4, &v), -ENOENT);
    HT_ASSERT(v.nraw == 1 && v.level == 1 && v.raw[0] == 0, "nraw %u level %u", v.nraw, v.level);
    /* Any 32-bit address can be walked, also past va_end; nothing above. */
    HT_EQ_U(pt_walk(&pt, 0xfffff000, &v), -ENOENT);
    HT_EQ_U(pt_walk(&pt, TOP, &v), -EINVAL);

    HT_EQ_U(pt_unmap(&pt, va, 3 * FR), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 1);
    HT_EQ_U(fl.calls, 1);
    HT_ASSERT(fl.va == va && fl.len == 3 * FR, "flush %#lx+%#lx", fl.va, fl.len);
    HT_TRY(teardown());
}

static void t_map_4m(void)
{
    HT_TRY(setup());
    uint64_t va = 0x40000000, pa = 0x12c00000;
    HT_EQ_U(pt_map(&pt, va, pa, 2 * M4, PT_W | PT_U, PT_MAP_LARGE), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 1); /* the directory alone */
    HT_TRY(expect_leaf(va, pa, M4, PT_W | PT_U));
    HT_TRY(expect_leaf(va + M4 + 0x12345, pa + M4, M4, PT_W | PT_U));
    HT_EQ_U(tab(pt.root)[256], 0x12c00287u);
    HT_EQ_U(tab(pt.root)[257], 0x13000287u);
    HT_TRY(expect_hole(va - FR));
    HT_TRY(expect_hole(va + 2 * M4));
    /* WT 4 MiB: PAT at bit 12. */
    HT_EQ_U(pt_map(&pt, 0x80000000, 0xff800000, M4, PT_X | PT_WT, PT_MAP_LARGE), 0);
    HT_EQ_U(tab(pt.root)[512], 0xff801099u);
    HT_TRY(expect_leaf(0x80000000, 0xff800000, M4, PT_X | PT_WT));
    HT_TRY(check());

    /* PT_MAP_LARGE takes 4 MiB leaves exactly where va, pa and the length allow. */
    uint64_t s = 0x00800000 - 2 * FR, e = 0x01800000 + 3 * FR, off = 0x20000000;
    HT_EQ_U(pt_map(&pt, s, s + off, e - s, PT_W, PT_MAP_LARGE), 0);
    HT_TRY(check());
    struct leaves l = { 0 };
    HT_EQ_U(pt_for_each(&pt, s, e, collect, &l), 0);
    static const uint64_t sizes[] = { FR, FR, M4, M4, M4, M4, FR, FR, FR };
    HT_EQ_U(l.n, HT_COUNT(sizes));
    uint64_t at = s;
    for (size_t i = 0; i < l.n; i++) {
        HT_ASSERT(l.v[i].va == at && l.v[i].size == sizes[i] && l.v[i].pa == at + off &&
                      l.v[i].nraw == (sizes[i] == M4 ? 1u : 2u),
                  "leaf %zu: va %#lx size %#lx pa %#lx, expected va %#lx size %#lx", i,
                  l.v[i].va, l.v[i].size, l.v[i].pa, at, sizes[i]);
        at += sizes[i];
    }
    /* pa not congruent modulo 4 MiB: 4 KiB leaves only. */
    HT_EQ_U(pt_map(&pt, 0x10000000, 0x10001000, M4, PT_W, PT_MAP_LARGE), 0);
    HT_TRY(check());
    HT_TRY(expect_leaf(0x10000000, 0x10001000, FR, PT_W));
    /* Without PT_MAP_LARGE: 1024 PTEs. */
    HT_EQ_U(pt_map(&pt, 0x20000000, 0x20000000, M4, PT_W, 0), 0);
    HT_TRY(check());
    HT_TRY(expect_leaf(0x20000000 + M4 - FR, 0x20000000 + M4 - FR, FR, PT_W));
    HT_TRY(teardown());
}

/* The top of the range and of the physical space. */
static void t_edges(void)
{
    HT_TRY(setup());
    /* The last PDE below the mirror, as a 4 MiB leaf of the last 4 MiB frame. */
    HT_EQ_U(pt_map(&pt, VA_END - M4, 0xffc00000, M4, PT_W | PT_U, PT_MAP_LARGE), 0);
    HT_TRY(expect_leaf(VA_END - 1, 0xffc00000, M4, PT_W | PT_U));
    HT_EQ_U(pt_unmap(&pt, VA_END - M4, M4), 0);
    /* The last 4 KiB page of the range, mapping the last frame below 4 GiB. */
    HT_EQ_U(pt_map(&pt, VA_END - FR, TOP - FR, FR, PT_U, 0), 0);
    HT_TRY(expect_leaf(VA_END - FR, TOP - FR, FR, PT_U));
    HT_TRY(check());
    HT_EQ_U(pt_map(&pt, VA_END, 0, FR, PT_U, 0), -EINVAL); /* the mirror's page */
    HT_TRY(teardown());

    /* With the whole 32-bit space as range, the last page can be mapped. */
    HT_TRY(setup_range(0, TOP));
    HT_EQ_U(pt_map(&pt, TOP - FR, 0x5000, FR, PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, TOP - 2 * M4, TOP - 2 * M4, 2 * M4, PT_W, PT_MAP_LARGE), -EEXIST);
    HT_EQ_U(pt_map(&pt, TOP - 2 * M4, TOP - 2 * M4, M4, PT_W, PT_MAP_LARGE), 0);
    HT_TRY(check());
    HT_TRY(expect_leaf(TOP - FR, 0x5000, FR, PT_W));
    HT_TRY(expect_leaf(TOP - 2 * M4, TOP - 2 * M4, M4, PT_W));
    struct leaves l = { 0 };
    HT_EQ_U(pt_for_each(&pt, TOP - 2 * M4, TOP, collect, &l), 0);
    HT_ASSERT(l.n == 2 && l.v[1].va == TOP - FR, "%zu leaves", l.n);
    HT_EQ_U(pt_unmap(&pt, 0, TOP), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 1);
    HT_TRY(teardown());
}

/* ---- refused operations -------------------------------------------------------------------- */

static void t_einval(void)
{
    HT_TRY(setup_range(0x10000000, VA_END));
    HT_EQ_U(pt_map(&pt, 0x20000000, 0, FR, PT_W, 0), 0);
    uint64_t snap = snapshot();
    static const struct { uint64_t va, pa, len; unsigned prot, flags; } bad[] = {
        { 0x10000001, 0, FR, 0, 0 },             /* unaligned va */
        { 0x10000000, 0x800, FR, 0, 0 },         /* unaligned pa */
        { 0x10000000, 0, FR + 1, 0, 0 },         /* unaligned length */
        { 0x10000000, 0, 0, 0, 0 },              /* zero length */
        { 0x10000000 - FR, 0, FR, 0, 0 },        /* below va_start */
        { VA_END - FR, 0, 2 * FR, 0, 0 },        /* past va_end, into the mirror */
        { VA_END, 0, FR, 0, 0 },                 /* the mirror */
        { TOP, 0, FR, 0, 0 },                    /* va beyond 32 bits */
        { TOP - FR, 0, 2 * FR, 0, 0 },           /* across 4 GiB */
        { 0x10000000, TOP, FR, 0, 0 },           /* pa beyond 32 bits */
        { 0x10000000, TOP - FR, 2 * FR, 0, 0 },  /* pa range beyond 32 bits */
        { 0x10000000, TOP - M4, 2 * M4, 0, PT_MAP_LARGE },
        { 0x10000000, 1ul << 40, FR, 0, 0 },    /* a 64-bit frame */
        { 0x10000000, 0, FR, PT_ACCESSED, 0 },   /* state bits are not a prot */
        { 0x10000000, 0, FR, 0x100, 0 },         /* unknown prot */
        { 0x10000000, 0, FR, 0, 0x2 },           /* unknown flag */
    };
    for (size_t i = 0; i < HT_COUNT(bad); i++)
        HT_ASSERT(pt_map(&pt, bad[i].va, bad[i].pa, bad[i].len, bad[i].prot, bad[i].flags) ==
                      -EINVAL,
                  "pt_map case %zu accepted", i);
    HT_ASSERT(pt_unmap(&pt, VA_END, FR) == -EINVAL && pt_unmap(&pt, 0, FR) == -EINVAL &&
                  pt_unmap(&pt, TOP, FR) == -EINVAL && pt_unmap(&pt, 0x10000000, 0) == -EINVAL,
              "pt_unmap accepted a bad range");
    HT_ASSERT(pt_protect(&pt, 0x20000000, FR, PT_DIRTY) == -EINVAL &&
                  pt_protect(&pt, VA_END, FR, PT_W) == -EINVAL &&
                  pt_protect(&pt, TOP, FR, PT_W) == -EINVAL,
              "pt_protect accepted bad arguments");
    struct leaves l = { 0 };
    HT_ASSERT(pt_for_each(&pt, 0x20000000, 0x20000000, collect, &l) == -EINVAL &&
                  pt_for_each(&pt, 0, TOP + FR, collect, &l) == -EINVAL && l.n == 0,
              "pt_for_each accepted a bad range");
    struct pt_view v;
    HT_EQ_U(pt_walk(&pt, TOP, &v), -EINVAL);
    HT_EQ_U(pt_walk(&pt, 0xffffffff80000000ul, &v), -EINVAL);
    HT_EQ_U(snapshot(), snap);
    HT_EQ_U(fl.calls, 0);
    /* The largest physical addresses are fine. */
    HT_EQ_U(pt_map(&pt, 0x10000000, TOP - FR, FR, 0, 0), 0);
    HT_TRY(expect_leaf(0x10000000, TOP - FR, FR, 0));
    HT_EQ_U(pt_map(&pt, 0x10400000, TOP - M4, M4, 0, PT_MAP_LARGE), 0);
    HT_TRY(expect_leaf(0x10400000, TOP - M4, M4, 0));
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_eexist(void)
{
    HT_TRY(setup());
    HT_EQ_U(pt_map(&pt, 0x00405000, 0, FR, PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, 0x01000000, 0x01000000, M4, PT_W, PT_MAP_LARGE), 0);
    uint64_t snap = snapshot();
    static const uint64_t tries[][2] = {
        { 0x00405000, FR },               /* the same page */
        { 0x00400000, M4 },               /* a range around it */
        { 0, 0x00406000 },                /* from below: a new table before the conflict */
        { 0x01000000 - FR, 2 * FR },      /* the start of the 4 MiB leaf */
        { 0x01000000 + 77 * FR, FR },     /* inside it */
        { 0x00800000, 0x01000000 },       /* over it, from a hole */
    };
    for (size_t i = 0; i < HT_COUNT(tries); i++) {
        int rc = pt_map(&pt, tries[i][0], 0x10000000, tries[i][1], 0, i & 1 ? PT_MAP_LARGE : 0);
        HT_ASSERT(rc == -EEXIST, "case %zu: %d", i, rc);
        HT_EQ_U(snapshot(), snap);
        HT_TRY(check());
    }
    HT_EQ_U(fl.calls, 0);
    HT_TRY(teardown());
}

/* Exact counting: one page table per 4 MiB, nothing left behind on -ENOMEM. */
static void t_enomem_map(void)
{
    HT_TRY(setup());
    pt.gfp = GFP_DMA32 | __GFP_MEMALLOC | __GFP_NOWARN;
    HT_TRY(exhaust());
    HT_TRY(check());
    uint64_t snap = snapshot();
    HT_EQ_U(pt_map(&pt, 0x08048000, 0, FR, PT_W, 0), -ENOMEM);
    HT_EQ_U(snapshot(), snap);
    /* 12 KiB across a 4 MiB boundary: two page tables. */
    give_back(1);
    snap = snapshot();
    HT_EQ_U(pt_map(&pt, 0x00800000 - FR, 0, 3 * FR, PT_W, 0), -ENOMEM);
    HT_EQ_U(snapshot(), snap);
    give_back(1);
    HT_EQ_U(pt_map(&pt, 0x00800000 - FR, 0, 3 * FR, PT_W, 0), 0);
    HT_TRY(check());
    HT_EQ_U(nr_free_pages(), 0);
    HT_EQ_U(pt.nr_tables, 3);
    /* A 4 MiB leaf needs no table; a page in an existing table neither. */
    HT_EQ_U(pt_map(&pt, 0x01000000, 0, M4, PT_W, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&pt, 0x00800000 + 5 * FR, 0, FR, PT_W, 0), 0);
    HT_TRY(check());
    HT_EQ_U(fl.calls, 0);
    give_back(nhoard);
    HT_TRY(teardown());
}

/* ---- splitting 4 MiB leaves ---------------------------------------------------------------- */

static void t_split_unmap(void)
{
    HT_TRY(setup());
    uint64_t va = 0x40000000, pa = 0x80000000;
    HT_EQ_U(pt_map(&pt, va, pa, 3 * M4, PT_W | PT_U, PT_MAP_LARGE), 0);
    uint64_t hole = va + M4 + 5 * FR;
    HT_EQ_U(pt_unmap(&pt, hole, FR), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 2); /* the directory and the split */
    HT_EQ_U(fl.calls, 1);
    HT_ASSERT(fl.va == hole && fl.len == FR, "flush %#lx+%#lx", fl.va, fl.len);
    HT_TRY(expect_leaf(va, pa, M4, PT_W | PT_U));
    HT_TRY(expect_leaf(va + M4, pa + M4, FR, PT_W | PT_U));
    HT_TRY(expect_leaf(hole - FR, pa + M4 + 4 * FR, FR, PT_W | PT_U));
    HT_TRY(expect_hole(hole));
    HT_TRY(expect_leaf(hole + FR, pa + M4 + 6 * FR, FR, PT_W | PT_U));
    HT_TRY(expect_leaf(va + 2 * M4 - FR, pa + 2 * M4 - FR, FR, PT_W | PT_U));
    HT_TRY(expect_leaf(va + 2 * M4, pa + 2 * M4, M4, PT_W | PT_U));
    /* The new page table's entries, at Intel's positions. */
    uint32_t pde = tab(pt.root)[pde_index((uint32_t)(va + M4))];
    HT_EQ_U(pde & 0xfff, 0x7);
    HT_EQ_U(tab(pte_addr(pde))[0], (uint32_t)(pa + M4) | 0x207u);
    HT_EQ_U(tab(pte_addr(pde))[5], 0);

    /* An unmap across two leaves cuts both. */
    HT_EQ_U(pt_unmap(&pt, va + M4 - 2 * FR, 4 * FR), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 3);
    HT_TRY(expect_leaf(va + M4 - 3 * FR, pa + M4 - 3 * FR, FR, PT_W | PT_U));
    HT_TRY(expect_hole(va + M4 - 2 * FR));
    HT_TRY(expect_hole(va + M4 + FR));
    HT_TRY(expect_leaf(va + M4 + 2 * FR, pa + M4 + 2 * FR, FR, PT_W | PT_U));
    /* Remove the rest piece by piece: page tables go as they empty. */
    HT_EQ_U(pt_unmap(&pt, va + M4, M4), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 2);
    HT_EQ_U(pt_unmap(&pt, va, 3 * M4), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 1);
    HT_TRY(teardown());
}

static void t_split_protect(void)
{
    HT_TRY(setup());
    uint64_t va = 0x40000000, pa = 0x00c00000;
    HT_EQ_U(pt_map(&pt, va, pa, 2 * M4, PT_W | PT_U, PT_MAP_LARGE), 0);
    tab(pt.root)[256] |= I386_PTE_A | I386_PTE_D; /* as the CPU would */
    HT_EQ_U(pt_protect(&pt, va + 7 * FR, FR, PT_U | PT_X), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 2);
    HT_TRY(expect_leaf(va + 6 * FR, pa + 6 * FR, FR, PT_W | PT_U));
    HT_TRY(expect_leaf(va + 7 * FR, pa + 7 * FR, FR, PT_U | PT_X));
    HT_TRY(expect_leaf(va + 8 * FR, pa + 8 * FR, FR, PT_W | PT_U));
    HT_TRY(expect_leaf(va + M4, pa + M4, M4, PT_W | PT_U));
    /* Every piece keeps A and D; the protected one lost soft NX and RW. */
    uint32_t *ptes = tab(pte_addr(tab(pt.root)[256]));
    HT_EQ_U(ptes[6], (uint32_t)(pa + 6 * FR) | 0x267u);
    HT_EQ_U(ptes[7], (uint32_t)(pa + 7 * FR) | 0x065u);
    HT_EQ_U(ptes[1023], (uint32_t)(pa + 1023 * FR) | 0x267u);
    struct pt_view v;
    HT_EQ_U(pt_walk(&pt, va + 7 * FR, &v), 0);
    HT_ASSERT(v.accessed && v.dirty, "accessed/dirty lost by the split and protect");
    HT_EQ_U(fl.calls, 1);

    /* A range covering the second leaf whole: rewritten, not split. */
    HT_EQ_U(pt_protect(&pt, va + M4, M4, PT_U | PT_WC), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 2);
    HT_EQ_U(tab(pt.root)[257], (uint32_t)(pa + M4) | 0x28du);
    /* The same protections again, or a hole: nothing changes, no flush. */
    unsigned calls = fl.calls;
    HT_EQ_U(pt_protect(&pt, va + M4, M4, PT_U | PT_WC), 0);
    HT_EQ_U(pt_protect(&pt, 0x80000000, 16 * M4, PT_W), 0);
    HT_EQ_U(fl.calls, calls);
    HT_TRY(teardown());
}

/* Splits need a table: -ENOMEM without one, and nothing changes. */
static void t_enomem_split(void)
{
    HT_TRY(setup());
    pt.gfp = GFP_DMA32 | __GFP_MEMALLOC | __GFP_NOWARN;
    HT_EQ_U(pt_map(&pt, 0x40000000, 0x40000000, 2 * M4, PT_W, PT_MAP_LARGE), 0);
    HT_TRY(exhaust());
    uint64_t snap = snapshot();
    HT_EQ_U(pt_unmap(&pt, 0x40001000, FR), -ENOMEM);
    HT_EQ_U(pt_protect(&pt, 0x40001000, FR, 0), -ENOMEM);
    HT_EQ_U(pt_protect(&pt, 0x40001000, M4, 0), -ENOMEM); /* two splits needed */
    HT_EQ_U(snapshot(), snap);
    HT_EQ_U(fl.calls, 0);
    give_back(1);
    snap = snapshot();
    HT_EQ_U(pt_protect(&pt, 0x40001000, M4, 0), -ENOMEM);
    HT_EQ_U(snapshot(), snap);
    HT_TRY(check());
    HT_EQ_U(pt_unmap(&pt, 0x40001000, FR), 0);
    HT_TRY(check());
    HT_EQ_U(nr_free_pages(), 0);
    /* Unmapping whole leaves needs nothing. */
    HT_EQ_U(pt_unmap(&pt, 0x40400000, M4), 0);
    HT_TRY(check());
    give_back(nhoard);
    HT_TRY(teardown());
}

static void t_destroy_mapped(void)
{
    HT_TRY(setup());
    HT_EQ_U(pt_map(&pt, 0x1000, 0x1000, 3 * M4, PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, 0x40000000, 0x40000000, 64 * M4, PT_W, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&pt, VA_END - 9 * FR, 0, 9 * FR, PT_W, 0), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 6);
    pt_destroy(&pt);
    HT_EQ_U(nr_free_pages(), base_free);
}

static void t_validator_catches(void)
{
    HT_TRY(setup());
    char why[256];
    HT_EQ_U(pt_map(&pt, 0x00400000, 0x5000, FR, PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, 0x40000000, 0x40000000, M4, PT_W, PT_MAP_LARGE), 0);
    HT_TRY(check());
    uint32_t *pte = &tab(pte_addr(tab(pt.root)[1]))[0];
    uint32_t saved = *pte;
    /* An available bit we do not use. */
    *pte = saved | (1u << 10);
    HT_ASSERT(pt_check(&pt, why, sizeof(why)) == -1 && strstr(why, "make_leaf"),
              "stray bit 10 not caught: %s", why);
    /* A page table left empty. */
    *pte = 0;
    HT_ASSERT(pt_check(&pt, why, sizeof(why)) == -1 && strstr(why, "empty table"),
              "empty table not caught: %s", why);
    *pte = saved;
    /* A PSE-36 bit in a 4 MiB PDE. */
    tab(pt.root)[256] |= 1u << 13;
    HT_ASSERT(pt_check(&pt, why, sizeof(why)) == -1 && strstr(why, "make_leaf"),
              "reserved bit 13 not caught: %s", why);
    tab(pt.root)[256] &= ~(1u << 13);
    HT_TRY(check());
    HT_TRY(teardown());
}

/* ---- mirroring ---------------------------------------------------------------------------- */

/*
 * PDE 1023 points to the directory.  Walking the mirror window as the
 * CPU would: 0xffc00000 + i * 4096 is the page table of PDE i (a PDE read
 * as a PTE), 0xfffff000 the directory itself, and SOS's formulas give the
 * address of any entry.
 */
static void mirror_case(bool user_readable)
{
    HT_TRY(setup());
    HT_TRY(install_mirror(user_readable));
    HT_EQ_U(mirror, (uint32_t)pt.root | I386_PTE_P | NX | (user_readable ? I386_PTE_US : 0));
    HT_TRY(check());
    static const struct { uint64_t va, pa, len; unsigned prot, flags; } maps[] = {
        { 0x00400000, 0x00123000, 3 * FR, PT_U | PT_X, 0 },          /* PDE 1: text */
        { 0x08048000, 0x00200000, FR, PT_U | PT_W, 0 },              /* PDE 32 */
        { 0x40000000, 0x12c00000, M4, PT_U | PT_W, PT_MAP_LARGE },   /* PDE 256: 4 MiB */
        { 0xbfffe000, 0x00300000, 2 * FR, PT_U | PT_W, 0 },          /* PDE 767: a stack */
        { VA_END - FR, 0x00400000, FR, PT_U, 0 },                    /* PDE 1022 */
    };
    for (size_t i = 0; i < HT_COUNT(maps); i++)
        HT_EQ_U(pt_map(&pt, maps[i].va, maps[i].pa, maps[i].len, maps[i].prot, maps[i].flags),
                0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 5); /* the directory, 4 page tables: the mirror adds none */

    /* The mirror window, one page per PDE. */
    unsigned present = 0;
    for (unsigned i = 0; i < 1024; i++) {
        struct pt_view v;
        uint32_t pde = tab(pt.root)[i];
        int rc = pt_walk(&pt, I386_MIRROR_BASE + i * FR, &v);
        if (!(pde & I386_PTE_P)) {
            HT_ASSERT(rc == -ENOENT && v.nraw == 2 && v.level == 0 && v.raw[0] == mirror,
                      "mirror page %u: rc %d nraw %u level %u", i, rc, v.nraw, v.level);
            continue;
        }
        present++;
        HT_ASSERT(rc == 0 && v.level == 0 && v.size == FR && v.nraw == 2 && v.raw[0] == mirror &&
                      v.raw[1] == pde,
                  "mirror page %u: rc %d level %u raw %#lx %#lx, PDE %#x", i, rc, v.level,
                  v.raw[0], v.raw[1], pde);
        /* A PDE read as a PTE: frame bits 12..31 (for a 4 MiB PDE, bit 12 is its PAT). */
        HT_EQ_U(v.pa, pde & I386_PTE_FRAME);
        if (i == I386_MIRROR_PDE)
            HT_EQ_U(v.pa, pt.root);
        else if (!(pde & I386_PDE_PS))
            HT_ASSERT(page_count(pfn_to_page(v.pa / FR)) >= 1 && v.pa != pt.root,
                      "mirror page %u: %#lx is not a page table", i, v.pa);
    }
    HT_EQ_U(present, 6); /* 1, 32, 256, 767, 1022 and the mirror itself */

    /* The directory at 0xfffff000, read-only and not executable. */
    struct pt_view d;
    HT_EQ_U(pt_walk(&pt, I386_MIRROR_PD, &d), 0);
    HT_EQ_U(d.pa, pt.root);
    HT_EQ_U(d.raw[1], mirror);
    HT_EQ_U(d.prot, user_readable ? PT_U : 0);

    /* Every mapped page's PTE and PDE, found through the mirror by SOS's
     * formulas and read through the arena, are the entries pt_walk read. */
    for (size_t i = 0; i < HT_COUNT(maps); i++) {
        for (uint64_t off = 0; off < maps[i].len; off += maps[i].flags ? M4 : FR) {
            uint32_t va = (uint32_t)(maps[i].va + off);
            struct pt_view v, w;
            HT_EQ_U(pt_walk(&pt, va, &v), 0);
            uint32_t pde_va = I386_MIRROR_PD + (va >> 22) * 4;
            HT_EQ_U(pt_walk(&pt, pde_va, &w), 0);
            HT_EQ_U(*(uint32_t *)(mm_host_arena() + w.pa + (pde_va & 0xfff)), v.raw[0]);
            if (v.level == 1)
                continue; /* a 4 MiB leaf: its PDE is the leaf */
            uint32_t pte_va = I386_MIRROR_BASE + (va >> 12) * 4;
            HT_EQ_U(pt_walk(&pt, pte_va, &w), 0);
            HT_EQ_U(*(uint32_t *)(mm_host_arena() + w.pa + (pte_va & 0xfff)), v.raw[1]);
            HT_EQ_U(tab(w.pa)[pte_index(va)], v.raw[1]);
        }
    }

    /* pt_for_each over the mirror window sees each present PDE as a 4 KiB leaf;
     * over the range it never sees the mirror. */
    struct leaves l = { 0 };
    HT_EQ_U(pt_for_each(&pt, I386_MIRROR_BASE, TOP, collect, &l), 0);
    HT_EQ_U(l.n, 6);
    HT_ASSERT(l.v[5].va == I386_MIRROR_PD && l.v[5].pa == pt.root, "last mirror leaf %#lx",
              l.v[5].va);
    memset(&l, 0, sizeof(l));
    HT_EQ_U(pt_for_each(&pt, 0, VA_END, collect, &l), 0);
    HT_EQ_U(l.n, 3 + 1 + 1 + 2 + 1);

    /* Operations near the mirror leave it alone. */
    HT_EQ_U(pt_unmap(&pt, VA_END - M4, M4), 0);
    HT_EQ_U(pt_map(&pt, VA_END - M4, 0xffc00000, M4, PT_U, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_protect(&pt, VA_END - 2 * FR, 2 * FR, PT_U | PT_W), 0); /* splits PDE 1022 */
    HT_TRY(check());
    HT_EQ_U(pt_unmap(&pt, 0, VA_END), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 1);
    HT_EQ_U(tab(pt.root)[I386_MIRROR_PDE], mirror);

    /* pt_destroy with mappings and the mirror: it does not follow PDE 1023
     * (the root would be freed twice), and every frame comes back. */
    HT_EQ_U(pt_map(&pt, 0x00400000, 0x00123000, 3 * FR, PT_U | PT_X, 0), 0);
    HT_EQ_U(pt_map(&pt, VA_END - FR, 0x00400000, FR, PT_U, 0), 0);
    HT_TRY(check());
    pt_destroy(&pt);
    HT_EQ_U(pt.nr_tables, 0);
    HT_EQ_U(nr_free_pages(), base_free);
    char why[256];
    HT_ASSERT(node_check(why, sizeof(why)) == 0, "node_check: %s", why);
}

static void t_mirror(void)
{
    HT_TRY(mirror_case(false));
}

static void t_mirror_user_readable(void)
{
    HT_TRY(mirror_case(true));
}

/* ---- fork's copy ------------------------------------------------------------------------- */

struct clone_count {
    unsigned leaves;
    uint64_t bytes;
};

static int clone_fn(struct pt_view *v, void *arg)
{
    struct clone_count *c = arg;
    c->leaves++;
    c->bytes += v->size;
    return 0;
}

static void destroy_fn(uint64_t va, uint64_t pa, uint64_t size, void *arg)
{
    struct clone_count *c = arg;
    (void)va;
    (void)pa;
    c->leaves++;
    c->bytes += size;
}

/*
 * pt_clone and pt_destroy_each (mm/pgtable_clone.c) over i386 tables,
 * each with its own mirror: the copy is made a table at a time from the
 * 32-bit entries, write access goes from both (copy-on-write), and
 * neither mirror is copied, followed or freed.
 */
static void t_clone(void)
{
    HT_TRY(setup());
    HT_TRY(install_mirror(false));
    HT_EQ_U(pt_map(&pt, 0x08048000, 0x00123000, 5 * FR, PT_U | PT_X, 0), 0);
    HT_EQ_U(pt_map(&pt, 0x0804d000, 0x00200000, 3 * FR, PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, 0x40000000, 0x12c00000, M4, PT_U | PT_W, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&pt, VA_END - 2 * FR, 0x00300000, 2 * FR, PT_U | PT_W, 0), 0);
    tab(pte_addr(tab(pt.root)[32]))[0x4d] |= I386_PTE_A | I386_PTE_D; /* as the CPU would */
    HT_TRY(check());

    struct pgtable child;
    HT_EQ_U(pt_init(&child, &pt_i386, GFP_DMA32, 0, VA_END), 0);
    uint32_t child_mirror = pt_i386_mirror_entry(child.root, true);
    tab(child.root)[I386_MIRROR_PDE] = child_mirror;
    struct clone_count c = { 0, 0 };
    unsigned calls = fl.calls;
    HT_EQ_U(pt_clone(&child, &pt, 0, VA_END, PT_W, clone_fn, &c), 0);
    HT_EQ_U(c.leaves, 5 + 3 + 1 + 2);
    HT_EQ_U(c.bytes, 10 * FR + M4);
    HT_EQ_U(fl.calls, calls + 1); /* the parent lost write access: one flush */
    held = child.nr_tables; /* the child's tables, for check()'s frame count */
    HT_TRY(check());
    char why[256];
    HT_ASSERT(pt_check(&child, why, sizeof(why)) == 0, "pt_check(child): %s", why);
    HT_EQ_U(child.nr_tables, 3); /* the directory, the tables of PDEs 32 and 1022 */
    HT_EQ_U(tab(child.root)[I386_MIRROR_PDE], child_mirror);

    /* Both read-only now, same frames, the state bits copied. */
    struct pt_view a, b;
    static const uint64_t probe[] = { 0x08048000, 0x0804d000, 0x0804f000, 0x40123000,
                                      VA_END - FR };
    for (size_t i = 0; i < HT_COUNT(probe); i++) {
        HT_EQ_U(pt_walk(&pt, probe[i], &a), 0);
        HT_EQ_U(pt_walk(&child, probe[i], &b), 0);
        HT_ASSERT(a.pa == b.pa && a.prot == b.prot && !(a.prot & PT_W) &&
                      a.accessed == b.accessed && a.dirty == b.dirty && a.size == b.size,
                  "%#lx: parent pa %#lx prot %#x, child pa %#lx prot %#x", probe[i],
                  a.pa, a.prot, b.pa, b.prot);
        HT_EQ_U(a.raw[a.nraw - 1], b.raw[b.nraw - 1]);
    }
    HT_EQ_U(pt_walk(&child, 0x0804d000, &b), 0);
    HT_ASSERT(b.accessed && b.dirty && b.raw[1] == (0x00200000u | 0x265u),
              "child's copy %#lx", b.raw[1]);
    HT_EQ_U(pt_walk(&child, 0x40000000, &b), 0);
    HT_EQ_U(b.raw[0], 0x12c00285u);

    /* Exit's teardown of the child: every leaf reported once, the mirror not
     * followed, every table freed. */
    memset(&c, 0, sizeof(c));
    pt_destroy_each(&child, destroy_fn, &c);
    HT_EQ_U(c.leaves, 5 + 3 + 1 + 2);
    HT_EQ_U(c.bytes, 10 * FR + M4);
    HT_EQ_U(child.nr_tables, 0);
    held = 0;
    HT_TRY(check());
    HT_TRY(teardown());
}

/* ---- table pages below 4 GiB --------------------------------------------------------------- */

/*
 * A node with RAM on both sides of 4 GiB: GFP_DMA32 puts every table page
 * below 4 GiB, where a 20-bit frame number reaches it.
 */
static void t_tables_below_4g(void)
{
    static const struct host_ram wide[] = { { 1 * MiB, 8 * MiB }, { 4 * GiB, 4 * GiB + 8 * MiB } };
    mm_host_init((4 * GiB + 8 * MiB) / FR, wide, HT_COUNT(wide));
    base_free = nr_free_pages();
    held = 0;
    mirror = 0;
    memset(&fl, 0, sizeof(fl));
    /* A plain allocation prefers the frames above 4 GiB... */
    struct page *p = alloc_pages(GFP_KERNEL, 0);
    HT_ASSERT(p && page_to_phys(p) >= 4 * GiB, "GFP_KERNEL page at %#lx",
              p ? page_to_phys(p) : 0ul);
    __free_pages(p, 0);
    /* ...the tables do not. */
    HT_EQ_U(pt_init(&pt, &pt_i386, GFP_DMA32, 0, VA_END), 0);
    HT_TRY(install_mirror(false));
    for (unsigned i = 0; i < 200; i++)
        HT_EQ_U(pt_map(&pt, (uint64_t)i * 5 * M4 + 7 * FR, 0, FR, PT_W, 0), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 201);
    HT_TRY(teardown());
}

/* ---- random operations against a page model ---------------------------------------------- */

struct mpage {
    uint32_t pa;
    uint8_t prot;
    bool mapped;
};

/* Two windows: [0, LOW_END) and [HIGH_START, VA_END), the second ending at the mirror. */
#define LOW_END (48 * MiB)
#define HIGH_START (VA_END - 16 * MiB)
#define LOW_PAGES (LOW_END / FR)
#define NPAGES (LOW_PAGES + (VA_END - HIGH_START) / FR)

static struct mpage *model;

/* What the random case went through: each must happen, or the case
 * tests less than it says. */
static struct {
    unsigned maps, eexist, einval, splits, freed;
    uint64_t large_pages;   /* pages found in 4 MiB leaves by the walks */
} stats;

static uint64_t page_va(uint64_t i)
{
    return i < LOW_PAGES ? i * FR : HIGH_START + (i - LOW_PAGES) * FR;
}

/* pt_walk of pages [s, e) of the model (clipped), against the model. */
static void model_compare_walk(uint64_t s, uint64_t e)
{
    for (uint64_t i = s; i < e && i < NPAGES; i++) {
        struct pt_view v;
        uint64_t va = page_va(i);
        int rc = pt_walk(&pt, va, &v);
        if (!model[i].mapped) {
            HT_ASSERT(rc == -ENOENT, "page %#lx: walk %d, the model says unmapped", va, rc);
            continue;
        }
        HT_ASSERT(rc == 0 && v.pa + (va - v.va) == model[i].pa && v.prot == model[i].prot,
                  "page %#lx: walk %d pa %#lx prot %#x, the model says pa %#x prot %#x",
                  va, rc, (v.pa + (va - v.va)), v.prot, model[i].pa, model[i].prot);
        if (v.level == 1)
            stats.large_pages++;
    }
}

struct cmp {
    uint64_t seen;
    const char *bad;
    uint64_t bad_va;
};

static int model_leaf(const struct pt_view *v, void *arg)
{
    struct cmp *c = arg;
    for (uint64_t off = 0; off < v->size; off += FR) {
        uint64_t va = v->va + off, i;
        if (va < LOW_END)
            i = va / FR;
        else if (va >= HIGH_START && va < VA_END)
            i = LOW_PAGES + (va - HIGH_START) / FR;
        else {
            c->bad = "a leaf outside the windows";
            c->bad_va = va;
            return 1;
        }
        if (!model[i].mapped || model[i].pa != v->pa + off || model[i].prot != v->prot) {
            c->bad = "a page the model disagrees with";
            c->bad_va = va;
            return 1;
        }
        c->seen++;
    }
    return 0;
}

static void model_compare_leaves(void)
{
    struct cmp c = { 0, NULL, 0 };
    uint64_t want = 0;
    HT_EQ_U(pt_for_each(&pt, 0, VA_END, model_leaf, &c), 0);
    HT_ASSERT(!c.bad, "%s at %#lx", c.bad, c.bad_va);
    for (uint64_t i = 0; i < NPAGES; i++)
        want += model[i].mapped;
    HT_ASSERT(c.seen == want, "%lu pages in leaves, %lu in the model", c.seen, want);
}

/* One random operation on pages [s, s + n) of one window, checked against the model. */
static void random_op(uint64_t s, uint64_t n, uint64_t unit)
{
    uint64_t va = page_va(s), len = n * FR;
    unsigned prot = (unsigned)rnd(PT_PROT_MASK + 1);
    unsigned calls = fl.calls;
    uint64_t changed_lo = ~0ul, changed_hi = 0, tables = pt.nr_tables;
    int rc;

    switch (rnd(3)) {
    case 0: {
        bool busy = false;
        for (uint64_t i = s; i < s + n; i++)
            busy = busy || model[i].mapped;
        /* pa congruent to va modulo the unit (mostly), so 4 MiB leaves happen;
         * now and then too close to 4 GiB for the length. */
        uint64_t pa = rnd(1000) * M4 + (rnd(4) ? va % unit : rnd(1024) * FR);
        if (rnd(16) == 0)
            pa = TOP - len + rnd(2) * M4;
        bool too_high = pa >= TOP || len > TOP - pa;
        int want = too_high ? -EINVAL : busy ? -EEXIST : 0;
        rc = pt_map(&pt, va, pa, len, prot, rnd(4) ? PT_MAP_LARGE : 0);
        HT_ASSERT(rc == want, "map %#lx+%#lx to %#lx: %d, expected %d", va, len,
                  pa, rc, want);
        for (uint64_t i = s; rc == 0 && i < s + n; i++)
            model[i] = (struct mpage){ (uint32_t)(pa + (i - s) * FR), (uint8_t)prot, true };
        stats.maps += rc == 0;
        stats.eexist += rc == -EEXIST;
        stats.einval += rc == -EINVAL;
        HT_EQ_U(fl.calls, calls);
        return;
    }
    case 1:
        rc = pt_unmap(&pt, va, len);
        stats.freed += pt.nr_tables < tables;
        stats.splits += pt.nr_tables > tables;
        HT_ASSERT(rc == 0, "unmap %#lx+%#lx: %d", va, len, rc);
        for (uint64_t i = s; i < s + n; i++) {
            if (model[i].mapped) {
                changed_lo = changed_lo < page_va(i) ? changed_lo : page_va(i);
                changed_hi = page_va(i) + FR;
            }
            model[i].mapped = false;
        }
        break;
    default:
        rc = pt_protect(&pt, va, len, prot);
        HT_ASSERT(rc == 0, "protect %#lx+%#lx: %d", va, len, rc);
        stats.splits += pt.nr_tables > tables;
        for (uint64_t i = s; i < s + n; i++) {
            if (model[i].mapped && model[i].prot != prot) {
                changed_lo = changed_lo < page_va(i) ? changed_lo : page_va(i);
                changed_hi = page_va(i) + FR;
            }
            model[i].prot = (uint8_t)prot;
        }
        break;
    }
    if (changed_hi) {
        HT_ASSERT(fl.calls == calls + 1, "%u flushes for a change", fl.calls - calls);
        HT_ASSERT(fl.va >= va && fl.va + fl.len <= va + len && fl.va <= changed_lo &&
                      fl.va + fl.len >= changed_hi,
                  "flush %#lx+%#lx for changes in [%#lx, %#lx) of %#lx+%#lx",
                  fl.va, fl.len, changed_lo, changed_hi, va, len);
    }
    HT_ASSERT(fl.calls <= calls + 1, "%u flushes for one operation", fl.calls - calls);
}

/* A start page and a page count inside one window, in units (4 KiB or
 * 4 MiB), sometimes off the unit's alignment. */
static void random_range(uint64_t unit, uint64_t max_units, uint64_t *s, uint64_t *n)
{
    uint64_t per = unit / FR;
    uint64_t first = rnd(2) ? 0 : LOW_PAGES, count = first ? NPAGES - LOW_PAGES : LOW_PAGES;
    *s = rnd(count / per) * per;
    if (rnd(3) == 0)
        *s += rnd(per);
    *n = (1 + rnd(max_units)) * per;
    if (rnd(3) == 0)
        *n = 1 + rnd(*n);
    if (*s >= count)
        *s = count - 1;
    if (*n > count - *s)
        *n = count - *s;
    *s += first;
}

static void t_random(void)
{
    HT_TRY(setup());
    HT_TRY(install_mirror(true));
    rng = 0x9e3779b97f4a7c15ul;
    model = calloc(NPAGES, sizeof(*model));
    HT_ASSERT(model, "out of host memory");
    memset(&stats, 0, sizeof(stats));
    for (unsigned op = 0; op < 4000; op++) {
        uint64_t s, n, unit = rnd(2) ? FR : M4;
        random_range(unit, unit == FR ? 64 : 3, &s, &n);
        HT_TRY(random_op(s, n, unit));
        HT_TRY(check());
        HT_TRY(model_compare_leaves());
        /* pt_walk of the pages around the operation every step, of every
         * page of both windows every 16 steps. */
        if (op % 16 == 0)
            HT_TRY(model_compare_walk(0, NPAGES));
        else
            HT_TRY(model_compare_walk(s ? s - 1 : 0, s + n + 1));
    }
    HT_TRY(model_compare_walk(0, NPAGES));
    free(model);
    HT_ASSERT(stats.maps > 100 && stats.eexist > 100 && stats.einval > 10 &&
                  stats.splits > 30 && stats.freed > 50 && stats.large_pages > 100000,
              "too little happened: %u maps, %u -EEXIST, %u -EINVAL, %u splits, %u frees, "
              "%lu pages in 4 MiB leaves",
              stats.maps, stats.eexist, stats.einval, stats.splits, stats.freed,
              stats.large_pages);
    fprintf(stderr, "random: %u maps, %u -EEXIST, %u -EINVAL, %u splitting ops, %u freeing ops, "
           "%lu pages walked in 4 MiB leaves\n",
           stats.maps, stats.eexist, stats.einval, stats.splits, stats.freed,
           stats.large_pages);
    HT_TRY(teardown());
}

static const struct htest cases[] = {
    HT_CASE(format_bits),
    HT_CASE(header_helpers),
    HT_CASE(prot_roundtrip),
    HT_CASE(init_destroy),
    HT_CASE(map_4k),
    HT_CASE(map_4m),
    HT_CASE(edges),
    HT_CASE(einval),
    HT_CASE(eexist),
    HT_CASE(enomem_map),
    HT_CASE(split_unmap),
    HT_CASE(split_protect),
    HT_CASE(enomem_split),
    HT_CASE(destroy_mapped),
    HT_CASE(validator_catches),
    HT_CASE(mirror),
    HT_CASE(mirror_user_readable),
    HT_CASE(clone),
    HT_CASE(tables_below_4g),
    HT_CASE(random),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
