/*
 * /sys: a small sysfs, read-only, holding the NUMA nodes' files that
 * Linux serves under /sys/devices/system/node (docs/numa.md, "Seeing the
 * nodes").  Its tree is a static table; the directories node0, node1...
 * are one entry expanded for every node 0 .. nr_node_ids - 1, which are
 * known at boot and never change:
 *
 *   /sys/devices/system/node/possible, online, has_normal_memory,
 *        has_memory, has_cpu        node lists in Linux's bitmap list
 *                                   format ("0-1", "0,2-3"; "" when none)
 *   /sys/devices/system/node/nodeN/cpulist, distance, meminfo, numastat
 *                                   one node's (mm/mmstat.c's texts)
 *
 * It works as procfs does (kernel/fs/procfs.c): inodes are made by each
 * lookup and die with their last reference, a file's text is made when
 * it is opened, into a buffer of one page (Linux's limit for a sysfs
 * attribute) that the open file owns, and every change is -EROFS (the
 * mount is read-only, /proc/mounts says "ro").  As on Linux, fstat gives
 * size 4096 for every file and lseek's SEEK_END counts from there.
 * A directory holds a reference on its parent (dname and ".." walk up).
 *
 * The node states follow Linux's enum node_states: possible and online
 * are every node (Linux onlines a node with memory or CPUs, and mmk's
 * SRAT parser makes no node with neither); has_memory (N_MEMORY) the
 * nodes with frames the allocator manages; has_normal_memory
 * (N_NORMAL_MEMORY) those with frames in ZONE_NORMAL or a zone below it,
 * as Linux's check_for_memory counts on a 64-bit machine (no HIGHMEM);
 * has_cpu (N_CPU) the nodes with an online CPU (cpu_to_node, from the
 * SRAT).
 */
#include <kernel/kstat.h>
#include <kernel/smp.h>
#include <kernel/vfs.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/sbuf.h>
#include <kernel/string.h>
#include <mm/numa.h>
#include <mm/slab.h>
#include <mm/zone.h>

#define SYSFS_FILE_SIZE 4096ul   /* st_size of every attribute, and its largest text */
#define NO_PARENT -1

struct vfs_fs sysfs_fs = {
    .name = "sysfs",
    .magic = SYSFS_MAGIC,
    .dev = LINUX_MKDEV(0, 21),
    .mnt_id = 3,
    .blksize = 4096,
    .rdonly = true,
    .volatile_inodes = true,
};

/* Is CPU c online and on node nid? */
static bool cpu_on_node(unsigned c, int nid)
{
    return c < NR_CPUS && kstat_cpu_online(c) && cpu_to_node(c) == nid;
}

/* Linux's enum node_states, the ones shown. */
enum node_state { N_POSSIBLE, N_ONLINE, N_NORMAL_MEMORY, N_MEMORY, N_CPU };

static bool node_in_state(int nid, enum node_state s)
{
    switch (s) {
    case N_POSSIBLE:
    case N_ONLINE:
        return true;
    case N_MEMORY:
        return node_has_memory(nid);
    case N_NORMAL_MEMORY:
        for (int t = 0; t <= ZONE_NORMAL; t++)
            if (node_data[nid]->zones[t].managed)
                return true;
        return false;
    case N_CPU:
        for (unsigned c = 0; c < NR_CPUS; c++)
            if (cpu_on_node(c, nid))
                return true;
        return false;
    }
    return false;
}

/* The nodes in state s as Linux's "%*pbl" prints a bitmap: ranges a-b
 * and single numbers, comma-separated, then a newline. */
static int node_state_show(int s, char *buf, size_t size)
{
    struct sbuf out = { buf, size, 0 };
    const char *sep = "";
    for (int n = 0; n < (int)nr_node_ids; n++) {
        if (!node_in_state(n, (enum node_state)s))
            continue;
        int last = n;
        while (last + 1 < (int)nr_node_ids && node_in_state(last + 1, (enum node_state)s))
            last++;
        if (last > n)
            sbuf_put(&out, "%s%d-%d", sep, n, last);
        else
            sbuf_put(&out, "%s%d", sep, n);
        sep = ",";
        n = last;
    }
    sbuf_put(&out, "\n");
    return (int)out.len;
}

/* nodeN/cpulist: the online CPUs on node N (cpu_to_node, from the SRAT),
 * listed in Linux's format ("0-3", "0,2"); a node without CPUs lists none
 * (an empty line, as Linux for a CPU-less node). */
static int node_cpulist_show(int nid, char *buf, size_t size)
{
    size_t len = 0;
    for (unsigned c = 0; c < NR_CPUS; c++) {
        if (!cpu_on_node(c, nid))
            continue;
        unsigned last = c;
        while (cpu_on_node(last + 1, nid))
            last++;
        int n = last == c ? snprintf(buf + len, len < size ? size - len : 0, "%s%u",
                                     len ? "," : "", c)
                          : snprintf(buf + len, len < size ? size - len : 0, "%s%u-%u",
                                     len ? "," : "", c, last);
        len += (size_t)n;
        c = last;
    }
    int n = snprintf(buf + len, len < size ? size - len : 0, "\n");
    return (int)(len + (size_t)n);
}

/*
 * The tree.  parent is the index of the entry's directory; show is NULL
 * for a directory.  A file's show gets arg, or (arg NODE_ARG) the node
 * number of its nodeN directory.  PER_NODE marks the nodeN directory.
 */
#define NODE_ARG -1
struct sysfs_entry {
    const char *name;
    int parent;
    int (*show)(int arg, char *buf, size_t size);
    int arg;
    bool per_node;
};

enum { E_ROOT, E_DEVICES, E_SYSTEM, E_NODE, E_NODEN = 9 };
static const struct sysfs_entry entries[] = {
    [E_ROOT]    = { "sys", NO_PARENT, NULL, 0, false },
    [E_DEVICES] = { "devices", E_ROOT, NULL, 0, false },
    [E_SYSTEM]  = { "system", E_DEVICES, NULL, 0, false },
    [E_NODE]    = { "node", E_SYSTEM, NULL, 0, false },
    [4]         = { "possible", E_NODE, node_state_show, N_POSSIBLE, false },
    [5]         = { "online", E_NODE, node_state_show, N_ONLINE, false },
    [6]         = { "has_normal_memory", E_NODE, node_state_show, N_NORMAL_MEMORY, false },
    [7]         = { "has_memory", E_NODE, node_state_show, N_MEMORY, false },
    [8]         = { "has_cpu", E_NODE, node_state_show, N_CPU, false },
    [E_NODEN]   = { "node", E_NODE, NULL, 0, true },
    [10]        = { "cpulist", E_NODEN, node_cpulist_show, NODE_ARG, false },
    [11]        = { "distance", E_NODEN, node_distance_show, NODE_ARG, false },
    [12]        = { "meminfo", E_NODEN, node_meminfo_show, NODE_ARG, false },
    [13]        = { "numastat", E_NODEN, node_numastat_show, NODE_ARG, false },
};
#define NR_ENTRIES ARRAY_SIZE(entries)
/* Inode numbers: entry i of node nid (0 outside nodeN). */
#define SYSFS_INO(i, nid) (1ul + (i) + 32ul * (uint64_t)(nid))
_Static_assert(NR_ENTRIES < 32, "sysfs inode numbers");

static size_t entry_of(const struct inode *ino)
{
    return (size_t)((const struct sysfs_entry *)ino->proc.node - entries);
}

/* ---- files ------------------------------------------------------------------------ */

/* Linux's generic_file_llseek over the inode's size (4096), not the text's;
 * reads past the text find nothing. */
static long sysfs_lseek(struct file *f, int64_t off, int whence)
{
    struct file view = *f;
    view.size = SYSFS_FILE_SIZE;
    long r = file_lseek_fixed(&view, off, whence);
    f->pos = view.pos;
    return r;
}

static int sysfs_fstat(struct file *f, struct linux_stat *st)
{
    inode_stat(f->inode, st);
    return 0;
}

static void sysfs_release(struct file *f)
{
    kfree(f->data);
}

static const struct file_ops sysfs_file_ops = {
    .read = file_read_fixed,
    .lseek = sysfs_lseek,
    .stat = sysfs_fstat,
    .release = sysfs_release,
};

static int sysfs_open_file(struct inode *ino, unsigned flags, struct file **out)
{
    const struct sysfs_entry *e = ino->proc.node;
    char *text = kmalloc(SYSFS_FILE_SIZE, GFP_KERNEL);
    if (!text)
        return -ENOMEM;
    int r = e->show(e->arg == NODE_ARG ? ino->proc.pid : e->arg, text, SYSFS_FILE_SIZE);
    struct file *f = r >= 0 ? file_alloc(&sysfs_file_ops, flags, NULL) : NULL;
    if (!f) {
        kfree(text);
        return r < 0 ? r : -ENOMEM;
    }
    f->data = (const uint8_t *)text;
    f->size = MIN((size_t)r, SYSFS_FILE_SIZE - 1);   /* Linux cuts a longer text there */
    *out = f;
    return 0;
}

/* ---- directories ------------------------------------------------------------------ */

static int sysfs_lookup(struct inode *dir, const char *name, size_t len, struct inode **out);
static void sysfs_readdir(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx);

static const char *sysfs_dname(struct inode *dir)
{
    return dir->proc.text;
}

static void sysfs_dir_evict(struct inode *dir)
{
    inode_put(dir->parent);
}

static const struct inode_ops sysfs_root_iops = {
    .lookup = sysfs_lookup,
    .readdir = sysfs_readdir,
    .open = tmpfs_open_dir,
};
static const struct inode_ops sysfs_dir_iops = {
    .lookup = sysfs_lookup,
    .readdir = sysfs_readdir,
    .dname = sysfs_dname,
    .open = tmpfs_open_dir,
    .evict = sysfs_dir_evict,
};
static const struct inode_ops sysfs_file_iops = { .open = sysfs_open_file };

/* Entry i of node k as a directory entry's name: "nodeK" or its own. */
static int entry_name(size_t i, int k, char *buf, size_t size)
{
    return entries[i].per_node ? snprintf(buf, size, "node%d", k)
                               : snprintf(buf, size, "%s", entries[i].name);
}

/* Does directory entry d list entry i for node k?  Node directories
 * exist for k < nr_node_ids; other entries once (k 0). */
static bool listed(size_t d, size_t i, int k)
{
    if (entries[i].parent != (int)d)
        return false;
    return entries[i].per_node ? k < (int)nr_node_ids : k == 0;
}

/* A directory's links: ".", its name in the parent, each subdirectory's "..". */
static uint32_t dir_nlink(size_t d)
{
    uint32_t n = 2;
    for (size_t i = 0; i < NR_ENTRIES; i++)
        for (int k = 0; k < MAX_NUMNODES; k++)
            n += listed(d, i, k) && !entries[i].show;
    return n;
}

static int sysfs_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
    size_t d = entry_of(dir);
    for (size_t i = 0; i < NR_ENTRIES; i++) {
        for (int k = 0; k < MAX_NUMNODES; k++) {
            char buf[24];
            if (!listed(d, i, k) || (size_t)entry_name(i, k, buf, sizeof(buf)) != len ||
                memcmp(buf, name, len))
                continue;
            const struct sysfs_entry *e = &entries[i];
            int nid = e->per_node ? k : dir->proc.pid;
            uint32_t mode = e->show ? S_IFREG | 0444 : S_IFDIR | 0755;
            struct inode *ino = inode_new(&sysfs_fs, mode,
                                          e->show ? &sysfs_file_iops : &sysfs_dir_iops);
            if (!ino)
                return -ENOMEM;
            ino->ino = SYSFS_INO(i, nid);
            ino->proc.node = e;
            ino->proc.pid = nid;
            if (e->show) {
                ino->nlink = 1;
                ino->size = SYSFS_FILE_SIZE;
            } else {
                ino->nlink = dir_nlink(i);
                snprintf(ino->proc.text, sizeof(ino->proc.text), "%s", buf);
                ino->parent = inode_get(dir);   /* dropped by sysfs_dir_evict */
            }
            *out = ino;
            return 0;
        }
    }
    return -ENOENT;
}

/* getdents positions: 2 + entry * MAX_NUMNODES + node. */
static void sysfs_readdir(struct inode *dir, uint64_t *pos, filldir_fn fill, void *ctx)
{
    size_t d = entry_of(dir);
    for (; *pos >= 2 && *pos - 2 < NR_ENTRIES * MAX_NUMNODES; (*pos)++) {
        size_t i = (size_t)(*pos - 2) / MAX_NUMNODES;
        int k = (int)((*pos - 2) % MAX_NUMNODES);
        if (!listed(d, i, k))
            continue;
        char buf[24];
        int n = entry_name(i, k, buf, sizeof(buf));
        int nid = entries[i].per_node ? k : dir->proc.pid;
        unsigned type = IFTODT(entries[i].show ? S_IFREG : S_IFDIR);
        if (!fill(ctx, buf, (size_t)n, SYSFS_INO(i, nid), type, *pos + 1))
            return;
    }
}

/* ---- paths of sysfs's files (for /proc/<pid>/fd/<n>) --------------------------------- */

long sysfs_inode_path(const struct inode *ino, char *buf, size_t size)
{
    if (S_ISDIR(ino->mode) || !sysfs_fs.mountpoint)
        return -ENOENT;                 /* directories have dir_path */
    size_t chain[NR_ENTRIES], depth = 0;
    for (int i = (int)entry_of(ino); i != E_ROOT; i = entries[i].parent)
        chain[depth++] = (size_t)i;
    long n = dir_path(sysfs_fs.mountpoint, buf, size);
    if (n < 0)
        return n;
    if (n == 1)
        n = 0;                          /* mounted on "/"?  No doubled slash */
    while (depth--) {
        char name[24];
        entry_name(chain[depth], ino->proc.pid, name, sizeof(name));
        int k = snprintf(buf + n, size - (size_t)n, "/%s", name);
        if ((size_t)(n + k) >= size)
            return -ENAMETOOLONG;
        n += k;
    }
    return n;
}

/* ---- the mount --------------------------------------------------------------------- */

int sysfs_mount(struct inode *mountpoint)
{
    struct inode *root = inode_new(&sysfs_fs, S_IFDIR | 0555, &sysfs_root_iops);
    if (!root)
        return -ENOMEM;
    root->ino = SYSFS_INO(E_ROOT, 0);
    root->nlink = dir_nlink(E_ROOT);
    root->proc.node = &entries[E_ROOT];
    root->parent = root;
    sysfs_fs.root = root;              /* the mount's reference */
    sysfs_fs.mountpoint = inode_get(mountpoint);
    mountpoint->mounted = root;
    return 0;
}

void sysfs_unmount(void)
{
    if (!sysfs_fs.root)
        return;
    sysfs_fs.mountpoint->mounted = NULL;
    inode_put(sysfs_fs.mountpoint);
    sysfs_fs.mountpoint = NULL;
    inode_put(sysfs_fs.root);
    sysfs_fs.root = NULL;
}
