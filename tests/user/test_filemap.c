/*
 * test_filemap: mmap of files over the page cache, compared with the
 * host's Linux line by line (docs/page-cache.md).
 *
 * In a fresh directory under /tmp (tmpfs on mmk), removed at the end:
 *  - MAP_SHARED: writes through the mapping are the file's (read() sees
 *    them at once, and the mapping sees write()s); a forked child and an
 *    unrelated process (this program exec'd again, mapping the file on
 *    its own) share the pages both ways; mprotect changes the rights in
 *    place; MADV_DONTNEED keeps the data;
 *  - MAP_PRIVATE: the first write copies, the file never changes; a
 *    write() to the file shows in a page until the mapping copied it;
 *  - MAP_SHARED anonymous memory shared with a child after fork;
 *  - msync and its errors;
 *  - SIGBUS (BUS_ADRERR, si_addr) past the end of the file, and after a
 *    truncation, for shared and private mappings (and zeros in the rest
 *    of the last page);
 *  - every refused mmap: EACCES, ENODEV, EINVAL, EOPNOTSUPP;
 *  - /proc/self/maps naming the file (path, offset, device, inode,
 *    " (deleted)");
 *  - on mmk only ("# SKIP" on the host, whose counters move with other
 *    processes): /proc/meminfo's Cached, Shmem and Mapped moving by the
 *    pages used, and every page back at the end.
 *
 *     test_filemap   (it runs itself again: "--writer PATH" maps PATH and
 *                     writes a mark, for the unrelated-process check)
 */
#define _GNU_SOURCE
#include "ut.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define WRITER_FLAG "--writer"
#define WRITER_MARK "written by another process"

static char top[64];               /* /tmp/test_filemap.<pid> */

/* ---- helpers -------------------------------------------------------------------------- */

static void path_in(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", top, name);
}

/* A new file of `pages` pages, page i filled with the byte 'a' + i. */
static int make_file(const char *path, int pages)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    static char page[PAGE];
    for (int i = 0; i < pages; i++) {
        memset(page, 'a' + i, PAGE);
        if (ut_write_full(fd, page, PAGE) < 0) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

static char byte_at(int fd, off_t off)
{
    char c = 0;
    if (pread(fd, &c, 1, off) != 1)
        return '?';
    return c;
}

static void *map(size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap(NULL, len, prot, flags, fd, off);
}

/* ---- SIGBUS and SIGSEGV caught ------------------------------------------------------------ */

static sigjmp_buf jump;
static volatile int got_sig, got_code;
static void *volatile got_addr;

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    got_sig = sig;
    got_code = si->si_code;
    got_addr = si->si_addr;
    siglongjmp(jump, 1);
}

/* Touch p (a read, or a write of 'z'): 0 if it went through, else the signal. */
static int touch(volatile char *p, int write)
{
    struct sigaction sa = { 0 }, obus, osegv;
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &sa, &obus);
    sigaction(SIGSEGV, &sa, &osegv);
    got_sig = 0;
    if (sigsetjmp(jump, 1) == 0) {
        if (write)
            *p = 'z';
        else
            (void)*p;
    }
    sigaction(SIGBUS, &obus, NULL);
    sigaction(SIGSEGV, &osegv, NULL);
    return got_sig;
}

static void check_sigbus(volatile char *p, int write, const char *name)
{
    int sig = touch(p, write);
    ut_check(sig == SIGBUS && got_code == BUS_ADRERR && got_addr == (void *)p, name,
             "signal %d code %d addr %s", sig, got_code,
             got_addr == (void *)p ? "right" : "wrong");
}

/* ---- /proc/self/maps ------------------------------------------------------------------------ */

/* The line of /proc/self/maps whose range starts at addr, into line. */
static int maps_line(void *addr, char *line, size_t size)
{
    static char buf[65536];
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0)
        return 0;
    size_t len = 0;
    ssize_t n;
    while (len + 1 < sizeof buf && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = 0;
    for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
        unsigned long start;
        if (sscanf(l, "%lx-", &start) == 1 && start == (unsigned long)addr) {
            snprintf(line, size, "%s", l);
            return 1;
        }
    }
    return 0;
}

/* Cut a maps line into its fields: perms, offset, dev, inode, name. */
static int maps_fields(const char *line, char *perms, unsigned long *off, char *dev,
                       unsigned long *ino, const char **name)
{
    int used = 0;
    if (sscanf(line, "%*[0-9a-f]-%*[0-9a-f] %4s %lx %15s %lu %n", perms, off, dev, ino, &used) < 4)
        return 0;
    *name = line + used;
    while (**name == ' ')
        (*name)++;
    return 1;
}

static void maps_of_file(const char *path, int fd)
{
    char real[PATH_MAX], line[PATH_MAX + 128], perms[8], dev[16], want_dev[16];
    const char *name;
    unsigned long off, ino;
    struct stat st;
    fstat(fd, &st);
    if (!realpath(path, real))
        snprintf(real, sizeof real, "%s", path);
    snprintf(want_dev, sizeof want_dev, "%02x:%02x", major(st.st_dev), minor(st.st_dev));
    char *m = map(2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PAGE);
    int ok = m != MAP_FAILED && maps_line(m, line, sizeof line) &&
             maps_fields(line, perms, &off, dev, &ino, &name);
    ut_check(ok && strcmp(perms, "rw-s") == 0 && off == PAGE, "maps_shared_file_perms_offset",
             "line %s", ok ? line : "missing");
    ut_check(ok && strcmp(name, real) == 0, "maps_names_the_file_by_full_path", "name '%s', want '%s'",
             ok ? name : "", real);
    ut_check(ok && ino == (unsigned long)st.st_ino && strcmp(dev, want_dev) == 0,
             "maps_device_and_inode_of_the_file", "dev %s ino %lu, want %s %lu", ok ? dev : "",
             ok ? ino : 0, want_dev, (unsigned long)st.st_ino);
    unlink(path);
    ok = m != MAP_FAILED && maps_line(m, line, sizeof line) &&
         maps_fields(line, perms, &off, dev, &ino, &name);
    char want[PATH_MAX + 16];
    snprintf(want, sizeof want, "%s (deleted)", real);
    ut_check(ok && strcmp(name, want) == 0, "maps_unlinked_file_deleted", "name '%s'",
             ok ? name : "");
    /* The mapping keeps the unlinked file: still readable and writable. */
    ut_check(m != MAP_FAILED && m[0] == 'b' && (m[1] = 'Q', byte_at(fd, PAGE + 1) == 'Q'),
             "unlinked_file_mapping_still_works", "contents lost");
    if (m != MAP_FAILED)
        munmap(m, 2 * PAGE);

    char *a = map(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ok = a != MAP_FAILED && maps_line(a, line, sizeof line) &&
         maps_fields(line, perms, &off, dev, &ino, &name);
    ut_check(ok && strcmp(perms, "rw-s") == 0 && strcmp(name, "/dev/zero (deleted)") == 0,
             "maps_shared_anonymous_is_dev_zero_deleted", "line %s", ok ? line : "missing");
    if (a != MAP_FAILED)
        munmap(a, PAGE);
}

/* ---- MAP_SHARED ------------------------------------------------------------------------------ */

static void shared_basics(const char *path)
{
    int fd = make_file(path, 3);
    char *m = map(3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fd < 0 || m == MAP_FAILED) {
        ut_check(0, "shared_mapping_of_a_file", "open/mmap: %s", ut_errno_name(errno));
        return;
    }
    ut_check(m[0] == 'a' && m[PAGE] == 'b' && m[2 * PAGE + 4095] == 'c',
             "shared_mapping_reads_the_file", "%c %c %c", m[0], m[PAGE], m[2 * PAGE + 4095]);
    m[10] = 'X';
    m[PAGE + 20] = 'Y';
    ut_check(byte_at(fd, 10) == 'X' && byte_at(fd, PAGE + 20) == 'Y',
             "shared_write_seen_by_read_at_once", "read %c %c", byte_at(fd, 10),
             byte_at(fd, PAGE + 20));
    pwrite(fd, "W", 1, 2 * PAGE + 5);
    ut_check(m[2 * PAGE + 5] == 'W', "write_seen_through_shared_mapping", "got %c",
             m[2 * PAGE + 5]);

    /* A second mapping of the same file in the same process sees it too. */
    char *m2 = map(PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
    ut_check(m2 != MAP_FAILED && m2[20] == 'Y', "second_mapping_same_pages", "got %c",
             m2 != MAP_FAILED ? m2[20] : '?');
    if (m2 != MAP_FAILED)
        munmap(m2, PAGE);
    /* MAP_FIXED of the same file over its only mapping. */
    char *f = mmap(m, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    ut_check(f == m && m[10] == 'X' && m[PAGE + 20] == 'Y', "map_fixed_over_its_own_file",
             "mmap: %s", f == MAP_FAILED ? ut_errno_name(errno) : "moved");

    /* fork: the child's writes are the parent's, no copy-on-write. */
    pid_t pid = ut_fork();
    if (pid == 0) {
        int ok = m[10] == 'X';
        m[30] = 'C';
        _exit(ok ? 0 : 1);
    }
    int st = ut_wait(pid);
    ut_check(ut_exited_with(st, 0) && m[30] == 'C' && byte_at(fd, 30) == 'C',
             "shared_mapping_shared_with_forked_child", "child %d, parent sees %c", st, m[30]);

    /* mprotect in place: read-only refuses writes, writable again works. */
    mprotect(m, 3 * PAGE, PROT_READ);
    ut_check(touch(m + 40, 1) == SIGSEGV && got_code == SEGV_ACCERR,
             "mprotect_read_only_shared_refuses_writes", "signal %d code %d", got_sig,
             got_code);
    mprotect(m, 3 * PAGE, PROT_READ | PROT_WRITE);
    ut_check(touch(m + 40, 1) == 0 && byte_at(fd, 40) == 'z', "mprotect_writable_again",
             "signal %d", got_sig);

    /* MADV_DONTNEED drops the ptes, not the data: the file keeps it. */
    madvise(m, 3 * PAGE, MADV_DONTNEED);
    ut_check(m[10] == 'X' && m[PAGE + 20] == 'Y', "madv_dontneed_keeps_shared_data",
             "got %c %c", m[10], m[PAGE + 20]);

    /* mincore: the file's pages are in the page cache. */
    unsigned char vec[3] = { 0 };
    munmap(m, 3 * PAGE);
    m = map(3 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
    int r = mincore(m, 3 * PAGE, vec);
    ut_check(r == 0 && vec[0] && vec[1] && vec[2], "mincore_file_pages_resident_untouched",
             "r %d vec %d %d %d", r, vec[0], vec[1], vec[2]);
    munmap(m, 3 * PAGE);
    close(fd);
    unlink(path);
}

/* The other process of shared_unrelated: map PATH, check, write a mark. */
static int writer_main(const char *path)
{
    int fd = open(path, O_RDWR);
    if (fd < 0)
        return 2;
    char *m = map(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return 3;
    if (strcmp(m, "parent was here") != 0)
        return 4;
    memcpy(m + 100, WRITER_MARK, sizeof WRITER_MARK);
    return 0;
}

static void shared_unrelated(const char *path)
{
    int fd = make_file(path, 1);
    char *m = map(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        ut_check(0, "shared_with_unrelated_process", "mmap: %s", ut_errno_name(errno));
        return;
    }
    memcpy(m, "parent was here", 16);
    pid_t pid = ut_fork();
    if (pid == 0) {
        /* A new program: nothing of the parent's address space is left. */
        execl("/proc/self/exe", "test_filemap", WRITER_FLAG, path, (char *)NULL);
        _exit(127);
    }
    int st = ut_wait(pid);
    char buf[64];
    ut_check(ut_exited_with(st, 0) && strcmp(m + 100, WRITER_MARK) == 0,
             "shared_with_unrelated_process", "writer %s, parent reads '%.30s'",
             ut_status_str(st, buf, sizeof buf), m + 100);
    munmap(m, PAGE);
    unlink(path);
}

static void shared_anonymous(void)
{
    char *a = map(2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED) {
        ut_check(0, "anonymous_shared_after_fork", "mmap: %s", ut_errno_name(errno));
        return;
    }
    a[0] = 'p';
    pid_t pid = ut_fork();
    if (pid == 0) {
        int ok = a[0] == 'p' && a[PAGE] == 0;
        a[PAGE] = 'c';
        _exit(ok ? 0 : 1);
    }
    int st = ut_wait(pid);
    ut_check(ut_exited_with(st, 0) && a[PAGE] == 'c', "anonymous_shared_after_fork",
             "child %d, parent reads %d", st, a[PAGE]);
    munmap(a, 2 * PAGE);
}

/* ---- MAP_PRIVATE ------------------------------------------------------------------------------ */

static void private_cow(const char *path)
{
    int fd = make_file(path, 2);
    char *p = map(2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        ut_check(0, "private_mapping_of_a_file", "mmap: %s", ut_errno_name(errno));
        close(fd);
        return;
    }
    /* Before any write to the mapping, the page is the file's: a write()
     * to the file shows through it. */
    char first = p[PAGE];
    pwrite(fd, "F", 1, PAGE + 1);
    ut_check(first == 'b' && p[PAGE + 1] == 'F', "private_sees_file_write_before_copy",
             "got %c %c", first, p[PAGE + 1]);
    /* The first write copies: the file does not change... */
    p[PAGE + 2] = 'P';
    ut_check(byte_at(fd, PAGE + 2) == 'b' && p[PAGE + 2] == 'P' && p[PAGE + 1] == 'F',
             "private_write_leaves_file_unchanged", "file %c, mapping %c",
             byte_at(fd, PAGE + 2), p[PAGE + 2]);
    /* ...and later writes to the file no longer show in that page. */
    pwrite(fd, "G", 1, PAGE + 3);
    ut_check(p[PAGE + 3] == 'b', "private_copy_ignores_later_file_writes", "got %c",
             p[PAGE + 3]);
    /* A child's writes after fork are its own too. */
    pid_t pid = ut_fork();
    if (pid == 0) {
        p[0] = 'K';
        _exit(p[0] == 'K' ? 0 : 1);
    }
    int st = ut_wait(pid);
    ut_check(ut_exited_with(st, 0) && p[0] == 'a' && byte_at(fd, 0) == 'a',
             "private_child_write_stays_in_child", "child %d, parent %c, file %c", st, p[0],
             byte_at(fd, 0));
    /* MADV_DONTNEED drops the copy: the file's bytes again. */
    madvise(p, 2 * PAGE, MADV_DONTNEED);
    ut_check(p[PAGE + 2] == 'b' && p[PAGE + 3] == 'G', "madv_dontneed_private_rereads_file",
             "got %c %c", p[PAGE + 2], p[PAGE + 3]);
    munmap(p, 2 * PAGE);
    /* A read-only file may be mapped private and written (the copy). */
    int ro = open(path, O_RDONLY);
    p = map(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
    ut_check(p != MAP_FAILED && (p[0] = 'w', p[0] == 'w') && byte_at(fd, 0) == 'a',
             "private_writable_mapping_of_read_only_file", "mmap: %s",
             p == MAP_FAILED ? ut_errno_name(errno) : "ok");
    if (p != MAP_FAILED)
        munmap(p, PAGE);
    close(ro);
    close(fd);
    unlink(path);
}

/* ---- the end of the file ------------------------------------------------------------------------ */

static void end_of_file(const char *path)
{
    /* 100 bytes, 3 pages mapped: the rest of page 0 reads zero, page 1 is
     * past the end. */
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    static char hundred[100];
    memset(hundred, 'h', sizeof hundred);
    write(fd, hundred, sizeof hundred);
    char *m = map(3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *p = map(3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED || p == MAP_FAILED) {
        ut_check(0, "mapping_past_end_of_file", "mmap: %s", ut_errno_name(errno));
        return;
    }
    ut_check(m[99] == 'h' && m[100] == 0 && m[4095] == 0 && p[4095] == 0,
             "last_page_reads_zero_past_the_end", "got %d %d", m[100], m[4095]);
    check_sigbus(m + PAGE, 0, "sigbus_reading_past_end_shared");
    check_sigbus(m + 2 * PAGE + 7, 1, "sigbus_writing_past_end_shared");
    check_sigbus(p + PAGE + 1, 0, "sigbus_reading_past_end_private");
    /* A write through the mapping past the 100 bytes does not grow it. */
    m[200] = 'x';
    struct stat st;
    fstat(fd, &st);
    ut_check(st.st_size == 100 && byte_at(fd, 200) == '?', "mapping_write_does_not_grow_file",
             "size %ld", (long)st.st_size);
    /* Growing the file makes the pages reachable. */
    ftruncate(fd, 2 * PAGE);
    ut_check(touch(m + PAGE, 0) == 0 && m[PAGE] == 0, "grown_file_page_mapped", "signal %d",
             got_sig);
    munmap(m, 3 * PAGE);
    munmap(p, 3 * PAGE);
    close(fd);
    unlink(path);
}

static void truncation(const char *path)
{
    int fd = make_file(path, 3);
    char *m = map(3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *p = map(3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED || p == MAP_FAILED) {
        ut_check(0, "mappings_for_truncation", "mmap: %s", ut_errno_name(errno));
        return;
    }
    /* Every page present: the shared ones, a private copy, a private
     * read-only page of the cache. */
    int pages = m[0] + m[PAGE] + m[2 * PAGE];
    p[2 * PAGE] = 'P';
    pages += p[PAGE];
    /* A forked child maps them too: truncation reaches every process. */
    int go[2], ready[2];
    char c;
    pipe(go);
    pipe(ready);
    pid_t pid = ut_fork();
    if (pid == 0) {
        volatile char *cm = m;
        int present = cm[2 * PAGE] == 'c';
        write(ready[1], "r", 1);            /* mapped: the parent may truncate */
        read(go[0], &c, 1);                 /* truncated */
        int sig = touch(cm + 2 * PAGE, 0);
        _exit(present && sig == SIGBUS && got_code == BUS_ADRERR ? 0 : 1);
    }
    read(ready[0], &c, 1);
    ftruncate(fd, PAGE + 10);
    write(go[1], "t", 1);
    int st = ut_wait(pid);
    close(go[0]);
    close(go[1]);
    close(ready[0]);
    close(ready[1]);
    (void)pages;
    check_sigbus(m + 2 * PAGE, 0, "sigbus_after_truncation_shared");
    check_sigbus(p + 2 * PAGE, 0, "sigbus_after_truncation_private_copy");
    ut_check(ut_exited_with(st, 0), "sigbus_after_truncation_in_forked_child", "child %d", st);
    ut_check(m[PAGE + 9] == 'b' && m[PAGE + 10] == 0 && m[PAGE + 4095] == 0 && p[PAGE + 10] == 0,
             "truncated_tail_of_last_page_reads_zero", "got %c %d %d", m[PAGE + 9],
             m[PAGE + 10], p[PAGE + 10]);
    ftruncate(fd, 0);
    check_sigbus(m, 1, "sigbus_after_truncation_to_zero");
    munmap(m, 3 * PAGE);
    munmap(p, 3 * PAGE);
    close(fd);
    unlink(path);
}

/* ---- msync ------------------------------------------------------------------------------------- */

static void msync_calls(const char *path)
{
    int fd = make_file(path, 2);
    char *m = map(2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        ut_check(0, "msync_mapping", "mmap: %s", ut_errno_name(errno));
        return;
    }
    m[0] = 'S';
    ut_check(msync(m, 2 * PAGE, MS_SYNC) == 0 && byte_at(fd, 0) == 'S', "msync_sync",
             "%s", ut_errno_name(errno));
    ut_check(msync(m, PAGE, MS_ASYNC) == 0, "msync_async", "%s", ut_errno_name(errno));
    ut_check(msync(m, PAGE, MS_INVALIDATE) == 0, "msync_invalidate", "%s",
             ut_errno_name(errno));
    ut_check(msync(m, 0, MS_SYNC) == 0, "msync_length_zero", "%s", ut_errno_name(errno));
    ut_check_errno("msync_async_and_sync_einval", msync(m, PAGE, MS_ASYNC | MS_SYNC), EINVAL);
    ut_check_errno("msync_unknown_flag_einval", msync(m, PAGE, 8), EINVAL);
    ut_check_errno("msync_unaligned_einval", msync(m + 1, PAGE, MS_SYNC), EINVAL);
    munmap(m + PAGE, PAGE);
    ut_check_errno("msync_unmapped_enomem", msync(m, 2 * PAGE, MS_SYNC), ENOMEM);
    munmap(m, PAGE);
    close(fd);
    unlink(path);
}

/* ---- refusals ------------------------------------------------------------------------------------ */

static void refusals(const char *path)
{
    int fd = make_file(path, 1);
    close(fd);
    int ro = open(path, O_RDONLY), wo = open(path, O_WRONLY), rw = open(path, O_RDWR);
    ut_check_errno("shared_writable_of_read_only_file_eacces",
                   (long)map(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES);
    char *r = map(PAGE, PROT_READ, MAP_SHARED, ro, 0);
    ut_check(r != MAP_FAILED, "shared_read_only_of_read_only_file", "%s", ut_errno_name(errno));
    ut_check_errno("mprotect_write_shared_read_only_file_eacces",
                   mprotect(r, PAGE, PROT_READ | PROT_WRITE), EACCES);
    ut_check(mprotect(r, PAGE, PROT_READ | PROT_EXEC) == 0, "mprotect_exec_shared_read_only_file",
             "%s", ut_errno_name(errno));
    munmap(r, PAGE);
    ut_check_errno("mmap_write_only_file_eacces", (long)map(PAGE, PROT_READ, MAP_SHARED, wo, 0),
                   EACCES);
    ut_check_errno("mmap_private_write_only_file_eacces",
                   (long)map(PAGE, PROT_READ, MAP_PRIVATE, wo, 0), EACCES);
    int pfd[2];
    pipe(pfd);
    ut_check_errno("mmap_pipe_enodev", (long)map(PAGE, PROT_READ, MAP_SHARED, pfd[0], 0), ENODEV);
    ut_check_errno("mmap_pipe_write_end_eacces", (long)map(PAGE, PROT_READ, MAP_SHARED, pfd[1], 0),
                   EACCES);
    close(pfd[0]);
    close(pfd[1]);
    int dir = open(top, O_RDONLY | O_DIRECTORY);
    ut_check_errno("mmap_directory_enodev", (long)map(PAGE, PROT_READ, MAP_PRIVATE, dir, 0),
                   ENODEV);
    close(dir);
    int proc = open("/proc/self/maps", O_RDONLY);
    ut_check_errno("mmap_proc_file_enodev", (long)map(PAGE, PROT_READ, MAP_PRIVATE, proc, 0),
                   ENODEV);
    close(proc);
    ut_check_errno("mmap_bad_fd_ebadf", (long)map(PAGE, PROT_READ, MAP_SHARED, 999, 0), EBADF);
    ut_check_errno("mmap_unaligned_offset_einval",
                   (long)map(PAGE, PROT_READ, MAP_SHARED, rw, 100), EINVAL);
    ut_check_errno("mmap_length_zero_einval", (long)map(0, PROT_READ, MAP_SHARED, rw, 0), EINVAL);
    ut_check_errno("mmap_no_type_einval", (long)map(PAGE, PROT_READ, 0, rw, 0), EINVAL);
    ut_check_errno("shared_validate_unknown_flag_eopnotsupp",
                   (long)map(PAGE, PROT_READ, MAP_SHARED_VALIDATE | 0x200000, rw, 0), EOPNOTSUPP);
    char *v = map(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE, rw, 0);
    ut_check(v != MAP_FAILED && v[0] == 'a', "shared_validate_known_flags", "%s",
             ut_errno_name(errno));
    if (v != MAP_FAILED)
        munmap(v, PAGE);
    /* Plain MAP_SHARED ignores the unknown flag. */
    v = map(PAGE, PROT_READ, MAP_SHARED | 0x200000, rw, 0);
    ut_check(v != MAP_FAILED, "shared_ignores_unknown_flag", "%s", ut_errno_name(errno));
    if (v != MAP_FAILED)
        munmap(v, PAGE);
    /* /dev/zero maps anonymous memory. */
    int z = open("/dev/zero", O_RDWR);
    char *zp = map(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, z, 0);
    ut_check(zp != MAP_FAILED && zp[5] == 0 && (zp[5] = 1, zp[5] == 1), "mmap_dev_zero_private",
             "%s", ut_errno_name(errno));
    if (zp != MAP_FAILED)
        munmap(zp, PAGE);
    close(z);
    close(ro);
    close(wo);
    close(rw);
    unlink(path);
}

/* ---- counters ------------------------------------------------------------------------------------ */

static void meminfo_counters(const char *path)
{
    if (!ut_on_mmk()) {
        ut_skip("meminfo_cached_and_shmem_count_file_pages", "the host's counters move");
        ut_skip("meminfo_mapped_counts_mapped_file_pages", "the host's counters move");
        ut_skip("meminfo_mapped_back_after_munmap", "the host's counters move");
        ut_skip("meminfo_cached_back_after_unlink", "the host's counters move");
        return;
    }
    long c0 = ut_meminfo("Cached"), s0 = ut_meminfo("Shmem"), m0 = ut_meminfo("Mapped");
    int fd = make_file(path, 16);
    long c1 = ut_meminfo("Cached"), s1 = ut_meminfo("Shmem");
    ut_check(c1 - c0 == 64 && s1 - s0 == 64, "meminfo_cached_and_shmem_count_file_pages",
             "Cached %ld -> %ld, Shmem %ld -> %ld kB", c0, c1, s0, s1);
    char *m = map(16 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
    char *m2 = map(16 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    long sum = 0;
    for (int i = 0; i < 16; i++)
        sum += m[i * PAGE] + m2[i * PAGE];
    long m1 = ut_meminfo("Mapped");
    ut_check(m1 - m0 == 64, "meminfo_mapped_counts_mapped_file_pages",
             "Mapped %ld -> %ld kB (sum %ld)", m0, m1, sum);
    munmap(m, 16 * PAGE);
    munmap(m2, 16 * PAGE);
    long m2k = ut_meminfo("Mapped");
    ut_check(m2k == m0, "meminfo_mapped_back_after_munmap", "Mapped %ld -> %ld kB", m0, m2k);
    close(fd);
    unlink(path);
    long c2 = ut_meminfo("Cached");
    ut_check(c2 == c0, "meminfo_cached_back_after_unlink", "Cached %ld -> %ld kB", c0, c2);
}

/*
 * Leak check: one round of everything that takes pages (file pages
 * mapped shared and private in a parent and a forked child, a private
 * copy, a truncation under the mappings, anonymous shared memory), run
 * twice to warm the caches the kernel keeps (tables of its own, slabs,
 * per-CPU lists), then three times more: the free memory and Cached must be
 * back where they were.
 */
static void one_round(const char *path)
{
    int fd = make_file(path, 8);
    char *m = map(8 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *p = map(8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    char *a = map(4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || p == MAP_FAILED || a == MAP_FAILED)
        _exit(3);
    for (int i = 0; i < 8; i++) {
        m[i * PAGE] = 'm';
        (void)p[i * PAGE];
    }
    p[0] = 'p';
    a[0] = 'a';
    pid_t pid = ut_fork();
    if (pid == 0) {
        m[PAGE + 1] = a[0];
        p[PAGE] = 'c';
        a[PAGE] = 'c';
        _exit(0);
    }
    ut_wait(pid);
    ftruncate(fd, 2 * PAGE + 5);
    munmap(m, 8 * PAGE);
    munmap(p, 8 * PAGE);
    munmap(a, 4 * PAGE);
    close(fd);
    unlink(path);
}

static void leak_check(const char *path)
{
    if (!ut_on_mmk()) {
        ut_skip("pages_come_back", "MemFree on the host moves with other processes");
        return;
    }
    one_round(path);
    one_round(path);
    ut_free_kb(); /* its own first call touches pages of this process */
    long cached0 = ut_meminfo("Cached"), mapped0 = ut_meminfo("Mapped"), free0 = ut_free_kb();
    for (int i = 0; i < 3; i++)
        one_round(path);
    long cached1 = ut_meminfo("Cached"), mapped1 = ut_meminfo("Mapped"), free1 = ut_free_kb();
    ut_check(free1 >= free0 && cached1 == cached0 && mapped1 == mapped0, "pages_come_back",
             "MemFree + slab %ld -> %ld kB, Cached %ld -> %ld kB, Mapped %ld -> %ld kB", free0,
             free1, cached0, cached1, mapped0, mapped1);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], WRITER_FLAG) == 0)
        return writer_main(argv[2]);
    ut_init();
    snprintf(top, sizeof top, "/tmp/test_filemap.%d", (int)getpid());
    if (mkdir(top, 0755) < 0) {
        ut_check(0, "make_work_directory", "mkdir %s: %s", top, ut_errno_name(errno));
        return ut_done();
    }
    char path[128];
    path_in(path, sizeof path, "shared");
    shared_basics(path);
    path_in(path, sizeof path, "unrelated");
    shared_unrelated(path);
    shared_anonymous();
    path_in(path, sizeof path, "private");
    private_cow(path);
    path_in(path, sizeof path, "end");
    end_of_file(path);
    path_in(path, sizeof path, "truncated");
    truncation(path);
    path_in(path, sizeof path, "msync");
    msync_calls(path);
    path_in(path, sizeof path, "refused");
    refusals(path);
    path_in(path, sizeof path, "named");
    int fd = make_file(path, 3);
    maps_of_file(path, fd);
    close(fd);
    path_in(path, sizeof path, "counted");
    meminfo_counters(path);
    path_in(path, sizeof path, "rounds");
    leak_check(path);
    rmdir(top);
    return ut_done();
}
