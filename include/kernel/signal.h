/*
 * Signals: what the rest of the kernel calls (docs/signals.md).
 *
 * A signal is generated for a task (send_signal, send_sig, kill_pgrp, a
 * fault through force_sig_fault), waits in the task's pending set, and is
 * acted on the next time the task returns to user mode
 * (signal_deliver, called by task_return_to_user): ignored, its default
 * action (end the process, with a core flag or not; stop it; continue
 * it), or a handler the program installed, run on a Linux signal frame
 * built on the user stack.  A blocked signal stays pending until it is
 * unblocked.  Generation never sleeps and never fails for lack of memory
 * (a standard signal then arrives without its siginfo details).
 *
 * sleep_on_intr is the sleep of every system call that waits: it returns
 * 0 when woken by wake_up(chan), or -ERESTARTSYS when a signal the task
 * does not block is pending; the caller undoes what it must and returns
 * that code (or -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK, as Linux does
 * for the call), which the return path turns into -EINTR or a restart of
 * the call (include/kernel/errno.h).  A signal whose action ends the
 * process ends it on that same return.  sleep_on (include/kernel/task.h)
 * stays uninterruptible: nothing but its wake_up ends it.
 *
 * The per-task state, struct task_signals, is embedded in struct task:
 * the actions live in their own reference-counted table (struct
 * sighand_struct, include/kernel/sigdeliver.h) so that tasks may share
 * them, as Linux's threads do (CLONE_SIGHAND).
 */
#ifndef KERNEL_SIGNAL_H
#define KERNEL_SIGNAL_H

#include <kernel/types.h>

struct task;

/* Linux's x86 signal numbers (arch/x86/include/uapi/asm/signal.h). */
#define SIGHUP     1
#define SIGINT     2
#define SIGQUIT    3
#define SIGILL     4
#define SIGTRAP    5
#define SIGABRT    6
#define SIGBUS     7
#define SIGFPE     8
#define SIGKILL    9
#define SIGUSR1   10
#define SIGSEGV   11
#define SIGUSR2   12
#define SIGPIPE   13
#define SIGALRM   14
#define SIGTERM   15
#define SIGSTKFLT 16
#define SIGCHLD   17
#define SIGCONT   18
#define SIGSTOP   19
#define SIGTSTP   20
#define SIGTTIN   21
#define SIGTTOU   22
#define SIGURG    23
#define SIGXCPU   24
#define SIGXFSZ   25
#define SIGVTALRM 26
#define SIGPROF   27
#define SIGWINCH  28
#define SIGIO     29
#define SIGPWR    30
#define SIGSYS    31
#define SIGRTMIN  32   /* 32..64: real-time signals, each instance queued */
#define NSIG      64

/* A set of signals: bit sig - 1 for signal sig (Linux's kernel sigset_t
 * on x86-64, 8 bytes; i386 programs see it as two 32-bit words). */
typedef uint64_t ksigset_t;
#define sigmask(sig) (1ul << ((sig) - 1))
#define SIG_KERNEL_ONLY (sigmask(SIGKILL) | sigmask(SIGSTOP))   /* never blocked nor caught */

/* si_code values (include/uapi/asm-generic/siginfo.h). */
#define SI_USER     0        /* kill */
#define SI_KERNEL   0x80     /* sent by the kernel */
#define SI_QUEUE    (-1)     /* sigqueue */
#define SI_TKILL    (-6)     /* tkill, tgkill */
#define ILL_ILLOPN  2
#define FPE_INTDIV  1
#define FPE_INTOVF  2
#define FPE_FLTDIV  3
#define FPE_FLTOVF  4
#define FPE_FLTUND  5
#define FPE_FLTRES  6
#define FPE_FLTINV  7
#define FPE_FLTSUB  8
#define SEGV_MAPERR 1
#define SEGV_ACCERR 2
#define BUS_ADRALN  1
#define BUS_ADRERR  2
#define TRAP_BRKPT  1
#define TRAP_TRACE  2
#define CLD_EXITED  1
#define CLD_KILLED  2
#define CLD_DUMPED  3
#define CLD_STOPPED 5
#define CLD_CONTINUED 6

/*
 * What a pending signal carries: the fields of Linux's siginfo, kept
 * whole here and written out in the 64-bit or the i386 layout when a
 * handler or rt_sigtimedwait receives it (kernel/proc/sig_frame.c,
 * compat32/sigframe32.c).  Which fields mean something depends on
 * signo and code, as in Linux's siginfo_layout.
 */
struct kernel_siginfo {
    int signo, errnum, code;
    int pid;                 /* sender (kill, tkill, sigqueue), child (SIGCHLD) */
    uint32_t uid;
    int status;              /* SIGCHLD: exit code or signal */
    uint64_t utime, stime;   /* SIGCHLD: the child's times, in clock ticks */
    uint64_t addr;           /* faults: the address */
    uint64_t value;          /* sigqueue: the sigval */
    bool thread;             /* sent to this thread, not to its process (send_sig) */
};

/*
 * A system call to continue after a signal interrupted it and no handler
 * ran (restart_syscall, as Linux's restart_block): nanosleep and
 * clock_nanosleep keep their deadline here.
 */
struct restart_block {
    long (*fn)(struct restart_block *rb);
    uint64_t deadline_ns;    /* now_ns() value to sleep until */
    uint64_t urem;           /* where to write the time left, or 0 */
    bool rem32;              /* urem is an i386 struct timespec */
};

struct sighand_struct;
struct sigqueue;

/* The signal state of a task (struct task's `sig`). */
struct task_signals {
    struct sighand_struct *hand;   /* the actions (shared, reference counted) */
    ksigset_t blocked;             /* the mask */
    ksigset_t pending;             /* bit set: at least one instance queued */
    struct sigqueue *queue;        /* the siginfo of the pending instances, oldest first */
    int nqueued;                   /* entries on queue (real-time ones are limited) */
    ksigset_t real_blocked;        /* rt_sigtimedwait: the mask while it waits is another */
    ksigset_t saved_mask;          /* rt_sigsuspend: the mask to restore ... */
    bool restore_mask;             /* ... once a handler's frame holds it, or at return */
    bool intr_sleep;               /* asleep in sleep_on_intr: a signal wakes it */
    bool detached;                 /* a zombie nobody waits for: freed by the kernel */
    int stop_sig;                  /* non-zero while stopped (by that signal) */
    int wait_report;               /* WAIT_STOPPED/WAIT_CONTINUED not yet seen by wait4 */
    uint64_t ss_sp, ss_size;       /* sigaltstack */
    int ss_flags;                  /* as sigaltstack got them (ss_size 0: no stack) */
    uint64_t trapno, error, cr2;   /* the last exception, for the signal frame */
    struct restart_block restart;
};

#define WAIT_STOPPED   1
#define WAIT_CONTINUED 2

/* Linux's wait-status encoding beyond W_EXITCODE and W_SIGNALED
 * (include/kernel/task.h). */
#define W_COREDUMP       0x80
#define W_STOPCODE(sig)  ((((sig) & 0xff) << 8) | 0x7f)
#define W_CONTINUED      0xffff

/* ---- generation (kernel/proc/signal.c) ------------------------------------ */

/* Queue sig (1..NSIG) for t as sent by the kernel (si_code SI_KERNEL) and
 * wake t if it sleeps interruptibly and does not block it.  0 (also when
 * t ignores it), -EINVAL for a bad number, -EAGAIN when a real-time
 * signal finds the queue full.  Never sleeps. */
int send_signal(struct task *t, int sig);
/* The same to that thread alone, even init's (a thread group ending). */
int send_signal_force(struct task *t, int sig);
/* Linux's send_sig: priv 0 says "from current" (SI_USER with current's
 * pid, as the SIGPIPE of a write), 1 "from the kernel" (SI_KERNEL). */
int send_sig(int sig, struct task *t, int priv);
/* Queue a signal with its siginfo (info->signo says which). */
int send_sig_info(struct task *t, const struct kernel_siginfo *info);
/* Send sig to every process of group pgid (SI_KERNEL: the terminal's
 * SIGINT, SIGTSTP, SIGWINCH): 0, -ESRCH if the group is empty, -EINVAL
 * for a bad number or group. */
int kill_pgrp(int pgid, int sig);
/* A fault of current's (kernel/proc/user_trap.c): the signal is queued
 * with code and addr; if current blocks or ignores it, it is unblocked
 * and its action reset to the default, so it cannot be lost.  Returns
 * true when that action ends the process (the caller logs the kill). */
bool force_sig_fault(int sig, int code, uint64_t addr);
/* The same for a signal without details (SI_KERNEL): SIGKILL for a lack
 * of memory, SIGSEGV for a frame that cannot be written. */
bool force_sig(int sig);

/* ---- sleeping and waking (kernel/proc/signal.c) --------------------------- */

/* Sleep until wake_up(chan): 0, or -ERESTARTSYS if a signal came. */
int sleep_on_intr(void *chan);
/* Is a signal pending that t does not block (one that ends a sleep)? */
bool signal_pending(struct task *t);

/* ---- the life of a task (kernel/proc/signal.c) ---------------------------- */

/* A new task copies current's actions (a table of its own), mask and
 * alternate stack, with nothing pending: fork.  -ENOMEM. */
int signal_fork(struct task *child);
/* CLONE_SIGHAND: the new task shares current's table instead. */
void signal_share_actions(struct task *child);
/* execve, past its point of no return: handled signals back to SIG_DFL,
 * ignored ones stay ignored, the mask and pending signals stay, no
 * alternate stack.  A shared table is replaced by a copy (no memory:
 * the task gets SIGKILL). */
void signal_exec(struct task *t);
/* Threads (docs/threads.md): a signal sent to the process waits on one
 * thread when every thread blocks it.  signal_claim_shared moves such
 * signals of t's process that t accepts (accept: the signals t no longer
 * blocks, or waits for) from the threads that block them to t;
 * signal_hand_over gives an exiting thread's to a live thread. */
void signal_claim_shared(struct task *t, ksigset_t accept);
void signal_hand_over(struct task *t);
/* exit: drop the queue and the table (idempotent: task_reap calls it too). */
void signal_release(struct task *t);
/* t has exited (status is its wait status): tell its parent (SIGCHLD
 * with CLD_EXITED, CLD_KILLED or CLD_DUMPED) and wake its wait4.  When
 * the parent ignores SIGCHLD (SIG_IGN or SA_NOCLDWAIT) the zombie is
 * detached: nobody reaps it, the kernel frees it (task_reap_detached). */
void signal_notify_parent(struct task *t, int status);

/* ---- delivery (kernel/proc/sig_deliver.c) --------------------------------- */

struct trap_frame;
/* On every return to user mode, with current's trap frame: restart or
 * fail an interrupted system call, take the default actions (may exit
 * or stop), and set up a handler frame for each signal caught. */
void signal_deliver(struct trap_frame *f);

/* ---- system calls (kernel/proc/sig_sys.c, kernel/proc/sig_wait.c) --------- */

struct sysargs;
long sys_rt_sigaction(const struct sysargs *a);
long sys_rt_sigprocmask(const struct sysargs *a);
long sys_rt_sigpending(const struct sysargs *a);
long sys_rt_sigreturn(const struct sysargs *a);
long sys_sigaltstack(const struct sysargs *a);
long sys_kill(const struct sysargs *a);
long sys_tkill(const struct sysargs *a);
long sys_tgkill(const struct sysargs *a);
long sys_pause(const struct sysargs *a);
long sys_rt_sigsuspend(const struct sysargs *a);
long sys_rt_sigtimedwait(const struct sysargs *a);
long sys_nanosleep(const struct sysargs *a);
long sys_clock_nanosleep(const struct sysargs *a);
long sys_restart_syscall(const struct sysargs *a);

#endif
