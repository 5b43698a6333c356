/*
 * exit and wait4.
 *
 * A task that exits gives back everything it holds at once (its address
 * space: every frame reference and table page; its files; its signal
 * actions and queue) and becomes a zombie: only its slot, its kernel
 * stack and its exit status remain, for its parent's wait4, which frees
 * them.  The parent gets SIGCHLD (kernel/proc/sig_action.c); when it
 * ignores SIGCHLD (SIG_IGN or SA_NOCLDWAIT) nobody will wait, and the
 * zombie is "detached": the kernel frees it itself on the next return to
 * user mode (task_reap_detached).  Its children go to another thread of
 * its process, else to init (pid 1).
 *
 * Threads (docs/threads.md): exit ends the calling thread, exit_group
 * and the fatal signals the process (do_group_exit, in
 * kernel/proc/thread_group.c).  A thread that is not its group's leader
 * is freed by the kernel as soon as it is a zombie (detached) and tells
 * nobody; the leader's parent hears of the process once, when its last
 * thread is out (process_over), with the group's status.  A leader that
 * exits first waits as a zombie that wait4 does not take.  When
 * init itself exits the system has nothing left to do: the kernel says
 * how it ended and powers off (QEMU's exit device), which is also how
 * `make run-elf` learns the program's exit status.
 *
 * wait4 also reports, with WUNTRACED, a child stopped by a signal and,
 * with WCONTINUED, one continued by SIGCONT, once each; it sleeps
 * interruptibly (-ERESTARTSYS: a handler with SA_RESTART restarts it).
 */
#include <kernel/task.h>
#include <kernel/acpi_hw.h>
#include <kernel/syscall.h>
#include <kernel/errno.h>
#include <kernel/smp.h>
#include <kernel/percpu.h>
#include <kernel/file.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/uaccess.h>
#include <kernel/x86.h>
#include <mm/kernel_pt.h>
#include <mm/slab.h>
#include <mm/vma.h>
#include <mm/mempolicy.h>

void mm_release(struct mm *mm)
{
    /* Never free the tables the CPU is on (cpu_switch_mm(NULL) would keep
     * them, lazily). */
    if (read_cr3() == mm_cr3(mm) || this_cpu()->loaded_mm == mm)
        cpu_leave_mm();
    mm_destroy(mm);
    kfree(mm);
}

void task_drop_mm(struct task *t)
{
    struct mm *mm = t->mm;
    t->mm = NULL;
    if (mm && !mm_has_users(mm))   /* CLONE_VM: the last task on it frees it */
        mm_release(mm);
}

static void report_init_end(int status)
{
    if ((status & 0x7f) == 0)
        printk("init: exited with status %d\n", (status >> 8) & 0xff);
    else
        printk("init: killed by signal %d\n", status & 0x7f);
    /* The same exit code scheme as the tests: pass for status 0. */
    /* Then ACPI S5 where there is no isa-debug-exit (kernel/acpi/power.c). */
    machine_power_off(status == 0 ? QEMU_EXIT_PASS : QEMU_EXIT_FAIL);
    for (;;) {
        cli();
        hlt();
    }
}

static int nr_detached;   /* detached zombies not freed yet */

/* Where t's children go: a live thread of its group, else init (Linux's
 * find_new_reaper, without subreapers). */
static void reparent_children(struct task *t)
{
    struct task *init = task_find(1);
    struct task *heir = thread_group_live(t);
    bool orphan_zombie = false;
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *c = task_slot(i);
        if (!c || c->parent != t)
            continue;
        if (heir) {
            c->parent = heir;   /* a threaded reparent: nobody is told */
            continue;
        }
        c->parent = init;
        c->exit_signal = SIGCHLD;   /* as Linux's reparent_leader */
        orphan_zombie |= c->state == TASK_ZOMBIE;
    }
    if (init && orphan_zombie)
        wake_up(init);   /* it now has a zombie to reap */
}

/* The process whose leader is `leader` is over (its last thread has
 * exited): its parent hears of it, with the group's status. */
static void process_over(struct task *leader)
{
    if (leader->group_exit)
        leader->exit_code = leader->group_exit_code;
    if (leader->pid == 1)
        report_init_end(leader->exit_code);
    signal_notify_parent(leader, leader->exit_code);
    if (leader->sig.detached)
        nr_detached++;
}

__noreturn void task_exit(int status)
{
    struct task *t = current;
    clone_exit(t);   /* CLONE_CHILD_CLEARTID, a vfork parent (kernel/proc/fork.c) */
    files_unborrow(t);
    if (t->files) {
        files_close_all(t->files);
        t->files = NULL;
    }
    /* Threads: the mm goes with its last user (task_drop_mm), so a
     * thread that exits leaves the others their memory. */
    task_drop_mm(t);
    signal_hand_over(t);   /* the process's signals parked on us go on waiting */
    signal_release(t);
    mpol_exit(t);   /* the NUMA policy (include/mm/mempolicy.h) */
    t->exit_code = status;
    t->state = TASK_ZOMBIE;
    reparent_children(t);
    struct task *leader = t->group_leader;
    if (leader->group_exit)
        wake_up(&leader->group_exit);   /* a de_thread waiting for us */
    if (leader != t) {
        /* A thread that is not the leader never signals the parent: the
         * kernel frees it (Linux's release_task of a thread), and the
         * last one out ends the process of a zombie leader. */
        t->group_leader = t;
        t->sig.detached = true;
        nr_detached++;
        if (leader->state == TASK_ZOMBIE && !thread_group_others(leader))
            process_over(leader);
    } else if (!thread_group_others(t)) {
        process_over(t);
    }
    schedule();
    panic("a zombie ran again (pid %d)", t->pid);
}

void task_reap_detached(void)
{
    if (!nr_detached)
        return;
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *c = task_slot(i);
        /* current may be one: it is still on its own kernel stack. */
        if (c && c != current && c->state == TASK_ZOMBIE && c->sig.detached) {
            task_reap(c);
            nr_detached--;
        }
    }
}

long sys_exit(const struct sysargs *a)
{
    task_exit(W_EXITCODE((int)a->arg[0]));
}

long sys_exit_group(const struct sysargs *a)
{
    do_group_exit(W_EXITCODE((int)a->arg[0]));   /* every thread (kernel/proc/thread_group.c) */
}

#define WNOHANG    1
#define WUNTRACED  2
#define WCONTINUED 8
#define __WNOTHREAD 0x20000000
#define __WALL      0x40000000
#define __WCLONE    ((int)0x80000000u)

long sys_wait4(const struct sysargs *a)
{
    return do_wait4((int)a->arg[0], a->arg[1], (int)a->arg[2], a->arg[3], 144);
}

/* Is c one of the children pid selects (Linux's four cases)? */
static bool wait_selects(const struct task *c, int pid, int options)
{
    /* The processes (group leaders) whose parent is a thread of ours;
     * with __WNOTHREAD, of this thread only. */
    if (!thread_is_leader(c) || c->sig.detached)
        return false;
    if (c->parent != current && ((options & __WNOTHREAD) || !c->parent ||
                                 c->parent->tgid != current->tgid))
        return false;
    if (pid > 0)
        return c->pid == pid;
    if (pid == 0)
        return c->pgid == current->pgid;
    if (pid < -1)
        return c->pgid == -pid;
    return true;
}

/* What wait4 may report of c now: its status (the child reaped if it is
 * a zombie), or -1. */
static int wait_take(struct task *c, int options)
{
    if (c->state == TASK_ZOMBIE && thread_group_others(c))
        return -1;   /* a leader whose threads still run: not yet (Linux's delay_group_leader) */
    if (c->state == TASK_ZOMBIE) {
        int status = c->exit_code;
        task_reap(c);
        return status;
    }
    if ((options & WUNTRACED) && c->sig.wait_report == WAIT_STOPPED && c->sig.stop_sig) {
        c->sig.wait_report = 0;
        return W_STOPCODE(c->sig.stop_sig);
    }
    if ((options & WCONTINUED) && c->sig.wait_report == WAIT_CONTINUED) {
        c->sig.wait_report = 0;
        return W_CONTINUED;
    }
    return -1;
}

long do_wait4(int pid, uint64_t ustatus, int options, uint64_t urusage, size_t rusage_size)
{
    if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE))
        return -EINVAL;
    if (pid == INT32_MIN)
        return -ESRCH;   /* Linux: -INT_MIN names no group */
    /* A bad status or rusage pointer: -EFAULT once the child is reaped (Linux). */
    for (;;) {
        bool any = false;
        for (int i = 0; i < MAX_TASKS; i++) {
            struct task *c = task_slot(i);
            if (!c || !wait_selects(c, pid, options))
                continue;
            /* A "clone" child (exit signal not SIGCHLD) only with __WCLONE or __WALL. */
            if (!(options & __WALL) && ((c->exit_signal != SIGCHLD) != !!(options & __WCLONE)))
                continue;
            any = true;
            int cpid = c->pid;
            int status = wait_take(c, options);   /* reaped even if the status */
            if (status < 0)                       /* cannot be stored (as Linux) */
                continue;
            if (ustatus && copy_to_user(ustatus, &status, sizeof(status)))
                return -EFAULT;
            if (urusage) {
                uint8_t zero[144] = { 0 };
                if (copy_to_user(urusage, zero, rusage_size))
                    return -EFAULT;
            }
            return cpid;
        }
        if (!any)
            return -ECHILD;
        if (options & WNOHANG)
            return 0;
        int err = sleep_on_intr(current);
        if (err)
            return err;
    }
}
