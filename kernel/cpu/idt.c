/*
 * IDT: one 16-byte gate per vector (SDM vol. 3A, 6.14.1), each pointing to
 * its stub in kernel/cpu/isr.S.  All gates are interrupt gates (IF cleared on
 * entry) with DPL 0, so user code cannot raise them with `int n`; the
 * exceptions: int3, into and the i386 system-call gate `int 0x80`
 * (compat32/syscall32.c) have DPL 3.  Double
 * fault, NMI and machine check run on their own IST stacks.
 */
#include <kernel/cpu.h>

struct idt_gate {
    uint16_t off_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t off_mid;
    uint32_t off_hi;
    uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout (SDM 6.14.1)");

#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */

extern const char isr_stubs[]; /* 256 stubs, 16 bytes apart (kernel/cpu/isr.S) */
static struct idt_gate idt[256] __attribute__((aligned(16)));

static void set_gate(int vec, uint64_t handler, int ist, uint8_t attr)
{
    idt[vec] = (struct idt_gate){
        .off_lo = handler & 0xffff,
        .selector = GDT_KCODE,
        .ist = (uint8_t)ist,
        .type_attr = attr,
        .off_mid = (handler >> 16) & 0xffff,
        .off_hi = (uint32_t)(handler >> 32),
    };
}

void idt_init(void)
{
    for (int v = 0; v < 256; v++)
        set_gate(v, (uint64_t)(isr_stubs + 16 * v), 0, GATE_INTERRUPT);
    set_gate(VEC_DF, (uint64_t)(isr_stubs + 16 * VEC_DF), IST_DOUBLE_FAULT, GATE_INTERRUPT);
    /* int3 and into may be used by user code (SIGTRAP, SIGSEGV as on Linux). */
    set_gate(VEC_BP, (uint64_t)(isr_stubs + 16 * VEC_BP), 0, GATE_INTERRUPT | 0x60);
    set_gate(VEC_OF, (uint64_t)(isr_stubs + 16 * VEC_OF), 0, GATE_INTERRUPT | 0x60);
    /* int 0x80: 32-bit programs' system calls (an interrupt gate: the
     * kernel runs with interrupts off, as after syscall). */
    set_gate(VEC_INT80, (uint64_t)(isr_stubs + 16 * VEC_INT80), 0, GATE_INTERRUPT | 0x60);
    set_gate(VEC_NMI, (uint64_t)(isr_stubs + 16 * VEC_NMI), IST_NMI, GATE_INTERRUPT);
    set_gate(VEC_MC, (uint64_t)(isr_stubs + 16 * VEC_MC), IST_MACHINE_CHECK, GATE_INTERRUPT);
    idt_load();
}

void idt_load(void)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}
