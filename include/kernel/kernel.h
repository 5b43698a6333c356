/* Things every part of the kernel may need from the core. */
#ifndef KERNEL_KERNEL_H
#define KERNEL_KERNEL_H

#include <kernel/types.h>
#include <boot/boot_info.h>

#define KERNEL_NAME "mmk"
#define KERNEL_VERSION "0.1"
#define KERNEL_TITLE "mmk 0.1 - a UEFI x86-64 kernel about memory management"

/* The loader's hand-off, validated by kmain (kernel/boot/main.c). */
extern const struct boot_info *boot_info;

/* Physical address to its direct-map alias. */
static inline void *phys_to_virt(uint64_t pa)
{
    return (void *)(BOOT_DIRECT_MAP_BASE + pa);
}

/* 64 random-looking bits (xorshift64* seeded from the TSC; not
 * cryptographic): AT_RANDOM, getrandom (kernel/proc/sys_proc.c). */
uint64_t kernel_random(void);

/* Human-readable size ("640 KiB", "1.5 GiB") into buf. */
void format_size(char *buf, size_t size, uint64_t bytes);

/* Print the firmware memory map as a table (kernel/boot/bootmap.c). */
void bootmap_print(const struct boot_info *bi);
/* Why the map in boot_info cannot be walked, or NULL when it can. */
const char *bootmap_invalid(const struct boot_info *bi);
const char *efi_type_name(uint32_t type);

#endif
