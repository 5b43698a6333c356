/*
 * The kernel's own symbol table, built into the image by a second link
 * (tools/mksyms.py), so an oops can name functions.
 */
#ifndef KERNEL_KSYMS_H
#define KERNEL_KSYMS_H

#include <kernel/types.h>

/* Name of the function containing addr and the offset into it, or NULL. */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);
/* Address of a function by name, or 0. */
uint64_t ksym_address(const char *name);
size_t ksym_count(void);

#endif
