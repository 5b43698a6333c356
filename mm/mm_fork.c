/*
 * Address spaces are born, copied and die here: mm_init_user, mm_fork,
 * mm_destroy (include/mm/vma.h; docs/address-spaces.md).
 *
 * Invariant: after mm_fork, every private page present in the parent is
 * present in the child at the same address, and neither can write it
 * unless its frame is referenced once (eager copies are); each mapping
 * holds one reference (the reference-counted frames of the SOS
 * mailing-list post on physical/paged/virtual memory, 2006), so the frame
 * is freed when the last address space lets go, whichever it is.
 *
 * Fork copies the VMAs, then the tables VMA by VMA with pt_clone, which
 * walks the parent's and the child's tables together, a table's worth of
 * entries at a time (Linux's copy_page_range): the child's table pages
 * are built, no data page is copied, each frame gains one reference.  In
 * the same pass a private writable page loses PT_W in both (the first
 * write copies, or just takes PT_W back when the frame is no longer
 * shared); one flush of the parent's TLB ends each VMA.  Shared mappings
 * keep their rights on both sides.  A failure on the way (no memory for a
 * child's table) destroys the half-built child; the parent's contents are
 * untouched, though some of its private pages may already be read-only:
 * harmless, the next write fault finds the frame referenced once and
 * makes it writable again without copying.  With eager (the `fork=copy`
 * boot option) the child gets a copy of every present private page
 * instead, through the same walk, for the benchmark.
 *
 * mm_destroy drops every pte's reference and frees the tables in one walk
 * (pt_destroy_each with PT_PUT_FRAMES: a tight loop per level-0 table,
 * no call per page, each table freed as the walk leaves it), then frees
 * the VMAs (the last VMA of a shared object frees its frames).  No flush:
 * the tables must not be in use any more.
 *
 * Payload entries (a swap slot...) are copied to the child as they are
 * and dropped at exit; what they name is their owner's (fork_payload,
 * exit_payload: no owner exists in user spaces yet).
 *
 * Reference: the blog post on kernel memory management, 2024 (CoW for
 * fork); xv6's uvmcopy (its eager copy is our `fork=copy`); the SOS
 * mailing-list post, 2006 (the reference-counted physical layer);
 * docs/bibliography.md.
 */
#include <mm/vma.h>
#include <mm/rmap.h>
#include <mm/mempolicy.h>
#include <kernel/errno.h>
#include <kernel/string.h>

void (*mm_tlb_flush)(uint64_t va, uint64_t len);
void (*mm_payload_put)(uint64_t payload);
int (*mm_payload_dup)(uint64_t payload);
int (*mm_payload_fault)(struct mm *mm, struct vma *v, uint64_t va, uint64_t payload,
                        unsigned access);
int (*mm_kernel_share)(struct pgtable *pt);

uint64_t (*mm_loaded_root)(void);
void (*mm_tlb_flush_cpus)(uint64_t mask, uint64_t va, uint64_t len);
uint64_t mm_flush_timeouts;
void (*mm_leave_cpus)(struct mm *mm);
void (*mm_leave_lazy_cpus)(struct mm *mm, uint64_t mask);
uint64_t mm_lazy_cpus;

/* No PCID: a TLB holds user translations of the tables in its CPU's CR3
 * only, so this CPU flushes only when the tables are loaded here (a
 * migration or a page-out in another process's memory costs no invlpg),
 * and the other CPUs that have them loaded (mm->cpu_mask) get the flush
 * by IPI. */
static void user_flush(struct pgtable *pt, uint64_t va, uint64_t len)
{
    if (mm_tlb_flush && (!mm_loaded_root || mm_loaded_root() == pt->root))
        mm_tlb_flush(va, len);
    mm_flush_cpus((struct mm *)((char *)pt - __builtin_offsetof(struct mm, pt)), va, len);
}

void mm_flush_cpus(struct mm *mm, uint64_t va, uint64_t len)
{
    if (!mm)
        return;
    /* Before the mask is read: a lazy CPU that comes back compares it. */
    mm->tlb_gen++;
    uint64_t mask = mm->cpu_mask & ~mm_lazy_cpus;
    if (mm_tlb_flush_cpus && mask)
        mm_tlb_flush_cpus(mask, va, len);
}

void mm_tables_freed(struct mm *mm)
{
    uint64_t lazy = mm->cpu_mask & mm_lazy_cpus & ~(1ul << mm_cpu());
    if (lazy && mm_leave_lazy_cpus)
        mm_leave_lazy_cpus(mm, lazy);
}

static void user_tables_freed(struct pgtable *pt)
{
    mm_tables_freed((struct mm *)((char *)pt - __builtin_offsetof(struct mm, pt)));
}

int mm_init_user_fmt(struct mm *mm, const struct pt_format *fmt, uint64_t va_end, gfp_t gfp)
{
    if (va_end <= MM_MIN_ADDR || (va_end & (PAGE_SIZE - 1)))
        return -EINVAL;
    memset(mm, 0, sizeof(*mm));
    int err = pt_init(&mm->pt, fmt, gfp, 0, va_end);
    if (err)
        return err;
    mm->pt.flush = user_flush;
    mm->pt.tables_freed = user_tables_freed;
    mm->va_end = va_end;
    mm->mmap_base = va_end;
    mm->gfp = gfp;
    mm->max_vmas = MM_MAX_VMAS;
    return 0;
}

int mm_init_user(struct mm *mm, uint64_t va_end, gfp_t gfp)
{
    int err = mm_init_user_fmt(mm, &pt_x86_64, va_end, gfp);
    /* The CPU walks these tables: they get the kernel half. */
    if (!err && mm_kernel_share && (err = mm_kernel_share(&mm->pt)) != 0)
        mm_destroy(mm);
    return err;
}

/*
 * A payload entry at exit or fork (pt_destroy_each's and pt_clone's
 * function sees only those: the frames of present pages are dropped or
 * shared by the page-table layer itself, a table at a time).  What a
 * payload names (a swap slot, a page being migrated) belongs to its
 * owner, which lets go of it at exit and takes one more reference for a
 * fork's child, whose copy of the entry names it too: swap's slot
 * references, through mm_payload_put and mm_payload_dup (mm/swap_fault.c;
 * NULL in host tests without swap).
 */
static void exit_payload(const struct pt_view *pv, void *arg)
{
    struct mm *mm = arg;
    mm->swap_ents--;
    if (mm_payload_put)
        mm_payload_put(pv->payload);
}

void mm_destroy(struct mm *mm)
{
    if (!mm->pt.fmt)
        return; /* never initialized, or destroyed already */
    /* No CPU may keep these tables in CR3 while they are freed: a lazy
     * one would still walk them (speculatively, too). */
    if (mm->cpu_mask && mm_leave_cpus)
        mm_leave_cpus(mm);
    /* File pages first, page by page: their map counts go down
     * (mm/filemap.c), which the walk below would not do. */
    filemap_exit_mm(mm);
    if (mm->hw_ops)
        mm->hw_ops->detach(mm);
    /* Every frame one reference less, a level-0 table at a time, and each
     * table freed as soon as the walk leaves it. */
    pt_destroy_each(&mm->pt, PT_PUT_FRAMES, exit_payload, mm);
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
};

/* A payload entry of the parent (see exit_payload): the child gets it as
 * it is. */
static int fork_payload(struct pt_view *pv, void *arg)
{
    struct fork_walk *w = arg;
    int err = mm_payload_dup ? mm_payload_dup(pv->payload) : 0;
    if (!err)
        w->child->swap_ents++;
    return err;
}

/* fork=copy's shared pages (the zero page): one more reference on the
 * frame, mapped, so its descriptor is an allocated head. */
static int fork_share(struct pt_view *pv, void *arg)
{
    (void)arg;
    pfn_to_page(pv->pa >> PAGE_SHIFT)->refcount++;
    return 0;
}

/* fork=copy: the child gets its own copy of a private page (the zero page
 * stays shared). */
static int fork_copy(struct pt_view *pv, void *arg)
{
    struct fork_walk *w = arg;
    if (pv->payload)
        return fork_payload(pv, arg);
    if (pv->pa == mm_zero_page())
        return fork_share(pv, arg);
    /* The child's VMA shares the parent's anon_vma and pgoff: the copy's
     * marks are the parent VMA's (which has an anon_vma: it has pages). */
    /* From the node the VMA's (or the task's) policy names. */
    struct page *cp = alloc_pages_vma(w->child->gfp | GFP_HIGHUSER_MOVABLE | __GFP_NOWARN, 0,
                                      w->v, pv->va);
    if (!cp)
        return -ENOMEM;
    uint64_t copy = page_to_phys(cp);
    page_add_anon_rmap(pfn_to_page(copy >> PAGE_SHIFT), w->v, pv->va);
    memcpy(page_address(pfn_to_page(copy >> PAGE_SHIFT)),
           page_address(pfn_to_page(pv->pa >> PAGE_SHIFT)), PAGE_SIZE);
    /* The copy is the child's alone: writable if the VMA is. */
    pv->pa = copy;
    pv->prot = vma_pt_prot(w->v);
    return 0;
}

int mm_fork(struct mm *child, struct mm *parent, bool eager)
{
    int err = mm_init_user_fmt(child, parent->pt.fmt, parent->va_end, parent->gfp);
    if (err)
        return err;
    child->pt.flush = parent->pt.flush;
    child->pt.tables_freed = parent->pt.tables_freed;
    /* The kernel half goes into the tables the CPU walks: the child's own,
     * or those of its hardware side (which attach builds). */
    child->hw_ops = parent->hw_ops;
    if (child->hw_ops)
        err = child->hw_ops->attach(child, parent);
    else if (mm_kernel_share)
        err = mm_kernel_share(&child->pt);
    if (err) {
        child->hw_ops = NULL;
        mm_destroy(child);
        return err;
    }
    child->mmap_base = parent->mmap_base;
    child->max_vmas = parent->max_vmas;
    child->brk_start = parent->brk_start;
    child->brk = parent->brk;
    child->stack_start = parent->stack_start;
    child->stack_end = parent->stack_end;
    child->stack_guard = parent->stack_guard;
    child->start_stack = parent->start_stack;   /* /proc/<pid>/stat, cmdline, environ */
    child->arg_start = parent->arg_start, child->arg_end = parent->arg_end;
    child->env_start = parent->env_start, child->env_end = parent->env_end;

    /* The VMAs, in order (appended: the list is sorted already). */
    struct vma *tail = NULL;
    for (const struct vma *pv = parent->vmas; pv; pv = pv->next) {
        struct vma *cv = vma_alloc();
        err = -ENOMEM;
        if (!cv)
            goto fail;
        *cv = *pv;
        cv->prev = tail;
        cv->next = NULL;
        if (cv->shm)
            vm_shm_get(cv->shm);
        mpol_get(cv->policy);       /* the range's NUMA policy: shared, immutable */
        cv->mm = child;
        anon_vma_link(cv);          /* the parent's lineage: CoW pages are found in both */
        if (cv->mapping)
            filemap_vma_link(cv);   /* the child's VMA on the file's list too */
        if (tail)
            tail->next = cv;
        else
            child->vmas = cv;
        tail = cv;
        child->nr_vmas++;
    }
    /* The pages: the child's tables, and the private pages read-only in
     * both for copy-on-write. */
    for (const struct vma *v = parent->vmas; v; v = v->next) {
        struct fork_walk w = { child, v };
        bool private = !(v->flags & VMA_SHARED);
        /* Copy-on-write and shared mappings: pt_clone shares each frame
         * itself (one more reference), without a call per page; only
         * payload entries reach fork_payload.  fork=copy: fork_copy sees
         * every private page. */
        if (v->mapping) /* file pages: map counts (mm/filemap.c) */
            err = filemap_fork_vma(child, parent, v);
        else if (private && eager)
            err = pt_clone(&child->pt, &parent->pt, v->start, v->end, 0, 0, fork_copy, &w);
        else
            err = pt_clone(&child->pt, &parent->pt, v->start, v->end, private ? PT_W : 0,
                           PT_SHARE_FRAMES, fork_payload, &w);
        if (err)
            goto fail;
    }
    /* The child maps what the parent maps, page for page (a copy for a
     * copy): the same counts. */
    child->rss = child->max_rss = parent->rss;
    child->zero_maps = parent->zero_maps;
    return 0;
fail:
    mm_destroy(child);
    return err;
}
