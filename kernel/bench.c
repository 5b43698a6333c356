/*
 * In-QEMU benchmarks (`bench` on the command line; `make bench` boots
 * with it through tests/bench/boot_vm_time.py).
 *
 * TCG makes absolute figures meaningless across machines, so each
 * figure is printed beside a reference measured in the same run: the
 * cost of a 4 KiB memset, which is what any allocator must at least
 * beat to be worth having instead of clearing a fresh page.  Each figure
 * is the median of several rounds of many repetitions, in TSC ticks.
 */
#include <kernel/bench.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include <mm/gfp.h>
#include <mm/slab.h>
#include <mm/vmalloc.h>

#define ROUNDS 7

static uint64_t median(uint64_t *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

static uint8_t page[4096] __attribute__((aligned(4096)));

static uint64_t bench_memset(int reps)
{
    uint64_t t0 = rdtsc();
    for (int i = 0; i < reps; i++) {
        memset(page, i, sizeof(page));
        __asm__ volatile("" : : "r"(page) : "memory");
    }
    return (rdtsc() - t0) / (uint64_t)reps;
}

static uint64_t bench_kmalloc(int reps)
{
    uint64_t t0 = rdtsc();
    for (int i = 0; i < reps; i++) {
        void *p = kmalloc(64, GFP_KERNEL);
        __asm__ volatile("" : : "r"(p) : "memory");
        kfree(p);
    }
    return (rdtsc() - t0) / (uint64_t)reps;
}

static uint64_t bench_vmalloc(int reps)
{
    uint64_t t0 = rdtsc();
    for (int i = 0; i < reps; i++) {
        void *p = vmalloc(1 << 20);
        if (!p)
            panic("bench: vmalloc(1 MiB) failed");
        vfree(p);
    }
    return (rdtsc() - t0) / (uint64_t)reps;
}

static uint64_t run(uint64_t (*fn)(int), int reps)
{
    uint64_t v[ROUNDS];
    fn(reps); /* warm up: caches, slabs, page tables */
    for (int i = 0; i < ROUNDS; i++)
        v[i] = fn(reps);
    return median(v, ROUNDS);
}

void bench_run(void)
{
    uint64_t ms = run(bench_memset, 2000);
    uint64_t km = run(bench_kmalloc, 20000);
    uint64_t vm = run(bench_vmalloc, 20);
    printk("bench: memset 4 KiB: %llu ticks (reference)\n", (unsigned long long)ms);
    printk("bench: kmalloc(64)+kfree: %llu ticks = %llu.%02llu x memset 4 KiB\n",
           (unsigned long long)km, (unsigned long long)(km / ms),
           (unsigned long long)(km * 100 / ms % 100));
    printk("bench: vmalloc(1 MiB)+vfree: %llu ticks = %llu.%02llu x memset 4 KiB "
           "(256 pages: %llu ticks per page)\n", (unsigned long long)vm,
           (unsigned long long)(vm / ms), (unsigned long long)(vm * 100 / ms % 100),
           (unsigned long long)(vm / 256));
    printk("bench: done\n");
}
