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
#include <kernel/apic.h>
#include <kernel/printk.h>
#include <kernel/x86.h>

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

/* ---- the ring of rows, drawing only what changed, and the cost of a line ---- */

/* Does text row `row` (1 = the first under the title) show s from column 0? */
static bool row_shows(uint32_t row, const char *s)
{
    struct fbcon_info fi;
    fbcon_get_info(&fi);
    for (uint32_t i = 0; s[i]; i++) {
        uint32_t bpr;
        const uint8_t *g = fbcon_glyph((unsigned char)s[i], &bpr);
        for (uint32_t y = 0; y + 2 < fi.glyph_h; y++)   /* the last two rows may hold the cursor */
            for (uint32_t x = 0; x < fi.glyph_w; x++) {
                bool on = g[y * bpr + x / 8] & (0x80 >> (x % 8));
                uint32_t got = fbcon_read_pixel(i * fi.glyph_w + x, row * fi.glyph_h + y);
                if (got != (on ? fi.fg : fi.bg))
                    return false;
            }
    }
    return true;
}

static void fb_print(const char *s)
{
    fbcon_write(s, strlen(s));
}

KTEST(fbcon_ring_scrolls)
{
    KT_ASSERT(fbcon_active(), "framebuffer console is not active");
    struct fbcon_info a, b;
    fb_print("\x1b[2J\x1b[H");                    /* clear, cursor home */
    fbcon_get_info(&a);
    KT_ASSERT(a.cursor_row == 1 && a.cursor_col == 0, "cursor at %u,%u after ESC[H",
              a.cursor_row, a.cursor_col);
    uint32_t nrows = a.rows - 1, lines = nrows + 7;
    char line[48];
    for (uint32_t i = 0; i < lines; i++) {
        snprintf(line, sizeof(line), "ring line %u\n", i);
        fb_print(line);
    }
    fbcon_flush();
    fbcon_get_info(&b);
    /* lines newlines from row 0: the last nrows - 1 fit, the rest scrolled */
    uint64_t scrolled = b.scrolls - a.scrolls;
    KT_ASSERT(scrolled == lines - (nrows - 1), "%lu scrolls for %u lines on %u rows",
              scrolled, lines, nrows);
    KT_ASSERT(b.ring_top == (a.ring_top + scrolled) % nrows, "ring start %u, expected %lu",
              b.ring_top, (a.ring_top + scrolled) % nrows);
    /* the screen shows the last lines in order, the cursor's row empty */
    for (uint32_t r = 1; r < nrows; r++) {
        snprintf(line, sizeof(line), "ring line %u", lines - nrows + r);
        KT_ASSERT(row_shows(r, line), "row %u does not show '%s'", r, line);
    }
    KT_ASSERT(row_shows(nrows, "          "), "the last row is not blank");
    KT_ASSERT(b.cursor_row == nrows && b.cursor_col == 0, "cursor at %u,%u", b.cursor_row,
              b.cursor_col);
}

KTEST(fbcon_draws_only_changes)
{
    struct fbcon_info a, b;
    fb_print("\x1b[2J\x1b[Hsame text\n");
    fbcon_flush();
    fbcon_get_info(&a);
    fbcon_flush();                                /* nothing changed: nothing drawn */
    fbcon_get_info(&b);
    KT_ASSERT(b.cells_drawn == a.cells_drawn, "%lu cells drawn for no change",
              b.cells_drawn - a.cells_drawn);
    fb_print("x");                                /* one character: it and the cursor */
    fbcon_get_info(&b);
    KT_ASSERT(b.cells_drawn - a.cells_drawn <= 2, "%lu cells drawn for one character",
              b.cells_drawn - a.cells_drawn);
    KT_ASSERT(row_shows(2, "x"), "the character is not on screen");
    fb_print("\x1b[2;1Hsome\x1b[K");              /* CUP and EL: row 2 becomes "some" */
    fbcon_flush();
    KT_ASSERT(row_shows(2, "some  "), "row 2 does not show 'some' alone");
    KT_ASSERT(row_shows(1, "same text"), "row 1 changed");
    fb_print("\x1b[1;6H\x1b[1K");                 /* erase row 1 up to the cursor */
    fbcon_flush();
    KT_ASSERT(row_shows(1, "      ext"), "ESC[1K did not erase the start of row 1");
}

/*
 * 2000 lines in a burst (the figure for their cost is make bench's,
 * kernel/test/bench_fbcon.c: a test does not time anything).  With timed
 * flushes off, what is drawn no longer depends on the machine's speed:
 * the lines written before the first scroll are drawn one by one, the
 * ones after only by the final flush, which draws each cell at most once.
 * The ring holds the last lines before anything is drawn, and the screen
 * shows them after.
 */
#define BURST_LINES 2000

static void burst_line(char *buf, size_t size, uint32_t i)
{
    /* Two texts in turn, 55 characters each, so that a line differs from
     * the one above it almost everywhere. */
    static const char *const text[2] = {
        "bench line %4u: the quick brown fox jumps over the dog\n",
        "BENCH %4u, 0123456789 ABCDEFGHIJ abcdefghij +-*/=<>()\n",
    };
    snprintf(buf, size, text[i & 1], i);
}

/* Does the ring's text row `row` hold s followed by blanks? */
static bool ring_holds(uint32_t row, const char *s, uint32_t cols)
{
    for (uint32_t c = 0; c < cols; c++) {
        int want = s[0] ? (unsigned char)*s++ : ' ';
        if (fbcon_text_at(row, c) != want)
            return false;
    }
    return true;
}

KTEST(fbcon_2000_lines)
{
    KT_ASSERT(fbcon_active(), "framebuffer console is not active");
    static char line[80];
    struct fbcon_info a, b, c;
    uint32_t old = fbcon_set_flush_interval(FBCON_NO_TIMED_FLUSH);
    fb_print("\x1b[2J\x1b[H");
    fbcon_flush();
    fbcon_get_info(&a);
    uint32_t nrows = a.rows - 1, cols = a.cols;
    for (uint32_t i = 0; i < BURST_LINES; i++) {
        burst_line(line, sizeof(line), i);
        fb_print(line);
    }
    fbcon_get_info(&b);
    /* Before the final flush: rows nrows - 1 lines were drawn one write
     * at a time (no scroll yet), nothing after the first scroll. */
    uint64_t scrolled = b.scrolls - a.scrolls;
    bool ok_scrolls = scrolled == BURST_LINES - (nrows - 1);
    bool ok_flushes = b.flushes - a.flushes == nrows - 1;
    uint64_t early_cells = b.cells_drawn - a.cells_drawn;
    /* the ring holds the last nrows - 1 lines already, and a blank row */
    bool ok_ring = true;
    for (uint32_t r = 1; r < nrows && ok_ring; r++) {
        burst_line(line, sizeof(line), BURST_LINES - nrows + r);
        line[strlen(line) - 1] = 0;
        ok_ring = ring_holds(r, line, cols);
    }
    ok_ring = ok_ring && ring_holds(nrows, "", cols);
    fbcon_flush();
    fbcon_get_info(&c);
    fbcon_set_flush_interval(old);
    KT_ASSERT(ok_scrolls, "%lu scrolls for %u lines on %u rows", scrolled, BURST_LINES, nrows);
    KT_ASSERT(ok_flushes, "%lu redraws during the burst, expected %u (one per line before "
              "the first scroll)", b.flushes - a.flushes, nrows - 1);
    KT_ASSERT(early_cells <= (uint64_t)(nrows - 1) * (55 + 2),
              "%lu cells drawn for the %u lines before the first scroll", early_cells,
              nrows - 1);
    KT_ASSERT(ok_ring, "the ring does not hold the last %u lines", nrows - 1);
    KT_ASSERT(c.flushes - b.flushes == 1, "%lu redraws at the end", c.flushes - b.flushes);
    KT_ASSERT(c.cells_drawn - b.cells_drawn <= (uint64_t)nrows * cols,
              "%lu cells drawn by one flush of %ux%u cells", c.cells_drawn - b.cells_drawn,
              nrows, cols);
    KT_ASSERT(c.ring_top == (a.ring_top + scrolled) % nrows, "ring start %u, expected %lu",
              c.ring_top, (a.ring_top + scrolled) % nrows);
    for (uint32_t r = 1; r < nrows; r++) {
        burst_line(line, sizeof(line), BURST_LINES - nrows + r);
        line[strlen(line) - 1] = 0;
        KT_ASSERT(row_shows(r, line), "row %u does not show '%s'", r, line);
    }
    KT_ASSERT(row_shows(nrows, "          "), "the last row is not blank");
    KT_ASSERT(c.cursor_row == nrows && c.cursor_col == 0, "cursor at %u,%u", c.cursor_row,
              c.cursor_col);
}

KTEST(fbcon_flush_interval)
{
    /* Interval 0: a console without deferral draws after every line. */
    struct fbcon_info a, b;
    uint32_t old = fbcon_set_flush_interval(0);
    fb_print("\x1b[2J\x1b[H");
    fbcon_get_info(&a);
    static char line[80];
    for (uint32_t i = 0; i < 3 * (a.rows - 1); i++) {
        burst_line(line, sizeof(line), i);
        fb_print(line);
    }
    fbcon_get_info(&b);
    KT_ASSERT(fbcon_set_flush_interval(old) == 0, "the interval was not kept");
    KT_ASSERT(b.flushes - a.flushes == 3 * (a.rows - 1), "%lu redraws for %u lines",
              b.flushes - a.flushes, 3 * (a.rows - 1));
    KT_ASSERT(fbcon_text_at(0, 0) == -1 && fbcon_text_at(a.rows, 0) == -1 &&
              fbcon_text_at(1, a.cols) == -1, "cells outside the grid answered");
}
