/*
 * The ACPI tables that describe fixed hardware: the FADT (power-management
 * I/O blocks, the PM timer, the DSDT's address), the \_S5 sleep-type
 * values read from the DSDT's AML, and the HPET table
 * and the SPCR's serial port (kernel/acpi/fadt.c, kernel/acpi/s5.c,
 * kernel/acpi/hpet_table.c, kernel/acpi/spcr.c;
 * docs/boot.md, "What the kernel checks on a real PC").
 *
 * Pure code, like the reader (include/kernel/acpi.h): the tables are
 * firmware data, trusted for nothing; host tests and tests/fuzz/
 * fuzz_fadt.c feed them hostile bytes.  ACPI spec 6.4: 5.2.9 (FADT),
 * 5.2.3.2 (Generic Address Structure), 7.4.2 (\_Sx objects), 20.2 (AML
 * grammar: NameOp, PackageOp, PkgLength, integer constants); the HPET
 * table: the IA-PC HPET specification 1.0a, 3.2.4.
 */
#ifndef KERNEL_ACPI_HW_H
#define KERNEL_ACPI_HW_H

#include <kernel/acpi.h>

#define FADT_V1_LEN     116           /* ACPI 1.0's FADT: up to the flags */
#define FADT_TMR_VAL_EXT (1u << 8)    /* the PM timer counts on 32 bits, not 24 */
#define FADT_HW_REDUCED  (1u << 20)   /* no fixed hardware: no PM1 blocks, no PM timer */
#define ACPI_PM_TIMER_HZ 3579545ul    /* the PM timer's fixed rate */
#define ACPI_SLP_TYP_MAX 7            /* SLP_TYP is a 3-bit field of PM1x_CNT */

/* What the kernel uses of the FADT: I/O ports, 0 when absent. */
struct acpi_fadt_info {
    uint16_t pm1a_cnt, pm1b_cnt;  /* PM1 control blocks (SLP_TYP, SLP_EN, SCI_EN) */
    uint16_t pm_tmr;              /* the PM timer's port */
    bool pm_tmr_32;               /* TMR_VAL_EXT: 32-bit counter (else 24-bit) */
    bool hw_reduced;
    uint16_t smi_cmd;             /* where ACPI mode is switched on, 0 when always on */
    uint8_t acpi_enable;          /* the value to write there */
    uint64_t dsdt;                /* the DSDT's physical address, 0 if none */
};

/*
 * Parse a whole FADT (header included, checksummed by the reader).  The
 * 64-bit X_ fields win over the 32-bit ones when the table is long enough
 * to hold them and they are set; a block must be in I/O space with its
 * whole width under 0x10000, or it is dropped with one line through
 * report.  0, or -EINVAL for a table shorter than ACPI 1.0's.
 */
int acpi_fadt_parse(const void *fadt, size_t len, struct acpi_fadt_info *f,
                    acpi_report_t report);

/*
 * Find "Name(\_S5, Package(){a, b, ...})" in AML bytes: the first "_S5_"
 * preceded by NameOp (0x08, maybe with a root prefix '\') and followed by
 * a well-formed package whose PkgLength stays inside the bytes and whose
 * first two elements are integer constants from 0 to 7 (a single element
 * gives b = 0).  Anything else named _S5_ is skipped.  0 with *a and *b,
 * or -ENOENT.
 */
int acpi_s5_scan(const uint8_t *aml, size_t n, uint8_t *a, uint8_t *b);

/*
 * The same over a DSDT in physical memory, read in windows through t's
 * read function: the header must say "DSDT" with a length from 36 bytes
 * to ACPI_TABLE_MAX; a wrong checksum is reported through t->report and
 * the values used anyway, as Linux does.  0, -ENOENT (no _S5_), -EINVAL
 * (bad header) or -EIO (unreadable).
 */
int acpi_dsdt_s5(const struct acpi_tables *t, uint64_t dsdt_pa, uint8_t *a, uint8_t *b);

/*
 * The HPET table (signature "HPET"): the event-timer block's base, which
 * must be in system memory, 1 KiB aligned, non-zero and below
 * ACPI_PHYS_LIMIT.  0 with *base, or -EINVAL.
 */
int acpi_hpet_parse(const void *tbl, size_t len, uint64_t *base, acpi_report_t report);

/*
 * The SPCR table (signature "SPCR"): the firmware's console UART, when
 * it is a 16550-style one at an I/O port.  0 with *port, or -EINVAL.
 */
int acpi_spcr_parse(const void *tbl, size_t len, uint16_t *port, acpi_report_t report);

/* ---- the kernel's side (kernel/acpi/power.c) ---- */

/* The machine's FADT, read and parsed on first use (after vm_init):
 * NULL when there is none or it was refused. */
const struct acpi_fadt_info *acpi_fadt(void);
/*
 * ACPI S5 (soft off): SLP_TYP from \_S5, then SLP_EN, into PM1a_CNT and
 * PM1b_CNT, after switching ACPI mode on through SMI_CMD if SCI_EN is
 * off.  Prints one line before trying.  Returns only when it failed:
 * -ENODEV (no FADT or PM1 control block), the DSDT scan's error, or
 * -EIO (the machine stayed on).
 */
int acpi_power_off(void);
/*
 * Where the kernel powers off (the end of the in-kernel tests, init's
 * exit): QEMU's isa-debug-exit first with code (the tests' exit status),
 * then ACPI S5 on a machine without that device, then a halt.
 */
__attribute__((noreturn)) void machine_power_off(uint32_t code);

#endif
