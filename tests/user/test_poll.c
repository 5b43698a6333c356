/*
 * test_poll: poll, ppoll, select and pselect on pipes, and sendfile.
 *
 *  - an empty pipe is not readable, its write end is writable; a byte
 *    makes the read end readable; a closed write end is POLLHUP (with
 *    POLLIN while bytes remain), a closed read end POLLERR; a closed
 *    descriptor POLLNVAL, a negative one is skipped;
 *  - timeouts: 0 returns at once, a short one returns 0 no earlier than
 *    asked, select writes the time left back (0 after a timeout); a
 *    child writing later wakes a poll that waits for ever;
 *  - ppoll's and pselect's mask: a blocked pending signal stays out under
 *    a mask that blocks it, comes in (EINTR) under an empty one, and the
 *    old mask is back afterwards;
 *  - a pipe shrunk to one page (F_SETPIPE_SZ) is not writable once it
 *    holds a byte;
 *  - the refusals: EFAULT, EINVAL (bad timeouts, too many entries, a bad
 *    sigset size), EBADF (select on a closed descriptor);
 *  - sendfile from the program's own file to a pipe, with an offset
 *    (which moves, the file position does not) and without one (the
 *    file position moves), and its refusals (EBADF, EINVAL, ESPIPE, EFAULT).
 * No timing is printed, only whether it was long enough.
 */
#define _GNU_SOURCE
#include "ut.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *self;

/* The kernel's own timeval and timespec for the raw calls: two longs,
 * 4-byte ones on i386 (musl's are 64-bit there), and select's number
 * there (SYS_select is the old one taking a block of arguments). */
struct ktimeval {
    long sec, usec;
};
struct ktimespec {
    long sec, nsec;
};
#ifdef SYS__newselect
#define SYS_SELECT SYS__newselect
#else
#define SYS_SELECT SYS_select
#endif

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll one descriptor for events with a timeout: the revents, or -1. */
static int poll1(int fd, short events, int timeout)
{
    struct pollfd p = { fd, events, 0 };
    int r = (int)syscall(SYS_poll, &p, 1, timeout);
    return r < 0 ? -1 : p.revents;
}

static void pipe_states(void)
{
    int p[2];
    if (pipe(p)) {
        ut_check(0, "pipe", "%s", ut_errno_name(errno));
        return;
    }
    ut_check(poll1(p[0], POLLIN, 0) == 0, "empty_pipe_not_readable", "revents %#x",
             poll1(p[0], POLLIN, 0));
    ut_check(poll1(p[1], POLLOUT, 0) == POLLOUT, "pipe_writable", "revents %#x",
             poll1(p[1], POLLOUT, 0));
    write(p[1], "x", 1);
    ut_check(poll1(p[0], POLLIN | POLLOUT, 0) == POLLIN, "byte_makes_readable", "revents %#x",
             poll1(p[0], POLLIN | POLLOUT, 0));
    struct pollfd two[3] = { { p[0], POLLIN, 0 }, { -1, POLLIN, 0x77 }, { p[1], POLLOUT, 0 } };
    long r = syscall(SYS_poll, two, 3, 0);
    ut_check(r == 2 && two[1].revents == 0, "poll_counts_ready_entries",
             "poll %ld, negative fd revents %#x", r, two[1].revents);
    close(p[1]);
    ut_check(poll1(p[0], POLLIN, 0) == (POLLIN | POLLHUP), "hangup_with_data",
             "revents %#x", poll1(p[0], POLLIN, 0));
    char c;
    read(p[0], &c, 1);
    ut_check(poll1(p[0], POLLIN, 0) == POLLHUP, "hangup_after_drain", "revents %#x",
             poll1(p[0], POLLIN, 0));
    ut_check(poll1(p[0], 0, 0) == POLLHUP, "hangup_reported_unasked", "revents %#x",
             poll1(p[0], 0, 0));
    int fd0 = p[0];
    close(p[0]);
    ut_check(poll1(fd0, POLLIN, 0) == POLLNVAL, "closed_fd_pollnval", "revents %#x",
             poll1(fd0, POLLIN, 0));

    if (pipe(p))
        return;
    close(p[0]);
    ut_check(poll1(p[1], POLLOUT, 0) == (POLLOUT | POLLERR), "no_reader_pollerr",
             "revents %#x", poll1(p[1], POLLOUT, 0));
    close(p[1]);
}

static void timeouts(void)
{
    int p[2];
    if (pipe(p))
        return;
    long t0 = now_ms();
    int r = poll1(p[0], POLLIN, 100);
    long dt = now_ms() - t0;
    ut_check(r == 0 && dt >= 99, "poll_timeout_waits", "revents %d", r);
    ut_note("poll(100 ms) took %ld ms", dt);

    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    struct ktimeval tv = { 0, 60000 };
    t0 = now_ms();
    long n = syscall(SYS_SELECT, p[0] + 1, &rd, NULL, NULL, &tv);
    dt = now_ms() - t0;
    ut_check(n == 0 && !FD_ISSET(p[0], &rd) && dt >= 59, "select_timeout_waits",
             "select %ld", n);
    ut_check(tv.sec == 0 && tv.usec == 0, "select_writes_time_left", "tv %ld.%06ld", tv.sec,
             tv.usec);

    struct ktimespec ts = { 0, 0 };
    struct pollfd pf = { p[1], POLLOUT, 0 };
    r = (int)syscall(SYS_ppoll, &pf, 1, &ts, NULL, 8);
    ut_check(r == 1 && pf.revents == POLLOUT, "ppoll_zero_timeout", "ppoll %d", r);

    /* A child writes after a while: an endless poll wakes up. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec d = { 0, 50 * 1000000 };
        nanosleep(&d, NULL);
        write(p[1], "y", 1);
        _exit(0);
    }
    r = poll1(p[0], POLLIN, -1);
    ut_check(r == POLLIN, "poll_woken_by_writer", "revents %#x", r);
    ut_wait(pid);

    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    fd_set wr;
    FD_ZERO(&wr);
    FD_SET(p[1], &wr);
    n = syscall(SYS_SELECT, p[1] + 1, &rd, &wr, NULL, NULL);
    ut_check(n == 2 && FD_ISSET(p[0], &rd) && FD_ISSET(p[1], &wr), "select_counts_both_sets",
             "select %ld", n);

    /* pselect6 with a signal mask (the sigset size must be 8). */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    struct timespec z = { 0, 0 };
    n = pselect(p[0] + 1, &rd, NULL, NULL, &z, &mask);
    ut_check(n == 1 && FD_ISSET(p[0], &rd), "pselect_with_mask", "pselect %ld", n);
    close(p[0]);
    close(p[1]);
}

/* ppoll and pselect's mask is in force while they wait, and the old one
 * comes back: a pending SIGUSR1, blocked, is let in by an empty mask. */
static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
    (void)sig;
    got_usr1 = 1;
}

static void mask_checks(void)
{
    struct sigaction sa, old_sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;            /* no SA_RESTART: EINTR */
    sigaction(SIGUSR1, &sa, &old_sa);
    sigset_t block, empty, old, now;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &block, &old);
    int p[2];
    if (pipe(p))
        return;
    struct pollfd pf = { p[0], POLLIN, 0 };
    kill(getpid(), SIGUSR1);
    struct timespec z = { 0, 0 };
    got_usr1 = 0;
    int r = ppoll(&pf, 1, &z, &block);
    ut_check(r == 0 && !got_usr1, "ppoll_mask_keeps_blocked", "ppoll %d, handler %d", r, got_usr1);
    r = ppoll(&pf, 1, NULL, &empty);
    int e = errno;
    sigprocmask(SIG_BLOCK, NULL, &now);
    ut_check(r == -1 && e == EINTR && got_usr1 && sigismember(&now, SIGUSR1),
             "ppoll_mask_lets_signal_in", "ppoll %d %s, handler %d", r, ut_errno_name(e), got_usr1);
    kill(getpid(), SIGUSR1);
    got_usr1 = 0;
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    r = pselect(p[0] + 1, &rd, NULL, NULL, NULL, &empty);
    e = errno;
    sigprocmask(SIG_BLOCK, NULL, &now);
    ut_check(r == -1 && e == EINTR && got_usr1 && sigismember(&now, SIGUSR1),
             "pselect_mask_lets_signal_in", "pselect %d %s, handler %d", r, ut_errno_name(e),
             got_usr1);
    sigprocmask(SIG_SETMASK, &old, NULL);
    sigaction(SIGUSR1, &old_sa, NULL);
    close(p[0]);
    close(p[1]);
}

static void small_pipe(void)
{
    int p[2];
    if (pipe(p))
        return;
    long sz = fcntl(p[1], F_SETPIPE_SZ, 4096);
    ut_check(sz == 4096, "setpipe_sz_one_page", "F_SETPIPE_SZ %ld", sz);
    ut_check(poll1(p[1], POLLOUT, 0) == POLLOUT, "small_pipe_writable_empty", "revents %#x",
             poll1(p[1], POLLOUT, 0));
    write(p[1], "z", 1);
    ut_check(poll1(p[1], POLLOUT, 0) == 0, "small_pipe_full_after_a_byte", "revents %#x",
             poll1(p[1], POLLOUT, 0));
    close(p[0]);
    close(p[1]);
}

static void refusals(void)
{
    int p[2];
    if (pipe(p))
        return;
    ut_check_errno("poll_bad_pointer", syscall(SYS_poll, (void *)8, 1, 0), EFAULT);
    struct ktimespec bad = { 0, 1000000000 };
    struct pollfd pf = { p[0], POLLIN, 0 };
    ut_check_errno("ppoll_bad_nsec", syscall(SYS_ppoll, &pf, 1, &bad, NULL, 8), EINVAL);
    sigset_t m;
    sigemptyset(&m);
    struct ktimespec z = { 0, 0 };
    ut_check_errno("ppoll_bad_sigsetsize", syscall(SYS_ppoll, &pf, 1, &z, &m, 4), EINVAL);
    ut_check_errno("ppoll_bad_timeout_pointer", syscall(SYS_ppoll, &pf, 1, (void *)8, NULL, 8),
                   EFAULT);

    /* More entries than RLIMIT_NOFILE (lowered in a child: the host's is big). */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = { 16, 16 };
        setrlimit(RLIMIT_NOFILE, &rl);
        struct pollfd many[17];
        for (int i = 0; i < 17; i++)
            many[i] = (struct pollfd){ -1, 0, 0 };
        long r = syscall(SYS_poll, many, 17, 0);
        _exit(r == -1 && errno == EINVAL ? 0 : 1);
    }
    ut_check(ut_exited_with(ut_wait(pid), 0), "poll_more_than_nofile", "child failed");

    fd_set rd;
    FD_ZERO(&rd);
    int closed = p[1] + 5;
    FD_SET(closed, &rd);
    struct ktimeval tv = { 0, 0 };
    ut_check_errno("select_closed_fd", syscall(SYS_SELECT, closed + 1, &rd, NULL, NULL, &tv),
                   EBADF);
    ut_check_errno("select_negative_n", syscall(SYS_SELECT, -1, NULL, NULL, NULL, &tv), EINVAL);
    struct ktimeval neg = { 0, -1 };
    ut_check_errno("select_negative_usec", syscall(SYS_SELECT, 0, NULL, NULL, NULL, &neg), EINVAL);
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    ut_check_errno("select_bad_set", syscall(SYS_SELECT, p[0] + 1, (void *)8, NULL, NULL, &tv),
                   EFAULT);
    close(p[0]);
    close(p[1]);
}

/* ---- sendfile ----------------------------------------------------------------------------- */

static void sendfile_cases(void)
{
    int fd = open(self, O_RDONLY);
    int p[2];
    if (!ut_check(fd >= 0 && pipe(p) == 0, "sendfile_setup", "open %s: %s", self,
                  ut_errno_name(errno)))
        return;
    char want[1000], got[1000];
    pread(fd, want, sizeof(want), 100);

    off_t off = 100;
    ssize_t n = sendfile(p[1], fd, &off, 1000);
    ssize_t k = n > 0 ? read(p[0], got, sizeof(got)) : -1;
    ut_check(n == 1000 && k == 1000 && memcmp(got, want, 1000) == 0, "sendfile_offset_to_pipe",
             "sendfile %zd, read %zd", n, k);
    ut_check(off == 1100, "sendfile_offset_moves", "offset %ld", (long)off);
    ut_check(lseek(fd, 0, SEEK_CUR) == 0, "sendfile_offset_leaves_position", "position %ld",
             (long)lseek(fd, 0, SEEK_CUR));

    lseek(fd, 100, SEEK_SET);
    n = sendfile(p[1], fd, NULL, 500);
    k = n > 0 ? read(p[0], got, sizeof(got)) : -1;
    ut_check(n == 500 && k == 500 && memcmp(got, want, 500) == 0, "sendfile_from_position",
             "sendfile %zd, read %zd", n, k);
    ut_check(lseek(fd, 0, SEEK_CUR) == 600, "sendfile_position_moves", "position %ld",
             (long)lseek(fd, 0, SEEK_CUR));

    off = lseek(fd, 0, SEEK_END) - 10;
    n = sendfile(p[1], fd, &off, 100);
    k = n > 0 ? read(p[0], got, sizeof(got)) : -1;
    ut_check(n == 10 && k == 10, "sendfile_stops_at_end", "sendfile %zd", n);
    off = lseek(fd, 0, SEEK_END);
    ut_check(sendfile(p[1], fd, &off, 100) == 0, "sendfile_at_end_is_zero", "not 0");

    ut_check_errno("sendfile_bad_in_fd", sendfile(p[1], 999, NULL, 10), EBADF);
    ut_check_errno("sendfile_bad_out_fd", sendfile(999, fd, NULL, 10), EBADF);
    ut_check_errno("sendfile_out_read_only", sendfile(fd, fd, NULL, 10), EBADF);
    ut_check_errno("sendfile_in_write_only", sendfile(p[1], p[1], NULL, 10), EBADF);
    ut_check_errno("sendfile_from_pipe", sendfile(p[1], p[0], NULL, 10), EINVAL);
    ut_check_errno("sendfile_pipe_with_offset", sendfile(p[1], p[0], &off, 10), ESPIPE);
    off = -1;
    ut_check_errno("sendfile_negative_offset", sendfile(p[1], fd, &off, 10), EINVAL);
    ut_check_errno("sendfile_bad_offset_pointer",
                   syscall(SYS_sendfile, p[1], fd, (void *)8, 10), EFAULT);
    close(fd);
    close(p[0]);
    close(p[1]);
}

int main(int argc, char **argv)
{
    (void)argc;
    self = argv[0];
    ut_init();
    pipe_states();
    timeouts();
    mask_checks();
    small_pipe();
    refusals();
    sendfile_cases();
    return ut_done();
}
