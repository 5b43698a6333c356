/*
 * test_signal: handlers, masks and the signal state a process keeps
 * (docs/signals.md).
 *
 *   - a handler runs once per signal, gets its number, and the program
 *     goes on after it returns; SA_SIGINFO's si_signo, si_code (SI_USER
 *     for kill, SI_TKILL for tgkill) and si_pid (the sender);
 *   - the mask: a blocked signal stays pending (rt_sigpending) and runs
 *     when unblocked; inside a handler its own signal and sa_mask are
 *     blocked, and the mask comes back after it; SA_NODEFER, SA_RESETHAND;
 *     SIGKILL and SIGSTOP cannot be blocked;
 *   - nested handlers, and the order of two signals unblocked together;
 *   - a standard signal sent three times while blocked arrives once, a
 *     real-time one three times;
 *   - ignoring: SIG_IGN drops a signal, and setting it discards a pending one;
 *   - fork keeps handlers and mask and clears the pending set; execve
 *     resets handlers to SIG_DFL but keeps SIG_IGN, the mask and pending
 *     signals;
 *   - the refusals of rt_sigaction, rt_sigprocmask, kill and tgkill;
 *   - nothing leaks (mmk only, as test_leak): queued instances dropped by
 *     SIG_IGN or left at exit, stopped and killed children, children
 *     reaped by the kernel, handlers on an alternate stack.
 *
 * Everything printed is the same on Linux (the host run is the oracle).
 */
#include "ut.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t count[65];
static volatile int order[8], norder;
static volatile int got_signo, got_code, got_pid, got_arg;

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
    norder = 0;
}

static void record(int what)
{
    if (norder < 8)
        order[norder++] = what;
}

static void counter(int sig)
{
    count[sig]++;
    record(sig);
}

static void info_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got_arg = sig;
    got_signo = si->si_signo;
    got_code = si->si_code;
    got_pid = si->si_pid;
    count[sig]++;
}

static int on(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa = { .sa_handler = fn, .sa_flags = flags };
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}

static int on_info(int sig, int flags)
{
    struct sigaction sa = { .sa_sigaction = info_handler, .sa_flags = SA_SIGINFO | flags };
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}

static int is_blocked(int sig)
{
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, sig);
}

static void block(int sig, int how)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(how, &s, NULL);
}

/* ---- delivery ----------------------------------------------------------------- */

static void t_handler_runs(void)
{
    reset_all();
    on(SIGUSR1, counter, 0);
    int r = kill(getpid(), SIGUSR1);
    ut_check(r == 0 && count[SIGUSR1] == 1, "handler_runs_once", "kill %d, count %d", r,
             (int)count[SIGUSR1]);
    raise(SIGUSR1);
    ut_check(count[SIGUSR1] == 2, "raise_runs_handler", "count %d", (int)count[SIGUSR1]);
}

static void t_siginfo(void)
{
    reset_all();
    on_info(SIGUSR1, 0);
    kill(getpid(), SIGUSR1);
    ut_check(got_arg == SIGUSR1 && got_signo == SIGUSR1, "siginfo_signo", "arg %d signo %d",
             got_arg, got_signo);
    ut_check(got_code == SI_USER, "siginfo_kill_si_user", "si_code %d", got_code);
    ut_check(got_pid == getpid(), "siginfo_kill_si_pid_is_sender", "si_pid differs");

    got_code = 0;
    syscall(SYS_tgkill, getpid(), getpid(), SIGUSR1);
    ut_check(got_code == SI_TKILL, "siginfo_tgkill_si_tkill", "si_code %d", got_code);

    /* From a child: si_pid is the child's. */
    got_pid = 0;
    block(SIGUSR1, SIG_BLOCK);
    pid_t pid = ut_fork();
    if (pid == 0)
        _exit(kill(getppid(), SIGUSR1) == 0 ? 0 : 1);
    int st = ut_wait(pid);
    block(SIGUSR1, SIG_UNBLOCK);
    ut_check(ut_exited_with(st, 0) && got_pid == pid, "siginfo_si_pid_of_child",
             "child %d, si_pid %s", st, got_pid == pid ? "right" : "wrong");
}

/* ---- the mask -------------------------------------------------------------------- */

static void t_blocked_pending(void)
{
    reset_all();
    on(SIGUSR1, counter, 0);
    block(SIGUSR1, SIG_BLOCK);
    kill(getpid(), SIGUSR1);
    sigset_t pend;
    sigemptyset(&pend);
    sigpending(&pend);
    ut_check(count[SIGUSR1] == 0, "blocked_signal_not_delivered", "handler ran");
    ut_check(sigismember(&pend, SIGUSR1) && !sigismember(&pend, SIGUSR2), "sigpending_shows_it",
             "pending set wrong");
    block(SIGUSR1, SIG_UNBLOCK);   /* delivered before sigprocmask returns */
    ut_check(count[SIGUSR1] == 1, "delivered_when_unblocked", "count %d", (int)count[SIGUSR1]);
    sigpending(&pend);
    ut_check(!sigismember(&pend, SIGUSR1), "no_longer_pending", "still pending");
}

static volatile int in_self_blocked, in_mask_blocked, in_nodefer_unblocked;

static void mask_probe(int sig)
{
    in_self_blocked = is_blocked(sig);
    in_mask_blocked = is_blocked(SIGUSR2);
}

static void t_handler_mask(void)
{
    reset_all();
    struct sigaction sa = { .sa_handler = mask_probe };
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, NULL);
    kill(getpid(), SIGUSR1);
    ut_check(in_self_blocked, "own_signal_blocked_in_handler", "not blocked");
    ut_check(in_mask_blocked, "sa_mask_blocked_in_handler", "not blocked");
    ut_check(!is_blocked(SIGUSR1) && !is_blocked(SIGUSR2), "mask_restored_after_handler",
             "still blocked");
}

static void nodefer_probe(int sig)
{
    in_nodefer_unblocked = !is_blocked(sig);
    if (count[sig]++ == 0)
        kill(getpid(), sig);   /* with SA_NODEFER: runs at once, nested */
}

static void t_nodefer_resethand(void)
{
    reset_all();
    on(SIGUSR1, nodefer_probe, SA_NODEFER);
    kill(getpid(), SIGUSR1);
    ut_check(in_nodefer_unblocked, "sa_nodefer_not_blocked", "blocked");
    ut_check(count[SIGUSR1] == 2, "sa_nodefer_nested_same_signal", "count %d",
             (int)count[SIGUSR1]);

    reset_all();
    on(SIGUSR1, counter, SA_RESETHAND);
    kill(getpid(), SIGUSR1);
    struct sigaction old;
    sigaction(SIGUSR1, NULL, &old);
    ut_check(count[SIGUSR1] == 1 && old.sa_handler == SIG_DFL, "sa_resethand_back_to_default",
             "count %d", (int)count[SIGUSR1]);
    /* The second one has the default action: it ends a child. */
    pid_t pid = ut_fork();
    if (pid == 0) {
        on(SIGUSR1, counter, SA_RESETHAND);
        kill(getpid(), SIGUSR1);
        kill(getpid(), SIGUSR1);
        _exit(0);
    }
    int st = ut_wait(pid);
    ut_check(ut_killed_by(st, SIGUSR1), "sa_resethand_second_is_fatal", "child status %#x", st);
}

static void t_kill_stop_unblockable(void)
{
    reset_all();
    sigset_t all, cur;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    sigprocmask(SIG_SETMASK, NULL, &cur);
    ut_check(!sigismember(&cur, SIGKILL) && !sigismember(&cur, SIGSTOP) &&
             sigismember(&cur, SIGTERM), "sigkill_sigstop_never_blocked", "mask wrong");
    /* raw: the kernel's set, 8 bytes, all bits */
    unsigned long k = ~0ul, got = 0;
    long r = syscall(SYS_rt_sigprocmask, SIG_SETMASK, &k, &got, 8);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, NULL, &got, 8);
    ut_check(r == 0 && !(got & (1ul << (SIGKILL - 1))) && !(got & (1ul << (SIGSTOP - 1))),
             "raw_mask_drops_sigkill_sigstop", "r %ld", r);
    reset_all();
}

/* ---- several signals ----------------------------------------------------------------- */

static void nest_outer(int sig)
{
    counter(sig);
    kill(getpid(), SIGUSR2);   /* its handler runs inside this one */
    record(100);
}

static void t_nested(void)
{
    reset_all();
    on(SIGUSR1, nest_outer, 0);
    on(SIGUSR2, counter, 0);
    kill(getpid(), SIGUSR1);
    ut_check(norder == 3 && order[0] == SIGUSR1 && order[1] == SIGUSR2 && order[2] == 100,
             "nested_handler_runs_inside", "order %d: %d %d %d", norder, order[0], order[1],
             order[2]);

    /* Two signals unblocked at once: the lower number's frame is made
     * first, the second's on top of it, so the higher one's handler runs
     * first (as on Linux). */
    reset_all();
    on(SIGUSR1, counter, 0);
    on(SIGUSR2, counter, 0);
    sigset_t both;
    sigemptyset(&both);
    sigaddset(&both, SIGUSR1);
    sigaddset(&both, SIGUSR2);
    sigprocmask(SIG_BLOCK, &both, NULL);
    kill(getpid(), SIGUSR2);
    kill(getpid(), SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &both, NULL);
    ut_check(norder == 2, "two_pending_both_delivered", "%d delivered", norder);
    ut_note("order of two unblocked together: %d then %d", order[0], order[1]);
    ut_check(order[0] == SIGUSR2 && order[1] == SIGUSR1, "two_pending_frame_order",
             "%d then %d", order[0], order[1]);
}

static void t_queueing(void)
{
    reset_all();
    int rt = SIGRTMIN + 1;
    on(SIGUSR1, counter, 0);
    on(rt, counter, 0);
    block(SIGUSR1, SIG_BLOCK);
    block(rt, SIG_BLOCK);
    for (int i = 0; i < 3; i++) {
        kill(getpid(), SIGUSR1);
        kill(getpid(), rt);
    }
    block(rt, SIG_UNBLOCK);
    block(SIGUSR1, SIG_UNBLOCK);
    ut_check(count[SIGUSR1] == 1, "standard_signal_merged", "count %d", (int)count[SIGUSR1]);
    ut_check(count[rt] == 3, "realtime_signal_queued", "count %d", (int)count[rt]);
}

/* ---- ignoring ------------------------------------------------------------------------- */

static void t_ignore(void)
{
    reset_all();
    signal(SIGUSR1, SIG_IGN);
    kill(getpid(), SIGUSR1);
    sigset_t pend;
    sigpending(&pend);
    ut_check(!sigismember(&pend, SIGUSR1), "sig_ign_dropped", "pending");

    reset_all();
    on(SIGUSR2, counter, 0);
    block(SIGUSR2, SIG_BLOCK);
    kill(getpid(), SIGUSR2);
    signal(SIGUSR2, SIG_IGN);   /* POSIX: discards the pending one */
    sigpending(&pend);
    int was = sigismember(&pend, SIGUSR2);
    on(SIGUSR2, counter, 0);
    block(SIGUSR2, SIG_UNBLOCK);
    ut_check(!was && count[SIGUSR2] == 0, "setting_sig_ign_discards_pending", "pending %d count %d",
             was, (int)count[SIGUSR2]);

    /* SIGCHLD, SIGURG, SIGWINCH are ignored by default; SIGCONT too when
     * the process is not stopped. */
    reset_all();
    kill(getpid(), SIGCHLD);
    kill(getpid(), SIGURG);
    kill(getpid(), SIGWINCH);
    kill(getpid(), SIGCONT);
    ut_check(1, "default_ignored_signals_harmless", "killed");
}

/* ---- fork and exec -------------------------------------------------------------------- */

static void t_fork(void)
{
    reset_all();
    on(SIGUSR1, counter, 0);
    block(SIGUSR2, SIG_BLOCK);
    kill(getpid(), SIGUSR2);   /* pending in the parent only */
    pid_t pid = ut_fork();
    if (pid == 0) {
        sigset_t pend;
        sigpending(&pend);
        int bad = 0;
        if (sigismember(&pend, SIGUSR2))
            bad |= 1;
        if (!is_blocked(SIGUSR2))
            bad |= 2;
        kill(getpid(), SIGUSR1);
        if (count[SIGUSR1] != 1)
            bad |= 4;
        _exit(bad);
    }
    int st = ut_wait(pid);
    ut_check(ut_exited_with(st, 0), "fork_keeps_handlers_and_mask_not_pending",
             "child status %#x", st);
    signal(SIGUSR2, SIG_IGN);   /* drop the pending one */
    reset_all();
}

/* The exec'd image checks what it inherited: bit by bit in its exit code. */
static int exec_check(void)
{
    struct sigaction a;
    int bad = 0;
    sigaction(SIGUSR1, NULL, &a);
    if (a.sa_handler != SIG_DFL)
        bad |= 1;
    sigaction(SIGUSR2, NULL, &a);
    if (a.sa_handler != SIG_IGN)
        bad |= 2;
    if (!is_blocked(SIGTERM))
        bad |= 4;
    sigset_t pend;
    sigpending(&pend);
    if (!sigismember(&pend, SIGTERM))
        bad |= 8;
    stack_t ss;
    if (sigaltstack(NULL, &ss) != 0 || !(ss.ss_flags & SS_DISABLE))
        bad |= 16;
    return bad;
}

static void t_exec(const char *self)
{
    reset_all();
    pid_t pid = ut_fork();
    if (pid == 0) {
        static char altstack[16384];
        stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
        sigaltstack(&ss, NULL);
        on(SIGUSR1, counter, 0);
        signal(SIGUSR2, SIG_IGN);
        block(SIGTERM, SIG_BLOCK);
        kill(getpid(), SIGTERM);
        char *argv[] = { (char *)self, "exec-check", NULL };
        char *envp[] = { NULL };
        execve(self, argv, envp);
        _exit(100);
    }
    int st = ut_wait(pid);
    ut_check(ut_exited_with(st, 0), "exec_resets_handlers_keeps_ign_mask_pending",
             "child status %#x (exit bits: 1 handler kept, 2 SIG_IGN lost, 4 mask lost, "
             "8 pending lost, 16 altstack kept)", st);
}

/* ---- refusals ------------------------------------------------------------------------------- */

static void t_errors(void)
{
    reset_all();
    struct sigaction sa = { .sa_handler = counter };
    ut_check_errno("sigaction_sigkill_einval", sigaction(SIGKILL, &sa, NULL), EINVAL);
    ut_check_errno("sigaction_sigstop_einval", sigaction(SIGSTOP, &sa, NULL), EINVAL);
    struct sigaction old;
    ut_check(sigaction(SIGKILL, NULL, &old) == 0, "sigaction_query_sigkill_ok", "refused");
    unsigned long ksa[4] = { (unsigned long)SIG_DFL, 0, 0, 0 };
    ut_check_errno("rt_sigaction_signal_0_einval", syscall(SYS_rt_sigaction, 0, ksa, 0, 8),
                   EINVAL);
    ut_check_errno("rt_sigaction_signal_65_einval", syscall(SYS_rt_sigaction, 65, ksa, 0, 8),
                   EINVAL);
    ut_check_errno("rt_sigaction_bad_sigsetsize_einval",
                   syscall(SYS_rt_sigaction, SIGUSR1, ksa, 0, 4), EINVAL);
    unsigned long set = 0;
    ut_check_errno("rt_sigprocmask_bad_how_einval",
                   syscall(SYS_rt_sigprocmask, 7, &set, 0, 8), EINVAL);
    ut_check(syscall(SYS_rt_sigprocmask, 7, 0, &set, 8) == 0, "rt_sigprocmask_how_unused_without_set",
             "refused");
    ut_check_errno("kill_signal_65_einval", kill(getpid(), 65), EINVAL);
    ut_check_errno("kill_negative_signal_einval", kill(getpid(), -1), EINVAL);
    ut_check_errno("kill_int_min_esrch", kill(INT_MIN, 0), ESRCH);
    ut_check_errno("kill_no_group_esrch", kill(-(1 << 29), SIGUSR1), ESRCH);
    ut_check(kill(getpid(), 0) == 0, "kill_signal_0_checks_only", "refused");
    ut_check_errno("tgkill_wrong_group_esrch",
                   syscall(SYS_tgkill, 1 << 29, getpid(), SIGUSR1), ESRCH);
    ut_check_errno("tgkill_zero_tgid_einval", syscall(SYS_tgkill, 0, getpid(), SIGUSR1), EINVAL);
    ut_check_errno("tkill_zero_tid_einval", syscall(SYS_tkill, 0, SIGUSR1), EINVAL);

    /* A zombie still takes a signal (and nothing happens).  The end of
     * file on the pipe says the child has exited: its files are closed
     * only then, on both systems. */
    int p[2];
    pipe(p);
    pid_t pid = ut_fork();
    if (pid == 0)
        _exit(3);
    close(p[1]);
    char c;
    read(p[0], &c, 1);
    close(p[0]);
    int k = kill(pid, SIGKILL);
    int st = ut_wait(pid);
    ut_check(k == 0 && ut_exited_with(st, 3), "kill_zombie_succeeds_changes_nothing",
             "kill %d, child %#x", k, st);
}

/* ---- leaks -------------------------------------------------------------------------------- */

static char leak_alt[16384];

static int leak_round(void)
{
    int bad = 0, rt = SIGRTMIN + 2;
    reset_all();
    /* queued instances, dropped by SIG_IGN */
    block(rt, SIG_BLOCK);
    block(SIGUSR2, SIG_BLOCK);
    for (int i = 0; i < 20; i++)
        kill(getpid(), rt);
    kill(getpid(), SIGUSR2);
    signal(rt, SIG_IGN);
    signal(SIGUSR2, SIG_IGN);
    reset_all();
    /* a child that dies with instances queued */
    pid_t pid = ut_fork();
    if (pid == 0) {
        block(rt, SIG_BLOCK);
        for (int i = 0; i < 10; i++)
            kill(getpid(), rt);
        _exit(0);
    }
    bad += !ut_exited_with(ut_wait(pid), 0);
    /* stopped, then killed */
    pid = ut_fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    int st;
    kill(pid, SIGSTOP);
    waitpid(pid, &st, WUNTRACED);
    kill(pid, SIGKILL);
    bad += !ut_killed_by(ut_wait(pid), SIGKILL);
    /* reaped by the kernel */
    signal(SIGCHLD, SIG_IGN);
    pid = ut_fork();
    if (pid == 0)
        _exit(0);
    bad += waitpid(pid, &st, 0) != -1;
    reset_all();
    /* a handler on the alternate stack */
    stack_t ss = { .ss_sp = leak_alt, .ss_size = sizeof leak_alt }, off = { .ss_flags = SS_DISABLE };
    sigaltstack(&ss, NULL);
    on(SIGUSR1, counter, SA_ONSTACK);
    kill(getpid(), SIGUSR1);
    bad += count[SIGUSR1] != 1;
    sigaltstack(&off, NULL);
    reset_all();
    return bad;
}

static void t_leak(void)
{
    int bad = leak_round() + leak_round();
    long free0 = ut_free_kb(), slab0 = ut_slab_objects();
    for (int i = 0; i < 10; i++)
        bad += leak_round();
    long free1 = ut_free_kb(), slab1 = ut_slab_objects();
    ut_check(bad == 0, "leak_rounds_succeed", "%d operations went wrong", bad);
    ut_note("MemFree + slab pages %ld -> %ld kB, slab objects %ld -> %ld", free0, free1, slab0,
            slab1);
    if (ut_on_mmk()) {
        ut_check(free0 > 0 && free1 >= free0 - 64, "signals_memfree_back_to_baseline",
                 "%ld kB before, %ld after", free0, free1);
        ut_check(slab0 >= 0 && slab1 == slab0, "signals_slab_objects_back_to_baseline",
                 "%ld before, %ld after", slab0, slab1);
    } else {
        ut_skip("signals_memfree_back_to_baseline", "MemFree on the host moves with other processes");
        ut_skip("signals_slab_objects_back_to_baseline",
                "slab objects on the host move with other processes");
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "exec-check") == 0)
        return exec_check();
    ut_init();
    t_handler_runs();
    t_siginfo();
    t_blocked_pending();
    t_handler_mask();
    t_nodefer_resethand();
    t_kill_stop_unblockable();
    t_nested();
    t_queueing();
    t_ignore();
    t_fork();
    t_exec(argv[0]);
    t_errors();
    t_leak();
    reset_all();
    return ut_done();
}
