/*
 * /proc: read-only text files made by the memory code, in Linux's formats.
 *
 * A file's text is generated once, when it is opened, into a kmalloc'ed
 * buffer that the open file owns (freed by the last close): reads and
 * seeks see one consistent snapshot, and opening again gives fresh
 * numbers.  Each generator fills a buffer like snprintf and returns the
 * length it needed; when that does not fit we retry with a larger buffer.
 *
 *   /proc/meminfo, buddyinfo, zoneinfo   meminfo_show... (include/mm/zone.h)
 *   /proc/slabinfo                       slabinfo (include/mm/slab.h)
 *   /proc/vmallocinfo                    vmallocinfo (include/mm/vmalloc.h)
 *   /proc/self/maps                      mm_maps of current->mm (include/mm/vma.h)
 *   /proc/self/pagetable32               a 32-bit process's PDEs and PTEs in the
 *                                        documents' terms (mmu32_dump, compat32)
 *
 * /proc/<pid> is accepted for the caller's own pid (as /proc/self); other
 * processes are not shown.  Like Linux, fstat gives size 0 and mode 0444
 * for these files, and lseek refuses SEEK_END.
 */
#include <compat32/mmu32.h>
#include <kernel/file.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <mm/slab.h>
#include <mm/vmalloc.h>
#include <mm/vma.h>
#include <mm/zone.h>

#define PROC_DEV LINUX_MKDEV(0, 22)
#define PROC_MAX_TEXT (4ul << 20)       /* the largest kmalloc block */

static int gen_maps(char *buf, size_t size)
{
    if (!current || !current->mm) {
        if (size)
            buf[0] = 0;
        return 0;                       /* a kernel task has no user mappings */
    }
    return mm_maps(current->mm, buf, size);
}

/* Empty for a 64-bit process: it has no two-level tables. */
static int gen_pagetable32(char *buf, size_t size)
{
    struct sbuf out = { buf, size, 0 };
    if (size)
        buf[0] = 0;
    if (current && current->mm && mm_is32(current->mm))
        mmu32_dump(current->mm, 0, 1ul << 32, &out);
    return (int)out.len;
}

struct proc_node {
    const char *name;                   /* under /proc, "self" for the caller's */
    int (*gen)(char *buf, size_t size); /* NULL: a directory */
    uint64_t ino;
};

static const struct proc_node proc_nodes[] = {
    { "",            NULL,        1 },
    { "self",        NULL,        2 },
    { "meminfo",     meminfo_show,  3 },
    { "buddyinfo",   buddyinfo_show, 4 },
    { "zoneinfo",    zoneinfo_show, 5 },
    { "slabinfo",    slabinfo,    6 },
    { "vmallocinfo", vmallocinfo, 7 },
    { "self/maps",   gen_maps,    8 },
    { "self/pagetable32", gen_pagetable32, 9 },
};

bool procfs_owns(const char *abs)
{
    return !strncmp(abs, "/proc", 5) && (abs[5] == 0 || abs[5] == '/');
}

/* "/proc/<our pid>..." is "/proc/self...": true when the number matched. */
static bool own_pid_prefix(const char *rel, size_t *skip)
{
    if (!current || current->pid <= 0 || rel[0] < '1' || rel[0] > '9')
        return false;
    long v = 0;
    size_t i = 0;
    while (rel[i] >= '0' && rel[i] <= '9' && v <= 1000000000)
        v = v * 10 + (rel[i++] - '0');
    if ((rel[i] != 0 && rel[i] != '/') || v != current->pid)
        return false;
    *skip = i;
    return true;
}

static const struct proc_node *proc_find(const char *abs)
{
    if (!procfs_owns(abs))
        return NULL;
    const char *rel = abs[5] ? abs + 6 : "";
    char alias[32];
    size_t skip;
    if (own_pid_prefix(rel, &skip)) {
        if (strlen(rel + skip) + 5 > sizeof(alias))
            return NULL;
        memcpy(alias, "self", 4);
        memcpy(alias + 4, rel + skip, strlen(rel + skip) + 1);
        rel = alias;
    }
    for (size_t i = 0; i < ARRAY_SIZE(proc_nodes); i++)
        if (!strcmp(proc_nodes[i].name, rel))
            return &proc_nodes[i];
    return NULL;
}

enum node_kind procfs_kind(const char *abs)
{
    const struct proc_node *n = proc_find(abs);
    if (!n)
        return NODE_NONE;
    return n->gen ? NODE_FILE : NODE_DIR;
}

static void proc_fill_stat(const struct proc_node *n, struct linux_stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_dev = PROC_DEV;
    st->st_ino = n->ino;
    st->st_nlink = n->gen ? 1 : 2;
    st->st_mode = n->gen ? (S_IFREG | 0444) : (S_IFDIR | 0555);
    st->st_blksize = 1024;
}

int procfs_stat(const char *abs, struct linux_stat *st)
{
    const struct proc_node *n = proc_find(abs);
    if (!n)
        return -ENOENT;
    proc_fill_stat(n, st);
    return 0;
}

static long proc_dir_read(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    (void)f, (void)ubuf, (void)n, (void)fio;
    return -EISDIR;
}

/* Linux's seq_lseek: SEEK_SET and SEEK_CUR only. */
static long proc_lseek(struct file *f, int64_t off, int whence)
{
    if (whence != SEEK_SET && whence != SEEK_CUR)
        return -EINVAL;
    return file_lseek_fixed(f, off, whence);
}

static int proc_fstat(struct file *f, struct linux_stat *st)
{
    proc_fill_stat(f->priv, st);
    return 0;
}

static void proc_release(struct file *f)
{
    kfree(f->data);
}

static const struct file_ops proc_file_ops = {
    .read = file_read_fixed,
    .lseek = proc_lseek,
    .stat = proc_fstat,
    .release = proc_release,
};

static const struct file_ops proc_dir_ops = {
    .read = proc_dir_read,
    .lseek = proc_lseek,
    .stat = proc_fstat,
};

/* Run a generator into a buffer large enough; *text owns the result. */
static int proc_generate(int (*gen)(char *, size_t), char **text, size_t *len)
{
    size_t size = 4096;
    for (;;) {
        char *buf = kmalloc(size, GFP_KERNEL);
        if (!buf)
            return -ENOMEM;
        int n = gen(buf, size);
        if (n < 0) {
            kfree(buf);
            return n;
        }
        if ((size_t)n < size) {
            *text = buf;
            *len = (size_t)n;
            return 0;
        }
        kfree(buf);
        if (size >= PROC_MAX_TEXT)
            return -ENOMEM;
        size = MIN(PROC_MAX_TEXT, MAX(size * 2, ALIGN_UP((size_t)n + 1, 4096)));
    }
}

int procfs_open(const char *abs, unsigned flags, struct file **out)
{
    const struct proc_node *n = proc_find(abs);
    if (!n)
        return -ENOENT;
    if (!n->gen) {
        *out = file_alloc(&proc_dir_ops, flags, (void *)n);
        return *out ? 0 : -ENOMEM;
    }
    char *text;
    size_t len;
    int err = proc_generate(n->gen, &text, &len);
    if (err < 0)
        return err;
    struct file *f = file_alloc(&proc_file_ops, flags, (void *)n);
    if (!f) {
        kfree(text);
        return -ENOMEM;
    }
    f->data = (const uint8_t *)text;
    f->size = len;
    *out = f;
    return 0;
}
