/*
 * The x86-64 signal system calls that set or read state: rt_sigaction,
 * rt_sigprocmask, rt_sigpending, sigaltstack, kill, tkill, tgkill.  Each
 * copies Linux's x86-64 structure in, calls the work of
 * kernel/proc/signal.c or sig_action.c, and copies the answer out; the
 * i386 versions (compat32/signal32.c) do the same with the i386
 * structures.  The errors and their order are Linux's (kernel/signal.c):
 * a bad sigsetsize first (-EINVAL), then a bad pointer to read
 * (-EFAULT), then a bad argument (-EINVAL), then the answer's pointer
 * (-EFAULT, after the change was made).
 */
#include <kernel/sigdeliver.h>
#include <kernel/errno.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>

/* struct sigaction as the x86-64 kernel takes it (not libc's). */
struct sigaction64 {
    uint64_t handler, flags, restorer;
    ksigset_t mask;
};
_Static_assert(sizeof(struct sigaction64) == 32, "struct sigaction: Linux x86-64 layout");

/* stack_t */
struct stack64 {
    uint64_t ss_sp;
    int32_t ss_flags;
    uint32_t pad;
    uint64_t ss_size;
};

long sys_rt_sigaction(const struct sysargs *a)
{
    int sig = (int)a->arg[0];
    uint64_t uact = a->arg[1], uoact = a->arg[2];
    if (a->arg[3] != sizeof(ksigset_t))
        return -EINVAL;
    struct sigaction64 u;
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
        u = (struct sigaction64){ oact.handler, oact.flags, oact.restorer, oact.mask };
        if (copy_to_user(uoact, &u, sizeof(u)))
            return -EFAULT;
    }
    return 0;
}

long sys_rt_sigprocmask(const struct sysargs *a)
{
    int how = (int)a->arg[0];
    uint64_t uset = a->arg[1], uoset = a->arg[2];
    if (a->arg[3] != sizeof(ksigset_t))
        return -EINVAL;
    ksigset_t old = current->sig.blocked, set;
    if (uset) {
        if (copy_from_user(&set, uset, sizeof(set)))
            return -EFAULT;
        int err = do_sigprocmask(how, set, NULL);
        if (err)
            return err;
    }
    if (uoset && copy_to_user(uoset, &old, sizeof(old)))
        return -EFAULT;
    return 0;
}

long sys_rt_sigpending(const struct sysargs *a)
{
    /* Linux takes any size up to its own and writes that many bytes. */
    if (a->arg[1] > sizeof(ksigset_t))
        return -EINVAL;
    ksigset_t set = current->sig.pending & current->sig.blocked;
    return copy_to_user(a->arg[0], &set, a->arg[1]) ? -EFAULT : 0;
}

long sys_sigaltstack(const struct sysargs *a)
{
    uint64_t uss = a->arg[0], uoss = a->arg[1];
    struct stack64 u;
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
        u = (struct stack64){ oss.sp, oss.flags, 0, oss.size };
        if (copy_to_user(uoss, &u, sizeof(u)))
            return -EFAULT;
    }
    return 0;
}

long sys_kill(const struct sysargs *a)
{
    return kill_something((int)a->arg[0], (int)a->arg[1]);
}

long sys_tkill(const struct sysargs *a)
{
    return kill_task(0, (int)a->arg[0], (int)a->arg[1], SI_TKILL);
}

long sys_tgkill(const struct sysargs *a)
{
    int tgid = (int)a->arg[0];
    return tgid <= 0 ? -EINVAL : kill_task(tgid, (int)a->arg[1], (int)a->arg[2], SI_TKILL);
}
