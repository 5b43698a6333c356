/*
 * The live map of physical memory on the framebuffer
 * (kernel/console/memview.c; docs/memview.md): one cell per frame,
 * coloured by zone and state (free, kernel, slab, page table, user,
 * movable, pinned), redrawn while it is on, so that a student watches an
 * evacuation or a compaction happen.  Switched by a key on the console
 * (F12), by /proc/sys/vm/memview and by memview=on on the command line.
 */
#ifndef KERNEL_MEMVIEW_H
#define KERNEL_MEMVIEW_H

#include <stdbool.h>
#include <stdint.h>

/* Switch the view on (true) or off; -ENODEV without a framebuffer,
 * -ENOSPC on a screen too small for it, -ENOMEM.  0. */
int memview_set(bool on);
bool memview_on(void);
/* Redraw now if on (migration and compaction call it after a batch, so
 * the map follows them; it limits itself to a few redraws a second). */
void memview_refresh(void);

/* Redraw now if on, whatever the time (tests). */
void memview_draw(void);
/*
 * The periodic part: carries out a pending F12 and redraws when the last
 * redraw is old enough.  Called where no kernel structure is half updated:
 * the idle loop, and the timer tick when it interrupted user mode.
 */
void memview_poll(void);
/* F12 was pressed (keyboard interrupt): true when the key is the map's
 * (a framebuffer exists); the switch waits for the next memview_poll. */
bool memview_key(void);

/* Where frame pfn's cell is on screen (false when off or no cell). */
bool memview_locate(uint64_t pfn, uint32_t *x, uint32_t *y, uint32_t *side);
/* The colour (0xRRGGBB) of a state by its legend name ("slab", "free"
 * in zone `zone`...), or -1. */
int memview_state_rgb(const char *name, int zone);
struct memview_stats {
    uint64_t redraws, cells, cells_drawn, rmap_walks;
    uint64_t steps;                  /* descriptors read, all redraws */
    uint64_t last_redraw_us;         /* how long the last redraw took */
    uint32_t keep_cols;              /* text columns left to the console */
};
void memview_stats(struct memview_stats *st);
/* The map's geometry and bands, on the kernel log (memview=on at boot). */
void memview_report(void);

#endif
