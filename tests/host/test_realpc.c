/*
 * Host tests of what real PCs need at boot (docs/boot.md, "What the
 * kernel checks on a real PC"): the FADT parser (kernel/acpi/fadt.c), the
 * \_S5 scan of AML bytes and of a DSDT in memory (kernel/acpi/s5.c), the
 * HPET and SPCR tables (kernel/acpi/hpet_table.c, kernel/acpi/spcr.c),
 * the calibration arithmetic (kernel/cpu/calibrate_math.c) and the
 * loader's 5-level paging refusal (efi/la57.c), fed good tables shaped as
 * QEMU's and hostile ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htest.h"
#include <kernel/acpi_hw.h>
#include <kernel/calibrate.h>
#include <kernel/errno.h>
#include "../../efi/la57.h"
#include "../shared/acpi_image.h"

static int lines;
static void count(const char *line)
{
    (void)line;
    lines++;
}

/* A FADT of len bytes as QEMU's q35 builds it (ACPI 6.4 5.2.9 offsets):
 * PM1a_CNT 0x604, PM_TMR 0x608, DSDT at dsdt. */
static void fadt_q35(uint8_t *f, uint32_t len, uint64_t dsdt)
{
    memset(f, 0, len);
    ai_header(f, "FACP", len);
    ai_put32(f + 40, (uint32_t)dsdt);
    ai_put32(f + 48, 0xb2);      /* SMI_CMD */
    f[52] = 0xf1;                /* ACPI_ENABLE */
    ai_put32(f + 64, 0x604);     /* PM1a_CNT_BLK */
    ai_put32(f + 76, 0x608);     /* PM_TMR_BLK */
    f[89] = 2;                   /* PM1_CNT_LEN */
    f[91] = 4;                   /* PM_TMR_LEN */
    ai_put32(f + 112, 1u << 8);  /* TMR_VAL_EXT */
    if (len >= 220) {
        f[172] = 1; f[173] = 16; ai_put64(f + 176, 0x604);  /* X_PM1a_CNT_BLK */
        f[208] = 1; f[209] = 32; ai_put64(f + 212, 0x608);  /* X_PM_TMR_BLK */
        ai_put64(f + 140, dsdt);                              /* X_DSDT */
    }
    ai_fix(f, len);
}

static void t_fadt_q35(void)
{
    uint8_t f[276];
    struct acpi_fadt_info i;
    fadt_q35(f, sizeof(f), 0x7ffe0040);
    lines = 0;
    HT_EQ_U(acpi_fadt_parse(f, sizeof(f), &i, count), 0);
    HT_EQ_U(i.pm1a_cnt, 0x604);
    HT_EQ_U(i.pm1b_cnt, 0);
    HT_EQ_U(i.pm_tmr, 0x608);
    HT_ASSERT(i.pm_tmr_32 && !i.hw_reduced, "flags");
    HT_EQ_U(i.dsdt, 0x7ffe0040);
    HT_EQ_U(i.smi_cmd, 0xb2);
    HT_EQ_U(i.acpi_enable, 0xf1);
    HT_EQ_U(lines, 0);
}

static void t_fadt_v1_and_short(void)
{
    uint8_t f[276];
    struct acpi_fadt_info i;
    fadt_q35(f, FADT_V1_LEN, 0x1000);
    HT_EQ_U(acpi_fadt_parse(f, FADT_V1_LEN, &i, count), 0);
    HT_EQ_U(i.pm1a_cnt, 0x604);
    HT_EQ_U(i.pm_tmr, 0x608);
    HT_EQ_U(i.dsdt, 0x1000);
    lines = 0;
    HT_EQ_U(acpi_fadt_parse(f, FADT_V1_LEN - 1, &i, count), -EINVAL);
    HT_EQ_U(lines, 1);
    HT_EQ_U(i.pm1a_cnt, 0);
    HT_EQ_U(acpi_fadt_parse(NULL, 0, &i, NULL), -EINVAL);
}

static void t_fadt_hostile_blocks(void)
{
    uint8_t f[276];
    struct acpi_fadt_info i;
    /* X_ field in memory space: the 32-bit field is used, one line */
    fadt_q35(f, sizeof(f), 0x1000);
    f[172] = 0;
    lines = 0;
    HT_EQ_U(acpi_fadt_parse(f, sizeof(f), &i, count), 0);
    HT_EQ_U(i.pm1a_cnt, 0x604);
    HT_EQ_U(lines, 1);
    /* X_ port past 0xffff: dropped */
    fadt_q35(f, sizeof(f), 0x1000);
    ai_put64(f + 176, 0x1fffful);
    HT_EQ_U(acpi_fadt_parse(f, sizeof(f), &i, count), 0);
    HT_EQ_U(i.pm1a_cnt, 0);
    /* a 4-byte timer at 0xfffe would run past the I/O space */
    fadt_q35(f, FADT_V1_LEN, 0x1000);
    ai_put32(f + 76, 0xfffe);
    HT_EQ_U(acpi_fadt_parse(f, FADT_V1_LEN, &i, count), 0);
    HT_EQ_U(i.pm_tmr, 0);
    /* PM1_CNT_LEN 0 with the 32-bit field: no PM1 control */
    fadt_q35(f, FADT_V1_LEN, 0x1000);
    f[89] = 0;
    HT_EQ_U(acpi_fadt_parse(f, FADT_V1_LEN, &i, count), 0);
    HT_EQ_U(i.pm1a_cnt, 0);
    /* hardware-reduced: no fixed blocks at all */
    fadt_q35(f, sizeof(f), 0x1000);
    ai_put32(f + 112, FADT_HW_REDUCED);
    HT_EQ_U(acpi_fadt_parse(f, sizeof(f), &i, count), 0);
    HT_ASSERT(i.hw_reduced && !i.pm1a_cnt && !i.pm_tmr, "hw-reduced kept blocks");
    /* a DSDT beyond the physical limit is none */
    fadt_q35(f, sizeof(f), 0x1000);
    ai_put64(f + 140, ACPI_PHYS_LIMIT);
    HT_EQ_U(acpi_fadt_parse(f, sizeof(f), &i, count), 0);
    HT_EQ_U(i.dsdt, 0);
}

/* QEMU's encoding: Name (_S5, Package (0x04) { Zero, Zero, Zero, Zero }) */
static const uint8_t s5_qemu[] = { 0x10, 0x08, 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04,
                                   0x00, 0x00, 0x00, 0x00 };

static void t_s5_forms(void)
{
    uint8_t a = 9, b = 9;
    HT_EQ_U(acpi_s5_scan(s5_qemu, sizeof(s5_qemu), &a, &b), 0);
    HT_ASSERT(a == 0 && b == 0, "a %u b %u", a, b);
    /* \_S5_ with BytePrefix values, as many laptops write it */
    const uint8_t root[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x07,
                             0x0a, 0x05, 0x00, 0x00 };
    HT_EQ_U(acpi_s5_scan(root, sizeof(root), &a, &b), 0);
    HT_ASSERT(a == 7 && b == 5, "a %u b %u", a, b);
    /* OneOp, WordPrefix; a two-byte PkgLength */
    const uint8_t wide[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x47, 0x00, 0x02, 0x01, 0x0b,
                             0x03, 0x00 };
    HT_EQ_U(acpi_s5_scan(wide, sizeof(wide), &a, &b), 0);
    HT_ASSERT(a == 1 && b == 3, "a %u b %u", a, b);
    /* one element: b is 0 */
    const uint8_t one[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x01, 0x0a, 0x05 };
    HT_EQ_U(acpi_s5_scan(one, sizeof(one), &a, &b), 0);
    HT_ASSERT(a == 5 && b == 0, "a %u b %u", a, b);
}

static void t_s5_hostile(void)
{
    uint8_t a, b;
    /* a string "_S5_" (no NameOp), then the real one: the real one wins */
    const uint8_t str_first[] = { 0x0d, '_', 'S', '5', '_', 0x00, 0x08, '_', 'S', '5', '_',
                                  0x12, 0x04, 0x02, 0x01, 0x01 };
    HT_EQ_U(acpi_s5_scan(str_first, sizeof(str_first), &a, &b), 0);
    HT_ASSERT(a == 1 && b == 1, "a %u b %u", a, b);
    /* PkgLength past the end */
    uint8_t bad[sizeof(s5_qemu)];
    memcpy(bad, s5_qemu, sizeof(bad));
    bad[8] = 0x3f;
    HT_EQ_U(acpi_s5_scan(bad, sizeof(bad), &a, &b), -ENOENT);
    /* a four-byte PkgLength claiming gigabytes */
    const uint8_t huge[] = { 0x08, '_', 'S', '5', '_', 0x12, 0xc0, 0xff, 0xff, 0xff, 0x02,
                             0x00, 0x00 };
    HT_EQ_U(acpi_s5_scan(huge, sizeof(huge), &a, &b), -ENOENT);
    /* reserved bits of a multi-byte PkgLength set */
    const uint8_t resv[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x70, 0x00, 0x02, 0x00, 0x00 };
    HT_EQ_U(acpi_s5_scan(resv, sizeof(resv), &a, &b), -ENOENT);
    /* a value over 7, a non-constant element, a zero count */
    const uint8_t big[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x08, 0x00 };
    HT_EQ_U(acpi_s5_scan(big, sizeof(big), &a, &b), -ENOENT);
    const uint8_t ones[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0xff, 0x00 };
    HT_EQ_U(acpi_s5_scan(ones, sizeof(ones), &a, &b), -ENOENT);
    const uint8_t zero[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x02, 0x00 };
    HT_EQ_U(acpi_s5_scan(zero, sizeof(zero), &a, &b), -ENOENT);
    /* cut anywhere: never found, never a read past the end (ASan) */
    for (size_t n = 0; n < sizeof(s5_qemu); n++) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, s5_qemu, n);
        HT_EQ_U(acpi_s5_scan(cut, n, &a, &b), -ENOENT);
        free(cut);
    }
    HT_EQ_U(acpi_s5_scan(NULL, 0, &a, &b), -ENOENT);
}

static struct ai_mem mem;

/* A DSDT of len bytes at AI_BASE + off with QEMU's _S5_ (a = 1) at position at. */
static uint64_t dsdt_at(uint32_t off, uint32_t len, uint32_t at)
{
    uint8_t *d = mem.b + off;
    memset(d, 0x5b, len);   /* ExtOpPrefix noise */
    ai_header(d, "DSDT", len);
    if (at)
        memcpy(d + at, s5_qemu, sizeof(s5_qemu));
    d[at ? at + 13 : 40] = 0;
    if (at)
        d[at + 10] = 0x01;   /* OneOp: a = 1, b = 0 */
    ai_fix(d, len);
    return AI_BASE + off;
}

static void t_dsdt_windows(void)
{
    struct acpi_tables t = { .read = ai_read, .ctx = &mem };
    uint8_t a, b;
    /* every position of the declaration around the 4 KiB window edges */
    for (uint32_t at = 40; at < 12000; at += (at > 4000 && at < 4200) ||
                                             (at > 8100 && at < 8300) ? 1 : 97) {
        uint64_t pa = dsdt_at(0, 12288, at);
        int r = acpi_dsdt_s5(&t, pa, &a, &b);
        HT_ASSERT(r == 0 && a == 1 && b == 0, "at %u: r %d a %u b %u", at, r, a, b);
    }
    HT_EQ_U(acpi_dsdt_s5(&t, dsdt_at(0, 4096, 0), &a, &b), -ENOENT);
    /* bad checksum (used anyway, as Linux), bad signature, length beyond
     * what can be read */
    uint64_t pa = dsdt_at(0, 8192, 100);
    mem.b[5000]++;
    a = b = 9;
    HT_EQ_U(acpi_dsdt_s5(&t, pa, &a, &b), 0);
    HT_ASSERT(a == 1 && b == 0, "bad checksum: a %u b %u", a, b);
    pa = dsdt_at(0, 8192, 100);
    mem.b[0] = 'X';
    HT_EQ_U(acpi_dsdt_s5(&t, pa, &a, &b), -EINVAL);
    pa = dsdt_at(0, 8192, 100);
    ai_put32(mem.b + 4, AI_SIZE * 2);
    HT_EQ_U(acpi_dsdt_s5(&t, pa, &a, &b), -EIO);
    ai_put32(mem.b + 4, ACPI_TABLE_MAX + 1);
    HT_EQ_U(acpi_dsdt_s5(&t, pa, &a, &b), -EINVAL);
    ai_put32(mem.b + 4, 20);
    HT_EQ_U(acpi_dsdt_s5(&t, pa, &a, &b), -EINVAL);
    HT_EQ_U(acpi_dsdt_s5(&t, 0, &a, &b), -EINVAL);
    HT_EQ_U(acpi_dsdt_s5(&t, ACPI_PHYS_LIMIT - 8, &a, &b), -EINVAL);
    HT_EQ_U(acpi_dsdt_s5(&t, 0x1000, &a, &b), -EIO);
}

static void t_hpet_and_spcr(void)
{
    uint8_t h[56];
    uint64_t base;
    ai_header(h, "HPET", sizeof(h));
    memset(h + 36, 0, 20);
    ai_put64(h + 44, 0xfed00000);
    HT_EQ_U(acpi_hpet_parse(h, sizeof(h), &base, count), 0);
    HT_EQ_U(base, 0xfed00000);
    HT_EQ_U(acpi_hpet_parse(h, 55, &base, count), -EINVAL);
    h[40] = 1;   /* I/O space */
    HT_EQ_U(acpi_hpet_parse(h, sizeof(h), &base, count), -EINVAL);
    h[40] = 0;
    ai_put64(h + 44, 0xfed00010);   /* misaligned */
    HT_EQ_U(acpi_hpet_parse(h, sizeof(h), &base, count), -EINVAL);
    ai_put64(h + 44, 0);
    HT_EQ_U(acpi_hpet_parse(h, sizeof(h), &base, count), -EINVAL);
    ai_put64(h + 44, ACPI_PHYS_LIMIT);
    HT_EQ_U(acpi_hpet_parse(h, sizeof(h), &base, count), -EINVAL);

    uint8_t s[80];
    uint16_t port;
    ai_header(s, "SPCR", sizeof(s));
    memset(s + 36, 0, 44);
    s[40] = 1;
    ai_put64(s + 44, 0x2f8);
    HT_EQ_U(acpi_spcr_parse(s, sizeof(s), &port, count), 0);
    HT_EQ_U(port, 0x2f8);
    s[36] = 0x12;
    HT_EQ_U(acpi_spcr_parse(s, sizeof(s), &port, count), 0);
    s[36] = 3;   /* an ARM PL011 */
    HT_EQ_U(acpi_spcr_parse(s, sizeof(s), &port, count), -EINVAL);
    s[36] = 0;
    s[40] = 0;   /* memory-mapped */
    HT_EQ_U(acpi_spcr_parse(s, sizeof(s), &port, count), -EINVAL);
    s[40] = 1;
    ai_put64(s + 44, 0xfffc);
    HT_EQ_U(acpi_spcr_parse(s, sizeof(s), &port, count), -EINVAL);
    HT_EQ_U(acpi_spcr_parse(s, 51, &port, count), -EINVAL);
    HT_EQ_U(port, 0);
}

static void t_calib_cpuid(void)
{
    /* Skylake client: crystal 24 MHz not stated (ecx 0), ratio 216/2,
     * base 2.6 GHz from leaf 0x16 */
    HT_EQ_U(calib_cpuid_tsc_hz(0x16, 2, 216, 0, 2600), 2600000000ul);
    /* Goldmont and later: crystal stated, 19.2 MHz x 62/1 */
    HT_EQ_U(calib_cpuid_tsc_hz(0x16, 1, 62, 19200000, 0), 1190400000ul);
    /* 25 MHz x 168 / 2 = 2.1 GHz, even with leaf 0x16 empty */
    HT_EQ_U(calib_cpuid_tsc_hz(0x15, 2, 168, 25000000, 0), 2100000000ul);
    /* no ratio, no leaf, or nothing stated: 0 */
    HT_EQ_U(calib_cpuid_tsc_hz(0x15, 0, 0, 0, 0), 0);
    HT_EQ_U(calib_cpuid_tsc_hz(0x15, 0, 100, 24000000, 0), 0);
    HT_EQ_U(calib_cpuid_tsc_hz(0x14, 2, 216, 24000000, 2600), 0);
    HT_EQ_U(calib_cpuid_tsc_hz(0x15, 2, 216, 0, 2600), 0);   /* 0x16 not enumerated */
    HT_EQ_U(calib_cpuid_tsc_hz(0x16, 2, 216, 0, 0), 0);
    /* no overflow with the largest numbers */
    HT_EQ_U(calib_cpuid_tsc_hz(0x16, 1, 0xffffffffu, 0xffffffffu, 0),
            (uint64_t)0xffffffffu * 0xffffffffu);
}

static void t_calib_arith(void)
{
    /* 10 ms of the PM timer (35795 ticks) while the TSC counted 30 M */
    HT_EQ_U(calib_scale(30000000, ACPI_PM_TIMER_HZ, 35795), 3000037714ul);
    HT_EQ_U(calib_scale(1, 1, 0), 0);
    HT_EQ_U(calib_scale(~0ul, ~0ul, 1), UINT64_MAX);
    HT_EQ_U(calib_scale(~0ul, 1000000000ul, 1000000000ul), ~0ul);
    /* wrapping counters: 24-bit PM timer, 32-bit HPET, 64-bit TSC */
    HT_EQ_U(calib_delta(0xfffff0, 0x10, 24), 0x20);
    HT_EQ_U(calib_delta(0xfffffff0ul, 0x10, 32), 0x20);
    HT_EQ_U(calib_delta(~0ul - 1, 3, 64), 5);
    HT_EQ_U(calib_delta(5, 5, 24), 0);
    /* HPET: QEMU's 10 ns period (100 MHz), Intel's 69.841279 ns (14.318 MHz) */
    HT_EQ_U(calib_hpet_hz(10000000ul << 32 | 0x8086a201), 100000000ul);
    HT_EQ_U(calib_hpet_hz(69841279ul << 32), 14318179ul);
    HT_EQ_U(calib_hpet_hz(0), 0);
    HT_EQ_U(calib_hpet_hz(100000001ul << 32), 0);
    HT_ASSERT(calib_tsc_sane(2400000000ul) && !calib_tsc_sane(1000000) &&
              !calib_tsc_sane(UINT64_MAX), "tsc bounds");
    HT_ASSERT(calib_apic_sane(62500000) && calib_apic_sane(1500000) &&
              !calib_apic_sane(0), "apic bounds");
    HT_EQ_U(calib_source_parse("hpet"), CALIB_HPET);
    HT_EQ_U(calib_source_parse("pit"), CALIB_PIT);
    HT_EQ_U(calib_source_parse("pmtimer"), CALIB_PMTMR);
    HT_EQ_U(calib_source_parse("cpuid"), CALIB_CPUID);
    HT_EQ_U(calib_source_parse("HPET"), (uint64_t)-1);
    HT_EQ_U(calib_source_parse(""), (uint64_t)-1);
    HT_EQ_U(calib_source_parse(NULL), (uint64_t)-1);
}

static void t_calib_median(void)
{
    /* HPET at 100 MHz, a 2.4 GHz TSC: 10 ms windows of 1 M ticks, 24 M
     * cycles; the APIC timer at 62.5 MHz ran 10.1 ms (24.24 M cycles). */
    struct calib_window w[5];
    for (int i = 0; i < 5; i++)
        w[i] = (struct calib_window){ 24000000, 1000000, 24240000, 631250 };
    /* the two errors CI and a busy host saw: a window whose start the
     * host delayed (the TSC counted 40 % of it) and one it lengthened */
    w[1].tsc = 9600000;
    w[3].tsc = 77000000;
    w[4].apic = 2000000;    /* and the APIC timer ran 3x too long in one */
    struct calib_result r = { CALIB_HPET, 0, 0 };
    calib_median_rates(w, 5, 100000000ul, &r);
    HT_EQ_U(r.tsc_hz, 2400000000ul);
    HT_EQ_U(r.apic_hz, 62500000ul);
    /* even counts take the lower middle; one window is its own median */
    calib_median_rates(w, 2, 100000000ul, &r);
    HT_EQ_U(r.tsc_hz, 960000000ul);
    calib_median_rates(w, 1, 100000000ul, &r);
    HT_EQ_U(r.tsc_hz, 2400000000ul);
    /* zero ticks or zero APIC cycles: rate 0 (implausible, refused by the
     * caller), never a division by zero */
    struct calib_window z = { 24000000, 0, 0, 5 };
    calib_median_rates(&z, 1, 100000000ul, &r);
    HT_EQ_U(r.tsc_hz, 0);
    HT_EQ_U(r.apic_hz, 0);
    /* no windows, or more than the array holds */
    r.tsc_hz = r.apic_hz = 7;
    calib_median_rates(w, 0, 100000000ul, &r);
    HT_ASSERT(r.tsc_hz == 0 && r.apic_hz == 0, "n = 0 gave a rate");
    calib_median_rates(w, CALIB_MAX_WINDOWS + 1, 100000000ul, &r);
    HT_ASSERT(r.tsc_hz == 0 && r.apic_hz == 0, "n too large gave a rate");
}

static void t_la57(void)
{
    HT_ASSERT(la57_refusal(0x3606e0 & ~CR4_LA57_BIT) == NULL, "4-level refused");
    const char *why = la57_refusal(0x3606e0 | CR4_LA57_BIT);
    HT_ASSERT(why && strstr(why, "5-level paging"), "5-level accepted");
}

static const struct htest cases[] = {
    HT_CASE(fadt_q35), HT_CASE(fadt_v1_and_short), HT_CASE(fadt_hostile_blocks),
    HT_CASE(s5_forms), HT_CASE(s5_hostile), HT_CASE(dsdt_windows),
    HT_CASE(hpet_and_spcr), HT_CASE(calib_cpuid), HT_CASE(calib_arith), HT_CASE(calib_median),
    HT_CASE(la57),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
