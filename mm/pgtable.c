/*
 * The page-table walker: map, unmap, protect, walk and visit, for any
 * format (include/mm/pgtable.h says what each call promises; the format,
 * e.g. mm/pt_x86_64.c, says how one entry is encoded).
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
 *  3. walk the range with run(), ONE loop over levels for every
 *     operation, changing entries; this step cannot fail;
 *  4. call pt->flush if a present entry changed, then free the tables the
 *     walk unlinked (kept on a "dead" list until then).
 *
 * Counting is exact.  pt_map runs the same walk twice: first "dry",
 * writing nothing, and where a table is missing counting one and going
 * on into a page of zeros (what the new table will hold), so the second
 * walk takes exactly what the first counted; a leaf in the way is found
 * by the dry walk (-EEXIST).  pt_unmap and pt_protect need new tables
 * only to split a large leaf the range cuts, and only the leaves holding
 * the range's first and last bytes can be cut: split_count() walks to
 * them.
 *
 * Locking: none here; the caller serializes the operations on one
 * pgtable (one CPU, no SMP).  Nothing sleeps.
 *
 * Two single-entry operations bypass the four steps because they can
 * neither need memory nor fail halfway: pt_replace rewrites one present
 * leaf in place, and pt_set_payload turns one level-0 entry into a
 * payload entry; each is one walk down, one entry write and at most one
 * flush.
 *
 * Left out on purpose: merging small leaves back into a large one (a
 * split direct map stays split), software bits in present entries (the
 * format owns every bit), and flushing on other CPUs (the flush hook's
 * job).  Reference: Intel SDM vol. 3A, 4.10.4 (when to invalidate the
 * TLB and the paging-structure caches); xv6's walk() for the loop over
 * levels; the blog post on i386 paging (two-level tables, 4 MiB pages,
 * the TLB) and the SOS mailing-list post ("paged memory" layer), see
 * docs/bibliography.md.
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
        __free_pages(pfn_to_page(list_pop(list) >> PAGE_SHIFT), 0);
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

/* ---- the walk -------------------------------------------------------------------------- */

enum pt_op { OP_MAP, OP_UNMAP, OP_PROTECT, OP_VISIT };

/* One operation in progress. */
struct pt_run {
    const struct pgtable *pt;
    const struct pt_format *fmt;
    enum pt_op op;
    uint64_t start, last;      /* the range, last byte included (no overflow at 2^64) */
    uint64_t pa_off;           /* map: the frame of va is va + pa_off (mod 2^64) */
    unsigned prot, flags;      /* map, protect */
    bool dry;                  /* map's counting walk: write nothing */
    int (*fn)(const struct pt_view *v, void *arg); /* visit */
    void *arg;
    int ret;                   /* stops the walk: -EEXIST (dry map) or fn's value */
    uint64_t need;             /* dry map: the table pages the real walk will take */
    uint64_t spare, dead;      /* page lists: tables to use, tables to free */
    int64_t tables;            /* change of pt->nr_tables */
    bool changed;              /* a present entry was changed or removed */
    uint64_t lo, hi;           /* the translations changed lie in [lo, hi] */
};

/* What a new table holds, for the dry walk of pt_map to go into. */
static const uint64_t zero_table[PAGE_SIZE / sizeof(uint64_t)];

static void note_change(struct pt_run *r, uint64_t lo, uint64_t hi)
{
    lo = MAX(lo, r->start);
    hi = MIN(hi, r->last);
    if (!r->changed || lo < r->lo)
        r->lo = lo;
    if (!r->changed || hi > r->hi)
        r->hi = hi;
    r->changed = true;
}

/* Link a spare page as the table below entry i (covering va). */
static void *new_table(struct pt_run *r, void *table, unsigned i, uint64_t va)
{
    if (!r->spare)
        panic("pgtable: no spare table left at %#lx: the count was wrong",
              va);
    uint64_t pa = list_pop(&r->spare);
    pfn_to_page(pa >> PAGE_SHIFT)->prev = 0; /* table_used: none yet */
    entry_set(r->fmt, table, i, r->fmt->make_table(pa, va));
    r->tables++;
    return table_virt(pa);
}

/*
 * Replace the large leaf e (entry i, covering va) by a table of leaves
 * one level down mapping the same frames with the same protections and
 * accessed/dirty state; return that table.  The new table is filled
 * before it is linked, so a walker never sees it half done.
 */
static void *split(struct pt_run *r, unsigned level, uint64_t va, void *table, unsigned i,
                   uint64_t e)
{
    const struct pt_format *f = r->fmt;
    struct pt_view v = { 0 };
    if (level == 0)
        panic("pgtable: split of a 4 KiB leaf at %#lx", va);
    leaf_view(f, e, level, va, &v);
    if (!r->spare)
        panic("pgtable: no spare table to split %#lx: the count was wrong",
              va);
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

/* pt_map: may a leaf of this level start at va? */
static bool leaf_fits(const struct pt_run *r, unsigned level, uint64_t va)
{
    uint64_t size = level_size(r->fmt, level);
    if (level == 0)
        return true;
    return (r->flags & PT_MAP_LARGE) && can_be_leaf(r->fmt, level) &&
           ((va | (va + r->pa_off)) & (size - 1)) == 0 && r->last - va >= size - 1;
}

/* pt_map at an entry that is empty or a leaf. */
static void *map_step(struct pt_run *r, unsigned level, uint64_t va, void *table, unsigned i,
                      uint64_t e)
{
    const struct pt_format *f = r->fmt;
    if (e) { /* a leaf, or a payload entry: both are in the way */
        if (!r->dry)
            panic("pgtable: entry %#lx at %#lx appeared after the check",
                  e, va);
        r->ret = -EEXIST;
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

/* pt_unmap and pt_protect at an entry that is empty or a leaf. */
static void *change_step(struct pt_run *r, unsigned level, uint64_t va, void *table,
                         unsigned i, uint64_t e, bool *cleared)
{
    const struct pt_format *f = r->fmt;
    struct pt_view v = { 0 };
    if (!f->present(e)) {
        if (e && r->op == OP_UNMAP) { /* a payload entry: nothing the CPU caches */
            entry_set(f, table, i, 0);
            *cleared = true;
        }
        return NULL; /* a hole */
    }
    leaf_view(f, e, level, va, &v);
    if (v.va < r->start || v.va + v.size - 1 > r->last)
        return split(r, level, va, table, i, e);
    if (r->op == OP_UNMAP) {
        entry_set(f, table, i, 0);
        *cleared = true;
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

/* pt_for_each at a leaf: seen[] holds the entries read on the way down. */
static void visit_leaf(struct pt_run *r, unsigned level, uint64_t va, const uint64_t seen[])
{
    const struct pt_format *f = r->fmt;
    struct pt_view v = { 0 };
    leaf_view(f, seen[level], level, va, &v);
    for (unsigned l = top_level(f) + 1; l-- > level;)
        v.raw[v.nraw++] = seen[l];
    r->ret = r->fn(&v, r->arg);
}

/*
 * What the operation does at one entry (seen[level], entry i of table,
 * covering va).  Returns the table to go down into, or NULL to move on
 * to the next entry.
 */
static void *step(struct pt_run *r, unsigned level, uint64_t va, void *table, unsigned i,
                  const uint64_t seen[], bool *cleared)
{
    const struct pt_format *f = r->fmt;
    uint64_t e = seen[level];
    if (f->present(e) && !f->is_leaf(e, level))
        return table_virt(f->table_pa(e)); /* every operation goes down into tables */
    switch (r->op) {
    case OP_MAP:
        return map_step(r, level, va, table, i, e);
    case OP_UNMAP:
    case OP_PROTECT:
        return change_step(r, level, va, table, i, e, cleared);
    case OP_VISIT:
        if (f->present(e))
            visit_leaf(r, level, va, seen);
        return NULL;
    }
    return NULL;
}

/*
 * The walk leaves table[level] (va is its last address visited).  pt_unmap
 * unlinks it if the walk emptied it, unless it is a kept top table.
 * Unlinked tables wait on the dead list for the flush.  (No note_change for a table: its leaves were noted when
 * they were removed, and a flush drops the paging-structure caches.)
 */
static void leave(struct pt_run *r, unsigned level, void *table[], bool cleared[], uint64_t va)
{
    const struct pt_format *f = r->fmt;
    void *parent = table[level + 1];
    unsigned pi = pt_index(f, level + 1, va);
    bool kept = r->pt->keep_top_tables && level + 1 == top_level(f);

    if (r->op != OP_UNMAP || !cleared[level] || kept || !table_empty(table[level]))
        return;
    uint64_t pa = f->table_pa(entry_read(f, parent, pi));
    entry_set(f, parent, pi, 0);
    list_push(&r->dead, pa);
    cleared[level + 1] = true;
    r->tables--;
}

/*
 * Visit the entries covering [start, last] in address order, going down
 * into tables and back up: one loop, `level` moving down and up.  At each
 * entry step() says whether to go down; otherwise va moves to the next
 * entry, and every table this finishes (va reached its end, or the end of
 * the range) is left on the way up.
 */
static void run(struct pt_run *r)
{
    const struct pt_format *f = r->fmt;
    unsigned top = top_level(f), level = top;
    void *table[PT_MAX_LEVELS];          /* the tables on the way down */
    uint64_t seen[PT_MAX_LEVELS];        /* the entries read on the way down */
    bool cleared[PT_MAX_LEVELS] = { 0 }; /* an entry of table[l] was removed */
    uint64_t va = r->start;

    table[top] = table_virt(r->pt->root);
    for (;;) {
        unsigned i = pt_index(f, level, va);
        seen[level] = entry_read(f, table[level], i);
        void *down = step(r, level, va, table[level], i, seen, &cleared[level]);
        if (r->ret)
            return; /* only a dry map or a visit stops early: nothing was changed */
        if (down) {
            level--;
            table[level] = down;
            cleared[level] = false;
            continue;
        }
        uint64_t size = level_size(f, level);
        va = (va & ~(size - 1)) + size;
        bool done = va == 0 || va > r->last;
        while (level < top && (done || pt_index(f, level, va) == 0)) {
            leave(r, level, table, cleared, va - 1);
            level++;
        }
        if (done)
            return;
    }
}

/* Step 4: account, flush, then free what was unlinked. */
static int finish(struct pgtable *pt, struct pt_run *r)
{
    if (r->spare)
        panic("pgtable: spare tables left after the walk: the count was wrong");
    pt->nr_tables = (uint64_t)((int64_t)pt->nr_tables + r->tables);
    if (r->changed && pt->flush)
        pt->flush(pt, r->lo, r->hi - r->lo + 1);
    list_free(&r->dead);
    return 0;
}

/* ---- argument checks and counting ---------------------------------------------------- */

/*
 * Is [va, va + len) page aligned, non-empty and translatable?  Sets
 * *last.  The translatable addresses are at most two intervals at the
 * ends of the 64-bit space, 2^va_bits bytes in all, so a range no longer
 * than that whose two ends are translatable cannot straddle the hole
 * between them (x86-64's non-canonical hole is 2^64 - 2^48 long).
 */
static bool range_ok(const struct pt_format *f, uint64_t va, uint64_t len, uint64_t *last)
{
    if (len == 0 || ((va | len) & (PAGE_SIZE - 1)))
        return false;
    *last = va + len - 1;
    return *last >= va /* no wrap past 2^64 */ && len <= (1ul << f->va_bits) &&
           f->va_ok(va) && f->va_ok(*last);
}

/* The same, and inside [va_start, va_end). */
static bool in_range(const struct pgtable *pt, uint64_t va, uint64_t len, uint64_t *last)
{
    return range_ok(pt->fmt, va, len, last) && va >= pt->va_start && *last < pt->va_end;
}

/* Can the format express prot, at every level that may hold a leaf?
 * pt->prot_ok remembers the last prot found good: the fault path asks
 * about the same few values again and again. */
static bool prot_ok(struct pgtable *pt, unsigned prot)
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
    return true;
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
    const struct pt_format *f = r->fmt;
    uint64_t splits[2 * PT_MAX_LEVELS]; /* first address | level, of each leaf split */
    unsigned n = 0;

    for (int side = 0; side < 2; side++) {
        uint64_t inside = side ? r->last : r->start;    /* a byte of the range */
        uint64_t edge = side ? r->last + 1 : r->start;  /* where it starts or ends */
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
           f->pa_bits > PAGE_SHIFT && f->pa_bits < 64 && !f->present(0) && pt_leaf0_ok(f);
}

/* ---- the interface ----------------------------------------------------------------- */

int pt_init(struct pgtable *pt, const struct pt_format *fmt, gfp_t gfp, uint64_t va_start,
            uint64_t va_end)
{
    uint64_t last;
    memset(pt, 0, sizeof(*pt));
    if (!format_ok(fmt) || va_end <= va_start ||
        !range_ok(fmt, va_start, va_end - va_start, &last))
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
        !range_ok(f, start, len, &last) || (start < dst->va_end && last >= dst->va_start))
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
 * an area already in use, fork copying a table's worth of entries).  It
 * needs no table and cannot fail, so writing the entry is the whole
 * operation.  Returns false when the case does not apply; the general
 * path then decides (-EEXIST, tables to allocate...).
 */
static bool map_one_fast(struct pgtable *pt, uint64_t va, uint64_t pa, unsigned prot)
{
    const struct pt_format *f = pt->fmt;
    uint64_t tpa = pt->root;
    for (unsigned level = top_level(f); level > 0; level--) {
        uint64_t e = entry_read(f, table_virt(tpa), pt_index(f, level, va));
        if (!f->present(e) || f->is_leaf(e, level))
            return false;
        tpa = f->table_pa(e);
    }
    void *table = table_virt(tpa);
    unsigned i = pt_index(f, 0, va);
    if (entry_read(f, table, i))
        return false; /* a leaf or a payload entry: the general path says -EEXIST */
    entry_set(f, table, i, f->make_leaf(pa, 0, prot));
    return true;
}

int pt_map(struct pgtable *pt, uint64_t va, uint64_t pa, uint64_t len, unsigned prot,
           unsigned flags)
{
    const struct pt_format *f = pt->fmt;
    uint64_t last, pa_limit = 1ul << f->pa_bits;
    if (!in_range(pt, va, len, &last) || (pa & (PAGE_SIZE - 1)) || pa >= pa_limit ||
        len > pa_limit - pa || !prot_ok(pt, prot) || (flags & ~PT_MAP_LARGE))
        return -EINVAL;
    if (len == PAGE_SIZE && map_one_fast(pt, va, pa, prot))
        return 0;
    struct pt_run r = { .pt = pt, .fmt = f, .op = OP_MAP, .start = va, .last = last,
                        .pa_off = pa - va, .prot = prot, .flags = flags, .dry = true };
    run(&r);
    if (r.ret)
        return r.ret;
    int err = reserve(pt, r.need, &r.spare);
    if (err)
        return err;
    r.dry = false;
    run(&r);
    return finish(pt, &r);
}

/*
 * The single-entry walk of pt_replace, pt_set_payload and the one-page
 * unmap: down from the
 * root to the entry mapping va, stopping at a leaf, at a missing table,
 * or at level `stop`.  Fills *table, *index and *level; never allocates.
 */
static uint64_t walk_to(const struct pgtable *pt, uint64_t va, unsigned stop, void **table,
                        unsigned *index, unsigned *level)
{
    const struct pt_format *f = pt->fmt;
    void *t = table_virt(pt->root);
    for (unsigned l = top_level(f);; l--) {
        unsigned i = pt_index(f, l, va);
        uint64_t e = entry_read(f, t, i);
        *table = t;
        *index = i;
        *level = l;
        if (l == stop || !f->present(e) || f->is_leaf(e, l))
            return e;
        t = table_virt(f->table_pa(e));
    }
}

/* pt_unmap and pt_protect. */
static int change(struct pgtable *pt, enum pt_op op, uint64_t va, uint64_t len, unsigned prot)
{
    uint64_t last;
    if (!in_range(pt, va, len, &last) || (op == OP_PROTECT && !prot_ok(pt, prot)))
        return -EINVAL;
    struct pt_run r = { .pt = pt, .fmt = pt->fmt, .op = op, .start = va, .last = last,
                        .prot = prot };
    int err = reserve(pt, split_count(&r), &r.spare);
    if (err)
        return err;
    run(&r);
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
    uint64_t e = walk_to(pt, va, 0, &table, &i, &level);
    if (level > 0)
        return !f->present(e); /* no table down there: nothing to unmap */
    if (!e)
        return true;
    if (*table_used(table) == 1)
        return false;
    entry_set(f, table, i, 0);
    if (f->present(e) && pt->flush)
        pt->flush(pt, va, PAGE_SIZE);
    return true;
}

int pt_unmap(struct pgtable *pt, uint64_t va, uint64_t len)
{
    uint64_t last;
    if (len == PAGE_SIZE && in_range(pt, va, len, &last) && unmap_one_fast(pt, va))
        return 0;
    return change(pt, OP_UNMAP, va, len, 0);
}

int pt_protect(struct pgtable *pt, uint64_t va, uint64_t len, unsigned prot)
{
    return change(pt, OP_PROTECT, va, len, prot);
}

int pt_replace(struct pgtable *pt, uint64_t va, uint64_t pa, unsigned prot)
{
    const struct pt_format *f = pt->fmt;
    const unsigned state = PT_ACCESSED | PT_DIRTY;
    uint64_t last;
    if (!in_range(pt, va, PAGE_SIZE, &last) || (pa & (PAGE_SIZE - 1)) || (pa >> f->pa_bits) ||
        !prot_ok(pt, prot & ~state))
        return -EINVAL;
    void *table;
    unsigned i, level;
    uint64_t e = walk_to(pt, va, 0, &table, &i, &level);
    if (!f->present(e))
        return -ENOENT;
    uint64_t size = level_size(f, level);
    if (level > 0 && (((va | pa) & (size - 1)) || !in_range(pt, va, size, &last)))
        return -EINVAL;
    struct pt_view old = { 0 };
    leaf_view(f, e, level, va, &old);
    uint64_t ne = f->make_leaf(pa, level, prot | state_bits(&old));
    if (ne == e)
        return 0;
    entry_write(f, table, i, ne); /* present before and after: the count stays */
    if (pt->flush)
        pt->flush(pt, va, size);
    return 0;
}

int pt_set_payload(struct pgtable *pt, uint64_t va, uint64_t payload)
{
    const struct pt_format *f = pt->fmt;
    uint64_t last;
    if (!in_range(pt, va, PAGE_SIZE, &last) || !f->make_payload || payload == 0 ||
        (payload >> f->payload_bits))
        return -EINVAL;
    void *table;
    unsigned i, level;
    uint64_t e = walk_to(pt, va, 0, &table, &i, &level);
    if (level > 0)
        return f->present(e) ? -EINVAL /* a large leaf */ : -ENOENT /* no table */;
    entry_set(f, table, i, f->make_payload(payload));
    if (f->present(e) && pt->flush)
        pt->flush(pt, va, PAGE_SIZE);
    return 0;
}

int pt_walk(const struct pgtable *pt, uint64_t va, struct pt_view *v)
{
    const struct pt_format *f = pt->fmt;
    uint64_t pa = pt->root;
    memset(v, 0, sizeof(*v));
    if (!f->va_ok(va))
        return -EINVAL;
    for (unsigned level = top_level(f);; level--) {
        if (!is_frame(pa))
            return -EFAULT; /* never follow a corrupt entry, even in an oops */
        uint64_t e = entry_read(f, node0->direct_map + pa, pt_index(f, level, va));
        v->raw[v->nraw++] = e;
        v->level = level;
        if (!f->present(e)) {
            if (level == 0 && is_payload(f, e))
                v->payload = f->payload_of(e);
            return -ENOENT;
        }
        if (level == 0 || f->is_leaf(e, level)) {
            leaf_view(f, e, level, va, v);
            return 0;
        }
        pa = f->table_pa(e);
    }
}

int pt_for_each(const struct pgtable *pt, uint64_t start, uint64_t end,
                int (*fn)(const struct pt_view *v, void *arg), void *arg)
{
    uint64_t last;
    if (end <= start || !range_ok(pt->fmt, start, end - start, &last))
        return -EINVAL;
    struct pt_run r = { .pt = pt, .fmt = pt->fmt, .op = OP_VISIT, .start = start, .last = last,
                        .fn = fn, .arg = arg };
    run(&r);
    return r.ret;
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
