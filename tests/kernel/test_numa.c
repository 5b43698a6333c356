/*
 * In-kernel tests of the NUMA nodes (mm/numa.c, mm/page_alloc.c;
 * docs/numa.md): where alloc_pages_node and __alloc_pages put memory,
 * the fallback to the nearest node when a node is full, and the
 * counters (numa_hit, numa_miss, numa_foreign, local_node, other_node)
 * that say so.  On a machine with one node the cases that need two say
 * "skipped" and check what one node must do.
 */
#include <kernel/errno.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <mm/gfp.h>
#include <mm/numa.h>
#include <mm/zone.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>

/* Requests that neither wait (no reclaim, no compaction) nor warn: a full
 * node is a normal event here. */
#define NOWAIT (__GFP_ATOMIC | __GFP_NOWARN)

static uint64_t stat(int nid, enum numa_stat_item k)
{
    return node_numa_stat(nid, k);
}

/* Every node's free frames add up to the total, and its zones' frames
 * name it (page_to_nid); every zonelist starts on the node itself when
 * it has memory and never names a zone without frames. */
KTEST(numa_nodes_consistent)
{
    uint64_t free = 0, managed = 0;
    for (unsigned nid = 0; nid < nr_node_ids; nid++) {
        struct mem_node *n = node_data[nid];
        KT_ASSERT(n && n->nid == (int)nid, "node_data[%u]", nid);
        for (int t = 0; t < NR_ZONES; t++) {
            const struct zone *z = &n->zones[t];
            free += zone_free_frames(z);
            managed += z->managed;
            KT_ASSERT(zone_to_nid(z) == (int)nid && zone_idx(z) == (unsigned)t,
                      "zone %s of node %u has id %u", z->name, nid, z->id);
            if (z->end_pfn > z->start_pfn)
                KT_ASSERT(page_to_nid(pfn_to_page(z->start_pfn)) == (int)nid &&
                              page_zone(pfn_to_page(z->end_pfn - 1)) == z,
                          "frames of node %u zone %s name another zone", nid, z->name);
            struct zone *const *zl = n->zonelist[t];
            bool own = false;       /* has the node frames in zone t or below? */
            for (int i = 0; i <= t; i++)
                own |= n->zones[i].managed != 0;
            KT_ASSERT(!own || (zl[0] && zone_to_nid(zl[0]) == (int)nid),
                      "node %u's zonelist %d starts on node %d", nid, t,
                      zl[0] ? zone_to_nid(zl[0]) : -1);
            for (int k = 0; zl[k]; k++)
                KT_ASSERT(zl[k]->managed && zone_idx(zl[k]) <= (unsigned)t,
                          "node %u zonelist %d: %s of node %d", nid, t, zl[k]->name,
                          zone_to_nid(zl[k]));
        }
    }
    KT_ASSERT(free == nr_free_pages(), "nodes' free %lu, total %lu", free, nr_free_pages());
    KT_ASSERT(managed == totalram_pages(), "nodes' managed %lu, total %lu", managed,
              totalram_pages());
    KT_ASSERT(node_distance(0, 0) == 10, "distance 0-0 %d", node_distance(0, 0));
}

/* alloc_pages_node(nid) gives a frame of nid when nid has memory, of its
 * nearest node with memory otherwise, and counts a hit either way
 * (Linux: the first zone of the zonelist is the one preferred). */
KTEST(numa_alloc_on_node)
{
    uint64_t base = nr_free_pages();
    for (unsigned nid = 0; nid < nr_node_ids; nid++) {
        uint8_t order[MAX_NUMNODES];
        unsigned n = node_fallback((int)nid, order);
        KT_ASSERT(n > 0, "node %u has no fallback order", nid);
        uint64_t hit = stat(order[0], NUMA_HIT), miss = stat(order[0], NUMA_MISS);
        uint64_t local = stat(order[0], NUMA_LOCAL), other = stat(order[0], NUMA_OTHER);
        struct page *p = alloc_pages_node((int)nid, NOWAIT, 0);
        KT_ASSERT(p, "no frame for node %u", nid);
        int got = page_to_nid(p);
        __free_pages(p, 0);
        KT_ASSERT(got == order[0], "node %u: frame of node %d, expected %u", nid, got, order[0]);
        KT_ASSERT(stat(got, NUMA_HIT) == hit + 1 && stat(got, NUMA_MISS) == miss,
                  "node %d: numa_hit +%lu, numa_miss +%lu", got, stat(got, NUMA_HIT) - hit,
                  stat(got, NUMA_MISS) - miss);
        bool is_local = got == numa_node_id();
        KT_ASSERT(stat(got, NUMA_LOCAL) == local + is_local &&
                      stat(got, NUMA_OTHER) == other + !is_local,
                  "node %d: local +%lu other +%lu (CPU on node %d)", got,
                  stat(got, NUMA_LOCAL) - local, stat(got, NUMA_OTHER) - other, numa_node_id());
    }
    KT_ASSERT(nr_free_pages() == base, "free %lu, baseline %lu", nr_free_pages(), base);
}

/* A mask restricts the nodes; an empty one, or a node that does not
 * exist, gets NULL and nothing changes. */
KTEST(numa_mask_and_bad_node)
{
    uint64_t base = nr_free_pages();
    for (unsigned nid = 0; nid < nr_node_ids; nid++) {
        if (!node_has_memory((int)nid))
            continue;
        nodemask_t only = { 1ul << nid };
        /* Preferring another node still ends on the mask's only node. */
        int pref = (int)((nid + 1) % nr_node_ids);
        struct page *p = __alloc_pages(NOWAIT, 2, pref, &only);
        KT_ASSERT(p && page_to_nid(p) == (int)nid, "mask {%u}: %s node %d", nid,
                  p ? "frame of" : "no frame,", p ? page_to_nid(p) : -1);
        __free_pages(p, 2);
    }
    nodemask_t none = { 0 };
    KT_ASSERT(__alloc_pages(NOWAIT, 0, 0, &none) == NULL, "empty mask gave a frame");
    KT_ASSERT(alloc_pages_node((int)nr_node_ids, NOWAIT, 0) == NULL, "node %u exists?",
              nr_node_ids);
    KT_ASSERT(nr_free_pages() == base, "free %lu, baseline %lu", nr_free_pages(), base);
}

/*
 * Fill the smallest node with memory with the largest blocks: once it has
 * none left, the next block comes from the nearest other node (its
 * fallback order), counted as numa_miss there and numa_foreign on the
 * full node.  Everything is given back.
 */
KTEST(numa_fallback_nearest)
{
    int full = -1;
    uint64_t least = UINT64_MAX;
    for (unsigned nid = 0; nid < nr_node_ids; nid++) {
        uint64_t m = 0;
        for (int t = 0; t < NR_ZONES; t++)
            m += node_data[nid]->zones[t].managed;
        if (m && m < least)
            least = m, full = (int)nid;
    }
    uint8_t order[MAX_NUMNODES];
    unsigned n = full >= 0 ? node_fallback(full, order) : 0;
    if (n < 2) {
        printk("numa_fallback_nearest: skipped (one node with memory)\n");
        return;
    }
    uint64_t base = nr_free_pages();
    uint64_t miss = stat(order[1], NUMA_MISS), foreign = stat(full, NUMA_FOREIGN);
    struct page *head = NULL, *other = NULL;
    unsigned taken = 0;
    for (;;) {
        struct page *p = alloc_pages_node(full, NOWAIT, MAX_ORDER);
        if (!p)
            break;
        if (page_to_nid(p) != full) {
            other = p;
            break;
        }
        p->mapping = (uint64_t)head;   /* a list through the blocks we hold */
        head = p;
        taken++;
    }
    int got = other ? page_to_nid(other) : -1;
    uint64_t dmiss = stat(order[1], NUMA_MISS) - miss, dforeign = stat(full, NUMA_FOREIGN) - foreign;
    if (other)
        __free_pages(other, MAX_ORDER);
    while (head) {
        struct page *next = (struct page *)head->mapping;
        head->mapping = 0;
        __free_pages(head, MAX_ORDER);
        head = next;
    }
    printk("numa_fallback_nearest: node %d gave %u blocks of 4 MiB, then node %d\n", full,
           taken, got);
    KT_ASSERT(got == order[1], "after node %d: a block of node %d, nearest is %u", full, got,
              order[1]);
    KT_ASSERT(dmiss == 1 && dforeign == 1, "numa_miss +%lu on node %u, numa_foreign +%lu on "
              "node %d", dmiss, order[1], dforeign, full);
    KT_ASSERT(nr_free_pages() == base, "free %lu, baseline %lu", nr_free_pages(), base);
}

/* ---- each CPU on its node ---------------------------------------------------------- */

struct cpu_alloc {
    int node;        /* numa_node_id() on that CPU */
    int page_node;   /* the node of the frame alloc_pages gave it */
};

/* On the CPU asked (a call: interrupts off, so no waiting allocation). */
static void alloc_here(void *arg)
{
    struct cpu_alloc *r = arg;
    r->node = numa_node_id();
    struct page *p = alloc_pages(NOWAIT, 0);
    r->page_node = p ? page_to_nid(p) : -1;
    if (p)
        __free_pages(p, 0);
}

/* Every online CPU allocates on its own node (Linux's cpu_to_node, from
 * the SRAT): numa_node_id() there is cpu_to_node of that CPU, and a frame
 * asked with no node comes from the nearest node with memory, the first
 * of that node's fallback order. */
KTEST(numa_cpu_local_node)
{
    unsigned cpus = 0, away = 0;
    for (unsigned c = 0; c < nr_cpus_possible && c < NR_CPUS; c++) {
        if (!cpu_info[c].online)
            continue;
        struct cpu_alloc r = { -1, -1 };
        if (c == smp_processor_id())
            alloc_here(&r);
        else
            KT_ASSERT(smp_call_on(c, alloc_here, &r) == 0, "CPU %u did not answer", c);
        uint8_t order[MAX_NUMNODES];
        unsigned n = node_fallback(r.node, order);
        printk("numa_cpu_local_node: CPU %u (APIC id %#x): node %d, a frame from node %d\n", c,
               cpu_info[c].apic_id, r.node, r.page_node);
        KT_ASSERT(r.node == cpu_to_node(c), "CPU %u says node %d, cpu_to_node %d", c, r.node,
                  cpu_to_node(c));
        KT_ASSERT(r.node >= 0 && (unsigned)r.node < nr_node_ids, "CPU %u on node %d", c, r.node);
        KT_ASSERT(n > 0 && r.page_node == order[0],
                  "CPU %u on node %d got a frame of node %d, not of node %d (nearest with memory)",
                  c, r.node, r.page_node, n ? order[0] : -1);
        cpus++;
        away += r.node != cpu_to_node(0);
    }
    printk("numa_cpu_local_node: %u CPU(s), %u on another node than the boot CPU's\n", cpus, away);
    KT_ASSERT(cpus == nr_cpus_online, "%u CPUs answered, %u online", cpus, nr_cpus_online);
}
