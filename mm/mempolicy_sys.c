/*
 * The system calls that set and read NUMA policies: set_mempolicy,
 * get_mempolicy and mbind, 64-bit and i386, with Linux's checks in
 * Linux's order (include/mm/mempolicy.h; docs/mempolicy.md), and the
 * task's policy at fork and exit.
 *
 * The nodemask ABI: maxnode bits (Linux uses maxnode - 1 of them, a
 * quirk kept by every libnuma) in an array of unsigned longs, 8 bytes on
 * x86-64 and 4 for an i386 caller; x86 is little-endian, so the array is
 * the same bitmap either way and only the rounding of its length
 * differs.  Every user pointer goes through copy_from_user /
 * copy_to_user (EFAULT), every length is bounded (a mask of at most a
 * page, as Linux).
 *
 * Invariants: a task's policy is its own (never shared: it carries the
 * interleave cursor); a VMA's policy is replaced whole (a new object),
 * never changed in place, so the VMAs that share one by splits and
 * forks never see a change they did not ask for.
 */
#include <mm/mempolicy.h>
#include <mm/vma.h>
#include <kernel/errno.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>

struct mempolicy *get_task_policy(void)
{
    return current ? current->mempolicy : NULL;
}

int mpol_fork(struct task *child, const struct task *parent)
{
    int err;
    child->mempolicy = mpol_dup(parent->mempolicy, &err);
    return err;
}

void mpol_exit(struct task *t)
{
    mpol_put(t->mempolicy);
    t->mempolicy = NULL;
}

static unsigned user_word(void)
{
    return (current->flags & TASK_COMPAT32) ? 4 : 8;
}

/* ---- the nodemask ABI ----------------------------------------------------------------- */

int get_user_nodes(nodemask_t *out, uint64_t umask, uint64_t maxnode, unsigned word)
{
    out->bits = 0;
    maxnode--;          /* Linux's get_nodes: the last bit is never used */
    if (maxnode == 0 || !umask)
        return 0;
    if (maxnode > PAGE_SIZE * 8)
        return -EINVAL;
    unsigned bits = word * 8;
    for (uint64_t i = 0; i * bits < maxnode; i++) {
        uint64_t w = 0;
        if (copy_from_user(&w, umask + i * word, word))
            return -EFAULT;
        uint64_t first = i * bits, n = MIN((uint64_t)bits, maxnode - first);
        if (n < 64)
            w &= (1ul << n) - 1;
        for (; w; w &= w - 1) {
            uint64_t nid = first + (uint64_t)__builtin_ctzll(w);
            if (nid >= MPOL_USER_MAX_NODES)
                return -EINVAL;   /* more nodes than Linux could have */
            if (nid < 64)
                out->bits |= 1ul << nid;
            /* nodes 64..1023 are never online: the policy's cut drops them */
        }
    }
    return 0;
}

/* Linux's copy_nodes_to_user: the mask rounded up to 64 bits, the part
 * past the kernel's nodes zeroed. */
static int put_user_nodes(uint64_t umask, uint64_t maxnode, nodemask_t m, unsigned word)
{
    static const uint8_t zero[256];
    uint64_t copy = ((maxnode - 1 + 63) & ~63ul) / 8;
    uint64_t nbytes = word * ((nr_node_ids + word * 8 - 1) / (word * 8));
    if (copy > nbytes) {
        if (copy > PAGE_SIZE)
            return -EINVAL;
        for (uint64_t at = nbytes; at < copy; at += sizeof(zero))
            if (copy_to_user(umask + at, zero, MIN(sizeof(zero), copy - at)))
                return -EFAULT;
        copy = nbytes;
    }
    return copy && copy_to_user(umask, &m.bits, copy) ? -EFAULT : 0;
}

/* ---- set_mempolicy ------------------------------------------------------------------ */

long sys_set_mempolicy(const struct sysargs *a)
{
    int mode = (int)a->arg[0];
    unsigned flags;
    nodemask_t nodes;
    int err = mpol_sanitize(&mode, &flags);
    if (!err)
        err = get_user_nodes(&nodes, a->arg[1], a->arg[2], user_word());
    struct mempolicy *p = NULL;
    if (!err)
        err = mpol_new((unsigned)mode, flags, nodes, &p);
    if (err)
        return err;
    mpol_put(current->mempolicy);
    current->mempolicy = p;
    return 0;
}

/* ---- get_mempolicy ------------------------------------------------------------------ */

/* The node of the page at addr, faulted in for reading first as Linux's
 * get_user_pages does (an untouched anonymous page: the zero page's). */
static int lookup_node(struct mm *mm, uint64_t addr)
{
    addr &= ~(PAGE_SIZE - 1);
    int err = mm_prepare_read(mm, addr, 1);
    if (err)
        return err;
    struct pt_view v;
    if (pt_walk(&mm->pt, addr, &v) || v.payload)
        return -EFAULT;
    return page_to_nid(pfn_to_page(v.pa >> PAGE_SHIFT));
}

/* The nodes get_mempolicy shows for p: as given for the _NODES flags,
 * else the policy's (none for LOCAL and for no policy). */
static nodemask_t shown_nodes(const struct mempolicy *p)
{
    nodemask_t none = { 0 };
    if (!p || p->mode == MPOL_LOCAL)
        return none;
    if (p->flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES))
        return p->user_nodes;
    return p->nodes;
}

long sys_get_mempolicy(const struct sysargs *a)
{
    uint64_t upolicy = a->arg[0], umask = a->arg[1], maxnode = a->arg[2];
    uint64_t addr = a->arg[3], flags = a->arg[4];
    unsigned word = user_word();
    if (umask && maxnode < nr_node_ids)
        return -EINVAL;
    if (flags & ~(uint64_t)(MPOL_F_NODE | MPOL_F_ADDR | MPOL_F_MEMS_ALLOWED))
        return -EINVAL;
    int pval = 0;
    nodemask_t nodes = { 0 };
    if (flags & MPOL_F_MEMS_ALLOWED) {
        if (flags & (MPOL_F_NODE | MPOL_F_ADDR))
            return -EINVAL;
        nodes = node_states_memory();   /* no cpusets: every node with memory */
    } else {
        struct mempolicy *p = current->mempolicy;
        if (flags & MPOL_F_ADDR) {
            /* The VMA's own policy: no fall back to the task's here. */
            struct vma *v = current->mm ? vma_lookup(current->mm, addr) : NULL;
            if (!v)
                return -EFAULT;
            p = v->policy;
        } else if (addr) {
            return -EINVAL;
        }
        if (flags & MPOL_F_NODE) {
            if (flags & MPOL_F_ADDR) {
                int nid = lookup_node(current->mm, addr);
                if (nid < 0)
                    return nid;
                pval = nid;
            } else if (p && p == current->mempolicy && p->mode == MPOL_INTERLEAVE) {
                /* The node the next interleaved page will come from. */
                int nid = p->il_prev;
                do
                    nid = (nid + 1) % MAX_NUMNODES;
                while (!(p->nodes.bits >> nid & 1));
                pval = nid;
            } else {
                return -EINVAL;
            }
        } else {
            pval = p ? p->mode | (p->flags & MPOL_MODE_FLAGS) : MPOL_DEFAULT;
        }
        nodes = shown_nodes(p);
    }
    if (upolicy && copy_to_user(upolicy, &pval, sizeof(pval)))
        return -EFAULT;
    return umask ? put_user_nodes(umask, maxnode, nodes, word) : 0;
}

/* ---- mbind ---------------------------------------------------------------------------- */

/* The nodes where the range's pages belong under p: its mask, the
 * preferred node, or the local node (LOCAL, no policy). */
static nodemask_t placement(const struct mempolicy *p)
{
    if (p && p->mode != MPOL_LOCAL)
        return p->nodes;
    nodemask_t local = { 1ul << numa_node_id() };
    return local;
}

long sys_mbind(const struct sysargs *a)
{
    uint64_t start = a->arg[0], len = a->arg[1];
    int mode = (int)a->arg[2];
    unsigned mflags = (unsigned)a->arg[5];
    unsigned flags;
    nodemask_t nodes;
    int err = mpol_sanitize(&mode, &flags);
    if (!err)
        err = get_user_nodes(&nodes, a->arg[3], a->arg[4], user_word());
    if (err)
        return err;
    if (mflags & ~MPOL_MF_VALID)
        return -EINVAL;
    if ((mflags & MPOL_MF_MOVE_ALL) && current->euid != 0)
        return -EPERM;   /* Linux: CAP_SYS_NICE */
    if (start & (PAGE_SIZE - 1))
        return -EINVAL;
    if (mode == MPOL_DEFAULT)
        mflags &= ~MPOL_MF_STRICT;
    len = (len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    uint64_t end = start + len;
    if (end < start)
        return -EINVAL;
    if (end == start)
        return 0;
    struct mempolicy *p;
    err = mpol_new((unsigned)mode, flags, nodes, &p);
    if (err)
        return err;
    struct mm *mm = current->mm;
    err = mm ? mpol_range_check(mm, start, end, p == NULL) : -EFAULT;
    if (err) {
        mpol_put(p);
        return err;
    }
    /* Linux queues the misplaced pages before it changes the VMAs and
     * moves them after; with nothing running between, counting them
     * first and moving after is the same. */
    nodemask_t allowed = placement(p);
    long failed = 0;
    if ((mflags & MPOL_MF_STRICT) && !(mflags & (MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)))
        failed = mpol_misplaced_range(mm, start, end, allowed, mflags);
    bool move = p && (mflags & (MPOL_MF_MOVE | MPOL_MF_MOVE_ALL));
    err = mpol_set_range(mm, start, end, p);
    mpol_put(p);   /* the VMAs hold their own references */
    if (err)
        return err;
    if (move)
        failed = mpol_move_range(mm, start, end, allowed, mflags);
    if (failed < 0)
        return failed;
    return failed && (mflags & MPOL_MF_STRICT) ? -EIO : 0;
}
