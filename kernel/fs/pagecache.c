/*
 * The page cache: the pages holding regular files' bytes.
 *
 * A file's pages are frames of the page allocator (alloc_page), reached
 * through the direct map (page_address) and found by their index in the
 * file (offset / PAGE_SIZE) in a small radix tree, the shape of Linux's
 * old radix_tree (now the xarray):
 *
 *   height 0   root is the page of index 0 itself (or NULL): a file of
 *              one page costs no node;
 *   height h   root is a node of 64 slots; a slot of a node at level l
 *              (l = h at the root, 1 at the bottom) covers 64^(l-1)
 *              indexes and holds a node (l > 1) or a page (l = 1).
 *              Index i goes down through slot (i >> 6(l-1)) & 63.
 *
 * The tree grows a level at a time when an index beyond 64^h - 1 is
 * created (the old root becomes slot 0 of the new one), and shrinks back
 * when a truncation empties everything but slot 0.  A node is 512 bytes
 * (64 pointers): a 2 MiB file needs 9 of them, a 1 GiB file 4161.  Nodes
 * come from a cache of their own ("pagecache_node" in /proc/slabinfo);
 * a truncation that frees many of them (a file of 16 MiB or more going)
 * gives the cache's empty slabs back to the page allocator at once, so
 * that a large file deleted leaves no memory behind in the slab layer.
 *
 * Invariants:
 *  - the cache holds exactly one reference on each of its pages (each pte
 *    mapping the page adds its own, include/mm/filemap.h); its pages are
 *    marked PG_FILE and counted in NR_FILE_PAGES and NR_SHMEM; a page
 *    leaves the cache only once no pte maps it (truncation unmaps first:
 *    tmpfs_setsize), so the cache's reference is the last;
 *  - no node is empty after a truncation (empty nodes may remain after an
 *    insertion failed for want of memory; the next truncation or the
 *    eviction frees them);
 *  - tree->nr_pages counts the file's pages, fs->nr_pages those of its
 *    file system (tmpfs's size limit) and cache_pages all of them;
 *  - no page lies at or beyond the page holding the last byte, and the
 *    bytes of the last page past the end are zero (truncation zeroes
 *    them), so growing a file reads zeros (unless a shared mapping wrote
 *    there, which Linux's tmpfs allows too: docs/page-cache.md);
 *  - a file seeded from the initrd reads [0, isize) from the archive
 *    wherever no page is cached; ipages counts the pages of that range
 *    with no cached page.  isize only shrinks (truncation).
 */
#include <kernel/vfs.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/uaccess.h>
#include <mm/gfp.h>
#include <mm/filemap.h>
#include <mm/slab.h>

#define PC_SHIFT 6
#define PC_SLOTS (1u << PC_SHIFT)
#define PC_MAX_HEIGHT 10            /* 64^10 = 2^60 pages: beyond any file size */

struct pc_node {
    void *slot[PC_SLOTS];
};
_Static_assert(sizeof(struct pc_node) == 512, "a node is 512 bytes");

#define SHRINK_AFTER 64                /* nodes freed by one truncation */

static unsigned long cache_pages;
static struct kmem_cache *node_cache;

static struct pc_node *node_alloc(void)
{
    if (!node_cache)
        node_cache = kmem_cache_create("pagecache_node", sizeof(struct pc_node), 0, 0, NULL);
    return node_cache ? kmem_cache_alloc(node_cache, GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN)
                      : NULL;
}

unsigned long pagecache_pages(void)
{
    return cache_pages;
}

/* The largest index a tree of this height reaches. */
static uint64_t max_index(unsigned height)
{
    if (height >= PC_MAX_HEIGHT)
        return UINT64_MAX;
    return (1ul << (PC_SHIFT * height)) - 1;
}

static unsigned slot_of(uint64_t index, unsigned level)
{
    return (unsigned)(index >> (PC_SHIFT * (level - 1))) & (PC_SLOTS - 1);
}

struct page *pagecache_find(struct inode *ino, uint64_t index)
{
    struct page_tree *t = &ino->reg.pages;
    if (index > max_index(t->height))
        return NULL;
    void *p = t->root;
    for (unsigned l = t->height; l > 0 && p; l--)
        p = ((struct pc_node *)p)->slot[slot_of(index, l)];
    return p;
}

/* The slot where the page of index lives, nodes made on the way; NULL: no memory. */
static void **tree_slot(struct page_tree *t, uint64_t index)
{
    while (index > max_index(t->height)) {
        if (t->root) {
            struct pc_node *n = node_alloc();
            if (!n)
                return NULL;
            n->slot[0] = t->root;
            t->root = n;
        }
        t->height++;
    }
    void **slot = &t->root;
    for (unsigned l = t->height; l > 0; l--) {
        if (!*slot) {
            *slot = node_alloc();
            if (!*slot)
                return NULL;
        }
        slot = &((struct pc_node *)*slot)->slot[slot_of(index, l)];
    }
    return slot;
}

static uint64_t pages_of(uint64_t bytes)
{
    return bytes / PAGE_SIZE + (bytes % PAGE_SIZE != 0);
}

int pagecache_get(struct inode *ino, uint64_t index, struct page **out)
{
    struct page *pg = pagecache_find(ino, index);
    if (pg) {
        *out = pg;
        return 0;
    }
    struct vfs_fs *fs = ino->fs;
    if (fs->max_pages && fs->nr_pages >= fs->max_pages)
        return -ENOSPC;
    void **slot = tree_slot(&ino->reg.pages, index);
    if (!slot)
        return -ENOMEM;
    pg = alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_NOWARN);   /* migration can move it */
    if (!pg)
        return -ENOMEM;
    uint8_t *p = page_address(pg);
    uint64_t off = index * PAGE_SIZE, n = 0;
    if (off < ino->reg.isize) {
        n = MIN(PAGE_SIZE, ino->reg.isize - off);
        memcpy(p, ino->reg.idata + off, n);
        ino->reg.ipages--;
    }
    memset(p + n, 0, PAGE_SIZE - n);
    *slot = pg;
    ino->reg.pages.nr_pages++;
    fs->nr_pages++;
    cache_pages++;
    filemap_page_added(pg, true);  /* PG_FILE, map count, Cached and Shmem (tmpfs) */
    pg->mapping = (uint64_t)(uintptr_t)ino;  /* the reverse map's record (include/mm/rmap.h) */
    pg->index = index;
    *out = pg;
    return 0;
}

struct page *pagecache_replace(struct inode *ino, uint64_t index, struct page *pg)
{
    struct page *old = pagecache_find(ino, index);
    if (!old)
        panic("pagecache_replace: inode %lu has no page %lu", ino->ino, index);
    void **slot = tree_slot(&ino->reg.pages, index);  /* the path exists: no allocation */
    *slot = pg;
    filemap_page_added(pg, true);
    pg->mapping = (uint64_t)(uintptr_t)ino;
    pg->index = index;
    return old;
}

static void page_drop(struct inode *ino, struct page *pg)
{
    filemap_page_removed(pg, true); /* unmapped from every process first (tmpfs.c) */
    if (put_page(pg) < 0)
        panic("pagecache: a page of inode %lu was not referenced", ino->ino);
    ino->reg.pages.nr_pages--;
    ino->fs->nr_pages--;
    cache_pages--;
}

/*
 * Free the pages of index >= start below *slot, a subtree of `level`
 * levels whose first index is base (level 0: *slot is a page).  Empty
 * nodes go too; *slot becomes NULL when nothing is left.
 */
static void trunc_slot(struct inode *ino, void **slot, unsigned level, uint64_t base,
                       uint64_t start, unsigned *freed)
{
    if (!*slot)
        return;
    if (level == 0) {
        if (base >= start) {
            page_drop(ino, *slot);
            *slot = NULL;
        }
        return;
    }
    struct pc_node *n = *slot;
    uint64_t span = 1ul << (PC_SHIFT * (level - 1));
    bool empty = true;
    for (unsigned i = 0; i < PC_SLOTS; i++) {
        uint64_t b = base + i * span;
        if (b + span > start)
            trunc_slot(ino, &n->slot[i], level - 1, b, start, freed);
        empty = empty && !n->slot[i];
    }
    if (empty) {
        kmem_cache_free(node_cache, n);
        (*freed)++;
        *slot = NULL;
    }
}

void pagecache_truncate(struct inode *ino, uint64_t size)
{
    struct page_tree *t = &ino->reg.pages;
    unsigned freed = 0;
    trunc_slot(ino, &t->root, t->height, 0, pages_of(size), &freed);
    /* Shrink the tree while only slot 0 is used. */
    while (t->height > 0 && t->root) {
        struct pc_node *n = t->root;
        bool only0 = true;
        for (unsigned i = 1; i < PC_SLOTS && only0; i++)
            only0 = !n->slot[i];
        if (!only0)
            break;
        t->root = n->slot[0];
        kmem_cache_free(node_cache, n);
        freed++;
        t->height--;
    }
    if (!t->root)
        t->height = 0;
    if (freed >= SHRINK_AFTER)
        kmem_cache_shrink(node_cache);
    if (size % PAGE_SIZE) {
        struct page *pg = pagecache_find(ino, size / PAGE_SIZE);
        if (pg)
            memset((uint8_t *)page_address(pg) + size % PAGE_SIZE, 0,
                   PAGE_SIZE - size % PAGE_SIZE);
    }
    if (ino->reg.isize > size) {
        ino->reg.isize = size;
        ino->reg.ipages = 0;
        for (uint64_t i = 0; i < pages_of(size); i++)
            ino->reg.ipages += !pagecache_find(ino, i);
    }
}

uint64_t pagecache_blocks(const struct inode *ino)
{
    return (ino->reg.pages.nr_pages + ino->reg.ipages) * (PAGE_SIZE / 512);
}

/* Where the bytes of page index are to be read: a page, the initrd or zeros
 * (NULL); *avail is how many of the page's bytes that source holds. */
static const uint8_t *read_source(struct inode *ino, uint64_t index, uint64_t *avail)
{
    struct page *pg = pagecache_find(ino, index);
    uint64_t off = index * PAGE_SIZE;
    *avail = PAGE_SIZE;
    if (pg)
        return page_address(pg);
    if (off < ino->reg.isize) {
        *avail = MIN(PAGE_SIZE, ino->reg.isize - off);
        return ino->reg.idata + off;
    }
    *avail = 0;
    return NULL;
}

static const uint8_t zeros[256];

void pagecache_read(struct inode *ino, uint64_t pos, void *dst, size_t n)
{
    uint8_t *d = dst;
    while (n) {
        uint64_t in = pos % PAGE_SIZE, avail;
        size_t k = (size_t)MIN((uint64_t)n, PAGE_SIZE - in);
        const uint8_t *src = read_source(ino, pos / PAGE_SIZE, &avail);
        size_t from = in < avail ? (size_t)MIN((uint64_t)k, avail - in) : 0;
        if (from)
            memcpy(d, src + in, from);
        memset(d + from, 0, k - from);
        d += k;
        pos += k;
        n -= k;
    }
}

/* copy_to_user of k zero bytes. */
static int zero_to_user(uint64_t ubuf, size_t k)
{
    while (k) {
        size_t c = MIN(k, sizeof(zeros));
        if (copy_to_user(ubuf, zeros, c) < 0)
            return -EFAULT;
        ubuf += c;
        k -= c;
    }
    return 0;
}

long pagecache_read_user(struct inode *ino, uint64_t pos, uint64_t ubuf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        uint64_t in = pos % PAGE_SIZE, avail;
        size_t k = (size_t)MIN((uint64_t)(n - done), PAGE_SIZE - in);
        const uint8_t *src = read_source(ino, pos / PAGE_SIZE, &avail);
        size_t from = in < avail ? (size_t)MIN((uint64_t)k, avail - in) : 0;
        /* A fault on the user's buffer may allocate, and an allocation
         * may migrate pages: the reference pins the page we copy from. */
        struct page *pin = pagecache_find(ino, pos / PAGE_SIZE);
        if (pin)
            get_page(pin);
        int bad = (from && copy_to_user(ubuf + done, src + in, from) < 0) ||
                  zero_to_user(ubuf + done + from, k - from) < 0;
        if (pin)
            put_page(pin);
        if (bad)
            return done ? (long)done : -EFAULT;
        done += k;
        pos += k;
    }
    return (long)done;
}

long pagecache_write_user(struct inode *ino, uint64_t pos, uint64_t ubuf, size_t n)
{
    size_t done = 0;
    long err = 0;
    while (done < n) {
        uint64_t in = pos % PAGE_SIZE;
        size_t k = (size_t)MIN((uint64_t)(n - done), PAGE_SIZE - in);
        struct page *pg;
        err = pagecache_get(ino, pos / PAGE_SIZE, &pg);
        if (err)
            break;
        get_page(pg);   /* pinned while the user's buffer may fault (above) */
        int bad = copy_from_user((uint8_t *)page_address(pg) + in, ubuf + done, k) < 0;
        put_page(pg);
        if (bad) {
            err = -EFAULT;
            break;
        }
        done += k;
        pos += k;
        if (pos > ino->size)
            ino->size = pos;
    }
    /* A page made for a write that then faulted holds only zeros or the
     * initrd's bytes: harmless, but past the end it would break the
     * invariant that no page lies beyond the last byte. */
    if (err)
        pagecache_truncate(ino, ino->size);
    if (done)
        inode_touch(ino);
    return done ? (long)done : err;
}
