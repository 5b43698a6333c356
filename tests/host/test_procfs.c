/*
 * Host tests of /proc's own files (kernel/fs/procfs.c, proc_pid.c,
 * proc_fd.c, proc_sys.c, proc_kstat.c; docs/proc.md) over the real VFS
 * and the host stand-ins of the file-system tests (tests/host/fs_host.c,
 * file_host.c, proc_host.c: one task, pid 1, whose address space is a
 * token only mm_maps sees, so the memory lines are left to test_proc on
 * mmk).  What is tested: the tree and its listings, the links and the
 * names of open files, a directory held open past its process, the
 * formats of the machine's files, the load average's arithmetic, the
 * random devices, /proc/vmstat, the sysctl files of /proc/sys/vm (read,
 * written, refused) over stand-ins of the memory calls, the record files'
 * offsets, counts and end (pagemap, kpagecount, kpageflags, over made-up
 * records: their contents are tested on mmk by test_pagemap), and running
 * out of memory anywhere.  Each case ends with fs_host_teardown's leak
 * check.
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
#include <mm/compaction.h>
#include <mm/gfp.h>
#include <mm/page.h>
#include <mm/vm_event.h>
#include <mm/vmscan.h>
#include "../../kernel/fs/proc_impl.h"

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
                                       "mounts", "vmstat", "sys", "kpagecount", "kpageflags",
                                       "1" };
    for (size_t i = 0; i < HT_COUNT(top); i++)
        HT_ASSERT(lists("/proc", top[i]), "/proc lists %s", top[i]);
    HT_ASSERT(!lists("/proc", "2"), "/proc lists pid 2");
    static const char *const mine[] = { "fd", "environ", "status", "comm", "cmdline", "stat",
                                        "statm", "maps", "cwd", "exe", "pagemap",
                                        "pagetable32" };
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
    current->pid = current->tgid = 7;     /* pid 1 is gone; the caller is pid 7 */
    HT_EQ_U(SYS(sys_openat, dfd, U("stat"), O_RDONLY, 0), -ESRCH);
    HT_EQ_U(SYS(sys_openat, dfd, U("nothing"), O_RDONLY, 0), -ESRCH);
    HT_EQ_U(SYS(sys_openat, sfd, U("0"), O_RDONLY, 0), -ESRCH);
    HT_EQ_U(open_path("/proc/1/stat", O_RDONLY), -ENOENT);
    char buf[16];
    HT_EQ_U(link_of("/proc/self", buf, sizeof(buf)), 1);
    HT_EQ_STR(buf, "7");
    HT_ASSERT(lists("/proc", "7") && !lists("/proc", "1"), "listing after the change");
    current->pid = current->tgid = 1;
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
    HT_EQ_STR(buf, "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\n");
    slurp("/proc/cmdline", buf, sizeof(buf));
    HT_EQ_STR(buf, "\n");                    /* the tests' boot_info has no command line */
    slurp("/proc/mounts", buf, sizeof(buf));
    HT_ASSERT(!strncmp(buf, "tmpfs / tmpfs rw,size=", 22) &&
                  strstr(buf, "\nproc /proc proc ro,nosuid,nodev,noexec 0 0\n") &&
                  strstr(buf, "\nsysfs /sys sysfs ro,nosuid,nodev,noexec 0 0\n"),
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

/* ---- /proc/vmstat, /proc/sys/vm, the record files ---------------------------------------- */

static void t_vmstat(void)
{
    setup();
    static char buf[4096];
    HT_ASSERT(slurp("/proc/vmstat", buf, sizeof(buf)) > 0, "vmstat");
    char want[64];
    snprintf(want, sizeof(want), "nr_free_pages %lu\nnr_mapped 0\n",
             (unsigned long)fs_host_free_pages());
    HT_ASSERT(!strncmp(buf, want, strlen(want)), "vmstat: %s", buf);
    HT_ASSERT(strstr(buf, "\nnr_mapped 0\nnr_file_pages 0\nnr_shmem 0\n"), "vmstat: %s", buf);
    HT_ASSERT(!strstr(buf, "nr_anon_pages"), "vmstat counts no anonymous pages: %s", buf);
    /* The events follow, each once, in the header's order. */
    const char *at = buf;
    for (int i = 0; i < NR_VM_EVENT_ITEMS; i++) {
        snprintf(want, sizeof(want), "\n%s %lu\n", vm_event_names[i], (unsigned long)vm_events[i]);
        const char *found = strstr(at, want);
        HT_ASSERT(found, "vmstat lacks %s after the previous event: %s", want + 1, buf);
        at = found + 1;
    }
    teardown();
}

/* Write text to an open file: the write's result. */
static long put(long fd, const char *text)
{
    return SYS(sys_write, fd, U(text), strlen(text));
}

static long reread(long fd, char *buf, size_t size)
{
    SYS(sys_lseek, fd, 0, SEEK_SET);
    long n = SYS(sys_read, fd, U(buf), size - 1);
    buf[n > 0 ? n : 0] = 0;
    return n;
}

static void t_sysctl_tree(void)
{
    setup();
    HT_ASSERT(lists("/proc/sys", "vm"), "/proc/sys lists vm");
    static const char *const vm[] = { "compact_memory", "evacuate_zone", "max_map_count",
                                      "memview", "mmap_min_addr", "overcommit_memory",
                                      "page-cluster", "user_zone" };
    for (size_t i = 0; i < HT_COUNT(vm); i++)
        HT_ASSERT(lists("/proc/sys/vm", vm[i]), "/proc/sys/vm lists %s", vm[i]);
    HT_EQ_U(open_path("/proc/sys/vm/nothing", O_RDONLY), -ENOENT);
    HT_EQ_U(open_path("/proc/sys/kernel", O_RDONLY), -ENOENT);
    struct linux_stat st;
    HT_EQ_U(SYS(sys_lstat, U("/proc/sys/vm"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFDIR | 0555);
    HT_EQ_U(SYS(sys_lstat, U("/proc/sys/vm/compact_memory"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFREG | 0200);
    HT_EQ_U(SYS(sys_lstat, U("/proc/sys/vm/user_zone"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFREG | 0644);
    HT_EQ_U(SYS(sys_lstat, U("/proc/sys/vm/max_map_count"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFREG | 0444);
    /* The rights of the mode, for root too; the rest of /proc stays read-only. */
    HT_EQ_U(open_path("/proc/sys/vm/compact_memory", O_RDONLY), -EACCES);
    HT_EQ_U(open_path("/proc/sys/vm/compact_memory", O_RDWR), -EACCES);
    HT_EQ_U(open_path("/proc/sys/vm/max_map_count", O_WRONLY), -EACCES);
    HT_EQ_U(SYS(sys_access, U("/proc/sys/vm/max_map_count"), 2), -EACCES);
    HT_EQ_U(SYS(sys_access, U("/proc/sys/vm/user_zone"), 6), 0);
    HT_EQ_U(SYS(sys_access, U("/proc/sys/vm/user_zone"), 1), -EACCES);
    HT_EQ_U(open_path("/proc/meminfo", O_WRONLY), -EROFS);
    HT_EQ_U(SYS(sys_open, U("/proc/sys/vm/new"), O_RDWR | O_CREAT, 0644), -EROFS);
    HT_EQ_U(SYS(sys_mkdir, U("/proc/sys/vm/d"), 0755), -EROFS);
    /* Names: a descriptor's link, the working directory, "..". */
    char buf[256], path[64];
    long fd = open_path("/proc/sys/vm/user_zone", O_RDONLY);
    snprintf(path, sizeof(path), "/proc/1/fd/%ld", fd);
    link_of(path, buf, sizeof(buf));
    HT_EQ_STR(buf, "/proc/sys/vm/user_zone");
    HT_EQ_U(SYS(sys_chdir, U("/proc/sys/vm")), 0);
    link_of("/proc/1/cwd", buf, sizeof(buf));
    HT_EQ_STR(buf, "/proc/sys/vm");
    HT_EQ_U(SYS(sys_chdir, U("../..")), 0);
    link_of("/proc/1/cwd", buf, sizeof(buf));
    HT_EQ_STR(buf, "/proc");
    HT_EQ_U(SYS(sys_chdir, U("/")), 0);
    teardown();
}

static void t_sysctl_values(void)
{
    setup();
    char buf[256];
    slurp("/proc/sys/vm/max_map_count", buf, sizeof(buf));
    HT_EQ_STR(buf, "65530\n");
    slurp("/proc/sys/vm/mmap_min_addr", buf, sizeof(buf));
    HT_EQ_STR(buf, "65536\n");
    slurp("/proc/sys/vm/overcommit_memory", buf, sizeof(buf));
    HT_EQ_STR(buf, "0\n");

    /* compact_memory: "1", with or without white space, and nothing else. */
    long fd = open_path("/proc/sys/vm/compact_memory", O_WRONLY | O_TRUNC);
    HT_ASSERT(fd >= 0, "open compact_memory: %ld", fd);
    int calls = proc_host_compactions;
    HT_EQ_U(put(fd, "1"), 1);
    HT_EQ_U(put(fd, "1\n"), 2);
    HT_EQ_U(put(fd, " 1 \n"), 4);
    HT_EQ_U(proc_host_compactions, calls + 3);
    HT_EQ_U(put(fd, "2"), -EINVAL);
    HT_EQ_U(put(fd, "11"), -EINVAL);
    HT_EQ_U(put(fd, "1x"), -EINVAL);
    HT_EQ_U(put(fd, "\n"), -EINVAL);
    HT_EQ_U(put(fd, ""), 0);
    char big[PROC_SYSCTL_MAX + 1];        /* longer than any value */
    memset(big, ' ', sizeof(big));
    big[0] = '1';
    HT_EQ_U(SYS(sys_write, fd, U(big), sizeof(big)), -EINVAL);
    HT_EQ_U(proc_host_compactions, calls + 3);
    HT_EQ_U(SYS(sys_read, fd, U(buf), 8), -EBADF);
    fh_uhi = fh_ulo;                       /* no user memory at all */
    HT_EQ_U(put(fd, "1"), -EFAULT);
    fh_uhi = FH_USER_END;

    /* user_zone: a read after a write sees the new value. */
    fd = open_path("/proc/sys/vm/user_zone", O_RDWR);
    HT_EQ_U(reread(fd, buf, sizeof(buf)), 7);
    HT_EQ_STR(buf, "Normal\n");
    HT_EQ_U(put(fd, "DMA\n"), 4);
    HT_EQ_U(mm_user_zone, __GFP_DMA);
    reread(fd, buf, sizeof(buf));
    HT_EQ_STR(buf, "DMA\n");
    HT_EQ_U(put(fd, "DMA32"), 5);
    HT_EQ_U(mm_user_zone, __GFP_DMA32);
    HT_EQ_U(put(fd, "HighMem"), -EINVAL);
    HT_EQ_U(put(fd, "dma"), -EINVAL);
    HT_EQ_U(mm_user_zone, __GFP_DMA32);
    HT_EQ_U(put(fd, "Normal"), 6);
    HT_EQ_U(mm_user_zone, 0);
    /* Reading in pieces, and past the end. */
    SYS(sys_lseek, fd, 0, SEEK_SET);
    HT_EQ_U(SYS(sys_read, fd, U(buf), 3), 3);
    HT_EQ_U(SYS(sys_read, fd, U(buf + 3), 100), 4);
    HT_EQ_U(SYS(sys_read, fd, U(buf), 100), 0);
    HT_EQ_U(SYS(sys_lseek, fd, 0, SEEK_END), -EINVAL);

    /* page-cluster: 0..5, Linux's 3 at first. */
    fd = open_path("/proc/sys/vm/page-cluster", O_RDWR);
    reread(fd, buf, sizeof(buf));
    HT_EQ_STR(buf, "3\n");
    HT_EQ_U(put(fd, "5\n"), 2);
    HT_EQ_U(page_cluster, 5);
    HT_EQ_U(put(fd, "0"), 1);
    HT_EQ_U(page_cluster, 0);
    HT_EQ_U(put(fd, "6"), -EINVAL);
    HT_EQ_U(put(fd, "-1"), -EINVAL);
    HT_EQ_U(put(fd, "3x"), -EINVAL);
    HT_EQ_U(put(fd, " 3 "), 3);
    reread(fd, buf, sizeof(buf));
    HT_EQ_STR(buf, "3\n");

    /* evacuate_zone: the last result, -ENOMEM when the zone was not obtained. */
    fd = open_path("/proc/sys/vm/evacuate_zone", O_RDWR);
    reread(fd, buf, sizeof(buf));
    HT_EQ_STR(buf, "none\n");
    HT_EQ_U(put(fd, "DMA32\n"), 6);
    reread(fd, buf, sizeof(buf));
    HT_EQ_STR(buf, "zone DMA32 frames 100 moved 3 pinned 0 unmovable 5 failed 0 obtained 95\n");
    HT_EQ_U(put(fd, "DMA"), -ENOMEM);
    reread(fd, buf, sizeof(buf));
    HT_EQ_STR(buf, "zone DMA frames 100 moved 10 pinned 1 unmovable 5 failed 0 obtained 94\n");
    HT_EQ_U(put(fd, "Normal"), -EINVAL);   /* evacuate_zone's own error */
    HT_EQ_U(put(fd, "Norm"), -EINVAL);

    /* memview: -ENODEV passes through. */
    fd = open_path("/proc/sys/vm/memview", O_RDWR);
    reread(fd, buf, sizeof(buf));
    HT_EQ_STR(buf, "0\n");
    HT_EQ_U(put(fd, "1"), -ENODEV);
    HT_EQ_U(put(fd, "on"), -EINVAL);
    teardown();
}

/* Read n bytes of records at off from an open record file. */
static long records_at(long fd, uint64_t *out, size_t n, uint64_t off)
{
    return SYS(sys_pread64, fd, U(out), n, off);
}

static void t_records(void)
{
    setup();
    static uint64_t rec[PROC_HOST_PAGES + 8];
    struct linux_stat st;
    HT_EQ_U(SYS(sys_lstat, U("/proc/self/pagemap"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFREG | 0400);
    HT_EQ_U(SYS(sys_lstat, U("/proc/kpagecount"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFREG | 0400);
    long fd = open_path("/proc/self/pagemap", O_RDONLY);
    HT_ASSERT(fd >= 0, "open pagemap: %ld", fd);
    /* Every record, in one read crossing the chunks of 512, and at offsets. */
    HT_EQ_U(records_at(fd, rec, sizeof(rec), 0), PROC_HOST_PAGES * 8);
    for (uint64_t i = 0; i < PROC_HOST_PAGES; i++)
        HT_ASSERT(rec[i] == PROC_HOST_RECORD(0, i), "record %lu: %lx", (unsigned long)i,
                  (unsigned long)rec[i]);
    HT_EQ_U(records_at(fd, rec, 16, 511 * 8), 16);
    HT_ASSERT(rec[0] == PROC_HOST_RECORD(0, 511) && rec[1] == PROC_HOST_RECORD(0, 512),
              "records 511, 512");
    HT_EQ_U(records_at(fd, rec, 24, (PROC_HOST_PAGES - 1) * 8), 8);   /* cut at the end */
    HT_EQ_U(records_at(fd, rec, 8, PROC_HOST_PAGES * 8), 0);
    HT_EQ_U(records_at(fd, rec, 8, 1ul << 62), 0);
    HT_EQ_U(records_at(fd, rec, 8, 4), -EINVAL);
    HT_EQ_U(records_at(fd, rec, 12, 0), -EINVAL);
    HT_EQ_U(records_at(fd, rec, 0, 0), 0);
    HT_EQ_U(records_at(fd, rec, 12, 1ul << 62), -EINVAL);   /* the offset test comes first */
    /* read moves the offset; lseek as Linux's mem_lseek (no SEEK_END). */
    HT_EQ_U(SYS(sys_lseek, fd, 16, SEEK_SET), 16);
    HT_EQ_U(SYS(sys_read, fd, U(rec), 8), 8);
    HT_ASSERT(rec[0] == PROC_HOST_RECORD(0, 2), "record 2");
    HT_EQ_U(SYS(sys_lseek, fd, 0, SEEK_CUR), 24);
    HT_EQ_U(SYS(sys_lseek, fd, 0, SEEK_END), -EINVAL);
    HT_EQ_U(SYS(sys_lseek, fd, 3, SEEK_SET), 3);
    HT_EQ_U(SYS(sys_read, fd, U(rec), 8), -EINVAL);
    HT_EQ_U(SYS(sys_write, fd, U(rec), 8), -EBADF);
    fh_uhi = U(rec) + 8;                   /* the second record would fall outside */
    HT_EQ_U(records_at(fd, rec, 16, 0), -EFAULT);
    fh_uhi = FH_USER_END;
    fh_kmalloc_fail_in = 0;
    HT_EQ_U(records_at(fd, rec, 8, 0), -ENOMEM);
    fh_kmalloc_fail_in = -1;
    /* No address space: an empty file, whatever the offset. */
    current->mm = NULL;
    HT_EQ_U(records_at(fd, rec, 8, 0), 0);
    HT_EQ_U(records_at(fd, rec, 3, 5), 0);
    HT_EQ_U(open_path("/proc/1/pagemap", O_WRONLY), -EROFS);

    /* The frame files: one record per frame, up to max_pfn. */
    uint64_t frames = node0->max_pfn;
    fd = open_path("/proc/kpageflags", O_RDONLY);
    HT_EQ_U(records_at(fd, rec, 16, (frames - 1) * 8), 8);
    HT_EQ_U(rec[0], PROC_HOST_RECORD(2, frames - 1));
    HT_EQ_U(records_at(fd, rec, 8, frames * 8), 0);
    fd = open_path("/proc/kpagecount", O_RDONLY);
    HT_EQ_U(records_at(fd, rec, 8, 8), 8);
    HT_EQ_U(rec[0], PROC_HOST_RECORD(1, 1));
    HT_EQ_U(records_at(fd, rec, 8, 7), -EINVAL);
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
    static const char *const more[] = { "/proc/sys/vm/user_zone", "/proc/self/pagemap",
                                        "/proc/kpageflags", "/proc/vmstat" };
    for (size_t i = 0; i < HT_COUNT(more); i++) {
        for (int k = 0; k < 8; k++) {
            fh_kmalloc_fail_in = k;
            long r = open_path(more[i], O_RDONLY);
            fh_kmalloc_fail_in = -1;
            HT_ASSERT(r == -ENOMEM || r >= 0, "%s, failure after %d allocations: %ld", more[i],
                      k, r);
            if (r >= 0)
                SYS(sys_close, r);
        }
    }
    teardown();
}

static const struct htest cases[] = {
    HT_CASE(tree),          HT_CASE(fd_links),        HT_CASE(dead_process),
    HT_CASE(task_files),    HT_CASE(system_files),    HT_CASE(loadavg),
    HT_CASE(random_devices), HT_CASE(vmstat),         HT_CASE(sysctl_tree),
    HT_CASE(sysctl_values), HT_CASE(records),         HT_CASE(out_of_memory),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
