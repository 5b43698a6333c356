/*
 * The page allocator: zones, GFP flags, watermarks, the per-CPU cache
 * and reference counts, on top of each zone's buddy allocator.
 *
 * Invariants:
 *  - every frame of a zone's span is exactly one of: on a buddy free
 *    list, in the zone's per-CPU cache (PG_PCP), allocated (a head with
 *    refcount > 0 and PG_TAIL frames after it), or PG_RESERVED
 *    (buddy_check() verifies it);
 *  - a request never gets memory from a zone above the one its flags
 *    name: NORMAL falls back to DMA32 then DMA, DMA32 to DMA, DMA to
 *    nothing (a device that can only reach 16 MiB must not get more);
 *  - outside __GFP_HIGH (GFP_ATOMIC) and __GFP_MEMALLOC, an allocation
 *    never takes a zone's free count below wmark_min; __GFP_HIGH may go
 *    down to wmark_min / 2, as Linux's ALLOC_HIGH does.  The free count
 *    is the buddy lists plus the per-CPU cache (zoneinfo's "pages free"):
 *    frames a GFP_ATOMIC request moved into the cache from below the
 *    watermark are still the reserve, not fair game for GFP_KERNEL.
 *
 * The per-CPU cache: order-0 frames freed recently are kept on a short
 * stack in front of the zone and handed out again without touching the
 * buddy lists; it is refilled and drained `batch` frames at a time.  With
 * one CPU there is one cache per zone; the structure is the one SMP needs.
 *
 * Memory pressure: before failing, alloc_pages (and alloc_contig) call
 * the node's shrink hook once and retry when it freed something.  The
 * hook must not allocate (the slab shrinker only frees).
 *
 * Errors a caller can make (double free, freeing a tail or a reserved
 * frame, dropping a reference nobody holds) are detected through the
 * frame flags, reported in one line and counted in node->errors; the
 * allocator's state is left unchanged.  Running out of memory returns
 * NULL, never panics.  Reference: seed 002 (alloc_pages, GFP flags,
 * zones), seed 001 (SOS reference-counted frames).
 */
#include <mm/gfp.h>
#include <mm/buddy.h>
#include <kernel/printk.h>
#include <kernel/string.h>

struct mem_node *node0;

#define NODE (node0)

void node_report(const char *fmt, ...)
{
    char buf[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (NODE->report)
        NODE->report(buf);
}

void *page_address(const struct page *p)
{
    return NODE->phys_to_virt(page_to_phys(p));
}

struct page *virt_to_page(const void *addr)
{
    uint64_t base = (uint64_t)(uintptr_t)NODE->phys_to_virt(0);
    uint64_t a = (uint64_t)(uintptr_t)addr;
    if (a < base || ((a - base) >> PAGE_SHIFT) >= NODE->max_pfn)
        return NULL;
    return pfn_to_page((a - base) >> PAGE_SHIFT);
}

static unsigned top_zone(gfp_t gfp)
{
    if (gfp & __GFP_DMA)
        return ZONE_DMA;
    if (gfp & __GFP_DMA32)
        return ZONE_DMA32;
    return ZONE_NORMAL;
}

bool zone_watermark_ok(const struct zone *z, uint64_t want, gfp_t gfp)
{
    uint64_t floor = z->wmark_min;
    uint64_t free = z->free + z->pcp.count;
    if (gfp & __GFP_MEMALLOC)
        floor = 0;
    else if (gfp & __GFP_HIGH)
        floor /= 2;
    return free >= want && free - want >= floor;
}

/* Mark a fresh block allocated: head referenced, tails marked. */
static struct page *prep_block(uint64_t pfn, unsigned order, gfp_t gfp)
{
    struct page *p = pfn_to_page(pfn);
    p->flags = 0;
    p->refcount = 1;
    p->order = (uint8_t)order;
    for (uint64_t i = 1; i < (1ul << order); i++) {
        p[i].flags = PG_TAIL;
        p[i].refcount = 0;
    }
    if (gfp & __GFP_ZERO)
        memset(page_address(p), 0, PAGE_SIZE << order);
    return p;
}

static uint64_t pcp_pop(struct zone *z)
{
    uint64_t pfn = z->pcp.head;
    struct page *p = pfn_to_page(pfn);
    z->pcp.head = p->next;
    p->next = PFN_NIL;
    p->flags = 0;
    z->pcp.count--;
    return pfn;
}

static void pcp_push(struct zone *z, uint64_t pfn)
{
    struct page *p = pfn_to_page(pfn);
    p->next = z->pcp.head;
    p->flags = PG_PCP;
    p->order = 0;
    p->refcount = 0;
    z->pcp.head = (uint32_t)pfn;
    z->pcp.count++;
}

static void pcp_drain(struct zone *z, uint32_t n)
{
    while (n-- && z->pcp.count) {
        uint64_t pfn = pcp_pop(z);
        buddy_free(z, pfn, 0);
    }
}

void drain_pcp(void)
{
    for (int i = 0; i < NR_ZONES; i++)
        pcp_drain(&NODE->zones[i], ~0u);
}

static uint64_t zone_alloc(struct zone *z, unsigned order, gfp_t gfp)
{
    /* Checked before the cache too: a cached frame is a free frame. */
    if (!zone_watermark_ok(z, 1ul << order, gfp))
        return PFN_NONE;
    if (order == 0) {
        if (!z->pcp.count) {
            /* Refill a batch (moving frames into the cache leaves the
             * free count as it is). */
            for (uint32_t i = 0; i < z->pcp.batch; i++) {
                uint64_t pfn = buddy_alloc(z, 0);
                if (pfn == PFN_NONE)
                    break;
                pcp_push(z, pfn);
            }
        }
        return z->pcp.count ? pcp_pop(z) : PFN_NONE;
    }
    return buddy_alloc(z, order);
}

struct page *alloc_pages(gfp_t gfp, unsigned order)
{
    if (order > MAX_ORDER) {
        if (!(gfp & __GFP_NOWARN))
            node_report("alloc_pages: order %u is above MAX_ORDER %u", order, MAX_ORDER);
        return NULL;
    }
    for (int pass = 0; pass < 3; pass++) {
        for (int zi = (int)top_zone(gfp); zi >= 0; zi--) {
            struct zone *z = &NODE->zones[zi];
            if (!z->managed)
                continue;
            uint64_t pfn = zone_alloc(z, order, gfp);
            if (pfn != PFN_NONE)
                return prep_block(pfn, order, gfp);
        }
        /* Second failure: memory pressure; the shrinker (the slab
         * allocator's empty slabs) may give frames back, once. */
        if (pass == 1 && !(NODE->shrink && NODE->shrink()))
            break;
        /* Frames parked in the per-CPU caches may complete a larger block. */
        drain_pcp();
    }
    for (int zi = (int)top_zone(gfp); zi >= 0; zi--)
        NODE->zones[zi].alloc_fail++;
    if (!(gfp & __GFP_NOWARN))
        node_report("alloc_pages: out of memory: order %u, gfp %#x (%s and below)", order, gfp,
               NODE->zones[top_zone(gfp)].name);
    return NULL;
}

/* Give a block whose last reference is gone back to its zone. */
static void free_block(struct page *p, unsigned order)
{
    struct zone *z = &NODE->zones[p->zone];
    uint64_t pfn = page_to_pfn(p);
    for (uint64_t i = 1; i < (1ul << order); i++)
        p[i].flags = 0;
    p->flags = 0;
    if (order == 0) {
        pcp_push(z, pfn);
        if (z->pcp.count > z->pcp.high)
            pcp_drain(z, z->pcp.batch);
    } else {
        buddy_free(z, pfn, order);
    }
}

/* Can `p` be the head of an allocated block?  Report why not. */
static bool valid_head(const char *fn, const struct page *p)
{
    if (!p || p < NODE->mem_map || p >= NODE->mem_map + NODE->max_pfn) {
        node_report("%s: %p is not a frame descriptor", fn, (const void *)p);
    } else if (p->flags & PG_RESERVED) {
        node_report("%s: frame %#lx is reserved, not allocated", fn,
               page_to_phys(p));
    } else if (p->flags & PG_TAIL) {
        node_report("%s: frame %#lx is inside a larger block, not its head", fn,
               page_to_phys(p));
    } else if (p->refcount == 0) {
        node_report("%s: frame %#lx is free (double free or stray reference)", fn,
               page_to_phys(p));
    } else {
        return true;
    }
    NODE->errors++;
    return false;
}

void __free_pages(struct page *p, unsigned order)
{
    if (!valid_head("__free_pages", p))
        return;
    if (p->order != order || (p->flags & PG_CONTIG)) {
        node_report("__free_pages: frame %#lx was allocated with order %u%s, freed with %u",
               page_to_phys(p), p->order,
               (p->flags & PG_CONTIG) ? " by alloc_contig" : "", order);
        NODE->errors++;
        return;
    }
    if (--p->refcount == 0)
        free_block(p, order);
}

void *__get_free_pages(gfp_t gfp, unsigned order)
{
    struct page *p = alloc_pages(gfp, order);
    return p ? page_address(p) : NULL;
}

void *get_zeroed_page(gfp_t gfp)
{
    return __get_free_pages(gfp | __GFP_ZERO, 0);
}

void free_pages(void *addr, unsigned order)
{
    if (!addr)
        return;
    struct page *p = virt_to_page(addr);
    if (!p || ((uintptr_t)addr & (PAGE_SIZE - 1))) {
        node_report("free_pages: %p is not the address of an allocated block", addr);
        NODE->errors++;
        return;
    }
    __free_pages(p, order);
}

int get_page(struct page *p)
{
    if (!valid_head("get_page", p))
        return -1;
    return (int)++p->refcount;
}

int put_page(struct page *p)
{
    if (!valid_head("put_page", p))
        return -1;
    if (--p->refcount == 0) {
        /* alloc_contig frames are counted one by one: order 0 each. */
        free_block(p, (p->flags & PG_CONTIG) ? 0 : p->order);
        return 0;
    }
    return (int)p->refcount;
}

uint32_t page_count(const struct page *p)
{
    return p->refcount;
}

static struct page *phys_page(const char *fn, uint64_t pa)
{
    if ((pa & (PAGE_SIZE - 1)) || (pa >> PAGE_SHIFT) >= NODE->max_pfn) {
        node_report("%s: %#lx is not the address of a frame", fn, pa);
        NODE->errors++;
        return NULL;
    }
    return pfn_to_page(pa >> PAGE_SHIFT);
}

int frame_ref(uint64_t pa)
{
    struct page *p = phys_page("frame_ref", pa);
    return p ? get_page(p) : -1;
}

int frame_unref(uint64_t pa)
{
    struct page *p = phys_page("frame_unref", pa);
    return p ? put_page(p) : -1;
}

uint64_t frame_alloc(gfp_t gfp)
{
    struct page *p = alloc_pages(gfp, 0);
    return p ? page_to_phys(p) : 0;
}

uint64_t nr_free_pages(void)
{
    uint64_t n = 0;
    for (int i = 0; i < NR_ZONES; i++)
        n += NODE->zones[i].free + NODE->zones[i].pcp.count;
    return n;
}
