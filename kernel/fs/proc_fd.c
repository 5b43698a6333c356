/*
 * The links of /proc/<pid>: exe, cwd and fd/<n>, and the name of an open
 * file, as Linux's d_path would write it.
 *
 * A tmpfs file does not know its own name: an inode is named by the
 * directory entries pointing at it, and nothing points back (Linux keeps
 * a dentry in every open file instead).  So the name of an open regular
 * file, link or device node is found by searching the tree, depth first
 * from the root, for an entry naming its inode; a file with several
 * links shows the first name found.  A directory knows its parent, and
 * dir_path writes its path.  What has no name any more (an unlinked file,
 * an O_TMPFILE file, a removed directory) shows Linux's " (deleted)"
 * suffix after "/#<inode number>" (the old path is not kept).
 *
 * Files opened without a path show what Linux shows for them: a pipe
 * "pipe:[<inode>]" (the st_ino fstat gives), the console of the first
 * process "/dev/console".  Following such a link by name works when the
 * text is a path; a pipe cannot be opened again through its link (Linux
 * can: its links are "magic", and mmk's are plain symbolic links).
 */
#include <kernel/vfs.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include "proc_impl.h"

long proc_link_exe(struct task *t, char *buf, size_t size)
{
    return snprintf(buf, size, "%s", files_exe(t->files));
}

/* What has no name any more: Linux writes the last path and " (deleted)";
 * the last path is not kept here, so the inode number stands for it. */
static long deleted_name(const struct inode *ino, char *buf, size_t size)
{
    return snprintf(buf, size, "/#%lu (deleted)", (unsigned long)ino->ino);
}

long proc_link_cwd(struct task *t, char *buf, size_t size)
{
    if (!t->files) {                    /* a zombie: no working directory (-ENOENT) */
        buf[0] = 0;
        return 0;
    }
    struct inode *cwd = files_cwd(t->files);
    long n = dir_path(cwd, buf, size);
    return n == -ENOENT ? deleted_name(cwd, buf, size) : n;
}

/*
 * The tmpfs directory entry naming ino, found depth first from the root,
 * and the directory that holds it; NULL when no entry names it.  Mounted
 * directories (/proc) are not entered: no tmpfs file is below them.
 */
static struct dentry *find_entry(struct inode *ino, struct inode **dirp)
{
    struct inode *root = vfs_root();
    if (!root)
        return NULL;
    struct inode *dir = root;
    struct dentry *d = dir->dir.first;
    for (;;) {
        if (d) {
            struct inode *child = d->inode;
            if (child == ino) {
                *dirp = dir;
                return d;
            }
            if (S_ISDIR(child->mode) && child->fs == &tmpfs_root_fs && !child->mounted &&
                child->dir.first) {
                dir = child;
                d = dir->dir.first;
            } else {
                d = d->next;
            }
            continue;
        }
        if (dir == root || !dir->parent)
            return NULL;
        /* Back up: on with the entry after the one naming this directory. */
        struct inode *up = dir->parent;
        struct dentry *back = dir_find_inode(up, dir);
        dir = up;
        d = back ? back->next : NULL;
    }
}

/* "<dir path>/<name>" of ino, or -ENOENT. */
static long file_path(struct inode *ino, char *buf, size_t size)
{
    struct inode *dir;
    struct dentry *d = find_entry(ino, &dir);
    if (!d)
        return -ENOENT;
    long n = dir_path(dir, buf, size);
    if (n < 0)
        return n;
    if (n == 1)
        n = 0;                          /* the root: "/" + name, not "//" + name */
    int k = snprintf(buf + n, size - (size_t)n, "/%s", d->name);
    return (size_t)(n + k) < size ? n + k : -ENAMETOOLONG;
}

/* The name of what an inode-less file is, from its fstat. */
static long anon_name(struct file *f, char *buf, size_t size)
{
    struct linux_stat st;
    if (!f->ops->stat || f->ops->stat(f, &st) < 0)
        return snprintf(buf, size, "anon_inode:[unknown]");
    if ((st.st_mode & S_IFMT) == S_IFIFO)
        return snprintf(buf, size, "pipe:[%lu]", (unsigned long)st.st_ino);
    if (S_ISCHR(st.st_mode) && st.st_rdev == LINUX_MKDEV(5, 1))
        return snprintf(buf, size, "/dev/console");
    return snprintf(buf, size, "anon_inode:[unknown]");
}

long proc_link_fd(struct task *t, int fd, char *buf, size_t size)
{
    struct file *f = files_fd(t->files, fd);
    if (!f)
        return -ENOENT;
    struct inode *ino = f->inode;
    if (!ino)
        return anon_name(f, buf, size);
    long n;
    if (ino->fs == &procfs_fs && !S_ISDIR(ino->mode))
        n = proc_inode_path(ino, buf, size);
    else if (ino->fs == &sysfs_fs && !S_ISDIR(ino->mode))
        n = sysfs_inode_path(ino, buf, size);
    else if (S_ISDIR(ino->mode))
        n = dir_path(ino, buf, size);
    else
        n = file_path(ino, buf, size);
    return n == -ENOENT ? deleted_name(ino, buf, size) : n;
}
