/*
 * Placement of physical memory at boot: how big mem_map is, where it
 * goes, and which frames the allocator gets.  mem_init (mm/bootmem.c)
 * acts on the plan; this file only decides, so the host tests can feed
 * it any map.
 *
 * Invariant of a plan: mem_map lies inside one MEM_USABLE range and
 * overlaps no held range; the pieces are disjoint, in address order, and
 * cover exactly the frames of RAM (every range but MEM_RESERVED); a free
 * piece is MEM_USABLE, outside mem_map and outside every held range.  So
 * nothing the loader handed over, and no byte of mem_map, can ever be
 * allocated, even when the firmware map failed to mark it.
 *
 * Method: "blocked" intervals (the held ranges, and mem_map once placed)
 * are few (four from the loader), so they are kept unsorted and each
 * question ("is pos blocked, and until where?", "where does the next one
 * start?") is a scan of all of them: O(ranges x blocked^2), no sorting,
 * no allocation.
 *
 * The held ranges come from boot_info and are taken as they are: rounded
 * outwards to whole pages, so a partial page is held whole.  The map is
 * memmap_build's output, checked again here (sorted, disjoint, aligned)
 * because a wrong plan would corrupt memory silently.  Errors return an
 * errno (kernel/errno.h); mem_init turns them into a panic, since a boot
 * without mem_map cannot go on.
 */
#include <mm/mem_place.h>
#include <mm/page.h>
#include <kernel/assert.h>
#include <kernel/errno.h>

/* One blocked interval [s, e), page aligned. */
struct span {
    uint64_t s, e;
};

struct blocked {
    const struct mem_range *held;
    size_t nheld;
    struct span map;          /* mem_map, empty until placed */
};

/* Held range i rounded outwards.  An end in the last page of the address
 * space is rounded down instead: that page can never be RAM (a range's
 * end is a page-aligned uint64_t, at most 2^64 - 4096). */
static struct span held_span(const struct blocked *b, size_t i)
{
    const uint64_t mask = PAGE_SIZE - 1;
    uint64_t s = b->held[i].start & ~mask, e = b->held[i].end;
    if (e <= b->held[i].start)
        return (struct span){ s, s }; /* empty: holds nothing */
    e = e > ~0ul - mask ? ~0ul & ~mask : (e + mask) & ~mask;
    return (struct span){ s, e > s ? e : s };
}

static size_t nblocked(const struct blocked *b)
{
    return b->nheld + 1;
}

static struct span blocked_at(const struct blocked *b, size_t i)
{
    return i < b->nheld ? held_span(b, i) : b->map;
}

/* The first address at or after pos that no blocked interval covers. */
static uint64_t skip_blocked(const struct blocked *b, uint64_t pos)
{
    bool moved = true;
    while (moved) {
        moved = false;
        for (size_t i = 0; i < nblocked(b); i++) {
            struct span sp = blocked_at(b, i);
            if (sp.s <= pos && pos < sp.e) {
                pos = sp.e;
                moved = true;
            }
        }
    }
    return pos;
}

/* The start of the first blocked interval above pos, or `limit`. */
static uint64_t next_blocked(const struct blocked *b, uint64_t pos, uint64_t limit)
{
    for (size_t i = 0; i < nblocked(b); i++) {
        struct span sp = blocked_at(b, i);
        if (sp.s > pos && sp.s < limit && sp.e > sp.s)
            limit = sp.s;
    }
    return limit;
}

static int check_input(const struct mem_range *r, size_t n, const struct mem_range *held,
                       size_t nheld, size_t cap)
{
    if (n == 0 || cap < MEM_PLACE_PIECES(n, nheld))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (((r[i].start | r[i].end) & (PAGE_SIZE - 1)) || r[i].start >= r[i].end ||
            r[i].kind >= MEM_KIND_COUNT || (i && r[i - 1].end > r[i].start))
            return -EINVAL;
    }
    for (size_t i = 0; i < nheld; i++)
        if (held[i].end < held[i].start)
            return -EINVAL;
    return 0;
}

/* The lowest address at or above lo where `bytes` fit in range r, clear
 * of every blocked interval: true and *at, or false. */
static bool find_room(const struct blocked *b, const struct mem_range *r, uint64_t lo,
                      uint64_t bytes, uint64_t *at)
{
    uint64_t pos = lo > r->start ? lo : r->start;
    while (pos < r->end) {
        pos = skip_blocked(b, pos);
        if (pos >= r->end)
            break;
        uint64_t gap_end = next_blocked(b, pos, r->end);
        if (gap_end - pos >= bytes) {
            *at = pos;
            return true;
        }
        pos = gap_end;
    }
    return false;
}

static void add_piece(struct mem_plan *plan, size_t cap, uint64_t s, uint64_t e, bool free)
{
    struct mem_piece *last = plan->npieces ? &plan->pieces[plan->npieces - 1] : NULL;
    if (last && last->end_pfn == s >> PAGE_SHIFT && last->free == free) {
        last->end_pfn = e >> PAGE_SHIFT;
        return;
    }
    ASSERT(plan->npieces < cap, "piece %#lx-%#lx beyond the %zu the bound allows", s, e, cap);
    plan->pieces[plan->npieces++] = (struct mem_piece){ s >> PAGE_SHIFT, e >> PAGE_SHIFT, free };
}

/* The pieces of one range of RAM: a usable range is cut around the
 * blocked intervals, any other kind is present whole. */
static void cut_range(const struct blocked *b, const struct mem_range *r, struct mem_plan *plan,
                      size_t cap)
{
    if (r->kind != MEM_USABLE) {
        add_piece(plan, cap, r->start, r->end, false);
        return;
    }
    uint64_t pos = r->start;
    while (pos < r->end) {
        uint64_t clear = skip_blocked(b, pos);
        if (clear > pos) {
            uint64_t e = clear < r->end ? clear : r->end;
            add_piece(plan, cap, pos, e, false);
            pos = e;
            continue;
        }
        uint64_t e = next_blocked(b, pos, r->end);
        add_piece(plan, cap, pos, e, true);
        pos = e;
    }
}

int mem_place(const struct mem_range *r, size_t n, const struct mem_range *held, size_t nheld,
              struct mem_piece *pieces, size_t cap, struct mem_plan *plan)
{
    *plan = (struct mem_plan){ .pieces = pieces };
    int err = check_input(r, n, held, nheld, cap);
    if (err)
        return err;
    struct blocked b = { held, nheld, { 0, 0 } };

    uint64_t top = 0, usable = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].kind != MEM_RESERVED)
            top = r[i].end;
        if (r[i].kind == MEM_USABLE)
            usable += (r[i].end - r[i].start) >> PAGE_SHIFT;
    }
    plan->max_pfn = top >> PAGE_SHIFT;
    plan->usable = usable;
    plan->map_bytes = (plan->max_pfn * sizeof(struct page) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);

    /* mem_map: above 16 MiB if any usable range has room there, else anywhere. */
    bool placed = false;
    for (int pass = 0; pass < 2 && !placed; pass++)
        for (size_t i = 0; i < n && !placed; i++)
            if (r[i].kind == MEM_USABLE)
                placed = find_room(&b, &r[i], pass == 0 ? ZONE_DMA_END : 0, plan->map_bytes,
                                   &plan->map_pa);
    if (!placed)
        return -ENOMEM;
    b.map = (struct span){ plan->map_pa, plan->map_pa + plan->map_bytes };

    for (size_t i = 0; i < n; i++)
        if (r[i].kind != MEM_RESERVED)
            cut_range(&b, &r[i], plan, cap);
    return 0;
}
