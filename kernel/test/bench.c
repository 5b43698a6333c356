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
#include <mm/vma.h>
#include <compat32/mmu32.h>

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

/* ---- processes: fork and page faults ----------------------------------------------- */

#define FORK_MIB 64
#define FAULT_PAGES 256

static uint8_t page2[4096] __attribute__((aligned(4096)));

static uint64_t bench_copy(int reps)
{
    uint64_t t0 = rdtsc();
    for (int i = 0; i < reps; i++) {
        memcpy(page2, page, sizeof(page));
        __asm__ volatile("" : : "r"(page2) : "memory");
    }
    return (rdtsc() - t0) / (uint64_t)reps;
}

/* A new, empty address space: 64-bit, or 32-bit on compat32's i386
 * tables (mm_init_user32: frames and tables from DMA32). */
static struct mm *new_mm(bool is32)
{
    struct mm *mm = kzalloc(sizeof(*mm), GFP_KERNEL);
    if (!mm || (is32 ? mm_init_user32(mm) : mm_init_user(mm, MM_VA_END_64, GFP_KERNEL)))
        panic("bench: no memory for an address space");
    return mm;
}

/* An address space with `mib` MiB of anonymous memory, every page touched. */
static struct mm *touched_mm(uint64_t mib, bool is32, uint64_t *base)
{
    struct mm *mm = new_mm(is32);
    if (mm_mmap(mm, 0, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0,
                base) ||
        mm_prepare_write(mm, *base, mib << 20))
        panic("bench: cannot touch %lu MiB", mib);
    return mm;
}

static void drop_mm(struct mm *mm)
{
    mm_destroy(mm);
    kfree(mm);
}

/* fork then exit of the child: mm_fork + mm_destroy, the memory part. */
static uint64_t bench_fork(struct mm *parent, bool eager, uint64_t *fork_part)
{
    uint64_t best = ~0ul;
    for (int i = 0; i < 3; i++) {
        struct mm *child = kzalloc(sizeof(*child), GFP_KERNEL);
        uint64_t t0 = rdtsc();
        if (!child || mm_fork(child, parent, eager))
            panic("bench: fork failed");
        uint64_t t1 = rdtsc();
        mm_destroy(child);
        uint64_t t = rdtsc() - t0;
        kfree(child);
        if (t < best) {
            best = t;
            *fork_part = t1 - t0;
        }
    }
    return best;
}

static void bench_faults(bool is32, uint64_t *zero_fault, uint64_t *cow_fault)
{
    uint64_t base;
    struct mm *mm = new_mm(is32);
    if (mm_mmap(mm, 0, FAULT_PAGES * 4096, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, &base))
        panic("bench: no memory for the fault benchmark");
    uint64_t t0 = rdtsc();
    for (int i = 0; i < FAULT_PAGES; i++)
        if (mm_fault(mm, base + (uint64_t)i * 4096, FAULT_WRITE | FAULT_USER))
            panic("bench: demand-zero fault failed");
    *zero_fault = (rdtsc() - t0) / FAULT_PAGES;
    struct mm *child = kzalloc(sizeof(*child), GFP_KERNEL);
    if (!child || mm_fork(child, mm, false))
        panic("bench: fork failed");
    t0 = rdtsc();
    for (int i = 0; i < FAULT_PAGES; i++)
        if (mm_fault(child, base + (uint64_t)i * 4096, FAULT_WRITE | FAULT_USER))
            panic("bench: CoW fault failed");
    *cow_fault = (rdtsc() - t0) / FAULT_PAGES;
    drop_mm(child);
    drop_mm(mm);
}

/* "a / b" as "R.RR" */
static void ratio(char *buf, size_t size, uint64_t a, uint64_t b)
{
    snprintf(buf, size, "%lu.%02lu", (a / b),
             (a * 100 / b % 100));
}

/* The figures of one kind of process (64-bit, or 32-bit on compat32). */
struct proc_figures {
    uint64_t cow, cow_fork, eager, eager_fork, zero_fault, cow_fault;
};

static void measure(bool is32, struct proc_figures *f)
{
    uint64_t base;
    struct mm *parent = touched_mm(FORK_MIB, is32, &base);
    f->cow = bench_fork(parent, false, &f->cow_fork);
    f->eager = bench_fork(parent, true, &f->eager_fork);
    drop_mm(parent);
    bench_faults(is32, &f->zero_fault, &f->cow_fault);
}

static void bench_processes(uint64_t ms)
{
    uint64_t cp = run(bench_copy, 2000);
    struct proc_figures f64, f32;
    measure(false, &f64);
    measure(true, &f32);
    char r[24], r32[24], x[24];
    printk("bench: copy 4 KiB: %lu ticks (reference)\n", cp);
    ratio(r, sizeof(r), f64.eager, f64.cow);
    printk("bench: fork+exit, %d MiB touched: copy-on-write %lu ticks, eager copy (fork=copy) "
           "%lu ticks: CoW %s x faster\n", FORK_MIB, f64.cow,
           f64.eager, r);
    printk("bench: of which fork itself: copy-on-write %lu ticks, eager %lu ticks (the rest "
           "is the child's exit)\n", f64.cow_fork,
           f64.eager_fork);
    ratio(r, sizeof(r), f64.zero_fault, ms);
    printk("bench: demand-zero fault: %lu ticks = %s x memset 4 KiB\n",
           f64.zero_fault, r);
    ratio(r, sizeof(r), f64.cow_fault, cp);
    printk("bench: CoW-break fault: %lu ticks = %s x copy 4 KiB\n",
           f64.cow_fault, r);
    /* The same for a 32-bit process: its i386 tables are the map, the
     * 4-level ones are derived (compat32/mmu32.c); the ratio is the cost
     * of that extra layer. */
    ratio(r32, sizeof(r32), f32.eager, f32.cow);
    ratio(x, sizeof(x), f32.cow, f64.cow);
    printk("bench: compat32: fork+exit, %d MiB touched: copy-on-write %lu ticks (%s x the "
           "64-bit figure), eager %lu ticks: CoW %s x faster\n", FORK_MIB,
           f32.cow, x, f32.eager, r32);
    ratio(x, sizeof(x), f32.zero_fault, f64.zero_fault);
    ratio(r, sizeof(r), f32.cow_fault, f64.cow_fault);
    printk("bench: compat32: demand-zero fault %lu ticks (%s x 64-bit), CoW-break fault %lu "
           "ticks (%s x 64-bit)\n", f32.zero_fault, x,
           f32.cow_fault, r);
}

void bench_run(void)
{
    uint64_t ms = run(bench_memset, 2000);
    uint64_t km = run(bench_kmalloc, 20000);
    uint64_t vm = run(bench_vmalloc, 20);
    printk("bench: memset 4 KiB: %lu ticks (reference)\n", ms);
    printk("bench: kmalloc(64)+kfree: %lu ticks = %lu.%02lu x memset 4 KiB\n",
           km, (km / ms),
           (km * 100 / ms % 100));
    printk("bench: vmalloc(1 MiB)+vfree: %lu ticks = %lu.%02lu x memset 4 KiB "
           "(256 pages: %lu ticks per page)\n", vm,
           (vm / ms), (vm * 100 / ms % 100),
           (vm / 256));
    bench_processes(ms);
    printk("bench: done\n");
}
