/*
 * The ACPI PM timer as a calibration reference (include/kernel/calibrate.h;
 * ACPI 6.4, 4.8.3.3): a free-running counter at 3.579545 MHz at the I/O
 * port the FADT names (PM_TMR_BLK), 24 bits wide, or 32 with the FADT's
 * TMR_VAL_EXT flag.  Read only.
 */
#include <kernel/acpi_hw.h>
#include <kernel/calibrate.h>
#include <kernel/x86.h>

static uint16_t port;
static uint32_t mask;

bool acpi_pm_timer_init(uint64_t *hz, unsigned *bits)
{
    const struct acpi_fadt_info *f = acpi_fadt();
    if (!f || !f->pm_tmr)
        return false;
    port = f->pm_tmr;
    *bits = f->pm_tmr_32 ? 32 : 24;
    mask = f->pm_tmr_32 ? 0xffffffffu : 0xffffffu;
    *hz = ACPI_PM_TIMER_HZ;
    return true;
}

uint64_t acpi_pm_timer_read(void)
{
    return inl(port) & mask;
}
