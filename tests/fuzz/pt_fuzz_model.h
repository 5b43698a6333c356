/*
 * The run model of the page-table fuzz targets, one for every format:
 * tests/fuzz/fuzz_pgtable.c (x86-64) and tests/fuzz/fuzz_pt_i386.c (i386)
 * each define the few things that differ and include this file, which
 * holds the target itself (LLVMFuzzerTestOneInput).
 *
 * Each input starts a fresh node and a fresh pgtable (fz_begin, the
 * format's: its range, whether it keeps its top tables, what it puts in
 * the root outside its range), then runs a program of up to MAX_OPS
 * operations over a window of the range: pt_map, pt_unmap and pt_protect
 * in units of the format's page sizes, mostly aligned, so that every leaf
 * size, split and table free happens; pt_set_payload on single pages;
 * calls with bad arguments; and pt_clone of a range into a second, fresh
 * pgtable.
 *
 * The model is a sorted list of runs [va, end) -> (pa - va, prot), merged
 * when adjacent and equal; a payload entry is a run of one page whose
 * prot is PAYLOAD_PROT and whose offset is payload - va.  The tables are
 * read back from the raw entries (tests/shared/pt_raw.c, with the
 * format's description) into the same form, so comparing costs the number
 * of runs, not pages.  Payload entries go through every operation:
 * pt_map finds them in the way, pt_unmap clears them (no flush),
 * pt_protect leaves them, pt_for_each and pt_destroy_each show them,
 * pt_clone hands them to its function and copies them.  From the model
 * the target knows each call's result: -EEXIST exactly when a mapped page
 * is in the way, -EINVAL for bad arguments or a physical range past the
 * format's limit, -ENOMEM allowed for pt_map, and for pt_unmap/pt_protect
 * only when an end of the range cuts a large leaf (a split is needed).
 * After every call: pt_check(), the raw walker (table count, entry bits),
 * the model, free frames + table pages = the frames free before pt_init,
 * the root's entries outside the range as they were, no top-level entry
 * gone when top tables are kept, nothing changed on a failure, and the
 * flush contract (no flush for a map or a failure; one flush covering the
 * changed pages and inside the range when pages were unmapped or
 * re-protected, called before any table page was freed).  At the end
 * everything is unmapped, the tables destroyed, and every frame must be
 * back.
 *
 * The clone copies a range with a `clear` mask, a per-leaf function that
 * moves frames (modulo the format's physical limit) and flips rights,
 * leaves payload entries as they are, and may fail at its k-th call, and
 * the little memory left (-ENOMEM).  The
 * copies must be a prefix, in address order, of src's leaves in the
 * range, as the function made them; -EINVAL exactly when a large leaf
 * crosses an edge (at once for the start edge); src's copied pages lose
 * `clear` (one flush covering them, inside the range), nothing else
 * changes; both tables pass pt_check and the raw walker; then the copy is
 * destroyed (pt_destroy_each, its leaves checked as they go, or
 * pt_destroy) and every frame must be back.
 *
 * Before including, a target defines FUZZ_NAME, DESC (its struct
 * pt_desc), SPAN (the window's length), MAX_RUNS, PA_STEP (physical
 * addresses are multiples of it plus an offset), CLONE_STEP (the clone's
 * frame moves), and MAX_UNITS (the most units of each page size one
 * operation covers, smallest size first); after including, it defines
 * fz_begin().
 */
#ifndef TESTS_FUZZ_PT_FUZZ_MODEL_H
#define TESTS_FUZZ_PT_FUZZ_MODEL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_host.h"
#include "../shared/pt_raw.h"
#include <kernel/errno.h>
#include <mm/gfp.h>
#include <mm/pgtable.h>
#include <mm/zone.h>

#include "fuzz_input.h"

#define MAX_OPS 64

/* Start an input: a fresh node (mm_host_init or mm_host_reset), then
 * pt_init of pt with the format's range and gfp, its decorations, and
 * win, the window's start.  The target's own. */
static void fz_begin(uint8_t how);

/* ---- the model: runs of pages with one offset pa - va and one prot ----------------------- */

/* The prot of a payload entry's run (no PT_* value has it); its offset is
 * payload - va. */
#define PAYLOAD_PROT 0x100u

struct run {
    uint64_t va, end, delta;
    unsigned prot;
};

static struct run model[MAX_RUNS], tmp[MAX_RUNS], seen[MAX_RUNS];
static size_t nmodel, nseen;

NOCOV static void push(struct run *a, size_t *n, struct run r)
{
    if (r.va >= r.end)
        return;
    if (*n && a[*n - 1].end == r.va && a[*n - 1].delta == r.delta && a[*n - 1].prot == r.prot) {
        a[*n - 1].end = r.end; /* merge with the previous run */
        return;
    }
    if (*n == MAX_RUNS)
        DIE("more than %d runs", MAX_RUNS);
    a[(*n)++] = r;
}

/* Rebuild the model with [a, b) removed (prot < 0), re-protected, or (with
 * clear) losing the rights in clear.  Payload entries are removed, but
 * neither re-protected nor cleared. */
static void model_change(uint64_t a, uint64_t b, int prot, unsigned clear)
{
    size_t n = 0;
    for (size_t i = 0; i < nmodel; i++) {
        struct run r = model[i];
        if (r.end <= a || r.va >= b || (prot >= 0 && r.prot == PAYLOAD_PROT)) {
            push(tmp, &n, r);
            continue;
        }
        push(tmp, &n, (struct run){ r.va, a, r.delta, r.prot });
        if (prot >= 0)
            push(tmp, &n, (struct run){ r.va > a ? r.va : a, r.end < b ? r.end : b, r.delta,
                                        clear ? r.prot & ~clear : (unsigned)prot });
        push(tmp, &n, (struct run){ b, r.end, r.delta, r.prot });
    }
    memcpy(model, tmp, n * sizeof(model[0]));
    nmodel = n;
}

static void model_map(uint64_t a, uint64_t b, uint64_t delta, unsigned prot)
{
    size_t n = 0, i = 0;
    while (i < nmodel && model[i].va < a)
        push(tmp, &n, model[i++]);
    push(tmp, &n, (struct run){ a, b, delta, prot });
    while (i < nmodel)
        push(tmp, &n, model[i++]);
    memcpy(model, tmp, n * sizeof(model[0]));
    nmodel = n;
}

/* The first and last+1 addresses of [a, b) used by a leaf or (unless
 * present_only) a payload entry, and whose prot differs from differs_from
 * when it is >= 0; lo > hi when none. */
static void model_mapped(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi, int differs_from,
                         bool present_only)
{
    *lo = ~0ul;
    *hi = 0;
    for (size_t i = 0; i < nmodel; i++) {
        uint64_t s = model[i].va > a ? model[i].va : a, e = model[i].end < b ? model[i].end : b;
        if (s >= e || (differs_from >= 0 && model[i].prot == (unsigned)differs_from) ||
            (present_only && model[i].prot == PAYLOAD_PROT))
            continue;
        if (s < *lo)
            *lo = s;
        if (e > *hi)
            *hi = e;
    }
}

/* ---- the tables under test ------------------------------------------------------------------ */

static struct pgtable pt;
static uint64_t base_free, win;

static unsigned flushes;
static uint64_t flush_va, flush_len, free_at_flush;

static void rec_flush(struct pgtable *p, uint64_t va, uint64_t len)
{
    (void)p;
    flushes++;
    flush_va = va;
    flush_len = len;
    free_at_flush = nr_free_pages();
}

/* The root's present entries outside the range when the input began (the
 * i386 mirror): they must stay as they are. */
static unsigned nfrozen;
static uint64_t frozen[16][2];
static unsigned top_entries; /* top-level entries pointing to tables, at the last check */

NOCOV static uint64_t root_entry(const struct pgtable *p, unsigned i)
{
    return pt_raw_entry(DESC, p->root, i);
}

static void freeze_outside(void)
{
    const struct pt_desc *d = DESC;
    uint64_t size = pt_raw_size(d, d->levels - 1);
    nfrozen = 0;
    for (unsigned i = 0; i < (1u << d->index_bits); i++) {
        uint64_t va = i * size, e = root_entry(&pt, i);
        if (d->sign_extend && ((va >> (d->va_bits - 1)) & 1))
            va |= ~((1ul << d->va_bits) - 1);
        if (e && (va + size - 1 < pt.va_start || va >= pt.va_end) && nfrozen < 16) {
            frozen[nfrozen][0] = i;
            frozen[nfrozen][1] = e;
            nfrozen++;
        }
    }
}

NOCOV static bool fz_is_ram(uint64_t pa)
{
    return mm_host_is_ram(pa, FR);
}

NOCOV static void raw_leaf(void *arg, uint64_t va, uint64_t size, uint64_t pa, unsigned prot)
{
    (void)arg;
    push(seen, &nseen, (struct run){ va, va + size, pa - va, prot });
}

NOCOV static void raw_payload(void *arg, uint64_t va, uint64_t payload)
{
    (void)arg;
    push(seen, &nseen, (struct run){ va, va + FR, payload - va, PAYLOAD_PROT });
}

/* The raw walker over p: its leaves as runs into seen[], its table count
 * checked against nr_tables. */
NOCOV static void raw_walk(int op, const struct pgtable *p, const char *which)
{
    static struct pt_raw w;
    memset(&w, 0, sizeof(w));
    w.d = DESC;
    w.pt = p;
    w.is_ram = fz_is_ram;
    w.leaf = raw_leaf;
    w.payload = raw_payload;
    nseen = 0;
    if (pt_raw_walk(&w))
        DIE("op %d: %s: raw walk: %s", op, which, w.why);
    if (w.tables != p->nr_tables)
        DIE("op %d: %s: %lu tables reachable, nr_tables %lu", op, which, w.tables,
            p->nr_tables);
}

static int leaf(const struct pt_view *v, void *arg)
{
    (void)arg;
    if (v->payload)
        push(seen, &nseen, (struct run){ v->va, v->va + FR, v->payload - v->va, PAYLOAD_PROT });
    else
        push(seen, &nseen, (struct run){ v->va, v->va + v->size, v->pa - v->va, v->prot });
    return 0;
}

/* The leaves found, as runs, against the expected runs. */
NOCOV static void compare_with(int op, const struct run *want, size_t nwant)
{
    for (size_t i = 0; i < nseen || i < nwant; i++)
        if (i >= nseen || i >= nwant || seen[i].va != want[i].va ||
            seen[i].end != want[i].end || seen[i].delta != want[i].delta ||
            seen[i].prot != want[i].prot)
            DIE("op %d: run %zu: tables [%#lx, %#lx) +%#lx prot %#x, model [%#lx, %#lx) "
                "+%#lx prot %#x",
                op, i, i < nseen ? seen[i].va : 0, i < nseen ? seen[i].end : 0,
                i < nseen ? seen[i].delta : 0, i < nseen ? seen[i].prot : 0,
                i < nwant ? want[i].va : 0, i < nwant ? want[i].end : 0,
                i < nwant ? want[i].delta : 0, i < nwant ? want[i].prot : 0);
}

/* After every operation: the frame count, pt_check, the raw walker, the
 * model, the root outside the range, and with keep_top_tables no
 * top-level table ever goes away. */
NOCOV static void check(int op)
{
    char why[256];
    unsigned top = 0, level = DESC->levels - 1;
    const void *root = pt_raw_table(pt.root);
    for (unsigned i = 0; i < (1u << DESC->index_bits); i++) {
        uint64_t e = pt_raw_at(DESC, root, i);
        top += (e & DESC->bit_p) && !DESC->raw_leaf(e, level);
    }
    if (pt.keep_top_tables && top < top_entries)
        DIE("op %d: a kept top-level table was freed", op);
    top_entries = top;
    for (unsigned k = 0; k < nfrozen; k++)
        if (root_entry(&pt, (unsigned)frozen[k][0]) != frozen[k][1])
            DIE("op %d: root entry %lu is %#lx, it was %#lx", op, frozen[k][0],
                root_entry(&pt, (unsigned)frozen[k][0]), frozen[k][1]);
    if (nr_free_pages() + pt.nr_tables != base_free)
        DIE("op %d: %lu free + %lu tables != %lu", op, nr_free_pages(), pt.nr_tables,
            base_free);
    if (pt_check(&pt, why, sizeof(why)))
        DIE("op %d: pt_check: %s", op, why);
    raw_walk(op, &pt, "src");
    compare_with(op, model, nmodel);
}

/* The walker's own view of the window, through pt_for_each. */
static void check_walker(int op)
{
    nseen = 0;
    if (pt_for_each(&pt, win, win + SPAN, leaf, NULL))
        DIE("op %d: pt_for_each failed", op);
    compare_with(op, model, nmodel);
}

/* Would pt_unmap/pt_protect of [va, va + len) have to split a leaf? */
static bool cuts_a_leaf(uint64_t va, uint64_t len)
{
    struct pt_view v;
    if (pt_walk(&pt, va, &v) == 0 && (va & (v.size - 1)))
        return true;
    return pt_walk(&pt, va + len - 1, &v) == 0 && ((va + len) & (v.size - 1));
}

/* A range of the window: a unit (one of the format's page sizes), a start
 * aligned to it and a length of 1 to MAX_UNITS units, sometimes shifted
 * or shortened by some pages, cut at the window's end. */
static void pick_range(struct input *in, uint64_t *va, uint64_t *len, uint64_t *unit)
{
    static const unsigned max_units[] = MAX_UNITS;
    uint8_t b = u8(in);
    unsigned k = b % DESC->nsizes;
    uint64_t u = DESC->sizes[k], end = win + SPAN;
    uint64_t first = (win + u - 1) & ~(u - 1); /* the first unit boundary in the window */
    uint64_t start = first + (u16(in) % ((end - first) / u)) * u;
    uint64_t n = (1 + (b >> 2) % max_units[k]) * u, shave;
    if (b & 0x40)
        start += (u8(in) % 8) * FR;
    if (start >= end)
        start = end - FR;
    if ((b & 0x80) && (shave = (u8(in) % 8) * FR) < n)
        n -= shave;
    if (n > end - start)
        n = end - start;
    *unit = u;
    *va = start;
    *len = n;
}

/* The flush contract for an operation that returned rc and should have
 * changed the pages in [lo, hi) (none when lo >= hi). */
static void check_flush(int op, int rc, uint64_t va, uint64_t len, uint64_t lo, uint64_t hi,
                        unsigned before, uint64_t free_before)
{
    unsigned calls = flushes - before;
    if (calls > 1 || (rc && calls))
        DIE("op %d: %u flushes (rc %d)", op, calls, rc);
    if (rc == 0 && lo < hi && calls != 1)
        DIE("op %d: pages changed in [%#lx, %#lx) but no flush", op, lo, hi);
    if (!calls)
        return;
    if (flush_va < va || flush_va + flush_len > va + len ||
        (lo < hi && (flush_va > lo || flush_va + flush_len < hi)))
        DIE("op %d: flush %#lx+%#lx for changes [%#lx, %#lx) in %#lx+%#lx", op, flush_va,
            flush_len, lo, hi, va, len);
    if (free_at_flush > free_before)
        DIE("op %d: a table was freed before the flush", op);
}

static void do_map(struct input *in, int op)
{
    const struct pt_desc *d = DESC;
    uint64_t va, len, unit, l1 = d->sizes[1], top = d->sizes[d->nsizes - 1];
    pick_range(in, &va, &len, &unit);
    uint8_t b = u8(in);
    unsigned prot = b & PT_PROT_MASK;
    /*
     * pa congruent to va modulo the unit (mostly), so that large leaves
     * fit, anywhere below the format's limit and sometimes past it.  Runs
     * of 4 KiB leaves are kept to the first large size: longer ones cost
     * time and find nothing new, so units of a largest size above it
     * always use large leaves, at least of the first large size.
     */
    bool huge = unit == top && top > l1;
    uint64_t pa = (uint64_t)u8(in) * PA_STEP;
    if (!(b & 0x40))
        pa += va % unit;
    else if (huge)
        pa += va % l1 + u8(in) * l1;
    else
        pa += u8(in) * FR;
    unsigned flags = (b & 0x80) && !huge ? 0 : PT_MAP_LARGE;
    if ((!flags || (pa - va) % l1) && len > l1)
        len = l1;
    bool too_high = pa >= d->pa_limit || len > d->pa_limit - pa;
    uint64_t lo, hi, free_before = nr_free_pages(), tables = pt.nr_tables;
    unsigned before = flushes;
    model_mapped(va, va + len, &lo, &hi, -1, false); /* a payload entry is in the way too */
    int rc = pt_map(&pt, va, pa, len, prot, flags);
    if (too_high ? rc != -EINVAL : lo < hi ? rc != -EEXIST : rc != 0 && rc != -ENOMEM)
        DIE("op %d: map %#lx+%#lx to %#lx: %d (mapped in range: %d, too high: %d)", op, va,
            len, pa, rc, lo < hi, too_high);
    if (rc == 0)
        model_map(va, va + len, pa - va, prot);
    else if (pt.nr_tables != tables || nr_free_pages() != free_before)
        DIE("op %d: failed map changed the tables or leaked frames", op);
    check_flush(op, rc, va, len, 0, 0, before, free_before);
}

static void do_change(struct input *in, int op, bool unmap)
{
    uint64_t va, len, unit;
    pick_range(in, &va, &len, &unit);
    unsigned prot = u8(in) & PT_PROT_MASK;
    uint64_t lo, hi, free_before = nr_free_pages(), tables = pt.nr_tables;
    unsigned before = flushes;
    bool cut = cuts_a_leaf(va, len);
    /* only present pages need a flush (payload entries are cleared
     * without, and never re-protected) */
    model_mapped(va, va + len, &lo, &hi, unmap ? -1 : (int)prot, true);
    int rc = unmap ? pt_unmap(&pt, va, len) : pt_protect(&pt, va, len, prot);
    if (rc != 0 && !(rc == -ENOMEM && cut))
        DIE("op %d: %s %#lx+%#lx: %d", op, unmap ? "unmap" : "protect", va, len, rc);
    if (rc == 0)
        model_change(va, va + len, unmap ? -1 : (int)prot, 0);
    else if (pt.nr_tables != tables || nr_free_pages() != free_before)
        DIE("op %d: failed change altered the tables or leaked frames", op);
    check_flush(op, rc, va, len, lo, hi, before, free_before);
}

/* pt_set_payload on one page of the window: 0 where a level-0 table
 * reaches it (a 4 KiB leaf there goes, with one flush of its page),
 * -ENOENT where none does, -EINVAL inside a large leaf or for a payload
 * that does not fit; nothing changed on an error, and never a table
 * allocated or freed. */
static void do_payload(struct input *in, int op)
{
    uint64_t va, len, unit, max = (1ul << DESC->fmt->payload_bits) - 1;
    pick_range(in, &va, &len, &unit);
    uint8_t b = u8(in);
    if ((b & 1) && nmodel) {
        /* mostly over or next to a 4 KiB page there is: its table exists */
        uint8_t k = u8(in), off = u8(in) % 4;
        for (size_t tries = 0; tries < nmodel && tries < 16; tries++) {
            const struct run *r = &model[(k + tries) % nmodel];
            struct pt_view rv;
            uint64_t at = r->va + off * FR < win + SPAN ? r->va + off * FR : r->va;
            if (pt_walk(&pt, r->va, &rv) == -ENOENT || rv.level == 0) {
                va = at;
                break;
            }
        }
    }
    uint64_t x = b & 0x80 ? max - u8(in) : 1 + ((uint64_t)u16(in) << 8 | u8(in)) % max;
    if ((b & 0x60) == 0x60)
        x = b & 0x10 ? 0 : max + 1; /* no payload: -EINVAL */
    struct pt_view v;
    int w = pt_walk(&pt, va, &v), want;
    bool leaf_there = w == 0 && v.level == 0;
    if (x == 0 || x > max || (w == 0 && v.level > 0))
        want = -EINVAL;
    else if (w == -ENOENT && v.level > 0)
        want = -ENOENT;
    else
        want = 0;
    uint64_t free_before = nr_free_pages(), tables = pt.nr_tables;
    unsigned before = flushes;
    int rc = pt_set_payload(&pt, va, x);
    if (rc != want)
        DIE("op %d: set_payload %#lx at %#lx: %d, expected %d", op, x, va, rc, want);
    if (pt.nr_tables != tables || nr_free_pages() != free_before)
        DIE("op %d: set_payload allocated or freed a table", op);
    check_flush(op, rc, va, FR, leaf_there && !rc ? va : 0, leaf_there && !rc ? va + FR : 0,
                before, free_before);
    if (rc == 0) {
        model_change(va, va + FR, -1, 0);
        model_map(va, va + FR, x - va, PAYLOAD_PROT);
    }
}

/* Bad arguments: -EINVAL and nothing else. */
static void do_bad(struct input *in, int op)
{
    const struct pt_desc *d = DESC;
    uint64_t va, len, unit;
    pick_range(in, &va, &len, &unit);
    uint8_t b = u8(in);
    uint64_t pa = 0;
    unsigned prot = 0, c = b % 7;
    switch (c) {
    case 0: va |= 1 + (b >> 3); break;                       /* unaligned */
    case 1: len = 0; break;
    case 2: va = pt.va_end - FR; len = 2 * FR; break;        /* past the end (the mirror) */
    case 3: prot = PT_ACCESSED << (b & 1); break;            /* not a prot */
    case 4: pa = d->pa_limit - FR; len += FR; break;         /* pa too high */
    case 5: va = d->bad_va[0] + (b >> 3) * FR; len = FR; break; /* not translatable */
    default: va = pt.va_end; len = FR; break;                /* the end itself */
    }
    unsigned before = flushes;
    uint64_t free_before = nr_free_pages();
    int rc = pt_map(&pt, va, pa, len, prot, 0);
    if (rc != -EINVAL)
        DIE("op %d: bad map case %u gave %d", op, c, rc);
    if (c != 3 && c != 4 && pt_unmap(&pt, va, len) != -EINVAL)
        DIE("op %d: bad unmap case %u accepted", op, c);
    if (c != 4 && pt_protect(&pt, va, len, prot) != -EINVAL)
        DIE("op %d: bad protect case %u accepted", op, c);
    check_flush(op, -EINVAL, va, len, 0, 0, before, free_before);
}

/* ---- pt_clone into a second pgtable -------------------------------------------------------- */

static struct pgtable dst;
static struct run expect[MAX_RUNS];
static size_t nexpect;

/* The per-leaf function: frames moved by clone_delta (a multiple of
 * CLONE_STEP, modulo the format's physical limit: every leaf stays
 * aligned), rights flipped by clone_xor, -E2BIG at call clone_fail_at
 * (1-based, 0: never). */
static unsigned clone_calls, clone_ok, clone_fail_at, clone_xor, clone_clear;
static uint64_t clone_delta;
static bool clone_bad_view;

static int clone_leaf(struct pt_view *v, void *arg)
{
    (void)arg;
    clone_calls++;
    if (v->prot & clone_clear)
        clone_bad_view = true; /* fn must get src's view without `clear` */
    if (v->payload && (v->pa || v->prot || v->size != FR))
        clone_bad_view = true; /* a payload entry maps nothing */
    if (clone_fail_at && clone_calls == clone_fail_at)
        return -E2BIG;
    if (!v->payload) { /* a payload entry is copied as it is */
        v->pa = (v->pa + clone_delta) & (DESC->pa_limit - 1);
        v->prot ^= clone_xor;
    }
    clone_ok++;
    return 0;
}

static int count_leaf(const struct pt_view *v, void *arg)
{
    (void)v;
    (*(uint64_t *)arg)++;
    return 0;
}

/* pt_destroy_each's fn: leaves and payload entries in address order,
 * each inside the expected runs with the expected frame (or payload) and
 * rights; the bytes add up. */
static uint64_t td_next, td_bytes;
static int td_op;

NOCOV static void teardown_leaf(const struct pt_view *v, void *arg)
{
    (void)arg;
    uint64_t va = v->va, size = v->size, pa = v->payload ? v->payload : v->pa;
    unsigned prot = v->payload ? PAYLOAD_PROT : v->prot;
    if (va < td_next || (va & (size - 1)) || (!v->payload && (pa & (size - 1))))
        DIE("op %d: pt_destroy_each: entry %#lx size %#lx (pa %#lx) out of order or misaligned",
            td_op, va, size, pa);
    td_next = va + size;
    td_bytes += size;
    for (size_t i = 0; i < nexpect; i++)
        if (expect[i].va <= va && va + size <= expect[i].end) {
            if (pa != va + expect[i].delta || prot != expect[i].prot)
                DIE("op %d: pt_destroy_each: entry %#lx has pa/payload %#lx prot %#x, expected "
                    "%#lx %#x", td_op, va, pa, prot, va + expect[i].delta, expect[i].prot);
            return;
        }
    DIE("op %d: pt_destroy_each: entry %#lx size %#lx is not in the copy", td_op, va, size);
}

/* Runs of the model in [a, b) as the clone makes them, into expect[]: a
 * run whose moved frames pass the physical limit continues at frame 0. */
NOCOV static void expect_copies(uint64_t a, uint64_t b)
{
    uint64_t limit = DESC->pa_limit;
    nexpect = 0;
    for (size_t i = 0; i < nmodel; i++) {
        struct run r = model[i];
        r.va = r.va > a ? r.va : a;
        r.end = r.end < b ? r.end : b;
        if (r.va >= r.end)
            continue;
        if (r.prot == PAYLOAD_PROT) { /* copied as it is */
            push(expect, &nexpect, r);
            continue;
        }
        r.prot = (r.prot & ~clone_clear) ^ clone_xor;
        uint64_t pa = (r.va + r.delta + clone_delta) & (limit - 1);
        uint64_t room = limit - pa;
        r.delta = pa - r.va;
        if (r.end - r.va <= room) {
            push(expect, &nexpect, r);
            continue;
        }
        push(expect, &nexpect, (struct run){ r.va, r.va + room, r.delta, r.prot });
        push(expect, &nexpect, (struct run){ r.va + room, r.end, 0 - (r.va + room), r.prot });
    }
}

static void do_clone(struct input *in, int op)
{
    static const unsigned clears[4] = { 0, PT_W, PT_W | PT_X, PT_U | PT_G | PT_WC };
    static const unsigned xors[4] = { 0, PT_W, PT_X | PT_U, PT_UC | PT_G };
    uint64_t va, len, unit;
    pick_range(in, &va, &len, &unit);
    uint8_t b = u8(in), f = u8(in);
    if ((b & 0x80) && nmodel) { /* start at (or just before) a payload entry, if any */
        for (size_t k = 0, i = u8(in) % nmodel; k < nmodel; k++, i = (i + 1) % nmodel)
            if (model[i].prot == PAYLOAD_PROT) {
                uint64_t back = (uint64_t)(f & 3) * FR;
                va = model[i].va - back >= win ? model[i].va - back : win;
                len = len > win + SPAN - va ? win + SPAN - va : len;
                break;
            }
    }
    clone_clear = clears[b & 3];
    clone_xor = xors[(b >> 2) & 3];
    clone_delta = ((b >> 4) & 3) * CLONE_STEP;
    clone_fail_at = f & 0x80 ? 1 + (f & 0x3f) : 0;
    clone_calls = clone_ok = 0;
    clone_bad_view = false;

    uint64_t free_before = nr_free_pages();
    if (pt_init(&dst, DESC->fmt, pt.gfp, pt.va_start, pt.va_end))
        return; /* no frame for its root: fine, nothing to clone into */
    /* What must happen at the edges: a large leaf across the start
     * stops the clone at once, one across the end when it is reached. */
    struct pt_view v;
    bool cut_start = pt_walk(&pt, va, &v) == 0 && v.va < va;
    uint64_t cut_end = va + len; /* start of a leaf across the end, or the end */
    if (pt_walk(&pt, va + len - 1, &v) == 0 && v.va + v.size > va + len)
        cut_end = v.va;
    unsigned before = flushes;

    int rc = pt_clone(&dst, &pt, va, va + len, clone_clear, 0, clone_leaf, NULL);

    char why[256];
    if (pt_check(&dst, why, sizeof(why)))
        DIE("op %d: pt_check(dst) after clone (rc %d): %s", op, rc, why);
    if (pt_check(&pt, why, sizeof(why)))
        DIE("op %d: pt_check(src) after clone (rc %d): %s", op, rc, why);
    if (clone_bad_view)
        DIE("op %d: fn got a view with rights from clear %#x", op, clone_clear);
    /* dst's leaves through the raw walker (same range as pt) */
    uint64_t nleaves = 0;
    raw_walk(op, &dst, "dst");
    pt_for_each(&dst, dst.va_start, dst.va_end, count_leaf, &nleaves);
    /* the copies end at x: a prefix of the range */
    uint64_t x = nseen ? seen[nseen - 1].end : va;
    if (nseen && (seen[0].va < va || x > va + len))
        DIE("op %d: dst maps [%#lx, %#lx) outside the range %#lx+%#lx", op, seen[0].va, x, va,
            len);
    /* exactly the leaves fn said yes to, each as fn made it */
    uint64_t src_leaves = 0;
    if (x > va)
        pt_for_each(&pt, va, x, count_leaf, &src_leaves);
    if (nleaves != clone_ok || src_leaves != clone_ok)
        DIE("op %d: clone rc %d: fn said yes %u times, dst has %lu leaves, src %lu in the "
            "copied prefix", op, rc, clone_ok, nleaves, src_leaves);
    expect_copies(va, x);
    compare_with(op, expect, nexpect);
    /* the value: a large leaf across the start is the first leaf met, so
     * nothing is copied and fn never called (-ENOMEM for dst's tables on
     * the way down to it may come first) */
    uint64_t lo, hi;
    if (cut_start && (clone_calls || nseen || (rc != -EINVAL && rc != -ENOMEM)))
        DIE("op %d: clone %#lx+%#lx with a large leaf across the start: %d, %u fn calls", op,
            va, len, rc, clone_calls);
    switch (rc) {
    case 0:
    case -EINVAL:
        if (rc == 0 ? cut_start || cut_end != va + len : !cut_start && cut_end == va + len)
            DIE("op %d: clone %#lx+%#lx: %d, large leaf across the start %d / end %d", op, va,
                len, rc, cut_start, cut_end != va + len);
        if (clone_calls != clone_ok)
            DIE("op %d: clone %d after a failing fn", op, rc);
        /* nothing left behind before the edge (or the end) */
        model_mapped(x, cut_start ? va : cut_end, &lo, &hi, -1, false);
        if (lo < hi)
            DIE("op %d: clone %d: [%#lx, %#lx) mapped in src, not copied", op, rc, lo, hi);
        break;
    case -E2BIG:
        if (!clone_fail_at || clone_calls != clone_fail_at || clone_ok + 1 != clone_calls)
            DIE("op %d: -E2BIG after %u calls (fail at %u)", op, clone_calls, clone_fail_at);
        break;
    case -ENOMEM:
        if (clone_calls != clone_ok)
            DIE("op %d: -ENOMEM after %u calls, %u ok", op, clone_calls, clone_ok);
        break;
    default:
        DIE("op %d: clone %#lx+%#lx: %d", op, va, len, rc);
    }
    /* src: the copied pages lost `clear`, one flush covering them */
    lo = ~0ul;
    hi = 0;
    for (size_t i = 0; i < nmodel; i++) {
        uint64_t s = model[i].va > va ? model[i].va : va, e = model[i].end < x ? model[i].end : x;
        if (s < e && (model[i].prot & clone_clear)) {
            lo = s < lo ? s : lo;
            hi = e > hi ? e : hi;
        }
    }
    if (clone_clear)
        model_change(va, x, 0, clone_clear);
    unsigned calls = flushes - before;
    if (calls != (lo < hi) || (calls && (flush_va > lo || flush_va + flush_len < hi ||
                                         flush_va < va || flush_va + flush_len > va + len)))
        DIE("op %d: %u src flushes (%#lx+%#lx) for changes in [%#lx, %#lx) of %#lx+%#lx", op,
            calls, flush_va, flush_len, lo, hi, va, len);
    /* and away with the copy */
    if (b & 0x40) {
        td_next = 0;
        td_bytes = 0;
        td_op = op;
        pt_destroy_each(&dst, 0, teardown_leaf, NULL);
        uint64_t bytes = 0;
        for (size_t i = 0; i < nexpect; i++)
            bytes += expect[i].end - expect[i].va;
        if (td_bytes != bytes)
            DIE("op %d: pt_destroy_each reported %#lx bytes, the copy has %#lx", op, td_bytes,
                bytes);
    } else {
        pt_destroy(&dst);
    }
    if (dst.root != 0 || dst.nr_tables != 0 || nr_free_pages() != free_before)
        DIE("op %d: %lu frames free after destroying the copy, %lu before its pt_init", op,
            nr_free_pages(), free_before);
}

/* ---- one input ----------------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    fz_begin(u8(&in));
    pt.flush = rec_flush;
    nmodel = 0;
    flushes = 0;
    top_entries = 0;
    freeze_outside();
    check(-1);
    for (int op = 0; op < MAX_OPS && in.n; op++) {
        switch (u8(&in) % 10) {
        case 0:
        case 1:
        case 2:
            do_map(&in, op);
            break;
        case 3:
        case 4:
            do_change(&in, op, true);
            break;
        case 5:
        case 6:
            do_change(&in, op, false);
            break;
        case 7:
            do_bad(&in, op);
            break;
        case 8:
            do_payload(&in, op);
            break;
        default:
            do_clone(&in, op);
            break;
        }
        check(op);
    }
    check_walker(-2);
    /* Unmap everything (the window's ends cut no leaf), then destroy. */
    if (pt_unmap(&pt, win, SPAN))
        DIE("final unmap failed");
    nmodel = 0;
    check(-2);
    check_walker(-2);
    if (!pt.keep_top_tables && pt.nr_tables != 1)
        DIE("%lu tables left after unmapping everything", pt.nr_tables);
    pt_destroy(&pt);
    if (nr_free_pages() != base_free)
        DIE("%lu frames free after pt_destroy, %lu before pt_init", nr_free_pages(), base_free);
    return 0;
}

#endif
