/*
 * Block device nodes in /dev (kernel/fs/blkdev_node.c): every disk and
 * partition the block layer registered gets /dev/<name>, a block special
 * file whose number leads back to it (swapon and swapoff go from a path
 * to a struct block_device through it).  Numbers as Linux gives them:
 * virtio disks 254:(16 x disk + partition) (vda 254:0, vda2 254:2, vdb
 * 254:16), everything else 259:n in registration order (Linux's
 * "blkext" major, which NVMe namespaces use).
 */
#ifndef KERNEL_BLKDEV_NODE_H
#define KERNEL_BLKDEV_NODE_H

#include <stdint.h>

struct block_device;

/* LINUX_MKDEV(major, minor) of bd. */
uint64_t blkdev_rdev(const struct block_device *bd);
/* The registered device with that number, or NULL. */
struct block_device *blkdev_by_rdev(uint64_t rdev);
/* Make /dev/<name> for every registered device that has none (after
 * blk_init); the number of nodes made. */
int blkdev_make_nodes(void);

#endif
