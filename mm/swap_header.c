/*
 * The header page of a swap area: what util-linux's mkswap writes in the
 * first 4 KiB of a partition (Linux's union swap_header, version 1;
 * include/mm/swap.h has the offsets, docs/swap.md the drawing).
 *
 * Invariant: swap_header_parse only reads the buffer it is given and
 * accepts a header only when every field is one mkswap could have
 * written for this device: the signature in the page's last 10 bytes,
 * version 1 in the machine's byte order, an area of at least
 * SWAP_MIN_PAGES pages that ends inside the device, at most
 * MAX_SWAP_BADPAGES bad pages, each inside the area, not the header
 * itself and not listed twice, at least one usable page left, and a
 * label without control characters.  Anything else is refused with the
 * first problem in words; the caller writes nothing to such a device.
 *
 * Compared with Linux: Linux accepts a header whose version is in the
 * other byte order (it swaps the fields); we refuse it, as we refuse the
 * area running past the device (Linux trusts last_page for a block
 * device) and a bad page listed twice (Linux counts it twice).  The
 * bootbits and padding are not looked at: a disk label may live there.
 */
#include <mm/swap.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>

static uint32_t get32(const uint8_t *p, size_t off)
{
    return (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 |
           (uint32_t)p[off + 3] << 24;
}

#define REFUSE(...)                                                         \
    do {                                                                    \
        snprintf(why, size, __VA_ARGS__);                                   \
        return -EINVAL;                                                     \
    } while (0)

int swap_header_parse(const void *hdr, size_t len, uint64_t dev_pages,
                      struct swap_header_info *out, char *why, size_t size)
{
    const uint8_t *p = hdr;
    if (size)
        why[0] = 0;
    if (!hdr || len < 4096)
        REFUSE("the header is one 4096-byte page, %zu bytes given", len);
    if (dev_pages < SWAP_MIN_PAGES)
        REFUSE("device too small: %lu pages, a swap area needs at least %u", dev_pages,
               SWAP_MIN_PAGES);
    if (memcmp(p + SWAP_HDR_MAGIC_OFF, SWAP_HDR_MAGIC_V0, 10) == 0)
        REFUSE("old swap signature SWAP-SPACE (version 0): no longer supported, run mkswap");
    if (memcmp(p + SWAP_HDR_MAGIC_OFF, SWAP_HDR_MAGIC, 10) != 0)
        REFUSE("no swap signature (SWAPSPACE2 at offset %u): not a swap area, run mkswap",
               SWAP_HDR_MAGIC_OFF);
    uint32_t version = get32(p, SWAP_HDR_VERSION_OFF);
    if (version == 0x01000000u)
        REFUSE("swap header written in the other byte order (version %#x)", version);
    if (version != 1)
        REFUSE("swap header version %u: only version 1 is understood", version);
    uint32_t last = get32(p, SWAP_HDR_LAST_PAGE_OFF);
    if (last < SWAP_MIN_PAGES - 1)
        REFUSE("swap area too small: last_page %u, at least %u pages are needed", last,
               SWAP_MIN_PAGES);
    if (last >= dev_pages)
        REFUSE("last_page %u past the end of the device (%lu pages)", last, dev_pages);
    uint32_t nbad = get32(p, SWAP_HDR_NR_BAD_OFF);
    if (nbad > MAX_SWAP_BADPAGES)
        REFUSE("nr_badpages %u above the %u a header holds", nbad, MAX_SWAP_BADPAGES);
    for (uint32_t i = 0; i < nbad; i++) {
        uint32_t b = get32(p, SWAP_HDR_BADPAGES_OFF + 4 * i);
        if (b == 0)
            REFUSE("bad page %u is page 0, the header", i);
        if (b > last)
            REFUSE("bad page %u: index %u past last_page %u", i, b, last);
        for (uint32_t k = 0; k < i; k++)
            if (get32(p, SWAP_HDR_BADPAGES_OFF + 4 * k) == b)
                REFUSE("bad page %u listed twice (entries %u and %u)", b, k, i);
        out->badpages[i] = b;
    }
    if (nbad >= last)
        REFUSE("no usable page: %u pages after the header, %u bad", last, nbad);
    const uint8_t *label = p + SWAP_HDR_LABEL_OFF;
    size_t llen = 0;
    while (llen < 16 && label[llen])
        llen++;
    for (size_t i = 0; i < llen; i++)
        if (label[i] < 0x20 || label[i] == 0x7f)
            REFUSE("label byte %zu is a control character (%#x)", i, label[i]);
    memcpy(out->label, label, llen);
    out->label[llen] = 0;
    memcpy(out->uuid, p + SWAP_HDR_UUID_OFF, 16);
    out->last_page = last;
    out->nr_badpages = nbad;
    return 0;
}
