/*
 * In-kernel tests of the CPUs' start (kernel/cpu/smpboot.c; docs/smp.md):
 * every CPU the MADT lists answered (or, for the ghost that smp.ghost=ID
 * adds on purpose, was given up), each with its own APIC id and stack;
 * each with its own per-CPU data through GS; and of the lock-order
 * checker (kernel/lib/spinlock.c).
 */
#include <kernel/apic.h>
#include <kernel/errno.h>
#include <kernel/kernel_lock.h>
#include <kernel/ktest.h>
#include <kernel/percpu.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/spinlock.h>
#include <kernel/task.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include <mm/gfp.h>
#include <mm/zone.h>
#include <mm/kernel_pt.h>
#include <mm/pgtable.h>
#include <mm/tlb.h>
#include <mm/slab.h>
#include <mm/vma.h>
#include <mm/vmalloc.h>
#include <mm/vm_event.h>

/* The first CPU other than the boot CPU that is online; 0 (and a line
 * saying the test `name` is skipped) when there is none. */
static unsigned first_ap(const char *name)
{
    for (unsigned i = 1; i < nr_cpus_possible; i++)
        if (cpu_info[i].online)
            return i;
    printk("%s: skipped (one CPU online)\n", name);
    return 0;
}

KTEST(smp_cpus_started)
{
    unsigned online = 0;
    KT_ASSERT(nr_cpus_possible >= 1 && nr_cpus_possible <= NR_CPUS, "%u CPUs",
              nr_cpus_possible);
    KT_ASSERT(cpu_info[0].online && cpu_info[0].cpu == 0, "the boot CPU is not CPU 0");
    for (unsigned i = 0; i < nr_cpus_possible; i++) {
        const struct cpu_info *c = &cpu_info[i];
        online += c->online;
        KT_ASSERT(c->cpu == i, "cpu_info[%u] says CPU %u", i, c->cpu);
        for (unsigned j = 0; j < i; j++)
            KT_ASSERT(cpu_info[j].apic_id != c->apic_id, "CPUs %u and %u share APIC id %#x",
                      j, i, c->apic_id);
        if (i && c->online) {
            KT_ASSERT(c->started_tsc && c->started_tsc <= rdtsc(), "CPU %u never started", i);
            KT_ASSERT(c->stack_top, "CPU %u has no stack", i);
        }
        for (unsigned j = 0; i && c->online && j < i; j++)
            KT_ASSERT(cpu_info[j].stack_top != c->stack_top || !j, "CPUs %u and %u share a "
                      "stack", j, i);
    }
    KT_ASSERT(online == nr_cpus_online, "%u online, nr_cpus_online %u", online, nr_cpus_online);
}

/* ---- locks and the lock-order checker (kernel/lib/spinlock.c) ---------------------- */


/* A deliberately inverted pair: A then B, later B then A.  The checker
 * must say so (once), and a lock taken twice, a release of a lock not
 * held and a sleep with a lock held are reported too. */
KTEST(lockdep_finds_inversion)
{
    static DEFINE_SPINLOCK(test_lock_a);
    static DEFINE_SPINLOCK(test_lock_b);
    bool was = lockdep_enabled();
    lockdep_enable(true);
    lockdep_reset();
    uint64_t r0 = lockdep_reports();
    spin_lock(&test_lock_a);
    spin_lock(&test_lock_b);
    spin_unlock(&test_lock_b);
    spin_unlock(&test_lock_a);
    bool quiet = lockdep_reports() == r0;          /* one order: nothing to say */
    uint64_t f = spin_lock_irqsave(&test_lock_b);
    spin_lock(&test_lock_a);                        /* the inversion */
    uint64_t r1 = lockdep_reports();
    char msg[200];
    snprintf(msg, sizeof(msg), "%s", lockdep_last_report());
    spin_unlock(&test_lock_a);
    spin_unlock_irqrestore(&test_lock_b, f);
    spin_lock(&test_lock_b);                        /* again: reported once only */
    spin_lock(&test_lock_a);
    spin_unlock(&test_lock_a);
    spin_unlock(&test_lock_b);
    uint64_t r2 = lockdep_reports();
    spin_lock(&test_lock_a);
    lockdep_might_sleep("schedule");                /* a sleep with a lock held */
    uint64_t r3 = lockdep_reports();
    spin_unlock(&test_lock_a);
    spin_unlock(&test_lock_a);                      /* not held any more */
    uint64_t r4 = lockdep_reports();
    lockdep_enable(was);
    KT_ASSERT(quiet, "one order was reported: %s", lockdep_last_report());
    KT_ASSERT(r1 == r0 + 1 && strstr(msg, "order inversion") &&
                  strstr(msg, "test_lock_a taken while holding test_lock_b"),
              "inversion: %lu reports, \"%s\"", r1 - r0, msg);
    KT_ASSERT(r2 == r1, "the same inversion reported %lu more times", r2 - r1);
    KT_ASSERT(r3 == r2 + 1, "sleep with a lock held: %lu reports", r3 - r2);
    KT_ASSERT(r4 == r3 + 1 && strstr(lockdep_last_report(), "released but not held"),
              "bad release: \"%s\"", lockdep_last_report());
    KT_ASSERT(!spin_is_locked(&test_lock_a) && !spin_is_locked(&test_lock_b), "still locked");
}

/* ---- TLB shootdown (kernel/cpu/tlb_shootdown.c) ------------------------------------ */

/*
 * Another CPU caches a kernel mapping (it reads through it), the mapping
 * moves to another frame: with the shootdown, that CPU then reads the new
 * frame.  Without it (tlb_remote_flush cleared for one change) it may
 * still read the old frame through its stale TLB entry: printed, not
 * asserted (a CPU may also have dropped the entry on its own).  Then the
 * cost: one-page shootdowns to every other CPU against local invlpgs.
 */
static DEFINE_SPINLOCK(test_lock_x);
static DEFINE_SPINLOCK(test_lock_y);

static void take_x(void *arg)
{
    (void)arg;
    spin_lock(&test_lock_x);
    spin_unlock(&test_lock_x);
}

/*
 * Each CPU has its own stack of held locks: a lock another CPU takes
 * while this one holds y is no "x taken while holding y", so this CPU
 * taking y inside x afterwards is no inversion.  (With one stack for
 * all CPUs it would be reported.)
 */
KTEST(lockdep_per_cpu)
{
    unsigned cpu = first_ap("lockdep_per_cpu");
    if (!cpu)
        return;
    bool was = lockdep_enabled();
    lockdep_enable(true);
    lockdep_reset();
    uint64_t r0 = lockdep_reports();
    spin_lock(&test_lock_y);
    int e = smp_call_on(cpu, take_x, NULL);         /* x on CPU 1 while this one holds y */
    spin_unlock(&test_lock_y);
    spin_lock(&test_lock_x);
    spin_lock(&test_lock_y);                        /* y inside x, here */
    spin_unlock(&test_lock_y);
    spin_unlock(&test_lock_x);
    uint64_t r1 = lockdep_reports();
    char msg[200];
    snprintf(msg, sizeof(msg), "%s", r1 != r0 ? lockdep_last_report() : "");
    /* The same pair on one CPU is an inversion. */
    spin_lock(&test_lock_y);
    spin_lock(&test_lock_x);
    spin_unlock(&test_lock_x);
    spin_unlock(&test_lock_y);
    uint64_t r2 = lockdep_reports();
    lockdep_reset();
    lockdep_enable(was);
    KT_ASSERT(e == 0, "CPU %u did not run the call: %d", cpu, e);
    KT_ASSERT(r1 == r0, "another CPU's lock counted as held here: \"%s\"", msg);
    KT_ASSERT(r2 == r1 + 1, "the inversion on one CPU: %lu reports", r2 - r1);
}

/* ---- the page allocator on several CPUs at once ---- */

#define STORM_HELD 64

/* One CPU's part of the storm: its own blocks, tagged with its number. */
struct storm {
    unsigned cpu;
    uint64_t iters, seed;
    uint64_t allocs, refused, bad;
    volatile bool done;
};

static uint64_t tag(unsigned cpu, unsigned slot, uint64_t gen)
{
    return 0x5707000000000000ul | (uint64_t)cpu << 40 | (uint64_t)slot << 32 | (gen & 0xffffffff);
}

struct held {
    uint64_t *w;        /* the block or object; NULL: the slot is empty */
    struct page *p;     /* a block of frames, or NULL for a kmalloc object */
    unsigned order;
    size_t bytes;
    uint64_t gen;
};

/* Check a held block's or object's tags and free it. */
static void give_back(struct storm *s, struct held *h, unsigned slot)
{
    uint64_t t = tag(s->cpu, slot, h->gen);
    s->bad += h->w[0] != t || h->w[h->bytes / 8 - 1] != t;
    if (h->p)
        __free_pages(h->p, h->order);
    else
        kfree(h->w);
    h->w = NULL;
}

/* On a CPU of its own (smp_call_start), interrupts off: STORM_HELD slots
 * that hold a block of order 0 (mostly) to 3, a kmalloc object of 16 to
 * 2048 bytes, or nothing; each step frees a held one after checking the
 * tags in its first and last words, or takes a new one and tags it.  No
 * printk, no sleep: only the allocators. */
static void storm(void *arg)
{
    struct storm *s = arg;
    static struct held slots[NR_CPUS][STORM_HELD];  /* too large for an AP's stack */
    struct held *h = slots[s->cpu];
    memset(h, 0, sizeof(slots[0]));
    uint64_t x = s->seed;
    for (uint64_t i = 0; i < s->iters; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned k = (unsigned)(x % STORM_HELD);
        if (h[k].w) {
            give_back(s, &h[k], k);
            continue;
        }
        if ((x >> 30) % 2) {
            size_t bytes = 16 + 8 * ((x >> 32) % 255);
            uint64_t *w = kmalloc(bytes, GFP_KERNEL | __GFP_NOWARN);
            if (!w) {
                s->refused++;
                continue;
            }
            h[k] = (struct held){ w, NULL, 0, bytes, i };
        } else {
            unsigned o = (x >> 20) % 8 == 0 ? (unsigned)(x >> 24) % 4 : 0;
            struct page *p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, o);
            if (!p) {
                s->refused++;
                continue;
            }
            h[k] = (struct held){ page_address(p), p, o, PAGE_SIZE << o, i };
        }
        s->allocs++;
        h[k].w[0] = h[k].w[h[k].bytes / 8 - 1] = tag(s->cpu, k, i);
    }
    for (unsigned k = 0; k < STORM_HELD; k++)
        if (h[k].w)
            give_back(s, &h[k], k);
    /* Then bursts on one cache: every CPU takes 256 objects of kmalloc-64
     * and gives them back, so that its array is refilled and flushed
     * every few dozen calls, all CPUs on the same slabs at once. */
    static uint64_t *burst[NR_CPUS][256];
    uint64_t **b = burst[s->cpu];
    for (unsigned r = 0; r < s->iters / 256; r++) {
        for (unsigned j = 0; j < 256; j++) {
            b[j] = kmalloc(64, GFP_KERNEL | __GFP_NOWARN);
            if (!b[j]) {
                s->refused++;
                continue;
            }
            s->allocs++;
            b[j][0] = b[j][7] = tag(s->cpu, j, r);
        }
        for (unsigned j = 0; j < 256; j++) {
            if (!b[j])
                continue;
            s->bad += b[j][0] != tag(s->cpu, j, r) || b[j][7] != tag(s->cpu, j, r);
            kfree(b[j]);
        }
    }
    __atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
}

/*
 * Every other CPU allocates and frees at once, blocks of orders 0 to 3
 * through its own per-CPU cache and the shared buddy lists under the
 * zone's lock, and kmalloc objects through its own per-CPU arrays and the
 * slabs under each cache's lock; each checks that nothing it held was
 * written by another.  After: the caches drained and the slabs shrunk,
 * the free count is back to what it was, and both validators find every
 * frame and every object in exactly one place.
 */
KTEST(smp_alloc_storm)
{
    if (nr_cpus_online < 2) {
        printk("smp_alloc_storm: skipped (one CPU online)\n");
        return;
    }
    static struct storm s[NR_CPUS];
    ktest_settle();
    uint64_t before = nr_free_pages(), live = slab_live_objects(), t0 = rdtsc();
    unsigned started = 0;
    for (unsigned i = 1; i < nr_cpus_possible; i++) {
        if (!cpu_info[i].online)
            continue;
        s[i] = (struct storm){ .cpu = i, .iters = 20000, .seed = 0x9e3779b97f4a7c15ul * i };
        KT_ASSERT(smp_call_start(i, storm, &s[i]) == 0, "CPU %u did not start", i);
        started++;
    }
    /* Wait for them all (ten seconds at most: the storm takes a few
     * hundred milliseconds under TCG), sending them nothing meanwhile. */
    uint64_t limit = rdtsc() + 10 * tsc_hz();
    bool all = false;
    while (!all && rdtsc() < limit) {
        all = true;
        for (unsigned i = 1; i < nr_cpus_possible; i++)
            all = all && (!cpu_info[i].online || __atomic_load_n(&s[i].done, __ATOMIC_ACQUIRE));
        cpu_relax();
    }
    KT_ASSERT(all, "the storm did not end within 10 s");
    uint64_t ms = (rdtsc() - t0) * 1000 / tsc_hz(), allocs = 0, refused = 0, bad = 0;
    for (unsigned i = 1; i < nr_cpus_possible; i++) {
        allocs += s[i].allocs;
        refused += s[i].refused;
        bad += s[i].bad;
    }
    uint64_t live_after = slab_live_objects();
    ktest_settle();         /* each CPU empties its slab arrays and frame caches */
    uint64_t after = nr_free_pages();
    char why[160], swhy[160];
    int check = node_check(why, sizeof(why)), scheck = slab_check(swhy, sizeof(swhy));
    printk("smp_alloc_storm: %u CPUs, %lu blocks and objects taken and given back in %lu ms; %lu "
           "refused, %lu overwritten; free frames %lu before, %lu after\n", started, allocs,
           ms, refused, bad, before, after);
    KT_ASSERT(bad == 0, "%lu blocks were written by another CPU", bad);
    KT_ASSERT(refused == 0, "%lu allocations refused", refused);
    KT_ASSERT(allocs > started * 1000, "only %lu allocations", allocs);
    KT_ASSERT(after == before, "free frames: %lu before, %lu after", before, after);
    KT_ASSERT(live_after == live, "slab objects: %lu live before, %lu after", live, live_after);
    KT_ASSERT(check == 0, "the page allocator's validator: %s", why);
    KT_ASSERT(scheck == 0, "the slab's validator: %s", swhy);
}

/* What a CPU sees of itself, filled in on that CPU (smp_call_on). */
struct whoami {
    unsigned cpu;
    struct percpu *self;
    uint64_t gs_base, kernel_gs_base;
    uint32_t apic_id;
};

static void whoami(void *arg)
{
    struct whoami *w = arg;
    w->cpu = smp_processor_id();
    w->self = this_cpu();
    w->gs_base = rdmsr(MSR_GS_BASE);
    w->kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
    w->apic_id = lapic_id();
}

KTEST(smp_percpu_gs)
{
    /* The boot CPU, in a ktest (kernel mode, entered from no user). */
    struct whoami w = { 0 };
    whoami(&w);
    KT_ASSERT(w.cpu == 0 && w.self == &percpu[0] && w.gs_base == (uint64_t)&percpu[0],
              "CPU 0: cpu %u, self %p, GS base %#lx", w.cpu, w.self, w.gs_base);
    KT_ASSERT(w.apic_id == cpu_info[0].apic_id, "CPU 0's APIC id %#x", w.apic_id);
    unsigned reached = 0;
    for (unsigned i = 1; i < nr_cpus_possible; i++) {
        if (!cpu_info[i].online)
            continue;
        w = (struct whoami){ ~0u, NULL, 0, 0, 0 };
        KT_ASSERT(smp_call_on(i, whoami, &w) == 0, "CPU %u did not run the call", i);
        KT_ASSERT(w.cpu == i && w.self == &percpu[i] && w.gs_base == (uint64_t)&percpu[i],
                  "CPU %u: cpu %u, self %p, GS base %#lx", i, w.cpu, w.self, w.gs_base);
        KT_ASSERT(w.apic_id == cpu_info[i].apic_id, "CPU %u: APIC id %#x, the MADT says %#x",
                  i, w.apic_id, cpu_info[i].apic_id);
        KT_ASSERT(w.kernel_gs_base == 0, "CPU %u: a user GS base %#lx", i, w.kernel_gs_base);
        reached++;
    }
    KT_ASSERT(reached + 1 == nr_cpus_online, "%u CPUs answered, %u online", reached + 1,
              nr_cpus_online);
    /* Bad input: the boot CPU, a CPU that is not there, no function. */
    KT_ASSERT(smp_call_on(0, whoami, &w) == -ENODEV, "a call to CPU 0 via IPI");
    KT_ASSERT(smp_call_on(NR_CPUS, whoami, &w) == -ENODEV, "a call to CPU %u", NR_CPUS);
    if (nr_cpus_online > 1)
        KT_ASSERT(smp_call_on(1, NULL, NULL) == -ENODEV, "a call of NULL");
}

/* On an AP, in an address space it entered: read a user address (SMAP
 * lets the kernel through between stac and clac), or report its CR3. */
struct user_read {
    uint64_t va, value, cr3;
};

static void read_user(void *arg)
{
    struct user_read *r = arg;
    stac();
    r->value = *(volatile const uint64_t *)r->va;
    clac();
    r->cr3 = read_cr3();
}

static void report_cr3(void *arg)
{
    ((struct user_read *)arg)->cr3 = read_cr3();
}

/* A user address space with one page at *va, frame *pa mapped with
 * *prot, holding 0x1111 in its first word; NULL when memory is short. */
static struct mm *one_page_mm(uint64_t *va, uint64_t *pa, unsigned *prot)
{
    struct mm *mm = kzalloc(sizeof(*mm), GFP_KERNEL);
    if (!mm)
        return NULL;
    struct pt_view v;
    if (mm_init_user(mm, MM_VA_END_64, GFP_KERNEL) ||
        mm_mmap(mm, 0, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0,
                va) ||
        mm_prepare_write(mm, *va, PAGE_SIZE) || pt_walk(&mm->pt, *va, &v)) {
        mm_destroy(mm);
        kfree(mm);
        return NULL;
    }
    *pa = v.pa;
    *prot = v.prot;
    *(uint64_t *)page_address(pfn_to_page(*pa >> PAGE_SHIFT)) = 0x1111;
    return mm;
}

/*
 * A process's range on another CPU: CPU 1 enters a user address space and reads a page of it; the page is then remapped on the
 * boot CPU, which does not have those tables loaded.  Without the
 * address space's cpu_mask, nothing would reach CPU 1, which keeps the
 * old translation; with it, the flush goes there.  Destroying the
 * address space makes CPU 1 leave it first.
 */
KTEST(smp_mm_cpumask_shootdown)
{
    unsigned cpu = first_ap("smp_mm_cpumask_shootdown");
    if (!cpu)
        return;
    uint64_t va, pa;
    unsigned prot;
    struct mm *mm = one_page_mm(&va, &pa, &prot);
    KT_ASSERT(mm, "no address space with a page");
    struct page *b = alloc_page(GFP_KERNEL), *c = alloc_page(GFP_KERNEL);
    KT_ASSERT(b && c, "no frames");
    *(uint64_t *)page_address(b) = 0x2222;
    *(uint64_t *)page_address(c) = 0x3333;
    struct user_read r = { va, 0, 0 };
    int e0 = smp_enter_mm(cpu, mm);
    bool in_mask = mm->cpu_mask == 1ul << cpu;
    int e1 = smp_call_on(cpu, read_user, &r);
    uint64_t first = r.value, cr3 = r.cr3;
    /* Without the cpu_mask's flush: CPU 1 keeps its translation. */
    void (*saved)(uint64_t, uint64_t, uint64_t) = mm_tlb_flush_cpus;
    mm_tlb_flush_cpus = NULL;
    int r1 = pt_replace(&mm->pt, va, page_to_phys(b), prot);
    mm_tlb_flush_cpus = saved;
    int e2 = smp_call_on(cpu, read_user, &r);
    uint64_t stale = r.value;
    /* With it. */
    int r2 = pt_replace(&mm->pt, va, page_to_phys(c), prot);
    int e3 = smp_call_on(cpu, read_user, &r);
    uint64_t fresh = r.value;
    int r3 = pt_replace(&mm->pt, va, pa, prot);     /* its own frame back */
    int e4 = smp_call_on(cpu, read_user, &r);
    uint64_t back = r.value;
    printk("smp_mm_cpumask_shootdown: CPU %u read %#lx, then without the mask's flush %#lx "
           "(%s), with it %#lx, and %#lx\n", cpu, first, stale,
           stale == 0x1111 ? "its stale TLB entry" : "fresh", fresh, back);
    /* Destroying the address space: CPU 1 leaves it first. */
    mm_destroy(mm);
    struct user_read after = { 0, 0, 0 };
    int e5 = smp_call_on(cpu, report_cr3, &after);
    kfree(mm);
    __free_pages(b, 0);
    __free_pages(c, 0);
    KT_ASSERT(!e0 && !e1 && !e2 && !e3 && !e4 && !e5, "calls %d %d %d %d %d %d", e0, e1, e2,
              e3, e4, e5);
    KT_ASSERT(!r1 && !r2 && !r3, "pt_replace %d %d %d", r1, r2, r3);
    KT_ASSERT(in_mask, "CPU %u entered but the mask is not just its bit", cpu);
    KT_ASSERT(first == 0x1111 && cr3 != kernel_pt.root, "CPU %u read %#lx (CR3 %#lx)", cpu,
              first, cr3);
    KT_ASSERT(fresh == 0x3333, "after the mask's flush CPU %u read %#lx", cpu, fresh);
    KT_ASSERT(back == 0x1111, "after the frame came back CPU %u read %#lx", cpu, back);
    KT_ASSERT(after.cr3 == kernel_pt.root, "CPU %u is still on the destroyed tables (%#lx)",
              cpu, after.cr3);
    KT_ASSERT(smp_enter_mm(cpu, NULL) == -ENODEV, "entered no address space");
}

static void go_lazy(void *arg)
{
    (void)arg;
    cpu_switch_mm(NULL);   /* what the scheduler does for the idle task */
}

static bool cpu_lazy(unsigned cpu)
{
    return mm_lazy_cpus >> cpu & 1;
}

/*
 * Lazy TLB: CPU 1 runs a user address space, then goes idle the way the
 * scheduler does (cpu_switch_mm(NULL)): it keeps the tables and its bit
 * in the mask, and is marked lazy.  A flush of that space now skips it
 * (no IPI: nr_tlb_remote_flush does not move) and bumps the space's
 * tlb_gen; when CPU 1 comes back to it, it finds tlb_gen moved and
 * flushes.  Freeing a table of the space (munmap of its only page) makes
 * the lazy CPU leave it first.
 */
KTEST(smp_lazy_tlb)
{
    unsigned cpu = first_ap("smp_lazy_tlb");
    if (!cpu)
        return;
    uint64_t va, pa;
    unsigned prot;
    struct mm *mm = one_page_mm(&va, &pa, &prot);
    KT_ASSERT(mm, "no address space with a page");
    struct page *b = alloc_page(GFP_KERNEL);
    KT_ASSERT(b, "no frame");
    *(uint64_t *)page_address(b) = 0x2222;
    struct user_read r = { va, 0, 0 };
    int e0 = smp_enter_mm(cpu, mm);
    int e1 = smp_call_on(cpu, read_user, &r);
    uint64_t first = r.value;
    int e2 = smp_call_on(cpu, go_lazy, NULL);
    bool lazy = cpu_lazy(cpu), kept = mm->cpu_mask >> cpu & 1;
    uint64_t sent = vm_events[NR_TLB_REMOTE_FLUSH], gen = mm->tlb_gen;
    int r1 = pt_replace(&mm->pt, va, page_to_phys(b), prot);
    uint64_t sent_lazy = vm_events[NR_TLB_REMOTE_FLUSH] - sent, gen_moved = mm->tlb_gen - gen;
    int e3 = smp_call_on(cpu, read_user, &r);   /* still lazy: nothing flushed it */
    uint64_t while_lazy = r.value;
    int e4 = smp_enter_mm(cpu, mm);              /* back: tlb_gen moved, it flushes */
    bool active = !cpu_lazy(cpu);
    int e5 = smp_call_on(cpu, read_user, &r);
    uint64_t back = r.value;
    /* Lazy again; the munmap empties the page's table, which is freed. */
    int e6 = smp_call_on(cpu, go_lazy, NULL);
    int r2 = pt_replace(&mm->pt, va, pa, prot);   /* its own frame back, for the munmap */
    int r3 = mm_munmap(mm, va, PAGE_SIZE);
    struct user_read after = { 0, 0, 0 };
    int e7 = smp_call_on(cpu, report_cr3, &after);
    bool left = !(mm->cpu_mask >> cpu & 1) && !cpu_lazy(cpu);
    printk("smp_lazy_tlb: CPU %u read %#lx, went lazy (mask kept: %s); a flush sent %lu IPI(s), "
           "tlb_gen +%lu; lazy it read %#lx (%s), back %#lx; a freed table sent it to the "
           "kernel's tables (%s)\n", cpu, first, kept ? "yes" : "no", sent_lazy, gen_moved,
           while_lazy, while_lazy == 0x1111 ? "its stale entry" : "fresh", back,
           after.cr3 == kernel_pt.root ? "yes" : "no");
    mm_destroy(mm);
    kfree(mm);
    __free_pages(b, 0);
    KT_ASSERT(!e0 && !e1 && !e2 && !e3 && !e4 && !e5 && !e6 && !e7, "calls %d %d %d %d %d %d %d %d",
              e0, e1, e2, e3, e4, e5, e6, e7);
    KT_ASSERT(!r1 && !r2 && !r3, "pt_replace %d %d, munmap %d", r1, r2, r3);
    KT_ASSERT(first == 0x1111, "CPU %u read %#lx", cpu, first);
    KT_ASSERT(lazy && kept, "CPU %u idle: lazy %d, bit in the mask %d", cpu, lazy, kept);
    KT_ASSERT(sent_lazy == 0 && gen_moved >= 1, "a flush with CPU %u lazy sent %lu, tlb_gen +%lu",
              cpu, sent_lazy, gen_moved);
    KT_ASSERT(active && back == 0x2222, "CPU %u back on the space read %#lx (active %d)", cpu,
              back, active);
    KT_ASSERT(left && after.cr3 == kernel_pt.root,
              "a table was freed under lazy CPU %u: still on it (CR3 %#lx, mask %#lx)", cpu,
              after.cr3, mm->cpu_mask);
}

/*
 * The last user of an address space frees it while this CPU keeps its
 * tables lazily (a thread exits; the idle task ran in between): the
 * CPU must be back on the kernel's tables first, with one CPU as with
 * several, and remember no freed address space.
 */
KTEST(lazy_tables_freed_on_exit)
{
    struct mm *mm = kzalloc(sizeof(*mm), GFP_KERNEL);
    KT_ASSERT(mm && mm_init_user(mm, MM_VA_END_64, GFP_KERNEL) == 0, "no address space");
    uint64_t flags = read_rflags();
    cli();
    uint64_t root = mm_cr3(mm);
    cpu_switch_mm(mm);     /* as exec or the scheduler */
    bool on = read_cr3() == root && this_cpu()->loaded_mm == mm;
    cpu_switch_mm(NULL);   /* the idle task: lazy, the tables stay */
    bool kept = read_cr3() == root && cpu_lazy(smp_processor_id());
    mm_release(mm);        /* frees the tables and the mm */
    uint64_t cr3 = read_cr3();
    struct mm *loaded = this_cpu()->loaded_mm;
    bool lazy = cpu_lazy(smp_processor_id());
    if (flags & (1ul << 9))
        sti();
    KT_ASSERT(on, "cpu_switch_mm did not load the tables");
    KT_ASSERT(kept, "the idle task did not keep them lazily");
    KT_ASSERT(cr3 == kernel_pt.root && !loaded && !lazy,
              "after mm_release CR3 %#lx (kernel %#lx), loaded_mm %p, lazy %d", cr3,
              kernel_pt.root, (void *)loaded, lazy);
}

/*
 * Lazy freeing of vmalloc areas (mm/vmalloc.c): with other CPUs online, a
 * vfree flushes only this CPU, the area stays reserved (lazy), and one
 * purge flushes every CPU for all of them.
 */
#define LAZY_AREAS 8
KTEST(vmalloc_lazy_purge)
{
    if (!first_ap("vmalloc_lazy_purge"))
        return;
    struct vmap_space *s = &vmalloc_space;
    KT_ASSERT(s->lazy_max > 0, "vmalloc frees eagerly with %u CPUs online", nr_cpus_online);
    vmalloc_purge();   /* start from none */
    uint64_t areas = vmalloc_nr_areas(), frames = vmalloc_nr_pages();
    uint64_t sent = vm_events[NR_TLB_REMOTE_FLUSH], purges = s->purges;
    void *p[LAZY_AREAS];
    for (int i = 0; i < LAZY_AREAS; i++) {
        p[i] = vmalloc(2 * PAGE_SIZE);
        KT_ASSERT(p[i], "vmalloc %d", i);
        memset(p[i], i, 2 * PAGE_SIZE);
    }
    uint64_t sent_alloc = vm_events[NR_TLB_REMOTE_FLUSH] - sent;
    uint64_t tables = pt_table_frees;
    for (int i = 0; i < LAZY_AREAS; i++)
        vfree(p[i]);
    uint64_t sent_free = vm_events[NR_TLB_REMOTE_FLUSH] - sent - sent_alloc;
    /* A vfree that emptied a page of tables flushed the others at once. */
    bool tables_freed = pt_table_frees != tables;
    uint64_t lazy = s->nr_lazy, lazy_pages = s->lazy_pages;
    bool counts = vmalloc_nr_areas() == areas && vmalloc_nr_pages() == frames;
    /* A new area must not reuse a lazy span: another CPU may still hold
     * a translation of it. */
    uint8_t *q = vmalloc(PAGE_SIZE);
    bool reused = false;
    for (int i = 0; q && i < LAZY_AREAS; i++)
        reused |= (uint64_t)q >= (uint64_t)p[i] && (uint64_t)q < (uint64_t)p[i] + 3 * PAGE_SIZE;
    char why[160];
    int check = vmalloc_check(s, why, sizeof(why));
    uint64_t before = vm_events[NR_TLB_REMOTE_FLUSH];
    vmalloc_purge();
    uint64_t sent_purge = vm_events[NR_TLB_REMOTE_FLUSH] - before;
    vfree(q);
    vmalloc_purge();
    printk("vmalloc_lazy_purge: %d areas freed with %lu shootdown(s)%s, their %lu pages lazy "
           "(purge at %lu); the next vmalloc %s them; the purge sent %lu\n", LAZY_AREAS,
           sent_free, tables_freed ? " (a page of tables was freed)" : "", lazy_pages,
           s->lazy_max, reused ? "reused one of" : "avoided", sent_purge);
    KT_ASSERT(check == 0, "vmalloc_check with lazy areas: %s", why);
    KT_ASSERT(tables_freed ? sent_free >= 1 && sent_free < LAZY_AREAS : sent_free == 0,
              "the vfrees sent %lu shootdowns (tables freed: %d)", sent_free, tables_freed);
    KT_ASSERT(lazy == LAZY_AREAS && lazy_pages == 2 * LAZY_AREAS, "%lu lazy areas, %lu pages",
              lazy, lazy_pages);
    KT_ASSERT(counts, "areas %lu (was %lu), frames %lu (was %lu) after the vfrees",
              vmalloc_nr_areas(), areas, vmalloc_nr_pages(), frames);
    KT_ASSERT(q && !reused, "a lazy span was given out again (%p)", (void *)q);
    KT_ASSERT(sent_purge == 1 && s->purges >= purges + 1 && s->nr_lazy == 0,
              "the purge sent %lu shootdowns, %lu lazy left", sent_purge, s->nr_lazy);
}

KTEST(smp_tlb_shootdown)
{
    unsigned cpu = first_ap("smp_tlb_shootdown");
    if (!cpu)
        return;
    struct page *a = alloc_page(GFP_KERNEL), *b = alloc_page(GFP_KERNEL),
                *c = alloc_page(GFP_KERNEL);
    KT_ASSERT(a && b && c, "no frames");
    *(uint64_t *)page_address(a) = 0xaaaa;
    *(uint64_t *)page_address(b) = 0xbbbb;
    *(uint64_t *)page_address(c) = 0xcccc;
    uint64_t pa = page_to_phys(a);
    uint64_t *v = vmap(&pa, 1, PT_W);
    KT_ASSERT(v, "vmap failed");
    uint64_t seen = 0, remote0 = tlb_stats.remote;
    int err = smp_read_on(cpu, (uint64_t)v, &seen);
    bool first_ok = !err && seen == 0xaaaa;
    /* Without the shootdown: only this CPU's TLB is flushed. */
    void (*saved)(uint64_t, uint64_t) = tlb_remote_flush;
    tlb_remote_flush = NULL;
    int r1 = pt_replace(&kernel_pt, (uint64_t)v, page_to_phys(b), PT_W);
    tlb_remote_flush = saved;
    uint64_t stale = 0;
    int err2 = smp_read_on(cpu, (uint64_t)v, &stale);
    /* With it. */
    int r2 = pt_replace(&kernel_pt, (uint64_t)v, page_to_phys(c), PT_W);
    uint64_t fresh = 0;
    int err3 = smp_read_on(cpu, (uint64_t)v, &fresh);
    bool sent = tlb_stats.remote > remote0;
    printk("smp_tlb_shootdown: CPU %u read %#lx, then without a shootdown %#lx (%s), with one "
           "%#lx\n", cpu, seen, stale, stale == 0xaaaa ? "its stale TLB entry" : "fresh",
           fresh);
    /* The cost, one page, 200 times each. */
    uint64_t t0 = rdtsc();
    for (int i = 0; i < 200; i++)
        invlpg((uint64_t)v);
    uint64_t t1 = rdtsc();
    for (int i = 0; i < 200; i++)
        smp_tlb_flush_others((uint64_t)v, PAGE_SIZE);
    uint64_t t2 = rdtsc();
    uint64_t ns_local = (t1 - t0) * 1000000000ul / tsc_hz() / 200;
    uint64_t ns_remote = (t2 - t1) * 1000000000ul / tsc_hz() / 200;
    unsigned others = nr_cpus_online - 1;
    printk("smp_tlb_shootdown: one page to %u CPU%s: %lu ns (%lu ns per CPU reached); a local "
           "invlpg: %lu ns\n", others, others == 1 ? "" : "s", ns_remote, ns_remote / others,
           ns_local);
    vunmap(v);
    __free_pages(a, 0);
    __free_pages(b, 0);
    __free_pages(c, 0);
    KT_ASSERT(first_ok, "CPU %u read %#lx (error %d), expected 0xaaaa", cpu, seen, err);
    KT_ASSERT(!r1 && !r2 && !err2 && !err3, "replace %d %d, reads %d %d", r1, r2, err2, err3);
    KT_ASSERT(sent, "the kernel-half change sent no shootdown");
    KT_ASSERT(fresh == 0xcccc, "after the shootdown CPU %u read %#lx, expected 0xcccc", cpu,
              fresh);
    KT_ASSERT(smp_read_on(0, (uint64_t)v, &seen) == -ENODEV, "a read on CPU 0 via IPI");
}

/* On an AP (smp_call_start): take the kernel lock and let it go, saying
 * how far it got. */
struct klock_probe {
    volatile int stage;   /* 1: about to wait, 2: holds it, 3: let it go */
};

static void take_kernel_lock(void *arg)
{
    struct klock_probe *p = arg;
    p->stage = 1;
    lock_kernel();
    p->stage = 2;
    unlock_kernel();
    p->stage = 3;
}

static void wait_stage(const struct klock_probe *p, int stage, uint64_t ms)
{
    uint64_t end = rdtsc() + tsc_hz() / 1000 * ms;
    while (p->stage < stage && rdtsc() < end)
        cpu_relax();
}

/* The big kernel lock (include/kernel/kernel_lock.h): the boot CPU holds
 * it while it runs the tests; another CPU that asks for it waits until it
 * is let go, and meanwhile still answers a TLB shootdown (it polls the
 * requests: without that, the holder's flush and the waiter would wait
 * for each other for ever). */
KTEST(kernel_lock_serializes)
{
    unsigned cpu = first_ap("kernel_lock_serializes");
    if (!cpu)
        return;
    KT_ASSERT(kernel_locked(), "the boot CPU runs the tests without the kernel lock");
    struct kernel_lock_stats s0, s1;
    kernel_lock_stats(&s0);
    struct klock_probe p = { 0 };
    KT_ASSERT(smp_call_start(cpu, take_kernel_lock, &p) == 0, "CPU %u did not start", cpu);
    wait_stage(&p, 1, 1000);
    uint64_t until = rdtsc() + tsc_hz() / 50;   /* 20 ms: it must still be waiting */
    while (rdtsc() < until)
        cpu_relax();
    int while_held = p.stage;
    uint64_t received = vm_events[NR_TLB_REMOTE_FLUSH_RECEIVED];
    int flush = smp_tlb_flush_mask(1ul << cpu, 0, 0);   /* a full flush, to the waiter */
    uint64_t received_after = vm_events[NR_TLB_REMOTE_FLUSH_RECEIVED];
    unlock_kernel();
    wait_stage(&p, 3, 1000);
    int after = p.stage;
    lock_kernel();
    kernel_lock_stats(&s1);
    printk("kernel_lock_serializes: CPU %u waited (stage %d) while CPU 0 held the lock, "
           "answered a flush meanwhile (%d), then took it (stage %d); %lu acquisitions, "
           "%lu contended\n", cpu, while_held, flush, after, s1.taken - s0.taken,
           s1.contended - s0.contended);
    KT_ASSERT(while_held == 1, "CPU %u got past lock_kernel while CPU 0 held it (stage %d)",
              cpu, while_held);
    KT_ASSERT(flush == 0 && received_after == received + 1,
              "the waiting CPU did not answer the flush (%d, %lu received)", flush,
              received_after - received);
    KT_ASSERT(after == 3, "CPU %u never got the lock once it was let go (stage %d)", cpu,
              after);
    KT_ASSERT(s1.contended - s0.contended >= 1 && s1.taken - s0.taken >= 2,
              "the statistics: %lu taken, %lu contended", s1.taken - s0.taken,
              s1.contended - s0.contended);
}
