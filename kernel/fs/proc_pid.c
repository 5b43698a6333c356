/*
 * A process's files in /proc/<pid>: stat, status, statm, cmdline,
 * environ, comm, maps and pagetable32, in Linux's formats
 * (fs/proc/array.c, fs/proc/base.c, fs/proc/task_mmu.c).
 *
 * Everything comes from the task (struct task: ids, state, times,
 * signals) and its address space (struct mm: the VMAs, the page tables,
 * the counters).  A zombie has no address space any more: its memory
 * figures are 0 and its cmdline is empty, as on Linux.
 *
 * What mmk does not keep is shown as Linux shows it when the thing is
 * absent: one thread, nice 0, no children's times (cutime, cstime,
 * cminflt), no major faults, no swap.  VmPeak is VmSize: no high-water
 * mark of the virtual size is kept.  The program's segments (start_code,
 * end_code, start_data, end_data, VmExe) are read from the file mappings
 * below the heap, which is where exec puts them (kernel/proc/exec.c).
 *
 * Reading cmdline or environ of another process reads its memory through
 * mm_read, faulting its pages in as Linux's access_remote_vm does.
 */
#include <compat32/mmu32.h>
#include <kernel/apic.h>
#include <kernel/console.h>
#include <kernel/kstat.h>
#include <kernel/printk.h>
#include <kernel/sbuf.h>
#include <kernel/sigdeliver.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/tty.h>
#include <mm/vma.h>
#include "proc_impl.h"

#define PF_EXITING     0x4u     /* Linux's task flags (include/linux/sched.h) */
#define PF_FORKNOEXEC  0x40u
#define RLIMIT_RSS     5
#define RLIM_INFINITY  (~0ul)
#define SIGQUEUE_LIMIT SIGQUEUE_MAX   /* status's SigQ: queued / the most that may queue */

/* ---- the address space in figures ------------------------------------------------- */

/* Pages, as Linux's mm counters and get_mm_counter give them. */
struct mm_figures {
    uint64_t total, exec, stack, data;          /* total_vm, exec_vm, stack_vm, data_vm */
    uint64_t anon, file, shmem;                 /* resident: MM_ANONPAGES, FILEPAGES, SHMEMPAGES */
    uint64_t start_code, end_code, start_data, end_data;
};

struct rss_walk {
    uint64_t zero, pages;
};

static int count_page(const struct pt_view *v, void *arg)
{
    struct rss_walk *w = arg;
    if (!v->payload && v->pa != w->zero)
        w->pages += v->size / PAGE_SIZE;
    return 0;
}

static void mm_figures(struct mm *mm, struct mm_figures *m)
{
    memset(m, 0, sizeof(*m));
    if (!mm)
        return;
    struct rss_walk w = { mm_zero_page(), 0 };
    for (struct vma *v = mm->vmas; v; v = v->next) {
        uint64_t pages = (v->end - v->start) / PAGE_SIZE;
        bool stack = v->start >= mm->stack_start && v->end <= mm->stack_end;
        m->total += pages;
        if (stack)
            m->stack += pages;
        else if ((v->prot & PROT_EXEC) && !(v->prot & PROT_WRITE))
            m->exec += pages;
        else if ((v->prot & PROT_WRITE) && !(v->flags & VMA_SHARED))
            m->data += pages;
        w.pages = 0;
        pt_for_each(&mm->pt, v->start, v->end, count_page, &w);
        if (v->shm)
            m->shmem += w.pages;
        else if (v->file && (v->flags & VMA_SHARED))
            m->file += w.pages;
        else
            m->anon += w.pages;         /* a private page is the process's own copy */
        /* The program's segments: file mappings below the heap. */
        if (v->file && v->end <= mm->brk_start) {
            if (!m->start_code)
                m->start_code = v->start;
            if (v->prot & PROT_EXEC)
                m->end_code = v->end;
            m->start_data = v->start;   /* the last segment is the data segment */
            m->end_data = v->end;
        }
    }
}

/* ---- the task in words --------------------------------------------------------------- */

static void comm_of(const struct task *t, char comm[TASK_COMM_LEN])
{
    snprintf(comm, TASK_COMM_LEN, "%s", t->name);
}

static int ppid_of(const struct task *t)
{
    return t->parent ? t->parent->tgid : 0;   /* the parent process */
}

/* The controlling terminal: the console's number when t's session owns it. */
static void tty_of(const struct task *t, unsigned *tty_nr, int *tpgid)
{
    struct tty *tty = console_tty();
    *tty_nr = 0;
    *tpgid = -1;
    if (tty && tty->session && tty->session == t->sid) {
        *tty_nr = (unsigned)LINUX_MKDEV(5, 1);
        *tpgid = tty->pgrp > 0 ? tty->pgrp : -1;
    }
}

/* The signal sets status shows.  Pending ones sent to the thread
 * (tkill, tgkill, raise) are SigPnd, the others (kill) ShdPnd: Linux
 * queues them on the thread and on the process respectively. */
struct sig_sets {
    ksigset_t thread, shared, blocked, ignored, caught;
};

static void sig_sets(struct task *t, struct sig_sets *s)
{
    memset(s, 0, sizeof(*s));
    for (const struct sigqueue *q = t->sig.queue; q; q = q->next)
        if (q->info.code == SI_TKILL)
            s->thread |= sigmask(q->info.signo);
    s->thread &= t->sig.pending;
    s->shared = t->sig.pending & ~s->thread;
    s->blocked = t->sig.blocked;
    if (!t->sig.hand)
        return;                         /* a zombie: its actions are gone */
    for (int sig = 1; sig <= NSIG; sig++) {
        uint64_t h = sig_action(t, sig)->handler;
        if (h == SIG_IGN)
            s->ignored |= sigmask(sig);
        else if (h != SIG_DFL)
            s->caught |= sigmask(sig);
    }
}

/* ---- /proc/<pid>/stat ----------------------------------------------------------------- */

int proc_pid_stat(struct task *t, char *buf, size_t size)
{
    struct sbuf out = { buf, size, 0 };
    struct mm *mm = t->mm;
    struct mm_figures m;
    mm_figures(mm, &m);
    struct sig_sets s;
    sig_sets(t, &s);
    char comm[TASK_COMM_LEN], state = task_state_char(t);
    comm_of(t, comm);
    unsigned tty_nr;
    int tpgid;
    tty_of(t, &tty_nr, &tpgid);
    unsigned flags = (t->flags & TASK_FORKNOEXEC ? PF_FORKNOEXEC : 0) |
                     (state == 'Z' ? PF_EXITING : 0);
    uint64_t rsslim = (t->rlim_set >> RLIMIT_RSS) & 1 ? t->rlim[RLIMIT_RSS].cur : RLIM_INFINITY;
    /* pid (comm) state ppid pgrp session tty_nr tpgid flags
     * minflt cminflt majflt cmajflt utime stime cutime cstime priority nice */
    sbuf_put(&out, "%d (%s) %c %d %d %d %u %d %u %lu 0 %lu 0 %lu %lu 0 0 20 0 ", t->pid, comm,
             state, ppid_of(t), t->pgid, t->sid, tty_nr, tpgid, flags,
             mm ? mm_minor_faults(mm) : 0ul, mm ? mm->major_faults : 0ul, t->utime_ticks,
             t->stime_ticks);
    /* num_threads itrealvalue starttime vsize rss rsslim
     * startcode endcode startstack kstkesp kstkeip */
    sbuf_put(&out, "%d 0 %lu %lu %lu %lu %lu %lu %lu 0 0 ", thread_group_count(t),
             t->start_tick * USER_HZ / HZ,
             m.total * PAGE_SIZE, mm ? mm_rss_pages(mm) : 0ul, rsslim, m.start_code, m.end_code,
             mm ? mm->start_stack : 0ul);
    /* signal blocked sigignore sigcatch (the old 31-bit fields) wchan nswap cnswap
     * exit_signal processor rt_priority policy blkio guest_time cguest_time */
    sbuf_put(&out, "%lu %lu %lu %lu %d 0 0 %d 0 0 0 0 0 0 ", s.thread & 0x7ffffffful,
             s.blocked & 0x7ffffffful, s.ignored & 0x7ffffffful, s.caught & 0x7ffffffful,
             state != 'R', t->exit_signal);
    /* start_data end_data start_brk arg_start arg_end env_start env_end exit_code */
    if (mm)
        sbuf_put(&out, "%lu %lu %lu %lu %lu %lu %lu 0\n", m.start_data, m.end_data,
                 mm->brk_start, mm->arg_start, mm->arg_end, mm->env_start, mm->env_end);
    else
        sbuf_put(&out, "0 0 0 0 0 0 0 %d\n", state == 'Z' ? t->exit_code : 0);
    return (int)out.len;
}

/* ---- /proc/<pid>/status --------------------------------------------------------------- */

static void put_kb(struct sbuf *out, const char *name, uint64_t pages)
{
    sbuf_put(out, "%s:\t%8lu kB\n", name, pages * (PAGE_SIZE / 1024));
}

static void put_ids(struct sbuf *out, const char *name, uint32_t a, uint32_t b, uint32_t c,
                    uint32_t d)
{
    sbuf_put(out, "%s:\t%u\t%u\t%u\t%u\n", name, a, b, c, d);
}

static void status_memory(struct sbuf *out, struct mm *mm)
{
    struct mm_figures m;
    mm_figures(mm, &m);
    uint64_t text = (ALIGN_UP(m.end_code, PAGE_SIZE) - ALIGN_DOWN(m.start_code, PAGE_SIZE)) /
                    PAGE_SIZE;
    put_kb(out, "VmPeak", m.total);
    put_kb(out, "VmSize", m.total);
    put_kb(out, "VmLck", 0);
    put_kb(out, "VmPin", 0);
    put_kb(out, "VmHWM", mm_max_rss_pages(mm));
    put_kb(out, "VmRSS", mm_rss_pages(mm));
    put_kb(out, "RssAnon", m.anon);
    put_kb(out, "RssFile", m.file);
    put_kb(out, "RssShmem", m.shmem);
    put_kb(out, "VmData", m.data);
    put_kb(out, "VmStk", m.stack);
    put_kb(out, "VmExe", text);
    put_kb(out, "VmLib", m.exec > text ? m.exec - text : 0);
    put_kb(out, "VmPTE", mm->pt.nr_tables);
    put_kb(out, "VmSwap", mm->swap_ents);   /* PTEs holding a swap entry */
    sbuf_put(out, "HugetlbPages:\t%8u kB\n", 0u);
    sbuf_put(out, "CoreDumping:\t0\nTHP_enabled:\t0\n");
}

int proc_pid_status(struct task *t, char *buf, size_t size)
{
    struct sbuf out = { buf, size, 0 };
    char comm[TASK_COMM_LEN], state = task_state_char(t);
    comm_of(t, comm);
    sbuf_put(&out, "Name:\t%s\n", comm);
    if (t->files)
        sbuf_put(&out, "Umask:\t%04o\n", files_umask(t->files));
    sbuf_put(&out, "State:\t%c (%s)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n",
             state, task_state_name(state), t->tgid, t->pid, ppid_of(t));
    put_ids(&out, "Uid", t->uid, t->euid, t->suid, t->fsuid);
    put_ids(&out, "Gid", t->gid, t->egid, t->sgid, t->fsgid);
    sbuf_put(&out, "FDSize:\t%d\nGroups:\t", t->files ? FD_MAX : 0);
    for (uint32_t i = 0; i < t->ngroups && i < TASK_NGROUPS; i++)
        sbuf_put(&out, i ? " %u" : "%u", t->groups[i]);
    sbuf_put(&out, " \nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", t->tgid, t->pid,
             t->pgid, t->sid);
    if (t->mm)
        status_memory(&out, t->mm);
    struct sig_sets s;
    sig_sets(t, &s);
    sbuf_put(&out, "Threads:\t%d\nSigQ:\t%d/%d\n", thread_group_count(t), t->sig.nqueued,
             SIGQUEUE_LIMIT);
    sbuf_put(&out, "SigPnd:\t%016lx\nShdPnd:\t%016lx\nSigBlk:\t%016lx\nSigIgn:\t%016lx\n"
                   "SigCgt:\t%016lx\n", s.thread, s.shared, s.blocked, s.ignored, s.caught);
    /* Every capability to root (CAP_LAST_CAP 40), none to anyone else. */
    uint64_t caps = t->euid == 0 ? (1ul << 41) - 1 : 0;
    sbuf_put(&out, "CapInh:\t%016lx\nCapPrm:\t%016lx\nCapEff:\t%016lx\nCapBnd:\t%016lx\n"
                   "CapAmb:\t%016lx\n", 0ul, caps, caps, (1ul << 41) - 1, 0ul);
    sbuf_put(&out, "NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n");
    sbuf_put(&out, "Cpus_allowed:\t1\nCpus_allowed_list:\t0\nMems_allowed:\t1\n"
                   "Mems_allowed_list:\t0\nvoluntary_ctxt_switches:\t0\n"
                   "nonvoluntary_ctxt_switches:\t0\n");
    return (int)out.len;
}

/* ---- /proc/<pid>/statm: size resident shared text lib data dt, in pages ----------------- */

int proc_pid_statm(struct task *t, char *buf, size_t size)
{
    struct mm_figures m;
    mm_figures(t->mm, &m);
    uint64_t text = (ALIGN_UP(m.end_code, PAGE_SIZE) - ALIGN_DOWN(m.start_code, PAGE_SIZE)) /
                    PAGE_SIZE;
    return snprintf(buf, size, "%lu %lu %lu %lu 0 %lu 0\n", m.total,
                    t->mm ? mm_rss_pages(t->mm) : 0ul, m.file + m.shmem, text,
                    m.data + m.stack);
}

/* ---- cmdline, environ, comm ----------------------------------------------------------- */

/* The bytes [start, end) of t's memory, as many as fit; the length. */
static int user_bytes(struct task *t, uint64_t start, uint64_t end, char *buf, size_t size)
{
    if (!t->mm || end <= start || end - start > (1ul << 24))
        return 0;
    size_t len = (size_t)(end - start);
    if (size && mm_read(t->mm, buf, start, MIN(len, size)) < 0)
        return 0;                       /* unmapped by the program itself: nothing to show */
    return (int)len;
}

int proc_pid_cmdline(struct task *t, char *buf, size_t size)
{
    if (!t->mm)
        return 0;
    int n = user_bytes(t, t->mm->arg_start, t->mm->arg_end, buf, size);
    /* A program that wrote over its last NUL (setproctitle) ends at its first NUL. */
    if (n > 0 && (size_t)n <= size && buf[n - 1])
        n = (int)strnlen(buf, (size_t)n);
    return n;
}

int proc_pid_environ(struct task *t, char *buf, size_t size)
{
    return t->mm ? user_bytes(t, t->mm->env_start, t->mm->env_end, buf, size) : 0;
}

int proc_pid_comm(struct task *t, char *buf, size_t size)
{
    char comm[TASK_COMM_LEN];
    comm_of(t, comm);
    return snprintf(buf, size, "%s\n", comm);
}

/* ---- maps and the i386 page tables ------------------------------------------------ */

int proc_pid_maps(struct task *t, char *buf, size_t size)
{
    if (!t->mm) {
        if (size)
            buf[0] = 0;
        return 0;                       /* a zombie has no mappings */
    }
    return mm_maps(t->mm, buf, size);
}

/* Empty for a 64-bit process: it has no two-level tables. */
int proc_pid_pagetable32(struct task *t, char *buf, size_t size)
{
    struct sbuf out = { buf, size, 0 };
    if (size)
        buf[0] = 0;
    if (t->mm && mm_is32(t->mm))
        mmu32_dump(t->mm, 0, 1ul << 32, &out);
    return (int)out.len;
}
