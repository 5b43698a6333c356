/*
 * The i386 vDSO's code (docs/time.md, "The vDSO").  __kernel_vsyscall is
 * the entry an i386 C library calls for EVERY system call (AT_SYSINFO;
 * musl and glibc take it when the auxiliary vector has it): the number
 * in EAX, the arguments in EBX, ECX, EDX, ESI, EDI, EBP, as for int
 * 0x80, which is what it does (Linux's picks sysenter or syscall when the
 * CPU has them; int 0x80 is the one gate mmk opens to 32-bit code).  The
 * __vdso_* functions are the clock calls with the C convention: the
 * arguments on the stack, EBX kept for the caller.  Each makes its
 * system call: no data page (the 64-bit vDSO says why).
 */
    .text
    .globl __kernel_vsyscall
    .type __kernel_vsyscall, @function
    .balign 16
__kernel_vsyscall:
    .cfi_startproc
    int $0x80
    ret
    .cfi_endproc
    .size __kernel_vsyscall, . - __kernel_vsyscall

/*
 * Where a signal handler returns when it gave no SA_RESTORER (glibc's
 * i386 sigaction leaves it to the vDSO when there is one): the kernel
 * puts these addresses in the frame's return slot
 * (compat32/sigframe32.c).  The bytes are Linux's, which debuggers and
 * unwinders recognize: the old frame pops the signal number, then
 * sigreturn (119); the rt frame makes rt_sigreturn (173).
 */
    .globl __kernel_sigreturn
    .type __kernel_sigreturn, @function
    .balign 32
__kernel_sigreturn:
    popl %eax
    movl $119, %eax
    int $0x80
    .size __kernel_sigreturn, . - __kernel_sigreturn

    .globl __kernel_rt_sigreturn
    .type __kernel_rt_sigreturn, @function
    .balign 32
__kernel_rt_sigreturn:
    movl $173, %eax
    int $0x80
    .size __kernel_rt_sigreturn, . - __kernel_rt_sigreturn

/* name(a, b, c): three stack arguments into EBX, ECX, EDX. */
#define VDSO_FN(name, nr)            \
    .globl name;                     \
    .type name, @function;           \
    .balign 16;                      \
name:                                \
    .cfi_startproc;                  \
    push %ebx;                       \
    .cfi_adjust_cfa_offset 4;        \
    .cfi_rel_offset %ebx, 0;         \
    mov 8(%esp), %ebx;               \
    mov 12(%esp), %ecx;              \
    mov 16(%esp), %edx;              \
    mov $nr, %eax;                   \
    int $0x80;                       \
    pop %ebx;                        \
    .cfi_adjust_cfa_offset -4;       \
    .cfi_restore %ebx;               \
    ret;                             \
    .cfi_endproc;                    \
    .size name, . - name

VDSO_FN(__vdso_clock_gettime, 265)      /* struct old_timespec32 */
VDSO_FN(__vdso_clock_gettime64, 403)    /* struct __kernel_timespec */
VDSO_FN(__vdso_gettimeofday, 78)
VDSO_FN(__vdso_time, 13)
VDSO_FN(__vdso_clock_getres, 266)
VDSO_FN(__vdso_getcpu, 318)

    .section .note.GNU-stack, "", @progbits
