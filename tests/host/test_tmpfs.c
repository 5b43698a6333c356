/*
 * Host tests of tmpfs's files (kernel/fs/tmpfs.c, pagecache.c, inode.c,
 * initrd_fs.c) and of the attribute calls (kernel/fs/sys_attr.c), over
 * the real page allocator (tests/host/mm_host.c): the pages of a file
 * are real frames, so every case ends with a leak check of inodes,
 * page-cache pages and frames (fs_host_teardown), and a few cases compare
 * the free page count before and after on purpose.  The names and the
 * working directory are tests/host/test_tmpfs_names.c's.
 */
#include <stdio.h>
#include <stdlib.h>

#include "test_tmpfs.h"
#include <kernel/kernel.h>
#include <kernel/task.h>
#include <mm/gfp.h>
#include <mm/page.h>

/* ---- the tree and the wrappers (test_tmpfs.h) ------------------------------------ */

void tt_setup(void)
{
    fs_host_ar_begin();
    fs_host_ar_entry("bin", 10, S_IFDIR | 0755, NULL);
    fs_host_ar_entry("bin/init", 11, S_IFREG | 0755, INIT_TEXT);
    fs_host_ar_entry("bin/sh", 12, S_IFLNK | 0777, "init");
    fs_host_ar_entry("./etc/motd", 13, S_IFREG | 0644, MOTD_TEXT);
    fs_host_ar_entry("etc/link", 14, S_IFLNK | 0777, "motd");
    fs_host_ar_entry("lib/deep/file", 15, S_IFREG | 0600, "deep");
    fs_host_ar_end();
    fs_host_setup();
}

long tt_open(const char *path, unsigned flags, unsigned mode)
{
    return SYS(sys_open, U(path), flags, mode);
}

long tt_write(long fd, const void *buf, size_t n)
{
    return SYS(sys_write, ARG(fd), U(buf), n);
}

long tt_read(long fd, void *buf, size_t n)
{
    return SYS(sys_read, ARG(fd), U(buf), n);
}

long tt_stat(const char *path, struct linux_stat *st)
{
    return SYS(sys_stat, U(path), U(st));
}

long tt_lstat(const char *path, struct linux_stat *st)
{
    return SYS(sys_lstat, U(path), U(st));
}

long tt_slurp(const char *path, char *buf, size_t size)
{
    long fd = tt_open(path, O_RDONLY, 0);
    if (fd < 0)
        return fd;
    size_t n = 0;
    for (;;) {
        long k = tt_read(fd, buf + n, size - n);
        if (k <= 0) {
            SYS(sys_close, ARG(fd));
            return k < 0 ? k : (long)n;
        }
        n += (size_t)k;
    }
}

long tt_put(const char *path, const char *text)
{
    long fd = tt_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return fd;
    long r = tt_write(fd, text, strlen(text));
    SYS(sys_close, ARG(fd));
    return r < 0 ? r : 0;
}

static struct inode *inode_of(const char *path)
{
    struct inode *ino;
    if (namei(NULL, path, LOOKUP_FOLLOW, &ino))
        return NULL;
    inode_put(ino);                    /* the tree keeps it: a peek */
    return ino;
}

/* ---- files and their pages --------------------------------------------------------- */

static void t_create_write_read(void)
{
    tt_setup();
    long fd = tt_open("/etc/new", O_RDWR | O_CREAT | O_EXCL, 0666);
    HT_EQ_U(fd, 3);
    HT_EQ_U(tt_write(fd, "abcdef", 6), 6);
    HT_EQ_U(SYS(sys_lseek, fd, 2, SEEK_SET), 2);
    char buf[16] = { 0 };
    HT_EQ_U(tt_read(fd, buf, sizeof(buf)), 4);
    HT_EQ_STR(buf, "cdef");
    HT_EQ_U(SYS(sys_lseek, fd, 0, SEEK_END), 6);
    HT_EQ_U(SYS(sys_lseek, fd, 10, SEEK_SET), 10);
    HT_EQ_U(tt_write(fd, "Z", 1), 1);                  /* a gap reads as zeros */
    struct linux_stat st;
    HT_EQ_U(SYS(sys_fstat, fd, U(&st)), 0);
    HT_EQ_U(st.st_size, 11);
    HT_EQ_U(st.st_mode, S_IFREG | 0644);                /* 0666 & ~022 */
    HT_EQ_U(st.st_nlink, 1);
    HT_EQ_U(st.st_blocks, 8);
    HT_EQ_U(pagecache_pages(), 1);
    memset(buf, 'x', sizeof(buf));
    HT_EQ_U(SYS(sys_pread64, fd, U(buf), 16, 0), 11);
    HT_ASSERT(!memcmp(buf, "abcdef\0\0\0\0Z", 11), "contents with the gap");
    HT_EQ_U(SYS(sys_pwrite64, fd, U("XY"), 2, 7), 2);
    HT_EQ_U(SYS(sys_lseek, fd, 0, SEEK_CUR), 11);       /* pwrite leaves the offset */
    HT_EQ_U(SYS(sys_pwrite64, fd, U("XY"), 2, ARG(-1)), -EINVAL);
    HT_EQ_U(SYS(sys_pwrite64, 0, U("XY"), 2, 0), -ESPIPE);
    HT_EQ_U(SYS(sys_pwrite64, 99, U("XY"), 2, 0), -EBADF);
    HT_EQ_U(tt_slurp("/etc/new", buf, sizeof(buf)), 11);
    HT_ASSERT(!memcmp(buf, "abcdef\0XY\0Z", 11), "pwrite's bytes");
    /* O_APPEND writes at the end, wherever the offset is. */
    long afd = tt_open("/etc/new", O_WRONLY | O_APPEND, 0);
    HT_EQ_U(SYS(sys_lseek, afd, 0, SEEK_SET), 0);
    HT_EQ_U(tt_write(afd, "!", 1), 1);
    HT_EQ_U(SYS(sys_lseek, afd, 0, SEEK_CUR), 12);
    /* writev through file_rwv. */
    struct linux_iovec iov[2] = { { U("12"), 2 }, { U("345"), 3 } };
    HT_EQ_U(SYS(sys_writev, afd, U(iov), 2), 5);
    HT_EQ_U(tt_slurp("/etc/new", buf, sizeof(buf)), 16);
    HT_ASSERT(!memcmp(buf + 11, "!1234", 5), "appended");
    /* Bad pointers: nothing written, nothing grown. */
    HT_EQ_U(tt_write(fd, (void *)16, 4), -EFAULT);
    HT_EQ_U(SYS(sys_fstat, fd, U(&st)), 0);
    HT_EQ_U(st.st_size, 17);
    /* O_TRUNC empties it and gives the page back. */
    long tfd = tt_open("/etc/new", O_RDONLY | O_TRUNC, 0);
    HT_EQ_U(SYS(sys_fstat, tfd, U(&st)), 0);
    HT_EQ_U(st.st_size, 0);
    HT_EQ_U(pagecache_pages(), 0);
    TT_TEARDOWN();
}

static void t_sparse_and_truncate(void)
{
    tt_setup();
    long fd = tt_open("/big", O_RDWR | O_CREAT, 0600);
    char buf[4096];
    memset(buf, 'b', sizeof(buf));
    /* Pages 0, 63, 64, 4096 and 64^3: the tree grows a level each time. */
    uint64_t where[] = { 0, 63, 64, 4096, 262144, 300000 };
    for (size_t i = 0; i < HT_COUNT(where); i++)
        HT_EQ_U(SYS(sys_pwrite64, fd, U(buf), 10, where[i] * 4096 + 5), 10);
    struct inode *ino = inode_of("/big");
    HT_ASSERT(ino, "no inode");
    HT_EQ_U(pagecache_pages(), HT_COUNT(where));
    HT_EQ_U(ino->reg.pages.nr_pages, HT_COUNT(where));
    HT_EQ_U(ino->reg.pages.height, 4);
    for (size_t i = 0; i < HT_COUNT(where); i++) {
        struct page *pg = pagecache_find(ino, where[i]);
        HT_ASSERT(pg, "page %lu not found", where[i]);
        HT_ASSERT(!memcmp((char *)page_address(pg) + 5, buf, 10), "page %lu bytes", where[i]);
    }
    HT_ASSERT(!pagecache_find(ino, 1) && !pagecache_find(ino, 65) &&
                  !pagecache_find(ino, 1ul << 40),
              "holes have no page");
    struct linux_stat st;
    HT_EQ_U(SYS(sys_fstat, fd, U(&st)), 0);
    HT_EQ_U(st.st_size, 300000ul * 4096 + 15);
    HT_EQ_U(st.st_blocks, HT_COUNT(where) * 8);
    /* A hole reads as zeros, without making a page. */
    memset(buf, 1, 100);
    HT_EQ_U(SYS(sys_pread64, fd, U(buf), 100, 4096 * 7), 100);
    HT_ASSERT(!memchr(buf, 1, 100), "hole is not zero");
    HT_EQ_U(pagecache_pages(), HT_COUNT(where));
    /* Shrinking frees the pages beyond and zeroes the tail of the last one. */
    HT_EQ_U(SYS(sys_ftruncate, fd, 64 * 4096 + 8), 0);
    HT_EQ_U(pagecache_pages(), 3);
    HT_EQ_U(ino->reg.pages.height, 2);
    HT_EQ_U(SYS(sys_ftruncate, fd, 64 * 4096 + 100), 0);        /* grown again: zeros */
    HT_EQ_U(SYS(sys_pread64, fd, U(buf), 100, 64 * 4096), 100);
    HT_ASSERT(!memcmp(buf + 5, "bbb", 3) && !memchr(buf + 8, 'b', 92), "tail after regrowth");
    HT_EQ_U(SYS(sys_ftruncate, fd, 0), 0);
    HT_EQ_U(pagecache_pages(), 0);
    HT_EQ_U(ino->reg.pages.height, 0);
    HT_ASSERT(!ino->reg.pages.root, "root left");
    /* truncate and ftruncate's errors. */
    HT_EQ_U(SYS(sys_ftruncate, fd, ARG(-1)), -EINVAL);
    HT_EQ_U(SYS(sys_ftruncate, 77, 0), -EBADF);
    HT_EQ_U(SYS(sys_ftruncate, 0, 0), -EINVAL);                 /* the console */
    long rfd = tt_open("/big", O_RDONLY, 0);
    HT_EQ_U(SYS(sys_ftruncate, rfd, 0), -EINVAL);               /* not open for writing */
    HT_EQ_U(SYS(sys_truncate, U("/big"), 5000), 0);
    HT_EQ_U(tt_stat("/big", &st), 0);
    HT_EQ_U(st.st_size, 5000);
    HT_EQ_U(st.st_blocks, 0);                                    /* sparse: no page */
    HT_EQ_U(SYS(sys_truncate, U("/big"), ARG(-1)), -EINVAL);
    HT_EQ_U(SYS(sys_truncate, U("/bin"), 0), -EISDIR);
    HT_EQ_U(SYS(sys_truncate, U("/nothing"), 0), -ENOENT);
    HT_EQ_U(SYS(sys_truncate, U("/proc/meminfo"), 0), -EROFS);
    HT_EQ_U(SYS(sys_truncate, U("/dev/null"), 0), -EINVAL);
    HT_EQ_U(SYS(sys_truncate, U("/big"), 0x7fffffffffffffff), 0);  /* the largest size */
    TT_TEARDOWN();
}

/* Create, write, delete: every frame comes back, while open or not. */
static void t_leak_free_pages(void)
{
    tt_setup();
    uint64_t before = fs_host_free_pages();
    static char buf[100 * 4096];
    memset(buf, 'q', sizeof(buf));
    long fd = tt_open("/tmp/f", O_RDWR | O_CREAT, 0644);
    HT_EQ_U(tt_write(fd, buf, sizeof(buf)), sizeof(buf));
    HT_EQ_U(pagecache_pages(), 100);
    HT_ASSERT(fs_host_free_pages() <= before - 100, "free pages did not drop");
    /* Unlinked while open: still readable, gone at the last close. */
    HT_EQ_U(SYS(sys_unlink, U("/tmp/f")), 0);
    struct linux_stat st;
    HT_EQ_U(SYS(sys_fstat, fd, U(&st)), 0);
    HT_EQ_U(st.st_nlink, 0);
    HT_EQ_U(SYS(sys_pread64, fd, U(buf), 10, 4096 * 99), 10);
    HT_EQ_U(pagecache_pages(), 100);
    HT_EQ_U(SYS(sys_close, fd), 0);
    HT_EQ_U(pagecache_pages(), 0);
    HT_EQ_U(fs_host_free_pages(), before);
    /* The same through a hard link, a rename over it and ftruncate. */
    HT_EQ_U(tt_put("/tmp/a", "aaaa"), 0);
    HT_EQ_U(SYS(sys_link, U("/tmp/a"), U("/tmp/b")), 0);
    HT_EQ_U(SYS(sys_unlink, U("/tmp/a")), 0);
    HT_EQ_U(pagecache_pages(), 1);
    HT_EQ_U(tt_put("/tmp/c", "cccc"), 0);
    HT_EQ_U(SYS(sys_rename, U("/tmp/c"), U("/tmp/b")), 0);   /* the old b goes */
    HT_EQ_U(pagecache_pages(), 1);
    HT_EQ_U(SYS(sys_unlink, U("/tmp/b")), 0);
    HT_EQ_U(pagecache_pages(), 0);
    HT_EQ_U(fs_host_free_pages(), before);
    TT_TEARDOWN();
}

/* The root seeded from the archive; its files are copied page by page on write. */
static void t_initrd_seed_cow(void)
{
    tt_setup();
    char buf[64] = { 0 };
    HT_EQ_U(tt_slurp("/bin/init", buf, sizeof(buf)), strlen(INIT_TEXT));
    HT_ASSERT(!memcmp(buf, INIT_TEXT, strlen(INIT_TEXT)), "init text");
    HT_EQ_U(tt_slurp("/bin/sh", buf, sizeof(buf)), strlen(INIT_TEXT));   /* a link */
    HT_EQ_U(tt_slurp("/lib/deep/file", buf, sizeof(buf)), 4);
    struct linux_stat st;
    HT_EQ_U(tt_stat("/lib", &st), 0);
    HT_EQ_U(st.st_mode, S_IFDIR | 0755);                         /* implied */
    HT_EQ_U(tt_stat("/lib/deep/file", &st), 0);
    HT_EQ_U(st.st_mode, S_IFREG | 0600);
    HT_EQ_U(tt_stat("/tmp", &st), 0);
    HT_EQ_U(st.st_mode, S_IFDIR | 01777);
    HT_EQ_U(tt_stat("/dev/null", &st), 0);
    HT_EQ_U(st.st_mode, S_IFCHR | 0666);
    HT_EQ_U(st.st_rdev, LINUX_MKDEV(1, 3));
    HT_EQ_U(pagecache_pages(), 0);                               /* nothing copied */
    struct inode *ino = inode_of("/etc/motd");
    const uint8_t *archive = ino->reg.idata;
    HT_ASSERT(archive, "motd is not in the archive");
    /* A write copies that page only; the archive is never written. */
    long fd = tt_open("/etc/motd", O_WRONLY, 0);
    HT_EQ_U(SYS(sys_lseek, fd, 1, SEEK_SET), 1);
    HT_EQ_U(tt_write(fd, "E", 1), 1);
    HT_EQ_U(pagecache_pages(), 1);
    HT_ASSERT(!memcmp(archive, MOTD_TEXT, strlen(MOTD_TEXT)), "the archive changed");
    HT_EQ_U(tt_slurp("/etc/motd", buf, sizeof(buf)), strlen(MOTD_TEXT));
    HT_ASSERT(!memcmp(buf, "hEllo\n", 6), "copy-on-write contents: %.6s", buf);
    HT_EQ_U(tt_stat("/etc/motd", &st), 0);
    HT_EQ_U(st.st_blocks, 8);
    /* Cutting a seeded file forgets the archive bytes past the cut. */
    HT_EQ_U(SYS(sys_truncate, U("/bin/init"), 4), 0);
    HT_EQ_U(SYS(sys_truncate, U("/bin/init"), 8), 0);
    HT_EQ_U(tt_slurp("/bin/init", buf, sizeof(buf)), 8);
    HT_ASSERT(!memcmp(buf, "\177ELF\0\0\0\0", 8), "cut then grown: %.8s", buf);
    HT_EQ_U(pagecache_pages(), 1);
    /* A broken archive: the root holds what came before the damage. */
    TT_TEARDOWN();
    static char bad[512];
    memcpy(bad, "070701", 6);
    memset(bad + 6, 'z', 100);
    fs_host_set_initrd(bad, sizeof(bad));
    fs_host_setup();
    HT_EQ_U(tt_stat("/tmp", &st), 0);
    HT_EQ_U(tt_stat("/proc/meminfo", &st), 0);
    TT_TEARDOWN();
}

/* tmpfs's size limit: -ENOSPC, partial writes, never a crash. */
static void t_enospc(void)
{
    tt_setup();
    struct vfs_fs *fs = &tmpfs_root_fs;
    uint64_t saved = fs->max_pages, saved_inodes = fs->max_inodes;
    fs->max_pages = fs->nr_pages + 3;
    static char buf[5 * 4096];
    memset(buf, 'n', sizeof(buf));
    long fd = tt_open("/tmp/full", O_RDWR | O_CREAT, 0644);
    HT_EQ_U(tt_write(fd, buf, sizeof(buf)), 3 * 4096);          /* what fitted */
    HT_EQ_U(tt_write(fd, buf, 1), -ENOSPC);
    struct linux_stat st;
    HT_EQ_U(SYS(sys_fstat, fd, U(&st)), 0);
    HT_EQ_U(st.st_size, 3 * 4096);
    struct linux_statfs sf;
    HT_EQ_U(SYS(sys_statfs, U("/tmp"), U(&sf)), 0);
    HT_EQ_U(sf.f_type, TMPFS_MAGIC);
    HT_EQ_U(sf.f_bfree, 0);
    HT_EQ_U(SYS(sys_ftruncate, fd, 4096), 0);
    HT_EQ_U(SYS(sys_fstatfs, fd, U(&sf)), 0);
    HT_EQ_U(sf.f_bfree, 2);
    fs->max_pages = saved;
    fs->max_inodes = fs->nr_inodes;
    HT_EQ_U(tt_open("/tmp/x", O_RDWR | O_CREAT, 0644), -ENOSPC);
    HT_EQ_U(SYS(sys_mkdir, U("/tmp/d"), 0755), -ENOSPC);
    HT_EQ_U(SYS(sys_symlink, U("x"), U("/tmp/l")), -ENOSPC);
    fs->max_inodes = saved_inodes;
    HT_EQ_U(SYS(sys_statfs, U("/proc"), U(&sf)), 0);
    HT_EQ_U(sf.f_type, PROC_SUPER_MAGIC);
    HT_EQ_U(SYS(sys_statfs, U("/nothing"), U(&sf)), -ENOENT);
    HT_EQ_U(SYS(sys_statfs, U("/"), 16), -EFAULT);
    HT_EQ_U(SYS(sys_fstatfs, 77, U(&sf)), -EBADF);
    /* Half of RAM by default. */
    HT_EQ_U(fs->max_pages, (FS_HOST_RAM >> 12) / 2);
    TT_TEARDOWN();
}

/* ---- attributes ------------------------------------------------------------------- */

static void t_umask_chmod_chown(void)
{
    tt_setup();
    HT_EQ_U(SYS(sys_umask, 077), 022);
    HT_EQ_U(SYS(sys_umask, 0777 | 01000), 077);                  /* only 0777 is kept */
    HT_EQ_U(SYS(sys_umask, 027), 0777);
    long fd = tt_open("/tmp/m", O_RDWR | O_CREAT, 0777);
    struct linux_stat st;
    HT_EQ_U(SYS(sys_fstat, fd, U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFREG | 0750);
    HT_EQ_U(SYS(sys_mkdir, U("/tmp/d"), 01777), 0);
    HT_EQ_U(tt_stat("/tmp/d", &st), 0);
    HT_EQ_U(st.st_mode, S_IFDIR | 01750);
    HT_EQ_U(SYS(sys_chmod, U("/tmp/m"), 04755), 0);
    HT_EQ_U(tt_stat("/tmp/m", &st), 0);
    HT_EQ_U(st.st_mode, S_IFREG | 04755);
    HT_EQ_U(SYS(sys_chown, U("/tmp/m"), 1000, 100), 0);
    HT_EQ_U(tt_stat("/tmp/m", &st), 0);
    HT_EQ_U(st.st_uid, 1000);
    HT_EQ_U(st.st_gid, 100);
    HT_EQ_U(st.st_mode, S_IFREG | 0755);                          /* set-user-ID cleared */
    HT_EQ_U(SYS(sys_fchown, fd, ARG(-1), 7), 0);
    HT_EQ_U(SYS(sys_fstat, fd, U(&st)), 0);
    HT_EQ_U(st.st_uid, 1000);
    HT_EQ_U(st.st_gid, 7);
    HT_EQ_U(SYS(sys_fchmod, fd, 0600), 0);
    HT_EQ_U(SYS(sys_fchmodat, ARG(AT_FDCWD), U("tmp/m"), 0640), 0);
    HT_EQ_U(tt_stat("/tmp/m", &st), 0);
    HT_EQ_U(st.st_mode, S_IFREG | 0640);
    /* lchown changes the link, chown its target. */
    HT_EQ_U(SYS(sys_symlink, U("m"), U("/tmp/lm")), 0);
    HT_EQ_U(SYS(sys_lchown, U("/tmp/lm"), 5, 5), 0);
    HT_EQ_U(tt_lstat("/tmp/lm", &st), 0);
    HT_EQ_U(st.st_uid, 5);
    HT_EQ_U(tt_stat("/tmp/lm", &st), 0);
    HT_EQ_U(st.st_uid, 1000);
    HT_EQ_U(SYS(sys_fchownat, ARG(AT_FDCWD), U("/tmp/lm"), 6, 6, AT_SYMLINK_NOFOLLOW), 0);
    HT_EQ_U(SYS(sys_fchownat, ARG(AT_FDCWD), U("/tmp/lm"), 6, 6, 0x4), -EINVAL);
    HT_EQ_U(SYS(sys_fchownat, fd, U(""), 9, 9, AT_EMPTY_PATH), 0);
    HT_EQ_U(SYS(sys_fstat, fd, U(&st)), 0);
    HT_EQ_U(st.st_uid, 9);
    /* Errors. */
    HT_EQ_U(SYS(sys_chmod, U("/nothing"), 0644), -ENOENT);
    HT_EQ_U(SYS(sys_chmod, U("/proc/meminfo"), 0644), -EROFS);
    HT_EQ_U(SYS(sys_chown, U("/proc/meminfo"), 0, 0), -EROFS);
    HT_EQ_U(SYS(sys_fchmod, 77, 0644), -EBADF);
    HT_EQ_U(SYS(sys_chmod, 16, 0644), -EFAULT);
    TT_TEARDOWN();
}

#define UTIME_NOW  ((1l << 30) - 1l)
#define UTIME_OMIT ((1l << 30) - 2l)

static void t_times_statx(void)
{
    tt_setup();
    fs_host_clock_ns = 5000000000ul;
    HT_EQ_U(tt_put("/tmp/t", "x"), 0);
    struct linux_stat st;
    HT_EQ_U(tt_stat("/tmp/t", &st), 0);
    HT_EQ_U(st.st_mtim.tv_sec, 5);
    HT_EQ_U(st.st_ctim.tv_sec, 5);
    struct linux_timespec ts[2] = { { 100, 1 }, { 200, 2 } };
    fs_host_clock_ns = 7000000000ul;
    HT_EQ_U(SYS(sys_utimensat, ARG(AT_FDCWD), U("/tmp/t"), U(ts), 0), 0);
    HT_EQ_U(tt_stat("/tmp/t", &st), 0);
    HT_EQ_U(st.st_atim.tv_sec, 100);
    HT_EQ_U(st.st_atim.tv_nsec, 1);
    HT_EQ_U(st.st_mtim.tv_sec, 200);
    HT_EQ_U(st.st_ctim.tv_sec, 7);
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1].tv_nsec = UTIME_NOW;
    fs_host_clock_ns = 9000000000ul;
    HT_EQ_U(SYS(sys_utimensat, ARG(AT_FDCWD), U("/tmp/t"), U(ts), 0), 0);
    HT_EQ_U(tt_stat("/tmp/t", &st), 0);
    HT_EQ_U(st.st_atim.tv_sec, 100);
    HT_EQ_U(st.st_mtim.tv_sec, 9);
    ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
    HT_EQ_U(SYS(sys_utimensat, ARG(AT_FDCWD), U("/nothing"), U(ts), 0), 0);  /* not looked at */
    ts[0].tv_nsec = 1000000000;
    HT_EQ_U(SYS(sys_utimensat, ARG(AT_FDCWD), U("/tmp/t"), U(ts), 0), -EINVAL);
    HT_EQ_U(SYS(sys_utimensat, ARG(AT_FDCWD), U("/tmp/t"), 16, 0), -EFAULT);
    HT_EQ_U(SYS(sys_utimensat, ARG(AT_FDCWD), U("/tmp/t"), 0, 0x4), -EINVAL);
    HT_EQ_U(SYS(sys_utimensat, ARG(AT_FDCWD), U("/proc/meminfo"), 0, 0), -EROFS);
    long fd = tt_open("/tmp/t", O_RDONLY, 0);
    fs_host_clock_ns = 11000000000ul;
    HT_EQ_U(SYS(sys_utimensat, fd, 0, 0, 0), 0);                 /* futimens */
    HT_EQ_U(SYS(sys_fstat, fd, U(&st)), 0);
    HT_EQ_U(st.st_mtim.tv_sec, 11);
    HT_EQ_U(SYS(sys_utimensat, fd, 0, 0, AT_SYMLINK_NOFOLLOW), -EINVAL);
    int64_t tv[4] = { 300, 5, 400, 1000000 };
    HT_EQ_U(SYS(sys_utimes, U("/tmp/t"), U(tv)), -EINVAL);
    tv[3] = 6;
    HT_EQ_U(SYS(sys_utimes, U("/tmp/t"), U(tv)), 0);
    HT_EQ_U(tt_stat("/tmp/t", &st), 0);
    HT_EQ_U(st.st_mtim.tv_sec, 400);
    HT_EQ_U(st.st_mtim.tv_nsec, 6000);
    /* statx: the stat fields, btime, the mount, the flags checked. */
    uint8_t sx[256];
    memset(sx, 0xff, sizeof(sx));
    HT_EQ_U(SYS(sys_statx, ARG(AT_FDCWD), U("/tmp/t"), 0, 0x7ff, U(sx)), 0);
    uint32_t mask, nlink;
    uint16_t mode;
    uint64_t ino, size, mnt;
    memcpy(&mask, sx, 4);
    memcpy(&nlink, sx + 16, 4);
    memcpy(&mode, sx + 28, 2);
    memcpy(&ino, sx + 32, 8);
    memcpy(&size, sx + 40, 8);
    memcpy(&mnt, sx + 144, 8);
    HT_EQ_U(mask, 0x7ff | 0x800 | 0x1000);
    HT_EQ_U(nlink, 1);
    HT_EQ_U(mode, S_IFREG | 0644);
    HT_EQ_U(ino, st.st_ino);
    HT_EQ_U(size, 1);
    HT_EQ_U(mnt, 1);
    HT_EQ_U(SYS(sys_statx, ARG(AT_FDCWD), U("/proc"), 0, 0x7ff, U(sx)), 0);
    memcpy(&mnt, sx + 144, 8);
    HT_EQ_U(mnt, 2);
    HT_EQ_U(SYS(sys_statx, ARG(AT_FDCWD), U("/tmp/t"), 0x6000, 0x7ff, U(sx)), -EINVAL);
    HT_EQ_U(SYS(sys_statx, ARG(AT_FDCWD), U("/tmp/t"), 0, 0x80000000u, U(sx)), -EINVAL);
    HT_EQ_U(SYS(sys_statx, ARG(AT_FDCWD), U("/tmp/t"), 0x4, 0x7ff, U(sx)), -EINVAL);
    HT_EQ_U(SYS(sys_statx, ARG(AT_FDCWD), U("/tmp/t"), 0, 0x7ff, 16), -EFAULT);
    HT_EQ_U(SYS(sys_statx, fd, U(""), AT_EMPTY_PATH, 0x7ff, U(sx)), 0);
    HT_EQ_U(SYS(sys_statx, fd, 0, AT_EMPTY_PATH, 0x7ff, U(sx)), 0);
    HT_EQ_U(SYS(sys_statx, 0, U(""), AT_EMPTY_PATH, 0x7ff, U(sx)), 0);   /* the console */
    memcpy(&mode, sx + 28, 2);
    HT_EQ_U(mode, S_IFCHR | 0620);
    HT_EQ_U(SYS(sys_statx, ARG(AT_FDCWD), U("/etc/link"), AT_SYMLINK_NOFOLLOW, 0x7ff, U(sx)),
            0);
    memcpy(&mode, sx + 28, 2);
    HT_EQ_U(mode, S_IFLNK | 0777);
    /* fsync: fine on tmpfs, -EINVAL where Linux has none. */
    HT_EQ_U(SYS(sys_fsync, fd), 0);
    HT_EQ_U(SYS(sys_fsync, 1), -EINVAL);
    HT_EQ_U(SYS(sys_fsync, 77), -EBADF);
    TT_TEARDOWN();
}

/* /dev's nodes, and mknod. */
static void t_devices_mknod(void)
{
    tt_setup();
    long fd = tt_open("/dev/null", O_RDWR, 0);
    char buf[8];
    HT_EQ_U(tt_write(fd, "abc", 3), 3);
    HT_EQ_U(tt_read(fd, buf, sizeof(buf)), 0);
    long z = tt_open("/dev/zero", O_RDONLY, 0);
    memset(buf, 1, sizeof(buf));
    HT_EQ_U(tt_read(z, buf, sizeof(buf)), sizeof(buf));
    HT_ASSERT(!memchr(buf, 1, sizeof(buf)), "zeros");
    long f = tt_open("/dev/full", O_WRONLY, 0);
    HT_EQ_U(tt_write(f, "x", 1), -ENOSPC);
    long c = tt_open("/dev/console", O_WRONLY, 0);
    fs_host_con_len = 0;
    HT_EQ_U(tt_write(c, "hi", 2), 2);
    HT_EQ_U(fs_host_con_len, 2);
    HT_EQ_U(SYS(sys_mknod, U("/tmp/reg"), 0644, 0), 0);
    struct linux_stat st;
    HT_EQ_U(tt_stat("/tmp/reg", &st), 0);
    HT_EQ_U(st.st_mode, S_IFREG | 0644);
    HT_EQ_U(SYS(sys_mknod, U("/tmp/c"), S_IFCHR | 0600, (1 << 8) | 3), 0);
    HT_EQ_U(tt_stat("/tmp/c", &st), 0);
    HT_EQ_U(st.st_rdev, LINUX_MKDEV(1, 3));
    HT_EQ_U(SYS(sys_mknod, U("/tmp/b"), S_IFBLK | 0600, (8 << 8) | 1), 0);
    HT_EQ_U(tt_open("/tmp/b", O_RDONLY, 0), -ENXIO);
    HT_EQ_U(SYS(sys_mknod, U("/tmp/f"), S_IFIFO | 0600, 0), -EPERM);
    HT_EQ_U(SYS(sys_mknod, U("/tmp/d"), S_IFDIR | 0600, 0), -EPERM);
    HT_EQ_U(SYS(sys_mknod, U("/tmp/x"), 0170000, 0), -EINVAL);
    HT_EQ_U(SYS(sys_mknod, U("/tmp/reg"), 0644, 0), -EEXIST);
    HT_EQ_U(SYS(sys_mknodat, ARG(AT_FDCWD), U("/proc/x"), 0644, 0), -EROFS);
    TT_TEARDOWN();
}

/* Every allocation failing in turn: -ENOMEM or success, never a leak. */
static void t_out_of_memory(void)
{
    tt_setup();
    for (int n = 0; n < 16; n++) {
        fh_kmalloc_fail_in = n;
        long r1 = SYS(sys_mkdir, U("/tmp/d"), 0755);
        long r2 = SYS(sys_symlink, U("target"), U("/tmp/l"));
        long r3 = SYS(sys_rename, U("/etc/motd"), U("/tmp/motd-with-a-longer-name"));
        fh_kmalloc_fail_in = -1;
        HT_ASSERT((r1 == 0 || r1 == -ENOMEM) && (r2 == 0 || r2 == -ENOMEM) &&
                      (r3 == 0 || r3 == -ENOMEM),
                  "after %d: %ld %ld %ld", n, r1, r2, r3);
        SYS(sys_rmdir, U("/tmp/d"));
        SYS(sys_unlink, U("/tmp/l"));
        if (r3 == 0)
            HT_EQ_U(SYS(sys_rename, U("/tmp/motd-with-a-longer-name"), U("/etc/motd")), 0);
        char buf[16];
        HT_EQ_U(tt_slurp("/etc/motd", buf, sizeof(buf)), strlen(MOTD_TEXT));
    }
    TT_TEARDOWN();
}

/* The validator catches what it is there to catch (positive controls). */
static void t_check_catches_corruption(void)
{
    tt_setup();
    char why[200];
    HT_EQ_U(tmpfs_check(why, sizeof(why)), 0);
    HT_EQ_U(tt_put("/tmp/f", "data"), 0);
    HT_EQ_U(SYS(sys_mkdir, U("/tmp/d"), 0755), 0);
    struct inode *f = inode_of("/tmp/f"), *d = inode_of("/tmp/d"), *tmp = inode_of("/tmp");
    f->nlink++;
    HT_EQ_U(tmpfs_check(why, sizeof(why)), -EUCLEAN);
    HT_ASSERT(strstr(why, "nlink"), "why: %s", why);
    f->nlink--;
    tmp->nlink++;
    HT_EQ_U(tmpfs_check(why, sizeof(why)), -EUCLEAN);
    tmp->nlink--;
    tmp->dir.count++;
    HT_EQ_U(tmpfs_check(why, sizeof(why)), -EUCLEAN);
    tmp->dir.count--;
    d->parent = d;
    HT_EQ_U(tmpfs_check(why, sizeof(why)), -EUCLEAN);
    HT_ASSERT(strstr(why, "parent"), "why: %s", why);
    d->parent = tmp;
    f->reg.pages.nr_pages++;
    HT_EQ_U(tmpfs_check(why, sizeof(why)), -EUCLEAN);
    f->reg.pages.nr_pages--;
    f->size = 0;                       /* its page now lies past the end */
    HT_EQ_U(tmpfs_check(why, sizeof(why)), -EUCLEAN);
    f->size = 4;
    HT_EQ_U(tmpfs_check(why, sizeof(why)), 0);
    TT_TEARDOWN();
}

static const struct htest cases[] = {
    HT_CASE(check_catches_corruption),
    HT_CASE(create_write_read), HT_CASE(sparse_and_truncate), HT_CASE(leak_free_pages),
    HT_CASE(initrd_seed_cow), HT_CASE(enospc), HT_CASE(umask_chmod_chown),
    HT_CASE(times_statx), HT_CASE(devices_mknod), HT_CASE(out_of_memory),
};

int main(int argc, char **argv)
{
    /* One table: this file's cases, then test_tmpfs_names.c's and
     * test_tmpfs_swap.c's. */
    static struct htest all[64];
    size_t n = 0;
    for (size_t i = 0; i < HT_COUNT(cases); i++)
        all[n++] = cases[i];
    for (size_t i = 0; i < tt_name_count && n < HT_COUNT(all); i++)
        all[n++] = tt_name_cases[i];
    for (size_t i = 0; i < tt_swap_count && n < HT_COUNT(all); i++)
        all[n++] = tt_swap_cases[i];
    return htest_main(all, n, argc - 1, argv + 1);
}
