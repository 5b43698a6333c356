/*
 * The kernel services the file layer uses, replaced for host tests
 * (tests/host/file_host.c): kmalloc is malloc with a failure switch,
 * "user memory" is host memory inside the window [fh_ulo, fh_uhi)
 * (outside: -EFAULT), and sleep_on runs fh_sleep_hook, standing for the
 * other task, or, with no hook, longjmps to fh_would_block so that a test
 * can say "this call would block".
 */
#ifndef FILE_HOST_H
#define FILE_HOST_H

#include <setjmp.h>
#include <stdint.h>

struct task;
extern struct task *current;

extern int fh_kmalloc_fail_in;       /* >= 0: that many more successes, then NULL */
extern uint64_t fh_ulo, fh_uhi;
/* The default top: user space of x86-64 (host stacks and heaps lie below). */
#define FH_USER_END 0x00007ffffffff000ul
extern void (*fh_sleep_hook)(void);
extern jmp_buf fh_would_block;
extern int fh_sleeps;
extern int fh_last_sig;              /* the last signal send_sig sent (SIGPIPE), or 0 */

/* Reset all of the above; current becomes a fresh task with pid 1 and no files. */
void fh_reset(void);

#define U(p) ((uint64_t)(uintptr_t)(p))

#endif
