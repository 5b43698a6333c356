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
 *    with no cached page.  isize only shrinks (truncation);
 *  - a slot holds a page or, once reclaim has put the page on swap
 *    (kernel/fs/tmpfs_swap.c), its swap entry, stored as (entry << 1) | 1
 *    (a page pointer has bit 0 clear: Linux's xarray keeps "value
 *    entries" the same way).  The entry's swap slot has one reference
 *    that is the file's (the swap cache may hold another, for a copy an
 *    anonymous fault's read-ahead brought in).  tree->nr_pages and fs->nr_pages count both kinds (so
 *    st_blocks and tmpfs's limit count pages on swap, as Linux's shmem);
 *    tree->nr_swapped counts the entries, cache_pages only pages in
 *    memory.  A file is on the swapped list exactly while nr_swapped > 0;
 *    swapped_pages is the sum over the list.
 *  - reclaim may run inside any allocation here (a node, a page) and put
 *    other pages of the same file on swap: it only rewrites leaf slots
 *    holding a page nobody pins, never a node, so a slot pointer held
 *    across an allocation stays valid, and a page we are using is pinned
 *    (get_page) before anything may allocate.
 */
#include <kernel/vfs.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/uaccess.h>
#include <mm/gfp.h>
#include <mm/filemap.h>
#include <mm/slab.h>
#include <mm/swap.h>

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

/* ---- slots: a page or a swap entry --------------------------------------------------------- */

const struct pagecache_swap_ops *pagecache_swap;
static struct inode *swapped_files;   /* files with nr_swapped > 0 */
static uint64_t swapped_pages;

static bool is_swap(const void *slot)
{
    return (uintptr_t)slot & 1;
}

static uint64_t entry_of(const void *slot)
{
    return (uintptr_t)slot >> 1;
}

static void *swap_value(uint64_t entry)
{
    return (void *)(uintptr_t)(entry << 1 | 1);
}

static void swapped_add(struct inode *ino)
{
    swapped_pages++;
    if (ino->reg.pages.nr_swapped++)
        return;
    ino->reg.swap_prev = NULL;
    ino->reg.swap_next = swapped_files;
    if (swapped_files)
        swapped_files->reg.swap_prev = ino;
    swapped_files = ino;
}

static void swapped_sub(struct inode *ino)
{
    swapped_pages--;
    if (--ino->reg.pages.nr_swapped)
        return;
    if (ino->reg.swap_prev)
        ino->reg.swap_prev->reg.swap_next = ino->reg.swap_next;
    else
        swapped_files = ino->reg.swap_next;
    if (ino->reg.swap_next)
        ino->reg.swap_next->reg.swap_prev = ino->reg.swap_prev;
    ino->reg.swap_prev = ino->reg.swap_next = NULL;
}

uint64_t pagecache_swapped_pages(void)
{
    return swapped_pages;
}

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

/* The slot of index when the path to it exists (nothing is made), else NULL. */
static void **find_slot(struct page_tree *t, uint64_t index)
{
    if (index > max_index(t->height))
        return NULL;
    void **slot = &t->root;
    for (unsigned l = t->height; l > 0 && *slot; l--)
        slot = &((struct pc_node *)*slot)->slot[slot_of(index, l)];
    return *slot ? slot : NULL;
}

struct page *pagecache_find(struct inode *ino, uint64_t index)
{
    void **slot = find_slot(&ino->reg.pages, index);
    return slot && !is_swap(*slot) ? *slot : NULL;
}

bool pagecache_has(struct inode *ino, uint64_t index)
{
    return find_slot(&ino->reg.pages, index) != NULL;
}

/* pg, fresh with its one reference, becomes the cache's page at *slot. */
static void page_install(struct inode *ino, void **slot, uint64_t index, struct page *pg)
{
    *slot = pg;
    cache_pages++;
    filemap_page_added(pg, true);  /* PG_FILE, map count, Cached and Shmem (tmpfs) */
    pg->mapping = (uint64_t)(uintptr_t)ino;  /* the reverse map's record (include/mm/rmap.h) */
    pg->index = index;
    pg->flags2 |= PG2_REFERENCED;  /* just used: reclaim's clock gives it a turn */
}

int pagecache_lookup(struct inode *ino, uint64_t index, struct page **out)
{
    void **slot = find_slot(&ino->reg.pages, index);
    *out = NULL;
    if (!slot)
        return 0;
    if (is_swap(*slot)) {
        /* Swap-in: the read may allocate and reclaim, which rewrites only
         * slots holding pages: *slot keeps its entry meanwhile. */
        struct page *pg;
        if (!pagecache_swap)
            panic("pagecache: inode %lu holds swap entry %#lx with no swap code", ino->ino,
                  entry_of(*slot));
        int err = pagecache_swap->swapin(entry_of(*slot), &pg);
        if (err)
            return err;
        swapped_sub(ino);
        page_install(ino, slot, index, pg);
    }
    *out = *slot;
    (*out)->flags2 |= PG2_REFERENCED;  /* Linux's mark_page_accessed */
    return 0;
}

void pagecache_swapped_out(struct page *pg, uint64_t entry)
{
    struct inode *ino = (struct inode *)(uintptr_t)pg->mapping;
    void **slot = ino ? find_slot(&ino->reg.pages, pg->index) : NULL;
    if (!slot || *slot != pg || !entry)
        panic("pagecache_swapped_out: page %#lx is not its file's page %lu", page_to_phys(pg),
              pg->index);
    filemap_page_removed(pg, true);    /* unmapped from every process first */
    *slot = swap_value(entry);
    cache_pages--;
    swapped_add(ino);
    pg->mapping = 0;
    pg->index = 0;
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
    struct page *pg;
    int err = pagecache_lookup(ino, index, &pg);
    if (err || pg) {
        *out = pg;
        return err;
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
    page_install(ino, slot, index, pg);
    ino->reg.pages.nr_pages++;
    fs->nr_pages++;
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
        if (base >= start && is_swap(*slot)) {
            pagecache_swap->free(entry_of(*slot));  /* the file's reference on the slot */
            swapped_sub(ino);
            ino->reg.pages.nr_pages--;
            ino->fs->nr_pages--;
            *slot = NULL;
        } else if (base >= start) {
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
        /* The last page's tail is zeroed, on swap too (Linux's
         * shmem_undo_range reads a partial page back for it). */
        struct page *pg;
        int err = pagecache_lookup(ino, size / PAGE_SIZE, &pg);
        if (err)
            printk("pagecache: inode %lu: page %lu not read back from swap (error %d): "
                   "its tail past the end is not zeroed\n", ino->ino, size / PAGE_SIZE, err);
        if (pg)
            memset((uint8_t *)page_address(pg) + size % PAGE_SIZE, 0,
                   PAGE_SIZE - size % PAGE_SIZE);
    }
    if (ino->reg.isize > size) {
        ino->reg.isize = size;
        ino->reg.ipages = 0;
        for (uint64_t i = 0; i < pages_of(size); i++)
            ino->reg.ipages += !pagecache_has(ino, i);
    }
}

uint64_t pagecache_blocks(const struct inode *ino)
{
    return (ino->reg.pages.nr_pages + ino->reg.ipages) * (PAGE_SIZE / 512);
}

/* Where the bytes of page index are to be read: a page (read back from
 * swap if it is there), the initrd or zeros (NULL); *avail is how many of
 * the page's bytes that source holds.  0, or the swap-in's error. */
static int read_source(struct inode *ino, uint64_t index, const uint8_t **src, uint64_t *avail)
{
    struct page *pg;
    int err = pagecache_lookup(ino, index, &pg);
    uint64_t off = index * PAGE_SIZE;
    *avail = PAGE_SIZE;
    *src = NULL;
    if (err)
        return err;
    if (pg) {
        *src = page_address(pg);
    } else if (off < ino->reg.isize) {
        *avail = MIN(PAGE_SIZE, ino->reg.isize - off);
        *src = ino->reg.idata + off;
    } else {
        *avail = 0;
    }
    return 0;
}

static const uint8_t zeros[256];

int pagecache_read(struct inode *ino, uint64_t pos, void *dst, size_t n)
{
    uint8_t *d = dst;
    while (n) {
        uint64_t in = pos % PAGE_SIZE, avail;
        size_t k = (size_t)MIN((uint64_t)n, PAGE_SIZE - in);
        const uint8_t *src;
        int err = read_source(ino, pos / PAGE_SIZE, &src, &avail);
        if (err)
            return err;
        size_t from = in < avail ? (size_t)MIN((uint64_t)k, avail - in) : 0;
        if (from)
            memcpy(d, src + in, from);
        memset(d + from, 0, k - from);
        d += k;
        pos += k;
        n -= k;
    }
    return 0;
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
        const uint8_t *src;
        int err = read_source(ino, pos / PAGE_SIZE, &src, &avail);
        if (err)
            return done ? (long)done : err;
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

/* ---- swapoff: every page of an area back (Linux's shmem_unuse) ------------------------------ */

/* Read back the entries of area type below *slot (level 0: *slot is a leaf). */
static int unuse_slot(struct inode *ino, void **slot, unsigned level, uint64_t base,
                      unsigned type)
{
    if (!*slot)
        return 0;
    if (level == 0) {
        struct page *pg;
        if (!is_swap(*slot) || swp_type((swp_entry_t){ entry_of(*slot) }) != type)
            return 0;
        return pagecache_lookup(ino, base, &pg);
    }
    uint64_t span = 1ul << (PC_SHIFT * (level - 1));
    for (unsigned i = 0; i < PC_SLOTS; i++) {
        int err = unuse_slot(ino, &((struct pc_node *)*slot)->slot[i], level - 1,
                             base + i * span, type);
        if (err)
            return err;
    }
    return 0;
}

int pagecache_unuse(unsigned type)
{
    /* A file leaves the list when its last entry is read back: take the
     * next one first.  Reclaim during a read may add files at the head,
     * with entries of other areas only (this one hands out no slot). */
    for (struct inode *ino = swapped_files, *next; ino; ino = next) {
        next = ino->reg.swap_next;
        int err = unuse_slot(ino, &ino->reg.pages.root, ino->reg.pages.height, 0, type);
        if (err)
            return err;
    }
    return 0;
}

/* ---- the validator's part (kernel/fs/tmpfs_check.c) ----------------------------------------- */

static uint64_t count_swapped(void *slot, unsigned level, uint64_t *bad)
{
    if (!slot)
        return 0;
    if (level == 0) {
        if (is_swap(slot) && (!pagecache_swap || pagecache_swap->count(entry_of(slot)) != 1))
            (*bad)++;
        return is_swap(slot);
    }
    uint64_t n = 0;
    for (unsigned i = 0; i < PC_SLOTS; i++)
        n += count_swapped(((struct pc_node *)slot)->slot[i], level - 1, bad);
    return n;
}

int pagecache_swap_check(char *why, size_t size)
{
    uint64_t total = 0, files = 0;
    for (struct inode *ino = swapped_files; ino; ino = ino->reg.swap_next) {
        uint64_t bad = 0, n = count_swapped(ino->reg.pages.root, ino->reg.pages.height, &bad);
        if (++files > inode_count() || n == 0 || n != ino->reg.pages.nr_swapped || bad ||
            (ino->reg.swap_next && ino->reg.swap_next->reg.swap_prev != ino)) {
            snprintf(why, size, "swapped file %lu: %lu entries, counted %lu, %lu not owned once",
                     ino->ino, n, ino->reg.pages.nr_swapped, bad);
            return -EUCLEAN;
        }
        total += n;
    }
    if (total != swapped_pages) {
        snprintf(why, size, "%lu tmpfs pages on swap, the files hold %lu", swapped_pages, total);
        return -EUCLEAN;
    }
    return 0;
}
