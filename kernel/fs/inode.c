/*
 * Inodes: their life, their times, stat and root's permissions.
 *
 * Invariants:
 *  - an inode is alive while refs > 0 or nlink > 0 (a procfs inode, on a
 *    volatile file system, only while refs > 0); the moment both reach 0
 *    its kind's evict runs (a regular file gives its pages back, a
 *    directory its entries, a link its target) and it is freed;
 *  - refs counts open files, working directories, mounts and walks in
 *    progress; nlink counts directory entries naming the inode, plus for
 *    a directory its "." and each subdirectory's "..";
 *  - fs->nr_inodes is the number of live inodes of fs (tmpfs's limit).
 *
 * There is no inode cache: a tmpfs inode is found through its directory
 * entries and lives in memory anyway; a procfs inode is made by each
 * lookup and dies with its last reference.
 */
#include <kernel/vfs.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/syscall.h>
#include <kernel/time.h>
#include <mm/slab.h>

static uint64_t live_inodes;

struct linux_timespec fs_now(void)
{
    int64_t ns = realtime_ns();   /* the wall clock (include/kernel/time.h) */
    return (struct linux_timespec){ ns / 1000000000l, ns % 1000000000l };
}

struct inode *inode_new(struct vfs_fs *fs, uint32_t mode, const struct inode_ops *ops)
{
    if (fs->max_inodes && fs->nr_inodes >= fs->max_inodes)
        return NULL;
    struct inode *ino = kzalloc(sizeof(*ino), GFP_KERNEL);
    if (!ino)
        return NULL;
    ino->ino = fs->next_ino++;
    ino->mode = mode;
    ino->refs = 1;
    ino->ops = ops;
    ino->fs = fs;
    ino->atime = ino->mtime = ino->ctime = ino->btime = fs_now();
    fs->nr_inodes++;
    live_inodes++;
    return ino;
}

struct inode *inode_get(struct inode *ino)
{
    if (!ino->refs && !ino->nlink)
        panic("inode_get: inode %lu of %s is dead", ino->ino, ino->fs->name);
    ino->refs++;
    return ino;
}

static void inode_free(struct inode *ino)
{
    if (ino->ops && ino->ops->evict)
        ino->ops->evict(ino);
    ino->fs->nr_inodes--;
    live_inodes--;
    kfree(ino);
}

static bool inode_unused(const struct inode *ino)
{
    return ino->refs == 0 && (ino->nlink == 0 || ino->fs->volatile_inodes);
}

void inode_put(struct inode *ino)
{
    if (!ino)
        return;
    if (ino->refs == 0)
        panic("inode_put: inode %lu of %s has no reference", ino->ino, ino->fs->name);
    if (--ino->refs == 0 && inode_unused(ino))
        inode_free(ino);
}

void inode_drop_link(struct inode *ino)
{
    if (ino->nlink == 0)
        panic("inode_drop_link: inode %lu of %s has no link", ino->ino, ino->fs->name);
    ino->nlink--;
    if (inode_unused(ino))
        inode_free(ino);
}

void inode_touch(struct inode *ino)
{
    ino->mtime = ino->ctime = fs_now();
}

void inode_ctime(struct inode *ino)
{
    ino->ctime = fs_now();
}

void inode_stat(const struct inode *ino, struct linux_stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_dev = ino->fs->dev;
    st->st_ino = ino->ino;
    st->st_nlink = ino->nlink;
    st->st_mode = ino->mode;
    st->st_uid = ino->uid;
    st->st_gid = ino->gid;
    st->st_rdev = ino->rdev;
    st->st_size = (int64_t)ino->size;
    st->st_blksize = ino->fs->blksize;
    st->st_blocks = S_ISREG(ino->mode) ? (int64_t)pagecache_blocks(ino) : 0;
    st->st_atim = ino->atime;
    st->st_mtim = ino->mtime;
    st->st_ctim = ino->ctime;
}

int inode_permission(const struct inode *ino, int mask)
{
    if (ino->ops->permission)
        return ino->ops->permission(ino, mask);
    if ((mask & 2) && ino->fs->rdonly)
        return -EROFS;
    if ((mask & 1) && !S_ISDIR(ino->mode) && !(ino->mode & 0111))
        return -EACCES;
    return 0;
}

uint64_t inode_count(void)
{
    return live_inodes;
}
