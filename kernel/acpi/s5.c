/*
 * The \_S5 sleep-type values from the DSDT (include/kernel/acpi_hw.h).
 *
 * Powering a PC off through ACPI means writing SLP_TYPx | SLP_EN into the
 * PM1 control blocks, where SLP_TYPx is a board-specific value that only
 * the DSDT's AML says: the package of the object \_S5 (ACPI 6.4, 7.4.2).
 * Interpreting AML is a large job; a firmware almost always declares it
 * as a plain named package, which is a short byte pattern (ACPI 6.4,
 * 20.2.5): NameOp 0x08, the name "_S5_" (maybe after a root prefix '\'),
 * PackageOp 0x12, a PkgLength (1 to 4 bytes: the lead byte's top two bits
 * count the bytes that follow), the element count, then the elements, of
 * which the first two are small integers: ZeroOp 0x00, OneOp 0x01,
 * BytePrefix 0x0a n, WordPrefix 0x0b, DWordPrefix 0x0c, QWordPrefix 0x0e.
 * So this is a scan, not an interpreter: every candidate is checked
 * against the bytes it has, and nothing in it (lengths, counts) is
 * trusted to point inside them.
 *
 * Invariant: no byte outside aml[0, n) is read; a result is 0..7 twice.
 * The windowed DSDT scan reads the table only through the reader's
 * function, ACPI_TABLE_MAX bytes at most.
 */
#include <kernel/acpi_hw.h>
#include <kernel/errno.h>
#include <kernel/string.h>

#define NAME_OP    0x08
#define PACKAGE_OP 0x12
#define ROOT_CHAR  '\\'

/* An integer constant at aml[*p] before end: true with its value. */
static bool aml_int(const uint8_t *aml, size_t *p, size_t end, uint64_t *v)
{
    if (*p >= end)
        return false;
    uint8_t op = aml[(*p)++];
    unsigned bytes;
    switch (op) {
    case 0x00: *v = 0; return true;
    case 0x01: *v = 1; return true;
    case 0x0a: bytes = 1; break;
    case 0x0b: bytes = 2; break;
    case 0x0c: bytes = 4; break;
    case 0x0e: bytes = 8; break;
    default: return false;   /* OnesOp, a name, a method call...: not a constant */
    }
    if (end - *p < bytes)
        return false;
    *v = 0;
    for (unsigned i = bytes; i-- > 0;)
        *v = *v << 8 | aml[*p + i];
    *p += bytes;
    return true;
}

/* The package after the name at aml[at] ("_S5_" starts there). */
static bool s5_package(const uint8_t *aml, size_t n, size_t at, uint8_t *a, uint8_t *b)
{
    size_t p = at + 4;
    if (p >= n || aml[p] != PACKAGE_OP)
        return false;
    size_t len_at = ++p;
    if (p >= n)
        return false;
    uint8_t lead = aml[p++];
    unsigned follow = lead >> 6;
    uint64_t pkglen;
    if (!follow) {
        pkglen = lead & 0x3f;
    } else {
        if (lead & 0x30)      /* bits 5-4 are zero in a multi-byte PkgLength */
            return false;
        if (n - p < follow)
            return false;
        pkglen = lead & 0x0f;
        for (unsigned i = 0; i < follow; i++)
            pkglen |= (uint64_t)aml[p + i] << (4 + 8 * i);
        p += follow;
    }
    /* PkgLength counts from its own first byte. */
    if (pkglen < (uint64_t)(p - len_at) + 1 || pkglen > n - len_at)
        return false;
    size_t end = len_at + (size_t)pkglen;
    uint8_t count = aml[p++];
    if (count < 1)
        return false;
    uint64_t va, vb = 0;
    if (!aml_int(aml, &p, end, &va))
        return false;
    if (count >= 2 && !aml_int(aml, &p, end, &vb))
        return false;
    if (va > ACPI_SLP_TYP_MAX || vb > ACPI_SLP_TYP_MAX)
        return false;
    *a = (uint8_t)va;
    *b = (uint8_t)vb;
    return true;
}

int acpi_s5_scan(const uint8_t *aml, size_t n, uint8_t *a, uint8_t *b)
{
    for (size_t i = 1; aml && n >= 4 && i <= n - 4; i++) {
        if (memcmp(aml + i, "_S5_", 4) != 0)
            continue;
        bool named = aml[i - 1] == NAME_OP ||
                     (aml[i - 1] == ROOT_CHAR && i >= 2 && aml[i - 2] == NAME_OP);
        if (named && s5_package(aml, n, i, a, b))
            return 0;
    }
    return -ENOENT;
}

#define WINDOW  4096
#define OVERLAP 64     /* longer than any _S5_ declaration the scan accepts */

int acpi_dsdt_s5(const struct acpi_tables *t, uint64_t dsdt_pa, uint8_t *a, uint8_t *b)
{
    static uint8_t buf[OVERLAP + WINDOW];
    uint8_t hdr[ACPI_HEADER_LEN];
    if (!dsdt_pa || dsdt_pa >= ACPI_PHYS_LIMIT - ACPI_HEADER_LEN)
        return -EINVAL;
    if (!t->read(t->ctx, dsdt_pa, hdr, sizeof(hdr)))
        return -EIO;
    uint32_t len = (uint32_t)hdr[4] | (uint32_t)hdr[5] << 8 | (uint32_t)hdr[6] << 16 |
                   (uint32_t)hdr[7] << 24;
    if (memcmp(hdr, "DSDT", 4) != 0 || len < ACPI_HEADER_LEN || len > ACPI_TABLE_MAX ||
        dsdt_pa > ACPI_PHYS_LIMIT - len)
        return -EINVAL;
    uint8_t sum = 0;
    size_t kept = 0;            /* bytes of the previous window kept in front */
    int found = -ENOENT;
    for (uint32_t off = 0; off < len;) {
        size_t n = len - off < WINDOW ? len - off : WINDOW;
        if (!t->read(t->ctx, dsdt_pa + off, buf + kept, n))
            return -EIO;
        for (size_t i = 0; i < n; i++)
            sum = (uint8_t)(sum + buf[kept + i]);
        /* The AML starts after the header; a declaration cut by the
         * window's end is whole in the next one, behind the kept bytes. */
        size_t skip = off == 0 ? ACPI_HEADER_LEN : 0, total = kept + n;
        if (found && acpi_s5_scan(buf + skip, total - skip, a, b) == 0)
            found = 0;
        off += (uint32_t)n;
        kept = total < OVERLAP ? total : OVERLAP;
        memmove(buf, buf + total - kept, kept);
    }
    /* A wrong checksum is common on shipping firmware: Linux (ACPICA)
     * warns and uses the table; so do we, for the \_S5 values only. */
    if (sum)
        acpi_report(t->report, "ACPI: DSDT checksum is wrong (sum %#x): \\_S5 %s anyway",
                    sum, found == 0 ? "used" : "looked for");
    return found;
}
