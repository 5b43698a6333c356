/*
 * A header-only framework for the host unit tests, shaped like the
 * in-kernel one (include/kernel/ktest.h): a table of named cases, each
 * a void function; an assertion that fails records "file:line: message"
 * and returns from the function; a runner that prints
 *
 *   ok - name
 *   not ok - name: reason
 *   ...
 *   N passed, N failed
 *
 * and exits non-zero when a case failed.  Names given on the command
 * line select cases; an unknown name counts as a failure.
 *
 *   static void t_empty(void) { HT_ASSERT(f(0) == -1, "f(0) = %d", f(0)); }
 *   static const struct htest cases[] = { HT_CASE(empty) };
 *   int main(int argc, char **argv)
 *   { return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1); }
 *
 * Helpers called by a case may use the assertions too (they return from
 * the helper); the case then calls them through HT_TRY() so that it
 * stops as well.  Only the first failure of a case is reported.
 */
#ifndef HTEST_H
#define HTEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct htest {
    const char *name;
    void (*fn)(void);
};

#define HT_CASE(name) { #name, t_##name }
#define HT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The running case's failure, shared by every file of a test binary
 * (weak: each file including this header defines it and the linker keeps
 * one), so that cases written in another file (tests/shared/tcase.h)
 * fail through it. */
__attribute__((weak)) bool ht_failed;
__attribute__((weak)) char ht_reason[512];

static inline __attribute__((format(printf, 3, 4)))
void ht_fail(const char *file, int line, const char *fmt, ...)
{
    if (ht_failed)
        return;
    ht_failed = true;
    int n = snprintf(ht_reason, sizeof(ht_reason), "%s:%d: ", file, line);
    if (n < 0 || (size_t)n >= sizeof(ht_reason))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ht_reason + n, sizeof(ht_reason) - (size_t)n, fmt, ap);
    va_end(ap);
}

#define HT_FAIL(...)                                                        \
    do {                                                                    \
        ht_fail(__FILE__, __LINE__, __VA_ARGS__);                           \
        return;                                                             \
    } while (0)

#define HT_ASSERT(cond, ...)                                                \
    do {                                                                    \
        if (!(cond))                                                        \
            HT_FAIL(__VA_ARGS__);                                           \
    } while (0)

/* Two unsigned integers (any width up to 64 bits) must be equal. */
#define HT_EQ_U(a, b)                                                       \
    do {                                                                    \
        uint64_t ht_a_ = (uint64_t)(a), ht_b_ = (uint64_t)(b);              \
        if (ht_a_ != ht_b_)                                                 \
            HT_FAIL("%s = %#lx, expected %s = %#lx", #a,                  \
                    ht_a_, #b,                          \
                    ht_b_);                             \
    } while (0)

/* Two C strings must be equal (a NULL only equals a NULL). */
#define HT_EQ_STR(a, b)                                                     \
    do {                                                                    \
        const char *ht_a_ = (a), *ht_b_ = (b);                              \
        if (!ht_a_ || !ht_b_ ? ht_a_ != ht_b_ : strcmp(ht_a_, ht_b_) != 0)  \
            HT_FAIL("%s is \"%s\", expected \"%s\"", #a,                    \
                    ht_a_ ? ht_a_ : "(NULL)", ht_b_ ? ht_b_ : "(NULL)");    \
    } while (0)

/* Call a helper that may fail; stop the calling case if it did. */
#define HT_TRY(call)                                                        \
    do {                                                                    \
        call;                                                               \
        if (ht_failed)                                                      \
            return;                                                         \
    } while (0)

static inline bool ht_selected(const char *name, int nsel, char **sel)
{
    if (nsel == 0)
        return true;
    for (int i = 0; i < nsel; i++)
        if (strcmp(sel[i], name) == 0)
            return true;
    return false;
}

/* Run the cases named in sel[0..nsel) (all of them when nsel is 0). */
static inline int htest_main(const struct htest *cases, size_t ncases,
                             int nsel, char **sel)
{
    int pass = 0, fail = 0;

    for (int i = 0; i < nsel; i++) {
        bool known = false;
        for (size_t k = 0; k < ncases; k++)
            known = known || strcmp(cases[k].name, sel[i]) == 0;
        if (!known) {
            printf("not ok - %s: no such case\n", sel[i]);
            fail++;
        }
    }
    for (size_t k = 0; k < ncases; k++) {
        if (!ht_selected(cases[k].name, nsel, sel))
            continue;
        ht_failed = false;
        ht_reason[0] = 0;
        cases[k].fn();
        if (ht_failed) {
            printf("not ok - %s: %s\n", cases[k].name, ht_reason);
            fail++;
        } else {
            printf("ok - %s\n", cases[k].name);
            pass++;
        }
        /* A later crash (ASan) must not swallow the lines before it. */
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", pass, fail);
    return fail ? 1 : 0;
}

#endif
