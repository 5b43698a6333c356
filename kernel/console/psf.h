/*
 * PSF console fonts (kernel/console/psf.c), for the framebuffer console
 * only: nothing outside kernel/console/ includes this.
 */
#ifndef CONSOLE_PSF_H
#define CONSOLE_PSF_H

#include <kernel/types.h>

struct psf_font {
    const uint8_t *glyphs;         /* nglyphs bitmaps of glyph_bytes each */
    uint32_t nglyphs, glyph_bytes;
    uint32_t width, height;        /* pixels */
    uint32_t row_bytes;            /* bytes per bitmap row: bit 7 of byte 0 is the left pixel */
    uint16_t map[256];             /* byte (taken as Latin-1) -> glyph number */
};

/*
 * Read a PSF1 or PSF2 font from [start, end): its geometry, and the glyph
 * of each byte from the font's Unicode table (a byte the table lacks gets
 * '?'s glyph).  False when the data is not a font we can draw (at most
 * 32x64 pixels) or is truncated.
 */
bool psf_parse(struct psf_font *f, const uint8_t *start, const uint8_t *end);

/* The bitmap of byte c's glyph. */
static inline const uint8_t *psf_glyph(const struct psf_font *f, unsigned char c)
{
    return f->glyphs + (size_t)f->map[c] * f->glyph_bytes;
}

#endif
