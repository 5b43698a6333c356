/*
 * Timer calibration at boot (include/kernel/calibrate.h, docs/time.md).
 *
 * A reference is a counter of known rate that can be read at any time
 * (the TSC once CPUID stated its rate, the HPET, the ACPI PM timer) or,
 * for the PIT, a one-shot countdown whose end shows on port 0x61.  Over a
 * 10 ms window of the reference the TSC and the APIC timer are counted,
 * five times, keeping the shortest window by the TSC: anything that
 * delays us inside a window (under QEMU, the host descheduling the
 * virtual CPU) can only make it look longer.
 *
 * Every wait is bounded twice: a counter that shows the same value for
 * STUCK_READS reads in a row is dead, and a window that lasts more than
 * GIVE_UP_TSC cycles (at least half a second at any plausible TSC rate)
 * is abandoned.  The PIT, gated off on some PCs, then loses its place,
 * and the next reference is tried.
 *
 * Invariant: calibrate() returns; every loop here ends.
 */
#include <kernel/calibrate.h>
#include <kernel/cmdline.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/x86.h>

#define WINDOW_US   10000
#define ROUNDS      5
#define STUCK_READS 1000000ul
#define GIVE_UP_TSC 10000000000ul
#define PIT_HZ      1193182ul

struct ref {
    uint64_t hz;
    unsigned bits;
    uint64_t (*read)(void);
};

static uint64_t tsc_read(void)
{
    return rdtsc();
}

/* One window of `ticks` of the reference: the TSC cycles and APIC counts
 * in it, and the reference ticks it really lasted. */
static int window(const struct ref *r, uint64_t ticks, calib_apic_fn apic, uint64_t *tsc,
                  uint32_t *counted, uint64_t *lasted)
{
    apic(true);
    uint64_t c0 = r->read(), t0 = rdtsc(), last = c0, same = 0, d;
    for (;;) {
        uint64_t c = r->read();
        d = calib_delta(c0, c, r->bits);
        if (d >= ticks)
            break;
        same = c == last ? same + 1 : 0;
        last = c;
        if (same > STUCK_READS || rdtsc() - t0 > GIVE_UP_TSC)
            return -ETIMEDOUT;
    }
    *tsc = rdtsc() - t0;
    *counted = apic(false);
    *lasted = d;
    return 0;
}

/* The PIT's channel 2 counting down `us` (mode 0, gate through port
 * 0x61; OUT2, bit 5 of 0x61, goes high at 0).  Intel 8254 datasheet. */
static int pit_window(uint32_t us, calib_apic_fn apic, uint64_t *tsc, uint32_t *counted)
{
    uint32_t count = (uint32_t)(PIT_HZ * us / 1000000);
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01)); /* gate on, speaker off */
    outb(0x43, 0xb0);                                   /* ch 2, lo/hi, mode 0 */
    outb(0x42, (uint8_t)count);
    outb(0x42, (uint8_t)(count >> 8));
    outb(0x61, (uint8_t)(inb(0x61) & ~0x01));           /* restart the count */
    outb(0x61, (uint8_t)(inb(0x61) | 0x01));
    apic(true);
    uint64_t t0 = rdtsc();
    for (uint64_t i = 0; !(inb(0x61) & 0x20); i++)
        if (i > 20 * STUCK_READS || rdtsc() - t0 > GIVE_UP_TSC)
            return -ETIMEDOUT;
    *tsc = rdtsc() - t0;
    *counted = apic(false);
    return 0;
}

static uint64_t cpuid_tsc_hz(void)
{
    uint32_t max, a15 = 0, b15 = 0, c15 = 0, a16 = 0, b, c, d;
    cpuid(0, 0, &max, &b, &c, &d);
    if (max >= 0x15)
        cpuid(0x15, 0, &a15, &b15, &c15, &d);
    if (max >= 0x16)
        cpuid(0x16, 0, &a16, &b, &c, &d);
    return calib_cpuid_tsc_hz(max, a15, b15, c15, a16);
}

int calib_measure(enum calib_source src, calib_apic_fn apic, struct calib_result *res)
{
    struct ref r = { 0, 64, tsc_read };
    uint64_t stated = 0;
    switch (src) {
    case CALIB_CPUID:
        stated = r.hz = cpuid_tsc_hz();
        /* A garbage leaf 0x15 would overflow the window's size below: a
         * rate no TSC has is no reference at all. */
        if (!r.hz || !calib_tsc_sane(r.hz))
            return -ENODEV;
        break;
    case CALIB_HPET:
        if (!hpet_counter_init(&r.hz, &r.bits))
            return -ENODEV;
        r.read = hpet_counter_read;
        break;
    case CALIB_PMTMR:
        if (!acpi_pm_timer_init(&r.hz, &r.bits))
            return -ENODEV;
        r.read = acpi_pm_timer_read;
        break;
    case CALIB_PIT:
        r.hz = PIT_HZ;
        break;
    default:
        return -EINVAL;
    }
    uint64_t best_tsc = ~0ul, best_ticks = 1;
    uint32_t best_apic = 0;
    for (int round = 0; round < ROUNDS; round++) {
        uint64_t tsc, ticks;
        uint32_t counted;
        int e;
        if (src == CALIB_PIT) {
            e = pit_window(WINDOW_US, apic, &tsc, &counted);
            ticks = PIT_HZ * WINDOW_US / 1000000;
        } else {
            e = window(&r, r.hz * WINDOW_US / 1000000, apic, &tsc, &counted, &ticks);
        }
        if (e)
            return e;
        /* shortest window, per reference tick */
        if ((unsigned __int128)tsc * best_ticks < (unsigned __int128)best_tsc * ticks) {
            best_tsc = tsc;
            best_ticks = ticks;
            best_apic = counted;
        }
    }
    res->src = src;
    res->tsc_hz = stated ? stated : calib_scale(best_tsc, r.hz, best_ticks);
    res->apic_hz = calib_scale(best_apic, r.hz, best_ticks);
    if (!calib_tsc_sane(res->tsc_hz) || !calib_apic_sane(res->apic_hz))
        return -ERANGE;
    return 0;
}

static const char *why(int e)
{
    return e == -ENODEV ? "absent" : e == -ETIMEDOUT ? "timed out (counter stuck?)" :
           e == -ERANGE ? "implausible rate" : "failed";
}

struct calib_result calibrate(calib_apic_fn apic)
{
    struct calib_result r = { CALIB_NR, 2000000000ul, 6250000ul };
    const char *want = option("calibrate");
    int forced = want ? calib_source_parse(want) : -1;
    if (want && forced < 0)
        printk("calibrate=%s: unknown source (cpuid, hpet, pmtimer, pit): the usual order\n",
               want);
    if (forced >= 0) {
        int e = calib_measure((enum calib_source)forced, apic, &r);
        if (!e) {
            printk("calibration: %s (calibrate=%s)\n", calib_source_names[forced], want);
            return r;
        }
        printk("calibration: %s %s: the usual order\n", calib_source_names[forced], why(e));
    }
    for (int s = 0; s < CALIB_NR; s++) {
        if (s == forced)
            continue;
        int e = calib_measure((enum calib_source)s, apic, &r);
        if (!e) {
            printk("calibration: %s\n", calib_source_names[s]);
            return r;
        }
        printk("calibration: %s %s\n", calib_source_names[s], why(e));
    }
    r = (struct calib_result){ CALIB_NR, 2000000000ul, 6250000ul };
    printk("calibration: WARNING: no reference worked; guessing a 2 GHz TSC and a 6.25 MHz "
           "APIC timer: every clock may run wrong\n");
    return r;
}
