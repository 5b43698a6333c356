/*
 * test_swapout: memory larger than the machine, through swap
 * (docs/reclaim.md).  Run by the swap-pressure and oom boots of
 * tests/run_all.py, never by the host oracle (it would use three times
 * the host's RAM):
 *
 *     test_swapout          with a swap area: three times MemTotal of
 *                           patterned data (1.5 times for the 32-bit
 *                           build) written and read back exactly by a
 *                           child; a forked child shares then changes
 *                           half of a swapped region (1.1 times MemTotal)
 *                           while the parent's stays; every used slot has
 *                           an owner afterwards (/proc/swaps against every
 *                           VmSwap and SwapCached); pages did go out and
 *                           come back (/proc/vmstat); tmpfs pages go to
 *                           swap too: MAP_SHARED anonymous memory shared
 *                           by a child and a /tmp file pushed out by
 *                           fresh anonymous memory come back right, and
 *                           their slots go with them; swapoff with pages
 *                           out brings them back, right, and swapon again
 *     test_swapout oom      without swap: of two children, a small one
 *                           waiting and a big one touching twice MemTotal,
 *                           the OOM killer kills the big one (SIGKILL: the
 *                           largest, Linux's oom_badness), and the small
 *                           one and we (init, never chosen) go on
 */
#include "ut.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>
#include <errno.h>
#include <sys/swap.h>
#include <time.h>
#include <fcntl.h>



/* Used swap nobody owns, in kB (ut_swap_unowned): below 0 only for pages
 * read ahead, counted twice, which is no leak either. */
static long unowned_swap(void)
{
    long lost = ut_swap_unowned();
    return lost > 0 ? lost : 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t pattern(uint64_t i, uint64_t seed)
{
    return (i * 0x9e3779b97f4a7c15ull) ^ seed;
}

/* Pages first .. first + pages - 1 of the region at p: a word per cache
 * line, its value from the word's index in the region and the seed. */
static void fill_range(uint64_t *p, size_t first, size_t pages, uint64_t seed)
{
    for (size_t i = first; i < first + pages; i++)
        for (size_t k = 0; k < PAGE / 8; k += 64)
            p[i * (PAGE / 8) + k] = pattern(i * 512 + k, seed);
}

/* Pages of that range whose words differ from the pattern. */
static size_t bad_range(const uint64_t *p, size_t first, size_t pages, uint64_t seed)
{
    size_t bad = 0;
    for (size_t i = first; i < first + pages; i++)
        for (size_t k = 0; k < PAGE / 8; k += 64)
            if (p[i * (PAGE / 8) + k] != pattern(i * 512 + k, seed)) {
                bad++;
                break;
            }
    return bad;
}

static void fill(uint64_t *p, size_t pages, uint64_t seed)
{
    fill_range(p, 0, pages, seed);
}

static size_t bad_pages(const uint64_t *p, size_t pages, uint64_t seed)
{
    return bad_range(p, 0, pages, seed);
}

static void *anon(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* In a child: more than the RAM written and read back; its exit must
 * free every slot it used. */
/* How many times the RAM the big region is, in quarters: 3x for 64-bit
 * programs (384 MiB through a 128 MiB machine), 1.5x for 32-bit ones, so
 * that the boot running both stays short (each page goes out and comes
 * back through an emulated disk). */
#define TIMES_RAM_X4 (sizeof(void *) == 8 ? 12 : 6)

static void more_than_ram(long mem_kb)
{
    size_t bytes = (size_t)mem_kb * 1024 / 4 * TIMES_RAM_X4, pages = bytes / PAGE;
    long out0 = ut_proc_field("/proc/vmstat", "pswpout"), in0 = ut_proc_field("/proc/vmstat", "pswpin");
    double t0 = now();
    pid_t c = fork();
    if (c == 0) {
        uint64_t *p = anon(bytes);
        if (!p)
            _exit(1);
        fill(p, pages, 1);
        _exit(bad_pages(p, pages, 1) ? 2 : 0);
    }
    int st = 0;
    waitpid(c, &st, 0);
    ut_check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "more_than_ram_reads_back",
             "child status %#x (1: mmap of %zu MiB failed, 2: wrong data)", st, bytes >> 20);
    long out = ut_proc_field("/proc/vmstat", "pswpout") - out0;
    long in = ut_proc_field("/proc/vmstat", "pswpin") - in0;
    ut_check(out > (long)(pages / 2) && in > (long)(pages / 4), "pages_went_out_and_came_back",
             "pswpout +%ld, pswpin +%ld for %zu pages", out, in, pages);
    long lost = unowned_swap();
    ut_check(lost == 0, "exit_frees_every_slot", "%ld kB of swap used by nobody", lost);
    ut_note("%zu MiB through swap in %.1f s: %ld pages out, %ld in", bytes >> 20, now() - t0,
            out, in);
}

static void fork_shares_swapped(long mem_kb)
{
    size_t bytes = (size_t)mem_kb * 1024 / 10 * 11, pages = bytes / PAGE;   /* 1.1x RAM */
    double t0 = now();
    uint64_t *p = anon(bytes);
    if (!p) {
        ut_check(0, "fork_region", "mmap failed");
        return;
    }
    fill(p, pages, 7);                 /* most of it is on disk now */
    pid_t c = fork();
    if (c == 0) {
        int bad = bad_pages(p, pages, 7) != 0;
        fill(p, pages / 2, 8);         /* the child's own copy of the first half */
        bad |= (bad_pages(p, pages / 2, 8) != 0) << 1;
        bad |= (bad_range(p, pages / 2, pages - pages / 2, 7) != 0) << 2;
        _exit(bad);
    }
    int st = 0;
    waitpid(c, &st, 0);
    ut_check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child_sees_then_changes_its_copy",
             "status %#x", st);
    size_t bad = bad_pages(p, pages, 7);
    ut_check(bad == 0, "parent_keeps_its_data", "%zu pages wrong", bad);
    munmap(p, bytes);
    long lost = unowned_swap();
    ut_check(lost == 0, "exit_and_munmap_free_every_slot", "%ld kB of swap used by nobody",
             lost);
    ut_note("fork over %zu MiB swapped: %.1f s", bytes >> 20, now() - t0);
}

/* tmpfs is swap-backed (kernel/fs/tmpfs_swap.c): a MAP_SHARED anonymous
 * region of a quarter of the RAM shared with a child, and a /tmp file of
 * a fifth of it, go to swap when fresh anonymous memory of 7/8 of the RAM
 * is written after them (they are then the pages nobody used lately), and
 * come back right.  Slots of tmpfs pages belong to no process (VmSwap
 * leaves shmem out, as on Linux), so while they are out some swap is
 * owned by nobody, and none once the file and the region are gone. */
static void shmem_through_swap(long mem_kb)
{
    size_t push = (size_t)mem_kb * 1024 / 8 * 7, pp = push / PAGE;
    size_t shared = (size_t)mem_kb * 1024 / 4, sp = shared / PAGE;
    size_t file = (size_t)mem_kb * 1024 / 5, fp = file / PAGE;
    double t0 = now();
    uint64_t *p = mmap(NULL, shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint64_t *q = anon(push);
    if (p == MAP_FAILED || !q) {
        ut_check(0, "shmem_regions", "mmap failed");
        return;
    }
    fill(p, sp, 22);
    fill(q, pp, 21);                   /* the shared pages, colder, go out */
    long shared_kb = ut_proc_field("/proc/meminfo", "Shmem");
    ut_check(shared_kb < (long)(shared / 1024), "shared_anon_went_to_swap",
             "Shmem %ld kB for a %zu kB region", shared_kb, shared / 1024);
    munmap(q, push);
    pid_t c = fork();
    if (c == 0) {
        int bad = bad_pages(p, sp, 22) != 0;
        fill(p, sp / 2, 23);           /* the parent must see these */
        _exit(bad);
    }
    int st = 0;
    waitpid(c, &st, 0);
    ut_check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "shared_anon_child_reads_back",
             "child status %#x", st);
    size_t bad = bad_pages(p, sp / 2, 23) + bad_range(p, sp / 2, sp - sp / 2, 22);
    ut_check(bad == 0, "shared_anon_parent_sees_child_writes", "%zu pages wrong", bad);
    munmap(p, shared);

    /* A file in /tmp, written with write() and read back with read(). */
    char path[64];
    snprintf(path, sizeof path, "/tmp/swapout.%d", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    uint64_t *page = anon(PAGE);
    size_t wrong = 0, io = 0;
    for (size_t i = 0; fd >= 0 && page && i < fp; i++) {
        for (size_t k = 0; k < PAGE / 8; k += 64)
            page[k] = pattern(i * 512 + k, 24);
        io += write(fd, page, PAGE) != (ssize_t)PAGE;
    }
    q = anon(push);
    if (q)
        fill(q, pp, 25);               /* the file's pages, colder, go out */
    long shmem_kb = ut_proc_field("/proc/meminfo", "Shmem");
    long nobody = unowned_swap();
    if (q)
        munmap(q, push);
    for (size_t i = 0; fd >= 0 && page && i < fp; i++) {
        io += pread(fd, page, PAGE, (off_t)(i * PAGE)) != (ssize_t)PAGE;
        for (size_t k = 0; k < PAGE / 8; k += 64)
            if (page[k] != pattern(i * 512 + k, 24)) {
                wrong++;
                break;
            }
    }
    ut_check(fd >= 0 && page && io == 0 && wrong == 0, "tmpfs_file_reads_back_from_swap",
             "fd %d, %zu short reads or writes, %zu pages wrong", fd, io, wrong);
    ut_check(q && shmem_kb < (long)(file / 1024) && nobody > 0, "tmpfs_pages_went_to_swap",
             "Shmem %ld kB for a %zu kB file, %ld kB of swap held by files", shmem_kb,
             file / 1024, nobody);
    if (fd >= 0)
        close(fd);
    unlink(path);
    if (page)
        munmap(page, PAGE);
    long lost = unowned_swap();
    ut_check(lost == 0, "unlink_and_munmap_free_tmpfs_slots", "%ld kB of swap used by nobody",
             lost);
    ut_note("tmpfs through swap (%zu MiB shared, %zu MiB file): %.1f s", shared >> 20,
            file >> 20, now() - t0);
}

static void oom(long mem_kb)
{
    /* The small one: 64 pages of its own, kept until we say. */
    int ready[2], go[2];
    char x = 1;
    if (pipe(ready) || pipe(go)) {
        ut_check(0, "oom_pipes", "pipe failed");
        return;
    }
    pid_t small = fork();
    if (small == 0) {
        uint64_t *p = anon(64 * PAGE);
        if (!p)
            _exit(1);
        fill(p, 64, 9);
        write(ready[1], &x, 1);
        read(go[0], &x, 1);
        _exit(bad_pages(p, 64, 9) ? 2 : 0);
    }
    read(ready[0], &x, 1);
    pid_t c = fork();
    if (c == 0) {
        /* In pieces: one mapping larger than RAM and swap would be
         * refused at mmap (the overcommit heuristic), not faulted. */
        size_t piece = (size_t)mem_kb * 1024 / 4;
        for (int i = 0; i < 8; i++) {
            uint64_t *p = anon(piece);
            if (p)
                fill(p, piece / PAGE, 3);
        }
        _exit(0);                      /* not reached: killed first */
    }
    int st = 0;
    waitpid(c, &st, 0);
    ut_check(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "oom_killer_kills_the_big_one",
             "status %#x", st);
    /* The small one was never chosen: still there, its memory intact. */
    pid_t w = waitpid(small, &st, WNOHANG);
    write(go[1], &x, 1);
    if (w == 0)
        waitpid(small, &st, 0);
    ut_check(w == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "oom_small_one_survives",
             "waitpid(WNOHANG) = %d, status %#x", (int)w, st);
    long kills = ut_proc_field("/proc/vmstat", "oom_kill");
    ut_check(kills >= 1, "oom_kill_counted", "oom_kill %ld", kills);
    /* And we go on: a little more memory works. */
    uint64_t *q = anon(64 * PAGE);
    ut_check(q != NULL, "survivor_goes_on", "no memory left");
    if (q) {
        fill(q, 64, 5);
        ut_check(bad_pages(q, 64, 5) == 0, "survivor_memory_ok", "wrong data");
    }
}

/* The path of the first swap area (/proc/swaps), or "" when none. */
static void first_area(char path[256])
{
    path[0] = 0;
    FILE *f = fopen("/proc/swaps", "r");
    char line[256];
    if (f && fgets(line, sizeof line, f) && fgets(line, sizeof line, f))
        sscanf(line, "%255s", path);
    if (f)
        fclose(f);
}

/* swapoff with pages out: they come back (Linux's try_to_unuse), the
 * owner reads them right, and swapon gives the area back. */
static void swapoff_brings_back(long mem_kb)
{
    char dev[256];
    first_area(dev);
    size_t bytes = (size_t)mem_kb * 1024 / 10 * 11, pages = bytes / PAGE, half = pages / 2;
    int go[2], ready[2];
    if (pipe(go) || pipe(ready)) {
        ut_check(0, "swapoff_pipes", "pipe failed");
        return;
    }
    pid_t c = fork();
    if (c == 0) {
        uint64_t *p = anon(bytes);
        if (!p)
            _exit(1);
        fill(p, pages, 11);
        /* The first half goes (most of it is on disk); the second half
         * is partly on disk, and there is room in RAM to bring it back. */
        munmap(p, half * PAGE);
        char x = 1;
        write(ready[1], &x, 1);
        read(go[0], &x, 1);
        _exit(bad_range(p, half, pages - half, 11) ? 2 : 0);
    }
    char x;
    read(ready[0], &x, 1);
    long swapped = ut_swap_used();
    int r = swapoff(dev);
    ut_check(r == 0 && ut_swap_used() == -1, "swapoff_with_pages_out",
             "swapoff(%s) = %d (errno %d), %ld kB were out", dev, r, errno, swapped);
    write(go[1], &x, 1);
    int st = 0;
    waitpid(c, &st, 0);
    ut_check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "pages_back_from_swapoff_are_right",
             "child status %#x", st);
    ut_check(swapon(dev, 0) == 0, "swapon_again", "swapon(%s): errno %d", dev, errno);
    ut_note("swapoff brought back up to %ld kB", swapped);
}

int main(int argc, char **argv)
{
    ut_init();
    long mem_kb = ut_proc_field("/proc/meminfo", "MemTotal");
    long swap_kb = ut_proc_field("/proc/meminfo", "SwapTotal");
    if (argc > 1 && !strcmp(argv[1], "oom")) {
        ut_check(swap_kb == 0, "no_swap", "SwapTotal %ld kB", swap_kb);
        oom(mem_kb);
        return ut_done();
    }
    ut_check(swap_kb > mem_kb * 3, "swap_area_on", "SwapTotal %ld kB for MemTotal %ld kB",
             swap_kb, mem_kb);
    if (swap_kb <= mem_kb * 3)
        return ut_done();
    more_than_ram(mem_kb);
    fork_shares_swapped(mem_kb);
    shmem_through_swap(mem_kb);
    swapoff_brings_back(mem_kb);
    return ut_done();
}
