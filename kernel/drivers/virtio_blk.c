/*
 * virtio-blk over the virtio 1.0 ("modern") PCI transport (docs/block.md).
 *
 * The device describes itself through vendor-specific PCI capabilities,
 * each pointing into one of its memory BARs: the common configuration
 * (features, status, queue set-up), the notification area (doorbells),
 * the ISR status, and the device's own configuration (the capacity).
 * Start-up as the specification orders it: reset, ACKNOWLEDGE, DRIVER,
 * features (VIRTIO_F_VERSION_1 must be offered and is all we take),
 * FEATURES_OK read back, queue 0 set up, DRIVER_OK.
 *
 * One split virtqueue: a descriptor table, the available ring (driver to
 * device) and the used ring (device to driver), all in one zeroed
 * ZONE_DMA32 page.  A request is a chain of descriptors: the 16-byte
 * header (type, sector), the data (one descriptor for a contiguous
 * buffer, one per page for a list of pages: vblk_rw_pages), the one-byte
 * status the device writes.  Interrupts are suppressed (VIRTQ_AVAIL_F_NO_INTERRUPT,
 * no MSI-X vector): the driver polls the used ring.
 *
 * Invariant: at most one request in flight (the block layer collects an
 * asynchronous read, vblk_wait, before it sends anything else);
 * avail_idx and last_used are equal between requests.  A device that does not answer within the
 * timeout is marked dead and every later request fails with -EIO.
 */
#include <kernel/blkdev.h>
#include <kernel/errno.h>
#include <kernel/pci.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include <mm/gfp.h>
#include <mm/page.h>
#include <mm/slab.h>
#include "drivers.h"

/* Capability types (struct virtio_pci_cap.cfg_type). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* The common configuration structure's fields. */
#define VC_DEVICE_FEATURE_SELECT 0x00
#define VC_DEVICE_FEATURE        0x04
#define VC_DRIVER_FEATURE_SELECT 0x08
#define VC_DRIVER_FEATURE        0x0c
#define VC_MSIX_CONFIG           0x10
#define VC_NUM_QUEUES            0x12
#define VC_DEVICE_STATUS         0x14
#define VC_QUEUE_SELECT          0x16
#define VC_QUEUE_SIZE            0x18
#define VC_QUEUE_MSIX_VECTOR     0x1a
#define VC_QUEUE_ENABLE          0x1c
#define VC_QUEUE_NOTIFY_OFF      0x1e
#define VC_QUEUE_DESC            0x20
#define VC_QUEUE_DRIVER          0x28
#define VC_QUEUE_DEVICE          0x30

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER      2
#define STATUS_DRIVER_OK   4
#define STATUS_FEATURES_OK 8
#define STATUS_NEEDS_RESET 64
#define STATUS_FAILED      128

#define VIRTIO_F_VERSION_1 32
#define VIRTIO_MSI_NO_VECTOR 0xffff

#define VIRTQ_DESC_F_NEXT  1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

#define VIRTIO_BLK_T_IN  0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_S_OK  0

#define QUEUE_MAX 128           /* entries we use, at most */
#define TIMEOUT_MS 5000

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtio_blk_req {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

/* Where each part lives inside the one DMA page. */
#define OFF_DESC   0                        /* 16 * QUEUE_MAX = 2048 */
#define OFF_AVAIL  2048                     /* 6 + 2 * QUEUE_MAX = 262 */
#define OFF_USED   2312                     /* 6 + 8 * QUEUE_MAX = 1030, 4-aligned */
#define OFF_HDR    3344
#define OFF_STATUS 3360
_Static_assert(OFF_AVAIL >= 16 * QUEUE_MAX && OFF_USED >= OFF_AVAIL + 6 + 2 * QUEUE_MAX &&
               OFF_HDR >= OFF_USED + 6 + 8 * QUEUE_MAX && OFF_STATUS < 4096,
               "the queue's parts fit the page without overlapping");

struct vblk {
    struct block_device bd;
    struct pci_dev *pd;
    volatile uint8_t *common, *notify, *devcfg;
    uint16_t qsize;
    uint16_t avail_idx, last_used;
    struct page *page;          /* the queue, the header, the status */
    uint8_t *mem;
    uint64_t mem_pa;
    bool dead;
    uint64_t sector;            /* the request in flight, for the messages */
    uint32_t count;
    bool write;
};

static unsigned vblk_count;

static inline uint8_t rd8(volatile uint8_t *b, unsigned off) { return b[off]; }
static inline uint16_t rd16(volatile uint8_t *b, unsigned off)
{
    return *(volatile uint16_t *)(b + off);
}
static inline uint32_t rd32(volatile uint8_t *b, unsigned off)
{
    return *(volatile uint32_t *)(b + off);
}
static inline void wr8(volatile uint8_t *b, unsigned off, uint8_t v) { b[off] = v; }
static inline void wr16(volatile uint8_t *b, unsigned off, uint16_t v)
{
    *(volatile uint16_t *)(b + off) = v;
}
static inline void wr32(volatile uint8_t *b, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(b + off) = v;
}
static inline void wr64(volatile uint8_t *b, unsigned off, uint64_t v)
{
    wr32(b, off, (uint32_t)v);
    wr32(b, off + 4, (uint32_t)(v >> 32));
}

/* Send the chain whose header is desc[0] and status desc[n + 1] (the
 * data in desc[1..n]); vblk_wait collects the device's answer. */
static void vblk_send(struct block_device *bd, uint64_t sector, unsigned n, uint32_t count,
                      bool write)
{
    struct vblk *v = bd->priv;
    struct virtq_desc *desc = (struct virtq_desc *)(v->mem + OFF_DESC);
    volatile uint16_t *avail = (volatile uint16_t *)(v->mem + OFF_AVAIL);
    struct virtio_blk_req *hdr = (struct virtio_blk_req *)(v->mem + OFF_HDR);
    volatile uint8_t *status = v->mem + OFF_STATUS;

    hdr->type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
    hdr->reserved = 0;
    hdr->sector = sector;
    *status = 0xff;
    desc[0] = (struct virtq_desc){ v->mem_pa + OFF_HDR, sizeof(*hdr), VIRTQ_DESC_F_NEXT, 1 };
    desc[n + 1] = (struct virtq_desc){ v->mem_pa + OFF_STATUS, 1, VIRTQ_DESC_F_WRITE, 0 };
    /* The ring entry, then (ordered after it) the index the device reads. */
    avail[2 + v->avail_idx % v->qsize] = 0;
    barrier();
    v->avail_idx++;
    avail[1] = v->avail_idx;
    barrier();
    wr16(v->notify, 0, 0);              /* the doorbell: queue 0 has news */
    v->sector = sector;
    v->count = count;
    v->write = write;
}

/* The answer to the request in flight: 0 or -EIO. */
static int vblk_wait(struct block_device *bd)
{
    struct vblk *v = bd->priv;
    volatile uint16_t *used = (volatile uint16_t *)(v->mem + OFF_USED);
    volatile uint8_t *status = v->mem + OFF_STATUS;
    uint64_t sector = v->sector;
    struct pci_timeout t;
    pci_timeout_start(&t, TIMEOUT_MS);
    while (used[1] == v->last_used) {
        if (pci_timeout_expired(&t)) {
            printk("virtio-blk: %s: no answer within %u ms (sector %lu); the device is "
                   "given up\n", bd->name, TIMEOUT_MS, sector);
            v->dead = true;
            return -EIO;
        }
    }
    barrier();
    v->last_used++;
    if (*status != VIRTIO_BLK_S_OK) {
        printk("virtio-blk: %s: %s of %u sectors at %lu failed (status %u)\n", bd->name,
               v->write ? "write" : "read", v->count, sector, *status);
        return -EIO;
    }
    return 0;
}

static int vblk_rw(struct block_device *bd, uint64_t sector, uint64_t pa, uint32_t count,
                   bool write)
{
    struct vblk *v = bd->priv;
    if (v->dead || count == 0 || count > (1u << 22) / SECTOR_SIZE)
        return -EIO;
    struct virtq_desc *desc = (struct virtq_desc *)(v->mem + OFF_DESC);
    desc[1] = (struct virtq_desc){ pa, count * SECTOR_SIZE,
                                   (uint16_t)(VIRTQ_DESC_F_NEXT | (write ? 0 : VIRTQ_DESC_F_WRITE)),
                                   2 };
    vblk_send(bd, sector, 1, count, write);
    return vblk_wait(bd);
}

/* n pages in one request (header, one descriptor per page, status),
 * handed to the device: the block layer's send_pages. */
static int vblk_send_pages(struct block_device *bd, uint64_t sector, const uint64_t *pa,
                           unsigned n, bool write)
{
    struct vblk *v = bd->priv;
    if (v->dead || n == 0 || n + 2 > v->qsize)
        return -EIO;
    struct virtq_desc *desc = (struct virtq_desc *)(v->mem + OFF_DESC);
    uint16_t flags = (uint16_t)(VIRTQ_DESC_F_NEXT | (write ? 0 : VIRTQ_DESC_F_WRITE));
    for (unsigned i = 0; i < n; i++)
        desc[i + 1] = (struct virtq_desc){ pa[i], PAGE_SIZE, flags, (uint16_t)(i + 2) };
    vblk_send(bd, sector, n, n * (uint32_t)(PAGE_SIZE / SECTOR_SIZE), write);
    return 0;
}

static int vblk_rw_pages(struct block_device *bd, uint64_t sector, const uint64_t *pa,
                         unsigned n, bool write)
{
    int r = vblk_send_pages(bd, sector, pa, n, write);
    return r ? r : vblk_wait(bd);
}

static const struct block_ops vblk_ops = { .rw = vblk_rw, .rw_pages = vblk_rw_pages,
                                           .send_pages = vblk_send_pages, .collect = vblk_wait };

/* The structure of capability type `type`, mapped: its address, or NULL. */
static volatile uint8_t *find_cfg(struct pci_dev *pd, uint8_t type, uint32_t min_len,
                                  uint8_t *cap_at, uint32_t *length)
{
    for (uint8_t at = pci_find_cap(pd, PCI_CAP_ID_VNDR, 0); at;
         at = pci_find_cap(pd, PCI_CAP_ID_VNDR, at)) {
        if (pci_read8(pd, (uint8_t)(at + 3)) != type)
            continue;
        uint8_t bar = pci_read8(pd, (uint8_t)(at + 4));
        uint32_t off = pci_read32(pd, (uint8_t)(at + 8));
        uint32_t len = pci_read32(pd, (uint8_t)(at + 12));
        if (bar >= PCI_MAX_BARS || pd->bar[bar].io || len < min_len ||
            (uint64_t)off + len > pd->bar[bar].size)
            continue;                   /* unusable: try another of the type */
        uint8_t *base = pci_map_bar(pd, bar);
        if (!base)
            return NULL;
        if (cap_at)
            *cap_at = at;
        if (length)
            *length = len;
        return base + off;
    }
    return NULL;
}

static int wait_reset(struct vblk *v)
{
    struct pci_timeout t;
    pci_timeout_start(&t, TIMEOUT_MS);
    while (rd8(v->common, VC_DEVICE_STATUS) != 0)
        if (pci_timeout_expired(&t))
            return -ETIMEDOUT;
    return 0;
}

static int fail(struct vblk *v, const char *name, const char *why, int err)
{
    printk("virtio-blk: %s: %s\n", name, why);
    if (v->common)
        wr8(v->common, VC_DEVICE_STATUS, STATUS_FAILED);
    if (v->page)
        __free_pages(v->page, 0);
    kfree(v);
    return err;
}

int virtio_blk_probe(struct pci_dev *pd)
{
    char name[16];
    pci_name(pd, name, sizeof(name));
    struct vblk *v = kmalloc(sizeof(*v), GFP_KERNEL);
    if (!v)
        return -ENOMEM;
    memset(v, 0, sizeof(*v));
    v->pd = pd;
    pci_enable_device(pd);
    uint8_t notify_cap = 0;
    uint32_t notify_len = 0;
    v->common = find_cfg(pd, VIRTIO_PCI_CAP_COMMON_CFG, 0x38, NULL, NULL);
    v->notify = find_cfg(pd, VIRTIO_PCI_CAP_NOTIFY_CFG, 2, &notify_cap, &notify_len);
    v->devcfg = find_cfg(pd, VIRTIO_PCI_CAP_DEVICE_CFG, 8, NULL, NULL);
    if (!v->common || !v->notify || !v->devcfg) {
        v->common = NULL;
        return fail(v, name, "no usable virtio 1.0 capabilities in memory BARs "
                    "(a legacy-only device?)", -ENODEV);
    }
    uint32_t notify_mult = pci_read32(pd, (uint8_t)(notify_cap + 16));

    wr8(v->common, VC_DEVICE_STATUS, 0);                /* reset */
    if (wait_reset(v))
        return fail(v, name, "the device does not come out of reset", -ETIMEDOUT);
    wr8(v->common, VC_DEVICE_STATUS, STATUS_ACKNOWLEDGE);
    wr8(v->common, VC_DEVICE_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);

    wr32(v->common, VC_DEVICE_FEATURE_SELECT, 1);
    uint32_t hi = rd32(v->common, VC_DEVICE_FEATURE);
    if (!(hi & (1u << (VIRTIO_F_VERSION_1 - 32))))
        return fail(v, name, "VIRTIO_F_VERSION_1 not offered", -ENODEV);
    wr32(v->common, VC_DRIVER_FEATURE_SELECT, 0);
    wr32(v->common, VC_DRIVER_FEATURE, 0);
    wr32(v->common, VC_DRIVER_FEATURE_SELECT, 1);
    wr32(v->common, VC_DRIVER_FEATURE, 1u << (VIRTIO_F_VERSION_1 - 32));
    wr8(v->common, VC_DEVICE_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
    if (!(rd8(v->common, VC_DEVICE_STATUS) & STATUS_FEATURES_OK))
        return fail(v, name, "the device refused our features", -ENODEV);

    if (rd16(v->common, VC_NUM_QUEUES) < 1)
        return fail(v, name, "no virtqueue", -ENODEV);
    wr16(v->common, VC_QUEUE_SELECT, 0);
    uint16_t qmax = rd16(v->common, VC_QUEUE_SIZE);
    if (qmax < 3)
        return fail(v, name, "queue 0 is too small for a request", -ENODEV);
    v->qsize = qmax < QUEUE_MAX ? qmax : QUEUE_MAX;
    v->page = alloc_page(GFP_DMA32);
    if (!v->page)
        return fail(v, name, "no memory for the queue", -ENOMEM);
    v->mem = page_address(v->page);
    v->mem_pa = page_to_phys(v->page);
    memset(v->mem, 0, PAGE_SIZE);
    ((uint16_t *)(v->mem + OFF_AVAIL))[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
    wr16(v->common, VC_QUEUE_SIZE, v->qsize);
    wr16(v->common, VC_QUEUE_MSIX_VECTOR, VIRTIO_MSI_NO_VECTOR);
    wr16(v->common, VC_MSIX_CONFIG, VIRTIO_MSI_NO_VECTOR);
    wr64(v->common, VC_QUEUE_DESC, v->mem_pa + OFF_DESC);
    wr64(v->common, VC_QUEUE_DRIVER, v->mem_pa + OFF_AVAIL);
    wr64(v->common, VC_QUEUE_DEVICE, v->mem_pa + OFF_USED);
    uint64_t qoff = (uint64_t)rd16(v->common, VC_QUEUE_NOTIFY_OFF) * notify_mult;
    if (qoff + 2 > notify_len)
        return fail(v, name, "queue 0's doorbell lies outside the notification area", -ENODEV);
    v->notify += qoff;
    wr16(v->common, VC_QUEUE_ENABLE, 1);
    wr8(v->common, VC_DEVICE_STATUS,
        STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
    if (rd8(v->common, VC_DEVICE_STATUS) & STATUS_NEEDS_RESET)
        return fail(v, name, "the device needs a reset after DRIVER_OK", -EIO);

    uint64_t capacity = rd32(v->devcfg, 0) | (uint64_t)rd32(v->devcfg, 4) << 32;
    if (capacity == 0)
        return fail(v, name, "capacity of 0 sectors", -ENODEV);
    if (vblk_count >= 26)
        return fail(v, name, "more than 26 virtio disks", -ENOSPC);
    snprintf(v->bd.name, sizeof(v->bd.name), "vd%c", 'a' + vblk_count++);
    v->bd.nr_sectors = capacity;
    v->bd.dma_limit = ~0ul;             /* 64-bit descriptors */
    v->bd.ops = &vblk_ops;
    v->bd.priv = v;
    v->bd.max_pages = v->qsize - 2u < BLK_MAX_PAGES ? v->qsize - 2u : BLK_MAX_PAGES;
    printk("virtio-blk: %s: %s, queue of %u (device max %u), %lu sectors\n", name,
           v->bd.name, v->qsize, qmax, capacity);
    int r = blk_register(&v->bd);
    if (r) {
        wr8(v->common, VC_DEVICE_STATUS, 0);
        __free_pages(v->page, 0);
        kfree(v);
    }
    return r;
}
