/*
 * What the scheduler's clock counts for /proc (kernel/fs/proc_kstat.c;
 * docs/proc.md): the CPU's time split into user, system and idle ticks
 * (/proc/stat's cpu line, /proc/uptime's idle figure), the load averages
 * (/proc/loadavg, sysinfo's loads), and the state of each task as Linux
 * names it (/proc/<pid>/stat and status, ps's STAT column).
 *
 * (CPU time is counted at the timer's ticks, as Linux's tick-based
 * accounting does.)  The load average is Linux's (kernel/sched/loadavg.c): every LOAD_FREQ
 * ticks (5 s and one tick) the number of active tasks (runnable, or in an
 * uninterruptible sleep) is folded into three exponentially decaying
 * averages, with time constants of 1, 5 and 15 minutes, in fixed point
 * with FSHIFT fraction bits.
 *
 * One CPU, the timer interrupt and a kernel that is not preemptible:
 * nothing here locks.
 */
#ifndef KERNEL_KSTAT_H
#define KERNEL_KSTAT_H

#include <kernel/types.h>

struct task;

#define FSHIFT    11                /* bits of fraction in a load figure */
#define FIXED_1   (1ul << FSHIFT)   /* 1.0 in that fixed point */
#define LOAD_FREQ (5 * 100 + 1)     /* ticks between samples: 5 s at HZ 100, and one */
#define EXP_1     1884              /* FIXED_1 / exp(5 s / 1 min) */
#define EXP_5     2014              /* FIXED_1 / exp(5 s / 5 min) */
#define EXP_15    2037              /* FIXED_1 / exp(5 s / 15 min) */

/* User-visible clock ticks (USER_HZ): the unit of every time in /proc. */
#define USER_HZ 100

/* CPU time since boot, in ticks of the timer (HZ, which is USER_HZ). */
struct kstat_cpu {
    uint64_t user, system, idle;
};

/*
 * The timer's tick (called by task_tick, interrupts off): one tick of
 * user, system or idle time (idle: the idle task was running), and
 * every LOAD_FREQ ticks a sample of the load.  Returns true when the
 * tick is the running task's user time, false for system (or idle).
 *
 * The kernel runs with interrupts off, so a tick that falls while it
 * works is taken only on the return to user mode, where it looks like a
 * user tick.  It is told apart by its age: a tick that expired before
 * the last return to user mode (kstat_user_return) fell in the kernel.
 */
bool kstat_tick(bool from_user, bool idle);
/* The task is about to go back to user mode (task_return_to_user). */
void kstat_user_return(void);
/* The CPU time counted so far. */
void kstat_cpu_get(struct kstat_cpu *out);     /* the sums over the CPUs */
void kstat_cpu_get_one(unsigned cpu, struct kstat_cpu *out);
bool kstat_cpu_online(unsigned cpu);   /* the CPUs /proc/stat and /proc/cpuinfo list */
uint32_t kstat_cpu_apic_id(unsigned cpu);
/* One step of the average (Linux's calc_load): load decays by exp and
 * moves towards active (both in fixed point).  Pure, for tests. */
unsigned long calc_load(unsigned long load, unsigned long exp, unsigned long active);
/* The three averages (1, 5, 15 minutes) in fixed point, plus offset
 * (FIXED_1 / 200 rounds to two decimals), shifted left by shift. */
void loadavg_get(uint64_t loads[3], uint64_t offset, int shift);

/*
 * Linux's letter for a task's state: 'R' runnable or running, 'S' asleep
 * until a wake-up or a signal, 'D' asleep where signals wait (vfork's
 * parent), 'T' stopped by a signal, 'Z' a zombie.  And its words
 * ("running", "sleeping", "disk sleep", "stopped", "zombie").
 */
char task_state_char(const struct task *t);
const char *task_state_name(char state);
/* Tasks that are runnable ('R'), and asleep uninterruptibly ('D'). */
int kstat_nr_running(void);
int kstat_nr_blocked(void);

#endif
