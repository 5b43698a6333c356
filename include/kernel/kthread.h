/*
 * Kernel threads (kernel/proc/kthread.c): tasks that run a function of
 * the kernel and never user code, as Linux's kthread_run.  They are in
 * the task table (ps shows them in brackets: no command line), have no
 * address space of their own (mm is NULL: they run on the kernel's
 * tables), take no signal, and never exit.  kswapd (mm/kswapd.c) is one.
 *
 * Context: one CPU, a kernel that is not preemptible: a kernel thread
 * runs until it sleeps (sleep_on) or gives the CPU away (kthread_yield).
 */
#ifndef KERNEL_KTHREAD_H
#define KERNEL_KTHREAD_H

#include <stdbool.h>

struct task;

/* A new kernel thread named name, runnable, that calls fn(arg); fn must
 * never return.  NULL when no task or stack could be had. */
struct task *kthread_run(void (*fn)(void *arg), void *arg, const char *name);
/* Is t a kernel thread? */
bool is_kthread(const struct task *t);
/* Let the tasks that are waiting to run have the CPU (a long job's
 * breathing point); back when the others have had their turn. */
void kthread_yield(void);

#endif
