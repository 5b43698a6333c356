/*
 * GUID partition tables (include/kernel/gpt.h), as the UEFI specification
 * lays them out:
 *
 *   LBA 0            protective MBR (not looked at here)
 *   LBA 1            primary header: "EFI PART", revision 1.0, its size,
 *                    its CRC32, its own LBA, the backup's LBA, the first
 *                    and last usable LBAs, the disk GUID, where the entry
 *                    array starts, how many entries, their size, the
 *                    array's CRC32
 *   LBA 2..          the entry array (128 entries of 128 bytes, usually)
 *   ...              partitions, inside [first usable, last usable]
 *   last LBAs        a copy of the array, then the backup header
 *
 * Invariant: nothing read from the disk is trusted before it is checked.
 * Every number is compared with the disk's size before it is used as an
 * LBA or a count, sums are made only after the comparison that keeps them
 * from overflowing, and no buffer is sized by the disk: the array is read
 * a sector at a time, twice (once for its CRC, once for the entries).
 */
#include <kernel/crc32.h>
#include <kernel/errno.h>
#include <kernel/gpt.h>
#include <kernel/string.h>
#ifdef HOST_TEST
#include <stdio.h>
#else
#include <kernel/printk.h>
#endif

/* The header's fields (little-endian, at these byte offsets). */
#define H_SIGNATURE     0
#define H_REVISION      8
#define H_SIZE          12
#define H_CRC           16
#define H_RESERVED      20
#define H_MY_LBA        24
#define H_ALT_LBA       32
#define H_FIRST_USABLE  40
#define H_LAST_USABLE   48
#define H_DISK_GUID     56
#define H_ENTRIES_LBA   72
#define H_NUM_ENTRIES   80
#define H_ENTRY_SIZE    84
#define H_ENTRIES_CRC   88
#define H_MIN_SIZE      92

/* An entry's fields. */
#define E_TYPE   0
#define E_UUID   16
#define E_FIRST  32
#define E_LAST   40
#define E_ATTRS  48

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

#define BAD(...) do { snprintf(why, why_size, __VA_ARGS__); return -EINVAL; } while (0)

/* The header in hdr, read from lba: every field against the disk. */
static int check_header(const uint8_t *hdr, uint64_t lba, uint64_t nr, char *why,
                        size_t why_size)
{
    if (memcmp(hdr + H_SIGNATURE, "EFI PART", 8) != 0)
        BAD("no \"EFI PART\" signature at LBA %lu", lba);
    uint32_t rev = le32(hdr + H_REVISION);
    if (rev >> 16 != 1)
        BAD("revision %#x (1.x expected)", rev);
    uint32_t hsize = le32(hdr + H_SIZE);
    if (hsize < H_MIN_SIZE || hsize > GPT_SECTOR)
        BAD("header size %u (92..512 expected)", hsize);
    uint8_t copy[GPT_SECTOR];
    memcpy(copy, hdr, hsize);
    memset(copy + H_CRC, 0, 4);
    uint32_t want = le32(hdr + H_CRC), got = crc32(0, copy, hsize);
    if (got != want)
        BAD("header CRC32 %#x, computed %#x", want, got);
    if (le32(hdr + H_RESERVED) != 0)
        BAD("reserved header field is %#x, not 0", le32(hdr + H_RESERVED));
    if (le64(hdr + H_MY_LBA) != lba)
        BAD("header at LBA %lu says it is at LBA %lu", lba, le64(hdr + H_MY_LBA));
    uint64_t alt = le64(hdr + H_ALT_LBA);
    if (alt >= nr || alt == lba || alt == 0)
        BAD("alternate header LBA %lu (disk of %lu sectors)", alt, nr);
    uint64_t first = le64(hdr + H_FIRST_USABLE), last = le64(hdr + H_LAST_USABLE);
    /* LBA 0 (protective MBR), 1 and the last (the two headers) are never usable. */
    if (first > last || first < 2 || last >= nr - 1)
        BAD("usable LBAs %lu..%lu (disk of %lu sectors)", first, last, nr);
    if (lba >= first && lba <= last)
        BAD("header LBA %lu inside the usable LBAs %lu..%lu", lba, first, last);
    uint32_t esize = le32(hdr + H_ENTRY_SIZE), n = le32(hdr + H_NUM_ENTRIES);
    if (esize != 128 && esize != 256 && esize != 512)
        BAD("entry size %u (128, 256 or 512 expected)", esize);
    if (n == 0 || (uint64_t)n * esize > (uint64_t)GPT_MAX_ARRAY_SECTORS * GPT_SECTOR)
        BAD("%u entries of %u bytes (1 to %u KiB of entries expected)", n, esize,
            GPT_MAX_ARRAY_SECTORS * GPT_SECTOR / 1024);
    uint64_t sectors = ((uint64_t)n * esize + GPT_SECTOR - 1) / GPT_SECTOR;
    uint64_t at = le64(hdr + H_ENTRIES_LBA);
    if (at < 1 || at >= nr || sectors > nr - at)
        BAD("entry array at LBA %lu (%lu sectors) outside the disk of %lu sectors", at,
            sectors, nr);
    if (lba >= at && lba < at + sectors)
        BAD("entry array at LBA %lu (%lu sectors) covers the header", at, sectors);
    if (at <= last && at + sectors > first)
        BAD("entry array at LBA %lu (%lu sectors) overlaps the usable LBAs %lu..%lu", at,
            sectors, first, last);
    return 0;
}

/* One header and its array: 0 with t filled, -ENOENT (no signature),
 * -EINVAL (why), or the read's error. */
static int parse_at(uint64_t lba, uint64_t nr, gpt_read_t read, void *ctx,
                    struct gpt_table *t, char *why, size_t why_size)
{
    uint8_t hdr[GPT_SECTOR], sec[GPT_SECTOR];
    int r = read(ctx, lba, hdr);
    if (r) {
        snprintf(why, why_size, "cannot read LBA %lu (error %d)", lba, r);
        return r;
    }
    if (memcmp(hdr + H_SIGNATURE, "EFI PART", 8) != 0) {
        snprintf(why, why_size, "no \"EFI PART\" signature at LBA %lu", lba);
        return -ENOENT;
    }
    r = check_header(hdr, lba, nr, why, why_size);
    if (r)
        return r;
    uint64_t at = le64(hdr + H_ENTRIES_LBA);
    uint32_t esize = le32(hdr + H_ENTRY_SIZE), n = le32(hdr + H_NUM_ENTRIES);
    uint64_t bytes = (uint64_t)n * esize;
    uint64_t sectors = (bytes + GPT_SECTOR - 1) / GPT_SECTOR;

    /* First pass: the array's CRC32 over exactly n * esize bytes. */
    uint32_t crc = 0;
    for (uint64_t s = 0; s < sectors; s++) {
        r = read(ctx, at + s, sec);
        if (r) {
            snprintf(why, why_size, "cannot read entry array LBA %lu (error %d)", at + s, r);
            return r;
        }
        uint64_t left = bytes - s * GPT_SECTOR;
        crc = crc32(crc, sec, left < GPT_SECTOR ? (size_t)left : GPT_SECTOR);
    }
    if (crc != le32(hdr + H_ENTRIES_CRC))
        BAD("entry array CRC32 %#x, computed %#x", le32(hdr + H_ENTRIES_CRC), crc);

    /* Second pass: the used entries, each inside the usable LBAs and
     * overlapping none before it, their GUIDs non-zero and distinct. */
    t->first_usable = le64(hdr + H_FIRST_USABLE);
    t->last_usable = le64(hdr + H_LAST_USABLE);
    memcpy(t->disk_guid, hdr + H_DISK_GUID, 16);
    t->n = 0;
    unsigned per = GPT_SECTOR / esize;
    for (uint64_t s = 0; s < sectors; s++) {
        r = read(ctx, at + s, sec);
        if (r) {
            snprintf(why, why_size, "cannot read entry array LBA %lu (error %d)", at + s, r);
            return r;
        }
        for (unsigned k = 0; k < per; k++) {
            uint64_t idx = s * per + k;
            if (idx >= n)
                break;
            const uint8_t *e = sec + k * esize;
            if (all_zero(e + E_TYPE, 16))
                continue;                       /* unused entry */
            struct gpt_part p = {
                .index = (unsigned)idx + 1,
                .first = le64(e + E_FIRST),
                .last = le64(e + E_LAST),
                .attrs = le64(e + E_ATTRS),
            };
            memcpy(p.type, e + E_TYPE, 16);
            memcpy(p.uuid, e + E_UUID, 16);
            if (p.first > p.last || p.first < t->first_usable || p.last > t->last_usable)
                BAD("entry %u: LBAs %lu..%lu outside the usable %lu..%lu", p.index, p.first,
                    p.last, t->first_usable, t->last_usable);
            if (all_zero(p.uuid, 16))
                BAD("entry %u: zero unique GUID", p.index);
            if (t->n == GPT_MAX_PARTS)
                BAD("more than %u partitions", GPT_MAX_PARTS);
            for (unsigned j = 0; j < t->n; j++) {
                const struct gpt_part *q = &t->part[j];
                if (p.first <= q->last && q->first <= p.last)
                    BAD("entry %u (LBAs %lu..%lu) overlaps entry %u (LBAs %lu..%lu)",
                        p.index, p.first, p.last, q->index, q->first, q->last);
                if (memcmp(p.uuid, q->uuid, 16) == 0)
                    BAD("entries %u and %u have the same unique GUID", q->index, p.index);
            }
            t->part[t->n++] = p;
        }
    }
    return 0;
}

int gpt_parse(uint64_t nr_sectors, gpt_read_t read, void *ctx, struct gpt_table *t,
              char *why, size_t why_size)
{
    memset(t, 0, sizeof(*t));
    if (why_size)
        why[0] = 0;
    if (nr_sectors < 3) {
        snprintf(why, why_size, "disk of %lu sectors, too small for a GPT", nr_sectors);
        return -ENOENT;
    }
    int r = parse_at(1, nr_sectors, read, ctx, t, why, why_size);
    if (r == 0)
        return (int)t->n;
    if (r != -EINVAL && r != -ENOENT)
        return r;
    /* The primary is refused: the backup at the last LBA, if it is good. */
    char why2[128];
    int r2 = parse_at(nr_sectors - 1, nr_sectors, read, ctx, t, why2, sizeof(why2));
    if (r2 == 0) {
        t->from_backup = true;
        return (int)t->n;
    }
    memset(t, 0, sizeof(*t));
    if (r == -ENOENT && r2 == -ENOENT)
        return -ENOENT;
    if (r == -ENOENT)                   /* only the backup has a signature */
        snprintf(why, why_size, "%s", why2);
    return r2 == -EINVAL || r2 == -ENOENT ? -EINVAL : r2;
}

/* The first three fields are little-endian on disk, the rest in order. */
static const uint8_t text_order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };

void gpt_guid_to_text(const uint8_t g[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        uint8_t b = g[text_order[i]];
        *o++ = hex[b >> 4];
        *o++ = hex[b & 15];
    }
    *o = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int gpt_guid_from_text(const char *s, uint8_t g[16])
{
    uint8_t b[16];
    int at = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            if (s[at] != '-')
                return -EINVAL;
            at++;
        }
        int hi = hexval(s[at]), lo = hi < 0 ? -1 : hexval(s[at + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        b[i] = (uint8_t)(hi << 4 | lo);
        at += 2;
    }
    if (s[at] != 0)
        return -EINVAL;
    for (int i = 0; i < 16; i++)
        g[text_order[i]] = b[i];
    return 0;
}
