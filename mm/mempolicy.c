/*
 * NUMA memory policies: the objects and the choice of node for a user
 * page (include/mm/mempolicy.h; docs/mempolicy.md).  Linux:
 * mm/mempolicy.c.
 *
 * Invariants:
 *  - a struct mempolicy never changes once made (only a task policy's
 *    il_prev, which is that task's alone); whoever holds a pointer holds
 *    a reference (refs), and the last mpol_put frees it;
 *  - mode is never MPOL_DEFAULT (no policy is a NULL pointer) and
 *    nodes is non-empty for PREFERRED, BIND and INTERLEAVE, empty for
 *    LOCAL, and holds only nodes that had memory when it was made;
 *  - the user page of an address follows the first policy of: its VMA's,
 *    the task's, local allocation; a BIND page lies on a node of the
 *    mask or was not allocated at all.
 *
 * Context: one CPU, not preemptible; nothing here sleeps.
 */
#include <mm/mempolicy.h>
#include <mm/slab.h>
#include <mm/vma.h>
#include <mm/rmap.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>

#include "mmap_impl.h"

nodemask_t node_states_memory(void)
{
    nodemask_t m = { 0 };
    for (unsigned nid = 0; nid < nr_node_ids && nid < MAX_NUMNODES; nid++)
        if (node_has_memory((int)nid))
            m.bits |= 1ul << nid;
    return m;
}

/* ---- the objects ------------------------------------------------------------------------- */

int mpol_sanitize(int *mode, unsigned *flags)
{
    *flags = (unsigned)*mode & MPOL_MODE_FLAGS;
    *mode &= ~(int)MPOL_MODE_FLAGS;
    if ((unsigned)*mode >= MPOL_MAX_MODE)
        return -EINVAL;
    if ((*flags & MPOL_F_STATIC_NODES) && (*flags & MPOL_F_RELATIVE_NODES))
        return -EINVAL;
    /* Linux's NUMA balancing flag goes with BIND only; there is no
     * balancing here to turn on, so it is accepted and dropped. */
    if (*flags & MPOL_F_NUMA_BALANCING) {
        if (*mode != MPOL_BIND)
            return -EINVAL;
        *flags &= ~MPOL_F_NUMA_BALANCING;
    }
    return 0;
}

/* The n-th set bit of m (n counted from 0), or -1. */
static int nth_node(nodemask_t m, unsigned n)
{
    for (int nid = 0; nid < MAX_NUMNODES; nid++)
        if (m.bits >> nid & 1) {
            if (!n)
                return nid;
            n--;
        }
    return -1;
}

/* Linux's mpol_relative_nodemask: bit i of the user's mask names the
 * i-th allowed node (modulo their count). */
static nodemask_t relative_nodes(nodemask_t user, nodemask_t allowed)
{
    nodemask_t out = { 0 };
    unsigned w = nodes_weight(allowed);
    if (!w)
        return out;
    for (unsigned i = 0; i < 64; i++)
        if (user.bits >> i & 1)
            out.bits |= 1ul << nth_node(allowed, i % w);
    return out;
}

int mpol_new(unsigned mode, unsigned flags, nodemask_t user, struct mempolicy **out)
{
    *out = NULL;
    bool empty = user.bits == 0;
    if (mode == MPOL_DEFAULT)
        return empty ? 0 : -EINVAL;
    if (mode == MPOL_PREFERRED && empty) {
        if (flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES))
            return -EINVAL;
        mode = MPOL_LOCAL;    /* Linux: an empty preferred mask is local allocation */
    } else if (mode == MPOL_LOCAL) {
        if (!empty || (flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES)))
            return -EINVAL;
    } else if (empty) {
        return -EINVAL;
    }
    /* mpol_set_nodemask: only nodes with memory (every node is allowed:
     * there are no cpusets). */
    nodemask_t allowed = node_states_memory(), nodes;
    if (flags & MPOL_F_RELATIVE_NODES)
        nodes = relative_nodes(user, allowed);
    else
        nodes.bits = user.bits & allowed.bits;
    if (mode != MPOL_LOCAL && !nodes.bits)
        return -EINVAL;
    if (mode == MPOL_PREFERRED)   /* the first node of the mask only */
        nodes.bits &= -nodes.bits;
    struct mempolicy *p = kzalloc(sizeof(*p), GFP_KERNEL | __GFP_NOWARN);
    if (!p)
        return -ENOMEM;
    p->refs = 1;
    p->mode = (uint16_t)mode;
    p->flags = (uint16_t)flags;
    p->nodes = nodes;
    p->user_nodes = user;
    p->il_prev = -1;
    *out = p;
    return 0;
}

void mpol_put(struct mempolicy *p)
{
    if (!p)
        return;
    if (!p->refs)
        panic("mpol_put: policy %p has no reference left", (void *)p);
    if (--p->refs == 0)
        kfree(p);
}

struct mempolicy *mpol_dup(const struct mempolicy *p, int *err)
{
    *err = 0;
    if (!p)
        return NULL;
    struct mempolicy *n = kmalloc(sizeof(*n), GFP_KERNEL | __GFP_NOWARN);
    if (!n) {
        *err = -ENOMEM;
        return NULL;
    }
    *n = *p;
    n->refs = 1;
    return n;
}

bool mpol_equal(const struct mempolicy *a, const struct mempolicy *b)
{
    if (a == b)
        return true;
    if (!a || !b)
        return false;
    return a->mode == b->mode && a->flags == b->flags && a->nodes.bits == b->nodes.bits &&
           ((a->flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES)) == 0 ||
            a->user_nodes.bits == b->user_nodes.bits);
}

/* ---- the choice of node ----------------------------------------------------------------- */

struct mempolicy *get_vma_policy(const struct vma *v)
{
    if (v && v->policy)
        return v->policy;
    return get_task_policy ? get_task_policy() : NULL;
}

int interleave_nid(const struct mempolicy *p, uint64_t index)
{
    unsigned w = nodes_weight(p->nodes);
    return w ? nth_node(p->nodes, (unsigned)(index % w)) : numa_node_id();
}

/* The node after `prev` in m, wrapping (Linux's next_node_in). */
static int next_node_in(int prev, nodemask_t m)
{
    for (int i = 1; i <= MAX_NUMNODES; i++) {
        int nid = (prev + i) % MAX_NUMNODES;
        if (nid < 0)
            nid += MAX_NUMNODES;
        if (m.bits >> nid & 1)
            return nid;
    }
    return numa_node_id();
}

int policy_node(const struct vma *v, uint64_t addr, nodemask_t *maskbuf,
                const nodemask_t **mask, bool *il)
{
    struct mempolicy *p = get_vma_policy(v);
    *mask = NULL;
    *il = false;
    if (!p)
        return numa_node_id();
    switch (p->mode) {
    case MPOL_PREFERRED:
        return first_node(p->nodes);
    case MPOL_BIND:
        /* The local node's fallback order, cut to the mask. */
        *maskbuf = p->nodes;
        *mask = maskbuf;
        return numa_node_id();
    case MPOL_INTERLEAVE:
        *il = true;
        if (v && p == v->policy)
            return interleave_nid(p, vma_linear_index(v, addr & ~(PAGE_SIZE - 1)));
        p->il_prev = next_node_in(p->il_prev, p->nodes);
        return p->il_prev;
    default:   /* MPOL_LOCAL */
        return numa_node_id();
    }
}

struct page *alloc_pages_vma(gfp_t gfp, unsigned order, const struct vma *v, uint64_t addr)
{
    nodemask_t buf;
    const nodemask_t *mask;
    bool il;
    int nid = policy_node(v, addr, &buf, &mask, &il);
    struct page *pg = __alloc_pages(gfp, order, nid, mask);
    if (pg && il && page_to_nid(pg) == nid)
        page_zone(pg)->numa_stat[NUMA_INTERLEAVE_HIT]++;
    return pg;
}

/* ---- a range's policy (mbind) ---------------------------------------------------------- */

int mpol_range_check(struct mm *mm, uint64_t start, uint64_t end, bool holes_ok)
{
    struct vma *v = vma_find(mm, start);
    if (!v || v->start >= end)
        return -EFAULT;
    if (holes_ok)
        return 0;
    if (v->start > start)
        return -EFAULT;
    for (; v->end < end; v = v->next)
        if (!v->next || v->next->start != v->end)
            return -EFAULT;
    return 0;
}

int mpol_set_range(struct mm *mm, uint64_t start, uint64_t end, struct mempolicy *p)
{
    unsigned need = mmap_splits_needed(mm, start, end);
    if (need && mmap_too_many(mm, need))
        return -ENOMEM;
    struct spares s;
    if (mmap_spares_get(&s, need))
        return -ENOMEM;
    mmap_split_edges(mm, start, end, &s);
    mmap_spares_put(&s);
    for (struct vma *v = vma_find(mm, start); v && v->start < end; v = v->next) {
        mpol_put(v->policy);
        v->policy = mpol_get(p);
    }
    vma_merge_range(mm, start, end);
    return 0;
}

/* ---- text ------------------------------------------------------------------------------ */

int nodelist_str(char *buf, size_t size, nodemask_t m)
{
    size_t len = 0;
    if (size)
        buf[0] = 0;
    for (int nid = 0; nid < MAX_NUMNODES; nid++) {
        if (!(m.bits >> nid & 1))
            continue;
        int end = nid;
        while (end + 1 < MAX_NUMNODES && (m.bits >> (end + 1) & 1))
            end++;
        int n = end > nid ? snprintf(buf + MIN(len, size), size - MIN(len, size), "%s%d-%d",
                                     len ? "," : "", nid, end)
                          : snprintf(buf + MIN(len, size), size - MIN(len, size), "%s%d",
                                     len ? "," : "", nid);
        len += (size_t)n;
        nid = end;
    }
    return (int)len;
}

int mpol_to_str(char *buf, size_t size, const struct mempolicy *p)
{
    static const char *const names[MPOL_MAX_MODE] = {
        [MPOL_DEFAULT] = "default", [MPOL_PREFERRED] = "prefer", [MPOL_BIND] = "bind",
        [MPOL_INTERLEAVE] = "interleave", [MPOL_LOCAL] = "local",
    };
    unsigned mode = p ? p->mode : MPOL_DEFAULT;
    int len = snprintf(buf, size, "%s", names[mode]);
    if (!p || mode == MPOL_LOCAL)
        return len;
    size_t at = MIN((size_t)len, size);
    if (p->flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES)) {
        len += snprintf(buf + at, size - at, "=%s",
                        (p->flags & MPOL_F_STATIC_NODES) ? "static" : "relative");
        at = MIN((size_t)len, size);
    }
    len += snprintf(buf + at, size - at, ":");
    at = MIN((size_t)len, size);
    return len + nodelist_str(buf + at, size - at, p->nodes);
}
