/*
 * tmpfs_check: walk the whole tree and recount it, for tests and the fuzz
 * target (tests/host/test_tmpfs.c, tests/fuzz/fuzz_tmpfs.c), which call it
 * after every operation.
 *
 * What it recounts, against the invariants written in kernel/fs/tmpfs.c,
 * dir.c and pagecache.c:
 *  - every directory: its entries (dir.count), its size (40 + 20 per
 *    entry), its getdents positions (increasing, below next_pos), no name
 *    twice, its nlink (2 + subdirectories), each subdirectory's parent;
 *  - every inode reached: its nlink equals the entries naming it (plus
 *    "." and ".." for directories); a directory is named once;
 *  - every regular file: its radix tree's pages (nr_pages, pages on swap
 *    included), none at or past the page holding its last byte, isize <=
 *    size, ipages recounted;
 *  - every file with pages on swap, named or not (pagecache_swap_check):
 *    its entries, each slot owned by the file alone, the global count.
 * Open files that were unlinked are not reachable and not checked.
 * Returns 0, -EUCLEAN with the first problem in why, or -ENOMEM.
 */
#include <kernel/vfs.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <mm/slab.h>

struct seen {
    struct inode *ino;
    uint32_t names;
};

struct walk_state {
    struct seen *v;
    size_t n, cap;
    char *why;
    size_t size;
    int err;
};

static void bad(struct walk_state *w, const char *fmt, uint64_t a, uint64_t b)
{
    if (w->err)
        return;
    w->err = -EUCLEAN;
    snprintf(w->why, w->size, fmt, a, b);
}

static void count_name(struct walk_state *w, struct inode *ino)
{
    for (size_t i = 0; i < w->n; i++) {
        if (w->v[i].ino == ino) {
            w->v[i].names++;
            return;
        }
    }
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        struct seen *v = kmalloc(cap * sizeof(*v), GFP_KERNEL);
        if (!v) {
            w->err = w->err ? w->err : -ENOMEM;
            return;
        }
        if (w->n)
            memcpy(v, w->v, w->n * sizeof(*v));
        kfree(w->v);
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n++] = (struct seen){ ino, 1 };
}

/* Pages below a subtree of `level` levels starting at index base. */
static uint64_t count_pages(struct walk_state *w, void *slot, unsigned level, uint64_t base,
                            uint64_t limit)
{
    if (!slot)
        return 0;
    if (level == 0) {
        if (base >= limit)
            bad(w, "a page at index %lu, the file has %lu pages", base, limit);
        return 1;
    }
    void **s = slot;
    uint64_t span = 1ul << (6 * (level - 1)), n = 0;
    for (unsigned i = 0; i < 64; i++)
        n += count_pages(w, s[i], level - 1, base + i * span, limit);
    return n;
}

static void check_file(struct walk_state *w, struct inode *ino)
{
    uint64_t npages = ino->size / 4096 + (ino->size % 4096 != 0);
    uint64_t n = count_pages(w, ino->reg.pages.root, ino->reg.pages.height, 0, npages);
    if (n != ino->reg.pages.nr_pages)
        bad(w, "file holds %lu pages, its count says %lu", n, ino->reg.pages.nr_pages);
    if (ino->reg.isize > ino->size)
        bad(w, "initrd bytes %lu beyond the size %lu", ino->reg.isize, ino->size);
    uint64_t ipages = 0, iend = ino->reg.isize / 4096 + (ino->reg.isize % 4096 != 0);
    for (uint64_t i = 0; i < iend; i++)
        ipages += !pagecache_has(ino, i);
    if (ipages != ino->reg.ipages)
        bad(w, "%lu initrd pages not copied, the count says %lu", ipages, ino->reg.ipages);
}

static void check_dir(struct walk_state *w, struct inode *dir, unsigned depth)
{
    uint64_t count = 0, subdirs = 0, last = 1;
    if (depth > 64) {
        bad(w, "directories nested %lu deep (a loop?) at inode %lu", depth, dir->ino);
        return;
    }
    for (struct dentry *d = dir->dir.first; d && !w->err; d = d->next) {
        count++;
        if (d->pos <= last || d->pos >= dir->dir.next_pos)
            bad(w, "entry position %lu out of order in directory %lu", d->pos, dir->ino);
        last = d->pos;
        if (d->len != strlen(d->name) || dir_find(dir, d->name, d->len) != d)
            bad(w, "a bad or repeated name in directory %lu (%lu)", dir->ino, d->len);
        count_name(w, d->inode);
        if (S_ISDIR(d->inode->mode)) {
            subdirs++;
            if (d->inode->parent != dir)
                bad(w, "directory %lu does not name %lu as its parent", d->inode->ino,
                    dir->ino);
            if (!d->inode->mounted)
                check_dir(w, d->inode, depth + 1);
        } else if (S_ISREG(d->inode->mode)) {
            check_file(w, d->inode);
        }
    }
    if (count != dir->dir.count)
        bad(w, "directory counts %lu entries, holds %lu", dir->dir.count, count);
    if (dir->size != 40 + 20 * count)
        bad(w, "directory size %lu for %lu entries", dir->size, count);
    if (dir->nlink != 2 + subdirs)
        bad(w, "directory nlink %lu with %lu subdirectories", dir->nlink, subdirs);
}

int tmpfs_check(char *why, size_t size)
{
    struct walk_state w = { NULL, 0, 0, why, size, 0 };
    struct inode *root = tmpfs_root_fs.root;
    if (size)
        why[0] = 0;
    if (!root)
        return 0;
    if (root->parent != root)
        bad(&w, "the root's parent is not itself (%lu, %lu)", root->ino, 0);
    check_dir(&w, root, 0);
    for (size_t i = 0; i < w.n && !w.err; i++) {
        struct inode *ino = w.v[i].ino;
        if (S_ISDIR(ino->mode)) {
            if (w.v[i].names != 1)
                bad(&w, "directory %lu has %lu names", ino->ino, w.v[i].names);
        } else if (ino->nlink != w.v[i].names) {
            bad(&w, "inode has nlink %lu and %lu names", ino->nlink, w.v[i].names);
        }
    }
    if (tmpfs_root_fs.nr_pages > tmpfs_root_fs.max_pages)
        bad(&w, "%lu pages beyond the limit of %lu", tmpfs_root_fs.nr_pages,
            tmpfs_root_fs.max_pages);
    if (!w.err)
        w.err = pagecache_swap_check(why, size);
    kfree(w.v);
    return w.err;
}
