/*
 * Resource limits: getrlimit, setrlimit, prlimit64 (Linux's do_prlimit,
 * kernel/sys.c), and the i386 forms through rlimit_get/rlimit_set.
 *
 * Each task keeps the limits it was given (t->rlim, with a bit in
 * t->rlim_set); a limit never set has the default below, which says what
 * mmk really does:
 *  - RLIMIT_NOFILE: FD_MAX for both values, the size of the descriptor
 *    table; a lower soft limit is honoured by every descriptor allocation
 *    (task_nofile, kernel/fs/file.c), and a hard limit above FD_MAX is
 *    -EPERM, as Linux refuses one above fs.nr_open;
 *  - RLIMIT_STACK: soft 8 MiB, the stack exec maps; hard unlimited;
 *  - RLIMIT_NPROC: MAX_TASKS, the task table (not a per-user count: root
 *    is not held to it on Linux either);
 *  - RLIMIT_CORE: soft 0 (no core files are written), hard unlimited;
 *  - RLIMIT_NICE, RLIMIT_RTPRIO: 0, Linux's defaults (nothing here uses them);
 *  - every other limit unlimited: nothing enforces it.
 * The values set are kept and reported, and inherited by fork and exec;
 * only RLIMIT_NOFILE is enforced.  Raising a hard limit needs
 * CAP_SYS_RESOURCE, which only euid 0 has here.
 */
#include <kernel/syscall.h>
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>

#define RLIM_INFINITY (~0ul)
#define RLIMIT_STACK  3
#define RLIMIT_CORE   4
#define RLIMIT_NPROC  6
#define RLIMIT_NICE   13
#define RLIMIT_RTPRIO 14
#define STACK_DEFAULT (8ul << 20)   /* kernel/proc/exec.c's STACK_SIZE */

static struct rlimit64 default_limit(int r)
{
    switch (r) {
    case RLIMIT_NOFILE: return (struct rlimit64){ FD_MAX, FD_MAX };
    case RLIMIT_STACK:  return (struct rlimit64){ STACK_DEFAULT, RLIM_INFINITY };
    case RLIMIT_NPROC:  return (struct rlimit64){ MAX_TASKS, MAX_TASKS };
    case RLIMIT_CORE:   return (struct rlimit64){ 0, RLIM_INFINITY };
    case RLIMIT_NICE:
    case RLIMIT_RTPRIO: return (struct rlimit64){ 0, 0 };
    default:            return (struct rlimit64){ RLIM_INFINITY, RLIM_INFINITY };
    }
}

static struct rlimit64 limit_of(const struct task *t, int r)
{
    if ((t->rlim_set >> r) & 1)
        return (struct rlimit64){ t->rlim[r].cur, t->rlim[r].max };
    return default_limit(r);
}

long rlimit_do(int pid, unsigned resource, const struct rlimit64 *new, struct rlimit64 *old)
{
    struct task *t = pid ? task_find(pid) : current;   /* a zombie still has its limits */
    if (!t)
        return -ESRCH;
    if (resource >= TASK_NRLIMITS)
        return -EINVAL;
    int r = (int)resource;
    struct rlimit64 cur = limit_of(t, r);
    if (new) {
        if (new->cur > new->max)
            return -EINVAL;
        if (r == RLIMIT_NOFILE && new->max > FD_MAX)
            return -EPERM;   /* Linux: above fs.nr_open */
        if (new->max > cur.max && current->euid != 0)
            return -EPERM;   /* raising the hard limit: CAP_SYS_RESOURCE */
    }
    if (old)
        *old = cur;
    if (new) {
        t->rlim[r].cur = new->cur;
        t->rlim[r].max = new->max;
        t->rlim_set |= 1u << r;
    }
    return 0;
}

long sys_getrlimit(const struct sysargs *a)
{
    struct rlimit64 r;
    long err = rlimit_do(0, (unsigned)a->arg[0], NULL, &r);
    if (err)
        return err;
    return copy_to_user(a->arg[1], &r, sizeof(r)) ? -EFAULT : 0;
}

long sys_setrlimit(const struct sysargs *a)
{
    struct rlimit64 r;
    if (copy_from_user(&r, a->arg[1], sizeof(r)))
        return -EFAULT;
    return rlimit_do(0, (unsigned)a->arg[0], &r, NULL);
}

/* prlimit64(pid, resource, new, old): new is read first (-EFAULT), then
 * the task (-ESRCH), then the checks; old is written last. */
long sys_prlimit64(const struct sysargs *a)
{
    struct rlimit64 n, o;
    if (a->arg[2] && copy_from_user(&n, a->arg[2], sizeof(n)))
        return -EFAULT;
    long err = rlimit_do((int)a->arg[0], (unsigned)a->arg[1], a->arg[2] ? &n : NULL,
                         a->arg[3] ? &o : NULL);
    if (!err && a->arg[3] && copy_to_user(a->arg[3], &o, sizeof(o)))
        return -EFAULT;
    return err;
}
