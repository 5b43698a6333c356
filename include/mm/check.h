/*
 * The validators' assertion (mm/pgtable_check.c, mm/vma_check.c): in a
 * function returning int, with a checker state `c` holding `char *why`
 * and `size_t size`, CHECK(cond, fmt, ...) writes the reason into c->why
 * and returns -1 when cond is false.  The first failed check is the one
 * reported.
 */
#ifndef MM_CHECK_H
#define MM_CHECK_H

#include <kernel/printk.h>

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            snprintf(c->why, c->size, __VA_ARGS__);                         \
            return -1;                                                      \
        }                                                                   \
    } while (0)

#endif
