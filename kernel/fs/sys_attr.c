/*
 * The system calls on attributes: chmod, chown, umask, truncate,
 * utimensat (and utimes, utime), statx, statfs, fsync and sync, with
 * Linux's checks in Linux's order (fs/open.c, fs/utimes.c, fs/stat.c,
 * fs/statfs.c, fs/sync.c).
 *
 * We are root: every change is allowed (CAP_FOWNER, CAP_CHOWN), except
 * on the read-only /proc (-EROFS).  chown keeps the owner it is given and
 * clears set-user-ID (and set-group-ID on a group-executable file) of
 * anything but a directory, as Linux's notify_change does for root.
 */
#include <kernel/syscall.h>
#include "fs_impl.h"
#include <kernel/errno.h>
#include <kernel/string.h>
#include <kernel/uaccess.h>
#include <mm/slab.h>

/* The inode a descriptor's file is on: -EBADF, or NULL for a pipe or the
 * console (no inode). */
static int fd_inode(int fd, struct inode **ino)
{
    struct file *f = fd_file(fd);
    if (!f)
        return -EBADF;
    *ino = f->inode;
    return 0;
}

/* ---- chmod ------------------------------------------------------------------------- */

static int chmod_inode(struct inode *ino, unsigned mode)
{
    if (ino->fs->rdonly)
        return -EROFS;
    ino->mode = (ino->mode & S_IFMT) | (mode & 07777);
    inode_ctime(ino);
    return 0;
}

static long do_fchmodat(int dirfd, uint64_t upath, unsigned mode)
{
    struct inode *ino;
    int err = user_namei(dirfd, upath, LOOKUP_FOLLOW, false, &ino);
    if (err)
        return err;
    err = chmod_inode(ino, mode);
    inode_put(ino);
    return err;
}

long sys_chmod(const struct sysargs *a)
{
    return do_fchmodat(AT_FDCWD, a->arg[0], (unsigned)a->arg[1]);
}

long sys_fchmodat(const struct sysargs *a)
{
    return do_fchmodat((int)a->arg[0], a->arg[1], (unsigned)a->arg[2]);
}

long sys_fchmod(const struct sysargs *a)
{
    struct inode *ino;
    int err = fd_inode((int)a->arg[0], &ino);
    if (err || !ino)
        return err;
    return chmod_inode(ino, (unsigned)a->arg[1]);
}

/* ---- chown ---------------------------------------------------------------------------- */

static int chown_inode(struct inode *ino, uint32_t uid, uint32_t gid)
{
    if (ino->fs->rdonly)
        return -EROFS;
    if (uid != (uint32_t)-1)
        ino->uid = uid;
    if (gid != (uint32_t)-1)
        ino->gid = gid;
    if (!S_ISDIR(ino->mode)) {
        ino->mode &= ~(uint32_t)S_ISUID;
        if ((ino->mode & S_ISGID) && (ino->mode & 0010))
            ino->mode &= ~(uint32_t)S_ISGID;
    }
    inode_ctime(ino);
    return 0;
}

static long do_fchownat(int dirfd, uint64_t upath, uint32_t uid, uint32_t gid, unsigned flags)
{
    if (flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct inode *ino;
    int err = user_namei(dirfd, upath, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW,
                         flags & AT_EMPTY_PATH, &ino);
    if (err)
        return err;
    err = chown_inode(ino, uid, gid);
    inode_put(ino);
    return err;
}

long sys_chown(const struct sysargs *a)
{
    return do_fchownat(AT_FDCWD, a->arg[0], (uint32_t)a->arg[1], (uint32_t)a->arg[2], 0);
}

long sys_lchown(const struct sysargs *a)
{
    return do_fchownat(AT_FDCWD, a->arg[0], (uint32_t)a->arg[1], (uint32_t)a->arg[2],
                       AT_SYMLINK_NOFOLLOW);
}

long sys_fchownat(const struct sysargs *a)
{
    return do_fchownat((int)a->arg[0], a->arg[1], (uint32_t)a->arg[2], (uint32_t)a->arg[3],
                       (unsigned)a->arg[4]);
}

long sys_fchown(const struct sysargs *a)
{
    struct inode *ino;
    int err = fd_inode((int)a->arg[0], &ino);
    if (err || !ino)
        return err;
    return chown_inode(ino, (uint32_t)a->arg[1], (uint32_t)a->arg[2]);
}

long sys_umask(const struct sysargs *a)
{
    return (long)umask_swap((unsigned)a->arg[0]);
}

/* ---- truncate ----------------------------------------------------------------------------- */

long file_truncate(uint64_t upath, int64_t len)
{
    if (len < 0)
        return -EINVAL;
    struct inode *ino;
    int err = user_namei(AT_FDCWD, upath, LOOKUP_FOLLOW, false, &ino);
    if (err)
        return err;
    if (S_ISDIR(ino->mode))
        err = -EISDIR;
    else if (!S_ISREG(ino->mode))
        err = -EINVAL;
    else if (ino->fs->rdonly)
        err = -EROFS;
    else
        err = tmpfs_setsize(ino, (uint64_t)len);
    inode_put(ino);
    return err;
}

long file_ftruncate(int fd, int64_t len)
{
    if (len < 0)
        return -EINVAL;
    struct file *f = fd_file(fd);
    if (!f)
        return -EBADF;
    unsigned acc = f->flags & O_ACCMODE;
    if (!f->inode || !S_ISREG(f->inode->mode) || (acc != O_WRONLY && acc != O_RDWR))
        return -EINVAL;
    return tmpfs_setsize(f->inode, (uint64_t)len);
}

long sys_truncate(const struct sysargs *a)
{
    return file_truncate(a->arg[0], (int64_t)a->arg[1]);
}

long sys_ftruncate(const struct sysargs *a)
{
    return file_ftruncate((int)a->arg[0], (int64_t)a->arg[1]);
}

/* ---- times ---------------------------------------------------------------------------------- */

#define UTIME_NOW  ((1l << 30) - 1l)
#define UTIME_OMIT ((1l << 30) - 2l)

static bool nsec_valid(int64_t ns)
{
    return ns == UTIME_NOW || ns == UTIME_OMIT || (ns >= 0 && ns <= 999999999);
}

static int utimes_inode(struct inode *ino, const struct linux_timespec *t)
{
    if (ino->fs->rdonly)
        return -EROFS;
    struct linux_timespec now = fs_now();
    if (!t || t[0].tv_nsec != UTIME_OMIT)
        ino->atime = !t || t[0].tv_nsec == UTIME_NOW ? now : t[0];
    if (!t || t[1].tv_nsec != UTIME_OMIT)
        ino->mtime = !t || t[1].tv_nsec == UTIME_NOW ? now : t[1];
    ino->ctime = now;
    return 0;
}

/* Linux's do_utimes: times already copied in (NULL: both now). */
long file_utimens(int dirfd, uint64_t upath, const struct linux_timespec *t, unsigned flags)
{
    if (t) {
        if (!nsec_valid(t[0].tv_nsec) || !nsec_valid(t[1].tv_nsec))
            return -EINVAL;
        if (t[0].tv_nsec == UTIME_NOW && t[1].tv_nsec == UTIME_NOW)
            t = NULL;
    }
    if (flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct inode *ino;
    int err;
    if (upath == 0 && dirfd != AT_FDCWD) {
        /* futimens: the descriptor's file. */
        if (flags)
            return -EINVAL;
        err = fd_inode(dirfd, &ino);
        if (err || !ino)
            return err;
        return utimes_inode(ino, t);
    }
    err = user_namei(dirfd, upath, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW,
                     flags & AT_EMPTY_PATH, &ino);
    if (err)
        return err;
    err = utimes_inode(ino, t);
    inode_put(ino);
    return err;
}

long sys_utimensat(const struct sysargs *a)
{
    struct linux_timespec t[2];
    if (a->arg[2]) {
        if (copy_from_user(t, a->arg[2], sizeof(t)) < 0)
            return -EFAULT;
        /* Nothing to do: the path is not even looked at. */
        if (t[0].tv_nsec == UTIME_OMIT && t[1].tv_nsec == UTIME_OMIT)
            return 0;
    }
    return file_utimens((int)a->arg[0], a->arg[1], a->arg[2] ? t : NULL, (unsigned)a->arg[3]);
}

/* utimes and futimesat: struct timeval (seconds, microseconds). */
static long do_futimesat(int dirfd, uint64_t upath, uint64_t utv)
{
    struct linux_timespec t[2];
    if (utv) {
        int64_t tv[4];
        if (copy_from_user(tv, utv, sizeof(tv)) < 0)
            return -EFAULT;
        if (tv[1] < 0 || tv[1] >= 1000000 || tv[3] < 0 || tv[3] >= 1000000)
            return -EINVAL;
        t[0] = (struct linux_timespec){ tv[0], tv[1] * 1000 };
        t[1] = (struct linux_timespec){ tv[2], tv[3] * 1000 };
    }
    return file_utimens(dirfd, upath, utv ? t : NULL, 0);
}

long sys_utimes(const struct sysargs *a)
{
    return do_futimesat(AT_FDCWD, a->arg[0], a->arg[1]);
}

long sys_futimesat(const struct sysargs *a)
{
    return do_futimesat((int)a->arg[0], a->arg[1], a->arg[2]);
}

/* utime(path, struct utimbuf { actime, modtime }). */
long sys_utime(const struct sysargs *a)
{
    struct linux_timespec t[2];
    if (a->arg[1]) {
        int64_t ub[2];
        if (copy_from_user(ub, a->arg[1], sizeof(ub)) < 0)
            return -EFAULT;
        t[0] = (struct linux_timespec){ ub[0], 0 };
        t[1] = (struct linux_timespec){ ub[1], 0 };
    }
    return file_utimens(AT_FDCWD, a->arg[0], a->arg[1] ? t : NULL, 0);
}

/* ---- statx ------------------------------------------------------------------------------------ */

#define STATX_BASIC_STATS 0x7ffu
#define STATX_BTIME       0x800u
#define STATX_MNT_ID      0x1000u
#define STATX__RESERVED   0x80000000u
#define STATX_ATTR_MOUNT_ROOT 0x2000u

struct statx_timestamp {
    int64_t tv_sec;
    uint32_t tv_nsec;
    int32_t reserved;
};

/* struct statx (include/uapi/linux/stat.h): the same for i386 and x86-64. */
struct linux_statx {
    uint32_t stx_mask, stx_blksize;
    uint64_t stx_attributes;
    uint32_t stx_nlink, stx_uid, stx_gid;
    uint16_t stx_mode, spare0;
    uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
    struct statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
    uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
    uint64_t stx_mnt_id;
    uint32_t stx_dio_mem_align, stx_dio_offset_align;
    uint64_t spare3[12];
};
_Static_assert(sizeof(struct linux_statx) == 256, "struct statx is 256 bytes");
_Static_assert(__builtin_offsetof(struct linux_statx, stx_ino) == 32, "stx_ino");
_Static_assert(__builtin_offsetof(struct linux_statx, stx_atime) == 64, "stx_atime");
_Static_assert(__builtin_offsetof(struct linux_statx, stx_rdev_major) == 128, "stx_rdev_major");
_Static_assert(__builtin_offsetof(struct linux_statx, stx_mnt_id) == 144, "stx_mnt_id");

static struct statx_timestamp sx_time(struct linux_timespec t)
{
    return (struct statx_timestamp){ t.tv_sec, (uint32_t)t.tv_nsec, 0 };
}

/* Linux's dev_t of stat back to major and minor (new_decode_dev). */
static uint32_t dev_major(uint64_t d)
{
    return (uint32_t)((d & 0xfff00) >> 8);
}

static uint32_t dev_minor(uint64_t d)
{
    return (uint32_t)((d & 0xff) | ((d >> 12) & 0xfff00));
}

static void statx_fill(const struct linux_stat *st, const struct inode *ino,
                       struct linux_statx *sx)
{
    memset(sx, 0, sizeof(*sx));
    sx->stx_mask = STATX_BASIC_STATS;
    sx->stx_blksize = (uint32_t)st->st_blksize;
    sx->stx_nlink = (uint32_t)st->st_nlink;
    sx->stx_uid = st->st_uid;
    sx->stx_gid = st->st_gid;
    sx->stx_mode = (uint16_t)st->st_mode;
    sx->stx_ino = st->st_ino;
    sx->stx_size = (uint64_t)st->st_size;
    sx->stx_blocks = (uint64_t)st->st_blocks;
    sx->stx_atime = sx_time(st->st_atim);
    sx->stx_mtime = sx_time(st->st_mtim);
    sx->stx_ctime = sx_time(st->st_ctim);
    sx->stx_rdev_major = dev_major(st->st_rdev);
    sx->stx_rdev_minor = dev_minor(st->st_rdev);
    sx->stx_dev_major = dev_major(st->st_dev);
    sx->stx_dev_minor = dev_minor(st->st_dev);
    sx->stx_attributes_mask = STATX_ATTR_MOUNT_ROOT;
    if (ino) {
        sx->stx_mask |= STATX_MNT_ID;
        sx->stx_mnt_id = (uint64_t)ino->fs->mnt_id;
        if (!ino->fs->rdonly) {
            sx->stx_mask |= STATX_BTIME;
            sx->stx_btime = sx_time(ino->btime);
        }
        if (ino->fs->root == ino)
            sx->stx_attributes |= STATX_ATTR_MOUNT_ROOT;
    }
}

long sys_statx(const struct sysargs *a)
{
    int dirfd = (int)a->arg[0];
    uint64_t upath = a->arg[1];
    unsigned flags = (unsigned)a->arg[2], mask = (unsigned)a->arg[3];
    if (mask & STATX__RESERVED)
        return -EINVAL;
    if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
        return -EINVAL;
    if (flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH |
                            AT_STATX_SYNC_TYPE))
        return -EINVAL;
    struct linux_stat st;
    struct inode *ino = NULL;
    long r;
    /* A descriptor itself (AT_EMPTY_PATH with "" or NULL): any file. */
    bool self = false;
    if (flags & AT_EMPTY_PATH) {
        if (!upath) {
            self = true;
        } else {
            char c;
            r = strncpy_from_user(&c, upath, 1);
            if (r == -EFAULT)
                return r;
            self = r == 0;
        }
    }
    if (self && dirfd != AT_FDCWD) {
        struct file *f = fd_file(dirfd);
        if (!f)
            return -EBADF;
        r = file_fstat(dirfd, &st);
        ino = f->inode ? inode_get(f->inode) : NULL;
    } else if (self) {
        ino = inode_get(cwd_inode());
        inode_stat(ino, &st);
        r = 0;
    } else {
        r = user_namei(dirfd, upath, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW, false,
                       &ino);
        if (!r)
            inode_stat(ino, &st);
    }
    if (r < 0)
        return r;
    struct linux_statx sx;
    statx_fill(&st, ino, &sx);
    inode_put(ino);
    return copy_to_user(a->arg[4], &sx, sizeof(sx)) < 0 ? -EFAULT : 0;
}

/* ---- statfs ------------------------------------------------------------------------------------ */

#define ST_RDONLY 0x0001
#define ST_NOSUID 0x0002
#define ST_NODEV  0x0004
#define ST_NOEXEC 0x0008
#define ST_VALID  0x0020
#define PIPEFS_MAGIC 0x50495045

void vfs_statfs(const struct inode *ino, struct linux_statfs *st)
{
    memset(st, 0, sizeof(*st));
    st->f_bsize = st->f_frsize = 4096;
    st->f_namelen = NAME_MAX;
    st->f_flags = ST_VALID;
    if (!ino) {
        st->f_type = PIPEFS_MAGIC;     /* a pipe or the console: Linux's pipefs answer */
        return;
    }
    const struct vfs_fs *fs = ino->fs;
    st->f_type = (int64_t)fs->magic;
    if (fs->rdonly)
        st->f_flags |= ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC;
    if (fs->max_pages) {
        st->f_blocks = fs->max_pages;
        st->f_bfree = st->f_bavail = fs->max_pages - fs->nr_pages;
        st->f_files = fs->max_inodes;
        st->f_ffree = fs->max_inodes - fs->nr_inodes;
    }
}

long file_statfs(uint64_t upath, struct linux_statfs *st)
{
    struct inode *ino;
    int err = user_namei(AT_FDCWD, upath, LOOKUP_FOLLOW, false, &ino);
    if (err)
        return err;
    vfs_statfs(ino, st);
    inode_put(ino);
    return 0;
}

long file_fstatfs(int fd, struct linux_statfs *st)
{
    struct inode *ino;
    int err = fd_inode(fd, &ino);
    if (err)
        return err;
    vfs_statfs(ino, st);
    return 0;
}

long sys_statfs(const struct sysargs *a)
{
    struct linux_statfs st;
    long r = file_statfs(a->arg[0], &st);
    return r < 0 ? r : copy_to_user(a->arg[1], &st, sizeof(st)) < 0 ? -EFAULT : 0;
}

long sys_fstatfs(const struct sysargs *a)
{
    struct linux_statfs st;
    long r = file_fstatfs((int)a->arg[0], &st);
    return r < 0 ? r : copy_to_user(a->arg[1], &st, sizeof(st)) < 0 ? -EFAULT : 0;
}

/* ---- sync ------------------------------------------------------------------------------------------ */

/* fsync, fdatasync: nothing to write back in memory; -EINVAL where Linux
 * has no fsync (pipes, the console, /proc files). */
long sys_fsync(const struct sysargs *a)
{
    struct inode *ino;
    int err = fd_inode((int)a->arg[0], &ino);
    if (err)
        return err;
    return ino && (S_ISREG(ino->mode) || S_ISDIR(ino->mode)) && !ino->fs->rdonly ? 0 : -EINVAL;
}

long sys_sync(const struct sysargs *a)
{
    (void)a;
    return 0;
}

long sys_syncfs(const struct sysargs *a)
{
    struct inode *ino;
    return fd_inode((int)a->arg[0], &ino);
}
