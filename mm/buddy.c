/*
 * The buddy allocator of one zone.
 *
 * Invariant: a block of order k is on free list k iff its head frame is
 * marked PG_BUDDY with order k; its buddy is pfn ^ (1 << k).  Blocks are
 * naturally aligned (head pfn a multiple of 2^k, in absolute frame
 * numbers, so the rule holds across zones) and two free buddies of the
 * same order never coexist: freeing merges them into one block of order
 * k + 1, again and again up to MAX_ORDER.  zone->free counts the frames
 * on the lists.  Only a block's head is marked: the other frames of a
 * block, free or allocated, have no PG_* bit and refcount 0
 * (include/mm/page.h), so neither operation touches them, and whether a
 * frame is a head is read from the head alone.
 *
 * Allocation takes the first block of the smallest order >= the request
 * and splits it, putting the upper halves back on the lower lists.  Both
 * operations are O(MAX_ORDER) list operations.  Zone boundaries (16 MiB,
 * 4 GiB) are multiples of the largest block, but a node's span (its
 * zones', include/mm/numa.h) starts and ends where the firmware says: a
 * buddy is merged only when its descriptor names the same zone
 * (page.zone), as Linux's page_is_buddy checks, so no block ever spans
 * two nodes.
 *
 * Frame descriptors are reached through the zone's node (z->node), never
 * through a global, so a zone is a self-contained instance.  Errors: the
 * callers (mm/page_alloc.c, contig.c, zone.c, release.c) have validated
 * what they pass, so a wrong argument here is the kernel's own bug and
 * an assertion (DASSERT on the hot paths); buddy_check() is the
 * validator.
 *
 * Locking: none yet (one CPU, no preemption inside mm/); several CPUs
 * would need a spinlock per zone.
 *
 * Left out on purpose: Linux's migrate types (pageblocks grouped by
 * mobility); taking given free frames off the lists for compaction and
 * evacuation is mm/isolate.c's.  Reference: Knuth, TAOCP vol. 1, 2.5 (the buddy system);
 * the course slides on Linux's allocators ("allocateur buddy").
 */
#include <mm/buddy.h>
#include <mm/check.h>
#include <kernel/assert.h>
#include <kernel/printk.h>

/* The frame descriptors of the zone's node. */
#define NODE_MAP (z->node->mem_map)

_Static_assert(ZONE_DMA_END % (PAGE_SIZE << MAX_ORDER) == 0 &&
                   ZONE_DMA32_END % (PAGE_SIZE << MAX_ORDER) == 0,
               "zone boundaries must be multiples of the largest block");

/*
 * The list operations take the node's mem_map from their caller, which
 * loads it once: the compiler cannot keep z->node->mem_map in a register
 * across stores to descriptors, which might alias the zone.
 */
static inline void list_add(struct zone *z, struct page *map, unsigned order, uint64_t pfn)
{
    struct page *p = &map[pfn];
    struct free_area *a = &z->area[order];
    p->prev = PFN_NIL;
    p->next = a->head;
    if (a->head != PFN_NIL)
        map[a->head].prev = (uint32_t)pfn;
    a->head = (uint32_t)pfn;
    a->nr_free++;
    p->flags = PG_BUDDY;
    p->order = (uint8_t)order;
}

static inline void list_del(struct zone *z, struct page *map, unsigned order, uint64_t pfn)
{
    struct page *p = &map[pfn];
    struct free_area *a = &z->area[order];
    DASSERT((p->flags & PG_BUDDY) && p->order == order && a->nr_free > 0,
            "%s: pfn %#lx flags %#x order %u is not on free list %u (%lu blocks)", z->name,
            pfn, p->flags, p->order, order, a->nr_free);
    if (p->prev != PFN_NIL)
        map[p->prev].next = p->next;
    else
        a->head = p->next;
    if (p->next != PFN_NIL)
        map[p->next].prev = p->prev;
    p->flags = 0;
    a->nr_free--;
}

uint64_t buddy_alloc(struct zone *z, unsigned order)
{
    struct page *map = NODE_MAP;
    unsigned k = order;
    while (k <= MAX_ORDER && z->area[k].head == PFN_NIL)
        k++;
    if (k > MAX_ORDER)
        return PFN_NONE;
    uint64_t pfn = z->area[k].head;
    list_del(z, map, k, pfn);
    /* Split: keep the lower half, free the upper half, down to `order`. */
    while (k > order) {
        k--;
        list_add(z, map, k, pfn + (1ul << k));
    }
    map[pfn].order = (uint8_t)order;
    z->free -= 1ul << order;
    return pfn;
}

void buddy_free(struct zone *z, uint64_t pfn, unsigned order)
{
    struct page *map = NODE_MAP;
    ASSERT(order <= MAX_ORDER, "%s: pfn %#lx order %u", z->name, pfn, order);
    DASSERT(pfn >= z->start_pfn && pfn + (1ul << order) <= z->end_pfn &&
                !(pfn & ((1ul << order) - 1)),
            "%s: block %#lx order %u is misaligned or outside [%#lx, %#lx)", z->name, pfn,
            order, z->start_pfn, z->end_pfn);
    DASSERT(map[pfn].flags == 0 && map[pfn].refcount == 0,
            "%s: freeing pfn %#lx with flags %#x refcount %u", z->name, pfn, map[pfn].flags,
            map[pfn].refcount);
    z->free += 1ul << order;
    uint64_t end = z->end_pfn;
    while (order < MAX_ORDER) {
        /* Inside the zone's largest-block-aligned span, except past its
         * end (see the top): one comparison.  A buddy that reaches past
         * the end cannot be a free head of this order. */
        uint64_t buddy = pfn ^ (1ul << order);
        if (buddy >= end)
            break;
        const struct page *b = &map[buddy];
        if (!(b->flags & PG_BUDDY) || b->order != order || b->zone != z->id)
            break;
        list_del(z, map, order, buddy);
        pfn &= ~(1ul << order); /* the merged block starts at the lower one */
        order++;
    }
    list_add(z, map, order, pfn);
}

void buddy_free_range(struct zone *z, uint64_t start, uint64_t end)
{
    while (start < end) {
        unsigned order = MAX_ORDER;
        while (order && ((start & ((1ul << order) - 1)) ||
                         start + (1ul << order) > end))
            order--;
        buddy_free(z, start, order);
        start += 1ul << order;
    }
}

bool buddy_find_free(const struct zone *z, uint64_t pfn, uint64_t *head,
                     unsigned *order)
{
    /* A free block containing pfn has its head at pfn rounded down to its
     * own order: try each order's candidate head in turn. */
    for (unsigned k = 0; k <= MAX_ORDER; k++) {
        uint64_t h = pfn & ~((1ul << k) - 1);
        if (h < z->start_pfn)
            break;
        const struct page *p = &NODE_MAP[h];
        if ((p->flags & PG_BUDDY) && h + (1ul << p->order) > pfn) {
            *head = h;
            *order = p->order;
            return true;
        }
    }
    return false;
}

void buddy_isolate(struct zone *z, uint64_t start, uint64_t end)
{
    uint64_t pfn = start;
    while (pfn < end) {
        uint64_t head;
        unsigned order;
        bool found = buddy_find_free(z, pfn, &head, &order);
        ASSERT(found, "%s: pfn %#lx in [%#lx, %#lx) is not free", z->name, pfn, start, end);
        uint64_t bend = head + (1ul << order);
        list_del(z, NODE_MAP, order, head);
        z->free -= 1ul << order;
        /* Parts of the block outside [start, end) go back. */
        if (head < start)
            buddy_free_range(z, head, start);
        if (bend > end)
            buddy_free_range(z, end, bend);
        pfn = bend;
    }
}

int buddy_check(const struct zone *z, char *why, size_t size)
{
    const struct page *map = NODE_MAP;
    uint64_t listed = 0, walked_free = 0, pcp = 0;

    /* The lists: every entry a marked, aligned head inside the zone. */
    for (unsigned k = 0; k <= MAX_ORDER; k++) {
        uint64_t n = 0, prev = PFN_NIL;
        for (uint64_t pfn = z->area[k].head; pfn != PFN_NIL; pfn = NODE_MAP[pfn].next) {
            const struct page *p = &NODE_MAP[pfn];
            CHECK(n <= z->end_pfn - z->start_pfn, "%s: free list %u loops", z->name, k);
            CHECK(pfn >= z->start_pfn && pfn + (1ul << k) <= z->end_pfn,
                  "%s: block %#lx order %u outside the zone", z->name,
                  pfn, k);
            CHECK((p->flags & PG_BUDDY) && p->order == k,
                  "%s: pfn %#lx on list %u but marked flags %#x order %u", z->name,
                  pfn, k, p->flags, p->order);
            CHECK((pfn & ((1ul << k) - 1)) == 0, "%s: block %#lx misaligned for order %u",
                  z->name, pfn, k);
            CHECK(p->prev == prev, "%s: broken back link at %#lx", z->name,
                  pfn);
            prev = pfn;
            n++;
        }
        CHECK(n == z->area[k].nr_free, "%s: list %u has %lu blocks, counter says %lu",
              z->name, k, n, z->area[k].nr_free);
        listed += n << k;
    }
    CHECK(listed == z->free, "%s: %lu frames on the lists, counter says %lu", z->name,
          listed, z->free);

    /* Each CPU's cache's lists: marked heads of their order, in the zone. */
    for (unsigned c = 0; c < PCP_CPUS; c++) {
        uint64_t on_lists = 0;
        for (unsigned k = 0; k <= PCP_MAX_ORDER; k++) {
            uint64_t n = 0;
            for (uint64_t pfn = z->pcp[c].lists[k]; pfn != PFN_NIL; pfn = map[pfn].next) {
                CHECK(n++ <= z->end_pfn - z->start_pfn, "%s: CPU %u's cache list %u loops",
                      z->name, c, k);
                CHECK(pfn >= z->start_pfn && pfn + (1ul << k) <= z->end_pfn,
                      "%s: block %#lx on CPU %u's cache list %u outside the zone", z->name, pfn,
                      c, k);
                CHECK(map[pfn].flags == PG_PCP && map[pfn].order == k,
                      "%s: block %#lx on CPU %u's cache list %u but marked flags %#x order %u",
                      z->name, pfn, c, k, map[pfn].flags, map[pfn].order);
                on_lists += 1ul << k;
            }
        }
        CHECK(on_lists == z->pcp[c].count, "%s: %lu frames on CPU %u's cache lists, its count "
              "%u", z->name, on_lists, c, z->pcp[c].count);
    }

    /* The map: every frame is exactly one thing. */
    for (uint64_t pfn = z->start_pfn; pfn < z->end_pfn;) {
        const struct page *p = &NODE_MAP[pfn];
        CHECK(p->zone == z->id, "%s: frame %#lx of the span names zone id %u, not %u", z->name,
              pfn, p->zone, z->id);
        if (p->flags & PG_BUDDY) {
            CHECK(p->flags == PG_BUDDY && p->refcount == 0 && p->order <= MAX_ORDER,
                  "%s: free block %#lx is flags %#x refcount %u order %u", z->name, pfn,
                  p->flags, p->refcount, p->order);
            uint64_t n = 1ul << p->order;
            uint64_t buddy = pfn ^ n;
            CHECK(pfn + n <= z->end_pfn, "%s: free block %#lx runs past the zone", z->name,
                  pfn);
            if (p->order < MAX_ORDER && buddy >= z->start_pfn && buddy + n <= z->end_pfn)
                CHECK(!((NODE_MAP[buddy].flags & PG_BUDDY) && NODE_MAP[buddy].order == p->order &&
                        NODE_MAP[buddy].zone == z->id),
                      "%s: free buddies %#lx and %#lx of order %u not merged", z->name,
                      pfn, buddy, p->order);
            for (uint64_t i = 1; i < n; i++)
                CHECK(NODE_MAP[pfn + i].flags == 0 && NODE_MAP[pfn + i].refcount == 0,
                      "%s: frame %#lx inside free block %#lx is flags %#x ref %u", z->name,
                      (pfn + i), pfn,
                      NODE_MAP[pfn + i].flags, NODE_MAP[pfn + i].refcount);
            walked_free += n;
            pfn += n;
        } else if (p->flags & PG_PCP) {
            CHECK(p->flags == PG_PCP && p->refcount == 0 && p->order <= PCP_MAX_ORDER,
                  "%s: cached block %#lx is flags %#x refcount %u order %u", z->name, pfn,
                  p->flags, p->refcount, p->order);
            uint64_t n = 1ul << p->order;
            CHECK(!(pfn & (n - 1)) && pfn + n <= z->end_pfn,
                  "%s: cached block %#lx of order %u is misaligned or runs past the zone",
                  z->name, pfn, p->order);
            for (uint64_t i = 1; i < n; i++)
                CHECK(map[pfn + i].flags == 0 && map[pfn + i].refcount == 0,
                      "%s: frame %#lx inside cached block %#lx is flags %#x ref %u", z->name,
                      (pfn + i), pfn, map[pfn + i].flags, map[pfn + i].refcount);
            pcp += n;
            pfn += n;
        } else if (p->flags & PG_RESERVED) {
            pfn++;
        } else if (p->refcount > 0) {
            CHECK((p->flags & PG_CONTIG) ? p->order == 0 : p->order <= MAX_ORDER,
                  "%s: allocated frame %#lx has order %u", z->name, pfn, p->order);
            uint64_t n = (p->flags & PG_CONTIG) ? 1 : 1ul << p->order;
            CHECK(!(pfn & (n - 1)), "%s: allocated block %#lx of order %u is misaligned",
                  z->name, pfn, p->order);
            CHECK(pfn + n <= z->end_pfn, "%s: block %#lx runs past the zone", z->name,
                  pfn);
            for (uint64_t i = 1; i < n; i++)
                CHECK(NODE_MAP[pfn + i].flags == 0 && NODE_MAP[pfn + i].refcount == 0,
                      "%s: tail frame %#lx of block %#lx is flags %#x ref %u", z->name,
                      (pfn + i), pfn, NODE_MAP[pfn + i].flags, NODE_MAP[pfn + i].refcount);
            pfn += n;
        } else {
            CHECK(0, "%s: frame %#lx is neither free, cached, allocated nor reserved "
                  "(flags %#x): lost", z->name, pfn, p->flags);
        }
    }
    CHECK(walked_free == z->free, "%s: %lu free frames in the map, %lu on the lists",
          z->name, walked_free, z->free);
    CHECK(pcp == zone_cached(z), "%s: %lu cached frames in the map, %lu in the caches' counts",
          z->name, pcp, zone_cached(z));
    return 0;
}
