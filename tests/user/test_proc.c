/*
 * test_proc: /proc as a program sees it, compared with the host's Linux.
 *
 * Only what is the same on both systems is printed: the shape of each
 * file (the number and kind of fields, the names of the lines) and the
 * facts a program can check against its own system calls: /proc/self/stat
 * names our pid, parent, group and session, its arg_start is argv[0];
 * status's Pid, PPid, ids and signal masks are the ones we set; statm and
 * status agree, and VmSize and VmRSS move by what we map and touch;
 * a child's directory exists while it lives (S while it sleeps, T while
 * stopped, Z as a zombie) and is gone once reaped; the links exe, cwd and
 * fd/<n> name what we opened; getdents64 of /proc lists our pid and the
 * machine's files; uptime, loadavg, stat, cpuinfo, version, filesystems
 * and cmdline have Linux's formats, and btime + uptime is the time now.
 *
 * The files are read with open/read/close into static buffers, so that
 * nothing is allocated (and no page touched) between two readings that
 * are compared.
 */
#define _GNU_SOURCE
#include "ut.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char **args;
static int nargs;

/* ---- reading /proc ------------------------------------------------------------------ */

/* The whole file into buf (NUL-terminated): its length, or -1. */
static long slurp(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t n = 0;
    for (;;) {
        long k = read(fd, buf + n, size - 1 - n);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    buf[n] = 0;
    return (long)n;
}

/* The value after "key:" on a line of status ("" when absent). */
static const char *status_field(const char *text, const char *key, char *val, size_t size)
{
    size_t klen = strlen(key);
    val[0] = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (!strncmp(p, key, klen) && p[klen] == ':') {
            const char *v = p + klen + 1;
            while (*v == '\t' || *v == ' ')
                v++;
            size_t n = strcspn(v, "\n");
            if (n >= size)
                n = size - 1;
            memcpy(val, v, n);
            val[n] = 0;
            return val;
        }
    }
    return val;
}

static unsigned long long status_num(const char *text, const char *key)
{
    char v[128];
    return strtoull(status_field(text, key, v, sizeof v), NULL, 0);
}

static unsigned long long status_hex(const char *text, const char *key)
{
    char v[128];
    return strtoull(status_field(text, key, v, sizeof v), NULL, 16);
}

/* /proc/<pid>/stat cut into fields: f[0] the pid, f[1] the comm (without
 * its parentheses), f[2] the state...  Returns the number of fields. */
#define STAT_MAX 64
static int stat_fields(char *text, char *f[STAT_MAX])
{
    char *open = strchr(text, '('), *close = strrchr(text, ')');
    if (!open || !close || close < open)
        return 0;
    *close = 0;
    *open = 0;
    for (char *e = open; e > text && e[-1] == ' ';)
        *--e = 0;                       /* the pid, without the blank after it */
    int n = 0;
    f[n++] = text;
    f[n++] = open + 1;
    for (char *p = close + 1; n < STAT_MAX;) {
        while (*p == ' ' || *p == '\n')
            p++;
        if (!*p)
            break;
        f[n++] = p;
        p += strcspn(p, " \n");
        if (*p)
            *p++ = 0;
    }
    return n;
}

static int is_int(const char *s)
{
    if (*s == '-')
        s++;
    if (!isdigit((unsigned char)*s))
        return 0;
    while (isdigit((unsigned char)*s))
        s++;
    return *s == 0;
}

static const char *base_of(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* The state letter of /proc/<pid>/stat, or 0. */
static char state_of(pid_t pid)
{
    static char buf[1024];
    char path[64], *f[STAT_MAX];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (slurp(path, buf, sizeof buf) < 0 || stat_fields(buf, f) < 3)
        return 0;
    return f[2][0];
}

/* Wait (up to 5 s) until pid's state is want. */
static int wait_state(pid_t pid, char want)
{
    for (int i = 0; i < 500; i++) {
        if (state_of(pid) == want)
            return 1;
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Does getdents64 of dir list name? */
static int dir_has(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        found |= !strcmp(e->d_name, name);
    closedir(d);
    return found;
}

/* ---- /proc/self/stat, statm, status ------------------------------------------------ */

static char stat_buf[4096], statm_buf[512], status_buf[8192];

static void t_self_stat(void)
{
    char *f[STAT_MAX];
    ut_check(slurp("/proc/self/stat", stat_buf, sizeof stat_buf) > 0, "stat_readable", "open");
    int n = stat_fields(stat_buf, f);
    ut_check(n == 52, "stat_has_52_fields", "%d fields", n);
    if (n < 52)
        return;
    int bad = -1;
    for (int i = 0; i < n; i++)
        if (i != 1 && i != 2 && !is_int(f[i]))
            bad = i;
    ut_check(bad < 0, "stat_fields_are_numbers", "field %d: %s", bad + 1, bad < 0 ? "" : f[bad]);
    ut_check(strlen(f[2]) == 1 && strchr("RSDTZ", f[2][0]), "stat_state_is_a_letter", "%s", f[2]);
    ut_check(f[2][0] == 'R', "stat_self_is_running", "state %s", f[2]);
    ut_check(atoi(f[0]) == getpid(), "stat_pid_is_getpid", "%s", f[0]);
    char comm[16];
    snprintf(comm, sizeof comm, "%s", base_of(args[0]));
    ut_check(!strcmp(f[1], comm), "stat_comm_is_program_name", "(%s)", f[1]);
    ut_check(atoi(f[3]) == getppid(), "stat_ppid_is_getppid", "%s", f[3]);
    ut_check(atoi(f[4]) == getpgrp() && atoi(f[5]) == getsid(0), "stat_pgrp_session",
             "%s %s", f[4], f[5]);
    ut_check(atoi(f[19]) == 1, "stat_one_thread", "%s", f[19]);
    /* arg_start and env_start are where argv[0] and environ[0] are. */
    unsigned long long arg_start = strtoull(f[47], NULL, 10), arg_end = strtoull(f[48], NULL, 10);
    unsigned long long env_start = strtoull(f[49], NULL, 10);
    size_t arglen = 0;
    for (int i = 0; i < nargs; i++)
        arglen += strlen(args[i]) + 1;
    ut_check(arg_start == (uintptr_t)args[0] && arg_end - arg_start == arglen,
             "stat_arg_start_is_argv0", "arg_start %llx, argv[0] %p", arg_start, (void *)args[0]);
    ut_check(environ[0] && env_start == (uintptr_t)environ[0], "stat_env_start_is_environ0",
             "env_start %llx", env_start);
    /* statm: seven numbers; size and resident are stat's vsize and rss. */
    unsigned long long vsize = strtoull(f[22], NULL, 10), rss = strtoull(f[23], NULL, 10);
    unsigned long long m[7];
    slurp("/proc/self/statm", statm_buf, sizeof statm_buf);
    int k = sscanf(statm_buf, "%llu %llu %llu %llu %llu %llu %llu", &m[0], &m[1], &m[2], &m[3],
                   &m[4], &m[5], &m[6]);
    ut_check(k == 7, "statm_has_7_numbers", "%d", k);
    ut_check(k == 7 && m[0] * PAGE == vsize, "statm_size_is_stat_vsize", "%llu vs %llu", m[0],
             vsize);
    /* (stat's rss is not compared: Linux 6.2 on sums its per-CPU counters
     * only for statm and status, so stat's may lag behind) */
    ut_note("rss: stat %llu, statm %llu pages", rss, m[1]);
}

static void t_self_status(void)
{
    ut_check(slurp("/proc/self/status", status_buf, sizeof status_buf) > 0, "status_readable",
             "open");
    static const char *const keys[] = { "Name", "State", "Tgid", "Pid", "PPid", "Uid", "Gid",
                                        "VmPeak", "VmSize", "VmRSS", "VmData", "VmStk",
                                        "Threads", "SigQ", "SigPnd", "ShdPnd", "SigBlk",
                                        "SigIgn", "SigCgt" };
    int missing = -1;
    char v[128];
    for (unsigned i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!*status_field(status_buf, keys[i], v, sizeof v))
            missing = (int)i;
    ut_check(missing < 0, "status_has_linux_lines", "no %s", missing < 0 ? "" : keys[missing]);
    char comm[16];
    snprintf(comm, sizeof comm, "%s", base_of(args[0]));
    ut_check(!strcmp(status_field(status_buf, "Name", v, sizeof v), comm), "status_name", "%s",
             v);
    ut_check(!strcmp(status_field(status_buf, "State", v, sizeof v), "R (running)"),
             "status_state_running", "%s", v);
    ut_check(status_num(status_buf, "Pid") == (unsigned long long)getpid() &&
                 status_num(status_buf, "Tgid") == (unsigned long long)getpid() &&
                 status_num(status_buf, "PPid") == (unsigned long long)getppid(),
             "status_pid_tgid_ppid", "Pid %llu", status_num(status_buf, "Pid"));
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    unsigned u[4], g[4];
    int nu = sscanf(status_field(status_buf, "Uid", v, sizeof v), "%u %u %u %u", &u[0], &u[1],
                    &u[2], &u[3]);
    ut_check(nu == 4 && u[0] == r && u[1] == e && u[2] == s && u[3] == e, "status_uid_line",
             "%s", v);
    int ng = sscanf(status_field(status_buf, "Gid", v, sizeof v), "%u %u %u %u", &g[0], &g[1],
                    &g[2], &g[3]);
    ut_check(ng == 4 && g[0] == gr && g[1] == ge && g[2] == gs && g[3] == ge, "status_gid_line",
             "%s", v);
    ut_check(status_num(status_buf, "Threads") == 1, "status_one_thread", "Threads");
    const char *kb = status_field(status_buf, "VmSize", v, sizeof v);
    ut_check(strlen(kb) > 3 && !strcmp(kb + strlen(kb) - 3, " kB"), "status_vm_in_kb", "%s", kb);
    unsigned qn, qmax;
    ut_check(sscanf(status_field(status_buf, "SigQ", v, sizeof v), "%u/%u", &qn, &qmax) == 2 &&
                 qmax > 0,
             "status_sigq_format", "%s", v);
    ut_check(strlen(status_field(status_buf, "SigBlk", v, sizeof v)) == 16, "status_sigblk_16_hex",
             "%s", v);
}

static volatile sig_atomic_t got_usr1, got_usr2;
static void on_usr1(int sig)
{
    (void)sig;
    got_usr1++;
}
static void on_usr2(int sig)
{
    (void)sig;
    got_usr2++;
}

/* The masks status shows are the ones we set; kill() makes a signal
 * pending for the process (ShdPnd), raise() for the thread (SigPnd). */
static void t_status_signals(void)
{
    struct sigaction sa = { 0 };
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    signal(SIGWINCH, SIG_IGN);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, &old);
    kill(getpid(), SIGUSR1);
    raise(SIGUSR2);
    slurp("/proc/self/status", status_buf, sizeof status_buf);
    unsigned long long usr1 = 1ull << (SIGUSR1 - 1), usr2 = 1ull << (SIGUSR2 - 1);
    unsigned long long winch = 1ull << (SIGWINCH - 1);
    unsigned long long blk = status_hex(status_buf, "SigBlk");
    unsigned long long cgt = status_hex(status_buf, "SigCgt");
    unsigned long long ign = status_hex(status_buf, "SigIgn");
    unsigned long long pnd = status_hex(status_buf, "SigPnd");
    unsigned long long shd = status_hex(status_buf, "ShdPnd");
    ut_check((blk & (usr1 | usr2)) == (usr1 | usr2), "status_sigblk_shows_mask", "%llx", blk);
    ut_check((cgt & (usr1 | usr2)) == (usr1 | usr2) && !(cgt & winch), "status_sigcgt_handlers",
             "%llx", cgt);
    ut_check((ign & winch) && !(ign & usr1), "status_sigign_ignored", "%llx", ign);
    ut_check((shd & usr1) && !(pnd & usr1), "status_kill_is_shdpnd", "SigPnd %llx ShdPnd %llx",
             pnd, shd);
    ut_check((pnd & usr2) && !(shd & usr2), "status_raise_is_sigpnd", "SigPnd %llx ShdPnd %llx",
             pnd, shd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    ut_check(got_usr1 == 1 && got_usr2 == 1, "pending_signals_delivered", "%d %d", (int)got_usr1,
             (int)got_usr2);
    slurp("/proc/self/status", status_buf, sizeof status_buf);
    ut_check(!(status_hex(status_buf, "SigPnd") & (usr1 | usr2)) &&
                 !(status_hex(status_buf, "ShdPnd") & (usr1 | usr2)) &&
                 !(status_hex(status_buf, "SigBlk") & (usr1 | usr2)),
             "status_after_delivery_clear", "pending or blocked left");
    signal(SIGWINCH, SIG_DFL);
}

/* VmSize grows by a mapping's size, VmRSS by the pages touched; a fork
 * child's VmRSS counts the pages it shares with us. */
static int child_rss_check(void *arg)
{
    static char buf[8192];
    unsigned long long want = *(unsigned long long *)arg;
    slurp("/proc/self/status", buf, sizeof buf);
    return status_num(buf, "VmRSS") >= want ? 0 : 1;
}

static void t_vm_figures(void)
{
    const size_t len = 1 << 20;
    slurp("/proc/self/status", status_buf, sizeof status_buf);
    unsigned long long size0 = status_num(status_buf, "VmSize");
    unsigned long long rss0 = status_num(status_buf, "VmRSS");
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        ut_check(0, "vmsize_grows_by_mapping", "mmap");
        return;
    }
    slurp("/proc/self/status", status_buf, sizeof status_buf);
    unsigned long long size1 = status_num(status_buf, "VmSize");
    unsigned long long rss1 = status_num(status_buf, "VmRSS");
    ut_check(size1 - size0 == len / 1024, "vmsize_grows_by_mapping", "%llu -> %llu kB", size0,
             size1);
    ut_check(rss1 - rss0 < 64, "untouched_mapping_costs_no_rss", "%llu -> %llu kB", rss0, rss1);
    for (size_t i = 0; i < len; i += PAGE)
        p[i] = 1;
    slurp("/proc/self/status", status_buf, sizeof status_buf);
    unsigned long long rss2 = status_num(status_buf, "VmRSS");
    ut_check(rss2 >= rss1 + len / 1024 - 16, "vmrss_grows_by_pages_touched", "%llu -> %llu kB",
             rss1, rss2);
    ut_note("VmRSS %llu -> %llu -> %llu kB", rss0, rss1, rss2);
    unsigned long long want = len / 1024;
    int st = ut_run_child(child_rss_check, &want);
    ut_check(ut_exited_with(st, 0), "fork_child_rss_counts_shared_pages", "child status %d", st);
    munmap(p, len);
    slurp("/proc/self/status", status_buf, sizeof status_buf);
    ut_check(status_num(status_buf, "VmSize") == size0, "vmsize_back_after_munmap",
             "%llu vs %llu kB", status_num(status_buf, "VmSize"), size0);
    ut_check(status_num(status_buf, "VmRSS") < rss2 - len / 1024 + 16, "vmrss_back_after_munmap",
             "%llu kB", status_num(status_buf, "VmRSS"));
}

/* ---- cmdline, environ, comm ------------------------------------------------------------ */

static void t_cmdline_environ(void)
{
    static char buf[8192], want[8192];
    size_t n = 0;
    for (int i = 0; i < nargs; i++) {
        size_t k = strlen(args[i]) + 1;
        memcpy(want + n, args[i], k);
        n += k;
    }
    long got = slurp("/proc/self/cmdline", buf, sizeof buf);
    ut_check(got == (long)n && !memcmp(buf, want, n), "cmdline_is_argv", "%ld bytes", got);
    n = 0;
    for (char **e = environ; *e; e++) {
        size_t k = strlen(*e) + 1;
        memcpy(want + n, *e, k);
        n += k;
    }
    got = slurp("/proc/self/environ", buf, sizeof buf);
    ut_check(got == (long)n && !memcmp(buf, want, n), "environ_is_envp", "%ld bytes", got);
    char comm[32];
    snprintf(comm, 17, "%s\n", base_of(args[0]));
    if (strlen(comm) == 16)
        comm[15] = '\n';
    got = slurp("/proc/self/comm", buf, sizeof buf);
    ut_check(!strcmp(buf, comm), "comm_is_program_name", "%s", buf);
}

/* ---- a child's directory ------------------------------------------------------------------ */

static void t_child(void)
{
    int p[2];
    if (pipe(p)) {
        ut_check(0, "child_dir_exists", "pipe");
        return;
    }
    pid_t pid = ut_fork();
    if (pid == 0) {
        char c;
        close(p[1]);
        long r = read(p[0], &c, 1);
        _exit(r == 1 ? 3 : 4);
    }
    close(p[0]);
    char path[64], name[16];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    snprintf(name, sizeof name, "%d", (int)pid);
    ut_check(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "child_dir_exists", "stat %s", path);
    ut_check(dir_has("/proc", name), "child_listed_in_proc", "no %s", name);
    ut_check(wait_state(pid, 'S'), "child_sleeping_is_S", "state %c", state_of(pid));
    static char buf[4096];
    char *f[STAT_MAX];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    slurp(path, buf, sizeof buf);
    int n = stat_fields(buf, f);
    ut_check(n == 52 && atoi(f[3]) == getpid(), "child_stat_ppid_is_us", "%d fields", n);
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    slurp(path, status_buf, sizeof status_buf);
    ut_check(status_num(status_buf, "PPid") == (unsigned long long)getpid() &&
                 status_num(status_buf, "Pid") == (unsigned long long)pid,
             "child_status_ids", "PPid %llu", status_num(status_buf, "PPid"));
    char v[64];
    ut_check(!strcmp(status_field(status_buf, "State", v, sizeof v), "S (sleeping)"),
             "child_status_sleeping", "%s", v);
    kill(pid, SIGSTOP);
    ut_check(wait_state(pid, 'T'), "child_stopped_is_T", "state %c", state_of(pid));
    kill(pid, SIGCONT);
    ut_check(wait_state(pid, 'S'), "child_continued_is_S", "state %c", state_of(pid));
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    int dfd = open(path, O_RDONLY | O_DIRECTORY);
    if (write(p[1], "x", 1) != 1)
        ut_note("write to the child failed");
    close(p[1]);
    ut_check(wait_state(pid, 'Z'), "child_exited_is_Z", "state %c", state_of(pid));
    ut_check(stat(path, &st) == 0, "zombie_dir_exists", "stat %s", path);
    int status = ut_wait(pid);
    ut_check(ut_exited_with(status, 3), "child_reaped", "status %d", status);
    ut_check_errno("reaped_child_dir_gone", stat(path, &st), ENOENT);
    ut_check(!dir_has("/proc", name), "reaped_child_not_listed", "%s listed", name);
    ut_check_errno("open_in_dead_dir_esrch", openat(dfd, "stat", O_RDONLY), ESRCH);
    ut_check_errno("lookup_in_dead_dir_esrch", openat(dfd, "nothing", O_RDONLY), ESRCH);
    close(dfd);
}

/* ---- links ------------------------------------------------------------------------------ */

static long link_of(const char *path, char *buf, size_t size)
{
    long n = readlink(path, buf, size - 1);
    buf[n > 0 ? n : 0] = 0;
    return n;
}

static void t_links(void)
{
    char buf[4096], path[64];
    struct stat a, b;
    long n = link_of("/proc/self/exe", buf, sizeof buf);
    ut_check(n > 0 && buf[0] == '/' && stat(buf, &a) == 0 && stat(args[0], &b) == 0 &&
                 a.st_ino == b.st_ino && a.st_dev == b.st_dev,
             "exe_is_our_program", "%s", buf);
    snprintf(path, sizeof path, "%d", (int)getpid());
    n = link_of("/proc/self", buf, sizeof buf);
    ut_check(n > 0 && !strcmp(buf, path), "self_links_to_pid", "%s", buf);
    /* fd/1 names what fstat says fd 1 is. */
    fstat(1, &a);
    n = link_of("/proc/self/fd/1", buf, sizeof buf);
    char want[64];
    snprintf(want, sizeof want, "pipe:[%lu]", (unsigned long)a.st_ino);
    int same = S_ISFIFO(a.st_mode) ? !strcmp(buf, want)
               : S_ISCHR(a.st_mode) ? !strncmp(buf, "/dev/", 5)
                                    : buf[0] == '/';
    ut_check(n > 0 && same, "fd1_link_matches_its_kind", "%s", buf);
    int p[2];
    if (pipe(p) == 0) {
        fstat(p[0], &a);
        snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
        snprintf(want, sizeof want, "pipe:[%lu]", (unsigned long)a.st_ino);
        n = link_of(path, buf, sizeof buf);
        ut_check(!strcmp(buf, want), "pipe_link_names_its_inode", "%s vs %s", buf, want);
        lstat(path, &b);
        ut_check(S_ISLNK(b.st_mode) && (b.st_mode & 0777) == 0500, "fd_link_mode_read_only",
                 "%o", (unsigned)b.st_mode);
        snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
        lstat(path, &b);
        ut_check(S_ISLNK(b.st_mode) && (b.st_mode & 0777) == 0300, "fd_link_mode_write_only",
                 "%o", (unsigned)b.st_mode);
        close(p[0]);
        close(p[1]);
    }
    int fd = open("/dev/null", O_RDWR);
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    link_of(path, buf, sizeof buf);
    ut_check(!strcmp(buf, "/dev/null"), "devnull_link", "%s", buf);
    /* /dev/fd/N is the same file. */
    snprintf(path, sizeof path, "/dev/fd/%d", fd);
    fstat(fd, &a);
    ut_check(stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_rdev == b.st_rdev,
             "dev_fd_is_the_descriptor", "stat %s", path);
    close(fd);
    snprintf(want, sizeof want, "/tmp/test_proc.%d", (int)getpid());
    fd = open(want, O_RDWR | O_CREAT | O_TRUNC, 0600);
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    link_of(path, buf, sizeof buf);
    ut_check(!strcmp(buf, want), "file_link_is_its_path", "%s", buf);
    unlink(want);
    n = link_of(path, buf, sizeof buf);
    ut_check(n > 10 && !strcmp(buf + n - 10, " (deleted)"), "unlinked_file_link_deleted", "%s",
             buf);
    close(fd);
    ut_check_errno("closed_fd_link_enoent", readlink(path, buf, sizeof buf), ENOENT);
    /* The fd directory lists exactly the open descriptors. */
    int listed_ok = 1;
    for (int i = 0; i < 16; i++) {
        snprintf(want, sizeof want, "%d", i);
        if (dir_has("/proc/self/fd", want) != (fcntl(i, F_GETFD) >= 0 || i == 3))
            listed_ok = 0;   /* (3: opendir's own descriptor, there while it lists) */
    }
    ut_check(listed_ok, "fd_dir_lists_open_fds", "listing");
    if (chdir("/tmp") == 0) {
        link_of("/proc/self/cwd", buf, sizeof buf);
        ut_check(!strcmp(buf, "/tmp"), "cwd_link", "%s", buf);
        if (chdir("/"))
            ut_note("chdir / failed");
    }
    unsigned char r1[16], r2[16];
    fd = open("/dev/urandom", O_RDONLY);
    ut_check(fd >= 0 && read(fd, r1, 16) == 16 && read(fd, r2, 16) == 16 && memcmp(r1, r2, 16),
             "dev_urandom_reads", "fd %d", fd);
    close(fd);
}

/* ---- the directories -------------------------------------------------------------------- */

static void t_listings(void)
{
    char name[16];
    snprintf(name, sizeof name, "%d", (int)getpid());
    ut_check(dir_has("/proc", name), "proc_lists_our_pid", "no %s", name);
    static const char *const top[] = { "self", "meminfo", "stat", "uptime", "loadavg",
                                       "cpuinfo", "version", "filesystems", "cmdline",
                                       "mounts", "buddyinfo", "zoneinfo", "slabinfo",
                                       "vmallocinfo" };
    const char *miss = NULL;
    for (unsigned i = 0; i < sizeof top / sizeof top[0]; i++)
        if (!dir_has("/proc", top[i]))
            miss = top[i];
    ut_check(!miss, "proc_lists_its_files", "no %s", miss ? miss : "");
    static const char *const mine[] = { "stat", "status", "statm", "cmdline", "comm", "environ",
                                        "maps", "fd", "cwd", "exe" };
    miss = NULL;
    for (unsigned i = 0; i < sizeof mine / sizeof mine[0]; i++)
        if (!dir_has("/proc/self", mine[i]))
            miss = mine[i];
    ut_check(!miss, "proc_self_lists_its_files", "no %s", miss ? miss : "");
    ut_check_errno("no_such_pid_enoent", open("/proc/999999999/stat", O_RDONLY), ENOENT);
}

/* ---- the machine's files ------------------------------------------------------------------ */

static void t_system(void)
{
    static char buf[65536];
    unsigned long a, b, c, d;
    char x;
    slurp("/proc/uptime", buf, sizeof buf);
    ut_check(sscanf(buf, "%lu.%2lu %lu.%2lu%c", &a, &b, &c, &d, &x) == 5 && x == '\n',
             "uptime_format", "%s", buf);
    double up = (double)a + (double)b / 100;
    slurp("/proc/loadavg", buf, sizeof buf);
    unsigned long l[6];
    int running, total, last;
    int k = sscanf(buf, "%lu.%2lu %lu.%2lu %lu.%2lu %d/%d %d", &l[0], &l[1], &l[2], &l[3], &l[4],
                   &l[5], &running, &total, &last);
    ut_check(k == 9 && running >= 1 && total >= running && last > 0, "loadavg_format", "%s", buf);
    slurp("/proc/stat", buf, sizeof buf);
    unsigned long long cpu[4];
    ut_check(sscanf(buf, "cpu  %llu %llu %llu %llu", &cpu[0], &cpu[1], &cpu[2], &cpu[3]) == 4,
             "stat_cpu_line", "%.40s", buf);
    const char *bt = strstr(buf, "\nbtime "), *pr = strstr(buf, "\nprocesses ");
    const char *rn = strstr(buf, "\nprocs_running "), *bl = strstr(buf, "\nprocs_blocked ");
    ut_check(bt && pr && rn && bl && atoi(rn + 15) >= 1, "stat_has_btime_processes_procs",
             "lines missing");
    long long btime = bt ? atoll(bt + 7) : 0;
    long long now = (long long)time(NULL);
    ut_check(llabs(btime + (long long)up - now) <= 2, "btime_plus_uptime_is_now",
             "btime %lld uptime %.2f now %lld", btime, up, now);
    slurp("/proc/cpuinfo", buf, sizeof buf);
    ut_check(!strncmp(buf, "processor\t: 0\n", 14) && strstr(buf, "\nvendor_id\t: ") &&
                 strstr(buf, "\nmodel name\t: ") && strstr(buf, "\nflags\t\t: fpu "),
             "cpuinfo_format", "%.60s", buf);
    char *flags = strstr(buf, "\nflags\t\t: ");
    if (flags)
        *strchr(flags + 1, '\n') = 0;
    ut_check(flags && strstr(flags, " lm") && strstr(flags, " sse2"), "cpuinfo_flags_64bit",
             "flags");
    slurp("/proc/version", buf, sizeof buf);
    ut_check(!strncmp(buf, "Linux version ", 14), "version_format", "%.40s", buf);
    slurp("/proc/filesystems", buf, sizeof buf);
    ut_check(strstr(buf, "nodev\tproc\n") && strstr(buf, "nodev\ttmpfs\n"), "filesystems_lists",
             "%s", buf);
    long n = slurp("/proc/cmdline", buf, sizeof buf);
    ut_check(n > 1 && buf[n - 1] == '\n' && strchr(buf, '\n') == buf + n - 1, "cmdline_one_line",
             "%ld bytes", n);
    ut_check(slurp("/proc/mounts", buf, sizeof buf) > 0 && strstr(buf, " /proc proc "),
             "mounts_has_proc", "%s", buf);
}

int main(int argc, char **argv)
{
    args = argv;
    nargs = argc;
    ut_init();
    t_self_stat();
    t_self_status();
    t_status_signals();
    t_vm_figures();
    t_cmdline_environ();
    t_child();
    t_links();
    t_listings();
    t_system();
    return ut_done();
}
