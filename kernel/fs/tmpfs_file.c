/*
 * Open tmpfs files and directories: read, write, lseek, stat, getdents.
 *
 * A regular file's bytes are in its page cache (kernel/fs/pagecache.c):
 * read copies them out from f->pos (holes read as zeros), write copies
 * them in, making pages as it goes and growing the file; O_APPEND writes
 * at the end whatever the offset says.  A write stops early at the first
 * page it cannot have (-ENOSPC, -ENOMEM) or the first user page it cannot
 * read (-EFAULT), returning what it wrote before, as Linux's
 * generic_perform_write does.
 *
 * A directory's file reads as -EISDIR; its offset is a getdents position
 * (kernel/fs/dir.c): 0 ".", 1 "..", then each entry's own.  Both kinds
 * of directory (tmpfs, procfs) use the same file, through their inode's
 * readdir.
 *
 * Invariant: f->inode is set (kernel/fs/open.c) and referenced by f.
 */
#include <kernel/vfs.h>
#include <kernel/errno.h>
#include <mm/slab.h>

#define MAX_LFS_FILESIZE 0x7fffffffffffffffull

static long reg_read(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    (void)fio;
    struct inode *ino = f->inode;
    if (f->pos >= ino->size)
        return 0;
    n = (size_t)MIN((uint64_t)n, ino->size - f->pos);
    long r = pagecache_read_user(ino, f->pos, ubuf, n);
    if (r > 0)
        f->pos += (uint64_t)r;
    return r;
}

static long reg_write(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    (void)fio;
    struct inode *ino = f->inode;
    if (f->flags & O_APPEND)
        f->pos = ino->size;
    if (n == 0)
        return 0;
    if (f->pos >= MAX_LFS_FILESIZE)
        return -EFBIG;
    n = (size_t)MIN((uint64_t)n, MAX_LFS_FILESIZE - f->pos);
    long r = pagecache_write_user(ino, f->pos, ubuf, n);
    if (r > 0)
        f->pos += (uint64_t)r;
    return r;
}

/* lseek with the file's current size; tmpfs has holes, but SEEK_DATA and
 * SEEK_HOLE treat the whole file as data (a hole only at the end). */
static long reg_lseek(struct file *f, int64_t off, int whence)
{
    uint64_t size = f->inode->size;
    int64_t base;
    switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)f->pos; break;
    case SEEK_END: base = (int64_t)size; break;
    case SEEK_DATA:
    case SEEK_HOLE:
        if (off < 0 || (uint64_t)off >= size)
            return -ENXIO;
        f->pos = whence == SEEK_DATA ? (uint64_t)off : size;
        return (long)f->pos;
    default: return -EINVAL;
    }
    int64_t pos;
    if (__builtin_add_overflow(base, off, &pos) || pos < 0)
        return -EINVAL;
    f->pos = (uint64_t)pos;
    return pos;
}

static int inode_fstat(struct file *f, struct linux_stat *st)
{
    inode_stat(f->inode, st);
    return 0;
}

static long dir_read(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    (void)f, (void)ubuf, (void)n, (void)fio;
    return -EISDIR;
}

/* Linux's offset_dir_llseek: SEEK_SET and SEEK_CUR to any position >= 0. */
static long dir_lseek(struct file *f, int64_t off, int whence)
{
    int64_t pos;
    if (whence == SEEK_SET)
        pos = off;
    else if (whence == SEEK_CUR) {
        if (__builtin_add_overflow((int64_t)f->pos, off, &pos))
            return -EINVAL;
    } else
        return -EINVAL;
    if (pos < 0)
        return -EINVAL;
    f->pos = (uint64_t)pos;
    return pos;
}

static const struct file_ops tmpfs_reg_fops = {
    .read = reg_read,
    .write = reg_write,
    .lseek = reg_lseek,
    .stat = inode_fstat,
};

static const struct file_ops dir_fops = {
    .read = dir_read,
    .lseek = dir_lseek,
    .stat = inode_fstat,
};

int tmpfs_open_reg(struct inode *ino, unsigned flags, struct file **out)
{
    (void)ino;
    *out = file_alloc(&tmpfs_reg_fops, flags, NULL);
    return *out ? 0 : -ENOMEM;
}

int tmpfs_open_dir(struct inode *ino, unsigned flags, struct file **out)
{
    (void)ino;
    *out = file_alloc(&dir_fops, flags, NULL);
    return *out ? 0 : -ENOMEM;
}

int vfs_readdir(struct file *f, filldir_fn fill, void *ctx)
{
    struct inode *dir = f->inode;
    if (!dir || !S_ISDIR(dir->mode) || !dir->ops->readdir)
        return -ENOTDIR;
    /* A removed directory lists nothing, not even "." and "..". */
    if (!dir->nlink && !dir->fs->volatile_inodes)
        return 0;
    if (f->pos == 0) {
        if (!fill(ctx, ".", 1, dir->ino, IFTODT(S_IFDIR), 1))
            return 0;
        f->pos = 1;
    }
    if (f->pos == 1) {
        struct inode *up = dir == vfs_root() ? dir : dir_parent(dir);
        if (!fill(ctx, "..", 2, up ? up->ino : dir->ino, IFTODT(S_IFDIR), 2))
            return 0;
        f->pos = 2;
    }
    dir->ops->readdir(dir, &f->pos, fill, ctx);
    return 0;
}
