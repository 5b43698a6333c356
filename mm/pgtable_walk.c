/*
 * How the page-table code walks: the two shapes every operation of
 * include/mm/pgtable.h is written over, for every format.
 *
 * 1. Down to one entry (pt_descend): from the root, one index per level,
 *    until the entry wanted, a leaf or a hole.  pt_walk, pt_replace,
 *    pt_replace_view and pt_set_payload (below) are that walk and one
 *    read or write; so are pt_map's and pt_unmap's one-page fast paths
 *    (mm/pgtable.c).
 *
 * 2. Across a range (pt_walk_range): one loop whose `level` moves down
 *    into tables and back up, with the path kept in w->table[] (the table
 *    at each level) and w->seen[] (the entry read there).  The operation
 *    gives three actions (struct pt_range_ops):
 *
 *      level = top; va = start
 *      loop:
 *          if level == 0:
 *              ptes(va, table[0], i, n)       # the whole level-0 run at once
 *              next = end of that run
 *          else:
 *              e = table[level][index(level, va)], or the next entry in use
 *              down = upper(level, va, e)     # what to do with e
 *              if down: level--, table[level] = down; continue
 *              next = start of the next entry at this level
 *          while level < top and (stopped, past the end, or next starts a new table):
 *              leave(level); level++          # e.g. free the table if emptied
 *          if stopped or past the end: return
 *          va = next
 *
 *    Every range operation is these three actions and nothing else
 *    (upper: what it does with an empty entry / a table / a large leaf):
 *
 *      pt_map           upper: a leaf or a new table / down / -EEXIST
 *                       ptes:  a leaf in each entry, -EEXIST if one is used
 *      pt_unmap         upper: skip / down / clear, split if cut
 *                       ptes:  clear the leaves and the payload entries
 *                       leave: free the table if it is empty now
 *      pt_protect       upper: skip / down / rewrite, split if cut
 *                       ptes:  rewrite the leaves, keep the payload entries
 *      pt_for_each      upper: skip / down / fn
 *                       ptes:  fn on the leaves and the payload entries
 *      pt_clone         upper: skip / down, dst's table made beside / copy
 *                       ptes:  copy the leaves (fn, or shared), payloads to fn
 *                       leave: free dst's table if it stayed empty
 *      pt_destroy_each  upper: skip / down / fn or put the frame
 *                       ptes:  fn, or put the frames in a batch; payloads to fn
 *                       leave: free the table
 *
 *    (mm/pgtable.c has the first four, mm/pgtable_clone.c the last two.)
 *    The level-0 action gets a whole run of a table's entries, so it is
 *    a tight loop over an array: fork's and exit's per-page work is a few
 *    instructions with no call, and the loop's shape cannot drift between
 *    operations because there is only one.  An action that fails (a dry
 *    map finding a leaf, fn's error, no memory for a clone's table) sets
 *    w->stop: the walk goes back up, leaving every table it is in, and
 *    ends.
 *
 * The hot tests (present? leaf? which table?) are masks of the format
 * (struct pt_format), so a step down is arithmetic; the format's
 * functions are called to make or decode an entry, which is rarer.
 *
 * Invariants relied on here and kept by the operations: see the top of
 * mm/pgtable.c.  Nothing here allocates, sleeps or locks; the caller
 * serializes the operations on one pgtable.
 *
 * Reference: xv6's walk() for the loop over levels; Intel SDM vol. 3A,
 * 4.5 (4-level paging) and 4.3 (32-bit paging) for what a walk reads;
 * the blog post on i386 paging (2008) for the two-level walk, which is
 * this loop with two levels (docs/bibliography.md).
 */
#include <mm/pgtable.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>

#include "pgtable_impl.h"

/* ---- across a range -------------------------------------------------------------------- */

void pt_walk_range(struct pt_range_walk *w, void *root)
{
    const struct pt_format *f = w->f;
    const struct pt_range_ops *ops = w->ops;
    unsigned top = top_level(f), level = top;
    uint64_t va = w->start;

    w->table[top] = root;
    w->stop = 0;
    for (;;) {
        uint64_t next;
        if (level == 0) {
            /* the rest of this table, or of the range */
            uint64_t end = MIN(va | (level_size(f, 1) - 1), w->last);
            unsigned i = pt_index(f, 0, va), n = pt_index(f, 0, end) + 1;
            ops->ptes(w, va, w->table[0], i, n);
            next = (end | (PAGE_SIZE - 1)) + 1;
        } else {
            void *t = w->table[level];
            unsigned i = pt_index(f, level, va);
            uint64_t e = entry_read(f, t, i);
            bool all_empty = false;
            if (!e && ops->skip_holes) {
                /* on to the next used entry of this table, in the range */
                uint64_t span = level_size(f, level + 1) - 1, end = MIN(va | span, w->last);
                unsigned last_i = pt_index(f, level, end);
                while (i < last_i && !(e = entry_read(f, t, ++i)))
                    ;
                if (e)
                    va = (va & ~span) | ((uint64_t)i << (PAGE_SHIFT + level * f->index_bits));
                else
                    next = end + 1; /* nothing more here */
                all_empty = !e;
            }
            if (!all_empty) {
                w->seen[level] = e;
                void *down = ops->upper(w, level, va, i, e);
                if (down && !w->stop) {
                    w->table[--level] = down;
                    continue;
                }
                uint64_t size = level_size(f, level);
                next = (va & ~(size - 1)) + size;
            }
        }
        bool done = w->stop || next == 0 /* past 2^64 */ || next > w->last;
        while (level < top && (done || pt_index(f, level, next) == 0)) {
            if (ops->leave)
                ops->leave(w, level, next - 1);
            level++;
        }
        if (done)
            return;
        va = next;
    }
}

/* ---- the one-entry operations ------------------------------------------------------------ */

int pt_walk(const struct pgtable *pt, uint64_t va, struct pt_view *v)
{
    const struct pt_format *f = pt->fmt;
    /* The whole view, field by field (cheaper than a memset of it). */
    v->va = v->pa = v->payload = v->size = 0;
    v->prot = 0;
    v->accessed = v->dirty = false;
    v->level = 0;
    v->nraw = 0;
    for (unsigned l = 0; l < PT_MAX_LEVELS; l++)
        v->raw[l] = 0;
    v->pt = NULL;
    v->table = NULL;
    v->index = 0;
    /* [va_start, va_end) is translatable (pt_init checked its ends). */
    if ((va < pt->va_start || va >= pt->va_end) && !f->va_ok(va))
        return -EINVAL;
    if (!node0)
        return -EFAULT; /* an oops before mem_init */
    /* In locals: the stores to *v could alias the format's fields. */
    const unsigned bits = f->index_bits, bytes = f->entry_bytes, leaf_levels = f->leaf_levels;
    const uint64_t present = f->present_mask, leaf = f->leaf_mask, tmask = f->table_mask;
    const uint64_t imask = nr_entries(f) - 1, limit = node0->max_pfn << PAGE_SHIFT;
    uint8_t *direct_map = node0->direct_map;
    uint64_t pa = pt->root, e;
    unsigned level = top_level(f), n = 0, i;
    void *t;
    for (;; level--) {
        if (pa == 0 || pa >= limit || (pa & (PAGE_SIZE - 1)))
            return -EFAULT; /* never follow a corrupt entry, even in an oops */
        t = direct_map + pa;
        i = (unsigned)(va >> (PAGE_SHIFT + level * bits)) & imask;
        e = entry_read_n(bytes, t, i);
        v->raw[n++] = e;
        if (!(e & present) || level == 0 || (((leaf_levels >> level) & 1) && (e & leaf)))
            break;
        pa = e & tmask;
    }
    v->nraw = n;
    v->level = level;
    v->pt = pt;
    v->table = t;
    v->index = i;
    if (e & present) {
        leaf_view(f, e, level, va, v);
        return 0;
    }
    if (level == 0 && is_payload(f, e))
        v->payload = f->payload_of(e);
    return -ENOENT;
}

uint64_t pt_table_frees;

int pt_walk_cursor(const struct pgtable *pt, uint64_t va, struct pt_view *v, struct pt_cursor *c)
{
    const struct pt_format *f = pt->fmt;
    const unsigned shift = PAGE_SHIFT + f->index_bits;
    if (c->pt == pt && c->frees == pt_table_frees && (va >> shift) == c->base &&
        va >= pt->va_start && va < pt->va_end) {
        /* The table is still there and still the one for va: the walk
         * would read the same entries above it, then this one. */
        unsigned i = pt_index(f, 0, va), n = c->nraw;
        uint64_t e = entry_read(f, c->table, i);
        if (entry_present(f, e)) {
            for (unsigned l = 0; l < n; l++)
                v->raw[l] = c->raw[l];
            for (unsigned l = n + 1; l < PT_MAX_LEVELS; l++)
                v->raw[l] = 0;
            v->raw[n] = e;
            v->nraw = n + 1;
            v->payload = 0;
            v->pt = pt;
            v->table = (void *)c->table;
            v->index = i;
            leaf_view(f, e, 0, va, v);
            return 0;
        }
        /* not present (a hole, a payload entry): the walk says what */
    }
    int err = pt_walk(pt, va, v);
    if (err == 0 && v->level == 0 && v->nraw >= 1) {
        c->pt = pt;
        c->table = v->table;
        c->base = va >> shift;
        c->frees = pt_table_frees;
        c->nraw = v->nraw - 1;
        for (unsigned l = 0; l + 1 < v->nraw; l++)
            c->raw[l] = v->raw[l];
    }
    return err;
}

/*
 * The common part of pt_replace and pt_replace_view: the leaf that the
 * walk behind v read, now e, gets pa and prot (checked, and just found
 * good by pt_prot_ok, which left its 4 KiB leaf in pt->prot_ok_leaf0)
 * with the state e has.  One entry write and one flush, no memory.
 */
static int replace_at(struct pgtable *pt, const struct pt_view *v, uint64_t e, uint64_t pa,
                      unsigned prot)
{
    const struct pt_format *f = pt->fmt;
    uint64_t ne;
    if (v->level == 0 && (prot & ~(PT_ACCESSED | PT_DIRTY)) == pt->prot_ok)
        /* the frame in place in the cached leaf, the state bits where the
         * masks say (struct pt_format) */
        ne = pa | pt->prot_ok_leaf0 | (e & (f->accessed_mask | f->dirty_mask)) |
             ((prot & PT_ACCESSED) ? f->accessed_mask : 0) |
             ((prot & PT_DIRTY) ? f->dirty_mask : 0);
    else
        ne = f->make_leaf(pa, v->level, prot | ((e & f->accessed_mask) ? PT_ACCESSED : 0) |
                                            ((e & f->dirty_mask) ? PT_DIRTY : 0));
    if (ne == e)
        return 0;
    entry_write(f, v->table, v->index, ne); /* present before and after: the count stays */
    if (pt->flush)
        pt->flush(pt, v->va, v->size);
    return 0;
}

/* pt_replace's and pt_replace_view's checks of pa and prot for a leaf of
 * this size (pt->prot_ok is the cache of pt_prot_ok: the fault path asks
 * about the same prot again and again). */
static bool replace_args_ok(struct pgtable *pt, uint64_t size, uint64_t pa, unsigned prot)
{
    unsigned rights = prot & ~(PT_ACCESSED | PT_DIRTY);
    return (pa & (size - 1)) == 0 && (pa >> pt->fmt->pa_bits) == 0 &&
           (rights == pt->prot_ok || pt_prot_ok(pt, rights));
}

int pt_replace(struct pgtable *pt, uint64_t va, uint64_t pa, unsigned prot)
{
    uint64_t last;
    struct pt_view v;
    if (!pt_in_range(pt, va, PAGE_SIZE, &last) || !replace_args_ok(pt, PAGE_SIZE, pa, prot))
        return -EINVAL;
    int err = pt_walk(pt, va, &v);
    if (err)
        return err == -EFAULT ? err : -ENOENT;
    if (v.va != va || !replace_args_ok(pt, v.size, pa, prot) ||
        !pt_in_range(pt, v.va, v.size, &last))
        return -EINVAL; /* inside a large leaf, or it reaches past the range */
    return replace_at(pt, &v, v.raw[v.nraw - 1], pa, prot);
}

int pt_replace_view(struct pgtable *pt, const struct pt_view *v, uint64_t pa, unsigned prot)
{
    const struct pt_format *f = pt->fmt;
    /* A leaf view of this pgtable from pt_walk, whole inside its range,
     * its slot where the walk would find it... */
    if (v->pt != pt || !v->table || v->payload || v->nraw == 0 ||
        !entry_present(f, v->raw[v->nraw - 1]) ||
        !is_frame(table_phys(v->table) & ~(PAGE_SIZE - 1)) ||
        v->index != pt_index(f, v->level, v->va) || v->va < pt->va_start ||
        v->va + v->size - 1 >= pt->va_end || v->va + v->size - 1 < v->va ||
        !replace_args_ok(pt, v->size, pa, prot))
        return -EINVAL;
    /* ...still holding the leaf the walk saw (the CPU may have set A or
     * D since). */
    uint64_t e = entry_read(f, v->table, v->index);
    if ((e ^ v->raw[v->nraw - 1]) & ~(f->accessed_mask | f->dirty_mask))
        return -EINVAL;
    return replace_at(pt, v, e, pa, prot);
}

int pt_set_payload(struct pgtable *pt, uint64_t va, uint64_t payload)
{
    const struct pt_format *f = pt->fmt;
    uint64_t last;
    if (!pt_in_range(pt, va, PAGE_SIZE, &last) || !f->make_payload || payload == 0 ||
        (payload >> f->payload_bits))
        return -EINVAL;
    void *table;
    unsigned i, level;
    uint64_t e = pt_descend(pt, va, 0, &table, &i, &level);
    if (level > 0)
        return entry_present(f, e) ? -EINVAL /* a large leaf */ : -ENOENT /* no table */;
    entry_set(f, table, i, f->make_payload(payload));
    if (entry_present(f, e) && pt->flush)
        pt->flush(pt, va, PAGE_SIZE);
    return 0;
}

int pt_fill_payload(struct pgtable *pt, uint64_t va, uint64_t pa, unsigned prot)
{
    const struct pt_format *f = pt->fmt;
    uint64_t last;
    if (!pt_in_range(pt, va, PAGE_SIZE, &last) || !replace_args_ok(pt, PAGE_SIZE, pa, prot))
        return -EINVAL;
    void *table;
    unsigned i, level;
    uint64_t e = pt_descend(pt, va, 0, &table, &i, &level);
    if (level > 0 || !is_payload(f, e))
        return -ENOENT;
    /* Not present before: no translation to flush. */
    entry_set(f, table, i, f->make_leaf(pa, 0, prot));
    return 0;
}

int pt_test_clear_young(struct pgtable *pt, const struct pt_view *v)
{
    const struct pt_format *f = pt->fmt;
    if (v->pt != pt || !v->table || v->payload || v->nraw == 0 ||
        !entry_present(f, v->raw[v->nraw - 1]) || v->index != pt_index(f, v->level, v->va))
        return -EINVAL;
    uint64_t e = entry_read(f, v->table, v->index);
    if (!entry_present(f, e) || !(e & f->accessed_mask))
        return 0;
    entry_write(f, v->table, v->index, e & ~f->accessed_mask);
    /* The next access sets it again: the CPU's walk (after this flush),
     * or a derived side's fill (compat32: its entry goes with the flush). */
    if (pt->flush)
        pt->flush(pt, v->va, v->size);
    return 1;
}
