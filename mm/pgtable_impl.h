/*
 * Private to the page-table code (mm/pgtable*.c): levels, entries and
 * table pages for any format, and the two walks every operation is
 * written over (mm/pgtable_walk.c says how).  Nothing outside
 * mm/pgtable*.c includes this: the rest of the kernel speaks through
 * include/mm/pgtable.h.
 */
#ifndef MM_PGTABLE_IMPL_H
#define MM_PGTABLE_IMPL_H

#include <mm/pgtable.h>
#include <kernel/printk.h>

/* ---- levels and entries ---------------------------------------------------------- */

static inline unsigned top_level(const struct pt_format *f)
{
    return f->levels - 1;
}

static inline unsigned nr_entries(const struct pt_format *f)
{
    return 1u << f->index_bits;
}

/* Bytes mapped by one entry at this level: 4 KiB at level 0, and so on up. */
static inline uint64_t level_size(const struct pt_format *f, unsigned level)
{
    return 1ul << (PAGE_SHIFT + level * f->index_bits);
}

/* Which entry of the level's table covers va. */
static inline unsigned pt_index(const struct pt_format *f, unsigned level, uint64_t va)
{
    return (unsigned)(va >> (PAGE_SHIFT + level * f->index_bits)) & (nr_entries(f) - 1);
}

static inline bool can_be_leaf(const struct pt_format *f, unsigned level)
{
    return (f->leaf_levels >> level) & 1;
}

/* The hot tests, from the format's masks (struct pt_format): no call. */
static inline bool entry_present(const struct pt_format *f, uint64_t e)
{
    return (e & f->present_mask) != 0;
}

/* Is the present entry e of this level a leaf? */
static inline bool entry_leaf(const struct pt_format *f, uint64_t e, unsigned level)
{
    return level == 0 || (can_be_leaf(f, level) && (e & f->leaf_mask));
}

/* The table a present non-leaf entry points to. */
static inline uint64_t entry_table(const struct pt_format *f, uint64_t e)
{
    return e & f->table_mask;
}

/* Entries are read and written whole with one volatile access, so the
 * compiler can neither tear them nor reorder them with each other.  The
 * _n forms take the width (8 or 4 bytes) as a value: the loops that run
 * for every page of a fork or an exit are compiled once per width, so no
 * test of it is left inside them. */
static inline uint64_t entry_read_n(unsigned bytes, const void *table, unsigned i)
{
    if (bytes == 8)
        return ((const volatile uint64_t *)table)[i];
    return ((const volatile uint32_t *)table)[i];
}

static inline void entry_write_n(unsigned bytes, void *table, unsigned i, uint64_t e)
{
    if (bytes == 8)
        ((volatile uint64_t *)table)[i] = e;
    else
        ((volatile uint32_t *)table)[i] = (uint32_t)e;
}

static inline uint64_t entry_read(const struct pt_format *f, const void *table, unsigned i)
{
    return entry_read_n(f->entry_bytes, table, i);
}

static inline void entry_write(const struct pt_format *f, void *table, unsigned i, uint64_t e)
{
    entry_write_n(f->entry_bytes, table, i, e);
}

/* Could pa be a table page: a frame of the node other than frame 0? */
static inline bool is_frame(uint64_t pa)
{
    return node0 && pa != 0 && (pa & (PAGE_SIZE - 1)) == 0 &&
           (pa >> PAGE_SHIFT) < node0->max_pfn;
}

/* The direct-map address of a table page (the node's linear map, so host
 * tests see their arena), after checking it is a frame of the node. */
static inline void *table_virt(uint64_t pa)
{
    if (!is_frame(pa))
        panic("pgtable: table at %#lx is not a frame of the node", pa);
    return node0->direct_map + pa;
}

/* The table below the present non-leaf entry e. */
static inline void *table_below(const struct pt_format *f, uint64_t e)
{
    return table_virt(entry_table(f, e));
}

/* The physical address of a table page from its direct-map address. */
static inline uint64_t table_phys(const void *table)
{
    return (uint64_t)((const uint8_t *)table - node0->direct_map);
}

/*
 * Every table page counts its used (non-zero: present or payload) entries
 * in its struct page, in the `prev` link, which the buddy allocator
 * leaves to the owner of an allocated frame.  Every write of an entry of
 * a live table goes through entry_set, which keeps the count, so telling
 * whether a table is empty costs one read instead of a scan of 512 or
 * 1024 entries.  pt_check recounts.
 */
static inline uint32_t *table_used(const void *table)
{
    return &virt_to_page(table)->prev;
}

static inline bool table_empty(const void *table)
{
    return *table_used(table) == 0;
}

/* Write entry i of a live table, keeping its count. */
static inline void entry_set(const struct pt_format *f, void *table, unsigned i, uint64_t e)
{
    uint64_t old = entry_read(f, table, i);
    if (!old != !e) {
        if (e)
            ++*table_used(table);
        else
            --*table_used(table);
    }
    entry_write(f, table, i, e);
}

/* Is e a well-formed payload entry of this format (not present, not 0)? */
static inline bool is_payload(const struct pt_format *f, uint64_t e)
{
    if (e == 0 || entry_present(f, e) || !f->make_payload)
        return false;
    uint64_t x = f->payload_of(e);
    return x != 0 && (x >> f->payload_bits) == 0 && f->make_payload(x) == e;
}

/* The frame bits of a 4 KiB leaf: 12 .. pa_bits - 1 (see struct pt_format). */
static inline uint64_t frame_mask0(const struct pt_format *f)
{
    return ((1ul << f->pa_bits) - 1) & ~(uint64_t)(PAGE_SIZE - 1);
}

/* Give back a table page (or a page reserved for one): the count that
 * tells walk cursors their table may be gone (include/mm/pgtable.h). */
static inline void free_table_page(struct page *p)
{
    pt_table_frees++;
    __free_pages(p, 0);
}

/* A zeroed table page the format's entries can point to (below
 * 2^pa_bits: an i386 table above 4 GiB would be cut to 32 bits), or
 * NULL.  A page the format cannot reach is given back. */
static inline struct page *alloc_table(const struct pt_format *f, gfp_t gfp)
{
    /* A table is never movable, whatever the address space's data pages are. */
    struct page *p = alloc_pages((gfp & ~__GFP_MOVABLE) | __GFP_ZERO, 0);
    if (p && (page_to_phys(p) >> f->pa_bits)) {
        __free_pages(p, 0);
        return NULL;
    }
    if (p) {
        p->prev = 0; /* no entry used (see table_used) */
        p->flags |= PG_PGTABLE;
    }
    return p;
}

/* Do the format's masks, and its 4 KiB leaves, keep the promises of
 * struct pt_format?  (mm/pgtable_clone.c) */
bool pt_format_data_ok(const struct pt_format *f);

static inline unsigned state_bits(const struct pt_view *v)
{
    return (v->accessed ? PT_ACCESSED : 0) | (v->dirty ? PT_DIRTY : 0);
}

/* The generic view of a leaf found at this level for address va. */
static inline void leaf_view(const struct pt_format *f, uint64_t e, unsigned level, uint64_t va,
                             struct pt_view *v)
{
    v->size = level_size(f, level);
    v->va = va & ~(v->size - 1);
    v->level = level;
    f->decode_leaf(e, level, v);
}

/* ---- argument checks (mm/pgtable.c) ----------------------------------------------------- */

/* Is [va, va + len) page aligned, non-empty and translatable?  Sets *last. */
bool pt_range_ok(const struct pt_format *f, uint64_t va, uint64_t len, uint64_t *last);
/* The same, and inside [va_start, va_end). */
bool pt_in_range(const struct pgtable *pt, uint64_t va, uint64_t len, uint64_t *last);
/* Can the format express prot (PT_PROT_MASK bits) at every leaf level? */
bool pt_prot_ok(struct pgtable *pt, unsigned prot);

/* ---- the two walks (mm/pgtable_walk.c) ------------------------------------------------- */

/*
 * Down to one entry: from the root towards the level-`stop` entry of va,
 * stopping early at a leaf or a non-present entry.  Fills *table (the
 * direct-map address of the table holding the entry returned), *index
 * and *level; never allocates.  The tables must be sound (the walker's
 * own: a table address outside the node is a panic); pt_walk, which may
 * run on corrupt tables in an oops, checks every table address itself.
 * Inline: it is most of the work of the one-page paths (a fault's pt_map,
 * pt_unmap of a page), and a call would cost a good part of it again.
 */
static inline __attribute__((always_inline)) uint64_t
pt_descend(const struct pgtable *pt, uint64_t va, unsigned stop, void **table, unsigned *index,
           unsigned *level)
{
    const struct pt_format *f = pt->fmt;
    const uint64_t limit = node0->max_pfn << PAGE_SHIFT;
    unsigned l = top_level(f), shift = PAGE_SHIFT + l * f->index_bits;
    uint64_t pa = pt->root, e;
    void *t;
    unsigned i;
    for (;; l--, shift -= f->index_bits) {
        if (pa == 0 || pa >= limit) /* table_mask keeps it page aligned */
            panic("pgtable: table at %#lx is not a frame of the node", pa);
        t = node0->direct_map + pa;
        i = (unsigned)(va >> shift) & (nr_entries(f) - 1);
        e = entry_read(f, t, i);
        if (l == stop || !entry_present(f, e) || entry_leaf(f, e, l))
            break;
        pa = entry_table(f, e);
    }
    *table = t;
    *index = i;
    *level = l;
    return e;
}

/* One range operation in progress: the walker's state, which the
 * operation's own state embeds as its first member. */
struct pt_range_walk;

/*
 * What an operation does at each entry (see the top of
 * mm/pgtable_walk.c for the loop that calls them).
 */
struct pt_range_ops {
    /*
     * An entry above level 0 overlapping the range: e, entry i of
     * w->table[level], covering va (the entry's own first address may lie
     * before va).  Return the table below to walk next (the present
     * table's, or one the operation just linked: a new table, a split
     * leaf), or NULL to go on with the next entry.  It may set w->stop.
     */
    void *(*upper)(struct pt_range_walk *w, unsigned level, uint64_t va, unsigned i,
                   uint64_t e);
    /* Entries [i, n) of the level-0 table t, the first covering va, all
     * in the range: the operation's loop over leaves, payload entries and
     * holes.  It may set w->stop. */
    void (*ptes)(struct pt_range_walk *w, uint64_t va, void *t, unsigned i, unsigned n);
    /* The walk goes back up out of w->table[level] (level < top), whose
     * last address walked is `last`: free it if the operation emptied it,
     * for example.  Called once for every table walked into, also when
     * the walk stops early.  May be NULL. */
    void (*leave)(struct pt_range_walk *w, unsigned level, uint64_t last);
    /* upper never sees an empty entry: the walker skips them (every
     * operation but pt_map, which fills them). */
    bool skip_holes;
};

struct pt_range_walk {
    const struct pt_format *f;
    const struct pt_range_ops *ops;
    uint64_t start, last;                /* the range, last byte included */
    void *table[PT_MAX_LEVELS];          /* the tables on the way down, the root on top */
    uint64_t seen[PT_MAX_LEVELS];        /* the entry read at each level above 0 */
    int stop;                            /* set by an action: the walk goes up and ends */
};

/* Walk [w->start, w->last] from the table root (direct-map address) with
 * w->ops, in address order. */
void pt_walk_range(struct pt_range_walk *w, void *root);

#endif
