/*
 * The system calls that wait, for a signal or for time, and what a
 * signal does to them (docs/signals.md, "Interrupted system calls"):
 *
 *  - pause: sleeps until a signal; -ERESTARTNOHAND, so a handler makes
 *    it fail with EINTR and a signal without one (a stop, say) lets it
 *    sleep on;
 *  - rt_sigsuspend: the same under a temporary mask; the old mask comes
 *    back once the handler's frame holds it (restore_mask);
 *  - rt_sigtimedwait: takes a pending signal of a set without running
 *    its handler, waiting for one (with the set unblocked meanwhile) up
 *    to a timeout: the signal, -EAGAIN at the timeout, -EINTR when
 *    another signal came;
 *  - nanosleep and clock_nanosleep: an interrupted relative sleep
 *    writes the time left in *rem and returns -ERESTART_RESTARTBLOCK:
 *    EINTR if a handler runs, otherwise restart_syscall goes on sleeping
 *    to the same deadline (t->sig.restart); an absolute one is simply
 *    restarted (-ERESTARTNOHAND).
 *
 * Time here is now_ns() (every clock of clock_gettime reads it) and
 * sleeps end at timer ticks (HZ): a deadline is never early, and up to a
 * tick late.
 */
#include <kernel/sigdeliver.h>
#include <kernel/apic.h>
#include <kernel/errno.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/time.h>
#include <kernel/uaccess.h>

#ifndef EOPNOTSUPP
#define EOPNOTSUPP 95
#endif

#define NSEC 1000000000ul
#define FOREVER (UINT64_MAX / 2)   /* a deadline no uptime reaches */

struct timespec64 {
    int64_t tv_sec, tv_nsec;
};
struct timespec32 {
    int32_t tv_sec, tv_nsec;
};

/* ---- pause, rt_sigsuspend -------------------------------------------------------- */

long sys_pause(const struct sysargs *a)
{
    (void)a;
    sleep_until_signal();
    return -ERESTARTNOHAND;
}

long do_sigsuspend(ksigset_t mask)
{
    struct task_signals *s = &current->sig;
    s->saved_mask = s->blocked;
    set_current_blocked(mask);
    sleep_until_signal();
    s->restore_mask = true;
    return -ERESTARTNOHAND;
}

long sys_rt_sigsuspend(const struct sysargs *a)
{
    ksigset_t mask;
    if (a->arg[1] != sizeof(mask))
        return -EINVAL;
    if (copy_from_user(&mask, a->arg[0], sizeof(mask)))
        return -EFAULT;
    return do_sigsuspend(mask);
}

/* ---- sleeping to a deadline ------------------------------------------------------- */

/* The now_ns() value sec s + nsec ns from now (FOREVER beyond reach). */
static uint64_t deadline_after(int64_t sec, int64_t nsec)
{
    uint64_t now = now_ns();
    if ((uint64_t)sec >= (FOREVER - now) / NSEC)
        return FOREVER;
    return now + (uint64_t)sec * NSEC + (uint64_t)nsec;
}

/* Sleep until deadline or a signal: 0 at the deadline, -ERESTARTSYS. */
static int sleep_until(uint64_t deadline)
{
    struct task *t = current;
    for (;;) {
        uint64_t now = now_ns();
        if (now >= deadline)
            return 0;
        /* in ticks, rounded up, plus the one under way */
        t->wake_tick = ticks_now() + (deadline - now) / (NSEC / HZ) + 1;
        int err = sleep_on_intr(&t->wake_tick);
        t->wake_tick = 0;
        if (err)
            return err;
    }
}

static bool timespec_ok(int64_t sec, int64_t nsec)
{
    return sec >= 0 && nsec >= 0 && nsec < (int64_t)NSEC;
}

/* Write the time left before deadline to urem, in the caller's layout. */
static int put_remaining(uint64_t urem, bool rem32, uint64_t deadline)
{
    uint64_t now = now_ns(), left = deadline > now ? deadline - now : 0;
    if (rem32) {
        struct timespec32 r = { (int32_t)(left / NSEC), (int32_t)(left % NSEC) };
        return copy_to_user(urem, &r, sizeof(r));
    }
    struct timespec64 r = { (int64_t)(left / NSEC), (int64_t)(left % NSEC) };
    return copy_to_user(urem, &r, sizeof(r));
}

static long nanosleep_restart(struct restart_block *rb);

/* A relative sleep to deadline: 0, or on a signal the time left written
 * to urem (if any) and -ERESTART_RESTARTBLOCK. */
static long relative_sleep(uint64_t deadline, uint64_t urem, bool rem32)
{
    if (sleep_until(deadline) == 0)
        return 0;
    if (urem && put_remaining(urem, rem32, deadline))
        return -EFAULT;
    struct restart_block *rb = &current->sig.restart;
    rb->fn = nanosleep_restart;
    rb->deadline_ns = deadline;
    rb->urem = urem;
    rb->rem32 = rem32;
    return -ERESTART_RESTARTBLOCK;
}

static long nanosleep_restart(struct restart_block *rb)
{
    return relative_sleep(rb->deadline_ns, rb->urem, rb->rem32);
}

long nanosleep_for(int64_t sec, int64_t nsec, uint64_t urem, bool rem32)
{
    if (!timespec_ok(sec, nsec))
        return -EINVAL;
    return relative_sleep(deadline_after(sec, nsec), urem, rem32);
}

long sys_nanosleep(const struct sysargs *a)
{
    struct timespec64 ts;
    if (copy_from_user(&ts, a->arg[0], sizeof(ts)))
        return -EFAULT;
    return nanosleep_for(ts.tv_sec, ts.tv_nsec, a->arg[1], false);
}

#define TIMER_ABSTIME 1

long do_clock_nanosleep(int clock, int flags, int64_t sec, int64_t nsec, uint64_t urem,
                        bool rem32)
{
    switch (clock) {
    case 0: case 1: case 7: case 8: case 9: case 11:
        break;   /* REALTIME, MONOTONIC, BOOTTIME, their alarms, TAI: all now_ns() here */
    case 2: case 4: case 5: case 6:
        return -EOPNOTSUPP;   /* process CPU time, the raw and coarse clocks */
    default:
        return -EINVAL;
    }
    if (!timespec_ok(sec, nsec))
        return -EINVAL;
    if (!(flags & TIMER_ABSTIME))
        return relative_sleep(deadline_after(sec, nsec), urem, rem32);
    /* on the boot clock (a REALTIME time less the wall clock's offset) */
    uint64_t deadline = clock_abs_to_boot(clock, sec, nsec);
    /* An absolute deadline stays the same: run the call again as it was. */
    return sleep_until(deadline) ? -ERESTARTNOHAND : 0;
}

long sys_clock_nanosleep(const struct sysargs *a)
{
    struct timespec64 ts;
    if (copy_from_user(&ts, a->arg[2], sizeof(ts)))
        return -EFAULT;
    return do_clock_nanosleep((int)a->arg[0], (int)a->arg[1], ts.tv_sec, ts.tv_nsec, a->arg[3],
                              false);
}

long sys_restart_syscall(const struct sysargs *a)
{
    (void)a;
    struct restart_block *rb = &current->sig.restart;
    long (*fn)(struct restart_block *) = rb->fn;
    rb->fn = NULL;
    return fn ? fn(rb) : -EINTR;
}

/* ---- rt_sigtimedwait ----------------------------------------------------------------- */

long do_sigtimedwait(ksigset_t set, struct kernel_siginfo *info, const int64_t *timeout)
{
    struct task *t = current;
    set &= ~SIG_KERNEL_ONLY;
    if (timeout && !timespec_ok(timeout[0], timeout[1]))
        return -EINVAL;
    signal_claim_shared(t, set);   /* the process's, parked on another thread */
    int sig = dequeue_signal(t, set, info);
    if (sig)
        return sig;
    if (timeout && timeout[0] == 0 && timeout[1] == 0)
        return -EAGAIN;
    /* Wait with the set unblocked, so that its signals wake us; they are
     * not dropped as ignored meanwhile (real_blocked). */
    t->sig.real_blocked = t->sig.blocked;
    t->sig.blocked &= ~set;
    int err = sleep_until(timeout ? deadline_after(timeout[0], timeout[1]) : FOREVER);
    t->sig.blocked = t->sig.real_blocked;
    t->sig.real_blocked = 0;
    sig = dequeue_signal(t, set, info);
    if (sig)
        return sig;
    return err ? -EINTR : -EAGAIN;
}

long sys_rt_sigtimedwait(const struct sysargs *a)
{
    ksigset_t set;
    struct timespec64 ts = { 0, 0 };
    if (a->arg[3] != sizeof(set))
        return -EINVAL;
    if (copy_from_user(&set, a->arg[0], sizeof(set)))
        return -EFAULT;
    if (a->arg[2] && copy_from_user(&ts, a->arg[2], sizeof(ts)))
        return -EFAULT;
    int64_t timeout[2] = { ts.tv_sec, ts.tv_nsec };
    struct kernel_siginfo info;
    long sig = do_sigtimedwait(set, &info, a->arg[2] ? timeout : NULL);
    if (sig > 0 && a->arg[1]) {
        uint8_t out[128];
        siginfo_to_user64(&info, out);
        if (copy_to_user(a->arg[1], out, sizeof(out)))
            return -EFAULT;
    }
    return sig;
}
