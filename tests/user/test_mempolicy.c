/*
 * test_mempolicy: NUMA memory policies through Linux's system calls
 * (docs/mempolicy.md): set_mempolicy, get_mempolicy, mbind, move_pages,
 * migrate_pages and /proc/self/numa_maps.
 *
 * The program finds the nodes it can use itself: the nodes with memory
 * (get_mempolicy MPOL_F_MEMS_ALLOWED), then, for each, whether one of
 * its pages can move there (move_pages): a 32-bit process cannot use a
 * node whose memory all lies above 4 GiB.  With two usable nodes it
 * checks where pages land (move_pages' status array and get_mempolicy
 * MPOL_F_NODE | MPOL_F_ADDR, as LTP's set_mempolicy tests do): BIND puts
 * exactly the touched pages on its node, INTERLEAVE alternates (by the
 * page's offset for mbind, round-robin for the task), PREFERRED, mbind on
 * part of a mapping (two VMAs in numa_maps), MPOL_MF_STRICT and
 * MPOL_MF_MOVE, move_pages keeping the contents, migrate_pages, fork
 * keeping the policy.  With one node (the host, most boots) those checks
 * print # SKIP; the policy round trips, fork, the numa_maps split and
 * every error case are checked everywhere, against the host's errno.
 */
#include "ut.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MPOL_DEFAULT 0
#define MPOL_PREFERRED 1
#define MPOL_BIND 2
#define MPOL_INTERLEAVE 3
#define MPOL_LOCAL 4
#define MPOL_F_STATIC_NODES (1 << 15)
#define MPOL_F_RELATIVE_NODES (1 << 14)
#define MPOL_F_NODE 1
#define MPOL_F_ADDR 2
#define MPOL_F_MEMS_ALLOWED 4
#define MPOL_MF_STRICT 1
#define MPOL_MF_MOVE 2

/* A mask of 1024 nodes (Linux's on x86-64 distributions), maxnode one
 * more: Linux reads maxnode - 1 bits. */
#define MASK_BITS 1024
#define MASK_LONGS (MASK_BITS / (8 * sizeof(unsigned long)))
#define MAXNODE (MASK_BITS + 1)
typedef struct {
    unsigned long w[MASK_LONGS];
} mask_t;

static int nodes[8], nnodes;      /* usable nodes, in order */
static int n0, n1;                /* the first two */

static mask_t mask_of(int a, int b)
{
    mask_t m;
    memset(&m, 0, sizeof(m));
    if (a >= 0)
        m.w[a / (8 * sizeof(long))] |= 1UL << (a % (8 * sizeof(long)));
    if (b >= 0)
        m.w[b / (8 * sizeof(long))] |= 1UL << (b % (8 * sizeof(long)));
    return m;
}

static int mask_has(const mask_t *m, int n)
{
    return (m->w[n / (8 * sizeof(long))] >> (n % (8 * sizeof(long)))) & 1;
}

static long set_policy(int mode, const mask_t *m)
{
    return syscall(SYS_set_mempolicy, mode, m, m ? MAXNODE : 0);
}

static long get_policy(int *mode, mask_t *m, void *addr, unsigned long flags)
{
    if (m)
        memset(m, 0xa5, sizeof(*m));
    return syscall(SYS_get_mempolicy, mode, m, m ? MAXNODE : 0, addr, flags);
}

static long mbind_(void *a, size_t len, int mode, const mask_t *m, unsigned flags)
{
    return syscall(SYS_mbind, a, len, mode, m, m ? MAXNODE : 0, flags);
}

/* move_pages of one page: its status (the node, or -errno), or the
 * call's own error as -1000 - errno. */
static int move1(void *p, int node)
{
    void *pages[1] = { p };
    int nd[1] = { node }, st[1] = { -12345 };
    long r = syscall(SYS_move_pages, 0, 1, pages, node < -1 ? NULL : nd, st, 0);
    return r < 0 ? -1000 - errno : st[0];
}
#define STAT_ONLY (-2)

static int node_of(void *p)
{
    return move1(p, STAT_ONLY);
}

static char *map(size_t pages)
{
    char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* pages read-write between two PROT_NONE pages: a VMA of its own, which
 * merges with no neighbour (numa_maps finds it by its start). */
static char *map_alone(size_t pages)
{
    char *p = mmap(NULL, (pages + 2) * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (mprotect(p + PAGE, pages * PAGE, PROT_READ | PROT_WRITE)) {
        munmap(p, (pages + 2) * PAGE);
        return NULL;
    }
    return p + PAGE;
}

static void unmap_alone(char *p, size_t pages)
{
    munmap(p - PAGE, (pages + 2) * PAGE);
}

static void touch(char *p, size_t pages, int seed)
{
    for (size_t i = 0; i < pages; i++)
        memset(p + i * PAGE, (int)(seed + i) & 0xff, PAGE);
}

/* touch, with the pages put on node n0 (the task bound there meanwhile):
 * without a policy they would go to the node of whatever CPU the task
 * runs on, which on a machine with CPUs on several nodes need not be
 * n0. */
static void touch_on_n0(char *p, size_t pages, int seed)
{
    mask_t m = mask_of(n0, -1);
    set_policy(MPOL_BIND, &m);
    touch(p, pages, seed);
    set_policy(MPOL_DEFAULT, NULL);
}

static int intact(const char *p, size_t pages, int seed)
{
    for (size_t i = 0; i < pages; i++)
        for (size_t j = 0; j < PAGE; j += 512)
            if ((unsigned char)p[i * PAGE + j] != ((seed + i) & 0xff))
                return 0;
    return 1;
}

/* The numa_maps line of the VMA starting at va into buf ("" if none). */
static void numa_line(void *va, char *buf, size_t size)
{
    static char text[65536];
    buf[0] = 0;
    int fd = open("/proc/self/numa_maps", O_RDONLY);
    if (fd < 0)
        return;
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(text) - 1 && (n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    text[len] = 0;
    char want[32];
    snprintf(want, sizeof(want), "%08lx ", (unsigned long)(uintptr_t)va);
    for (char *l = text; l && *l;) {
        char *nl = strchr(l, '\n');
        if (!strncmp(l, want, strlen(want))) {
            size_t k = nl ? (size_t)(nl - l) : strlen(l);
            if (k >= size)
                k = size - 1;
            memcpy(buf, l, k);
            buf[k] = 0;
            return;
        }
        l = nl ? nl + 1 : NULL;
    }
}

/* Does the line hold the word w (between blanks)? */
static int has_word(const char *line, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = line; (p = strstr(p, w)); p += n)
        if ((p == line || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
            return 1;
    return 0;
}

/* ---- discovering the nodes ------------------------------------------------------------ */

static void find_nodes(void)
{
    mask_t mems;
    int mode = -1;
    long r = get_policy(&mode, &mems, NULL, MPOL_F_MEMS_ALLOWED);
    ut_check(r == 0 && mask_has(&mems, 0), "mems_allowed_has_node0", "r=%ld errno=%s", r,
             ut_errno_name(errno));
    char *p = map(1);
    touch(p, 1, 1);
    int home = node_of(p);
    for (int n = 0; n < 64 && nnodes < 8; n++) {
        if (r || !mask_has(&mems, n))
            continue;
        if (move1(p, n) == n)
            nodes[nnodes++] = n;
        else
            ut_note("node %d has memory this process cannot use (%d)", n, move1(p, n));
    }
    if (home >= 0)
        move1(p, home);
    munmap(p, PAGE);
    n0 = nnodes > 0 ? nodes[0] : 0;
    n1 = nnodes > 1 ? nodes[1] : -1;
    ut_note("usable nodes: %d (first %d, second %d)", nnodes, n0, n1);
}

/* ---- one node or more -------------------------------------------------------------------- */

static void test_roundtrips(void)
{
    mask_t m = mask_of(0, -1), got;
    int mode = -1;
    long r;

    r = get_policy(&mode, &got, NULL, 0);
    ut_check(r == 0 && mode == MPOL_DEFAULT && !mask_has(&got, 0), "default_policy_at_start",
             "r=%ld mode=%d", r, mode);
    r = set_policy(MPOL_BIND, &m);
    ut_check(r == 0, "set_bind_node0", "errno=%s", ut_errno_name(errno));
    r = get_policy(&mode, &got, NULL, 0);
    ut_check(r == 0 && mode == MPOL_BIND && mask_has(&got, 0) && !mask_has(&got, 1) &&
                 got.w[MASK_LONGS - 1] == 0,
             "get_bind_node0", "r=%ld mode=%d", r, mode);
    r = set_policy(MPOL_PREFERRED, &m);
    r = r ? r : get_policy(&mode, &got, NULL, 0);
    ut_check(r == 0 && mode == MPOL_PREFERRED && mask_has(&got, 0), "get_preferred_node0",
             "r=%ld mode=%d", r, mode);
    r = set_policy(MPOL_PREFERRED, NULL);   /* an empty preferred mask: local */
    r = r ? r : get_policy(&mode, &got, NULL, 0);
    ut_check(r == 0 && mode == MPOL_LOCAL && !mask_has(&got, 0), "preferred_empty_is_local",
             "r=%ld mode=%d", r, mode);
    r = set_policy(MPOL_LOCAL, NULL);
    r = r ? r : get_policy(&mode, NULL, NULL, 0);
    ut_check(r == 0 && mode == MPOL_LOCAL, "get_local", "r=%ld mode=%d", r, mode);
    r = set_policy(MPOL_BIND | MPOL_F_STATIC_NODES, &m);
    r = r ? r : get_policy(&mode, &got, NULL, 0);
    ut_check(r == 0 && mode == (MPOL_BIND | MPOL_F_STATIC_NODES) && mask_has(&got, 0),
             "bind_static_flag_kept", "r=%ld mode=%#x", r, mode);
    r = set_policy(MPOL_INTERLEAVE, &m);
    int nid = -1;
    r = r ? r : get_policy(&nid, NULL, NULL, MPOL_F_NODE);
    ut_check(r == 0 && nid == 0, "interleave_next_node", "r=%ld nid=%d", r, nid);
    /* A page touched under BIND to node 0 is on node 0. */
    r = set_policy(MPOL_BIND, &m);
    char *p = map(2);
    touch(p, 1, 7);
    nid = -1;
    long r2 = get_policy(&nid, NULL, p, MPOL_F_NODE | MPOL_F_ADDR);
    ut_check(r == 0 && r2 == 0 && nid == 0, "bind0_page_on_node0", "r=%ld nid=%d", r2, nid);
    /* F_ADDR without F_NODE: the VMA's own policy, not the task's. */
    r2 = get_policy(&mode, &got, p, MPOL_F_ADDR);
    ut_check(r2 == 0 && mode == MPOL_DEFAULT, "addr_policy_is_vma_default", "r=%ld mode=%d",
             r2, mode);
    /* F_NODE | F_ADDR faults an untouched page in (as a read). */
    nid = -1;
    r2 = get_policy(&nid, NULL, p + PAGE, MPOL_F_NODE | MPOL_F_ADDR);
    ut_check(r2 == 0 && nid >= 0, "addr_node_faults_in", "r=%ld nid=%d", r2, nid);
    munmap(p, 2 * PAGE);
    r = set_policy(MPOL_DEFAULT, NULL);
    r = r ? r : get_policy(&mode, NULL, NULL, 0);
    ut_check(r == 0 && mode == MPOL_DEFAULT, "back_to_default", "r=%ld mode=%d", r, mode);
}

/* The child of test_fork: its policy must be the parent's BIND, its
 * pages on the bound node.  Exit code 0 or the failing step. */
static int fork_child(void *arg)
{
    int want = *(int *)arg, mode = -1;
    mask_t got;
    if (get_policy(&mode, &got, NULL, 0) || mode != MPOL_BIND)
        return 1;
    if (!mask_has(&got, want))
        return 2;
    char *p = map(4);
    touch(p, 4, 3);
    for (int i = 0; i < 4; i++)
        if (node_of(p + i * PAGE) != want)
            return 3;
    return 0;
}

static void test_fork(void)
{
    int want = n1 >= 0 ? n1 : n0;
    mask_t m = mask_of(want, -1);
    long r = set_policy(MPOL_BIND, &m);
    int st = ut_run_child(fork_child, &want);
    char why[64];
    ut_check(r == 0 && ut_exited_with(st, 0), "fork_keeps_policy", "%s",
             ut_status_str(st, why, sizeof(why)));
    set_policy(MPOL_DEFAULT, NULL);
}

/* mbind on the middle of a mapping: numa_maps shows three VMAs. */
static void test_numa_maps_split(void)
{
    char *p = map_alone(6);
    touch(p, 6, 11);
    int bind = n1 >= 0 ? n1 : n0;
    mask_t m = mask_of(bind, -1);
    long r = mbind_(p + 2 * PAGE, 2 * PAGE, MPOL_BIND, &m, MPOL_MF_MOVE);
    ut_check(r == 0, "mbind_middle", "errno=%s", ut_errno_name(errno));
    char a[512], b[512], c[512], w[32];
    numa_line(p, a, sizeof(a));
    numa_line(p + 2 * PAGE, b, sizeof(b));
    numa_line(p + 4 * PAGE, c, sizeof(c));
    ut_note("numa_maps: [%s] [%s] [%s]", a, b, c);
    snprintf(w, sizeof(w), "bind:%d", bind);
    ut_check(has_word(a, "default") && has_word(b, w) && has_word(c, "default"),
             "numa_maps_three_vmas", "lines [%s] [%s] [%s]", a, b, c);
    snprintf(w, sizeof(w), "N%d=2", bind);
    ut_check(has_word(b, "anon=2") && has_word(b, "dirty=2") && has_word(b, w) &&
                 has_word(b, "kernelpagesize_kB=4"),
             "numa_maps_counts", "line [%s]", b);
    ut_check(intact(p, 6, 11), "mbind_move_keeps_contents", "data changed");
    int mode = -1;
    r = get_policy(&mode, NULL, p + 3 * PAGE, MPOL_F_ADDR);
    ut_check(r == 0 && mode == MPOL_BIND, "addr_policy_is_bind", "r=%ld mode=%d", r, mode);
    /* The same policy again on the rest: the VMAs merge back into one. */
    r = mbind_(p, 6 * PAGE, MPOL_BIND, &m, 0);
    numa_line(p, a, sizeof(a));
    numa_line(p + 2 * PAGE, b, sizeof(b));
    ut_check(r == 0 && b[0] == 0, "numa_maps_merged", "r=%ld line [%s]", r, b);
    unmap_alone(p, 6);
}

static void test_errors(void)
{
    mask_t m0 = mask_of(0, -1), m7 = mask_of(7, -1), none = mask_of(-1, -1);
    int mode;
    ut_check_errno("set_bad_mode", set_policy(99, &m0), EINVAL);
    ut_check_errno("set_bind_empty", set_policy(MPOL_BIND, &none), EINVAL);
    ut_check_errno("set_interleave_null", set_policy(MPOL_INTERLEAVE, NULL), EINVAL);
    ut_check_errno("set_bind_offline_node", set_policy(MPOL_BIND, &m7), EINVAL);
    ut_check_errno("set_static_and_relative",
                   set_policy(MPOL_BIND | MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES, &m0),
                   EINVAL);
    ut_check_errno("set_local_with_nodes", set_policy(MPOL_LOCAL, &m0), EINVAL);
    ut_check_errno("set_default_with_nodes", set_policy(MPOL_DEFAULT, &m0), EINVAL);
    ut_check_errno("set_preferred_empty_static",
                   set_policy(MPOL_PREFERRED | MPOL_F_STATIC_NODES, NULL), EINVAL);
    ut_check_errno("set_mask_unreadable",
                   syscall(SYS_set_mempolicy, MPOL_BIND, (void *)16, MAXNODE), EFAULT);
    ut_check_errno("set_maxnode_too_large",
                   syscall(SYS_set_mempolicy, MPOL_BIND, &m0, 4096 * 8 + 2), EINVAL);
    /* A bit past Linux's 1024 nodes in a longer mask. */
    static unsigned long big[2 * MASK_LONGS];
    big[0] = 1;
    big[MASK_LONGS] = 1;
    ut_check_errno("set_node_past_1024",
                   syscall(SYS_set_mempolicy, MPOL_BIND, big, 2 * MASK_BITS + 1), EINVAL);
    ut_check(syscall(SYS_set_mempolicy, MPOL_BIND, big, MASK_BITS + 1) == 0,
             "set_long_mask_first_1024", "errno=%s", ut_errno_name(errno));
    set_policy(MPOL_DEFAULT, NULL);

    mask_t got;
    ut_check_errno("get_maxnode_too_small",
                   syscall(SYS_get_mempolicy, &mode, &got, 0UL, NULL, 0UL), EINVAL);
    ut_check_errno("get_bad_flags", get_policy(&mode, NULL, NULL, 0x10), EINVAL);
    ut_check_errno("get_mems_with_node",
                   get_policy(&mode, NULL, NULL, MPOL_F_MEMS_ALLOWED | MPOL_F_NODE), EINVAL);
    ut_check_errno("get_addr_without_flag", get_policy(&mode, NULL, (void *)0x10000, 0),
                   EINVAL);
    ut_check_errno("get_node_of_default", get_policy(&mode, NULL, NULL, MPOL_F_NODE), EINVAL);
    /* A page with nothing mapped, between two that stay mapped (so that
     * no later mapping fills it). */
    char *fence = map(3), *hole = fence + PAGE;
    munmap(hole, PAGE);
    ut_check_errno("get_addr_unmapped", get_policy(&mode, NULL, hole, MPOL_F_ADDR), EFAULT);
    ut_check_errno("get_policy_unwritable", get_policy((int *)16, NULL, NULL, 0), EFAULT);
    ut_check_errno("get_mask_unwritable",
                   syscall(SYS_get_mempolicy, &mode, (void *)16, MAXNODE, NULL, 0UL), EFAULT);
    ut_check_errno("get_maxnode_past_page",
                   syscall(SYS_get_mempolicy, &mode, &got, 4096UL * 8 + 65, NULL, 0UL), EINVAL);

    char *p = map(4);
    touch(p, 1, 1);
    ut_check_errno("mbind_unaligned", mbind_(p + 1, PAGE, MPOL_BIND, &m0, 0), EINVAL);
    ut_check_errno("mbind_bad_flags", mbind_(p, PAGE, MPOL_BIND, &m0, 0x100), EINVAL);
    ut_check_errno("mbind_bad_mode", mbind_(p, PAGE, 42, &m0, 0), EINVAL);
    ut_check_errno("mbind_empty_mask", mbind_(p, PAGE, MPOL_BIND, &none, 0), EINVAL);
    ut_check_errno("mbind_unmapped", mbind_(hole, PAGE, MPOL_BIND, &m0, 0), EFAULT);
    munmap(p + 2 * PAGE, PAGE);   /* a hole in the middle */
    ut_check_errno("mbind_hole", mbind_(p, 4 * PAGE, MPOL_BIND, &m0, 0), EFAULT);
    ut_check(mbind_(p, 4 * PAGE, MPOL_DEFAULT, NULL, 0) == 0, "mbind_default_over_hole",
             "errno=%s", ut_errno_name(errno));
    ut_check(mbind_(p, 0, MPOL_BIND, &m0, 0) == 0, "mbind_len_0", "errno=%s",
             ut_errno_name(errno));
    /* start + len past the end of the address space: a 64-bit caller's
     * sum wraps (EINVAL); an i386 caller's is made in the kernel's 64
     * bits and runs into unmapped space (EFAULT), on Linux as here. */
    ut_check_errno("mbind_wraps", mbind_(p, (size_t)0 - 2 * PAGE, MPOL_BIND, &m0, 0),
                   sizeof(void *) == 8 ? EINVAL : EFAULT);
    ut_check_errno("mbind_mask_unreadable",
                   syscall(SYS_mbind, p, PAGE, MPOL_BIND, (void *)16, MAXNODE, 0), EFAULT);

    /* move_pages */
    void *pages[4] = { p, p + PAGE, hole, p + 3 * PAGE };
    int st[4] = { 9, 9, 9, 9 }, nd[4] = { 0, 0, 0, 0 };
    char z = *(volatile char *)(p + 3 * PAGE);   /* the zero page */
    (void)z;
    long r = syscall(SYS_move_pages, 0, 4, pages, NULL, st, 0);
    ut_check(r == 0 && st[0] >= 0 && st[1] == -ENOENT && st[2] == -EFAULT && st[3] == -EFAULT,
             "move_pages_status", "r=%ld status %d %d %d %d", r, st[0], st[1], st[2], st[3]);
    ut_check_errno("move_pages_no_pid", syscall(SYS_move_pages, 0x7ffffff0, 1, pages, NULL, st, 0),
                   ESRCH);
    ut_check_errno("move_pages_bad_flags", syscall(SYS_move_pages, 0, 1, pages, NULL, st, 8),
                   EINVAL);
    nd[0] = 7;
    ut_check_errno("move_pages_offline_node", syscall(SYS_move_pages, 0, 1, pages, nd, st, 0),
                   ENODEV);
    nd[0] = -1;
    ut_check_errno("move_pages_negative_node", syscall(SYS_move_pages, 0, 1, pages, nd, st, 0),
                   ENODEV);
    ut_check_errno("move_pages_status_unwritable",
                   syscall(SYS_move_pages, 0, 1, pages, NULL, (void *)16, 0), EFAULT);
    ut_check_errno("move_pages_pages_unreadable",
                   syscall(SYS_move_pages, 0, 1, (void *)16, NULL, st, 0), EFAULT);
    nd[0] = n0;
    r = syscall(SYS_move_pages, 0, 1, pages, nd, st, 0);
    ut_check(r == 0 && st[0] == n0, "move_pages_same_node", "r=%ld status %d", r, st[0]);

    /* migrate_pages */
    ut_check_errno("migrate_no_pid", syscall(SYS_migrate_pages, 0x7ffffff0, MAXNODE, &m0, &m0),
                   ESRCH);
    ut_check_errno("migrate_to_offline", syscall(SYS_migrate_pages, 0, MAXNODE, &m0, &m7),
                   EINVAL);
    ut_check_errno("migrate_unreadable", syscall(SYS_migrate_pages, 0, MAXNODE, &m0, (void *)16),
                   EFAULT);
    r = syscall(SYS_migrate_pages, 0, MAXNODE, &m0, &m0);
    ut_check(r == 0, "migrate_same_nodes", "r=%ld errno=%s", r, ut_errno_name(errno));
    munmap(p, 2 * PAGE);
    munmap(p + 3 * PAGE, PAGE);
    munmap(fence, 3 * PAGE);
}

/* Bad arguments by the thousand, in a child: every call must come back
 * (an error or a success), never kill the caller or the kernel.  The
 * pointers are NULL, small numbers, kernel and non-canonical addresses,
 * a PROT_NONE page, a read-only page and a scratch buffer; pid 0 only. */
static uint64_t lcg;
static uint64_t rnd(void)
{
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    return lcg >> 17;
}

static int fuzz_child(void *arg)
{
    (void)arg;
    char *none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *area = map(16);
    static unsigned long scratch[8192 / sizeof(long)];   /* a mask of a page fits */
    if (none == MAP_FAILED || ro == MAP_FAILED || !area)
        return 2;
    uintptr_t ptrs[] = { 0, 16, 4095, (uintptr_t)none, (uintptr_t)ro, (uintptr_t)scratch,
                         (uintptr_t)area, (uintptr_t)area + 4093, (uintptr_t)-4096,
                         sizeof(void *) == 8 ? (uintptr_t)0xffff800000000000ULL : 0xc0000000u,
                         sizeof(void *) == 8 ? (uintptr_t)0x8000000000000000ULL : 0xffffe000u };
    unsigned long sizes[] = { 0, 1, 2, 8, 63, 64, 65, 1025, 4096 * 8, 4096 * 8 + 1,
                              (unsigned long)-1 };
    lcg = 42;
    for (int i = 0; i < 3000; i++) {
        uintptr_t p1 = ptrs[rnd() % 11], p2 = ptrs[rnd() % 11], p3 = ptrs[rnd() % 11];
        unsigned long n = sizes[rnd() % 11], mode = rnd() % 8 | ((rnd() & 3) << 14);
        unsigned long len = rnd() % 3 ? (rnd() % 20) * PAGE : (unsigned long)rnd();
        if (rnd() % 2)
            for (int k = 0; k < 8; k++)
                scratch[k] = (unsigned long)rnd();
        switch (rnd() % 5) {
        case 0:
            syscall(SYS_set_mempolicy, mode, p1, n);
            break;
        case 1:
            syscall(SYS_get_mempolicy, p1, p2, n, p3, rnd() % 8);
            break;
        case 2:
            syscall(SYS_mbind, (uintptr_t)area + (rnd() % 20) * PAGE, len, mode, p1, n,
                    rnd() % 8);
            break;
        case 3:
            syscall(SYS_move_pages, 0, n % 64, p1, p2, p3, rnd() % 4 & 2);
            break;
        default:
            syscall(SYS_migrate_pages, 0, n, p1, p2);
            break;
        }
    }
    syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0);
    touch(area, 16, 1);
    return intact(area, 16, 1) ? 0 : 3;
}

static void test_bad_arguments(void)
{
    int st = ut_run_child(fuzz_child, NULL);
    char why[64];
    ut_check(ut_exited_with(st, 0), "random_bad_arguments_survive", "%s",
             ut_status_str(st, why, sizeof(why)));
}

/* ---- two nodes ----------------------------------------------------------------------------- */

#define TWO_NODES(name)                                                  \
    do {                                                                 \
        if (n1 < 0) {                                                    \
            ut_skip(name, "one usable node");                            \
            return;                                                      \
        }                                                                \
    } while (0)

static void test_bind(void)
{
    TWO_NODES("bind_puts_touched_pages_on_node");
    mask_t m = mask_of(n1, -1);
    long r = set_policy(MPOL_BIND, &m);
    char *p = map(16);
    touch(p, 8, 5);
    void *pages[16];
    int st[16];
    for (int i = 0; i < 16; i++)
        pages[i] = p + i * PAGE;
    long r2 = syscall(SYS_move_pages, 0, 16, pages, NULL, st, 0);
    set_policy(MPOL_DEFAULT, NULL);
    int good = r == 0 && r2 == 0;
    for (int i = 0; i < 16; i++)
        good &= st[i] == (i < 8 ? n1 : -ENOENT);
    int nid = -1;
    get_policy(&nid, NULL, p, MPOL_F_NODE | MPOL_F_ADDR);
    ut_check(good && nid == n1, "bind_puts_touched_pages_on_node",
             "status %d %d .. %d %d, node %d", st[0], st[7], st[8], st[15], nid);
    munmap(p, 16 * PAGE);
}

static void test_preferred(void)
{
    TWO_NODES("preferred_node_first");
    mask_t m = mask_of(n1, -1);
    long r = set_policy(MPOL_PREFERRED, &m);
    char *p = map(8);
    touch(p, 8, 2);
    set_policy(MPOL_DEFAULT, NULL);
    int on = 0;
    for (int i = 0; i < 8; i++)
        on += node_of(p + i * PAGE) == n1;
    ut_check(r == 0 && on == 8, "preferred_node_first", "%d of 8 on node %d", on, n1);
    munmap(p, 8 * PAGE);
}

static void test_interleave(void)
{
    TWO_NODES("interleave_vma_alternates");
    mask_t m = mask_of(n0, n1);
    char *p = map(16);
    long r = mbind_(p, 16 * PAGE, MPOL_INTERLEAVE, &m, 0);
    touch(p, 16, 9);
    int alt = r == 0, count[2] = { 0, 0 };
    for (int i = 0; i < 16; i++) {
        int a = node_of(p + i * PAGE), b = i < 15 ? node_of(p + (i + 1) * PAGE) : -1;
        count[a == n1]++;
        if ((a != n0 && a != n1) || (i < 15 && a == b))
            alt = 0;
    }
    ut_check(alt && count[0] == 8, "interleave_vma_alternates", "r=%ld, %d/%d", r, count[0],
             count[1]);
    munmap(p, 16 * PAGE);

    /* The task's interleave: round-robin, whatever the addresses. */
    r = set_policy(MPOL_INTERLEAVE, &m);
    p = map(16);
    touch(p, 16, 4);
    set_policy(MPOL_DEFAULT, NULL);
    count[0] = count[1] = 0;
    int other = 0;
    for (int i = 0; i < 16; i++) {
        int a = node_of(p + i * PAGE);
        if (a == n0 || a == n1)
            count[a == n1]++;
        else
            other++;
    }
    ut_check(r == 0 && !other && count[0] >= 6 && count[1] >= 6, "interleave_task_round_robin",
             "%d on %d, %d on %d, %d elsewhere", count[0], n0, count[1], n1, other);
    munmap(p, 16 * PAGE);
}

static void test_strict(void)
{
    TWO_NODES("mbind_strict_misplaced_eio");
    char *p = map(4);
    touch_on_n0(p, 4, 21);
    mask_t m = mask_of(n1, -1);
    int before = node_of(p);
    long r = mbind_(p, 4 * PAGE, MPOL_BIND, &m, MPOL_MF_STRICT);
    int e = errno;
    ut_check(before == n0 && r == -1 && e == EIO, "mbind_strict_misplaced_eio",
             "node %d r=%ld errno=%s", before, r, ut_errno_name(e));
    r = mbind_(p, 4 * PAGE, MPOL_BIND, &m, MPOL_MF_STRICT | MPOL_MF_MOVE);
    int on = 0;
    for (int i = 0; i < 4; i++)
        on += node_of(p + i * PAGE) == n1;
    ut_check(r == 0 && on == 4 && intact(p, 4, 21), "mbind_move_strict", "r=%ld %d of 4", r,
             on);
    munmap(p, 4 * PAGE);
}

static void test_move_pages(void)
{
    TWO_NODES("move_pages_moves");
    char *p = map(4);
    touch(p, 4, 33);
    void *pages[4];
    int nd[4], st[4];
    for (int i = 0; i < 4; i++) {
        pages[i] = p + i * PAGE;
        nd[i] = n1;
    }
    long r = syscall(SYS_move_pages, 0, 4, pages, nd, st, 0);
    int good = r == 0;
    for (int i = 0; i < 4; i++)
        good &= st[i] == n1 && node_of(pages[i]) == n1;
    ut_check(good && intact(p, 4, 33), "move_pages_moves", "r=%ld status %d %d %d %d", r, st[0],
             st[1], st[2], st[3]);
    /* A page shared with a child after fork: EACCES without MOVE_ALL. */
    pid_t c = ut_fork();
    if (c == 0) {
        pause();
        _exit(0);
    }
    nd[0] = n0;
    r = syscall(SYS_move_pages, 0, 1, pages, nd, st, 0);
    ut_check(r == 0 && st[0] == -EACCES, "move_pages_shared_eacces", "r=%ld status %d", r,
             st[0]);
    /* Another process's pages, by pid: the child's copy. */
    nd[1] = n0;
    r = syscall(SYS_move_pages, c, 1, pages + 1, nd + 1, st + 1, 2 /* MPOL_MF_MOVE */);
    kill(c, SIGKILL);
    ut_wait(c);
    ut_check(r == 0 && st[1] == -EACCES, "move_pages_other_pid", "r=%ld status %d", r, st[1]);
    for (int i = 0; i < 4; i++)
        nd[i] = n0;
    r = syscall(SYS_move_pages, 0, 4, pages, nd, st, 0);
    ut_check(r == 0 && st[0] == n0 && st[3] == n0 && intact(p, 4, 33), "move_pages_back",
             "r=%ld status %d %d", r, st[0], st[3]);
    munmap(p, 4 * PAGE);
}

static void test_migrate_pages(void)
{
    TWO_NODES("migrate_pages_moves_all");
    char *p = map(8);
    touch_on_n0(p, 8, 44);
    mask_t from = mask_of(n0, -1), to = mask_of(n1, -1);
    long r = syscall(SYS_migrate_pages, 0, MAXNODE, &from, &to);
    int on = 0;
    for (int i = 0; i < 8; i++)
        on += node_of(p + i * PAGE) == n1;
    ut_check(r >= 0 && on == 8 && intact(p, 8, 44), "migrate_pages_moves_all",
             "r=%ld, %d of 8 on %d", r, on, n1);
    r = syscall(SYS_migrate_pages, 0, MAXNODE, &to, &from);
    on = 0;
    for (int i = 0; i < 8; i++)
        on += node_of(p + i * PAGE) == n0;
    ut_check(r >= 0 && on == 8 && intact(p, 8, 44), "migrate_pages_back", "r=%ld, %d of 8", r,
             on);
    munmap(p, 8 * PAGE);
}

int main(void)
{
    ut_init();
    long free0 = ut_free_kb();
    find_nodes();
    test_roundtrips();
    test_errors();
    test_fork();
    test_numa_maps_split();
    test_bad_arguments();
    test_bind();
    test_preferred();
    test_interleave();
    test_strict();
    test_move_pages();
    test_migrate_pages();
    if (ut_on_mmk()) {
        long free1 = ut_free_kb();
        ut_note("free memory %ld kB -> %ld kB", free0, free1);
        ut_check(free1 >= free0 - 256, "memory_back", "%ld kB -> %ld kB", free0, free1);
    } else {
        ut_skip("memory_back", "the host's free memory moves by itself");
    }
    return ut_done();
}
