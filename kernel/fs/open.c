/*
 * open(2): from a path and flags to an open file, with Linux's rules
 * (fs/open.c build_open_flags, fs/namei.c open_last_lookups, do_open,
 * may_open) in their order, since the user tests compare the errors with
 * the host's:
 *
 *  1. flags: O_TMPFILE needs O_DIRECTORY, no O_CREAT and write access
 *     (-EINVAL); O_CREAT with O_DIRECTORY is -EINVAL (Linux 6.4 on);
 *  2. without O_CREAT: the path is walked, the last link followed unless
 *     O_NOFOLLOW (then a link is -ELOOP), O_DIRECTORY wants a directory;
 *  3. with O_CREAT: the directory is walked; a last component "/", "."
 *     or ".." is -EEXIST with O_EXCL, else -EISDIR, and so is a trailing
 *     '/'.  A missing name is created (mode & ~umask; -EROFS in /proc,
 *     -ENOENT in a removed directory); an existing one is -EEXIST with
 *     O_EXCL, a directory -EISDIR, a link followed (its target created if
 *     missing: a dangling link makes its target) unless O_NOFOLLOW;
 *  4. may_open: a link is -ELOOP, a directory opened for writing or
 *     truncation -EISDIR, a write on the read-only /proc -EROFS; then
 *     O_TRUNC cuts a regular file that existed.
 */
#include <kernel/vfs.h>
#include <kernel/errno.h>

#define O_TMPFILE_FLAG 020000000u       /* __O_TMPFILE */

int inode_open(struct inode *ino, unsigned flags, struct file **out)
{
    if (!ino->ops->open)
        return S_ISLNK(ino->mode) ? -ELOOP : -ENXIO;
    struct file *f;
    int err = ino->ops->open(ino, flags, &f);
    if (err)
        return err;
    if (!f->inode)
        f->inode = inode_get(ino);
    *out = f;
    return 0;
}

static bool wants_write(unsigned flags)
{
    unsigned acc = flags & O_ACCMODE;
    return acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC);
}

/* Linux's may_open for the kinds we have. */
static int may_open(struct inode *ino, unsigned flags)
{
    if (S_ISLNK(ino->mode))
        return -ELOOP;
    if (S_ISDIR(ino->mode) && wants_write(flags))
        return -EISDIR;
    return wants_write(flags) ? inode_permission(ino, 2) : 0;
}

/* Step 4 on an existing inode. */
static int do_open(struct inode *ino, unsigned flags, struct file **out)
{
    if ((flags & O_DIRECTORY) && !S_ISDIR(ino->mode))
        return -ENOTDIR;
    int err = may_open(ino, flags);
    if (err)
        return err;
    if ((flags & O_TRUNC) && S_ISREG(ino->mode) && ino->size) {
        err = tmpfs_setsize(ino, 0);
        if (err)
            return err;
    }
    return inode_open(ino, flags, out);
}

static int creation_allowed(struct inode *dir)
{
    if (dir->fs->rdonly)
        return -EROFS;
    if (!dir->nlink)
        return -ENOENT;                /* a removed directory */
    return 0;
}

static int open_tmpfile(struct inode *base, const char *path, unsigned flags, unsigned mode,
                        struct file **out)
{
    struct inode *dir, *ino;
    int err = namei(base, path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &dir);
    if (err)
        return err;
    err = creation_allowed(dir);
    if (!err)
        err = tmpfs_tmpfile(dir, (mode & 07777) & ~umask_get(), &ino);
    inode_put(dir);
    if (err)
        return err;
    if (!(flags & O_EXCL))
        ino->iflags |= I_LINKABLE;
    err = inode_open(ino, flags & ~(unsigned)O_TMPFILE_FLAG, out);
    inode_put(ino);
    return err;
}

/*
 * A new regular file called name in dir, opened: made unnamed, opened,
 * and only then given its name, so that running out of memory on the way
 * leaves no file behind (Linux allocates the open file first).
 */
static int create_open(struct inode *dir, const char *name, size_t len, unsigned flags,
                       unsigned mode, struct file **out)
{
    struct inode *ino;
    int err = creation_allowed(dir);
    if (!err)
        err = tmpfs_tmpfile(dir, (mode & 07777) & ~umask_get(), &ino);
    if (err)
        return err;
    err = inode_open(ino, flags, out);
    if (!err) {
        err = tmpfs_link(ino, dir, name, len);
        if (err)
            file_put(*out);
    }
    inode_put(ino);
    return err;
}

/*
 * Step 3: O_CREAT.  Either *out gets the existing inode to open,
 * referenced, or *file the new file, created and opened.  Following a
 * link in the last component starts a new round on its target, from the
 * link's directory; the link (whose text the round reads) and that
 * directory stay referenced meanwhile.
 */
static int open_creat(struct inode *base, const char *path, unsigned flags, unsigned mode,
                      struct inode **out, struct file **file)
{
    struct inode *held = NULL, *hbase = NULL;
    unsigned links = 0;
    struct nameparent np = { 0 };
    int err;
    *out = NULL;
    *file = NULL;
    for (;;) {
        err = namei_parent(base, path, links, &np);
        if (err)
            break;
        if (np.type != LAST_NORM || np.slash) {
            err = (np.type != LAST_NORM && (flags & O_EXCL)) ? -EEXIST : -EISDIR;
            break;
        }
        struct inode *ino;
        err = lookup_one(np.dir, np.last, np.len, true, &ino);
        if (err == -ENOENT) {
            err = create_open(np.dir, np.last, np.len, flags, mode, file);
            break;
        }
        if (err)
            break;
        if (flags & O_EXCL)
            err = -EEXIST;
        else if (S_ISDIR(ino->mode))
            err = -EISDIR;
        else if (S_ISLNK(ino->mode) && !(flags & O_NOFOLLOW)) {
            const char *target = ino->ops->get_link ? ino->ops->get_link(ino) : NULL;
            if (np.links + 1 > MAXSYMLINKS)
                err = -ELOOP;
            else if (!target || !*target)
                err = -ENOENT;
            if (!err) {
                inode_put(held);
                inode_put(hbase);
                held = ino;
                hbase = np.dir;
                np.dir = NULL;
                base = hbase;
                path = target;
                links = np.links + 1;
                continue;
            }
        }
        if (err) {
            inode_put(ino);
            break;
        }
        *out = ino;
        break;
    }
    if (np.dir)
        nameparent_put(&np);
    inode_put(held);
    inode_put(hbase);
    return err;
}

int vfs_open_path(struct inode *base, const char *path, unsigned flags, unsigned mode,
                  struct file **out)
{
    if (flags & O_TMPFILE_FLAG) {
        if ((flags & (O_TMPFILE_FLAG | O_DIRECTORY | O_CREAT)) != O_TMPFILE ||
            (flags & O_ACCMODE) == O_RDONLY)
            return -EINVAL;
    } else if ((flags & O_CREAT) && (flags & O_DIRECTORY)) {
        return -EINVAL;
    }
    flags |= O_LARGEFILE;              /* what Linux sets on 64-bit (force_o_largefile) */
    if (flags & O_TMPFILE_FLAG)
        return open_tmpfile(base, path, flags, mode, out);
    struct inode *ino;
    int err;
    if (flags & O_CREAT) {
        err = open_creat(base, path, flags, mode, &ino, out);
        if (err || !ino)
            return err;                /* a failure, or the file made and opened */
    } else {
        err = namei(base, path,
                    ((flags & O_NOFOLLOW) ? 0 : LOOKUP_FOLLOW) |
                        ((flags & O_DIRECTORY) ? LOOKUP_DIRECTORY : 0),
                    &ino);
        if (err)
            return err;
    }
    err = do_open(ino, flags, out);
    inode_put(ino);
    return err;
}
