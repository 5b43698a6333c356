/*
 * Tasks (processes) and the scheduler (kernel/proc/task.c, kernel/cpu/switch.S).
 *
 * A task is an address space (struct mm, include/mm/vma.h: shared by
 * the threads of a process), a kernel stack (from vmalloc, with a guard
 * page) and the saved state of its user registers: the trap frame at the top of that kernel stack, built
 * by every entry from user mode (interrupt, exception, syscall).  The
 * kernel itself is not preemptible: it runs with interrupts off and
 * switches tasks only in schedule(), called when a task waits or exits,
 * or on the way back to user mode after the timer said the slice is over.
 */
#ifndef KERNEL_TASK_H
#define KERNEL_TASK_H

#include <kernel/cpu.h>
#include <kernel/signal.h>

struct mm;
struct file;

enum task_state { TASK_RUNNABLE, TASK_BLOCKED, TASK_ZOMBIE };

#define TASK_NAME_MAX 32
#define KSTACK_SIZE (16 * 1024)
#define MAX_TASKS 128
#define TASK_NGROUPS 32     /* supplementary groups kept (musl's NGROUPS_MAX) */
#define TASK_NRLIMITS 16    /* Linux's RLIM_NLIMITS */
#define RLIMIT_NOFILE 7     /* the one limit enforced (fd_install) */
#define TASK_BORROW_MAX 16  /* files one system call may borrow from a shared table */

struct task {
    int pid;
    int pgid, sid;                 /* process group and session (fork inherits them) */
    char name[TASK_NAME_MAX];
    enum task_state state;
    struct task *parent;
    struct mm *mm;                 /* NULL for the idle task */
    void *kstack;                  /* lowest address of the kernel stack */
    uint64_t saved_rsp;            /* kernel RSP while switched out */
    uint64_t fs_base;              /* arch_prctl(ARCH_SET_FS) */
    int exit_code;                 /* wait status, Linux encoding, once a zombie */
    uint64_t wake_tick;            /* nanosleep: blocked until this tick */
    void *wait_chan;               /* what a blocked task waits for */
    uint64_t utime_ticks, stime_ticks;
    uint64_t start_tick;           /* ticks_now() when it was made: /proc/<pid>/stat */
    struct task *run_next;         /* run queue link */
    int last_cpu;                  /* the CPU it ran on last (-1: none yet) */
    /* The task's x87/SSE registers (fxsave format) while it is switched
     * out: the kernel itself never touches them (-mno-sse). */
    uint8_t fpu[512] __attribute__((aligned(16)));
    void *files;                   /* the file table (kernel/fs/file.c) */
    struct task_signals sig;       /* pending, mask, actions (include/kernel/signal.h) */
    unsigned flags;                /* TASK_COMPAT32 */
    /* compat32 (compat32/tls32.c): the i386 TLS descriptors installed by
     * set_thread_area (in the GDT's TLS slots while the task runs), and
     * the user's DS, ES, FS and GS selectors while it is switched out. */
    uint64_t tls[GDT_TLS_ENTRIES];
    uint16_t useg[4];
    /* clone and the calls of kernel/proc/sys_*.c (docs/syscalls.md).
     * A zeroed task is a root process with the default limits. */
    int exit_signal;               /* sent to the parent at exit: clone's low byte (SIGCHLD or 0) */
    uint64_t clear_child_tid;      /* CLONE_CHILD_CLEARTID, set_tid_address: zeroed at exit */
    struct task *vfork_parent;     /* CLONE_VFORK: the parent asleep until we exec or exit */
    bool vfork_waiting;            /* in that parent: the child has not let us go yet */
    bool undumpable;               /* prctl(PR_SET_DUMPABLE, 0) */
    uint64_t robust_list;          /* set_robust_list's head (kept, never walked) */
    const void *futex_obj;         /* futex: while waiting, the key waited on */
    uint64_t futex_off;
    uint32_t futex_bits;           /* FUTEX_WAIT_BITSET's mask (~0: any wake) */
    uint32_t uid, euid, suid, fsuid, gid, egid, sgid, fsgid;   /* credentials */
    uint32_t ngroups, groups[TASK_NGROUPS];                     /* setgroups, sorted */
    uint32_t rlim_set;             /* bit r: rlim[r] was set; else the default (sys_rlimit.c) */
    struct { uint64_t cur, max; } rlim[TASK_NRLIMITS];
    const void *kwin;              /* sendfile: a kernel buffer uaccess takes as user memory */
    size_t kwin_len;
    /* set_mempolicy's NUMA policy (include/mm/mempolicy.h), the task's
     * own copy (fork copies it, exit frees it); NULL: local allocation. */
    struct mempolicy *mempolicy;
    /* Threads (kernel/proc/thread_group.c, docs/threads.md).  A thread
     * group is the tasks of one tgid: getpid is the tgid, gettid the pid.
     * The leader (pid == tgid) outlives the other threads: exit makes it
     * a zombie that wait4 cannot reap while another thread lives, and
     * its group_exit fields are the group's (Linux's signal_struct). */
    int tgid;
    struct task *group_leader;     /* the leader; a zombie thread's is itself */
    bool group_exit;               /* leader: exit_group, a fatal signal or exec ends the others */
    int group_exit_code;           /* leader: the wait status they all leave with */
    /* Files a system call uses from a shared descriptor table, each with
     * a reference held until the return to user mode (Linux's fdget):
     * another thread may close the descriptor meanwhile (kernel/fs/file.c). */
    struct file *borrowed[TASK_BORROW_MAX];
    int nborrowed;
};

/* t->flags: a 32-bit (i386) program runs in compatibility mode. */
#define TASK_COMPAT32 0x1u
/* t->flags: forked and has not called execve since (Linux's PF_FORKNOEXEC:
 * setpgid may move such a child, not one that has exec'd). */
#define TASK_FORKNOEXEC 0x2u
/* t->flags: a kernel thread (include/kernel/kthread.h; Linux's PF_KTHREAD). */
#define TASK_KTHREAD 0x4u

/* Linux wait-status encoding (what wait4 stores). */
#define W_EXITCODE(code) (((code) & 0xff) << 8)
#define W_SIGNALED(sig)  ((sig) & 0x7f)

/* The task whose kernel stack we are on: this CPU's (per-CPU data,
 * include/kernel/percpu.h); the host tests have a variable. */
#ifdef HOST_TEST
extern struct task *current;
#else
#include <kernel/percpu.h>
#define current get_current()
#endif

/* The trap frame of a task: at the top of its kernel stack. */
static inline struct trap_frame *task_frame(const struct task *t)
{
    return (struct trap_frame *)((uint8_t *)t->kstack + KSTACK_SIZE) - 1;
}

void task_init(void);
/* CPU cpu's idle task becomes this CPU's current (task_init: the boot
 * CPU; task_ap_idle: each other one). */
void task_idle_init(unsigned cpu);
/* The other CPUs start taking tasks from the run queue (kmain, before
 * init starts); task_ap_idle is where each of them goes then, and
 * task_aps_may_schedule what it waits for (kernel/cpu/smpboot.c). */
void task_start_aps(void);
bool task_aps_may_schedule(void);
__attribute__((noreturn)) void task_ap_idle(void);
/* The FPU/SSE state a new program starts with (what fninit and a
 * default MXCSR give): for exec. */
void task_fpu_reset(struct task *t);
/* Save the CPU's current FPU/SSE registers into t (fork: the child gets
 * the parent's registers as they are now). */
void task_fpu_save(struct task *t);
/* A new task with its own kernel stack, not yet runnable; NULL with *err
 * -EAGAIN when the table is full (Linux's fork gives EAGAIN at its process
 * limit) or -ENOMEM (err may be NULL). */
struct task *task_alloc(const char *name, int *err);
/* Make it runnable, starting in user mode at the state in its frame. */
void task_start(struct task *t);
/* Give the CPU to the next runnable task (returns when we run again). */
void schedule(void);
/* Block the current task until wake_up(chan). */
void sleep_on(void *chan);
void wake_up(void *chan);
/* Timer tick (kernel/cpu/apic.c): account and ask for a switch at the next
 * return to user mode. */
void task_tick(bool from_user);
/* An idle AP's tick, counted without the kernel lock: false when the
 * tick needs the lock and task_tick (kernel/cpu/trap.c). */
bool task_tick_idle(void);
/* t runs on another CPU right now: send that CPU an IPI, so that t
 * enters the kernel and sees what was just queued for it (a signal),
 * rather than at its next tick (Linux's kick_process). */
void task_kick(struct task *t);
/* On the way back to user mode: switch if the slice is over. */
void task_return_to_user(void);
/* Exit the current task with a Linux wait status; never returns. */
__noreturn void task_exit(int wait_status);
struct task *task_find(int pid);
/* Make t runnable if it is blocked (whatever it waits for): a signal
 * ends an interruptible sleep (kernel/proc/signal.c). */
void wake_up_task(struct task *t);
/* Iterate over every task slot (NULL slots included): for wait4. */
struct task *task_slot(int i);
/* Free an address space of the kernel's (mm_destroy and its struct),
 * leaving its tables first if the CPU is on them; task_drop_mm does it
 * for a task's and clears t->mm (kernel/proc/exit.c). */
void mm_release(struct mm *mm);
void task_drop_mm(struct task *t);
/* Free a zombie (its kernel stack and slot); the parent's wait does it. */
void task_reap(struct task *t);
/* Free the zombies nobody will wait for (their parent ignores SIGCHLD):
 * kernel/proc/exit.c, on the way back to user mode. */
void task_reap_detached(void);
uint64_t ticks_now(void);
int task_count(void);
/* The last pid handed out, and the tasks started since boot (fork and
 * clone included: /proc/stat's "processes", /proc/loadavg). */
int task_last_pid(void);
uint64_t task_forks(void);

/*
 * clone's side of a task's life (kernel/proc/fork.c, docs/syscalls.md):
 *  - mm_has_users: does any task still have mm (CLONE_VM shares one)?
 *    The last task to leave an mm frees it (task_drop_mm, exec);
 *  - clone_exit (exit) and clone_exec (exec, past its point of no
 *    return), both before the task's mm goes: CLONE_CHILD_CLEARTID's
 *    write and futex wake when the mm is shared, and the release of a
 *    vfork parent.
 */
bool mm_has_users(const struct mm *mm);
void clone_exit(struct task *t);
void clone_exec(struct task *t);
/* Wake at most n futex waiters on (mm, uaddr) whose bitset meets bits;
 * returns how many (kernel/proc/sys_futex.c). */
int futex_wake_key(const struct mm *mm, uint64_t uaddr, int n, uint32_t bits);
/* A thread leaves (exit, exec): the locks of its robust list (set_robust_list)
 * that it still holds are marked FUTEX_OWNER_DIED and a waiter is woken,
 * as Linux's exit_robust_list.  t must be current. */
void futex_exit_robust(struct task *t);

/*
 * Thread groups (kernel/proc/thread_group.c, docs/threads.md).
 *  - thread_group_others: does a thread of t's group other than t still
 *    run (not a zombie)?
 *  - thread_group_live: one such thread (the first found), or NULL;
 *  - thread_group_count: the group's threads as /proc shows them (the
 *    live ones and a zombie leader);
 *  - do_group_exit: exit_group and fatal signals: every thread of the
 *    group leaves with one status (the first one asked);
 *  - de_thread: execve from a thread: the others are killed and waited
 *    for, and the caller becomes the leader, with its pid (0 or -EAGAIN
 *    when the group is already dying);
 *  - signal_target: the thread a signal for t's process goes to: one
 *    that does not block it, t first.
 */
bool thread_group_others(const struct task *t);
struct task *thread_group_live(const struct task *t);
int thread_group_count(const struct task *t);
__noreturn void do_group_exit(int wait_status);
int de_thread(struct task *t);
struct task *signal_target(struct task *t, int sig);
static inline bool thread_is_leader(const struct task *t)
{
    return t->pid == t->tgid;
}

/* The soft RLIMIT_NOFILE of t, at most max: descriptors are allocated
 * below it (kernel/fs/file.c); a limit never set is max itself. */
static inline int task_nofile(const struct task *t, int max)
{
    uint64_t n = (t->rlim_set >> RLIMIT_NOFILE) & 1 ? t->rlim[RLIMIT_NOFILE].cur : (uint64_t)max;
    return n < (uint64_t)max ? (int)n : max;
}

#endif
