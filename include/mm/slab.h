/*
 * The slab allocator and kmalloc (mm/slab.c, slab_debug.c, slab_stat.c,
 * kmalloc.c; docs/slab.md).
 *
 * A cache hands out objects of one size.  It keeps them in slabs: blocks
 * of 2^order frames from the page allocator, cut into equal slots
 * (Bonwick 1994; the course slides on Linux's allocators).  kmalloc is a
 * set of caches of geometric sizes, 8 bytes to 8 KiB, and whole buddy
 * blocks above that.
 *
 * Context: none of these functions sleeps; there is no lock yet (one CPU,
 * no preemption inside mm/), so they must not be called from an
 * interrupt handler that may have interrupted one of them.
 *
 * Errors a caller makes (freeing a pointer that was not allocated,
 * freeing into the wrong cache) are detected before anything changes and
 * reported with the cache, the object and the offset: a panic normally,
 * a report on the console and no change (the bad free is ignored) in
 * debug mode.  Double frees: in debug mode every one, like the errors
 * above; in normal mode a free of the object last freed into the cache
 * (the top of its per-CPU array) at once, and others when the object
 * goes back to its slab (the array is flushed or drained), unless an
 * allocation handed the object out again first (docs/slab.md, section 6).
 */
#ifndef MM_SLAB_H
#define MM_SLAB_H

#include <mm/gfp.h>

/* kmem_cache_create flags (the names of the course slides and Linux). */
#define SLAB_HWCACHE_ALIGN 0x01ul  /* align objects on cache lines (small ones: a fraction) */
#define SLAB_CACHE_DMA     0x02ul  /* slabs from ZONE_DMA (< 16 MiB) */
#define SLAB_CACHE_DMA32   0x04ul  /* slabs from ZONE_DMA32 or below (< 4 GiB) */
#define SLAB_NO_REAP       0x08ul  /* memory pressure never takes this cache's empty slabs */

#define SLAB_CACHE_LINE 64                     /* bytes; x86-64 */
#define KMEM_CACHE_MAX_SIZE (128ul * 1024)     /* largest object a cache accepts */
#define KMALLOC_MIN_SIZE 8                     /* smallest kmalloc class, the least alignment */
#define KMALLOC_MAX_CACHE_SIZE 8192ul          /* above this kmalloc uses whole buddy blocks */

struct kmem_cache;

/*
 * Set up the cache of caches and the kmalloc caches, and register the
 * slab shrinker with the page allocator (node0->shrink).  Call once,
 * after mem_init and after the command line is parsed: the kmalloc caches
 * take slab_debug's value at this moment.  Host tests call it again after
 * each mm_host_init: it forgets every cache and starts afresh.
 */
void kmem_cache_init(void);

/*
 * A new cache of objects of `size` bytes aligned to `align` (0: 8 bytes;
 * otherwise a power of two, at most PAGE_SIZE; never less than 8).  ctor,
 * when given, is called once on every object when its slab is created,
 * not on every allocation: a freed object must be handed back in its
 * constructed state (Bonwick's object caching).  `name` is copied (31
 * characters kept).  Returns NULL when an argument is absurd (no name,
 * size 0 or above KMEM_CACHE_MAX_SIZE, a bad alignment, unknown flags)
 * or there is no memory for the descriptor.  The cache takes slab_debug's
 * current value.
 */
struct kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align,
                                     unsigned long flags, void (*ctor)(void *));
/*
 * Destroy an empty cache: 0.  A cache with objects still allocated is a
 * leak: it is reported (name, count, first object) and left as it is:
 * -1.  The cache of caches and the kmalloc caches cannot be destroyed.
 */
int kmem_cache_destroy(struct kmem_cache *cache);
/*
 * An object, or NULL when no memory is left.  gfp goes to the page
 * allocator when the cache must grow (__GFP_HIGH, __GFP_NOWARN...);
 * __GFP_ZERO zeroes the object; a zone flag the cache cannot satisfy
 * (__GFP_DMA on a cache without SLAB_CACHE_DMA) is refused: NULL.
 */
void *kmem_cache_alloc(struct kmem_cache *cache, gfp_t gfp);
/* Give an object back to the cache it came from.  NULL is ignored. */
void kmem_cache_free(struct kmem_cache *cache, void *obj);
/* Give the cache's empty slabs back to the page allocator (its per-CPU
 * array is emptied first); returns the frames freed. */
uint64_t kmem_cache_shrink(struct kmem_cache *cache);
/* The object size the cache was created with. */
size_t kmem_cache_size(const struct kmem_cache *cache);
/* Objects allocated from the cache and not yet freed. */
uint64_t kmem_cache_live(const struct kmem_cache *cache);

/*
 * kmalloc: `size` bytes from the smallest size class that fits (8 to 128
 * in steps of 8, then eight classes per doubling: 144, 160, ... 256, 288,
 * ... 8192), or a buddy block of 2^order frames above 8 KiB.  Alignment:
 * the largest power of two dividing the class size, so a power-of-two
 * class is naturally aligned (kmalloc(64) to 64 bytes, kmalloc(4096) to
 * a page), any block to at least 8 bytes and a block above 128 bytes to
 * at least 16; a buddy block to a page.  __GFP_DMA / __GFP_DMA32 give
 * memory below 16 MiB / 4 GiB (classes of their own), __GFP_ZERO zeroed
 * memory.  kmalloc(0) and sizes above the largest buddy block (4 MiB)
 * return NULL.
 */
void *kmalloc(size_t size, gfp_t gfp);
static inline void *kzalloc(size_t size, gfp_t gfp)
{
    return kmalloc(size, gfp | __GFP_ZERO);
}
/* Free what kmalloc returned.  NULL is ignored. */
void kfree(const void *p);
/* Usable size of a kmalloc block (its class size, >= the request); 0
 * for a pointer kmalloc did not return. */
size_t ksize(const void *p);

/*
 * Memory pressure: empty every per-CPU array and give back the empty
 * slabs of every cache without SLAB_NO_REAP; returns the frames freed.
 * The page allocator calls it once before it fails a request.
 */
uint64_t slab_shrink_all(void);
/* Give this CPU's per-CPU arrays back to their slabs (each CPU empties
 * its own: the boot CPU asks the others when it drains the per-CPU
 * caches, kernel/cpu/tlb_shootdown.c).  slab_shrink_all empties only the
 * calling CPU's arrays. */
void slab_drain_local(void);

/*
 * Debug mode (the slab_debug command-line option): red zones around
 * objects, poisoning of free objects (0x6b) and of fresh ones (0x5a),
 * reports instead of panics.  slab_set_debug applies to the caches
 * created afterwards; caches with a constructor get red zones but no
 * poisoning (it would destroy the constructed state).
 */
extern bool slab_debug;
void slab_set_debug(bool on);

/*
 * /proc/slabinfo, version 2.1 (Linux's format): one line per cache with
 * active (allocated) objects, total objects, the size of a slot in bytes,
 * objects per slab, pages per slab, the per-CPU array's limit and batch,
 * and the slabs holding objects / all slabs.  Returns the length like
 * snprintf (the text is cut to fit `size`).
 */
int slabinfo(char *buf, size_t size);
/* Frames held by all slabs (every cache, empty slabs included). */
uint64_t slab_pages_held(void);
/* Frames held by kmalloc blocks above KMALLOC_MAX_CACHE_SIZE. */
uint64_t kmalloc_large_pages(void);
/* Objects callers hold, in every cache but the cache of caches (leak checks;
 * the off-slab descriptors the allocator keeps in kmalloc blocks do not count). */
uint64_t slab_live_objects(void);
/* Errors reported so far (bad frees, corruption, refused destroys), and the last one. */
uint64_t slab_error_count(void);
const char *slab_last_error(void);

/*
 * The validator: walks every cache, slab and per-CPU array and recounts
 * (lists against free counts, bitmaps, page marks, totals); in debug
 * mode also every red zone and the poison of every free object.  Returns
 * 0, or -EUCLEAN with the first problem in why.
 */
int slab_check(char *why, size_t size);

#endif
