/*
 * Host tests of /sys (kernel/fs/sysfs.c; docs/numa.md, "Seeing the
 * nodes") over the real VFS and the file-system host stand-ins
 * (tests/host/fs_host.c), with mm/mmstat.c's real node texts over the
 * host allocator's one node.  What is tested: the tree and its listings
 * (getdents in several calls too), the modes, sizes and link counts
 * stat gives, names that are no entry, the node lists' texts, every
 * change refused with -EROFS, lseek over the size of 4096 that Linux
 * gives sysfs files, the names of open files and of working directories
 * ("..", getcwd), running out of memory anywhere, and no inode left
 * behind (each case ends with fs_host_teardown's leak check).  The texts
 * on several nodes are tested on mmk by test_sysfs_node, whose output is
 * compared with Linux's.
 */
#include <stdio.h>
#include <stdlib.h>

#include "htest.h"
#include "file_host.h"
#include "fs_host.h"
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/vfs.h>
#include <mm/numa.h>
#include <mm/page.h>

#define NODE "/sys/devices/system/node"

static void setup(void)
{
    fs_host_ar_begin();
    fs_host_ar_entry("bin", 10, S_IFDIR | 0755, NULL);
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

/* A directory's names, blank-separated in listing order, read `chunk`
 * bytes of getdents64 at a time ("." and ".." left out). */
static void listing(const char *dir, size_t chunk, char *out, size_t size)
{
    static uint8_t buf[4096];
    long fd = open_path(dir, O_RDONLY | O_DIRECTORY);
    size_t len = 0;
    out[0] = 0;
    for (long n; fd >= 0 && (n = SYS(sys_getdents64, fd, U(buf), chunk)) > 0;) {
        for (long at = 0; at < n;) {
            uint16_t reclen;
            memcpy(&reclen, buf + at + 16, 2);
            const char *name = (const char *)buf + at + 19;
            if (strcmp(name, ".") && strcmp(name, ".."))
                len += (size_t)snprintf(out + len, size - len, "%s%s", len ? " " : "", name);
            at += reclen;
        }
    }
    if (fd >= 0)
        SYS(sys_close, fd);
}

/* ---- the tree ---------------------------------------------------------------------- */

static void t_tree(void)
{
    setup();
    char names[512];
    listing("/sys", sizeof(names), names, sizeof(names));
    HT_EQ_STR(names, "devices");
    listing("/sys/devices", sizeof(names), names, sizeof(names));
    HT_EQ_STR(names, "system");
    listing(NODE, 4096, names, sizeof(names));
    HT_EQ_STR(names, "possible online has_normal_memory has_memory has_cpu node0");
    listing(NODE, 40, names, sizeof(names));      /* one entry per call */
    HT_EQ_STR(names, "possible online has_normal_memory has_memory has_cpu node0");
    listing(NODE "/node0", 4096, names, sizeof(names));
    HT_EQ_STR(names, "cpulist distance meminfo numastat");

    struct linux_stat st, again;
    HT_EQ_U(SYS(sys_stat, U("/sys"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFDIR | 0555);
    HT_EQ_U(st.st_nlink, 3);
    HT_EQ_U(SYS(sys_stat, U(NODE), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFDIR | 0755);
    HT_EQ_U(st.st_nlink, 2 + nr_node_ids);
    HT_EQ_U(SYS(sys_stat, U(NODE "/node0"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFDIR | 0755);
    HT_EQ_U(st.st_nlink, 2);
    HT_EQ_U(st.st_size, 0);
    HT_EQ_U(SYS(sys_stat, U(NODE "/node0/meminfo"), U(&st)), 0);
    HT_EQ_U(st.st_mode, S_IFREG | 0444);
    HT_EQ_U(st.st_size, 4096);
    HT_EQ_U(st.st_nlink, 1);
    HT_EQ_U(st.st_blocks, 0);
    HT_EQ_U(SYS(sys_stat, U(NODE "/node0/meminfo"), U(&again)), 0);
    HT_EQ_U(again.st_ino, st.st_ino);              /* a new inode, the same number */
    HT_EQ_U(SYS(sys_stat, U(NODE "/node0/numastat"), U(&again)), 0);
    HT_ASSERT(again.st_ino != st.st_ino, "two files, one inode number");

    HT_EQ_U(SYS(sys_stat, U(NODE "/node1"), U(&st)), -ENOENT);   /* one node here */
    HT_EQ_U(SYS(sys_stat, U(NODE "/node00"), U(&st)), -ENOENT);
    HT_EQ_U(SYS(sys_stat, U(NODE "/node"), U(&st)), -ENOENT);
    HT_EQ_U(SYS(sys_stat, U(NODE "/node0x"), U(&st)), -ENOENT);
    HT_EQ_U(SYS(sys_stat, U(NODE "/node0/online"), U(&st)), -ENOENT);
    HT_EQ_U(SYS(sys_stat, U(NODE "/node0/meminfo/x"), U(&st)), -ENOTDIR);
    HT_EQ_U(SYS(sys_stat, U("/sys/node"), U(&st)), -ENOENT);
    HT_EQ_U(open_path(NODE "/node0", O_RDONLY | O_DIRECTORY) >= 0, 1);
    teardown();
}

/* ---- texts -------------------------------------------------------------------------- */

static void t_texts(void)
{
    setup();
    char buf[4096], want[256];
    static const char *const lists[] = { "possible", "online", "has_normal_memory",
                                         "has_memory", "has_cpu" };
    for (size_t i = 0; i < HT_COUNT(lists); i++) {
        char path[96];
        snprintf(path, sizeof(path), NODE "/%s", lists[i]);
        HT_EQ_U(slurp(path, buf, sizeof(buf)), 2);
        HT_EQ_STR(buf, "0\n");
    }
    HT_EQ_U(slurp(NODE "/node0/cpulist", buf, sizeof(buf)), 2);
    HT_EQ_STR(buf, "0\n");
    HT_EQ_U(slurp(NODE "/node0/distance", buf, sizeof(buf)), 3);
    HT_EQ_STR(buf, "10\n");
    uint64_t managed = 0;
    for (int t = 0; t < NR_ZONES; t++)
        managed += node_data[0]->zones[t].managed;
    snprintf(want, sizeof(want), "Node 0 MemTotal:       %8lu kB\n", managed * 4);
    HT_ASSERT(slurp(NODE "/node0/meminfo", buf, sizeof(buf)) > 0 && !strncmp(buf, want,
                                                                             strlen(want)),
              "meminfo: %s", buf);
    HT_ASSERT(slurp(NODE "/node0/numastat", buf, sizeof(buf)) > 0 &&
                  !strncmp(buf, "numa_hit ", 9) && strstr(buf, "\nother_node "),
              "numastat: %s", buf);
    teardown();
}

/* ---- read-only ------------------------------------------------------------------------ */

static void t_read_only(void)
{
    setup();
    const char *f = NODE "/node0/meminfo";
    HT_EQ_U(open_path(f, O_WRONLY), -EROFS);
    HT_EQ_U(open_path(f, O_RDWR), -EROFS);
    HT_EQ_U(open_path(f, O_RDONLY | O_TRUNC), -EROFS);
    HT_EQ_U(open_path(NODE "/new", O_RDWR | O_CREAT), -EROFS);
    HT_EQ_U(open_path(f, O_RDONLY | O_CREAT | O_EXCL), -EEXIST);
    HT_EQ_U(SYS(sys_mkdir, U(NODE "/d"), 0755), -EROFS);
    HT_EQ_U(SYS(sys_rmdir, U(NODE "/node0")), -EROFS);
    HT_EQ_U(SYS(sys_unlink, U(f)), -EROFS);
    HT_EQ_U(SYS(sys_rename, U(f), U(NODE "/node0/m")), -EROFS);
    HT_EQ_U(SYS(sys_rename, U("/bin"), U("/sys/bin")), -EXDEV);
    HT_EQ_U(SYS(sys_symlink, U("/x"), U(NODE "/l")), -EROFS);
    HT_EQ_U(SYS(sys_link, U(f), U(NODE "/h")), -EROFS);
    HT_EQ_U(SYS(sys_chmod, U(f), 0644), -EROFS);
    HT_EQ_U(SYS(sys_chown, U(f), 1, 1), -EROFS);
    HT_EQ_U(SYS(sys_truncate, U(f), 0), -EROFS);
    HT_EQ_U(SYS(sys_access, U(f), 2), -EROFS);
    HT_EQ_U(SYS(sys_access, U(f), 4), 0);
    HT_EQ_U(SYS(sys_access, U(f), 1), -EACCES);
    long fd = open_path(f, O_RDONLY);
    HT_ASSERT(fd >= 0, "open: %ld", fd);
    HT_EQ_U(SYS(sys_write, fd, U("1"), 1), -EBADF);
    HT_EQ_U(SYS(sys_fchmod, fd, 0644), -EROFS);
    struct linux_statfs sf;
    HT_EQ_U(SYS(sys_statfs, U(NODE), U(&sf)), 0);
    HT_EQ_U(sf.f_type, SYSFS_MAGIC);
    HT_ASSERT(sf.f_flags & 1, "statfs: not ST_RDONLY");
    SYS(sys_close, fd);
    teardown();
}

/* ---- lseek and read -------------------------------------------------------------------- */

static void t_seek(void)
{
    setup();
    char text[64], buf[64];
    long len = slurp(NODE "/node0/distance", text, sizeof(text));
    long fd = open_path(NODE "/node0/distance", O_RDONLY);
    HT_EQ_U(SYS(sys_lseek, fd, 0, SEEK_END), 4096);
    HT_EQ_U(SYS(sys_lseek, fd, ARG(-4000), SEEK_END), 96);
    HT_EQ_U(SYS(sys_read, fd, U(buf), sizeof(buf)), 0);
    HT_EQ_U(SYS(sys_lseek, fd, ARG(-96), SEEK_CUR), 0);
    HT_EQ_U(SYS(sys_lseek, fd, ARG(-1), SEEK_CUR), -EINVAL);
    HT_EQ_U(SYS(sys_lseek, fd, 0, SEEK_DATA), 0);
    HT_EQ_U(SYS(sys_lseek, fd, 0, SEEK_HOLE), 4096);
    HT_EQ_U(SYS(sys_lseek, fd, 4096, SEEK_DATA), -ENXIO);
    HT_EQ_U(SYS(sys_lseek, fd, 1, SEEK_SET), 1);
    HT_EQ_U(SYS(sys_read, fd, U(buf), sizeof(buf)), len - 1);
    HT_ASSERT(!memcmp(buf, text + 1, (size_t)len - 1), "read from 1");
    HT_EQ_U(SYS(sys_pread64, fd, U(buf), 1, 0), 1);
    HT_EQ_U(buf[0], text[0]);
    struct linux_stat st;
    HT_EQ_U(SYS(sys_fstat, fd, U(&st)), 0);
    HT_EQ_U(st.st_size, 4096);
    SYS(sys_close, fd);
    teardown();
}

/* ---- names ------------------------------------------------------------------------------- */

static void t_names(void)
{
    setup();
    char buf[256], path[64];
    long fd = open_path(NODE "/node0/numastat", O_RDONLY);
    snprintf(path, sizeof(path), "/proc/1/fd/%ld", fd);
    HT_EQ_U(link_of(path, buf, sizeof(buf)), (long)strlen(NODE "/node0/numastat"));
    HT_EQ_STR(buf, NODE "/node0/numastat");
    long top = open_path(NODE "/online", O_RDONLY);
    snprintf(path, sizeof(path), "/proc/1/fd/%ld", top);
    link_of(path, buf, sizeof(buf));
    HT_EQ_STR(buf, NODE "/online");
    long d = open_path(NODE, O_RDONLY | O_DIRECTORY);
    snprintf(path, sizeof(path), "/proc/1/fd/%ld", d);
    link_of(path, buf, sizeof(buf));
    HT_EQ_STR(buf, NODE);
    HT_EQ_U(SYS(sys_chdir, U(NODE "/node0")), 0);
    link_of("/proc/1/cwd", buf, sizeof(buf));
    HT_EQ_STR(buf, NODE "/node0");
    HT_EQ_U(slurp("meminfo", buf, sizeof(buf)) > 0, 1);        /* relative to it */
    HT_EQ_U(SYS(sys_chdir, U("../..")), 0);
    HT_EQ_U(SYS(sys_getcwd, U(buf), sizeof(buf)), (long)strlen("/sys/devices/system") + 1);
    HT_EQ_STR(buf, "/sys/devices/system");
    HT_EQ_U(SYS(sys_chdir, U("../../..")), 0);                  /* across the mount */
    link_of("/proc/1/cwd", buf, sizeof(buf));
    HT_EQ_STR(buf, "/");
    /* A directory held open keeps its parents: close after a lookup in it. */
    long n0 = open_path(NODE "/node0", O_RDONLY | O_DIRECTORY);
    HT_EQ_U(SYS(sys_close, d), 0);
    HT_ASSERT(n0 >= 0, "open node0: %ld", n0);
    SYS(sys_close, n0);
    SYS(sys_close, top);
    SYS(sys_close, fd);
    teardown();
}

/* ---- memory ------------------------------------------------------------------------------ */

static void t_out_of_memory(void)
{
    setup();
    static const char *const paths[] = { NODE "/node0/meminfo", NODE "/has_memory", "/sys" };
    for (size_t i = 0; i < HT_COUNT(paths); i++) {
        for (int k = 0; k < 10; k++) {
            fh_kmalloc_fail_in = k;
            long r = open_path(paths[i], O_RDONLY);
            fh_kmalloc_fail_in = -1;
            HT_ASSERT(r == -ENOMEM || r >= 0, "%s, failure after %d allocations: %ld", paths[i],
                      k, r);
            if (r >= 0)
                SYS(sys_close, r);
        }
    }
    teardown();
}

static const struct htest cases[] = {
    HT_CASE(tree), HT_CASE(texts), HT_CASE(read_only), HT_CASE(seek), HT_CASE(names),
    HT_CASE(out_of_memory),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
