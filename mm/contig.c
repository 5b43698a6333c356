/*
 * Constrained contiguous allocation: n frames in a row, aligned, inside a
 * physical window: the DMA buffer of the SOS mailing-list post on
 * physical/paged/virtual memory, which
 * power-of-two buddy blocks cannot express (n = 3, or a buffer that must
 * not cross 16 MiB, or 64 KiB-aligned for an old controller).
 *
 * Invariant: the frames of a contiguous run are each allocated on their
 * own (refcount 1, order 0, PG_CONTIG), so a run can be given back whole
 * with free_contig or frame by frame with put_page, and the buddy
 * allocator's structure is the same as if they had been allocated one at
 * a time.
 *
 * Method: walk candidate starts (multiples of `align`) through the window
 * zone by zone; a candidate is good when every frame of [start, start+n)
 * lies in a free buddy block (buddy_find_free).  On the first frame that
 * is not free, jump to the next aligned start after it.  Then the run is
 * taken off the free lists (buddy_isolate gives back the parts of the
 * covering blocks outside the run).  Worst case O(frames in the window x
 * MAX_ORDER): fine for the rare, boot-time DMA allocations it serves.
 * When no free run fits, even after draining the per-CPU caches and the
 * shrinker, a run of free-or-movable frames is evacuated (mm/evacuate.c,
 * Linux's alloc_contig_range): its pages move elsewhere, and its frames
 * become the caller's.  Host programs that do not link mm/evacuate.c
 * (no migration there) skip that step: evacuate_contig is a weak symbol.
 *
 * Errors (kernel/errno.h): a request that cannot be met returns 0 (as
 * NULL); free_contig refuses a range that is not exactly a run of
 * alloc_contig frames each referenced once: reported, counted in
 * node->errors, nothing changed, -EINVAL (not such a run) or -EBUSY (a
 * frame of the run is still referenced by someone else).
 */
#include <mm/gfp.h>
#include <mm/buddy.h>
#include <kernel/errno.h>
#include <kernel/string.h>

extern uint64_t evacuate_contig(gfp_t gfp, uint64_t n, uint64_t align_pfn, uint64_t lo,
                                uint64_t hi) __attribute__((weak));

static bool is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

/* First frame in [pfn, pfn + n) that is not free, or PFN_NONE. */
static uint64_t first_busy(const struct zone *z, uint64_t pfn, uint64_t n)
{
    uint64_t end = pfn + n;
    while (pfn < end) {
        uint64_t head;
        unsigned order;
        if (!buddy_find_free(z, pfn, &head, &order))
            return pfn;
        pfn = head + (1ul << order);
    }
    return PFN_NONE;
}

/* Frames [start, start + n), just taken, become alloc_contig's. */
static void mark_contig(uint64_t start, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        struct page *p = pfn_to_page(start + i);
        p->flags = PG_CONTIG;
        p->refcount = 1;
        p->order = 0;
        p->mapping = 0;     /* an evacuated run's frames bore the isolation's mark */
    }
}

static uint64_t search(gfp_t gfp, uint64_t n, uint64_t align_pfn, uint64_t lo,
                       uint64_t hi)
{
    for_each_zone(z) {
        uint64_t s = lo > z->start_pfn ? lo : z->start_pfn;
        uint64_t e = hi < z->end_pfn ? hi : z->end_pfn;
        if (!z->managed || s >= e || e - s < n)
            continue;
        /* A contiguous run must leave the reserve alone too. */
        if (!zone_watermark_ok(z, n, gfp))
            continue;
        uint64_t start = (s + align_pfn - 1) & ~(align_pfn - 1);
        while (start >= s && start + n <= e) {
            uint64_t busy = first_busy(z, start, n);
            if (busy == PFN_NONE) {
                buddy_isolate(z, start, start + n);
                mark_contig(start, n);
                return start;
            }
            start = (busy + align_pfn) & ~(align_pfn - 1);
        }
    }
    return PFN_NONE;
}

uint64_t alloc_contig(uint64_t n, uint64_t align, uint64_t min, uint64_t max,
                      gfp_t gfp)
{
    if (n == 0 || !is_pow2(align) || align < PAGE_SIZE || max <= min ||
        n > (max - min) / PAGE_SIZE) {
        if (!(gfp & __GFP_NOWARN))
            node_report("alloc_contig: bad request: %lu frames, align %#lx, window "
                   "[%#lx, %#lx)", n, align,
                   min, max);
        return 0;
    }
    uint64_t lo = (min + PAGE_SIZE - 1) >> PAGE_SHIFT, hi = max >> PAGE_SHIFT;
    if (hi > node0->max_pfn)
        hi = node0->max_pfn;
    if (lo == 0)
        lo = 1; /* never hand out frame 0 (0 means failure) */
    uint64_t align_pfn = align >> PAGE_SHIFT;
    uint64_t pfn = PFN_NONE;
    if (hi > lo && hi - lo >= n) {
        pfn = search(gfp, n, align_pfn, lo, hi);
        if (pfn == PFN_NONE) {
            drain_pcp(); /* cached blocks may fill a gap */
            pfn = search(gfp, n, align_pfn, lo, hi);
        }
        if (pfn == PFN_NONE && node0->shrink && node0->shrink()) {
            drain_pcp(); /* memory pressure: empty slabs came back */
            pfn = search(gfp, n, align_pfn, lo, hi);
        }
        if (pfn == PFN_NONE && evacuate_contig) {
            /* Last: move pages out of a run of free-or-movable frames. */
            pfn = evacuate_contig(gfp, n, align_pfn, lo, hi);
            if (pfn != PFN_NONE)
                mark_contig(pfn, n);
        }
    }
    if (pfn == PFN_NONE) {
        if (!(gfp & __GFP_NOWARN))
            node_report("alloc_contig: no run of %lu free frames aligned to %#lx in "
                   "[%#lx, %#lx)", n, align,
                   min, max);
        return 0;
    }
    if (gfp & __GFP_ZERO)
        memset(node0->phys_to_virt(pfn << PAGE_SHIFT), 0, n << PAGE_SHIFT);
    return pfn << PAGE_SHIFT;
}

int free_contig(uint64_t pa, uint64_t n)
{
    uint64_t pfn = pa >> PAGE_SHIFT;
    if ((pa & (PAGE_SIZE - 1)) || n == 0 || pfn >= node0->max_pfn ||
        n > node0->max_pfn - pfn) {
        node_report("free_contig: bad range %#lx + %lu frames", pa,
               n);
        node0->errors++;
        return -EINVAL;
    }
    /* Check the whole run before changing anything. */
    for (uint64_t i = 0; i < n; i++) {
        const struct page *p = pfn_to_page(pfn + i);
        if (!(p->flags & PG_CONTIG) || p->refcount != 1) {
            node_report("free_contig: frame %#lx is not a singly-referenced frame of "
                   "alloc_contig (flags %#x, refcount %u)",
                   ((pfn + i) << PAGE_SHIFT), p->flags, p->refcount);
            node0->errors++;
            return (p->flags & PG_CONTIG) && p->refcount > 1 ? -EBUSY : -EINVAL;
        }
    }
    for (uint64_t i = 0; i < n; i++) {
        struct page *p = pfn_to_page(pfn + i);
        p->flags = 0;
        p->refcount = 0;
        buddy_free(page_zone(p), pfn + i, 0);
    }
    return 0;
}
