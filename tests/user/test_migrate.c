/*
 * test_migrate: a process watches its pages move (docs/compaction.md).
 *
 * With mmk's teaching switch /proc/sys/vm/user_zone set to DMA, the
 * process fills pages that land below 16 MiB (it reads their frame
 * numbers in /proc/self/pagemap), forks a child that shares them, then
 * asks the kernel to evacuate the DMA zone (/proc/sys/vm/evacuate_zone):
 * the contents stay, every frame number is now at or above 16 MiB, a
 * page shared by fork moved once (parent and child see the same new
 * frame, /proc/kpagecount says 2), and a 32-bit process sees the new
 * frame in its i386 PTE (/proc/self/pagetable32).  Last, Linux's
 * /proc/sys/vm/compact_memory takes "1" and refuses "2" (EINVAL).
 *
 * On the host (the oracle) the mmk-only files do not exist, the zone
 * cannot be chosen and PFNs may read 0: those checks print # SKIP; the
 * contents and compact_memory (where the host lets us write it) are
 * checked on both.
 */
#include "ut.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NPAGES 32
#define DMA_END_PFN (16UL << 20 >> 12)

static int is32(void)
{
    return sizeof(void *) == 4;
}

/* Write text to a /proc file: 0, or -1 with errno. */
static int put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* The first line of a /proc file into buf ("" when unreadable). */
static void get(const char *path, char *buf, size_t size)
{
    buf[0] = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
}

/* The pagemap entry of va (0 when unreadable). */
static uint64_t pagemap(uintptr_t va)
{
    uint64_t e = 0;
    int fd = open("/proc/self/pagemap", O_RDONLY);
    if (fd < 0)
        return 0;
    if (pread(fd, &e, 8, (off_t)(va / PAGE) * 8) != 8)
        e = 0;
    close(fd);
    return e;
}

static uint64_t pfn_of(const void *p)
{
    uint64_t e = pagemap((uintptr_t)p);
    return (e >> 63) ? e & ((1ULL << 55) - 1) : ~0ULL;
}

static uint64_t kpagecount(uint64_t pfn)
{
    uint64_t n = ~0ULL;
    int fd = open("/proc/kpagecount", O_RDONLY);
    if (fd < 0)
        return n;
    if (pread(fd, &n, 8, (off_t)(pfn * 8)) != 8)
        n = ~0ULL;
    close(fd);
    return n;
}

static uint64_t word(const char *region, unsigned page, unsigned i)
{
    return ((uint64_t)page << 32) ^ (i * 2654435761u) ^ (uintptr_t)region;
}

static void fill(char *region)
{
    for (unsigned p = 0; p < NPAGES; p++)
        for (unsigned i = 0; i < PAGE / 8; i++)
            ((uint64_t *)(region + p * PAGE))[i] = word(region, p, i);
}

static int intact(const char *region)
{
    for (unsigned p = 0; p < NPAGES; p++)
        for (unsigned i = 0; i < PAGE / 8; i++)
            if (((const uint64_t *)(region + p * PAGE))[i] != word(region, p, i))
                return 0;
    return 1;
}

/* Every page's frame below 16 MiB (low) or at or above it (!low). */
static int frames_where(const char *region, int low, uint64_t *pfns)
{
    int ok = 1;
    for (unsigned p = 0; p < NPAGES; p++) {
        pfns[p] = pfn_of(region + p * PAGE);
        if (pfns[p] == ~0ULL || (low ? pfns[p] >= DMA_END_PFN : pfns[p] < DMA_END_PFN))
            ok = 0;
    }
    return ok;
}

/* In /proc/self/pagetable32: the frame the PTE of va names, or ~0. */
static uint64_t pte32_frame(uintptr_t va)
{
    static char text[1 << 16];
    int fd = open("/proc/self/pagetable32", O_RDONLY);
    if (fd < 0)
        return ~0ULL;
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(text) - 1 && (n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    text[len] = 0;
    char key[40];
    snprintf(key, sizeof(key), "  %08lx  frame ", (unsigned long)va);
    const char *at = strstr(text, key);
    return at ? strtoull(at + strlen(key), NULL, 16) : ~0ULL;
}

int main(void)
{
    ut_init();
    int mmk = ut_on_mmk();
    char *region = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!ut_check(region != MAP_FAILED, "mmap", "errno %s", ut_errno_name(errno)))
        return ut_done();

    /* Fill the pages from the DMA zone. */
    char text[256];
    if (mmk) {
        int r = put("/proc/sys/vm/user_zone", "DMA\n");
        ut_check(r == 0, "user_zone_dma", "write: %s", ut_errno_name(errno));
        get("/proc/sys/vm/user_zone", text, sizeof(text));
        ut_check(strcmp(text, "DMA\n") == 0, "user_zone_reads_dma", "read \"%s\"", text);
    } else {
        ut_skip("user_zone_dma", "mmk's switch");
        ut_skip("user_zone_reads_dma", "mmk's switch");
    }
    fill(region);
    if (mmk) {
        int r = put("/proc/sys/vm/user_zone", "Normal");
        ut_check(r == 0, "user_zone_restored", "write: %s", ut_errno_name(errno));
        r = put("/proc/sys/vm/user_zone", "HighMem");
        ut_check_errno("user_zone_bad_name", r, EINVAL);
    } else {
        ut_skip("user_zone_restored", "mmk's switch");
        ut_skip("user_zone_bad_name", "mmk's switch");
    }
    uint64_t before[NPAGES], after[NPAGES];
    int low = frames_where(region, 1, before);
    if (mmk)
        ut_check(low, "frames_below_16M", "page 0 at pfn %#llx", (unsigned long long)before[0]);
    else
        ut_skip("frames_below_16M", "no zone switch on the host");

    /* A child shares the pages (copy-on-write) and reports its frames. */
    int to_child[2], to_parent[2];
    if (pipe(to_child) || pipe(to_parent))
        return ut_check(0, "pipes", "%s", ut_errno_name(errno)), ut_done();
    pid_t pid = ut_fork();
    if (pid == 0) {
        char go;
        uint64_t f;
        /* Before and after the evacuation: the frame of page 3, and the
         * contents (a child never prints). */
        f = pfn_of(region + 3 * PAGE);
        ut_write_full(to_parent[1], &f, sizeof(f));
        if (read(to_child[0], &go, 1) != 1)
            _exit(2);
        f = intact(region) ? pfn_of(region + 3 * PAGE) : ~0ULL - 1;
        ut_write_full(to_parent[1], &f, sizeof(f));
        if (read(to_child[0], &go, 1) != 1)
            _exit(2);
        _exit(0);
    }
    ut_check(pid > 0, "fork", "errno %s", ut_errno_name(errno));
    /* The child's frame before the evacuation, read before it starts. */
    uint64_t f[2] = { 0, 0 };
    int got = pid > 0 && ut_read_full(to_parent[0], &f[0], sizeof(f[0])) == 0;

    /* Empty the DMA zone. */
    if (mmk) {
        int r = put("/proc/sys/vm/evacuate_zone", "DMA\n");
        ut_check(r == 0, "evacuate_dma", "write: %s", ut_errno_name(errno));
        get("/proc/sys/vm/evacuate_zone", text, sizeof(text));
        ut_check(strncmp(text, "zone DMA frames ", 16) == 0, "evacuate_reads_result",
                 "read \"%s\"", text);
        ut_note("%s", strtok(text, "\n") ? text : "");
        r = put("/proc/sys/vm/evacuate_zone", "Nowhere");
        ut_check_errno("evacuate_bad_name", r, EINVAL);
    } else {
        ut_skip("evacuate_dma", "mmk's file");
        ut_skip("evacuate_reads_result", "mmk's file");
        ut_skip("evacuate_bad_name", "mmk's file");
    }
    ut_check(intact(region), "contents_kept", "a page changed");
    int high = frames_where(region, 0, after);
    if (mmk)
        ut_check(high, "frames_above_16M", "page 0 at pfn %#llx", (unsigned long long)after[0]);
    else
        ut_skip("frames_above_16M", "no zone switch on the host");
    char go = 1;
    got = got && write(to_child[1], &go, 1) == 1 &&
          ut_read_full(to_parent[0], &f[1], sizeof(f[1])) == 0;
    ut_check(got && f[1] != ~0ULL - 1, "child_contents_kept", "the child's pages changed");
    if (mmk) {
        ut_check(f[0] == before[3] && f[1] == after[3], "shared_page_moved_once",
                 "child %#llx -> %#llx, parent %#llx -> %#llx", (unsigned long long)f[0],
                 (unsigned long long)f[1], (unsigned long long)before[3],
                 (unsigned long long)after[3]);
        uint64_t n = kpagecount(after[3]);
        ut_check(n == 2, "shared_page_kpagecount", "kpagecount %llu", (unsigned long long)n);
    } else {
        ut_skip("shared_page_moved_once", "PFNs are mmk's here");
        ut_skip("shared_page_kpagecount", "PFNs are mmk's here");
    }
    int done = write(to_child[1], &go, 1) == 1 && ut_exited_with(ut_wait(pid), 0);
    ut_check(done, "child_exit", "the child did not finish");
    if (is32()) {
        if (mmk) {
            uint64_t pte = pte32_frame((uintptr_t)(region + 3 * PAGE));
            ut_check(pte == after[3], "pagetable32_new_frame", "PTE frame %#llx, pagemap %#llx",
                     (unsigned long long)pte, (unsigned long long)after[3]);
        } else {
            ut_skip("pagetable32_new_frame", "mmk's file");
        }
    }

    /* Linux's compact_memory: 1 compacts, anything else is refused. */
    int fd = open("/proc/sys/vm/compact_memory", O_WRONLY);
    if (fd >= 0 || mmk) {
        if (fd >= 0)
            close(fd);
        int r = put("/proc/sys/vm/compact_memory", "1\n");
        ut_check(r == 0, "compact_memory_1", "write: %s", ut_errno_name(errno));
        r = put("/proc/sys/vm/compact_memory", "2\n");
        ut_check_errno("compact_memory_2", r, EINVAL);
    } else {
        ut_note("compact_memory: %s on the host", ut_errno_name(errno));
        ut_skip("compact_memory_1", "not writable here");
        ut_skip("compact_memory_2", "not writable here");
    }
    ut_check(intact(region), "contents_after_compaction", "a page changed");
    munmap(region, NPAGES * PAGE);
    return ut_done();
}
