/*
 * i386 system calls of the writable file system whose structures or
 * arguments differ from x86-64's: the old getdents with 32-bit longs,
 * struct statfs and statfs64, truncate64/ftruncate64 and pwrite64 (a
 * 64-bit length or offset in two registers), the 32-bit time structures
 * of utime, utimes, futimesat and utimensat, and the 16-bit owners of the
 * old chown calls.  Each translates and calls the work of the 64-bit
 * handler (kernel/fs/sys_attr.c, sys_dir.c, sys_file.c), so the checks
 * and their order are the same.
 *
 * Layouts: Linux's include/linux/compat.h (compat_statfs, compat_statfs64,
 * compat_linux_dirent) and arch/x86/include/uapi/asm/statfs.h.
 *
 * Invariant: a structure copied out is zeroed first, so its padding
 * carries nothing of the kernel's; a value that does not fit its 32-bit
 * field is -EOVERFLOW, as Linux's put_compat_statfs.
 */
#include <compat32/compat32.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <kernel/syscall.h>
#include <kernel/uaccess.h>
#include <kernel/vfs.h>

/* ---- getdents, truncate, pwrite ----------------------------------------------- */

/* getdents(fd, struct compat_linux_dirent *, count): d_ino and d_off 4 bytes. */
long sys32_getdents(const struct sysargs *a)
{
    return file_getdents_old((int)a->arg[0], a->arg[1], a->arg[2], 4);
}

/* truncate(path, long length) and ftruncate(fd, long length): signed 32 bits. */
long sys32_truncate(const struct sysargs *a)
{
    return file_truncate(a->arg[0], (int32_t)a->arg[1]);
}

long sys32_ftruncate(const struct sysargs *a)
{
    return file_ftruncate((int)a->arg[0], (int32_t)a->arg[1]);
}

/* truncate64(path, len_low, len_high), ftruncate64(fd, len_low, len_high) */
long sys32_truncate64(const struct sysargs *a)
{
    return file_truncate(a->arg[0], (int64_t)(a->arg[1] | a->arg[2] << 32));
}

long sys32_ftruncate64(const struct sysargs *a)
{
    return file_ftruncate((int)a->arg[0], (int64_t)(a->arg[1] | a->arg[2] << 32));
}

/* pwrite64(fd, buf, count, pos_low, pos_high) */
long sys32_pwrite64(const struct sysargs *a)
{
    return file_pwrite((int)a->arg[0], a->arg[1], a->arg[2], (int64_t)(a->arg[3] | a->arg[4] << 32));
}

/* ---- statfs ------------------------------------------------------------------------ */

struct statfs_i386 {
    uint32_t f_type, f_bsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree;
    int32_t f_fsid[2];
    uint32_t f_namelen, f_frsize, f_flags, f_spare[4];
};
_Static_assert(sizeof(struct statfs_i386) == 64, "struct statfs is 64 bytes on i386");

struct statfs64_i386 {
    uint32_t f_type, f_bsize;
    uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
    int32_t f_fsid[2];
    uint32_t f_namelen, f_frsize, f_flags, f_spare[4];
} __attribute__((packed, aligned(4)));
_Static_assert(sizeof(struct statfs64_i386) == 84, "struct statfs64 is 84 bytes on i386");

static bool fits32(uint64_t v)
{
    return v <= 0xffffffffu;
}

static long statfs32_out(long r, const struct linux_statfs *st, uint64_t ubuf)
{
    if (r < 0)
        return r;
    if (!fits32(st->f_blocks) || !fits32(st->f_bfree) || !fits32(st->f_bavail) ||
        !fits32(st->f_files) || !fits32(st->f_ffree))
        return -EOVERFLOW;
    struct statfs_i386 s;
    memset(&s, 0, sizeof(s));
    s.f_type = (uint32_t)st->f_type;
    s.f_bsize = (uint32_t)st->f_bsize;
    s.f_blocks = (uint32_t)st->f_blocks;
    s.f_bfree = (uint32_t)st->f_bfree;
    s.f_bavail = (uint32_t)st->f_bavail;
    s.f_files = (uint32_t)st->f_files;
    s.f_ffree = (uint32_t)st->f_ffree;
    s.f_namelen = (uint32_t)st->f_namelen;
    s.f_frsize = (uint32_t)st->f_frsize;
    s.f_flags = (uint32_t)st->f_flags;
    return copy_to_user(ubuf, &s, sizeof(s)) < 0 ? -EFAULT : 0;
}

static long statfs64_out(long r, const struct linux_statfs *st, uint64_t ubuf)
{
    if (r < 0)
        return r;
    struct statfs64_i386 s;
    memset(&s, 0, sizeof(s));
    s.f_type = (uint32_t)st->f_type;
    s.f_bsize = (uint32_t)st->f_bsize;
    s.f_blocks = st->f_blocks;
    s.f_bfree = st->f_bfree;
    s.f_bavail = st->f_bavail;
    s.f_files = st->f_files;
    s.f_ffree = st->f_ffree;
    s.f_namelen = (uint32_t)st->f_namelen;
    s.f_frsize = (uint32_t)st->f_frsize;
    s.f_flags = (uint32_t)st->f_flags;
    return copy_to_user(ubuf, &s, sizeof(s)) < 0 ? -EFAULT : 0;
}

long sys32_statfs(const struct sysargs *a)
{
    struct linux_statfs st;
    return statfs32_out(file_statfs(a->arg[0], &st), &st, a->arg[1]);
}

long sys32_fstatfs(const struct sysargs *a)
{
    struct linux_statfs st;
    return statfs32_out(file_fstatfs((int)a->arg[0], &st), &st, a->arg[1]);
}

/* statfs64(path, size, buf): size must be the structure's. */
long sys32_statfs64(const struct sysargs *a)
{
    if (a->arg[1] != sizeof(struct statfs64_i386))
        return -EINVAL;
    struct linux_statfs st;
    return statfs64_out(file_statfs(a->arg[0], &st), &st, a->arg[2]);
}

long sys32_fstatfs64(const struct sysargs *a)
{
    if (a->arg[1] != sizeof(struct statfs64_i386))
        return -EINVAL;
    struct linux_statfs st;
    return statfs64_out(file_fstatfs((int)a->arg[0], &st), &st, a->arg[2]);
}

/* ---- times ----------------------------------------------------------------------------- */

#define UTIME_OMIT32 ((1 << 30) - 2)

/* utimensat(dirfd, path, struct old_timespec32 times[2], flags) */
long sys32_utimensat(const struct sysargs *a)
{
    struct linux_timespec t[2];
    if (a->arg[2]) {
        int32_t v[4];
        if (copy_from_user(v, a->arg[2], sizeof(v)) < 0)
            return -EFAULT;
        if (v[1] == UTIME_OMIT32 && v[3] == UTIME_OMIT32)
            return 0;
        t[0] = (struct linux_timespec){ v[0], v[1] };
        t[1] = (struct linux_timespec){ v[2], v[3] };
    }
    return file_utimens((int)a->arg[0], a->arg[1], a->arg[2] ? t : NULL, (unsigned)a->arg[3]);
}

/* utimes/futimesat with struct old_timeval32 (seconds, microseconds). */
static long futimesat32(int dirfd, uint64_t upath, uint64_t utv)
{
    struct linux_timespec t[2];
    if (utv) {
        int32_t v[4];
        if (copy_from_user(v, utv, sizeof(v)) < 0)
            return -EFAULT;
        if (v[1] < 0 || v[1] >= 1000000 || v[3] < 0 || v[3] >= 1000000)
            return -EINVAL;
        t[0] = (struct linux_timespec){ v[0], (int64_t)v[1] * 1000 };
        t[1] = (struct linux_timespec){ v[2], (int64_t)v[3] * 1000 };
    }
    return file_utimens(dirfd, upath, utv ? t : NULL, 0);
}

long sys32_utimes(const struct sysargs *a)
{
    return futimesat32(AT_FDCWD, a->arg[0], a->arg[1]);
}

long sys32_futimesat(const struct sysargs *a)
{
    return futimesat32((int)a->arg[0], a->arg[1], a->arg[2]);
}

/* utime(path, struct old_utimbuf32 { actime, modtime }) */
long sys32_utime(const struct sysargs *a)
{
    struct linux_timespec t[2];
    if (a->arg[1]) {
        int32_t v[2];
        if (copy_from_user(v, a->arg[1], sizeof(v)) < 0)
            return -EFAULT;
        t[0] = (struct linux_timespec){ v[0], 0 };
        t[1] = (struct linux_timespec){ v[1], 0 };
    }
    return file_utimens(AT_FDCWD, a->arg[0], a->arg[1] ? t : NULL, 0);
}

/* ---- 16-bit owners -------------------------------------------------------------------- */

/* The old chown calls take 16-bit ids; 0xffff means "unchanged". */
static uint64_t id16(uint64_t v)
{
    v &= 0xffff;
    return v == 0xffff ? 0xffffffffu : v;
}

long sys32_chown16(const struct sysargs *a)
{
    struct sysargs b = { { a->arg[0], id16(a->arg[1]), id16(a->arg[2]), 0, 0, 0 } };
    return sys_chown(&b);
}

long sys32_lchown16(const struct sysargs *a)
{
    struct sysargs b = { { a->arg[0], id16(a->arg[1]), id16(a->arg[2]), 0, 0, 0 } };
    return sys_lchown(&b);
}

long sys32_fchown16(const struct sysargs *a)
{
    struct sysargs b = { { a->arg[0], id16(a->arg[1]), id16(a->arg[2]), 0, 0, 0 } };
    return sys_fchown(&b);
}
