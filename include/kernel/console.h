/*
 * Consoles: COM1 (kernel/console/serial.c) and a text console drawn with a PSF
 * font on the GOP framebuffer (kernel/console/fbcon.c).  printk writes to both.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <kernel/types.h>
#include <boot/boot_info.h>

/* Probe COM1; returns true when a UART answered (QEMU, most desktops). */
bool serial_init(void);
bool serial_present(void);
/* The second port (COM2, 0x2f8): user processes' console output only. */
void serial2_write(const char *s, size_t n);
void serial_write(const char *s, size_t n);

/*
 * Take over the framebuffer described by the loader.  The top text row
 * holds a fixed title bar (`title`, drawn once, never scrolled); the rest
 * scrolls.  Returns false when there is no usable framebuffer or font.
 */
bool fbcon_init(const struct boot_framebuffer *fb, const char *title);
bool fbcon_active(void);
void fbcon_write(const char *s, size_t n);

/* Geometry and colours, for tests that check the pixels. */
struct fbcon_info {
    uint32_t cols, rows;        /* text cells, title row included */
    uint32_t glyph_w, glyph_h;  /* pixels */
    uint32_t fg, bg, title_fg, title_bg; /* 0xRRGGBB */
};
void fbcon_get_info(struct fbcon_info *out);
/* Stop drawing (a fault inside the console itself: serial only from now). */
void fbcon_disable(void);
/*
 * The console starts on the loader's direct map of the framebuffer; the
 * kernel then maps it itself (ioremap_wc: write-combining through PAT)
 * and hands the new address over with fbcon_set_mapping, once its own
 * tables are loaded.  shadow: a RAM copy of the screen to draw in (or
 * NULL to draw in video memory directly); see kernel/console/fbcon.c.
 */
uint64_t fbcon_mapping_bytes(void);
void fbcon_set_mapping(void *base, void *shadow);
/* Colour of pixel (x, y) as 0xRRGGBB, read back from the framebuffer. */
uint32_t fbcon_read_pixel(uint32_t x, uint32_t y);
/*
 * The glyph bitmap row for byte `c` (bit 7 of byte 0 is the leftmost
 * pixel), or NULL; for tests comparing what was drawn with the font.
 */
const uint8_t *fbcon_glyph(unsigned char c, uint32_t *bytes_per_row);

#endif
