/*
 * kmalloc: memory by the byte, over slab caches of geometric size
 * classes (the course slides on Linux's allocators: "alignement effectif
 * sur des tailles prédéfinies (dist géométrique)").
 *
 * Invariants:
 *  - a request of n bytes (1 <= n <= 8 KiB) is served by the smallest
 *    class >= n; the classes are 8 to 128 in steps of 8, then eight per
 *    doubling (144, 160, ... 256, 288, ... 8192: steps of 1/8 of the
 *    power of two below), so a class is less than 1.125 times the
 *    smallest request it serves, above 128 bytes;
 *  - an object of class k is aligned to the largest power of two that
 *    divides k (at most PAGE_SIZE): a power-of-two class is naturally
 *    aligned, every class at least to 8 bytes, classes above 128 bytes to
 *    at least 16 (the cache is created with that alignment, and slabs and
 *    colours keep it);
 *  - larger requests get a whole buddy block of 2^order frames, marked
 *    PG_SLAB with no descriptor, so that kfree and ksize recognise it;
 *  - each zone a caller can ask for (GFP_DMA, GFP_DMA32, neither) has its
 *    own set of classes: memory from the normal set may lie anywhere, so
 *    a DMA request cannot be served from it.  The normal set is created
 *    by kmem_cache_init, smallest first (the descriptors of the big
 *    classes' slabs live in the small ones); the DMA sets class by class
 *    on first use.
 *
 * Why eight classes per doubling: with powers of two only, a request
 * fills on average about 3/4 of its block; with four per doubling (as
 * jemalloc and mimalloc space them) about 92%, and the rest of the memory
 * a slab holds (descriptors, tails, partly used slabs, the per-CPU
 * arrays) leaves under 90% of it in requested bytes.  With eight, a
 * request fills about 96% of its class; with slab layouts that waste
 * little (mm/slab.c, choose_layout) that meets the memory target of the
 * benchmark (at least 92% of the frames held are requested bytes,
 * docs/slab.md).  The price is more caches (64 instead of 36),
 * each with its own partly used slab; below 128 bytes the classes are
 * already 8 bytes apart, the alignment every object needs.
 */
#include "slab_impl.h"
#include <kernel/printk.h>

static const uint16_t class_size[] = {
    8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128,
    144, 160, 176, 192, 208, 224, 240, 256,
    288, 320, 352, 384, 416, 448, 480, 512,
    576, 640, 704, 768, 832, 896, 960, 1024,
    1152, 1280, 1408, 1536, 1664, 1792, 1920, 2048,
    2304, 2560, 2816, 3072, 3328, 3584, 3840, 4096,
    4608, 5120, 5632, 6144, 6656, 7168, 7680, 8192,
};
#define NR_CLASSES (sizeof(class_size) / sizeof(class_size[0]))
_Static_assert(sizeof(class_size) / sizeof(class_size[0]) < 256, "size_index holds uint8_t");

enum { KM_NORMAL, KM_DMA32, KM_DMA, KM_SETS };
static const char *const set_prefix[KM_SETS] = { "", "dma32-", "dma-" };
static const unsigned long set_flags[KM_SETS] = { 0, SLAB_CACHE_DMA32, SLAB_CACHE_DMA };

static struct kmem_cache *classes[KM_SETS][NR_CLASSES];
/* The class of a request of n bytes: size_index[(n - 1) / 8]. */
static uint8_t size_index[KMALLOC_MAX_CACHE_SIZE / 8];

/* The alignment of class k: its lowest set bit (k itself for a power of
 * two), at most a page. */
static size_t class_align(size_t k)
{
    size_t a = k & -k;
    return a > PAGE_SIZE ? PAGE_SIZE : a;
}

static struct kmem_cache *create_class(int set, unsigned idx)
{
    char name[32];
    snprintf(name, sizeof(name), "%skmalloc-%u", set_prefix[set], class_size[idx]);
    struct kmem_cache *c = slab_create(name, class_size[idx], class_align(class_size[idx]),
                                       SLAB_KMALLOC | SLAB_PERMANENT | set_flags[set], NULL);
    classes[set][idx] = c;
    return c;
}

void kmalloc_clear_classes(void)
{
    for (int set = 0; set < KM_SETS; set++)
        for (unsigned i = 0; i < NR_CLASSES; i++)
            classes[set][i] = NULL;
}

void kmalloc_init(void)
{
    unsigned idx = 0;
    for (unsigned i = 0; i < KMALLOC_MAX_CACHE_SIZE / 8; i++) {
        while (class_size[idx] < (i + 1) * 8)
            idx++;
        size_index[i] = (uint8_t)idx;
    }
    kmalloc_clear_classes();
    for (unsigned i = 0; i < NR_CLASSES; i++)
        if (!create_class(KM_NORMAL, i))
            panic("kmalloc_init: cannot create kmalloc-%u", class_size[i]);
}

struct kmem_cache *kmalloc_slab(size_t size)
{
    if (size == 0 || size > KMALLOC_MAX_CACHE_SIZE)
        return NULL;
    return classes[KM_NORMAL][size_index[(size - 1) / 8]];
}

static void *kmalloc_large(size_t size, gfp_t gfp)
{
    if (size == 0 || !classes[KM_NORMAL][0])
        return NULL;
    if (size > (PAGE_SIZE << MAX_ORDER)) {
        if (!(gfp & __GFP_NOWARN))
            printk("kmalloc: %zu bytes is more than the largest block (%lu): refused\n", size,
                   (PAGE_SIZE << MAX_ORDER));
        return NULL;
    }
    unsigned order = 0;
    while ((PAGE_SIZE << order) < size)
        order++;
    struct page *pg = alloc_pages(gfp, order);
    if (!pg)
        return NULL;
    slab_mark_pages(pg, order, NULL);
    __atomic_fetch_add(&slab_large_pages, 1ul << order, __ATOMIC_RELAXED);
    return page_address(pg);
}

void *kmalloc(size_t size, gfp_t gfp)
{
    if (unlikely(size - 1 >= KMALLOC_MAX_CACHE_SIZE)) /* 0 wraps round: large path */
        return kmalloc_large(size, gfp);
    int set = (gfp & __GFP_DMA) ? KM_DMA : (gfp & __GFP_DMA32) ? KM_DMA32 : KM_NORMAL;
    unsigned idx = size_index[(size - 1) / 8];
    struct kmem_cache *c = classes[set][idx];
    /* A DMA class is made at its first use, by the kernel lock's holder
     * only (the list of caches has no lock of its own): another CPU gets
     * NULL until then. */
    if (unlikely(!c) && (!mm_reclaim_cpu() || !(c = create_class(set, idx))))
        return NULL;
    return kmem_cache_alloc(c, gfp & ~(__GFP_DMA | __GFP_DMA32));
}

void kfree(const void *p)
{
    if (!p)
        return;
    struct page *pg = slab_head_page(p);
    if (unlikely(!pg)) {
        slab_error(NULL, p, 0, "kfree of a pointer kmalloc did not return");
        return;
    }
    struct slab *s = page_slab(pg);
    if (s) {
        if (unlikely(!(s->cache->flags & SLAB_KMALLOC))) {
            slab_error(s->cache, p, 0,
                       "cache mismatch (kfree of a kmem_cache object: use kmem_cache_free)");
            return;
        }
        slab_free_object(s->cache, s, (void *)p);
        return;
    }
    char *base = page_address(pg);
    if (p != base) {
        slab_error(NULL, p, (long)((const char *)p - base),
                   "kfree of a pointer inside a kmalloc block");
        return;
    }
    unsigned order = pg->order;
    slab_unmark_pages(pg, order);
    __atomic_fetch_sub(&slab_large_pages, 1ul << order, __ATOMIC_RELAXED);
    __free_pages(pg, order);
}

size_t ksize(const void *p)
{
    struct page *pg = p ? slab_head_page(p) : NULL;
    if (!pg)
        return 0;
    struct slab *s = page_slab(pg);
    if (s)
        return s->cache->object_size;
    return p == page_address(pg) ? PAGE_SIZE << pg->order : 0;
}
