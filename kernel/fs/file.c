/*
 * Open files, descriptor tables, and the task's file-system context.
 *
 * Invariants:
 *  - f->refs counts the descriptor slots naming f, in every task's table;
 *    a file with refs == 0 has been released and freed, and its inode
 *    reference dropped;
 *  - a table is owned by one task (fork copies it, it is never shared), so
 *    only its task changes it, and the kernel is not preemptible: a slot
 *    cannot change under a system call except through that call itself.
 *    This is why system calls borrow the file (fd_file) rather than take
 *    a reference: a task killed while it sleeps in a pipe exits inside
 *    sleep_on (kernel/proc/task.c), and a reference of its own would never be
 *    dropped, leaking the pipe and hiding EOF/EPIPE from the other end;
 *  - bit i of cloexec is set only while fd[i] is open;
 *  - the table's cwd is NULL (the root) or a directory it holds one
 *    reference on; exe is NULL or a kmalloc'ed copy owned by the table.
 *
 * The file-system context (Linux's fs_struct: working directory and
 * umask; and the path /proc/self/exe shows, Linux's mm->exe_file) rides
 * on the descriptor table because both have the same life: fork copies
 * them, execve keeps them, exit drops them.
 *
 * Left out on purpose: CLONE_FILES (tables shared by threads).
 */
#include <kernel/vfs.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>
#include <mm/slab.h>

struct files {
    struct file *fd[FD_MAX];
    uint64_t cloexec;            /* bit per descriptor */
    struct inode *cwd;           /* the working directory (NULL: the root) */
    unsigned umask;
    char *exe;                   /* /proc/self/exe's target, or NULL */
};

#define UMASK_DEFAULT 0022       /* Linux's init_fs */
_Static_assert(FD_MAX <= 64, "the close-on-exec mask is one 64-bit word");

#define FILE_KEPT_FLAGS (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT | \
                         O_LARGEFILE | O_NOATIME)

struct file *file_alloc(const struct file_ops *ops, unsigned flags, void *priv)
{
    struct file *f = kzalloc(sizeof(*f), GFP_KERNEL);
    if (!f)
        return NULL;
    f->ops = ops;
    f->refs = 1;
    f->flags = flags & FILE_KEPT_FLAGS;
    f->priv = priv;
    return f;
}

void file_get(struct file *f)
{
    if (f->refs <= 0)
        panic("file_get: file %p has refs %d", (void *)f, f->refs);
    f->refs++;
}

void file_put(struct file *f)
{
    if (f->refs <= 0)
        panic("file_put: file %p has refs %d", (void *)f, f->refs);
    if (--f->refs > 0)
        return;
    if (f->ops->release)
        f->ops->release(f);
    inode_put(f->inode);
    kfree(f);
}

long file_lseek_fixed(struct file *f, int64_t off, int whence)
{
    int64_t base;
    switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)f->pos; break;
    case SEEK_END: base = (int64_t)f->size; break;
    case SEEK_DATA:
    case SEEK_HOLE:
        /* No holes: data runs from anywhere below the end to the end. */
        if (off < 0 || (uint64_t)off >= f->size)
            return -ENXIO;
        f->pos = whence == SEEK_DATA ? (uint64_t)off : f->size;
        return (long)f->pos;
    default: return -EINVAL;
    }
    int64_t pos;
    if (__builtin_add_overflow(base, off, &pos) || pos < 0)
        return -EINVAL;
    f->pos = (uint64_t)pos;
    return pos;
}

long file_read_fixed(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    (void)fio;
    if (f->pos >= f->size)
        return 0;
    size_t left = (size_t)(f->size - f->pos);
    if (n > left)
        n = left;
    if (copy_to_user(ubuf, f->data + f->pos, n) < 0)
        return -EFAULT;
    f->pos += n;
    return (long)n;
}

/* ---- descriptor tables ------------------------------------------------- */

static struct files *files_new(void)
{
    struct files *t = kzalloc(sizeof(struct files), GFP_KERNEL);
    if (t)
        t->umask = UMASK_DEFAULT;
    return t;
}

void *files_create_std(void)
{
    struct files *t = files_new();
    if (!t)
        return NULL;
    struct file *con = console_open(O_RDWR | O_LARGEFILE);
    if (!con) {
        kfree(t);
        return NULL;
    }
    for (int fd = 0; fd < 3; fd++)
        t->fd[fd] = con;
    con->refs = 3;
    return t;
}

void *files_dup_table(void *files)
{
    struct files *old = files, *t = files_new();
    if (!t || !old)
        return t;
    if (old->exe) {
        size_t n = strlen(old->exe) + 1;
        t->exe = kmalloc(n, GFP_KERNEL);
        if (!t->exe) {
            kfree(t);
            return NULL;
        }
        memcpy(t->exe, old->exe, n);
    }
    t->cwd = old->cwd ? inode_get(old->cwd) : NULL;
    t->umask = old->umask;
    for (int fd = 0; fd < FD_MAX; fd++) {
        t->fd[fd] = old->fd[fd];
        if (t->fd[fd])
            file_get(t->fd[fd]);
    }
    t->cloexec = old->cloexec;
    return t;
}

void files_close_on_exec(void *files)
{
    struct files *t = files;
    if (!t)
        return;
    for (int fd = 0; fd < FD_MAX; fd++) {
        if ((t->cloexec >> fd) & 1) {
            struct file *f = t->fd[fd];
            t->fd[fd] = NULL;
            t->cloexec &= ~(1ul << fd);
            if (f)
                file_put(f);
        }
    }
}

void files_close_all(void *files)
{
    struct files *t = files;
    if (!t)
        return;
    /* Empty each slot before the put: a release that sleeps (none does
     * today) must not find a stale pointer. */
    for (int fd = 0; fd < FD_MAX; fd++) {
        struct file *f = t->fd[fd];
        t->fd[fd] = NULL;
        if (f)
            file_put(f);
    }
    inode_put(t->cwd);
    kfree(t->exe);
    kfree(t);
}

static struct files *cur_files(void)
{
    return current ? current->files : NULL;
}

struct file *fd_file(int fd)
{
    struct files *t = cur_files();
    if (!t || fd < 0 || fd >= FD_MAX)
        return NULL;
    return t->fd[fd];
}

int fd_install(struct file *f, int min, bool cloexec)
{
    struct files *t = cur_files();
    if (!t)
        return -EMFILE;
    int end = task_nofile(current, FD_MAX);   /* below the soft RLIMIT_NOFILE */
    for (int fd = min < 0 ? 0 : min; fd < end; fd++) {
        if (!t->fd[fd]) {
            t->fd[fd] = f;
            if (cloexec)
                t->cloexec |= 1ul << fd;
            else
                t->cloexec &= ~(1ul << fd);
            return fd;
        }
    }
    return -EMFILE;
}

int fd_close(int fd)
{
    struct files *t = cur_files();
    if (!t || fd < 0 || fd >= FD_MAX || !t->fd[fd])
        return -EBADF;
    struct file *f = t->fd[fd];
    t->fd[fd] = NULL;
    t->cloexec &= ~(1ul << fd);
    file_put(f);
    return 0;
}

int fd_dup2(int oldfd, int newfd, bool cloexec)
{
    struct files *t = cur_files();
    if (!t || oldfd < 0 || oldfd >= FD_MAX || !t->fd[oldfd])
        return -EBADF;
    if (newfd < 0 || newfd >= task_nofile(current, FD_MAX))
        return -EBADF;
    if (oldfd == newfd)
        return newfd;
    struct file *old = t->fd[newfd];
    t->fd[newfd] = t->fd[oldfd];
    file_get(t->fd[newfd]);
    if (cloexec)
        t->cloexec |= 1ul << newfd;
    else
        t->cloexec &= ~(1ul << newfd);
    if (old)
        file_put(old);   /* closed silently, as dup2 does */
    return newfd;
}

int fd_get_cloexec(int fd)
{
    struct files *t = cur_files();
    if (!t || fd < 0 || fd >= FD_MAX || !t->fd[fd])
        return -EBADF;
    return (int)((t->cloexec >> fd) & 1);
}

int fd_set_cloexec(int fd, bool on)
{
    struct files *t = cur_files();
    if (!t || fd < 0 || fd >= FD_MAX || !t->fd[fd])
        return -EBADF;
    if (on)
        t->cloexec |= 1ul << fd;
    else
        t->cloexec &= ~(1ul << fd);
    return 0;
}

int fd_count(void)
{
    struct files *t = cur_files();
    int n = 0;
    for (int fd = 0; t && fd < FD_MAX; fd++)
        n += t->fd[fd] != NULL;
    return n;
}

/* ---- the file-system context ----------------------------------------------- */

struct inode *cwd_inode(void)
{
    struct files *t = cur_files();
    return t && t->cwd ? t->cwd : vfs_root();
}

void cwd_set(struct inode *dir)
{
    struct files *t = cur_files();
    if (!t) {
        inode_put(dir);
        return;
    }
    inode_put(t->cwd);
    t->cwd = dir;
}

unsigned umask_get(void)
{
    struct files *t = cur_files();
    return t ? t->umask : UMASK_DEFAULT;
}

unsigned umask_swap(unsigned mask)
{
    struct files *t = cur_files();
    if (!t)
        return UMASK_DEFAULT;
    unsigned old = t->umask;
    t->umask = mask & 0777;
    return old;
}

/* ---- another task's table, for /proc/<pid> (kernel/fs/proc_fd.c) ---------------- */

struct file *files_fd(void *files, int fd)
{
    struct files *t = files;
    return t && fd >= 0 && fd < FD_MAX ? t->fd[fd] : NULL;
}

struct inode *files_cwd(void *files)
{
    struct files *t = files;
    return t && t->cwd ? t->cwd : vfs_root();
}

unsigned files_umask(void *files)
{
    struct files *t = files;
    return t ? t->umask : UMASK_DEFAULT;
}

const char *files_exe(void *files)
{
    struct files *t = files;
    return t && t->exe ? t->exe : "";
}

const char *exe_path(void)
{
    struct files *t = cur_files();
    return t && t->exe ? t->exe : "";
}

void exe_install(void *files, char *path)
{
    struct files *t = files;
    if (!t) {
        kfree(path);
        return;
    }
    kfree(t->exe);
    t->exe = path;
}
