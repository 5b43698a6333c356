/*
 * CPU tables: GDT (with TSS), IDT, and the trap frame every interrupt
 * and exception stub builds (kernel/cpu/isr.S).
 */
#ifndef KERNEL_CPU_H
#define KERNEL_CPU_H

#include <kernel/types.h>

/*
 * GDT selectors.  The user ones are laid out for SYSRET, which loads
 * CS = STAR[63:48] (+16 for 64-bit) and SS = STAR[63:48] + 8:
 *   0x18 user code 32 (compatibility mode, L=0 D=1)
 *   0x20 user data
 *   0x28 user code 64
 */
#define GDT_KCODE   0x08
#define GDT_KDATA   0x10
#define GDT_UCODE32 0x18
#define GDT_UDATA   0x20
#define GDT_UCODE64 0x28
#define GDT_TSS     0x30   /* 16 bytes: two slots */
#define GDT_TLS0    0x40   /* three i386 TLS slots for set_thread_area */
#define GDT_TLS_ENTRIES 3
#define GDT_TLS_FIRST   (GDT_TLS0 / 8)   /* GDT index 8: set_thread_area's entry_number */
#define GDT_ENTRIES 11

/* Interrupt stack table slots (TSS.IST1..7) */
#define IST_DOUBLE_FAULT 1
#define IST_NMI          2
#define IST_MACHINE_CHECK 3
#define IST_STACK_SIZE   (16 * 1024)

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    /* RAX as a system call found it (`syscall`, `int 0x80`): its number,
     * which a restart after a signal puts back (kernel/proc/sig_deliver.c).
     * ~0 for every other entry, and once rt_sigreturn has run. */
    uint64_t orig_rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

void gdt_init(void);
/* An application processor's GDT, TSS and IST stacks, made by the boot
 * CPU (NULL: no memory), then loaded by the AP itself (kernel/cpu/smpboot.c). */
void *gdt_alloc_ap(void);
void gdt_load_ap(void *tables);
/* Put a task's TLS descriptors in the GDT slots GDT_TLS0... (compat32). */
void gdt_set_tls(const uint64_t tls[GDT_TLS_ENTRIES]);
/* The stack the CPU switches to on an interrupt from user mode. */
void tss_set_rsp0(uint64_t top);
void idt_init(void);
/* Load the IDT idt_init built (an application processor). */
void idt_load(void);

/* The bounds of an IST stack, to tell which stack a handler ran on. */
void ist_bounds(int ist, uint64_t *lo, uint64_t *hi);

/* Exception vectors (Intel SDM vol. 3A, table 6-1) */
enum {
    VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5,
    VEC_UD = 6, VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12,
    VEC_GP = 13, VEC_PF = 14, VEC_MF = 16, VEC_AC = 17, VEC_MC = 18,
    VEC_XM = 19, VEC_VE = 20, VEC_CP = 21,
    VEC_TIMER = 32,        /* the local APIC timer (kernel/cpu/apic.c) */
    VEC_INT80 = 0x80,      /* int 0x80: i386 system calls (compat32) */
    VEC_SYSCALL = 256,     /* not a vector: the syscall instruction (kernel/cpu/isr.S) */
};

#endif
