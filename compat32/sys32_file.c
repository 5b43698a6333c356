/*
 * i386 system calls on files whose structures or arguments differ from
 * x86-64's: the iovec of readv/writev, struct stat64, and the calls that
 * pass a 64-bit file offset in two 32-bit registers (_llseek, pread64).
 * Each translates and calls the work of the 64-bit handler
 * (kernel/fs/sys_file.c), so the checks and their order are the same.
 *
 * Layouts: Linux's arch/x86/include/uapi/asm/stat.h (struct stat64 of
 * i386) and include/linux/compat.h (struct compat_iovec).
 *
 * Invariant: an offset or length rebuilt from two 32-bit registers is
 * checked by the same code as the 64-bit call's; a structure copied out
 * is zeroed first, so its padding carries nothing of the kernel's.
 */
#include <compat32/compat32.h>
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/string.h>
#include <kernel/syscall.h>
#include <kernel/uaccess.h>

/* ---- lseek, _llseek, pread64: offsets ------------------------------------------- */

/* lseek(fd, off_t offset, whence): offset is a signed 32-bit long. */
long sys32_lseek(const struct sysargs *a)
{
    struct sysargs b = *a;
    b.arg[1] = (uint64_t)(int64_t)(int32_t)a->arg[1];
    return sys_lseek(&b);
}

/* _llseek(fd, offset_high, offset_low, loff_t *result, whence): the new
 * offset goes to *result, the return value is 0. */
long sys32_llseek(const struct sysargs *a)
{
    struct sysargs b = { { a->arg[0], a->arg[1] << 32 | a->arg[2], a->arg[4] } };
    long r = sys_lseek(&b);
    if (r < 0)
        return r;
    int64_t pos = r;
    return copy_to_user(a->arg[3], &pos, sizeof(pos));
}

/* pread64(fd, buf, count, pos_low, pos_high) */
long sys32_pread64(const struct sysargs *a)
{
    struct sysargs b = { { a->arg[0], a->arg[1], a->arg[2], a->arg[3] | a->arg[4] << 32 } };
    return sys_pread64(&b);
}

/* ---- readv, writev: struct iovec of two 4-byte words ---------------------------------- */

struct iovec32 {
    uint32_t base, len;
};

/*
 * Bring cnt i386 iovecs in, widened in place: the 8-byte entries are
 * copied to the start of the array, then spread out from the last one
 * down (entry i moves from byte 8i to 16i, never over an entry not yet
 * moved).  The length is sign-extended, so that one of 2 GiB or more is
 * negative as a compat_ssize_t and refused with -EINVAL, as on Linux.
 */
static int copy_iov32(struct linux_iovec *iov, uint64_t uiov, uint64_t cnt)
{
    if (copy_from_user(iov, uiov, cnt * sizeof(struct iovec32)) < 0)
        return -EFAULT;
    for (uint64_t i = cnt; i-- > 0;) {
        struct iovec32 v;
        memcpy(&v, (const uint8_t *)iov + i * sizeof(v), sizeof(v));
        iov[i].base = v.base;
        iov[i].len = (uint64_t)(int64_t)(int32_t)v.len;
    }
    return 0;
}

long sys32_readv(const struct sysargs *a)
{
    return file_rwv((int)a->arg[0], a->arg[1], a->arg[2], false, copy_iov32);
}

long sys32_writev(const struct sysargs *a)
{
    return file_rwv((int)a->arg[0], a->arg[1], a->arg[2], true, copy_iov32);
}

/* ---- stat64, lstat64, fstat64, fstatat64: struct stat64 of i386 ----------------------- */

struct stat64_i386 {
    uint64_t st_dev;
    uint8_t pad0[4];
    uint32_t st_ino32;        /* the inode number cut to 32 bits */
    uint32_t st_mode;
    uint32_t st_nlink;
    uint32_t st_uid;
    uint32_t st_gid;
    uint64_t st_rdev;
    uint8_t pad3[4];
    int64_t st_size;
    uint32_t st_blksize;
    uint64_t st_blocks;
    uint32_t st_atime, st_atime_nsec;
    uint32_t st_mtime, st_mtime_nsec;
    uint32_t st_ctime, st_ctime_nsec;
    uint64_t st_ino;
} __attribute__((packed));
_Static_assert(sizeof(struct stat64_i386) == 96, "struct stat64 is 96 bytes on i386");
_Static_assert(__builtin_offsetof(struct stat64_i386, st_mode) == 16, "st_mode");
_Static_assert(__builtin_offsetof(struct stat64_i386, st_rdev) == 32, "st_rdev");
_Static_assert(__builtin_offsetof(struct stat64_i386, st_size) == 44, "st_size");
_Static_assert(__builtin_offsetof(struct stat64_i386, st_blocks) == 56, "st_blocks");
_Static_assert(__builtin_offsetof(struct stat64_i386, st_atime) == 64, "st_atime");
_Static_assert(__builtin_offsetof(struct stat64_i386, st_ino) == 88, "st_ino");

static long stat64_to_user(const struct linux_stat *st, uint64_t ubuf)
{
    struct stat64_i386 s;
    memset(&s, 0, sizeof(s));
    s.st_dev = st->st_dev;
    s.st_ino32 = (uint32_t)st->st_ino;
    s.st_mode = st->st_mode;
    s.st_nlink = (uint32_t)st->st_nlink;
    s.st_uid = st->st_uid;
    s.st_gid = st->st_gid;
    s.st_rdev = st->st_rdev;
    s.st_size = st->st_size;
    s.st_blksize = (uint32_t)st->st_blksize;
    s.st_blocks = (uint64_t)st->st_blocks;
    s.st_atime = (uint32_t)st->st_atim.tv_sec;
    s.st_atime_nsec = (uint32_t)st->st_atim.tv_nsec;
    s.st_mtime = (uint32_t)st->st_mtim.tv_sec;
    s.st_mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
    s.st_ctime = (uint32_t)st->st_ctim.tv_sec;
    s.st_ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
    s.st_ino = st->st_ino;
    return copy_to_user(ubuf, &s, sizeof(s)) < 0 ? -EFAULT : 0;
}

/* stat64(path, buf) */
long sys32_stat64(const struct sysargs *a)
{
    struct linux_stat st;
    long r = file_fstatat(AT_FDCWD, a->arg[0], 0, &st);
    return r < 0 ? r : stat64_to_user(&st, a->arg[1]);
}

/* lstat64(path, buf): a symbolic link itself */
long sys32_lstat64(const struct sysargs *a)
{
    struct linux_stat st;
    long r = file_fstatat(AT_FDCWD, a->arg[0], AT_SYMLINK_NOFOLLOW, &st);
    return r < 0 ? r : stat64_to_user(&st, a->arg[1]);
}

long sys32_fstat64(const struct sysargs *a)
{
    struct linux_stat st;
    long r = file_fstat((int)a->arg[0], &st);
    return r < 0 ? r : stat64_to_user(&st, a->arg[1]);
}

/* fstatat64(dirfd, path, buf, flags) */
long sys32_fstatat64(const struct sysargs *a)
{
    struct linux_stat st;
    long r = file_fstatat((int)a->arg[0], a->arg[1], (unsigned)a->arg[3], &st);
    return r < 0 ? r : stat64_to_user(&st, a->arg[2]);
}
