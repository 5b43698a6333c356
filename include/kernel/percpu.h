/*
 * Per-CPU data through GS (kernel/cpu/percpu.c; docs/smp.md, "Per-CPU
 * data").
 *
 * Each CPU has a struct percpu, and while it runs the kernel its GS base
 * (MSR_GS_BASE) points to it, so `%gs:offset` reaches this CPU's copy in
 * one instruction, with no need to know which CPU this is.  User mode
 * has a GS of its own (a 32-bit program's TLS), so every entry from user
 * mode (interrupt, exception, int 0x80, syscall) starts with `swapgs`,
 * which exchanges MSR_GS_BASE with MSR_KERNEL_GS_BASE, and every return
 * to user mode ends with one (kernel/cpu/isr.S): while the kernel runs,
 * the user's GS base waits in MSR_KERNEL_GS_BASE.  This is what Linux
 * does on x86-64.
 *
 * Invariants: in kernel mode, MSR_GS_BASE is &percpu[this CPU] and
 * percpu[i].self == &percpu[i]; the kernel never loads GS for itself, and
 * loading a user's GS selector (load_seg(3, ...)) goes through a swapgs
 * pair, so that the selector's base lands in MSR_KERNEL_GS_BASE.
 */
#ifndef KERNEL_PERCPU_H
#define KERNEL_PERCPU_H

/* The fields isr.S reaches (checked in kernel/cpu/percpu.c). */
#define PERCPU_USER_RSP   8
#define PERCPU_KERNEL_RSP 16
#define PERCPU_CPU        24
#define PERCPU_TASK       32

#ifndef __ASSEMBLER__
#include <kernel/types.h>

struct percpu {
    struct percpu *self;    /* %gs:0: the structure's own address */
    uint64_t user_rsp;      /* %gs:8: the syscall entry's scratch */
    uint64_t kernel_rsp;    /* %gs:16: the running task's kernel stack top */
    unsigned cpu;           /* %gs:24: the index in cpu_info */
    struct task *task;      /* %gs:32: the task this CPU runs (`current`) */
    struct task *idle;      /* this CPU's idle task (kernel/proc/task.c) */
    uint64_t slice_end;     /* the tick at which current's time slice ends */
    uint64_t user_return_ns; /* the last return to user mode (kernel/fs/proc_kstat.c) */
    volatile bool halted;   /* in the idle loop's hlt: a wake-up IPI is wanted */
    void *tables;           /* this CPU's GDT and TSS (kernel/cpu/gdt.c) */
    struct mm *loaded_mm;   /* the address space whose tables CR3 holds, NULL: the kernel's
                             * tables (kernel/cpu/tlb_shootdown.c) */
    uint64_t lazy_gen;      /* loaded_mm->tlb_gen when it went lazy (its bit in
                             * mm_lazy_cpus: idle, keeping loaded_mm's tables) */
};

extern struct percpu percpu[];

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(p));
    return p;
}

/* This CPU's index (0: the boot CPU), in one instruction. */
static inline unsigned smp_processor_id(void)
{
    unsigned c;
    __asm__ volatile("movl %%gs:%c1, %0" : "=r"(c) : "i"(PERCPU_CPU));
    return c;
}

/* The task this CPU runs, in one instruction.  Not volatile: a task that
 * reads it twice gets itself both times, even when it moved to another
 * CPU in between. */
struct task;
static inline struct task *get_current(void)
{
    struct task *t;
    __asm__("movq %%gs:%c1, %0" : "=r"(t) : "i"(PERCPU_TASK));
    return t;
}

/* Point this CPU's GS base at percpu[cpu] (and the user's at 0): the
 * boot CPU in kmain before anything can use it, each AP in ap_start. */
void percpu_init(unsigned cpu);

#endif /* __ASSEMBLER__ */
#endif
