/*
 * libFuzzer target: the fixed-hardware tables on hostile bytes
 * (include/kernel/acpi_hw.h): the FADT parser, the \_S5 scan of AML and
 * of a DSDT in "physical memory" read through windows, the HPET and SPCR
 * parsers.
 *
 * The input is used twice: raw, as a FADT, HPET or SPCR table and as AML
 * bytes (no checksum in the way), and shaped: a QEMU-like DSDT (header,
 * an _S5_ declaration somewhere, noise) whose bytes the input then
 * changes, with or without fixing the checksum, at any length up to the
 * image.  After each call: a FADT accepted keeps its ports inside the
 * I/O space with room for their width and a DSDT address under the
 * physical limit; a \_S5 result is 0..7 twice; the windowed scan agrees
 * with a direct scan of the same whole table when the checksum holds; a
 * HPET base is 1 KiB aligned in memory space; an SPCR port is an I/O port
 * with 8 registers under 0x10000.  Errors are only the documented ones.
 */
#include <string.h>

#include <kernel/acpi_hw.h>
#include <kernel/errno.h>

#define FUZZ_NAME "fuzz_fadt"
#include "fuzz_input.h"
#include "../shared/acpi_image.h"

static struct ai_mem mem;

static void quiet(const char *line)
{
    if (!line || strlen(line) >= 200)
        DIE("report line too long or NULL");
}

static NOCOV void check_fadt(int r, const struct acpi_fadt_info *f)
{
    if (r != 0 && r != -EINVAL)
        DIE("fadt returned %d", r);
    if (r)
        return;
    if ((f->pm1a_cnt && f->pm1a_cnt > 0xfffe) || (f->pm1b_cnt && f->pm1b_cnt > 0xfffe) ||
        (f->pm_tmr && f->pm_tmr > 0xfffc))
        DIE("port past the I/O space: %#x %#x %#x", f->pm1a_cnt, f->pm1b_cnt, f->pm_tmr);
    if (f->dsdt >= ACPI_PHYS_LIMIT)
        DIE("DSDT at %#lx", (unsigned long)f->dsdt);
    if (f->hw_reduced && (f->pm1a_cnt || f->pm_tmr))
        DIE("hardware-reduced with fixed blocks");
}

static NOCOV void check_s5(int r, uint8_t a, uint8_t b)
{
    if (r != 0 && r != -ENOENT && r != -EINVAL && r != -EIO)
        DIE("s5 returned %d", r);
    if (!r && (a > ACPI_SLP_TYP_MAX || b > ACPI_SLP_TYP_MAX))
        DIE("SLP_TYP %u/%u", a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct acpi_fadt_info f;
    uint8_t a = 0, b = 0;
    uint64_t base;
    uint16_t port;

    /* Raw: every parser on the input as it is. */
    check_fadt(acpi_fadt_parse(data, size, &f, quiet), &f);
    check_s5(acpi_s5_scan(data, size, &a, &b), a, b);
    int r = acpi_hpet_parse(data, size, &base, quiet);
    if (r && r != -EINVAL)
        DIE("hpet returned %d", r);
    if (!r && (!base || (base & 0x3ff) || base >= ACPI_PHYS_LIMIT))
        DIE("HPET base %#lx", (unsigned long)base);
    r = acpi_spcr_parse(data, size, &port, quiet);
    if (r && r != -EINVAL)
        DIE("spcr returned %d", r);
    if (!r && (!port || port > 0xfff8))
        DIE("SPCR port %#x", port);

    /* Shaped: a DSDT with a declaration, then the input's changes. */
    struct input in = { data, size };
    uint32_t len = 36 + u16(&in) % (3 * 4096 - 36);   /* three windows */
    uint32_t at = 36 + u16(&in) % (len - 36 + 1);
    memset(mem.b, 0x5b, len);
    ai_header(mem.b, "DSDT", len);
    static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x0a, 0x05,
                                  0x00, 0x00, 0x00 };
    if (at + sizeof(s5) <= len)
        memcpy(mem.b + at, s5, sizeof(s5));
    unsigned changes = u8(&in) % 16;
    for (unsigned i = 0; i < changes; i++) {
        uint32_t off = u16(&in) % len;
        mem.b[off] = u8(&in);
    }
    if (u8(&in) & 1)
        ai_fix(mem.b, len);
    if (u8(&in) & 1)   /* a claimed length larger than the table, even the image */
        ai_put32(mem.b + 4, len + u16(&in) * 16u);
    struct acpi_tables t = { .read = ai_read, .ctx = &mem, .report = quiet };
    r = acpi_dsdt_s5(&t, AI_BASE, &a, &b);
    check_s5(r, a, b);
    /* A table the windowed scan accepted is also what one direct scan of
     * its bytes says. */
    uint32_t claimed = (uint32_t)mem.b[4] | (uint32_t)mem.b[5] << 8 |
                       (uint32_t)mem.b[6] << 16 | (uint32_t)mem.b[7] << 24;
    if (r != -EIO && r != -EINVAL && claimed <= AI_SIZE && claimed >= 36) {
        uint8_t da, db;
        int d = acpi_s5_scan(mem.b + 36, claimed - 36, &da, &db);
        if ((d == 0) != (r == 0))
            DIE("windowed scan %d, direct scan %d", r, d);
    }
    return 0;
}
