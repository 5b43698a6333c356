/*
 * The application processors' first instructions (kernel/cpu/smpboot.c;
 * docs/smp.md).
 *
 * A CPU woken by a startup IPI (SIPI) with vector V starts in real mode
 * at physical address V << 12 (CS = V << 8, IP = 0): 16-bit code in a
 * page below 1 MiB.  smpboot.c copies this block, trampoline_start to
 * trampoline_end, to such a page P and fills in the data at its end (the
 * tr_* offsets below, shared with C through include/kernel/smp.h).  The
 * code only uses addresses relative to P: in real mode through DS = CS,
 * in protected and long mode through EBX = P, and the two far jumps go
 * through pointers smpboot.c wrote.  Steps (Intel SDM vol. 3A, 9.9,
 * "Mode switching"):
 *   real mode: load a small GDT (32-bit code and data, 64-bit code), set
 *              CR0.PE, far jump to 32-bit code;
 *   protected: CR4's PAE (ap_start sets the rest of the boot CPU's CR4),
 *              XD_DISABLE cleared on Intel CPUs (a firmware option may set
 *              it per CPU: then EFER.NXE would fault), CR3 = a
 *              root below 4 GiB that maps this page at its own address
 *              and the kernel's half as the kernel's tables do, EFER.LME
 *              and NXE (the kernel's entries have NX bits), CR0.PG and WP,
 *              far jump to 64-bit code;
 *   long mode: the stack smpboot.c gave this CPU, then a jump to
 *              ap_start(arg) in the kernel (at its high address).
 */
#include <kernel/smp.h>

    .section .rodata
    .balign 16
    .global trampoline_start, trampoline_end
trampoline_start:
    .code16
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    xorl %ebx, %ebx
    movw %ax, %bx
    shll $4, %ebx                       /* EBX = P, the page's physical address */
    lgdtl TR_GDTR
    movl $0x11, %eax                    /* PE, ET: caching on (CD, NW clear), whatever INIT left */
    movl %eax, %cr0
    ljmpl *TR_FAR32                     /* to pm32, CS = 0x08 */

    .code32
pm32 = . - trampoline_start
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl TR_CR4(%ebx), %eax             /* PAE and what needs no more (the rest in ap_start) */
    movl %eax, %cr4
    testl $1, TR_FLAGS(%ebx)            /* an Intel CPU: IA32_MISC_ENABLE exists */
    jz 1f
    movl $0x1a0, %ecx
    rdmsr
    andl $~4, %edx                      /* XD_DISABLE (bit 34) off, or NXE below faults */
    wrmsr
1:
    movl TR_CR3(%ebx), %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx              /* EFER */
    rdmsr
    orl TR_EFER(%ebx), %eax             /* LME, NXE */
    wrmsr
    movl $0x80010033, %eax              /* PG, WP, NE, ET, MP, PE */
    movl %eax, %cr0
    ljmpl *TR_FAR64(%ebx)               /* to lm64, CS = 0x18 */

    .code64
lm64 = . - trampoline_start
    movl %ebx, %ebx                     /* upper halves are undefined after the switch */
    movq TR_STACK(%rbx), %rsp
    movq TR_ARG(%rbx), %rdi
    movq TR_ENTRY(%rbx), %rax
    xorl %ebp, %ebp
    andq $-16, %rsp
    callq *%rax                         /* the ABI's alignment at entry; never returns */
2:  hlt
    jmp 2b
    .balign 16
    .global trampoline_pm32, trampoline_lm64
trampoline_pm32: .long pm32
trampoline_lm64: .long lm64
trampoline_end:
