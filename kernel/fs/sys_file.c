/*
 * The file system calls, with Linux's x86-64 semantics (read(2), open(2),
 * ... and fs/read_write.c, fs/open.c, fs/namei.c, fs/fcntl.c for the
 * order in which errors are found, which tests compare with the host).
 *
 * Rules every handler keeps:
 *  - user memory only through uaccess (copy_from_user, copy_to_user,
 *    strncpy_from_user, user_range_ok): a bad pointer is -EFAULT;
 *  - a descriptor is looked up once (fd_file: a borrowed pointer, see
 *    include/kernel/file.h for why no reference is taken), a bad one is
 *    -EBADF;
 *  - nothing a user passes is asserted: absurd values are refused (or
 *    clamped, as Linux clamps read/write counts to MAX_RW_COUNT).
 *
 * The file systems: /proc (kernel/fs/procfs.c), everything else from the
 * initrd (kernel/fs/initrd_fs.c), both read-only.  There is no working
 * directory: relative paths start at "/" (or at a directory descriptor
 * for the *at calls).
 */
#include <kernel/syscall.h>
#include <kernel/file.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <kernel/uaccess.h>
#include <mm/slab.h>

/* Handlers beyond syscall.h's list, ready for the dispatch table. */

#define FIOCLEX  0x5451
#define FIONCLEX 0x5450
#define FIONBIO  0x5421

#define R_OK 4
#define W_OK 2
#define X_OK 1

/* ---- the mounted file systems ------------------------------------------ */

enum node_kind vfs_kind(const char *abs)
{
    if (procfs_owns(abs))
        return procfs_kind(abs);
    return initrd_kind(abs);
}

int vfs_stat(const char *abs, struct linux_stat *st)
{
    if (procfs_owns(abs))
        return procfs_stat(abs, st);
    return initrd_stat(abs, st);
}

int vfs_open(const char *abs, unsigned flags, struct file **out)
{
    flags |= O_LARGEFILE;     /* what Linux's open sets on 64-bit (force_o_largefile) */
    int err = procfs_owns(abs) ? procfs_open(abs, flags, out) : initrd_open(abs, flags, out);
    if (err < 0)
        return err;
    struct linux_stat st;
    if ((*out)->ops->stat && (*out)->ops->stat(*out, &st) == 0 && S_ISDIR(st.st_mode)) {
        size_t n = strlen(abs) + 1;
        (*out)->path = kmalloc(n, GFP_KERNEL);
        if (!(*out)->path) {
            file_put(*out);
            return -ENOMEM;
        }
        memcpy((*out)->path, abs, n);
    }
    return 0;
}

/* ---- helpers ------------------------------------------------------------- */

/* Linux's access_ok: any user address for 0 bytes (NULL included). */
static bool ubuf_ok(uint64_t buf, size_t count)
{
    if (count == 0)
        return buf == 0 || user_range_ok(buf, 1);
    return user_range_ok(buf, count);
}

static bool can_read(const struct file *f)
{
    unsigned acc = f->flags & O_ACCMODE;
    return acc == O_RDONLY || acc == O_RDWR;
}

static bool can_write(const struct file *f)
{
    unsigned acc = f->flags & O_ACCMODE;
    return acc == O_WRONLY || acc == O_RDWR;
}

/* vfs_read/vfs_write: mode, then the buffer, then the clamp. */
static long file_rw(struct file *f, uint64_t buf, size_t count, bool wr)
{
    if (wr ? !can_write(f) : !can_read(f))
        return -EBADF;
    if (!(wr ? f->ops->write : f->ops->read))
        return -EINVAL;
    if (!ubuf_ok(buf, count))
        return -EFAULT;
    if (count > MAX_RW_COUNT)
        count = MAX_RW_COUNT;
    return wr ? f->ops->write(f, buf, count, 0) : f->ops->read(f, buf, count, 0);
}

/*
 * A user path into bufs (PATH_MAX bytes for the copy, then PATH_MAX for
 * the resolved path).  Linux copies the name before anything else, so
 * -EFAULT and -ENAMETOOLONG come first; an empty path is -ENOENT unless
 * empty_ok (then 0 with bufs[0] == 0).  Returns the length.
 */
static long path_copy(uint64_t upath, char *bufs, bool empty_ok)
{
    long n = strncpy_from_user(bufs, upath, PATH_MAX);
    if (n == 0 && !empty_ok)
        return -ENOENT;
    return n;
}

/*
 * Resolve the copied path into bufs + PATH_MAX, a relative one from
 * dirfd's directory (AT_FDCWD: "/").  Returns the node kind or -errno.
 */
static int path_resolve(int dirfd, char *bufs)
{
    const char *base = NULL;
    if (bufs[0] != '/' && dirfd != AT_FDCWD) {
        struct file *dir = fd_file(dirfd);
        if (!dir)
            return -EBADF;
        if (!dir->path)
            return -ENOTDIR;
        base = dir->path;
    }
    return path_walk(base, bufs, bufs + PATH_MAX, PATH_MAX, vfs_kind);
}

/* Both; an empty path (when empty_ok) gives NODE_NONE with bufs[0] == 0. */
static int user_path(int dirfd, uint64_t upath, char *bufs, bool empty_ok)
{
    long n = path_copy(upath, bufs, empty_ok);
    if (n <= 0)
        return (int)n;
    return path_resolve(dirfd, bufs);
}

static char *path_bufs(void)
{
    return kmalloc(2 * PATH_MAX, GFP_KERNEL);
}

/* ---- read and write --------------------------------------------------------- */

static long do_rw(const struct sysargs *a, bool wr)
{
    struct file *f = fd_file((int)a->arg[0]);
    if (!f)
        return -EBADF;
    return file_rw(f, a->arg[1], (size_t)a->arg[2], wr);
}

long sys_read(const struct sysargs *a)
{
    return do_rw(a, false);
}

long sys_write(const struct sysargs *a)
{
    return do_rw(a, true);
}

#define FAST_IOV 8

/*
 * readv/writev (Linux's import_iovec): more than IOV_MAX segments is
 * -EINVAL; the array is copied (-EFAULT), a length negative as ssize_t is
 * -EINVAL, every segment's range is checked (-EFAULT) and the total is
 * clamped to MAX_RW_COUNT, all before any byte moves.  Then the segments
 * are done in order; a short or failed one ends the call, which returns
 * the bytes moved so far if any.  A read waits only for its first bytes
 * (later segments get FIO_NOWAIT), as a pipe read with one buffer would;
 * a write to a blocking pipe writes everything.
 */
static int copy_iov64(struct linux_iovec *iov, uint64_t uiov, uint64_t cnt)
{
    return copy_from_user(iov, uiov, cnt * sizeof(*iov)) < 0 ? -EFAULT : 0;
}

long file_rwv(int fd, uint64_t uiov, uint64_t cnt, bool wr, iov_copy_fn copy_iov)
{
    struct file *f = fd_file(fd);
    if (!f)
        return -EBADF;
    struct linux_iovec fast[FAST_IOV], *iov = fast;
    long r;
    if (wr ? !can_write(f) : !can_read(f)) {
        r = -EBADF;
        goto out;
    }
    if (!(wr ? f->ops->write : f->ops->read)) {
        r = -EINVAL;
        goto out;
    }
    if (cnt > IOV_MAX) {
        r = -EINVAL;
        goto out;
    }
    if (cnt == 0) {
        r = 0;
        goto out;
    }
    if (cnt > FAST_IOV) {
        iov = kmalloc(cnt * sizeof(*iov), GFP_KERNEL);
        if (!iov) {
            r = -ENOMEM;
            goto out;
        }
    }
    if (copy_iov(iov, uiov, cnt) < 0) {
        r = -EFAULT;
        goto out;
    }
    uint64_t total = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        if ((int64_t)iov[i].len < 0) {
            r = -EINVAL;
            goto out;
        }
    }
    for (uint64_t i = 0; i < cnt; i++) {
        if (!ubuf_ok(iov[i].base, (size_t)iov[i].len)) {
            r = -EFAULT;
            goto out;
        }
        if (iov[i].len > MAX_RW_COUNT - total)
            iov[i].len = MAX_RW_COUNT - total;
        total += iov[i].len;
    }
    uint64_t done = 0;
    r = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        size_t len = (size_t)iov[i].len;
        if (len == 0)
            continue;
        unsigned fio = (!wr && done) ? FIO_NOWAIT : 0;
        long k = wr ? f->ops->write(f, iov[i].base, len, fio)
                    : f->ops->read(f, iov[i].base, len, fio);
        if (k < 0) {
            r = done ? (long)done : k;
            goto out;
        }
        done += (uint64_t)k;
        if ((size_t)k < len)
            break;
    }
    r = (long)done;
out:
    if (iov != fast)
        kfree(iov);
    return r;
}

long sys_readv(const struct sysargs *a)
{
    return file_rwv((int)a->arg[0], a->arg[1], a->arg[2], false, copy_iov64);
}

long sys_writev(const struct sysargs *a)
{
    return file_rwv((int)a->arg[0], a->arg[1], a->arg[2], true, copy_iov64);
}

/* pread64(fd, buf, count, pos): read at pos without moving the offset. */
long sys_pread64(const struct sysargs *a)
{
    struct file *f = fd_file((int)a->arg[0]);
    if (!f)
        return -EBADF;
    int64_t pos = (int64_t)a->arg[3];
    long r;
    if (!can_read(f))
        r = -EBADF;
    else if (pos < 0)
        r = -EINVAL;
    else if (!f->ops->lseek)
        r = -ESPIPE;
    else {
        /* No read of a seekable file sleeps, so the swap is invisible. */
        uint64_t saved = f->pos;
        f->pos = (uint64_t)pos;
        r = file_rw(f, a->arg[1], (size_t)a->arg[2], false);
        f->pos = saved;
    }
    return r;
}

/* ---- open and close ------------------------------------------------------------ */

/*
 * Linux's checks for an existing name (fs/namei.c do_open, may_open) on a
 * file system mounted read-only: writing a directory is -EISDIR, writing
 * or truncating a file is -EROFS (/proc: -EACCES, the files are 0444).
 */
static int open_check(const char *abs, int kind, unsigned flags)
{
    bool proc = procfs_owns(abs);
    int ro_err = proc ? -EACCES : -EROFS;
    bool wants_write = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
    if ((flags & O_TMPFILE) == O_TMPFILE)
        return (flags & O_ACCMODE) == O_RDONLY ? -EINVAL : ro_err;
    if (kind == NODE_NONE)
        return (flags & O_CREAT) ? ro_err : -ENOENT;
    if ((flags & O_CREAT) && (flags & O_EXCL))
        return -EEXIST;
    if (kind == NODE_DIR) {
        if ((flags & O_CREAT) || wants_write)
            return -EISDIR;
        return 0;
    }
    if (flags & O_DIRECTORY)
        return -ENOTDIR;
    return wants_write ? ro_err : 0;
}

static long do_open(int dirfd, uint64_t upath, unsigned flags)
{
    char *bufs = path_bufs();
    if (!bufs)
        return -ENOMEM;
    long r = path_copy(upath, bufs, false);
    if (r < 0)
        goto out;
    /* Linux reserves the descriptor before it walks the path. */
    if (fd_count() >= FD_MAX) {
        r = -EMFILE;
        goto out;
    }
    int kind = path_resolve(dirfd, bufs);
    if (kind < 0) {
        r = kind;
        goto out;
    }
    const char *abs = bufs + PATH_MAX;
    r = open_check(abs, kind, flags);
    if (r < 0)
        goto out;
    struct file *f;
    r = vfs_open(abs, flags, &f);
    if (r < 0)
        goto out;
    r = fd_install(f, 0, flags & O_CLOEXEC);
    if (r < 0)
        file_put(f);
out:
    kfree(bufs);
    return r;
}

/* open(path, flags, mode): mode only matters for O_CREAT, which we refuse. */
long sys_open(const struct sysargs *a)
{
    return do_open(AT_FDCWD, a->arg[0], (unsigned)a->arg[1]);
}

long sys_openat(const struct sysargs *a)
{
    return do_open((int)a->arg[0], a->arg[1], (unsigned)a->arg[2]);
}

long sys_close(const struct sysargs *a)
{
    return fd_close((int)a->arg[0]);
}

long sys_lseek(const struct sysargs *a)
{
    struct file *f = fd_file((int)a->arg[0]);
    if (!f)
        return -EBADF;
    int64_t off = (int64_t)a->arg[1];
    unsigned whence = (unsigned)a->arg[2];
    if (whence > SEEK_HOLE)
        return -EINVAL;
    if (!f->ops->lseek)
        return -ESPIPE;
    return f->ops->lseek(f, off, (int)whence);
}

/* ---- stat ------------------------------------------------------------------------- */

static long stat_to_user(const struct linux_stat *st, uint64_t ubuf)
{
    return copy_to_user(ubuf, st, sizeof(*st)) < 0 ? -EFAULT : 0;
}

long file_fstat(int fd, struct linux_stat *st)
{
    struct file *f = fd_file(fd);
    if (!f)
        return -EBADF;
    memset(st, 0, sizeof(*st));
    return f->ops->stat ? f->ops->stat(f, st) : -EINVAL;
}

long sys_fstat(const struct sysargs *a)
{
    struct linux_stat st;
    long r = file_fstat((int)a->arg[0], &st);
    return r < 0 ? r : stat_to_user(&st, a->arg[1]);
}

/* stat of a path (no symbolic links exist, so lstat can be sys_stat). */
static long path_stat(int dirfd, uint64_t upath, bool empty_ok, struct linux_stat *st)
{
    char *bufs = path_bufs();
    if (!bufs)
        return -ENOMEM;
    long r = user_path(dirfd, upath, bufs, empty_ok);
    if (r == NODE_NONE && empty_ok && bufs[0] == 0) {
        /* AT_EMPTY_PATH: the descriptor itself (AT_FDCWD: the root). */
        r = dirfd == AT_FDCWD ? vfs_stat("/", st) : file_fstat(dirfd, st);
    } else if (r == NODE_NONE) {
        r = -ENOENT;
    } else if (r >= 0) {
        memset(st, 0, sizeof(*st));
        r = vfs_stat(bufs + PATH_MAX, st);
    }
    kfree(bufs);
    return r < 0 ? r : 0;
}

long file_fstatat(int dirfd, uint64_t upath, unsigned flags, struct linux_stat *st)
{
    if (flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH))
        return -EINVAL;
    bool empty_ok = flags & AT_EMPTY_PATH;
    if (empty_ok && upath == 0) {
        /* Linux 6.11 accepts NULL for "" with AT_EMPTY_PATH. */
        memset(st, 0, sizeof(*st));
        return dirfd == AT_FDCWD ? vfs_stat("/", st) : file_fstat(dirfd, st);
    }
    return path_stat(dirfd, upath, empty_ok, st);
}

long sys_stat(const struct sysargs *a)
{
    struct linux_stat st;
    long r = file_fstatat(AT_FDCWD, a->arg[0], 0, &st);
    return r < 0 ? r : stat_to_user(&st, a->arg[1]);
}

/* newfstatat(dirfd, path, statbuf, flags): the flags fstatat knows. */
long sys_newfstatat(const struct sysargs *a)
{
    struct linux_stat st;
    long r = file_fstatat((int)a->arg[0], a->arg[1], (unsigned)a->arg[3], &st);
    return r < 0 ? r : stat_to_user(&st, a->arg[2]);
}

/* access(path, mode): the root can read everything and write nothing here. */
long sys_access(const struct sysargs *a)
{
    unsigned mode = (unsigned)a->arg[1];
    if (mode & ~(unsigned)(R_OK | W_OK | X_OK))
        return -EINVAL;
    char *bufs = path_bufs();
    if (!bufs)
        return -ENOMEM;
    long r = user_path(AT_FDCWD, a->arg[0], bufs, false);
    const char *abs = bufs + PATH_MAX;
    if (r == NODE_NONE)
        r = -ENOENT;
    if (r >= 0) {
        struct linux_stat st;
        r = vfs_stat(abs, &st);
        if (r == 0 && (mode & W_OK))
            r = procfs_owns(abs) ? -EACCES : -EROFS;
        if (r == 0 && (mode & X_OK) && !S_ISDIR(st.st_mode) && !(st.st_mode & 0111))
            r = -EACCES;
    }
    kfree(bufs);
    return r;
}

/* getcwd: always "/" (there is no chdir); returns the length with the NUL. */
long sys_getcwd(const struct sysargs *a)
{
    if (a->arg[1] < 2)
        return -ERANGE;
    return copy_to_user(a->arg[0], "/", 2) < 0 ? -EFAULT : 2;
}

/* ---- pipes and descriptors --------------------------------------------------------- */

long sys_pipe2(const struct sysargs *a)
{
    unsigned flags = (unsigned)a->arg[1];
    /* O_DIRECT (packet mode) is accepted and ignored: no packets here. */
    if (flags & ~(unsigned)(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
        return -EINVAL;
    struct file *rd, *wr;
    int err = pipe_create(flags, &rd, &wr);
    if (err < 0)
        return err;
    bool cloexec = flags & O_CLOEXEC;
    int fds[2];
    fds[0] = fd_install(rd, 0, cloexec);
    if (fds[0] < 0) {
        file_put(rd);
        file_put(wr);
        return -EMFILE;
    }
    fds[1] = fd_install(wr, 0, cloexec);
    if (fds[1] < 0) {
        fd_close(fds[0]);
        file_put(wr);
        return -EMFILE;
    }
    if (copy_to_user(a->arg[0], fds, sizeof(fds)) < 0) {
        fd_close(fds[0]);
        fd_close(fds[1]);
        return -EFAULT;
    }
    return 0;
}

long sys_pipe(const struct sysargs *a)
{
    struct sysargs b = { { a->arg[0], 0, 0, 0, 0, 0 } };
    return sys_pipe2(&b);
}

long sys_dup(const struct sysargs *a)
{
    struct file *f = fd_file((int)a->arg[0]);
    if (!f)
        return -EBADF;
    file_get(f);                        /* the new descriptor's reference */
    int fd = fd_install(f, 0, false);
    if (fd < 0)
        file_put(f);
    return fd;
}

long sys_dup2(const struct sysargs *a)
{
    return fd_dup2((int)a->arg[0], (int)a->arg[1], false);
}

long sys_dup3(const struct sysargs *a)
{
    int oldfd = (int)a->arg[0], newfd = (int)a->arg[1];
    unsigned flags = (unsigned)a->arg[2];
    if (flags & ~(unsigned)O_CLOEXEC)
        return -EINVAL;
    if (oldfd == newfd)
        return -EINVAL;
    return fd_dup2(oldfd, newfd, flags & O_CLOEXEC);
}

long sys_ioctl(const struct sysargs *a)
{
    int fd = (int)a->arg[0];
    unsigned cmd = (unsigned)a->arg[1];
    uint64_t arg = a->arg[2];
    struct file *f = fd_file(fd);
    if (!f)
        return -EBADF;
    long r;
    /* The ioctls every file answers (fs/ioctl.c do_vfs_ioctl). */
    switch (cmd) {
    case FIOCLEX:
        r = fd_set_cloexec(fd, true);
        break;
    case FIONCLEX:
        r = fd_set_cloexec(fd, false);
        break;
    case FIONBIO: {
        int on;
        r = copy_from_user(&on, arg, sizeof(on)) < 0 ? -EFAULT : 0;
        if (r == 0)
            f->flags = on ? (f->flags | O_NONBLOCK) : (f->flags & ~(unsigned)O_NONBLOCK);
        break;
    }
    default:
        r = f->ops->ioctl ? f->ops->ioctl(f, cmd, arg) : -ENOTTY;
    }
    return r;
}

#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

long sys_fcntl(const struct sysargs *a)
{
    int fd = (int)a->arg[0];
    unsigned cmd = (unsigned)a->arg[1];
    uint64_t arg = a->arg[2];
    struct file *f = fd_file(fd);
    if (!f)
        return -EBADF;
    long r;
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        if (arg >= FD_MAX) {
            r = -EINVAL;
            break;
        }
        file_get(f);                     /* the new descriptor's reference */
        r = fd_install(f, (int)arg, cmd == F_DUPFD_CLOEXEC);
        if (r < 0)
            file_put(f);
        break;
    case F_GETFD:
        r = fd_get_cloexec(fd);
        break;
    case F_SETFD:
        r = fd_set_cloexec(fd, arg & FD_CLOEXEC);
        break;
    case F_GETFL:
        r = f->flags;
        break;
    case F_SETFL:
        f->flags = (f->flags & ~(unsigned)SETFL_MASK) | ((unsigned)arg & SETFL_MASK);
        r = 0;
        break;
    default:
        r = -EINVAL;                     /* locks, owners, leases: not here */
    }
    return r;
}
