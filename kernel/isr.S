/*
 * Interrupt and exception entry stubs.
 *
 * Each vector gets a stub that makes the stack look the same whether or
 * not the CPU pushed an error code (a 0 is pushed when it did not), then
 * pushes the vector number and jumps to the common path, which saves the
 * general registers into a struct trap_frame (include/kernel/cpu.h) and
 * calls trap_dispatch(frame).  On return the registers are restored from
 * the frame (which the handler may have changed) and iretq resumes.
 */
    .section .text

/*
 * 256 stubs of 16 bytes each: stub v is at isr_stubs + 16 * v.  The
 * linker script checks that the block is exactly 4096 bytes.
 * Vectors whose exceptions push an error code: 8, 10-14, 17, 21, 29, 30.
 */
.macro ISR_STUB v
    .balign 16
    .if (\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
    .else
    pushq $0
    .endif
    pushq $\v
    jmp isr_common
.endm

    .balign 16
    .global isr_stubs, isr_stubs_end
isr_stubs:
    .set vec, 0
    .rept 256
    ISR_STUB vec
    .set vec, vec + 1
    .endr
    .balign 16
isr_stubs_end:

isr_common:
    cld
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    /* Give the C handler a frame-pointer link to the interrupted code,
     * so backtraces walk through the trap. */
    movq 15*8+2*8(%rsp), %rax      /* interrupted rip */
    pushq %rax
    pushq 8*8(%rdi)                /* interrupted rbp */
    movq %rsp, %rbp
    call trap_dispatch
    addq $16, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp                 /* vector and error code */
    iretq

