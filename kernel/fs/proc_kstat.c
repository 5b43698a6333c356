/*
 * CPU time and load accounting for /proc (include/kernel/kstat.h).
 *
 * Invariants:
 *  - for each CPU, user + system + idle is the number of its timer's
 *    ticks since that timer started: each tick counts once, to the task
 *    it interrupted (user or kernel mode) or to idle; the machine's
 *    figures are the sums over the CPUs (as Linux's "cpu" line);
 *  - avenrun[] holds Linux's three averages in fixed point; they change
 *    only at a sample, every LOAD_FREQ ticks.
 *
 * A task's own utime/stime are counted beside this by task_tick
 * (kernel/proc/task.c), with kstat_tick's verdict; these are the
 * machine's totals, which outlive the tasks.  Linux counts time at each tick the same way (the tick-based
 * accounting of kernel/sched/cputime.c), and samples the load as here
 * (calc_global_load).
 */
#include <kernel/apic.h>
#include <kernel/kstat.h>
#include <kernel/smp.h>

/* This CPU, its last return to user mode, and which CPUs are online:
 * per-CPU data in the kernel; CPU 0 alone in the host tests. */
#ifdef HOST_TEST
static unsigned this_cpu_index(void)
{
    return 0;
}
static uint64_t *user_return_ns(void)
{
    static uint64_t ns;
    return &ns;
}
bool kstat_cpu_online(unsigned cpu)
{
    return cpu == 0;
}
uint32_t kstat_cpu_apic_id(unsigned cpu)
{
    return cpu;
}
#else
#include <kernel/percpu.h>
static unsigned this_cpu_index(void)
{
    return smp_processor_id();
}
static uint64_t *user_return_ns(void)
{
    return &this_cpu()->user_return_ns;
}
bool kstat_cpu_online(unsigned cpu)
{
    return cpu < nr_cpus_possible && cpu_info[cpu].online;
}
uint32_t kstat_cpu_apic_id(unsigned cpu)
{
    return cpu < nr_cpus_possible ? cpu_info[cpu].apic_id : 0;
}
#endif
#include <kernel/task.h>
#include <kernel/time.h>

static struct kstat_cpu cpu_time[NR_CPUS];   /* each CPU's ticks */
static unsigned long avenrun[3];
static uint64_t ticks_seen, next_sample = LOAD_FREQ;

unsigned long calc_load(unsigned long load, unsigned long exp, unsigned long active)
{
    unsigned long newload = load * exp + active * (FIXED_1 - exp);
    if (active >= load)
        newload += FIXED_1 - 1;   /* round up while rising, so a steady 1 reaches 1.00 */
    return newload / FIXED_1;
}

static void sample_load(void)
{
    unsigned long active = (unsigned long)(kstat_nr_running() + kstat_nr_blocked()) * FIXED_1;
    avenrun[0] = calc_load(avenrun[0], EXP_1, active);
    avenrun[1] = calc_load(avenrun[1], EXP_5, active);
    avenrun[2] = calc_load(avenrun[2], EXP_15, active);
}

void kstat_user_return(void)
{
    *user_return_ns() = now_ns();   /* this CPU's last return to user mode */
}

bool kstat_tick(bool from_user, bool idle)
{
    /* A tick taken in user mode that expired before we got there fell in
     * the kernel, and waited (interrupts off) for the return. */
    bool user = from_user && !idle &&
                apic_tick_age_ns() <= now_ns() - *user_return_ns();
    if (idle)
        cpu_time[this_cpu_index()].idle++;
    else if (user)
        cpu_time[this_cpu_index()].user++;
    else
        cpu_time[this_cpu_index()].system++;
    /* The load is sampled on the boot CPU's ticks (every CPU ticks). */
    if (this_cpu_index() == 0 && ++ticks_seen >= next_sample) {
        next_sample += LOAD_FREQ;
        sample_load();
    }
    return user;
}

void kstat_cpu_get(struct kstat_cpu *out)
{
    *out = (struct kstat_cpu){ 0 };
    for (unsigned i = 0; i < NR_CPUS; i++) {
        out->user += cpu_time[i].user;
        out->system += cpu_time[i].system;
        out->idle += cpu_time[i].idle;
    }
}

void kstat_cpu_get_one(unsigned cpu, struct kstat_cpu *out)
{
    *out = cpu < NR_CPUS ? cpu_time[cpu] : (struct kstat_cpu){ 0 };
}

void loadavg_get(uint64_t loads[3], uint64_t offset, int shift)
{
    for (int i = 0; i < 3; i++)
        loads[i] = (avenrun[i] + offset) << shift;
}

char task_state_char(const struct task *t)
{
    switch (t->state) {
    case TASK_RUNNABLE:
        return 'R';
    case TASK_ZOMBIE:
        return 'Z';
    case TASK_BLOCKED:
        break;
    }
    if (t->sig.stop_sig)
        return 'T';
    return t->sig.intr_sleep ? 'S' : 'D';
}

const char *task_state_name(char state)
{
    switch (state) {
    case 'R': return "running";
    case 'S': return "sleeping";
    case 'D': return "disk sleep";
    case 'T': return "stopped";
    case 'Z': return "zombie";
    default:  return "unknown";
    }
}

static int count_state(char state)
{
    int n = 0;
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = task_slot(i);
        n += t && task_state_char(t) == state;
    }
    return n;
}

int kstat_nr_running(void)
{
    return count_state('R');
}

int kstat_nr_blocked(void)
{
    return count_state('D');
}
