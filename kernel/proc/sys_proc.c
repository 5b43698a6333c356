/*
 * The small process system calls: identity, time, sleeping, resource
 * usage, randomness, and the few calls musl's start-up makes that we
 * only need to accept (signals, thread pointer, limits).
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
    return current->pid;
}

long sys_gettid(const struct sysargs *a)
{
    (void)a;
    return current->pid;   /* one thread per process */
}

long sys_getppid(const struct sysargs *a)
{
    (void)a;
    return current->parent ? current->parent->pid : 0;
}

long sys_getuid(const struct sysargs *a)
{
    (void)a;
    return 0;   /* everyone is root: there is no user database */
}

long sys_sched_yield(const struct sysargs *a)
{
    (void)a;
    schedule();
    return 0;
}

long sys_set_tid_address(const struct sysargs *a)
{
    (void)a;   /* no threads: nobody waits on the address */
    return current->pid;
}

#define SIGSET_SIZE 8   /* Linux's kernel sigset_t: 64 signals */
#define SIGACTION_SIZE 32

long do_rt_sigaction(int sig, uint64_t act, uint64_t oldact, uint64_t sigsetsize, size_t size)
{
    if (sigsetsize != SIGSET_SIZE)
        return -EINVAL;
    if (sig < 1 || sig > 64)
        return -EINVAL;
    if (act) {
        uint8_t k[SIGACTION_SIZE];
        if (copy_from_user(k, act, size))
            return -EFAULT;
        if (sig == SIGKILL || sig == 19 /* SIGSTOP */)
            return -EINVAL;
    }
    /* Handlers are accepted but never called: signals are fatal or ignored. */
    if (oldact) {
        uint8_t zero[SIGACTION_SIZE] = { 0 };
        if (copy_to_user(oldact, zero, size))
            return -EFAULT;
    }
    return 0;
}

long sys_rt_sigaction(const struct sysargs *a)
{
    return do_rt_sigaction((int)a->arg[0], a->arg[1], a->arg[2], a->arg[3], SIGACTION_SIZE);
}

long sys_rt_sigprocmask(const struct sysargs *a)
{
    uint64_t set = a->arg[1], oldset = a->arg[2];
    if (a->arg[3] != SIGSET_SIZE)
        return -EINVAL;
    if (set) {
        uint64_t k;
        if (copy_from_user(&k, set, sizeof(k)))
            return -EFAULT;
        if (a->arg[0] > 2)
            return -EINVAL;
    }
    if (oldset) {
        uint64_t zero = 0;
        if (copy_to_user(oldset, &zero, sizeof(zero)))
            return -EFAULT;
    }
    return 0;
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

struct timespec64 {
    int64_t tv_sec, tv_nsec;
};

/* Nanoseconds since boot, from the TSC calibrated by kernel/cpu/apic.c. */
uint64_t now_ns(void)
{
    uint64_t hz = tsc_hz();
    if (!hz)
        return 0;
    uint64_t t = rdtsc();
    return t / hz * 1000000000ul + t % hz * 1000000000ul / hz;
}

long sys_clock_gettime(const struct sysargs *a)
{
    int clock = (int)a->arg[0];
    if (clock < 0 || clock > 7)
        return -EINVAL;
    uint64_t ns = now_ns();
    struct timespec64 ts = { (int64_t)(ns / 1000000000ul), (int64_t)(ns % 1000000000ul) };
    return copy_to_user(a->arg[1], &ts, sizeof(ts));
}

long sys_nanosleep(const struct sysargs *a)
{
    struct timespec64 ts;
    if (copy_from_user(&ts, a->arg[0], sizeof(ts)))
        return -EFAULT;
    return nanosleep_for(ts.tv_sec, ts.tv_nsec);
}

long nanosleep_for(int64_t sec, int64_t nsec)
{
    struct timespec64 ts = { sec, nsec };
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
        return -EINVAL;
    /* in ticks, rounded up; a duration beyond any uptime sleeps "forever" */
    uint64_t limit = (UINT64_MAX - ticks_now()) / 2 / HZ;
    uint64_t t = (uint64_t)ts.tv_sec >= limit ? UINT64_MAX / 2
               : (uint64_t)ts.tv_sec * HZ + ((uint64_t)ts.tv_nsec * HZ + 999999999) / 1000000000;
    if (t) {
        current->wake_tick = ticks_now() + t;
        sleep_on(&current->wake_tick);
    }
    return 0;   /* rem is written only when a signal interrupts: never here */
}

_Static_assert(sizeof(struct rusage) == 144, "struct rusage: Linux x86-64 layout");

long sys_getrusage(const struct sysargs *a)
{
    struct rusage r;
    int err = rusage_fill((int)a->arg[0], &r);
    return err ? err : copy_to_user(a->arg[1], &r, sizeof(r));
}

int rusage_fill(int who, struct rusage *r0)
{
    if (who != 0 /* RUSAGE_SELF */ && who != -1 /* RUSAGE_CHILDREN */)
        return -EINVAL;
    struct rusage r;
    memset(&r, 0, sizeof(r));
    if (who == 0) {
        r.ru_utime.tv_sec = (int64_t)(current->utime_ticks / HZ);
        r.ru_utime.tv_usec = (int64_t)(current->utime_ticks % HZ * (1000000 / HZ));
        r.ru_stime.tv_sec = (int64_t)(current->stime_ticks / HZ);
        r.ru_stime.tv_usec = (int64_t)(current->stime_ticks % HZ * (1000000 / HZ));
        if (current->mm) {
            r.ru_minflt = (int64_t)mm_minor_faults(current->mm);
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

long sys_prlimit64(const struct sysargs *a)
{
    if (a->arg[0] != 0 && (int)a->arg[0] != current->pid)
        return -ESRCH;
    if (a->arg[1] > 15)
        return -EINVAL;
    if (a->arg[3]) {
        uint64_t inf[2] = { ~0ul, ~0ul };   /* RLIM_INFINITY */
        if (a->arg[1] == 3 /* RLIMIT_STACK */)
            inf[0] = 8ul << 20;
        if (copy_to_user(a->arg[3], inf, sizeof(inf)))
            return -EFAULT;
    }
    return 0;
}
