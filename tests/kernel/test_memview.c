/*
 * The memory map (kernel/console/memview.c): switched on, it covers the
 * right part of the screen while the text keeps its columns; a frame's
 * cell takes the colour of the frame's state and follows it on the next
 * redraw; a redraw with nothing changed draws nothing; F12's request is
 * carried out by the next poll; switched off, the text console shows its
 * grid again, pixel for pixel.
 */
#include <kernel/ktest.h>
#include <kernel/console.h>
#include <kernel/memview.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <mm/gfp.h>
#include <mm/page.h>

/* Does text cell (row, col) show byte ch in the console's colours? */
static bool cell_shows(uint32_t row, uint32_t col, unsigned char ch)
{
    struct fbcon_info fi;
    fbcon_get_info(&fi);
    uint32_t bpr;
    const uint8_t *g = fbcon_glyph(ch, &bpr);
    for (uint32_t y = 0; y + 2 < fi.glyph_h; y++)   /* the last two rows may hold the cursor */
        for (uint32_t x = 0; x < fi.glyph_w; x++) {
            bool on = g[y * bpr + x / 8] & (0x80 >> (x % 8));
            uint32_t got = fbcon_read_pixel(col * fi.glyph_w + x, row * fi.glyph_h + y);
            if (got != (on ? fi.fg : fi.bg))
                return false;
        }
    return true;
}

/* Is every pixel of frame pfn's cell of colour rgb? */
static bool cell_is(uint64_t pfn, int rgb)
{
    uint32_t x, y, side;
    if (rgb < 0 || !memview_locate(pfn, &x, &y, &side))
        return false;
    for (uint32_t j = 0; j < side; j++)
        for (uint32_t i = 0; i < side; i++)
            if (fbcon_read_pixel(x + i, y + j) != (uint32_t)rgb)
                return false;
    return true;
}

/* Row 1 full of 'M': the text the map covers and must give back. */
static void fill_row(uint32_t cols)
{
    fbcon_write("\x1b[2J\x1b[H", 7);
    for (uint32_t c = 0; c + 1 < cols; c++)
        fbcon_write("M", 1);
    fbcon_flush();
}

KTEST(memview_covers_and_restores)
{
    KT_ASSERT(fbcon_active(), "no framebuffer console");
    bool was = memview_on();
    memview_set(false);
    struct fbcon_info fi;
    fbcon_get_info(&fi);
    fill_row(fi.cols);
    KT_ASSERT(cell_shows(1, fi.cols - 2, 'M'), "the test's text is not on screen");
    int r = memview_set(true);
    KT_ASSERT(r == 0 && memview_on(), "memview_set(true): %d", r);
    struct memview_stats st;
    memview_stats(&st);
    KT_ASSERT(st.keep_cols < fi.cols - 1 && st.cells > 0, "map of %lu cells, text keeps %u of %u",
              st.cells, st.keep_cols, fi.cols);
    KT_ASSERT(!cell_shows(1, fi.cols - 2, 'M'), "the map does not cover column %u", fi.cols - 2);
    if (st.keep_cols)
        KT_ASSERT(cell_shows(1, 0, 'M'), "the text beside the map is gone");
    KT_ASSERT(memview_set(true) == 0, "switching on twice");
    /* Nothing changed: a redraw draws nothing. */
    memview_draw();
    memview_stats(&st);
    uint64_t drawn = st.cells_drawn, steps = st.steps;
    memview_draw();
    memview_stats(&st);
    KT_ASSERT(st.cells_drawn - drawn <= 4, "%lu cells drawn for no change",
              st.cells_drawn - drawn);
    printk("memview: a redraw with nothing changed: %lu cells, %lu descriptors read, %lu us\n",
           st.cells, st.steps - steps, st.last_redraw_us);
    r = memview_set(false);
    KT_ASSERT(r == 0 && !memview_on(), "memview_set(false): %d", r);
    for (uint32_t c = 0; c + 1 < fi.cols; c++)
        KT_ASSERT(cell_shows(1, c, 'M'), "column %u of the text not restored", c);
    if (was)
        memview_set(true);
}

KTEST(memview_follows_frames)
{
    KT_ASSERT(fbcon_active(), "no framebuffer console");
    bool was = memview_on();
    KT_ASSERT(memview_set(true) == 0, "memview_set(true)");
    /* A DMA page (that zone's cells are single frames on any screen). */
    struct page *pg = alloc_pages(GFP_DMA, 0);
    KT_ASSERT(pg, "no DMA page");
    uint64_t pfn = page_to_pfn(pg);
    memview_draw();
    bool kernel = cell_is(pfn, memview_state_rgb("kernel", ZONE_DMA));
    /* The same frame as a user page, then as a pinned one (two references,
     * no mapping: nothing accounts for the second). */
    pg->flags |= PG_ANON;
    memview_draw();
    bool anon = cell_is(pfn, memview_state_rgb("anonymous", ZONE_DMA));
    pg->refcount = 2;
    memview_draw();
    bool pin = cell_is(pfn, memview_state_rgb("pinned", ZONE_DMA));
    pg->refcount = 1;
    pg->flags &= (uint8_t)~PG_ANON;
    __free_pages(pg, 0);
    memview_draw();
    bool freed = cell_is(pfn, memview_state_rgb("per-CPU free", ZONE_DMA)) ||
                 cell_is(pfn, memview_state_rgb("free", ZONE_DMA));
    if (!was)
        memview_set(false);
    KT_ASSERT(kernel, "an allocated kernel page is not drawn as kernel");
    KT_ASSERT(anon, "a PG_ANON page is not drawn as anonymous");
    KT_ASSERT(pin, "a page with more references than mappings is not drawn as pinned");
    KT_ASSERT(freed, "a freed page is not drawn as free");
    KT_ASSERT(memview_state_rgb("no such state", 0) == -1, "an unknown state has a colour");
}

KTEST(memview_key_toggles)
{
    KT_ASSERT(fbcon_active(), "no framebuffer console");
    bool was = memview_on();
    KT_ASSERT(memview_key(), "F12 not taken with a framebuffer");
    KT_ASSERT(memview_on() == was, "the key switched the map in the interrupt");
    memview_poll();
    bool toggled = memview_on() != was;
    memview_key();
    memview_poll();
    KT_ASSERT(toggled, "the poll did not carry out the key");
    KT_ASSERT(memview_on() == was, "the second press did not switch back");
}
