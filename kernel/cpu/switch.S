/*
 * switch_to(uint64_t *save_rsp, uint64_t new_rsp): the task switch.
 *
 * Push the callee-saved registers (the C ABI says the caller keeps the
 * others), store RSP into *save_rsp, load new_rsp and pop the other
 * task's registers: its `ret` returns into whatever called switch_to in
 * that task (schedule()), or, for a task that never ran, into
 * trap_restore (kernel/cpu/isr.S) with its trap frame just above, which
 * drops it into user mode with iretq.
 */
    .section .text
    .global switch_to
switch_to:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

/*
 * kthread_trampoline: where a new kernel thread's first switch_to
 * returns (kernel/proc/kthread.c put it there, with the function in r15
 * and its argument in r14): call fn(arg) on an aligned stack.  fn never
 * returns; ud2 if it does.
 */
    .global kthread_trampoline
kthread_trampoline:
    movq %r14, %rdi
    andq $-16, %rsp
    callq *%r15
    ud2
