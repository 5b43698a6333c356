/*
 * Host glue for the physical-memory allocator (mm/buddy.c, page_alloc.c,
 * zone.c, contig.c, release.c, mmstat.c, and the pure mm/memmap.c and
 * mem_place.c) in host tests and fuzz targets.
 *
 * "Physical memory" is one anonymous mapping of max_pfn frames, reserved
 * with PROT_NONE and MAP_NORESERVE, in which only the RAM ranges given to
 * mm_host_init() are made readable and writable.  phys_to_virt(pa) is
 * arena + pa, so the allocator's direct map is linear as in the kernel
 * (virt_to_page and free_pages work), a node can span 4 GiB + 64 MiB
 * (all three zones) while only its RAM costs host memory, and a write to
 * a frame that is not RAM faults instead of passing silently.
 *
 * The report hook records every message (the allocator's errors and
 * warnings) so that tests can assert that something was reported.
 * panic() prints and aborts: a test that hits a broken invariant (an
 * ASSERT, or a DASSERT: host builds define DEBUG=1) fails loudly.
 * printk() writes to stderr, never to stdout, where the test runner
 * parses "ok - name" lines.
 */
#ifndef MM_HOST_H
#define MM_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mm/memmap.h>
#include <mm/page.h>

/* A RAM range in bytes, page aligned, [start, end). */
struct host_ram {
    uint64_t start, end;
};

/*
 * Build mm_host_node over max_pfn frames with the given RAM (handed to
 * the allocator with node_add_free, then node_finish), and make it
 * node0.  A previous arena is released first.  Aborts on host errors.
 */
void mm_host_init(uint64_t max_pfn, const struct host_ram *ram, size_t nram);
/* mm_host_init, then every zone's watermarks at 0: the tests of address
 * spaces count frames exactly and want every free one usable. */
void mm_host_init_no_watermarks(uint64_t max_pfn, const struct host_ram *ram, size_t nram);
/*
 * Start the same node again from scratch (node_init, add_free,
 * finish) without remapping: for fuzz targets, one fresh node per input.
 */
void mm_host_reset(void);
/* Release the arena and mem_map. */
void mm_host_fini(void);
/*
 * mm_host_init, but the node is split into the layout's nodes
 * (numa_nodes_init with CPU APIC id cpu_apic) before the RAM is handed
 * out, as mem_init does: returns numa_nodes_init's result (-EINVAL: one
 * node, as the kernel then has).
 */
struct numa_layout;
int mm_host_init_numa(uint64_t max_pfn, const struct host_ram *ram, size_t nram,
                      const struct numa_layout *l, uint32_t cpu_apic);

extern struct mem_node mm_host_node;
/* Base of the arena: physical address 0. */
uint8_t *mm_host_arena(void);
/* Is [pa, pa + len) inside one of the RAM ranges? */
bool mm_host_is_ram(uint64_t pa, uint64_t len);

/* Reports received so far (a counter that only grows). */
uint64_t mm_host_reports(void);
/* The last report, or "" when there was none. */
const char *mm_host_last_report(void);
/* Does a report received since `mark` (a mm_host_reports() value) contain needle? */
bool mm_host_reported_since(uint64_t mark, const char *needle);
/* Echo reports to stderr (default: only when MM_HOST_VERBOSE is set). */
void mm_host_echo(bool on);

/*
 * Checks of memmap_build()'s output, shared by test_memmap and fuzz_memmap.
 * Both are validators: 0, or -EUCLEAN with the first problem in why
 * (memmap_check_model: -ENOMEM when the host is out of memory).
 *
 * memmap_check_output: the output invariants: page 0 reserved, ranges
 * page aligned, non-empty, below 2^52, sorted, non-overlapping, and no two
 * adjacent ranges of one kind.
 *
 * memmap_check_model: the output against an independent statement of the
 * rules, over the whole physical address space.  Each descriptor covers a
 * range of pages: usable ones the pages entirely inside them (rounded
 * inwards) and only when they end at or below 2^52; others every page they
 * touch (rounded outwards), cut at 2^52.  A page's kind is the highest
 * kind covering it, page 0 is reserved, pages nothing covers are holes.
 * Both the model and the output are constant between consecutive
 * boundaries, so comparing them at every boundary of either compares them
 * everywhere.  The map must have at most MEMMAP_MAX_IN descriptors.
 */
int memmap_check_output(const struct mem_range *r, size_t n, char *why, size_t size);
int memmap_check_model(const void *map, uint64_t map_size, uint64_t desc_size,
                       const struct mem_range *r, size_t n, char *why, size_t size);

#endif
