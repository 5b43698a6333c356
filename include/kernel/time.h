/*
 * Clocks (docs/time.md): the time since boot, from the TSC that
 * kernel/cpu/apic.c calibrates, and the wall-clock time, which is the
 * CMOS real-time clock read once at boot (kernel/cpu/rtc.c) plus the time
 * since boot.  settimeofday and clock_settime move the wall clock only.
 *
 *   boot clock (now_ns)  --------------------------->  MONOTONIC, BOOTTIME, RAW
 *   + realtime offset    --------------------------->  REALTIME, TAI
 *   rounded down to a timer tick  ------------------>  the *_COARSE clocks
 *   the task's ticks (HZ)  ------------------------->  PROCESS/THREAD_CPUTIME_ID
 *
 * Code: kernel/proc/timekeeping.c (the clocks), kernel/proc/sys_time.c
 * (the system calls), kernel/lib/rtc_time.c (dates to seconds, pure),
 * kernel/cpu/rtc.c (the CMOS ports), compat32/sys32_time.c (i386 forms).
 */
#ifndef KERNEL_TIME_H
#define KERNEL_TIME_H

#include <kernel/types.h>

#define NSEC_PER_SEC  1000000000l
#define NSEC_PER_USEC 1000l

/* Linux's clock ids (include/uapi/linux/time.h). */
#define CLOCK_REALTIME           0
#define CLOCK_MONOTONIC          1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID  3
#define CLOCK_MONOTONIC_RAW      4
#define CLOCK_REALTIME_COARSE    5
#define CLOCK_MONOTONIC_COARSE   6
#define CLOCK_BOOTTIME           7
#define CLOCK_REALTIME_ALARM     8
#define CLOCK_BOOTTIME_ALARM     9
#define CLOCK_TAI                11

/* struct __kernel_timespec: x86-64's timespec, and i386's 64-bit one. */
struct kernel_timespec {
    int64_t tv_sec, tv_nsec;
};

/* struct timezone (gettimeofday, settimeofday). */
struct kernel_timezone {
    int32_t tz_minuteswest, tz_dsttime;
};

/* ---- the clocks (kernel/proc/timekeeping.c) --------------------------------------- */

/* Nanoseconds since the machine started (the TSC; 0 before apic_init). */
uint64_t now_ns(void);
/* Read the RTC and start the wall clock; after apic_init. */
void timekeeping_init(void);
/* Nanoseconds since 1970 (UTC), the wall clock. */
int64_t realtime_ns(void);
/* The wall clock at boot-clock time 0: realtime_ns() - now_ns(). */
int64_t realtime_offset_ns(void);

/*
 * clock_gettime's work for any clock id, with Linux's errors: -EINVAL
 * for an unknown id (also the alarm clocks: no RTC alarm device here, as
 * on a Linux without one), for a CPU clock of a task that does not exist
 * or another process's thread clock.  Negative ids are CPU clocks of a
 * pid (Linux's encoding: ~pid << 3 | type, bit 2 per-thread).
 */
int clock_read(int clock, struct kernel_timespec *ts);
/* clock_getres: the same ids and errors; res may be NULL (only checks). */
int clock_resolution(int clock, struct kernel_timespec *res);
/*
 * clock_settime's work: only CLOCK_REALTIME can be set (-EINVAL for the
 * other clocks; -EPERM for a CPU clock, as Linux).  Setting takes root
 * (-EPERM); ts must be a valid time no earlier than the boot clock
 * (-EINVAL, Linux's order: validity first, then permission).
 */
int clock_set(int clock, const struct kernel_timespec *ts);
/*
 * settimeofday's work (Linux's do_sys_settimeofday64): tv and tz may be
 * NULL.  -EINVAL for a bad tv, -EPERM without root, -EINVAL for a zone
 * beyond 15 hours.  The zone is kept and gettimeofday reports it.
 */
int settimeofday_do(const struct kernel_timespec *tv, const struct kernel_timezone *tz);
/* The zone settimeofday set (0, 0 at boot). */
struct kernel_timezone timezone_get(void);
/* An absolute time on clock (clock_nanosleep's TIMER_ABSTIME, futex's
 * FUTEX_CLOCK_REALTIME) as a now_ns() deadline; 0 when it has passed. */
uint64_t clock_abs_to_boot(int clock, int64_t sec, int64_t nsec);

/* ---- the RTC (kernel/cpu/rtc.c, kernel/lib/rtc_time.c) ----------------------------- */

/* The CMOS registers a read gives, as they are (BCD or binary). */
struct rtc_regs {
    uint8_t sec, min, hour, mday, mon, year, century;
    uint8_t status_b;        /* register B: bit 1 24-hour, bit 2 binary */
};
/* Read the CMOS clock (two equal reads outside an update); false when no
 * clock answers. */
bool rtc_read(struct rtc_regs *r);
/* The registers as seconds since 1970; -1 when they are no valid date. */
int64_t rtc_regs_to_time(const struct rtc_regs *r);
/* Seconds since 1970 of a UTC date (Linux's mktime64): mon 1..12. */
int64_t mktime64(int64_t year, int mon, int day, int hour, int min, int sec);

#endif
