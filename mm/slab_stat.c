/*
 * Slab statistics: /proc/slabinfo in Linux's format (version 2.1) and
 * the counters tests use to check that nothing leaked.
 *
 * Invariant: the figures are computed from the caches' own counters when
 * asked (nothing is kept twice), and reading them changes and allocates
 * nothing; slab_check() checks those counters against a full walk.
 *
 * The columns, per cache: <active_objs> objects in callers' hands (Linux
 * counts the per-CPU arrays' objects as active too: it cannot tell them
 * apart; we can); <num_objs> slots in all slabs; <objsize> bytes per slot
 * (red zones and padding included, as Linux prints it); <objperslab>;
 * <pagesperslab>; tunables: the per-CPU array's <limit> and <batchcount>
 * (0 and 0 for a debug cache, which has no array), <sharedfactor> 0 (no
 * shared array); slabdata: <active_slabs> (slabs
 * holding an object), <num_slabs>, <sharedavail> 0.
 */
#include "slab_impl.h"
#include <kernel/printk.h>
#include <kernel/sbuf.h>

static uint64_t count_slabs(const struct slab_link *h)
{
    uint64_t n = 0;
    for (const struct slab_link *l = h->next; l != h; l = l->next)
        n++;
    return n;
}

int slabinfo(char *buf, size_t size)
{
    struct sbuf s = { buf, size, 0 };
    if (size)
        buf[0] = 0;
    sbuf_put(&s, "slabinfo - version: 2.1\n");
    sbuf_put(&s, "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
            " : tunables <limit> <batchcount> <sharedfactor>"
            " : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
    for (struct slab_link *l = slab_caches.next; l != &slab_caches; l = l->next) {
        struct kmem_cache *c = slab_chain_cache(l);
        /* Under the cache's lock: another CPU may be moving its slabs. */
        spin_lock(&c->lock);
        uint64_t empty = count_slabs(&c->empty), live = slab_cache_live(c);
        uint64_t slabs = c->nr_slabs;
        spin_unlock(&c->lock);
        sbuf_put(&s, "%-17s %6lu %6lu %6zu %4u %4u : tunables %4u %4u %4u : slabdata %6lu %6lu %6u\n",
            c->name, live, (slabs * c->num),
            c->size, c->num, 1u << c->order, c->cpu[0].limit, c->cpu[0].batch, 0u,
            (slabs - empty), slabs, 0u);
    }
    return (int)s.len;
}

uint64_t slab_pages_held(void)
{
    return slab_pages;
}

uint64_t kmalloc_large_pages(void)
{
    return slab_large_pages;
}

uint64_t slab_live_objects(void)
{
    uint64_t n = 0, descriptors = 0;
    for (struct slab_link *l = slab_caches.next; l != &slab_caches; l = l->next) {
        const struct kmem_cache *c = slab_chain_cache(l);
        if (c != &slab_cache_cache)
            n += slab_cache_live(c);
        if (c->offslab)
            descriptors += c->nr_slabs; /* kmalloc objects of the allocator itself */
    }
    return n - descriptors;
}
