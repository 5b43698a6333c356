/*
 * The kernel services /proc's own files read, for the file-system host
 * tests (with tests/host/file_host.c and fs_host.c): a task table that
 * holds the one task of those tests (current, pid 1), the scheduler's
 * counters, the console terminal, the TSC, the wall clock's offset, the
 * address-space calls of /proc/<pid>'s files, and the memory calls of
 * /proc/sys/vm.  The generators themselves (kernel/fs/proc_*.c) are the
 * kernel's, but for the record files that walk page tables and frames
 * (proc_pagemap.c, proc_kpage.c), which have made-up stand-ins here.
 */
#include <string.h>

#include <kernel/console.h>
#include <kernel/errno.h>
#include <kernel/sigdeliver.h>
#include <kernel/task.h>
#include <kernel/time.h>
#include <kernel/memview.h>
#include <mm/compaction.h>
#include <mm/page.h>
#include <mm/pgtable.h>
#include <mm/vma.h>
#include "fs_host.h"
#include "../../kernel/fs/proc_impl.h"

struct task *task_slot(int i)
{
    return i == 0 ? current : NULL;
}

struct task *task_find(int pid)
{
    return current && current->pid == pid ? current : NULL;
}

int thread_group_count(const struct task *t)
{
    (void)t;
    return 1;   /* the one task is a process of one thread */
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

/* ---- the memory calls of /proc/sys/vm and the record files -------------------------------- */

/* Weak: the real ones win in a build that links mm/compaction.c,
 * mm/evacuate.c, mm/user_fault.c, mm/swap_readahead.c, mm/vmalloc.c or
 * kernel/console/memview.c. */
int proc_host_compactions;

__attribute__((weak)) int compact_memory(void)
{
    proc_host_compactions++;
    return 0;
}

__attribute__((weak)) struct evacuate_result last_evacuation;
__attribute__((weak)) int last_evacuation_zone = -1;

/* DMA: one page stays pinned (-ENOMEM for the file); DMA32 is obtained
 * whole but for its unmovable frames; Normal has no memory. */
__attribute__((weak)) int evacuate_zone(enum zone_type t, struct evacuate_result *r)
{
    if (t == ZONE_NORMAL)
        return -EINVAL;
    struct evacuate_result dma = { 100, 10, 1, 5, 0, 94 }, dma32 = { 100, 3, 0, 5, 0, 95 };
    *r = t == ZONE_DMA ? dma : dma32;
    last_evacuation = *r;
    last_evacuation_zone = t;
    return 0;
}

__attribute__((weak)) gfp_t mm_user_zone;
__attribute__((weak)) unsigned page_cluster = 3;       /* mm/swap_readahead.c */

__attribute__((weak)) int memview_set(bool on)
{
    (void)on;
    return -ENODEV;                     /* no framebuffer here */
}

/* No vmalloc space here (mm/vmalloc.c): nothing freed lazily. */
__attribute__((weak)) void vmalloc_purge(void)
{
}

__attribute__((weak)) bool memview_on(void)
{
    return false;
}

/* The record files over a made-up content: record i of file k is
 * PROC_HOST_RECORD(k, i), pagemap has PROC_HOST_PAGES records and the
 * frame files one per frame of the host allocator (the generators
 * themselves need real page tables: test_pagemap runs them on mmk). */
static uint64_t host_pages(struct task *t)
{
    return t && t->mm ? PROC_HOST_PAGES : 0;
}

static uint64_t host_frames(struct task *t)
{
    (void)t;
    return node0->max_pfn;
}

#define HOST_FILL(k)                                                                   \
    static int host_fill##k(struct task *t, uint64_t first, uint64_t *out, size_t n)   \
    {                                                                                  \
        (void)t;                                                                       \
        for (size_t i = 0; i < n; i++)                                                 \
            out[i] = PROC_HOST_RECORD(k, first + i);                                   \
        return 0;                                                                      \
    }
HOST_FILL(0)
HOST_FILL(1)
HOST_FILL(2)
__attribute__((weak)) const struct proc_records proc_pagemap = { host_pages, host_fill0 };
__attribute__((weak)) const struct proc_records proc_kpagecount = { host_frames, host_fill1 };
__attribute__((weak)) const struct proc_records proc_kpageflags = { host_frames, host_fill2 };
