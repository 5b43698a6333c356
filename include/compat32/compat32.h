/*
 * compat32, the ABI half: 32-bit (i386) programs as processes in
 * compatibility mode (docs/compat32-abi.md).
 *
 * A 32-bit process is an ordinary task with TASK_COMPAT32 in its flags:
 * its code segment is GDT_UCODE32 (L=0 D=1), its address space ends at
 * MM_VA_END_32 (0xffc00000), it enters the kernel with `int 0x80` and
 * Linux's i386 numbers, and it may keep a thread pointer in GS through a
 * set_thread_area descriptor.  Everything else (scheduling, fork, exit,
 * wait4, kill, faults) is the 64-bit code.
 */
#ifndef COMPAT32_COMPAT32_H
#define COMPAT32_COMPAT32_H

#include <kernel/cpu.h>

struct mm;
struct task;

/*
 * compat32/syscall32.c: run the i386 system call in a trap frame built by
 * `int 0x80`: the number in EAX, the arguments in EBX, ECX, EDX, ESI, EDI,
 * EBP, each zero-extended to 64 bits; the result goes to RAX (EAX is what
 * a 32-bit program sees).  Unknown numbers: -ENOSYS, logged once.
 */
void syscall32_dispatch(struct trap_frame *f);

/* compat32/syscall32_names.c: the name of i386 call nr (Linux's
 * syscall_32.tbl), or NULL for a number Linux does not use. */
#define NR32_SYSCALLS 470
const char *syscall32_name(uint32_t nr);

/*
 * compat32/tls32.c: the per-task state that segmentation still has in
 * long mode: the three TLS descriptors of set_thread_area (t->tls) and
 * the user's DS, ES, FS and GS selectors (t->useg).
 *  - tls_switch_out(prev): save the selectors the CPU holds for prev;
 *  - tls_switch_in(next): put next's TLS descriptors in the GDT and load
 *    its selectors (one that would fault is loaded as 0 instead);
 *  - tls_fork(child, parent): the child gets the parent's (current's)
 *    descriptors and its live selectors;
 *  - tls_exec_reset(t): no descriptors, DS = ES = user data, FS = GS = 0;
 *    loaded at once when t is current.
 * Never fail, never sleep.
 */
void tls_switch_out(struct task *prev);
void tls_switch_in(struct task *next);
void tls_fork(struct task *child, const struct task *parent);
void tls_exec_reset(struct task *t);
/* clone(CLONE_SETTLS) from an i386 call: install the struct user_desc at
 * utls in child's TLS descriptors, as set_thread_area would but with no
 * choosing of the entry (Linux: -EFAULT, -EINVAL). */
long tls_clone_settls(struct task *child, uint64_t utls);

#endif
