/*
 * fcntl, completed: the commands kernel/fs/sys_file.c's sys_fcntl does
 * not take (Linux's fs/fcntl.c and fs/locks.c), in front of it.
 *
 *  - F_DUPFD, F_DUPFD_CLOEXEC: the lowest free descriptor at or above
 *    arg, below the soft RLIMIT_NOFILE (arg at or above it: -EINVAL; none
 *    free: -EMFILE);
 *  - F_GETLK, F_SETLK, F_SETLKW and the open-file-description forms
 *    F_OFD_*: the record locks as one process sees them: its own locks
 *    never conflict with themselves, so F_GETLK always answers F_UNLCK
 *    and F_SETLK(W) always succeeds.  The lock is checked as Linux checks
 *    it (type, whence, a start before 0, a range past the largest offset,
 *    a read lock on a file not open for reading...), and then forgotten:
 *    locks between processes are not kept (docs/syscalls.md);
 *  - F_GETPIPE_SZ, F_SETPIPE_SZ: a pipe's capacity (kernel/fs/pipe.c);
 *  - F_GETFD, F_SETFD, F_GETFL, F_SETFL: sys_fcntl;
 *  - anything else, owners and signals and leases included: -EINVAL.
 * A bad descriptor is -EBADF before anything is looked at.
 */
#include <kernel/syscall.h>
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>

#define F_GETLK  5
#define F_SETLK  6
#define F_SETLKW 7
#define F_OFD_GETLK  36
#define F_OFD_SETLK  37
#define F_OFD_SETLKW 38
#define F_SETPIPE_SZ 1031
#define F_GETPIPE_SZ 1032
#define F_RDLCK 0
#define F_WRLCK 1
#define F_UNLCK 2
#define OFFSET_MAX INT64_MAX

static bool fcntl_is_lock(unsigned cmd)
{
    return cmd == F_GETLK || cmd == F_SETLK || cmd == F_SETLKW || cmd == F_OFD_GETLK ||
           cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
}

/* flock64_to_posix_lock: where the range starts and whether it fits. */
static long lock_range(struct file *f, const struct kflock *l)
{
    int64_t start;
    switch (l->whence) {
    case SEEK_SET:
        start = 0;
        break;
    case SEEK_CUR:
        start = (int64_t)f->pos;
        break;
    case SEEK_END: {
        struct linux_stat st;
        st.st_size = 0;
        if (f->ops->stat)
            f->ops->stat(f, &st);
        start = st.st_size;
        break;
    }
    default:
        return -EINVAL;
    }
    if (l->start > OFFSET_MAX - start)
        return -EOVERFLOW;
    start += l->start;
    if (start < 0)
        return -EINVAL;
    if (l->len > 0 && l->len - 1 > OFFSET_MAX - start)
        return -EOVERFLOW;
    if (l->len < 0 && start + l->len < 0)
        return -EINVAL;
    if (l->type != F_RDLCK && l->type != F_WRLCK && l->type != F_UNLCK)
        return -EINVAL;   /* assign_type */
    return 0;
}

long fcntl_lock(struct file *f, unsigned cmd, struct kflock *l)
{
    bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
    if (cmd == F_GETLK || cmd == F_OFD_GETLK) {
        if (cmd == F_GETLK && l->type != F_RDLCK && l->type != F_WRLCK)
            return -EINVAL;
        long r = lock_range(f, l);
        if (r)
            return r;
        if (ofd && l->pid != 0)
            return -EINVAL;
        l->type = F_UNLCK;   /* nobody else holds a lock here */
        return 0;
    }
    long r = lock_range(f, l);
    if (r)
        return r;
    unsigned acc = f->flags & O_ACCMODE;
    if (l->type == F_RDLCK && acc == O_WRONLY)
        return -EBADF;
    if (l->type == F_WRLCK && acc == O_RDONLY)
        return -EBADF;
    if (ofd && l->pid != 0)
        return -EINVAL;
    return 0;   /* granted at once: no other process's lock is in the way */
}

/* struct flock of x86-64 (32 bytes with its padding). */
struct flock64k {
    int16_t l_type, l_whence;
    int32_t pad0;
    int64_t l_start, l_len;
    int32_t l_pid, pad1;
};
_Static_assert(sizeof(struct flock64k) == 32, "struct flock is 32 bytes on x86-64");

/* The commands every ABI shares; a lock command is the caller's. */
long fcntl_common(int fd, unsigned cmd, uint64_t arg)
{
    struct file *f = fd_file(fd);
    if (!f)
        return -EBADF;
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
        uint32_t from = (uint32_t)arg;   /* Linux takes an unsigned int */
        if (from >= (uint32_t)task_nofile(current, FD_MAX))
            return -EINVAL;
        file_get(f);                     /* the new descriptor's reference */
        int r = fd_install(f, (int)from, cmd == F_DUPFD_CLOEXEC);
        if (r < 0)
            file_put(f);
        return r;
    }
    case F_GETPIPE_SZ:
    case F_SETPIPE_SZ:
        return pipe_fcntl(f, cmd == F_SETPIPE_SZ, (uint32_t)arg);
    case F_GETFD:
    case F_SETFD:
    case F_GETFL:
    case F_SETFL: {
        struct sysargs b = { { (uint64_t)fd, cmd, arg, 0, 0, 0 } };
        return sys_fcntl(&b);
    }
    default:
        return -EINVAL;
    }
}

long sys_fcntl_all(const struct sysargs *a)
{
    int fd = (int)a->arg[0];
    unsigned cmd = (unsigned)a->arg[1];
    if (!fcntl_is_lock(cmd))
        return fcntl_common(fd, cmd, a->arg[2]);
    struct file *f = fd_file(fd);
    if (!f)
        return -EBADF;
    struct flock64k u;
    if (copy_from_user(&u, a->arg[2], sizeof(u)))
        return -EFAULT;
    struct kflock l = { u.l_type, u.l_whence, u.l_start, u.l_len, u.l_pid };
    long r = fcntl_lock(f, cmd, &l);
    if (r || (cmd != F_GETLK && cmd != F_OFD_GETLK))
        return r;
    u.l_type = l.type;
    return copy_to_user(a->arg[2], &u, sizeof(u)) ? -EFAULT : 0;
}
