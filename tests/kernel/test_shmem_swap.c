/*
 * tmpfs pages on swap, in the kernel (kernel/fs/tmpfs_swap.c;
 * docs/reclaim.md).  Run by the swap boot (ktest=swap_*), but they need
 * no disk: each case makes its own area on a block device of vmalloc
 * memory, at the highest priority, so that every page-out lands there
 * and its use can be counted exactly; swapoff of it at the end must
 * succeed (no slot left).
 *
 *  swap_shmem_file      a tmpfs file of 64 pages pushed out page by page:
 *                       Shmem and Cached down, st_blocks unchanged, the
 *                       slots counted; read back exactly (the slots are
 *                       free again); out again, truncated in the middle
 *                       of a page on swap (its tail zeroed, the slots
 *                       beyond freed); the file's deletion frees the rest
 *  swap_shmem_mapped    MAP_SHARED|MAP_ANONYMOUS memory shared by two
 *                       address spaces (fork): page-out clears the ptes
 *                       in both (RSS down, VmSwap unchanged), a pinned
 *                       page stays, a fault in either brings the page
 *                       back for both; exit frees every slot
 *  swap_shmem_clock     shrink_memory: GFP_NOFS leaves tmpfs pages alone
 *                       (Linux's may_enter_fs), GFP_KERNEL pushes them
 *                       out; a page read since the clock last looked gets
 *                       a second chance
 *  swap_shmem_swapoff   swapoff with tmpfs pages out brings them back
 *                       (Linux's shmem_unuse)
 * The validators (tmpfs_check with the files on swap, swap_check, the
 * address-space checks) run after every step.
 */
#include <kernel/blkdev.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/vfs.h>
#include <mm/filemap.h>
#include <mm/gfp.h>
#include <mm/migrate.h>
#include <mm/rmap.h>
#include <mm/slab.h>
#include <mm/swap.h>
#include <mm/vma.h>
#include <mm/vmalloc.h>
#include <mm/vmscan.h>
#include <mm/vmstat.h>
#include "ramdisk.h"

#define AREA_PAGES 256
#define NPAGES 64
#define SPP (PAGE_SIZE / SECTOR_SIZE)

/* ---- an area of vmalloc memory ---------------------------------------------------------- */


struct area {
    struct block_device bd;
    int type;
};

/* Format AREA_PAGES of vmalloc memory as swap and switch it on, first in
 * line.  0, or a negative errno with the device freed. */
static int area_on(struct area *a)
{
    char why[160];
    uint8_t *img = vzalloc(AREA_PAGES * PAGE_SIZE);
    if (!img)
        return -ENOMEM;
    uint32_t last = AREA_PAGES - 1;
    for (int i = 0; i < 4; i++)
        img[SWAP_HDR_VERSION_OFF + i] = (uint8_t)(1u >> (8 * i));
    for (int i = 0; i < 4; i++)
        img[SWAP_HDR_LAST_PAGE_OFF + i] = (uint8_t)(last >> (8 * i));
    memcpy(img + SWAP_HDR_MAGIC_OFF, SWAP_HDR_MAGIC, 10);
    memset(&a->bd, 0, sizeof(a->bd));
    a->bd.nr_sectors = AREA_PAGES * SPP;
    a->bd.dma_limit = ~0ul;
    a->bd.ops = &ram_ops;
    a->bd.priv = img;
    strlcpy(a->bd.name, "ram-shmem-test", sizeof(a->bd.name));
    a->type = swap_activate(&a->bd, "/dev/ram-shmem-test", SWAP_FLAG_PREFER | SWAP_FLAG_PRIO_MASK,
                            why, sizeof(why));
    if (a->type < 0) {
        printk("swap_shmem: %s\n", why);
        vfree(img);
        return a->type;
    }
    return 0;
}

static uint64_t area_used(const struct area *a)
{
    return swap_info[a->type].inuse_pages;
}

/* swapoff (every page of the area back first); the device goes. */
static int area_off(struct area *a)
{
    int err = swap_deactivate((unsigned)a->type);
    if (err == 0)
        vfree(a->bd.priv);
    return err;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static uint64_t word(uint64_t index, unsigned k, uint64_t seed)
{
    return (index * 512 + k) * 0x9e3779b97f4a7c15ul ^ seed;
}

static void fill_page(void *p, uint64_t index, uint64_t seed)
{
    for (unsigned k = 0; k < PAGE_SIZE / 8; k++)
        ((uint64_t *)p)[k] = word(index, k, seed);
}

static bool page_ok(const void *p, uint64_t index, uint64_t seed, unsigned words)
{
    for (unsigned k = 0; k < words; k++)
        if (((const uint64_t *)p)[k] != word(index, k, seed))
            return false;
    return true;
}

/* The validators, into why: NULL when all is well. */
static const char *checks(char *why, size_t size, struct mm *mm)
{
    if (tmpfs_check(why, size) || pagecache_swap_check(why, size) || swap_check(why, size))
        return why;
    if (mm && (mm_check_consistency(mm, why, size) || rmap_check_mm(mm, why, size)))
        return why;
    return NULL;
}

static struct mm *new_space(void)
{
    struct mm *mm = kzalloc(sizeof(*mm), GFP_KERNEL);
    if (mm && mm_init_user(mm, MM_VA_END_64, GFP_KERNEL)) {
        kfree(mm);
        return NULL;
    }
    return mm;
}

static void free_space(struct mm *mm)
{
    if (mm) {
        mm_destroy(mm);
        kfree(mm);
    }
}

static struct page *page_at(struct mm *mm, uint64_t va)
{
    struct pt_view pv;
    if (pt_walk(&mm->pt, va, &pv) || pv.payload)
        return NULL;
    return pfn_to_page(pv.pa >> PAGE_SHIFT);
}

/* A tmpfs file of n pages, each filled with its pattern. */
static int make_file(struct inode **out, uint64_t n, uint64_t seed)
{
    struct inode *root = vfs_root();
    if (!root)
        return -ENOMEM;
    int err = tmpfs_tmpfile(root, 0600, out);
    for (uint64_t i = 0; !err && i < n; i++) {
        struct page *pg;
        err = pagecache_get(*out, i, &pg);
        if (!err)
            fill_page(page_address(pg), i, seed);
    }
    if (!err)
        (*out)->size = n * PAGE_SIZE;
    return err;
}

/* Page out every page of the file in memory; the count that went. */
static uint64_t push_out(struct inode *ino, uint64_t n)
{
    uint64_t went = 0;
    for (uint64_t i = 0; i < n; i++) {
        struct page *pg = pagecache_find(ino, i);
        went += pg && shmem_writeout(pg) == 0;
    }
    return went;
}

/* ---- the cases ------------------------------------------------------------------------------ */

static const char *file_case(struct area *a, char *why, size_t size)
{
    static uint8_t buf[PAGE_SIZE];
    struct inode *ino = NULL;
    uint64_t shmem0 = global_node_page_state(NR_SHMEM);
    if (make_file(&ino, NPAGES, 1))
        return ino ? (inode_put(ino), "no memory for the file") : "no file";
    const char *fail = NULL;
    uint64_t blocks = pagecache_blocks(ino);
    uint64_t went = push_out(ino, NPAGES);
    if (went != NPAGES)
        fail = "not every page went out";
    else if (area_used(a) != NPAGES || ino->reg.pages.nr_swapped != NPAGES)
        fail = "slots or the file's count";
    else if (global_node_page_state(NR_SHMEM) != shmem0)
        fail = "Shmem still counts pages on swap";
    else if (pagecache_blocks(ino) != blocks || blocks != NPAGES * (PAGE_SIZE / 512))
        fail = "st_blocks changed";
    else if (pagecache_find(ino, 3) || !pagecache_has(ino, 3))
        fail = "a page on swap is found in memory, or not at all";
    if (!fail)
        fail = checks(why, size, NULL);
    /* Read back through the page cache's read (what read() uses). */
    for (uint64_t i = 0; !fail && i < NPAGES; i++) {
        if (pagecache_read(ino, i * PAGE_SIZE, buf, PAGE_SIZE))
            fail = "pagecache_read failed";
        else if (!page_ok(buf, i, 1, PAGE_SIZE / 8))
            fail = "a page read back is wrong";
    }
    if (!fail && (area_used(a) != 0 || ino->reg.pages.nr_swapped != 0 ||
                  global_node_page_state(NR_SHMEM) != shmem0 + NPAGES))
        fail = "slots not freed by the reads, or Shmem not back";
    if (!fail)
        fail = checks(why, size, NULL);
    /* Out again, then cut in the middle of page 40 (on swap). */
    if (!fail && push_out(ino, NPAGES) != NPAGES)
        fail = "second page-out";
    if (!fail && tmpfs_setsize(ino, 40 * PAGE_SIZE + 100))
        fail = "truncate";
    if (!fail && (area_used(a) != 40 || ino->reg.pages.nr_swapped != 40 ||
                  ino->reg.pages.nr_pages != 41))
        fail = "truncation did not free the slots beyond";
    if (!fail && pagecache_read(ino, 40 * PAGE_SIZE, buf, PAGE_SIZE))
        fail = "reading the cut page";
    if (!fail) {
        bool zero = true;
        for (unsigned i = 100; i < PAGE_SIZE; i++)
            zero = zero && buf[i] == 0;
        if (!zero || memcmp(buf, page_address(pagecache_find(ino, 40)), 100) != 0 ||
            ((uint64_t *)buf)[0] != word(40, 0, 1))
            fail = "the cut page's tail is not zero, or its head changed";
    }
    if (!fail)
        fail = checks(why, size, NULL);
    inode_put(ino);                    /* unnamed: deleted, its slots freed */
    if (!fail && area_used(a) != 0)
        fail = "deleting the file left slots used";
    if (!fail && global_node_page_state(NR_SHMEM) != shmem0)
        fail = "Shmem not back to where it was";
    return fail ? fail : checks(why, size, NULL);
}

KTEST(swap_shmem_file)
{
    char why[200];
    struct area a;
    KT_ASSERT(area_on(&a) == 0, "no swap area");
    const char *fail = file_case(&a, why, sizeof(why));
    int off = area_off(&a);
    KT_ASSERT(!fail, "%s", fail);
    KT_ASSERT(off == 0, "swapoff: %d", off);
}

static const char *mapped_case(struct area *a, struct mm *mm, struct mm *child, char *why,
                               size_t size)
{
    uint64_t addr;
    static uint8_t buf[PAGE_SIZE];
    if (mm_mmap(mm, 0, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS, NULL, 0, &addr))
        return "mmap";
    for (uint64_t i = 0; i < NPAGES; i++) {
        fill_page(buf, i, 2);
        if (mm_write(mm, addr + i * PAGE_SIZE, buf, PAGE_SIZE))
            return "writing the region";
    }
    if (mm_fork(child, mm, false))
        return "fork";
    /* The child maps half of the pages too. */
    if (mm_read(child, buf, addr, PAGE_SIZE) || mm_prepare_read(child, addr, NPAGES / 2 * PAGE_SIZE))
        return "the child's reads";
    uint64_t rss = mm->rss, crss = child->rss, swap_ents = mm->swap_ents;
    struct page *pinned;
    if (pin_user_page(mm, addr, &pinned))
        return "pin";
    if (shmem_writeout(pinned) != -EBUSY) {
        unpin_user_page(pinned);
        return "a pinned page went out";
    }
    unpin_user_page(pinned);
    struct inode *ino = NULL;
    uint64_t went = 0;
    for (uint64_t i = 0; i < NPAGES; i++) {
        struct page *pg = page_at(mm, addr + i * PAGE_SIZE);
        if (!pg)
            return "a page not mapped";
        ino = (struct inode *)(uintptr_t)pg->mapping;
        went += shmem_writeout(pg) == 0;
    }
    if (went != NPAGES || area_used(a) != NPAGES || !ino || ino->reg.pages.nr_swapped != NPAGES)
        return "not every mapped page went out";
    if (rss != NPAGES || crss == 0 || mm->rss != 0 || child->rss != 0 ||
        mm->swap_ents != swap_ents)
        return "RSS not down in both, or VmSwap moved";
    if (page_at(mm, addr) || page_at(child, addr + PAGE_SIZE))
        return "a pte still maps a page on swap";
    const char *fail = checks(why, size, mm);
    if (fail || (fail = checks(why, size, child)))
        return fail;
    /* The child faults the first page back; the parent finds it in the file. */
    if (mm_read(child, buf, addr, PAGE_SIZE) || !page_ok(buf, 0, 2, PAGE_SIZE / 8))
        return "the child's page back is wrong";
    if (area_used(a) != NPAGES - 1)
        return "the slot read back is not free";
    fill_page(buf, 0, 3);
    if (mm_write(mm, addr, buf, PAGE_SIZE) || mm_read(child, buf, addr, PAGE_SIZE) ||
        !page_ok(buf, 0, 3, PAGE_SIZE / 8))
        return "the parent's write is not the child's";
    for (uint64_t i = 1; i < NPAGES; i++)
        if (mm_read(mm, buf, addr + i * PAGE_SIZE, PAGE_SIZE) || !page_ok(buf, i, 2, PAGE_SIZE / 8))
            return "a page faulted back is wrong";
    if (area_used(a) != 0 || ino->reg.pages.nr_swapped != 0)
        return "slots left after every page came back";
    if ((fail = checks(why, size, mm)) || (fail = checks(why, size, child)))
        return fail;
    /* Half out again: the mappings' end (exit) frees them with the file. */
    for (uint64_t i = 0; i < NPAGES / 2; i++) {
        struct page *pg = page_at(mm, addr + i * PAGE_SIZE);
        if (!pg || shmem_writeout(pg))
            return "the second page-out";
    }
    return area_used(a) == NPAGES / 2 ? NULL : "the second page-out's slots";
}

KTEST(swap_shmem_mapped)
{
    char why[200];
    struct area a;
    KT_ASSERT(area_on(&a) == 0, "no swap area");
    struct mm *mm = new_space(), *child = kzalloc(sizeof(*child), GFP_KERNEL);
    const char *fail = mm && child ? mapped_case(&a, mm, child, why, sizeof(why)) : "no memory";
    if (child && child->pt.root)
        free_space(child);
    else
        kfree(child);
    free_space(mm);
    uint64_t left = area_used(&a);
    int off = area_off(&a);
    KT_ASSERT(!fail, "%s", fail);
    KT_ASSERT(left == 0, "%lu slots left after exit", left);
    KT_ASSERT(off == 0, "swapoff: %d", off);
    KT_ASSERT(!checks(why, sizeof(why), NULL), "%s", why);
}

static const char *clock_case(struct area *a, char *why, size_t size)
{
    struct inode *ino = NULL;
    if (make_file(&ino, NPAGES, 4))
        return ino ? (inode_put(ino), "no memory for the file") : "no file";
    const char *fail = NULL;
    /* The whole memory swept twice each time (nothing else is on swap). */
    shrink_memory(UINT64_MAX, GFP_NOFS, false);
    if (ino->reg.pages.nr_swapped != 0)
        fail = "GFP_NOFS reclaim paged tmpfs pages out";
    /* The first turn takes the pages' referenced marks, the second pushes
     * them out. */
    if (!fail)
        shrink_memory(UINT64_MAX, GFP_KERNEL, false);
    if (!fail && (ino->reg.pages.nr_swapped != NPAGES || area_used(a) != NPAGES))
        fail = "the clock did not push out the file";
    if (!fail)
        fail = checks(why, size, NULL);
    /* The second chance, step by step: a page just read is referenced. */
    struct page *pg = NULL;
    if (!fail && (pagecache_lookup(ino, 0, &pg) || !pg))
        fail = "page 0 back";
    if (!fail && shmem_reclaim_hook(pg) != -EAGAIN)
        fail = "a page just read was not given a second chance";
    if (!fail && shmem_reclaim_hook(pg) != 0)
        fail = "a page not used since the last look stayed";
    if (!fail)
        fail = checks(why, size, NULL);
    static uint8_t buf[PAGE_SIZE];
    for (uint64_t i = 0; !fail && i < NPAGES; i++)
        if (pagecache_read(ino, i * PAGE_SIZE, buf, PAGE_SIZE) || !page_ok(buf, i, 4, PAGE_SIZE / 8))
            fail = "a page back from the clock's page-out is wrong";
    inode_put(ino);
    return fail ? fail : checks(why, size, NULL);
}

KTEST(swap_shmem_clock)
{
    char why[200];
    struct area a;
    KT_ASSERT(area_on(&a) == 0, "no swap area");
    const char *fail = clock_case(&a, why, sizeof(why));
    uint64_t left = area_used(&a);
    int off = area_off(&a);
    KT_ASSERT(!fail, "%s", fail);
    KT_ASSERT(left == 0, "%lu slots left", left);
    KT_ASSERT(off == 0, "swapoff: %d", off);
}

KTEST(swap_shmem_swapoff)
{
    char why[200];
    struct area a;
    struct inode *ino = NULL;
    KT_ASSERT(area_on(&a) == 0, "no swap area");
    if (make_file(&ino, NPAGES, 5) || push_out(ino, NPAGES) != NPAGES) {
        if (ino)
            inode_put(ino);
        area_off(&a);
        KT_ASSERT(0, "file or page-out");
    }
    int off = area_off(&a);
    const char *fail = off ? "swapoff failed" : NULL;
    if (off)
        inode_put(ino);               /* frees the slots: the area can go */
    if (off)
        area_off(&a);
    KT_ASSERT(!fail, "%s: %d", fail, off);
    KT_ASSERT(ino->reg.pages.nr_swapped == 0 && pagecache_swapped_pages() == 0,
              "pages still on swap after swapoff");
    static uint8_t buf[PAGE_SIZE];
    for (uint64_t i = 0; i < NPAGES && !fail; i++)
        if (pagecache_read(ino, i * PAGE_SIZE, buf, PAGE_SIZE) || !page_ok(buf, i, 5, PAGE_SIZE / 8))
            fail = "a page back from swapoff is wrong";
    inode_put(ino);
    KT_ASSERT(!fail, "%s", fail);
    KT_ASSERT(!checks(why, sizeof(why), NULL), "%s", why);
}
