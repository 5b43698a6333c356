/*
 * Host tests of /proc's own files (kernel/fs/procfs.c, proc_pid.c,
 * proc_fd.c, proc_sys.c, proc_kstat.c; docs/proc.md) over the real VFS
 * and the host stand-ins of the file-system tests (tests/host/fs_host.c,
 * file_host.c, proc_host.c: one task, pid 1, whose address space is a
 * token only mm_maps sees, so the memory lines are left to test_proc on
 * mmk).  What is tested: the tree and its listings, the links and the
 * names of open files, a directory held open past its process, the
 * formats of the machine's files, the load average's arithmetic, the
 * random devices, and running out of memory anywhere.  Each case ends
 * with fs_host_teardown's leak check.
 */
#include <stdio.h>
#include <stdlib.h>

#include "htest.h"
#include "file_host.h"
#include "fs_host.h"
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/kstat.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/vfs.h>

static void setup(void)
{
    fs_host_ar_begin();
    fs_host_ar_entry("bin", 10, S_IFDIR | 0755, NULL);
    fs_host_ar_entry("bin/init", 11, S_IFREG | 0755, "\177ELF");
    fs_host_ar_entry("etc/motd", 12, S_IFREG | 0644, "hello\n");
    fs_host_ar_end();
    fs_host_setup();
}

static void teardown(void)
{
    const char *leak = fs_host_teardown();
    HT_ASSERT(!leak, "leak: %s", leak);
}

static long open_path(const char *path, unsigned flags)
{
    return SYS(sys_open, U(path), flags, 0644);
}

/* The whole text of a file: its length, or the error. */
static long slurp(const char *path, char *buf, size_t size)
{
    long fd = open_path(path, O_RDONLY);
    if (fd < 0)
        return fd;
    size_t n = 0;
    for (long k; (k = SYS(sys_read, fd, U(buf + n), size - 1 - n)) > 0;)
        n += (size_t)k;
    SYS(sys_close, fd);
    buf[n] = 0;
    return (long)n;
}

static long link_of(const char *path, char *buf, size_t size)
{
    long n = SYS(sys_readlink, U(path), U(buf), size - 1);
    buf[n > 0 ? n : 0] = 0;
    return n;
}

/* Does the directory list name (getdents64)? */
static bool lists(const char *dir, const char *name)
{
    static uint8_t buf[8192];
    long fd = open_path(dir, O_RDONLY | O_DIRECTORY);
    bool found = false;
    for (long n; fd >= 0 && (n = SYS(sys_getdents64, fd, U(buf), sizeof(buf))) > 0;) {
        for (long at = 0; at < n;) {
            uint16_t reclen;
            memcpy(&reclen, buf + at + 16, 2);
            found |= !strcmp((const char *)buf + at + 19, name);
            at += reclen;
        }
    }
    if (fd >= 0)
        SYS(sys_close, fd);
    return found;
}

/* ---- the tree ------------------------------------------------------------------------ */

static void t_tree(void)
{
    setup();
    static const char *const top[] = { "self", "meminfo", "uptime", "loadavg", "stat",
                                       "cpuinfo", "version", "filesystems", "cmdline",
                                       "mounts", "1" };
    for (size_t i = 0; i < HT_COUNT(top); i++)
        HT_ASSERT(lists("/proc", top[i]), "/proc lists %s", top[i]);
    HT_ASSERT(!lists("/proc", "2"), "/proc lists pid 2");
    static const char *const mine[] = { "fd", "environ", "status", "comm", "cmdline", "stat",
                                        "statm", "maps", "cwd", "exe", "pagetable32" };
    for (size_t i = 0; i < HT_COUNT(mine); i++)
        HT_ASSERT(lists("/proc/1", mine[i]), "/proc/1 lists %s", mine[i]);
    HT_EQ_U(open_path("/proc/2", O_RDONLY), -ENOENT);
    HT_EQ_U(open_path("/proc/01", O_RDONLY), -ENOENT);         /* no leading zero */
    HT_EQ_U(open_path("/proc/+1", O_RDONLY), -ENOENT);
    HT_EQ_U(open_path("/proc/1/nothing", O_RDONLY), -ENOENT);
    HT_EQ_U(open_path("/proc/1/stat", O_WRONLY), -EROFS);
    struct linux_stat st;
    HT_EQ_U(SYS(sys_lstat, U("/proc/1/fd"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFDIR | 0500);
    HT_EQ_U(SYS(sys_lstat, U("/proc/1/environ"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFREG | 0400);
    HT_EQ_U(SYS(sys_lstat, U("/proc/self/exe"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFLNK | 0777);
    char buf[256];
    HT_EQ_U(link_of("/proc/self", buf, sizeof(buf)), 1);
    HT_EQ_STR(buf, "1");
    /* "..": from fd/ to the pid's directory, across the mount to /. */
    HT_EQ_U(SYS(sys_chdir, U("/proc/self/fd")), 0);
    HT_EQ_U(link_of("/proc/1/cwd", buf, sizeof(buf)), 10);
    HT_EQ_STR(buf, "/proc/1/fd");
    HT_EQ_U(SYS(sys_chdir, U("../../..")), 0);
    HT_EQ_U(link_of("/proc/1/cwd", buf, sizeof(buf)), 1);
    HT_EQ_STR(buf, "/");
    teardown();
}

/* ---- links and the names of open files --------------------------------------------------- */

static void t_fd_links(void)
{
    setup();
    char buf[256], path[64];
    HT_EQ_U(link_of("/proc/1/fd/0", buf, sizeof(buf)), 12);
    HT_EQ_STR(buf, "/dev/console");                  /* files_create_std's console */
    int p[2];
    HT_EQ_U(SYS(sys_pipe2, U(p), 0), 0);
    struct linux_stat st;
    HT_EQ_U(SYS(sys_fstat, p[0], U(&st)), 0);
    char want[64];
    snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)st.st_ino);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
    HT_ASSERT(link_of(path, buf, sizeof(buf)) > 0 && !strcmp(buf, want), "%s: %s", path, buf);
    HT_EQ_U(SYS(sys_lstat, U(path), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFLNK | 0300);             /* a write end: -wx */
    long f = open_path("/etc/motd", O_RDONLY);
    snprintf(path, sizeof(path), "/proc/1/fd/%ld", f);
    link_of(path, buf, sizeof(buf));
    HT_EQ_STR(buf, "/etc/motd");
    HT_EQ_U(SYS(sys_lstat, U(path), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFLNK | 0500);
    long d = open_path("/bin", O_RDONLY | O_DIRECTORY);
    snprintf(path, sizeof(path), "/proc/1/fd/%ld", d);
    link_of(path, buf, sizeof(buf));
    HT_EQ_STR(buf, "/bin");
    long n = open_path("/dev/null", O_RDWR);
    snprintf(path, sizeof(path), "/proc/1/fd/%ld", n);
    link_of(path, buf, sizeof(buf));
    HT_EQ_STR(buf, "/dev/null");
    HT_EQ_U(SYS(sys_lstat, U(path), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFLNK | 0700);
    long pf = open_path("/proc/meminfo", O_RDONLY);
    snprintf(path, sizeof(path), "/proc/1/fd/%ld", pf);
    link_of(path, buf, sizeof(buf));
    HT_EQ_STR(buf, "/proc/meminfo");
    current->mm = NULL;                   /* (the tests' mm is a token: nothing to walk) */
    long ps = open_path("/proc/self/status", O_RDONLY);
    snprintf(path, sizeof(path), "/proc/1/fd/%ld", ps);
    link_of(path, buf, sizeof(buf));
    HT_EQ_STR(buf, "/proc/1/status");
    /* A path that was followed by a link: the link's target is named. */
    long t = open_path("/tmp/x", O_RDWR | O_CREAT);
    HT_EQ_U(SYS(sys_fstat, t, U(&st)), 0);
    snprintf(path, sizeof(path), "/proc/1/fd/%ld", t);
    link_of(path, buf, sizeof(buf));
    HT_EQ_STR(buf, "/tmp/x");
    HT_EQ_U(SYS(sys_unlink, U("/tmp/x")), 0);
    snprintf(want, sizeof(want), "/#%lu (deleted)", (unsigned long)st.st_ino);
    link_of(path, buf, sizeof(buf));
    HT_EQ_STR(buf, want);
    /* Following a link that names a path works: /dev/fd/<n>. */
    snprintf(path, sizeof(path), "/dev/fd/%ld", f);
    long again = open_path(path, O_RDONLY);
    HT_ASSERT(again >= 0, "open %s: %ld", path, again);
    char text[16];
    HT_EQ_U(SYS(sys_read, again, U(text), sizeof(text)), 6);
    HT_ASSERT(!memcmp(text, "hello\n", 6), "read through /dev/fd");
    /* /dev/stdout names fd 1, which is the console here. */
    HT_EQ_U(link_of("/dev/stdout", buf, sizeof(buf)), 15);
    HT_EQ_STR(buf, "/proc/self/fd/1");
    HT_EQ_U(link_of("/proc/1/fd/63", buf, sizeof(buf)), -ENOENT);
    HT_EQ_U(link_of("/proc/1/fd/64", buf, sizeof(buf)), -ENOENT);
    HT_EQ_U(link_of("/proc/1/fd/x", buf, sizeof(buf)), -ENOENT);
    HT_ASSERT(lists("/proc/1/fd", "0") && !lists("/proc/1/fd", "30"), "fd listing");
    /* No program recorded: the link is empty, which reads as -ENOENT. */
    HT_EQ_U(link_of("/proc/1/exe", buf, sizeof(buf)), -ENOENT);
    teardown();
}

/* A directory held open past its process: -ESRCH inside, -ENOENT by path. */
static void t_dead_process(void)
{
    setup();
    long dfd = open_path("/proc/1", O_RDONLY | O_DIRECTORY);
    long sfd = SYS(sys_openat, dfd, U("fd"), O_RDONLY | O_DIRECTORY, 0);
    HT_ASSERT(dfd >= 0 && sfd >= 0, "open: %ld %ld", dfd, sfd);
    current->pid = 7;                     /* pid 1 is gone; the caller is pid 7 */
    HT_EQ_U(SYS(sys_openat, dfd, U("stat"), O_RDONLY, 0), -ESRCH);
    HT_EQ_U(SYS(sys_openat, dfd, U("nothing"), O_RDONLY, 0), -ESRCH);
    HT_EQ_U(SYS(sys_openat, sfd, U("0"), O_RDONLY, 0), -ESRCH);
    HT_EQ_U(open_path("/proc/1/stat", O_RDONLY), -ENOENT);
    char buf[16];
    HT_EQ_U(link_of("/proc/self", buf, sizeof(buf)), 1);
    HT_EQ_STR(buf, "7");
    HT_ASSERT(lists("/proc", "7") && !lists("/proc", "1"), "listing after the change");
    current->pid = 1;
    teardown();
}

/* ---- the files' texts ---------------------------------------------------------------------- */

static void t_task_files(void)
{
    setup();
    static char buf[8192];
    strcpy(current->name, "a-name-longer-than-fifteen");
    current->mm = NULL;                   /* a task without an address space: no Vm lines */
    HT_ASSERT(slurp("/proc/self/comm", buf, sizeof(buf)) == 16, "comm: %s", buf);
    HT_EQ_STR(buf, "a-name-longer-t\n");
    HT_ASSERT(slurp("/proc/1/stat", buf, sizeof(buf)) > 0, "stat");
    HT_ASSERT(!strncmp(buf, "1 (a-name-longer-t) R 0 0 0 0 -1 ", 33), "stat: %s", buf);
    int fields = 0;
    for (char *p = strrchr(buf, ')') + 1; *p; p++)
        fields += p[0] == ' ';
    HT_EQ_U(fields + 2, 52);
    HT_ASSERT(buf[strlen(buf) - 1] == '\n', "stat ends its line");
    HT_ASSERT(slurp("/proc/1/status", buf, sizeof(buf)) > 0, "status");
    HT_ASSERT(strstr(buf, "Name:\ta-name-longer-t\n") && strstr(buf, "\nState:\tR (running)\n") &&
                  strstr(buf, "\nPid:\t1\n") && strstr(buf, "\nPPid:\t0\n") &&
                  strstr(buf, "\nUid:\t0\t0\t0\t0\n") && strstr(buf, "\nThreads:\t1\n") &&
                  strstr(buf, "\nSigBlk:\t0000000000000000\n") && !strstr(buf, "VmSize"),
              "status: %s", buf);
    HT_ASSERT(slurp("/proc/1/statm", buf, sizeof(buf)) > 0, "statm");
    HT_EQ_STR(buf, "0 0 0 0 0 0 0\n");
    HT_EQ_U(slurp("/proc/1/cmdline", buf, sizeof(buf)), 0);
    HT_EQ_U(slurp("/proc/1/maps", buf, sizeof(buf)), 0);
    teardown();
}

static void t_system_files(void)
{
    setup();
    static char buf[65536];
    fs_host_clock_ns = 12340000000ul;
    HT_ASSERT(slurp("/proc/uptime", buf, sizeof(buf)) > 0, "uptime");
    HT_ASSERT(!strncmp(buf, "12.34 ", 6), "uptime: %s", buf);
    HT_ASSERT(slurp("/proc/cpuinfo", buf, sizeof(buf)) > 0, "cpuinfo");
    HT_ASSERT(!strncmp(buf, "processor\t: 0\nvendor_id\t: ", 26) && strstr(buf, "\nflags\t\t: fpu") &&
                  strstr(buf, "\ncpu MHz\t\t: 1000.000\n") && !strcmp(buf + strlen(buf) - 19,
                                                                   "power management:\n\n"),
              "cpuinfo: %s", buf);
    HT_ASSERT(slurp("/proc/version", buf, sizeof(buf)) > 0, "version");
    HT_ASSERT(!strncmp(buf, "Linux version 6.1.0-mmk ", 24), "version: %s", buf);
    slurp("/proc/filesystems", buf, sizeof(buf));
    HT_EQ_STR(buf, "nodev\ttmpfs\nnodev\tproc\n");
    slurp("/proc/cmdline", buf, sizeof(buf));
    HT_EQ_STR(buf, "\n");                    /* the tests' boot_info has no command line */
    slurp("/proc/mounts", buf, sizeof(buf));
    HT_ASSERT(!strncmp(buf, "tmpfs / tmpfs rw,size=", 22) &&
                  strstr(buf, "\nproc /proc proc ro,nosuid,nodev,noexec 0 0\n"),
              "mounts: %s", buf);
    teardown();
}

/* Linux's averages, from its constants: 12 samples (a minute) of one
 * runnable task take the 1-minute figure from 0 to 1 - 1/e. */
static void t_loadavg(void)
{
    unsigned long l1 = 0, l5 = 0, l15 = 0;
    for (int i = 0; i < 12; i++) {
        l1 = calc_load(l1, EXP_1, FIXED_1);
        l5 = calc_load(l5, EXP_5, FIXED_1);
        l15 = calc_load(l15, EXP_15, FIXED_1);
    }
    HT_ASSERT(l1 * 100 / FIXED_1 == 63, "1 minute: %lu/2048", l1);
    HT_ASSERT(l5 * 100 / FIXED_1 == 18, "5 minutes: %lu/2048", l5);
    HT_ASSERT(l15 * 100 / FIXED_1 == 6, "15 minutes: %lu/2048", l15);
    for (int i = 0; i < 1000; i++)
        l1 = calc_load(l1, EXP_1, FIXED_1);
    HT_EQ_U(l1, FIXED_1);                     /* a steady load reaches 1.00 exactly */
    for (int i = 0; i < 1000; i++)
        l1 = calc_load(l1, EXP_1, 0);
    HT_EQ_U(l1, 0);                           /* and decays back to 0 */
    /* The ticks: one sample per LOAD_FREQ ticks, with the one task runnable. */
    setup();
    struct kstat_cpu c0, c1;
    kstat_cpu_get(&c0);
    for (int i = 0; i < LOAD_FREQ; i++)
        kstat_tick(i % 2 == 0, i % 5 == 0);
    kstat_cpu_get(&c1);
    HT_EQ_U((c1.user - c0.user) + (c1.system - c0.system) + (c1.idle - c0.idle), LOAD_FREQ);
    HT_EQ_U(c1.idle - c0.idle, (LOAD_FREQ + 4) / 5);
    static char buf[512];
    slurp("/proc/loadavg", buf, sizeof(buf));
    HT_EQ_STR(buf, "0.08 0.02 0.01 1/1 1\n");
    slurp("/proc/stat", buf, sizeof(buf));
    char want[128];
    snprintf(want, sizeof(want), "cpu  %lu 0 %lu %lu 0 0 0 0 0 0\n", (unsigned long)c1.user,
             (unsigned long)c1.system, (unsigned long)c1.idle);
    HT_ASSERT(!strncmp(buf, want, strlen(want)), "stat: %s", buf);
    HT_ASSERT(strstr(buf, "\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n"), "stat: %s", buf);
    teardown();
}

static void t_random_devices(void)
{
    setup();
    uint8_t a[300], b[300];
    long fd = open_path("/dev/urandom", O_RDONLY);
    HT_EQ_U(SYS(sys_read, fd, U(a), sizeof(a)), sizeof(a));
    HT_EQ_U(SYS(sys_read, fd, U(b), sizeof(b)), sizeof(b));
    HT_ASSERT(memcmp(a, b, sizeof(a)), "two reads gave the same bytes");
    HT_EQ_U(SYS(sys_write, fd, U(a), 10), -EBADF);   /* opened for reading */
    HT_EQ_U(SYS(sys_read, fd, U(a), 0), 0);
    long r = open_path("/dev/random", O_RDWR);
    HT_EQ_U(SYS(sys_write, r, U(a), 10), 10);        /* taken and dropped */
    fh_uhi = U(a) + 100;
    HT_EQ_U(SYS(sys_read, r, U(a), sizeof(a)), -EFAULT);   /* the range check */
    fh_uhi = FH_USER_END;
    struct linux_stat st;
    HT_EQ_U(SYS(sys_fstat, r, U(&st)), 0);
    HT_EQ_U(st.st_rdev, LINUX_MKDEV(1, 8));
    teardown();
}

/* Out of memory at every allocation of an open or a link: an error, no leak. */
static void t_out_of_memory(void)
{
    setup();
    static const char *const paths[] = { "/proc/1/status", "/proc/self/stat", "/proc/cpuinfo",
                                         "/proc/1/fd/0", "/dev/stdin", "/proc/1/cwd" };
    char buf[256];
    current->mm = NULL;
    for (size_t i = 0; i < HT_COUNT(paths); i++) {
        for (int k = 0; k < 8; k++) {
            fh_kmalloc_fail_in = k;
            long r = i >= 3 ? link_of(paths[i], buf, sizeof(buf)) : open_path(paths[i], O_RDONLY);
            fh_kmalloc_fail_in = -1;
            HT_ASSERT(r == -ENOMEM || r >= 0, "%s, failure after %d allocations: %ld", paths[i],
                      k, r);
            if (r >= 0 && i < 3)
                SYS(sys_close, r);
        }
    }
    teardown();
}

static const struct htest cases[] = {
    HT_CASE(tree),          HT_CASE(fd_links),        HT_CASE(dead_process),
    HT_CASE(task_files),    HT_CASE(system_files),    HT_CASE(loadavg),
    HT_CASE(random_devices), HT_CASE(out_of_memory),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
