/*
 * Block devices (docs/block.md), when the test disks are attached (the
 * "block" boot of tests/run_all.py): a virtio disk whose sector 0 starts
 * with BLOCK_TEST_MAGIC, and an NVMe disk with a GPT whose two partitions
 * have the PARTUUIDs below.  Without them each case says "skipped" and
 * passes: a disk without the magic is never written.
 */
#include <kernel/blkdev.h>
#include <kernel/errno.h>
#include <kernel/gpt.h>
#include <kernel/kernel.h>
#include <kernel/ktest.h>
#include <kernel/pci.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <mm/gfp.h>
#include <mm/page.h>
#include <mm/slab.h>
#include <mm/vmalloc.h>

/* tests/run_all.py makes the disks with these (keep them equal). */
#define BLOCK_TEST_MAGIC "MMK-BLOCK-TEST-DISK"
#define PART1_UUID "6d6d6b01-0000-4000-8000-000000000001"
#define PART2_UUID "6d6d6b02-0000-4000-8000-000000000002"
#define PART1_FIRST 2048
#define PART1_LAST 4095
#define PART2_FIRST 4096
#define PART2_LAST 12287

static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)((i * 131 + seed * 7 + (i >> 9) * 29) ^ (seed >> 3));
}

/* The virtio test disk, or NULL (after a "skipped" line). */
static struct block_device *test_vda(const char *test)
{
    struct block_device *bd = blk_find("vda");
    static char sec[SECTOR_SIZE] __attribute__((aligned(SECTOR_SIZE)));
    if (bd && bd->nr_sectors > 1024 && blk_read(bd, 0, sec, 1) == 0 &&
        memcmp(sec, BLOCK_TEST_MAGIC, sizeof(BLOCK_TEST_MAGIC) - 1) == 0)
        return bd;
    printk("%s: skipped: no virtio test disk (vda with \"%s\" in sector 0)\n", test,
           BLOCK_TEST_MAGIC);
    return NULL;
}

/* Write `count` patterned sectors at `sector` from one buffer, read them
 * back into another, compare.  0 or a description of the failure. */
static const char *round_trip(struct block_device *bd, uint64_t sector, uint32_t count,
                              uint8_t *wbuf, uint8_t *rbuf, uint32_t seed)
{
    static char why[128];
    size_t len = (size_t)count * SECTOR_SIZE;
    fill(wbuf, len, seed);
    memset(rbuf, 0, len);
    int r = blk_write(bd, sector, wbuf, count);
    if (r) {
        snprintf(why, sizeof(why), "write of %u at %lu: %d", count, sector, r);
        return why;
    }
    r = blk_read(bd, sector, rbuf, count);
    if (r) {
        snprintf(why, sizeof(why), "read of %u at %lu: %d", count, sector, r);
        return why;
    }
    for (size_t i = 0; i < len; i++) {
        if (rbuf[i] != wbuf[i]) {
            snprintf(why, sizeof(why), "%s sector %lu byte %zu: %#x, wrote %#x", bd->name,
                     sector + i / SECTOR_SIZE, i % SECTOR_SIZE, rbuf[i], wbuf[i]);
            return why;
        }
    }
    return NULL;
}

/* The checks both drivers get: patterns through every kind of buffer,
 * the ends of the device, its statistics. */
static void exercise(struct block_device *bd, uint64_t base)
{
    enum { N = 40 };                            /* 20 KiB: several pages */
    uint8_t *k = kmalloc(N * SECTOR_SIZE + 1, GFP_KERNEL);   /* direct map */
    uint8_t *v = vmalloc(N * SECTOR_SIZE);                    /* vmalloc */
    uint8_t *k2 = kmalloc(N * SECTOR_SIZE + 1, GFP_KERNEL);
    KT_ASSERT(k && v && k2, "no memory");
    uint64_t reads = bd->reads, writes = bd->writes, bounced = bd->bounced;
    const char *why = round_trip(bd, base, N, k, v, 1);
    if (!why)
        why = round_trip(bd, base + 3, N - 5, v, k, 2);
    uint64_t bounced_aligned = bd->bounced;
    /* an odd address: not sector aligned, so the layer bounces */
    if (!why)
        why = round_trip(bd, base + 1, 17, k + 1, k2 + 1, 3);
    uint64_t last = bd->nr_sectors - 1;
    if (!why)
        why = round_trip(bd, last, 1, k, k2, 4);
    /* a device that reaches only the first 16 MiB: buffers above bounce */
    struct block_device *disk = bd->whole ? bd->whole : bd;
    uint64_t limit = disk->dma_limit, before = bd->bounced;
    disk->dma_limit = 16ul << 20;
    if (!why)
        why = round_trip(bd, base, N, k, v, 6);
    disk->dma_limit = limit;
    uint64_t low_bounced = bd->bounced - before;
    int end1 = blk_read(bd, bd->nr_sectors, k, 1);
    int end2 = blk_read(bd, last, k, 2);
    int end3 = blk_write(bd, ~0ul, k, 1);
    int zero = blk_read(bd, 0, k, 0);
    /* a page frame, as swap does */
    struct page *pg = alloc_page(GFP_KERNEL);
    int pw = -1, pr = -1, pcmp = -1;
    if (pg) {
        fill(page_address(pg), PAGE_SIZE, 5);
        memcpy(k2, page_address(pg), PAGE_SIZE);
        pw = blk_rw_page(bd, base + 8, page_to_phys(pg), true);
        memset(page_address(pg), 0, PAGE_SIZE);
        pr = blk_rw_page(bd, base + 8, page_to_phys(pg), false);
        pcmp = memcmp(page_address(pg), k2, PAGE_SIZE);
        __free_pages(pg, 0);
    }
    int bad_pa = blk_rw_page(bd, base, 123, false);
    kfree(k);
    kfree(k2);
    vfree(v);
    KT_ASSERT(!why, "%s", why);
    KT_ASSERT(end1 == -EINVAL && end2 == -EINVAL && end3 == -EINVAL,
              "past the end: %d %d %d, expected -EINVAL", end1, end2, end3);
    KT_ASSERT(zero == -EINVAL, "count 0: %d", zero);
    KT_ASSERT(pw == 0 && pr == 0 && pcmp == 0, "page: write %d read %d compare %d", pw, pr,
              pcmp);
    KT_ASSERT(bad_pa == -EINVAL, "unaligned frame: %d", bad_pa);
    KT_ASSERT(bd->writes - writes == N + N - 5 + 17 + 1 + N + 8,
              "writes counted %lu", bd->writes - writes);
    KT_ASSERT(bd->reads - reads == N + N - 5 + 17 + 1 + N + 8, "reads counted %lu",
              bd->reads - reads);
    /* 20 KiB each way in whole pages, two or three chunks a page */
    KT_ASSERT(low_bounced >= 2 * N / 8, "only %lu chunks bounced below 16 MiB", low_bounced);
    KT_ASSERT(bd->bounced > bounced_aligned, "the odd buffer was not bounced");
    printk("%s: %s: %lu chunks bounced for aligned buffers, %lu in all\n", __func__, bd->name,
           bounced_aligned - bounced, bd->bounced - bounced);
}

KTEST(block_virtio_rw)
{
    struct block_device *bd = test_vda("block_virtio_rw");
    if (!bd)
        return;
    exercise(bd, 100);
}

static struct block_device *test_nvme(const char *test)
{
    struct block_device *bd = blk_find("nvme0n1");
    if (bd && blk_find("PARTUUID=" PART2_UUID))
        return bd;
    printk("%s: skipped: no NVMe test disk (nvme0n1 with PARTUUID=%s)\n", test, PART2_UUID);
    return NULL;
}

KTEST(block_nvme_rw)
{
    struct block_device *disk = test_nvme("block_nvme_rw");
    if (!disk)
        return;
    struct block_device *p2 = blk_find("PARTUUID=" PART2_UUID);
    uint64_t disk_reads = disk->reads;
    exercise(p2, 10);
    KT_ASSERT(disk->reads > disk_reads, "a partition's reads are not counted on its disk");
    /* The partition's sector 10 is the disk's PART2_FIRST + 10. */
    static uint8_t a[SECTOR_SIZE], b[SECTOR_SIZE];
    fill(a, sizeof(a), 9);
    KT_ASSERT(blk_write(p2, 10, a, 1) == 0, "write");
    KT_ASSERT(blk_read(disk, PART2_FIRST + 10, b, 1) == 0, "read");
    KT_ASSERT(memcmp(a, b, sizeof(a)) == 0, "partition sector 10 is not disk sector %u",
              PART2_FIRST + 10);
}

KTEST(block_gpt_partitions)
{
    struct block_device *disk = test_nvme("block_gpt_partitions");
    if (!disk)
        return;
    struct block_device *p1 = blk_find("PARTUUID=" PART1_UUID);
    struct block_device *p2 = blk_find("nvme0n1p2");
    KT_ASSERT(p1 && p2, "partitions: %p %p", p1, p2);
    KT_ASSERT(strcmp(p1->name, "nvme0n1p1") == 0, "name %s", p1->name);
    KT_ASSERT(p1->whole == disk && p2->whole == disk, "whole disk");
    KT_ASSERT(p1->start == PART1_FIRST && p1->nr_sectors == PART1_LAST - PART1_FIRST + 1,
              "p1 at %lu, %lu sectors", p1->start, p1->nr_sectors);
    KT_ASSERT(p2->start == PART2_FIRST && p2->nr_sectors == PART2_LAST - PART2_FIRST + 1,
              "p2 at %lu, %lu sectors", p2->start, p2->nr_sectors);
    char text[37];
    gpt_guid_to_text(p2->part_uuid, text);
    KT_ASSERT(strcmp(text, PART2_UUID) == 0, "PARTUUID %s", text);
    /* Linux swap type GUID, as sgdisk's code 8200 writes it */
    gpt_guid_to_text(p1->part_type, text);
    KT_ASSERT(strcmp(text, "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f") == 0, "type %s", text);
    KT_ASSERT(blk_find("/dev/nvme0n1p1") == p1, "/dev/ path");
    KT_ASSERT(blk_find("PARTUUID=6D6D6B01-0000-4000-8000-000000000001") == p1, "upper case");
    KT_ASSERT(disk->part_uuid[0] == 0 && disk->whole == NULL && disk->start == 0,
              "the whole disk looks like a partition");
}

/* Look-ups that must find nothing, disks or not. */
KTEST(block_find_refuses)
{
    KT_ASSERT(blk_find(NULL) == NULL, "NULL");
    KT_ASSERT(blk_find("") == NULL, "empty");
    KT_ASSERT(blk_find("/dev/") == NULL, "/dev/");
    KT_ASSERT(blk_find("PARTUUID=") == NULL, "empty PARTUUID");
    KT_ASSERT(blk_find("PARTUUID=6d6d6b01-0000-4000-8000-00000000000") == NULL, "short");
    KT_ASSERT(blk_find("PARTUUID=00000000-0000-0000-0000-000000000000") == NULL,
              "zero PARTUUID matched a whole disk");
    KT_ASSERT(blk_find("nosuchdisk") == NULL, "nosuchdisk");
    KT_ASSERT(blk_read(NULL, 0, NULL, 1) == -EINVAL, "NULL device");
    for (struct block_device *bd = blk_first(); bd; bd = bd->next)
        KT_ASSERT(blk_find(bd->name) == bd, "%s not found by name", bd->name);
}

/* The bus as enumerated: every function found answers with the ids we
 * recorded, and an I/O BAR is refused by pci_map_bar (the drivers here
 * speak memory-mapped registers only).  q35 always has an I/O BAR (the
 * SATA controller's, for one). */
KTEST(pci_enumeration)
{
    unsigned n = 0, io_refused = 0;
    for (struct pci_dev *pd = pci_first(); pd; pd = pd->next) {
        n++;
        KT_ASSERT(pci_read16(pd, PCI_VENDOR_ID) == pd->vendor &&
                  pci_read16(pd, PCI_DEVICE_ID) == pd->device,
                  "%02x:%02x.%u ids changed", pd->bus, pd->dev, pd->fn);
        for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
            if (pd->bar[i].size && pd->bar[i].io) {
                KT_ASSERT(pci_map_bar(pd, i) == NULL, "an I/O BAR was mapped");
                io_refused++;
            }
        }
        KT_ASSERT(pci_map_bar(pd, PCI_MAX_BARS) == NULL, "BAR %u mapped", PCI_MAX_BARS);
    }
    KT_ASSERT(n > 0, "no PCI function found");
    KT_ASSERT(io_refused > 0, "no I/O BAR to refuse on this machine");
}

/* ---- multi-page requests (blk_rw_pages) ----------------------------------------------- */

#define PAGES_N 40                      /* more than a cluster, under BLK_MAX_PAGES */
#define SPP (PAGE_SIZE / SECTOR_SIZE)

/* n frames, scattered: every other one of 2n allocated, in reverse
 * order; the others go back.  false when memory is short. */
static bool scattered(struct page **pg, unsigned n)
{
    struct page *all[2 * PAGES_N];
    for (unsigned i = 0; i < 2 * n; i++) {
        all[i] = alloc_page(GFP_KERNEL);
        if (!all[i]) {
            while (i--)
                __free_pages(all[i], 0);
            return false;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        pg[n - 1 - i] = all[2 * i];
        __free_pages(all[2 * i + 1], 0);
    }
    return true;
}

static void free_list(struct page **pg, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        __free_pages(pg[i], 0);
}

/* The pages of `rd` hold what `wr` held, page for page: NULL or why. */
static const char *same(struct page **wr, struct page **rd, unsigned n)
{
    static char why[96];
    for (unsigned i = 0; i < n; i++)
        if (memcmp(page_address(wr[i]), page_address(rd[i]), PAGE_SIZE)) {
            snprintf(why, sizeof(why), "page %u of %u read back differs", i, n);
            return why;
        }
    return NULL;
}

static void pages_exercise(struct block_device *bd, uint64_t base)
{
    struct block_device *disk = bd->whole ? bd->whole : bd;
    struct page *wr[PAGES_N], *rd[PAGES_N];
    uint64_t wpa[PAGES_N], rpa[PAGES_N];
    KT_ASSERT(scattered(wr, PAGES_N), "no memory");
    if (!scattered(rd, PAGES_N)) {
        free_list(wr, PAGES_N);
        KT_ASSERT(false, "no memory");
    }
    for (unsigned i = 0; i < PAGES_N; i++) {
        fill(page_address(wr[i]), PAGE_SIZE, 100 + i);
        memset(page_address(rd[i]), 0, PAGE_SIZE);
        wpa[i] = page_to_phys(wr[i]);
        rpa[i] = page_to_phys(rd[i]);
    }
    /* One request each way (the driver takes PAGES_N at once). */
    uint64_t req = disk->requests, writes = bd->writes, reads = bd->reads;
    int w = blk_rw_pages(bd, base, wpa, PAGES_N, true);
    int r = blk_rw_pages(bd, base, rpa, PAGES_N, false);
    uint64_t one_each = disk->requests - req;
    const char *why = w || r ? "transfer failed" : same(wr, rd, PAGES_N);
    /* Page i is at sector base + 8i: read the 7th alone. */
    memset(page_address(rd[0]), 0, PAGE_SIZE);
    int single = blk_rw_page(bd, base + 7 * SPP, rpa[0], false);
    bool placed = memcmp(page_address(rd[0]), page_address(wr[7]), PAGE_SIZE) == 0;
    /* A driver that takes 3 pages per request: 14 requests, in order. */
    unsigned max = disk->max_pages;
    disk->max_pages = 3;
    for (unsigned i = 0; i < PAGES_N; i++)
        memset(page_address(rd[i]), 0, PAGE_SIZE);
    req = disk->requests;
    int split = blk_rw_pages(bd, base, rpa, PAGES_N, false);
    uint64_t split_reqs = disk->requests - req;
    disk->max_pages = max;
    if (!why && !split)
        why = same(wr, rd, PAGES_N);
    /* A device that reaches only 16 MiB: each frame above bounces. */
    uint64_t limit = disk->dma_limit, bounced = bd->bounced, above = 0;
    for (unsigned i = 0; i < PAGES_N; i++) {
        memset(page_address(rd[i]), 0, PAGE_SIZE);
        above += rpa[i] + PAGE_SIZE > (16ul << 20);
    }
    disk->dma_limit = 16ul << 20;
    int low = blk_rw_pages(bd, base, rpa, PAGES_N, false);
    disk->dma_limit = limit;
    if (!why && !low)
        why = same(wr, rd, PAGES_N);
    uint64_t nbounced = bd->bounced - bounced;
    /* Bad input: refused, nothing sent. */
    req = disk->requests;
    uint64_t w0 = bd->writes;
    uint64_t odd[2] = { wpa[0] + 512, wpa[1] }, beyond[1] = { node0->max_pfn << PAGE_SHIFT };
    int zero = blk_rw_pages(bd, base, wpa, 0, true);
    int many = blk_rw_pages(bd, base, wpa, BLK_MAX_PAGES + 1, true);
    int past = blk_rw_pages(bd, bd->nr_sectors - 2 * SPP + 1, wpa, 2, true);
    int unaligned = blk_rw_pages(bd, base, odd, 2, true);
    int not_ram = blk_rw_pages(bd, base, beyond, 1, true);
    int null_dev = blk_rw_pages(NULL, 0, wpa, 1, false);
    uint64_t sent = disk->requests - req + bd->writes - w0;
    /* The last two pages of the device: fine. */
    int at_end = blk_rw_pages(bd, bd->nr_sectors - 2 * SPP, wpa, 2, true);
    free_list(wr, PAGES_N);
    free_list(rd, PAGES_N);
    KT_ASSERT(!w && !r && !split && !low, "write %d read %d split %d low %d", w, r, split, low);
    KT_ASSERT(!why, "%s", why);
    KT_ASSERT(one_each == 2, "%lu requests for one write and one read of %u pages", one_each,
              PAGES_N);
    KT_ASSERT(bd->writes - writes >= PAGES_N * SPP && bd->reads - reads >= PAGES_N * SPP,
              "sectors counted: %lu written, %lu read", bd->writes - writes, bd->reads - reads);
    KT_ASSERT(single == 0 && placed, "page 7 is not at sector base + 56 (%d)", single);
    KT_ASSERT(split_reqs == (PAGES_N + 2) / 3, "%lu requests of at most 3 pages", split_reqs);
    KT_ASSERT(nbounced == above, "%lu pages bounced, %lu lie above 16 MiB", nbounced, above);
    KT_ASSERT(zero == -EINVAL && many == -EINVAL && past == -EINVAL && unaligned == -EINVAL &&
              not_ram == -EINVAL && null_dev == -EINVAL,
              "bad input: %d %d %d %d %d %d, expected -EINVAL", zero, many, past, unaligned,
              not_ram, null_dev);
    KT_ASSERT(sent == 0, "a refused request sent something");
    KT_ASSERT(at_end == 0, "the last two pages: %d", at_end);
    printk("%s: %s: %u scattered pages in 1 request each way, %lu of 3 pages, %lu bounced\n",
           __func__, bd->name, PAGES_N, split_reqs, nbounced);
}

KTEST(block_virtio_pages)
{
    struct block_device *bd = test_vda("block_virtio_pages");
    if (bd)
        pages_exercise(bd, 1024);
}

KTEST(block_nvme_pages)
{
    if (!test_nvme("block_nvme_pages"))
        return;
    pages_exercise(blk_find("PARTUUID=" PART2_UUID), 1024);
}
