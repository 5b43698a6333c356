/*
 * kmap: temporary mappings of single frames in fixed slots below the
 * kernel image (mm/kmap.c).  On i386, where the direct map could not
 * cover all RAM ("high memory" in the course slides on Linux's
 * allocators), kmap was how the kernel reached a high frame.  Here the
 * direct map covers all RAM, so kmap is for frames outside it (firmware
 * tables, device memory) and is the teaching version of the mechanism.
 */
#ifndef MM_KMAP_H
#define MM_KMAP_H

#include <kernel/types.h>
#include <mm/page.h>

/* Map the frame at physical address pa (page aligned) in a free slot,
 * read+write, not executable; write-back for RAM, uncached otherwise.
 * Returns NULL when all slots are taken or pa is bad (reported). */
void *kmap_phys(uint64_t pa);
/* The same for a frame with a descriptor.  An allocated frame (not
 * reserved) gets one more reference (get_page) for as long as the slot
 * maps it: the page cannot be freed under the slot, and it is pinned for
 * migration (include/mm/migrate.h: more references than mappings), which
 * leaves it where it is until kunmap. */
void *kmap(struct page *page);
/* Release the slot holding addr (any address inside the page), dropping
 * the reference kmap took (put_page: the last one frees the frame). */
void kunmap(const void *addr);

void kmap_init(void);
/* Slots in use (for tests: back to the baseline after each). */
unsigned kmap_slots_used(void);

#endif
