/*
 * The i386 two-level page-table format (32-bit paging, no PAE): how one
 * page-directory or page-table entry is encoded, behind the generic
 * interface of include/mm/pgtable.h.
 *
 * Invariant: for level L in {0, 1}, every pa below 2^32 aligned to the
 * level's page size (4 KiB, 4 MiB) and every prot in PT_PROT_MASK plus
 * PT_ACCESSED/PT_DIRTY, decode_leaf(make_leaf(pa, L, prot), L) gives
 * back pa, prot and the two state bits (tests/host/test_pt_i386.c checks
 * every combination).  Every entry made here fits in 32 bits, and a
 * 4 KiB leaf holds its frame in place, in bits 12..31 (= pa_bits - 1):
 * make_leaf(pa, 0, prot) == pa | make_leaf(0, 0, prot), as struct
 * pt_format requires.  Table
 * entries (PDEs with PS clear) allow everything, P|RW|US: every address
 * of this format is a user address, the kernel never runs on these
 * tables, so the leaf alone decides.  The one exception is the mirror
 * entry (pt_i386_mirror_entry below), which the walker never touches.
 *
 * Decisions:
 *  - no NX bit exists in this format, but the generic layer asks for
 *    non-executable pages (pt_map refuses a prot that does not come back
 *    from decode_leaf) and 32-bit processes must fault when they execute
 *    their stack or heap, as under Linux on x86-64 hardware.  So "not
 *    executable" lives in available bit 9, I386_PTE_SOFT_NX: the SDM
 *    leaves bits 9..11 to the operating system, and the translation into
 *    4-level entries copies it into the real NX bit;
 *  - accessed and dirty are Intel's A (bit 5) and D (bit 6), not bits 3
 *    and 4 as in the blog post on kernel memory management, 2024 (its
 *    struct drops PWT and PCD);
 *  - physical addresses are 32-bit: the PSE-36 bits of a 4 MiB PDE stay
 *    zero, and table pages come from GFP_DMA32 (the caller's gfp).
 *
 * The walker (mm/pgtable.c) knows nothing of what is below; this file
 * knows nothing of walking.  Bit positions are in include/compat32/pt_i386.h
 * with diagrams.  References: Intel SDM vol. 3A, section 4.3 (32-bit
 * paging, tables 4-4 to 4-6) and the Page Attribute Table section;
 * the blog post on i386 paging, 2008 (the 10/10/12 cut, 4 MiB pages
 * through PS); the blog post on kernel memory management, 2024 (the entry
 * as present, rw, user, accessed, dirty and a 20-bit frame); the SOS
 * mailing-list post on physical/paged/virtual memory, 2006 (SOS's
 * mirroring); docs/bibliography.md.
 *
 * Cache types go through PAT with the same helpers as the x86-64 format
 * (x86_cache_bits / x86_cache_prot, include/mm/pat.h): PWT, PCD
 * and PAT sit in the same bits (PAT: bit 7 in a PTE, 12 in a 4 MiB PDE).
 */
#include <kernel/printk.h>
#include <mm/pgtable.h>
#include <compat32/pt_i386.h>
#include <mm/pat.h>

_Static_assert(sizeof(pde_t) == 4 && sizeof(pte_t) == 4, "SDM: 32-bit entries");
_Static_assert(I386_ENTRIES * sizeof(pte_t) == 4096, "a table is one 4 KiB page");
_Static_assert(I386_PTE_P == 0x1 && I386_PTE_RW == 0x2 && I386_PTE_US == 0x4,
               "SDM: P, R/W, U/S are bits 0, 1, 2");
_Static_assert(I386_PTE_PWT == 0x8 && I386_PTE_PCD == 0x10, "SDM: PWT, PCD are bits 3, 4");
_Static_assert(I386_PTE_A == 0x20 && I386_PTE_D == 0x40, "SDM: A, D are bits 5, 6");
_Static_assert(I386_PTE_PAT == 0x80 && I386_PDE_PS == 0x80,
               "SDM: bit 7 is PAT in a PTE, PS in a PDE");
_Static_assert(I386_PTE_G == 0x100, "SDM: G is bit 8");
_Static_assert(I386_PTE_AVL == 0xe00, "SDM: bits 9..11 are available to software");
_Static_assert((I386_PTE_SOFT_NX & I386_PTE_AVL) == I386_PTE_SOFT_NX,
               "soft NX lives in an available bit");
_Static_assert(I386_PDE_PAT_LARGE == 0x1000, "SDM: PAT of a 4 MiB PDE is bit 12");
_Static_assert(I386_PDE_RSVD_LARGE == 0x3fe000u, "SDM: bits 13..21 of a 4 MiB PDE");
_Static_assert(I386_PTE_FRAME == 0xfffff000u && (I386_PTE_FRAME & 0xfffu) == 0,
               "SDM: a 20-bit frame number in bits 12..31");
_Static_assert((I386_PDE_FRAME_LARGE | I386_PDE_RSVD_LARGE | I386_PDE_PAT_LARGE) ==
                   I386_PTE_FRAME,
               "a 4 MiB PDE: frame 31..22, reserved 21..13, PAT 12");
_Static_assert(I386_MIRROR_BASE == I386_MIRROR_PDE << 22 &&
                   I386_MIRROR_PD == I386_MIRROR_BASE + I386_MIRROR_PDE * I386_PAGE_SIZE,
               "the mirror: tables at PDE 1023's 4 MiB, the directory at its last page");

/* PWT, PCD and PAT where x86-64 has them: the cache-type helpers of
 * include/mm/pat.h serve both formats. */
_Static_assert(I386_PTE_PWT == X86_PTE_PWT && I386_PTE_PCD == X86_PTE_PCD &&
                   I386_PTE_PAT == X86_PTE_PAT && I386_PDE_PAT_LARGE == X86_PTE_PAT_LARGE,
               "i386 and x86-64 leaves keep PWT, PCD and PAT in the same bits");

#define LEVELS 2
#define INDEX_BITS 10

/* The frame bits of a leaf at this level: 12..31 or 22..31. */
static uint32_t frame_mask(unsigned level)
{
    return level == 0 ? I386_PTE_FRAME : I386_PDE_FRAME_LARGE;
}

/* The bit that selects PAT index 4..7: bit 7 in a PTE, bit 12 in a 4 MiB PDE. */
static uint32_t pat_bit(unsigned level)
{
    return level == 0 ? I386_PTE_PAT : I386_PDE_PAT_LARGE;
}

/*
 * A PDE pointing to a page table allows everything (writable, user,
 * executable: no soft NX), so that the PTEs decide.  Every address this
 * format translates belongs to the 32-bit process; va is not needed.
 */
static uint64_t i386_make_table(uint64_t table_pa, uint64_t va)
{
    (void)va;
    return (table_pa & I386_PTE_FRAME) | I386_PTE_P | I386_PTE_RW | I386_PTE_US;
}

static uint64_t i386_make_leaf(uint64_t pa, unsigned level, unsigned prot)
{
    uint32_t e = ((uint32_t)pa & frame_mask(level)) | I386_PTE_P |
                 (uint32_t)x86_cache_bits(prot, pat_bit(level));
    if (level > 0)
        e |= I386_PDE_PS;
    if (prot & PT_W)
        e |= I386_PTE_RW;
    if (!(prot & PT_X))
        e |= I386_PTE_SOFT_NX;
    if (prot & PT_U)
        e |= I386_PTE_US;
    if (prot & PT_G)
        e |= I386_PTE_G;
    if (prot & PT_ACCESSED)
        e |= I386_PTE_A;
    if (prot & PT_DIRTY)
        e |= I386_PTE_D;
    return e;
}

static void i386_decode_leaf(uint64_t e, unsigned level, struct pt_view *v)
{
    /* Bits 12..21 of a 4 MiB PDE are PAT and reserved zeros, not address. */
    v->pa = (uint32_t)e & frame_mask(level);
    v->prot = x86_cache_prot((uint32_t)e, pat_bit(level));
    if (e & I386_PTE_RW)
        v->prot |= PT_W;
    if (!(e & I386_PTE_SOFT_NX))
        v->prot |= PT_X;
    if (e & I386_PTE_US)
        v->prot |= PT_U;
    if (e & I386_PTE_G)
        v->prot |= PT_G;
    v->accessed = e & I386_PTE_A;
    v->dirty = e & I386_PTE_D;
}

/*
 * A payload entry is the documents' non-present PTE: bit 0 (P) clear and
 * the other 31 bits the operating system's, here the payload shifted left
 * by one.  The CPU never looks at them.
 */
static uint64_t i386_make_payload(uint64_t payload)
{
    return (uint32_t)(payload << 1);
}

static uint64_t i386_payload_of(uint64_t e)
{
    return (uint32_t)e >> 1;
}

/* Every 32-bit address; nothing above. */
static bool i386_va_ok(uint64_t va)
{
    return va < (1ul << 32);
}

uint32_t pt_i386_mirror_entry(uint64_t pd_pa, bool user_readable)
{
    if (pd_pa >= (1ul << 32) || (pd_pa & ~(uint64_t)I386_PTE_FRAME))
        panic("pt_i386_mirror_entry: directory %#lx is not a frame below 4 GiB",
              pd_pa);
    /* PS clear: the directory is walked as a page table.  R/W clear and
     * soft NX: readable, never writable nor executable through the mirror
     * (R/W and NX act from any level, so every page under it is so). */
    uint32_t e = (uint32_t)pd_pa | I386_PTE_P | I386_PTE_SOFT_NX;
    if (user_readable)
        e |= I386_PTE_US;
    return e;
}

const struct pt_format pt_i386 = {
    .name = "i386 2-level",
    .levels = LEVELS,
    .entry_bytes = 4,
    .index_bits = INDEX_BITS,
    .leaf_levels = (1u << 0) | (1u << 1),  /* 4 KiB PTEs, 4 MiB PDEs */
    .va_bits = 32,
    .pa_bits = 32,
    /* PS makes a PDE a 4 MiB leaf; there is no level above the directory. */
    .present_mask = I386_PTE_P,
    .leaf_mask = I386_PDE_PS,
    .table_mask = I386_PTE_FRAME,
    .accessed_mask = I386_PTE_A,
    .dirty_mask = I386_PTE_D,
    .make_table = i386_make_table,
    .make_leaf = i386_make_leaf,
    .decode_leaf = i386_decode_leaf,
    .va_ok = i386_va_ok,
    .payload_bits = 31,
    .make_payload = i386_make_payload,
    .payload_of = i386_payload_of,
};
