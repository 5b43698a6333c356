/*
 * Runs of slots to and from the disk in one request (include/mm/swap.h;
 * docs/swap.md, "Clustered I/O").
 *
 * A run is n consecutive offsets of one area; their pages sit side by
 * side on the disk (slot k is sectors 8k .. 8k + 7), so one multi-page
 * block request (blk_rw_pages: a descriptor chain for virtio-blk, a PRP
 * list for NVMe) moves them all.  Reclaim writes the batches that
 * get_swap_pages hands out this way (mm/swap_cluster.c); the page-in
 * fault reads a read-ahead window this way (mm/swap_readahead.c).
 *
 * Invariant, as swap_writepage's (mm/swapon.c): a device is only written
 * inside an area in use, at slots that are allocated; a run with one
 * slot that is not is refused whole, before anything is sent.
 */
#include <mm/swap.h>
#include <kernel/blkdev.h>
#include <kernel/errno.h>

/* The run's area, after its checks (NULL: -EINVAL). */
static struct swap_info_struct *run_area(swp_entry_t first, const uint64_t *pa, unsigned n)
{
    unsigned t = swp_type(first);
    uint64_t off = swp_offset(first);
    if (n == 0 || n > BLK_MAX_PAGES || t >= MAX_SWAPFILES || !(swap_info[t].flags & SWP_USED))
        return NULL;
    struct swap_info_struct *si = &swap_info[t];
    if (off == 0 || off >= si->max || n > si->max - off)
        return NULL;
    for (unsigned i = 0; i < n; i++) {
        uint16_t c = si->swap_map[off + i];
        if (c == 0 || c == SWAP_MAP_BAD || (pa[i] & 4095))
            return NULL;
    }
    return si;
}

static int swap_rw_run(swp_entry_t first, const uint64_t *pa, unsigned n, bool write)
{
    struct swap_info_struct *si = run_area(first, pa, n);
    if (!si)
        return -EINVAL;
    return blk_rw_pages(si->bdev, swp_offset(first) * (4096 / SECTOR_SIZE), pa, n, write);
}

int swap_readpages_async(swp_entry_t first, const uint64_t *pa, unsigned n,
                         struct blk_request *rq)
{
    struct swap_info_struct *si = run_area(first, pa, n);
    if (!si)
        return -EINVAL;
    return blk_read_pages_async(si->bdev, swp_offset(first) * (4096 / SECTOR_SIZE), pa, n, rq);
}

int swap_writepages(swp_entry_t first, const uint64_t *pa, unsigned n)
{
    return swap_rw_run(first, pa, n, true);
}

int swap_readpages(swp_entry_t first, const uint64_t *pa, unsigned n)
{
    return swap_rw_run(first, pa, n, false);
}
