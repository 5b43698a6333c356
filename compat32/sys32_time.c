/*
 * The i386 forms of the clock calls that set or ask for resolutions
 * (docs/time.md): clock_getres and clock_settime with the old 32-bit
 * timespec, settimeofday with the old 32-bit timeval, and stime.  The
 * *_time64 forms (clock_getres_time64, clock_settime64) take x86-64's
 * 16-byte timespec and are the 64-bit handlers themselves.  time,
 * gettimeofday and clock_gettime are with the rest of their kind
 * (compat32/sys32_sys.c, compat32/sys32.c).  Layouts: Linux's
 * struct old_timespec32 and old_timeval32 (include/vdso/time32.h).
 *
 * Invariant: as everywhere in compat32/, each handler translates and
 * calls the 64-bit work (kernel/proc/timekeeping.c), so the checks and
 * their order are the same on both ABIs.
 */
#include <compat32/compat32.h>
#include <kernel/errno.h>
#include <kernel/syscall.h>
#include <kernel/time.h>
#include <kernel/uaccess.h>

struct old_timespec32 {
    int32_t tv_sec, tv_nsec;
};

long sys32_clock_getres(const struct sysargs *a)
{
    struct kernel_timespec k;
    int err = clock_resolution((int)a->arg[0], &k);
    if (err || !a->arg[1])
        return err;
    struct old_timespec32 ts = { (int32_t)k.tv_sec, (int32_t)k.tv_nsec };
    return copy_to_user(a->arg[1], &ts, sizeof(ts)) ? -EFAULT : 0;
}

long sys32_clock_settime(const struct sysargs *a)
{
    int clock = (int)a->arg[0];
    struct old_timespec32 ts;
    if (clock >= 0 && clock != CLOCK_REALTIME)
        return -EINVAL;
    if (copy_from_user(&ts, a->arg[1], sizeof(ts)))
        return -EFAULT;
    struct kernel_timespec k = { ts.tv_sec, ts.tv_nsec };
    return clock_set(clock, &k);
}

/* settimeofday(struct old_timeval32 *tv, struct timezone *tz) */
long sys32_settimeofday(const struct sysargs *a)
{
    struct kernel_timespec k;
    struct kernel_timezone tz;
    if (a->arg[0]) {
        int32_t tv[2];
        if (copy_from_user(tv, a->arg[0], sizeof(tv)))
            return -EFAULT;
        if (tv[1] > 1000000 || tv[1] < 0)
            return -EINVAL;
        k = (struct kernel_timespec){ tv[0], (int64_t)tv[1] * NSEC_PER_USEC };
    }
    if (a->arg[1] && copy_from_user(&tz, a->arg[1], sizeof(tz)))
        return -EFAULT;
    return settimeofday_do(a->arg[0] ? &k : NULL, a->arg[1] ? &tz : NULL);
}

/* stime(int32_t *t): the wall clock to t seconds (i386 only). */
long sys32_stime(const struct sysargs *a)
{
    int32_t t;
    if (copy_from_user(&t, a->arg[0], sizeof(t)))
        return -EFAULT;
    struct kernel_timespec k = { t, 0 };
    return settimeofday_do(&k, NULL);
}
