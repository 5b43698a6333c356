/*
 * The system calls on directories: getdents64, the old getdents, chdir,
 * fchdir, getcwd (fs/readdir.c, fs/open.c, fs/d_path.c).
 *
 * getdents writes one record per entry straight into the user's buffer,
 * from the directory file's position (kernel/fs/dir.c explains the
 * positions); a record that does not fit stops the call, and the
 * position stays on it for the next one.  The first record not fitting
 * is -EINVAL; a fault after some records returns them (Linux does the
 * same); a removed directory is -ENOENT.
 *
 * The working directory is the task's (kernel/fs/file.c): fork copies it,
 * a relative path and AT_FDCWD start there.  getcwd rebuilds its path
 * from the directory's parents, and is -ENOENT once it was removed.
 */
#include <kernel/syscall.h>
#include "fs_impl.h"
#include <kernel/errno.h>
#include <kernel/string.h>
#include <kernel/uaccess.h>
#include <mm/slab.h>

/* struct linux_dirent64's fixed part: d_ino, d_off, d_reclen, d_type. */
#define DIRENT64_HEAD 19

struct dirent_buf {
    uint64_t ubuf;        /* where the next record goes */
    uint64_t left;        /* bytes left in the user buffer */
    uint64_t done;
    unsigned lsize;       /* 0: getdents64; 8 or 4: the old getdents with that long */
    int error;
};

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static bool fill_dirent(void *ctx, const char *name, size_t len, uint64_t ino, unsigned type,
                        uint64_t next)
{
    struct dirent_buf *b = ctx;
    uint8_t rec[DIRENT64_HEAD + NAME_MAX + 8];
    size_t reclen;
    if (b->lsize == 0) {
        reclen = ALIGN_UP(DIRENT64_HEAD + len + 1, 8);
        memset(rec, 0, reclen);
        put_le(rec, ino, 8);
        put_le(rec + 8, next, 8);
        put_le(rec + 16, reclen, 2);
        rec[18] = (uint8_t)type;
        memcpy(rec + 19, name, len);
    } else {
        /* d_ino, d_off (longs), d_reclen, d_name, NUL, then d_type last. */
        size_t head = 2 * b->lsize + 2;
        reclen = ALIGN_UP(head + len + 2, b->lsize);
        if (b->lsize == 4 && (ino >> 32 || next >> 32)) {
            b->error = -EOVERFLOW;
            return false;
        }
        memset(rec, 0, reclen);
        put_le(rec, ino, b->lsize);
        put_le(rec + b->lsize, next, b->lsize);
        put_le(rec + 2 * b->lsize, reclen, 2);
        memcpy(rec + head, name, len);
        rec[reclen - 1] = (uint8_t)type;
    }
    if (reclen > b->left) {
        b->error = -EINVAL;
        return false;
    }
    if (copy_to_user(b->ubuf, rec, reclen) < 0) {
        b->error = -EFAULT;
        return false;
    }
    b->ubuf += reclen;
    b->left -= reclen;
    b->done += reclen;
    return true;
}

static long do_getdents(int fd, uint64_t ubuf, uint64_t count, unsigned lsize)
{
    struct file *f = fd_file(fd);
    if (!f)
        return -EBADF;
    if (!f->inode || !S_ISDIR(f->inode->mode))
        return -ENOTDIR;
    if (!f->inode->nlink && !f->inode->fs->volatile_inodes)
        return -ENOENT;                /* a removed directory */
    struct dirent_buf b = { ubuf, (uint32_t)count, 0, lsize, 0 };
    int err = vfs_readdir(f, fill_dirent, &b);
    if (err)
        return err;
    if (b.done)
        return (long)b.done;
    return b.error;
}

long sys_getdents64(const struct sysargs *a)
{
    return do_getdents((int)a->arg[0], a->arg[1], a->arg[2], 0);
}

long file_getdents_old(int fd, uint64_t ubuf, uint64_t count, unsigned lsize)
{
    return do_getdents(fd, ubuf, count, lsize);
}

long sys_getdents(const struct sysargs *a)
{
    return do_getdents((int)a->arg[0], a->arg[1], a->arg[2], 8);
}

/* ---- the working directory ------------------------------------------------------- */

long sys_chdir(const struct sysargs *a)
{
    struct inode *dir;
    int err = user_namei(AT_FDCWD, a->arg[0], LOOKUP_FOLLOW | LOOKUP_DIRECTORY, false, &dir);
    if (err)
        return err;
    cwd_set(dir);
    return 0;
}

long sys_fchdir(const struct sysargs *a)
{
    struct file *f = fd_file((int)a->arg[0]);
    if (!f)
        return -EBADF;
    if (!f->inode || !S_ISDIR(f->inode->mode))
        return -ENOTDIR;
    cwd_set(inode_get(f->inode));
    return 0;
}

/* getcwd(buf, size): the length with the NUL; -ENOENT when the directory
 * was removed, -ERANGE when size is too small. */
long sys_getcwd(const struct sysargs *a)
{
    char *buf = kmalloc(PATH_MAX, GFP_KERNEL);
    if (!buf)
        return -ENOMEM;
    long n = dir_path(cwd_inode(), buf, PATH_MAX);
    if (n == -ERANGE)
        n = -ENAMETOOLONG;
    if (n >= 0 && (uint64_t)n + 1 > a->arg[1])
        n = -ERANGE;
    if (n >= 0)
        n = copy_to_user(a->arg[0], buf, (size_t)n + 1) < 0 ? -EFAULT : n + 1;
    kfree(buf);
    return n;
}
