/*
 * Framebuffer text console.
 *
 * Draws text with a PSF font (PSF1 or PSF2, from Debian's console-setup
 * fonts, embedded at build time by kernel/console/font.S) onto the linear
 * framebuffer the loader got from UEFI's GOP.  The top text row is a
 * title bar drawn once; rows 1..rows-1 scroll.
 *
 * A console font stores its glyphs in its own order; a table after the
 * glyphs lists the Unicode code points each glyph draws.  We read that
 * table once to map bytes 0..255 (taken as Latin-1) to glyph numbers.
 *
 * Scrolling copies lines upwards.  Early in boot, before vm_init sets up
 * vmalloc, it does so in video memory itself, reading it back (slow on
 * real hardware, where the framebuffer is uncached); from vm_init on, the
 * console draws in a shadow copy in RAM (when vmalloc could give one)
 * and only writes the changed rectangles to video memory, which is mapped
 * write-combining (docs/consoles.md).
 */
#include <kernel/console.h>
#include <kernel/string.h>

extern const uint8_t font_psf_start[], font_psf_end[];

#define PSF1_MAGIC0 0x36
#define PSF1_MAGIC1 0x04
#define PSF1_MODE512 0x01
#define PSF1_MODEHASTAB 0x02
#define PSF2_MAGIC 0x864ab572u
#define PSF2_HAS_UNICODE_TABLE 0x01

static struct {
    bool active;
    uint8_t *base;                 /* the framebuffer (video memory) */
    uint8_t *draw;                 /* where drawing happens: the shadow, or base */
    uint8_t *shadow;               /* a copy in RAM (vmalloc), or NULL */
    uint32_t width, height, pitch;
    uint32_t rshift, gshift, bshift;
    const uint8_t *glyphs;         /* glyph bitmaps */
    uint32_t nglyphs, glyph_bytes, gw, gh, row_bytes;
    uint16_t map[256];             /* byte -> glyph number */
    uint32_t cols, rows, cx, cy;
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

static void map_codepoint(uint32_t cp, uint32_t glyph)
{
    if (cp < 256 && fc.map[cp] == 0xffff)
        fc.map[cp] = (uint16_t)glyph;
}

static bool font_parse(void)
{
    const uint8_t *f = font_psf_start, *end = font_psf_end;
    size_t len = (size_t)(end - f);
    bool has_table;

    for (int i = 0; i < 256; i++)
        fc.map[i] = 0xffff;
    if (len >= 4 && f[0] == PSF1_MAGIC0 && f[1] == PSF1_MAGIC1) {
        fc.nglyphs = (f[2] & PSF1_MODE512) ? 512 : 256;
        fc.gh = f[3];
        fc.gw = 8;
        fc.glyph_bytes = fc.gh;
        fc.glyphs = f + 4;
        has_table = f[2] & PSF1_MODEHASTAB;
    } else if (len >= 32 && *(const uint32_t *)f == PSF2_MAGIC) {
        const uint32_t *h = (const uint32_t *)f;
        fc.glyphs = f + h[2];
        has_table = h[3] & PSF2_HAS_UNICODE_TABLE;
        fc.nglyphs = h[4];
        fc.glyph_bytes = h[5];
        fc.gh = h[6];
        fc.gw = h[7];
    } else {
        return false;
    }
    fc.row_bytes = (fc.gw + 7) / 8;
    if (fc.gw == 0 || fc.gh == 0 || fc.gw > 32 || fc.gh > 64 ||
        fc.glyph_bytes < fc.row_bytes * fc.gh ||
        fc.glyphs + (size_t)fc.nglyphs * fc.glyph_bytes > end)
        return false;

    const uint8_t *t = fc.glyphs + (size_t)fc.nglyphs * fc.glyph_bytes;
    if (!has_table) {
        for (uint32_t i = 0; i < 256 && i < fc.nglyphs; i++)
            fc.map[i] = (uint16_t)i;
    } else if (f[0] == PSF1_MAGIC0) {
        /* PSF1: per glyph, 16-bit code points, 0xfffe starts sequences, 0xffff ends */
        for (uint32_t g = 0; g < fc.nglyphs && t + 2 <= end; g++) {
            bool in_seq = false;
            for (; t + 2 <= end; t += 2) {
                uint16_t u = (uint16_t)(t[0] | t[1] << 8);
                if (u == 0xffff) { t += 2; break; }
                if (u == 0xfffe) in_seq = true;
                else if (!in_seq) map_codepoint(u, g);
            }
        }
    } else {
        /* PSF2: per glyph, UTF-8 code points, 0xfe starts sequences, 0xff ends */
        for (uint32_t g = 0; g < fc.nglyphs && t < end; g++) {
            bool in_seq = false;
            while (t < end) {
                if (*t == 0xff) { t++; break; }
                if (*t == 0xfe) { in_seq = true; t++; continue; }
                uint32_t cp = 0;
                t += utf8_decode(t, end, &cp);
                if (!in_seq) map_codepoint(cp, g);
            }
        }
    }
    uint16_t fallback = fc.map['?'] != 0xffff ? fc.map['?'] : 0;
    for (int i = 0; i < 256; i++)
        if (fc.map[i] == 0xffff)
            fc.map[i] = fallback;
    return true;
}

static inline uint32_t *pixel_at(uint32_t x, uint32_t y)
{
    return (uint32_t *)(fc.draw + (size_t)y * fc.pitch) + x;
}

/*
 * With a shadow buffer, drawing happens in RAM and the changed rectangle
 * is then copied to video memory: the console never reads video memory
 * (uncached or write-combining, so reads are slow on real hardware),
 * and its writes are long sequential runs, what write-combining is for.
 */
static void flush_rect(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    if (!fc.shadow)
        return;
    for (uint32_t j = y; j < y + h; j++) {
        size_t off = (size_t)j * fc.pitch + (size_t)x * 4;
        const uint64_t *src = (const uint64_t *)(fc.shadow + off);
        uint64_t *dst = (uint64_t *)(fc.base + off);
        uint32_t i = 0;
        if (!(off & 7)) {
            for (; i + 2 <= w; i += 2)
                *dst++ = *src++;
        }
        for (; i < w; i++)
            ((uint32_t *)(fc.base + off))[i] = ((const uint32_t *)(fc.shadow + off))[i];
    }
}

static void fill_rect(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t rgb)
{
    uint32_t px = pack(rgb);
    for (uint32_t j = 0; j < h; j++) {
        uint32_t *row = pixel_at(x, y + j);
        for (uint32_t i = 0; i < w; i++)
            row[i] = px;
    }
    flush_rect(x, y, w, h);
}

const uint8_t *fbcon_glyph(unsigned char c, uint32_t *bytes_per_row)
{
    if (!fc.glyphs)
        return NULL;
    *bytes_per_row = fc.row_bytes;
    return fc.glyphs + (size_t)fc.map[c] * fc.glyph_bytes;
}

static void draw_char(uint32_t col, uint32_t row, unsigned char c, uint32_t fg,
                      uint32_t bg)
{
    const uint8_t *g = fc.glyphs + (size_t)fc.map[c] * fc.glyph_bytes;
    uint32_t pf = pack(fg), pb = pack(bg);
    for (uint32_t y = 0; y < fc.gh; y++) {
        uint32_t *dst = pixel_at(col * fc.gw, row * fc.gh + y);
        const uint8_t *bits = g + y * fc.row_bytes;
        for (uint32_t x = 0; x < fc.gw; x++)
            dst[x] = (bits[x / 8] & (0x80 >> (x % 8))) ? pf : pb;
    }
    flush_rect(col * fc.gw, row * fc.gh, fc.gw, fc.gh);
}

static void scroll(void)
{
    /* Move text rows 2..rows-1 up to 1..rows-2, then clear the last row. */
    uint32_t first = 1 * fc.gh, last = fc.rows * fc.gh;
    for (uint32_t y = first; y + fc.gh < last; y++) {
        uint64_t *dst = (uint64_t *)(fc.draw + (size_t)y * fc.pitch);
        const uint64_t *src = (const uint64_t *)(fc.draw + (size_t)(y + fc.gh) * fc.pitch);
        uint32_t pixels = fc.cols * fc.gw;
        for (uint32_t i = 0; i < pixels / 2; i++)
            dst[i] = src[i];
        if (pixels & 1) /* an odd width: the last pixel alone */
            ((uint32_t *)dst)[pixels - 1] = ((const uint32_t *)src)[pixels - 1];
    }
    flush_rect(0, first, fc.cols * fc.gw, last - fc.gh - first);
    fill_rect(0, (fc.rows - 1) * fc.gh, fc.cols * fc.gw, fc.gh, fc.bg);
}

static void newline(void)
{
    fc.cx = 0;
    if (fc.cy + 1 < fc.rows)
        fc.cy++;
    else
        scroll();
}

void fbcon_write(const char *s, size_t n)
{
    if (!fc.active)
        return;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '\n':
            newline();
            break;
        case '\r':
            fc.cx = 0;
            break;
        case '\t':
            do {
                fbcon_write(" ", 1);
            } while (fc.cx % 8);
            break;
        case '\b':
            if (fc.cx)
                fc.cx--;
            break;
        default:
            if (fc.cx >= fc.cols)
                newline();
            draw_char(fc.cx++, fc.cy, c, fc.fg, fc.bg);
        }
    }
}

bool fbcon_init(const struct boot_framebuffer *fb, const char *title)
{
    if (fb->format == BOOT_FB_NONE || fb->phys == 0 || fb->width == 0 ||
        fb->height == 0 || fb->pitch < fb->width * 4 ||
        (uint64_t)fb->pitch * fb->height > fb->size)
        return false;
    if (!font_parse())
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
    fc.draw = fc.base;
    fc.width = fb->width;
    fc.height = fb->height;
    fc.pitch = fb->pitch;
    fc.cols = fc.width / fc.gw;
    fc.rows = fc.height / fc.gh;
    if (fc.cols < 20 || fc.rows < 3)
        return false;
    fc.fg = 0xd0d0d0;
    fc.bg = 0x101828;
    fc.title_fg = 0x101828;
    fc.title_bg = 0x60c0c0;

    fill_rect(0, 0, fc.width, fc.height, fc.bg);
    fill_rect(0, 0, fc.width, fc.gh, fc.title_bg);
    for (uint32_t i = 0; title[i] && i < fc.cols; i++)
        draw_char(i, 0, (unsigned char)title[i], fc.title_fg, fc.title_bg);
    fc.cx = 0;
    fc.cy = 1;
    fc.active = true;
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
    out->glyph_w = fc.gw;
    out->glyph_h = fc.gh;
    out->fg = fc.fg;
    out->bg = fc.bg;
    out->title_fg = fc.title_fg;
    out->title_bg = fc.title_bg;
}

uint32_t fbcon_read_pixel(uint32_t x, uint32_t y)
{
    if (!fc.active || x >= fc.width || y >= fc.height)
        return 0;
    /* what is on the screen: video memory, not the shadow */
    return unpack(((const uint32_t *)(fc.base + (size_t)y * fc.pitch))[x]);
}

uint64_t fbcon_mapping_bytes(void)
{
    return fc.active ? (uint64_t)fc.pitch * fc.height : 0;
}

void fbcon_set_mapping(void *base, void *shadow)
{
    if (!fc.active || !base)
        return;
    if (shadow) /* one last read of video memory: what is on screen now */
        memcpy(shadow, base, (size_t)fc.pitch * fc.height);
    fc.base = base;
    fc.shadow = shadow;
    fc.draw = shadow ? shadow : base;
}

void fbcon_disable(void)
{
    fc.active = false;
}
