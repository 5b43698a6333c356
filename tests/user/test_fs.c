/*
 * test_fs: the writable file system as a program sees it, compared with
 * the host's Linux line by line.
 *
 * Everything happens in a fresh directory under /tmp (tmpfs on mmk,
 * whatever /tmp is on the host), removed at the end: files created,
 * written, read, sought, truncated (zeros when grown), renamed, linked
 * and removed; directories made, listed (getdents64, sorted before
 * printing) and removed; symbolic links made, read and followed; the
 * working directory and relative paths, fork inheriting them; the umask;
 * times and owners; execve of a copied program and of "#!" scripts
 * (whose interpreter is this program itself, so no shell is needed); and
 * the errors of each call.  Checks that only hold on mmk's tmpfs and
 * /proc (statfs's magic, -EROFS in /proc, memory coming back) print
 * "# SKIP" on the host.
 *
 *     test_fs        (argv[0] must be the program's path: it runs itself)
 */
#define _GNU_SOURCE
#include "ut.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TMPFS_MAGIC 0x01021994
#define INTERP_FLAG "--fs-interp"
#define COPY_FLAG "--fs-copy"

static char top[64];         /* our directory: /tmp/test_fs.<pid> */
static const char *self;     /* argv[0] */

/* ---- small helpers ------------------------------------------------------------ */

static int put(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    int r = ut_write_full(fd, text, strlen(text));
    close(fd);
    return r;
}

/* The file's contents into buf (NUL-terminated): the length or -1. */
static long get(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    long n = 0, k;
    while (n < (long)size - 1 && (k = read(fd, buf + n, size - 1 - (size_t)n)) > 0)
        n += k;
    close(fd);
    buf[n] = 0;
    return n;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) ? (mode_t)-1 : st.st_mode;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "name/ name ..." of a directory, sorted, "/" after directories. */
static void listing(const char *dir, char *out, size_t size)
{
    static char names[64][NAME_MAX + 2];
    char *v[64];
    int n = 0;
    DIR *d = opendir(dir);
    out[0] = 0;
    if (!d) {
        snprintf(out, size, "(opendir: %s)", ut_errno_name(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        snprintf(names[n], sizeof names[n], "%s%s", e->d_name, e->d_type == DT_DIR ? "/" : "");
        v[n] = names[n];
        n++;
    }
    closedir(d);
    qsort(v, (size_t)n, sizeof v[0], cmp_str);
    for (int i = 0; i < n; i++) {
        strncat(out, v[i], size - strlen(out) - 1);
        if (i + 1 < n)
            strncat(out, " ", size - strlen(out) - 1);
    }
}

/* Run path with argv in a child: its wait status, or -errno of execve as 1000 + errno. */
static int run(const char *path, char *const argv[])
{
    int p[2];
    if (pipe(p))
        return -1;
    pid_t pid = ut_fork();
    if (pid == 0) {
        close(p[0]);
        fcntl(p[1], F_SETFD, FD_CLOEXEC);
        execv(path, argv);
        int e = errno;
        if (write(p[1], &e, sizeof e) != sizeof e)
            _exit(126);
        _exit(127);
    }
    close(p[1]);
    int e = 0;
    long n = read(p[0], &e, sizeof e);
    close(p[0]);
    int status = ut_wait(pid);
    return n == sizeof e ? 1000 + e : status;
}

/* ---- files: create, write, read, seek, truncate --------------------------------- */

static void files(void)
{
    int fd = open("f", O_RDWR | O_CREAT | O_EXCL, 0666);
    ut_check(fd >= 0, "create_exclusive", "open: %s", ut_errno_name(errno));
    ut_check_errno("create_exclusive_again_eexist", open("f", O_RDWR | O_CREAT | O_EXCL, 0666),
                   EEXIST);
    ut_check(write(fd, "hello, world", 12) == 12, "write_12_bytes", "write failed");
    char buf[64] = { 0 };
    ut_check(lseek(fd, 7, SEEK_SET) == 7 && read(fd, buf, sizeof buf) == 5 &&
                 !strcmp(buf, "world"),
             "seek_and_read", "read '%s'", buf);
    ut_check(lseek(fd, 0, SEEK_END) == 12, "seek_end_is_size", "offset wrong");
    ut_check(pwrite(fd, "W", 1, 7) == 1 && lseek(fd, 0, SEEK_CUR) == 12, "pwrite_keeps_offset",
             "offset moved");
    ut_check(lseek(fd, 20, SEEK_SET) == 20 && write(fd, "!", 1) == 1, "write_past_the_end",
             "write failed");
    memset(buf, 'x', sizeof buf);
    ut_check(pread(fd, buf, 32, 0) == 21 && !memcmp(buf, "hello, World\0\0\0\0\0\0\0\0!", 21),
             "gap_reads_as_zeros", "contents differ");
    struct stat st;
    ut_check(!fstat(fd, &st) && st.st_size == 21 && S_ISREG(st.st_mode) && st.st_nlink == 1,
             "fstat_size_type_links", "size %lld", (long long)st.st_size);
    ut_check(!ftruncate(fd, 5) && !fstat(fd, &st) && st.st_size == 5, "ftruncate_shrinks",
             "size %lld", (long long)st.st_size);
    ut_check(!truncate("f", 4096 + 10) && get("f", buf, sizeof buf) >= 0 &&
                 !memcmp(buf, "hello\0\0\0", 8),
             "truncate_grows_with_zeros", "contents '%s'", buf);
    ut_check(!stat("f", &st) && st.st_size == 4106, "truncate_size", "size %lld",
             (long long)st.st_size);
    ut_check_errno("ftruncate_negative_einval", ftruncate(fd, -1), EINVAL);
    ut_check_errno("truncate_directory_eisdir", truncate(".", 0), EISDIR);
    int ro = open("f", O_RDONLY);
    ut_check_errno("ftruncate_readonly_einval", ftruncate(ro, 0), EINVAL);
    ut_check_errno("write_readonly_ebadf", write(ro, "x", 1), EBADF);
    close(ro);
    close(fd);
    /* O_APPEND, O_TRUNC. */
    fd = open("f", O_WRONLY | O_APPEND);
    lseek(fd, 0, SEEK_SET);
    ut_check(write(fd, "+", 1) == 1 && lseek(fd, 0, SEEK_CUR) == 4107, "append_writes_at_end",
             "offset wrong");
    close(fd);
    fd = open("f", O_RDWR | O_TRUNC);
    ut_check(fd >= 0 && !fstat(fd, &st) && st.st_size == 0, "o_trunc_empties", "size %lld",
             (long long)st.st_size);
    close(fd);
    /* A larger file, written and read back in pieces. */
    static char big[300000], back[300000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7 + i / 4096);
    fd = open("big", O_RDWR | O_CREAT, 0644);
    ut_check(ut_write_full(fd, big, sizeof big) == 0 && lseek(fd, 0, SEEK_SET) == 0 &&
                 ut_read_full(fd, back, sizeof back) == 0 && !memcmp(big, back, sizeof big),
             "big_file_round_trip", "contents differ");
    close(fd);
    /* Errors. */
    ut_check_errno("open_missing_enoent", open("missing", O_RDONLY), ENOENT);
    ut_check_errno("open_dir_for_writing_eisdir", open(".", O_WRONLY), EISDIR);
    ut_check_errno("open_file_as_directory_enotdir", open("big", O_RDONLY | O_DIRECTORY),
                   ENOTDIR);
    ut_check_errno("open_file_slash_enotdir", open("big/", O_RDONLY), ENOTDIR);
    ut_check_errno("open_creat_slash_eisdir", open("new/", O_RDWR | O_CREAT, 0644), EISDIR);
    ut_check_errno("open_creat_directory_einval", open("nd", O_RDWR | O_CREAT | O_DIRECTORY, 0644),
                   EINVAL);
    ut_check_errno("open_under_a_file_enotdir", open("big/x", O_RDWR | O_CREAT, 0644), ENOTDIR);
    ut_check_errno("open_bad_pointer_efault", syscall(SYS_open, (char *)16, O_RDONLY), EFAULT);
    char name[300];
    memset(name, 'n', 256);
    name[256] = 0;
    ut_check_errno("open_long_name_enametoolong", open(name, O_RDWR | O_CREAT, 0644),
                   ENAMETOOLONG);
    name[255] = 0;
    fd = open(name, O_RDWR | O_CREAT, 0644);
    ut_check(fd >= 0 && !unlink(name), "name_of_255_bytes", "%s", ut_errno_name(errno));
    close(fd);
    ut_check(!unlink("f") && !unlink("big"), "unlink_files", "%s", ut_errno_name(errno));
}

/* ---- directories and names -------------------------------------------------------- */

static void directories(void)
{
    char list[512];
    ut_check(!mkdir("d", 0755) && !mkdir("d/sub", 0755) && !put("d/a", "a", 0644) &&
                 !put("d/b", "b", 0644) && !symlink("a", "d/link"),
             "make_a_tree", "%s", ut_errno_name(errno));
    listing("d", list, sizeof list);
    printf("listing of d: %s\n", list);
    ut_check(!strcmp(list, "../ ./ a b link sub/"), "getdents64_lists_everything", "%s", list);
    struct stat st;
    ut_check(!stat("d", &st) && st.st_nlink == 3, "directory_nlink_counts_subdirs",
             "nlink %lu", (unsigned long)st.st_nlink);
    /* getdents64 with a buffer too small for one entry. */
    int dfd = open("d", O_RDONLY | O_DIRECTORY);
    char tiny[8];
    ut_check_errno("getdents64_tiny_buffer_einval", syscall(SYS_getdents64, dfd, tiny, sizeof tiny),
                   EINVAL);
    ut_check_errno("read_directory_eisdir", read(dfd, tiny, sizeof tiny), EISDIR);
    int ffd = open("d/a", O_RDONLY);
    char dbuf[1024];
    ut_check_errno("getdents64_on_a_file_enotdir", syscall(SYS_getdents64, ffd, dbuf, sizeof dbuf),
                   ENOTDIR);
    close(ffd);
    ut_check_errno("mkdir_existing_eexist", mkdir("d", 0755), EEXIST);
    ut_check_errno("mkdir_over_link_eexist", mkdir("d/link", 0755), EEXIST);
    ut_check_errno("mkdir_missing_parent_enoent", mkdir("none/x", 0755), ENOENT);
    ut_check_errno("mkdir_under_file_enotdir", mkdir("d/a/x", 0755), ENOTDIR);
    ut_check_errno("rmdir_not_empty_enotempty", rmdir("d"), ENOTEMPTY);
    ut_check_errno("rmdir_file_enotdir", rmdir("d/a"), ENOTDIR);
    ut_check_errno("rmdir_dot_einval", rmdir("d/."), EINVAL);
    ut_check_errno("rmdir_dotdot_enotempty", rmdir("d/sub/.."), ENOTEMPTY);
    ut_check_errno("rmdir_root_ebusy", rmdir("/"), EBUSY);
    ut_check_errno("unlink_directory_eisdir", unlink("d/sub"), EISDIR);
    ut_check_errno("unlink_file_slash_enotdir", unlink("d/a/"), ENOTDIR);
    ut_check_errno("unlink_missing_enoent", unlink("d/none"), ENOENT);
    ut_check_errno("unlinkat_bad_flag_einval", unlinkat(AT_FDCWD, "d/a", 0x1), EINVAL);
    ut_check(!unlinkat(dfd, "sub", AT_REMOVEDIR), "unlinkat_removedir", "%s", ut_errno_name(errno));
    ut_check(!stat("d", &st) && st.st_nlink == 2, "rmdir_drops_parent_nlink", "nlink %lu",
             (unsigned long)st.st_nlink);
    close(dfd);
    /* Hard links. */
    ut_check(!link("d/a", "d/a2") && !stat("d/a", &st) && st.st_nlink == 2, "link_counts",
             "%s", ut_errno_name(errno));
    ut_check_errno("link_existing_eexist", link("d/a", "d/b"), EEXIST);
    ut_check_errno("link_directory_eperm", link("d", "d2"), EPERM);
    ut_check_errno("link_missing_enoent", link("d/none", "d/x"), ENOENT);
    ut_check_errno("link_from_proc_exdev", link("/proc/self/maps", "d/maps"), EXDEV);
    char buf[16];
    ut_check(!unlink("d/a") && get("d/a2", buf, sizeof buf) == 1 && !stat("d/a2", &st) &&
                 st.st_nlink == 1,
             "unlink_one_link_keeps_the_other", "%s", ut_errno_name(errno));
}

static void renames(void)
{
    char buf[16], list[512];
    put("d/x", "X", 0644);
    ut_check(!rename("d/x", "d/b") && get("d/b", buf, sizeof buf) == 1 && buf[0] == 'X' &&
                 access("d/x", F_OK) && errno == ENOENT,
             "rename_replaces_a_file", "%s", ut_errno_name(errno));
    mkdir("d/e", 0755);
    mkdir("d/f", 0755);
    put("d/f/in", "in", 0644);
    ut_check_errno("rename_file_over_dir_eisdir", rename("d/b", "d/e"), EISDIR);
    ut_check_errno("rename_dir_over_file_enotdir", rename("d/e", "d/b"), ENOTDIR);
    ut_check_errno("rename_dir_over_full_dir_enotempty", rename("d/e", "d/f"), ENOTEMPTY);
    ut_check_errno("rename_dir_into_itself_einval", rename("d/f", "d/f/sub"), EINVAL);
    ut_check_errno("rename_over_own_ancestor_enotempty", rename("d/f/in", "d"), ENOTEMPTY);
    ut_check_errno("rename_missing_enoent", rename("d/none", "d/y"), ENOENT);
    ut_check_errno("rename_dot_ebusy", rename("d/.", "d/y"), EBUSY);
    ut_check_errno("rename_file_slash_enotdir", rename("d/b/", "d/y"), ENOTDIR);
    ut_check_errno("rename_proc_file_exdev", rename("/proc/self/maps", "d/maps"), EXDEV);
    ut_check(!rename("d/e", "d/f/moved") && !rmdir("d/f/moved") && !rename("d/f", "d/g"),
             "rename_directories", "%s", ut_errno_name(errno));
    mkdir("d/empty", 0755);
    mkdir("d/g2", 0755);
    ut_check(!rename("d/g2", "d/empty"), "rename_dir_over_empty_dir", "%s", ut_errno_name(errno));
    /* Two names of one file: nothing happens. */
    link("d/b", "d/b2");
    ut_check(!rename("d/b", "d/b2") && !access("d/b", F_OK) && !access("d/b2", F_OK),
             "rename_between_hard_links_is_a_no_op", "%s", ut_errno_name(errno));
    ut_check_errno("renameat2_noreplace_eexist",
                   syscall(SYS_renameat2, AT_FDCWD, "d/b", AT_FDCWD, "d/a2", 1), EEXIST);
    put("d/p", "P", 0644);
    put("d/q", "Q", 0644);
    long r = syscall(SYS_renameat2, AT_FDCWD, "d/p", AT_FDCWD, "d/q", 2);
    ut_check(r == 0 && get("d/p", buf, sizeof buf) == 1 && buf[0] == 'Q', "renameat2_exchange",
             "%s", r ? ut_errno_name(errno) : buf);
    ut_check_errno("renameat2_bad_flags_einval",
                   syscall(SYS_renameat2, AT_FDCWD, "d/p", AT_FDCWD, "d/q", 3), EINVAL);
    listing("d", list, sizeof list);
    printf("listing of d after renames: %s\n", list);
}

/* ---- symbolic links ----------------------------------------------------------------- */

static void symlinks(void)
{
    char buf[64];
    ut_check(!symlink("b", "d/lb") && readlink("d/lb", buf, sizeof buf) == 1 && buf[0] == 'b',
             "readlink_gives_the_target", "%s", ut_errno_name(errno));
    /* (musl's readlink turns a size of 0 into 1: the system call itself) */
    ut_check_errno("readlink_size_0_einval", syscall(SYS_readlink, "d/lb", buf, 0), EINVAL);
    ut_check_errno("readlink_not_a_link_einval", readlink("d/b", buf, sizeof buf), EINVAL);
    ut_check(S_ISLNK(mode_of("d/lb")), "lstat_sees_the_link", "mode %o", mode_of("d/lb"));
    struct stat st;
    ut_check(!stat("d/lb", &st) && S_ISREG(st.st_mode) && st.st_size == 1, "stat_follows",
             "%s", ut_errno_name(errno));
    ut_check(get("d/lb", buf, sizeof buf) == 1, "open_follows", "%s", ut_errno_name(errno));
    ut_check_errno("o_nofollow_eloop", open("d/lb", O_RDONLY | O_NOFOLLOW), ELOOP);
    symlink("loop2", "d/loop1");
    symlink("loop1", "d/loop2");
    ut_check_errno("link_loop_eloop", open("d/loop1", O_RDONLY), ELOOP);
    /* 40 links in a chain are followed, 41 are not (Linux's limit). */
    char from[32], to[32];
    for (int i = 0; i <= 40; i++) {
        snprintf(from, sizeof from, "d/c%d", i);
        snprintf(to, sizeof to, i ? "c%d" : "b", i - 1);
        symlink(to, from);
    }
    ut_check(get("d/c39", buf, sizeof buf) == 1, "chain_of_40_links", "%s", ut_errno_name(errno));
    ut_check_errno("chain_of_41_links_eloop", open("d/c40", O_RDONLY), ELOOP);
    for (int i = 0; i <= 40; i++) {
        snprintf(from, sizeof from, "d/c%d", i);
        unlink(from);
    }
    /* A dangling link: O_CREAT makes its target. */
    symlink("made", "d/dangling");
    ut_check_errno("dangling_link_enoent", open("d/dangling", O_RDONLY), ENOENT);
    ut_check_errno("dangling_link_creat_excl_eexist",
                   open("d/dangling", O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST);
    int fd = open("d/dangling", O_RDWR | O_CREAT, 0644);
    ut_check(fd >= 0 && !access("d/made", F_OK), "dangling_link_creat_makes_target", "%s",
             ut_errno_name(errno));
    close(fd);
    /* A link to a directory, in the middle of a path and with a '/'. */
    symlink("g", "d/lg");
    ut_check(!stat("d/lg/", &st) && S_ISDIR(st.st_mode) && !access("d/lg/.", F_OK),
             "link_to_directory_with_slash", "%s", ut_errno_name(errno));
    ut_check_errno("symlink_empty_target_enoent", symlink("", "d/empty-link"), ENOENT);
    ut_check_errno("symlink_existing_eexist", symlink("x", "d/lb"), EEXIST);
    ut_check(!unlink("d/lb") && !stat("d/b", &st), "unlink_removes_the_link_only", "%s",
             ut_errno_name(errno));
}

/* ---- the working directory, umask, attributes ----------------------------------------- */

static void cwd_and_umask(void)
{
    char buf[256], want[256];
    ut_check(!chdir("d/g") && getcwd(buf, sizeof buf) != NULL, "chdir_relative", "%s",
             ut_errno_name(errno));
    snprintf(want, sizeof want, "%s/d/g", top);
    ut_check(!strcmp(buf, want), "getcwd_after_chdir", "'%s', want '%s'", buf, want);
    ut_check(!put("here", "h", 0644) && !access("../g/here", F_OK) && !access(".././g/here", F_OK),
             "relative_paths_from_cwd", "%s", ut_errno_name(errno));
    ut_check(getcwd(buf, strlen(want)) == NULL && errno == ERANGE, "getcwd_too_small_erange",
             "%s", ut_errno_name(errno));
    ut_check_errno("chdir_to_file_enotdir", chdir("here"), ENOTDIR);
    pid_t pid = ut_fork();
    if (pid == 0) {
        /* The child starts where its parent was, and moves alone. */
        int ok = getcwd(buf, sizeof buf) && !strcmp(buf, want) && !chdir("..");
        _exit(ok ? 0 : 1);
    }
    ut_check(ut_exited_with(ut_wait(pid), 0) && getcwd(buf, sizeof buf) && !strcmp(buf, want),
             "fork_inherits_cwd", "status or cwd wrong");
    int dfd = open("..", O_RDONLY | O_DIRECTORY);
    ut_check(!fchdir(dfd) && getcwd(buf, sizeof buf) && !strcmp(strrchr(buf, '/'), "/d"),
             "fchdir", "%s", buf);
    int ffd = open("g/here", O_RDONLY);
    ut_check_errno("fchdir_file_enotdir", fchdir(ffd), ENOTDIR);
    close(ffd);
    int of = openat(dfd, "g/here", O_RDONLY);
    ut_check(of >= 0, "openat_from_directory_fd", "%s", ut_errno_name(errno));
    close(of);
    close(dfd);
    /* A removed working directory. */
    mkdir("gone", 0755);
    chdir("gone");
    rmdir("../gone");
    ut_check(getcwd(buf, sizeof buf) == NULL && errno == ENOENT, "getcwd_removed_enoent", "%s",
             ut_errno_name(errno));
    ut_check_errno("create_in_removed_dir_enoent", open("x", O_RDWR | O_CREAT, 0644), ENOENT);
    chdir(top);
    /* umask. */
    mode_t old = umask(027);
    ut_check(old == 022, "umask_returns_the_old_mask", "umask was %o", (unsigned)old);
    int fd = open("masked", O_RDWR | O_CREAT, 0777);
    mkdir("maskeddir", 0777);
    ut_check((mode_of("masked") & 07777) == 0750 && (mode_of("maskeddir") & 07777) == 0750,
             "umask_applies", "modes %o %o", mode_of("masked") & 07777,
             mode_of("maskeddir") & 07777);
    close(fd);
    umask(old);
    /* Modes, owners, times. */
    ut_check(!chmod("masked", 04711) && (mode_of("masked") & 07777) == 04711, "chmod", "mode %o",
             mode_of("masked") & 07777);
    ut_check_errno("access_x_needs_an_x_bit_eacces", access("d/b", X_OK), EACCES);
    ut_check(!access("masked", X_OK) && !access("d/b", R_OK | W_OK), "access_as_root", "%s",
             ut_errno_name(errno));
    struct stat st;
    ut_check(!chown("masked", 1234, 5678) && !stat("masked", &st) && st.st_uid == 1234 &&
                 st.st_gid == 5678 && (st.st_mode & 07777) == 0711,
             "chown_keeps_owner_clears_setuid", "uid %u mode %o", (unsigned)st.st_uid,
             (unsigned)st.st_mode);
    struct timespec ts[2] = { { 1000000, 5 }, { 2000000, 7 } };
    ut_check(!utimensat(AT_FDCWD, "masked", ts, 0) && !stat("masked", &st) &&
                 st.st_atim.tv_sec == 1000000 && st.st_mtim.tv_sec == 2000000 &&
                 st.st_mtim.tv_nsec == 7,
             "utimensat_sets_times", "%s", ut_errno_name(errno));
    ts[0].tv_nsec = 1000000000;
    ut_check_errno("utimensat_bad_nsec_einval", utimensat(AT_FDCWD, "masked", ts, 0), EINVAL);
    unlink("masked");
    rmdir("maskeddir");
}

/* ---- execve: a copied program, scripts, errors ----------------------------------------- */

/* Invoked as "#!" interpreter: argv = self, "a b", script, "extra". */
static int interp_main(int argc, char **argv)
{
    if (argc != 5 || strcmp(argv[2], "one arg") || strcmp(argv[4], "extra"))
        return 3;
    const char *base = strrchr(argv[3], '/');
    return base && !strcmp(base, "/script") ? 42 : 4;
}

static int copy_file(const char *from, const char *to)
{
    static char buf[65536];
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    long n;
    int r = in >= 0 && out >= 0 ? 0 : -1;
    while (r == 0 && (n = read(in, buf, sizeof buf)) > 0)
        r = ut_write_full(out, buf, (size_t)n);
    close(in);
    close(out);
    return r;
}

static void execs(void)
{
    char path[128], script[128], line[256];
    snprintf(path, sizeof path, "%s/prog", top);
    ut_check(!copy_file(self, path), "copy_the_program", "%s", ut_errno_name(errno));
    char *const cargv[] = { "prog", COPY_FLAG, NULL };
    int st = run(path, cargv);
    ut_check(ut_exited_with(st, 42), "exec_a_written_program", "status %d", st);
    /* A script whose interpreter is this program: one argument, blanks kept. */
    snprintf(script, sizeof script, "%s/script", top);
    snprintf(line, sizeof line, "#!  %s  " INTERP_FLAG " one arg  \nbody\n", self);
    put(script, line, 0755);
    char *const sargv[] = { "script-name", "extra", NULL };
    st = run(script, sargv);
    ut_check(ut_exited_with(st, 42), "exec_script_runs_interpreter", "status %d", st);
    put("noint", "#!/nonexistent/interpreter\n", 0755);
    st = run("noint", sargv);
    ut_check(st == 1000 + ENOENT, "script_missing_interpreter_enoent", "got %d", st);
    put("empty-line", "#!\n", 0755);
    st = run("empty-line", sargv);
    ut_check(st == 1000 + ENOEXEC, "script_without_interpreter_enoexec", "got %d", st);
    put("plain", "just text\n", 0755);
    st = run("plain", sargv);
    ut_check(st == 1000 + ENOEXEC, "exec_text_enoexec", "got %d", st);
    put("noexec", "#!/bin/sh\n", 0644);
    st = run("noexec", sargv);
    ut_check(st == 1000 + EACCES, "exec_without_x_eacces", "got %d", st);
    st = run("d", sargv);
    ut_check(st == 1000 + EACCES, "exec_directory_eacces", "got %d", st);
    st = run("plain/", sargv);
    ut_check(st == 1000 + ENOTDIR, "exec_file_slash_enotdir", "got %d", st);
    st = run("d/loop1", sargv);
    ut_check(st == 1000 + ELOOP, "exec_link_loop_eloop", "got %d", st);
    char longname[300];
    memset(longname, 'x', 256);
    longname[256] = 0;
    st = run(longname, sargv);
    ut_check(st == 1000 + ENAMETOOLONG, "exec_long_name_enametoolong", "got %d", st);
    symlink("prog", "prog-link");
    st = run("prog-link", cargv);
    ut_check(ut_exited_with(st, 42), "exec_through_a_link", "status %d", st);
    unlink("prog-link");
    unlink("noint");
    unlink("empty-line");
    unlink("plain");
    unlink("noexec");
    unlink(script);
    unlink(path);
}

/* ---- /proc, memory, statfs: mmk's own facts ------------------------------------------- */

static void proc_and_memory(void)
{
    char buf[PATH_MAX];
    long n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    ut_check(n > 0 && !strcmp(buf, self), "proc_self_exe_is_the_program", "'%s' vs '%s'", buf,
             self);
    char want[32];
    snprintf(want, sizeof want, "%d", (int)getpid());
    n = readlink("/proc/self", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    ut_check(!strcmp(buf, want), "proc_self_is_a_link_to_the_pid", "'%s'", buf);
    struct statfs sf;
    if (ut_on_mmk()) {
        ut_check(!statfs(top, &sf) && sf.f_type == TMPFS_MAGIC, "statfs_tmp_is_tmpfs",
                 "type %lx", (unsigned long)sf.f_type);
        ut_check_errno("proc_is_read_only_erofs", open("/proc/meminfo", O_WRONLY), EROFS);
        ut_check_errno("proc_create_erofs", open("/proc/newfile", O_RDWR | O_CREAT, 0644), EROFS);
    } else {
        ut_skip("statfs_tmp_is_tmpfs", "the host's /tmp may be any file system");
        ut_skip("proc_is_read_only_erofs", "the host's /proc lets root open it");
        ut_skip("proc_create_erofs", "the host's /proc answers otherwise");
    }
    /* 1 MiB written and deleted gives its memory back (the buffer is
     * touched first, so that only the file's pages are measured). */
    static char mb[1 << 20];
    memset(mb, 'm', sizeof mb);
    long before = ut_free_kb();
    int fd = open("mb", O_RDWR | O_CREAT, 0644);
    ut_write_full(fd, mb, sizeof mb);
    long during = ut_free_kb();
    close(fd);
    unlink("mb");
    long after = ut_free_kb();
    ut_note("free memory: %ld kB before, %ld kB with 1 MiB written, %ld kB after", before, during,
            after);
    if (ut_on_mmk())
        ut_check(during <= before - 1000 && after >= before - 64, "deleted_file_memory_comes_back",
                 "%ld -> %ld -> %ld kB", before, during, after);
    else
        ut_skip("deleted_file_memory_comes_back", "the host caches pages its own way");
    /* Filling tmpfs: ENOSPC at its limit (half of RAM), never a crash;
     * everything back once the file goes.  Not on the host's disk. */
    if (!ut_on_mmk()) {
        ut_skip("filling_tmp_gives_enospc", "would fill the host's disk");
        ut_skip("full_tmp_memory_comes_back", "would fill the host's disk");
        return;
    }
    fd = open("full", O_RDWR | O_CREAT, 0644);
    long written = 0, r = 0;
    while ((r = write(fd, mb, sizeof mb)) > 0)
        written += r;
    int e = errno;
    struct statfs full;
    int sr = fstatfs(fd, &full);
    close(fd);
    unlink("full");
    ut_note("tmpfs full after %ld MiB: %s; %ld kB free before, %ld kB after", written >> 20,
            ut_errno_name(e), before, ut_free_kb());
    ut_check(r == -1 && e == ENOSPC && !sr && full.f_bfree == 0, "filling_tmp_gives_enospc",
             "write %ld, %s, %lu blocks free", r, ut_errno_name(e), (unsigned long)full.f_bfree);
    ut_check(ut_free_kb() >= before - 64, "full_tmp_memory_comes_back", "%ld kB, before %ld",
             ut_free_kb(), before);
}

/* ---- cleaning up ------------------------------------------------------------------------- */

static int remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_type == DT_DIR)
            remove_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    return rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], INTERP_FLAG))
        return 99;                     /* the flag is inside the one argument: see interp_main */
    if (argc > 1 && !strncmp(argv[1], INTERP_FLAG " ", strlen(INTERP_FLAG) + 1)) {
        char *v[6] = { argv[0], INTERP_FLAG, argv[1] + strlen(INTERP_FLAG) + 1,
                       argc > 2 ? argv[2] : "", argc > 3 ? argv[3] : "", NULL };
        return interp_main(argc == 4 ? 5 : 0, v);
    }
    if (argc > 1 && !strcmp(argv[1], COPY_FLAG))
        return 42;
    ut_init();
    umask(022);                        /* whatever the host's shell had */
    self = argv[0];
    snprintf(top, sizeof top, "/tmp/test_fs.%d", (int)getpid());
    ut_check(!mkdir(top, 0700) && !chdir(top), "fresh_directory_under_tmp", "%s",
             ut_errno_name(errno));
    files();
    directories();
    renames();
    symlinks();
    cwd_and_umask();
    execs();
    proc_and_memory();
    chdir("/");
    ut_check(!remove_tree(top) && access(top, F_OK) && errno == ENOENT, "directory_removed",
             "%s", ut_errno_name(errno));
    return ut_done();
}
