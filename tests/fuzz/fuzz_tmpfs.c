/*
 * libFuzzer target: the file system (kernel/fs/: tmpfs, the page cache,
 * paths, procfs, the system calls) over the host page allocator, driven
 * by arbitrary bytes.
 *
 * Each input starts a fresh root seeded from a small archive (a program,
 * a link, nested directories) and is then a program of system calls made
 * as the dispatcher would: open with any mix of flags, close, write,
 * pwrite at any offset (sparse files, pages far apart), read, truncate
 * and ftruncate to any size, mkdir, rmdir, unlink, rename with any flags,
 * link, symlink, readlink, chdir, fchdir, getdents64 with any buffer
 * size, stat, lseek, getcwd, dup; on paths taken from a table that holds
 * the hard cases (".", "..", "/", trailing slashes, /proc, a name of 256
 * bytes, links to links, a bad pointer), with an allocation failing now
 * and then.  Every call must return a count or an errno, never crash;
 * after every call tmpfs_check must find the tree consistent; at the end,
 * with every descriptor closed and the tree thrown away, no inode, no
 * page-cache page and no frame may be left (fs_host_teardown).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_host.h"
#include "fs_host.h"
#include <kernel/errno.h>
#include <kernel/vfs.h>

#define FUZZ_NAME "fuzz_tmpfs"
#include "fuzz_input.h"

#define MAX_OPS 120

static const char *const paths[] = {
    "/", ".", "..", "a", "a/", "b", "a/b", "a/b/c", "/tmp/x", "/tmp/x/", "/tmp/y",
    "l1", "l2", "/bin/init", "/bin/sh", "/lib/deep", "/lib/deep/file", "/proc",
    "/proc/self", "/proc/meminfo", "/proc/self/exe", "a/../b", "/tmp/./x/..", "",
    "/sys/devices/system/node/node0", "/sys/devices/system/node/node0/meminfo",
    "/nothing/x", NULL /* the 256-byte name */, NULL /* a bad pointer */,
};
#define NPATHS (sizeof(paths) / sizeof(paths[0]))

static char longname[300];
static char buf[16384];

static uint64_t path_arg(struct input *in)
{
    unsigned k = u8(in) % NPATHS;
    if (k == NPATHS - 1)
        return 16;                      /* not a user address */
    if (k == NPATHS - 2)
        return U(longname);
    return U(paths[k]);
}

static const unsigned open_flags[] = {
    O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY,
    O_NOFOLLOW, O_TMPFILE,
};

static unsigned flags_arg(struct input *in)
{
    unsigned bits = u16(in), f = 0;
    for (unsigned i = 0; i < sizeof(open_flags) / sizeof(open_flags[0]); i++)
        if (bits & (1u << i))
            f |= open_flags[i];
    return f;
}

static void build_archive(void)
{
    fs_host_ar_begin();
    fs_host_ar_entry("bin", 10, 0040755, NULL);
    fs_host_ar_entry("bin/init", 11, 0100755, "\177ELF a program of some bytes");
    fs_host_ar_entry("bin/sh", 12, 0120777, "init");
    fs_host_ar_entry("lib/deep/file", 13, 0100644, "deep file");
    fs_host_ar_entry("l1", 14, 0120777, "l2");
    fs_host_ar_entry("l2", 15, 0120777, "lib/deep");
    fs_host_ar_end();
}

NOCOV static void check(int op)
{
    char why[200];
    int armed = fh_kmalloc_fail_in;      /* the check's own memory never fails */
    fh_kmalloc_fail_in = -1;
    int r = tmpfs_check(why, sizeof(why));
    fh_kmalloc_fail_in = armed;
    if (r)
        DIE("after op %d: tmpfs_check %d: %s", op, r, why);
}

static void result(int op, long r)
{
    if (r < -4095)
        DIE("op %d returned %ld", op, r);
}

static long one_op(struct input *in, int op)
{
    long fd = 3 + u8(in) % 10;
    switch (op) {
    case 0:
        return SYS(sys_open, path_arg(in), flags_arg(in), u16(in) & 07777);
    case 1:
        return SYS(sys_close, ARG(fd));
    case 2:
        return SYS(sys_write, ARG(fd), U(buf), u16(in) % sizeof(buf));
    case 3: {
        uint64_t pos = (uint64_t)u16(in) << (u8(in) % 32);
        return SYS(sys_pwrite64, ARG(fd), U(buf), 1 + u8(in) * 17, pos);
    }
    case 4:
        return SYS(sys_read, ARG(fd), U(buf), u16(in) % sizeof(buf));
    case 5:
        return SYS(sys_truncate, path_arg(in), (uint64_t)u16(in) << (u8(in) % 24));
    case 6:
        return SYS(sys_ftruncate, ARG(fd), (uint64_t)u16(in) << (u8(in) % 24));
    case 7:
        return SYS(sys_mkdir, path_arg(in), 0755);
    case 8:
        return SYS(sys_rmdir, path_arg(in));
    case 9:
        return SYS(sys_unlink, path_arg(in));
    case 10: {
        uint64_t a = path_arg(in), b = path_arg(in);
        return SYS(sys_renameat2, ARG(AT_FDCWD), a, ARG(AT_FDCWD), b, u8(in) % 5);
    }
    case 11: {
        uint64_t a = path_arg(in), b = path_arg(in);
        return SYS(sys_linkat, ARG(AT_FDCWD), a, ARG(AT_FDCWD), b, (u8(in) & 1) ? 0x400 : 0);
    }
    case 12: {
        uint64_t a = path_arg(in), b = path_arg(in);
        return SYS(sys_symlink, a, b);
    }
    case 13:
        return SYS(sys_readlink, path_arg(in), U(buf), u8(in));
    case 14:
        return SYS(sys_chdir, path_arg(in));
    case 15:
        return SYS(sys_fchdir, ARG(fd));
    case 16:
        return SYS(sys_getdents64, ARG(fd), U(buf), u16(in) % sizeof(buf));
    case 17: {
        struct linux_stat st;
        return SYS((u8(in) & 1) ? sys_lstat : sys_stat, path_arg(in), U(&st));
    }
    case 18:
        return SYS(sys_lseek, ARG(fd), (int64_t)(int16_t)u16(in), u8(in) % 5);
    case 19:
        return SYS(sys_getcwd, U(buf), u16(in) % 300);
    case 20:
        return SYS(sys_dup, ARG(fd));
    default:
        fh_kmalloc_fail_in = u8(in) % 6;   /* the next call runs out of memory */
        return 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    memset(longname, 'n', 256);
    longname[256] = 0;
    memset(buf, 'w', sizeof(buf));
    build_archive();
    fs_host_setup();
    for (int i = 0; i < MAX_OPS && in.n; i++) {
        int op = u8(&in) % 22;
        bool armed = fh_kmalloc_fail_in >= 0;
        long r = one_op(&in, op);
        if (armed)
            fh_kmalloc_fail_in = -1;
        result(op, r);
        check(op);
    }
    fh_kmalloc_fail_in = -1;
    SYS(sys_chdir, U("/"));
    const char *leak = fs_host_teardown();
    if (leak)
        DIE("%s", leak);
    return 0;
}
