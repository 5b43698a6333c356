/*
 * Measuring the TSC's and the local APIC timer's rates at boot
 * (kernel/cpu/calibrate.c; the arithmetic in kernel/cpu/calibrate_math.c,
 * host-tested; docs/time.md, docs/boot.md).
 *
 * Neither counter's rate is written anywhere the kernel can always read,
 * so each is counted over a window timed by a clock of known rate, the
 * reference.  The references, in the order tried: CPUID leaves 0x15/0x16
 * (the TSC's rate stated by the CPU; the APIC timer is then counted
 * against the TSC), the HPET (ACPI HPET table), the ACPI PM timer (the
 * FADT's PM_TMR_BLK, 3.579545 MHz) and the legacy PIT (1.193182 MHz),
 * which some PCs gate off.  Every wait is bounded: a reference that does
 * not move is given up and the next one tried.
 */
#ifndef KERNEL_CALIBRATE_H
#define KERNEL_CALIBRATE_H

#include <kernel/types.h>

enum calib_source { CALIB_CPUID, CALIB_HPET, CALIB_PMTMR, CALIB_PIT, CALIB_NR };

/* "cpuid", "hpet", "pmtimer", "pit": the values of calibrate= too. */
extern const char *const calib_source_names[CALIB_NR];

struct calib_result {
    enum calib_source src;
    uint64_t tsc_hz;       /* TSC ticks per second */
    uint64_t apic_hz;      /* APIC timer counts per second (divide by 16) */
};

/* ---- pure arithmetic (kernel/cpu/calibrate_math.c) ---- */

/*
 * The TSC's rate from CPUID: leaf 0x15 gives the ratio TSC/crystal as
 * ebx/eax and the crystal's rate in ecx (Hz); when ecx is 0, leaf 0x16's
 * eax (the base frequency in MHz) is the TSC's rate (Intel SDM vol. 2A,
 * CPUID leaves 15H and 16H).  max_leaf is leaf 0's eax: leaves above it
 * are not read.  0 when the CPU states no usable number.
 */
uint64_t calib_cpuid_tsc_hz(uint32_t max_leaf, uint32_t eax15, uint32_t ebx15, uint32_t ecx15,
                            uint32_t eax16);
/* counted * ref_hz / ref_ticks without overflow; 0 when ref_ticks is 0,
 * UINT64_MAX when the rate does not fit. */
uint64_t calib_scale(uint64_t counted, uint64_t ref_hz, uint64_t ref_ticks);
/* Ticks from `from` to `to` of a counter `bits` wide that may wrap once. */
uint64_t calib_delta(uint64_t from, uint64_t to, unsigned bits);
/* The HPET's rate from its capabilities register (bits 63-32: the period
 * in femtoseconds, at most 100 ns by the specification): 0 if invalid. */
uint64_t calib_hpet_hz(uint64_t gcap_id);
/* Plausible rates: a TSC from 50 MHz to 20 GHz, an APIC timer (divided
 * by 16) from 10 kHz to 5 GHz. */
bool calib_tsc_sane(uint64_t hz);
bool calib_apic_sane(uint64_t hz);
/* calibrate=NAME: the source, or -1 for an unknown name. */
int calib_source_parse(const char *name);

/* One window of a calibration: `tsc` cycles between its ends, which were
 * `ticks` of the reference apart; the APIC timer counted `apic` over the
 * `apic_tsc` cycles it ran (a little longer than the window). */
struct calib_window {
    uint64_t tsc, ticks, apic_tsc;
    uint32_t apic;
};
#define CALIB_MAX_WINDOWS 16
/*
 * The median of the windows' TSC rates (tsc * ref_hz / ticks), then the
 * median of their APIC timer rates (apic * that TSC rate / apic_tsc),
 * into r->tsc_hz and r->apic_hz.  A window with a zero count gives rate
 * 0; n outside 1..CALIB_MAX_WINDOWS gives both rates 0.  A median, so
 * that one window the host delayed, in whichever direction, moves
 * nothing.
 */
void calib_median_rates(const struct calib_window *w, int n, uint64_t ref_hz,
                        struct calib_result *r);

/* ---- the kernel's side (kernel/cpu/calibrate.c) ---- */

/* The APIC timer's counts since it was last started (start = true
 * restarts it from its maximum and returns 0): kernel/cpu/apic.c. */
typedef uint32_t (*calib_apic_fn)(bool start);

/*
 * Measure with one source: 0 with r filled, -ENODEV when the machine
 * does not have it, -ETIMEDOUT when its counter did not move or the
 * window never ended, -ERANGE when a rate came out implausible.
 */
int calib_measure(enum calib_source src, calib_apic_fn apic, struct calib_result *r);
/*
 * The boot's calibration: the source `calibrate=` names if it works,
 * else the first that works in the order above; one line says which.
 * With none, a guess (2 GHz TSC, 6.25 MHz APIC timer) and a warning.
 */
struct calib_result calibrate(calib_apic_fn apic);

/* The references' counters, for calibration (kernel/cpu/hpet.c,
 * kernel/cpu/acpi_pm.c): false when absent; then *hz is the rate and
 * *bits the counter's width. */
bool hpet_counter_init(uint64_t *hz, unsigned *bits);
uint64_t hpet_counter_read(void);
bool acpi_pm_timer_init(uint64_t *hz, unsigned *bits);
uint64_t acpi_pm_timer_read(void);

#endif
