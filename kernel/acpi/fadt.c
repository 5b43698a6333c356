/*
 * The FADT's fixed hardware (include/kernel/acpi_hw.h; ACPI 6.4, 5.2.9).
 *
 * The FADT grew over the versions: ACPI 1.0's is 116 bytes with 32-bit
 * block addresses; 2.0 added 64-bit X_ copies as Generic Address
 * Structures (space, width, offset, access size, 64-bit address).  A
 * firmware may fill either, both, or write nonsense in one of them, so
 * each block is taken from the X_ field when the table holds it and its
 * address is set, else from the 32-bit one; only I/O space is supported
 * (a PC's PM blocks are I/O ports), and a port whose width runs past
 * 0xffff is dropped.
 *
 * Invariant: every field read lies inside [0, len); every port kept is
 * non-zero and port + width <= 0x10000.
 */
#include <kernel/acpi_hw.h>
#include <kernel/errno.h>
#include <kernel/string.h>

#define OFF_DSDT        40
#define OFF_SMI_CMD     48
#define OFF_ACPI_ENABLE 52
#define OFF_PM1A_CNT    64
#define OFF_PM1B_CNT    68
#define OFF_PM_TMR      76
#define OFF_PM1_CNT_LEN 89
#define OFF_PM_TMR_LEN  91
#define OFF_FLAGS       112
#define OFF_X_DSDT      140
#define OFF_X_PM1A_CNT  172
#define OFF_X_PM1B_CNT  184
#define OFF_X_PM_TMR    208
#define GAS_LEN         12
#define GAS_IO          1

/* An I/O port block of `width` bytes: the X_ field (a GAS at xoff) when
 * the table holds it and it is set, else the 32-bit field at off. */
static uint16_t io_block(const uint8_t *t, size_t len, size_t off, size_t xoff,
                         unsigned width, const char *name, acpi_report_t report)
{
    uint64_t port = acpi_le32(t + off);
    if (xoff + GAS_LEN <= len && acpi_le64(t + xoff + 4)) {
        const uint8_t *g = t + xoff;
        if (g[0] != GAS_IO) {
            acpi_report(report, "ACPI: FADT: %s is in address space %u, not I/O: %s", name,
                        g[0], port ? "using the 32-bit field" : "ignored");
        } else {
            port = acpi_le64(g + 4);
        }
    }
    if (port && (port > 0xffff || port + width > 0x10000)) {
        acpi_report(report, "ACPI: FADT: %s at %#lx is no I/O port: ignored", name,
                    (unsigned long)port);
        port = 0;
    }
    return (uint16_t)port;
}

int acpi_fadt_parse(const void *fadt, size_t len, struct acpi_fadt_info *f,
                    acpi_report_t report)
{
    const uint8_t *t = fadt;
    memset(f, 0, sizeof(*f));
    if (!t || len < FADT_V1_LEN) {
        acpi_report(report, "ACPI: FADT: %lu bytes, shorter than ACPI 1.0's %u: ignored",
                    (unsigned long)len, FADT_V1_LEN);
        return -EINVAL;
    }
    uint32_t flags = acpi_le32(t + OFF_FLAGS);
    f->hw_reduced = flags & FADT_HW_REDUCED;
    f->pm_tmr_32 = flags & FADT_TMR_VAL_EXT;
    f->dsdt = acpi_le32(t + OFF_DSDT);
    if (OFF_X_DSDT + 8 <= len && acpi_le64(t + OFF_X_DSDT))
        f->dsdt = acpi_le64(t + OFF_X_DSDT);
    if (f->dsdt >= ACPI_PHYS_LIMIT)
        f->dsdt = 0;
    uint32_t smi = acpi_le32(t + OFF_SMI_CMD);
    if (smi && smi <= 0xffff && t[OFF_ACPI_ENABLE]) {
        f->smi_cmd = (uint16_t)smi;
        f->acpi_enable = t[OFF_ACPI_ENABLE];
    }
    if (f->hw_reduced)
        return 0;   /* no fixed blocks: power-off goes through registers we do not drive */
    /* The 32-bit fields come with their lengths: 2 bytes of PM1 control
     * at least, 4 of timer. */
    bool cnt_len_ok = t[OFF_PM1_CNT_LEN] >= 2, tmr_len_ok = t[OFF_PM_TMR_LEN] >= 4;
    f->pm1a_cnt = io_block(t, len, OFF_PM1A_CNT, OFF_X_PM1A_CNT, 2, "PM1a_CNT", report);
    f->pm1b_cnt = io_block(t, len, OFF_PM1B_CNT, OFF_X_PM1B_CNT, 2, "PM1b_CNT", report);
    f->pm_tmr = io_block(t, len, OFF_PM_TMR, OFF_X_PM_TMR, 4, "PM_TMR", report);
    if (f->pm1a_cnt && !cnt_len_ok && !(OFF_X_PM1A_CNT + GAS_LEN <= len &&
                                        acpi_le64(t + OFF_X_PM1A_CNT + 4))) {
        acpi_report(report, "ACPI: FADT: PM1_CNT_LEN %u is under 2: no PM1 control",
                    t[OFF_PM1_CNT_LEN]);
        f->pm1a_cnt = f->pm1b_cnt = 0;
    }
    if (f->pm_tmr && !tmr_len_ok && !(OFF_X_PM_TMR + GAS_LEN <= len &&
                                      acpi_le64(t + OFF_X_PM_TMR + 4))) {
        acpi_report(report, "ACPI: FADT: PM_TMR_LEN %u is not 4: no PM timer",
                    t[OFF_PM_TMR_LEN]);
        f->pm_tmr = 0;
    }
    return 0;
}
