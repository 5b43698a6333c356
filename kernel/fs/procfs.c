/*
 * /proc: the file system of procfs, its directories and its open files.
 *
 * procfs is mounted on the root's /proc directory (kernel/fs/initrd_fs.c)
 * and is read-only: every change is -EROFS, but for writing the files of
 * /proc/sys that allow it (their mode says so).  Its inodes are made by each
 * lookup and die with their last reference (a volatile file system, see
 * kernel/fs/inode.c); the root lives as long as the mount.  The tree:
 *
 *   /proc/meminfo, buddyinfo, zoneinfo, slabinfo, vmallocinfo  the memory
 *        code's statistics (include/mm/zone.h, slab.h, vmalloc.h)
 *   /proc/uptime, loadavg, stat, cpuinfo, version, filesystems, cmdline,
 *        mounts                                  kernel/fs/proc_sys.c
 *   /proc/vmstat               kernel/fs/proc_vmstat.c
 *   /proc/swaps                the swap areas (mm/swapfile.c)
 *   /proc/kpagecount, kpageflags  binary, per frame: kernel/fs/proc_kpage.c
 *   /proc/sys/vm/<name>        sysctl files, some writable: kernel/fs/proc_sysctl.c
 *   /proc/self                 a link to the caller's <pid>
 *   /proc/<pid>/               one directory per task in the task table
 *        (zombies too, until they are reaped), listed after the files:
 *        stat, status, statm, cmdline, comm, environ, maps, pagetable32
 *                              kernel/fs/proc_pid.c
 *        pagemap               binary, per virtual page: kernel/fs/proc_pagemap.c
 *        exe, cwd, fd/<n>      links, kernel/fs/proc_fd.c
 *        task/<tid>/           one directory per thread of the process, with
 *                              the same files (docs/threads.md); /proc/<tid>
 *                              of a thread answers too, but is not listed
 *
 * A file's text is generated once, when it is opened, into a kmalloc'ed
 * buffer that the open file owns (freed by the last close): reads and
 * seeks see one consistent snapshot, and opening again gives fresh
 * numbers.  A link's target is made when the link is looked up and is
 * kept in the inode, which a path walk holds while it follows the link.
 * Three kinds of file are not a snapshot (kernel/fs/proc_rw.c): the binary
 * record files (pagemap, kpagecount, kpageflags), made at each read from
 * the offset read, and the sysctl files, whose text is made at each read
 * and whose writes act at once.
 *
 * A <pid> directory (or a file in it) outlives its process when it is
 * held open: from then on every lookup in it, and every open of a file
 * of it, is -ESRCH, as on Linux (the path /proc/<pid> itself is -ENOENT).  pids are never reused, so an old
 * inode never shows a new process.  An fd directory holds a reference on
 * its <pid> directory, its parent ("..").
 *
 * Like Linux, fstat gives size 0 for these files, and lseek refuses
 * SEEK_END.  getdents of /proc gives the files in table order, then the
 * pids in increasing order; the position of pid p is PID_POS(p), so a
 * listing taken in several calls goes on correctly when processes come
 * and go between them.
 */
#include <kernel/vfs.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <mm/slab.h>
#include <mm/vmalloc.h>
#include <mm/zone.h>
#include <mm/swap.h>
#include "proc_impl.h"

#define PROC_MAX_TEXT (4ul << 20)       /* the largest kmalloc block */
/* Inode numbers: the root 1, its files 2.., /proc/sys/<dir d> SYS_INO(d, 0)
 * and its files SYS_INO(d, 1..), a pid's directory and files
 * PID_INO(pid, 0..63), its fd links PID_INO(pid, 64 + fd). */
#define SYS_INO(d, k) (0x1000ul + (uint64_t)(d) * 0x100 + (k))
#define PID_INO(pid, k) (0x10000ul + (uint64_t)(pid) * 128 + (k))
#define FD_INO_BASE 64
#define PID_POS(pid) (256ul + (uint64_t)(pid))   /* getdents positions of /proc/<pid> */

struct vfs_fs procfs_fs = {
    .name = "proc",
    .magic = PROC_SUPER_MAGIC,
    .dev = LINUX_MKDEV(0, 22),
    .mnt_id = 2,
    .blksize = 1024,
    .rdonly = true,
    .volatile_inodes = true,
};

enum proc_kind {
    PK_FILE,      /* a machine-wide text: gen */
    PK_PIDFILE,   /* a process's text: pgen */
    PK_SELF,      /* /proc/self */
    PK_LINK,      /* a process's link: link */
    PK_FDDIR,     /* /proc/<pid>/fd */
    PK_SYSDIR,    /* /proc/sys */
    PK_RECORDS,   /* a machine-wide binary file: rec */
    PK_PIDRECORDS, /* a process's binary file: rec */
    PK_TASKDIR,   /* /proc/<pid>/task */
};

struct proc_node {
    const char *name;
    enum proc_kind kind;
    uint32_t perm;                     /* permission bits, as Linux shows them */
    int (*gen)(char *buf, size_t size);
    proc_pid_gen pgen;
    proc_link_gen link;
    const struct proc_records *rec;
};

static const struct proc_node root_nodes[] = {
    { "self",        PK_SELF, 0777, NULL, NULL, NULL, NULL },
    { "meminfo",     PK_FILE, 0444, meminfo_show, NULL, NULL, NULL },
    { "buddyinfo",   PK_FILE, 0444, buddyinfo_show, NULL, NULL, NULL },
    { "zoneinfo",    PK_FILE, 0444, zoneinfo_show, NULL, NULL, NULL },
    { "slabinfo",    PK_FILE, 0444, slabinfo, NULL, NULL, NULL },
    { "vmallocinfo", PK_FILE, 0444, vmallocinfo, NULL, NULL, NULL },
    { "mounts",      PK_FILE, 0444, proc_mounts, NULL, NULL, NULL },
    { "uptime",      PK_FILE, 0444, proc_uptime, NULL, NULL, NULL },
    { "loadavg",     PK_FILE, 0444, proc_loadavg, NULL, NULL, NULL },
    { "stat",        PK_FILE, 0444, proc_stat, NULL, NULL, NULL },
    { "cpuinfo",     PK_FILE, 0444, proc_cpuinfo, NULL, NULL, NULL },
    { "version",     PK_FILE, 0444, proc_version, NULL, NULL, NULL },
    { "filesystems", PK_FILE, 0444, proc_filesystems, NULL, NULL, NULL },
    { "cmdline",     PK_FILE, 0444, proc_cmdline, NULL, NULL, NULL },
    { "vmstat",      PK_FILE, 0444, proc_vmstat, NULL, NULL, NULL },
    { "swaps",       PK_FILE, 0444, swaps_show, NULL, NULL, NULL },
    { "sys",         PK_SYSDIR, 0555, NULL, NULL, NULL, NULL },
    { "kpagecount",  PK_RECORDS, 0400, NULL, NULL, NULL, &proc_kpagecount },
    { "kpageflags",  PK_RECORDS, 0400, NULL, NULL, NULL, &proc_kpageflags },
};
/* A process's entries, in the order Linux lists them. */
static const struct proc_node pid_nodes[] = {
    { "task",        PK_TASKDIR, 0555, NULL, NULL, NULL, NULL },
    { "fd",          PK_FDDIR,   0500, NULL, NULL, NULL, NULL },
    { "environ",     PK_PIDFILE, 0400, NULL, proc_pid_environ, NULL, NULL },
    { "status",      PK_PIDFILE, 0444, NULL, proc_pid_status, NULL, NULL },
    { "comm",        PK_PIDFILE, 0644, NULL, proc_pid_comm, NULL, NULL },
    { "cmdline",     PK_PIDFILE, 0444, NULL, proc_pid_cmdline, NULL, NULL },
    { "stat",        PK_PIDFILE, 0444, NULL, proc_pid_stat, NULL, NULL },
    { "statm",       PK_PIDFILE, 0444, NULL, proc_pid_statm, NULL, NULL },
    { "maps",        PK_PIDFILE, 0444, NULL, proc_pid_maps, NULL, NULL },
    { "numa_maps",   PK_PIDFILE, 0444, NULL, proc_pid_numa_maps, NULL, NULL },
    { "cwd",         PK_LINK,    0777, NULL, NULL, proc_link_cwd, NULL },
    { "exe",         PK_LINK,    0777, NULL, NULL, proc_link_exe, NULL },
    { "pagemap",     PK_PIDRECORDS, 0400, NULL, NULL, NULL, &proc_pagemap },
    { "pagetable32", PK_PIDFILE, 0444, NULL, proc_pid_pagetable32, NULL, NULL },
};
_Static_assert(ARRAY_SIZE(pid_nodes) < FD_INO_BASE, "a pid's inode numbers");

static int own_pid(void)
{
    return current ? current->tgid : 0;   /* /proc/self: the process */
}

/* The live task of a procfs inode (a <pid> directory or what is in it). */
static struct task *proc_task(const struct inode *ino)
{
    return ino->proc.pid > 0 ? task_find(ino->proc.pid) : NULL;
}

/* ---- files ---------------------------------------------------------------------- */

/* Linux's seq_lseek: SEEK_SET and SEEK_CUR only. */
static long proc_lseek(struct file *f, int64_t off, int whence)
{
    if (whence != SEEK_SET && whence != SEEK_CUR)
        return -EINVAL;
    return file_lseek_fixed(f, off, whence);
}

static int proc_fstat(struct file *f, struct linux_stat *st)
{
    inode_stat(f->inode, st);
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

static int run_gen(const struct proc_node *n, struct task *t, char *buf, size_t size)
{
    return n->pgen ? n->pgen(t, buf, size) : n->gen(buf, size);
}

/* Run a generator into a buffer large enough; *text owns the result. */
static int proc_generate(const struct proc_node *n, struct task *t, char **text, size_t *len)
{
    size_t size = 4096;
    for (;;) {
        char *buf = kmalloc(size, GFP_KERNEL);
        if (!buf)
            return -ENOMEM;
        int r = run_gen(n, t, buf, size);
        if (r < 0) {
            kfree(buf);
            return r;
        }
        if ((size_t)r < size) {
            *text = buf;
            *len = (size_t)r;
            return 0;
        }
        kfree(buf);
        if (size >= PROC_MAX_TEXT)
            return -ENOMEM;
        size = MIN(PROC_MAX_TEXT, MAX(size * 2, ALIGN_UP((size_t)r + 1, 4096)));
    }
}

static int proc_open_file(struct inode *ino, unsigned flags, struct file **out)
{
    const struct proc_node *n = ino->proc.node;
    struct task *t = NULL;
    if ((n->kind == PK_PIDFILE || n->kind == PK_PIDRECORDS) && !(t = proc_task(ino)))
        return -ESRCH;                  /* the process is gone */
    if (n->rec)
        return proc_records_open(n->rec, flags, out);
    char *text;
    size_t len;
    int err = proc_generate(n, t, &text, &len);
    if (err < 0)
        return err;
    struct file *f = file_alloc(&proc_file_ops, flags, NULL);
    if (!f) {
        kfree(text);
        return -ENOMEM;
    }
    f->data = (const uint8_t *)text;
    f->size = len;
    *out = f;
    return 0;
}

/* ---- links ----------------------------------------------------------------------- */

/* /proc/self: "<pid>", written in the inode at lookup. */
static const char *proc_self_link(struct inode *ino)
{
    return ino->proc.text;
}

/* A process's link: proc.node is the kmalloc'ed target, made at lookup. */
static const char *proc_dyn_link(struct inode *ino)
{
    return ino->proc.node;
}

static void proc_dyn_evict(struct inode *ino)
{
    kfree(ino->proc.node);
}

/* ---- inodes ------------------------------------------------------------------- */

static int proc_root_lookup(struct inode *dir, const char *name, size_t len, struct inode **out);
static int proc_pid_lookup(struct inode *dir, const char *name, size_t len, struct inode **out);
static int proc_fd_lookup(struct inode *dir, const char *name, size_t len, struct inode **out);
static int proc_task_lookup(struct inode *dir, const char *name, size_t len, struct inode **out);
static void proc_task_readdir(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx);
static void proc_root_readdir(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx);
static void proc_pid_readdir(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx);
static void proc_fd_readdir(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx);
static int proc_sys_lookup(struct inode *dir, const char *name, size_t len, struct inode **out);
static int proc_sysdir_lookup(struct inode *dir, const char *name, size_t len,
                              struct inode **out);
static void proc_sys_readdir(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx);
static void proc_sysdir_readdir(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx);

static const char *proc_pid_dname(struct inode *dir)
{
    return dir->proc.text;              /* "<pid>" */
}

static const char *proc_fd_dname(struct inode *dir)
{
    (void)dir;
    return "fd";
}

static const char *proc_task_dname(struct inode *dir)
{
    (void)dir;
    return "task";
}

static void proc_fd_evict(struct inode *dir)
{
    inode_put(dir->parent);             /* its <pid> directory (/proc/sys for a sysctl one) */
}

static const char *proc_sys_dname(struct inode *dir)
{
    (void)dir;
    return "sys";
}

static const char *proc_sysdir_dname(struct inode *dir)
{
    const struct proc_sysctl_dir *d = dir->proc.node;
    return d->name;
}

static const struct inode_ops proc_root_iops = {
    .lookup = proc_root_lookup,
    .readdir = proc_root_readdir,
    .open = tmpfs_open_dir,
};
static const struct inode_ops proc_pid_iops = {
    .lookup = proc_pid_lookup,
    .readdir = proc_pid_readdir,
    .dname = proc_pid_dname,
    .open = tmpfs_open_dir,
};
/* /proc/<pid>/task/<tid>: a thread's directory, under its task directory. */
static void proc_fd_evict(struct inode *dir);
static const struct inode_ops proc_tid_iops = {
    .lookup = proc_pid_lookup,
    .readdir = proc_pid_readdir,
    .dname = proc_pid_dname,
    .open = tmpfs_open_dir,
    .evict = proc_fd_evict,
};
static const struct inode_ops proc_task_iops = {
    .lookup = proc_task_lookup,
    .readdir = proc_task_readdir,
    .dname = proc_task_dname,
    .open = tmpfs_open_dir,
    .evict = proc_fd_evict,
};
static const struct inode_ops proc_fd_iops = {
    .lookup = proc_fd_lookup,
    .readdir = proc_fd_readdir,
    .dname = proc_fd_dname,
    .open = tmpfs_open_dir,
    .evict = proc_fd_evict,
};
static const struct inode_ops proc_sys_iops = {
    .lookup = proc_sys_lookup,
    .readdir = proc_sys_readdir,
    .dname = proc_sys_dname,
    .open = tmpfs_open_dir,
};
static const struct inode_ops proc_sysdir_iops = {
    .lookup = proc_sysdir_lookup,
    .readdir = proc_sysdir_readdir,
    .dname = proc_sysdir_dname,
    .open = tmpfs_open_dir,
    .evict = proc_fd_evict,
};
static const struct inode_ops proc_sysctl_iops = { .open = proc_sysctl_open,
                                                   .permission = proc_sysctl_permission };
static const struct inode_ops proc_file_iops = { .open = proc_open_file };
static const struct inode_ops proc_self_iops = { .get_link = proc_self_link };
static const struct inode_ops proc_dyn_iops = { .get_link = proc_dyn_link,
                                                .evict = proc_dyn_evict };

/* A new procfs inode owned by t's effective ids (root's for /proc's own). */
static struct inode *proc_new(uint32_t mode, const struct inode_ops *ops, uint64_t nr,
                              const struct task *t)
{
    struct inode *ino = inode_new(&procfs_fs, mode, ops);
    if (!ino)
        return NULL;
    ino->ino = nr;
    ino->nlink = S_ISDIR(mode) ? 2 : 1;
    if (t) {
        ino->proc.pid = t->pid;
        ino->uid = t->euid;
        ino->gid = t->egid;
    }
    return ino;
}

/* A link whose target is computed now (a process's exe, cwd, fd/<n>). */
static int proc_dyn_inode(long (*target)(struct task *, int, char *, size_t, const void *),
                          const void *arg, int fd, struct task *t, uint32_t perm, uint64_t nr,
                          struct inode **out)
{
    char *buf = kmalloc(PATH_MAX, GFP_KERNEL);
    if (!buf)
        return -ENOMEM;
    long n = target(t, fd, buf, PATH_MAX, arg);
    if (n >= PATH_MAX)
        n = -ENAMETOOLONG;              /* cut: a generator says what it needed */
    char *text = n >= 0 ? kmalloc((size_t)n + 1, GFP_KERNEL) : NULL;
    if (n >= 0 && text) {
        memcpy(text, buf, (size_t)n);
        text[n] = 0;
    }
    kfree(buf);
    if (n < 0)
        return (int)n;
    struct inode *ino = text ? proc_new(S_IFLNK | perm, &proc_dyn_iops, nr, t) : NULL;
    if (!ino) {
        kfree(text);
        return -ENOMEM;
    }
    ino->proc.node = text;
    ino->size = (uint64_t)n;
    *out = ino;
    return 0;
}

static long node_link_target(struct task *t, int fd, char *buf, size_t size, const void *arg)
{
    (void)fd;
    const struct proc_node *n = arg;
    return n->link(t, buf, size);
}

static long fd_link_target(struct task *t, int fd, char *buf, size_t size, const void *arg)
{
    (void)arg;
    return proc_link_fd(t, fd, buf, size);
}

static struct inode *pid_dir_inode(struct task *t)
{
    struct inode *ino = proc_new(S_IFDIR | 0555, &proc_pid_iops, PID_INO(t->pid, 0), t);
    if (!ino)
        return NULL;
    snprintf(ino->proc.text, sizeof(ino->proc.text), "%d", t->pid);
    ino->parent = procfs_fs.root;
    return ino;
}

/* The decimal number [name, name + len) as Linux's name_to_int reads it
 * (no sign, no leading zero), or -1. */
static long name_to_num(const char *name, size_t len)
{
    if (len == 0 || len > 9 || (len > 1 && name[0] == '0'))
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

static bool name_is(const char *a, const char *name, size_t len)
{
    return strlen(a) == len && !memcmp(a, name, len);
}

static int proc_root_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
    (void)dir;
    long pid = name_to_num(name, len);
    struct task *t = pid > 0 ? task_find((int)pid) : NULL;
    struct inode *ino = NULL;
    if (t) {
        ino = pid_dir_inode(t);
    } else {
        size_t i = 0;
        while (i < ARRAY_SIZE(root_nodes) && !name_is(root_nodes[i].name, name, len))
            i++;
        if (i == ARRAY_SIZE(root_nodes))
            return -ENOENT;
        const struct proc_node *n = &root_nodes[i];
        if (n->kind == PK_SELF && own_pid() <= 0)
            return -ENOENT;             /* no process: no self (Linux: a kernel thread) */
        if (n->kind == PK_SELF)
            ino = proc_new(S_IFLNK | n->perm, &proc_self_iops, 2 + i, NULL);
        else if (n->kind == PK_SYSDIR)
            ino = proc_new(S_IFDIR | n->perm, &proc_sys_iops, 2 + i, NULL);
        else
            ino = proc_new(S_IFREG | n->perm, &proc_file_iops, 2 + i, NULL);
        if (ino && n->kind == PK_SYSDIR)
            ino->parent = procfs_fs.root;
        if (ino) {
            ino->proc.node = n;
            if (n->kind == PK_SELF) {
                snprintf(ino->proc.text, sizeof(ino->proc.text), "%d", own_pid());
                ino->size = strlen(ino->proc.text);
            }
        }
    }
    if (!ino)
        return -ENOMEM;
    *out = ino;
    return 0;
}

static int proc_pid_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
    struct task *t = proc_task(dir);
    if (!t)
        return -ESRCH;                  /* a directory held open past its process */
    for (size_t i = 0; i < ARRAY_SIZE(pid_nodes); i++) {
        const struct proc_node *n = &pid_nodes[i];
        if (!name_is(n->name, name, len))
            continue;
        uint64_t nr = PID_INO(t->pid, 1 + i);
        if (n->kind == PK_LINK)
            return proc_dyn_inode(node_link_target, n, 0, t, n->perm, nr, out);
        struct inode *ino;
        if (n->kind == PK_TASKDIR && dir->ops == &proc_tid_iops)
            return -ENOENT;             /* a thread's directory has no task/ (Linux) */
        if (n->kind == PK_FDDIR || n->kind == PK_TASKDIR) {
            ino = proc_new(S_IFDIR | n->perm,
                           n->kind == PK_FDDIR ? &proc_fd_iops : &proc_task_iops, nr, t);
            if (ino)
                ino->parent = inode_get(dir);   /* dropped by proc_fd_evict */
        } else {
            ino = proc_new(S_IFREG | n->perm, &proc_file_iops, nr, t);
        }
        if (!ino)
            return -ENOMEM;
        ino->proc.node = n;
        *out = ino;
        return 0;
    }
    return -ENOENT;
}

static int proc_fd_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
    struct task *t = proc_task(dir);
    long fd = name_to_num(name, len);
    if (!t)
        return -ESRCH;
    if (fd < 0 || fd >= FD_MAX)
        return -ENOENT;
    struct file *f = files_fd(t->files, (int)fd);
    if (!f)
        return -ENOENT;
    /* Linux's modes: r-x for reading, -wx for writing, both for O_RDWR. */
    unsigned acc = f->flags & O_ACCMODE;
    uint32_t perm = (acc != O_WRONLY ? 0500 : 0) | (acc != O_RDONLY ? 0300 : 0);
    return proc_dyn_inode(fd_link_target, NULL, (int)fd, t, perm,
                          PID_INO(t->pid, FD_INO_BASE + (uint64_t)fd), out);
}

static unsigned dtype_of(const struct proc_node *n)
{
    switch (n->kind) {
    case PK_FILE:
    case PK_PIDFILE:
    case PK_RECORDS:
    case PK_PIDRECORDS: return IFTODT(S_IFREG);
    case PK_FDDIR:
    case PK_TASKDIR:
    case PK_SYSDIR:     return IFTODT(S_IFDIR);
    default:            return IFTODT(S_IFLNK);
    }
}

/* The smallest pid >= from in the task table, or 0. */
static int next_pid_from(uint64_t from)
{
    int best = 0;
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = task_slot(i);
        if (t && t->pid > 0 && thread_is_leader(t) && (uint64_t)t->pid >= from &&
            (!best || t->pid < best))
            best = t->pid;   /* processes only: threads are under task/ */
    }
    return best;
}

static void proc_root_readdir(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx)
{
    (void)dir;
    for (; *pos - 2 < ARRAY_SIZE(root_nodes); (*pos)++) {
        const struct proc_node *n = &root_nodes[*pos - 2];
        if (n->kind == PK_SELF && own_pid() <= 0)
            continue;
        if (!fill(ctx, n->name, strlen(n->name), 2 + (*pos - 2), dtype_of(n), *pos + 1))
            return;
    }
    if (*pos < PID_POS(0))
        *pos = PID_POS(0);
    for (int pid; (pid = next_pid_from(*pos - PID_POS(0))) > 0;) {
        char buf[16];
        int n = snprintf(buf, sizeof(buf), "%d", pid);
        if (!fill(ctx, buf, (size_t)n, PID_INO(pid, 0), IFTODT(S_IFDIR), PID_POS(pid) + 1))
            return;
        *pos = PID_POS(pid) + 1;
    }
}

static void proc_pid_readdir(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx)
{
    struct task *t = proc_task(dir);
    if (!t)
        return;
    for (; *pos - 2 < ARRAY_SIZE(pid_nodes); (*pos)++) {
        const struct proc_node *n = &pid_nodes[*pos - 2];
        if (n->kind == PK_TASKDIR && dir->ops == &proc_tid_iops)
            continue;
        if (!fill(ctx, n->name, strlen(n->name), PID_INO(t->pid, 1 + (*pos - 2)), dtype_of(n),
                  *pos + 1))
            return;
    }
}

/* A live thread of t's process by its id: not a thread gone (a zombie
 * that is not the leader, which Linux has already released). */
static struct task *thread_of(const struct task *t, long tid)
{
    struct task *o = tid > 0 ? task_find((int)tid) : NULL;
    if (!o || o->tgid != t->tgid || (o->state == TASK_ZOMBIE && !thread_is_leader(o)))
        return NULL;
    return o;
}

static int proc_task_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
    struct task *t = proc_task(dir);
    if (!t)
        return -ESRCH;
    struct task *o = thread_of(t, name_to_num(name, len));
    if (!o)
        return -ENOENT;
    struct inode *ino = proc_new(S_IFDIR | 0555, &proc_tid_iops, PID_INO(o->pid, 0), o);
    if (!ino)
        return -ENOMEM;
    snprintf(ino->proc.text, sizeof(ino->proc.text), "%d", o->pid);
    ino->parent = inode_get(dir);       /* dropped by proc_fd_evict */
    *out = ino;
    return 0;
}

/* The threads in increasing tid order, at positions 2 + tid. */
static void proc_task_readdir(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx)
{
    struct task *t = proc_task(dir);
    while (t) {
        int best = 0;
        for (int i = 0; i < MAX_TASKS; i++) {
            struct task *o = task_slot(i);
            if (o && thread_of(t, o->pid) && (uint64_t)o->pid + 2 >= *pos &&
                (!best || o->pid < best))
                best = o->pid;
        }
        if (!best)
            return;
        char buf[16];
        int n = snprintf(buf, sizeof(buf), "%d", best);
        if (!fill(ctx, buf, (size_t)n, PID_INO(best, 0), IFTODT(S_IFDIR), (uint64_t)best + 3))
            return;
        *pos = (uint64_t)best + 3;
    }
}

static void proc_fd_readdir(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx)
{
    struct task *t = proc_task(dir);
    for (; t && *pos - 2 < FD_MAX; (*pos)++) {
        int fd = (int)(*pos - 2);
        if (!files_fd(t->files, fd))
            continue;
        char buf[8];
        int n = snprintf(buf, sizeof(buf), "%d", fd);
        if (!fill(ctx, buf, (size_t)n, PID_INO(t->pid, FD_INO_BASE + (uint64_t)fd),
                  IFTODT(S_IFLNK), *pos + 1))
            return;
    }
}

/* ---- /proc/sys: a directory per proc_sysctl_dirs entry, its files ----------------------- */

static int proc_sys_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
    for (size_t d = 0; d < proc_sysctl_ndirs; d++) {
        if (!name_is(proc_sysctl_dirs[d].name, name, len))
            continue;
        struct inode *ino = proc_new(S_IFDIR | 0555, &proc_sysdir_iops, SYS_INO(d, 0), NULL);
        if (!ino)
            return -ENOMEM;
        ino->proc.node = &proc_sysctl_dirs[d];
        ino->parent = inode_get(dir);   /* dropped by proc_fd_evict */
        *out = ino;
        return 0;
    }
    return -ENOENT;
}

static int proc_sysdir_lookup(struct inode *dir, const char *name, size_t len,
                              struct inode **out)
{
    const struct proc_sysctl_dir *d = dir->proc.node;
    for (size_t i = 0; i < d->count; i++) {
        const struct proc_sysctl *c = &d->files[i];
        if (!name_is(c->name, name, len))
            continue;
        struct inode *ino = proc_new(S_IFREG | c->mode, &proc_sysctl_iops,
                                     SYS_INO(d - proc_sysctl_dirs, 1 + i), NULL);
        if (!ino)
            return -ENOMEM;
        ino->proc.node = c;
        snprintf(ino->proc.text, sizeof(ino->proc.text), "%s", d->name);
        *out = ino;
        return 0;
    }
    return -ENOENT;
}

static void proc_sys_readdir(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx)
{
    (void)dir;
    for (; *pos - 2 < proc_sysctl_ndirs; (*pos)++) {
        const char *name = proc_sysctl_dirs[*pos - 2].name;
        if (!fill(ctx, name, strlen(name), SYS_INO(*pos - 2, 0), IFTODT(S_IFDIR), *pos + 1))
            return;
    }
}

static void proc_sysdir_readdir(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx)
{
    const struct proc_sysctl_dir *d = dir->proc.node;
    for (; *pos - 2 < d->count; (*pos)++) {
        const char *name = d->files[*pos - 2].name;
        if (!fill(ctx, name, strlen(name), SYS_INO(d - proc_sysctl_dirs, *pos - 1),
                  IFTODT(S_IFREG), *pos + 1))
            return;
    }
}

/* ---- paths of procfs's own files (for /proc/<pid>/fd/<n>) ---------------------------- */

long proc_inode_path(const struct inode *ino, char *buf, size_t size)
{
    const struct proc_node *n = ino->proc.node;
    int len;
    if (S_ISDIR(ino->mode) || S_ISLNK(ino->mode))
        return -ENOENT;                 /* directories have dir_path; links are not opened */
    if (ino->ops == &proc_sysctl_iops)
        len = snprintf(buf, size, "/proc/sys/%s/%s", ino->proc.text,
                       ((const struct proc_sysctl *)ino->proc.node)->name);
    else if (n >= root_nodes && n < root_nodes + ARRAY_SIZE(root_nodes))
        len = snprintf(buf, size, "/proc/%s", n->name);
    else
        len = snprintf(buf, size, "/proc/%d/%s", ino->proc.pid, n->name);
    return (size_t)len < size ? len : -ENAMETOOLONG;
}

int procfs_mount(struct inode *mountpoint)
{
    struct inode *root = inode_new(&procfs_fs, S_IFDIR | 0555, &proc_root_iops);
    if (!root)
        return -ENOMEM;
    root->ino = 1;
    root->nlink = 2;
    root->parent = root;
    procfs_fs.root = root;             /* the mount's reference */
    procfs_fs.mountpoint = inode_get(mountpoint);
    mountpoint->mounted = root;
    return 0;
}
