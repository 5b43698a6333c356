/*
 * The I/O APIC: where the legacy device interrupts come in.
 *
 * An x86 PC since the Pentium routes device interrupt lines to an I/O
 * APIC, a small MMIO device with one 64-bit redirection entry per input
 * ("global system interrupt", GSI): the vector to raise, which CPU, the
 * polarity and trigger mode, and a mask bit (Intel 82093AA datasheet;
 * ACPI spec 5.2.12, the MADT).  The older route, the two 8259 PICs, stays
 * masked (kernel/cpu/apic.c); we chose the I/O APIC because the local APIC
 * already runs the timer and every PC of the last twenty years has one.
 *
 * Where it is, and how ISA IRQs map to GSIs, is in the ACPI MADT ("APIC"
 * table): I/O APIC entries (type 1) give addresses and GSI bases;
 * interrupt source overrides (type 2) say that, e.g., ISA IRQ 0 is GSI 2
 * on QEMU.  Without an RSDP, a MADT or an I/O APIC entry in it, we assume
 * what nearly every PC (and QEMU) has: one I/O APIC at 0xfec00000 with
 * GSI base 0, and ISA IRQ n on GSI n, active high, edge triggered.  The
 * log says which was used.
 *
 * The ACPI tables are firmware data: the reader (kernel/acpi/tables.c)
 * bounds each one's length and checks its checksum before we see it; the
 * MADT's entries are then read in small pieces, each bounded by the
 * table's length: nothing is allocated.
 *
 * Interrupts nobody serves: a device can raise an interrupt the kernel
 * has no use for (an input routed by mistake, a level-triggered line
 * whose device the handler does not recognise).  A level-triggered line
 * that is never quieted fires again right after each EOI, and the CPU
 * would do nothing else.  So, as Linux's kernel/irq/spurious.c: an IRQ
 * without a handler is masked at its first interrupt and logged once;
 * a handler that returned IRQ_NONE for more than IRQ_UNHANDLED_MAX of
 * the last IRQ_WINDOW interrupts gets its IRQ masked ("nobody cared").
 * Vectors outside 0x30-0x3f (an MSI nobody set up) are trap.c's: it
 * acknowledges them and logs each vector once.
 *
 * Invariant: an IRQ's redirection entry is unmasked iff it has a handler
 * and is not disabled; every entry of every other input stays masked.
 */
#include <kernel/irq.h>
#include <kernel/acpi.h>
#include <kernel/apic.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include <mm/vmalloc.h>

#define IOAPIC_DEFAULT_BASE 0xfec00000ul
#define IOREGSEL 0x00
#define IOWIN    0x10
#define REG_VER  0x01
#define REG_REDTBL(n) (0x10 + 2 * (n))
#define RTE_MASKED     (1u << 16)
#define RTE_LEVEL      (1u << 15)
#define RTE_ACTIVE_LOW (1u << 13)

struct isa_route {
    uint32_t gsi;
    bool active_low, level;
};

static volatile uint32_t *ioapic;
static uint32_t gsi_base, nr_inputs;
static struct isa_route route[NR_LEGACY_IRQS];
static irq_handler_t handlers[NR_LEGACY_IRQS];
static uint64_t counts[NR_LEGACY_IRQS];       /* since boot */
static uint32_t window[NR_LEGACY_IRQS];       /* interrupts in the current window */
static uint32_t unhandled[NR_LEGACY_IRQS];    /* ... that the handler did not claim */
static uint16_t disabled;                     /* bit n: IRQ n masked by the logic above */
static bool probed;

static uint32_t io_read(uint32_t reg)
{
    ioapic[IOREGSEL / 4] = reg;
    return ioapic[IOWIN / 4];
}

static void io_write(uint32_t reg, uint32_t v)
{
    ioapic[IOREGSEL / 4] = reg;
    ioapic[IOWIN / 4] = v;
}

/* Fill route[] and find the I/O APIC that serves the ISA interrupts. */
static uint64_t madt_parse(void)
{
    for (int i = 0; i < NR_LEGACY_IRQS; i++)
        route[i] = (struct isa_route){ (uint32_t)i, false, false };
    const struct acpi_tables *t = acpi_kernel();
    uint32_t len;
    uint64_t madt;
    if (acpi_find_table(t, "APIC", &madt, &len)) {
        printk("ioapic: no ACPI MADT: assuming one I/O APIC at %#lx, ISA IRQ n on GSI n\n",
               IOAPIC_DEFAULT_BASE);
        return IOAPIC_DEFAULT_BASE;
    }
    uint64_t base = 0;
    unsigned overrides = 0;
    uint8_t e[256];
    /* The entries follow the header and two 32-bit fields (local APIC
     * address, flags); each starts with its type and its length. */
    for (uint32_t off = 44; off + 2 <= len;) {
        if (acpi_table_read(t, madt, len, off, e, 2) || e[1] < 2 ||
            acpi_table_read(t, madt, len, off, e, e[1]))
            break;
        uint8_t type = e[0], elen = e[1];
        if (type == 1 && elen >= 12) {           /* I/O APIC */
            uint32_t addr, gbase;
            memcpy(&addr, e + 4, 4);
            memcpy(&gbase, e + 8, 4);
            if (!base || gbase == 0) {           /* the one serving GSI 0 (the ISA lines) */
                base = addr;
                gsi_base = gbase;
            }
        } else if (type == 2 && elen >= 10 && e[2] == 0 && e[3] < NR_LEGACY_IRQS) {
            uint32_t gsi;                        /* interrupt source override, bus 0 (ISA) */
            uint16_t flags;
            memcpy(&gsi, e + 4, 4);
            memcpy(&flags, e + 8, 2);
            struct isa_route *r = &route[e[3]];
            r->gsi = gsi;
            r->active_low = (flags & 3) == 3;     /* 0: the bus's default, high for ISA */
            r->level = ((flags >> 2) & 3) == 3;   /* 0: the bus's default, edge for ISA */
            overrides++;
        }
        off += elen;
    }
    if (!base) {
        printk("ioapic: the MADT lists no I/O APIC: assuming %#lx\n", IOAPIC_DEFAULT_BASE);
        return IOAPIC_DEFAULT_BASE;
    }
    printk("ioapic: from the ACPI MADT: I/O APIC at %#lx, GSI base %u, %u ISA override%s\n",
           base, gsi_base, overrides, overrides == 1 ? "" : "s");
    return base;
}

static bool ioapic_probe(void)
{
    if (probed)
        return ioapic != NULL;
    probed = true;
    uint64_t base = madt_parse();
    ioapic = ioremap(base, 4096);
    if (!ioapic) {
        printk("ioapic: cannot map %#lx: no device interrupts\n", base);
        return false;
    }
    uint32_t ver = io_read(REG_VER);
    if (ver == 0xffffffffu) {
        printk("ioapic: nothing answers at %#lx: no device interrupts\n", base);
        iounmap(ioapic);
        ioapic = NULL;
        return false;
    }
    nr_inputs = ((ver >> 16) & 0xff) + 1;
    for (uint32_t i = 0; i < nr_inputs; i++) {   /* everything masked until asked for */
        io_write(REG_REDTBL(i), RTE_MASKED);
        io_write(REG_REDTBL(i) + 1, 0);
    }
    printk("ioapic: version %#x, %u inputs, all masked\n", ver & 0xff, nr_inputs);
    return true;
}

/* The I/O APIC input of ISA IRQ irq, or -1 if it is not on ours. */
static int irq_pin(int irq)
{
    const struct isa_route *r = &route[irq];
    if (!ioapic || r->gsi < gsi_base || r->gsi - gsi_base >= nr_inputs)
        return -1;
    return (int)(r->gsi - gsi_base);
}

static void mask_irq(int irq)
{
    int pin = irq_pin(irq);
    if (pin >= 0)
        io_write(REG_REDTBL(pin), io_read(REG_REDTBL(pin)) | RTE_MASKED);
}

int irq_request(int irq, irq_handler_t fn)
{
    if (irq < 0 || irq >= NR_LEGACY_IRQS || !fn || handlers[irq])
        return -EINVAL;
    if (!ioapic_probe())
        return -ENODEV;
    const struct isa_route *r = &route[irq];
    int pin = irq_pin(irq);
    if (pin < 0) {
        printk("ioapic: IRQ %d is GSI %u, not on this I/O APIC\n", irq, r->gsi);
        return -ENODEV;
    }
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    uint32_t apic_id = b >> 24;                   /* this CPU's initial APIC ID */
    handlers[irq] = fn;
    window[irq] = unhandled[irq] = 0;
    disabled &= (uint16_t)~(1u << irq);
    io_write(REG_REDTBL(pin) + 1, apic_id << 24);
    io_write(REG_REDTBL(pin), (uint32_t)(VEC_IRQ_BASE + irq) |
             (r->active_low ? RTE_ACTIVE_LOW : 0) | (r->level ? RTE_LEVEL : 0));
    printk("ioapic: IRQ %d -> GSI %u -> vector %#x (%s, %s)\n", irq, r->gsi,
           VEC_IRQ_BASE + irq, r->level ? "level" : "edge",
           r->active_low ? "active low" : "active high");
    return 0;
}

void irq_free(int irq)
{
    if (irq < 0 || irq >= NR_LEGACY_IRQS || !handlers[irq])
        return;
    mask_irq(irq);
    handlers[irq] = NULL;
    window[irq] = unhandled[irq] = 0;
    disabled &= (uint16_t)~(1u << irq);
}

/* The handler's answer, counted over windows of IRQ_WINDOW interrupts. */
static void note_interrupt(int irq, irqreturn_t ret)
{
    if (ret == IRQ_NONE)
        unhandled[irq]++;
    if (++window[irq] < IRQ_WINDOW)
        return;
    if (unhandled[irq] > IRQ_UNHANDLED_MAX) {
        mask_irq(irq);
        disabled |= (uint16_t)(1u << irq);
        printk("ioapic: IRQ %d: nobody cared (%u of the last %u interrupts unhandled): "
               "masked\n", irq, unhandled[irq], IRQ_WINDOW);
    }
    window[irq] = unhandled[irq] = 0;
}

void irq_dispatch(int irq)
{
    if (irq >= 0 && irq < NR_LEGACY_IRQS) {
        counts[irq]++;
        if (disabled & (1u << irq)) {
            /* sent before the mask took effect, or not by the I/O APIC: dropped */
        } else if (handlers[irq]) {
            note_interrupt(irq, handlers[irq](irq));
        } else {
            mask_irq(irq);                        /* logged once: it stays disabled */
            disabled |= (uint16_t)(1u << irq);
            printk("ioapic: IRQ %d (vector %#x) has no handler: masked\n", irq,
                   VEC_IRQ_BASE + irq);
        }
    }
    apic_eoi();
}

uint64_t irq_count(int irq)
{
    return irq >= 0 && irq < NR_LEGACY_IRQS ? counts[irq] : 0;
}

bool irq_disabled(int irq)
{
    return irq >= 0 && irq < NR_LEGACY_IRQS && (disabled & (1u << irq));
}

bool irq_masked(int irq)
{
    if (irq < 0 || irq >= NR_LEGACY_IRQS)
        return true;
    int pin = irq_pin(irq);
    return pin < 0 || (io_read(REG_REDTBL(pin)) & RTE_MASKED);
}
