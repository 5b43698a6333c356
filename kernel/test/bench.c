/*
 * In-QEMU benchmarks (`bench` on the command line; `make bench` boots
 * with it through tests/bench/boot_vm_time.py).
 *
 * TCG makes absolute figures meaningless across machines, and a busy host
 * slows one stretch of a run and not another.  So every figure is printed
 * as a ratio to a reference measured in the same round, right before it
 * (a 4 KiB memset for allocations and demand-zero faults, a 4 KiB copy for
 * copy-on-write), and the printed value is the median over ROUNDS rounds
 * of the per-round ratios, with the median ticks beside it.  Comparisons
 * of two candidates (copy-on-write fork against an eager copy, a 32-bit
 * process against a 64-bit one) alternate the two inside each round.
 *
 * The last lines are the targets, in the format every benchmark of
 * `make bench` shares: "target NAME: measured X, goal Y: met" (or NOT MET).
 * `bench=migrate` runs only the migration figures (bench_migrate),
 * `bench=swap` only the swap I/O figures (bench_swap).
 */
#include <kernel/bench.h>
#include <kernel/cmdline.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include <mm/compaction.h>
#include <mm/gfp.h>
#include <mm/migrate.h>
#include <mm/slab.h>
#include <mm/vmalloc.h>
#include <mm/vma.h>
#include <compat32/mmu32.h>

#define ROUNDS 7

uint64_t bench_median(const uint64_t *v, int n)
{
    uint64_t w[32];
    if (n > 32)
        n = 32;
    for (int i = 0; i < n; i++) {
        int j = i;
        for (; j > 0 && w[j - 1] > v[i]; j--)
            w[j] = w[j - 1];
        w[j] = v[i];
    }
    return w[n / 2];
}

static uint64_t median(const uint64_t *v, int n)
{
    return bench_median(v, n);
}

/* a / b in hundredths (b > 0). */
static uint64_t pct(uint64_t a, uint64_t b)
{
    return b ? a * 100 / b : 0;
}

static uint8_t page[4096] __attribute__((aligned(4096)));
static uint8_t page2[4096] __attribute__((aligned(4096)));

/* Each timed loop returns ticks per repetition. */
static uint64_t bench_memset(int reps)
{
    uint64_t t0 = rdtsc();
    for (int i = 0; i < reps; i++) {
        memset(page, i, sizeof(page));
        __asm__ volatile("" : : "r"(page) : "memory");
    }
    return (rdtsc() - t0) / (uint64_t)reps;
}

static uint64_t bench_copy(int reps)
{
    uint64_t t0 = rdtsc();
    for (int i = 0; i < reps; i++) {
        memcpy(page2, page, sizeof(page));
        __asm__ volatile("" : : "r"(page2) : "memory");
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

/* A figure: median ticks of the candidate and of its reference, and the
 * median of the per-round ratios (hundredths). */
struct figure {
    uint64_t ticks, ref, ratio;
};

/* ROUNDS rounds of: reference, then candidate; after one warm-up round. */
static struct figure paired(uint64_t (*fn)(int), int reps, uint64_t (*ref)(int), int ref_reps)
{
    uint64_t t[ROUNDS], r[ROUNDS], q[ROUNDS];
    ref(ref_reps);
    fn(reps);
    for (int i = 0; i < ROUNDS; i++) {
        r[i] = ref(ref_reps);
        t[i] = fn(reps);
        q[i] = pct(t[i], r[i]);
    }
    return (struct figure){median(t, ROUNDS), median(r, ROUNDS), median(q, ROUNDS)};
}

/* ---- processes: fork and page faults ----------------------------------------------- */

#define FORK_MIB 64
#define FAULT_PAGES 256

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

/* One fork then exit of the child (mm_fork + mm_destroy, the memory
 * part): total ticks, and the fork alone in *fork_part. */
static uint64_t fork_exit(struct mm *parent, bool eager, uint64_t *fork_part)
{
    struct mm *child = kzalloc(sizeof(*child), GFP_KERNEL);
    uint64_t t0 = rdtsc();
    if (!child || mm_fork(child, parent, eager))
        panic("bench: fork failed");
    uint64_t t1 = rdtsc();
    mm_destroy(child);
    uint64_t t = rdtsc() - t0;
    kfree(child);
    *fork_part = t1 - t0;
    return t;
}

/* Ticks per page of FAULT_PAGES demand-zero faults, then of as many
 * copy-on-write breaks in a forked child. */
static void faults(bool is32, uint64_t *zero_fault, uint64_t *cow_fault)
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

/* hundredths as "R.RR" */
static const char *hx(char *buf, size_t size, uint64_t h)
{
    snprintf(buf, size, "%lu.%02lu", h / 100, h % 100);
    return buf;
}

/* The target line; goal_max: the measured ratio must be at most the goal,
 * otherwise at least. */
static void target(const char *name, uint64_t h, uint64_t goal, bool goal_max)
{
    char m[24], g[24];
    bool met = goal_max ? h <= goal : h >= goal;
    printk("bench: target %s: measured %sx, goal %s %sx: %s\n", name, hx(m, sizeof(m), h),
           goal_max ? "<=" : ">=", hx(g, sizeof(g), goal), met ? "met" : "NOT MET");
}

/* Fork: each round forks the 64 MiB parent once with copy-on-write and
 * once eagerly (fork=copy), in alternating order. */
static void bench_fork(bool is32, struct figure *cow, struct figure *eager_fig,
                       uint64_t *cow_fork_part)
{
    uint64_t base, c[ROUNDS], e[ROUNDS], q[ROUNDS], part[ROUNDS], unused;
    struct mm *parent = touched_mm(FORK_MIB, is32, &base);
    fork_exit(parent, false, &unused); /* warm up */
    for (int i = 0; i < ROUNDS; i++) {
        if (i & 1) {
            e[i] = fork_exit(parent, true, &unused);
            c[i] = fork_exit(parent, false, &part[i]);
        } else {
            c[i] = fork_exit(parent, false, &part[i]);
            e[i] = fork_exit(parent, true, &unused);
        }
        q[i] = pct(e[i], c[i]);
    }
    drop_mm(parent);
    *cow = (struct figure){median(c, ROUNDS), 0, 0};
    *eager_fig = (struct figure){median(e, ROUNDS), 0, median(q, ROUNDS)};
    *cow_fork_part = median(part, ROUNDS);
}

/* Faults: each round measures the references (memset, copy), then the
 * 64-bit and the 32-bit faults in alternating order. */
struct fault_figures {
    uint64_t zero64, cow64, zero32, cow32, ms, cp;            /* median ticks */
    uint64_t zero64_ms, cow64_cp, zero32_64, cow32_64;        /* median ratios */
};

static void bench_faults(struct fault_figures *f)
{
    uint64_t z64[ROUNDS], c64[ROUNDS], z32[ROUNDS], c32[ROUNDS], ms[ROUNDS], cp[ROUNDS];
    uint64_t q0[ROUNDS], q1[ROUNDS], q2[ROUNDS], q3[ROUNDS];
    faults(false, &z64[0], &c64[0]); /* warm up */
    faults(true, &z32[0], &c32[0]);
    for (int i = 0; i < ROUNDS; i++) {
        ms[i] = bench_memset(200);
        cp[i] = bench_copy(200);
        if (i & 1) {
            faults(true, &z32[i], &c32[i]);
            faults(false, &z64[i], &c64[i]);
        } else {
            faults(false, &z64[i], &c64[i]);
            faults(true, &z32[i], &c32[i]);
        }
        q0[i] = pct(z64[i], ms[i]);
        q1[i] = pct(c64[i], cp[i]);
        q2[i] = pct(z32[i], z64[i]);
        q3[i] = pct(c32[i], c64[i]);
    }
    *f = (struct fault_figures){
        median(z64, ROUNDS), median(c64, ROUNDS), median(z32, ROUNDS), median(c32, ROUNDS),
        median(ms, ROUNDS), median(cp, ROUNDS),
        median(q0, ROUNDS), median(q1, ROUNDS), median(q2, ROUNDS), median(q3, ROUNDS),
    };
}

/* ---- migration ------------------------------------------------------------------ */

#define MIGRATE_PAGES 256

/* The frames of the n pages mapped from base in mm, into pages[]. */
static void frames_of(struct mm *mm, uint64_t base, int n, struct page **pages)
{
    for (int i = 0; i < n; i++) {
        struct pt_view v;
        if (pt_walk(&mm->pt, base + (uint64_t)i * 4096, &v))
            panic("bench: page %d not mapped", i);
        pages[i] = pfn_to_page(v.pa >> PAGE_SHIFT);
    }
}

/*
 * Ticks per page to move each of the n pages mapped from base in mm once:
 * one batch (migrate_pages), or each page on its own (migrate_page), with
 * the usual target allocator.  The pages are found first, untimed: the
 * figure is the migration alone, what a compaction scanner that has the
 * frames in hand pays.
 */
static uint64_t migrate_each(struct mm *mm, uint64_t base, int n, bool batch)
{
    static struct page *pages[MIGRATE_PAGES];
    frames_of(mm, base, n, pages);
    uint64_t t0 = rdtsc();
    if (batch) {
        if (migrate_pages(pages, (unsigned)n, migrate_alloc_any, NULL, NULL, NULL) != (unsigned)n)
            panic("bench: migrate_pages moved fewer than %d pages", n);
    } else {
        for (int i = 0; i < n; i++) {
            enum migrate_result why;
            if (migrate_page(pages[i], migrate_alloc_any, NULL, NULL, &why))
                panic("bench: migrate_page: %s", migrate_result_str(why));
        }
    }
    return (rdtsc() - t0) / (uint64_t)n;
}

/*
 * The copy a migration makes, alone: ticks per page to copy each of the
 * same n pages into a fresh frame (the frames taken before and given back
 * after, untimed).  Unlike bench_copy's two pages copied again and again,
 * the source and the target are pages the copy has not just touched, as
 * in a migration.
 */
static uint64_t copy_each(struct mm *mm, uint64_t base, int n)
{
    static struct page *pages[MIGRATE_PAGES], *to[MIGRATE_PAGES];
    frames_of(mm, base, n, pages);
    for (int i = 0; i < n; i++)
        if (!(to[i] = migrate_alloc_any(0, NULL)))
            panic("bench: no frame to copy to");
    uint64_t t0 = rdtsc();
    for (int i = 0; i < n; i++) {
        memcpy(page_address(to[i]), page_address(pages[i]), PAGE_SIZE);
        __asm__ volatile("" : : "r"(to[i]) : "memory");
    }
    uint64_t t = rdtsc() - t0;
    for (int i = 0; i < n; i++)
        __free_pages(to[i], 0);
    return t / (uint64_t)n;
}

/* Fill the DMA zone with user pages: a new address space whose data
 * pages come from ZONE_DMA (mm_user_zone), touched until the zone is
 * down to its reserve (below it, a DMA allocation would start evacuating
 * the zone itself).  Returns the mm; *pages the pages touched. */
static struct mm *fill_dma(uint64_t *pages)
{
    struct zone *z = zone_of_type(ZONE_DMA);
    uint64_t base;
    struct mm *mm = new_mm(false);
    if (mm_mmap(mm, 0, ZONE_DMA_END, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL,
                0, &base))
        panic("bench: no room for 16 MiB");
    drain_pcp();
    uint64_t want = z->free > z->wmark_high + 16 ? z->free - z->wmark_high - 16 : 0;
    mm_user_zone = __GFP_DMA;
    uint64_t i = 0;
    for (; i < want; i++)
        if (mm_fault(mm, base + i * 4096, FAULT_WRITE | FAULT_USER))
            break;
    mm_user_zone = 0;
    *pages = i;
    return mm;
}

struct migrate_figures {
    /* per page: a batch of a 64-bit process's pages, the same pages one
     * by one, a batch shared with a child, a batch of a 32-bit process;
     * the copies; the ratios to the copy of the same pages */
    uint64_t one, single, shared, one32, cold, cp;
    uint64_t ratio, hot_ratio, single_ratio, shared_ratio, one32_ratio;
    uint64_t evac, evac_cp, evac_ratio, moved, frames, obtained;         /* per page moved */
};

/*
 * Each round: the 4 KiB copy of bench_copy, the copy of each of 256 pages
 * of a 64-bit process into a fresh frame, then one batch moving each of
 * them (migrate_pages), of a 64-bit process whose pages a forked child
 * shares (two ptes per page), and of a 32-bit process, in rotating
 * order, and the 64-bit process's pages moved again one by one
 * (migrate_page); then, with the copy again, the DMA zone filled with
 * user pages and evacuated (evacuate_zone: the pages move out, the free
 * zone is allocated whole and given back), timed per page moved.
 */
static void bench_migrate_rounds(struct migrate_figures *f)
{
    uint64_t b64, bsh, b32, one[ROUNDS], single[ROUNDS], sh[ROUNDS], o32[ROUNDS];
    uint64_t cold[ROUNDS], cp[ROUNDS], q[ROUNDS], qh[ROUNDS], q1[ROUNDS], qs[ROUNDS];
    uint64_t q32[ROUNDS], ev[ROUNDS], ecp[ROUNDS], qe[ROUNDS];
    struct mm *m64 = touched_mm(1, false, &b64), *msh = touched_mm(1, false, &bsh);
    struct mm *m32 = touched_mm(1, true, &b32);
    struct mm *child = kzalloc(sizeof(*child), GFP_KERNEL);
    if (!child || mm_fork(child, msh, false))
        panic("bench: fork failed");
    migrate_each(m64, b64, MIGRATE_PAGES, true);   /* warm up */
    migrate_each(msh, bsh, MIGRATE_PAGES, true);
    migrate_each(m32, b32, MIGRATE_PAGES, true);
    copy_each(m64, b64, MIGRATE_PAGES);
    struct evacuate_result r = { 0 };
    for (int i = 0; i < ROUNDS; i++) {
        cp[i] = bench_copy(200);
        cold[i] = copy_each(m64, b64, MIGRATE_PAGES);
        for (int k = 0; k < 3; k++) {
            switch ((i + k) % 3) {
            case 0: one[i] = migrate_each(m64, b64, MIGRATE_PAGES, true); break;
            case 1: sh[i] = migrate_each(msh, bsh, MIGRATE_PAGES, true); break;
            default: o32[i] = migrate_each(m32, b32, MIGRATE_PAGES, true); break;
            }
        }
        single[i] = migrate_each(m64, b64, MIGRATE_PAGES, false);
        q[i] = pct(one[i], cold[i]);
        qh[i] = pct(one[i], cp[i]);
        q1[i] = pct(single[i], cold[i]);
        qs[i] = pct(sh[i], cold[i]);
        q32[i] = pct(o32[i], cold[i]);
        uint64_t filled;
        struct mm *dma = fill_dma(&filled);
        ecp[i] = bench_copy(200);
        uint64_t t0 = rdtsc();
        if (evacuate_zone(ZONE_DMA, &r))
            panic("bench: evacuate_zone failed");
        uint64_t t = rdtsc() - t0;
        if (r.moved < filled)
            panic("bench: %lu pages filled the DMA zone, %lu moved", filled, r.moved);
        ev[i] = t / (r.moved ? r.moved : 1);
        qe[i] = pct(ev[i], ecp[i]);
        drop_mm(dma);
    }
    drop_mm(child);
    drop_mm(msh);
    drop_mm(m64);
    drop_mm(m32);
    *f = (struct migrate_figures){
        median(one, ROUNDS), median(single, ROUNDS), median(sh, ROUNDS), median(o32, ROUNDS),
        median(cold, ROUNDS), median(cp, ROUNDS),
        median(q, ROUNDS), median(qh, ROUNDS), median(q1, ROUNDS), median(qs, ROUNDS),
        median(q32, ROUNDS),
        median(ev, ROUNDS), median(ecp, ROUNDS), median(qe, ROUNDS), r.moved, r.frames,
        r.obtained,
    };
}

static void bench_migrate(void)
{
    char a[24], b[24], c[24];
    struct migrate_figures f;
    bench_migrate_rounds(&f);
    printk("bench: copy of a process's page into a fresh frame (a migration's copy): %lu ticks; "
           "copy 4 KiB between two hot pages: %lu ticks\n", f.cold, f.cp);
    printk("bench: migrate_pages, a batch of a user address space's pages: %lu ticks per page = "
           "%s x that copy (%s x the hot copy)\n", f.one, hx(a, sizeof(a), f.ratio),
           hx(b, sizeof(b), f.hot_ratio));
    printk("bench: migrate_page, the same pages one by one: %lu ticks = %s x the copy\n",
           f.single, hx(a, sizeof(a), f.single_ratio));
    printk("bench: migrate_pages, pages shared with a forked child (2 ptes): %lu ticks = %s x "
           "the copy; of a 32-bit process: %lu ticks = %s x the copy\n", f.shared,
           hx(b, sizeof(b), f.shared_ratio), f.one32, hx(c, sizeof(c), f.one32_ratio));
    printk("bench: evacuate_zone DMA, full of user pages: %lu ticks per page moved = %s x copy "
           "4 KiB (%lu ticks); last round: %lu frames, %lu moved, %lu obtained\n", f.evac,
           hx(a, sizeof(a), f.evac_ratio), f.evac_cp, f.frames, f.moved, f.obtained);
    target("qemu_migrate_page_vs_copy", f.ratio, 200, true);
}

void bench_run(void)
{
    char a[24], b[24];
    printk("bench: %d rounds; every ratio is the median of the per-round ratios\n", ROUNDS);
    const char *which = option("bench");
    if (which && strcmp(which, "migrate") == 0) {
        bench_migrate();
        printk("bench: done\n");
        return;
    }
    if (which && strcmp(which, "swap") == 0) {
        bench_swap();
        printk("bench: done\n");
        return;
    }
    if (which && strcmp(which, "smp") == 0) {
        bench_smp();
        printk("bench: done\n");
        return;
    }
    struct figure km = paired(bench_kmalloc, 20000, bench_memset, 2000);
    printk("bench: kmalloc(64)+kfree: %lu ticks = %s x memset 4 KiB (%lu ticks)\n", km.ticks,
           hx(a, sizeof(a), km.ratio), km.ref);
    struct figure vm = paired(bench_vmalloc, 20, bench_memset, 2000);
    printk("bench: vmalloc(1 MiB)+vfree: %lu ticks = %s x memset 4 KiB (%lu ticks per page)\n",
           vm.ticks, hx(a, sizeof(a), vm.ratio), vm.ticks / 256);

    struct figure cow, eager, cow32, eager32;
    uint64_t cow_part, cow32_part;
    bench_fork(false, &cow, &eager, &cow_part);
    bench_fork(true, &cow32, &eager32, &cow32_part);
    printk("bench: fork+exit, %d MiB touched: copy-on-write %lu ticks (fork itself %lu), "
           "eager copy (fork=copy) %lu ticks: CoW %s x faster\n", FORK_MIB, cow.ticks,
           cow_part, eager.ticks, hx(a, sizeof(a), eager.ratio));
    printk("bench: compat32: fork+exit, %d MiB touched: copy-on-write %lu ticks (fork itself "
           "%lu), eager %lu ticks: CoW %s x faster\n", FORK_MIB, cow32.ticks, cow32_part,
           eager32.ticks, hx(a, sizeof(a), eager32.ratio));

    struct fault_figures f;
    bench_faults(&f);
    printk("bench: demand-zero fault: %lu ticks = %s x memset 4 KiB (%lu ticks)\n", f.zero64,
           hx(a, sizeof(a), f.zero64_ms), f.ms);
    printk("bench: CoW-break fault: %lu ticks = %s x copy 4 KiB (%lu ticks)\n", f.cow64,
           hx(a, sizeof(a), f.cow64_cp), f.cp);
    printk("bench: compat32: demand-zero fault %lu ticks (%s x 64-bit), CoW-break fault %lu "
           "ticks (%s x 64-bit)\n", f.zero32, hx(a, sizeof(a), f.zero32_64), f.cow32,
           hx(b, sizeof(b), f.cow32_64));

    target("qemu_cow_fork_exit_vs_eager", eager.ratio, 5000, false);
    target("qemu_cow_fault_vs_copy", f.cow64_cp, 400, true);
    target("qemu_compat32_zero_fault_vs_64", f.zero32_64, 120, true);
    target("qemu_compat32_cow_fault_vs_64", f.cow32_64, 120, true);
    bench_migrate();
    bench_fbcon();
    bench_swap();
    printk("bench: done\n");
}
