/*
 * The kernel services /proc's own files read, for the file-system host
 * tests (with tests/host/file_host.c and fs_host.c): a task table that
 * holds the one task of those tests (current, pid 1), the scheduler's
 * counters, the console terminal, the TSC, the wall clock's offset, and
 * the address-space calls of /proc/<pid>'s files.  The generators
 * themselves (kernel/fs/proc_*.c) are the kernel's.
 */
#include <string.h>

#include <kernel/console.h>
#include <kernel/errno.h>
#include <kernel/sigdeliver.h>
#include <kernel/task.h>
#include <kernel/time.h>
#include <mm/pgtable.h>
#include <mm/vma.h>

struct task *task_slot(int i)
{
    return i == 0 ? current : NULL;
}

struct task *task_find(int pid)
{
    return current && current->pid == pid ? current : NULL;
}

int task_count(void)
{
    return current ? 1 : 0;
}

int task_last_pid(void)
{
    return current ? current->pid : 0;
}

uint64_t task_forks(void)
{
    return 1;
}

uint64_t ticks_now(void)
{
    return 0;
}

uint64_t tsc_hz(void)
{
    return 1000000000ul;
}

int64_t realtime_offset_ns(void)
{
    return 0;
}

struct tty *console_tty(void)
{
    return NULL;
}

/* The tests' current->mm is a token only mm_maps sees (fs_host.c): the
 * other address-space calls have nothing to walk. */
int mm_read(struct mm *mm, void *dst, uint64_t addr, uint64_t len)
{
    (void)mm, (void)addr;
    memset(dst, 0, len);
    return -EFAULT;
}

uint64_t mm_zero_page(void)
{
    return 0;
}

int pt_for_each(const struct pgtable *pt, uint64_t start, uint64_t end,
                int (*fn)(const struct pt_view *v, void *arg), void *arg)
{
    (void)pt, (void)start, (void)end, (void)fn, (void)arg;
    return 0;
}

struct k_sigaction *sig_action(struct task *t, int sig)
{
    (void)t, (void)sig;
    return NULL;
}

/* /dev/random's source: any bytes do here. */
uint64_t kernel_random(void)
{
    static uint64_t x = 0x9e3779b97f4a7c15ul;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
}

/* The timer's age at a tick: these tests' ticks never waited. */
uint64_t apic_tick_age_ns(void)
{
    return 0;
}
