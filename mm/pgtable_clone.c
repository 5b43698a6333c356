/*
 * Whole-range operations, a table at a time: pt_clone (fork's copy of an
 * address space, Linux's copy_page_range) and pt_destroy_each /
 * pt_destroy (exit's teardown).  include/mm/pgtable.h says what each
 * promises.
 *
 * Why not mm/pgtable.c's run()?  That walker is general (splits, dry
 * counts, one entry at a time through step()), and an operation on one
 * page costs little next to the fault or the syscall around it.  Fork and
 * exit touch every page of a process: with 64 MiB that is 16384 leaves,
 * and a per-page pt_map was most of what fork cost (docs/benchmarks.md
 * section 5).  Here the upper levels are a short recursion, and each
 * level-0 table is one tight loop over its entries.
 *
 * The one-entry decode cache: the leaves of a table nearly always differ
 * only in their frame (a 64 MiB heap: 512 entries with the same rights
 * and accessed/dirty state), and every format keeps the frame of a 4 KiB
 * leaf in place, in bits 12 .. pa_bits - 1 (frame_mask0).  So a leaf is decoded, and the
 * entries to write are made, only when its other bits differ from the
 * previous leaf's; otherwise the cached results are reused with the new
 * frame or'ed in.  The cache cannot be wrong: it is keyed by every
 * non-frame bit, and make_leaf(pa, 0, prot) == pa | make_leaf(0, 0,
 * prot) holds for every format (pt_init checks it); a format's present()
 * depends on the non-frame bits only, so a leaf with the cached bits is
 * present without asking.
 *
 * Invariants kept (those of mm/pgtable.c): pt_clone creates a table in
 * dst only to write a leaf into it and frees it again if it stays empty;
 * dst's nr_tables counts what it links; src's leaves change only by
 * losing the `clear` rights, and src->flush is called once at the end if
 * any did.  pt_destroy_each frees every table below the root inside the
 * range (kept top tables too: the address space is going away), no
 * flush: the tables must not be in use.
 *
 * Reference: Linux's copy_page_range / copy_pte_range (mm/memory.c), which
 * also write-protects the parent's private pages in the same pass;
 * xv6's freewalk for the teardown.
 */
#include <mm/pgtable.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>

#include "pgtable_impl.h"

struct clone {
    const struct pt_format *f;
    struct pgtable *dst, *src;
    uint64_t start, last;            /* the range, last byte included */
    unsigned clear;                  /* rights both copies lose */
    int (*fn)(struct pt_view *v, void *arg);
    void *arg;
    int err;
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

static uint64_t level_last(const struct pt_format *f, unsigned level, uint64_t va)
{
    return (va | (level_size(f, level) - 1));
}

/* Does a 4 KiB leaf hold its frame in place (struct pt_format)?  Every
 * protection with every state, against each frame bit alone and all of
 * them: about 10^4 calls, so a format found good is remembered (by
 * content: a test may build different formats at one address). */
static bool leaf0_ok_with(const struct pt_format *f, unsigned prot, uint64_t attrs, uint64_t pa)
{
    struct pt_view a = { 0 }, b = { 0 };
    if (f->make_leaf(pa, 0, prot) != (pa | attrs) || f->present(pa | attrs) != f->present(attrs) ||
        f->present(pa))
        return false;
    /* and the decoded rights and state do not depend on the frame */
    f->decode_leaf(attrs, 0, &a);
    f->decode_leaf(pa | attrs, 0, &b);
    return a.prot == b.prot && a.accessed == b.accessed && a.dirty == b.dirty && b.pa == pa;
}

static bool leaf0_check(const struct pt_format *f)
{
    const uint64_t mask = frame_mask0(f);
    for (unsigned prot = 0; prot <= (PT_PROT_MASK | PT_ACCESSED | PT_DIRTY); prot++) {
        uint64_t attrs = f->make_leaf(0, 0, prot);
        if (attrs & mask)
            return false;
        for (uint64_t bit = PAGE_SIZE; bit & mask; bit <<= 1) /* each frame bit alone */
            if (!leaf0_ok_with(f, prot, attrs, bit))
                return false;
        if (!leaf0_ok_with(f, prot, attrs, mask)) /* and all of them */
            return false;
    }
    return true;
}

bool pt_leaf0_ok(const struct pt_format *f)
{
    static struct pt_format good[4];
    static unsigned ngood;
    for (unsigned k = 0; k < ngood && k < 4; k++)
        if (memcmp(&good[k], f, sizeof(*f)) == 0)
            return true;
    if (!leaf0_check(f))
        return false;
    good[ngood++ % 4] = *f;
    return true;
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
    if ((v->pa & (PAGE_SIZE - 1)) || (v->pa >> c->f->pa_bits))
        panic("pt_clone: fn gave pa %#lx at %#lx", v->pa,
              v->va);
    if (!c->dst_cached || prot != c->dst_prot) {
        if (!prot0_ok(c->f, prot))
            panic("pt_clone: fn gave prot %#x at %#lx", prot, v->va);
        c->dst_prot = prot;
        c->dst_attrs = c->f->make_leaf(0, 0, prot);
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

/* A leaf of any level, the slow way (large leaves; never in user space
 * today, but the interface does not forbid them). */
static bool clone_large(struct clone *c, unsigned level, uint64_t va, void *st, void *dt,
                        unsigned i, uint64_t e)
{
    const struct pt_format *f = c->f;
    struct pt_view v = { 0 };
    leaf_view(f, e, level, va, &v);
    if (v.va < c->start || v.va + v.size - 1 > c->last) {
        c->err = -EINVAL; /* pt_clone copies whole leaves */
        return false;
    }
    struct pt_view keep = v;
    v.prot &= ~c->clear;
    int err = c->fn ? c->fn(&v, c->arg) : 0;
    if (!c->fn)
        pfn_to_page(v.pa >> PAGE_SHIFT)->refcount++; /* shared as it is */
    if (err) {
        c->err = err;
        return false;
    }
    if ((v.pa & (v.size - 1)) || (v.pa >> f->pa_bits) || !prot0_ok(f, v.prot))
        panic("pt_clone: fn gave pa %#lx prot %#x at %#lx", v.pa, v.prot,
              v.va);
    entry_set(f, dt, i, f->make_leaf(v.pa, level, v.prot | state_bits(&v)));
    if (keep.prot & c->clear) {
        entry_write(f, st, i, f->make_leaf(keep.pa, level,
                                           (keep.prot & ~c->clear) | state_bits(&keep)));
        src_changed(c, keep.va, keep.va + keep.size - 1);
    }
    return true;
}

/* A payload entry e of src, entry i: fn sees it (v->payload set: what it
 * names may need another reference), then dst gets the same entry. */
static bool clone_payload(struct clone *c, uint64_t va, void *dt, unsigned i, uint64_t e)
{
    const struct pt_format *f = c->f;
    if (entry_read(f, dt, i)) {
        c->err = -EEXIST;
        return false;
    }
    struct pt_view v = { .va = va, .size = PAGE_SIZE, .payload = f->payload_of(e) };
    int err = c->fn(&v, c->arg);
    if (err) {
        c->err = err;
        return false;
    }
    entry_write(f, dt, i, e); /* counted by the caller */
    return true;
}

/* One level-0 table: entries [i, n) of src's st into dst's dt.  Returns
 * how many entries it wrote (leaves and payload entries).  `fresh`: dt
 * was made by this clone, so its entries are known empty (no read to
 * tell -EEXIST). */
static unsigned clone_ptes(struct clone *c, uint64_t va, void *st, void *dt, unsigned i,
                           unsigned n, bool fresh)
{
    /* Locals, not c->...: the compiler must reload fields after every call
     * of fn and every (volatile) entry write, and this loop runs for every
     * page of a fork. */
    const struct pt_format *f = c->f;
    const uint64_t mask = frame_mask0(f);
    int (*fn)(struct pt_view *, void *) = c->fn;
    void *arg = c->arg;
    uint64_t attrs_seen = c->attrs, src_attrs = c->src_attrs;
    unsigned written = 0, prot = c->proto.prot;
    /* The view fn gets: only va, pa and (if fn changed it) prot differ
     * from one leaf to the next; the rest is set when the attributes do. */
    struct pt_view v = c->proto;
    v.size = PAGE_SIZE;
    v.level = 0;
    v.nraw = 0;
    v.payload = 0;
    for (; i < n; i++, va += PAGE_SIZE) {
        uint64_t e = entry_read(f, st, i);
        uint64_t attrs = e & ~mask;
        if (attrs != attrs_seen) { /* attrs_seen: a present leaf's, or ~0 */
            if (!e)
                continue;
            if (!f->present(e)) {
                if (is_payload(f, e) && clone_payload(c, va, dt, i, e))
                    written++;
                if (c->err)
                    break;
                continue;
            }
            leaf_view(f, e, 0, va, &c->proto);
            c->proto.prot &= ~c->clear;
            attrs_seen = attrs;
            src_attrs = f->make_leaf(0, 0, c->proto.prot | state_bits(&c->proto));
            prot = c->proto.prot;
            v.accessed = c->proto.accessed;
            v.dirty = c->proto.dirty;
        }
        if (!fresh && entry_read(f, dt, i)) {
            c->err = -EEXIST;
            break;
        }
        v.va = va;
        v.pa = e & mask;
        v.prot = prot;
        int err = fn(&v, arg);
        if (err) {
            c->err = err;
            break;
        }
        entry_write(f, dt, i, dst_leaf0(c, &v));
        written++;
        if (src_attrs != attrs) {
            entry_write(f, st, i, (e & mask) | src_attrs);
            src_changed(c, va, va + PAGE_SIZE - 1);
        }
    }
    c->attrs = attrs_seen;
    c->src_attrs = src_attrs;
    *table_used(dt) += written; /* every entry written was empty (checked above) */
    return written;
}

/*
 * clone_ptes without fn (pt_clone's "share" case, fork's copy-on-write):
 * each leaf goes to dst as src keeps it (without `clear`), and its frame
 * gets one more reference.  No view, no call per page: the loop fork runs
 * for every page of a process.
 */
static unsigned share_ptes(struct clone *c, uint64_t va, void *st, void *dt, unsigned i,
                           unsigned n, bool fresh)
{
    const struct pt_format *f = c->f;
    const uint64_t mask = frame_mask0(f);
    struct page *mem_map = node0->mem_map;
    uint64_t attrs_seen = c->attrs, src_attrs = c->src_attrs;
    unsigned written = 0;
    for (; i < n; i++, va += PAGE_SIZE) {
        uint64_t e = entry_read(f, st, i);
        uint64_t attrs = e & ~mask;
        if (attrs != attrs_seen) {
            if (!e)
                continue;
            if (!f->present(e)) {
                c->err = -EINVAL; /* a payload entry: only fn knows what it names */
                break;
            }
            leaf_view(f, e, 0, va, &c->proto);
            c->proto.prot &= ~c->clear;
            attrs_seen = attrs;
            src_attrs = f->make_leaf(0, 0, c->proto.prot | state_bits(&c->proto));
        }
        if (!fresh && entry_read(f, dt, i)) {
            c->err = -EEXIST;
            break;
        }
        uint64_t pa = e & mask;
        mem_map[pa >> PAGE_SHIFT].refcount++;
        entry_write(f, dt, i, pa | src_attrs);
        written++;
        if (src_attrs != attrs) {
            entry_write(f, st, i, pa | src_attrs);
            src_changed(c, va, va + PAGE_SIZE - 1);
        }
    }
    c->attrs = attrs_seen;
    c->src_attrs = src_attrs;
    *table_used(dt) += written;
    return written;
}

/*
 * The entries of src's table st (at this level) overlapping [va, last of
 * the range], into dst's table dt.  Returns the number of entries of dt
 * this call made present (a caller that created dt frees it when 0).
 */
static unsigned clone_table(struct clone *c, unsigned level, uint64_t va, void *st, void *dt,
                            bool fresh)
{
    const struct pt_format *f = c->f;
    unsigned i = pt_index(f, level, va);
    uint64_t tlast = level_last(f, level + 1, va); /* the table's last address */
    unsigned n = pt_index(f, level, MIN(tlast, c->last)) + 1;
    if (level == 0)
        return c->fn ? clone_ptes(c, va, st, dt, i, n, fresh)
                     : share_ptes(c, va, st, dt, i, n, fresh);
    unsigned made = 0;
    for (; i < n && !c->err; i++, va = level_last(f, level, va) + 1) {
        uint64_t e = entry_read(f, st, i);
        if (!f->present(e))
            continue;
        uint64_t de = entry_read(f, dt, i);
        if (f->is_leaf(e, level) || (f->present(de) && f->is_leaf(de, level))) {
            if (f->present(de)) {
                c->err = -EEXIST;
            } else if (clone_large(c, level, va, st, dt, i, e)) {
                made++;
            }
            continue;
        }
        fresh = !f->present(de);
        if (fresh) {
            struct page *p = alloc_table(f, c->dst->gfp);
            if (!p) {
                c->err = -ENOMEM;
                break;
            }
            de = f->make_table(page_to_phys(p), va);
            entry_set(f, dt, i, de);
            c->dst->nr_tables++;
        }
        unsigned below = clone_table(c, level - 1, va, table_virt(f->table_pa(e)),
                                     table_virt(f->table_pa(de)), fresh);
        if (fresh && below == 0) {
            entry_set(f, dt, i, 0);
            c->dst->nr_tables--;
            __free_pages(pfn_to_page(f->table_pa(de) >> PAGE_SHIFT), 0);
        } else if (fresh) {
            made++;
        }
    }
    return made;
}

int pt_clone(struct pgtable *dst, struct pgtable *src, uint64_t start, uint64_t end,
             unsigned clear, int (*fn)(struct pt_view *v, void *arg), void *arg)
{
    const struct pt_format *f = src->fmt;
    if (!dst || dst->fmt != f || (clear & ~PT_PROT_MASK) || end <= start ||
        ((start | end) & (PAGE_SIZE - 1)) || start < src->va_start || end > src->va_end ||
        start < dst->va_start || end > dst->va_end || dst->root == src->root)
        return -EINVAL;
    struct clone c = { .f = f, .dst = dst, .src = src, .start = start, .last = end - 1,
                       .clear = clear, .fn = fn, .arg = arg, .attrs = ~0ul };
    clone_table(&c, top_level(f), start, table_virt(src->root), table_virt(dst->root), false);
    if (c.src_changed && src->flush)
        src->flush(src, c.lo, c.hi - c.lo + 1);
    return c.err;
}

/* ---- teardown -------------------------------------------------------------------------- */

struct teardown {
    const struct pt_format *f;
    struct pgtable *pt;
    uint64_t start, last;
    void (*fn)(uint64_t va, uint64_t pa, uint64_t size, void *arg);
    void *arg;
    uint64_t attrs;                  /* non-frame bits of the last level-0 leaf seen,
                                      * ~0 (no entry's: the frame mask is not 0) at first */
};

/* The leaves of a level-0 table, entries [i, n): locals for the reason
 * given in clone_ptes. */
static void teardown_ptes(struct teardown *d, uint64_t va, const void *t, unsigned i, unsigned n)
{
    const struct pt_format *f = d->f;
    const uint64_t mask = frame_mask0(f);
    void (*fn)(uint64_t, uint64_t, uint64_t, void *) = d->fn;
    void *arg = d->arg;
    uint64_t attrs_seen = d->attrs; /* a present leaf's (or ~0): no present() needed for
                                     * the leaves like the previous one */
    for (; i < n; i++, va += PAGE_SIZE) {
        uint64_t e = entry_read(f, t, i);
        uint64_t attrs = e & ~mask;
        if (attrs != attrs_seen) {
            if (!e || !f->present(e))
                continue;
            attrs_seen = attrs;
        }
        fn(va, e & mask, PAGE_SIZE, arg);
    }
    d->attrs = attrs_seen;
}

/* Report the leaves of table t (at this level) in the range, then free the
 * tables below it. */
static void teardown_table(struct teardown *d, unsigned level, uint64_t va, void *t)
{
    const struct pt_format *f = d->f;
    unsigned i = pt_index(f, level, va);
    unsigned n = pt_index(f, level, MIN(level_last(f, level + 1, va), d->last)) + 1;
    if (level == 0) {
        teardown_ptes(d, va, t, i, n);
        return;
    }
    for (; i < n; i++, va = level_last(f, level, va) + 1) {
        uint64_t e = entry_read(f, t, i);
        if (!f->present(e)) {
            continue;
        } else if (!f->is_leaf(e, level)) {
            uint64_t pa = f->table_pa(e);
            if (level > 1 || d->fn) /* without fn, a level-0 table has nothing to say */
                teardown_table(d, level - 1, va, table_virt(pa));
            entry_write(f, t, i, 0);
            d->pt->nr_tables--;
            __free_pages(pfn_to_page(pa >> PAGE_SHIFT), 0);
        } else if (d->fn) {
            struct pt_view v = { 0 };
            leaf_view(f, e, level, va, &v);
            d->fn(v.va, v.pa, v.size, d->arg);
        }
    }
}

void pt_destroy_each(struct pgtable *pt,
                     void (*fn)(uint64_t va, uint64_t pa, uint64_t size, void *arg), void *arg)
{
    struct teardown d = { .f = pt->fmt, .pt = pt, .start = pt->va_start,
                          .last = pt->va_end - 1, .fn = fn, .arg = arg, .attrs = ~0ul };
    teardown_table(&d, top_level(pt->fmt), pt->va_start, table_virt(pt->root));
    __free_pages(pfn_to_page(pt->root >> PAGE_SHIFT), 0);
    if (--pt->nr_tables != 0)
        panic("pt_destroy: %lu table pages counted but not found",
              pt->nr_tables);
    pt->root = 0;
}

void pt_destroy(struct pgtable *pt)
{
    pt_destroy_each(pt, NULL, NULL);
}
