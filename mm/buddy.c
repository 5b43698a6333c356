/*
 * The buddy allocator of one zone.
 *
 * Invariant: a block of order k is on free list k iff its head frame is
 * marked PG_BUDDY with order k; its buddy is pfn ^ (1 << k).  Blocks are
 * naturally aligned (head pfn a multiple of 2^k, in absolute frame
 * numbers, so the rule holds across zones) and two free buddies of the
 * same order never coexist: freeing merges them into one block of order
 * k + 1, again and again up to MAX_ORDER.  zone->free counts the frames
 * on the lists.
 *
 * Allocation takes the first block of the smallest order >= the request
 * and splits it, putting the upper halves back on the lower lists.  Both
 * operations are O(MAX_ORDER) list operations.
 *
 * Locking: none yet (one CPU, no preemption inside mm/); the scheduler
 * issue adds a spinlock per zone.
 *
 * Left out on purpose: Linux's migrate types and page isolation for
 * compaction.  Reference: Knuth, TAOCP vol. 1, 2.5 (the buddy system);
 * the course slides of seed 002 ("allocateur buddy").
 */
#include <mm/buddy.h>
#include <kernel/printk.h>

#define NODE_MAP (node0->mem_map)

static void list_add(struct zone *z, unsigned order, uint64_t pfn)
{
    struct page *p = &NODE_MAP[pfn];
    struct free_area *a = &z->area[order];
    p->prev = PFN_NIL;
    p->next = a->head;
    if (a->head != PFN_NIL)
        NODE_MAP[a->head].prev = (uint32_t)pfn;
    a->head = (uint32_t)pfn;
    a->nr_free++;
    p->flags = PG_BUDDY;
    p->order = (uint8_t)order;
    p->refcount = 0;
}

static void list_del(struct zone *z, unsigned order, uint64_t pfn)
{
    struct page *p = &NODE_MAP[pfn];
    struct free_area *a = &z->area[order];
    if (p->prev != PFN_NIL)
        NODE_MAP[p->prev].next = p->next;
    else
        a->head = p->next;
    if (p->next != PFN_NIL)
        NODE_MAP[p->next].prev = p->prev;
    p->next = p->prev = PFN_NIL;
    p->flags &= (uint8_t)~PG_BUDDY;
    a->nr_free--;
}

uint64_t buddy_alloc(struct zone *z, unsigned order)
{
    unsigned k = order;
    while (k <= MAX_ORDER && z->area[k].head == PFN_NIL)
        k++;
    if (k > MAX_ORDER)
        return PFN_NONE;
    uint64_t pfn = z->area[k].head;
    list_del(z, k, pfn);
    /* Split: keep the lower half, free the upper half, down to `order`. */
    while (k > order) {
        k--;
        list_add(z, k, pfn + (1ul << k));
    }
    NODE_MAP[pfn].order = (uint8_t)order;
    z->free -= 1ul << order;
    return pfn;
}

void buddy_free(struct zone *z, uint64_t pfn, unsigned order)
{
    z->free += 1ul << order;
    while (order < MAX_ORDER) {
        uint64_t buddy = pfn ^ (1ul << order);
        if (buddy < z->start_pfn || buddy + (1ul << order) > z->end_pfn)
            break;
        const struct page *b = &NODE_MAP[buddy];
        if (!(b->flags & PG_BUDDY) || b->order != order)
            break;
        list_del(z, order, buddy);
        pfn &= ~(1ul << order); /* the merged block starts at the lower one */
        order++;
    }
    list_add(z, order, pfn);
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
        if (!buddy_find_free(z, pfn, &head, &order))
            panic("buddy_isolate: pfn %#lx in [%#lx, %#lx) is not free",
                  pfn, start,
                  end);
        uint64_t bend = head + (1ul << order);
        list_del(z, order, head);
        z->free -= 1ul << order;
        /* Parts of the block outside [start, end) go back. */
        if (head < start)
            buddy_free_range(z, head, start);
        if (bend > end)
            buddy_free_range(z, end, bend);
        pfn = bend;
    }
}

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            snprintf(why, size, __VA_ARGS__);                               \
            return -1;                                                      \
        }                                                                   \
    } while (0)

int buddy_check(const struct zone *z, char *why, size_t size)
{
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

    /* The map: every frame is exactly one thing. */
    for (uint64_t pfn = z->start_pfn; pfn < z->end_pfn;) {
        const struct page *p = &NODE_MAP[pfn];
        if (p->flags & PG_BUDDY) {
            uint64_t n = 1ul << p->order;
            uint64_t buddy = pfn ^ n;
            CHECK(pfn + n <= z->end_pfn, "%s: free block %#lx runs past the zone", z->name,
                  pfn);
            if (p->order < MAX_ORDER && buddy >= z->start_pfn && buddy + n <= z->end_pfn)
                CHECK(!((NODE_MAP[buddy].flags & PG_BUDDY) && NODE_MAP[buddy].order == p->order),
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
            CHECK(p->refcount == 0, "%s: cached frame %#lx has refcount %u", z->name,
                  pfn, p->refcount);
            pcp++;
            pfn++;
        } else if (p->flags & PG_RESERVED) {
            pfn++;
        } else if (p->refcount > 0) {
            uint64_t n = (p->flags & PG_CONTIG) ? 1 : 1ul << p->order;
            CHECK(!(p->flags & PG_TAIL), "%s: tail frame %#lx has a refcount", z->name,
                  pfn);
            CHECK(pfn + n <= z->end_pfn, "%s: block %#lx runs past the zone", z->name,
                  pfn);
            for (uint64_t i = 1; i < n; i++)
                CHECK(NODE_MAP[pfn + i].flags == PG_TAIL && NODE_MAP[pfn + i].refcount == 0,
                      "%s: frame %#lx of block %#lx is not a tail", z->name,
                      (pfn + i), pfn);
            pfn += n;
        } else {
            CHECK(0, "%s: frame %#lx is neither free, cached, allocated nor reserved "
                  "(flags %#x): lost", z->name, pfn, p->flags);
        }
    }
    CHECK(walked_free == z->free, "%s: %lu free frames in the map, %lu on the lists",
          z->name, walked_free, z->free);
    CHECK(pcp == z->pcp.count, "%s: %lu cached frames in the map, pcp count %u", z->name,
          pcp, z->pcp.count);
    return 0;
}
