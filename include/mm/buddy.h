/*
 * The buddy allocator of one zone (mm/buddy.c).  These functions know
 * nothing of GFP flags, watermarks or reference counts: mm/page_alloc.c
 * builds the kernel's API on top of them.  Frames are named by pfn.
 */
#ifndef MM_BUDDY_H
#define MM_BUDDY_H

#include <mm/page.h>

#define PFN_NONE (~0ul)

/* Take a free block of 2^order frames; PFN_NONE when none is free. */
uint64_t buddy_alloc(struct zone *z, unsigned order);
/* Give back the block of 2^order frames at pfn, merging with free buddies. */
void buddy_free(struct zone *z, uint64_t pfn, unsigned order);
/* Give back [start, end) as the largest aligned blocks that fit. */
void buddy_free_range(struct zone *z, uint64_t start, uint64_t end);
/* The free block containing pfn: true and its head/order, or false. */
bool buddy_find_free(const struct zone *z, uint64_t pfn, uint64_t *head,
                     unsigned *order);
/* Take the free frames [start, end) off the free lists (all must be free). */
void buddy_isolate(struct zone *z, uint64_t start, uint64_t end);

/*
 * Walk the whole zone and recount it: every free block is on its list,
 * aligned to its order, inside the zone, not overlapping another one, and
 * never next to a free buddy of the same order (merging is complete); the
 * free lists' counts match; every frame is exactly one of free (buddy
 * list), cached (pcp), allocated (a referenced head and its tails) or
 * reserved.  Returns 0, or -1 with a description of the first problem.
 */
int buddy_check(const struct zone *z, char *why, size_t size);

#endif
