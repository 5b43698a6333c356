/*
 * A case written once, run in two worlds: the host test binaries
 * (tests/host/htest.h) and the in-kernel test runner
 * (include/kernel/ktest.h).  A shared case file includes only this
 * header and writes
 *
 *   TCASE(map_4k)
 *   {
 *       TEXPECT(pt_map(...) == 0, "map: %d", rc);
 *       TEQ_U(pt.nr_tables, 2);
 *       TTRY(helper());          a helper that may fail stops the case too
 *   }
 *
 * and a runner of each world binds the case to a name: a `struct htest`
 * entry on the host, a KTEST in the kernel (see tests/shared/pt_cases.h
 * for a list of cases turned into both).
 *
 *   TEXPECT(cond, fmt, ...)  cond must hold; otherwise the case (or the
 *                            helper) records "file:line: message" and
 *                            returns.  cond is evaluated exactly once.
 *   TEQ_U(a, b)              two unsigned integers must be equal.
 *   TFAIL(fmt, ...)          fail unconditionally.
 *   TTRY(call)               call a helper (a void function using the
 *                            macros above); stop if it failed.
 *   TFAILED()                has the running case failed?
 *
 * Only the first failure of a case is reported, in both worlds.  On the
 * host the macros are htest's own (HT_ASSERT, HT_EQ_U, HT_TRY).  In the
 * kernel they end in KT_ASSERT; the runner there has no "has this case
 * failed" query, so tcase_failed below records it, and a kernel runner
 * clears it before each case (tcase_begin).
 *
 * Shared cases must compile in both worlds: no libc beyond what
 * kernel/string.h and snprintf offer, uint64_t printed with %lx / %lu,
 * and small stack frames (the kernel refuses frames above 2 KiB:
 * big buffers go in static storage).
 */
#ifndef TESTS_SHARED_TCASE_H
#define TESTS_SHARED_TCASE_H

#include <stdbool.h>
#include <stdint.h>

#define TCASE(name) void tcase_##name(void)

#ifdef HOST_TEST

#include "../host/htest.h"

#define TEXPECT(cond, ...) HT_ASSERT(cond, __VA_ARGS__)
#define TEQ_U(a, b) HT_EQ_U(a, b)
#define TFAIL(...) HT_FAIL(__VA_ARGS__)
#define TTRY(call) HT_TRY(call)
#define TFAILED() (ht_failed)

static inline void tcase_begin(void)
{
}

#else /* the kernel */

#include <kernel/ktest.h>

/* Set by the macros below when a check fails (weak: one variable for every
 * kernel file that includes this header). */
__attribute__((weak)) bool tcase_failed;

static inline void tcase_begin(void)
{
    tcase_failed = false;
}

#define TEXPECT(cond, ...)                                                  \
    do {                                                                    \
        bool tc_ok_ = (cond);                                               \
        if (!tc_ok_)                                                        \
            tcase_failed = true;                                            \
        KT_ASSERT(tc_ok_, __VA_ARGS__);                                     \
    } while (0)

#define TEQ_U(a, b)                                                         \
    do {                                                                    \
        uint64_t tc_a_ = (uint64_t)(a), tc_b_ = (uint64_t)(b);              \
        TEXPECT(tc_a_ == tc_b_, "%s = %#lx, expected %s = %#lx", #a, tc_a_, \
                #b, tc_b_);                                                 \
    } while (0)

#define TFAIL(...) TEXPECT(false, __VA_ARGS__)

#define TTRY(call)                                                          \
    do {                                                                    \
        call;                                                               \
        if (tcase_failed)                                                   \
            return;                                                         \
    } while (0)

#define TFAILED() (tcase_failed)

#endif

#endif
