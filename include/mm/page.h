/*
 * Frame descriptors (struct page) and the node that owns the zones.
 *
 * One 32-byte struct page per 4 KiB physical frame, in one flat array
 * indexed by frame number (pfn = physical address >> 12), allocated from
 * the memory map at boot.  Linux spends 64 bytes per frame.  The first 16
 * bytes are what the buddy allocator and reference counting need; the
 * other 16 are the reverse map's (Linux's page->mapping and page->index):
 * which object owns an allocated page and where in it the page lies, so
 * that every pte mapping the page can be found from the frame alone
 * (mm/rmap.c; docs/rmap.md weighs the cost: 0.4 % of RAM more).  Free-list
 * links are frame numbers (32 bits: up to 16 TiB of RAM), not pointers.
 */
#ifndef MM_PAGE_H
#define MM_PAGE_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <kernel/spinlock.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ul << PAGE_SHIFT)
#define MAX_ORDER 10                 /* blocks of 2^0 .. 2^10 frames (4 MiB) */
#define PFN_NIL 0xffffffffu          /* end of a free list */

/* Page flags */
#define PG_RESERVED 0x01  /* not managed: hole, firmware, kernel, mem_map */
#define PG_BUDDY    0x02  /* head of a free block on free list `order` */
#define PG_PCP      0x04  /* head of a free block in the per-CPU cache */
#define PG_ANON     0x08  /* an anonymous user page: mapping is its anon_vma (mm/rmap.c) */
#define PG_CONTIG   0x10  /* allocated by alloc_contig (freed frame by frame) */
#define PG_SLAB     0x20  /* head of a slab or of a large kmalloc block (mm/slab_impl.h) */
#define PG_FILE     0x40  /* a page-cache page (include/mm/filemap.h) */
#define PG_PGTABLE  0x80  /* a page-table page (mm/pgtable.c) */

/*
 * Second flag byte (page.flags2), also the owner's while the block is
 * allocated and cleared when it is freed.
 */
#define PG2_MOVABLE 0x01  /* allocated with __GFP_MOVABLE */
#define PG2_VMALLOC 0x02  /* a vmalloc page: mapping is its vm area, index its address */
#define PG2_SWAPCACHE 0x04 /* an anonymous page in the swap cache: next holds its swap
                            * entry, prev links its hash chain (mm/swap_state.c) */
#define PG2_REFERENCED 0x08 /* a page-cache page read or written since reclaim's clock
                             * last passed (Linux's PG_referenced; kernel/fs/tmpfs_swap.c) */
#define PG2_READAHEAD 0x10 /* in the swap cache, read ahead and not used yet
                            * (mm/swap_readahead.c) */
#define PG2_LOCKED 0x20    /* in the swap cache, its read still in flight: the contents
                            * are not there yet (mm/swap_readahead.c; Linux's PG_locked) */
#define PG2_RA_MARK 0x40   /* the first page of a window read ahead without waiting: the
                            * fault that uses it sends the next (Linux's PG_readahead) */

/*
 * Only the head (first frame) of a block is marked.  Frames 1 .. 2^order-1
 * of a block, free or allocated, carry no PG_* bit and refcount 0: the
 * head's order says how far the block reaches, so allocating or freeing a
 * block of 2^k frames writes one descriptor, not 2^k, and the buddy merge
 * looks only at the buddy's head.  A frame with refcount 0 is therefore
 * never a valid head for freeing or a reference (an O(1) check); which
 * block it lies in (a tail of an allocated block, or a free frame) is
 * found by looking for a head at each aligned position below it, which
 * only error reports and buddy_check need.  Linux does the same for
 * blocks without __GFP_COMP and keeps a compound block's order in its
 * first tail; here the head's own order field holds it.
 */
struct page {
    /* Free-list links (pfns), PFN_NIL at the ends.  On an allocated block
     * they belong to its owner: the slab allocator keeps its descriptor's
     * address in a PG_SLAB head and the head's pfn in each tail's next;
     * the page cache keeps a PG_FILE page's map count in prev. */
    uint32_t next, prev;
    uint32_t refcount;     /* 0 when free; > 0 on the head of an allocated block */
    uint8_t flags;         /* PG_* */
    uint8_t order;         /* block order, on a block's head (free, cached, allocated) */
    uint8_t zone;          /* zone id: node * NR_ZONES + enum zone_type (page_zone) */
    uint8_t flags2;        /* PG2_* */
    /*
     * The reverse map (mm/rmap.c), on an allocated page only, 0 otherwise:
     * the object the page belongs to and its index there.  An anonymous
     * page (PG_ANON): an anon_vma handle and the page's linear index in
     * its VMAs (vma->pgoff based); a page-cache page (PG_FILE): its
     * struct vm_mapping and its index in the file; a vmalloc page
     * (PG2_VMALLOC): its area and its kernel address.  Freeing a page
     * clears both.
     */
    uint64_t mapping;
    uint64_t index;
};
_Static_assert(sizeof(struct page) == 32, "struct page is 32 bytes (see above)");

enum zone_type { ZONE_DMA = 0, ZONE_DMA32 = 1, ZONE_NORMAL = 2, NR_ZONES = 3 };

#define ZONE_DMA_END   (16ul << 20)  /* ISA DMA reaches 16 MiB */
#define ZONE_DMA32_END (4ul << 30)   /* 32-bit devices reach 4 GiB */

struct free_area {
    uint32_t head;         /* first block's head pfn, or PFN_NIL */
    uint64_t nr_free;      /* blocks on this list */
};

/*
 * The per-CPU cache in front of a zone: free blocks of the small orders
 * 0..PCP_MAX_ORDER kept off the buddy lists, a stack per order (Linux has
 * kept orders up to PAGE_ALLOC_COSTLY_ORDER, 3, on its per-CPU lists since
 * 5.14).  count and high are in frames.  Each of the first PCP_CPUS CPUs
 * has its own, which only that CPU touches, with interrupts off (the
 * kernel runs with them off), so the cache needs no lock: that is what
 * makes the order-0 pair fast on every CPU at once.  CPUs past PCP_CPUS
 * go to the buddy lists under the zone's lock.
 */
#define PCP_MAX_ORDER 3
#define PCP_CPUS 8

/* The CPU the memory code runs on: smp_processor_id (%gs, per-CPU data:
 * include/kernel/percpu.h); in the host tests and benchmarks, whichever
 * CPU a test pretends to be (mm_host_cpu, 0 unless a test sets it). */
#ifdef HOST_TEST
extern unsigned mm_host_cpu;
static inline unsigned mm_cpu(void)
{
    return mm_host_cpu;
}
/* The CPU that may reclaim, compact and drain the others: CPU 0 in the
 * host tests. */
static inline bool mm_reclaim_cpu(void)
{
    return mm_host_cpu == 0;
}
#else
#include <kernel/percpu.h>
static inline unsigned mm_cpu(void)
{
    return smp_processor_id();
}
/* The CPU that may reclaim, compact and drain the others: the one that
 * holds the kernel lock (include/kernel/kernel_lock.h). */
bool kernel_locked(void);
static inline bool mm_reclaim_cpu(void)
{
    return kernel_locked();
}
#endif
struct per_cpu_pages {
    uint32_t lists[PCP_MAX_ORDER + 1]; /* heads, linked through page.next */
    uint32_t count, high, batch;
    /* Fast-path allocations on the CPU's own node: each is a numa_hit and
     * a numa_local of the zone (zone_numa_stat adds it); kept here, on
     * the cache line the fast path writes anyway. */
    uint64_t local_hits;
} __attribute__((aligned(64)));   /* a cache line each: no line bounces between CPUs */

struct mem_node;

/*
 * NUMA statistics, per zone, as Linux keeps them (mm/page_alloc.c counts
 * them; the node's are the sums of its zones').  For an allocation that
 * asked for node P and got a frame of node N while running on node L:
 * P == N counts numa_hit on N's zone, otherwise numa_miss there and
 * numa_foreign on P's; local_node (N == L) or other_node on N's zone;
 * interleave_hit when an interleave policy got the node it chose.
 */
enum numa_stat_item {
    NUMA_HIT, NUMA_MISS, NUMA_FOREIGN, NUMA_INTERLEAVE_HIT, NUMA_LOCAL, NUMA_OTHER,
    NR_NUMA_STAT
};

/* Nodes we can describe (include/mm/numa.h has the firmware's side). */
#define MAX_NUMNODES 8

/*
 * A zone: one buddy allocator over [start_pfn, end_pfn).  `node` is the
 * node it belongs to: code that has a zone reaches the frame descriptors
 * (node->mem_map), the hooks and the errors counter through it.
 */
struct zone {
    const char *name;
    struct mem_node *node;            /* set by node_init, never changes */
    uint64_t start_pfn, end_pfn;      /* span: [start, end) */
    uint64_t present;                 /* RAM frames in the span (managed or not) */
    uint64_t managed;                 /* frames handed to the allocator */
    uint64_t free;                    /* frames on the free lists (pcp excluded) */
    uint64_t wmark_min, wmark_low, wmark_high;
    struct free_area area[MAX_ORDER + 1];
    /* The buddy lists' and `free`'s lock (mm/page_alloc.c): the per-CPU
     * caches' refills and drains, and blocks too large for them, take it.
     * Innermost of all (docs/smp.md): nothing allocates while holding it. */
    spinlock_t lock;
    struct per_cpu_pages pcp[PCP_CPUS];   /* pcp[i]: CPU i's cache */
    uint64_t alloc_fail;              /* requests refused (statistics) */
    uint8_t id;                       /* node * NR_ZONES + type: page.zone of its frames */
    /* Linux's NUMA counters (/proc/zoneinfo, /proc/vmstat), per zone:
     * see enum numa_stat_item; read them with zone_numa_stat.  The fast
     * path of a local allocation counts one number, its CPU's
     * pcp[cpu].local_hits,
     * which is both a numa_hit and a numa_local (one increment, not two,
     * and on the per-CPU cache's line: the order-0 pair is a handful of
     * nanoseconds). */
    uint64_t numa_stat[NR_NUMA_STAT];
};

/*
 * A memory node (Linux's pg_data_t): its zones, their per-CPU caches and
 * watermarks, and its place among the other nodes (the SOS article on
 * Linux's physical memory).  One mem_map covers the whole machine: every
 * node points to it, with the same max_pfn, direct map and hooks (node0's
 * are the ones used); a frame's node and zone are in its descriptor
 * (page.zone, page_zone()).  Hooks let host tests run the allocator over
 * a private arena.
 */
struct mem_node {
    struct page *mem_map;             /* indexed by pfn, max_pfn entries */
    uint64_t max_pfn;
    struct zone zones[NR_ZONES];
    /* preferred[t]: the zone a request whose flags name zone t tries
     * first, the highest zone at or below t with managed frames (zone t
     * itself when none has any): an order-0 request goes straight to its
     * per-CPU cache, with no walk over empty zones.  Kept by
     * node_build_zonelist (mm/zone.c). */
    struct zone *preferred[NR_ZONES];
    /* zonelist[t]: every zone a request naming zone t may use, in the
     * order they are tried, NULL-terminated: this node's zones from t
     * down, then the next nearest node's, and so on (Linux's
     * build_zonelists, node order).  Kept by node_build_zonelist. */
    struct zone *zonelist[NR_ZONES][MAX_NUMNODES * NR_ZONES + 1];
    int nid;                          /* node number: node_data[nid] == this */
    uint64_t start_pfn, end_pfn;      /* span of the node's zones */
    void *(*phys_to_virt)(uint64_t pa);
    /* phys_to_virt(0), set by node_init: the map must be linear
     * (phys_to_virt(pa) == direct_map + pa), so page_address and
     * virt_to_page are one addition, with no call. */
    uint8_t *direct_map;
    void (*report)(const char *msg);  /* errors and warnings, one line */
    /* Memory pressure: called once by a request about to fail, before the
     * retry; returns the frames it freed (the slab shrinker), or NULL. */
    uint64_t (*shrink)(void);
    /* Zone `zone`, the first an allocation may use, fell below its low
     * watermark: wake the thread that reclaims in the background
     * (kswapd, mm/kswapd.c), or NULL.  node0's is the one called. */
    void (*wake_kswapd)(struct zone *zone);
    uint64_t errors;                  /* callers' errors reported (kernel/errno.h) */
};

/* Report an error or warning through node0's hook (one line).  A caller's
 * error is reported once and counted in node->errors. */
void node_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Node 0: the mem_map, max_pfn and hooks the API below works with (set
 * by mem_init / host tests). */
extern struct mem_node *node0;
/* Every zone by its id (page.zone): zone_table[nid * NR_ZONES + type]. */
extern struct zone *zone_table[MAX_NUMNODES * NR_ZONES];
/* The nodes, node_data[0] == node0: nr_node_ids of them, 1 without NUMA
 * (include/mm/numa.h). */
extern struct mem_node *node_data[MAX_NUMNODES];
extern unsigned nr_node_ids;

/* The zone and node of a frame, from its descriptor (Linux keeps them in
 * page->flags). */
static inline struct zone *page_zone(const struct page *p)
{
    return zone_table[p->zone];
}
static inline int page_to_nid(const struct page *p)
{
    return p->zone / NR_ZONES;
}
/* A NUMA counter of zone z (enum numa_stat_item). */
static inline uint64_t zone_numa_stat(const struct zone *z, enum numa_stat_item k)
{
    uint64_t n = __atomic_load_n(&z->numa_stat[k], __ATOMIC_RELAXED);
    for (unsigned c = 0; c < PCP_CPUS && (k == NUMA_HIT || k == NUMA_LOCAL); c++)
        n += z->pcp[c].local_hits;
    return n;
}
/* CPUs whose caches /proc/zoneinfo lists (1 until the others start:
 * kernel/cpu/smpboot.c sets it; mm/page_alloc.c). */
extern unsigned pcp_nr_cpus;
/* Frames in the zone's per-CPU caches, every CPU's. */
static inline uint64_t zone_cached(const struct zone *z)
{
    uint64_t n = 0;
    for (unsigned c = 0; c < PCP_CPUS; c++)
        n += z->pcp[c].count;
    return n;
}
/* Free frames of the zone: on its buddy lists and in the caches. */
static inline uint64_t zone_free_frames(const struct zone *z)
{
    return z->free + zone_cached(z);
}
/* A zone's type (ZONE_DMA...) and node. */
static inline unsigned zone_idx(const struct zone *z)
{
    return z->id % NR_ZONES;
}
static inline int zone_to_nid(const struct zone *z)
{
    return z->id / NR_ZONES;
}
/* The zone after z, node by node then by type; NULL after the last. */
static inline struct zone *next_zone(const struct zone *z)
{
    unsigned id = z->id + 1u;
    return id < nr_node_ids * NR_ZONES ? &node_data[id / NR_ZONES]->zones[id % NR_ZONES] : NULL;
}
/* Every zone of every node (empty ones too). */
#define for_each_zone(z) for (struct zone *z = node_data[0]->zones; z; z = next_zone(z))
/* The zone of type t holding frames, of the first node that has one
 * (DMA and DMA32 are in one node), or node 0's (empty) one. */
static inline struct zone *zone_of_type(unsigned t)
{
    for (unsigned nid = 0; nid < nr_node_ids; nid++)
        if (node_data[nid]->zones[t].managed)
            return &node_data[nid]->zones[t];
    return &node_data[0]->zones[t];
}

static inline struct page *pfn_to_page(uint64_t pfn)
{
    return &node0->mem_map[pfn];
}
static inline uint64_t page_to_pfn(const struct page *p)
{
    return (uint64_t)(p - node0->mem_map);
}
static inline uint64_t page_to_phys(const struct page *p)
{
    return page_to_pfn(p) << PAGE_SHIFT;
}
/* The direct-map address of a frame. */
static inline void *page_address(const struct page *p)
{
    return node0->direct_map + page_to_phys(p);
}
/* The descriptor of the frame a direct-map address lies in, or NULL. */
static inline struct page *virt_to_page(const void *addr)
{
    uint64_t off = (uint64_t)((const uint8_t *)addr - node0->direct_map);
    if ((const uint8_t *)addr < node0->direct_map || (off >> PAGE_SHIFT) >= node0->max_pfn)
        return NULL;
    return pfn_to_page(off >> PAGE_SHIFT);
}

#endif
