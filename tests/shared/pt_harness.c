/*
 * The page-table test harness (tests/shared/pt_harness.h): set-up, the
 * checks after every operation, fingerprints, exhaustion of the
 * allocator, oracles from the raw entries, and the random model, for any
 * format described in tests/shared/pt_raw.h, on the host and in the
 * kernel.
 */
#include "pt_harness.h"

#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <mm/zone.h>

struct ph_state ph;
struct ph_leaves ph_leaves;
struct ph_model ph_model;
uint64_t ph_rng;

void ph_use(const struct pt_desc *d, const struct pt_env *env)
{
    ph.d = d;
    ph.env = env;
}

/* ---- set-up, checks, teardown ------------------------------------------------------ */

static void forget_hoard(void);

static void rec_flush(struct pgtable *p, uint64_t va, uint64_t len)
{
    static char why[256];
    ph.fl.calls++;
    ph.fl.va = va;
    ph.fl.len = len;
    ph.fl.free_at = nr_free_pages();
    if (pt_check(p, why, sizeof(why)))
        ph.fl.check_failed = true;
}

void ph_setup_range(uint64_t start, uint64_t end, bool keep)
{
    forget_hoard();
    ph.env->mem_reset();
    TTRY(ph_start(start, end, keep));
}

void ph_start(uint64_t start, uint64_t end, bool keep)
{
    ph.base_free = nr_free_pages();
    ph.held = 0;
    ph.nfrozen = 0;
    memset(&ph.fl, 0, sizeof(ph.fl));
    int err = pt_init(&ph.pt, ph.d->fmt, ph.d->gfp, start, end);
    TEXPECT(err == 0, "pt_init [%#lx, %#lx): %d", start, end, err);
    ph.pt.keep_top_tables = keep;
    ph.pt.flush = rec_flush;
}

void ph_setup(void)
{
    TTRY(ph_setup_range(ph.d->user.start, ph.d->user.end, false));
}

void ph_freeze_outside(void)
{
    const struct pt_desc *d = ph.d;
    unsigned top = d->levels - 1;
    ph.nfrozen = 0;
    for (unsigned i = 0; i < (1u << d->index_bits); i++) {
        uint64_t e = pt_raw_entry(d, ph.pt.root, i), va = (uint64_t)i * pt_raw_size(d, top);
        if (d->sign_extend && ((va >> (d->va_bits - 1)) & 1))
            va |= ~((1ul << d->va_bits) - 1);
        bool outside = va + pt_raw_size(d, top) - 1 < ph.pt.va_start || va >= ph.pt.va_end;
        if (outside && e && ph.nfrozen < 16) {
            ph.frozen[ph.nfrozen][0] = i;
            ph.frozen[ph.nfrozen][1] = e;
            ph.nfrozen++;
        }
    }
}

int ph_raw(const struct pgtable *p, uint64_t *tables, const char **why)
{
    static struct pt_raw w;
    memset(&w, 0, sizeof(w));
    w.d = ph.d;
    w.pt = p;
    w.is_ram = ph.env->is_ram;
    int rc = pt_raw_walk(&w);
    *tables = w.tables;
    *why = w.why;
    return rc;
}

void ph_check(void)
{
    static char why[256];
    uint64_t tables;
    const char *rwhy;
    int rc = pt_check(&ph.pt, why, sizeof(why));
    TEXPECT(rc == 0, "pt_check: %d: %s", rc, why);
    if (ph.env->node_check_each) {
        rc = node_check(why, sizeof(why));
        TEXPECT(rc == 0, "node_check: %d: %s", rc, why);
    }
    TEXPECT(ph_raw(&ph.pt, &tables, &rwhy) == 0, "raw walk: %s", rwhy);
    TEXPECT(tables == ph.pt.nr_tables, "%lu tables reachable, nr_tables %lu", tables,
            ph.pt.nr_tables);
    TEXPECT(nr_free_pages() + ph.pt.nr_tables + ph.held == ph.base_free,
            "%lu free + %lu tables + %lu held != %lu at the start", nr_free_pages(),
            ph.pt.nr_tables, ph.held, ph.base_free);
    TEXPECT(!ph.fl.check_failed, "pt_check failed inside a flush");
    for (unsigned k = 0; k < ph.nfrozen; k++) {
        uint64_t e = pt_raw_entry(ph.d, ph.pt.root, (unsigned)ph.frozen[k][0]);
        TEXPECT(e == ph.frozen[k][1], "root entry %lu is %#lx, it was %#lx", ph.frozen[k][0], e,
                ph.frozen[k][1]);
    }
}

void ph_teardown(void)
{
    static char why[256];
    TEQ_U(pt_unmap(&ph.pt, ph.pt.va_start, ph.pt.va_end - ph.pt.va_start), 0);
    TTRY(ph_check());
    if (!ph.pt.keep_top_tables)
        TEQ_U(ph.pt.nr_tables, 1);
    pt_destroy(&ph.pt);
    TEQ_U(ph.pt.nr_tables, 0);
    TEQ_U(nr_free_pages() + ph.held, ph.base_free);
    int rc = node_check(why, sizeof(why));
    TEXPECT(rc == 0, "node_check: %d: %s", rc, why);
}

/* ---- fingerprints ------------------------------------------------------------------- */

static uint64_t hash_tables(uint64_t pa, unsigned level, uint64_t h)
{
    const struct pt_desc *d = ph.d;
    const uint8_t *b = pt_raw_table(pa);
    for (uint64_t i = 0; i < 8; i++)
        h = (h ^ ((pa >> (8 * i)) & 0xff)) * 0x100000001b3ul;
    for (uint64_t i = 0; i < FR; i++)
        h = (h ^ b[i]) * 0x100000001b3ul;
    for (unsigned i = 0; i < (1u << d->index_bits) && level > 0; i++) {
        uint64_t e = pt_raw_at(d, b, i), child = e & d->table_addr;
        if ((e & d->bit_p) && !d->raw_leaf(e, level) && child && ph.env->is_ram(child))
            h = hash_tables(child, level - 1, h);
    }
    return h;
}

uint64_t ph_pt_hash(const struct pgtable *p)
{
    return hash_tables(p->root, ph.d->levels - 1, 0xcbf29ce484222325ul) ^ p->nr_tables * 31;
}

uint64_t ph_snapshot(void)
{
    return ph_pt_hash(&ph.pt) ^ nr_free_pages() * 977;
}

/* ---- walks ---------------------------------------------------------------------------- */

void ph_expect_leaf(uint64_t va, uint64_t pa, uint64_t size, unsigned prot)
{
    struct pt_view v;
    int rc = pt_walk(&ph.pt, va, &v);
    TEXPECT(rc == 0, "walk %#lx: %d", va, rc);
    TEXPECT(v.va == (va & ~(size - 1)) && v.pa == pa && v.size == size && v.prot == prot,
            "walk %#lx: va %#lx pa %#lx size %#lx prot %#x, expected pa %#lx size %#lx "
            "prot %#x",
            va, v.va, v.pa, v.size, v.prot, pa, size, prot);
    int level = pt_raw_level_of(ph.d, size);
    TEXPECT(level >= 0, "the format has no page size %#lx", size);
    TEQ_U(v.level, level);
    TEQ_U(v.nraw, ph.d->levels - (unsigned)level);
}

void ph_expect_hole(uint64_t va)
{
    struct pt_view v;
    int rc = pt_walk(&ph.pt, va, &v);
    TEXPECT(rc == -ENOENT, "walk %#lx: %d (pa %#lx), expected -ENOENT", va, rc, v.pa);
}

uint64_t ph_table_of(uint64_t va, unsigned level)
{
    const struct pt_desc *d = ph.d;
    uint64_t pa = ph.pt.root;
    for (unsigned l = d->levels - 1; l > level; l--) {
        uint64_t e = pt_raw_entry(d, pa, pt_raw_index(d, l, va));
        if (!(e & d->bit_p) || d->raw_leaf(e, l))
            return 0;
        pa = e & d->table_addr;
    }
    return pa;
}

void ph_set_bits(uint64_t va, unsigned level, uint64_t bits)
{
    uint64_t t = ph_table_of(va, level);
    TEXPECT(t, "no table at level %u for %#lx", level, va);
    unsigned i = pt_raw_index(ph.d, level, va);
    pt_raw_set(ph.d, t, i, pt_raw_entry(ph.d, t, i) | bits);
}

/* ---- exhausting the allocator ----------------------------------------------------- */

/*
 * The blocks taken are linked through themselves: the first two words of
 * a block hold the next block's physical address and the block's order.
 * Blocks go back lowest address first: the zone every gfp can fall back
 * to (an i386 table wants GFP_DMA32, and a machine may have RAM above
 * 4 GiB).
 */
static uint64_t hoard;

/* Unlink the block of the hoard with the lowest address; its order in *order. */
static struct page *hoard_pop_lowest(unsigned *order)
{
    uint64_t *link = &hoard, *best = NULL;
    for (uint64_t pa = hoard; pa;) {
        uint64_t *w = page_address(pfn_to_page(pa >> 12));
        if (!best || pa < *best)
            best = link;
        link = &w[0];
        pa = w[0];
    }
    uint64_t pa = *best, *w = page_address(pfn_to_page(pa >> 12));
    *best = w[0];
    *order = (unsigned)w[1];
    return pfn_to_page(pa >> 12);
}

static void hoard_push(struct page *p, unsigned order)
{
    uint64_t *w = page_address(p);
    w[0] = hoard;
    w[1] = order;
    hoard = page_to_phys(p);
    ph.held += 1ul << order;
}

/* Frames a failed case still held: in the kernel they go back; on the host
 * the arena they lie in is about to be made anew. */
static void forget_hoard(void)
{
#ifdef HOST_TEST
    hoard = 0;
#else
    ph_give_back(~0ul);
#endif
}

void ph_exhaust(void)
{
    struct page *p;
    for (unsigned order = MAX_ORDER + 1; order-- > 0;)
        while ((p = alloc_pages(__GFP_MEMALLOC | __GFP_NOWARN, order)))
            hoard_push(p, order);
    TEQ_U(nr_free_pages(), 0);
}

void ph_give_back(uint64_t n)
{
    while (n && hoard) {
        unsigned order;
        struct page *p = hoard_pop_lowest(&order);
        uint64_t size = 1ul << order;
        __free_pages(p, order);
        ph.held -= size;
        if (size <= n) {
            n -= size;
            continue;
        }
        /* Keep all but n of the block's frames: they are the only free ones. */
        for (uint64_t k = 0; k < size - n; k++) {
            struct page *q = alloc_pages(__GFP_MEMALLOC | __GFP_NOWARN, 0);
            TEXPECT(q, "a frame just freed could not be taken again");
            hoard_push(q, 0);
        }
        n = 0;
    }
}

/* ---- oracles ------------------------------------------------------------------------- */

/* The level of the leaf holding va (from the raw entries), or -1. */
static int leaf_level(uint64_t va)
{
    const struct pt_desc *d = ph.d;
    uint64_t pa = ph.pt.root;
    for (unsigned l = d->levels; l-- > 0;) {
        uint64_t e = pt_raw_entry(d, pa, pt_raw_index(d, l, va));
        if (!(e & d->bit_p))
            return -1;
        if (l == 0 || d->raw_leaf(e, l))
            return (int)l;
        pa = e & d->table_addr;
    }
    return -1;
}

uint64_t ph_tables_missing(uint64_t va, uint64_t len)
{
    const struct pt_desc *d = ph.d;
    uint64_t count = 0, last[PT_MAX_LEVELS];
    bool seen[PT_MAX_LEVELS] = { 0 };
    for (uint64_t a = va; a - va < len; a += FR) {
        /* the first level whose entry is missing: a table for each level below */
        uint64_t pa = ph.pt.root;
        unsigned l = d->levels - 1;
        for (; l > 0; l--) {
            uint64_t e = pt_raw_entry(d, pa, pt_raw_index(d, l, a));
            if (!(e & d->bit_p))
                break;
            pa = e & d->table_addr;
        }
        for (unsigned t = 0; t < l; t++) {
            uint64_t key = a >> (12 + d->index_bits * (t + 1));
            if (seen[t] && last[t] == key)
                continue;
            seen[t] = true;
            last[t] = key;
            count++;
        }
    }
    return count;
}

uint64_t ph_splits_needed(uint64_t va, uint64_t len)
{
    uint64_t keys[2 * PT_MAX_LEVELS];
    unsigned n = 0;
    for (int side = 0; side < 2; side++) {
        uint64_t inside = side ? va + len - 1 : va, edge = side ? va + len : va;
        int top = leaf_level(inside);
        for (int l = top; l > 0 && (edge & (pt_raw_size(ph.d, (unsigned)l) - 1)); l--) {
            uint64_t key = (inside & ~(pt_raw_size(ph.d, (unsigned)l) - 1)) | (unsigned)l;
            bool known = false;
            for (unsigned k = 0; k < n; k++)
                known = known || keys[k] == key;
            if (!known)
                keys[n++] = key;
        }
    }
    return n;
}

struct needed {
    const struct pt_desc *d;
    uint64_t count, last[PT_MAX_LEVELS];
    bool seen[PT_MAX_LEVELS];
};

/* A table at level t for each distinct level-(t + 1) slot holding a leaf of
 * level <= t: leaves come in address order, so the last key is enough. */
static int needed_leaf(const struct pt_view *v, void *arg)
{
    struct needed *c = arg;
    for (unsigned t = v->level; t + 1 < c->d->levels; t++) {
        uint64_t key = v->va >> (12 + c->d->index_bits * (t + 1));
        if (c->seen[t] && c->last[t] == key)
            continue;
        c->seen[t] = true;
        c->last[t] = key;
        c->count++;
    }
    return 0;
}

uint64_t ph_tables_needed(void)
{
    struct needed c;
    memset(&c, 0, sizeof(c));
    c.d = ph.d;
    c.count = 1;
    pt_for_each(&ph.pt, ph.pt.va_start, ph.pt.va_end, needed_leaf, &c);
    return c.count;
}

/* ---- leaves --------------------------------------------------------------------------- */

int ph_collect(const struct pt_view *v, void *arg)
{
    struct ph_leaves *l = arg;
    if (l->n < sizeof(l->v) / sizeof(l->v[0]))
        l->v[l->n] = *v;
    l->n++;
    return l->stop_at && (int)l->n == l->stop_at ? 7 : 0;
}

int ph_count_leaf(const struct pt_view *v, void *arg)
{
    uint64_t *by_level = arg;
    by_level[v->level]++;
    return 0;
}

uint64_t ph_rnd(uint64_t n)
{
    ph_rng ^= ph_rng >> 12;
    ph_rng ^= ph_rng << 25;
    ph_rng ^= ph_rng >> 27;
    return n ? (ph_rng * 0x2545f4914f6cdd1dul) % n : 0;
}

/* ---- the random model -------------------------------------------------------------- */

void ph_model_init(struct ph_mpage *pages, uint64_t room, const struct pt_range *win,
                   unsigned nwin)
{
    struct ph_model *m = &ph_model;
    memset(m, 0, sizeof(*m));
    m->page = pages;
    m->nwin = nwin;
    m->near_limit = true;
    for (unsigned w = 0; w < nwin; w++) {
        m->win[w] = win[w];
        m->win_first[w] = m->npages;
        m->npages += (win[w].end - win[w].start) / FR;
    }
    TEXPECT(m->npages <= room, "%lu pages in the windows, room for %lu", m->npages, room);
    memset(pages, 0, m->npages * sizeof(*pages));
}

uint64_t ph_page_va(uint64_t i)
{
    const struct ph_model *m = &ph_model;
    unsigned w = m->nwin > 1 && i >= m->win_first[1];
    return m->win[w].start + (i - m->win_first[w]) * FR;
}

/* The model's index of va, or npages when it is outside the windows. */
static uint64_t page_index(uint64_t va)
{
    const struct ph_model *m = &ph_model;
    for (unsigned w = 0; w < m->nwin; w++)
        if (va >= m->win[w].start && va < m->win[w].end)
            return m->win_first[w] + (va - m->win[w].start) / FR;
    return m->npages;
}

void ph_random_range(uint64_t unit, uint64_t max_units, uint64_t *s, uint64_t *n)
{
    const struct ph_model *m = &ph_model;
    uint64_t per = unit / FR;
    unsigned w = (unsigned)ph_rnd(m->nwin);
    uint64_t first = m->win_first[w], count = (m->win[w].end - m->win[w].start) / FR;
    *s = ph_rnd(count / per) * per;
    if (ph_rnd(3) == 0)
        *s += ph_rnd(per);
    *n = (1 + ph_rnd(max_units)) * per;
    if (ph_rnd(3) == 0)
        *n = 1 + ph_rnd(*n);
    if (*s >= count)
        *s = count - 1;
    if (*n > count - *s)
        *n = count - *s;
    *s += first;
}

void ph_random_op(uint64_t s, uint64_t n, uint64_t unit)
{
    struct ph_model *m = &ph_model;
    const struct pt_desc *d = ph.d;
    uint64_t va = ph_page_va(s), len = n * FR, l1 = d->sizes[1];
    unsigned prot = (unsigned)ph_rnd(PT_PROT_MASK + 1);
    unsigned calls = ph.fl.calls;
    uint64_t changed_lo = ~0ul, changed_hi = 0, tables = ph.pt.nr_tables;
    int rc;

    switch (ph_rnd(3)) {
    case 0: {
        bool busy = false;
        for (uint64_t i = s; i < s + n; i++)
            busy = busy || m->page[i].mapped;
        /* pa congruent to va modulo the unit (mostly), so that large leaves
         * happen; now and then too close to the format's limit for the length */
        uint64_t pa = ph_rnd(d->random.pa_units) * d->random.pa_unit +
                      (ph_rnd(4) ? va % unit : ph_rnd(1u << d->index_bits) * FR);
        if (ph_rnd(16) == 0 && m->near_limit)
            pa = d->pa_limit - len + ph_rnd(2) * l1;
        bool too_high = pa >= d->pa_limit || len > d->pa_limit - pa;
        int want = too_high ? -EINVAL : busy ? -EEXIST : 0;
        rc = pt_map(&ph.pt, va, pa, len, prot, ph_rnd(4) ? PT_MAP_LARGE : 0);
        TEXPECT(rc == want, "map %#lx+%#lx to %#lx: %d, expected %d", va, len, pa, rc, want);
        for (uint64_t i = s; rc == 0 && i < s + n; i++)
            m->page[i] = (struct ph_mpage){ pa + (i - s) * FR, (uint8_t)prot, true };
        m->stats.maps += rc == 0;
        m->stats.eexist += rc == -EEXIST;
        m->stats.einval += rc == -EINVAL;
        TEQ_U(ph.fl.calls, calls); /* filling empty entries needs no flush */
        return;
    }
    case 1:
        rc = pt_unmap(&ph.pt, va, len);
        TEXPECT(rc == 0, "unmap %#lx+%#lx: %d", va, len, rc);
        m->stats.freed += ph.pt.nr_tables < tables;
        m->stats.splits += ph.pt.nr_tables > tables;
        for (uint64_t i = s; i < s + n; i++) {
            if (m->page[i].mapped) {
                changed_lo = changed_lo < ph_page_va(i) ? changed_lo : ph_page_va(i);
                changed_hi = ph_page_va(i) + FR;
            }
            m->page[i].mapped = false;
        }
        break;
    default:
        rc = pt_protect(&ph.pt, va, len, prot);
        TEXPECT(rc == 0, "protect %#lx+%#lx: %d", va, len, rc);
        m->stats.splits += ph.pt.nr_tables > tables;
        for (uint64_t i = s; i < s + n; i++) {
            if (m->page[i].mapped && m->page[i].prot != prot) {
                changed_lo = changed_lo < ph_page_va(i) ? changed_lo : ph_page_va(i);
                changed_hi = ph_page_va(i) + FR;
            }
            m->page[i].prot = (uint8_t)prot;
        }
        break;
    }
    /* Changes mean one flush, inside the range and covering them. */
    if (changed_hi) {
        TEXPECT(ph.fl.calls == calls + 1, "%u flushes for a change", ph.fl.calls - calls);
        TEXPECT(ph.fl.va >= va && ph.fl.va + ph.fl.len <= va + len && ph.fl.va <= changed_lo &&
                    ph.fl.va + ph.fl.len >= changed_hi,
                "flush %#lx+%#lx for changes in [%#lx, %#lx) of %#lx+%#lx", ph.fl.va, ph.fl.len,
                changed_lo, changed_hi, va, len);
    }
    TEXPECT(ph.fl.calls <= calls + 1, "%u flushes for one operation", ph.fl.calls - calls);
}

/* pt_walk_cursor must give what pt_walk gives, field by field. */
static void same_view(uint64_t va, int rc, const struct pt_view *v, int rcc,
                      const struct pt_view *c)
{
    bool same = rc == rcc && v->va == c->va && v->pa == c->pa && v->payload == c->payload &&
                v->size == c->size && v->prot == c->prot && v->accessed == c->accessed &&
                v->dirty == c->dirty && v->level == c->level && v->nraw == c->nraw &&
                v->pt == c->pt && v->table == c->table && v->index == c->index;
    for (unsigned l = 0; same && l < PT_MAX_LEVELS; l++)
        same = v->raw[l] == c->raw[l];
    TEXPECT(same, "page %#lx: pt_walk_cursor gave %d pa %#lx table %p index %u nraw %u, "
            "pt_walk %d pa %#lx table %p index %u nraw %u", va, rcc, c->pa, c->table, c->index,
            c->nraw, rc, v->pa, v->table, v->index, v->nraw);
}

/* One cursor for every walk of every case: kept across operations that
 * free tables and across whole page tables torn down and built again at
 * the same address, which is what it must survive. */
static struct pt_cursor walk_cursor;

void ph_model_compare_walk(uint64_t s, uint64_t e)
{
    struct ph_model *m = &ph_model;
    for (uint64_t i = s; i < e && i < m->npages; i++) {
        struct pt_view v, vc;
        uint64_t va = ph_page_va(i);
        int rc = pt_walk(&ph.pt, va, &v);
        same_view(va, rc, &v, pt_walk_cursor(&ph.pt, va, &vc, &walk_cursor), &vc);
        if (!m->page[i].mapped) {
            TEXPECT(rc == -ENOENT, "page %#lx: walk %d, the model says unmapped", va, rc);
            continue;
        }
        TEXPECT(rc == 0 && v.pa + (va - v.va) == m->page[i].pa && v.prot == m->page[i].prot,
                "page %#lx: walk %d pa %#lx prot %#x, the model says pa %#lx prot %#x", va, rc,
                v.pa + (va - v.va), v.prot, m->page[i].pa, m->page[i].prot);
        if (v.level > 0)
            m->stats.large_pages++;
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
        uint64_t va = v->va + off, i = page_index(va);
        if (i == ph_model.npages) {
            c->bad = "a leaf outside the windows";
            c->bad_va = va;
            return 1;
        }
        const struct ph_mpage *p = &ph_model.page[i];
        if (!p->mapped || p->pa != v->pa + off || p->prot != v->prot) {
            c->bad = "a page the model disagrees with";
            c->bad_va = va;
            return 1;
        }
        c->seen++;
    }
    return 0;
}

void ph_model_compare_leaves(void)
{
    struct cmp c = { 0, NULL, 0 };
    uint64_t want = 0;
    int rc = pt_for_each(&ph.pt, ph.pt.va_start, ph.pt.va_end, model_leaf, &c);
    TEXPECT(!c.bad, "%s at %#lx", c.bad, c.bad_va);
    TEQ_U(rc, 0);
    for (uint64_t i = 0; i < ph_model.npages; i++)
        want += ph_model.page[i].mapped;
    TEXPECT(c.seen == want, "%lu pages in leaves, %lu in the model", c.seen, want);
}

/* ---- the host's environment ------------------------------------------------------- */

#ifdef HOST_TEST
#include "../host/mm_host.h"

/* 32 MiB of address space, 30 MiB of RAM, all below 4 GiB. */
static const struct host_ram host_ram[] = { { 1 * MiB, 31 * MiB } };

static void host_mem_reset(void)
{
    mm_host_init(32 * MiB / FR, host_ram, sizeof(host_ram) / sizeof(host_ram[0]));
}

static bool host_is_ram(uint64_t pa)
{
    return mm_host_is_ram(pa, FR);
}

const struct pt_env pt_env_host = {
    .world = "host",
    .mem_reset = host_mem_reset,
    .is_ram = host_is_ram,
    .node_check_each = true,
    .random_percent = 100,
};
#endif
