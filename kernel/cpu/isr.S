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
 *
 * GS: coming from user mode (the saved CS has RPL 3), the first thing
 * is swapgs, so that %gs reaches this CPU's struct percpu; going back to
 * user mode, the last thing before iretq is swapgs again
 * (include/kernel/percpu.h).  The syscall entries swap first of all.
 * Limit: an NMI or machine check that hits between a user entry and its
 * swapgs (or between the last swapgs and iretq) runs with the user's GS;
 * nothing those paths run reads %gs (Linux's paranoid entry reads the
 * GS base MSR instead).
 */
#include <kernel/percpu.h>

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
    /* orig_rax, vector, error code, then the CPU's RIP, CS: from user
     * mode, this CPU's GS (syscall_entry swapped it already and comes
     * to isr_after_swapgs). */
    testb $3, 4*8(%rsp)
    jz isr_after_swapgs
    swapgs
isr_after_swapgs:
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
trap_restore:
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
    testb $3, 8(%rsp)              /* back to user mode: the user's GS */
    jz 1f
    swapgs
1:  iretq


/*
 * A new task's first switch_to returns here, with its trap frame at
 * %rsp: the CPU lets the kernel lock go (include/kernel/kernel_lock.h),
 * which the task that ran before it took, and the task enters user mode.
 * The frame is 184 bytes below a 16-byte boundary: 8 more align the call.
 */
    .global ret_from_fork
ret_from_fork:
    subq $8, %rsp
    call unlock_kernel
    addq $8, %rsp
    jmp trap_restore

/*
 * syscall entry (64-bit processes).  The CPU saved the user RIP in RCX
 * and RFLAGS in R11, loaded the kernel CS/SS from STAR and cleared the
 * flags in SFMASK (interrupts are off), but left RSP alone: we are still
 * on the user stack.  swapgs, then switch to the task's kernel stack
 * (this CPU's percpu.kernel_rsp, set with TSS.RSP0 at every task switch)
 * and build the same trap frame an interrupt from user mode builds, with
 * vector VEC_SYSCALL, so that one path (trap_dispatch, then iretq)
 * serves both.
 */
    .global syscall_entry
syscall_entry:
    swapgs
    movq %rsp, %gs:PERCPU_USER_RSP
    movq %gs:PERCPU_KERNEL_RSP, %rsp
    pushq $0x23                    /* SS: user data | RPL 3 */
    pushq %gs:PERCPU_USER_RSP      /* RSP */
    pushq %r11                     /* RFLAGS */
    pushq $0x2b                    /* CS: user code 64 | RPL 3 */
    pushq %rcx                     /* RIP */
    pushq $0                       /* error code */
    pushq $256                     /* VEC_SYSCALL */
    pushq %rax                     /* orig_rax: the system call's number */
    jmp isr_after_swapgs

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
    swapgs
    movq %rsp, %gs:PERCPU_USER_RSP
    movq %gs:PERCPU_KERNEL_RSP, %rsp
    pushq $0x23                    /* SS: user data | RPL 3 */
    pushq %gs:PERCPU_USER_RSP      /* RSP */
    pushq %r11                     /* RFLAGS */
    pushq $0x1b                    /* CS: user code 32 | RPL 3 */
    subq $2, %rcx
    pushq %rcx                     /* RIP: the syscall instruction */
    pushq $0                       /* error code */
    pushq $6                       /* VEC_UD */
    pushq $-1                      /* orig_rax: not a system call */
    jmp isr_after_swapgs

