/*
 * The arithmetic of timer calibration (include/kernel/calibrate.h), pure
 * so that tests/host/test_calibrate.c checks it with the numbers real
 * CPUs and chipsets give.
 *
 * Invariant: no intermediate product overflows (128-bit products, one
 * divq); a
 * rate is never computed from a zero divisor.
 */
#include <kernel/calibrate.h>
#include <kernel/string.h>

const char *const calib_source_names[CALIB_NR] = { "cpuid", "hpet", "pmtimer", "pit" };

uint64_t calib_cpuid_tsc_hz(uint32_t max_leaf, uint32_t eax15, uint32_t ebx15, uint32_t ecx15,
                            uint32_t eax16)
{
    if (max_leaf < 0x15 || !eax15 || !ebx15)
        return 0;   /* no ratio: the leaf is not enumerated */
    if (ecx15)
        return (uint64_t)ecx15 * ebx15 / eax15;   /* 32 x 32 bits: no overflow */
    /* No crystal frequency: the base frequency is the TSC's (leaf 0x16's
     * eax, in MHz), as Linux's native_calibrate_tsc takes it. */
    if (max_leaf >= 0x16 && eax16 && eax16 < 100000)
        return (uint64_t)eax16 * 1000000;
    return 0;
}

/* The 128-bit product divided with one divq (no libgcc in the kernel):
 * the quotient fits in 64 bits exactly when the product's high half is
 * below the divisor, else divq would fault. */
uint64_t calib_scale(uint64_t counted, uint64_t ref_hz, uint64_t ref_ticks)
{
    if (!ref_ticks)
        return 0;
    unsigned __int128 p = (unsigned __int128)counted * ref_hz;
    uint64_t hi = (uint64_t)(p >> 64), lo = (uint64_t)p, q, r;
    if (hi >= ref_ticks)
        return UINT64_MAX;
    __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(ref_ticks) : "cc");
    return q;
}

uint64_t calib_delta(uint64_t from, uint64_t to, unsigned bits)
{
    uint64_t mask = bits >= 64 ? ~0ul : (1ul << bits) - 1;
    return (to - from) & mask;
}

uint64_t calib_hpet_hz(uint64_t gcap_id)
{
    uint64_t fs = gcap_id >> 32;
    if (!fs || fs > 100000000ul)    /* over 100 ns a tick: not an HPET */
        return 0;
    return 1000000000000000ul / fs;
}

bool calib_tsc_sane(uint64_t hz)
{
    return hz >= 50000000ul && hz <= 20000000000ul;
}

bool calib_apic_sane(uint64_t hz)
{
    return hz >= 10000ul && hz <= 5000000000ul;
}

/* The median of v[0..n) (the lower one of the middle two for even n);
 * v is sorted in place, by insertion: n is at most a handful. */
static uint64_t median(uint64_t *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[(n - 1) / 2];
}

void calib_median_rates(const struct calib_window *w, int n, uint64_t ref_hz,
                        struct calib_result *r)
{
    uint64_t v[CALIB_MAX_WINDOWS];
    r->tsc_hz = r->apic_hz = 0;
    if (n < 1 || n > CALIB_MAX_WINDOWS)
        return;
    for (int i = 0; i < n; i++)
        v[i] = calib_scale(w[i].tsc, ref_hz, w[i].ticks);
    r->tsc_hz = median(v, n);
    for (int i = 0; i < n; i++)
        v[i] = calib_scale(w[i].apic, r->tsc_hz, w[i].apic_tsc);
    r->apic_hz = median(v, n);
}

int calib_source_parse(const char *name)
{
    for (int i = 0; name && i < CALIB_NR; i++)
        if (strcmp(name, calib_source_names[i]) == 0)
            return i;
    return -1;
}
