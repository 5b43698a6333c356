/*
 * Host tests of the kernel's vsnprintf (kernel/lib/vsnprintf.c), compiled
 * under the names k_vsnprintf/k_snprintf (tests/host/kvsnprintf.c) and
 * compared with the C library on every format both define the same way.
 * The kernel's own choices (%p, "(null)", unknown conversions) are
 * tested against fixed strings.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "htest.h"

/* The kernel's prototypes, under the names kvsnprintf.c gives them. */
#define vsnprintf k_vsnprintf
#define snprintf k_snprintf
#include <kernel/printk.h>
#undef vsnprintf
#undef snprintf

#define BUFSZ 256
#define CANARY 0x5a

/*
 * Format with both implementations into canary-filled buffers of `size`
 * bytes and compare the return value, the bytes written and the canary
 * after them.
 */
static bool compare_size(const char *file, int line, size_t size,
                         const char *fmt, va_list ap)
{
    char want[BUFSZ + 16], got[BUFSZ + 16];
    va_list ap2;

    memset(want, CANARY, sizeof(want));
    memset(got, CANARY, sizeof(got));
    va_copy(ap2, ap);
    int wn = vsnprintf(want, size, fmt, ap);
    int gn = k_vsnprintf(got, size, fmt, ap2);
    va_end(ap2);

    if (gn != wn) {
        ht_fail(file, line, "\"%s\" size %zu: kernel returned %d, libc %d",
                fmt, size, gn, wn);
        return false;
    }
    if (memcmp(got, want, sizeof(got)) != 0) {
        /* Show the strings when both are terminated, else just say so. */
        bool terminated = size > 0 && memchr(got, 0, size) &&
                          memchr(want, 0, size);
        if (terminated && strcmp(got, want) != 0)
            ht_fail(file, line, "\"%s\" size %zu: kernel \"%s\", libc \"%s\"",
                    fmt, size, got, want);
        else
            ht_fail(file, line, "\"%s\" size %zu: buffers differ (missing "
                    "NUL, or bytes written after the output)", fmt, size);
        return false;
    }
    return true;
}

/* Compare at the full size, then at sizes that cut the output short. */
static __attribute__((format(printf, 3, 4)))
void same(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list aq;
    va_copy(aq, ap);
    int full = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (full < 0 || full >= BUFSZ) {
        ht_fail(file, line, "\"%s\": test output too long (%d)", fmt, full);
        va_end(ap);
        return;
    }
    size_t sizes[] = { BUFSZ, (size_t)full + 1, (size_t)full, (size_t)full / 2,
                       1, 0 };
    for (size_t i = 0; i < HT_COUNT(sizes); i++) {
        va_copy(aq, ap);
        bool ok = compare_size(file, line, sizes[i], fmt, aq);
        va_end(aq);
        if (!ok)
            break;
    }
    va_end(ap);
}

#define SAME(...) HT_TRY(same(__FILE__, __LINE__, __VA_ARGS__))

/* The kernel alone, against an expected string (its own choices). */
#define KERNEL_GIVES(expect, ...)                                           \
    do {                                                                    \
        char kbuf_[BUFSZ];                                                  \
        int kn_ = k_snprintf(kbuf_, sizeof(kbuf_), __VA_ARGS__);            \
        HT_EQ_STR(kbuf_, expect);                                           \
        HT_ASSERT(kn_ == (int)strlen(expect), "returned %d for \"%s\"",     \
                  kn_, expect);                                             \
    } while (0)

/* ---- conversions ------------------------------------------------------------ */

static void t_decimal(void)
{
    SAME("%d", 0);
    SAME("%d", 7);
    SAME("%d", -7);
    SAME("%i", 123456789);
    SAME("%i", -123456789);
    SAME("%d", INT_MAX);
    SAME("%d", INT_MIN);
    SAME("%i", INT_MIN);
    SAME("%u", 0u);
    SAME("%u", 42u);
    SAME("%u", UINT_MAX);
    SAME("%d%d%d", 1, -2, 3);
}

static void t_hex_octal(void)
{
    SAME("%x", 0u);
    SAME("%x", 0xdeadbeefu);
    SAME("%X", 0xdeadbeefu);
    SAME("%x", UINT_MAX);
    SAME("%o", 0u);
    SAME("%o", 8u);
    SAME("%o", 0755u);
    SAME("%o", UINT_MAX);
    SAME("%X%x", 0xabu, 0xcdu);
}

static void t_char(void)
{
    SAME("%c", 'a');
    SAME("%c%c%c", 'x', 'y', 'z');
    SAME("[%5c]", 'q');
    SAME("[%-5c]", 'q');
    SAME("[%1c]", 'q');
    SAME("%c", 0xff);
    SAME("%c", 256 + 'A');
}

static void t_string(void)
{
    SAME("%s", "hello");
    SAME("%s", "");
    SAME("[%10s]", "right");
    SAME("[%-10s]", "left");
    SAME("[%2s]", "longer than width");
    SAME("[%.3s]", "abcdef");
    SAME("[%.0s]", "abcdef");
    SAME("[%.10s]", "abc");
    SAME("[%8.2s]", "abcdef");
    SAME("[%-8.2s]", "abcdef");
    SAME("%s=%s", "key", "value");
}

static void t_percent(void)
{
    SAME("%%");
    SAME("100%%");
    SAME("%%d %d %%", 5);
    SAME("no conversions at all");
    SAME("");
}

/* ---- flags, width, precision ------------------------------------------------ */

static void t_flags(void)
{
    SAME("[%-6d]", 42);
    SAME("[%-6d]", -42);
    SAME("[%06d]", 42);
    SAME("[%06d]", -42);
    SAME("[%+d]", 42);
    SAME("[%+d]", -42);
    SAME("[%+d]", 0);
    SAME("[% d]", 42);
    SAME("[% d]", -42);
    SAME("[% 6d]", 42);
    SAME("[%+06d]", 42);
    SAME("[% 06d]", 42);
    SAME("[%-+6d]", 42);
    SAME("[%06x]", 0xabu);
    SAME("[%-6X]", 0xabu);
    SAME("[%06o]", 8u);
    SAME("[%06u]", 99u);
}

/* Flags that C says are ignored in these combinations. */
static void t_flags_ignored(void)
{
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wformat"
    SAME("[%-06d]", 42);       /* '-' beats '0' */
    SAME("[%+ d]", 42);        /* '+' beats ' ' */
    SAME("[% +d]", 42);
    SAME("[%08.3d]", 42);      /* a precision turns '0' off */
    SAME("[%08.3x]", 0xabu);
    SAME("[%+u]", 42u);        /* sign flags do nothing to unsigned */
    SAME("[% x]", 42u);
#pragma clang diagnostic pop
}

static void t_alternate(void)
{
    SAME("%#x", 255u);
    SAME("%#X", 255u);
    SAME("%#x", 0u);
    SAME("%#o", 8u);
    SAME("%#o", 0u);
    SAME("%#o", 010u);
    SAME("[%#10x]", 255u);
    SAME("[%#-10x]", 255u);
    SAME("[%#010x]", 255u);
    SAME("[%#10.4x]", 255u);
    SAME("[%#.0x]", 0u);
    SAME("[%#.0o]", 0u);
    SAME("[%#.3o]", 8u);
    SAME("[%#.5o]", 8u);
    SAME("[%#6o]", 8u);
}

/* '#' with octal and the '0' flag: the added leading 0 is not a precision. */
static void t_alternate_octal_zero_pad(void)
{
    SAME("[%#06o]", 8u);
    SAME("[%#05o]", 0u);
    SAME("[%#08llo]", 01234ull);
}

static void t_width_precision(void)
{
    SAME("[%5d]", 42);
    SAME("[%5d]", -42);
    SAME("[%3d]", 12345);
    SAME("[%.5d]", 42);
    SAME("[%.5d]", -42);
    SAME("[%8.5d]", -42);
    SAME("[%-8.5d]", -42);
    SAME("[%+.3d]", 7);
    SAME("[%.0d]", 0);
    SAME("[%5.0d]", 0);
    SAME("[%.0d]", 1);
    SAME("[%.0x]", 0u);
    SAME("[%.3x]", 0xfu);
    SAME("[%.10u]", 123u);
    SAME("[%020d]", INT_MIN);
    SAME("[%40d]", 1);
    SAME("[%-40d]", 1);
}

static void t_star(void)
{
    SAME("[%*d]", 5, 42);
    SAME("[%*d]", -5, 42);      /* negative width: left-justify */
    SAME("[%-*d]", 5, 42);
    SAME("[%0*d]", 6, -42);
    SAME("[%.*d]", 3, 7);
    SAME("[%.*d]", -1, 7);      /* negative precision: as if omitted */
    SAME("[%.*d]", 0, 0);
    SAME("[%*.*s]", 8, 3, "abcdef");
    SAME("[%-*.*s]", 8, 3, "abcdef");
    SAME("[%.*s]", 0, "abc");
    SAME("[%*.*x]", 10, 6, 0xabcu);
    SAME("[%*s|%*s]", 3, "a", -3, "b");
}

static void t_length(void)
{
    SAME("%hhd", (signed char)-56);
    SAME("%hhu", (unsigned char)200);
    SAME("%hd", (short)-1234);
    SAME("%hu", (unsigned short)65535);
    SAME("%ld", 1234567890123L);
    SAME("%li", -1234567890123L);
    SAME("%lu", ULONG_MAX);
    SAME("%lx", 0x123456789abcdefUL);
    SAME("%lld", 9876543210LL);
    SAME("%lli", -9876543210LL);
    SAME("%llu", 18446744073709551615ull);
    SAME("%llo", 01777ull);
    SAME("%zu", (size_t)12345);
    SAME("%zu", SIZE_MAX);
    SAME("%zx", (size_t)0xabcdef);
    SAME("%zd", (ptrdiff_t)-1);
    SAME("%td", (ptrdiff_t)-5);
    SAME("%td", PTRDIFF_MIN);
    SAME("%td", PTRDIFF_MAX);
    /* The next argument after a long one is still read right. */
    SAME("%lld %d %hhd %lu %d", LLONG_MIN, 1, (signed char)2, 3UL, 4);
}

/*
 * hh and h take an int and convert it to the narrow type before printing
 * (C11 7.21.6.1p7); clang flags the wide constants, but this is defined.
 */
static void t_length_narrowing(void)
{
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wformat"
    SAME("%hhd", 200);
    SAME("%hhd", -129);
    SAME("%hhu", 0x1ff);
    SAME("%hhx", 0x1234);
    SAME("%hd", 40000);
    SAME("%hd", -40000);
    SAME("%hu", 70000);
    SAME("%hX", 0x12345);
#pragma clang diagnostic pop
}

static void t_extremes(void)
{
    SAME("%d", INT_MIN);
    SAME("[%+d]", INT_MAX);
    SAME("[%-15d]", INT_MIN);
    SAME("[%.12d]", INT_MIN);
    SAME("%ld", LONG_MIN);
    SAME("%ld", LONG_MAX);
    SAME("%lld", LLONG_MIN);
    SAME("%lld", LLONG_MAX);
    SAME("[%+lld]", LLONG_MIN);
    SAME("[%30lld]", LLONG_MIN);
    SAME("[%030lld]", LLONG_MIN);
    SAME("%llu", ULLONG_MAX);
    SAME("%llx", ULLONG_MAX);
    SAME("%llX", ULLONG_MAX);
    SAME("%llo", ULLONG_MAX);   /* 22 octal digits */
    SAME("%#llo", ULLONG_MAX);
    SAME("%#llx", ULLONG_MAX);
    SAME("[%-30llu]", ULLONG_MAX);
    SAME("[%.25llu]", ULLONG_MAX);
}

static void t_mixed(void)
{
    SAME("pid %d: %s at %#lx (%u%%) [%-4c] %5.1s|",
         17, "fault", 0xffffffff80001234UL, 99u, 'w', "xyz");
    SAME("%s%d%s%x%s%o", "a", 1, "b", 2u, "c", 3u);
}

/* ---- the kernel's own choices ---------------------------------------------- */

static void t_pointer(void)
{
    KERNEL_GIVES("0x0000000000001234", "%p", (void *)0x1234);
    KERNEL_GIVES("0x0000000000000000", "%p", (void *)0);
    KERNEL_GIVES("0xffffffff80000000", "%p", (void *)0xffffffff80000000UL);
    KERNEL_GIVES("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
    KERNEL_GIVES("[0x00000000deadbeef] 5", "[%p] %d", (void *)0xdeadbeefUL, 5);
}

static void t_null_string(void)
{
    const char *null = NULL;
    KERNEL_GIVES("(null)", "%s", null);
    KERNEL_GIVES("(nu", "%.3s", null);
    KERNEL_GIVES("[  (null)]", "[%8s]", null);
    KERNEL_GIVES("[(null)  ]", "[%-8s]", null);
    KERNEL_GIVES("a (null) 3", "a %s %d", null, 3);
}

/* An unknown conversion prints as is, and a lone '%' at the end stops. */
static void t_unknown_conversion(void)
{
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wformat"
#pragma clang diagnostic ignored "-Wformat-invalid-specifier"
    KERNEL_GIVES("a%yb", "a%yb");
    KERNEL_GIVES("7 %q 8", "%d %q %d", 7, 8);
    KERNEL_GIVES("end%", "end%");
    KERNEL_GIVES("end%", "end%-08");
#pragma clang diagnostic pop
}

/* ---- truncation ---------------------------------------------------------------- */

static void t_truncation(void)
{
    char buf[16];

    /* The return value is the full length; the output is cut and ended. */
    memset(buf, CANARY, sizeof(buf));
    HT_ASSERT(k_snprintf(buf, 5, "%d", 123456) == 6, "return value");
    HT_EQ_STR(buf, "1234");
    HT_ASSERT((unsigned char)buf[5] == CANARY, "wrote past size");

    memset(buf, CANARY, sizeof(buf));
    HT_ASSERT(k_snprintf(buf, 1, "%s", "abc") == 3, "return value, size 1");
    HT_ASSERT(buf[0] == 0, "size 1 must give an empty string");
    HT_ASSERT((unsigned char)buf[1] == CANARY, "wrote past size 1");

    /* Size 0: nothing is written at all, not even the NUL. */
    memset(buf, CANARY, sizeof(buf));
    HT_ASSERT(k_snprintf(buf, 0, "%20d", 1) == 20, "return value, size 0");
    for (size_t i = 0; i < sizeof(buf); i++)
        HT_ASSERT((unsigned char)buf[i] == CANARY, "size 0 wrote byte %zu", i);
    HT_ASSERT(k_snprintf(NULL, 0, "%s-%d", "abc", 12345) == 9,
              "NULL buffer, size 0: wrong length");

    /* Exactly full: the last byte is the NUL. */
    memset(buf, CANARY, sizeof(buf));
    HT_ASSERT(k_snprintf(buf, 4, "abc") == 3, "return value, exact fit");
    HT_EQ_STR(buf, "abc");

    /* Padding is cut too, and still counted. */
    memset(buf, CANARY, sizeof(buf));
    HT_ASSERT(k_snprintf(buf, 8, "%-30s|", "x") == 31, "padded length");
    HT_EQ_STR(buf, "x      ");
    HT_ASSERT((unsigned char)buf[8] == CANARY, "wrote past size 8");
}

/* Every size from 0 to past the end gives a prefix of the full output. */
static void t_truncation_every_size(void)
{
    char full[BUFSZ], buf[BUFSZ + 1];
    const char *fmt = "%s|%-8d|%#x|%c|%p|%%";
    int n = k_snprintf(full, sizeof(full), fmt, "str", -12, 0xbeefu, 'z',
                       (void *)0x10);

    HT_ASSERT(n > 0 && n < BUFSZ, "full length %d", n);
    HT_ASSERT((int)strlen(full) == n, "strlen %zu != return %d", strlen(full), n);
    for (int size = 0; size <= n + 2; size++) {
        memset(buf, CANARY, sizeof(buf));
        int r = k_snprintf(buf, (size_t)size, fmt, "str", -12, 0xbeefu, 'z',
                           (void *)0x10);
        HT_ASSERT(r == n, "size %d: returned %d, expected %d", size, r, n);
        if (size == 0) {
            HT_ASSERT((unsigned char)buf[0] == CANARY, "size 0 wrote a byte");
            continue;
        }
        int kept = size - 1 < n ? size - 1 : n;
        HT_ASSERT(memcmp(buf, full, (size_t)kept) == 0 && buf[kept] == 0,
                  "size %d: not the %d-byte prefix", size, kept);
        HT_ASSERT((unsigned char)buf[kept + 1] == CANARY,
                  "size %d: wrote after the NUL", size);
    }
}

/* k_vsnprintf directly, with a va_list from a caller (as printk uses it). */
static int kformat(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int kformat(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = k_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static void t_vsnprintf(void)
{
    char buf[32];
    HT_ASSERT(kformat(buf, sizeof(buf), "%s %d %x", "v", -1, 0x10u) == 7,
              "return value");
    HT_EQ_STR(buf, "v -1 10");
}

static const struct htest cases[] = {
    HT_CASE(decimal),
    HT_CASE(hex_octal),
    HT_CASE(char),
    HT_CASE(string),
    HT_CASE(percent),
    HT_CASE(flags),
    HT_CASE(flags_ignored),
    HT_CASE(alternate),
    HT_CASE(alternate_octal_zero_pad),
    HT_CASE(width_precision),
    HT_CASE(star),
    HT_CASE(length),
    HT_CASE(length_narrowing),
    HT_CASE(extremes),
    HT_CASE(mixed),
    HT_CASE(pointer),
    HT_CASE(null_string),
    HT_CASE(unknown_conversion),
    HT_CASE(truncation),
    HT_CASE(truncation_every_size),
    HT_CASE(vsnprintf),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
