/*
 * Powering the machine off through ACPI (include/kernel/acpi_hw.h;
 * ACPI 6.4, 4.8.3.2 (PM1 control), 7.4.2 (\_S5), 16.1.7 (entering S5)).
 *
 * The FADT names the PM1a (and maybe PM1b) control register; the DSDT's
 * \_S5 package the SLP_TYP values for soft-off (kernel/acpi/s5.c).
 * Writing SLP_TYPx into bits 12:10 and then SLP_EN (bit 13) switches the
 * machine off.  The registers only answer in ACPI mode (SCI_EN, bit 0):
 * a firmware that left legacy mode on gets ACPI_ENABLE written to its
 * SMI_CMD port first, and a bounded wait for SCI_EN.
 *
 * Invariant: nothing is written to a port the FADT parser did not keep;
 * every wait is bounded.
 */
#include <kernel/acpi_hw.h>
#include <kernel/errno.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/x86.h>

#define SCI_EN        (1u << 0)
#define SLP_TYP_SHIFT 10
#define SLP_TYP_MASK  (7u << SLP_TYP_SHIFT)
#define SLP_EN        (1u << 13)
#define SPIN          3000000ul    /* port reads: a few seconds at most */


static void report(const char *line)
{
    printk("%s\n", line);
}

const struct acpi_fadt_info *acpi_fadt(void)
{
    static struct acpi_fadt_info fadt;
    static int state;   /* 0 unread, 1 parsed, -1 none */
    static uint8_t buf[1024];
    if (!state) {
        long n = acpi_copy_table(acpi_kernel(), "FACP", buf, sizeof(buf));
        state = n > 0 && acpi_fadt_parse(buf, (size_t)n, &fadt, report) == 0 ? 1 : -1;
    }
    return state > 0 ? &fadt : NULL;
}

static void pm1_write(uint16_t port, uint8_t typ)
{
    uint16_t v = (uint16_t)((inw(port) & ~(SLP_TYP_MASK | SLP_EN)) | typ << SLP_TYP_SHIFT);
    outw(port, v);
    outw(port, v | SLP_EN);
}

int acpi_power_off(void)
{
    const struct acpi_fadt_info *f = acpi_fadt();
    if (!f || !f->pm1a_cnt) {
        printk("ACPI: cannot power off: no PM1 control block in the FADT%s\n",
               f && f->hw_reduced ? " (a hardware-reduced platform)" : "");
        return -ENODEV;
    }
    uint8_t a, b;
    int r = acpi_dsdt_s5(acpi_kernel(), f->dsdt, &a, &b);
    if (r) {
        printk("ACPI: cannot power off: %s (error %d)\n", r == -ENOENT ?
               "no usable \\_S5 package in the DSDT" : "the DSDT is unusable", r);
        return r;
    }
    printk("ACPI: powering off (S5: SLP_TYPa %u, SLP_TYPb %u; PM1a_CNT %#x, PM1b_CNT %#x)\n",
           a, b, f->pm1a_cnt, f->pm1b_cnt);
    cli();
    if (!(inw(f->pm1a_cnt) & SCI_EN) && f->smi_cmd) {
        outb(f->smi_cmd, f->acpi_enable);
        for (unsigned long i = 0; i < SPIN && !(inw(f->pm1a_cnt) & SCI_EN); i++)
            ;
    }
    pm1_write(f->pm1a_cnt, a);
    if (f->pm1b_cnt)
        pm1_write(f->pm1b_cnt, b);
    for (unsigned long i = 0; i < SPIN; i++)
        (void)inb(0x80);    /* about a microsecond each on a PC */
    printk("ACPI: the machine is still on after the S5 request\n");
    return -EIO;
}

__attribute__((noreturn)) void machine_power_off(uint32_t code)
{
    outl(0xf4, code);   /* isa-debug-exit (include/kernel/ktest.h): QEMU stops here */
    acpi_power_off();
    for (;;) {
        cli();
        hlt();
    }
}
