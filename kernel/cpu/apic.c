/*
 * The local APIC timer.
 *
 * Each CPU has a local APIC with a timer that counts down at a rate
 * nobody tells us (a fraction of the bus clock), so we measure it: start
 * it at its maximum, let the legacy PIT (whose rate is fixed, 1193182 Hz)
 * time 10 ms on channel 2, and see how far it counted (five times,
 * keeping the shortest window, which nothing delayed).  The TSC is
 * measured over the same 10 ms: kernel/proc/timekeeping.c makes every
 * clock of it (docs/time.md).
 * Then the timer runs periodically at HZ on vector VEC_TIMER.
 * The 8259 PICs are masked: the APIC delivers everything we use.
 * Intel SDM vol. 3A, 11.5.4 (APIC timer); the PIT: Intel 8254 datasheet.
 */
#include <kernel/apic.h>
#include <kernel/cpu.h>
#include <kernel/printk.h>
#include <kernel/x86.h>
#include <mm/vmalloc.h>

#define APIC_BASE_MSR 0x1b
#define REG_ID        0x020
#define REG_EOI       0x0b0
#define REG_SVR       0x0f0
#define REG_LVT_TIMER 0x320
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CUR 0x390
#define REG_TIMER_DIV 0x3e0
#define LVT_MASKED    (1u << 16)
#define LVT_PERIODIC  (1u << 17)

static volatile uint32_t *apic;
static uint64_t tsc_per_sec;
static uint32_t tick_count;   /* the timer's reload value: counts per tick */

static uint32_t rd(uint32_t reg)
{
    return apic[reg / 4];
}

static void wr(uint32_t reg, uint32_t v)
{
    apic[reg / 4] = v;
}

void apic_eoi(void)
{
    if (apic)
        wr(REG_EOI, 0);
}

uint64_t tsc_hz(void)
{
    return tsc_per_sec;
}

uint64_t apic_tick_age_ns(void)
{
    if (!apic || !tick_count)
        return 0;
    uint32_t left = rd(REG_TIMER_CUR);   /* counts down from tick_count, then reloads */
    if (left > tick_count)
        left = tick_count;
    return (uint64_t)(tick_count - left) * (1000000000ul / HZ) / tick_count;
}

/* Busy-wait `us` microseconds on PIT channel 2 (gate through port 0x61). */
static void pit_wait_us(uint32_t us)
{
    uint32_t count = (uint32_t)(1193182ul * us / 1000000);
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01)); /* gate on, speaker off */
    outb(0x43, 0xb0);                                   /* ch 2, lo/hi, mode 0 */
    outb(0x42, (uint8_t)count);
    outb(0x42, (uint8_t)(count >> 8));
    outb(0x61, (uint8_t)(inb(0x61) & ~0x01));           /* restart the count */
    outb(0x61, (uint8_t)(inb(0x61) | 0x01));
    while (!(inb(0x61) & 0x20))                         /* OUT2 goes high at 0 */
        ;
}

void apic_init(void)
{
    outb(0x21, 0xff); /* mask both 8259s */
    outb(0xa1, 0xff);
    uint64_t base = rdmsr(APIC_BASE_MSR) & 0x000ffffffffff000ul;
    apic = ioremap(base, 4096);
    if (!apic)
        panic("apic: cannot map the local APIC at %#lx", base);
    wr(REG_SVR, 0x1ff);                   /* enabled, spurious vector 0xff */
    wr(REG_TIMER_DIV, 0x3);               /* divide by 16 */
    wr(REG_LVT_TIMER, LVT_MASKED | VEC_TIMER);
    /* Time 10 ms of the PIT with the TSC and the APIC timer, five times,
     * and keep the shortest: anything that delays us inside a window (under
     * QEMU, the host descheduling the virtual CPU between rdtsc and the
     * PIT's start) can only make it look longer, and one long window would
     * make every clock of the kernel run slow by that much. */
    uint64_t best = ~0ul;
    uint32_t counted = 0;
    for (int round = 0; round < 5; round++) {
        wr(REG_TIMER_INIT, 0xffffffff);
        uint64_t t0 = rdtsc();
        pit_wait_us(10000);
        uint64_t t1 = rdtsc();
        uint32_t c = 0xffffffff - rd(REG_TIMER_CUR);
        if (t1 - t0 < best) {
            best = t1 - t0;
            counted = c;
        }
    }
    tsc_per_sec = best * 100;
    uint32_t per_tick = (uint32_t)((uint64_t)counted * 100 / HZ);
    if (per_tick == 0)
        per_tick = 100000;
    wr(REG_TIMER_INIT, 0);
    wr(REG_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
    wr(REG_TIMER_INIT, per_tick);
    tick_count = per_tick;
    printk("apic: local APIC %u at %#lx; timer %u counts per %d ms tick (divide 16); "
           "TSC %lu MHz\n", rd(REG_ID) >> 24, base, per_tick, 1000 / HZ,
           (tsc_per_sec / 1000000));
}
