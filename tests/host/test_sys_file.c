/*
 * Host tests of the file system calls on descriptors (kernel/fs/sys_file.c)
 * over the real VFS: the root tmpfs seeded from an archive written in
 * memory, procfs on /proc, pipes, and a console stand-in
 * (tests/host/fs_host.c).  Each case calls the handlers as the dispatcher
 * would, with "user" pointers that are host pointers (file_host.c checks
 * them against a window).  The memory statistics /proc shows are stubs
 * here: what is tested is the plumbing and Linux's error codes.  Each
 * case ends with fs_host_teardown's leak check (inodes, page-cache pages,
 * frames); AddressSanitizer checks the rest.  Names, links, directories
 * and attributes are tests/host/test_tmpfs*.c's.
 */
#include <stdio.h>
#include <stdlib.h>

#include "htest.h"
#include "file_host.h"
#include "fs_host.h"
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/kernel.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/vfs.h>
#include <mm/slab.h>

#define MEMINFO_TEXT FS_MEMINFO_TEXT
#define MAPS_TEXT FS_MAPS_TEXT
#define BIG_LINES FS_BIG_LINES

#define INIT_TEXT "\177ELF pretend program"
#define README_TEXT "read me\n"

static void build_initrd(void)
{
    fs_host_ar_begin();
    fs_host_ar_entry("bin", 10, S_IFDIR | 0755, NULL);
    fs_host_ar_entry("bin/init", 11, S_IFREG | 0755, INIT_TEXT);
    fs_host_ar_entry("README", 12, S_IFREG | 0644, README_TEXT);
    fs_host_ar_entry("etc/motd", 13, S_IFREG | 0644, "hello\n");     /* "etc" is implied */
    fs_host_ar_entry("link", 14, 0120000 | 0777, "README");           /* a symbolic link */
    fs_host_ar_end();
}

static void setup(void)
{
    build_initrd();
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

/* ---- initrd files --------------------------------------------------------------------------- */

static void t_open_read_initrd(void)
{
    setup();
    long fd = open_path("/bin/init", O_RDONLY);
    HT_EQ_U(fd, 3);
    char buf[64] = { 0 };
    HT_EQ_U(SYS(sys_read, fd, U(buf), 4), 4);
    HT_ASSERT(!memcmp(buf, "\177ELF", 4), "first bytes");
    HT_EQ_U(SYS(sys_read, fd, U(buf), sizeof(buf)), strlen(INIT_TEXT) - 4);
    HT_EQ_U(SYS(sys_read, fd, U(buf), sizeof(buf)), 0);
    HT_EQ_U(SYS(sys_lseek, fd, ARG(-3), SEEK_END), strlen(INIT_TEXT) - 3);
    HT_EQ_U(SYS(sys_read, fd, U(buf), sizeof(buf)), 3);
    HT_EQ_U(SYS(sys_lseek, fd, ARG(-1), SEEK_SET), -EINVAL);
    HT_EQ_U(SYS(sys_lseek, fd, 0, 5), -EINVAL);
    HT_EQ_U(SYS(sys_write, fd, U(buf), 1), -EBADF);
    HT_EQ_U(SYS(sys_fcntl, fd, F_GETFL, 0), O_RDONLY | O_LARGEFILE);
    /* pread: at an offset, the file offset unchanged. */
    HT_EQ_U(SYS(sys_lseek, fd, 2, SEEK_SET), 2);
    HT_EQ_U(SYS(sys_pread64, fd, U(buf), 3, 1), 3);
    HT_ASSERT(!memcmp(buf, "ELF", 3), "pread bytes");
    HT_EQ_U(SYS(sys_lseek, fd, 0, SEEK_CUR), 2);
    HT_EQ_U(SYS(sys_pread64, fd, U(buf), 3, ARG(-1)), -EINVAL);
    HT_EQ_U(SYS(sys_pread64, 1, U(buf), 3, 0), -ESPIPE);
    HT_EQ_U(SYS(sys_close, fd), 0);
    HT_EQ_U(SYS(sys_close, fd), -EBADF);
    HT_EQ_U(SYS(sys_read, fd, U(buf), 1), -EBADF);
    teardown();
}

static void t_fstat_initrd(void)
{
    setup();
    struct linux_stat st;
    memset(&st, 0xff, sizeof(st));
    HT_EQ_U(SYS(sys_stat, U("/bin/init"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFREG | 0755);
    HT_EQ_U(st.st_size, strlen(INIT_TEXT));
    HT_ASSERT(st.st_ino > 1, "ino %lu", st.st_ino);
    HT_EQ_U(st.st_nlink, 1);
    HT_EQ_U(st.st_blksize, 4096);
    HT_EQ_U(st.st_blocks, 8);                                 /* one page, still the archive's */
    HT_EQ_U(st.st_mtim.tv_sec, 1700000000);
    HT_EQ_U(st.st_dev, LINUX_MKDEV(0, 1));
    HT_EQ_U(st.pad0, 0);
    uint64_t init_ino = st.st_ino;
    long fd = open_path("/README", O_RDONLY);
    struct linux_stat st2;
    HT_EQ_U(SYS(sys_fstat, fd, U(&st2)), 0);
    HT_EQ_U(st2.st_size, strlen(README_TEXT));
    HT_EQ_U(st2.st_mode, S_IFREG | 0644);
    HT_EQ_U(SYS(sys_fstat, fd, 16), -EFAULT);
    HT_EQ_U(SYS(sys_fstat, 40, U(&st2)), -EBADF);
    HT_EQ_U(SYS(sys_stat, U("/etc"), U(&st)), 0);             /* implied directory */
    HT_EQ_U(st.st_mode, S_IFDIR | 0755);
    HT_EQ_U(st.st_nlink, 2);
    HT_EQ_U(SYS(sys_stat, U("/"), U(&st)), 0);
    HT_ASSERT(S_ISDIR(st.st_mode), "/ mode %o", st.st_mode);
    HT_EQ_U(st.st_ino, 1);
    /* A link: stat follows it, lstat does not. */
    HT_EQ_U(SYS(sys_stat, U("/link"), U(&st)), 0);
    HT_EQ_U(st.st_ino, st2.st_ino);
    HT_EQ_U(SYS(sys_lstat, U("/link"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFLNK | 0777);
    HT_EQ_U(st.st_size, 6);
    HT_EQ_U(SYS(sys_stat, U("/nothing"), 16), -ENOENT);      /* the path is looked at first */
    HT_EQ_U(SYS(sys_stat, U("/README"), 16), -EFAULT);
    /* newfstatat */
    HT_EQ_U(SYS(sys_newfstatat, ARG(AT_FDCWD), U("bin/init"), U(&st), 0), 0);
    HT_EQ_U(st.st_ino, init_ino);
    HT_EQ_U(SYS(sys_newfstatat, ARG(AT_FDCWD), U("link"), U(&st), AT_SYMLINK_NOFOLLOW), 0);
    HT_ASSERT(S_ISLNK(st.st_mode), "lstat by newfstatat: %o", st.st_mode);
    HT_EQ_U(SYS(sys_newfstatat, fd, U(""), U(&st), AT_EMPTY_PATH), 0);
    HT_EQ_U(st.st_ino, st2.st_ino);
    HT_EQ_U(SYS(sys_newfstatat, fd, 0, U(&st), AT_EMPTY_PATH), 0);
    HT_EQ_U(SYS(sys_newfstatat, ARG(AT_FDCWD), U(""), U(&st), AT_EMPTY_PATH), 0);
    HT_ASSERT(S_ISDIR(st.st_mode), "AT_FDCWD \"\" is the working directory");
    HT_EQ_U(SYS(sys_newfstatat, fd, U(""), U(&st), 0), -ENOENT);
    HT_EQ_U(SYS(sys_newfstatat, fd, U("x"), U(&st), 0x4), -EINVAL);
    HT_EQ_U(SYS(sys_newfstatat, fd, U("x"), U(&st), 0), -ENOTDIR);  /* fd is a file */
    HT_EQ_U(SYS(sys_newfstatat, 50, U("x"), U(&st), 0), -EBADF);
    HT_EQ_U(SYS(sys_newfstatat, 50, U("/README"), U(&st), 0), 0);   /* absolute: no dirfd */
    int fds[2];
    HT_EQ_U(SYS(sys_pipe, U(fds)), 0);                        /* "" of a pipe: the pipe */
    HT_EQ_U(SYS(sys_newfstatat, fds[0], U(""), U(&st), AT_EMPTY_PATH), 0);
    HT_EQ_U(st.st_mode & S_IFMT, S_IFIFO);
    teardown();
}

static void t_open_errors(void)
{
    setup();
    HT_EQ_U(open_path("/nothing", O_RDONLY), -ENOENT);
    HT_EQ_U(open_path("/nothing/x", O_RDONLY | O_CREAT), -ENOENT);
    HT_EQ_U(open_path("/README", O_RDONLY | O_CREAT | O_EXCL), -EEXIST);
    HT_EQ_U(open_path("/README", O_RDONLY | O_DIRECTORY), -ENOTDIR);
    HT_EQ_U(open_path("/README", O_RDONLY | O_CREAT | O_DIRECTORY), -EINVAL);
    HT_EQ_U(open_path("/README/", O_RDONLY), -ENOTDIR);
    HT_EQ_U(open_path("/README/x", O_RDONLY), -ENOTDIR);
    HT_EQ_U(open_path("/README/", O_RDONLY | O_CREAT), -EISDIR);
    HT_EQ_U(open_path("/bin", O_RDWR), -EISDIR);
    HT_EQ_U(open_path("/bin", O_RDONLY | O_TRUNC), -EISDIR);
    HT_EQ_U(open_path("/bin", O_RDONLY | O_CREAT), -EISDIR);
    HT_EQ_U(open_path("/", O_WRONLY), -EISDIR);
    HT_EQ_U(open_path("/", O_RDONLY | O_CREAT | O_EXCL), -EEXIST);
    HT_EQ_U(open_path("/.", O_RDONLY | O_CREAT), -EISDIR);
    HT_EQ_U(open_path("/bin", O_RDONLY | O_TMPFILE), -EINVAL);
    HT_EQ_U(open_path("/bin", O_RDWR | O_TMPFILE | O_CREAT), -EINVAL);
    HT_EQ_U(open_path("/README", O_RDWR | O_TMPFILE), -ENOTDIR);
    HT_EQ_U(open_path("/link", O_RDONLY | O_NOFOLLOW), -ELOOP);
    HT_EQ_U(open_path("/link", O_RDONLY | O_CREAT | O_EXCL), -EEXIST);
    HT_EQ_U(open_path("", O_RDONLY), -ENOENT);
    HT_EQ_U(SYS(sys_open, 16, O_RDONLY, 0), -EFAULT);
    HT_EQ_U(SYS(sys_open, 0, O_RDONLY, 0), -EFAULT);
    /* /proc is read-only. */
    HT_EQ_U(open_path("/proc/nothing", O_RDONLY | O_CREAT), -EROFS);
    HT_EQ_U(open_path("/proc/meminfo", O_WRONLY), -EROFS);
    HT_EQ_U(open_path("/proc/meminfo", O_RDONLY | O_TRUNC), -EROFS);
    HT_EQ_U(open_path("/proc", O_WRONLY), -EISDIR);
    HT_EQ_U(open_path("/proc/meminfo", O_RDONLY | O_CREAT | O_EXCL), -EEXIST);
    /* O_CREAT on an existing file without O_EXCL opens it. */
    long fd = open_path("/README", O_RDONLY | O_CREAT);
    HT_EQ_U(fd, 3);
    HT_EQ_U(fd_count(), 4);
    /* A path with no NUL within PATH_MAX bytes. */
    char *longp = malloc(PATH_MAX + 10);
    memset(longp, 'a', PATH_MAX + 10);
    longp[0] = '/';
    HT_EQ_U(open_path(longp, O_RDONLY), -ENAMETOOLONG);
    longp[PATH_MAX - 1] = 0;                                     /* 4095 bytes: accepted */
    HT_EQ_U(open_path(longp, O_RDONLY), -ENAMETOOLONG);          /* its component is too long */
    HT_EQ_U(open_path(longp, O_RDONLY | O_CREAT), -ENAMETOOLONG);
    free(longp);
    HT_EQ_U(fd_count(), 4);
    /* Out of memory anywhere on the way: -ENOMEM, nothing leaks, nothing half made. */
    for (int n = 0; n < 12; n++) {
        fh_kmalloc_fail_in = n;
        long r = open_path("/etc/new", O_RDWR | O_CREAT);
        fh_kmalloc_fail_in = -1;
        HT_ASSERT(r == -ENOMEM || r >= 0, "failure after %d allocations: %ld", n, r);
        if (r >= 0) {
            HT_EQ_U(SYS(sys_close, r), 0);
            HT_EQ_U(SYS(sys_unlink, U("/etc/new")), 0);
        }
        HT_EQ_U(SYS(sys_access, U("/etc/new"), 0), -ENOENT);
    }
    teardown();
}

static void t_dirs_and_at(void)
{
    setup();
    long dfd = open_path("/etc", O_RDONLY | O_DIRECTORY);
    HT_EQ_U(dfd, 3);
    char buf[16];
    HT_EQ_U(SYS(sys_read, dfd, U(buf), sizeof(buf)), -EISDIR);
    long fd = SYS(sys_openat, dfd, U("motd"), O_RDONLY, 0);
    HT_EQ_U(fd, 4);
    HT_EQ_U(SYS(sys_read, fd, U(buf), sizeof(buf)), 6);
    HT_ASSERT(!memcmp(buf, "hello\n", 6), "motd text");
    HT_EQ_U(SYS(sys_openat, dfd, U("../bin/init"), O_RDONLY, 0), 5);
    HT_EQ_U(SYS(sys_openat, fd, U("x"), O_RDONLY, 0), -ENOTDIR);
    HT_EQ_U(SYS(sys_openat, 60, U("x"), O_RDONLY, 0), -EBADF);
    HT_EQ_U(SYS(sys_openat, 60, U("/README"), O_RDONLY, 0), 6);
    HT_EQ_U(SYS(sys_openat, ARG(AT_FDCWD), U("README"), O_RDONLY, 0), 7);
    long lfd = SYS(sys_openat, ARG(AT_FDCWD), U("link"), O_RDONLY, 0);  /* followed */
    HT_EQ_U(lfd, 8);
    HT_EQ_U(SYS(sys_read, lfd, U(buf), sizeof(buf)), strlen(README_TEXT));
    /* A directory descriptor keeps its directory even once removed. */
    HT_EQ_U(SYS(sys_mkdir, U("/gone"), 0755), 0);
    long gfd = open_path("/gone", O_RDONLY | O_DIRECTORY);
    HT_EQ_U(SYS(sys_rmdir, U("/gone")), 0);
    HT_EQ_U(SYS(sys_openat, gfd, U("x"), O_RDWR | O_CREAT, 0644), -ENOENT);
    HT_EQ_U(SYS(sys_openat, gfd, U(".."), O_RDONLY, 0), -ENOENT);
    teardown();
}

static void t_emfile(void)
{
    setup();
    for (int i = 3; i < FD_MAX; i++)
        HT_EQ_U(open_path("/README", O_RDONLY), i);
    HT_EQ_U(open_path("/README", O_RDONLY), -EMFILE);
    HT_EQ_U(open_path("/nothing", O_RDONLY), -EMFILE);        /* before the walk, as Linux */
    HT_EQ_U(SYS(sys_dup, 0), -EMFILE);
    int fds[2];
    HT_EQ_U(SYS(sys_pipe, U(fds)), -EMFILE);
    HT_EQ_U(SYS(sys_close, 40), 0);
    HT_EQ_U(SYS(sys_pipe, U(fds)), -EMFILE);                   /* one slot is not two */
    HT_EQ_U(fd_count(), FD_MAX - 1);
    teardown();
}

static void t_access_getcwd(void)
{
    setup();
    HT_EQ_U(SYS(sys_access, U("/bin/init"), 1), 0);
    HT_EQ_U(SYS(sys_access, U("/bin/init"), 4), 0);
    HT_EQ_U(SYS(sys_access, U("/README"), 1), -EACCES);       /* root needs an x bit */
    HT_EQ_U(SYS(sys_access, U("/README"), 2), 0);             /* writable now */
    HT_EQ_U(SYS(sys_access, U("/proc/meminfo"), 2), -EROFS);
    HT_EQ_U(SYS(sys_access, U("/proc/meminfo"), 4), 0);
    HT_EQ_U(SYS(sys_access, U("/bin"), 1), 0);
    HT_EQ_U(SYS(sys_access, U("/nothing"), 0), -ENOENT);
    HT_EQ_U(SYS(sys_access, U("/README"), 8), -EINVAL);
    HT_EQ_U(SYS(sys_faccessat2, ARG(AT_FDCWD), U("/README"), 0, 0x8000), -EINVAL);
    HT_EQ_U(SYS(sys_faccessat2, ARG(AT_FDCWD), U("/link"), 1, AT_SYMLINK_NOFOLLOW), 0);
    HT_EQ_U(SYS(sys_faccessat2, ARG(AT_FDCWD), U("/link"), 1, 0), -EACCES);
    HT_EQ_U(SYS(sys_faccessat, ARG(AT_FDCWD), U("bin/init"), 1), 0);
    char cwd[8];
    HT_EQ_U(SYS(sys_getcwd, U(cwd), sizeof(cwd)), 2);
    HT_EQ_STR(cwd, "/");
    HT_EQ_U(SYS(sys_getcwd, U(cwd), 1), -ERANGE);
    HT_EQ_U(SYS(sys_getcwd, 16, 8), -EFAULT);
    teardown();
}

/* ---- /proc ------------------------------------------------------------------------------------ */

/* Read a whole file through small reads. */
static size_t slurp(long fd, char *buf, size_t size)
{
    size_t n = 0;
    for (;;) {
        long k = SYS(sys_read, fd, U(buf + n), size - n < 100 ? size - n : 100);
        if (k <= 0)
            return n;
        n += (size_t)k;
    }
}

static void t_proc_files(void)
{
    setup();
    static char buf[65536];
    long fd = open_path("/proc/meminfo", O_RDONLY);
    HT_ASSERT(fd >= 0, "open /proc/meminfo: %ld", fd);
    size_t n = slurp(fd, buf, sizeof(buf));
    HT_EQ_U(n, strlen(MEMINFO_TEXT));
    HT_ASSERT(!memcmp(buf, MEMINFO_TEXT, n), "meminfo text");
    HT_EQ_U(SYS(sys_lseek, fd, 0, SEEK_END), -EINVAL);
    HT_EQ_U(SYS(sys_lseek, fd, 3, SEEK_SET), 3);
    struct linux_stat st;
    HT_EQ_U(SYS(sys_fstat, fd, U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFREG | 0444);
    HT_EQ_U(st.st_size, 0);
    /* Larger than the first 4 KiB buffer. */
    long sfd = open_path("/proc/slabinfo", O_RDONLY);
    n = slurp(sfd, buf, sizeof(buf));
    HT_EQ_U(n, BIG_LINES * 24);
    HT_ASSERT(!memcmp(buf + n - 24, "cache-00799 1 2 3 4 5 6\n", 24), "last slab line");
    /* maps, by self and by pid */
    long mfd = open_path("/proc/self/maps", O_RDONLY);
    n = slurp(mfd, buf, sizeof(buf));
    HT_EQ_U(n, strlen(MAPS_TEXT));
    long pfd = open_path("/proc/1/maps", O_RDONLY);
    HT_ASSERT(pfd >= 0, "/proc/1/maps: %ld", pfd);
    HT_EQ_U(fs_host_maps_calls, 2);
    HT_EQ_U(open_path("/proc/2/maps", O_RDONLY), -ENOENT);
    HT_EQ_U(open_path("/proc/12x/maps", O_RDONLY), -ENOENT);
    HT_EQ_U(open_path("/proc/nothing", O_RDONLY), -ENOENT);
    HT_EQ_U(open_path("/proc/nothing", O_RDONLY | O_CREAT), -EROFS);
    HT_EQ_U(open_path("/proc/meminfo", O_WRONLY), -EROFS);
    HT_EQ_U(open_path("/proc", O_WRONLY), -EISDIR);
    long dfd = open_path("/proc/self", O_RDONLY);
    HT_EQ_U(SYS(sys_read, dfd, U(buf), 10), -EISDIR);
    HT_EQ_U(SYS(sys_openat, dfd, U("maps"), O_RDONLY, 0) >= 0, 1);
    HT_EQ_U(SYS(sys_stat, U("/proc"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFDIR | 0555);
    HT_EQ_U(st.st_dev, LINUX_MKDEV(0, 22));
    HT_EQ_U(SYS(sys_stat, U("/proc/self"), U(&st)), 0);     /* the link, followed */
    HT_EQ_U(st.st_mode, S_IFDIR | 0555);
    HT_EQ_U(SYS(sys_lstat, U("/proc/self"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFLNK | 0777);
    HT_EQ_U(SYS(sys_stat, U("/proc/meminfo/"), U(&st)), -ENOTDIR);
    HT_EQ_U(SYS(sys_stat, U("/proc/../README"), U(&st)), 0);  /* ".." crosses the mount */
    HT_EQ_U(st.st_size, strlen(README_TEXT));
    /* Out of memory while generating: -ENOMEM, nothing leaks. */
    for (int k = 0; k < 6; k++) {
        fh_kmalloc_fail_in = k;
        long r = open_path("/proc/meminfo", O_RDONLY);
        fh_kmalloc_fail_in = -1;
        HT_ASSERT(r == -ENOMEM || r >= 0, "failure after %d allocations: %ld", k, r);
    }
    teardown();
}

/* ---- the console --------------------------------------------------------------------------- */

static void t_console(void)
{
    setup();
    HT_EQ_U(SYS(sys_write, 1, U("hi\n"), 3), 3);
    HT_ASSERT(fs_host_con_len == 3 && !memcmp(fs_host_con, "hi\n", 3), "output on the console");
    char buf[8];
    HT_EQ_U(SYS(sys_read, 0, U(buf), sizeof(buf)), 0);
    HT_EQ_U(SYS(sys_lseek, 1, 0, SEEK_SET), -ESPIPE);
    HT_EQ_U(SYS(sys_lseek, 1, 0, 9), -EINVAL);
    HT_EQ_U(SYS(sys_ioctl, 0, 0x1234, 0), -ENOTTY);
    HT_EQ_U(SYS(sys_ioctl, 9, 0x5413, 0), -EBADF);
    struct linux_stat st;
    HT_EQ_U(SYS(sys_fstat, 2, U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFCHR | 0620);
    HT_EQ_U(st.st_rdev, 0x501);
    HT_EQ_U(SYS(sys_fcntl, 1, F_GETFL, 0), O_RDWR | O_LARGEFILE);
    /* A long write goes out whole; a bad range is -EFAULT before any byte. */
    static char big[1000];
    memset(big, 'x', sizeof(big));
    fs_host_con_len = 0;
    HT_EQ_U(SYS(sys_write, 1, U(big), sizeof(big)), sizeof(big));
    HT_EQ_U(fs_host_con_len, sizeof(big));
    fh_uhi = U(big) + 600;
    HT_EQ_U(SYS(sys_write, 1, U(big), sizeof(big)), -EFAULT);  /* the range check */
    fh_uhi = FH_USER_END;
    teardown();
}

static void t_rw_counts(void)
{
    setup();
    char buf[8];
    HT_EQ_U(SYS(sys_write, 1, 0, 0), 0);                       /* NULL, 0: fine */
    HT_EQ_U(SYS(sys_read, 0, 0, 0), 0);
    HT_EQ_U(SYS(sys_write, 1, 16, 0), -EFAULT);                /* outside user space */
    HT_EQ_U(SYS(sys_write, 1, U(buf), ARG(-1)), -EFAULT);      /* cannot be a buffer */
    HT_EQ_U(SYS(sys_write, 1, U(buf), 1ul << 62), -EFAULT);
    HT_EQ_U(SYS(sys_write, ARG(-1), U(buf), 1), -EBADF);
    HT_EQ_U(SYS(sys_write, 1ul << 32, U(buf), 1), 1);         /* fd is an int: 0x100000000 is 0 */
    teardown();
}

/* ---- readv / writev ----------------------------------------------------------------------- */

static void t_writev(void)
{
    setup();
    struct linux_iovec iov[12];
    iov[0] = (struct linux_iovec){ U("ab"), 2 };
    iov[1] = (struct linux_iovec){ 0, 0 };
    iov[2] = (struct linux_iovec){ U("cde"), 3 };
    HT_EQ_U(SYS(sys_writev, 1, U(iov), 3), 5);
    HT_ASSERT(fs_host_con_len == 5 && !memcmp(fs_host_con, "abcde", 5), "writev output");
    HT_EQ_U(SYS(sys_writev, 1, U(iov), 0), 0);
    HT_EQ_U(SYS(sys_writev, 1, U(iov), IOV_MAX + 1), -EINVAL);
    HT_EQ_U(SYS(sys_writev, 1, U(iov), ARG(-1)), -EINVAL);
    HT_EQ_U(SYS(sys_writev, 1, 16, 2), -EFAULT);
    iov[1].len = ARG(-5);
    HT_EQ_U(SYS(sys_writev, 1, U(iov), 3), -EINVAL);
    iov[1] = (struct linux_iovec){ 16, 4 };
    fs_host_con_len = 0;
    HT_EQ_U(SYS(sys_writev, 1, U(iov), 3), -EFAULT);          /* checked before any byte */
    HT_EQ_U(fs_host_con_len, 0);
    for (int i = 0; i < 12; i++)
        iov[i] = (struct linux_iovec){ U("z"), 1 };           /* more than the fast array */
    HT_EQ_U(SYS(sys_writev, 1, U(iov), 12), 12);
    HT_EQ_U(SYS(sys_readv, 1, U(iov), 1), 0);                 /* console reads: EOF */
    long fd = open_path("/README", O_RDONLY);
    HT_EQ_U(SYS(sys_writev, fd, U(iov), 1), -EBADF);
    teardown();
}

static void t_readv_pipe(void)
{
    setup();
    int fds[2];
    HT_EQ_U(SYS(sys_pipe, U(fds)), 0);
    HT_EQ_U(fds[0], 3);
    HT_EQ_U(fds[1], 4);
    HT_EQ_U(SYS(sys_write, fds[1], U("0123456789"), 10), 10);
    char a[4], b[100];
    struct linux_iovec iov[2] = { { U(a), 4 }, { U(b), 100 } };
    /* musl's fread: the caller's buffer, then its own; no wait for the second. */
    HT_EQ_U(SYS(sys_readv, fds[0], U(iov), 2), 10);
    HT_ASSERT(!memcmp(a, "0123", 4) && !memcmp(b, "456789", 6), "readv bytes");
    HT_EQ_U(SYS(sys_write, fds[1], U("xyzw"), 4), 4);
    HT_EQ_U(SYS(sys_readv, fds[0], U(iov), 2), 4);            /* first exactly filled */
    if (setjmp(fh_would_block) == 0) {
        SYS(sys_readv, fds[0], U(iov), 2);
        HT_FAIL("readv of an empty pipe did not wait");
    }
    HT_EQ_U(SYS(sys_lseek, fds[0], 0, SEEK_SET), -ESPIPE);
    HT_EQ_U(SYS(sys_read, fds[1], U(b), 1), -EBADF);
    HT_EQ_U(SYS(sys_write, fds[0], U(b), 1), -EBADF);
    HT_EQ_U(SYS(sys_fcntl, fds[0], F_GETFL, 0), O_RDONLY);
    HT_EQ_U(SYS(sys_fcntl, fds[1], F_GETFL, 0), O_WRONLY);
    HT_EQ_U(SYS(sys_close, fds[0]), 0);
    HT_EQ_U(SYS(sys_write, fds[1], U("x"), 1), -EPIPE);
    teardown();
}

static void t_pipe2_flags(void)
{
    setup();
    int fds[2];
    HT_EQ_U(SYS(sys_pipe2, U(fds), 0x1), -EINVAL);
    HT_EQ_U(SYS(sys_pipe2, U(fds), O_CLOEXEC | O_NONBLOCK), 0);
    HT_EQ_U(SYS(sys_fcntl, fds[0], F_GETFD, 0), FD_CLOEXEC);
    HT_EQ_U(SYS(sys_fcntl, fds[1], F_GETFL, 0), O_WRONLY | O_NONBLOCK);
    char c;
    HT_EQ_U(SYS(sys_read, fds[0], U(&c), 1), -EAGAIN);
    HT_EQ_U(fd_count(), 5);
    HT_EQ_U(SYS(sys_pipe2, 16, 0), -EFAULT);
    HT_EQ_U(fd_count(), 5);                                    /* both new fds closed again */
    HT_EQ_U(SYS(sys_pipe, 0), -EFAULT);
    /* FIONBIO and F_SETFL switch waiting off and on. */
    int one = 1, zero = 0, n = -1;
    HT_EQ_U(SYS(sys_ioctl, fds[0], 0x5421, U(&zero)), 0);
    HT_EQ_U(SYS(sys_fcntl, fds[0], F_GETFL, 0), O_RDONLY);
    HT_EQ_U(SYS(sys_ioctl, fds[0], 0x5421, U(&one)), 0);
    HT_EQ_U(SYS(sys_fcntl, fds[0], F_SETFL, 0), 0);
    HT_EQ_U(SYS(sys_fcntl, fds[0], F_SETFL, O_NONBLOCK | O_RDWR), 0);  /* access mode kept */
    HT_EQ_U(SYS(sys_fcntl, fds[0], F_GETFL, 0), O_RDONLY | O_NONBLOCK);
    HT_EQ_U(SYS(sys_ioctl, fds[0], 0x541b, U(&n)), 0);         /* FIONREAD */
    HT_EQ_U(n, 0);
    HT_EQ_U(SYS(sys_ioctl, fds[0], 0x5450, 0), 0);             /* FIONCLEX */
    HT_EQ_U(SYS(sys_fcntl, fds[0], F_GETFD, 0), 0);
    HT_EQ_U(SYS(sys_ioctl, fds[0], 0x5451, 0), 0);             /* FIOCLEX */
    HT_EQ_U(SYS(sys_fcntl, fds[0], F_GETFD, 0), 1);
    teardown();
}

/* ---- dup and fcntl ------------------------------------------------------------------------------ */

static void t_dup_fcntl(void)
{
    setup();
    HT_EQ_U(SYS(sys_dup, 1), 3);
    HT_EQ_U(SYS(sys_dup, 30), -EBADF);
    HT_EQ_U(SYS(sys_dup2, 1, 1), 1);
    HT_EQ_U(SYS(sys_dup2, 30, 30), -EBADF);
    HT_EQ_U(SYS(sys_dup2, 1, 10), 10);
    HT_EQ_U(SYS(sys_dup2, 1, FD_MAX), -EBADF);
    HT_EQ_U(SYS(sys_dup3, 1, 1, 0), -EINVAL);
    HT_EQ_U(SYS(sys_dup3, 1, 11, 0x1), -EINVAL);
    HT_EQ_U(SYS(sys_dup3, 1, 11, O_CLOEXEC), 11);
    HT_EQ_U(SYS(sys_fcntl, 11, F_GETFD, 0), FD_CLOEXEC);
    HT_EQ_U(SYS(sys_fcntl, 1, F_DUPFD, 10), 12);
    HT_EQ_U(SYS(sys_fcntl, 1, F_DUPFD_CLOEXEC, 20), 20);
    HT_EQ_U(SYS(sys_fcntl, 20, F_GETFD, 0), FD_CLOEXEC);
    HT_EQ_U(SYS(sys_fcntl, 1, F_DUPFD, FD_MAX), -EINVAL);
    HT_EQ_U(SYS(sys_fcntl, 1, F_DUPFD, ARG(-1)), -EINVAL);
    HT_EQ_U(SYS(sys_fcntl, 20, F_SETFD, 0), 0);
    HT_EQ_U(SYS(sys_fcntl, 20, F_GETFD, 0), 0);
    HT_EQ_U(SYS(sys_fcntl, 1, 5 /* F_GETLK */, 0), -EINVAL);
    HT_EQ_U(SYS(sys_fcntl, 33, F_GETFD, 0), -EBADF);
    HT_EQ_U(fd_count(), 8);                                    /* 0-3, 10, 11, 12, 20 */
    files_close_on_exec(current->files);
    HT_EQ_U(fd_count(), 7);                                    /* 11 went */
    teardown();
}

static const struct htest cases[] = {
    HT_CASE(open_read_initrd), HT_CASE(fstat_initrd), HT_CASE(open_errors),
    HT_CASE(dirs_and_at), HT_CASE(emfile), HT_CASE(access_getcwd), HT_CASE(proc_files),
    HT_CASE(console), HT_CASE(rw_counts), HT_CASE(writev), HT_CASE(readv_pipe),
    HT_CASE(pipe2_flags), HT_CASE(dup_fcntl),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
