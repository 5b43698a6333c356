/*
 * Tasks and the round-robin scheduler, on every CPU.
 *
 * One run queue for all CPUs, under the big kernel lock
 * (include/kernel/kernel_lock.h): whichever CPU schedules takes the task
 * at its head, so a runnable task waits for the first CPU that gets free
 * and the load spreads by itself (Linux 2.4's single run queue did the
 * same).  Each CPU has its own idle task, which runs when the queue is
 * empty and halts the CPU with the kernel lock let go.
 *
 * Invariants:
 *  - `current` is the task whose kernel stack this CPU is on (per-CPU
 *    data); TSS.RSP0 and this CPU's percpu.kernel_rsp point to the top
 *    of that stack, and CR3 holds current->mm's tables, this CPU's bit
 *    set in that mm's cpu_mask (for an idle task or a kernel thread:
 *    the tables the CPU had, kept lazily, its bit in mm_lazy_cpus too,
 *    or the kernel's own);
 *  - a task is `current` on at most one CPU; a RUNNABLE task that is no
 *    CPU's current is on the run queue exactly once; BLOCKED and ZOMBIE
 *    tasks are not on it;
 *  - the kernel runs with interrupts off and the kernel lock held; they
 *    are on only in user mode and in the idle loop's hlt, where the lock
 *    is not held; everything here is under the kernel lock.
 *
 * Threads are tasks too: each has its own slot, pid, kernel stack and
 * place on the run queue, and takes its turn like any task; those of one
 * process share its mm (kernel/proc/thread_group.c).
 *
 * A task that has never run has, just below its trap frame, the frame
 * switch_to pops: six zero registers and the address of ret_from_fork
 * (kernel/cpu/isr.S), so its first switch "returns" straight into user
 * mode, letting the kernel lock go on the way.
 */
#include <kernel/spinlock.h>
#include <kernel/apic.h>
#include <kernel/syscall.h>
#include <kernel/kernel_lock.h>
#include <kernel/smp.h>
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/kstat.h>
#include <kernel/memview.h>
#include <mm/vmscan.h>
#include <kernel/percpu.h>
#include <kernel/task.h>
#include <kernel/signal.h>
#include <compat32/compat32.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include <mm/kernel_pt.h>
#include <mm/slab.h>
#include <mm/vma.h>
#include <mm/vmalloc.h>
#include <mm/mempolicy.h>

static struct task idle_tasks[NR_CPUS];
static struct task *tasks[MAX_TASKS];
static struct task *runq_head, *runq_tail;
static struct kmem_cache *task_cache;
static uint64_t ticks;
static int next_pid = 1;
static uint64_t nr_forks;

#define SLICE_TICKS 5   /* 50 ms at HZ = 100 */

extern const char ret_from_fork[];
void switch_to(uint64_t *save_rsp, uint64_t new_rsp);

void task_fpu_reset(struct task *t)
{
    memset(t->fpu, 0, sizeof(t->fpu));
    t->fpu[0] = 0x7f;   /* FCW 0x037f: all x87 exceptions masked, 64-bit precision */
    t->fpu[1] = 0x03;
    t->fpu[24] = 0x80;  /* MXCSR 0x1f80: all SSE exceptions masked, round to nearest */
    t->fpu[25] = 0x1f;
}

void task_fpu_save(struct task *t)
{
    __asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[512])t->fpu));
}

static void fpu_restore(const struct task *t)
{
    __asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t(*)[512])t->fpu));
}

/* What each CPU needs before it runs a user task: SSE for the programs
 * (OSFXSR and OSXMMEXCPT on, no emulation), and the system-call MSRs. */
static void task_cpu_setup(void)
{
    write_cr4(read_cr4() | (1ul << 9) | (1ul << 10));
    write_cr0((read_cr0() & ~(1ul << 2)) | (1ul << 1));
    syscall_init();
}

void task_init(void)
{
    task_cpu_setup();
    /* 64-byte aligned: fxsave needs the fpu area 16-byte aligned, slab_debug too */
    task_cache = kmem_cache_create("task_struct", sizeof(struct task), 64, SLAB_HWCACHE_ALIGN,
                                   NULL);
    if (!task_cache)
        panic("task_init: no cache for tasks");
    task_idle_init(0);   /* the boot CPU took the kernel lock in kmain */
}

void task_idle_init(unsigned cpu)
{
    struct task *idle = &idle_tasks[cpu];
    snprintf(idle->name, sizeof(idle->name), "idle/%u", cpu);
    idle->state = TASK_RUNNABLE;
    this_cpu()->idle = idle;
    this_cpu()->task = idle;
}


uint64_t ticks_now(void)
{
    return ticks;
}

struct task *task_find(int pid)
{
    for (int i = 0; i < MAX_TASKS; i++)
        if (tasks[i] && tasks[i]->pid == pid)
            return tasks[i];
    return NULL;
}

struct task *task_slot(int i)
{
    return i >= 0 && i < MAX_TASKS ? tasks[i] : NULL;
}

int task_last_pid(void)
{
    return next_pid - 1;
}

uint64_t task_forks(void)
{
    return nr_forks;
}

int task_count(void)
{
    int n = 0;
    for (int i = 0; i < MAX_TASKS; i++)
        n += tasks[i] != NULL;
    return n;
}

struct task *task_alloc(const char *name, int *err)
{
    int slot = -1, dummy;
    if (!err)
        err = &dummy;
    for (int i = 0; i < MAX_TASKS && slot < 0; i++)
        if (!tasks[i])
            slot = i;
    *err = -EAGAIN;
    if (slot < 0)
        return NULL;
    *err = -ENOMEM;
    struct task *t = kmem_cache_alloc(task_cache, __GFP_ZERO);
    if (!t)
        return NULL;
    strlcpy(t->name, name, TASK_NAME_MAX);
    t->kstack = vmalloc_stack(KSTACK_SIZE, t->name);
    if (!t->kstack) {
        kmem_cache_free(task_cache, t);
        return NULL;
    }
    /* current's signal actions and mask (fork's rule; the first task's
     * are all SIG_DFL): kernel/proc/sig_action.c. */
    if (signal_fork(t)) {
        vfree_stack(t->kstack);
        kmem_cache_free(task_cache, t);
        return NULL;
    }
    *err = 0;
    memset(task_frame(t), 0, sizeof(struct trap_frame));
    task_fpu_reset(t);
    uint64_t *sp = (uint64_t *)task_frame(t);
    *--sp = (uint64_t)ret_from_fork;
    for (int i = 0; i < 6; i++)
        *--sp = 0;
    t->saved_rsp = (uint64_t)sp;
    t->pid = next_pid++;
    t->tgid = t->pid;            /* a process of its own; clone's CLONE_THREAD joins a group */
    t->group_leader = t;
    t->start_tick = ticks;
    t->pgid = t->sid = t->pid;   /* fork overwrites with the parent's */
    t->state = TASK_BLOCKED;
    t->last_cpu = -1;
    tasks[slot] = t;
    return t;
}

void task_kick(struct task *t)
{
    int c = t->last_cpu;
    if (c >= 0 && (unsigned)c != smp_processor_id() && percpu[c].task == t)
        smp_send_ipi(cpu_info[c].apic_id, 0x4000u | VEC_RESCHEDULE);
}

static void kick(unsigned cpu)
{
    percpu[cpu].halted = false;
    smp_send_ipi(cpu_info[cpu].apic_id, 0x4000u | VEC_RESCHEDULE);
}

/* A CPU halted in its idle loop is sent a wake-up (VEC_RESCHEDULE), so
 * that t need not wait for that CPU's next tick: the CPU t ran on last
 * if it is halted (its caches, and QEMU's software TLB, may still hold
 * t's memory), else any halted one. */
static void kick_idle_cpu(const struct task *t)
{
    unsigned me = smp_processor_id();
    /* A synchronous wake-up (Linux's WF_SYNC): the waker is exiting, so
     * this CPU schedules within microseconds; if t is the only task
     * queued, this CPU takes it, and waking another would only have two
     * CPUs race for it (an exiting child waking its parent in wait4). */
    if (t && current->state == TASK_ZOMBIE && runq_head == t && runq_tail == t)
        return;
    if (t && t->last_cpu >= 0 && (unsigned)t->last_cpu != me && percpu[t->last_cpu].halted) {
        kick((unsigned)t->last_cpu);
        return;
    }
    for (unsigned i = 0; i < nr_cpus_possible; i++)
        if (i != me && cpu_info[i].online && percpu[i].halted) {
            kick(i);
            return;
        }
}

static void enqueue(struct task *t)
{
    t->run_next = NULL;
    if (runq_tail)
        runq_tail->run_next = t;
    else
        runq_head = t;
    runq_tail = t;
}

/* The task at the head: first come, first served.  Affinity comes
 * from the wake-up (kick_idle_cpu sends it to the task's last CPU, which
 * then queues first for the kernel lock); picking a task further down
 * for it would let a newer one pass a task that never ran, forever. */
static struct task *dequeue(void)
{
    struct task *t = runq_head;
    if (t) {
        runq_head = t->run_next;
        if (!runq_head)
            runq_tail = NULL;
        t->run_next = NULL;
    }
    return t;
}

/* A blocked (or new) task becomes runnable: no longer waiting, queued. */
static void make_runnable(struct task *t)
{
    t->wake_tick = 0;
    t->wait_chan = NULL;
    t->state = TASK_RUNNABLE;
    enqueue(t);
}

void task_start(struct task *t)
{
    nr_forks++;
    make_runnable(t);
    kick_idle_cpu(t);
}

static void switch_mm_and_stack(struct task *next)
{
    uint64_t top = next->kstack ? (uint64_t)next->kstack + KSTACK_SIZE : 0;
    if (top) {
        tss_set_rsp0(top);
        this_cpu()->kernel_rsp = top;
    }
    /* A task with an address space: its tables, this CPU's bit in its
     * cpu_mask.  An idle task or a kernel thread: the tables the CPU has,
     * kept lazily (Linux's lazy TLB): the flushes of that address space
     * skip this CPU, which flushes if it comes back to it and one was
     * skipped (docs/smp.md). */
    cpu_switch_mm(next->mm);
    /* The segment registers (a 32-bit program's TLS in GS), then the
     * thread pointer of arch_prctl: loading FS has just set the FS base,
     * from the descriptor when FS holds a selector (the base that stays),
     * to the task's own fs_base otherwise. */
    tls_switch_in(next);
    if ((read_seg(2) & ~3) == 0)
        wrmsr(MSR_FS_BASE, next->fs_base);
    /* A null GS selector leaves the old hidden base on AMD CPUs (Linux's
     * X86_BUG_NULL_SEG): clear it, or the previous task's thread pointer
     * would show through %gs (nobody sets a GS base otherwise).  The
     * user's GS base waits in MSR_KERNEL_GS_BASE while the kernel runs
     * (include/kernel/percpu.h). */
    if ((read_seg(3) & ~3) == 0)
        wrmsr(MSR_KERNEL_GS_BASE, 0);
}

void schedule(void)
{
    lockdep_might_sleep("schedule");   /* no spinlock may be held here */
    struct percpu *pc = this_cpu();
    struct task *prev = pc->task, *idle = pc->idle;
    if (prev != idle && prev->state == TASK_RUNNABLE)
        enqueue(prev);
    struct task *next = dequeue();
    if (!next)
        next = idle;
    next->last_cpu = (int)smp_processor_id();
    pc->slice_end = ticks + SLICE_TICKS;
    if (next == prev)
        return;
    /* Each task's SSE/x87 registers are its own: save the outgoing
     * task's, load the incoming one's (the kernel never uses them). */
    if (prev != idle && prev->state != TASK_ZOMBIE)
        task_fpu_save(prev);
    tls_switch_out(prev);   /* its DS, ES, FS, GS selectors */
    if (next != idle)
        fpu_restore(next);
    pc->task = next;
    switch_mm_and_stack(next);
    switch_to(&prev->saved_rsp, next->saved_rsp);
}

/* Uninterruptible: only wake_up(chan) (or wake_up_task) ends it.  A
 * sleep a signal may end is sleep_on_intr (kernel/proc/signal.c). */
void sleep_on(void *chan)
{
    current->state = TASK_BLOCKED;
    current->wait_chan = chan;
    schedule();
}

void wake_up_task(struct task *t)
{
    if (t->state == TASK_BLOCKED) {
        make_runnable(t);
        kick_idle_cpu(t);
    }
}

void wake_up(void *chan)
{
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = tasks[i];
        if (t && t->state == TASK_BLOCKED && t->wait_chan == chan) {
            make_runnable(t);
            kick_idle_cpu(t);
        }
    }
}

/* The tick of an AP halted in its idle loop, without the kernel lock:
 * only this CPU's idle time to count.  False when the tick needs the
 * lock (the boot CPU, which counts time and wakes sleepers; a CPU that
 * runs a task). */
bool task_tick_idle(void)
{
    struct percpu *pc = this_cpu();
    if (pc->cpu == 0 || !pc->halted || pc->task != pc->idle)
        return false;
    kstat_tick(false, true);
    return true;
}

/* Every CPU's timer; the boot CPU's alone counts the time (ticks) and
 * wakes the sleepers whose time has come. */
void task_tick(bool from_user)
{
    struct task *cur = current;
    bool idle = cur == this_cpu()->idle, boot = smp_processor_id() == 0;
    if (boot)
        ticks++;
    /* user or system: a tick that waited in the kernel is system time
     * (kernel/fs/proc_kstat.c); also /proc/stat's and /proc/loadavg's */
    bool user = kstat_tick(from_user, idle);
    if (!idle) {
        if (user)
            cur->utime_ticks++;
        else
            cur->stime_ticks++;
    }
    if (!boot)
        return;
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = tasks[i];
        if (t && t->state == TASK_BLOCKED && t->wake_tick && ticks >= t->wake_tick) {
            make_runnable(t);
            kick_idle_cpu(t);
        }
    }
}

void task_return_to_user(void)
{
    files_unborrow(current);   /* what the system call used from a shared table */
    if (ticks >= this_cpu()->slice_end && runq_head)
        schedule();
    task_reap_detached();
    /* Pending signals: a handler's frame, a default action (which may
     * end or stop the task), a system call restarted or failed with
     * EINTR (kernel/proc/sig_deliver.c). */
    signal_deliver(task_frame(current));
    kstat_user_return();   /* from here on, a tick is the task's user time */
}

void task_reap(struct task *t)
{
    signal_release(t);   /* a task that never ran still holds its actions */
    mpol_exit(t);        /* and its NUMA policy */
    for (int i = 0; i < MAX_TASKS; i++)
        if (tasks[i] == t)
            tasks[i] = NULL;
    vfree_stack(t->kstack);
    kmem_cache_free(task_cache, t);
}

/* The idle task, entered with the kernel lock held: run whatever is
 * runnable; otherwise let the lock go and wait for an interrupt (whose
 * handler takes the lock for itself, kernel/cpu/trap.c). */
__noreturn void idle_loop(void)
{
    for (;;) {
        schedule();
        if (!runq_head) {
            struct percpu *pc = this_cpu();
            pc->halted = true;
            unlock_kernel();
            /* An AP halts again after a tick (counted without the lock)
             * while nobody kicked it and the queue looks empty (a read
             * without the lock: a task queued meanwhile is seen at the
             * next tick at worst).  The boot CPU's ticks need the lock
             * anyway (time, sleepers), and it polls the memory map. */
            do {
                sti();
                hlt();
                cli();
            } while (pc->cpu != 0 && pc->halted && !__atomic_load_n(&runq_head, __ATOMIC_RELAXED));
            pc->halted = false;
            lock_kernel();
            if (pc->cpu == 0)
                memview_poll();   /* F12, and the memory map's redraws (docs/memview.md) */
        }
    }
}

/* ---- the other CPUs join (kernel/cpu/smpboot.c) ---- */

static volatile bool aps_schedule;

static void nothing(void *arg)
{
    (void)arg;
}

void task_start_aps(void)
{
    aps_schedule = true;
    for (unsigned i = 1; i < nr_cpus_possible; i++)
        if (cpu_info[i].online)
            smp_call_on(i, nothing, NULL);   /* out of its hlt, to see the flag */
}

bool task_aps_may_schedule(void)
{
    return aps_schedule;
}

/* An AP, on its own stack, once task_start_aps said so: its idle task,
 * its timer, the kernel lock, and the idle loop. */
__noreturn void task_ap_idle(void)
{
    task_cpu_setup();
    task_idle_init(smp_processor_id());
    apic_timer_start();
    lock_kernel();
    idle_loop();
}
