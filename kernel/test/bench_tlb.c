/*
 * What a TLB shootdown costs (kernel/cpu/tlb_shootdown.c; docs/smp.md,
 * docs/benchmarks.md): `bench=tlb`, booted with several CPUs.
 *
 * A shootdown is an IPI to each CPU that may hold the translation, an
 * interrupt there (entry, invlpg or a CR3 reload, EOI, return) and the
 * sender's wait for every acknowledgement; a local flush is one
 * instruction.  Each round times, back to back, ITER local invlpg of one
 * page (the reference), then shootdowns of one page to the first 1, 2 ..
 * n - 1 other CPUs, then of 32 pages (32 invlpg on each CPU reached,
 * under the ceiling) and of 34 (a full flush there): all to every other
 * CPU.  The figures are medians over ROUNDS rounds, in TSC ticks per
 * operation; the cost per CPU reached is the slope from one CPU to all.
 */
#include <kernel/apic.h>
#include <kernel/bench.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/x86.h>
#include <mm/page.h>
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

void bench_tlb(void)
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
}
