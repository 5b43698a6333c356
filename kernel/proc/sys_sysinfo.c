/*
 * What the machine is: sysinfo (Linux's do_sysinfo, kernel/sys.c) and
 * sched_getaffinity (one CPU).
 *
 * sysinfo's figures are true ones: totalram is the frames the buddy
 * allocator manages (MemTotal of /proc/meminfo), freeram its free frames
 * with the per-CPU caches (MemFree), procs the tasks in the table
 * (zombies too, as Linux's nr_threads counts them until they are
 * reaped), uptime the seconds since boot rounded up, as Linux does.
 * totalswap and freeswap are SwapTotal and SwapFree (include/mm/swap.h).
 * There is no high memory and no shared memory count: those are 0.  loads are /proc/loadavg's averages (kernel/fs/proc_kstat.c), 1.0
 * being 1 << SI_LOAD_SHIFT (16).  As on Linux, the byte counts are given with
 * mem_unit 1 when the total fits an unsigned long in bytes (always on
 * x86-64); the i386 form (compat32) scales them back when they do not
 * fit 32 bits.
 */
#include <kernel/kstat.h>
#include <kernel/syscall.h>
#include <kernel/errno.h>
#include <kernel/kstat.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>
#include <mm/gfp.h>
#include <mm/page.h>
#include <mm/swap.h>

void sysinfo_fill(struct sysinfo64 *s)
{
    memset(s, 0, sizeof(*s));
    uint64_t ns = now_ns();
    s->uptime = (int64_t)(ns / 1000000000ul + (ns % 1000000000ul ? 1 : 0));
    uint64_t total = totalram_pages();
    uint64_t free = nr_free_pages();
    s->totalram = total * PAGE_SIZE;
    s->freeram = free * PAGE_SIZE;
    s->totalswap = total_swap_pages * PAGE_SIZE;
    s->freeswap = nr_swap_pages * PAGE_SIZE;
    s->procs = (uint16_t)task_count();
    s->mem_unit = 1;
    loadavg_get(s->loads, 0, 16 - FSHIFT);
}

long sys_sysinfo(const struct sysargs *a)
{
    struct sysinfo64 s;
    sysinfo_fill(&s);
    return copy_to_user(a->arg[0], &s, sizeof(s)) ? -EFAULT : 0;
}

/* sched_getaffinity(pid, len, mask): every online CPU (a task may run
 * on any: no sched_setaffinity); len must hold the CPUs (8 bits a byte)
 * and be a multiple of a long (word bytes); Linux writes min(len, the
 * size of its cpumask: one long) and returns that. */
long affinity_get(int pid, unsigned len, uint64_t umask, unsigned word)
{
    if (len * 8 < 1 || (len & (word - 1)))
        return -EINVAL;
    struct task *t = pid ? task_find(pid) : current;
    if (!t)
        return -ESRCH;
    uint64_t mask = 0;
    for (unsigned c = 0; c < 64; c++)
        if (kstat_cpu_online(c))
            mask |= 1ul << c;
    unsigned n = len < sizeof(mask) ? len : (unsigned)sizeof(mask);
    return copy_to_user(umask, &mask, n) ? -EFAULT : (long)n;
}

long sys_sched_getaffinity(const struct sysargs *a)
{
    return affinity_get((int)a->arg[0], (unsigned)a->arg[1], a->arg[2], 8);
}
