/* The few string and memory functions the kernel uses (kernel/lib/string.c). */
#ifndef KERNEL_STRING_H
#define KERNEL_STRING_H

#include <stddef.h>

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strstr(const char *hay, const char *needle);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
/* Copy at most size - 1 bytes and terminate (when size > 0); returns
 * strlen(src), so a result >= size means the copy was cut. */
size_t strlcpy(char *dst, const char *src, size_t size);

#endif
