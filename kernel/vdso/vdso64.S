/*
 * The 64-bit vDSO's code (docs/time.md, "The vDSO").  Each function is
 * Linux's vDSO function of the same name and makes the system call
 * itself: mmk keeps no data page for user space to read the clocks from,
 * so the vDSO's gain here is not speed but the ABI.  C libraries look
 * these names up (version LINUX_2.6) from AT_SYSINFO_EHDR and call them
 * instead of the system call, so a vDSO that exists makes them behave as
 * on Linux.  The System V calling convention passes the arguments in
 * RDI, RSI, RDX, the registers the system call takes them in; the
 * syscall instruction clobbers RCX and R11, which a callee may.
 */
#define VDSO_FN(name, nr)            \
    .globl name;                     \
    .type name, @function;           \
    .balign 16;                      \
name:                                \
    .cfi_startproc;                  \
    mov $nr, %eax;                   \
    syscall;                         \
    ret;                             \
    .cfi_endproc;                    \
    .size name, . - name

    .text
VDSO_FN(__vdso_clock_gettime, 228)
VDSO_FN(__vdso_gettimeofday, 96)
VDSO_FN(__vdso_time, 201)
VDSO_FN(__vdso_getcpu, 309)
VDSO_FN(__vdso_clock_getres, 229)

/* Linux exports each one under its plain name too (weak). */
    .weak clock_gettime, gettimeofday, time, getcpu, clock_getres
    .set clock_gettime, __vdso_clock_gettime
    .set gettimeofday, __vdso_gettimeofday
    .set time, __vdso_time
    .set getcpu, __vdso_getcpu
    .set clock_getres, __vdso_clock_getres

    .section .note.GNU-stack, "", @progbits
