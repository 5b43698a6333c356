/*
 * printk and the kernel log.
 *
 * Every message goes to each console that is up and into a ring of the
 * last LOG_SIZE bytes.  Positions in the ring are absolute byte counts
 * (`log_head` never wraps), which makes "what was printed since mark M"
 * a simple question as long as fewer than LOG_SIZE bytes came since.
 *
 * Locking: none needed.  The kernel runs on one CPU and with interrupts
 * off (they are on only in user mode and in the idle loop's hlt, see
 * kernel/proc/task.c), so nothing else runs while a message is written.
 * A fault inside the console itself is kernel/cpu/trap.c's concern: it
 * switches the framebuffer console off and reports on the serial port.
 */
#include <kernel/printk.h>
#include <kernel/console.h>
#include <kernel/string.h>

static char log_buf[LOG_SIZE];
static uint64_t log_head;

void console_write(const char *s, size_t n)
{
    log_append(s, n);
    serial_write(s, n);
    fbcon_write(s, n);
}

void log_append(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        log_buf[(log_head + i) % LOG_SIZE] = s[i];
    log_head += n;
}

void vprintk(const char *fmt, va_list ap)
{
    char buf[512];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n >= (int)sizeof(buf)) {
        n = sizeof(buf) - 1;
        buf[n - 1] = '\n'; /* truncated: keep the line ending */
    }
    console_write(buf, (size_t)n);
}

void printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
}

uint64_t log_mark(void)
{
    return log_head;
}

bool log_contains_since(uint64_t mark, const char *needle)
{
    size_t nlen = strlen(needle);
    if (mark > log_head)
        return false;
    if (log_head - mark > LOG_SIZE)
        mark = log_head - LOG_SIZE;
    for (uint64_t start = mark; start + nlen <= log_head; start++) {
        size_t i = 0;
        while (i < nlen && log_buf[(start + i) % LOG_SIZE] == needle[i])
            i++;
        if (i == nlen)
            return true;
    }
    return false;
}

void printk_lines(const char *text)
{
    while (*text) {
        const char *nl = strchr(text, '\n');
        int len = nl ? (int)(nl - text) : (int)strlen(text);
        printk("%.*s\n", len, text);
        text += len + (nl != NULL);
    }
}
