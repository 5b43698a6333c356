/*
 * Moving pages to make room (mm/compaction.c, mm/evacuate.c;
 * docs/compaction.md): what migration (include/mm/migrate.h) is for.
 *
 *  - compaction, as Linux's: in a zone, a migration scanner walks up from
 *    the bottom taking movable pages, a free scanner walks down from the
 *    top taking free frames, and each page moves to a frame of the free
 *    scanner, until they meet: the free frames end up together at the
 *    bottom, in large blocks.  Run on a high-order allocation that failed
 *    for fragmentation (direct compaction, compact_stall in /proc/vmstat)
 *    and for every zone when 1 is written to /proc/sys/vm/compact_memory;
 *  - evacuation, CMA's idea without a reserved area: a range of frames
 *    is cleared by taking its free frames off the free lists first (so no
 *    target lands there) and moving its movable pages elsewhere; used by
 *    alloc_contig and by DMA-zone allocations before they fail, and for a
 *    whole zone on request (the SOS article on Linux's physical memory:
 *    requisitioning the DMA zone's pages even when they are in use).
 *
 * Context: one CPU, a kernel that is not preemptible; nothing sleeps.
 */
#ifndef MM_COMPACTION_H
#define MM_COMPACTION_H

#include <stdint.h>
#include <mm/gfp.h>

/* What an evacuation or a compaction did, in frames. */
struct evacuate_result {
    uint64_t frames;        /* frames in the range (managed ones) */
    uint64_t moved;         /* pages migrated out */
    uint64_t pinned;        /* movable pages left because pinned */
    uint64_t unmovable;     /* allocated frames nobody can move (kernel memory) */
    uint64_t failed;        /* pages that could not move for want of a target */
    uint64_t obtained;      /* frames the caller got (evacuate_zone: allocated whole, then freed) */
};

/*
 * Compact every zone (/proc/sys/vm/compact_memory).  0.
 */
int compact_memory(void);
/*
 * Compact zone z until a free block of `order` exists there (direct
 * compaction, called by the page allocator before a high-order request
 * fails): true if one does when it returns.
 */
bool compact_zone_order(struct zone *z, unsigned order);

/*
 * Evacuate zone t: move every movable page out of it, then allocate all
 * of its free frames at once (alloc_contig of each run between unmovable
 * frames) and free them again: a DMA allocation of the whole zone, as a
 * driver needing it would make.  r says what happened.  0, or -EINVAL
 * for a zone that does not exist or has no memory.
 */
int evacuate_zone(enum zone_type t, struct evacuate_result *r);
/* The last evacuate_zone's result (read back by /proc/sys/vm/evacuate_zone). */
extern struct evacuate_result last_evacuation;
extern int last_evacuation_zone;   /* -1 before the first */

/*
 * A placement switch for tests and demonstrations (/proc/sys/vm/user_zone):
 * when not 0, the zone flag (__GFP_DMA or __GFP_DMA32) new user data
 * pages are taken from, instead of the process's usual zones, so that a
 * program can fill the DMA zone to watch it be evacuated.  In
 * mm/user_fault.c.
 */
extern gfp_t mm_user_zone;

#endif
