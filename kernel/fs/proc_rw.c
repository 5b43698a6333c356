/*
 * The open files of /proc that are not one snapshot taken at open
 * (kernel/fs/procfs.c makes those):
 *
 *  - record files: /proc/<pid>/pagemap, /proc/kpagecount, /proc/kpageflags.
 *    Binary, 8 bytes per record, far too large to make whole (pagemap
 *    has a record per virtual page: 256 GiB of them for a 64-bit
 *    process), so each read makes the records it returns, from the
 *    file's offset, a chunk at a time.  Linux's rules (fs/proc/
 *    task_mmu.c pagemap_read, fs/proc/page.c): an offset or a count
 *    that is not a multiple of 8 is -EINVAL, an offset at or past the
 *    end reads 0 bytes, and a read is cut at the end.  A process's file
 *    reads 0 bytes once the process has no address space (it exited);
 *    pread and lseek (SEEK_SET, SEEK_CUR) reach any offset;
 *  - sysctl files: /proc/sys/<dir>/<name> (kernel/fs/proc_sysctl.c).
 *    The text is made again at every read (so a read after a write sees
 *    the new value), and each write() is one value, handed whole to the
 *    file's store: what it returns is what the write returns (Linux
 *    writes sysctl values the same way: one value per write).
 */
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>
#include <kernel/vfs.h>
#include <mm/slab.h>
#include "proc_impl.h"

#define REC_BYTES 8
#define REC_CHUNK 512                   /* records made per step: 4 KiB */

/* Linux's seq_lseek and mem_lseek: SEEK_SET and SEEK_CUR only. */
static long rw_lseek(struct file *f, int64_t off, int whence)
{
    if (whence != SEEK_SET && whence != SEEK_CUR)
        return -EINVAL;
    return file_lseek_fixed(f, off, whence);
}

static int rw_fstat(struct file *f, struct linux_stat *st)
{
    inode_stat(f->inode, st);
    return 0;
}

/* ---- record files ------------------------------------------------------------------ */

static long records_read(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    (void)fio;
    const struct proc_records *rec = f->priv;
    struct task *t = NULL;
    if (f->inode->proc.pid > 0 && !(t = task_find(f->inode->proc.pid)))
        return 0;                       /* the process is gone: nothing to show */
    uint64_t end = rec->count(t);
    if (!end)
        return 0;                       /* no address space (Linux: no mm) */
    if (f->pos % REC_BYTES || n % REC_BYTES)
        return -EINVAL;
    uint64_t first = f->pos / REC_BYTES;
    if (first >= end || !n)
        return 0;
    uint64_t want = MIN((uint64_t)n / REC_BYTES, end - first);
    uint64_t *buf = kmalloc(REC_CHUNK * REC_BYTES, GFP_KERNEL);
    if (!buf)
        return -ENOMEM;
    uint64_t done = 0;
    int err = 0;
    while (done < want) {
        size_t k = (size_t)MIN((uint64_t)REC_CHUNK, want - done);
        err = rec->fill(t, first + done, buf, k);
        if (!err && copy_to_user(ubuf + done * REC_BYTES, buf, k * REC_BYTES) < 0)
            err = -EFAULT;              /* as Linux: the whole read fails */
        if (err)
            break;
        done += k;
    }
    kfree(buf);
    if (err)
        return err;
    f->pos += done * REC_BYTES;
    return (long)(done * REC_BYTES);
}

static const struct file_ops records_ops = {
    .read = records_read,
    .lseek = rw_lseek,
    .stat = rw_fstat,
};

int proc_records_open(const struct proc_records *rec, unsigned flags, struct file **out)
{
    struct file *f = file_alloc(&records_ops, flags, (void *)rec);
    if (!f)
        return -ENOMEM;
    *out = f;
    return 0;
}

/* ---- sysctl files --------------------------------------------------------------------- */

/* Linux's test_perm for root: the owner bits of the mode, and no exec. */
int proc_sysctl_permission(const struct inode *ino, int mask)
{
    unsigned have = (ino->mode >> 6) & 7;
    return ((unsigned)mask & 7 & ~have) ? -EACCES : 0;
}

static long sysctl_read(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    (void)fio;
    const struct proc_sysctl *c = f->priv;
    char text[PROC_SYSCTL_TEXT];
    int len = c->show(text, sizeof(text));
    if (len < 0)
        return len;
    if ((size_t)len >= sizeof(text))
        len = (int)sizeof(text) - 1;    /* a show longer than promised is cut */
    if (f->pos >= (uint64_t)len)
        return 0;
    n = MIN(n, (size_t)((uint64_t)len - f->pos));
    if (copy_to_user(ubuf, text + f->pos, n) < 0)
        return -EFAULT;
    f->pos += n;
    return (long)n;
}

static long sysctl_write(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    (void)fio;
    const struct proc_sysctl *c = f->priv;
    char text[PROC_SYSCTL_MAX + 1];
    if (!n)
        return 0;
    if (n > PROC_SYSCTL_MAX)
        return -EINVAL;                 /* no value of these files is that long */
    if (copy_from_user(text, ubuf, n) < 0)
        return -EFAULT;
    text[n] = 0;
    int err = c->store(text, n);
    if (err < 0)
        return err;
    f->pos += n;
    return (long)n;
}

static const struct file_ops sysctl_ops = {
    .read = sysctl_read,
    .write = sysctl_write,
    .lseek = rw_lseek,
    .stat = rw_fstat,
};

/*
 * open(2) checks only the right to write (inode_permission through
 * may_open); reading a write-only file (compact_memory) is refused here,
 * and so is an access the file's table has no function for, so that a
 * descriptor never reaches a missing show or store.
 */
int proc_sysctl_open(struct inode *ino, unsigned flags, struct file **out)
{
    const struct proc_sysctl *c = ino->proc.node;
    unsigned acc = flags & O_ACCMODE;
    if (acc != O_WRONLY && proc_sysctl_permission(ino, 4))
        return -EACCES;
    if ((acc != O_WRONLY && !c->show) || (acc != O_RDONLY && !c->store))
        return -EACCES;                 /* a mode promising what the file cannot do */
    struct file *f = file_alloc(&sysctl_ops, flags, (void *)c);
    if (!f)
        return -ENOMEM;
    *out = f;
    return 0;
}
