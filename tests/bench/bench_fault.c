/*
 * make bench, host part for page faults: the cost of a copy-on-write
 * break and of a demand-zero fault through the real mm code (mm/vma.c,
 * mm/user_fault.c, mm/pgtable.c, the buddy and slab allocators) over the
 * host arena of tests/host/mm_host.c, beside what the fault must at least
 * do: copy 4 KiB (or clear 4 KiB), over a working set of the same size.
 *
 * Each round measures the reference first, then the faults, with the
 * thread's CPU time (CLOCK_THREAD_CPUTIME_ID: another process's load does
 * not count); the printed ratio is the median of the per-round ratios.
 * The last lines are the targets, in the format of every benchmark of
 * make bench: "target NAME: measured X, goal Y: met" (or NOT MET).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "../host/mm_host.h"
#include <mm/gfp.h>
#include <mm/slab.h>
#include <mm/vma.h>
#include <mm/zone.h>

#define MiB (1ul << 20)
#define PAGES 1024            /* the working set: 4 MiB */
#define ROUNDS 11

static void die(const char *what)
{
    fprintf(stderr, "bench_fault: %s\n", what);
    exit(1);
}

static const struct host_ram ram[] = { { 1 * MiB, 256 * MiB } };
static uint8_t *src_pages, *dst_pages;

/* A space with PAGES pages of private anonymous memory at *base. */
static void new_space(struct mm *mm, uint64_t *base)
{
    if (mm_init_user(mm, MM_VA_END_64, GFP_KERNEL) ||
        mm_mmap(mm, 0, PAGES * 4096ul, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                NULL, 0, base))
        die("no space");
}

/* Write-fault every page of [base, base + PAGES pages); ns per fault. */
static double fault_all(struct mm *mm, uint64_t base)
{
    double t0 = bench_now_ns();
    for (int i = 0; i < PAGES; i++)
        if (mm_fault(mm, base + i * 4096ul, FAULT_WRITE | FAULT_USER))
            die("fault failed");
    return (bench_now_ns() - t0) / PAGES;
}

enum { CLEAR, ZERO_FAULT, COPY, COW_FAULT, CANDIDATES };

/* One candidate's workload, ns per page:
 *  CLEAR       memset of PAGES pages of 4 KiB (what a demand-zero fault must do)
 *  ZERO_FAULT  demand-zero write faults on PAGES pages of a new space
 *  COPY        memcpy of PAGES pages, each to a page of its own (a CoW break's copy)
 *  COW_FAULT   write faults on PAGES pages shared with a parent by fork:
 *              each one a copy-on-write break (the parent's faults and the
 *              fork are not timed) */
static double run(int who, void *arg)
{
    (void)arg;
    static struct mm parent, child;
    uint64_t base;
    double t0, ns = 0;
    switch (who) {
    case CLEAR:
    case COPY:
        t0 = bench_now_ns();
        for (int i = 0; i < PAGES; i++) {
            if (who == CLEAR)
                memset(dst_pages + i * 4096ul, i, 4096);
            else
                memcpy(dst_pages + i * 4096ul, src_pages + i * 4096ul, 4096);
        }
        __asm__ volatile("" : : "r"(dst_pages) : "memory");
        return (bench_now_ns() - t0) / PAGES;
    case ZERO_FAULT:
        new_space(&parent, &base);
        ns = fault_all(&parent, base);
        mm_destroy(&parent);
        return ns;
    default:
        new_space(&parent, &base);
        fault_all(&parent, base);
        if (mm_fork(&child, &parent, false))
            die("fork failed");
        ns = fault_all(&child, base);
        mm_destroy(&child);
        mm_destroy(&parent);
        return ns;
    }
}

int main(void)
{
    mm_host_init(256 * MiB / 4096, ram, 1);
    /* A kernel's RAM is there from the start: make the host back every
     * page of the arena now, not in the middle of a measured fault. */
    volatile uint8_t *arena = mm_host_arena();
    for (uint64_t pa = 1 * MiB; pa < 256 * MiB; pa += 4096)
        arena[pa] = arena[pa];
    for (int z = 0; z < NR_ZONES; z++)
        mm_host_node.zones[z].wmark_min = mm_host_node.zones[z].wmark_low =
            mm_host_node.zones[z].wmark_high = 0;
    kmem_cache_init();
    if (mm_zero_page_init())
        die("no zero page");
    src_pages = aligned_alloc(4096, PAGES * 4096ul);
    dst_pages = aligned_alloc(4096, PAGES * 4096ul);
    if (!src_pages || !dst_pages)
        die("no memory");
    memset(src_pages, 1, PAGES * 4096ul);
    memset(dst_pages, 2, PAGES * 4096ul);

    struct bench_rounds r;
    bench_run_rounds(&r, ROUNDS, CANDIDATES, run, NULL);
    double lo, hi;
    printf("\nPage faults through the mm code (host build -O2, thread CPU time), ns per page,\n"
           "median of %d interleaved rounds of %d pages; ratios: median [lowest-highest] of the\n"
           "per-round ratios\n", r.rounds, PAGES);
    double z = bench_ratio(&r, ZERO_FAULT, CLEAR, &lo, &hi);
    printf("  demand-zero fault %8.1f ns = %.2f x [%.2f-%.2f] clearing 4 KiB (%.1f ns)\n",
           bench_time(&r, ZERO_FAULT), z, lo, hi, bench_time(&r, CLEAR));
    double c = bench_ratio(&r, COW_FAULT, COPY, &lo, &hi);
    printf("  CoW-break fault   %8.1f ns = %.2f x [%.2f-%.2f] copying 4 KiB (%.1f ns)\n",
           bench_time(&r, COW_FAULT), c, lo, hi, bench_time(&r, COPY));
    bench_target("host_cow_fault_vs_copy", c, 1.5, true, "%.2fx");
    return 0;
}
