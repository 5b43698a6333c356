/*
 * Thread groups: the tasks that make one process (docs/threads.md).
 *
 * clone(CLONE_THREAD) makes a task of the caller's group: same tgid (what
 * getpid answers), its own pid (gettid), the same parent.  The group's
 * first task, its leader, has pid == tgid.  What the threads share comes
 * from the other flags pthread_create passes with CLONE_THREAD: the
 * address space (CLONE_VM), the signal actions (CLONE_SIGHAND), the
 * descriptor table (CLONE_FILES), the working directory and umask
 * (CLONE_FS).  Each thread keeps its own registers, kernel stack, signal
 * mask and pending signals, and its thread pointer.
 *
 * Invariants:
 *  - a task's tgid is its leader's pid, and group_leader points to the
 *    leader, for every task that is not a zombie; a zombie thread that is
 *    not the leader points to itself (the leader may be freed before the
 *    kernel frees it: task_reap_detached);
 *  - the leader is freed last: a zombie leader is not reaped (wait4,
 *    detached) while thread_group_others says a thread runs, and its
 *    parent hears of the process only then (kernel/proc/exit.c);
 *  - leader->group_exit is set once the group is ending (exit_group, a
 *    fatal signal, execve from a thread): every other thread has SIGKILL
 *    queued, and whoever takes it leaves with leader->group_exit_code.
 *
 * Under the kernel lock (include/kernel/kernel_lock.h): the loops over
 * the task table need no lock of their own, and a thread in the kernel
 * is never interrupted there by another of its group.  The same holds
 * for the memory the threads share: a page fault of one thread runs to
 * its end before another thread, on any CPU, can munmap or mprotect.
 * Threads of one group do run in user mode on several CPUs at once: a
 * change of their tables is flushed from every CPU in the address
 * space's cpu_mask (docs/threads.md, docs/smp.md).
 */
#include <kernel/errno.h>
#include <kernel/signal.h>
#include <kernel/task.h>

static bool same_group(const struct task *a, const struct task *b)
{
    return a->tgid == b->tgid;
}

bool thread_group_others(const struct task *t)
{
    return thread_group_live(t) != NULL;
}

struct task *thread_group_live(const struct task *t)
{
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *o = task_slot(i);
        if (o && o != t && same_group(o, t) && o->state != TASK_ZOMBIE)
            return o;
    }
    return NULL;
}

int thread_group_count(const struct task *t)
{
    int n = 0;
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *o = task_slot(i);
        if (o && same_group(o, t) && (o->state != TASK_ZOMBIE || thread_is_leader(o)))
            n++;
    }
    return n;
}

/* SIGKILL to every other live thread of current's group, past init's
 * protection (the group itself is ending: init's threads too). */
static void zap_other_threads(void)
{
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *o = task_slot(i);
        if (o && o != current && same_group(o, current) && o->state != TASK_ZOMBIE)
            send_signal_force(o, SIGKILL);
    }
}

__noreturn void do_group_exit(int status)
{
    struct task *leader = current->group_leader;
    if (leader->group_exit) {
        status = leader->group_exit_code;   /* the first one to ask decides */
    } else {
        /* Set even by the last thread of a zombie leader: the process
         * ends with this status, not the leader's own exit's. */
        leader->group_exit = true;
        leader->group_exit_code = status;
        zap_other_threads();
    }
    task_exit(status);
}

int de_thread(struct task *t)
{
    struct task *leader = t->group_leader;
    if (!thread_group_others(t) && leader == t)
        return 0;
    if (leader->group_exit)
        return -EAGAIN;   /* the group is being killed: so are we */
    leader->group_exit = true;
    leader->group_exit_code = W_SIGNALED(SIGKILL);
    zap_other_threads();
    /* Each thread that exits wakes us (kernel/proc/exit.c).  The sleep
     * is uninterruptible, as Linux's: a SIGKILL for us waits for the
     * return to user mode. */
    while (thread_group_others(t))
        sleep_on(&leader->group_exit);
    if (leader != t) {
        /* The leader is a zombie its parent has not heard of: the caller
         * takes its place and its pid (Linux's de_thread). */
        t->pid = leader->pid;
        t->parent = leader->parent;
        t->exit_signal = SIGCHLD;
        t->start_tick = leader->start_tick;
        t->pgid = leader->pgid;
        t->sid = leader->sid;
        t->utime_ticks += leader->utime_ticks;
        t->stime_ticks += leader->stime_ticks;
        leader->group_leader = leader;
        task_reap(leader);
        t->group_leader = t;
    }
    t->group_exit = false;
    t->group_exit_code = 0;
    return 0;
}

/* Would o take sig now (Linux's wants_signal, without the CPU test)? */
static bool wants_signal(const struct task *o, int sig)
{
    if (o->state == TASK_ZOMBIE || !o->sig.hand)
        return false;
    return sig == SIGKILL || !(o->sig.blocked & sigmask(sig));
}

struct task *signal_target(struct task *t, int sig)
{
    if (wants_signal(t, sig))
        return t;
    struct task *any_live = NULL;
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *o = task_slot(i);
        if (!o || o == t || !same_group(o, t))
            continue;
        if (wants_signal(o, sig))
            return o;
        if (o->state != TASK_ZOMBIE && !any_live)
            any_live = o;
    }
    /* Everybody blocks it: it waits on t (or, t being a zombie leader,
     * on a live thread), and the first thread that unblocks it or waits
     * for it takes it over (signal_claim_shared, kernel/proc/signal.c):
     * what Linux's queue of the process gives. */
    return t->state == TASK_ZOMBIE && any_live ? any_live : t;
}
