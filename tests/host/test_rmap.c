/*
 * Host tests of the reverse map (mm/rmap.c) and page migration
 * (mm/migrate.c) over real address spaces of both page-table formats:
 * every case runs twice, as x86_64/<case> on 64-bit address spaces
 * (mm_init_user) and as i386/<case> on compat32's (mm_init_user32: the
 * i386 two-level tables are the authoritative map, the 4-level ones the
 * CPU walks are derived from them).
 *
 * The fake node has RAM on both sides of 4 GiB, as test_mmu32's: a 64-bit
 * process's frames come from above, a 32-bit one's from below, and a page
 * an i386 table maps must move to a frame below 4 GiB too.
 *
 * The test plays the CPU as test_vma does (uaccess: walk mm->pt, fault
 * when the entry refuses), and writes whole pages with a pattern that
 * depends on a seed and the page's address, so that any page can be
 * checked anywhere it is mapped.
 *
 * After every step check_all() runs, on every live address space:
 * mm_check_consistency, pt_check, rmap_check_mm (and for a 32-bit one
 * mmu32_check and pt_check of the derived tables); then mm_check_frames,
 * node_check, slab_check, and an oracle of the reverse map written
 * without mm/rmap.c: it walks every VMA of every process, groups the
 * present ptes by frame, and asks rmap_walk for each frame mapped only by
 * private anonymous VMAs: the hits must be exactly those (process,
 * address) pairs, each with the frame in its view; a frame of a shared
 * anonymous object (vm_shm: no reverse map on the host) and the zero page
 * must have none.
 *
 * migrated() moves one page and checks everything migrate_page promises:
 * a new frame (below 4 GiB when an i386 table maps it), the same bytes,
 * every pte that mapped the old frame mapping the new one with the same
 * rights, accessed and dirty bits (and the derived 32-bit entry either
 * gone or the new frame), the references and the owner moved, the old
 * frame free, pgmigrate_success counted.  refused() checks a refusal: its
 * reason and error, migrate_check agreeing, and nothing changed (every pte
 * of every process, the descriptor, the free frames), pgmigrate_fail
 * counted.  Each case ends with every address space destroyed and the
 * frames and slab objects back to their count before the case.
 */
#include <setjmp.h>
#include <stdlib.h>

#include "htest.h"
#include "mm_host.h"
#include <compat32/mmu32.h>
#include <kernel/errno.h>
#include <mm/gfp.h>
#include <mm/migrate.h>
#include <mm/pgtable.h>
#include <mm/rmap.h>
#include <mm/slab.h>
#include <mm/vm_event.h>
#include <mm/vma.h>
#include <mm/zone.h>

#define KiB (1ul << 10)
#define MiB (1ul << 20)
#define GiB (1ul << 30)
#define FR 4096ul
#define TOP (1ul << 32)
#define RW (PROT_READ | PROT_WRITE)
#define PRIV (MAP_PRIVATE | MAP_ANONYMOUS)
#define FIXED (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
#define SHARED_FIXED (MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)

static const struct host_ram ram[] = { { 1 * MiB, 24 * MiB }, { 4 * GiB, 4 * GiB + 24 * MiB } };
#define MAX_PFN ((4 * GiB + 24 * MiB) / FR)

/* ---- failing from any depth (as test_mmu32) -------------------------------------------------- */

static jmp_buf case_jmp;
static char fail_msg[480];
static const char *fail_file;
static int fail_line;

#define FAIL(...)                                                           \
    do {                                                                    \
        fail_file = __FILE__;                                               \
        fail_line = __LINE__;                                               \
        snprintf(fail_msg, sizeof(fail_msg), __VA_ARGS__);                  \
        longjmp(case_jmp, 1);                                               \
    } while (0)
#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond))                                                        \
            FAIL(__VA_ARGS__);                                              \
    } while (0)
#define EQ(a, b)                                                            \
    do {                                                                    \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                    \
        if (a_ != b_)                                                       \
            FAIL("%s = %#lx, expected %s = %#lx", #a, a_, #b, b_);          \
    } while (0)

/* The format of the running case: false x86-64, true i386 (compat32). */
static bool is32;
static bool pinned_now;   /* see check_all */

static void cleanup_after_failure(void);

static void run_case(void (*fn)(void), bool fmt32)
{
    is32 = fmt32;
    if (setjmp(case_jmp)) {
        ht_fail(fail_file, fail_line, "%s", fail_msg);
        cleanup_after_failure();
        return;
    }
    fn();
}

/* CASE(name) defines c_name and the two entries x86_64/name, i386/name. */
#define CASE(name)                                                          \
    static void c_##name(void);                                             \
    static void t64_##name(void) { run_case(c_##name, false); }             \
    static void t32_##name(void) { run_case(c_##name, true); }              \
    static void c_##name(void)
/* Two strings equal (a failure from any depth). */
#define HT_EQ_STR_J(a, b)                                                   \
    do {                                                                    \
        const char *sa_ = (a), *sb_ = (b);                                  \
        CHECK(sa_ && !strcmp(sa_, sb_), "%s is \"%s\", expected \"%s\"", #a,   \
              sa_ ? sa_ : "(NULL)", sb_);                                   \
    } while (0)
#define BOTH(name) { "x86_64/" #name, t64_##name }, { "i386/" #name, t32_##name }

/* ---- set-up and address spaces ------------------------------------------------------------- */

#define NMM 6
static struct mm mms[NMM];
static bool used[NMM];
static uint64_t base_frames, base_live;

static uint64_t frames_now(void)
{
    return nr_free_pages() + slab_pages_held() + kmalloc_large_pages();
}

static void setup(void)
{
    mm_host_init_no_watermarks(MAX_PFN, ram, HT_COUNT(ram));
    kmem_cache_init();
    memset(used, 0, sizeof(used));
    mm_tlb_flush = NULL;
    mm_kernel_share = NULL;
    mmu32_mirror_user = false;
    pinned_now = false;
    CHECK(mm_zero_page_init() == 0, "no zero page");
    base_frames = frames_now();
    base_live = slab_live_objects();
}

static struct mm *new_mm(void)
{
    for (int i = 0; i < NMM; i++) {
        if (used[i])
            continue;
        memset(&mms[i], 0x5a, sizeof(mms[i]));
        int err = is32 ? mm_init_user32(&mms[i]) : mm_init_user(&mms[i], MM_VA_END_64, GFP_KERNEL);
        CHECK(err == 0, "creating an address space: %d", err);
        used[i] = true;
        return &mms[i];
    }
    FAIL("no free mm slot");
}

static struct mm *fork_mm(struct mm *parent)
{
    for (int i = 0; i < NMM; i++) {
        if (used[i])
            continue;
        memset(&mms[i], 0x5a, sizeof(mms[i]));
        int err = mm_fork(&mms[i], parent, false);
        CHECK(err == 0, "fork: %d", err);
        CHECK(mm_is32(&mms[i]) == is32, "the child has another format");
        used[i] = true;
        return &mms[i];
    }
    FAIL("no free mm slot");
}

static void drop_mm(struct mm *mm)
{
    mm_destroy(mm);
    used[mm - mms] = false;
}

/* A failed case still destroys its address spaces: the reverse map's
 * handle table (kept by mm/rmap.c across cases) is then empty and freed
 * before the next case starts a new slab allocator. */
static void give_back(void);

static void cleanup_after_failure(void)
{
    give_back();
    for (int i = 0; i < NMM; i++)
        if (used[i])
            drop_mm(&mms[i]);
}

/* The stack's top for this format. */
static uint64_t stack_top(void)
{
    return is32 ? 0xbf000000ul : 0x7ff000000000ul;
}

/* ---- the CPU ---------------------------------------------------------------------------------- */

static int uaccess(struct mm *mm, uint64_t va, unsigned access, uint8_t **p)
{
    for (int tries = 0;; tries++) {
        struct pt_view v;
        if (pt_walk(&mm->pt, va & ~(FR - 1), &v) == 0 && (v.prot & PT_U) &&
            (!(access & FAULT_WRITE) || (v.prot & PT_W))) {
            *p = mm_host_arena() + v.pa + (va & (FR - 1));
            return 0;
        }
        CHECK(!tries, "mm_fault(%#lx, %#x) said yes, the entry still refuses", va, access);
        int err = mm_fault(mm, va, access | FAULT_USER);
        if (err)
            return err;
    }
}

/* The byte at offset i of a page written with seed at va. */
static uint8_t pat(uint64_t seed, uint64_t va, unsigned i)
{
    return (uint8_t)(seed * 131 + (va >> 12) * 17 + i * 7 + (i >> 8) + 1);
}

/* Write the whole page at va with seed's pattern (faulting as needed). */
static void wpage(struct mm *mm, uint64_t va, uint64_t seed)
{
    uint8_t *p;
    int err = uaccess(mm, va, FAULT_WRITE, &p);
    CHECK(err == 0, "write at %#lx: %d", va, err);
    for (unsigned i = 0; i < FR; i++)
        p[i] = pat(seed, va, i);
}

static void wpages(struct mm *mm, uint64_t va, uint64_t n, uint64_t seed)
{
    for (uint64_t i = 0; i < n; i++)
        wpage(mm, va + i * FR, seed);
}

/* Read the whole page at va: seed's pattern, or zeros for seed 0. */
static void rpage(struct mm *mm, uint64_t va, uint64_t seed)
{
    uint8_t *p;
    int err = uaccess(mm, va, 0, &p);
    CHECK(err == 0, "read at %#lx: %d", va, err);
    for (unsigned i = 0; i < FR; i++)
        CHECK(p[i] == (seed ? pat(seed, va, i) : 0), "byte %u of the page at %#lx: %#x, "
              "expected %#x", i, va, p[i], (seed ? pat(seed, va, i) : 0));
}

/* The page at va, written with seed at another address (moved since). */
static void rpage_from(struct mm *mm, uint64_t va, uint64_t seed, uint64_t written)
{
    uint8_t *p;
    int err = uaccess(mm, va, 0, &p);
    CHECK(err == 0, "read at %#lx: %d", va, err);
    for (unsigned i = 0; i < FR; i++)
        CHECK(p[i] == pat(seed, written, i), "byte %u of the page at %#lx (written at %#lx): "
              "%#x, expected %#x", i, va, written, p[i], pat(seed, written, i));
}

static void rpages(struct mm *mm, uint64_t va, uint64_t n, uint64_t seed)
{
    for (uint64_t i = 0; i < n; i++)
        rpage(mm, va + i * FR, seed);
}

static uint64_t xmmap(struct mm *mm, uint64_t addr, uint64_t len, unsigned prot, unsigned flags)
{
    uint64_t got = 0;
    int err = mm_mmap(mm, addr, len, prot, flags, NULL, 0, &got);
    CHECK(err == 0, "mmap(%#lx, %#lx, %#x, %#x): %d", addr, len, prot, flags, err);
    return got;
}

/* The leaf mapping va in mm (walk's error when none). */
static int leaf(struct mm *mm, uint64_t va, struct pt_view *v)
{
    return pt_walk(&mm->pt, va & ~(FR - 1), v);
}

/* The frame mapped at va (0 when none). */
static uint64_t pa_at(struct mm *mm, uint64_t va)
{
    struct pt_view v;
    return leaf(mm, va, &v) ? 0 : v.pa;
}

static struct page *page_at(struct mm *mm, uint64_t va)
{
    uint64_t pa = pa_at(mm, va);
    CHECK(pa, "nothing mapped at %#lx", va);
    return pfn_to_page(pa / FR);
}

/* ---- the reverse-map oracle ---------------------------------------------------------------- */

/* A present pte of a live process: which, where, what, and its VMA's kind. */
struct mapping {
    uint64_t pfn;
    int mm;
    uint64_t va;
    bool anon;      /* a private anonymous VMA (no file, object or page cache) */
    bool shm;       /* a shared anonymous object's VMA */
};

#define MAXMAP 16384
static struct mapping maps[MAXMAP];
static size_t nmaps;

struct collect {
    int mm;
    const struct vma *v;
};

static int collect_leaf(const struct pt_view *pv, void *arg)
{
    const struct collect *c = arg;
    CHECK(nmaps < MAXMAP, "more than %d ptes", MAXMAP);
    CHECK(pv->size == FR, "a %lu-byte leaf at %#lx in a user space", pv->size, pv->va);
    if (pv->payload)
        return 0;
    bool plain = !c->v->file && !c->v->shm && !c->v->mapping && !(c->v->flags & VMA_SHARED);
    maps[nmaps++] = (struct mapping){ pv->pa / FR, c->mm, pv->va, plain, c->v->shm != NULL };
    return 0;
}

static int by_pfn(const void *a, const void *b)
{
    const struct mapping *x = a, *y = b;
    if (x->pfn != y->pfn)
        return x->pfn < y->pfn ? -1 : 1;
    if (x->mm != y->mm)
        return x->mm - y->mm;
    return x->va < y->va ? -1 : x->va > y->va;
}

/* Every present pte of every live process, sorted by frame. */
static void collect_all(void)
{
    nmaps = 0;
    for (int i = 0; i < NMM; i++) {
        if (!used[i])
            continue;
        for (const struct vma *v = mms[i].vmas; v; v = v->next) {
            struct collect c = { i, v };
            int err = pt_for_each(&mms[i].pt, v->start, v->end, collect_leaf, &c);
            CHECK(err == 0, "pt_for_each: %d", err);
        }
    }
    qsort(maps, nmaps, sizeof(maps[0]), by_pfn);
}

/* What rmap_walk reported. */
#define MAXHIT 64
static struct mapping hits[MAXHIT];
static size_t nhits;
static uint64_t walk_pa;

static int note_hit(const struct rmap_hit *h, void *arg)
{
    (void)arg;
    CHECK(nhits < MAXHIT, "rmap_walk: more than %d hits", MAXHIT);
    CHECK(h->mm >= mms && h->mm < mms + NMM && used[h->mm - mms], "a hit in no live mm");
    CHECK(h->pv.pa == walk_pa, "a hit at %#lx maps %#lx, not %#lx", h->pv.va, h->pv.pa, walk_pa);
    CHECK(h->vma && h->vma->mm == h->mm && h->vma->start <= h->pv.va && h->pv.va < h->vma->end,
          "the hit at %#lx is not in its VMA", h->pv.va);
    hits[nhits++] = (struct mapping){ walk_pa / FR, (int)(h->mm - mms), h->pv.va, true, false };
    return 0;
}

static void walk(struct page *pg)
{
    nhits = 0;
    walk_pa = page_to_phys(pg);
    int rc = rmap_walk(pg, note_hit, NULL);
    CHECK(rc == 0, "rmap_walk returned %d", rc);
    qsort(hits, nhits, sizeof(hits[0]), by_pfn);
    EQ(rmap_count(pg), nhits);
}

/* rmap_walk of frame group maps[s, e) must give exactly that set. */
static void oracle_group(size_t s, size_t e)
{
    struct page *pg = pfn_to_page(maps[s].pfn);
    bool anon = true, shm = false;
    for (size_t i = s; i < e; i++) {
        anon = anon && maps[i].anon;
        shm = shm || maps[i].shm;
    }
    if (maps[s].pfn * FR == mm_zero_page()) {
        walk(pg);
        EQ(nhits, 0);
        return;
    }
    if (shm) {
        walk(pg);
        CHECK(nhits == 0, "a shared object's frame %#lx has %zu reverse-map hits",
              maps[s].pfn * FR, nhits);
        return;
    }
    if (!anon)
        return;
    CHECK(pg->flags & PG_ANON, "frame %#lx of a private anonymous VMA is not PG_ANON",
          maps[s].pfn * FR);
    walk(pg);
    CHECK(nhits == e - s, "frame %#lx: %zu ptes map it, rmap_walk found %zu", maps[s].pfn * FR,
          e - s, nhits);
    for (size_t i = 0; i < nhits; i++)
        CHECK(hits[i].mm == maps[s + i].mm && hits[i].va == maps[s + i].va,
              "frame %#lx: rmap_walk found mm %d %#lx, the tables say mm %d %#lx",
              maps[s].pfn * FR, hits[i].mm, hits[i].va, maps[s + i].mm, maps[s + i].va);
}

static void oracle(void)
{
    collect_all();
    for (size_t s = 0, e; s < nmaps; s = e) {
        for (e = s + 1; e < nmaps && maps[e].pfn == maps[s].pfn; e++)
            ;
        oracle_group(s, e);
    }
}

/* How many ptes of live processes map pa (by the tables). */
static size_t mapped_count(uint64_t pa)
{
    collect_all();
    size_t n = 0;
    for (size_t i = 0; i < nmaps; i++)
        n += maps[i].pfn == pa / FR;
    return n;
}

/* A pin (or a kernel reference) is held: the frame has more references
 * than mappings, which mm_check_consistency and mm_check_frames (exact
 * counts) rightly call wrong for an address space alone. */
static void check_all(void)
{
    char why[256];
    struct mm *live[NMM];
    size_t n = 0;
    for (int i = 0; i < NMM; i++) {
        if (!used[i])
            continue;
        struct mm *mm = &mms[i];
        CHECK(pinned_now || mm_check_consistency(mm, why, sizeof(why)) == 0, "mm %d: %s", i,
              why);
        CHECK(pt_check(&mm->pt, why, sizeof(why)) == 0, "mm %d: pt_check: %s", i, why);
        CHECK(rmap_check_mm(mm, why, sizeof(why)) == 0, "mm %d: rmap_check_mm: %s", i, why);
        if (is32) {
            CHECK(mmu32_check(mm, why, sizeof(why)) == 0, "mm %d: mmu32_check: %s", i, why);
            CHECK(pt_check(mmu32_hw(mm), why, sizeof(why)) == 0, "mm %d: hw pt_check: %s", i,
                  why);
        }
        live[n++] = mm;
    }
    CHECK(pinned_now || mm_check_frames(live, n, why, sizeof(why)) == 0, "mm_check_frames: %s",
          why);
    CHECK(node_check(why, sizeof(why)) == 0, "node_check: %s", why);
    CHECK(slab_check(why, sizeof(why)) == 0, "slab_check: %s", why);
    CHECK(mm_host_node.errors == 0, "allocator errors: %s", mm_host_last_report());
    oracle();
}

static void teardown(void)
{
    for (int i = 0; i < NMM; i++)
        if (used[i])
            drop_mm(&mms[i]);
    check_all();
    EQ(frames_now(), base_frames);
    EQ(slab_live_objects(), base_live);
}

/* ---- snapshots: "nothing changed" ----------------------------------------------------------- */

struct pte_rec {
    int mm;
    bool hw;
    uint64_t va, pa;
    unsigned prot;
    bool accessed, dirty;
};

#define MAXPTE 16384
struct snap {
    size_t n;
    struct pte_rec r[MAXPTE];
    struct page desc;
    bool has_desc;
    uint64_t free, frames;
    uint8_t bytes[FR];
    bool has_bytes;
};
static struct snap snap_a, snap_b;

struct snap_ctx {
    struct snap *s;
    int mm;
    bool hw;
};

static int snap_leaf(const struct pt_view *v, void *arg)
{
    struct snap_ctx *c = arg;
    CHECK(c->s->n < MAXPTE, "snapshot full");
    c->s->r[c->s->n++] = (struct pte_rec){ c->mm, c->hw, v->va, v->pa, v->prot, v->accessed,
                                           v->dirty };
    return 0;
}

static void take(struct snap *s, struct page *pg)
{
    s->n = 0;
    for (int i = 0; i < NMM; i++) {
        if (!used[i])
            continue;
        struct snap_ctx c = { s, i, false };
        for (const struct vma *v = mms[i].vmas; v; v = v->next)
            CHECK(pt_for_each(&mms[i].pt, v->start, v->end, snap_leaf, &c) == 0, "walk");
        if (is32) {
            c.hw = true;
            CHECK(pt_for_each(mmu32_hw(&mms[i]), MM_MIN_ADDR, MM_VA_END_32, snap_leaf, &c) == 0,
                  "hw walk");
        }
    }
    uint64_t pfn = (uint64_t)(pg - node0->mem_map);
    s->has_desc = pfn < node0->max_pfn;
    if (s->has_desc)
        s->desc = *pg;
    s->has_bytes = s->has_desc && mm_host_is_ram(pfn * FR, FR);
    if (s->has_bytes)
        memcpy(s->bytes, mm_host_arena() + pfn * FR, FR);
    s->free = nr_free_pages();
    s->frames = frames_now();
}

static void same(const struct snap *a, const struct snap *b)
{
    EQ(b->n, a->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct pte_rec *x = &a->r[i], *y = &b->r[i];
        CHECK(x->mm == y->mm && x->hw == y->hw && x->va == y->va && x->pa == y->pa &&
                  x->prot == y->prot && x->accessed == y->accessed && x->dirty == y->dirty,
              "mm %d%s %#lx: %#lx prot %#x A%d D%d became mm %d%s %#lx: %#lx prot %#x A%d D%d",
              x->mm, x->hw ? " hw" : "", x->va, x->pa, x->prot, x->accessed, x->dirty, y->mm,
              y->hw ? " hw" : "", y->va, y->pa, y->prot, y->accessed, y->dirty);
    }
    CHECK(a->has_desc == b->has_desc && (!a->has_desc || !memcmp(&a->desc, &b->desc,
                                                                  sizeof(a->desc))),
          "the page's descriptor changed");
    CHECK(!a->has_bytes || !memcmp(a->bytes, b->bytes, FR), "the page's bytes changed");
    EQ(b->free, a->free);
    EQ(b->frames, a->frames);
}

/* ---- migration ------------------------------------------------------------------------------ */

/* The test's target allocators: record the zone limit asked for. */
static unsigned alloc_calls;
static gfp_t alloc_gfp;

static struct page *alloc_counted(gfp_t gfp, void *arg)
{
    alloc_calls++;
    alloc_gfp = gfp;
    return migrate_alloc_any(gfp, arg);
}

static struct page *alloc_none(gfp_t gfp, void *arg)
{
    (void)arg;
    alloc_calls++;
    alloc_gfp = gfp;
    return NULL;
}

/* A target from the DMA zone (a test of where the page can go). */
static struct page *alloc_dma(gfp_t gfp, void *arg)
{
    (void)arg;
    alloc_calls++;
    alloc_gfp = gfp;
    return alloc_pages(__GFP_DMA | GFP_HIGHUSER_MOVABLE | __GFP_NOWARN, 0);
}

/* Is pa mapped by an i386 table of a live process? */
static bool mapped_by_32(uint64_t pa)
{
    collect_all();
    for (size_t i = 0; i < nmaps; i++)
        if (maps[i].pfn == pa / FR && mm_is32(&mms[maps[i].mm]))
            return true;
    return false;
}

/*
 * Move pg (mapped by private anonymous VMAs only) with alloc and check
 * what migrate_page promises; returns the new page.
 */
static struct page *migrated_by(struct page *pg, migrate_alloc_t alloc)
{
    static uint8_t before[FR];
    uint64_t old_pa = page_to_phys(pg);
    collect_all();
    static struct mapping was[MAXHIT];
    static struct pt_view views[MAXHIT];
    size_t nwas = 0;
    for (size_t i = 0; i < nmaps; i++)
        if (maps[i].pfn == old_pa / FR) {
            CHECK(nwas < MAXHIT, "too many mappings");
            was[nwas] = maps[i];
            CHECK(leaf(&mms[maps[i].mm], maps[i].va, &views[nwas]) == 0, "walk");
            nwas++;
        }
    CHECK(nwas > 0, "frame %#lx is not mapped", old_pa);
    bool by32 = mapped_by_32(old_pa);
    memcpy(before, mm_host_arena() + old_pa, FR);
    struct page old = *pg;
    uint64_t ok0 = vm_events[PGMIGRATE_SUCCESS], fail0 = vm_events[PGMIGRATE_FAIL];
    uint64_t frames0 = frames_now();
    EQ(migrate_check(pg), MIGRATE_OK);
    alloc_calls = 0;
    struct page *np = NULL;
    enum migrate_result why = NR_MIGRATE_RESULTS;
    int rc = migrate_page(pg, alloc, NULL, &np, &why);
    CHECK(rc == 0 && why == MIGRATE_OK, "migrate_page of %#lx: %d (%s)", old_pa, rc,
          migrate_result_str(why));
    EQ(alloc_calls, 1);
    CHECK((alloc_gfp & __GFP_DMA32) == (by32 ? __GFP_DMA32 : 0),
          "the target was asked with gfp %#x (an i386 table maps the page: %d)", alloc_gfp, by32);
    CHECK(np && np != pg, "no new page");
    uint64_t new_pa = page_to_phys(np);
    CHECK(!by32 || new_pa + FR <= TOP, "an i386-mapped page moved above 4 GiB (%#lx)", new_pa);
    CHECK(!memcmp(before, mm_host_arena() + new_pa, FR), "the bytes did not follow");
    EQ(page_count(pg), 0);                 /* the old frame is free */
    EQ(pg->mapping, 0);
    EQ(page_count(np), old.refcount);
    CHECK(np->flags & PG_ANON, "the new page is not PG_ANON");
    EQ(np->mapping, old.mapping);
    EQ(np->index, old.index);
    EQ(np->order, 0);
    /* (an i386 space may have dropped derived table pages with the
     * flush of its entry: more frames free, never fewer) */
    CHECK(is32 ? frames_now() >= frames0 : frames_now() == frames0, "frames: %lu, %lu before",
          frames_now(), frames0);
    EQ(vm_events[PGMIGRATE_SUCCESS], ok0 + 1);
    EQ(vm_events[PGMIGRATE_FAIL], fail0);
    for (size_t i = 0; i < nwas; i++) {
        struct mm *mm = &mms[was[i].mm];
        struct pt_view v;
        CHECK(leaf(mm, was[i].va, &v) == 0, "mm %d %#lx: unmapped by the move", was[i].mm,
              was[i].va);
        CHECK(v.pa == new_pa, "mm %d %#lx maps %#lx, not the new %#lx", was[i].mm, was[i].va,
              v.pa, new_pa);
        CHECK(v.prot == views[i].prot && v.accessed == views[i].accessed &&
                  v.dirty == views[i].dirty,
              "mm %d %#lx: prot %#x A%d D%d became %#x A%d D%d", was[i].mm, was[i].va,
              views[i].prot, views[i].accessed, views[i].dirty, v.prot, v.accessed, v.dirty);
        if (mm_is32(mm) && pt_walk(mmu32_hw(mm), was[i].va, &v) == 0)
            CHECK(v.pa == new_pa, "mm %d %#lx: the derived entry maps %#lx, not %#lx",
                  was[i].mm, was[i].va, v.pa, new_pa);
    }
    check_all();
    EQ(rmap_count(np), nwas);
    EQ(mapped_count(old_pa), 0);
    return np;
}

static struct page *migrated(struct page *pg)
{
    return migrated_by(pg, alloc_counted);
}

/* Move the page mapped at va of mm. */
static struct page *migrate_at(struct mm *mm, uint64_t va)
{
    return migrated(page_at(mm, va));
}

/* migrate_page(pg) must fail with want (and err), changing nothing. */
static void refused_by(struct page *pg, migrate_alloc_t alloc, enum migrate_result want, int err)
{
    take(&snap_a, pg);
    uint64_t ok0 = vm_events[PGMIGRATE_SUCCESS], fail0 = vm_events[PGMIGRATE_FAIL];
    if (want != MIGRATE_NOMEM)
        CHECK(migrate_check(pg) == want, "migrate_check: %s, expected %s",
              migrate_result_str(migrate_check(pg)), migrate_result_str(want));
    else
        EQ(migrate_check(pg), MIGRATE_OK);
    alloc_calls = 0;
    struct page *np = (struct page *)0x1;
    enum migrate_result why = NR_MIGRATE_RESULTS;
    int rc = migrate_page(pg, alloc, NULL, &np, &why);
    CHECK(rc == err && why == want, "migrate_page: %d (%s), expected %d (%s)", rc,
          why < NR_MIGRATE_RESULTS ? migrate_result_str(why) : "?", err,
          migrate_result_str(want));
    EQ(alloc_calls, want == MIGRATE_NOMEM);   /* others: refused before taking a target */
    EQ(vm_events[PGMIGRATE_SUCCESS], ok0);
    EQ(vm_events[PGMIGRATE_FAIL], fail0 + 1);
    take(&snap_b, pg);
    same(&snap_a, &snap_b);
    /* the same without the optional outputs */
    rc = migrate_page(pg, alloc, NULL, NULL, NULL);
    EQ(rc, err);
    take(&snap_b, pg);
    same(&snap_a, &snap_b);
    check_all();
}

static void refused(struct page *pg, enum migrate_result want, int err)
{
    refused_by(pg, alloc_counted, want, err);
}

/* ---- cases ------------------------------------------------------------------------------------ */

#define A 0x400000ul

/* Demand faults: each anonymous page found once; moving keeps bytes,
 * rights and state, read-only and never-written pages included. */
CASE(fault_and_migrate)
{
    setup();
    struct mm *mm = new_mm();
    EQ(xmmap(mm, A, 8 * FR, RW, FIXED), A);
    wpages(mm, A, 6, 1);
    rpage(mm, A + 6 * FR, 0);                   /* the zero page */
    check_all();
    for (int i = 0; i < 6; i++)
        EQ(rmap_count(page_at(mm, A + i * FR)), 1);
    struct page *zp = page_at(mm, A + 6 * FR);
    EQ(page_to_phys(zp), mm_zero_page());
    EQ(rmap_count(zp), 0);
    refused(zp, MIGRATE_UNMOVABLE, -EINVAL);
    /* a read-only page keeps its rights (migrated_by compares every
     * pte's rights, accessed and dirty bits before and after) */
    struct pt_view v;
    EQ(mm_mprotect(mm, A + 2 * FR, FR, PROT_READ), 0);
    check_all();
    for (int i = 5; i >= 0; i--)
        migrate_at(mm, A + i * FR);
    rpages(mm, A, 2, 1);
    rpage(mm, A + 2 * FR, 1);
    rpages(mm, A + 3 * FR, 3, 1);
    CHECK(leaf(mm, A + 2 * FR, &v) == 0 && !(v.prot & PT_W), "the read-only page is writable");
    uint8_t *p;
    EQ(uaccess(mm, A + 2 * FR, FAULT_WRITE, &p), -EFAULT);
    /* moved twice, and back to writing */
    migrate_at(mm, A);
    migrate_at(mm, A);
    wpage(mm, A, 2);
    rpage(mm, A, 2);
    check_all();
    teardown();
}

/* fork's CoW sharing: one frame, found in every process; moved, all of
 * them see the new frame; a CoW break splits the set. */
CASE(fork_cow)
{
    setup();
    struct mm *p = new_mm();
    EQ(xmmap(p, A, 4 * FR, RW, FIXED), A);
    wpages(p, A, 4, 3);
    struct mm *c = fork_mm(p);
    struct mm *g = fork_mm(c);
    check_all();
    struct page *pg = page_at(p, A);
    EQ(page_at(c, A), pg);
    EQ(page_at(g, A), pg);
    EQ(rmap_count(pg), 3);
    EQ(page_count(pg), 3);
    struct page *np = migrated(pg);
    EQ(rmap_count(np), 3);
    EQ(page_at(c, A), np);
    EQ(page_at(g, A), np);
    rpage(p, A, 3);
    rpage(c, A, 3);
    rpage(g, A, 3);
    /* the child breaks the sharing: two frames, 2 + 1 mappings */
    wpage(c, A, 4);
    check_all();
    EQ(rmap_count(np), 2);
    struct page *cp = page_at(c, A);
    CHECK(cp != np, "no copy");
    EQ(rmap_count(cp), 1);
    migrated(cp);
    migrated(page_at(g, A));
    rpage(p, A, 3);
    rpage(g, A, 3);
    rpage(c, A, 4);
    /* the parent's write after the child's exit */
    drop_mm(g);
    check_all();
    EQ(rmap_count(page_at(p, A)), 1);
    wpage(p, A, 5);                  /* referenced once: reused, no copy */
    check_all();
    EQ(rmap_count(page_at(p, A + FR)), 2);
    migrate_at(c, A + FR);
    drop_mm(c);
    check_all();
    for (int i = 1; i < 4; i++)
        EQ(rmap_count(page_at(p, A + i * FR)), 1);
    migrate_at(p, A + 3 * FR);
    rpage(p, A, 5);
    rpages(p, A + FR, 3, 3);
    teardown();
}

/* munmap of part of a VMA: the halves still find their pages, in the
 * parent where it was cut and in the child where it was not. */
CASE(munmap_part)
{
    setup();
    struct mm *p = new_mm();
    EQ(xmmap(p, A, 10 * FR, RW, FIXED), A);
    wpages(p, A, 10, 6);
    struct mm *c = fork_mm(p);
    EQ(mm_munmap(p, A + 3 * FR, 2 * FR), 0);       /* middle */
    EQ(mm_munmap(p, A, FR), 0);                    /* head */
    EQ(mm_munmap(p, A + 9 * FR, FR), 0);           /* tail */
    check_all();
    EQ(rmap_count(page_at(c, A + 3 * FR)), 1);     /* only the child now */
    EQ(rmap_count(page_at(c, A + 2 * FR)), 2);
    EQ(rmap_count(page_at(c, A + 5 * FR)), 2);
    migrate_at(c, A + 3 * FR);
    migrate_at(p, A + 2 * FR);
    migrate_at(p, A + 5 * FR);
    migrate_at(c, A + 9 * FR);
    rpages(p, A + FR, 2, 6);
    rpages(p, A + 5 * FR, 4, 6);
    rpages(c, A, 10, 6);
    /* the child unmaps what the parent keeps: back to one mapping each */
    EQ(mm_munmap(c, A, 10 * FR), 0);
    check_all();
    EQ(rmap_count(page_at(p, A + 6 * FR)), 1);
    migrate_at(p, A + 6 * FR);
    rpages(p, A + 5 * FR, 4, 6);
    teardown();
}

/* mprotect splits a VMA in three and merges it back; pages on both sides
 * of each cut are found and move. */
CASE(mprotect_split_merge)
{
    setup();
    struct mm *p = new_mm();
    EQ(xmmap(p, A, 8 * FR, RW, FIXED), A);
    wpages(p, A, 8, 7);
    struct mm *c = fork_mm(p);
    EQ(mm_mprotect(p, A + 3 * FR, 2 * FR, PROT_READ), 0);
    check_all();
    EQ(p->nr_vmas, 3);
    for (int i = 2; i < 6; i++)
        EQ(rmap_count(page_at(p, A + i * FR)), 2);
    migrate_at(p, A + 2 * FR);
    migrate_at(p, A + 3 * FR);
    migrate_at(c, A + 4 * FR);
    migrate_at(p, A + 5 * FR);
    wpage(p, A + 2 * FR, 8);       /* a CoW break beside the cut */
    check_all();
    EQ(mm_mprotect(p, A, 8 * FR, RW), 0);
    check_all();
    EQ(p->nr_vmas, 1);
    migrate_at(p, A + 2 * FR);
    migrate_at(p, A + 4 * FR);
    rpage(p, A + 2 * FR, 8);
    rpages(p, A + 3 * FR, 5, 7);
    rpages(c, A, 8, 7);
    /* two VMAs with pages of their own made compatible by mprotect:
     * merged or not, each page is found */
    uint64_t b = A + 64 * FR;
    EQ(xmmap(p, b, 2 * FR, RW, FIXED), b);
    EQ(xmmap(p, b + 2 * FR, 2 * FR, RW | PROT_EXEC, FIXED), b + 2 * FR);
    wpages(p, b, 4, 9);
    EQ(mm_mprotect(p, b + 2 * FR, 2 * FR, RW), 0);
    check_all();
    for (int i = 0; i < 4; i++)
        migrate_at(p, b + i * FR);
    rpages(p, b, 4, 9);
    teardown();
}

/* mremap: grow in place, move (the pages keep their index and are found
 * at the new address), move while a child shares them at the old one. */
CASE(mremap_move_grow)
{
    setup();
    struct mm *p = new_mm();
    uint64_t n;
    EQ(xmmap(p, A, 4 * FR, RW, FIXED), A);
    wpages(p, A, 4, 10);
    EQ(mm_mremap(p, A, 4 * FR, 6 * FR, 0, 0, &n), 0);         /* grow in place */
    EQ(n, A);
    wpages(p, A + 4 * FR, 2, 11);
    check_all();
    migrate_at(p, A + FR);
    migrate_at(p, A + 5 * FR);
    EQ(xmmap(p, A + 6 * FR, FR, PROT_READ, FIXED), A + 6 * FR); /* in the way */
    EQ(mm_mremap(p, A, 6 * FR, 8 * FR, MREMAP_MAYMOVE, 0, &n), 0);
    CHECK(n != A, "did not move");
    check_all();
    for (int i = 0; i < 6; i++)
        EQ(rmap_count(page_at(p, n + i * FR)), 1);
    migrate_at(p, n);
    migrate_at(p, n + 4 * FR);
    wpages(p, n + 6 * FR, 2, 12);                              /* the grown part */
    check_all();
    migrate_at(p, n + 7 * FR);
    /* the pattern depends on the address: read back where written */
    for (int i = 0; i < 4; i++) {
        uint8_t *q;
        EQ(uaccess(p, n + i * FR, 0, &q), 0);
        CHECK(q[100] == pat(10, A + i * FR, 100), "page %d lost its bytes in the move", i);
    }
    /* a child shares the pages; the parent moves them to a fixed place:
     * one frame at two addresses, found at both */
    struct mm *c = fork_mm(p);
    uint64_t was = n, to = A + 256 * FR;
    EQ(mm_mremap(p, n, 8 * FR, 8 * FR, MREMAP_MAYMOVE | MREMAP_FIXED, to, &n), 0);
    EQ(n, to);
    check_all();
    struct page *pg = page_at(p, to + 7 * FR);
    EQ(page_at(c, was + 7 * FR), pg);
    EQ(rmap_count(pg), 2);
    struct page *np = migrated(pg);
    EQ(page_at(c, was + 7 * FR), np);
    EQ(page_at(p, to + 7 * FR), np);
    EQ(rmap_count(np), 2);
    rpage_from(p, to + 6 * FR, 12, was + 6 * FR);
    rpage_from(p, to + 7 * FR, 12, was + 7 * FR);
    rpages(c, was + 6 * FR, 2, 12);
    migrated(page_at(c, was + 6 * FR));
    /* the parent grows it again, moving once more */
    EQ(xmmap(p, to + 8 * FR, FR, PROT_READ, FIXED), to + 8 * FR);
    EQ(mm_mremap(p, to, 8 * FR, 12 * FR, MREMAP_MAYMOVE, 0, &n), 0);
    check_all();
    migrate_at(p, n + 6 * FR);
    wpage(p, n + 6 * FR, 13);
    check_all();
    migrate_at(p, n + 6 * FR);
    rpage(p, n + 6 * FR, 13);
    teardown();
}

/* A stack that grows down: the new pages belong to the same VMA and are
 * found through it; after a fork, in both. */
CASE(stack_growth)
{
    setup();
    struct mm *mm = new_mm();
    uint64_t top = stack_top();
    EQ(xmmap(mm, top - FR, FR, RW, FIXED | MAP_GROWSDOWN), top - FR);
    mm->stack_guard = 256 * FR;
    wpage(mm, top - FR, 20);
    wpage(mm, top - 4 * FR, 21);            /* grows three pages down */
    check_all();
    EQ(vma_lookup(mm, top - 4 * FR)->start, top - 4 * FR);
    EQ(rmap_count(page_at(mm, top - 4 * FR)), 1);
    migrate_at(mm, top - 4 * FR);
    migrate_at(mm, top - FR);
    struct mm *c = fork_mm(mm);
    wpage(c, top - 6 * FR, 22);             /* the child's stack grows */
    check_all();
    EQ(rmap_count(page_at(c, top - FR)), 2);
    migrate_at(c, top - FR);
    migrate_at(c, top - 6 * FR);
    wpage(mm, top - 8 * FR, 23);            /* the parent's, further */
    check_all();
    migrate_at(mm, top - 8 * FR);
    rpage(mm, top - FR, 20);
    rpage(c, top - FR, 20);
    rpage(mm, top - 4 * FR, 21);
    rpage(c, top - 6 * FR, 22);
    rpage(mm, top - 8 * FR, 23);
    teardown();
}

/* MAP_SHARED anonymous memory (a vm_shm on the host): no reverse map, so
 * its frames cannot move; the private pages beside them still can. */
CASE(shared_anon)
{
    setup();
    struct mm *p = new_mm();
    EQ(xmmap(p, A, 3 * FR, RW, SHARED_FIXED), A);
    EQ(xmmap(p, A + 3 * FR, 2 * FR, RW, FIXED), A + 3 * FR);
    wpages(p, A, 5, 30);
    struct mm *c = fork_mm(p);
    check_all();
    struct page *sp = page_at(p, A + FR);
    EQ(page_at(c, A + FR), sp);
    EQ(rmap_count(sp), 0);
    refused(sp, MIGRATE_UNMOVABLE, -EINVAL);
    migrate_at(p, A + 3 * FR);
    wpage(c, A + 2 * FR, 31);           /* shared: the parent sees it */
    rpage(p, A + 2 * FR, 31);
    refused(page_at(c, A + 2 * FR), MIGRATE_UNMOVABLE, -EINVAL);
    rpages(c, A + 3 * FR, 2, 30);
    teardown();
}

/* Frames that cannot move, each with its reason, and nothing changed. */
CASE(refusals)
{
    setup();
    struct mm *mm = new_mm();
    EQ(xmmap(mm, A, 4 * FR, RW, FIXED), A);
    wpages(mm, A, 4, 40);
    check_all();
    /* free */
    struct page *f = alloc_pages(GFP_KERNEL, 0);
    CHECK(f, "no page");
    __free_pages(f, 0);
    drain_pcp();
    refused(f, MIGRATE_FREE, -EINVAL);
    /* reserved: below the first RAM range */
    refused(pfn_to_page(16), MIGRATE_RESERVED, -EINVAL);
    /* past the memory map */
    refused(pfn_to_page(node0->max_pfn), MIGRATE_NOT_RAM, -EINVAL);
    refused(pfn_to_page(node0->max_pfn + 1000), MIGRATE_NOT_RAM, -EINVAL);
    /* a block of order 2: its head and a tail */
    struct page *b = alloc_pages(GFP_HIGHUSER_MOVABLE, 2);
    CHECK(b, "no block");
    refused(b + 2, MIGRATE_TAIL, -EINVAL);
    refused(b + 1, MIGRATE_TAIL, -EINVAL);
    refused(b, MIGRATE_COMPOUND, -EINVAL);
    __free_pages(b, 2);
    /* the zero page, a kernel page, a slab page, a page-table page */
    refused(pfn_to_page(mm_zero_page() / FR), MIGRATE_UNMOVABLE, -EINVAL);
    struct page *k = alloc_pages(GFP_KERNEL, 0);
    CHECK(k, "no page");
    refused(k, MIGRATE_UNMOVABLE, -EINVAL);
    __free_pages(k, 0);
    void *obj = kmalloc(64, GFP_KERNEL);
    CHECK(obj, "no object");
    struct page *sl = virt_to_page(obj);
    if (sl->refcount && sl->order == 0)  /* the head of an order-0 slab */
        refused(sl, MIGRATE_UNMOVABLE, -EINVAL);
    kfree(obj);
    refused(pfn_to_page(mm->pt.root / FR), MIGRATE_UNMOVABLE, -EINVAL);
    /* pinned: more references than mappings */
    struct page *pin = NULL;
    EQ(pin_user_page(mm, A + FR + 123, &pin), 0);
    EQ(pin, page_at(mm, A + FR));
    EQ(page_count(pin), 2);
    pinned_now = true;
    refused(pin, MIGRATE_PINNED, -EBUSY);
    pinned_now = false;
    unpin_user_page(pin);
    EQ(page_count(pin), 1);
    migrate_at(mm, A + FR);
    /* a pin of nothing */
    struct page *none = (struct page *)0x1;
    EQ(pin_user_page(mm, A + 64 * FR, &none), -EFAULT);
    EQ(pin_user_page(mm, A + 8 * FR, &none), -EFAULT);
    /* a page the kernel holds a reference to (a copy in progress) */
    struct page *held = page_at(mm, A + 2 * FR);
    EQ(get_page(held), 2);
    pinned_now = true;
    refused(held, MIGRATE_PINNED, -EBUSY);
    pinned_now = false;
    EQ(put_page(held), 1);
    migrate_at(mm, A + 2 * FR);
    /* every reason has its own word */
    for (int i = 0; i < NR_MIGRATE_RESULTS; i++) {
        const char *s = migrate_result_str((enum migrate_result)i);
        CHECK(s && *s, "reason %d has no word", i);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(s, migrate_result_str((enum migrate_result)j)),
                  "reasons %d and %d are both \"%s\"", j, i, s);
    }
    HT_EQ_STR_J(migrate_result_str(MIGRATE_FREE), "free");
    HT_EQ_STR_J(migrate_result_str(MIGRATE_PINNED), "pinned");
    rpages(mm, A, 4, 40);
    teardown();
}

/* A target allocator with nothing to give: -ENOMEM, nothing changed; the
 * target's zone can be any the caller wants (DMA here). */
CASE(no_target)
{
    setup();
    struct mm *p = new_mm();
    EQ(xmmap(p, A, 2 * FR, RW, FIXED), A);
    wpages(p, A, 2, 50);
    struct mm *c = fork_mm(p);
    check_all();
    refused_by(page_at(p, A), alloc_none, MIGRATE_NOMEM, -ENOMEM);
    CHECK((alloc_gfp & __GFP_DMA32) == (is32 ? __GFP_DMA32 : 0), "gfp %#x", alloc_gfp);
    struct page *np = migrated_by(page_at(c, A + FR), alloc_dma);
    EQ(np->zone, ZONE_DMA);
    CHECK(page_to_phys(np) < ZONE_DMA_END, "not in the DMA zone");
    rpages(p, A, 2, 50);
    rpages(c, A, 2, 50);
    teardown();
}

/* ---- memory pressure ---------------------------------------------------------------------------- */

static struct page *hoard[16384];
static size_t nhoard;
static void *held;              /* kmalloc objects, linked through their first word */

static void hold_all(size_t size)
{
    void *o;
    while ((o = kmalloc(size, GFP_KERNEL | __GFP_NOWARN))) {
        *(void **)o = held;
        held = o;
    }
}

static void give_back(void)
{
    while (nhoard)
        __free_pages(hoard[--nhoard], 0);
    while (held) {
        void *o = held;
        held = *(void **)o;
        kfree(o);
    }
}

/*
 * The first anonymous page of the system when the reverse map's handle
 * table can be had but the anon_vma cannot: the fault fails with -ENOMEM
 * and, once everything is gone, no memory is left held (mm/rmap.c frees
 * its table when no anon_vma is left).  The table's first size is 16
 * slots of 16 bytes (256 bytes): one free object of that class is left.
 */
CASE(anon_vma_enomem)
{
    setup();
    struct mm *mm = new_mm();
    EQ(xmmap(mm, A, 4 * FR, RW, FIXED), A);
    struct page *p;
    slab_shrink_all();
    void *first = kmalloc(256, GFP_KERNEL);   /* a slab of that class exists */
    CHECK(first, "no memory");
    *(void **)first = held;
    held = first;
    uint64_t (*shrink)(void) = mm_host_node.shrink;
    mm_host_node.shrink = NULL;
    while ((p = alloc_pages(__GFP_MEMALLOC | __GFP_NOWARN, 0))) {
        CHECK(nhoard < HT_COUNT(hoard), "arena larger than the hoard");
        hoard[nhoard++] = p;
    }
    hold_all(256);
    void *last = held;              /* the 256-byte object taken last */
    held = *(void **)last;
    hold_all(sizeof(struct anon_vma));
    kfree(last);                    /* one free object of 256 bytes, none for an anon_vma */
    uint8_t *q;
    int err = uaccess(mm, A, FAULT_WRITE, &q);
    mm_host_node.shrink = shrink;
    give_back();
    EQ(err, -ENOMEM);
    check_all();
    drop_mm(mm);
    uint64_t live = slab_live_objects();
    /* With memory again (this also empties a table left behind, so that
     * a failure here does not reach the next case). */
    mm = new_mm();
    EQ(xmmap(mm, A, 4 * FR, RW, FIXED), A);
    wpage(mm, A, 60);
    rpage(mm, A, 60);
    check_all();
    teardown();
    CHECK(live == base_live, "%lu slab objects live with no address space, %lu before: the "
          "failed anon_vma_prepare left its handle table", live, base_live);
}

/* ---- random sequences ------------------------------------------------------------------------- */

#define NP 48     /* pages of the window */
#define WBASE 0x800000ul

/* The model: per process slot and page, the seed the page holds (0:
 * zeros), and whether it is mapped; its protection. */
static struct rmodel {
    bool mapped[NP];
    bool ro[NP];
    uint32_t seed[NP];
} model[NMM];

static uint64_t rng = 88172645463325252ul;
static uint64_t rnd(uint64_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return n ? rng % n : 0;
}

static uint64_t wva(unsigned i)
{
    return WBASE + i * FR;
}

static struct mm *pick_live(int *slot)
{
    int k = (int)rnd(NMM);
    for (int i = 0; i < NMM; i++)
        if (used[(k + i) % NMM]) {
            *slot = (k + i) % NMM;
            return &mms[*slot];
        }
    FAIL("no live process");
}

/* Every page of every process against the model, without faulting in
 * anything new (absent pages must read zero when a fault would come). */
static void model_check(void)
{
    for (int s = 0; s < NMM; s++) {
        if (!used[s])
            continue;
        for (unsigned i = 0; i < NP; i++) {
            struct vma *v = vma_lookup(&mms[s], wva(i));
            CHECK(!!v == model[s].mapped[i], "mm %d page %u: mapped %d, model %d", s, i, !!v,
                  model[s].mapped[i]);
            uint64_t pa = pa_at(&mms[s], wva(i));
            if (!pa) {
                CHECK(!model[s].seed[i], "mm %d page %u lost its data", s, i);
                continue;
            }
            const uint8_t *p = mm_host_arena() + pa;
            for (unsigned k = 0; k < FR; k += 511)
                CHECK(p[k] == (model[s].seed[i] ? pat(model[s].seed[i], wva(i), k) : 0),
                      "mm %d page %u byte %u: %#x", s, i, k, p[k]);
        }
    }
}

/* A random present frame of a random process (NULL when none). */
static struct page *random_frame(void)
{
    collect_all();
    if (!nmaps)
        return NULL;
    return pfn_to_page(maps[rnd(nmaps)].pfn);
}

CASE(random)
{
    setup();
    memset(model, 0, sizeof(model));
    struct mm *first = new_mm();
    EQ(xmmap(first, WBASE, NP * FR, RW, FIXED), WBASE);
    for (unsigned i = 0; i < NP; i++)
        model[first - mms].mapped[i] = true;
    unsigned moved = 0, steps = 600;
    uint32_t seed = 100;
    for (unsigned step = 0; step < steps; step++) {
        int s;
        struct mm *mm = pick_live(&s);
        struct rmodel *m = &model[s];
        unsigned i = (unsigned)rnd(NP), n = 1 + (unsigned)rnd(6);
        if (i + n > NP)
            n = NP - i;
        switch (rnd(10)) {
        case 0:
        case 1:
        case 2:   /* write a page */
            if (m->mapped[i] && !m->ro[i]) {
                wpage(mm, wva(i), ++seed);
                m->seed[i] = seed;
            }
            break;
        case 3:   /* read a page (maps the zero page when never written) */
            if (m->mapped[i])
                rpage(mm, wva(i), m->seed[i]);
            break;
        case 4: { /* fork or exit */
            int live = 0, slot = -1;
            for (int k = 0; k < NMM; k++) {
                live += used[k];
                if (!used[k] && slot < 0)
                    slot = k;
            }
            if (rnd(2) && slot >= 0) {
                struct mm *c = fork_mm(mm);
                model[c - mms] = *m;
            } else if (live > 1) {
                drop_mm(mm);
            }
            break;
        }
        case 5:   /* munmap */
            EQ(mm_munmap(mm, wva(i), n * FR), 0);
            for (unsigned k = i; k < i + n; k++)
                m->mapped[k] = m->ro[k] = false, m->seed[k] = 0;
            break;
        case 6: { /* mprotect (splits, merges), or map again what was unmapped */
            bool all = true;
            for (unsigned k = i; k < i + n; k++)
                all = all && m->mapped[k];
            if (all) {
                bool ro = rnd(2);
                EQ(mm_mprotect(mm, wva(i), n * FR, ro ? PROT_READ : RW), 0);
                for (unsigned k = i; k < i + n; k++)
                    m->ro[k] = ro;
            } else {
                EQ(xmmap(mm, wva(i), n * FR, RW, FIXED), wva(i));
                for (unsigned k = i; k < i + n; k++)
                    m->mapped[k] = true, m->ro[k] = false, m->seed[k] = 0;
            }
            break;
        }
        case 7: { /* mremap: move [i, i+n) onto [j, j+n) inside the window */
            unsigned j = (unsigned)rnd(NP - n + 1);
            bool all = true;
            for (unsigned k = i; k < i + n; k++)
                all = all && m->mapped[k];
            if (!all || (j < i + n && i < j + n))
                break;
            /* one VMA only: the pieces must be alike (the same rights) */
            bool alike = true;
            for (unsigned k = i; k < i + n; k++)
                alike = alike && m->ro[k] == m->ro[i];
            if (!alike)
                break;
            uint64_t out;
            int err = mm_mremap(mm, wva(i), n * FR, n * FR, MREMAP_MAYMOVE | MREMAP_FIXED,
                                wva(j), &out);
            EQ(err, 0);
            struct rmodel old = *m;
            for (unsigned k = 0; k < n; k++) {
                m->mapped[j + k] = true;
                m->ro[j + k] = old.ro[i + k];
                m->seed[j + k] = 0;
                m->mapped[i + k] = m->ro[i + k] = false;
                m->seed[i + k] = 0;
            }
            /* the pattern is the old address's: check the moved bytes now,
             * then rewrite them for the new address */
            for (unsigned k = 0; k < n; k++) {
                uint64_t pa = pa_at(mm, wva(j + k));
                if (old.seed[i + k]) {
                    CHECK(pa, "a written page was left behind by mremap");
                    const uint8_t *p = mm_host_arena() + pa;
                    CHECK(p[77] == pat(old.seed[i + k], wva(i + k), 77), "mremap lost data");
                }
                if (pa && !m->ro[j + k]) {
                    wpage(mm, wva(j + k), ++seed);
                    m->seed[j + k] = seed;
                } else if (pa && old.seed[i + k]) {
                    EQ(mm_munmap(mm, wva(j + k), FR), 0);   /* keep the model simple */
                    m->mapped[j + k] = m->ro[j + k] = false;
                }
            }
            break;
        }
        default: { /* migrate a random mapped frame */
            struct page *pg = random_frame();
            if (!pg)
                break;
            if (page_to_phys(pg) == mm_zero_page()) {
                refused(pg, MIGRATE_UNMOVABLE, -EINVAL);
                break;
            }
            migrated(pg);
            moved++;
            break;
        }
        }
        check_all();
        model_check();
    }
    CHECK(moved > 40, "only %u pages moved", moved);
    teardown();
}

static const struct htest cases[] = {
    BOTH(fault_and_migrate),
    BOTH(fork_cow),
    BOTH(munmap_part),
    BOTH(mprotect_split_merge),
    BOTH(mremap_move_grow),
    BOTH(stack_growth),
    BOTH(shared_anon),
    BOTH(refusals),
    BOTH(no_target),
    BOTH(anon_vma_enomem),
    BOTH(random),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
