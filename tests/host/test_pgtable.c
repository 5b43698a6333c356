/*
 * Host tests of the page-table walker (mm/pgtable.c, mm/pgtable_clone.c)
 * with the x86-64 format (mm/pt_x86_64.c).
 *
 * The cases every format shares (mapping, splitting, refusals, -ENOMEM,
 * the flush contract, the random model...) are written once in
 * tests/shared/pt_cases.c and run here as x86_64/<name>, over the
 * harness of tests/shared/pt_harness.h; the in-kernel test
 * (tests/kernel/test_pgtable.c) runs the same cases over the real
 * allocator.  This file adds what only x86-64 has: its bit layout and
 * PAT encodings, 1 GiB leaves, the kernel half and top-level sharing,
 * and the clone / teardown cases, whose expected table counts are
 * x86-64's.
 *
 * One binary per format rather than one for both: each links only its
 * format (compat32/pt_i386.c stays out of the x86-64 build, as mm/ is
 * built without compat32 on the host elsewhere), and a failure names
 * the format by its binary as well as by its case name.
 *
 * Physical memory is the private arena of tests/host/mm_host.c (32 MiB of
 * address space, 30 MiB of RAM), so every table page is a real buddy
 * allocation in fake physical memory, read and written through the
 * arena.  The frames the tables map are just numbers: nothing reads them,
 * so a test can map 5 GiB of "physical memory" with a few table pages.
 * After every operation ph_check() runs pt_check(), the allocator's
 * validator, the raw walker of tests/shared/pt_raw.c (the Intel bit
 * layout read again without the format's functions) and the frame count.
 */
#include <stdlib.h>

#include "htest.h"
#include "mm_host.h"
#include "../shared/pt_cases.h"
#include "../shared/pt_harness.h"
#include <kernel/errno.h>
#include <mm/gfp.h>
#include <mm/pgtable.h>
#include <mm/pt_x86_64.h>
#include <mm/zone.h>

#define M2 (2 * MiB)
#define USER_END 0x0000800000000000ul
#define HIGH_START 0xffff800000000000ul
#define HIGH_END 0xfffffffffffff000ul

/* A table page as 512 entries (through the arena). */
static uint64_t *tab(uint64_t pa)
{
    return (uint64_t *)(mm_host_arena() + pa);
}

/* The raw walker's table count of p, failing the case on a problem. */
static void raw_count(const struct pgtable *p, uint64_t *tables)
{
    const char *why;
    HT_ASSERT(ph_raw(p, tables, &why) == 0, "raw walk: %s", why);
}

/* The model window of the random cases: [win, win + npages * FR). */
static uint64_t win, npages;

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
    HT_EQ_U(f->make_table(0x000ffffffffff000ul, 0) & f->table_mask, 0x000ffffffffff000ul);

    /* The walker's tests are these masks (struct pt_format). */
    HT_EQ_U(f->present_mask, X86_PTE_P);
    HT_EQ_U(f->leaf_mask, X86_PTE_PS);
    HT_EQ_U(f->table_mask, X86_PTE_ADDR);
    HT_EQ_U(f->accessed_mask, X86_PTE_A);
    HT_EQ_U(f->dirty_mask, X86_PTE_D);

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

static void t_map_1g(void)
{
    HT_TRY(ph_setup_range(0, USER_END, false));
    HT_EQ_U(pt_map(&ph.pt, GiB, 5 * GiB, GiB, PT_W | PT_U | PT_X, PT_MAP_LARGE), 0);
    HT_TRY(ph_check());
    HT_EQ_U(ph.pt.nr_tables, 2); /* root, PDPT */
    HT_TRY(ph_expect_leaf(GiB + 12345 * FR, 5 * GiB, GiB, PT_W | PT_U | PT_X));
    struct pt_view v;
    HT_EQ_U(pt_walk(&ph.pt, GiB, &v), 0);
    HT_EQ_U(v.raw[1], pt_x86_64.make_leaf(5 * GiB, 2, PT_W | PT_U | PT_X));
    HT_TRY(ph_teardown());
}

/* PT_MAP_LARGE takes the largest leaf that va, pa and the length allow. */
/* The 1 GiB size in PT_MAP_LARGE's choice (the rest of it is the shared
 * large_choice): pa congruent to va only modulo 2 MiB gives no 1 GiB
 * leaf, and a format without 1 GiB leaves (a CPU without them) none either. */
static void t_large_choice_1g(void)
{
    HT_TRY(ph_setup_range(0, USER_END, false));
    uint64_t off = 5 * GiB;
    /* pa only 2 MiB aligned with va: no 1 GiB leaf. */
    uint64_t by_size[4] = { 0 };
    HT_EQ_U(pt_map(&ph.pt, GiB - M2, GiB - M2 + off + M2, GiB + 2 * M2, PT_W, PT_MAP_LARGE), 0);
    HT_TRY(ph_check());
    HT_EQ_U(pt_for_each(&ph.pt, 0, USER_END, ph_count_leaf, by_size), 0);
    HT_ASSERT(by_size[0] == 0 && by_size[1] == 514 && by_size[2] == 0, "%lu/%lu/%lu",
              by_size[0], by_size[1], by_size[2]);
    HT_EQ_U(pt_unmap(&ph.pt, 0, USER_END), 0);
    pt_destroy(&ph.pt);

    /* A format without 1 GiB leaves (a CPU without them): 2 MiB leaves. */
    struct pt_format no1g = pt_x86_64;
    no1g.leaf_levels = 0x3;
    HT_EQ_U(pt_init(&ph.pt, &no1g, GFP_KERNEL, 0, USER_END), 0);
    memset(by_size, 0, sizeof(by_size));
    HT_EQ_U(pt_map(&ph.pt, GiB, off, GiB, PT_W, PT_MAP_LARGE), 0);
    HT_TRY(ph_check());
    HT_EQ_U(pt_for_each(&ph.pt, 0, USER_END, ph_count_leaf, by_size), 0);
    HT_ASSERT(by_size[1] == 512 && by_size[2] == 0, "%lu/%lu", by_size[1],
              by_size[2]);
    /* Splitting stays inside the format too. */
    HT_EQ_U(pt_unmap(&ph.pt, GiB + FR, FR), 0);
    HT_TRY(ph_check());
    HT_TRY(ph_expect_leaf(GiB, off, FR, PT_W));
    HT_TRY(ph_teardown());
}


static void t_kernel_half(void)
{
    HT_TRY(ph_setup_range(HIGH_START, HIGH_END, false));
    uint64_t top = HIGH_END - FR; /* the last page the range allows */
    HT_EQ_U(pt_map(&ph.pt, top, 0x5000, FR, PT_W | PT_G, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, HIGH_START, 0, GiB, PT_W | PT_G, PT_MAP_LARGE), 0);
    HT_TRY(ph_check());
    HT_EQ_U(pt_map(&ph.pt, HIGH_END, 0, FR, 0, 0), -EINVAL);
    HT_EQ_U(pt_map(&ph.pt, HIGH_START - FR, 0, FR, 0, 0), -EINVAL);
    HT_TRY(ph_expect_leaf(top, 0x5000, FR, PT_W | PT_G));
    struct pt_view v;
    HT_EQ_U(pt_walk(&ph.pt, top, &v), 0);
    HT_ASSERT(!(v.raw[0] & X86_PTE_US) && !(v.raw[1] & X86_PTE_US),
              "kernel-half tables are user accessible: %#lx %#lx", v.raw[0],
              v.raw[1]);
    HT_EQ_U(pt_walk(&ph.pt, ~0ul, &v), -ENOENT); /* the page past va_end */
    struct ph_leaves *l = &ph_leaves;
    memset(l, 0, sizeof(*l));
    HT_EQ_U(pt_for_each(&ph.pt, HIGH_START, HIGH_END, ph_collect, l), 0);
    HT_ASSERT(l->n == 2 && l->v[0].va == HIGH_START && l->v[1].va == top, "%zu leaves", l->n);
    HT_TRY(ph_teardown());
}


static void t_shared_kernel_half(void)
{
    HT_TRY(ph_setup_range(HIGH_START, HIGH_END, true));
    HT_EQ_U(pt_map(&ph.pt, HIGH_START + GiB, 0, M2, PT_W | PT_G, PT_MAP_LARGE), 0);
    struct pgtable kernel = ph.pt, user;
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
    HT_TRY(ph_check()); /* the kernel's tables are intact and counted */
    HT_EQ_U(nr_free_pages() + ph.pt.nr_tables, ph.base_free);
    HT_TRY(ph_teardown());
}


static void t_random_large(void)
{
    HT_TRY(ph_setup_range(0, USER_END, false));
    ph_rng = 0x2545f4914f6cdd1dul;
    win = GiB - 4 * MiB;
    npages = (2 * GiB + 8 * MiB) / FR;
    static struct ph_mpage *pages; /* static: still reachable if the case fails */
    free(pages);
    pages = calloc(npages, sizeof(*pages));
    HT_ASSERT(pages, "out of host memory");
    const struct pt_range w = { win, win + npages * FR };
    HT_TRY(ph_model_init(pages, npages, &w, 1));
    for (unsigned op = 0; op < 150; op++) {
        uint64_t s, n, r = ph_rnd(6), unit = r < 3 ? FR : r < 5 ? M2 : GiB;
        ph_random_range(unit, unit == FR ? 64 : unit == M2 ? 8 : 1, &s, &n);
        HT_TRY(ph_random_op(s, n, unit));
        HT_TRY(ph_check());
        HT_TRY(ph_model_compare_leaves());
        /* and a few walks, at the edges of the operation and anywhere */
        for (int k = 0; k < 4; k++) {
            uint64_t i = k == 0 ? s : k == 1 ? s + n - 1 : ph_rnd(npages);
            struct pt_view v;
            int rc = pt_walk(&ph.pt, win + i * FR, &v);
            HT_ASSERT(ph_model.page[i].mapped ? rc == 0 && v.pa + (win + i * FR - v.va) == ph_model.page[i].pa
                                      : rc == -ENOENT,
                      "walk of page %#lx: %d", (win + i * FR), rc);
        }
    }
    free(pages);
    pages = NULL;
    HT_TRY(ph_teardown());
}


/* ---- pt_clone and pt_destroy_each (mm/pgtable_clone.c) ----------------------------------- */

/*
 * The clone cases copy from ph.pt (the source, set up as above) into dpt.
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
    HT_ASSERT(pt_check(&ph.pt, why, sizeof(why)) == 0, "pt_check(src): %s", why);
    HT_ASSERT(pt_check(&dpt, why, sizeof(why)) == 0, "pt_check(dst): %s", why);
    HT_ASSERT(node_check(why, sizeof(why)) == 0, "node_check: %s", why);
    HT_TRY(raw_count(&ph.pt, &st));
    HT_TRY(raw_count(&dpt, &dt));
    HT_ASSERT(st == ph.pt.nr_tables, "src: %lu tables reachable, nr_tables %lu", st,
              ph.pt.nr_tables);
    HT_ASSERT(dt == dpt.nr_tables, "dst: %lu tables reachable, nr_tables %lu", dt,
              dpt.nr_tables);
    HT_ASSERT(nr_free_pages() + ph.pt.nr_tables + dpt.nr_tables + ph.held == ph.base_free,
              "%lu free + %lu src tables + %lu dst tables + %lu held != %lu",
              nr_free_pages(), ph.pt.nr_tables, dpt.nr_tables, ph.held,
              ph.base_free);
    HT_ASSERT(!ph.fl.check_failed, "pt_check(src) failed inside its flush");
    HT_EQ_U(dst_flushes, 0);
}

/* Destroy dpt: every table page it held comes back. */
static void dst_destroy(void)
{
    pt_destroy(&dpt);
    HT_EQ_U(dpt.nr_tables, 0);
    HT_EQ_U(dpt.root, 0);
    HT_ASSERT(nr_free_pages() + ph.pt.nr_tables + ph.held == ph.base_free,
              "after destroying dst: %lu free + %lu src tables + %lu held != %lu",
              nr_free_pages(), ph.pt.nr_tables, ph.held, ph.base_free);
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

/* pt_destroy_each's fn: the leaves and payload entries it reports. */
static void destroy_rec(const struct pt_view *v, void *arg)
{
    vl_push(arg, v);
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

/* pt_destroy_each reported exactly want[0..n), as views (va, pa, size,
 * level, prot, state). */
static void expect_destroyed(const char *what, const struct vlist *got, const struct pt_view *want,
                             size_t n)
{
    char b1[128], b2[128];
    for (size_t i = 0; i < got->n && i < n; i++)
        HT_ASSERT(same_leaf(&got->v[i], &want[i]) && got->v[i].payload == want[i].payload,
                  "%s: leaf %zu is %s, expected %s", what, i, vstr(&got->v[i], b1),
                  vstr(&want[i], b2));
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
 * What pt_clone(&dpt, &ph.pt, a, b, clear, ...) must do, from S = src's
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
 * Run pt_clone(&dpt, &ph.pt, a, b, clear, 0, clone_fn, &cf) and check everything the contract says against clone_expect:
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
    HT_TRY(leaves_in(&ph.pt, a, b, &L_src));
    /* src's leaves elsewhere must not change */
    HT_TRY(all_leaves(&ph.pt, &L_tmp));
    L_out.n = 0;
    for (size_t i = 0; i < L_tmp.n; i++)
        if (L_tmp.v[i].va + L_tmp.v[i].size <= a || L_tmp.v[i].va >= b)
            vl_push(&L_out, &L_tmp.v[i]);
    int want = clone_expect(&L_src, a, b, clear, cf.mode, cf.fail_at, keep, &L_exp, &n);
    unsigned calls = ph.fl.calls;

    int rc = pt_clone(&dpt, &ph.pt, a, b, clear, 0, clone_fn, &cf);

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
    HT_TRY(leaves_in(&ph.pt, a, b, &L_tmp));
    HT_TRY(expect_list("src in range", &L_tmp, L_src.v, L_src.n));
    HT_TRY(all_leaves(&ph.pt, &L_tmp));
    L_now_out.n = 0;
    for (size_t i = 0; i < L_tmp.n; i++)
        if (L_tmp.v[i].va + L_tmp.v[i].size <= a || L_tmp.v[i].va >= b)
            vl_push(&L_now_out, &L_tmp.v[i]);
    HT_TRY(expect_list("src outside the range", &L_now_out, L_out.v, L_out.n));
    if (hi) {
        HT_ASSERT(ph.fl.calls == calls + 1, "%u src flushes for changes in [%#lx, %#lx)",
                  ph.fl.calls - calls, lo, hi);
        HT_ASSERT(ph.fl.va <= lo && ph.fl.va + ph.fl.len >= hi && ph.fl.va >= a && ph.fl.va + ph.fl.len <= b,
                  "src flush %#lx+%#lx for changes in [%#lx, %#lx) of [%#lx, %#lx)",
                  ph.fl.va, ph.fl.len, lo, hi, a, b);
    } else {
        HT_ASSERT(ph.fl.calls == calls, "%u src flushes, nothing changed in src", ph.fl.calls - calls);
    }
    HT_TRY(check_pair());
}

#define G512 (512 * GiB)

/* Give src's leaves back the rights a clone took (pt_protect keeps the
 * accessed and dirty bits), then check it is as it was. */
static void restore_src(const struct vlist *orig)
{
    for (size_t i = 0; i < orig->n; i++)
        HT_EQ_U(pt_protect(&ph.pt, orig->v[i].va, orig->v[i].size, orig->v[i].prot), 0);
    HT_TRY(all_leaves(&ph.pt, &L_tmp));
    HT_TRY(expect_list("src restored", &L_tmp, orig->v, orig->n));
    memset(&ph.fl, 0, sizeof(ph.fl));
}

static void t_clone_basic(void)
{
    HT_TRY(ph_setup_range(0, USER_END, false));
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
        HT_EQ_U(pt_map(&ph.pt, maps[i].va, maps[i].pa, maps[i].len, maps[i].prot, 0), 0);
    /* accessed / dirty, as the CPU would set them */
    ph_set_bits(4 * MiB, 0, X86_PTE_A);
    ph_set_bits(6 * MiB + FR, 0, X86_PTE_A | X86_PTE_D);
    ph_set_bits(6 * MiB + 4 * FR, 0, X86_PTE_A | X86_PTE_D);
    ph_set_bits(GiB, 0, X86_PTE_D);
    ph_set_bits(G512 - FR, 0, X86_PTE_A);
    HT_TRY(ph_check());
    uint64_t start = 4 * MiB - FR, end = G512 + FR;
    uint64_t snap = ph_pt_hash(&ph.pt);

    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_SAME, 0);
    HT_TRY(clone_and_verify(start, end, 0, NULL, false, NULL));
    HT_EQ_U(cf.calls, 15);
    /* root, PDPT 0, PD 0 with 4 PTs, PD 1 + PT, PD 3 + PT, PD 511 + PT, PDPT 1 + PD + PT */
    HT_EQ_U(dpt.nr_tables, 16);
    HT_EQ_U(ph_pt_hash(&ph.pt), snap);
    HT_EQ_U(ph.fl.calls, 0);
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
    uint64_t dsnap = ph_pt_hash(&dpt);
    cf_reset(CF_SAME, 0);
    HT_EQ_U(pt_clone(&dpt, &ph.pt, 5 * G512, 6 * G512, PT_W, 0, clone_fn, &cf), 0);
    HT_EQ_U(cf.calls, 0);
    HT_EQ_U(ph_pt_hash(&dpt), dsnap);
    HT_EQ_U(ph_pt_hash(&ph.pt), snap);
    HT_EQ_U(ph.fl.calls, 0);
    HT_TRY(check_pair());
    HT_TRY(dst_destroy());
    HT_TRY(ph_teardown());
}

static void t_clone_cow(void)
{
    HT_TRY(ph_setup_range(0, USER_END, false));
    HT_EQ_U(pt_map(&ph.pt, 4 * MiB, 0x100000, 6 * FR, PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, 4 * MiB + 6 * FR, 0x200000, 2 * FR, PT_U | PT_X, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, 4 * MiB + 8 * FR, 0x300000, 2 * FR, PT_U | PT_W | PT_X | PT_WT, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, 8 * MiB, 64 * MiB, M2, PT_U | PT_W, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&ph.pt, 10 * MiB, 0x400000, FR, PT_U, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, 12 * MiB, 0x500000, FR, PT_U | PT_W, 0), 0); /* outside the range */
    ph_set_bits(4 * MiB + FR, 0, X86_PTE_A | X86_PTE_D);
    ph_set_bits(4 * MiB + 6 * FR, 0, X86_PTE_A);
    ph_set_bits(8 * MiB, 1, X86_PTE_A | X86_PTE_D);
    HT_TRY(ph_check());

    /* fork's way (its fn also drops PT_W, which `clear` did already) */
    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_COW, 0);
    HT_TRY(clone_and_verify(4 * MiB + FR, 12 * MiB, PT_W, NULL, false, NULL));
    HT_EQ_U(ph.fl.calls, 1);
    HT_ASSERT(ph.fl.va <= 4 * MiB + FR && ph.fl.va + ph.fl.len >= 10 * MiB, "flush %#lx+%#lx",
              ph.fl.va, ph.fl.len);
    HT_TRY(ph_expect_leaf(4 * MiB, 0x100000, FR, PT_U | PT_W)); /* outside: kept */
    HT_TRY(ph_expect_leaf(4 * MiB + FR, 0x101000, FR, PT_U));
    HT_TRY(ph_expect_leaf(4 * MiB + 6 * FR, 0x200000, FR, PT_U | PT_X));
    HT_TRY(ph_expect_leaf(4 * MiB + 9 * FR, 0x301000, FR, PT_U | PT_X | PT_WT));
    HT_TRY(ph_expect_leaf(8 * MiB, 64 * MiB, M2, PT_U));
    HT_TRY(ph_expect_leaf(12 * MiB, 0x500000, FR, PT_U | PT_W));
    struct pt_view v;
    HT_EQ_U(pt_walk(&dpt, 8 * MiB + 3 * FR, &v), 0);
    HT_ASSERT(v.size == M2 && v.prot == PT_U && v.accessed && v.dirty, "dst 2 MiB leaf: %#lx %#x",
              v.size, v.prot);
    HT_EQ_U(pt_walk(&ph.pt, 4 * MiB + FR, &v), 0);
    HT_ASSERT(v.accessed && v.dirty, "src lost its accessed/dirty bits");
    HT_TRY(dst_destroy());

    /* Again: nothing writable is left in the range: src unchanged, no flush. */
    uint64_t snap = ph_pt_hash(&ph.pt);
    unsigned calls = ph.fl.calls;
    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_COW, 0);
    HT_TRY(clone_and_verify(4 * MiB + FR, 12 * MiB, PT_W, NULL, false, NULL));
    HT_EQ_U(ph.fl.calls, calls);
    HT_EQ_U(ph_pt_hash(&ph.pt), snap);
    HT_TRY(dst_destroy());

    /* fn keeps the view it got, which is already without `clear`: both
     * copies lose PT_W. */
    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_SAME, 0);
    HT_TRY(clone_and_verify(0, 4 * MiB + FR, PT_W, NULL, false, NULL));
    HT_EQ_U(pt_walk(&dpt, 4 * MiB, &v), 0);
    HT_EQ_U(v.prot, PT_U);
    HT_EQ_U(cf.seen.v[0].prot, PT_U);
    HT_TRY(ph_expect_leaf(4 * MiB, 0x100000, FR, PT_U));
    HT_EQ_U(ph.fl.calls, calls + 1);
    HT_ASSERT(ph.fl.va == 4 * MiB && ph.fl.len == FR, "flush %#lx+%#lx", ph.fl.va, ph.fl.len);
    HT_TRY(dst_destroy());
    /* fn gives PT_W back with another frame (fork's eager copy): dst is
     * writable, src not. */
    HT_EQ_U(pt_protect(&ph.pt, 4 * MiB, FR, PT_U | PT_W), 0);
    calls = ph.fl.calls;
    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_COPY, 0);
    HT_TRY(clone_and_verify(0, 4 * MiB + 2 * FR, PT_W, NULL, false, NULL));
    HT_EQ_U(pt_walk(&dpt, 4 * MiB, &v), 0);
    HT_ASSERT(v.prot == (PT_U | PT_W) && v.pa == 0x100000 + 8 * GiB, "dst: prot %#x pa %#lx",
              v.prot, v.pa);
    HT_TRY(ph_expect_leaf(4 * MiB, 0x100000, FR, PT_U));
    HT_EQ_U(ph.fl.calls, calls + 1);
    HT_TRY(dst_destroy());

    /* Other rights and attributes. */
    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_SAME, 0);
    HT_TRY(clone_and_verify(0, 16 * MiB, PT_X | PT_U, NULL, false, NULL));
    HT_TRY(ph_expect_leaf(12 * MiB, 0x500000, FR, PT_W));
    HT_TRY(dst_destroy());
    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_CHANGE, 0);
    HT_TRY(clone_and_verify(0, 16 * MiB, PT_W | PT_G | PT_WC, NULL, false, NULL));
    HT_TRY(dst_destroy());
    HT_TRY(ph_teardown());
}

static void t_clone_fn_changes(void)
{
    HT_TRY(ph_setup_range(0, USER_END, false));
    HT_EQ_U(pt_map(&ph.pt, 4 * MiB - 8 * FR, 0x1000000, 32 * FR, PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, 8 * MiB, 4 * GiB, M2, PT_W, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&ph.pt, 2 * GiB, 5 * GiB, GiB, PT_W | PT_X, PT_MAP_LARGE), 0);
    for (unsigned i = 0; i < 32; i++)
        ph_set_bits(4 * MiB - 8 * FR + i * FR, 0,
                 (i % 5 == 0 ? X86_PTE_A : 0) | (i % 7 == 0 ? X86_PTE_A | X86_PTE_D : 0));
    ph_set_bits(8 * MiB, 1, X86_PTE_A);
    ph_set_bits(2 * GiB, 2, X86_PTE_A | X86_PTE_D);
    HT_TRY(ph_check());
    uint64_t snap = ph_pt_hash(&ph.pt);
    HT_TRY(dst_init(0, USER_END));
    cf_reset(CF_CHANGE, 0);
    HT_TRY(clone_and_verify(0, 4 * GiB, 0, NULL, false, NULL));
    HT_EQ_U(ph_pt_hash(&ph.pt), snap);
    HT_EQ_U(ph.fl.calls, 0);
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
    HT_TRY(ph_teardown());
}

/* Twelve pages in three groups of four, each group across a boundary:
 * the first leaf of a new PT (2 MiB), of a new PD (1 GiB), of a new PDPT
 * (512 GiB) is the third of its group; every third page read-only. */
static void map_groups(void)
{
    static const uint64_t groups[] = { 2 * MiB - 2 * FR, GiB - 2 * FR, G512 - 2 * FR };
    unsigned n = 0;
    for (size_t g = 0; g < HT_COUNT(groups); g++)
        for (unsigned j = 0; j < 4; j++, n++)
            HT_EQ_U(pt_map(&ph.pt, groups[g] + j * FR, 0x100000 + n * FR, FR,
                           n % 3 == 1 ? PT_U : PT_U | PT_W, 0), 0);
}

/* fn fails at every position in turn, in particular on the first leaf of
 * a new PT (2 MiB), of a new PD (1 GiB) and of a new PDPT (512 GiB):
 * the tables created for it must go again. */
static void t_clone_fn_error(void)
{
    HT_TRY(ph_setup_range(0, USER_END, false));
    unsigned n = 12; /* the leaves of map_groups */
    HT_TRY(map_groups());
    ph_set_bits(2 * MiB, 0, X86_PTE_A);
    ph_set_bits(GiB + FR, 0, X86_PTE_A | X86_PTE_D);
    HT_TRY(ph_check());
    HT_TRY(all_leaves(&ph.pt, &L_orig));
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
        HT_TRY(ph_check());
    }
    HT_TRY(ph_teardown());
}

/* -ENOMEM for every number of free frames short of what dst needs; then
 * success with exactly that number. */
static void t_clone_enomem(void)
{
    HT_TRY(ph_setup_range(0, USER_END, false));
    HT_TRY(map_groups());
    HT_EQ_U(pt_map(&ph.pt, 8 * MiB, 4 * GiB, M2, PT_U | PT_W, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&ph.pt, 2 * GiB, 4 * GiB, GiB, PT_U | PT_W, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&ph.pt, 3 * G512 + 5 * GiB, 4 * GiB, GiB, PT_U | PT_W, PT_MAP_LARGE), 0);
    HT_TRY(ph_check());
    HT_TRY(all_leaves(&ph.pt, &L_orig));
    unsigned failures = 0;
    for (size_t give = 0;; give++) {
        HT_ASSERT(give < 64, "no success with %zu frames", give);
        HT_TRY(dst_init(0, USER_END));
        dpt.gfp = __GFP_MEMALLOC | __GFP_NOWARN; /* so that the last frames can be used */
        HT_TRY(ph_exhaust());
        ph_give_back(give);
        cf_reset(CF_COW, 0);
        int rc;
        HT_TRY(clone_and_verify(0, 4 * G512, PT_W, NULL, true, &rc));
        uint64_t tables = dpt.nr_tables;
        ph_give_back(~0ul);
        HT_TRY(dst_destroy());
        HT_TRY(restore_src(&L_orig));
        HT_TRY(ph_check());
        if (rc == 0) {
            HT_ASSERT(tables - 1 == give, "success with %zu free frames, dst needs %lu", give,
                      (tables - 1));
            break;
        }
        failures++;
    }
    HT_EQ_U(failures, 13); /* PDPT 0, PD 0, PT x3, PD 1 + PT, PD 511 + PT, PDPT 1 + PD + PT, PDPT 3 */
    HT_TRY(ph_teardown());
}

/* dst maps something where src has a leaf: -EEXIST when the walk meets it,
 * after copying the leaves before it (at 4 KiB, and with a large leaf on
 * either side). */
static void t_clone_eexist(void)
{
    HT_TRY(ph_setup_range(0, USER_END, false));
    HT_EQ_U(pt_map(&ph.pt, 4 * MiB, 0x100000, 4 * FR, PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, 8 * MiB, 32 * MiB, M2, PT_U | PT_W, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&ph.pt, 10 * MiB, 0x200000, 2 * FR, PT_U | PT_W, 0), 0);
    HT_TRY(ph_check());
    HT_TRY(all_leaves(&ph.pt, &L_orig));
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
    HT_TRY(ph_teardown());
}

/* dst's leaves where src has none are left alone: no -EEXIST, the copies
 * go around them (into the same tables). */
static void t_clone_eexist_hole(void)
{
    HT_TRY(ph_setup_range(0, USER_END, false));
    HT_EQ_U(pt_map(&ph.pt, 4 * MiB, 0x100000, 4 * FR, PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, 4 * MiB + 12 * FR, 0x200000, FR, PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, GiB, 0x300000, FR, PT_U, 0), 0);
    HT_TRY(ph_check());
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
        HT_EQ_U(pt_protect(&ph.pt, 4 * MiB, 16 * FR, PT_U | PT_W), 0);
    }
    HT_TRY(ph_teardown());
}

static void t_clone_einval(void)
{
    HT_TRY(ph_setup_range(GiB, 4 * GiB, false));
    HT_EQ_U(pt_map(&ph.pt, 2 * GiB, 0x100000, 4 * FR, PT_W | PT_U, 0), 0);
    HT_TRY(dst_init(0, 3 * GiB));
    HT_EQ_U(pt_map(&dpt, 0x1000, 0x1000, FR, PT_U, 0), 0);
    uint64_t ssnap = ph_pt_hash(&ph.pt), dsnap = ph_pt_hash(&dpt);
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
        int rc = pt_clone(&dpt, &ph.pt, bad[i].a, bad[i].b, bad[i].clear, 0, clone_fn, &cf);
        HT_ASSERT(rc == -EINVAL, "case %zu [%#lx, %#lx) clear %#x: %d", i, bad[i].a,
                  bad[i].b, bad[i].clear, rc);
        HT_ASSERT(cf.calls == 0 && ph_pt_hash(&ph.pt) == ssnap && ph_pt_hash(&dpt) == dsnap &&
                      ph.fl.calls == 0,
                  "case %zu: something changed", i);
    }
    /* src and dst the same tables: the same struct, or two structs with one root */
    cf_reset(CF_SAME, 0);
    HT_EQ_U(pt_clone(&ph.pt, &ph.pt, 2 * GiB, 2 * GiB + 4 * FR, PT_W, 0, clone_fn, &cf), -EINVAL);
    struct pgtable alias = ph.pt;
    HT_EQ_U(pt_clone(&alias, &ph.pt, 2 * GiB, 2 * GiB + 4 * FR, PT_W, 0, clone_fn, &cf), -EINVAL);
    HT_EQ_U(pt_clone(&alias, &ph.pt, 2 * GiB + 8 * FR, 2 * GiB + 9 * FR, 0, 0, clone_fn, &cf), -EINVAL);
    /* different formats (one without 1 GiB leaves) */
    struct pt_format other = pt_x86_64;
    other.leaf_levels = 0x3;
    struct pgtable o;
    HT_EQ_U(pt_init(&o, &other, GFP_KERNEL, 0, 3 * GiB), 0);
    HT_EQ_U(pt_clone(&o, &ph.pt, 2 * GiB, 2 * GiB + 4 * FR, PT_W, 0, clone_fn, &cf), -EINVAL);
    HT_EQ_U(pt_clone(&dpt, &o, 2 * GiB, 2 * GiB + 4 * FR, PT_W, 0, clone_fn, &cf), -EINVAL);
    HT_EQ_U(o.nr_tables, 1);
    pt_destroy(&o);
    /* even an identical copy of the format is another format */
    other = pt_x86_64;
    HT_EQ_U(pt_init(&o, &other, GFP_KERNEL, 0, 3 * GiB), 0);
    HT_EQ_U(pt_clone(&o, &ph.pt, 2 * GiB, 2 * GiB + 4 * FR, PT_W, 0, clone_fn, &cf), -EINVAL);
    pt_destroy(&o);
    HT_ASSERT(cf.calls == 0 && ph_pt_hash(&ph.pt) == ssnap && ph_pt_hash(&dpt) == dsnap && ph.fl.calls == 0,
              "a refused clone changed something");
    HT_TRY(check_pair());
    /* and the good request works */
    HT_TRY(all_leaves(&dpt, &L_keep));
    cf_reset(CF_SAME, 0);
    HT_TRY(clone_and_verify(2 * GiB, 3 * GiB, PT_W, &L_keep, false, NULL));
    HT_EQ_U(cf.ok, 4);
    HT_TRY(dst_destroy());
    HT_TRY(ph_teardown());
}

/* Large leaves: copied whole when inside the range, -EINVAL when one
 * crosses an edge (after the leaves before it were copied). */
static void t_clone_large(void)
{
    HT_TRY(ph_setup_range(0, USER_END, false));
    HT_EQ_U(pt_map(&ph.pt, 2 * MiB - 2 * FR, 0x100000, 2 * FR, PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, 2 * MiB, 64 * MiB, M2, PT_U | PT_W | PT_WC, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&ph.pt, 4 * MiB, 0x200000, FR, PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, GiB, 4 * GiB, GiB, PT_W | PT_X | PT_WT, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&ph.pt, 2 * GiB, 0x300000, FR, PT_W, 0), 0);
    ph_set_bits(2 * MiB, 1, X86_PTE_A | X86_PTE_D);
    ph_set_bits(GiB, 2, X86_PTE_A);
    HT_TRY(ph_check());
    HT_TRY(all_leaves(&ph.pt, &L_orig));
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
    HT_TRY(ph_teardown());
}

/* Random source tables from the model's operations (4 KiB and 2 MiB
 * leaves, random accessed/dirty bits), cloned over random ranges with
 * random src_clear, fn changes and fn failures, compared page by page
 * through pt_walk on both sides. */
static void t_clone_random(void)
{
    HT_TRY(ph_setup_range(0, USER_END, false));
    ph_rng = 0x5851f42d4c957f2dul;
    static struct ph_mpage pages[16 * MiB / FR];
    win = GiB - 8 * MiB;
    npages = 16 * MiB / FR;
    const struct pt_range w = { win, win + npages * FR };
    HT_TRY(ph_model_init(pages, npages, &w, 1));
    ph_model.near_limit = false; /* fn moves frames up by 8 GiB */
    unsigned einval = 0, e2big = 0, ok = 0;
    for (unsigned round = 0; round < 400; round++) {
        unsigned nops = round == 0 ? 200 : 1 + (unsigned)ph_rnd(4);
        for (unsigned op = 0; op < nops; op++) {
            uint64_t s, n, unit = ph_rnd(3) ? FR : M2;
            ph_random_range(unit, unit == FR ? 40 : 3, &s, &n);
            HT_TRY(ph_random_op(s, n, unit));
        }
        for (int k = 0; k < 4; k++) {
            struct pt_view v;
            uint64_t va = win + ph_rnd(npages) * FR;
            if (pt_walk(&ph.pt, va, &v) == 0)
                ph_set_bits(va, v.level, ph_rnd(4) * X86_PTE_A);  /* A, D or both */
        }
        HT_TRY(ph_check());
        /* a range: pages, or widened to whole leaves, or with an edge
         * inside a 2 MiB leaf */
        uint64_t a = ph_rnd(npages), b = a + 1 + ph_rnd(ph_rnd(2) ? 64 : npages - a);
        b = b > npages ? npages : b;
        uint64_t start = win + a * FR, end = win + b * FR;
        struct pt_view v;
        unsigned how = (unsigned)ph_rnd(5);
        if (how == 0) {
            /* the model's operations rarely leave 2 MiB leaves: make one */
            uint64_t slot = ph_rnd(npages / 512) * 512, pa = ph_rnd(64) * GiB + ph_rnd(512) * M2;
            unsigned prot = (unsigned)ph_rnd(PT_PROT_MASK + 1);
            HT_EQ_U(pt_unmap(&ph.pt, win + slot * FR, M2), 0);
            HT_EQ_U(pt_map(&ph.pt, win + slot * FR, pa, M2, prot, PT_MAP_LARGE), 0);
            for (uint64_t i = 0; i < 512; i++)
                ph_model.page[slot + i] = (struct ph_mpage){ pa + i * FR, (uint8_t)prot, true };
            memset(&ph.fl, 0, sizeof(ph.fl));
            HT_TRY(leaves_in(&ph.pt, win, win + npages * FR, &L_tmp));
            size_t nlarge = 0;
            for (size_t i = 0; i < L_tmp.n; i++)
                if (L_tmp.v[i].size == M2)
                    L_tmp.v[nlarge++] = L_tmp.v[i];
            if (nlarge) {
                const struct pt_view *l = &L_tmp.v[ph_rnd(nlarge)];
                uint64_t in = l->va + (1 + ph_rnd(M2 / FR - 1)) * FR;
                if (ph_rnd(2)) {
                    start = in;
                    end = in + (1 + ph_rnd(2 * M2 / FR)) * FR;
                } else {
                    end = in;
                    start = in - (1 + ph_rnd(2 * M2 / FR)) * FR;
                }
                start = start < win ? win : start;
                end = end > win + npages * FR ? win + npages * FR : end;
            }
        } else if (how < 3) {
            if (pt_walk(&ph.pt, start, &v) == 0)
                start = v.va;
            if (pt_walk(&ph.pt, end - 1, &v) == 0)
                end = v.va + v.size;
        }
        unsigned r = (unsigned)ph_rnd(4);
        unsigned clear = r == 0 ? 0 : r < 3 ? PT_W : (unsigned)ph_rnd(PT_PROT_MASK + 1);
        HT_TRY(leaves_in(&ph.pt, start, end, &L_src));
        unsigned fail_at = ph_rnd(5) == 0 ? 1 + (unsigned)ph_rnd(L_src.n + 1) : 0;
        HT_TRY(dst_init(0, USER_END));
        cf_reset((int)ph_rnd(4), fail_at);
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
                HT_ASSERT(pt_walk(&ph.pt, va, &sv) == 0 && sv.va == v.va && sv.size == v.size &&
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
                ph_model.page[(va - win) / FR].prot &= (uint8_t)~clear;
        HT_TRY(ph_model_compare_walk(0, npages));
        /* destroy dst, sometimes through pt_destroy_each */
        if (round & 1) {
            HT_TRY(dst_destroy());
        } else {
            uint64_t count = 0;
            uint64_t before = nr_free_pages() + dpt.nr_tables;
            L_tmp.n = 0;
            pt_destroy_each(&dpt, 0, destroy_rec, &L_tmp);
            count = L_tmp.n;
            HT_TRY(expect_destroyed("pt_destroy_each(dst)", &L_tmp, L_dst.v, L_dst.n));
            HT_ASSERT(nr_free_pages() == before && dpt.root == 0, "%lu leaves; free %lu vs %lu",
                      count, nr_free_pages(), before);
        }
        memset(&ph.fl, 0, sizeof(ph.fl));
    }
    HT_ASSERT(einval > 20 && e2big > 20 && ok > 100, "%u -EINVAL, %u -E2BIG, %u ok", einval,
              e2big, ok);
    HT_TRY(ph_model_compare_leaves());
    HT_TRY(ph_teardown());
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
        HT_EQ_U(pt_map(&ph.pt, maps[i].va, maps[i].pa, maps[i].len, maps[i].prot, maps[i].flags), 0);
    /* a run whose frames and rights change from page to page */
    for (unsigned i = 0; i < 24; i++)
        HT_EQ_U(pt_map(&ph.pt, 64 * MiB + i * FR, (uint64_t)(i * 7919 % 101 + 1) * FR, FR,
                       i % 3 ? PT_U : PT_U | PT_W, 0), 0);
    ph_set_bits(0x2000, 0, X86_PTE_A);
    ph_set_bits(0x3000, 0, X86_PTE_A | X86_PTE_D);
    ph_set_bits(8 * MiB + M2, 1, X86_PTE_A | X86_PTE_D);
    ph_set_bits(3 * GiB, 2, X86_PTE_A);
    for (unsigned i = 0; i < 24; i += 5)
        ph_set_bits(64 * MiB + i * FR, 0, X86_PTE_A | (i % 2 ? X86_PTE_D : 0));
}

static void t_destroy_each(void)
{
    char why[256];
    HT_TRY(ph_setup_range(0, USER_END, false));
    /* the kernel half in its own tables, its top entries shared into pt */
    struct pgtable kpt;
    HT_EQ_U(pt_init(&kpt, &pt_x86_64, GFP_KERNEL, HIGH_START, HIGH_END), 0);
    kpt.keep_top_tables = true;
    HT_EQ_U(pt_map(&kpt, HIGH_START + GiB, 0, M2, PT_W | PT_G, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&kpt, HIGH_START + 3 * GiB, 0x5000, 3 * FR, PT_W | PT_G, 0), 0);
    HT_EQ_U(pt_map(&kpt, HIGH_END - FR, 0x6000, FR, PT_W | PT_G, 0), 0);
    HT_EQ_U(pt_share_top(&ph.pt, &kpt, HIGH_START, 0 - HIGH_START), 0);
    uint64_t khash = ph_pt_hash(&kpt), ktables = kpt.nr_tables;
    HT_TRY(all_leaves(&kpt, &L_kern));
    HT_EQ_U(L_kern.n, 5);

    HT_TRY(fill_user());
    HT_ASSERT(pt_check(&ph.pt, why, sizeof(why)) == 0, "pt_check: %s", why);
    HT_TRY(all_leaves(&ph.pt, &L_src));
    HT_EQ_U(L_src.n, 5 + 2 + 2 + 1 + 2 + 1 + 24);
    uint64_t free_before = nr_free_pages(), tables = ph.pt.nr_tables;
    L_destroyed.n = 0;
    pt_destroy_each(&ph.pt, 0, destroy_rec, &L_destroyed);
    HT_TRY(expect_destroyed("pt_destroy_each", &L_destroyed, L_src.v, L_src.n));
    HT_EQ_U(ph.pt.root, 0);
    HT_EQ_U(ph.pt.nr_tables, 0);
    HT_EQ_U(nr_free_pages(), free_before + tables);
    /* the kernel's tables are intact */
    HT_ASSERT(pt_check(&kpt, why, sizeof(why)) == 0, "pt_check(kernel): %s", why);
    HT_EQ_U(ph_pt_hash(&kpt), khash);
    HT_EQ_U(kpt.nr_tables, ktables);
    HT_EQ_U(nr_free_pages() + ktables, ph.base_free);
    /* and the kernel half destroyed in turn: the upper half, kept top tables */
    L_destroyed.n = 0;
    pt_destroy_each(&kpt, 0, destroy_rec, &L_destroyed);
    HT_TRY(expect_destroyed("pt_destroy_each(kernel)", &L_destroyed, L_kern.v, L_kern.n));
    HT_EQ_U(kpt.root, 0);
    HT_EQ_U(nr_free_pages(), ph.base_free);

    /* keep_top_tables, an empty kept table, a range aligned to nothing large */
    HT_EQ_U(pt_init(&ph.pt, &pt_x86_64, GFP_KERNEL, GiB + 5 * FR, 3 * G512 - 7 * FR), 0);
    ph.pt.keep_top_tables = true;
    HT_EQ_U(pt_map(&ph.pt, GiB + 5 * FR, 0x1000, FR, PT_W, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, 3 * G512 - 8 * FR, 0x2000, FR, PT_W | PT_U, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, G512 + M2, 0x3000, FR, PT_W, 0), 0);
    HT_EQ_U(pt_unmap(&ph.pt, G512 + M2, FR), 0);
    HT_ASSERT(pt_check(&ph.pt, why, sizeof(why)) == 0, "pt_check: %s", why);
    HT_EQ_U(ph.pt.nr_tables, 1 + 3 + 1 + 3);
    HT_TRY(all_leaves(&ph.pt, &L_src));
    HT_EQ_U(L_src.n, 2);
    L_destroyed.n = 0;
    pt_destroy_each(&ph.pt, 0, destroy_rec, &L_destroyed);
    HT_TRY(expect_destroyed("pt_destroy_each(kept)", &L_destroyed, L_src.v, L_src.n));
    HT_EQ_U(ph.pt.nr_tables, 0);
    HT_EQ_U(nr_free_pages(), ph.base_free);

    /* fn == NULL: pt_destroy */
    HT_EQ_U(pt_init(&ph.pt, &pt_x86_64, GFP_KERNEL, 0, USER_END), 0);
    HT_TRY(fill_user());
    HT_ASSERT(ph.pt.nr_tables > 10, "%lu tables", ph.pt.nr_tables);
    pt_destroy_each(&ph.pt, 0, NULL, NULL);
    HT_EQ_U(ph.pt.root, 0);
    HT_EQ_U(ph.pt.nr_tables, 0);
    HT_EQ_U(nr_free_pages(), ph.base_free);
    /* an empty pgtable */
    HT_EQ_U(pt_init(&ph.pt, &pt_x86_64, GFP_KERNEL, 0, USER_END), 0);
    L_destroyed.n = 0;
    pt_destroy_each(&ph.pt, 0, destroy_rec, &L_destroyed);
    HT_EQ_U(L_destroyed.n, 0);
    HT_EQ_U(nr_free_pages(), ph.base_free);
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
    int rc = pt_clone(&d, &s, 0, USER_END, 0, 0, clone_fn, &cf);
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
 * page-aligned pa below 2^pa_bits and every prot), or whose masks do not
 * say what its functions make (present_mask with a frame bit, a leaf_mask
 * that is not PS, a table_mask missing an address bit, state masks
 * elsewhere than A and D).  subtle: the formats broken only for some
 * rights or some frames. */
static void leaf0_refused(bool subtle)
{
    HT_TRY(ph_setup_range(0, USER_END, false));
    static const struct {
        const char *what;
        uint64_t pa_bits;
        uint64_t (*make_leaf)(uint64_t, unsigned, unsigned);
        uint64_t present_mask, leaf_mask, table_mask, accessed_mask, dirty_mask;
    } bad[] = {
        { "pa_bits 53 (bit 52 is not a frame bit)", 53, NULL, 0, 0, 0, 0, 0 },
        { "pa_bits 63 (up to bit 62)", 63, NULL, 0, 0, 0, 0, 0 },
        { "pa_bits 64 (bit 63)", 64, NULL, 0, 0, 0, 0, 0 },
        { "make_leaf drops frame bit 12", 0, mk_drop12, 0, 0, 0, 0, 0 },
        { "make_leaf shifts the frame", 0, mk_shifted, 0, 0, 0, 0, 0 },
        { "make_leaf keeps frame bit 51 in bit 62", 0, mk_moved51, 0, 0, 0, 0, 0 },
        { "present_mask has frame bit 40", 0, NULL, X86_PTE_P | (1ul << 40), 0, 0, 0, 0 },
        { "leaf_mask is G, not PS", 0, NULL, 0, X86_PTE_G, 0, 0, 0 },
        { "table_mask without bit 51", 0, NULL, 0, 0, X86_PTE_ADDR & ~(1ul << 51), 0, 0 },
        { "accessed_mask is D", 0, NULL, 0, 0, 0, X86_PTE_D, 0 },
        /* broken only for some rights, or some frames: pt_init must still see it */
        { "make_leaf sets frame bit 40 for PT_WT", 0, mk_wt40, 0, 0, 0, 0, 0 },
        { "table_mask without bit 33", 0, NULL, 0, 0, X86_PTE_ADDR & ~(1ul << 33), 0, 0 },
        { "dirty_mask has bit 9 too", 0, NULL, 0, 0, 0, 0, X86_PTE_D | (1ul << 9) },
    };
    const size_t first_subtle = 10;
    char accepted[1024] = "";
    size_t len = 0;
    uint64_t free0 = nr_free_pages();
    for (size_t i = subtle ? first_subtle : 0; i < (subtle ? HT_COUNT(bad) : first_subtle); i++) {
        struct pt_format broken = pt_x86_64;
        if (bad[i].pa_bits)
            broken.pa_bits = bad[i].pa_bits;
        if (bad[i].make_leaf)
            broken.make_leaf = bad[i].make_leaf;
        if (bad[i].present_mask)
            broken.present_mask = bad[i].present_mask;
        if (bad[i].leaf_mask)
            broken.leaf_mask = bad[i].leaf_mask;
        if (bad[i].table_mask)
            broken.table_mask = bad[i].table_mask;
        if (bad[i].accessed_mask)
            broken.accessed_mask = bad[i].accessed_mask;
        if (bad[i].dirty_mask)
            broken.dirty_mask = bad[i].dirty_mask;
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
    HT_TRY(ph_teardown());
}

static void t_mask0(void)
{
    leaf0_refused(false);
}

static void t_mask0_every_prot(void)
{
    leaf0_refused(true);
}


/* ---- the cases ------------------------------------------------------------------------------ */

/* The shared cases, named x86_64/<case>. */
#define RUN_SHARED(name) static void run_##name(void) { tcase_##name(); }
PT_CASES(RUN_SHARED)
#define AS_HTEST(name) { "x86_64/" #name, run_##name },
#define X86_CASE(name) { "x86_64/" #name, t_##name }

static const struct htest cases[] = {
    PT_CASES(AS_HTEST)
    X86_CASE(format_bits),
    X86_CASE(map_1g),
    X86_CASE(large_choice_1g),
    X86_CASE(kernel_half),
    X86_CASE(shared_kernel_half),
    X86_CASE(random_large),
    X86_CASE(clone_basic),
    X86_CASE(clone_cow),
    X86_CASE(clone_fn_changes),
    X86_CASE(clone_fn_error),
    X86_CASE(clone_enomem),
    X86_CASE(clone_eexist),
    X86_CASE(clone_eexist_hole),
    X86_CASE(clone_einval),
    X86_CASE(clone_large),
    X86_CASE(clone_random),
    X86_CASE(destroy_each),
    X86_CASE(mask0),
    X86_CASE(mask0_every_prot),
};

int main(int argc, char **argv)
{
    ph_use(&pt_desc_x86_64, &pt_env_host);
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
