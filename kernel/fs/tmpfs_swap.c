/*
 * tmpfs pages on swap (docs/reclaim.md, docs/tmpfs.md): tmpfs files and
 * MAP_SHARED anonymous memory (files of the internal tmpfs,
 * kernel/fs/tmpfs_mmap.c) are swap-backed, as Linux's shmem: under memory
 * pressure a page nobody used lately is written to a swap slot, and the
 * next read, write or fault of it reads it back.
 *
 * Page-out of one page (shmem_writeout, Linux's shmem_writeout):
 *  1. a slot (get_swap_page: its one reference will be the file's);
 *  2. every pte mapping the page, found through the file's i_mmap (the
 *     reverse map's walk for PG_FILE pages), is simply cleared: a later
 *     fault finds the page again through the file, so no swap entry goes
 *     in a pte (Linux's try_to_unmap of a file page); first, so that no
 *     thread running on another CPU writes to it after step 3's copy;
 *  3. the page is written to the slot (swap_writepage);
 *  4. the file's slot takes the swap entry in place of the page
 *     (pagecache_swapped_out) and the page is freed.
 * The page's other users keep it: a page pinned (refcount above the
 * cache's reference plus its ptes: a read() copying from it, a kernel
 * pin), or one used since the clock last passed (an accessed bit in a
 * pte, or PG2_REFERENCED set by the page cache on read and write: Linux's
 * PG_referenced), stays.
 *
 * Swap-in of one slot (shmem_swapin, Linux's shmem_swapin_folio): a new
 * page, the slot read into it, the slot freed at once.  The page never
 * lingers in the swap cache (Linux too deletes it from the swap cache
 * once the page is back in the file), so a tmpfs page in memory is never
 * also on disk.  An anonymous fault's read-ahead reads neighbouring
 * slots, tmpfs ones included, into the swap cache: such a page is taken
 * from there rather than read again, and one nobody takes is dropped by
 * the clock or freed with its slot (truncation), as Linux's
 * free_swap_and_cache.
 *
 * Flags: page-out of a tmpfs page needs __GFP_FS as well as __GFP_IO.
 * Linux writes a dirty page that is not yet in the swap cache only when
 * the allocation may enter a file system (may_enter_fs in mm/vmscan.c),
 * which tmpfs pages always are: GFP_NOFS reclaims anonymous pages only.
 *
 * Counting: Shmem and Cached (NR_SHMEM, NR_FILE_PAGES) count tmpfs pages
 * in memory only; st_blocks and tmpfs's size limit count pages on swap
 * too (Linux's shmem counts info->alloced); VmSwap counts the swap
 * entries in a process's ptes, so tmpfs pages on swap are not in it
 * (Linux's proc documentation: "shmem swap usage is not included");
 * RssShmem goes down as the ptes go.
 *
 * Invariant: a tmpfs page on swap has exactly one reference on its slot
 * besides the swap cache's (a read-ahead copy), held by its file's slot
 * in the page cache, and no pte names it.
 */
#include <kernel/vfs.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <mm/filemap.h>
#include <mm/gfp.h>
#include <mm/rmap.h>
#include <mm/vma.h>
#include <mm/vm_event.h>
#include <mm/vmscan.h>

/* ---- page-out ---------------------------------------------------------------------------- */

struct survey {
    uint64_t maps;
    bool young;
};

static int survey_one(const struct rmap_hit *h, void *arg)
{
    struct survey *s = arg;
    s->maps++;
    if (pt_test_clear_young(&h->mm->pt, &h->pv) > 0)
        s->young = true;
    return 0;
}

static int unmap_one(const struct rmap_hit *h, void *arg)
{
    (void)arg;
    /* The pte goes, its reference and map count with it (one flush). */
    mm_unmap_pages(h->mm, h->pv.va, h->pv.va + PAGE_SIZE);
    return 0;
}

/* Is pg a tmpfs page nobody pins?  Its pte count, or -EBUSY. */
static int unpinned_maps(struct page *pg, bool *young)
{
    if (!(pg->flags & PG_FILE) || !pg->mapping || pg->refcount == 0 || pg->order ||
        (pg->flags2 & PG2_SWAPCACHE))
        return -EBUSY;
    struct survey s = { 0, false };
    rmap_walk(pg, survey_one, &s);
    *young = s.young;
    if (s.maps != page_mapcount(pg) || pg->refcount != 1 + s.maps)
        return -EBUSY;                 /* pinned, or mapped where the walk cannot see */
    return (int)s.maps;
}

int shmem_writeout(struct page *pg)
{
    bool young;
    if (unpinned_maps(pg, &young) < 0)
        return -EBUSY;
    swp_entry_t e = get_swap_page();
    if (!e.val)
        return -ENOSPC;
    /* Unmapped before the copy: a thread of a mapping process that runs
     * on another CPU faults from now on instead of writing into a frame
     * whose copy is already taken (Linux's try_to_unmap comes first too). */
    rmap_walk(pg, unmap_one, NULL);
    if (swap_writepage(e, page_to_phys(pg))) {
        /* The slot keeps its reference for ever (retired, as for an
         * anonymous page) and the page stays in the file, unmapped: the
         * next fault maps it again. */
        printk("swap: write error at entry %#lx (tmpfs page): slot retired\n", e.val);
        return -EIO;
    }
    count_vm_event(PSWPOUT);
    if (pg->refcount != 1 || page_mapcount(pg))
        panic("shmem_writeout: page %#lx still has %u references, %u ptes", page_to_phys(pg),
              pg->refcount, page_mapcount(pg));
    pagecache_swapped_out(pg, e.val);  /* the slot's reference is the file's now */
    put_page(pg);                      /* the cache's: freed */
    return 0;
}

/* The clock's step at a tmpfs page (shmem_reclaim_hook, mm/vmscan.c). */
static int shmem_reclaim(struct page *pg)
{
    bool young;
    int maps = unpinned_maps(pg, &young);
    bool referenced = pg->flags2 & PG2_REFERENCED;
    pg->flags2 &= (uint8_t)~PG2_REFERENCED;
    if (maps < 0)
        return -EBUSY;
    if (young || referenced)
        return -EAGAIN;                /* used since the last turn: a second chance */
    return shmem_writeout(pg);
}

/* ---- swap-in and the slots --------------------------------------------------------------- */

/* The slot's references other than the swap cache's: the file's 1. */
static int shmem_swap_count(uint64_t entry)
{
    swp_entry_t e = { entry };
    int count = swap_count(e);
    return count > 0 && lookup_swap_cache(e) ? count - 1 : count;
}

static int shmem_swapin(uint64_t entry, struct page **out)
{
    swp_entry_t e = { entry };
    int count = shmem_swap_count(entry);
    if (count != 1) {
        printk("swap: tmpfs entry %#lx has count %d, not its file's 1\n", entry, count);
        return -EIO;
    }
    /* An anonymous fault's read-ahead may have read the slot already
     * (mm/swap_readahead.c): a page only the swap cache holds is taken
     * out of it and used (Linux's shmem_swapin_folio finds it there). */
    struct page *pg = lookup_swap_cache(e);
    if (pg && pg->refcount == 1) {
        get_page(pg);
        delete_from_swap_cache(pg);    /* the cache's references on page and slot */
        pg->flags &= (uint8_t)~PG_ANON;
        pg->flags2 &= PG2_MOVABLE;     /* no longer a read-ahead page */
        pg->mapping = pg->index = 0;
    } else {
        struct page *cached = pg;
        pg = alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_NOWARN);
        if (!pg)
            return -ENOMEM;
        if (cached) {
            memcpy(page_address(pg), page_address(cached), PAGE_SIZE);
        } else if (swap_readpage(e, page_to_phys(pg))) {
            put_page(pg);
            return -EIO;               /* the entry stays: the data is still there */
        } else {
            count_vm_event(PSWPIN);
        }
    }
    swap_free(e);                      /* the file's reference */
    *out = pg;
    return 0;
}

static void shmem_free_swap(uint64_t entry)
{
    swp_entry_t e = { entry };
    swap_free(e);
    /* Read ahead into the swap cache and nobody else: both go. */
    struct page *pg = lookup_swap_cache(e);
    if (pg && pg->refcount == 1)
        try_to_free_swap(pg);
}

static const struct pagecache_swap_ops tmpfs_swap_ops = {
    .swapin = shmem_swapin,
    .free = shmem_free_swap,
    .count = shmem_swap_count,
};

/* swapoff: the processes' pages, then the files' (Linux's try_to_unuse
 * calls shmem_unuse first; the order does not matter here). */
static int tmpfs_swapoff(unsigned type)
{
    int err = swap_unuse(type);
    return err ? err : pagecache_unuse(type);
}

void tmpfs_swap_init(void)
{
    pagecache_swap = &tmpfs_swap_ops;
    shmem_reclaim_hook = shmem_reclaim;
    swapoff_hook = tmpfs_swapoff;
}
