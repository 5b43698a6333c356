/*
 * The block layer (include/kernel/blkdev.h; docs/block.md): the list of
 * disks and partitions, their names, look-ups by name, /dev/ path or
 * PARTUUID=, and the one path every transfer takes to a driver.
 *
 * Invariants:
 *  - a partition's [start, start + nr_sectors) lies inside its whole
 *    disk (gpt.c checked the table), and a request is checked against the
 *    device it names before it is moved by start onto the whole disk;
 *  - a driver only ever sees sector-aligned, physically contiguous memory
 *    below its dma_limit, at most one page per call and never crossing a
 *    page: the buffer's own frames when they qualify, else a bounce page
 *    from ZONE_DMA32 that the data is copied through;
 *  - a multi-page request (blk_rw_pages) reaches rw_pages with 1 ..
 *    max_pages whole frames below dma_limit (bounce pages standing in for
 *    the others) and consecutive sectors inside the device; a request
 *    refused with -EINVAL sent nothing;
 *  - one request in flight per disk (one CPU, no preemption: no locks):
 *    an asynchronous read (blk_read_pages_async) stays in flight until
 *    blk_wait or the disk's next request collects it, which the driver
 *    sees as collect() before anything else.
 */
#include <kernel/blkdev.h>
#include <kernel/errno.h>
#include <kernel/gpt.h>
#include <kernel/kernel.h>
#include <kernel/pci.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <mm/gfp.h>
#include <mm/kernel_pt.h>
#include <mm/page.h>
#include <mm/pgtable.h>
#include <mm/slab.h>
#include "../drivers/drivers.h"

static struct block_device *devices, **devices_tail = &devices;
static unsigned unnamed;

struct block_device *blk_first(void)
{
    return devices;
}

static bool ends_in_digit(const char *s)
{
    size_t n = strlen(s);
    return n && s[n - 1] >= '0' && s[n - 1] <= '9';
}

/* ---- the transfer path ------------------------------------------------------ */

/* The physical address behind a kernel virtual address: the direct map by
 * arithmetic, anything else (vmalloc, the kernel image) through the
 * kernel's tables.  false when nothing is mapped there. */
static bool kernel_virt_to_phys(const void *va, uint64_t *pa)
{
    const uint8_t *p = va;
    if (p >= node0->direct_map &&
        (uint64_t)(p - node0->direct_map) < node0->max_pfn << PAGE_SHIFT) {
        *pa = (uint64_t)(p - node0->direct_map);
        return true;
    }
    struct pt_view v;
    if (pt_walk(&kernel_pt, (uint64_t)p & ~(PAGE_SIZE - 1), &v) != 0 || v.payload)
        return false;
    *pa = v.pa + ((uint64_t)p - v.va);
    return true;
}

static int disk_rw(struct block_device *disk, uint64_t sector, uint64_t pa, uint32_t n,
                   bool write)
{
    int r = disk->ops->rw(disk, sector, pa, n, write);
    disk->requests++;
    return r ? -EIO : 0;
}

static void count_request(struct block_device *bd, struct block_device *disk, int r,
                          uint64_t sectors, bool write);

/* The disk's asynchronous read, if one is in flight: waited for, counted,
 * and its end called. */
static void collect(struct block_device *disk)
{
    struct blk_request *rq = disk->inflight;
    if (!rq)
        return;
    disk->inflight = NULL;
    rq->status = disk->ops->collect(disk) ? -EIO : 0;
    rq->busy = false;
    count_request(rq->bd, disk, rq->status, rq->sectors, false);
    rq->end(rq);
}

static int transfer(struct block_device *bd, uint64_t sector, uint8_t *buf, uint32_t count,
                    bool write)
{
    if (!bd || count == 0 || sector >= bd->nr_sectors || count > bd->nr_sectors - sector)
        return -EINVAL;
    struct block_device *disk = bd->whole ? bd->whole : bd;
    collect(disk);
    uint64_t lba = bd->start + sector;
    struct page *bounce = NULL;
    int r = 0;
    for (uint32_t done = 0; done < count;) {
        uint8_t *va = buf + (uint64_t)done * SECTOR_SIZE;
        uint32_t left = count - done;
        uint64_t in_page = PAGE_SIZE - ((uint64_t)va & (PAGE_SIZE - 1));
        uint32_t n = left;
        uint64_t pa;
        bool direct = ((uint64_t)va & (SECTOR_SIZE - 1)) == 0 && kernel_virt_to_phys(va, &pa);
        if (direct) {
            if ((uint64_t)n * SECTOR_SIZE > in_page)
                n = (uint32_t)(in_page / SECTOR_SIZE);
            direct = pa + (uint64_t)n * SECTOR_SIZE <= disk->dma_limit;
        }
        if (direct) {
            r = disk_rw(disk, lba + done, pa, n, write);
        } else {
            if (!bounce) {
                /* below 4 GiB, or 16 MiB for a device that reaches less */
                bounce = alloc_page(disk->dma_limit >= 1ul << 32 ? GFP_DMA32 : GFP_DMA);
                if (!bounce) {
                    r = -ENOMEM;
                    break;
                }
                if (page_to_phys(bounce) + PAGE_SIZE > disk->dma_limit) {
                    r = -EIO;           /* the device reaches too little */
                    break;
                }
            }
            n = left < PAGE_SIZE / SECTOR_SIZE ? left : PAGE_SIZE / SECTOR_SIZE;
            uint8_t *b = page_address(bounce);
            if (write)
                memcpy(b, va, (size_t)n * SECTOR_SIZE);
            r = disk_rw(disk, lba + done, page_to_phys(bounce), n, write);
            if (!r && !write)
                memcpy(va, b, (size_t)n * SECTOR_SIZE);
            bd->bounced++;
            if (bd != disk)
                disk->bounced++;
        }
        if (bd != disk)
            bd->requests++;
        if (r)
            break;
        done += n;
    }
    if (bounce)
        __free_pages(bounce, 0);
    if (r) {
        bd->errors++;
        if (bd != disk)
            disk->errors++;
        return r;
    }
    if (write) {
        bd->writes += count;
        if (bd != disk)
            disk->writes += count;
    } else {
        bd->reads += count;
        if (bd != disk)
            disk->reads += count;
    }
    return 0;
}

int blk_read(struct block_device *bd, uint64_t sector, void *buf, uint32_t count)
{
    return transfer(bd, sector, buf, count, false);
}

int blk_write(struct block_device *bd, uint64_t sector, const void *buf, uint32_t count)
{
    /* transfer only reads from buf when writing */
    return transfer(bd, sector, (uint8_t *)(uintptr_t)buf, count, true);
}

int blk_rw_page(struct block_device *bd, uint64_t sector, uint64_t pa, bool write)
{
    return blk_rw_pages(bd, sector, &pa, 1, write);
}

/* ---- multi-page requests ------------------------------------------------------ */

#define SPP (PAGE_SIZE / SECTOR_SIZE)

static void count_request(struct block_device *bd, struct block_device *disk, int r,
                          uint64_t sectors, bool write)
{
    for (struct block_device *d = bd;; d = disk) {
        d->requests++;
        if (r)
            d->errors++;
        else if (write)
            d->writes += sectors;
        else
            d->reads += sectors;
        if (d == disk)
            break;
    }
}

/* One request of n <= the driver's limit pages, all within reach. */
static int send_pages(struct block_device *disk, uint64_t lba, const uint64_t *pa, unsigned n,
                      bool write)
{
    if (disk->ops->rw_pages)
        return disk->ops->rw_pages(disk, lba, pa, n, write) ? -EIO : 0;
    for (unsigned i = 0; i < n; i++)
        if (disk->ops->rw(disk, lba + (uint64_t)i * SPP, pa[i], SPP, write))
            return -EIO;
    return 0;
}

/* blk_rw_pages' arguments: 0 or -EINVAL. */
static int check_pages(struct block_device *bd, uint64_t sector, const uint64_t *pa, unsigned n)
{
    if (!bd || !pa || n == 0 || n > BLK_MAX_PAGES || sector >= bd->nr_sectors ||
        (uint64_t)n * SPP > bd->nr_sectors - sector)
        return -EINVAL;
    for (unsigned i = 0; i < n; i++)
        if ((pa[i] & (PAGE_SIZE - 1)) || (pa[i] >> PAGE_SHIFT) >= node0->max_pfn)
            return -EINVAL;
    return 0;
}

int blk_rw_pages(struct block_device *bd, uint64_t sector, const uint64_t *pa, unsigned n,
                 bool write)
{
    if (check_pages(bd, sector, pa, n))
        return -EINVAL;
    struct block_device *disk = bd->whole ? bd->whole : bd;
    collect(disk);
    /* The frames the driver gets: the callers', or bounce pages for those
     * out of the device's reach. */
    uint64_t use[BLK_MAX_PAGES];
    struct page *bounce[BLK_MAX_PAGES];
    unsigned nb = 0;
    int r = 0;
    for (unsigned i = 0; i < n; i++)
        bounce[i] = NULL;
    for (unsigned i = 0; i < n; i++) {
        use[i] = pa[i];
        if (pa[i] + PAGE_SIZE <= disk->dma_limit)
            continue;
        bounce[i] = alloc_page(disk->dma_limit >= 1ul << 32 ? GFP_DMA32 : GFP_DMA);
        if (!bounce[i]) {
            r = -ENOMEM;
            break;
        }
        nb++;
        use[i] = page_to_phys(bounce[i]);
        if (use[i] + PAGE_SIZE > disk->dma_limit) {
            r = -EIO;                   /* the device reaches too little */
            break;
        }
        if (write)
            memcpy(page_address(bounce[i]), phys_to_virt(pa[i]), PAGE_SIZE);
    }
    unsigned max = disk->max_pages && disk->ops->rw_pages ? disk->max_pages : 1;
    uint64_t lba = bd->start + sector;
    for (unsigned done = 0; !r && done < n;) {
        unsigned k = n - done < max ? n - done : max;
        r = send_pages(disk, lba + (uint64_t)done * SPP, use + done, k, write);
        count_request(bd, disk, r, (uint64_t)k * SPP, write);
        done += k;
    }
    for (unsigned i = 0; i < n; i++) {
        if (!bounce[i])
            continue;
        if (!r && !write)
            memcpy(phys_to_virt(pa[i]), page_address(bounce[i]), PAGE_SIZE);
        __free_pages(bounce[i], 0);
    }
    if (nb) {
        bd->bounced += nb;
        if (bd != disk)
            disk->bounced += nb;
    }
    return r;
}

int blk_read_pages_async(struct block_device *bd, uint64_t sector, const uint64_t *pa,
                         unsigned n, struct blk_request *rq)
{
    if (check_pages(bd, sector, pa, n) || !rq || !rq->end || rq->busy)
        return -EINVAL;
    struct block_device *disk = bd->whole ? bd->whole : bd;
    collect(disk);
    *rq = (struct blk_request){ .end = rq->end, .bd = bd, .disk = disk,
                                .sectors = (uint64_t)n * SPP };
    bool reach = n <= disk->max_pages;
    for (unsigned i = 0; i < n; i++)
        reach = reach && pa[i] + PAGE_SIZE <= disk->dma_limit;
    if (!disk->ops->send_pages || !reach || disk->ops->send_pages(disk, bd->start + sector, pa, n,
                                                                  false)) {
        /* No way to send it and come back, or the device refused it:
         * the read done here, whole (bounced, split, retried). */
        rq->status = blk_rw_pages(bd, sector, pa, n, false);
        rq->end(rq);
        return 0;
    }
    rq->busy = true;
    disk->inflight = rq;
    return 0;
}

void blk_wait(struct blk_request *rq)
{
    if (rq && rq->busy)
        collect(rq->disk);
}

/* ---- registration -------------------------------------------------------- */

static int gpt_read_sector(void *ctx, uint64_t lba, void *buf)
{
    return blk_read(ctx, lba, buf, 1);
}

static void size_text(char *buf, size_t size, uint64_t sectors)
{
    format_size(buf, size, sectors * SECTOR_SIZE);
}

static void add_partitions(struct block_device *disk)
{
    struct gpt_table *t = kmalloc(sizeof(*t), GFP_KERNEL);
    if (!t) {
        printk("blk: %s: no memory to read its partition table\n", disk->name);
        return;
    }
    char why[128];
    int n = gpt_parse(disk->nr_sectors, gpt_read_sector, disk, t, why, sizeof(why));
    if (n == -ENOENT) {
        printk("blk: %s: no GPT\n", disk->name);
    } else if (n < 0) {
        printk("blk: %s: warning: GPT ignored: %s\n", disk->name, why);
    } else {
        if (t->from_backup)
            printk("blk: %s: warning: primary GPT refused (%s), using the backup\n",
                   disk->name, why);
        for (int i = 0; i < n; i++) {
            const struct gpt_part *p = &t->part[i];
            struct block_device *pd = kmalloc(sizeof(*pd), GFP_KERNEL);
            if (!pd) {
                printk("blk: %s: no memory for partition %u\n", disk->name, p->index);
                break;
            }
            memset(pd, 0, sizeof(*pd));
            snprintf(pd->name, sizeof(pd->name), "%s%s%u", disk->name,
                     ends_in_digit(disk->name) ? "p" : "", p->index);
            pd->nr_sectors = p->last - p->first + 1;
            pd->dma_limit = disk->dma_limit;
            pd->max_pages = disk->max_pages;
            pd->ops = disk->ops;
            pd->priv = disk->priv;
            pd->whole = disk;
            pd->start = p->first;
            memcpy(pd->part_uuid, p->uuid, 16);
            memcpy(pd->part_type, p->type, 16);
            if (blk_register(pd))
                kfree(pd);                      /* a name taken: said already */
        }
    }
    kfree(t);
}

int blk_register(struct block_device *bd)
{
    if (!bd || !bd->ops || !bd->ops->rw || bd->nr_sectors == 0)
        return -EINVAL;
    if (!bd->name[0])
        snprintf(bd->name, sizeof(bd->name), "disk%u", unnamed++);
    if (blk_find(bd->name)) {
        printk("blk: %s: a device of that name exists, not registered\n", bd->name);
        return -EEXIST;
    }
    bd->next = NULL;
    *devices_tail = bd;
    devices_tail = &bd->next;
    char size[32];
    size_text(size, sizeof(size), bd->nr_sectors);
    if (bd->whole) {
        char uuid[37];
        gpt_guid_to_text(bd->part_uuid, uuid);
        printk("blk: %s: sectors %lu..%lu of %s (%s), PARTUUID=%s\n", bd->name, bd->start,
               bd->start + bd->nr_sectors - 1, bd->whole->name, size, uuid);
        return 0;
    }
    printk("blk: %s: %lu sectors (%s), DMA below %#lx\n", bd->name, bd->nr_sectors, size,
           bd->dma_limit);
    add_partitions(bd);
    return 0;
}

/* ---- look-ups -------------------------------------------------------------- */

struct block_device *blk_find(const char *spec)
{
    if (!spec)
        return NULL;
    if (strncmp(spec, "/dev/", 5) == 0)
        spec += 5;
    bool by_uuid = strncmp(spec, "PARTUUID=", 9) == 0 || strncmp(spec, "partuuid=", 9) == 0;
    uint8_t uuid[16];
    if (by_uuid && gpt_guid_from_text(spec + 9, uuid) != 0)
        return NULL;
    for (struct block_device *bd = devices; bd; bd = bd->next) {
        if (by_uuid ? bd->whole && memcmp(bd->part_uuid, uuid, 16) == 0
                    : strcmp(bd->name, spec) == 0)
            return bd;
    }
    return NULL;
}

void blk_init(void)
{
    static const struct pci_driver drivers[] = {
        { "virtio-blk", 0x1af4, 0x1001, 0, 0, 0, virtio_blk_probe },   /* transitional */
        { "virtio-blk", 0x1af4, 0x1042, 0, 0, 0, virtio_blk_probe },   /* modern only */
        { "nvme", PCI_ANY_ID, 0, 0x01, 0x08, 0x02, nvme_probe },       /* class NVMe */
    };
    pci_scan();
    pci_probe_drivers(drivers, ARRAY_SIZE(drivers));
    unsigned n = 0;
    for (struct block_device *bd = devices; bd; bd = bd->next)
        n++;
    printk("blk: %u block devices\n", n);
}
