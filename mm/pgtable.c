/*
 * Map, unmap, protect and visit, for any format, as actions of the range
 * walker (mm/pgtable_walk.c; include/mm/pgtable.h says what each call
 * promises; the format, e.g. mm/pt_x86_64.c, says how one entry is
 * encoded).  Also pt_init, the argument checks and pt_share_top.
 *
 * Invariants, true between two calls (pt_check() verifies them):
 *  - pt->nr_tables is the number of table pages reachable from the root
 *    through root entries overlapping [va_start, va_end), the root
 *    included; below the root, entries outside the range are empty;
 *  - no table page below the root is empty, except those referenced
 *    from the root when keep_top_tables is set; each counts its used
 *    entries (table_used in mm/pgtable_impl.h), so emptiness is one read;
 *  - a non-present entry is 0, or a payload entry at level 0;
 *  - every leaf sits at a level of fmt->leaf_levels, maps a physical
 *    range aligned to its size, and holds exactly what fmt->make_leaf
 *    wrote (plus the accessed/dirty bits the CPU may set);
 *  - a table page is freed only after pt->flush was called for the
 *    operation that unlinked it, so no TLB or paging-structure cache
 *    entry can lead the CPU into a freed (reused) page.
 *
 * An operation runs in four steps:
 *  1. check the arguments (-EINVAL);
 *  2. count the table pages it will need and allocate all of them into a
 *     "spare" list (-EEXIST, -ENOMEM: nothing has changed yet, so there
 *     is nothing to undo);
 *  3. walk the range with pt_walk_range and the operation's actions,
 *     changing entries; this step cannot fail;
 *  4. call pt->flush if a present entry changed, then free the tables the
 *     walk unlinked (kept on a "dead" list until then).
 *
 * Counting is exact.  pt_map runs its walk twice: first "dry", writing
 * nothing, and where a table is missing counting one and going on into a
 * page of zeros (what the new table will hold), so the second walk takes
 * exactly what the first counted; a leaf or a payload entry in the way is
 * found by the dry walk (-EEXIST).  pt_unmap and pt_protect need new
 * tables only to split a large leaf the range cuts, and only the leaves
 * holding the range's first and last bytes can be cut: split_count()
 * walks to them.
 *
 * Payload entries: pt_map finds them in the way, pt_unmap clears them
 * (no flush: the CPU caches nothing for a non-present entry), pt_protect
 * leaves them alone and pt_for_each shows them to its function.
 *
 * Locking: none here; the caller serializes the operations on one
 * pgtable (one CPU, no SMP).  Nothing sleeps.
 *
 * Left out on purpose: merging small leaves back into a large one (a
 * split direct map stays split), software bits in present entries (the
 * format owns every bit), and flushing on other CPUs (the flush hook's
 * job).  Reference: Intel SDM vol. 3A, 4.10.4 (when to invalidate the
 * TLB and the paging-structure caches); the blog post on i386 paging
 * (two-level tables, 4 MiB pages, the TLB) and the SOS mailing-list post
 * ("paged memory" layer), see docs/bibliography.md.
 */
#include <mm/pgtable.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>

#include "pgtable_impl.h"

/* ---- lists of table pages outside the tree ----------------------------------------- */

/*
 * A list of table pages is linked through the pages themselves: the
 * first 8 bytes hold the next page's physical address, 0 ends the list.
 * Spare pages come zeroed from the allocator and are zeroed again when
 * taken.  A dead page may still be cached by the CPU until the flush;
 * its link is a page-aligned address, so bit 0 (present, in both
 * formats) is clear and the CPU sees it as an empty entry.
 */
static void list_push(uint64_t *list, uint64_t pa)
{
    *(uint64_t *)table_virt(pa) = *list;
    *list = pa;
}

static uint64_t list_pop(uint64_t *list)
{
    uint64_t pa = *list;
    uint64_t *link = table_virt(pa);
    *list = *link;
    *link = 0;
    return pa;
}

static void list_free(uint64_t *list)
{
    while (*list)
        free_table_page(pfn_to_page(list_pop(list) >> PAGE_SHIFT));
}

/* Allocate n zeroed pages onto *spare; all or none. */
static int reserve(const struct pgtable *pt, uint64_t n, uint64_t *spare)
{
    for (uint64_t i = 0; i < n; i++) {
        struct page *p = alloc_table(pt->fmt, pt->gfp);
        if (!p) {
            list_free(spare);
            return -ENOMEM;
        }
        list_push(spare, page_to_phys(p));
    }
    return 0;
}

/* ---- argument checks ----------------------------------------------------------------- */

/*
 * The translatable addresses are at most two intervals at the ends of the
 * 64-bit space, 2^va_bits bytes in all, so a range no longer than that
 * whose two ends are translatable cannot straddle the hole between them
 * (x86-64's non-canonical hole is 2^64 - 2^48 long).
 */
bool pt_range_ok(const struct pt_format *f, uint64_t va, uint64_t len, uint64_t *last)
{
    if (len == 0 || ((va | len) & (PAGE_SIZE - 1)))
        return false;
    *last = va + len - 1;
    return *last >= va /* no wrap past 2^64 */ && len <= (1ul << f->va_bits) &&
           f->va_ok(va) && f->va_ok(*last);
}

/* [va_start, va_end) is translatable (pt_init checked it), so a range
 * inside it is too: no call to va_ok. */
bool pt_in_range(const struct pgtable *pt, uint64_t va, uint64_t len, uint64_t *last)
{
    if (len == 0 || ((va | len) & (PAGE_SIZE - 1)))
        return false;
    *last = va + len - 1;
    return *last >= va && va >= pt->va_start && *last < pt->va_end;
}

/* pt->prot_ok remembers the last prot found good, and its 4 KiB leaf. */
bool pt_prot_ok(struct pgtable *pt, unsigned prot)
{
    const struct pt_format *f = pt->fmt;
    if (prot == pt->prot_ok)
        return true;
    if (prot & ~PT_PROT_MASK)
        return false;
    for (unsigned l = 0; l < f->levels; l++) {
        struct pt_view v = { 0 };
        if (!can_be_leaf(f, l))
            continue;
        f->decode_leaf(f->make_leaf(0, l, prot), l, &v);
        if (v.prot != prot || v.accessed || v.dirty)
            return false;
    }
    pt->prot_ok = prot;
    pt->prot_ok_leaf0 = f->make_leaf(0, 0, prot);
    return true;
}

/* ---- one operation, over the range walker ------------------------------------------------ */

/* One map, unmap, protect or visit in progress. */
struct pt_run {
    struct pt_range_walk w;    /* first: the walker's state (w.stop: -EEXIST or fn's value) */
    const struct pgtable *pt;
    uint64_t pa_off;           /* map: the frame of va is va + pa_off (mod 2^64) */
    unsigned prot, flags;      /* map, protect */
    uint64_t leaf0;            /* map, protect: make_leaf(0, 0, prot) */
    bool dry;                  /* map's counting walk: write nothing */
    int (*fn)(const struct pt_view *v, void *arg); /* visit */
    void *arg;
    uint64_t need;             /* dry map: the table pages the real walk will take */
    uint64_t spare, dead;      /* page lists: tables to use, tables to free */
    int64_t tables;            /* change of pt->nr_tables */
    bool changed;              /* a present entry was changed or removed */
    uint64_t lo, hi;           /* the translations changed lie in [lo, hi] */
    bool cleared[PT_MAX_LEVELS]; /* unmap: an entry of w.table[l] was removed */
    uint64_t attrs_seen, attrs_new; /* protect: the last leaf's non-frame bits, rewritten */
};

static struct pt_run *run_of(struct pt_range_walk *w)
{
    return (struct pt_run *)w;
}

/* What a new table holds, for the dry walk of pt_map to go into. */
static const uint64_t zero_table[PAGE_SIZE / sizeof(uint64_t)];

static void note_change(struct pt_run *r, uint64_t lo, uint64_t hi)
{
    lo = MAX(lo, r->w.start);
    hi = MIN(hi, r->w.last);
    if (!r->changed || lo < r->lo)
        r->lo = lo;
    if (!r->changed || hi > r->hi)
        r->hi = hi;
    r->changed = true;
}

/* Link a spare page as the table below entry i of table (covering va). */
static void *new_table(struct pt_run *r, void *table, unsigned i, uint64_t va)
{
    if (!r->spare)
        panic("pgtable: no spare table left at %#lx: the count was wrong", va);
    uint64_t pa = list_pop(&r->spare);
    pfn_to_page(pa >> PAGE_SHIFT)->prev = 0; /* table_used: none yet */
    entry_set(r->w.f, table, i, r->w.f->make_table(pa, va));
    r->tables++;
    return table_virt(pa);
}

/*
 * Replace the large leaf e (entry i of table, covering va) by a table of
 * leaves one level down mapping the same frames with the same protections
 * and accessed/dirty state; return that table.  The new table is filled
 * before it is linked, so a walker never sees it half done.
 */
static void *split(struct pt_run *r, unsigned level, uint64_t va, void *table, unsigned i,
                   uint64_t e)
{
    const struct pt_format *f = r->w.f;
    struct pt_view v = { 0 };
    if (level == 0)
        panic("pgtable: split of a 4 KiB leaf at %#lx", va);
    leaf_view(f, e, level, va, &v);
    if (!r->spare)
        panic("pgtable: no spare table to split %#lx: the count was wrong", va);
    uint64_t pa = list_pop(&r->spare);
    void *t = table_virt(pa);
    uint64_t child = level_size(f, level - 1);
    for (unsigned k = 0; k < nr_entries(f); k++)
        entry_write(f, t, k, f->make_leaf(v.pa + k * child, level - 1, v.prot | state_bits(&v)));
    *table_used(t) = nr_entries(f);
    entry_write(f, table, i, f->make_table(pa, va)); /* a leaf before: the count stays */
    r->tables++;
    note_change(r, v.va, v.va + v.size - 1);
    return t;
}

/* ---- pt_map ---- */

/* May a leaf of this level start at va? */
static bool leaf_fits(const struct pt_run *r, unsigned level, uint64_t va)
{
    uint64_t size = level_size(r->w.f, level);
    return (r->flags & PT_MAP_LARGE) && can_be_leaf(r->w.f, level) &&
           ((va | (va + r->pa_off)) & (size - 1)) == 0 && r->w.last - va >= size - 1;
}

static void *map_upper(struct pt_range_walk *w, unsigned level, uint64_t va, unsigned i,
                       uint64_t e)
{
    struct pt_run *r = run_of(w);
    const struct pt_format *f = w->f;
    void *table = w->table[level];
    if (entry_present(f, e) && !entry_leaf(f, e, level))
        return table_below(f, e);
    if (e) { /* a leaf in the way */
        if (!r->dry)
            panic("pgtable: entry %#lx at %#lx appeared after the check", e, va);
        w->stop = -EEXIST;
        return NULL;
    }
    if (leaf_fits(r, level, va)) {
        if (!r->dry)
            entry_set(f, table, i, f->make_leaf(va + r->pa_off, level, r->prot));
        return NULL;
    }
    if (r->dry) {
        r->need++;
        return (void *)zero_table;
    }
    return new_table(r, table, i, va);
}

/* A 4 KiB leaf in every entry: its frame in place (struct pt_format). */
static void map_ptes(struct pt_range_walk *w, uint64_t va, void *t, unsigned i, unsigned n)
{
    struct pt_run *r = run_of(w);
    const struct pt_format *f = w->f;
    for (unsigned k = i; k < n; k++) {
        if (!entry_read(f, t, k))
            continue;
        if (!r->dry) /* a leaf or a payload entry in the way */
            panic("pgtable: entry at %#lx appeared after the check", va + (k - i) * PAGE_SIZE);
        w->stop = -EEXIST;
        return;
    }
    if (r->dry)
        return;
    uint64_t pa = va + r->pa_off, leaf0 = r->leaf0;
    for (unsigned k = i; k < n; k++, pa += PAGE_SIZE)
        entry_write(f, t, k, pa | leaf0);
    *table_used(t) += n - i;
}

static const struct pt_range_ops map_ops = { map_upper, map_ptes, NULL, false };

/* ---- pt_unmap and pt_protect ---- */

static void *change_upper(struct pt_range_walk *w, unsigned level, uint64_t va, unsigned i,
                          uint64_t e, bool unmap)
{
    struct pt_run *r = run_of(w);
    const struct pt_format *f = w->f;
    void *table = w->table[level];
    struct pt_view v = { 0 };
    if (!entry_present(f, e)) {
        if (e && unmap) { /* not a valid entry above level 0: cleared with the rest */
            entry_set(f, table, i, 0);
            r->cleared[level] = true;
        }
        return NULL;
    }
    if (!entry_leaf(f, e, level)) {
        r->cleared[level - 1] = false;
        return table_below(f, e);
    }
    leaf_view(f, e, level, va, &v);
    if (v.va < w->start || v.va + v.size - 1 > w->last) {
        r->cleared[level - 1] = false;
        return split(r, level, va, table, i, e);
    }
    if (unmap) {
        entry_set(f, table, i, 0);
        r->cleared[level] = true;
        note_change(r, v.va, v.va + v.size - 1);
        return NULL;
    }
    uint64_t ne = f->make_leaf(v.pa, level, r->prot | state_bits(&v));
    if (ne != e) {
        entry_write(f, table, i, ne);
        note_change(r, v.va, v.va + v.size - 1);
    }
    return NULL;
}

static void *unmap_upper(struct pt_range_walk *w, unsigned level, uint64_t va, unsigned i,
                         uint64_t e)
{
    return change_upper(w, level, va, i, e, true);
}

static void *protect_upper(struct pt_range_walk *w, unsigned level, uint64_t va, unsigned i,
                           uint64_t e)
{
    return change_upper(w, level, va, i, e, false);
}

/* Leaves and payload entries go; only the leaves need a flush. */
static void unmap_ptes(struct pt_range_walk *w, uint64_t va, void *t, unsigned i, unsigned n)
{
    struct pt_run *r = run_of(w);
    const struct pt_format *f = w->f;
    uint64_t lo = 0, hi = 0;
    unsigned removed = 0;
    for (; i < n; i++, va += PAGE_SIZE) {
        uint64_t e = entry_read(f, t, i);
        if (!e)
            continue;
        entry_write(f, t, i, 0);
        removed++;
        if (entry_present(f, e)) {
            lo = lo ? lo : va | 1; /* | 1: va 0 is a change too */
            hi = va + PAGE_SIZE - 1;
        }
    }
    *table_used(t) -= removed;
    r->cleared[0] = r->cleared[0] || removed;
    if (lo)
        note_change(r, lo & ~1ul, hi);
}

/* Leaves get the new prot with their state; holes and payload entries
 * stay.  Neighbours alike but for their frame share one rewrite. */
static void protect_ptes(struct pt_range_walk *w, uint64_t va, void *t, unsigned i, unsigned n)
{
    struct pt_run *r = run_of(w);
    const struct pt_format *f = w->f;
    const uint64_t mask = frame_mask0(f);
    for (; i < n; i++, va += PAGE_SIZE) {
        uint64_t e = entry_read(f, t, i);
        if (!entry_present(f, e))
            continue;
        uint64_t attrs = e & ~mask;
        if (attrs != r->attrs_seen) {
            unsigned state = ((e & f->accessed_mask) ? PT_ACCESSED : 0) |
                             ((e & f->dirty_mask) ? PT_DIRTY : 0);
            r->attrs_new = f->make_leaf(0, 0, r->prot | state);
            r->attrs_seen = attrs;
        }
        uint64_t ne = (e & mask) | r->attrs_new;
        if (ne != e) {
            entry_write(f, t, i, ne);
            note_change(r, va, va + PAGE_SIZE - 1);
        }
    }
}

/* Leaving a table in which pt_unmap cleared an entry: if it is empty now,
 * unlink it from its parent and put it on the dead list; the parent may
 * empty in turn.  The tables of the root stay when they are kept. */
static void unmap_leave(struct pt_range_walk *w, unsigned level, uint64_t last)
{
    struct pt_run *r = run_of(w);
    const struct pt_format *f = w->f;
    void *t = w->table[level];
    bool kept = r->pt->keep_top_tables && level + 1 == top_level(f);
    if (!r->cleared[level] || kept || !table_empty(t))
        return;
    entry_set(f, w->table[level + 1], pt_index(f, level + 1, last), 0);
    list_push(&r->dead, table_phys(t));
    r->cleared[level + 1] = true;
    r->tables--;
}

static const struct pt_range_ops unmap_ops = { unmap_upper, unmap_ptes, unmap_leave, true };
static const struct pt_range_ops protect_ops = { protect_upper, protect_ptes, NULL, true };

/* ---- pt_for_each ---- */

/* fn on the leaf or payload entry e at this level (anything else that is
 * not present is corruption, for pt_check to report). */
static void visit(struct pt_run *r, unsigned level, uint64_t va, uint64_t e)
{
    const struct pt_format *f = r->w.f;
    struct pt_view v = { 0 };
    for (unsigned l = top_level(f); l > level; l--)
        v.raw[v.nraw++] = r->w.seen[l];
    v.raw[v.nraw++] = e;
    if (entry_present(f, e)) {
        leaf_view(f, e, level, va, &v);
    } else if (level == 0 && is_payload(f, e)) {
        v.va = va;
        v.size = PAGE_SIZE;
        v.payload = f->payload_of(e);
    } else {
        return;
    }
    r->w.stop = r->fn(&v, r->arg);
}

static void *visit_upper(struct pt_range_walk *w, unsigned level, uint64_t va, unsigned i,
                         uint64_t e)
{
    (void)i;
    if (!entry_present(w->f, e))
        return NULL;
    if (!entry_leaf(w->f, e, level))
        return table_below(w->f, e);
    visit(run_of(w), level, va, e);
    return NULL;
}

static void visit_ptes(struct pt_range_walk *w, uint64_t va, void *t, unsigned i, unsigned n)
{
    for (; i < n && !w->stop; i++, va += PAGE_SIZE) {
        uint64_t e = entry_read(w->f, t, i);
        if (e)
            visit(run_of(w), 0, va, e);
    }
}

static const struct pt_range_ops visit_ops = { visit_upper, visit_ptes, NULL, true };

/* Step 4: account, flush, then free what was unlinked. */
static int finish(struct pgtable *pt, struct pt_run *r)
{
    if (r->spare)
        panic("pgtable: spare tables left after the walk: the count was wrong");
    pt->nr_tables = (uint64_t)((int64_t)pt->nr_tables + r->tables);
    if (r->changed && pt->flush)
        pt->flush(pt, r->lo, r->hi - r->lo + 1);
    if (r->dead && pt->tables_freed)
        pt->tables_freed(pt);
    list_free(&r->dead);
    return 0;
}

/*
 * The tables pt_unmap or pt_protect will take: one per leaf split.  A
 * leaf is split when the range covers only part of it, so it holds the
 * range's first or last byte and the range's edge falls inside it; the
 * piece holding that byte is split again until the edge falls on a leaf
 * boundary.  Both edges may lie in one leaf: each split is counted once.
 */
static uint64_t split_count(const struct pt_run *r)
{
    const struct pt_format *f = r->w.f;
    uint64_t splits[2 * PT_MAX_LEVELS]; /* first address | level, of each leaf split */
    unsigned n = 0;

    for (int side = 0; side < 2; side++) {
        uint64_t inside = side ? r->w.last : r->w.start;    /* a byte of the range */
        uint64_t edge = side ? r->w.last + 1 : r->w.start;  /* where it starts or ends */
        struct pt_view v;
        if (pt_walk(r->pt, inside, &v) != 0)
            continue; /* a hole: nothing to split */
        for (unsigned l = v.level; l > 0 && (edge & (level_size(f, l) - 1)); l--) {
            uint64_t key = (inside & ~(level_size(f, l) - 1)) | l;
            bool known = false;
            for (unsigned k = 0; k < n; k++)
                known = known || splits[k] == key;
            if (!known)
                splits[n++] = key;
        }
    }
    return n;
}

static bool format_ok(const struct pt_format *f)
{
    return f && f->levels >= 1 && f->levels <= PT_MAX_LEVELS &&
           (f->entry_bytes == 8 || f->entry_bytes == 4) &&
           (1ul << f->index_bits) * f->entry_bytes == PAGE_SIZE &&
           (f->leaf_levels & 1) && (f->leaf_levels & (f->leaf_levels + 1)) == 0 &&
           f->leaf_levels < (1u << f->levels) &&
           f->va_bits == PAGE_SHIFT + f->levels * f->index_bits &&
           f->pa_bits > PAGE_SHIFT && f->pa_bits < 64 && pt_format_data_ok(f);
}

/* ---- the interface ----------------------------------------------------------------- */

int pt_init(struct pgtable *pt, const struct pt_format *fmt, gfp_t gfp, uint64_t va_start,
            uint64_t va_end)
{
    uint64_t last;
    memset(pt, 0, sizeof(*pt));
    if (!format_ok(fmt) || va_end <= va_start ||
        !pt_range_ok(fmt, va_start, va_end - va_start, &last))
        return -EINVAL;
    struct page *root = alloc_table(fmt, gfp);
    if (!root)
        return -ENOMEM;
    pt->fmt = fmt;
    pt->gfp = gfp;
    pt->root = page_to_phys(root);
    pt->va_start = va_start;
    pt->va_end = va_end;
    pt->nr_tables = 1;
    pt->prot_ok = ~0u; /* no prot has every bit: nothing known good yet */
    return 0;
}

int pt_share_top(struct pgtable *dst, const struct pgtable *src, uint64_t start,
                 uint64_t len)
{
    const struct pt_format *f = dst->fmt;
    unsigned top = top_level(f);
    uint64_t last;
    /* the same entry layout (a format and a copy of it with fewer leaf
     * sizes, as the kernel's, can share tables) */
    if (!src || src->fmt->levels != f->levels || src->fmt->entry_bytes != f->entry_bytes ||
        src->fmt->index_bits != f->index_bits || ((start | len) & (level_size(f, top) - 1)) ||
        !pt_range_ok(f, start, len, &last) || (start < dst->va_end && last >= dst->va_start))
        return -EINVAL;
    void *to = table_virt(dst->root);
    const void *from = table_virt(src->root);
    for (uint64_t va = start; va - 1 != last; va += level_size(f, top)) {
        unsigned i = pt_index(f, top, va);
        entry_set(f, to, i, entry_read(f, from, i));
    }
    return 0;
}

/*
 * The common case of pt_map, without the two-pass machinery: one 4 KiB
 * page whose tables all exist and whose entry is empty (a page fault in
 * an area already in use).  It needs no table and cannot fail, so writing
 * the entry is the whole operation.  Returns false when the case does
 * not apply; the general path then decides (-EEXIST, tables to
 * allocate...).  prot has just been found good: pt->prot_ok_leaf0 is its
 * leaf.
 */
static bool map_one_fast(struct pgtable *pt, uint64_t va, uint64_t pa)
{
    const struct pt_format *f = pt->fmt;
    void *table;
    unsigned i, level;
    uint64_t e = pt_descend(pt, va, 0, &table, &i, &level);
    if (level > 0 || e)
        return false; /* a missing table, a leaf or a payload entry */
    entry_set(f, table, i, pa | pt->prot_ok_leaf0);
    return true;
}

/* pt_map's general path: count, reserve, walk (the four steps above). */
static int __attribute__((noinline)) map_range(struct pgtable *pt, uint64_t va, uint64_t last,
                                               uint64_t pa, unsigned prot, unsigned flags)
{
    struct pt_run r = { .w = { .f = pt->fmt, .ops = &map_ops, .start = va, .last = last },
                        .pt = pt, .pa_off = pa - va, .prot = prot, .flags = flags,
                        .leaf0 = pt->prot_ok_leaf0, .dry = true };
    pt_walk_range(&r.w, table_virt(pt->root));
    if (r.w.stop)
        return r.w.stop;
    int err = reserve(pt, r.need, &r.spare);
    if (err)
        return err;
    r.dry = false;
    pt_walk_range(&r.w, table_virt(pt->root));
    return finish(pt, &r);
}

int pt_map(struct pgtable *pt, uint64_t va, uint64_t pa, uint64_t len, unsigned prot,
           unsigned flags)
{
    const struct pt_format *f = pt->fmt;
    uint64_t last, pa_limit = 1ul << f->pa_bits;
    if (!pt_in_range(pt, va, len, &last) || (pa & (PAGE_SIZE - 1)) || pa >= pa_limit ||
        len > pa_limit - pa || (prot != pt->prot_ok && !pt_prot_ok(pt, prot)) ||
        (flags & ~PT_MAP_LARGE))
        return -EINVAL;
    if (len == PAGE_SIZE && map_one_fast(pt, va, pa))
        return 0;
    return map_range(pt, va, last, pa, prot, flags);
}

/* pt_unmap and pt_protect. */
static int change(struct pgtable *pt, bool unmap, uint64_t va, uint64_t len, unsigned prot)
{
    uint64_t last;
    if (!pt_in_range(pt, va, len, &last) || (!unmap && !pt_prot_ok(pt, prot)))
        return -EINVAL;
    struct pt_run r = { .w = { .f = pt->fmt, .ops = unmap ? &unmap_ops : &protect_ops,
                               .start = va, .last = last },
                        .pt = pt, .prot = prot, .attrs_seen = ~0ul };
    int err = reserve(pt, split_count(&r), &r.spare);
    if (err)
        return err;
    pt_walk_range(&r.w, table_virt(pt->root));
    return finish(pt, &r);
}

/*
 * The common case of pt_unmap: one 4 KiB entry (a leaf or a payload) in a
 * table that keeps other entries, or nothing at all down there.  No table
 * to free, nothing to split: clear it, flush if it was present.  Returns
 * false when the general path must decide (a large leaf, the table's last
 * entry).
 */
static bool unmap_one_fast(struct pgtable *pt, uint64_t va)
{
    const struct pt_format *f = pt->fmt;
    void *table;
    unsigned i, level;
    uint64_t e = pt_descend(pt, va, 0, &table, &i, &level);
    if (level > 0)
        return !entry_present(f, e); /* no table down there: nothing to unmap */
    if (!e)
        return true;
    if (*table_used(table) == 1)
        return false;
    entry_set(f, table, i, 0);
    if (entry_present(f, e) && pt->flush)
        pt->flush(pt, va, PAGE_SIZE);
    return true;
}

int pt_unmap(struct pgtable *pt, uint64_t va, uint64_t len)
{
    uint64_t last;
    if (len == PAGE_SIZE && pt_in_range(pt, va, len, &last) && unmap_one_fast(pt, va))
        return 0;
    return change(pt, true, va, len, 0);
}

int pt_protect(struct pgtable *pt, uint64_t va, uint64_t len, unsigned prot)
{
    return change(pt, false, va, len, prot);
}

int pt_for_each(const struct pgtable *pt, uint64_t start, uint64_t end,
                int (*fn)(const struct pt_view *v, void *arg), void *arg)
{
    uint64_t last;
    if (end <= start || !pt_range_ok(pt->fmt, start, end - start, &last))
        return -EINVAL;
    struct pt_run r = { .w = { .f = pt->fmt, .ops = &visit_ops, .start = start, .last = last },
                        .pt = pt, .fn = fn, .arg = arg };
    pt_walk_range(&r.w, table_virt(pt->root));
    return r.w.stop;
}

const char *pt_prot_str(unsigned prot, char buf[16])
{
    static const char cache[4][3] = { "wb", "wc", "uc", "wt" };
    const char *c = cache[(prot & PT_CACHE_MASK) >> 4];
    buf[0] = 'r';
    buf[1] = (prot & PT_W) ? 'w' : '-';
    buf[2] = (prot & PT_X) ? 'x' : '-';
    buf[3] = ' ';
    buf[4] = (prot & PT_U) ? 'u' : '-';
    buf[5] = (prot & PT_G) ? 'g' : '-';
    buf[6] = ' ';
    buf[7] = c[0];
    buf[8] = c[1];
    buf[9] = 0;
    return buf;
}
