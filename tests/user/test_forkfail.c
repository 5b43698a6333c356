/*
 * test_forkfail: fork until memory runs out, then check that the system
 * recovers.
 *
 *     test_forkfail [MAX_CHILDREN [CHUNK_KB]]
 *
 * A "manager" child does the forking, so that the process which prints
 * the results is never the one caught when memory runs out.  Phase 1: the
 * manager forks workers that each touch CHUNK_KB of fresh memory, say so
 * through a pipe of their own and block, until fork fails, or a worker is
 * killed while touching, or pipe() itself runs out of memory.  Phase 2:
 * workers that touch nothing and need no pipe, until fork fails, or until
 * 16 of them were killed on their first writes (either is a correct way
 * to run out: fork fails with -ENOMEM, or a process is killed, with
 * SIGKILL on mmk, when it touches a page no frame is left for).  Then
 * every worker is released and reaped, and the main process checks that
 * fork works again and, on mmk, that free memory is back to where it was
 * (MemFree plus the pages the slab caches keep).
 *
 * Never a fork bomb on the host: there the default is 8 children of
 * 1 MiB, and the check that memory ran out is reported as skipped when the
 * cap stops the loop first.  On mmk the defaults are no real cap (100000
 * children) and a chunk of MemAvailable / 64.
 */
#include "ut.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KILLED_IN_A_ROW 16
#define LEAK_TOLERANCE_KB 128

enum reason { R_NONE, R_FORK_FAILED, R_PIPE_FAILED, R_KILLED, R_CAP };

struct report {
    int reason1, err1;              /* how phase 1 ended (err: errno of fork or pipe) */
    int reason, err;                /* how it all ended */
    int phase1, phase2;             /* workers forked in each phase */
    int killed;                     /* workers killed */
};

static long max_children;
static size_t chunk;

static void worker(int ready_fd, int release_fd, size_t bytes)
{
    if (bytes) {
        char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            _exit(3);
        for (size_t i = 0; i < bytes; i += PAGE)
            p[i] = 1;
    }
    char c = 'r';
    if (write(ready_fd, &c, 1) != 1)
        _exit(4);
    while (read(release_fd, &c, 1) != 0)
        ;                           /* until the manager closes the pipe */
    _exit(0);
}

/* Phase 1: fork one worker; 1 when it is ready, 0 when it died, -1 when
 * fork or pipe failed. */
static int spawn(int release[2], size_t bytes, struct report *rep)
{
    int ready[2];
    if (pipe(ready) < 0) {
        rep->reason = R_PIPE_FAILED;
        rep->err = errno;
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        rep->reason = R_FORK_FAILED;
        rep->err = errno;
        close(ready[0]);
        close(ready[1]);
        return -1;
    }
    if (pid == 0) {
        close(release[1]);
        close(ready[0]);
        worker(ready[1], release[0], bytes);
    }
    close(ready[1]);
    char c;
    ssize_t n = read(ready[0], &c, 1);
    close(ready[0]);
    if (n == 1)
        return 1;
    ut_wait(pid);                   /* it died: reap it now */
    rep->killed++;
    return 0;
}

/* Phase 2: fork workers that only block, reaping the ones that die. */
static void phase2(int release[2], long n, struct report *rep)
{
    while (n < max_children && rep->killed < KILLED_IN_A_ROW) {
        pid_t pid = fork();
        if (pid < 0) {
            rep->reason = R_FORK_FAILED;
            rep->err = errno;
            return;
        }
        if (pid == 0) {
            char c;
            close(release[1]);
            while (read(release[0], &c, 1) != 0)
                ;
            _exit(0);
        }
        n++;
        rep->phase2++;
        while (wait4(-1, NULL, WNOHANG, NULL) > 0)
            rep->killed++;          /* nobody exits before the release */
    }
    rep->reason = rep->killed >= KILLED_IN_A_ROW ? R_KILLED : R_CAP;
}

static void manager(int out_fd)
{
    struct report rep = { 0 };
    int release[2];
    if (pipe(release) < 0)
        _exit(2);
    long n = 0;
    int r = 1;
    while (n < max_children && (r = spawn(release, chunk, &rep)) == 1)
        n++;
    rep.phase1 = (int)n;
    rep.reason1 = r == 0 ? R_KILLED : r == 1 ? R_CAP : rep.reason;
    rep.err1 = rep.err;
    if (r == 0 || (r < 0 && rep.reason == R_PIPE_FAILED)) {
        rep.killed = 0;             /* phase 2 counts its own */
        phase2(release, n, &rep);
    } else if (r == 1) {
        rep.reason = R_CAP;
    }
    ut_write_full(out_fd, &rep, sizeof rep);
    close(release[1]);              /* every worker reads EOF and exits */
    while (wait4(-1, NULL, 0, NULL) > 0 || errno == EINTR)
        ;
    _exit(0);
}

static int touch_and_exit(void *unused)
{
    (void)unused;
    char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    for (size_t i = 0; i < (1 << 20); i += PAGE)
        p[i] = 1;
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

static const char *reason_str(int r)
{
    switch (r) {
    case R_FORK_FAILED: return "fork failed";
    case R_PIPE_FAILED: return "pipe failed";
    case R_KILLED:      return "workers died";
    case R_CAP:         return "the cap was reached";
    default:            return "?";
    }
}

int main(int argc, char **argv)
{
    ut_init();
    int mmk = ut_on_mmk();
    long avail = ut_meminfo("MemAvailable");
    max_children = argc > 1 ? atol(argv[1]) : mmk ? 100000 : 8;
    long chunk_kb = argc > 2 ? atol(argv[2]) : mmk && avail > 0 ? avail / 64 : 1024;
    if (chunk_kb < 1024)
        chunk_kb = 1024;
    chunk = (size_t)chunk_kb * 1024;
    ut_note("MemAvailable %ld kB; at most %ld children, %ld kB each", avail, max_children, chunk_kb);

    /* Settle our own pages (a fork makes them copy-on-write), then measure. */
    ut_run_child(touch_and_exit, NULL);
    long free0 = ut_free_kb();

    int out[2];
    if (pipe(out) < 0) {
        ut_check(0, "pipe", "%s", ut_errno_name(errno));
        return ut_done();
    }
    pid_t mgr = ut_fork();
    if (mgr == 0) {
        close(out[0]);
        manager(out[1]);
    }
    close(out[1]);
    struct report rep;
    int got = ut_read_full(out[0], &rep, sizeof rep) == 0;
    close(out[0]);
    int st = mgr > 0 ? ut_wait(mgr) : -1;
    char why[64];
    ut_status_str(st, why, sizeof why);

    if (got)
        ut_note("phase 1: %d workers, then %s (%s); phase 2: %d workers, then %s (%s), "
                "%d killed", rep.phase1, reason_str(rep.reason1), ut_errno_name(rep.err1),
                rep.phase2, reason_str(rep.reason), ut_errno_name(rep.err), rep.killed);
    else
        ut_note("the manager died before reporting: %s", why);
    int killed_mgr = ut_killed_by(st, SIGKILL) || ut_killed_by(st, SIGSEGV) ||
                     ut_killed_by(st, SIGBUS);
    int ran_out = got ? (rep.reason == R_FORK_FAILED && (rep.err == ENOMEM || rep.err == EAGAIN)) ||
                            rep.reason == R_KILLED
                      : killed_mgr;
    if (got && rep.reason == R_CAP && !mmk)
        ut_skip("memory_ran_out_cleanly", "stopped at the cap of %ld children on the host",
                max_children);
    else
        ut_check(ran_out, "memory_ran_out_cleanly", "%s (%s), manager %s",
                 got ? reason_str(rep.reason) : "no report", got ? ut_errno_name(rep.err) : "-", why);
    ut_check(!got || ut_exited_with(st, 0), "manager_reaped_every_worker", "manager: %s", why);

    /* Recovery: fork works again (orphans of a killed manager may still be
     * on their way out: retry for a while). */
    int rec = -1;
    for (int i = 0; i < 50 && !ut_exited_with(rec, 0); i++) {
        if (i)
            sleep_ms(100);
        rec = ut_run_child(touch_and_exit, NULL);
    }
    ut_check(ut_exited_with(rec, 0), "fork_and_touch_work_again", "child: %s",
             ut_status_str(rec, why, sizeof why));

    if (mmk) {
        long free1 = 0;
        for (int i = 0; i < 50; i++) {
            free1 = ut_free_kb();
            if (free1 >= free0 - LEAK_TOLERANCE_KB)
                break;
            sleep_ms(100);
        }
        ut_check(free1 >= free0 - LEAK_TOLERANCE_KB, "free_memory_back_to_baseline",
                 "MemFree + slab pages: %ld kB before, %ld kB after", free0, free1);
    } else {
        ut_skip("free_memory_back_to_baseline", "MemFree on the host moves with other processes");
    }
    return ut_done();
}
