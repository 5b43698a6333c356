/*
 * The page allocator: zones, GFP flags, watermarks, the per-CPU cache
 * and reference counts, on top of each zone's buddy allocator.
 *
 * Invariants:
 *  - every frame of a zone's span is exactly one of: on a buddy free
 *    list, in the zone's per-CPU cache (PG_PCP), allocated (a head with
 *    refcount > 0, then its 2^order - 1 tail frames), or PG_RESERVED
 *    (buddy_check() verifies it).  Only heads are marked: a tail frame
 *    has no PG_* bit and refcount 0, like a frame inside a free block
 *    (include/mm/page.h), so a block costs one descriptor write to hand
 *    out and one to take back, whatever its order;
 *  - a request never gets memory from a zone above the one its flags
 *    name: NORMAL falls back to DMA32 then DMA, DMA32 to DMA, DMA to
 *    nothing (a device that can only reach 16 MiB must not get more);
 *  - outside __GFP_HIGH (GFP_ATOMIC) and __GFP_MEMALLOC, an allocation
 *    never takes a zone's free count below wmark_min; __GFP_HIGH may go
 *    down to wmark_min / 2, as Linux's ALLOC_HIGH does.  The free count
 *    is the buddy lists plus the per-CPU cache (zoneinfo's "pages free"):
 *    frames a GFP_ATOMIC request moved into the cache from below the
 *    watermark are still the reserve, not fair game for GFP_KERNEL.
 *
 * The per-CPU cache: free blocks of the small orders 0..PCP_MAX_ORDER
 * (3) are kept on a stack per order in front of the zone and handed out
 * again without touching the buddy lists.  Single frames are refilled
 * `batch` at a time; larger blocks enter it only when freed.  When it
 * holds more than `high` frames it gives back blocks, the largest first,
 * down to high + 1 - batch frames.  With one CPU there is one cache per
 * zone; the structure is the one SMP needs.  Linux has kept the orders up
 * to 3 on its per-CPU lists since 5.14 for the same reason: most requests
 * are small, and a cached block skips the split and the merge.
 *
 * Fast paths.  alloc_pages works on the preferred zone (node->preferred:
 * the highest zone with frames that the flags allow) with one watermark
 * comparison and no zone walk: a small order pops its cache list, a
 * larger one (or a small one the cache lacks) takes a block from the
 * buddy lists (alloc_block); the rest (an empty order-0 list to refill,
 * a zone below wmark_low (which wakes kswapd), __GFP_ZERO of a cached
 * block, fallback along the zonelist) is alloc_pages_slow.  __free_pages takes the last
 * reference of a well-formed block with a handful of O(1) tests (below)
 * and hands it to the cache or to buddy_free.  Only the head is written
 * either way.  With orders mixed at random, a branch on the order itself
 * (cache or buddy lists?) is mispredicted at nearly every change, and
 * costs more than the rest of a fast path (tests/bench/bench_buddy.c):
 * caching the small orders too makes that branch rare.
 *
 * Memory pressure: before failing, alloc_pages (and alloc_contig) call
 * the node's shrink hook once and retry when it freed something.  The
 * hook must not allocate (the slab shrinker only frees).
 *
 * Errors, as kernel/errno.h lays them down: errors a caller can make
 * (double free, freeing a tail or a reserved frame, a wrong order,
 * dropping a reference nobody holds) are detected in O(1) from the
 * descriptor the caller names: it must lie in mem_map, not be reserved,
 * and be referenced (tails and free frames have refcount 0), with the
 * order it was allocated with.  They are reported in one line (tail_of
 * then tells a tail from a free frame, for the report only) and counted
 * in node->errors, and the allocator's state is left unchanged; the
 * calls that return a value return -EINVAL.  Running out of memory
 * returns NULL, never panics.  What the allocator itself guarantees (a
 * cached frame is marked PG_PCP, a block's tails are unmarked...) is
 * asserted in debug builds, and buddy_check walks it all.
 * Functions holding a zone reach the descriptors through zone->node.
 * References: the course slides on Linux's allocators (alloc_pages, GFP
 * flags, zones), the SOS mailing-list post (reference-counted frames).
 */
#include <mm/gfp.h>
#include <mm/buddy.h>
#include <mm/numa.h>
#include <mm/vm_event.h>
#include <kernel/assert.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>

struct mem_node *node0;

#define NODE (node0)

void node_report(const char *fmt, ...)
{
    char buf[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (NODE->report)
        NODE->report(buf);
}


/* The highest zone a request may use, from its zone flags (__GFP_DMA
 * wins over __GFP_DMA32 when both are given). */
static const uint8_t gfp_top_zone[4] = { ZONE_NORMAL, ZONE_DMA, ZONE_DMA32, ZONE_DMA };
_Static_assert(__GFP_DMA == 1 && __GFP_DMA32 == 2, "gfp_top_zone is indexed by these bits");

static unsigned top_zone(gfp_t gfp)
{
    return gfp_top_zone[gfp & (__GFP_DMA | __GFP_DMA32)];
}

bool zone_watermark_ok(const struct zone *z, uint64_t want, gfp_t gfp)
{
    uint64_t floor = z->wmark_min;
    uint64_t free = zone_free_frames(z);
    if (gfp & __GFP_MEMALLOC)
        floor = 0;
    else if (gfp & __GFP_HIGH)
        floor /= 2;
    return free >= want && free - want >= floor;
}

/* Debug builds: are the frames after a block's head unmarked, as
 * include/mm/page.h says they always are? */
static bool __attribute__((unused)) tails_clean(const struct page *p, unsigned order)
{
    for (uint64_t i = 1; i < (1ul << order); i++)
        if (p[i].flags || p[i].refcount)
            return false;
    return true;
}

/* Mark a fresh block of zone z allocated: its head only (page.h). */
static struct page *prep_block(struct zone *z, uint64_t pfn, unsigned order, gfp_t gfp)
{
    struct page *p = &z->node->mem_map[pfn];
    DASSERT(tails_clean(p, order), "%s: block %#lx order %u has marked tails", z->name, pfn,
            order);
    p->flags = 0;
    p->refcount = 1;
    p->order = (uint8_t)order;
    if (gfp & __GFP_MOVABLE)
        p->flags2 = PG2_MOVABLE;
    if (gfp & __GFP_ZERO)
        memset(page_address(p), 0, PAGE_SIZE << order);
    return p;
}

/*
 * The per-CPU cache: a stack per order 0..PCP_MAX_ORDER, linked through
 * page.next; each cached block's head is marked PG_PCP with refcount 0
 * and its order, its tails unmarked like any block's.  The callers pass
 * this CPU's cache of the zone (this_pcp) and the node's mem_map
 * (z->node->mem_map) they already hold.  pcp_pop needs a list that is
 * not empty.  Only the CPU that owns a cache touches it, with interrupts
 * off: no lock (the zone's lock is for the buddy lists).
 */
static inline struct per_cpu_pages *this_pcp(struct zone *z)
{
    unsigned c = mm_cpu();
    return c < PCP_CPUS ? &z->pcp[c] : NULL;   /* NULL: the buddy lists directly */
}

/* The buddy lists under the zone's lock. */
static uint64_t locked_buddy_alloc(struct zone *z, unsigned order)
{
    spin_lock(&z->lock);
    uint64_t pfn = buddy_alloc(z, order);
    spin_unlock(&z->lock);
    return pfn;
}

static void locked_buddy_free(struct zone *z, uint64_t pfn, unsigned order)
{
    spin_lock(&z->lock);
    buddy_free(z, pfn, order);
    spin_unlock(&z->lock);
}

static inline struct page *pcp_pop(struct zone *z, struct per_cpu_pages *pcp, struct page *map,
                                   unsigned order)
{
    uint32_t pfn = pcp->lists[order];
    DASSERT(pfn != PFN_NIL && pcp->count >= (1u << order), "%s: pcp list %u empty, count %u",
            z->name, order, pcp->count);
    struct page *p = &map[pfn];
    DASSERT(p->flags == PG_PCP && p->refcount == 0 && p->order == order,
            "%s: cached block %#x flags %#x ref %u order %u on list %u", z->name, pfn,
            p->flags, p->refcount, p->order, order);
    pcp->lists[order] = p->next;
    pcp->count -= 1u << order;
    p->flags = 0;
    return p;
}

static inline void pcp_push(struct zone *z, struct per_cpu_pages *pcp, struct page *p,
                            uint64_t pfn, unsigned order)
{
    DASSERT(p->refcount == 0 && p->order == order && order <= PCP_MAX_ORDER,
            "%s: caching block %#lx ref %u order %u as order %u", z->name, pfn, p->refcount,
            p->order, order);
    p->next = pcp->lists[order];
    p->flags = PG_PCP;
    pcp->lists[order] = (uint32_t)pfn;
    pcp->count += 1u << order;
}

/* Give cached blocks back to the buddy lists, the largest first, until at
 * most `keep` frames are left in the cache, under the zone's lock. */
static void __attribute__((noinline)) pcp_drain(struct zone *z, struct per_cpu_pages *pcp,
                                                uint32_t keep)
{
    struct page *map = z->node->mem_map;
    spin_lock(&z->lock);
    for (int k = PCP_MAX_ORDER; k >= 0 && pcp->count > keep; k--) {
        while (pcp->lists[k] != PFN_NIL && pcp->count > keep) {
            struct page *p = pcp_pop(z, pcp, map, (unsigned)k);
            buddy_free(z, (uint64_t)(p - map), (unsigned)k);
        }
    }
    spin_unlock(&z->lock);
}

void (*drain_pcp_others)(void);
unsigned pcp_nr_cpus = 1;
#ifdef HOST_TEST
unsigned mm_host_cpu;
#endif

void drain_pcp_local(void)
{
    for (unsigned nid = 0; nid < nr_node_ids; nid++)
        for (int i = 0; i < NR_ZONES; i++) {
            struct zone *z = &node_data[nid]->zones[i];
            struct per_cpu_pages *pcp = this_pcp(z);
            if (pcp && pcp->count)
                pcp_drain(z, pcp, 0);
        }
}

void drain_pcp(void)
{
    drain_pcp_local();
    /* The other CPUs' caches, by asking them (only the CPU that runs
     * the kernel asks: the kernel lock's holder). */
    if (drain_pcp_others && mm_reclaim_cpu())
        drain_pcp_others();
}

/*
 * NUMA statistics of an allocation that got a frame of zone z when the
 * first zone it could use was `want` (Linux's zone_statistics): numa_hit
 * when they are on the same node, else numa_miss on z and numa_foreign
 * on want; local_node or other_node by the CPU's node.
 */
static inline void numa_account(struct zone *z, struct zone *want)
{
    int nid = zone_to_nid(z);
    bool local = nid == numa_node_id();
    struct per_cpu_pages *pcp = this_pcp(z);
    if (nid == zone_to_nid(want) && local && pcp) {
        pcp->local_hits++;                /* numa_hit and numa_local in one */
        return;
    }
    /* Shared counters: several CPUs may count at once. */
    if (nid == zone_to_nid(want)) {
        __atomic_fetch_add(&z->numa_stat[NUMA_HIT], 1, __ATOMIC_RELAXED);
    } else {
        __atomic_fetch_add(&z->numa_stat[NUMA_MISS], 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&want->numa_stat[NUMA_FOREIGN], 1, __ATOMIC_RELAXED);
    }
    __atomic_fetch_add(&z->numa_stat[local ? NUMA_LOCAL : NUMA_OTHER], 1, __ATOMIC_RELAXED);
}

/* May the request use zone z: its node in the mask (none: any)? */
static inline bool zone_allowed(const struct zone *z, const nodemask_t *mask)
{
    return !mask || node_isset(zone_to_nid(z), mask);
}

static uint64_t zone_alloc(struct zone *z, unsigned order, gfp_t gfp)
{
    /* Checked before the cache too: a cached block is free memory. */
    if (!zone_watermark_ok(z, 1ul << order, gfp))
        return PFN_NONE;
    struct per_cpu_pages *pcp = this_pcp(z);
    if (order > PCP_MAX_ORDER || !pcp)
        return locked_buddy_alloc(z, order);
    struct page *map = z->node->mem_map;
    if (order == 0 && pcp->lists[0] == PFN_NIL) {
        /* Refill a batch of single frames, as far as `high` allows
         * (moving frames into the cache leaves the free count as it is),
         * under one taking of the zone's lock.  Larger orders are cached
         * only when freed: a batch of them could strand a zone's last
         * frames in the cache, out of reach of smaller requests. */
        uint32_t room = pcp->high > pcp->count ? pcp->high - pcp->count : 0;
        spin_lock(&z->lock);
        for (uint32_t i = 0; i < pcp->batch && i < room; i++) {
            uint64_t pfn = buddy_alloc(z, 0);
            if (pfn == PFN_NONE)
                break;
            pcp_push(z, pcp, &map[pfn], pfn, 0);
        }
        spin_unlock(&z->lock);
    }
    if (pcp->lists[order] != PFN_NIL)
        return (uint64_t)(pcp_pop(z, pcp, map, order) - map);
    return locked_buddy_alloc(z, order);
}

/* Direct compaction (mm/compaction.c).  Weak: host programs that do not
 * link it (no migration there) skip that step. */
extern bool compact_zone_order(struct zone *z, unsigned order) __attribute__((weak));
extern bool mm_compacting __attribute__((weak));

/* Everything but a hit in the per-CPU cache or on the preferred zone's
 * buddy lists: __GFP_ZERO of a cached block, an empty cache, a zone near
 * its watermark, fallback to lower zones, memory pressure, and last
 * direct compaction: a request of order > 0 or for the DMA zone that
 * still fails has the pages of a zone it may use moved to make room
 * (Linux's __alloc_pages_direct_compact), unless it cannot wait
 * (__GFP_ATOMIC) or a compaction is what asks (its targets). */
/* Reclaim's (mm/vmscan.c).  Weak: host programs without reclaim. */
extern uint64_t shrink_memory(uint64_t want, gfp_t gfp, bool kswapd) __attribute__((weak));
static bool in_reclaim;

/* Walk zonelist zl, skipping zones of nodes outside the mask. */
#define for_each_allowed(z, zl, mask)                                                      \
    for (struct zone *const *zp_ = (zl), *z; (z = *zp_) != NULL; zp_++)                   \
        if (zone_allowed(z, mask))

/* Take a block from zone z of zonelist order (the slow path's tries). */
static struct page *take(struct zone *z, struct zone *want, unsigned order, gfp_t gfp)
{
    uint64_t pfn = zone_alloc(z, order, gfp);
    if (pfn == PFN_NONE)
        return NULL;
    numa_account(z, want);
    return prep_block(z, pfn, order, gfp);
}

static struct page *__attribute__((noinline)) alloc_pages_slow(gfp_t gfp, unsigned order,
                                                               int nid, const nodemask_t *mask)
{
    if (order > MAX_ORDER) {
        if (!(gfp & __GFP_NOWARN))
            node_report("alloc_pages: order %u is above MAX_ORDER %u", order, MAX_ORDER);
        return NULL;
    }
    /* The zones to try, nearest first: the node's zonelist for the
     * highest zone the flags allow (Linux's), those of the mask's nodes. */
    struct zone *const *zl = node_data[nid]->zonelist[top_zone(gfp)];
    struct zone *want = NULL;
    for_each_allowed(z, zl, mask) {
        want = z;
        break;
    }
    if (!want) {
        if (!(gfp & __GFP_NOWARN))
            node_report("alloc_pages: no node of mask %#lx has memory for gfp %#x",
                        mask ? mask->bits : 0ul, gfp);
        return NULL;
    }
    /* The fast path found the cache empty or the zone near its minimum:
     * the moment to see whether the background reclaimer has work
     * (Linux's slow path wakes kswapd first thing too).  Only the CPU
     * that holds the kernel lock wakes, shrinks, compacts and reclaims
     * (those run under it alone): another CPU (an IPI's function, a
     * test's) takes what the zones have, drains its own cache, and
     * fails otherwise. */
    if (!mm_reclaim_cpu()) {
        for (int pass = 0; pass < 2; pass++) {
            for_each_allowed(z, zl, mask) {
                struct page *p = take(z, want, order, gfp);
                if (p)
                    return p;
            }
            drain_pcp_local();
        }
        return NULL;
    }
    if (NODE->wake_kswapd && zone_free_frames(want) < want->wmark_low + (1ul << order))
        NODE->wake_kswapd(want);
    for (int pass = 0; pass < 3; pass++) {
        for_each_allowed(z, zl, mask) {
            struct page *p = take(z, want, order, gfp);
            if (p)
                return p;
        }
        /* Second failure: memory pressure; the shrinker (the slab
         * allocator's empty slabs) may give frames back, once. */
        if (pass == 1 && !(NODE->shrink && NODE->shrink()))
            break;
        /* Blocks parked in the per-CPU caches may complete a larger one. */
        drain_pcp();
    }
    /* (compact_zone_order and mm_compacting are defined together, by
     * mm/compaction.c and the mm/evacuate.c it needs.) */
    if (compact_zone_order && !mm_compacting && (order || (gfp & __GFP_DMA)) &&
        !(gfp & __GFP_ATOMIC)) {
        /* compact_zone_order counts compact_stall and compact_fail for
         * the zones it compacts (not those it defers); a request that
         * gets its block after one did is a compact_success. */
        uint64_t stalls = vm_events[COMPACT_STALL];
        for_each_allowed(z, zl, mask) {
            if (!compact_zone_order(z, order))
                continue;
            struct page *p = take(z, want, order, gfp);
            if (p) {
                if (vm_events[COMPACT_STALL] != stalls)
                    count_vm_event(COMPACT_SUCCESS);
                return p;
            }
        }
    }
    /* Direct reclaim (mm/vmscan.c): page out what nobody used lately and
     * try again, for a caller that can wait for it, unless reclaim itself
     * is what allocates (a bounce buffer for the swap disk). */
    if (shrink_memory && (gfp & __GFP_WAIT) && !in_reclaim) {
        in_reclaim = true;
        uint64_t got = shrink_memory(32ul << order, gfp, false);
        in_reclaim = false;
        if (got) {
            drain_pcp();
            for_each_allowed(z, zl, mask) {
                struct page *p = take(z, want, order, gfp);
                if (p)
                    return p;
            }
        }
    }
    for_each_allowed(z, zl, mask)
        __atomic_fetch_add(&z->alloc_fail, 1, __ATOMIC_RELAXED);
    if (!(gfp & __GFP_NOWARN))
        node_report("alloc_pages: out of memory: order %u, gfp %#x (%s and below, node %d%s)",
                    order, gfp, NODE->zones[top_zone(gfp)].name, nid,
                    nr_node_ids > 1 ? " and fallbacks" : "");
    return NULL;
}

/* A block of order PCP_MAX_ORDER + 1 .. MAX_ORDER, or of a smaller order
 * that the cache lacks, from the preferred zone's buddy lists (the slow
 * path when they cannot give it). */
static struct page *__attribute__((noinline)) alloc_block(struct zone *z, gfp_t gfp,
                                                          unsigned order, int nid,
                                                          const nodemask_t *mask)
{
    if (order > MAX_ORDER || zone_free_frames(z) < z->wmark_low + (1ul << order))
        return alloc_pages_slow(gfp, order, nid, mask);
    uint64_t pfn = locked_buddy_alloc(z, order);
    if (pfn == PFN_NONE)
        return alloc_pages_slow(gfp, order, nid, mask);
    numa_account(z, z);
    struct page *p = &z->node->mem_map[pfn];
    DASSERT(p->flags == 0 && p->order == order && tails_clean(p, order),
            "%s: fresh block %#lx flags %#x order %u", z->name, pfn, p->flags, p->order);
    p->refcount = 1;
    if (gfp & __GFP_MOVABLE)
        p->flags2 = PG2_MOVABLE;
    if (gfp & __GFP_ZERO)
        memset(page_address(p), 0, PAGE_SIZE << order);
    return p;
}

/* alloc_pages on node n (number nid), the mask's nodes only (NULL: any
 * node); local: nid is the CPU's node. */
static inline struct page *alloc_fast(gfp_t gfp, unsigned order, struct mem_node *n, int nid,
                                      const nodemask_t *mask, bool local)
{
    /*
     * The fast paths work on the preferred zone alone, with no zone walk.
     * The zone must stay above wmark_low after the request, as Linux's
     * first attempt asks (ALLOC_WMARK_LOW): a request that would take it
     * lower goes the slow way, which wakes kswapd and may still take the
     * zone down to wmark_min (lower for __GFP_HIGH and __GFP_MEMALLOC).
     * So every crossing of the low watermark wakes kswapd, not only those
     * that happen to find the per-CPU cache empty.
     *  - orders 0..PCP_MAX_ORDER: the top block of the cache's list for
     *    the order; an empty list sends order 0 to the slow path (which
     *    refills a batch) and a larger order to the buddy lists;
     *  - larger orders: a block from the buddy lists (alloc_block).
     * Either way only the head is written: a block's tails carry no mark.
     */
    struct zone *z = n->preferred[top_zone(gfp)];
    if (mask && !node_isset(nid, mask))
        return alloc_pages_slow(gfp, order, nid, mask);
    struct per_cpu_pages *pcp = this_pcp(z);
    if (order > PCP_MAX_ORDER || !pcp)
        return alloc_block(z, gfp, order, nid, mask);
    /* This CPU's cache only: the others' frames are free too, which the
     * slow path counts (zone_free_frames) before it decides anything. */
    if (z->free + pcp->count < z->wmark_low + (1u << order) || (gfp & __GFP_ZERO))
        return alloc_pages_slow(gfp, order, nid, mask);
    if (pcp->lists[order] == PFN_NIL)
        return order ? alloc_block(z, gfp, order, nid, mask)
                     : alloc_pages_slow(gfp, 0, nid, mask);
    struct page *p = pcp_pop(z, pcp, NODE->mem_map, order);
    if (local)
        pcp->local_hits++;                /* a hit on the CPU's node: numa_account's first case */
    else
        numa_account(z, z);
    p->refcount = 1;
    if (gfp & __GFP_MOVABLE)
        p->flags2 = PG2_MOVABLE;
    return p;
}

struct page *alloc_pages(gfp_t gfp, unsigned order)
{
    int nid = numa_node_id();
    return alloc_fast(gfp, order, node_data[nid], nid, NULL, true);
}

struct page *__alloc_pages(gfp_t gfp, unsigned order, int nid, const nodemask_t *mask)
{
    if (nid < 0)
        nid = numa_node_id();    /* NUMA_NO_NODE: the local node */
    if ((unsigned)nid >= nr_node_ids) {
        node_report("alloc_pages: node %d does not exist (%u node%s)", nid, nr_node_ids,
                    nr_node_ids == 1 ? "" : "s");
        NODE->errors++;
        return NULL;
    }
    return alloc_fast(gfp, order, node_data[nid], nid, mask, nid == numa_node_id());
}

struct page *alloc_pages_node(int nid, gfp_t gfp, unsigned order)
{
    return __alloc_pages(gfp, order, nid, NULL);
}

/*
 * The frame number of descriptor p when p is one of mem_map's
 * descriptors; otherwise a number at or past any max_pfn.  The byte
 * offset is rotated right by 5 (sizeof(struct page) is 32): a pointer
 * between two descriptors moves its low bits to the top, so one
 * comparison with max_pfn checks both the range and the alignment.
 */
static inline uint64_t desc_pfn(const struct page *p)
{
    _Static_assert(sizeof(struct page) == 32, "desc_pfn rotates by log2(32)");
    uint64_t off = (uint64_t)((uintptr_t)p - (uintptr_t)NODE->mem_map);
    return off >> 5 | off << 59;
}

/* Give a block whose last reference is gone back to its zone: to the
 * cache for the small orders (then down to high + 1 - batch frames if it
 * went over high), to the buddy lists for the others. */
static inline void free_block(struct page *p, uint64_t pfn, unsigned order)
{
    struct zone *z = page_zone(p);
    DASSERT(p->refcount == 0 && tails_clean(p, order),
            "%s: freeing block %#lx order %u: refcount %u or marked tails", z->name, pfn, order,
            p->refcount);
    p->flags2 = 0;  /* the owner's marks and reverse map go with the block */
    p->mapping = 0;
    p->index = 0;
    struct per_cpu_pages *pcp = this_pcp(z);
    if (order <= PCP_MAX_ORDER && pcp) {
        pcp_push(z, pcp, p, pfn, order); /* PG_PCP replaces the flags */
        if (pcp->count > pcp->high)
            pcp_drain(z, pcp, pcp->high >= pcp->batch ? pcp->high + 1 - pcp->batch : 0);
    } else {
        p->flags = 0; /* an owner's marks (PG_SLAB) go */
        locked_buddy_free(z, pfn, order);
    }
}

/*
 * The allocated block that frame pfn lies inside, not as its head: true
 * and the head's pfn, or false (pfn is free, reserved, or a head).  Only
 * heads are marked (page.h), so try the head of each aligned block of
 * order 1..MAX_ORDER containing pfn: the one allocated (referenced) whose
 * order reaches pfn.  Blocks do not overlap, so at most one does.  Error
 * reports only: O(MAX_ORDER).
 */
bool frame_tail_of(uint64_t pfn, uint64_t *head)
{
    for (unsigned k = 1; k <= MAX_ORDER; k++) {
        uint64_t h = pfn & ~((1ul << k) - 1);
        const struct page *hp = &NODE->mem_map[h];
        if (h != pfn && hp->refcount && !(hp->flags & PG_RESERVED) &&
            hp->order <= MAX_ORDER && pfn < h + (1ul << hp->order)) {
            *head = h;
            return true;
        }
    }
    return false;
}

/*
 * Can `p` be the head of an allocated block?  Report why not.  The test
 * is O(1): in mem_map, not reserved, referenced (tails and free frames
 * have refcount 0); the search for the block a tail belongs to is only
 * made to word the report.
 */
static bool valid_head(const char *fn, const struct page *p)
{
    uint64_t head;
    if (!p || desc_pfn(p) >= NODE->max_pfn) {
        node_report("%s: %p is not a frame descriptor", fn, (const void *)p);
    } else if (p->flags & PG_RESERVED) {
        node_report("%s: frame %#lx is reserved, not allocated", fn,
               page_to_phys(p));
    } else if (p->refcount == 0 && frame_tail_of(page_to_pfn(p), &head)) {
        node_report("%s: frame %#lx is inside a larger block (head %#lx), not its head", fn,
               page_to_phys(p), head << PAGE_SHIFT);
    } else if (p->refcount == 0) {
        node_report("%s: frame %#lx is free (double free or stray reference)", fn,
               page_to_phys(p));
    } else {
        return true;
    }
    NODE->errors++;
    return false;
}

/* __free_pages of anything the fast path does not take: more than one
 * reference, or an error to report. */
static void __attribute__((noinline)) free_pages_checked(struct page *p, unsigned order)
{
    if (!valid_head("__free_pages", p))
        return;
    if (p->order != order || (p->flags & PG_CONTIG)) {
        node_report("__free_pages: frame %#lx was allocated with order %u%s, freed with %u",
               page_to_phys(p), p->order,
               (p->flags & PG_CONTIG) ? " by alloc_contig" : "", order);
        NODE->errors++;
        return;
    }
    if (--p->refcount == 0)
        free_block(p, page_to_pfn(p), order);
}

void __free_pages(struct page *p, unsigned order)
{
    /*
     * The fast path: the last reference to an unmarked block allocated
     * with this order.  Each test is O(1), and together they imply
     * valid_head's and free_pages_checked's: a pointer outside mem_map, a
     * reserved frame, a tail or a free frame (refcount 0: a tail freed, a
     * double free), a wrong order, an alloc_contig frame all fail one and
     * take the checked path, which reports them (as does a block with
     * several references or an owner's mark, which it frees correctly).
     */
    uint64_t pfn = desc_pfn(p);
    if (pfn < NODE->max_pfn && p->refcount == 1 && p->order == order && p->flags == 0) {
        p->refcount = 0;
        free_block(p, pfn, order);
        return;
    }
    free_pages_checked(p, order);
}

void *__get_free_pages(gfp_t gfp, unsigned order)
{
    struct page *p = alloc_pages(gfp, order);
    return p ? page_address(p) : NULL;
}

void *get_zeroed_page(gfp_t gfp)
{
    return __get_free_pages(gfp | __GFP_ZERO, 0);
}

void free_pages(void *addr, unsigned order)
{
    if (!addr)
        return;
    struct page *p = virt_to_page(addr);
    if (!p || ((uintptr_t)addr & (PAGE_SIZE - 1))) {
        node_report("free_pages: %p is not the address of an allocated block", addr);
        NODE->errors++;
        return;
    }
    __free_pages(p, order);
}

int get_page(struct page *p)
{
    if (!valid_head("get_page", p))
        return -EINVAL;
    return (int)++p->refcount;
}

int put_page(struct page *p)
{
    if (!valid_head("put_page", p))
        return -EINVAL;
    if (--p->refcount == 0) {
        /* alloc_contig frames are counted one by one: order 0 each. */
        free_block(p, page_to_pfn(p), (p->flags & PG_CONTIG) ? 0 : p->order);
        return 0;
    }
    return (int)p->refcount;
}

uint32_t page_count(const struct page *p)
{
    return p->refcount;
}

static struct page *phys_page(const char *fn, uint64_t pa)
{
    if ((pa & (PAGE_SIZE - 1)) || (pa >> PAGE_SHIFT) >= NODE->max_pfn) {
        node_report("%s: %#lx is not the address of a frame", fn, pa);
        NODE->errors++;
        return NULL;
    }
    return pfn_to_page(pa >> PAGE_SHIFT);
}

int frame_ref(uint64_t pa)
{
    struct page *p = phys_page("frame_ref", pa);
    return p ? get_page(p) : -EINVAL;
}

int frame_unref(uint64_t pa)
{
    struct page *p = phys_page("frame_unref", pa);
    return p ? put_page(p) : -EINVAL;
}

uint64_t frame_alloc(gfp_t gfp)
{
    struct page *p = alloc_pages(gfp, 0);
    return p ? page_to_phys(p) : 0;
}

uint64_t nr_free_pages(void)
{
    uint64_t n = 0;
    for (unsigned nid = 0; nid < nr_node_ids; nid++)
        for (int i = 0; i < NR_ZONES; i++)
            n += zone_free_frames(&node_data[nid]->zones[i]);
    return n;
}
