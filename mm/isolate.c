/*
 * Frame isolation: take given free frames away from a zone so that no
 * allocation can return them, as the first step of clearing a range
 * (mm/evacuate.c) and the free scanner of compaction (mm/compaction.c).
 * Linux calls the same step isolate_freepages_block and, for a whole
 * range, start_isolate_page_range.
 *
 * Invariant: an isolated frame is an allocated order-0 block like any
 * other (head unflagged, refcount 1, order 0: buddy_check counts it as
 * allocated and __free_pages gives it back), whose reverse-map field
 * holds ISOLATED_MAPPING instead of an owner: the mark by which an
 * evacuation tells the frames it took from the frames others hold.  The
 * block a free frame lay in (on a buddy list or in the per-CPU cache)
 * is split around it: its other frames stay free, on the buddy lists,
 * as the largest aligned blocks that fit.
 *
 * A cached block is found by the same rule as a free one (its head is
 * the aligned frame below at its order, marked PG_PCP) and is unlinked
 * from its stack with a walk of that stack (the cache holds at most
 * `high` frames), then given to the buddy lists so that buddy_isolate
 * can cut the frame out.
 *
 * Context: one CPU, a kernel that is not preemptible; nothing sleeps.
 */
#include <mm/buddy.h>
#include <mm/check.h>
#include <mm/gfp.h>
#include <kernel/assert.h>
#include <kernel/errno.h>

/* The cached block (PG_PCP head) containing pfn: true and its head/order. */
static bool pcp_find(const struct zone *z, uint64_t pfn, uint64_t *head, unsigned *order)
{
    const struct page *map = z->node->mem_map;
    for (unsigned k = 0; k <= PCP_MAX_ORDER; k++) {
        uint64_t h = pfn & ~((1ul << k) - 1);
        if (h < z->start_pfn)
            break;
        if ((map[h].flags & PG_PCP) && h + (1ul << map[h].order) > pfn) {
            *head = h;
            *order = map[h].order;
            return true;
        }
    }
    return false;
}

/* Move the cached block at head (order k) from its stack, whichever CPU's
 * cache holds it, to the buddy lists.  (Isolation runs on the boot CPU
 * while the others allocate nothing: docs/smp.md.) */
static void pcp_unlink(struct zone *z, uint64_t head, unsigned k)
{
    struct page *map = z->node->mem_map;
    uint32_t *link = NULL;
    unsigned c;
    for (c = 0; c < PCP_CPUS; c++) {
        link = &z->pcp[c].lists[k];
        while (*link != PFN_NIL && *link != head)
            link = &map[*link].next;
        if (*link == head)
            break;
    }
    ASSERT(c < PCP_CPUS, "%s: cached block %#lx is on no cache list %u", z->name, head, k);
    *link = map[head].next;
    z->pcp[c].count -= 1u << k;
    map[head].flags = 0;
    map[head].next = PFN_NIL;
    buddy_free(z, head, k);
}

/* Mark [start, end), just taken off the free lists, as isolated frames. */
static void mark_isolated(struct zone *z, uint64_t start, uint64_t end)
{
    struct page *map = z->node->mem_map;
    for (uint64_t pfn = start; pfn < end; pfn++) {
        struct page *p = &map[pfn];
        p->flags = 0;
        p->flags2 = 0;
        p->refcount = 1;
        p->order = 0;
        p->mapping = ISOLATED_MAPPING;
        p->index = 0;
    }
}

bool frame_is_free(const struct zone *z, uint64_t pfn)
{
    uint64_t head;
    unsigned order;
    return buddy_find_free(z, pfn, &head, &order) || pcp_find(z, pfn, &head, &order);
}

int isolate_free_frame(struct zone *z, uint64_t pfn)
{
    uint64_t head;
    unsigned order;
    if (pfn < z->start_pfn || pfn >= z->end_pfn)
        return -EINVAL;
    if (pcp_find(z, pfn, &head, &order))
        pcp_unlink(z, head, order);
    else if (!buddy_find_free(z, pfn, &head, &order))
        return -EBUSY;
    buddy_isolate(z, pfn, pfn + 1);
    mark_isolated(z, pfn, pfn + 1);
    return 0;
}

uint64_t isolate_free_range(struct zone *z, uint64_t start, uint64_t end)
{
    uint64_t n = 0;
    if (start < z->start_pfn)
        start = z->start_pfn;
    if (end > z->end_pfn)
        end = z->end_pfn;
    for (uint64_t pfn = start; pfn < end;) {
        uint64_t head;
        unsigned order;
        if (pcp_find(z, pfn, &head, &order)) {
            pcp_unlink(z, head, order);
            continue; /* now on the buddy lists, maybe merged: look again */
        }
        if (!buddy_find_free(z, pfn, &head, &order)) {
            pfn++;
            continue;
        }
        /* The free block's part inside the range, at once. */
        uint64_t e = head + (1ul << order);
        if (e > end)
            e = end;
        buddy_isolate(z, pfn, e);
        mark_isolated(z, pfn, e);
        n += e - pfn;
        pfn = e;
    }
    return n;
}

bool frame_isolated(const struct page *p)
{
    return p->refcount == 1 && p->flags == 0 && p->order == 0 && p->mapping == ISOLATED_MAPPING;
}

void release_isolated(struct page *p)
{
    ASSERT(frame_isolated(p), "release_isolated: frame %#lx is not isolated (flags %#x ref %u)",
           page_to_pfn(p), p->flags, p->refcount);
    p->mapping = 0;
    __free_pages(p, 0);
}

uint64_t release_isolated_range(struct zone *z, uint64_t start, uint64_t end)
{
    struct page *map = z->node->mem_map;
    uint64_t n = 0;
    for (uint64_t pfn = start; pfn < end; pfn++)
        if (frame_isolated(&map[pfn])) {
            /* Straight to the buddy lists: the range merges back into
             * large blocks, where the per-CPU cache would hold it as
             * single frames. */
            map[pfn].mapping = 0;
            map[pfn].refcount = 0;
            buddy_free(z, pfn, 0);
            n++;
        }
    return n;
}

int isolate_check(const struct zone *z, uint64_t start, uint64_t end, char *why, size_t size)
{
    const struct page *map = z->node->mem_map;
    for (uint64_t pfn = start; pfn < end; pfn++) {
        const struct page *p = &map[pfn];
        if (p->mapping != ISOLATED_MAPPING)
            continue;
        CHECK(pfn >= z->start_pfn && pfn < z->end_pfn,
              "%s: isolated frame %#lx outside the zone", z->name, pfn);
        CHECK(p->refcount == 1 && p->flags == 0 && p->order == 0,
              "%s: isolated frame %#lx is flags %#x refcount %u order %u", z->name, pfn,
              p->flags, p->refcount, p->order);
        CHECK(!frame_is_free(z, pfn), "%s: isolated frame %#lx is also free", z->name, pfn);
    }
    return buddy_check(z, why, size);
}
