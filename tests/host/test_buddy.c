/*
 * Host tests of the page allocator: mm/buddy.c, page_alloc.c, zone.c,
 * contig.c, release.c and mmstat.c over a private arena
 * (tests/host/mm_host.c).  Refusals are checked exactly: the errno
 * returned, one report, one more on node0->errors, nothing changed.
 *
 * Two layouts, both with RAM ranges that straddle zone boundaries (so
 * node_add_free must split them) and odd-sized pieces (so free lists
 * of every order are populated):
 *   small  48 MiB of physical address space: DMA and DMA32.  node_check()
 *          walks 12288 frames, so the long runs (exhaustion at every
 *          order, the contiguous-allocation model) use it;
 *   big    4 GiB + 64 MiB of address space, sparse: all three zones.
 *          node_check() walks ~1M frames there (a few ms), so its cases
 *          keep to a few hundred operations.
 *
 * The test keeps its own record of every frame it holds (own[]).  After
 * every operation check() runs node_check() (the full validator), checks
 * each per-CPU cache is within its `high`, and that nr_free_pages() plus
 * the frames held equals the free count right after set-up: a frame
 * handed out twice is caught by own[], a frame lost by the count.
 */
#include <stdlib.h>

#include "htest.h"
#include "mm_host.h"
#include <kernel/errno.h>
#include <mm/buddy.h>
#include <mm/gfp.h>
#include <mm/zone.h>

#define MiB (1ul << 20)
#define GiB (1ul << 30)
#define FR 4096ul                       /* one frame, in bytes */
#define PFN(pa) ((uint64_t)(pa) >> PAGE_SHIFT)

/* ---- layouts ---------------------------------------------------------------- */

struct layout {
    uint64_t max_pfn;
    const struct host_ram *ram;
    size_t nram;
};

static const struct host_ram small_ram[] = {
    { 5 * FR, 300 * FR },                 /* DMA: 295 frames from an odd start */
    { 8 * MiB, 24 * MiB },                /* 8 MiB DMA | 8 MiB DMA32 */
    { 32 * MiB, 48 * MiB - 3 * FR },      /* DMA32, odd end */
};
static const struct layout SMALL = { PFN(48 * MiB), small_ram, HT_COUNT(small_ram) };

static const struct host_ram big_ram[] = {
    { 8 * MiB, 24 * MiB },                            /* 8 MiB DMA | 8 MiB DMA32 */
    { 1 * GiB + 7 * FR, 1 * GiB + 8 * MiB },          /* DMA32, odd start */
    { 4 * GiB - 16 * MiB, 4 * GiB + 32 * MiB },       /* 16 MiB DMA32 | 32 MiB Normal */
    { 4 * GiB + 40 * MiB + 3 * FR, 4 * GiB + 41 * MiB }, /* Normal, odd pieces */
};
static const struct layout BIG = { PFN(4 * GiB + 64 * MiB), big_ram, HT_COUNT(big_ram) };

static const struct layout *cur;

static unsigned zone_of(uint64_t pfn)
{
    return pfn < PFN(ZONE_DMA_END) ? ZONE_DMA : pfn < PFN(ZONE_DMA32_END) ? ZONE_DMA32
                                                                           : ZONE_NORMAL;
}

static uint64_t zone_lo(unsigned zi)
{
    static const uint64_t lo[NR_ZONES] = { 0, PFN(ZONE_DMA_END), PFN(ZONE_DMA32_END) };
    return lo[zi] < cur->max_pfn ? lo[zi] : cur->max_pfn;
}

static uint64_t zone_hi(unsigned zi)
{
    return zi + 1 < NR_ZONES ? zone_lo(zi + 1) : cur->max_pfn;
}

static bool is_ram(uint64_t pfn)
{
    return mm_host_is_ram(pfn << PAGE_SHIFT, FR);
}

static struct zone *Z(unsigned zi)
{
    return &node0->zones[zi];
}

static unsigned top_of(gfp_t gfp)
{
    return (gfp & __GFP_DMA) ? ZONE_DMA : (gfp & __GFP_DMA32) ? ZONE_DMA32 : ZONE_NORMAL;
}

/* ---- random numbers (fixed seed: a failure reproduces) ------------------------ */

static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return n ? (rng * 0x2545f4914f6cdd1dul) % n : 0;
}

/* ---- what the test holds -------------------------------------------------------- */

struct held {
    uint64_t pfn, n;      /* frames [pfn, pfn + n) */
    unsigned order;       /* blocks: order; contiguous runs: 0 */
    bool contig;          /* from alloc_contig (frames referenced one by one) */
};

static uint8_t *own;      /* per frame: 1 while the test holds it */
static uint64_t per_frame_max; /* longest run give() frees frame by frame */
static struct held *held;
static size_t nheld, held_cap;
static uint64_t held_frames, base_free;

static void setup(const struct layout *l)
{
    mm_host_init(l->max_pfn, l->ram, l->nram);
    cur = l;
    free(own);
    own = calloc(l->max_pfn, 1);
    nheld = 0;
    held_frames = 0;
    base_free = nr_free_pages();
    per_frame_max = l == &BIG ? 8 : ~0ul; /* a check costs ~4 ms on BIG */
    rng = 0x9e3779b97f4a7c15ul;
}

static void hold(uint64_t pfn, uint64_t n, unsigned order, bool contig)
{
    for (uint64_t i = 0; i < n; i++) {
        HT_ASSERT(pfn + i < cur->max_pfn && is_ram(pfn + i),
                  "frame %#lx handed out is not RAM", (pfn + i));
        HT_ASSERT(!own[pfn + i], "frame %#lx handed out twice",
                  (pfn + i));
    }
    for (uint64_t i = 0; i < n; i++)
        own[pfn + i] = 1;
    if (nheld == held_cap) {
        held_cap = held_cap ? 2 * held_cap : 256;
        held = realloc(held, held_cap * sizeof(*held));
        HT_ASSERT(held, "out of host memory");
    }
    held[nheld++] = (struct held){ pfn, n, order, contig };
    held_frames += n;
}

/* Forget entry i (its frames stay marked: see release()). */
static struct held unhold_at(size_t i)
{
    struct held h = held[i];
    held[i] = held[--nheld];
    return h;
}

static void release(uint64_t pfn, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        own[pfn + i] = 0;
    held_frames -= n;
}

static size_t find_held(uint64_t pfn)
{
    for (size_t i = 0; i < nheld; i++)
        if (held[i].pfn == pfn)
            return i;
    return (size_t)-1;
}

/* ---- the check after every operation ------------------------------------------ */

static void check(void)
{
    char why[256];
    HT_ASSERT(node_check(why, sizeof(why)) == 0, "node_check: %s", why);
    for (unsigned zi = 0; zi < NR_ZONES; zi++)
        HT_ASSERT(Z(zi)->pcp[0].count <= Z(zi)->pcp[0].high, "%s: pcp count %u above high %u",
                  Z(zi)->name, Z(zi)->pcp[0].count, Z(zi)->pcp[0].high);
    HT_ASSERT(nr_free_pages() + held_frames == base_free,
              "%lu free + %lu held, expected %lu", nr_free_pages(),
              held_frames, base_free);
}

/* alloc_pages, checked and recorded; *out is NULL when it failed. */
static void take(gfp_t gfp, unsigned order, struct page **out)
{
    struct page *p = alloc_pages(gfp, order);
    *out = p;
    if (p) {
        uint64_t pfn = page_to_pfn(p), n = 1ul << order;
        HT_ASSERT((pfn & (n - 1)) == 0, "order %u block at pfn %#lx is misaligned", order,
                  pfn);
        HT_ASSERT(zone_of(pfn) <= top_of(gfp), "gfp %#x got pfn %#lx in zone %s", gfp,
                  pfn, Z(zone_of(pfn))->name);
        HT_ASSERT(zone_of(pfn + n - 1) == zone_of(pfn), "block %#lx crosses a zone",
                  pfn);
        HT_ASSERT(page_count(p) == 1, "fresh block has refcount %u", page_count(p));
        HT_TRY(hold(pfn, n, order, false));
    }
    HT_TRY(check());
}

/* Give back held[i] whole, by one of the API's ways (`how`). */
static void give(size_t i, unsigned how)
{
    struct held h = unhold_at(i);
    struct page *p = pfn_to_page(h.pfn);
    if (h.contig) {
        if (how % 3 == 0 || h.n > per_frame_max) {
            release(h.pfn, h.n);
            HT_ASSERT(free_contig(h.pfn << PAGE_SHIFT, h.n) == 0, "free_contig(%#lx, %lu)",
                      (h.pfn << PAGE_SHIFT), h.n);
            HT_TRY(check());
            return;
        }
        for (uint64_t k = 0; k < h.n; k++) {
            release(h.pfn + k, 1);
            int r = how % 3 == 1 ? put_page(p + k) : frame_unref((h.pfn + k) << PAGE_SHIFT);
            HT_ASSERT(r == 0, "dropping contiguous frame %#lx returned %d",
                      (h.pfn + k), r);
            HT_TRY(check());
        }
        return;
    }
    release(h.pfn, h.n);
    switch (how % 3) {
    case 0:
        __free_pages(p, h.order);
        break;
    case 1:
        free_pages(page_address(p), h.order);
        break;
    default:
        HT_ASSERT(put_page(p) == 0, "put_page of the last reference");
        break;
    }
    HT_TRY(check());
}

static void give_all(void)
{
    while (nheld)
        HT_TRY(give(rnd(nheld), (unsigned)rnd(3)));
}

/* Allocate with gfp from order `top` down to 0 until nothing is left. */
static void exhaust(gfp_t gfp, unsigned top, uint64_t *frames, uint64_t per_order[])
{
    *frames = 0;
    for (int k = (int)top; k >= 0; k--) {
        for (;;) {
            struct page *p;
            HT_TRY(take(gfp | __GFP_NOWARN, (unsigned)k, &p));
            if (!p)
                break;
            *frames += 1ul << k;
            if (per_order)
                per_order[k]++;
        }
    }
}

/* ---- snapshots of the allocator's state ---------------------------------------- */

struct snap {
    uint64_t nr_free[NR_ZONES][MAX_ORDER + 1];
    uint64_t free[NR_ZONES];
    uint32_t pcp[NR_ZONES];
    uint64_t total;
    char buddyinfo[1024];
};

static void snap(struct snap *s)
{
    memset(s, 0, sizeof(*s));
    for (unsigned zi = 0; zi < NR_ZONES; zi++) {
        for (unsigned k = 0; k <= MAX_ORDER; k++)
            s->nr_free[zi][k] = Z(zi)->area[k].nr_free;
        s->free[zi] = Z(zi)->free;
        s->pcp[zi] = Z(zi)->pcp[0].count;
    }
    s->total = nr_free_pages();
    buddyinfo_show(s->buddyinfo, sizeof(s->buddyinfo));
}

static void same_as(const struct snap *a, const struct snap *b)
{
    for (unsigned zi = 0; zi < NR_ZONES; zi++) {
        for (unsigned k = 0; k <= MAX_ORDER; k++)
            HT_ASSERT(a->nr_free[zi][k] == b->nr_free[zi][k],
                      "%s order %u: %lu free blocks, expected %lu", Z(zi)->name, k,
                      b->nr_free[zi][k],
                      a->nr_free[zi][k]);
        HT_EQ_U(b->free[zi], a->free[zi]);
        HT_EQ_U(b->pcp[zi], a->pcp[zi]);
    }
    HT_EQ_U(b->total, a->total);
    HT_EQ_STR(b->buddyinfo, a->buddyinfo);
}

/*
 * The free lists a fresh node must have: each RAM range, cut at the zone
 * boundaries, as the largest naturally aligned blocks that fit (the only
 * decomposition in which no two free buddies are left unmerged).
 */
static void expected_areas(uint64_t out[NR_ZONES][MAX_ORDER + 1], uint64_t managed[NR_ZONES])
{
    memset(out, 0, sizeof(uint64_t) * NR_ZONES * (MAX_ORDER + 1));
    memset(managed, 0, sizeof(uint64_t) * NR_ZONES);
    for (size_t i = 0; i < cur->nram; i++) {
        for (unsigned zi = 0; zi < NR_ZONES; zi++) {
            uint64_t s = PFN(cur->ram[i].start), e = PFN(cur->ram[i].end);
            s = s > zone_lo(zi) ? s : zone_lo(zi);
            e = e < zone_hi(zi) ? e : zone_hi(zi);
            if (s < e)
                managed[zi] += e - s;
            while (s < e) {
                unsigned k = MAX_ORDER;
                while (k && ((s & ((1ul << k) - 1)) || s + (1ul << k) > e))
                    k--;
                out[zi][k]++;
                s += 1ul << k;
            }
        }
    }
}

/* ---- error probes: an error is reported, counted, and changes nothing ---------- */

struct probe {
    uint64_t errors, reports;
    struct snap s;
};

static void probe_begin(struct probe *p)
{
    p->errors = node0->errors;
    p->reports = mm_host_reports();
    snap(&p->s);
}

static void probe_end(struct probe *p, const char *what, const char *needle)
{
    HT_ASSERT(node0->errors == p->errors + 1, "%s: errors went from %lu to %lu", what,
              p->errors, node0->errors);
    HT_ASSERT(mm_host_reports() == p->reports + 1, "%s: %lu reports, expected 1", what,
              (mm_host_reports() - p->reports));
    HT_ASSERT(strstr(mm_host_last_report(), needle), "%s: report \"%s\" lacks \"%s\"", what,
              mm_host_last_report(), needle);
    HT_TRY(check());
    struct snap now;
    snap(&now);
    HT_TRY(same_as(&p->s, &now));
}

/* `call` must be refused: reported (with `needle`), counted, no change. */
#define EXPECT_ERROR(call, needle)                                          \
    do {                                                                    \
        struct probe pr_;                                                   \
        HT_TRY(probe_begin(&pr_));                                          \
        call;                                                               \
        HT_TRY(probe_end(&pr_, #call, needle));                             \
    } while (0)

/* The same for calls that return a negative errno when they refuse:
 * exactly `err` (-EINVAL, -EBUSY). */
#define EXPECT_REFUSED(call, err, needle)                                   \
    do {                                                                    \
        struct probe pr_;                                                   \
        HT_TRY(probe_begin(&pr_));                                          \
        long r_ = (long)(call);                                             \
        HT_ASSERT(r_ == (err), "%s returned %ld, expected %s", #call, r_, #err); \
        HT_TRY(probe_end(&pr_, #call, needle));                             \
    } while (0)

/* ---- set-up ------------------------------------------------------------------------ */

static void init_checks(const struct layout *l)
{
    uint64_t reports = mm_host_reports();
    setup(l);
    uint64_t want[NR_ZONES][MAX_ORDER + 1], managed[NR_ZONES], total = 0;
    expected_areas(want, managed);
    for (unsigned zi = 0; zi < NR_ZONES; zi++) {
        const struct zone *z = Z(zi);
        HT_EQ_U(z->start_pfn, zone_lo(zi));
        HT_EQ_U(z->end_pfn, zone_hi(zi));
        HT_EQ_U(z->managed, managed[zi]);
        HT_EQ_U(z->free, managed[zi]);
        HT_EQ_U(z->pcp[0].count, 0);
        for (unsigned k = 0; k <= MAX_ORDER; k++)
            HT_ASSERT(z->area[k].nr_free == want[zi][k], "%s order %u: %lu blocks, expected %lu",
                      z->name, k, z->area[k].nr_free,
                      want[zi][k]);
        /* Watermarks as zone.c documents them: min ~ managed/256 in [16, 1024]
         * but at most a quarter of the zone; low and high above it. */
        uint64_t min = managed[zi] / 256;
        min = min < 16 ? 16 : min > 1024 ? 1024 : min;
        min = min > managed[zi] / 4 ? managed[zi] / 4 : min;
        HT_EQ_U(z->wmark_min, min);
        HT_EQ_U(z->wmark_low, min * 5 / 4);
        HT_EQ_U(z->wmark_high, min * 3 / 2);
        HT_ASSERT(z->pcp[0].batch >= 1 && z->pcp[0].high >= z->pcp[0].batch, "%s: batch %u high %u",
                  z->name, z->pcp[0].batch, z->pcp[0].high);
        total += managed[zi];
    }
    HT_ASSERT(Z(ZONE_DMA)->managed && Z(ZONE_DMA32)->managed, "layout lacks a zone");
    for (uint64_t pfn = 0; pfn < l->max_pfn; pfn++) {
        const struct page *p = pfn_to_page(pfn);
        HT_ASSERT(p->zone == zone_of(pfn), "frame %#lx in zone %u", pfn,
                  p->zone);
        if (is_ram(pfn))
            HT_ASSERT(!(p->flags & PG_RESERVED), "RAM frame %#lx reserved",
                      pfn);
        else
            HT_ASSERT(p->flags == PG_RESERVED, "hole frame %#lx has flags %#x",
                      pfn, p->flags);
    }
    HT_EQ_U(nr_free_pages(), total);
    HT_EQ_U(node0->errors, 0);
    HT_EQ_U(mm_host_reports(), reports);
    HT_TRY(check());
}

static void t_init_small(void)
{
    HT_TRY(init_checks(&SMALL));
    HT_EQ_U(Z(ZONE_NORMAL)->managed, 0);
}

static void t_init_big(void)
{
    HT_TRY(init_checks(&BIG));
    HT_ASSERT(Z(ZONE_NORMAL)->managed > 0, "no Normal zone");
}

/* ---- exhaustion, alignment, exact return to the initial state ------------------- */

/* Write each frame's number at both ends of it, then verify all of them. */
static void stamp_all(void)
{
    for (size_t i = 0; i < nheld; i++)
        for (uint64_t k = 0; k < held[i].n; k++) {
            uint64_t *f = page_address(pfn_to_page(held[i].pfn + k));
            f[0] = held[i].pfn + k;
            f[511] = ~(held[i].pfn + k);
        }
}

static void verify_stamps(void)
{
    for (size_t i = 0; i < nheld; i++)
        for (uint64_t k = 0; k < held[i].n; k++) {
            const uint64_t *f = page_address(pfn_to_page(held[i].pfn + k));
            uint64_t pfn = held[i].pfn + k;
            HT_ASSERT(f[0] == pfn && f[511] == ~pfn, "frame %#lx was overwritten",
                      pfn);
        }
}

static void exhaust_and_return(unsigned order)
{
    struct snap before, after;
    uint64_t want[NR_ZONES][MAX_ORDER + 1], managed[NR_ZONES], got, per_order[MAX_ORDER + 1];
    uint64_t reports = mm_host_reports();

    snap(&before);
    expected_areas(want, managed);
    memset(per_order, 0, sizeof(per_order));
    HT_TRY(exhaust(__GFP_MEMALLOC, order, &got, per_order));
    HT_EQ_U(nr_free_pages(), 0);
    HT_EQ_U(got, base_free);
    /* Every free block of order >= `order` was cut into blocks of `order`. */
    uint64_t blocks = 0;
    for (unsigned zi = 0; zi < NR_ZONES; zi++)
        for (unsigned k = order; k <= MAX_ORDER; k++)
            blocks += want[zi][k] << (k - order);
    HT_ASSERT(per_order[order] == blocks, "order %u: %lu blocks allocated, expected %lu", order,
              per_order[order], blocks);
    stamp_all();
    HT_TRY(verify_stamps());
    HT_TRY(give_all());
    drain_pcp();
    HT_TRY(check());
    snap(&after);
    HT_TRY(same_as(&before, &after));
    HT_EQ_U(node0->errors, 0);
    HT_EQ_U(mm_host_reports(), reports);
}

static void t_exhaust_every_order(void)
{
    for (unsigned k = 0; k <= MAX_ORDER; k++) {
        setup(&SMALL);
        HT_TRY(exhaust_and_return(k));
    }
}

static void t_exhaust_big(void)
{
    setup(&BIG);
    HT_TRY(exhaust_and_return(MAX_ORDER));
}

static void t_orders_aligned(void)
{
    setup(&BIG);
    struct snap before, after;
    snap(&before);
    for (unsigned k = 0; k <= MAX_ORDER; k++) {
        struct page *p;
        HT_TRY(take(GFP_KERNEL, k, &p));
        HT_ASSERT(p, "order %u failed", k);
        HT_ASSERT(zone_of(page_to_pfn(p)) == ZONE_NORMAL, "order %u not from Normal", k);
    }
    /* Odd orders interleaved, then freed in reverse. */
    for (unsigned k = 0; k <= MAX_ORDER; k++) {
        struct page *p;
        HT_TRY(take(GFP_DMA32, (k * 7) % (MAX_ORDER + 1), &p));
        HT_ASSERT(p, "DMA32 order %u failed", (k * 7) % (MAX_ORDER + 1));
    }
    while (nheld)
        HT_TRY(give(nheld - 1, (unsigned)nheld));
    drain_pcp();
    HT_TRY(check());
    snap(&after);
    HT_TRY(same_as(&before, &after));
}

/* ---- zones: fallback downwards only ------------------------------------------------- */

/*
 * Take blocks with gfp, orders 10 down to 0, while they come from zone
 * zi; the first block from a lower zone is given back and the next order
 * tried.  Leaves zone zi at its watermark.
 */
static void drain_zone(gfp_t gfp, unsigned zi)
{
    for (int k = MAX_ORDER; k >= 0; k--) {
        for (;;) {
            struct page *p;
            HT_TRY(take(gfp | __GFP_NOWARN, (unsigned)k, &p));
            HT_ASSERT(p, "order %d: nothing at all", k);
            if (zone_of(page_to_pfn(p)) != zi) {
                HT_ASSERT(zone_of(page_to_pfn(p)) < zi, "fell back upwards");
                HT_TRY(give(find_held(page_to_pfn(p)), 0));
                break;
            }
        }
    }
}

static unsigned zone_of_new(gfp_t gfp)
{
    struct page *p = alloc_pages(gfp | __GFP_NOWARN, 0);
    if (!p)
        return NR_ZONES;
    unsigned zi = zone_of(page_to_pfn(p));
    __free_pages(p, 0);
    return zi;
}

static void t_zone_fallback(void)
{
    setup(&BIG);
    struct snap before, after;
    snap(&before);
    HT_EQ_U(zone_of_new(GFP_KERNEL), ZONE_NORMAL);
    HT_EQ_U(zone_of_new(GFP_DMA32), ZONE_DMA32);
    HT_EQ_U(zone_of_new(GFP_DMA), ZONE_DMA);
    HT_TRY(check());

    /* Normal down to its watermark: GFP_KERNEL falls back to DMA32. */
    HT_TRY(drain_zone(GFP_KERNEL, ZONE_NORMAL));
    HT_EQ_U(Z(ZONE_NORMAL)->free + Z(ZONE_NORMAL)->pcp[0].count, Z(ZONE_NORMAL)->wmark_min);
    HT_EQ_U(zone_of_new(GFP_KERNEL), ZONE_DMA32);
    HT_EQ_U(zone_of_new(GFP_ATOMIC), ZONE_NORMAL); /* the reserve is for atomics */
    HT_EQ_U(zone_of_new(GFP_DMA32), ZONE_DMA32);
    HT_TRY(check());

    /* DMA32 down to its watermark: GFP_KERNEL and GFP_DMA32 get DMA. */
    HT_TRY(drain_zone(GFP_DMA32, ZONE_DMA32));
    HT_EQ_U(Z(ZONE_DMA32)->free + Z(ZONE_DMA32)->pcp[0].count, Z(ZONE_DMA32)->wmark_min);
    /* The frames GFP_ATOMIC cached from Normal's reserve stay reserved. */
    HT_ASSERT(Z(ZONE_NORMAL)->pcp[0].count > 0, "no cached frames in Normal");
    HT_EQ_U(zone_of_new(GFP_KERNEL), ZONE_DMA);
    HT_EQ_U(zone_of_new(GFP_DMA32), ZONE_DMA);
    HT_EQ_U(zone_of_new(GFP_DMA), ZONE_DMA);
    HT_TRY(check());

    /* DMA down to its watermark: nothing left for ordinary requests. */
    uint64_t got, fails = Z(ZONE_NORMAL)->alloc_fail, reports = mm_host_reports();
    HT_TRY(exhaust(GFP_DMA, MAX_ORDER, &got, NULL));
    HT_EQ_U(Z(ZONE_DMA)->free + Z(ZONE_DMA)->pcp[0].count, Z(ZONE_DMA)->wmark_min);
    HT_ASSERT(alloc_pages(GFP_KERNEL, 0) == NULL, "GFP_KERNEL got memory below every watermark");
    HT_ASSERT(mm_host_reported_since(reports, "out of memory"), "failure not reported");
    HT_ASSERT(Z(ZONE_NORMAL)->alloc_fail > fails, "alloc_fail not counted");
    HT_TRY(check());
    HT_TRY(give_all());
    drain_pcp();
    HT_TRY(check());
    snap(&after);
    HT_TRY(same_as(&before, &after));
}

/* GFP_DMA / GFP_DMA32 never get memory from above their zone, even in need. */
static void t_never_upward(void)
{
    setup(&BIG);
    uint64_t got;
    HT_TRY(exhaust(GFP_DMA | __GFP_MEMALLOC, MAX_ORDER, &got, NULL));
    HT_EQ_U(got, Z(ZONE_DMA)->managed);
    HT_ASSERT(Z(ZONE_DMA32)->free == Z(ZONE_DMA32)->managed &&
              Z(ZONE_NORMAL)->free == Z(ZONE_NORMAL)->managed, "GFP_DMA touched a higher zone");
    HT_ASSERT(alloc_pages(GFP_DMA | GFP_ATOMIC | __GFP_MEMALLOC | __GFP_NOWARN, 0) == NULL,
              "GFP_DMA got memory with DMA empty");
    HT_TRY(exhaust(GFP_DMA32 | __GFP_MEMALLOC, MAX_ORDER, &got, NULL));
    HT_EQ_U(got, Z(ZONE_DMA32)->managed);
    HT_ASSERT(Z(ZONE_NORMAL)->free == Z(ZONE_NORMAL)->managed, "GFP_DMA32 touched Normal");
    HT_ASSERT(alloc_pages(GFP_DMA32 | __GFP_MEMALLOC | __GFP_NOWARN, 3) == NULL,
              "GFP_DMA32 got memory with DMA32 and DMA empty");
    /* alloc_contig goes by its window, not by zone flags: only Normal is left. */
    uint64_t pa = alloc_contig(1, FR, 0, ~0ul, __GFP_MEMALLOC);
    HT_ASSERT(pa >= ZONE_DMA32_END, "alloc_contig found %#lx", pa);
    HT_TRY(hold(PFN(pa), 1, 0, true));
    HT_TRY(check());
    HT_TRY(give_all());
}

/* ---- watermarks -------------------------------------------------------------------- */

static void t_watermarks(void)
{
    setup(&SMALL);
    struct zone *dma = Z(ZONE_DMA), *dma32 = Z(ZONE_DMA32);
    uint64_t min = dma->wmark_min, got;
    HT_ASSERT(min >= 8, "DMA min %lu too small for this test", min);

    /* GFP_DMA (no __GFP_HIGH) stops with exactly wmark_min left. */
    struct page *three[3];
    for (int i = 0; i < 3; i++)
        HT_TRY(take(GFP_DMA, 0, &three[i]));
    HT_TRY(exhaust(GFP_DMA, MAX_ORDER, &got, NULL));
    HT_EQ_U(dma->free, min);
    HT_EQ_U(dma->pcp[0].count, 0);
    HT_EQ_U(got + 3, dma->managed - min);
    HT_EQ_U(dma32->free, dma32->managed);

    /* Larger orders respect the same floor: with min + 3 free, order 2
     * would go below it, order 1 does not. */
    for (int i = 0; i < 3; i++)
        HT_TRY(give(find_held(page_to_pfn(three[i])), 0));
    drain_pcp();
    HT_TRY(check());
    HT_EQ_U(dma->free, min + 3);
    struct page *p;
    HT_TRY(take(GFP_DMA | __GFP_NOWARN, 2, &p));
    HT_ASSERT(!p, "order 2 taken below the watermark");
    HT_TRY(take(GFP_DMA, 1, &p));
    HT_ASSERT(p, "order 1 refused above the watermark");
    HT_TRY(take(GFP_DMA, 0, &p));
    HT_ASSERT(p, "order 0 refused above the watermark");
    HT_EQ_U(dma->free + dma->pcp[0].count, min); /* the refill cached a batch */
    uint64_t fails = dma->alloc_fail, reports = mm_host_reports();
    HT_TRY(take(GFP_DMA, 0, &p));
    HT_ASSERT(!p, "order 0 taken below the watermark");
    HT_EQ_U(dma->alloc_fail, fails + 1);
    HT_ASSERT(mm_host_reported_since(reports, "out of memory"), "failure not reported");

    /* A GFP_ATOMIC request refills the cache from the reserve: the frames
     * it cached are still the reserve, GFP_KERNEL gets none of them. */
    HT_TRY(take(GFP_DMA | GFP_ATOMIC, 0, &p));
    HT_ASSERT(p && dma->pcp[0].count > 0, "GFP_ATOMIC refused, or nothing cached");
    HT_TRY(take(GFP_DMA | __GFP_NOWARN, 0, &p));
    HT_ASSERT(!p, "GFP_KERNEL took a frame GFP_ATOMIC cached below the watermark");

    /* GFP_ATOMIC (__GFP_HIGH) may go down to min / 2. */
    HT_TRY(exhaust(GFP_DMA | GFP_ATOMIC, MAX_ORDER, &got, NULL));
    HT_EQ_U(dma->free, min / 2);
    HT_EQ_U(got + 1, min - min / 2);
    HT_TRY(take(GFP_DMA | __GFP_NOWARN, 0, &p));
    HT_ASSERT(!p, "GFP_KERNEL below the watermark");

    /* __GFP_MEMALLOC ignores the watermark altogether. */
    HT_TRY(exhaust(GFP_DMA | __GFP_MEMALLOC, MAX_ORDER, &got, NULL));
    HT_EQ_U(dma->free, 0);
    HT_EQ_U(got, min / 2);
    HT_EQ_U(dma32->free, dma32->managed);
    HT_TRY(give_all());

    /* Node-wide: GFP_KERNEL leaves every zone at its minimum, GFP_ATOMIC
     * at half of it, __GFP_MEMALLOC nothing. */
    drain_pcp();
    HT_TRY(exhaust(GFP_KERNEL, MAX_ORDER, &got, NULL));
    for (unsigned zi = 0; zi < 2; zi++)
        HT_ASSERT(Z(zi)->free == Z(zi)->wmark_min && Z(zi)->pcp[0].count == 0,
                  "%s: free %lu pcp %u, min %lu", Z(zi)->name,
                  Z(zi)->free, Z(zi)->pcp[0].count,
                  Z(zi)->wmark_min);
    HT_TRY(exhaust(GFP_ATOMIC, MAX_ORDER, &got, NULL));
    for (unsigned zi = 0; zi < 2; zi++)
        HT_ASSERT(Z(zi)->free == Z(zi)->wmark_min / 2, "%s: free %lu after GFP_ATOMIC",
                  Z(zi)->name, Z(zi)->free);
    HT_TRY(exhaust(__GFP_MEMALLOC, MAX_ORDER, &got, NULL));
    HT_EQ_U(nr_free_pages(), 0);
    HT_TRY(give_all());
}

/* ---- the per-CPU cache ------------------------------------------------------------- */

static void t_pcp(void)
{
    setup(&SMALL);
    struct zone *z = Z(ZONE_DMA32); /* GFP_KERNEL's first zone here (no Normal) */
    struct page *a, *b, *c, *p;

    HT_TRY(take(GFP_KERNEL, 0, &a));
    HT_ASSERT(a && zone_of(page_to_pfn(a)) == ZONE_DMA32, "first frame not from DMA32");
    HT_EQ_U(z->pcp[0].count, z->pcp[0].batch - 1); /* refilled a batch, handed out one */
    HT_EQ_U(z->free, z->managed - z->pcp[0].batch);

    /* Freed order-0 frames go to the cache, not the buddy lists, and come
     * back last in, first out. */
    uint64_t zfree = z->free;
    HT_TRY(give(find_held(page_to_pfn(a)), 0));
    HT_EQ_U(z->pcp[0].count, z->pcp[0].batch);
    HT_EQ_U(z->free, zfree);
    HT_TRY(take(GFP_KERNEL, 0, &p));
    HT_ASSERT(p == a, "freed frame %#lx, got %#lx back", page_to_pfn(a),
              page_to_pfn(p));
    HT_TRY(take(GFP_KERNEL, 0, &b));
    HT_TRY(take(GFP_KERNEL, 0, &c));
    HT_TRY(give(find_held(page_to_pfn(a)), 0));
    HT_TRY(give(find_held(page_to_pfn(b)), 1));
    HT_TRY(give(find_held(page_to_pfn(c)), 2));
    HT_TRY(take(GFP_KERNEL, 0, &p));
    HT_ASSERT(p == c, "LIFO: expected c");
    HT_TRY(take(GFP_KERNEL, 0, &p));
    HT_ASSERT(p == b, "LIFO: expected b");
    HT_TRY(take(GFP_KERNEL, 0, &p));
    HT_ASSERT(p == a, "LIFO: expected a");
    HT_TRY(give_all());

    /* The cache never holds more than `high`: once over it, a batch goes
     * back to the buddy lists. */
    uint64_t n = 4 * z->pcp[0].high;
    for (uint64_t i = 0; i < n; i++)
        HT_TRY(take(GFP_KERNEL, 0, &p));
    uint32_t peak = 0, drains = 0;
    while (nheld) {
        uint32_t before = z->pcp[0].count;
        HT_TRY(give(nheld - 1, 0));
        if (z->pcp[0].count < before)
            drains++;
        peak = z->pcp[0].count > peak ? z->pcp[0].count : peak;
    }
    HT_EQ_U(peak, z->pcp[0].high);
    HT_ASSERT(drains > 0, "the cache was never drained");
    drain_pcp();
    HT_EQ_U(z->pcp[0].count, 0);
    HT_EQ_U(z->free, z->managed);
    HT_TRY(check());
}

/* ---- __GFP_ZERO -------------------------------------------------------------------- */

/* Fill every free frame with 0xa5 so that fresh memory is never zero by luck. */
static void dirty_all(void)
{
    uint64_t got;
    HT_TRY(exhaust(__GFP_MEMALLOC, MAX_ORDER, &got, NULL));
    for (size_t i = 0; i < nheld; i++)
        memset(page_address(pfn_to_page(held[i].pfn)), 0xa5, held[i].n << PAGE_SHIFT);
    HT_TRY(give_all());
}

static bool all_bytes(const void *p, int c, uint64_t n)
{
    const uint8_t *b = p;
    for (uint64_t i = 0; i < n; i++)
        if (b[i] != (uint8_t)c)
            return false;
    return true;
}

static void t_gfp_zero(void)
{
    setup(&SMALL);
    HT_TRY(dirty_all());
    struct page *p, *q;

    /* Without __GFP_ZERO the memory is as it was (the test can tell). */
    HT_TRY(take(GFP_KERNEL, 0, &p));
    HT_ASSERT(all_bytes(page_address(p), 0xa5, FR), "arena not dirty");
    HT_TRY(give(find_held(page_to_pfn(p)), 0));
    HT_TRY(take(GFP_KERNEL | __GFP_ZERO, 0, &q));
    HT_ASSERT(q == p, "not the same frame back");
    HT_ASSERT(all_bytes(page_address(q), 0, FR), "order 0 __GFP_ZERO not zeroed");
    memset(page_address(q), 0x5a, FR);
    HT_TRY(give(find_held(page_to_pfn(q)), 0));

    for (unsigned k = 0; k <= MAX_ORDER; k++) {
        HT_TRY(take(GFP_KERNEL | __GFP_ZERO, k, &p));
        HT_ASSERT(p, "order %u", k);
        HT_ASSERT(all_bytes(page_address(p), 0, FR << k), "order %u not zeroed", k);
    }
    HT_TRY(give_all());

    void *v = get_zeroed_page(GFP_DMA);
    HT_ASSERT(v && all_bytes(v, 0, FR), "get_zeroed_page");
    HT_TRY(hold(page_to_pfn(virt_to_page(v)), 1, 0, false));
    HT_TRY(check());

    uint64_t pa = alloc_contig(5, FR, 0, ~0ul, GFP_KERNEL | __GFP_ZERO);
    HT_ASSERT(pa, "alloc_contig");
    HT_TRY(hold(PFN(pa), 5, 0, true));
    HT_ASSERT(all_bytes(mm_host_arena() + pa, 0, 5 * FR), "alloc_contig __GFP_ZERO not zeroed");
    HT_TRY(check());
    HT_TRY(give_all());
}

/* ---- bad orders -------------------------------------------------------------------- */

static void t_order_too_big(void)
{
    setup(&SMALL);
    struct snap before, after;
    snap(&before);
    unsigned orders[] = { MAX_ORDER + 1, MAX_ORDER + 2, 63, 64, 255, ~0u };
    for (size_t i = 0; i < HT_COUNT(orders); i++) {
        uint64_t reports = mm_host_reports();
        HT_ASSERT(alloc_pages(GFP_KERNEL, orders[i]) == NULL, "order %u", orders[i]);
        HT_ASSERT(mm_host_reports() == reports + 1 &&
                      strstr(mm_host_last_report(), "MAX_ORDER"),
                  "order %u: not reported (\"%s\")", orders[i], mm_host_last_report());
        HT_ASSERT(alloc_pages(GFP_KERNEL | __GFP_NOWARN, orders[i]) == NULL, "order %u", orders[i]);
        HT_ASSERT(__get_free_pages(__GFP_MEMALLOC | __GFP_NOWARN, orders[i]) == NULL,
                  "order %u", orders[i]);
        HT_EQ_U(mm_host_reports(), reports + 1);
        HT_TRY(check());
    }
    snap(&after);
    HT_TRY(same_as(&before, &after));
    HT_EQ_U(node0->errors, 0);
}

/* ---- reference counts -------------------------------------------------------------- */

static void t_refcount(void)
{
    setup(&SMALL);
    struct page *p;

    HT_TRY(take(GFP_KERNEL, 0, &p));
    HT_EQ_U(page_count(p), 1);
    HT_EQ_U(get_page(p), 2);
    HT_EQ_U(page_count(p), 2);
    HT_TRY(check());
    HT_EQ_U(put_page(p), 1);
    HT_TRY(check()); /* still held: the free count did not move */
    release(page_to_pfn(p), 1);
    unhold_at(find_held(page_to_pfn(p)));
    HT_EQ_U(put_page(p), 0);
    HT_TRY(check());

    /* A block shared by two users is freed by the second __free_pages. */
    HT_TRY(take(GFP_KERNEL, 2, &p));
    HT_EQ_U(get_page(p), 2);
    __free_pages(p, 2);
    HT_EQ_U(page_count(p), 1);
    HT_TRY(check());
    HT_TRY(give(find_held(page_to_pfn(p)), 0));

    /* By physical address. */
    uint64_t pa = frame_alloc(GFP_KERNEL);
    HT_ASSERT(pa && (pa & (FR - 1)) == 0, "frame_alloc gave %#lx", pa);
    HT_TRY(hold(PFN(pa), 1, 0, false));
    HT_TRY(check());
    HT_EQ_U(frame_ref(pa), 2);
    HT_EQ_U(frame_ref(pa), 3);
    HT_EQ_U(page_count(pfn_to_page(PFN(pa))), 3);
    HT_EQ_U(frame_unref(pa), 2);
    HT_EQ_U(frame_unref(pa), 1);
    HT_TRY(check());
    release(PFN(pa), 1);
    unhold_at(find_held(PFN(pa)));
    HT_EQ_U(frame_unref(pa), 0);
    HT_TRY(check());

    /* frame_alloc on an empty node returns 0. */
    uint64_t got;
    HT_TRY(exhaust(__GFP_MEMALLOC, MAX_ORDER, &got, NULL));
    HT_EQ_U(frame_alloc(__GFP_MEMALLOC | __GFP_NOWARN), 0);
    HT_TRY(check());
    HT_TRY(give_all());
    HT_EQ_U(node0->errors, 0);
}

static void t_double_free(void)
{
    setup(&SMALL);
    struct page *p, *q;
    HT_TRY(take(GFP_KERNEL, 0, &p));
    HT_TRY(give(find_held(page_to_pfn(p)), 0)); /* now in the per-CPU cache */
    EXPECT_ERROR(__free_pages(p, 0), "free");
    EXPECT_REFUSED(put_page(p), -EINVAL, "free");
    drain_pcp(); /* now merged into a buddy block */
    HT_TRY(check());
    EXPECT_ERROR(__free_pages(p, 0), "free");
    EXPECT_ERROR(free_pages(page_address(p), 0), "free");
    EXPECT_REFUSED(frame_unref(page_to_phys(p)), -EINVAL, "free");

    HT_TRY(take(GFP_KERNEL, 1, &q)); /* order 1: a cached block once freed */
    HT_TRY(give(find_held(page_to_pfn(q)), 0));
    EXPECT_ERROR(__free_pages(q, 1), "free");
    EXPECT_ERROR(__free_pages(q + 1, 0), "free");
}

static void t_put_free(void)
{
    setup(&SMALL);
    /* The head of a free block, a frame inside one, an order-0 cached frame. */
    struct page *head = pfn_to_page(PFN(8 * MiB));
    HT_ASSERT(head->flags & PG_BUDDY, "8 MiB is not a free block head");
    EXPECT_REFUSED(put_page(head), -EINVAL, "free");
    EXPECT_REFUSED(get_page(head), -EINVAL, "free");
    EXPECT_REFUSED(put_page(head + 17), -EINVAL, "free");
    EXPECT_REFUSED(frame_ref(page_to_phys(head + 100)), -EINVAL, "free");
    struct page *p;
    HT_TRY(take(GFP_DMA, 0, &p));
    HT_TRY(give(find_held(page_to_pfn(p)), 0));
    HT_ASSERT(p->flags & PG_PCP, "freed frame not cached");
    EXPECT_REFUSED(put_page(p), -EINVAL, "free");
    EXPECT_REFUSED(get_page(p), -EINVAL, "free");
}

static void t_free_tail(void)
{
    setup(&SMALL);
    struct page *p;
    HT_TRY(take(GFP_KERNEL, 2, &p));
    EXPECT_ERROR(__free_pages(p + 1, 0), "inside a larger block");
    EXPECT_ERROR(__free_pages(p + 3, 2), "inside a larger block");
    EXPECT_REFUSED(put_page(p + 2), -EINVAL, "inside a larger block");
    EXPECT_REFUSED(get_page(p + 1), -EINVAL, "inside a larger block");
    EXPECT_REFUSED(frame_unref(page_to_phys(p + 1)), -EINVAL, "inside a larger block");
    EXPECT_ERROR(free_pages((uint8_t *)page_address(p) + FR, 0), "inside a larger block");
    HT_EQ_U(page_count(p), 1);
    HT_TRY(give(find_held(page_to_pfn(p)), 0));
}

static void t_wrong_order(void)
{
    setup(&SMALL);
    struct page *p;
    HT_TRY(take(GFP_KERNEL, 2, &p));
    EXPECT_ERROR(__free_pages(p, 1), "order 2");
    EXPECT_ERROR(__free_pages(p, 3), "order 2");
    EXPECT_ERROR(__free_pages(p, 0), "order 2");
    EXPECT_ERROR(free_pages(page_address(p), 1), "order 2");
    HT_TRY(give(find_held(page_to_pfn(p)), 0));

    /* alloc_contig frames are not blocks: __free_pages refuses them. */
    uint64_t pa = alloc_contig(3, FR, 0, ~0ul, GFP_KERNEL);
    HT_ASSERT(pa, "alloc_contig");
    HT_TRY(hold(PFN(pa), 3, 0, true));
    HT_TRY(check());
    EXPECT_ERROR(__free_pages(pfn_to_page(PFN(pa)), 0), "alloc_contig");
    EXPECT_ERROR(free_pages(mm_host_arena() + pa + FR, 0), "alloc_contig");
    HT_TRY(give_all());
}

static void t_free_reserved(void)
{
    setup(&SMALL);
    struct page *zero = pfn_to_page(0), *hole = pfn_to_page(PFN(5 * MiB));
    HT_ASSERT(!is_ram(0) && !is_ram(PFN(5 * MiB)), "layout changed");
    EXPECT_ERROR(__free_pages(zero, 0), "reserved");
    EXPECT_ERROR(__free_pages(hole, 0), "reserved");
    EXPECT_ERROR(__free_pages(hole, 3), "reserved");
    EXPECT_REFUSED(put_page(hole), -EINVAL, "reserved");
    EXPECT_REFUSED(get_page(hole), -EINVAL, "reserved");
    EXPECT_REFUSED(frame_ref(0), -EINVAL, "reserved");
    EXPECT_REFUSED(frame_unref(5 * MiB), -EINVAL, "reserved");
    EXPECT_ERROR(free_pages(mm_host_arena() + 5 * MiB, 0), "reserved");
    EXPECT_ERROR(__free_pages(NULL, 0), "not a frame descriptor");
}

static void t_free_pages_bad_address(void)
{
    setup(&SMALL);
    struct page *p;
    HT_TRY(take(GFP_KERNEL, 1, &p));
    uint8_t *va = page_address(p);
    EXPECT_ERROR(free_pages(va + 8, 1), "not the address");
    EXPECT_ERROR(free_pages(va + FR / 2, 1), "not the address");
    EXPECT_ERROR(free_pages(va + FR - 1, 0), "not the address");
    /* Outside the direct map altogether. */
    EXPECT_ERROR(free_pages((void *)((uintptr_t)mm_host_arena() - FR), 0), "not the address");
    EXPECT_ERROR(free_pages((void *)((uintptr_t)mm_host_arena() + (cur->max_pfn << PAGE_SHIFT)),
                            0), "not the address");
    HT_ASSERT(virt_to_page((void *)((uintptr_t)mm_host_arena() + (cur->max_pfn << PAGE_SHIFT)))
                  == NULL, "virt_to_page past the end");
    /* By physical address: unaligned, past max_pfn. */
    EXPECT_REFUSED(frame_ref(page_to_phys(p) + 1), -EINVAL, "not the address of a frame");
    EXPECT_REFUSED(frame_unref(page_to_phys(p) + 2048), -EINVAL, "not the address of a frame");
    EXPECT_REFUSED(frame_unref(cur->max_pfn << PAGE_SHIFT), -EINVAL, "not the address of a frame");
    EXPECT_REFUSED(frame_ref(~0ul & ~(FR - 1)), -EINVAL, "not the address of a frame");
    HT_EQ_U(page_count(p), 1);
    /* free_pages(NULL) is a no-op, as in Linux. */
    uint64_t errors = node0->errors, reports = mm_host_reports();
    free_pages(NULL, 0);
    HT_ASSERT(node0->errors == errors && mm_host_reports() == reports, "free_pages(NULL)");
    HT_TRY(give(find_held(page_to_pfn(p)), 1));
}

/* ---- only heads are marked; errors on large blocks --------------------------------- */

/* Blocks of every order: the head alone is marked, allocated or free, and
 * the frames after it are never written by the allocator (their next and
 * prev belong to the block's owner: the slab allocator writes them). */
static void t_tails_unmarked(void)
{
    setup(&SMALL);
    struct page *p[MAX_ORDER + 1];
    for (unsigned k = 0; k <= MAX_ORDER; k++) {
        HT_TRY(take(GFP_KERNEL, k, &p[k]));
        HT_ASSERT(p[k], "order %u refused", k);
        HT_ASSERT(p[k]->flags == 0 && p[k]->refcount == 1 && p[k]->order == k,
                  "head of order %u: flags %#x ref %u order %u", k, p[k]->flags,
                  p[k]->refcount, p[k]->order);
        for (uint64_t i = 1; i < (1ul << k); i++)
            HT_ASSERT(p[k][i].flags == 0 && p[k][i].refcount == 0,
                      "frame %lu of an order %u block: flags %#x ref %u", i, k, p[k][i].flags,
                      p[k][i].refcount);
        if (k)
            p[k][1].next = p[k][1].prev = 0x5a5a5a5a;
    }
    HT_TRY(check());
    for (unsigned k = 0; k <= MAX_ORDER; k++)
        HT_TRY(give(find_held(page_to_pfn(p[k])), k));
    drain_pcp();
    HT_TRY(check());
    for (unsigned k = 1; k <= MAX_ORDER; k++) {
        HT_ASSERT(p[k][1].next == 0x5a5a5a5a && p[k][1].prev == 0x5a5a5a5a,
                  "a tail of the order %u block was written", k);
        for (uint64_t i = 1; i < (1ul << k); i++)
            HT_ASSERT(p[k][i].flags == 0 && p[k][i].refcount == 0,
                      "frame %lu of a freed order %u block: flags %#x ref %u", i, k,
                      p[k][i].flags, p[k][i].refcount);
    }
}

/*
 * A tail freed, a wrong order, a double free, for a block that goes back
 * to the per-CPU cache (order 2), one that goes to the buddy lists and
 * the largest: each refused with the words of today's checks, reported
 * once, counted, nothing changed; before the block is freed, after, and
 * after it merged into larger free blocks.
 */
static void t_high_order_errors(void)
{
    static const unsigned orders[] = { 2, PCP_MAX_ORDER + 2, MAX_ORDER };
    for (size_t oi = 0; oi < HT_COUNT(orders); oi++) {
        unsigned k = orders[oi];
        uint64_t n = 1ul << k;
        char wrong[40];
        snprintf(wrong, sizeof(wrong), "allocated with order %u,", k);
        setup(&SMALL);
        struct page *p;
        HT_TRY(take(GFP_KERNEL, k, &p));
        HT_ASSERT(p, "order %u refused", k);
        /* Not a descriptor: between two, before mem_map, past its end. */
        EXPECT_ERROR(__free_pages((struct page *)((char *)p + 8), k), "not a frame descriptor");
        EXPECT_ERROR(__free_pages(node0->mem_map - 1, 0), "not a frame descriptor");
        EXPECT_REFUSED(put_page(node0->mem_map + cur->max_pfn), -EINVAL,
                       "not a frame descriptor");
        /* Tails, singly and as the heads of smaller aligned blocks. */
        EXPECT_ERROR(__free_pages(p + 1, 0), "inside a larger block");
        EXPECT_ERROR(__free_pages(p + n - 1, 0), "inside a larger block");
        EXPECT_ERROR(__free_pages(p + n / 2, k - 1), "inside a larger block");
        EXPECT_ERROR(free_pages(page_address(p + n / 2), k - 1), "inside a larger block");
        EXPECT_REFUSED(put_page(p + n - 1), -EINVAL, "inside a larger block");
        EXPECT_REFUSED(get_page(p + n / 2), -EINVAL, "inside a larger block");
        EXPECT_REFUSED(frame_unref(page_to_phys(p + 1)), -EINVAL, "inside a larger block");
        /* The head with a wrong order. */
        EXPECT_ERROR(__free_pages(p, k - 1), wrong);
        EXPECT_ERROR(__free_pages(p, 0), wrong);
        EXPECT_ERROR(free_pages(page_address(p), MAX_ORDER + 1), wrong);
        if (k < MAX_ORDER)
            EXPECT_ERROR(__free_pages(p, k + 1), wrong);
        HT_EQ_U(page_count(p), 1);
        /* Freed: freeing it or any frame of it again is a double free. */
        HT_TRY(give(find_held(page_to_pfn(p)), (unsigned)oi));
        EXPECT_ERROR(__free_pages(p, k), "is free");
        EXPECT_ERROR(__free_pages(p + n - 1, 0), "is free");
        EXPECT_ERROR(free_pages(page_address(p + n / 2), k - 1), "is free");
        EXPECT_REFUSED(put_page(p), -EINVAL, "is free");
        EXPECT_REFUSED(frame_unref(page_to_phys(p + 1)), -EINVAL, "is free");
        /* Merged away (the cache drained first): still a double free. */
        drain_pcp();
        HT_TRY(check());
        EXPECT_ERROR(__free_pages(p, k), "is free");
        EXPECT_ERROR(__free_pages(p + n / 2, k - 1), "is free");
        HT_EQ_U(node0->errors, k < MAX_ORDER ? 21 : 20);
    }
}

/* ---- the per-CPU cache of small orders and the preferred zone ------------------------ */

/* Blocks of orders 1..PCP_MAX_ORDER are cached when freed (counted in
 * frames) and reused last in, first out, by their own order only; larger
 * ones go straight back to the buddy lists; the cache stays within high;
 * __GFP_ZERO zeroes a cached block. */
static void t_pcp_orders(void)
{
    setup(&SMALL);
    struct zone *z = Z(ZONE_DMA32); /* GFP_KERNEL's zone here (no Normal) */
    struct page *a, *b, *p;
    HT_TRY(take(GFP_KERNEL, 2, &a));
    HT_EQ_U(z->pcp[0].count, 0); /* no batch refill above order 0 */
    HT_TRY(take(GFP_KERNEL, 2, &b));
    uint64_t zfree = z->free;
    HT_TRY(give(find_held(page_to_pfn(a)), 0));
    HT_EQ_U(z->pcp[0].count, 4);
    HT_EQ_U(z->free, zfree);
    HT_ASSERT(a->flags == PG_PCP && a->order == 2 && z->pcp[0].lists[2] == page_to_pfn(a),
              "freed order-2 block not cached");
    HT_TRY(give(find_held(page_to_pfn(b)), 1));
    HT_EQ_U(z->pcp[0].count, 8);
    /* Other orders leave the cached blocks alone. */
    HT_TRY(take(GFP_KERNEL, 1, &p));
    HT_TRY(take(GFP_KERNEL, 3, &p));
    HT_EQ_U(z->pcp[0].lists[2], page_to_pfn(b));
    HT_EQ_U(z->pcp[0].count, 8);
    HT_TRY(take(GFP_KERNEL, 2, &p));
    HT_ASSERT(p == b, "LIFO: expected b");
    HT_TRY(take(GFP_KERNEL, 2, &p));
    HT_ASSERT(p == a, "LIFO: expected a");
    HT_EQ_U(z->pcp[0].count, 0);
    HT_EQ_U(z->free, zfree - 2 - 8); /* the order-1 and order-3 blocks */
    HT_TRY(give_all());

    /* Above PCP_MAX_ORDER: straight back to the buddy lists. */
    drain_pcp();
    HT_TRY(take(GFP_KERNEL, PCP_MAX_ORDER + 1, &p));
    zfree = z->free;
    HT_TRY(give(find_held(page_to_pfn(p)), 2));
    HT_EQ_U(z->pcp[0].count, 0);
    HT_EQ_U(z->free, zfree + (2ul << PCP_MAX_ORDER));

    /* Never above high: order-3 blocks pushed one after the other. */
    uint64_t n = 2 * z->pcp[0].high / 8 + 2;
    for (uint64_t i = 0; i < n; i++)
        HT_TRY(take(GFP_KERNEL, 3, &p));
    uint32_t peak = 0, drains = 0;
    while (nheld) {
        uint32_t before = z->pcp[0].count;
        HT_TRY(give(nheld - 1, (unsigned)nheld)); /* check(): count <= high */
        drains += z->pcp[0].count < before;
        peak = z->pcp[0].count > peak ? z->pcp[0].count : peak;
    }
    HT_ASSERT(drains > 0 && peak > z->pcp[0].high - 8, "peak %u, %u drains, high %u", peak,
              drains, z->pcp[0].high);
    drain_pcp();
    HT_EQ_U(z->pcp[0].count, 0);
    HT_EQ_U(z->free, z->managed);

    /* __GFP_ZERO on a cached block. */
    HT_TRY(take(GFP_KERNEL, 1, &a));
    memset(page_address(a), 0xa5, 2 * FR);
    HT_TRY(give(find_held(page_to_pfn(a)), 0));
    HT_TRY(take(GFP_KERNEL | __GFP_ZERO, 1, &p));
    HT_ASSERT(p == a, "not the cached block back");
    HT_ASSERT(all_bytes(page_address(p), 0, 2 * FR), "cached block not zeroed");
    HT_TRY(give_all());
    HT_EQ_U(node0->errors, 0);
}

/* RAM in DMA and Normal only, none in DMA32. */
static const struct host_ram gap_ram[] = {
    { 8 * MiB, 16 * MiB },
    { 4 * GiB, 4 * GiB + 16 * MiB },
};
static const struct layout GAP = { PFN(4 * GiB + 16 * MiB), gap_ram, HT_COUNT(gap_ram) };

/* node->preferred: each zone type's first zone with frames, kept when
 * held-back frames make a zone populated after boot. */
static void t_preferred_zone(void)
{
    setup(&GAP);
    HT_ASSERT(node0->preferred[ZONE_NORMAL] == Z(ZONE_NORMAL) &&
                  node0->preferred[ZONE_DMA32] == Z(ZONE_DMA) &&
                  node0->preferred[ZONE_DMA] == Z(ZONE_DMA),
              "preferred zones %p %p %p", (void *)node0->preferred[0],
              (void *)node0->preferred[1], (void *)node0->preferred[2]);
    struct page *p;
    HT_TRY(take(GFP_KERNEL, 0, &p));
    HT_EQ_U(zone_of(page_to_pfn(p)), ZONE_NORMAL);
    HT_TRY(take(GFP_DMA32, 0, &p));
    HT_EQ_U(zone_of(page_to_pfn(p)), ZONE_DMA);
    HT_TRY(take(GFP_DMA32, 5, &p));
    HT_EQ_U(zone_of(page_to_pfn(p)), ZONE_DMA);
    HT_TRY(give_all());

    /* 64 frames of DMA32 held back at boot, then released (no memory
     * behind them in the arena: they are allocated, never written). */
    const uint64_t s = PFN(1 * GiB), e = s + 64;
    node_add_present(node0, s, e);
    HT_EQ_U(node_release(node0, s, e), 64);
    base_free += 64;
    HT_ASSERT(node0->preferred[ZONE_DMA32] == Z(ZONE_DMA32), "DMA32 not preferred after release");
    HT_ASSERT(node0->preferred[ZONE_NORMAL] == Z(ZONE_NORMAL), "Normal no longer preferred");
    for (unsigned k = 0; k <= 5; k += 5) {
        p = alloc_pages(GFP_DMA32, k);
        HT_ASSERT(p && zone_of(page_to_pfn(p)) == ZONE_DMA32, "order %u: GFP_DMA32 got %#lx",
                  k, p ? page_to_pfn(p) : 0);
        __free_pages(p, k);
    }
    drain_pcp();
    HT_TRY(check());
    HT_EQ_U(node0->errors, 0);
}

/* The validator finds what the O(1) checks on the fast paths leave to it:
 * a marked or referenced tail, a cached block out of place. */
static void t_check_finds_marked_tails(void)
{
    setup(&SMALL);
    char why[256];
    int r;
    struct page *p, *c;
    HT_TRY(take(GFP_KERNEL, 4, &p));
    p[5].flags = PG_BUDDY;
    r = node_check(why, sizeof(why));
    p[5].flags = 0;
    HT_ASSERT(r == -EUCLEAN && strstr(why, "tail frame"), "node_check: %d \"%s\"", r, why);
    p[15].refcount = 1;
    r = node_check(why, sizeof(why));
    p[15].refcount = 0;
    HT_ASSERT(r == -EUCLEAN && strstr(why, "tail frame"), "node_check: %d \"%s\"", r, why);

    HT_TRY(take(GFP_KERNEL, 2, &c));
    HT_TRY(give(find_held(page_to_pfn(c)), 0)); /* cached */
    c[3].flags = PG_PCP;
    r = node_check(why, sizeof(why));
    c[3].flags = 0;
    HT_ASSERT(r == -EUCLEAN && strstr(why, "inside cached block"), "node_check: %d \"%s\"", r,
              why);
    c->order = 1;
    r = node_check(why, sizeof(why));
    c->order = 2;
    HT_ASSERT(r == -EUCLEAN && strstr(why, "cache list 2"), "node_check: %d \"%s\"", r, why);
    Z(ZONE_DMA32)->pcp[0].count++;
    r = node_check(why, sizeof(why));
    Z(ZONE_DMA32)->pcp[0].count--;
    HT_ASSERT(r == -EUCLEAN && strstr(why, "CPU 0's cache lists, its count"), "node_check: %d \"%s\"",
              r, why);
    HT_TRY(check());
    HT_TRY(give_all());
}

/* ---- held-back RAM given back, the zones' node, the validator ------------------- */

static void t_release(void)
{
    setup(&SMALL);
    for (unsigned zi = 0; zi < NR_ZONES; zi++)
        HT_ASSERT(Z(zi)->node == node0, "zone %s belongs to %p, not node0 %p", Z(zi)->name,
                  (void *)Z(zi)->node, (void *)node0);
    struct page *p;
    HT_TRY(take(GFP_DMA, 0, &p));
    /* Frames 300..319 (a hole of the layout) play RAM held back at boot:
     * present, reserved, like the initrd.  Nothing allocates after the
     * release below: the arena has no memory behind them. */
    const uint64_t s = 300, e = 320;
    node_add_present(node0, s, e);
    uint64_t present = Z(ZONE_DMA)->present, managed = Z(ZONE_DMA)->managed;
    /* Ranges with a frame that is not reserved and unused: refused whole. */
    EXPECT_REFUSED(node_release(node0, s - 1, e), -EBUSY, "not a reserved, unused frame");
    EXPECT_REFUSED(node_release(node0, page_to_pfn(p), page_to_pfn(p) + 1), -EBUSY,
                   "not a reserved, unused frame");
    HT_EQ_U(Z(ZONE_DMA)->managed, managed);
    /* Empty ranges, and frames past max_pfn, release nothing. */
    HT_EQ_U(node_release(node0, s, s), 0);
    HT_EQ_U(node_release(node0, cur->max_pfn, cur->max_pfn + 16), 0);
    /* The held range itself: every frame becomes a free frame of its zone. */
    HT_EQ_U(node_release(node0, s, e), e - s);
    base_free += e - s;
    HT_EQ_U(Z(ZONE_DMA)->managed, managed + (e - s));
    HT_EQ_U(Z(ZONE_DMA)->present, present);
    for (uint64_t pfn = s; pfn < e; pfn++)
        HT_ASSERT(!(pfn_to_page(pfn)->flags & PG_RESERVED), "frame %#lx still reserved", pfn);
    HT_TRY(check());
    /* Twice is an error: the frames are free now. */
    EXPECT_REFUSED(node_release(node0, s, e), -EBUSY, "not a reserved, unused frame");
    HT_EQ_U(node0->errors, 3);
}

static void t_check_finds_corruption(void)
{
    setup(&SMALL);
    char why[256];
    int r;
    /* A counter out of step with the lists. */
    Z(ZONE_DMA32)->free++;
    r = node_check(why, sizeof(why));
    Z(ZONE_DMA32)->free--;
    HT_ASSERT(r == -EUCLEAN && strstr(why, "counter says"), "node_check: %d \"%s\"", r, why);
    /* A hole frame that lost its reserved mark belongs to nobody. */
    struct page *hole = pfn_to_page(PFN(5 * MiB));
    hole->flags = 0;
    r = node_check(why, sizeof(why));
    hole->flags = PG_RESERVED;
    HT_ASSERT(r == -EUCLEAN && strstr(why, "lost"), "node_check: %d \"%s\"", r, why);
    /* A free block marked with the wrong order: on list k, marked k + 1. */
    struct zone *z = Z(ZONE_DMA32);
    unsigned k = 0;
    while (z->area[k].head == PFN_NIL)
        k++;
    struct page *head = pfn_to_page(z->area[k].head);
    head->order++;
    r = buddy_check(z, why, sizeof(why));
    head->order--;
    HT_ASSERT(r == -EUCLEAN && strstr(why, "marked"), "buddy_check: %d \"%s\"", r, why);
    HT_TRY(check());
}

static void t_address_api(void)
{
    setup(&BIG);
    void *v = __get_free_pages(GFP_KERNEL, 0);
    HT_ASSERT(v, "__get_free_page");
    struct page *p = virt_to_page(v);
    HT_ASSERT(p && page_address(p) == v, "virt_to_page / page_address disagree");
    HT_ASSERT(virt_to_page((uint8_t *)v + FR - 1) == p, "virt_to_page inside the frame");
    HT_ASSERT((uint8_t *)v == mm_host_arena() + page_to_phys(p), "not the direct map");
    HT_EQ_U(zone_of(page_to_pfn(p)), ZONE_NORMAL);
    HT_TRY(hold(page_to_pfn(p), 1, 0, false));
    void *d = __get_dma_pages(GFP_KERNEL, 1);
    HT_ASSERT(d, "__get_dma_pages");
    HT_EQ_U(zone_of(page_to_pfn(virt_to_page(d))), ZONE_DMA);
    HT_TRY(hold(page_to_pfn(virt_to_page(d)), 2, 1, false));
    HT_TRY(check());
    release(page_to_pfn(p), 1);
    unhold_at(find_held(page_to_pfn(p)));
    free_page(v);
    HT_TRY(check());
    release(page_to_pfn(virt_to_page(d)), 2);
    unhold_at(find_held(page_to_pfn(virt_to_page(d))));
    free_pages(d, 1);
    HT_TRY(check());
    HT_EQ_U(node0->errors, 0);
}

/* ---- alloc_contig against a brute-force model ---------------------------------------- */

#define ST_BUSY 0
#define ST_BUDDY 1
#define ST_PCP 2

static uint8_t *fstate;   /* per frame, read off the free lists and pcp stacks */
static uint32_t *prefix;  /* prefix[i] = free frames among [0, i) */

/* Which frames are free, from the lists themselves (not buddy_find_free). */
static void scan_free(void)
{
    memset(fstate, ST_BUSY, cur->max_pfn);
    for (unsigned zi = 0; zi < NR_ZONES; zi++) {
        const struct zone *z = Z(zi);
        for (unsigned k = 0; k <= MAX_ORDER; k++)
            for (uint64_t pfn = z->area[k].head; pfn != PFN_NIL; pfn = pfn_to_page(pfn)->next)
                memset(fstate + pfn, ST_BUDDY, 1ul << k);
        for (unsigned k = 0; k <= PCP_MAX_ORDER; k++)
            for (uint64_t pfn = z->pcp[0].lists[k]; pfn != PFN_NIL; pfn = pfn_to_page(pfn)->next)
                memset(fstate + pfn, ST_PCP, 1ul << k);
    }
}

/* The frames the test does not hold are exactly the free ones. */
static void check_ownership(void)
{
    scan_free();
    for (uint64_t pfn = 0; pfn < cur->max_pfn; pfn++) {
        bool should = is_ram(pfn) && !own[pfn];
        HT_ASSERT(should == (fstate[pfn] != ST_BUSY), "frame %#lx: held %d, RAM %d, state %d",
                  pfn, own[pfn], is_ram(pfn), fstate[pfn]);
    }
}

/*
 * What alloc_contig must return, by brute force: the lowest aligned start
 * of n free frames inside the window, zones tried from DMA upwards, a run
 * never crossing a zone boundary (each zone is its own allocator), a zone
 * skipped when taking n frames would break its watermark.  with_pcp: the
 * cached frames count as free (the search after drain_pcp).
 */
static uint64_t model_contig(uint64_t n, uint64_t align, uint64_t min, uint64_t max,
                             gfp_t gfp, bool with_pcp)
{
    uint64_t lo = (min + FR - 1) >> PAGE_SHIFT, hi = max >> PAGE_SHIFT;
    uint64_t a = align >> PAGE_SHIFT;
    hi = hi < cur->max_pfn ? hi : cur->max_pfn;
    lo = lo ? lo : 1;
    prefix[0] = 0;
    for (uint64_t pfn = 0; pfn < cur->max_pfn; pfn++)
        prefix[pfn + 1] = prefix[pfn] + (fstate[pfn] == ST_BUDDY ||
                                         (with_pcp && fstate[pfn] == ST_PCP));
    for (unsigned zi = 0; zi < NR_ZONES; zi++) {
        const struct zone *z = Z(zi);
        uint64_t s = lo > zone_lo(zi) ? lo : zone_lo(zi);
        uint64_t e = hi < zone_hi(zi) ? hi : zone_hi(zi);
        uint64_t zfree = z->free + z->pcp[0].count; /* the cache counts as free */
        uint64_t floor = (gfp & __GFP_MEMALLOC) ? 0 : (gfp & __GFP_HIGH) ? z->wmark_min / 2
                                                                          : z->wmark_min;
        if (s >= e || zfree < n || zfree - n < floor)
            continue;
        for (uint64_t st = (s + a - 1) / a * a; st >= s && st < e && e - st >= n; st += a)
            if (prefix[st + n] - prefix[st] == n)
                return st;
    }
    return PFN_NONE;
}

static bool is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

struct contig_stats {
    uint64_t ok, none, after_drain, bad;
};

/* One alloc_contig call compared with the model. */
static void contig_vs_model(uint64_t n, uint64_t align, uint64_t min, uint64_t max, gfp_t gfp,
                            struct contig_stats *cs)
{
    bool bad = n == 0 || !is_pow2(align) || align < FR || max <= min || n > (max - min) / FR;
    uint64_t lo = (min + FR - 1) >> PAGE_SHIFT, hi = max >> PAGE_SHIFT;
    hi = hi < cur->max_pfn ? hi : cur->max_pfn;
    lo = lo ? lo : 1;
    bool searched = !bad && hi > lo && hi - lo >= n;

    scan_free();
    uint64_t want = bad ? PFN_NONE : model_contig(n, align, min, max, gfp, false);
    bool drained = searched && want == PFN_NONE;
    if (drained)
        want = model_contig(n, align, min, max, gfp, true);
    uint8_t *before = malloc(cur->max_pfn);
    HT_ASSERT(before, "host memory");
    memcpy(before, fstate, cur->max_pfn);

    uint64_t pa = alloc_contig(n, align, min, max, gfp);
    uint64_t expect = want == PFN_NONE ? 0 : want << PAGE_SHIFT;
    if (pa != expect) {
        free(before);
        HT_FAIL("alloc_contig(%lu, %#lx, [%#lx, %#lx), %#x) = %#lx, model says %#lx",
                n, align, min,
                max, gfp, pa,
                expect);
    }
    if (pa) {
        uint64_t pfn = PFN(pa);
        bool was_free = true;
        for (uint64_t i = 0; i < n; i++)
            was_free = was_free && before[pfn + i] != ST_BUSY;
        free(before);
        HT_ASSERT(was_free, "run %#lx + %lu was not free", pa,
                  n);
        HT_ASSERT(pa % align == 0 && pa >= min && pa + n * FR <= max,
                  "run %#lx + %lu: misaligned or outside the window", pa,
                  n);
        HT_ASSERT(zone_of(pfn) == zone_of(pfn + n - 1), "run crosses a zone boundary");
        for (uint64_t i = 0; i < n; i++) {
            const struct page *p = pfn_to_page(pfn + i);
            HT_ASSERT(p->flags == PG_CONTIG && p->refcount == 1 && p->order == 0,
                      "frame %#lx of the run: flags %#x ref %u", (pfn + i),
                      p->flags, p->refcount);
        }
        if (gfp & __GFP_ZERO)
            HT_ASSERT(all_bytes(mm_host_arena() + pa, 0, n * FR), "run not zeroed");
        HT_TRY(hold(pfn, n, 0, true));
        cs->ok++;
        cs->after_drain += drained;
    } else {
        free(before);
        if (bad)
            cs->bad++;
        else
            cs->none++;
    }
    if (drained)
        for (unsigned zi = 0; zi < NR_ZONES; zi++)
            HT_ASSERT(Z(zi)->pcp[0].count == 0, "failed first search did not drain the caches");
    HT_TRY(check());
}

static uint64_t pick_n(void)
{
    static const uint64_t odd[] = { 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 33, 100, 255, 256,
                                    257, 1000, 1023, 1024, 1025, 2047, 2048, 3000 };
    uint64_t r = rnd(100);
    if (r < 40)
        return odd[rnd(HT_COUNT(odd))];
    if (r < 95)
        return 1 + rnd(64);
    return 1 + rnd(6000);
}

static uint64_t pick_align(void)
{
    return rnd(10) ? FR << rnd(12) : FR << rnd(24);
}

static gfp_t pick_gfp(void)
{
    static const gfp_t g[] = { __GFP_MEMALLOC, __GFP_MEMALLOC, __GFP_MEMALLOC, GFP_KERNEL,
                               GFP_ATOMIC, __GFP_MEMALLOC | __GFP_ZERO };
    return g[rnd(HT_COUNT(g))] | __GFP_NOWARN;
}

/* Unaligned sometimes: the window is rounded inwards. */
static uint64_t jitter(uint64_t a)
{
    return rnd(4) ? a : a + rnd(FR);
}

static void pick_window(uint64_t *min, uint64_t *max)
{
    uint64_t span = cur->max_pfn << PAGE_SHIFT, r = rnd(100);
    if (r < 15) {
        *min = 0;
        *max = rnd(2) ? span : ~0ul;
    } else if (r < 40) {
        /* Around a zone boundary. */
        uint64_t b = cur == &BIG && rnd(2) ? ZONE_DMA32_END : ZONE_DMA_END;
        *min = jitter(b - rnd(12 * MiB));
        *max = jitter(b + rnd(12 * MiB)) + 1;
    } else if (r < 70 && cur->nram) {
        /* Around a RAM range. */
        const struct host_ram *ram = &cur->ram[rnd(cur->nram)];
        *min = jitter(ram->start - (ram->start > 4 * MiB ? rnd(4 * MiB) : 0));
        *max = jitter(ram->start + rnd(ram->end - ram->start + 4 * MiB)) + 1;
    } else {
        *min = jitter(rnd(span));
        *max = *min + jitter(rnd(span / 2)) + 1;
    }
    if (rnd(50) == 0) /* a reversed or empty window now and then */
        *max = *min - rnd(2);
}

/* Record held contiguous run i as single frames from frame k on. */
static void split_contig_at(size_t i, uint64_t k)
{
    struct held h = unhold_at(i);
    release(h.pfn, h.n); /* hold() below counts them again */
    if (k)
        HT_TRY(hold(h.pfn, k, 0, true));
    for (uint64_t j = k; j < h.n; j++)
        HT_TRY(hold(h.pfn + j, 1, 0, true));
}

/* Give back one frame of a contiguous run with put_page, keeping the rest
 * as two runs (which free_contig accepts separately). */
static void split_contig(size_t i)
{
    struct held h = unhold_at(i);
    uint64_t k = rnd(h.n);
    release(h.pfn, h.n);
    HT_ASSERT(put_page(pfn_to_page(h.pfn + k)) == 0, "put_page on a contiguous frame");
    if (k)
        HT_TRY(hold(h.pfn, k, 0, true));
    if (k + 1 < h.n)
        HT_TRY(hold(h.pfn + k + 1, h.n - k - 1, 0, true));
    HT_TRY(check());
}

static void contig_model_run(const struct layout *l, unsigned iterations, bool need_drain)
{
    setup(l);
    fstate = realloc(fstate, l->max_pfn);
    prefix = realloc(prefix, (l->max_pfn + 1) * sizeof(*prefix));
    HT_ASSERT(fstate && prefix, "host memory");
    struct contig_stats cs = { 0 };
    for (unsigned it = 0; it < iterations; it++) {
        uint64_t r = rnd(100);
        /* Keep the arena between about a third and nine tenths full. */
        if (nr_free_pages() < base_free / 10)
            r = 70;
        else if (nr_free_pages() > base_free * 2 / 3 && r >= 65)
            r = 0;
        if (r < 45) {
            uint64_t min, max;
            pick_window(&min, &max);
            HT_TRY(contig_vs_model(pick_n(), pick_align(), min, max, pick_gfp(), &cs));
        } else if (r < 65) {
            struct page *p;
            HT_TRY(take(pick_gfp() & ~__GFP_ZERO, (unsigned)rnd(6), &p));
        } else if (r < 95 && nheld) {
            size_t i = rnd(nheld);
            if (held[i].contig && held[i].n > 2 && rnd(3) == 0)
                HT_TRY(split_contig(i));
            else
                HT_TRY(give(i, (unsigned)rnd(3)));
        } else {
            drain_pcp();
            HT_TRY(check());
        }
        if (it % 64 == 0)
            HT_TRY(check_ownership());
    }
    HT_TRY(check_ownership());
    /* The model must have been put to the test both ways. */
    HT_ASSERT(cs.ok > iterations / 20 && cs.none > iterations / 50 && (cs.after_drain > 0 || !need_drain) &&
                  cs.bad > 0, "weak run: %lu found (%lu after a drain), %lu none, %lu bad",
              cs.ok, cs.after_drain,
              cs.none, cs.bad);
    HT_TRY(give_all());
    drain_pcp();
    HT_TRY(check());
    HT_TRY(check_ownership());
}

static void t_contig_model(void)
{
    HT_TRY(contig_model_run(&SMALL, 6000, true));
}

static void t_contig_model_big(void)
{
    HT_TRY(contig_model_run(&BIG, 400, false)); /* the drain path: small */
}

/* Only cached frames complete the run: the first search fails, the caches
 * are drained, the second search finds it. */
static void t_contig_drains_pcp(void)
{
    setup(&SMALL);
    uint64_t run = alloc_contig(16, FR, 20 * MiB, 21 * MiB, GFP_KERNEL), got;
    HT_EQ_U(run, 20 * MiB);
    HT_TRY(hold(PFN(run), 16, 0, true));
    HT_TRY(exhaust(__GFP_MEMALLOC, MAX_ORDER, &got, NULL));
    HT_EQ_U(nr_free_pages(), 0);
    /* Give back 8 frames of the run one by one: they stay in the cache. */
    HT_TRY(split_contig_at(find_held(PFN(run)), 8));
    for (uint64_t k = 8; k < 16; k++)
        HT_TRY(give(find_held(PFN(run) + k), 1));
    HT_EQ_U(Z(ZONE_DMA32)->pcp[0].count, 8);
    HT_EQ_U(Z(ZONE_DMA32)->free, 0);
    uint64_t pa = alloc_contig(8, FR, 0, ~0ul, __GFP_MEMALLOC);
    HT_EQ_U(pa, run + 8 * FR);
    HT_EQ_U(Z(ZONE_DMA32)->pcp[0].count, 0);
    HT_TRY(hold(PFN(pa), 8, 0, true));
    HT_TRY(check());
    HT_TRY(give_all());
}

static void t_contig_errors(void)
{
    setup(&SMALL);
    uint64_t pa = alloc_contig(3, 16 * FR, 8 * MiB, 16 * MiB, GFP_KERNEL);
    HT_ASSERT(pa && pa % (16 * FR) == 0 && pa >= 8 * MiB && pa + 3 * FR <= 16 * MiB,
              "alloc_contig(3) = %#lx", pa);
    HT_TRY(hold(PFN(pa), 3, 0, true));
    HT_TRY(check());
    /* Ranges that are not exactly singly-referenced contiguous frames. */
    EXPECT_REFUSED(free_contig(pa, 4), -EINVAL, "not a singly-referenced");       /* one too many */
    EXPECT_REFUSED(free_contig(pa - FR, 3), -EINVAL, "not a singly-referenced");  /* one before */
    EXPECT_REFUSED(free_contig(pa + FR / 2, 2), -EINVAL, "bad range");            /* unaligned */
    EXPECT_REFUSED(free_contig(pa, 0), -EINVAL, "bad range");
    EXPECT_REFUSED(free_contig(cur->max_pfn << PAGE_SHIFT, 1), -EINVAL, "bad range");
    EXPECT_REFUSED(free_contig(pa, ~0ul), -EINVAL, "bad range");
    EXPECT_REFUSED(free_contig(5 * MiB, 1), -EINVAL, "not a singly-referenced"); /* reserved */
    struct page *p;
    HT_TRY(take(GFP_KERNEL, 0, &p));
    EXPECT_REFUSED(free_contig(page_to_phys(p), 1), -EINVAL, "not a singly-referenced");
    /* A run with an extra reference on one frame is not freed either. */
    HT_EQ_U(get_page(pfn_to_page(PFN(pa) + 1)), 2);
    EXPECT_REFUSED(free_contig(pa, 3), -EBUSY, "not a singly-referenced");
    HT_EQ_U(put_page(pfn_to_page(PFN(pa) + 1)), 1);
    HT_TRY(check());
    HT_TRY(give_all());
}

static void t_contig_put_page(void)
{
    setup(&SMALL);
    uint64_t pa = alloc_contig(3, FR, 0, ~0ul, GFP_KERNEL);
    HT_ASSERT(pa, "alloc_contig");
    HT_TRY(hold(PFN(pa), 3, 0, true));
    unhold_at(find_held(PFN(pa)));
    HT_TRY(check());
    struct page *mid = pfn_to_page(PFN(pa) + 1);
    release(PFN(pa) + 1, 1);
    HT_EQ_U(put_page(mid), 0); /* one frame of the run, freed on its own */
    HT_TRY(check());
    HT_ASSERT(!(mid->flags & PG_CONTIG) && mid->refcount == 0, "middle frame still allocated");
    release(PFN(pa), 1);
    release(PFN(pa) + 2, 1);
    HT_TRY(hold(PFN(pa), 1, 0, true));
    HT_TRY(hold(PFN(pa) + 2, 1, 0, true));
    EXPECT_REFUSED(free_contig(pa, 3), -EINVAL, "not a singly-referenced"); /* has a hole now */
    HT_EQ_U(get_page(pfn_to_page(PFN(pa))), 2);
    HT_EQ_U(put_page(pfn_to_page(PFN(pa))), 1);
    HT_TRY(give_all());
}

static void t_contig_bad_requests(void)
{
    setup(&SMALL);
    struct snap before, after;
    snap(&before);
    struct { uint64_t n, align, min, max; } bad[] = {
        { 0, FR, 0, ~0ul },                 /* n = 0 */
        { 1, 3 * FR, 0, ~0ul },             /* not a power of two */
        { 1, 0, 0, ~0ul },
        { 1, FR / 2, 0, ~0ul },             /* below a page */
        { 1, 1, 0, ~0ul },
        { 1, FR, 16 * MiB, 16 * MiB },       /* empty window */
        { 1, FR, 16 * MiB, 8 * MiB },        /* reversed */
        { 3, FR, 8 * MiB, 8 * MiB + 2 * FR },/* n larger than the window */
        { ~0ul, FR, 0, ~0ul },
    };
    for (size_t i = 0; i < HT_COUNT(bad); i++) {
        uint64_t reports = mm_host_reports();
        HT_ASSERT(alloc_contig(bad[i].n, bad[i].align, bad[i].min, bad[i].max, GFP_KERNEL) == 0,
                  "bad request %zu accepted", i);
        HT_ASSERT(mm_host_reported_since(reports, "bad request"), "request %zu not reported", i);
        HT_TRY(check());
    }
    /* Windows that round to nothing, or hold only frame 0, find nothing. */
    HT_EQ_U(alloc_contig(1, FR, 0, FR, GFP_KERNEL | __GFP_NOWARN), 0);
    HT_EQ_U(alloc_contig(1, FR, 5 * FR + 1, 7 * FR - 1, GFP_KERNEL | __GFP_NOWARN), 0);
    snap(&after);
    HT_TRY(same_as(&before, &after));
    /* Rounded inwards: [5 * FR + 1, 7 * FR) holds frame 6 only. */
    HT_EQ_U(alloc_contig(1, FR, 5 * FR + 1, 7 * FR, GFP_KERNEL), 6 * FR);
    HT_TRY(hold(6, 1, 0, true));
    HT_EQ_U(alloc_contig(2, FR, 0, 9 * FR, GFP_KERNEL), 7 * FR); /* lowest first, past 6 */
    HT_TRY(hold(7, 2, 0, true));
    HT_TRY(check());
    HT_TRY(give_all());
    HT_EQ_U(node0->errors, 0);
}

/* alloc_contig keeps the watermark as alloc_pages does: a run that would
 * take the zone below wmark_min needs GFP_ATOMIC. */
static void t_contig_watermark(void)
{
    setup(&SMALL);
    struct zone *dma = Z(ZONE_DMA);
    uint64_t run = alloc_contig(8, FR, 0, ZONE_DMA_END, GFP_KERNEL), got;
    HT_ASSERT(run, "alloc_contig");
    HT_TRY(hold(PFN(run), 8, 0, true));
    HT_TRY(exhaust(GFP_DMA, MAX_ORDER, &got, NULL));
    struct page *p;
    HT_TRY(take(GFP_DMA | __GFP_MEMALLOC, 0, &p));
    HT_TRY(give(find_held(PFN(run)), 0)); /* free_contig: 8 free in a row */
    HT_EQ_U(dma->free + dma->pcp[0].count, dma->wmark_min + 7);
    HT_EQ_U(alloc_contig(8, FR, 0, ZONE_DMA_END, GFP_KERNEL | __GFP_NOWARN), 0);
    HT_TRY(check());
    HT_EQ_U(alloc_contig(7, FR, 0, ZONE_DMA_END, GFP_KERNEL), run);
    HT_TRY(hold(PFN(run), 7, 0, true));
    HT_TRY(give(find_held(PFN(run)), 0));
    HT_EQ_U(alloc_contig(8, FR, 0, ZONE_DMA_END, GFP_ATOMIC), run);
    HT_TRY(hold(PFN(run), 8, 0, true));
    HT_TRY(check());
    HT_TRY(give_all());
}

/* Even where frame 0 is RAM, alloc_contig never returns it: 0 means failure. */
static void t_contig_never_frame0(void)
{
    static const struct host_ram ram[] = { { 0, 64 * FR } };
    static const struct layout low = { 4096 + 64, ram, 1 };
    setup(&low);
    HT_EQ_U(Z(ZONE_DMA)->managed, 64);
    HT_EQ_U(alloc_contig(1, FR, 0, FR, __GFP_MEMALLOC | __GFP_NOWARN), 0);
    HT_EQ_U(alloc_contig(1, FR, 0, ~0ul, __GFP_MEMALLOC), FR);
    HT_TRY(hold(1, 1, 0, true));
    HT_EQ_U(alloc_contig(2, 2 * FR, 0, ~0ul, __GFP_MEMALLOC), 2 * FR);
    HT_TRY(hold(2, 2, 0, true));
    HT_TRY(check());
    HT_TRY(give_all());
}

/* ---- statistics text ---------------------------------------------------------------- */

/* The value after `key` in the section of `text` that starts at `from`. */
static bool field(const char *from, const char *key, uint64_t *v)
{
    const char *at = strstr(from, key);
    return at && sscanf(at + strlen(key), " %lu", v) == 1;
}

static void stats_match(void)
{
    char buf[4096];
    int len = buddyinfo_show(buf, sizeof(buf));
    HT_ASSERT(len > 0 && (size_t)len == strlen(buf), "buddyinfo length %d", len);
    const char *line = buf;
    for (unsigned zi = 0; zi < NR_ZONES; zi++) {
        const struct zone *z = Z(zi);
        if (!z->managed)
            continue;
        /* Linux: "Node 0, zone %8s" then " %6lu" per order. */
        char head[32];
        snprintf(head, sizeof(head), "Node 0, zone %8s", z->name);
        HT_ASSERT(strncmp(line, head, strlen(head)) == 0, "buddyinfo line \"%.40s\"", line);
        const char *f = line + strlen(head);
        for (unsigned k = 0; k <= MAX_ORDER; k++) {
            char *end;
            HT_ASSERT(f[0] == ' ', "buddyinfo: no space before order %u", k);
            uint64_t v = strtoull(f, &end, 10);
            HT_ASSERT(end - f >= 7, "buddyinfo: order %u field narrower than %%6lu", k);
            HT_ASSERT(v == z->area[k].nr_free, "buddyinfo %s order %u: %lu, lists have %lu",
                      z->name, k, v, z->area[k].nr_free);
            f = end;
        }
        HT_ASSERT(*f == '\n', "buddyinfo: line does not end after order %u", MAX_ORDER);
        line = f + 1;
    }
    HT_ASSERT(*line == 0, "buddyinfo: extra text \"%.20s\"", line);

    len = zoneinfo_show(buf, sizeof(buf));
    HT_ASSERT(len > 0 && (size_t)len == strlen(buf), "zoneinfo length %d", len);
    for (unsigned zi = 0; zi < NR_ZONES; zi++) {
        const struct zone *z = Z(zi);
        char head[32];
        uint64_t v;
        snprintf(head, sizeof(head), "Node 0, zone %8s\n", z->name);
        const char *sec = strstr(buf, head);
        HT_ASSERT(sec, "zoneinfo: no section for %s", z->name);
        uint64_t present = 0;
        for (uint64_t pfn = z->start_pfn; pfn < z->end_pfn; pfn++)
            present += is_ram(pfn);
        struct { const char *key; uint64_t want; } kv[] = {
            { "pages free", z->free + z->pcp[0].count }, { "min", z->wmark_min },
            { "low", z->wmark_low }, { "high", z->wmark_high },
            { "spanned", z->end_pfn - z->start_pfn }, { "present", present },
            { "managed", z->managed }, { "count:", z->pcp[0].count },
            { "batch:", z->pcp[0].batch }, { "start_pfn:", z->start_pfn },
        };
        for (size_t i = 0; i < HT_COUNT(kv); i++) {
            HT_ASSERT(field(sec, kv[i].key, &v), "zoneinfo %s: no \"%s\"", z->name, kv[i].key);
            HT_ASSERT(v == kv[i].want, "zoneinfo %s %s: %lu, expected %lu", z->name, kv[i].key,
                      v, kv[i].want);
        }
    }

    len = meminfo_show(buf, sizeof(buf));
    HT_ASSERT(len > 0 && (size_t)len == strlen(buf), "meminfo length %d", len);
    uint64_t total = 0, reserve = 0, dma32 = 0;
    for (unsigned zi = 0; zi < NR_ZONES; zi++) {
        total += Z(zi)->managed;
        reserve += Z(zi)->wmark_high;
        if (zi <= ZONE_DMA32)
            dma32 += Z(zi)->free + Z(zi)->pcp[0].count;
    }
    uint64_t fr = nr_free_pages();
    struct { const char *key; uint64_t want; } mi[] = {
        { "MemTotal:", total * 4 }, { "MemFree:", fr * 4 },
        { "MemAvailable:", (fr > reserve ? fr - reserve : 0) * 4 }, { "DMA32Free:", dma32 * 4 },
    };
    for (size_t i = 0; i < HT_COUNT(mi); i++) {
        uint64_t v;
        char key[32];
        snprintf(key, sizeof(key), "\n%s", mi[i].key);
        const char *at = i == 0 ? buf : strstr(buf, key);
        HT_ASSERT(at && field(at, mi[i].key, &v), "meminfo: no %s", mi[i].key);
        HT_ASSERT(v == mi[i].want, "meminfo %s %lu kB, expected %lu", mi[i].key, v,
                  mi[i].want);
        HT_ASSERT(strstr(at, " kB\n"), "meminfo %s: no \" kB\"", mi[i].key);
    }
    HT_ASSERT(strncmp(buf, "MemTotal:", 9) == 0, "meminfo does not start with MemTotal");
}

static void t_stats(void)
{
    const struct layout *ls[] = { &SMALL, &BIG };
    for (size_t li = 0; li < HT_COUNT(ls); li++) {
        setup(ls[li]);
        HT_TRY(stats_match());
        /* A mixed state: blocks of several orders, cached frames. */
        struct page *p;
        for (unsigned k = 0; k < 40; k++)
            HT_TRY(take(k % 3 ? GFP_KERNEL : GFP_DMA, k % 7, &p));
        for (unsigned k = 0; k < 10; k++)
            HT_TRY(give(rnd(nheld), 0));
        HT_TRY(stats_match());
        HT_TRY(give_all());
        HT_TRY(stats_match());
    }
    /* Truncation: the length of the whole text, a terminated prefix. */
    char full[4096], small[16];
    int (*fn[])(char *, size_t) = { buddyinfo_show, zoneinfo_show, meminfo_show };
    for (size_t i = 0; i < HT_COUNT(fn); i++) {
        int len = fn[i](full, sizeof(full));
        memset(small, 'x', sizeof(small));
        HT_EQ_U(fn[i](small, 10), len);
        HT_ASSERT(small[9] == 0 && strncmp(small, full, 9) == 0 && small[10] == 'x',
                  "truncated text wrong");
        HT_EQ_U(fn[i](NULL, 0), len);
    }
}

/* ---- isolation (mm/isolate.c) --------------------------------------------------- */

/* Isolated frames are held like order-0 blocks; the validator knows them. */
static void iso_check(void)
{
    char why[256];
    for (unsigned zi = 0; zi < NR_ZONES; zi++)
        HT_ASSERT(isolate_check(Z(zi), zone_lo(zi), zone_hi(zi), why, sizeof(why)) == 0,
                  "isolate_check: %s", why);
    HT_TRY(check());
}

static void t_isolate_frame(void)
{
    setup(&SMALL);
    struct zone *z = Z(ZONE_DMA32);
    /* In the middle of a large free block: the block is split around it. */
    uint64_t pfn = PFN(40 * MiB) + 5;
    HT_ASSERT(frame_is_free(z, pfn), "frame %#lx should be free", pfn);
    uint64_t free_before = z->free;
    HT_EQ_U(isolate_free_frame(z, pfn), 0);
    HT_TRY(hold(pfn, 1, 0, false));
    struct page *p = pfn_to_page(pfn);
    HT_ASSERT(frame_isolated(p) && p->refcount == 1 && p->order == 0 && p->flags == 0,
              "isolated frame flags %#x ref %u order %u", p->flags, p->refcount, p->order);
    HT_EQ_U(z->free, free_before - 1);
    HT_ASSERT(frame_is_free(z, pfn - 1) && frame_is_free(z, pfn + 1), "neighbours stay free");
    HT_TRY(iso_check());
    /* Not free any more: refused, nothing changed. */
    HT_EQ_U(isolate_free_frame(z, pfn), (uint64_t)-EBUSY);
    HT_EQ_U(isolate_free_frame(z, z->end_pfn), (uint64_t)-EINVAL);
    HT_EQ_U(isolate_free_frame(z, z->start_pfn - 1), (uint64_t)-EINVAL);
    /* An allocated block's frames are refused too. */
    struct page *b;
    HT_TRY(take(GFP_DMA32, 2, &b));
    HT_EQ_U(isolate_free_frame(&node0->zones[b->zone], page_to_pfn(b) + 1), (uint64_t)-EBUSY);
    HT_TRY(iso_check());
    /* __free_pages gives an isolated frame back; the block merges again. */
    release(pfn, 1);
    unhold_at(find_held(pfn));
    __free_pages(p, 0);
    drain_pcp();
    HT_TRY(check());
    HT_TRY(give_all());
    drain_pcp();
    HT_EQ_U(z->free, free_before);
}

static void t_isolate_cached(void)
{
    setup(&SMALL);
    /* Frames parked in the per-CPU cache (order 0 and order 2) are found there. */
    struct page *a, *b;
    HT_TRY(take(GFP_DMA32, 0, &a));
    HT_TRY(take(GFP_DMA32, 2, &b));
    uint64_t pa = page_to_pfn(a), pb = page_to_pfn(b);
    HT_TRY(give(find_held(pa), 0));
    HT_TRY(give(find_held(pb), 0));
    struct zone *z = Z(ZONE_DMA32);
    HT_ASSERT(a->flags == PG_PCP && b->flags == PG_PCP, "blocks not cached: %#x %#x",
              a->flags, b->flags);
    uint32_t cached = z->pcp[0].count;
    HT_EQ_U(isolate_free_frame(z, pb + 3), 0);
    HT_TRY(hold(pb + 3, 1, 0, false));
    HT_EQ_U(z->pcp[0].count, cached - 4);
    HT_EQ_U(isolate_free_frame(z, pa), 0);
    HT_TRY(hold(pa, 1, 0, false));
    HT_TRY(iso_check());
    HT_ASSERT(frame_is_free(z, pb) && frame_is_free(z, pb + 2), "rest of the cached block free");
    /* release_isolated: back through __free_pages. */
    release(pa, 1);
    unhold_at(find_held(pa));
    release_isolated(pfn_to_page(pa));
    HT_TRY(iso_check());
    HT_TRY(give_all());
}

static void t_isolate_range(void)
{
    setup(&SMALL);
    struct zone *z = Z(ZONE_DMA32);
    drain_pcp();
    /* A window with some allocated frames in it. */
    uint64_t lo = PFN(33 * MiB), hi = lo + 300;
    uint64_t busy[3];
    for (int i = 0; i < 3; i++) {
        busy[i] = PFN(alloc_contig(1, FR, (lo + 7 + 90 * (uint64_t)i) << PAGE_SHIFT,
                                   (lo + 8 + 90 * (uint64_t)i) << PAGE_SHIFT, GFP_KERNEL));
        HT_EQ_U(busy[i], lo + 7 + 90 * (uint64_t)i);
        HT_TRY(hold(busy[i], 1, 0, true));
    }
    /* Some frames of the window cached. */
    struct page *c;
    HT_TRY(take(GFP_DMA32, 0, &c));
    uint64_t free_before = nr_free_pages();
    uint64_t n = isolate_free_range(z, lo, hi);
    HT_EQ_U(n, 300 - 3 - (page_to_pfn(c) >= lo && page_to_pfn(c) < hi));
    HT_EQ_U(nr_free_pages(), free_before - n);
    for (uint64_t pfn = lo; pfn < hi; pfn++)
        HT_ASSERT(!frame_is_free(z, pfn), "frame %#lx still free", pfn);
    held_frames += n;
    HT_TRY(iso_check());
    /* Twice: nothing more to take. */
    HT_EQ_U(isolate_free_range(z, lo, hi), 0);
    HT_EQ_U(release_isolated_range(z, lo, hi), n);
    held_frames -= n;
    HT_TRY(iso_check());
    HT_EQ_U(nr_free_pages(), free_before);
    /* Clipped to the zone. */
    HT_EQ_U(isolate_free_range(Z(ZONE_DMA), PFN(15 * MiB), PFN(17 * MiB)),
            PFN(16 * MiB) - PFN(15 * MiB));
    HT_EQ_U(release_isolated_range(Z(ZONE_DMA), PFN(15 * MiB), PFN(17 * MiB)),
            PFN(16 * MiB) - PFN(15 * MiB));
    HT_TRY(check());
    HT_TRY(give_all());
}

static void t_isolate_check_finds(void)
{
    setup(&SMALL);
    struct zone *z = Z(ZONE_DMA32);
    uint64_t pfn = PFN(36 * MiB);
    HT_EQ_U(isolate_free_frame(z, pfn), 0);
    HT_TRY(hold(pfn, 1, 0, false));
    char why[256];
    struct page *p = pfn_to_page(pfn);
    p->refcount = 2; /* somebody took a reference behind the isolation's back */
    HT_EQ_U(isolate_check(z, z->start_pfn, z->end_pfn, why, sizeof(why)), (uint64_t)-EUCLEAN);
    HT_ASSERT(strstr(why, "isolated frame"), "why: %s", why);
    p->refcount = 1;
    p->order = 1; /* a corrupt order */
    HT_EQ_U(isolate_check(z, z->start_pfn, z->end_pfn, why, sizeof(why)), (uint64_t)-EUCLEAN);
    p->order = 0;
    HT_TRY(iso_check());
    release(pfn, 1);
    unhold_at(find_held(pfn));
    release_isolated(p);
    HT_TRY(give_all());
}

static const struct htest cases[] = {
    HT_CASE(init_small),
    HT_CASE(init_big),
    HT_CASE(exhaust_every_order),
    HT_CASE(exhaust_big),
    HT_CASE(orders_aligned),
    HT_CASE(zone_fallback),
    HT_CASE(never_upward),
    HT_CASE(watermarks),
    HT_CASE(pcp),
    HT_CASE(gfp_zero),
    HT_CASE(order_too_big),
    HT_CASE(refcount),
    HT_CASE(double_free),
    HT_CASE(put_free),
    HT_CASE(free_tail),
    HT_CASE(wrong_order),
    HT_CASE(tails_unmarked),
    HT_CASE(high_order_errors),
    HT_CASE(pcp_orders),
    HT_CASE(preferred_zone),
    HT_CASE(check_finds_marked_tails),
    HT_CASE(free_reserved),
    HT_CASE(free_pages_bad_address),
    HT_CASE(address_api),
    HT_CASE(release),
    HT_CASE(check_finds_corruption),
    HT_CASE(contig_model),
    HT_CASE(contig_model_big),
    HT_CASE(contig_drains_pcp),
    HT_CASE(contig_errors),
    HT_CASE(contig_put_page),
    HT_CASE(contig_bad_requests),
    HT_CASE(contig_watermark),
    HT_CASE(contig_never_frame0),
    HT_CASE(stats),
    HT_CASE(isolate_frame),
    HT_CASE(isolate_cached),
    HT_CASE(isolate_range),
    HT_CASE(isolate_check_finds),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
