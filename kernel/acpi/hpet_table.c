/*
 * The HPET table (include/kernel/acpi_hw.h; IA-PC HPET specification
 * 1.0a, 3.2.4): after the 36-byte header, the event-timer block's id
 * (4 bytes) and its base address as a Generic Address Structure (12
 * bytes: space 0 = system memory, then the 64-bit address at +4).
 *
 * Invariant: a base returned is in memory space, non-zero, 1 KiB aligned
 * (the block's size) and its 1 KiB lies below ACPI_PHYS_LIMIT.
 */
#include <kernel/acpi_hw.h>
#include <kernel/errno.h>

#define HPET_TABLE_LEN 56
#define OFF_BASE_GAS   40

int acpi_hpet_parse(const void *tbl, size_t len, uint64_t *base, acpi_report_t report)
{
    const uint8_t *t = tbl;
    *base = 0;
    if (!t || len < HPET_TABLE_LEN) {
        acpi_report(report, "ACPI: HPET: %lu bytes, fewer than %u: ignored",
                    (unsigned long)len, HPET_TABLE_LEN);
        return -EINVAL;
    }
    const uint8_t *g = t + OFF_BASE_GAS;
    uint64_t pa = acpi_gas_address(g);
    if (g[0] != 0 || !pa || (pa & 0x3ff) || pa >= ACPI_PHYS_LIMIT - 1024) {
        acpi_report(report, "ACPI: HPET: base %#lx in address space %u is not usable: ignored",
                    (unsigned long)pa, g[0]);
        return -EINVAL;
    }
    *base = pa;
    return 0;
}
