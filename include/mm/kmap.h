/*
 * kmap: temporary mappings of single frames in fixed slots below the
 * kernel image (mm/kmap.c; docs/kernel-vm.md).  On i386, where the
 * direct map could not cover all RAM ("high memory" in the course slides
 * on Linux's allocators), kmap was how the kernel reached a high frame.
 * Here the direct map covers all RAM, so kmap is for frames outside it
 * (firmware tables, device memory) and is the teaching version of the
 * mechanism, with the slides' rules:
 *
 *   void *kmap(page)    maps the page's frame in a slot; kmap of a page
 *                       already mapped returns the same address and
 *                       counts one more user (Linux's pkmap_count)
 *   void kunmap(page)   one user less: kunmap must be called as many
 *                       times as kmap, and the last one frees the slot
 *
 * Frames without a descriptor (firmware tables, device memory) are mapped
 * by kmap_phys and released by kunmap_phys, one slot per call.
 *
 * Context: one CPU, a kernel that is not preemptible.  When every slot is
 * taken kmap returns NULL (Linux's kmap would sleep until a slot frees).
 */
#ifndef MM_KMAP_H
#define MM_KMAP_H

#include <kernel/types.h>
#include <mm/page.h>

/* Map page's frame, read+write, not executable; write-back for RAM,
 * uncached otherwise.  A page already kmapped: the same address, its
 * count one higher.  The first kmap of an allocated frame (not reserved)
 * takes a reference (get_page) that the last kunmap drops: the page
 * cannot be freed under the slot, and it is pinned for migration
 * (include/mm/migrate.h: more references than mappings) until then.
 * NULL when every slot is taken (reported). */
void *kmap(struct page *page);
/* One kmap of page undone; the last one unmaps the slot (a stale pointer
 * faults) and drops kmap's reference (put_page: it may free the frame).
 * A page not kmapped is the caller's error: reported, counted
 * (kmap_errors), nothing changed. */
void kunmap(struct page *page);
/* The users of page's slot (kmap calls not yet undone), 0 if unmapped. */
unsigned kmap_count(const struct page *page);

/* Map the frame at physical address pa (page aligned) in a slot of its
 * own, as kmap does, with no descriptor, no reference and no count: each
 * call takes a slot.  NULL when all slots are taken or pa is bad
 * (reported). */
void *kmap_phys(uint64_t pa);
/* Release the kmap_phys slot holding addr (any address inside the page).
 * An address that is not such a slot (a kmap(page) slot included: kunmap
 * releases those) is reported and counted, nothing changed. */
void kunmap_phys(const void *addr);

void kmap_init(void);
/* Slots in use (for tests: back to the baseline after each). */
unsigned kmap_slots_used(void);
/* Misuses refused so far: kunmap of a page not mapped, kunmap_phys of an
 * address that is not a kmap_phys slot. */
uint64_t kmap_errors(void);

#endif
