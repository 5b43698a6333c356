/*
 * ut: the small test library of the user test programs; the contract is in
 * ut.h.  It uses nothing but musl and the system calls of the kernel's
 * list (docs/user-programs.md), and never malloc, so that test_brk can
 * move the break under it.
 */
#include "ut.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static int passed, failed;

void ut_init(void)
{
    static char buf[4096];
    setvbuf(stdout, buf, _IOLBF, sizeof buf);
    if (!ut_on_mmk()) {
        /* The host keeps no core files of the crashes we cause on purpose. */
        struct rlimit no = { 0, 0 };
        setrlimit(RLIMIT_CORE, &no);
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

int ut_check(int cond, const char *name, const char *reason_fmt, ...)
{
    if (cond) {
        passed++;
        printf("ok - %s\n", name);
        return 1;
    }
    failed++;
    printf("not ok - %s: ", name);
    va_list ap;
    va_start(ap, reason_fmt);
    vprintf(reason_fmt, ap);
    va_end(ap);
    printf("\n");
    return 0;
}

int ut_check_errno(const char *name, long ret, int want)
{
    int e = errno;
    if (ret == -1)
        return ut_check(e == want, name, "errno %s, want %s", ut_errno_name(e), ut_errno_name(want));
    return ut_check(0, name, "returned %ld, want -1 with %s", ret, ut_errno_name(want));
}

void ut_skip(const char *name, const char *why_fmt, ...)
{
    passed++;
    printf("ok - %s # SKIP ", name);
    va_list ap;
    va_start(ap, why_fmt);
    vprintf(why_fmt, ap);
    va_end(ap);
    printf("\n");
}

void ut_note(const char *fmt, ...)
{
    printf("# ");
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

int ut_done(void)
{
    printf("%d passed, %d failed\n", passed, failed);
    fflush(stdout);
    return failed ? 1 : 0;
}

int ut_on_mmk(void)
{
    static int known = -1;
    if (known < 0) {
        struct utsname u;
        known = uname(&u) == 0 && (strstr(u.sysname, "mmk") || strstr(u.release, "mmk") ||
                                   strstr(u.version, "mmk"));
    }
    return known;
}

/* Read a whole small /proc file into buf (NUL-terminated); length or -1. */
static long read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = 0;
    return (long)len;
}

long ut_meminfo(const char *field)
{
    static char buf[8192];
    if (read_file("/proc/meminfo", buf, sizeof buf) < 0)
        return -1;
    size_t flen = strlen(field);
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, field, flen) == 0 && line[flen] == ':')
            return strtol(line + flen + 1, NULL, 10);
    return -1;
}

long ut_proc_field(const char *path, const char *name)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t n = strlen(name);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, name, n) && (line[n] == ':' || line[n] == ' ')) {
            v = atol(line + n + 1);
            break;
        }
    fclose(f);
    return v;
}

long ut_swap_used(void)
{
    FILE *f = fopen("/proc/swaps", "r");
    if (!f)
        return -1;
    char line[256];
    long size, used = -1;
    if (fgets(line, sizeof line, f) && fgets(line, sizeof line, f))
        if (sscanf(line, "%*s %*s %ld %ld", &size, &used) != 2)
            used = -1;
    fclose(f);
    return used;
}

long ut_swap_unowned(void)
{
    long owned = ut_proc_field("/proc/meminfo", "SwapCached");
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
        long kb = ut_proc_field(path, "VmSwap");
        if (kb > 0)
            owned += kb;
    }
    if (d)
        closedir(d);
    return ut_swap_used() - owned;
}

/* The objects in callers' hands: on mmk, the per-CPU arrays are drained
 * and the empty slabs freed first (drop_caches, as on Linux), so that
 * objects cached by other CPUs, and the extra slabs (and off-slab
 * descriptors) they cost, do not count as a leak. */
long ut_slab_objects(void)
{
    static char buf[65536];
    if (ut_on_mmk()) {
        int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
        if (fd >= 0) {
            if (write(fd, "2", 1) != 1)
                ut_note("drop_caches: %s", strerror(errno));
            close(fd);
        }
    }
    if (read_file("/proc/slabinfo", buf, sizeof buf) <= 0)
        return -1;
    long total = 0;
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, "slabinfo", 8) == 0 || line[0] == '#')
            continue;
        char *p = line;
        while (*p && *p != ' ')     /* the cache name */
            p++;
        total += strtol(p, NULL, 10);
    }
    return total;
}

long ut_slab_pages(void)
{
    static char buf[65536];
    if (read_file("/proc/slabinfo", buf, sizeof buf) <= 0)
        return -1;
    long total = 0;
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        /* name active num objsize perslab pagesperslab : tunables l b s : slabdata act num sh */
        char name[64];
        long pages, slabs;
        if (sscanf(line, "%63s %*d %*d %*d %*d %ld : tunables %*d %*d %*d : slabdata %*d %ld",
                   name, &pages, &slabs) == 3)
            total += pages * slabs;
    }
    return total;
}

long ut_free_kb(void)
{
    long f = ut_meminfo("MemFree"), pages = ut_slab_pages();
    return f < 0 ? -1 : f + (pages > 0 ? pages * 4 : 0);
}

pid_t ut_fork(void)
{
    fflush(stdout);
    return fork();
}

int ut_wait(pid_t pid)
{
    int status;
    for (;;) {
        pid_t r = wait4(pid, &status, 0, NULL);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

int ut_run_child(int (*fn)(void *), void *arg)
{
    pid_t pid = ut_fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(fn(arg));
    return ut_wait(pid);
}

static const char *sig_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS:  return "SIGBUS";
    case SIGILL:  return "SIGILL";
    case SIGFPE:  return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGABRT: return "SIGABRT";
    case SIGTERM: return "SIGTERM";
    default:      return "?";
    }
}

const char *ut_status_str(int status, char *buf, size_t size)
{
    if (status == -1)
        snprintf(buf, size, "no status (fork or wait failed)");
    else if (WIFEXITED(status))
        snprintf(buf, size, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "signal %d (%s)", WTERMSIG(status), sig_name(WTERMSIG(status)));
    else
        snprintf(buf, size, "status 0x%x", status);
    return buf;
}

int ut_killed_by(int status, int sig)
{
    return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

int ut_exited_with(int status, int code)
{
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

const char *ut_errno_name(int e)
{
    static const struct { int e; const char *name; } names[] = {
        { 0, "0" }, { EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" },
        { EINTR, "EINTR" }, { EIO, "EIO" }, { E2BIG, "E2BIG" }, { ENOEXEC, "ENOEXEC" },
        { EBADF, "EBADF" }, { ECHILD, "ECHILD" }, { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
        { EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" }, { EEXIST, "EEXIST" },
        { ENODEV, "ENODEV" }, { ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" },
        { EINVAL, "EINVAL" }, { ENFILE, "ENFILE" }, { EMFILE, "EMFILE" }, { ENOTTY, "ENOTTY" },
        { EFBIG, "EFBIG" }, { ENOSPC, "ENOSPC" }, { ESPIPE, "ESPIPE" }, { EROFS, "EROFS" },
        { EPIPE, "EPIPE" }, { ERANGE, "ERANGE" }, { ENAMETOOLONG, "ENAMETOOLONG" },
        { ENOSYS, "ENOSYS" }, { EOVERFLOW, "EOVERFLOW" }, { ELIBBAD, "ELIBBAD" },
    };
    static char other[16];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].e == e)
            return names[i].name;
    snprintf(other, sizeof other, "E%d", e);
    return other;
}

int ut_read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int ut_write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
