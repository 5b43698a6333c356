/*
 * The validators' check (every `*_check(..., char *why, size_t size)`:
 * buddy_check, node_check, pt_check, mm_check_*, slab_check, mmu32_check,
 * and the host tests' own).
 *
 * CHECK(cond, fmt, ...), in a function returning int with the caller's
 * reason buffer in scope as `char *why` and `size_t size`: when cond is
 * false, write the reason (fmt and its values) into why and return
 * -EUCLEAN (kernel/errno.h: a structure found corrupt).  The first failed
 * check is the one reported, since it returns at once.  A helper of a
 * validator that keeps why and size in a checker struct names them
 * locally (`char *why = c->why; size_t size = c->size;`).
 *
 * Unlike ASSERT, CHECK does not stop anything: the validator's caller
 * decides (a test fails, the boot asserts, a fuzz target aborts).
 */
#ifndef MM_CHECK_H
#define MM_CHECK_H

#include <kernel/errno.h>
#include <kernel/printk.h>

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            snprintf(why, size, __VA_ARGS__);                               \
            return -EUCLEAN;                                                \
        }                                                                   \
    } while (0)

#endif
