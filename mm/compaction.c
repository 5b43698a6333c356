/*
 * Compaction: gather a zone's free frames into large blocks by moving
 * pages, Linux's two-scanner design (mm/compaction.c there, 2.6.35 on).
 *
 *  - the migration scanner walks the zone up from its first frame and
 *    picks the pages that can move (migrate_check);
 *  - the free scanner walks down from the zone's last frame and isolates
 *    free frames (mm/isolate.c) for them;
 *  - each picked page moves (migrate_page) into the frame the free
 *    scanner found last, and the frame it leaves goes back to the free
 *    lists, where it merges with its free buddies;
 *  - they stop when they meet (or, for an allocation waiting on it, as
 *    soon as a free block of the order it wants exists): the movable
 *    pages are packed at the top of the zone, the free frames below, in
 *    blocks as large as the pages that cannot move allow.
 * Without Linux's pageblocks and migrate types, the scanners look at
 * frames, not 2 MiB blocks; the rest is the same idea.
 *
 * Direct compaction: a high-order (or DMA) allocation that fails calls
 * compact_zone_order (from alloc_pages' slow path, counted compact_stall
 * then compact_success or compact_fail in /proc/vmstat).  When the zone
 * has too few free frames for compaction to gather (a DMA zone full of
 * user pages), it evacuates a run instead (mm/evacuate.c): the pages move
 * to other zones.  A zone whose direct compaction failed is skipped by
 * the next requests of that order for a while (deferral, below).  Code
 * that holds a movable page across an allocation must hold a reference
 * on it (the fault path does): a referenced page is pinned, and stays.
 *
 * Invariant: between two calls no frame is left isolated, the scanners'
 * positions are forgotten (each run starts afresh), and every page moved
 * is mapped where its ptes say.  mm_compacting is set while a compaction
 * runs: the targets it asks of the page allocator never start another.
 * Context: one CPU, a kernel that is not preemptible; nothing sleeps.
 */
#include <mm/evacuate.h>
#include <mm/buddy.h>
#include <mm/migrate.h>
#include <mm/vm_event.h>
#include <kernel/errno.h>

/* One compaction of one zone: where the two scanners are. */
struct compact_control {
    struct zone *z;
    uint64_t migrate_pfn;   /* next frame the migration scanner looks at */
    uint64_t free_pfn;      /* the free scanner looked at every frame from here up */
};

/* Is there a free block of `order` or more in z (per-CPU cache aside),
 * and may it leave the zone? */
static bool zone_has_block(const struct zone *z, unsigned order)
{
    if (!zone_watermark_ok(z, 1ul << order, 0))
        return false;
    for (unsigned k = order; k <= MAX_ORDER; k++)
        if (z->area[k].nr_free)
            return true;
    return false;
}

/* The zone a frame of z can serve: does z lie within the zones gfp allows? */
static bool zone_fits(const struct zone *z, gfp_t gfp)
{
    unsigned zi = (unsigned)(z - z->node->zones);
    if (gfp & __GFP_DMA)
        return zi == ZONE_DMA;
    if (gfp & __GFP_DMA32)
        return zi <= ZONE_DMA32;
    return true;
}

/* migrate_page's target source: the free scanner, down from where it
 * stopped, never at or below the migration scanner. */
static struct page *compact_target(gfp_t gfp, void *arg)
{
    struct compact_control *cc = arg;
    if (!zone_fits(cc->z, gfp))
        return NULL;
    while (cc->free_pfn > cc->migrate_pfn + 1) {
        cc->free_pfn--;
        count_vm_event(COMPACT_FREE_SCANNED);
        if (isolate_free_frame(cc->z, cc->free_pfn) == 0) {
            count_vm_event(COMPACT_ISOLATED);
            struct page *p = pfn_to_page(cc->free_pfn);
            p->mapping = 0;     /* a fresh page, for migrate_page */
            return p;
        }
    }
    return NULL;
}

/*
 * Run the two scanners over z.  With order >= 0, stop as soon as a block
 * of that order is free (checked every few pages moved); with order < 0,
 * run until they meet.
 */
static void compact_zone(struct zone *z, int order)
{
    struct compact_control cc = { z, z->start_pfn, z->end_pfn };
    unsigned since_check = 0;
    drain_pcp();
    for (; cc.migrate_pfn < cc.free_pfn; cc.migrate_pfn++) {
        struct page *p = pfn_to_page(cc.migrate_pfn);
        count_vm_event(COMPACT_MIGRATE_SCANNED);
        if (p->refcount && !(p->flags & PG_RESERVED) && p->order && !(p->flags & PG_CONTIG)) {
            cc.migrate_pfn += (1ul << p->order) - 1;   /* a whole block: skip it */
            continue;
        }
        if (migrate_check(p) != MIGRATE_OK)
            continue;
        enum migrate_result why;
        if (migrate_page(p, compact_target, &cc, NULL, &why) == 0) {
            count_vm_event(COMPACT_ISOLATED);
            if (order >= 0 && ++since_check >= 32) {
                since_check = 0;
                drain_pcp();
                if (zone_has_block(z, (unsigned)order))
                    break;
            }
        } else if (why == MIGRATE_NOMEM && cc.free_pfn <= cc.migrate_pfn + 1) {
            break;  /* the scanners met */
        }
    }
    drain_pcp();
}

/* The fallback: evacuate one aligned run of 2^order frames of z (its
 * pages leave the zone) and give it back whole.  True if one was. */
static bool evacuate_one_run(struct zone *z, unsigned order)
{
    uint64_t n = 1ul << order;
    for (uint64_t s = (z->start_pfn + n - 1) & ~(n - 1); s + n <= z->end_pfn; s += n) {
        if (!evacuate_candidate(z, s, s + n))
            continue;
        int err = evacuate_range(z, s, s + n, NULL);
        if (err == 0) {
            release_isolated_range(z, s, s + n);
            return true;
        }
        if (err == -ENOMEM)
            return false;
    }
    return false;
}

/*
 * Deferral, as Linux's defer_compaction: after a direct compaction of a
 * zone failed for some order, the next requests of that order or above
 * skip it, 1, 2, 4... up to 64 of them, the wait doubling at each
 * failure, so that an allocator failing in a loop (memory exhausted)
 * does not scan the zone every time.  A success resets it.
 */
#define COMPACT_MAX_DEFER_SHIFT 6
static struct {
    unsigned considered, defer_shift, order_failed;
} deferral[NR_ZONES];

static bool compaction_deferred(unsigned zi, unsigned order)
{
    if (order < deferral[zi].order_failed)
        return false;
    if (++deferral[zi].considered >= (1u << deferral[zi].defer_shift)) {
        deferral[zi].considered = 0;
        return false;
    }
    return true;
}

static void compaction_result(unsigned zi, unsigned order, bool ok)
{
    if (ok) {
        deferral[zi].defer_shift = 0;
        deferral[zi].considered = 0;
        if (order >= deferral[zi].order_failed)
            deferral[zi].order_failed = order + 1;
        return;
    }
    deferral[zi].considered = 0;
    if (deferral[zi].defer_shift < COMPACT_MAX_DEFER_SHIFT)
        deferral[zi].defer_shift++;
    if (order < deferral[zi].order_failed)
        deferral[zi].order_failed = order;
}

void compaction_defer_reset(struct zone *z)
{
    unsigned zi = (unsigned)(z - z->node->zones);
    deferral[zi].considered = deferral[zi].defer_shift = deferral[zi].order_failed = 0;
}

bool compact_zone_order(struct zone *z, unsigned order)
{
    unsigned zi = (unsigned)(z - z->node->zones);
    if (mm_compacting || order > MAX_ORDER || !z->managed)
        return false;
    drain_pcp();
    if (zone_has_block(z, order))
        return true;
    if (compaction_deferred(zi, order))
        return false;
    count_vm_event(COMPACT_STALL);
    mm_compacting = true;
    /* Gathering helps blocks of order > 0, and only when the zone has
     * free frames to gather (Linux's compaction_suitable: above the low
     * watermark by twice the block). */
    if (order && zone_free_frames(z) >= z->wmark_low + (2ul << order))
        compact_zone(z, (int)order);
    /* Too few free frames (or the watermark not met): move pages out of
     * the zone, a run at a time, 32 frames or the order's block,
     * whichever is larger, then the order's block alone. */
    unsigned big = order > 5 ? order : 5;
    for (unsigned tries = 0; !zone_has_block(z, order) && tries < 64; tries++)
        if (!evacuate_one_run(z, big) && (big == order || !evacuate_one_run(z, order)))
            break;
    mm_compacting = false;
    bool ok = zone_has_block(z, order);
    compaction_result(zi, order, ok);
    if (!ok)
        count_vm_event(COMPACT_FAIL);
    return ok;
}

int compact_memory(void)
{
    if (mm_compacting)
        return 0;
    mm_compacting = true;
    for_each_zone(z)
        if (z->managed) {
            compact_zone(z, -1);
            compaction_defer_reset(z);  /* a fresh start */
        }
    mm_compacting = false;
    return 0;
}
