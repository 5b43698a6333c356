/*
 * The vmalloc validator, vmalloc_check() (include/mm/vmalloc.h): what the
 * host test and the fuzz target run after every operation on a space.
 *
 * It recounts everything from scratch, in two passes.  The first walks
 * the area list and checks each area on its own and against its
 * predecessor: well formed, sorted, disjoint spans inside the range, the
 * list as long as nr_areas (which also stops a loop in a corrupt list),
 * owned pages summing to nr_frames.  The second reads the page tables,
 * not the list's idea of them: one pt_for_each over the whole range
 * visits every present leaf in address order while a cursor moves along
 * the (now known sorted) list, so each leaf is matched to the area whose
 * span holds it.  A leaf outside every span is a stray mapping; one in a
 * span but outside [addr, addr + size) is a mapped guard page; a leaf of
 * the wrong size or protections, or an owned frame that the page
 * allocator does not consider allocated (free, reserved, a tail), or an
 * ioremap page away from its device address, or a vmalloc frame whose
 * marks (PG2_VMALLOC, its area, its address) are wrong, is reported too.  When the
 * cursor leaves an area, the leaves counted in it must be exactly its
 * pages: no hole; a lazy area (freed, its span kept until the purge)
 * has none, and owns no frame.
 *
 * Invariant: the validator only reads; a passing check changes nothing.
 * It checks the structure, not who else holds the frames: two areas
 * mapping one frame (refcount 1) would pass.
 */
#include <mm/check.h>
#include <mm/page.h>
#include <mm/pgtable.h>
#include <mm/vmalloc.h>
#include <kernel/errno.h>
#include <kernel/printk.h>

struct check {
    const struct vmap_space *s;
    const struct vm_area *cur;   /* the area the leaf walk is in (or before) */
    uint64_t mapped;             /* leaves counted in cur */
    uint64_t owned;              /* owned frames found, all areas */
    char *why;
    size_t size;
};

static uint64_t span_start(const struct vm_area *a)
{
    return a->addr - a->guard_below;
}

static uint64_t span_end(const struct vm_area *a)
{
    return a->addr + a->size + PAGE_SIZE;
}

static bool owns_frames(const struct vm_area *a)
{
    return a->kind == VM_ALLOC || a->kind == VM_STACK;
}

/* ---- the list -------------------------------------------------------------------------- */

static int check_area(struct check *c, const struct vm_area *a, const struct vm_area *prev)
{
    const struct vmap_space *s = c->s;
    char *why = c->why;
    size_t size = c->size;
    CHECK(a->kind < VM_NR_KINDS, "area %#lx: kind %u", a->addr, (unsigned)a->kind);
    CHECK(a->size && !((a->addr | a->size) & (PAGE_SIZE - 1)),
          "area %#lx+%#lx: unaligned or empty", a->addr, a->size);
    CHECK(a->guard_below == (a->kind == VM_STACK ? PAGE_SIZE : 0),
          "area %#lx: %#lx guard bytes below for a %s", a->addr, a->guard_below,
          a->kind == VM_STACK ? "stack" : "non-stack");
    /* Inside the range, written so that nothing can overflow. */
    CHECK(a->addr >= s->start && a->addr - s->start >= a->guard_below && a->addr < s->end &&
          a->size < s->end - a->addr && s->end - a->addr - a->size >= PAGE_SIZE,
          "area %#lx+%#lx (guards included) is not inside [%#lx, %#lx)", a->addr,
          a->size, s->start, s->end);
    CHECK(!prev || span_end(prev) <= span_start(a),
          "areas %#lx-%#lx and %#lx-%#lx (guards included) overlap or are out of order",
          span_start(prev), span_end(prev), span_start(a), span_end(a));
    CHECK(!(a->prot & ~PT_PROT_MASK) && !(a->prot & PT_U) &&
          !((a->prot & PT_W) && (a->prot & PT_X)) && (a->prot & PT_G),
          "area %#lx: protections %#x (user, W+X, not global or unknown bits)", a->addr,
          a->prot);
    if (a->lazy)
        CHECK(owns_frames(a) && a->nr_pages == 0, "lazy area %#lx: a %u owning %lu frames",
              a->addr, (unsigned)a->kind, a->nr_pages);
    else if (owns_frames(a))
        CHECK(a->nr_pages == a->size / PAGE_SIZE, "area %#lx: nr_pages %lu for %lu pages",
              a->addr, a->nr_pages, a->size / PAGE_SIZE);
    else
        CHECK(a->nr_pages == 0, "area %#lx: a %s owning %lu frames", a->addr,
              a->kind == VM_MAP ? "vmap" : "ioremap", a->nr_pages);
    if (a->kind == VM_IOREMAP)
        CHECK(!(a->phys & (PAGE_SIZE - 1)), "ioremap area %#lx: device address %#lx "
              "unaligned", a->addr, a->phys);
    return 0;
}

static int check_list(struct check *c)
{
    const struct vmap_space *s = c->s;
    char *why = c->why;
    size_t size = c->size;
    uint64_t n = 0, lazy = 0, lazy_pages = 0, pages = 0;
    const struct vm_area *prev = NULL;
    for (const struct vm_area *a = s->areas; a; prev = a, a = a->next) {
        CHECK(++n <= s->nr_areas + s->nr_lazy, "more areas in the list than nr_areas %lu + "
              "nr_lazy %lu", s->nr_areas, s->nr_lazy);
        int err = check_area(c, a, prev);
        if (err)
            return err;
        pages += a->nr_pages;
        if (a->lazy) {
            lazy++;
            lazy_pages += a->size / PAGE_SIZE;
        }
    }
    CHECK(n - lazy == s->nr_areas && lazy == s->nr_lazy,
          "%lu areas in the list, %lu of them lazy; nr_areas %lu, nr_lazy %lu", n, lazy,
          s->nr_areas, s->nr_lazy);
    CHECK(lazy_pages == s->lazy_pages && (!s->lazy_max || lazy_pages < s->lazy_max),
          "lazy areas span %lu pages, lazy_pages %lu (purge at %lu)", lazy_pages,
          s->lazy_pages, s->lazy_max);
    CHECK(pages == s->nr_frames, "areas own %lu pages, nr_frames %lu", pages, s->nr_frames);
    return 0;
}

/* ---- the tables ------------------------------------------------------------------------ */

/* Move the cursor past every area ending at or below va, checking each
 * one left was mapped whole. */
static int leave_areas(struct check *c, uint64_t va)
{
    char *why = c->why;
    size_t size = c->size;
    while (c->cur && span_end(c->cur) <= va) {
        uint64_t want = c->cur->lazy ? 0 : c->cur->size / PAGE_SIZE;   /* lazy: unmapped */
        CHECK(c->mapped == want, "area %#lx: %lu of its %lu pages mapped%s", c->cur->addr,
              c->mapped, want, c->cur->lazy ? " (a lazy area: none)" : "");
        c->cur = c->cur->next;
        c->mapped = 0;
    }
    return 0;
}

static int check_leaf(const struct pt_view *v, void *arg)
{
    struct check *c = arg;
    char *why = c->why;
    size_t size = c->size;
    CHECK(!v->payload, "payload entry %#lx at %#lx: vmalloc parks none", v->payload, v->va);
    int err = leave_areas(c, v->va);
    if (err)
        return err;
    const struct vm_area *a = c->cur;
    CHECK(a && v->va >= span_start(a), "%#lx is mapped (to %#lx) outside every area",
          v->va, v->pa);
    CHECK(v->va >= a->addr && v->va < a->addr + a->size,
          "the guard page %#lx of the area %#lx+%#lx is mapped (to %#lx)", v->va, a->addr,
          a->size, v->pa);
    CHECK(v->size == PAGE_SIZE, "area %#lx: a %#lx-byte leaf at %#lx", a->addr, v->size,
          v->va);
    CHECK(v->prot == a->prot, "area %#lx: page %#lx has protections %#x, the area %#x",
          a->addr, v->va, v->prot, a->prot);
    if (owns_frames(a)) {
        uint64_t pfn = v->pa >> PAGE_SHIFT;
        CHECK(pfn < node0->max_pfn, "area %#lx: page %#lx maps %#lx, beyond memory",
              a->addr, v->va, v->pa);
        const struct page *p = &node0->mem_map[pfn];
        CHECK(p->refcount && p->order == 0 &&
              !(p->flags & (PG_RESERVED | PG_BUDDY | PG_PCP)),
              "area %#lx: page %#lx maps frame %#lx, which is not an allocated single "
              "frame (refcount %u, flags %#x, order %u)", a->addr, v->va, v->pa,
              p->refcount, p->flags, p->order);
        /* A vmalloc frame says where it is mapped (migration reads it);
         * a stack frame does not (it must not move). */
        if (a->kind == VM_ALLOC)
            CHECK((p->flags2 & PG2_VMALLOC) && p->mapping == (uint64_t)(uintptr_t)a &&
                      p->index == v->va,
                  "area %#lx: frame %#lx of page %#lx is marked flags2 %#x mapping %#lx "
                  "index %#lx", a->addr, v->pa, v->va, p->flags2, p->mapping, p->index);
        else
            CHECK(!(p->flags2 & PG2_VMALLOC), "stack area %#lx: frame %#lx marked movable",
                  a->addr, v->pa);
        c->owned++;
    }
    if (a->kind == VM_IOREMAP)
        CHECK(v->pa == a->phys + (v->va - a->addr),
              "ioremap area %#lx: page %#lx maps %#lx, not device address %#lx", a->addr,
              v->va, v->pa, a->phys + (v->va - a->addr));
    c->mapped++;
    return 0;
}

static int check_tables(struct check *c)
{
    const struct vmap_space *s = c->s;
    char *why = c->why;
    size_t size = c->size;
    c->cur = s->areas;
    int err = pt_for_each(s->pt, s->start, s->end, check_leaf, c);
    if (err == -EUCLEAN)
        return err;     /* check_leaf's, with its reason */
    CHECK(err == 0, "the page-table walk of [%#lx, %#lx) failed (%d)", s->start, s->end,
          err);
    if ((err = leave_areas(c, s->end)))
        return err;
    CHECK(c->owned == s->nr_frames, "%lu owned frames mapped, nr_frames %lu", c->owned,
          s->nr_frames);
    return 0;
}

static int check_range(struct check *c)
{
    const struct vmap_space *s = c->s;
    char *why = c->why;
    size_t size = c->size;
    CHECK(s->pt && s->start < s->end && !((s->start | s->end) & (PAGE_SIZE - 1)) &&
          s->start >= s->pt->va_start && s->end <= s->pt->va_end,
          "the range [%#lx, %#lx) is empty, unaligned or outside its tables", s->start,
          s->end);
    return 0;
}

int vmalloc_check(const struct vmap_space *s, char *why, size_t size)
{
    char none[1];
    struct check c = { .s = s, .why = size ? why : none, .size = size ? size : sizeof(none) };
    int err = check_range(&c);
    if (!err)
        err = check_list(&c);
    if (!err)
        err = check_tables(&c);
    return err;
}
