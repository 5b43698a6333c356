/*
 * Inside the slab allocator: the structures shared by mm/slab.c,
 * slab_debug.c, slab_stat.c and kmalloc.c.  Nothing outside mm/ (and the
 * white-box host tests) includes this.
 *
 * A slab is 2^order frames holding `num` slots of `size` bytes, starting
 * `colour` bytes in.  Its descriptor (struct slab) sits either at the end
 * of the slab itself (on-slab) or in a kmalloc block (off-slab).  The
 * head frame of a slab is marked PG_SLAB and its next/prev fields hold the
 * descriptor's address (low and high 32 bits); every other frame of the
 * slab holds the head's frame number in next.  That is how a pointer is
 * traced back to its slab and cache (slab_head_page, page_slab).  A
 * kmalloc block above 8 KiB is marked the same way with a NULL descriptor.
 *
 * Per object, one bit in the descriptor: `free` (on the slab's free set).
 * Every object is in exactly one of three places: its slab's free set
 * (bit set), the cache's per-CPU array (bit clear, an entry in the
 * array), or a caller's hands (bit clear, no entry).  The third set is
 * not recorded anywhere: it is what the other two leave, so that neither
 * fast path writes to the descriptor.  A debug cache has no per-CPU array
 * (limit 0): its objects are free in their slab or allocated, and the
 * free bit alone tells a double free.
 */
#ifndef MM_SLAB_IMPL_H
#define MM_SLAB_IMPL_H

#include <mm/slab.h>
#include <mm/page.h>
#include <kernel/spinlock.h>

#define unlikely(x) __builtin_expect(!!(x), 0)

#define SLAB_MAX_ORDER 5          /* slabs of 1 to 32 frames (64 for debug caches) */
#define SLAB_GOOD_ORDER 4         /* larger only for objects above 64 KiB */
#define SLAB_NR_CPUS PCP_CPUS     /* CPUs with a per-CPU array in each cache; the others
                                   * take objects from the slabs under the cache's lock */
#define AC_MAX 64                 /* room in a per-CPU array */

/* Internal flags, above the ones kmem_cache_create accepts. */
#define SLAB_USER_FLAGS (SLAB_HWCACHE_ALIGN | SLAB_CACHE_DMA | SLAB_CACHE_DMA32 | SLAB_NO_REAP)
#define SLAB_KMALLOC   0x100ul    /* a kmalloc class: kfree may free its objects */
#define SLAB_PERMANENT 0x200ul    /* kmem_cache_destroy refuses it */

/* Debug-mode byte patterns (Linux's values, so they look familiar). */
#define POISON_FREE  0x6b         /* a free object */
#define POISON_INUSE 0x5a         /* a freshly allocated object, not yet written */
#define RED_ZONE     0xbb         /* the guard bytes around an object */
#define RED_ZONE_MIN 8            /* at least this many guard bytes on each side */

/* A circular doubly linked list with a sentinel. */
struct slab_link {
    struct slab_link *next, *prev;
};

struct slab {
    struct slab_link link;        /* on one of the cache's three lists (first member) */
    struct kmem_cache *cache;
    char *s_mem;                  /* the first slot */
    uint32_t nfree;               /* bits set in the free map */
    uint32_t colour;              /* bytes between the slab's start and s_mem */
    uint64_t map[];               /* the free bits, map_words words */
};

/*
 * Recently freed objects of one cache on one CPU (Bonwick and Adams's
 * magazine, Linux SLAB's array_cache): a stack, popped by alloc, pushed
 * by free.  The objects are entry[1] to entry[avail], the top is
 * entry[avail]; entry[0] is a sentinel whose obj is always NULL, so free
 * can compare the object with the top without testing avail first.  The
 * slab is kept beside each object, so that a flush needs no lookup.
 */
struct ac_entry {
    void *obj;
    struct slab *slab;
};
struct array_cache {
    uint32_t avail, limit, batch; /* limit 0 (a debug cache): never used */
    struct ac_entry entry[AC_MAX + 1];
};

struct kmem_cache {
    /* Used on every allocation and free (with cpu[], at the end). */
    size_t size;                  /* slot: the object plus red zones and padding */
    size_t object_size;           /* what the caller asked for */
    size_t obj_offset;            /* red zone before the object (debug), else 0 */
    size_t span;                  /* num * size: the slots of a slab */
    uint64_t recip;               /* ceil(2^32 / size): index = (offset * recip) >> 32 */
    uint64_t slot_magic;          /* 1 + (2^64 - 1) / size: see slab_is_slot_start */
    uint32_t num;                 /* objects per slab */
    uint32_t map_words;           /* 64-bit words in the free map */
    uint32_t order;               /* a slab is 2^order frames */
    bool debug, poison, offslab;
    gfp_t gfp_zone;               /* zone flag for alloc_pages */
    gfp_t gfp_refuse;             /* zone flags kmem_cache_alloc cannot satisfy */
    gfp_t gfp_slow;               /* gfp flags that need the slow path */
    /* Growing and shrinking. */
    unsigned long flags;
    size_t align;
    void (*ctor)(void *);
    size_t desc_size;             /* bytes of a struct slab with its free map */
    size_t colour_off;            /* colour step */
    uint32_t colour_count, colour_next;
    /* The slab lists, nr_slabs, free_objs and colour_next: under `lock`
     * (the per-CPU arrays are their CPUs' alone). */
    spinlock_t lock;
    struct slab_link full, partial, empty;
    uint64_t nr_slabs;
    uint64_t free_objs;           /* the slabs' nfree, summed */
    struct slab_link chain;       /* on the list of all caches */
    char name[32];
    struct array_cache cpu[SLAB_NR_CPUS];
};

/* The frame descriptor array and the direct map, cached at kmem_cache_init
 * so that a pointer becomes its frame in a few instructions. */
struct slab_dmap {
    uintptr_t base;               /* virtual address of physical 0 */
    uint64_t bytes;               /* max_pfn << PAGE_SHIFT */
    struct page *map;
};
extern struct slab_dmap slab_dmap;
extern struct slab_link slab_caches;  /* every cache, in creation order */
extern struct kmem_cache slab_cache_cache;
extern uint64_t slab_pages, slab_large_pages;

/* The cache whose `chain` link l is. */
static inline struct kmem_cache *slab_chain_cache(struct slab_link *l)
{
    return (struct kmem_cache *)((char *)l - offsetof(struct kmem_cache, chain));
}

/* Objects in callers' hands: the slots neither free in a slab nor in a
 * per-CPU array (no counter on the fast paths). */
static inline uint64_t slab_cache_live(const struct kmem_cache *c)
{
    uint64_t cached = 0;
    for (int i = 0; i < SLAB_NR_CPUS; i++)
        cached += c->cpu[i].avail;
    return c->nr_slabs * c->num - c->free_objs - cached;
}

/* This CPU: its array is cpu[slab_cpu()] when below SLAB_NR_CPUS. */
static inline unsigned slab_cpu(void)
{
    return mm_cpu();
}

/*
 * The head frame of the slab or large kmalloc block containing p, or
 * NULL when p is not in one.  A tail frame's next field may be stale (set
 * by an earlier owner of the frame); it is believed only when the frame it
 * names is a PG_SLAB head whose block covers this frame, which no stale
 * value can fake: blocks do not overlap.
 */
static inline struct page *slab_head_page(const void *p)
{
    uint64_t off = (uint64_t)((uintptr_t)p - slab_dmap.base);
    if (off >= slab_dmap.bytes)
        return NULL;
    uint64_t pfn = off >> PAGE_SHIFT;
    struct page *pg = &slab_dmap.map[pfn];
    if (!(pg->flags & PG_SLAB)) { /* a tail frame, or in no slab */
        uint64_t head = pg->next;
        if (head >= pfn)
            return NULL;
        pg = &slab_dmap.map[head];
        if (pfn - head >= (1ul << pg->order))
            return NULL;
    }
    return (pg->flags & PG_SLAB) ? pg : NULL;
}

static inline struct slab *page_slab(const struct page *pg)
{
    return (struct slab *)(uintptr_t)((uint64_t)pg->prev << 32 | pg->next);
}

/* Index of the slot at s_mem + off, for off a multiple of size below span:
 * exact, since off * (recip * size - 2^32) < span < 2^32. */
static inline uint32_t slab_index(const struct kmem_cache *c, uint64_t off)
{
    return (uint32_t)((off * c->recip) >> 32);
}

/*
 * Is off (below span, so below 2^32) a multiple of the slot size?  One
 * multiplication, no division: with M = 1 + (2^64 - 1) / size, off is a
 * multiple of size exactly when off * M mod 2^64 < M (Lemire, Kaser and
 * Kurz, "Faster Remainder by Direct Computation", 2019: valid for sizes
 * and offsets below 2^32).
 */
static inline bool slab_is_slot_start(const struct kmem_cache *c, uint64_t off)
{
    return off * c->slot_magic < c->slot_magic;
}

/* Is slot i of slab s on the slab's free set? */
static inline bool slab_is_free(const struct slab *s, uint32_t i)
{
    return s->map[i / 64] & (1ul << (i % 64));
}

static inline void *slab_object(const struct kmem_cache *c, const struct slab *s, uint32_t i)
{
    return s->s_mem + c->obj_offset + (size_t)i * c->size;
}

static inline char *slab_base(const struct slab *s)
{
    return s->s_mem - s->colour;
}

/* Mark a block as a slab (desc) or a large kmalloc block (NULL), and undo it. */
void slab_mark_pages(struct page *pg, unsigned order, struct slab *desc);
void slab_unmark_pages(struct page *pg, unsigned order);

/* Free an object known to lie in slab s of cache c (kfree's path). */
void slab_free_object(struct kmem_cache *c, struct slab *s, void *obj);

/*
 * Report an error about an object: "slab error: <what>: cache <name>,
 * object <address>, offset <n>".  When the cache is in debug mode (or,
 * with no cache, when slab_debug is on) it is printed and counted and the
 * caller goes on; otherwise it panics.
 */
void slab_error(const struct kmem_cache *c, const void *obj, long offset, const char *what);
/* Print and record a report that is not a panic (a refused destroy). */
void slab_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void slab_reset_reports(void);

/* Debug mode (mm/slab_debug.c). */
void slab_debug_init_slab(struct kmem_cache *c, struct slab *s);
void slab_debug_on_alloc(struct kmem_cache *c, void *obj);
void slab_debug_on_free(struct kmem_cache *c, void *obj);
void slab_debug_check_slab(struct kmem_cache *c, struct slab *s);

/* kmalloc.c: create the kmalloc classes; the existing normal-zone class
 * for `size` bytes, or NULL (for off-slab descriptors). */
void kmalloc_init(void);
/* Forget the kmalloc classes (kmem_cache_init, before the first cache is
 * laid out: a second init, in host tests, must not see the caches of a
 * previous arena when it looks for an off-slab descriptor class). */
void kmalloc_clear_classes(void);
struct kmem_cache *kmalloc_slab(size_t size);
/* slab.c: create a cache with internal flags too. */
struct kmem_cache *slab_create(const char *name, size_t size, size_t align,
                               unsigned long flags, void (*ctor)(void *));

#endif
