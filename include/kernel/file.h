/*
 * Open files and file-descriptor tables (kernel/fs/file.c; docs/files.md).
 *
 * A `struct file` is Linux's "open file description": an offset, the
 * status flags given to open (O_RDONLY/O_WRONLY/O_RDWR, O_APPEND,
 * O_NONBLOCK) and an operations table that says what kind of object it
 * is: the console (kernel/fs/console_file.c), a tmpfs file or directory
 * (kernel/fs/tmpfs_file.c), a /proc file (kernel/fs/procfs.c) or one end
 * of a pipe (kernel/fs/pipe.c).  Files opened by path hold a reference on
 * their inode (include/kernel/vfs.h).  A file is reference-counted: every
 * descriptor that names it holds one reference (system calls borrow it,
 * see fd_file); the last file_put calls ops->release.
 *
 * A descriptor table (`struct files`, stored in task->files as a void *)
 * is private to one task: fork copies it (each file gains a reference),
 * exec closes the descriptors marked close-on-exec, exit closes them all.
 * It also carries the task's file-system context (Linux's fs_struct: the
 * working directory and the umask; and the running program's path for
 * /proc/self/exe), which fork copies and exit drops along with it.
 * The kernel is not preemptible and has one CPU, so nothing here locks;
 * only the file operations that wait (pipes) may sleep.
 *
 * The structures and constants named linux_* or with Linux's macro names
 * are Linux's x86-64 ABI (include/uapi/asm-generic/fcntl.h,
 * arch/x86/include/uapi/asm/stat.h), so that unmodified musl programs run.
 */
#ifndef KERNEL_FILE_H
#define KERNEL_FILE_H

#include <kernel/types.h>

/* ---- Linux's ABI: open flags, fcntl, seek, modes --------------------- */

#define O_ACCMODE   00000003
#define O_RDONLY    00000000
#define O_WRONLY    00000001
#define O_RDWR      00000002
#define O_CREAT     00000100
#define O_EXCL      00000200
#define O_NOCTTY    00000400
#define O_TRUNC     00001000
#define O_APPEND    00002000
#define O_NONBLOCK  00004000
#define O_DSYNC     00010000
#define O_ASYNC     00020000
#define O_DIRECT    00040000
#define O_LARGEFILE 00100000
#define O_DIRECTORY 00200000
#define O_NOFOLLOW  00400000
#define O_NOATIME   01000000
#define O_CLOEXEC   02000000
#define O_PATH      010000000
#define O_TMPFILE   (020000000 | O_DIRECTORY)

#define F_DUPFD 0
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define F_DUPFD_CLOEXEC 1030
#define FD_CLOEXEC 1

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define SEEK_DATA 3
#define SEEK_HOLE 4

#define AT_FDCWD            (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_NO_AUTOMOUNT     0x800
#define AT_EMPTY_PATH       0x1000

#define S_IFMT   0170000
#define S_IFDIR  0040000
#define S_IFCHR  0020000
#define S_IFREG  0100000
#define S_IFIFO  0010000
#define S_IFLNK  0120000
#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)

/* Linux's dev_t encoding for stat (new_encode_dev, include/linux/kdev_t.h). */
#define LINUX_MKDEV(ma, mi) \
    ((uint64_t)(((mi) & 0xff) | ((ma) << 8) | (((mi) & ~0xffu) << 12)))

#define PATH_MAX 4096        /* bytes, the final NUL included */
#define NAME_MAX 255         /* bytes of one path component */
#define IOV_MAX 1024
#define PIPE_BUF 4096        /* writes up to this size are atomic */
/* The most one read or write transfers (Linux's MAX_RW_COUNT). */
#define MAX_RW_COUNT 0x7ffff000ul

struct linux_timespec {
    int64_t tv_sec;
    int64_t tv_nsec;
};

/* struct stat of x86-64 Linux (arch/x86/include/uapi/asm/stat.h). */
struct linux_stat {
    uint64_t st_dev;
    uint64_t st_ino;
    uint64_t st_nlink;
    uint32_t st_mode;
    uint32_t st_uid;
    uint32_t st_gid;
    uint32_t pad0;
    uint64_t st_rdev;
    int64_t st_size;
    int64_t st_blksize;
    int64_t st_blocks;        /* 512-byte units */
    struct linux_timespec st_atim;
    struct linux_timespec st_mtim;
    struct linux_timespec st_ctim;
    int64_t unused[3];
};
_Static_assert(sizeof(struct linux_stat) == 144, "struct stat is 144 bytes on x86-64");
_Static_assert(__builtin_offsetof(struct linux_stat, st_nlink) == 16, "st_nlink");
_Static_assert(__builtin_offsetof(struct linux_stat, st_mode) == 24, "st_mode");
_Static_assert(__builtin_offsetof(struct linux_stat, st_rdev) == 40, "st_rdev");
_Static_assert(__builtin_offsetof(struct linux_stat, st_size) == 48, "st_size");
_Static_assert(__builtin_offsetof(struct linux_stat, st_blksize) == 56, "st_blksize");
_Static_assert(__builtin_offsetof(struct linux_stat, st_blocks) == 64, "st_blocks");
_Static_assert(__builtin_offsetof(struct linux_stat, st_atim) == 72, "st_atim");
_Static_assert(__builtin_offsetof(struct linux_stat, st_mtim) == 88, "st_mtim");
_Static_assert(__builtin_offsetof(struct linux_stat, st_ctim) == 104, "st_ctim");

/* struct iovec: a user buffer of readv/writev. */
struct linux_iovec {
    uint64_t base;
    uint64_t len;
};
_Static_assert(sizeof(struct linux_iovec) == 16, "struct iovec is 16 bytes");

/*
 * The work of the stat and readv/writev system calls (kernel/fs/sys_file.c),
 * shared with compat32's i386 versions, which translate the structures:
 *  - file_fstat, file_fstatat: fill *st (fstatat's flags: AT_EMPTY_PATH,
 *    AT_SYMLINK_NOFOLLOW, AT_NO_AUTOMOUNT) or return -errno;
 *  - file_rwv: readv/writev of cnt segments at uiov, copy_iov bringing
 *    them in as struct linux_iovec (0 or -EFAULT; it may be given room
 *    for cnt entries and nothing more).
 */
struct linux_stat;
typedef int (*iov_copy_fn)(struct linux_iovec *iov, uint64_t uiov, uint64_t cnt);
long file_fstat(int fd, struct linux_stat *st);
long file_fstatat(int dirfd, uint64_t upath, unsigned flags, struct linux_stat *st);
long file_rwv(int fd, uint64_t uiov, uint64_t cnt, bool wr, iov_copy_fn copy_iov);

/* ---- open files ------------------------------------------------------ */

struct file;

/* file_ops.read/write flag: another part of the same readv/writev already
 * moved bytes, so do not wait; return -EAGAIN when nothing can be done now. */
#define FIO_NOWAIT 0x1u

/*
 * What a kind of file can do.  read and write move at most n bytes
 * between the file and the user buffer at ubuf (through uaccess only) and
 * return the count, 0 at end of file, or a negative errno; when a fault
 * stops them after some bytes they return those bytes.  The caller has
 * checked the access mode and the user range and clamped n to
 * MAX_RW_COUNT; f is usually borrowed from a descriptor (fd_file).  Only
 * pipes sleep (in read and write); nothing else does.  A NULL read/write
 * refuses with -EINVAL, a NULL lseek with -ESPIPE, a NULL ioctl with
 * -ENOTTY.  release frees the private state when the last reference goes.
 */
struct file_ops {
    long (*read)(struct file *f, uint64_t ubuf, size_t n, unsigned fio);
    long (*write)(struct file *f, uint64_t ubuf, size_t n, unsigned fio);
    long (*lseek)(struct file *f, int64_t off, int whence);
    int (*stat)(struct file *f, struct linux_stat *st);
    long (*ioctl)(struct file *f, unsigned cmd, uint64_t arg);
    void (*release)(struct file *f);
    /* poll/select (kernel/fs/poll.c): what the file is ready for now, a
     * mask of POLL* bits; never sleeps.  NULL: always readable and
     * writable (Linux's DEFAULT_POLLMASK). */
    unsigned (*poll)(struct file *f);
};

/* poll's bits (include/uapi/asm-generic/poll.h). */
#define POLLIN     0x001
#define POLLPRI    0x002
#define POLLOUT    0x004
#define POLLERR    0x008
#define POLLHUP    0x010
#define POLLNVAL   0x020
#define POLLRDNORM 0x040
#define POLLRDBAND 0x080
#define POLLWRNORM 0x100
#define POLLWRBAND 0x200
#define DEFAULT_POLLMASK (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

/*
 * Tasks in poll and select sleep on POLL_WAIT_CHAN, one channel for all
 * files: whatever may have changed a file's readiness (data, room, an end
 * closed, terminal input) calls poll_wake(), and every poller looks at
 * its files again.  The channel is the address of no object, only a name
 * for wake_up (channels are kernel addresses; this one is not).
 */
#define POLL_WAIT_CHAN ((void *)0x504f4c4cul)   /* "POLL" */
void wake_up(void *chan);
static inline void poll_wake(void)
{
    wake_up(POLL_WAIT_CHAN);
}

struct inode;

struct file {
    const struct file_ops *ops;
    int refs;
    unsigned flags;          /* O_ACCMODE bits and the status flags (F_GETFL) */
    uint64_t pos;            /* offset of seekable files (directories: getdents position) */
    void *priv;              /* the kind's own state */
    struct inode *inode;     /* opened by path: its inode (one reference); else NULL */
    /* Fixed-size contents (/proc files): data[0..size). */
    const uint8_t *data;
    uint64_t size;
};

/*
 * A new file with one reference, or NULL (no memory).  flags are open's
 * flags; only the access mode and the status flags are kept.
 */
struct file *file_alloc(const struct file_ops *ops, unsigned flags, void *priv);
/* Take a reference. */
void file_get(struct file *f);
/* Drop a reference; the last one calls ops->release, drops the inode's
 * reference and frees f. */
void file_put(struct file *f);
/*
 * lseek for files whose contents are data[0..size): SEEK_SET/CUR/END,
 * and SEEK_DATA/SEEK_HOLE as for a file without holes (-ENXIO at or past
 * the end); -EINVAL for another whence or a negative result.  Returns the
 * new offset.
 */
long file_lseek_fixed(struct file *f, int64_t off, int whence);
/* read for such files: from f->pos, copy_to_user, advance f->pos. */
long file_read_fixed(struct file *f, uint64_t ubuf, size_t n, unsigned fio);

/* ---- descriptor tables (what the process code calls) ----------------- */

#define FD_MAX 64   /* descriptors per task (RLIMIT_NOFILE) */

/*
 * A table with 0, 1 and 2 open on the console (one O_RDWR file, like the
 * console Linux gives init), for the first process.  NULL when out of memory.
 */
void *files_create_std(void);
/*
 * fork: a new table holding the same files in the same slots, each file
 * gaining a reference (parent and child share offsets and flags, as on
 * Linux), close-on-exec marks copied.  NULL when out of memory (nothing
 * changes).  NULL in gives an empty table.
 */
void *files_dup_table(void *files);
/* execve: close the descriptors marked close-on-exec. */
void files_close_on_exec(void *files);
/* exit: drop the task's use of the table; the last user closes every
 * descriptor and frees it.  NULL is ignored. */
void files_close_all(void *files);
/* clone: the table itself (CLONE_FILES: one more user), or a copy whose
 * working directory and umask are shared (CLONE_FS) or copied.  NULL
 * when out of memory. */
void *files_clone(void *files, bool share_table, bool share_fs);
/* execve: a table shared with another process becomes a copy of our
 * own (Linux's unshare_files): 0 or -ENOMEM (*files unchanged). */
int files_unshare(void **files);
/* Is the table used by more than one task? */
bool files_shared(const void *files);
/* Drop the references fd_file took for t's system call from a shared
 * table (on every return to user mode, and at exit). */
struct task;
void files_unborrow(struct task *t);

/*
 * The current task's descriptors (kernel/fs/file.c; used by the system calls
 * in kernel/fs/sys_file.c).  fd_file returns the file a descriptor names, or
 * NULL for a bad one, without a reference of the caller's: the pointer
 * stays valid until the system call returns to user mode, even across
 * sleep_on.  A table of one task changes only through the task's own
 * calls and the kernel is not preemptible; a table threads share holds
 * the file for the caller in task->borrowed until it returns to user mode
 * (another thread may close the descriptor meanwhile).  file_get it to
 * keep it longer.  fd_install puts
 * f (whose reference passes to the table) in the lowest free slot >= min
 * and returns it, or -EMFILE (the caller still owns f).  fd_close drops a
 * descriptor: 0 or -EBADF.
 */
struct file *fd_file(int fd);
int fd_install(struct file *f, int min, bool cloexec);
int fd_close(int fd);
/* dup2: make newfd name the file of oldfd (closing what newfd named). */
int fd_dup2(int oldfd, int newfd, bool cloexec);
int fd_get_cloexec(int fd);             /* 0/1, or -EBADF */
int fd_set_cloexec(int fd, bool on);    /* 0, or -EBADF */
/* Open descriptors in the current task's table (for tests). */
int fd_count(void);

/* ---- the console and pipes --------------------------------------------- */

/* A new console file (kernel/fs/console_file.c) with open's flags, or NULL. */
struct file *console_open(unsigned flags);
/*
 * Whether the console answers the terminal ioctls (TCGETS, TIOCGWINSZ).
 * musl's stdio buffers a terminal's stdout by lines and anything else
 * fully: a test comparing a program's output with a host run through a
 * pipe may want the console to look like a pipe.  Default: a terminal.
 */
void console_set_tty(bool is_tty);

/*
 * A pipe (kernel/fs/pipe.c): its read end and write end, one reference
 * each.  flags: O_NONBLOCK (on both ends).  0 or -ENOMEM.
 */
int pipe_create(unsigned flags, struct file **rd, struct file **wr);
/* Bytes a pipe holds (Linux's default pipe size: 64 KiB). */
#define PIPE_SIZE (64 * 1024)
/* fcntl's F_GETPIPE_SZ (set false) and F_SETPIPE_SZ (set true, arg the
 * size asked): the size, -EBADF for a file that is not a pipe, -EINVAL,
 * -EBUSY, -ENOMEM (kernel/fs/pipe.c). */
long pipe_fcntl(struct file *f, bool set, uint32_t arg);

#endif
