/*
 * Placement: the decisions mem_init takes before it writes anything
 * (mm/mem_place.c).  Pure code over the cleaned map, host-tested.
 */
#ifndef MM_MEM_PLACE_H
#define MM_MEM_PLACE_H

#include <mm/memmap.h>
#include <stdbool.h>

/* A run of frames [start_pfn, end_pfn) of RAM, and what becomes of it. */
struct mem_piece {
    uint64_t start_pfn, end_pfn;
    bool free;        /* true: node_add_free; false: node_add_present only */
};

struct mem_plan {
    uint64_t max_pfn;       /* one past the last frame of RAM */
    uint64_t map_pa;        /* where mem_map goes (page aligned) */
    uint64_t map_bytes;     /* max_pfn descriptors, rounded up to a page */
    uint64_t usable;        /* frames of MEM_USABLE ranges (mem_map's included) */
    struct mem_piece *pieces; /* in address order; the caller's array */
    size_t npieces;
};

/* Room always enough for the pieces of n ranges and nheld held ranges. */
#define MEM_PLACE_PIECES(n, nheld) ((n) + 2 * (nheld) + 2)

/*
 * Plan physical memory from the cleaned map r[0..n) (memmap_build's
 * output: sorted, disjoint, page aligned) and the ranges the loader
 * handed over (kernel image, initrd, its page tables, boot_info: held[],
 * in bytes, rounded outwards to whole pages; empty ones are ignored).
 *
 *  - max_pfn: the end of the highest range that is RAM (any kind but
 *    MEM_RESERVED);
 *  - mem_map: max_pfn descriptors of sizeof(struct page), in the first
 *    MEM_USABLE range (map order) with room for them above 16 MiB (ISA
 *    DMA memory is scarce), else in the first with room anywhere, at the
 *    lowest address of that range that overlaps no held range;
 *  - the pieces, written to pieces[0..cap): MEM_USABLE frames that are
 *    neither mem_map's nor inside a held range become free, every other
 *    frame of RAM present only.  Adjacent pieces of one sort are merged.
 *
 * Returns 0 with *plan filled in, or, with no pieces in the plan:
 *   -EINVAL  n == 0 (an empty map), r[] not sorted, disjoint and page
 *            aligned, a kind out of range, a held range with end < start,
 *            or cap below MEM_PLACE_PIECES(n, nheld) (plan all zero);
 *   -ENOMEM  no MEM_USABLE range has room for mem_map beside the held
 *            ranges, also when there is no usable memory at all
 *            (plan->max_pfn, usable and map_bytes say what did not fit).
 * Reads only its arguments: it can run before anything is set up.
 */
int mem_place(const struct mem_range *r, size_t n, const struct mem_range *held, size_t nheld,
              struct mem_piece *pieces, size_t cap, struct mem_plan *plan);

#endif
