/*
 * test_syscalls: the calls C libraries, busybox and bash make beside
 * fork: sysinfo, prctl, the user and group ids, the resource limits,
 * fcntl, gettimeofday and time, the robust list, sched_getaffinity, an
 * unknown call, wait4's bad status pointer, and (on mmk) no leak when a
 * readv with many segments is killed while it waits.
 *
 * What depends on the machine (memory sizes, the host's own limits and
 * groups, the CPU count) is only compared with itself: the limit read
 * is the limit descriptor allocation reaches, sysinfo's free memory is
 * below its total, and so on.  The id changes run in children, which
 * report a failed step through their exit status.
 */
#define _GNU_SOURCE
#include "ut.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/fsuid.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *self;

#ifndef SYS_gettimeofday
#define SYS_gettimeofday SYS_gettimeofday_time32   /* musl's i386 name of 78 */
#endif
#ifndef SYS_time
#define SYS_time SYS_time32
#endif

/* The kernel's struct sysinfo, timeval: longs of the ABI's size. */
struct ksysinfo {
    long uptime;
    unsigned long loads[3], totalram, freeram, sharedram, bufferram, totalswap, freeswap;
    unsigned short procs, pad;
    unsigned long totalhigh, freehigh;
    unsigned int mem_unit;
    char f[20 - 2 * sizeof(long) - sizeof(int)];
};

static void sysinfo_checks(void)
{
    struct ksysinfo si;
    long r = syscall(SYS_sysinfo, &si);
    ut_check(r == 0, "sysinfo_works", "sysinfo: %s", ut_errno_name(errno));
    unsigned long long total = (unsigned long long)si.totalram * si.mem_unit;
    unsigned long long free = (unsigned long long)si.freeram * si.mem_unit;
    ut_check(si.mem_unit >= 1 && total > free && free > 0, "sysinfo_total_above_free",
             "unit %u, total %llu, free %llu", si.mem_unit, total, free);
    ut_check(si.procs >= 1, "sysinfo_procs", "procs %u", si.procs);
    ut_check(si.uptime >= 0, "sysinfo_uptime", "uptime %ld", si.uptime);
    ut_note("sysinfo: %llu MiB total, %llu MiB free, %u procs", total >> 20, free >> 20, si.procs);
    ut_check_errno("sysinfo_bad_pointer", syscall(SYS_sysinfo, (void *)8), EFAULT);
}

static void prctl_checks(void)
{
    char name[32] = { 0 };
    prctl(PR_SET_NAME, "abc", 0, 0, 0);
    prctl(PR_GET_NAME, name, 0, 0, 0);
    ut_check(strcmp(name, "abc") == 0, "prctl_name_round_trip", "name '%s'", name);
    memset(name, 'x', sizeof(name));
    prctl(PR_SET_NAME, "0123456789abcdefghij", 0, 0, 0);
    prctl(PR_GET_NAME, name, 0, 0, 0);
    ut_check(strcmp(name, "0123456789abcde") == 0 && name[16] == 'x', "prctl_name_cut_to_15",
             "name '%.20s'", name);
    long d = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    long d0 = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    long d1 = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    ut_check(d0 == 0 && d1 == 1, "prctl_dumpable", "dumpable %ld -> %ld -> %ld", d, d0, d1);
    prctl(PR_SET_DUMPABLE, d, 0, 0, 0);
    ut_check_errno("prctl_dumpable_2_refused", prctl(PR_SET_DUMPABLE, 2, 0, 0, 0), EINVAL);
    ut_check_errno("prctl_unknown_option", prctl(0x7fff, 0, 0, 0, 0), EINVAL);
    ut_check_errno("prctl_get_name_bad_pointer", prctl(PR_GET_NAME, (void *)8, 0, 0, 0), EFAULT);
    ut_check_errno("prctl_set_name_bad_pointer", prctl(PR_SET_NAME, (void *)8, 0, 0, 0), EFAULT);
}

/* ---- ids ------------------------------------------------------------------------------- */

/* In a child: each step that fails exits with its number. */
static int id_steps(void *arg)
{
    (void)arg;
    uid_t r, e, s;
    gid_t g[4];
    if (getuid() != 0 || geteuid() != 0 || getgid() != 0 || getegid() != 0)
        return 1;
    if (getresuid(&r, &e, &s) || r || e || s)
        return 2;
    gid_t set[2] = { 5, 3 };
    if (setgroups(2, set) || getgroups(4, g) != 2 || g[0] != 3 || g[1] != 5)
        return 3;
    if (getgroups(0, NULL) != 2)
        return 4;
    if (getgroups(1, g) != -1 || errno != EINVAL)
        return 5;
    if (setgid(50) || getgid() != 50 || getegid() != 50)
        return 6;
    if (setreuid(1000, 2000) || getresuid(&r, &e, &s) || r != 1000 || e != 2000 || s != 2000)
        return 7;
    if (setreuid(-1, 1000) || getresuid(&r, &e, &s) || r != 1000 || e != 1000 || s != 2000)
        return 8;
    if (setuid(2000) || getuid() != 1000 || geteuid() != 2000)
        return 9;   /* unprivileged: only the effective id moves (to the saved one) */
    if (setuid(0) != -1 || errno != EPERM)
        return 10;
    if (setgroups(0, NULL) != -1 || errno != EPERM)
        return 11;
    if (setresuid(1000, 1000, 1000) || getresuid(&r, &e, &s) || r + e + s != 3000)
        return 12;
    if (setresuid(-1, 7, -1) != -1 || errno != EPERM)
        return 13;
    if (setfsuid(1000) != 1000)
        return 14;   /* returns the old one */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_max += 1;
    if (setrlimit(RLIMIT_NOFILE, &rl) != -1 || errno != EPERM)
        return 15;   /* raising a hard limit needs privilege */
    return 0;
}

static void id_checks(void)
{
    ut_check(getuid() == 0 && geteuid() == 0, "ids_root", "uid %d euid %d", (int)getuid(),
             (int)geteuid());
    int st = ut_run_child(id_steps, NULL);
    ut_check(ut_exited_with(st, 0), "ids_change_as_linux", "failed at step %d", WEXITSTATUS(st));
    ut_check_errno("setuid_minus_one", syscall(SYS_setuid, -1), EINVAL);
    ut_check_errno("getresuid_bad_pointer", syscall(SYS_getresuid, (void *)8, (void *)8, (void *)8),
                   EFAULT);
    ut_check_errno("getgroups_negative", syscall(SYS_getgroups, -1, NULL), EINVAL);
}

/* ---- limits -------------------------------------------------------------------------------- */

/* In a child: dup until EMFILE; the next free descriptor must be the soft limit. */
static int nofile_reached(void *arg)
{
    (void)arg;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return 1;
    if (rl.rlim_cur > 100000) {   /* keep the host run short */
        rl.rlim_cur = 1000;
        if (setrlimit(RLIMIT_NOFILE, &rl))
            return 2;
    }
    int last = -1, fd;
    while ((fd = dup(1)) >= 0)
        last = fd;
    if (errno != EMFILE || (unsigned long)last + 1 != rl.rlim_cur)
        return 3;
    /* lower it: descriptors above stay, but none is handed out at or above it */
    for (int i = 4; i <= last; i++)
        close(i);
    struct rlimit low = { 8, rl.rlim_max };
    if (setrlimit(RLIMIT_NOFILE, &low))
        return 4;
    while ((fd = dup(1)) >= 0)
        last = fd;
    if (errno != EMFILE || last != 7)
        return 5;
    if (fcntl(1, F_DUPFD, 8) != -1 || errno != EINVAL)
        return 6;
    if (dup2(1, 8) != -1 || errno != EBADF)
        return 7;
    return 0;
}

static void rlimit_checks(void)
{
    int st = ut_run_child(nofile_reached, NULL);
    ut_check(ut_exited_with(st, 0), "nofile_limit_is_what_allocation_reaches", "step %d",
             WEXITSTATUS(st));
    struct rlimit rl, bad;
    getrlimit(RLIMIT_NOFILE, &rl);
    bad.rlim_cur = rl.rlim_max + 1;
    bad.rlim_max = rl.rlim_max;
    ut_check_errno("soft_above_hard", setrlimit(RLIMIT_NOFILE, &bad), EINVAL);
    bad.rlim_cur = bad.rlim_max = RLIM_INFINITY;
    ut_check_errno("nofile_unlimited_refused", setrlimit(RLIMIT_NOFILE, &bad), EPERM);
    struct rlimit st2;
    getrlimit(RLIMIT_STACK, &st2);
    ut_check(st2.rlim_cur > 0 && st2.rlim_cur <= st2.rlim_max, "stack_limit", "cur %llu",
             (unsigned long long)st2.rlim_cur);
    struct rlimit core = { 0, RLIM_INFINITY }, got;
    getrlimit(RLIMIT_CORE, &got);
    core.rlim_max = got.rlim_max;
    setrlimit(RLIMIT_CORE, &core);
    getrlimit(RLIMIT_CORE, &got);
    ut_check(got.rlim_cur == 0, "setrlimit_kept", "core %llu", (unsigned long long)got.rlim_cur);
    ut_check_errno("getrlimit_bad_resource", syscall(SYS_getrlimit, 99, &rl), EINVAL);
    ut_check_errno("getrlimit_bad_pointer", syscall(SYS_getrlimit, RLIMIT_NOFILE, (void *)8),
                   EFAULT);
    ut_check_errno("prlimit_no_such_pid", syscall(SYS_prlimit64, 99999, RLIMIT_NOFILE, NULL, &rl),
                   ESRCH);
    ut_check_errno("prlimit_bad_new_pointer",
                   syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, (void *)8, NULL), EFAULT);
}

/* ---- fcntl --------------------------------------------------------------------------------- */

static void fcntl_checks(void)
{
    int p[2];
    if (pipe(p))
        return;
    ut_check(fcntl(p[0], F_GETFL) == O_RDONLY && fcntl(p[1], F_GETFL) == O_WRONLY,
             "getfl_pipe_ends", "%#x %#x", fcntl(p[0], F_GETFL), fcntl(p[1], F_GETFL));
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    ut_check(fcntl(p[0], F_GETFL) == (O_RDONLY | O_NONBLOCK), "setfl_nonblock", "%#x",
             fcntl(p[0], F_GETFL));
    char c;
    ut_check_errno("nonblock_read_eagain", read(p[0], &c, 1), EAGAIN);
    ut_check(fcntl(p[0], F_GETFD) == 0, "getfd_clear", "not 0");
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    ut_check(fcntl(p[0], F_GETFD) == FD_CLOEXEC, "setfd_cloexec", "not set");
    int d = fcntl(p[0], F_DUPFD, 20);
    ut_check(d == 20 && fcntl(d, F_GETFD) == 0, "dupfd_at_or_above", "got %d", d);
    int e = fcntl(p[0], F_DUPFD_CLOEXEC, 20);
    ut_check(e == 21 && fcntl(e, F_GETFD) == FD_CLOEXEC, "dupfd_cloexec", "got %d", e);
    close(d);
    close(e);
    ut_check(fcntl(p[0], F_GETPIPE_SZ) == 65536, "getpipe_sz_default", "%d",
             fcntl(p[0], F_GETPIPE_SZ));
    ut_check(fcntl(p[1], F_SETPIPE_SZ, 8192) == 8192 && fcntl(p[0], F_GETPIPE_SZ) == 8192,
             "setpipe_sz", "%d", fcntl(p[0], F_GETPIPE_SZ));
    ut_check(fcntl(p[1], F_SETPIPE_SZ, 100) == 4096, "setpipe_sz_rounds_up", "%d",
             fcntl(p[0], F_GETPIPE_SZ));
    /* 5000 bytes fill more than one page: a one-page pipe cannot hold them. */
    static char buf[5000];
    fcntl(p[1], F_SETPIPE_SZ, 65536);
    ssize_t w = write(p[1], buf, sizeof(buf));
    ut_check_errno("setpipe_sz_below_content", fcntl(p[1], F_SETPIPE_SZ, 0), EBUSY);
    ut_check(w == 5000 && fcntl(p[1], F_SETPIPE_SZ, 16384) == 16384 &&
             read(p[0], buf, sizeof(buf)) == 5000, "setpipe_sz_keeps_bytes", "lost");
    ut_check_errno("setpipe_sz_huge", fcntl(p[1], F_SETPIPE_SZ, 0x80000001u), EINVAL);

    int fd = open(self, O_RDONLY);
    ut_check_errno("getpipe_sz_not_pipe", fcntl(fd, F_GETPIPE_SZ), EBADF);
    struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };
    int r = fcntl(fd, F_GETLK, &fl);
    ut_check(r == 0 && fl.l_type == F_UNLCK && fl.l_len == 10, "getlk_nothing_in_the_way",
             "r %d type %d", r, fl.l_type);
    fl.l_type = F_RDLCK;
    ut_check(fcntl(fd, F_SETLK, &fl) == 0, "setlk_read_lock", "%s", ut_errno_name(errno));
    fl.l_type = F_WRLCK;
    ut_check_errno("setlk_write_lock_read_only", fcntl(fd, F_SETLK, &fl), EBADF);
    fl.l_type = F_UNLCK;
    ut_check_errno("getlk_unlck_refused", fcntl(fd, F_GETLK, &fl), EINVAL);
    ut_check(fcntl(fd, F_SETLK, &fl) == 0, "setlk_unlock", "%s", ut_errno_name(errno));
    fl.l_type = F_RDLCK;
    fl.l_whence = 7;
    ut_check_errno("lock_bad_whence", fcntl(fd, F_SETLK, &fl), EINVAL);
    fl.l_whence = SEEK_SET;
    fl.l_start = -5;
    ut_check_errno("lock_before_start", fcntl(fd, F_SETLK, &fl), EINVAL);
    ut_check_errno("getlk_bad_pointer", fcntl(fd, F_GETLK, (void *)8), EFAULT);
    ut_check_errno("fcntl_unknown_cmd", fcntl(fd, 9999, 0), EINVAL);
    ut_check_errno("fcntl_bad_fd", fcntl(999, F_GETFL), EBADF);
    close(fd);
    close(p[0]);
    close(p[1]);
}

/* ---- time, robust list, affinity, unknown calls, wait4 ------------------------------------ */

static void time_checks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long tv[2];
    long r = syscall(SYS_gettimeofday, tv, NULL);
    long diff = tv[0] - (long)ts.tv_sec;
    ut_check(r == 0 && diff >= 0 && diff <= 1 && tv[1] >= 0 && tv[1] < 1000000,
             "gettimeofday_same_clock", "diff %ld s", diff);
    int tz[2] = { -1, -1 };
    r = syscall(SYS_gettimeofday, NULL, tz);
    ut_check(r == 0 && tz[0] == 0 && tz[1] == 0, "gettimeofday_timezone", "%d %d", tz[0], tz[1]);
    long t = syscall(SYS_time, NULL);
    ut_check(t >= (long)ts.tv_sec && t <= (long)ts.tv_sec + 1, "time_same_clock", "diff %ld",
             t - (long)ts.tv_sec);
    ut_check_errno("gettimeofday_bad_pointer", syscall(SYS_gettimeofday, (void *)8, NULL), EFAULT);
    ut_check_errno("time_bad_pointer", syscall(SYS_time, (void *)8), EFAULT);
}

static void robust_checks(void)
{
    long head[3] = { 0, 0, 0 };   /* struct robust_list_head: three words */
    long got = 0;
    size_t len = 0;
    long r = syscall(SYS_set_robust_list, head, sizeof(head));
    long g = syscall(SYS_get_robust_list, 0, &got, &len);
    ut_check(r == 0 && g == 0 && got == (long)head && len == sizeof(head), "robust_list_round_trip",
             "set %ld get %ld len %zu", r, g, len);
    ut_check_errno("robust_list_bad_len", syscall(SYS_set_robust_list, head, sizeof(head) + 1),
                   EINVAL);
    ut_check_errno("get_robust_list_no_pid", syscall(SYS_get_robust_list, 99999, &got, &len),
                   ESRCH);
    ut_check_errno("get_robust_list_bad_pointer", syscall(SYS_get_robust_list, 0, &got, (void *)8),
                   EFAULT);
}

static void affinity_checks(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    long r = syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
    ut_check(r > 0 && (size_t)r <= sizeof(set) && CPU_COUNT(&set) >= 1, "sched_getaffinity",
             "returned %ld", r);
    ut_check_errno("sched_getaffinity_odd_len", syscall(SYS_sched_getaffinity, 0, 3, &set), EINVAL);
    ut_check_errno("sched_getaffinity_no_pid",
                   syscall(SYS_sched_getaffinity, 99999, sizeof(set), &set), ESRCH);
}

static void enosys_checks(void)
{
    ut_check_errno("unknown_call_enosys", syscall(1000), ENOSYS);
    if (ut_on_mmk()) {
        ut_check_errno("rseq_enosys", syscall(SYS_rseq, NULL, 0, 0, 0), ENOSYS);
    } else {
        ut_skip("rseq_enosys", "the host's kernel has rseq");
    }
}

static void wait_checks(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(5);
    long r = syscall(SYS_wait4, pid, (void *)8, 0, NULL);
    int e = errno;
    long again = syscall(SYS_wait4, pid, NULL, 0, NULL);
    int e2 = errno;
    errno = e;
    ut_check_errno("wait4_bad_status_efault", r, EFAULT);
    ut_check(again == -1 && e2 == ECHILD, "wait4_reaped_before_efault", "second wait4 %ld, %s",
             again, ut_errno_name(e2));
}

/* readv with many segments from an empty pipe, killed while it waits:
 * on mmk the kernel's copy of the segment list must not leak. */
static void readv_kill_leak(void)
{
    if (!ut_on_mmk()) {
        ut_skip("readv_killed_no_leak", "kernel memory is only counted on mmk");
        return;
    }
    long before = ut_slab_objects();
    for (int round = 0; round < 20; round++) {
        int p[2];
        if (pipe(p))
            break;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            static char b[16][8];
            struct iovec iov[16];
            for (int i = 0; i < 16; i++)
                iov[i] = (struct iovec){ b[i], sizeof(b[i]) };
            readv(p[0], iov, 16);
            _exit(1);
        }
        struct timespec d = { 0, 20 * 1000000 };
        nanosleep(&d, NULL);
        kill(pid, SIGKILL);
        ut_wait(pid);
        close(p[0]);
        close(p[1]);
    }
    long after = ut_slab_objects();
    ut_check(after - before <= 8, "readv_killed_no_leak", "slab objects %ld -> %ld", before, after);
}

int main(int argc, char **argv)
{
    (void)argc;
    self = argv[0];
    ut_init();
    sysinfo_checks();
    prctl_checks();
    id_checks();
    rlimit_checks();
    fcntl_checks();
    time_checks();
    robust_checks();
    affinity_checks();
    enosys_checks();
    wait_checks();
    readv_kill_leak();
    return ut_done();
}
