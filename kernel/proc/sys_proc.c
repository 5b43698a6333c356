/*
 * The small process system calls: pids, resource usage, randomness,
 * and the thread pointer.  The clocks are in kernel/proc/timekeeping.c
 * and sys_time.c (docs/time.md).  Signals are in kernel/proc/sig_*.c,
 * sleeping in kernel/proc/sig_wait.c; user and group ids, limits, prctl
 * and the rest of "sys"'s calls in kernel/proc/sys_*.c (docs/syscalls.md).
 */
#include <kernel/syscall.h>
#include <kernel/apic.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>
#include <kernel/x86.h>
#include <mm/vma.h>

long sys_getpid(const struct sysargs *a)
{
    (void)a;
    return current->tgid;   /* the process: its thread group (docs/threads.md) */
}

long sys_gettid(const struct sysargs *a)
{
    (void)a;
    return current->pid;    /* the thread */
}

long sys_getppid(const struct sysargs *a)
{
    (void)a;
    return current->parent ? current->parent->tgid : 0;
}

long sys_sched_yield(const struct sysargs *a)
{
    (void)a;
    schedule();
    return 0;
}

long sys_set_tid_address(const struct sysargs *a)
{
    /* 0 is written there at exit when another task shares the mm
     * (CLONE_VM: kernel/proc/fork.c), as Linux's clear_child_tid, and a
     * futex waiter woken (pthread_join).  The thread's id comes back. */
    current->clear_child_tid = a->arg[0];
    return current->pid;
}

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

long sys_arch_prctl(const struct sysargs *a)
{
    switch (a->arg[0]) {
    case ARCH_SET_FS:
        if (a->arg[1] >= 0x0000800000000000ul)
            return -EPERM;   /* a user thread pointer must be a user address */
        current->fs_base = a->arg[1];
        wrmsr(MSR_FS_BASE, current->fs_base);
        return 0;
    case ARCH_GET_FS:
        return copy_to_user(a->arg[1], &current->fs_base, sizeof(uint64_t));
    default:
        return -EINVAL;
    }
}

struct utsname {
    char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
};

long sys_uname(const struct sysargs *a)
{
    struct utsname u;
    memset(&u, 0, sizeof(u));
    strlcpy(u.sysname, "Linux", sizeof(u.sysname));        /* the ABI we speak; programs test for it */
    strlcpy(u.nodename, "mmk", sizeof(u.nodename));
    strlcpy(u.release, "6.1.0-mmk", sizeof(u.release));
    strlcpy(u.version, KERNEL_TITLE, sizeof(u.version));
    strlcpy(u.machine, "x86_64", sizeof(u.machine));
    return copy_to_user(a->arg[0], &u, sizeof(u));
}

_Static_assert(sizeof(struct rusage) == 144, "struct rusage: Linux x86-64 layout");

long sys_getrusage(const struct sysargs *a)
{
    struct rusage r;
    int err = rusage_fill((int)a->arg[0], &r);
    return err ? err : copy_to_user(a->arg[1], &r, sizeof(r));
}

#define RUSAGE_THREAD 1   /* the calling thread only (Linux's, since 2.6.26) */

int rusage_fill(int who, struct rusage *r0)
{
    if (who != 0 /* RUSAGE_SELF */ && who != -1 /* RUSAGE_CHILDREN */ && who != RUSAGE_THREAD)
        return -EINVAL;
    struct rusage r;
    memset(&r, 0, sizeof(r));
    if (who >= 0) {
        /* RUSAGE_SELF: every live thread of the process (the times of
         * threads gone are not kept); RUSAGE_THREAD: the caller's own. */
        uint64_t ut = 0, st = 0;
        for (int i = 0; i < MAX_TASKS; i++) {
            struct task *o = task_slot(i);
            if (o && (o == current || (who == 0 && o->tgid == current->tgid &&
                                       o->state != TASK_ZOMBIE))) {
                ut += o->utime_ticks;
                st += o->stime_ticks;
            }
        }
        r.ru_utime.tv_sec = (int64_t)(ut / HZ);
        r.ru_utime.tv_usec = (int64_t)(ut % HZ * (1000000 / HZ));
        r.ru_stime.tv_sec = (int64_t)(st / HZ);
        r.ru_stime.tv_usec = (int64_t)(st % HZ * (1000000 / HZ));
        if (current->mm) {
            r.ru_minflt = (int64_t)mm_minor_faults(current->mm);
            r.ru_majflt = (int64_t)current->mm->major_faults;   /* pages read from swap */
            r.ru_maxrss = (int64_t)(mm_max_rss_pages(current->mm) * 4);
        }
    }
    *r0 = r;
    return 0;
}

/* xorshift64* seeded from the TSC: not cryptographic, and says so in the docs. */
static uint64_t rng_state;

uint64_t kernel_random(void)
{
    if (!rng_state)
        rng_state = rdtsc() | 1;
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dul;
}

long sys_getrandom(const struct sysargs *a)
{
    uint64_t buf = a->arg[0], len = a->arg[1];
    if (a->arg[2] & ~7ul)
        return -EINVAL;
    if (len > 33554431)
        len = 33554431;
    for (uint64_t done = 0; done < len; done += 8) {
        uint64_t r = kernel_random();
        if (copy_to_user(buf + done, &r, len - done < 8 ? len - done : 8))
            return done ? (long)done : -EFAULT;   /* the bytes copied, as Linux */
    }
    return (long)len;
}
