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
 *    faults reading a read-ahead window (mm/swap_readahead.c: 2^page-cluster
 *    slots at first, doubling along the stream up to SWAP_RA_MAX), the
 *    others finding their page in the swap cache; each pass starts with
 *    no read-ahead history, as after swapon, and is bracketed by two raw
 *    128 KiB sequential reads (its reference is their mean); the major
 *    faults are timed apart, beside a 4 KiB device read and raw reads of
 *    the first and the largest window's size; then once more with
 *    page-cluster 5 (a first window of 32 pages); then in random order
 *    (what it reads against what it uses, and a major fault's cost when
 *    the window has shrunk to the page alone).
 * Each figure is the median over ROUNDS rounds; the ratios are medians of
 * per-round ratios, and the targets compare swap-out and swap-in with
 * raw sequential figures of the same round.  Rounds are short (2 MiB
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
#include <mm/vm_event.h>
#include <mm/vma.h>
#include <mm/vmscan.h>

#define ROUNDS 15
#define SWAP_MIB 2
#define NPAGES (SWAP_MIB * 256)
#define RAW_PAGES 32
#define RUN SWAP_RA_MAX             /* consecutive slots the raw figures use at a time */
#define SINGLE_PAGES 64             /* the one-page-per-request figures: 256 KiB */
#define RANDOM_PAGES (NPAGES / 4)   /* faulted back in random order */

static uint64_t median(const uint64_t *v, int n)
{
    return bench_median(v, n);
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
    uint64_t write, read, read4k, read_ra, read_max;  /* ticks per page */
};

/* NPAGES slots the bench takes for its raw transfers, in runs of RUN
 * consecutive slots, and the frames the transfers use. */
struct raw_slots {
    struct swap_info_struct *si;
    swp_entry_t first[NPAGES / RUN];
    unsigned runs;
    uint64_t pa[RUN];
};

static bool raw_take(struct swap_info_struct *si, struct page **buf, struct raw_slots *rs)
{
    rs->si = si;
    rs->runs = 0;
    for (unsigned i = 0; i < RUN; i++)
        rs->pa[i] = page_to_phys(buf[i]);
    for (unsigned tries = 0; rs->runs < NPAGES / RUN;) {
        unsigned got;
        swp_entry_t e = get_swap_pages(RUN, &got);
        if (got == RUN && swp_type(e) == si->type) {
            rs->first[rs->runs++] = e;
            continue;
        }
        /* The end of a cluster: give the short run back, try the next. */
        for (unsigned k = 0; k < got; k++)
            swap_free(swp_entry(swp_type(e), swp_offset(e) + k));
        if (++tries > 8)
            return false;
    }
    return true;
}

static void raw_give(struct raw_slots *rs)
{
    for (unsigned r = 0; r < rs->runs; r++)
        for (unsigned k = 0; k < RUN; k++)
            swap_free(swp_entry(swp_type(rs->first[r]), swp_offset(rs->first[r]) + k));
    rs->runs = 0;
}

/* Every slot read (written) in n-page requests, in order: ticks per page,
 * or 0 on an error. */
static uint64_t raw_rw(struct raw_slots *rs, unsigned n, bool write)
{
    uint64_t t0 = rdtsc();
    for (unsigned r = 0; r < rs->runs; r++)
        for (unsigned k = 0; k < RUN; k += n)
            if (blk_rw_pages(rs->si->bdev, (swp_offset(rs->first[r]) + k) * 8, rs->pa + k, n,
                             write))
                return 0;
    return (rdtsc() - t0) / NPAGES;
}

/* The raw figures of a round: 128 KiB writes and reads, 4 KiB reads, and
 * reads of the first and of the largest read-ahead window's size. */
static bool raw_round(struct raw_slots *rs, struct raw *out)
{
    out->write = raw_rw(rs, RAW_PAGES, true);
    out->read = raw_rw(rs, RAW_PAGES, false);
    uint64_t t0 = rdtsc();
    bool ok = true;
    for (unsigned i = 0; ok && i < SINGLE_PAGES; i++)
        ok = blk_rw_page(rs->si->bdev, (swp_offset(rs->first[i / RUN]) + i % RUN) * 8,
                         rs->pa[0], false) == 0;
    out->read4k = (rdtsc() - t0) / SINGLE_PAGES;
    out->read_ra = raw_rw(rs, SWAP_RA_PAGES, false);
    out->read_max = raw_rw(rs, SWAP_RA_MAX, false);
    return ok && out->write && out->read && out->read_ra && out->read_max;
}

struct swp {
    uint64_t out, out1, in;         /* ticks per page: clustered, one by one, faults */
    uint64_t in5;                   /* faults with page-cluster 5 (first window 32) */
    uint64_t ref, ref5;             /* raw 128 KiB reads right before and after each (mean) */
    uint64_t major, minor;          /* ticks per major fault, per read-ahead hit */
    uint64_t majors;
    uint64_t rnd_major, rnd_read, rnd_majors;  /* random order: ticks per major, pages read */
    unsigned win[16], nwin;         /* the default pass's runs, in pages (the first 16) */
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

/* What one pass of faults measured. */
struct pass {
    uint64_t per_page, major, minor, majors, read;  /* ticks; ticks; ticks; faults; pages */
    unsigned win[16], nwin;
};

/*
 * Fault the pages back, in address order, or the first n of `order`, from
 * a cold start: the area's read-ahead history is wiped first, as after
 * swapon, so that each pass pays for its window's growth from
 * 2^page-cluster.  Major faults are timed apart; wrong pages counted in
 * *bad.
 */
static void swap_in(struct mm *mm, uint64_t base, struct swap_info_struct *si,
                    const uint16_t *order, uint64_t n, struct pass *p, uint64_t *bad)
{
    uint64_t maj_ticks = 0, min_ticks = 0, majors0 = mm->major_faults;
    uint64_t read0 = vm_events[PSWPIN];
    si->ra = (struct swap_ra_info){ 0 };
    p->nwin = 0;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t i = order ? order[k] : k;
        uint64_t m = mm->major_faults, a = rdtsc();
        int err = mm_fault(mm, base + i * PAGE_SIZE, FAULT_USER);
        uint64_t d = rdtsc() - a;
        if (mm->major_faults != m) {
            maj_ticks += d;
            if (p->nwin < 16)
                p->win[p->nwin++] = (unsigned)(si->ra.end - si->ra.start);
        } else {
            min_ticks += d;
        }
        struct page *pg = err ? NULL : page_at(mm, base + i * PAGE_SIZE);
        *bad += !pg || *(uint64_t *)page_address(pg) != i * 2654435761u;
    }
    p->majors = mm->major_faults - majors0;
    p->read = vm_events[PSWPIN] - read0;
    p->major = p->majors ? maj_ticks / p->majors : 0;
    p->minor = n - p->majors ? min_ticks / (n - p->majors) : 0;
    p->per_page = (maj_ticks + min_ticks) / n;
}

/* A shuffle of 0 .. NPAGES-1 (xorshift, fixed seed: the same every round). */
static void shuffle(uint16_t *order)
{
    uint64_t x = 0x9e3779b97f4a7c15ul;
    for (unsigned i = 0; i < NPAGES; i++)
        order[i] = (uint16_t)i;
    for (unsigned i = NPAGES - 1; i > 0; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned j = (unsigned)(x % (i + 1));
        uint16_t t = order[i];
        order[i] = order[j], order[j] = t;
    }
}

static void swap_round(struct raw_slots *rs, struct swp *s)
{
    struct swap_info_struct *si = rs->si;
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
    /* Back in, in order, with the default page-cluster (3); then out
     * again and in with page-cluster 5; then out, and a quarter of the
     * pages in, in random order (page-cluster 3 again). */
    uint64_t bad = 0;
    struct pass p;
    uint64_t r0 = raw_rw(rs, RAW_PAGES, false);
    swap_in(mm, base, si, NULL, NPAGES, &p, &bad);
    uint64_t r1 = raw_rw(rs, RAW_PAGES, false);
    bool raw_ok = r0 && r1;
    s->ref = (r0 + r1) / 2;
    s->in = p.per_page, s->major = p.major, s->minor = p.minor, s->majors = p.majors;
    s->nwin = p.nwin;
    memcpy(s->win, p.win, sizeof(s->win));
    freed += out_clustered(mm, base, NPAGES);
    unsigned pc = page_cluster;
    page_cluster = 5;
    r0 = raw_rw(rs, RAW_PAGES, false);
    swap_in(mm, base, si, NULL, NPAGES, &p, &bad);
    uint64_t r2 = raw_rw(rs, RAW_PAGES, false);
    raw_ok = raw_ok && r0 && r2;
    page_cluster = pc;
    s->ref5 = (r0 + r2) / 2;
    s->in5 = p.per_page;
    freed += out_clustered(mm, base, NPAGES);
    static uint16_t order[NPAGES];
    shuffle(order);
    swap_in(mm, base, si, order, RANDOM_PAGES, &p, &bad);
    s->rnd_major = p.major, s->rnd_read = p.read, s->rnd_majors = p.majors;
    si->ra = (struct swap_ra_info){ 0 };
    s->ok = one == SINGLE_PAGES && freed == 3 * NPAGES && bad == 0 && raw_ok;
    if (!s->ok)
        printk("bench: swap: %lu of %d pages out one by one, %lu of %d clustered, %lu wrong "
               "after the way back\n", one, SINGLE_PAGES, freed, 3 * NPAGES, bad);
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

/*
 * Touch every frame a user page could get, once: allocate them all (no
 * reclaim), write a word in each, free them.  QEMU backs guest RAM lazily
 * (tools/qemu.py: reserve=off): the host gives a page at its first
 * touch, and a device read into a frame the guest never touched pays
 * that host fault inside the request.  The raw figures read into a few
 * hot frames; swap-in reads into frames from the free lists, most of
 * which a fresh 1 GiB guest never touched.  Warming them first takes the
 * host's lazy allocation out of both (docs/benchmarks.md, section 9).
 * kswapd does not run yet (main.c starts it after the benchmarks).  The
 * number of frames touched.
 */
static uint64_t warm_free_frames(void)
{
    void *head = NULL;
    uint64_t n = 0;
    for (struct page *p; (p = alloc_pages((GFP_HIGHUSER_MOVABLE | __GFP_NOWARN) & ~__GFP_WAIT,
                                          0));) {
        *(void **)page_address(p) = head;
        head = page_address(p);
        n++;
    }
    while (head) {
        void *next = *(void **)head;
        __free_pages(virt_to_page(head), 0);
        head = next;
    }
    return n;
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
    uint64_t warmed = warm_free_frames();
    struct page *buf[RUN];
    for (unsigned i = 0; i < RUN; i++)
        if (!(buf[i] = alloc_page(GFP_KERNEL)))
            panic("bench: swap: no memory");
    /* Per round (static: too much for the stack, and the bench runs once). */
    static uint64_t w[ROUNDS], r[ROUNDS], r4[ROUNDS], rra[ROUNDS], rmax[ROUNDS], o[ROUNDS];
    static uint64_t o1[ROUNDS], in[ROUNDS], maj[ROUNDS], mnr[ROUNDS], qo[ROUNDS], qi[ROUNDS];
    static uint64_t qi5[ROUNDS], in5[ROUNDS], rmaj[ROUNDS], rread[ROUNDS], rmajors[ROUNDS];
    static uint64_t majors[ROUNDS], ref[ROUNDS];
    struct swp s;
    struct raw_slots rs;
    bool ok = true;
    for (int i = 0; i < ROUNDS && ok; i++) {
        struct raw raw;
        ok = raw_take(si, buf, &rs) && raw_round(&rs, &raw);
        if (ok)
            swap_round(&rs, &s);
        raw_give(&rs);
        ok = ok && s.ok;
        w[i] = raw.write, r[i] = raw.read, r4[i] = raw.read4k, rra[i] = raw.read_ra;
        rmax[i] = raw.read_max;
        o[i] = s.out, o1[i] = s.out1, in[i] = s.in, maj[i] = s.major, mnr[i] = s.minor;
        qo[i] = s.out ? raw.write * 100 / s.out : 0;    /* throughput ratio, % */
        qi[i] = s.in ? s.ref * 100 / s.in : 0;
        qi5[i] = s.in5 ? s.ref5 * 100 / s.in5 : 0;
        ref[i] = s.ref;
        in5[i] = s.in5;
        majors[i] = s.majors;
        rmaj[i] = s.rnd_major, rread[i] = s.rnd_read, rmajors[i] = s.rnd_majors;
    }
    for (unsigned i = 0; i < RUN; i++)
        __free_pages(buf[i], 0);
    if (!ok) {
        printk("bench: swap: failed (see above)\n");
        return;
    }
    char a[24], wins[96];
    uint64_t W = median(w, ROUNDS), R = median(r, ROUNDS), R4 = median(r4, ROUNDS);
    uint64_t O = median(o, ROUNDS), O1 = median(o1, ROUNDS), I = median(in, ROUNDS);
    uint64_t MAJ = median(maj, ROUNDS), MIN = median(mnr, ROUNDS);
    uint64_t RRA = median(rra, ROUNDS), RMAX = median(rmax, ROUNDS);
    size_t at = 0;
    for (unsigned k = 0; k < s.nwin && at < sizeof(wins); k++)
        at += (size_t)snprintf(wins + at, sizeof(wins) - at, "%s%u", k ? " " : "", s.win[k]);
    printk("bench: swap on %s, %d MiB, %d rounds (TSC %lu MHz; %lu free frames touched "
           "first):\n", si->bdev->name, SWAP_MIB, ROUNDS, tsc_hz() / 1000000, warmed);
    printk("bench: raw sequential write, %d KiB requests: %lu MiB/s\n", RAW_PAGES * 4,
           mibs(1, W));
    printk("bench: raw sequential read, %d KiB requests: %lu MiB/s\n", RAW_PAGES * 4,
           mibs(1, R));
    printk("bench: raw sequential read, %d KiB requests, right before and after each swap-in "
           "(the swap-in ratios' reference): %lu MiB/s\n", RAW_PAGES * 4,
           mibs(1, median(ref, ROUNDS)));
    printk("bench: raw read, 4 KiB requests: %lu MiB/s (%lu us each)\n", mibs(1, R4),
           usec(R4));
    printk("bench: raw read, %u KiB requests (the first read-ahead window): %lu MiB/s (%lu us "
           "each)\n", SWAP_RA_PAGES * 4, mibs(1, RRA), usec(RRA * SWAP_RA_PAGES));
    printk("bench: raw read, %u KiB requests (the largest window): %lu MiB/s (%lu us each)\n",
           SWAP_RA_MAX * 4, mibs(1, RMAX), usec(RMAX * SWAP_RA_MAX));
    printk("bench: swap-out, clustered (pageout_cluster, %u pages a batch): %lu MiB/s = %lu%% "
           "of raw write\n", PAGEOUT_CLUSTER, mibs(1, O), median(qo, ROUNDS));
    printk("bench: swap-out, one page per request (pageout_page): %lu MiB/s (%s x slower "
           "than clustered)\n", mibs(1, O1), hx(a, sizeof(a), O ? O1 * 100 / O : 0));
    printk("bench: swap-in, faults in address order (page-cluster %u: windows from %u up to "
           "%u pages, the next one read without waiting): %lu MiB/s = %lu%% of raw read; %lu "
           "major faults for %d pages (the area's history after each: %s slots)\n",
           page_cluster, SWAP_RA_PAGES, SWAP_RA_MAX, mibs(1, I), median(qi, ROUNDS),
           median(majors, ROUNDS), NPAGES, wins);
    printk("bench: swap-in with page-cluster 5 (windows from 32 up to %u pages): %lu MiB/s = "
           "%lu%% of raw read\n", SWAP_RA_MAX, mibs(1, median(in5, ROUNDS)), median(qi5, ROUNDS));
    printk("bench: major fault %lu us (waits for a window of up to %u pages) beside a 4 KiB "
           "device read %lu us and a %u KiB one %lu us; a fault on a page read ahead %lu us "
           "(waiting for its read if it is still in flight)\n", usec(MAJ), SWAP_RA_MAX, usec(R4),
           SWAP_RA_MAX * 4, usec(RMAX * SWAP_RA_MAX), usec(MIN));
    printk("bench: swap-in of %d of the %d pages in random order: %lu pages read (%lu major "
           "faults); major fault %lu us beside a 4 KiB device read %lu us\n", RANDOM_PAGES,
           NPAGES, median(rread, ROUNDS), median(rmajors, ROUNDS), usec(median(rmaj, ROUNDS)),
           usec(R4));
    target("qemu_swapout_vs_raw", median(qo, ROUNDS), 70);
    target("qemu_swapin_vs_raw", median(qi, ROUNDS), 70);
}
