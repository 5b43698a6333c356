/*
 * The framebuffer console draws what printk prints with the PSF font.
 * The pixels of the title bar are read back and compared with the font's
 * bitmaps.  (tests/run_all.py also compares a QEMU screendump, taken from
 * outside the machine, with the same glyphs.)
 */
#include <kernel/ktest.h>
#include <kernel/console.h>
#include <kernel/kernel.h>
#include <kernel/string.h>

KTEST(fbcon_title_pixels)
{
    struct fbcon_info fi;
    KT_ASSERT(fbcon_active(), "framebuffer console is not active");
    fbcon_get_info(&fi);
    KT_ASSERT(fi.cols >= 80 && fi.rows >= 25, "console is only %ux%u", fi.cols, fi.rows);
    const char *title = KERNEL_TITLE;
    for (uint32_t i = 0; title[i]; i++) {
        uint32_t bpr;
        const uint8_t *g = fbcon_glyph((unsigned char)title[i], &bpr);
        KT_ASSERT(g, "no glyph for '%c'", title[i]);
        for (uint32_t y = 0; y < fi.glyph_h; y++)
            for (uint32_t x = 0; x < fi.glyph_w; x++) {
                bool on = g[y * bpr + x / 8] & (0x80 >> (x % 8));
                uint32_t want = on ? fi.title_fg : fi.title_bg;
                uint32_t got = fbcon_read_pixel(i * fi.glyph_w + x, y);
                KT_ASSERT(got == want, "char %u '%c' pixel (%u,%u): %06x, expected %06x",
                          i, title[i], x, y, got, want);
            }
    }
}

KTEST(fbcon_glyphs_differ)
{
    /* The font's table mapped ASCII to real glyphs: 'A' and 'B' differ,
     * and 'A' is not blank. */
    uint32_t bpr, fh;
    struct fbcon_info fi;
    fbcon_get_info(&fi);
    fh = fi.glyph_h;
    const uint8_t *a = fbcon_glyph('A', &bpr), *b = fbcon_glyph('B', &bpr);
    KT_ASSERT(a && b, "no glyphs");
    KT_ASSERT(memcmp(a, b, bpr * fh) != 0, "'A' and 'B' have the same glyph");
    int bits = 0;
    for (uint32_t i = 0; i < bpr * fh; i++)
        bits += __builtin_popcount(a[i]);
    KT_ASSERT(bits > 10, "'A' has only %d pixels set", bits);
}
