/*
 * Host tests of the slab allocator and kmalloc (mm/slab.c, slab_debug.c,
 * slab_stat.c, kmalloc.c) over the page allocator of tests/host/mm_host.c
 * (a real buddy allocator over a private arena: the "host page provider").
 *
 * Every case starts from a fresh node and a fresh kmem_cache_init.  After
 * every operation of the random runs, and every few dozen in the long
 * loops of the other cases, check() runs slab_check() (every cache, slab,
 * bitmap, per-CPU array and page mark; red zones and poison in debug mode),
 * node_check() (the buddy allocator's own validator: the slab's use of
 * struct page must not trip it), and the frame count: the frames free
 * plus those in slabs and large kmalloc blocks plus those the case took
 * itself always equal the frames free before kmem_cache_init.  Cases that
 * hold objects fill each with a pattern of its own address and check it
 * before freeing, so that an object handed out twice is caught.
 *
 * Reports: in normal mode a bad free panics.  The cases that check it run
 * the bad call in a fork()ed child and look for SIGABRT and the message
 * (cache, object, offset) on its stderr.  In debug mode reports are
 * counted (slab_error_count) and the last one kept (slab_last_error).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "htest.h"
#include "mm_host.h"
#include "../../mm/slab_impl.h"
#include <kernel/errno.h>
#include <mm/buddy.h>
#include <mm/zone.h>

#define MiB (1ul << 20)
#define GiB (1ul << 30)
#define FR 4096ul
#define PFN(pa) ((uint64_t)(pa) >> PAGE_SHIFT)

/* ---- layouts ------------------------------------------------------------------------ */

struct layout {
    uint64_t max_pfn;
    const struct host_ram *ram;
    size_t nram;
};

/* 64 MiB: DMA and DMA32; slab_check walks 16384 frames. */
static const struct host_ram small_ram[] = {
    { 1 * MiB, 16 * MiB },
    { 16 * MiB, 64 * MiB - 5 * FR },
};
static const struct layout SMALL = { PFN(64 * MiB), small_ram, HT_COUNT(small_ram) };

/* All three zones, sparse (slab_check walks ~1M frames: few checks here). */
static const struct host_ram big_ram[] = {
    { 1 * MiB, 16 * MiB },
    { 16 * MiB, 32 * MiB },
    { 4 * GiB, 4 * GiB + 16 * MiB },
};
static const struct layout BIG = { PFN(4 * GiB + 16 * MiB), big_ram, HT_COUNT(big_ram) };

static uint64_t base_free;   /* frames free before kmem_cache_init */
static uint64_t taken;       /* frames the case took with alloc_pages itself */
static uint64_t errs;        /* slab_error_count() the case expects */

static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return n ? (rng * 0x2545f4914f6cdd1dul) % n : 0;
}

static void setup(const struct layout *l, bool debug)
{
    mm_host_init(l->max_pfn, l->ram, l->nram);
    base_free = nr_free_pages();
    taken = 0;
    errs = 0;
    rng = 0x9e3779b97f4a7c15ul;
    slab_set_debug(debug);
    kmem_cache_init();
}

static bool is_ram_addr(const void *p, size_t n)
{
    uint64_t pa = (uint64_t)((const uint8_t *)p - mm_host_arena());
    return mm_host_is_ram(pa, n);
}

static uint64_t phys(const void *p)
{
    return (uint64_t)((const uint8_t *)p - mm_host_arena());
}

static void check(void)
{
    char why[256];
    HT_ASSERT(slab_check(why, sizeof(why)) == 0, "slab_check: %s", why);
    HT_ASSERT(node_check(why, sizeof(why)) == 0, "node_check: %s", why);
    HT_ASSERT(nr_free_pages() + slab_pages_held() + kmalloc_large_pages() + taken == base_free,
              "%lu free + %lu slab + %lu large + %lu taken != %lu",
              nr_free_pages(), slab_pages_held(),
              kmalloc_large_pages(), taken,
              base_free);
    HT_ASSERT(slab_error_count() == errs, "%lu errors reported, expected %lu (last: %s)",
              slab_error_count(), errs,
              slab_last_error());
}

/* At the end of a case: nothing allocated, and shrinking gives every frame
 * back but those of the permanent caches' descriptors. */
static void check_clean(void)
{
    HT_ASSERT(slab_live_objects() == 0, "%lu objects still allocated",
              slab_live_objects());
    slab_shrink_all();
    HT_ASSERT(slab_live_objects() == 0, "%lu objects allocated after shrinking",
              slab_live_objects());
    HT_TRY(check());
    HT_ASSERT(kmalloc_large_pages() == 0, "large kmalloc frames left");
    /* Only the cache of caches (holding the kmalloc caches) keeps frames. */
    HT_ASSERT(slab_pages_held() == slab_cache_cache.nr_slabs << slab_cache_cache.order,
              "%lu slab frames held after shrinking", slab_pages_held());
}

/* Fill an object with a pattern derived from its address, and check it. */
static void stamp(void *p, size_t n)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(((uintptr_t)p >> 3) + i * 7);
}

static void unstamp(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        HT_ASSERT(b[i] == (uint8_t)(((uintptr_t)p >> 3) + i * 7),
                  "object %p byte %zu overwritten: another owner?", p, i);
}

/* ---- creating caches ------------------------------------------------------------------ */

static void t_create_bad_args(void)
{
    setup(&SMALL, false);
    HT_ASSERT(!kmem_cache_create("zero", 0, 0, 0, NULL), "size 0 accepted");
    HT_ASSERT(!kmem_cache_create("huge", KMEM_CACHE_MAX_SIZE + 1, 0, 0, NULL),
              "size above the maximum accepted");
    HT_ASSERT(!kmem_cache_create("huge", (size_t)-1, 0, 0, NULL), "size SIZE_MAX accepted");
    HT_ASSERT(!kmem_cache_create("align3", 64, 3, 0, NULL), "align 3 accepted");
    HT_ASSERT(!kmem_cache_create("align24", 64, 24, 0, NULL), "align 24 accepted");
    HT_ASSERT(!kmem_cache_create("align8k", 64, 8192, 0, NULL), "align 8192 accepted");
    HT_ASSERT(!kmem_cache_create("flags", 64, 0, 0x80000, NULL), "unknown flags accepted");
    HT_ASSERT(!kmem_cache_create("flags", 64, 0, SLAB_KMALLOC, NULL), "internal flag accepted");
    HT_ASSERT(!kmem_cache_create(NULL, 64, 0, 0, NULL), "no name accepted");
    HT_TRY(check());
    struct kmem_cache *c = kmem_cache_create("a-rather-long-cache-name-that-goes-on-and-on",
                                             KMEM_CACHE_MAX_SIZE, PAGE_SIZE, 0, NULL);
    HT_ASSERT(c, "largest size with page alignment refused");
    HT_ASSERT(strlen(c->name) == 31, "name not cut at 31 characters: %s", c->name);
    void *p = kmem_cache_alloc(c, GFP_KERNEL);
    HT_ASSERT(p && ((uintptr_t)p & (PAGE_SIZE - 1)) == 0, "128 KiB object %p", p);
    memset(p, 1, KMEM_CACHE_MAX_SIZE);
    kmem_cache_free(c, p);
    HT_ASSERT(kmem_cache_destroy(c) == 0, "destroy");
    HT_TRY(check_clean());
}

/* Bonwick's cache of caches: struct kmem_cache comes from a slab cache. */
static void t_cache_of_caches(void)
{
    setup(&SMALL, false);
    uint64_t before = kmem_cache_live(&slab_cache_cache);
    struct kmem_cache *c = kmem_cache_create("thing", 40, 0, 0, NULL);
    HT_ASSERT(c, "create");
    HT_EQ_U(kmem_cache_live(&slab_cache_cache), before + 1);
    struct page *pg = slab_head_page(c);
    HT_ASSERT(pg && page_slab(pg) && page_slab(pg)->cache == &slab_cache_cache,
              "struct kmem_cache %p is not a kmem_cache object", (void *)c);
    HT_ASSERT(kmem_cache_destroy(&slab_cache_cache) == -1, "the cache of caches destroyed");
    HT_ASSERT(kmem_cache_destroy(kmalloc_slab(64)) == -1, "a kmalloc cache destroyed");
    errs += 2;
    HT_EQ_U(kmem_cache_destroy(c), 0);
    HT_EQ_U(kmem_cache_live(&slab_cache_cache), before);
    HT_TRY(check_clean());
}

/* ---- allocation and free -------------------------------------------------------------- */

#define MANY 3000

static void *objs[MANY];

static void run_basic(size_t size, size_t align, unsigned long flags)
{
    int many = size * MANY > 16 * MiB ? (int)(16 * MiB / size) : MANY;
    struct kmem_cache *c = kmem_cache_create("basic", size, align, flags, NULL);
    HT_ASSERT(c, "create size %zu align %zu", size, align);
    HT_EQ_U(kmem_cache_size(c), size);
    size_t want_align = align < 8 ? 8 : align;
    for (int i = 0; i < many; i++) {
        objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
        HT_ASSERT(objs[i], "alloc %d of %zu bytes failed", i, size);
        HT_ASSERT(((uintptr_t)objs[i] & (want_align - 1)) == 0, "%p not %zu-aligned", objs[i],
                  want_align);
        HT_ASSERT(is_ram_addr(objs[i], size), "object %p is not in RAM", objs[i]);
        stamp(objs[i], size);
        HT_EQ_U(kmem_cache_live(c), (uint64_t)i + 1);
        if (i % 97 == 0)
            HT_TRY(check());
    }
    HT_TRY(check());
    for (int i = many; i > 1; i--) { /* shuffle, then free in that order */
        int j = (int)rnd((uint64_t)i);
        void *t = objs[i - 1];
        objs[i - 1] = objs[j];
        objs[j] = t;
    }
    for (int i = 0; i < many; i++) {
        HT_TRY(unstamp(objs[i], size));
        kmem_cache_free(c, objs[i]);
        if (i % 97 == 0)
            HT_TRY(check());
    }
    HT_EQ_U(kmem_cache_live(c), 0);
    HT_TRY(check());
    HT_EQ_U(kmem_cache_destroy(c), 0);
    HT_TRY(check_clean());
}

static void t_alloc_free_sizes(void)
{
    static const size_t sizes[] = { 8, 13, 24, 64, 100, 256, 500, 512, 700, 1000, 2048, 3000,
                                    4096, 5000, 9000, 40000 };
    for (size_t k = 0; k < HT_COUNT(sizes); k++) {
        setup(&SMALL, false);
        HT_TRY(run_basic(sizes[k], 0, 0));
    }
}

static void t_alloc_free_debug(void)
{
    static const size_t sizes[] = { 8, 13, 64, 500, 4096, 9000 };
    for (size_t k = 0; k < HT_COUNT(sizes); k++) {
        setup(&SMALL, true);
        HT_TRY(run_basic(sizes[k], 0, 0));
        HT_TRY(run_basic(sizes[k], 64, 0));
    }
}

static void t_alignment(void)
{
    setup(&SMALL, false);
    HT_TRY(run_basic(100, 256, 0));
    HT_TRY(run_basic(40, 0, SLAB_HWCACHE_ALIGN));
    struct kmem_cache *c = kmem_cache_create("hw100", 100, 0, SLAB_HWCACHE_ALIGN, NULL);
    struct kmem_cache *d = kmem_cache_create("hw20", 20, 0, SLAB_HWCACHE_ALIGN, NULL);
    struct kmem_cache *e = kmem_cache_create("pagealigned", 5000, PAGE_SIZE, 0, NULL);
    HT_ASSERT(c && d && e, "create");
    HT_EQ_U(c->size, 128); /* a cache line, rounded up */
    HT_EQ_U(d->size, 32);  /* two objects per line, none straddling */
    for (int i = 0; i < 200; i++) {
        objs[3 * i] = kmem_cache_alloc(c, GFP_KERNEL);
        objs[3 * i + 1] = kmem_cache_alloc(d, GFP_KERNEL);
        objs[3 * i + 2] = kmem_cache_alloc(e, GFP_KERNEL);
        HT_ASSERT(((uintptr_t)objs[3 * i] & 63) == 0, "HWCACHE_ALIGN 100 B at %p", objs[3 * i]);
        HT_ASSERT(((uintptr_t)objs[3 * i + 1] & 31) == 0, "HWCACHE_ALIGN 20 B at %p",
                  objs[3 * i + 1]);
        HT_ASSERT(((uintptr_t)objs[3 * i + 2] & 4095) == 0, "align 4096 at %p", objs[3 * i + 2]);
    }
    HT_TRY(check());
    for (int i = 0; i < 200; i++) {
        kmem_cache_free(c, objs[3 * i]);
        kmem_cache_free(d, objs[3 * i + 1]);
        kmem_cache_free(e, objs[3 * i + 2]);
    }
    HT_ASSERT(!kmem_cache_destroy(c) && !kmem_cache_destroy(d) && !kmem_cache_destroy(e),
              "destroy");
    HT_TRY(check_clean());
}

static int ctor_calls;

static void ctor_magic(void *p)
{
    ctor_calls++;
    memset(p, 0x42, 48);
}

/* The constructor runs once per object when its slab is made, and a freed
 * object comes back in its constructed state (no poisoning with a ctor,
 * even in debug mode). */
static void run_ctor(bool debug)
{
    setup(&SMALL, debug);
    ctor_calls = 0;
    struct kmem_cache *c = kmem_cache_create("ctor", 48, 0, 0, ctor_magic);
    HT_ASSERT(c, "create");
    for (int i = 0; i < 500; i++) {
        objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
        uint8_t *b = objs[i];
        HT_ASSERT(b && b[0] == 0x42 && b[47] == 0x42, "object %d not constructed", i);
    }
    HT_EQ_U(ctor_calls, c->nr_slabs * c->num);
    int calls = ctor_calls;
    for (int i = 0; i < 500; i++)
        kmem_cache_free(c, objs[i]);
    for (int i = 0; i < 500; i++) {
        objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
        uint8_t *b = objs[i];
        HT_ASSERT(b[0] == 0x42 && b[47] == 0x42, "object %d lost its constructed state", i);
    }
    HT_EQ_U(ctor_calls, calls);
    HT_TRY(check());
    for (int i = 0; i < 500; i++)
        kmem_cache_free(c, objs[i]);
    HT_EQ_U(kmem_cache_destroy(c), 0);
    HT_TRY(check_clean());
}

static void t_ctor(void)
{
    HT_TRY(run_ctor(false));
    HT_TRY(run_ctor(true));
}

/* Successive slabs start their objects at successive colours. */
static void t_colouring(void)
{
    setup(&SMALL, false);
    struct kmem_cache *c = kmem_cache_create("colours", 200, 0, SLAB_HWCACHE_ALIGN, NULL);
    HT_ASSERT(c, "create");
    HT_ASSERT(c->colour_count > 1, "no room for colours (left over %zu)",
              (size_t)((PAGE_SIZE << c->order) - c->span - c->desc_size));
    uint32_t slabs = 3 * c->colour_count, n = slabs * c->num;
    HT_ASSERT(n <= MANY, "too many objects");
    for (uint32_t i = 0; i < n; i++)
        objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
    /* Offsets of each slab's first object from the slab's start, in
     * creation order: the list order is not creation order, so sort by
     * colour and count each. */
    uint32_t seen[64] = { 0 };
    HT_ASSERT(c->colour_count <= 64, "colour count %u", c->colour_count);
    for (uint32_t i = 0; i < n; i++) {
        struct slab *s = page_slab(slab_head_page(objs[i]));
        uint64_t off = phys(objs[i]) & ((PAGE_SIZE << c->order) - 1);
        if (objs[i] == slab_object(c, s, 0)) {
            HT_ASSERT(off % 64 == 0 && off / 64 < c->colour_count, "first object at %lu",
                      off);
            seen[off / 64]++;
        }
    }
    for (uint32_t k = 0; k < c->colour_count; k++)
        HT_ASSERT(seen[k] == 3, "colour %u used by %u slabs of %u", k, seen[k], slabs);
    for (uint32_t i = 0; i < n; i++)
        kmem_cache_free(c, objs[i]);
    HT_EQ_U(kmem_cache_destroy(c), 0);
    HT_TRY(check_clean());
}

/* The per-CPU array: LIFO reuse, bounded by its limit. */
static void t_percpu_array(void)
{
    setup(&SMALL, false);
    struct kmem_cache *c = kmem_cache_create("pcpu", 64, 0, 0, NULL);
    HT_ASSERT(c, "create");
    void *a = kmem_cache_alloc(c, GFP_KERNEL);
    HT_EQ_U(c->cpu[0].avail, c->cpu[0].batch - 1); /* a refill took one batch */
    kmem_cache_free(c, a);
    HT_ASSERT(kmem_cache_alloc(c, GFP_KERNEL) == a, "a freed object is not reused first");
    kmem_cache_free(c, a);
    uint32_t n = c->cpu[0].limit * 3;
    for (uint32_t i = 0; i < n; i++)
        objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
    for (uint32_t i = 0; i < n; i++) {
        kmem_cache_free(c, objs[i]);
        HT_ASSERT(c->cpu[0].avail <= c->cpu[0].limit, "array above its limit");
        HT_TRY(check());
    }
    HT_ASSERT(c->cpu[0].avail > 0, "array empty after frees");
    HT_ASSERT(kmem_cache_shrink(c) > 0, "shrink freed nothing");
    HT_EQ_U(c->cpu[0].avail, 0);
    HT_EQ_U(c->nr_slabs, 0);
    HT_EQ_U(kmem_cache_destroy(c), 0);
    HT_TRY(check_clean());
}

/* ---- destroy, shrink, memory pressure ------------------------------------------------- */

static void t_destroy_leak(void)
{
    setup(&SMALL, false);
    struct kmem_cache *c = kmem_cache_create("leaky", 100, 0, 0, NULL);
    HT_ASSERT(c, "create");
    void *p = kmem_cache_alloc(c, GFP_KERNEL), *q = kmem_cache_alloc(c, GFP_KERNEL);
    HT_EQ_U(kmem_cache_destroy(c), (uint64_t)-1);
    errs++;
    const char *r = slab_last_error();
    HT_ASSERT(strstr(r, "leaky") && strstr(r, "2 objects") && strstr(r, "leak"),
              "report: %s", r);
    HT_TRY(check());
    kmem_cache_free(c, p);
    HT_EQ_U(kmem_cache_destroy(c), (uint64_t)-1);
    errs++;
    HT_ASSERT(strstr(slab_last_error(), "1 objects"), "report: %s", slab_last_error());
    kmem_cache_free(c, q);
    HT_EQ_U(kmem_cache_destroy(c), 0);
    HT_TRY(check_clean());
}

/* Take every frame the page allocator will give (GFP_KERNEL, order 0). */
static struct page **grabbed;
static uint64_t ngrabbed;

static void grab_all(void)
{
    if (!grabbed)
        grabbed = malloc(PFN(64 * MiB) * sizeof(*grabbed));
    ngrabbed = 0;
    struct page *p;
    while ((p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0))) {
        grabbed[ngrabbed++] = p;
        taken++;
    }
}

static void release_all(void)
{
    while (ngrabbed) {
        __free_pages(grabbed[--ngrabbed], 0);
        taken--;
    }
}

/* Empty slabs stay in their caches until the page allocator runs short;
 * then it calls the shrinker and gets them back, except SLAB_NO_REAP's. */
static void t_shrink_under_pressure(void)
{
    setup(&SMALL, false);
    struct kmem_cache *c = kmem_cache_create("reapable", 256, 0, 0, NULL);
    struct kmem_cache *k = kmem_cache_create("kept", 256, 0, SLAB_NO_REAP, NULL);
    HT_ASSERT(c && k, "create");
    for (int i = 0; i < MANY; i++)
        objs[i] = kmem_cache_alloc(i % 2 ? k : c, GFP_KERNEL);
    for (int i = 0; i < MANY; i++)
        kmem_cache_free(i % 2 ? k : c, objs[i]);
    uint64_t c_slabs = c->nr_slabs, k_slabs = k->nr_slabs;
    HT_ASSERT(c_slabs > 0 && k_slabs > 0, "no empty slabs kept");
    HT_TRY(check());
    grab_all();
    HT_EQ_U(c->nr_slabs, 0);
    HT_EQ_U(k->nr_slabs, k_slabs);
    HT_EQ_U(c->cpu[0].avail, 0);
    HT_TRY(check());
    /* Memory is short: the caches cannot grow. */
    HT_ASSERT(!kmem_cache_alloc(c, GFP_KERNEL | __GFP_NOWARN), "alloc with no memory left");
    HT_ASSERT(!kmalloc(100000, GFP_KERNEL | __GFP_NOWARN), "large kmalloc with no memory");
    HT_TRY(check());
    /* The reserve is still there for GFP_ATOMIC. */
    void *a = kmem_cache_alloc(c, GFP_ATOMIC);
    HT_ASSERT(a, "GFP_ATOMIC could not use the reserve");
    kmem_cache_free(c, a);
    release_all();
    HT_TRY(check());
    /* alloc_contig asks the shrinker too. */
    for (int i = 0; i < MANY; i++)
        objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
    for (int i = 0; i < MANY; i++)
        kmem_cache_free(c, objs[i]);
    HT_ASSERT(c->nr_slabs > 0, "no slabs");
    grab_all();
    release_all();
    HT_EQ_U(c->nr_slabs, 0);
    HT_ASSERT(!kmem_cache_destroy(c) && !kmem_cache_destroy(k), "destroy");
    HT_TRY(check_clean());
}

static void t_shrink_contig(void)
{
    setup(&SMALL, false);
    struct kmem_cache *c = kmem_cache_create("contig", 512, 0, 0, NULL);
    HT_ASSERT(c, "create");
    /* Fill memory with slabs, then empty them. */
    uint64_t n = 0, cap = 64 * MiB / 512;
    void **many = malloc(cap * sizeof(*many));
    while (n < cap && (many[n] = kmem_cache_alloc(c, GFP_KERNEL | __GFP_NOWARN)))
        n++;
    HT_ASSERT(n > 90000, "only %lu objects", n);
    for (uint64_t i = 0; i < n; i++)
        kmem_cache_free(c, many[i]);
    free(many);
    HT_TRY(check());
    uint64_t held = slab_pages_held();
    /* A run only the emptied slabs can provide. */
    uint64_t run = 16 * MiB / FR;
    uint64_t pa = alloc_contig(run, FR, 16 * MiB, 64 * MiB, GFP_KERNEL);
    HT_ASSERT(pa, "alloc_contig failed with %lu frames in empty slabs",
              held);
    taken += run;
    HT_EQ_U(c->nr_slabs, 0);
    HT_TRY(check());
    HT_EQ_U(free_contig(pa, run), 0);
    taken -= run;
    HT_EQ_U(kmem_cache_destroy(c), 0);
    HT_TRY(check_clean());
}

/* ---- kmalloc ---------------------------------------------------------------------- */

/* The class a request should get, computed independently of kmalloc.c:
 * multiples of 8 up to 128, then eight classes per doubling. */
static size_t expected_class(size_t n)
{
    if (n <= 128)
        return (n + 7) / 8 * 8;
    size_t lo = 128;
    while (lo * 2 < n)
        lo *= 2;
    size_t step = lo / 8;
    return (n + step - 1) / step * step;
}

/* The alignment kmalloc promises for class k: its lowest set bit (k
 * itself for a power of two), at most a page. */
static size_t expected_align(size_t k)
{
    size_t a = 1;
    while (!(k & a))
        a <<= 1;
    return a > PAGE_SIZE ? PAGE_SIZE : a;
}

/* Every request size from 1 to 8192, in both modes (red zones must not
 * break the alignment): its class, the class's alignment, and the class's
 * whole size usable. */
static void t_kmalloc_classes(void)
{
    for (int debug = 0; debug < 2; debug++) {
        setup(&SMALL, debug);
        size_t prev = 0;
        unsigned classes = 0;
        for (size_t n = 1; n <= KMALLOC_MAX_CACHE_SIZE; n++) {
            void *p = kmalloc(n, GFP_KERNEL);
            HT_ASSERT(p, "kmalloc(%zu)", n);
            HT_EQ_U(ksize(p), expected_class(n));
            size_t a = expected_align(ksize(p));
            HT_ASSERT(((uintptr_t)p & (a - 1)) == 0, "kmalloc(%zu) = %p (class %zu) not "
                      "%zu-aligned", n, p, ksize(p), a);
            HT_ASSERT(a >= 8 && (n <= 128 || a >= 16), "class %zu aligned to %zu only",
                      ksize(p), a);
            if (n > 128)
                HT_ASSERT(ksize(p) * 8 < n * 9, "class %zu for %zu is 1.125x or more",
                          ksize(p), n);
            classes += ksize(p) != prev;
            prev = ksize(p);
            memset(p, 0xee, ksize(p));
            kfree(p);
            if (n % 512 == 0)
                HT_TRY(check());
        }
        HT_EQ_U(classes, 64); /* 16 up to 128, then 8 per doubling to 8192 */
        HT_TRY(check_clean());
    }
}

static void t_kmalloc_large(void)
{
    setup(&SMALL, false);
    void *p = kmalloc(KMALLOC_MAX_CACHE_SIZE + 1, GFP_KERNEL);
    HT_ASSERT(p && ((uintptr_t)phys(p) & (4 * FR - 1)) == 0, "8 KiB + 1: %p", p);
    HT_EQ_U(ksize(p), 4 * FR);
    HT_EQ_U(kmalloc_large_pages(), 4);
    HT_TRY(check());
    HT_EQ_U(ksize((char *)p + 8), 0);
    void *q = kmalloc(PAGE_SIZE << MAX_ORDER, GFP_KERNEL);
    HT_ASSERT(q, "kmalloc of the largest block");
    memset(q, 1, PAGE_SIZE << MAX_ORDER);
    HT_TRY(check());
    HT_ASSERT(!kmalloc((PAGE_SIZE << MAX_ORDER) + 1, GFP_KERNEL), "above the largest block");
    HT_ASSERT(!kmalloc((size_t)-1, GFP_KERNEL), "SIZE_MAX");
    HT_ASSERT(!kmalloc(0, GFP_KERNEL), "kmalloc(0)");
    kfree(NULL);
    kfree(q);
    memset(p, 0xff, 4 * FR);
    kfree(p);
    HT_TRY(check());
    p = kzalloc(3 * FR, GFP_KERNEL);
    HT_ASSERT(p, "kzalloc");
    for (size_t i = 0; i < 3 * FR; i++)
        HT_ASSERT(((uint8_t *)p)[i] == 0, "kzalloc byte %zu not zero", i);
    kfree(p);
    HT_TRY(check_clean());
}

static void t_kzalloc(void)
{
    static const size_t sizes[] = { 8, 50, 300, 4000, 8192 };
    for (int debug = 0; debug < 2; debug++) {
        setup(&SMALL, debug);
        for (size_t k = 0; k < HT_COUNT(sizes); k++) {
            void *p = kmalloc(sizes[k], GFP_KERNEL);
            memset(p, 0xa7, sizes[k]);
            kfree(p);
            uint8_t *z = kzalloc(sizes[k], GFP_KERNEL);
            HT_ASSERT(z == p, "the freed block is not reused");
            for (size_t i = 0; i < sizes[k]; i++)
                HT_ASSERT(z[i] == 0, "kzalloc(%zu) byte %zu is %#x", sizes[k], i, z[i]);
            kfree(z);
        }
        HT_TRY(check_clean());
    }
}

/*
 * Several CPUs, one after the other (mm_host_cpu says which the code runs
 * on): each of the first SLAB_NR_CPUS has an array of its own in every
 * cache, and the page allocator a cache of its own in every zone; a CPU
 * past them takes objects from the slabs and frames from the buddy lists
 * under the locks.  An object freed on another CPU than the one that took
 * it goes to the freeing CPU's array.  Everything is counted and
 * validated, and shrinking gives every frame back.
 */
static void t_several_cpus(void)
{
    setup(&SMALL, false);
    struct kmem_cache *c = kmem_cache_create("cpus", 200, 0, 0, NULL);
    HT_ASSERT(c, "create");
    enum { N = 300 };
    static void *obj[N];
    static const unsigned cpus[] = { 0, 1, SLAB_NR_CPUS - 1, SLAB_NR_CPUS, 63 };
    for (unsigned k = 0; k < HT_COUNT(cpus); k++) {
        mm_host_cpu = cpus[k];
        for (int i = 0; i < N; i++) {
            obj[i] = i % 2 ? kmem_cache_alloc(c, GFP_KERNEL) : kmalloc(100 + i, GFP_KERNEL);
            HT_ASSERT(obj[i], "CPU %u: allocation %d failed", cpus[k], i);
            memset(obj[i], (int)k, 100);
        }
        if (cpus[k] < SLAB_NR_CPUS)
            HT_ASSERT(c->cpu[cpus[k]].avail < c->cpu[cpus[k]].limit + 1,
                      "CPU %u: array past its limit", cpus[k]);
        /* freed on the next CPU of the list (the first: on the last) */
        mm_host_cpu = cpus[(k + 1) % HT_COUNT(cpus)];
        for (int i = 0; i < N; i++) {
            HT_ASSERT(((uint8_t *)obj[i])[99] == k, "CPU %u: object %d overwritten", cpus[k], i);
            if (i % 2)
                kmem_cache_free(c, obj[i]);
            else
                kfree(obj[i]);
        }
        HT_TRY(check());
    }
    /* A CPU past SLAB_NR_CPUS has no array: its free goes straight to
     * the slab. */
    mm_host_cpu = 63;
    void *p = kmem_cache_alloc(c, GFP_KERNEL);
    uint64_t free_objs = c->free_objs;
    kmem_cache_free(c, p);
    HT_EQ_U(c->free_objs, free_objs + 1);
    /* Frames too: CPU 63 has no per-CPU cache, CPU 3 has one. */
    struct page *pg = alloc_pages(GFP_KERNEL, 0);
    HT_ASSERT(pg, "alloc on CPU 63");
    uint64_t cached = zone_cached(page_zone(pg));
    __free_pages(pg, 0);
    HT_EQ_U(zone_cached(page_zone(pg)), cached);        /* straight to the buddy lists */
    mm_host_cpu = 3;
    pg = alloc_pages(GFP_KERNEL, 0);
    HT_ASSERT(pg && page_zone(pg)->pcp[3].count > 0, "CPU 3's cache was not refilled");
    __free_pages(pg, 0);
    HT_TRY(check());
    /* Each CPU empties its own arrays and caches (the kernel asks them by
     * IPI); then the cache can go. */
    for (unsigned k = 0; k < HT_COUNT(cpus); k++) {
        mm_host_cpu = cpus[k];
        slab_drain_local();
        drain_pcp_local();
    }
    mm_host_cpu = 3;
    drain_pcp_local();
    mm_host_cpu = 0;
    HT_EQ_U(kmem_cache_destroy(c), 0);
    HT_TRY(check_clean());
}

/* GFP_DMA, GFP_DMA32 and SLAB_CACHE_DMA give memory in the right zones. */
static void t_zones(void)
{
    setup(&BIG, false);
    struct kmem_cache *dma = kmem_cache_create("dma", 300, 0, SLAB_CACHE_DMA, NULL);
    struct kmem_cache *any = kmem_cache_create("any", 300, 0, 0, NULL);
    HT_ASSERT(dma && any, "create");
    for (int i = 0; i < 200; i++) {
        void *p = kmem_cache_alloc(dma, GFP_KERNEL);
        void *q = kmem_cache_alloc(any, GFP_KERNEL);
        void *a = kmalloc(1 + rnd(8000), GFP_DMA);
        void *b = kmalloc(1 + rnd(8000), GFP_DMA32);
        void *n = kmalloc(1 + rnd(8000), GFP_KERNEL);
        void *l = kmalloc(20000, GFP_DMA);
        HT_ASSERT(p && q && a && b && n && l, "alloc %d", i);
        HT_ASSERT(phys(p) < ZONE_DMA_END, "SLAB_CACHE_DMA object at %#lx",
                  phys(p));
        HT_ASSERT(phys(a) < ZONE_DMA_END, "GFP_DMA kmalloc at %#lx", phys(a));
        HT_ASSERT(phys(l) < ZONE_DMA_END, "GFP_DMA large kmalloc at %#lx",
                  phys(l));
        HT_ASSERT(phys(b) < ZONE_DMA32_END, "GFP_DMA32 kmalloc at %#lx",
                  phys(b));
        HT_ASSERT(phys(n) >= ZONE_DMA32_END && phys(q) >= ZONE_DMA32_END,
                  "GFP_KERNEL did not come from Normal first");
        objs[6 * i] = p;
        objs[6 * i + 1] = q;
        objs[6 * i + 2] = a;
        objs[6 * i + 3] = b;
        objs[6 * i + 4] = n;
        objs[6 * i + 5] = l;
    }
    HT_TRY(check());
    /* A zone the cache cannot give is refused. */
    HT_ASSERT(!kmem_cache_alloc(any, GFP_DMA), "GFP_DMA from a normal cache");
    HT_ASSERT(!kmem_cache_alloc(any, GFP_DMA32), "GFP_DMA32 from a normal cache");
    HT_ASSERT(kmem_cache_alloc(dma, GFP_DMA32) != NULL, "GFP_DMA32 from a DMA cache");
    errs += 2;
    kmem_cache_free(dma, kmem_cache_alloc(dma, GFP_DMA)); /* balance the one above */
    HT_EQ_U(kmem_cache_live(dma), 201);
    for (int i = 0; i < 200; i++) {
        kmem_cache_free(dma, objs[6 * i]);
        kmem_cache_free(any, objs[6 * i + 1]);
        for (int k = 2; k < 6; k++)
            kfree(objs[6 * i + k]);
    }
    HT_TRY(check());
    HT_EQ_U(kmem_cache_destroy(dma), (uint64_t)-1);
    errs++;
    HT_EQ_U(kmem_cache_destroy(any), 0);
}

/* ---- bad frees: panics in normal mode ------------------------------------------------------ */

static struct kmem_cache *pc, *pc2;
static void *pp;
static char child_err[4096];

/* Run fn in a child; true when it died of SIGABRT. Its stderr goes to child_err. */
static bool dies(void (*fn)(void))
{
    int fd[2];
    fflush(stdout);
    fflush(stderr);
    if (pipe(fd))
        return false;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], 2);
        fn();
        _exit(0);
    }
    close(fd[1]);
    size_t len = 0;
    ssize_t r;
    while ((r = read(fd[0], child_err + len, sizeof(child_err) - 1 - len)) > 0)
        len += (size_t)r;
    child_err[len] = 0;
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

/* The object is the top of the per-CPU array: caught by the second free. */
static void do_double_free(void) { kmem_cache_free(pc, pp); kmem_cache_free(pc, pp); }
static void do_free_interior(void) { kmem_cache_free(pc, (char *)pp + 5); }
static void do_free_mismatch(void) { kmem_cache_free(pc2, pp); }
static void do_free_stack(void) { int x; kmem_cache_free(pc, &x); }
static void do_kfree_stack(void) { int x; kfree(&x); }
static void do_kfree_cache_obj(void) { kfree(pp); }
static void do_kfree_double(void) { void *p = kmalloc(100, GFP_KERNEL); kfree(p); kfree(p); }
static void do_kfree_large_interior(void) { char *p = kmalloc(50000, GFP_KERNEL); kfree(p + 4096); }
static void do_kfree_page(void) { kfree(page_address(alloc_pages(GFP_KERNEL, 0))); }
static void do_nothing_bad(void) { kmem_cache_free(pc, pp); }

static void expect_death(void (*fn)(void), const char *what, const char *addr, const char *name)
{
    bool died = dies(fn);
    HT_ASSERT(died, "no panic for %s (stderr: %.200s)", what, child_err);
    HT_ASSERT(strstr(child_err, "panic: slab error") && strstr(child_err, what),
              "panic message for %s: %.300s", what, child_err);
    if (addr)
        HT_ASSERT(strstr(child_err, addr), "address %s not named: %.300s", addr, child_err);
    if (name)
        HT_ASSERT(strstr(child_err, name), "cache %s not named: %.300s", name, child_err);
}

static void t_panics(void)
{
    setup(&SMALL, false);
    pc = kmem_cache_create("victim", 96, 0, 0, NULL);
    pc2 = kmem_cache_create("other", 96, 0, 0, NULL);
    pp = kmem_cache_alloc(pc, GFP_KERNEL);
    char addr[32], addr5[32];
    snprintf(addr, sizeof(addr), "%p", pp);
    snprintf(addr5, sizeof(addr5), "offset 5");
    HT_TRY(expect_death(do_double_free, "double free", addr, "victim"));
    HT_TRY(expect_death(do_free_interior, "inside an object", addr, addr5));
    HT_TRY(expect_death(do_free_mismatch, "cache mismatch", addr, "victim"));
    HT_ASSERT(strstr(child_err, "cache other"), "mismatch names the caller's cache: %s",
              child_err);
    HT_TRY(expect_death(do_free_stack, "not a slab object", NULL, "victim"));
    HT_TRY(expect_death(do_kfree_stack, "kmalloc did not return", NULL, NULL));
    HT_TRY(expect_death(do_kfree_cache_obj, "cache mismatch", addr, "victim"));
    HT_TRY(expect_death(do_kfree_double, "double free", NULL, "kmalloc-104"));
    HT_TRY(expect_death(do_kfree_large_interior, "inside a kmalloc block", NULL, "offset 4096"));
    HT_TRY(expect_death(do_kfree_page, "kmalloc did not return", NULL, NULL));
    HT_ASSERT(!dies(do_nothing_bad), "a good free panicked: %s", child_err);
    /* The parent's state is untouched by the children. */
    HT_TRY(check());
    kmem_cache_free(pc, pp);
    HT_ASSERT(!kmem_cache_destroy(pc) && !kmem_cache_destroy(pc2), "destroy");
    HT_TRY(check_clean());
}

/* ---- double frees in normal mode: what is caught, and when ---------------------------------- */

/*
 * Without debug mode the fast path keeps no per-object state.  A free of
 * the object at the top of the per-CPU array (the last one freed, nothing
 * allocated since) panics at once; any other double free is pushed like
 * a good one and panics when its object goes back to its slab (a flush of
 * a full array, or a drain: kmem_cache_shrink, slab_shrink_all,
 * kmem_cache_destroy) and finds its free bit set.  Each child below
 * writes a line to stderr after the bad free, to show that the free
 * itself went through and that the later operation is the one that died.
 */
#define DRAIN_SEEN "double free (seen when the per-CPU array was flushed"

static void expect_report(const char *what, const void *obj, long offset);

static void mark(const char *what)
{
    fprintf(stderr, "[%s]\n", what);
}

/* Top of the array, after other traffic: a b freed, then a freed again
 * once b was handed out again. */
static void do_double_free_top(void)
{
    void *a = kmem_cache_alloc(pc, GFP_KERNEL), *b = kmem_cache_alloc(pc, GFP_KERNEL);
    kmem_cache_free(pc, b);
    kmem_cache_free(pc, a);
    mark("freed once");
    kmem_cache_free(pc, a);
    mark("not caught at the free");
}

/* Not the top (b is): accepted, then caught by the drain. */
static void do_double_free_drain(void)
{
    void *a = kmem_cache_alloc(pc, GFP_KERNEL), *b = kmem_cache_alloc(pc, GFP_KERNEL);
    kmem_cache_free(pc, a);
    kmem_cache_free(pc, b);
    kmem_cache_free(pc, a);
    mark("not caught at the free");
    kmem_cache_shrink(pc);
    mark("not caught at the drain");
}

/* The object went back to its slab (a drain) before the second free: the
 * array is empty, nothing to compare with; the next drain sees it.  (pp,
 * allocated by the parent, keeps the slab from being given back.) */
static void do_double_free_after_drain(void)
{
    void *a = kmem_cache_alloc(pc, GFP_KERNEL);
    kmem_cache_free(pc, a);
    kmem_cache_shrink(pc);
    kmem_cache_free(pc, a);
    mark("not caught at the free");
    slab_shrink_all();
    mark("not caught at the drain");
}

/* Caught by the flush of a full array: the two copies are among the
 * oldest `batch` entries, which the free that finds the array full sends
 * back to their slabs. */
static void do_double_free_flush(void)
{
    struct array_cache *ac = &pc->cpu[0];
    uint32_t n = ac->limit + 2;
    void **o = malloc(n * sizeof(*o));
    kmem_cache_shrink(pc); /* an empty array, for a known count */
    for (uint32_t i = 0; i < n; i++)
        o[i] = kmem_cache_alloc(pc, GFP_KERNEL);
    kmem_cache_free(pc, o[0]);
    kmem_cache_free(pc, o[1]);
    kmem_cache_free(pc, o[0]);
    mark("not caught at the free");
    for (uint32_t i = 2; i < n; i++) {
        if (ac->avail == ac->limit)
            mark("flushing");
        kmem_cache_free(pc, o[i]);
    }
    mark("not caught at the flush");
}

/* The child must die after `before` was printed and before `after`. */
static void expect_late_death(void (*fn)(void), const char *before, const char *after,
                              const char *what)
{
    HT_TRY(expect_death(fn, what, NULL, "victim"));
    HT_ASSERT(strstr(child_err, before), "the child died before [%s]: %.300s", before,
              child_err);
    HT_ASSERT(!strstr(child_err, after), "the child went past [%s]: %.300s", after, child_err);
}

static void t_double_free_normal(void)
{
    setup(&SMALL, false);
    pc = kmem_cache_create("victim", 96, 0, 0, NULL);
    HT_ASSERT(pc && !pc->debug && pc->cpu[0].limit > 0, "create");
    pp = kmem_cache_alloc(pc, GFP_KERNEL);
    HT_TRY(expect_late_death(do_double_free_top, "[freed once]", "[not caught at the free]",
                             "double free (the object is not allocated)"));
    HT_TRY(expect_late_death(do_double_free_drain, "[not caught at the free]",
                             "[not caught at the drain]", DRAIN_SEEN));
    HT_TRY(expect_late_death(do_double_free_after_drain, "[not caught at the free]",
                             "[not caught at the drain]", DRAIN_SEEN));
    HT_TRY(expect_late_death(do_double_free_flush, "[flushing]", "[not caught at the flush]",
                             DRAIN_SEEN));
    /*
     * What normal mode does not catch: the object handed out again before
     * a flush or drain reached it.  a is in the array twice (under and
     * over b), which the validator sees; the next three allocations give
     * a, b and a again: two callers now share a, and the allocator's
     * structure is consistent again, so slab_check cannot see it either.
     * Debug mode reports the second free (t_double_free_debug).
     */
    void *a = kmem_cache_alloc(pc, GFP_KERNEL), *b = kmem_cache_alloc(pc, GFP_KERNEL);
    kmem_cache_free(pc, a);
    kmem_cache_free(pc, b);
    kmem_cache_free(pc, a);
    char why[200];
    HT_ASSERT(slab_check(why, sizeof(why)) == -EUCLEAN && strstr(why, "twice in the array"),
              "the validator missed an object twice in the array: %s", why);
    void *x = kmem_cache_alloc(pc, GFP_KERNEL), *y = kmem_cache_alloc(pc, GFP_KERNEL);
    void *z = kmem_cache_alloc(pc, GFP_KERNEL);
    HT_ASSERT(x == a && y == b && z == a, "expected a b a, got %p %p %p (a %p b %p)", x, y, z,
              a, b);
    HT_TRY(check());
    kmem_cache_free(pc, a); /* once: the model is back to one object per owner */
    kmem_cache_free(pc, b);
    kmem_cache_free(pc, pp);
    HT_EQ_U(kmem_cache_destroy(pc), 0);
    HT_TRY(check_clean());
}

/*
 * Debug mode: every double free is reported, whatever happened between
 * the two frees (other frees, allocations that did not hand the object
 * out again, shrinks), and ignored, so the object is freed once.  A model
 * of every object's state decides when a report is due.
 */
static void t_double_free_debug(void)
{
    setup(&SMALL, true);
    struct kmem_cache *c = kmem_cache_create("dfree", 40, 0, 0, NULL);
    HT_ASSERT(c && c->debug && c->cpu[0].limit == 0, "a debug cache has no per-CPU array");
    enum { N = 200 };
    static void *obj[N];
    static bool held[N];
    memset(held, 0, sizeof(held));
    int nobj = 0, doubles = 0;
    for (int op = 0; op < 6000; op++) {
        uint64_t k = rnd(10);
        if (k < 4 && nobj < N) {
            void *p = kmem_cache_alloc(c, GFP_KERNEL);
            HT_ASSERT(p, "alloc");
            int j = 0;
            while (j < nobj && obj[j] != p)
                j++;
            HT_ASSERT(j == nobj || !held[j], "object %p handed out twice", p);
            if (j == nobj)
                obj[nobj++] = p;
            held[j] = true;
        } else if (k < 9 && nobj) {
            int j = (int)rnd((uint64_t)nobj);
            kmem_cache_free(c, obj[j]);
            if (held[j]) {
                held[j] = false;
            } else {
                HT_TRY(expect_report("double free (the object is not allocated)", obj[j], 0));
                doubles++;
            }
        } else {
            kmem_cache_shrink(c);
        }
        HT_TRY(check());
    }
    HT_ASSERT(doubles > 500, "only %d double frees tried", doubles);
    for (int j = 0; j < nobj; j++)
        if (held[j])
            kmem_cache_free(c, obj[j]);
    HT_EQ_U(kmem_cache_destroy(c), 0);
    HT_TRY(check_clean());
}

/* ---- debug mode ------------------------------------------------------------------------ */

static void expect_report(const char *what, const void *obj, long offset)
{
    errs++;
    char want[64];
    const char *r = slab_last_error();
    HT_ASSERT(slab_error_count() == errs, "no report for %s (count %lu)", what,
              slab_error_count());
    HT_ASSERT(strstr(r, what), "report is not about %s: %s", what, r);
    snprintf(want, sizeof(want), "object %p, offset %ld", obj, offset);
    HT_ASSERT(strstr(r, want), "report does not say \"%s\": %s", want, r);
}

static void t_debug_red_zones(void)
{
    setup(&SMALL, true);
    struct kmem_cache *c = kmem_cache_create("rz", 13, 0, 0, NULL);
    HT_ASSERT(c && c->debug, "create");
    uint8_t *p = kmem_cache_alloc(c, GFP_KERNEL);
    p[13] = 0; /* one byte past the end */
    char why[200];
    HT_ASSERT(slab_check(why, sizeof(why)) == -EUCLEAN && strstr(why, "red zone"),
              "validator missed the overflow: %s", why);
    kmem_cache_free(c, p);
    HT_TRY(expect_report("red zone after the object", p, 13));
    HT_TRY(check()); /* repaired */
    p = kmem_cache_alloc(c, GFP_KERNEL);
    p[-3] = 1; /* underflow */
    kmem_cache_free(c, p);
    HT_TRY(expect_report("red zone before the object", p, -3));
    HT_TRY(check());
    /* kmalloc objects have red zones too */
    uint8_t *k = kmalloc(64, GFP_KERNEL);
    k[70] = 9;
    kfree(k);
    HT_TRY(expect_report("red zone after", k, 70));
    HT_TRY(check());
    HT_EQ_U(kmem_cache_destroy(c), 0);
    HT_TRY(check_clean());
}

static void t_debug_poison(void)
{
    setup(&SMALL, true);
    struct kmem_cache *c = kmem_cache_create("poison", 64, 0, 0, NULL);
    HT_ASSERT(c && c->poison, "create");
    uint8_t *p = kmem_cache_alloc(c, GFP_KERNEL);
    for (int i = 0; i < 64; i++)
        HT_ASSERT(p[i] == POISON_INUSE, "fresh object byte %d is %#x", i, p[i]);
    kmem_cache_free(c, p);
    for (int i = 0; i < 64; i++)
        HT_ASSERT(p[i] == POISON_FREE, "freed object byte %d is %#x", i, p[i]);
    p[20] = 7; /* use after free */
    char why[200];
    HT_ASSERT(slab_check(why, sizeof(why)) == -EUCLEAN && strstr(why, "poison"),
              "validator missed the write after free");
    uint8_t *q = kmem_cache_alloc(c, GFP_KERNEL);
    HT_ASSERT(q == p, "LIFO reuse expected");
    HT_TRY(expect_report("write after free", p, 20));
    HT_TRY(check());
    /* A write after free into an object that goes back to its slab is seen
     * when the slab is given back to the page allocator. */
    kmem_cache_free(c, q);
    q[1] = 3;
    kmem_cache_shrink(c);
    HT_TRY(expect_report("write after free (seen at slab release)", q, 1));
    HT_EQ_U(c->nr_slabs, 0);
    HT_TRY(check());
    HT_EQ_U(kmem_cache_destroy(c), 0);
    HT_TRY(check_clean());
}

static void t_debug_bad_frees(void)
{
    setup(&SMALL, true);
    struct kmem_cache *c = kmem_cache_create("dbg", 96, 0, 0, NULL);
    struct kmem_cache *d = kmem_cache_create("dbg2", 96, 0, 0, NULL);
    char *p = kmem_cache_alloc(c, GFP_KERNEL);
    kmem_cache_free(c, p);
    kmem_cache_free(c, p);
    HT_TRY(expect_report("double free", p, 0));
    HT_TRY(check()); /* ignored: state unchanged */
    p = kmem_cache_alloc(c, GFP_KERNEL);
    kmem_cache_free(c, p + 5);
    HT_TRY(expect_report("inside an object", p, 5));
    kmem_cache_free(d, p);
    HT_TRY(expect_report("cache mismatch (the object belongs to dbg)", p, 0));
    int x;
    kmem_cache_free(c, &x);
    HT_TRY(expect_report("not a slab object", &x, 0));
    kfree(&x);
    HT_TRY(expect_report("kmalloc did not return", &x, 0));
    kfree(p);
    HT_TRY(expect_report("kfree of a kmem_cache object", p, 0));
    char *k = kmalloc(30000, GFP_KERNEL);
    kfree(k + 100);
    HT_TRY(expect_report("inside a kmalloc block", k + 100, 100));
    HT_TRY(check());
    HT_EQ_U(kmem_cache_live(c), 1);
    kmem_cache_free(c, p);
    kfree(k);
    HT_ASSERT(!kmem_cache_destroy(c) && !kmem_cache_destroy(d), "destroy");
    HT_TRY(check_clean());
}

/* ---- statistics ------------------------------------------------------------------------- */

static void t_slabinfo(void)
{
    setup(&SMALL, false);
    struct kmem_cache *c = kmem_cache_create("info_test", 200, 0, 0, NULL);
    for (int i = 0; i < 100; i++)
        objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
    static char buf[16384];
    int n = slabinfo(buf, sizeof(buf));
    HT_ASSERT(n > 0 && (size_t)n < sizeof(buf), "slabinfo length %d", n);
    static const char header[] =
        "slabinfo - version: 2.1\n"
        "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : "
        "tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> "
        "<sharedavail>\n";
    HT_ASSERT(strncmp(buf, header, strlen(header)) == 0, "header: %.240s", buf);
    char *line = strstr(buf, "\ninfo_test ");
    HT_ASSERT(line, "no line for the cache");
    char name[32];
    unsigned long act, num, objsize, per, pages, lim, batch, shared, aslabs, nslabs, savail;
    int got = sscanf(line + 1, "%31s %lu %lu %lu %lu %lu : tunables %lu %lu %lu : slabdata %lu "
                     "%lu %lu", name, &act, &num, &objsize, &per, &pages, &lim, &batch, &shared,
                     &aslabs, &nslabs, &savail);
    HT_EQ_U(got, 12);
    HT_EQ_U(act, 100);
    HT_EQ_U(num, c->nr_slabs * c->num);
    HT_EQ_U(objsize, 200);
    HT_EQ_U(per, c->num);
    HT_EQ_U(pages, 1u << c->order);
    HT_EQ_U(lim, c->cpu[0].limit);
    HT_EQ_U(batch, c->cpu[0].batch);
    HT_EQ_U(nslabs, c->nr_slabs);
    HT_ASSERT(aslabs <= nslabs && aslabs * per >= act, "slabdata %lu/%lu", aslabs, nslabs);
    HT_ASSERT(strstr(buf, "\nkmalloc-8192 "), "kmalloc-8192 missing");
    HT_ASSERT(strstr(buf, "\nkmem_cache "), "the cache of caches missing");
    /* Cut to fit: the length is still the full one. */
    char small[40];
    HT_EQ_U(slabinfo(small, sizeof(small)), n);
    HT_EQ_U(strlen(small), sizeof(small) - 1);
    HT_EQ_U(slabinfo(NULL, 0), n);
    for (int i = 0; i < 100; i++)
        kmem_cache_free(c, objs[i]);
    HT_EQ_U(kmem_cache_destroy(c), 0);
    HT_TRY(check_clean());
}

/* ---- random operations -------------------------------------------------------------------- */

struct rec {
    void *p;
    size_t n;
    struct kmem_cache *c; /* NULL: kmalloc */
};

static void run_random(bool debug, int ops)
{
    setup(&SMALL, debug);
    struct kmem_cache *cs[6] = {
        kmem_cache_create("r8", 8, 0, 0, NULL),
        kmem_cache_create("r72", 72, 0, SLAB_HWCACHE_ALIGN, NULL),
        kmem_cache_create("r333", 333, 32, 0, NULL),
        kmem_cache_create("r1500dma", 1500, 0, SLAB_CACHE_DMA, NULL),
        kmem_cache_create("r5000", 5000, 0, 0, NULL),
        kmem_cache_create("r30000", 30000, 256, 0, NULL),
    };
    for (int i = 0; i < 6; i++)
        HT_ASSERT(cs[i], "create %d", i);
    enum { SLOTS = 600 };
    static struct rec r[SLOTS];
    memset(r, 0, sizeof(r));
    for (int op = 0; op < ops; op++) {
        struct rec *e = &r[rnd(SLOTS)];
        if (e->p) {
            HT_TRY(unstamp(e->p, e->n));
            if (e->c)
                kmem_cache_free(e->c, e->p);
            else
                kfree(e->p);
            e->p = NULL;
        } else if (rnd(3)) {
            uint64_t k = rnd(100);
            size_t n = k < 60 ? 1 + rnd(256) : k < 95 ? 1 + rnd(8192) : 1 + rnd(70000);
            e->p = kmalloc(n, rnd(8) ? GFP_KERNEL : GFP_DMA);
            e->n = n;
            e->c = NULL;
            HT_ASSERT(e->p && ksize(e->p) >= n, "kmalloc(%zu)", n);
            stamp(e->p, n);
        } else {
            e->c = cs[rnd(6)];
            e->n = e->c->object_size;
            e->p = kmem_cache_alloc(e->c, GFP_KERNEL);
            HT_ASSERT(e->p, "alloc from %s", e->c->name);
            stamp(e->p, e->n);
        }
        if (rnd(500) == 0)
            slab_shrink_all();
        HT_TRY(check());
    }
    for (int i = 0; i < SLOTS; i++) {
        if (!r[i].p)
            continue;
        HT_TRY(unstamp(r[i].p, r[i].n));
        if (r[i].c)
            kmem_cache_free(r[i].c, r[i].p);
        else
            kfree(r[i].p);
    }
    for (int i = 0; i < 6; i++)
        HT_EQ_U(kmem_cache_destroy(cs[i]), 0);
    HT_TRY(check_clean());
    /* Every frame the slab allocator gave up is clean again. */
    for (uint64_t pfn = 0; pfn < SMALL.max_pfn; pfn++)
        HT_ASSERT(!(node0->mem_map[pfn].flags & PG_SLAB) ||
                  slab_head_page(mm_host_arena() + pfn * FR),
                  "frame %#lx still PG_SLAB", pfn);
}

static void t_random(void)
{
    HT_TRY(run_random(false, 8000));
}

static void t_random_debug(void)
{
    HT_TRY(run_random(true, 4000));
}

/* ---- the memory target -------------------------------------------------------------------- */

/* 8 * 512^u for u uniform in [0, 1): log-uniform from 8 to 4096 bytes
 * (2^(9u) by its series, to do without libm). */
static size_t log_uniform_size(void)
{
    double x = 9.0 * (double)rnd(1u << 30) / (1u << 30);
    int k = (int)x;
    double y = (x - k) * 0.6931471805599453, t = 1, sum = 1;
    for (int i = 1; i < 20; i++) {
        t *= y / i;
        sum += t;
    }
    return (size_t)(8.0 * sum * (double)(1u << k) + 0.5);
}

/* 320 MiB of RAM, for the memory target only (untouched frames cost the
 * host nothing). */
static const struct host_ram eff_ram[] = {
    { 1 * MiB, 320 * MiB },
};
static const struct layout EFF = { PFN(320 * MiB), eff_ram, HT_COUNT(eff_ram) };

/*
 * The memory target of the benchmark, with the benchmark's workload (its
 * own random draws): 100 000 live kmalloc objects of 8 B to 4 KiB,
 * log-uniform then uniform; requested bytes over the bytes of the frames
 * the slabs took must be at least 92%.  With few objects the partly used
 * last slab of each of the 64 classes weighs more: 8000 objects give about
 * 87%, so the case takes the benchmark's count.
 */
static void t_efficiency(void)
{
    enum { N = 100000 };
    static void *live[N];
    for (int dist = 0; dist < 2; dist++) {
        setup(&EFF, false);
        uint64_t before = slab_pages_held(), req = 0;
        for (int i = 0; i < N; i++) {
            size_t n = dist == 0 ? log_uniform_size() : 8 + rnd(4096 - 8 + 1);
            live[i] = kmalloc(n, GFP_KERNEL);
            HT_ASSERT(live[i], "kmalloc(%zu)", n);
            req += n;
        }
        double eff = (double)req / ((slab_pages_held() - before) * (double)FR);
        fprintf(stderr, "efficiency, %s: %.1f%% of the frames held are requested bytes\n",
                dist ? "uniform" : "log-uniform", eff * 100);
        HT_ASSERT(eff >= 0.92, "%s: %.1f%% of the frames held are requested bytes",
                  dist ? "uniform" : "log-uniform", eff * 100);
        HT_TRY(check());
        for (int i = 0; i < N; i++)
            kfree(live[i]);
        HT_TRY(check_clean());
    }
}

static const struct htest cases[] = {
    HT_CASE(create_bad_args),
    HT_CASE(cache_of_caches),
    HT_CASE(alloc_free_sizes),
    HT_CASE(alloc_free_debug),
    HT_CASE(alignment),
    HT_CASE(ctor),
    HT_CASE(colouring),
    HT_CASE(percpu_array),
    HT_CASE(destroy_leak),
    HT_CASE(shrink_under_pressure),
    HT_CASE(shrink_contig),
    HT_CASE(kmalloc_classes),
    HT_CASE(kmalloc_large),
    HT_CASE(kzalloc),
    HT_CASE(several_cpus),
    HT_CASE(zones),
    HT_CASE(panics),
    HT_CASE(double_free_normal),
    HT_CASE(double_free_debug),
    HT_CASE(debug_red_zones),
    HT_CASE(debug_poison),
    HT_CASE(debug_bad_frees),
    HT_CASE(slabinfo),
    HT_CASE(random),
    HT_CASE(random_debug),
    HT_CASE(efficiency),
};

int main(int argc, char **argv)
{
    int rc = htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
    mm_host_fini();
    free(grabbed);
    return rc;
}
