/*
 * Signals, the generating half: queueing a signal for a task, waking it,
 * and the interruptible sleep (docs/signals.md).
 *
 * Invariants:
 *  - bit sig - 1 of t->sig.pending is set iff an instance of sig is
 *    pending; t->sig.queue holds the siginfo of pending instances, oldest
 *    first, at most one per standard signal (1..31: a second one while
 *    the first waits is merged into it, as on Linux) and one per instance
 *    of a real-time signal (32..64).  A pending bit may have no entry
 *    (no memory, or the queue full): it is delivered with bare details;
 *  - an ignored signal (SIG_IGN, or SIG_DFL whose default is to ignore)
 *    that the task does not block is dropped when it is generated, so it
 *    never interrupts a sleep;
 *  - SIGKILL and SIGSTOP are never blocked, ignored or caught;
 *  - a task in sleep_on_intr (t->sig.intr_sleep) is woken by any signal
 *    it does not block; a stopped task (t->sig.stop_sig) sleeps on
 *    &t->sig.stop_sig until SIGCONT or SIGKILL.
 *
 *  - threads (docs/threads.md): a signal for a process (kill, a process
 *    group, the kernel's SIGCHLD) is queued on one of its threads, one
 *    that does not block it if any (signal_target); one parked on a
 *    thread that blocks it moves to the thread that takes it
 *    (signal_claim_shared).  tkill, tgkill and faults are the thread's.
 *
 * Nothing here sleeps or fails for lack of memory: an interrupt handler
 * (the terminal's SIGINT) may send.  One CPU, interrupts off in the
 * kernel: no locks.
 */
#include <kernel/sigdeliver.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <mm/slab.h>

enum sig_default sig_default_action(int sig)
{
    switch (sig) {
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE:
    case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS:
        return SIGDFL_CORE;
    case SIGCHLD: case SIGURG: case SIGWINCH:
        return SIGDFL_IGN;
    case SIGCONT:
        return SIGDFL_CONT;
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
        return SIGDFL_STOP;
    default:
        return SIGDFL_TERM;   /* the others, and every real-time signal */
    }
}

struct k_sigaction *sig_action(struct task *t, int sig)
{
    return &t->sig.hand->action[sig - 1];
}

/* Would t drop sig now (ignored and not blocked)? */
static bool sig_ignored(struct task *t, int sig)
{
    if ((t->sig.blocked | t->sig.real_blocked) & sigmask(sig))
        return false;
    uint64_t h = sig_action(t, sig)->handler;
    if (h == SIG_IGN)
        return true;
    enum sig_default d = sig_default_action(sig);
    return h == SIG_DFL && (d == SIGDFL_IGN || d == SIGDFL_CONT);
}

/* ---- the queue ------------------------------------------------------------ */

/* Drop every pending instance of the signals in mask. */
static void flush_signals(struct task *t, ksigset_t mask)
{
    struct sigqueue **pp = &t->sig.queue;
    while (*pp) {
        struct sigqueue *q = *pp;
        if (mask & sigmask(q->info.signo)) {
            *pp = q->next;
            kfree(q);
            t->sig.nqueued--;
        } else {
            pp = &q->next;
        }
    }
    t->sig.pending &= ~mask;
}

/* The signal to take first among set: SIGKILL, a fault's, else the
 * lowest number. */
static int next_signal(ksigset_t set)
{
    if (set & sigmask(SIGKILL))
        return SIGKILL;
    ksigset_t sync = set & SIG_SYNCHRONOUS;
    if (sync)
        set = sync;
    return set ? __builtin_ctzll(set) + 1 : 0;
}

int dequeue_signal(struct task *t, ksigset_t mask, struct kernel_siginfo *info)
{
    int sig = next_signal(t->sig.pending & mask);
    if (!sig)
        return 0;
    struct sigqueue **pp = &t->sig.queue, *found = NULL;
    for (; *pp; pp = &(*pp)->next) {
        if ((*pp)->info.signo == sig) {
            found = *pp;
            *pp = found->next;   /* pp now leads to the entries after it */
            break;
        }
    }
    bool more = false;
    for (struct sigqueue *q = found ? *pp : NULL; q && !more; q = q->next)
        more = q->info.signo == sig;
    memset(info, 0, sizeof(*info));
    if (found) {
        *info = found->info;
        kfree(found);
        t->sig.nqueued--;
    } else {
        info->signo = sig;      /* its details were lost: Linux says SI_USER, pid 0 */
        info->code = SI_USER;
    }
    if (!more)
        t->sig.pending &= ~sigmask(sig);
    return sig;
}

/* ---- stop and continue, at generation (Linux's prepare_signal) ------------ */

static void notify_parent_cldstop(struct task *t, int why, int status)
{
    struct task *p = t->parent;
    if (!p || p->state == TASK_ZOMBIE || !p->sig.hand)
        return;
    struct k_sigaction *ka = sig_action(p, SIGCHLD);
    if (ka->handler != SIG_IGN && !(ka->flags & SA_NOCLDSTOP)) {
        struct kernel_siginfo info = {
            .signo = SIGCHLD, .code = why, .pid = t->tgid, .status = status,
            .utime = t->utime_ticks, .stime = t->stime_ticks,
        };
        send_sig_info(p, &info);
    }
    wake_up(p);   /* a wait4 with WUNTRACED or WCONTINUED */
}

void signal_stopped(struct task *t, int sig)
{
    t->sig.stop_sig = sig;
    t->sig.wait_report = WAIT_STOPPED;
    /* The parent hears of the process once: from its leader, which stops
     * too (kernel/proc/sig_deliver.c), and which wait4 looks at. */
    struct task *leader = t->group_leader;
    if (leader != t && leader->state != TASK_ZOMBIE)
        return;
    notify_parent_cldstop(leader, CLD_STOPPED, sig);
}

/* The effects that happen when a signal is generated, whatever its
 * action: SIGCONT continues a stopped task and cancels pending stops, a
 * stop signal cancels a pending SIGCONT.  Returns false to drop it. */
static bool prepare_signal(struct task *t, int sig)
{
    if (SIG_STOPS & sigmask(sig)) {
        flush_signals(t, sigmask(SIGCONT));
    } else if (sig == SIGCONT) {
        /* SIGCONT continues the whole process: every thread of it. */
        bool continued = false;
        for (int i = 0; i < MAX_TASKS; i++) {
            struct task *o = task_slot(i);
            if (!o || o->tgid != t->tgid || o->state == TASK_ZOMBIE)
                continue;
            flush_signals(o, SIG_STOPS);
            if (o->sig.stop_sig) {
                o->sig.stop_sig = 0;
                o->sig.wait_report = WAIT_CONTINUED;
                wake_up(&o->sig.stop_sig);
                continued = true;
            }
        }
        if (continued) {
            struct task *leader = t->group_leader;
            leader->sig.wait_report = WAIT_CONTINUED;   /* what wait4 looks at */
            notify_parent_cldstop(leader, CLD_CONTINUED, SIGCONT);
        }
    }
    return !sig_ignored(t, sig);
}

/* ---- sending ---------------------------------------------------------------- */

static int queue_signal(struct task *t, const struct kernel_siginfo *info, bool force)
{
    int sig = info->signo;
    if (!sig_valid(sig))
        return -EINVAL;
    if (t->state == TASK_ZOMBIE || !t->sig.hand || (t->flags & TASK_KTHREAD))
        return 0;   /* a zombie or a kernel thread takes no signal; killing it succeeds */
    /* init has no default actions for the signals others send it (Linux's
     * SIGNAL_UNKILLABLE): only faults, and what it sends itself, reach it. */
    if (t->tgid == 1 && !force && sig_action(t, sig)->handler == SIG_DFL &&
        !(info->code <= 0 && info->pid == 1))
        return 0;
    if (!prepare_signal(t, sig))
        return 0;
    bool standard = sig < SIGRTMIN;
    if (standard && (t->sig.pending & sigmask(sig)))
        return 0;   /* merged with the one already pending */
    struct sigqueue *q = NULL;
    if (t->sig.nqueued < SIGQUEUE_MAX || (standard && info->code == SI_KERNEL))
        q = kmalloc(sizeof(*q), GFP_KERNEL | __GFP_NOWARN);
    if (q) {
        q->info = *info;
        q->next = NULL;
        struct sigqueue **pp = &t->sig.queue;
        while (*pp)
            pp = &(*pp)->next;
        *pp = q;
        t->sig.nqueued++;
    } else if (!standard && info->code != SI_USER && info->code != SI_KERNEL) {
        return -EAGAIN;   /* sigqueue, tkill: a real-time signal must not be lost quietly */
    }
    t->sig.pending |= sigmask(sig);
    /* Wake the task if the signal can end its sleep. */
    if (sig == SIGKILL && t->sig.stop_sig)
        wake_up(&t->sig.stop_sig);
    if (t->state == TASK_BLOCKED && t->sig.intr_sleep && !(t->sig.blocked & sigmask(sig)))
        wake_up_task(t);
    else if (!(t->sig.blocked & sigmask(sig)))
        task_kick(t);   /* running in user mode on another CPU: into the kernel, to take it */
    return 0;
}

int send_sig_info(struct task *t, const struct kernel_siginfo *info)
{
    return queue_signal(t, info, false);
}

int send_signal(struct task *t, int sig)
{
    struct kernel_siginfo info = { .signo = sig, .code = SI_KERNEL };
    return queue_signal(t, &info, false);
}

int send_signal_force(struct task *t, int sig)
{
    struct kernel_siginfo info = { .signo = sig, .code = SI_KERNEL, .thread = true };
    return queue_signal(t, &info, true);
}

int send_sig(int sig, struct task *t, int priv)
{
    /* To this task (Linux's send_sig: PIDTYPE_PID), e.g. a pipe's SIGPIPE
     * to the writer: another thread must not take it. */
    struct kernel_siginfo info = { .signo = sig, .code = priv ? SI_KERNEL : SI_USER,
                                   .pid = priv ? 0 : current->tgid, .thread = true };
    return queue_signal(t, &info, false);
}

/* A signal current cannot escape: unblocked, and back to SIG_DFL if it
 * was blocked or ignored (Linux's force_sig_info_to_task). */
static bool force_info(const struct kernel_siginfo *info)
{
    struct task *t = current;
    int sig = info->signo;
    struct k_sigaction *ka = sig_action(t, sig);
    bool blocked = t->sig.blocked & sigmask(sig);
    if (blocked || ka->handler == SIG_IGN) {
        ka->handler = SIG_DFL;
        t->sig.blocked &= ~sigmask(sig);
    }
    queue_signal(t, info, true);
    enum sig_default d = sig_default_action(sig);
    return ka->handler == SIG_DFL && (d == SIGDFL_TERM || d == SIGDFL_CORE);
}

bool force_sig_fault(int sig, int code, uint64_t addr)
{
    struct kernel_siginfo info = { .signo = sig, .code = code, .addr = addr };
    return force_info(&info);
}

bool force_sig(int sig)
{
    struct kernel_siginfo info = { .signo = sig, .code = SI_KERNEL };
    return force_info(&info);
}

/* Send info to t, or only check that it could be sent (signal 0). */
static int send_or_check(struct task *t, const struct kernel_siginfo *info)
{
    if (info->signo < 0 || info->signo > NSIG)
        return -EINVAL;
    return info->signo ? send_sig_info(t, info) : 0;
}

/* The same for t's whole process: one thread that does not block it
 * takes it (kernel/proc/thread_group.c). */
static int send_to_process(struct task *t, const struct kernel_siginfo *info)
{
    if (info->signo > 0 && info->signo <= NSIG)
        t = signal_target(t->group_leader, info->signo);
    return send_or_check(t, info);
}

/* A thread that has exited is gone for kill and tkill (Linux releases
 * it at once); a process's zombie leader is still there. */
static struct task *find_task_by_id(int pid)
{
    struct task *t = task_find(pid);
    return t && (t->state != TASK_ZOMBIE || thread_is_leader(t)) ? t : NULL;
}

/* Every process of group pgid gets info: 0 if one did, else the error. */
static int group_send(int pgid, const struct kernel_siginfo *info)
{
    if (pgid <= 0)
        return -EINVAL;
    int found = 0, ret = -ESRCH;
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = task_slot(i);
        if (!t || t->pgid != pgid || !thread_is_leader(t))
            continue;   /* each process once: through its leader */
        int err = send_to_process(t, info);
        found |= !err;
        ret = err;
    }
    return found ? 0 : ret;
}

int kill_pgrp(int pgid, int sig)
{
    struct kernel_siginfo info = { .signo = sig, .code = SI_KERNEL };
    return group_send(pgid, &info);
}

/* As Linux, the target is looked for first (-ESRCH), then the signal
 * number checked (-EINVAL). */
int kill_something(int pid, int sig)
{
    struct kernel_siginfo info = { .signo = sig, .code = SI_USER, .pid = current->tgid };
    if (pid > 0) {
        /* A thread's id names its process too, as on Linux. */
        struct task *t = find_task_by_id(pid);
        return t ? send_to_process(t, &info) : -ESRCH;
    }
    if (pid == 0)
        return group_send(current->pgid, &info);
    if (pid != -1)
        return pid == INT32_MIN ? -ESRCH : group_send(-pid, &info);
    /* -1: every process but init and the caller. */
    int count = 0, ret = 0;
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = task_slot(i);
        if (!t || t->tgid <= 1 || t->tgid == current->tgid || !thread_is_leader(t))
            continue;
        count++;
        int err = send_to_process(t, &info);
        if (err != -EPERM)
            ret = err;
    }
    return count ? ret : -ESRCH;
}

int kill_task(int tgid, int pid, int sig, int code)
{
    if (pid <= 0 || tgid < 0)
        return -EINVAL;
    struct task *t = find_task_by_id(pid);
    /* tgkill: the thread must be of that process. */
    if (!t || (tgid && tgid != t->tgid))
        return -ESRCH;
    struct kernel_siginfo info = { .signo = sig, .code = code, .pid = current->tgid };
    return send_or_check(t, &info);   /* a zombie takes it and nothing happens */
}

/* ---- signals of the process, parked on one thread -------------------------------- */

/* Was this instance sent to the process (kill, sigqueue, the kernel's
 * SIGCHLD or terminal signals), not to the thread (tkill, a fault)? */
static bool process_directed(const struct kernel_siginfo *info)
{
    if (info->code == SI_TKILL || info->thread)
        return false;
    return !((sigmask(info->signo) & SIG_SYNCHRONOUS) && info->code > 0);
}

/* Move the process-directed instances of the signals in mask from one
 * thread's queue to another's (a standard signal already pending there
 * merges). */
static void move_process_signals(struct task *from, struct task *to, ksigset_t mask)
{
    struct sigqueue **pp = &from->sig.queue;
    while (*pp) {
        struct sigqueue *q = *pp;
        int sig = q->info.signo;
        if (!(mask & sigmask(sig)) || !process_directed(&q->info)) {
            pp = &q->next;
            continue;
        }
        *pp = q->next;
        from->sig.nqueued--;
        bool more = false;
        for (struct sigqueue *r = from->sig.queue; r && !more; r = r->next)
            more = r->info.signo == sig;
        if (!more)
            from->sig.pending &= ~sigmask(sig);
        if (sig < SIGRTMIN && (to->sig.pending & sigmask(sig))) {
            kfree(q);   /* merged with the one already there */
            continue;
        }
        q->next = NULL;
        struct sigqueue **tp = &to->sig.queue;
        while (*tp)
            tp = &(*tp)->next;
        *tp = q;
        to->sig.nqueued++;
        to->sig.pending |= sigmask(sig);
    }
}

void signal_claim_shared(struct task *t, ksigset_t accept)
{
    accept &= ~SIG_KERNEL_ONLY;
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *o = task_slot(i);
        if (!o || o == t || o->tgid != t->tgid || !(o->sig.pending & o->sig.blocked & accept))
            continue;
        move_process_signals(o, t, o->sig.pending & o->sig.blocked & accept);
    }
}

void signal_hand_over(struct task *t)
{
    struct task *heir = thread_group_live(t);
    if (heir && t->sig.pending)
        move_process_signals(t, heir, ~0ul);
}

/* ---- sleeping ----------------------------------------------------------------- */

bool signal_pending(struct task *t)
{
    return (t->sig.pending & ~t->sig.blocked) != 0;
}

int sleep_on_intr(void *chan)
{
    struct task *t = current;
    if (signal_pending(t))
        return -ERESTARTSYS;
    t->sig.intr_sleep = true;
    sleep_on(chan);
    t->sig.intr_sleep = false;
    return signal_pending(t) ? -ERESTARTSYS : 0;
}

void sleep_until_signal(void)
{
    /* Nobody wakes this channel: only a signal ends the sleep. */
    while (sleep_on_intr(&current->sig.intr_sleep) == 0)
        ;
}
