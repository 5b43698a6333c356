/*
 * The CPUs the ACPI MADT lists (include/kernel/acpi.h; docs/smp.md).
 *
 * The MADT ("APIC", ACPI 6.5 section 5.2.12) is a 44-byte head (the
 * standard header, the local APICs' 32-bit MMIO address, flags) then
 * entries of (type, length, body).  The ones read here: type 0, a
 * processor's local APIC (8 bytes: ACPI processor id, APIC id, flags),
 * type 9, a local x2APIC (16 bytes: reserved, x2APIC id, flags, UID), for
 * ids past 254, and type 5, a 64-bit override of the MMIO address.  Flags
 * bit 0 is "enabled"; bit 1, "online capable", marks a disabled CPU that
 * may be plugged in later: either way it is not started now.
 *
 * Firmware data is trusted for nothing.  Invariant of the result: the
 * boot CPU is cpu[0]; every APIC id appears once; nr <= ACPI_MAX_CPUS;
 * only entries that lie wholly inside the table were read.
 */
#include <kernel/acpi.h>
#include <kernel/errno.h>
#include <kernel/string.h>

#define MADT_HEAD 44

/* Add APIC id to out unless seen; false when it was a duplicate. */
static void add(struct acpi_cpus *out, uint32_t apic, uint32_t uid, bool x2, uint32_t boot,
                acpi_report_t report)
{
    for (unsigned i = 0; i < out->nr; i++) {
        if (out->cpu[i].apic_id != apic)
            continue;
        if (apic != boot || out->cpu[i].uid != UINT32_MAX) {   /* the boot CPU's own slot */
            out->duplicates++;
            acpi_report(report, "ACPI: MADT: APIC id %#x listed twice: the second entry "
                        "ignored", apic);
            return;
        }
        out->cpu[i].uid = uid;     /* the boot CPU's entry, first time seen */
        out->cpu[i].x2apic = x2;
        return;
    }
    if (out->nr == ACPI_MAX_CPUS) {
        if (!out->dropped++)
            acpi_report(report, "ACPI: MADT: more than %u CPUs: the others are not used",
                        ACPI_MAX_CPUS);
        return;
    }
    out->cpu[out->nr++] = (struct acpi_cpu){ apic, uid, x2 };
}

int acpi_madt_cpus(const void *madt, size_t len, uint32_t boot_apic, struct acpi_cpus *out,
                   acpi_report_t report)
{
    const uint8_t *t = madt;
    memset(out, 0, sizeof(*out));
    out->nr = 1;
    out->cpu[0] = (struct acpi_cpu){ boot_apic, UINT32_MAX, false };   /* uid: not seen yet */
    out->lapic_base = 0xfee00000u;
    if (!madt || len < MADT_HEAD || memcmp(t, "APIC", 4) != 0 || acpi_le32(t + 4) < MADT_HEAD) {
        acpi_report(report, "ACPI: MADT: not a MADT (%zu bytes): the boot CPU alone", len);
        return -EINVAL;
    }
    if (acpi_le32(t + 4) < len)
        len = acpi_le32(t + 4);          /* the table's own length bounds the walk */
    out->lapic_base = acpi_le32(t + 36);
    for (size_t off = MADT_HEAD; off < len;) {
        if (len - off < 2 || t[off + 1] < 2 || t[off + 1] > len - off) {
            acpi_report(report, "ACPI: MADT: entry at offset %zu runs past the table: "
                        "the rest ignored", off);
            break;
        }
        const uint8_t *e = t + off;
        unsigned type = e[0], elen = e[1];
        off += elen;
        if ((type == 0 && elen < 8) || (type == 9 && elen < 16) || (type == 5 && elen < 12)) {
            acpi_report(report, "ACPI: MADT: entry type %u at offset %zu is %u bytes, too "
                        "short: the rest ignored", type, off - elen, elen);
            break;
        }
        if (type == 5) {
            out->lapic_base = (uint64_t)acpi_le32(e + 4) | (uint64_t)acpi_le32(e + 8) << 32;
            continue;
        }
        if (type != 0 && type != 9)
            continue;
        uint32_t apic = type == 0 ? e[3] : acpi_le32(e + 4);
        uint32_t flags = type == 0 ? acpi_le32(e + 4) : acpi_le32(e + 8);
        uint32_t uid = type == 0 ? e[2] : acpi_le32(e + 12);
        if (!(flags & 1)) {
            out->disabled++;
            continue;
        }
        if (type == 0 && apic == 0xff) {    /* not a real id (ACPI: use type 9) */
            out->disabled++;
            continue;
        }
        add(out, apic, uid, type == 9, boot_apic, report);
    }
    if (out->cpu[0].uid == UINT32_MAX) {
        acpi_report(report, "ACPI: MADT: the boot CPU (APIC id %#x) is not listed: added",
                    boot_apic);
        out->cpu[0].uid = 0;
    }
    return 0;
}
