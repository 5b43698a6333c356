/*
 * The reverse map: anon_vma lineages, the marks of anonymous pages, and
 * the walk from a frame to every pte that maps it (include/mm/rmap.h;
 * docs/rmap.md).
 *
 * Invariants (rmap_check_mm verifies them):
 *  - a VMA is on the list of its anon_vma exactly while v->anon_vma
 *    points to it, and an anon_vma's nr_vmas counts its list; an
 *    anon_vma with no VMA left is freed at once and its handle goes
 *    stale (the slot's generation changes);
 *  - every present user pte that maps a frame other than the zero page,
 *    a page-cache page or a vm_shm frame maps a PG_ANON page whose handle
 *    names the VMA's anon_vma and whose index is the VMA's linear index
 *    of the address: so the walk over that anon_vma's VMAs finds it;
 *  - a VMA with anonymous pages has an anon_vma; the VMAs sharing one
 *    agree on where an index lies: va = start + (index - pgoff) * 4096.
 *
 * Handles: page->mapping of an anonymous page is (generation << 32) |
 * (slot << 1) | 1.  Bit 0 tells it from a pointer (Linux's
 * PAGE_MAPPING_ANON); the slot indexes a table of anon_vmas that grows
 * by doubling and is freed when no anon_vma is left; the generation, a
 * number given to each anon_vma in turn, catches a page that outlived
 * its anon_vma (its slot is empty or holds a younger one).
 */
#include <mm/rmap.h>
#include <mm/check.h>
#include <mm/vma.h>
#include <mm/filemap.h>
#include <mm/slab.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/types.h>

const struct filemap_owner_ops *filemap_owner;

struct av_slot {
    struct anon_vma *av;     /* NULL when free */
    uint32_t next_free;      /* the free list, through slot numbers */
};

#define SLOT_NIL 0xffffffffu
#define MAX_SLOTS (1u << 30)

static struct av_slot *slots;
static uint32_t nr_slots, used_slots, free_slot = SLOT_NIL;
static uint32_t next_gen = 1;

/* Double the table (16 slots at first); false when memory is short. */
static bool grow_slots(void)
{
    uint32_t n = nr_slots ? nr_slots * 2 : 16;
    if (n > MAX_SLOTS)
        return false;
    struct av_slot *t = kmalloc(n * sizeof(*t), GFP_KERNEL | __GFP_NOWARN);
    if (!t)
        return false;
    if (nr_slots)
        memcpy(t, slots, nr_slots * sizeof(*t));
    for (uint32_t i = nr_slots; i < n; i++)
        t[i] = (struct av_slot){ NULL, i + 1 < n ? i + 1 : free_slot };
    free_slot = nr_slots;
    kfree(slots);
    slots = t;
    nr_slots = n;
    return true;
}

static uint64_t handle_of(const struct anon_vma *av)
{
    return (uint64_t)av->gen << 32 | (uint64_t)av->slot << 1 | 1;
}

int anon_vma_prepare(struct vma *v)
{
    if (v->anon_vma)
        return 0;
    if (free_slot == SLOT_NIL && !grow_slots())
        return -ENOMEM;
    struct anon_vma *av = kzalloc(sizeof(*av), GFP_KERNEL | __GFP_NOWARN);
    if (!av) {
        if (used_slots == 0) {      /* the table was grown for it: nothing left to hold */
            kfree(slots);
            slots = NULL;
            nr_slots = 0;
            free_slot = SLOT_NIL;
        }
        return -ENOMEM;
    }
    uint32_t s = free_slot;
    free_slot = slots[s].next_free;
    slots[s].av = av;
    used_slots++;
    av->slot = s;
    av->gen = next_gen++;
    v->anon_vma = av;
    v->anon_prev = v->anon_next = NULL;
    av->vmas = v;
    av->nr_vmas = 1;
    return 0;
}

void anon_vma_link(struct vma *v)
{
    struct anon_vma *av = v->anon_vma;
    v->anon_prev = NULL;
    v->anon_next = NULL;
    if (!av)
        return;
    v->anon_next = av->vmas;
    if (av->vmas)
        av->vmas->anon_prev = v;
    av->vmas = v;
    av->nr_vmas++;
}

void anon_vma_unlink(struct vma *v)
{
    struct anon_vma *av = v->anon_vma;
    if (!av)
        return;
    if (v->anon_prev)
        v->anon_prev->anon_next = v->anon_next;
    else
        av->vmas = v->anon_next;
    if (v->anon_next)
        v->anon_next->anon_prev = v->anon_prev;
    v->anon_vma = NULL;
    v->anon_prev = v->anon_next = NULL;
    if (--av->nr_vmas)
        return;
    /* The last VMA: the lineage is gone, its handle goes stale. */
    struct av_slot *s = &slots[av->slot];
    s->av = NULL;
    s->next_free = free_slot;
    free_slot = av->slot;
    kfree(av);
    if (--used_slots == 0) {
        /* Nothing left: the table goes too (no memory held at rest). */
        kfree(slots);
        slots = NULL;
        nr_slots = 0;
        free_slot = SLOT_NIL;
    }
}

bool anon_vma_mergeable(const struct vma *a, const struct vma *b)
{
    if (a->pgoff + ((a->end - a->start) >> PAGE_SHIFT) != b->pgoff)
        return false;
    return !a->anon_vma || !b->anon_vma || a->anon_vma == b->anon_vma;
}

void anon_vma_merge(struct vma *a, struct vma *b)
{
    if (a->anon_vma || !b->anon_vma)
        return;
    a->anon_vma = b->anon_vma;
    anon_vma_link(a);
}

uint64_t vma_linear_index(const struct vma *v, uint64_t va)
{
    return v->pgoff + ((va - v->start) >> PAGE_SHIFT);
}

void page_add_anon_rmap(struct page *pg, const struct vma *v, uint64_t va)
{
    if (!v->anon_vma)
        panic("page_add_anon_rmap: VMA [%#lx, %#lx) has no anon_vma", v->start, v->end);
    pg->flags |= PG_ANON;
    pg->mapping = handle_of(v->anon_vma);
    pg->index = vma_linear_index(v, va);
}

struct anon_vma *page_anon_vma(const struct page *pg)
{
    uint64_t h = pg->mapping;
    if (!(pg->flags & PG_ANON) || !(h & 1))
        return NULL;
    uint32_t s = (uint32_t)(h >> 1) & 0x7fffffffu;
    if (s >= nr_slots || !slots[s].av || slots[s].av->gen != (uint32_t)(h >> 32))
        return NULL;
    return slots[s].av;
}

/* ---- the walk ------------------------------------------------------------------------ */

/* The pte of v at index, if v covers it and that pte maps frame pa (the
 * walk through one of the cursors when there are some: the one that last
 * served v's tables, else the next in turn). */
static bool hit_in(const struct vma *v, uint64_t index, uint64_t pa, struct rmap_hit *h,
                   struct rmap_cursor *cur)
{
    uint64_t rel = index - v->pgoff;   /* modulo 2^64: below pgoff wraps out of range */
    if (rel >= (v->end - v->start) >> PAGE_SHIFT)
        return false;
    h->mm = v->mm;
    h->vma = v;
    const struct pgtable *pt = &v->mm->pt;
    uint64_t va = v->start + (rel << PAGE_SHIFT);
    int err;
    if (cur) {
        unsigned k = 0;
        while (k < RMAP_CURSORS && cur->pc[k].pt != pt)
            k++;
        if (k == RMAP_CURSORS)
            k = cur->next++ % RMAP_CURSORS;
        err = pt_walk_cursor(pt, va, &h->pv, &cur->pc[k]);
    } else {
        err = pt_walk(pt, va, &h->pv);
    }
    return err == 0 && h->pv.pa == pa && h->pv.size == PAGE_SIZE;
}

/* The first VMA that may map pg, and whether the list goes through
 * anon_next (an anonymous page) or i_mmap_next (a page-cache page). */
static struct vma *first_vma(struct page *pg, bool *anon)
{
    *anon = pg->flags & PG_ANON;
    if (pg->refcount == 0)
        return NULL;
    if (*anon) {
        struct anon_vma *av = page_anon_vma(pg);
        return av ? av->vmas : NULL;
    }
    if ((pg->flags & PG_FILE) && filemap_owner) {
        struct vm_mapping *m = filemap_owner->mapping_of(pg);
        return m ? m->i_mmap : NULL;
    }
    return NULL;
}

static inline struct vma *next_vma(const struct vma *v, bool anon)
{
    return anon ? v->anon_next : v->i_mmap_next;
}

int rmap_walk_cursor(struct page *pg, int (*fn)(const struct rmap_hit *h, void *arg), void *arg,
                     struct rmap_cursor *cur)
{
    uint64_t pa = page_to_phys(pg);
    struct rmap_hit h;
    bool anon;
    for (struct vma *v = first_vma(pg, &anon), *next; v; v = next) {
        next = next_vma(v, anon);   /* fn may not free v, but read it first all the same */
        if (hit_in(v, pg->index, pa, &h, cur)) {
            int r = fn(&h, arg);
            if (r)
                return r;
        }
    }
    return 0;
}

int rmap_walk(struct page *pg, int (*fn)(const struct rmap_hit *h, void *arg), void *arg)
{
    return rmap_walk_cursor(pg, fn, arg, NULL);
}

uint64_t rmap_collect(struct page *pg, struct rmap_hit *hits, unsigned max,
                      struct rmap_cursor *cur)
{
    uint64_t pa = page_to_phys(pg), n = 0;
    struct rmap_hit spare;
    bool anon;
    for (struct vma *v = first_vma(pg, &anon); v; v = next_vma(v, anon))
        if (hit_in(v, pg->index, pa, n < max ? &hits[n] : &spare, cur))
            n++;
    return n;
}

static int count_one(const struct rmap_hit *h, void *arg)
{
    (void)h;
    (*(uint64_t *)arg)++;
    return 0;
}

uint64_t rmap_count(struct page *pg)
{
    uint64_t n = 0;
    rmap_walk(pg, count_one, &n);
    return n;
}

/* ---- the validator ------------------------------------------------------------------- */

struct check {
    const struct vma *v;
    char *why;
    size_t size;
};

static int check_leaf(const struct pt_view *pv, void *arg)
{
    struct check *c = arg;
    char *why = c->why;
    size_t size = c->size;
    const struct vma *v = c->v;
    if (pv->payload || pv->pa == mm_zero_page() || v->shm)
        return 0;
    struct page *pg = pfn_to_page(pv->pa >> PAGE_SHIFT);
    uint64_t index = vma_linear_index(v, pv->va);
    if (pg->flags & PG_FILE) {
        CHECK(v->mapping, "page-cache page %#lx at %#lx of a VMA without a file", pv->pa, pv->va);
        CHECK(pg->index == index, "page-cache page %#lx at %#lx: index %lu, the VMA says %lu",
              pv->pa, pv->va, pg->index, index);
        CHECK(!filemap_owner || filemap_owner->mapping_of(pg) == v->mapping,
              "page-cache page %#lx at %#lx belongs to another file", pv->pa, pv->va);
        return 0;
    }
    CHECK(pg->flags & PG_ANON, "frame %#lx at %#lx is not marked anonymous (flags %#x)", pv->pa,
          pv->va, pg->flags);
    CHECK(v->anon_vma && page_anon_vma(pg) == v->anon_vma,
          "anonymous page %#lx at %#lx: its anon_vma is not the VMA's", pv->pa, pv->va);
    CHECK(pg->index == index, "anonymous page %#lx at %#lx: index %#lx, the VMA says %#lx",
          pv->pa, pv->va, pg->index, index);
    return 0;
}

/* v is on its anon_vma's list, which is well linked and counted. */
static int check_lineage(const struct vma *v, char *why, size_t size)
{
    const struct anon_vma *av = v->anon_vma;
    CHECK(av->slot < nr_slots && slots[av->slot].av == av,
          "VMA %#lx: its anon_vma is not in the handle table", v->start);
    uint64_t n = 0;
    bool found = false;
    for (const struct vma *w = av->vmas; w && n <= av->nr_vmas; w = w->anon_next, n++) {
        CHECK(w->anon_vma == av, "VMA %#lx on the list of an anon_vma it does not name",
              w->start);
        CHECK(!w->anon_next || w->anon_next->anon_prev == w,
              "anon_vma list of VMA %#lx: broken back link", v->start);
        found |= w == v;
    }
    CHECK(n == av->nr_vmas, "VMA %#lx: its anon_vma counts %lu VMAs, its list has %lu", v->start,
          av->nr_vmas, n);
    CHECK(found, "VMA %#lx is not on its anon_vma's list", v->start);
    return 0;
}

int rmap_check_mm(struct mm *mm, char *why, size_t size)
{
    struct check c = { NULL, why, size };
    for (const struct vma *v = mm->vmas; v; v = v->next) {
        CHECK(!v->mapping || v->pgoff == v->off >> PAGE_SHIFT,
              "file VMA %#lx: pgoff %#lx, offset %#lx", v->start, v->pgoff, v->off);
        int err = v->anon_vma ? check_lineage(v, why, size) : 0;
        c.v = v;
        if (!err)
            err = pt_for_each(&mm->pt, v->start, v->end, check_leaf, &c);
        if (err)
            return err;
    }
    return 0;
}
