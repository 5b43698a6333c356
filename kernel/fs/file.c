/*
 * Open files, descriptor tables, and the task's file-system context.
 *
 * Invariants:
 *  - f->refs counts the descriptor slots naming f, in every task's table;
 *    a file with refs == 0 has been released and freed, and its inode
 *    reference dropped;
 *  - a table has `users` tasks (clone's CLONE_FILES shares it: threads),
 *    and is freed, closing every file, when the last one drops it;
 *  - a table of one user is changed only by its task, and the kernel is
 *    not preemptible: a slot cannot change under a system call except
 *    through that call itself, so fd_file lends the file without a
 *    reference.  A shared table may change while a call sleeps (another
 *    thread closes the descriptor): fd_file then takes a reference that
 *    the task holds in t->borrowed until it returns to user mode
 *    (files_unborrow, kernel/proc/task.c), as Linux's fdget/fdput;
 *  - bit i of cloexec is set only while fd[i] is open;
 *  - the table's exe is NULL or a kmalloc'ed copy owned by the table;
 *  - the file-system context (struct fs_ctx, Linux's fs_struct: working
 *    directory and umask) has `users` tables pointing to it (CLONE_FS
 *    shares it); its cwd is NULL (the root) or a directory it holds one
 *    reference on.
 *
 * The file-system context, and the path /proc/self/exe shows (Linux's
 * mm->exe_file), ride on the descriptor table because they have the same
 * life: fork copies them, execve keeps them, exit drops them.  Left out:
 * clone(CLONE_FILES) without CLONE_FS shares the working directory too
 * (pthread_create passes both).
 */
#include <kernel/vfs.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>
#include <mm/slab.h>

struct fs_ctx {
    int users;                   /* tables pointing here */
    struct inode *cwd;           /* the working directory (NULL: the root) */
    unsigned umask;
};

struct files {
    int users;                   /* tasks using this table */
    struct file *fd[FD_MAX];
    uint64_t cloexec;            /* bit per descriptor */
    struct fs_ctx *fs;           /* never NULL */
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

static struct fs_ctx *fs_new(const struct fs_ctx *old)
{
    struct fs_ctx *fs = kzalloc(sizeof(*fs), GFP_KERNEL);
    if (!fs)
        return NULL;
    fs->users = 1;
    fs->umask = old ? old->umask : UMASK_DEFAULT;
    fs->cwd = old && old->cwd ? inode_get(old->cwd) : NULL;
    return fs;
}

static void fs_put(struct fs_ctx *fs)
{
    if (fs && --fs->users == 0) {
        inode_put(fs->cwd);
        kfree(fs);
    }
}

/* An empty table with the file-system context fs (shared: a reference
 * is taken), or a copy of fs's (a new one when fs is NULL). */
static struct files *files_new(struct fs_ctx *fs, bool share_fs)
{
    struct files *t = kzalloc(sizeof(struct files), GFP_KERNEL);
    if (!t)
        return NULL;
    t->users = 1;
    if (share_fs && fs) {
        fs->users++;
        t->fs = fs;
    } else {
        t->fs = fs_new(fs);
    }
    if (!t->fs) {
        kfree(t);
        return NULL;
    }
    return t;
}

void *files_create_std(void)
{
    struct files *t = files_new(NULL, false);
    if (!t)
        return NULL;
    struct file *con = console_open(O_RDWR | O_LARGEFILE);
    if (!con) {
        files_close_all(t);
        return NULL;
    }
    for (int fd = 0; fd < 3; fd++)
        t->fd[fd] = con;
    con->refs = 3;
    return t;
}

static void *dup_table(struct files *old, bool share_fs)
{
    struct files *t = files_new(old ? old->fs : NULL, share_fs);
    if (!t || !old)
        return t;
    if (old->exe) {
        size_t n = strlen(old->exe) + 1;
        t->exe = kmalloc(n, GFP_KERNEL);
        if (!t->exe) {
            files_close_all(t);
            return NULL;
        }
        memcpy(t->exe, old->exe, n);
    }
    for (int fd = 0; fd < FD_MAX; fd++) {
        t->fd[fd] = old->fd[fd];
        if (t->fd[fd])
            file_get(t->fd[fd]);
    }
    t->cloexec = old->cloexec;
    return t;
}

void *files_dup_table(void *files)
{
    return dup_table(files, false);
}

void *files_clone(void *files, bool share_table, bool share_fs)
{
    struct files *old = files;
    if (old && share_table) {
        old->users++;
        return old;
    }
    return dup_table(old, share_fs);
}

int files_unshare(void **files)
{
    struct files *old = *files;
    if (!old || old->users == 1)
        return 0;
    struct files *t = dup_table(old, true);
    if (!t)
        return -ENOMEM;
    files_close_all(old);   /* our reference on the shared one */
    *files = t;
    return 0;
}

bool files_shared(const void *files)
{
    const struct files *t = files;
    return t && t->users > 1;
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
    if (!t || --t->users > 0)
        return;
    /* Empty each slot before the put: a release that sleeps (none does
     * today) must not find a stale pointer. */
    for (int fd = 0; fd < FD_MAX; fd++) {
        struct file *f = t->fd[fd];
        t->fd[fd] = NULL;
        if (f)
            file_put(f);
    }
    fs_put(t->fs);
    kfree(t->exe);
    kfree(t);
}

static struct files *cur_files(void)
{
    return current ? current->files : NULL;
}

/* Keep f until current returns to user mode (a shared table). */
static void borrow(struct file *f)
{
    struct task *t = current;
    for (int i = 0; i < t->nborrowed; i++)
        if (t->borrowed[i] == f)
            return;
    /* Only poll and select use more files than this in one call, and
     * they look every descriptor up again after each sleep: past the
     * last slot, the table's own reference is enough. */
    if (t->nborrowed == TASK_BORROW_MAX)
        return;
    file_get(f);
    t->borrowed[t->nborrowed++] = f;
}

void files_unborrow(struct task *t)
{
    while (t->nborrowed > 0) {
        struct file *f = t->borrowed[--t->nborrowed];
        t->borrowed[t->nborrowed] = NULL;
        file_put(f);
    }
}

struct file *fd_file(int fd)
{
    struct files *t = cur_files();
    if (!t || fd < 0 || fd >= FD_MAX)
        return NULL;
    struct file *f = t->fd[fd];
    if (f && t->users > 1)
        borrow(f);
    return f;
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
    return t && t->fs->cwd ? t->fs->cwd : vfs_root();
}

void cwd_set(struct inode *dir)
{
    struct files *t = cur_files();
    if (!t) {
        inode_put(dir);
        return;
    }
    inode_put(t->fs->cwd);
    t->fs->cwd = dir;
}

unsigned umask_get(void)
{
    struct files *t = cur_files();
    return t ? t->fs->umask : UMASK_DEFAULT;
}

unsigned umask_swap(unsigned mask)
{
    struct files *t = cur_files();
    if (!t)
        return UMASK_DEFAULT;
    unsigned old = t->fs->umask;
    t->fs->umask = mask & 0777;
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
    return t && t->fs->cwd ? t->fs->cwd : vfs_root();
}

unsigned files_umask(void *files)
{
    struct files *t = files;
    return t ? t->fs->umask : UMASK_DEFAULT;
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
