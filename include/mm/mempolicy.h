/*
 * NUMA memory policies (docs/mempolicy.md): which node a user page comes
 * from, as Linux's set_mempolicy(2), mbind(2) and get_mempolicy(2) set
 * and read it.
 *
 * The SOS article on Linux's physical memory: memory should be taken near
 * the CPU that uses it, and a NUMA machine is a set of nodes at
 * distances from each other.  The allocator already takes a frame from
 * the current CPU's node first and falls back nearest first
 * (include/mm/gfp.h: __alloc_pages).  A policy lets a program say
 * otherwise, for the whole task or for a range of its address space:
 *  - MPOL_DEFAULT: no policy here; the next level decides (a VMA's
 *    falls back to the task's, the task's to local allocation);
 *  - MPOL_PREFERRED: one node first, then the usual fallback;
 *  - MPOL_BIND: only the nodes of the mask, nearest first from the
 *    local node; nothing else, even when they are full;
 *  - MPOL_INTERLEAVE: page after page over the nodes of the mask: a
 *    VMA's policy picks by the page's offset in the mapping (the same
 *    page always lands on the same node), the task's round-robin;
 *  - MPOL_LOCAL: the node of the CPU that allocates.
 *
 * Ownership: a policy is immutable once made and reference counted.  A
 * VMA's policy (vma->policy, NULL: none) is shared by the halves of a
 * split and by a fork's copy, each holding a reference; the task's
 * (task->mempolicy) is the task's alone (fork copies it: it carries the
 * interleave cursor).  Two adjacent VMAs merge only when their policies
 * are equal (mpol_equal).
 *
 * Code: mm/mempolicy.c (the objects, the choice of node, alloc_pages_vma,
 * a range's policy on its VMAs, the text of /proc/PID/numa_maps),
 * mm/mempolicy_sys.c (the system calls that set and read policies), mm/mempolicy_move.c (mbind's
 * MPOL_MF_MOVE, move_pages, migrate_pages), kernel/fs/proc_numa_maps.c.
 */
#ifndef MM_MEMPOLICY_H
#define MM_MEMPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mm/gfp.h>
#include <mm/numa.h>

/* Linux's ABI values (include/uapi/linux/mempolicy.h). */
enum {
    MPOL_DEFAULT = 0,
    MPOL_PREFERRED = 1,
    MPOL_BIND = 2,
    MPOL_INTERLEAVE = 3,
    MPOL_LOCAL = 4,
    /* Linux 5.15 and 6.9 added these two; they are refused here with
     * EINVAL, as a kernel older than them refuses them. */
    MPOL_PREFERRED_MANY = 5,
    MPOL_WEIGHTED_INTERLEAVE = 6,
    MPOL_MAX_MODE = MPOL_PREFERRED_MANY   /* modes we know: 0 .. 4 */
};
#define MPOL_F_STATIC_NODES   (1u << 15)
#define MPOL_F_RELATIVE_NODES (1u << 14)
#define MPOL_F_NUMA_BALANCING (1u << 13)
#define MPOL_MODE_FLAGS (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES | MPOL_F_NUMA_BALANCING)

/* get_mempolicy's flags */
#define MPOL_F_NODE         (1u << 0)
#define MPOL_F_ADDR         (1u << 1)
#define MPOL_F_MEMS_ALLOWED (1u << 2)

/* mbind's and move_pages' flags */
#define MPOL_MF_STRICT   (1u << 0)
#define MPOL_MF_MOVE     (1u << 1)
#define MPOL_MF_MOVE_ALL (1u << 2)
#define MPOL_MF_VALID    (MPOL_MF_STRICT | MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)

/* Linux's MAX_NUMNODES on x86-64 distributions (NODES_SHIFT 10): a mask
 * from user space may be that long; bits past our nodes are nodes that
 * are not online.  Past it, set bits are EINVAL. */
#define MPOL_USER_MAX_NODES 1024

struct mempolicy {
    uint32_t refs;               /* VMAs (or the one task) holding it */
    uint16_t mode;               /* MPOL_PREFERRED .. MPOL_LOCAL (never DEFAULT) */
    uint16_t flags;              /* MPOL_F_STATIC_NODES / MPOL_F_RELATIVE_NODES */
    nodemask_t nodes;            /* the nodes it uses (online ones only) */
    nodemask_t user_nodes;       /* the mask as given (get_mempolicy shows it
                                  * back for the _NODES flags, as Linux) */
    int il_prev;                 /* a task's interleave: the node used last (-1: none) */
};

static inline unsigned nodes_weight(nodemask_t m)
{
    return (unsigned)__builtin_popcountll(m.bits);
}
/* The first node of m, or MAX_NUMNODES when m is empty. */
static inline int first_node(nodemask_t m)
{
    return m.bits ? __builtin_ctzll(m.bits) : MAX_NUMNODES;
}
/* The nodes that have memory (Linux's node_states[N_MEMORY]). */
nodemask_t node_states_memory(void);

/*
 * A new policy (refs 1) for mode (with its MPOL_F_*_NODES flags) over the
 * user's mask, with Linux's checks (mpol_new, mpol_set_nodemask): the
 * mask is cut to the nodes with memory first; MPOL_DEFAULT with a
 * non-empty mask, BIND and INTERLEAVE with an empty one, LOCAL with any
 * node or flag, PREFERRED with an empty mask and a flag, or a mask that
 * the cut left empty: -EINVAL.  PREFERRED with an empty mask is LOCAL.
 * *out is NULL for MPOL_DEFAULT (no policy).  0, -EINVAL or -ENOMEM.
 */
int mpol_new(unsigned mode, unsigned flags, nodemask_t user, struct mempolicy **out);
/* Split mode's high flag bits off and check them (Linux's
 * sanitize_mpol_flags): 0 or -EINVAL. */
int mpol_sanitize(int *mode, unsigned *flags);
static inline struct mempolicy *mpol_get(struct mempolicy *p)
{
    if (p)
        p->refs++;
    return p;
}
/* Drop a reference (NULL: nothing); the last frees it. */
void mpol_put(struct mempolicy *p);
/* A copy of p of its own (refs 1; NULL for NULL), or *err -ENOMEM. */
struct mempolicy *mpol_dup(const struct mempolicy *p, int *err);
/* Same mode, flags and nodes (NULL equals only NULL). */
bool mpol_equal(const struct mempolicy *a, const struct mempolicy *b);

/* The current task's policy, or NULL (none: local allocation).  The kernel
 * defines it (mm/mempolicy_sys.c); host programs have no task. */
struct mempolicy *get_task_policy(void) __attribute__((weak));

struct vma;
/*
 * The policy that governs address addr of v (may be NULL): v's own, else
 * the task's, else NULL (local).
 */
struct mempolicy *get_vma_policy(const struct vma *v);
/*
 * The node an allocation at addr of v is asked for, and the mask it may
 * use (*mask set to NULL when any node may serve), by the policy that
 * governs it: the local node; PREFERRED's node; BIND's nearest node to
 * the local one with the mask; INTERLEAVE's node by the page's offset
 * (a VMA policy) or the next after il_prev (the task's, which moves
 * il_prev: call it once per page allocated).  *il says whether the node
 * came from an interleave (for interleave_hit).
 */
int policy_node(const struct vma *v, uint64_t addr, nodemask_t *maskbuf,
                const nodemask_t **mask, bool *il);
/*
 * A user page for address addr of v (Linux's alloc_pages_vma): the node
 * and mask the policy gives, through __alloc_pages.  Counts
 * interleave_hit on the page's zone when an interleave got the node it
 * asked for.  NULL when nothing fits.
 */
struct page *alloc_pages_vma(gfp_t gfp, unsigned order, const struct vma *v, uint64_t addr);
/* Interleave's choice for a VMA policy: the (index mod weight)-th node of
 * the mask (Linux's interleave_nid); index = the page's linear index. */
int interleave_nid(const struct mempolicy *p, uint64_t index);

/* "default", "prefer:1", "bind:0-1", "interleave=static:0,2", "local":
 * Linux's mpol_to_str for p (NULL: "default").  Length like snprintf. */
int mpol_to_str(char *buf, size_t size, const struct mempolicy *p);
/* A node list as Linux prints it ("0-2,5"; empty for none). */
int nodelist_str(char *buf, size_t size, nodemask_t m);

/*
 * mbind's VMA side.  mpol_range_check: is [start, end) of mm covered by
 * VMAs (Linux's queue_pages_test_walk)?  A hole anywhere is -EFAULT
 * unless holes_ok (MPOL_DEFAULT), and a range with no VMA at all always
 * is.  mpol_set_range: every VMA of [start, end) gets policy p (NULL:
 * none; a reference each), split at the edges, then neighbours that
 * became equal merge; 0 or -ENOMEM (nothing changed).
 */
struct mm;
int mpol_range_check(struct mm *mm, uint64_t start, uint64_t end, bool holes_ok);
int mpol_set_range(struct mm *mm, uint64_t start, uint64_t end, struct mempolicy *p);

/* ---- the kernel's side (mm/mempolicy_sys.c, mm/mempolicy_move.c) ------------- */

struct task;
struct mm;
/* The task's policy at fork (a copy of the parent's) and exit. */
int mpol_fork(struct task *child, const struct task *parent);
void mpol_exit(struct task *t);

/* A user nodemask of maxnode bits at umask into *out, Linux's get_nodes:
 * word is 8, or 4 for an i386 caller (its longs).  0, -EINVAL, -EFAULT. */
int get_user_nodes(nodemask_t *out, uint64_t umask, uint64_t maxnode, unsigned word);

/*
 * Move every page of [start, end) of mm that mapping-once (or any, with
 * MPOL_MF_MOVE_ALL) and the zero page aside, does not lie on a node of
 * `allowed` (the range's new policy: mbind), to the node its policy
 * gives.  Returns the count of pages that stayed misplaced (could not
 * move), or -errno.
 */
long mpol_move_range(struct mm *mm, uint64_t start, uint64_t end, nodemask_t allowed,
                     unsigned flags);
/* Count the pages of [start, end) of mm that are misplaced by the same
 * rule (for MPOL_MF_STRICT without MOVE). */
long mpol_misplaced_range(struct mm *mm, uint64_t start, uint64_t end, nodemask_t allowed,
                          unsigned flags);

#endif
