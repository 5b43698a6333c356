/*
 * swapon and swapoff on a block device, and the only two ways to its
 * bytes (include/mm/swap.h).
 *
 * swap_activate reads the device's first page, has mm/swap_header.c
 * validate it, builds the map (slot 0 and the bad pages marked
 * SWAP_MAP_BAD, every other slot free) and the per-cluster counts, and
 * adds the area to the table (mm/swapfile.c).  swap_deactivate takes an
 * area out of allocation, asks swapoff_hook to bring its pages back, and
 * removes it only when no slot is used any more.
 *
 * Invariant: a device is written only by swap_writepage, only while it
 * is an area in use (so it carried the SWAPSPACE2 signature and a user
 * or the command line named it), only inside the area (slot 1 ..
 * max - 1, never the header) and only at a slot that is allocated.
 * Nothing here writes the header: a refused device is left exactly as
 * it was.
 *
 * Compared with Linux: no discard, no swap files (a regular file is
 * refused with -EINVAL by the system call), areas cut to SWP_OFFSET_MAX
 * pages (256 GiB) so that an entry fits the i386 PTE, and swapoff of an
 * area with used slots is -EBUSY unless swapoff_hook brought them back
 * (the page-in path sets it: swap_unuse, Linux's try_to_unuse).
 */
#include <mm/swap.h>
#include <mm/gfp.h>
#include <mm/vmalloc.h>
#include <kernel/blkdev.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>

/* Read and validate bd's header into *h.  0, -ENOMEM, -EIO, -EINVAL.
 * The read may sleep. */
static int read_header(struct block_device *bd, struct swap_header_info *h, char *why,
                       size_t size)
{
    void *page = get_zeroed_page(GFP_KERNEL);
    if (!page)
        return -ENOMEM;
    uint64_t dev_pages = bd->nr_sectors / (4096 / SECTOR_SIZE);
    int err = dev_pages ? blk_read(bd, 0, page, 4096 / SECTOR_SIZE) : 0;
    if (err)
        snprintf(why, size, "cannot read the header page (error %d)", err);
    else
        err = swap_header_parse(page, 4096, dev_pages, h, why, size);
    free_page(page);
    return err;
}

/* The map and cluster counts of si for header h (si->max set). */
static int build_map(struct swap_info_struct *si, const struct swap_header_info *h)
{
    uint64_t nclusters = (si->max + SWAPFILE_CLUSTER - 1) / SWAPFILE_CLUSTER;
    si->swap_map = vzalloc(si->max * sizeof(uint16_t));
    si->cluster_used = vzalloc(nclusters * sizeof(uint16_t));
    if (!si->swap_map || !si->cluster_used) {
        vfree(si->swap_map);
        vfree(si->cluster_used);
        si->swap_map = si->cluster_used = NULL;
        return -ENOMEM;
    }
    si->swap_map[0] = SWAP_MAP_BAD;
    si->cluster_used[0] = 1;
    uint64_t bad = 0;
    for (uint32_t i = 0; i < h->nr_badpages; i++) {
        uint32_t b = h->badpages[i];
        if (b < si->max) {   /* the parser refused duplicates */
            si->swap_map[b] = SWAP_MAP_BAD;
            si->cluster_used[b / SWAPFILE_CLUSTER]++;
            bad++;
        }
    }
    si->pages = si->max - 1 - bad;
    si->lowest_bit = 1;
    si->highest_bit = si->max - 1;
    si->cluster_next = 1;
    si->cluster_nr = 0;
    return 0;
}

/* A free table entry, or -EPERM; -EBUSY when bd overlaps an area. */
static int free_type(const struct block_device *bd, char *why, size_t size)
{
    if (swap_bdev_busy(bd)) {
        snprintf(why, size, "%s (or its disk, or a partition of it) is already in use for swap",
                 bd->name);
        return -EBUSY;
    }
    for (unsigned type = 0; type < MAX_SWAPFILES; type++)
        if (!(swap_info[type].flags & SWP_USED))
            return (int)type;
    snprintf(why, size, "%u swap areas are the most there can be", MAX_SWAPFILES);
    return -EPERM;
}

/*
 * The area is built aside (the header read and the map's allocation may
 * sleep, and another swapon may run meanwhile) and enters the table only
 * once complete, after checking again that its device is free.
 */
int swap_activate(struct block_device *bd, const char *name, unsigned flags, char *why,
                  size_t size)
{
    if (size)
        why[0] = 0;
    if (flags & ~SWAP_FLAGS_VALID) {
        snprintf(why, size, "unknown swapon flags %#x", flags & ~SWAP_FLAGS_VALID);
        return -EINVAL;
    }
    int type = free_type(bd, why, size);
    if (type < 0)
        return type;
    /* The header's fields with their 637 bad pages: too big for the stack. */
    struct swap_header_info *h = (void *)__get_free_page(GFP_KERNEL);
    if (!h)
        return -ENOMEM;
    _Static_assert(sizeof(*h) <= 4096, "the header's fields fit a page");
    int err = read_header(bd, h, why, size);
    if (err) {
        printk("swapon: %s: %s\n", name, why);
        free_page(h);
        return err;
    }
    struct swap_info_struct n = { .bdev = bd, .max = (uint64_t)h->last_page + 1 };
    if (n.max > SWP_OFFSET_MAX + 1) {
        printk("swapon: %s: truncating oversized swap area, only using %luk out of %luk\n",
               name, SWP_OFFSET_MAX * 4, (uint64_t)h->last_page * 4);
        n.max = SWP_OFFSET_MAX + 1;
    }
    snprintf(n.name, sizeof(n.name), "%s", name);
    memcpy(n.uuid, h->uuid, sizeof(n.uuid));
    memcpy(n.label, h->label, sizeof(n.label));
    err = build_map(&n, h);
    free_page(h);
    if (err) {
        snprintf(why, size, "no memory for the map of %lu slots", n.max);
        return err;
    }
    type = free_type(bd, why, size);
    if (type < 0) {
        vfree(n.swap_map);
        vfree(n.cluster_used);
        return type;
    }
    struct swap_info_struct *si = &swap_info[type];
    *si = n;
    si->type = (unsigned)type;
    swap_area_add(si, (flags & SWAP_FLAG_PREFER) ? (int)(flags & SWAP_FLAG_PRIO_MASK)
                                                : SWAP_PRIO_AUTO);
    printk("Adding %luk swap on %s.  Priority:%d extents:1 across:%luk%s%s\n", si->pages * 4,
           name, si->prio, (si->max - 1) * 4, si->label[0] ? " label:" : "", si->label);
    return type;
}

/*
 * While swapoff_hook runs (it may sleep), the area hands out no slot and
 * a second swapoff of it finds no area in use: -EINVAL, as Linux.
 */
int swap_deactivate(unsigned type)
{
    if (type >= MAX_SWAPFILES || (swap_info[type].flags & (SWP_USED | SWP_WRITEOK)) !=
                                     (SWP_USED | SWP_WRITEOK))
        return -EINVAL;
    struct swap_info_struct *si = &swap_info[type];
    si->flags &= ~SWP_WRITEOK;
    total_swap_pages -= si->pages;
    nr_swap_pages -= si->pages - si->inuse_pages;
    int err = 0;
    if (si->inuse_pages && swapoff_hook)
        err = swapoff_hook(type);
    if (si->inuse_pages) {
        si->flags |= SWP_WRITEOK;
        total_swap_pages += si->pages;
        nr_swap_pages += si->pages - si->inuse_pages;
        return err ? err : -EBUSY;
    }
    vfree(si->swap_map);
    vfree(si->cluster_used);
    si->swap_map = si->cluster_used = NULL;
    swap_area_remove(si);
    return 0;
}

/* The area of e when e is an allocated slot, else NULL. */
static struct swap_info_struct *slot_area(swp_entry_t e)
{
    unsigned t = swp_type(e);
    uint64_t off = swp_offset(e);
    if (t >= MAX_SWAPFILES || !(swap_info[t].flags & SWP_USED))
        return NULL;
    struct swap_info_struct *si = &swap_info[t];
    if (off == 0 || off >= si->max)
        return NULL;
    uint16_t c = si->swap_map[off];
    return c && c != SWAP_MAP_BAD ? si : NULL;
}

static int swap_rw(swp_entry_t e, uint64_t pa, bool write)
{
    struct swap_info_struct *si = slot_area(e);
    if (!si || (pa & 4095))
        return -EINVAL;
    return blk_rw_page(si->bdev, swp_offset(e) * (4096 / SECTOR_SIZE), pa, write);
}

int swap_writepage(swp_entry_t e, uint64_t pa)
{
    return swap_rw(e, pa, true);
}

int swap_readpage(swp_entry_t e, uint64_t pa)
{
    return swap_rw(e, pa, false);
}
