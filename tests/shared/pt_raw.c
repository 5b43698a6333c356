/*
 * The raw-entry walker of tests/shared/pt_raw.h: a pgtable's tables read
 * from the bits alone, with a format description, for the host tests,
 * the in-kernel tests and the fuzz targets.
 *
 * It recurses over levels (at most four), unlike the walker's one loop in
 * mm/pgtable.c, and it never calls the format's functions.  It reads
 * table pages through page_address(), which is the host arena in the
 * host tests and the direct map in the kernel, and only after is_ram()
 * said the address is RAM.
 */
#include "pt_raw.h"

#include <kernel/printk.h>
#include <kernel/string.h>
#include <mm/page.h>

PT_RAW_NOCOV const void *pt_raw_table(uint64_t pa)
{
    return page_address(pfn_to_page(pa >> 12));
}

PT_RAW_NOCOV uint64_t pt_raw_entry(const struct pt_desc *d, uint64_t pa, unsigned i)
{
    return pt_raw_at(d, pt_raw_table(pa), i);
}

void pt_raw_set(const struct pt_desc *d, uint64_t pa, unsigned i, uint64_t e)
{
    void *t = page_address(pfn_to_page(pa >> 12));
    if (d->entry_bytes == 8)
        ((uint64_t *)t)[i] = e;
    else
        ((uint32_t *)t)[i] = (uint32_t)e;
}

PT_RAW_NOCOV unsigned pt_raw_prot(const struct pt_desc *d, uint64_t e, unsigned level)
{
    static const unsigned cache[8] = { PT_WB, PT_WC, PT_UC, PT_UC, PT_WB, PT_WT, PT_UC, PT_WT };
    uint64_t pat = level ? d->bit_pat_large : d->bit_pat;
    unsigned index = !!(e & d->bit_pwt) | !!(e & d->bit_pcd) << 1 | !!(e & pat) << 2;
    return cache[index] | (e & d->bit_rw ? PT_W : 0) | (e & d->bit_nx ? 0 : PT_X) |
           (e & d->bit_us ? PT_U : 0) | (e & d->bit_g ? PT_G : 0);
}

int pt_raw_level_of(const struct pt_desc *d, uint64_t size)
{
    for (unsigned i = 0; i < d->nsizes; i++)
        if (d->sizes[i] == size)
            return (int)i;
    return -1;
}

#define BAD(...)                                                            \
    do {                                                                    \
        snprintf(w->why, sizeof(w->why), __VA_ARGS__);                      \
        return -1;                                                          \
    } while (0)

/* The first address of entry i of a table at this level starting at base. */
PT_RAW_NOCOV static uint64_t entry_va(const struct pt_desc *d, unsigned level, uint64_t base,
                                      unsigned i)
{
    uint64_t va = base + i * pt_raw_size(d, level);
    if (d->sign_extend && ((va >> (d->va_bits - 1)) & 1))
        va |= ~((1ul << d->va_bits) - 1);
    return va;
}

PT_RAW_NOCOV static int walk_table(struct pt_raw *w, uint64_t pa, unsigned level, uint64_t base)
{
    const struct pt_desc *d = w->d;
    const struct pgtable *pt = w->pt;
    unsigned top = d->levels - 1, n = 1u << d->index_bits;

    if (!pa || (pa & (FR - 1)) || pa >= d->pa_limit || !w->is_ram(pa))
        BAD("table %#lx (level %u) is not RAM the format can point to", pa, level);
    if (page_count(pfn_to_page(pa >> 12)) < 1)
        BAD("table %#lx (level %u) is a free frame", pa, level);
    w->tables++;
    const void *t = pt_raw_table(pa);
    for (unsigned i = 0; i < n; i++) {
        uint64_t e = pt_raw_at(d, t, i), size = pt_raw_size(d, level);
        uint64_t va = entry_va(d, level, base, i);
        bool outside = va + size - 1 < pt->va_start || va >= pt->va_end;
        if (!e || (outside && level == top))
            continue; /* empty, or not the pgtable's: the kernel half, the mirror */
        if (!(e & d->bit_p)) {
            uint64_t x = level == 0 ? d->raw_payload(e) : 0;
            if (!x)
                BAD("entry %#lx at %#lx (level %u) is neither present, empty nor a payload",
                    e, va, level);
            if (outside)
                BAD("payload entry %#lx at %#lx is outside [%#lx, %#lx)", e, va, pt->va_start,
                    pt->va_end);
            w->payloads++;
            if (w->payload)
                w->payload(w->arg, va, x);
            continue;
        }
        if (outside)
            BAD("entry %#lx at %#lx (level %u) is outside [%#lx, %#lx)", e, va, level,
                pt->va_start, pt->va_end);
        bool leaf = level == 0 || d->raw_leaf(e, level);
        const char *why = d->raw_bad(e, level, leaf, va);
        if (why)
            BAD("entry %#lx at %#lx (level %u): %s", e, va, level, why);
        if (leaf) {
            uint64_t lpa = d->raw_leaf_pa(e, level);
            if (lpa & (size - 1))
                BAD("leaf %#lx at %#lx maps %#lx, not aligned to its size %#lx", e, va, lpa,
                    size);
            w->leaves++;
            if (w->leaf)
                w->leaf(w->arg, va, size, lpa, pt_raw_prot(d, e, level));
            continue;
        }
        uint64_t child = e & d->table_addr;
        unsigned used = 0;
        if (child && child < d->pa_limit && w->is_ram(child)) {
            const void *ct = pt_raw_table(child);
            for (unsigned k = 0; k < n && !used; k++)
                used += pt_raw_at(d, ct, k) != 0;
        }
        if (!used && !(pt->keep_top_tables && level == top))
            BAD("empty table %#lx at %#lx (level %u) was not freed", child, va, level - 1);
        if (walk_table(w, child, level - 1, va))
            return -1;
    }
    return 0;
}

PT_RAW_NOCOV int pt_raw_walk(struct pt_raw *w)
{
    w->tables = 0;
    w->leaves = 0;
    w->payloads = 0;
    w->why[0] = 0;
    return walk_table(w, w->pt->root, w->d->levels - 1, 0);
}
