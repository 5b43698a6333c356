/*
 * Copying between the kernel and user memory (kernel/proc/uaccess.c).
 *
 * The only place the kernel touches user memory through user addresses
 * (SMAP enforces it: the copy runs between stac and clac; exec writes a
 * new image's stack through the direct map instead, with mm_write).
 * Every range is checked first: it must lie entirely in the current
 * process's user space (no overflow, no kernel or non-canonical address)
 * and be mapped with the needed access.  Pages not yet present are
 * faulted in as the process's own access would (demand paging), and a
 * write breaks copy-on-write first, so read() into a buffer shared after
 * fork changes only the caller's copy.  A bad range gives -EFAULT and
 * nothing worse.
 */
#ifndef KERNEL_UACCESS_H
#define KERNEL_UACCESS_H

#include <kernel/types.h>

int copy_from_user(void *dst, uint64_t usrc, size_t n);
int copy_to_user(uint64_t udst, const void *src, size_t n);
/* A NUL-terminated string of at most max - 1 bytes into dst: its length,
 * -EFAULT, or -ENAMETOOLONG when no NUL comes within max bytes. */
long strncpy_from_user(char *dst, uint64_t usrc, size_t max);
/* The aligned 4-byte user word at u becomes desired if it holds expected,
 * in one locked instruction (Linux's futex_atomic_cmpxchg_inatomic):
 * atomic even against threads writing it in user mode on other CPUs.  0
 * and the value it held in *found (it was replaced iff *found ==
 * expected), -EINVAL (not 4-byte aligned) or -EFAULT. */
int user_cmpxchg_u32(uint64_t u, uint32_t expected, uint32_t desired, uint32_t *found);
/* Is [u, u + n) a range of the current process's user space at all? */
bool user_range_ok(uint64_t u, size_t n);

#endif
