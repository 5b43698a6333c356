/* Bringing up physical memory at boot (mm/bootmem.c). */
#ifndef MM_MM_H
#define MM_MM_H

#include <boot/boot_info.h>
#include <mm/memmap.h>
#include <stdbool.h>

/*
 * Clean the firmware map, place mem_map, build the zones, hand every
 * usable frame to the buddy allocators and print what was done.
 */
void mm_init(const struct boot_info *bi);

/* The cleaned map (valid after mm_init). */
const struct mem_range *mm_ranges(size_t *n);

/*
 * Does [pa, pa + len) touch RAM, i.e. any range the direct map covers
 * (usable or held back, not firmware-reserved or MMIO)?
 */
bool mm_is_ram(uint64_t pa, uint64_t len);

/*
 * Give every range of this held-back kind (MEM_BOOT_TABLES, MEM_BOOT_INFO,
 * ...) to the allocator, once nothing uses it; the ranges become
 * MEM_USABLE.  Returns the number of frames released.
 */
uint64_t mm_release_boot(uint32_t kind);

#endif
