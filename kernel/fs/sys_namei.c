/*
 * The system calls on names: mkdir, mknod, rmdir, unlink, rename, link,
 * symlink, readlink (and their *at forms), with Linux's checks in Linux's
 * order (fs/namei.c do_mkdirat, do_rmdir, do_unlinkat, do_renameat2,
 * do_linkat, do_symlinkat, do_readlinkat; may_delete, may_create), so
 * that the user tests can compare every error with the host's.
 *
 * The pattern of each: copy the name (-EFAULT, -ENAMETOOLONG, -ENOENT for
 * ""), walk to the directory that holds the last component
 * (user_namei_parent: -ENOENT, -ENOTDIR, -ELOOP...), check the kind of
 * that component ("/", ".", ".." are refused, each call its own way),
 * refuse a change on the read-only /proc (-EROFS), look the name up, and
 * only then ask tmpfs (kernel/fs/tmpfs.c) to do it, which can only fail
 * for want of memory or room.
 *
 * A mount point (the tmpfs directory /proc) cannot be removed or renamed
 * (-EBUSY), and nothing moves between /proc and the rest (-EXDEV).
 */
#include <kernel/syscall.h>
#include "fs_impl.h"
#include <kernel/errno.h>
#include <kernel/string.h>
#include <kernel/uaccess.h>
#include <mm/slab.h>

/* The entry of np's last component in its (tmpfs) directory, or NULL. */
static struct dentry *np_entry(const struct nameparent *np)
{
    if (np->dir->fs->rdonly || np->len > NAME_MAX)
        return NULL;
    return dir_find(np->dir, np->last, np->len);
}

/*
 * Linux's filename_create: the parent of a new name.  "/", "." and ".."
 * are -EEXIST; a trailing '/' is allowed for directories only (else a
 * missing name is -ENOENT); an existing name is -EEXIST; then a read-only
 * file system is -EROFS and a removed directory -ENOENT.
 */
static int create_check(const struct nameparent *np, bool want_dir)
{
    if (np->type != LAST_NORM)
        return -EEXIST;
    struct inode *ino;
    int err = lookup_one(np->dir, np->last, np->len, false, &ino);
    if (!err) {
        inode_put(ino);
        return -EEXIST;
    }
    if (err != -ENOENT)
        return err;
    if (np->slash && !want_dir)
        return -ENOENT;
    if (np->dir->fs->rdonly)
        return -EROFS;
    if (!np->dir->nlink)
        return -ENOENT;
    return 0;
}

/* ---- mkdir, mknod ----------------------------------------------------------- */

static long do_mkdirat(int dirfd, uint64_t upath, unsigned mode)
{
    char *name;
    struct nameparent np = { 0 };
    int err = user_namei_parent(dirfd, upath, &name, &np);
    if (!err)
        err = create_check(&np, true);
    if (!err)
        err = tmpfs_mkdir(np.dir, np.last, np.len, (mode & 07777) & ~umask_get());
    if (np.dir)
        nameparent_put(&np);
    kfree(name);
    return err;
}

long sys_mkdir(const struct sysargs *a)
{
    return do_mkdirat(AT_FDCWD, a->arg[0], (unsigned)a->arg[1]);
}

long sys_mkdirat(const struct sysargs *a)
{
    return do_mkdirat((int)a->arg[0], a->arg[1], (unsigned)a->arg[2]);
}

/*
 * mknod: regular files (type 0 or S_IFREG) and, since we are root,
 * character and block device nodes (kernel/fs/chrdev.c says which
 * numbers open).  FIFOs and sockets are not supported: -EPERM, the answer
 * Linux gives a process without the right to make the node.  A directory
 * is -EPERM, an unknown type -EINVAL, as Linux's may_mknod.
 */
static long do_mknodat(int dirfd, uint64_t upath, unsigned mode, unsigned dev)
{
    unsigned type = mode & S_IFMT;
    switch (type) {
    case 0:
    case S_IFREG:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
        break;
    case S_IFDIR:
        return -EPERM;
    default:
        return -EINVAL;
    }
    char *name;
    struct nameparent np = { 0 };
    int err = user_namei_parent(dirfd, upath, &name, &np);
    if (!err)
        err = create_check(&np, false);
    if (!err && (type == S_IFIFO || type == S_IFSOCK))
        err = -EPERM;
    if (!err) {
        uint64_t rdev = LINUX_MKDEV((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00));
        err = tmpfs_create(np.dir, np.last, np.len,
                           (type ? type : S_IFREG) | ((mode & 07777) & ~umask_get()),
                           type == S_IFCHR || type == S_IFBLK ? rdev : 0, NULL);
    }
    if (np.dir)
        nameparent_put(&np);
    kfree(name);
    return err;
}

long sys_mknod(const struct sysargs *a)
{
    return do_mknodat(AT_FDCWD, a->arg[0], (unsigned)a->arg[1], (unsigned)a->arg[2]);
}

long sys_mknodat(const struct sysargs *a)
{
    return do_mknodat((int)a->arg[0], a->arg[1], (unsigned)a->arg[2], (unsigned)a->arg[3]);
}

/* ---- rmdir, unlink ----------------------------------------------------------- */

static long do_rmdir(int dirfd, uint64_t upath)
{
    char *name;
    struct nameparent np = { 0 };
    int err = user_namei_parent(dirfd, upath, &name, &np);
    if (err)
        goto out;
    if (np.type == LAST_DOTDOT)
        err = -ENOTEMPTY;
    else if (np.type == LAST_DOT)
        err = -EINVAL;
    else if (np.type == LAST_ROOT)
        err = -EBUSY;
    else if (np.dir->fs->rdonly)
        err = -EROFS;
    if (err)
        goto out;
    struct inode *ino;
    err = lookup_one(np.dir, np.last, np.len, false, &ino);
    if (err)
        goto out;
    if (!S_ISDIR(ino->mode))
        err = -ENOTDIR;
    else if (ino->mounted || ino == vfs_root())
        err = -EBUSY;
    else if (ino->dir.count)
        err = -ENOTEMPTY;
    inode_put(ino);
    if (!err)
        tmpfs_unlink(np.dir, np_entry(&np));
out:
    if (np.dir)
        nameparent_put(&np);
    kfree(name);
    return err;
}

long sys_rmdir(const struct sysargs *a)
{
    return do_rmdir(AT_FDCWD, a->arg[0]);
}

static long do_unlink(int dirfd, uint64_t upath)
{
    char *name;
    struct nameparent np = { 0 };
    int err = user_namei_parent(dirfd, upath, &name, &np);
    if (err)
        goto out;
    if (np.type != LAST_NORM)
        err = -EISDIR;
    else if (np.dir->fs->rdonly)
        err = -EROFS;
    if (err)
        goto out;
    struct inode *ino;
    err = lookup_one(np.dir, np.last, np.len, false, &ino);
    if (err)
        goto out;
    if (np.slash)                      /* "name/": Linux's "slashes" case */
        err = S_ISDIR(ino->mode) ? -EISDIR : -ENOTDIR;
    else if (S_ISDIR(ino->mode))
        err = -EISDIR;
    inode_put(ino);
    if (!err)
        tmpfs_unlink(np.dir, np_entry(&np));
out:
    if (np.dir)
        nameparent_put(&np);
    kfree(name);
    return err;
}

long sys_unlink(const struct sysargs *a)
{
    return do_unlink(AT_FDCWD, a->arg[0]);
}

long sys_unlinkat(const struct sysargs *a)
{
    unsigned flags = (unsigned)a->arg[2];
    if (flags & ~(unsigned)AT_REMOVEDIR)
        return -EINVAL;
    if (flags & AT_REMOVEDIR)
        return do_rmdir((int)a->arg[0], a->arg[1]);
    return do_unlink((int)a->arg[0], a->arg[1]);
}

/* ---- rename ------------------------------------------------------------------------ */

/*
 * Linux's may_delete for a victim of rename: a directory must replace a
 * directory (-ENOTDIR), a file a file (-EISDIR).
 */
static int may_replace(struct inode *victim, bool isdir)
{
    if (isdir && !S_ISDIR(victim->mode))
        return -ENOTDIR;
    if (!isdir && S_ISDIR(victim->mode))
        return -EISDIR;
    return 0;
}

/* The child of anc that leads down to d (Linux's lock_rename "trap"), or NULL. */
static struct inode *trap_of(struct inode *anc, struct inode *d)
{
    struct inode *root = vfs_root();
    while (d && d != root) {
        struct inode *up = dir_parent(d);
        if (up == anc)
            return d;
        d = up;
    }
    return NULL;
}

static long do_renameat2(int odirfd, uint64_t uold, int ndirfd, uint64_t unew, unsigned flags)
{
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
        return -EINVAL;
    if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
        return -EINVAL;
    if (flags & RENAME_WHITEOUT)
        return -EINVAL;                /* needs a whiteout device: not here */
    char *oname = NULL, *nname = NULL;
    struct nameparent op = { 0 }, nq = { 0 };
    struct inode *oino = NULL, *nino = NULL;
    int err = user_namei_parent(odirfd, uold, &oname, &op);
    if (!err)
        err = user_namei_parent(ndirfd, unew, &nname, &nq);
    if (err)
        goto out;
    err = -EXDEV;
    if (op.dir->fs != nq.dir->fs)
        goto out;
    err = -EBUSY;
    if (op.type != LAST_NORM)
        goto out;
    if (flags & RENAME_NOREPLACE)
        err = -EEXIST;
    if (nq.type != LAST_NORM)
        goto out;
    err = -EROFS;
    if (op.dir->fs->rdonly)
        goto out;
    err = lookup_one(op.dir, op.last, op.len, false, &oino);
    if (err)
        goto out;
    err = lookup_one(nq.dir, nq.last, nq.len, false, &nino);
    if (err == -ENOENT)
        nino = NULL, err = 0;
    if (err)
        goto out;
    bool odir = S_ISDIR(oino->mode);
    err = -EEXIST;
    if ((flags & RENAME_NOREPLACE) && nino)
        goto out;
    if (flags & RENAME_EXCHANGE) {
        err = -ENOENT;
        if (!nino)
            goto out;
        err = -ENOTDIR;
        if (!S_ISDIR(nino->mode) && nq.slash)
            goto out;
    }
    if (!odir) {
        err = -ENOTDIR;
        if (op.slash || (!(flags & RENAME_EXCHANGE) && nq.slash))
            goto out;
    }
    /* A directory cannot move under itself; nor replace its own ancestor. */
    struct inode *trap = op.dir == nq.dir ? NULL : trap_of(op.dir, nq.dir);
    err = -EINVAL;
    if (trap && oino == trap)
        goto out;
    trap = op.dir == nq.dir ? NULL : trap_of(nq.dir, op.dir);
    err = (flags & RENAME_EXCHANGE) ? -EINVAL : -ENOTEMPTY;
    if (trap && nino == trap)
        goto out;
    err = 0;
    if (oino == nino)
        goto out;                      /* two links to one file: nothing to do */
    if (nino) {
        err = may_replace(nino, (flags & RENAME_EXCHANGE) ? S_ISDIR(nino->mode) : odir);
        if (err)
            goto out;
    } else if (!nq.dir->nlink) {
        err = -ENOENT;                 /* into a removed directory */
        goto out;
    }
    err = -EBUSY;
    if (oino->mounted || (nino && nino->mounted))
        goto out;
    err = -ENOTEMPTY;
    if (!(flags & RENAME_EXCHANGE) && nino && S_ISDIR(nino->mode) && nino->dir.count)
        goto out;
    err = tmpfs_rename(op.dir, np_entry(&op), nq.dir, nq.last, nq.len,
                       nino ? np_entry(&nq) : NULL, flags);
out:
    inode_put(oino);
    inode_put(nino);
    if (op.dir)
        nameparent_put(&op);
    if (nq.dir)
        nameparent_put(&nq);
    kfree(oname);
    kfree(nname);
    return err;
}

long sys_rename(const struct sysargs *a)
{
    return do_renameat2(AT_FDCWD, a->arg[0], AT_FDCWD, a->arg[1], 0);
}

long sys_renameat(const struct sysargs *a)
{
    return do_renameat2((int)a->arg[0], a->arg[1], (int)a->arg[2], a->arg[3], 0);
}

long sys_renameat2(const struct sysargs *a)
{
    return do_renameat2((int)a->arg[0], a->arg[1], (int)a->arg[2], a->arg[3],
                        (unsigned)a->arg[4]);
}

/* ---- link, symlink, readlink -------------------------------------------------------- */

static long do_linkat(int odirfd, uint64_t uold, int ndirfd, uint64_t unew, unsigned flags)
{
    if (flags & ~(unsigned)(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct inode *ino;
    int err = user_namei(odirfd, uold, (flags & AT_SYMLINK_FOLLOW) ? LOOKUP_FOLLOW : 0,
                         flags & AT_EMPTY_PATH, &ino);
    if (err)
        return err;
    char *name;
    struct nameparent np = { 0 };
    err = user_namei_parent(ndirfd, unew, &name, &np);
    if (!err)
        err = create_check(&np, false);
    if (!err && np.dir->fs != ino->fs)
        err = -EXDEV;
    if (!err && S_ISDIR(ino->mode))
        err = -EPERM;
    if (!err && !ino->nlink && !(ino->iflags & I_LINKABLE))
        err = -ENOENT;
    if (!err)
        err = tmpfs_link(ino, np.dir, np.last, np.len);
    if (np.dir)
        nameparent_put(&np);
    kfree(name);
    inode_put(ino);
    return err;
}

long sys_link(const struct sysargs *a)
{
    return do_linkat(AT_FDCWD, a->arg[0], AT_FDCWD, a->arg[1], 0);
}

long sys_linkat(const struct sysargs *a)
{
    return do_linkat((int)a->arg[0], a->arg[1], (int)a->arg[2], a->arg[3],
                     (unsigned)a->arg[4]);
}

static long do_symlinkat(uint64_t utarget, int dirfd, uint64_t upath)
{
    char *target;
    long n = getname(utarget, &target, false);
    if (n < 0)
        return n;
    char *name;
    struct nameparent np = { 0 };
    int err = user_namei_parent(dirfd, upath, &name, &np);
    if (!err)
        err = create_check(&np, false);
    if (!err)
        err = tmpfs_symlink(np.dir, np.last, np.len, target);
    if (np.dir)
        nameparent_put(&np);
    kfree(name);
    kfree(target);
    return err;
}

long sys_symlink(const struct sysargs *a)
{
    return do_symlinkat(a->arg[0], AT_FDCWD, a->arg[1]);
}

long sys_symlinkat(const struct sysargs *a)
{
    return do_symlinkat(a->arg[0], (int)a->arg[1], a->arg[2]);
}

/* readlinkat: the target, not NUL-terminated, cut to bufsiz: its length. */
static long do_readlinkat(int dirfd, uint64_t upath, uint64_t ubuf, int bufsiz)
{
    if (bufsiz <= 0)
        return -EINVAL;
    char *name;
    long n = getname(upath, &name, true);
    if (n < 0)
        return n;
    struct inode *ino;
    int err = user_namei(dirfd, upath, 0, true, &ino);
    if (err) {
        kfree(name);
        return err;
    }
    const char *target = S_ISLNK(ino->mode) && ino->ops->get_link ? ino->ops->get_link(ino)
                                                                   : NULL;
    long r;
    if (!S_ISLNK(ino->mode))
        r = n == 0 ? -ENOENT : -EINVAL;
    else if (!target || !*target)
        r = -ENOENT;
    else {
        size_t len = MIN(strlen(target), (size_t)bufsiz);
        r = copy_to_user(ubuf, target, len) < 0 ? -EFAULT : (long)len;
    }
    inode_put(ino);
    kfree(name);
    return r;
}

long sys_readlink(const struct sysargs *a)
{
    return do_readlinkat(AT_FDCWD, a->arg[0], a->arg[1], (int)a->arg[2]);
}

long sys_readlinkat(const struct sysargs *a)
{
    return do_readlinkat((int)a->arg[0], a->arg[1], a->arg[2], (int)a->arg[3]);
}
