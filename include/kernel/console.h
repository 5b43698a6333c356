/*
 * Consoles: COM1 (kernel/console/serial.c) and a text console drawn with a PSF
 * font on the GOP framebuffer (kernel/console/fbcon.c).  printk writes to both.
 * Together with the PS/2 keyboard (kernel/console/keyboard.c) they are also
 * one terminal, the console tty (kernel/console/console_tty.c): what COM1 and
 * the keyboard receive is its input, and the processes' output is shown on
 * both (docs/terminal.md).
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <kernel/types.h>
#include <boot/boot_info.h>

/* Probe COM1-COM4; true when COM1 answered (QEMU, most desktops).  The
 * kernel log goes to every port that answered. */
bool serial_init(void);
/* The log's ports as text, "COM1, COM3" ("absent" when none). */
const char *serial_ports(void);
/* One more port for the log (the ACPI SPCR's): 1 added, 0 already
 * there, -ENODEV no UART answered, -ENOSPC the list is full. */
int serial_add_port(uint16_t port);
/* The port the ACPI SPCR table names, added to the log (kernel/acpi/spcr.c). */
void serial_add_spcr(void);
bool serial_present(void);
/* The second port (COM2, 0x2f8): user processes' console output only. */
void serial2_write(const char *s, size_t n);
/* Every log port (COM2 until programs write there), with \n sent as
 * \r\n (the kernel log). */
void serial_write(const char *s, size_t n);
/* COM1, byte for byte (the terminal's output, processed by its c_oflag). */
void serial_write_raw(const char *s, size_t n);
/* COM1's receive interrupt (IRQ 4) feeding console_receive: true when on. */
bool serial_input_init(void);
/* The PS/2 keyboard (IRQ 1) feeding console_receive: true when one answered. */
bool keyboard_init(void);

/* ---- the console terminal (kernel/console/console_tty.c) -------------------- */

struct tty;
/* The console's struct tty (include/kernel/tty.h), set up at first use:
 * controlling terminal of session 1 (init's), foreground group 1. */
struct tty *console_tty(void);
/* Bytes typed on COM1 or the keyboard (interrupt context). */
void console_receive(const char *s, size_t n);
/* Switch on the input devices (after apic_init): COM1's interrupt and the
 * PS/2 keyboard. */
void console_input_init(void);
/* Did an input device come up?  Without one the console reads end of file. */
bool console_has_input(void);

/*
 * Take over the framebuffer described by the loader.  The top text row
 * holds a fixed title bar (`title`, drawn once, never scrolled); the rest
 * scrolls.  Returns false when there is no usable framebuffer or font.
 */
bool fbcon_init(const struct boot_framebuffer *fb, const char *title);
bool fbcon_active(void);
void fbcon_write(const char *s, size_t n);

/* Geometry, colours and counters, for tests that check the pixels. */
struct fbcon_info {
    uint32_t cols, rows;        /* text cells, title row included */
    uint32_t glyph_w, glyph_h;  /* pixels */
    uint32_t fg, bg, title_fg, title_bg; /* 0xRRGGBB */
    uint32_t ring_top;          /* ring index of the first row under the title */
    uint32_t cursor_col, cursor_row;     /* row 1 is the first under the title */
    uint64_t scrolls, flushes, cells_drawn;
};
void fbcon_get_info(struct fbcon_info *out);
/*
 * Sharing the screen with the memory map (kernel/console/memview.c):
 * the text grid keeps every column, but only columns 0..n-1 are drawn
 * (n = FBCON_ALL_COLS or the grid's width: all of them); giving columns
 * back redraws them from the grid.  The title row is never given away.
 * fill_rect and draw_text paint pixels directly (colours 0xRRGGBB,
 * clipped to the screen): the map's cells and labels.
 */
#define FBCON_ALL_COLS 0xffffffffu
void fbcon_set_text_cols(uint32_t n);
void fbcon_fill_rect(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t rgb);
void fbcon_draw_text(uint32_t x, uint32_t y, const char *s, uint32_t fg, uint32_t bg);
/* Stop drawing (a fault inside the console itself: serial only from now). */
void fbcon_disable(void);
/*
 * The console starts on the loader's direct map of the framebuffer; the
 * kernel then maps it itself (ioremap_wc: write-combining through PAT)
 * and hands the new address over with fbcon_set_mapping, once its own
 * tables are loaded.
 */
uint64_t fbcon_mapping_bytes(void);
void fbcon_set_mapping(void *base);
/*
 * Draw what is still pending: fbcon_write defers the redraw during a burst
 * of scrolling (kernel/console/fbcon.c).  The timer tick, panic and the
 * halts call it; cheap when nothing is pending.
 */
void fbcon_flush(void);
/*
 * How long a burst of scrolling output may go undrawn: 20 ms at boot.
 * Returns the previous interval.  0 redraws after every write (a console
 * without deferral: the benchmark's baseline); FBCON_NO_TIMED_FLUSH waits
 * for fbcon_flush (the tests: what is drawn no longer depends on time).
 */
#define FBCON_NO_TIMED_FLUSH 0xffffffffu
uint32_t fbcon_set_flush_interval(uint32_t ms);
/* The byte in text row `row` (1 = the first under the title), column col,
 * as the ring of rows holds it, drawn or not; -1 outside the grid. */
int fbcon_text_at(uint32_t row, uint32_t col);
/* Colour of pixel (x, y) as 0xRRGGBB, read back from the framebuffer. */
uint32_t fbcon_read_pixel(uint32_t x, uint32_t y);
/*
 * The glyph bitmap row for byte `c` (bit 7 of byte 0 is the leftmost
 * pixel), or NULL; for tests comparing what was drawn with the font.
 */
const uint8_t *fbcon_glyph(unsigned char c, uint32_t *bytes_per_row);

#endif
