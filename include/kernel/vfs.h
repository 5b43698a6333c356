/*
 * The virtual file system: inodes, the page cache of regular files,
 * directories, path resolution, and the file systems behind them:
 * tmpfs, the writable root seeded from the initrd, procfs, mounted on
 * /proc, and sysfs, on /sys (docs/tmpfs.md, docs/files.md).
 *
 * An inode is a file, directory, symbolic link or device node.  It lives
 * while it has a link (nlink: the directory entries naming it, plus a
 * directory's "." and its subdirectories' "..") or a reference (refs: open
 * files, working directories, a mount, a path walk in progress).  When
 * both are gone it is freed with everything it holds: its pages, its
 * entries, its target.  procfs inodes have no links: they are made by a
 * lookup and freed with their last reference.
 *
 * A regular file's bytes live in page-cache pages, frames of the page
 * allocator reached through the direct map and indexed by page number in
 * a small radix tree (struct page_tree, kernel/fs/pagecache.c).  A file
 * seeded from the initrd keeps its bytes in the archive until a page is
 * first written: that page is then copied into a page-cache page (copy on
 * write, page by page).  Every page-cache page is counted in one global
 * figure, pagecache_pages().
 *
 * Under the kernel lock, in a kernel that is not preemptible: nothing
 * here locks, and no function here sleeps, so a path walk sees the tree
 * stand still, whatever the other CPUs do in user mode.
 *
 * Errors are Linux's, in Linux's order (fs/namei.c, fs/open.c,
 * mm/shmem.c), so that the user test programs can compare with the host.
 */
#ifndef KERNEL_VFS_H
#define KERNEL_VFS_H

#include <kernel/file.h>

struct page;
struct inode;
struct vfs_fs;

/* ---- Linux's ABI: what the path calls take -------------------------------- */

#define AT_REMOVEDIR       0x200
#define AT_SYMLINK_FOLLOW  0x400
#define AT_EACCESS         0x200
#define AT_STATX_SYNC_TYPE 0x6000

#define RENAME_NOREPLACE 0x1u
#define RENAME_EXCHANGE  0x2u
#define RENAME_WHITEOUT  0x4u

#define S_IFBLK  0060000
#define S_IFSOCK 0140000
#define S_ISUID  0004000
#define S_ISGID  0002000
#define S_ISVTX  0001000
#define S_ISLNK(m) (((m) & S_IFMT) == S_IFLNK)
#define S_ISCHR(m) (((m) & S_IFMT) == S_IFCHR)

/* getdents64's d_type: the file type bits shifted down (DT_DIR = 4...). */
#define DT_UNKNOWN 0
#define IFTODT(mode) (((mode) & S_IFMT) >> 12)

/* Magic numbers of statfs (include/uapi/linux/magic.h). */
#define TMPFS_MAGIC      0x01021994
#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC      0x62656572

#define MAXSYMLINKS 40             /* links followed in one walk: ELOOP beyond */

/* ---- file systems, inodes, directory entries -------------------------------- */

/*
 * A mounted file system.  Its inodes number from 1 (the root).  The tmpfs
 * one is the root of everything (mountpoint NULL); procfs hangs over the
 * tmpfs directory /proc.  max_pages/max_inodes are tmpfs's size limits
 * (Linux's defaults: half of RAM each), beyond which creating a page or
 * an inode is -ENOSPC.
 */
struct vfs_fs {
    const char *name;
    uint64_t magic;               /* statfs f_type */
    uint64_t dev;                 /* st_dev (LINUX_MKDEV) */
    int mnt_id;                   /* statx stx_mnt_id */
    uint32_t blksize;             /* st_blksize */
    bool rdonly;                  /* every change is -EROFS (procfs) */
    bool volatile_inodes;         /* inodes die with their last reference (procfs) */
    struct inode *root;           /* one reference held by the mount */
    struct inode *mountpoint;     /* the directory it covers, or NULL */
    uint64_t max_pages, nr_pages; /* page-cache pages: limit, in use */
    uint64_t max_inodes, nr_inodes;
    uint64_t next_ino;
};

/* One name in a tmpfs directory: a link to its inode (no reference). */
struct dentry {
    struct dentry *next, *prev;   /* the directory's list, oldest first */
    struct inode *inode;
    uint64_t pos;                 /* getdents position: unique in the directory, >= 2 */
    uint16_t len;
    char name[];                  /* len bytes and a NUL */
};

/* A file's page cache: page index -> frame, a radix tree of 64 slots per
 * node (height 0: root is the page of index 0 itself, or NULL).  A slot
 * holds a page or, for a page on swap, its swap entry (kernel/fs/tmpfs_swap.c):
 * nr_pages counts both, nr_swapped the entries. */
struct page_tree {
    void *root;
    unsigned height;              /* indexes below 64^height are reachable */
    uint64_t nr_pages;
    uint64_t nr_swapped;          /* slots holding a swap entry (Linux's info->swapped) */
};

/* The callbacks of getdents: one entry; false when the buffer is full. */
typedef bool (*filldir_fn)(void *ctx, const char *name, size_t len, uint64_t ino,
                           unsigned type, uint64_t next_pos);

/*
 * What each kind of inode does (NULL: the kind cannot).  Changes to the
 * tree (create, link, rename...) are tmpfs's alone (kernel/fs/tmpfs.c):
 * the other file system is read-only.
 *  - lookup: the child of a directory called name (len bytes, not "." or
 *    ".."), with a reference; -ENOENT;
 *  - readdir: the entries at positions >= *pos (positions 0 and 1, "."
 *    and "..", are the caller's), *pos moved past each one emitted;
 *  - dname: a directory's name in its parent (getcwd), NULL if none;
 *  - get_link: a symbolic link's target, valid while the inode is
 *    referenced (procfs keeps a made-up one in the inode);
 *  - open: a new file on the inode (file->inode set by the caller);
 *  - evict: the last reference and link are gone, free the kind's state;
 *  - permission: the kind's own access rule (inode_permission's mask),
 *    replacing the file system's: /proc/sys's files, writable on the
 *    read-only /proc, with the rights of their mode even for root.
 */
struct inode_ops {
    int (*lookup)(struct inode *dir, const char *name, size_t len, struct inode **out);
    void (*readdir)(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx);
    const char *(*dname)(struct inode *dir);
    const char *(*get_link)(struct inode *ino);
    int (*open)(struct inode *ino, unsigned flags, struct file **out);
    void (*evict)(struct inode *ino);
    int (*permission)(const struct inode *ino, int mask);
};

struct inode {
    uint64_t ino;
    uint32_t mode;                /* S_IF* type and permission bits */
    uint32_t nlink;
    uint32_t uid, gid;
    uint64_t rdev;                /* device nodes: LINUX_MKDEV(major, minor) */
    uint64_t size;                /* bytes (directories: 20 per entry, as tmpfs) */
    struct linux_timespec atime, mtime, ctime, btime;
    uint32_t refs;
    uint32_t iflags;              /* I_LINKABLE */
    const struct inode_ops *ops;
    struct vfs_fs *fs;
    struct inode *mounted;        /* the root of a file system mounted here */
    struct inode *parent;         /* directories: the one naming it (a root: itself);
                                   * NULL once removed */
    union {
        struct {                  /* directories */
            struct dentry *first, *last;
            uint64_t next_pos;
            uint64_t count;       /* entries */
        } dir;
        struct {                  /* regular files */
            struct page_tree pages;
            const uint8_t *idata; /* bytes [0, isize) not yet copied stay here (the initrd) */
            uint64_t isize;       /* <= size */
            uint64_t ipages;      /* pages of [0, isize) not copied yet */
            const char *iname;    /* the initrd entry's name (lives as long as the kernel) */
            struct vm_mapping *mapping; /* while mapped: the VMAs' i_mmap list
                                         * (kernel/fs/tmpfs_mmap.c) */
            struct inode *swap_prev, *swap_next; /* while pages.nr_swapped > 0: the
                                         * list swapoff walks (kernel/fs/pagecache.c) */
        } reg;
        char *link;               /* symbolic links: the target, kmalloc'ed */
        struct {                  /* procfs and sysfs */
            const void *node;
            int pid;
            char text[16];        /* a made-up link target or name (a pid) */
        } proc;
    };
};

/* inode->iflags: an O_TMPFILE file (opened without O_EXCL) that linkat may
 * still give a name, although its nlink is 0 (Linux's I_LINKABLE). */
#define I_LINKABLE 0x1u

/* ---- inodes (kernel/fs/inode.c) ---------------------------------------------- */

/*
 * A new inode of fs with one reference, nlink 0, the times set to now,
 * ino from fs->next_ino; NULL when out of memory or at the file system's
 * inode limit (fs->nr_inodes counts them; tmpfs's callers say -ENOSPC).
 */
struct inode *inode_new(struct vfs_fs *fs, uint32_t mode, const struct inode_ops *ops);
/* Take a reference (returns ino). */
struct inode *inode_get(struct inode *ino);
/* Drop one; with no reference and no link left (or on a volatile fs),
 * the inode is evicted and freed.  NULL is ignored. */
void inode_put(struct inode *ino);
/* A link was removed (nlink--): frees the inode when nothing holds it. */
void inode_drop_link(struct inode *ino);
/* stat of an inode. */
void inode_stat(const struct inode *ino, struct linux_stat *st);
/* The current time (the kernel clock: nanoseconds since boot). */
struct linux_timespec fs_now(void);
/* mtime = ctime = now (a change of contents); ctime only (of attributes). */
void inode_touch(struct inode *ino);
void inode_ctime(struct inode *ino);
/*
 * May we (root) access ino?  mask: 4 read, 2 write, 1 exec/search.
 * Root reads and writes anything (the read-only file system aside:
 * -EROFS for writing a file, directory or link there); it may execute a
 * file only when some x bit is set (-EACCES), as Linux's CAP_DAC_OVERRIDE.
 * A kind with its own rule (ops->permission) answers instead.
 */
int inode_permission(const struct inode *ino, int mask);
/* Inodes alive, for leak checks. */
uint64_t inode_count(void);

/* ---- the page cache (kernel/fs/pagecache.c) ----------------------------------- */

/* The page of file index index if it is cached in memory, else NULL (a
 * hole, or a page on swap; no reference taken, nothing read). */
struct page *pagecache_find(struct inode *ino, uint64_t index);
/* Does the file hold page index, in memory or on swap? */
bool pagecache_has(struct inode *ino, uint64_t index);
/*
 * The page of index in memory, read back from swap if it was there
 * (*out NULL for a hole; nothing else is created).  0, -ENOMEM, -EIO
 * (the swap read failed: the entry stays).  Marks the page referenced.
 */
int pagecache_lookup(struct inode *ino, uint64_t index, struct page **out);
/*
 * The page of index index, created if absent: filled from the initrd
 * bytes it covers, zero elsewhere.  The cache holds one reference on it.
 * -ENOSPC (tmpfs's limit), -ENOMEM.
 */
int pagecache_get(struct inode *ino, uint64_t index, struct page **out);
/*
 * Page migration (mm/filemap.c): pg (a fresh frame holding a copy, one
 * reference) takes the place of the page of index, which must be cached;
 * the old page is returned with the cache's reference and its map count,
 * for the caller to move its ptes, then filemap_page_removed and put_page.
 */
struct page *pagecache_replace(struct inode *ino, uint64_t index, struct page *pg);
/* Migration's hooks for page-cache pages (include/mm/rmap.h's
 * filemap_owner, set at boot): pages record their inode and index. */
struct filemap_owner_ops;
extern const struct filemap_owner_ops pagecache_owner;
/* Cut the file to size bytes: pages beyond go back to the allocator, the
 * tail of the last one is zeroed, the initrd bytes beyond are forgotten. */
void pagecache_truncate(struct inode *ino, uint64_t size);
/* Copy [pos, pos + n) of the file out (holes and the part past the
 * cached and initrd bytes read as zeros); only pages on swap are read
 * back.  0, -ENOMEM, -EIO. */
int pagecache_read(struct inode *ino, uint64_t pos, void *dst, size_t n);
/* read/write between the file at pos and a user buffer: the bytes moved
 * (a write extends size), or -EFAULT / -ENOSPC / -ENOMEM when none. */
long pagecache_read_user(struct inode *ino, uint64_t pos, uint64_t ubuf, size_t n);
long pagecache_write_user(struct inode *ino, uint64_t pos, uint64_t ubuf, size_t n);
/* 512-byte blocks a file holds (its pages and its initrd pages), for stat. */
uint64_t pagecache_blocks(const struct inode *ino);
/* Page-cache pages held by every file (/proc/meminfo's Cached/Shmem). */
unsigned long pagecache_pages(void);

/* ---- tmpfs pages on swap (kernel/fs/tmpfs_swap.c; docs/reclaim.md) ------------------ */

/*
 * What the page cache does with a slot holding a swap entry, set at boot
 * by tmpfs_swap_init (NULL: nothing ever goes to swap, as in the host
 * tests): swapin reads entry into a new page (one reference, the
 * cache's) and frees the slot: 0, -ENOMEM, -EIO (the entry stays);
 * free lets the slot go (truncation, eviction); count is the slot's
 * references other than the swap cache's (the file's: 1), for the
 * validator.
 */
struct pagecache_swap_ops {
    int (*swapin)(uint64_t entry, struct page **out);
    void (*free)(uint64_t entry);
    int (*count)(uint64_t entry);
};
extern const struct pagecache_swap_ops *pagecache_swap;
/* Page-out's tree half: the page pg (of inode pg->mapping, index
 * pg->index, unmapped everywhere) leaves the cache and entry takes its
 * slot; the caller frees the page (the cache's reference is handed over). */
void pagecache_swapped_out(struct page *pg, uint64_t entry);
/* swapoff's tmpfs half (Linux's shmem_unuse): every slot holding an
 * entry of area type, in every file, gets its page back.  0, -ENOMEM,
 * -EIO. */
int pagecache_unuse(unsigned type);
/* Pages on swap of every file (for the validators and tests). */
uint64_t pagecache_swapped_pages(void);
/* Recount the files on swap: each one's entries (nr_swapped), each slot
 * owned by its file alone, the global count.  0 or -EUCLEAN. */
int pagecache_swap_check(char *why, size_t size);
/* Page out one tmpfs page now (the clock calls it for pages not used
 * lately): its ptes cleared, its bytes in a new slot, the slot in the
 * file's page cache, the page freed.  0, -EBUSY (pinned, or not a tmpfs
 * page), -ENOSPC (no free slot), -EIO (the write failed: the slot is
 * retired, the page stays). */
int shmem_writeout(struct page *pg);
/* Set the hooks: the page cache's, the reclaim clock's, swapoff's. */
void tmpfs_swap_init(void);

/* ---- mapping files (kernel/fs/tmpfs_mmap.c; docs/page-cache.md) -------------------- */

struct mmap_file;
struct vm_mapping;
/*
 * What mmap may map of an open file, into *mf (include/mm/vma.h): how it
 * was opened, and for a regular tmpfs file its mapping (made now if the
 * file had none, its path recorded for /proc/self/maps).  0 (mf->mapping
 * NULL when the file cannot be mapped: -ENODEV for mmap), 1 for
 * /dev/zero (anonymous memory), -ENOMEM.  Call file_mmap_finish after
 * the mmap, which frees a mapping no VMA took.
 */
int file_mmap_prepare(struct file *f, struct mmap_file *mf);
void file_mmap_finish(struct mmap_file *mf);
/* MAP_SHARED anonymous memory: an unlinked file of len bytes on an
 * internal tmpfs, its mapping referenced once for the caller
 * (mm_shmem_new, include/mm/vma.h).  0 or -ENOMEM. */
int shmem_zero_setup(uint64_t len, struct vm_mapping **out);

/* ---- directories (kernel/fs/dir.c) -------------------------------------------- */

/* The entry called name in a tmpfs directory, or NULL. */
struct dentry *dir_find(struct inode *dir, const char *name, size_t len);
/* The entry naming child (a directory's own name in its parent), or NULL. */
struct dentry *dir_find_inode(struct inode *dir, const struct inode *child);
/* Add name -> child (child->nlink++, a directory's parent set): 0 or -ENOMEM. */
int dir_add(struct inode *dir, const char *name, size_t len, struct inode *child);
/* Remove an entry (the caller drops the link it held). */
void dir_remove(struct inode *dir, struct dentry *d);
/* The pieces of dir_add and dir_remove, for rename (no link changes):
 * an entry made before anything is touched (NULL: no memory), put in a
 * directory at a new position, taken out of one without being freed. */
struct dentry *dentry_alloc(const char *name, size_t len);
void dir_insert(struct inode *dir, struct dentry *d, struct inode *child);
void dir_unlink_entry(struct inode *dir, struct dentry *d);
/* Free every entry of a directory being evicted (it holds no links by then). */
void dir_free_all(struct inode *dir);
/* A directory's parent, across a mount ("/proc/.." is "/"), no reference. */
struct inode *dir_parent(struct inode *dir);
/* tmpfs's lookup and readdir (struct inode_ops). */
int dir_lookup(struct inode *dir, const char *name, size_t len, struct inode **out);
void dir_readdir(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx);

/* ---- path resolution (kernel/fs/namei.c) ------------------------------------------ */

#define LOOKUP_FOLLOW    0x1u   /* follow a symbolic link in the last component */
#define LOOKUP_DIRECTORY 0x2u   /* the last component must be a directory */

/* What the last component of a path is (Linux's LAST_NORM...). */
enum { LAST_NORM, LAST_ROOT, LAST_DOT, LAST_DOTDOT };

/* A path cut before its last component: the directory (referenced) and the name. */
struct nameparent {
    struct inode *dir;
    const char *last;             /* into the path given (or a link's target) */
    size_t len;
    int type;                     /* LAST_* */
    bool slash;                   /* the path goes on with '/' after last */
    unsigned links;               /* symbolic links followed to get here */
};

/* The root of everything (tmpfs's root), seeded on first use. */
struct inode *vfs_root(void);
/*
 * Resolve path from base (NULL: the working directory; ignored for an
 * absolute path) to a referenced inode.  Symbolic links are followed in
 * every component but the last, and in the last with LOOKUP_FOLLOW or a
 * trailing '/'.  -ENOENT, -ENOTDIR, -ENAMETOOLONG (a component above
 * NAME_MAX), -ELOOP (more than MAXSYMLINKS links).
 */
int namei(struct inode *base, const char *path, unsigned flags, struct inode **out);
/*
 * The same, also giving the directory holding the final inode (links
 * followed) and its name there, into name (NAME_MAX + 1 bytes): what
 * execve records as /proc/self/exe.  *dir is referenced.
 */
int namei_at(struct inode *base, const char *path, unsigned flags, struct inode **out,
             struct inode **dir, char *name);
/* Resolve all but the last component; np->links starts from links. */
int namei_parent(struct inode *base, const char *path, unsigned links, struct nameparent *np);
void nameparent_put(struct nameparent *np);
/*
 * One component in a directory: "." and ".." included, a mount crossed
 * when cross is set.  -ENOTDIR (dir is not one), -ENAMETOOLONG, -ENOENT
 * (also for a removed directory's "..").
 */
int lookup_one(struct inode *dir, const char *name, size_t len, bool cross, struct inode **out);
/* The absolute path of a directory into buf: its length, -ENOENT (removed),
 * -ERANGE (size too small). */
long dir_path(struct inode *dir, char *buf, size_t size);

/* ---- tmpfs (kernel/fs/tmpfs.c) -------------------------------------------------- */

extern struct vfs_fs tmpfs_root_fs;

/* Make the root file system (an empty root directory): 0 or -ENOMEM. */
int tmpfs_init(struct vfs_fs *fs, uint64_t max_pages);
/*
 * New objects in dir called name (the caller checked that the name is
 * free and that dir is a live, writable tmpfs directory): a
 * regular file, a directory, a symbolic link, a device node.  mode holds
 * the permission bits after umask.  The new inode is returned referenced
 * when out is not NULL.  -ENOSPC, -ENOMEM, -ENAMETOOLONG (a target of
 * PAGE_SIZE bytes or more).
 */
int tmpfs_create(struct inode *dir, const char *name, size_t len, uint32_t mode, uint64_t rdev,
                 struct inode **out);
int tmpfs_mkdir(struct inode *dir, const char *name, size_t len, uint32_t mode);
int tmpfs_symlink(struct inode *dir, const char *name, size_t len, const char *target);
/* An unnamed regular file (O_TMPFILE), referenced, nlink 0. */
int tmpfs_tmpfile(struct inode *dir, uint32_t mode, struct inode **out);
/* A new link to a file: -EMLINK, -ENOMEM. */
int tmpfs_link(struct inode *ino, struct inode *dir, const char *name, size_t len);
/* Remove an entry: a file or an (empty, checked by the caller) directory. */
void tmpfs_unlink(struct inode *dir, struct dentry *d);
/* rename's last step, everything checked (docs/tmpfs.md): 0 or -ENOMEM. */
int tmpfs_rename(struct inode *odir, struct dentry *od, struct inode *ndir, const char *name,
                 size_t len, struct dentry *nd, unsigned flags);
/* Change a regular file's size (truncate, ftruncate, O_TRUNC): 0, -EFBIG. */
int tmpfs_setsize(struct inode *ino, uint64_t size);
/* Walk the tree and recount it (kernel/fs/tmpfs_check.c): 0, -EUCLEAN with
 * the first problem in why, -ENOMEM.  Tests call it after every step. */
int tmpfs_check(char *why, size_t size);
/* The inode_ops of tmpfs's kinds. */
extern const struct inode_ops tmpfs_dir_iops, tmpfs_reg_iops, tmpfs_link_iops, tmpfs_dev_iops;

/* ---- the root, seeded from the initrd (kernel/fs/initrd_fs.c) --------------------- */

/* Copy the initrd's tree into the root tmpfs (file bytes stay in the
 * archive), create /proc and /tmp, mount procfs.  Once; 0 or -ENOMEM. */
int rootfs_init(void);
/* Throw the whole tree away (every file closed and every working
 * directory dropped first: what is still referenced stays until then), so
 * that the next rootfs_init seeds a new one.  For tests. */
void rootfs_teardown(void);

/* ---- procfs (kernel/fs/procfs.c) --------------------------------------------------- */

extern struct vfs_fs procfs_fs;
/* Make procfs's root and mount it on mountpoint: 0 or -ENOMEM. */
int procfs_mount(struct inode *mountpoint);

/* ---- sysfs (kernel/fs/sysfs.c) ------------------------------------------------------ */

extern struct vfs_fs sysfs_fs;
/* Make sysfs's root and mount it on mountpoint (/sys): 0 or -ENOMEM. */
int sysfs_mount(struct inode *mountpoint);
/* Undo sysfs_mount (rootfs_teardown); nothing when it is not mounted. */
void sysfs_unmount(void);
/* The path of a sysfs file ("/sys/devices/system/node/node0/meminfo"),
 * for /proc/<pid>/fd/<n>: its length, -ENOENT (a directory), -ENAMETOOLONG. */
long sysfs_inode_path(const struct inode *ino, char *buf, size_t size);

/* ---- open files on inodes (kernel/fs/tmpfs_file.c, kernel/fs/open.c) -------------- */

/* The open file of any directory (tmpfs's or procfs's): read is -EISDIR,
 * lseek moves the getdents position, getdents goes through ops->readdir. */
int tmpfs_open_dir(struct inode *ino, unsigned flags, struct file **out);
/* Open an inode for open's flags (the checks of may_open done): 0 or -errno. */
int inode_open(struct inode *ino, unsigned flags, struct file **out);
/*
 * open(2) of path from base, with flags and the creation mode (before
 * umask): the whole of Linux's do_filp_open for our file systems.
 */
int vfs_open_path(struct inode *base, const char *path, unsigned flags, unsigned mode,
                  struct file **out);
/* getdents's work: entries of a directory file through fill from f->pos. */
int vfs_readdir(struct file *f, filldir_fn fill, void *ctx);

/* ---- the task's file-system context (kernel/fs/file.c) ----------------------------- */

/* The working directory (no reference: valid during the system call). */
struct inode *cwd_inode(void);
/* Make dir (referenced by the caller, who gives that reference) the
 * working directory. */
void cwd_set(struct inode *dir);
/* The file-mode creation mask. */
unsigned umask_get(void);
unsigned umask_swap(unsigned mask);
/* /proc/self/exe: the absolute path of the running program ("" if none). */
const char *exe_path(void);
/* Record it at execve in a task's table, which takes path (kmalloc'ed)
 * over; NULL files: path is freed. */
void exe_install(void *files, char *path);
/*
 * Another task's table (task->files), for /proc/<pid>: the file of
 * descriptor fd (NULL: closed or out of range), the working directory
 * (the root when none is set), the umask, the program's path ("" if
 * none).  No reference is taken: valid until that task changes its table.
 */
struct file *files_fd(void *files, int fd);
struct inode *files_cwd(void *files);
unsigned files_umask(void *files);
const char *files_exe(void *files);

/* ---- statfs (kernel/fs/sys_attr.c) ------------------------------------------------- */

/* struct statfs of x86-64 (120 bytes). */
struct linux_statfs {
    int64_t f_type, f_bsize;
    uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
    int32_t f_fsid[2];
    int64_t f_namelen, f_frsize, f_flags, f_spare[4];
};
_Static_assert(sizeof(struct linux_statfs) == 120, "struct statfs is 120 bytes on x86-64");
/* The figures of the file system holding ino. */
void vfs_statfs(const struct inode *ino, struct linux_statfs *st);
/* statfs/fstatfs's work for compat32: 0 or -errno. */
long file_statfs(uint64_t upath, struct linux_statfs *st);
long file_fstatfs(int fd, struct linux_statfs *st);

/* ---- the path system calls' work, shared with compat32 -------------------------- */

/*
 * truncate/ftruncate with a 64-bit length; utimensat with times already
 * copied in (NULL: now); the old getdents with `long` of lsize bytes
 * (8 on x86-64, 4 for i386).
 */
long file_truncate(uint64_t upath, int64_t len);
long file_ftruncate(int fd, int64_t len);
long file_utimens(int dirfd, uint64_t upath, const struct linux_timespec *times, unsigned flags);
long file_getdents_old(int fd, uint64_t ubuf, uint64_t count, unsigned lsize);
long file_pwrite(int fd, uint64_t ubuf, uint64_t count, int64_t pos);

#endif
