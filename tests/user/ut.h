/*
 * ut: the small test library of the user test programs (tests/user/test_*.c).
 *
 * Every test program prints one line per check and a summary, in the
 * project's format, so that its output on the host (the oracle) and on
 * mmk can be compared line by line:
 *
 *     ok - name
 *     ok - name # SKIP why          (a check that only means something on mmk)
 *     not ok - name: reason
 *     # a note                      (free text: never compared)
 *     N passed, N failed
 *
 * and exits 0 when nothing failed.  Names are single words (no blanks).
 * Only deterministic facts go into ok/not ok lines: no addresses, pids,
 * counts that depend on the machine or timings; those go into "# " notes.
 * The comparison (tests/user/run_host.py) drops note lines and the
 * " # SKIP ..." suffix, so a check skipped on the host still matches the
 * same check passing on mmk.  A skipped check counts as passed.
 *
 * Programs print with stdio, line-buffered (ut_init), and only the
 * process that started the program prints: children report through their
 * exit status or a pipe, so the order of the lines never depends on the
 * scheduler.  Children leave with _exit(), never exit(), so that nothing
 * buffered is written twice.
 */
#ifndef USER_UT_H
#define USER_UT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PAGE 4096UL

/* Line-buffered stdout; on the host, no core files for the deliberate crashes. */
void ut_init(void);
/* Record a check: prints "ok - name" or "not ok - name: <reason>". Returns cond. */
int ut_check(int cond, const char *name, const char *reason_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Check that a call failed with errno `want`: ret is the call's return
 * value (-1 expected), errno is read here, after the call was made (C
 * leaves the order of a function's arguments open, so never pass errno
 * next to the call itself). */
int ut_check_errno(const char *name, long ret, int want);
/* A check that is only meaningful on mmk: "ok - name # SKIP <why>". */
void ut_skip(const char *name, const char *why_fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A "# ..." note line (never compared with the oracle). */
void ut_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "N passed, N failed"; returns the exit status for main (0 or 1). */
int ut_done(void);

/* True when running on mmk (uname names it), false on the host's Linux. */
int ut_on_mmk(void);

/* A field of /proc/meminfo in kB ("MemFree"...), or -1 when unreadable. */
long ut_meminfo(const char *field);
/* A field of a /proc file with "Name:" or "name " lines (/proc/vmstat,
 * /proc/PID/status...), or -1. */
long ut_proc_field(const char *path, const char *name);
/* Used kB of the first swap area in /proc/swaps, or -1 when there is none. */
long ut_swap_used(void);
/* kB of swap nobody accounts for: used slots (/proc/swaps) minus every
 * process's VmSwap and the swap cache (SwapCached).  0 when every slot
 * has an owner; more is a leak or a retired slot; less happens when a
 * page read ahead sits in the swap cache while a PTE still names its slot
 * (counted twice). */
long ut_swap_unowned(void);
/* Sum of the active objects of every cache in /proc/slabinfo, or -1. */
long ut_slab_objects(void);
/* Pages held by the slab caches (num_slabs x pagesperslab summed over
 * /proc/slabinfo), or -1.  Empty slabs stay with their cache until memory
 * is short, so "MemFree + slab pages" is what a leak check compares. */
long ut_slab_pages(void);
/* MemFree plus the slab pages, in kB (-1 when unreadable): the memory
 * that is free or could be freed at once. */
long ut_free_kb(void);

/* fork() after flushing stdout (so buffered lines are never duplicated). */
pid_t ut_fork(void);
/* wait4 for pid, retrying on EINTR; returns the status, or -1 on error. */
int ut_wait(pid_t pid);
/* Run fn(arg) in a child, which leaves with _exit(fn(arg)); returns the
 * wait status, or -1 when fork failed. */
int ut_run_child(int (*fn)(void *), void *arg);
/* "exit 3", "signal 11 (SIGSEGV)" into buf. */
const char *ut_status_str(int status, char *buf, size_t size);
/* True when status says: killed by signal sig. */
int ut_killed_by(int status, int sig);
/* True when status says: exited normally with code. */
int ut_exited_with(int status, int code);
/* Name of an errno value ("EFAULT"), or "E<number>". */
const char *ut_errno_name(int e);

/* read/write the whole buffer (retrying short counts); 0 or -1. */
int ut_read_full(int fd, void *buf, size_t len);
int ut_write_full(int fd, const void *buf, size_t len);

#endif
