/*
 * Physical memory in the running kernel: the buddy allocator over the
 * real firmware map, at whatever size QEMU was given (the harness boots
 * 128 MiB, 1 GiB and 6 GiB).
 */
#include <kernel/ktest.h>
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <kernel/errno.h>
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
    KT_ASSERT(frame_unref(pa) == -EINVAL, "unref of a free frame was not refused with -EINVAL");
    KT_ASSERT(log_contains_since(mark, "is free (double free"), "not reported");
    KT_ASSERT(frame_ref(pa) == -EINVAL, "ref of a free frame was not refused with -EINVAL");
    KT_ASSERT(frame_unref(0) == -EINVAL, "unref of frame 0 (reserved) was not refused");
    KT_ASSERT(frame_unref(pa + 1) == -EINVAL, "unaligned address was not refused");
    KT_ASSERT(node0->errors == errors + 4, "errors counted %lu",
              (node0->errors - errors));
    drain_pcp();
    char why[200];
    KT_ASSERT(node_check(why, sizeof(why)) == 0, "state corrupted: %s", why);
    KT_ASSERT(nr_free_pages() == before, "leaked frames");
}

/*
 * Blocks above order 0 on the real node: only the head is marked; a tail
 * freed, a wrong order and a double free are refused and counted, for a
 * block that goes back to the per-CPU cache (order 2) and one that goes
 * to the buddy lists (order 5); a freed order-2 block is the next one
 * handed out.
 */
KTEST(pmm_high_order)
{
    drain_pcp(); /* so that freeing the order-2 block drains nothing */
    uint64_t before = nr_free_pages(), errors = node0->errors;
    struct page *small = alloc_pages(GFP_KERNEL, 2), *big = alloc_pages(GFP_KERNEL, 5);
    KT_ASSERT(small && big, "order 2 or 5 failed");
    for (unsigned i = 1; i < 32; i++)
        KT_ASSERT(big[i].flags == 0 && big[i].refcount == 0, "tail %u: flags %#x ref %u", i,
                  big[i].flags, big[i].refcount);
    uint64_t mark = log_mark();
    __free_pages(big + 8, 3);
    KT_ASSERT(log_contains_since(mark, "inside a larger block"), "tail free not reported");
    __free_pages(small + 1, 0);
    mark = log_mark();
    __free_pages(big, 4);
    KT_ASSERT(log_contains_since(mark, "allocated with order 5"), "wrong order not reported");
    KT_ASSERT(get_page(big + 31) == -EINVAL, "get_page on a tail was not refused");
    KT_ASSERT(page_count(big) == 1 && page_count(small) == 1, "a refusal changed a count");
    __free_pages(small, 2);
    __free_pages(big, 5);
    mark = log_mark();
    __free_pages(big, 5);
    __free_pages(small, 2);
    KT_ASSERT(log_contains_since(mark, "is free (double free"), "double free not reported");
    KT_ASSERT(node0->errors == errors + 6, "errors counted %lu", (node0->errors - errors));
    struct page *again = alloc_pages(GFP_KERNEL, 2);
    KT_ASSERT(again == small, "the freed order-2 block was not reused first");
    __free_pages(again, 2);
    drain_pcp();
    char why[200];
    KT_ASSERT(node_check(why, sizeof(why)) == 0, "%s", why);
    KT_ASSERT(nr_free_pages() == before, "leaked %ld frames", (long)(before - nr_free_pages()));
}

KTEST(pmm_contig_dma)
{
    uint64_t before = nr_free_pages();
    uint64_t pa = alloc_contig(3, 64 * 1024, 1 << 20, ZONE_DMA_END, GFP_KERNEL);
    KT_ASSERT(pa, "3 frames aligned to 64 KiB below 16 MiB: none");
    KT_ASSERT((pa & 0xffff) == 0 && pa >= (1 << 20) && pa + 3 * PAGE_SIZE <= ZONE_DMA_END,
              "bad run %#lx", pa);
    KT_ASSERT(nr_free_pages() == before - 3, "free count did not drop by 3");
    KT_ASSERT(free_contig(pa + PAGE_SIZE, 3) == -EINVAL, "a wrong range was not refused");
    KT_ASSERT(free_contig(pa, 3) == 0, "free_contig failed");
    uint64_t none = alloc_contig(1ul << 30, PAGE_SIZE, 0, 1ul << 20,
                                 GFP_KERNEL | __GFP_NOWARN);
    KT_ASSERT(none == 0, "an impossible request succeeded");
    char why[200];
    KT_ASSERT(node_check(why, sizeof(why)) == 0, "%s", why);
    KT_ASSERT(nr_free_pages() == before, "leaked frames");
}

/* mem_init's placement, as the running kernel sees it: mem_map inside one
 * usable range, clear of the kernel image, its own frames reserved; the
 * zones know their node. */
KTEST(pmm_mem_map_placed)
{
    uint64_t pa = (uint64_t)node0->mem_map - BOOT_DIRECT_MAP_BASE;
    uint64_t end = pa + node0->max_pfn * sizeof(struct page);
    size_t n;
    const struct mem_range *r = mem_ranges(&n);
    bool inside = false;
    for (size_t i = 0; i < n; i++)
        inside = inside || (r[i].kind == MEM_USABLE && r[i].start <= pa && end <= r[i].end);
    KT_ASSERT(inside, "mem_map [%#lx, %#lx) is not inside one usable range", pa, end);
    KT_ASSERT(end <= boot_info->kernel.phys ||
                  pa >= boot_info->kernel.phys + boot_info->kernel.size,
              "mem_map [%#lx, %#lx) overlaps the kernel at %#lx", pa, end,
              boot_info->kernel.phys);
    for (uint64_t a = pa & ~(PAGE_SIZE - 1); a < end; a += PAGE_SIZE)
        KT_ASSERT(pfn_to_page(a >> PAGE_SHIFT)->flags & PG_RESERVED,
                  "mem_map frame %#lx is not reserved", a);
    for (int i = 0; i < NR_ZONES; i++)
        KT_ASSERT(node0->zones[i].node == node0, "zone %s does not point to node0",
                  node0->zones[i].name);
}
