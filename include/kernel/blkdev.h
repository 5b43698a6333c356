/*
 * Block devices (kernel/block/; docs/block.md): disks the kernel reads
 * and writes in 512-byte sectors, found on the PCI bus (virtio-blk,
 * NVMe), and their GPT partitions.  What swap needs (include/mm/swap.h),
 * small enough to read: one request in flight per disk.
 *
 * Context: one CPU, a kernel that is not preemptible.  A request may
 * sleep until its completion interrupt, or poll the device when
 * interrupts are off or before the scheduler runs; either way it returns
 * when the data is in memory (read) or on the device (write).  The one
 * exception, blk_read_pages_async, returns once the device has the
 * request, and whoever needs the disk (or the data) next collects it.
 */
#ifndef KERNEL_BLKDEV_H
#define KERNEL_BLKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECTOR_SIZE 512u

struct block_device;

/* What a driver provides.  rw: transfer count sectors from/to the
 * physical memory at pa (contiguous, sector aligned, within the device's
 * DMA reach: the block layer bounces otherwise); 0 or -EIO.
 * rw_pages (optional): n whole pages, pa[0..n-1] (page aligned, within
 * reach, not contiguous), to or from the n * 8 consecutive sectors at
 * sector, in one device request; n is 1..bd->max_pages; 0 or -EIO.
 * Without it the layer sends each page through rw.
 * send_pages and collect (optional, both or neither): rw_pages in two
 * halves, the request handed to the device (0 or -EIO, nothing sent),
 * then its end waited for (0 or -EIO); the layer calls nothing else of
 * the driver in between.  Without them an asynchronous read is done
 * synchronously. */
struct block_ops {
    int (*rw)(struct block_device *bd, uint64_t sector, uint64_t pa, uint32_t count, bool write);
    int (*rw_pages)(struct block_device *bd, uint64_t sector, const uint64_t *pa, unsigned n,
                    bool write);
    int (*send_pages)(struct block_device *bd, uint64_t sector, const uint64_t *pa, unsigned n,
                      bool write);
    int (*collect)(struct block_device *bd);
};

/*
 * A read sent without waiting for it (Linux's submit_bio and bi_end_io).
 * The caller owns the structure and sets `end`; the layer fills the rest.
 * Once the request is over, end(rq) runs exactly once with rq->status 0
 * or -EIO: inside blk_read_pages_async itself when the read had to be
 * done synchronously, else in whichever later call collects it
 * (blk_wait, or any request to the same disk).  end runs in process
 * context and must not send block requests.
 */
struct blk_request {
    void (*end)(struct blk_request *rq);
    int status;
    bool busy;                  /* in the device's hands: not collected yet */
    struct block_device *bd;    /* as given, and its whole disk */
    struct block_device *disk;
    uint64_t sectors;
};

/* The most pages blk_rw_pages takes in one call (256 KiB). */
#define BLK_MAX_PAGES 64u

struct block_device {
    char name[16];              /* "vda", "nvme0n1", a partition: "vda2", "nvme0n1p1" */
    uint64_t nr_sectors;        /* size in 512-byte sectors */
    uint64_t dma_limit;         /* highest physical address + 1 the device can reach */
    const struct block_ops *ops;
    void *priv;                 /* the driver's */
    /* A partition: its whole disk and first sector (NULL and 0 for a
     * whole disk). */
    struct block_device *whole;
    uint64_t start;
    uint8_t part_uuid[16];      /* a GPT partition's unique GUID (PARTUUID), else zeros */
    uint8_t part_type[16];      /* a GPT partition's type GUID, else zeros */
    uint64_t reads, writes;     /* sectors transferred (statistics) */
    uint64_t errors;            /* requests that failed */
    uint64_t bounced;           /* chunks copied through a bounce page */
    uint64_t requests;          /* requests sent to the driver */
    unsigned max_pages;         /* rw_pages' limit per request (the driver's; 0: 1) */
    struct blk_request *inflight; /* a whole disk's asynchronous read not collected yet */
    struct block_device *next;  /* the list of all devices */
};

/* A driver found a disk: the layer names it (if name is empty), reads
 * its GPT (if any) and registers its partitions.  0, -ENOMEM. */
int blk_register(struct block_device *bd);
/* By name ("vda", "vda2"), "/dev/vda2", or "PARTUUID=<guid>" (case
 * insensitive, Linux's text form); NULL when none. */
struct block_device *blk_find(const char *spec);
/* The first registered device (then ->next), for listings. */
struct block_device *blk_first(void);

/*
 * Transfer count sectors at sector (relative to the device or partition)
 * from/to the kernel buffer buf (any kernel address: direct map, slab,
 * vmalloc; the layer copies through a DMA-reachable bounce page when it
 * must).  0, -EINVAL (past the end, count 0), -EIO (the device said so:
 * counted in bd->errors).
 */
int blk_read(struct block_device *bd, uint64_t sector, void *buf, uint32_t count);
int blk_write(struct block_device *bd, uint64_t sector, const void *buf, uint32_t count);
/* One page (8 sectors) to or from the frame at pa, as swap does.  The
 * same errors. */
int blk_rw_page(struct block_device *bd, uint64_t sector, uint64_t pa, bool write);
/*
 * n pages, the frames at pa[0..n-1] (page aligned, anywhere in RAM, in
 * any order), to or from the n * 8 consecutive sectors starting at
 * sector, as one device request (Linux's bio of n segments): the
 * virtio-blk driver chains one descriptor per page, NVMe lists them in
 * a PRP list.  A frame the device cannot reach goes through a bounce
 * page of its own.  A driver that takes fewer pages per request
 * (bd->max_pages) gets several requests, in order.  0, -EINVAL (n 0 or
 * above BLK_MAX_PAGES, past the end, a frame not page aligned or not RAM:
 * nothing is sent), -ENOMEM (no bounce page), -EIO.
 */
int blk_rw_pages(struct block_device *bd, uint64_t sector, const uint64_t *pa, unsigned n,
                 bool write);

/*
 * Read n pages, as blk_rw_pages, without waiting for the device: rq->end
 * runs when the read is over (see struct blk_request).  The frames must
 * not be touched until then.  0: sent, or done already (end has run);
 * blk_rw_pages' -EINVAL: nothing sent and end not called.
 */
int blk_read_pages_async(struct block_device *bd, uint64_t sector, const uint64_t *pa,
                         unsigned n, struct blk_request *rq);
/* Wait for rq if it is still in flight: on return its end has run. */
void blk_wait(struct blk_request *rq);

/* Probe the PCI bus and start every driver that finds its device (at
 * boot, after the allocators and vmalloc/ioremap are up). */
void blk_init(void);

#endif
