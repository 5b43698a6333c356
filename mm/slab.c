/*
 * The slab allocator: caches of equal-sized objects carved out of blocks
 * of frames (Jeff Bonwick, "The Slab Allocator: An Object-Caching Kernel
 * Memory Allocator", USENIX Summer 1994; the course slides on Linux's
 * allocators).
 *
 * Invariants (slab_check() verifies them all):
 *  - every slab of a cache is on exactly one of its lists: `full` (no free
 *    object), `partial`, or `empty` (every object free); nfree is the
 *    number of bits set in its free map;
 *  - an object is in exactly one place: the slab's free set (free bit),
 *    the cache's per-CPU array (an entry there, free bit clear), or a
 *    caller's hands (neither); a debug cache's array stays empty;
 *  - the head frame of every slab is PG_SLAB and names the descriptor;
 *    the descriptor names its cache; cache->nr_slabs and slab_pages count
 *    them; cache->free_objs sums the slabs' nfree, so the objects in
 *    callers' hands are the slots minus free_objs minus the array's
 *    (no counter is touched on the fast paths);
 *  - objects keep their constructed state: the allocator never writes
 *    into a slot outside debug mode (the free sets are bitmaps in the
 *    descriptor, not links threaded through the objects as in the naive
 *    slab of the blog post on kernel memory management).
 *
 * Allocation pops the per-CPU array; when it is empty, `refill` moves up
 * to `batch` objects into it from partial slabs first (packing objects
 * into few slabs), then empty ones, and grows the cache by one slab only
 * when none has a free object.  Free pushes onto the array; when it is
 * full, `batch` of its oldest objects go back to their slabs.  Neither
 * fast path writes to a slab descriptor: this is Bonwick and Adams's
 * magazine layer ("Magazines and Vmem", USENIX 2001), which touches only
 * the CPU's own stack.  Empty slabs are kept (a cache that shrank will
 * likely grow again: the slides' "ne restitue pas spontanément les
 * pages"); the page allocator takes them back through slab_shrink_all
 * when it is about to fail.
 *
 * Double frees.  With no per-object state on the fast paths, a normal
 * cache catches a double free in two places: at once when the object is
 * the top of the array (it was the last object freed and nothing was
 * allocated since; Linux SLUB's freelist hardening makes the same check),
 * and when an object goes back to its slab (flush or drain) and finds its
 * free bit already set.  An object freed twice and then handed out again
 * before either check can reach two callers.  A debug cache has no array:
 * every free is checked against the free bit and a double free is always
 * caught, before anything changes (Linux SLUB's debug caches also skip
 * the per-CPU fast path).  docs/slab.md, section 6, has the table.
 *
 * Layout: for each cache the slab order is chosen (among 0 to
 * SLAB_MAX_ORDER) to waste little, and the descriptor is kept at the end
 * of the slab or, for objects of 512 bytes and more where that would cost
 * an object, off-slab in a kmalloc block (Bonwick section 3.2).  The
 * space left over gives colours: successive slabs start their objects
 * 0, 64, 128... bytes in, so that the same object of different slabs does
 * not fall in the same cache-line set (Bonwick section 4.1).
 *
 * Locking: none (one CPU, no preemption inside mm/); with SMP each
 * per-CPU array would be touched only by its CPU with interrupts off, and
 * the lists would get a per-cache lock.  Left out on purpose: Linux SLAB's
 * shared array and per-node lists, destructors (the slides: "généralement
 * inutilisés"), and reaping caches on a timer.
 */
#include "slab_impl.h"
#include <kernel/printk.h>
#include <kernel/string.h>

bool slab_debug;
struct slab_dmap slab_dmap;
struct slab_link slab_caches;
struct kmem_cache slab_cache_cache;    /* the cache of struct kmem_cache (Bonwick's cache_cache) */
uint64_t slab_pages, slab_large_pages;
static bool slab_ready;
static bool shrinking;

/* ---- lists -------------------------------------------------------------------------- */

static void link_init(struct slab_link *h)
{
    h->next = h->prev = h;
}

static void link_add(struct slab_link *h, struct slab_link *n)
{
    n->next = h->next;
    n->prev = h;
    h->next->prev = n;
    h->next = n;
}

static void link_del(struct slab_link *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = n;
}

static struct slab *first_slab(struct slab_link *h)
{
    return h->next == h ? NULL : (struct slab *)h->next;
}

/* The list a slab with `nfree` free objects belongs on. */
static struct slab_link *list_for(struct kmem_cache *c, uint32_t nfree)
{
    return nfree == 0 ? &c->full : nfree == c->num ? &c->empty : &c->partial;
}

/* ---- page marks ------------------------------------------------------------------------ */

void slab_mark_pages(struct page *pg, unsigned order, struct slab *desc)
{
    uint64_t v = (uint64_t)(uintptr_t)desc;
    uint32_t head = (uint32_t)page_to_pfn(pg);
    pg->flags |= PG_SLAB;
    pg->next = (uint32_t)v;
    pg->prev = (uint32_t)(v >> 32);
    for (uint64_t i = 1; i < (1ul << order); i++) {
        pg[i].next = head;
        pg[i].prev = PFN_NIL;
    }
}

void slab_unmark_pages(struct page *pg, unsigned order)
{
    pg->flags &= (uint8_t)~PG_SLAB;
    for (uint64_t i = 0; i < (1ul << order); i++)
        pg[i].next = pg[i].prev = PFN_NIL;
}

/* ---- layout ---------------------------------------------------------------------------- */

static size_t desc_bytes(uint32_t num)
{
    return sizeof(struct slab) + sizeof(uint64_t) * ((num + 63) / 64);
}

/* Objects of `size` bytes that fit in `bytes` beside their descriptor. */
static uint32_t fit_onslab(size_t bytes, size_t size)
{
    uint32_t n = (uint32_t)(bytes / size);
    while (n && n * size + desc_bytes(n) > bytes)
        n--;
    return n;
}

/*
 * Choose the order, the number of objects and where the descriptor goes.
 * Efficiency is in 1/1024ths of the memory a slab costs (its frames, plus
 * the kmalloc block of an off-slab descriptor).  A larger order must beat
 * the best smaller one by more than 1% to be taken; the search stops at
 * the first order that wastes at most 1/32, and goes past SLAB_GOOD_ORDER
 * only while no order has held an object: big slabs are hard to find in
 * fragmented memory, and a cache with few objects would hold a lot.
 * SLAB_GOOD_ORDER is 4 (64 KiB), one more than Linux's usual limit,
 * because some sizes waste a fixed share at every smaller order: 3840
 * bytes is 15/16 of a page, 1/16 lost at orders 0 to 3, 0.4% at order 4
 * (nine of the kmalloc classes take it; slabinfo shows which).
 */
static bool choose_layout(struct kmem_cache *c)
{
    uint64_t best = 0;
    c->num = 0;
    /* Debug mode may take one order more: the red zones must not make the
     * largest object size the API accepts impossible. */
    unsigned max_order = SLAB_MAX_ORDER + (c->debug ? 1 : 0);
    for (unsigned order = 0; order <= max_order; order++) {
        size_t bytes = PAGE_SIZE << order;
        uint32_t n = fit_onslab(bytes, c->size);
        uint64_t eff = n * c->size * 1024 / bytes;
        bool off = false;
        /* Off-slab only for big objects (Bonwick: >= 1/8 page), and only
         * once the kmalloc class the descriptor needs exists. */
        struct kmem_cache *dc = c->size >= PAGE_SIZE / 8 ? kmalloc_slab(desc_bytes(
                                    (uint32_t)(bytes / c->size))) : NULL;
        if (dc) {
            uint32_t n2 = (uint32_t)(bytes / c->size);
            uint64_t eff2 = n2 * c->size * 1024 / (bytes + dc->size);
            if (eff2 > eff) {
                n = n2;
                eff = eff2;
                off = true;
            }
        }
        if (n && eff > best + 10) {
            best = eff;
            c->order = order;
            c->num = n;
            c->offslab = off;
        }
        if (best >= 1024 - 32 || (c->num && order >= SLAB_GOOD_ORDER))
            break;
    }
    if (!c->num)
        return false;
    c->map_words = (c->num + 63) / 64;
    c->desc_size = desc_bytes(c->num);
    c->span = (size_t)c->num * c->size;
    size_t left = (PAGE_SIZE << c->order) - c->span - (c->offslab ? 0 : c->desc_size);
    c->colour_off = c->align > SLAB_CACHE_LINE ? c->align : SLAB_CACHE_LINE;
    c->colour_count = (uint32_t)(left / c->colour_off) + 1;
    c->colour_next = 0;
    c->recip = ((1ul << 32) + c->size - 1) / c->size;
    c->slot_magic = 1 + ~0ul / c->size;
    return true;
}

/* Per-CPU array size by object size, as Linux SLAB tunes it: more objects
 * for small sizes, where the array costs little memory.  A debug cache
 * has none: every allocation and free goes to the slabs and is checked. */
static uint32_t array_limit(const struct kmem_cache *c)
{
    size_t size = c->size;
    if (c->debug)
        return 0;
    return size <= 256 ? AC_MAX : size <= 1024 ? 32 : size <= PAGE_SIZE ? 16 : 8;
}

static bool is_pow2(size_t x)
{
    return x && !(x & (x - 1));
}

/* Fill in a cache; false when the arguments are absurd or nothing fits. */
static bool cache_setup(struct kmem_cache *c, const char *name, size_t size, size_t align,
                        unsigned long flags, void (*ctor)(void *))
{
    if (!name || !size || size > KMEM_CACHE_MAX_SIZE || (align && !is_pow2(align)) ||
        align > PAGE_SIZE || (flags & ~(SLAB_USER_FLAGS | SLAB_KMALLOC | SLAB_PERMANENT)))
        return false;
    memset(c, 0, sizeof(*c));
    size_t n = strnlen(name, sizeof(c->name) - 1);
    memcpy(c->name, name, n);
    c->name[n] = 0;
    if (align < KMALLOC_MIN_SIZE)
        align = KMALLOC_MIN_SIZE;
    if (flags & SLAB_HWCACHE_ALIGN) {
        /* A cache line, or for small objects the power of two that lets
         * several share a line without one straddling two. */
        size_t line = SLAB_CACHE_LINE;
        while (line / 2 >= size && line / 2 >= KMALLOC_MIN_SIZE)
            line /= 2;
        if (line > align)
            align = line;
    }
    c->align = align;
    c->object_size = size;
    c->flags = flags;
    c->ctor = ctor;
    c->debug = slab_debug;
    c->poison = slab_debug && !ctor;
    c->gfp_zone = (flags & SLAB_CACHE_DMA) ? __GFP_DMA : (flags & SLAB_CACHE_DMA32) ? __GFP_DMA32 : 0;
    c->gfp_refuse = (flags & SLAB_CACHE_DMA) ? 0 : (flags & SLAB_CACHE_DMA32) ? __GFP_DMA
                                                                               : __GFP_DMA | __GFP_DMA32;
    c->gfp_slow = c->gfp_refuse | __GFP_ZERO;
    if (c->debug) {
        /* [red zone][object][red zone and padding]: the left zone keeps the
         * object aligned, the right one is at least RED_ZONE_MIN bytes. */
        c->obj_offset = align > RED_ZONE_MIN ? align : RED_ZONE_MIN;
        c->size = ALIGN_UP(c->obj_offset + ALIGN_UP(size, 8) + RED_ZONE_MIN, align);
    } else {
        c->size = ALIGN_UP(size, align);
    }
    if (!choose_layout(c))
        return false;
    link_init(&c->full);
    link_init(&c->partial);
    link_init(&c->empty);
    c->lock = (spinlock_t)SPINLOCK_INIT("kmem_cache->lock");
    for (int i = 0; i < SLAB_NR_CPUS; i++) {
        c->cpu[i].limit = array_limit(c);
        c->cpu[i].batch = c->cpu[i].limit / 2;
    }
    link_add(slab_caches.prev, &c->chain); /* at the tail: creation order */
    return true;
}

/* ---- growing and shrinking ----------------------------------------------------------------- */

/* A new slab, not linked yet (link_new links it, under the cache's lock).
 * Called without the cache's lock: the page allocator may call the
 * shrinker, which takes cache locks; the lock is taken for the colour. */
static struct slab *grow(struct kmem_cache *c, gfp_t gfp)
{
    gfp_t pgfp = (gfp & ~(__GFP_ZERO | __GFP_DMA | __GFP_DMA32)) | c->gfp_zone;
    struct page *pg = alloc_pages(pgfp, c->order);
    if (!pg)
        return NULL;
    char *base = page_address(pg);
    size_t bytes = PAGE_SIZE << c->order;
    struct slab *s;
    if (c->offslab) {
        s = kmalloc(c->desc_size, gfp & ~(__GFP_ZERO | __GFP_DMA | __GFP_DMA32));
        if (!s) {
            __free_pages(pg, c->order);
            return NULL;
        }
    } else {
        s = (struct slab *)(base + bytes - c->desc_size);
    }
    s->cache = c;
    spin_lock(&c->lock);
    s->colour = c->colour_next * (uint32_t)c->colour_off;
    if (++c->colour_next == c->colour_count)
        c->colour_next = 0;
    spin_unlock(&c->lock);
    s->s_mem = base + s->colour;
    s->nfree = c->num;
    for (uint32_t w = 0; w < c->map_words; w++) {
        uint32_t left = c->num - w * 64;
        s->map[w] = left >= 64 ? ~0ul : (1ul << left) - 1;
    }
    slab_mark_pages(pg, c->order, s);
    if (c->debug)
        slab_debug_init_slab(c, s);
    if (c->ctor)
        for (uint32_t i = 0; i < c->num; i++)
            c->ctor(slab_object(c, s, i));
    __atomic_fetch_add(&slab_pages, 1ul << c->order, __ATOMIC_RELAXED);
    return s;
}

/* A slab from grow onto `empty` (the cache's lock held). */
static void link_new(struct kmem_cache *c, struct slab *s)
{
    link_add(&c->empty, &s->link);
    c->nr_slabs++;
    c->free_objs += c->num;
}

/* Give an empty slab back to the page allocator (the cache's lock held). */
static void slab_destroy(struct kmem_cache *c, struct slab *s)
{
    char *base = slab_base(s);
    struct page *pg = virt_to_page(base);
    if (c->debug)
        slab_debug_check_slab(c, s); /* last chance to see a write after free */
    link_del(&s->link);
    slab_unmark_pages(pg, c->order);
    if (c->offslab)
        kfree(s);
    __free_pages(pg, c->order);
    c->nr_slabs--;
    c->free_objs -= c->num;
    __atomic_fetch_sub(&slab_pages, 1ul << c->order, __ATOMIC_RELAXED);
}

/* Set the free bit of slot i of slab s, and move the slab to its new list. */
static void slot_free(struct kmem_cache *c, struct slab *s, uint32_t i)
{
    struct slab_link *was = list_for(c, s->nfree);
    s->map[i / 64] |= 1ul << (i % 64);
    s->nfree++;
    c->free_objs++;
    struct slab_link *now = list_for(c, s->nfree);
    if (now != was) {
        link_del(&s->link);
        link_add(now, &s->link);
    }
}

/*
 * Move one object from the per-CPU array back to its slab.  The array
 * accepted it without looking at the slab, so this is where a double free
 * that was not the top of the array shows: the object is free already
 * (its first copy came back before it, or it never left).  The duplicate
 * is dropped (after the report, in debug mode; a normal cache panics).
 */
static void put_back(struct kmem_cache *c, struct ac_entry e)
{
    struct slab *s = e.slab;
    uint32_t i = slab_index(c, (uint64_t)((char *)e.obj - c->obj_offset - s->s_mem));
    if (unlikely(slab_is_free(s, i))) {
        slab_error(c, e.obj, 0, "double free (seen when the per-CPU array was flushed: the "
                   "object is already free in its slab)");
        return;
    }
    slot_free(c, s, i);
}

/* Send the n oldest objects of the array (its bottom) back to their slabs. */
static void flush(struct kmem_cache *c, struct array_cache *ac, uint32_t n)
{
    for (uint32_t i = 1; i <= n; i++)
        put_back(c, ac->entry[i]);
    memmove(ac->entry + 1, ac->entry + 1 + n, (ac->avail - n) * sizeof(ac->entry[0]));
    ac->avail -= n;
}

/* With the cache's lock held: a slab with a free object, partial first,
 * then empty, then a new one (only when may_grow: the lock is let go
 * while it grows and taken again to link it, so the new slab is the
 * caller's to take from before anyone else sees it).  NULL when there is
 * none. */
static struct slab *slab_with_free(struct kmem_cache *c, gfp_t gfp, bool may_grow)
{
    struct slab *s = first_slab(&c->partial);
    if (!s)
        s = first_slab(&c->empty);
    if (!s && may_grow) {
        spin_unlock(&c->lock);
        s = grow(c, gfp);
        spin_lock(&c->lock);
        if (s)
            link_new(c, s);
    }
    return s;
}

/* Take the first free object of slab s off its free set. */
static void *slot_take(struct kmem_cache *c, struct slab *s)
{
    uint32_t w = 0;
    while (!s->map[w])
        w++;
    uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(s->map[w]);
    struct slab_link *was = list_for(c, s->nfree);
    s->map[w] &= s->map[w] - 1;
    s->nfree--;
    c->free_objs--;
    struct slab_link *now = list_for(c, s->nfree);
    if (now != was) {
        link_del(&s->link);
        link_add(now, &s->link);
    }
    return slab_object(c, s, i);
}

/* Fill the empty per-CPU array with up to `batch` objects; false when no
 * object could be had.  The cache grows only with the array empty: the
 * shrinker alloc_pages may call then finds nothing of ours half-moved. */
static bool refill(struct kmem_cache *c, struct array_cache *ac, gfp_t gfp)
{
    spin_lock(&c->lock);
    while (ac->avail < ac->batch) {
        struct slab *s = slab_with_free(c, gfp, ac->avail == 0);
        if (!s)
            break;
        while (s->nfree && ac->avail < ac->batch) {
            void *obj = slot_take(c, s);
            ac->entry[++ac->avail] = (struct ac_entry){ obj, s };
        }
    }
    spin_unlock(&c->lock);
    return ac->avail > 0;
}

/* One object straight from the slabs (a debug cache, or a CPU without an
 * array), or NULL. */
static void *take_one(struct kmem_cache *c, gfp_t gfp)
{
    void *obj = NULL;
    spin_lock(&c->lock);
    struct slab *s = slab_with_free(c, gfp, true);   /* with a free object, or NULL */
    if (s)
        obj = slot_take(c, s);
    spin_unlock(&c->lock);
    return obj;
}

/* Empty this CPU's array and free the empty slabs; the frames freed.
 * The other CPUs' arrays are theirs: slab_drain_local, which each runs
 * for itself when the boot CPU drains the per-CPU caches (drain_pcp). */
static uint64_t cache_shrink(struct kmem_cache *c)
{
    uint64_t freed = 0;
    unsigned cpu = slab_cpu();
    spin_lock(&c->lock);
    if (cpu < SLAB_NR_CPUS)
        flush(c, &c->cpu[cpu], c->cpu[cpu].avail);
    struct slab *s;
    while ((s = first_slab(&c->empty))) {
        slab_destroy(c, s);
        freed += 1ul << c->order;
    }
    spin_unlock(&c->lock);
    return freed;
}

uint64_t kmem_cache_shrink(struct kmem_cache *c)
{
    return c ? cache_shrink(c) : 0;
}

void slab_drain_local(void)
{
    unsigned cpu = slab_cpu();
    if (!slab_ready || cpu >= SLAB_NR_CPUS)
        return;
    for (struct slab_link *l = slab_caches.next; l != &slab_caches; l = l->next) {
        struct kmem_cache *c = slab_chain_cache(l);
        spin_lock(&c->lock);
        flush(c, &c->cpu[cpu], c->cpu[cpu].avail);
        spin_unlock(&c->lock);
    }
}

uint64_t slab_shrink_all(void)
{
    uint64_t freed = 0;
    if (shrinking || !slab_ready)
        return 0;
    shrinking = true;
    /* Newest first: the off-slab descriptors of a cache live in kmalloc
     * caches created before it, and freeing its slabs frees them. */
    for (struct slab_link *l = slab_caches.prev; l != &slab_caches; l = l->prev) {
        struct kmem_cache *c = slab_chain_cache(l);
        if (!(c->flags & SLAB_NO_REAP))
            freed += cache_shrink(c);
    }
    shrinking = false;
    return freed;
}

/* ---- allocation and free ------------------------------------------------------------------- */

/*
 * Both fast paths make one test for every unusual case and then do the
 * work, a pop or a push, without touching any slab descriptor.  alloc's
 * test: the array is empty (always, for a debug cache) or a gfp flag
 * needs acting on.  free's test: the pointer is not the start of a slot
 * of the slab it lies in, the array is full (always, for a debug cache:
 * its limit is 0), or the object is the top of the array (a double
 * free).  Everything else is in the _slow functions.
 */

static __attribute__((noinline)) void *alloc_slow(struct kmem_cache *c, gfp_t gfp)
{
    unsigned cpu = slab_cpu();
    void *obj;
    if (gfp & c->gfp_refuse) {
        slab_report("kmem_cache_alloc: cache %s cannot give %s memory", c->name,
                    (gfp & __GFP_DMA) ? "DMA" : "DMA32");
        return NULL;
    }
    if (c->debug || cpu >= SLAB_NR_CPUS) {
        if (!(obj = take_one(c, gfp)))
            return NULL;
        if (c->debug)
            slab_debug_on_alloc(c, obj);
    } else {
        struct array_cache *ac = &c->cpu[cpu];
        if (!ac->avail && !refill(c, ac, gfp))
            return NULL;
        obj = ac->entry[ac->avail--].obj;
    }
    if (gfp & __GFP_ZERO)
        memset(obj, 0, c->object_size);
    return obj;
}

void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp)
{
    unsigned cpu = slab_cpu();
    if (unlikely(cpu >= SLAB_NR_CPUS))
        return alloc_slow(c, gfp);
    struct array_cache *ac = &c->cpu[cpu];
    uint32_t n = ac->avail;
    if (unlikely(!n || (gfp & c->gfp_slow)))
        return alloc_slow(c, gfp);
    ac->avail = n - 1;
    return ac->entry[n].obj;
}

/* A free whose pointer is not the start of an object of slab s. */
static void bad_offset(struct kmem_cache *c, struct slab *s, void *obj)
{
    long rel = (long)((char *)obj - (s->s_mem + c->obj_offset));
    if (rel < 0 || (size_t)rel >= c->span) {
        slab_error(c, s->s_mem + c->obj_offset, rel,
                   "free of a pointer between the objects of a slab");
        return;
    }
    size_t i = (size_t)rel / c->size;
    slab_error(c, slab_object(c, s, (uint32_t)i), (long)((size_t)rel - i * c->size),
               "free of a pointer inside an object");
}

static __attribute__((noinline)) void free_slow(struct kmem_cache *c, struct slab *s, void *obj)
{
    unsigned cpu = slab_cpu();
    uint64_t off = (uint64_t)((char *)obj - c->obj_offset - s->s_mem);
    if (off >= c->span || !slab_is_slot_start(c, off)) {
        bad_offset(c, s, obj);
        return;
    }
    uint32_t i = slab_index(c, off);
    if (c->debug || cpu >= SLAB_NR_CPUS) {
        /* No array: the object is allocated exactly when its bit is clear. */
        spin_lock(&c->lock);
        bool twice = slab_is_free(s, i);
        if (!twice) {
            if (c->debug)
                slab_debug_on_free(c, obj);
            slot_free(c, s, i);
        }
        spin_unlock(&c->lock);
        if (twice)
            slab_error(c, obj, 0, "double free (the object is not allocated)");
        return;
    }
    struct array_cache *ac = &c->cpu[cpu];
    if (ac->entry[ac->avail].obj == obj) {
        slab_error(c, obj, 0, "double free (the object is not allocated)");
        return;
    }
    if (ac->avail == ac->limit) {
        spin_lock(&c->lock);
        flush(c, ac, ac->batch);
        spin_unlock(&c->lock);
    }
    ac->entry[++ac->avail] = (struct ac_entry){ obj, s };
}

/* obj lies in slab s of cache c (the caller looked it up). */
static inline void free_object(struct kmem_cache *c, struct slab *s, void *obj)
{
    unsigned cpu = slab_cpu();
    if (unlikely(cpu >= SLAB_NR_CPUS)) {
        free_slow(c, s, obj);
        return;
    }
    struct array_cache *ac = &c->cpu[cpu];
    /* Without obj_offset: it is 0 but in debug caches, which go to
     * free_slow anyway (limit 0), where it is taken into account. */
    uint64_t off = (uint64_t)((char *)obj - s->s_mem);
    uint32_t n = ac->avail;
    if (unlikely(off >= c->span || !slab_is_slot_start(c, off) || n == ac->limit ||
                 ac->entry[n].obj == obj)) {
        free_slow(c, s, obj);
        return;
    }
    ac->entry[n + 1] = (struct ac_entry){ obj, s };
    ac->avail = n + 1;
}

void slab_free_object(struct kmem_cache *c, struct slab *s, void *obj)
{
    free_object(c, s, obj);
}

/* A free whose pointer is in no slab of the cache (or NULL: fine). */
static __attribute__((noinline)) void bad_free(struct kmem_cache *c, struct slab *s, void *obj)
{
    char what[96];
    if (!obj)
        return;
    if (s)
        snprintf(what, sizeof(what), "cache mismatch (the object belongs to %s)", s->cache->name);
    else
        snprintf(what, sizeof(what), "free of a pointer that is not a slab object");
    slab_error(c, obj, 0, what);
}

void kmem_cache_free(struct kmem_cache *c, void *obj)
{
    struct page *pg = slab_head_page(obj); /* NULL for NULL */
    struct slab *s = pg ? page_slab(pg) : NULL;
    if (unlikely(!s || s->cache != c)) {
        bad_free(c, s, obj);
        return;
    }
    free_object(c, s, obj);
}

/* ---- caches ---------------------------------------------------------------------------- */

struct kmem_cache *slab_create(const char *name, size_t size, size_t align,
                               unsigned long flags, void (*ctor)(void *))
{
    if (!slab_ready)
        return NULL;
    struct kmem_cache *c = kmem_cache_alloc(&slab_cache_cache, GFP_KERNEL);
    if (!c)
        return NULL;
    if (!cache_setup(c, name, size, align, flags, ctor)) {
        kmem_cache_free(&slab_cache_cache, c);
        return NULL;
    }
    return c;
}

struct kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align,
                                     unsigned long flags, void (*ctor)(void *))
{
    if (!mm_reclaim_cpu()) {
        /* The list of caches has no lock of its own: the CPU that holds
         * the kernel lock alone changes it. */
        slab_report("kmem_cache_create: %s: only the kernel lock's holder creates caches",
                    name ? name : "(null)");
        return NULL;
    }
    if (flags & ~SLAB_USER_FLAGS) {
        printk("kmem_cache_create: %s: unknown flags %#lx refused\n", name ? name : "(null)",
               flags & ~SLAB_USER_FLAGS);
        return NULL;
    }
    struct kmem_cache *c = slab_create(name, size, align, flags, ctor);
    if (!c)
        printk("kmem_cache_create: %s: size %zu, align %zu refused\n", name ? name : "(null)",
               size, align);
    return c;
}

int kmem_cache_destroy(struct kmem_cache *c)
{
    if (!c)
        return -1;
    if (c->flags & SLAB_PERMANENT) {
        slab_report("kmem_cache_destroy: cache %s belongs to the allocator", c->name);
        return -1;
    }
    if (!mm_reclaim_cpu()) {
        slab_report("kmem_cache_destroy: %s: only the kernel lock's holder destroys caches",
                    c->name);
        return -1;
    }
    cache_shrink(c);
    if (c->nr_slabs) {
        /* Name one leaked object, to start the hunt from. */
        struct slab *s = first_slab(&c->partial) ? first_slab(&c->partial) : first_slab(&c->full);
        void *first = NULL;
        for (uint32_t i = 0; s && !first && i < c->num; i++)
            if (!slab_is_free(s, i)) /* the array is empty: not free is allocated */
                first = slab_object(c, s, i);
        slab_report("kmem_cache_destroy: cache %s still has %lu objects allocated "
                    "(a leak; one is at %p): not destroyed", c->name,
                    slab_cache_live(c), first);
        return -1;
    }
    link_del(&c->chain);
    kmem_cache_free(&slab_cache_cache, c);
    return 0;
}

size_t kmem_cache_size(const struct kmem_cache *c)
{
    return c->object_size;
}

uint64_t kmem_cache_live(const struct kmem_cache *c)
{
    return slab_cache_live(c);
}

void slab_set_debug(bool on)
{
    slab_debug = on;
}

void kmem_cache_init(void)
{
    struct mem_node *n = node0;
    slab_dmap.base = (uintptr_t)n->phys_to_virt(0);
    slab_dmap.bytes = n->max_pfn << PAGE_SHIFT;
    slab_dmap.map = n->mem_map;
    slab_pages = slab_large_pages = 0;
    shrinking = false;
    slab_reset_reports();
    link_init(&slab_caches);
    kmalloc_clear_classes();
    /* The cache of caches is the one cache not allocated from itself. */
    if (!cache_setup(&slab_cache_cache, "kmem_cache", sizeof(struct kmem_cache), 0,
                     SLAB_HWCACHE_ALIGN | SLAB_PERMANENT, NULL))
        panic("kmem_cache_init: no layout for the cache of caches");
    slab_ready = true;
    kmalloc_init();
    n->shrink = slab_shrink_all;
}
