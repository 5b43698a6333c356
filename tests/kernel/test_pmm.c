/*
 * Physical memory in the running kernel: the buddy allocator over the
 * real firmware map, at whatever size QEMU was given (the harness boots
 * 128 MiB, 1 GiB and 6 GiB).
 */
#include <kernel/ktest.h>
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <mm/gfp.h>
#include <mm/zone.h>
#include <mm/bootmem.h>

static bool in_usable_range(uint64_t pa)
{
    size_t n;
    const struct mem_range *r = mem_ranges(&n);
    for (size_t i = 0; i < n; i++)
        if (pa >= r[i].start && pa + PAGE_SIZE <= r[i].end)
            return r[i].kind == MEM_USABLE;
    return false;
}

KTEST(pmm_consistent)
{
    char why[200];
    KT_ASSERT(node_check(why, sizeof(why)) == 0, "%s", why);
    KT_ASSERT(nr_free_pages() > 1000, "only %lu free frames", nr_free_pages());
}

/*
 * Take every free frame, one by one, writing into each a link to the
 * previous one and its own frame number; then walk the chain, checking
 * each frame still holds its number (two allocations of one frame would
 * overwrite it), and free them all.
 */
KTEST(pmm_every_frame)
{
    uint64_t before = nr_free_pages(), count = 0, errors = node0->errors;
    uint64_t *head = NULL;
    for (;;) {
        uint64_t *f = __get_free_pages(__GFP_MEMALLOC | __GFP_NOWARN, 0);
        if (!f)
            break;
        uint64_t pa = (uint64_t)f - BOOT_DIRECT_MAP_BASE;
        KT_ASSERT(in_usable_range(pa), "frame %#lx is not in a usable range",
                  pa);
        KT_ASSERT(pa != 0, "frame 0 was handed out");
        f[0] = (uint64_t)head;
        f[1] = pa;
        f[511] = ~pa;
        head = f;
        count++;
    }
    KT_ASSERT(count == before, "allocated %lu frames, %lu were free",
              count, before);
    KT_ASSERT(nr_free_pages() == 0, "%lu frames left", nr_free_pages());
    while (head) {
        uint64_t *next = (uint64_t *)head[0];
        uint64_t pa = (uint64_t)head - BOOT_DIRECT_MAP_BASE;
        KT_ASSERT(head[1] == pa && head[511] == ~pa, "frame %#lx was overwritten",
                  pa);
        free_page(head);
        head = next;
    }
    char why[200];
    KT_ASSERT(nr_free_pages() == before, "free count %lu, expected %lu",
              nr_free_pages(), before);
    KT_ASSERT(node0->errors == errors, "errors were reported");
    KT_ASSERT(node_check(why, sizeof(why)) == 0, "%s", why);
}

KTEST(pmm_orders_aligned)
{
    uint64_t before = nr_free_pages();
    struct page *p[MAX_ORDER + 1];
    for (unsigned k = 0; k <= MAX_ORDER; k++) {
        p[k] = alloc_pages(GFP_KERNEL, k);
        KT_ASSERT(p[k], "order %u failed", k);
        KT_ASSERT((page_to_pfn(p[k]) & ((1ul << k) - 1)) == 0, "order %u block %#lx misaligned",
                  k, page_to_phys(p[k]));
    }
    for (unsigned k = 0; k <= MAX_ORDER; k++)
        __free_pages(p[k], k);
    drain_pcp();
    KT_ASSERT(nr_free_pages() == before, "leaked %ld frames",
              (before - nr_free_pages()));
}

KTEST(pmm_zones)
{
    uint64_t before = nr_free_pages();
    void *dma = __get_dma_pages(GFP_KERNEL, 0);
    KT_ASSERT(dma, "__get_dma_pages failed");
    uint64_t pa = (uint64_t)dma - BOOT_DIRECT_MAP_BASE;
    KT_ASSERT(pa < ZONE_DMA_END, "__get_dma_pages gave %#lx, above 16 MiB",
              pa);
    struct page *d32 = alloc_pages(GFP_DMA32, 2);
    KT_ASSERT(d32, "GFP_DMA32 failed");
    KT_ASSERT(page_to_phys(d32) + 4 * PAGE_SIZE <= ZONE_DMA32_END, "GFP_DMA32 gave %#lx",
              page_to_phys(d32));
    struct page *k = alloc_pages(GFP_KERNEL, 0);
    KT_ASSERT(k, "GFP_KERNEL failed");
    /* With memory above 4 GiB (the 6G boot), normal requests use it first. */
    if (node0->zones[ZONE_NORMAL].managed > 1024)
        KT_ASSERT(page_to_phys(k) >= ZONE_DMA32_END, "GFP_KERNEL gave %#lx below 4 GiB",
                  page_to_phys(k));
    free_page(dma);
    __free_pages(d32, 2);
    __free_pages(k, 0);
    drain_pcp();
    KT_ASSERT(nr_free_pages() == before, "leaked frames");
}

KTEST(pmm_refcount_errors)
{
    uint64_t before = nr_free_pages(), errors = node0->errors;
    uint64_t pa = frame_alloc(GFP_KERNEL);
    KT_ASSERT(pa, "frame_alloc failed");
    KT_ASSERT(frame_ref(pa) == 2, "ref did not give 2");
    KT_ASSERT(frame_unref(pa) == 1, "unref did not give 1");
    KT_ASSERT(frame_unref(pa) == 0, "last unref did not free");
    uint64_t mark = log_mark();
    KT_ASSERT(frame_unref(pa) == -1, "unref of a free frame was accepted");
    KT_ASSERT(log_contains_since(mark, "is free (double free"), "not reported");
    KT_ASSERT(frame_ref(pa) == -1, "ref of a free frame was accepted");
    KT_ASSERT(frame_unref(0) == -1, "unref of frame 0 (reserved) was accepted");
    KT_ASSERT(frame_unref(pa + 1) == -1, "unaligned address accepted");
    KT_ASSERT(node0->errors == errors + 4, "errors counted %lu",
              (node0->errors - errors));
    drain_pcp();
    char why[200];
    KT_ASSERT(node_check(why, sizeof(why)) == 0, "state corrupted: %s", why);
    KT_ASSERT(nr_free_pages() == before, "leaked frames");
}

KTEST(pmm_contig_dma)
{
    uint64_t before = nr_free_pages();
    uint64_t pa = alloc_contig(3, 64 * 1024, 1 << 20, ZONE_DMA_END, GFP_KERNEL);
    KT_ASSERT(pa, "3 frames aligned to 64 KiB below 16 MiB: none");
    KT_ASSERT((pa & 0xffff) == 0 && pa >= (1 << 20) && pa + 3 * PAGE_SIZE <= ZONE_DMA_END,
              "bad run %#lx", pa);
    KT_ASSERT(nr_free_pages() == before - 3, "free count did not drop by 3");
    KT_ASSERT(free_contig(pa + PAGE_SIZE, 3) == -1, "a wrong range was accepted");
    KT_ASSERT(free_contig(pa, 3) == 0, "free_contig failed");
    uint64_t none = alloc_contig(1ul << 30, PAGE_SIZE, 0, 1ul << 20,
                                 GFP_KERNEL | __GFP_NOWARN);
    KT_ASSERT(none == 0, "an impossible request succeeded");
    char why[200];
    KT_ASSERT(node_check(why, sizeof(why)) == 0, "%s", why);
    KT_ASSERT(nr_free_pages() == before, "leaked frames");
}
