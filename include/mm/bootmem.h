/* Bringing up physical memory at boot (mm/bootmem.c). */
#ifndef MM_BOOTMEM_H
#define MM_BOOTMEM_H

#include <boot/boot_info.h>
#include <mm/memmap.h>
#include <stdbool.h>

/*
 * Clean the firmware map, place mem_map (mem_place, include/mm/mem_place.h),
 * build the zones, hand every usable frame to the buddy allocators and
 * print what was done.  A map that cannot be cleaned or leaves no room
 * for mem_map panics with the error: the boot cannot go on without them.
 */
void mem_init(const struct boot_info *bi);

/* The cleaned map (valid after mem_init). */
const struct mem_range *mem_ranges(size_t *n);

/*
 * Does [pa, pa + len) touch RAM, i.e. any range the direct map covers
 * (usable or held back, not firmware-reserved or MMIO)?
 */
bool mem_is_ram(uint64_t pa, uint64_t len);

/*
 * Give every range of this held-back kind (MEM_BOOT_TABLES, MEM_BOOT_INFO,
 * ...) to the allocator, once nothing uses it; the ranges become
 * MEM_USABLE.  Returns the number of frames released.  A range
 * node_release refuses (-EBUSY: a frame in it is not reserved and
 * unused; reported and counted) stays held and counts for nothing.
 */
uint64_t mem_release_boot(uint32_t kind);

#endif
