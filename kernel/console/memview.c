/*
 * The live map of physical memory on the framebuffer (docs/memview.md).
 *
 * While it is on, the right part of the screen (all of it when the screen
 * is narrower than 120 text columns) shows every frame of RAM as a small
 * square: one band per zone, each with its own cell size, chosen so that
 * the zone fills its band (a zone of a few thousand frames gets squares of
 * several pixels, a zone of millions one pixel for several frames).  A
 * cell's colour is the state of its frames, read from their descriptors
 * (include/mm/page.h): free (tinted by zone), free in the per-CPU cache,
 * reserved, kernel, slab, page table, vmalloc, page cache, anonymous,
 * pinned.  When a cell holds several frames it shows the state that comes
 * last in that list: the rarer and more interesting one.
 *
 * Cost: the map keeps what each cell shows (one byte per cell) and draws
 * only the cells that changed; a redraw reads every descriptor once
 * (block by block: a free block of 2^k frames is one step).  Pinned is the
 * one state that costs more: a user page with more references than
 * mappings (page_count against rmap_count, include/mm/rmap.h, plus the
 * page cache's own reference); the reverse-map walk is done only for
 * pages with at least two references, at most RMAP_BUDGET per redraw.
 * Nothing here is called on the fault path.
 *
 * When it draws: at most every INTERVAL_MS, and never more than one part
 * in COST_SHARE of the time (a redraw over 64 GiB takes about 0.1 s under
 * QEMU's emulation, one over 1 GiB a few ms), from memview_poll, which the
 * idle loop calls after each wake-up and the timer tick calls when it
 * interrupted user mode (both points where no kernel structure is half
 * updated), and from memview_refresh, which code that changes many frames
 * (migration, compaction) may call after each batch.  F12 (kernel/console/keyboard.c) only leaves a request
 * that the next poll carries out: nothing is drawn from the keyboard's
 * interrupt.
 *
 * The text console keeps its grid whole while the map is on: it stops
 * drawing the columns the map covers (fbcon_set_text_cols) and redraws
 * them from the grid when the map goes off.
 *
 * Invariants: while on, mv.shown[i] is the state cell i shows on screen
 * (0xff: not drawn yet); the console draws columns 0..mv.keep_cols-1 only.
 */
#include <kernel/apic.h>
#include <kernel/console.h>
#include <kernel/errno.h>
#include <kernel/memview.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include <mm/page.h>
#include <mm/rmap.h>
#include <mm/vmalloc.h>

#define INTERVAL_MS 250              /* at most 4 redraws a second */
#define COST_SHARE 20                /* redraws take at most 1/20 of the time */
#define RMAP_BUDGET 4096             /* reverse-map walks per redraw (pinned check) */
#define MAX_CELL_PX 12
#define MIN_BAND_ROWS 2              /* text rows of cells a zone gets at least */
#define NOT_DRAWN 0xff

/* Frame states, in increasing order of interest (a cell of several frames
 * shows the highest). */
enum mv_state {
    ST_FREE, ST_PCP, ST_RESERVED, ST_KERNEL, ST_SLAB, ST_PGTABLE, ST_VMALLOC, ST_FILE,
    ST_ANON, ST_PINNED, NR_STATES
};

static const struct {
    const char *name;
    uint32_t rgb;                    /* ST_FREE: the zone's tint instead */
} states[NR_STATES] = {
    [ST_FREE] = { "free", 0 },
    [ST_PCP] = { "per-CPU free", 0x56667e },
    [ST_RESERVED] = { "reserved", 0x3a3a3a },
    [ST_KERNEL] = { "kernel", 0x9a9a9a },
    [ST_SLAB] = { "slab", 0x20c8c8 },
    [ST_PGTABLE] = { "page table", 0xf0a020 },
    [ST_VMALLOC] = { "vmalloc", 0xc060f0 },
    [ST_FILE] = { "page cache", 0x4a8cff },
    [ST_ANON] = { "anonymous", 0x50e050 },
    [ST_PINNED] = { "pinned", 0xff3030 },
};

/* Free frames take their zone's tint: the zones stay apart at a glance. */
static const uint32_t zone_tint[NR_ZONES] = { 0x1f5a44, 0x233f78, 0x55306e };

/* A zone's band: its label row, then rows of cells. */
struct band {
    const struct zone *z;
    uint64_t start, end;             /* the zone's span of frames */
    uint32_t label_y, y, h;          /* pixels */
    uint32_t px;                     /* cell side, pixels */
    uint32_t per_row;                /* cells per row */
    uint64_t fpc;                    /* frames per cell */
    uint64_t ncells, first;          /* first: index of cell 0 in mv.shown */
    uint64_t count[NR_STATES];       /* frames per state, last redraw */
};

static struct {
    bool on;
    volatile bool key;               /* F12 pressed: toggle at the next poll */
    uint32_t keep_cols;              /* text columns the console keeps drawing */
    uint32_t x, y, w, h;             /* the map's pixels (left margin excluded) */
    uint32_t gw, gh, cols;           /* glyph size; map width in text columns */
    uint32_t fg, bg, sep;
    struct band bands[NR_ZONES];
    int nbands;
    uint8_t *shown;
    uint64_t ncells;
    uint64_t last;                   /* TSC of the last redraw */
    uint64_t redraws, cells_drawn, rmap_walks, steps;
    uint64_t cost;                   /* TSC ticks of the last redraw */
    uint32_t budget;                 /* walks left in this redraw */
    bool budget_hit;
    /* the cell being gathered by the scan */
    uint64_t acc_cell;
    uint8_t acc_state;
    bool acc_have;
} mv;

/* ---- what a frame is --------------------------------------------------------- */

/* A user page with more references than the ptes mapping it (plus the page
 * cache's one): someone holds it, and migration must leave it. */
static bool pinned(struct page *p)
{
    uint64_t own = (p->flags & PG_FILE) ? 1 : 0;
    if (p->order != 0 || p->refcount < own + 2)
        return false;                /* one mapping at most: nothing held beyond it */
    if (mv.budget == 0) {
        mv.budget_hit = true;
        return false;
    }
    mv.budget--;
    mv.rmap_walks++;
    return p->refcount > own + rmap_count(p);
}

/* The state of an allocated block from its head. */
static enum mv_state owner_state(struct page *p)
{
    if (p->flags & PG_SLAB)
        return ST_SLAB;
    if (p->flags & PG_PGTABLE)
        return ST_PGTABLE;
    if (p->flags2 & PG2_VMALLOC)
        return ST_VMALLOC;
    if (p->flags & (PG_ANON | PG_FILE))
        return pinned(p) ? ST_PINNED : (p->flags & PG_ANON) ? ST_ANON : ST_FILE;
    return ST_KERNEL;
}

/* ---- drawing a cell ----------------------------------------------------------- */

static uint32_t state_rgb(const struct band *b, enum mv_state s)
{
    return s == ST_FREE ? zone_tint[zone_idx(b->z)] : states[s].rgb;
}

static void cell_xy(const struct band *b, uint64_t c, uint32_t *x, uint32_t *y)
{
    *x = mv.x + (uint32_t)(c % b->per_row) * b->px;
    *y = b->y + (uint32_t)(c / b->per_row) * b->px;
}

static void draw_cell(const struct band *b, uint64_t c, uint8_t s)
{
    uint8_t *sh = &mv.shown[b->first + c];
    if (*sh == s)
        return;
    *sh = s;
    uint32_t x, y, side = b->px >= 4 ? b->px - 1 : b->px;   /* a grid line from 4 px up */
    cell_xy(b, c, &x, &y);
    fbcon_fill_rect(x, y, side, side, state_rgb(b, s));
    mv.cells_drawn++;
}

/* The scan goes up the frames; a cell is drawn once the scan has passed it. */
static void acc_put(const struct band *b, uint64_t c, uint8_t s)
{
    if (mv.acc_have && mv.acc_cell == c) {
        if (s > mv.acc_state)
            mv.acc_state = s;
        return;
    }
    if (mv.acc_have)
        draw_cell(b, mv.acc_cell, mv.acc_state);
    mv.acc_cell = c;
    mv.acc_state = s;
    mv.acc_have = true;
}

static void put_run(const struct band *b, uint64_t off, uint64_t len, uint8_t s)
{
    for (uint64_t c = off / b->fpc, last = (off + len - 1) / b->fpc; c <= last; c++)
        acc_put(b, c, s);
}

static void scan_band(struct band *b)
{
    memset(b->count, 0, sizeof(b->count));
    mv.acc_have = false;
    for (uint64_t pfn = b->start; pfn < b->end;) {
        struct page *p = pfn_to_page(pfn);
        uint64_t len = 1;
        enum mv_state s;
        if (p->flags & (PG_BUDDY | PG_PCP)) {
            s = (p->flags & PG_BUDDY) ? ST_FREE : ST_PCP;
            len = 1ul << MIN(p->order, MAX_ORDER);
        } else if (p->refcount) {
            s = owner_state(p);
            len = 1ul << MIN(p->order, MAX_ORDER);
        } else if (p->flags & PG_RESERVED) {
            s = ST_RESERVED;
        } else {
            s = ST_KERNEL;           /* a frame of an allocated run with no head seen */
        }
        len = MIN(len, b->end - pfn);
        mv.steps++;
        b->count[s] += len;
        put_run(b, pfn - b->start, len, (uint8_t)s);
        pfn += len;
    }
    if (mv.acc_have)
        draw_cell(b, mv.acc_cell, mv.acc_state);
}

/* ---- text: header, labels, legend ---------------------------------------------- */

/* One text row of the map at pixel row y, padded to the map's width. */
static void text_row(uint32_t x, uint32_t y, uint32_t width_cols, const char *s, uint32_t fg)
{
    char line[256];
    uint32_t n = MIN(width_cols, (uint32_t)sizeof(line) - 1), i = 0;
    for (; i < n && s[i]; i++)
        line[i] = s[i];
    for (; i < n; i++)
        line[i] = ' ';
    line[n] = 0;
    fbcon_draw_text(x, y, line, fg, mv.bg);
}

static void swatch(uint32_t x, uint32_t y, uint32_t rgb)
{
    fbcon_fill_rect(x + 1, y + 3, mv.gw - 2, mv.gh - 6, rgb);
}

static uint64_t mib(uint64_t frames)
{
    return frames >> (20 - PAGE_SHIFT);
}

static void draw_label(const struct band *b)
{
    char s[160];
    uint64_t n = b->end - b->start;
    uint64_t free = b->count[ST_FREE] + b->count[ST_PCP];
    uint64_t user = b->count[ST_ANON] + b->count[ST_FILE] + b->count[ST_PINNED];
    if (b->fpc > 1)
        snprintf(s, sizeof(s), "%-6s %lu MiB: %lu free, %lu user; 1 px = %lu frames", b->z->name,
                 mib(n), free, user, b->fpc);
    else
        snprintf(s, sizeof(s), "%-6s %lu MiB: %lu free, %lu user; cell %ux%u px = 1 frame",
                 b->z->name, mib(n), free, user, b->px, b->px);
    swatch(mv.x, b->label_y, zone_tint[zone_idx(b->z)]);
    text_row(mv.x + mv.gw, b->label_y, mv.cols - 1, s, mv.fg);
}

/* The legend's items: the zones' free tints, then the other states. */
static uint32_t legend(bool draw, uint32_t y0)
{
    uint32_t col = 0, row = 0;
    for (int i = -mv.nbands; i < NR_STATES; i++) {
        char name[32];
        uint32_t rgb;
        if (i < 0) {
            const struct band *b = &mv.bands[i + mv.nbands];
            snprintf(name, sizeof(name), "%s free", b->z->name);
            rgb = state_rgb(b, ST_FREE);
        } else if (i == ST_FREE) {
            continue;
        } else {
            snprintf(name, sizeof(name), "%s", states[i].name);
            rgb = states[i].rgb;
        }
        uint32_t len = (uint32_t)strlen(name) + 3;
        if (col && col + len > mv.cols)
            col = 0, row++;
        if (draw) {
            uint32_t x = mv.x + col * mv.gw, y = y0 + row * mv.gh;
            swatch(x, y, rgb);
            fbcon_draw_text(x + mv.gw, y, " ", mv.fg, mv.bg);
            fbcon_draw_text(x + 2 * mv.gw, y, name, mv.fg, mv.bg);
        }
        col += len;
    }
    return row + 1;
}

static void draw_header(void)
{
    char s[160];
    snprintf(s, sizeof(s), "Physical memory, frame by frame (F12: text)%s",
             mv.budget_hit ? " [pinned: partly checked]" : "");
    text_row(mv.x, mv.y - mv.gh, mv.cols, s, mv.fg);
}

/* ---- layout --------------------------------------------------------------------- */

static uint64_t isqrt(uint64_t n)
{
    uint64_t r = 0;
    while ((r + 1) * (r + 1) <= n)
        r += r > 1024 ? r / 4 + 1 : 1;
    while (r * r > n)
        r--;
    return r;
}

/* The largest square cell, up to MAX_CELL_PX, with which n frames fit in
 * w x h pixels; 1 pixel for several frames when none does. */
static void size_cells(struct band *b, uint32_t w, uint32_t h)
{
    uint64_t n = b->end - b->start;
    uint32_t px = MAX_CELL_PX;
    while (px > 1 && (uint64_t)(w / px) * (h / px) < n)
        px--;
    b->px = px;
    b->per_row = w / px;
    uint64_t room = (uint64_t)b->per_row * (h / px);
    b->fpc = room >= n ? 1 : (n + room - 1) / room;
    b->ncells = (n + b->fpc - 1) / b->fpc;
}

/* Text rows the band's cells cover. */
static uint32_t rows_used(const struct band *b)
{
    uint64_t px = (b->ncells + b->per_row - 1) / b->per_row * b->px;
    return (uint32_t)((px + mv.gh - 1) / mv.gh);
}

static int layout(void)
{
    struct fbcon_info fi;
    fbcon_get_info(&fi);
    mv.gw = fi.glyph_w, mv.gh = fi.glyph_h;
    mv.fg = fi.fg, mv.bg = fi.bg, mv.sep = fi.title_bg;
    /* Beside the text when the screen is wide: the shell keeps 80 columns
     * (or half the screen), the map gets the rest, one column of margin. */
    uint32_t keep = fi.cols >= 120 ? (fi.cols / 2 > 80 ? fi.cols / 2 : 80) : 0;
    if (fi.cols - keep < 40)
        keep = 0;
    mv.keep_cols = keep;
    mv.cols = fi.cols - keep - 1;
    mv.x = (keep + 1) * mv.gw;
    mv.w = mv.cols * mv.gw;
    mv.y = 2 * mv.gh;                /* the title row, then the header row */
    uint32_t rows = fi.rows - 2;     /* text rows for labels, cells and legend */

    mv.nbands = 0;
    uint64_t weight[NR_ZONES], total = 0;
    for (int t = 0; t < NR_ZONES; t++) {
        const struct zone *z = &node0->zones[t];
        if (z->end_pfn <= z->start_pfn || z->end_pfn > node0->max_pfn)
            continue;
        struct band *b = &mv.bands[mv.nbands];
        memset(b, 0, sizeof(*b));
        b->z = z;
        b->start = z->start_pfn;
        b->end = z->end_pfn;
        /* Rows in proportion to the square root of the zone's size: the
         * 16 MiB DMA zone stays visible next to gigabytes. */
        weight[mv.nbands] = isqrt(b->end - b->start) + 1;
        total += weight[mv.nbands++];
    }
    uint32_t legend_rows = legend(false, 0);
    uint32_t need = legend_rows + 1 + (uint32_t)mv.nbands * (1 + MIN_BAND_ROWS);
    if (mv.nbands == 0 || rows < need || mv.cols < 20)
        return -ENOSPC;
    /* Every zone gets an eighth of the rows when they suffice: the DMA
     * zone, the one evacuations empty, in cells large enough to count. */
    uint32_t floor = MIN_BAND_ROWS;
    if (need + (uint32_t)mv.nbands * (rows / 8 - MIN_BAND_ROWS) <= rows && rows / 8 > floor) {
        need += (uint32_t)mv.nbands * (rows / 8 - MIN_BAND_ROWS);
        floor = rows / 8;
    }
    uint32_t spare = rows - need, y = mv.y, r[NR_ZONES], left = rows - legend_rows - 1;
    for (int i = 0; i < mv.nbands; i++) {
        /* First share, then each band shrunk to the rows its cells fill;
         * what that frees goes to the smallest zones first, whose cells
         * can grow (the bands follow the zones' order, smallest first). */
        r[i] = floor + (uint32_t)(spare * weight[i] / total);
        size_cells(&mv.bands[i], mv.w, r[i] * mv.gh);
        r[i] = rows_used(&mv.bands[i]);
        left -= 1 + r[i];
    }
    for (int i = 0; i < mv.nbands && left; i++) {
        size_cells(&mv.bands[i], mv.w, (r[i] + left) * mv.gh);
        uint32_t used = MAX(rows_used(&mv.bands[i]), r[i]);
        left -= used - r[i];
        r[i] = used;
    }
    uint64_t cells = 0;
    for (int i = 0; i < mv.nbands; i++) {
        struct band *b = &mv.bands[i];
        b->label_y = y;
        b->y = y + mv.gh;
        b->h = r[i] * mv.gh;
        size_cells(b, mv.w, b->h);
        b->first = cells;
        cells += b->ncells;
        y = b->y + b->h;
    }
    mv.h = y - mv.y;
    mv.ncells = cells;
    return 0;
}

/* ---- redrawing ------------------------------------------------------------------- */

static uint64_t interval_tsc(void)
{
    uint64_t hz = tsc_hz();
    uint64_t t = (hz ? hz : 2000000000ul) / 1000 * INTERVAL_MS;
    return mv.cost * COST_SHARE > t ? mv.cost * COST_SHARE : t;
}

/* Everything that is not a cell: cleared region, separator, header, legend. */
static void draw_frame(void)
{
    struct fbcon_info fi;
    fbcon_get_info(&fi);
    uint32_t x0 = mv.keep_cols * mv.gw, y0 = mv.gh;
    fbcon_fill_rect(x0, y0, fi.cols * mv.gw - x0, (fi.rows - 1) * mv.gh, mv.bg);
    if (mv.keep_cols)
        fbcon_fill_rect(x0 + mv.gw / 2 - 1, y0, 2, (fi.rows - 1) * mv.gh, mv.sep);
    legend(true, (fi.rows - legend(false, 0)) * mv.gh);
}

void memview_draw(void)
{
    if (!mv.on || !fbcon_active())
        return;
    uint64_t t0 = rdtsc();
    mv.budget = RMAP_BUDGET;
    mv.budget_hit = false;
    for (int i = 0; i < mv.nbands; i++) {
        scan_band(&mv.bands[i]);
        draw_label(&mv.bands[i]);
    }
    draw_header();
    mv.redraws++;
    mv.last = rdtsc();
    mv.cost = mv.last - t0;
}

void memview_refresh(void)
{
    if (mv.on && rdtsc() - mv.last >= interval_tsc())
        memview_draw();
}

/* ---- switching ------------------------------------------------------------------- */

int memview_set(bool on)
{
    if (!fbcon_active())
        return -ENODEV;
    if (on == mv.on)
        return 0;
    if (!on) {
        mv.on = false;
        fbcon_set_text_cols(FBCON_ALL_COLS);   /* the text grid, redrawn whole */
        vfree(mv.shown);                       /* nothing kept while off */
        mv.shown = NULL;
        return 0;
    }
    int r = layout();
    if (r)
        return r;
    mv.shown = vmalloc(mv.ncells);
    if (!mv.shown)
        return -ENOMEM;
    memset(mv.shown, NOT_DRAWN, mv.ncells);
    fbcon_set_text_cols(mv.keep_cols);
    mv.on = true;
    draw_frame();
    memview_draw();
    return 0;
}

bool memview_on(void)
{
    return mv.on;
}

bool memview_key(void)
{
    if (!fbcon_active())
        return false;
    mv.key = true;
    return true;
}

void memview_poll(void)
{
    if (mv.key) {
        mv.key = false;
        int r = memview_set(!mv.on);
        if (r)
            printk("memview: cannot switch on (error %d)\n", r);
        return;
    }
    memview_refresh();
}

/* ---- for tests and the boot log -------------------------------------------------------- */

bool memview_locate(uint64_t pfn, uint32_t *x, uint32_t *y, uint32_t *side)
{
    for (int i = 0; mv.on && i < mv.nbands; i++) {
        const struct band *b = &mv.bands[i];
        if (pfn < b->start || pfn >= b->end)
            continue;
        cell_xy(b, (pfn - b->start) / b->fpc, x, y);
        *side = b->px >= 4 ? b->px - 1 : b->px;
        return true;
    }
    return false;
}

int memview_state_rgb(const char *name, int zone)
{
    for (int s = 0; s < NR_STATES; s++)
        if (strcmp(states[s].name, name) == 0)
            return (int)(s == ST_FREE ? zone_tint[zone % NR_ZONES] : states[s].rgb);
    return -1;
}

void memview_stats(struct memview_stats *st)
{
    st->redraws = mv.redraws;
    st->cells = mv.ncells;
    st->cells_drawn = mv.cells_drawn;
    st->rmap_walks = mv.rmap_walks;
    st->steps = mv.steps;
    st->keep_cols = mv.keep_cols;
    uint64_t hz = tsc_hz();
    st->last_redraw_us = hz ? mv.cost * 1000000 / hz : 0;
}

void memview_report(void)
{
    if (!mv.on)
        return;
    printk("memview: on, text in columns 0-%u, map at %u,%u (%ux%u px), %lu cells\n",
           mv.keep_cols ? mv.keep_cols - 1 : 0, mv.x, mv.y, mv.w, mv.h, mv.ncells);
    for (int i = 0; i < mv.nbands; i++) {
        const struct band *b = &mv.bands[i];
        printk("memview: %s frames %#lx-%#lx, cell %u px, %lu frame(s) per cell, tint %06x\n",
               b->z->name, b->start, b->end, b->px, b->fpc, state_rgb(b, ST_FREE));
    }
}
