/*
 * The paging mode the firmware hands over (efi/la57.c).  Pure, so that
 * tests/host/test_realpc.c checks it.
 */
#ifndef EFI_LA57_H
#define EFI_LA57_H

#include <stdint.h>

#define CR4_LA57_BIT (1ull << 12)   /* 5-level paging (57-bit linear addresses) */

/* NULL when the loader's 4-level tables fit the CPU's mode (CR4.LA57
 * clear), else the sentence the loader stops with. */
const char *la57_refusal(uint64_t cr4);

#endif
