/*
 * test_leak: processes give back everything they held.
 *
 * A round of work exercises most of what a process can make the kernel
 * allocate: fork with copy-on-write writes, MAP_SHARED memory, exec of a
 * program that maps, touches and grows its break, a child killed by
 * SIGSEGV, a failed execve, pipes, mmap/mprotect/munmap splits, system
 * calls given bad pointers.  After two rounds to settle, the free memory
 * (/proc/meminfo's MemFree plus the pages slab caches keep for later, from
 * /proc/slabinfo) and the sum of active slab objects are read, ten more
 * rounds run, and both are read again: on mmk they must be back at their
 * baseline (free memory within LEAK_TOLERANCE_KB, slab objects exactly).  On the host
 * other processes move these numbers, so there the two checks are skipped;
 * the work itself is checked everywhere.
 *
 *     test_leak            (argv[0] must be the program's path: it execs itself)
 */
#include "ut.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LEAK_TOLERANCE_KB 64
#define ROUNDS 10

static const char *self;

/* The exec'd program: map, touch, grow the break, exit 0. */
static int exec_child_main(void)
{
    char *p = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    memset(p, 1, 64 * PAGE);
    long b = syscall(SYS_brk, 0), want = b + 16 * (long)PAGE;
    if (syscall(SYS_brk, want) != want)
        return 2;
    memset((void *)b, 2, 16 * PAGE);
    return 0;                       /* exit without unmapping: exit frees it all */
}

static int cow_child(void *p)
{
    memset(p, 'c', 32 * PAGE);
    return 0;
}

static int segv_child(void *p)
{
    (void)p;
    volatile int *volatile null = NULL;
    *null = 1;
    return 0;
}

static int exec_child(void *p)
{
    (void)p;
    char *argv[] = { (char *)self, "--exec-child", NULL };
    char *envp[] = { NULL };
    execve(self, argv, envp);
    return 100;
}

static int bad_exec_child(void *p)
{
    (void)p;
    char *argv[] = { "/no/such/program", NULL };
    char *envp[] = { NULL };
    execve(argv[0], argv, envp);
    return errno == ENOENT ? 0 : 1;
}

/* One round; returns the number of things that went wrong. */
static int round_of_work(void)
{
    int bad = 0;
    char *priv = mmap(NULL, 32 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *shared = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (priv == MAP_FAILED || shared == MAP_FAILED)
        return 100;
    memset(priv, 'p', 32 * PAGE);
    memset(shared, 's', 4 * PAGE);
    bad += !ut_exited_with(ut_run_child(cow_child, priv), 0);
    bad += !ut_exited_with(ut_run_child(cow_child, priv), 0);
    bad += !ut_exited_with(ut_run_child(exec_child, NULL), 0);
    bad += !ut_killed_by(ut_run_child(segv_child, NULL), SIGSEGV);
    bad += !ut_exited_with(ut_run_child(bad_exec_child, NULL), 0);

    /* Splits and merges in our own address space. */
    bad += mprotect(priv + 4 * PAGE, 4 * PAGE, PROT_READ) != 0;
    bad += munmap(priv + 12 * PAGE, 2 * PAGE) != 0;
    bad += mprotect(priv, 32 * PAGE, PROT_READ | PROT_WRITE) != -1;   /* hole: ENOMEM */
    bad += munmap(priv, 32 * PAGE) != 0;
    bad += munmap(shared, 4 * PAGE) != 0;

    /* Pipes, and a bad pointer on the way. */
    int p[2];
    char buf[64];
    if (pipe(p) == 0) {
        bad += write(p[1], "leak", 4) != 4;
        bad += read(p[0], buf, sizeof buf) != 4;
        bad += write(p[1], "more", 4) != 4;
        bad += syscall(SYS_read, p[0], (void *)0, 16) != -1;      /* EFAULT */
        close(p[0]);
        close(p[1]);
    } else {
        bad++;
    }
    int fd = open("/proc/meminfo", O_RDONLY);
    if (fd >= 0) {
        bad += read(fd, buf, sizeof buf) <= 0;
        close(fd);
    }
    return bad;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--exec-child") == 0)
        return exec_child_main();
    ut_init();
    self = argv[0];
    int mmk = ut_on_mmk();

    int bad = round_of_work() + round_of_work();
    long free0 = ut_free_kb(), slab0 = ut_slab_objects();
    for (int i = 0; i < ROUNDS; i++)
        bad += round_of_work();
    long free1 = ut_free_kb(), slab1 = ut_slab_objects();
    ut_check(bad == 0, "rounds_of_work_succeed", "%d operations went wrong", bad);
    ut_note("MemFree + slab pages %ld -> %ld kB, slab objects %ld -> %ld", free0, free1, slab0,
            slab1);
    if (mmk) {
        ut_check(free0 > 0 && free1 >= free0 - LEAK_TOLERANCE_KB, "memfree_back_to_baseline",
                 "MemFree + slab pages: %ld kB before %d rounds, %ld kB after", free0, ROUNDS,
                 free1);
        ut_check(slab0 >= 0 && slab1 == slab0, "slab_objects_back_to_baseline",
                 "%ld active slab objects before %d rounds, %ld after", slab0, ROUNDS, slab1);
    } else {
        ut_skip("memfree_back_to_baseline", "MemFree on the host moves with other processes");
        ut_skip("slab_objects_back_to_baseline", "slab objects on the host move with other processes");
    }
    return ut_done();
}
