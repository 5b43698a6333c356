/*
 * The SPCR table, the firmware's serial console (include/kernel/acpi_hw.h;
 * Microsoft's "Serial Port Console Redirection Table" specification):
 * after the 36-byte header, the interface type (byte 36: 0 a full 16550,
 * 1 a 16450, 0x12 a 16550-compatible UART) and the port's address as a
 * Generic Address Structure at 40 (space 1 = I/O).  Only 16550-style
 * UARTs in I/O space are kept: the kernel drives no other kind.
 *
 * Invariant: a port returned is non-zero and its 8 registers lie below
 * 0x10000.
 */
#include <kernel/acpi_hw.h>
#include <kernel/errno.h>

#define SPCR_MIN_LEN 52
#define OFF_TYPE     36
#define OFF_BASE     40

int acpi_spcr_parse(const void *tbl, size_t len, uint16_t *port, acpi_report_t report)
{
    const uint8_t *t = tbl;
    *port = 0;
    if (!t || len < SPCR_MIN_LEN) {
        acpi_report(report, "ACPI: SPCR: %lu bytes, fewer than %u: ignored",
                    (unsigned long)len, SPCR_MIN_LEN);
        return -EINVAL;
    }
    uint8_t type = t[OFF_TYPE];
    const uint8_t *g = t + OFF_BASE;
    uint64_t a = acpi_gas_address(g);
    if (type != 0 && type != 1 && type != 0x12) {
        acpi_report(report, "ACPI: SPCR: interface type %#x is not a 16550: ignored", type);
        return -EINVAL;
    }
    if (g[0] != 1 || !a || a > 0xfff8) {
        acpi_report(report, "ACPI: SPCR: the UART at %#lx (address space %u) is not an I/O "
                    "port: ignored", (unsigned long)a, g[0]);
        return -EINVAL;
    }
    *port = (uint16_t)a;
    return 0;
}
