/*
 * Dates to seconds: what the CMOS clock's registers say, as a count of
 * seconds since 1970-01-01 00:00 UTC (include/kernel/time.h).  Pure code,
 * so the host test (tests/host/test_rtc_time.c) checks it against the C
 * library's timegm over centuries of dates.
 *
 * The CMOS clock (Motorola MC146818 and its successors in every PC
 * chipset) keeps seconds, minutes, hours, day of month, month and a
 * two-digit year, in BCD unless register B's bit 2 says binary, and hours
 * 1-12 with bit 7 for PM unless register B's bit 1 says 24-hour.  The
 * century is in a register the ACPI FADT names (0x32 on PCs and in QEMU);
 * when it holds no sensible value, years 70-99 are 19xx and 00-69 20xx.
 * The clock is assumed to keep UTC (QEMU's default, Linux's assumption
 * unless told otherwise).
 */
#include <kernel/time.h>

/* Seconds from 1970-01-01 to a date (proleptic Gregorian, year >= 0):
 * years are counted from March, so that February's leap day is the
 * year's last. */
int64_t mktime64(int64_t year, int mon, int day, int hour, int min, int sec)
{
    if (mon <= 2) {
        mon += 12;
        year -= 1;
    }
    /* Days before the March-based year (year >= 0: the divisions count
     * its leap days), then before the month (March is 0: the month
     * lengths 31 30 31 30 31 repeat, which (153 m + 2) / 5 follows), less
     * the days from year 0 to 1970-01-01. */
    int64_t days = year * 365 + year / 4 - year / 100 + year / 400 +
                   (153 * (mon - 3) + 2) / 5 + day - 1 - 719468;
    return ((days * 24 + hour) * 60 + min) * 60 + sec;
}

static int from_bcd(uint8_t v, bool binary, bool *ok)
{
    if (binary)
        return v;
    if ((v & 0xf) > 9 || (v >> 4) > 9)
        *ok = false;
    return (v >> 4) * 10 + (v & 0xf);
}

int64_t rtc_regs_to_time(const struct rtc_regs *r)
{
    bool binary = r->status_b & 0x04, h24 = r->status_b & 0x02, ok = true;
    int sec = from_bcd(r->sec, binary, &ok), min = from_bcd(r->min, binary, &ok);
    int hour = from_bcd(r->hour & 0x7f, binary, &ok);
    int mday = from_bcd(r->mday, binary, &ok), mon = from_bcd(r->mon, binary, &ok);
    int year = from_bcd(r->year, binary, &ok);
    bool cok = true;
    int century = from_bcd(r->century, binary, &cok);
    if (!h24) {
        /* 12-hour mode: 12 AM is 0 h, 12 PM is 12 h */
        bool pm = r->hour & 0x80;
        if (hour < 1 || hour > 12)
            ok = false;
        hour = hour % 12 + (pm ? 12 : 0);
    }
    if (!ok || sec > 59 || min > 59 || hour > 23 || mday < 1 || mday > 31 || mon < 1 ||
        mon > 12 || year > 99)
        return -1;
    if (!cok || century < 19 || century > 30)
        century = year < 70 ? 20 : 19;
    return mktime64(century * 100 + year, mon, mday, hour, min, sec);
}
