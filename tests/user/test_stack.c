/*
 * test_stack: the stack that grows down, and the argument limit of
 * execve (docs/address-spaces.md, "The stack"; docs/exec.md).
 *
 * The main stack starts small ([stack] in /proc/self/maps is less than
 * 1 MiB) and a deep recursion makes it grow, page by page, as far as
 * RLIMIT_STACK: 4 MiB of recursion works and the [stack] line grows with
 * it; past a lowered limit the recursion dies with SIGSEGV, and a raised
 * limit lets it go deeper.  Growth keeps Linux's guard gap (256 pages)
 * from an accessible mapping below (SIGSEGV), but not from a PROT_NONE
 * one.  A MAP_GROWSDOWN mapping grows the same way when touched below,
 * within the limit.
 *
 * execve's limit on argv and envp: a quarter of RLIMIT_STACK (at least
 * 32 pages, at most 6 MiB), the strings and one 8-byte pointer each
 * counted: 1.5 MiB of arguments run with the usual 8 MiB limit, 2.5 MiB
 * get E2BIG, and so do too many empty strings (the pointers count); one
 * string of 128 KiB (MAX_ARG_STRLEN, its NUL included) passes and one
 * byte more does not; a 1 MiB limit allows 200 KiB but not 300 KiB.
 * Sizes keep a margin from the limits, so that the host's larger
 * environment changes nothing.
 */
#define _GNU_SOURCE
#include "ut.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define KIB 1024UL
#define MIB (1024UL * 1024)

static const char *self;
static volatile int sink;

/* The [stack] line's start and end. */
static int stack_range(uintptr_t *lo, uintptr_t *hi)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long s, e;
        if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &s, &e) == 2) {
            *lo = s;
            *hi = e;
            found = 1;
        }
    }
    if (f)
        fclose(f);
    return found;
}

/* Recurse through `bytes` of stack, 4 KiB a frame, touching each page. */
#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int recurse(long bytes)
{
    volatile char frame[4000];
    frame[0] = (char)bytes;
    frame[sizeof frame - 1] = (char)bytes;
    __asm__ volatile("" : : "r"(frame) : "memory");
    if (bytes <= 4096)
        return frame[0];
    return recurse(bytes - 4096) + frame[sizeof frame - 1];
}

static int recurse_child(void *arg)
{
    sink = recurse((long)(uintptr_t)arg);
    return 0;
}

static int with_limit(long limit, long depth)
{
    struct rlimit r = { (rlim_t)limit, RLIM_INFINITY };
    if (setrlimit(RLIMIT_STACK, &r))
        return 90;
    sink = recurse(depth);
    return 0;
}

static int limit_1m_depth_2m(void *arg)
{
    (void)arg;
    return with_limit(1 * MIB, 2 * MIB);
}

static int limit_16m_depth_12m(void *arg)
{
    (void)arg;
    return with_limit(16 * MIB, 12 * MIB);
}

/* A mapping 256 KiB below the stack (prot given), then a recursion that
 * needs the stack to grow down 128 KiB past where it is. */
static int below_stack(int prot)
{
    uintptr_t lo, hi;
    if (!stack_range(&lo, &hi))
        return 91;
    void *p = mmap((void *)(lo - 256 * KIB), 4096, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED)
        return 92;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    sink = recurse((long)(sp - lo) + 128 * (long)KIB);
    return 0;
}

static int accessible_below(void *arg)
{
    (void)arg;
    return below_stack(PROT_READ);
}

static int prot_none_below(void *arg)
{
    (void)arg;
    return below_stack(PROT_NONE);
}

static void main_stack(void)
{
    uintptr_t lo = 0, hi = 0;
    int found = stack_range(&lo, &hi);
    ut_check(found, "maps_has_a_stack_line", "no [stack]");
    ut_check(found && hi - lo < 1 * MIB, "stack_starts_small", "%lu KiB",
             (unsigned long)((hi - lo) / KIB));
    /* the children first, while this stack is still small (they inherit it) */
    int st = ut_run_child(limit_1m_depth_2m, NULL);
    ut_check(ut_killed_by(st, SIGSEGV), "recursion_past_rlimit_stack_segv", "status %#x", st);
    st = ut_run_child(limit_16m_depth_12m, NULL);
    ut_check(ut_exited_with(st, 0), "raised_rlimit_stack_lets_it_grow", "status %#x", st);
    st = ut_run_child(accessible_below, NULL);
    ut_check(ut_killed_by(st, SIGSEGV), "growth_keeps_the_guard_gap", "status %#x", st);
    st = ut_run_child(prot_none_below, NULL);
    ut_check(ut_exited_with(st, 0), "no_gap_above_a_prot_none_mapping", "status %#x", st);
    ut_check(ut_exited_with(ut_run_child(recurse_child, (void *)(uintptr_t)(6 * MIB)), 0),
             "child_recursion_of_6_mib_works", "died");
    sink = recurse(4 * MIB);
    uintptr_t lo2 = 0, hi2 = 0;
    found = stack_range(&lo2, &hi2);
    ut_check(1, "recursion_of_4_mib_works", "(it did not crash)");
    ut_check(found && hi2 == hi && hi2 - lo2 >= 3 * MIB + MIB / 2,
             "stack_grew_down_by_the_recursion", "%lu KiB", (unsigned long)((hi2 - lo2) / KIB));
}

/* ---- MAP_GROWSDOWN ---------------------------------------------------------------------- */

static char *gd;   /* the top page of a MAP_GROWSDOWN mapping, 16 MiB free below */

static int touch_below(void *arg)
{
    gd[-(long)(uintptr_t)arg] = 1;
    return gd[-(long)(uintptr_t)arg] == 1 ? 0 : 1;
}

static void growsdown(void)
{
    char *r = mmap(NULL, 16 * MIB + 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(r, 16 * MIB);
    gd = mmap(r + 16 * MIB, 4096, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, -1, 0);
    ut_check(gd == r + 16 * MIB, "map_growsdown_maps", "%p", (void *)gd);
    ut_check(ut_exited_with(ut_run_child(touch_below, (void *)1), 0),
             "growsdown_grows_on_the_page_below", "died");
    ut_check(ut_exited_with(ut_run_child(touch_below, (void *)(2 * MIB)), 0),
             "growsdown_grows_2_mib_down", "died");
    ut_check(ut_killed_by(ut_run_child(touch_below, (void *)(9 * MIB)), SIGSEGV),
             "growsdown_stops_at_rlimit_stack", "survived");
    gd[-1] = 5;
    uintptr_t want = (uintptr_t)gd - 4096;
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int seen = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long s, e;
        if (sscanf(line, "%lx-%lx", &s, &e) == 2 && e == (uintptr_t)gd + 4096)
            seen = s == want;
    }
    if (f)
        fclose(f);
    ut_check(seen, "growsdown_mapping_starts_lower_in_maps", "not grown");
    munmap((void *)want, 2 * 4096);
}

/* ---- execve's argument limit ---------------------------------------------------------- */

/* execve self with n arguments of len bytes each (after argv[0] and a
 * marker): the exit status, or 1000 + errno when execve failed. */
static int exec_args(long limit, long n, size_t len)
{
    pid_t pid = ut_fork();
    if (pid == 0) {
        if (limit) {
            struct rlimit r = { (rlim_t)limit, RLIM_INFINITY };
            setrlimit(RLIMIT_STACK, &r);
        }
        char **argv = malloc((size_t)(n + 3) * sizeof *argv);
        char *s = malloc(len + 1);
        if (!argv || !s)
            _exit(99);
        memset(s, 'a', len);
        s[len] = 0;
        argv[0] = (char *)self;
        argv[1] = "--exec-child";
        for (long i = 0; i < n; i++)
            argv[2 + i] = s;
        argv[n + 2] = NULL;
        execv(self, argv);
        _exit(100 + (errno & 0x7f));
    }
    int st = ut_wait(pid);
    if (WIFEXITED(st) && WEXITSTATUS(st) >= 100)
        return 1000 + WEXITSTATUS(st) - 100;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void arg_limit(void)
{
    int r = exec_args(0, 12, 128 * KIB - 1);   /* 1.5 MiB */
    ut_check(r == 42, "args_of_1_5_mib_run", "%d", r);
    r = exec_args(0, 20, 128 * KIB - 1);       /* 2.5 MiB */
    ut_check(r == 1000 + E2BIG, "args_of_2_5_mib_e2big", "%d", r);
    r = exec_args(0, 150000, 0);               /* 150000 pointers: 1.35 MiB */
    ut_check(r == 42, "150000_empty_args_run", "%d", r);
    r = exec_args(0, 250000, 0);               /* 250000 pointers: 2.25 MiB */
    ut_check(r == 1000 + E2BIG, "250000_empty_args_e2big", "%d", r);
    r = exec_args(0, 1, 128 * KIB - 1);
    ut_check(r == 42, "one_arg_of_max_arg_strlen_runs", "%d", r);
    r = exec_args(0, 1, 128 * KIB);
    ut_check(r == 1000 + E2BIG, "one_arg_past_max_arg_strlen_e2big", "%d", r);
    r = exec_args(1 * MIB, 2, 100 * KIB);
    ut_check(r == 42, "limit_1_mib_allows_200_kib", "%d", r);
    r = exec_args(1 * MIB, 3, 100 * KIB);
    ut_check(r == 1000 + E2BIG, "limit_1_mib_refuses_300_kib", "%d", r);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--exec-child"))
        return 42;
    self = argv[0];
    ut_init();
    main_stack();
    growsdown();
    arg_limit();
    return ut_done();
}
