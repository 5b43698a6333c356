/*
 * GPT disk images in memory, for the parser's host test and fuzz target
 * (tests/host/test_gpt.c, tests/fuzz/fuzz_gpt.c): a well-formed table as
 * sgdisk writes one (primary header at LBA 1, 128 entries of 128 bytes
 * from LBA 2, the backup array and header at the end), and helpers that
 * change a field in both copies and make the CRCs right again, so that a
 * hostile value reaches the check behind the CRC checks.
 */
#ifndef TESTS_SHARED_GPT_IMAGE_H
#define TESTS_SHARED_GPT_IMAGE_H

#include <stdint.h>
#include <string.h>

#include <kernel/crc32.h>
#include <kernel/gpt.h>

#define GI_SECTOR 512u

struct gi_part {
    uint64_t first, last;
    uint8_t type[16], uuid[16];
};

static inline void gi_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void gi_put64(uint8_t *p, uint64_t v)
{
    gi_put32(p, (uint32_t)v);
    gi_put32(p + 4, (uint32_t)(v >> 32));
}
static inline uint32_t gi_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t gi_get64(const uint8_t *p)
{
    return gi_get32(p) | (uint64_t)gi_get32(p + 4) << 32;
}

/* Recompute the entry-array CRC and the header CRC of the header at lba,
 * from what the header says (clamped to the image). */
static inline void gi_fix_crcs(uint8_t *img, uint64_t nr, uint64_t lba)
{
    uint8_t *h = img + lba * GI_SECTOR;
    uint64_t at = gi_get64(h + 72);
    uint64_t bytes = (uint64_t)gi_get32(h + 80) * gi_get32(h + 84);
    if (at < nr && bytes <= (nr - at) * GI_SECTOR)
        gi_put32(h + 88, crc32(0, img + at * GI_SECTOR, (size_t)bytes));
    uint32_t hs = gi_get32(h + 12);
    if (hs > GI_SECTOR)
        hs = GI_SECTOR;
    gi_put32(h + 16, 0);
    gi_put32(h + 16, crc32(0, h, hs));
}

/* A valid GPT on an image of nr sectors (nr >= 4 + 2 * entries / 4) with
 * `entries` entries of 128 bytes (a multiple of 4), these partitions in
 * entries 1..n; the disk GUID and everything else fixed. */
static inline void gi_build_n(uint8_t *img, uint64_t nr, const struct gi_part *parts,
                              unsigned n, unsigned entries)
{
    memset(img, 0, nr * GI_SECTOR);
    uint64_t arr_sectors = entries * 128 / GI_SECTOR;
    uint64_t prim_arr = 2, back_arr = nr - 1 - arr_sectors;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = img + prim_arr * GI_SECTOR + i * 128;
        memcpy(e, parts[i].type, 16);
        memcpy(e + 16, parts[i].uuid, 16);
        gi_put64(e + 32, parts[i].first);
        gi_put64(e + 40, parts[i].last);
    }
    memcpy(img + back_arr * GI_SECTOR, img + prim_arr * GI_SECTOR, arr_sectors * GI_SECTOR);
    for (int which = 0; which < 2; which++) {
        uint64_t lba = which ? nr - 1 : 1;
        uint8_t *h = img + lba * GI_SECTOR;
        memcpy(h, "EFI PART", 8);
        gi_put32(h + 8, 0x00010000);
        gi_put32(h + 12, 92);
        gi_put64(h + 24, lba);
        gi_put64(h + 32, which ? 1 : nr - 1);
        gi_put64(h + 40, 2 + arr_sectors);
        gi_put64(h + 48, back_arr - 1);
        for (int i = 0; i < 16; i++)
            h[56 + i] = (uint8_t)(0xd0 + i);
        gi_put64(h + 72, which ? back_arr : prim_arr);
        gi_put32(h + 80, entries);
        gi_put32(h + 84, 128);
        gi_fix_crcs(img, nr, lba);
    }
}

/* As sgdisk makes it: 128 entries (32 sectors), so nr >= 68. */
static inline void gi_build(uint8_t *img, uint64_t nr, const struct gi_part *parts, unsigned n)
{
    gi_build_n(img, nr, parts, n, 128);
}

/* Set a 32- or 64-bit header field in both headers, CRCs made right. */
static inline void gi_set_hdr(uint8_t *img, uint64_t nr, unsigned off, uint64_t v, int bytes)
{
    for (int which = 0; which < 2; which++) {
        uint64_t lba = which ? nr - 1 : 1;
        uint8_t *h = img + lba * GI_SECTOR;
        if (bytes == 8)
            gi_put64(h + off, v);
        else
            gi_put32(h + off, (uint32_t)v);
        gi_fix_crcs(img, nr, lba);
    }
}

/* Entry i (from 0) of both arrays: a pointer to the primary's; call
 * gi_sync_entries after changing it. */
static inline uint8_t *gi_entry(uint8_t *img, unsigned i)
{
    return img + 2 * GI_SECTOR + i * 128;
}
static inline void gi_sync_entries(uint8_t *img, uint64_t nr)
{
    uint64_t arr_sectors = 32, back_arr = nr - 1 - arr_sectors;
    memcpy(img + back_arr * GI_SECTOR, img + 2 * GI_SECTOR, arr_sectors * GI_SECTOR);
    gi_fix_crcs(img, nr, 1);
    gi_fix_crcs(img, nr, nr - 1);
}

#endif
