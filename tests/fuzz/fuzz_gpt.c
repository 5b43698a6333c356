/*
 * libFuzzer target: the GPT parser (kernel/block/gpt.c) on hostile disks.
 *
 * The input first shapes a well-formed table (the disk's size, up to four
 * partitions), then changes bytes in it: in the primary or the backup
 * header, in the entry arrays or anywhere, each change followed or not by
 * fixing the CRCs, so that hostile values get past the CRC checks to the
 * checks behind them.  A byte may also make one sector unreadable.
 * After the parse: the result is one of the documented ones, no sector
 * outside the disk was asked for, and an accepted table keeps its
 * promises (partitions inside the usable LBAs, which avoid the headers,
 * no overlaps, distinct non-zero GUIDs, entry numbers increasing).
 * Every GUID's text form must parse back to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include <kernel/errno.h>
#include <kernel/gpt.h>

#define FUZZ_NAME "fuzz_gpt"
#include "fuzz_input.h"
#include "../shared/gpt_image.h"

static uint8_t *img;
static uint64_t nr;
static int64_t bad_lba;

static int rd(void *ctx, uint64_t lba, void *buf)
{
    (void)ctx;
    if (lba >= nr)
        DIE("read of LBA %lu on a disk of %lu sectors", lba, nr);
    if ((int64_t)lba == bad_lba)
        return -EIO;
    memcpy(buf, img + lba * GI_SECTOR, GI_SECTOR);
    return 0;
}

static NOCOV void check_guid_text(const uint8_t g[16])
{
    char text[37];
    uint8_t back[16];
    gpt_guid_to_text(g, text);
    if (strlen(text) != 36 || gpt_guid_from_text(text, back) != 0 || memcmp(g, back, 16))
        DIE("GUID text %s does not parse back", text);
}

static NOCOV void check_table(int r, const struct gpt_table *t, const char *why)
{
    if (r == -ENOENT || r == -EIO)
        return;
    if (r == -EINVAL) {
        if (!why[0])
            DIE("refused without a reason");
        return;
    }
    if (r < 0 || (unsigned)r != t->n || t->n > GPT_MAX_PARTS)
        DIE("parse returned %d with %u partitions", r, t->n);
    if (t->first_usable < 2 || t->first_usable > t->last_usable || t->last_usable >= nr - 1)
        DIE("usable LBAs %lu..%lu on %lu sectors", t->first_usable, t->last_usable, nr);
    for (unsigned i = 0; i < t->n; i++) {
        const struct gpt_part *p = &t->part[i];
        if (p->first < t->first_usable || p->last > t->last_usable || p->first > p->last)
            DIE("partition %u at %lu..%lu", p->index, p->first, p->last);
        if (i && p->index <= t->part[i - 1].index)
            DIE("entry numbers not increasing");
        uint8_t zero[16] = { 0 };
        if (!memcmp(p->uuid, zero, 16) || !memcmp(p->type, zero, 16))
            DIE("partition %u with a zero GUID", p->index);
        for (unsigned j = 0; j < i; j++) {
            const struct gpt_part *q = &t->part[j];
            if (p->first <= q->last && q->first <= p->last)
                DIE("partitions %u and %u overlap", q->index, p->index);
            if (!memcmp(p->uuid, q->uuid, 16))
                DIE("partitions %u and %u share a GUID", q->index, p->index);
        }
        check_guid_text(p->uuid);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    nr = 12 + u8(&in);                  /* 16 entries: 4 sectors per array */
    img = malloc(nr * GI_SECTOR);
    struct gi_part parts[4];
    unsigned np = u8(&in) % 5;
    uint64_t usable_first = 6, usable_last = nr - 6;
    memset(parts, 0, sizeof(parts));
    for (unsigned i = 0; i < np; i++) {
        parts[i].first = usable_first + u8(&in) % (usable_last - usable_first + 1);
        parts[i].last = parts[i].first + u8(&in) % 8;
        parts[i].type[0] = (uint8_t)(1 + i);
        parts[i].uuid[0] = (uint8_t)(1 + i);
        parts[i].uuid[15] = u8(&in);
    }
    gi_build_n(img, nr, parts, np, 16);
    bad_lba = -1;
    int fixes = 0;      /* CRC repairs are the costly step: a few per input */
    while (in.n) {
        uint8_t op = u8(&in);
        uint8_t where = op & 3;         /* primary, backup, arrays, anywhere */
        bool fix = op & 4;
        if (op & 8) {
            bad_lba = u8(&in) % nr;
            continue;
        }
        uint64_t at;
        switch (where) {
        case 0: at = GI_SECTOR + u8(&in) % 96; break;
        case 1: at = (nr - 1) * GI_SECTOR + u8(&in) % 96; break;
        case 2: at = 2 * GI_SECTOR + u16(&in) % (4 * GI_SECTOR); break;
        default: at = (u16(&in) | (uint64_t)u8(&in) << 16) % (nr * GI_SECTOR); break;
        }
        img[at] = (op & 0x10) ? u8(&in) : (uint8_t)(img[at] ^ (1u << (op >> 5)));
        if (where == 2 && (op & 0x20)) {    /* the same change in the backup array */
            uint64_t back = (nr - 5) * GI_SECTOR + (at - 2 * GI_SECTOR);
            img[back] = img[at];
        }
        if (fix && fixes++ < 3) {
            gi_fix_crcs(img, nr, 1);
            gi_fix_crcs(img, nr, nr - 1);
        }
    }
    struct gpt_table *t = malloc(sizeof(*t));
    char why[160];
    int r = gpt_parse(nr, rd, NULL, t, why, sizeof(why));
    check_table(r, t, why);
    free(t);
    free(img);
    return 0;
}
