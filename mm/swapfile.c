/*
 * The table of swap areas (include/mm/swap.h): at most MAX_SWAPFILES,
 * each with a priority, and the counts /proc/swaps and /proc/meminfo
 * show.
 *
 * Invariants:
 *  - an entry is in use iff SWP_USED is set, and then its type is its
 *    index in swap_info[], it has a map and a block device, and no two entries name the
 *    same device, nor a disk and one of its partitions;
 *  - total_swap_pages is the sum of `pages` over the areas that may
 *    hand out slots (SWP_WRITEOK), nr_swap_pages the sum of their free
 *    slots (pages - inuse_pages); an area being switched off counts in
 *    neither (mm/swap_check.c recounts both);
 *  - priorities as Linux gives them: swapon with SWAP_FLAG_PREFER takes
 *    0..32767; without it an area gets -1, -2... in swapon order, and
 *    when such an area goes, the automatic priorities below it move up
 *    by one so that they stay -1, -2... (least_priority follows).
 *
 * The slots are mm/swap_slots.c's; reading the header and building the
 * map is mm/swapon.c's.  One CPU, not preemptible: no lock.
 */
#include <mm/swap.h>
#include <kernel/blkdev.h>
#include <kernel/errno.h>
#include <kernel/sbuf.h>
#include <kernel/string.h>

struct swap_info_struct swap_info[MAX_SWAPFILES];
int (*swapoff_hook)(unsigned type);

/* The last automatic priority given (0: none yet). */
static int least_priority;

int swap_area_add(struct swap_info_struct *si, int prio)
{
    if (prio == SWAP_PRIO_AUTO)
        prio = --least_priority;
    si->prio = prio;
    si->flags |= SWP_USED | SWP_WRITEOK;
    total_swap_pages += si->pages;
    nr_swap_pages += si->pages - si->inuse_pages;
    return 0;
}

void swap_area_remove(struct swap_info_struct *si)
{
    if (si->flags & SWP_WRITEOK) {
        total_swap_pages -= si->pages;
        nr_swap_pages -= si->pages - si->inuse_pages;
    }
    if (si->prio < 0) {
        for (unsigned t = 0; t < MAX_SWAPFILES; t++) {
            struct swap_info_struct *o = &swap_info[t];
            if (o != si && (o->flags & SWP_USED) && o->prio < si->prio)
                o->prio++;
        }
        least_priority++;
    }
    unsigned type = si->type;
    memset(si, 0, sizeof(*si));
    si->type = type;
}

/* Do a and b overlap: the same device, or a disk and its partition? */
static bool same_disk(const struct block_device *a, const struct block_device *b)
{
    return a == b || a->whole == b || b->whole == a;
}

int swap_type_of(const struct block_device *bd)
{
    for (unsigned t = 0; t < MAX_SWAPFILES; t++)
        if ((swap_info[t].flags & SWP_USED) && swap_info[t].bdev == bd)
            return (int)t;
    return -EINVAL;
}

bool swap_bdev_busy(const struct block_device *bd)
{
    for (unsigned t = 0; t < MAX_SWAPFILES; t++)
        if ((swap_info[t].flags & SWP_USED) && same_disk(swap_info[t].bdev, bd))
            return true;
    return false;
}

/*
 * Linux's swap_show: the path (blanks, tabs, newlines and backslashes as
 * octal escapes, as seq_file_path writes them) padded to 40 columns,
 * then the type, the size and the used part in KiB, the priority.
 */
int swaps_show(char *buf, size_t size)
{
    struct sbuf s = { buf, size, 0 };
    if (size)
        buf[0] = 0;
    sbuf_put(&s, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
    for (unsigned t = 0; t < MAX_SWAPFILES; t++) {
        const struct swap_info_struct *si = &swap_info[t];
        if (!(si->flags & SWP_USED))
            continue;
        int len = 0;
        for (const char *c = si->name; *c; c++) {
            if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\\') {
                sbuf_put(&s, "\\%03o", (unsigned char)*c);
                len += 4;
            } else {
                sbuf_put(&s, "%c", *c);
                len++;
            }
        }
        uint64_t bytes = si->pages * 4, inuse = si->inuse_pages * 4;
        sbuf_put(&s, "%*s%s\t%lu\t%s%lu\t%s%d\n", len < 40 ? 40 - len : 1, " ", "partition",
                 bytes, bytes < 10000000 ? "\t" : "", inuse, inuse < 10000000 ? "\t" : "",
                 si->prio);
    }
    return (int)s.len;
}
