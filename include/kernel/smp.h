/*
 * Several CPUs: the ones the ACPI MADT lists, started by the boot CPU
 * (kernel/cpu/smpboot.c; docs/smp.md); calls on other CPUs by IPI
 * (kernel/cpu/smp_call.c) and their users: TLB shootdown
 * (kernel/cpu/tlb_shootdown.c) and the drain of per-CPU caches
 * (kernel/cpu/smp_drain.c).
 *
 * The application processors (APs) start on their own stack, GDT and TSS,
 * say they are alive, and answer calls; just before init they join the
 * scheduler (kernel/proc/task.c).
 */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

/* The trampoline page's data (kernel/cpu/trampoline.S), offsets from its
 * start: the code lies below TR_DATA. */
#define TR_DATA   0xf00
#define TR_GDT    0xf00   /* 4 descriptors: null, code32, data32, code64 */
#define TR_GDTR   0xf20   /* limit (16 bits), base (32) */
#define TR_FAR32  0xf28   /* offset (32), selector (16): the jump to 32-bit code */
#define TR_FAR64  0xf30   /* the same for the 64-bit code */
#define TR_CR4    0xf38
#define TR_CR3    0xf3c   /* the bring-up root, below 4 GiB */
#define TR_EFER   0xf40   /* bits to set in EFER */
#define TR_STACK  0xf48
#define TR_ENTRY  0xf50
#define TR_ARG    0xf58
#define TR_FLAGS  0xf60   /* bit 0: an Intel CPU (clear IA32_MISC_ENABLE.XD_DISABLE) */

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define NR_CPUS 64

/* What the kernel knows of a CPU. */
struct cpu_info {
    unsigned cpu;            /* index: 0 is the boot CPU */
    uint32_t apic_id;
    bool online;             /* it reached the kernel and answers */
    uint64_t stack_top;      /* its kernel stack */
    uint64_t started_tsc;    /* TSC when it said it was alive */
};

extern struct cpu_info cpu_info[NR_CPUS];
extern unsigned nr_cpus_possible;    /* CPUs the MADT lists (enabled), at most NR_CPUS */
extern unsigned nr_cpus_online;

/*
 * Start every CPU the MADT lists besides this one: INIT, then up to two
 * startup IPIs, each AP given up to 1 s to say it is alive; one that
 * does not is left out with a line.  Call once, after apic_init (it
 * needs the local APIC and the TSC rate).  smp=off on the command line
 * (or smp=1) leaves them parked in the firmware.
 */
void smp_boot(void);
/* Take the page below 1 MiB the startup IPI will point to, early, before
 * the allocator hands low frames to anyone else (mem_init calls it). */
void smp_reserve_trampoline(void);

/* An IPI through the local APIC's ICR (low word lo: vector and mode) to
 * APIC id dest: false when the APIC never took it. */
bool smp_send_ipi(uint32_t dest, uint32_t lo);
/* This CPU's index: smp_processor_id() (include/kernel/percpu.h). */

/* ---- calls on other CPUs (kernel/cpu/smp_call.c) ---- */
#define VEC_CALL_FUNCTION 0xf1
/* A wake-up for a CPU halted in its idle loop (kernel/proc/task.c): the
 * handler only acknowledges it; the idle loop then finds the task. */
#define VEC_RESCHEDULE 0xf2
/* The IPI's handler, on the CPU that received it (trap_dispatch). */
void smp_call_interrupt(void);
/* This CPU's part of the request in flight, if any and not done yet:
 * what the handler does, polled by a CPU that waits for the kernel lock
 * (include/kernel/kernel_lock.h) with its interrupts off. */
void smp_ipi_poll(void);
/* Run fn(arg) on each online CPU of mask but this one (bit i:
 * cpu_info[i]), in its interrupt handler (interrupts off, on its own
 * stack), and wait for every one to return: 0 (nobody else: at once), or
 * -ETIMEDOUT (a CPU did not answer within a second; said once).  fn must
 * be short and must not sleep or send IPIs. */
int smp_call_mask(uint64_t mask, void (*fn)(void *), void *arg);
/* The same on one CPU: 0, -ENODEV (not online, the calling CPU, or no
 * fn), -ETIMEDOUT. */
int smp_call_on(unsigned cpu, void (*fn)(void *), void *arg);
/* Start fn(arg) on CPU cpu and return once it has begun, not finished:
 * the caller learns of its end through arg.  fn runs with interrupts off
 * on that CPU, so until it returns that CPU answers no IPI: no TLB
 * shootdown or call may be sent to it meanwhile (they would wait a
 * second and be given up).  For the SMP tests and benchmarks: 0,
 * -ENODEV, -ETIMEDOUT. */
int smp_call_start(unsigned cpu, void (*fn)(void *), void *arg);

/* ---- the other CPUs' per-CPU caches (kernel/cpu/smp_drain.c) ---- */
/* drain_pcp reaches the other online CPUs from now on. */
void smp_drain_init(void);

/* ---- TLB shootdown (kernel/cpu/tlb_shootdown.c) ---- */
/* Address spaces entered and left (mm_leave_cpus, mm_leave_lazy_cpus),
 * whatever the number of CPUs: smp_boot calls it first. */
void tlb_mm_init(void);
/* Start sending flushes to the other CPUs: the kernel half's
 * (tlb_remote_flush) and address spaces' (mm_tlb_flush_cpus). */
void tlb_shootdown_init(void);
/* Have CPU cpu read the 8 bytes at kernel address va (loading its TLB):
 * 0 and the value, or -ENODEV (not online), -ETIMEDOUT.  For tests. */
int smp_read_on(unsigned cpu, uint64_t va, uint64_t *value);
/* Flush the kernel range [va, va + len) (len 0: everything) on every
 * other online CPU and wait for them: 0, or -ETIMEDOUT (a CPU did not
 * answer within a second; said once). */
int smp_tlb_flush_others(uint64_t va, uint64_t len);
/* The same on the online CPUs of mask only (bit i: cpu_info[i]; the
 * calling CPU's bit is ignored): what a flush of an address space will send to
 * the CPUs that may hold it. */
int smp_tlb_flush_mask(uint64_t mask, uint64_t va, uint64_t len);
struct mm;
/* Have CPU cpu load mm's tables and stay on them as if it ran a thread
 * of mm (not lazy), its bit set in mm->cpu_mask (the tests): 0, or
 * smp_call_on's error (the calling CPU: at once). */
int smp_enter_mm(unsigned cpu, struct mm *mm);
/* This CPU onto mm's tables (the scheduler, exec), its bit in
 * mm->cpu_mask and out of the previous one's; a lazy CPU coming back to
 * the tables it kept flushes its TLB if a flush skipped it.  NULL (the
 * idle task, a kernel thread): the tables loaded stay, lazily, this CPU's
 * bit in mm_lazy_cpus (include/mm/vma.h). */
void cpu_switch_mm(struct mm *mm);
/* This CPU back on the kernel's tables, out of the mask of the address
 * space it had loaded, lazily or not (before its tables are freed). */
void cpu_leave_mm(void);
/* Every CPU of mm->cpu_mask, this one included, back on the kernel's
 * tables, the mask cleared (mm_leave_cpus, before mm_destroy frees a
 * table). */
void smp_leave_mm_all(struct mm *mm);
#endif

#endif
