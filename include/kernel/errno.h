/*
 * Error numbers, with Linux's values so that a system call can hand them
 * to a user program unchanged, and the kernel's one error policy.
 *
 * Three ways a function can fail, and what each one looks like:
 *
 * 1. It returns NULL: the functions that hand out memory or an address
 *    of it.  alloc_pages, __get_free_pages, get_zeroed_page, kmalloc,
 *    kzalloc, kmem_cache_alloc, vmalloc, vmap, ioremap, kmap: NULL means
 *    "nothing for you" (out of memory, no room in the address range) and
 *    the caller unwinds.  The look-ups page_address and virt_to_page
 *    follow the same rule (virt_to_page: NULL for an address outside the
 *    direct map).  frame_alloc and alloc_contig return a physical
 *    address, where 0 plays the part of NULL: frame 0 is never handed out.
 *
 * 2. It returns 0 (or a count, or a new reference count) on success and
 *    a negative errno on failure: everything else that can fail.  The
 *    caller tests `< 0` (or `!= 0`) and passes the code up unchanged.
 *    Which code for what:
 *      -EINVAL  a bad argument: not a frame, not aligned, an empty or
 *               inverted range, a flag or size the call does not take;
 *      -ENOMEM  out of memory, or the memory a call was given (an
 *               output array, a scratch buffer) cannot hold the result;
 *      -EBUSY   still in use, or not in the state the call requires
 *               (a frame someone else still references, a range that
 *               is not all reserved);
 *      -EFAULT  a bad user pointer (copy_from_user/copy_to_user);
 *      -EEXIST, -ENOENT, -ENOSPC...  what Linux returns in the same case.
 *    Running out of memory is normal: never a panic, never a message
 *    that cannot be silenced (__GFP_NOWARN).
 *
 * 3. It panics: a broken invariant, i.e. the kernel's own bug or
 *    corruption it has detected (a free list pointing outside its zone,
 *    a validator failing after boot).  Going on would spread the damage.
 *    The message names the function and the values involved, in the
 *    style  panic("node_release: frame %#lx refcount %u", pfn, ref),
 *    and ASSERT/DASSERT (kernel/assert.h) write it that way.  A boot
 *    that cannot go on at all (no usable memory map) panics too.
 *
 * In between: misuse by a kernel caller that can be survived without
 * corrupting anything (a double free_pages, put_page on a free frame,
 * free_contig on a run that is not one) is reported, not panicked on:
 * one line through node_report(), one more on the allocator's errors
 * counter (node->errors), the state left exactly as it was, and -EINVAL
 * or -EBUSY returned when the function returns anything.  Tests assert
 * the line, the counter and the code.  The slab allocator and vmalloc
 * do the same in debug mode (the slab_debug option); outside it a bad
 * kfree or vfree panics, naming the culprit.
 *
 * Anything from outside the kernel is validated where it enters and
 * refused with an errno, never asserted on: what a user program controls
 * (system-call arguments, pointers, the ELF files it executes) so that a
 * user cannot panic the kernel, and the firmware's memory map, which
 * memmap_build cleans or refuses.
 *
 * Validators: every allocator has a `*_check(..., char *why, size_t
 * size)` that walks its whole structure and recounts it.  It returns 0,
 * or -EUCLEAN ("structure needs cleaning", Linux's code for detected
 * corruption) with the first problem written into why; -ENOMEM or
 * -EINVAL when it could not run at all.  CHECK (mm/check.h) writes
 * those checks.  Tests run the validators after every operation; the
 * kernel asserts them at boot.
 */
#ifndef KERNEL_ERRNO_H
#define KERNEL_ERRNO_H

#define EPERM    1
#define ENOENT   2
#define ESRCH    3
#define EINTR    4
#define EIO      5
#define ENXIO    6
#define E2BIG    7
#define ENOEXEC  8
#define EBADF    9
#define ECHILD  10
#define EAGAIN  11
#define ENOMEM  12
#define EACCES  13
#define EFAULT  14
#define EBUSY   16
#define EEXIST  17
#define EXDEV   18
#define ENODEV  19
#define ENOTDIR 20
#define EISDIR  21
#define EINVAL  22
#define ENFILE  23
#define EMFILE  24
#define ENOTTY  25
#define ETXTBSY 26
#define EFBIG   27
#define ENOSPC  28
#define ESPIPE  29
#define EROFS   30
#define EMLINK  31
#define EPIPE   32
#define ERANGE  34
#define ENAMETOOLONG 36
#define ENOSYS  38
#define ENOTEMPTY 39
#define ELOOP   40
#define EOVERFLOW 75
#define EOPNOTSUPP 95
#define ETIMEDOUT 110
#define EUCLEAN 117 /* structure needs cleaning: a validator found corruption */

/*
 * Kernel-internal: a system call interrupted by a signal returns one of
 * these, never seen by user code.  The signal code (kernel/proc/signal.c),
 * on the way back to user mode, turns it into -EINTR or restarts the call,
 * as Linux does (include/linux/errno.h):
 *  - ERESTARTSYS: restart if the handler has SA_RESTART (or there is no
 *    handler), else EINTR (read, write, wait4 ...);
 *  - ERESTARTNOINTR: always restart;
 *  - ERESTARTNOHAND: restart only if no handler ran, else EINTR (poll,
 *    select, pause);
 *  - ERESTART_RESTARTBLOCK: like ERESTARTNOHAND, restarted through
 *    restart_syscall with the time left (nanosleep).
 */
#define ERESTARTSYS    512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

#endif
