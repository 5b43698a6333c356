/*
 * test_sigwait: signals and the system calls that wait (docs/signals.md).
 *
 *   - a pipe read, a wait4 and a nanosleep interrupted by a signal whose
 *     handler lacks SA_RESTART fail with EINTR (nanosleep says how long
 *     was left); with SA_RESTART the read and the wait4 go on and return
 *     what they waited for; a stop and a continue (no handler runs) let
 *     a read or a nanosleep go on as if nothing happened;
 *   - pause and sigsuspend return EINTR after the handler, sigsuspend
 *     with its temporary mask in force and the old one back afterwards;
 *   - rt_sigtimedwait takes a blocked signal without its handler, with
 *     its siginfo; EAGAIN at the timeout (and at once for a zero one);
 *     EINTR when another signal's handler runs;
 *   - stop and continue: WUNTRACED and WCONTINUED, SIGCHLD with
 *     CLD_STOPPED and CLD_CONTINUED, SA_NOCLDSTOP, SIGKILL of a stopped
 *     process;
 *   - SIGCHLD at a child's end (CLD_EXITED with the exit code, CLD_KILLED
 *     with the signal, si_pid); a parent ignoring SIGCHLD or asking
 *     SA_NOCLDWAIT leaves no zombie (wait4: ECHILD);
 *   - SIGPIPE on a write to a pipe nobody reads: it kills by default;
 *     ignored or caught, the write fails with EPIPE;
 *   - kill of a process group (kill(-pgid) and kill(0)).
 *
 * A child that signals its parent first sleeps 200 ms so that the parent
 * is already waiting (on Linux as on mmk); every verdict is a fact that
 * holds on both, so the output matches the host run line for line.
 */
#include "ut.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DELAY_US 200000

static volatile sig_atomic_t count[65];
static volatile int ci_code, ci_pid, ci_status, ci_signo;

static void reset_all(void)
{
    struct sigaction sa = { .sa_handler = SIG_DFL };
    for (int s = 1; s < 65; s++) {
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &sa, NULL);
        count[s] = 0;
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void counter(int sig)
{
    count[sig]++;
}

static void chld_info(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    count[sig]++;
    ci_signo = si->si_signo;
    ci_code = si->si_code;
    ci_pid = si->si_pid;
    ci_status = si->si_status;
}

/* Linux may send a child's SIGCHLD a little after wait4 saw the change
 * (CLD_CONTINUED comes from the child once it runs): give it a moment. */
static void await_count(int sig, int n)
{
    for (int i = 0; i < 200 && count[sig] < n; i++)
        usleep(10000);
}

static int on(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa = { .sa_handler = fn, .sa_flags = flags };
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}

static void set_mask(int how, int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(how, &s, NULL);
}

/* A child that, after DELAY_US, sends sig to its parent, then after
 * another DELAY_US writes one byte to fd (if fd >= 0), then exits with
 * code. */
static pid_t poker(int sig, int fd, int code)
{
    pid_t pid = ut_fork();
    if (pid == 0) {
        usleep(DELAY_US);
        kill(getppid(), sig);
        if (fd >= 0) {
            usleep(DELAY_US);
            write(fd, "x", 1);
        }
        _exit(code);
    }
    return pid;
}

/* ---- EINTR and SA_RESTART -------------------------------------------------------------- */

static void t_pipe_read(int restart)
{
    reset_all();
    on(SIGUSR1, counter, restart ? SA_RESTART : 0);
    int p[2];
    pipe(p);
    pid_t pid = poker(SIGUSR1, p[1], 0);
    char c = 0;
    errno = 0;
    ssize_t n = read(p[0], &c, 1);
    int e = errno;
    ut_wait(pid);
    close(p[0]);
    close(p[1]);
    if (restart)
        ut_check(n == 1 && c == 'x' && count[SIGUSR1] == 1, "pipe_read_sa_restart_goes_on",
                 "read %zd (%s), handler %d", n, ut_errno_name(e), (int)count[SIGUSR1]);
    else
        ut_check(n == -1 && e == EINTR && count[SIGUSR1] == 1, "pipe_read_interrupted_eintr",
                 "read %zd (%s), handler %d", n, ut_errno_name(e), (int)count[SIGUSR1]);
}

static void t_wait4(int restart)
{
    reset_all();
    on(SIGUSR1, counter, restart ? SA_RESTART : 0);
    /* the child waited for sleeps 3 delays; the poker signals after 1 */
    pid_t sleeper = ut_fork();
    if (sleeper == 0) {
        usleep(3 * DELAY_US);
        _exit(7);
    }
    pid_t pid = poker(SIGUSR1, -1, 0);
    int st = 0;
    errno = 0;
    pid_t r = waitpid(sleeper, &st, 0);
    int e = errno;
    ut_wait(pid);
    if (restart) {
        ut_check(r == sleeper && WIFEXITED(st) && WEXITSTATUS(st) == 7 && count[SIGUSR1] == 1,
                 "wait4_sa_restart_goes_on", "waitpid %s (%s)", r == sleeper ? "child" : "other",
                 ut_errno_name(e));
    } else {
        ut_check(r == -1 && e == EINTR && count[SIGUSR1] == 1, "wait4_interrupted_eintr",
                 "waitpid %d (%s)", (int)r, ut_errno_name(e));
        ut_wait(sleeper);
    }
}

static void t_nanosleep(void)
{
    reset_all();
    on(SIGUSR1, counter, SA_RESTART);   /* nanosleep is never restarted after a handler */
    pid_t pid = poker(SIGUSR1, -1, 0);
    struct timespec req = { 5, 0 }, rem = { 0, 0 };
    errno = 0;
    int r = nanosleep(&req, &rem);
    int e = errno;
    ut_wait(pid);
    ut_check(r == -1 && e == EINTR, "nanosleep_interrupted_eintr", "r %d (%s)", r,
             ut_errno_name(e));
    ut_check(rem.tv_sec >= 3 && rem.tv_sec < 5, "nanosleep_rem_is_time_left", "rem %lds",
             (long)rem.tv_sec);

    /* clock_nanosleep, absolute: EINTR too, and no rem */
    struct timespec now, until;
    clock_gettime(CLOCK_MONOTONIC, &now);
    until = now;
    until.tv_sec += 5;
    pid = poker(SIGUSR1, -1, 0);
    int cr = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
    ut_wait(pid);
    ut_check(cr == EINTR, "clock_nanosleep_abs_interrupted_eintr", "returned %d", cr);
    ut_check(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL) == EINVAL,
             "clock_nanosleep_thread_clock_einval", "accepted");
}

/* Without a handler (a stop, then a continue), the call goes on. */
static void t_restart_without_handler(void)
{
    reset_all();
    int p[2];
    pipe(p);
    pid_t reader = ut_fork();
    if (reader == 0) {
        char c = 0;
        ssize_t n = read(p[0], &c, 1);
        struct timespec t = { 0, 3 * DELAY_US * 1000 }, rem = { 9, 0 };
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        int r = nanosleep(&t, &rem);
        clock_gettime(CLOCK_MONOTONIC, &b);
        long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
        _exit((n == 1 && c == 'y' ? 0 : 1) | (r == 0 ? 0 : 2) | (ms >= 3 * DELAY_US / 1000 ? 0 : 4));
    }
    usleep(DELAY_US);
    kill(reader, SIGSTOP);
    int st;
    waitpid(reader, &st, WUNTRACED);
    kill(reader, SIGCONT);
    write(p[1], "y", 1);
    usleep(DELAY_US);   /* now in nanosleep: stop and continue it too */
    kill(reader, SIGSTOP);
    waitpid(reader, &st, WUNTRACED);
    kill(reader, SIGCONT);
    st = ut_wait(reader);
    close(p[0]);
    close(p[1]);
    ut_check(ut_exited_with(st, 0), "stop_continue_restarts_read_and_nanosleep",
             "child status %#x (1 read, 2 nanosleep, 4 slept short)", st);
}

/* ---- pause, sigsuspend, sigtimedwait ----------------------------------------------------- */

static volatile int usr2_blocked_in_handler;

static void probe_usr2(int sig)
{
    count[sig]++;
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    usr2_blocked_in_handler = sigismember(&cur, SIGUSR2);
}

static void t_pause_suspend(void)
{
    reset_all();
    on(SIGUSR1, counter, SA_RESTART);
    pid_t pid = poker(SIGUSR1, -1, 0);
    errno = 0;
    int r = pause();
    int e = errno;
    ut_wait(pid);
    ut_check(r == -1 && e == EINTR && count[SIGUSR1] == 1, "pause_returns_eintr", "r %d (%s)", r,
             ut_errno_name(e));

    /* sigsuspend: USR1 blocked outside, let in by the temporary mask,
     * which also blocks USR2 while the handler runs. */
    reset_all();
    on(SIGUSR1, probe_usr2, 0);
    set_mask(SIG_BLOCK, SIGUSR1);
    pid = poker(SIGUSR1, -1, 0);
    sigset_t tmp;
    sigemptyset(&tmp);
    sigaddset(&tmp, SIGUSR2);
    errno = 0;
    r = sigsuspend(&tmp);
    e = errno;
    ut_wait(pid);
    sigset_t after;
    sigprocmask(SIG_BLOCK, NULL, &after);
    ut_check(r == -1 && e == EINTR && count[SIGUSR1] == 1, "sigsuspend_returns_eintr",
             "r %d (%s) count %d", r, ut_errno_name(e), (int)count[SIGUSR1]);
    ut_check(usr2_blocked_in_handler, "sigsuspend_mask_in_force_in_handler", "USR2 not blocked");
    ut_check(sigismember(&after, SIGUSR1) && !sigismember(&after, SIGUSR2),
             "sigsuspend_old_mask_back", "mask wrong");

    /* A signal pending and blocked before: sigsuspend returns at once. */
    reset_all();
    on(SIGUSR1, counter, 0);
    set_mask(SIG_BLOCK, SIGUSR1);
    kill(getpid(), SIGUSR1);
    sigemptyset(&tmp);
    r = sigsuspend(&tmp);
    ut_check(r == -1 && count[SIGUSR1] == 1, "sigsuspend_pending_returns_at_once", "count %d",
             (int)count[SIGUSR1]);
}

static void t_sigtimedwait(void)
{
    reset_all();
    on(SIGUSR1, counter, 0);
    set_mask(SIG_BLOCK, SIGUSR1);
    pid_t pid = poker(SIGUSR1, -1, 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    struct timespec ts = { 10, 0 };
    int r = sigtimedwait(&set, &si, &ts);
    ut_wait(pid);
    ut_check(r == SIGUSR1 && count[SIGUSR1] == 0, "sigtimedwait_takes_signal_not_handler",
             "r %d count %d", r, (int)count[SIGUSR1]);
    ut_check(si.si_signo == SIGUSR1 && si.si_code == SI_USER && si.si_pid == pid,
             "sigtimedwait_siginfo", "signo %d code %d pid %s", si.si_signo, si.si_code,
             si.si_pid == pid ? "right" : "wrong");

    struct timespec short_ts = { 0, 100 * 1000 * 1000 };
    errno = 0;
    r = sigtimedwait(&set, &si, &short_ts);
    ut_check(r == -1 && errno == EAGAIN, "sigtimedwait_timeout_eagain", "r %d (%s)", r,
             ut_errno_name(errno));
    struct timespec zero = { 0, 0 };
    errno = 0;
    r = sigtimedwait(&set, &si, &zero);
    ut_check(r == -1 && errno == EAGAIN, "sigtimedwait_zero_timeout_eagain", "r %d", r);
    kill(getpid(), SIGUSR1);
    r = sigtimedwait(&set, &si, &zero);
    ut_check(r == SIGUSR1 && count[SIGUSR1] == 0, "sigtimedwait_pending_at_once", "r %d", r);

    /* Another signal, with a handler, interrupts it: EINTR even under
     * SA_RESTART.  (musl's sigtimedwait tries again after EINTR: the
     * system call itself, with the kernel's 8-byte set and a timespec of
     * longs, the old layout on i386.) */
    on(SIGUSR2, counter, SA_RESTART);
    pid = poker(SIGUSR2, -1, 0);
    unsigned long long kset = 1ull << (SIGUSR1 - 1);
    long kts[2] = { 10, 0 };
    errno = 0;
    r = (int)syscall(SYS_rt_sigtimedwait, &kset, &si, kts, 8);
    int e = errno;
    ut_wait(pid);
    ut_check(r == -1 && e == EINTR && count[SIGUSR2] == 1, "sigtimedwait_other_signal_eintr",
             "r %d (%s)", r, ut_errno_name(e));
    struct timespec bad = { 0, 1000000000 };
    ut_check_errno("sigtimedwait_bad_timeout_einval", sigtimedwait(&set, &si, &bad), EINVAL);
}

/* ---- stop, continue, SIGCHLD ---------------------------------------------------------------- */

static void t_stop_continue(void)
{
    reset_all();
    struct sigaction sa = { .sa_sigaction = chld_info, .sa_flags = SA_SIGINFO | SA_RESTART };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    pid_t pid = ut_fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    kill(pid, SIGSTOP);
    int st = 0;
    pid_t r = waitpid(pid, &st, WUNTRACED);
    ut_check(r == pid && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "wuntraced_sees_stop",
             "status %#x", st);
    await_count(SIGCHLD, 1);
    ut_check(count[SIGCHLD] == 1 && ci_code == CLD_STOPPED && ci_status == SIGSTOP &&
             ci_pid == pid, "sigchld_cld_stopped", "count %d code %d status %d",
             (int)count[SIGCHLD], ci_code, ci_status);
    r = waitpid(pid, &st, WUNTRACED | WNOHANG);
    ut_check(r == 0, "stop_reported_once", "waitpid %d", (int)r);
    kill(pid, SIGCONT);
    r = waitpid(pid, &st, WCONTINUED);
    ut_check(r == pid && WIFCONTINUED(st), "wcontinued_sees_continue", "status %#x", st);
    await_count(SIGCHLD, 2);
    ut_check(count[SIGCHLD] == 2 && ci_code == CLD_CONTINUED && ci_status == SIGCONT,
             "sigchld_cld_continued", "count %d code %d status %d", (int)count[SIGCHLD], ci_code,
             ci_status);
    kill(pid, SIGTERM);
    st = ut_wait(pid);
    ut_check(ut_killed_by(st, SIGTERM), "sigterm_after_continue", "status %#x", st);
    await_count(SIGCHLD, 3);
    ut_check(count[SIGCHLD] == 3 && ci_code == CLD_KILLED && ci_status == SIGTERM,
             "sigchld_cld_killed", "count %d code %d", (int)count[SIGCHLD], ci_code);

    /* SA_NOCLDSTOP: no SIGCHLD for a stop; SIGKILL ends a stopped child. */
    sa.sa_flags |= SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    count[SIGCHLD] = 0;
    pid = ut_fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    kill(pid, SIGSTOP);
    waitpid(pid, &st, WUNTRACED);
    int stops = count[SIGCHLD];
    kill(pid, SIGKILL);
    st = ut_wait(pid);
    ut_check(stops == 0, "sa_nocldstop_no_sigchld_for_stop", "%d", stops);
    ut_check(ut_killed_by(st, SIGKILL), "sigkill_ends_stopped_child", "status %#x", st);

    /* SIGCHLD at a normal exit: CLD_EXITED with the code. */
    reset_all();
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGCHLD, &sa, NULL);
    pid = ut_fork();
    if (pid == 0)
        _exit(42);
    st = ut_wait(pid);
    ut_check(count[SIGCHLD] == 1 && ci_signo == SIGCHLD && ci_code == CLD_EXITED &&
             ci_status == 42 && ci_pid == pid, "sigchld_cld_exited", "count %d code %d status %d",
             (int)count[SIGCHLD], ci_code, ci_status);
}

static void t_no_zombies(void)
{
    /* SIGCHLD ignored: the children are reaped by the kernel. */
    reset_all();
    signal(SIGCHLD, SIG_IGN);
    pid_t a = ut_fork();
    if (a == 0)
        _exit(1);
    pid_t b = ut_fork();
    if (b == 0)
        _exit(2);
    int st;
    errno = 0;
    pid_t r = waitpid(-1, &st, 0);   /* sleeps until both are gone */
    ut_check(r == -1 && errno == ECHILD, "sigchld_ignored_no_zombie_echild", "waitpid %d (%s)",
             (int)r, ut_errno_name(errno));

    /* SA_NOCLDWAIT with a handler: the handler runs, no zombie either. */
    reset_all();
    struct sigaction sa = { .sa_sigaction = chld_info, .sa_flags = SA_SIGINFO | SA_NOCLDWAIT };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    a = ut_fork();
    if (a == 0)
        _exit(3);
    while (count[SIGCHLD] == 0)
        usleep(10000);
    errno = 0;
    r = waitpid(a, &st, 0);
    ut_check(r == -1 && errno == ECHILD && ci_pid == a && ci_status == 3,
             "sa_nocldwait_handler_runs_no_zombie", "waitpid %d (%s)", (int)r,
             ut_errno_name(errno));
    reset_all();
}

/* ---- SIGPIPE ------------------------------------------------------------------------------------ */

static void t_sigpipe(void)
{
    reset_all();
    int p[2];
    pipe(p);
    close(p[0]);
    pid_t pid = ut_fork();
    if (pid == 0) {
        write(p[1], "z", 1);
        _exit(0);
    }
    int st = ut_wait(pid);
    ut_check(ut_killed_by(st, SIGPIPE), "write_no_reader_sigpipe_kills", "status %#x", st);

    signal(SIGPIPE, SIG_IGN);
    errno = 0;
    ssize_t n = write(p[1], "z", 1);
    ut_check(n == -1 && errno == EPIPE, "sigpipe_ignored_epipe", "write %zd (%s)", n,
             ut_errno_name(errno));
    on(SIGPIPE, counter, 0);
    errno = 0;
    n = write(p[1], "z", 1);
    ut_check(n == -1 && errno == EPIPE && count[SIGPIPE] == 1, "sigpipe_caught_then_epipe",
             "write %zd (%s) count %d", n, ut_errno_name(errno), (int)count[SIGPIPE]);
    close(p[1]);
    reset_all();
}

/* ---- process groups ------------------------------------------------------------------------------ */

static void t_pgrp(void)
{
    reset_all();
    int ready[2];
    pipe(ready);
    pid_t a = ut_fork();
    if (a == 0) {
        setpgid(0, 0);
        write(ready[1], "a", 1);
        for (;;)
            pause();
    }
    setpgid(a, a);
    pid_t b = ut_fork();
    if (b == 0) {
        setpgid(0, a);
        write(ready[1], "b", 1);
        for (;;)
            pause();
    }
    setpgid(b, a);
    char c[2];
    ut_read_full(ready[0], c, 2);
    int k = kill(-a, SIGTERM);
    int sa = ut_wait(a), sb = ut_wait(b);
    ut_check(k == 0 && ut_killed_by(sa, SIGTERM) && ut_killed_by(sb, SIGTERM),
             "kill_negative_pgid_reaches_group", "kill %d, a %#x, b %#x", k, sa, sb);
    ut_check_errno("kill_empty_group_esrch", kill(-a, SIGTERM), ESRCH);

    /* kill(0): the caller's own group, itself included. */
    pid_t c0 = ut_fork();
    if (c0 == 0) {
        setpgid(0, 0);
        pid_t d = fork();
        if (d == 0) {
            for (;;)
                pause();
        }
        on(SIGUSR1, counter, 0);   /* after the fork: d keeps SIG_DFL, which ends it */
        kill(0, SIGUSR1);
        int sd = 0;
        waitpid(d, &sd, 0);
        _exit((count[SIGUSR1] == 1 ? 0 : 1) | (WIFSIGNALED(sd) && WTERMSIG(sd) == SIGUSR1 ? 0 : 2));
    }
    int st = ut_wait(c0);
    ut_check(ut_exited_with(st, 0), "kill_zero_reaches_own_group", "child status %#x", st);
    close(ready[0]);
    close(ready[1]);
}

int main(void)
{
    ut_init();
    t_pipe_read(0);
    t_pipe_read(1);
    t_wait4(0);
    t_wait4(1);
    t_nanosleep();
    t_restart_without_handler();
    t_pause_suspend();
    t_sigtimedwait();
    t_stop_continue();
    t_no_zombies();
    t_sigpipe();
    t_pgrp();
    reset_all();
    return ut_done();
}
