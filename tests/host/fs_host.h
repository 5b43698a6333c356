/*
 * What the file-system host tests share (tests/host/fs_host.c): the
 * kernel services kernel/fs/ needs beyond file_host.c's, over the host
 * page allocator of mm_host.c, so that tmpfs's pages are real frames of
 * a private "physical memory" and a leak shows in the free count.
 *
 *  - fs_host_setup(): a fresh page allocator (FS_HOST_RAM bytes of RAM),
 *    a fresh current task with the three standard descriptors, the
 *    initrd set by fs_host_set_initrd (NULL: none), and the root tmpfs
 *    seeded from it;
 *  - fs_host_teardown(): every descriptor closed, the tree thrown away
 *    (rootfs_teardown), then a leak check: no inode, no page-cache page
 *    and every frame back (returns a problem, or NULL);
 *  - the /proc generators' stand-ins, with fixed texts (FS_MEMINFO_TEXT...),
 *    and a console file that records what is written (fs_host_con).
 */
#ifndef FS_HOST_H
#define FS_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <kernel/syscall.h>

#define FS_HOST_RAM (64ul << 20)
#define FS_MEMINFO_TEXT "MemTotal:        1024 kB\nMemFree:          512 kB\n"
#define FS_MAPS_TEXT "00400000-00401000 r-xp 00000000 00:01 5 /bin/init\n"
#define FS_BIG_LINES 800         /* slabinfo: 800 lines of 24 bytes, beyond 4 KiB */
/* The record files' stand-ins (tests/host/proc_host.c): pagemap's length
 * in records, and record i of file k (0 pagemap, 1 kpagecount, 2 kpageflags). */
#define PROC_HOST_PAGES 1000ul
#define PROC_HOST_RECORD(k, i) (((uint64_t)(k) << 60) | ((uint64_t)(i) * 3 + 1))
extern int proc_host_compactions;    /* compact_memory's stand-in's calls */

extern int fs_host_maps_calls;
extern char fs_host_con[4096];
extern size_t fs_host_con_len;
extern uint64_t fs_host_clock_ns;   /* what now_ns() returns; tests move it */

void fs_host_set_initrd(const void *buf, size_t len);
void fs_host_setup(void);
const char *fs_host_teardown(void);
/* Frames free in the host allocator now. */
uint64_t fs_host_free_pages(void);

/* Call a system call handler as the dispatcher would. */
#define SYS(fn, ...) fs_host_call(fn, (uint64_t[6]){ __VA_ARGS__ })
long fs_host_call(long (*fn)(const struct sysargs *), const uint64_t *args);
#define ARG(x) ((uint64_t)(int64_t)(x))

/* A newc archive built in memory: entries, then fs_host_ar_end(). */
void fs_host_ar_begin(void);
void fs_host_ar_entry(const char *name, unsigned ino, unsigned mode, const char *data);
void fs_host_ar_end(void);

#endif
