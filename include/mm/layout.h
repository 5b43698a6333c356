/*
 * The virtual address layout (docs/kernel-vm.md, docs/address-spaces.md).
 *
 *   0x0000000000000000-0x00007fffffffffff  user space: each process's own
 *                                          (include/mm/vma.h; a 32-bit
 *                                          process's ends at 0xffc00000)
 *   0xffff800000000000-                    direct map of RAM, NX
 *   0xffffc00000000000-0xffffdfffffffffff  vmalloc, ioremap, kernel stacks
 *   0xffffffff7fe00000-0xffffffff80000000  kmap slots (below the image)
 *   0xffffffff80000000-                    kernel image
 */
#ifndef MM_LAYOUT_H
#define MM_LAYOUT_H

#include <boot/boot_info.h>

#define USER_SPACE_END      0x0000800000000000ul
#define KERNEL_HALF_START   0xffff800000000000ul
#define DIRECT_MAP_BASE     BOOT_DIRECT_MAP_BASE
#define VMALLOC_START       0xffffc00000000000ul
#define VMALLOC_END         0xffffe00000000000ul
#define KMAP_BASE           0xffffffff7fe00000ul
#define KMAP_SLOTS          64
#define KERNEL_IMAGE_BASE   0xffffffff80000000ul
/* The highest page is never used, so that [start, end) ranges fit in 64 bits. */
#define KERNEL_HALF_END     0xfffffffffffff000ul

#endif
