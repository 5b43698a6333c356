/*
 * Explaining kernel faults (mm/fault_explain.c): what the page tables say about
 * the faulting address, which region of the layout it is in, and
 * whether it hit a guard page; for a double fault, whether a kernel
 * stack overflowed.
 */
#ifndef MM_FAULT_EXPLAIN_H
#define MM_FAULT_EXPLAIN_H

#include <kernel/types.h>

/* Which part of the layout (include/mm/layout.h) va is in. */
const char *kernel_region(uint64_t va);
/* Print the walk of addr through the current tables, one line. */
void fault_print_walk(uint64_t addr);
/*
 * After the oops of a kernel #PF or #DF: the walk, the region, guard
 * pages and stack overflows.  Returns a short headline for the panic
 * ("guard page hit", "kernel stack overflow", or NULL).
 */
const char *kernel_fault_explain(uint64_t vector, uint64_t cr2, uint64_t rsp);

#endif
