/*
 * Signals, the delivering half: what happens on every return to user
 * mode (signal_deliver, called by task_return_to_user), in Linux's order
 * (arch_do_signal_or_restart, get_signal, handle_signal):
 *
 *  1. take the pending signals the task does not block, one at a time,
 *     a fault's first, then the lowest number; each is ignored, or its
 *     default action is taken (end the process, with the core flag or
 *     not; stop it until SIGCONT; nothing), or it has a handler;
 *  2. a system call interrupted by the signal (its result a restart code
 *     of include/kernel/errno.h) fails with -EINTR or is set to run again
 *     (RIP back over the 2-byte `syscall` or `int 0x80`, RAX = the
 *     number it had at entry): with a handler, ERESTARTSYS restarts only
 *     with SA_RESTART, ERESTARTNOINTR always, ERESTARTNOHAND and
 *     ERESTART_RESTARTBLOCK never; without one, every code restarts,
 *     ERESTART_RESTARTBLOCK through restart_syscall;
 *  3. for a handler, a signal frame is written on the user stack (or the
 *     alternate one) holding the interrupted registers, FPU state and
 *     mask, and the trap frame is pointed at the handler; the mask grows
 *     by sa_mask and the signal (unless SA_NODEFER).  A frame that cannot
 *     be written ends in SIGSEGV.  Each further signal gets its own frame
 *     on top, so its handler runs first.
 *
 * Invariant: the trap frame leaves here with user selectors, a canonical
 * RIP and user flags (the handler address is checked; rt_sigreturn checks
 * what it restores), so the iretq that follows cannot fault.
 */
#include <kernel/sigdeliver.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/task.h>

#define NR_restart_syscall_64 219
#define NR_restart_syscall_32 0
#define RLIMIT_CORE 4

/* Did this trap frame come from a system call that may be restarted? */
static bool from_syscall(const struct trap_frame *f)
{
    return (f->vector == VEC_SYSCALL || f->vector == VEC_INT80) && f->orig_rax != ~0ul;
}

static void restart(struct trap_frame *f, uint64_t nr)
{
    f->rax = nr;
    f->rip -= 2;   /* syscall (0f 05) and int 0x80 (cd 80) are both 2 bytes */
}

static void restart_with_handler(struct trap_frame *f, const struct k_sigaction *ka)
{
    switch ((long)f->rax) {
    case -ERESTART_RESTARTBLOCK:
    case -ERESTARTNOHAND:
        f->rax = (uint64_t)-EINTR;
        break;
    case -ERESTARTSYS:
        if (!(ka->flags & SA_RESTART)) {
            f->rax = (uint64_t)-EINTR;
            break;
        }
        restart(f, f->orig_rax);
        break;
    case -ERESTARTNOINTR:
        restart(f, f->orig_rax);
        break;
    }
}

static void restart_without_handler(struct trap_frame *f)
{
    switch ((long)f->rax) {
    case -ERESTARTNOHAND:
    case -ERESTARTSYS:
    case -ERESTARTNOINTR:
        restart(f, f->orig_rax);
        break;
    case -ERESTART_RESTARTBLOCK:
        restart(f, f->vector == VEC_INT80 ? NR_restart_syscall_32 : NR_restart_syscall_64);
        break;
    }
}

/* Linux sets the core flag when it writes a core file.  mmk writes none
 * but reports the flag as Linux would, unless the process said it wants
 * no core (prctl(PR_SET_DUMPABLE, 0), or RLIMIT_CORE set to 0). */
static bool would_dump_core(const struct task *t)
{
    if (t->undumpable)
        return false;
    return !((t->rlim_set >> RLIMIT_CORE) & 1) || t->rlim[RLIMIT_CORE].cur != 0;
}

/* Is no process of group pgid stopped by a terminal's signal allowed to
 * stop (Linux's is_current_pgrp_orphaned): no member has a parent in
 * another group of the same session (init does not count)? */
static bool pgrp_orphaned(int pgid)
{
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = task_slot(i);
        if (!t || t->pgid != pgid || t->state == TASK_ZOMBIE)
            continue;
        struct task *p = t->parent;
        if (p && p->pid != 1 && p->pgid != pgid && p->sid == t->sid)
            return false;
    }
    return true;
}

/* Stop until SIGCONT (or SIGKILL) comes.  A stop is the process's: the
 * other threads get the same signal and stop too (Linux's group stop,
 * without its count of threads still to stop). */
static void do_stop(int sig)
{
    struct task *t = current;
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *o = task_slot(i);
        if (o && o != t && o->tgid == t->tgid && o->state != TASK_ZOMBIE && !o->sig.stop_sig &&
            !(o->sig.pending & sigmask(sig)))
            send_signal(o, sig);
    }
    signal_stopped(t, sig);
    while (t->sig.stop_sig && !(t->sig.pending & sigmask(SIGKILL)))
        sleep_on(&t->sig.stop_sig);
    t->sig.stop_sig = 0;
}

/* Take pending signals until one has a handler (its number, with *ka its
 * action as it was and *info), or none is left (0).  Default actions are
 * taken here: this may stop the task, or end it. */
static int get_signal(struct kernel_siginfo *info, struct k_sigaction *ka_out)
{
    struct task *t = current;
    for (;;) {
        int sig = dequeue_signal(t, ~t->sig.blocked, info);
        if (!sig)
            return 0;
        struct k_sigaction *ka = sig_action(t, sig);
        if (ka->handler == SIG_IGN)
            continue;
        if (ka->handler != SIG_DFL) {
            *ka_out = *ka;
            if (ka->flags & SA_RESETHAND)
                ka->handler = SIG_DFL;   /* one shot: the next one gets the default */
            return sig;
        }
        switch (sig_default_action(sig)) {
        case SIGDFL_IGN:
        case SIGDFL_CONT:
            continue;
        case SIGDFL_STOP:
            /* The terminal's stops do nothing to an orphaned group: no
             * shell is left to continue it. */
            if (sig == SIGSTOP || !pgrp_orphaned(t->pgid))
                do_stop(sig);
            continue;
        case SIGDFL_CORE:   /* the whole process goes, every thread */
            do_group_exit(W_SIGNALED(sig) | (would_dump_core(t) ? W_COREDUMP : 0));
        case SIGDFL_TERM:
            do_group_exit(W_SIGNALED(sig));
        }
    }
}

/* A frame that could not be written: SIGSEGV, with its default action if
 * it was SIGSEGV's own frame (Linux's force_sigsegv). */
static void frame_failed(int sig, const struct trap_frame *f)
{
    struct task *t = current;
    printk("pid %d (%s): cannot write the frame of signal %d (sp %#lx): SIGSEGV\n", t->pid,
           t->name, sig, f->rsp);
    if (sig == SIGSEGV)
        sig_action(t, SIGSEGV)->handler = SIG_DFL;
    force_sig(SIGSEGV);
}

static void handle_signal(struct trap_frame *f, int sig, const struct k_sigaction *ka,
                          const struct kernel_siginfo *info)
{
    struct task *t = current;
    /* The mask the handler's frame restores: sigsuspend's saved one, if
     * the signal ended a sigsuspend. */
    ksigset_t oldmask = t->sig.restore_mask ? t->sig.saved_mask : t->sig.blocked;
    int err = (t->flags & TASK_COMPAT32) ? setup_frame32(f, sig, ka, info, oldmask)
                                         : setup_rt_frame64(f, ka, info, oldmask);
    if (err) {
        frame_failed(sig, f);
        return;
    }
    t->sig.restore_mask = false;
    ksigset_t b = t->sig.blocked | ka->mask;
    if (!(ka->flags & SA_NODEFER))
        b |= sigmask(sig);
    set_current_blocked(b);
}

void signal_deliver(struct trap_frame *f)
{
    struct task *t = current;
    bool syscall = from_syscall(f);
    for (;;) {
        struct kernel_siginfo info;
        struct k_sigaction ka;
        int sig = signal_pending(t) ? get_signal(&info, &ka) : 0;
        if (sig) {
            if (syscall)
                restart_with_handler(f, &ka);
            syscall = false;
            handle_signal(f, sig, &ka, &info);
            continue;
        }
        if (syscall)
            restart_without_handler(f);
        syscall = false;
        if (!t->sig.restore_mask)
            return;
        /* No handler ran after a sigsuspend: its mask goes back now (and
         * may unblock something: look again). */
        t->sig.restore_mask = false;
        set_current_blocked(t->sig.saved_mask);
    }
}
