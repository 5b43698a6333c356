/*
 * Moving a process's pages between NUMA nodes (docs/mempolicy.md):
 * mbind's MPOL_MF_MOVE, move_pages(2) and migrate_pages(2), 64-bit and
 * i386, over page migration (include/mm/migrate.h: the contents copied
 * to a frame of the target node, every pte that mapped the old frame
 * rewritten through the reverse map).
 *
 * Which pages move (Linux's queue_folios_pte_range): present pages other
 * than the zero page that lie on a node they should not; without
 * MPOL_MF_MOVE_ALL only pages mapped once (a page shared after fork stays
 * where it is: moving it would move another process's memory too).
 *
 * Invariants: a walk of the tables only collects (pt_for_each's callback
 * must not change them); the pages move after it, in batches, each all
 * or nothing (migrate_page); every count the callers pass from user
 * space is consumed one element at a time through copy_from_user, so a
 * huge count costs time only while its arrays are readable.
 */
#include <mm/mempolicy.h>
#include <mm/migrate.h>
#include <mm/vma.h>
#include <kernel/errno.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>

/* ---- the range walker ------------------------------------------------------------------ */

#define MOVE_BATCH 64

struct collect {
    nodemask_t allowed;      /* pages on these nodes stay */
    unsigned n;
    uint64_t va[MOVE_BATCH];
};

static int collect_page(const struct pt_view *v, void *arg)
{
    struct collect *c = arg;
    if (v->payload || v->pa == mm_zero_page())
        return 0;
    if (node_isset(page_to_nid(pfn_to_page(v->pa >> PAGE_SHIFT)), &c->allowed))
        return 0;
    c->va[c->n++] = v->va;
    return c->n == MOVE_BATCH;
}

/* Mapped by one pte only (an anonymous page: its references are its
 * mappings; a page-cache page keeps its map count). */
static bool mapped_once(const struct page *pg)
{
    if (pg->flags & PG_FILE)
        return pg->prev == 1;
    return pg->refcount == 1;
}

/* Where a moved page goes: the policy's node at its address, or one node. */
struct target {
    const struct vma *v;
    uint64_t va;
    int nid;                 /* >= 0: that node only; -1: v's policy */
};

static struct page *target_alloc(gfp_t gfp, void *arg)
{
    struct target *t = arg;
    gfp = (gfp | GFP_HIGHUSER_MOVABLE | __GFP_NOWARN) & ~__GFP_WAIT;
    if (t->nid < 0)
        return alloc_pages_vma(gfp, 0, t->v, t->va);
    nodemask_t one = { 1ul << t->nid };
    return __alloc_pages(gfp, 0, t->nid, &one);
}

/*
 * The misplaced pages of [start, end) of mm: moved to nid (>= 0) or to
 * where their VMA's policy puts them (-1), or only counted (count_only).
 * Returns the pages that stayed misplaced, or -EINVAL.
 */
static long walk_misplaced(struct mm *mm, uint64_t start, uint64_t end, nodemask_t allowed,
                           unsigned flags, int nid, bool count_only)
{
    long failed = 0;
    for (struct vma *v = vma_find(mm, start); v && v->start < end; v = v->next) {
        uint64_t at = MAX(start, v->start), stop = MIN(end, v->end);
        while (at < stop) {
            struct collect c = { .allowed = allowed };
            int more = pt_for_each(&mm->pt, at, stop, collect_page, &c);
            if (more < 0)
                return more;
            for (unsigned i = 0; i < c.n; i++) {
                struct page *pg;
                struct pt_view pv;
                if (pt_walk(&mm->pt, c.va[i], &pv) || pv.payload)
                    continue;
                pg = pfn_to_page(pv.pa >> PAGE_SHIFT);
                if (count_only) {
                    failed++;
                    continue;
                }
                if (!(flags & MPOL_MF_MOVE_ALL) && !mapped_once(pg))
                    continue;   /* shared: left alone, not a failure (Linux) */
                struct target t = { v, c.va[i], nid };
                if (migrate_page(pg, target_alloc, &t, NULL, NULL))
                    failed++;
            }
            if (!more || !c.n)
                break;
            at = c.va[c.n - 1] + PAGE_SIZE;
        }
    }
    return failed;
}

long mpol_move_range(struct mm *mm, uint64_t start, uint64_t end, nodemask_t allowed,
                     unsigned flags)
{
    return walk_misplaced(mm, start, end, allowed, flags, -1, false);
}

long mpol_misplaced_range(struct mm *mm, uint64_t start, uint64_t end, nodemask_t allowed,
                          unsigned flags)
{
    return walk_misplaced(mm, start, end, allowed, flags, -1, true);
}

/* ---- move_pages ---------------------------------------------------------------------- */

/* The task whose pages are meant, and its mm (Linux's find_mm_struct). */
static long find_mm(int pid, struct mm **out)
{
    struct task *t = pid ? task_find(pid) : current;
    if (!t)
        return -ESRCH;
    if (!t->mm || t->state == TASK_ZOMBIE || (t->flags & TASK_KTHREAD))
        return -EINVAL;
    if (current->euid != 0 && current->euid != t->uid)
        return -EPERM;   /* Linux: ptrace's read access */
    *out = t->mm;
    return 0;
}

/* The page at addr of mm for move_pages: its descriptor, or the status
 * Linux gives (-EFAULT: no VMA, or the zero page; -ENOENT: not present). */
static long page_at(struct mm *mm, uint64_t addr, struct page **out)
{
    struct vma *v = vma_lookup(mm, addr);
    if (!v)
        return -EFAULT;
    struct pt_view pv;
    if (pt_walk(&mm->pt, addr & ~(PAGE_SIZE - 1), &pv) || pv.payload)
        return -ENOENT;
    if (pv.pa == mm_zero_page())
        return -EFAULT;
    *out = pfn_to_page(pv.pa >> PAGE_SHIFT);
    return 0;
}

/* One page to node nid: its status (the node it is on, or -errno). */
static int move_one(struct mm *mm, uint64_t addr, int nid, unsigned flags)
{
    struct page *pg;
    long err = page_at(mm, addr, &pg);
    if (err)
        return (int)err;
    if (page_to_nid(pg) == nid)
        return nid;
    if (!(flags & MPOL_MF_MOVE_ALL) && !mapped_once(pg))
        return -EACCES;
    struct target t = { vma_lookup(mm, addr), addr, nid };
    struct page *np;
    enum migrate_result why;
    err = migrate_page(pg, target_alloc, &t, &np, &why);
    if (err)
        return err == -EINVAL ? -EFAULT : (int)err;
    return page_to_nid(np);
}

long sys_move_pages(const struct sysargs *a)
{
    int pid = (int)a->arg[0];
    uint64_t nr = a->arg[1], upages = a->arg[2], unodes = a->arg[3], ustatus = a->arg[4];
    unsigned flags = (unsigned)a->arg[5];
    unsigned word = (current->flags & TASK_COMPAT32) ? 4 : 8;
    if (flags & ~(MPOL_MF_MOVE | MPOL_MF_MOVE_ALL))
        return -EINVAL;
    if ((flags & MPOL_MF_MOVE_ALL) && current->euid != 0)
        return -EPERM;
    struct mm *mm;
    long err = find_mm(pid, &mm);
    if (err)
        return err;
    long failed = 0;
    for (uint64_t i = 0; i < nr; i++) {
        uint64_t addr = 0;
        if (copy_from_user(&addr, upages + i * word, word))
            return -EFAULT;
        int status;
        if (!unodes) {
            struct page *pg;
            long e = page_at(mm, addr, &pg);
            status = e ? (int)e : page_to_nid(pg);
        } else {
            int nid;
            if (copy_from_user(&nid, unodes + i * sizeof(int), sizeof(int)))
                return -EFAULT;
            if (nid < 0 || nid >= MPOL_USER_MAX_NODES || nid >= MAX_NUMNODES ||
                !node_has_memory(nid))
                return -ENODEV;
            status = move_one(mm, addr, nid, flags);
            if (status == -EBUSY || status == -ENOMEM)
                failed++;
        }
        if (copy_to_user(ustatus + i * sizeof(int), &status, sizeof(int)))
            return -EFAULT;
    }
    return failed;
}

/* ---- migrate_pages ---------------------------------------------------------------------- */

/* The position of bit `bit` among the set bits of m, or -1. */
static int pos_to_ord(nodemask_t m, int bit)
{
    if (!(m.bits >> bit & 1))
        return -1;
    return __builtin_popcountll(m.bits & ((1ul << bit) - 1));
}

/* Linux's node_remap: the node of `to` at the rank `s` has in `from`. */
static int node_remap(int s, nodemask_t from, nodemask_t to)
{
    int n = pos_to_ord(from, s);
    unsigned w = nodes_weight(to);
    if (n < 0 || !w)
        return s;
    unsigned want = (unsigned)n % w;
    for (int nid = 0; nid < 64; nid++)
        if ((to.bits >> nid & 1) && want-- == 0)
            return nid;
    return s;
}

long sys_migrate_pages(const struct sysargs *a)
{
    int pid = (int)a->arg[0];
    uint64_t maxnode = a->arg[1];
    unsigned word = (current->flags & TASK_COMPAT32) ? 4 : 8;
    nodemask_t from, to;
    long err = get_user_nodes(&from, a->arg[2], maxnode, word);
    if (!err)
        err = get_user_nodes(&to, a->arg[3], maxnode, word);
    if (err)
        return err;
    struct task *t = pid ? task_find(pid) : current;
    if (!t)
        return -ESRCH;
    if (current->euid != 0 && current->euid != t->uid)
        return -EPERM;
    nodemask_t mem = node_states_memory();
    if ((to.bits & ~mem.bits) && current->euid != 0)
        return -EPERM;   /* Linux: nodes outside the task's, without CAP_SYS_NICE */
    to.bits &= mem.bits;
    if (!to.bits)
        return -EINVAL;
    struct mm *mm = t->state == TASK_ZOMBIE ? NULL : t->mm;
    if (!mm)
        return -EINVAL;
    unsigned flags = current->euid == 0 ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE;
    /* Linux's do_migrate_pages: each source node to its remapped node,
     * taking first a source whose target is not itself still to be
     * emptied, so that no page moves twice. */
    long busy = 0;
    nodemask_t left = from;
    while (left.bits) {
        int source = -1, dest = 0;
        for (int s = 0; s < 64; s++) {
            if (!(left.bits >> s & 1))
                continue;
            if (nodes_weight(from) != nodes_weight(to) && (to.bits >> s & 1))
                continue;
            int d = node_remap(s, from, to);
            if (s == d)
                continue;
            source = s;
            dest = d;
            if (!(left.bits >> d & 1))
                break;
        }
        if (source < 0)
            break;
        left.bits &= ~(1ul << source);
        if (source >= MAX_NUMNODES || dest >= MAX_NUMNODES)
            continue;   /* no pages there, or no frames there */
        nodemask_t stay = { ~(1ul << source) };
        long e = walk_misplaced(mm, 0, mm->va_end, stay, flags, dest, false);
        if (e < 0)
            return e;
        busy += e;
    }
    return busy;
}
