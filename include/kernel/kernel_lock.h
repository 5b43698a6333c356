/*
 * The big kernel lock (kernel/proc/kernel_lock.c; docs/smp.md, "The big
 * kernel lock").
 *
 * Every CPU runs user code at the same time as the others; kernel code
 * runs on one CPU at a time, the one holding this lock.  A CPU takes it
 * on its way in (a system call, a fault, an interrupt from user mode or
 * from the idle loop's hlt) and lets it go on its way out; a task that
 * sleeps or is preempted keeps it through schedule(), and the task the
 * CPU switches to lets it go when it leaves the kernel.  The lock
 * belongs to the CPU, not to a task.  This is how Linux 2.0 ran on
 * several CPUs (Linux's `lock_kernel`), and it keeps the invariant every
 * other file of the kernel was written with: while a CPU runs the
 * kernel, no other CPU changes the kernel's structures under it.
 *
 * What runs without it: the inter-processor interrupts (TLB shootdowns,
 * calls, drains: kernel/cpu/smp_call.c), which touch only what they
 * were asked to, and the allocators' per-CPU fast paths and their locks
 * (zone->lock, kmem_cache->lock), which are inner to this one.
 *
 * Invariants: at most one CPU holds it; a CPU holds it while it runs a
 * task's kernel code, a kernel thread, or the scheduler; a CPU in user
 * mode or halted in the idle loop does not; interrupts are off while it
 * is held (as the kernel always runs) and while it is awaited, and a CPU
 * awaiting it still answers IPI requests (smp_ipi_poll), so that the
 * holder's shootdowns never wait for a CPU that waits for the holder.
 */
#ifndef KERNEL_KERNEL_LOCK_H
#define KERNEL_KERNEL_LOCK_H

#include <stdbool.h>
#include <stdint.h>

void lock_kernel(void);
void unlock_kernel(void);
/* Does this CPU hold it? */
bool kernel_locked(void);

/* Statistics for /proc/kernel_lock-style reports and tests: acquisitions,
 * and those that found it taken (contended). */
struct kernel_lock_stats {
    uint64_t taken, contended;
};
void kernel_lock_stats(struct kernel_lock_stats *s);

#endif
