/*
 * tmpfs directories: named entries, in creation order.
 *
 * A directory is a doubly linked list of struct dentry, oldest first.
 * Each entry holds one link on its inode (inode->nlink), never a
 * reference; a subdirectory also links its parent through its "..", so a
 * directory's nlink is 2 plus its subdirectories, and its parent pointer
 * names the one directory holding it (directories have no other links).
 *
 * getdents positions: "." is 0, ".." is 1, and every entry gets the next
 * value of the directory's counter (2, 3, ...) when it is added.  A
 * position is never reused, so a listing that goes on after entries were
 * added or removed neither repeats nor skips the entries that stayed
 * (Linux's tmpfs keeps the same promise with its offset map).
 *
 * Look-ups walk the list: directories here hold tens of names, and one
 * strcmp per entry costs less than keeping a hash table right.
 *
 * Invariants: dir.count is the list's length; every entry's pos is below
 * dir.next_pos and the list is sorted by pos; no two entries have the
 * same name; size is 20 bytes per entry plus 40 (tmpfs's BOGO_DIRENT_SIZE).
 */
#include <kernel/vfs.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <mm/slab.h>

#define BOGO_DIRENT_SIZE 20

struct dentry *dir_find(struct inode *dir, const char *name, size_t len)
{
    for (struct dentry *d = dir->dir.first; d; d = d->next)
        if (d->len == len && !memcmp(d->name, name, len))
            return d;
    return NULL;
}

struct dentry *dir_find_inode(struct inode *dir, const struct inode *child)
{
    for (struct dentry *d = dir->dir.first; d; d = d->next)
        if (d->inode == child)
            return d;
    return NULL;
}

struct dentry *dentry_alloc(const char *name, size_t len)
{
    struct dentry *d = kmalloc(sizeof(*d) + len + 1, GFP_KERNEL);
    if (!d)
        return NULL;
    d->inode = NULL;
    d->len = (uint16_t)len;
    memcpy(d->name, name, len);
    d->name[len] = 0;
    return d;
}

void dir_insert(struct inode *dir, struct dentry *d, struct inode *child)
{
    d->inode = child;
    d->pos = dir->dir.next_pos++;
    d->next = NULL;
    d->prev = dir->dir.last;
    if (dir->dir.last)
        dir->dir.last->next = d;
    else
        dir->dir.first = d;
    dir->dir.last = d;
    dir->dir.count++;
    dir->size += BOGO_DIRENT_SIZE;
}

void dir_unlink_entry(struct inode *dir, struct dentry *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        dir->dir.first = d->next;
    if (d->next)
        d->next->prev = d->prev;
    else
        dir->dir.last = d->prev;
    dir->dir.count--;
    dir->size -= BOGO_DIRENT_SIZE;
}

int dir_add(struct inode *dir, const char *name, size_t len, struct inode *child)
{
    struct dentry *d = dentry_alloc(name, len);
    if (!d)
        return -ENOMEM;
    dir_insert(dir, d, child);
    child->nlink++;
    if (S_ISDIR(child->mode)) {
        child->parent = dir;
        dir->nlink++;                    /* the child's ".." */
    }
    return 0;
}

void dir_remove(struct inode *dir, struct dentry *d)
{
    dir_unlink_entry(dir, d);
    kfree(d);
}

void dir_free_all(struct inode *dir)
{
    struct dentry *d = dir->dir.first;
    while (d) {
        struct dentry *next = d->next;
        kfree(d);
        d = next;
    }
    dir->dir.first = dir->dir.last = NULL;
    dir->dir.count = 0;
}

struct inode *dir_parent(struct inode *dir)
{
    while (dir->fs->root == dir && dir->fs->mountpoint)
        dir = dir->fs->mountpoint;       /* ".." of a mounted root: above its mount point */
    return dir->parent;
}

int dir_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
    struct dentry *d = dir_find(dir, name, len);
    if (!d)
        return -ENOENT;
    *out = inode_get(d->inode);
    return 0;
}

void dir_readdir(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx)
{
    for (struct dentry *d = dir->dir.first; d; d = d->next) {
        if (d->pos < *pos)
            continue;
        if (!fill(ctx, d->name, d->len, d->inode->ino, IFTODT(d->inode->mode), d->pos + 1))
            return;
        *pos = d->pos + 1;
    }
}
