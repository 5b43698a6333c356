/*
 * The initrd as a read-only file system: every path outside /proc.
 *
 * The cpio archive the loader read stays where it is (boot_info->initrd,
 * through the direct map) and is never written: an open file points at
 * its entry's bytes, so reading is copy_to_user from the archive itself
 * (kernel/fs/cpio.c walks and checks it).
 *
 * What is a directory: "/" always; an entry with S_IFDIR; and a path that
 * is only a prefix of other entries ("a/b/f" stored without "a" or
 * "a/b"), which Linux's initramfs unpacker would also create.  Symbolic
 * links are not followed (none are built into our initrd): such an entry,
 * and any other special file, looks absent.
 *
 * Write permission is checked by the caller (kernel/fs/sys_file.c gives
 * -EROFS, as for a read-only mount); here an open only builds the file.
 */
#include <kernel/file.h>
#include <kernel/cpio.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/string.h>
#include <mm/slab.h>

#define INITRD_DEV LINUX_MKDEV(0, 1)   /* Linux's rootfs */
#define ROOT_INO 1

static bool initrd_bytes(const void **buf, size_t *len)
{
    if (!boot_info || !boot_info->initrd.phys || !boot_info->initrd.size)
        return false;
    *buf = phys_to_virt(boot_info->initrd.phys);
    *len = (size_t)boot_info->initrd.size;
    return true;
}

/* Entry names may start with "./" or "/": skip that to compare. */
static const char *bare(const char *name)
{
    for (;;) {
        if (name[0] == '/')
            name++;
        else if (name[0] == '.' && name[1] == '/')
            name += 2;
        else
            return name;
    }
}

/* Does some entry lie below the directory `dir` (no leading '/')? */
static bool initrd_has_below(const char *dir)
{
    const void *buf;
    size_t len;
    if (!initrd_bytes(&buf, &len))
        return false;
    size_t dlen = strlen(dir);
    struct cpio_iter it;
    struct cpio_entry e;
    cpio_iter_init(&it, buf, len);
    while (cpio_next(&it, &e, NULL) == 1) {
        const char *n = bare(e.name);
        if (strncmp(n, dir, dlen) == 0 && n[dlen] == '/')
            return true;
    }
    return false;
}

/*
 * Look a normalised absolute path up.  1 and *e filled for an entry, 2
 * for a directory without an entry of its own (the root, or implied by
 * its contents), 0 when absent.
 */
static int initrd_lookup(const char *abs, struct cpio_entry *e)
{
    const void *buf;
    size_t len;
    if (!strcmp(abs, "/"))
        return 2;
    if (!initrd_bytes(&buf, &len))
        return 0;
    if (cpio_find(buf, len, abs, e, NULL) == 0) {
        if (cpio_is_dir(e) || cpio_is_reg(e))
            return 1;
        return 0;     /* symlink, device, fifo: not supported */
    }
    return initrd_has_below(abs + 1) ? 2 : 0;
}

enum node_kind initrd_kind(const char *abs)
{
    struct cpio_entry e;
    switch (initrd_lookup(abs, &e)) {
    case 1: return cpio_is_dir(&e) ? NODE_DIR : NODE_FILE;
    case 2: return NODE_DIR;
    default: return NODE_NONE;
    }
}

static void fill_stat(int found, const struct cpio_entry *e, struct linux_stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_dev = INITRD_DEV;
    st->st_blksize = 4096;
    if (found == 2) {
        /* A directory of our own making: Linux's initramfs would have
         * created it 0755, owned by root. */
        st->st_ino = ROOT_INO;
        st->st_nlink = 2;
        st->st_mode = S_IFDIR | 0755;
        return;
    }
    st->st_ino = e->ino;
    st->st_nlink = e->nlink ? e->nlink : 1;
    st->st_mode = e->mode;
    st->st_uid = e->uid;
    st->st_gid = e->gid;
    st->st_size = (int64_t)e->size;
    st->st_blocks = (int64_t)(ALIGN_UP(e->size, 4096) / 512);
    st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = e->mtime;
}

int initrd_stat(const char *abs, struct linux_stat *st)
{
    struct cpio_entry e;
    int found = initrd_lookup(abs, &e);
    if (!found)
        return -ENOENT;
    fill_stat(found, &e, st);
    return 0;
}

/* Open files keep their stat: it is all they need to answer fstat. */
struct initrd_file {
    struct linux_stat st;
};

static long initrd_dir_read(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    (void)f, (void)ubuf, (void)n, (void)fio;
    return -EISDIR;
}

static int initrd_fstat(struct file *f, struct linux_stat *st)
{
    *st = ((struct initrd_file *)f->priv)->st;
    return 0;
}

static void initrd_release(struct file *f)
{
    kfree(f->priv);
}

static const struct file_ops initrd_reg_ops = {
    .read = file_read_fixed,
    .lseek = file_lseek_fixed,
    .stat = initrd_fstat,
    .release = initrd_release,
};

static const struct file_ops initrd_dir_ops = {
    .read = initrd_dir_read,
    .lseek = file_lseek_fixed,
    .stat = initrd_fstat,
    .release = initrd_release,
};

int initrd_open(const char *abs, unsigned flags, struct file **out)
{
    struct cpio_entry e;
    int found = initrd_lookup(abs, &e);
    if (!found)
        return -ENOENT;
    struct initrd_file *inf = kmalloc(sizeof(*inf), GFP_KERNEL);
    if (!inf)
        return -ENOMEM;
    fill_stat(found, &e, &inf->st);
    bool dir = S_ISDIR(inf->st.st_mode);
    struct file *f = file_alloc(dir ? &initrd_dir_ops : &initrd_reg_ops, flags, inf);
    if (!f) {
        kfree(inf);
        return -ENOMEM;
    }
    if (!dir) {
        f->data = e.data;
        f->size = e.size;
    }
    *out = f;
    return 0;
}
