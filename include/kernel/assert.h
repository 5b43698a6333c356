/*
 * Assertions: the invariant checks of the error policy (kernel/errno.h).
 *
 *   ASSERT(cond, fmt, ...)   always compiled: when cond is false, panic
 *                            with the function, file:line, the text of
 *                            the condition and the values fmt prints.
 *   DASSERT(cond, fmt, ...)  the same, compiled only when DEBUG is
 *                            defined non-zero (make DEBUG=1, and always
 *                            in the host tests and fuzz targets, which
 *                            run under the sanitizers).  For checks too
 *                            costly for a hot path: a walk over a block's
 *                            frames, a list membership test.  Without
 *                            DEBUG the condition is type-checked but
 *                            never evaluated: it must have no side effect.
 *
 * An assertion states what the kernel itself guarantees.  It is never
 * used on anything a caller or a user program can get wrong: those are
 * refused with an errno or reported (kernel/errno.h says which).
 *
 *   ASSERT(p->refcount == 0, "pfn %#lx refcount %u", pfn, p->refcount);
 *
 * failing in buddy_free, at line 97 of mm/buddy.c, prints
 *
 *   buddy_free: mm/buddy.c:97: assertion failed: p->refcount == 0: pfn 0x1234 refcount 1
 *
 * fmt must be a string literal (it is pasted after the prefix).  In the
 * kernel panic() prints a backtrace and stops; in the host tests it is
 * tests/host/mm_host.c's, which prints and aborts.  OpenBSD's
 * KASSERT/KDASSERT are the model.
 */
#ifndef KERNEL_ASSERT_H
#define KERNEL_ASSERT_H

#include <kernel/printk.h>

/* text: the condition as written (stringified before any macro in it is expanded). */
#define ASSERT_TEXT_(cond, text, fmt, ...)                                  \
    do {                                                                    \
        if (__builtin_expect(!(cond), 0))                                   \
            panic("%s: %s:%d: assertion failed: %s: " fmt, __func__,       \
                  __FILE__, __LINE__, text, ##__VA_ARGS__);                 \
    } while (0)

#define ASSERT(cond, fmt, ...) ASSERT_TEXT_(cond, #cond, fmt, ##__VA_ARGS__)

#if defined(DEBUG) && DEBUG
#define DASSERT(cond, fmt, ...) ASSERT_TEXT_(cond, #cond, fmt, ##__VA_ARGS__)
#else
/* Dead code: checked by the compiler, removed by it. */
#define DASSERT(cond, fmt, ...)                                             \
    do {                                                                    \
        if (0 && !(cond))                                                   \
            panic(fmt, ##__VA_ARGS__);                                      \
    } while (0)
#endif

#endif
