/*
 * The file system calls on descriptors, with Linux's x86-64 semantics
 * (read(2), open(2), ... and fs/read_write.c, fs/open.c, fs/namei.c,
 * fs/fcntl.c for the order in which errors are found, which tests compare
 * with the host).  The calls on names (mkdir, rename...) are in
 * kernel/fs/sys_namei.c, on attributes in kernel/fs/sys_attr.c, on
 * directories in kernel/fs/sys_dir.c.
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
 * The file systems: the root tmpfs and procfs on /proc
 * (include/kernel/vfs.h).  A relative path starts at the working
 * directory, or at a directory descriptor for the *at calls.
 */
#include <kernel/syscall.h>
#include "fs_impl.h"
#include <kernel/errno.h>
#include <kernel/string.h>
#include <kernel/uaccess.h>
#include <mm/slab.h>

/* Handlers beyond syscall.h's list, ready for the dispatch table. */

#define FIOCLEX  0x5451
#define FIONCLEX 0x5450
#define FIONBIO  0x5421

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

long getname(uint64_t upath, char **name, bool empty_ok)
{
    *name = kmalloc(PATH_MAX, GFP_KERNEL);
    if (!*name)
        return -ENOMEM;
    long n = strncpy_from_user(*name, upath, PATH_MAX);
    if (n == 0 && !empty_ok)
        n = -ENOENT;
    if (n < 0) {
        kfree(*name);
        *name = NULL;
    }
    return n;
}

int dirfd_base(int dirfd, const char *path, struct inode **base)
{
    *base = NULL;
    if (path[0] == '/' || dirfd == AT_FDCWD)
        return 0;
    struct file *dir = fd_file(dirfd);
    if (!dir)
        return -EBADF;
    if (!dir->inode || !S_ISDIR(dir->inode->mode))
        return -ENOTDIR;
    *base = dir->inode;
    return 0;
}

int user_namei(int dirfd, uint64_t upath, unsigned lookup, bool empty_ok, struct inode **out)
{
    char *name;
    long n = getname(upath, &name, empty_ok);
    if (n < 0)
        return (int)n;
    int err;
    if (n == 0) {
        /* AT_EMPTY_PATH: the descriptor's own file. */
        if (dirfd == AT_FDCWD) {
            *out = inode_get(cwd_inode());
            err = 0;
        } else {
            struct file *f = fd_file(dirfd);
            err = !f ? -EBADF : !f->inode ? -ENOENT : 0;
            if (!err)
                *out = inode_get(f->inode);
        }
    } else {
        struct inode *base;
        err = dirfd_base(dirfd, name, &base);
        if (!err)
            err = namei(base, name, lookup, out);
    }
    kfree(name);
    return err;
}

int user_namei_parent(int dirfd, uint64_t upath, char **name, struct nameparent *np)
{
    long n = getname(upath, name, false);
    if (n < 0)
        return (int)n;
    struct inode *base;
    int err = dirfd_base(dirfd, *name, &base);
    if (!err)
        err = namei_parent(base, *name, 0, np);
    return err;
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

/* pwrite64(fd, buf, count, pos): write at pos without moving the offset
 * (with O_APPEND Linux writes at the end anyway: so do we). */
long file_pwrite(int fd, uint64_t ubuf, uint64_t count, int64_t pos)
{
    struct file *f = fd_file(fd);
    if (!f)
        return -EBADF;
    if (!can_write(f))
        return -EBADF;
    if (pos < 0)
        return -EINVAL;
    if (!f->ops->lseek)
        return -ESPIPE;
    /* No write of a seekable file sleeps, so the swap is invisible. */
    uint64_t saved = f->pos;
    f->pos = (uint64_t)pos;
    long r = file_rw(f, ubuf, (size_t)count, true);
    f->pos = saved;
    return r;
}

long sys_pwrite64(const struct sysargs *a)
{
    return file_pwrite((int)a->arg[0], a->arg[1], a->arg[2], (int64_t)a->arg[3]);
}

/* ---- open and close ------------------------------------------------------------ */

static long do_open(int dirfd, uint64_t upath, unsigned flags, unsigned mode)
{
    char *name;
    long r = getname(upath, &name, false);
    if (r < 0)
        return r;
    /* Linux reserves the descriptor before it walks the path. */
    if (fd_count() >= FD_MAX) {
        r = -EMFILE;
        goto out;
    }
    struct inode *base;
    r = dirfd_base(dirfd, name, &base);
    if (r < 0)
        goto out;
    struct file *f;
    r = vfs_open_path(base, name, flags, mode, &f);
    if (r < 0)
        goto out;
    r = fd_install(f, 0, flags & O_CLOEXEC);
    if (r < 0)
        file_put(f);
out:
    kfree(name);
    return r;
}

/* open(path, flags, mode) */
long sys_open(const struct sysargs *a)
{
    return do_open(AT_FDCWD, a->arg[0], (unsigned)a->arg[1], (unsigned)a->arg[2]);
}

long sys_openat(const struct sysargs *a)
{
    return do_open((int)a->arg[0], a->arg[1], (unsigned)a->arg[2], (unsigned)a->arg[3]);
}

/* creat(path, mode): open with O_CREAT | O_WRONLY | O_TRUNC. */
long sys_creat(const struct sysargs *a)
{
    return do_open(AT_FDCWD, a->arg[0], O_CREAT | O_WRONLY | O_TRUNC, (unsigned)a->arg[1]);
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

long file_fstatat(int dirfd, uint64_t upath, unsigned flags, struct linux_stat *st)
{
    if (flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH))
        return -EINVAL;
    bool empty_ok = flags & AT_EMPTY_PATH;
    if (empty_ok && upath == 0) {
        /* Linux 6.11 accepts NULL for "" with AT_EMPTY_PATH. */
        if (dirfd != AT_FDCWD)
            return file_fstat(dirfd, st);
        inode_stat(cwd_inode(), st);
        return 0;
    }
    if (empty_ok && dirfd != AT_FDCWD) {
        /* "" names the descriptor itself, whatever kind of file it is. */
        char c;
        long n = strncpy_from_user(&c, upath, 1);
        if (n == -ENAMETOOLONG)
            n = 1;                       /* not empty */
        if (n < 0)
            return n;
        if (n == 0)
            return file_fstat(dirfd, st);
    }
    struct inode *ino;
    int err = user_namei(dirfd, upath, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW,
                         empty_ok, &ino);
    if (err)
        return err;
    inode_stat(ino, st);
    inode_put(ino);
    return 0;
}

long sys_stat(const struct sysargs *a)
{
    struct linux_stat st;
    long r = file_fstatat(AT_FDCWD, a->arg[0], 0, &st);
    return r < 0 ? r : stat_to_user(&st, a->arg[1]);
}

/* lstat: the last component's link itself. */
long sys_lstat(const struct sysargs *a)
{
    struct linux_stat st;
    long r = file_fstatat(AT_FDCWD, a->arg[0], AT_SYMLINK_NOFOLLOW, &st);
    return r < 0 ? r : stat_to_user(&st, a->arg[1]);
}

/* newfstatat(dirfd, path, statbuf, flags): the flags fstatat knows. */
long sys_newfstatat(const struct sysargs *a)
{
    struct linux_stat st;
    long r = file_fstatat((int)a->arg[0], a->arg[1], (unsigned)a->arg[3], &st);
    return r < 0 ? r : stat_to_user(&st, a->arg[2]);
}

/*
 * faccessat2(dirfd, path, mode, flags): we are root, so reading and
 * writing are always allowed (but writing /proc is -EROFS), and
 * executing needs some x bit on anything but a directory (-EACCES).
 */
long file_access(int dirfd, uint64_t upath, unsigned mode, unsigned flags)
{
    if (mode & ~(unsigned)(R_OK | W_OK | X_OK))
        return -EINVAL;
    if (flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_EACCESS | AT_EMPTY_PATH))
        return -EINVAL;
    struct inode *ino;
    int err = user_namei(dirfd, upath, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW,
                         flags & AT_EMPTY_PATH, &ino);
    if (err)
        return err;
    err = inode_permission(ino, (int)mode);
    inode_put(ino);
    return err;
}

long sys_access(const struct sysargs *a)
{
    return file_access(AT_FDCWD, a->arg[0], (unsigned)a->arg[1], 0);
}

long sys_faccessat(const struct sysargs *a)
{
    return file_access((int)a->arg[0], a->arg[1], (unsigned)a->arg[2], 0);
}

long sys_faccessat2(const struct sysargs *a)
{
    return file_access((int)a->arg[0], a->arg[1], (unsigned)a->arg[2], (unsigned)a->arg[3]);
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
