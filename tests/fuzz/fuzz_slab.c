/*
 * libFuzzer target: the slab allocator and kmalloc (mm/slab.c,
 * slab_debug.c, slab_stat.c, kmalloc.c) over the page allocator, driven
 * by arbitrary bytes.
 *
 * The first byte chooses normal or debug mode; the rest is a program of
 * operations on a fresh node of 6 MiB and a fresh
 * kmem_cache_init: create caches with any size, alignment and flags
 * (absurd ones included), destroy them (with objects still in them too),
 * kmem_cache_alloc and kmalloc with any size and gfp flags, frees,
 * shrinking, memory pressure (taking every frame, then giving them back),
 * slabinfo into buffers of any size.  In debug mode the program also
 * makes the mistakes the allocator must catch: double frees (every one
 * is reported in debug mode), frees of interior pointers, of pointers
 * into the wrong cache, of stack addresses, writes past an object or into
 * a freed one.  (In normal mode those panic, which tests/host/test_slab.c
 * checks in a child process, with the double frees normal mode catches
 * and when.)
 *
 * The target keeps a model (every object it holds, its size, its cache;
 * the objects it freed and has not been given again) and knows whether
 * each call must succeed, fail or be reported.  After every operation:
 * slab_check() and node_check() pass, the frames add up, the reports
 * counted are exactly those expected, each cache's live count is the
 * model's, and every held object still carries its stamp (an object
 * handed out twice would be overwritten).  At the end everything is
 * freed, destroyed and shrunk, and only the cache of caches keeps frames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_host.h"
#include "../../mm/slab_impl.h"
#include <mm/zone.h>

#define MiB (1ul << 20)
#define FR 4096ul
#define MAX_PFN (6 * MiB / FR)
#define MAX_OPS 300
#define NCACHES 6
#define NHELD 256
#define NFREED 32

/* Only the DMA zone: the validators walk every frame after every
 * operation, and taking every frame (memory pressure) must stay cheap.
 * tests/host/test_slab.c covers the zones. */
static const struct host_ram ram[] = {
    { 64 * 1024, 6 * MiB - 3 * FR },
};

#define FUZZ_NAME "fuzz_slab"
#include "fuzz_input.h"

struct ucache {
    struct kmem_cache *c;
    size_t size;
    bool ctor, dma;
    uint64_t live;
};

struct obj {
    uint8_t *p;       /* what the allocator returned */
    size_t skip, n;   /* the program stamps bytes [skip, n): a constructed
                       * object keeps its first 16 bytes as the ctor left them */
    int cache;        /* index in caches[], or -1: kmalloc */
};

static struct ucache caches[NCACHES];
static struct obj held[NHELD];
static size_t nheld;
static void *freed[NFREED];   /* freed and not handed out since */
static size_t nfreed;
static struct page *grabbed[MAX_PFN];
static uint8_t grabbed_order[MAX_PFN];
static uint64_t ngrabbed, ngrabs, base_free, errors; /* frames, blocks */
static bool debug;

static void ctor(void *p)
{
    memset(p, 0xc7, 16);
}

static void fz_stamp(struct obj *o)
{
    for (size_t i = o->skip; i < o->n; i++)
        o->p[i] = (uint8_t)((uintptr_t)o->p + i);
}

static void fz_unstamp(const struct obj *o)
{
    for (size_t i = o->skip; i < o->n; i++)
        if (o->p[i] != (uint8_t)((uintptr_t)o->p + i))
            DIE("object %p byte %zu overwritten", (void *)o->p, i);
}

/* Memory is short enough that an allocation may fail. */
static bool short_of_memory(void)
{
    return ngrabbed || nr_free_pages() < 512;
}

/*
 * Is p a slot the allocator holds as free (in a slab or a per-CPU array)?
 * A pointer the program freed may have been handed out since, to the
 * allocator itself (an off-slab descriptor is a kmalloc object): freeing
 * it again is then no mistake to report but a real free.
 */
static bool fz_free_slot(const void *p)
{
    struct page *pg = slab_head_page(p);
    struct slab *s = pg ? page_slab(pg) : NULL;
    if (!s)
        return false;
    const struct kmem_cache *c = s->cache;
    uint64_t off = (uint64_t)((const char *)p - c->obj_offset - s->s_mem);
    if (off >= c->span || off % c->size)
        return false;
    if (slab_is_free(s, (uint32_t)(off / c->size)))
        return true;
    const struct array_cache *ac = &c->cpu[0];
    for (uint32_t k = 1; k <= ac->avail; k++)
        if (ac->entry[k].obj == p)
            return true;
    return false;
}

static void forget_freed(const void *p)
{
    for (size_t i = 0; i < nfreed; i++)
        if (freed[i] == p)
            freed[i] = freed[--nfreed];
}

static void remember_freed(void *p)
{
    forget_freed(p);
    if (nfreed < NFREED)
        freed[nfreed++] = p;
    else
        freed[p == freed[0] ? 1 : 0] = p;
}

static void fz_check(int op)
{
    char why[256];
    if (slab_check(why, sizeof(why)))
        DIE("op %d: slab_check: %s", op, why);
    if (node_check(why, sizeof(why)))
        DIE("op %d: node_check: %s", op, why);
    if (nr_free_pages() + slab_pages_held() + kmalloc_large_pages() + ngrabbed != base_free)
        DIE("op %d: frames do not add up", op);
    if (slab_error_count() != errors)
        DIE("op %d: %lu reports, expected %lu (last: %s)", op,
            slab_error_count(), errors,
            slab_last_error());
    for (int i = 0; i < NCACHES; i++)
        if (caches[i].c && kmem_cache_live(caches[i].c) != caches[i].live)
            DIE("op %d: cache %d live %lu, model %lu", op, i,
                kmem_cache_live(caches[i].c),
                caches[i].live);
}

/* An allocation came back: record it (checks it is new and in RAM). */
static void fz_got(uint8_t *p, size_t skip, size_t n, int cache)
{
    if (!mm_host_is_ram((uint64_t)(p - mm_host_arena()), n))
        DIE("object %p is not in RAM", (void *)p);
    for (size_t i = 0; i < nheld; i++)
        if (p < held[i].p + held[i].n && held[i].p < p + n)
            DIE("object %p overlaps held %p", (void *)p, (void *)held[i].p);
    forget_freed(p);
    if (nheld == NHELD)
        DIE("model full");
    held[nheld] = (struct obj){ p, skip, n, cache };
    if (cache >= 0)
        caches[cache].live++;
    fz_stamp(&held[nheld]);
    nheld++;
}

static gfp_t gfp_of(uint8_t b)
{
    gfp_t g = GFP_KERNEL;
    if (b & 1)
        g |= __GFP_ZERO;
    if ((b & 6) == 2)
        g |= __GFP_DMA;
    if ((b & 6) == 4)
        g |= __GFP_DMA32;
    if (b & 8)
        g |= GFP_ATOMIC;
    return g | __GFP_NOWARN;
}

/* Would kmem_cache_create accept these arguments (memory permitting)? */
static bool valid_create(size_t size, size_t align, unsigned long flags)
{
    if (!size || size > KMEM_CACHE_MAX_SIZE || (align & (align - 1)) || align > PAGE_SIZE ||
        (flags & ~SLAB_USER_FLAGS))
        return false;
    if (align < 8)
        align = 8;
    if ((flags & SLAB_HWCACHE_ALIGN) && align < 64) {
        size_t line = 64;
        while (line / 2 >= size && line / 2 >= 8)
            line /= 2;
        if (line > align)
            align = line;
    }
    size_t slot = debug ? ((align > 8 ? align : 8) + ((size + 7) & ~7ul) + 8 + align - 1) &
                              ~(align - 1)
                        : (size + align - 1) & ~(align - 1);
    return slot <= (PAGE_SIZE << (SLAB_MAX_ORDER + (debug ? 1 : 0)));
}

static void do_create(struct input *in)
{
    int i = u8(in) % NCACHES;
    if (caches[i].c)
        return;
    uint8_t k = u8(in);
    size_t size = k < 100 ? 1 + u8(in) : k < 200 ? u16(in) : k < 250 ? (size_t)u16(in) << 2
                : KMEM_CACHE_MAX_SIZE + (k - 250) - 2;
    uint8_t a = u8(in);
    size_t align = a < 128 ? 0 : a < 240 ? 1ul << (a % 14) : (size_t)a;
    uint8_t f = u8(in);
    unsigned long flags = (f & 0x0f) | (f == 0xff ? 0x100000 : 0);
    if ((flags & SLAB_CACHE_DMA) && (flags & SLAB_CACHE_DMA32))
        flags &= ~SLAB_CACHE_DMA32;
    bool with_ctor = (f & 0x10) && size >= 16; /* the ctor writes 16 bytes */
    struct kmem_cache *c = kmem_cache_create("fz", size, align, flags, with_ctor ? ctor : NULL);
    bool ok = valid_create(size, align, flags);
    if (c && !ok)
        DIE("kmem_cache_create(%zu, %zu, %#lx) accepted", size, align, flags);
    if (!c && ok && !short_of_memory())
        DIE("kmem_cache_create(%zu, %zu, %#lx) refused", size, align, flags);
    if (c) {
        if (kmem_cache_size(c) != size || (debug && !c->debug))
            DIE("cache size %zu for %zu", kmem_cache_size(c), size);
        caches[i] = (struct ucache){ c, size, with_ctor, (flags & SLAB_CACHE_DMA) != 0, 0 };
    }
}

static void do_destroy(struct input *in)
{
    int i = u8(in) % NCACHES;
    if (!caches[i].c)
        return;
    int r = kmem_cache_destroy(caches[i].c);
    if (caches[i].live) {
        if (r != -1)
            DIE("destroy of a cache with %lu objects", caches[i].live);
        errors++;
        return;
    }
    if (r != 0)
        DIE("destroy of an empty cache refused");
    caches[i].c = NULL;
}

static void do_cache_alloc(struct input *in)
{
    int i = u8(in) % NCACHES;
    gfp_t g = gfp_of(u8(in));
    struct ucache *u = &caches[i];
    if (!u->c)
        return;
    uint8_t *p = kmem_cache_alloc(u->c, g);
    bool refuse = (g & __GFP_DMA32 && !(u->c->flags & (SLAB_CACHE_DMA | SLAB_CACHE_DMA32))) ||
                  (g & __GFP_DMA && !(u->c->flags & SLAB_CACHE_DMA));
    if (refuse) {
        if (p)
            DIE("zone flags %#x served by a cache without them", g);
        errors++;
        return;
    }
    if (!p) {
        if (!short_of_memory() && u->size <= 8192)
            DIE("kmem_cache_alloc(%zu) failed with memory free", u->size);
        return;
    }
    if (u->dma && (uint64_t)(p - mm_host_arena()) >= ZONE_DMA_END)
        DIE("SLAB_CACHE_DMA object above 16 MiB");
    if (g & __GFP_ZERO) {
        for (size_t k = 0; k < u->size; k++)
            if (p[k])
                DIE("__GFP_ZERO object not zero");
    } else if (u->ctor) {
        for (size_t k = 0; k < 16; k++)
            if (p[k] != 0xc7)
                DIE("object not in its constructed state");
    } else if (debug) {
        for (size_t k = 0; k < u->size; k++)
            if (p[k] != POISON_INUSE)
                DIE("fresh debug object not POISON_INUSE");
    }
    /* A constructed object must go back constructed: its first 16 bytes
     * are left as the ctor made them (or made so again after __GFP_ZERO). */
    size_t skip = u->ctor ? 16 : 0;
    memset(p, 0xc7, skip);
    fz_got(p, skip, u->size, i);
}

static void do_kmalloc(struct input *in)
{
    uint8_t k = u8(in);
    size_t n = k < 150 ? u8(in) : k < 240 ? u16(in) % 9000 : k < 250 ? u16(in) * 64ul
             : k < 253 ? (PAGE_SIZE << MAX_ORDER) + (k - 250) : (size_t)-1 - k;
    gfp_t g = gfp_of(u8(in));
    uint8_t *p = kmalloc(n, g);
    if (n == 0 || n > (PAGE_SIZE << MAX_ORDER)) {
        if (p)
            DIE("kmalloc(%zu) succeeded", n);
        return;
    }
    if (!p) {
        if (!short_of_memory() && n <= 8192 && !(g & __GFP_DMA))
            DIE("kmalloc(%zu, %#x) failed with memory free", n, g);
        return;
    }
    if (ksize(p) < n)
        DIE("ksize %zu < %zu", ksize(p), n);
    if ((g & __GFP_DMA) && (uint64_t)(p - mm_host_arena()) + n > ZONE_DMA_END)
        DIE("GFP_DMA kmalloc above 16 MiB");
    if (g & __GFP_ZERO)
        for (size_t j = 0; j < n; j++)
            if (p[j])
                DIE("kzalloc(%zu) byte %zu not zero", n, j);
    fz_got(p, 0, n, -1);
}

static struct obj take_held(struct input *in)
{
    size_t i = u8(in) % nheld;
    struct obj o = held[i];
    held[i] = held[--nheld];
    return o;
}

static void do_free(struct input *in)
{
    if (!nheld)
        return;
    struct obj o = take_held(in);
    fz_unstamp(&o);
    uint8_t *p = o.p;
    if (o.cache >= 0) {
        kmem_cache_free(caches[o.cache].c, p);
        caches[o.cache].live--;
    } else {
        kfree(p);
    }
    remember_freed(p);
}

/* Debug mode: mistakes, each reported once and survived. */
static void do_mistake(struct input *in)
{
    uint8_t k = u8(in) % 8;
    int x = 0;
    switch (k) {
    case 0: { /* double free: kfree (or the wrong-cache report for a cache object) */
        if (!nfreed)
            return;
        void *p = freed[u8(in) % nfreed];
        if (!fz_free_slot(p))
            return;
        kfree(p);
        break;
    }
    case 1: /* interior pointer */
        if (!nheld || held[0].n < 2)
            return;
        if (held[0].cache >= 0)
            kmem_cache_free(caches[held[0].cache].c, held[0].p + 1);
        else
            kfree(held[0].p + 1);
        break;
    case 2: { /* wrong cache */
        if (!nheld)
            return;
        struct obj *o = &held[u8(in) % nheld];
        int other = -1;
        for (int i = 0; i < NCACHES; i++)
            if (caches[i].c && i != o->cache)
                other = i;
        if (other < 0)
            return;
        kmem_cache_free(caches[other].c, o->p);
        break;
    }
    case 3: /* a pointer nobody allocated */
        kfree(&x);
        break;
    case 4: /* kfree of a cache object */
        for (size_t i = 0; i < nheld; i++)
            if (held[i].cache >= 0) {
                kfree(held[i].p);
                goto reported;
            }
        return;
    case 5: { /* write past the end (or before the start) of a slab object */
        for (size_t i = 0; i < nheld; i++) {
            struct obj *o = &held[i];
            uint8_t *s = o->p;
            size_t size = o->cache >= 0 ? caches[o->cache].size : ksize(s);
            if (o->cache < 0 && size > KMALLOC_MAX_CACHE_SIZE)
                continue;
            uint8_t b = u8(in);
            uint8_t *at = b & 1 ? s + size + (b >> 1) % RED_ZONE_MIN : s - 1 - (b >> 1) % RED_ZONE_MIN;
            uint8_t old = *at;
            *at ^= 0x11;
            char why[200];
            if (slab_check(why, sizeof(why)) == 0 || !strstr(why, "red zone"))
                DIE("red zone write at %p not seen", (void *)at);
            *at = old;
            return;
        }
        return;
    }
    case 6: { /* write into a freed object of a poisoned cache */
        if (!nfreed)
            return;
        uint8_t *p = freed[u8(in) % nfreed];
        if (!fz_free_slot(p) || !page_slab(slab_head_page(p))->cache->poison)
            return;
        uint8_t old = *p;
        if (old != POISON_FREE)
            DIE("freed object %p not poisoned", (void *)p);
        *p = 0;
        char why[200];
        if (slab_check(why, sizeof(why)) == 0 || !strstr(why, "poison"))
            DIE("write after free at %p not seen", (void *)p);
        *p = old;
        return;
    }
    default: /* ksize of garbage */
        if (ksize(&x) != 0)
            DIE("ksize of a stack address");
        return;
    }
reported:
    errors++;
}

static void release_grabbed(void)
{
    while (ngrabs) {
        ngrabs--;
        __free_pages(grabbed[ngrabs], grabbed_order[ngrabs]);
        ngrabbed -= 1ul << grabbed_order[ngrabs];
    }
}

/* Take every frame GFP_KERNEL can have (big blocks first: fewer calls);
 * the slab shrinker runs on the way.  Or give them all back. */
static void do_pressure(struct input *in)
{
    if (ngrabs && (u8(in) & 1)) {
        release_grabbed();
        return;
    }
    for (int order = 4; order >= 0; order--) {
        struct page *p;
        while (ngrabs < MAX_PFN && (p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, (unsigned)order))) {
            grabbed_order[ngrabs] = (uint8_t)order;
            grabbed[ngrabs++] = p;
            ngrabbed += 1ul << order;
        }
    }
}

static void do_slabinfo(struct input *in)
{
    static char buf[8192];
    size_t size = u16(in) % sizeof(buf);
    int n = slabinfo(buf, size);
    if (size && strlen(buf) != ((size_t)n < size ? (size_t)n : size - 1))
        DIE("slabinfo into %zu bytes: %d, %zu written", size, n, strlen(buf));
}

static void reset(bool dbg)
{
    static bool ready;
    if (!ready) {
        mm_host_init(MAX_PFN, ram, sizeof(ram) / sizeof(ram[0]));
        ready = true;
    } else {
        mm_host_reset();
    }
    base_free = nr_free_pages();
    debug = dbg;
    slab_set_debug(dbg);
    kmem_cache_init();
    memset(caches, 0, sizeof(caches));
    nheld = nfreed = 0;
    ngrabbed = ngrabs = errors = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    reset(u8(&in) & 1);
    for (int op = 0; op < MAX_OPS && in.n; op++) {
        switch (u8(&in) % 12) {
        case 0:
            do_create(&in);
            break;
        case 1:
            do_destroy(&in);
            break;
        case 2:
        case 3:
            if (nheld < NHELD)
                do_cache_alloc(&in);
            break;
        case 4:
        case 5:
            if (nheld < NHELD)
                do_kmalloc(&in);
            break;
        case 6:
        case 7:
            do_free(&in);
            break;
        case 8:
            if (debug)
                do_mistake(&in);
            break;
        case 9: {
            uint8_t b = u8(&in);
            if (b & 1)
                slab_shrink_all();
            else if (caches[(b >> 1) % NCACHES].c)
                kmem_cache_shrink(caches[(b >> 1) % NCACHES].c);
            break;
        }
        case 10:
            do_pressure(&in);
            break;
        default:
            do_slabinfo(&in);
            break;
        }
        fz_check(op);
    }
    while (nheld) {
        struct input none = { NULL, 0 };
        do_free(&none);
    }
    release_grabbed();
    for (int i = 0; i < NCACHES; i++)
        if (caches[i].c && kmem_cache_destroy(caches[i].c))
            DIE("final destroy of cache %d", i);
    memset(caches, 0, sizeof(caches));
    slab_shrink_all();
    fz_check(-1);
    if (slab_live_objects() || kmalloc_large_pages() ||
        slab_pages_held() != slab_cache_cache.nr_slabs << slab_cache_cache.order)
        DIE("frames or objects left at the end");
    return 0;
}
