/*
 * Page-table cases for the single-entry operations, written once for
 * every format and both worlds (tests/shared/pt_cases.c says how): the
 * in-place leaf replacement (pt_replace, and pt_replace_view from a
 * walk's view) and payload entries (pt_set_payload, and how every other
 * operation treats them).  What they check, beyond each call's result:
 *  - neither operation allocates or frees a table: the table count and
 *    the free frame count do not move (they cannot fail halfway);
 *  - a present entry changed or removed is flushed exactly once, with the
 *    leaf's range; filling an empty entry is not flushed;
 *  - a view is replaced only while it is still what pt_walk saw of that
 *    pgtable (the CPU's accessed and dirty bits aside);
 *  - a payload entry is not present, reads back through pt_walk, keeps
 *    its table alive, stops pt_map (-EEXIST), is left alone by
 *    pt_protect, shown by pt_for_each and pt_destroy_each with
 *    v->payload set, cleared by pt_unmap, copied by pt_clone (through fn,
 *    with and without PT_SHARE_FRAMES), and anything else that is not
 *    present and not 0 is corruption for pt_check.
 */
#include "pt_cases.h"
#include "pt_harness.h"

#include <kernel/errno.h>
#include <kernel/string.h>
#include <mm/gfp.h>
#include <mm/zone.h>

#define D (ph.d)
#define PT (&ph.pt)
#define L1 (D->sizes[1])

/* The table count and the free frames, which neither operation moves. */
static uint64_t footprint(void)
{
    return ph.pt.nr_tables * 1000003ul + nr_free_pages();
}

TCASE(replace)
{
    uint64_t va = 0x08048000, pa = 0x12345000, npa = 0x00777000;
    struct pt_view v;
    TTRY(ph_setup());
    TEQ_U(pt_map(PT, va, pa, 3 * FR, PT_U, 0), 0);
    TTRY(ph_check());
    uint64_t before = footprint();

    /* New frame and rights for the middle page: one flush of that page. */
    ph.fl.calls = 0;
    TEQ_U(pt_replace(PT, va + FR, npa, PT_W | PT_U), 0);
    TTRY(ph_check());
    TEQ_U(ph.fl.calls, 1);
    TEXPECT(ph.fl.va == va + FR && ph.fl.len == FR, "flush %#lx + %#lx", ph.fl.va, ph.fl.len);
    TTRY(ph_expect_leaf(va + FR, npa, FR, PT_W | PT_U));
    TTRY(ph_expect_leaf(va, pa, FR, PT_U));             /* the neighbours are untouched */
    TTRY(ph_expect_leaf(va + 2 * FR, pa + 2 * FR, FR, PT_U));
    TEQ_U(footprint(), before);

    /* The state the CPU recorded is kept; state bits in prot are added. */
    TTRY(ph_set_bits(va, 0, D->bit_a));
    TEQ_U(pt_replace(PT, va, pa, PT_W | PT_U), 0);
    TEQ_U(pt_walk(PT, va, &v), 0);
    TEXPECT(v.accessed && !v.dirty && v.prot == (PT_W | PT_U), "state lost: a %d d %d prot %#x",
            v.accessed, v.dirty, v.prot);
    TEQ_U(pt_replace(PT, va, pa, PT_W | PT_U | PT_DIRTY), 0);
    TEQ_U(pt_walk(PT, va, &v), 0);
    TEXPECT(v.accessed && v.dirty, "PT_DIRTY not added: a %d d %d", v.accessed, v.dirty);
    TTRY(ph_check());

    /* Nothing to change: no write, no flush. */
    ph.fl.calls = 0;
    TEQ_U(pt_replace(PT, va, pa, PT_W | PT_U), 0);
    TEQ_U(ph.fl.calls, 0);

    /* Bad input: a clear error and nothing changed. */
    uint64_t snap = ph_snapshot();
    TEQ_U(pt_replace(PT, va + 3 * FR, npa, PT_W), -ENOENT);          /* empty entry */
    TEQ_U(pt_replace(PT, 0x40000000, npa, PT_W), -ENOENT);            /* no table there */
    TEQ_U(pt_replace(PT, va + 1, npa, PT_W), -EINVAL);                /* unaligned va */
    TEQ_U(pt_replace(PT, va, npa + 1, PT_W), -EINVAL);                /* unaligned pa */
    TEQ_U(pt_replace(PT, va, D->pa_limit, PT_W), -EINVAL);            /* past the format */
    TEQ_U(pt_replace(PT, va, npa, 0x100), -EINVAL);                   /* not a prot */
    TEQ_U(pt_replace(PT, D->walk_outside, npa, PT_W), -EINVAL);       /* outside the range */
    TEQ_U(pt_replace(PT, D->bad_va[0], npa, PT_W), -EINVAL);          /* not translatable */
    TEQ_U(ph_snapshot(), snap);

    /* A large leaf is replaced whole, at its own size. */
    uint64_t big = 0x40000000;
    TEQ_U(pt_map(PT, big, 2 * L1, L1, PT_U, PT_MAP_LARGE), 0);
    TTRY(ph_check());
    before = footprint();
    ph.fl.calls = 0;
    TEQ_U(pt_replace(PT, big, 4 * L1, PT_W | PT_U), 0);
    TEXPECT(ph.fl.calls == 1 && ph.fl.va == big && ph.fl.len == L1, "large flush %u %#lx + %#lx",
            ph.fl.calls, ph.fl.va, ph.fl.len);
    TTRY(ph_expect_leaf(big + 5 * FR, 4 * L1, L1, PT_W | PT_U));
    snap = ph_snapshot();
    TEQ_U(pt_replace(PT, big + FR, 4 * L1 + FR, PT_W), -EINVAL);      /* inside the leaf */
    TEQ_U(pt_replace(PT, big, 4 * L1 + FR, PT_W), -EINVAL);           /* pa not aligned to it */
    TEQ_U(ph_snapshot(), snap);
    TEQ_U(footprint(), before);
    TTRY(ph_check());
    TTRY(ph_teardown());
}

/* pt_replace_view: the leaf pt_walk found, rewritten without a second
 * walk, and refused (-EINVAL, nothing changed) when the view is not, or
 * no longer, that leaf. */
TCASE(replace_view)
{
    uint64_t va = 0x08048000, pa = 0x12345000, npa = 0x00777000, big = 0x40000000;
    static struct pt_view v, w;
    static struct pgtable other;
    TTRY(ph_setup());
    TEQ_U(pt_map(PT, va, pa, 3 * FR, PT_U, 0), 0);
    TEQ_U(pt_map(PT, big, 2 * L1, L1, PT_U, PT_MAP_LARGE), 0);
    uint64_t before = footprint();

    /* A 4 KiB leaf: one flush of its page, the neighbours untouched. */
    TEQ_U(pt_walk(PT, va + FR, &v), 0);
    TEXPECT(v.pt == PT && v.table && v.index == pt_raw_index(D, 0, va + FR),
            "view: pt %p table %p index %u", (const void *)v.pt, v.table, v.index);
    ph.fl.calls = 0;
    TEQ_U(pt_replace_view(PT, &v, npa, PT_W | PT_U | PT_DIRTY), 0);
    TEXPECT(ph.fl.calls == 1 && ph.fl.va == va + FR && ph.fl.len == FR, "flush %u %#lx + %#lx",
            ph.fl.calls, ph.fl.va, ph.fl.len);
    TEQ_U(pt_walk(PT, va + FR, &w), 0);
    TEXPECT(w.pa == npa && w.prot == (PT_W | PT_U) && w.dirty && !w.accessed,
            "replaced: pa %#lx prot %#x a %d d %d", w.pa, w.prot, w.accessed, w.dirty);
    TTRY(ph_expect_leaf(va, pa, FR, PT_U));
    TTRY(ph_expect_leaf(va + 2 * FR, pa + 2 * FR, FR, PT_U));
    TTRY(ph_check());

    /* The CPU set A since the walk: still the same leaf, A kept. */
    TEQ_U(pt_walk(PT, va, &v), 0);
    TTRY(ph_set_bits(va, 0, D->bit_a));
    TEQ_U(pt_replace_view(PT, &v, pa, PT_W | PT_U), 0);
    TEQ_U(pt_walk(PT, va, &w), 0);
    TEXPECT(w.accessed && w.prot == (PT_W | PT_U), "a %d prot %#x", w.accessed, w.prot);

    /* A large leaf, replaced whole at its own size. */
    TEQ_U(pt_walk(PT, big + 5 * FR, &v), 0);
    ph.fl.calls = 0;
    TEQ_U(pt_replace_view(PT, &v, 4 * L1, PT_W | PT_U), 0);
    TEXPECT(ph.fl.calls == 1 && ph.fl.va == big && ph.fl.len == L1, "large flush %u %#lx + %#lx",
            ph.fl.calls, ph.fl.va, ph.fl.len);
    TTRY(ph_expect_leaf(big + 7 * FR, 4 * L1, L1, PT_W | PT_U));
    TTRY(ph_check());

    /* Views that are not, or no longer, the leaf: nothing changes. */
    uint64_t snap = ph_snapshot();
    TEQ_U(pt_walk(PT, va + FR, &v), 0);
    w = v;
    TEQ_U(pt_replace_view(PT, &w, npa + 1, PT_W), -EINVAL);           /* unaligned pa */
    TEQ_U(pt_replace_view(PT, &w, D->pa_limit, PT_W), -EINVAL);       /* past the format */
    TEQ_U(pt_replace_view(PT, &w, npa, 0x100), -EINVAL);              /* not a prot */
    w.table = NULL;
    TEQ_U(pt_replace_view(PT, &w, npa, PT_W), -EINVAL);               /* not from pt_walk */
    w = v;
    w.index ^= 1;
    TEQ_U(pt_replace_view(PT, &w, npa, PT_W), -EINVAL);               /* another slot */
    TEQ_U(pt_walk(PT, big, &w), 0);
    TEQ_U(pt_replace_view(PT, &w, 4 * L1 + FR, PT_W), -EINVAL);       /* pa not aligned to it */
    TEQ_U(pt_walk(PT, va + 3 * FR, &w), -ENOENT);
    TEQ_U(pt_replace_view(PT, &w, npa, PT_W), -EINVAL);               /* a hole */
    TEQ_U(pt_init(&other, D->fmt, D->gfp, D->user.start, D->user.end), 0);
    TEQ_U(pt_replace_view(&other, &v, npa, PT_W), -EINVAL);           /* another pgtable's */
    pt_destroy(&other);
    TEQ_U(ph_snapshot(), snap);
    /* the leaf changed since the walk (here: by a pt_replace) */
    TEQ_U(pt_replace(PT, va + FR, pa + FR, PT_U), 0);
    snap = ph_snapshot();
    TEQ_U(pt_replace_view(PT, &v, npa, PT_W), -EINVAL);
    TEQ_U(ph_snapshot(), snap);
    TEQ_U(footprint(), before);
    TTRY(ph_check());
    TTRY(ph_teardown());
}

/* Collects the payloads fn sees during a clone. */
static uint64_t cloned_payloads[4];
static unsigned ncloned;

static int clone_fn(struct pt_view *v, void *arg)
{
    (void)arg;
    if (v->payload && ncloned < 4)
        cloned_payloads[ncloned++] = v->payload;
    return 0;
}

/* pt_destroy_each's function: the payloads it shows, in order (a leaf
 * counts as payload 0). */
static void show_payload(const struct pt_view *v, void *arg)
{
    struct { unsigned n; uint64_t payload[4]; } *s = arg;
    if (s->n < 4)
        s->payload[s->n] = v->payload;
    s->n++;
}

/* pt_for_each's function: counts the leaves and the payload entries
 * (each with the view a payload entry must have). */
static unsigned visit_payloads, visit_bad;

static int count_visits(const struct pt_view *v, void *arg)
{
    ++*(unsigned *)arg;
    if (v->payload) {
        visit_payloads++;
        visit_bad += v->pa || v->prot || v->size != FR || v->level || v->accessed || v->dirty ||
                     (v->va & (FR - 1));
    }
    return 0;
}

TCASE(payload)
{
    const struct pt_format *f = D->fmt;
    uint64_t va = 0x08048000, pa = 0x12345000, max = (1ul << f->payload_bits) - 1;
    struct pt_view v;
    TEXPECT(f->payload_bits >= 31 && f->make_payload && f->payload_of, "%s has no payloads",
            D->name);
    TTRY(ph_setup());
    TEQ_U(pt_map(PT, va, pa, 2 * FR, PT_W | PT_U, 0), 0);
    TTRY(ph_check());
    uint64_t before = footprint();

    /* Into an empty entry: no flush; pt_walk reads it back, not present. */
    ph.fl.calls = 0;
    TEQ_U(pt_set_payload(PT, va + 2 * FR, 0x1234), 0);
    TEQ_U(ph.fl.calls, 0);
    TTRY(ph_check());
    TEQ_U(pt_walk(PT, va + 2 * FR, &v), -ENOENT);
    TEXPECT(v.payload == 0x1234 && v.level == 0 && !(v.raw[v.nraw - 1] & D->bit_p),
            "payload %#lx level %u entry %#lx", v.payload, v.level, v.raw[v.nraw - 1]);
    TEQ_U(v.raw[v.nraw - 1], f->make_payload(0x1234));
    TEQ_U(f->payload_of(f->make_payload(max)), max);
    TEQ_U(f->payload_of(f->make_payload(1)), 1);

    /* Over a present leaf: the leaf goes, one flush of its page. */
    TEQ_U(pt_set_payload(PT, va, max), 0);
    TEXPECT(ph.fl.calls == 1 && ph.fl.va == va && ph.fl.len == FR, "flush %u %#lx + %#lx",
            ph.fl.calls, ph.fl.va, ph.fl.len);
    TEQ_U(pt_walk(PT, va, &v), -ENOENT);
    TEQ_U(v.payload, max);
    TEQ_U(footprint(), before);
    TTRY(ph_check());

    /* pt_map refuses it, pt_protect leaves it alone, pt_for_each shows it. */
    uint64_t snap = ph_snapshot();
    TEQ_U(pt_map(PT, va, pa, FR, PT_W, 0), -EEXIST);
    TEQ_U(pt_map(PT, va, pa, 4 * FR, PT_W, 0), -EEXIST);
    TEQ_U(ph_snapshot(), snap);
    TEQ_U(pt_protect(PT, va, 3 * FR, PT_U), 0);
    TEQ_U(pt_walk(PT, va, &v), -ENOENT);
    TEQ_U(v.payload, max);
    TTRY(ph_expect_leaf(va + FR, pa + FR, FR, PT_U));
    unsigned visits = 0;
    visit_payloads = visit_bad = 0;
    TEQ_U(pt_for_each(PT, va, va + 3 * FR, count_visits, &visits), 0);
    TEQ_U(visits, 3); /* the payload at va, the leaf at va + FR, the payload at va + 2 FR */
    TEQ_U(visit_payloads, 2);
    TEQ_U(visit_bad, 0);
    TEQ_U(pt_replace(PT, va, pa, PT_U), -ENOENT);     /* a payload entry is not a leaf */
    TTRY(ph_check());

    /* Bad input: a clear error and nothing changed. */
    snap = ph_snapshot();
    TEQ_U(pt_set_payload(PT, va + 3 * FR, 0), -EINVAL);              /* 0 is the empty entry */
    TEQ_U(pt_set_payload(PT, va + 3 * FR, max + 1), -EINVAL);        /* does not fit */
    TEQ_U(pt_set_payload(PT, 0x40000000, 7), -ENOENT);               /* no table: never allocates */
    TEQ_U(pt_set_payload(PT, va + 1, 7), -EINVAL);
    TEQ_U(pt_set_payload(PT, D->walk_outside, 7), -EINVAL);
    TEQ_U(ph_snapshot(), snap);
    uint64_t big = 0x40000000;
    TEQ_U(pt_map(PT, big, 2 * L1, L1, PT_U, PT_MAP_LARGE), 0);
    snap = ph_snapshot();
    TEQ_U(pt_set_payload(PT, big + FR, 7), -EINVAL);                 /* inside a large leaf */
    TEQ_U(ph_snapshot(), snap);
    TEQ_U(pt_unmap(PT, big, L1), 0);

    /* A payload entry keeps its table: with the last leaf gone, the table
     * stays for the payloads; pt_unmap clears them and frees it. */
    TEQ_U(pt_unmap(PT, va + FR, FR), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, D->levels);
    TEQ_U(pt_walk(PT, va + 2 * FR, &v), -ENOENT);
    TEQ_U(v.payload, 0x1234);

    /* pt_clone hands payload entries to fn and copies them; with
     * PT_SHARE_FRAMES and no fn it cannot know what they name. */
    static struct pgtable dpt;
    TEQ_U(pt_init(&dpt, f, D->gfp, D->user.start, D->user.end), 0);
    ncloned = 0;
    TEQ_U(pt_clone(&dpt, PT, va, va + 4 * FR, PT_W, 0, clone_fn, NULL), 0);
    TEXPECT(ncloned == 2 && cloned_payloads[0] == max && cloned_payloads[1] == 0x1234,
            "fn saw %u payloads", ncloned);
    TEQ_U(pt_walk(&dpt, va, &v), -ENOENT);
    TEQ_U(v.payload, max);
    static char why[256];
    TEXPECT(pt_check(&dpt, why, sizeof(why)) == 0, "clone: %s", why);
    /* pt_destroy_each shows them too, in order, as views */
    static struct { unsigned n; uint64_t payload[4]; } shown;
    shown.n = 0;
    pt_destroy_each(&dpt, 0, show_payload, &shown);
    TEXPECT(shown.n == 2 && shown.payload[0] == max && shown.payload[1] == 0x1234,
            "destroy showed %u payloads", shown.n);
    TEQ_U(pt_init(&dpt, f, D->gfp, D->user.start, D->user.end), 0);
    TEQ_U(pt_clone(&dpt, PT, va, va + 4 * FR, PT_W, PT_SHARE_FRAMES, NULL, NULL), -EINVAL);
    pt_destroy(&dpt);

    TEQ_U(pt_unmap(PT, va, 4 * FR), 0);
    TTRY(ph_check());
    TEQ_U(ph.pt.nr_tables, 1);
    TTRY(ph_teardown());
}

/* pt_check catches what is neither present, empty nor a payload entry, and
 * a table whose count of used entries is wrong. */
TCASE(payload_validator)
{
    static char why[256];
    uint64_t va = 0x08048000, hole = (va & ~(L1 - 1)) + 4 * L1; /* its level-1 table's */
    int rc;
    TTRY(ph_setup());
    TEQ_U(pt_map(PT, va, 0x5000, FR, PT_W, 0), 0);
    TEQ_U(pt_set_payload(PT, va + FR, 5), 0);
    TTRY(ph_check());
    /* A non-present entry above level 0 is never a payload. */
    uint64_t t = ph_table_of(hole, 1);
    unsigned i = pt_raw_index(D, 1, hole);
    TEXPECT(t && pt_raw_entry(D, t, i) == 0, "no empty entry at level 1 for %#lx", hole);
    pt_raw_set(D, t, i, D->bit_a);
    rc = pt_check(PT, why, sizeof(why));
    TEXPECT(rc == -EUCLEAN && strstr(why, "neither present"), "junk entry not caught: %d %s", rc,
            why);
    pt_raw_set(D, t, i, 0);
    /* An entry written behind the table's back: the count is stale. */
    t = ph_table_of(va, 0);
    i = pt_raw_index(D, 0, va + 2 * FR);
    pt_raw_set(D, t, i, D->fmt->make_payload(9));
    rc = pt_check(PT, why, sizeof(why));
    TEXPECT(rc == -EUCLEAN && strstr(why, "counts"), "stale count not caught: %d %s", rc, why);
    pt_raw_set(D, t, i, 0);
    TTRY(ph_check());
    TEQ_U(pt_unmap(PT, va, 2 * FR), 0);
    TTRY(ph_teardown());
}

/*
 * Fork and exit of an address space.  pt_clone with PT_SHARE_FRAMES:
 * every leaf shared as it is, its frame one more reference, the source's
 * copy losing `clear` (one flush), no call per page; payload entries go
 * to fn and are copied.  pt_destroy_each with PT_PUT_FRAMES: every frame
 * one reference less, freed with its last; payload entries go to fn.
 */
TCASE(clone_share)
{
    uint64_t va = 0x08048000;
    static struct page *pg[3];
    static struct pgtable dpt;
    static char why[256];
    static struct { unsigned n; uint64_t payload[4]; } shown;
    struct pt_view v;
    TTRY(ph_setup());
    for (unsigned k = 0; k < 3; k++) {
        pg[k] = alloc_pages(D->gfp, 0);
        TEXPECT(pg[k], "no frame");
        ph.held++;
        TEQ_U(pt_map(PT, va + k * FR, page_to_phys(pg[k]), FR, PT_W | PT_U, 0), 0);
    }
    TEQ_U(pt_set_payload(PT, va + 3 * FR, 0x77), 0);
    TEQ_U(pt_set_payload(PT, va + 5 * FR, 0x78), 0);
    TTRY(ph_check());
    TEQ_U(pt_init(&dpt, D->fmt, D->gfp, D->user.start, D->user.end), 0);
    ph.fl.calls = 0;
    ncloned = 0;
    TEQ_U(pt_clone(&dpt, PT, va, va + 8 * FR, PT_W, PT_SHARE_FRAMES, clone_fn, NULL), 0);
    TEXPECT(ph.fl.calls == 1 && ph.fl.va == va && ph.fl.len == 3 * FR, "flush %u %#lx + %#lx",
            ph.fl.calls, ph.fl.va, ph.fl.len);
    TEXPECT(ncloned == 2 && cloned_payloads[0] == 0x77 && cloned_payloads[1] == 0x78,
            "fn saw %u payloads (it must see nothing else)", ncloned);
    for (unsigned k = 0; k < 3; k++) {
        TEQ_U(page_count(pg[k]), 2);
        TTRY(ph_expect_leaf(va + k * FR, page_to_phys(pg[k]), FR, PT_U));
        TEQ_U(pt_walk(&dpt, va + k * FR, &v), 0);
        TEXPECT(v.pa == page_to_phys(pg[k]) && v.prot == PT_U, "copy %u: pa %#lx prot %#x", k,
                v.pa, v.prot);
    }
    TEQ_U(pt_walk(&dpt, va + 5 * FR, &v), -ENOENT);
    TEQ_U(v.payload, 0x78);
    TEXPECT(pt_check(&dpt, why, sizeof(why)) == 0, "clone: %s", why);
    /* Into a destination that has the entries already: -EEXIST, no frame
     * referenced twice, no payload shown twice. */
    TEQ_U(pt_clone(&dpt, PT, va, va + FR, 0, PT_SHARE_FRAMES, NULL, NULL), -EEXIST);
    TEQ_U(page_count(pg[0]), 2);
    ncloned = 0;
    TEQ_U(pt_clone(&dpt, PT, va + 3 * FR, va + 4 * FR, 0, PT_SHARE_FRAMES, clone_fn, NULL),
          -EEXIST);
    TEQ_U(ncloned, 0);

    /* The copy's exit: its references dropped in the walk, the payload
     * entries shown, every table freed. */
    shown.n = 0;
    pt_destroy_each(&dpt, PT_PUT_FRAMES, show_payload, &shown);
    TEXPECT(shown.n == 2 && shown.payload[0] == 0x77 && shown.payload[1] == 0x78,
            "exit showed %u entries", shown.n);
    for (unsigned k = 0; k < 3; k++)
        TEQ_U(page_count(pg[k]), 1);
    TEQ_U(dpt.root, 0);
    TTRY(ph_check());

    /* Once more, then the case lets go of its own references: the copy's
     * exit drops the last one and the frames go back to the allocator. */
    TEQ_U(pt_init(&dpt, D->fmt, D->gfp, D->user.start, D->user.end), 0);
    TEQ_U(pt_clone(&dpt, PT, va, va + 8 * FR, 0, PT_SHARE_FRAMES, clone_fn, NULL), 0);
    for (unsigned k = 0; k < 3; k++)
        TEQ_U(put_page(pg[k]), 1);
    uint64_t free_before = nr_free_pages() + dpt.nr_tables;
    pt_destroy_each(&dpt, PT_PUT_FRAMES, NULL, NULL);
    TEQ_U(nr_free_pages(), free_before + 3);
    ph.held -= 3;
    /* the source still maps them: only its entries go now */
    TEQ_U(pt_unmap(PT, va, 8 * FR), 0);
    TTRY(ph_teardown());
}
