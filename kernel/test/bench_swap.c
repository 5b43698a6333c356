/*
 * Swap I/O throughput in QEMU (`make bench`'s bench boot, which attaches
 * a swap disk and switches it on with swap=vda: tests/bench/boot_vm_time.py;
 * docs/benchmarks.md, "Swap I/O").
 *
 * In each round, on the same disk and in the same boot:
 *  - raw sequential writes and reads through the block layer in requests
 *    of RAW_PAGES pages (128 KiB, what dd with bs=128k sends), and reads
 *    of one page per request (4 KiB), over slots the bench allocated for
 *    itself (so the device is written only at allocated slots, as
 *    swap_writepage's rule wants);
 *  - swap-out: a process's SWAP_MIB MiB of anonymous pages written out
 *    by the reclaim path's clustered page-out (pageout_cluster, batches
 *    of PAGEOUT_CLUSTER pages in address order, as the clock gathers
 *    them), and, for comparison, one page per request (pageout_page);
 *  - swap-in: the pages faulted back in address order (mm_fault), major
 *    faults reading a read-ahead window, the others finding their page
 *    in the swap cache; the major faults are timed apart, beside a 4 KiB
 *    device read and a read of a window's size; then once more with
 *    page-cluster 5 (windows of 32 pages, as large as the raw requests).
 * Each figure is the median over ROUNDS rounds; the ratios are medians of
 * per-round ratios, and the targets compare swap-out and swap-in with
 * the raw sequential figures of the same round.  Rounds are short (2 MiB
 * each way) so that a figure and its reference are taken a fraction of
 * a second apart: QEMU's disk is served by the host, whose load moves
 * every figure.
 */
#include <kernel/apic.h>
#include <kernel/bench.h>
#include <kernel/blkdev.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include <mm/gfp.h>
#include <mm/slab.h>
#include <mm/swap.h>
#include <mm/vma.h>
#include <mm/vmscan.h>

#define ROUNDS 9
#define SWAP_MIB 2
#define NPAGES (SWAP_MIB * 256)
#define RAW_PAGES 32
#define SINGLE_PAGES 64             /* the one-page-per-request figures: 256 KiB */

static uint64_t median(uint64_t *v, int n)
{
    uint64_t w[ROUNDS];
    for (int i = 0; i < n; i++) {
        int j = i;
        for (; j > 0 && w[j - 1] > v[i]; j--)
            w[j] = w[j - 1];
        w[j] = v[i];
    }
    return w[n / 2];
}

/* MiB/s of `pages` pages moved in `ticks` TSC ticks. */
static uint64_t mibs(uint64_t pages, uint64_t ticks)
{
    return ticks ? pages * tsc_hz() / 256 / ticks : 0;
}

/* Microseconds of `ticks`. */
static uint64_t usec(uint64_t ticks)
{
    return ticks * 1000000 / tsc_hz();
}

struct raw {
    uint64_t write, read, read4k, read_ra;  /* ticks per page */
};

/* Raw transfers over NPAGES slots taken for the purpose (a run of
 * consecutive slots each, freed at the end). */
static bool raw_round(struct swap_info_struct *si, struct page **buf, struct raw *out)
{
    swp_entry_t first[NPAGES / RAW_PAGES];
    unsigned runs = 0;
    bool ok = true;
    for (unsigned tries = 0; runs < NPAGES / RAW_PAGES;) {
        unsigned got;
        first[runs] = get_swap_pages(RAW_PAGES, &got);
        if (got == RAW_PAGES && swp_type(first[runs]) == si->type) {
            runs++;
            continue;
        }
        /* The end of a cluster: give the short run back, try the next. */
        for (unsigned k = 0; k < got; k++)
            swap_free(swp_entry(swp_type(first[runs]), swp_offset(first[runs]) + k));
        if (++tries > 8) {
            ok = false;
            break;
        }
    }
    uint64_t pa[RAW_PAGES];
    for (unsigned i = 0; i < RAW_PAGES; i++)
        pa[i] = page_to_phys(buf[i]);
    uint64_t t0 = rdtsc();
    for (unsigned r = 0; ok && r < runs; r++)
        ok = blk_rw_pages(si->bdev, swp_offset(first[r]) * 8, pa, RAW_PAGES, true) == 0;
    uint64_t t1 = rdtsc();
    for (unsigned r = 0; ok && r < runs; r++)
        ok = blk_rw_pages(si->bdev, swp_offset(first[r]) * 8, pa, RAW_PAGES, false) == 0;
    uint64_t t2 = rdtsc();
    for (unsigned i = 0; ok && i < SINGLE_PAGES; i++)
        ok = blk_rw_page(si->bdev, (swp_offset(first[i / RAW_PAGES]) + i % RAW_PAGES) * 8, pa[0],
                         false) == 0;
    uint64_t t3 = rdtsc();
    /* Requests of a read-ahead window's size, as a major fault sends. */
    for (unsigned r = 0; ok && r < runs; r++)
        for (unsigned k = 0; ok && k < RAW_PAGES; k += SWAP_RA_PAGES)
            ok = blk_rw_pages(si->bdev, (swp_offset(first[r]) + k) * 8, pa + k, SWAP_RA_PAGES,
                              false) == 0;
    uint64_t t4 = rdtsc();
    for (unsigned r = 0; r < runs; r++)
        for (unsigned k = 0; k < RAW_PAGES; k++)
            swap_free(swp_entry(swp_type(first[r]), swp_offset(first[r]) + k));
    out->write = (t1 - t0) / NPAGES;
    out->read = (t2 - t1) / NPAGES;
    out->read4k = (t3 - t2) / SINGLE_PAGES;
    out->read_ra = (t4 - t3) / NPAGES;
    return ok;
}

struct swp {
    uint64_t out, out1, in;         /* ticks per page: clustered, one by one, faults */
    uint64_t in5;                   /* faults with page-cluster 5 (windows of 32) */
    uint64_t major, minor;          /* ticks per major fault, per read-ahead hit */
    uint64_t majors;
    bool ok;
};

/* The frame at va, or NULL when it is out. */
static struct page *page_at(struct mm *mm, uint64_t va)
{
    struct pt_view v;
    if (pt_walk(&mm->pt, va, &v) != 0 || v.payload)
        return NULL;
    return pfn_to_page(v.pa >> PAGE_SHIFT);
}

static uint64_t out_clustered(struct mm *mm, uint64_t base, uint64_t n)
{
    uint64_t freed = 0;
    for (uint64_t i = 0; i < n; i += PAGEOUT_CLUSTER) {
        struct page *b[PAGEOUT_CLUSTER];
        unsigned k = 0;
        for (; k < PAGEOUT_CLUSTER && i + k < n; k++)
            b[k] = page_at(mm, base + (i + k) * PAGE_SIZE);
        freed += pageout_cluster(b, k);
    }
    return freed;
}

/* Fault the pages back in order: ticks per page; major faults timed
 * apart into *maj (ticks each) and their number *majors; wrong pages
 * counted in *bad. */
static uint64_t swap_in(struct mm *mm, uint64_t base, uint64_t *maj, uint64_t *mnr,
                        uint64_t *majors, uint64_t *bad)
{
    uint64_t maj_ticks = 0, min_ticks = 0, majors0 = mm->major_faults;
    for (uint64_t i = 0; i < NPAGES; i++) {
        uint64_t m = mm->major_faults, a = rdtsc();
        int err = mm_fault(mm, base + i * PAGE_SIZE, FAULT_USER);
        uint64_t d = rdtsc() - a;
        if (mm->major_faults != m)
            maj_ticks += d;
        else
            min_ticks += d;
        struct page *pg = err ? NULL : page_at(mm, base + i * PAGE_SIZE);
        *bad += !pg || *(uint64_t *)page_address(pg) != i * 2654435761u;
    }
    *majors = mm->major_faults - majors0;
    *maj = *majors ? maj_ticks / *majors : 0;
    *mnr = NPAGES - *majors ? min_ticks / (NPAGES - *majors) : 0;
    return (maj_ticks + min_ticks) / NPAGES;
}

static void swap_round(struct swp *s)
{
    s->ok = false;
    uint64_t base;
    struct mm *mm = kzalloc(sizeof(*mm), GFP_KERNEL);
    if (!mm || mm_init_user(mm, MM_VA_END_64, GFP_KERNEL) ||
        mm_mmap(mm, 0, (uint64_t)NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, &base) ||
        mm_prepare_write(mm, base, (uint64_t)NPAGES * PAGE_SIZE)) {
        printk("bench: swap: no memory for %d MiB\n", SWAP_MIB);
        kfree(mm);
        return;
    }
    for (uint64_t i = 0; i < NPAGES; i++)
        *(uint64_t *)page_address(page_at(mm, base + i * PAGE_SIZE)) = i * 2654435761u;
    /* One page per request: the first SINGLE_PAGES pages, then back. */
    uint64_t t0 = rdtsc(), one = 0;
    for (uint64_t i = 0; i < SINGLE_PAGES; i++)
        one += pageout_page(page_at(mm, base + i * PAGE_SIZE)) == 0;
    s->out1 = (rdtsc() - t0) / SINGLE_PAGES;
    for (uint64_t i = 0; i < SINGLE_PAGES; i++)
        mm_fault(mm, base + i * PAGE_SIZE, FAULT_USER);
    /* Clustered, every page. */
    t0 = rdtsc();
    uint64_t freed = out_clustered(mm, base, NPAGES);
    s->out = (rdtsc() - t0) / NPAGES;
    /* Back in, in order, with the default read-ahead (page-cluster 3);
     * then out again and in with windows of 32 pages (page-cluster 5). */
    uint64_t bad = 0, unused[3];
    s->in = swap_in(mm, base, &s->major, &s->minor, &s->majors, &bad);
    freed += out_clustered(mm, base, NPAGES);
    unsigned pc = page_cluster;
    page_cluster = 5;
    s->in5 = swap_in(mm, base, &unused[0], &unused[1], &unused[2], &bad);
    page_cluster = pc;
    s->ok = one == SINGLE_PAGES && freed == 2 * NPAGES && bad == 0;
    if (!s->ok)
        printk("bench: swap: %lu of %d pages out one by one, %lu of %d clustered, %lu wrong "
               "after the way back\n", one, SINGLE_PAGES, freed, 2 * NPAGES, bad);
    mm_destroy(mm);
    kfree(mm);
}

/* "R.RR" of hundredths */
static const char *hx(char *buf, size_t size, uint64_t h)
{
    snprintf(buf, size, "%lu.%02lu", h / 100, h % 100);
    return buf;
}

static void target(const char *name, uint64_t pct, uint64_t goal)
{
    printk("bench: target %s: measured %lu%%, goal >= %lu%%: %s\n", name, pct, goal,
           pct >= goal ? "met" : "NOT MET");
}

void bench_swap(void)
{
    struct swap_info_struct *si = NULL;
    for (unsigned t = 0; t < MAX_SWAPFILES; t++)
        if ((swap_info[t].flags & (SWP_USED | SWP_WRITEOK)) == (SWP_USED | SWP_WRITEOK))
            si = &swap_info[t];
    if (!si || nr_swap_pages < 2 * NPAGES) {
        printk("bench: swap: skipped (no swap area with %d MiB free: boot with swap=vda)\n",
               2 * SWAP_MIB);
        return;
    }
    struct page *buf[RAW_PAGES];
    for (unsigned i = 0; i < RAW_PAGES; i++)
        if (!(buf[i] = alloc_page(GFP_KERNEL)))
            panic("bench: swap: no memory");
    uint64_t w[ROUNDS], r[ROUNDS], r4[ROUNDS], rra[ROUNDS], o[ROUNDS], o1[ROUNDS], in[ROUNDS];
    uint64_t maj[ROUNDS], mnr[ROUNDS], qo[ROUNDS], qi[ROUNDS], qi5[ROUNDS], in5[ROUNDS];
    uint64_t majors = 0;
    bool ok = true;
    for (int i = 0; i < ROUNDS && ok; i++) {
        struct raw raw;
        struct swp s;
        ok = raw_round(si, buf, &raw);
        swap_round(&s);
        ok = ok && s.ok;
        w[i] = raw.write, r[i] = raw.read, r4[i] = raw.read4k, rra[i] = raw.read_ra;
        o[i] = s.out, o1[i] = s.out1, in[i] = s.in, maj[i] = s.major, mnr[i] = s.minor;
        qo[i] = s.out ? raw.write * 100 / s.out : 0;    /* throughput ratio, % */
        qi[i] = s.in ? raw.read * 100 / s.in : 0;
        qi5[i] = s.in5 ? raw.read * 100 / s.in5 : 0;
        in5[i] = s.in5;
        majors = s.majors;
    }
    for (unsigned i = 0; i < RAW_PAGES; i++)
        __free_pages(buf[i], 0);
    if (!ok) {
        printk("bench: swap: failed (see above)\n");
        return;
    }
    char a[24];
    uint64_t W = median(w, ROUNDS), R = median(r, ROUNDS), R4 = median(r4, ROUNDS);
    uint64_t O = median(o, ROUNDS), O1 = median(o1, ROUNDS), I = median(in, ROUNDS);
    uint64_t MAJ = median(maj, ROUNDS), MIN = median(mnr, ROUNDS);
    printk("bench: swap on %s, %d MiB, %d rounds (TSC %lu MHz):\n", si->bdev->name, SWAP_MIB,
           ROUNDS, tsc_hz() / 1000000);
    printk("bench: raw sequential write, %d KiB requests: %lu MiB/s\n", RAW_PAGES * 4,
           mibs(1, W));
    printk("bench: raw sequential read, %d KiB requests: %lu MiB/s\n", RAW_PAGES * 4,
           mibs(1, R));
    printk("bench: raw read, 4 KiB requests: %lu MiB/s (%lu us each)\n", mibs(1, R4),
           usec(R4));
    uint64_t RRA = median(rra, ROUNDS);
    printk("bench: raw read, %u KiB requests (a read-ahead window): %lu MiB/s (%lu us each)\n",
           SWAP_RA_PAGES * 4, mibs(1, RRA), usec(RRA * SWAP_RA_PAGES));
    printk("bench: swap-out, clustered (pageout_cluster, %u pages a batch): %lu MiB/s = %lu%% "
           "of raw write\n", PAGEOUT_CLUSTER, mibs(1, O), median(qo, ROUNDS));
    printk("bench: swap-out, one page per request (pageout_page): %lu MiB/s (%s x slower "
           "than clustered)\n", mibs(1, O1), hx(a, sizeof(a), O ? O1 * 100 / O : 0));
    printk("bench: swap-in, faults in address order (read-ahead of %u): %lu MiB/s = %lu%% of "
           "raw read; %lu major faults for %d pages\n", SWAP_RA_PAGES, mibs(1, I),
           median(qi, ROUNDS), majors, NPAGES);
    printk("bench: swap-in with page-cluster 5 (windows of 32 pages, 128 KiB): %lu MiB/s = "
           "%lu%% of raw read\n", mibs(1, median(in5, ROUNDS)), median(qi5, ROUNDS));
    printk("bench: major fault %lu us (reads a window of up to %u pages) beside a 4 KiB "
           "device read %lu us; a fault on a page read ahead %lu us\n", usec(MAJ),
           SWAP_RA_PAGES, usec(R4), usec(MIN));
    target("qemu_swapout_vs_raw", median(qo, ROUNDS), 70);
    target("qemu_swapin_vs_raw", median(qi, ROUNDS), 70);
}
