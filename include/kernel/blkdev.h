/*
 * Block devices (kernel/block/; docs/block.md): disks the kernel reads
 * and writes in 512-byte sectors, found on the PCI bus (virtio-blk,
 * NVMe), and their GPT partitions.  What swap needs (include/mm/swap.h),
 * small enough to read: one request at a time, synchronous.
 *
 * Context: one CPU, a kernel that is not preemptible.  A request may
 * sleep until its completion interrupt, or poll the device when
 * interrupts are off or before the scheduler runs; either way it returns
 * when the data is in memory (read) or on the device (write).
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
 * Without it the layer sends each page through rw. */
struct block_ops {
    int (*rw)(struct block_device *bd, uint64_t sector, uint64_t pa, uint32_t count, bool write);
    int (*rw_pages)(struct block_device *bd, uint64_t sector, const uint64_t *pa, unsigned n,
                    bool write);
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

/* Probe the PCI bus and start every driver that finds its device (at
 * boot, after the allocators and vmalloc/ioremap are up). */
void blk_init(void);

#endif
