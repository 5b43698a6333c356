/*
 * vsnprintf for the kernel: the subset of C99 printf that kernel code
 * uses, with C99's truncation rule (the return value is the length the
 * full output would have had; the buffer always ends with a NUL when
 * size > 0).  Pure code, also compiled on the host and compared against
 * the C library in tests/host/test_printf.c.
 */
#include <kernel/printk.h>

struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

enum { F_LEFT = 1, F_ZERO = 2, F_PLUS = 4, F_SPACE = 8, F_ALT = 16 };

static void put_num(struct out *o, unsigned long long v, bool neg, unsigned base,
                    bool upper, int flags, int width, int prec)
{
    char digits[24];
    int n = 0;
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";

    if (!(v == 0 && prec == 0)) {
        do {
            digits[n++] = set[v % base];
            v /= base;
        } while (v);
    }
    char sign = neg ? '-' : (flags & F_PLUS) ? '+' : (flags & F_SPACE) ? ' ' : 0;
    const char *prefix = "";
    if ((flags & F_ALT) && base == 16 && n > 0 && !(n == 1 && digits[0] == '0'))
        prefix = upper ? "0X" : "0x";
    bool have_prec = prec >= 0; /* before '#' raises it: '0' padding still applies */
    if ((flags & F_ALT) && base == 8 && (prec <= n) && !(n > 0 && digits[n - 1] == '0'))
        prec = n + 1;
    int zeros = prec > n ? prec - n : 0;
    int plen = (int)__builtin_strlen(prefix);
    int total = n + zeros + (sign ? 1 : 0) + plen;

    if (!(flags & F_LEFT) && (flags & F_ZERO) && !have_prec) {
        zeros += width > total ? width - total : 0;
        total = width > total ? width : total;
    }
    if (!(flags & F_LEFT))
        pad(o, ' ', width - total);
    if (sign)
        put(o, sign);
    for (int i = 0; i < plen; i++)
        put(o, prefix[i]);
    pad(o, '0', zeros);
    while (n)
        put(o, digits[--n]);
    if (flags & F_LEFT)
        pad(o, ' ', width - total);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        fmt++;
        int flags = 0, width = 0, prec = -1;
        for (;; fmt++) {
            if (*fmt == '-') flags |= F_LEFT;
            else if (*fmt == '0') flags |= F_ZERO;
            else if (*fmt == '+') flags |= F_PLUS;
            else if (*fmt == ' ') flags |= F_SPACE;
            else if (*fmt == '#') flags |= F_ALT;
            else break;
        }
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                flags |= F_LEFT;
                width = -width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                if (prec < 0)
                    prec = -1;
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    prec = prec * 10 + (*fmt++ - '0');
            }
        }
        int lng = 0; /* -2 hh, -1 h, 0 int, 1 long, 2 long long, 3 size_t/ptrdiff */
        if (*fmt == 'h') {
            lng = -1;
            if (*++fmt == 'h') { lng = -2; fmt++; }
        } else if (*fmt == 'l') {
            lng = 1;
            if (*++fmt == 'l') { lng = 2; fmt++; }
        } else if (*fmt == 'z' || *fmt == 't') {
            lng = 3;
            fmt++;
        }

        char c = *fmt;
        if (c == 'd' || c == 'i') {
            long long v;
            if (lng >= 1) v = lng == 2 ? va_arg(ap, long long) : va_arg(ap, long);
            else v = va_arg(ap, int);
            if (lng == -1) v = (short)v;
            if (lng == -2) v = (signed char)v;
            unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
            put_num(&o, u, v < 0, 10, false, flags, width, prec);
        } else if (c == 'u' || c == 'x' || c == 'X' || c == 'o') {
            unsigned long long v;
            if (lng >= 1) v = lng == 2 ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned long);
            else v = va_arg(ap, unsigned int);
            if (lng == -1) v = (unsigned short)v;
            if (lng == -2) v = (unsigned char)v;
            unsigned base = c == 'u' ? 10 : c == 'o' ? 8 : 16;
            put_num(&o, v, false, base, c == 'X', flags & ~(F_PLUS | F_SPACE), width, prec);
        } else if (c == 'p') {
            unsigned long long v = (unsigned long long)(uintptr_t)va_arg(ap, void *);
            put(&o, '0');
            put(&o, 'x');
            put_num(&o, v, false, 16, false, F_ZERO, 16, -1);
        } else if (c == 'c') {
            char ch = (char)va_arg(ap, int);
            if (!(flags & F_LEFT)) pad(&o, ' ', width - 1);
            put(&o, ch);
            if (flags & F_LEFT) pad(&o, ' ', width - 1);
        } else if (c == 's') {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            int n = 0;
            while (s[n] && (prec < 0 || n < prec))
                n++;
            if (!(flags & F_LEFT)) pad(&o, ' ', width - n);
            for (int i = 0; i < n; i++)
                put(&o, s[i]);
            if (flags & F_LEFT) pad(&o, ' ', width - n);
        } else if (c == '%') {
            put(&o, '%');
        } else {
            /* Unknown conversion: print it as is, so the mistake shows. */
            put(&o, '%');
            if (!c)
                break;
            put(&o, c);
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = 0;
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
