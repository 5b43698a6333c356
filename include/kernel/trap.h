/*
 * Traps: exception dispatch, the decoded oops, and fault catching.
 */
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include <kernel/cpu.h>

/* What a caught fault looked like. */
struct fault_info {
    uint64_t vector, error, cr2, rip, handler_rsp;
};

/*
 * Run fn(arg); if it raises an exception, the exception is reported
 * (the usual decoded oops, marked as caught) and catch_faults returns 1
 * with *info filled, instead of panicking.  Returns 0 when fn returned
 * normally.  One level deep: a fault while a catch is armed in a nested
 * catch_faults is a kernel bug.  Only the in-kernel tests use it: the
 * user-copy helpers make every page present before they copy
 * (kernel/proc/uaccess.c), so their copy never faults.
 */
int catch_faults(void (*fn)(void *), void *arg, struct fault_info *info);

/* Print a decoded report of an exception (vector, error code in words,
 * CR2, registers, backtrace). */
void oops_print(const struct trap_frame *f, uint64_t cr2, const char *headline);

/* Decode an exception error code into words. */
void decode_error(uint64_t vector, uint64_t error, char *buf, size_t size);
const char *vector_name(uint64_t vector);

/* An exception in user mode (kernel/proc/user_trap.c): a page fault for the
 * address space, or the process is killed. */
void user_exception(struct trap_frame *f, uint64_t cr2);

/* Print the call chain starting from a frame pointer. */
void backtrace_from(uint64_t rbp, uint64_t rip);

#endif
