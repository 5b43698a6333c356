/* The file-system host tests' kernel services (tests/host/fs_host.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_host.h"
#include "fs_host.h"
#include "mm_host.h"
#include <compat32/mmu32.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/sbuf.h>
#include <kernel/task.h>
#include <kernel/vfs.h>
#include <mm/gfp.h>
#include <mm/vma.h>

int fs_host_maps_calls;
char fs_host_con[4096];
size_t fs_host_con_len;
uint64_t fs_host_clock_ns = 1000000000ul;

uint64_t now_ns(void)
{
    return fs_host_clock_ns;
}

/* The wall clock inode times read (kernel/fs/inode.c): the same clock here. */
int64_t realtime_ns(void)
{
    return (int64_t)fs_host_clock_ns;
}

/* ---- the boot hand-off: an initrd in host memory ---------------------------- */

const struct boot_info *boot_info;
static struct boot_info bi;

void fs_host_set_initrd(const void *buf, size_t len)
{
    memset(&bi, 0, sizeof(bi));
    if (buf) {
        /* phys_to_virt adds the direct-map base: take it away here (mod 2^64). */
        bi.initrd.phys = (uint64_t)(uintptr_t)buf - BOOT_DIRECT_MAP_BASE;
        bi.initrd.size = len;
    }
    boot_info = &bi;
}

static uint8_t ar[16384];
static size_t ar_len;

static void ar_put(const void *p, size_t n)
{
    if (ar_len + n > sizeof(ar))
        abort();
    memcpy(ar + ar_len, p, n);
    ar_len += n;
}

void fs_host_ar_begin(void)
{
    ar_len = 0;
}

void fs_host_ar_entry(const char *name, unsigned ino, unsigned mode, const char *data)
{
    char hdr[111];
    size_t dlen = data ? strlen(data) : 0;
    snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
             ino, mode, 0u, 0u, (mode & S_IFMT) == S_IFDIR ? 2u : 1u, 1700000000u,
             (unsigned)dlen, 0u, 0u, 0u, 0u, (unsigned)strlen(name) + 1, 0u);
    ar_put(hdr, 110);
    ar_put(name, strlen(name) + 1);
    while (ar_len % 4)
        ar_put("", 1);
    ar_put(data ? data : "", dlen);
    while (ar_len % 4)
        ar_put("", 1);
}

void fs_host_ar_end(void)
{
    fs_host_ar_entry("TRAILER!!!", 0, 0, NULL);
    fs_host_set_initrd(ar, ar_len);
}

/* ---- /proc's generators (weak: mm/mmstat.c's real ones win where linked) ---- */

__attribute__((weak)) int meminfo_show(char *buf, size_t size)
{
    return snprintf(buf, size, "%s", FS_MEMINFO_TEXT);
}

__attribute__((weak)) int swaps_show(char *buf, size_t size)
{
    return snprintf(buf, size, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
}

__attribute__((weak)) int buddyinfo_show(char *buf, size_t size)
{
    return snprintf(buf, size, "Node 0, zone   Normal 1 2 3\n");
}

__attribute__((weak)) int zoneinfo_show(char *buf, size_t size)
{
    return snprintf(buf, size, "Node 0, zone   Normal\n");
}

/* /sys's node files (kernel/fs/sysfs.c): one line each. */
__attribute__((weak)) int node_meminfo_show(int nid, char *buf, size_t size)
{
    return snprintf(buf, size, "Node %d MemTotal:        1024 kB\n", nid);
}

__attribute__((weak)) int node_numastat_show(int nid, char *buf, size_t size)
{
    return snprintf(buf, size, "numa_hit %d\n", nid);
}

__attribute__((weak)) int node_distance_show(int nid, char *buf, size_t size)
{
    (void)nid;
    return snprintf(buf, size, "10\n");
}

/* /proc/<pid>/numa_maps (kernel/fs/proc_numa_maps.c needs the memory
 * policies, which these tests do not link): an empty file. */
__attribute__((weak)) int proc_pid_numa_maps(struct task *t, char *buf, size_t size)
{
    (void)t;
    if (size)
        buf[0] = 0;
    return 0;
}

int vmallocinfo(char *buf, size_t size)
{
    return snprintf(buf, size, "%s", "");
}

int slabinfo(char *buf, size_t size)
{
    size_t n = 0;
    for (int i = 0; i < FS_BIG_LINES; i++) {
        char line[32];
        int k = snprintf(line, sizeof(line), "cache-%05d 1 2 3 4 5 6\n", i);
        if (n + (size_t)k < size)
            memcpy(buf + n, line, (size_t)k);
        n += (size_t)k;
    }
    if (size)
        buf[n < size ? n : size - 1] = 0;
    return (int)n;
}

int mm_maps(struct mm *mm, char *buf, size_t size)
{
    (void)mm;
    fs_host_maps_calls++;
    return snprintf(buf, size, "%s", FS_MAPS_TEXT);
}

/* Truncation's unmapping (mm/filemap.c): nothing maps a file in these
 * tests (kernel/fs/tmpfs_mmap.c is not linked), so it is never called. */
void unmap_mapping_pages(struct vm_mapping *m, uint64_t start, uint64_t nr)
{
    (void)m, (void)start, (void)nr;
    abort();
}

/* compat32's page-table dump: the fake mm of these tests is a 64-bit one. */
bool mm_is32(const struct mm *mm)
{
    (void)mm;
    return false;
}

void mmu32_dump(const struct mm *mm, uint64_t start, uint64_t end, struct sbuf *out)
{
    (void)mm, (void)start, (void)end, (void)out;
}

/* ---- the console: a file that records what is written ------------------------ */

static long con_write(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    (void)f, (void)fio;
    size_t k = n < sizeof(fs_host_con) - fs_host_con_len ? n : sizeof(fs_host_con) - fs_host_con_len;
    if (k)
        memcpy(fs_host_con + fs_host_con_len, (const void *)(uintptr_t)ubuf, k);
    fs_host_con_len += k;
    return (long)n;
}

static long con_read(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    (void)f, (void)ubuf, (void)n, (void)fio;
    return 0;
}

static int con_stat(struct file *f, struct linux_stat *st)
{
    (void)f;
    memset(st, 0, sizeof(*st));
    st->st_mode = S_IFCHR | 0620;
    st->st_rdev = LINUX_MKDEV(5, 1);
    return 0;
}

static const struct file_ops con_ops = { .read = con_read, .write = con_write, .stat = con_stat };

__attribute__((weak)) struct file *console_open(unsigned flags)
{
    return file_alloc(&con_ops, flags, NULL);
}

/* ---- set-up and leak check ----------------------------------------------------- */

static uint64_t inodes_before, proc_before;

void fs_host_setup(void)
{
    static const struct host_ram ram = { 1ul << 20, (1ul << 20) + FS_HOST_RAM };
    /* What a failed case left behind is not the next one's leak. */
    if (current && current->files) {
        files_close_all(current->files);
        current->files = NULL;
    }
    rootfs_teardown();
    inodes_before = inode_count();
    proc_before = procfs_fs.nr_inodes;
    static bool arena;
    if (arena) {
        mm_host_reset();                /* the same arena, a fresh allocator */
    } else {
        mm_host_init((FS_HOST_RAM >> 12) + 256, &ram, 1);
        arena = true;
    }
    fh_reset();
    fs_host_maps_calls = 0;
    fs_host_con_len = 0;
    fs_host_clock_ns = 1000000000ul;
    if (!boot_info)
        fs_host_set_initrd(NULL, 0);
    current->files = files_create_std();
    current->mm = (struct mm *)(uintptr_t)0x1000;     /* only passed to mm_maps */
    rootfs_init();
}

uint64_t fs_host_free_pages(void)
{
    return nr_free_pages();
}

const char *fs_host_teardown(void)
{
    static char why[160];
    static char check[160];
    if (tmpfs_check(check, sizeof(check))) {
        snprintf(why, sizeof(why), "tmpfs_check: %s", check);
        return why;
    }
    files_close_all(current->files);
    current->files = NULL;
    current->mm = NULL;
    rootfs_teardown();
    why[0] = 0;
    if (inode_count() != inodes_before)
        snprintf(why, sizeof(why), "%lu inodes left",
                 (unsigned long)(inode_count() - inodes_before));
    else if (pagecache_pages())
        snprintf(why, sizeof(why), "%lu page-cache pages left", pagecache_pages());
    else if (tmpfs_root_fs.nr_pages || tmpfs_root_fs.nr_inodes || procfs_fs.nr_inodes != proc_before)
        snprintf(why, sizeof(why), "tmpfs counts %lu pages, %lu inodes; procfs %lu inodes",
                 (unsigned long)tmpfs_root_fs.nr_pages, (unsigned long)tmpfs_root_fs.nr_inodes,
                 (unsigned long)procfs_fs.nr_inodes);
    else if (nr_free_pages() != FS_HOST_RAM >> 12)
        snprintf(why, sizeof(why), "%lu frames free, %lu expected",
                 (unsigned long)nr_free_pages(), FS_HOST_RAM >> 12);
    boot_info = NULL;
    return why[0] ? why : NULL;
}

long fs_host_call(long (*fn)(const struct sysargs *), const uint64_t *args)
{
    struct sysargs a;
    memcpy(a.arg, args, sizeof(a.arg));
    return fn(&a);
}
