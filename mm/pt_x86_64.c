/*
 * The x86-64 4-level page-table format: how one entry is encoded.
 *
 * Invariant: for every level L in {0, 1, 2}, every 4 KiB-aligned pa below
 * 2^52 aligned to the level's page size and every prot in PT_PROT_MASK
 * plus PT_ACCESSED/PT_DIRTY, decode_leaf(make_leaf(pa, L, prot), L)
 * gives back pa, prot and the two state bits (tests/host/test_pgtable.c
 * checks every combination).  Table entries allow everything (writable,
 * executable, and user-accessible in the lower half): the CPU allows an
 * access only if every entry on the way allows it, so the leaf alone
 * decides, except that nothing in the kernel half is ever open to user
 * mode.
 *
 * The walker (mm/pgtable.c) knows nothing of what is below; this file
 * knows nothing of walking.  Bit positions are in include/mm/pt_x86_64.h
 * with a diagram; reference: Intel SDM vol. 3A, section 4.5 (4-level
 * paging) and the Page Attribute Table section.
 *
 * Cache types go through PAT: x86_cache_bits / x86_cache_prot in
 * include/mm/pat.h.
 */
#include <mm/pgtable.h>
#include <mm/pt_x86_64.h>

_Static_assert(X86_PTE_P == 0x1 && X86_PTE_RW == 0x2 && X86_PTE_US == 0x4,
               "SDM: P, R/W, U/S are bits 0, 1, 2");
_Static_assert(X86_PTE_PWT == 0x8 && X86_PTE_PCD == 0x10, "SDM: PWT, PCD are bits 3, 4");
_Static_assert(X86_PTE_A == 0x20 && X86_PTE_D == 0x40, "SDM: A, D are bits 5, 6");
_Static_assert(X86_PTE_PS == 0x80 && X86_PTE_G == 0x100, "SDM: PS/PAT is bit 7, G bit 8");
_Static_assert(X86_PTE_PAT_LARGE == 0x1000, "SDM: PAT of large leaves is bit 12");
_Static_assert(X86_PTE_NX == 0x8000000000000000ul, "SDM: XD is bit 63");

#define LEVELS 4
#define INDEX_BITS 9

/* Bytes mapped by one entry of this level: 4 KiB, 2 MiB, 1 GiB, 512 GiB. */
static uint64_t level_size(unsigned level)
{
    return 1ul << (12 + INDEX_BITS * level);
}

/* The bit that selects PAT index 4..7: bit 7 in a PTE, bit 12 in a large leaf. */
static uint64_t pat_bit(unsigned level)
{
    return level == 0 ? X86_PTE_PAT : X86_PTE_PAT_LARGE;
}

/*
 * A table entry allows everything: writable, executable, and user
 * accessible in the lower (user) half, so that the leaves decide.  The
 * kernel half's tables stay supervisor-only: a user access there stops
 * at the top level whatever a leaf says.
 */
static uint64_t x86_make_table(uint64_t table_pa, uint64_t va)
{
    uint64_t e = (table_pa & X86_PTE_ADDR) | X86_PTE_P | X86_PTE_RW;
    if (va < (1ul << 47))
        e |= X86_PTE_US;
    return e;
}

static uint64_t x86_make_leaf(uint64_t pa, unsigned level, unsigned prot)
{
    uint64_t e = (pa & X86_PTE_ADDR) | X86_PTE_P | x86_cache_bits(prot, pat_bit(level));
    if (level > 0)
        e |= X86_PTE_PS;
    if (prot & PT_W)
        e |= X86_PTE_RW;
    if (!(prot & PT_X))
        e |= X86_PTE_NX;
    if (prot & PT_U)
        e |= X86_PTE_US;
    if (prot & PT_G)
        e |= X86_PTE_G;
    if (prot & PT_ACCESSED)
        e |= X86_PTE_A;
    if (prot & PT_DIRTY)
        e |= X86_PTE_D;
    return e;
}

static void x86_decode_leaf(uint64_t e, unsigned level, struct pt_view *v)
{
    /* Bits 12..20 (or 12..29) of a large leaf are PAT and reserved zeros. */
    v->pa = e & X86_PTE_ADDR & ~(level_size(level) - 1);
    v->prot = x86_cache_prot(e, pat_bit(level));
    if (e & X86_PTE_RW)
        v->prot |= PT_W;
    if (!(e & X86_PTE_NX))
        v->prot |= PT_X;
    if (e & X86_PTE_US)
        v->prot |= PT_U;
    if (e & X86_PTE_G)
        v->prot |= PT_G;
    v->accessed = e & X86_PTE_A;
    v->dirty = e & X86_PTE_D;
}

/*
 * A payload entry (include/mm/pt_x86_64.h has the drawing): P clear, bit
 * 1 set so that no payload gives the empty entry, the payload inverted in
 * bits 12..61, and everything else clear.  Inverted, as Linux stores its
 * swap offsets: a small payload leaves the address bits (12..51) nearly
 * all ones, beyond any RAM, so a CPU that speculates through a
 * non-present entry (the L1 Terminal Fault flaw) reads nothing real.  A
 * and D (bits 5 and 6) stay clear: some CPUs have been known to set them
 * in entries they should have ignored, which would corrupt a payload.
 */
#define PAYLOAD_BITS 50
#define PAYLOAD_MASK ((1ul << PAYLOAD_BITS) - 1)
#define PAYLOAD_MARK X86_PTE_RW

static uint64_t x86_make_payload(uint64_t payload)
{
    return ((~payload & PAYLOAD_MASK) << PAGE_SHIFT) | PAYLOAD_MARK;
}

static uint64_t x86_payload_of(uint64_t e)
{
    return ~(e >> PAGE_SHIFT) & PAYLOAD_MASK;
}

/* Canonical: bits 63..47 all equal (sign extension of bit 47). */
static bool x86_va_ok(uint64_t va)
{
    uint64_t top = va >> 47;
    return top == 0 || top == 0x1ffff;
}

const struct pt_format pt_x86_64 = {
    .name = "x86-64 4-level",
    .levels = LEVELS,
    .entry_bytes = 8,
    .index_bits = INDEX_BITS,
    .leaf_levels = (1u << 0) | (1u << 1) | (1u << 2),  /* 4 KiB, 2 MiB, 1 GiB */
    .va_bits = 48,
    .pa_bits = 52,
    /* PS makes a PDE or a PDPTE a leaf; in a PML4E it is reserved (level 3
     * is not in leaf_levels, so the walker never asks). */
    .present_mask = X86_PTE_P,
    .leaf_mask = X86_PTE_PS,
    .table_mask = X86_PTE_ADDR,
    .accessed_mask = X86_PTE_A,
    .dirty_mask = X86_PTE_D,
    .make_table = x86_make_table,
    .make_leaf = x86_make_leaf,
    .decode_leaf = x86_decode_leaf,
    .va_ok = x86_va_ok,
    .payload_bits = PAYLOAD_BITS,
    .make_payload = x86_make_payload,
    .payload_of = x86_payload_of,
};
