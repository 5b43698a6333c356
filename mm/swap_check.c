/*
 * The swap validator (include/mm/swap.h): recount every area's map from
 * scratch and compare with what the area and the globals say.  The host
 * test runs it after every step; the in-kernel test after each case.
 *
 * Checked, per area in use: its type is its index, the map and the
 * device are there, max is 2..SWP_OFFSET_MAX + 1 slots, slot 0 is bad,
 * every count is 0, 1..SWAP_MAP_MAX or SWAP_MAP_BAD, pages is max - 1 -
 * the bad slots after 0, inuse_pages the counted slots, each cluster's
 * cluster_used its slots not free, every free slot inside [lowest_bit,
 * highest_bit], cluster_next at most max; no two areas on one disk.
 * Globally: total_swap_pages and nr_swap_pages are the sums over the
 * areas that hand out slots.  An entry not in use must be all zero but
 * its type.
 *
 * Invariant: it only reads.
 */
#include <mm/check.h>
#include <mm/swap.h>
#include <kernel/blkdev.h>

int swap_area_check(const struct swap_info_struct *si, char *why, size_t size)
{
    unsigned t = si->type;
    CHECK(si->swap_map && si->cluster_used, "area %u: no map", t);
    CHECK(si->bdev, "area %u: no device", t);
    CHECK(si->max >= 2 && si->max <= SWP_OFFSET_MAX + 1, "area %u: max %lu slots", t, si->max);
    CHECK(si->swap_map[0] == SWAP_MAP_BAD, "area %u: slot 0 (the header) is %#x, not bad", t,
          si->swap_map[0]);
    uint64_t bad = 0, used = 0, nclusters = (si->max + SWAPFILE_CLUSTER - 1) / SWAPFILE_CLUSTER;
    for (uint64_t c = 0; c < nclusters; c++) {
        uint64_t busy = 0;
        uint64_t end = (c + 1) * SWAPFILE_CLUSTER < si->max ? (c + 1) * SWAPFILE_CLUSTER : si->max;
        for (uint64_t off = c * SWAPFILE_CLUSTER; off < end; off++) {
            uint16_t v = si->swap_map[off];
            if (v == SWAP_MAP_BAD) {
                bad += off != 0;
                busy++;
            } else if (v) {
                CHECK(v <= SWAP_MAP_MAX, "area %u: slot %lu count %#x", t, off, v);
                used++;
                busy++;
            } else {
                CHECK(off >= si->lowest_bit && off <= si->highest_bit,
                      "area %u: free slot %lu outside [%lu, %lu]", t, off, si->lowest_bit,
                      si->highest_bit);
            }
        }
        CHECK(si->cluster_used[c] == busy, "area %u: cluster %lu counts %u slots, %lu found",
              t, c, si->cluster_used[c], busy);
    }
    CHECK(si->pages == si->max - 1 - bad, "area %u: pages %lu, but %lu slots and %lu bad", t,
          si->pages, si->max, bad);
    CHECK(si->inuse_pages == used, "area %u: inuse_pages %lu, %lu slots counted", t,
          si->inuse_pages, used);
    CHECK(si->cluster_next <= si->max, "area %u: cluster_next %lu past max %lu", t,
          si->cluster_next, si->max);
    CHECK(si->cluster_nr <= SWAPFILE_CLUSTER, "area %u: cluster_nr %u", t, si->cluster_nr);
    return 0;
}

int swap_check(char *why, size_t size)
{
    uint64_t total = 0, free = 0;
    for (unsigned t = 0; t < MAX_SWAPFILES; t++) {
        const struct swap_info_struct *si = &swap_info[t];
        if (!(si->flags & SWP_USED)) {
            CHECK(!si->swap_map && !si->bdev && !si->flags && !si->pages && !si->inuse_pages,
                  "area %u: not in use but not cleared", t);
            continue;
        }
        CHECK(si->type == t, "area %u: type %u", t, si->type);
        int err = swap_area_check(si, why, size);
        if (err)
            return err;
        for (unsigned u = 0; u < t; u++) {
            const struct swap_info_struct *o = &swap_info[u];
            CHECK(!(o->flags & SWP_USED) ||
                  (o->bdev != si->bdev && o->bdev->whole != si->bdev && si->bdev->whole != o->bdev),
                  "areas %u and %u share a disk", u, t);
        }
        if (si->flags & SWP_WRITEOK) {
            total += si->pages;
            free += si->pages - si->inuse_pages;
        }
    }
    CHECK(total_swap_pages == total, "total_swap_pages %lu, areas sum to %lu", total_swap_pages,
          total);
    CHECK(nr_swap_pages == free, "nr_swap_pages %lu, areas have %lu free", nr_swap_pages, free);
    return 0;
}
