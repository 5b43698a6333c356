/*
 * Host tests of reclaim (docs/reclaim.md): page-out through the reverse
 * map, the swap cache, the page-in fault, fork and exit over swapped
 * pages, the clock's second chance, the allocation flags that forbid I/O,
 * and swapoff bringing pages back, over host address spaces and a swap
 * area on a fake disk in host memory.  After every step: the address
 * space validators (mm_check_consistency: every PTE and frame counted,
 * the reverse map right) and the swap validator (swap_check: the slot
 * counts).  At the end of each case every frame, slot and slab object
 * is back.
 */
#include <stdlib.h>

#include "htest.h"
#include "mm_host.h"
#include <kernel/blkdev.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <mm/gfp.h>
#include <mm/pgtable.h>
#include <mm/slab.h>
#include <mm/swap.h>
#include <mm/vm_event.h>
#include <mm/vma.h>
#include <mm/vmscan.h>
#include <mm/vmalloc.h>
#include <mm/zone.h>

#define MiB (1ul << 20)
#define FR 4096ul
#define SPP (FR / SECTOR_SIZE)
#define NPAGES 48

static const struct host_ram ram[] = { { 1 * MiB, 31 * MiB } };

/* In a helper that returns a value: fail the case, return ret (the
 * caller stops at its next HT_TRY or check of ht_failed). */
#define REQ(cond, ret, ...)                                                 \
    do {                                                                    \
        if (!(cond)) {                                                      \
            ht_fail(__FILE__, __LINE__, __VA_ARGS__);                       \
            return ret;                                                     \
        }                                                                   \
    } while (0)

/* ---- a fake disk and the host's stand-ins --------------------------------------------- */

static uint8_t *img;
static uint64_t disk_writes;
static struct block_device disk;

int blk_read(struct block_device *bd, uint64_t sector, void *buf, uint32_t count)
{
    if (count == 0 || sector + count > bd->nr_sectors)
        return -EINVAL;
    memcpy(buf, img + sector * SECTOR_SIZE, (size_t)count * SECTOR_SIZE);
    return 0;
}

int blk_write(struct block_device *bd, uint64_t sector, const void *buf, uint32_t count)
{
    if (count == 0 || sector + count > bd->nr_sectors)
        return -EINVAL;
    memcpy(img + sector * SECTOR_SIZE, buf, (size_t)count * SECTOR_SIZE);
    disk_writes++;
    return 0;
}

int blk_rw_page(struct block_device *bd, uint64_t sector, uint64_t pa, bool write)
{
    void *buf = mm_host_arena() + pa;
    return write ? blk_write(bd, sector, buf, SPP) : blk_read(bd, sector, buf, SPP);
}

void *vzalloc(size_t size)
{
    return calloc(1, size ? size : 1);
}

void vfree(const void *addr)
{
    free((void *)addr);
}

/* swap_unuse walks the tasks: here the test's address spaces are the
 * tasks (pids 1..NMM). */
#define NMM 4
static struct mm mms[NMM];
static bool used[NMM];
static struct task tasks[NMM];

struct task *task_slot(int i)
{
    if (i < 0 || i >= NMM || !used[i])
        return NULL;
    tasks[i].pid = i + 1;
    tasks[i].mm = &mms[i];
    tasks[i].state = TASK_RUNNABLE;
    return &tasks[i];
}

/* ---- set-up and validators ------------------------------------------------------------- */

static uint64_t base_frames, base_live;

static uint64_t frames_now(void)
{
    return nr_free_pages() + slab_pages_held() + kmalloc_large_pages();
}

static void check(void)
{
    char why[256];
    for (int i = 0; i < NMM; i++)
        if (used[i])
            HT_ASSERT(mm_check_consistency(&mms[i], why, sizeof(why)) == 0, "mm %d: %s", i, why);
    HT_ASSERT(swap_check(why, sizeof(why)) == 0, "swap: %s", why);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void setup(void)
{
    for (unsigned t = 0; t < MAX_SWAPFILES; t++)   /* a failed case's area */
        if (swap_info[t].flags & SWP_USED)
            swap_deactivate(t);
    mm_host_init(32 * MiB / FR, ram, HT_COUNT(ram));
    for (int z = 0; z < NR_ZONES; z++)
        mm_host_node.zones[z].wmark_min = mm_host_node.zones[z].wmark_low =
            mm_host_node.zones[z].wmark_high = 0;
    kmem_cache_init();
    memset(used, 0, sizeof(used));
    mm_tlb_flush = NULL;
    mm_payload_put = swap_payload_put;
    mm_payload_dup = swap_payload_dup;
    mm_payload_fault = do_swap_page;
    swapoff_hook = swap_unuse;
    HT_ASSERT(mm_zero_page_init() == 0, "no zero page");
    /* A 1 MiB area, its header as mkswap writes it. */
    uint64_t pages = 256;
    img = calloc(pages, FR);
    put_le32(img + SWAP_HDR_VERSION_OFF, 1);
    put_le32(img + SWAP_HDR_LAST_PAGE_OFF, (uint32_t)(pages - 1));
    memcpy(img + SWAP_HDR_MAGIC_OFF, SWAP_HDR_MAGIC, 10);
    memset(&disk, 0, sizeof(disk));
    snprintf(disk.name, sizeof(disk.name), "vda");
    disk.nr_sectors = pages * SPP;
    disk.dma_limit = ~0ul;
    char why[128];
    HT_ASSERT(swap_activate(&disk, "/dev/vda", 0, why, sizeof(why)) == 0, "swapon: %s", why);
    base_frames = frames_now();
    base_live = slab_live_objects();
}

static void teardown(void)
{
    for (int i = 0; i < NMM; i++)
        if (used[i]) {
            mm_destroy(&mms[i]);
            used[i] = false;
        }
    check();
    HT_EQ_U(nr_swap_pages, total_swap_pages);   /* every slot free */
    HT_EQ_U(swap_cache_pages, 0);
    HT_ASSERT(frames_now() == base_frames, "%lu frames, %lu before: leak", frames_now(),
              base_frames);
    HT_ASSERT(slab_live_objects() == base_live, "%lu slab objects, %lu before",
              slab_live_objects(), base_live);
    HT_EQ_U(swap_deactivate(0), 0);
    free(img);
}

static struct mm *new_mm(void)
{
    for (int i = 0; i < NMM; i++)
        if (!used[i]) {
            REQ(mm_init_user(&mms[i], MM_VA_END_64, GFP_KERNEL) == 0, NULL, "mm_init_user");
            used[i] = true;
            return &mms[i];
        }
    REQ(0, NULL, "no mm slot");
}

static struct mm *fork_mm(struct mm *parent)
{
    for (int i = 0; i < NMM; i++)
        if (!used[i]) {
            REQ(mm_fork(&mms[i], parent, false) == 0, NULL, "mm_fork");
            used[i] = true;
            return &mms[i];
        }
    REQ(0, NULL, "no mm slot");
}

static uint64_t anon(struct mm *mm, uint64_t pages)
{
    uint64_t at;
    REQ(mm_mmap(mm, 0, pages * FR, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0,
                &at) == 0, 0, "mmap");
    return at;
}

/* Page i of a region holds words of (seed, i). */
static void fill(struct mm *mm, uint64_t at, uint64_t pages, uint64_t seed)
{
    uint64_t w[FR / 8];
    for (uint64_t i = 0; i < pages; i++) {
        for (uint64_t k = 0; k < FR / 8; k++)
            w[k] = seed * 1000003 + i * 512 + k;
        HT_ASSERT(mm_write(mm, at + i * FR, w, FR) == 0, "mm_write page %lu", i);
    }
}

/* Pages first .. first + pages - 1 of the region at `at` that do not
 * hold their words. */
static uint64_t wrong_from(struct mm *mm, uint64_t at, uint64_t first, uint64_t pages,
                           uint64_t seed)
{
    uint64_t w[FR / 8], bad = 0;
    for (uint64_t i = first; i < first + pages; i++) {
        REQ(mm_read(mm, w, at + i * FR, FR) == 0, ~0ul, "mm_read page %lu", i);
        for (uint64_t k = 0; k < FR / 8; k++)
            if (w[k] != seed * 1000003 + i * 512 + k) {
                bad++;
                break;
            }
    }
    return bad;
}

static uint64_t wrong(struct mm *mm, uint64_t at, uint64_t pages, uint64_t seed)
{
    return wrong_from(mm, at, 0, pages, seed);
}

/* Page out every page of the region: 0 each time. */
static void page_out(struct mm *mm, uint64_t at, uint64_t pages)
{
    for (uint64_t i = 0; i < pages; i++) {
        struct pt_view v;
        if (pt_walk(&mm->pt, at + i * FR, &v))
            continue;   /* out already */
        HT_EQ_U(pageout_page(pfn_to_page(v.pa >> 12)), 0);
    }
}

/* The swap entry at va, or 0 when a page is there. */
static uint64_t entry_at(struct mm *mm, uint64_t va)
{
    struct pt_view v;
    return pt_walk(&mm->pt, va, &v) == -ENOENT ? v.payload : 0;
}

/* ---- the cases ------------------------------------------------------------------------- */

static void t_out_and_back(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    if (ht_failed)
        return;
    uint64_t at = anon(mm, NPAGES), out0 = vm_events[PSWPOUT], in0 = vm_events[PSWPIN];
    HT_TRY(fill(mm, at, NPAGES, 1));
    uint64_t rss = mm->rss, free0 = frames_now();
    HT_TRY(page_out(mm, at, NPAGES));
    HT_TRY(check());
    HT_EQ_U(mm->rss, rss - NPAGES);
    HT_EQ_U(mm->swap_ents, NPAGES);
    HT_EQ_U(vm_events[PSWPOUT] - out0, NPAGES);
    /* Free frames and slab pages (the count of frames not held by
     * anything else) grew by the pages that went out. */
    HT_ASSERT(frames_now() == free0 + NPAGES, "the frames did not come back: %lu, %lu before",
              frames_now(), free0);
    for (uint64_t i = 0; i < NPAGES; i++) {
        uint64_t e = entry_at(mm, at + i * FR);
        HT_ASSERT(e && swap_count((swp_entry_t){ e }) == 1, "page %lu: entry %#lx", i, e);
    }
    HT_EQ_U(wrong(mm, at, NPAGES, 1), 0);           /* faults them back */
    HT_TRY(check());
    HT_EQ_U(vm_events[PSWPIN] - in0, NPAGES);
    HT_EQ_U(mm->major_faults, NPAGES);
    HT_EQ_U(mm->swap_ents, 0);
    HT_EQ_U(nr_swap_pages, total_swap_pages);        /* the slots went with the faults */
    HT_EQ_U(swap_cache_pages, 0);
    HT_TRY(teardown());
}

static void t_fork_shares_then_diverges(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm();
    if (ht_failed)
        return;
    uint64_t at = anon(p, NPAGES);
    HT_TRY(fill(p, at, NPAGES, 2));
    HT_TRY(page_out(p, at, NPAGES));
    struct mm *c = fork_mm(p);
    if (ht_failed)
        return;
    HT_TRY(check());
    uint64_t e = entry_at(p, at);
    HT_ASSERT(e && e == entry_at(c, at), "the child's entry differs");
    HT_EQ_U(swap_count((swp_entry_t){ e }), 2);
    /* The parent reads: one read each, the page stays in the cache,
     * mapped read-only, for the child's entry. */
    uint64_t in0 = vm_events[PSWPIN];
    HT_EQ_U(wrong(p, at, NPAGES, 2), 0);
    HT_TRY(check());
    HT_EQ_U(swap_cache_pages, NPAGES);
    /* The child changes the first half (copies), reads the second from
     * the cache (no read from the disk). */
    HT_TRY(fill(c, at, NPAGES / 2, 3));
    HT_EQ_U(wrong_from(c, at, NPAGES / 2, NPAGES - NPAGES / 2, 2), 0);
    HT_EQ_U(vm_events[PSWPIN] - in0, NPAGES);       /* each slot read once */
    HT_TRY(check());
    HT_EQ_U(wrong(p, at, NPAGES, 2), 0);
    HT_EQ_U(wrong(c, at, NPAGES / 2, 3), 0);
    HT_EQ_U(nr_swap_pages, total_swap_pages);
    HT_TRY(teardown());
}

static void t_exit_frees_slots(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm();
    if (ht_failed)
        return;
    uint64_t at = anon(p, NPAGES);
    HT_TRY(fill(p, at, NPAGES, 4));
    HT_TRY(page_out(p, at, NPAGES));
    struct mm *c = fork_mm(p);
    if (ht_failed)
        return;
    HT_EQ_U(mm_munmap(c, at, NPAGES / 2 * FR), 0);   /* the child lets half go */
    HT_TRY(check());
    HT_EQ_U(swap_count((swp_entry_t){ entry_at(p, at) }), 1);
    HT_EQ_U(swap_count((swp_entry_t){ entry_at(p, at + (NPAGES - 1) * FR) }), 2);
    HT_TRY(teardown());   /* exit of both: every slot free */
}

static void t_clock_second_chance(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    if (ht_failed)
        return;
    uint64_t at = anon(mm, NPAGES);
    HT_TRY(fill(mm, at, NPAGES, 5));   /* fresh leaves are accessed */
    uint64_t out0 = vm_events[PSWPOUT];
    /* No I/O allowed: nothing goes out, whatever the need. */
    HT_EQ_U(shrink_memory(NPAGES, GFP_NOIO, false), 0);
    HT_EQ_U(shrink_memory(NPAGES, GFP_ATOMIC, false), 0);
    HT_EQ_U(vm_events[PSWPOUT], out0);
    /* With I/O: the clock's first turn clears the accessed bits, the
     * second takes the pages. */
    uint64_t got = shrink_memory(NPAGES / 2, GFP_KERNEL, false);
    HT_ASSERT(got >= NPAGES / 2, "reclaimed %lu", got);
    HT_ASSERT(vm_events[PSWPOUT] - out0 >= NPAGES / 2, "pswpout +%lu", vm_events[PSWPOUT] - out0);
    HT_TRY(check());
    HT_EQ_U(wrong(mm, at, NPAGES, 5), 0);
    HT_TRY(teardown());
}

static void t_pinned_stays(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    if (ht_failed)
        return;
    uint64_t at = anon(mm, 2);
    HT_TRY(fill(mm, at, 2, 6));
    struct pt_view v;
    HT_EQ_U(pt_walk(&mm->pt, at, &v), 0);
    struct page *pg = pfn_to_page(v.pa >> 12);
    get_page(pg);                          /* a kernel reference: pinned */
    HT_EQ_U(pageout_page(pg), -EBUSY);
    HT_EQ_U(entry_at(mm, at), 0);
    put_page(pg);
    HT_EQ_U(pageout_page(pg), 0);
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_swapoff_brings_back(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm();
    if (ht_failed)
        return;
    uint64_t at = anon(p, NPAGES);
    HT_TRY(fill(p, at, NPAGES, 7));
    HT_TRY(page_out(p, at, NPAGES));
    struct mm *c = fork_mm(p);
    if (ht_failed)
        return;
    HT_EQ_U(swap_deactivate(0), 0);        /* every page back, in both */
    HT_EQ_U(total_swap_pages, 0);
    HT_EQ_U(p->swap_ents + c->swap_ents, 0);
    HT_EQ_U(swap_cache_pages, 0);
    HT_EQ_U(wrong(p, at, NPAGES, 7), 0);
    HT_EQ_U(wrong(c, at, NPAGES, 7), 0);
    /* back on for teardown */
    char why[128];
    HT_ASSERT(swap_activate(&disk, "/dev/vda", 0, why, sizeof(why)) == 0, "swapon: %s", why);
    HT_TRY(check());
    HT_TRY(teardown());
}

int main(int argc, char **argv)
{
    static const struct htest cases[] = {
        HT_CASE(out_and_back),
        HT_CASE(fork_shares_then_diverges),
        HT_CASE(exit_frees_slots),
        HT_CASE(clock_second_chance),
        HT_CASE(pinned_stays),
        HT_CASE(swapoff_brings_back),
    };
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
