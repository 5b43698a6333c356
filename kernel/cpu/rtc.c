/*
 * The CMOS real-time clock: the wall-clock time at boot.
 *
 * Every PC keeps the date in its CMOS clock, battery-backed: an index
 * written to port 0x70 selects a register, port 0x71 reads it.  Register
 * A's bit 7 (UIP) is set while the clock is updating its registers
 * (about 2 ms each second), when they may be half old and half new, so
 * the registers are read while UIP is clear, twice, until two reads
 * agree (Linux's mc146818_get_time does the same).  Bit 7 of port 0x70
 * masks the NMI: it is left set while we look, as Linux does.
 * kernel/lib/rtc_time.c turns the registers into seconds.
 *
 * Why not the firmware's GetTime: the loader would have to call it
 * before ExitBootServices and pass it in boot_info (a new field, a new
 * version of the boot contract) for the same answer, since UEFI firmware
 * on PCs reads this very clock.  A machine without a CMOS clock (ACPI's
 * "CMOS RTC not present" flag) gives all-ones registers or no valid date:
 * the wall clock then starts at the epoch, and the log says so.
 * Datasheet: Motorola MC146818A; the registers: Intel's PCH datasheets,
 * "RTC indexed registers".
 */
#include <kernel/time.h>
#include <kernel/x86.h>

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define NMI_OFF    0x80

#define REG_SEC     0x00
#define REG_MIN     0x02
#define REG_HOUR    0x04
#define REG_MDAY    0x07
#define REG_MON     0x08
#define REG_YEAR    0x09
#define REG_A       0x0a
#define REG_B       0x0b
#define REG_CENTURY 0x32   /* the ACPI FADT's usual century register */
#define A_UIP       0x80

static uint8_t cmos(uint8_t reg)
{
    outb(CMOS_INDEX, NMI_OFF | reg);
    return inb(CMOS_DATA);
}

static void read_once(struct rtc_regs *r)
{
    r->sec = cmos(REG_SEC);
    r->min = cmos(REG_MIN);
    r->hour = cmos(REG_HOUR);
    r->mday = cmos(REG_MDAY);
    r->mon = cmos(REG_MON);
    r->year = cmos(REG_YEAR);
    r->century = cmos(REG_CENTURY);
    r->status_b = cmos(REG_B);
}

static bool same(const struct rtc_regs *a, const struct rtc_regs *b)
{
    return a->sec == b->sec && a->min == b->min && a->hour == b->hour && a->mday == b->mday &&
           a->mon == b->mon && a->year == b->year && a->century == b->century &&
           a->status_b == b->status_b;
}

/* Wait (a bounded while: an update lasts about 2 ms) for UIP to clear. */
static bool wait_no_update(void)
{
    for (long i = 0; i < 10000000; i++)
        if (!(cmos(REG_A) & A_UIP))
            return true;
    return false;
}

bool rtc_read(struct rtc_regs *r)
{
    if (cmos(REG_A) == 0xff && cmos(REG_B) == 0xff)
        return false;   /* nothing answers: the bus reads all ones */
    struct rtc_regs again;
    for (int tries = 0; tries < 10; tries++) {
        if (!wait_no_update())
            return false;
        read_once(r);
        if (!wait_no_update())
            return false;
        read_once(&again);
        if (same(r, &again))
            return true;
    }
    return false;
}
