/*
 * test_tty: sessions, process groups and the terminal's ioctls.
 *
 * Part one holds on any Linux, terminal or not, so the host (where the
 * oracle runs with /dev/null as stdin) and mmk agree line for line:
 *  - getpgrp/getpgid/getsid, and their ESRCH for a pid nobody has;
 *  - setsid: a fresh child leads a new session and group; a second setsid,
 *    or one by a group leader, is EPERM;
 *  - setpgid: EINVAL for a negative group, ESRCH for a pid that is not a
 *    child (nobody, or the parent), moving a child to its own group and
 *    back, EPERM for a group that does not exist, for a child in another
 *    session and for a session leader, EACCES for a child that has exec'd;
 *  - terminal ioctls on a pipe, and on stdin from a process without a
 *    controlling terminal (after setsid): ENOTTY.
 * Part two needs stdin to be the caller's controlling terminal, with the
 * caller's group in the foreground (mmk's console, under init; or the host
 * run from an interactive shell); without one each check prints SKIP:
 *  - termios defaults and a TCSETS round trip, the window size and
 *    SIGWINCH, TIOCGPGRP/TIOCGSID, FIONREAD/TIOCOUTQ, TCFLSH/TCXONC,
 *    TIOCSPGRP's errors, TIOCSCTTY by a non-leader, poll, O_NONBLOCK and
 *    VMIN/VTIME reads with nothing typed;
 *  - job control: a background reader ignoring SIGTTIN gets EIO, one that
 *    does not is stopped by SIGTTIN; a background writer with TOSTOP gets
 *    SIGTTOU; a background process may take the foreground when it ignores
 *    SIGTTOU, and give it back.
 * Every setting changed is put back: the terminal is shared with the
 * programs that run after this one.
 */
#include "ut.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define NOBODY 0x3ffffff0   /* a pid no system hands out */

/* Raw system calls: musl's wrappers must not answer for the kernel. */
static long sys_setpgid(long pid, long pgid) { return syscall(SYS_setpgid, pid, pgid); }
static long sys_setsid(void) { return syscall(SYS_setsid); }
static long sys_getpgid(long pid) { return syscall(SYS_getpgid, pid); }
static long sys_getsid(long pid) { return syscall(SYS_getsid, pid); }

/* ---- part one: sessions and groups ------------------------------------------ */

/* A child's findings, as bits of its exit code (0 = all good). */
static int child_setsid(void *arg)
{
    (void)arg;
    int bad = 0;
    pid_t me = getpid();
    if (sys_setsid() != me)
        bad |= 1;
    if (sys_getsid(0) != me || getpgrp() != me)
        bad |= 2;
    errno = 0;
    if (sys_setsid() != -1 || errno != EPERM)   /* now a group leader */
        bad |= 4;
    /* No controlling terminal any more: stdin's terminal ioctls say ENOTTY. */
    int pg;
    errno = 0;
    if (ioctl(0, TIOCGPGRP, &pg) != -1 || errno != ENOTTY)
        bad |= 8;
    errno = 0;
    if (ioctl(0, TIOCGSID, &pg) != -1 || errno != ENOTTY)
        bad |= 16;
    pg = getpgrp();
    errno = 0;
    if (ioctl(0, TIOCSPGRP, &pg) != -1 || errno != ENOTTY)
        bad |= 32;
    return bad;
}

static int child_leader_setsid(void *arg)
{
    (void)arg;
    if (sys_setpgid(0, 0) != 0)
        return 1;
    errno = 0;
    return sys_setsid() == -1 && errno == EPERM ? 0 : 2;
}

/* Wait until the parent closes the pipe, then leave. */
static void wait_for_parent(int fd)
{
    char c;
    while (read(fd, &c, 1) < 0 && errno == EINTR)
        ;
    _exit(0);
}

static void part_sessions(const char *self)
{
    ut_check(sys_getpgid(0) == getpgrp(), "getpgid_0_is_getpgrp", "getpgid(0) %ld",
             sys_getpgid(0));
    ut_check(sys_getpgid(getpid()) == getpgrp(), "getpgid_self", "differs");
    /* 0 is a true answer on Linux when the session leader lives outside
     * our PID namespace (a container's CI job); child_setsid checks a
     * session whose leader we know. */
    ut_check(sys_getsid(0) == sys_getsid(getpid()) && sys_getsid(0) >= 0, "getsid_self",
             "getsid(0) %ld", sys_getsid(0));
    ut_check_errno("getpgid_nobody_esrch", sys_getpgid(NOBODY), ESRCH);
    ut_check_errno("getsid_nobody_esrch", sys_getsid(NOBODY), ESRCH);
    ut_check_errno("setpgid_negative_einval", sys_setpgid(0, -1), EINVAL);
    ut_check_errno("setpgid_nobody_esrch", sys_setpgid(NOBODY, 0), ESRCH);
    ut_check_errno("setpgid_parent_esrch", sys_setpgid(getppid(), 0), ESRCH);

    int st = ut_run_child(child_setsid, NULL);
    ut_check(ut_exited_with(st, 0), "setsid_makes_session_without_tty", "child findings %#x",
             WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    st = ut_run_child(child_leader_setsid, NULL);
    ut_check(ut_exited_with(st, 0), "setsid_by_group_leader_eperm", "child findings %#x",
             WIFEXITED(st) ? WEXITSTATUS(st) : -1);

    /* A child waiting on a pipe: moved to its own group and back. */
    int p[2];
    if (pipe(p) != 0) {
        ut_check(0, "pipe", "errno %d", errno);
        return;
    }
    pid_t c = ut_fork();
    if (c == 0) {
        close(p[1]);
        wait_for_parent(p[0]);
    }
    close(p[0]);
    ut_check(sys_setpgid(c, c) == 0 && sys_getpgid(c) == c, "setpgid_child_own_group",
             "errno %d", errno);
    /* Under a host PID namespace our group may live outside it: getpgrp()
     * is then 0, which setpgid reads as "the target's own pid". */
    if (getpgrp() == 0) {
        ut_skip("setpgid_child_back_to_ours", "our group is outside this PID namespace");
    } else {
        ut_check(sys_setpgid(c, getpgrp()) == 0 && sys_getpgid(c) == getpgrp(),
                 "setpgid_child_back_to_ours", "errno %d", errno);
    }
    ut_check_errno("setpgid_missing_group_eperm", sys_setpgid(c, NOBODY), EPERM);
    if (getpgrp() == 0)
        ut_skip("setpgid_self_same_group", "our group is outside this PID namespace");
    else
        ut_check(sys_setpgid(0, getpgrp()) == 0, "setpgid_self_same_group", "errno %d", errno);
    close(p[1]);
    ut_wait(c);

    /* A child in a session of its own: EPERM (another session, and a leader). */
    int q[2], r[2];
    if (pipe(q) != 0 || pipe(r) != 0)
        return;
    c = ut_fork();
    if (c == 0) {
        close(q[1]);
        close(r[0]);
        sys_setsid();
        close(r[1]);                              /* "done": the parent may look */
        wait_for_parent(q[0]);
    }
    close(q[0]);
    close(r[1]);
    char ch;
    while (read(r[0], &ch, 1) > 0)
        ;
    close(r[0]);
    ut_check(sys_getsid(c) == c, "getsid_of_child_session", "getsid %ld", sys_getsid(c));
    ut_check_errno("setpgid_child_other_session_eperm", sys_setpgid(c, c), EPERM);
    ut_check_errno("setpgid_child_into_our_group_eperm", sys_setpgid(c, getpgrp()), EPERM);
    close(q[1]);
    ut_wait(c);

    /* A child that has exec'd: EACCES.  Its close-on-exec pipe end closes
     * at the exec, which tells us when. */
    int e[2], w[2];
    if (pipe2(e, O_CLOEXEC) != 0 || pipe(w) != 0)
        return;
    c = ut_fork();
    if (c == 0) {
        close(e[0]);
        close(w[1]);
        char fd[16];
        snprintf(fd, sizeof(fd), "%d", w[0]);
        execl(self, self, "wait", fd, (char *)NULL);
        _exit(127);
    }
    close(e[1]);
    close(w[0]);
    while (read(e[0], &ch, 1) > 0)
        ;
    close(e[0]);
    ut_check_errno("setpgid_child_after_exec_eacces", sys_setpgid(c, c), EACCES);
    close(w[1]);
    st = ut_wait(c);
    ut_check(ut_exited_with(st, 0), "exec_child_ends", "status %#x", st);

    /* Terminal ioctls on a pipe. */
    struct termios t;
    int pg;
    if (pipe(p) == 0) {
        ut_check_errno("tcgets_on_pipe_enotty", ioctl(p[0], TCGETS, &t), ENOTTY);
        ut_check_errno("tiocgpgrp_on_pipe_enotty", ioctl(p[0], TIOCGPGRP, &pg), ENOTTY);
        close(p[0]);
        close(p[1]);
    }
}

/* ---- part two: the controlling terminal --------------------------------------- */

static const char *const tty_checks[] = {
    "termios_defaults", "tcsets_round_trip", "winsize", "tiocswinsz_sigwinch",
    "tiocgpgrp_is_our_group", "tiocgsid_is_our_session", "fionread_tiocoutq_zero",
    "tcflsh", "tcxonc", "tiocspgrp_nobody_esrch", "tiocspgrp_negative_einval",
    "tiocsctty_not_leader_eperm", "poll_out_not_in", "nonblocking_read_eagain",
    "vmin0_vtime0_returns_0", "vmin0_vtime1_times_out", "background_read_ignored_eio",
    "background_read_stops_sigttin", "background_write_tostop_sigttou",
    "background_takes_foreground",
};

static volatile sig_atomic_t got_sig;

static void note_sig(int sig)
{
    got_sig = sig;
}

static void catch(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);   /* no SA_RESTART: an interrupted read says EINTR */
}

/* Children of the job-control checks: 0 = as expected. */
static int child_bg_read_ignored(void *arg)
{
    (void)arg;
    signal(SIGTTIN, SIG_IGN);
    if (sys_setpgid(0, 0) != 0)
        return 1;
    char c;
    errno = 0;
    return read(0, &c, 1) == -1 && errno == EIO ? 0 : 2;
}

static int child_bg_read_default(void *arg)
{
    (void)arg;
    if (sys_setpgid(0, 0) != 0)
        return 1;
    char c;
    (void)read(0, &c, 1);       /* stopped here; the parent kills us */
    return 3;
}

static int child_bg_write_tostop(void *arg)
{
    (void)arg;
    catch(SIGTTOU, note_sig);
    if (sys_setpgid(0, 0) != 0)
        return 1;
    errno = 0;
    long r = write(1, "x", 1);
    return r == -1 && errno == EINTR && got_sig == SIGTTOU ? 0 : 2;
}

static int child_takes_foreground(void *arg)
{
    pid_t parent_pgrp = *(pid_t *)arg;
    signal(SIGTTOU, SIG_IGN);
    if (sys_setpgid(0, 0) != 0)
        return 1;
    if (tcsetpgrp(0, getpgrp()) != 0 || tcgetpgrp(0) != getpgrp())
        return 2;
    if (tcsetpgrp(0, parent_pgrp) != 0)      /* give it back */
        return 3;
    return 0;
}

static void part_terminal(void)
{
    if (!isatty(0) || tcgetpgrp(0) != getpgrp()) {
        for (size_t i = 0; i < sizeof(tty_checks) / sizeof(tty_checks[0]); i++)
            ut_skip(tty_checks[i], "stdin is not our controlling terminal in the foreground");
        return;
    }
    struct termios saved, t;
    tcgetattr(0, &saved);
    ut_check((saved.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG) &&
             (saved.c_oflag & (OPOST | ONLCR)) == (OPOST | ONLCR) &&
             saved.c_cc[VINTR] == 3 && saved.c_cc[VEOF] == 4 && saved.c_cc[VERASE] == 0x7f,
             "termios_defaults", "lflag %#x oflag %#x", (unsigned)saved.c_lflag,
             (unsigned)saved.c_oflag);
    t = saved;
    t.c_lflag &= ~(tcflag_t)ECHO;
    t.c_cc[VKILL] = 'K';
    struct termios back;
    ut_check(tcsetattr(0, TCSANOW, &t) == 0 && tcgetattr(0, &back) == 0 &&
             !(back.c_lflag & ECHO) && back.c_cc[VKILL] == 'K', "tcsets_round_trip",
             "lflag %#x", (unsigned)back.c_lflag);
    tcsetattr(0, TCSANOW, &saved);

    struct winsize ws, ws2;
    ut_check(ioctl(0, TIOCGWINSZ, &ws) == 0, "winsize", "errno %d", errno);
    ut_note("window %ux%u", ws.ws_col, ws.ws_row);   /* 0x0 on a pty nobody sized */
    catch(SIGWINCH, note_sig);
    got_sig = 0;
    ws2 = ws;
    ws2.ws_col = (unsigned short)(ws.ws_col == 100 ? 101 : 100);
    int ok = ioctl(0, TIOCSWINSZ, &ws2) == 0 && got_sig == SIGWINCH;
    struct winsize now;
    ok = ok && ioctl(0, TIOCGWINSZ, &now) == 0 && now.ws_col == ws2.ws_col;
    got_sig = 0;
    ioctl(0, TIOCSWINSZ, &ws);
    ok = ok && got_sig == SIGWINCH;
    got_sig = 0;
    ioctl(0, TIOCSWINSZ, &ws);               /* the same size: no signal */
    ut_check(ok && got_sig == 0, "tiocswinsz_sigwinch", "signal %d", (int)got_sig);
    signal(SIGWINCH, SIG_DFL);

    pid_t pg = 0, sid = 0;
    ut_check(ioctl(0, TIOCGPGRP, &pg) == 0 && pg == getpgrp(), "tiocgpgrp_is_our_group",
             "errno %d", errno);
    ut_check(ioctl(0, TIOCGSID, &sid) == 0 && sid == sys_getsid(0), "tiocgsid_is_our_session",
             "errno %d", errno);
    int n = -1, o = -1;
    tcflush(0, TCIFLUSH);
    ut_check(ioctl(0, FIONREAD, &n) == 0 && n == 0 && ioctl(0, TIOCOUTQ, &o) == 0 && o == 0,
             "fionread_tiocoutq_zero", "%d %d", n, o);
    errno = 0;
    ut_check(tcflush(0, TCIOFLUSH) == 0 && ioctl(0, TCFLSH, 7) == -1 && errno == EINVAL,
             "tcflsh", "errno %d", errno);
    errno = 0;
    ut_check(tcflow(0, TCOON) == 0 && ioctl(0, TCXONC, 9) == -1 && errno == EINVAL, "tcxonc",
             "errno %d", errno);
    pid_t bad = NOBODY;
    ut_check_errno("tiocspgrp_nobody_esrch", ioctl(0, TIOCSPGRP, &bad), ESRCH);
    bad = -1;
    ut_check_errno("tiocspgrp_negative_einval", ioctl(0, TIOCSPGRP, &bad), EINVAL);
    ut_check_errno("tiocsctty_not_leader_eperm", ioctl(0, TIOCSCTTY, 0), EPERM);

    struct pollfd pfd = { .fd = 0, .events = POLLIN | POLLOUT };
    ut_check(poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT) && !(pfd.revents & POLLIN),
             "poll_out_not_in", "revents %#x", pfd.revents);
    int fl = fcntl(0, F_GETFL);
    fcntl(0, F_SETFL, fl | O_NONBLOCK);
    char c;
    ut_check_errno("nonblocking_read_eagain", read(0, &c, 1), EAGAIN);
    fcntl(0, F_SETFL, fl);

    t = saved;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    tcsetattr(0, TCSANOW, &t);
    ut_check(read(0, &c, 1) == 0, "vmin0_vtime0_returns_0", "errno %d", errno);
    t.c_cc[VTIME] = 1;                       /* a tenth of a second */
    tcsetattr(0, TCSANOW, &t);
    ut_check(read(0, &c, 1) == 0, "vmin0_vtime1_times_out", "errno %d", errno);
    tcsetattr(0, TCSANOW, &saved);

    int st = ut_run_child(child_bg_read_ignored, NULL);
    ut_check(ut_exited_with(st, 0), "background_read_ignored_eio", "child findings %#x", st);

    pid_t k = ut_fork();
    if (k == 0)
        _exit(child_bg_read_default(NULL));
    st = 0;
    pid_t w = waitpid(k, &st, WUNTRACED);
    ok = w == k && WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTIN;
    kill(k, SIGKILL);
    if (WIFSTOPPED(st))
        ut_wait(k);
    ut_check(ok, "background_read_stops_sigttin", "status %#x", st);

    t = saved;
    t.c_lflag |= TOSTOP;
    tcsetattr(0, TCSANOW, &t);
    st = ut_run_child(child_bg_write_tostop, NULL);
    tcsetattr(0, TCSANOW, &saved);
    ut_check(ut_exited_with(st, 0), "background_write_tostop_sigttou", "child findings %#x",
             st);

    pid_t ours = getpgrp();
    st = ut_run_child(child_takes_foreground, &ours);
    ut_check(ut_exited_with(st, 0) && tcgetpgrp(0) == ours, "background_takes_foreground",
             "child findings %#x", st);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "wait")) {   /* the exec'd child of part one */
        char c;
        while (read(atoi(argv[2]), &c, 1) < 0 && errno == EINTR)
            ;
        return 0;
    }
    ut_init();
    part_sessions(argv[0]);
    part_terminal();
    return ut_done();
}
