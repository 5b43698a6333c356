/*
 * The system calls swapon(path, flags) and swapoff(path), and the swap=
 * boot option (docs/swap.md).  The work is mm/'s (include/mm/swap.h);
 * this file goes from a path to a block device and checks the caller.
 *
 * Errors as Linux's, in Linux's order: -EINVAL for unknown flags; -EPERM
 * for a caller that is not root (Linux asks for CAP_SYS_ADMIN) and for a
 * table already holding MAX_SWAPFILES areas; the path's own errors
 * (-EFAULT, -ENOENT, -ENOTDIR, -ENAMETOOLONG, -ELOOP); -EISDIR for a
 * directory (Linux opens the path for writing); -EINVAL for anything
 * that is not a block device (swap files are not supported) and for a
 * device without a valid header; -ENXIO for a node no device answers;
 * -EBUSY for a device, disk or partition already in use.  swapoff: the
 * same path errors (-ENXIO too: Linux opens the device), -EINVAL when the
 * device is not an area, -EBUSY when slots are still
 * used and nothing can bring them back (mm/swapon.c).
 */
#include <kernel/blkdev.h>
#include <kernel/blkdev_node.h>
#include <kernel/cmdline.h>
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/vfs.h>
#include <mm/slab.h>
#include <mm/swap.h>
#include "fs_impl.h"

/*
 * The device a path names, and the path /proc/swaps shows (the directory
 * the node is in, links followed, and its name) into shown.
 */
static int path_to_bdev(uint64_t upath, struct block_device **out, char *shown, size_t size)
{
    char *path;
    long n = getname(upath, &path, false);
    if (n < 0)
        return (int)n;
    struct inode *ino, *dir;
    char last[NAME_MAX + 1];
    int err = namei_at(NULL, path, LOOKUP_FOLLOW, &ino, &dir, last);
    kfree(path);
    if (err)
        return err;
    *out = NULL;
    if (S_ISDIR(ino->mode))
        err = -EISDIR;
    else if ((ino->mode & S_IFMT) != S_IFBLK)
        err = -EINVAL;
    else if (!(*out = blkdev_by_rdev(ino->rdev)))
        err = -ENXIO;
    if (!err) {
        long len = dir_path(dir, shown, size);
        if (len < 0)
            snprintf(shown, size, "/dev/%s", (*out)->name);
        else
            snprintf(shown + len, size - (size_t)len, "%s%s", len > 1 ? "/" : "", last);
    }
    inode_put(ino);
    inode_put(dir);
    return err;
}

static bool table_full(void)
{
    for (unsigned t = 0; t < MAX_SWAPFILES; t++)
        if (!(swap_info[t].flags & SWP_USED))
            return false;
    return true;
}

long sys_swapon(const struct sysargs *a)
{
    unsigned flags = (unsigned)a->arg[1];
    if (flags & ~SWAP_FLAGS_VALID)
        return -EINVAL;
    if (current->euid != 0)
        return -EPERM;
    if (table_full())
        return -EPERM;
    struct block_device *bd;
    char shown[64], why[128];
    int err = path_to_bdev(a->arg[0], &bd, shown, sizeof(shown));
    if (err)
        return err;
    err = swap_activate(bd, shown, flags, why, sizeof(why));
    return err < 0 ? err : 0;
}

long sys_swapoff(const struct sysargs *a)
{
    if (current->euid != 0)
        return -EPERM;
    struct block_device *bd;
    char shown[64];
    int err = path_to_bdev(a->arg[0], &bd, shown, sizeof(shown));
    if (err)
        return err;
    int type = swap_type_of(bd);
    return type < 0 ? type : swap_deactivate((unsigned)type);
}

void swap_boot(void)
{
    blkdev_make_nodes();
    const char *spec = option("swap");
    if (!spec)
        return;
    if (!spec[0]) {
        printk("swap=: no device named (swap=vda2, swap=/dev/vda2 or swap=PARTUUID=...), "
               "no swap\n");
        return;
    }
    struct block_device *bd = blk_find(spec);
    if (!bd) {
        printk("swap=%s: no such block device, no swap (devices:", spec);
        for (struct block_device *d = blk_first(); d; d = d->next)
            printk(" %s", d->name);
        printk("%s)\n", blk_first() ? "" : " none");
        return;
    }
    char name[24], why[128];
    snprintf(name, sizeof(name), "/dev/%s", bd->name);
    int err = swap_activate(bd, name, 0, why, sizeof(why));
    if (err < 0)
        printk("swap=%s: %s refused (error %d): %s; no swap\n", spec, name, err, why);
    else
        printk("swap=%s: swapping on %s\n", spec, name);
}
