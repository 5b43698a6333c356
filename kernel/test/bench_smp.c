/*
 * Several CPUs (docs/smp.md, docs/benchmarks.md, section 10): `bench=smp`,
 * booted with several CPUs.  Two figures: what a TLB shootdown costs
 * (kernel/cpu/tlb_shootdown.c), and how the page allocator's order-0 pair
 * scales when the other CPUs allocate at once (mm/page_alloc.c).
 *
 * The shootdown:
 * A shootdown is an IPI to each CPU that may hold the translation, an
 * interrupt there (entry, invlpg or a CR3 reload, EOI, return) and the
 * sender's wait for every acknowledgement; a local flush is one
 * instruction.  Each round times, back to back, ITER local invlpg of one
 * page (the reference), then shootdowns of one page to the first 1, 2 ..
 * n - 1 other CPUs, then of 32 pages (32 invlpg on each CPU reached,
 * under the ceiling) and of 34 (a full flush there): all to every other
 * CPU.  The figures are medians over ROUNDS rounds, in TSC ticks per
 * operation; the cost per CPU reached is the slope from one CPU to all.
 *
 * The allocators: PAIRS alloc_page + __free_pages pairs, then kmalloc(64)
 * + kfree pairs, timed on the boot CPU alone, on CPU 1 alone, then on
 * every other CPU at once (started by smp_call_start, each timing its own
 * run); each CPU's pairs go through its own per-CPU cache (array), the
 * refills and drains through the zone's (cache's) lock.  Ticks per pair, medians over ROUNDS rounds; the throughput of
 * the CPUs together against CPU 1 alone.
 */
#include <kernel/apic.h>
#include <kernel/bench.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/x86.h>
#include <mm/gfp.h>
#include <mm/page.h>
#include <mm/slab.h>
#include <mm/tlb.h>
#include <mm/vmalloc.h>

#define ROUNDS 9
#define ITER 200
#define MAX_REACH 8

/* The first k online CPUs other than the boot CPU, as a mask. */
static uint64_t first_others(unsigned k)
{
    uint64_t mask = 0;
    for (unsigned i = 1; i < nr_cpus_possible && i < 64 && k; i++)
        if (cpu_info[i].online) {
            mask |= 1ul << i;
            k--;
        }
    return mask;
}

static uint64_t time_flushes(uint64_t mask, uint64_t va, uint64_t len)
{
    uint64_t t0 = rdtsc();
    for (int i = 0; i < ITER; i++)
        smp_tlb_flush_mask(mask, va, len);
    return (rdtsc() - t0) / ITER;
}

#define PAIRS 20000

struct pairs {
    bool slab;          /* kmalloc(64) + kfree, else alloc_page + __free_pages */
    uint64_t ticks;
    volatile bool done;
};

static void run_pairs(void *arg)
{
    struct pairs *r = arg;
    uint64_t t0 = rdtsc();
    for (int i = 0; i < PAIRS; i++) {
        if (r->slab) {
            kfree(kmalloc(64, GFP_KERNEL | __GFP_NOWARN));
            continue;
        }
        struct page *p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0);
        if (p)
            __free_pages(p, 0);
    }
    r->ticks = (rdtsc() - t0) / PAIRS;
    __atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
}

/* Start run_pairs on the CPUs of mask, wait for all: false when one did
 * not start or end within ten seconds. */
static bool pairs_on(uint64_t mask, struct pairs *r, bool slab)
{
    for (unsigned i = 1; i < nr_cpus_possible && i < 64; i++)
        if (mask >> i & 1) {
            r[i] = (struct pairs){ slab, 0, false };
            if (smp_call_start(i, run_pairs, &r[i]))
                return false;
        }
    uint64_t limit = rdtsc() + 10 * tsc_hz();
    for (unsigned i = 1; i < nr_cpus_possible && i < 64; i++)
        while ((mask >> i & 1) && !__atomic_load_n(&r[i].done, __ATOMIC_ACQUIRE)) {
            if (rdtsc() > limit)
                return false;
            cpu_relax();
        }
    return true;
}

/* The order-0 pair (or the kmalloc(64) pair) on one CPU and on all the
 * others at once. */
static void bench_alloc_scaling(unsigned others, bool slab)
{
    static struct pairs r[MAX_REACH + 1];
    static uint64_t boot[ROUNDS], one[ROUNDS], each[ROUNDS], worst[ROUNDS];
    uint64_t all = first_others(others);
    for (int k = 0; k < ROUNDS; k++) {
        struct pairs b = { slab, 0, false };
        run_pairs(&b);
        boot[k] = b.ticks;
        bool ok = pairs_on(first_others(1), r, slab);
        one[k] = r[1].ticks;                /* the first other CPU, alone */
        if (!ok || !pairs_on(all, r, slab)) {   /* then every other CPU at once */
            printk("bench: order-0 pairs: a CPU did not answer\n");
            return;
        }
        uint64_t t[MAX_REACH], hi = 0;
        unsigned n = 0;
        for (unsigned i = 1; i <= MAX_REACH && i < nr_cpus_possible; i++)
            if (all >> i & 1) {
                t[n++] = r[i].ticks;
                hi = r[i].ticks > hi ? r[i].ticks : hi;
            }
        each[k] = bench_median(t, (int)n);
        worst[k] = hi;
        slab_shrink_all();
        drain_pcp();
    }
    const char *what = slab ? "kmalloc(64)+kfree" : "order-0 alloc_page+__free_pages";
    uint64_t B = bench_median(boot, ROUNDS), O = bench_median(one, ROUNDS);
    uint64_t E = bench_median(each, ROUNDS), W = bench_median(worst, ROUNDS);
    printk("bench: %s pair: boot CPU alone %lu ticks, CPU 1 alone %lu ticks; %u CPUs at once: "
           "%lu ticks each (median CPU), %lu (slowest)\n", what, B, O, others, E, W);
    printk("bench: %s, each of %u CPUs at once: %lu.%02lu x a pair alone (1.00 would be no "
           "contention at all); their throughput together: %lu.%02lu x one CPU's (%u would be "
           "perfect, if the host gives every virtual CPU a core)\n", what, others,
           O ? E / O : 0, O ? E * 100 / O % 100 : 0, W ? others * O / W : 0,
           W ? others * O * 100 / W % 100 : 0, others);
}

void bench_smp(void)
{
    unsigned others = nr_cpus_online - 1;
    if (others == 0) {
        printk("bench: TLB shootdown: skipped (one CPU online: boot with several, "
               "make run SMP=4)\n");
        return;
    }
    if (others > MAX_REACH)
        others = MAX_REACH;
    /* A kernel address the CPUs may hold: 34 pages of vmalloc space. */
    void *area = vmalloc(34 * PAGE_SIZE);
    if (!area) {
        printk("bench: TLB shootdown: no memory\n");
        return;
    }
    uint64_t va = (uint64_t)area;
    static uint64_t local[ROUNDS], reach[MAX_REACH + 1][ROUNDS], r32[ROUNDS], r34[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t t0 = rdtsc();
        for (int i = 0; i < ITER; i++)
            invlpg(va);
        local[r] = (rdtsc() - t0) / ITER;
        for (unsigned k = 1; k <= others; k++)
            reach[k][r] = time_flushes(first_others(k), va, PAGE_SIZE);
        r32[r] = time_flushes(first_others(others), va, 32 * PAGE_SIZE);
        r34[r] = time_flushes(first_others(others), va, 34 * PAGE_SIZE);
    }
    vfree(area);
    uint64_t L = bench_median(local, ROUNDS), one = bench_median(reach[1], ROUNDS);
    uint64_t all = bench_median(reach[others], ROUNDS);
    uint64_t per = others > 1 && all > one ? (all - one) / (others - 1) : one;
    printk("bench: TLB shootdown (%u other CPU%s online; TSC %lu MHz), ticks per operation, "
           "%d rounds:\n", others, others == 1 ? "" : "s", tsc_hz() / 1000000, ROUNDS);
    printk("bench: local invlpg of one page: %lu ticks\n", L);
    for (unsigned k = 1; k <= others; k++) {
        uint64_t m = bench_median(reach[k], ROUNDS);
        printk("bench: shootdown of one page to %u CPU%s: %lu ticks (%lu x a local invlpg)\n", k,
               k == 1 ? "" : "s", m, L ? m / L : 0);
    }
    printk("bench: each CPU reached beyond the first adds %lu ticks (%lu x a local invlpg)\n",
           per, L ? per / L : 0);
    printk("bench: shootdown to %u CPU%s of 32 pages (32 invlpg each): %lu ticks; of 34 pages "
           "(a full flush each, above the ceiling of %d): %lu ticks\n", others,
           others == 1 ? "" : "s", bench_median(r32, ROUNDS), TLB_FLUSH_CEILING,
           bench_median(r34, ROUNDS));
    bench_alloc_scaling(others, false);
    bench_alloc_scaling(others, true);
}
