/*
 * The clock system calls (docs/time.md): clock_gettime, clock_getres,
 * clock_settime, gettimeofday, settimeofday, time, and getcpu (which the
 * vDSO also offers).  Each one copies the user's structure in or out
 * around the work in kernel/proc/timekeeping.c, with Linux's order of
 * errors: the clock id first (-EINVAL), then the pointer (-EFAULT).  The
 * i386 forms, with their 32-bit time_t, are in compat32/sys32_time.c.
 */
#include <kernel/percpu.h>
#include <kernel/syscall.h>
#include <kernel/errno.h>
#include <kernel/time.h>
#include <kernel/uaccess.h>
#include <mm/numa.h>

long sys_clock_gettime(const struct sysargs *a)
{
    struct kernel_timespec ts;
    int err = clock_read((int)a->arg[0], &ts);
    if (err)
        return err;
    return copy_to_user(a->arg[1], &ts, sizeof(ts)) ? -EFAULT : 0;
}

/* clock_getres(clock, res): res may be NULL (the call then only says
 * whether the clock exists). */
long sys_clock_getres(const struct sysargs *a)
{
    struct kernel_timespec ts;
    int err = clock_resolution((int)a->arg[0], &ts);
    if (err)
        return err;
    return a->arg[1] && copy_to_user(a->arg[1], &ts, sizeof(ts)) ? -EFAULT : 0;
}

long sys_clock_settime(const struct sysargs *a)
{
    int clock = (int)a->arg[0];
    struct kernel_timespec ts;
    /* Linux looks the clock up first: a clock that cannot be set is
     * -EINVAL even with a bad pointer. */
    if (clock >= 0 && clock != CLOCK_REALTIME)
        return -EINVAL;
    if (copy_from_user(&ts, a->arg[1], sizeof(ts)))
        return -EFAULT;
    return clock_set(clock, &ts);
}

struct timeval64 {
    int64_t tv_sec, tv_usec;
};

/* gettimeofday(tv, tz): each one written only when given. */
long sys_gettimeofday(const struct sysargs *a)
{
    if (a->arg[0]) {
        struct kernel_timespec ts;
        clock_read(CLOCK_REALTIME, &ts);
        struct timeval64 tv = { ts.tv_sec, ts.tv_nsec / NSEC_PER_USEC };
        if (copy_to_user(a->arg[0], &tv, sizeof(tv)))
            return -EFAULT;
    }
    if (a->arg[1]) {
        struct kernel_timezone tz = timezone_get();
        if (copy_to_user(a->arg[1], &tz, sizeof(tz)))
            return -EFAULT;
    }
    return 0;
}

/* settimeofday(tv, tz): microseconds out of [0, 1000000] are -EINVAL
 * before anything else, as Linux checks them while copying in. */
long sys_settimeofday(const struct sysargs *a)
{
    struct kernel_timespec ts;
    struct kernel_timezone tz;
    if (a->arg[0]) {
        struct timeval64 tv;
        if (copy_from_user(&tv, a->arg[0], sizeof(tv)))
            return -EFAULT;
        if (tv.tv_usec > 1000000 || tv.tv_usec < 0)
            return -EINVAL;
        ts = (struct kernel_timespec){ tv.tv_sec, tv.tv_usec * NSEC_PER_USEC };
    }
    if (a->arg[1] && copy_from_user(&tz, a->arg[1], sizeof(tz)))
        return -EFAULT;
    return settimeofday_do(a->arg[0] ? &ts : NULL, a->arg[1] ? &tz : NULL);
}

/* time(tloc): the seconds, also stored at tloc when given. */
long sys_time(const struct sysargs *a)
{
    struct kernel_timespec ts;
    clock_read(CLOCK_REALTIME, &ts);
    if (a->arg[0] && copy_to_user(a->arg[0], &ts.tv_sec, sizeof(ts.tv_sec)))
        return -EFAULT;
    return ts.tv_sec;
}

/* getcpu(cpu, node, cache): the CPU the caller runs on (it may be on
 * another by the time it looks: Linux says the same), and that CPU's
 * node (numa_node_id, from the SRAT), where its allocations start; the
 * cache argument has been ignored by Linux since 2.6.24. */
long sys_getcpu(const struct sysargs *a)
{
    uint32_t cpu = smp_processor_id(), node = (uint32_t)numa_node_id();
    if (a->arg[0] && copy_to_user(a->arg[0], &cpu, sizeof(cpu)))
        return -EFAULT;
    if (a->arg[1] && copy_to_user(a->arg[1], &node, sizeof(node)))
        return -EFAULT;
    return 0;
}
