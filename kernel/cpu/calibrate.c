/*
 * Timer calibration at boot (include/kernel/calibrate.h, docs/time.md).
 *
 * A reference is a counter of known rate that can be read at any time:
 * the TSC once CPUID stated its rate, the HPET, the ACPI PM timer, and
 * the PIT's channel 2 made a free-running 16-bit counter.  Over a 10 ms
 * window of the reference the TSC and the APIC timer are counted, five
 * times, and the median window is kept.
 *
 * A window is only as exact as the TSC times of its two ends.  Each read
 * of the reference is bracketed by two TSC reads; a read whose bracket is
 * wider than BRACKET_TSC cycles (the host descheduled the virtual CPU, an
 * SMI on a real PC) does not end a window: the next one does.  (On a
 * machine whose every read is slower, such as nested virtualisation,
 * the limit becomes twice the narrowest bracket seen, after 64 wide
 * reads in a row.)  A delay
 * anywhere else inside a window is harmless, as both counters run on.
 * The median, not the shortest or the longest window, because an error
 * that is left can go either way: CI once booted with a "991 MHz" TSC on
 * a 2.44 GHz host when the shortest window was kept.  (One such error:
 * the PIT's counter wraps every 55 ms, so a window the host stopped for
 * longer than that loses a wrap and reads short.)
 *
 * Every wait is bounded twice: a counter that shows the same value for
 * STUCK_READS reads in a row is dead, and a window that lasts more than
 * GIVE_UP_TSC cycles (at least half a second at any plausible TSC rate)
 * is abandoned, and the next reference is tried: the PIT, gated off on
 * some PCs, is found dead in a few milliseconds.
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
/* The slowest reference, the PIT, ticks every 0.84 us; no read of any
 * takes under 0.1 us: ten thousand equal reads mean a dead counter. */
#define STUCK_READS 10000ul
#define GIVE_UP_TSC 10000000000ul
/* 40 us at 2.5 GHz: an HPET or PM-timer read costs about 1 us under TCG,
 * a descheduled virtual CPU or an SMI tens of microseconds at least. */
#define BRACKET_TSC 100000ul
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

/* How wide a bracket may be to end a window: BRACKET_TSC, unless the
 * machine never reads the reference that fast (nested virtualisation,
 * every read an exit to a device model): after LOOSE_READS wider ones in
 * a row, twice the narrowest bracket seen so far. */
#define LOOSE_READS 64
struct bracket {
    uint64_t limit, narrowest;
    unsigned loose;
};

/* One read of the reference and the TSC time it was taken at (the middle
 * of its bracket); false when the bracket is too wide to trust. */
static bool read_at(const struct ref *r, struct bracket *k, uint64_t *c, uint64_t *tsc)
{
    uint64_t a = rdtsc();
    *c = r->read();
    uint64_t b = rdtsc(), w = b - a;
    *tsc = a + w / 2;
    if (w < k->narrowest)
        k->narrowest = w;
    if (w <= k->limit) {
        k->loose = 0;
        return true;
    }
    if (++k->loose >= LOOSE_READS && k->limit < 2 * k->narrowest)
        k->limit = 2 * k->narrowest;
    return false;
}

/* One window of at least `ticks` of the reference: the TSC cycles and
 * reference ticks between its ends, and the APIC timer's counts over the
 * TSC cycles it ran. */
static int window(const struct ref *r, uint64_t ticks, calib_apic_fn apic,
                  struct calib_window *w)
{
    uint64_t c0, t0, c, t, d, last, same = 0, begun = rdtsc();
    struct bracket k = { BRACKET_TSC, ~0ul, 0 };
    while (!read_at(r, &k, &c0, &t0))
        if (rdtsc() - begun > GIVE_UP_TSC)
            return -ETIMEDOUT;
    uint64_t a0 = rdtsc();
    apic(true);
    last = c0;
    for (;;) {
        bool tight = read_at(r, &k, &c, &t);
        d = calib_delta(c0, c, r->bits);
        if (d >= ticks && tight)
            break;
        same = c == last ? same + 1 : 0;
        last = c;
        if (same > STUCK_READS || rdtsc() - t0 > GIVE_UP_TSC)
            return -ETIMEDOUT;
    }
    w->apic = apic(false);
    w->apic_tsc = rdtsc() - a0;
    w->tsc = t - t0;
    w->ticks = d;
    return 0;
}

/* The PIT's channel 2 as a free-running 16-bit counter: mode 2 with a
 * reload of 65536, gate on and speaker off through port 0x61; a read
 * latches the count (it counts down, so 65536 minus it counts up).  A PC
 * that gates the PIT off shows a counter that never moves.  Intel 8254
 * datasheet: the counter-latch command and mode 2. */
static void pit_counter_start(void)
{
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
    outb(0x43, 0xb4);       /* channel 2, lo/hi byte, mode 2, binary */
    outb(0x42, 0);
    outb(0x42, 0);
}

static uint64_t pit_counter_read(void)
{
    outb(0x43, 0x80);       /* latch channel 2 */
    uint32_t lo = inb(0x42), hi = inb(0x42);
    return (0x10000u - (hi << 8 | lo)) & 0xffffu;
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
        pit_counter_start();
        r = (struct ref){ PIT_HZ, 16, pit_counter_read };
        break;
    default:
        return -EINVAL;
    }
    struct calib_window w[ROUNDS];
    for (int n = 0; n < ROUNDS; n++) {
        int e = window(&r, r.hz * WINDOW_US / 1000000, apic, &w[n]);
        if (e)
            return e;
    }
    calib_median_rates(w, ROUNDS, r.hz, res);
    res->src = src;
    if (stated)
        res->tsc_hz = stated;
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
