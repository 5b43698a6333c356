/*
 * Per-CPU data through GS (include/kernel/percpu.h; docs/smp.md).
 *
 * Invariant: percpu[i] is CPU i's from the moment percpu_init(i) ran on
 * it; its layout is the one isr.S's offsets name (checked below).
 */
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/x86.h>

_Static_assert(__builtin_offsetof(struct percpu, user_rsp) == PERCPU_USER_RSP &&
                   __builtin_offsetof(struct percpu, kernel_rsp) == PERCPU_KERNEL_RSP &&
                   __builtin_offsetof(struct percpu, cpu) == PERCPU_CPU &&
                   __builtin_offsetof(struct percpu, task) == PERCPU_TASK,
               "isr.S reaches these fields by their offsets");

struct percpu percpu[NR_CPUS];

void percpu_init(unsigned cpu)
{
    struct percpu *p = &percpu[cpu];
    p->self = p;
    p->cpu = cpu;
    wrmsr(MSR_GS_BASE, (uint64_t)p);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
}
