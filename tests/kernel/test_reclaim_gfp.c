/*
 * The allocation flags under real memory pressure (docs/reclaim.md): with
 * the RAM full and a swap area on, who may start I/O to get a frame?
 *
 *   GFP_NOIO    may wait, but starts no I/O (a disk driver): only the
 *               slab's empty slabs come back; then NULL, at once
 *   GFP_ATOMIC  never waits: the reserve below wmark_min, down to half of
 *               it, then NULL
 *   GFP_KERNEL  direct reclaim pages anonymous pages out to the disk and
 *               the allocation succeeds
 *
 * The pressure is real and quick to make: a test address space gets
 * USER_PAGES anonymous pages (written: the clock's candidates), then a
 * big kernel allocation that cannot wait (__GFP_ATOMIC without
 * __GFP_HIGH: no reclaim, no compaction, no reserve) takes every frame
 * above each zone's wmark_min, so that any further allocation needs
 * reclaim.  pswpout and the block devices' written sectors must not move
 * for GFP_NOIO and GFP_ATOMIC, and must for GFP_KERNEL.  At the end the
 * free frames, the free slots and the swap cache are back to where they
 * were.  Runs in the swap boot (ktest=swap_*); without a swap area it
 * says "skipped".
 */
#include <kernel/blkdev.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <mm/gfp.h>
#include <mm/slab.h>
#include <mm/swap.h>
#include <mm/vm_event.h>
#include <mm/vma.h>
#include <mm/vmscan.h>
#include <mm/zone.h>

#define USER_PAGES 1024
#define TRIES 100000            /* a bound on each loop: a failure, never a hang */

static uint64_t free_now(void)
{
    ktest_settle();
    return nr_free_pages();
}

static uint64_t sectors_written(void)
{
    uint64_t n = 0;
    for (struct block_device *bd = blk_first(); bd; bd = bd->next)
        n += bd->writes;
    return n;
}

/* Blocks taken, chained through their first word. */
struct chain {
    void *head;
    uint64_t pages;
};

static void chain_add(struct chain *c, struct page *pg, unsigned order)
{
    void **p = page_address(pg);
    p[0] = c->head;
    p[1] = (void *)(uint64_t)order;
    c->head = p;
    c->pages += 1ul << order;
}

static void chain_free(struct chain *c)
{
    while (c->head) {
        void **p = c->head;
        c->head = p[0];
        __free_pages(virt_to_page(p), (unsigned)(uint64_t)p[1]);
    }
    c->pages = 0;
}

/* Take every frame that gfp can have, the largest blocks first. */
static void take_all(struct chain *c, gfp_t gfp)
{
    for (int order = MAX_ORDER; order >= 0; order--) {
        struct page *pg;
        while ((pg = alloc_pages(gfp | __GFP_NOWARN, (unsigned)order)))
            chain_add(c, pg, (unsigned)order);
    }
}

/* Single frames of gfp until NULL (or TRIES): how many came. */
static uint64_t take_pages(struct chain *c, gfp_t gfp, bool *failed)
{
    uint64_t n = 0;
    *failed = false;
    for (; n < TRIES; n++) {
        struct page *pg = alloc_page(gfp | __GFP_NOWARN);
        if (!pg) {
            *failed = true;
            break;
        }
        chain_add(c, pg, 0);
    }
    return n;
}

/* Is some zone below wmark_min (the reserve in use)?  Is any below half
 * of it (the reserve's floor broken)? */
static void reserve_state(bool *dipped, bool *broken)
{
    *dipped = *broken = false;
    for (int i = 0; i < NR_ZONES; i++) {
        const struct zone *z = &node0->zones[i];
        uint64_t free = zone_free_frames(z);
        if (!z->managed)
            continue;
        *dipped |= free < z->wmark_min;
        *broken |= free < z->wmark_min / 2;
    }
}

KTEST(swap_reclaim_gfp)
{
    if (!nr_swap_pages) {
        printk("swap_reclaim_gfp: skipped (no swap area)\n");
        return;
    }
    uint64_t free0 = free_now(), slots0 = nr_swap_pages, cached0 = swap_cache_pages;
    struct mm *mm = kzalloc(sizeof(*mm), GFP_KERNEL);
    KT_ASSERT(mm, "no memory for the address space");
    if (mm_init_user(mm, MM_VA_END_64, GFP_KERNEL)) {
        kfree(mm);
        KT_ASSERT(0, "mm_init_user");
    }
    const char *fail = NULL;
    uint64_t at = 0;
    static uint64_t words[PAGE_SIZE / 8];
    if (mm_mmap(mm, 0, USER_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, &at))
        fail = "mmap";
    for (uint64_t i = 0; i < USER_PAGES && !fail; i++) {
        for (unsigned k = 0; k < PAGE_SIZE / 8; k++)
            words[k] = i * 0x9e3779b97f4a7c15ul + k;
        if (mm_write(mm, at + i * PAGE_SIZE, words, PAGE_SIZE))
            fail = "filling the address space";
    }

    /* The RAM full: every zone at its wmark_min. */
    struct chain hog = { NULL, 0 }, got = { NULL, 0 };
    if (!fail)
        take_all(&hog, __GFP_ATOMIC);
    uint64_t out0 = vm_events[PSWPOUT], w0 = sectors_written();

    /* GFP_NOIO: the slab's empty slabs at most, no page-out, then NULL. */
    bool noio_failed = false, atomic_failed = false, dipped = false, broken = false;
    uint64_t noio = fail ? 0 : take_pages(&got, GFP_NOIO, &noio_failed);
    uint64_t noio_out = vm_events[PSWPOUT] - out0, noio_w = sectors_written() - w0;
    bool noio_dipped;
    reserve_state(&noio_dipped, &broken);

    /* GFP_ATOMIC: the reserve, down to half of wmark_min, then NULL. */
    uint64_t atomic = fail ? 0 : take_pages(&got, GFP_ATOMIC, &atomic_failed);
    uint64_t atomic_out = vm_events[PSWPOUT] - out0, atomic_w = sectors_written() - w0;
    reserve_state(&dipped, &broken);
    chain_free(&got);

    /* GFP_KERNEL: direct reclaim writes pages out, and the frame comes. */
    struct page *k = fail ? NULL : alloc_page(GFP_KERNEL | __GFP_NOWARN);
    uint64_t kernel_out = vm_events[PSWPOUT] - out0, kernel_w = sectors_written() - w0;
    uint64_t swapped = mm->swap_ents;
    if (k)
        __free_pages(k, 0);
    chain_free(&hog);

    /* Everything the address space had comes back right. */
    uint64_t wrong = 0;
    for (uint64_t i = 0; i < USER_PAGES && !fail; i++) {
        static uint64_t back[PAGE_SIZE / 8];
        for (unsigned j = 0; j < PAGE_SIZE / 8; j++)
            words[j] = i * 0x9e3779b97f4a7c15ul + j;
        if (mm_read(mm, back, at + i * PAGE_SIZE, PAGE_SIZE) ||
            memcmp(back, words, PAGE_SIZE))
            wrong++;
    }
    char why[160];
    int mm_bad = mm_check_consistency(mm, why, sizeof(why));
    mm_destroy(mm);
    kfree(mm);
    printk("swap_reclaim_gfp: GFP_NOIO got %lu frames (empty slabs), GFP_ATOMIC %lu from the "
           "reserve, GFP_KERNEL paged out %lu pages (%lu sectors written)\n",
           noio, atomic, kernel_out, kernel_w);

    KT_ASSERT(!fail, "%s", fail);
    KT_ASSERT(noio_failed && noio_out == 0 && noio_w == 0,
              "GFP_NOIO: %lu frames, %s; pswpout +%lu, sectors written +%lu", noio,
              noio_failed ? "then NULL" : "never NULL", noio_out, noio_w);
    KT_ASSERT(!noio_dipped, "GFP_NOIO took frames below wmark_min");
    KT_ASSERT(atomic_failed && atomic > 0 && atomic_out == 0 && atomic_w == 0,
              "GFP_ATOMIC: %lu frames, %s; pswpout +%lu, sectors written +%lu", atomic,
              atomic_failed ? "then NULL" : "never NULL", atomic_out, atomic_w);
    KT_ASSERT(dipped && !broken, "GFP_ATOMIC: reserve %s, floor %s", dipped ? "used" : "unused",
              broken ? "broken" : "kept");
    KT_ASSERT(k, "GFP_KERNEL: no frame after direct reclaim");
    KT_ASSERT(kernel_out > 0 && kernel_w > 0 && swapped > 0,
              "GFP_KERNEL: pswpout +%lu, sectors written +%lu, %lu pages swapped", kernel_out,
              kernel_w, swapped);
    KT_ASSERT(wrong == 0, "%lu pages read back wrong", wrong);
    KT_ASSERT(mm_bad == 0, "address space: %s", why);
    KT_ASSERT(nr_swap_pages == slots0 && swap_cache_pages == cached0,
              "free slots %lu (were %lu), swap cache %lu (was %lu)", nr_swap_pages, slots0,
              swap_cache_pages, cached0);
    KT_ASSERT(swap_check(why, sizeof(why)) == 0, "%s", why);
    KT_ASSERT(free_now() == free0, "free frames %lu, baseline %lu", free_now(), free0);
}
