/*
 * The page-table validators: pt_check() (include/mm/pgtable.h), what the
 * host tests and the fuzz target run after every operation, and
 * pt_format_data_ok(), which pt_init runs on a format.
 *
 * pt_check walks the tree recursively (depth at most PT_MAX_LEVELS), a
 * different method from the walker's loop in mm/pgtable_walk.c, so that
 * one mistake cannot hide itself in both.  It checks the invariants written
 * at the top of mm/pgtable.c: the table count, no empty table left
 * behind, every table's count of used entries, leaves only at leaf
 * levels, aligned and exactly as the format encodes them, non-present
 * entries empty or well-formed payload entries at level 0, nothing
 * outside the pgtable's range below the root.
 */
#include <mm/check.h>
#include "pgtable_impl.h"
#include <kernel/printk.h>
#include <kernel/string.h>

struct check {
    const struct pgtable *pt;
    uint64_t tables;
    char *why;
    size_t size;
};

/* The first address of entry i of a table at this level starting at base. */
static uint64_t entry_va(const struct pt_format *f, unsigned level, uint64_t base, unsigned i)
{
    uint64_t va = base + i * level_size(f, level);
    if (!f->va_ok(va)) /* the upper half of a sign-extended space */
        va |= ~((1ul << f->va_bits) - 1);
    return va;
}

static int check_leaf(struct check *c, uint64_t e, unsigned level, uint64_t va)
{
    const struct pt_format *f = c->pt->fmt;
    struct pt_view v = { 0 };
    char *why = c->why;
    size_t size = c->size;
    CHECK(can_be_leaf(f, level), "leaf %#lx at %#lx on level %u, which has no leaves",
          e, va, level);
    leaf_view(f, e, level, va, &v);
    CHECK((v.pa & (v.size - 1)) == 0 && f->make_leaf(v.pa, level, v.prot | state_bits(&v)) == e,
          "leaf %#lx at %#lx (level %u) is not what make_leaf writes", e,
          va, level);
    return 0;
}

/* Check the table at pa and everything below it; *used gets its number of
 * used entries in the range (present or payload). */
static int check_table(struct check *c, uint64_t pa, unsigned level, uint64_t base,
                       unsigned *used)
{
    const struct pgtable *pt = c->pt;
    const struct pt_format *f = pt->fmt;
    char *why = c->why;
    size_t size = c->size;
    int err;
    CHECK(is_frame(pa), "table %#lx (level %u) is not a frame", pa, level);
    CHECK(page_count(pfn_to_page(pa >> PAGE_SHIFT)) > 0, "table %#lx (level %u) is a free frame",
          pa, level);
    const void *t = table_virt(pa);
    c->tables++;
    *used = 0;
    for (unsigned i = 0; i < nr_entries(f); i++) {
        uint64_t e = entry_read(f, t, i);
        if (!e)
            continue;
        uint64_t va = entry_va(f, level, base, i);
        if (!entry_present(f, e)) {
            if (level == top_level(f) && (va + level_size(f, level) - 1 < pt->va_start ||
                                          va >= pt->va_end))
                continue; /* not ours (compat32's mirror PDE is outside the range) */
            CHECK(level == 0 && is_payload(f, e),
                  "entry %#lx at %#lx (level %u) is neither present, empty nor a payload entry",
                  e, va, level);
            CHECK(va >= pt->va_start && va < pt->va_end,
                  "payload entry %#lx at %#lx is outside [%#lx, %#lx)", e, va, pt->va_start,
                  pt->va_end);
            (*used)++;
            continue;
        }
        bool outside = va + level_size(f, level) - 1 < pt->va_start || va >= pt->va_end;
        if (outside && level == top_level(f))
            continue; /* not ours: e.g. the kernel half of a process's root */
        CHECK(!outside, "entry %#lx at %#lx is outside [%#lx, %#lx)", e,
              va, pt->va_start,
              pt->va_end);
        (*used)++;
        if (entry_leaf(f, e, level)) {
            if ((err = check_leaf(c, e, level, va)))
                return err;
            continue;
        }
        unsigned below;
        if ((err = check_table(c, entry_table(f, e), level - 1, va, &below)))
            return err;
        CHECK(below > 0 || (pt->keep_top_tables && level == top_level(f)),
              "empty table %#lx at %#lx (level %u) was not freed",
              entry_table(f, e), va, level - 1);
    }
    /* The root's count is not kept exact (entries outside the range, such
     * as the shared kernel half, are others'); it is never freed for
     * being empty.  An empty table is reported by its parent ("not
     * freed"), which says more. */
    CHECK(level == top_level(f) || *used == 0 || *table_used(t) == *used,
          "table %#lx (level %u) counts %u used entries, holds %u", pa, level, *table_used(t),
          *used);
    return 0;
}

int pt_check(const struct pgtable *pt, char *why, size_t size)
{
    struct check check = { pt, 0, why, size }, *c = &check;
    unsigned used;
    int err = check_table(c, pt->root, top_level(pt->fmt), 0, &used);
    if (err)
        return err;
    CHECK(c->tables == pt->nr_tables, "%lu table pages reachable, nr_tables says %lu",
          c->tables, pt->nr_tables);
    return 0;
}

/* ---- the format's promises (struct pt_format) ------------------------------------------ */

/* Does a 4 KiB leaf of prot hold frame pa in place, with the rights and
 * state not depending on the frame? */
static bool leaf0_ok_with(const struct pt_format *f, unsigned prot, uint64_t attrs, uint64_t pa)
{
    struct pt_view a = { 0 }, b = { 0 };
    if (f->make_leaf(pa, 0, prot) != (pa | attrs))
        return false;
    f->decode_leaf(attrs, 0, &a);
    f->decode_leaf(pa | attrs, 0, &b);
    return a.prot == b.prot && a.accessed == b.accessed && a.dirty == b.dirty && b.pa == pa;
}

/* Every leaf of prot (no state bits) at every leaf level: present, a leaf
 * by leaf_mask above level 0, and its state bits where accessed_mask and
 * dirty_mask say. */
static bool leaf_masks_ok(const struct pt_format *f, unsigned prot)
{
    const uint64_t state = f->accessed_mask | f->dirty_mask;
    for (unsigned l = 0; l < f->levels; l++) {
        if (!can_be_leaf(f, l))
            continue;
        uint64_t e = f->make_leaf(0, l, prot);
        if (!entry_present(f, e) || !entry_leaf(f, e, l) || (e & state) ||
            f->make_leaf(0, l, prot | PT_ACCESSED) != (e | f->accessed_mask) ||
            f->make_leaf(0, l, prot | PT_DIRTY) != (e | f->dirty_mask) ||
            f->make_leaf(0, l, prot | PT_ACCESSED | PT_DIRTY) != (e | state))
            return false;
    }
    return true;
}

/* A table entry for a table at pa: present, not a leaf at any level,
 * pointing to pa through table_mask. */
static bool table_masks_ok(const struct pt_format *f, uint64_t pa)
{
    uint64_t e = f->make_table(pa, 0);
    return entry_present(f, e) && !(e & f->leaf_mask) && entry_table(f, e) == pa;
}

static bool format_data_check(const struct pt_format *f)
{
    const uint64_t frames = frame_mask0(f);
    if (!f->present_mask || (f->present_mask & frames) || !f->leaf_mask ||
        !f->accessed_mask || !f->dirty_mask || (f->accessed_mask & f->dirty_mask) ||
        ((f->accessed_mask | f->dirty_mask) & frames) || (f->table_mask & (PAGE_SIZE - 1)))
        return false;
    for (uint64_t bit = PAGE_SIZE; bit & frames; bit <<= 1) /* each frame bit alone */
        if (!table_masks_ok(f, bit))
            return false;
    if (!table_masks_ok(f, frames)) /* and all of them */
        return false;
    if (f->make_payload && (entry_present(f, f->make_payload(1)) ||
                            entry_present(f, f->make_payload((1ul << f->payload_bits) - 1))))
        return false;
    for (unsigned prot = 0; prot <= (PT_PROT_MASK | PT_ACCESSED | PT_DIRTY); prot++) {
        uint64_t attrs = f->make_leaf(0, 0, prot);
        if ((attrs & frames) || (prot <= PT_PROT_MASK && !leaf_masks_ok(f, prot)))
            return false;
        for (uint64_t bit = PAGE_SIZE; bit & frames; bit <<= 1)
            if (!leaf0_ok_with(f, prot, attrs, bit))
                return false;
        if (!leaf0_ok_with(f, prot, attrs, frames))
            return false;
    }
    return true;
}

/* About 10^4 calls of the format's functions: a format found good is
 * remembered (by content: a test may build different formats at one
 * address). */
bool pt_format_data_ok(const struct pt_format *f)
{
    static struct pt_format good[4];
    static unsigned ngood;
    for (unsigned k = 0; k < ngood && k < 4; k++)
        if (memcmp(&good[k], f, sizeof(*f)) == 0)
            return true;
    if (!format_data_check(f))
        return false;
    good[ngood++ % 4] = *f;
    return true;
}
