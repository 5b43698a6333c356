/*
 * Address spaces are born, copied and die here: mm_init_user, mm_fork,
 * mm_destroy (include/mm/vma.h; docs/address-spaces.md).
 *
 * Invariant: after mm_fork, every private page present in the parent is
 * present in the child at the same address, and neither can write it
 * unless its frame is referenced once (eager copies are); each mapping
 * holds one reference (seed 001's reference-counted frames), so the frame
 * is freed when the last address space lets go, whichever it is.
 *
 * Fork walks the parent's leaves VMA by VMA (pt_for_each) and maps the
 * same frames in the child's new tables: the child's table pages are
 * built, no data page is copied.  Only when everything is in place does
 * the parent lose PT_W on its private pages (one pt_protect per writable
 * private VMA, which flushes the parent's TLB): a failure on the way
 * leaves the parent untouched and the half-built child is destroyed, so
 * fork is all or nothing.  Shared mappings keep their rights on both
 * sides.  With eager (the `fork=copy` boot option) the child gets a copy
 * of every present private page instead, for the benchmark.
 *
 * mm_destroy drops every pte's reference (walking the VMAs: no pte lies
 * outside one), then frees the tables, then the VMAs (the last VMA of a
 * shared object frees its frames).  No flush: the
 * tables must not be in use any more.
 *
 * Reference: seed 000 (CoW for fork), xv6's uvmcopy (its eager copy is
 * our `fork=copy`), seed 001 (SOS's reference-counted physical layer).
 */
#include <mm/vma.h>
#include <kernel/errno.h>
#include <kernel/string.h>

void (*mm_tlb_flush)(uint64_t va, uint64_t len);

static void user_flush(struct pgtable *pt, uint64_t va, uint64_t len)
{
    (void)pt;
    if (mm_tlb_flush)
        mm_tlb_flush(va, len);
}

int mm_init_user_fmt(struct mm *mm, const struct pt_format *fmt, uint64_t va_end, gfp_t gfp)
{
    /* A level-0 table must hold two pages of the range or none: see
     * swap_leaf in mm/user_fault.c. */
    uint64_t span = 1ull << (PAGE_SHIFT + fmt->index_bits);
    if (va_end <= MM_MIN_ADDR || (va_end & (PAGE_SIZE - 1)) || va_end % span == PAGE_SIZE)
        return -EINVAL;
    memset(mm, 0, sizeof(*mm));
    int err = pt_init(&mm->pt, fmt, gfp, 0, va_end);
    if (err)
        return err;
    mm->pt.flush = user_flush;
    mm->va_end = va_end;
    mm->mmap_base = va_end;
    mm->gfp = gfp;
    mm->max_vmas = MM_MAX_VMAS;
    return 0;
}

int mm_init_user(struct mm *mm, uint64_t va_end, gfp_t gfp)
{
    return mm_init_user_fmt(mm, &pt_x86_64, va_end, gfp);
}

static int drop_leaf(const struct pt_view *v, void *arg)
{
    (void)arg;
    frame_unref(v->pa);
    return 0;
}

void mm_destroy(struct mm *mm)
{
    if (!mm->pt.fmt)
        return; /* never initialized, or destroyed already */
    for (const struct vma *v = mm->vmas; v; v = v->next)
        mm_must(pt_for_each(&mm->pt, v->start, v->end, drop_leaf, NULL), "mm_destroy: walk",
                v->start);
    pt_destroy(&mm->pt);
    while (mm->vmas) {
        struct vma *v = mm->vmas;
        vma_unlink(mm, v);
        vma_free(v);
    }
    memset(mm, 0, sizeof(*mm));
}

/* ---- fork ------------------------------------------------------------------------------------ */

struct fork_walk {
    struct mm *child;
    const struct vma *v;
    bool eager;
};

/* One present page of the parent: map it (or a copy) in the child. */
static int fork_leaf(const struct pt_view *pv, void *arg)
{
    struct fork_walk *w = arg;
    struct mm *child = w->child;
    uint64_t pa = pv->pa;
    unsigned prot = pv->prot;
    int err;
    if (!(w->v->flags & VMA_SHARED)) {
        if (w->eager && pa != mm_zero_page()) {
            uint64_t copy = frame_alloc(child->gfp | __GFP_NOWARN);
            if (!copy)
                return -ENOMEM;
            memcpy(page_address(pfn_to_page(copy >> PAGE_SHIFT)),
                   page_address(pfn_to_page(pa >> PAGE_SHIFT)), PAGE_SIZE);
            /* The copy is the child's alone: writable if the VMA is. */
            err = pt_map(&child->pt, pv->va, copy, PAGE_SIZE, vma_pt_prot(w->v), 0);
            if (err) {
                frame_unref(copy);
                return err;
            }
            mm_count_map(child, copy);
            return 0;
        }
        prot &= ~PT_W;
    }
    err = pt_map(&child->pt, pv->va, pa, PAGE_SIZE, prot, 0);
    if (err)
        return err;
    frame_ref(pa);
    mm_count_map(child, pa);
    return 0;
}

int mm_fork(struct mm *child, struct mm *parent, bool eager)
{
    int err = mm_init_user_fmt(child, parent->pt.fmt, parent->va_end, parent->gfp);
    if (err)
        return err;
    child->pt.flush = parent->pt.flush;
    child->mmap_base = parent->mmap_base;
    child->max_vmas = parent->max_vmas;
    child->brk_start = parent->brk_start;
    child->brk = parent->brk;
    child->stack_start = parent->stack_start;
    child->stack_end = parent->stack_end;
    child->stack_guard = parent->stack_guard;

    /* The VMAs, in order (appended: the list is sorted already). */
    struct vma *tail = NULL;
    for (const struct vma *pv = parent->vmas; pv; pv = pv->next) {
        struct vma *cv = vma_alloc();
        if (!cv)
            goto fail;
        *cv = *pv;
        cv->prev = tail;
        cv->next = NULL;
        if (cv->shm)
            vm_shm_get(cv->shm);
        if (tail)
            tail->next = cv;
        else
            child->vmas = cv;
        tail = cv;
        child->nr_vmas++;
    }
    /* The pages. */
    for (const struct vma *v = parent->vmas; v; v = v->next) {
        struct fork_walk w = { child, v, eager };
        if (pt_for_each(&parent->pt, v->start, v->end, fork_leaf, &w))
            goto fail;
    }
    /* Now that nothing can fail: the parent's private pages, shared with
     * the child, become read-only (the first write copies). */
    for (const struct vma *v = parent->vmas; v && !eager; v = v->next)
        if (!(v->flags & VMA_SHARED) && (v->prot & PROT_WRITE))
            mm_must(pt_protect(&parent->pt, v->start, v->end - v->start,
                               vma_pt_prot(v) & ~PT_W),
                    "mm_fork: pt_protect", v->start);
    return 0;
fail:
    mm_destroy(child);
    return -ENOMEM;
}
