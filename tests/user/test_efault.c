/*
 * test_efault: bad pointers given to system calls return -EFAULT, and bad
 * numbers -EINVAL (or the errno Linux gives); the kernel never crashes and
 * the process carries on.
 *
 * Every pointer argument in the table below is tried with every bad
 * address: NULL, an unmapped page, a PROT_NONE page, kernel addresses,
 * non-canonical addresses, a range that crosses the end of user space,
 * and, where the kernel writes, a read-only page and the program's text.
 * A pointer that may legitimately be NULL (wait4's status, sigaction's old
 * action...) is not tried with NULL.  One line per system call and
 * argument; a failure names the addresses that were not refused.
 *
 * The calls are made with syscall(), so that musl's wrappers (or the
 * vDSO, for clock_gettime) never touch the pointer first.  execve cases run
 * in a child, and a program that would wrongly get through exec is this one
 * again, told by "--exec-guard" or MMK_EXEC_GUARD=1 to exit at once.
 *
 *     test_efault          (argv[0] must be the program's path)
 */
#include "ut.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXEC_GUARD_EXIT 77

/* i386 (docs/compat32-abi.md) has other numbers for these calls; its old
 * fstat and clock_gettime take 32-bit structures, so the 64-bit-time ones
 * are used. */
#ifdef SYS_fstat64
#define NR_fstat SYS_fstat64
#define NR_fstatat SYS_fstatat64
#else
#define NR_fstat SYS_fstat
#define NR_fstatat SYS_newfstatat
#endif
#ifdef SYS_clock_gettime64
#define NR_clock_gettime SYS_clock_gettime64
#else
#define NR_clock_gettime SYS_clock_gettime
#endif

/* The kernel's own timespec for nanosleep (two longs on both ABIs; musl's
 * struct timespec has a 64-bit tv_sec on i386). */
struct kernel_timespec {
    long tv_sec, tv_nsec;
};

static const char *self;

enum { SRC, DST };                  /* the kernel reads / writes the memory */

static struct bad {
    const char *name;
    uintptr_t addr;
    int dst_only;                   /* only bad when the kernel writes there */
} bads[] = {
    { "null", 0, 0 },
    { "unmapped", 0, 0 },           /* addresses filled in by main */
    { "prot_none", 0, 0 },
#if UINTPTR_MAX > 0xffffffffu
    { "kernel_half", 0xffff800000000000UL, 0 },
    { "kernel_image", 0xffffffff80000000UL, 0 },
    { "last_page", 0xfffffffffffff000UL, 0 },
    { "non_canonical_low", 0x0000800000000000UL, 0 },
    { "non_canonical_high", 0x8000000000000000UL, 0 },
    { "crossing_end_of_user_space", 0x00007ffffffffffcUL, 0 },
#else
    { "crossing_end_of_address_space", 0xfffffffcUL, 0 },
    { "last_page", 0xfffff000UL, 0 },   /* above every i386 process's user space */
#endif
    { "read_only", 0, 1 },
    { "text", 0, 1 },
};

/* A pipe holding 16 bytes, for the calls that read from one. */
static int pipe_with_data(int p[2])
{
    if (pipe(p) < 0)
        return -1;
    return write(p[1], "0123456789abcdef", 16) == 16 ? 0 : -1;
}

/* Run a call and close the fds it used, keeping its errno. */
#define KEEP_ERRNO(expr, cleanup) \
    do { long r_ = (expr); int e_ = errno; cleanup; errno = e_; return r_; } while (0)

static long c_read(uintptr_t b)
{
    int p[2];
    if (pipe_with_data(p))
        return -2;
    KEEP_ERRNO(syscall(SYS_read, p[0], b, 16), (close(p[0]), close(p[1])));
}

static long c_write(uintptr_t b)
{
    int p[2];
    if (pipe(p))
        return -2;
    KEEP_ERRNO(syscall(SYS_write, p[1], b, 16), (close(p[0]), close(p[1])));
}

static long c_readv_buf(uintptr_t b)
{
    int p[2];
    struct iovec iov = { (void *)b, 16 };
    if (pipe_with_data(p))
        return -2;
    KEEP_ERRNO(syscall(SYS_readv, p[0], &iov, 1), (close(p[0]), close(p[1])));
}

static long c_readv_iov(uintptr_t b)
{
    int p[2];
    if (pipe_with_data(p))
        return -2;
    KEEP_ERRNO(syscall(SYS_readv, p[0], b, 1), (close(p[0]), close(p[1])));
}

static long c_writev_buf(uintptr_t b)
{
    int p[2];
    struct iovec iov = { (void *)b, 16 };
    if (pipe(p))
        return -2;
    /* One iovec: after a good one, Linux writes what it could and returns
     * a short count for some bad addresses, EFAULT for others. */
    KEEP_ERRNO(syscall(SYS_writev, p[1], &iov, 1), (close(p[0]), close(p[1])));
}

static long c_writev_iov(uintptr_t b)
{
    int p[2];
    if (pipe(p))
        return -2;
    KEEP_ERRNO(syscall(SYS_writev, p[1], b, 1), (close(p[0]), close(p[1])));
}

static long c_pipe(uintptr_t b)      { return syscall(SYS_pipe, b); }
static long c_pipe2(uintptr_t b)     { return syscall(SYS_pipe2, b, 0); }
static long c_open(uintptr_t b)      { return syscall(SYS_open, b, O_RDONLY); }
static long c_openat(uintptr_t b)    { return syscall(SYS_openat, AT_FDCWD, b, O_RDONLY); }
static long c_uname(uintptr_t b)     { return syscall(SYS_uname, b); }
static long c_getrusage(uintptr_t b) { return syscall(SYS_getrusage, RUSAGE_SELF, b); }
static long c_clock(uintptr_t b)     { return syscall(NR_clock_gettime, CLOCK_MONOTONIC, b); }
static long c_nanosleep(uintptr_t b) { return syscall(SYS_nanosleep, b, 0); }
static long c_getrandom(uintptr_t b) { return syscall(SYS_getrandom, b, 16, 0); }
static long c_sigaction_act(uintptr_t b) { return syscall(SYS_rt_sigaction, SIGUSR1, b, 0, 8); }
static long c_sigaction_old(uintptr_t b) { return syscall(SYS_rt_sigaction, SIGUSR1, 0, b, 8); }
static long c_sigprocmask_set(uintptr_t b) { return syscall(SYS_rt_sigprocmask, SIG_BLOCK, b, 0, 8); }
static long c_sigprocmask_old(uintptr_t b) { return syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0, b, 8); }

static long c_fstat(uintptr_t b)
{
    int p[2];
    if (pipe(p))
        return -2;
    KEEP_ERRNO(syscall(NR_fstat, p[0], b), (close(p[0]), close(p[1])));
}

static long c_stat_path(uintptr_t b)
{
    static char st[256];
    return syscall(NR_fstatat, AT_FDCWD, b, st, 0);
}

static long c_stat_buf(uintptr_t b) { return syscall(NR_fstatat, AT_FDCWD, self, b, 0); }

static char *valid_page;            /* a mapped page, for mincore */
static long c_mincore(uintptr_t b) { return syscall(SYS_mincore, valid_page, PAGE, b); }

/* wait4 on a child that has exited; whatever the outcome, no child is left. */
static long wait4_case(uintptr_t status, uintptr_t rusage)
{
    pid_t pid = ut_fork();
    if (pid < 0)
        return -2;
    if (pid == 0)
        _exit(0);
    long r = syscall(SYS_wait4, pid, status, 0, rusage);
    int e = errno;
    if (r != pid)
        wait4(pid, NULL, 0, NULL);  /* Linux has reaped it already; mmk may not */
    errno = e;
    return r;
}

static long c_wait4_status(uintptr_t b) { return wait4_case(b, 0); }
static long c_wait4_rusage(uintptr_t b) { return wait4_case(0, b); }

/* execve in a child: its exit status carries the errno (or 77 if exec went through). */
static long exec_case(const void *path, const void *argv, const void *envp)
{
    pid_t pid = ut_fork();
    if (pid < 0)
        return -2;
    if (pid == 0) {
        syscall(SYS_execve, path, argv, envp);
        _exit(errno & 0x7f);
    }
    int st = ut_wait(pid);
    if (ut_exited_with(st, EXEC_GUARD_EXIT))
        return 0;                   /* exec went through */
    if (st == -1 || !WIFEXITED(st))
        return -3;
    errno = WEXITSTATUS(st);
    return -1;
}

static char *const guard_env[] = { "MMK_EXEC_GUARD=1", NULL };

static long c_execve_path(uintptr_t b)
{
    char *const argv[] = { (char *)self, "--exec-guard", NULL };
    return exec_case((void *)b, argv, guard_env);
}

static long c_execve_argv(uintptr_t b) { return exec_case(self, (void *)b, guard_env); }

static long c_execve_argv_elem(uintptr_t b)
{
    char *const argv[] = { (char *)self, (char *)b, NULL };
    return exec_case(self, argv, guard_env);
}

static long c_execve_envp(uintptr_t b)
{
    char *const argv[] = { (char *)self, "--exec-guard", NULL };
    return exec_case(self, argv, (void *)b);
}

static long c_execve_envp_elem(uintptr_t b)
{
    char *const argv[] = { (char *)self, "--exec-guard", NULL };
    char *const envp[] = { "MMK_EXEC_GUARD=1", (char *)b, NULL };
    return exec_case(self, argv, envp);
}

static const struct call {
    const char *name;
    long (*fn)(uintptr_t);
    int dir;                        /* SRC or DST */
    int null_ok;                    /* NULL is a valid value of this argument */
} calls[] = {
    { "read_buf",              c_read,            DST, 0 },
    { "write_buf",             c_write,           SRC, 0 },
    { "readv_buf",             c_readv_buf,       DST, 0 },
    { "readv_iovec",           c_readv_iov,       SRC, 0 },
    { "writev_buf",            c_writev_buf,      SRC, 0 },
    { "writev_iovec",          c_writev_iov,      SRC, 0 },
    { "pipe_fds",              c_pipe,            DST, 0 },
    { "pipe2_fds",             c_pipe2,           DST, 0 },
    { "open_path",             c_open,            SRC, 0 },
    { "openat_path",           c_openat,          SRC, 0 },
    { "fstat_buf",             c_fstat,           DST, 0 },
    { "newfstatat_path",       c_stat_path,       SRC, 0 },
    { "newfstatat_buf",        c_stat_buf,        DST, 0 },
    { "uname_buf",             c_uname,           DST, 0 },
    { "getrusage_buf",         c_getrusage,       DST, 0 },
    { "clock_gettime_buf",     c_clock,           DST, 0 },
    { "nanosleep_req",         c_nanosleep,       SRC, 0 },
    { "getrandom_buf",         c_getrandom,       DST, 0 },
    { "mincore_vec",           c_mincore,         DST, 0 },
    { "rt_sigaction_act",      c_sigaction_act,   SRC, 1 },
    { "rt_sigaction_oldact",   c_sigaction_old,   DST, 1 },
    { "rt_sigprocmask_set",    c_sigprocmask_set, SRC, 1 },
    { "rt_sigprocmask_oldset", c_sigprocmask_old, DST, 1 },
    { "wait4_status",          c_wait4_status,    DST, 1 },
    { "wait4_rusage",          c_wait4_rusage,    DST, 1 },
    { "execve_path",           c_execve_path,     SRC, 0 },
    { "execve_argv",           c_execve_argv,     SRC, 1 },
    { "execve_argv_string",    c_execve_argv_elem, SRC, 1 },
    { "execve_envp",           c_execve_envp,     SRC, 1 },
    { "execve_envp_string",    c_execve_envp_elem, SRC, 1 },
};

static void pointer_table(void)
{
    /* Control: the same execve with good pointers does go through. */
    char *const argv[] = { (char *)self, "--exec-guard", NULL };
    long r = exec_case(self, argv, guard_env);
    ut_check(r == 0, "execve_control_good_pointers_run", "execve failed: %s",
             r == -1 ? ut_errno_name(errno) : "child killed");

    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        char failures[512] = "";
        size_t len = 0;
        for (size_t k = 0; k < sizeof bads / sizeof bads[0]; k++) {
            if ((bads[k].dst_only && calls[i].dir != DST) || (calls[i].null_ok && !bads[k].addr))
                continue;
            errno = 0;
            long r = calls[i].fn(bads[k].addr);
            int e = errno;
            if (r == -1 && e == EFAULT)
                continue;
            len += (size_t)snprintf(failures + len, len < sizeof failures ? sizeof failures - len : 0,
                                    "%s%s (%s)", len ? ", " : "", bads[k].name,
                                    r == -1 ? ut_errno_name(e) : r == -2 ? "setup failed" :
                                    r == -3 ? "child killed" : "no error");
        }
        char name[64];
        snprintf(name, sizeof name, "%s_efault", calls[i].name);
        ut_check(!failures[0], name, "not refused with EFAULT: %s", failures);
    }
}

/* A bad pointer with a length of zero is never touched: Linux returns 0. */
static void zero_lengths(void)
{
    int p[2];
    if (pipe(p))
        return;
    long w = syscall(SYS_write, p[1], 0, 0);
    long r = syscall(SYS_read, p[0], 0, 0);
    ut_check(w == 0 && r == 0, "null_with_zero_length_returns_0", "write %ld, read %ld", w, r);
    close(p[0]);
    close(p[1]);
}

/* Bad numbers. */
static void bad_arguments(void)
{
    int p[2];
    char buf[16];
    if (pipe(p))
        return;
    struct iovec iov[2] = { { buf, 1 }, { buf, 1 } };
    ut_check_errno("writev_iovcnt_1025_einval", syscall(SYS_writev, p[1], iov, 1025), EINVAL);
    ut_check_errno("writev_iovcnt_negative_einval", syscall(SYS_writev, p[1], iov, -1), EINVAL);
    struct iovec huge = { buf, (size_t)SSIZE_MAX + 1 };
    ut_check_errno("writev_length_above_ssize_max_einval", syscall(SYS_writev, p[1], &huge, 1),
                   EINVAL);
    struct kernel_timespec ts = { 0, 1000000000 };
    ut_check_errno("nanosleep_nsec_1e9_einval", syscall(SYS_nanosleep, &ts, 0), EINVAL);
    ts.tv_sec = -1;
    ts.tv_nsec = 0;
    ut_check_errno("nanosleep_negative_einval", syscall(SYS_nanosleep, &ts, 0), EINVAL);
    struct timespec now;
    ut_check_errno("clock_gettime_bad_clock_einval", syscall(NR_clock_gettime, 12345, &now), EINVAL);
    ut_check_errno("getrandom_bad_flags_einval", syscall(SYS_getrandom, buf, 16, 0x1000), EINVAL);
    ut_check_errno("rt_sigprocmask_bad_size_einval",
                   syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0, buf, 4), EINVAL);
    ut_check_errno("read_bad_fd_ebadf", syscall(SYS_read, 1000, buf, 1), EBADF);
    ut_check_errno("write_to_read_end_ebadf", syscall(SYS_write, p[0], buf, 1), EBADF);
    ut_check_errno("close_bad_fd_ebadf", syscall(SYS_close, 1000), EBADF);
    ut_check_errno("wait4_no_such_child_echild", syscall(SYS_wait4, 1 << 30, 0, 0, 0), ECHILD);
    ut_check_errno("kill_no_such_process_esrch", syscall(SYS_kill, 1 << 30, 0), ESRCH);
    ut_check_errno("open_missing_file_enoent", syscall(SYS_open, "/no/such/file", O_RDONLY), ENOENT);
    close(p[0]);
    close(p[1]);
}

#if UINTPTR_MAX == 0xffffffffu
/* mmk's 32-bit processes end at 0xffc00000 (docs/compat32.md), with the
 * stack right below: a range that starts in the stack and crosses that
 * limit is refused whole.  Linux's i386 user space goes on to 0xffffe000,
 * so these checks mean something on mmk only. */
static void user_limit_32(void)
{
    const char *names[] = { "read_crossing_0xffc00000_efault", "write_crossing_0xffc00000_efault",
                            "read_below_0xffc00000_works" };
    if (!ut_on_mmk()) {
        for (int i = 0; i < 3; i++)
            ut_skip(names[i], "mmk's limit: Linux's i386 stack lies elsewhere");
        return;
    }
    int p[2];
    if (pipe_with_data(p))
        return;
    ut_check_errno(names[0], syscall(SYS_read, p[0], 0xffc00000UL - 8, 16), EFAULT);
    ut_check_errno(names[1], syscall(SYS_write, p[1], 0xffc00000UL - 8, 16), EFAULT);
    long r = syscall(SYS_read, p[0], 0xffc00000UL - 16, 16);
    ut_check(r == 16, names[2], "returned %ld (%s)", r, ut_errno_name(errno));
    close(p[0]);
    close(p[1]);
}
#endif

int main(int argc, char **argv)
{
    if ((argc > 1 && strcmp(argv[1], "--exec-guard") == 0) || getenv("MMK_EXEC_GUARD"))
        _exit(EXEC_GUARD_EXIT);     /* an execve that should have failed did not */
    ut_init();
    self = argv[0];

    char *pages = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED) {
        ut_check(0, "mmap", "%s", ut_errno_name(errno));
        return ut_done();
    }
    valid_page = pages;
    valid_page[0] = 1;
    mprotect(pages + PAGE, PAGE, PROT_NONE);
    mprotect(pages + 2 * PAGE, PAGE, PROT_READ);
    munmap(pages + 3 * PAGE, PAGE);
    for (size_t k = 0; k < sizeof bads / sizeof bads[0]; k++) {
        if (!strcmp(bads[k].name, "unmapped"))
            bads[k].addr = (uintptr_t)pages + 3 * PAGE;
        else if (!strcmp(bads[k].name, "prot_none"))
            bads[k].addr = (uintptr_t)pages + PAGE;
        else if (!strcmp(bads[k].name, "read_only"))
            bads[k].addr = (uintptr_t)pages + 2 * PAGE;
        else if (!strcmp(bads[k].name, "text"))
            bads[k].addr = (uintptr_t)&pointer_table;
    }
    pointer_table();
    zero_lengths();
    bad_arguments();
#if UINTPTR_MAX == 0xffffffffu
    user_limit_32();
#endif
    ut_check(1, "still_alive", "-");
    return ut_done();
}
