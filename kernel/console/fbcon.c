/*
 * Framebuffer text console.
 *
 * Text is drawn with a PSF font (kernel/console/psf.c) onto the linear
 * framebuffer the loader got from UEFI's GOP.  The top text row is a
 * title bar drawn once; rows 1..rows-1 scroll.
 *
 * The console keeps the screen as text, not pixels: a grid of cells (a
 * byte and its colours, 16 bits) for the scrolling rows, kept as a RING
 * of rows.  Scrolling moves the ring's start (`top`) and clears one row
 * of cells: a few hundred bytes, whatever the resolution.  A second grid,
 * `shown`, records what the framebuffer displays.  Drawing (fbcon_flush)
 * compares the two cell by cell and draws only the cells that differ,
 * straight into video memory, which it never reads back.
 *
 * When a flush happens: at the end of every fbcon_write, unless rows
 * scrolled since the last flush and that flush is less than
 * FLUSH_INTERVAL_MS old (fbcon_set_flush_interval changes the interval:
 * 0 draws after every write, FBCON_NO_TIMED_FLUSH only on fbcon_flush).  A burst of output (the boot log, a program
 * printing thousands of lines) thus costs one redraw per interval rather
 * than one per line, and lines that scroll away unseen are never drawn.
 * What is left pending is drawn by the timer tick (kernel/cpu/trap.c,
 * while a program runs or the CPU idles), before a halt (kernel/boot/main.c)
 * and by panic.
 *
 * Invariants:
 *  - screen row s (0 = the first row under the title) shows ring row
 *    (top + s) % nrows; every cell of the ring holds a byte and colours;
 *  - shown[s][c] is what the pixels of screen cell (s, c) show (the cursor
 *    bit included), unless bit s of `dirty` is set, in which case they may
 *    be anything the text grid said since the last flush of row s, or
 *    c >= text_cols: the memory map (kernel/console/memview.c) owns those
 *    columns' pixels, and fbcon_set_text_cols makes shown disagree with
 *    the grid there when it gives them back.
 *
 * Escape sequences: a small part of ECMA-48 / the VT100, enough for a
 * shell's line editor: cursor moves (CUU CUD CUF CUB CNL CPL CHA VPA CUP),
 * erase in display and line (ED, EL), erase characters (ECH), colours
 * (SGR 0, 1, 7, 22, 27, 30-37, 39, 40-47, 49, 90-97), cursor on/off
 * (DECTCEM), save/restore (ESC 7, ESC 8) and reset (ESC c).  Anything else
 * is swallowed.  '\n' also returns to column 0 (printk relies on it).
 */
#include <kernel/apic.h>
#include <kernel/console.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include "psf.h"

extern const uint8_t font_psf_start[], font_psf_end[];

#define MAX_COLS 256
#define MAX_ROWS 128                 /* scrolling rows kept: larger screens use the top part */
#define FLUSH_INTERVAL_MS 20

/* A cell: byte | fg << 8 | bg << 12, palette indices; the cursor bit only in shown. */
typedef uint16_t cell_t;
#define CELL_CURSOR 0x8000u
#define ATTR_DEFAULT 0x07u           /* fg 7 on bg 0, as a VGA text console */
#define BLANK(attr) ((cell_t)(' ' | (attr) << 8))

static cell_t text[MAX_ROWS * MAX_COLS];   /* the ring of scrolling rows */
static cell_t shown[MAX_ROWS * MAX_COLS];  /* what the pixels show, by screen row */
static uint64_t dirty[MAX_ROWS / 64];

/* Palette: 0-7 the ANSI colours (0 and 7 are the console's own bg and fg),
 * 8-15 their bright versions. */
static const uint32_t palette_rgb[16] = {
    0x101828, 0xc03030, 0x30a030, 0xc0a030, 0x3050c0, 0xa040a0, 0x30a0a0, 0xd0d0d0,
    0x606878, 0xff5050, 0x50e050, 0xffe050, 0x6080ff, 0xe070e0, 0x60e0e0, 0xffffff,
};

static struct {
    bool active;
    uint8_t *base;                 /* the framebuffer (video memory) */
    uint32_t width, height, pitch;
    uint32_t rshift, gshift, bshift;
    struct psf_font font;
    uint32_t packed[16];           /* the palette in the framebuffer's pixel format */
    uint32_t cols, rows;           /* text cells on the screen, title row included */
    uint32_t text_cols;            /* columns drawn: cols, fewer while memview owns the rest */
    uint32_t nrows;                /* scrolling rows: the ring's size */
    uint32_t top;                  /* ring index of screen row 0 */
    uint32_t cx, cy;               /* cursor: column (cols = past the end), screen row */
    uint8_t attr;                  /* colours of what is written now */
    bool bold, reverse, cursor_on;
    uint32_t saved_cx, saved_cy;
    /* escape parser */
    enum { ST_TEXT, ST_ESC, ST_CSI } st;
    bool csi_private;
    uint32_t npar;
    uint32_t par[8];
    /* flushing */
    bool pending;                  /* written to since the last flush */
    bool scrolled;                 /* rows moved since the last flush */
    uint64_t last_flush;           /* TSC */
    uint32_t interval_ms;          /* FLUSH_INTERVAL_MS unless a test or bench changed it */
    uint32_t cur_drawn_s;          /* screen row where the cursor was last drawn */
    uint64_t scrolls, flushes, cells_drawn;
    uint32_t fg, bg, title_fg, title_bg; /* 0xRRGGBB */
} fc;

static uint32_t mask_shift(uint32_t mask)
{
    return mask ? (uint32_t)__builtin_ctz(mask) : 0;
}

static uint32_t pack(uint32_t rgb)
{
    uint32_t r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
    return r << fc.rshift | g << fc.gshift | b << fc.bshift;
}

static uint32_t unpack(uint32_t px)
{
    return ((px >> fc.rshift) & 0xff) << 16 | ((px >> fc.gshift) & 0xff) << 8 |
           ((px >> fc.bshift) & 0xff);
}

static inline uint32_t *pixel_at(uint32_t x, uint32_t y)
{
    return (uint32_t *)(fc.base + (size_t)y * fc.pitch) + x;
}

static void fill_rect(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t rgb)
{
    uint32_t px = pack(rgb);
    for (uint32_t j = 0; j < h; j++) {
        uint32_t *row = pixel_at(x, y + j);
        for (uint32_t i = 0; i < w; i++)
            row[i] = px;
    }
}

const uint8_t *fbcon_glyph(unsigned char c, uint32_t *bytes_per_row)
{
    if (!fc.font.glyphs)
        return NULL;
    *bytes_per_row = fc.font.row_bytes;
    return psf_glyph(&fc.font, c);
}

/* Draw byte c in text cell (col, row) with packed colours; the cursor is
 * an underline: the glyph's last two pixel rows in the foreground. */
static void draw_glyph(uint32_t col, uint32_t row, unsigned char c, uint32_t pf, uint32_t pb,
                       bool cursor)
{
    const uint8_t *g = psf_glyph(&fc.font, c);
    uint32_t gw = fc.font.width, gh = fc.font.height;
    for (uint32_t y = 0; y < gh; y++) {
        uint32_t *dst = pixel_at(col * gw, row * gh + y);
        const uint8_t *bits = g + y * fc.font.row_bytes;
        if (cursor && y + 2 >= gh) {
            for (uint32_t x = 0; x < gw; x++)
                dst[x] = pf;
        } else if (gw == 8) {
            uint32_t b = bits[0];
            for (uint32_t x = 0; x < 8; x++)
                dst[x] = (b & (0x80u >> x)) ? pf : pb;
        } else {
            for (uint32_t x = 0; x < gw; x++)
                dst[x] = (bits[x / 8] & (0x80 >> (x % 8))) ? pf : pb;
        }
    }
}

static void draw_cell(uint32_t c, uint32_t s, cell_t v)
{
    uint32_t fg = (v >> 8) & 15, bg = (v >> 12) & 7;
    draw_glyph(c, s + 1, (unsigned char)v, fc.packed[fg], fc.packed[bg], v & CELL_CURSOR);
    fc.cells_drawn++;
}

/* ---- the grid --------------------------------------------------------------- */

static inline cell_t *ring_row(uint32_t s)
{
    return &text[(size_t)((fc.top + s) % fc.nrows) * fc.cols];
}

static void mark(uint32_t s)
{
    dirty[s / 64] |= 1ul << (s % 64);
}

static void mark_all(void)
{
    for (uint32_t s = 0; s < fc.nrows; s++)
        mark(s);
}

static void clear_cells(uint32_t s, uint32_t from, uint32_t to)
{
    cell_t *r = ring_row(s);
    cell_t b = BLANK((fc.attr & 0x70u) | (ATTR_DEFAULT & 0x0fu));   /* default fg, current bg */
    for (uint32_t c = from; c < to && c < fc.cols; c++)
        r[c] = b;
    mark(s);
}

static void scroll_up(void)
{
    fc.top = (fc.top + 1) % fc.nrows;
    clear_cells(fc.nrows - 1, 0, fc.cols);
    fc.scrolls++;
    fc.scrolled = true;
    mark_all();
}

static void line_feed(void)
{
    if (fc.cy + 1 < fc.nrows)
        fc.cy++;
    else
        scroll_up();
}

/* The colours of what is written now, bold and reverse applied, as a cell's high byte. */
static cell_t cur_attr(void)
{
    uint8_t a = fc.attr;
    if (fc.bold && (a & 0x0f) < 8)
        a = (uint8_t)(a | 0x08);
    if (fc.reverse)
        a = (uint8_t)((a & 0x07) << 4 | (a >> 4 & 0x07));
    return (cell_t)(a << 8);
}

static bool printable(unsigned char c)
{
    return c >= 32 && c != 127;      /* other control bytes (the bell...) draw nothing */
}

/* Printable bytes from s[0..n) into the current row, wrapping first if the
 * row is full; stops at the row's end or at a control byte.  Returns how
 * many were taken (at least one: s[0] is printable). */
static size_t put_run(const unsigned char *s, size_t n)
{
    if (fc.cx >= fc.cols) {          /* the previous character filled the row: wrap */
        fc.cx = 0;
        line_feed();
    }
    cell_t *row = ring_row(fc.cy), a = cur_attr();
    uint32_t cx = fc.cx;
    size_t i = 0;
    while (i < n && cx < fc.cols && printable(s[i]))
        row[cx++] = (cell_t)(s[i++] | a);
    fc.cx = cx;
    mark(fc.cy);
    return i;
}

/* ---- escape sequences ---------------------------------------------------------- */

static uint32_t par(uint32_t i, uint32_t dflt)
{
    return i < fc.npar && fc.par[i] ? fc.par[i] : dflt;
}

static void sgr(void)
{
    if (fc.npar == 0)
        fc.npar = 1, fc.par[0] = 0;
    for (uint32_t i = 0; i < fc.npar; i++) {
        uint32_t p = fc.par[i];
        if (p == 0) {
            fc.attr = ATTR_DEFAULT;
            fc.bold = fc.reverse = false;
        } else if (p == 1) {
            fc.bold = true;
        } else if (p == 22) {
            fc.bold = false;
        } else if (p == 7) {
            fc.reverse = true;
        } else if (p == 27) {
            fc.reverse = false;
        } else if (p >= 30 && p <= 37) {
            fc.attr = (uint8_t)((fc.attr & 0x70) | (p - 30));
        } else if (p >= 90 && p <= 97) {
            fc.attr = (uint8_t)((fc.attr & 0x70) | (p - 90 + 8));
        } else if (p == 39) {
            fc.attr = (uint8_t)((fc.attr & 0x70) | (ATTR_DEFAULT & 0x0f));
        } else if (p >= 40 && p <= 47) {
            fc.attr = (uint8_t)((fc.attr & 0x0f) | (p - 40) << 4);
        } else if (p == 49) {
            fc.attr = (uint8_t)(fc.attr & 0x0f);
        }
    }
}

static void csi_final(unsigned char f)
{
    uint32_t n = par(0, 1);
    uint32_t last = fc.nrows - 1;
    if (fc.cx >= fc.cols)
        fc.cx = fc.cols - 1;         /* a pending wrap ends with any move */
    switch (f) {
    case 'A': fc.cy = fc.cy > n ? fc.cy - n : 0; break;
    case 'B': fc.cy = MIN(fc.cy + n, last); break;
    case 'C': fc.cx = MIN(fc.cx + n, fc.cols - 1); break;
    case 'D': fc.cx = fc.cx > n ? fc.cx - n : 0; break;
    case 'E': fc.cy = MIN(fc.cy + n, last); fc.cx = 0; break;
    case 'F': fc.cy = fc.cy > n ? fc.cy - n : 0; fc.cx = 0; break;
    case 'G': fc.cx = MIN(n, fc.cols) - 1; break;
    case 'd': fc.cy = MIN(n, fc.nrows) - 1; break;
    case 'H': case 'f':
        fc.cy = MIN(par(0, 1), fc.nrows) - 1;
        fc.cx = MIN(par(1, 1), fc.cols) - 1;
        break;
    case 'J': {
        uint32_t how = par(0, 0);
        if (how == 0) {
            clear_cells(fc.cy, fc.cx, fc.cols);
            for (uint32_t s = fc.cy + 1; s < fc.nrows; s++)
                clear_cells(s, 0, fc.cols);
        } else if (how == 1) {
            for (uint32_t s = 0; s < fc.cy; s++)
                clear_cells(s, 0, fc.cols);
            clear_cells(fc.cy, 0, fc.cx + 1);
        } else {
            for (uint32_t s = 0; s < fc.nrows; s++)
                clear_cells(s, 0, fc.cols);
        }
        break;
    }
    case 'K': {
        uint32_t how = par(0, 0);
        clear_cells(fc.cy, how == 0 ? fc.cx : 0, how == 1 ? fc.cx + 1 : fc.cols);
        break;
    }
    case 'X': clear_cells(fc.cy, fc.cx, fc.cx + n); break;
    case 'm': sgr(); break;
    case 'h': case 'l':
        if (fc.csi_private && par(0, 0) == 25)
            fc.cursor_on = f == 'h';
        break;
    default:
        break;                       /* not ours: swallowed */
    }
}

static void reset(void)
{
    fc.attr = ATTR_DEFAULT;
    fc.bold = fc.reverse = false;
    fc.cursor_on = true;
    for (uint32_t s = 0; s < fc.nrows; s++)
        clear_cells(s, 0, fc.cols);
    fc.cx = fc.cy = 0;
}

static void feed(unsigned char c)
{
    switch (fc.st) {
    case ST_ESC:
        fc.st = ST_TEXT;
        if (c == '[') {
            fc.st = ST_CSI;
            fc.npar = 0;
            fc.csi_private = false;
            memset(fc.par, 0, sizeof(fc.par));
        } else if (c == '7') {
            fc.saved_cx = fc.cx, fc.saved_cy = fc.cy;
        } else if (c == '8') {
            fc.cx = MIN(fc.saved_cx, fc.cols), fc.cy = MIN(fc.saved_cy, fc.nrows - 1);
        } else if (c == 'c') {
            reset();
        }
        return;
    case ST_CSI:
        if (c >= '0' && c <= '9') {
            if (fc.npar == 0)
                fc.npar = 1;
            uint32_t *p = &fc.par[fc.npar - 1];
            if (*p < 10000)
                *p = *p * 10 + (c - '0');
        } else if (c == ';') {
            if (fc.npar == 0)
                fc.npar = 1;
            if (fc.npar < ARRAY_SIZE(fc.par))
                fc.npar++;
        } else if (c == '?') {
            fc.csi_private = true;
        } else if (c >= 0x40 && c <= 0x7e) {
            fc.st = ST_TEXT;
            csi_final(c);
        } else if (c == 0x1b) {
            fc.st = ST_ESC;          /* an interrupted sequence starts over */
        }
        return;
    case ST_TEXT:
        break;
    }
    switch (c) {
    case 0x1b:
        fc.st = ST_ESC;
        break;
    case '\n': case '\v': case '\f':
        fc.cx = 0;
        line_feed();
        break;
    case '\r':
        fc.cx = 0;
        break;
    case '\t':
        if (fc.cx >= fc.cols) {
            fc.cx = 0;
            line_feed();
        }
        fc.cx = MIN((fc.cx | 7) + 1, fc.cols - 1);
        break;
    case '\b':
        if (fc.cx >= fc.cols)
            fc.cx = fc.cols - 1;
        if (fc.cx)
            fc.cx--;
        break;
    default:
        if (printable(c))
            put_run(&c, 1);
    }
}

/* ---- drawing what changed ------------------------------------------------------ */

static uint64_t flush_interval(void)
{
    if (fc.interval_ms == FBCON_NO_TIMED_FLUSH)
        return ~0ul;
    uint64_t hz = tsc_hz();
    return (hz ? hz : 2000000000ul) / 1000 * fc.interval_ms;
}

uint32_t fbcon_set_flush_interval(uint32_t ms)
{
    uint32_t old = fc.interval_ms;
    fc.interval_ms = ms;
    return old;
}

void fbcon_flush(void)
{
    if (!fc.active || !fc.pending)
        return;                      /* the timer tick's usual case: nothing to do */
    uint32_t cur_s = fc.cy, cur_c = MIN(fc.cx, fc.cols - 1);
    mark(cur_s);                     /* the cursor's old and new rows */
    mark(fc.cur_drawn_s);
    for (uint32_t w = 0; w < ARRAY_SIZE(dirty); w++) {
        while (dirty[w]) {
            uint32_t s = w * 64 + (uint32_t)__builtin_ctzl(dirty[w]);
            dirty[w] &= dirty[w] - 1;
            if (s >= fc.nrows)
                continue;
            const cell_t *want = ring_row(s);
            cell_t *have = &shown[(size_t)s * fc.cols];
            for (uint32_t c = 0; c < fc.text_cols; c++) {
                cell_t v = want[c];
                if (fc.cursor_on && s == cur_s && c == cur_c)
                    v |= CELL_CURSOR;
                if (v != have[c]) {
                    draw_cell(c, s, v);
                    have[c] = v;
                }
            }
        }
    }
    fc.cur_drawn_s = cur_s;
    fc.pending = false;
    fc.scrolled = false;
    fc.flushes++;
    fc.last_flush = rdtsc();
}

void fbcon_write(const char *s, size_t n)
{
    if (!fc.active)
        return;
    fc.pending = true;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (fc.st == ST_TEXT && printable(u[i]))
            i += put_run(u + i, n - i);      /* plain text: a row at a time */
        else
            feed(u[i++]);
    }
    if (fc.scrolled && rdtsc() - fc.last_flush < flush_interval())
        return;                      /* a burst: the next flush draws the result */
    fbcon_flush();
}

/* ---- setting up -------------------------------------------------------------------- */

bool fbcon_init(const struct boot_framebuffer *fb, const char *title)
{
    if (fb->format == BOOT_FB_NONE || fb->phys == 0 || fb->width == 0 ||
        fb->height == 0 || fb->pitch < fb->width * 4 ||
        (uint64_t)fb->pitch * fb->height > fb->size)
        return false;
    if (!psf_parse(&fc.font, font_psf_start, font_psf_end))
        return false;
    switch (fb->format) {
    case BOOT_FB_RGBX:
        fc.rshift = 0, fc.gshift = 8, fc.bshift = 16;
        break;
    case BOOT_FB_BGRX:
        fc.rshift = 16, fc.gshift = 8, fc.bshift = 0;
        break;
    default:
        fc.rshift = mask_shift(fb->red_mask);
        fc.gshift = mask_shift(fb->green_mask);
        fc.bshift = mask_shift(fb->blue_mask);
    }
    fc.base = (uint8_t *)(BOOT_DIRECT_MAP_BASE + fb->phys);
    fc.width = fb->width;
    fc.height = fb->height;
    fc.pitch = fb->pitch;
    fc.cols = MIN(fc.width / fc.font.width, MAX_COLS);
    fc.rows = MIN(fc.height / fc.font.height, MAX_ROWS + 1);
    if (fc.cols < 20 || fc.rows < 3)
        return false;
    fc.nrows = fc.rows - 1;
    fc.text_cols = fc.cols;
    fc.fg = palette_rgb[ATTR_DEFAULT & 0x0f];
    fc.bg = palette_rgb[0];
    fc.title_fg = 0x101828;
    fc.title_bg = 0x60c0c0;
    for (int i = 0; i < 16; i++)
        fc.packed[i] = pack(palette_rgb[i]);

    /* The screen, the title, and the grids agreeing with it: all blank. */
    fill_rect(0, 0, fc.width, fc.height, fc.bg);
    fill_rect(0, 0, fc.width, fc.font.height, fc.title_bg);
    uint32_t tf = pack(fc.title_fg), tb = pack(fc.title_bg);
    for (uint32_t i = 0; title[i] && i < fc.cols; i++)
        draw_glyph(i, 0, (unsigned char)title[i], tf, tb, false);
    fc.top = 0;
    fc.attr = ATTR_DEFAULT;
    for (uint32_t i = 0; i < fc.nrows * fc.cols; i++)
        text[i] = shown[i] = BLANK(ATTR_DEFAULT);
    fc.cx = fc.cy = 0;
    fc.cursor_on = true;
    fc.interval_ms = FLUSH_INTERVAL_MS;
    fc.active = true;
    fc.pending = true;
    fbcon_flush();
    return true;
}

bool fbcon_active(void)
{
    return fc.active;
}

void fbcon_get_info(struct fbcon_info *out)
{
    out->cols = fc.cols;
    out->rows = fc.rows;
    out->glyph_w = fc.font.width;
    out->glyph_h = fc.font.height;
    out->fg = fc.fg;
    out->bg = fc.bg;
    out->title_fg = fc.title_fg;
    out->title_bg = fc.title_bg;
    out->ring_top = fc.top;
    out->cursor_col = fc.cx;
    out->cursor_row = fc.cy + 1;
    out->scrolls = fc.scrolls;
    out->flushes = fc.flushes;
    out->cells_drawn = fc.cells_drawn;
}

int fbcon_text_at(uint32_t row, uint32_t col)
{
    if (!fc.active || row < 1 || row > fc.nrows || col >= fc.cols)
        return -1;
    return (unsigned char)ring_row(row - 1)[col];
}

uint32_t fbcon_read_pixel(uint32_t x, uint32_t y)
{
    if (!fc.active || x >= fc.width || y >= fc.height)
        return 0;
    return unpack(*pixel_at(x, y));
}

uint64_t fbcon_mapping_bytes(void)
{
    return fc.active ? (uint64_t)fc.pitch * fc.height : 0;
}

void fbcon_set_mapping(void *base)
{
    if (fc.active && base)
        fc.base = base;              /* the same pixels, through another mapping */
}

/* ---- sharing the screen with the memory map (kernel/console/memview.c) ------------- */

void fbcon_set_text_cols(uint32_t n)
{
    if (!fc.active)
        return;
    n = MIN(n, fc.cols);
    uint32_t old = fc.text_cols;
    fc.text_cols = n;
    if (n <= old)
        return;                      /* the columns given up keep their pixels until drawn over */
    /* Columns old..n-1 show something else: make `shown` disagree with
     * the text there (the byte flipped), so that the flush redraws them. */
    for (uint32_t s = 0; s < fc.nrows; s++) {
        const cell_t *want = ring_row(s);
        cell_t *have = &shown[(size_t)s * fc.cols];
        for (uint32_t c = old; c < n; c++)
            have[c] = (cell_t)(want[c] ^ 0xff);
    }
    mark_all();
    fc.pending = true;
    fbcon_flush();
}

void fbcon_fill_rect(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t rgb)
{
    if (!fc.active || x >= fc.width || y >= fc.height)
        return;
    fill_rect(x, y, MIN(w, fc.width - x), MIN(h, fc.height - y), rgb);
}

void fbcon_draw_text(uint32_t x, uint32_t y, const char *s, uint32_t fg, uint32_t bg)
{
    if (!fc.active)
        return;
    uint32_t pf = pack(fg), pb = pack(bg), gw = fc.font.width, gh = fc.font.height;
    if (y + gh > fc.height)
        return;
    for (; *s && x + gw <= fc.width; s++, x += gw) {
        const uint8_t *g = psf_glyph(&fc.font, (unsigned char)*s);
        for (uint32_t j = 0; j < gh; j++) {
            uint32_t *dst = pixel_at(x, y + j);
            const uint8_t *bits = g + j * fc.font.row_bytes;
            for (uint32_t i = 0; i < gw; i++)
                dst[i] = (bits[i / 8] & (0x80 >> (i % 8))) ? pf : pb;
        }
    }
}

void fbcon_disable(void)
{
    fc.active = false;
}
