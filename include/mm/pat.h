/*
 * Cache types through the Page Attribute Table (Intel SDM vol. 3A, the
 * "Page Attribute Table" section of the memory-cache chapter), shared by
 * both leaf formats the kernel writes: x86-64 (mm/pt_x86_64.c) and
 * compat32's i386 (compat32/pt_i386.c).  Both keep PWT and PCD in bits 3
 * and 4, and PAT in bit 7 of a 4 KiB leaf or bit 12 of a large one; the
 * helpers take the PAT bit's place as an argument.
 */
#ifndef MM_PAT_H
#define MM_PAT_H

#include <stdint.h>

#include <mm/pgtable.h>
#include <mm/x86_pte.h>

/* PAT memory types (the byte values of IA32_PAT's eight entries). */
#define X86_PAT_UC        0x00ull
#define X86_PAT_WC        0x01ull
#define X86_PAT_WT        0x04ull
#define X86_PAT_WP        0x05ull
#define X86_PAT_WB        0x06ull
#define X86_PAT_UC_MINUS  0x07ull

/*
 * IA32_PAT as the kernel programs it: Linux's layout.  An entry selects
 * PAT index (PAT << 2) | (PCD << 1) | PWT:
 *
 *   index  0   1   2    3   4   5   6    7
 *   type   WB  WC  UC-  UC  WB  WP  UC-  WT
 *
 * The power-on layout is WB WT UC- UC WB WT UC- UC; this one changes
 * index 1 to WC, 5 to WP and 7 to WT.  Entries made for the power-on
 * layout keep their meaning except PWT alone, which becomes WC.
 */
#define X86_PAT_ENTRY(i, type) ((uint64_t)(type) << ((i) * 8))
#define X86_PAT_MSR_VALUE                                                   \
    (X86_PAT_ENTRY(0, X86_PAT_WB) | X86_PAT_ENTRY(1, X86_PAT_WC) |          \
     X86_PAT_ENTRY(2, X86_PAT_UC_MINUS) | X86_PAT_ENTRY(3, X86_PAT_UC) |    \
     X86_PAT_ENTRY(4, X86_PAT_WB) | X86_PAT_ENTRY(5, X86_PAT_WP) |          \
     X86_PAT_ENTRY(6, X86_PAT_UC_MINUS) | X86_PAT_ENTRY(7, X86_PAT_WT))

_Static_assert(X86_PAT_MSR_VALUE == 0x0407050600070106ull, "Linux's PAT layout");

/*
 * Cache types through PAT, in the layout of X86_PAT_MSR_VALUE:
 *   PT_WB  index 0  no bit
 *   PT_WC  index 1  PWT
 *   PT_UC  index 3  PCD | PWT
 *   PT_WT  index 7  PAT | PCD | PWT
 * Entries not made this way (the loader's, or UC- and WP) read as the
 * nearest generic type: indexes 0 and 4 as WB, 2, 3 and 6 as UC, 5 as WT.
 * Both leaf formats the kernel writes, x86-64 and compat32's i386, keep
 * PWT and PCD in bits 3 and 4 and PAT in bit 7 of a 4 KiB leaf or bit 12
 * of a large one, so they share these two; pat_bit says where this leaf
 * keeps PAT.
 */
static inline uint64_t x86_cache_bits(unsigned prot, uint64_t pat_bit)
{
    switch (prot & PT_CACHE_MASK) {
    case PT_WC:
        return X86_PTE_PWT;
    case PT_UC:
        return X86_PTE_PCD | X86_PTE_PWT;
    case PT_WT:
        return pat_bit | X86_PTE_PCD | X86_PTE_PWT;
    default:
        return 0;
    }
}

static inline unsigned x86_cache_prot(uint64_t e, uint64_t pat_bit)
{
    static const unsigned by_index[8] = {
        PT_WB, PT_WC, PT_UC /* UC- */, PT_UC, PT_WB, PT_WT /* WP */, PT_UC /* UC- */, PT_WT,
    };
    return by_index[((e & X86_PTE_PWT) ? 1 : 0) | ((e & X86_PTE_PCD) ? 2 : 0) |
                    ((e & pat_bit) ? 4 : 0)];
}

#endif
