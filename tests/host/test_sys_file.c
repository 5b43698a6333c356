/*
 * Host tests of the file system calls (kernel/fs/sys_file.c) over the real
 * console file, initrd file system, pipes and /proc: each case calls the
 * handlers as the dispatcher would, with "user" pointers that are host
 * pointers (file_host.c checks them against a window).  The initrd is a
 * newc archive written in memory; boot_info points at it through the
 * direct-map arithmetic.  The memory statistics /proc shows are stubs
 * here: what is tested is the plumbing and Linux's error codes.
 */
#include <compat32/mmu32.h>
#include <stdio.h>
#include <stdlib.h>

#include "htest.h"
#include "file_host.h"
#include <kernel/console.h>
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/kernel.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <mm/slab.h>
#include <mm/vma.h>
#include <mm/vmalloc.h>
#include <mm/zone.h>

/* Handlers sys_file.c offers beyond syscall.h's list. */
long sys_access(const struct sysargs *a);
long sys_pread64(const struct sysargs *a);
long sys_getcwd(const struct sysargs *a);
long sys_dup3(const struct sysargs *a);

/* ---- stubs: consoles, statistics, the boot hand-off --------------------------- */

static char com2[4096], con[4096];
static size_t com2_len, con_len;

void serial2_write(const char *s, size_t n)
{
    if (com2_len + n <= sizeof(com2)) {
        memcpy(com2 + com2_len, s, n);
        com2_len += n;
    }
}

void console_write(const char *s, size_t n)
{
    if (con_len + n <= sizeof(con)) {
        memcpy(con + con_len, s, n);
        con_len += n;
    }
}

bool fbcon_active(void)
{
    return false;
}

void fbcon_get_info(struct fbcon_info *out)
{
    memset(out, 0, sizeof(*out));
}

#define MEMINFO_TEXT "MemTotal:        1024 kB\nMemFree:          512 kB\n"
#define MAPS_TEXT "00400000-00401000 r-xp 00000000 00:01 5 /bin/init\n"
#define BIG_LINES 800            /* slabinfo: 800 lines of 25 bytes, beyond 4 KiB */

int meminfo_show(char *buf, size_t size)
{
    return snprintf(buf, size, "%s", MEMINFO_TEXT);
}

int buddyinfo_show(char *buf, size_t size)
{
    return snprintf(buf, size, "Node 0, zone   Normal 1 2 3\n");
}

int zoneinfo_show(char *buf, size_t size)
{
    return snprintf(buf, size, "Node 0, zone   Normal\n");
}

int vmallocinfo(char *buf, size_t size)
{
    return snprintf(buf, size, "%s", "");
}

int slabinfo(char *buf, size_t size)
{
    size_t n = 0;
    for (int i = 0; i < BIG_LINES; i++) {
        char line[32];
        int k = snprintf(line, sizeof(line), "cache-%05d 1 2 3 4 5 6\n", i);
        if (n + (size_t)k < size)
            memcpy(buf + n, line, (size_t)k);
        n += (size_t)k;
    }
    if (size)
        buf[n < size ? n : size - 1] = 0;
    return (int)n;
}

static int maps_calls;

int mm_maps(struct mm *mm, char *buf, size_t size)
{
    (void)mm;
    maps_calls++;
    return snprintf(buf, size, "%s", MAPS_TEXT);
}

/* compat32's page-table dump (compat32/mmu32.c): the fake mm of these
 * tests is a 64-bit one, so /proc/self/pagetable32 reads empty. */
bool mm_is32(const struct mm *mm)
{
    (void)mm;
    return false;
}

void mmu32_dump(const struct mm *mm, uint64_t start, uint64_t end, struct sbuf *out)
{
    (void)mm, (void)start, (void)end, (void)out;
}

const struct boot_info *boot_info;
static struct boot_info bi;

/* ---- a newc archive --------------------------------------------------------------- */

static uint8_t ar[8192];
static size_t ar_len;

static void ar_put(const void *p, size_t n)
{
    if (ar_len + n > sizeof(ar))
        abort();
    memcpy(ar + ar_len, p, n);
    ar_len += n;
}

static void ar_entry(const char *name, unsigned ino, unsigned mode, const char *data)
{
    char hdr[111];
    size_t dlen = data ? strlen(data) : 0;
    snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
             ino, mode, 0u, 0u, (mode & S_IFMT) == S_IFDIR ? 2u : 1u, 1700000000u,
             (unsigned)dlen, 0u, 0u, 0u, 0u, (unsigned)strlen(name) + 1, 0u);
    ar_put(hdr, 110);
    ar_put(name, strlen(name) + 1);
    while (ar_len % 4)
        ar_put("", 1);
    ar_put(data ? data : "", dlen);
    while (ar_len % 4)
        ar_put("", 1);
}

#define INIT_TEXT "\177ELF pretend program"
#define README_TEXT "read me\n"

static void build_initrd(void)
{
    ar_len = 0;
    ar_entry("bin", 10, S_IFDIR | 0755, NULL);
    ar_entry("bin/init", 11, S_IFREG | 0755, INIT_TEXT);
    ar_entry("README", 12, S_IFREG | 0644, README_TEXT);
    ar_entry("etc/motd", 13, S_IFREG | 0644, "hello\n");     /* "etc" is implied */
    ar_entry("link", 14, 0120000 | 0777, "README");           /* a symlink: unsupported */
    ar_entry("TRAILER!!!", 0, 0, NULL);
    memset(&bi, 0, sizeof(bi));
    /* phys_to_virt adds the direct-map base: take it away here (mod 2^64). */
    bi.initrd.phys = (uint64_t)(uintptr_t)ar - BOOT_DIRECT_MAP_BASE;
    bi.initrd.size = ar_len;
    boot_info = &bi;
}

/* ---- calling the handlers --------------------------------------------------------------- */

#define SYS(fn, ...) call_sys(fn, (uint64_t[6]){ __VA_ARGS__ })

static long call_sys(long (*fn)(const struct sysargs *), const uint64_t *args)
{
    struct sysargs a;
    memcpy(a.arg, args, sizeof(a.arg));
    return fn(&a);
}

#define ARG(x) ((uint64_t)(int64_t)(x))

static void setup(void)
{
    fh_reset();
    build_initrd();
    com2_len = con_len = 0;
    maps_calls = 0;
    console_set_tty(true);
    current->files = files_create_std();
    current->mm = (struct mm *)(uintptr_t)0x1000;     /* only passed to mm_maps */
}

static void teardown(void)
{
    files_close_all(current->files);
    current->files = NULL;
    current->mm = NULL;
}

static long open_path(const char *path, unsigned flags)
{
    return SYS(sys_open, U(path), flags, 0);
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
    HT_EQ_U(st.st_ino, 11);
    HT_EQ_U(st.st_nlink, 1);
    HT_EQ_U(st.st_blksize, 4096);
    HT_EQ_U(st.st_blocks, 8);
    HT_EQ_U(st.st_mtim.tv_sec, 1700000000);
    HT_EQ_U(st.pad0, 0);
    long fd = open_path("/README", O_RDONLY);
    struct linux_stat st2;
    HT_EQ_U(SYS(sys_fstat, fd, U(&st2)), 0);
    HT_EQ_U(st2.st_size, strlen(README_TEXT));
    HT_EQ_U(st2.st_mode, S_IFREG | 0644);
    HT_EQ_U(SYS(sys_fstat, fd, 16), -EFAULT);
    HT_EQ_U(SYS(sys_fstat, 40, U(&st2)), -EBADF);
    HT_EQ_U(SYS(sys_stat, U("/etc"), U(&st)), 0);             /* implied directory */
    HT_ASSERT(S_ISDIR(st.st_mode), "/etc mode %o", st.st_mode);
    HT_EQ_U(SYS(sys_stat, U("/"), U(&st)), 0);
    HT_ASSERT(S_ISDIR(st.st_mode), "/ mode %o", st.st_mode);
    HT_EQ_U(SYS(sys_stat, U("/link"), U(&st)), -ENOENT);
    HT_EQ_U(SYS(sys_stat, U("/nothing"), 16), -ENOENT);      /* the path is looked at first */
    HT_EQ_U(SYS(sys_stat, U("/README"), 16), -EFAULT);
    /* newfstatat */
    HT_EQ_U(SYS(sys_newfstatat, ARG(AT_FDCWD), U("bin/init"), U(&st), 0), 0);
    HT_EQ_U(st.st_ino, 11);
    HT_EQ_U(SYS(sys_newfstatat, fd, U(""), U(&st), AT_EMPTY_PATH), 0);
    HT_EQ_U(st.st_ino, 12);
    HT_EQ_U(SYS(sys_newfstatat, fd, 0, U(&st), AT_EMPTY_PATH), 0);
    HT_EQ_U(SYS(sys_newfstatat, ARG(AT_FDCWD), U(""), U(&st), AT_EMPTY_PATH), 0);
    HT_ASSERT(S_ISDIR(st.st_mode), "AT_FDCWD \"\" is the root");
    HT_EQ_U(SYS(sys_newfstatat, fd, U(""), U(&st), 0), -ENOENT);
    HT_EQ_U(SYS(sys_newfstatat, fd, U("x"), U(&st), 0x4), -EINVAL);
    HT_EQ_U(SYS(sys_newfstatat, fd, U("x"), U(&st), 0), -ENOTDIR);  /* fd is a file */
    HT_EQ_U(SYS(sys_newfstatat, 50, U("x"), U(&st), 0), -EBADF);
    HT_EQ_U(SYS(sys_newfstatat, 50, U("/README"), U(&st), 0), 0);   /* absolute: no dirfd */
    teardown();
}

static void t_open_errors(void)
{
    setup();
    HT_EQ_U(open_path("/nothing", O_RDONLY), -ENOENT);
    HT_EQ_U(open_path("/nothing", O_RDONLY | O_CREAT), -EROFS);
    HT_EQ_U(open_path("/nothing/x", O_RDONLY | O_CREAT), -ENOENT);
    HT_EQ_U(open_path("/README", O_WRONLY), -EROFS);
    HT_EQ_U(open_path("/README", O_RDWR), -EROFS);
    HT_EQ_U(open_path("/README", O_RDONLY | O_TRUNC), -EROFS);
    HT_EQ_U(open_path("/README", O_RDONLY | O_CREAT | O_EXCL), -EEXIST);
    HT_EQ_U(open_path("/README", O_RDONLY | O_DIRECTORY), -ENOTDIR);
    HT_EQ_U(open_path("/README/", O_RDONLY), -ENOTDIR);
    HT_EQ_U(open_path("/README/x", O_RDONLY), -ENOTDIR);
    HT_EQ_U(open_path("/bin", O_RDWR), -EISDIR);
    HT_EQ_U(open_path("/bin", O_RDONLY | O_CREAT), -EISDIR);
    HT_EQ_U(open_path("/", O_WRONLY), -EISDIR);
    HT_EQ_U(open_path("/bin", O_RDWR | O_TMPFILE), -EROFS);
    HT_EQ_U(open_path("/bin", O_RDONLY | O_TMPFILE), -EINVAL);
    HT_EQ_U(open_path("", O_RDONLY), -ENOENT);
    HT_EQ_U(SYS(sys_open, 16, O_RDONLY, 0), -EFAULT);
    HT_EQ_U(SYS(sys_open, 0, O_RDONLY, 0), -EFAULT);
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
    free(longp);
    HT_EQ_U(fd_count(), 4);
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
    HT_EQ_U(SYS(sys_openat, ARG(AT_FDCWD), U("link"), O_RDONLY, 0), -ENOENT);
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
    HT_EQ_U(SYS(sys_access, U("/README"), 1), -EACCES);
    HT_EQ_U(SYS(sys_access, U("/README"), 2), -EROFS);
    HT_EQ_U(SYS(sys_access, U("/proc/meminfo"), 2), -EACCES);
    HT_EQ_U(SYS(sys_access, U("/bin"), 1), 0);
    HT_EQ_U(SYS(sys_access, U("/nothing"), 0), -ENOENT);
    HT_EQ_U(SYS(sys_access, U("/README"), 8), -EINVAL);
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
    HT_EQ_U(maps_calls, 2);
    HT_EQ_U(open_path("/proc/2/maps", O_RDONLY), -ENOENT);
    HT_EQ_U(open_path("/proc/12x/maps", O_RDONLY), -ENOENT);
    HT_EQ_U(open_path("/proc/nothing", O_RDONLY), -ENOENT);
    HT_EQ_U(open_path("/proc/nothing", O_RDONLY | O_CREAT), -EACCES);
    HT_EQ_U(open_path("/proc/meminfo", O_WRONLY), -EACCES);
    HT_EQ_U(open_path("/proc", O_WRONLY), -EISDIR);
    long dfd = open_path("/proc/self", O_RDONLY);
    HT_EQ_U(SYS(sys_read, dfd, U(buf), 10), -EISDIR);
    HT_EQ_U(SYS(sys_openat, dfd, U("maps"), O_RDONLY, 0) >= 0, 1);
    HT_EQ_U(SYS(sys_stat, U("/proc"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFDIR | 0555);
    HT_EQ_U(SYS(sys_stat, U("/proc/meminfo/"), U(&st)), -ENOTDIR);
    /* Out of memory while generating: -ENOMEM, nothing leaks. */
    fh_kmalloc_fail_in = 1;                                   /* the path buffer only */
    HT_EQ_U(open_path("/proc/meminfo", O_RDONLY), -ENOMEM);
    fh_kmalloc_fail_in = -1;
    teardown();
}

/* ---- the console --------------------------------------------------------------------------- */

static void t_console(void)
{
    setup();
    HT_EQ_U(SYS(sys_write, 1, U("hi\n"), 3), 3);
    HT_EQ_U(com2_len, 3);
    HT_ASSERT(!memcmp(com2, "hi\n", 3) && con_len == 3 && !memcmp(con, "hi\n", 3),
              "output on both consoles");
    char buf[8];
    HT_EQ_U(SYS(sys_read, 0, U(buf), sizeof(buf)), 0);
    HT_EQ_U(SYS(sys_lseek, 1, 0, SEEK_SET), -ESPIPE);
    HT_EQ_U(SYS(sys_lseek, 1, 0, 9), -EINVAL);
    uint16_t ws[4];
    HT_EQ_U(SYS(sys_ioctl, 1, 0x5413, U(ws)), 0);             /* TIOCGWINSZ */
    HT_EQ_U(ws[0], 25);
    HT_EQ_U(ws[1], 80);
    uint32_t tio[9];
    HT_EQ_U(SYS(sys_ioctl, 0, 0x5401, U(tio)), 0);            /* TCGETS */
    HT_EQ_U(tio[3], 0x8a3b);
    HT_EQ_U(SYS(sys_ioctl, 0, 0x5401, 16), -EFAULT);
    HT_EQ_U(SYS(sys_ioctl, 0, 0x1234, 0), -ENOTTY);
    HT_EQ_U(SYS(sys_ioctl, 9, 0x5413, U(ws)), -EBADF);
    console_set_tty(false);
    HT_EQ_U(SYS(sys_ioctl, 1, 0x5413, U(ws)), -ENOTTY);
    console_set_tty(true);
    struct linux_stat st;
    HT_EQ_U(SYS(sys_fstat, 2, U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFCHR | 0620);
    HT_EQ_U(st.st_rdev, 0x501);
    HT_EQ_U(SYS(sys_fcntl, 1, F_GETFL, 0), O_RDWR | O_LARGEFILE);
    /* A long write goes out whole; a fault part-way returns the bytes before it. */
    static char big[1000];
    memset(big, 'x', sizeof(big));
    com2_len = 0;
    HT_EQ_U(SYS(sys_write, 1, U(big), sizeof(big)), sizeof(big));
    HT_EQ_U(com2_len, sizeof(big));
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
    HT_ASSERT(com2_len == 5 && !memcmp(com2, "abcde", 5), "writev output");
    HT_EQ_U(SYS(sys_writev, 1, U(iov), 0), 0);
    HT_EQ_U(SYS(sys_writev, 1, U(iov), IOV_MAX + 1), -EINVAL);
    HT_EQ_U(SYS(sys_writev, 1, U(iov), ARG(-1)), -EINVAL);
    HT_EQ_U(SYS(sys_writev, 1, 16, 2), -EFAULT);
    iov[1].len = ARG(-5);
    HT_EQ_U(SYS(sys_writev, 1, U(iov), 3), -EINVAL);
    iov[1] = (struct linux_iovec){ 16, 4 };
    com2_len = 0;
    HT_EQ_U(SYS(sys_writev, 1, U(iov), 3), -EFAULT);          /* checked before any byte */
    HT_EQ_U(com2_len, 0);
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
