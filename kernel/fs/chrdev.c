/*
 * Character device nodes: what opening a tmpfs S_IFCHR inode gives.
 *
 * A device node is only a number (rdev: major and minor); opening it
 * looks the number up in a small table, as Linux's chrdev_open does:
 *
 *   1:3 /dev/null     reads end of file, writes vanish
 *   1:5 /dev/zero     reads zeros, writes vanish
 *   1:7 /dev/full     reads zeros, writes fail with -ENOSPC
 *   1:8 /dev/random   reads getrandom's bytes (kernel_random), writes are
 *   1:9 /dev/urandom  taken and dropped (Linux mixes them into the pool)
 *   5:0 /dev/tty      the console (kernel/fs/console_file.c): no job
 *   5:1 /dev/console  control yet, so the controlling terminal is it
 *
 * Anything else, and every block device, is -ENXIO ("no such device"), as
 * on Linux for a number no driver claims.  The root seeded from the
 * initrd gets these nodes in /dev (kernel/fs/initrd_fs.c), and the links
 * stdin, stdout, stderr (to /proc/self/fd/0, 1, 2) and fd (/proc/self/fd).
 */
#include <kernel/vfs.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/uaccess.h>

static long null_read(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    (void)f, (void)ubuf, (void)n, (void)fio;
    return 0;
}

static long null_write(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    (void)f, (void)ubuf, (void)fio;
    return (long)n;
}

static long full_write(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    (void)f, (void)ubuf, (void)n, (void)fio;
    return -ENOSPC;
}

static long zero_read(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    static const uint8_t zeros[512];
    (void)f, (void)fio;
    for (size_t done = 0; done < n;) {
        size_t k = MIN(n - done, sizeof(zeros));
        if (copy_to_user(ubuf + done, zeros, k) < 0)
            return done ? (long)done : -EFAULT;
        done += k;
    }
    return (long)n;
}

/* The source of getrandom (not cryptographic: docs/syscalls.md). */
static long random_read(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    uint64_t chunk[8];
    (void)f, (void)fio;
    for (size_t done = 0; done < n;) {
        size_t k = MIN(n - done, sizeof(chunk));
        for (size_t i = 0; i < ARRAY_SIZE(chunk); i++)
            chunk[i] = kernel_random();
        if (copy_to_user(ubuf + done, chunk, k) < 0)
            return done ? (long)done : -EFAULT;
        done += k;
    }
    return (long)n;
}

/* Linux's memory devices accept any offset and stay at 0. */
static long mem_lseek(struct file *f, int64_t off, int whence)
{
    (void)off, (void)whence;
    f->pos = 0;
    return 0;
}

static int dev_stat(struct file *f, struct linux_stat *st)
{
    inode_stat(f->inode, st);
    return 0;
}

static const struct file_ops null_ops = {
    .read = null_read, .write = null_write, .lseek = mem_lseek, .stat = dev_stat,
};
static const struct file_ops zero_ops = {
    .read = zero_read, .write = null_write, .lseek = mem_lseek, .stat = dev_stat,
};
static const struct file_ops full_ops = {
    .read = zero_read, .write = full_write, .lseek = mem_lseek, .stat = dev_stat,
};
static const struct file_ops random_ops = {
    .read = random_read, .write = null_write, .lseek = mem_lseek, .stat = dev_stat,
};

static int chrdev_open(struct inode *ino, unsigned flags, struct file **out)
{
    const struct file_ops *ops = NULL;
    if (S_ISCHR(ino->mode)) {
        if (ino->rdev == LINUX_MKDEV(5, 0) || ino->rdev == LINUX_MKDEV(5, 1)) {
            *out = console_open(flags);
            return *out ? 0 : -ENOMEM;
        }
        if (ino->rdev == LINUX_MKDEV(1, 3))
            ops = &null_ops;
        else if (ino->rdev == LINUX_MKDEV(1, 5))
            ops = &zero_ops;
        else if (ino->rdev == LINUX_MKDEV(1, 7))
            ops = &full_ops;
        else if (ino->rdev == LINUX_MKDEV(1, 8) || ino->rdev == LINUX_MKDEV(1, 9))
            ops = &random_ops;
    }
    if (!ops)
        return -ENXIO;
    *out = file_alloc(ops, flags, NULL);
    return *out ? 0 : -ENOMEM;
}

const struct inode_ops tmpfs_dev_iops = {
    .open = chrdev_open,
};
