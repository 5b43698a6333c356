/*
 * Host tests of mem_place (mm/mem_place.c): where mem_map goes and which
 * frames the allocator gets, from a cleaned map and the loader's ranges.
 *
 * Every plan is checked three ways: the exact values a case expects, the
 * plan's invariants (plan_ok: mem_map inside one usable range and clear
 * of the held ranges, pieces disjoint, sorted, maximal, covering exactly
 * the RAM, free only where usable and not held), and, in the randomized
 * case, against a brute-force model painted page by page over 64 MiB,
 * written without looking at mem_place.c.
 */
#include <stdlib.h>

#include "htest.h"
#include "mm_host.h"
#include <kernel/errno.h>
#include <mm/mem_place.h>
#include <mm/page.h>

#define KiB 1024ul
#define MiB (1ul << 20)
#define GiB (1ul << 30)
#define PG 4096ul

#define U MEM_USABLE
#define X MEM_RESERVED
#define R(s, e, k) { (s), (e), (k) }
#define CAP 1024

static struct mem_piece pieces[CAP];
static struct mem_plan plan;

static uint64_t map_bytes_for(uint64_t max_pfn)
{
    return (max_pfn * sizeof(struct page) + PG - 1) & ~(PG - 1);
}

/* Do [s1, e1) and [s2, e2) share a byte? */
static bool overlaps(uint64_t s1, uint64_t e1, uint64_t s2, uint64_t e2)
{
    return s1 < e1 && s2 < e2 && s1 < e2 && s2 < e1;
}

/* The held range, rounded outwards to pages (an empty one holds nothing). */
static void held_pages(const struct mem_range *h, uint64_t *s, uint64_t *e)
{
    *s = h->start & ~(PG - 1);
    *e = h->end > h->start ? (h->end + PG - 1) & ~(PG - 1) : *s;
}

/* The plan's invariants, whatever the input. */
static void plan_ok(const struct mem_range *r, size_t n, const struct mem_range *held,
                    size_t nheld)
{
    uint64_t top = 0, usable = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].kind != X)
            top = r[i].end;
        if (r[i].kind == U)
            usable += (r[i].end - r[i].start) / PG;
    }
    HT_EQ_U(plan.max_pfn, top / PG);
    HT_EQ_U(plan.usable, usable);
    HT_EQ_U(plan.map_bytes, map_bytes_for(plan.max_pfn));
    HT_ASSERT(plan.pieces == pieces, "pieces not in the caller's array");
    uint64_t ms = plan.map_pa, me = plan.map_pa + plan.map_bytes;
    HT_ASSERT(ms % PG == 0, "mem_map at %#lx is not page aligned", ms);
    bool inside = false;
    for (size_t i = 0; i < n; i++)
        inside = inside || (r[i].kind == U && r[i].start <= ms && me <= r[i].end);
    HT_ASSERT(inside, "mem_map [%#lx, %#lx) is not inside one usable range", ms, me);
    for (size_t i = 0; i < nheld; i++) {
        uint64_t hs, he;
        held_pages(&held[i], &hs, &he);
        HT_ASSERT(!overlaps(ms, me, hs, he), "mem_map [%#lx, %#lx) overlaps held %zu", ms, me,
                  i);
    }
    /* Pieces: sorted, disjoint, maximal, each inside one RAM range. */
    uint64_t covered = 0;
    for (size_t k = 0; k < plan.npieces; k++) {
        const struct mem_piece *p = &plan.pieces[k];
        uint64_t s = p->start_pfn * PG, e = p->end_pfn * PG;
        HT_ASSERT(s < e, "piece %zu is empty", k);
        HT_ASSERT(!k || plan.pieces[k - 1].end_pfn < p->start_pfn ||
                      (plan.pieces[k - 1].end_pfn == p->start_pfn &&
                       plan.pieces[k - 1].free != p->free),
                  "piece %zu overlaps, is unsorted or could merge with the one before", k);
        size_t i = 0;
        while (i < n && r[i].end <= s)
            i++;
        /* A piece may span adjacent RAM ranges, never a gap or a reservation. */
        for (uint64_t a = s; a < e;) {
            HT_ASSERT(i < n && r[i].start <= a && r[i].kind != X,
                      "piece %zu [%#lx, %#lx) covers %#lx, which is not RAM", k, s, e, a);
            if (p->free) {
                HT_ASSERT(r[i].kind == U, "free piece %zu covers a %s range", k,
                          mem_kind_name(r[i].kind));
            }
            a = r[i].end < e ? r[i].end : e;
            i++;
        }
        if (p->free) {
            HT_ASSERT(!overlaps(s, e, ms, me), "free piece %zu overlaps mem_map", k);
            for (size_t h = 0; h < nheld; h++) {
                uint64_t hs, he;
                held_pages(&held[h], &hs, &he);
                HT_ASSERT(!overlaps(s, e, hs, he), "free piece %zu overlaps held %zu", k, h);
            }
        }
        covered += e - s;
    }
    uint64_t ram = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].kind != X)
            ram += r[i].end - r[i].start;
    HT_EQ_U(covered, ram);
}

static int place(const struct mem_range *r, size_t n, const struct mem_range *held, size_t nheld)
{
    memset(pieces, 0xa5, sizeof(pieces));
    return mem_place(r, n, held, nheld, pieces, CAP, &plan);
}

/* Place, expect success, check the invariants. */
#define PLACE(r, held)                                                      \
    do {                                                                    \
        int rc_ = place(r, HT_COUNT(r), held, HT_COUNT(held));              \
        HT_ASSERT(rc_ == 0, "mem_place returned %d", rc_);                  \
        HT_TRY(plan_ok(r, HT_COUNT(r), held, HT_COUNT(held)));              \
    } while (0)

/* The pieces must be exactly these (byte addresses, free or not). */
static void expect(const struct mem_piece *want, size_t n)
{
    for (size_t i = 0; i < n && i < plan.npieces; i++)
        HT_ASSERT(plan.pieces[i].start_pfn == want[i].start_pfn / PG &&
                      plan.pieces[i].end_pfn == want[i].end_pfn / PG &&
                      plan.pieces[i].free == want[i].free,
                  "piece %zu is [%#lx, %#lx) %s, expected [%#lx, %#lx) %s", i,
                  plan.pieces[i].start_pfn * PG, plan.pieces[i].end_pfn * PG,
                  plan.pieces[i].free ? "free" : "present", want[i].start_pfn,
                  want[i].end_pfn, want[i].free ? "free" : "present");
    HT_ASSERT(plan.npieces == n, "%zu pieces, expected %zu", plan.npieces, n);
}

#define FREE(s, e) { (s), (e), true }
#define KEEP(s, e) { (s), (e), false }
#define EXPECT(...)                                                         \
    do {                                                                    \
        const struct mem_piece w_[] = { __VA_ARGS__ };                      \
        HT_TRY(expect(w_, HT_COUNT(w_)));                                   \
    } while (0)

/* ---- cases ------------------------------------------------------------------------ */

/* A 1 GiB machine as OVMF describes it: mem_map at 16 MiB, the hand-off
 * present, everything else usable free. */
static void t_normal(void)
{
    const struct mem_range r[] = {
        R(0, PG, X), R(PG, 640 * KiB, U), R(640 * KiB, 1 * MiB, X),
        R(1 * MiB, 8 * MiB, U), R(8 * MiB, 8 * MiB + 32 * KiB, X),
        R(8 * MiB + 32 * KiB, 12 * MiB, U), R(12 * MiB, 14 * MiB, MEM_BOOT_KERNEL),
        R(14 * MiB, 14 * MiB + 64 * KiB, MEM_BOOT_INFO), R(14 * MiB + 64 * KiB, 30 * MiB, U),
        R(30 * MiB, 34 * MiB, MEM_BOOT_INITRD), R(34 * MiB, 1 * GiB - 2 * MiB, U),
        R(1 * GiB - 2 * MiB, 1 * GiB - 1 * MiB, MEM_ACPI_RECLAIM),
        R(1 * GiB - 1 * MiB, 1 * GiB, X), R(3 * GiB, 4 * GiB, X),
    };
    /* What the loader reports: the same ranges, in bytes, partial pages. */
    const struct mem_range held[] = {
        R(12 * MiB, 14 * MiB - 100, MEM_BOOT_KERNEL),
        R(14 * MiB, 14 * MiB + 3 * KiB, MEM_BOOT_INFO),
        R(30 * MiB, 34 * MiB, MEM_BOOT_INITRD),
        R(0, 0, MEM_BOOT_TABLES), /* absent: ignored */
    };
    PLACE(r, held);
    HT_EQ_U(plan.max_pfn, (1 * GiB - 1 * MiB) / PG);
    HT_EQ_U(plan.map_bytes, 8 * MiB - 8 * KiB); /* 261888 descriptors of 32 bytes */
    HT_EQ_U(plan.map_pa, 16 * MiB);
    uint64_t me = 16 * MiB + plan.map_bytes;
    EXPECT(FREE(PG, 640 * KiB), FREE(1 * MiB, 8 * MiB), FREE(8 * MiB + 32 * KiB, 12 * MiB),
           KEEP(12 * MiB, 14 * MiB + 64 * KiB), FREE(14 * MiB + 64 * KiB, 16 * MiB),
           KEEP(16 * MiB, me), FREE(me, 30 * MiB), KEEP(30 * MiB, 34 * MiB),
           FREE(34 * MiB, 1 * GiB - 2 * MiB), KEEP(1 * GiB - 2 * MiB, 1 * GiB - 1 * MiB));
}

/* No usable range has room for mem_map: -ENOMEM, and the plan says why. */
static void t_map_too_big(void)
{
    /* 64 GiB of address space for 3 MiB of RAM: 512 MiB of descriptors. */
    const struct mem_range r[] = { R(0, PG, X), R(PG, 640 * KiB, U), R(1 * MiB, 2 * MiB, U),
                                   R(64 * GiB - 1 * MiB, 64 * GiB, U) };
    HT_EQ_U(place(r, HT_COUNT(r), NULL, 0), -ENOMEM);
    HT_EQ_U(plan.max_pfn, 64 * GiB / PG);
    HT_EQ_U(plan.map_bytes, 512 * MiB);
    HT_EQ_U(plan.npieces, 0);
    /* A map with RAM but nothing usable, or nothing but reservations. */
    const struct mem_range held_only[] = { R(0, PG, X), R(1 * MiB, 2 * MiB, MEM_BOOT_KERNEL) };
    HT_EQ_U(place(held_only, HT_COUNT(held_only), NULL, 0), -ENOMEM);
    const struct mem_range none[] = { R(0, PG, X), R(3 * GiB, 4 * GiB, X) };
    HT_EQ_U(place(none, HT_COUNT(none), NULL, 0), -ENOMEM);
    /* Room only where a held range sits: refused rather than overlapped. */
    const struct mem_range one[] = { R(0, PG, X), R(1 * MiB, 2 * MiB, U) };
    const struct mem_range over[] = { R(1 * MiB + 4 * KiB, 1 * MiB + 8 * KiB, MEM_BOOT_INFO),
                                      R(1 * MiB + 520 * KiB, 1 * MiB + 524 * KiB,
                                        MEM_BOOT_TABLES) };
    /* 512 descriptors fill 4 pages: they fit between the two held pages... */
    HT_EQ_U(place(one, HT_COUNT(one), over, HT_COUNT(over)), 0);
    /* ...but with held pages every 4 KiB nothing is left. */
    struct mem_range dense[256];
    for (size_t i = 0; i < 256; i++)
        dense[i] = (struct mem_range){ 1 * MiB + i * 4 * KiB, 1 * MiB + i * 4 * KiB + 1,
                                       MEM_BOOT_INFO };
    HT_EQ_U(place(one, HT_COUNT(one), dense, HT_COUNT(dense)), -ENOMEM);
}

/* The kernel sits in the only big range, unmarked in the map: mem_map
 * goes around it, and the kernel's frames are never free. */
static void t_kernel_in_only_big_range(void)
{
    const struct mem_range r[] = { R(0, PG, X), R(1 * MiB, 40 * MiB, U) };
    /* Room above the kernel (320 KiB of descriptors, 1 MiB free above it). */
    const struct mem_range k1[] = { R(16 * MiB, 39 * MiB, MEM_BOOT_KERNEL) };
    PLACE(r, k1);
    HT_EQ_U(plan.map_bytes, 320 * KiB);
    HT_EQ_U(plan.map_pa, 39 * MiB);
    EXPECT(FREE(1 * MiB, 16 * MiB), KEEP(16 * MiB, 39 * MiB + 320 * KiB),
           FREE(39 * MiB + 320 * KiB, 40 * MiB));
    /* No room above 16 MiB beside the kernel: below it, at the range's start. */
    const struct mem_range k2[] = { R(16 * MiB, 40 * MiB - 64 * KiB, MEM_BOOT_KERNEL) };
    PLACE(r, k2);
    HT_EQ_U(plan.map_pa, 1 * MiB);
    EXPECT(KEEP(1 * MiB, 1 * MiB + 320 * KiB), FREE(1 * MiB + 320 * KiB, 16 * MiB),
           KEEP(16 * MiB, 40 * MiB - 64 * KiB), FREE(40 * MiB - 64 * KiB, 40 * MiB));
    /* The kernel at the range's start: mem_map right after it. */
    const struct mem_range k3[] = { R(1 * MiB, 20 * MiB + 1, MEM_BOOT_KERNEL) };
    PLACE(r, k3);
    HT_EQ_U(plan.map_pa, 20 * MiB + PG);
    EXPECT(KEEP(1 * MiB, 20 * MiB + PG + 320 * KiB), FREE(20 * MiB + PG + 320 * KiB, 40 * MiB));
    /* A small usable range before the big one takes mem_map first when
     * nothing fits above 16 MiB: the map's order decides, as at boot. */
    const struct mem_range r2[] = { R(0, PG, X), R(PG, 640 * KiB, U), R(1 * MiB, 40 * MiB, U) };
    PLACE(r2, k2);
    HT_EQ_U(plan.map_pa, PG);
}

/* Held ranges that overlap one another, touch, or lie outside RAM. */
static void t_overlapping_held(void)
{
    const struct mem_range r[] = { R(0, PG, X), R(1 * MiB, 64 * MiB, U), R(64 * MiB, 65 * MiB, X),
                                   R(65 * MiB, 66 * MiB, U) };
    const struct mem_range held[] = {
        R(18 * MiB, 24 * MiB + 100, MEM_BOOT_INITRD),    /* rounded up to 24 MiB + 4 KiB */
        R(16 * MiB, 20 * MiB, MEM_BOOT_KERNEL),          /* overlaps the initrd */
        R(24 * MiB + 4 * KiB, 25 * MiB, MEM_BOOT_INFO),  /* touches it */
        R(17 * MiB, 17 * MiB + 1, MEM_BOOT_TABLES),      /* inside the kernel */
        R(64 * MiB + 4 * KiB, 64 * MiB + 8 * KiB, MEM_BOOT_TABLES), /* over a reservation */
        R(10 * MiB + 5, 10 * MiB + 5, MEM_BOOT_TABLES),  /* empty: cuts nothing */
    };
    PLACE(r, held);
    uint64_t mb = plan.map_bytes;
    HT_EQ_U(mb, 528 * KiB); /* 66 MiB: 16896 descriptors */
    HT_EQ_U(plan.map_pa, 25 * MiB);
    EXPECT(FREE(1 * MiB, 16 * MiB), KEEP(16 * MiB, 25 * MiB + mb), FREE(25 * MiB + mb, 64 * MiB),
           FREE(65 * MiB, 66 * MiB));
}

/* All RAM above 4 GiB (a map with nothing usable below). */
static void t_above_4g_only(void)
{
    const struct mem_range r[] = { R(0, PG, X), R(3 * GiB, 4 * GiB, X), R(4 * GiB, 6 * GiB, U),
                                   R(6 * GiB, 6 * GiB + 1 * MiB, MEM_ACPI_RECLAIM) };
    const struct mem_range held[] = { R(4 * GiB, 4 * GiB + 8 * MiB, MEM_BOOT_KERNEL) };
    PLACE(r, held);
    HT_EQ_U(plan.max_pfn, (6 * GiB + 1 * MiB) / PG);
    HT_EQ_U(plan.map_bytes, 48 * MiB + 8 * KiB);
    HT_EQ_U(plan.map_pa, 4 * GiB + 8 * MiB);
    HT_EQ_U(plan.usable, 2 * GiB / PG);
    uint64_t me = 4 * GiB + 8 * MiB + plan.map_bytes;
    EXPECT(KEEP(4 * GiB, me), FREE(me, 6 * GiB), KEEP(6 * GiB, 6 * GiB + 1 * MiB));
}

/* Refused inputs: -EINVAL, nothing written. */
static void t_bad_input(void)
{
    const struct mem_range ok[] = { R(0, PG, X), R(1 * MiB, 2 * MiB, U) };
    HT_EQ_U(place(ok, 0, NULL, 0), -EINVAL); /* the empty map */
    HT_EQ_U(plan.npieces, 0);
    HT_EQ_U(plan.max_pfn, 0);
    const struct mem_range unsorted[] = { R(1 * MiB, 2 * MiB, U), R(0, PG, X) };
    HT_EQ_U(place(unsorted, 2, NULL, 0), -EINVAL);
    const struct mem_range overlap[] = { R(0, 2 * PG, X), R(PG, 2 * MiB, U) };
    HT_EQ_U(place(overlap, 2, NULL, 0), -EINVAL);
    const struct mem_range unaligned[] = { R(0, PG, X), R(1 * MiB + 1, 2 * MiB, U) };
    HT_EQ_U(place(unaligned, 2, NULL, 0), -EINVAL);
    const struct mem_range empty_range[] = { R(0, PG, X), R(1 * MiB, 1 * MiB, U) };
    HT_EQ_U(place(empty_range, 2, NULL, 0), -EINVAL);
    const struct mem_range bad_kind[] = { R(0, PG, X), R(1 * MiB, 2 * MiB, MEM_KIND_COUNT) };
    HT_EQ_U(place(bad_kind, 2, NULL, 0), -EINVAL);
    const struct mem_range inverted[] = { R(2 * MiB, 1 * MiB, MEM_BOOT_KERNEL) };
    HT_EQ_U(place(ok, 2, inverted, 1), -EINVAL);
    /* The piece array must be big enough for the worst case. */
    HT_EQ_U(mem_place(ok, 2, NULL, 0, pieces, MEM_PLACE_PIECES(2, 0) - 1, &plan), -EINVAL);
    HT_EQ_U(mem_place(ok, 2, NULL, 0, pieces, MEM_PLACE_PIECES(2, 0), &plan), 0);
    /* A held range ending in the last page of the address space. */
    const struct mem_range top[] = { R(~0ul - 10, ~0ul, MEM_BOOT_INITRD) };
    HT_EQ_U(place(ok, 2, top, 1), 0);
}

/* ---- randomized, against a page-by-page model --------------------------------------- */

#define SPACE (64 * MiB / PG)  /* pages */
#define HOLE 0xff

static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return n ? (rng * 0x2545f4914f6cdd1dul) % n : 0;
}

static uint8_t kind_of[SPACE];
static bool held_pg[SPACE];

/* The model: where mem_map goes, by scanning pages. */
static bool model_map(const struct mem_range *r, size_t n, uint64_t map_pages, uint64_t *at)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            if (r[i].kind != U)
                continue;
            uint64_t run = 0;
            for (uint64_t pg = r[i].start / PG; pg < r[i].end / PG; pg++) {
                if (held_pg[pg] || (pass == 0 && pg < 16 * MiB / PG)) {
                    run = 0;
                    continue;
                }
                if (++run == map_pages) {
                    *at = (pg + 1 - map_pages) * PG;
                    return true;
                }
            }
        }
    return false;
}

static void t_random(void)
{
    struct mem_range r[64], held[8];
    rng = 0x243f6a8885a308d3ul;
    for (int iter = 0; iter < 3000; iter++) {
        /* A random cleaned map: sorted ranges with gaps, adjacent ones of
         * different kinds, page 0 reserved. */
        size_t n = 0;
        uint64_t pos = 0;
        memset(kind_of, HOLE, sizeof(kind_of));
        r[n++] = (struct mem_range){ 0, PG, X };
        pos = PG;
        /* One map in four has only short ranges, around the 64 pages the
         * descriptors of 64 MiB fill: room or not comes down to a page. */
        bool short_ranges = rnd(4) == 0;
        while (n < HT_COUNT(r)) {
            pos += rnd(3) ? 0 : rnd(short_ranges ? 4096 : 64) * PG;
            uint64_t len = (1 + (short_ranges ? rnd(72) : rnd(4) ? rnd(2048) : rnd(8))) * PG;
            if (pos + len > SPACE * PG)
                break;
            uint32_t k = rnd(3) ? U : (uint32_t)rnd(MEM_KIND_COUNT);
            if (r[n - 1].end == pos && r[n - 1].kind == k)
                k = k == U ? X : U;
            r[n++] = (struct mem_range){ pos, pos + len, k };
            pos += len;
        }
        for (size_t i = 0; i < n; i++)
            for (uint64_t pg = r[i].start / PG; pg < r[i].end / PG; pg++)
                kind_of[pg] = (uint8_t)r[i].kind;
        size_t nheld = rnd(HT_COUNT(held) + 1);
        memset(held_pg, 0, sizeof(held_pg));
        for (size_t h = 0; h < nheld; h++) {
            uint64_t s = rnd(SPACE * PG), len = rnd(4) ? rnd(4 * MiB) : rnd(64 * KiB);
            held[h] = (struct mem_range){ s, s + len, MEM_BOOT_KERNEL };
            for (uint64_t pg = s / PG; len && pg < (s + len + PG - 1) / PG && pg < SPACE; pg++)
                held_pg[pg] = true;
        }
        int rc = place(r, n, held, nheld);

        uint64_t max_pfn = 0;
        for (uint64_t pg = 0; pg < SPACE; pg++)
            if (kind_of[pg] != HOLE && kind_of[pg] != X)
                max_pfn = pg + 1;
        uint64_t map_pages = map_bytes_for(max_pfn) / PG, at = 0;
        bool room = max_pfn && model_map(r, n, map_pages, &at);
        HT_ASSERT(rc == (room ? 0 : -ENOMEM), "iteration %d: mem_place %d, the model says %s",
                  iter, rc, room ? "room" : "no room");
        if (!room)
            continue;
        HT_TRY(plan_ok(r, n, held, nheld));
        HT_ASSERT(plan.map_pa == at, "iteration %d: mem_map at %#lx, the model says %#lx", iter,
                  plan.map_pa, at);
        /* Every page against the model: free iff usable, not held, not mem_map. */
        size_t k = 0;
        for (uint64_t pg = 0; pg < SPACE; pg++) {
            bool ram = kind_of[pg] != HOLE && kind_of[pg] != X;
            while (k < plan.npieces && plan.pieces[k].end_pfn <= pg)
                k++;
            bool in = k < plan.npieces && plan.pieces[k].start_pfn <= pg;
            HT_ASSERT(in == ram, "iteration %d: page %#lx is %s but %s", iter, pg * PG,
                      ram ? "RAM" : "not RAM", in ? "in a piece" : "in none");
            if (!ram)
                continue;
            bool want = kind_of[pg] == U && !held_pg[pg] &&
                        !(pg >= at / PG && pg < at / PG + map_pages);
            HT_ASSERT(plan.pieces[k].free == want, "iteration %d: page %#lx is %s, the model "
                      "says %s", iter, pg * PG, plan.pieces[k].free ? "free" : "present",
                      want ? "free" : "present");
        }
    }
}

static const struct htest cases[] = {
    HT_CASE(normal),
    HT_CASE(map_too_big),
    HT_CASE(kernel_in_only_big_range),
    HT_CASE(overlapping_held),
    HT_CASE(above_4g_only),
    HT_CASE(bad_input),
    HT_CASE(random),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
