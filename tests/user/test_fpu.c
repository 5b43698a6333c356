/*
 * test_fpu: each process's floating-point and SSE registers are its own.
 *
 * The kernel saves them when it switches tasks and restores them when
 * it switches back; fork gives the child the parent's registers as they
 * are; execve starts the new program with clean ones.  Two processes
 * that keep values in xmm registers while the scheduler switches between
 * them must each keep seeing their own values, and floating-point
 * arithmetic (x87 and SSE, printf of doubles) gives the same results in
 * both.
 */
#include "ut.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Put v in xmm6, spin for a while (long enough for several timer ticks),
 * then read xmm6 back: a task switch that lost the register shows up as
 * another value. */
static uint64_t hold_xmm6(uint64_t v, long spins)
{
    uint64_t out;
    /* memory operands: an i386 build has no 64-bit register for movq */
    __asm__ volatile("movq %2, %%xmm6\n\t"
                     "1: dec %1\n\t"
                     "jnz 1b\n\t"
                     "movq %%xmm6, %0"
                     : "=m"(out), "+r"(spins) : "m"(v) : "xmm6", "cc");
    return out;
}

static double series(int n)
{
    double s = 0;
    for (int i = 1; i <= n; i++)
        s += 1.0 / ((double)i * i);
    return s;
}

int main(void)
{
    ut_init();
    const long spins = 200000000;   /* about a second under QEMU: many time slices */
    int pipefd[2];
    if (pipe(pipefd))
        return 1;
    pid_t c = ut_fork();
    if (c == 0) {
        close(pipefd[0]);
        uint64_t got = hold_xmm6(0x1111111111111111ull, spins);
        char buf[64];
        snprintf(buf, sizeof(buf), "%.6f", series(1000));
        int ok = got == 0x1111111111111111ull && strcmp(buf, "1.643935") == 0;
        _exit(ok ? 0 : 1);
    }
    close(pipefd[1]);
    uint64_t got = hold_xmm6(0x2222222222222222ull, spins);
    ut_check(got == 0x2222222222222222ull, "parent_keeps_xmm6", "read %#llx",
             (unsigned long long)got);
    int st = ut_wait(c);
    ut_check(ut_exited_with(st, 0), "child_keeps_xmm6_and_computes", "child status %#x", st);
    char buf[64];
    snprintf(buf, sizeof(buf), "%.6f", series(1000));
    ut_check(strcmp(buf, "1.643935") == 0, "double_arithmetic", "sum printed as %s", buf);
    /* the x87 unit too */
    volatile long double x = 2.0L;
    long double r = x * x * x;
    ut_check(r == 8.0L, "x87_arithmetic", "2^3 gave %Lf", r);
    return ut_done();
}
