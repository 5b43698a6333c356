/*
 * Host tests of the dates of the CMOS clock (kernel/lib/rtc_time.c):
 * mktime64 against the C library's timegm, day by day over four
 * centuries, and rtc_regs_to_time over the clock's register formats (BCD
 * and binary, 12- and 24-hour, the century register or the 70/00 rule),
 * with invalid registers refused.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <time.h>

#include "htest.h"
#include <kernel/time.h>

static void t_mktime_matches_timegm(void)
{
    /* every day from 1900 to 2299 at 13:37:42, and the epoch's neighbours */
    for (int y = 1900; y < 2300; y++)
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= 31; d++) {
                struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d,
                                 .tm_hour = 13, .tm_min = 37, .tm_sec = 42 };
                time_t want = timegm(&tm);
                if (tm.tm_mday != d)
                    continue;   /* no such day (timegm moved it) */
                HT_ASSERT(mktime64(y, m, d, 13, 37, 42) == (int64_t)want,
                          "%04d-%02d-%02d: %ld, timegm %ld", y, m, d,
                          (long)mktime64(y, m, d, 13, 37, 42), (long)want);
            }
    HT_EQ_U(mktime64(1970, 1, 1, 0, 0, 0), 0);
    HT_EQ_U((uint64_t)mktime64(1969, 12, 31, 23, 59, 59), (uint64_t)-1);
    HT_EQ_U(mktime64(2000, 3, 1, 0, 0, 0), 951868800);   /* after a 400-year leap day */
    HT_EQ_U(mktime64(2038, 1, 19, 3, 14, 8), 2147483648ul);
}

static uint8_t bcd(int v)
{
    return (uint8_t)((v / 10) << 4 | v % 10);
}

#define B_24H    0x02
#define B_BINARY 0x04

static void t_register_formats(void)
{
    int64_t want = mktime64(2026, 12, 7, 18, 5, 9);
    /* BCD, 24-hour, century register */
    struct rtc_regs r = { bcd(9), bcd(5), bcd(18), bcd(7), bcd(12), bcd(26), bcd(20), B_24H };
    HT_EQ_U(rtc_regs_to_time(&r), want);
    /* binary, 24-hour */
    r = (struct rtc_regs){ 9, 5, 18, 7, 12, 26, 20, B_24H | B_BINARY };
    HT_EQ_U(rtc_regs_to_time(&r), want);
    /* BCD, 12-hour: 6 PM */
    r = (struct rtc_regs){ bcd(9), bcd(5), 0x80 | bcd(6), bcd(7), bcd(12), bcd(26), bcd(20), 0 };
    HT_EQ_U(rtc_regs_to_time(&r), want);
    /* binary, 12-hour: 12 AM is 0 h, 12 PM is 12 h */
    r = (struct rtc_regs){ 0, 0, 12, 1, 1, 30, 20, B_BINARY };
    HT_EQ_U(rtc_regs_to_time(&r), mktime64(2030, 1, 1, 0, 0, 0));
    r.hour = 0x80 | 12;
    HT_EQ_U(rtc_regs_to_time(&r), mktime64(2030, 1, 1, 12, 0, 0));
    /* no sensible century: 70-99 are 19xx, 00-69 20xx */
    r = (struct rtc_regs){ bcd(0), bcd(0), bcd(0), bcd(1), bcd(1), bcd(99), 0xff, B_24H };
    HT_EQ_U(rtc_regs_to_time(&r), mktime64(1999, 1, 1, 0, 0, 0));
    r.year = bcd(69);
    HT_EQ_U(rtc_regs_to_time(&r), mktime64(2069, 1, 1, 0, 0, 0));
}

static void t_invalid_registers(void)
{
    static const struct rtc_regs bad[] = {
        { 0x5a, 0, 0, 1, 1, 0x26, 0x20, B_24H },   /* a BCD digit above 9 */
        { 0x60, 0, 0, 1, 1, 0x26, 0x20, B_24H },   /* second 60 */
        { 0, 0x60, 0, 1, 1, 0x26, 0x20, B_24H },   /* minute 60 */
        { 0, 0, 0x24, 1, 1, 0x26, 0x20, B_24H },   /* hour 24 */
        { 0, 0, 0x13, 1, 1, 0x26, 0x20, 0 },       /* hour 13 on a 12-hour clock */
        { 0, 0, 0x00, 1, 1, 0x26, 0x20, 0 },       /* hour 0 on a 12-hour clock */
        { 0, 0, 0, 0, 1, 0x26, 0x20, B_24H },      /* day 0 */
        { 0, 0, 0, 0x32, 1, 0x26, 0x20, B_24H },   /* day 32 */
        { 0, 0, 0, 1, 0x13, 0x26, 0x20, B_24H },   /* month 13 */
        { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },   /* nothing answers */
    };
    for (size_t i = 0; i < HT_COUNT(bad); i++)
        HT_ASSERT(rtc_regs_to_time(&bad[i]) == -1, "case %zu accepted", i);
}

static const struct htest cases[] = {
    HT_CASE(mktime_matches_timegm),
    HT_CASE(register_formats),
    HT_CASE(invalid_registers),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
