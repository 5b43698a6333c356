/*
 * Path resolution: from a string to an inode, as Linux's fs/namei.c walks.
 *
 * A walk starts at the root for an absolute path, else at a base
 * directory (the working directory, or the directory of an *at call's
 * descriptor), and takes one component at a time:
 *  - empty components ("a//b") vanish, "." stays, ".." goes to the parent
 *    (the root's parent is the root; a mounted root's is the parent of
 *    its mount point; a removed directory has none: -ENOENT);
 *  - the directory being looked in must be one (-ENOTDIR), the name at
 *    most NAME_MAX bytes (-ENAMETOOLONG), present (-ENOENT);
 *  - a mount point is crossed to the root mounted there (/proc);
 *  - a symbolic link met before the last component is followed, and the
 *    last one too when the caller asks (LOOKUP_FOLLOW) or when a '/'
 *    follows it.  The target goes on from the directory holding the link
 *    (or from the root when it is absolute).
 *
 * Links are followed without recursion: the rest of the path is pushed
 * on a stack, the target walked, and the rest popped when the target is
 * done; a chain of links at the end of a path ("a" -> "b" -> "c") takes
 * no stack at all.  More than MAXSYMLINKS (40) links in one walk is
 * -ELOOP, as on Linux.
 *
 * Invariants of a walk: cur is referenced, and so is every link whose
 * target is being walked (its text lives in it); everything is dropped
 * on every way out.  The tree cannot change during a walk: nothing here
 * sleeps and the kernel is not preemptible.
 */
#include <kernel/vfs.h>
#include <kernel/errno.h>
#include <kernel/string.h>

struct inode *vfs_root(void)
{
    if (!tmpfs_root_fs.root && rootfs_init() < 0)
        return NULL;
    return tmpfs_root_fs.root;
}

int lookup_one(struct inode *dir, const char *name, size_t len, bool cross, struct inode **out)
{
    if (!S_ISDIR(dir->mode) || !dir->ops->lookup)
        return -ENOTDIR;
    if (len == 1 && name[0] == '.') {
        *out = inode_get(dir);
        return 0;
    }
    if (len == 2 && name[0] == '.' && name[1] == '.') {
        struct inode *up = dir == vfs_root() ? dir : dir_parent(dir);
        if (!up)
            return -ENOENT;
        *out = inode_get(up);
        return 0;
    }
    if (len > NAME_MAX)
        return -ENAMETOOLONG;
    struct inode *child;
    int err = dir->ops->lookup(dir, name, len, &child);
    if (err)
        return err;
    while (cross && child->mounted) {
        struct inode *root = inode_get(child->mounted);
        inode_put(child);
        child = root;
    }
    *out = child;
    return 0;
}

/* The rest of a path whose target is being walked. */
struct walk_frame {
    const char *rest, *end;  /* [rest, end): what follows the link in its string */
    struct inode *link;      /* holds the target's text */
};

struct walk {
    unsigned links;          /* followed so far, MAXSYMLINKS at most */
    unsigned depth;
    struct walk_frame stack[MAXSYMLINKS];
};

static void walk_unwind(struct walk *w)
{
    while (w->depth)
        inode_put(w->stack[--w->depth].link);
}

/* Is [s, end) only slashes (or empty)? */
static bool only_slashes(const char *s, const char *end)
{
    while (s < end && *s == '/')
        s++;
    return s == end;
}

/* Nothing left after the current string: every pushed rest is slashes only. */
static bool stack_done(const struct walk *w)
{
    for (unsigned i = 0; i < w->depth; i++)
        if (!only_slashes(w->stack[i].rest, w->stack[i].end))
            return false;
    return true;
}

/*
 * Walk [path, end) from start (the walk takes its own reference on it).
 * On success *out is the final inode, referenced; when pdir is given,
 * *pdir (referenced) and pname are the directory holding it and its
 * name there.
 */
static int walk_path(struct walk *w, struct inode *start, const char *path, const char *end,
                     unsigned flags, struct inode **out, struct inode **pdir, char *pname)
{
    struct inode *cur = inode_get(path < end && path[0] == '/' ? vfs_root() : start);
    const char *p = path;
    bool must_dir = false;
    int err = 0;
    for (;;) {
        while (p < end && *p == '/')
            p++;
        if (p == end) {
            if (!w->depth)
                break;
            w->depth--;
            inode_put(w->stack[w->depth].link);
            p = w->stack[w->depth].rest;
            end = w->stack[w->depth].end;
            continue;
        }
        const char *c = p;
        while (p < end && *p != '/')
            p++;
        size_t len = (size_t)(p - c);
        bool tail = only_slashes(p, end);
        bool last = tail && stack_done(w);
        if (tail && p < end)
            must_dir = true;         /* "name/": a directory, links followed */
        struct inode *next;
        err = lookup_one(cur, c, len, true, &next);
        if (err)
            goto fail;
        if (S_ISLNK(next->mode) && (!last || (flags & LOOKUP_FOLLOW) || must_dir)) {
            const char *target = next->ops->get_link ? next->ops->get_link(next) : NULL;
            if (++w->links > MAXSYMLINKS || w->depth >= MAXSYMLINKS)
                err = -ELOOP;
            else if (!target || !*target)
                err = -ENOENT;
            if (err) {
                inode_put(next);
                goto fail;
            }
            w->stack[w->depth++] = (struct walk_frame){ p, end, next };
            if (target[0] == '/') {
                inode_put(cur);
                cur = inode_get(vfs_root());
            }
            p = target;
            end = target + strlen(target);
            continue;
        }
        if (last && pdir) {
            inode_put(*pdir);
            *pdir = inode_get(cur);
            memcpy(pname, c, len);   /* a name that was found: at most NAME_MAX */
            pname[len] = 0;
        }
        inode_put(cur);
        cur = next;
    }
    if (((flags & LOOKUP_DIRECTORY) || must_dir) && !S_ISDIR(cur->mode)) {
        err = -ENOTDIR;
        goto fail;
    }
    *out = cur;
    return 0;
fail:
    walk_unwind(w);
    inode_put(cur);
    return err;
}

static struct inode *start_of(struct inode *base)
{
    return base ? base : cwd_inode();
}

int namei(struct inode *base, const char *path, unsigned flags, struct inode **out)
{
    if (!vfs_root())
        return -ENOMEM;
    if (!path[0])
        return -ENOENT;
    struct walk w = { 0, 0, { { 0 } } };
    return walk_path(&w, start_of(base), path, path + strlen(path), flags, out, NULL, NULL);
}

int namei_at(struct inode *base, const char *path, unsigned flags, struct inode **out,
             struct inode **dir, char *name)
{
    if (!vfs_root())
        return -ENOMEM;
    if (!path[0])
        return -ENOENT;
    struct walk w = { 0, 0, { { 0 } } };
    *dir = NULL;
    name[0] = 0;
    int err = walk_path(&w, start_of(base), path, path + strlen(path), flags, out, dir, name);
    if (err) {
        inode_put(*dir);
        *dir = NULL;
    } else if (!*dir) {
        *dir = inode_get(*out);   /* "/" or ".": the inode is its own directory */
    }
    return err;
}

int namei_parent(struct inode *base, const char *path, unsigned links, struct nameparent *np)
{
    if (!vfs_root())
        return -ENOMEM;
    if (!path[0])
        return -ENOENT;
    /* The last component: the final run of non-slashes. */
    size_t end = strlen(path);
    while (end > 0 && path[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    np->slash = path[end] == '/';
    np->last = path + start;
    np->len = end - start;
    np->links = links;
    np->dir = NULL;
    if (np->len == 0) {
        /* Only slashes: the root itself. */
        np->type = LAST_ROOT;
        np->dir = inode_get(vfs_root());
        return 0;
    }
    np->type = LAST_NORM;
    if (np->len == 1 && np->last[0] == '.')
        np->type = LAST_DOT;
    else if (np->len == 2 && np->last[0] == '.' && np->last[1] == '.')
        np->type = LAST_DOTDOT;
    if (start == 0) {
        struct inode *dir = start_of(base);
        if (!S_ISDIR(dir->mode))
            return -ENOTDIR;
        np->dir = inode_get(dir);
        return 0;
    }
    /* Walk the prefix ("a/b/" of "a/b/c", "/" of "/c"): it ends with a
     * '/', so its last component is followed and must be a directory. */
    struct walk w = { links, 0, { { 0 } } };
    int err = walk_path(&w, start_of(base), path, path + start, 0, &np->dir, NULL, NULL);
    np->links = w.links;
    return err;
}

void nameparent_put(struct nameparent *np)
{
    inode_put(np->dir);
    np->dir = NULL;
}

long dir_path(struct inode *dir, char *buf, size_t size)
{
    struct inode *root = vfs_root();
    if (!root)
        return -ENOMEM;
    /* First make sure the directory is still reachable: a removed one
     * (or one inside a removed one) has no path, whatever the size. */
    size_t need = 1;
    for (struct inode *cur = dir; cur != root; cur = cur->parent) {
        while (cur->fs->root == cur && cur->fs->mountpoint)
            cur = cur->fs->mountpoint;
        const char *name = cur->ops->dname ? cur->ops->dname(cur) : NULL;
        if (!name || !cur->parent)
            return -ENOENT;
        need += strlen(name) + 1;
    }
    if (dir == root)
        need++;
    if (need > size)
        return -ERANGE;
    /* Then write it from the end. */
    size_t at = need;
    buf[--at] = 0;
    if (dir == root)
        buf[--at] = '/';
    for (struct inode *cur = dir; cur != root; cur = cur->parent) {
        while (cur->fs->root == cur && cur->fs->mountpoint)
            cur = cur->fs->mountpoint;
        const char *name = cur->ops->dname(cur);
        size_t len = strlen(name);
        at -= len;
        memcpy(buf + at, name, len);
        buf[--at] = '/';
    }
    return (long)need - 1;
}
