/*
 * The GPT parser (kernel/block/gpt.c) on the host: a good table, the
 * backup taking over, and hostile tables, each refused with -EINVAL and
 * a reason that names the field, never a crash or a read outside the
 * image (ASan watches; the image is a heap block of exactly its size).
 */
#include <stdlib.h>

#include <kernel/errno.h>

#include "htest.h"
#include "../shared/gpt_image.h"

#define NR 2048u        /* a 1 MiB disk */

static uint8_t *img;
static uint64_t img_nr;
static int reads, fail_at = -1;
static struct gpt_table table;
static char why[160];

static int rd(void *ctx, uint64_t lba, void *buf)
{
    (void)ctx;
    reads++;
    if (lba >= img_nr)
        return -EINVAL;         /* the parser must never ask */
    if (fail_at >= 0 && (uint64_t)fail_at == lba)
        return -EIO;
    memcpy(buf, img + lba * GI_SECTOR, GI_SECTOR);
    return 0;
}

static const struct gi_part two[] = {
    { 34, 1023, { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0,
                  0xc9, 0x3e, 0xc9, 0x3b },
      { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
        0xff, 0x01 } },
    { 1024, 2000, { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69,
                    0xd8, 0x47, 0x7d, 0xe4 },
      { 0x02, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
        0xff, 0x02 } },
};

static void fresh(void)
{
    free(img);
    img_nr = NR;
    img = malloc(NR * GI_SECTOR);
    gi_build(img, NR, two, 2);
    reads = 0;
    fail_at = -1;
}

static int parse(void)
{
    return gpt_parse(img_nr, rd, NULL, &table, why, sizeof(why));
}

#define REFUSED(text)                                                       \
    do {                                                                    \
        int r_ = parse();                                                   \
        HT_ASSERT(r_ == -EINVAL, "parse = %d, expected -EINVAL (%s)", r_, why); \
        HT_ASSERT(strstr(why, text), "reason '%s' lacks '%s'", why, text);   \
        HT_ASSERT(table.n == 0, "%u partitions left in a refused table", table.n); \
    } while (0)

static void t_crc32_check_value(void)
{
    HT_EQ_U(crc32(0, "123456789", 9), 0xcbf43926u);
    HT_EQ_U(crc32(crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
    HT_EQ_U(crc32(0, "", 0), 0);
}

static void t_good_table(void)
{
    fresh();
    int r = parse();
    HT_ASSERT(r == 2, "parse = %d (%s)", r, why);
    HT_ASSERT(!table.from_backup, "used the backup");
    HT_EQ_U(table.first_usable, 34);
    HT_EQ_U(table.last_usable, NR - 34);
    for (unsigned i = 0; i < 2; i++) {
        HT_EQ_U(table.part[i].index, i + 1);
        HT_EQ_U(table.part[i].first, two[i].first);
        HT_EQ_U(table.part[i].last, two[i].last);
        HT_ASSERT(memcmp(table.part[i].uuid, two[i].uuid, 16) == 0, "uuid %u", i);
        HT_ASSERT(memcmp(table.part[i].type, two[i].type, 16) == 0, "type %u", i);
    }
}

static void t_guid_text(void)
{
    char s[37];
    gpt_guid_to_text(two[0].type, s);
    HT_ASSERT(strcmp(s, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b") == 0, "EFI system: %s", s);
    uint8_t g[16];
    HT_ASSERT(gpt_guid_from_text("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", g) == 0, "upper");
    HT_ASSERT(memcmp(g, two[0].type, 16) == 0, "round trip");
    static const char *bad[] = {
        "", "c12a7328", "c12a7328-f81f-11d2-ba4b-00a0c93ec93", "c12a7328-f81f-11d2-ba4b-00a0c93ec93bx",
        "c12a7328f81f-11d2-ba4b-00a0c93ec93b0", "g12a7328-f81f-11d2-ba4b-00a0c93ec93b",
        "c12a7328-f81f-11d2-ba4b_00a0c93ec93b",
    };
    for (size_t i = 0; i < HT_COUNT(bad); i++)
        HT_ASSERT(gpt_guid_from_text(bad[i], g) == -EINVAL, "accepted '%s'", bad[i]);
}

static void t_no_gpt(void)
{
    fresh();
    memset(img, 0, NR * GI_SECTOR);
    HT_ASSERT(parse() == -ENOENT, "zeros: %d", parse());
    img_nr = 2;
    HT_ASSERT(parse() == -ENOENT, "two sectors: %d", parse());
    img_nr = 0;
    HT_ASSERT(parse() == -ENOENT, "no sectors: %d", parse());
}

static void t_backup_takes_over(void)
{
    fresh();
    img[GI_SECTOR + 3] ^= 1;            /* primary signature */
    int r = parse();
    HT_ASSERT(r == 2 && table.from_backup, "parse = %d, backup %d (%s)", r, table.from_backup, why);
    fresh();
    img[2 * GI_SECTOR + 40] ^= 1;       /* primary array: its CRC fails */
    r = parse();
    HT_ASSERT(r == 2 && table.from_backup, "parse = %d, backup %d (%s)", r, table.from_backup, why);
    HT_ASSERT(strstr(why, "entry array CRC32"), "why: %s", why);
}

static void t_header_crc(void)
{
    fresh();
    img[GI_SECTOR + 60] ^= 1;                   /* disk GUID, CRC not fixed */
    img[(NR - 1) * GI_SECTOR + 60] ^= 1;
    REFUSED("header CRC32");
}

static void t_array_crc(void)
{
    fresh();
    img[2 * GI_SECTOR + 100] ^= 1;
    img[(NR - 33) * GI_SECTOR + 100] ^= 1;
    REFUSED("entry array CRC32");
}

static void t_header_fields(void)
{
    static const struct {
        unsigned off;
        uint64_t v;
        int bytes;
        const char *why;
    } cases[] = {
        { 8, 0x00020000, 4, "revision" },
        { 12, 91, 4, "header size" },
        { 12, 513, 4, "header size" },
        { 20, 1, 4, "reserved" },
        { 32, NR, 8, "alternate header LBA" },
        { 40, 2015, 8, "usable LBAs" },         /* first > last */
        { 40, 1500, 8, "entry 1: LBAs 34..1023 outside" },
        { 48, NR, 8, "usable LBAs" },           /* last past the end */
        { 40, 1, 8, "usable LBAs 1.." },        /* the header inside */
        { 84, 0, 4, "entry size" },
        { 84, 100, 4, "entry size" },
        { 84, 1024, 4, "entry size" },
        { 80, 0, 4, "entries" },
        { 80, 0xffffffffu, 4, "entries" },      /* n * size overflows 32 bits */
        { 80, 8193, 4, "entries" },             /* more than 1 MiB */
        { 72, NR, 8, "outside the disk" },
        { 72, 0xfffffffffffffff0ul, 8, "outside the disk" },
        { 72, 0, 8, "outside the disk" },
        { 72, 100, 8, "overlaps the usable" },
        { 72, NR - 20, 8, "outside the disk" }, /* array runs off the end */
    };
    for (size_t i = 0; i < HT_COUNT(cases); i++) {
        fresh();
        gi_set_hdr(img, NR, cases[i].off, cases[i].v, cases[i].bytes);
        int r = parse();
        HT_ASSERT(r == -EINVAL, "case %zu (offset %u = %#lx): parse = %d (%s)", i,
                  cases[i].off, cases[i].v, r, why);
        HT_ASSERT(strstr(why, cases[i].why), "case %zu: reason '%s' lacks '%s'", i, why,
                  cases[i].why);
    }
}

static void t_my_lba(void)
{
    fresh();
    uint8_t *h = img + GI_SECTOR;
    gi_put64(h + 24, 5);
    gi_fix_crcs(img, NR, 1);
    h = img + (NR - 1) * GI_SECTOR;
    gi_put64(h + 24, 5);
    gi_fix_crcs(img, NR, NR - 1);
    REFUSED("says it is at LBA 5");
}

static void t_entries_hostile(void)
{
    static const struct {
        uint64_t first, last;
        const char *why;
    } cases[] = {
        { 33, 100, "outside the usable" },
        { 100, 2015, "outside the usable" },
        { 200, 100, "outside the usable" },
        { 500, 1100, "overlaps entry 1" },
        { 1023, 1023, "overlaps entry 1" },
    };
    for (size_t i = 0; i < HT_COUNT(cases); i++) {
        fresh();
        gi_put64(gi_entry(img, 1) + 32, cases[i].first);
        gi_put64(gi_entry(img, 1) + 40, cases[i].last);
        gi_sync_entries(img, NR);
        int r = parse();
        HT_ASSERT(r == -EINVAL, "case %zu: parse = %d (%s)", i, r, why);
        HT_ASSERT(strstr(why, cases[i].why), "case %zu: '%s' lacks '%s'", i, why, cases[i].why);
    }
    fresh();
    memset(gi_entry(img, 1) + 16, 0, 16);
    gi_sync_entries(img, NR);
    REFUSED("zero unique GUID");
    fresh();
    memcpy(gi_entry(img, 1) + 16, two[0].uuid, 16);
    gi_sync_entries(img, NR);
    REFUSED("same unique GUID");
}

static void t_unused_entries_skipped(void)
{
    fresh();
    /* entry 5 used, 3 and 4 empty: numbers follow the slots (vda5) */
    memcpy(gi_entry(img, 4), gi_entry(img, 1), 128);
    memset(gi_entry(img, 1), 0, 128);
    gi_sync_entries(img, NR);
    int r = parse();
    HT_ASSERT(r == 2, "parse = %d (%s)", r, why);
    HT_EQ_U(table.part[1].index, 5);
}

static void t_too_many_partitions(void)
{
    free(img);
    img_nr = 4096;
    img = malloc(img_nr * GI_SECTOR);
    struct gi_part *p = calloc(128, sizeof(*p));
    for (unsigned i = 0; i < 128; i++) {
        p[i].first = 100 + 10 * i;
        p[i].last = p[i].first + 9;
        p[i].type[0] = 1;
        p[i].uuid[0] = (uint8_t)i;
        p[i].uuid[1] = 1;
    }
    gi_build(img, img_nr, p, 128);
    fail_at = -1;
    int r = parse();
    HT_ASSERT(r == 128, "128 partitions: parse = %d (%s)", r, why);
    /* 256 entries (64 sectors) with 129 used: more than we take */
    gi_set_hdr(img, img_nr, 80, 256, 4);            /* 256 entries: array now 64 sectors */
    gi_set_hdr(img, img_nr, 40, 2 + 64, 8);         /* first usable after it */
    memcpy(img + (2 + 32) * GI_SECTOR, img + 2 * GI_SECTOR, 128);  /* entry 129 */
    gi_put64(img + (2 + 32) * GI_SECTOR + 32, 3000);
    gi_put64(img + (2 + 32) * GI_SECTOR + 40, 3001);
    img[(2 + 32) * GI_SECTOR + 17] = 9;
    gi_fix_crcs(img, img_nr, 1);
    img[(img_nr - 1) * GI_SECTOR] = 0;              /* no backup */
    r = parse();
    free(p);
    HT_ASSERT(r == -EINVAL && strstr(why, "more than 128"), "parse = %d (%s)", r, why);
}

static void t_read_error(void)
{
    fresh();
    fail_at = 2;                    /* the first entry sector */
    img[(NR - 1) * GI_SECTOR] = 0;  /* no backup to fall back on */
    int r = parse();
    HT_ASSERT(r == -EIO, "parse = %d (%s)", r, why);
    fresh();
    fail_at = 1;
    r = parse();                    /* header unreadable: error passed up */
    HT_ASSERT(r == -EIO, "parse = %d (%s)", r, why);
}

static void t_entry_size_256(void)
{
    fresh();
    /* entries of 256 bytes: 64 entries in the same 32 sectors; entry 2
     * is at byte 256, where the 128-byte layout had entry 3 (empty) */
    memcpy(gi_entry(img, 2), gi_entry(img, 1), 128);
    memset(gi_entry(img, 1), 0, 128);
    gi_sync_entries(img, NR);
    gi_set_hdr(img, NR, 84, 256, 4);
    gi_set_hdr(img, NR, 80, 64, 4);
    int r = parse();
    HT_ASSERT(r == 2, "parse = %d (%s)", r, why);
    HT_EQ_U(table.part[1].index, 2);
    HT_EQ_U(table.part[1].first, 1024);
}

/* Every single-byte change of either header: refused or parsed, never a
 * read outside the disk, and a parsed table stays inside the disk. */
static void t_every_byte(void)
{
    for (unsigned which = 0; which < 2; which++) {
        for (unsigned off = 0; off < 92; off++) {
            fresh();
            uint64_t lba = which ? NR - 1 : 1;
            img[lba * GI_SECTOR + off] ^= 0x80;
            gi_fix_crcs(img, NR, lba);
            int r = parse();
            HT_ASSERT(r == -EINVAL || r == 2, "byte %u of header %u: %d", off, which, r);
            for (unsigned i = 0; r > 0 && i < table.n; i++)
                HT_ASSERT(table.part[i].last < NR, "partition past the end");
        }
    }
}

static const struct htest cases[] = {
    HT_CASE(crc32_check_value), HT_CASE(good_table), HT_CASE(guid_text), HT_CASE(no_gpt),
    HT_CASE(backup_takes_over), HT_CASE(header_crc), HT_CASE(array_crc),
    HT_CASE(header_fields), HT_CASE(my_lba), HT_CASE(entries_hostile),
    HT_CASE(unused_entries_skipped), HT_CASE(too_many_partitions), HT_CASE(read_error),
    HT_CASE(entry_size_256), HT_CASE(every_byte),
};

int main(int argc, char **argv)
{
    int r = htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
    free(img);
    return r;
}
