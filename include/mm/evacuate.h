/*
 * Clearing a range of frames by moving its pages out (mm/evacuate.c;
 * docs/compaction.md): the mm-internal half of include/mm/compaction.h,
 * used by alloc_contig (mm/contig.c), direct compaction and
 * evacuate_zone.
 *
 * Context: one CPU, a kernel that is not preemptible; nothing sleeps.
 * While an evacuation or a compaction runs, mm_compacting is true, and
 * the page allocator does not start another (the migration targets it
 * hands out must not recurse into compaction).
 */
#ifndef MM_EVACUATE_H
#define MM_EVACUATE_H

#include <mm/compaction.h>

extern bool mm_compacting;

/*
 * Clear [start, end) of zone z for the caller: its free frames are
 * isolated first (include/mm/buddy.h), then every page in it moves out
 * (migrate_page with migrate_alloc_any) and the frame it leaves is
 * isolated at once.  0: every managed frame of the range is the
 * caller's, isolated (order-0 head, refcount 1, mapping
 * ISOLATED_MAPPING; release_isolated_range gives them back).  On the
 * first frame that cannot be cleared (kernel memory, a reserved frame,
 * a pinned page, no target left): what was isolated is released, what
 * moved stays moved (every page is still whole, mapped where its ptes
 * say), and -EBUSY (unmovable, pinned, reserved) or -ENOMEM (no target)
 * is returned.  r (may be NULL) counts what happened.
 */
int evacuate_range(struct zone *z, uint64_t start, uint64_t end, struct evacuate_result *r);

/*
 * Is every frame of [start, end) of z free or a page that can move
 * (migrate_check), and at least one of them a page?  The candidates
 * alloc_contig and direct compaction evacuate.
 */
bool evacuate_candidate(struct zone *z, uint64_t start, uint64_t end);

/*
 * alloc_contig's last resort: the lowest run of n frames aligned to
 * align_pfn in [lo, hi) of one zone whose frames are free or movable,
 * evacuated (and the zone above its watermark for gfp afterwards, as
 * alloc_contig asks).  The first frame's pfn, the run's frames isolated
 * and the caller's, or PFN_NONE.
 */
uint64_t evacuate_contig(gfp_t gfp, uint64_t n, uint64_t align_pfn, uint64_t lo, uint64_t hi);

/*
 * Forget the zone's direct-compaction failures (mm/compaction.c's
 * deferral): its next high-order request compacts again.  compact_memory
 * does it for every zone; tests do it to start from a known state.
 */
void compaction_defer_reset(struct zone *z);

#endif
