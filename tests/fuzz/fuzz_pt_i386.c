/*
 * libFuzzer target: the page-table walker (mm/pgtable.c) with the i386
 * two-level format (compat32/pt_i386.c), driven by arbitrary bytes.
 *
 * Each input starts a fresh node with 24 frames of RAM (so -ENOMEM comes
 * up) and a fresh pgtable over a 32-bit process's range [0, 0xffc00000),
 * with or without the mirror entry in PDE 1023 (user-readable or not),
 * taking its tables from GFP_DMA32 with or without the watermarks.  Then
 * it is a program of pt_map, pt_unmap and pt_protect calls over the
 * 128 MiB window just below the mirror, in units of 4 KiB or 4 MiB,
 * mostly aligned, so that 4 MiB leaves, splits and table frees happen;
 * physical addresses run up to 4 GiB and past it (-EINVAL); plus calls
 * with bad arguments.
 *
 * The model is the one of fuzz_pgtable.c: a sorted list of runs [va, end)
 * -> (pa - va, prot), merged when adjacent and equal, compared with the
 * leaves read back from the raw 32-bit entries.  From the model the
 * target knows each call's result (-EEXIST exactly when a mapped page is
 * in the way, -EINVAL for bad arguments or a physical range past 4 GiB,
 * -ENOMEM allowed for pt_map, and for pt_unmap/pt_protect only when an
 * end of the range cuts a 4 MiB leaf).  After every call: the raw
 * validator (table count, PDEs exactly P|RW|US, no stray bits, the mirror
 * entry unchanged), pt_check(), free frames + table pages = the frames
 * free before pt_init, nothing changed on a failure, and the flush
 * contract.  At the end everything is unmapped, the tables destroyed,
 * and every frame must be back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_host.h"
#include <kernel/errno.h>
#include <mm/gfp.h>
#include <mm/pgtable.h>
#include <compat32/pt_i386.h>
#include <mm/zone.h>

#define MiB (1ul << 20)
#define FR 4096ul
#define M4 (4 * MiB)
#define TOP (1ul << 32)
#define VA_END 0xffc00000ul
#define MAX_OPS 64
#define SPAN (128 * MiB)

static const struct host_ram ram[] = { { 1 * MiB, 1 * MiB + 24 * FR } };

#define FUZZ_NAME "fuzz_pt_i386"
#include "fuzz_input.h"

/* ---- the model: runs of pages with one offset pa - va and one prot ----------------------- */

struct run {
    uint64_t va, end, delta;
    unsigned prot;
};

#define MAX_RUNS 2048
static struct run model[MAX_RUNS], tmp[MAX_RUNS], seen[MAX_RUNS];
static size_t nmodel, nseen;

NOCOV static void push(struct run *a, size_t *n, struct run r)
{
    if (r.va >= r.end)
        return;
    if (*n && a[*n - 1].end == r.va && a[*n - 1].delta == r.delta && a[*n - 1].prot == r.prot) {
        a[*n - 1].end = r.end;
        return;
    }
    if (*n == MAX_RUNS)
        DIE("more than %d runs", MAX_RUNS);
    a[(*n)++] = r;
}

/* Rebuild the model with [a, b) removed (prot < 0) or re-protected. */
static void model_change(uint64_t a, uint64_t b, int prot)
{
    size_t n = 0;
    for (size_t i = 0; i < nmodel; i++) {
        struct run r = model[i];
        if (r.end <= a || r.va >= b) {
            push(tmp, &n, r);
            continue;
        }
        push(tmp, &n, (struct run){ r.va, a, r.delta, r.prot });
        if (prot >= 0)
            push(tmp, &n, (struct run){ r.va > a ? r.va : a, r.end < b ? r.end : b, r.delta,
                                        (unsigned)prot });
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

/* The first and last+1 mapped addresses of [a, b) (whose prot differs
 * from differs_from when it is >= 0), or lo > hi when none. */
static void model_mapped(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi, int differs_from)
{
    *lo = ~0ul;
    *hi = 0;
    for (size_t i = 0; i < nmodel; i++) {
        uint64_t s = model[i].va > a ? model[i].va : a, e = model[i].end < b ? model[i].end : b;
        if (s >= e || (differs_from >= 0 && model[i].prot == (unsigned)differs_from))
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
static uint32_t mirror; /* what PDE 1023 must hold (0: no mirror) */

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

static const uint32_t *tab(uint64_t pa)
{
    return (const uint32_t *)(mm_host_arena() + pa);
}

/*
 * The independent validator: the tables read back from the raw Intel
 * bits (SDM 4.3), without the walker or the format.  It counts the table
 * pages (each an allocated frame of RAM below 4 GiB, none empty), checks
 * every PDE pointing to a table is exactly P|RW|US, every leaf free of
 * stray bits (10-11; 13-21 in a 4 MiB PDE), and turns the leaves into
 * runs for the comparison with the model.
 */
NOCOV static unsigned raw_prot(uint32_t e, unsigned level)
{
    static const unsigned cache[8] = { PT_WB, PT_WC, PT_UC, PT_UC, PT_WB, PT_WT, PT_UC, PT_WT };
    uint32_t pat = level ? I386_PDE_PAT_LARGE : I386_PTE_PAT;
    unsigned index = !!(e & I386_PTE_PWT) | !!(e & I386_PTE_PCD) << 1 | !!(e & pat) << 2;
    return cache[index] | (e & I386_PTE_RW ? PT_W : 0) | (e & I386_PTE_SOFT_NX ? 0 : PT_X) |
           (e & I386_PTE_US ? PT_U : 0) | (e & I386_PTE_G ? PT_G : 0);
}

NOCOV static bool table_ok(uint64_t pa)
{
    return pa && !(pa & (FR - 1)) && pa < TOP && mm_host_is_ram(pa, FR) &&
           page_count(pfn_to_page(pa / FR));
}

NOCOV static void raw_walk(int op, uint64_t *tables)
{
    if (!table_ok(pt.root))
        DIE("op %d: the root %#lx is not an allocated frame", op, pt.root);
    (*tables)++;
    if (tab(pt.root)[I386_MIRROR_PDE] != mirror)
        DIE("op %d: PDE 1023 is %#x, the mirror is %#x", op, tab(pt.root)[I386_MIRROR_PDE],
            mirror);
    for (unsigned i = 0; i < I386_MIRROR_PDE; i++) {
        uint32_t pde = tab(pt.root)[i];
        uint64_t va = (uint64_t)i << 22;
        if (!(pde & I386_PTE_P))
            continue;
        if (va + M4 <= pt.va_start)
            DIE("op %d: PDE %#x at %#lx below the range", op, pde, va);
        if (pde & I386_PDE_PS) {
            if (pde & (0xc00 | I386_PDE_RSVD_LARGE))
                DIE("op %d: 4 MiB leaf %#x at %#lx has stray bits", op, pde, va);
            push(seen, &nseen, (struct run){ va, va + M4, (pde & I386_PDE_FRAME_LARGE) - va,
                                             raw_prot(pde, 1) });
            continue;
        }
        uint64_t child = pde & I386_PTE_FRAME;
        if ((pde & 0xfff) != (I386_PTE_P | I386_PTE_RW | I386_PTE_US) || !table_ok(child))
            DIE("op %d: PDE %#x at %#lx: not P|RW|US, or not a table", op, pde, va);
        (*tables)++;
        unsigned used = 0;
        for (unsigned k = 0; k < I386_ENTRIES; k++) {
            uint32_t e = tab(child)[k];
            uint64_t pva = va + k * FR;
            if (!(e & I386_PTE_P))
                continue;
            used++;
            if (pva < pt.va_start)
                DIE("op %d: PTE %#x at %#lx below the range", op, e, pva);
            if (e & 0xc00)
                DIE("op %d: leaf %#x at %#lx has stray bits", op, e, pva);
            push(seen, &nseen, (struct run){ pva, pva + FR, (e & I386_PTE_FRAME) - pva,
                                             raw_prot(e, 0) });
        }
        if (!used)
            DIE("op %d: empty page table %#lx at %#lx", op, child, va);
    }
}

static int leaf(const struct pt_view *v, void *arg)
{
    (void)arg;
    push(seen, &nseen, (struct run){ v->va, v->va + v->size, v->pa - v->va, v->prot });
    return 0;
}

NOCOV static void compare(int op)
{
    for (size_t i = 0; i < nseen || i < nmodel; i++)
        if (i >= nseen || i >= nmodel || seen[i].va != model[i].va ||
            seen[i].end != model[i].end || seen[i].delta != model[i].delta ||
            seen[i].prot != model[i].prot)
            DIE("op %d: run %zu: tables [%#lx, %#lx) +%#lx prot %#x, model [%#lx, %#lx) "
                "+%#lx prot %#x",
                op, i, i < nseen ? seen[i].va : 0, i < nseen ? seen[i].end : 0,
                i < nseen ? seen[i].delta : 0, i < nseen ? seen[i].prot : 0,
                i < nmodel ? model[i].va : 0, i < nmodel ? model[i].end : 0,
                i < nmodel ? model[i].delta : 0, i < nmodel ? model[i].prot : 0);
}

/* After every operation: the raw validator, pt_check(), the frame count,
 * the model.  (The tables are small: pt_check() costs little here.) */
NOCOV static void check(int op)
{
    char why[256];
    uint64_t tables = 0;
    if (nr_free_pages() + pt.nr_tables != base_free)
        DIE("op %d: %lu free + %lu tables != %lu", op, nr_free_pages(),
            pt.nr_tables, base_free);
    nseen = 0;
    raw_walk(op, &tables);
    if (tables != pt.nr_tables)
        DIE("op %d: %lu tables reachable, nr_tables %lu", op, tables, pt.nr_tables);
    compare(op);
    if (pt_check(&pt, why, sizeof(why)))
        DIE("op %d: pt_check: %s", op, why);
}

/* The walker's own view of the window through pt_for_each, against the
 * model (the raw validator found nothing outside the window). */
static void check_walker(int op)
{
    nseen = 0;
    if (pt_for_each(&pt, win, win + SPAN, leaf, NULL))
        DIE("op %d: pt_for_each failed", op);
    compare(op);
}

/* Would pt_unmap/pt_protect of [va, va + len) have to split a leaf? */
static bool cuts_a_leaf(uint64_t va, uint64_t len)
{
    struct pt_view v;
    if (pt_walk(&pt, va, &v) == 0 && (va & (v.size - 1)))
        return true;
    return pt_walk(&pt, va + len - 1, &v) == 0 && ((va + len) & (v.size - 1));
}

/* A range of the window: a unit (4 KiB or 4 MiB), a start aligned to it
 * and a length of 1 to 4 units (4 KiB) or 1 to 2 (4 MiB: a walk over
 * 8 MiB of 4 KiB leaves is 2048 entries already), sometimes shifted or
 * shortened by some pages, cut at the window's end. */
static void pick_range(struct input *in, uint64_t *va, uint64_t *len, uint64_t *unit)
{
    uint8_t b = u8(in);
    uint64_t u = b & 1 ? M4 : FR, end = win + SPAN;
    uint64_t start = win + (u16(in) % (SPAN / u)) * u;
    uint64_t n = (1 + (b >> 2) % (u == FR ? 4 : 2)) * u, shave;
    if (b & 0x40)
        start += (u8(in) % 8) * FR;
    if (start >= end)
        start = end - FR; /* the window ends at the mirror: stay below it */
    if ((b & 0x80) && (shave = (u8(in) % 8) * FR) < n)
        n -= shave;
    if (n > end - start)
        n = end - start;
    *unit = u;
    *va = start;
    *len = n;
}

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
        DIE("op %d: flush %#lx+%#lx for changes [%#lx, %#lx) in %#lx+%#lx", op,
            flush_va, flush_len, lo, hi, va, len);
    if (free_at_flush > free_before)
        DIE("op %d: a table was freed before the flush", op);
}

static void do_map(struct input *in, int op)
{
    uint64_t va, len, unit;
    pick_range(in, &va, &len, &unit);
    uint8_t b = u8(in);
    unsigned prot = b & PT_PROT_MASK;
    /* pa congruent to va modulo the unit (mostly), anywhere below 4 GiB
     * and sometimes past it.  Runs of 4 KiB leaves are kept to 4 MiB. */
    uint64_t pa = (uint64_t)u8(in) * 16 * MiB;
    if (!(b & 0x40))
        pa += va % unit;
    else
        pa += u8(in) * FR;
    unsigned flags = (b & 0x80) ? 0 : PT_MAP_LARGE;
    if ((!flags || (pa - va) % M4) && len > M4)
        len = M4;
    bool too_high = len > TOP - pa;
    uint64_t lo, hi, free_before = nr_free_pages(), tables = pt.nr_tables;
    unsigned before = flushes;
    model_mapped(va, va + len, &lo, &hi, -1);
    int rc = pt_map(&pt, va, pa, len, prot, flags);
    if (too_high ? rc != -EINVAL : lo < hi ? rc != -EEXIST : rc != 0 && rc != -ENOMEM)
        DIE("op %d: map %#lx+%#lx to %#lx: %d (mapped in range: %d, too high: %d)", op,
            va, len, pa, rc, lo < hi, too_high);
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
    model_mapped(va, va + len, &lo, &hi, unmap ? -1 : (int)prot);
    int rc = unmap ? pt_unmap(&pt, va, len) : pt_protect(&pt, va, len, prot);
    if (rc != 0 && !(rc == -ENOMEM && cut))
        DIE("op %d: %s %#lx+%#lx: %d", op, unmap ? "unmap" : "protect", va, len, rc);
    if (rc == 0)
        model_change(va, va + len, unmap ? -1 : (int)prot);
    else if (pt.nr_tables != tables || nr_free_pages() != free_before)
        DIE("op %d: failed change altered the tables or leaked frames", op);
    check_flush(op, rc, va, len, lo, hi, before, free_before);
}

/* Bad arguments: -EINVAL and nothing else. */
static void do_bad(struct input *in, int op)
{
    uint64_t va, len, unit;
    pick_range(in, &va, &len, &unit);
    uint8_t b = u8(in);
    uint64_t pa = 0;
    unsigned prot = 0, c = b % 7;
    switch (c) {
    case 0: va |= 1 + (b >> 3); break;                      /* unaligned */
    case 1: len = 0; break;
    case 2: va = VA_END - FR; len = 2 * FR; break;          /* into the mirror */
    case 3: prot = PT_ACCESSED << (b & 1); break;           /* not a prot */
    case 4: pa = TOP - FR; len += FR; break;                /* past 4 GiB */
    case 5: va = TOP + (b >> 3) * FR; len = FR; break;      /* not a 32-bit address */
    default: va = VA_END; len = FR; break;                  /* the mirror itself */
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

static void reset(uint8_t how)
{
    static bool ready;
    if (!ready) {
        mm_host_init(2 * MiB / FR, ram, sizeof(ram) / sizeof(ram[0]));
        ready = true;
    } else {
        mm_host_reset();
    }
    base_free = nr_free_pages();
    gfp_t gfp = GFP_DMA32 | __GFP_NOWARN | ((how & 4) ? 0 : __GFP_MEMALLOC);
    if (pt_init(&pt, &pt_i386, gfp, 0, VA_END))
        DIE("pt_init failed");
    pt.flush = rec_flush;
    mirror = 0;
    if (how & 1) {
        mirror = pt_i386_mirror_entry(pt.root, how & 2);
        ((uint32_t *)(mm_host_arena() + pt.root))[I386_MIRROR_PDE] = mirror;
    }
    win = VA_END - SPAN;
    nmodel = 0;
    flushes = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    reset(u8(&in));
    check(-1);
    for (int op = 0; op < MAX_OPS && in.n; op++) {
        switch (u8(&in) % 8) {
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
        default:
            do_bad(&in, op);
            break;
        }
        check(op);
    }
    check_walker(-2);
    /* Unmap everything (the window's ends are 4 MiB boundaries: no split). */
    if (pt_unmap(&pt, win, SPAN))
        DIE("final unmap failed");
    nmodel = 0;
    check(-2);
    if (pt.nr_tables != 1)
        DIE("%lu tables left after unmapping everything", pt.nr_tables);
    pt_destroy(&pt);
    if (nr_free_pages() != base_free)
        DIE("%lu frames free after pt_destroy, %lu before pt_init", nr_free_pages(),
            base_free);
    return 0;
}
