/*
 * The i386 signal system calls whose structures differ from x86-64's
 * (docs/signals.md, docs/compat32-abi.md).  Each translates the i386
 * structure and calls the same work as the 64-bit handler
 * (kernel/proc/sig_sys.c, sig_wait.c), with Linux's errors in Linux's
 * order.  The calls whose arguments are the same on both (kill, tkill,
 * tgkill, pause, rt_sigprocmask, rt_sigpending, rt_sigsuspend: an 8-byte
 * sigset on both) use the 64-bit handlers directly (compat32/syscall32.c).
 *
 *   struct sigaction (rt_sigaction):  handler, flags, restorer (4 bytes
 *                                     each), mask (8 bytes): 20 bytes
 *   struct old_sigaction (sigaction): handler, mask (4 bytes: signals
 *                                     1-32 only), flags, restorer
 *   stack_t (sigaltstack):            ss_sp, ss_flags, ss_size: 12 bytes
 *   old_sigset_t (sigprocmask, sigpending, sigsuspend): 4 bytes, the
 *                                     low half of the mask
 *
 * Invariant: as in compat32/sys32.c, every structure written back is
 * whole (no kernel byte leaks through padding) and a bad pointer is
 * -EFAULT before anything changes, except where Linux changes first
 * (an action or mask is set before the old one is written back).
 */
#include <kernel/sigdeliver.h>
#include <compat32/signal32.h>
#include <kernel/errno.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>

struct sigaction32 {
    uint32_t handler, flags, restorer;
    uint32_t mask[2];
};
_Static_assert(sizeof(struct sigaction32) == 20, "struct sigaction: Linux i386 layout");

struct old_sigaction32 {
    uint32_t handler, mask, flags, restorer;
};

struct stack32 {
    uint32_t ss_sp;
    int32_t ss_flags;
    uint32_t ss_size;
};

struct timespec32 {
    int32_t tv_sec, tv_nsec;
};

/* ---- actions ---------------------------------------------------------------------------- */

long sys32_rt_sigaction(const struct sysargs *a)
{
    int sig = (int)a->arg[0];
    uint64_t uact = a->arg[1], uoact = a->arg[2];
    if (a->arg[3] != sizeof(ksigset_t))
        return -EINVAL;
    struct sigaction32 u;
    struct k_sigaction act, oact;
    if (uact) {
        if (copy_from_user(&u, uact, sizeof(u)))
            return -EFAULT;
        act = (struct k_sigaction){ u.handler, u.flags, u.restorer,
                                    u.mask[0] | (uint64_t)u.mask[1] << 32 };
    }
    int err = do_sigaction(sig, uact ? &act : NULL, uoact ? &oact : NULL);
    if (err)
        return err;
    if (uoact) {
        u = (struct sigaction32){ (uint32_t)oact.handler, (uint32_t)oact.flags,
                                  (uint32_t)oact.restorer,
                                  { (uint32_t)oact.mask, (uint32_t)(oact.mask >> 32) } };
        if (copy_to_user(uoact, &u, sizeof(u)))
            return -EFAULT;
    }
    return 0;
}

long sys32_sigaction(const struct sysargs *a)
{
    int sig = (int)a->arg[0];
    uint64_t uact = a->arg[1], uoact = a->arg[2];
    struct old_sigaction32 u;
    struct k_sigaction act, oact;
    if (uact) {
        if (copy_from_user(&u, uact, sizeof(u)))
            return -EFAULT;
        act = (struct k_sigaction){ u.handler, u.flags, u.restorer, u.mask };
    }
    int err = do_sigaction(sig, uact ? &act : NULL, uoact ? &oact : NULL);
    if (err)
        return err;
    if (uoact) {
        u = (struct old_sigaction32){ (uint32_t)oact.handler, (uint32_t)oact.mask,
                                      (uint32_t)oact.flags, (uint32_t)oact.restorer };
        if (copy_to_user(uoact, &u, sizeof(u)))
            return -EFAULT;
    }
    return 0;
}

/* signal(sig, handler): the System V call, a one-shot handler that does
 * not block its own signal; returns the old handler. */
long sys32_signal(const struct sysargs *a)
{
    struct k_sigaction act = { a->arg[1], SA_RESETHAND | SA_NODEFER, 0, 0 }, oact;
    int err = do_sigaction((int)a->arg[0], &act, &oact);
    return err ? err : (long)(uint32_t)oact.handler;
}

/* ---- the old 32-bit masks ------------------------------------------------------------- */

long sys32_sigprocmask(const struct sysargs *a)
{
    int how = (int)a->arg[0];
    uint64_t uset = a->arg[1], uoset = a->arg[2];
    uint32_t old = (uint32_t)current->sig.blocked, set;
    if (uset) {
        if (copy_from_user(&set, uset, sizeof(set)))
            return -EFAULT;
        /* SIG_SETMASK replaces the low half only: the real-time signals
         * above 32 keep their state, as on i386 Linux. */
        ksigset_t b = current->sig.blocked;
        switch (how) {
        case SIG_BLOCK:
            b |= set;
            break;
        case SIG_UNBLOCK:
            b &= ~(ksigset_t)set;
            break;
        case SIG_SETMASK:
            b = (b & ~0xfffffffful) | set;
            break;
        default:
            return -EINVAL;
        }
        set_current_blocked(b);
    }
    if (uoset && copy_to_user(uoset, &old, sizeof(old)))
        return -EFAULT;
    return 0;
}

long sys32_sigpending(const struct sysargs *a)
{
    uint32_t set = (uint32_t)(current->sig.pending & current->sig.blocked);
    return copy_to_user(a->arg[0], &set, sizeof(set)) ? -EFAULT : 0;
}

/* sigsuspend(unused, unused, mask): i386's three-argument form. */
long sys32_sigsuspend(const struct sysargs *a)
{
    return do_sigsuspend((uint32_t)a->arg[2]);
}

/* ---- the alternate stack ---------------------------------------------------------------- */

long sys32_sigaltstack(const struct sysargs *a)
{
    uint64_t uss = a->arg[0], uoss = a->arg[1];
    struct stack32 u;
    struct k_stack ss, oss;
    if (uss) {
        if (copy_from_user(&u, uss, sizeof(u)))
            return -EFAULT;
        ss = (struct k_stack){ u.ss_sp, u.ss_flags, u.ss_size };
    }
    int err = do_sigaltstack(uss ? &ss : NULL, uoss ? &oss : NULL, task_frame(current)->rsp);
    if (err)
        return err;
    if (uoss) {
        u = (struct stack32){ (uint32_t)oss.sp, oss.flags, (uint32_t)oss.size };
        if (copy_to_user(uoss, &u, sizeof(u)))
            return -EFAULT;
    }
    return 0;
}

/* ---- waiting ------------------------------------------------------------------------------- */

static long sigtimedwait32(const struct sysargs *a, bool time64)
{
    ksigset_t set;
    int64_t timeout[2] = { 0, 0 };
    if (a->arg[3] != sizeof(set))
        return -EINVAL;
    if (copy_from_user(&set, a->arg[0], sizeof(set)))
        return -EFAULT;
    if (a->arg[2]) {
        if (time64) {
            if (copy_from_user(timeout, a->arg[2], sizeof(timeout)))
                return -EFAULT;
        } else {
            struct timespec32 ts;
            if (copy_from_user(&ts, a->arg[2], sizeof(ts)))
                return -EFAULT;
            timeout[0] = ts.tv_sec, timeout[1] = ts.tv_nsec;
        }
    }
    struct kernel_siginfo info;
    long sig = do_sigtimedwait(set, &info, a->arg[2] ? timeout : NULL);
    if (sig > 0 && a->arg[1]) {
        uint8_t out[128];
        siginfo_to_user32(&info, out);
        if (copy_to_user(a->arg[1], out, sizeof(out)))
            return -EFAULT;
    }
    return sig;
}

long sys32_rt_sigtimedwait(const struct sysargs *a)
{
    return sigtimedwait32(a, false);
}

long sys32_rt_sigtimedwait_time64(const struct sysargs *a)
{
    return sigtimedwait32(a, true);
}

long sys32_clock_nanosleep(const struct sysargs *a)
{
    struct timespec32 ts;
    if (copy_from_user(&ts, a->arg[2], sizeof(ts)))
        return -EFAULT;
    return do_clock_nanosleep((int)a->arg[0], (int)a->arg[1], ts.tv_sec, ts.tv_nsec, a->arg[3],
                              true);
}

long sys32_clock_nanosleep_time64(const struct sysargs *a)
{
    int64_t ts[2];
    if (copy_from_user(ts, a->arg[2], sizeof(ts)))
        return -EFAULT;
    return do_clock_nanosleep((int)a->arg[0], (int)a->arg[1], ts[0], ts[1], a->arg[3], false);
}
