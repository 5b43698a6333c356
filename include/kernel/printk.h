/*
 * printk: formatted kernel messages to every console (serial, framebuffer)
 * and to an in-memory log that tests can search.
 *
 * Formats (kernel/lib/vsnprintf.c): %d %i %u %x %X %o %c %s %p %%, with the
 * flags '-' '0' '+' ' ' '#', a width and a precision (also as '*'), and
 * the length modifiers hh h l ll z t.  %p prints 0x and 16 hex digits.
 */
#ifndef KERNEL_PRINTK_H
#define KERNEL_PRINTK_H

#include <kernel/types.h>

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

void printk(const char *fmt, ...) __printf(1, 2);
void vprintk(const char *fmt, va_list ap);

/* Write raw bytes to all consoles and to the log. */
void console_write(const char *s, size_t n);
/* Add bytes to the log only (what processes write to the console: the
 * terminal shows them itself, processed by its line discipline). */
void log_append(const char *s, size_t n);

/*
 * The log: the last LOG_SIZE bytes printed.  log_mark() returns a position;
 * log_contains_since() searches what was printed after it (for tests that
 * check what the kernel reported, e.g. an oops).
 */
#define LOG_SIZE (64 * 1024)
uint64_t log_mark(void);
bool log_contains_since(uint64_t mark, const char *needle);

/* A kernel bug: print the message and a backtrace, then stop. */
/* printk formats into a bounded buffer: print a long text (a /proc-style
 * table) one line at a time. */
void printk_lines(const char *text);
__noreturn void panic(const char *fmt, ...) __printf(1, 2);

#endif
