/*
 * GFP ("get free pages") flags and the page allocator's API, with the
 * names of the course slides on Linux's allocators so readers arrive
 * knowing them.  Errors follow kernel/errno.h: allocations return NULL
 * (or 0 for a physical address), the rest 0/a count or -EINVAL/-EBUSY,
 * and a caller's misuse is also reported and counted in node0->errors.
 */
#ifndef MM_GFP_H
#define MM_GFP_H

#include <mm/page.h>
#include <mm/numa.h>

typedef unsigned int gfp_t;

#define __GFP_DMA    0x01u  /* only ZONE_DMA (< 16 MiB) */
#define __GFP_DMA32  0x02u  /* ZONE_DMA32 or below (< 4 GiB) */
#define __GFP_HIGH   0x04u  /* may dip into the zone's reserve below wmark_min */
#define __GFP_ATOMIC 0x08u  /* caller cannot sleep or wait for reclaim */
#define __GFP_ZERO   0x10u  /* return zeroed memory */
#define __GFP_NOWARN 0x20u  /* do not log a failure */
#define __GFP_MEMALLOC 0x40u /* ignore the watermarks (reclaim path, tests) */
/* The caller can move the page later (its owner reaches it only through
 * page tables or an object that the reverse map knows: user pages,
 * vmalloc): marked PG2_MOVABLE.  Migration (mm/migrate.c) moves pages
 * by what the reverse map finds, not by this mark; the mark says what
 * the allocation promised (kpageflags, the physical-memory view). */
#define __GFP_MOVABLE  0x80u
/* Linux's __GFP_HIGHMEM: the page may live in high memory (above what the
 * kernel maps permanently).  On x86-64 the direct map covers all RAM and
 * there is no ZONE_HIGHMEM: the flag is accepted and has no effect. */
#define __GFP_HIGHMEM  0x100u

/*
 * What the allocator may do to find memory, with the names of the course
 * slides (Linux 2.4's; today's kernels call __GFP_WAIT
 * __GFP_DIRECT_RECLAIM):
 *  - __GFP_WAIT: the caller can wait while the allocator reclaims (pages
 *    out, mm/vmscan.c) before failing: direct reclaim;
 *  - __GFP_IO: reclaim may start I/O: write pages to swap;
 *  - __GFP_FS: reclaim may call into file systems (none here needs to
 *    write anything back: tmpfs is memory; kept for the names);
 *  - __GFP_HIGHIO: I/O to high-memory pages may be started (2.4's
 *    bounce-buffer distinction; no highmem on x86-64: no effect).
 * Reclaim never calls back into itself: an allocation made while
 * reclaiming (a bounce buffer for the disk) does not reclaim.
 */
#define __GFP_WAIT   0x200u
#define __GFP_IO     0x400u
#define __GFP_FS     0x800u
#define __GFP_HIGHIO 0x1000u

#define GFP_KERNEL   (__GFP_WAIT | __GFP_IO | __GFP_FS)  /* normal kernel allocation */
#define GFP_ATOMIC   (__GFP_HIGH | __GFP_ATOMIC)  /* interrupts, spinlocks held: never waits */
#define GFP_NOIO     __GFP_WAIT                   /* may reclaim, but start no I/O (a disk driver) */
#define GFP_NOHIGHIO (__GFP_WAIT | __GFP_IO)      /* I/O, but none to high memory */
#define GFP_NOFS     (__GFP_WAIT | __GFP_IO | __GFP_HIGHIO)  /* no file-system call (a file system) */
#define GFP_NFS      GFP_KERNEL
#define GFP_KSWAPD   (__GFP_WAIT | __GFP_IO | __GFP_FS | __GFP_HIGHIO)  /* kswapd's own */
#define GFP_DMA    __GFP_DMA
#define GFP_DMA32  __GFP_DMA32
/* Linux's names for user pages: GFP_USER (a user page the kernel may
 * need to reach), GFP_HIGHUSER (may be in highmem: the same here) and
 * GFP_HIGHUSER_MOVABLE (and the reverse map can move it): what the fault
 * handler asks for a process's data pages (i386 processes add
 * __GFP_DMA32: their tables hold 32-bit frame addresses). */
#define GFP_USER             GFP_KERNEL
#define GFP_HIGHUSER         (GFP_USER | __GFP_HIGHMEM)
#define GFP_HIGHUSER_MOVABLE (GFP_HIGHUSER | __GFP_MOVABLE)

/*
 * alloc_pages: 2^order contiguous frames, naturally aligned, from the
 * highest zone the flags allow, falling back to lower zones (NORMAL ->
 * DMA32 -> DMA, never upwards).  The head descriptor has refcount 1; it is
 * the only one marked (include/mm/page.h).
 * Before failing it calls the node's shrink hook (node0->shrink: the
 * slab allocator's empty slabs) once and retries.
 * Returns NULL when nothing fits (one log line unless __GFP_NOWARN).
 */
struct page *alloc_pages(gfp_t gfp, unsigned order);
/*
 * NUMA (include/mm/numa.h): alloc_pages takes memory from the current
 * CPU's node first.  __alloc_pages prefers node nid (-1: the current
 * CPU's) and falls back along its zonelist, nearest node first, using
 * only nodes of nodemask (NULL: all), as Linux's; a nid that is no node
 * is a caller's error (reported, NULL).  alloc_pages_node(nid, ...) is
 * __alloc_pages with no mask.
 */
struct page *__alloc_pages(gfp_t gfp, unsigned order, int nid, const nodemask_t *nodemask);
struct page *alloc_pages_node(int nid, gfp_t gfp, unsigned order);
#define alloc_page(gfp) alloc_pages(gfp, 0)
/* Drop the caller's reference on a block from alloc_pages (its head). */
void __free_pages(struct page *page, unsigned order);
/* As alloc_pages/__free_pages but with direct-map addresses. */
void *__get_free_pages(gfp_t gfp, unsigned order);
void *get_zeroed_page(gfp_t gfp);
#define __get_free_page(gfp) __get_free_pages(gfp, 0)
#define __get_dma_pages(gfp, order) __get_free_pages((gfp) | __GFP_DMA, order)
void free_pages(void *addr, unsigned order);
#define free_page(addr) free_pages(addr, 0)

/*
 * Reference counts (the "physical memory" layer of the SOS mailing-list
 * post).  get_page takes a reference on an allocated block; put_page
 * drops one and frees the block when the count reaches 0.  Both return
 * the new count.  Doing either on something that is not the head of an
 * allocated block (a free, tail or reserved frame, a pointer outside
 * mem_map) is an error: it is reported and counted, nothing changes, and
 * -EINVAL is returned.
 */
int get_page(struct page *page);
int put_page(struct page *page);
/* The same by physical address (-EINVAL too for an address that is not a
 * frame's: unaligned, past max_pfn); frame_alloc returns a referenced
 * frame or 0. */
int frame_ref(uint64_t pa);
int frame_unref(uint64_t pa);
uint64_t frame_alloc(gfp_t gfp);
uint32_t page_count(const struct page *page);

/*
 * Constrained contiguous allocation, for DMA buffers: `n` contiguous
 * frames (any n >= 1, not only powers of two) whose first physical
 * address is a multiple of `align` (a power of two >= 4096) and which lie
 * entirely in [min, max).  Returns the first frame's physical address, or
 * 0 when no such run is free.  The run lies inside one zone (it never
 * straddles 16 MiB or 4 GiB), the lowest such run of the lowest zone is
 * taken, and the watermarks apply as for alloc_pages (__GFP_HIGH,
 * __GFP_MEMALLOC); zone flags are ignored: the window says where.
 * free_contig gives back exactly such a run: 0, or (reported, counted,
 * nothing changed) -EINVAL for a range that is not n alloc_contig frames
 * (unaligned, empty, past max_pfn, a frame not from alloc_contig) and
 * -EBUSY when one of them has more than one reference.
 */
uint64_t alloc_contig(uint64_t n, uint64_t align, uint64_t min, uint64_t max,
                      gfp_t gfp);
int free_contig(uint64_t pa, uint64_t n);

/*
 * May `want` frames leave zone z under these flags?  The zone's free count
 * (buddy lists plus per-CPU cache) must stay at or above wmark_min, half of
 * it for __GFP_HIGH, zero for __GFP_MEMALLOC.  Used by mm/ only.
 */
bool zone_watermark_ok(const struct zone *z, uint64_t want, gfp_t gfp);

/* Is frame pfn inside an allocated block, not as its head?  true and the
 * head's pfn when it is (O(MAX_ORDER): error reports and migration's
 * checks only).  Used by mm/ only. */
bool frame_tail_of(uint64_t pfn, uint64_t *head);

/* Free frames in all zones (buddy lists plus per-CPU caches). */
uint64_t nr_free_pages(void);
/* Give the per-CPU caches (blocks of orders 0..PCP_MAX_ORDER) back to the
 * buddy lists: this CPU's (drain_pcp_local) and, on the boot CPU, the
 * other CPUs' too, each asked to drain its own (drain_pcp_others, set
 * when they start: kernel/cpu/smpboot.c). */
void drain_pcp(void);
void drain_pcp_local(void);
extern void (*drain_pcp_others)(void);

#endif
