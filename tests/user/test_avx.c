/*
 * test_avx: AVX registers and task switches (docs/boot.md, "What the
 * kernel checks on a real PC").
 *
 * mmk's task switch saves the x87/SSE registers (fxsave), not the upper
 * halves of the ymm registers, so at boot it turns CR4.OSXSAVE off: then
 * CPUID.1:ECX.OSXSAVE (bit 27) reads 0, and every AVX instruction is an
 * invalid opcode, SIGILL.  Linux saves the whole state with XSAVE and
 * leaves AVX on.  Either way a program sees one consistent answer, which
 * is the check run on both: with OSXSAVE, a ymm register keeps its value
 * in two processes that hold different ones while the scheduler switches
 * between them; without, three AVX instructions in a row each raise
 * SIGILL and the program goes on.  On mmk only: OSXSAVE is off.
 */
#include "ut.h"

#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static sigjmp_buf jb;

static void on_sigill(int sig)
{
    (void)sig;
    siglongjmp(jb, 1);
}

/* Fill ymm7 with v (all four quadwords), spin, read the top quadword back. */
static uint64_t hold_ymm7(uint64_t v, long spins)
{
    uint64_t in[4] = { v, v, v, v }, out[4];
    __asm__ volatile("vmovdqu %2, %%ymm7\n\t"
                     "1: dec %1\n\t"
                     "jnz 1b\n\t"
                     "vmovdqu %%ymm7, %0\n\t"
                     "vzeroupper"
                     : "=m"(out), "+r"(spins) : "m"(in) : "xmm7", "cc");
    return out[3];
}

/* Run one AVX instruction: 1 when it raised SIGILL. */
static int avx_traps(void)
{
    if (sigsetjmp(jb, 1))
        return 1;
    __asm__ volatile("vxorps %%ymm0, %%ymm0, %%ymm0\n\tvzeroupper" ::: "xmm0");
    return 0;
}

int main(void)
{
    ut_init();
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (ut_on_mmk())
        ut_check(!osxsave, "osxsave_off_on_mmk", "CPUID.1:ECX.OSXSAVE is set");
    else
        ut_skip("osxsave_off_on_mmk", "Linux keeps AVX on");
    if (!avx) {
        ut_skip("avx_consistent", "this CPU has no AVX");
        return ut_done();
    }
    if (!osxsave) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_sigill;
        sigaction(SIGILL, &sa, NULL);
        int traps = 0;
        for (int i = 0; i < 3; i++)
            traps += avx_traps();
        ut_check(traps == 3, "avx_consistent", "%d of 3 AVX instructions raised SIGILL", traps);
        return ut_done();
    }
    const long spins = 200000000;   /* about a second under QEMU: many time slices */
    pid_t child = ut_fork();
    if (child == 0)
        _exit(hold_ymm7(0x1111111111111111ull, spins) == 0x1111111111111111ull ? 0 : 1);
    uint64_t got = hold_ymm7(0x2222222222222222ull, spins);
    int st = ut_wait(child);
    ut_check(got == 0x2222222222222222ull && ut_exited_with(st, 0), "avx_consistent",
             "parent read %#llx, child status %#x", (unsigned long long)got, st);
    return ut_done();
}
