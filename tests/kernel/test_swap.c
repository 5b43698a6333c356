/*
 * Swap areas in the kernel (docs/swap.md).
 *
 * swap_ramdisk runs everywhere: a block device made of vmalloc memory
 * (never registered, so nobody else sees it) goes through the real
 * block layer (blk_read, blk_rw_page): a device without a signature and
 * one with a bad header are refused and left untouched, a formatted one
 * becomes an area, pages go to slots and come back, /proc/swaps and
 * meminfo show it, swapoff refuses while a slot is used.
 *
 * swap_boot_area runs when the command line asked for swap= (make run
 * SWAP=512M, the swap boot of tests/run_all.py): the area is there, on
 * the device named, in /proc/swaps, and a page makes the round trip
 * through a slot of the real disk.  Otherwise it says "skipped".
 */
#include <kernel/blkdev.h>
#include <kernel/cmdline.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <mm/gfp.h>
#include <mm/page.h>
#include <mm/swap.h>
#include <mm/vmalloc.h>
#include <mm/zone.h>
#include "ramdisk.h"

#define RAM_PAGES 64
#define SPP (PAGE_SIZE / SECTOR_SIZE)


static void put32(uint8_t *p, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static void format(uint8_t *img, uint32_t pages)
{
    memset(img, 0, PAGE_SIZE);
    put32(img, SWAP_HDR_VERSION_OFF, 1);
    put32(img, SWAP_HDR_LAST_PAGE_OFF, pages - 1);
    memcpy(img + SWAP_HDR_LABEL_OFF, "ktest", 5);
    memcpy(img + SWAP_HDR_MAGIC_OFF, SWAP_HDR_MAGIC, 10);
}

/* A page written to a fresh slot of the highest-priority area and read
 * back into another frame; the slot freed.  0 or a failure line. */
static const char *round_trip(unsigned want_type, swp_entry_t *where)
{
    struct page *a = alloc_page(GFP_KERNEL), *b = alloc_page(GFP_KERNEL);
    const char *bad = NULL;
    if (!a || !b) {
        bad = "no memory";
        goto out;
    }
    uint8_t *pa = page_address(a), *pb = page_address(b);
    for (unsigned i = 0; i < PAGE_SIZE; i++)
        pa[i] = (uint8_t)(i * 7 + 3);
    memset(pb, 0, PAGE_SIZE);
    swp_entry_t e = get_swap_page();
    *where = e;
    if (!e.val || swp_type(e) != want_type)
        bad = "slot from the wrong area";
    else if (swap_writepage(e, page_to_phys(a)) != 0)
        bad = "write failed";
    else if (swap_readpage(e, page_to_phys(b)) != 0)
        bad = "read failed";
    else if (memcmp(pa, pb, PAGE_SIZE) != 0)
        bad = "read back different";
    if (e.val)
        swap_free(e);
out:
    if (a)
        __free_pages(a, 0);
    if (b)
        __free_pages(b, 0);
    return bad;
}

KTEST(swap_ramdisk)
{
    char why[160], buf[1024];
    uint8_t *img = vzalloc(RAM_PAGES * PAGE_SIZE);
    KT_ASSERT(img, "no memory");
    struct block_device rd = { .nr_sectors = RAM_PAGES * SPP, .dma_limit = ~0ul,
                               .ops = &ram_ops, .priv = img };
    strlcpy(rd.name, "ram-swap-test", sizeof(rd.name));
    uint64_t total0 = total_swap_pages, free0 = nr_swap_pages;

    /* No signature, then a header running past the device: refused, untouched. */
    int t = swap_activate(&rd, "/dev/ram-swap-test", 0, why, sizeof(why));
    bool zero = true;
    for (unsigned i = 0; i < RAM_PAGES * PAGE_SIZE; i++)
        zero = zero && img[i] == 0;
    if (t != -EINVAL || !strstr(why, "no swap signature") || !zero) {
        vfree(img);
        KT_ASSERT(0, "no signature: %d (%s), device %s", t, why, zero ? "clean" : "written");
    }
    format(img, RAM_PAGES + 1);
    t = swap_activate(&rd, "/dev/ram-swap-test", 0, why, sizeof(why));
    if (t != -EINVAL || !strstr(why, "past the end")) {
        vfree(img);
        KT_ASSERT(0, "past the device: %d (%s)", t, why);
    }

    /* Formatted: an area, first in line (the highest priority). */
    format(img, RAM_PAGES);
    t = swap_activate(&rd, "/dev/ram-swap-test", SWAP_FLAG_PREFER | SWAP_FLAG_PRIO_MASK, why,
                      sizeof(why));
    if (t < 0) {
        vfree(img);
        KT_ASSERT(0, "swap_activate: %d (%s)", t, why);
    }
    const char *fail = NULL;
    swp_entry_t e = { 0 };
    if (total_swap_pages != total0 + RAM_PAGES - 1 || nr_swap_pages != free0 + RAM_PAGES - 1)
        fail = "counts";
    else if (swap_check(why, sizeof(why)) != 0)
        fail = why;
    if (!fail)
        fail = round_trip((unsigned)t, &e);
    if (!fail) {
        /* The slot's bytes are on the device, at its page. */
        uint64_t off = swp_offset(e);
        if (off == 0 || img[off * PAGE_SIZE + 1] != 10 ||
            memcmp(img + SWAP_HDR_MAGIC_OFF, SWAP_HDR_MAGIC, 10) != 0)
            fail = "slot bytes not where they belong";
    }
    if (!fail) {
        swaps_show(buf, sizeof(buf));
        if (!strstr(buf, "/dev/ram-swap-test                      partition\t252\t\t0\t\t32767\n"))
            fail = "/proc/swaps line";
    }
    if (!fail) {
        swp_entry_t held = get_swap_page();
        if (swap_deactivate((unsigned)t) != -EBUSY)
            fail = "swapoff with a used slot";
        swap_free(held);
    }
    if (!fail && swap_check(why, sizeof(why)) != 0)
        fail = why;
    int off = swap_deactivate((unsigned)t);
    vfree(img);
    KT_ASSERT(!fail, "%s", fail);
    KT_ASSERT(off == 0, "swapoff: %d", off);
    KT_ASSERT(total_swap_pages == total0 && nr_swap_pages == free0, "counts after swapoff");
    KT_ASSERT(swap_check(why, sizeof(why)) == 0, "%s", why);
}

KTEST(swap_boot_area)
{
    const char *spec = option("swap");
    struct block_device *bd = spec ? blk_find(spec) : NULL;
    if (!bd) {
        printk("swap_boot_area: skipped (no swap=<device> on the command line, or no such "
               "device)\n");
        return;
    }
    int t = swap_type_of(bd);
    KT_ASSERT(t >= 0, "swap=%s: %s is not an area", spec, bd->name);
    const struct swap_info_struct *si = &swap_info[t];
    char buf[1024], line[64], why[160];
    KT_ASSERT(si->pages > 0 && si->max <= bd->nr_sectors / SPP, "area of %lu pages on %lu",
              si->pages, bd->nr_sectors / SPP);
    swaps_show(buf, sizeof(buf));
    snprintf(line, sizeof(line), "/dev/%s ", bd->name);
    KT_ASSERT(strstr(buf, line) && strstr(buf, "partition"), "/proc/swaps:\n%s", buf);
    meminfo_show(buf, sizeof(buf));
    KT_ASSERT(strstr(buf, "SwapTotal:") && total_swap_pages >= si->pages, "meminfo");
    /* A page through a slot of the real disk (only ever an allocated
     * slot of an area in use: the header stays). */
    int prio = si->prio;
    bool first = true;
    for (unsigned u = 0; u < MAX_SWAPFILES; u++)
        if ((swap_info[u].flags & SWP_USED) && (int)u != t && swap_info[u].prio >= prio)
            first = false;
    if (first) {
        swp_entry_t e;
        const char *fail = round_trip((unsigned)t, &e);
        KT_ASSERT(!fail, "round trip on %s: %s", bd->name, fail);
    }
    KT_ASSERT(swap_check(why, sizeof(why)) == 0, "%s", why);
    printk("swap_boot_area: %s, %lu pages, priority %d\n", bd->name, si->pages, si->prio);
}
