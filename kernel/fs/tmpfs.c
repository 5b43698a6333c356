/*
 * tmpfs: the writable file system in memory (Linux's mm/shmem.c, reduced).
 *
 * Every change to the tree is made here, after the system call has done
 * all of Linux's checks (kernel/fs/sys_namei.c, kernel/fs/open.c): these
 * functions only fail for want of memory or room, and then change
 * nothing.
 *
 * Invariants (with kernel/fs/dir.c's and kernel/fs/inode.c's):
 *  - a live directory has nlink = 2 + its subdirectories, parent = the
 *    directory holding its one entry (the root: itself);
 *  - a removed directory is empty, has nlink 0 and parent NULL: nothing
 *    can be created in it and ".." from it is -ENOENT;
 *  - fs->nr_inodes <= fs->max_inodes and fs->nr_pages <= fs->max_pages:
 *    the size limits, half of RAM by default as on Linux (beyond them
 *    creating an inode or a page is -ENOSPC, never a crash);
 *  - a regular file's size fits in MAX_LFS_FILESIZE (2^63 - 1).
 */
#include <kernel/vfs.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <mm/filemap.h>
#include <mm/page.h>
#include <mm/slab.h>

#define MAX_LFS_FILESIZE 0x7fffffffffffffffull
#define DIR_EMPTY_SIZE 40          /* tmpfs: 20 bytes for each of "." and ".." */

struct vfs_fs tmpfs_root_fs = {
    .name = "tmpfs",
    .magic = TMPFS_MAGIC,
    .dev = LINUX_MKDEV(0, 1),
    .mnt_id = 1,
    .blksize = 4096,
};

/* ---- the kinds' operations ---------------------------------------------------- */

static const char *tmpfs_dname(struct inode *dir)
{
    if (!dir->parent)
        return NULL;
    if (dir->parent == dir)
        return "";
    struct dentry *d = dir_find_inode(dir->parent, dir);
    return d ? d->name : NULL;
}

static void tmpfs_dir_evict(struct inode *ino)
{
    dir_free_all(ino);
}

static void tmpfs_reg_evict(struct inode *ino)
{
    pagecache_truncate(ino, 0);
}

static const char *tmpfs_get_link(struct inode *ino)
{
    return ino->link;
}

static void tmpfs_link_evict(struct inode *ino)
{
    kfree(ino->link);
}

/* The files of kernel/fs/tmpfs_file.c. */
int tmpfs_open_reg(struct inode *ino, unsigned flags, struct file **out);
int tmpfs_open_dir(struct inode *ino, unsigned flags, struct file **out);

const struct inode_ops tmpfs_dir_iops = {
    .lookup = dir_lookup,
    .readdir = dir_readdir,
    .dname = tmpfs_dname,
    .open = tmpfs_open_dir,
    .evict = tmpfs_dir_evict,
};

const struct inode_ops tmpfs_reg_iops = {
    .open = tmpfs_open_reg,
    .evict = tmpfs_reg_evict,
};

const struct inode_ops tmpfs_link_iops = {
    .get_link = tmpfs_get_link,
    .evict = tmpfs_link_evict,
};

/* ---- creating ------------------------------------------------------------------- */

int tmpfs_init(struct vfs_fs *fs, uint64_t max_pages)
{
    fs->max_pages = max_pages;
    fs->max_inodes = max_pages;
    fs->next_ino = 1;
    struct inode *root = inode_new(fs, S_IFDIR | 0755, &tmpfs_dir_iops);
    if (!root)
        return -ENOMEM;
    root->nlink = 2;
    root->parent = root;
    root->dir.next_pos = 2;
    root->size = DIR_EMPTY_SIZE;
    fs->root = root;                   /* the mount's reference */
    return 0;
}

static const struct inode_ops *iops_of(uint32_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR: return &tmpfs_dir_iops;
    case S_IFLNK: return &tmpfs_link_iops;
    case S_IFREG: return &tmpfs_reg_iops;
    default: return &tmpfs_dev_iops;
    }
}

static struct inode *tmpfs_inode(struct inode *dir, uint32_t mode, int *err)
{
    struct vfs_fs *fs = dir->fs;
    if (fs->max_inodes && fs->nr_inodes >= fs->max_inodes) {
        *err = -ENOSPC;
        return NULL;
    }
    struct inode *ino = inode_new(fs, mode, iops_of(mode));
    *err = ino ? 0 : -ENOMEM;
    return ino;
}

/* Link a new inode into dir under name; it keeps its reference for out. */
static int tmpfs_attach(struct inode *dir, const char *name, size_t len, struct inode *ino,
                        struct inode **out)
{
    int err = dir_add(dir, name, len, ino);
    if (err) {
        inode_put(ino);                /* no link: freed */
        return err;
    }
    inode_touch(dir);
    if (out)
        *out = ino;
    else
        inode_put(ino);                /* the entry keeps it */
    return 0;
}

int tmpfs_create(struct inode *dir, const char *name, size_t len, uint32_t mode, uint64_t rdev,
                 struct inode **out)
{
    int err;
    struct inode *ino = tmpfs_inode(dir, mode, &err);
    if (!ino)
        return err;
    ino->rdev = rdev;
    return tmpfs_attach(dir, name, len, ino, out);
}

int tmpfs_mkdir(struct inode *dir, const char *name, size_t len, uint32_t mode)
{
    int err;
    struct inode *ino = tmpfs_inode(dir, S_IFDIR | mode, &err);
    if (!ino)
        return err;
    ino->dir.next_pos = 2;
    ino->size = DIR_EMPTY_SIZE;
    ino->nlink = 1;                    /* its "." (dir_add adds the entry's) */
    err = dir_add(dir, name, len, ino);
    if (err) {
        ino->nlink = 0;
        inode_put(ino);
        return err;
    }
    inode_touch(dir);
    inode_put(ino);
    return 0;
}

int tmpfs_symlink(struct inode *dir, const char *name, size_t len, const char *target)
{
    size_t tlen = strlen(target);
    if (tlen + 1 > PAGE_SIZE)
        return -ENAMETOOLONG;
    int err;
    struct inode *ino = tmpfs_inode(dir, S_IFLNK | 0777, &err);
    if (!ino)
        return err;
    ino->link = kmalloc(tlen + 1, GFP_KERNEL);
    if (!ino->link) {
        inode_put(ino);
        return -ENOMEM;
    }
    memcpy(ino->link, target, tlen + 1);
    ino->size = tlen;
    return tmpfs_attach(dir, name, len, ino, NULL);
}

int tmpfs_tmpfile(struct inode *dir, uint32_t mode, struct inode **out)
{
    int err;
    struct inode *ino = tmpfs_inode(dir, S_IFREG | mode, &err);
    if (!ino)
        return err;
    *out = ino;
    return 0;
}

int tmpfs_link(struct inode *ino, struct inode *dir, const char *name, size_t len)
{
    if (ino->nlink >= UINT32_MAX - 1)
        return -EMLINK;
    int err = dir_add(dir, name, len, ino);
    if (err)
        return err;
    ino->iflags &= ~I_LINKABLE;
    inode_ctime(ino);
    inode_touch(dir);
    return 0;
}

/* Take away what an entry's inode owes its directory (the entry is gone). */
static void tmpfs_forget(struct inode *dir, struct inode *ino)
{
    if (S_ISDIR(ino->mode)) {
        dir->nlink--;                  /* its ".." */
        ino->parent = NULL;
        ino->nlink--;                  /* its "." */
    }
    inode_ctime(ino);
    inode_drop_link(ino);              /* the entry's link: may free it */
}

void tmpfs_unlink(struct inode *dir, struct dentry *d)
{
    struct inode *ino = d->inode;
    dir_remove(dir, d);
    inode_touch(dir);
    tmpfs_forget(dir, ino);
}

/* A directory moving from one parent to another: the ".." link moves. */
static void reparent(struct inode *ino, struct inode *from, struct inode *to)
{
    if (!S_ISDIR(ino->mode) || from == to)
        return;
    from->nlink--;
    to->nlink++;
    ino->parent = to;
}

int tmpfs_rename(struct inode *odir, struct dentry *od, struct inode *ndir, const char *name,
                 size_t len, struct dentry *nd, unsigned flags)
{
    struct inode *moved = od->inode;
    if (flags & RENAME_EXCHANGE) {
        struct inode *other = nd->inode;
        od->inode = other;
        nd->inode = moved;
        reparent(moved, odir, ndir);
        reparent(other, ndir, odir);
        inode_ctime(moved);
        inode_ctime(other);
        inode_touch(odir);
        inode_touch(ndir);
        return 0;
    }
    struct dentry *d = dentry_alloc(name, len);
    if (!d)
        return -ENOMEM;
    if (nd) {
        struct inode *victim = nd->inode;
        dir_remove(ndir, nd);
        tmpfs_forget(ndir, victim);
    }
    dir_unlink_entry(odir, od);
    kfree(od);
    dir_insert(ndir, d, moved);
    reparent(moved, odir, ndir);
    inode_ctime(moved);
    inode_touch(odir);
    inode_touch(ndir);
    return 0;
}

int tmpfs_setsize(struct inode *ino, uint64_t size)
{
    if (size > MAX_LFS_FILESIZE)
        return -EFBIG;
    if (size < ino->size) {
        /* The pages going are unmapped from every process first, private
         * copies included, so that an access there faults again and gets
         * SIGBUS (Linux's truncate_pagecache; mm/filemap.c). */
        uint64_t keep = size / PAGE_SIZE + (size % PAGE_SIZE != 0);
        if (ino->reg.mapping)
            unmap_mapping_pages(ino->reg.mapping, keep, UINT64_MAX - keep);
        pagecache_truncate(ino, size);
    }
    ino->size = size;
    inode_touch(ino);
    return 0;
}
