/*
 * libFuzzer target: the swap header parser (mm/swap_header.c) on hostile
 * pages.
 *
 * The input first shapes a header mkswap could have written (the device's
 * and the area's size, some bad pages, a label), then changes bytes: in
 * the fields (version, last_page, nr_badpages, the bad-page list, the
 * label), in the signature, or anywhere in the page.  The page is a heap
 * block of exactly the length given to the parser (sometimes short), so
 * ASan catches any read past it.
 *
 * After the parse, an independent statement of the rules (include/mm/
 * swap.h) computed from the raw bytes must agree with the verdict, a
 * refusal must say why, and an accepted header must be reported as
 * written (last_page, the bad pages in order, the UUID, the label).
 */
#include <stdlib.h>
#include <string.h>

#include <kernel/errno.h>
#include <mm/swap.h>

#define FUZZ_NAME "fuzz_swaphdr"
#include "fuzz_input.h"

#define PG 4096u

static uint32_t rd32(const uint8_t *p, size_t off)
{
    return (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 |
           (uint32_t)p[off + 3] << 24;
}

static void wr32(uint8_t *p, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

/* The rules, restated: should this page be accepted? */
static NOCOV bool oracle(const uint8_t *p, size_t len, uint64_t dev)
{
    if (len < PG || dev < SWAP_MIN_PAGES || memcmp(p + 4086, "SWAPSPACE2", 10) != 0)
        return false;
    uint32_t last = rd32(p, 1028), nbad = rd32(p, 1032);
    if (rd32(p, 1024) != 1 || last < 9 || last >= dev || nbad > 637 || nbad >= last)
        return false;
    for (uint32_t i = 0; i < nbad; i++) {
        uint32_t b = rd32(p, 1536 + 4 * i);
        if (b == 0 || b > last)
            return false;
        for (uint32_t k = i + 1; k < nbad; k++)
            if (rd32(p, 1536 + 4 * k) == b)
                return false;
    }
    for (int i = 0; i < 16 && p[1052 + i]; i++)
        if (p[1052 + i] < 0x20 || p[1052 + i] == 0x7f)
            return false;
    return true;
}

static NOCOV void check(const uint8_t *p, size_t len, uint64_t dev, int r,
                        const struct swap_header_info *h, const char *why)
{
    bool want = oracle(p, len, dev);
    if (r != 0 && r != -EINVAL)
        DIE("parse returned %d", r);
    if ((r == 0) != want)
        DIE("parse says %d (%s), the rules say %s", r, why, want ? "accept" : "refuse");
    if (r) {
        if (!why[0])
            DIE("refused without a reason");
        return;
    }
    if (h->last_page != rd32(p, 1028) || h->nr_badpages != rd32(p, 1032))
        DIE("fields misreported");
    for (uint32_t i = 0; i < h->nr_badpages; i++)
        if (h->badpages[i] != rd32(p, 1536 + 4 * i))
            DIE("bad page %u misreported", i);
    if (memcmp(h->uuid, p + 1036, 16) != 0)
        DIE("uuid misreported");
    size_t l = strnlen((const char *)p + 1052, 16);
    if (strlen(h->label) != l || memcmp(h->label, p + 1052, l) != 0)
        DIE("label misreported");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    uint8_t shape = u8(&in);
    uint64_t dev = u16(&in);
    if (shape & 0x80)
        dev <<= u8(&in) % 24;
    size_t len = (shape & 0x40) && (shape & 0x20) ? PG - 1 - u8(&in) : PG;
    uint8_t *p = calloc(1, len ? len : 1);
    if (!p)
        return 0;
    if (len == PG) {
        uint32_t last = dev ? (uint32_t)(dev - 1 - (shape & 1 ? u8(&in) : 0)) : 0;
        uint32_t nbad = u8(&in) % 8;
        wr32(p, 1024, 1);
        wr32(p, 1028, last);
        wr32(p, 1032, nbad);
        for (uint32_t i = 0; i < nbad; i++)
            wr32(p, 1536 + 4 * i, u16(&in));
        for (int i = 0; i < 16; i++)
            p[1036 + i] = u8(&in);
        for (int i = 0; i < 16; i++)
            p[1052 + i] = (uint8_t)(u8(&in) & 0x7f);
        memcpy(p + 4086, "SWAPSPACE2", 10);
        /* Changes: each is (where, value). */
        while (in.n) {
            uint8_t w = u8(&in), v = u8(&in);
            switch (w % 6) {
            case 0: p[1024 + (w >> 3) % 12] = v; break;              /* version, last, nbad */
            case 1: wr32(p, 1028, (uint32_t)v << ((w >> 3) % 4 * 8)); break;
            case 2: wr32(p, 1032, v < 200 ? v % 10 : 600 + v % 50); break;
            case 3: wr32(p, 1536 + 4 * ((w >> 3) % 8), v); break;  /* a bad page */
            case 4: p[4086 + (w >> 3) % 10] = v; break;              /* the signature */
            default: p[(size_t)((w >> 3) | (v << 5)) % PG] = v; break;
            }
        }
    } else {
        for (size_t i = 0; i < len && in.n; i++)
            p[i] = u8(&in);
    }
    struct swap_header_info h;
    char why[160] = "";
    int r = swap_header_parse(p, len, dev, &h, why, sizeof(why));
    check(p, len, dev, r, &h, why);
    free(p);
    return 0;
}
