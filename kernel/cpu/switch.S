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
