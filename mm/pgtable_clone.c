/*
 * Whole address spaces at once: pt_clone (fork's copy, Linux's
 * copy_page_range) and pt_destroy_each / pt_destroy (exit's teardown),
 * as actions of the range walker (mm/pgtable_walk.c).
 * include/mm/pgtable.h says what each promises.
 *
 * Fork and exit touch every page of a process: with 64 MiB that is 16384
 * leaves, so what they do per page is what they cost.  The walker hands
 * each level-0 table over as one run of entries, and the actions below
 * are tight loops over it.  With PT_SHARE_FRAMES (fork's copy-on-write)
 * and PT_PUT_FRAMES (exit) the loop takes or drops the frame's reference
 * itself, inline: no call per page at all.
 *
 * The one-entry decode cache of pt_clone: the leaves of a table nearly
 * always differ only in their frame (a 64 MiB heap: 512 entries with the
 * same rights and accessed/dirty state), and every format keeps the frame
 * of a 4 KiB leaf in place, in bits 12 .. pa_bits - 1 (frame_mask0).  So
 * a leaf is decoded, and the entries to write are made, only when its
 * other bits differ from the previous leaf's; otherwise the cached results
 * are reused with the new frame or'ed in.  The cache cannot be wrong: it
 * is keyed by every non-frame bit, and make_leaf(pa, 0, prot) == pa |
 * make_leaf(0, 0, prot) holds for every format (pt_init checks it).
 *
 * Payload entries: pt_clone hands each to fn (the owner of what it names
 * takes its reference there) and copies it; pt_destroy_each hands each to
 * fn (the owner lets go).  Neither touches what a payload names.
 *
 * Invariants kept (those of mm/pgtable.c): pt_clone creates a table in
 * dst only to write an entry into it and frees it again, when the walk
 * leaves it, if it stayed empty; dst's nr_tables counts what it links;
 * src's leaves change only by losing the `clear` rights, and src->flush
 * is called once at the end if any did.  pt_destroy_each frees every
 * table below the root inside the range (kept top tables too: the
 * address space is going away) as the walk leaves it, no flush: the
 * tables must not be in use.
 *
 * Reference: Linux's copy_page_range / copy_pte_range (mm/memory.c), which
 * also write-protects the parent's private pages in the same pass, and
 * zap_pte_range, which drops the frames a table at a time; xv6's
 * freewalk for the teardown.
 */
#include <mm/pgtable.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>

#include "pgtable_impl.h"

/* ---- pt_clone ------------------------------------------------------------------------- */

struct clone {
    struct pt_range_walk w;          /* first: walks src (w.stop: the error) */
    struct pgtable *dst, *src;
    unsigned clear, flags;           /* rights both copies lose; PT_SHARE_FRAMES */
    int (*fn)(struct pt_view *v, void *arg);
    void *arg;
    void *dt[PT_MAX_LEVELS];         /* dst's tables, on the path of w.table[] */
    bool fresh[PT_MAX_LEVELS];       /* dt[l] was made by this clone (known empty at first) */
    bool src_changed;
    uint64_t lo, hi;                 /* src translations changed: [lo, hi] */
    /* the decode cache (see the top of the file) */
    uint64_t attrs;                  /* non-frame bits of the cached leaf, ~0 at first
                                      * (no entry's: the frame mask is not 0) */
    struct pt_view proto;            /* its view without `clear`, pa and va aside */
    uint64_t src_attrs;              /* what src's leaf keeps: attrs without `clear` */
    bool dst_cached;
    unsigned dst_prot;               /* prot fn asked for, state bits included */
    uint64_t dst_attrs;              /* make_leaf(0, 0, dst_prot) */
};

static struct clone *clone_of(struct pt_range_walk *w)
{
    return (struct clone *)w;
}

/* Can the format express prot (rights, cache type and state bits) in a
 * level-0 leaf? */
static bool prot0_ok(const struct pt_format *f, unsigned prot)
{
    struct pt_view v = { 0 };
    if (prot & ~(PT_PROT_MASK | PT_ACCESSED | PT_DIRTY))
        return false;
    f->decode_leaf(f->make_leaf(0, 0, prot), 0, &v);
    return (v.prot | state_bits(&v)) == prot;
}

/* The entry dst gets for the (possibly changed) view v of a level-0 leaf.
 * fn giving a pa or prot the format cannot hold is a bug in the caller
 * (its side effects, a frame reference, could not be undone here). */
static uint64_t dst_leaf0(struct clone *c, const struct pt_view *v)
{
    unsigned prot = v->prot | state_bits(v);
    if ((v->pa & (PAGE_SIZE - 1)) || (v->pa >> c->w.f->pa_bits))
        panic("pt_clone: fn gave pa %#lx at %#lx", v->pa, v->va);
    if (!c->dst_cached || prot != c->dst_prot) {
        if (!prot0_ok(c->w.f, prot))
            panic("pt_clone: fn gave prot %#x at %#lx", prot, v->va);
        c->dst_prot = prot;
        c->dst_attrs = c->w.f->make_leaf(0, 0, prot);
        c->dst_cached = true;
    }
    return v->pa | c->dst_attrs;
}

/* Leaves are visited in address order: the first change sets lo. */
static void src_changed(struct clone *c, uint64_t lo, uint64_t hi)
{
    if (!c->src_changed)
        c->lo = lo;
    c->hi = hi;
    c->src_changed = true;
}

/* A large leaf e of src, entry i at this level, the slow way (never in
 * user space today, but the interface does not forbid them). */
static void clone_large(struct clone *c, unsigned level, uint64_t va, unsigned i, uint64_t e)
{
    const struct pt_format *f = c->w.f;
    void *st = c->w.table[level], *dt = c->dt[level];
    struct pt_view v = { 0 };
    leaf_view(f, e, level, va, &v);
    if (v.va < c->w.start || v.va + v.size - 1 > c->w.last) {
        c->w.stop = -EINVAL; /* pt_clone copies whole leaves */
        return;
    }
    struct pt_view keep = v;
    v.prot &= ~c->clear;
    if (c->flags & PT_SHARE_FRAMES) {
        pfn_to_page(v.pa >> PAGE_SHIFT)->refcount++; /* shared as it is */
    } else {
        int err = c->fn(&v, c->arg);
        if (err) {
            c->w.stop = err;
            return;
        }
    }
    if ((v.pa & (v.size - 1)) || (v.pa >> f->pa_bits) || !prot0_ok(f, v.prot))
        panic("pt_clone: fn gave pa %#lx prot %#x at %#lx", v.pa, v.prot, v.va);
    entry_set(f, dt, i, f->make_leaf(v.pa, level, v.prot | state_bits(&v)));
    if (keep.prot & c->clear) {
        entry_write(f, st, i, f->make_leaf(keep.pa, level,
                                           (keep.prot & ~c->clear) | state_bits(&keep)));
        src_changed(c, keep.va, keep.va + keep.size - 1);
    }
}

/* A payload entry e of src, entry i: fn sees it (v->payload set: the
 * owner of what it names takes its reference), then dst gets the same
 * entry.  Returns whether it was written. */
static bool clone_payload(struct clone *c, uint64_t va, void *dt, unsigned i, uint64_t e)
{
    const struct pt_format *f = c->w.f;
    if (!is_payload(f, e))
        return false; /* junk: pt_check's to report */
    if (entry_read(f, dt, i)) {
        c->w.stop = -EEXIST;
        return false;
    }
    if (!c->fn) {
        c->w.stop = -EINVAL; /* nobody to take what it names */
        return false;
    }
    struct pt_view v = { .va = va, .size = PAGE_SIZE, .payload = f->payload_of(e) };
    int err = c->fn(&v, c->arg);
    if (err) {
        c->w.stop = err;
        return false;
    }
    entry_write(f, dt, i, e); /* counted by the caller */
    return true;
}

/* Decode the present leaf e (its non-frame bits attrs) into the cache. */
static void cache_leaf(struct clone *c, uint64_t va, uint64_t e)
{
    const struct pt_format *f = c->w.f;
    leaf_view(f, e, 0, va, &c->proto);
    c->proto.prot &= ~c->clear;
    c->attrs = e & ~frame_mask0(f);
    c->src_attrs = f->make_leaf(0, 0, c->proto.prot | state_bits(&c->proto));
}

/* Level 0 with fn: entries [i, n) of src's st into dst's dt, fn deciding
 * each leaf's copy.  `fresh`: dt was made by this clone, so its entries
 * are known empty (no read to tell -EEXIST). */
static unsigned clone_ptes(struct clone *c, uint64_t va, void *st, void *dt, unsigned i,
                           unsigned n, bool fresh)
{
    /* Locals, not c->...: the compiler must reload fields after every call
     * of fn and every (volatile) entry write. */
    const struct pt_format *f = c->w.f;
    const uint64_t mask = frame_mask0(f);
    int (*fn)(struct pt_view *, void *) = c->fn;
    void *arg = c->arg;
    unsigned written = 0;
    struct pt_view v = c->proto; /* only va, pa and (if fn changed it) prot vary */
    v.size = PAGE_SIZE;
    v.level = 0;
    v.nraw = 0;
    v.payload = 0;
    for (; i < n; i++, va += PAGE_SIZE) {
        uint64_t e = entry_read(f, st, i);
        if ((e & ~mask) != c->attrs) { /* c->attrs: a present leaf's, or ~0 */
            if (!entry_present(f, e)) {
                if (e && clone_payload(c, va, dt, i, e))
                    written++;
                if (c->w.stop)
                    break;
                continue;
            }
            cache_leaf(c, va, e);
            v.accessed = c->proto.accessed;
            v.dirty = c->proto.dirty;
        }
        if (!fresh && entry_read(f, dt, i)) {
            c->w.stop = -EEXIST;
            break;
        }
        v.va = va;
        v.pa = e & mask;
        v.prot = c->proto.prot;
        int err = fn(&v, arg);
        if (err) {
            c->w.stop = err;
            break;
        }
        entry_write(f, dt, i, dst_leaf0(c, &v));
        written++;
        if (c->src_attrs != (e & ~mask)) {
            entry_write(f, st, i, (e & mask) | c->src_attrs);
            src_changed(c, va, va + PAGE_SIZE - 1);
        }
    }
    return written;
}

/*
 * Level 0 with PT_SHARE_FRAMES (fork's copy-on-write): each leaf goes to
 * dst as src keeps it (without `clear`), and its frame gets one more
 * reference.  No view, no call per page: the loop fork runs for every
 * page of a process; only payload entries reach fn.  It is compiled once
 * per entry width and per `fresh` (dst's table new, so known empty), and
 * keeps the fewest values live (the address is worked out from the index
 * when needed), so that nothing spills out of the registers.
 */
static inline __attribute__((always_inline)) unsigned
share_ptes_n(struct clone *c, uint64_t va, void *st, void *dt, unsigned i, unsigned n,
             const bool fresh, const unsigned bytes)
{
    const uint64_t mask = frame_mask0(c->w.f);
    struct page *mem_map = node0->mem_map;
    uint64_t attrs_seen = c->attrs, src_attrs = c->src_attrs;
    const unsigned first = i;
    unsigned written = 0;
    for (; i < n; i++) {
        uint64_t e = entry_read_n(bytes, st, i);
        uint64_t attrs = e & ~mask;
        if (attrs != attrs_seen) {
            uint64_t at = va + (uint64_t)(i - first) * PAGE_SIZE;
            if (!entry_present(c->w.f, e)) {
                if (e && clone_payload(c, at, dt, i, e))
                    written++;
                if (c->w.stop)
                    break;
                continue;
            }
            cache_leaf(c, at, e);
            attrs_seen = c->attrs;
            src_attrs = c->src_attrs;
        }
        if (!fresh && entry_read_n(bytes, dt, i)) {
            c->w.stop = -EEXIST;
            break;
        }
        uint64_t pa = e ^ attrs;
        mem_map[pa >> PAGE_SHIFT].refcount++;
        entry_write_n(bytes, dt, i, pa | src_attrs);
        written++;
        if (src_attrs != attrs) {
            uint64_t at = va + (uint64_t)(i - first) * PAGE_SIZE;
            entry_write_n(bytes, st, i, pa | src_attrs);
            src_changed(c, at, at + PAGE_SIZE - 1);
        }
    }
    c->attrs = attrs_seen;
    c->src_attrs = src_attrs;
    return written;
}

static unsigned share_ptes(struct clone *c, uint64_t va, void *st, void *dt, unsigned i,
                           unsigned n, bool fresh)
{
    if (c->w.f->entry_bytes == 8)
        return fresh ? share_ptes_n(c, va, st, dt, i, n, true, 8)
                     : share_ptes_n(c, va, st, dt, i, n, false, 8);
    return fresh ? share_ptes_n(c, va, st, dt, i, n, true, 4)
                 : share_ptes_n(c, va, st, dt, i, n, false, 4);
}

static void clone_ptes_run(struct pt_range_walk *w, uint64_t va, void *st, unsigned i,
                           unsigned n)
{
    struct clone *c = clone_of(w);
    void *dt = c->dt[0];
    unsigned written = (c->flags & PT_SHARE_FRAMES) ? share_ptes(c, va, st, dt, i, n, c->fresh[0])
                                                    : clone_ptes(c, va, st, dt, i, n, c->fresh[0]);
    *table_used(dt) += written; /* every entry written was empty (checked) */
}

/* Above level 0: into src's tables with dst's beside them (made when
 * missing), large leaves copied whole. */
static void *clone_upper(struct pt_range_walk *w, unsigned level, uint64_t va, unsigned i,
                         uint64_t e)
{
    struct clone *c = clone_of(w);
    const struct pt_format *f = w->f;
    void *dt = c->dt[level];
    if (!entry_present(f, e))
        return NULL;
    uint64_t de = entry_read(f, dt, i);
    if (entry_leaf(f, e, level) || (entry_present(f, de) && entry_leaf(f, de, level))) {
        if (entry_present(f, de))
            w->stop = -EEXIST;
        else
            clone_large(c, level, va, i, e);
        return NULL;
    }
    bool fresh = !entry_present(f, de);
    if (fresh) {
        struct page *p = alloc_table(f, c->dst->gfp);
        if (!p) {
            w->stop = -ENOMEM;
            return NULL;
        }
        de = f->make_table(page_to_phys(p), va);
        entry_set(f, dt, i, de);
        c->dst->nr_tables++;
    }
    c->dt[level - 1] = table_below(f, de);
    c->fresh[level - 1] = fresh;
    return table_below(f, e);
}

/* Leaving src's table: dst's table beside it goes if this clone made it
 * and it stayed empty (the clone stopped before copying into it). */
static void clone_leave(struct pt_range_walk *w, unsigned level, uint64_t last)
{
    struct clone *c = clone_of(w);
    const struct pt_format *f = w->f;
    void *dt = c->dt[level];
    if (!c->fresh[level] || !table_empty(dt))
        return;
    entry_set(f, c->dt[level + 1], pt_index(f, level + 1, last), 0);
    c->dst->nr_tables--;
    free_table_page(virt_to_page(dt));
}

static const struct pt_range_ops clone_ops = { clone_upper, clone_ptes_run, clone_leave, true };

int pt_clone(struct pgtable *dst, struct pgtable *src, uint64_t start, uint64_t end,
             unsigned clear, unsigned flags, int (*fn)(struct pt_view *v, void *arg), void *arg)
{
    const struct pt_format *f = src->fmt;
    if (!dst || dst->fmt != f || (clear & ~PT_PROT_MASK) || (flags & ~PT_SHARE_FRAMES) ||
        (!fn && !(flags & PT_SHARE_FRAMES)) || end <= start ||
        ((start | end) & (PAGE_SIZE - 1)) || start < src->va_start || end > src->va_end ||
        start < dst->va_start || end > dst->va_end || dst->root == src->root)
        return -EINVAL;
    struct clone c = { .w = { .f = f, .ops = &clone_ops, .start = start, .last = end - 1 },
                       .dst = dst, .src = src, .clear = clear, .flags = flags, .fn = fn,
                       .arg = arg, .attrs = ~0ul };
    c.dt[top_level(f)] = table_virt(dst->root);
    pt_walk_range(&c.w, table_virt(src->root));
    if (c.src_changed && src->flush)
        src->flush(src, c.lo, c.hi - c.lo + 1);
    return c.w.stop;
}

/* ---- pt_destroy_each ------------------------------------------------------------------ */

struct teardown {
    struct pt_range_walk w;          /* first: the walker's state */
    struct pgtable *pt;
    unsigned flags;                  /* PT_PUT_FRAMES */
    void (*fn)(const struct pt_view *v, void *arg);
    void *arg;
    uint64_t attrs;                  /* non-frame bits of the last leaf decoded (~0: none) */
    struct pt_view proto;            /* its view */
};

static struct teardown *teardown_of(struct pt_range_walk *w)
{
    return (struct teardown *)w;
}

/* One reference less on the frame of a present leaf (a mapped frame: an
 * allocated head), freed with the last.  Inline for the common case, a
 * frame still mapped elsewhere (fork's copy-on-write). */
static inline void put_frame(struct page *p)
{
    if (p->refcount > 1)
        p->refcount--;
    else
        put_page(p);
}

/* fn on a payload entry. */
static void show_payload(struct teardown *d, uint64_t va, uint64_t e)
{
    if (!d->fn || !is_payload(d->w.f, e))
        return;
    struct pt_view v = { .va = va, .size = PAGE_SIZE, .payload = d->w.f->payload_of(e) };
    d->fn(&v, d->arg);
}

/* Level 0 with PT_PUT_FRAMES: every frame one reference less, a tight
 * loop over the table (exit's teardown). */
static inline __attribute__((always_inline)) void
put_ptes_n(struct teardown *d, uint64_t va, const void *t, unsigned i, unsigned n,
           const unsigned bytes)
{
    const struct pt_format *f = d->w.f;
    const uint64_t mask = frame_mask0(f), present = f->present_mask;
    struct page *mem_map = node0->mem_map;
    const unsigned first = i;
    for (; i < n; i++) {
        uint64_t e = entry_read_n(bytes, t, i);
        if (e & present)
            put_frame(&mem_map[(e & mask) >> PAGE_SHIFT]);
        else if (e)
            show_payload(d, va + (uint64_t)(i - first) * PAGE_SIZE, e);
    }
}

static void put_ptes(struct teardown *d, uint64_t va, const void *t, unsigned i, unsigned n)
{
    if (d->w.f->entry_bytes == 8)
        put_ptes_n(d, va, t, i, n, 8);
    else
        put_ptes_n(d, va, t, i, n, 4);
}

/* Level 0 with fn: every leaf and payload entry shown, in order. */
static void show_ptes(struct teardown *d, uint64_t va, const void *t, unsigned i, unsigned n)
{
    const struct pt_format *f = d->w.f;
    const uint64_t mask = frame_mask0(f);
    for (; i < n; i++, va += PAGE_SIZE) {
        uint64_t e = entry_read(f, t, i);
        if (!entry_present(f, e)) {
            if (e)
                show_payload(d, va, e);
            continue;
        }
        if ((e & ~mask) != d->attrs) {
            leaf_view(f, e, 0, va, &d->proto);
            d->attrs = e & ~mask;
        }
        struct pt_view v = d->proto;
        v.va = va;
        v.pa = e & mask;
        d->fn(&v, d->arg);
    }
}

static void teardown_ptes(struct pt_range_walk *w, uint64_t va, void *t, unsigned i, unsigned n)
{
    struct teardown *d = teardown_of(w);
    if (d->flags & PT_PUT_FRAMES)
        put_ptes(d, va, t, i, n);
    else if (d->fn)
        show_ptes(d, va, t, i, n);
}

/* Unlink and free table t, entry pi of parent. */
static void free_table(struct teardown *d, void *parent, unsigned pi, void *t)
{
    entry_write(d->w.f, parent, pi, 0);
    d->pt->nr_tables--;
    free_table_page(virt_to_page(t));
}

static void *teardown_upper(struct pt_range_walk *w, unsigned level, uint64_t va, unsigned i,
                            uint64_t e)
{
    struct teardown *d = teardown_of(w);
    const struct pt_format *f = w->f;
    if (!entry_present(f, e))
        return NULL;
    if (!entry_leaf(f, e, level)) {
        if (level == 1 && !d->fn && !(d->flags & PT_PUT_FRAMES)) {
            /* nothing to do with its entries: free the level-0 table unread */
            free_table(d, w->table[1], i, table_below(f, e));
            return NULL;
        }
        return table_below(f, e);
    }
    struct pt_view v = { 0 };
    leaf_view(f, e, level, va, &v);
    if (d->flags & PT_PUT_FRAMES)
        put_frame(pfn_to_page(v.pa >> PAGE_SHIFT));
    else if (d->fn)
        d->fn(&v, d->arg);
    return NULL;
}

/* Leaving a table: its entries are done with, free it. */
static void teardown_leave(struct pt_range_walk *w, unsigned level, uint64_t last)
{
    free_table(teardown_of(w), w->table[level + 1], pt_index(w->f, level + 1, last),
               w->table[level]);
}

static const struct pt_range_ops teardown_ops = { teardown_upper, teardown_ptes, teardown_leave, true };

void pt_destroy_each(struct pgtable *pt, unsigned flags,
                     void (*fn)(const struct pt_view *v, void *arg), void *arg)
{
    if (flags & ~PT_PUT_FRAMES)
        panic("pt_destroy_each: flags %#x", flags);
    struct teardown d = { .w = { .f = pt->fmt, .ops = &teardown_ops, .start = pt->va_start,
                                 .last = pt->va_end - 1 },
                          .pt = pt, .flags = flags, .fn = fn, .arg = arg, .attrs = ~0ul };
    pt_walk_range(&d.w, table_virt(pt->root));
    free_table_page(pfn_to_page(pt->root >> PAGE_SHIFT));
    if (--pt->nr_tables != 0)
        panic("pt_destroy: %lu table pages counted but not found", pt->nr_tables);
    pt->root = 0;
}

void pt_destroy(struct pgtable *pt)
{
    pt_destroy_each(pt, 0, NULL, NULL);
}
