/*
 * PSF console fonts: PSF1 and PSF2, as Debian's console-setup ships them
 * (embedded at build time by kernel/console/font.S).
 *
 * A console font stores its glyphs in its own order; a table after the
 * glyphs lists the Unicode code points each glyph draws.  We read that
 * table once to map bytes 0..255 (taken as Latin-1) to glyph numbers.
 * The font is data we were given: every offset is checked against its
 * end before use.
 */
#include "psf.h"

#define PSF1_MAGIC0 0x36
#define PSF1_MAGIC1 0x04
#define PSF1_MODE512 0x01
#define PSF1_MODEHASTAB 0x02
#define PSF2_MAGIC 0x864ab572u
#define PSF2_HAS_UNICODE_TABLE 0x01

/* Decode one UTF-8 sequence of the PSF2 table; returns bytes used. */
static uint32_t utf8_decode(const uint8_t *p, const uint8_t *end, uint32_t *cp)
{
    uint32_t n = 1, c = p[0];
    if (c >= 0xf0) { n = 4; c &= 0x07; }
    else if (c >= 0xe0) { n = 3; c &= 0x0f; }
    else if (c >= 0xc0) { n = 2; c &= 0x1f; }
    if (p + n > end)
        return (uint32_t)(end - p);
    for (uint32_t i = 1; i < n; i++)
        c = c << 6 | (p[i] & 0x3f);
    *cp = c;
    return n;
}

static void map_codepoint(struct psf_font *f, uint32_t cp, uint32_t glyph)
{
    if (cp < 256 && f->map[cp] == 0xffff)
        f->map[cp] = (uint16_t)glyph;
}

bool psf_parse(struct psf_font *f, const uint8_t *start, const uint8_t *end)
{
    size_t len = (size_t)(end - start);
    bool has_table;

    for (int i = 0; i < 256; i++)
        f->map[i] = 0xffff;
    if (len >= 4 && start[0] == PSF1_MAGIC0 && start[1] == PSF1_MAGIC1) {
        f->nglyphs = (start[2] & PSF1_MODE512) ? 512 : 256;
        f->height = start[3];
        f->width = 8;
        f->glyph_bytes = f->height;
        f->glyphs = start + 4;
        has_table = start[2] & PSF1_MODEHASTAB;
    } else if (len >= 32 && *(const uint32_t *)start == PSF2_MAGIC) {
        const uint32_t *h = (const uint32_t *)start;
        if (h[2] > len)
            return false;
        f->glyphs = start + h[2];
        has_table = h[3] & PSF2_HAS_UNICODE_TABLE;
        f->nglyphs = h[4];
        f->glyph_bytes = h[5];
        f->height = h[6];
        f->width = h[7];
    } else {
        return false;
    }
    f->row_bytes = (f->width + 7) / 8;
    if (f->width == 0 || f->height == 0 || f->width > 32 || f->height > 64 ||
        f->nglyphs == 0 || f->glyph_bytes < f->row_bytes * f->height ||
        (uint64_t)f->nglyphs * f->glyph_bytes > (uint64_t)(end - f->glyphs))
        return false;

    const uint8_t *t = f->glyphs + (size_t)f->nglyphs * f->glyph_bytes;
    if (!has_table) {
        for (uint32_t i = 0; i < 256 && i < f->nglyphs; i++)
            f->map[i] = (uint16_t)i;
    } else if (start[0] == PSF1_MAGIC0) {
        /* PSF1: per glyph, 16-bit code points, 0xfffe starts sequences, 0xffff ends */
        for (uint32_t g = 0; g < f->nglyphs && t + 2 <= end; g++) {
            bool in_seq = false;
            for (; t + 2 <= end; t += 2) {
                uint16_t u = (uint16_t)(t[0] | t[1] << 8);
                if (u == 0xffff) { t += 2; break; }
                if (u == 0xfffe) in_seq = true;
                else if (!in_seq) map_codepoint(f, u, g);
            }
        }
    } else {
        /* PSF2: per glyph, UTF-8 code points, 0xfe starts sequences, 0xff ends */
        for (uint32_t g = 0; g < f->nglyphs && t < end; g++) {
            bool in_seq = false;
            while (t < end) {
                if (*t == 0xff) { t++; break; }
                if (*t == 0xfe) { in_seq = true; t++; continue; }
                uint32_t cp = 0;
                t += utf8_decode(t, end, &cp);
                if (!in_seq) map_codepoint(f, cp, g);
            }
        }
    }
    uint16_t fallback = f->map['?'] != 0xffff ? f->map['?'] : 0;
    for (int i = 0; i < 256; i++)
        if (f->map[i] == 0xffff || f->map[i] >= f->nglyphs)
            f->map[i] = fallback;
    return true;
}
