/*
 * The live map of physical memory on the framebuffer
 * (kernel/console/memview.c; docs/memview.md): one cell per frame,
 * coloured by zone and state (free, kernel, slab, page table, user,
 * movable, pinned), redrawn while it is on, so that a student watches an
 * evacuation or a compaction happen.  Switched by a key on the console
 * and by /proc/sys/vm/memview.
 */
#ifndef KERNEL_MEMVIEW_H
#define KERNEL_MEMVIEW_H

#include <stdbool.h>

/* Switch the view on (true) or off; -ENODEV without a framebuffer.  0. */
int memview_set(bool on);
bool memview_on(void);
/* Redraw now if on (migration and compaction call it after a batch, so
 * the map follows them; it limits itself to a few redraws a second). */
void memview_refresh(void);

#endif
