/*
 * The root file system, seeded from the initrd at boot.
 *
 * The root is a tmpfs (kernel/fs/tmpfs.c) holding every directory, file
 * and symbolic link of the cpio archive the loader read, as Linux's
 * initramfs unpacker builds its rootfs: directories a name implies but
 * the archive does not list are made 0755; when a name appears twice the
 * last entry wins; device nodes, FIFOs and sockets of the archive are
 * left out (a line in the log says so), as are names with a ".."
 * component.  Then /proc is made (if missing) and procfs mounted on it,
 * /sys likewise with sysfs (kernel/fs/sysfs.c),
 * /tmp is made with mode 01777 (sticky: Linux's /tmp), and /dev gets the
 * nodes of kernel/fs/chrdev.c that it lacks (null, zero, full, tty,
 * console, random, urandom) and the links stdin, stdout, stderr and fd
 * into /proc/self/fd.
 *
 * A regular file's bytes are NOT copied: the inode points at them in the
 * archive (inode->reg.idata, isize), which stays in memory for the
 * kernel's whole life (the loader tags it, mm/bootmem.c keeps it).
 * Reading such a file reads the archive; the first write to a page copies
 * that page into a page-cache page (kernel/fs/pagecache.c), so only the
 * pages a program changes ever cost memory, and exec and mmap of an
 * unchanged file map the archive's bytes directly.  Seeding therefore
 * costs one inode and one directory entry per archive entry (about 200
 * bytes) and no page: the boot log line "rootfs: N entries ..." gives
 * the count, the time and the memory.
 */
#include <kernel/vfs.h>
#include <kernel/cpio.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/syscall.h>
#include <mm/page.h>
#include <mm/gfp.h>
#include <mm/slab.h>

static bool initrd_bytes(const void **buf, size_t *len)
{
    if (!boot_info || !boot_info->initrd.phys || !boot_info->initrd.size)
        return false;
    *buf = phys_to_virt(boot_info->initrd.phys);
    *len = (size_t)boot_info->initrd.size;
    return true;
}

/* Half of the RAM the allocator manages, in pages: tmpfs's default size. */
static uint64_t half_of_ram(void)
{
    return totalram_pages() / 2;
}

static void set_attrs(struct inode *ino, const struct cpio_entry *e)
{
    ino->mode = (ino->mode & S_IFMT) | (e->mode & 07777);
    ino->uid = e->uid;
    ino->gid = e->gid;
    ino->atime = ino->mtime = ino->ctime = (struct linux_timespec){ e->mtime, 0 };
}

/* The child called [name, name + len) of dir, or NULL. */
static struct inode *child_of(struct inode *dir, const char *name, size_t len)
{
    struct dentry *d = dir_find(dir, name, len);
    return d ? d->inode : NULL;
}

/* Make the file, directory or link of one entry in dir. */
static int seed_leaf(struct inode *dir, const char *name, size_t len, const struct cpio_entry *e)
{
    struct inode *old = child_of(dir, name, len);
    if (old && cpio_is_dir(e) && S_ISDIR(old->mode)) {
        set_attrs(old, e);
        return 0;
    }
    if (old) {
        if (S_ISDIR(old->mode) && old->dir.count)
            return -ENOTEMPTY;
        tmpfs_unlink(dir, dir_find(dir, name, len));
    }
    int err;
    struct inode *ino;
    if (cpio_is_dir(e)) {
        err = tmpfs_mkdir(dir, name, len, 0755);
    } else if (cpio_is_reg(e)) {
        err = tmpfs_create(dir, name, len, S_IFREG | 0644, 0, &ino);
        if (!err) {
            ino->reg.idata = e->data;
            ino->reg.isize = ino->size = e->size;
            ino->reg.ipages = e->size / PAGE_SIZE + (e->size % PAGE_SIZE != 0);
            ino->reg.iname = e->name;
            inode_put(ino);
        }
    } else {
        /* A symbolic link: its target is the entry's bytes, without a NUL. */
        if (e->size >= PAGE_SIZE)
            return -ENAMETOOLONG;
        char *target = kmalloc(e->size + 1, GFP_KERNEL);
        if (!target)
            return -ENOMEM;
        memcpy(target, e->data, e->size);
        target[e->size] = 0;
        err = strlen(target) == e->size ? tmpfs_symlink(dir, name, len, target) : -EINVAL;
        kfree(target);
    }
    if (!err)
        set_attrs(child_of(dir, name, len), e);
    return err;
}

/* One archive entry: its directories on the way, then itself. */
static int seed_entry(const struct cpio_entry *e)
{
    const char *p = e->name;
    struct inode *dir = tmpfs_root_fs.root;
    for (;;) {
        while (*p == '/')
            p++;
        const char *c = p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - c);
        bool last = true;
        for (const char *q = p; *q; q++)
            last = last && *q == '/';
        if (len == 0 || (len == 1 && c[0] == '.')) {
            if (last) {
                /* "." (or "/"): the root's own attributes. */
                if (dir == tmpfs_root_fs.root && cpio_is_dir(e))
                    set_attrs(dir, e);
                return 0;
            }
            continue;
        }
        if ((len == 2 && c[0] == '.' && c[1] == '.') || len > NAME_MAX)
            return -EINVAL;
        if (last)
            return seed_leaf(dir, c, len, e);
        struct inode *next = child_of(dir, c, len);
        if (!next) {
            int err = tmpfs_mkdir(dir, c, len, 0755);
            if (err)
                return err;
            next = child_of(dir, c, len);
        }
        if (!S_ISDIR(next->mode))
            return -ENOTDIR;
        dir = next;
    }
}

/* dir/name as a directory with this mode: made, or its mode set. */
static struct inode *ensure_dir(struct inode *dir, const char *name, uint32_t mode)
{
    struct inode *d = child_of(dir, name, strlen(name));
    if (!d && tmpfs_mkdir(dir, name, strlen(name), mode & 07777) == 0)
        d = child_of(dir, name, strlen(name));
    if (d && S_ISDIR(d->mode))
        d->mode = S_IFDIR | (mode & 07777);
    return d && S_ISDIR(d->mode) ? d : NULL;
}

static void make_dev_nodes(struct inode *root)
{
    static const struct {
        const char *name;
        unsigned major, minor, mode;
    } nodes[] = {
        { "null", 1, 3, 0666 }, { "zero", 1, 5, 0666 }, { "full", 1, 7, 0666 },
        { "tty", 5, 0, 0666 },  { "console", 5, 1, 0600 },
        { "random", 1, 8, 0666 }, { "urandom", 1, 9, 0666 },
    };
    /* Linux's udev makes these links to the caller's descriptors. */
    static const char *const links[][2] = {
        { "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
        { "stderr", "/proc/self/fd/2" }, { "fd", "/proc/self/fd" },
    };
    struct inode *dev = child_of(root, "dev", 3);
    if (!dev)
        dev = ensure_dir(root, "dev", 0755);
    if (!dev || !S_ISDIR(dev->mode))
        return;
    for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
        size_t len = strlen(nodes[i].name);
        if (!child_of(dev, nodes[i].name, len))
            tmpfs_create(dev, nodes[i].name, len, S_IFCHR | nodes[i].mode,
                         LINUX_MKDEV(nodes[i].major, nodes[i].minor), NULL);
    }
    for (size_t i = 0; i < ARRAY_SIZE(links); i++)
        if (!child_of(dev, links[i][0], strlen(links[i][0])))
            tmpfs_symlink(dev, links[i][0], strlen(links[i][0]), links[i][1]);
}

int rootfs_init(void)
{
    if (tmpfs_root_fs.root)
        return 0;
    uint64_t t0 = now_ns(), kb0 = nr_free_pages() * 4;
    int err = tmpfs_init(&tmpfs_root_fs, half_of_ram());
    if (err)
        return err;
    struct inode *root = tmpfs_root_fs.root;
    const void *buf;
    size_t len;
    long entries = 0, skipped = 0;
    if (initrd_bytes(&buf, &len)) {
        struct cpio_iter it;
        struct cpio_entry e;
        const char *why = NULL;
        cpio_iter_init(&it, buf, len);
        int r;
        while ((r = cpio_next(&it, &e, &why)) == 1) {
            uint32_t type = e.mode & CPIO_S_IFMT;
            int serr = -EINVAL;
            if (type == CPIO_S_IFDIR || type == CPIO_S_IFREG || type == CPIO_S_IFLNK)
                serr = seed_entry(&e);
            if (serr == -ENOMEM)
                return serr;
            if (serr) {
                if (!skipped++)
                    printk("rootfs: initrd entry '%s' left out (error %d)\n", e.name, serr);
            } else {
                entries++;
            }
        }
        if (r < 0)
            printk("rootfs: the initrd is broken (%s): the root holds what came before\n",
                   why ? why : "?");
    }
    struct inode *proc = ensure_dir(root, "proc", 0555);
    if (!proc || procfs_mount(proc) < 0)
        printk("rootfs: /proc could not be mounted\n");
    struct inode *sys = ensure_dir(root, "sys", 0555);
    if (!sys || sysfs_mount(sys) < 0)
        printk("rootfs: /sys could not be mounted\n");
    ensure_dir(root, "tmp", 01777);
    make_dev_nodes(root);
    uint64_t kb1 = nr_free_pages() * 4;
    printk("rootfs: %ld entries from the initrd (%ld left out) in %lu us, %lu kB of memory, "
           "0 bytes of file data copied\n",
           entries, skipped, (now_ns() - t0) / 1000, kb0 > kb1 ? kb0 - kb1 : 0);
    return 0;
}

/* Remove everything below dir (a tmpfs directory), deepest first. */
static void empty_dir(struct inode *dir)
{
    while (dir->dir.first) {
        struct dentry *d = dir->dir.first;
        if (S_ISDIR(d->inode->mode))
            empty_dir(d->inode);
        tmpfs_unlink(dir, d);
    }
}

void rootfs_teardown(void)
{
    struct inode *root = tmpfs_root_fs.root;
    if (!root)
        return;
    if (procfs_fs.root) {
        procfs_fs.mountpoint->mounted = NULL;
        inode_put(procfs_fs.mountpoint);
        procfs_fs.mountpoint = NULL;
        inode_put(procfs_fs.root);
        procfs_fs.root = NULL;
    }
    sysfs_unmount();
    empty_dir(root);
    tmpfs_root_fs.root = NULL;
    root->nlink = 0;
    inode_put(root);
}
