/*
 * int catch_faults(void (*fn)(void *), void *arg, struct fault_info *info)
 *
 * Saves the callee-saved registers on the stack and the stack pointer in
 * catch_ctx, then calls fn(arg).  If fn faults, trap_dispatch() sees
 * catch_ctx.active, fills *info and resumes at catch_resume with the
 * saved stack pointer and rax = 1; the callee-saved registers come back
 * from the stack, exactly as if fn had returned.  See include/kernel/trap.h.
 */
    .section .text
    .global catch_faults, catch_resume, catch_ctx

catch_faults:
    pushq %rbp
    movq %rsp, %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp                  /* keep the stack 16-byte aligned */
    leaq catch_ctx(%rip), %rax
    movq %rsp, 0(%rax)             /* resume stack */
    movq %rdx, 8(%rax)             /* where to report */
    movq $1, 16(%rax)              /* armed */
    movq %rdi, %rax
    movq %rsi, %rdi
    call *%rax
    xorl %eax, %eax
catch_resume:
    leaq catch_ctx(%rip), %rcx
    movq $0, 16(%rcx)              /* disarmed */
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

    .section .bss
    .balign 8
catch_ctx:
    .skip 24
