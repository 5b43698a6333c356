/*
 * Block device nodes in /dev (include/kernel/blkdev_node.h).
 *
 * The number of a device is computed from its name and its place in the
 * block layer's list, never stored: a virtio disk "vd<letter>" and its
 * partitions "vd<letter><n>" get major 254 and minor 16 x (letter - 'a')
 * + n, as Linux's virtio_blk (whose major is dynamic, 254 or 253 on
 * most machines); any other device gets major 259 and the next minor, in
 * list order.  blkdev_by_rdev walks the list with the same rule.
 *
 * Nodes are made once, at boot after blk_init (kernel/fs/sys_swap.c's
 * swap_boot), mode 0660 as udev makes them.  Opening one still gives
 * -ENXIO (kernel/fs/chrdev.c): only swapon and swapoff use them.
 */
#include <kernel/blkdev.h>
#include <kernel/blkdev_node.h>
#include <kernel/file.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/vfs.h>

#define VIRTIO_BLK_MAJOR 254
#define BLOCK_EXT_MAJOR  259

/* vd<letter> or vd<letter><1..15>: the minor, else -1. */
static int virtio_minor(const char *name)
{
    if (name[0] != 'v' || name[1] != 'd' || name[2] < 'a' || name[2] > 'p')
        return -1;
    int disk = name[2] - 'a', part = 0;
    const char *p = name + 3;
    if (*p == '0')
        return -1;
    while (*p >= '0' && *p <= '9') {
        part = part * 10 + (*p - '0');
        if (part > 15)
            return -1;
        p++;
    }
    return *p ? -1 : disk * 16 + part;
}

uint64_t blkdev_rdev(const struct block_device *bd)
{
    int m = virtio_minor(bd->name);
    if (m >= 0)
        return LINUX_MKDEV(VIRTIO_BLK_MAJOR, (unsigned)m);
    unsigned n = 0;
    for (struct block_device *o = blk_first(); o && o != bd; o = o->next)
        if (virtio_minor(o->name) < 0)
            n++;
    return LINUX_MKDEV(BLOCK_EXT_MAJOR, n);
}

struct block_device *blkdev_by_rdev(uint64_t rdev)
{
    for (struct block_device *bd = blk_first(); bd; bd = bd->next)
        if (blkdev_rdev(bd) == rdev)
            return bd;
    return NULL;
}

int blkdev_make_nodes(void)
{
    if (!blk_first())
        return 0;   /* no disk: the root file system is not needed yet */
    struct inode *root = vfs_root(), *dev;
    if (!root || lookup_one(root, "dev", 3, true, &dev) != 0)
        return 0;
    int made = 0;
    for (struct block_device *bd = blk_first(); bd; bd = bd->next) {
        size_t len = strlen(bd->name);
        if (!S_ISDIR(dev->mode) || dir_find(dev, bd->name, len))
            continue;
        int err = tmpfs_create(dev, bd->name, len, S_IFBLK | 0660, blkdev_rdev(bd), NULL);
        if (err)
            printk("blk: /dev/%s: cannot make the node (error %d)\n", bd->name, err);
        else
            made++;
    }
    inode_put(dev);
    return made;
}
