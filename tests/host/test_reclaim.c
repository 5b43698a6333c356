/*
 * Host tests of reclaim (docs/reclaim.md): page-out through the reverse
 * map, the swap cache, the page-in fault, fork and exit over swapped
 * pages, the clock's second chance, the allocation flags that forbid I/O,
 * swapoff bringing pages back, and the private copies of a file mapping
 * going out and back while the file stays as it was, MADV_PAGEOUT and
 * MADV_COLD, disk write and read errors, the read-ahead window (its
 * rule, growth along a stream, the fall to one page under random faults,
 * page-cluster 0, no read crossing a free, bad or cached slot), over host
 * address spaces and a swap area on a fake disk in host memory.  After every step: the address
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
#include <compat32/mmu32.h>
#include <mm/filemap.h>
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

/* A sector whose reads (writes) fail with -EIO, as a bad disk's would
 * (t_io_errors); ~0: none. */
static uint64_t fail_read_at = ~0ul, fail_write_at = ~0ul;

static void collect_pending(void);

int blk_rw_page(struct block_device *bd, uint64_t sector, uint64_t pa, bool write)
{
    collect_pending();
    if (sector == (write ? fail_write_at : fail_read_at))
        return -EIO;
    void *buf = mm_host_arena() + pa;
    return write ? blk_write(bd, sector, buf, SPP) : blk_read(bd, sector, buf, SPP);
}

/* A run of pages (clustered page-out, read-ahead): each page as above,
 * one request counted; the last RUN_LOG reads' first slot and length
 * are kept, in order (read_log[read_logged % RUN_LOG]). */
static uint64_t disk_runs;
#define RUN_LOG 64
static struct { uint64_t slot; unsigned n; } read_log[RUN_LOG];
static unsigned read_logged;

int blk_rw_pages(struct block_device *bd, uint64_t sector, const uint64_t *pa, unsigned n,
                 bool write)
{
    if (n == 0 || n > BLK_MAX_PAGES)
        return -EINVAL;
    collect_pending();
    disk_runs++;
    if (!write) {
        read_log[read_logged % RUN_LOG].slot = sector / SPP;
        read_log[read_logged % RUN_LOG].n = n;
        read_logged++;
    }
    for (unsigned i = 0; i < n; i++) {
        int r = blk_rw_page(bd, sector + (uint64_t)i * SPP, pa[i], write);
        if (r)
            return r;
    }
    return 0;
}

/* The disk's asynchronous read (blk_read_pages_async), as the block layer
 * keeps one: in flight until blk_wait or the next request collects it,
 * and its data copied only then, as a device would have written it in
 * the meantime; so a page read ahead holds garbage until collected. */
static struct {
    struct blk_request *rq;
    struct block_device *bd;
    uint64_t sector, pa[BLK_MAX_PAGES];
    unsigned n;
} pending;
static uint64_t async_reads;

static void collect_pending(void)
{
    struct blk_request *rq = pending.rq;
    if (!rq)
        return;
    pending.rq = NULL;
    rq->status = 0;
    for (unsigned i = 0; i < pending.n && !rq->status; i++)
        rq->status = blk_rw_page(pending.bd, pending.sector + i * SPP, pending.pa[i], false);
    rq->busy = false;
    rq->end(rq);
}

int blk_read_pages_async(struct block_device *bd, uint64_t sector, const uint64_t *pa,
                         unsigned n, struct blk_request *rq)
{
    if (n == 0 || n > BLK_MAX_PAGES || !rq || !rq->end || rq->busy)
        return -EINVAL;
    collect_pending();
    disk_runs++;
    async_reads++;
    read_log[read_logged % RUN_LOG].slot = sector / SPP;
    read_log[read_logged % RUN_LOG].n = n;
    read_logged++;
    pending.rq = rq;
    pending.bd = bd;
    pending.sector = sector;
    pending.n = n;
    memcpy(pending.pa, pa, n * sizeof(*pa));
    for (unsigned i = 0; i < n; i++)
        memset(mm_host_arena() + pa[i], 0xa5, FR);  /* not the data yet */
    rq->busy = true;
    return 0;
}

void blk_wait(struct blk_request *rq)
{
    if (rq && rq->busy)
        collect_pending();
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

/* RAM on both sides of 4 GiB, for an i386 address space beside a 64-bit one. */
#define GiB (1ul << 30)
static const struct host_ram ram_high[] = { { 1 * MiB, 24 * MiB }, { 4 * GiB, 4 * GiB + 24 * MiB } };
static const struct host_ram *setup_ram = ram;
static size_t setup_nram = HT_COUNT(ram);
static uint64_t setup_end = 32 * MiB;

static void setup(void)
{
    collect_pending();      /* a failed case's read, while its memory is there */
    for (unsigned t = 0; t < MAX_SWAPFILES; t++)   /* a failed case's area */
        if (swap_info[t].flags & SWP_USED)
            swap_deactivate(t);
    mm_host_init_no_watermarks(setup_end / FR, setup_ram, setup_nram);
    kmem_cache_init();
    memset(used, 0, sizeof(used));
    mm_tlb_flush = NULL;
    mm_payload_put = swap_payload_put;
    mm_payload_dup = swap_payload_dup;
    mm_payload_fault = do_swap_page;
    mm_madvise_reclaim = madvise_reclaim;
    swapoff_hook = swap_unuse;
    fail_read_at = fail_write_at = ~0ul;
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
    uint64_t hit0 = vm_events[SWAP_RA_HIT], async0 = async_reads;
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
        HT_EQ_U(swp_offset((swp_entry_t){ e }), i + 1);
    }
    HT_EQ_U(wrong(mm, at, NPAGES, 1), 0);           /* faults them back */
    HT_TRY(check());
    HT_EQ_U(vm_events[PSWPIN] - in0, NPAGES);
    /* Consecutive slots 1..48, the other pages of each window found in
     * the swap cache (swap_readahead.c): a major fault reads 8 slots
     * aligned (7 pages: slot 0 is the header), a second the next 8, and,
     * a forward stream, sends the 8 after without waiting; the fault on
     * that window's first page sends the next 16, and the one on their
     * first page the last 9.  Two major faults. */
    HT_EQ_U(mm->major_faults, 2);
    HT_EQ_U(async_reads - async0, 3);
    HT_EQ_U(vm_events[SWAP_RA_HIT] - hit0, NPAGES - mm->major_faults);
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

/* ---- a file's private copies ----------------------------------------------------------- */

/* A page-cache file of FPAGES pages, made the way kernel/fs/pagecache.c
 * adds pages (filemap_page_added), each page holding words of seed 20. */
#define FPAGES 8

struct pfile {
    struct vm_mapping m;           /* first */
    struct page *pg[FPAGES];
};

static int pf_fault(struct vm_mapping *m, uint64_t index, uint64_t *pa)
{
    struct pfile *f = (struct pfile *)m;
    if (index >= FPAGES)
        return -EIO;
    *pa = page_to_phys(f->pg[index]);
    return 0;
}

static uint64_t pf_find(struct vm_mapping *m, uint64_t index)
{
    struct pfile *f = (struct pfile *)m;
    return index < FPAGES ? page_to_phys(f->pg[index]) : 0;
}

static void pf_nop(struct vm_mapping *m)
{
    (void)m;
}

static void pf_ident(struct vm_mapping *m, uint64_t *dev, uint64_t *ino)
{
    (void)m;
    *dev = 0x801;
    *ino = 43;
}

static const char *pf_name(struct vm_mapping *m, bool *deleted)
{
    (void)m;
    *deleted = false;
    return "/tmp/private";
}

static int pf_migrate(struct vm_mapping *m, uint64_t index, gfp_t gfp, uint64_t *pa)
{
    (void)m, (void)index, (void)gfp, (void)pa;
    return -EBUSY;
}

static const struct vm_mapping_ops pf_ops = {
    pf_fault, pf_find, pf_nop, pf_nop, pf_ident, pf_name, pf_migrate,
};

static void pf_words(uint64_t *w, uint64_t seed, uint64_t i)
{
    for (uint64_t k = 0; k < FR / 8; k++)
        w[k] = seed * 1000003 + i * 512 + k;
}

/* The file's pages that do not hold seed 20's words. */
static uint64_t pf_changed(struct pfile *f)
{
    uint64_t w[FR / 8], bad = 0;
    for (uint64_t i = 0; i < FPAGES; i++) {
        pf_words(w, 20, i);
        bad += memcmp(page_address(f->pg[i]), w, FR) != 0;
    }
    return bad;
}

static struct mm *drop_mm(struct mm *mm)
{
    mm_destroy(mm);
    used[mm - mms] = false;
    return NULL;
}

/* MAP_PRIVATE over a page-cache file: the pages written are anonymous
 * copies (PG_ANON) and go out to swap like any anonymous page; the pages
 * only read are the file's and stay, as do the pages of a MAP_SHARED
 * mapping of the same file.  The file never changes; a fork's child
 * shares the swapped copies (one slot reference more); both read their
 * copies back through the swap entries in the file VMA's PTEs. */
static void t_private_file_copies(void)
{
    HT_TRY(setup());
    static struct pfile f;
    memset(&f, 0, sizeof(f));
    f.m.ops = &pf_ops;
    for (uint64_t i = 0; i < FPAGES; i++) {
        f.pg[i] = alloc_page(GFP_KERNEL);
        HT_ASSERT(f.pg[i], "no page for the file");
        filemap_page_added(f.pg[i], true);
        f.pg[i]->mapping = (uint64_t)(uintptr_t)&f;
        f.pg[i]->index = i;
        pf_words(page_address(f.pg[i]), 20, i);
    }
    struct mm *mm = new_mm(), *c = NULL;
    if (ht_failed)
        return;
    struct mmap_file mf = { NULL, true, true, &f.m };
    uint64_t at, sh, half = FPAGES / 2, out0 = vm_events[PSWPOUT];
    HT_EQ_U(mm_mmap_file(mm, 0, FPAGES * FR, PROT_READ | PROT_WRITE, MAP_PRIVATE, &mf, 0, &at), 0);
    HT_EQ_U(mm_mmap_file(mm, 0, FPAGES * FR, PROT_READ, MAP_SHARED, &mf, 0, &sh), 0);
    HT_TRY(fill(mm, at, half, 21));                  /* copies of the first half */
    HT_EQ_U(wrong_from(mm, at, half, FPAGES - half, 20), 0);   /* the file's own pages */
    HT_EQ_U(wrong(mm, sh, FPAGES, 20), 0);
    HT_TRY(check());
    uint64_t rss = mm->rss, free0 = frames_now();
    for (uint64_t i = 0; i < FPAGES; i++) {
        struct pt_view v;
        HT_EQ_U(pt_walk(&mm->pt, at + i * FR, &v), 0);
        struct page *pg = pfn_to_page(v.pa >> 12);
        HT_ASSERT((i < half) == !!(pg->flags & PG_ANON), "page %lu: flags %#x", i,
                  (unsigned)pg->flags);
        HT_EQ_U(pageout_page(pg), i < half ? 0 : -EBUSY);
        HT_EQ_U(pt_walk(&mm->pt, sh + i * FR, &v), 0);
        HT_EQ_U(pageout_page(pfn_to_page(v.pa >> 12)), -EBUSY);   /* MAP_SHARED: stays */
    }
    HT_TRY(check());
    HT_EQ_U(vm_events[PSWPOUT] - out0, half);
    HT_EQ_U(mm->rss, rss - half);
    HT_EQ_U(mm->swap_ents, half);
    HT_EQ_U(frames_now(), free0 + half);
    for (uint64_t i = 0; i < FPAGES; i++)
        HT_ASSERT((entry_at(mm, at + i * FR) != 0) == (i < half), "page %lu: entry %#lx", i,
                  entry_at(mm, at + i * FR));
    HT_EQ_U(pf_changed(&f), 0);
    c = fork_mm(mm);
    if (ht_failed)
        return;
    HT_TRY(check());
    HT_EQ_U(c->swap_ents, half);
    HT_EQ_U(swap_count((swp_entry_t){ entry_at(mm, at) }), 2);
    /* The child writes its own copy of page 0; both read theirs back. */
    uint64_t w[FR / 8];
    pf_words(w, 22, 0);
    HT_EQ_U(mm_write(c, at, w, FR), 0);
    HT_EQ_U(wrong_from(c, at, 1, half - 1, 21), 0);
    HT_EQ_U(wrong(mm, at, half, 21), 0);
    HT_EQ_U(wrong_from(mm, at, half, FPAGES - half, 20), 0);
    HT_EQ_U(mm_read(c, w, at, FR), 0);
    HT_EQ_U(w[7], 22 * 1000003 + 7);
    HT_TRY(check());
    HT_EQ_U(mm->swap_ents + c->swap_ents, 0);
    HT_EQ_U(pf_changed(&f), 0);
    /* Out again and let exit free the slots. */
    for (uint64_t i = 0; i < half; i++) {
        struct pt_view v;
        HT_EQ_U(pt_walk(&mm->pt, at + i * FR, &v), 0);
        HT_EQ_U(pageout_page(pfn_to_page(v.pa >> 12)), 0);
    }
    HT_TRY(check());
    c = drop_mm(c);
    mm = drop_mm(mm);
    HT_EQ_U(nr_swap_pages, total_swap_pages);
    HT_EQ_U(pf_changed(&f), 0);
    for (uint64_t i = 0; i < FPAGES; i++) {
        HT_EQ_U(f.pg[i]->refcount, 1);               /* the cache's alone */
        filemap_page_removed(f.pg[i], true);
        put_page(f.pg[i]);
    }
    HT_TRY(teardown());
}

/* Clustered page-out and read-ahead (mm/swap_cluster.c,
 * mm/swap_readahead.c): a batch gets consecutive slots and one request;
 * a major fault reads its aligned window into the swap cache, where the
 * next faults find it (minor, swap_ra_hit); read-ahead pages nobody maps
 * are dropped by the clock without I/O and read again when needed. */
static void t_clustered_readahead(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    if (ht_failed)
        return;
    enum { N = 32 };
    uint64_t at = anon(mm, N);
    HT_TRY(fill(mm, at, N, 7));
    struct page *pg[N];
    for (int i = 0; i < N; i++) {
        struct pt_view v;
        HT_ASSERT(pt_walk(&mm->pt, at + (uint64_t)i * FR, &v) == 0, "page %d", i);
        pg[i] = pfn_to_page(v.pa >> 12);
    }
    uint64_t runs0 = disk_runs, out0 = vm_events[PSWPOUT];
    HT_EQ_U(pageout_cluster(pg, N), N);
    HT_EQ_U(disk_runs - runs0, 1);                   /* one request */
    HT_EQ_U(vm_events[PSWPOUT] - out0, N);
    HT_TRY(check());
    uint64_t off0 = swp_offset((swp_entry_t){ entry_at(mm, at) });
    for (int i = 0; i < N; i++)
        HT_EQ_U(swp_offset((swp_entry_t){ entry_at(mm, at + (uint64_t)i * FR) }), off0 + i);
    /* A fault in the middle: its window, read in one request. */
    int mid = 12;
    uint64_t w0 = (off0 + mid) & ~(uint64_t)(SWAP_RA_PAGES - 1), w1 = w0 + SWAP_RA_PAGES;
    if (w0 < off0)
        w0 = off0;
    uint64_t ra0 = vm_events[SWAP_RA], hit0 = vm_events[SWAP_RA_HIT];
    runs0 = disk_runs;
    HT_EQ_U(wrong_from(mm, at, mid, 1, 7), 0);
    HT_EQ_U(mm->major_faults, 1);
    HT_EQ_U(disk_runs - runs0, 1);
    HT_EQ_U(vm_events[SWAP_RA] - ra0, w1 - w0 - 1);
    HT_EQ_U(swap_cache_pages, w1 - w0 - 1);         /* in the cache, mapped nowhere */
    HT_TRY(check());
    /* The rest of the window: minor faults. */
    HT_EQ_U(wrong_from(mm, at, w0 - off0, w1 - w0, 7), 0);
    HT_EQ_U(mm->major_faults, 1);
    HT_EQ_U(vm_events[SWAP_RA_HIT] - hit0, w1 - w0 - 1);
    HT_EQ_U(swap_cache_pages, 0);
    HT_TRY(check());
    /* Another window read ahead, then dropped by the clock unused.  The
     * first one's pages were all used: this one is twice as large, aligned
     * (the fault is more than a window past the last one's end). */
    int far = (int)(w1 - off0) + 9;
    HT_EQ_U(wrong_from(mm, at, (uint64_t)far, 1, 7), 0);
    uint64_t cached = swap_cache_pages, w2 = 2 * SWAP_RA_PAGES;
    uint64_t v0 = (off0 + (uint64_t)far) & ~(w2 - 1), v1 = v0 + w2;
    v1 = v1 > off0 + N ? off0 + N : v1;
    HT_ASSERT(cached == v1 - v0 - 1, "%lu pages read ahead, not %lu", cached, v1 - v0 - 1);
    uint64_t writes0 = disk_writes, (*slab_shrink)(void) = node0->shrink;
    node0->shrink = NULL;                            /* count the clock's frames only */
    uint64_t freed = shrink_memory(cached, GFP_KERNEL, false);
    node0->shrink = slab_shrink;
    HT_EQ_U(freed, cached);
    HT_EQ_U(swap_cache_pages, 0);
    HT_EQ_U(disk_writes, writes0);                   /* clean: dropped, not written */
    HT_TRY(check());
    /* Their slots still hold the pages: every page comes back right. */
    HT_EQ_U(wrong(mm, at, N, 7), 0);
    HT_EQ_U(mm->swap_ents, 0);
    HT_TRY(teardown());
}

/* MADV_PAGEOUT and MADV_COLD (mm/madvise_pageout.c) through mm_madvise:
 * the arguments, a hole (-ENOMEM, the mapped parts out), pages a forked
 * child shares staying until it is gone, COLD clearing the accessed bits
 * and writing nothing, pswpout counted and pgsteal not, and nothing at
 * all without the hook. */
static void t_madvise_pageout(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    if (ht_failed)
        return;
    uint64_t at = anon(mm, 8), out0 = vm_events[PSWPOUT];
    uint64_t steal0 = vm_events[PGSTEAL_DIRECT] + vm_events[PGSTEAL_KSWAPD];
    HT_TRY(fill(mm, at, 8, 11));
    HT_EQ_U(mm_madvise(mm, at + 1, FR, MADV_PAGEOUT), -EINVAL);
    HT_EQ_U(mm_madvise(mm, at, FR, 99), -EINVAL);
    HT_EQ_U(mm_madvise(mm, at, 0, MADV_PAGEOUT), 0);
    HT_EQ_U(entry_at(mm, at), 0);
    HT_EQ_U(mm_madvise(mm, at, 2 * FR, MADV_COLD), 0);
    struct pt_view v;
    HT_EQ_U(pt_walk(&mm->pt, at + FR, &v), 0);
    HT_ASSERT(!v.accessed, "MADV_COLD left the accessed bit");
    HT_EQ_U(vm_events[PSWPOUT], out0);
    HT_EQ_U(mm_munmap(mm, at + 2 * FR, FR), 0);
    HT_EQ_U(mm_madvise(mm, at, 4 * FR, MADV_PAGEOUT), -ENOMEM);
    HT_ASSERT(entry_at(mm, at) && entry_at(mm, at + FR) && entry_at(mm, at + 3 * FR),
              "the mapped parts of the range did not go out");
    HT_EQ_U(mm->swap_ents, 3);
    HT_EQ_U(vm_events[PSWPOUT] - out0, 3);
    HT_EQ_U(vm_events[PGSTEAL_DIRECT] + vm_events[PGSTEAL_KSWAPD], steal0);
    HT_TRY(check());
    /* Shared with a child: stays; the child gone, out. */
    struct mm *child = fork_mm(mm);
    if (ht_failed)
        return;
    HT_EQ_U(mm_madvise(mm, at + 4 * FR, 2 * FR, MADV_PAGEOUT), 0);
    HT_EQ_U(entry_at(mm, at + 4 * FR), 0);
    HT_EQ_U(entry_at(mm, at + 5 * FR), 0);
    child = drop_mm(child);
    HT_EQ_U(mm_madvise(mm, at + 4 * FR, 2 * FR, MADV_PAGEOUT), 0);
    HT_ASSERT(entry_at(mm, at + 4 * FR) && entry_at(mm, at + 5 * FR), "not out after the fork");
    HT_TRY(check());
    /* No hook (no reclaim linked): the call succeeds, nothing moves. */
    mm_madvise_reclaim = NULL;
    HT_EQ_U(mm_madvise(mm, at + 6 * FR, FR, MADV_PAGEOUT), 0);
    HT_EQ_U(entry_at(mm, at + 6 * FR), 0);
    mm_madvise_reclaim = madvise_reclaim;
    HT_EQ_U(wrong_from(mm, at, 0, 2, 11), 0);
    HT_EQ_U(wrong_from(mm, at, 3, 5, 11), 0);
    HT_EQ_U(mm->swap_ents, 0);
    HT_TRY(check());
    HT_TRY(teardown());
}

/* A disk that fails: a write error retires the slot (one reference nobody
 * owns, never handed out again) and leaves the page mapped with its data;
 * a read error makes the fault -EIO (SIGBUS) and keeps the entry, and the
 * page comes back once the disk reads again. */
static void t_io_errors(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    if (ht_failed)
        return;
    uint64_t at = anon(mm, 3);
    HT_TRY(fill(mm, at, 3, 13));
    HT_EQ_U(mm_madvise(mm, at, FR, MADV_PAGEOUT), 0);
    uint64_t e0 = entry_at(mm, at), free0 = nr_swap_pages;
    HT_ASSERT(e0, "page 0 did not go out");
    uint64_t bad = swp_offset((swp_entry_t){ e0 }) + 1;
    fail_read_at = swp_offset((swp_entry_t){ e0 }) * SPP;
    fail_write_at = bad * SPP;
    struct pt_view v;
    HT_EQ_U(pt_walk(&mm->pt, at + FR, &v), 0);
    HT_EQ_U(pageout_page(pfn_to_page(v.pa >> 12)), -EIO);
    HT_EQ_U(entry_at(mm, at + FR), 0);
    HT_EQ_U(wrong_from(mm, at, 1, 1, 13), 0);
    HT_EQ_U(swap_count(swp_entry(0, bad)), 1);
    HT_EQ_U(nr_swap_pages, free0 - 1);
    HT_TRY(check());
    HT_EQ_U(mm_madvise(mm, at + 2 * FR, FR, MADV_PAGEOUT), 0);
    HT_EQ_U(swp_offset((swp_entry_t){ entry_at(mm, at + 2 * FR) }), bad + 1);
    HT_EQ_U(mm_fault(mm, at, FAULT_USER), -EIO);
    HT_EQ_U(entry_at(mm, at), e0);
    HT_EQ_U(swap_count((swp_entry_t){ e0 }), 1);
    HT_TRY(check());
    fail_read_at = ~0ul;
    HT_EQ_U(wrong(mm, at, 3, 13), 0);
    /* Read-ahead around slot bad - 1 may have read the retired slot into
     * the swap cache (it is in use): a clean page nobody maps, which the
     * clock would drop; drop it here. */
    struct page *ra = lookup_swap_cache(swp_entry(0, bad));
    HT_EQ_U(swap_count(swp_entry(0, bad)), ra ? 2 : 1);
    if (ra)
        delete_from_swap_cache(ra);
    HT_EQ_U(swap_count(swp_entry(0, bad)), 1);    /* still retired */
    HT_TRY(check());
    swap_free(swp_entry(0, bad));    /* by hand, so that the area can go */
    HT_TRY(teardown());
}

/* A page read ahead into the swap cache that nobody maps is clean: it is
 * dropped without I/O, so a caller that may not write (GFP_NOIO) or a
 * full swap area still gets it back. */
static void t_readahead_dropped_without_io(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    if (ht_failed)
        return;
    uint64_t at = anon(mm, 32);
    HT_TRY(fill(mm, at, 32, 3));
    HT_TRY(page_out(mm, at, 32));
    HT_EQ_U(wrong_from(mm, at, 20, 1, 3), 0);    /* one major fault reads its window */
    uint64_t cached = swap_cache_pages, out = vm_events[PSWPOUT];
    HT_ASSERT(cached >= 4, "%lu pages read ahead", cached);
    uint64_t (*slab_shrink)(void) = node0->shrink;
    node0->shrink = NULL;
    uint64_t freed = shrink_memory(2, GFP_NOIO, false);
    node0->shrink = slab_shrink;
    HT_EQ_U(freed, 2);
    HT_EQ_U(swap_cache_pages, cached - 2);
    HT_EQ_U(vm_events[PSWPOUT], out);            /* nothing written */
    HT_TRY(check());
    /* Swap full: every free slot taken by the rest of a bigger region. */
    uint64_t more = nr_swap_pages, at2 = anon(mm, more);
    HT_TRY(fill(mm, at2, more, 4));
    HT_TRY(page_out(mm, at2, more));
    HT_EQ_U(nr_swap_pages, 0);
    node0->shrink = NULL;
    freed = shrink_memory(64, GFP_KERNEL, false);
    node0->shrink = slab_shrink;
    HT_EQ_U(freed, cached - 2);
    HT_EQ_U(swap_cache_pages, 0);
    HT_TRY(check());
    HT_EQ_U(wrong(mm, at, 32, 3), 0);
    HT_EQ_U(wrong(mm, at2, more, 4), 0);
    HT_TRY(teardown());
}

/* A 64-bit process's major fault reads ahead an i386 process's slot into
 * a frame above 4 GiB, which no i386 entry can name: the i386 fault that
 * finds it there gets a copy below 4 GiB (it used to panic). */
static void t_readahead_above_4g_for_i386(void)
{
    setup_ram = ram_high;
    setup_nram = HT_COUNT(ram_high);
    setup_end = 4 * GiB + 24 * MiB;
    setup();
    setup_ram = ram;
    setup_nram = HT_COUNT(ram);
    setup_end = 32 * MiB;
    if (ht_failed)
        return;
    struct mm *a = &mms[0], *b = &mms[1];
    HT_ASSERT(mm_init_user32(a) == 0, "mm_init_user32");
    used[0] = true;
    HT_ASSERT(mm_init_user(b, MM_VA_END_64, GFP_KERNEL) == 0, "mm_init_user");
    used[1] = true;
    /* The 64-bit process's pages above 4 GiB, so its read-ahead frames are too. */
    for (int z = 0; z < NR_ZONES; z++)
        if (z != ZONE_NORMAL)
            mm_host_node.zones[z].wmark_min = mm_host_node.zones[z].free;
    uint64_t at_a = anon(a, 4), at_b = anon(b, 4);
    HT_TRY(fill(a, at_a, 4, 1));
    HT_TRY(fill(b, at_b, 4, 2));
    HT_TRY(page_out(a, at_a, 4));                /* slots 1.. (a cluster's first run) */
    HT_TRY(page_out(b, at_b, 4));                /* the next ones, in the same window */
    HT_EQ_U(wrong_from(b, at_b, 0, 1, 2), 0);    /* reads the i386 process's slots ahead */
    struct page *ra = lookup_swap_cache((swp_entry_t){ entry_at(a, at_a) });
    HT_ASSERT(ra && page_to_phys(ra) >= 4 * GiB, "the i386 slot was not read ahead above 4 GiB "
              "(%#lx): the case tests nothing", ra ? page_to_phys(ra) : 0);
    for (int z = 0; z < NR_ZONES; z++)
        mm_host_node.zones[z].wmark_min = 0;
    HT_EQ_U(wrong(a, at_a, 4, 1), 0);            /* each fault maps a frame below 4 GiB */
    for (uint64_t i = 0; i < 4; i++) {
        struct pt_view v;
        HT_ASSERT(pt_walk(&a->pt, at_a + i * FR, &v) == 0 && v.pa < 4 * GiB, "page %lu at %#lx",
                  i, v.pa);
    }
    HT_EQ_U(wrong(b, at_b, 4, 2), 0);
    HT_TRY(check());
    HT_TRY(teardown());
}

/* swapoff after the last PTE naming a slot went while another process
 * maps the page it read back: only the swap cache names the slot, and
 * swapoff must let it go too (it used to fail with EBUSY). */
static void t_swapoff_cache_only_slot(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm();
    if (ht_failed)
        return;
    uint64_t at = anon(p, 1);
    HT_TRY(fill(p, at, 1, 5));
    struct mm *c = fork_mm(p);
    HT_TRY(page_out(p, at, 1));
    swp_entry_t e = { entry_at(c, at) };
    HT_EQ_U(swap_count(e), 2);
    HT_EQ_U(wrong(c, at, 1, 5), 0);              /* the child reads it back: cached, mapped */
    mm_destroy(p);                               /* the parent's PTE was the slot's last */
    used[0] = false;
    HT_EQ_U(swap_count(e), 1);                   /* the cache alone */
    HT_EQ_U(c->swap_ents, 0);
    HT_EQ_U(swap_deactivate(0), 0);
    HT_EQ_U(swap_cache_pages, 0);
    HT_EQ_U(wrong(c, at, 1, 5), 0);
    char why[128];
    HT_ASSERT(swap_activate(&disk, "/dev/vda", 0, why, sizeof(why)) == 0, "swapon: %s", why);
    HT_TRY(check());
    HT_TRY(teardown());
}

/* ---- read-ahead windows (mm/swap_readahead.c) ------------------------------------------ */

/* The rule alone (swap_ra_window): 2^page_cluster aligned without history,
 * the page alone with page-cluster 0, doubling along a stream of hits (up
 * to SWAP_RA_MAX), placed after (before) the last window for a forward
 * (backward) stream, halving without hits down to the page alone, 2 next
 * to the last window. */
static void t_readahead_window_rule(void)
{
    unsigned pc = page_cluster;
    struct swap_ra_info none = { 0 };
    uint64_t lo;
    page_cluster = 3;
    HT_EQ_U(swap_ra_window(&none, 21, &lo), 8);
    HT_EQ_U(lo, 16);
    page_cluster = 5;
    HT_EQ_U(swap_ra_window(&none, 21, &lo), 32);
    HT_EQ_U(lo, 0);
    page_cluster = 0;
    HT_EQ_U(swap_ra_window(&none, 21, &lo), 1);
    HT_EQ_U(lo, 21);
    struct swap_ra_info used = { .start = 16, .end = 24, .win = 8, .hits = 7 };
    HT_EQ_U(swap_ra_window(&used, 24, &lo), 1);       /* off, whatever the history */
    page_cluster = 3;
    /* Every page used, the fault right after: twice as many, from the fault. */
    HT_EQ_U(swap_ra_window(&used, 24, &lo), 16);
    HT_EQ_U(lo, 24);
    HT_EQ_U(swap_ra_window(&used, 27, &lo), 16);      /* a slot or three skipped */
    HT_EQ_U(lo, 27);
    /* The same, backwards: the window ends at the fault. */
    HT_EQ_U(swap_ra_window(&used, 15, &lo), 16);
    HT_EQ_U(lo, 0);
    /* Elsewhere: aligned. */
    HT_EQ_U(swap_ra_window(&used, 100, &lo), 16);
    HT_EQ_U(lo, 96);
    /* Never above SWAP_RA_MAX. */
    struct swap_ra_info big = { .start = 100, .end = 164, .win = SWAP_RA_MAX, .hits = 500 };
    HT_EQ_U(swap_ra_window(&big, 164, &lo), SWAP_RA_MAX);
    HT_EQ_U(lo, 164);
    /* No hit: half the last window each time, down to the page alone. */
    struct swap_ra_info miss = { .start = 0, .end = 64, .win = 64, .hits = 0 };
    unsigned want[] = { 32, 16, 8, 4, 2, 1, 1 };
    for (unsigned i = 0; i < HT_COUNT(want); i++) {
        unsigned w = swap_ra_window(&miss, 1000, &lo);
        HT_EQ_U(w, want[i]);
        HT_EQ_U(lo, 1000 & ~(uint64_t)(w - 1));
        miss = (struct swap_ra_info){ .start = lo, .end = lo + w, .win = w };
    }
    /* No hit, but the fault is next to the last window: 2, a stream may start. */
    struct swap_ra_info one = { .start = 500, .end = 501, .win = 1 };
    HT_EQ_U(swap_ra_window(&one, 501, &lo), 2);
    HT_EQ_U(lo, 501);
    HT_EQ_U(swap_ra_window(&one, 499, &lo), 2);
    HT_EQ_U(lo, 498);
    /* A few hits: room for them and two more (at least 4), not below half. */
    struct swap_ra_info some = { .start = 0, .end = 4, .win = 4, .hits = 1 };
    HT_EQ_U(swap_ra_window(&some, 900, &lo), 4);
    some = (struct swap_ra_info){ .start = 0, .end = 32, .win = 32, .hits = 9 };
    HT_EQ_U(swap_ra_window(&some, 900, &lo), 16);
    page_cluster = pc;
}

/* The slot of each page of the region, before its fault. */
static void slots_of(struct mm *mm, uint64_t at, uint64_t pages, uint64_t *slot)
{
    for (uint64_t i = 0; i < pages; i++)
        slot[i] = swp_offset((swp_entry_t){ entry_at(mm, at + i * FR) });
}

/* A stream of faults in address order over 200 pages on consecutive
 * slots: two major faults, windows of 8 (7 pages: slot 0 is the header)
 * and 8, the second a forward stream, so the next 8 are read without
 * waiting; then each window's first page, when used, sends the next,
 * twice as large: 16, 32, 64, 64 and the last page; every page read once
 * and used.  With page-cluster 0: 200 faults of one page, nothing
 * ahead. */
static void t_readahead_grows_along_stream(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    if (ht_failed)
        return;
    enum { N = 200 };
    uint64_t at = anon(mm, N), slot[N];
    HT_TRY(fill(mm, at, N, 21));
    HT_TRY(page_out(mm, at, N));
    slots_of(mm, at, N, slot);
    for (uint64_t i = 0; i < N; i++)
        HT_EQ_U(slot[i], i + 1);
    uint64_t in0 = vm_events[PSWPIN], hit0 = vm_events[SWAP_RA_HIT];
    unsigned logged0 = read_logged;
    HT_EQ_U(wrong(mm, at, N, 21), 0);
    unsigned want[] = { 7, 8, 8, 16, 32, 64, 64, 1 };
    HT_EQ_U(mm->major_faults, 2);
    HT_EQ_U(read_logged - logged0, HT_COUNT(want));
    uint64_t next = 1;
    for (unsigned i = 0; i < HT_COUNT(want) && i < read_logged - logged0; i++) {
        HT_EQ_U(read_log[(logged0 + i) % RUN_LOG].slot, next);
        HT_EQ_U(read_log[(logged0 + i) % RUN_LOG].n, want[i]);
        next += want[i];
    }
    HT_EQ_U(vm_events[PSWPIN] - in0, N);             /* nothing read twice or for nothing */
    HT_EQ_U(vm_events[SWAP_RA_HIT] - hit0, N - 2);
    HT_EQ_U(swap_info[0].ra.ahead, 1);
    HT_TRY(check());
    /* Page-cluster 0: read-ahead off, one page per fault, whatever the history. */
    HT_TRY(page_out(mm, at, N));
    unsigned pc = page_cluster;
    page_cluster = 0;
    uint64_t maj0 = mm->major_faults, ra0 = vm_events[SWAP_RA], runs0 = disk_runs;
    in0 = vm_events[PSWPIN];
    HT_EQ_U(wrong(mm, at, N, 21), 0);
    page_cluster = pc;
    HT_EQ_U(mm->major_faults - maj0, N);
    HT_EQ_U(vm_events[PSWPIN] - in0, N);
    HT_EQ_U(vm_events[SWAP_RA], ra0);
    HT_EQ_U(disk_runs, runs0);                       /* no multi-page request */
    HT_EQ_U(swap_cache_pages, 0);
    HT_TRY(check());
    HT_TRY(teardown());
}

/* The locked pages of the swap cache (reads in flight), among slots
 * lo .. hi - 1. */
static unsigned locked_between(uint64_t lo, uint64_t hi)
{
    unsigned n = 0;
    for (uint64_t s = lo; s < hi; s++) {
        struct page *p = swap_cache_find(swp_entry(0, s));
        n += p && (p->flags2 & PG2_LOCKED);
    }
    return n;
}

/* Page out the n pages at `at` (onto consecutive slots from *s0, with
 * *s0 % 8 == 1), forget the area's read-ahead history and fault the
 * first 8 back: two major faults, the second
 * a forward stream that sends slots *s0 + 15 .. *s0 + 22 without
 * waiting. */
static void stream_started(struct mm *mm, uint64_t at, uint64_t n, uint64_t seed,
                           uint64_t *s0)
{
    HT_TRY(page_out(mm, at, n));
    *s0 = swp_offset((swp_entry_t){ entry_at(mm, at) });
    HT_EQ_U(*s0 % 8, 1);
    swap_info[0].ra = (struct swap_ra_info){ 0 };   /* no history, as after swapon */
    uint64_t maj = mm->major_faults;
    HT_EQ_U(wrong_from(mm, at, 0, 8, seed), 0);
    HT_EQ_U(mm->major_faults - maj, 2);
    HT_EQ_U(locked_between(*s0, *s0 + n), 8);
    HT_EQ_U(locked_between(*s0 + 15, *s0 + 23), 8);
}

/*
 * The window read without waiting (swap_readahead.c, blk_read_pages_async):
 * while in flight its pages are in the swap cache, locked, holding what
 * the device has not written yet, pinned by the read (reclaim and
 * migration leave them); a fault on one waits for the read; a failed
 * read takes them all out of the cache, so that each fault reads its own
 * page and sees its own error; munmap and swapoff with a read in flight
 * wait for it, and nothing leaks.
 */
static void t_readahead_async(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    if (ht_failed)
        return;
    enum { N = 40 };
    uint64_t at = anon(mm, N);
    HT_TRY(fill(mm, at, N, 31));
    uint64_t s0;
    HT_TRY(stream_started(mm, at, N, 31, &s0));
    HT_EQ_U(s0, 1);
    struct page *p = swap_cache_find(swp_entry(0, 16));
    HT_ASSERT(p && (p->flags2 & PG2_RA_MARK) && p->refcount == 2, "slot 16: not the marked "
              "first page of a read in flight");
    HT_EQ_U(*(uint64_t *)(mm_host_arena() + page_to_phys(p)), 0xa5a5a5a5a5a5a5a5ul);
    HT_EQ_U(pageout_page(p), -EBUSY);                /* pinned by the read */
    /* The fault on slot 16 waits, finds the data, and sends 24..39. */
    HT_EQ_U(wrong_from(mm, at, 15, 1, 31), 0);
    HT_EQ_U(locked_between(16, 24), 0);
    HT_EQ_U(locked_between(24, 40), 16);
    HT_TRY(check());
    /* That read fails (slot 30): at the fault on slot 24, the whole
     * window leaves the cache; the fault reads its own page. */
    fail_read_at = 30 * SPP;
    HT_EQ_U(wrong_from(mm, at, 16, 7, 31), 0);      /* slots 17..23: hits */
    uint64_t maj = mm->major_faults;
    HT_EQ_U(wrong_from(mm, at, 23, 1, 31), 0);
    HT_EQ_U(mm->major_faults, maj + 1);
    HT_EQ_U(locked_between(1, N + 1), 0);
    HT_EQ_U(mm_fault(mm, at + 29 * FR, FAULT_USER), -EIO);   /* slot 30's own error */
    HT_TRY(check());
    fail_read_at = ~0ul;
    HT_EQ_U(wrong(mm, at, N, 31), 0);
    HT_EQ_U(mm->swap_ents, 0);
    /* munmap with a read in flight: the slots and pages all go. */
    HT_TRY(stream_started(mm, at, N, 31, &s0));
    HT_EQ_U(mm_munmap(mm, at, N * FR), 0);
    HT_EQ_U(locked_between(s0, s0 + N), 0);
    HT_EQ_U(swap_cache_pages, 0);
    HT_EQ_U(nr_swap_pages, total_swap_pages);
    HT_TRY(check());
    /* swapoff with a read in flight: every page back, right. */
    at = anon(mm, N);
    HT_TRY(fill(mm, at, N, 32));
    HT_TRY(stream_started(mm, at, N, 32, &s0));
    HT_EQ_U(swap_deactivate(0), 0);
    HT_EQ_U(swap_cache_pages, 0);
    HT_EQ_U(mm->swap_ents, 0);
    HT_EQ_U(wrong(mm, at, N, 32), 0);
    char why[128];
    HT_ASSERT(swap_activate(&disk, "/dev/vda", 0, why, sizeof(why)) == 0, "swapon: %s", why);
    HT_TRY(check());
    HT_TRY(teardown());
}

/* Faults at random pages of a swapped-out region: the window shrinks to
 * the faulting page, so what is read stays close to what is used (a fixed
 * window of 8 would read up to 8 pages per fault). */
static void t_readahead_random_shrinks(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    if (ht_failed)
        return;
    enum { N = 200, USED = 40 };
    uint64_t at = anon(mm, N);
    HT_TRY(fill(mm, at, N, 22));
    HT_TRY(page_out(mm, at, N));
    uint64_t in0 = vm_events[PSWPIN], x = 12345, faulted = 0;
    bool done[N] = { false };
    while (faulted < USED) {
        x = x * 6364136223846793005ul + 1442695040888963407ul;
        uint64_t i = (x >> 33) % N;
        if (done[i])
            continue;
        done[i] = true;
        faulted++;
        HT_EQ_U(wrong_from(mm, at, i, 1, 22), 0);
    }
    uint64_t read = vm_events[PSWPIN] - in0;
    printf("# random faults: %lu pages read for %d used, %lu major faults, window %u\n", read,
           USED, mm->major_faults, swap_info[0].ra.win);
    /* At most half again what is used, plus the first window (59 here). */
    HT_ASSERT(read <= USED * 3 / 2 + SWAP_RA_PAGES, "%lu pages read for %d used", read, USED);
    HT_ASSERT(swap_info[0].ra.win <= 4, "the window stayed at %u", swap_info[0].ra.win);
    HT_TRY(check());
    HT_TRY(teardown());
}

/* A window never takes in a slot that is free (its page came back), bad
 * (the header says so) or already cached (read ahead before): the run
 * stops there, on both sides.  And a run whose read fails falls back to
 * the faulting page alone. */
static void t_readahead_stops_at_unwanted_slots(void)
{
    HT_TRY(setup());
    if (ht_failed)
        return;
    /* Slot 40 bad: swapon again with it in the header's list. */
    HT_EQ_U(swap_deactivate(0), 0);
    put_le32(img + SWAP_HDR_NR_BAD_OFF, 1);
    put_le32(img + SWAP_HDR_BADPAGES_OFF, 40);
    char why[128];
    HT_ASSERT(swap_activate(&disk, "/dev/vda", 0, why, sizeof(why)) == 0, "swapon: %s", why);
    base_frames = frames_now();
    struct mm *mm = new_mm();
    if (ht_failed)
        return;
    enum { N = 64 };
    uint64_t at = anon(mm, N), slot[N];
    HT_TRY(fill(mm, at, N, 23));
    HT_TRY(page_out(mm, at, N));
    slots_of(mm, at, N, slot);
    HT_EQ_U(slot[38], 39);
    HT_EQ_U(slot[39], 41);                           /* 40 skipped */
    /* Page 10 back alone (page-cluster 0): its slot, 11, is free. */
    unsigned pc = page_cluster;
    page_cluster = 0;
    HT_EQ_U(wrong_from(mm, at, 10, 1, 23), 0);
    HT_EQ_U(swap_count(swp_entry(0, slot[10])), 0);
    /* Page 22 (slot 23) back with windows of 2 (slots 22 and 23): page
     * 21's slot, 22, read ahead and left in the cache. */
    page_cluster = 1;
    swap_info[0].ra = (struct swap_ra_info){ 0 };
    HT_EQ_U(wrong_from(mm, at, 22, 1, 23), 0);
    HT_ASSERT(lookup_swap_cache(swp_entry(0, slot[21])), "slot %lu not read ahead", slot[21]);
    HT_EQ_U(swap_cache_pages, 1);
    /* A fault whose window's read fails: the page alone, nothing cached. */
    page_cluster = 3;
    swap_info[0].ra = (struct swap_ra_info){ 0 };
    fail_read_at = slot[3] * SPP;
    uint64_t ra0 = vm_events[SWAP_RA];
    HT_EQ_U(wrong_from(mm, at, 2, 1, 23), 0);
    fail_read_at = ~0ul;
    HT_EQ_U(vm_events[SWAP_RA], ra0);
    HT_EQ_U(swap_cache_pages, 1);
    HT_TRY(check());
    /* Now every page in order, from a fresh history: no read crosses
     * slot 11 (free), 22 (cached) or 40 (bad). */
    swap_info[0].ra = (struct swap_ra_info){ 0 };
    unsigned logged0 = read_logged;
    HT_EQ_U(wrong(mm, at, N, 23), 0);
    page_cluster = pc;
    HT_ASSERT(read_logged - logged0 <= RUN_LOG, "%u reads", read_logged - logged0);
    for (unsigned i = logged0; i < read_logged; i++) {
        uint64_t a = read_log[i % RUN_LOG].slot, b = a + read_log[i % RUN_LOG].n;
        HT_ASSERT(!(a <= 11 && 11 < b) && !(a <= 22 && 22 < b) && !(a <= 40 && 40 < b),
                  "read of slots %lu..%lu", a, b - 1);
    }
    HT_ASSERT(read_logged - logged0 >= 4, "%u reads: the case tests nothing",
              read_logged - logged0);
    HT_EQ_U(swap_cache_pages, 0);
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
        HT_CASE(private_file_copies),
        HT_CASE(clustered_readahead),
        HT_CASE(madvise_pageout),
        HT_CASE(io_errors),
        HT_CASE(readahead_dropped_without_io),
        HT_CASE(readahead_above_4g_for_i386),
        HT_CASE(swapoff_cache_only_slot),
        HT_CASE(readahead_window_rule),
        HT_CASE(readahead_grows_along_stream),
        HT_CASE(readahead_async),
        HT_CASE(readahead_random_shrinks),
        HT_CASE(readahead_stops_at_unwanted_slots),
    };
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
