/*
 * Map ingestion: the firmware memory map turned into a clean list of
 * physical ranges (mm/memmap.c).  Pure code, host-tested with hostile maps.
 */
#ifndef MM_MEMMAP_H
#define MM_MEMMAP_H

#include <stdint.h>
#include <stddef.h>

/*
 * What a range of physical memory is, in increasing order of precedence:
 * where two descriptors overlap, the higher kind wins, so a conflict can
 * only ever make memory less usable, never more.
 */
enum mem_kind {
    MEM_USABLE = 0,        /* conventional, boot services, loader code/data */
    MEM_ACPI_RECLAIM = 1,  /* usable once the ACPI tables have been read */
    MEM_BOOT_KERNEL = 2,   /* hand-off: kernel image */
    MEM_BOOT_INITRD = 3,   /* hand-off: initrd (read in place, kept) */
    MEM_BOOT_INFO = 4,     /* hand-off: boot_info and the map */
    MEM_BOOT_TABLES = 5,   /* hand-off: the loader's page tables */
    MEM_RESERVED = 6,      /* never: runtime services, NVS, MMIO, unusable, page 0 */
    MEM_KIND_COUNT
};

struct mem_range {
    uint64_t start;        /* page aligned */
    uint64_t end;          /* exclusive, page aligned, > start */
    uint32_t kind;         /* enum mem_kind */
};

struct memmap_stats {
    uint64_t descriptors;  /* descriptors walked */
    uint64_t dropped_empty;
    uint64_t dropped_overflow; /* past 2^52: usable dropped, others cut at 2^52 */
    uint64_t dropped_excess; /* usable descriptors beyond MEMMAP_MAX_IN */
    uint64_t overlaps;     /* ranges whose kind an overlap changed */
};

/* What a UEFI memory type (EFI_* or BOOT_MEM_*) is: an enum mem_kind. */
uint32_t memmap_kind(uint32_t efi_type);

/* Descriptors accepted; past it, usable ones are dropped (safe), and a map
 * with more non-usable descriptors than this is refused. */
#define MEMMAP_MAX_IN 8192

/*
 * Read `size` bytes of UEFI descriptors at `map`, `desc_size` apart (the
 * firmware's stride, >= 40 bytes), and write the cleaned map to out[]:
 * sorted, non-overlapping, adjacent ranges of one kind merged, usable
 * ranges shrunk to whole pages and everything else grown to whole pages,
 * page 0 reserved.  `scratch` must hold 2 * MEMMAP_MAX_IN + 2 events
 * (memmap_scratch_size() bytes).  Returns the number of ranges written,
 * or, with nothing usable in out[]:
 *   -EINVAL  desc_size is below sizeof(struct efi_mem_desc), or map is
 *            NULL with a non-zero size;
 *   -ENOMEM  out[] is too short (cap >= 2 * descriptors + 1 always
 *            suffices), or more than MEMMAP_MAX_IN descriptors are not
 *            usable memory (the scratch buffer cannot hold them, and
 *            dropping a reservation would not be safe).
 */
#define MEMMAP_SCRATCH_BYTES ((2 * MEMMAP_MAX_IN + 2) * 16)
size_t memmap_scratch_size(void); /* == MEMMAP_SCRATCH_BYTES */
long memmap_build(const void *map, uint64_t size, uint64_t desc_size,
                  struct mem_range *out, size_t cap, void *scratch,
                  struct memmap_stats *stats);

const char *mem_kind_name(uint32_t kind);

/* Total bytes of ranges of one kind. */
uint64_t memmap_total(const struct mem_range *r, size_t n, uint32_t kind);

#endif
