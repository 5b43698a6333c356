/*
 * Swap areas and their slots (docs/swap.md): where anonymous pages go
 * when memory is short.  This layer knows areas and slots only; writing a
 * page out and reading it back in (reclaim, the page-in fault) is built
 * on top of it with swap_writepage / swap_readpage and the slot counts.
 *
 *   mm/swap_header.c  the area's first page as mkswap (util-linux) writes
 *                     it, parsed from a buffer and validated field by field
 *   mm/swapfile.c     the table of areas: priorities, counts, /proc/swaps
 *   mm/swapon.c       swapon / swapoff of a block device (header read,
 *                     map built, area added; removed when no slot is used)
 *   mm/swap_slots.c   the slot allocator: swap_map counts, clusters
 *   mm/swap_check.c   the validator (swap_check)
 *   kernel/fs/sys_swap.c  the system calls and the swap= boot option
 *
 * Context: one CPU, a kernel that is not preemptible, no lock.  Only
 * swapon reads the device (the header page); nothing here writes it
 * except swap_writepage, on an area in use, at a slot that is allocated.
 */
#ifndef MM_SWAP_H
#define MM_SWAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct block_device;

/* ---- the header page (Linux's union swap_header, version 1) -------------- */

/*
 * Byte offsets in the first page of an area, as mkswap writes them
 * (little-endian 32-bit fields):
 *
 *     0   bootbits[1024]   left alone (room for a disk label)
 *  1024   version          1
 *  1028   last_page        index of the last page of the area
 *  1032   nr_badpages      how many entries of badpages[] count
 *  1036   uuid[16]         the area's UUID (blkid shows it)
 *  1052   label[16]        its label, NUL padded
 *  1068   padding[117]     zeros
 *  1536   badpages[]       indexes of pages not to use, up to 637
 *  4086   "SWAPSPACE2"     the signature, the page's last 10 bytes
 */
#define SWAP_HDR_VERSION_OFF   1024
#define SWAP_HDR_LAST_PAGE_OFF 1028
#define SWAP_HDR_NR_BAD_OFF    1032
#define SWAP_HDR_UUID_OFF      1036
#define SWAP_HDR_LABEL_OFF     1052
#define SWAP_HDR_BADPAGES_OFF  1536
#define SWAP_HDR_MAGIC_OFF     4086
#define SWAP_HDR_MAGIC         "SWAPSPACE2"
#define SWAP_HDR_MAGIC_V0      "SWAP-SPACE"   /* the old format, refused */
#define MAX_SWAP_BADPAGES      ((SWAP_HDR_MAGIC_OFF - SWAP_HDR_BADPAGES_OFF) / 4)  /* 637 */
#define SWAP_MIN_PAGES         10   /* mkswap's minimum: 40 KiB */

struct swap_header_info {
    uint32_t last_page;
    uint32_t nr_badpages;
    uint32_t badpages[MAX_SWAP_BADPAGES];
    uint8_t uuid[16];
    char label[17];             /* NUL terminated */
};

/*
 * Parse and validate the header page hdr (len bytes, at least 4096) of a
 * device of dev_pages pages.  0 and *out filled, or -EINVAL with the
 * reason in why (no signature, the old signature, version not 1,
 * last_page below SWAP_MIN_PAGES - 1 or past the device, nr_badpages
 * above MAX_SWAP_BADPAGES, a bad page 0, past last_page or listed twice,
 * no usable page, a label with control characters).  Pure: reads hdr
 * only, never the device.
 */
int swap_header_parse(const void *hdr, size_t len, uint64_t dev_pages,
                      struct swap_header_info *out, char *why, size_t size);

/* ---- swap entries: where a page went, in a page-table payload ------------- */

/*
 * An entry names one slot: the area's index (type) and the page's index
 * in it (offset), packed as Linux's swp_entry_t into one number that a
 * non-present PTE holds as its payload (include/mm/pgtable.h,
 * pt_set_payload):
 *
 *     val = offset << SWP_TYPE_BITS | type
 *
 *     bit  31 ........................... 5 4 .... 0
 *         |          offset (26 bits)      |  type  |     (i386: 31 bits)
 *
 * Offsets start at 1 (slot 0 is the header), so val is never 0, as a
 * payload must not be.  Areas are cut to SWP_OFFSET_MAX pages so that
 * every entry fits the smallest payload, the i386 format's 31 bits (the
 * PTE holds it shifted left by one, bit 0 P clear); the x86-64 format's
 * 50 bits hold it with room to spare.  docs/swap.md draws both PTEs.
 */
#define SWP_TYPE_BITS   5
#define SWP_PAYLOAD_BITS 31                                   /* the smallest format's */
#define SWP_OFFSET_MAX  ((1ul << (SWP_PAYLOAD_BITS - SWP_TYPE_BITS)) - 1)
#define MAX_SWAPFILES   8                                     /* areas at once (< 2^SWP_TYPE_BITS) */

typedef struct {
    uint64_t val;
} swp_entry_t;

static inline swp_entry_t swp_entry(unsigned type, uint64_t offset)
{
    return (swp_entry_t){ offset << SWP_TYPE_BITS | type };
}
static inline unsigned swp_type(swp_entry_t e)
{
    return (unsigned)(e.val & ((1u << SWP_TYPE_BITS) - 1));
}
static inline uint64_t swp_offset(swp_entry_t e)
{
    return e.val >> SWP_TYPE_BITS;
}

/* ---- areas --------------------------------------------------------------- */

/*
 * swap_map[offset], one per page of the area (Linux's, 16 bits wide
 * here): 0 free, 1..SWAP_MAP_MAX the number of references to the slot
 * (page-table entries, and whoever holds the entry between allocating
 * it and storing it), SWAP_MAP_BAD never to be used (slot 0 and the
 * header's bad pages).  Bit 15 is kept free for a swap-cache mark.
 */
#define SWAP_MAP_MAX 0x7fffu
#define SWAP_MAP_BAD 0xffffu
/* Slots are handed out a cluster at a time where possible (Linux's
 * SWAPFILE_CLUSTER): consecutive page-outs land next to each other. */
#define SWAPFILE_CLUSTER 256u

#define SWP_USED    0x1u   /* the table entry holds an area */
#define SWP_WRITEOK 0x2u   /* slots may be allocated (cleared during swapoff) */

/* The swap-in read-ahead's memory of an area (mm/swap_readahead.c; all
 * zeros at swapon: no history). */
struct swap_ra_info {
    uint64_t start, end;       /* the last window's run: slots [start, end) */
    unsigned win;              /* that window's size, slots (0: no window yet) */
    unsigned hits;             /* faults on pages read ahead here since then */
    unsigned ahead;            /* the last window read without waiting: its size (0: none) */
};

struct swap_info_struct {
    unsigned flags;            /* SWP_* */
    int prio;                  /* higher is used first */
    unsigned type;             /* index in swap_info[] */
    uint64_t max;              /* slots: last_page + 1, cut to SWP_OFFSET_MAX + 1 */
    uint64_t pages;            /* usable slots: max - 1 - bad pages */
    uint64_t inuse_pages;      /* slots with a count */
    uint64_t lowest_bit, highest_bit; /* every free slot is in [lowest, highest] */
    uint64_t cluster_next;     /* where the next search starts */
    unsigned cluster_nr;       /* slots left to hand out before looking for a fresh cluster */
    uint16_t *swap_map;        /* max entries */
    uint16_t *cluster_used;    /* per cluster: slots not free (used or bad) */
    struct block_device *bdev;
    char name[64];             /* the path /proc/swaps shows */
    uint8_t uuid[16];
    char label[17];
    uint64_t errors;           /* misuse reported (freeing a free slot...) */
    struct swap_ra_info ra;    /* read-ahead (mm/swap_readahead.c) */
};

extern struct swap_info_struct swap_info[MAX_SWAPFILES];
/* Pages in every area, and free ones among them (Linux's names; SwapTotal
 * and SwapFree of /proc/meminfo; defined in mm/mmstat.c). */
extern uint64_t total_swap_pages, nr_swap_pages;

#define SWAP_FLAG_PREFER    0x8000      /* swapon: the priority is given */
#define SWAP_FLAG_PRIO_MASK 0x7fff
#define SWAP_FLAG_DISCARD   0x10000     /* accepted and ignored (no discard) */
#define SWAP_FLAG_DISCARD_ONCE  0x20000
#define SWAP_FLAG_DISCARD_PAGES 0x40000
#define SWAP_FLAGS_VALID (SWAP_FLAG_PRIO_MASK | SWAP_FLAG_PREFER | SWAP_FLAG_DISCARD | \
                          SWAP_FLAG_DISCARD_ONCE | SWAP_FLAG_DISCARD_PAGES)

/*
 * Start swapping to bd (mm/swapon.c): read and validate its header, build
 * the map, add the area with swapon's flags (SWAP_FLAG_PREFER: the
 * priority in the low bits; else -1, -2... in swapon order).  name is
 * what /proc/swaps shows.  The area's type (>= 0), or -EINVAL (flags,
 * bad header: the reason in why and on the console), -EBUSY (bd, its
 * whole disk or one of its partitions is already an area), -EPERM (all
 * MAX_SWAPFILES in use, as Linux), -ENOMEM, -EIO.  Nothing is written.
 */
int swap_activate(struct block_device *bd, const char *name, unsigned flags, char *why,
                  size_t size);
/*
 * Stop swapping to area type: no new slot is handed out, then
 * swapoff_hook (when set) is asked to bring every used slot back; when
 * slots are still used the area goes back to work and -EBUSY is
 * returned.  0 when the area is gone, -EINVAL when type is not an area.
 */
int swap_deactivate(unsigned type);
/* The area on bd, or -EINVAL (swapoff by path). */
int swap_type_of(const struct block_device *bd);
/* Is bd, its whole disk or one of its partitions an area already? */
bool swap_bdev_busy(const struct block_device *bd);
/*
 * Bring back every page of area type swapped out (the page-in path's
 * try_to_unuse): 0 when no slot of the area is used any more, else an
 * errno.  NULL (the default): swapoff of an area with used slots is
 * -EBUSY.
 */
extern int (*swapoff_hook)(unsigned type);

/* Table housekeeping (mm/swapfile.c), for swapon.c and the tests. */
int swap_area_add(struct swap_info_struct *si, int prio);   /* prio < 0 and auto: SWAP_PRIO_AUTO */
void swap_area_remove(struct swap_info_struct *si);
#define SWAP_PRIO_AUTO (-0x10000)

/* /proc/swaps (Linux's format); as snprintf. */
int swaps_show(char *buf, size_t size);

/* ---- slots (mm/swap_slots.c) --------------------------------------------- */

/*
 * A free slot of the highest-priority area that has one (areas of equal
 * priority take turns), with its count set to 1: the caller's reference.
 * The entry, or {0} when every area is full (or there is none).
 */
swp_entry_t get_swap_page(void);
/* Up to n free slots in a row (consecutive offsets of one area, from its
 * current cluster), each with its count set to 1: the first entry, and
 * how many in *got (1..n); {0} and *got 0 when every area is full.
 * Reclaim writes such a run in one request (Linux's get_swap_pages). */
swp_entry_t get_swap_pages(unsigned n, unsigned *got);
/* One more reference (fork copying a swap PTE).  0, -EINVAL (no such
 * area or offset), -ENOENT (the slot is free or bad), -ENOMEM (count at
 * SWAP_MAP_MAX). */
int swap_duplicate(swp_entry_t e);
/* One reference less; the slot is free when it reaches 0.  Freeing a
 * free, bad or non-existent slot is misuse: reported and counted
 * (si->errors), nothing changes, -EINVAL. */
int swap_free(swp_entry_t e);
/* A slot's count (0 free), or -EINVAL; SWAP_MAP_BAD for a bad slot. */
int swap_count(swp_entry_t e);

/* Move a page to / from its slot (8 sectors at offset * 8), the slot
 * being allocated on an area in use.  0, -EINVAL, -EIO (blk_rw_page). */
int swap_writepage(swp_entry_t e, uint64_t pa);
int swap_readpage(swp_entry_t e, uint64_t pa);
/* n pages to / from the n consecutive slots first, first + 1... of one
 * area (each allocated), in one block request (mm/swap_io.c,
 * blk_rw_pages).  0, -EINVAL (a slot not allocated, past the area, n 0
 * or above BLK_MAX_PAGES: nothing sent), -ENOMEM, -EIO. */
int swap_writepages(swp_entry_t first, const uint64_t *pa, unsigned n);
int swap_readpages(swp_entry_t first, const uint64_t *pa, unsigned n);
/* swap_readpages without waiting for the disk (blk_read_pages_async):
 * rq->end runs when the read is over.  0, or -EINVAL as swap_readpages
 * (nothing sent, end not called). */
struct blk_request;
int swap_readpages_async(swp_entry_t first, const uint64_t *pa, unsigned n,
                         struct blk_request *rq);

/* ---- the validator (mm/swap_check.c) -------------------------------------- */

/* Recount one area / every area and the global counts: 0 or -EUCLEAN. */
int swap_area_check(const struct swap_info_struct *si, char *why, size_t size);
int swap_check(char *why, size_t size);

/* ---- kernel/fs/sys_swap.c ---------------------------------------------------- */

struct sysargs;
long sys_swapon(const struct sysargs *a);
long sys_swapoff(const struct sysargs *a);
/* At boot, after blk_init: /dev nodes for the disks, then swap=<device>
 * (a name, /dev/name or PARTUUID=...) switched on, or refused with a
 * line saying why. */
void swap_boot(void);

#endif
