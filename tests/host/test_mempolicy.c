/*
 * Host tests of NUMA memory policies (mm/mempolicy.c; docs/mempolicy.md)
 * over the fake physical memory of tests/host/mm_host.c (one node: node
 * 1 and above are offline here, as on a machine without NUMA).
 *
 * The objects: mpol_new's checks (the host's Linux gives the same errno
 * to set_mempolicy: tests/user/test_mempolicy.c), the mode flags, the
 * text of numa_maps, interleave's choice of node.  The VMAs: a policy
 * given to part of a mapping splits it, neighbours with equal policies
 * merge back, a fork's VMAs share the policy (one reference each),
 * munmap and exit give every reference back; pages faulted into an
 * interleaved VMA count interleave_hit.  Each case ends with the frames
 * and slab objects it started with.
 */
#include <stdlib.h>

#include "htest.h"
#include "mm_host.h"
#include <kernel/errno.h>
#include <mm/gfp.h>
#include <mm/mempolicy.h>
#include <mm/slab.h>
#include <mm/vma.h>
#include <mm/zone.h>

#define MiB (1ul << 20)
#define FR 4096ul
#define RW (PROT_READ | PROT_WRITE)

static const struct host_ram ram[] = { { 1 * MiB, 31 * MiB } };
static struct mm mm_a, mm_b;
static uint64_t base_frames, base_live;

static uint64_t frames_now(void)
{
    return nr_free_pages() + slab_pages_held() + kmalloc_large_pages();
}

static void setup(void)
{
    mm_host_init_no_watermarks(32 * MiB / FR, ram, HT_COUNT(ram));
    kmem_cache_init();
    mm_tlb_flush = NULL;
    HT_ASSERT(mm_zero_page_init() == 0, "no zero page");
    base_frames = frames_now();
    base_live = slab_live_objects();
}

static void teardown(void)
{
    HT_EQ_U(slab_live_objects(), base_live);
    HT_EQ_U(frames_now(), base_frames);
    HT_ASSERT(mm_host_node.errors == 0, "allocator errors: %s", mm_host_last_report());
}

static nodemask_t mask(uint64_t bits)
{
    nodemask_t m = { bits };
    return m;
}

static void check_mm(struct mm *mm)
{
    char why[256];
    HT_ASSERT(mm_check_consistency(mm, why, sizeof(why)) == 0, "%s", why);
}

/* How many VMAs of mm overlap [start, end), and the policy of the one
 * holding addr. */
static unsigned vmas_in(struct mm *mm, uint64_t start, uint64_t end)
{
    unsigned n = 0;
    for (struct vma *v = mm->vmas; v; v = v->next)
        n += v->start < end && v->end > start;
    return n;
}

static void t_new_checks(void)
{
    HT_TRY(setup());
    struct mempolicy *p = (struct mempolicy *)1;
    HT_EQ_U(mpol_new(MPOL_DEFAULT, 0, mask(0), &p), 0);
    HT_ASSERT(p == NULL, "MPOL_DEFAULT is no policy");
    HT_EQ_U(mpol_new(MPOL_DEFAULT, 0, mask(1), &p), -EINVAL);
    HT_EQ_U(mpol_new(MPOL_BIND, 0, mask(0), &p), -EINVAL);
    HT_EQ_U(mpol_new(MPOL_INTERLEAVE, 0, mask(0), &p), -EINVAL);
    HT_EQ_U(mpol_new(MPOL_BIND, 0, mask(2), &p), -EINVAL);          /* node 1 offline */
    HT_EQ_U(mpol_new(MPOL_LOCAL, 0, mask(1), &p), -EINVAL);
    HT_EQ_U(mpol_new(MPOL_LOCAL, MPOL_F_STATIC_NODES, mask(0), &p), -EINVAL);
    HT_EQ_U(mpol_new(MPOL_PREFERRED, MPOL_F_RELATIVE_NODES, mask(0), &p), -EINVAL);
    /* An empty preferred mask is local allocation. */
    HT_EQ_U(mpol_new(MPOL_PREFERRED, 0, mask(0), &p), 0);
    HT_EQ_U(p->mode, MPOL_LOCAL);
    mpol_put(p);
    /* Offline nodes are cut away; what the user gave is kept. */
    HT_EQ_U(mpol_new(MPOL_BIND, MPOL_F_STATIC_NODES, mask(0x83), &p), 0);
    HT_EQ_U(p->nodes.bits, 1);
    HT_EQ_U(p->user_nodes.bits, 0x83);
    mpol_put(p);
    /* RELATIVE: bit i is the i-th node with memory, modulo their count. */
    HT_EQ_U(mpol_new(MPOL_INTERLEAVE, MPOL_F_RELATIVE_NODES, mask(0x4), &p), 0);
    HT_EQ_U(p->nodes.bits, 1);
    mpol_put(p);
    HT_TRY(teardown());
}

static void t_sanitize(void)
{
    HT_TRY(setup());
    unsigned flags;
    int mode = MPOL_BIND | MPOL_F_STATIC_NODES;
    HT_EQ_U(mpol_sanitize(&mode, &flags), 0);
    HT_EQ_U(mode, MPOL_BIND);
    HT_EQ_U(flags, MPOL_F_STATIC_NODES);
    mode = MPOL_PREFERRED_MANY;
    HT_EQ_U(mpol_sanitize(&mode, &flags), -EINVAL);
    mode = -1;
    HT_EQ_U(mpol_sanitize(&mode, &flags), -EINVAL);
    mode = MPOL_BIND | MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES;
    HT_EQ_U(mpol_sanitize(&mode, &flags), -EINVAL);
    mode = MPOL_INTERLEAVE | MPOL_F_NUMA_BALANCING;
    HT_EQ_U(mpol_sanitize(&mode, &flags), -EINVAL);
    mode = MPOL_BIND | MPOL_F_NUMA_BALANCING;   /* accepted, and nothing to balance */
    HT_EQ_U(mpol_sanitize(&mode, &flags), 0);
    HT_EQ_U(flags, 0);
    HT_TRY(teardown());
}

static void t_text(void)
{
    HT_TRY(setup());
    char buf[64];
    HT_EQ_U(mpol_to_str(buf, sizeof(buf), NULL), 7);
    HT_EQ_STR(buf, "default");
    struct mempolicy p = { .refs = 1, .mode = MPOL_BIND, .nodes = { 0x1d } };
    mpol_to_str(buf, sizeof(buf), &p);
    HT_EQ_STR(buf, "bind:0,2-4");
    p.mode = MPOL_INTERLEAVE;
    p.flags = MPOL_F_STATIC_NODES;
    p.nodes.bits = 0x3;
    mpol_to_str(buf, sizeof(buf), &p);
    HT_EQ_STR(buf, "interleave=static:0-1");
    p.mode = MPOL_PREFERRED;
    p.flags = MPOL_F_RELATIVE_NODES;
    p.nodes.bits = 0x80;
    mpol_to_str(buf, sizeof(buf), &p);
    HT_EQ_STR(buf, "prefer=relative:7");
    p.mode = MPOL_LOCAL;
    p.flags = 0;
    p.nodes.bits = 0;
    mpol_to_str(buf, sizeof(buf), &p);
    HT_EQ_STR(buf, "local");
    /* Cut to fit, the length of the whole text returned. */
    p.mode = MPOL_BIND;
    p.nodes.bits = 0x55;
    HT_EQ_U(mpol_to_str(buf, 6, &p), 12);   /* "bind:0,2,4,6" */
    HT_EQ_STR(buf, "bind:");
    HT_EQ_U(nodelist_str(buf, sizeof(buf), mask(0)), 0);
    HT_EQ_STR(buf, "");
    HT_TRY(teardown());
}

static void t_interleave_nid(void)
{
    HT_TRY(setup());
    struct mempolicy p = { .refs = 1, .mode = MPOL_INTERLEAVE, .nodes = { 0xd } };   /* 0,2,3 */
    static const int want[] = { 0, 2, 3, 0, 2, 3 };
    for (unsigned i = 0; i < HT_COUNT(want); i++)
        HT_EQ_U(interleave_nid(&p, 300 + i), want[(300 + i) % 3]);
    HT_EQ_U(interleave_nid(&p, 0), 0);
    HT_TRY(teardown());
}

/* A policy on the middle of a mapping: three VMAs; the same policy on
 * the rest: one again; a fork shares it; unmapping and exit free it. */
static void t_vma_split_merge_fork(void)
{
    HT_TRY(setup());
    HT_EQ_U(mm_init_user(&mm_a, MM_VA_END_64, GFP_KERNEL), 0);
    uint64_t b = 0x400000, out;
    HT_EQ_U(mm_mmap(&mm_a, b, 8 * FR, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, &out),
            0);
    struct mempolicy *p;
    HT_EQ_U(mpol_new(MPOL_BIND, 0, mask(1), &p), 0);
    HT_EQ_U(mpol_range_check(&mm_a, b + 2 * FR, b + 4 * FR, false), 0);
    HT_EQ_U(mpol_set_range(&mm_a, b + 2 * FR, b + 4 * FR, p), 0);
    HT_EQ_U(p->refs, 2);                   /* ours and the middle VMA's */
    HT_EQ_U(vmas_in(&mm_a, b, b + 8 * FR), 3);
    HT_ASSERT(vma_lookup(&mm_a, b + 3 * FR)->policy == p, "the middle VMA has it");
    HT_ASSERT(vma_lookup(&mm_a, b)->policy == NULL, "the head has none");
    HT_TRY(check_mm(&mm_a));
    /* An equal policy (another object) on the tail: no merge with the
     * head, a merge with the middle. */
    struct mempolicy *q;
    HT_EQ_U(mpol_new(MPOL_BIND, 0, mask(1), &q), 0);
    HT_EQ_U(mpol_set_range(&mm_a, b + 4 * FR, b + 8 * FR, q), 0);
    HT_EQ_U(vmas_in(&mm_a, b, b + 8 * FR), 2);
    mpol_put(q);
    /* mprotect splits share the policy. */
    HT_EQ_U(mm_mprotect(&mm_a, b + 5 * FR, FR, PROT_READ), 0);
    HT_EQ_U(vmas_in(&mm_a, b, b + 8 * FR), 4);
    HT_ASSERT(mpol_equal(vma_lookup(&mm_a, b + 5 * FR)->policy, p), "split keeps the policy");
    /* Fork: the child's VMAs hold the same policies. */
    HT_EQ_U(mm_fork(&mm_b, &mm_a, false), 0);
    HT_ASSERT(vma_lookup(&mm_b, b + 3 * FR)->policy == vma_lookup(&mm_a, b + 3 * FR)->policy,
              "the child shares the policy");
    HT_TRY(check_mm(&mm_b));
    mm_destroy(&mm_b);
    /* Back to no policy: one VMA once the protections agree. */
    HT_EQ_U(mm_mprotect(&mm_a, b + 5 * FR, FR, RW), 0);
    HT_EQ_U(mpol_set_range(&mm_a, b, b + 8 * FR, NULL), 0);
    HT_EQ_U(vmas_in(&mm_a, b, b + 8 * FR), 1);
    HT_EQ_U(p->refs, 1);                   /* ours alone again */
    mpol_put(p);
    /* Holes: -EFAULT unless holes are fine; nothing at all: -EFAULT. */
    HT_EQ_U(mm_munmap(&mm_a, b + 3 * FR, FR), 0);
    HT_EQ_U(mpol_range_check(&mm_a, b, b + 8 * FR, false), -EFAULT);
    HT_EQ_U(mpol_range_check(&mm_a, b, b + 8 * FR, true), 0);
    HT_EQ_U(mpol_range_check(&mm_a, b + 3 * FR, b + 4 * FR, true), -EFAULT);
    HT_EQ_U(mpol_range_check(&mm_a, b - FR, b + FR, false), -EFAULT);
    HT_TRY(check_mm(&mm_a));
    mm_destroy(&mm_a);
    HT_TRY(teardown());
}

/* Pages faulted into an interleaved VMA land on its node (the only one
 * here) and count interleave_hit; a BIND VMA's pages stay in its mask. */
static void t_alloc_follows_policy(void)
{
    HT_TRY(setup());
    HT_EQ_U(mm_init_user(&mm_a, MM_VA_END_64, GFP_KERNEL), 0);
    uint64_t b = 0x400000, out;
    HT_EQ_U(mm_mmap(&mm_a, b, 8 * FR, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, &out),
            0);
    struct mempolicy *p;
    HT_EQ_U(mpol_new(MPOL_INTERLEAVE, 0, mask(1), &p), 0);
    HT_EQ_U(mpol_set_range(&mm_a, b, b + 4 * FR, p), 0);
    mpol_put(p);
    uint64_t hits = 0;
    for (int z = 0; z < NR_ZONES; z++)
        hits += node0->zones[z].numa_stat[NUMA_INTERLEAVE_HIT];
    for (int i = 0; i < 8; i++)
        HT_EQ_U(mm_fault(&mm_a, b + (uint64_t)i * FR, FAULT_WRITE | FAULT_USER), 0);
    uint64_t now = 0;
    for (int z = 0; z < NR_ZONES; z++)
        now += node0->zones[z].numa_stat[NUMA_INTERLEAVE_HIT];
    HT_EQ_U(now - hits, 4);                /* the interleaved half only */
    struct page *pg = alloc_pages_vma(GFP_KERNEL, 0, vma_lookup(&mm_a, b), b);
    HT_ASSERT(pg && page_to_nid(pg) == 0, "a page of node 0");
    __free_pages(pg, 0);
    HT_TRY(check_mm(&mm_a));
    mm_destroy(&mm_a);
    HT_TRY(teardown());
}

static const struct htest cases[] = {
    HT_CASE(new_checks),
    HT_CASE(sanitize),
    HT_CASE(text),
    HT_CASE(interleave_nid),
    HT_CASE(vma_split_merge_fork),
    HT_CASE(alloc_follows_policy),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
