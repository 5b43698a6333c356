/*
 * The page-table validator, pt_check() (include/mm/pgtable.h): what the
 * host tests and the fuzz target run after every operation.
 *
 * It walks the tree recursively (depth at most PT_MAX_LEVELS), a
 * different method from the walker's loop in mm/pgtable.c, so that one
 * mistake cannot hide itself in both.  It checks the invariants written
 * at the top of mm/pgtable.c: the table count, no empty table left
 * behind, every table's count of used entries, leaves only at leaf
 * levels, aligned and exactly as the format encodes them, non-present
 * entries empty or well-formed payload entries at level 0, nothing
 * outside the pgtable's range below the root.
 */
#include <mm/check.h>
#include "pgtable_impl.h"
#include <kernel/printk.h>

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
        if (!f->present(e)) {
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
        if (level == 0 || f->is_leaf(e, level)) {
            if ((err = check_leaf(c, e, level, va)))
                return err;
            continue;
        }
        unsigned below;
        if ((err = check_table(c, f->table_pa(e), level - 1, va, &below)))
            return err;
        CHECK(below > 0 || (pt->keep_top_tables && level == top_level(f)),
              "empty table %#lx at %#lx (level %u) was not freed",
              f->table_pa(e), va, level - 1);
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
