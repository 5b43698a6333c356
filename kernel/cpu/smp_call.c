/*
 * Calls on other CPUs (include/kernel/smp.h; docs/smp.md).
 *
 * Only an interrupt can make another CPU do something now: an
 * inter-processor interrupt (IPI) on vector VEC_CALL_FUNCTION (Linux's
 * CALL_FUNCTION_VECTOR).  The sender writes a request, a function and its
 * argument, sends the IPI to each CPU concerned, and waits until each has
 * acknowledged: after the function returned (smp_call_mask, smp_call_on)
 * or as it starts (smp_call_start).  The users: TLB shootdown and address
 * spaces entered and left on other CPUs (kernel/cpu/tlb_shootdown.c), the
 * drain of the other CPUs' per-CPU caches (kernel/cpu/smp_drain.c), and
 * the SMP tests and benchmarks.
 *
 * Invariants: one request at a time (the sender keeps interrupts off
 * while it has one out, and only the kernel lock's holder sends); each
 * request has a number, `gen`, stored after its fields and its `targets`
 * (a bit per CPU it is for); a CPU acknowledges by writing that number
 * into its `acked` slot, and the sender waits until every target's slot
 * holds it.  A CPU that does not acknowledge within a second is said
 * once, `targets` cleared, and the sender goes on: better a stale TLB
 * entry than a hang.  Its IPI may still arrive later: a CPU that is not
 * in the current request's targets, or has acknowledged that request
 * already, does nothing; and an acknowledgement of an older request (a
 * CPU that stalled inside its handler) carries the older number, so it
 * never counts for a newer one.  (What remains: a CPU that stalls for a
 * second inside its handler may read fields of a request that replaced
 * its own.)
 */
#include <kernel/smp.h>
#include <kernel/apic.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/x86.h>
#include <kernel/percpu.h>

static struct {
    bool start;                      /* acknowledge as it starts, not ends */
    void (*fn)(void *);
    void *arg;
    uint64_t targets;                /* CPUs the request is for (bit i: CPU i) */
    uint32_t gen;                    /* the request's number */
} req;
static uint32_t acked[NR_CPUS];      /* the number of the last request each CPU did */

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
    void (*fn)(void *) = req.fn;
    void *arg = req.arg;
    bool start = req.start;
    if (start)              /* the sender goes on while fn runs */
        __atomic_store_n(&acked[cpu], gen, __ATOMIC_RELEASE);
    uint32_t outer = running[cpu];
    running[cpu] = gen;
    fn(arg);
    running[cpu] = outer;
    if (!start)
        __atomic_store_n(&acked[cpu], gen, __ATOMIC_RELEASE);
}

void smp_call_interrupt(void)
{
    apic_eoi();     /* first: a started function may run for long */
    smp_ipi_poll();
}

/* Send the request to the online CPUs of mask but this one, and wait. */
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
        if ((want >> i & 1) && !smp_send_ipi(cpu_info[i].apic_id, 0x4000u | VEC_CALL_FUNCTION))
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

static int call(bool start, uint64_t mask, void (*fn)(void *), void *arg)
{
    if (!fn)
        return -ENODEV;
    req.start = start;
    req.fn = fn;
    req.arg = arg;
    return send(mask);
}

int smp_call_mask(uint64_t mask, void (*fn)(void *), void *arg)
{
    if (!(mask & ~(1ul << smp_processor_id())))
        return 0;   /* nobody else */
    return call(false, mask, fn, arg);
}

/* One CPU, not this one, online. */
static bool other_cpu(unsigned cpu)
{
    return cpu != smp_processor_id() && cpu < nr_cpus_possible && cpu < 64 &&
           cpu_info[cpu].online;
}

int smp_call_on(unsigned cpu, void (*fn)(void *), void *arg)
{
    return other_cpu(cpu) ? call(false, 1ul << cpu, fn, arg) : -ENODEV;
}

int smp_call_start(unsigned cpu, void (*fn)(void *), void *arg)
{
    return other_cpu(cpu) ? call(true, 1ul << cpu, fn, arg) : -ENODEV;
}
