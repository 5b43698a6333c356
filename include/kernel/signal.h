/*
 * Signals (kernel/proc/signal.c): what the rest of the kernel calls.
 *
 * send_signal queues a signal for a task and wakes it if it sleeps
 * interruptibly; the signal is acted on (default action, ignored, or a
 * handler called with a Linux signal frame) on the task's next return to
 * user mode.  sleep_on_intr is the sleep every waiting system call uses:
 * it returns 0 when woken by wake_up(chan), or -ERESTARTSYS when a signal
 * arrived (the caller undoes what it must and returns that code, which
 * the return path turns into -EINTR or a restart).  A fatal signal (one
 * whose action is to end the process) still ends the task inside the
 * sleep, as before.
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
#define NSIG      64

/* Queue sig (1..NSIG) for t; 0, or -EINVAL for a bad number. */
int send_signal(struct task *t, int sig);
/* Send sig to every task of process group pgid: 0, or -ESRCH if none. */
int kill_pgrp(int pgid, int sig);
/* Sleep until wake_up(chan): 0, or -ERESTARTSYS if a signal came. */
int sleep_on_intr(void *chan);
/* Is a signal pending that would interrupt a sleep now? */
bool signal_pending(struct task *t);

#endif
