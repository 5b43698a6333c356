/*
 * Private to the page-table walker (mm/pgtable.c) and its validator
 * (mm/pgtable_check.c): levels, entries and table pages, for any format.
 * Nothing outside mm/pgtable*.c includes this: the rest of the kernel
 * speaks through include/mm/pgtable.h.
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

/* Entries are read and written whole with one volatile access, so the
 * compiler can neither tear them nor reorder them with each other. */
static inline uint64_t entry_read(const struct pt_format *f, const void *table, unsigned i)
{
    if (f->entry_bytes == 8)
        return ((const volatile uint64_t *)table)[i];
    return ((const volatile uint32_t *)table)[i];
}

static inline void entry_write(const struct pt_format *f, void *table, unsigned i, uint64_t e)
{
    if (f->entry_bytes == 8)
        ((volatile uint64_t *)table)[i] = e;
    else
        ((volatile uint32_t *)table)[i] = (uint32_t)e;
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
    if (e == 0 || f->present(e) || !f->make_payload)
        return false;
    uint64_t x = f->payload_of(e);
    return x != 0 && (x >> f->payload_bits) == 0 && f->make_payload(x) == e;
}

/* The frame bits of a 4 KiB leaf: 12 .. pa_bits - 1 (see struct pt_format). */
static inline uint64_t frame_mask0(const struct pt_format *f)
{
    return ((1ul << f->pa_bits) - 1) & ~(uint64_t)(PAGE_SIZE - 1);
}

/* A zeroed table page the format's entries can point to (below
 * 2^pa_bits: an i386 table above 4 GiB would be cut to 32 bits), or
 * NULL.  A page the format cannot reach is given back. */
static inline struct page *alloc_table(const struct pt_format *f, gfp_t gfp)
{
    struct page *p = alloc_pages(gfp | __GFP_ZERO, 0);
    if (p && (page_to_phys(p) >> f->pa_bits)) {
        __free_pages(p, 0);
        return NULL;
    }
    if (p)
        p->prev = 0; /* no entry used (see table_used) */
    return p;
}

/* Does a 4 KiB leaf of this format hold its frame in place?  (mm/pgtable_clone.c) */
bool pt_leaf0_ok(const struct pt_format *f);

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

#endif
