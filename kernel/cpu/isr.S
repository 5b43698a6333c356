/*
 * Interrupt and exception entry stubs.
 *
 * Each vector gets a stub that makes the stack look the same whether or
 * not the CPU pushed an error code (a 0 is pushed when it did not), then
 * pushes the vector number and jumps to the common path, which saves the
 * general registers into a struct trap_frame (include/kernel/cpu.h) and
 * calls trap_dispatch(frame).  On return the registers are restored from
 * the frame (which the handler may have changed) and iretq resumes.
 * Above the registers, orig_rax: ~0, or for a system call (`syscall`,
 * `int 0x80`: isr_common_syscall) RAX at entry, the call's number, which
 * a restart after a signal needs once RAX holds the result.
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
    .if \v == 0x80
    jmp isr_common_syscall         /* int 0x80: an i386 system call */
    .else
    jmp isr_common
    .endif
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
    pushq $-1                      /* orig_rax: not a system call */
    jmp isr_regs
isr_common_syscall:
    pushq %rax                     /* orig_rax: the system call's number */
isr_regs:
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
     * so backtraces walk through the trap.  The frame is 184 bytes: 8
     * more keep the call 16-byte aligned, as the C ABI wants. */
    movq 15*8+3*8(%rsp), %rax      /* interrupted rip */
    subq $8, %rsp
    pushq %rax
    pushq 8*8(%rdi)                /* interrupted rbp */
    movq %rsp, %rbp
    call trap_dispatch
    addq $24, %rsp
    .global trap_restore
trap_restore:                      /* a new task's first switch returns here */
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
    addq $24, %rsp                 /* orig_rax, vector and error code */
    iretq


/*
 * syscall entry (64-bit processes).  The CPU saved the user RIP in RCX
 * and RFLAGS in R11, loaded the kernel CS/SS from STAR and cleared the
 * flags in SFMASK (interrupts are off), but left RSP alone: we are still
 * on the user stack.  Switch to the task's kernel stack (one CPU: a
 * variable, set with TSS.RSP0 at every task switch) and build the same
 * trap frame an interrupt from user mode builds, with vector
 * VEC_SYSCALL, so that one path (trap_dispatch, then iretq) serves both.
 */
    .global syscall_entry
syscall_entry:
    movq %rsp, syscall_user_rsp(%rip)
    movq syscall_kernel_rsp(%rip), %rsp
    pushq $0x23                    /* SS: user data | RPL 3 */
    pushq syscall_user_rsp(%rip)   /* RSP */
    pushq %r11                     /* RFLAGS */
    pushq $0x2b                    /* CS: user code 64 | RPL 3 */
    pushq %rcx                     /* RIP */
    pushq $0                       /* error code */
    pushq $256                     /* VEC_SYSCALL */
    jmp isr_common_syscall

/*
 * syscall from compatibility mode (MSR CSTAR).  Intel CPUs raise #UD for
 * it; AMD ones come here, with RCX = the return address, R11 = RFLAGS and
 * the user's ESP.  32-bit programs make their system calls with int 0x80
 * (compat32/syscall32.c), so this entry gives the program the #UD an
 * Intel CPU would: a trap frame as for the exception, at the syscall
 * instruction (2 bytes before the return address), so that user_exception
 * kills it with SIGILL.  Without it, CSTAR 0 would make the CPU run the
 * kernel at address 0 on the user's stack.
 */
    .global syscall32_entry
syscall32_entry:
    movq %rsp, syscall_user_rsp(%rip)
    movq syscall_kernel_rsp(%rip), %rsp
    pushq $0x23                    /* SS: user data | RPL 3 */
    pushq syscall_user_rsp(%rip)   /* RSP */
    pushq %r11                     /* RFLAGS */
    pushq $0x1b                    /* CS: user code 32 | RPL 3 */
    subq $2, %rcx
    pushq %rcx                     /* RIP: the syscall instruction */
    pushq $0                       /* error code */
    pushq $6                       /* VEC_UD */
    jmp isr_common

    .section .bss
    .balign 8
    .global syscall_kernel_rsp, syscall_user_rsp
syscall_kernel_rsp: .quad 0
syscall_user_rsp:   .quad 0
