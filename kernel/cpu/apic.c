/*
 * The local APIC timer.
 *
 * Each CPU has a local APIC with a timer that counts down at a rate
 * nobody tells us (a fraction of the bus clock), so we measure it: start
 * it at its maximum, let a reference clock time 10 ms, and see how far it
 * counted (kernel/cpu/calibrate.c: CPUID's stated TSC rate, the HPET,
 * the ACPI PM timer or the PIT, whichever works first; five windows,
 * keeping the median).  The TSC is measured over the same windows:
 * kernel/proc/timekeeping.c makes every clock of it (docs/time.md).
 * Then the timer runs periodically at HZ on vector VEC_TIMER.
 * The 8259 PICs are masked: the APIC delivers everything we use.
 * Intel SDM vol. 3A, 11.5.4 (APIC timer).
 *
 * The registers are reached the way the firmware left the APIC: in
 * xAPIC mode as 4 KiB of memory-mapped registers, in x2APIC mode
 * (IA32_APIC_BASE bit 10, which some firmware sets on machines with many
 * CPUs or with interrupt remapping) as MSRs 0x800 + offset / 16, the
 * memory-mapped page then being dead (Intel SDM vol. 3A, 11.12).  Every
 * register access in the kernel goes through lapic_read/lapic_write.
 */
#include <kernel/apic.h>
#include <kernel/calibrate.h>
#include <kernel/cpu.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/x86.h>
#include <mm/vmalloc.h>

#define APIC_BASE_MSR 0x1b
#define APIC_BASE_X2  (1u << 10)
#define REG_ID        0x020
#define REG_EOI       0x0b0
#define REG_SVR       0x0f0
#define REG_LVT_TIMER 0x320
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CUR 0x390
#define REG_TIMER_DIV 0x3e0
#define LVT_MASKED    (1u << 16)
#define LVT_PERIODIC  (1u << 17)

static volatile uint32_t *apic;  /* xAPIC: the registers' page; NULL in x2APIC mode */
static bool x2apic;
static bool apic_up;
static uint64_t tsc_per_sec;
static uint32_t tick_count;   /* the timer's reload value: counts per tick */

uint32_t lapic_read(uint32_t reg)
{
    return x2apic ? (uint32_t)rdmsr(0x800 + reg / 16) : apic[reg / 4];
}

void lapic_write(uint32_t reg, uint32_t v)
{
    if (x2apic)
        wrmsr(0x800 + reg / 16, v);
    else
        apic[reg / 4] = v;
}

bool lapic_x2apic(void)
{
    return x2apic;
}

uint32_t lapic_id(void)
{
    return x2apic ? lapic_read(REG_ID) : lapic_read(REG_ID) >> 24;
}

static uint32_t rd(uint32_t reg)
{
    return lapic_read(reg);
}

static void wr(uint32_t reg, uint32_t v)
{
    lapic_write(reg, v);
}

void apic_eoi(void)
{
    if (apic_up)
        wr(REG_EOI, 0);
}

uint64_t tsc_hz(void)
{
    return tsc_per_sec;
}

uint64_t apic_tick_age_ns(void)
{
    if (!apic_up || !tick_count)
        return 0;
    uint32_t left = rd(REG_TIMER_CUR);   /* counts down from tick_count, then reloads */
    if (left > tick_count)
        left = tick_count;
    return (uint64_t)(tick_count - left) * (1000000000ul / HZ) / tick_count;
}

/* calib_apic_fn (include/kernel/calibrate.h): counts since the start. */
static uint32_t apic_counted(bool start)
{
    if (start) {
        wr(REG_TIMER_INIT, 0xffffffff);
        return 0;
    }
    return 0xffffffff - rd(REG_TIMER_CUR);
}

void apic_init(void)
{
    outb(0x21, 0xff); /* mask both 8259s */
    outb(0xa1, 0xff);
    uint64_t msr = rdmsr(APIC_BASE_MSR), base = msr & 0x000ffffffffff000ul;
    x2apic = msr & APIC_BASE_X2;
    if (!x2apic && !(apic = ioremap(base, 4096)))
        panic("apic: cannot map the local APIC at %#lx", base);
    apic_up = true;
    wr(REG_SVR, 0x1ff);                   /* enabled, spurious vector 0xff */
    wr(REG_TIMER_DIV, 0x3);               /* divide by 16 */
    wr(REG_LVT_TIMER, LVT_MASKED | VEC_TIMER);
    /* The TSC's and the timer's rates against a reference clock
     * (kernel/cpu/calibrate.c: CPUID, HPET, PM timer or PIT, all bounded). */
    struct calib_result cal = calibrate(apic_counted);
    tsc_per_sec = cal.tsc_hz;
    uint32_t per_tick = (uint32_t)(cal.apic_hz / HZ);
    if (per_tick == 0)
        per_tick = 100000;
    wr(REG_TIMER_INIT, 0);
    wr(REG_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
    wr(REG_TIMER_INIT, per_tick);
    tick_count = per_tick;
    char where[40];
    if (x2apic)
        snprintf(where, sizeof(where), "in x2APIC mode (MSRs)");
    else
        snprintf(where, sizeof(where), "at %#lx", base);
    printk("apic: local APIC %u %s; timer %u counts per %d ms tick (divide 16); "
           "TSC %lu MHz\n", lapic_id(), where, per_tick, 1000 / HZ, (tsc_per_sec / 1000000));
}

void apic_timer_start(void)
{
    wr(REG_TIMER_DIV, 0x3);
    wr(REG_TIMER_INIT, 0);
    wr(REG_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
    wr(REG_TIMER_INIT, tick_count);
}

/* Measure again with one source (tests/kernel/test_realpc.c): the timer
 * is masked during the windows and restarted at its rate after. */
int apic_calibrate_source(int src, struct calib_result *r)
{
    if (!apic)
        return -ENODEV;
    uint64_t flags = read_rflags();
    cli();
    wr(REG_LVT_TIMER, LVT_MASKED | VEC_TIMER);
    int e = calib_measure((enum calib_source)src, apic_counted, r);
    wr(REG_TIMER_INIT, 0);
    wr(REG_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
    wr(REG_TIMER_INIT, tick_count);
    if (flags & 0x200)
        sti();
    return e;
}
