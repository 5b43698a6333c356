/*
 * The big kernel lock (include/kernel/kernel_lock.h; docs/smp.md).
 *
 * A ticket lock: a CPU takes the next ticket and waits until `serving`
 * reaches it, so CPUs get the kernel in the order they asked for it
 * (a plain test-and-set lock lets one CPU starve under QEMU's TCG, whose
 * vCPUs run at very different speeds).  While it waits it answers the
 * holder's IPI requests by polling them (smp_ipi_poll): its interrupts
 * are off, and the holder may be waiting for its answer to a TLB
 * shootdown.
 *
 * Invariant: owner is the index of the CPU holding the lock, -1 when
 * none does; serving != next exactly while somebody holds or awaits it.
 */
#include <kernel/kernel_lock.h>
#include <kernel/printk.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/x86.h>

static struct {
    volatile uint32_t next, serving;
    volatile int owner;
    uint64_t taken, contended;
} klock = { 0, 0, -1, 0, 0 };

void lock_kernel(void)
{
    int me = (int)smp_processor_id();
    if (klock.owner == me)
        panic("lock_kernel: CPU %d holds the kernel lock already", me);
    uint32_t ticket = __atomic_fetch_add(&klock.next, 1, __ATOMIC_RELAXED);
    bool waited = false;
    while (__atomic_load_n(&klock.serving, __ATOMIC_ACQUIRE) != ticket) {
        waited = true;
        smp_ipi_poll();   /* the holder may be waiting for this CPU's answer */
        cpu_relax();
    }
    klock.owner = me;
    klock.taken++;
    klock.contended += waited;
}

void unlock_kernel(void)
{
    int me = (int)smp_processor_id();
    if (klock.owner != me)
        panic("unlock_kernel: CPU %d does not hold the kernel lock (owner %d)", me,
              klock.owner);
    klock.owner = -1;
    __atomic_store_n(&klock.serving, klock.serving + 1, __ATOMIC_RELEASE);
}

bool kernel_locked(void)
{
    return klock.owner == (int)smp_processor_id();
}

void kernel_lock_stats(struct kernel_lock_stats *s)
{
    s->taken = klock.taken;
    s->contended = klock.contended;
}
