/*
 * Signals, the state a process keeps: its actions (sigaction), its mask
 * (sigprocmask), its alternate stack (sigaltstack), what fork, execve and
 * exit do to them, and the SIGCHLD an exit sends (docs/signals.md).
 *
 * Invariants:
 *  - every task that can run user code holds one reference on a struct
 *    sighand_struct (t->sig.hand); count is the number of holders, and
 *    the table is freed when it reaches 0.  Today each process has its
 *    own; signal_share_actions is clone's CLONE_SIGHAND;
 *  - no action of SIGKILL or SIGSTOP is ever anything but SIG_DFL, no
 *    sa_mask and no mask contains them, and sa_flags holds only SA_KNOWN
 *    bits;
 *  - an alternate stack is on iff ss_size != 0 (and then ss_size >=
 *    MINSIGSTKSZ).
 */
#include <kernel/sigdeliver.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <mm/slab.h>

/* ---- actions and mask ------------------------------------------------------- */

/* Drop the pending instances of sig in every task sharing t's table. */
static void flush_in_sharers(struct sighand_struct *h, int sig)
{
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = task_slot(i);
        if (!t || t->sig.hand != h || !(t->sig.pending & sigmask(sig)))
            continue;
        struct kernel_siginfo info;
        while (t->sig.pending & sigmask(sig))
            dequeue_signal(t, sigmask(sig), &info);
    }
}

int do_sigaction(int sig, const struct k_sigaction *act, struct k_sigaction *oact)
{
    if (!sig_valid(sig) || (act && (sigmask(sig) & SIG_KERNEL_ONLY)))
        return -EINVAL;
    struct k_sigaction *ka = sig_action(current, sig);
    if (oact)
        *oact = *ka;
    if (act) {
        *ka = *act;
        ka->flags &= SA_KNOWN;
        ka->mask &= ~SIG_KERNEL_ONLY;
        /* POSIX: setting a pending signal to be ignored discards it,
         * blocked or not. */
        enum sig_default d = sig_default_action(sig);
        if (ka->handler == SIG_IGN ||
            (ka->handler == SIG_DFL && (d == SIGDFL_IGN || d == SIGDFL_CONT)))
            flush_in_sharers(current->sig.hand, sig);
    }
    return 0;
}

void set_current_blocked(ksigset_t set)
{
    current->sig.blocked = set & ~SIG_KERNEL_ONLY;
    /* A signal of the process that another thread holds blocked is ours
     * now if we take it (kernel/proc/signal.c). */
    signal_claim_shared(current, ~current->sig.blocked);
}

int do_sigprocmask(int how, ksigset_t set, ksigset_t *old)
{
    ksigset_t b = current->sig.blocked;
    if (old)
        *old = b;
    switch (how) {
    case SIG_BLOCK:
        b |= set;
        break;
    case SIG_UNBLOCK:
        b &= ~set;
        break;
    case SIG_SETMASK:
        b = set;
        break;
    default:
        return -EINVAL;
    }
    set_current_blocked(b);
    return 0;
}

/* ---- the alternate stack ----------------------------------------------------- */

static bool within_alt_stack(uint64_t sp)
{
    const struct task_signals *s = &current->sig;
    return sp > s->ss_sp && sp - s->ss_sp <= s->ss_size;
}

bool on_sig_stack(uint64_t sp)
{
    /* With SS_AUTODISARM the stack is off while a handler runs on it, so
     * a handler may switch away (swapcontext) and a nested signal starts
     * at its top again. */
    if (current->sig.ss_flags & SS_AUTODISARM)
        return false;
    return within_alt_stack(sp);
}

int sas_ss_flags(uint64_t sp)
{
    if (!current->sig.ss_size)
        return SS_DISABLE;
    return on_sig_stack(sp) ? SS_ONSTACK : 0;
}

int do_sigaltstack(const struct k_stack *ss, struct k_stack *oss, uint64_t sp)
{
    struct task_signals *s = &current->sig;
    struct k_stack old = { s->ss_sp, sas_ss_flags(sp) | (s->ss_flags & (int)SS_AUTODISARM),
                           s->ss_size };
    if (ss) {
        if (on_sig_stack(sp))
            return -EPERM;
        int mode = ss->flags & ~(int)SS_AUTODISARM;
        if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
            return -EINVAL;
        if (mode == SS_DISABLE) {
            s->ss_sp = s->ss_size = 0;
        } else {
            if (ss->size < MINSIGSTKSZ)
                return -ENOMEM;
            s->ss_sp = ss->sp;
            s->ss_size = ss->size;
        }
        s->ss_flags = ss->flags;   /* as given: a frame's uc_stack shows it */
    }
    if (oss)
        *oss = old;
    return 0;
}

/* ---- fork, exec, exit ----------------------------------------------------------- */

int signal_fork(struct task *child)
{
    struct sighand_struct *h = kmalloc(sizeof(*h), GFP_KERNEL);
    if (!h)
        return -ENOMEM;
    const struct task_signals *p = &current->sig;
    h->count = 1;
    if (p->hand)
        memcpy(h->action, p->hand->action, sizeof(h->action));
    else
        memset(h->action, 0, sizeof(h->action));   /* the first task: all SIG_DFL */
    memset(&child->sig, 0, sizeof(child->sig));
    child->sig.hand = h;
    child->sig.blocked = p->blocked;
    child->sig.ss_sp = p->ss_sp;
    child->sig.ss_size = p->ss_size;
    child->sig.ss_flags = p->hand ? p->ss_flags : SS_DISABLE;
    return 0;
}

static void put_sighand(struct sighand_struct *h)
{
    if (h && --h->count == 0)
        kfree(h);
}

void signal_share_actions(struct task *child)
{
    put_sighand(child->sig.hand);
    child->sig.hand = current->sig.hand;
    child->sig.hand->count++;
}

void signal_exec(struct task *t)
{
    struct sighand_struct *h = t->sig.hand;
    if (h->count > 1) {
        struct sighand_struct *own = kmalloc(sizeof(*own), GFP_KERNEL);
        if (!own) {
            /* Past exec's point of no return there is no way back: Linux
             * kills the process the same way. */
            send_signal(t, SIGKILL);
            return;
        }
        memcpy(own->action, h->action, sizeof(own->action));
        own->count = 1;
        put_sighand(h);
        t->sig.hand = h = own;
    }
    for (int i = 0; i < NSIG; i++) {
        struct k_sigaction *ka = &h->action[i];
        if (ka->handler != SIG_IGN)
            ka->handler = SIG_DFL;
        ka->flags = 0;
        ka->restorer = 0;
        ka->mask = 0;
    }
    t->sig.ss_sp = t->sig.ss_size = 0;
    t->sig.ss_flags = SS_DISABLE;
}

void signal_release(struct task *t)
{
    while (t->sig.queue) {
        struct sigqueue *q = t->sig.queue;
        t->sig.queue = q->next;
        kfree(q);
    }
    t->sig.nqueued = 0;
    t->sig.pending = 0;
    put_sighand(t->sig.hand);
    t->sig.hand = NULL;
}

void signal_notify_parent(struct task *t, int status)
{
    struct task *p = t->parent;
    if (!p || p->state == TASK_ZOMBIE || !p->sig.hand)
        return;
    int sig = t->exit_signal;   /* SIGCHLD; clone may ask for another, or none */
    struct kernel_siginfo info = { .signo = sig, .pid = t->pid,
                                   .utime = t->utime_ticks, .stime = t->stime_ticks };
    if (status & 0x7f) {
        info.code = (status & W_COREDUMP) ? CLD_DUMPED : CLD_KILLED;
        info.status = status & 0x7f;
    } else {
        info.code = CLD_EXITED;
        info.status = (status >> 8) & 0xff;
    }
    /* A parent that ignores SIGCHLD, or asked SA_NOCLDWAIT, leaves its
     * children to the kernel: no zombie waits for it (and with SIG_IGN,
     * no signal either). */
    if (sig == SIGCHLD) {
        struct k_sigaction *ka = sig_action(p, SIGCHLD);
        if (ka->handler == SIG_IGN || (ka->flags & SA_NOCLDWAIT))
            t->sig.detached = true;
        if (ka->handler == SIG_IGN)
            sig = 0;
    }
    if (sig_valid(sig))
        send_sig_info(signal_target(p, sig), &info);   /* to the parent's process */
    /* Its wait4: any thread of the parent's process may be waiting. */
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *o = task_slot(i);
        if (o && o->tgid == p->tgid)
            wake_up(o);
    }
}
