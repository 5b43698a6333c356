/*
 * Kernel entry, jumped to by the loader (include/boot/boot_info.h):
 * long mode, interrupts off, RDI = boot_info (direct-map address), on
 * the firmware's stack in loader page tables.  Switch to our own stack
 * and call kmain(); it never returns.
 */
    .section .text.boot, "ax"
    .global _start
_start:
    cli
    leaq boot_stack_top(%rip), %rsp
    xorl %ebp, %ebp                /* end of the backtrace chain */
    call kmain
1:  hlt
    jmp 1b

    .section .bss
    .balign 16
    .global boot_stack_bottom, boot_stack_top
boot_stack_bottom:
    .skip 32768
boot_stack_top:

/*
 * call_on_stack(top, fn): switch RSP to `top` and call fn(), which must
 * not return (kmain moves to a vmalloc'ed stack with a guard page this
 * way).  RBP is cleared so backtraces end there.
 */
    .section .text
    .global call_on_stack
call_on_stack:
    movq %rdi, %rsp
    xorl %ebp, %ebp
    call *%rsi
1:  hlt
    jmp 1b
