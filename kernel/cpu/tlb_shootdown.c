/*
 * TLB shootdown (include/kernel/smp.h, include/mm/tlb.h; docs/smp.md).
 *
 * Each CPU caches translations in its own TLB, and invlpg only empties
 * the TLB of the CPU that runs it.  When the kernel changes a mapping that
 * another CPU may have cached, it must make that CPU flush too, and only
 * an interrupt can make it: an inter-processor interrupt (IPI) on vector
 * VEC_TLB_SHOOTDOWN.  The sender writes the request (a range, or a read
 * for the tests), sends the IPI to each CPU concerned, and waits until
 * each has acknowledged (its bit of `targets` cleared): only then may the old page
 * be reused.  A range of more than TLB_FLUSH_CEILING pages (33, Linux's
 * tlb_single_page_flush_ceiling) is a full flush, global entries included.
 *
 * Who is concerned: the kernel half concerns every online CPU (mm/tlb.c
 * sends those); a process's range, the CPUs whose CR3 holds its tables,
 * listed in the address space's cpu_mask (Linux's mm_cpumask): the
 * sender flushes itself locally, the others by IPI.  A CPU enters an
 * address space with cpu_switch_mm (the scheduler, exec) or smp_enter_mm
 * (tests: it stays there, lazy TLB); mm_destroy has every CPU of the
 * mask leave it first (smp_leave_mm_all).
 *
 * Invariants: one request at a time (the sender keeps interrupts off
 * while it has one out, and only the kernel lock's holder sends); each request has a
 * number, `gen`, stored after its fields and its `targets` (a bit per CPU
 * it is for); a CPU acknowledges by writing that number into its
 * `acked` slot, after its flush, read or call is done (a started call:
 * before it runs), and the sender waits until every target's slot holds
 * it.  A CPU that does not acknowledge within a second is said once,
 * `targets` cleared, and the sender goes on: better a stale entry than a
 * hang.  Its IPI may still arrive later: a CPU that is not in the
 * current request's targets, or has acknowledged that request already,
 * does nothing; and an acknowledgement of an older request (a CPU that
 * stalled inside its handler) carries the older number, so it never
 * counts for a newer one.  (What remains: a CPU that stalls for a second
 * inside its handler may read fields of a request that replaced its
 * own.)
 *
 * Also here, on the same vector: calls on another CPU (smp_call_on,
 * smp_call_start), address spaces entered and left on other CPUs, and
 * the page allocator's request that they drain their per-CPU caches.
 */
#include <kernel/smp.h>
#include <kernel/apic.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/x86.h>
#include <kernel/percpu.h>
#include <mm/gfp.h>
#include <mm/kernel_pt.h>
#include <mm/page.h>
#include <mm/slab.h>
#include <mm/tlb.h>
#include <mm/vma.h>
#include <mm/vm_event.h>

enum { REQ_FLUSH, REQ_READ, REQ_CALL, REQ_START };

static struct {
    int op;
    uint64_t va, len;
    void (*fn)(void *);              /* REQ_CALL's function and argument */
    void *arg;
    volatile uint64_t value;         /* REQ_READ's result */
    uint64_t targets;                /* CPUs the request is for (bit i: CPU i) */
    uint32_t gen;                    /* the request's number */
} req;
static uint32_t acked[NR_CPUS];      /* the number of the last request each CPU did */

static void local_flush(uint64_t va, uint64_t len)
{
    uint64_t start = va & ~(PAGE_SIZE - 1), end = va + len;
    if (len == 0 || end < va || (end - start) / PAGE_SIZE > TLB_FLUSH_CEILING) {
        uint64_t cr4 = read_cr4();
        if (cr4 & CR4_PGE) {
            write_cr4(cr4 & ~CR4_PGE);   /* global entries too */
            write_cr4(cr4);
        } else {
            write_cr3(read_cr3());
        }
        return;
    }
    for (uint64_t a = start; a < end; a += PAGE_SIZE)
        invlpg(a);
}

/* Do this CPU's part of the current request, if it has one not done yet:
 * from the IPI's handler, or polled by a CPU that waits for the kernel
 * lock with its interrupts off (kernel/proc/kernel_lock.c). */
void smp_ipi_poll(void)
{
    /* The request whose function runs on this CPU (0: none): polled from
     * inside it (a fault, then the oops path), it is not run twice; a
     * newer request still is (a test's function waiting for the kernel
     * lock answers the holder's flushes). */
    static uint32_t running[NR_CPUS];
    unsigned cpu = smp_processor_id();
    uint32_t gen = __atomic_load_n(&req.gen, __ATOMIC_ACQUIRE);
    if (running[cpu] == gen)
        return;
    if (!(__atomic_load_n(&req.targets, __ATOMIC_RELAXED) >> cpu & 1) ||
        __atomic_load_n(&acked[cpu], __ATOMIC_RELAXED) == gen)
        return;             /* not for us, or done already: a late IPI */
    if (req.op == REQ_START) {
        /* Acknowledge at once, then run: the sender goes on meanwhile. */
        void (*fn)(void *) = req.fn;
        void *arg = req.arg;
        __atomic_store_n(&acked[cpu], gen, __ATOMIC_RELEASE);
        uint32_t outer = running[cpu];
        running[cpu] = gen;
        fn(arg);
        running[cpu] = outer;
        return;
    }
    if (req.op == REQ_READ) {
        req.value = *(volatile const uint64_t *)req.va;
    } else if (req.op == REQ_CALL) {
        uint32_t outer = running[cpu];
        running[cpu] = gen;
        req.fn(req.arg);
        running[cpu] = outer;
    } else {
        local_flush(req.va, req.len);
        __atomic_fetch_add(&vm_events[NR_TLB_REMOTE_FLUSH_RECEIVED], 1, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&acked[cpu], gen, __ATOMIC_RELEASE);
}

void tlb_shootdown_interrupt(void)
{
    apic_eoi();     /* first: a REQ_START's function may run for long */
    smp_ipi_poll();
}

/* Send the request to the CPUs of mask (bit i: cpu_info[i]) and wait. */
static int send(uint64_t mask)
{
    static bool said;
    uint64_t flags = read_rflags();
    cli();
    uint64_t want = 0;
    unsigned me = smp_processor_id();
    for (unsigned i = 0; i < nr_cpus_possible && i < 64; i++)
        if ((mask >> i & 1) && cpu_info[i].online && i != me)
            want |= 1ul << i;
    /* The number last, after the request's fields (the callers wrote
     * them) and its targets: a CPU that sees the number sees them too. */
    __atomic_store_n(&req.targets, want, __ATOMIC_RELAXED);
    uint32_t gen = req.gen + 1;
    if (gen == 0)
        gen = 1;   /* 0 means "no request" to smp_ipi_poll's running[] */
    __atomic_store_n(&req.gen, gen, __ATOMIC_RELEASE);
    uint64_t sent = want;
    for (unsigned i = 0; i < nr_cpus_possible && i < 64; i++)
        if ((want >> i & 1) && !smp_send_ipi(cpu_info[i].apic_id, 0x4000u | VEC_TLB_SHOOTDOWN))
            sent &= ~(1ul << i);
    uint64_t end = rdtsc() + tsc_hz();
    int err = 0;
    uint64_t left;
    for (;;) {
        left = 0;
        for (unsigned i = 0; i < nr_cpus_possible && i < 64; i++)
            if ((sent >> i & 1) && __atomic_load_n(&acked[i], __ATOMIC_ACQUIRE) != gen)
                left |= 1ul << i;
        if (!left)
            break;
        if (rdtsc() > end) {
            /* Given up: their IPIs, if they come, will find nothing. */
            __atomic_store_n(&req.targets, 0, __ATOMIC_RELEASE);
            if (!said) {
                said = true;
                printk("smp: %u CPU(s) did not acknowledge an IPI request within 1 s "
                       "(mask %#lx)\n", (unsigned)__builtin_popcountl(left), left);
            }
            err = -ETIMEDOUT;
            break;
        }
        cpu_relax();
    }
    if (flags & (1ul << 9))
        sti();
    return err;
}

int smp_tlb_flush_mask(uint64_t mask, uint64_t va, uint64_t len)
{
    if (!(mask & ~(1ul << smp_processor_id())))
        return 0;   /* nobody else */
    count_vm_event(NR_TLB_REMOTE_FLUSH);
    req.op = REQ_FLUSH;
    req.va = va;
    req.len = len;
    return send(mask);
}

int smp_tlb_flush_others(uint64_t va, uint64_t len)
{
    return smp_tlb_flush_mask(~0ul, va, len);
}

int smp_read_on(unsigned cpu, uint64_t va, uint64_t *value)
{
    if (cpu == smp_processor_id() || cpu >= nr_cpus_possible || cpu >= 64 ||
        !cpu_info[cpu].online)
        return -ENODEV;
    req.op = REQ_READ;
    req.va = va;
    req.value = 0;
    int err = send(1ul << cpu);
    *value = req.value;
    return err;
}

/* fn(arg) on CPU cpu: REQ_CALL (wait for its end) or REQ_START (for its
 * start). */
static int call(int op, unsigned cpu, void (*fn)(void *), void *arg)
{
    if (cpu == smp_processor_id() || cpu >= nr_cpus_possible || cpu >= 64 ||
        !cpu_info[cpu].online || !fn)
        return -ENODEV;
    req.op = op;
    req.fn = fn;
    req.arg = arg;
    return send(1ul << cpu);
}

int smp_call_on(unsigned cpu, void (*fn)(void *), void *arg)
{
    return call(REQ_CALL, cpu, fn, arg);
}

/* ---- address spaces on other CPUs (lazy TLB) ---- */

/* On the CPU itself: load mm's tables, its bit in mm->cpu_mask first
 * (a flush sent from then on reaches this CPU before it can cache
 * anything of mm), and out of the mask of the address space it leaves
 * (its TLB forgets that one with the CR3 load: no PCID). */
static void enter_mm(void *arg)
{
    struct mm *mm = arg, *old = this_cpu()->loaded_mm;
    uint64_t me = 1ul << smp_processor_id();
    __atomic_fetch_or(&mm->cpu_mask, me, __ATOMIC_SEQ_CST);
    if (read_cr3() != mm_cr3(mm))
        write_cr3(mm_cr3(mm));
    if (old && old != mm)
        __atomic_fetch_and(&old->cpu_mask, ~me, __ATOMIC_SEQ_CST);
    this_cpu()->loaded_mm = mm;
}

/* On the CPU itself: back on the kernel's tables if it is on mm's. */
static void leave_mm(void *arg)
{
    struct mm *mm = arg;
    if (this_cpu()->loaded_mm == mm || read_cr3() == mm_cr3(mm)) {
        write_cr3(kernel_pt.root);
        this_cpu()->loaded_mm = NULL;
    }
    __atomic_fetch_and(&mm->cpu_mask, ~(1ul << smp_processor_id()), __ATOMIC_SEQ_CST);
}

void cpu_switch_mm(struct mm *mm)
{
    if (mm)
        enter_mm(mm);
    else if (this_cpu()->loaded_mm)
        leave_mm(this_cpu()->loaded_mm);
}

int smp_enter_mm(unsigned cpu, struct mm *mm)
{
    if (!mm)
        return -ENODEV;
    if (cpu == smp_processor_id()) {
        enter_mm(mm);
        return 0;
    }
    return smp_call_on(cpu, enter_mm, mm);
}

void smp_leave_mm_all(struct mm *mm)
{
    unsigned me = smp_processor_id();
    if (this_cpu()->loaded_mm == mm || read_cr3() == mm_cr3(mm))
        leave_mm(mm);
    for (unsigned i = 0; i < nr_cpus_possible && i < 64; i++)
        if (i != me && (mm->cpu_mask >> i & 1))
            smp_call_on(i, leave_mm, mm);
    /* A CPU that did not answer within a second is given up (said once):
     * it may still have the tables in CR3, but a CPU that stalls that long
     * with interrupts off is lost anyway. */
    mm->cpu_mask = 0;
}

static void mm_remote_flush(uint64_t mask, uint64_t va, uint64_t len)
{
    if (smp_tlb_flush_mask(mask, va, len))
        mm_flush_timeouts++;   /* a CPU may keep a stale entry: see include/mm/vma.h */
}

int smp_call_start(unsigned cpu, void (*fn)(void *), void *arg)
{
    return call(REQ_START, cpu, fn, arg);
}

static void remote_flush(uint64_t va, uint64_t len)
{
    smp_tlb_flush_others(va, len);
}

/* ---- the page allocator's per-CPU caches ---- */

static void drain_here(void *arg)
{
    (void)arg;
    slab_drain_local();     /* objects back to their slabs, then the frames */
    drain_pcp_local();
}

/* drain_pcp on the kernel lock's holder: each other CPU empties its own
 * slab arrays and frame caches. */
static void drain_others(void)
{
    for (unsigned i = 0; i < nr_cpus_possible && i < PCP_CPUS; i++)
        if (cpu_info[i].online && i != smp_processor_id())
            smp_call_on(i, drain_here, NULL);
}

void tlb_shootdown_init(void)
{
    tlb_remote_flush = remote_flush;
    mm_tlb_flush_cpus = mm_remote_flush;
    mm_leave_cpus = smp_leave_mm_all;
    drain_pcp_others = drain_others;
    for (unsigned i = 0; i < nr_cpus_possible && i < PCP_CPUS; i++)
        if (cpu_info[i].online)
            pcp_nr_cpus = i + 1;        /* /proc/zoneinfo's pagesets */
}
