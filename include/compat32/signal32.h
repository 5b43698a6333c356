/*
 * The i386 signal system calls (compat32/signal32.c) and frames
 * (compat32/sigframe32.c): Linux's i386 structures around the kernel's
 * one signal mechanism (include/kernel/signal.h, docs/signals.md).
 * A 32-bit task's handlers always get i386 frames.
 */
#ifndef COMPAT32_SIGNAL32_H
#define COMPAT32_SIGNAL32_H

struct sysargs;

long sys32_signal(const struct sysargs *a);             /* 48 */
long sys32_sigaction(const struct sysargs *a);          /* 67: struct old_sigaction */
long sys32_sigsuspend(const struct sysargs *a);         /* 72: the old 32-bit mask */
long sys32_sigpending(const struct sysargs *a);         /* 73 */
long sys32_sigreturn(const struct sysargs *a);          /* 119: struct sigframe */
long sys32_sigprocmask(const struct sysargs *a);        /* 126: the old 32-bit mask */
long sys32_rt_sigreturn(const struct sysargs *a);       /* 173: struct rt_sigframe */
long sys32_rt_sigaction(const struct sysargs *a);       /* 174: struct sigaction, 20 bytes */
long sys32_rt_sigtimedwait(const struct sysargs *a);    /* 177: old 32-bit timespec */
long sys32_sigaltstack(const struct sysargs *a);        /* 186: 12-byte stack_t */
long sys32_clock_nanosleep(const struct sysargs *a);    /* 267: old 32-bit timespec */
long sys32_clock_nanosleep_time64(const struct sysargs *a);   /* 407 */
long sys32_rt_sigtimedwait_time64(const struct sysargs *a);   /* 421 */

#endif
