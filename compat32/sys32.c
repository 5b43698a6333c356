/*
 * i386 system calls whose structures differ from x86-64's: processes,
 * time and memory.  Each one translates between the i386 layout and the
 * kernel's, and calls the same work as the 64-bit handler, so the two
 * ABIs cannot drift apart in anything but the layout.
 *
 * Why these differ: on i386 a `long` and a pointer are 4 bytes, so every
 * structure made of them shrinks (struct rusage, struct timespec in its
 * old 32-bit-time form, the vectors of execve), and a few calls pass a
 * 64-bit quantity or a big offset in another shape (mmap2 counts its
 * offset in 4096-byte pages, so a 32-bit argument reaches 16 TiB).
 * Layouts: Linux's compat structures (include/linux/compat.h,
 * arch/x86/include/asm/compat.h).
 *
 * Invariant: every handler here copies in the i386 structure, calls the
 * 64-bit work, and copies out a fully written i386 structure (no byte of
 * kernel memory reaches user space through padding); a bad pointer is
 * -EFAULT before anything is changed, as in the 64-bit handler.
 */
#include <compat32/compat32.h>
#include <kernel/errno.h>
#include <kernel/exec.h>
#include <kernel/string.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/time.h>
#include <kernel/uaccess.h>

/* ---- execve: vectors of 4-byte pointers ------------------------------------- */

long sys32_execve(const struct sysargs *a)
{
    return do_execve(a->arg[0], a->arg[1], a->arg[2], 4);
}

/* ---- wait4, waitpid, getrusage: struct rusage with 4-byte longs ---------------- */

struct rusage32 {
    struct { int32_t tv_sec, tv_usec; } ru_utime, ru_stime;
    int32_t ru_maxrss, ru_ixrss, ru_idrss, ru_isrss, ru_minflt, ru_majflt, ru_nswap,
        ru_inblock, ru_oublock, ru_msgsnd, ru_msgrcv, ru_nsignals, ru_nvcsw, ru_nivcsw;
};
_Static_assert(sizeof(struct rusage32) == 72, "struct rusage: Linux i386 layout");

long sys32_wait4(const struct sysargs *a)
{
    return do_wait4((int)a->arg[0], a->arg[1], (int)a->arg[2], a->arg[3],
                    sizeof(struct rusage32));
}

/* waitpid(pid, status, options): wait4 without the rusage. */
long sys32_waitpid(const struct sysargs *a)
{
    return do_wait4((int)a->arg[0], a->arg[1], (int)a->arg[2], 0, 0);
}

long sys32_getrusage(const struct sysargs *a)
{
    struct rusage r;
    int err = rusage_fill((int)a->arg[0], &r);
    if (err)
        return err;
    /* Values too big for 32 bits are cut, as Linux's put_compat_rusage does. */
    struct rusage32 c = {
        .ru_utime = { (int32_t)r.ru_utime.tv_sec, (int32_t)r.ru_utime.tv_usec },
        .ru_stime = { (int32_t)r.ru_stime.tv_sec, (int32_t)r.ru_stime.tv_usec },
        .ru_maxrss = (int32_t)r.ru_maxrss, .ru_ixrss = (int32_t)r.ru_ixrss,
        .ru_idrss = (int32_t)r.ru_idrss, .ru_isrss = (int32_t)r.ru_isrss,
        .ru_minflt = (int32_t)r.ru_minflt, .ru_majflt = (int32_t)r.ru_majflt,
        .ru_nswap = (int32_t)r.ru_nswap, .ru_inblock = (int32_t)r.ru_inblock,
        .ru_oublock = (int32_t)r.ru_oublock, .ru_msgsnd = (int32_t)r.ru_msgsnd,
        .ru_msgrcv = (int32_t)r.ru_msgrcv, .ru_nsignals = (int32_t)r.ru_nsignals,
        .ru_nvcsw = (int32_t)r.ru_nvcsw, .ru_nivcsw = (int32_t)r.ru_nivcsw,
    };
    return copy_to_user(a->arg[1], &c, sizeof(c));
}

/* ---- time: the old 32-bit-time timespec -------------------------------------------- */

/* struct old_timespec32: what nanosleep (162) and clock_gettime (265) take.
 * The *_time64 calls (clock_gettime64, 403) use x86-64's 16-byte
 * timespec and are the 64-bit handlers themselves. */
struct timespec32 {
    int32_t tv_sec, tv_nsec;
};

long sys32_nanosleep(const struct sysargs *a)
{
    struct timespec32 ts;
    if (copy_from_user(&ts, a->arg[0], sizeof(ts)))
        return -EFAULT;
    return nanosleep_for(ts.tv_sec, ts.tv_nsec, a->arg[1], true);
}

/* The work is kernel/proc/timekeeping.c's; the seconds are cut to 32
 * bits as Linux's put_old_timespec32 cuts them (the wall clock fits
 * until 2038: the *_time64 calls are for after). */
long sys32_clock_gettime(const struct sysargs *a)
{
    struct kernel_timespec k;
    int err = clock_read((int)a->arg[0], &k);
    if (err)
        return err;
    struct timespec32 ts = { (int32_t)k.tv_sec, (int32_t)k.tv_nsec };
    return copy_to_user(a->arg[1], &ts, sizeof(ts)) ? -EFAULT : 0;
}

/* ---- mmap2 and the old mmap ----------------------------------------------------------- */

/* mmap2(addr, len, prot, flags, fd, pgoff): the offset in 4096-byte pages. */
long sys32_mmap2(const struct sysargs *a)
{
    struct sysargs b = *a;
    b.arg[5] = a->arg[5] << 12;
    return sys_mmap(&b);
}

/* mmap (90): one pointer to the six arguments, the offset in bytes (it
 * must be page aligned). */
long sys32_old_mmap(const struct sysargs *a)
{
    uint32_t v[6];
    if (copy_from_user(v, a->arg[0], sizeof(v)))
        return -EFAULT;
    if (v[5] & 4095)
        return -EINVAL;
    struct sysargs b = { { v[0], v[1], v[2], v[3], (uint64_t)(int64_t)(int32_t)v[4], v[5] } };
    return sys_mmap(&b);
}
