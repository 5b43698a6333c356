/*
 * Host tests of the page-table walker (mm/pgtable.c) and the x86-64
 * format (mm/pt_x86_64.c).
 *
 * Physical memory is the private arena of tests/host/mm_host.c (32 MiB of
 * address space, 30 MiB of RAM), so every table page is a real buddy
 * allocation in fake physical memory, read and written through the
 * arena.  The frames the tables map are just numbers: nothing reads them,
 * so a test can map 5 GiB of "physical memory" with a few table pages.
 *
 * After every operation check() runs two validators: pt_check() (the
 * walker's own, recursive) and raw_count() below, written again here
 * from the Intel bit layout without the format's functions.  Between
 * them they check that nr_tables counts exactly the table pages
 * reachable from the root, that no table is empty unless kept
 * (keep_top_tables), that every leaf is aligned to its size, and the
 * frame count: free frames + table pages + frames the test holds =
 * the free frames before pt_init (no leak, no double free).  A case ends
 * by unmapping everything and calling pt_destroy, and the free frames
 * must be back to the baseline.
 *
 * The random cases keep a model, one record per 4 KiB page (mapped, pa,
 * prot), and compare every page of their window after every operation.
 */
#include <stdlib.h>

#include "htest.h"
#include "mm_host.h"
#include <kernel/errno.h>
#include <mm/gfp.h>
#include <mm/pgtable.h>
#include <mm/pt_x86_64.h>
#include <mm/zone.h>

#define KiB (1ul << 10)
#define MiB (1ul << 20)
#define GiB (1ul << 30)
#define FR 4096ul
#define M2 (2 * MiB)

#define USER_END 0x0000800000000000ul
#define HIGH_START 0xffff800000000000ul
#define HIGH_END 0xfffffffffffff000ul


/* ---- the arena, the tables under test, the flush log ---------------------------------- */

static const struct host_ram ram[] = { { 1 * MiB, 31 * MiB } };

static struct pgtable pt;
static uint64_t base_free; /* nr_free_pages() before pt_init */
static uint64_t held;      /* frames the test holds itself (exhaustion) */

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

static void setup(uint64_t start, uint64_t end, bool keep)
{
    mm_host_init(32 * MiB / FR, ram, HT_COUNT(ram));
    base_free = nr_free_pages();
    held = 0;
    memset(&fl, 0, sizeof(fl));
    int err = pt_init(&pt, &pt_x86_64, GFP_KERNEL, start, end);
    HT_ASSERT(err == 0, "pt_init: %d", err);
    pt.keep_top_tables = keep;
    pt.flush = rec_flush;
}

static uint64_t *tab(uint64_t pa)
{
    return (uint64_t *)(mm_host_arena() + pa);
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

static bool raw_leaf(uint64_t e, unsigned level)
{
    return level == 0 || (level <= 2 && (e & X86_PTE_PS));
}

static unsigned raw_present(uint64_t pa)
{
    unsigned n = 0;
    for (unsigned i = 0; i < 512; i++)
        n += tab(pa)[i] & X86_PTE_P;
    return n;
}

/* The pgtable raw_count() validates: pt, or the destination of a clone. */
static const struct pgtable *raw_pt = &pt;

/* Count the table pages below (and including) the table at pa, checking
 * each from the raw bits.  Root entries outside the pgtable's range are
 * not its own and are skipped. */
static void raw_count(uint64_t pa, unsigned level, uint64_t base, uint64_t *tables)
{
    HT_ASSERT(pa && !(pa & (FR - 1)) && mm_host_is_ram(pa, FR), "table %#lx is not RAM",
              pa);
    HT_ASSERT(page_count(pfn_to_page(pa / FR)) >= 1, "table %#lx is a free frame", pa);
    (*tables)++;
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = tab(pa)[i], size = FR << (9 * level);
        uint64_t va = base + i * size;
        if (level == 3 && i >= 256)
            va |= 0xffff000000000000ul;
        if (level == 3 && (va + size - 1 < raw_pt->va_start || va >= raw_pt->va_end))
            continue;
        if (!(e & X86_PTE_P))
            continue;
        if (raw_leaf(e, level)) {
            uint64_t lpa = e & X86_PTE_ADDR & ~(level ? X86_PTE_PAT_LARGE : 0);
            HT_ASSERT((lpa & (size - 1)) == 0, "leaf %#lx at %#lx misaligned", e, va);
            continue;
        }
        HT_ASSERT((e & X86_PTE_RW) && !(e & X86_PTE_NX), "table entry %#lx at %#lx is not rw/x",
                  e, va);
        HT_ASSERT(!!(e & X86_PTE_US) == (va < USER_END), "table entry %#lx at %#lx: U/S",
                  e, va);
        uint64_t child = e & X86_PTE_ADDR;
        HT_ASSERT(raw_present(child) > 0 || (raw_pt->keep_top_tables && level == 3),
                  "empty table %#lx at %#lx (level %u) was not freed", child, va,
                  level - 1);
        HT_TRY(raw_count(child, level - 1, va, tables));
    }
}

static void check(void)
{
    char why[256];
    uint64_t tables = 0;
    HT_ASSERT(pt_check(&pt, why, sizeof(why)) == 0, "pt_check: %s", why);
    HT_ASSERT(node_check(why, sizeof(why)) == 0, "node_check: %s", why);
    HT_TRY(raw_count(pt.root, 3, 0, &tables));
    HT_ASSERT(tables == pt.nr_tables, "%lu tables reachable, nr_tables %lu", tables,
              pt.nr_tables);
    HT_ASSERT(nr_free_pages() + pt.nr_tables + held == base_free,
              "%lu free + %lu tables + %lu held != %lu at the start", nr_free_pages(),
              pt.nr_tables, held, base_free);
    HT_ASSERT(!fl.check_failed, "pt_check failed inside a flush");
}

/* Unmap the whole range, destroy: every frame must be back. */
static void teardown(void)
{
    HT_EQ_U(pt_unmap(&pt, pt.va_start, pt.va_end - pt.va_start), 0);
    HT_TRY(check());
    pt_destroy(&pt);
    HT_EQ_U(pt.nr_tables, 0);
    HT_EQ_U(nr_free_pages() + held, base_free);
}

/* A fingerprint of every reachable table page (address and contents),
 * nr_tables and the free frame count: equal means nothing changed. */
static uint64_t hash_tables(uint64_t pa, unsigned level, uint64_t h)
{
    const uint8_t *b = (const uint8_t *)tab(pa);
    for (uint64_t i = 0; i < 8; i++)
        h = (h ^ ((pa >> (8 * i)) & 0xff)) * 0x100000001b3ul;
    for (uint64_t i = 0; i < FR; i++)
        h = (h ^ b[i]) * 0x100000001b3ul;
    for (unsigned i = 0; i < 512 && level > 0; i++) {
        uint64_t e = tab(pa)[i];
        if ((e & X86_PTE_P) && !raw_leaf(e, level))
            h = hash_tables(e & X86_PTE_ADDR, level - 1, h);
    }
    return h;
}

static uint64_t snapshot(void)
{
    return hash_tables(pt.root, 3, 0xcbf29ce484222325ul) ^ pt.nr_tables * 31 ^
           nr_free_pages() * 977;
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
    unsigned level = size == FR ? 0 : size == M2 ? 1 : 2;
    HT_EQ_U(v.level, level);
    HT_EQ_U(v.nraw, 4 - level);
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
    int stop_at;      /* return 7 from this call (1-based), 0: never */
};

static int collect(const struct pt_view *v, void *arg)
{
    struct leaves *l = arg;
    if (l->n < HT_COUNT(l->v))
        l->v[l->n] = *v;
    l->n++;
    return l->stop_at && (int)l->n == l->stop_at ? 7 : 0;
}

static int count_leaf(const struct pt_view *v, void *arg)
{
    uint64_t *by_size = arg;
    by_size[v->level]++;
    return 0;
}

/* ---- the format ------------------------------------------------------------------------ */

static void t_format_bits(void)
{
    const struct pt_format *f = &pt_x86_64;
    HT_EQ_U(X86_PAT_MSR_VALUE, 0x0407050600070106ul);
    HT_EQ_U(f->levels, 4);
    HT_EQ_U(f->entry_bytes, 8);
    HT_EQ_U(f->index_bits, 9);
    HT_EQ_U(f->leaf_levels, 7);
    HT_EQ_U(f->va_bits, 48);
    HT_EQ_U(f->pa_bits, 52);

    uint64_t pa = 0x12345000;
    HT_EQ_U(f->make_leaf(pa, 0, 0), pa | X86_PTE_P | X86_PTE_NX);
    HT_EQ_U(f->make_leaf(pa, 0, PT_W | PT_X | PT_U | PT_G),
            pa | X86_PTE_P | X86_PTE_RW | X86_PTE_US | X86_PTE_G);
    HT_EQ_U(f->make_leaf(pa, 0, PT_X | PT_WC), pa | X86_PTE_P | X86_PTE_PWT);
    HT_EQ_U(f->make_leaf(pa, 0, PT_X | PT_UC), pa | X86_PTE_P | X86_PTE_PWT | X86_PTE_PCD);
    HT_EQ_U(f->make_leaf(pa, 0, PT_X | PT_WT),
            pa | X86_PTE_P | X86_PTE_PWT | X86_PTE_PCD | X86_PTE_PAT);
    HT_EQ_U(f->make_leaf(pa, 0, PT_X | PT_ACCESSED | PT_DIRTY),
            pa | X86_PTE_P | X86_PTE_A | X86_PTE_D);
    /* Large leaves: PS, and PAT moves to bit 12. */
    HT_EQ_U(f->make_leaf(M2, 1, PT_X), M2 | X86_PTE_P | X86_PTE_PS);
    HT_EQ_U(f->make_leaf(M2, 1, PT_X | PT_WT),
            M2 | X86_PTE_P | X86_PTE_PS | X86_PTE_PWT | X86_PTE_PCD | X86_PTE_PAT_LARGE);
    HT_EQ_U(f->make_leaf(GiB, 2, PT_X | PT_WC), GiB | X86_PTE_P | X86_PTE_PS | X86_PTE_PWT);

    /* Tables: P|RW, U/S in the lower half only, never NX. */
    HT_EQ_U(f->make_table(pa, 0x1000), pa | X86_PTE_P | X86_PTE_RW | X86_PTE_US);
    HT_EQ_U(f->make_table(pa, USER_END - 1), pa | X86_PTE_P | X86_PTE_RW | X86_PTE_US);
    HT_EQ_U(f->make_table(pa, HIGH_START), pa | X86_PTE_P | X86_PTE_RW);
    HT_EQ_U(f->table_pa(f->make_table(0x000ffffffffff000ul, 0)), 0x000ffffffffff000ul);

    HT_ASSERT(!f->present(0) && f->present(X86_PTE_P), "present");
    HT_ASSERT(f->is_leaf(0x1, 0) && f->is_leaf(X86_PTE_P | X86_PTE_PS, 1) &&
              f->is_leaf(X86_PTE_P | X86_PTE_PS, 2) && !f->is_leaf(X86_PTE_P, 1) &&
              !f->is_leaf(X86_PTE_P | X86_PTE_PS, 3), "is_leaf");

    static const uint64_t ok[] = { 0, 0x7ffffffffffful, HIGH_START, ~0ul };
    static const uint64_t bad[] = { USER_END, 0xffff7ffffffffffful, 1ul << 63, 1ul << 48 };
    for (size_t i = 0; i < HT_COUNT(ok); i++)
        HT_ASSERT(f->va_ok(ok[i]), "%#lx is canonical", ok[i]);
    for (size_t i = 0; i < HT_COUNT(bad); i++)
        HT_ASSERT(!f->va_ok(bad[i]), "%#lx is not canonical", bad[i]);

    /* Entries not made by make_leaf: UC- reads as UC, WP as WT, index 4 as WB. */
    struct pt_view v;
    static const struct { uint64_t bits; unsigned cache; } foreign[] = {
        { X86_PTE_PCD, PT_UC },
        { X86_PTE_PAT, PT_WB },
        { X86_PTE_PAT | X86_PTE_PWT, PT_WT },
        { X86_PTE_PAT | X86_PTE_PCD, PT_UC },
    };
    for (size_t i = 0; i < HT_COUNT(foreign); i++) {
        f->decode_leaf(pa | X86_PTE_P | foreign[i].bits, 0, &v);
        HT_EQ_U(v.prot, PT_X | foreign[i].cache);
    }
}

static void t_prot_roundtrip(void)
{
    const struct pt_format *f = &pt_x86_64;
    unsigned n = 0;
    for (unsigned level = 0; level < 3; level++) {
        uint64_t size = FR << (9 * level);
        uint64_t pas[] = { 0, size, (1ul << 52) - size, 0x5a5a5ul * size & ((1ul << 52) - 1) };
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
                    HT_ASSERT(f->present(e) && f->is_leaf(e, level), "entry %#lx", e);
                    n++;
                }
            }
        }
    }
    HT_EQ_U(n, 3 * 4 * 64 * 4);
}

static void t_prot_str(void)
{
    char b[16];
    HT_EQ_STR(pt_prot_str(0, b), "r-- -- wb");
    HT_EQ_STR(pt_prot_str(PT_W | PT_X | PT_U | PT_G, b), "rwx ug wb");
    HT_EQ_STR(pt_prot_str(PT_W | PT_G | PT_WC, b), "rw- -g wc");
    HT_EQ_STR(pt_prot_str(PT_UC, b), "r-- -- uc");
    HT_EQ_STR(pt_prot_str(PT_X | PT_U | PT_WT, b), "r-x u- wt");
}

/* ---- set-up, mapping, walking ------------------------------------------------------------ */

static void t_init_destroy(void)
{
    HT_TRY(setup(0, USER_END, false));
    HT_EQ_U(pt.nr_tables, 1);
    HT_TRY(check());
    pt_destroy(&pt);
    HT_EQ_U(nr_free_pages(), base_free);

    struct pgtable bad;
    static const uint64_t ranges[][2] = {
        { 0x1000, 0x1000 },                     /* empty */
        { 0x2000, 0x1000 },                     /* reversed */
        { 0x1001, 0x3000 },                     /* unaligned */
        { 0, 0x1000000000000ul },              /* runs past the lower half */
        { 0x7ffffffff000ul, HIGH_START + FR }, /* across the hole */
        { USER_END, HIGH_START },               /* non-canonical */
    };
    for (size_t i = 0; i < HT_COUNT(ranges); i++)
        HT_ASSERT(pt_init(&bad, &pt_x86_64, GFP_KERNEL, ranges[i][0], ranges[i][1]) == -EINVAL,
                  "pt_init [%#lx, %#lx) accepted", ranges[i][0], ranges[i][1]);
    struct pt_format broken = pt_x86_64;
    broken.leaf_levels = 0x6; /* no 4 KiB leaves */
    HT_EQ_U(pt_init(&bad, &broken, GFP_KERNEL, 0, USER_END), -EINVAL);
    broken = pt_x86_64;
    broken.index_bits = 10; /* 8 KiB tables */
    HT_EQ_U(pt_init(&bad, &broken, GFP_KERNEL, 0, USER_END), -EINVAL);
    HT_EQ_U(nr_free_pages(), base_free);

    HT_TRY(exhaust());
    HT_EQ_U(pt_init(&bad, &pt_x86_64, GFP_KERNEL | __GFP_NOWARN, 0, USER_END), -ENOMEM);
    give_back(nhoard);
    HT_EQ_U(nr_free_pages(), base_free);
}

static void t_map_4k(void)
{
    HT_TRY(setup(0, USER_END, false));
    uint64_t va = 0x400000, pa = 0x1000000;
    HT_EQ_U(pt_map(&pt, va, pa, 3 * FR, PT_W | PT_U, 0), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 4);
    HT_EQ_U(fl.calls, 0); /* filling empty entries needs no flush */
    for (uint64_t i = 0; i < 3; i++)
        HT_TRY(expect_leaf(va + i * FR + 0x123, pa + i * FR, FR, PT_W | PT_U));

    struct pt_view v;
    HT_EQ_U(pt_walk(&pt, va + FR, &v), 0);
    HT_EQ_U(v.raw[3], pt_x86_64.make_leaf(pa + FR, 0, PT_W | PT_U));
    for (unsigned l = 0; l < 3; l++)
        HT_EQ_U(v.raw[l] & ~X86_PTE_ADDR, X86_PTE_P | X86_PTE_RW | X86_PTE_US);
    HT_ASSERT(!v.accessed && !v.dirty, "fresh leaf accessed or dirty");

    /* -ENOENT at each depth: raw says how far the walk got. */
    HT_EQ_U(pt_walk(&pt, va + 3 * FR, &v), -ENOENT);
    HT_ASSERT(v.nraw == 4 && v.level == 0 && v.raw[3] == 0, "nraw %u level %u", v.nraw, v.level);
    HT_EQ_U(pt_walk(&pt, va + M2, &v), -ENOENT);
    HT_ASSERT(v.nraw == 3 && v.level == 1, "nraw %u level %u", v.nraw, v.level);
    HT_EQ_U(pt_walk(&pt, va + GiB, &v), -ENOENT);
    HT_ASSERT(v.nraw == 2 && v.level == 2, "nraw %u level %u", v.nraw, v.level);
    HT_EQ_U(pt_walk(&pt, 1ul << 39, &v), -ENOENT);
    HT_ASSERT(v.nraw == 1 && v.level == 3 && v.raw[0] == 0, "nraw %u level %u", v.nraw, v.level);
    /* Any canonical address can be walked, also outside [va_start, va_end). */
    HT_EQ_U(pt_walk(&pt, HIGH_START, &v), -ENOENT);
    HT_EQ_U(pt_walk(&pt, USER_END, &v), -EINVAL);

    HT_EQ_U(pt_unmap(&pt, va, 3 * FR), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 1);
    HT_EQ_U(fl.calls, 1);
    HT_ASSERT(fl.va == va && fl.len == 3 * FR, "flush %#lx+%#lx", fl.va, fl.len);
    HT_TRY(teardown());
}

static void t_map_2m(void)
{
    HT_TRY(setup(0, USER_END, false));
    uint64_t va = GiB + M2, pa = 7 * GiB + 6 * M2;
    HT_EQ_U(pt_map(&pt, va, pa, 2 * M2, PT_W, PT_MAP_LARGE), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 3); /* root, PDPT, PD */
    HT_TRY(expect_leaf(va, pa, M2, PT_W));
    HT_TRY(expect_leaf(va + M2 + 0x1234, pa + M2, M2, PT_W));
    struct pt_view v;
    HT_EQ_U(pt_walk(&pt, va, &v), 0);
    HT_ASSERT(v.raw[2] & X86_PTE_PS, "no PS in %#lx", v.raw[2]);
    HT_TRY(expect_hole(va - FR));
    HT_TRY(expect_hole(va + 2 * M2));

    /* Without PT_MAP_LARGE: 4 KiB leaves. */
    uint64_t by_size[4] = { 0 };
    HT_EQ_U(pt_map(&pt, 3 * GiB, pa, M2, PT_W, 0), 0);
    HT_TRY(check());
    HT_EQ_U(pt_for_each(&pt, 3 * GiB, 3 * GiB + M2, count_leaf, by_size), 0);
    HT_ASSERT(by_size[0] == 512 && by_size[1] == 0, "%lu 4K, %lu 2M leaves", by_size[0],
              by_size[1]);
    HT_TRY(teardown());
}

static void t_map_1g(void)
{
    HT_TRY(setup(0, USER_END, false));
    HT_EQ_U(pt_map(&pt, GiB, 5 * GiB, GiB, PT_W | PT_U | PT_X, PT_MAP_LARGE), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 2); /* root, PDPT */
    HT_TRY(expect_leaf(GiB + 12345 * FR, 5 * GiB, GiB, PT_W | PT_U | PT_X));
    struct pt_view v;
    HT_EQ_U(pt_walk(&pt, GiB, &v), 0);
    HT_EQ_U(v.raw[1], pt_x86_64.make_leaf(5 * GiB, 2, PT_W | PT_U | PT_X));
    HT_TRY(teardown());
}

/* PT_MAP_LARGE takes the largest leaf that va, pa and the length allow. */
static void t_map_large_choice(void)
{
    HT_TRY(setup(0, USER_END, false));
    uint64_t va = GiB - M2 - 2 * FR, end = 2 * GiB + M2 + 3 * FR, off = 5 * GiB;
    HT_EQ_U(pt_map(&pt, va, va + off, end - va, PT_W, PT_MAP_LARGE), 0);
    HT_TRY(check());
    struct leaves l = { 0 };
    HT_EQ_U(pt_for_each(&pt, 0, USER_END, collect, &l), 0);
    static const uint64_t sizes[] = { FR, FR, M2, GiB, M2, FR, FR, FR };
    HT_EQ_U(l.n, HT_COUNT(sizes));
    uint64_t at = va;
    for (size_t i = 0; i < l.n; i++) {
        HT_ASSERT(l.v[i].va == at && l.v[i].size == sizes[i] && l.v[i].pa == at + off,
                  "leaf %zu: va %#lx size %#lx pa %#lx, expected va %#lx size %#lx", i,
                  l.v[i].va, l.v[i].size, l.v[i].pa, at, sizes[i]);
        at += sizes[i];
    }
    HT_EQ_U(pt_unmap(&pt, va, end - va), 0);
    HT_TRY(check());

    /* pa only 2 MiB aligned with va: no 1 GiB leaf. */
    uint64_t by_size[4] = { 0 };
    HT_EQ_U(pt_map(&pt, GiB - M2, GiB - M2 + off + M2, GiB + 2 * M2, PT_W, PT_MAP_LARGE), 0);
    HT_TRY(check());
    HT_EQ_U(pt_for_each(&pt, 0, USER_END, count_leaf, by_size), 0);
    HT_ASSERT(by_size[0] == 0 && by_size[1] == 514 && by_size[2] == 0, "%lu/%lu/%lu",
              by_size[0], by_size[1], by_size[2]);
    HT_EQ_U(pt_unmap(&pt, 0, USER_END), 0);

    /* pa only 4 KiB aligned with va: 4 KiB leaves. */
    memset(by_size, 0, sizeof(by_size));
    HT_EQ_U(pt_map(&pt, GiB, GiB + FR, 2 * M2, PT_W, PT_MAP_LARGE), 0);
    HT_TRY(check());
    HT_EQ_U(pt_for_each(&pt, 0, USER_END, count_leaf, by_size), 0);
    HT_ASSERT(by_size[0] == 1024 && by_size[1] == 0, "%lu/%lu", by_size[0],
              by_size[1]);
    HT_EQ_U(pt_unmap(&pt, 0, USER_END), 0);
    pt_destroy(&pt);

    /* A format without 1 GiB leaves (a CPU without them): 2 MiB leaves. */
    struct pt_format no1g = pt_x86_64;
    no1g.leaf_levels = 0x3;
    HT_EQ_U(pt_init(&pt, &no1g, GFP_KERNEL, 0, USER_END), 0);
    memset(by_size, 0, sizeof(by_size));
    HT_EQ_U(pt_map(&pt, GiB, off, GiB, PT_W, PT_MAP_LARGE), 0);
    HT_TRY(check());
    HT_EQ_U(pt_for_each(&pt, 0, USER_END, count_leaf, by_size), 0);
    HT_ASSERT(by_size[1] == 512 && by_size[2] == 0, "%lu/%lu", by_size[1],
              by_size[2]);
    /* Splitting stays inside the format too. */
    HT_EQ_U(pt_unmap(&pt, GiB + FR, FR), 0);
    HT_TRY(check());
    HT_TRY(expect_leaf(GiB, off, FR, PT_W));
    HT_TRY(teardown());
}

/* ---- refused operations -------------------------------------------------------------------- */

static void t_einval(void)
{
    HT_TRY(setup(GiB, 4 * GiB, false));
    HT_EQ_U(pt_map(&pt, 2 * GiB, 0, FR, PT_W, 0), 0);
    uint64_t snap = snapshot();
    static const struct { uint64_t va, pa, len; unsigned prot, flags; } bad[] = {
        { GiB + 1, 0, FR, 0, 0 },                    /* unaligned va */
        { GiB, 0x800, FR, 0, 0 },                    /* unaligned pa */
        { GiB, 0, FR + 1, 0, 0 },                    /* unaligned length */
        { GiB, 0, 0, 0, 0 },                         /* zero length */
        { GiB - FR, 0, FR, 0, 0 },                   /* below va_start */
        { 4 * GiB - FR, 0, 2 * FR, 0, 0 },           /* past va_end */
        { 0xfffffffffffff000ul, 0, 2 * FR, 0, 0 },  /* wraps past 2^64 */
        { USER_END, 0, FR, 0, 0 },                   /* non-canonical */
        { GiB, 0, FR, PT_ACCESSED, 0 },              /* state bits are not a prot */
        { GiB, 0, FR, 0x100, 0 },                    /* unknown prot */
        { GiB, 0, FR, 0, 0x2 },                      /* unknown flag */
        { GiB, 1ul << 52, FR, 0, 0 },               /* pa beyond 52 bits */
        { GiB, (1ul << 52) - FR, 2 * FR, 0, 0 },    /* pa range beyond 52 bits */
    };
    for (size_t i = 0; i < HT_COUNT(bad); i++)
        HT_ASSERT(pt_map(&pt, bad[i].va, bad[i].pa, bad[i].len, bad[i].prot, bad[i].flags) ==
                      -EINVAL,
                  "pt_map case %zu accepted", i);
    HT_ASSERT(pt_unmap(&pt, GiB + 1, FR) == -EINVAL && pt_unmap(&pt, GiB, 0) == -EINVAL &&
                  pt_unmap(&pt, 0, 2 * GiB) == -EINVAL && pt_unmap(&pt, GiB, FR - 1) == -EINVAL,
              "pt_unmap accepted a bad range");
    HT_ASSERT(pt_protect(&pt, 2 * GiB, FR, PT_DIRTY) == -EINVAL &&
                  pt_protect(&pt, 2 * GiB, FR, 0x40 | PT_W) == -EINVAL &&
                  pt_protect(&pt, 4 * GiB, FR, PT_W) == -EINVAL,
              "pt_protect accepted bad arguments");
    struct leaves l = { 0 };
    HT_ASSERT(pt_for_each(&pt, 2 * GiB, 2 * GiB, collect, &l) == -EINVAL &&
                  pt_for_each(&pt, 3 * GiB, 2 * GiB, collect, &l) == -EINVAL &&
                  pt_for_each(&pt, 0, HIGH_START, collect, &l) == -EINVAL && l.n == 0,
              "pt_for_each accepted a bad range");
    struct pt_view v;
    HT_EQ_U(pt_walk(&pt, 0xffff000000000000ul, &v), -EINVAL);
    HT_EQ_U(snapshot(), snap);
    HT_EQ_U(fl.calls, 0);
    /* The largest physical address is fine. */
    HT_EQ_U(pt_map(&pt, GiB, (1ul << 52) - FR, FR, 0, 0), 0);
    HT_TRY(expect_leaf(GiB, (1ul << 52) - FR, FR, 0));
    HT_TRY(teardown());
}

static void t_eexist(void)
{
    HT_TRY(setup(0, USER_END, false));
    HT_EQ_U(pt_map(&pt, GiB + 5 * FR, 0, FR, PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, 4 * GiB, 4 * GiB, GiB, PT_W, PT_MAP_LARGE), 0);
    uint64_t snap = snapshot();
    static const uint64_t tries[][2] = {
        { GiB + 5 * FR, FR },                /* the same page */
        { GiB, M2 },                         /* a range around it */
        { 0, GiB + 6 * FR },                 /* from far below: new tables before the conflict */
        { 5 * GiB - FR, 2 * FR },            /* the end of the 1 GiB leaf */
        { 4 * GiB + 77 * FR, FR },           /* inside it */
        { 2 * GiB, 3 * GiB },                /* over it, from a hole */
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

/* Exact counting: a map needing n tables fails with n - 1 free frames and
 * leaves nothing behind, and succeeds with n. */
static void t_enomem_map(void)
{
    HT_TRY(setup(0, USER_END, false));
    pt.gfp = __GFP_MEMALLOC | __GFP_NOWARN; /* so that the last frames can be used */
    HT_TRY(exhaust());
    HT_TRY(check());
    uint64_t snap = snapshot();
    HT_EQ_U(pt_map(&pt, GiB, 0, FR, PT_W, 0), -ENOMEM); /* needs PDPT, PD, PT */
    HT_EQ_U(snapshot(), snap);
    give_back(2);
    snap = snapshot();
    HT_EQ_U(pt_map(&pt, GiB, 0, FR, PT_W, 0), -ENOMEM);
    HT_EQ_U(snapshot(), snap); /* the two pages taken were given back */
    HT_TRY(check());
    give_back(1);
    HT_EQ_U(pt_map(&pt, GiB, 0, FR, PT_W, 0), 0);
    HT_TRY(check());
    HT_EQ_U(nr_free_pages(), 0);
    /* 4 MiB across a 1 GiB boundary: a PT below it, a PD and a PT above. */
    give_back(2);
    snap = snapshot();
    HT_EQ_U(pt_map(&pt, 2 * GiB - M2, 0, 2 * M2, PT_W, 0), -ENOMEM);
    HT_EQ_U(snapshot(), snap);
    give_back(1);
    HT_EQ_U(pt_map(&pt, 2 * GiB - M2, 0, 2 * M2, PT_W, 0), 0);
    HT_TRY(check());
    HT_EQ_U(nr_free_pages(), 0);
    /* Two PTs under an existing PD. */
    give_back(2);
    HT_EQ_U(pt_map(&pt, GiB + M2, 0, 2 * M2, PT_W, 0), 0);
    HT_TRY(check());
    HT_EQ_U(nr_free_pages(), 0);
    HT_EQ_U(fl.calls, 0);
    give_back(nhoard);
    HT_TRY(teardown());
}

/* Splits need tables: the count is exact, and a failure changes nothing. */
static void t_enomem_split(void)
{
    HT_TRY(setup(0, USER_END, false));
    pt.gfp = __GFP_MEMALLOC | __GFP_NOWARN;
    HT_EQ_U(pt_map(&pt, GiB, 8 * GiB, GiB, PT_W, PT_MAP_LARGE), 0);
    HT_TRY(exhaust());
    uint64_t snap = snapshot();
    /* Both edges in one 2 MiB piece: 2 tables (PD, one PT). */
    uint64_t a = GiB + M2 + FR;
    HT_EQ_U(pt_unmap(&pt, a, FR), -ENOMEM);
    HT_EQ_U(pt_protect(&pt, a, FR, 0), -ENOMEM);
    give_back(1);
    snap = snapshot();
    HT_EQ_U(pt_unmap(&pt, a, FR), -ENOMEM);
    HT_EQ_U(pt_protect(&pt, a, FR, 0), -ENOMEM);
    HT_EQ_U(snapshot(), snap);
    HT_EQ_U(fl.calls, 0);
    HT_TRY(check());
    give_back(1);
    HT_EQ_U(pt_unmap(&pt, a, FR), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 4);
    HT_EQ_U(nr_free_pages(), 0);
    HT_EQ_U(pt_unmap(&pt, 0, USER_END), 0);
    HT_TRY(check());

    /* Edges in two different 2 MiB pieces: PD and two PTs. */
    give_back(nhoard);
    HT_EQ_U(pt_map(&pt, GiB, 8 * GiB, GiB, PT_W, PT_MAP_LARGE), 0);
    HT_TRY(exhaust());
    give_back(2);
    snap = snapshot();
    HT_EQ_U(pt_protect(&pt, GiB + M2 + FR, M2, PT_X), -ENOMEM);
    HT_EQ_U(snapshot(), snap);
    give_back(1);
    HT_EQ_U(pt_protect(&pt, GiB + M2 + FR, M2, PT_X), 0);
    HT_TRY(check());
    HT_EQ_U(nr_free_pages(), 0);
    HT_TRY(expect_leaf(GiB + M2, 8 * GiB + M2, FR, PT_W));
    HT_TRY(expect_leaf(GiB + M2 + FR, 8 * GiB + M2 + FR, FR, PT_X));
    HT_TRY(expect_leaf(GiB + 2 * M2, 8 * GiB + 2 * M2, FR, PT_X));
    HT_TRY(expect_leaf(GiB + 2 * M2 + FR, 8 * GiB + 2 * M2 + FR, FR, PT_W));
    HT_TRY(expect_leaf(GiB + 3 * M2, 8 * GiB + 3 * M2, M2, PT_W));
    give_back(nhoard);
    HT_TRY(teardown());
}

/* ---- unmapping, splitting, protecting ------------------------------------------------------ */

static void t_unmap_frees_tables(void)
{
    HT_TRY(setup(0, USER_END, false));
    static const uint64_t at[] = { 0, 5 * FR, M2, GiB, 3 * GiB, 1ul << 39, 5ul << 39 };
    for (size_t i = 0; i < HT_COUNT(at); i++)
        HT_EQ_U(pt_map(&pt, at[i], at[i], FR, PT_W, 0), 0);
    HT_TRY(check());
    /* root; PDPT 0 + PD 0 + PT 0 + PT(2M) + PD(1G) + PT + PD(3G) + PT; 2 x (PDPT PD PT) */
    HT_EQ_U(pt.nr_tables, 1 + 8 + 6);
    uint64_t before = nr_free_pages();
    HT_EQ_U(pt_unmap(&pt, 5 * FR, FR), 0); /* PT 0 still holds page 0 */
    HT_EQ_U(pt.nr_tables, 15);
    HT_EQ_U(pt_unmap(&pt, 0, FR), 0);      /* PT 0 goes */
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 14);
    HT_EQ_U(nr_free_pages(), before + 1);
    /* Holes only: nothing changes, no flush. */
    unsigned calls = fl.calls;
    HT_EQ_U(pt_unmap(&pt, 64 * GiB, 8 * GiB), 0);
    HT_EQ_U(pt_unmap(&pt, 4 * FR, M2 - 4 * FR), 0);
    HT_EQ_U(fl.calls, calls);
    /* One range over several tables and slots. */
    HT_EQ_U(pt_unmap(&pt, FR, (6ul << 39) - FR), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 1);
    HT_EQ_U(fl.calls, calls + 1);
    HT_ASSERT(fl.va <= M2 && fl.va + fl.len >= (5ul << 39) + FR, "flush %#lx+%#lx",
              fl.va, fl.len);
    HT_TRY(teardown());
}

static void t_split_unmap(void)
{
    HT_TRY(setup(0, USER_END, false));
    uint64_t pa = 3 * GiB;
    HT_EQ_U(pt_map(&pt, GiB, pa, GiB, PT_W | PT_G, PT_MAP_LARGE), 0);
    uint64_t hole = GiB + 5 * MiB + FR;
    HT_EQ_U(pt_unmap(&pt, hole, FR), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 4); /* root, PDPT, and the two splits */
    HT_EQ_U(fl.calls, 1);
    HT_ASSERT(fl.va <= hole && fl.va + fl.len >= hole + FR && fl.va >= hole &&
                  fl.va + fl.len <= hole + FR,
              "flush %#lx+%#lx", fl.va, fl.len);
    HT_TRY(expect_leaf(GiB, pa, M2, PT_W | PT_G));
    HT_TRY(expect_leaf(GiB + 4 * MiB, pa + 4 * MiB, FR, PT_W | PT_G));
    HT_TRY(expect_leaf(GiB + 5 * MiB, pa + 5 * MiB, FR, PT_W | PT_G));
    HT_TRY(expect_hole(hole));
    HT_TRY(expect_leaf(hole + FR, pa + 5 * MiB + 2 * FR, FR, PT_W | PT_G));
    HT_TRY(expect_leaf(GiB + 6 * MiB, pa + 6 * MiB, M2, PT_W | PT_G));
    HT_TRY(expect_leaf(2 * GiB - FR, pa + GiB - M2, M2, PT_W | PT_G));
    HT_TRY(expect_hole(2 * GiB));

    /* Remove the rest piece by piece: tables go as they empty. */
    HT_EQ_U(pt_unmap(&pt, GiB + 4 * MiB, hole - GiB - 4 * MiB), 0);
    HT_TRY(check());
    HT_EQ_U(pt_unmap(&pt, hole + FR, GiB + 6 * MiB - hole - FR), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 3); /* the PT went */
    HT_EQ_U(pt_unmap(&pt, GiB, GiB), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 1);
    HT_TRY(teardown());
}

static void set_bits(uint64_t va, unsigned level, uint64_t bits)
{
    uint64_t pa = pt.root;
    for (unsigned l = 3; l > level; l--)
        pa = tab(pa)[(va >> (12 + 9 * l)) & 511] & X86_PTE_ADDR;
    tab(pa)[(va >> (12 + 9 * level)) & 511] |= bits;
}

static void t_split_protect(void)
{
    HT_TRY(setup(0, USER_END, false));
    uint64_t pa = 6 * GiB;
    HT_EQ_U(pt_map(&pt, GiB, pa, GiB, PT_W, PT_MAP_LARGE), 0);
    set_bits(GiB, 2, X86_PTE_A | X86_PTE_D); /* as the CPU would */
    HT_EQ_U(pt_protect(&pt, GiB + M2, M2, 0), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 3); /* one split: 1 GiB into 2 MiB leaves */
    HT_TRY(expect_leaf(GiB, pa, M2, PT_W));
    HT_TRY(expect_leaf(GiB + M2, pa + M2, M2, 0));
    HT_TRY(expect_leaf(GiB + 2 * M2, pa + 2 * M2, M2, PT_W));
    struct pt_view v;
    HT_EQ_U(pt_walk(&pt, GiB + M2, &v), 0);
    HT_ASSERT(v.accessed && v.dirty, "accessed/dirty lost by the split and protect");
    HT_EQ_U(pt_walk(&pt, GiB + 100 * M2, &v), 0);
    HT_ASSERT(v.accessed && v.dirty, "accessed/dirty lost by the split");

    HT_EQ_U(pt_protect(&pt, GiB + M2 + 7 * FR, FR, PT_W | PT_X | PT_UC), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 4);
    HT_TRY(expect_leaf(GiB + M2 + 6 * FR, pa + M2 + 6 * FR, FR, 0));
    HT_TRY(expect_leaf(GiB + M2 + 7 * FR, pa + M2 + 7 * FR, FR, PT_W | PT_X | PT_UC));
    HT_TRY(expect_leaf(GiB + M2 + 8 * FR, pa + M2 + 8 * FR, FR, 0));

    /* The same protections again: nothing changes, no flush. */
    unsigned calls = fl.calls;
    HT_EQ_U(pt_protect(&pt, GiB + 4 * M2, 3 * M2, PT_W), 0);
    HT_EQ_U(pt_protect(&pt, 300 * GiB, GiB, PT_W), 0); /* a hole */
    HT_EQ_U(fl.calls, calls);
    /* A change: one flush covering it. */
    HT_EQ_U(pt_protect(&pt, GiB + 4 * M2, 3 * M2, PT_W | PT_G), 0);
    HT_EQ_U(fl.calls, calls + 1);
    HT_ASSERT(fl.va == GiB + 4 * M2 && fl.len == 3 * M2, "flush %#lx+%#lx", fl.va,
              fl.len);
    HT_TRY(expect_leaf(GiB + 5 * M2, pa + 5 * M2, M2, PT_W | PT_G));
    HT_TRY(check());
    HT_TRY(teardown());
}

/* ---- the flush contract ------------------------------------------------------------------- */

static void t_flush_before_free(void)
{
    HT_TRY(setup(0, USER_END, false));
    HT_EQ_U(pt_map(&pt, 3 * GiB + 5 * FR, 0, 4 * FR, PT_W, 0), 0);
    HT_EQ_U(fl.calls, 0);
    uint64_t before = nr_free_pages();
    HT_EQ_U(pt_unmap(&pt, 3 * GiB, M2), 0);
    HT_EQ_U(fl.calls, 1);
    HT_ASSERT(fl.va <= 3 * GiB + 5 * FR && fl.va + fl.len >= 3 * GiB + 9 * FR &&
                  fl.va >= 3 * GiB && fl.va + fl.len <= 3 * GiB + M2,
              "flush %#lx+%#lx", fl.va, fl.len);
    /* PDPT, PD and PT were freed, but only after the flush. */
    HT_EQ_U(fl.free_at, before);
    HT_EQ_U(nr_free_pages(), before + 3);
    HT_TRY(check());
    /* A flush that checks the tables in the middle of the operation found them sound. */
    HT_ASSERT(!fl.check_failed, "pt_check failed at flush time");
    pt.flush = NULL; /* no hook: fine too */
    HT_EQ_U(pt_map(&pt, 0, 0, FR, PT_W, 0), 0);
    HT_EQ_U(pt_unmap(&pt, 0, FR), 0);
    HT_TRY(teardown());
}

/* ---- pt_for_each, the kernel half, shared top tables ------------------------------------- */

static void t_for_each(void)
{
    HT_TRY(setup(0, USER_END, false));
    HT_EQ_U(pt_map(&pt, GiB, GiB, GiB, PT_W, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&pt, 2 * GiB, 0, 2 * M2, 0, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&pt, 2 * GiB + 2 * M2, 0, 2 * FR, PT_X, 0), 0);
    HT_EQ_U(pt_map(&pt, 5ul << 39, 0, FR, PT_U, 0), 0);
    struct leaves l = { 0 };
    HT_EQ_U(pt_for_each(&pt, 0, USER_END, collect, &l), 0);
    static const struct { uint64_t va, size; unsigned level; } want[] = {
        { GiB, GiB, 2 }, { 2 * GiB, M2, 1 }, { 2 * GiB + M2, M2, 1 },
        { 2 * GiB + 2 * M2, FR, 0 }, { 2 * GiB + 2 * M2 + FR, FR, 0 }, { 5ul << 39, FR, 0 },
    };
    HT_EQ_U(l.n, HT_COUNT(want));
    for (size_t i = 0; i < l.n; i++) {
        HT_ASSERT(l.v[i].va == want[i].va && l.v[i].size == want[i].size &&
                      l.v[i].level == want[i].level && l.v[i].nraw == 4 - want[i].level,
                  "leaf %zu: va %#lx size %#lx level %u nraw %u", i, l.v[i].va,
                  l.v[i].size, l.v[i].level, l.v[i].nraw);
        struct pt_view w;
        HT_EQ_U(pt_walk(&pt, l.v[i].va, &w), 0);
        HT_ASSERT(memcmp(w.raw, l.v[i].raw, sizeof(w.raw[0]) * w.nraw) == 0,
                  "leaf %zu: raw entries differ from pt_walk's", i);
    }
    /* A leaf partly inside is reported whole. */
    memset(&l, 0, sizeof(l));
    HT_EQ_U(pt_for_each(&pt, GiB + 7 * M2, 2 * GiB + FR, collect, &l), 0);
    HT_ASSERT(l.n == 2 && l.v[0].va == GiB && l.v[1].va == 2 * GiB, "%zu leaves", l.n);
    /* fn's non-zero value stops the walk and is returned. */
    memset(&l, 0, sizeof(l));
    l.stop_at = 3;
    HT_EQ_U(pt_for_each(&pt, 0, USER_END, collect, &l), 7);
    HT_EQ_U(l.n, 3);
    /* Nothing in range. */
    memset(&l, 0, sizeof(l));
    HT_EQ_U(pt_for_each(&pt, 3 * GiB, 4 * GiB, collect, &l), 0);
    HT_EQ_U(l.n, 0);
    HT_TRY(teardown());
}

static void t_kernel_half(void)
{
    HT_TRY(setup(HIGH_START, HIGH_END, false));
    uint64_t top = HIGH_END - FR; /* the last page the range allows */
    HT_EQ_U(pt_map(&pt, top, 0x5000, FR, PT_W | PT_G, 0), 0);
    HT_EQ_U(pt_map(&pt, HIGH_START, 0, GiB, PT_W | PT_G, PT_MAP_LARGE), 0);
    HT_TRY(check());
    HT_EQ_U(pt_map(&pt, HIGH_END, 0, FR, 0, 0), -EINVAL);
    HT_EQ_U(pt_map(&pt, HIGH_START - FR, 0, FR, 0, 0), -EINVAL);
    HT_TRY(expect_leaf(top, 0x5000, FR, PT_W | PT_G));
    struct pt_view v;
    HT_EQ_U(pt_walk(&pt, top, &v), 0);
    HT_ASSERT(!(v.raw[0] & X86_PTE_US) && !(v.raw[1] & X86_PTE_US),
              "kernel-half tables are user accessible: %#lx %#lx", v.raw[0],
              v.raw[1]);
    HT_EQ_U(pt_walk(&pt, ~0ul, &v), -ENOENT); /* the page past va_end */
    struct leaves l = { 0 };
    HT_EQ_U(pt_for_each(&pt, HIGH_START, HIGH_END, collect, &l), 0);
    HT_ASSERT(l.n == 2 && l.v[0].va == HIGH_START && l.v[1].va == top, "%zu leaves", l.n);
    HT_TRY(teardown());
}

static void t_keep_top_tables(void)
{
    HT_TRY(setup(HIGH_START, HIGH_END, true));
    uint64_t a = HIGH_START + 5 * GiB, b = 0xffffc00000000000ul;
    HT_EQ_U(pt_map(&pt, a, 0, FR, PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, b, 0, FR, PT_W, 0), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 7);
    HT_EQ_U(pt_unmap(&pt, a, FR), 0);
    HT_EQ_U(pt_unmap(&pt, b, FR), 0);
    HT_TRY(check()); /* the two empty PDPTs are allowed: kept */
    HT_EQ_U(pt.nr_tables, 3);
    HT_EQ_U(pt_map(&pt, a + GiB, 0, FR, PT_W, 0), 0); /* reuses the kept PDPT */
    HT_EQ_U(pt.nr_tables, 5);
    HT_TRY(check());
    HT_EQ_U(pt_unmap(&pt, pt.va_start, pt.va_end - pt.va_start), 0);
    HT_TRY(check());
    HT_EQ_U(pt.nr_tables, 3);
    pt_destroy(&pt); /* takes the kept tables too */
    HT_EQ_U(nr_free_pages(), base_free);
}

/* A process's root: its own lower half, the kernel's top-level entries
 * copied in (as user_pt_create does).  Checks, walks and pt_destroy leave
 * the kernel's tables alone. */
static void t_shared_kernel_half(void)
{
    HT_TRY(setup(HIGH_START, HIGH_END, true));
    HT_EQ_U(pt_map(&pt, HIGH_START + GiB, 0, M2, PT_W | PT_G, PT_MAP_LARGE), 0);
    struct pgtable kernel = pt, user;
    HT_EQ_U(pt_init(&user, &pt_x86_64, GFP_KERNEL, 0, USER_END), 0);
    /* bad requests: unaligned to 512 GiB, overlapping user's own range, wrong format */
    HT_EQ_U(pt_share_top(&user, &kernel, HIGH_START + GiB, 512 * GiB), -EINVAL);
    HT_EQ_U(pt_share_top(&user, &kernel, 0, 512 * GiB), -EINVAL);
    HT_EQ_U(pt_share_top(&user, NULL, HIGH_START, 0 - HIGH_START), -EINVAL);
    for (int i = 256; i < 512; i++)
        HT_EQ_U(tab(user.root)[i], 0);
    HT_EQ_U(pt_share_top(&user, &kernel, HIGH_START, 0 - HIGH_START), 0);
    for (int i = 256; i < 512; i++)
        HT_EQ_U(tab(user.root)[i], tab(kernel.root)[i]);
    HT_EQ_U(pt_map(&user, 0x400000, 0x9000, FR, PT_U | PT_W, 0), 0);
    char why[256];
    HT_ASSERT(pt_check(&user, why, sizeof(why)) == 0, "pt_check(user): %s", why);
    HT_EQ_U(user.nr_tables, 4);
    struct pt_view v;
    HT_EQ_U(pt_walk(&user, HIGH_START + GiB + FR, &v), 0); /* through the shared entries */
    HT_EQ_U(v.pa, 0);
    HT_EQ_U(v.size, M2);
    pt_destroy(&user);
    HT_TRY(check()); /* the kernel's tables are intact and counted */
    HT_EQ_U(nr_free_pages() + pt.nr_tables, base_free);
    HT_TRY(teardown());
}

static void t_destroy_mapped(void)
{
    HT_TRY(setup(0, USER_END, false));
    HT_EQ_U(pt_map(&pt, 0x1000, 0x1000, 3 * M2, PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, 4 * GiB, 4 * GiB, 3 * GiB, PT_W, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&pt, 7ul << 39, 0, 9 * M2, PT_W, PT_MAP_LARGE), 0);
    HT_TRY(check());
    HT_ASSERT(pt.nr_tables > 5, "only %lu tables", pt.nr_tables);
    pt_destroy(&pt);
    HT_EQ_U(nr_free_pages(), base_free);
}

static void t_validator_catches(void)
{
    HT_TRY(setup(0, USER_END, false));
    char why[256];
    HT_EQ_U(pt_map(&pt, GiB, 0, FR, PT_W, 0), 0);
    pt.nr_tables++;
    HT_ASSERT(pt_check(&pt, why, sizeof(why)) == -1 && strstr(why, "nr_tables"),
              "miscount not caught: %s", why);
    pt.nr_tables--;
    /* An empty table left behind. */
    uint64_t pml4e = tab(pt.root)[0];
    uint64_t pdpte = tab(pml4e & X86_PTE_ADDR)[1];
    uint64_t pde = tab(pdpte & X86_PTE_ADDR)[0];
    uint64_t *pte = &tab(pde & X86_PTE_ADDR)[0];
    uint64_t saved = *pte;
    *pte = 0;
    HT_ASSERT(pt_check(&pt, why, sizeof(why)) == -1 && strstr(why, "empty table"),
              "empty table not caught: %s", why);
    /* A leaf with a stray bit. */
    *pte = saved | (1ul << 52);
    HT_ASSERT(pt_check(&pt, why, sizeof(why)) == -1 && strstr(why, "make_leaf"),
              "stray bit not caught: %s", why);
    *pte = saved;
    HT_TRY(check());
    HT_TRY(teardown());
}

/* ---- random operations against a page model ---------------------------------------------- */

struct mpage {
    uint64_t pa;
    uint8_t prot;
    bool mapped;
};

static struct mpage *model;
static uint64_t win, npages;        /* the window: [win, win + npages * FR) */

static void model_compare_walk(void)
{
    for (uint64_t i = 0; i < npages; i++) {
        struct pt_view v;
        uint64_t va = win + i * FR;
        int rc = pt_walk(&pt, va, &v);
        if (!model[i].mapped) {
            HT_ASSERT(rc == -ENOENT, "page %#lx: walk %d, the model says unmapped", va, rc);
            continue;
        }
        HT_ASSERT(rc == 0, "page %#lx: walk %d, the model says mapped", va, rc);
        HT_ASSERT(v.pa + (va - v.va) == model[i].pa && v.prot == model[i].prot,
                  "page %#lx: pa %#lx prot %#x, the model says pa %#lx prot %#x", va,
                  (v.pa + (va - v.va)), v.prot, model[i].pa, model[i].prot);
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
        uint64_t va = v->va + off;
        if (va < win || va >= win + npages * FR) {
            c->bad = "a leaf outside the window";
            c->bad_va = va;
            return 1;
        }
        const struct mpage *m = &model[(va - win) / FR];
        if (!m->mapped || m->pa != v->pa + off || m->prot != v->prot) {
            c->bad = "a page the model disagrees with";
            c->bad_va = va;
            return 1;
        }
        c->seen++;
    }
    return 0;
}

/* The same comparison through pt_for_each: every leaf's pages are in the
 * model, and as many pages are mapped as the model says. */
static void model_compare_leaves(void)
{
    struct cmp c = { 0, NULL, 0 };
    uint64_t want = 0;
    pt_for_each(&pt, 0, USER_END, model_leaf, &c);
    HT_ASSERT(!c.bad, "%s at %#lx", c.bad, c.bad_va);
    for (uint64_t i = 0; i < npages; i++)
        want += model[i].mapped;
    HT_ASSERT(c.seen == want, "%lu pages in leaves, %lu in the model", c.seen, want);
}

/* One random operation on [va, va + n pages), checked against the model. */
static void random_op(uint64_t s, uint64_t n, uint64_t unit)
{
    uint64_t va = win + s * FR, len = n * FR;
    unsigned prot = (unsigned)rnd(PT_PROT_MASK + 1);
    unsigned calls = fl.calls;
    uint64_t changed_lo = ~0ul, changed_hi = 0;
    int rc;

    switch (rnd(3)) {
    case 0: {
        bool busy = false;
        for (uint64_t i = s; i < s + n; i++)
            busy = busy || model[i].mapped;
        /* pa congruent to va modulo the unit (mostly), so large leaves happen */
        uint64_t pa = (rnd(64) * GiB + (rnd(4) ? va % unit : rnd(512) * FR)) & ((1ul << 52) - 1);
        rc = pt_map(&pt, va, pa, len, prot, rnd(4) ? PT_MAP_LARGE : 0);
        HT_ASSERT(rc == (busy ? -EEXIST : 0), "map %#lx+%#lx: %d, expected %d", va,
                  len, rc, busy ? -EEXIST : 0);
        for (uint64_t i = s; !busy && i < s + n; i++)
            model[i] = (struct mpage){ pa + (i - s) * FR, (uint8_t)prot, true };
        HT_EQ_U(fl.calls, calls);
        return;
    }
    case 1:
        rc = pt_unmap(&pt, va, len);
        HT_ASSERT(rc == 0, "unmap %#lx+%#lx: %d", va, len, rc);
        for (uint64_t i = s; i < s + n; i++) {
            if (model[i].mapped) {
                changed_lo = changed_lo < win + i * FR ? changed_lo : win + i * FR;
                changed_hi = win + i * FR + FR;
            }
            model[i].mapped = false;
        }
        break;
    default:
        rc = pt_protect(&pt, va, len, prot);
        HT_ASSERT(rc == 0, "protect %#lx+%#lx: %d", va, len, rc);
        for (uint64_t i = s; i < s + n; i++) {
            if (model[i].mapped && model[i].prot != prot) {
                changed_lo = changed_lo < win + i * FR ? changed_lo : win + i * FR;
                changed_hi = win + i * FR + FR;
            }
            model[i].prot = (uint8_t)prot;
        }
        break;
    }
    /* Changes mean one flush, inside the range and covering them. */
    if (changed_hi) {
        HT_ASSERT(fl.calls == calls + 1, "%u flushes for a change", fl.calls - calls);
        HT_ASSERT(fl.va >= va && fl.va + fl.len <= va + len && fl.va <= changed_lo &&
                      fl.va + fl.len >= changed_hi,
                  "flush %#lx+%#lx for changes in [%#lx, %#lx) of %#lx+%#lx",
                  fl.va, fl.len, changed_lo, changed_hi, va, len);
    }
    HT_ASSERT(fl.calls <= calls + 1, "%u flushes for one operation", fl.calls - calls);
}

/* A start page and a page count in the window, in units (4 KiB, 2 MiB,
 * 1 GiB), sometimes off the unit's alignment. */
static void random_range(uint64_t unit, uint64_t max_units, uint64_t *s, uint64_t *n)
{
    uint64_t per = unit / FR;
    *s = rnd(npages / per) * per;
    if (rnd(3) == 0)
        *s += rnd(per);
    *n = (1 + rnd(max_units)) * per;
    if (rnd(3) == 0)
        *n = 1 + rnd(*n);
    if (*s >= npages)
        *s = npages - 1;
    if (*n > npages - *s)
        *n = npages - *s;
}

static void t_random_small(void)
{
    HT_TRY(setup(0, USER_END, false));
    rng = 0x9e3779b97f4a7c15ul;
    win = GiB - 8 * MiB;
    npages = 16 * MiB / FR;
    model = calloc(npages, sizeof(*model));
    HT_ASSERT(model, "out of host memory");
    for (unsigned op = 0; op < 600; op++) {
        uint64_t s, n, unit = rnd(3) ? FR : M2;
        random_range(unit, unit == FR ? 40 : 3, &s, &n);
        HT_TRY(random_op(s, n, unit));
        HT_TRY(check());
        HT_TRY(model_compare_walk());
    }
    HT_TRY(model_compare_leaves());
    free(model);
    HT_TRY(teardown());
}

static void t_random_large(void)
{
    HT_TRY(setup(0, USER_END, false));
    rng = 0x2545f4914f6cdd1dul;
    win = GiB - 4 * MiB;
    npages = (2 * GiB + 8 * MiB) / FR;
    model = calloc(npages, sizeof(*model));
    HT_ASSERT(model, "out of host memory");
    for (unsigned op = 0; op < 150; op++) {
        uint64_t s, n, r = rnd(6), unit = r < 3 ? FR : r < 5 ? M2 : GiB;
        random_range(unit, unit == FR ? 64 : unit == M2 ? 8 : 1, &s, &n);
        HT_TRY(random_op(s, n, unit));
        HT_TRY(check());
        HT_TRY(model_compare_leaves());
        /* and a few walks, at the edges of the operation and anywhere */
        for (int k = 0; k < 4; k++) {
            uint64_t i = k == 0 ? s : k == 1 ? s + n - 1 : rnd(npages);
            struct pt_view v;
            int rc = pt_walk(&pt, win + i * FR, &v);
            HT_ASSERT(model[i].mapped ? rc == 0 && v.pa + (win + i * FR - v.va) == model[i].pa
                                      : rc == -ENOENT,
                      "walk of page %#lx: %d", (win + i * FR), rc);
        }
    }
    free(model);
    HT_TRY(teardown());
}

/* ---- pt_clone and pt_destroy_each (mm/pgtable_clone.c) ----------------------------------- */

/*
 * The clone cases copy from pt (the source, set up as above) into dpt.
 * check_pair() validates both (pt_check, the raw validator, the frame
 * count: free + both tables + held = the baseline) and that dpt's flush
 * was never called (a clone only fills empty entries of dst).  Leaves are
 * compared as lists from pt_for_each, which a clone must reproduce
 * exactly: va, pa, size, level, prot, accessed, dirty.
 */
static struct pgtable dpt;
static unsigned dst_flushes;

static void dst_flush(struct pgtable *p, uint64_t va, uint64_t len)
{
    (void)p;
    (void)va;
    (void)len;
    dst_flushes++;
}

static void dst_init(uint64_t start, uint64_t end)
{
    int err = pt_init(&dpt, &pt_x86_64, GFP_KERNEL, start, end);
    HT_ASSERT(err == 0, "pt_init(dst): %d", err);
    dpt.flush = dst_flush;
    dst_flushes = 0;
}

static void check_pair(void)
{
    char why[256];
    uint64_t st = 0, dt = 0;
    HT_ASSERT(pt_check(&pt, why, sizeof(why)) == 0, "pt_check(src): %s", why);
    HT_ASSERT(pt_check(&dpt, why, sizeof(why)) == 0, "pt_check(dst): %s", why);
    HT_ASSERT(node_check(why, sizeof(why)) == 0, "node_check: %s", why);
    HT_TRY(raw_count(pt.root, 3, 0, &st));
    raw_pt = &dpt;
    raw_count(dpt.root, 3, 0, &dt);
    raw_pt = &pt;
    if (ht_failed)
        return;
    HT_ASSERT(st == pt.nr_tables, "src: %lu tables reachable, nr_tables %lu", st,
              pt.nr_tables);
    HT_ASSERT(dt == dpt.nr_tables, "dst: %lu tables reachable, nr_tables %lu", dt,
              dpt.nr_tables);
    HT_ASSERT(nr_free_pages() + pt.nr_tables + dpt.nr_tables + held == base_free,
              "%lu free + %lu src tables + %lu dst tables + %lu held != %lu",
              nr_free_pages(), pt.nr_tables, dpt.nr_tables, held,
              base_free);
    HT_ASSERT(!fl.check_failed, "pt_check(src) failed inside its flush");
    HT_EQ_U(dst_flushes, 0);
}

/* Destroy dpt: every table page it held comes back. */
static void dst_destroy(void)
{
    pt_destroy(&dpt);
    HT_EQ_U(dpt.nr_tables, 0);
    HT_EQ_U(dpt.root, 0);
    HT_ASSERT(nr_free_pages() + pt.nr_tables + held == base_free,
              "after destroying dst: %lu free + %lu src tables + %lu held != %lu",
              nr_free_pages(), pt.nr_tables, held, base_free);
}

/* A fingerprint of one pgtable's tables (not of the free count, which a
 * clone changes through dst). */
static uint64_t pt_hash(const struct pgtable *p)
{
    return hash_tables(p->root, 3, 0xcbf29ce484222325ul) ^ p->nr_tables * 31;
}

/* ---- lists of leaves ----------------------------------------------------------------------- */

struct vlist {
    size_t n, cap;
    struct pt_view *v;
};

static void vl_push(struct vlist *l, const struct pt_view *v)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        if (!l->v)
            abort();
    }
    l->v[l->n++] = *v;
}

static int vl_collect(const struct pt_view *v, void *arg)
{
    vl_push(arg, v);
    return 0;
}

/* pt_destroy_each's fn: the leaves it reports, as views with va, pa and
 * size (the rest zero). */
static void destroy_rec(uint64_t va, uint64_t pa, uint64_t size, void *arg)
{
    struct pt_view v;
    memset(&v, 0, sizeof(v));
    v.va = va;
    v.pa = pa;
    v.size = size;
    vl_push(arg, &v);
}

/* Lists the cases use (static: a failing case leaves no leak behind). */
static struct vlist L_src, L_dst, L_exp, L_tmp, L_out, L_now_out, L_merged, L_keep, L_orig,
    L_kern, L_destroyed;

/* The leaves of p overlapping [a, b), in address order. */
static void leaves_in(const struct pgtable *p, uint64_t a, uint64_t b, struct vlist *l)
{
    l->n = 0;
    int rc = pt_for_each(p, a, b, vl_collect, l);
    HT_ASSERT(rc == 0, "pt_for_each [%#lx, %#lx): %d", a, b, rc);
}

static void all_leaves(const struct pgtable *p, struct vlist *l)
{
    leaves_in(p, p->va_start, p->va_end, l);
}

static bool same_leaf(const struct pt_view *a, const struct pt_view *b)
{
    return a->va == b->va && a->pa == b->pa && a->size == b->size && a->level == b->level &&
           a->prot == b->prot && a->accessed == b->accessed && a->dirty == b->dirty;
}

static const char *vstr(const struct pt_view *v, char buf[128])
{
    char p[16];
    snprintf(buf, 128, "va %#lx pa %#lx size %#lx level %u prot %s%s%s", v->va,
             v->pa, v->size, v->level, pt_prot_str(v->prot, p),
             v->accessed ? " A" : "", v->dirty ? " D" : "");
    return buf;
}

/* got must be exactly want[0..n). */
static void expect_list(const char *what, const struct vlist *got, const struct pt_view *want,
                        size_t n)
{
    char b1[128], b2[128];
    for (size_t i = 0; i < got->n && i < n; i++)
        HT_ASSERT(same_leaf(&got->v[i], &want[i]), "%s: leaf %zu is %s, expected %s", what, i,
                  vstr(&got->v[i], b1), vstr(&want[i], b2));
    HT_ASSERT(got->n == n, "%s: %zu leaves, expected %zu (first extra/missing: %s)", what,
              got->n, n,
              got->n > n ? vstr(&got->v[n], b1) : n > got->n ? vstr(&want[got->n], b1) : "");
}

/* pt_destroy_each reported exactly want[0..n), by va, pa and size. */
static void expect_destroyed(const char *what, const struct vlist *got, const struct pt_view *want,
                             size_t n)
{
    char b1[128];
    for (size_t i = 0; i < got->n && i < n; i++)
        HT_ASSERT(got->v[i].va == want[i].va && got->v[i].pa == want[i].pa &&
                      got->v[i].size == want[i].size,
                  "%s: leaf %zu is va %#lx pa %#lx size %#lx, expected %s", what, i,
                  got->v[i].va, got->v[i].pa, got->v[i].size,
                  vstr(&want[i], b1));
    HT_ASSERT(got->n == n, "%s: %zu leaves reported, expected %zu", what, got->n, n);
}

/* ---- the per-leaf function --------------------------------------------------------------- */

enum { CF_SAME, CF_COW, CF_CHANGE, CF_COPY };

/* CF_CHANGE: another frame for every other page, other rights and cache
 * types for two thirds of them (the pattern breaks runs of equal
 * entries, so that any cache of the last entry made is exercised). */
static void fn_change(struct pt_view *v)
{
    uint64_t i = v->va / FR;
    if (i % 2 == 0)
        v->pa += 8 * GiB;
    if (i % 3 != 1)
        v->prot = (v->prot ^ (PT_X | PT_U | (unsigned)(i % 4) << 4)) & PT_PROT_MASK;
}

static void transform(struct pt_view *v, int mode)
{
    if (mode == CF_COW)
        v->prot &= ~PT_W; /* what fork's fn does for a private page */
    else if (mode == CF_CHANGE)
        fn_change(v);
    else if (mode == CF_COPY) {
        v->pa += 8 * GiB; /* a private copy: another frame, writable */
        v->prot |= PT_W;
    }
}

struct cfn {
    int mode;
    unsigned fail_at;      /* return -E2BIG from this call (1-based); 0: never */
    unsigned calls, ok;
    struct vlist seen;     /* the views fn was given */
};
static struct cfn cf;

static void cf_reset(int mode, unsigned fail_at)
{
    cf.mode = mode;
    cf.fail_at = fail_at;
    cf.calls = cf.ok = 0;
    cf.seen.n = 0;
}

static int clone_fn(struct pt_view *v, void *arg)
{
    struct cfn *c = arg;
    c->calls++;
    vl_push(&c->seen, v);
    if (c->fail_at && c->calls == c->fail_at)
        return -E2BIG;
    transform(v, c->mode);
    c->ok++;
    return 0;
}

/* The table pages (root included) that x86-64 tables holding exactly
 * these leaves (sorted, lower half or upper half) need: one table at
 * level t for each distinct (t + 1)-level slot holding a leaf of level
 * <= t. */
static uint64_t tables_needed(const struct pt_view *v, size_t n)
{
    uint64_t count = 1;
    for (unsigned t = 0; t < 3; t++) {
        uint64_t last = 0;
        bool any = false;
        for (size_t i = 0; i < n; i++) {
            uint64_t key = v[i].va >> (21 + 9 * t);
            if (v[i].level > t || (any && key == last))
                continue;
            count++;
            last = key;
            any = true;
        }
    }
    return count;
}

/*
 * What pt_clone(&dpt, &pt, a, b, clear, ...) must do, from S = src's
 * leaves overlapping [a, b) before the call: leaves in address order, a
 * leaf crossing an edge stops it with -EINVAL, one overlapping a leaf of
 * dst (busy) with -EEXIST, fn's error stops it; every other leaf is
 * copied as fn made it from src's view without `clear`.  Returns the
 * expected value; exp gets the expected copies, *ncopied their number.
 */
static int clone_expect(const struct vlist *S, uint64_t a, uint64_t b, unsigned clear, int mode,
                        unsigned fail_at, const struct vlist *busy, struct vlist *exp,
                        size_t *ncopied)
{
    unsigned calls = 0;
    exp->n = 0;
    *ncopied = 0;
    for (size_t i = 0; i < S->n; i++) {
        const struct pt_view *s = &S->v[i];
        if (s->va < a || s->va + s->size > b)
            return -EINVAL;
        for (size_t k = 0; busy && k < busy->n; k++)
            if (busy->v[k].va < s->va + s->size && s->va < busy->v[k].va + busy->v[k].size)
                return -EEXIST;
        if (++calls == fail_at)
            return -E2BIG;
        struct pt_view d = *s;
        d.prot &= ~clear;
        transform(&d, mode);
        vl_push(exp, &d);
        (*ncopied)++;
    }
    return 0;
}

/*
 * Run pt_clone(&dpt, &pt, a, b, clear, clone_fn, &cf) and check everything the contract says against clone_expect:
 * the value; fn called once per leaf in address order with src's view
 * without `clear`, and not after an error; dst holds exactly the copies (nothing outside
 * [a, b)); src's copied leaves lost `clear`, all its other leaves are as
 * they were (inside and outside [a, b)); one flush of src inside [a, b)
 * covering every changed leaf, none when nothing changed; both sets of
 * tables valid, dst's table count exactly what its leaves need.  dst's
 * leaves before the call are in `keep` (sorted; a src leaf overlapping one
 * is -EEXIST).  With enomem_ok, -ENOMEM may come instead of the expected
 * value: then dst must hold a prefix of the expected copies, exactly
 * those fn said yes to.  *rcp gets pt_clone's value.
 */
static void clone_and_verify(uint64_t a, uint64_t b, unsigned clear, const struct vlist *keep,
                             bool enomem_ok, int *rcp)
{
    char b1[128], b2[128];
    size_t n;
    HT_TRY(leaves_in(&pt, a, b, &L_src));
    /* src's leaves elsewhere must not change */
    HT_TRY(all_leaves(&pt, &L_tmp));
    L_out.n = 0;
    for (size_t i = 0; i < L_tmp.n; i++)
        if (L_tmp.v[i].va + L_tmp.v[i].size <= a || L_tmp.v[i].va >= b)
            vl_push(&L_out, &L_tmp.v[i]);
    int want = clone_expect(&L_src, a, b, clear, cf.mode, cf.fail_at, keep, &L_exp, &n);
    unsigned calls = fl.calls;

    int rc = pt_clone(&dpt, &pt, a, b, clear, clone_fn, &cf);

    if (rcp)
        *rcp = rc;
    if (enomem_ok && rc == -ENOMEM) {
        /* fn is never what fails here, and a leaf is copied iff fn said yes */
        HT_ASSERT(cf.calls == cf.ok && cf.ok <= n, "-ENOMEM after %u fn calls (%u ok, %zu leaves)",
                  cf.calls, cf.ok, n);
        n = cf.ok;
        L_exp.n = n;
        want = -ENOMEM;
    }
    HT_ASSERT(rc == want, "pt_clone [%#lx, %#lx) clear %#x fail_at %u: %d, expected %d",
              a, b, clear, cf.fail_at, rc, want);
    HT_ASSERT(cf.calls == n + (want == -E2BIG), "fn called %u times, expected %zu", cf.calls,
              n + (want == -E2BIG));
    HT_EQ_U(cf.ok, n);
    for (size_t i = 0; i < cf.calls; i++) {
        struct pt_view s = L_src.v[i];
        s.prot &= ~clear;
        HT_ASSERT(same_leaf(&cf.seen.v[i], &s),
                  "fn call %zu got %s, src's leaf without clear %#x is %s", i,
                  vstr(&cf.seen.v[i], b1), clear, vstr(&s, b2));
    }
    /* dst: what it had, plus the copies, in address order */
    if (keep && keep->n) {
        size_t i = 0, k = 0;
        L_merged.n = 0;
        while (i < L_exp.n || k < keep->n)
            if (k == keep->n || (i < L_exp.n && L_exp.v[i].va < keep->v[k].va))
                vl_push(&L_merged, &L_exp.v[i++]);
            else
                vl_push(&L_merged, &keep->v[k++]);
        L_exp.n = 0;
        for (i = 0; i < L_merged.n; i++)
            vl_push(&L_exp, &L_merged.v[i]);
    }
    HT_TRY(all_leaves(&dpt, &L_dst));
    HT_TRY(expect_list("dst", &L_dst, L_exp.v, L_exp.n));
    HT_EQ_U(dpt.nr_tables, tables_needed(L_dst.v, L_dst.n));
    /* src: the copied leaves lost `clear`, nothing else changed */
    uint64_t lo = ~0ul, hi = 0;
    for (size_t i = 0; i < L_src.n; i++) {
        if (i < n && (L_src.v[i].prot & clear)) {
            L_src.v[i].prot &= ~clear;
            lo = lo < L_src.v[i].va ? lo : L_src.v[i].va;
            hi = L_src.v[i].va + L_src.v[i].size; /* address order */
        }
    }
    HT_TRY(leaves_in(&pt, a, b, &L_tmp));
    HT_TRY(expect_list("src in range", &L_tmp, L_src.v, L_src.n));
    HT_TRY(all_leaves(&pt, &L_tmp));
    L_now_out.n = 0;
    for (size_t i = 0; i < L_tmp.n; i++)
        if (L_tmp.v[i].va + L_tmp.v[i].size <= a || L_tmp.v[i].va >= b)
            vl_push(&L_now_out, &L_tmp.v[i]);
    HT_TRY(expect_list("src outside the range", &L_now_out, L_out.v, L_out.n));
    if (hi) {
        HT_ASSERT(fl.calls == calls + 1, "%u src flushes for changes in [%#lx, %#lx)",
                  fl.calls - calls, lo, hi);
        HT_ASSERT(fl.va <= lo && fl.va + fl.len >= hi && fl.va >= a && fl.va + fl.len <= b,
                  "src flush %#lx+%#lx for changes in [%#lx, %#lx) of [%#lx, %#lx)",
                  fl.va, fl.len, lo, hi, a, b);
    } else {
        HT_ASSERT(fl.calls == calls, "%u src flushes, nothing changed in src", fl.calls - calls);
    }
    HT_TRY(check_pair());
}

#define G512 (512 * GiB)

/* Give src's leaves back the rights a clone took (pt_protect keeps the
 * accessed and dirty bits), then check it is as it was. */
static void restore_src(const struct vlist *orig)
{
    for (size_t i = 0; i < orig->n; i++)
        HT_EQ_U(pt_protect(&pt, orig->v[i].va, orig->v[i].size, orig->v[i].prot), 0);
    HT_TRY(all_leaves(&pt, &L_tmp));
    HT_TRY(expect_list("src restored", &L_tmp, orig->v, orig->n));
    memset(&fl, 0, sizeof(fl));
}

static void t_clone_basic(void)
{
    HT_TRY(setup(0, USER_END, false));
    static const struct { uint64_t va, pa, len; unsigned prot; } maps[] = {
        { 0x1000, 0x7000, FR, PT_U },                          /* before the range */
        { 4 * MiB - 2 * FR, 0x10000000, 5 * FR, PT_U | PT_X }, /* the first page is outside */
        { 6 * MiB, 0x20000000, 3 * FR, PT_U | PT_W },
        { 6 * MiB + 3 * FR, 0x30000000, 2 * FR, PT_U | PT_W | PT_WC },
        { 6 * MiB + 9 * FR, 0x30005000, FR, PT_W | PT_UC },
        { GiB - FR, 0x40000000, 2 * FR, PT_W | PT_UC },        /* across 1 GiB */
        { 3 * GiB, 0x5000, FR, PT_G | PT_WT | PT_X },
        { G512 - FR, 7 * GiB, 3 * FR, PT_U | PT_W | PT_X },    /* across 512 GiB, last page out */
        { 3 * G512, 0x9000, FR, PT_W },                        /* after the range */
    };
    for (size_t i = 0; i < HT_COUNT(maps); i++)
        HT_EQ_U(pt_map(&pt, maps[i].va, maps[i].pa, maps[i].len, maps[i].prot, 0), 0);
    /* accessed / dirty, as the CPU would set them */
    set_bits(4 * MiB, 0, X86_PTE_A);
    set_bits(6 * MiB + FR, 0, X86_PTE_A | X86_PTE_D);
    set_bits(6 * MiB + 4 * FR, 0, X86_PTE_A | X86_PTE_D);
    set_bits(GiB, 0, X86_PTE_D);
    set_bits(G512 - FR, 0, X86_PTE_A);
    HT_TRY(check());
    uint64_t start = 4 * MiB - FR, end = G512 + FR;
    uint64_t snap = pt_hash(&pt);

    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_SAME, 0);
    HT_TRY(clone_and_verify(start, end, 0, NULL, false, NULL));
    HT_EQ_U(cf.calls, 15);
    /* root, PDPT 0, PD 0 with 4 PTs, PD 1 + PT, PD 3 + PT, PD 511 + PT, PDPT 1 + PD + PT */
    HT_EQ_U(dpt.nr_tables, 16);
    HT_EQ_U(pt_hash(&pt), snap);
    HT_EQ_U(fl.calls, 0);
    struct pt_view v;
    HT_EQ_U(pt_walk(&dpt, 6 * MiB + 4 * FR, &v), 0);
    HT_ASSERT(v.pa == 0x30001000 && v.prot == (PT_U | PT_W | PT_WC) && v.accessed && v.dirty,
              "dst 6 MiB + 4 pages: pa %#lx prot %#x a %d d %d", v.pa, v.prot, v.accessed,
              v.dirty);
    HT_EQ_U(pt_walk(&dpt, start - FR, &v), -ENOENT);
    HT_EQ_U(pt_walk(&dpt, end, &v), -ENOENT);

    /* More into the same dst, through tables it has already (the page
     * before the range shares a PT with the first copied one). */
    HT_TRY(all_leaves(&dpt, &L_keep));
    cf_reset(CF_SAME, 0);
    HT_TRY(clone_and_verify(0, start, 0, &L_keep, false, NULL));
    HT_EQ_U(cf.calls, 2);
    HT_EQ_U(dpt.nr_tables, 17); /* one PT for page 0x1000 */
    /* Nothing mapped in the range: nothing happens. */
    uint64_t dsnap = pt_hash(&dpt);
    cf_reset(CF_SAME, 0);
    HT_EQ_U(pt_clone(&dpt, &pt, 5 * G512, 6 * G512, PT_W, clone_fn, &cf), 0);
    HT_EQ_U(cf.calls, 0);
    HT_EQ_U(pt_hash(&dpt), dsnap);
    HT_EQ_U(pt_hash(&pt), snap);
    HT_EQ_U(fl.calls, 0);
    HT_TRY(check_pair());
    HT_TRY(dst_destroy());
    HT_TRY(teardown());
}

static void t_clone_cow(void)
{
    HT_TRY(setup(0, USER_END, false));
    HT_EQ_U(pt_map(&pt, 4 * MiB, 0x100000, 6 * FR, PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, 4 * MiB + 6 * FR, 0x200000, 2 * FR, PT_U | PT_X, 0), 0);
    HT_EQ_U(pt_map(&pt, 4 * MiB + 8 * FR, 0x300000, 2 * FR, PT_U | PT_W | PT_X | PT_WT, 0), 0);
    HT_EQ_U(pt_map(&pt, 8 * MiB, 64 * MiB, M2, PT_U | PT_W, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&pt, 10 * MiB, 0x400000, FR, PT_U, 0), 0);
    HT_EQ_U(pt_map(&pt, 12 * MiB, 0x500000, FR, PT_U | PT_W, 0), 0); /* outside the range */
    set_bits(4 * MiB + FR, 0, X86_PTE_A | X86_PTE_D);
    set_bits(4 * MiB + 6 * FR, 0, X86_PTE_A);
    set_bits(8 * MiB, 1, X86_PTE_A | X86_PTE_D);
    HT_TRY(check());

    /* fork's way (its fn also drops PT_W, which `clear` did already) */
    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_COW, 0);
    HT_TRY(clone_and_verify(4 * MiB + FR, 12 * MiB, PT_W, NULL, false, NULL));
    HT_EQ_U(fl.calls, 1);
    HT_ASSERT(fl.va <= 4 * MiB + FR && fl.va + fl.len >= 10 * MiB, "flush %#lx+%#lx",
              fl.va, fl.len);
    HT_TRY(expect_leaf(4 * MiB, 0x100000, FR, PT_U | PT_W)); /* outside: kept */
    HT_TRY(expect_leaf(4 * MiB + FR, 0x101000, FR, PT_U));
    HT_TRY(expect_leaf(4 * MiB + 6 * FR, 0x200000, FR, PT_U | PT_X));
    HT_TRY(expect_leaf(4 * MiB + 9 * FR, 0x301000, FR, PT_U | PT_X | PT_WT));
    HT_TRY(expect_leaf(8 * MiB, 64 * MiB, M2, PT_U));
    HT_TRY(expect_leaf(12 * MiB, 0x500000, FR, PT_U | PT_W));
    struct pt_view v;
    HT_EQ_U(pt_walk(&dpt, 8 * MiB + 3 * FR, &v), 0);
    HT_ASSERT(v.size == M2 && v.prot == PT_U && v.accessed && v.dirty, "dst 2 MiB leaf: %#lx %#x",
              v.size, v.prot);
    HT_EQ_U(pt_walk(&pt, 4 * MiB + FR, &v), 0);
    HT_ASSERT(v.accessed && v.dirty, "src lost its accessed/dirty bits");
    HT_TRY(dst_destroy());

    /* Again: nothing writable is left in the range: src unchanged, no flush. */
    uint64_t snap = pt_hash(&pt);
    unsigned calls = fl.calls;
    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_COW, 0);
    HT_TRY(clone_and_verify(4 * MiB + FR, 12 * MiB, PT_W, NULL, false, NULL));
    HT_EQ_U(fl.calls, calls);
    HT_EQ_U(pt_hash(&pt), snap);
    HT_TRY(dst_destroy());

    /* fn keeps the view it got, which is already without `clear`: both
     * copies lose PT_W. */
    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_SAME, 0);
    HT_TRY(clone_and_verify(0, 4 * MiB + FR, PT_W, NULL, false, NULL));
    HT_EQ_U(pt_walk(&dpt, 4 * MiB, &v), 0);
    HT_EQ_U(v.prot, PT_U);
    HT_EQ_U(cf.seen.v[0].prot, PT_U);
    HT_TRY(expect_leaf(4 * MiB, 0x100000, FR, PT_U));
    HT_EQ_U(fl.calls, calls + 1);
    HT_ASSERT(fl.va == 4 * MiB && fl.len == FR, "flush %#lx+%#lx", fl.va, fl.len);
    HT_TRY(dst_destroy());
    /* fn gives PT_W back with another frame (fork's eager copy): dst is
     * writable, src not. */
    HT_EQ_U(pt_protect(&pt, 4 * MiB, FR, PT_U | PT_W), 0);
    calls = fl.calls;
    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_COPY, 0);
    HT_TRY(clone_and_verify(0, 4 * MiB + 2 * FR, PT_W, NULL, false, NULL));
    HT_EQ_U(pt_walk(&dpt, 4 * MiB, &v), 0);
    HT_ASSERT(v.prot == (PT_U | PT_W) && v.pa == 0x100000 + 8 * GiB, "dst: prot %#x pa %#lx",
              v.prot, v.pa);
    HT_TRY(expect_leaf(4 * MiB, 0x100000, FR, PT_U));
    HT_EQ_U(fl.calls, calls + 1);
    HT_TRY(dst_destroy());

    /* Other rights and attributes. */
    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_SAME, 0);
    HT_TRY(clone_and_verify(0, 16 * MiB, PT_X | PT_U, NULL, false, NULL));
    HT_TRY(expect_leaf(12 * MiB, 0x500000, FR, PT_W));
    HT_TRY(dst_destroy());
    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_CHANGE, 0);
    HT_TRY(clone_and_verify(0, 16 * MiB, PT_W | PT_G | PT_WC, NULL, false, NULL));
    HT_TRY(dst_destroy());
    HT_TRY(teardown());
}

static void t_clone_fn_changes(void)
{
    HT_TRY(setup(0, USER_END, false));
    HT_EQ_U(pt_map(&pt, 4 * MiB - 8 * FR, 0x1000000, 32 * FR, PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, 8 * MiB, 4 * GiB, M2, PT_W, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&pt, 2 * GiB, 5 * GiB, GiB, PT_W | PT_X, PT_MAP_LARGE), 0);
    for (unsigned i = 0; i < 32; i++)
        set_bits(4 * MiB - 8 * FR + i * FR, 0,
                 (i % 5 == 0 ? X86_PTE_A : 0) | (i % 7 == 0 ? X86_PTE_A | X86_PTE_D : 0));
    set_bits(8 * MiB, 1, X86_PTE_A);
    set_bits(2 * GiB, 2, X86_PTE_A | X86_PTE_D);
    HT_TRY(check());
    uint64_t snap = pt_hash(&pt);
    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_CHANGE, 0);
    HT_TRY(clone_and_verify(0, 4 * GiB, 0, NULL, false, NULL));
    HT_EQ_U(pt_hash(&pt), snap);
    HT_EQ_U(fl.calls, 0);
    /* spot checks, written out: page 1024 (4 MiB) gets another frame, same rights */
    struct pt_view v;
    HT_EQ_U(pt_walk(&dpt, 4 * MiB, &v), 0);
    HT_ASSERT(v.pa == 0x1008000 + 8 * GiB && v.prot == (PT_U | PT_W), "4 MiB: pa %#lx prot %#x",
              v.pa, v.prot);
    /* page 1025: same frame, other rights (x, no u, cache index 1) */
    HT_EQ_U(pt_walk(&dpt, 4 * MiB + FR, &v), 0);
    HT_ASSERT(v.pa == 0x1009000 && v.prot == (PT_W | PT_X | PT_WC), "4 MiB + 4K: pa %#lx prot %#x",
              v.pa, v.prot);
    /* 1 GiB leaf: page 524288, another frame and other rights, A/D kept */
    HT_EQ_U(pt_walk(&dpt, 2 * GiB, &v), 0);
    HT_ASSERT(v.size == GiB && v.pa == 13 * GiB && v.prot == (PT_W | PT_U) && v.accessed &&
                  v.dirty, "2 GiB: size %#lx pa %#lx prot %#x", v.size, v.pa, v.prot);
    HT_TRY(dst_destroy());
    /* with copy-on-write on top */
    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_CHANGE, 0);
    HT_TRY(clone_and_verify(4 * MiB - 4 * FR, 4 * GiB, PT_W, NULL, false, NULL));
    HT_TRY(dst_destroy());
    HT_TRY(teardown());
}

/* fn fails at every position in turn, in particular on the first leaf of
 * a new PT (2 MiB), of a new PD (1 GiB) and of a new PDPT (512 GiB):
 * the tables created for it must go again. */
static void t_clone_fn_error(void)
{
    HT_TRY(setup(0, USER_END, false));
    static const uint64_t groups[] = { 2 * MiB - 2 * FR, GiB - 2 * FR, G512 - 2 * FR };
    unsigned n = 0;
    for (size_t g = 0; g < HT_COUNT(groups); g++)
        for (unsigned j = 0; j < 4; j++, n++)
            HT_EQ_U(pt_map(&pt, groups[g] + j * FR, 0x100000 + n * FR, FR,
                           n % 3 == 1 ? PT_U : PT_U | PT_W, 0), 0);
    set_bits(2 * MiB, 0, X86_PTE_A);
    set_bits(GiB + FR, 0, X86_PTE_A | X86_PTE_D);
    HT_TRY(check());
    HT_TRY(all_leaves(&pt, &L_orig));
    HT_EQ_U(L_orig.n, 12);
    /* tables dst holds when fn fails on leaf k (k leaves copied) */
    static const uint64_t tables_at[13] = { 1, 4, 4, 5, 5, 6, 6, 8, 8, 10, 10, 13, 13 };
    for (unsigned k = 0; k <= n; k++) {
        HT_TRY(dst_init(0, USER_END));
        cf_reset(CF_COW, k + 1);
        int rc;
        HT_TRY(clone_and_verify(0, 2 * G512, PT_W, NULL, false, &rc));
        HT_ASSERT(rc == (k < n ? -E2BIG : 0), "k %u: %d", k, rc);
        HT_ASSERT(dpt.nr_tables == tables_at[k], "k %u: dst has %lu tables, expected %lu", k,
                  dpt.nr_tables, tables_at[k]);
        HT_TRY(dst_destroy());
        HT_TRY(restore_src(&L_orig));
        HT_TRY(check());
    }
    HT_TRY(teardown());
}

/* -ENOMEM for every number of free frames short of what dst needs; then
 * success with exactly that number. */
static void t_clone_enomem(void)
{
    HT_TRY(setup(0, USER_END, false));
    static const uint64_t groups[] = { 2 * MiB - 2 * FR, GiB - 2 * FR, G512 - 2 * FR };
    unsigned n = 0;
    for (size_t g = 0; g < HT_COUNT(groups); g++)
        for (unsigned j = 0; j < 4; j++, n++)
            HT_EQ_U(pt_map(&pt, groups[g] + j * FR, 0x100000 + n * FR, FR,
                           n % 3 == 1 ? PT_U : PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, 8 * MiB, 4 * GiB, M2, PT_U | PT_W, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&pt, 2 * GiB, 4 * GiB, GiB, PT_U | PT_W, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&pt, 3 * G512 + 5 * GiB, 4 * GiB, GiB, PT_U | PT_W, PT_MAP_LARGE), 0);
    HT_TRY(check());
    HT_TRY(all_leaves(&pt, &L_orig));
    unsigned failures = 0;
    for (size_t give = 0;; give++) {
        HT_ASSERT(give < 64, "no success with %zu frames", give);
        HT_TRY(dst_init(0, USER_END));
        dpt.gfp = __GFP_MEMALLOC | __GFP_NOWARN; /* so that the last frames can be used */
        HT_TRY(exhaust());
        give_back(give);
        cf_reset(CF_COW, 0);
        int rc;
        HT_TRY(clone_and_verify(0, 4 * G512, PT_W, NULL, true, &rc));
        uint64_t tables = dpt.nr_tables;
        give_back(nhoard);
        HT_TRY(dst_destroy());
        HT_TRY(restore_src(&L_orig));
        HT_TRY(check());
        if (rc == 0) {
            HT_ASSERT(tables - 1 == give, "success with %zu free frames, dst needs %lu", give,
                      (tables - 1));
            break;
        }
        failures++;
    }
    HT_EQ_U(failures, 13); /* PDPT 0, PD 0, PT x3, PD 1 + PT, PD 511 + PT, PDPT 1 + PD + PT, PDPT 3 */
    HT_TRY(teardown());
}

/* dst maps something where src has a leaf: -EEXIST when the walk meets it,
 * after copying the leaves before it (at 4 KiB, and with a large leaf on
 * either side). */
static void t_clone_eexist(void)
{
    HT_TRY(setup(0, USER_END, false));
    HT_EQ_U(pt_map(&pt, 4 * MiB, 0x100000, 4 * FR, PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, 8 * MiB, 32 * MiB, M2, PT_U | PT_W, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&pt, 10 * MiB, 0x200000, 2 * FR, PT_U | PT_W, 0), 0);
    HT_TRY(check());
    HT_TRY(all_leaves(&pt, &L_orig));
    static const struct { uint64_t va, len; unsigned flags; size_t copied; } pre[] = {
        { 4 * MiB + 2 * FR, FR, 0, 2 },            /* the same page */
        { 4 * MiB, M2, PT_MAP_LARGE, 0 },          /* a 2 MiB leaf over src's pages */
        { 8 * MiB + 5 * FR, FR, 0, 4 },            /* a page under src's 2 MiB leaf */
        { 10 * MiB + FR, FR, 0, 6 },               /* the last page */
    };
    for (size_t i = 0; i < HT_COUNT(pre); i++) {
        HT_TRY(dst_init(0, USER_END));
        HT_EQ_U(pt_map(&dpt, pre[i].va, 64 * MiB, pre[i].len, PT_U, pre[i].flags), 0);
        HT_TRY(all_leaves(&dpt, &L_keep));
        cf_reset(CF_COW, 0);
        int rc;
        HT_TRY(clone_and_verify(4 * MiB, 12 * MiB, PT_W, &L_keep, false, &rc));
        HT_ASSERT(rc == -EEXIST && cf.ok == pre[i].copied, "case %zu: %d, %u copied", i, rc,
                  cf.ok);
        HT_TRY(dst_destroy());
        HT_TRY(restore_src(&L_orig));
    }
    HT_TRY(teardown());
}

/* dst's leaves where src has none are left alone: no -EEXIST, the copies
 * go around them (into the same tables). */
static void t_clone_eexist_hole(void)
{
    HT_TRY(setup(0, USER_END, false));
    HT_EQ_U(pt_map(&pt, 4 * MiB, 0x100000, 4 * FR, PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, 4 * MiB + 12 * FR, 0x200000, FR, PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, GiB, 0x300000, FR, PT_U, 0), 0);
    HT_TRY(check());
    static const uint64_t at[] = { 4 * MiB + 10 * FR, 6 * MiB, 3 * GiB, 4 * MiB - FR };
    for (size_t i = 0; i < HT_COUNT(at); i++) {
        HT_TRY(dst_init(0, USER_END));
        HT_EQ_U(pt_map(&dpt, at[i], 64 * MiB, FR, PT_U, 0), 0);
        HT_TRY(all_leaves(&dpt, &L_keep));
        cf_reset(CF_SAME, 0);
        int rc;
        HT_TRY(clone_and_verify(4 * MiB, 4 * GiB, PT_W, &L_keep, false, &rc));
        HT_ASSERT(rc == 0 && cf.ok == 6, "dst maps %#lx: %d, %u copied", at[i], rc, cf.ok);
        HT_TRY(dst_destroy());
        HT_EQ_U(pt_protect(&pt, 4 * MiB, 16 * FR, PT_U | PT_W), 0);
    }
    HT_TRY(teardown());
}

static void t_clone_einval(void)
{
    HT_TRY(setup(GiB, 4 * GiB, false));
    HT_EQ_U(pt_map(&pt, 2 * GiB, 0x100000, 4 * FR, PT_W | PT_U, 0), 0);
    HT_TRY(dst_init(0, 3 * GiB));
    HT_EQ_U(pt_map(&dpt, 0x1000, 0x1000, FR, PT_U, 0), 0);
    uint64_t ssnap = pt_hash(&pt), dsnap = pt_hash(&dpt);
    static const struct { uint64_t a, b; unsigned clear; } bad[] = {
        { 2 * GiB + 1, 2 * GiB + FR, 0 },           /* unaligned start */
        { 2 * GiB + 0x800, 2 * GiB + FR, 0 },
        { 2 * GiB, 2 * GiB + FR + 1, 0 },           /* unaligned end */
        { 2 * GiB, 2 * GiB + 4 * FR - 8, 0 },
        { 2 * GiB, 2 * GiB, 0 },                    /* empty */
        { 2 * GiB + FR, 2 * GiB, 0 },               /* reversed */
        { 2 * GiB, 0, 0 },                          /* end wrapped */
        { GiB - FR, GiB + FR, 0 },                  /* starts below src's range */
        { 0x1000, 0x2000, 0 },                      /* outside src's range */
        { 3 * GiB - FR, 3 * GiB + FR, 0 },          /* ends past dst's range */
        { 3 * GiB, 3 * GiB + FR, 0 },               /* outside dst's range */
        { 4 * GiB - FR, 4 * GiB + FR, 0 },          /* past both */
        { 0, 4 * GiB, 0 },                          /* around both */
        { USER_END, USER_END + FR, 0 },             /* non-canonical */
        { HIGH_START, HIGH_START + FR, 0 },         /* the other half */
        { 2 * GiB, 2 * GiB + FR, PT_ACCESSED },     /* src_clear: state bits are not rights */
        { 2 * GiB, 2 * GiB + FR, PT_DIRTY },
        { 2 * GiB, 2 * GiB + FR, PT_W | 0x100 },
        { 2 * GiB, 2 * GiB + FR, ~0u },
    };
    for (size_t i = 0; i < HT_COUNT(bad); i++) {
        cf_reset(CF_SAME, 0);
        int rc = pt_clone(&dpt, &pt, bad[i].a, bad[i].b, bad[i].clear, clone_fn, &cf);
        HT_ASSERT(rc == -EINVAL, "case %zu [%#lx, %#lx) clear %#x: %d", i, bad[i].a,
                  bad[i].b, bad[i].clear, rc);
        HT_ASSERT(cf.calls == 0 && pt_hash(&pt) == ssnap && pt_hash(&dpt) == dsnap &&
                      fl.calls == 0,
                  "case %zu: something changed", i);
    }
    /* no fn */
    HT_EQ_U(pt_clone(&dpt, &pt, 2 * GiB, 2 * GiB + 4 * FR, PT_W, NULL, NULL), -EINVAL);
    /* src and dst the same tables: the same struct, or two structs with one root */
    cf_reset(CF_SAME, 0);
    HT_EQ_U(pt_clone(&pt, &pt, 2 * GiB, 2 * GiB + 4 * FR, PT_W, clone_fn, &cf), -EINVAL);
    struct pgtable alias = pt;
    HT_EQ_U(pt_clone(&alias, &pt, 2 * GiB, 2 * GiB + 4 * FR, PT_W, clone_fn, &cf), -EINVAL);
    HT_EQ_U(pt_clone(&alias, &pt, 2 * GiB + 8 * FR, 2 * GiB + 9 * FR, 0, clone_fn, &cf), -EINVAL);
    /* different formats (one without 1 GiB leaves) */
    struct pt_format other = pt_x86_64;
    other.leaf_levels = 0x3;
    struct pgtable o;
    HT_EQ_U(pt_init(&o, &other, GFP_KERNEL, 0, 3 * GiB), 0);
    HT_EQ_U(pt_clone(&o, &pt, 2 * GiB, 2 * GiB + 4 * FR, PT_W, clone_fn, &cf), -EINVAL);
    HT_EQ_U(pt_clone(&dpt, &o, 2 * GiB, 2 * GiB + 4 * FR, PT_W, clone_fn, &cf), -EINVAL);
    HT_EQ_U(o.nr_tables, 1);
    pt_destroy(&o);
    /* even an identical copy of the format is another format */
    other = pt_x86_64;
    HT_EQ_U(pt_init(&o, &other, GFP_KERNEL, 0, 3 * GiB), 0);
    HT_EQ_U(pt_clone(&o, &pt, 2 * GiB, 2 * GiB + 4 * FR, PT_W, clone_fn, &cf), -EINVAL);
    pt_destroy(&o);
    HT_ASSERT(cf.calls == 0 && pt_hash(&pt) == ssnap && pt_hash(&dpt) == dsnap && fl.calls == 0,
              "a refused clone changed something");
    HT_TRY(check_pair());
    /* and the good request works */
    HT_TRY(all_leaves(&dpt, &L_keep));
    cf_reset(CF_SAME, 0);
    HT_TRY(clone_and_verify(2 * GiB, 3 * GiB, PT_W, &L_keep, false, NULL));
    HT_EQ_U(cf.ok, 4);
    HT_TRY(dst_destroy());
    HT_TRY(teardown());
}

/* Large leaves: copied whole when inside the range, -EINVAL when one
 * crosses an edge (after the leaves before it were copied). */
static void t_clone_large(void)
{
    HT_TRY(setup(0, USER_END, false));
    HT_EQ_U(pt_map(&pt, 2 * MiB - 2 * FR, 0x100000, 2 * FR, PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, 2 * MiB, 64 * MiB, M2, PT_U | PT_W | PT_WC, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&pt, 4 * MiB, 0x200000, FR, PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, GiB, 4 * GiB, GiB, PT_W | PT_X | PT_WT, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&pt, 2 * GiB, 0x300000, FR, PT_W, 0), 0);
    set_bits(2 * MiB, 1, X86_PTE_A | X86_PTE_D);
    set_bits(GiB, 2, X86_PTE_A);
    HT_TRY(check());
    HT_TRY(all_leaves(&pt, &L_orig));
    static const struct { uint64_t a, b; int rc; unsigned copied; } tries[] = {
        { 2 * MiB - 2 * FR, 3 * MiB, -EINVAL, 2 },     /* the 2 MiB leaf crosses the end */
        { 3 * MiB, 4 * MiB + FR, -EINVAL, 0 },         /* ... the start */
        { 2 * MiB + FR, 4 * MiB - FR, -EINVAL, 0 },    /* ... both */
        { 2 * MiB, 4 * MiB, 0, 1 },                    /* exactly: one 2 MiB leaf */
        { 0, 4 * MiB + FR, 0, 4 },
        { GiB + M2, 2 * GiB + FR, -EINVAL, 0 },        /* the 1 GiB leaf crosses the start */
        { 4 * MiB, GiB + M2, -EINVAL, 1 },             /* ... the end */
        { GiB, 2 * GiB, 0, 1 },                        /* exactly: one 1 GiB leaf */
        { 0, 4 * GiB, 0, 6 },
    };
    for (size_t i = 0; i < HT_COUNT(tries); i++) {
        for (unsigned clear = 0; clear <= PT_W; clear += PT_W) {
            HT_TRY(dst_init(0, USER_END));
            cf_reset(clear ? CF_COW : CF_SAME, 0);
            int rc;
            HT_TRY(clone_and_verify(tries[i].a, tries[i].b, clear, NULL, false, &rc));
            HT_ASSERT(rc == tries[i].rc && cf.ok == tries[i].copied,
                      "case %zu: %d with %u leaves copied", i, rc, cf.ok);
            if (i == 3) {
                struct pt_view v;
                HT_EQ_U(pt_walk(&dpt, 3 * MiB + 5 * FR, &v), 0);
                HT_ASSERT(v.size == M2 && v.level == 1 && v.pa == 64 * MiB && v.accessed &&
                              v.dirty && v.prot == (PT_U | PT_WC | (clear ? 0 : PT_W)),
                          "dst's 2 MiB leaf: size %#lx level %u pa %#lx prot %#x",
                          v.size, v.level, v.pa, v.prot);
                HT_EQ_U(dpt.nr_tables, 3);
            }
            HT_TRY(dst_destroy());
            HT_TRY(restore_src(&L_orig));
        }
    }
    HT_TRY(teardown());
}

/* Random source tables from the model's operations (4 KiB and 2 MiB
 * leaves, random accessed/dirty bits), cloned over random ranges with
 * random src_clear, fn changes and fn failures, compared page by page
 * through pt_walk on both sides. */
static void t_clone_random(void)
{
    HT_TRY(setup(0, USER_END, false));
    rng = 0x5851f42d4c957f2dul;
    win = GiB - 8 * MiB;
    npages = 16 * MiB / FR;
    model = calloc(npages, sizeof(*model));
    HT_ASSERT(model, "out of host memory");
    unsigned einval = 0, e2big = 0, ok = 0;
    for (unsigned round = 0; round < 400; round++) {
        unsigned nops = round == 0 ? 200 : 1 + (unsigned)rnd(4);
        for (unsigned op = 0; op < nops; op++) {
            uint64_t s, n, unit = rnd(3) ? FR : M2;
            random_range(unit, unit == FR ? 40 : 3, &s, &n);
            HT_TRY(random_op(s, n, unit));
        }
        for (int k = 0; k < 4; k++) {
            struct pt_view v;
            uint64_t va = win + rnd(npages) * FR;
            if (pt_walk(&pt, va, &v) == 0)
                set_bits(va, v.level, rnd(4) * X86_PTE_A);  /* A, D or both */
        }
        HT_TRY(check());
        /* a range: pages, or widened to whole leaves, or with an edge
         * inside a 2 MiB leaf */
        uint64_t a = rnd(npages), b = a + 1 + rnd(rnd(2) ? 64 : npages - a);
        b = b > npages ? npages : b;
        uint64_t start = win + a * FR, end = win + b * FR;
        struct pt_view v;
        unsigned how = (unsigned)rnd(5);
        if (how == 0) {
            /* the model's operations rarely leave 2 MiB leaves: make one */
            uint64_t slot = rnd(npages / 512) * 512, pa = rnd(64) * GiB + rnd(512) * M2;
            unsigned prot = (unsigned)rnd(PT_PROT_MASK + 1);
            HT_EQ_U(pt_unmap(&pt, win + slot * FR, M2), 0);
            HT_EQ_U(pt_map(&pt, win + slot * FR, pa, M2, prot, PT_MAP_LARGE), 0);
            for (uint64_t i = 0; i < 512; i++)
                model[slot + i] = (struct mpage){ pa + i * FR, (uint8_t)prot, true };
            memset(&fl, 0, sizeof(fl));
            HT_TRY(leaves_in(&pt, win, win + npages * FR, &L_tmp));
            size_t nlarge = 0;
            for (size_t i = 0; i < L_tmp.n; i++)
                if (L_tmp.v[i].size == M2)
                    L_tmp.v[nlarge++] = L_tmp.v[i];
            if (nlarge) {
                const struct pt_view *l = &L_tmp.v[rnd(nlarge)];
                uint64_t in = l->va + (1 + rnd(M2 / FR - 1)) * FR;
                if (rnd(2)) {
                    start = in;
                    end = in + (1 + rnd(2 * M2 / FR)) * FR;
                } else {
                    end = in;
                    start = in - (1 + rnd(2 * M2 / FR)) * FR;
                }
                start = start < win ? win : start;
                end = end > win + npages * FR ? win + npages * FR : end;
            }
        } else if (how < 3) {
            if (pt_walk(&pt, start, &v) == 0)
                start = v.va;
            if (pt_walk(&pt, end - 1, &v) == 0)
                end = v.va + v.size;
        }
        unsigned r = (unsigned)rnd(4);
        unsigned clear = r == 0 ? 0 : r < 3 ? PT_W : (unsigned)rnd(PT_PROT_MASK + 1);
        HT_TRY(leaves_in(&pt, start, end, &L_src));
        unsigned fail_at = rnd(5) == 0 ? 1 + (unsigned)rnd(L_src.n + 1) : 0;
        HT_TRY(dst_init(0, USER_END));
        cf_reset((int)rnd(4), fail_at);
        int rc;
        HT_TRY(clone_and_verify(start, end, clear, NULL, false, &rc));
        einval += rc == -EINVAL;
        e2big += rc == -E2BIG;
        ok += rc == 0;
        /* page by page: dst's leaf for every page of a copy, and nothing
         * else in [start, end) or around it */
        size_t li = 0;
        uint64_t lo = start >= M2 ? start - M2 : 0;
        for (uint64_t va = lo; va < end + M2; va += FR) {
            while (li < L_exp.n && L_exp.v[li].va + L_exp.v[li].size <= va)
                li++;
            int w = pt_walk(&dpt, va, &v);
            if (li < L_exp.n && L_exp.v[li].va <= va) {
                const struct pt_view *e = &L_exp.v[li];
                struct pt_view sv;
                HT_ASSERT(w == 0 && same_leaf(&v, e), "round %u: dst page %#lx: %d", round,
                          va, w);
                HT_ASSERT(pt_walk(&pt, va, &sv) == 0 && sv.va == v.va && sv.size == v.size &&
                              sv.level == v.level && sv.accessed == v.accessed &&
                              sv.dirty == v.dirty,
                          "round %u: src and dst differ at %#lx", round, va);
            } else {
                HT_ASSERT(w == -ENOENT, "round %u: dst maps %#lx: %d", round, va, w);
            }
        }
        /* src's model: the copied pages lost `clear` */
        for (size_t i = 0; i < L_exp.n; i++)
            for (uint64_t va = L_exp.v[i].va; va < L_exp.v[i].va + L_exp.v[i].size; va += FR)
                model[(va - win) / FR].prot &= (uint8_t)~clear;
        HT_TRY(model_compare_walk());
        /* destroy dst, sometimes through pt_destroy_each */
        if (round & 1) {
            HT_TRY(dst_destroy());
        } else {
            uint64_t count = 0;
            uint64_t before = nr_free_pages() + dpt.nr_tables;
            L_tmp.n = 0;
            pt_destroy_each(&dpt, destroy_rec, &L_tmp);
            count = L_tmp.n;
            HT_TRY(expect_destroyed("pt_destroy_each(dst)", &L_tmp, L_dst.v, L_dst.n));
            HT_ASSERT(nr_free_pages() == before && dpt.root == 0, "%lu leaves; free %lu vs %lu",
                      count, nr_free_pages(), before);
        }
        memset(&fl, 0, sizeof(fl));
    }
    HT_ASSERT(einval > 20 && e2big > 20 && ok > 100, "%u -EINVAL, %u -E2BIG, %u ok", einval,
              e2big, ok);
    HT_TRY(model_compare_leaves());
    free(model);
    HT_TRY(teardown());
}

/* ---- pt_destroy_each ---------------------------------------------------------------------- */

/* Every kind of leaf in pt (user half). */
static void fill_user(void)
{
    static const struct { uint64_t va, pa, len; unsigned prot, flags; } maps[] = {
        { 0x1000, 0x7000, 5 * FR, PT_U | PT_W, 0 },
        { 2 * MiB - FR, 0x20000, 2 * FR, PT_U | PT_X, 0 },
        { 8 * MiB, 64 * MiB, 2 * M2, PT_U | PT_W | PT_WC, PT_MAP_LARGE },
        { 3 * GiB, 5 * GiB, GiB, PT_W | PT_UC, PT_MAP_LARGE },
        { G512 - FR, 7 * GiB, 2 * FR, PT_U | PT_W | PT_X | PT_WT, 0 },
        { USER_END - FR, 0x9000, FR, PT_U, 0 },
    };
    for (size_t i = 0; i < HT_COUNT(maps); i++)
        HT_EQ_U(pt_map(&pt, maps[i].va, maps[i].pa, maps[i].len, maps[i].prot, maps[i].flags), 0);
    /* a run whose frames and rights change from page to page */
    for (unsigned i = 0; i < 24; i++)
        HT_EQ_U(pt_map(&pt, 64 * MiB + i * FR, (uint64_t)(i * 7919 % 101 + 1) * FR, FR,
                       i % 3 ? PT_U : PT_U | PT_W, 0), 0);
    set_bits(0x2000, 0, X86_PTE_A);
    set_bits(0x3000, 0, X86_PTE_A | X86_PTE_D);
    set_bits(8 * MiB + M2, 1, X86_PTE_A | X86_PTE_D);
    set_bits(3 * GiB, 2, X86_PTE_A);
    for (unsigned i = 0; i < 24; i += 5)
        set_bits(64 * MiB + i * FR, 0, X86_PTE_A | (i % 2 ? X86_PTE_D : 0));
}

static void t_destroy_each(void)
{
    char why[256];
    HT_TRY(setup(0, USER_END, false));
    /* the kernel half in its own tables, its top entries shared into pt */
    struct pgtable kpt;
    HT_EQ_U(pt_init(&kpt, &pt_x86_64, GFP_KERNEL, HIGH_START, HIGH_END), 0);
    kpt.keep_top_tables = true;
    HT_EQ_U(pt_map(&kpt, HIGH_START + GiB, 0, M2, PT_W | PT_G, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&kpt, HIGH_START + 3 * GiB, 0x5000, 3 * FR, PT_W | PT_G, 0), 0);
    HT_EQ_U(pt_map(&kpt, HIGH_END - FR, 0x6000, FR, PT_W | PT_G, 0), 0);
    HT_EQ_U(pt_share_top(&pt, &kpt, HIGH_START, 0 - HIGH_START), 0);
    uint64_t khash = pt_hash(&kpt), ktables = kpt.nr_tables;
    HT_TRY(all_leaves(&kpt, &L_kern));
    HT_EQ_U(L_kern.n, 5);

    HT_TRY(fill_user());
    HT_ASSERT(pt_check(&pt, why, sizeof(why)) == 0, "pt_check: %s", why);
    HT_TRY(all_leaves(&pt, &L_src));
    HT_EQ_U(L_src.n, 5 + 2 + 2 + 1 + 2 + 1 + 24);
    uint64_t free_before = nr_free_pages(), tables = pt.nr_tables;
    L_destroyed.n = 0;
    pt_destroy_each(&pt, destroy_rec, &L_destroyed);
    HT_TRY(expect_destroyed("pt_destroy_each", &L_destroyed, L_src.v, L_src.n));
    HT_EQ_U(pt.root, 0);
    HT_EQ_U(pt.nr_tables, 0);
    HT_EQ_U(nr_free_pages(), free_before + tables);
    /* the kernel's tables are intact */
    HT_ASSERT(pt_check(&kpt, why, sizeof(why)) == 0, "pt_check(kernel): %s", why);
    HT_EQ_U(pt_hash(&kpt), khash);
    HT_EQ_U(kpt.nr_tables, ktables);
    HT_EQ_U(nr_free_pages() + ktables, base_free);
    /* and the kernel half destroyed in turn: the upper half, kept top tables */
    L_destroyed.n = 0;
    pt_destroy_each(&kpt, destroy_rec, &L_destroyed);
    HT_TRY(expect_destroyed("pt_destroy_each(kernel)", &L_destroyed, L_kern.v, L_kern.n));
    HT_EQ_U(kpt.root, 0);
    HT_EQ_U(nr_free_pages(), base_free);

    /* keep_top_tables, an empty kept table, a range aligned to nothing large */
    HT_EQ_U(pt_init(&pt, &pt_x86_64, GFP_KERNEL, GiB + 5 * FR, 3 * G512 - 7 * FR), 0);
    pt.keep_top_tables = true;
    HT_EQ_U(pt_map(&pt, GiB + 5 * FR, 0x1000, FR, PT_W, 0), 0);
    HT_EQ_U(pt_map(&pt, 3 * G512 - 8 * FR, 0x2000, FR, PT_W | PT_U, 0), 0);
    HT_EQ_U(pt_map(&pt, G512 + M2, 0x3000, FR, PT_W, 0), 0);
    HT_EQ_U(pt_unmap(&pt, G512 + M2, FR), 0);
    HT_ASSERT(pt_check(&pt, why, sizeof(why)) == 0, "pt_check: %s", why);
    HT_EQ_U(pt.nr_tables, 1 + 3 + 1 + 3);
    HT_TRY(all_leaves(&pt, &L_src));
    HT_EQ_U(L_src.n, 2);
    L_destroyed.n = 0;
    pt_destroy_each(&pt, destroy_rec, &L_destroyed);
    HT_TRY(expect_destroyed("pt_destroy_each(kept)", &L_destroyed, L_src.v, L_src.n));
    HT_EQ_U(pt.nr_tables, 0);
    HT_EQ_U(nr_free_pages(), base_free);

    /* fn == NULL: pt_destroy */
    HT_EQ_U(pt_init(&pt, &pt_x86_64, GFP_KERNEL, 0, USER_END), 0);
    HT_TRY(fill_user());
    HT_ASSERT(pt.nr_tables > 10, "%lu tables", pt.nr_tables);
    pt_destroy_each(&pt, NULL, NULL);
    HT_EQ_U(pt.root, 0);
    HT_EQ_U(pt.nr_tables, 0);
    HT_EQ_U(nr_free_pages(), base_free);
    /* an empty pgtable */
    HT_EQ_U(pt_init(&pt, &pt_x86_64, GFP_KERNEL, 0, USER_END), 0);
    L_destroyed.n = 0;
    pt_destroy_each(&pt, destroy_rec, &L_destroyed);
    HT_EQ_U(L_destroyed.n, 0);
    HT_EQ_U(nr_free_pages(), base_free);
}

/* ---- formats whose 4 KiB leaves do not hold their frame in place ------------------------ */

/* Broken make_leaf / present functions over the x86-64 ones. */
static uint64_t mk_drop12(uint64_t pa, unsigned level, unsigned prot)
{
    return pt_x86_64.make_leaf(level ? pa : pa & ~0x1000ul, level, prot);
}

static uint64_t mk_shifted(uint64_t pa, unsigned level, unsigned prot)
{
    return pt_x86_64.make_leaf(level ? pa : (pa << 1) & X86_PTE_ADDR, level, prot);
}

/* frame bit 51 kept in bit 62 */
static uint64_t mk_moved51(uint64_t pa, unsigned level, unsigned prot)
{
    uint64_t e = pt_x86_64.make_leaf(pa & ~(1ul << 51), level, prot);
    return pa & (1ul << 51) ? e | (1ul << 62) : e;
}

/* a write-through leaf sets frame bit 40 */
static uint64_t mk_wt40(uint64_t pa, unsigned level, unsigned prot)
{
    uint64_t e = pt_x86_64.make_leaf(pa, level, prot);
    return (prot & PT_CACHE_MASK) == PT_WT ? e | (1ul << 40) : e;
}

static bool present_any(uint64_t e)
{
    return e != 0;
}

/* present() depending on a frame bit (40: no table page of the arena has it) */
static bool present_not40(uint64_t e)
{
    return (e & X86_PTE_P) && !(e & (1ul << 40));
}

/* What a format pt_init accepted does to a clone: two pages of one run
 * (same rights, frames 0x7000 and 0x8000 | bit 40), write-through. */
static void leaf0_demo(const struct pt_format *f, char *buf, size_t size)
{
    struct pgtable s, d;
    int n = 0;
    if (pt_init(&s, f, GFP_KERNEL, 0, USER_END))
        return;
    if (pt_init(&d, f, GFP_KERNEL, 0, USER_END)) {
        pt_destroy(&s);
        return;
    }
    int m1 = pt_map(&s, 0x400000, 0x7000, FR, PT_W | PT_WT, 0);
    int m2 = pt_map(&s, 0x401000, 0x8000 | (1ul << 40), FR, PT_W | PT_WT, 0);
    L_tmp.n = 0;
    pt_for_each(&s, 0, USER_END, vl_collect, &L_tmp);
    size_t src_leaves = L_tmp.n;
    uint64_t src_pa = L_tmp.n ? L_tmp.v[0].pa : 0;
    cf_reset(CF_SAME, 0);
    int rc = pt_clone(&d, &s, 0, USER_END, 0, clone_fn, &cf);
    L_tmp.n = 0;
    pt_for_each(&d, 0, USER_END, vl_collect, &L_tmp);
    n += snprintf(buf + n, size - (size_t)n,
                  " (map %d/%d, src %zu leaves (first pa %#lx), clone %d, fn %u calls, dst %zu "
                  "leaves:", m1, m2, src_leaves, src_pa, rc, cf.calls, L_tmp.n);
    for (size_t i = 0; i < L_tmp.n && i < 2 && n < (int)size; i++)
        n += snprintf(buf + n, size - (size_t)n, " pa %#lx", L_tmp.v[i].pa);
    if (n < (int)size)
        snprintf(buf + n, size - (size_t)n, ")");
    pt_destroy(&d);
    pt_destroy(&s);
}

/* pt_init refuses a format whose 4 KiB leaves do not hold their frame in
 * place (make_leaf(pa, 0, prot) == pa | make_leaf(0, 0, prot) for every
 * page-aligned pa below 2^pa_bits and every prot), or whose present()
 * looks at the frame bits.  subtle: the formats broken only for some
 * rights or some frames. */
static void leaf0_refused(bool subtle)
{
    HT_TRY(setup(0, USER_END, false));
    static const struct {
        const char *what;
        uint64_t pa_bits;
        uint64_t (*make_leaf)(uint64_t, unsigned, unsigned);
        bool (*present)(uint64_t);
    } bad[] = {
        { "pa_bits 53 (bit 52 is not a frame bit)", 53, NULL, NULL },
        { "pa_bits 63 (up to bit 62)", 63, NULL, NULL },
        { "pa_bits 64 (bit 63)", 64, NULL, NULL },
        { "make_leaf drops frame bit 12", 0, mk_drop12, NULL },
        { "make_leaf shifts the frame", 0, mk_shifted, NULL },
        { "make_leaf keeps frame bit 51 in bit 62", 0, mk_moved51, NULL },
        { "present() true for frame bits alone", 0, NULL, present_any },
        /* broken only for some rights, or some frames: pt_init must still see it */
        { "make_leaf sets frame bit 40 for PT_WT", 0, mk_wt40, NULL },
        { "present() looks at frame bit 40", 0, NULL, present_not40 },
    };
    char accepted[1024] = "";
    size_t len = 0;
    uint64_t free0 = nr_free_pages();
    for (size_t i = subtle ? 7 : 0; i < (subtle ? HT_COUNT(bad) : 7); i++) {
        struct pt_format broken = pt_x86_64;
        if (bad[i].pa_bits)
            broken.pa_bits = bad[i].pa_bits;
        if (bad[i].make_leaf)
            broken.make_leaf = bad[i].make_leaf;
        if (bad[i].present)
            broken.present = bad[i].present;
        struct pgtable b;
        int rc = pt_init(&b, &broken, GFP_KERNEL, 0, USER_END);
        if (rc == 0) {
            pt_destroy(&b);
            char demo[256] = "";
            leaf0_demo(&broken, demo, sizeof(demo));
            len += (size_t)snprintf(accepted + len, sizeof(accepted) - len, " [%s%s]",
                                    bad[i].what, demo);
            if (len >= sizeof(accepted))
                len = sizeof(accepted) - 1;
        } else {
            HT_ASSERT(rc == -EINVAL, "%s: %d", bad[i].what, rc);
        }
        HT_EQ_U(nr_free_pages(), free0);
    }
    HT_ASSERT(len == 0, "pt_init accepted:%s", accepted);
    /* the format itself, and an equal copy, are fine */
    struct pt_format copy = pt_x86_64;
    struct pgtable good;
    HT_EQ_U(pt_init(&good, &copy, GFP_KERNEL, 0, USER_END), 0);
    pt_destroy(&good);
    HT_EQ_U(nr_free_pages(), free0);
    HT_TRY(teardown());
}

static void t_mask0(void)
{
    leaf0_refused(false);
}

static void t_mask0_every_prot(void)
{
    leaf0_refused(true);
}

static const struct htest cases[] = {
    HT_CASE(format_bits),
    HT_CASE(prot_roundtrip),
    HT_CASE(prot_str),
    HT_CASE(init_destroy),
    HT_CASE(map_4k),
    HT_CASE(map_2m),
    HT_CASE(map_1g),
    HT_CASE(map_large_choice),
    HT_CASE(einval),
    HT_CASE(eexist),
    HT_CASE(enomem_map),
    HT_CASE(enomem_split),
    HT_CASE(unmap_frees_tables),
    HT_CASE(split_unmap),
    HT_CASE(split_protect),
    HT_CASE(flush_before_free),
    HT_CASE(for_each),
    HT_CASE(kernel_half),
    HT_CASE(keep_top_tables),
    HT_CASE(shared_kernel_half),
    HT_CASE(destroy_mapped),
    HT_CASE(validator_catches),
    HT_CASE(random_small),
    HT_CASE(random_large),
    HT_CASE(clone_basic),
    HT_CASE(clone_cow),
    HT_CASE(clone_fn_changes),
    HT_CASE(clone_fn_error),
    HT_CASE(clone_enomem),
    HT_CASE(clone_eexist),
    HT_CASE(clone_eexist_hole),
    HT_CASE(clone_einval),
    HT_CASE(clone_large),
    HT_CASE(clone_random),
    HT_CASE(destroy_each),
    HT_CASE(mask0),
    HT_CASE(mask0_every_prot),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
