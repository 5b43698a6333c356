/*
 * Mapping tmpfs files into address spaces (docs/page-cache.md): each
 * regular file's struct vm_mapping (include/mm/filemap.h), which lets the
 * fault path reach the file's page-cache pages (kernel/fs/pagecache.c);
 * what mmap needs to know of an open file; and MAP_SHARED anonymous
 * memory, made of unlinked files of an internal tmpfs as Linux's shmem
 * makes it (shmem_zero_setup on shm_mnt).
 *
 * Invariants:
 *  - a regular tmpfs file has a mapping (ino->reg.mapping) exactly while
 *    a VMA maps it, or during the mmap call making the first one: the
 *    mapping is made by file_mmap_prepare and freed when its last VMA
 *    goes (tm_put) or the mmap that made it fails (file_mmap_finish);
 *  - each VMA on the mapping's i_mmap list holds one reference on the
 *    inode (tm_get): an unlinked file stays, pages and all, until the
 *    last close and the last munmap, as on Linux;
 *  - the mapping holds no reference of its own, so the inode can never
 *    be evicted with a mapping attached.
 *
 * /proc/self/maps wants the file's path, which Linux reads from the open
 * file's dentry.  A tmpfs file here knows none of its names (only a
 * directory knows its parent), so the path is looked up when the file is
 * mapped, by walking the tree from the root for an entry naming the
 * inode, and kept with the mapping: a rename after the mmap is not seen;
 * an unlink shows as " (deleted)", as on Linux.
 */
#include <kernel/vfs.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <mm/slab.h>
#include <mm/vma.h>
#include <mm/rmap.h>

struct tmpfs_mapping {
    struct vm_mapping m;           /* first: the container is found from it */
    struct inode *ino;             /* the file (the VMAs hold its references) */
    char *path;                    /* for /proc/self/maps (kmalloc'ed) */
};

static struct tmpfs_mapping *tm_of(struct vm_mapping *m)
{
    return (struct tmpfs_mapping *)m;
}

static uint64_t pages_of(uint64_t bytes)
{
    return bytes / PAGE_SIZE + (bytes % PAGE_SIZE != 0);
}

/* ---- the mapping's operations ---------------------------------------------------------- */

static int tm_fault(struct vm_mapping *m, uint64_t index, uint64_t *pa)
{
    struct inode *ino = tm_of(m)->ino;
    struct page *pg;
    if (index >= pages_of(ino->size))
        return -EIO;                   /* past the end of the file: SIGBUS */
    int err = pagecache_get(ino, index, &pg);
    if (err)
        return err;                    /* -ENOSPC (SIGBUS) or -ENOMEM */
    *pa = page_to_phys(pg);
    return 0;
}

static uint64_t tm_find(struct vm_mapping *m, uint64_t index)
{
    struct page *pg = pagecache_find(tm_of(m)->ino, index);
    return pg ? page_to_phys(pg) : 0;
}

static void tm_get(struct vm_mapping *m)
{
    inode_get(tm_of(m)->ino);
}

static void tm_free(struct tmpfs_mapping *tm)
{
    tm->ino->reg.mapping = NULL;
    kfree(tm->path);
    kfree(tm);
}

static void tm_put(struct vm_mapping *m)
{
    struct tmpfs_mapping *tm = tm_of(m);
    struct inode *ino = tm->ino;
    if (m->nr_vmas == 0)
        tm_free(tm);                   /* unmapped everywhere: forget it */
    inode_put(ino);                    /* last: the file may go with it */
}

static void tm_ident(struct vm_mapping *m, uint64_t *dev, uint64_t *ino)
{
    *dev = tm_of(m)->ino->fs->dev;
    *ino = tm_of(m)->ino->ino;
}

static const char *tm_name(struct vm_mapping *m, bool *deleted)
{
    struct tmpfs_mapping *tm = tm_of(m);
    *deleted = tm->ino->nlink == 0;
    return tm->path;
}

/* ---- migration's file half (include/mm/rmap.h) ------------------------------------------ */

static struct vm_mapping *pc_mapping_of(const struct page *pg)
{
    struct inode *ino = (struct inode *)(uintptr_t)pg->mapping;
    return ino ? ino->reg.mapping : NULL;
}

/* new, a copy of old, takes its slot, its ptes, and the cache's place. */
static void pc_replace(struct page *old, struct page *new)
{
    struct inode *ino = (struct inode *)(uintptr_t)old->mapping;
    uint64_t index = old->index;
    pagecache_replace(ino, index, new);
    if (ino->reg.mapping)
        filemap_move_ptes(ino->reg.mapping, index, page_to_phys(old), page_to_phys(new));
    filemap_page_removed(old, true);   /* no pte maps it any more */
    old->mapping = 0;
    old->index = 0;
    put_page(old);                     /* the cache's reference (freed, or by the caller's) */
}

const struct filemap_owner_ops pagecache_owner = {
    .mapping_of = pc_mapping_of,
    .replace = pc_replace,
};

/* A page above 4 GiB faulted by an i386 process: a copy from gfp takes
 * its place in the cache and in every pte (mm/filemap.c). */
static int tm_migrate(struct vm_mapping *m, uint64_t index, gfp_t gfp, uint64_t *pa)
{
    /* Pinned while the copy is allocated: reclaim may run inside the
     * allocation and would otherwise put the page on swap. */
    struct page *old = pagecache_find(tm_of(m)->ino, index);
    if (!old)
        return -EIO;
    get_page(old);
    struct page *pg = alloc_page(gfp | __GFP_MOVABLE | __GFP_NOWARN);
    if (!pg) {
        put_page(old);
        return -ENOMEM;
    }
    memcpy(page_address(pg), page_address(old), PAGE_SIZE);
    pc_replace(old, pg);
    put_page(old);                     /* ours, the last: freed */
    *pa = page_to_phys(pg);
    return 0;
}

static const struct vm_mapping_ops tmpfs_mapping_ops = {
    .fault = tm_fault,
    .find = tm_find,
    .get = tm_get,
    .put = tm_put,
    .ident = tm_ident,
    .name = tm_name,
    .migrate = tm_migrate,
};

/* ---- the file's path --------------------------------------------------------------------- */

/*
 * The directory holding an entry that names ino, and the entry, found by
 * a walk of the whole tree from the root, depth first, without recursion
 * (a directory knows its parent, so the walk climbs back up).  NULL when
 * no entry names ino (an unlinked or O_TMPFILE file).
 */
static struct dentry *find_entry(struct inode *ino, struct inode **in)
{
    struct inode *root = vfs_root(), *dir = root;
    struct dentry *d = root ? root->dir.first : NULL;
    while (dir) {
        if (!d) {                      /* this directory is done: back up */
            if (dir == root)
                return NULL;
            struct inode *parent = dir->parent;
            struct dentry *up = parent ? dir_find_inode(parent, dir) : NULL;
            if (!up)
                return NULL;
            dir = parent;
            d = up->next;
            continue;
        }
        if (d->inode == ino) {
            *in = dir;
            return d;
        }
        struct inode *sub = d->inode;
        if (S_ISDIR(sub->mode) && sub->ops == &tmpfs_dir_iops && sub->dir.first) {
            dir = sub;
            d = sub->dir.first;
        } else {
            d = d->next;
        }
    }
    return NULL;
}

/* A kmalloc'ed path naming ino ("/tmp/x"), or NULL (none found, no memory). */
static char *path_of(struct inode *ino)
{
    struct inode *dir;
    struct dentry *d = find_entry(ino, &dir);
    if (!d)
        return NULL;
    char *buf = kmalloc(PATH_MAX, GFP_KERNEL | __GFP_NOWARN);
    if (!buf)
        return NULL;
    long n = dir_path(dir, buf, PATH_MAX);
    char *path = NULL;
    if (n > 0 && (size_t)n + 1 + d->len < PATH_MAX) {
        size_t at = (size_t)n;
        if (buf[at - 1] != '/')
            buf[at++] = '/';
        memcpy(buf + at, d->name, d->len + 1u);
        size_t len = at + d->len + 1;
        if ((path = kmalloc(len, GFP_KERNEL | __GFP_NOWARN)) != NULL)
            memcpy(path, buf, len);
    }
    kfree(buf);
    return path;
}

/* ---- mmap of an open file ---------------------------------------------------------------- */

/* The mapping of a regular tmpfs file, made if it has none: NULL (no memory). */
static struct tmpfs_mapping *inode_mapping(struct inode *ino)
{
    if (ino->reg.mapping)
        return tm_of(ino->reg.mapping);
    struct tmpfs_mapping *tm = kzalloc(sizeof(*tm), GFP_KERNEL | __GFP_NOWARN);
    if (!tm)
        return NULL;
    tm->m.ops = &tmpfs_mapping_ops;
    tm->ino = ino;
    ino->reg.mapping = &tm->m;
    return tm;
}

/* Is the file /dev/zero (whose mmap is anonymous memory, as Linux's mmap_zero)? */
static bool is_dev_zero(const struct inode *ino)
{
    return ino && S_ISCHR(ino->mode) && ino->rdev == LINUX_MKDEV(1, 5);
}

int file_mmap_prepare(struct file *f, struct mmap_file *mf)
{
    struct inode *ino = f->inode;
    unsigned mode = f->flags & O_ACCMODE;
    *mf = (struct mmap_file){ NULL, mode != O_WRONLY, mode != O_RDONLY, NULL };
    if (is_dev_zero(ino))
        return 1;
    if (!ino || !S_ISREG(ino->mode) || ino->ops != &tmpfs_reg_iops)
        return 0;                      /* pipes, the console, /proc, directories: -ENODEV */
    struct tmpfs_mapping *tm = inode_mapping(ino);
    if (!tm)
        return -ENOMEM;
    /* The path as of this mmap; an unlinked file keeps the one it had. */
    char *path = path_of(ino);
    if (path) {
        kfree(tm->path);
        tm->path = path;
    } else if (!tm->path) {
        /* Unnamed since before its first mmap (O_TMPFILE, unlinked while
         * open): only its number is known. */
        tm->path = kmalloc(32, GFP_KERNEL | __GFP_NOWARN);
        if (tm->path)
            snprintf(tm->path, 32, "/#%lu", ino->ino);
    }
    mf->mapping = &tm->m;
    if (!tm->path) {
        file_mmap_finish(mf);          /* a mapping no VMA had yet goes */
        return -ENOMEM;
    }
    return 0;
}

void file_mmap_finish(struct mmap_file *mf)
{
    struct vm_mapping *m = mf->mapping;
    if (m && m->nr_vmas == 0)
        tm_free(tm_of(m));
    mf->mapping = NULL;
}

/* ---- MAP_SHARED anonymous memory --------------------------------------------------------- */

/* Linux's shm_mnt: a tmpfs nobody sees, without size limits (the memory
 * is the process's, as anonymous memory is). */
static struct vfs_fs shm_fs = {
    .name = "tmpfs",
    .magic = TMPFS_MAGIC,
    .dev = LINUX_MKDEV(0, 2),
    .mnt_id = 3,
    .blksize = 4096,
};

int shmem_zero_setup(uint64_t len, struct vm_mapping **out)
{
    if (!shm_fs.root && tmpfs_init(&shm_fs, 0))
        return -ENOMEM;
    struct inode *ino;
    if (tmpfs_tmpfile(shm_fs.root, 0600, &ino))
        return -ENOMEM;
    ino->size = len;
    struct tmpfs_mapping *tm = inode_mapping(ino);
    char *name = kmalloc(sizeof("/dev/zero"), GFP_KERNEL | __GFP_NOWARN);
    if (!tm || !name) {
        if (tm)
            tm_free(tm);
        kfree(name);
        inode_put(ino);                /* nlink 0: freed */
        return -ENOMEM;
    }
    memcpy(name, "/dev/zero", sizeof("/dev/zero"));
    tm->path = name;                   /* "/dev/zero (deleted)", as Linux shows it */
    *out = &tm->m;                     /* tmpfs_tmpfile's reference is the caller's */
    return 0;
}
