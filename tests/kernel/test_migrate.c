/*
 * In-kernel tests of moving pages (docs/compaction.md): evacuation of the
 * DMA zone under a user address space the kernel builds itself, pins
 * (pin_user_page, kmap) that keep a page where it is, migrate_page's
 * refusals, compaction of a fragmented zone, alloc_contig taking a run
 * that user pages filled, vmalloc pages moving under their contents.
 * Every case checks that the free frame count comes back to where it was.
 */
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <mm/buddy.h>
#include <mm/compaction.h>
#include <mm/evacuate.h>
#include <mm/gfp.h>
#include <mm/kernel_pt.h>
#include <mm/kmap.h>
#include <mm/migrate.h>
#include <mm/rmap.h>
#include <mm/slab.h>
#include <mm/vm_event.h>
#include <mm/vma.h>
#include <mm/vmalloc.h>

#define DMA_END_PFN (ZONE_DMA_END >> PAGE_SHIFT)

static uint8_t buf[PAGE_SIZE];

static uint64_t free_now(void)
{
    ktest_settle();
    return nr_free_pages();
}

static struct mm *new_space(void)
{
    struct mm *mm = kzalloc(sizeof(*mm), GFP_KERNEL);
    if (mm && mm_init_user(mm, MM_VA_END_64, GFP_KERNEL)) {
        kfree(mm);
        return NULL;
    }
    return mm;
}

static void free_space(struct mm *mm)
{
    mm_destroy(mm);
    kfree(mm);
}

static void pattern(uint64_t seed)
{
    for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
        ((uint64_t *)buf)[i] = seed * 0x9e3779b97f4a7c15ul + i;
}

/* Write page i of [a, a + n pages) with its pattern, its frames taken
 * from the zone `zone` names (mm_user_zone, as /proc/sys/vm/user_zone). */
static int fill(struct mm *mm, uint64_t a, uint64_t n, gfp_t zone)
{
    int err = 0;
    mm_user_zone = zone;
    for (uint64_t i = 0; i < n && !err; i++) {
        pattern(a + i * PAGE_SIZE);
        err = mm_write(mm, a + i * PAGE_SIZE, buf, PAGE_SIZE);
    }
    mm_user_zone = 0;
    return err;
}

/* Does the page at va hold its pattern? */
static bool intact(struct mm *mm, uint64_t va)
{
    static uint8_t got[PAGE_SIZE];
    pattern(va);
    return mm_read(mm, got, va, PAGE_SIZE) == 0 && memcmp(got, buf, PAGE_SIZE) == 0;
}

static uint64_t pfn_at(struct mm *mm, uint64_t va)
{
    struct pt_view v;
    return pt_walk(&mm->pt, va, &v) ? ~0ul : v.pa >> PAGE_SHIFT;
}

static const char *space_ok(struct mm *mm)
{
    static char why[160];
    if (mm_check_consistency(mm, why, sizeof(why)) || rmap_check_mm(mm, why, sizeof(why)))
        return why;
    return NULL;
}

/* ---- evacuation of the DMA zone ---------------------------------------------------------- */

#define NPAGES 64

KTEST(migrate_evacuate_dma)
{
    uint64_t base = free_now();
    struct mm *mm = new_space();
    KT_ASSERT(mm, "no address space");
    uint64_t a;
    KT_ASSERT(mm_mmap(mm, 0, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, &a) == 0, "mmap");
    KT_ASSERT(fill(mm, a, NPAGES, __GFP_DMA) == 0, "filling the pages");
    uint64_t before[NPAGES];
    for (unsigned i = 0; i < NPAGES; i++) {
        before[i] = pfn_at(mm, a + i * PAGE_SIZE);
        KT_ASSERT(before[i] < DMA_END_PFN, "page %u at pfn %#lx, not in ZONE_DMA", i,
                  before[i]);
    }
    /* Two pages held by the kernel: a pin and a kmap. */
    struct page *pinned;
    KT_ASSERT(pin_user_page(mm, a + 5 * PAGE_SIZE, &pinned) == 0, "pin_user_page");
    void *k = kmap(pfn_to_page(before[9]));
    KT_ASSERT(k, "kmap");
    uint64_t moved0 = vm_events[PGMIGRATE_SUCCESS];
    struct evacuate_result r;
    int err = evacuate_zone(ZONE_DMA, &r);
    bool k_same = *(uint64_t *)k == (a + 9 * PAGE_SIZE) * 0x9e3779b97f4a7c15ul;
    kunmap(pfn_to_page(before[9]));
    unpin_user_page(pinned);
    KT_ASSERT(err == 0, "evacuate_zone: %d", err);
    KT_ASSERT(k_same, "the kmapped page changed under its slot");
    for (unsigned i = 0; i < NPAGES; i++) {
        uint64_t now = pfn_at(mm, a + i * PAGE_SIZE);
        KT_ASSERT(intact(mm, a + i * PAGE_SIZE), "page %u lost its contents", i);
        if (i == 5 || i == 9)
            KT_ASSERT(now == before[i], "held page %u moved from %#lx to %#lx", i, before[i],
                      now);
        else
            KT_ASSERT(now >= DMA_END_PFN, "page %u still at pfn %#lx", i, now);
    }
    KT_ASSERT(r.moved >= NPAGES - 2, "moved %lu", r.moved);
    KT_ASSERT(r.pinned >= 2, "pinned %lu (a pin and a kmap)", r.pinned);
    KT_ASSERT(r.obtained > 0 && r.obtained + r.pinned + r.unmovable + r.failed <= r.frames,
              "obtained %lu of %lu frames", r.obtained, r.frames);
    KT_ASSERT(last_evacuation_zone == ZONE_DMA && last_evacuation.moved == r.moved,
              "last_evacuation not recorded");
    KT_ASSERT(vm_events[PGMIGRATE_SUCCESS] >= moved0 + r.moved, "pgmigrate_success not counted");
    const char *why = space_ok(mm);
    KT_ASSERT(!why, "address space after the evacuation: %s", why);
    /* Now unpinned, they go too. */
    KT_ASSERT(evacuate_zone(ZONE_DMA, &r) == 0, "second evacuation");
    KT_ASSERT(pfn_at(mm, a + 5 * PAGE_SIZE) >= DMA_END_PFN &&
                  pfn_at(mm, a + 9 * PAGE_SIZE) >= DMA_END_PFN,
              "unpinned pages still in ZONE_DMA");
    KT_ASSERT(intact(mm, a + 5 * PAGE_SIZE) && intact(mm, a + 9 * PAGE_SIZE), "contents");
    free_space(mm);
    uint64_t now = free_now();
    KT_ASSERT(now == base, "free frames %lu, baseline %lu", now, base);
}

KTEST(migrate_evacuate_bad_zone)
{
    uint64_t base = free_now();
    struct evacuate_result r;
    KT_ASSERT(evacuate_zone((enum zone_type)NR_ZONES, &r) == -EINVAL, "zone %d", NR_ZONES);
    KT_ASSERT(evacuate_zone((enum zone_type)-1, &r) == -EINVAL, "zone -1");
    for (int zi = 0; zi < NR_ZONES; zi++)
        if (!zone_of_type((unsigned)zi)->managed)   /* no node has such a zone */
            KT_ASSERT(evacuate_zone((enum zone_type)zi, &r) == -EINVAL,
                      "zone %s without memory", zone_of_type((unsigned)zi)->name);
    KT_ASSERT(free_now() == base, "free frames changed");
}

/* ---- migrate_page's refusals -------------------------------------------------------------- */

/* migrate_page(pg) must refuse with `want` and change nothing. */
static const char *refused(struct page *pg, enum migrate_result want, int want_err)
{
    static char why[120];
    struct page before = { 0 };
    if (want != MIGRATE_NOT_RAM)
        before = *pg;     /* (past mem_map there is no descriptor to read) */
    uint64_t fails = vm_events[PGMIGRATE_FAIL];
    enum migrate_result got = MIGRATE_OK;
    struct page *newp = NULL;
    int err = migrate_page(pg, migrate_alloc_any, NULL, &newp, &got);
    if (err != want_err || got != want)
        snprintf(why, sizeof(why), "pfn %#lx: %d (%s), expected %d (%s)", page_to_pfn(pg), err,
                 migrate_result_str(got), want_err, migrate_result_str(want));
    else if (want != MIGRATE_NOT_RAM && memcmp(&before, pg, sizeof(before)))
        snprintf(why, sizeof(why), "pfn %#lx: descriptor changed", page_to_pfn(pg));
    else if (vm_events[PGMIGRATE_FAIL] != fails + 1)
        snprintf(why, sizeof(why), "pgmigrate_fail not counted");
    else if (migrate_check(pg) != want)
        snprintf(why, sizeof(why), "migrate_check says %s", migrate_result_str(migrate_check(pg)));
    else
        return NULL;
    return why;
}

#define KT_REFUSED(pg, want, err)                                           \
    do {                                                                    \
        const char *why_ = refused(pg, want, err);                          \
        KT_ASSERT(!why_, "%s", why_);                                       \
    } while (0)

KTEST(migrate_refusals)
{
    uint64_t base = free_now();
    /* A free frame. */
    struct page *f = alloc_page(GFP_KERNEL);
    KT_ASSERT(f, "no page");
    __free_pages(f, 0);
    KT_REFUSED(f, MIGRATE_FREE, -EINVAL);
    /* A reserved frame: frame 0. */
    KT_REFUSED(pfn_to_page(0), MIGRATE_RESERVED, -EINVAL);
    /* A tail and the head of an order-1 block. */
    struct page *b = alloc_pages(GFP_KERNEL, 1);
    KT_ASSERT(b, "no block");
    const char *why = refused(b + 1, MIGRATE_TAIL, -EINVAL);
    if (!why)
        why = refused(b, MIGRATE_COMPOUND, -EINVAL);
    __free_pages(b, 1);
    KT_ASSERT(!why, "%s", why);
    /* A kernel page with no owner, and a slab's page. */
    struct page *kp = alloc_page(GFP_KERNEL);
    KT_ASSERT(kp, "no page");
    why = refused(kp, MIGRATE_UNMOVABLE, -EINVAL);
    __free_pages(kp, 0);
    KT_ASSERT(!why, "%s", why);
    void *obj = kmalloc(64, GFP_KERNEL);
    KT_ASSERT(obj, "kmalloc");
    struct page *sp = virt_to_page(obj);
    uint64_t head;
    if (sp->refcount == 0 && frame_tail_of(page_to_pfn(sp), &head))
        sp = pfn_to_page(head);
    why = refused(sp, sp->order ? MIGRATE_COMPOUND : MIGRATE_UNMOVABLE, -EINVAL);
    kfree(obj);
    KT_ASSERT(!why, "slab page: %s", why);
    /* A page-table page of a user space, and the zero page it maps. */
    struct mm *mm = new_space();
    KT_ASSERT(mm, "no address space");
    uint64_t a;
    int err = mm_mmap(mm, 0, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      NULL, 0, &a);
    if (!err)
        err = mm_prepare_read(mm, a, PAGE_SIZE);
    why = err ? "mmap/read" : refused(pfn_to_page(mm->pt.root >> PAGE_SHIFT),
                                      MIGRATE_UNMOVABLE, -EINVAL);
    if (!why && pfn_at(mm, a) == mm_zero_page() >> PAGE_SHIFT)
        why = refused(pfn_to_page(mm_zero_page() >> PAGE_SHIFT), MIGRATE_UNMOVABLE, -EINVAL);
    /* A pinned user page: -EBUSY, and it stays. */
    struct page *pg = NULL;
    if (!why && (mm_prepare_write(mm, a, PAGE_SIZE) || pin_user_page(mm, a, &pg)))
        why = "write/pin";
    if (!why)
        why = refused(pg, MIGRATE_PINNED, -EBUSY);
    if (pg)
        unpin_user_page(pg);
    /* Past mem_map. */
    if (!why)
        why = refused(pfn_to_page(node0->max_pfn), MIGRATE_NOT_RAM, -EINVAL);
    if (!why)
        why = space_ok(mm);
    free_space(mm);
    KT_ASSERT(!why, "%s", why);
    uint64_t now = free_now();
    KT_ASSERT(now == base, "free frames %lu, baseline %lu", now, base);
}

/* ---- compaction and contiguous runs ------------------------------------------------------ */

static bool has_free_block(const struct zone *z, unsigned order)
{
    for (unsigned k = order; k <= MAX_ORDER; k++)
        if (z->area[k].nr_free)
            return true;
    return false;
}

/*
 * Fill the DMA zone with user pages down to its high watermark, then free
 * every other page: many free frames, no two of them together.  *a and
 * *n say where the pages are (every other one is left).
 */
static int fragment_dma(struct mm *mm, uint64_t *a, uint64_t *n)
{
    struct zone *z = &node0->zones[ZONE_DMA];
    drain_pcp();
    uint64_t avail = zone_free_frames(z);
    if (avail < z->wmark_high + 2048)
        return -ENOSPC;
    *n = avail - z->wmark_high - 64;
    int err = mm_mmap(mm, 0, *n * PAGE_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, a);
    if (!err)
        err = fill(mm, *a, *n, __GFP_DMA);
    for (uint64_t i = 1; i < *n && !err; i += 2)
        err = mm_munmap(mm, *a + i * PAGE_SIZE, PAGE_SIZE);
    drain_pcp();
    return err;
}

KTEST(migrate_compaction)
{
    uint64_t base = free_now();
    struct zone *z = &node0->zones[ZONE_DMA];
    struct mm *mm = new_space();
    KT_ASSERT(mm, "no address space");
    uint64_t a, n;
    int err = fragment_dma(mm, &a, &n);
    if (err == -ENOSPC) {
        printk("migrate_compaction: ZONE_DMA too small here\n");
        free_space(mm);
        return;
    }
    KT_ASSERT(err == 0, "fragmenting ZONE_DMA: %d", err);
    KT_ASSERT(!has_free_block(z, 9), "ZONE_DMA still has an order-9 block after fragmenting "
              "(%lu pages written)", n);
    uint64_t scanned = vm_events[COMPACT_MIGRATE_SCANNED];
    uint64_t fscanned = vm_events[COMPACT_FREE_SCANNED];
    KT_ASSERT(compact_memory() == 0, "compact_memory");
    KT_ASSERT(has_free_block(z, 9), "no order-9 block in ZONE_DMA after compaction "
              "(free %lu)", z->free);
    KT_ASSERT(vm_events[COMPACT_MIGRATE_SCANNED] > scanned &&
                  vm_events[COMPACT_FREE_SCANNED] > fscanned,
              "compaction's scanners not counted");
    for (uint64_t i = 0; i < n; i += 2) {
        KT_ASSERT(pfn_at(mm, a + i * PAGE_SIZE) < DMA_END_PFN, "page %lu left ZONE_DMA", i);
        KT_ASSERT(intact(mm, a + i * PAGE_SIZE), "page %lu lost its contents", i);
    }
    const char *why = space_ok(mm);
    KT_ASSERT(!why, "after compaction: %s", why);
    free_space(mm);
    uint64_t now = free_now();
    KT_ASSERT(now == base, "free frames %lu, baseline %lu", now, base);
}

/* Direct compaction: an order-9 DMA request on the fragmented zone. */
KTEST(migrate_direct_compaction)
{
    uint64_t base = free_now();
    struct mm *mm = new_space();
    KT_ASSERT(mm, "no address space");
    uint64_t a, n;
    int err = fragment_dma(mm, &a, &n);
    if (err == -ENOSPC) {
        free_space(mm);
        return;
    }
    KT_ASSERT(err == 0, "fragmenting ZONE_DMA: %d", err);
    compaction_defer_reset(&node0->zones[ZONE_DMA]);   /* earlier tests' failures */
    uint64_t stall = vm_events[COMPACT_STALL], ok = vm_events[COMPACT_SUCCESS];
    struct page *p = alloc_pages(GFP_DMA | __GFP_NOWARN, 9);
    bool low = p && page_to_pfn(p) + 512 <= DMA_END_PFN;
    if (p)
        __free_pages(p, 9);
    KT_ASSERT(low, "order-9 DMA request after direct compaction: %p", (void *)p);
    KT_ASSERT(vm_events[COMPACT_STALL] == stall + 1 && vm_events[COMPACT_SUCCESS] == ok + 1,
              "compact_stall/compact_success not counted");
    for (uint64_t i = 0; i < n; i += 2)
        KT_ASSERT(intact(mm, a + i * PAGE_SIZE), "page %lu lost its contents", i);
    free_space(mm);
    uint64_t now = free_now();
    KT_ASSERT(now == base, "free frames %lu, baseline %lu", now, base);
}

/* alloc_contig in a window full of user pages: they move out. */
KTEST(migrate_contig_evacuates)
{
    uint64_t base = free_now();
    struct mm *mm = new_space();
    KT_ASSERT(mm, "no address space");
    uint64_t a, n;
    int err = fragment_dma(mm, &a, &n);
    if (err == -ENOSPC) {
        free_space(mm);
        return;
    }
    KT_ASSERT(err == 0, "fragmenting ZONE_DMA: %d", err);
    /* 64 frames, 64 KiB aligned, below 16 MiB: no free run has them. */
    uint64_t pa = alloc_contig(64, 64 * PAGE_SIZE, 0, ZONE_DMA_END, GFP_KERNEL);
    KT_ASSERT(pa && pa % (64 * PAGE_SIZE) == 0 && pa + 64 * PAGE_SIZE <= ZONE_DMA_END,
              "alloc_contig: %#lx", pa);
    for (uint64_t i = 0; i < 64; i++)
        KT_ASSERT(pfn_to_page((pa >> PAGE_SHIFT) + i)->flags == PG_CONTIG,
                  "frame %lu of the run not PG_CONTIG", i);
    err = free_contig(pa, 64);
    KT_ASSERT(err == 0, "free_contig: %d", err);
    for (uint64_t i = 0; i < n; i += 2)
        KT_ASSERT(intact(mm, a + i * PAGE_SIZE), "page %lu lost its contents", i);
    const char *why = space_ok(mm);
    KT_ASSERT(!why, "%s", why);
    free_space(mm);
    /* Nothing movable in the window (the first MiB is firmware and the
     * loader's): fails as before, nothing taken. */
    uint64_t before = free_now();
    KT_ASSERT(alloc_contig(256, PAGE_SIZE, 0, 1ul << 20, __GFP_NOWARN) == 0,
              "a run in the first MiB");
    KT_ASSERT(free_now() == before, "a failed alloc_contig changed the free count");
    uint64_t now = free_now();
    KT_ASSERT(now == base, "free frames %lu, baseline %lu", now, base);
}

/* ---- vmalloc pages move ------------------------------------------------------------------- */

KTEST(migrate_vmalloc)
{
    uint64_t base = free_now();
    enum { N = 8 };
    uint64_t *v = vmalloc(N * PAGE_SIZE);
    KT_ASSERT(v, "vmalloc");
    for (uint64_t i = 0; i < N * PAGE_SIZE / 8; i++)
        v[i] = i * 0x51ed2701u;
    const char *why = NULL;
    for (unsigned i = 0; i < N && !why; i++) {
        uint64_t va = (uint64_t)v + i * PAGE_SIZE;
        struct pt_view pv;
        if (pt_walk(&kernel_pt, va, &pv)) {
            why = "vmalloc page not mapped";
            break;
        }
        struct page *old = pfn_to_page(pv.pa >> PAGE_SHIFT), *new = NULL;
        if (!(old->flags2 & PG2_VMALLOC) || old->index != va) {
            why = "vmalloc page not marked";
            break;
        }
        enum migrate_result r;
        if (i == 3) {
            /* kmapped: pinned, stays. */
            void *k = kmap(old);
            int err = migrate_page(old, migrate_alloc_any, NULL, &new, &r);
            kunmap(old);
            if (!k || err != -EBUSY || r != MIGRATE_PINNED)
                why = "a kmapped vmalloc page was not refused as pinned";
            continue;
        }
        if (migrate_page(old, migrate_alloc_any, NULL, &new, &r)) {
            why = migrate_result_str(r);
            break;
        }
        if (pt_walk(&kernel_pt, va, &pv) || pv.pa != page_to_phys(new) || new == old ||
            !(new->flags2 & PG2_VMALLOC) || new->index != va || (old->flags2 & PG2_VMALLOC))
            why = "the pte or the marks did not follow";
    }
    bool same = true;
    for (uint64_t i = 0; i < N * PAGE_SIZE / 8; i++)
        same &= v[i] == i * 0x51ed2701u;
    char vwhy[160];
    int vc = vmalloc_check(&vmalloc_space, vwhy, sizeof(vwhy));
    vfree(v);
    KT_ASSERT(!why, "%s", why);
    KT_ASSERT(same, "vmalloc contents changed by the migration");
    KT_ASSERT(vc == 0, "vmalloc_check: %s", vwhy);
    uint64_t now = free_now();
    KT_ASSERT(now == base, "free frames %lu, baseline %lu", now, base);
}
