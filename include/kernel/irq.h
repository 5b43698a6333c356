/*
 * Device interrupts (kernel/cpu/ioapic.c; docs/terminal.md).
 *
 * The legacy ISA interrupts (IRQ 0-15: the keyboard is IRQ 1, COM1 IRQ 4)
 * reach the CPU through the I/O APIC, which sends IRQ n as vector
 * VEC_IRQ_BASE + n to this CPU's local APIC.  The 8259 PICs stay masked
 * (kernel/cpu/apic.c).  Handlers run in interrupt context: with interrupts
 * off, on the kernel stack of whatever task was interrupted (a program in
 * user mode, or the idle loop; the kernel itself runs with interrupts
 * off), so a handler must not sleep; it may wake_up and send signals.
 */
#ifndef KERNEL_IRQ_H
#define KERNEL_IRQ_H

#include <kernel/types.h>

#define VEC_IRQ_BASE 0x30
#define NR_LEGACY_IRQS 16

/* What a handler found: IRQ_HANDLED when its device had raised the
 * interrupt (data read, status acknowledged), IRQ_NONE when the device
 * had nothing to say (Linux's irqreturn_t). */
typedef enum { IRQ_NONE = 0, IRQ_HANDLED = 1 } irqreturn_t;
typedef irqreturn_t (*irq_handler_t)(int irq);

/*
 * Route ISA interrupt irq to fn and unmask it.  The first call finds the
 * I/O APIC (the ACPI MADT, or the default 0xfec00000).  0, or -EINVAL
 * (bad irq, or one already taken), -ENODEV (no I/O APIC answered).
 */
int irq_request(int irq, irq_handler_t fn);

/* Mask irq and forget its handler; nothing if it has none.  A later
 * irq_request starts afresh. */
void irq_free(int irq);

/*
 * From trap_dispatch: vector VEC_IRQ_BASE + irq came in; runs the handler
 * and acknowledges it (EOI).  A device the kernel does not serve cannot
 * stall the machine (Linux's spurious-IRQ logic, kernel/irq/spurious.c):
 *  - an IRQ without a handler is masked at once, and logged once;
 *  - an IRQ whose handler said IRQ_NONE to more than IRQ_UNHANDLED_MAX of
 *    the last IRQ_WINDOW interrupts ("nobody cared": a level-triggered
 *    line held by a device nobody serves) is masked and logged; it stays
 *    masked until irq_free.
 */
#define IRQ_WINDOW        100000
#define IRQ_UNHANDLED_MAX 99900
void irq_dispatch(int irq);

/* Interrupts seen per IRQ since boot (for tests and the docs' demo). */
uint64_t irq_count(int irq);

/* Was irq masked by the logic above (no handler, or nobody cared)? */
bool irq_disabled(int irq);

/* Is irq's redirection entry masked in the I/O APIC itself (true when
 * there is no I/O APIC, or irq is not on it)? */
bool irq_masked(int irq);

#endif
