/*
 * The clocks (include/kernel/time.h, docs/time.md).
 *
 * One source of time: the TSC, counting since the machine was powered
 * on at the rate kernel/cpu/apic.c measured against the PIT.  now_ns()
 * turns it into nanoseconds: the boot clock, which every sleep, timeout
 * and uptime in the kernel reads, and which never goes back.  The wall
 * clock is the boot clock plus an offset: at boot, the CMOS clock's date
 * less the boot clock's reading then (kernel/cpu/rtc.c); settimeofday
 * and clock_settime change the offset, nothing else.  So:
 *
 *   MONOTONIC = BOOTTIME = MONOTONIC_RAW = now_ns()   (nothing is suspended,
 *                                                       nothing slews the rate)
 *   REALTIME = TAI = now_ns() + offset                 (TAI offset 0, as Linux
 *                                                       until NTP sets one)
 *   *_COARSE = the same, rounded down to the last timer tick (1/HZ)
 *   CPU clocks = the task's user and system ticks x 1/HZ
 *
 * Invariants: the boot clock only grows; REALTIME - MONOTONIC is the same
 * for every reader between two settimeofday calls; a coarse reading is
 * never later than a fine one taken after it.
 *
 * Left out: slewing (adjtimex, NTP), leap seconds, the alarm clocks
 * (they need an RTC alarm device: -EINVAL as on a Linux without one),
 * dynamic posix clocks (fd-based ids: -EINVAL), and a CPU time finer
 * than a tick (Linux counts the scheduler's nanoseconds: its
 * PROCESS_CPUTIME_ID resolution is 1 ns, ours 1/HZ, and clock_getres
 * says so).
 */
#include <kernel/time.h>
#include <kernel/apic.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/task.h>
#include <kernel/x86.h>

#define TICK_NS (NSEC_PER_SEC / HZ)
/* Linux's limit for a time one may set (timespec64_valid_settod): the
 * largest ktime in seconds less 30 years of uptime. */
#define SETTOD_SEC_MAX (9223372036l - 30l * 365 * 86400)
#define DEADLINE_MAX   (UINT64_MAX / 2)   /* a deadline no uptime reaches */

static int64_t wall_offset;   /* REALTIME - boot clock, in ns */
static struct kernel_timezone sys_tz;

uint64_t now_ns(void)
{
    uint64_t hz = tsc_hz();
    if (!hz)
        return 0;
    uint64_t t = rdtsc();
    return t / hz * NSEC_PER_SEC + t % hz * NSEC_PER_SEC / hz;
}

int64_t realtime_offset_ns(void)
{
    return wall_offset;
}

int64_t realtime_ns(void)
{
    return (int64_t)now_ns() + wall_offset;
}

void timekeeping_init(void)
{
    struct rtc_regs r;
    int64_t secs = rtc_read(&r) ? rtc_regs_to_time(&r) : -1;
    uint64_t boot = now_ns();
    if (secs < 0) {
        printk("time: no valid date in the CMOS clock: the wall clock starts at 1970-01-01\n");
        secs = 0;
    }
    wall_offset = secs * NSEC_PER_SEC - (int64_t)boot;
    int64_t days = secs / 86400, s = secs % 86400;
    printk("time: CMOS clock %lu s after 1970 (day %lu, %02lu:%02lu:%02lu UTC), "
           "%lu.%03lu s after power-on\n", (uint64_t)secs, (uint64_t)days, (uint64_t)(s / 3600),
           (uint64_t)(s / 60 % 60), (uint64_t)(s % 60), boot / NSEC_PER_SEC,
           boot % NSEC_PER_SEC / 1000000);
}

static struct kernel_timespec ts_of(int64_t ns)
{
    int64_t s = ns / NSEC_PER_SEC, r = ns % NSEC_PER_SEC;
    if (r < 0) {
        r += NSEC_PER_SEC;
        s--;
    }
    return (struct kernel_timespec){ s, r };
}

/* ---- CPU clocks ---------------------------------------------------------------------- */

/* Linux's encoding of a CPU clock id (include/linux/posix-timers.h). */
#define CPUCLOCK_PID(c)       (~((c) >> 3))
#define CPUCLOCK_PERTHREAD(c) (((c) & 4) != 0)
#define CPUCLOCK_WHICH(c)     ((c) & 3)
#define CPUCLOCK_VIRT         1      /* user time only; PROF (0) and SCHED (2): both */
#define CPUCLOCK_MAX          3      /* 3 is a clock fd (dynamic posix clocks) */

/* The task a CPU clock id names: NULL when there is none (-EINVAL). */
static struct task *cpu_clock_task(int clock)
{
    if (CPUCLOCK_WHICH(clock) >= CPUCLOCK_MAX)
        return NULL;
    int pid = CPUCLOCK_PID(clock);
    if (pid == 0)
        return current;
    struct task *t = task_find(pid);
    if (!t || t->state == TASK_ZOMBIE)
        return NULL;
    /* As Linux: a thread clock names a thread of the caller's process, a
     * process clock a process (its leader's id, docs/threads.md). */
    if (CPUCLOCK_PERTHREAD(clock))
        return t->tgid == current->tgid ? t : NULL;
    return thread_is_leader(t) ? t : NULL;
}

/* A thread's CPU time, or (process clock) its process's: the live
 * threads' times added. */
static int64_t cpu_ns(const struct task *t, int which, bool thread)
{
    uint64_t ticks = 0;
    for (int i = 0; i < MAX_TASKS; i++) {
        const struct task *o = task_slot(i);
        if (!o || (o != t && (thread || o->tgid != t->tgid || o->state == TASK_ZOMBIE)))
            continue;
        ticks += o->utime_ticks + (which == CPUCLOCK_VIRT ? 0 : o->stime_ticks);
    }
    return (int64_t)(ticks * TICK_NS);
}

/* The clock id in the CPU encoding: CLOCK_PROCESS_CPUTIME_ID is the
 * calling process's SCHED clock, CLOCK_THREAD_CPUTIME_ID its thread's. */
static int cpu_clock_id(int clock)
{
    if (clock == CLOCK_PROCESS_CPUTIME_ID)
        return (int)(~0u << 3) | 2;   /* pid 0: the caller */
    if (clock == CLOCK_THREAD_CPUTIME_ID)
        return (int)(~0u << 3) | 4 | 2;
    return clock;
}

/* ---- reading ---------------------------------------------------------------------------- */

int clock_read(int clock, struct kernel_timespec *ts)
{
    int64_t ns;
    switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_TAI:
        ns = realtime_ns();
        break;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_BOOTTIME:
        ns = (int64_t)now_ns();
        break;
    case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE: {
        /* the last tick of the boot clock, then the offset */
        int64_t b = (int64_t)now_ns();
        ns = b - b % TICK_NS + (clock == CLOCK_REALTIME_COARSE ? wall_offset : 0);
        break;
    }
    default: {
        /* the CPU clocks: this process's or thread's, or a pid's (negative ids) */
        if (clock >= 0 && clock != CLOCK_PROCESS_CPUTIME_ID && clock != CLOCK_THREAD_CPUTIME_ID)
            return -EINVAL;   /* unknown ids, the alarm clocks */
        int id = cpu_clock_id(clock);
        struct task *t = cpu_clock_task(id);
        if (!t)
            return -EINVAL;
        ns = cpu_ns(t, CPUCLOCK_WHICH(id), CPUCLOCK_PERTHREAD(id));
        break;
    }
    }
    *ts = ts_of(ns);
    return 0;
}

int clock_resolution(int clock, struct kernel_timespec *res)
{
    int64_t ns;
    switch (clock) {
    case CLOCK_REALTIME: case CLOCK_TAI: case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW:
    case CLOCK_BOOTTIME:
        ns = 1;   /* the TSC counts faster than that: now_ns() moves by nanoseconds */
        break;
    case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE:
        ns = TICK_NS;
        break;
    default:
        if (clock >= 0 && clock != CLOCK_PROCESS_CPUTIME_ID && clock != CLOCK_THREAD_CPUTIME_ID)
            return -EINVAL;
        if (!cpu_clock_task(cpu_clock_id(clock)))
            return -EINVAL;
        ns = TICK_NS;   /* CPU time is counted in ticks */
        break;
    }
    if (res)
        *res = ts_of(ns);
    return 0;
}

/* ---- setting ---------------------------------------------------------------------------- */

static bool settod_valid(const struct kernel_timespec *ts)
{
    return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < NSEC_PER_SEC &&
           ts->tv_sec <= SETTOD_SEC_MAX;
}

int settimeofday_do(const struct kernel_timespec *tv, const struct kernel_timezone *tz)
{
    if (tv && !settod_valid(tv))
        return -EINVAL;
    if (current->euid != 0)
        return -EPERM;   /* CAP_SYS_TIME */
    if (tz) {
        if (tz->tz_minuteswest > 15 * 60 || tz->tz_minuteswest < -15 * 60)
            return -EINVAL;
        sys_tz = *tz;
    }
    if (tv) {
        int64_t want = tv->tv_sec * NSEC_PER_SEC + tv->tv_nsec, boot = (int64_t)now_ns();
        if (want < boot)
            return -EINVAL;   /* before the machine started: Linux refuses it too */
        wall_offset = want - boot;
        printk("time: the wall clock was set to %ld s after 1970 by pid %d\n", tv->tv_sec,
               current->pid);
    }
    return 0;
}

struct kernel_timezone timezone_get(void)
{
    return sys_tz;
}

int clock_set(int clock, const struct kernel_timespec *ts)
{
    if (clock == CLOCK_REALTIME)
        return settimeofday_do(ts, NULL);
    if (clock < 0)
        return cpu_clock_task(clock) ? -EPERM : -EINVAL;   /* a CPU clock cannot be set */
    return -EINVAL;
}

uint64_t clock_abs_to_boot(int clock, int64_t sec, int64_t nsec)
{
    if (sec < 0)
        return 0;
    if ((uint64_t)sec >= DEADLINE_MAX / NSEC_PER_SEC)
        return DEADLINE_MAX;
    int64_t ns = sec * NSEC_PER_SEC + nsec;
    if (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_ALARM || clock == CLOCK_TAI ||
        clock == CLOCK_REALTIME_COARSE)
        ns -= wall_offset;
    return ns > 0 ? (uint64_t)ns : 0;
}
