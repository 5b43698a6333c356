/*
 * Evacuation: clear a range of frames by moving its pages elsewhere,
 * CMA's idea (Linux's alloc_contig_range) without a reserved area, and
 * the SOS article on Linux's physical memory's "requisition the DMA
 * zone's pages even when they are in use".
 *
 * The order of the steps is what makes it correct:
 *  1. isolate every free frame of the range (mm/isolate.c): from now on
 *     no allocation, and so no migration target, can land in it;
 *  2. walk the range and move each page out (migrate_page, targets from
 *     migrate_alloc_any: any zone the page's mappings allow); the frame
 *     a page leaves is freed onto the free lists (or the per-CPU cache),
 *     and isolated at once, before anything else can allocate it;
 *  3. the caller owns the range (evacuate_range), or gives it all back
 *     (evacuate_zone, which asks for a zone's worth of frames the way a
 *     driver would, to show it can be had, and frees them again).
 * A frame nobody can move (kernel memory, a pinned page, a block of
 * order > 0) or a page with no target left stops evacuate_range: the
 * frames isolated so far are released, the pages already moved stay
 * where they went (each is whole and mapped by its ptes: nothing is
 * lost), and the caller is told why.  evacuate_zone goes on past such
 * frames and counts them.
 *
 * Invariant: between two calls no frame is left isolated, and every
 * migrated page is mapped where its ptes say (migrate_page's promise).
 * Context: one CPU, a kernel that is not preemptible; nothing sleeps.
 * mm_compacting keeps the page allocator from starting a compaction of
 * its own while one of these asks it for targets.
 */
#include <mm/evacuate.h>
#include <mm/buddy.h>
#include <mm/migrate.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>

bool mm_compacting;

struct evacuate_result last_evacuation;
int last_evacuation_zone = -1;

/*
 * Step 2 for the frame at pfn (not isolated, not reserved): move the page
 * there, if it is one, and isolate the frame it leaves.  MIGRATE_OK when
 * the frame is now isolated, else the reason it is not.
 */
static enum migrate_result clear_frame(struct zone *z, uint64_t pfn, struct evacuate_result *r)
{
    struct page *p = pfn_to_page(pfn);
    if (isolate_free_frame(z, pfn) == 0)
        return MIGRATE_OK;      /* freed since step 1 (a migration's old frame) */
    enum migrate_result why = migrate_check(p);
    if (why == MIGRATE_OK && migrate_page(p, migrate_alloc_any, NULL, NULL, &why) == 0) {
        r->moved++;
        if (isolate_free_frame(z, pfn) == 0)
            return MIGRATE_OK;
        /* migrate_page frees the old frame: anything else is a bug. */
        panic("evacuate: frame %#lx not free after its page moved (ref %u flags %#x)",
              pfn << PAGE_SHIFT, p->refcount, p->flags);
    }
    if (why == MIGRATE_PINNED)
        r->pinned++;
    else if (why == MIGRATE_NOMEM)
        r->failed++;
    else
        r->unmovable++;
    return why;
}

/* Steps 1 and 2 over [start, end): 0, or at the first failure (when
 * stop_at_failure) -EBUSY/-ENOMEM.  Counts frames as it goes. */
static int clear_range(struct zone *z, uint64_t start, uint64_t end, bool stop_at_failure,
                       struct evacuate_result *r)
{
    int err = 0;
    isolate_free_range(z, start, end);
    for (uint64_t pfn = start; pfn < end; pfn++) {
        struct page *p = pfn_to_page(pfn);
        if (p->flags & PG_RESERVED) {
            if (stop_at_failure)
                return -EBUSY;
            continue;
        }
        r->frames++;
        if (frame_isolated(p))
            continue;
        enum migrate_result why = clear_frame(z, pfn, r);
        if (why != MIGRATE_OK && !err)
            err = why == MIGRATE_NOMEM ? -ENOMEM : -EBUSY;
        if (err && stop_at_failure)
            return err;
    }
    return err;
}

int evacuate_range(struct zone *z, uint64_t start, uint64_t end, struct evacuate_result *r)
{
    struct evacuate_result local;
    if (!r)
        r = &local;
    memset(r, 0, sizeof(*r));
    if (start < z->start_pfn || end > z->end_pfn || start >= end)
        return -EINVAL;
    bool was = mm_compacting;
    mm_compacting = true;
    int err = clear_range(z, start, end, true, r);
    mm_compacting = was;
    if (err) {
        release_isolated_range(z, start, end);
        return err;
    }
    r->obtained = end - start;
    return 0;
}

/* The first frame of [start, end) that is neither free nor movable, or
 * PFN_NONE; *pages tells whether any of them holds a page. */
static uint64_t first_fixed(struct zone *z, uint64_t start, uint64_t end, bool *pages)
{
    *pages = false;
    for (uint64_t pfn = start; pfn < end; pfn++) {
        if (frame_is_free(z, pfn))
            continue;
        if (migrate_check(pfn_to_page(pfn)) != MIGRATE_OK)
            return pfn;
        *pages = true;
    }
    return PFN_NONE;
}

bool evacuate_candidate(struct zone *z, uint64_t start, uint64_t end)
{
    bool pages;
    return first_fixed(z, start, end, &pages) == PFN_NONE && pages;
}

uint64_t evacuate_contig(gfp_t gfp, uint64_t n, uint64_t align_pfn, uint64_t lo, uint64_t hi)
{
    if (mm_compacting)
        return PFN_NONE;
    for_each_zone(z) {
        uint64_t s = lo > z->start_pfn ? lo : z->start_pfn;
        uint64_t e = hi < z->end_pfn ? hi : z->end_pfn;
        if (!z->managed || s >= e || e - s < n)
            continue;
        uint64_t start = (s + align_pfn - 1) & ~(align_pfn - 1);
        for (; start >= s && start + n <= e; start += align_pfn) {
            bool pages;
            uint64_t fixed = first_fixed(z, start, start + n, &pages);
            if (fixed != PFN_NONE) {
                /* No run containing it: go past it, as contig.c's search does. */
                start = ((fixed + align_pfn) & ~(align_pfn - 1)) - align_pfn;
                continue;
            }
            if (!pages)
                continue;
            int err = evacuate_range(z, start, start + n, NULL);
            if (err == -ENOMEM)
                return PFN_NONE;    /* no target frames anywhere: stop moving pages */
            if (err)
                continue;
            /* The run's free frames left the zone: the reserve must
             * still be there, as for a run that was free already. */
            if (zone_watermark_ok(z, 0, gfp))
                return start;
            release_isolated_range(z, start, start + n);
            return PFN_NONE;
        }
    }
    return PFN_NONE;
}

int evacuate_zone(enum zone_type t, struct evacuate_result *r)
{
    struct evacuate_result local;
    if (!r)
        r = &local;
    memset(r, 0, sizeof(*r));
    if ((unsigned)t >= NR_ZONES || !zone_of_type(t)->managed)
        return -EINVAL;
    struct zone *z = zone_of_type(t);
    bool was = mm_compacting;
    mm_compacting = true;
    drain_pcp();
    clear_range(z, z->start_pfn, z->end_pfn, false, r);
    /* Every free frame of the zone is now isolated: that is the whole
     * zone's free memory, allocated at once, as a driver would. */
    r->obtained = release_isolated_range(z, z->start_pfn, z->end_pfn);
    mm_compacting = was;
    last_evacuation = *r;
    last_evacuation_zone = (int)t;
    printk("evacuate_zone %s: %lu frames, %lu moved, %lu pinned, %lu unmovable, %lu failed, "
           "%lu obtained\n", z->name, r->frames, r->moved, r->pinned, r->unmovable, r->failed,
           r->obtained);
    return 0;
}
