/*
 * The ACPI table reader (include/kernel/acpi.h; ACPI spec 5.2.5-5.2.8).
 *
 * From the RSDP to a directory of tables: the RSDP's checksum (its first
 * 20 bytes, and all 36 for revision 2 and later), the root table (XSDT
 * for revision 2+ with a good extended checksum and a non-zero XSDT
 * address, RSDT otherwise), then every entry of the root table: its
 * header read, its length bounded (36 bytes to ACPI_TABLE_MAX, and
 * below ACPI_PHYS_LIMIT), its bytes summed.  Everything goes through the
 * caller's read function in small pieces: nothing is allocated and no
 * buffer is sized by the firmware.  A refused table or entry costs one
 * line through report; the others stay usable.
 *
 * Invariant: a table marked ok was read whole, its length in
 * [ACPI_HEADER_LEN, ACPI_TABLE_MAX], pa + len <= ACPI_PHYS_LIMIT, and its
 * bytes sum to 0; acpi_table_read never reads outside [pa, pa + len).
 */
#include <kernel/acpi.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <stdarg.h>
#ifdef HOST_TEST
#include <stdio.h>
#else
#include <kernel/printk.h>
#endif

#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36

void acpi_report(acpi_report_t report, const char *fmt, ...)
{
    char line[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (report)
        report(line);
}

/* One line through the caller's report function (acpi_report). */
#define warn(t, ...) acpi_report((t)->report, __VA_ARGS__)

static bool in_limit(uint64_t pa, uint64_t n)
{
    return pa < ACPI_PHYS_LIMIT && n <= ACPI_PHYS_LIMIT - pa;
}

static bool rd(const struct acpi_tables *t, uint64_t pa, void *dst, size_t n)
{
    return in_limit(pa, n) && t->read(t->ctx, pa, dst, n);
}

static uint8_t sum_bytes(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* A printable signature for messages: non-printable bytes become '?'. */
static void sig_text(const uint8_t *sig, char out[5])
{
    for (int i = 0; i < 4; i++)
        out[i] = sig[i] >= 0x20 && sig[i] < 0x7f ? (char)sig[i] : '?';
    out[4] = 0;
}

/*
 * Check the table at pa: header readable, length sane, checksum 0.
 * Returns 0 with its signature and length, or -EIO / -EINVAL after a
 * line naming `what` (the root table's name or the entry's number).
 */
static int check_table(const struct acpi_tables *t, uint64_t pa, const char *what,
                       uint8_t sig[4], uint32_t *len)
{
    uint8_t buf[256];
    if (!rd(t, pa, buf, ACPI_HEADER_LEN)) {
        warn(t, "ACPI: %s at %#lx cannot be read: ignored", what, pa);
        return -EIO;
    }
    memcpy(sig, buf, 4);
    char name[5];
    sig_text(sig, name);
    uint32_t n = acpi_le32(buf + 4);
    if (n < ACPI_HEADER_LEN || n > ACPI_TABLE_MAX || !in_limit(pa, n)) {
        warn(t, "ACPI: %s %s at %#lx: length %u out of bounds: ignored", what, name, pa, n);
        return -EINVAL;
    }
    uint8_t s = 0;
    for (uint32_t off = 0; off < n;) {
        uint32_t k = n - off < sizeof(buf) ? n - off : (uint32_t)sizeof(buf);
        if (!rd(t, pa + off, buf, k)) {
            warn(t, "ACPI: %s %s at %#lx: length %u runs past readable memory: ignored",
                 what, name, pa, n);
            return -EIO;
        }
        s = (uint8_t)(s + sum_bytes(buf, k));
        off += k;
    }
    if (s != 0) {
        warn(t, "ACPI: %s %s at %#lx: bad checksum: ignored", what, name, pa);
        return -EINVAL;
    }
    *len = n;
    return 0;
}

/* The root table's address from the RSDP, and which kind it is. */
static int read_rsdp(struct acpi_tables *t, uint64_t rsdp_pa)
{
    uint8_t r[RSDP_V2_LEN];
    if (!rd(t, rsdp_pa, r, RSDP_V1_LEN) || memcmp(r, "RSD PTR ", 8) != 0) {
        warn(t, "ACPI: no RSDP signature at %#lx: no tables", rsdp_pa);
        return -EINVAL;
    }
    if (sum_bytes(r, RSDP_V1_LEN) != 0) {
        warn(t, "ACPI: RSDP at %#lx: bad checksum: no tables", rsdp_pa);
        return -EINVAL;
    }
    uint64_t rsdt = acpi_le32(r + 16);
    if (r[15] >= 2 && rd(t, rsdp_pa, r, RSDP_V2_LEN) && sum_bytes(r, RSDP_V2_LEN) == 0 &&
        acpi_le64(r + 24)) {
        t->xsdt = true;
        t->root = acpi_le64(r + 24);
    } else {
        if (r[15] >= 2)
            warn(t, "ACPI: RSDP revision %u without a usable XSDT: using the RSDT", r[15]);
        t->xsdt = false;
        t->root = rsdt;
    }
    return 0;
}

int acpi_tables_init(struct acpi_tables *t, uint64_t rsdp_pa)
{
    t->nr = 0;
    t->root = 0;
    t->xsdt = false;
    if (!rsdp_pa)
        return t->status = -ENOENT;
    int err = read_rsdp(t, rsdp_pa);
    if (err)
        return t->status = err;
    const char *rname = t->xsdt ? "XSDT" : "RSDT";
    uint8_t sig[4];
    uint32_t rlen;
    err = check_table(t, t->root, rname, sig, &rlen);
    if (!err && memcmp(sig, rname, 4) != 0) {
        warn(t, "ACPI: the %s pointer leads to no %s: no tables", rname, rname);
        err = -EINVAL;
    }
    if (err)
        return t->status = -EINVAL;
    unsigned esz = t->xsdt ? 8 : 4;
    unsigned count = (rlen - ACPI_HEADER_LEN) / esz;
    if (count > ACPI_MAX_TABLES) {
        warn(t, "ACPI: the %s lists %u tables: only the first %u are looked at", rname,
             count, ACPI_MAX_TABLES);
        count = ACPI_MAX_TABLES;
    }
    for (unsigned i = 0; i < count; i++) {
        uint8_t e[8] = { 0 };
        struct acpi_table_ref *ref = &t->table[t->nr];
        char what[24];
        snprintf(what, sizeof(what), "%s entry %u", rname, i);
        if (!rd(t, t->root + ACPI_HEADER_LEN + (uint64_t)i * esz, e, esz))
            continue;                 /* inside a table just read whole: cannot happen */
        ref->pa = esz == 8 ? acpi_le64(e) : acpi_le32(e);
        ref->len = 0;
        memset(sig, 0, 4);            /* stays 0 when not even the header is readable */
        ref->ok = check_table(t, ref->pa, what, sig, &ref->len) == 0;
        memcpy(ref->sig, sig, 4);
        t->nr++;
    }
    return t->status = 0;
}

int acpi_find_table(const struct acpi_tables *t, const char *sig, uint64_t *pa,
                    uint32_t *len)
{
    int err = -ENOENT;
    for (unsigned i = 0; t->status == 0 && i < t->nr; i++) {
        const struct acpi_table_ref *r = &t->table[i];
        if (memcmp(r->sig, sig, 4) != 0)
            continue;
        if (!r->ok) {
            err = -EINVAL;
            continue;
        }
        *pa = r->pa;
        *len = r->len;
        return 0;
    }
    return err;
}

int acpi_table_read(const struct acpi_tables *t, uint64_t pa, uint32_t len, uint32_t off,
                    void *dst, size_t n)
{
    if (off > len || n > len - off)
        return -EINVAL;
    return rd(t, pa + off, dst, n) ? 0 : -EIO;
}

long acpi_copy_table(const struct acpi_tables *t, const char *sig, void *buf, size_t cap)
{
    uint64_t pa;
    uint32_t len;
    int err = acpi_find_table(t, sig, &pa, &len);
    if (err)
        return err;
    if (len > cap)
        return -ENOSPC;
    err = acpi_table_read(t, pa, len, 0, buf, len);
    return err ? err : (long)len;
}
