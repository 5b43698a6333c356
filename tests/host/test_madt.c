/*
 * Host tests of the MADT's CPU list (kernel/acpi/madt.c; docs/smp.md):
 * tables built in memory, good and hostile.
 */
#include "htest.h"

#include <kernel/acpi.h>
#include <kernel/errno.h>

static uint8_t tab[4096];
static size_t len;
static char last[200];
static unsigned lines;

static void report(const char *line)
{
    snprintf(last, sizeof(last), "%s", line);
    lines++;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A MADT head: signature, length (fixed up by end()), LAPIC address. */
static void begin(void)
{
    memset(tab, 0, sizeof(tab));
    memcpy(tab, "APIC", 4);
    put32(tab + 36, 0xfee00000u);
    len = 44;
    lines = 0;
    last[0] = 0;
}

static void end(void)
{
    put32(tab + 4, (uint32_t)len);
}

static void lapic(uint8_t uid, uint8_t apic, uint32_t flags)
{
    uint8_t *e = tab + len;
    e[0] = 0, e[1] = 8, e[2] = uid, e[3] = apic;
    put32(e + 4, flags);
    len += 8;
}

static void x2apic(uint32_t apic, uint32_t flags, uint32_t uid)
{
    uint8_t *e = tab + len;
    e[0] = 9, e[1] = 16;
    put32(e + 4, apic);
    put32(e + 8, flags);
    put32(e + 12, uid);
    len += 16;
}

static struct acpi_cpus cpus;

static void t_four_cpus(void)
{
    begin();
    lapic(0, 0, 1);
    lapic(1, 2, 1);
    lapic(2, 4, 1);
    lapic(3, 6, 1);
    end();
    HT_EQ_U(acpi_madt_cpus(tab, len, 0, &cpus, report), 0);
    HT_EQ_U(cpus.nr, 4);
    HT_EQ_U(cpus.cpu[0].apic_id, 0);
    HT_EQ_U(cpus.cpu[3].apic_id, 6);
    HT_EQ_U(cpus.cpu[2].uid, 2);
    HT_EQ_U(cpus.lapic_base, 0xfee00000u);
    HT_EQ_U(lines, 0);
}

/* The boot CPU first whatever the order, listed twice: once. */
static void t_boot_cpu_first_and_twice(void)
{
    begin();
    lapic(0, 1, 1);
    lapic(1, 3, 1);
    lapic(2, 3, 1);
    lapic(3, 3, 1);
    end();
    HT_EQ_U(acpi_madt_cpus(tab, len, 3, &cpus, report), 0);
    HT_EQ_U(cpus.nr, 2);
    HT_EQ_U(cpus.cpu[0].apic_id, 3);
    HT_EQ_U(cpus.cpu[0].uid, 1);
    HT_EQ_U(cpus.cpu[1].apic_id, 1);
    HT_EQ_U(cpus.duplicates, 2);
    HT_ASSERT(strstr(last, "listed twice"), "%s", last);
}

static void t_disabled_and_online_capable(void)
{
    begin();
    lapic(0, 0, 1);
    lapic(1, 1, 0);        /* absent */
    lapic(2, 2, 2);        /* online capable: may be plugged in later */
    lapic(3, 0xff, 1);     /* not an id */
    x2apic(300, 1, 4);     /* past 254: an x2APIC entry */
    x2apic(301, 0, 5);
    end();
    HT_EQ_U(acpi_madt_cpus(tab, len, 0, &cpus, report), 0);
    HT_EQ_U(cpus.nr, 2);
    HT_EQ_U(cpus.cpu[1].apic_id, 300);
    HT_ASSERT(cpus.cpu[1].x2apic, "x2apic flag");
    HT_EQ_U(cpus.disabled, 4);
}

static void t_too_many(void)
{
    begin();
    for (unsigned i = 0; i < ACPI_MAX_CPUS + 10; i++)
        x2apic(i, 1, i);
    end();
    HT_EQ_U(acpi_madt_cpus(tab, len, 5, &cpus, report), 0);
    HT_EQ_U(cpus.nr, ACPI_MAX_CPUS);
    HT_EQ_U(cpus.cpu[0].apic_id, 5);
    HT_EQ_U(cpus.dropped, 10);
    HT_EQ_U(lines, 1);      /* said once */
}

/* Entries running past the table, or too short: the walk stops there. */
static void t_hostile_entries(void)
{
    begin();
    lapic(0, 0, 1);
    lapic(1, 1, 1);
    tab[len] = 0, tab[len + 1] = 200;    /* past the end */
    len += 8;
    end();
    HT_EQ_U(acpi_madt_cpus(tab, len, 0, &cpus, report), 0);
    HT_EQ_U(cpus.nr, 2);
    HT_ASSERT(strstr(last, "runs past"), "%s", last);
    begin();
    lapic(0, 0, 1);
    tab[len] = 9, tab[len + 1] = 8;      /* an x2APIC entry of 8 bytes */
    len += 8;
    lapic(1, 1, 1);
    end();
    HT_EQ_U(acpi_madt_cpus(tab, len, 0, &cpus, report), 0);
    HT_EQ_U(cpus.nr, 1);
    HT_ASSERT(strstr(last, "too short"), "%s", last);
    begin();
    tab[len] = 0, tab[len + 1] = 0;      /* length 0: would loop forever */
    len += 8;
    end();
    HT_EQ_U(acpi_madt_cpus(tab, len, 0, &cpus, report), 0);
    HT_EQ_U(cpus.nr, 1);
    /* The table's own length bounds the walk, not the buffer's. */
    begin();
    lapic(0, 0, 1);
    end();
    lapic(1, 1, 1);         /* after the table's end */
    HT_EQ_U(acpi_madt_cpus(tab, len, 0, &cpus, report), 0);
    HT_EQ_U(cpus.nr, 1);
}

static void t_not_a_madt(void)
{
    begin();
    memcpy(tab, "SRAT", 4);
    end();
    HT_EQ_U(acpi_madt_cpus(tab, len, 7, &cpus, report), (uint64_t)-EINVAL);
    HT_EQ_U(cpus.nr, 1);
    HT_EQ_U(cpus.cpu[0].apic_id, 7);
    HT_EQ_U(acpi_madt_cpus(NULL, 0, 7, &cpus, report), (uint64_t)-EINVAL);
    HT_EQ_U(acpi_madt_cpus(tab, 20, 7, &cpus, report), (uint64_t)-EINVAL);
    /* A MADT that does not list the boot CPU: it is added. */
    begin();
    lapic(0, 1, 1);
    end();
    HT_EQ_U(acpi_madt_cpus(tab, len, 0, &cpus, report), 0);
    HT_EQ_U(cpus.nr, 2);
    HT_ASSERT(strstr(last, "not listed"), "%s", last);
    /* A 64-bit LAPIC address override (type 5). */
    begin();
    tab[len] = 5, tab[len + 1] = 12;
    put32(tab + len + 4, 0x1000);
    put32(tab + len + 8, 0x1);
    len += 12;
    end();
    HT_EQ_U(acpi_madt_cpus(tab, len, 0, &cpus, report), 0);
    HT_EQ_U(cpus.lapic_base, 0x100001000ul);
}

static const struct htest cases[] = {
    HT_CASE(four_cpus),
    HT_CASE(boot_cpu_first_and_twice),
    HT_CASE(disabled_and_online_capable),
    HT_CASE(too_many),
    HT_CASE(hostile_entries),
    HT_CASE(not_a_madt),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
