/*
 * The bits of an x86-64 page-table entry (Intel SDM vol. 3A, section 4.5
 * "4-level paging"), as plain integer macros with no dependency, so that
 * the UEFI loader (efi/main.c), which builds the first tables, and the
 * kernel's format (mm/pt_x86_64.c) name them from one place.  The layout
 * drawing is in include/mm/pt_x86_64.h.
 */
#ifndef MM_X86_PTE_H
#define MM_X86_PTE_H

#include <stdint.h>

#define X86_PTE_P         (UINT64_C(1) << 0)   /* present */
#define X86_PTE_RW        (UINT64_C(1) << 1)   /* writable */
#define X86_PTE_US        (UINT64_C(1) << 2)   /* user accessible */
#define X86_PTE_PWT       (UINT64_C(1) << 3)   /* PAT index bit 0 */
#define X86_PTE_PCD       (UINT64_C(1) << 4)   /* PAT index bit 1 */
#define X86_PTE_A         (UINT64_C(1) << 5)   /* accessed (set by the CPU) */
#define X86_PTE_D         (UINT64_C(1) << 6)   /* dirty (set by the CPU, leaves only) */
#define X86_PTE_PS        (UINT64_C(1) << 7)   /* leaf at level 1 or 2 (2 MiB, 1 GiB) */
#define X86_PTE_PAT       (UINT64_C(1) << 7)   /* PAT index bit 2, level 0 */
#define X86_PTE_G         (UINT64_C(1) << 8)   /* global: kept across CR3 loads */
#define X86_PTE_PAT_LARGE (UINT64_C(1) << 12)  /* PAT index bit 2, 2 MiB / 1 GiB leaves */
#define X86_PTE_NX        (UINT64_C(1) << 63)  /* no instruction fetch (EFER.NXE) */
#define X86_PTE_ADDR      UINT64_C(0x000ffffffffff000)  /* physical address, bits 12..51 */

#endif
