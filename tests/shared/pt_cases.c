/*
 * Page-table cases written once: each runs for every format (the
 * description ph.d, tests/shared/pt_raw.h) and in both worlds (the host
 * arena of tests/host/mm_host.c, the kernel's buddy allocator), over the
 * harness of tests/shared/pt_harness.h.  Addresses are the format's
 * page sizes put together (L1: the first large size, 2 MiB or 4 MiB;
 * LT: the largest, 1 GiB or 4 MiB), or addresses every format of a
 * 32-bit or 64-bit space translates (0x40000000...); what only one format
 * has (1 GiB leaves, the mirror, bit layouts) is in its own file.
 *
 * After every operation ph_check() runs the validators (pt_check, the raw
 * walker, the allocator's, the frame count); a case ends with
 * ph_teardown(), which wants every frame back.
 */
#include "pt_cases.h"
#include "pt_harness.h"

#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <mm/zone.h>

#define D (ph.d)
#define PT (&ph.pt)
#define L1 (D->sizes[1])
#define LT (D->sizes[D->nsizes - 1])
#define TOP_LEAF (D->nsizes - 1)   /* the level of the largest leaves */
#define ENTRIES (1ul << D->index_bits)

/* ---- the format --------------------------------------------------------------------- */

/*
 * decode_leaf(make_leaf(pa, level, prot)) gives back pa, prot and the
 * state bits at every leaf level, for frames at both ends of the physical
 * range; the raw decoders of the description read the same from the
 * entry; a 4 KiB leaf holds its frame in place.
 */
TCASE(prot_roundtrip)
{
    const struct pt_format *f = D->fmt;
    uint64_t frame_mask = (D->pa_limit - 1) & ~(FR - 1);
    unsigned n = 0;
    for (unsigned level = 0; level < D->nsizes; level++) {
        uint64_t size = D->sizes[level];
        uint64_t pas[] = { 0, size, D->pa_limit - size, 0x5a5a5ul * size & (D->pa_limit - 1) };
        for (size_t k = 0; k < sizeof(pas) / sizeof(pas[0]); k++) {
            for (unsigned prot = 0; prot <= PT_PROT_MASK; prot++) {
                for (unsigned state = 0; state < 4; state++) {
                    unsigned full = prot | (state & 1 ? PT_ACCESSED : 0) |
                                    (state & 2 ? PT_DIRTY : 0);
                    uint64_t e = f->make_leaf(pas[k], level, full);
                    struct pt_view v;
                    memset(&v, 0xee, sizeof(v));
                    f->decode_leaf(e, level, &v);
                    TEXPECT(v.pa == pas[k] && v.prot == prot && v.accessed == (state & 1) &&
                                v.dirty == !!(state & 2),
                            "level %u pa %#lx prot %#x state %u: entry %#lx decodes to "
                            "pa %#lx prot %#x a %d d %d",
                            level, pas[k], prot, state, e, v.pa, v.prot, v.accessed, v.dirty);
                    /* the format's masks read it as the raw description does */
                    TEXPECT((e & f->present_mask) && (level == 0 || (e & f->leaf_mask)) &&
                                (e & f->accessed_mask ? 1 : 0) == (state & 1) &&
                                !!(e & f->dirty_mask) == !!(state & 2) &&
                                f->present_mask == D->bit_p && f->accessed_mask == D->bit_a &&
                                f->dirty_mask == D->bit_d && f->table_mask == D->table_addr,
                            "entry %#lx through the masks", e);
                    /* the same entry through the raw decoders */
                    TEXPECT((e & D->bit_p) && D->raw_leaf(e, level) &&
                                D->raw_leaf_pa(e, level) == pas[k] &&
                                pt_raw_prot(D, e, level) == prot &&
                                !!(e & D->bit_a) == (state & 1) &&
                                !!(e & D->bit_d) == !!(state & 2),
                            "entry %#lx (level %u pa %#lx prot %#x state %u) read raw: pa %#lx "
                            "prot %#x",
                            e, level, pas[k], prot, state, D->raw_leaf_pa(e, level),
                            pt_raw_prot(D, e, level));
                    const char *why = D->raw_bad(e, level, true, 0);
                    TEXPECT(!why, "entry %#lx has stray bits: %s", e, why);
                    TEXPECT(!!(e & D->bit_nx) == !(prot & PT_X), "entry %#lx: NX", e);
                    if (level == 0)
                        TEXPECT(e == (pas[k] | f->make_leaf(0, 0, full)),
                                "frame not in place in %#lx", e);
                    n++;
                }
            }
        }
    }
    TEQ_U(n, D->nsizes * 4 * 64 * 4);
    /* The frame in place (the bits 12 .. pa_bits - 1 the generic code
     * assumes) for frame numbers all over the range, with various prots. */
    for (uint64_t pa = 0; pa < D->pa_limit; pa += (D->pa_limit >> 20) * 4099) {
        unsigned prot = (unsigned)(pa >> 12) & (PT_PROT_MASK | PT_ACCESSED | PT_DIRTY);
        TEXPECT(f->make_leaf(pa, 0, prot) == (pa | f->make_leaf(0, 0, prot)) &&
                    (f->make_leaf(pa, 0, prot) & frame_mask) == pa && !(frame_mask & f->present_mask),
                "frame not in place at %#lx", pa);
    }
}

TCASE(prot_str)
{
    char b[16];
    const char *s;
    TEXPECT(strcmp(s = pt_prot_str(0, b), "r-- -- wb") == 0, "0: %s", s);
    TEXPECT(strcmp(s = pt_prot_str(PT_W | PT_X | PT_U | PT_G, b), "rwx ug wb") == 0, "wxug: %s",
            s);
    TEXPECT(strcmp(s = pt_prot_str(PT_W | PT_G | PT_WC, b), "rw- -g wc") == 0, "wg wc: %s", s);
    TEXPECT(strcmp(s = pt_prot_str(PT_UC, b), "r-- -- uc") == 0, "uc: %s", s);
    TEXPECT(strcmp(s = pt_prot_str(PT_X | PT_U | PT_WT, b), "r-x u- wt") == 0, "xu wt: %s", s);
}

/* ---- set-up, mapping, walking ------------------------------------------------------------ */

TCASE(init_destroy)
{
    struct pgtable p;
    TTRY(ph_setup());
    TEQ_U(ph.pt.nr_tables, 1);
    TTRY(ph_check());
    pt_destroy(PT);
    TEQ_U(nr_free_pages(), ph.base_free);

    for (unsigned i = 0; i < D->ngood_ranges; i++) {
        const struct pt_range *r = &D->good_ranges[i];
        TEXPECT(pt_init(&p, D->fmt, D->gfp, r->start, r->end) == 0, "pt_init [%#lx, %#lx)",
                r->start, r->end);
        pt_destroy(&p);
    }
    for (unsigned i = 0; i < D->nbad_ranges; i++) {
        const struct pt_range *r = &D->bad_ranges[i];
        TEXPECT(pt_init(&p, D->fmt, D->gfp, r->start, r->end) == -EINVAL,
                "pt_init [%#lx, %#lx) accepted", r->start, r->end);
    }
    struct pt_format broken = *D->fmt;
    broken.leaf_levels &= ~1u; /* no 4 KiB leaves */
    TEQ_U(pt_init(&p, &broken, D->gfp, D->user.start, D->user.end), -EINVAL);
    broken = *D->fmt;
    broken.index_bits++; /* tables of two pages */
    TEQ_U(pt_init(&p, &broken, D->gfp, D->user.start, D->user.end), -EINVAL);
    TEQ_U(nr_free_pages(), ph.base_free);

    TTRY(ph_exhaust());
    TEQ_U(pt_init(&p, D->fmt, D->gfp | __GFP_NOWARN, D->user.start, D->user.end), -ENOMEM);
    TTRY(ph_give_back(~0ul));
    TEQ_U(nr_free_pages(), ph.base_free);
}

TCASE(map_4k)
{
    unsigned top = D->levels - 1;
    uint64_t va = 0x08048000, pa = 0x12345000;
    struct pt_view v;
    TTRY(ph_setup());
    TEQ_U(pt_map(PT, va, pa, 3 * FR, PT_W | PT_U, 0), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, D->levels); /* the root and one table per level below */
    TEQ_U(ph.fl.calls, 0);             /* filling empty entries needs no flush */
    for (uint64_t i = 0; i < 3; i++)
        TTRY(ph_expect_leaf(va + i * FR + 0x123, pa + i * FR, FR, PT_W | PT_U));

    /* The entries read on the way down: tables that allow everything. */
    TEQ_U(pt_walk(PT, va + FR, &v), 0);
    TEQ_U(v.raw[top], D->fmt->make_leaf(pa + FR, 0, PT_W | PT_U));
    TEQ_U(v.raw[0], pt_raw_entry(D, ph.pt.root, pt_raw_index(D, top, va)));
    for (unsigned l = 0; l < top; l++)
        TEQ_U(v.raw[l] & ~D->table_addr, D->user_table_bits);
    TEXPECT(!v.accessed && !v.dirty, "fresh leaf accessed or dirty");
    /* What the CPU would record, read back through the view. */
    TTRY(ph_set_bits(va + FR, 0, D->bit_a | D->bit_d));
    TEQ_U(pt_walk(PT, va + FR, &v), 0);
    TEXPECT(v.accessed && v.dirty && v.prot == (PT_W | PT_U), "A/D not read back");

    /* -ENOENT at each depth: raw says how far the walk got. */
    TEQ_U(pt_walk(PT, va + 3 * FR, &v), -ENOENT);
    TEXPECT(v.nraw == D->levels && v.level == 0 && v.raw[top] == 0, "nraw %u level %u", v.nraw,
            v.level);
    for (unsigned l = 1; l < D->levels; l++) {
        TEQ_U(pt_walk(PT, va + pt_raw_size(D, l), &v), -ENOENT);
        TEXPECT(v.nraw == D->levels - l && v.level == l && v.raw[v.nraw - 1] == 0,
                "level %u: nraw %u level %u", l, v.nraw, v.level);
    }
    /* Any translatable address can be walked, also outside [va_start, va_end). */
    TEQ_U(pt_walk(PT, D->walk_outside, &v), -ENOENT);
    TEQ_U(pt_walk(PT, D->bad_va[0], &v), -EINVAL);

    TEQ_U(pt_unmap(PT, va, 3 * FR), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, 1);
    TEQ_U(ph.fl.calls, 1);
    TEXPECT(ph.fl.va == va && ph.fl.len == 3 * FR, "flush %#lx+%#lx", ph.fl.va, ph.fl.len);
    TTRY(ph_teardown());
}

/* Leaves of the first large size, and the same range without PT_MAP_LARGE. */
TCASE(map_large)
{
    uint64_t va = 0x40000000 + L1, pa = 0x12c00000;
    uint64_t by_level[PT_MAX_LEVELS] = { 0 };
    struct pt_view v;
    TTRY(ph_setup());
    TEQ_U(pt_map(PT, va, pa, 2 * L1, PT_W | PT_U, PT_MAP_LARGE), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, D->levels - 1); /* nothing at level 0 */
    TTRY(ph_expect_leaf(va, pa, L1, PT_W | PT_U));
    TTRY(ph_expect_leaf(va + L1 + 0x12345, pa + L1, L1, PT_W | PT_U));
    TEQ_U(pt_walk(PT, va, &v), 0);
    TEXPECT(D->raw_leaf(v.raw[D->levels - 2], 1), "entry %#lx is not a large leaf",
            v.raw[D->levels - 2]);
    TTRY(ph_expect_hole(va - FR));
    TTRY(ph_expect_hole(va + 2 * L1));

    /* Write-through, mapping the last large frames below the limit. */
    uint64_t wva = 0x80000000, wpa = D->pa_limit - 2 * L1;
    TEQ_U(pt_map(PT, wva, wpa, L1, PT_X | PT_WT, PT_MAP_LARGE), 0);
    TTRY(ph_expect_leaf(wva, wpa, L1, PT_X | PT_WT));
    TTRY(ph_check());

    /* Without PT_MAP_LARGE: a table of 4 KiB leaves. */
    uint64_t sva = 0xc0000000, spa = 0x20000000;
    TEQ_U(pt_map(PT, sva, spa, L1, PT_W, 0), 0);
    TTRY(ph_check());
    TEQ_U(pt_for_each(PT, sva, sva + L1, ph_count_leaf, by_level), 0);
    TEXPECT(by_level[0] == ENTRIES && by_level[1] == 0, "%lu 4 KiB, %lu large leaves",
            by_level[0], by_level[1]);
    TTRY(ph_expect_leaf(sva + L1 - FR, spa + L1 - FR, FR, PT_W));
    TTRY(ph_teardown());
}

/* PT_MAP_LARGE takes the largest leaf that va, pa and the length allow. */
TCASE(large_choice)
{
    uint64_t by_level[PT_MAX_LEVELS] = { 0 };
    uint64_t start = D->choice.start, end = D->choice.end, off = D->choice.off;
    TTRY(ph_setup());
    TEQ_U(pt_map(PT, start, start + off, end - start, PT_W, PT_MAP_LARGE), 0);
    TTRY(ph_check());
    memset(&ph_leaves, 0, sizeof(ph_leaves));
    TEQ_U(pt_for_each(PT, ph.pt.va_start, ph.pt.va_end, ph_collect, &ph_leaves), 0);
    TEQ_U(ph_leaves.n, D->choice.n);
    uint64_t at = start;
    for (size_t i = 0; i < ph_leaves.n; i++) {
        const struct pt_view *l = &ph_leaves.v[i];
        uint64_t size = D->choice.sizes[i];
        TEXPECT(l->va == at && l->size == size && l->pa == at + off &&
                    l->nraw == D->levels - (unsigned)pt_raw_level_of(D, size),
                "leaf %zu: va %#lx size %#lx pa %#lx nraw %u, expected va %#lx size %#lx", i,
                l->va, l->size, l->pa, l->nraw, at, size);
        at += size;
    }
    TEQ_U(pt_unmap(PT, start, end - start), 0);
    TTRY(ph_check());

    /* pa congruent to va modulo 4 KiB only: 4 KiB leaves. */
    uint64_t va = 0x10000000;
    TEQ_U(pt_map(PT, va, va + FR, 2 * L1, PT_W, PT_MAP_LARGE), 0);
    TTRY(ph_check());
    TEQ_U(pt_for_each(PT, ph.pt.va_start, ph.pt.va_end, ph_count_leaf, by_level), 0);
    TEXPECT(by_level[0] == 2 * ENTRIES && by_level[1] == 0 && by_level[D->nsizes - 1] == 0,
            "%lu 4 KiB leaves, %lu at level 1", by_level[0], by_level[1]);
    TTRY(ph_expect_leaf(va, va + FR, FR, PT_W));
    TTRY(ph_teardown());
}

/* ---- refused operations -------------------------------------------------------------------- */

TCASE(einval)
{
    uint64_t r0 = 0x10000000, r1 = D->einval_end, m = 0x20000000, top = D->pa_limit;
    uint64_t bad_va = D->bad_va[0];
    TTRY(ph_setup_range(r0, r1, false));
    TEQ_U(pt_map(PT, m, 0, FR, PT_W, 0), 0);
    uint64_t snap = ph_snapshot();
    const struct {
        uint64_t va, pa, len;
        unsigned prot, flags;
    } bad[] = {
        { r0 + 1, 0, FR, 0, 0 },                  /* unaligned va */
        { r0, 0x800, FR, 0, 0 },                  /* unaligned pa */
        { r0, 0, FR + 1, 0, 0 },                  /* unaligned length */
        { r0, 0, 0, 0, 0 },                       /* zero length */
        { r0 - FR, 0, FR, 0, 0 },                 /* below va_start */
        { r1 - FR, 0, 2 * FR, 0, 0 },             /* past va_end */
        { r1, 0, FR, 0, 0 },                      /* at va_end (the i386 mirror) */
        { 0xfffffffffffff000ul, 0, 2 * FR, 0, 0 }, /* wraps past 2^64 */
        { bad_va, 0, FR, 0, 0 },                  /* not translatable */
        { bad_va - FR, 0, 2 * FR, 0, 0 },         /* across the end of the translatable */
        { r0, 0, FR, PT_ACCESSED, 0 },            /* state bits are not a prot */
        { r0, 0, FR, 0x100, 0 },                  /* unknown prot */
        { r0, 0, FR, 0, 0x2 },                    /* unknown flag */
        { r0, top, FR, 0, 0 },                    /* pa beyond the format's bits */
        { r0, top - FR, 2 * FR, 0, 0 },           /* pa range beyond them */
        { r0, top - L1, 2 * L1, 0, PT_MAP_LARGE },
        { r0, top << 8, FR, 0, 0 },               /* far beyond */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        TEXPECT(pt_map(PT, bad[i].va, bad[i].pa, bad[i].len, bad[i].prot, bad[i].flags) ==
                    -EINVAL,
                "pt_map case %zu accepted", i);
    const struct pt_range bad_unmap[] = {
        { r0 + 1, FR }, { r0, 0 }, { r0, FR - 1 }, { 0, FR }, { 0, m }, { r1, FR },
        { bad_va, FR },
    };
    for (size_t i = 0; i < sizeof(bad_unmap) / sizeof(bad_unmap[0]); i++)
        TEXPECT(pt_unmap(PT, bad_unmap[i].start, bad_unmap[i].end) == -EINVAL,
                "pt_unmap %#lx+%#lx accepted", bad_unmap[i].start, bad_unmap[i].end);
    TEXPECT(pt_protect(PT, m, FR, PT_DIRTY) == -EINVAL &&
                pt_protect(PT, m, FR, PT_ACCESSED | PT_W) == -EINVAL &&
                pt_protect(PT, r1, FR, PT_W) == -EINVAL &&
                pt_protect(PT, bad_va, FR, PT_W) == -EINVAL,
            "pt_protect accepted bad arguments");
    memset(&ph_leaves, 0, sizeof(ph_leaves));
    TEXPECT(pt_for_each(PT, m, m, ph_collect, &ph_leaves) == -EINVAL &&
                pt_for_each(PT, m + FR, m, ph_collect, &ph_leaves) == -EINVAL &&
                pt_for_each(PT, 0, bad_va + FR, ph_collect, &ph_leaves) == -EINVAL &&
                ph_leaves.n == 0,
            "pt_for_each accepted a bad range");
    struct pt_view v;
    TEQ_U(pt_walk(PT, D->bad_va[0], &v), -EINVAL);
    TEQ_U(pt_walk(PT, D->bad_va[1], &v), -EINVAL);
    TEQ_U(ph_snapshot(), snap);
    TEQ_U(ph.fl.calls, 0);
    /* The largest physical addresses are fine. */
    TEQ_U(pt_map(PT, r0, top - FR, FR, 0, 0), 0);
    TTRY(ph_expect_leaf(r0, top - FR, FR, 0));
    TEQ_U(pt_map(PT, r0 + L1, top - L1, L1, 0, PT_MAP_LARGE), 0);
    TTRY(ph_expect_leaf(r0 + L1, top - L1, L1, 0));
    TTRY(ph_check());
    TTRY(ph_teardown());
}

/* A map over anything mapped changes nothing, wherever the conflict is. */
TCASE(eexist)
{
    uint64_t p = LT + 5 * FR, x = 4 * LT;
    TTRY(ph_setup());
    TEQ_U(pt_map(PT, p, 0, FR, PT_W, 0), 0);
    TEQ_U(pt_map(PT, x, x, LT, PT_W, PT_MAP_LARGE), 0);
    uint64_t snap = ph_snapshot();
    const struct pt_range tries[] = {
        { p, FR },                  /* the same page */
        { p & ~(L1 - 1), L1 },      /* a range around it */
        { 0, p + FR },              /* from below: new tables before the conflict */
        { x - FR, 2 * FR },         /* the start of the large leaf */
        { x + 77 * FR, FR },        /* inside it */
        { x / 2, x / 2 + LT },      /* over it, from a hole */
    };
    for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
        int rc = pt_map(PT, tries[i].start, 0x10000000, tries[i].end, 0,
                        i & 1 ? PT_MAP_LARGE : 0);
        TEXPECT(rc == -EEXIST, "case %zu: %d", i, rc);
        TEQ_U(ph_snapshot(), snap);
        TTRY(ph_check());
    }
    TEQ_U(ph.fl.calls, 0);
    TTRY(ph_teardown());
}

/*
 * Exact counting: a map needing n table pages fails with n - 1 free
 * frames and leaves nothing behind (the pages it took are given back),
 * and succeeds with n.  What n is comes from the raw entries.
 */
TCASE(enomem_map)
{
    uint64_t a = 0x40000000, b = 0x80000000, c = 0xc0000000, need, snap, tables;
    TTRY(ph_setup());
    ph.pt.gfp = D->gfp | __GFP_MEMALLOC | __GFP_NOWARN; /* the last frames may go */
    TTRY(ph_exhaust());
    TTRY(ph_check());
    /* One page: a table at every level below the root. */
    need = ph_tables_missing(a, FR);
    TEQ_U(need, D->levels - 1);
    snap = ph_snapshot();
    TEQ_U(pt_map(PT, a, 0, FR, PT_W, 0), -ENOMEM);
    TEQ_U(ph_snapshot(), snap);
    TTRY(ph_give_back(need - 1));
    snap = ph_snapshot();
    TEQ_U(pt_map(PT, a, 0, FR, PT_W, 0), -ENOMEM);
    TEQ_U(ph_snapshot(), snap); /* the pages taken were given back */
    TTRY(ph_check());
    TTRY(ph_give_back(1));
    TEQ_U(pt_map(PT, a, 0, FR, PT_W, 0), 0);
    TTRY(ph_check());
    TEQ_U(nr_free_pages(), 0);

    /* Across a boundary: tables on both sides. */
    need = ph_tables_missing(b - L1, 2 * L1);
    TEXPECT(need >= 2, "%lu tables for [%#lx, %#lx)", need, b - L1, b + L1);
    tables = ph.pt.nr_tables;
    TTRY(ph_give_back(need - 1));
    snap = ph_snapshot();
    TEQ_U(pt_map(PT, b - L1, 0, 2 * L1, PT_W, 0), -ENOMEM);
    TEQ_U(ph_snapshot(), snap);
    TTRY(ph_give_back(1));
    TEQ_U(pt_map(PT, b - L1, 0, 2 * L1, PT_W, 0), 0);
    TTRY(ph_check());
    TEQ_U(nr_free_pages(), 0);
    TEQ_U(ph.pt.nr_tables, tables + need);

    /* Two level-0 tables under existing ones. */
    need = ph_tables_missing(a + L1, 2 * L1);
    TEQ_U(need, 2);
    TTRY(ph_give_back(need));
    TEQ_U(pt_map(PT, a + L1, 0, 2 * L1, PT_W, 0), 0);
    TTRY(ph_check());
    TEQ_U(nr_free_pages(), 0);

    /* None: a largest leaf where its table exists, a page in an existing table. */
    TEQ_U(pt_map(PT, c, c, LT, PT_W, PT_MAP_LARGE), 0);
    TEQ_U(pt_map(PT, a + 5 * FR, 0, FR, PT_W, 0), 0);
    TTRY(ph_check());
    TEQ_U(nr_free_pages(), 0);
    TEQ_U(ph.fl.calls, 0);
    TTRY(ph_give_back(~0ul));
    TTRY(ph_teardown());
}

/* Splits need tables: the count is exact, and a failure changes nothing. */
TCASE(enomem_split)
{
    uint64_t a0 = 0x40000000, pa = 0x80000000, need, snap, tables;
    TTRY(ph_setup());
    ph.pt.gfp = D->gfp | __GFP_MEMALLOC | __GFP_NOWARN;
    TEQ_U(pt_map(PT, a0, pa, 4 * LT, PT_W, PT_MAP_LARGE), 0);
    TTRY(ph_check());
    tables = ph.pt.nr_tables;

    /* One page out of a largest leaf: one split per leaf size below it. */
    uint64_t a = a0 + L1 + FR;
    need = ph_splits_needed(a, FR);
    TEQ_U(need, D->nsizes - 1);
    TTRY(ph_exhaust());
    snap = ph_snapshot();
    TEQ_U(pt_unmap(PT, a, FR), -ENOMEM);
    TEQ_U(pt_protect(PT, a, FR, 0), -ENOMEM);
    TEQ_U(pt_protect(PT, a, L1, 0), -ENOMEM);
    TEQ_U(ph_snapshot(), snap);
    TTRY(ph_give_back(need - 1));
    snap = ph_snapshot();
    TEQ_U(pt_unmap(PT, a, FR), -ENOMEM);
    TEQ_U(pt_protect(PT, a, FR, 0), -ENOMEM);
    TEQ_U(ph_snapshot(), snap);
    TEQ_U(ph.fl.calls, 0);
    TTRY(ph_check());
    TTRY(ph_give_back(1));
    TEQ_U(pt_unmap(PT, a, FR), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, tables + need);
    TEQ_U(nr_free_pages(), 0);
    /* Unmapping whole leaves needs nothing. */
    TEQ_U(pt_unmap(PT, a0 + 3 * LT, LT), 0);
    TTRY(ph_check());
    TEQ_U(pt_unmap(PT, ph.pt.va_start, ph.pt.va_end - ph.pt.va_start), 0);
    TTRY(ph_check());

    /* Both edges cut, in two different leaves of the first large size. */
    TTRY(ph_give_back(~0ul));
    TEQ_U(pt_map(PT, a0, pa, 4 * LT, PT_W, PT_MAP_LARGE), 0);
    uint64_t s = a0 + L1 + FR;
    need = ph_splits_needed(s, L1);
    TEXPECT(need >= 2, "%lu splits for [%#lx, %#lx)", need, s, s + L1);
    TTRY(ph_exhaust());
    TTRY(ph_give_back(need - 1));
    snap = ph_snapshot();
    TEQ_U(pt_protect(PT, s, L1, PT_X), -ENOMEM);
    TEQ_U(ph_snapshot(), snap);
    TTRY(ph_give_back(1));
    TEQ_U(pt_protect(PT, s, L1, PT_X), 0);
    TTRY(ph_check());
    TEQ_U(nr_free_pages(), 0);
    TTRY(ph_expect_leaf(a0 + L1, pa + L1, FR, PT_W));
    TTRY(ph_expect_leaf(a0 + L1 + FR, pa + L1 + FR, FR, PT_X));
    TTRY(ph_expect_leaf(a0 + 2 * L1, pa + 2 * L1, FR, PT_X));
    TTRY(ph_expect_leaf(a0 + 2 * L1 + FR, pa + 2 * L1 + FR, FR, PT_W));
    TTRY(ph_expect_leaf(a0 + 3 * L1, pa + 3 * L1, L1, PT_W));
    TTRY(ph_give_back(~0ul));
    TTRY(ph_teardown());
}

/* ---- unmapping, splitting, protecting ------------------------------------------------------ */

TCASE(unmap_frees_tables)
{
    uint64_t at[2 + 2 * PT_MAX_LEVELS];
    unsigned n = 0, top = D->levels - 1;
    at[n++] = 0;
    at[n++] = 5 * FR;
    for (unsigned l = 1; l < D->levels; l++) {
        at[n++] = pt_raw_size(D, l);
        at[n++] = 3 * pt_raw_size(D, l);
    }
    TTRY(ph_setup());
    for (unsigned i = 0; i < n; i++)
        TEQ_U(pt_map(PT, at[i], at[i], FR, PT_W, 0), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, ph_tables_needed());
    uint64_t before = nr_free_pages(), tables = ph.pt.nr_tables;
    TEQ_U(pt_unmap(PT, 5 * FR, FR), 0); /* the first table still holds page 0 */
    TEQ_U(ph.pt.nr_tables, tables);
    TEQ_U(pt_unmap(PT, 0, FR), 0);      /* now it goes */
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, tables - 1);
    TEQ_U(nr_free_pages(), before + 1);
    /* Holes only: nothing changes, no flush. */
    unsigned calls = ph.fl.calls;
    TEQ_U(pt_unmap(PT, 2 * pt_raw_size(D, top), pt_raw_size(D, top)), 0);
    TEQ_U(pt_unmap(PT, 4 * FR, L1 - 4 * FR), 0);
    TEQ_U(ph.fl.calls, calls);
    /* One range over several tables and slots. */
    uint64_t last = at[n - 1];
    TEQ_U(pt_unmap(PT, FR, last), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, 1);
    TEQ_U(ph.fl.calls, calls + 1);
    TEXPECT(ph.fl.va <= L1 && ph.fl.va + ph.fl.len >= last + FR, "flush %#lx+%#lx", ph.fl.va,
            ph.fl.len);
    TTRY(ph_teardown());
}

/* Where a split leaf's pages are: pa follows va from a0 to pa0. */
static uint64_t a0_ = 0x40000000, pa0_ = 0x80000000;

static void expect_piece(uint64_t va, uint64_t size, unsigned prot)
{
    TTRY(ph_expect_leaf(va, pa0_ + (va & ~(size - 1)) - a0_, size, prot));
}

/*
 * pt_walk_cursor: the entry read through the cursor's table, and a table
 * freed under the cursor.  Page 0's table is freed and a table for the
 * same index one level-1 size further is made (the allocator gives the
 * freed page back first): a cursor that trusted its table would read
 * that other table's entry for page 0.
 */
TCASE(walk_cursor)
{
    struct pt_cursor c = { 0 };
    struct pt_view v;
    TTRY(ph_setup());
    TEQ_U(pt_map(PT, 0, 7 * FR, FR, PT_W, 0), 0);
    TEQ_U(pt_map(PT, FR, 9 * FR, FR, 0, 0), 0);
    TEQ_U(pt_walk_cursor(PT, 0, &v, &c), 0);      /* a walk from the root fills it */
    TEQ_U(v.pa, 7 * FR);
    TEXPECT(c.pt == PT && c.table == v.table, "cursor %p table %p, view's %p", (void *)c.pt,
            c.table, v.table);
    TEQ_U(pt_walk_cursor(PT, FR, &v, &c), 0);     /* through the cursor */
    TEQ_U(v.pa, 9 * FR);
    TEQ_U(v.prot, 0);
    TEQ_U(v.index, 1);
    TEQ_U(v.nraw, D->levels);
    int rc = pt_walk_cursor(PT, 2 * FR, &v, &c);  /* a hole of the same table */
    TEXPECT(rc == -ENOENT, "a hole: %d", rc);
    TEQ_U(pt_unmap(PT, 0, 2 * FR), 0);            /* the table goes */
    TEQ_U(pt_map(PT, L1, 11 * FR, FR, PT_W, 0), 0);
    rc = pt_walk_cursor(PT, 0, &v, &c);
    TEXPECT(rc == -ENOENT, "page 0 after its table went: %d, pa %#lx", rc, v.pa);
    TEQ_U(pt_walk_cursor(PT, L1, &v, &c), 0);
    TEQ_U(v.pa, 11 * FR);
    TTRY(ph_teardown());
}

TCASE(split_unmap)
{
    const unsigned prot = PT_W | PT_U | PT_G;
    uint64_t tables;
    TTRY(ph_setup());
    TEQ_U(pt_map(PT, a0_, pa0_, 4 * LT, prot, PT_MAP_LARGE), 0);
    tables = ph.pt.nr_tables;
    /* A hole in the second largest leaf: split down to 4 KiB. */
    uint64_t hole = a0_ + LT + L1 + L1 / 2 + 5 * FR;
    uint64_t piece = hole & ~(L1 - 1), leaf = hole & ~(LT - 1);
    TEQ_U(pt_unmap(PT, hole, FR), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, tables + D->nsizes - 1);
    TEQ_U(ph.fl.calls, 1);
    TEXPECT(ph.fl.va == hole && ph.fl.len == FR, "flush %#lx+%#lx", ph.fl.va, ph.fl.len);
    TTRY(expect_piece(a0_, LT, prot));             /* the leaf before, whole */
    TTRY(expect_piece(a0_ + LT, L1, prot));        /* the split leaf's first piece */
    TTRY(expect_piece(piece, FR, prot));
    TTRY(expect_piece(hole - FR, FR, prot));
    TTRY(ph_expect_hole(hole));
    TTRY(expect_piece(hole + FR, FR, prot));
    TTRY(expect_piece(piece + L1 - FR, FR, prot));
    TTRY(expect_piece(piece + L1, L1, prot));
    TTRY(expect_piece(leaf + LT - FR, LT > L1 ? L1 : FR, prot));
    TTRY(ph_expect_hole(a0_ + 4 * LT));

    /* An unmap across two leaves cuts both. */
    uint64_t cut = a0_ + LT - 2 * FR, need = ph_splits_needed(cut, 4 * FR);
    tables = ph.pt.nr_tables;
    TEQ_U(pt_unmap(PT, cut, 4 * FR), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, tables + need);
    TTRY(expect_piece(cut - FR, FR, prot));
    TTRY(ph_expect_hole(cut));
    TTRY(ph_expect_hole(cut + 3 * FR));
    TTRY(expect_piece(cut + 4 * FR, FR, prot));

    /* Remove the rest piece by piece: tables go as they empty. */
    tables = ph.pt.nr_tables;
    TEQ_U(pt_unmap(PT, piece, hole - piece), 0);
    TTRY(ph_check());
    TEQ_U(pt_unmap(PT, hole + FR, piece + L1 - hole - FR), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, tables - 1); /* the hole's table went */
    TEQ_U(pt_unmap(PT, a0_, 4 * LT), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, 1);
    TTRY(ph_teardown());
}

TCASE(split_protect)
{
    const unsigned rw = PT_W | PT_U;
    struct pt_view v;
    uint64_t tables;
    TTRY(ph_setup());
    TEQ_U(pt_map(PT, a0_, pa0_, 3 * LT, rw, PT_MAP_LARGE), 0);
    TTRY(ph_set_bits(a0_, TOP_LEAF, D->bit_a | D->bit_d)); /* as the CPU would */
    TTRY(ph_set_bits(a0_ + LT, TOP_LEAF, D->bit_a | D->bit_d));
    tables = ph.pt.nr_tables;
    unsigned calls = ph.fl.calls;
    /* One piece of the first large size: a split when the leaf is larger. */
    TEQ_U(pt_protect(PT, a0_ + L1, L1, PT_U), 0);
    TTRY(ph_check());
    tables += LT > L1;
    TEQ_U(ph.pt.nr_tables, tables);
    TEQ_U(ph.fl.calls, calls + 1);
    TTRY(expect_piece(a0_, L1, rw));
    TTRY(expect_piece(a0_ + L1, L1, PT_U));
    TTRY(expect_piece(a0_ + 2 * L1, L1, rw));
    TEQ_U(pt_walk(PT, a0_ + L1, &v), 0);
    TEXPECT(v.accessed && v.dirty, "accessed/dirty lost by the protect");
    TEQ_U(pt_walk(PT, a0_ + LT - L1, &v), 0);
    TEXPECT(v.accessed && v.dirty, "accessed/dirty lost by the split");

    /* One page inside it: split to 4 KiB, one flush. */
    TEQ_U(pt_protect(PT, a0_ + L1 + 7 * FR, FR, PT_W | PT_X | PT_UC), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, tables + 1);
    TEQ_U(ph.fl.calls, calls + 2);
    TTRY(expect_piece(a0_ + L1 + 6 * FR, FR, PT_U));
    TTRY(expect_piece(a0_ + L1 + 7 * FR, FR, PT_W | PT_X | PT_UC));
    TTRY(expect_piece(a0_ + L1 + 8 * FR, FR, PT_U));
    TEQ_U(pt_walk(PT, a0_ + L1 + 7 * FR, &v), 0);
    TEXPECT(v.accessed && v.dirty, "accessed/dirty lost by the split and protect");

    /* The same protections again, or a hole: nothing changes, no flush. */
    calls = ph.fl.calls;
    TEQ_U(pt_protect(PT, a0_ + 2 * L1, L1, rw), 0);
    TEQ_U(pt_protect(PT, a0_ + 3 * LT, LT, PT_W), 0);
    TEQ_U(ph.fl.calls, calls);
    /* A change: one flush, covering it exactly. */
    TEQ_U(pt_protect(PT, a0_ + 2 * L1, L1, rw | PT_G), 0);
    TEQ_U(ph.fl.calls, calls + 1);
    TEXPECT(ph.fl.va == a0_ + 2 * L1 && ph.fl.len == L1, "flush %#lx+%#lx", ph.fl.va,
            ph.fl.len);
    TTRY(expect_piece(a0_ + 2 * L1, L1, rw | PT_G));
    TTRY(ph_check());
    /* A range covering a largest leaf whole: rewritten, not split. */
    tables = ph.pt.nr_tables;
    TEQ_U(pt_protect(PT, a0_ + 2 * LT, LT, PT_U | PT_WC), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, tables);
    TTRY(expect_piece(a0_ + 2 * LT, LT, PT_U | PT_WC));
    calls = ph.fl.calls;
    TEQ_U(pt_protect(PT, a0_ + 2 * LT, LT, PT_U | PT_WC), 0);
    TEQ_U(ph.fl.calls, calls);
    TTRY(ph_teardown());
}

/* ---- the flush contract ------------------------------------------------------------------- */

TCASE(flush_before_free)
{
    uint64_t va = 0xc0000000;
    TTRY(ph_setup());
    TEQ_U(pt_map(PT, va + 5 * FR, 0, 4 * FR, PT_W, 0), 0);
    TEQ_U(ph.fl.calls, 0);
    uint64_t before = nr_free_pages();
    TEQ_U(pt_unmap(PT, va, L1), 0);
    TEQ_U(ph.fl.calls, 1);
    TEXPECT(ph.fl.va <= va + 5 * FR && ph.fl.va + ph.fl.len >= va + 9 * FR && ph.fl.va >= va &&
                ph.fl.va + ph.fl.len <= va + L1,
            "flush %#lx+%#lx", ph.fl.va, ph.fl.len);
    /* Every table below the root was freed, but only after the flush. */
    TEQ_U(ph.fl.free_at, before);
    TEQ_U(nr_free_pages(), before + D->levels - 1);
    TTRY(ph_check());
    /* A flush that checks the tables in the middle of the operation found them sound. */
    TEXPECT(!ph.fl.check_failed, "pt_check failed at flush time");
    ph.pt.flush = NULL; /* no hook: fine too */
    TEQ_U(pt_map(PT, 0, 0, FR, PT_W, 0), 0);
    TEQ_U(pt_unmap(PT, 0, FR), 0);
    TTRY(ph_teardown());
}

/* ---- pt_for_each, kept top tables ---------------------------------------------------------- */

TCASE(for_each)
{
    uint64_t a = 0x40000000, b = 0x80000000, far = D->user.end - pt_raw_size(D, D->levels - 1);
    TTRY(ph_setup());
    TEQ_U(pt_map(PT, a, a, LT, PT_W, PT_MAP_LARGE), 0);
    TEQ_U(pt_map(PT, b, 0, 2 * L1, 0, PT_MAP_LARGE), 0);
    TEQ_U(pt_map(PT, b + 2 * L1, 0, 2 * FR, PT_X, 0), 0);
    TEQ_U(pt_map(PT, far, 0, FR, PT_U, 0), 0);
    const struct {
        uint64_t va, size;
        unsigned level;
    } want[] = {
        { a, LT, TOP_LEAF }, { b, L1, 1 }, { b + L1, L1, 1 },
        { b + 2 * L1, FR, 0 }, { b + 2 * L1 + FR, FR, 0 }, { far, FR, 0 },
    };
    struct ph_leaves *l = &ph_leaves;
    memset(l, 0, sizeof(*l));
    TEQ_U(pt_for_each(PT, ph.pt.va_start, ph.pt.va_end, ph_collect, l), 0);
    TEQ_U(l->n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < l->n; i++) {
        TEXPECT(l->v[i].va == want[i].va && l->v[i].size == want[i].size &&
                    l->v[i].level == want[i].level && l->v[i].nraw == D->levels - want[i].level,
                "leaf %zu: va %#lx size %#lx level %u nraw %u", i, l->v[i].va, l->v[i].size,
                l->v[i].level, l->v[i].nraw);
        struct pt_view w;
        TEQ_U(pt_walk(PT, l->v[i].va, &w), 0);
        TEXPECT(memcmp(w.raw, l->v[i].raw, sizeof(w.raw[0]) * w.nraw) == 0,
                "leaf %zu: raw entries differ from pt_walk's", i);
    }
    /* A leaf partly inside is reported whole. */
    memset(l, 0, sizeof(*l));
    TEQ_U(pt_for_each(PT, a + LT / 2, b + FR, ph_collect, l), 0);
    TEXPECT(l->n == 2 && l->v[0].va == a && l->v[1].va == b, "%zu leaves", l->n);
    /* fn's non-zero value stops the walk and is returned. */
    memset(l, 0, sizeof(*l));
    l->stop_at = 3;
    TEQ_U(pt_for_each(PT, ph.pt.va_start, ph.pt.va_end, ph_collect, l), 7);
    TEQ_U(l->n, 3);
    /* Nothing in range. */
    memset(l, 0, sizeof(*l));
    TEQ_U(pt_for_each(PT, 0xc0000000, 0xc0000000 + LT, ph_collect, l), 0);
    TEQ_U(l->n, 0);
    TTRY(ph_teardown());
}

/* Tables referenced from the root stay, empty or not, until pt_destroy. */
TCASE(keep_top_tables)
{
    unsigned top = D->levels - 1;
    uint64_t start = D->keep.start, end = D->keep.end;
    uint64_t a = start + 5 * pt_raw_size(D, top - 1);
    uint64_t b = start + (((end - start) / 2) & ~(pt_raw_size(D, top) - 1));
    TTRY(ph_setup_range(start, end, true));
    TEQ_U(pt_map(PT, a, 0, FR, PT_W, 0), 0);
    TEQ_U(pt_map(PT, b, 0, FR, PT_W, 0), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, 1 + 2 * (D->levels - 1));
    TEQ_U(pt_unmap(PT, a, FR), 0);
    TEQ_U(pt_unmap(PT, b, FR), 0);
    TTRY(ph_check()); /* the two empty tables below the root are allowed: kept */
    TEQ_U(ph.pt.nr_tables, 3);
    TEQ_U(pt_map(PT, a + pt_raw_size(D, top - 1), 0, FR, PT_W, 0), 0); /* reuses a kept table */
    TEQ_U(ph.pt.nr_tables, 3 + (D->levels - 2));
    TTRY(ph_check());
    TEQ_U(pt_unmap(PT, ph.pt.va_start, ph.pt.va_end - ph.pt.va_start), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, 3);
    pt_destroy(PT); /* takes the kept tables too */
    TEQ_U(nr_free_pages(), ph.base_free);
}

TCASE(destroy_mapped)
{
    static char why[256];
    TTRY(ph_setup());
    TEQ_U(pt_map(PT, 0x1000, 0x1000, 3 * L1, PT_W, 0), 0);
    TEQ_U(pt_map(PT, 0x40000000, 0x40000000, 3 * LT, PT_W, PT_MAP_LARGE), 0);
    TEQ_U(pt_map(PT, D->user.end - 9 * FR, 0, 9 * FR, PT_W, 0), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, ph_tables_needed());
    TEXPECT(ph.pt.nr_tables > D->levels + 1, "only %lu tables", ph.pt.nr_tables);
    pt_destroy(PT);
    TEQ_U(nr_free_pages(), ph.base_free);
    int rc = node_check(why, sizeof(why));
    TEXPECT(rc == 0, "node_check: %d: %s", rc, why);
}

/* pt_check finds a miscount, an empty table, a stray bit in a small and in
 * a large leaf. */
TCASE(validator_catches)
{
    static char why[256];
    uint64_t p = 0x00400000, x = 0x40000000;
    int rc;
    TTRY(ph_setup());
    TEQ_U(pt_map(PT, p, 0x5000, FR, PT_W, 0), 0);
    TEQ_U(pt_map(PT, x, x, LT, PT_W, PT_MAP_LARGE), 0);
    TTRY(ph_check());
    ph.pt.nr_tables++;
    rc = pt_check(PT, why, sizeof(why));
    TEXPECT(rc == -EUCLEAN && strstr(why, "nr_tables"), "miscount not caught: %d %s", rc, why);
    ph.pt.nr_tables--;
    uint64_t t = ph_table_of(p, 0);
    unsigned i = pt_raw_index(D, 0, p);
    uint64_t saved = pt_raw_entry(D, t, i);
    /* A bit the format never sets. */
    pt_raw_set(D, t, i, saved | D->stray_small);
    rc = pt_check(PT, why, sizeof(why));
    TEXPECT(rc == -EUCLEAN && strstr(why, "make_leaf"), "stray bit not caught: %d %s", rc, why);
    /* A table left empty. */
    pt_raw_set(D, t, i, 0);
    rc = pt_check(PT, why, sizeof(why));
    TEXPECT(rc == -EUCLEAN && strstr(why, "empty table"), "empty table not caught: %d %s", rc,
            why);
    pt_raw_set(D, t, i, saved);
    /* A stray bit in a largest leaf. */
    t = ph_table_of(x, TOP_LEAF);
    i = pt_raw_index(D, TOP_LEAF, x);
    saved = pt_raw_entry(D, t, i);
    pt_raw_set(D, t, i, saved | D->stray_large);
    rc = pt_check(PT, why, sizeof(why));
    TEXPECT(rc == -EUCLEAN && strstr(why, "make_leaf"), "stray bit in a large leaf not caught: "
            "%d %s", rc, why);
    pt_raw_set(D, t, i, saved);
    TTRY(ph_check());
    TTRY(ph_teardown());
}

/* ---- random operations against a page model ---------------------------------------------- */

/*
 * Random pt_map, pt_unmap and pt_protect over the format's windows, in
 * units of 4 KiB and of the first large size, with the format's own
 * decoration of the root (the i386 mirror) frozen.  After every step: the
 * validators, pt_for_each against the model (every page), pt_walk of the
 * pages around the operation (of every page each walk_every steps).
 */
static struct ph_mpage random_pages[16384];

TCASE(random)
{
    unsigned ops = D->random.ops * ph.env->random_percent / 100;
    TTRY(ph_setup());
    if (D->decorate) {
        D->decorate(PT);
        ph_freeze_outside();
    }
    ph_rng = 0x9e3779b97f4a7c15ul;
    TTRY(ph_model_init(random_pages, sizeof(random_pages) / sizeof(random_pages[0]),
                       D->random.win, D->random.nwin));
    for (unsigned op = 0; op < ops; op++) {
        uint64_t s, n, unit = ph_rnd(2) ? FR : L1;
        ph_random_range(unit, unit == FR ? 64 : 3, &s, &n);
        TTRY(ph_random_op(s, n, unit));
        TTRY(ph_check());
        TTRY(ph_model_compare_leaves());
        if (op % D->random.walk_every == 0)
            TTRY(ph_model_compare_walk(0, ph_model.npages));
        else
            TTRY(ph_model_compare_walk(s ? s - 1 : 0, s + n + 1));
    }
    TTRY(ph_model_compare_walk(0, ph_model.npages));
    /* What the run went through (a thin run tests less than it says). */
    unsigned pc = ph.env->random_percent;
    TEXPECT(ph_model.stats.maps >= D->random.min_maps * pc / 100 &&
                ph_model.stats.eexist >= D->random.min_eexist * pc / 100 &&
                ph_model.stats.einval >= D->random.min_einval * pc / 100 &&
                ph_model.stats.splits >= D->random.min_splits * pc / 100 &&
                ph_model.stats.freed >= D->random.min_freed * pc / 100 &&
                ph_model.stats.large_pages >= D->random.min_large_pages * pc / 100,
            "too little happened: %u maps, %u -EEXIST, %u -EINVAL, %u splits, %u frees, "
            "%lu pages in large leaves",
            ph_model.stats.maps, ph_model.stats.eexist, ph_model.stats.einval,
            ph_model.stats.splits, ph_model.stats.freed, ph_model.stats.large_pages);
    TTRY(ph_teardown());
}
