/*
 * The slot allocator: which page of which swap area a page goes to
 * (Linux's get_swap_page, swap_duplicate, swap_free over swap_map).
 *
 * Invariants, for every area in use (mm/swap_check.c recounts them):
 *  - swap_map[0] and every bad page listed by the header are
 *    SWAP_MAP_BAD, forever; every other slot is 0 (free) or its number
 *    of references, 1..SWAP_MAP_MAX;
 *  - inuse_pages is the number of slots with a count; pages - inuse_pages
 *    are free;
 *  - cluster_used[c] is the number of slots of cluster c (slots
 *    c * SWAPFILE_CLUSTER ...) that are not free: counted or bad;
 *  - every free slot lies in [lowest_bit, highest_bit], so a search
 *    never looks outside.
 *
 * Allocation, Linux's cluster idea made small: an area hands out slots
 * one after the other from cluster_next, so that pages written out
 * together sit together on the disk; every SWAPFILE_CLUSTER slots it
 * looks for a cluster with nothing in it and moves there, and when there
 * is none it goes on with the next free slot after the last one.  Areas
 * are tried by priority, the highest first; areas of one priority take
 * turns, one slot (or one run of get_swap_pages) each.  get_swap_pages
 * hands out a run of consecutive slots, so that reclaim writes a batch of
 * pages in one request (mm/swap_cluster.c).
 *
 * Left out: Linux's swap cache bit (SWAP_HAS_CACHE) and count
 * continuation pages (its swap_map is 8 bits wide; this one's 16 bits
 * make a count of 32767 the limit: swap_duplicate says -ENOMEM beyond).
 */
#include <mm/swap.h>
#include <mm/page.h>
#include <kernel/errno.h>
#include <kernel/printk.h>

static unsigned last_type = MAX_SWAPFILES - 1;   /* the area that gave the last slot */

static bool can_allocate(const struct swap_info_struct *si)
{
    return (si->flags & (SWP_USED | SWP_WRITEOK)) == (SWP_USED | SWP_WRITEOK) &&
           si->inuse_pages < si->pages;
}

static uint64_t nr_clusters(const struct swap_info_struct *si)
{
    return (si->max + SWAPFILE_CLUSTER - 1) / SWAPFILE_CLUSTER;
}

/* An empty cluster at or after the current one (wrapping), or none. */
static bool find_free_cluster(struct swap_info_struct *si)
{
    uint64_t n = nr_clusters(si), c0 = si->cluster_next / SWAPFILE_CLUSTER;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t c = (c0 + i) % n;
        if (si->cluster_used[c] == 0) {
            si->cluster_next = c * SWAPFILE_CLUSTER;
            return true;
        }
    }
    return false;
}

static void take_slot(struct swap_info_struct *si, uint64_t off)
{
    si->swap_map[off] = 1;
    si->inuse_pages++;
    si->cluster_used[off / SWAPFILE_CLUSTER]++;
    nr_swap_pages--;
    if (si->inuse_pages == si->pages) {
        si->lowest_bit = si->max;
        si->highest_bit = 0;
    } else {
        if (off == si->lowest_bit)
            si->lowest_bit++;
        if (off == si->highest_bit)
            si->highest_bit--;
    }
    si->cluster_next = off + 1;
}

/* A free slot of si (which has one), its count set to 1. */
static uint64_t scan_swap_map(struct swap_info_struct *si)
{
    if (si->cluster_nr == 0) {
        find_free_cluster(si);
        si->cluster_nr = SWAPFILE_CLUSTER;
    }
    si->cluster_nr--;
    uint64_t start = si->cluster_next;
    if (start < si->lowest_bit || start > si->highest_bit)
        start = si->lowest_bit;
    for (uint64_t off = start; off <= si->highest_bit; off++)
        if (si->swap_map[off] == 0) {
            take_slot(si, off);
            return off;
        }
    for (uint64_t off = si->lowest_bit; off < start; off++)
        if (si->swap_map[off] == 0) {
            take_slot(si, off);
            return off;
        }
    panic("scan_swap_map: area %u counts %lu of %lu used but no free slot in [%lu, %lu]",
          si->type, si->inuse_pages, si->pages, si->lowest_bit, si->highest_bit);
}

swp_entry_t get_swap_page(void)
{
    unsigned got;
    return get_swap_pages(1, &got);
}

swp_entry_t get_swap_pages(unsigned n, unsigned *got)
{
    *got = 0;
    int best = -1;
    for (unsigned t = 0; t < MAX_SWAPFILES; t++)
        if (can_allocate(&swap_info[t]) && (best < 0 || swap_info[t].prio > swap_info[best].prio))
            best = (int)t;
    if (best < 0 || n == 0)
        return (swp_entry_t){ 0 };
    /* Among the areas of that priority, the next one after the last used. */
    for (unsigned i = 1; i <= MAX_SWAPFILES; i++) {
        unsigned t = (last_type + i) % MAX_SWAPFILES;
        struct swap_info_struct *si = &swap_info[t];
        if (can_allocate(si) && si->prio == swap_info[best].prio) {
            last_type = t;
            uint64_t off = scan_swap_map(si);
            /* The run goes on while the next slot is free and the
             * cluster has slots left to hand out. */
            unsigned k = 1;
            while (k < n && si->cluster_nr > 0 && off + k <= si->highest_bit &&
                   si->swap_map[off + k] == 0) {
                si->cluster_nr--;
                take_slot(si, off + k);
                k++;
            }
            *got = k;
            return swp_entry(t, off);
        }
    }
    return (swp_entry_t){ 0 };
}

/* The area and map slot of e, or NULL when e names nothing. */
static struct swap_info_struct *entry_area(swp_entry_t e)
{
    unsigned t = swp_type(e);
    if (t >= MAX_SWAPFILES || !(swap_info[t].flags & SWP_USED))
        return NULL;
    struct swap_info_struct *si = &swap_info[t];
    uint64_t off = swp_offset(e);
    return off < si->max ? si : NULL;
}

int swap_count(swp_entry_t e)
{
    struct swap_info_struct *si = entry_area(e);
    return si ? si->swap_map[swp_offset(e)] : -EINVAL;
}

int swap_duplicate(swp_entry_t e)
{
    struct swap_info_struct *si = entry_area(e);
    if (!si)
        return -EINVAL;
    uint16_t *c = &si->swap_map[swp_offset(e)];
    if (*c == 0 || *c == SWAP_MAP_BAD)
        return -ENOENT;
    if (*c >= SWAP_MAP_MAX)
        return -ENOMEM;
    (*c)++;
    return 0;
}

int swap_free(swp_entry_t e)
{
    struct swap_info_struct *si = entry_area(e);
    if (!si) {
        node_report("swap_free: entry %#lx names no slot (area %u, offset %lu)", e.val,
                    swp_type(e), swp_offset(e));
        return -EINVAL;
    }
    uint64_t off = swp_offset(e);
    uint16_t *c = &si->swap_map[off];
    if (*c == 0 || *c == SWAP_MAP_BAD) {
        node_report("swap_free: slot %lu of area %u is %s", off, si->type,
                    *c ? "bad" : "already free");
        si->errors++;
        return -EINVAL;
    }
    if (--*c)
        return 0;
    si->inuse_pages--;
    si->cluster_used[off / SWAPFILE_CLUSTER]--;
    if (si->flags & SWP_WRITEOK)
        nr_swap_pages++;
    if (off < si->lowest_bit)
        si->lowest_bit = off;
    if (off > si->highest_bit)
        si->highest_bit = off;
    return 0;
}
