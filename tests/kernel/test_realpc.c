/*
 * In-kernel tests of what real PCs need at boot (docs/boot.md, "What the
 * kernel checks on a real PC"), on QEMU's q35: every calibration
 * reference the machine has gives a TSC rate close to the boot's; the
 * FADT names a PM1a control block and a PM timer that counts, and the
 * DSDT a \_S5 package; IA32_MISC_ENABLE.XD_DISABLE set by hand is
 * cleared; CR4.OSXSAVE set by hand is turned off again; the kernel log's
 * serial ports refuse an address with no UART.  Power-off itself ends a
 * boot: the missing-initrd boot ends with ktest.end=poweroff.
 */
#include <kernel/acpi_hw.h>
#include <kernel/apic.h>
#include <kernel/calibrate.h>
#include <kernel/console.h>
#include <kernel/cpufeature.h>
#include <kernel/errno.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/x86.h>

/* |a - b| <= b / 50: the median of five windows agrees to a few per
 * mille between references even on a host busy enough to deschedule the
 * virtual CPU inside every window. */
static bool near(uint64_t a, uint64_t b)
{
    uint64_t d = a > b ? a - b : b - a;
    return d <= b / 50;
}

KTEST(realpc_calibration_sources)
{
    uint64_t boot = tsc_hz(), apic_ref = 0;
    int worked = 0;
    for (int s = 0; s < CALIB_NR; s++) {
        struct calib_result r;
        int e = apic_calibrate_source(s, &r);
        if (e == -ENODEV && s == CALIB_CPUID)
            continue;   /* TCG states no TSC rate in CPUID leaf 0x15 */
        KT_ASSERT(e == 0, "%s: error %d", calib_source_names[s], e);
        printk("  %s: TSC %lu kHz, APIC timer %lu kHz\n", calib_source_names[s],
               r.tsc_hz / 1000, r.apic_hz / 1000);
        KT_ASSERT(near(r.tsc_hz, boot), "%s: TSC %lu Hz, at boot %lu Hz",
                  calib_source_names[s], r.tsc_hz, boot);
        if (!apic_ref)
            apic_ref = r.apic_hz;
        KT_ASSERT(near(r.apic_hz, apic_ref), "%s: APIC timer %lu Hz, first source %lu Hz",
                  calib_source_names[s], r.apic_hz, apic_ref);
        worked++;
    }
    KT_ASSERT(worked >= 3, "only %d references worked", worked);
    KT_ASSERT(apic_calibrate_source(CALIB_NR, &(struct calib_result){ 0 }) == -EINVAL,
              "a source out of range was accepted");
}

KTEST(realpc_fadt_pm_timer_s5)
{
    const struct acpi_fadt_info *f = acpi_fadt();
    KT_ASSERT(f, "no FADT");
    KT_ASSERT(f->pm1a_cnt && f->pm_tmr && f->dsdt, "PM1a_CNT %#x PM_TMR %#x DSDT %#lx",
              f->pm1a_cnt, f->pm_tmr, f->dsdt);
    uint64_t hz;
    unsigned bits;
    KT_ASSERT(acpi_pm_timer_init(&hz, &bits) && hz == ACPI_PM_TIMER_HZ, "PM timer");
    uint64_t t0 = acpi_pm_timer_read(), t1 = t0;
    for (int i = 0; i < 1000000 && t1 == t0; i++)
        t1 = acpi_pm_timer_read();
    KT_ASSERT(t1 != t0, "the PM timer does not count");
    uint8_t a = 0xff, b = 0xff;
    int r = acpi_dsdt_s5(acpi_kernel(), f->dsdt, &a, &b);
    KT_ASSERT(r == 0 && a <= ACPI_SLP_TYP_MAX && b <= ACPI_SLP_TYP_MAX,
              "\\_S5: error %d, SLP_TYP %u/%u", r, a, b);
}

KTEST(realpc_nx_unhide)
{
    /* QEMU keeps IA32_MISC_ENABLE whatever the vendor: set XD_DISABLE as a
     * firmware would and see the kernel's fix clear it.  A real AMD CPU
     * has no such MSR (#GP): only Intel's or a hypervisor's is touched. */
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (strcmp(cpu.vendor, "GenuineIntel") != 0 && !(c & (1u << 31)))
        return;
    uint64_t misc = rdmsr(0x1a0);
    wrmsr(0x1a0, misc | (1ul << 34));
    KT_ASSERT(rdmsr(0x1a0) & (1ul << 34), "QEMU did not keep XD_DISABLE");
    KT_ASSERT(cpu_nx_unhide(), "the set bit was not seen");
    KT_ASSERT(!(rdmsr(0x1a0) & (1ul << 34)), "XD_DISABLE still set");
    KT_ASSERT(!cpu_nx_unhide(), "a clear bit was cleared again");
    KT_ASSERT(rdmsr(0x1a0) == (misc & ~(1ul << 34)), "other bits changed");
}

KTEST(realpc_xsave_off)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    KT_ASSERT(!(read_cr4() & (1ul << 18)) && !(c & (1u << 27)),
              "CR4.OSXSAVE on after boot (CPUID.1:ECX %#x)", c);
    if (!(c & (1u << 26)))
        return;   /* no XSAVE at all */
    write_cr4(read_cr4() | (1ul << 18));   /* as a firmware may leave it */
    uint64_t xcr0 = cpu_xsave_off();
    cpuid(1, 0, &a, &b, &c, &d);
    KT_ASSERT(xcr0 & 1, "XCR0 %#lx has no x87 bit", xcr0);
    KT_ASSERT(!(read_cr4() & (1ul << 18)) && !(c & (1u << 27)), "OSXSAVE still on");
    KT_ASSERT(cpu_xsave_off() == 0, "turned off twice");
}

KTEST(realpc_serial_ports)
{
    KT_ASSERT(strstr(serial_ports(), "COM1"), "ports: %s", serial_ports());
    KT_ASSERT(serial_add_port(0x3f8) == 0, "COM1 added twice");
    KT_ASSERT(serial_add_port(0x2e8) == -ENODEV || strstr(serial_ports(), "COM4"),
              "a port with no UART was added");
}
