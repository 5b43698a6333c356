/*
 * TLB shootdown (include/kernel/smp.h, include/mm/tlb.h; docs/smp.md).
 *
 * Each CPU caches translations in its own TLB, and invlpg only empties
 * the TLB of the CPU that runs it.  When the kernel changes a mapping that
 * another CPU may have cached, it must make that CPU flush too: a call on
 * each CPU concerned (kernel/cpu/smp_call.c, an IPI), and the sender waits
 * until each has flushed: only then may the old page be reused.  A range
 * of more than TLB_FLUSH_CEILING pages (33, Linux's
 * tlb_single_page_flush_ceiling) is a full flush, global entries included.
 *
 * Who is concerned: the kernel half concerns every online CPU (mm/tlb.c
 * sends those); a process's range, the CPUs whose CR3 holds its tables,
 * listed in the address space's cpu_mask (Linux's mm_cpumask): the
 * sender flushes itself locally, the others by IPI.  A CPU enters an
 * address space with cpu_switch_mm (the scheduler, exec) or smp_enter_mm
 * (tests: it stays there); mm_destroy has every CPU of the mask leave it
 * first (smp_leave_mm_all).
 *
 * Lazy TLB: the idle task (or a kernel thread) keeps the tables the CPU
 * had (cpu_switch_mm(NULL)); the CPU is then in mm_lazy_cpus, which the
 * flushes of that mm skip (mm_flush_cpus bumps mm->tlb_gen instead), and
 * it flushes everything if it comes back to the mm and finds tlb_gen
 * moved (enter_mm).  Before table pages of the mm are freed, its lazy
 * CPUs leave it (leave_lazy, from mm_tables_freed).
 *
 * Invariants: a CPU's bit is in mm->cpu_mask from before it loads mm's
 * tables into CR3 until after it has loaded others (no PCID: the CR3 load
 * forgets mm's translations), so a flush sent to the mask reaches every
 * CPU that may hold one of them, but for the lazy ones, which run no user
 * code and catch up through tlb_gen; a CPU's bit in mm_lazy_cpus changes
 * under the kernel lock (or on the CPU itself, in a call its holder
 * waits for).
 */
#include <kernel/smp.h>
#include <kernel/errno.h>
#include <kernel/x86.h>
#include <kernel/percpu.h>
#include <mm/kernel_pt.h>
#include <mm/page.h>
#include <mm/tlb.h>
#include <mm/vma.h>
#include <mm/vmalloc.h>
#include <mm/vm_event.h>

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

/* The range being flushed: one request at a time (kernel/cpu/smp_call.c),
 * kept here rather than on the sender's stack, which a CPU that answers
 * after the sender gave up would read. */
static struct { uint64_t va, len; } flushing;

static void flush_here(void *arg)
{
    (void)arg;
    local_flush(flushing.va, flushing.len);
    __atomic_fetch_add(&vm_events[NR_TLB_REMOTE_FLUSH_RECEIVED], 1, __ATOMIC_RELAXED);
}

int smp_tlb_flush_mask(uint64_t mask, uint64_t va, uint64_t len)
{
    if (!(mask & ~(1ul << smp_processor_id())))
        return 0;   /* nobody else */
    count_vm_event(NR_TLB_REMOTE_FLUSH);
    flushing.va = va;
    flushing.len = len;
    return smp_call_mask(mask, flush_here, NULL);
}

int smp_tlb_flush_others(uint64_t va, uint64_t len)
{
    return smp_tlb_flush_mask(~0ul, va, len);
}

/* A read on another CPU, which loads that CPU's TLB (the tests). */
static struct { uint64_t va; volatile uint64_t value; } reading;

static void read_here(void *arg)
{
    (void)arg;
    reading.value = *(volatile const uint64_t *)reading.va;
}

int smp_read_on(unsigned cpu, uint64_t va, uint64_t *value)
{
    reading.va = va;
    reading.value = 0;
    int err = smp_call_on(cpu, read_here, NULL);
    *value = reading.value;
    return err;
}

/* ---- address spaces on this CPU and on others, lazy TLB ---- */

static bool is_lazy(const struct percpu *pc)
{
    return mm_lazy_cpus >> pc->cpu & 1;
}

/* This CPU stops being lazy; true if it was. */
static bool end_lazy(struct percpu *pc)
{
    return __atomic_fetch_and(&mm_lazy_cpus, ~(1ul << pc->cpu), __ATOMIC_SEQ_CST) >> pc->cpu & 1;
}

/* On the CPU itself: load mm's tables, its bit in mm->cpu_mask first
 * (a flush sent from then on reaches this CPU before it can cache
 * anything of mm), and out of the mask of the address space it leaves
 * (its TLB forgets that one with the CR3 load: no PCID).  A lazy CPU
 * coming back to the tables it kept loads nothing, but flushes its TLB
 * if a flush skipped it meanwhile (mm->tlb_gen moved). */
static void enter_mm(void *arg)
{
    struct mm *mm = arg;
    struct percpu *pc = this_cpu();
    struct mm *old = pc->loaded_mm;
    bool was_lazy = end_lazy(pc);
    if (old == mm && read_cr3() == mm_cr3(mm)) {
        if (was_lazy && mm->tlb_gen != pc->lazy_gen) {
            write_cr3(mm_cr3(mm));   /* user entries are not global: all of them go */
            count_vm_event(NR_TLB_LOCAL_FLUSH_ALL);
        }
        return;
    }
    uint64_t me = 1ul << pc->cpu;
    __atomic_fetch_or(&mm->cpu_mask, me, __ATOMIC_SEQ_CST);
    if (read_cr3() != mm_cr3(mm))
        write_cr3(mm_cr3(mm));
    if (old && old != mm)
        __atomic_fetch_and(&old->cpu_mask, ~me, __ATOMIC_SEQ_CST);
    pc->loaded_mm = mm;
}

/* On the CPU itself: back on the kernel's tables if it is on mm's. */
static void leave_mm(void *arg)
{
    struct mm *mm = arg;
    struct percpu *pc = this_cpu();
    if (pc->loaded_mm == mm || read_cr3() == mm_cr3(mm)) {
        write_cr3(kernel_pt.root);
        pc->loaded_mm = NULL;
        end_lazy(pc);
    }
    __atomic_fetch_and(&mm->cpu_mask, ~(1ul << pc->cpu), __ATOMIC_SEQ_CST);
}

/* The scheduler, under the kernel lock: mm NULL is the idle task (or a
 * kernel thread), which keeps the tables it finds and goes lazy. */
void cpu_switch_mm(struct mm *mm)
{
    struct percpu *pc = this_cpu();
    if (mm) {
        enter_mm(mm);
    } else if (pc->loaded_mm && !is_lazy(pc)) {
        pc->lazy_gen = pc->loaded_mm->tlb_gen;
        __atomic_fetch_or(&mm_lazy_cpus, 1ul << pc->cpu, __ATOMIC_SEQ_CST);
    }
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
    if (this_cpu()->loaded_mm == mm || read_cr3() == mm_cr3(mm))
        leave_mm(mm);
    smp_call_mask(mm->cpu_mask, leave_mm, mm);   /* the others, all at once */
    /* A CPU that did not answer within a second is given up (said once):
     * it may still have the tables in CR3, but a CPU that stalls that long
     * with interrupts off is lost anyway. */
    mm->cpu_mask = 0;
}

/* Tables of mm are about to be freed: its lazy CPUs (in mask) leave it. */
static void leave_lazy(struct mm *mm, uint64_t mask)
{
    if (smp_call_mask(mask, leave_mm, mm))
        mm_flush_timeouts++;   /* a CPU may still walk them: see include/mm/vma.h */
}

void cpu_leave_mm(void)
{
    struct mm *mm = this_cpu()->loaded_mm;
    if (mm)
        leave_mm(mm);
    else if (read_cr3() != kernel_pt.root)
        write_cr3(kernel_pt.root);
}

static void mm_remote_flush(uint64_t mask, uint64_t va, uint64_t len)
{
    if (smp_tlb_flush_mask(mask, va, len))
        mm_flush_timeouts++;   /* a CPU may keep a stale entry: see include/mm/vma.h */
}

static void remote_flush(uint64_t va, uint64_t len)
{
    smp_tlb_flush_others(va, len);
}

void tlb_mm_init(void)
{
    mm_leave_cpus = smp_leave_mm_all;
    mm_leave_lazy_cpus = leave_lazy;
}

void tlb_shootdown_init(void)
{
    tlb_remote_flush = remote_flush;
    mm_tlb_flush_cpus = mm_remote_flush;
    vmalloc_lazy_init(nr_cpus_online);   /* vfree's flushes batched (lazy purge) */
}
