/*
 * Host tests of names (kernel/fs/namei.c, dir.c, sys_namei.c, sys_dir.c,
 * open.c): path resolution with links and "..", mkdir/rmdir/unlink,
 * link, symlink and readlink, rename's rules, getdents64 and the old
 * getdents, the working directory, O_TMPFILE, and /proc's links.  Every
 * error is Linux's, in Linux's order; each case ends with a leak check.
 * The tree each case starts from is test_tmpfs.h's.
 */
#include <stdio.h>
#include <stdlib.h>

#include "test_tmpfs.h"
#include <kernel/task.h>
#include <mm/slab.h>

/* ---- path resolution -------------------------------------------------------------- */

static void walk_is(const char *path, unsigned flags, long want, const char *same_as)
{
    struct inode *ino, *other;
    int r = namei(NULL, path, flags, &ino);
    HT_ASSERT(r == want, "namei(\"%s\") = %d, expected %ld", path, r, want);
    if (r)
        return;
    r = namei(NULL, same_as, flags, &other);
    /* procfs makes an inode per lookup: compare file systems and numbers. */
    bool same = r == 0 && ino->fs == other->fs && ino->ino == other->ino;
    inode_put(ino);
    if (r == 0)
        inode_put(other);
    HT_ASSERT(same, "\"%s\" is not \"%s\"", path, same_as);
}

static void t_path_walk(void)
{
    tt_setup();
    HT_TRY(walk_is("/bin/init", 0, 0, "/bin/init"));
    HT_TRY(walk_is("bin//init", 0, 0, "/bin/init"));
    HT_TRY(walk_is("///bin/./init", 0, 0, "/bin/init"));
    HT_TRY(walk_is("/bin/../etc/motd", 0, 0, "/etc/motd"));
    HT_TRY(walk_is("/bin/", 0, 0, "/bin"));
    HT_TRY(walk_is("/bin/.", 0, 0, "/bin"));
    HT_TRY(walk_is(".", 0, 0, "/"));
    HT_TRY(walk_is("/../../..", 0, 0, "/"));
    HT_TRY(walk_is("/proc/../proc/meminfo", 0, 0, "/proc/meminfo"));
    HT_TRY(walk_is("/proc/..", 0, 0, "/"));
    HT_TRY(walk_is("/nothing", 0, -ENOENT, NULL));
    HT_TRY(walk_is("/nothing/x", 0, -ENOENT, NULL));
    HT_TRY(walk_is("/nothing/..", 0, -ENOENT, NULL));
    HT_TRY(walk_is("", 0, -ENOENT, NULL));
    HT_TRY(walk_is("/bin/init/", 0, -ENOTDIR, NULL));
    HT_TRY(walk_is("/bin/init/.", 0, -ENOTDIR, NULL));
    HT_TRY(walk_is("/bin/init/..", 0, -ENOTDIR, NULL));
    HT_TRY(walk_is("/bin/init/x", 0, -ENOTDIR, NULL));
    HT_TRY(walk_is("/bin/init", LOOKUP_DIRECTORY, -ENOTDIR, NULL));
    /* Links: followed in the middle, at the end when asked or before '/'. */
    HT_TRY(walk_is("/bin/sh", LOOKUP_FOLLOW, 0, "/bin/init"));
    HT_TRY(walk_is("/etc/link", LOOKUP_FOLLOW, 0, "/etc/motd"));
    HT_TRY(walk_is("/bin/sh/", 0, -ENOTDIR, NULL));      /* followed, not a directory */
    struct linux_stat st;
    HT_EQ_U(tt_lstat("/bin/sh", &st), 0);
    HT_EQ_U(st.st_mode, S_IFLNK | 0777);
    HT_EQ_U(SYS(sys_symlink, U("/lib"), U("/ld")), 0);
    HT_EQ_U(SYS(sys_symlink, U("../lib/deep"), U("/etc/up")), 0);
    HT_TRY(walk_is("/ld/deep/file", 0, 0, "/lib/deep/file"));
    HT_TRY(walk_is("/etc/up/file", 0, 0, "/lib/deep/file"));
    HT_TRY(walk_is("/ld/", 0, 0, "/lib"));
    HT_TRY(walk_is("/ld/..", 0, 0, "/"));                  /* ".." of the target */
    /* Names of 255 bytes are fine, 256 are not. */
    char name[NAME_MAX + 3];
    name[0] = '/';
    memset(name + 1, 'a', NAME_MAX);
    name[NAME_MAX + 1] = 0;
    HT_EQ_U(tt_put(name, "x"), 0);
    HT_TRY(walk_is(name, 0, 0, name));
    name[NAME_MAX + 1] = 'a';
    name[NAME_MAX + 2] = 0;
    HT_TRY(walk_is(name, 0, -ENAMETOOLONG, NULL));
    HT_EQ_U(tt_open(name, O_RDWR | O_CREAT, 0644), -ENAMETOOLONG);
    HT_EQ_U(SYS(sys_mkdir, U(name), 0755), -ENAMETOOLONG);
    TT_TEARDOWN();
}

static void t_symlink_loops(void)
{
    tt_setup();
    /* A chain of 40 links resolves; 41 is -ELOOP, as Linux's MAXSYMLINKS. */
    char from[32], to[32];
    HT_EQ_U(tt_put("/tmp/end", "end"), 0);
    for (int i = 0; i < 41; i++) {
        snprintf(from, sizeof(from), "/tmp/l%d", i);
        snprintf(to, sizeof(to), i ? "l%d" : "end", i - 1);
        HT_EQ_U(SYS(sys_symlink, U(to), U(from)), 0);
    }
    char buf[8];
    HT_EQ_U(tt_slurp("/tmp/l39", buf, sizeof(buf)), 3);
    HT_EQ_U(tt_slurp("/tmp/l40", buf, sizeof(buf)), -ELOOP);
    HT_EQ_U(SYS(sys_symlink, U("b"), U("/tmp/a")), 0);
    HT_EQ_U(SYS(sys_symlink, U("a"), U("/tmp/b")), 0);
    HT_EQ_U(tt_open("/tmp/a", O_RDONLY, 0), -ELOOP);
    HT_EQ_U(tt_open("/tmp/a", O_RDWR | O_CREAT, 0644), -ELOOP);
    HT_EQ_U(SYS(sys_chdir, U("/tmp/a")), -ELOOP);
    struct linux_stat st;
    HT_EQ_U(tt_lstat("/tmp/a", &st), 0);                  /* the link itself is fine */
    HT_EQ_U(SYS(sys_unlink, U("/tmp/a")), 0);             /* and so is removing it */
    /* A dangling link: O_CREAT makes its target; O_EXCL refuses. */
    HT_EQ_U(SYS(sys_symlink, U("made"), U("/tmp/dangle")), 0);
    HT_EQ_U(tt_open("/tmp/dangle", O_RDONLY, 0), -ENOENT);
    HT_EQ_U(tt_open("/tmp/dangle", O_RDWR | O_CREAT | O_EXCL, 0644), -EEXIST);
    long fd = tt_open("/tmp/dangle", O_RDWR | O_CREAT, 0644);
    HT_ASSERT(fd >= 0, "create through a dangling link: %ld", fd);
    HT_EQ_U(tt_stat("/tmp/made", &st), 0);
    HT_EQ_U(tt_open("/tmp/dangle", O_RDONLY | O_NOFOLLOW, 0), -ELOOP);
    /* readlink. */
    char t[64];
    HT_EQ_U(SYS(sys_readlink, U("/tmp/dangle"), U(t), sizeof(t)), 4);
    HT_ASSERT(!memcmp(t, "made", 4), "target");
    HT_EQ_U(SYS(sys_readlink, U("/tmp/dangle"), U(t), 2), 2);     /* cut, no NUL */
    HT_EQ_U(SYS(sys_readlink, U("/tmp/dangle"), U(t), 0), -EINVAL);
    HT_EQ_U(SYS(sys_readlink, U("/tmp/made"), U(t), sizeof(t)), -EINVAL);
    HT_EQ_U(SYS(sys_readlink, U("/tmp/none"), U(t), sizeof(t)), -ENOENT);
    HT_EQ_U(SYS(sys_readlink, U("/tmp/dangle"), 16, sizeof(t)), -EFAULT);
    HT_EQ_U(SYS(sys_readlinkat, ARG(AT_FDCWD), U(""), U(t), sizeof(t)), -ENOENT);
    HT_EQ_U(SYS(sys_readlinkat, ARG(AT_FDCWD), U("tmp/dangle"), U(t), sizeof(t)), 4);
    /* symlink's own errors. */
    HT_EQ_U(SYS(sys_symlink, U(""), U("/tmp/e")), -ENOENT);
    HT_EQ_U(SYS(sys_symlink, U("x"), U("/tmp/made")), -EEXIST);
    HT_EQ_U(SYS(sys_symlink, U("x"), U("/tmp/new/")), -ENOENT);
    HT_EQ_U(SYS(sys_symlink, U("x"), U("/proc/x")), -EROFS);
    HT_EQ_U(SYS(sys_symlink, 16, U("/tmp/e")), -EFAULT);
    char *longt = malloc(4097);
    memset(longt, 'a', 4097);
    HT_EQ_U(SYS(sys_symlink, U(longt), U("/tmp/e")), -ENAMETOOLONG);  /* no NUL in 4096 */
    longt[4095] = 0;
    HT_EQ_U(SYS(sys_symlink, U(longt), U("/tmp/e")), 0);     /* 4095 bytes and the NUL fit */
    HT_EQ_U(tt_lstat("/tmp/e", &st), 0);
    HT_EQ_U(st.st_size, 4095);
    free(longt);
    TT_TEARDOWN();
}

/* ---- mkdir, rmdir, unlink, link ------------------------------------------------- */

static void t_mkdir_rmdir_unlink(void)
{
    tt_setup();
    struct linux_stat st;
    HT_EQ_U(tt_stat("/", &st), 0);
    uint64_t root_links = st.st_nlink;
    HT_EQ_U(SYS(sys_mkdir, U("/a"), 0755), 0);
    HT_EQ_U(SYS(sys_mkdir, U("/a/b/"), 0755), 0);             /* a trailing '/' is fine */
    HT_EQ_U(tt_stat("/", &st), 0);
    HT_EQ_U(st.st_nlink, root_links + 1);
    HT_EQ_U(tt_stat("/a", &st), 0);
    HT_EQ_U(st.st_nlink, 3);
    HT_EQ_U(SYS(sys_mkdir, U("/a"), 0755), -EEXIST);
    HT_EQ_U(SYS(sys_mkdir, U("/"), 0755), -EEXIST);
    HT_EQ_U(SYS(sys_mkdir, U("/a/."), 0755), -EEXIST);
    HT_EQ_U(SYS(sys_mkdir, U("/a/.."), 0755), -EEXIST);
    HT_EQ_U(SYS(sys_mkdir, U("/bin/sh"), 0755), -EEXIST);      /* a link, even dangling */
    HT_EQ_U(SYS(sys_mkdir, U("/x/y"), 0755), -ENOENT);
    HT_EQ_U(SYS(sys_mkdir, U("/bin/init/y"), 0755), -ENOTDIR);
    HT_EQ_U(SYS(sys_mkdir, U("/proc/x"), 0755), -EROFS);
    HT_EQ_U(SYS(sys_mkdir, U("/proc/meminfo"), 0755), -EEXIST);
    HT_EQ_U(SYS(sys_mkdir, 16, 0755), -EFAULT);
    HT_EQ_U(SYS(sys_mkdirat, 77, U("x"), 0755), -EBADF);
    HT_EQ_U(SYS(sys_mkdirat, 0, U("x"), 0755), -ENOTDIR);      /* the console */
    /* rmdir. */
    HT_EQ_U(SYS(sys_rmdir, U("/a")), -ENOTEMPTY);
    HT_EQ_U(SYS(sys_rmdir, U("/a/b/..")), -ENOTEMPTY);
    HT_EQ_U(SYS(sys_rmdir, U("/a/b/.")), -EINVAL);
    HT_EQ_U(SYS(sys_rmdir, U("/")), -EBUSY);
    HT_EQ_U(SYS(sys_rmdir, U("/proc")), -EBUSY);
    HT_EQ_U(SYS(sys_rmdir, U("/proc/self")), -EROFS);
    HT_EQ_U(SYS(sys_rmdir, U("/bin/init")), -ENOTDIR);
    HT_EQ_U(SYS(sys_rmdir, U("/bin/sh")), -ENOTDIR);
    HT_EQ_U(SYS(sys_rmdir, U("/none")), -ENOENT);
    HT_EQ_U(SYS(sys_rmdir, U("/a/b")), 0);
    HT_EQ_U(tt_stat("/a", &st), 0);
    HT_EQ_U(st.st_nlink, 2);
    HT_EQ_U(SYS(sys_unlinkat, ARG(AT_FDCWD), U("/a"), AT_REMOVEDIR), 0);
    HT_EQ_U(tt_stat("/", &st), 0);
    HT_EQ_U(st.st_nlink, root_links);
    /* unlink. */
    HT_EQ_U(SYS(sys_unlink, U("/bin")), -EISDIR);
    HT_EQ_U(SYS(sys_unlink, U("/")), -EISDIR);
    HT_EQ_U(SYS(sys_unlink, U("/bin/.")), -EISDIR);
    HT_EQ_U(SYS(sys_unlink, U("/bin/init/")), -ENOTDIR);
    HT_EQ_U(SYS(sys_unlink, U("/bin/")), -EISDIR);
    HT_EQ_U(SYS(sys_unlink, U("/none")), -ENOENT);
    HT_EQ_U(SYS(sys_unlink, U("/proc/meminfo")), -EROFS);
    HT_EQ_U(SYS(sys_unlinkat, ARG(AT_FDCWD), U("/bin/init"), 0x1), -EINVAL);
    HT_EQ_U(SYS(sys_unlinkat, ARG(AT_FDCWD), U("/bin/init"), AT_REMOVEDIR), -ENOTDIR);
    HT_EQ_U(SYS(sys_unlink, U("/bin/sh")), 0);                 /* the link, not its target */
    HT_EQ_U(tt_stat("/bin/init", &st), 0);
    /* link. */
    HT_EQ_U(SYS(sys_link, U("/bin/init"), U("/tmp/init2")), 0);
    HT_EQ_U(tt_stat("/bin/init", &st), 0);
    HT_EQ_U(st.st_nlink, 2);
    HT_EQ_U(SYS(sys_link, U("/bin/init"), U("/tmp/init2")), -EEXIST);
    HT_EQ_U(SYS(sys_link, U("/bin"), U("/tmp/bin2")), -EPERM);
    HT_EQ_U(SYS(sys_link, U("/none"), U("/tmp/x")), -ENOENT);
    HT_EQ_U(SYS(sys_link, U("/proc/meminfo"), U("/tmp/x")), -EXDEV);
    HT_EQ_U(SYS(sys_link, U("/bin/init"), U("/proc/x")), -EROFS);
    HT_EQ_U(SYS(sys_link, U("/bin/init"), U("/tmp/x/")), -ENOENT);
    HT_EQ_U(SYS(sys_linkat, ARG(AT_FDCWD), U("/bin/init"), ARG(AT_FDCWD), U("/tmp/x"), 0x1),
            -EINVAL);
    /* linkat follows a link only with AT_SYMLINK_FOLLOW. */
    HT_EQ_U(SYS(sys_symlink, U("/bin/init"), U("/tmp/ls")), 0);
    HT_EQ_U(SYS(sys_linkat, ARG(AT_FDCWD), U("/tmp/ls"), ARG(AT_FDCWD), U("/tmp/h1"), 0), 0);
    HT_EQ_U(tt_lstat("/tmp/h1", &st), 0);
    HT_EQ_U(st.st_mode, S_IFLNK | 0777);
    HT_EQ_U(SYS(sys_linkat, ARG(AT_FDCWD), U("/tmp/ls"), ARG(AT_FDCWD), U("/tmp/h2"),
                AT_SYMLINK_FOLLOW), 0);
    HT_EQ_U(tt_lstat("/tmp/h2", &st), 0);
    HT_EQ_U(st.st_mode, S_IFREG | 0755);
    HT_EQ_U(st.st_nlink, 3);
    TT_TEARDOWN();
}

/* ---- rename ---------------------------------------------------------------------------- */

static void t_rename(void)
{
    tt_setup();
    struct linux_stat st;
    char buf[16];
    HT_EQ_U(tt_put("/tmp/f", "F"), 0);
    HT_EQ_U(tt_put("/tmp/g", "G"), 0);
    HT_EQ_U(SYS(sys_mkdir, U("/tmp/d"), 0755), 0);
    HT_EQ_U(SYS(sys_mkdir, U("/tmp/e"), 0755), 0);
    HT_EQ_U(SYS(sys_mkdir, U("/tmp/d/sub"), 0755), 0);
    /* file over file */
    HT_EQ_U(SYS(sys_rename, U("/tmp/f"), U("/tmp/g")), 0);
    HT_EQ_U(tt_slurp("/tmp/g", buf, sizeof(buf)), 1);
    HT_EQ_U(buf[0], 'F');
    HT_EQ_U(tt_stat("/tmp/f", &st), -ENOENT);
    /* Kinds must match. */
    HT_EQ_U(SYS(sys_rename, U("/tmp/g"), U("/tmp/e")), -EISDIR);
    HT_EQ_U(SYS(sys_rename, U("/tmp/e"), U("/tmp/g")), -ENOTDIR);
    HT_EQ_U(SYS(sys_rename, U("/tmp/e"), U("/tmp/d")), -ENOTEMPTY);
    /* A directory cannot go under itself, nor replace an ancestor. */
    HT_EQ_U(SYS(sys_rename, U("/tmp/d"), U("/tmp/d/sub/x")), -EINVAL);
    HT_EQ_U(SYS(sys_rename, U("/tmp/d"), U("/tmp/d/x")), -EINVAL);
    HT_EQ_U(SYS(sys_rename, U("/tmp/d/sub"), U("/tmp")), -ENOTEMPTY); /* /tmp leads down to it */
    HT_EQ_U(SYS(sys_rename, U("/tmp/d/sub"), U("/tmp/d")), -ENOTEMPTY);
    /* The special names. */
    HT_EQ_U(SYS(sys_rename, U("/tmp/."), U("/tmp/x")), -EBUSY);
    HT_EQ_U(SYS(sys_rename, U("/tmp/g"), U("/tmp/..")), -EBUSY);
    HT_EQ_U(SYS(sys_renameat2, ARG(AT_FDCWD), U("/tmp/g"), ARG(AT_FDCWD), U("/tmp/.."), 1),
            -EEXIST);
    HT_EQ_U(SYS(sys_rename, U("/tmp/g"), U("/")), -EBUSY);
    HT_EQ_U(SYS(sys_rename, U("/tmp/none"), U("/tmp/x")), -ENOENT);
    HT_EQ_U(SYS(sys_rename, U("/tmp/g/"), U("/tmp/x")), -ENOTDIR);
    HT_EQ_U(SYS(sys_rename, U("/tmp/g"), U("/tmp/x/")), -ENOTDIR);
    HT_EQ_U(SYS(sys_rename, U("/tmp/e/"), U("/tmp/e2/")), 0);        /* directories may */
    HT_EQ_U(SYS(sys_rename, U("/tmp/e2"), U("/tmp/e")), 0);
    /* Mounts and /proc. */
    HT_EQ_U(SYS(sys_rename, U("/proc"), U("/tmp/p")), -EBUSY);
    HT_EQ_U(SYS(sys_rename, U("/proc/meminfo"), U("/tmp/m")), -EXDEV);
    HT_EQ_U(SYS(sys_rename, U("/proc/meminfo"), U("/proc/m")), -EROFS);
    /* A directory over an empty one; moving updates the link counts. */
    HT_EQ_U(tt_stat("/tmp", &st), 0);
    uint64_t tmp_links = st.st_nlink;
    HT_EQ_U(SYS(sys_rename, U("/tmp/d/sub"), U("/tmp/e")), 0);
    HT_EQ_U(tt_stat("/tmp", &st), 0);
    HT_EQ_U(st.st_nlink, tmp_links);                         /* e replaced by sub */
    HT_EQ_U(tt_stat("/tmp/d", &st), 0);
    HT_EQ_U(st.st_nlink, 2);
    HT_EQ_U(SYS(sys_rename, U("/tmp/e"), U("/etc/e")), 0);
    HT_EQ_U(tt_stat("/tmp", &st), 0);
    HT_EQ_U(st.st_nlink, tmp_links - 1);
    HT_EQ_U(tt_stat("/etc/e/..", &st), 0);
    struct linux_stat etc;
    HT_EQ_U(tt_stat("/etc", &etc), 0);
    HT_EQ_U(st.st_ino, etc.st_ino);                          /* ".." follows the move */
    /* Hard links to one file: nothing happens. */
    HT_EQ_U(SYS(sys_link, U("/tmp/g"), U("/tmp/g2")), 0);
    HT_EQ_U(SYS(sys_rename, U("/tmp/g"), U("/tmp/g2")), 0);
    HT_EQ_U(tt_stat("/tmp/g", &st), 0);
    HT_EQ_U(st.st_nlink, 2);
    /* RENAME_NOREPLACE and RENAME_EXCHANGE. */
    HT_EQ_U(tt_put("/tmp/h", "H"), 0);
    HT_EQ_U(SYS(sys_renameat2, ARG(AT_FDCWD), U("/tmp/g"), ARG(AT_FDCWD), U("/tmp/h"), 1),
            -EEXIST);
    HT_EQ_U(SYS(sys_renameat2, ARG(AT_FDCWD), U("/tmp/g"), ARG(AT_FDCWD), U("/tmp/n"), 1), 0);
    HT_EQ_U(SYS(sys_renameat2, ARG(AT_FDCWD), U("/tmp/n"), ARG(AT_FDCWD), U("/tmp/h"), 2), 0);
    HT_EQ_U(tt_slurp("/tmp/n", buf, sizeof(buf)), 1);
    HT_EQ_U(buf[0], 'H');
    HT_EQ_U(tt_slurp("/tmp/h", buf, sizeof(buf)), 1);
    HT_EQ_U(buf[0], 'F');
    HT_EQ_U(SYS(sys_renameat2, ARG(AT_FDCWD), U("/tmp/n"), ARG(AT_FDCWD), U("/tmp/zz"), 2),
            -ENOENT);
    HT_EQ_U(SYS(sys_renameat2, ARG(AT_FDCWD), U("/tmp/n"), ARG(AT_FDCWD), U("/tmp/d"), 2), 0);
    HT_EQ_U(tt_stat("/tmp/n", &st), 0);                      /* a directory now */
    HT_ASSERT(S_ISDIR(st.st_mode), "exchanged kinds");
    HT_EQ_U(SYS(sys_renameat2, ARG(AT_FDCWD), U("/tmp/n"), ARG(AT_FDCWD), U("/tmp/d"), 3),
            -EINVAL);
    HT_EQ_U(SYS(sys_renameat2, ARG(AT_FDCWD), U("/tmp/n"), ARG(AT_FDCWD), U("/tmp/d"), 4),
            -EINVAL);
    HT_EQ_U(SYS(sys_renameat2, ARG(AT_FDCWD), U("/tmp/n"), ARG(AT_FDCWD), U("/tmp/d"), 8),
            -EINVAL);
    HT_EQ_U(SYS(sys_rename, 16, U("/tmp/x")), -EFAULT);
    TT_TEARDOWN();
}

/* ---- getdents ----------------------------------------------------------------------------- */

struct ent {
    char name[64];
    unsigned type;
    uint64_t ino, off;
};

/* Parse linux_dirent64 records; returns how many. */
static int parse64(const uint8_t *p, long n, struct ent *e, int max)
{
    int k = 0;
    for (long at = 0; at < n && k < max; k++) {
        uint16_t reclen;
        memcpy(&e[k].ino, p + at, 8);
        memcpy(&e[k].off, p + at + 8, 8);
        memcpy(&reclen, p + at + 16, 2);
        e[k].type = p[at + 18];
        snprintf(e[k].name, sizeof(e[k].name), "%s", (const char *)p + at + 19);
        at += reclen;
    }
    return k;
}

static int find(const struct ent *e, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(e[i].name, name))
            return i;
    return -1;
}

static void t_getdents(void)
{
    tt_setup();
    HT_EQ_U(SYS(sys_mkdir, U("/tmp/d"), 0755), 0);
    HT_EQ_U(tt_put("/tmp/d/a", "a"), 0);
    HT_EQ_U(SYS(sys_mkdir, U("/tmp/d/b"), 0755), 0);
    HT_EQ_U(SYS(sys_symlink, U("a"), U("/tmp/d/c")), 0);
    long fd = tt_open("/tmp/d", O_RDONLY | O_DIRECTORY, 0);
    static uint8_t buf[4096];
    struct ent e[32];
    long n = SYS(sys_getdents64, fd, U(buf), sizeof(buf));
    HT_ASSERT(n > 0, "getdents64: %ld", n);
    int k = parse64(buf, n, e, 16);
    HT_EQ_U(k, 5);
    HT_EQ_STR(e[0].name, ".");
    HT_EQ_STR(e[1].name, "..");
    HT_EQ_U(e[0].type, 4);
    HT_EQ_U(e[find(e, k, "a")].type, 8);
    HT_EQ_U(e[find(e, k, "b")].type, 4);
    HT_EQ_U(e[find(e, k, "c")].type, 10);
    struct linux_stat st;
    HT_EQ_U(tt_stat("/tmp/d/a", &st), 0);
    HT_EQ_U(e[find(e, k, "a")].ino, st.st_ino);
    HT_EQ_U(tt_stat("/tmp", &st), 0);
    HT_EQ_U(e[1].ino, st.st_ino);
    HT_EQ_U(SYS(sys_getdents64, fd, U(buf), sizeof(buf)), 0);      /* the end */
    /* Back to an entry's d_off: the listing goes on from there. */
    HT_EQ_U(SYS(sys_lseek, fd, ARG(e[2].off), SEEK_SET), e[2].off);
    n = SYS(sys_getdents64, fd, U(buf), sizeof(buf));
    HT_EQ_U(parse64(buf, n, e, 16), 2);
    /* One record at a time; a removal in between skips nothing else. */
    HT_EQ_U(SYS(sys_lseek, fd, 0, SEEK_SET), 0);
    HT_EQ_U(SYS(sys_getdents64, fd, U(buf), 10), -EINVAL);       /* too small for one */
    int seen = 0;
    for (int round = 0; round < 10; round++) {
        n = SYS(sys_getdents64, fd, U(buf), 32);
        if (n == 0)
            break;
        HT_ASSERT(n > 0, "one at a time: %ld", n);
        HT_EQ_U(parse64(buf, n, e, 1), 1);
        if (!strcmp(e[0].name, "a"))
            HT_EQ_U(SYS(sys_unlink, U("/tmp/d/c")), 0);
        seen++;
    }
    HT_EQ_U(seen, 4);                                           /* ., .., a, b */
    /* Errors. */
    HT_EQ_U(SYS(sys_lseek, fd, 0, SEEK_SET), 0);
    HT_EQ_U(SYS(sys_getdents64, fd, 16, sizeof(buf)), -EFAULT);
    HT_EQ_U(SYS(sys_getdents64, 77, U(buf), sizeof(buf)), -EBADF);
    long ffd = tt_open("/tmp/d/a", O_RDONLY, 0);
    HT_EQ_U(SYS(sys_getdents64, ffd, U(buf), sizeof(buf)), -ENOTDIR);
    HT_EQ_U(SYS(sys_getdents64, 0, U(buf), sizeof(buf)), -ENOTDIR);
    HT_EQ_U(SYS(sys_lseek, fd, 0, SEEK_END), -EINVAL);
    HT_EQ_U(SYS(sys_lseek, fd, ARG(-1), SEEK_SET), -EINVAL);
    /* The old getdents: longs, then d_reclen, the name, its NUL, d_type last. */
    HT_EQ_U(SYS(sys_lseek, fd, 2, SEEK_SET), 2);
    n = SYS(sys_getdents, fd, U(buf), sizeof(buf));
    HT_ASSERT(n > 0, "getdents: %ld", n);
    uint16_t reclen;
    memcpy(&reclen, buf + 16, 2);
    HT_EQ_STR((const char *)buf + 18, "a");
    HT_EQ_U(reclen, 24);
    HT_EQ_U(buf[reclen - 1], 8);
    HT_EQ_U(SYS(sys_lseek, fd, 2, SEEK_SET), 2);
    n = file_getdents_old((int)fd, U(buf), sizeof(buf), 4);
    HT_ASSERT(n > 0, "getdents (i386): %ld", n);
    memcpy(&reclen, buf + 8, 2);
    HT_EQ_STR((const char *)buf + 10, "a");
    HT_EQ_U(reclen, 16);
    HT_EQ_U(buf[reclen - 1], 8);
    /* A removed directory lists nothing: -ENOENT. */
    HT_EQ_U(SYS(sys_unlink, U("/tmp/d/a")), 0);
    HT_EQ_U(SYS(sys_rmdir, U("/tmp/d/b")), 0);
    HT_EQ_U(SYS(sys_rmdir, U("/tmp/d")), 0);
    HT_EQ_U(SYS(sys_getdents64, fd, U(buf), sizeof(buf)), -ENOENT);
    /* /proc lists its files and the caller's pid. */
    long pfd = tt_open("/proc", O_RDONLY | O_DIRECTORY, 0);
    n = SYS(sys_getdents64, pfd, U(buf), sizeof(buf));
    k = parse64(buf, n, e, 32);
    HT_ASSERT(find(e, k, "meminfo") >= 0 && find(e, k, "self") >= 0 && find(e, k, "1") >= 0,
              "/proc listing");
    HT_EQ_U(e[find(e, k, "self")].type, 10);
    long sfd = tt_open("/proc/self", O_RDONLY | O_DIRECTORY, 0);
    n = SYS(sys_getdents64, sfd, U(buf), sizeof(buf));
    k = parse64(buf, n, e, 32);
    HT_ASSERT(find(e, k, "maps") >= 0 && find(e, k, "exe") >= 0, "/proc/self listing");
    TT_TEARDOWN();
}

/* ---- the working directory --------------------------------------------------------------- */

static void t_cwd(void)
{
    tt_setup();
    char buf[64];
    HT_EQ_U(SYS(sys_chdir, U("/lib/deep")), 0);
    HT_EQ_U(SYS(sys_getcwd, U(buf), sizeof(buf)), 10);
    HT_EQ_STR(buf, "/lib/deep");
    HT_EQ_U(tt_slurp("file", buf, sizeof(buf)), 4);            /* relative to it */
    HT_EQ_U(tt_slurp("../../etc/motd", buf, sizeof(buf)), strlen(MOTD_TEXT));
    HT_EQ_U(tt_put("new", "n"), 0);
    struct linux_stat st;
    HT_EQ_U(tt_stat("/lib/deep/new", &st), 0);
    HT_EQ_U(SYS(sys_newfstatat, ARG(AT_FDCWD), U("new"), U(&st), 0), 0);
    HT_EQ_U(SYS(sys_getcwd, U(buf), 10), 10);               /* exactly enough */
    HT_EQ_U(SYS(sys_getcwd, U(buf), 9), -ERANGE);
    HT_EQ_U(SYS(sys_getcwd, U(buf), 0), -ERANGE);
    HT_EQ_U(SYS(sys_chdir, U("file")), -ENOTDIR);
    HT_EQ_U(SYS(sys_chdir, U("nothing")), -ENOENT);
    HT_EQ_U(SYS(sys_chdir, 16), -EFAULT);
    HT_EQ_U(SYS(sys_chdir, U("/ld")), -ENOENT);
    HT_EQ_U(SYS(sys_symlink, U("/lib"), U("/ld")), 0);
    HT_EQ_U(SYS(sys_chdir, U("/ld")), 0);                      /* through a link */
    HT_EQ_U(SYS(sys_getcwd, U(buf), sizeof(buf)), 5);
    HT_EQ_STR(buf, "/lib");
    /* fchdir. */
    long fd = tt_open("/etc", O_RDONLY | O_DIRECTORY, 0);
    HT_EQ_U(SYS(sys_fchdir, fd), 0);
    HT_EQ_U(tt_slurp("motd", buf, sizeof(buf)), strlen(MOTD_TEXT));
    long ffd = tt_open("/etc/motd", O_RDONLY, 0);
    HT_EQ_U(SYS(sys_fchdir, ffd), -ENOTDIR);
    HT_EQ_U(SYS(sys_fchdir, 77), -EBADF);
    HT_EQ_U(SYS(sys_fchdir, 0), -ENOTDIR);
    /* fork's table copy inherits the working directory and the umask. */
    HT_EQ_U(SYS(sys_umask, 0), 022);
    void *child = files_dup_table(current->files);
    void *mine = current->files;
    current->files = child;
    HT_EQ_U(SYS(sys_getcwd, U(buf), sizeof(buf)), 5);
    HT_EQ_STR(buf, "/etc");
    HT_EQ_U(SYS(sys_umask, 022), 0);
    HT_EQ_U(SYS(sys_chdir, U("/")), 0);                        /* the child's alone */
    current->files = mine;
    files_close_all(child);
    HT_EQ_U(SYS(sys_getcwd, U(buf), sizeof(buf)), 5);
    /* A removed working directory: getcwd says so, nothing is made in it. */
    HT_EQ_U(SYS(sys_mkdir, U("/tmp/w"), 0755), 0);
    HT_EQ_U(SYS(sys_chdir, U("/tmp/w")), 0);
    HT_EQ_U(SYS(sys_rmdir, U("/tmp/w")), 0);
    HT_EQ_U(SYS(sys_getcwd, U(buf), sizeof(buf)), -ENOENT);
    HT_EQ_U(tt_open("x", O_RDWR | O_CREAT, 0644), -ENOENT);
    HT_EQ_U(SYS(sys_mkdir, U("x"), 0755), -ENOENT);
    HT_EQ_U(tt_stat(".", &st), 0);
    HT_EQ_U(st.st_nlink, 0);
    HT_EQ_U(tt_stat("..", &st), -ENOENT);
    HT_EQ_U(SYS(sys_chdir, U("/proc/self")), 0);               /* into procfs */
    HT_EQ_U(SYS(sys_getcwd, U(buf), sizeof(buf)), 8);
    HT_EQ_STR(buf, "/proc/1");
    HT_EQ_U(tt_stat("maps", &st), 0);
    HT_EQ_U(tt_stat("../../etc", &st), 0);
    HT_EQ_U(SYS(sys_chdir, U("/")), 0);
    TT_TEARDOWN();
}

/* ---- O_TMPFILE, /proc's links ------------------------------------------------------------ */

static void t_tmpfile_proc_links(void)
{
    tt_setup();
    long fd = tt_open("/tmp", O_RDWR | O_TMPFILE, 0600);
    HT_ASSERT(fd >= 0, "O_TMPFILE: %ld", fd);
    HT_EQ_U(tt_write(fd, "tmp", 3), 3);
    struct linux_stat st;
    HT_EQ_U(SYS(sys_fstat, fd, U(&st)), 0);
    HT_EQ_U(st.st_nlink, 0);
    HT_EQ_U(SYS(sys_linkat, fd, U(""), ARG(AT_FDCWD), U("/tmp/named"), AT_EMPTY_PATH), 0);
    char buf[8];
    HT_EQ_U(tt_slurp("/tmp/named", buf, sizeof(buf)), 3);
    long xfd = tt_open("/tmp", O_RDWR | O_TMPFILE | O_EXCL, 0600);
    HT_EQ_U(SYS(sys_linkat, xfd, U(""), ARG(AT_FDCWD), U("/tmp/no"), AT_EMPTY_PATH), -ENOENT);
    long ufd = tt_open("/tmp/named", O_RDONLY, 0);
    HT_EQ_U(SYS(sys_unlink, U("/tmp/named")), 0);
    HT_EQ_U(SYS(sys_linkat, ufd, U(""), ARG(AT_FDCWD), U("/tmp/back"), AT_EMPTY_PATH),
            -ENOENT);                                  /* an unlinked file stays unnamed */
    HT_EQ_U(tt_open("/proc", O_RDWR | O_TMPFILE, 0600), -EROFS);
    /* /proc/self and /proc/self/exe. */
    char t[64];
    HT_EQ_U(SYS(sys_readlink, U("/proc/self"), U(t), sizeof(t)), 1);
    HT_EQ_U(t[0], '1');
    HT_EQ_U(SYS(sys_readlink, U("/proc/self/exe"), U(t), sizeof(t)), -ENOENT);  /* no exec */
    char *exe = malloc(16);
    memcpy(exe, "/bin/init", 10);
    exe_install(current->files, exe);
    HT_EQ_U(SYS(sys_readlink, U("/proc/self/exe"), U(t), sizeof(t)), 9);
    HT_ASSERT(!memcmp(t, "/bin/init", 9), "exe");
    HT_EQ_U(tt_stat("/proc/self/exe", &st), 0);               /* followed to the file */
    HT_EQ_U(st.st_size, strlen(INIT_TEXT));
    HT_EQ_U(tt_stat("/proc/2/exe", &st), -ENOENT);
    TT_TEARDOWN();
}

const struct htest tt_name_cases[] = {
    HT_CASE(path_walk), HT_CASE(symlink_loops), HT_CASE(mkdir_rmdir_unlink), HT_CASE(rename),
    HT_CASE(getdents), HT_CASE(cwd), HT_CASE(tmpfile_proc_links),
};
const size_t tt_name_count = HT_COUNT(tt_name_cases);
