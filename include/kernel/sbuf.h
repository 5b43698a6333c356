/*
 * A text buffer filled by successive printf-style calls: how the
 * /proc-style tables (buddyinfo, zoneinfo, meminfo, slabinfo,
 * vmallocinfo) are built.  The text is cut to fit, always terminated
 * (when size > 0), and len keeps counting what the whole text needs, so
 * the caller can return it like snprintf does.
 */
#ifndef KERNEL_SBUF_H
#define KERNEL_SBUF_H

#include <kernel/printk.h>

struct sbuf {
    char *buf;
    size_t size, len;
};

static inline __attribute__((format(printf, 2, 3))) void sbuf_put(struct sbuf *s,
                                                                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = s->len < s->size ? s->size - s->len : 0;
    int n = vsnprintf(room ? s->buf + s->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        s->len += (size_t)n;
}

#endif
