/*
 * The buddy allocator of one zone (mm/buddy.c).  These functions know
 * nothing of GFP flags, watermarks or reference counts: mm/page_alloc.c
 * builds the kernel's API on top of them.  Frames are named by pfn; the
 * descriptors are the zone's node's (z->node->mem_map).  Callers pass
 * only blocks they know to be right: a wrong one is a kernel bug, caught
 * by an assertion (DASSERT in debug builds on the hot paths).
 */
#ifndef MM_BUDDY_H
#define MM_BUDDY_H

#include <mm/page.h>

#define PFN_NONE (~0ul)

/* Take a free block of 2^order frames; PFN_NONE when none is free.  Its
 * head comes back unflagged with its order set; its tails are unmarked
 * (include/mm/page.h) and were not touched. */
uint64_t buddy_alloc(struct zone *z, unsigned order);
/* Give back the block of 2^order frames at pfn (aligned, inside the zone,
 * its head unreferenced and unflagged, its tails unmarked), merging with
 * free buddies.  Writes the heads only. */
void buddy_free(struct zone *z, uint64_t pfn, unsigned order);
/* Give back [start, end) as the largest aligned blocks that fit. */
void buddy_free_range(struct zone *z, uint64_t start, uint64_t end);
/* The free block containing pfn: true and its head/order, or false. */
bool buddy_find_free(const struct zone *z, uint64_t pfn, uint64_t *head,
                     unsigned *order);
/* Take the free frames [start, end) off the free lists (all must be free:
 * asserted). */
void buddy_isolate(struct zone *z, uint64_t start, uint64_t end);

/*
 * Isolation (mm/isolate.c): free frames taken so that no allocation can
 * return them while a range is cleared (mm/evacuate.c, compaction).  An
 * isolated frame is an allocated order-0 block (head unflagged, refcount
 * 1: __free_pages gives it back) whose mapping field holds
 * ISOLATED_MAPPING (not a canonical address) as the taker's mark.
 *
 * isolate_free_frame: frame pfn of z, free on a buddy list or in the
 * per-CPU cache, is cut out of its block (the rest stays free) and
 * isolated.  0, -EBUSY when it is not free, -EINVAL outside the zone.
 * isolate_free_range: every free frame of [start, end) (clipped to the
 * zone) isolated; returns how many.
 * release_isolated: give one isolated frame back (__free_pages);
 * release_isolated_range: every isolated frame of [start, end) straight
 * to the buddy lists (they merge again); returns how many.
 * frame_is_free: is pfn in a free block (buddy lists or per-CPU cache)?
 */
#define ISOLATED_MAPPING 0x1501a7ed00000000ul
int isolate_free_frame(struct zone *z, uint64_t pfn);
uint64_t isolate_free_range(struct zone *z, uint64_t start, uint64_t end);
bool frame_isolated(const struct page *p);
void release_isolated(struct page *p);
uint64_t release_isolated_range(struct zone *z, uint64_t start, uint64_t end);
bool frame_is_free(const struct zone *z, uint64_t pfn);
/* buddy_check plus, for every frame of [start, end) bearing the mark: an
 * order-0 head with refcount 1, no flag, in the zone, on no free list.
 * 0 or -EUCLEAN with the first problem in why. */
int isolate_check(const struct zone *z, uint64_t start, uint64_t end, char *why, size_t size);

/*
 * Walk the whole zone and recount it: every free block is on its list,
 * aligned to its order, inside the zone, not overlapping another one, and
 * never next to a free buddy of the same order (merging is complete); the
 * free lists' counts match, and so do the per-CPU cache's lists and
 * count; every frame is exactly one of free (a buddy list's block),
 * cached (a block of the per-CPU cache), allocated (a referenced head and
 * its tails) or reserved, and every frame after a head, in any of these
 * blocks, is unmarked (no flag, refcount 0).  This full walk is where a
 * marked or referenced tail is found; the allocator's own checks on a
 * free are O(1) (mm/page_alloc.c).  Returns 0, or -EUCLEAN with a
 * description of the first problem in why.
 */
int buddy_check(const struct zone *z, char *why, size_t size);

#endif
