/*
 * The HPET's main counter as a calibration reference
 * (include/kernel/calibrate.h; IA-PC HPET specification 1.0a, 2.3).
 *
 * The ACPI HPET table gives the register block's address
 * (kernel/acpi/hpet_table.c); the general capabilities register (offset
 * 0) its period in femtoseconds and whether the counter is 64 bits wide
 * (bit 13); the general configuration register (0x10) starts it (bit 0,
 * ENABLE_CNF) if the firmware left it stopped; the main counter is at
 * 0xf0.  No timer of the HPET is programmed: its interrupts stay off.
 *
 * Invariant: the block is mapped once, uncached, and only read, except
 * for ENABLE_CNF.
 */
#include <kernel/acpi_hw.h>
#include <kernel/calibrate.h>
#include <kernel/printk.h>
#include <mm/vmalloc.h>

#define REG_GCAP     0x00
#define REG_GCONF    0x10
#define REG_COUNTER  0xf0
#define GCAP_64BIT   (1ul << 13)
#define GCONF_ENABLE 1ul

static volatile uint64_t *hpet;
static bool tried;

static void report(const char *line)
{
    printk("%s\n", line);
}

bool hpet_counter_init(uint64_t *hz, unsigned *bits)
{
    if (!tried) {
        tried = true;
        static uint8_t tbl[256];
        uint64_t base;
        long n = acpi_copy_table(acpi_kernel(), "HPET", tbl, sizeof(tbl));
        if (n > 0 && acpi_hpet_parse(tbl, (size_t)n, &base, report) == 0)
            hpet = ioremap(base, 4096);
    }
    if (!hpet)
        return false;
    uint64_t cap = hpet[REG_GCAP / 8];
    *hz = calib_hpet_hz(cap);
    *bits = cap & GCAP_64BIT ? 64 : 32;
    if (!*hz)
        return false;
    if (!(hpet[REG_GCONF / 8] & GCONF_ENABLE))
        hpet[REG_GCONF / 8] |= GCONF_ENABLE;
    return true;
}

uint64_t hpet_counter_read(void)
{
    return hpet[REG_COUNTER / 8];
}
