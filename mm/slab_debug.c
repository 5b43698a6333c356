/*
 * Catching the errors of slab users: reports, red zones, poisoning, and
 * the validator.
 *
 * Invariants, in debug mode (slab_debug when the cache was created):
 *  - every slot is [red zone][object][red zone]: the guard bytes hold
 *    RED_ZONE from the slab's creation on, whatever the object's state,
 *    so an overflow or underflow is seen at the object's next free or
 *    allocation (and by slab_check at any time);
 *  - in caches without a constructor, a free object is filled with
 *    POISON_FREE, so a write through a stale pointer is seen at its next
 *    allocation; a newly allocated object is POISON_INUSE until written,
 *    which makes reads of uninitialised memory recognisable (0x5a5a...).
 * Each report gives the offset of the first bad byte from the start of
 * the object: negative in the left red zone, object_size and up in the
 * right one.  After a report the bytes are restored and the operation
 * goes on (the object is still whole; only its neighbours' guard bytes or
 * a freed object's content were hit).
 *
 * Errors in calls (bad pointer, wrong cache) are detected in every mode,
 * before anything changes; double frees always in debug mode, and in
 * normal mode when the object is the top of the per-CPU array or when it
 * goes back to its slab (mm/slab.c says why).  slab_error() panics
 * outside debug mode and reports inside it.  Reference: Bonwick section
 * 6.1 (debugging: "redzone", "deadbeef" poisoning), Linux's slab_debug,
 * OpenBSD malloc's junk bytes.
 *
 * The validator, slab_check(), recounts everything from the structures
 * themselves: the free maps, the lists, the per-CPU arrays, the page
 * marks; the objects in callers' hands are what those leave.
 */
#include "slab_impl.h"
#include <mm/check.h>
#include <kernel/printk.h>
#include <kernel/string.h>

static uint64_t nerrors;
static char last[200];

void slab_reset_reports(void)
{
    nerrors = 0;
    last[0] = 0;
}

uint64_t slab_error_count(void)
{
    return nerrors;
}

const char *slab_last_error(void)
{
    return last;
}

static void record(const char *msg)
{
    size_t n = strnlen(msg, sizeof(last) - 1);
    memcpy(last, msg, n);
    last[n] = 0;
    nerrors++;
    printk("%s\n", last);
}

void slab_report(const char *fmt, ...)
{
    char msg[sizeof(last)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    record(msg);
}

void slab_error(const struct kmem_cache *c, const void *obj, long offset, const char *what)
{
    char msg[sizeof(last)];
    snprintf(msg, sizeof(msg), "slab error: %s: cache %s, object %p, offset %ld", what,
             c ? c->name : "(none)", obj, offset);
    if (!(c ? c->debug : slab_debug))
        panic("%s", msg);
    record(msg);
}

/* ---- red zones and poison ---------------------------------------------------------- */

static char *left_zone(const struct kmem_cache *c, void *obj)
{
    return (char *)obj - c->obj_offset;
}

static size_t right_len(const struct kmem_cache *c)
{
    return c->size - c->obj_offset - c->object_size;
}

/* Check both red zones of obj; report the first bad byte of each and
 * restore it.  `when` says at which operation it was seen. */
static void check_zones(struct kmem_cache *c, void *obj, const char *when)
{
    char what[96];
    unsigned char *l = (unsigned char *)left_zone(c, obj);
    unsigned char *r = (unsigned char *)obj + c->object_size;
    for (size_t k = c->obj_offset; k > 0; k--) {
        if (l[k - 1] != RED_ZONE) {
            snprintf(what, sizeof(what), "red zone before the object overwritten (seen at %s)",
                     when);
            slab_error(c, obj, -(long)(c->obj_offset - (k - 1)), what);
            memset(l, RED_ZONE, c->obj_offset);
            break;
        }
    }
    for (size_t k = 0; k < right_len(c); k++) {
        if (r[k] != RED_ZONE) {
            snprintf(what, sizeof(what), "red zone after the object overwritten (seen at %s)",
                     when);
            slab_error(c, obj, (long)(c->object_size + k), what);
            memset(r, RED_ZONE, right_len(c));
            break;
        }
    }
}

/* Offset of the first of the n bytes at p that is not `byte`, or -1.
 * Eight bytes at a time once p + i is aligned: debug mode reads every
 * free object whole on each allocation. */
static long first_not(const void *p, size_t n, unsigned char byte)
{
    typedef uint64_t __attribute__((may_alias)) word_t;
    const unsigned char *b = p;
    uint64_t pattern = byte * 0x0101010101010101ul;
    size_t i = 0;
    while (i < n && ((uintptr_t)(b + i) & 7)) {
        if (b[i] != byte)
            return (long)i;
        i++;
    }
    while (i + 8 <= n && *(const word_t *)(b + i) == pattern)
        i += 8;
    for (; i < n; i++)
        if (b[i] != byte)
            return (long)i;
    return -1;
}

static void check_poison(struct kmem_cache *c, void *obj, const char *when)
{
    long bad = first_not(obj, c->object_size, POISON_FREE);
    if (bad >= 0) {
        char what[96];
        snprintf(what, sizeof(what), "write after free (seen at %s)", when);
        slab_error(c, obj, bad, what);
    }
}

void slab_debug_init_slab(struct kmem_cache *c, struct slab *s)
{
    for (uint32_t i = 0; i < c->num; i++) {
        char *obj = slab_object(c, s, i);
        memset(left_zone(c, obj), RED_ZONE, c->obj_offset);
        memset(obj + c->object_size, RED_ZONE, right_len(c));
        if (c->poison)
            memset(obj, POISON_FREE, c->object_size);
    }
}

void slab_debug_on_alloc(struct kmem_cache *c, void *obj)
{
    check_zones(c, obj, "allocation");
    if (c->poison) {
        check_poison(c, obj, "allocation");
        memset(obj, POISON_INUSE, c->object_size);
    }
}

void slab_debug_on_free(struct kmem_cache *c, void *obj)
{
    check_zones(c, obj, "free");
    if (c->poison)
        memset(obj, POISON_FREE, c->object_size);
}

void slab_debug_check_slab(struct kmem_cache *c, struct slab *s)
{
    for (uint32_t i = 0; i < c->num; i++) {
        void *obj = slab_object(c, s, i);
        check_zones(c, obj, "slab release");
        if (c->poison && slab_is_free(s, i))
            check_poison(c, obj, "slab release");
    }
}

/* ---- the validator ---------------------------------------------------------------------- */

/* Are the n bytes at p all `byte`? */
static bool all_bytes(const void *p, size_t n, unsigned char byte)
{
    return first_not(p, n, byte) < 0;
}

static int check_slab(struct kmem_cache *c, struct slab *s, struct slab_link *list,
                      char *why, size_t size)
{
    const char *n = c->name;
    uint32_t nfree = 0;
    CHECK(s->cache == c, "%s: slab %p names cache %p", n, (void *)s, (void *)s->cache);
    for (uint32_t w = 0; w < c->map_words; w++) {
        uint64_t f = s->map[w];
        uint64_t valid = c->num - w * 64 >= 64 ? ~0ul : (1ul << (c->num - w * 64)) - 1;
        CHECK(!(f & ~valid), "%s: slab %p: bits past object %u", n, (void *)s, c->num);
        nfree += (uint32_t)__builtin_popcountll(f);
    }
    CHECK(nfree == s->nfree, "%s: slab %p: %u free bits, nfree %u", n, (void *)s, nfree,
          s->nfree);
    CHECK(list == (nfree == 0 ? &c->full : nfree == c->num ? &c->empty : &c->partial),
          "%s: slab %p with %u of %u free is on the wrong list", n, (void *)s, nfree, c->num);
    CHECK(s->colour % c->colour_off == 0 && s->colour / c->colour_off < c->colour_count,
          "%s: slab %p: colour %u", n, (void *)s, s->colour);
    char *base = slab_base(s);
    struct page *pg = slab_head_page(base);
    CHECK(pg && page_slab(pg) == s && pg->order == c->order && pg->refcount > 0 &&
          (uintptr_t)base - slab_dmap.base == page_to_phys(pg),
          "%s: slab %p: its head frame is not marked for it", n, (void *)s);
    for (uint64_t k = 1; k < (1ul << c->order); k++)
        CHECK(slab_head_page(base + k * PAGE_SIZE) == pg, "%s: slab %p: frame %lu lost",
              n, (void *)s, k);
    if (!c->offslab)
        CHECK((char *)s == base + (PAGE_SIZE << c->order) - c->desc_size,
              "%s: slab %p: on-slab descriptor out of place", n, (void *)s);
    if (c->debug) {
        for (uint32_t i = 0; i < c->num; i++) {
            char *obj = slab_object(c, s, i);
            CHECK(all_bytes(obj - c->obj_offset, c->obj_offset, RED_ZONE) &&
                  all_bytes(obj + c->object_size, right_len(c), RED_ZONE),
                  "%s: object %p: red zone overwritten", n, (void *)obj);
            CHECK(!c->poison || !slab_is_free(s, i) ||
                  all_bytes(obj, c->object_size, POISON_FREE),
                  "%s: free object %p: poison overwritten", n, (void *)obj);
        }
    }
    return 0;
}

static int check_cache(struct kmem_cache *c, uint64_t *pages, char *why, size_t size)
{
    const char *n = c->name;
    uint64_t slabs = 0, free = 0;
    struct slab_link *lists[3] = { &c->full, &c->partial, &c->empty };
    for (int k = 0; k < 3; k++) {
        uint64_t steps = 0;
        for (struct slab_link *l = lists[k]->next; l != lists[k]; l = l->next) {
            CHECK(l->next->prev == l, "%s: broken list link", n);
            CHECK(++steps <= c->nr_slabs, "%s: list %d longer than nr_slabs", n, k);
            struct slab *s = (struct slab *)l;
            int err = check_slab(c, s, lists[k], why, size);
            if (err)
                return err;
            free += s->nfree;
            slabs++;
        }
    }
    CHECK(slabs == c->nr_slabs, "%s: %lu slabs on the lists, nr_slabs %lu", n,
          slabs, c->nr_slabs);
    CHECK(free == c->free_objs, "%s: %lu free bits, free_objs %lu", n,
          free, c->free_objs);
    CHECK(c->slot_magic == 1 + ~0ul / c->size && c->span == (size_t)c->num * c->size,
          "%s: slot arithmetic out of date (size %zu)", n, c->size);
    uint64_t cached = 0;
    for (int cpu = 0; cpu < SLAB_NR_CPUS; cpu++) {
        struct array_cache *ac = &c->cpu[cpu];
        CHECK(ac->avail <= ac->limit && ac->limit <= AC_MAX && ac->batch <= ac->limit,
              "%s: per-CPU array %u/%u", n, ac->avail, ac->limit);
        CHECK(!c->debug || ac->limit == 0, "%s: a debug cache with a per-CPU array", n);
        CHECK(!ac->entry[0].obj, "%s: the per-CPU array's sentinel is %p", n, ac->entry[0].obj);
        for (uint32_t k = 1; k <= ac->avail; k++) {
            struct ac_entry *e = &ac->entry[k];
            struct page *pg = slab_head_page(e->obj);
            CHECK(pg && page_slab(pg) == e->slab && e->slab->cache == c,
                  "%s: array object %p is not in its slab", n, e->obj);
            uint64_t off = (uint64_t)((char *)e->obj - c->obj_offset - e->slab->s_mem);
            uint32_t i = (uint32_t)(off / c->size);
            CHECK(off < c->span && off % c->size == 0, "%s: array object %p misplaced", n,
                  e->obj);
            CHECK(!slab_is_free(e->slab, i), "%s: array object %p is also free in its slab",
                  n, e->obj);
            for (uint32_t j = 1; j < k; j++)
                CHECK(ac->entry[j].obj != e->obj, "%s: object %p twice in the array", n,
                      e->obj);
        }
        cached += ac->avail;
    }
    CHECK(free + cached <= slabs * c->num, "%s: %lu free + %lu cached > %lu slots", n, free,
          cached, slabs * c->num);
    *pages += slabs << c->order;
    return 0;
}

int slab_check(char *why, size_t size)
{
    uint64_t pages = 0, caches = 0;
    bool self = false;
    for (struct slab_link *l = slab_caches.next; l != &slab_caches; l = l->next) {
        CHECK(l->next->prev == l, "broken cache chain");
        struct kmem_cache *c = slab_chain_cache(l);
        self = self || c == &slab_cache_cache;
        if (c != &slab_cache_cache)
            caches++;
        int err = check_cache(c, &pages, why, size);
        if (err)
            return err;
    }
    CHECK(self, "the cache of caches is not on the chain");
    CHECK(caches == slab_cache_live(&slab_cache_cache),
          "%lu caches on the chain, %lu kmem_cache objects", caches,
          slab_cache_live(&slab_cache_cache));
    CHECK(pages == slab_pages, "%lu frames in slabs, slab_pages %lu",
          pages, slab_pages);
    /* Every marked frame is accounted for: no slab or kmalloc block leaked. */
    uint64_t marked = 0, large = 0;
    for (uint64_t pfn = 0; pfn < slab_dmap.bytes >> PAGE_SHIFT; pfn++) {
        struct page *pg = &slab_dmap.map[pfn];
        if (!(pg->flags & PG_SLAB))
            continue;
        CHECK(pg->refcount > 0 && !(pg->flags & (PG_BUDDY | PG_PCP | PG_RESERVED)),
              "frame %#lx marked PG_SLAB is not an allocated head",
              pfn << PAGE_SHIFT);
        if (page_slab(pg))
            marked += 1ul << pg->order;
        else
            large += 1ul << pg->order;
    }
    CHECK(marked == slab_pages, "%lu frames marked as slabs, slab_pages %lu",
          marked, slab_pages);
    CHECK(large == slab_large_pages, "%lu frames marked as kmalloc blocks, counter %lu",
          large, slab_large_pages);
    return 0;
}
