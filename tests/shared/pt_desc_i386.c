/*
 * The i386 two-level format (32-bit paging, no PAE) described for the
 * tests (tests/shared/pt_raw.h), from the Intel SDM vol. 3A, section 4.3
 * (tables 4-4 to 4-6) and the Page Attribute Table section, without
 * compat32/pt_i386.c's functions: the raw decoders here are the oracle
 * the format is checked against.  A 32-bit process's range ends where
 * SOS's mirror begins (PDE 1023), which the random case installs.
 */
#include "pt_raw.h"

#include <compat32/pt_i386.h>

#define M4 (4 * MiB)
#define TOP (1ul << 32)
#define VA_END 0xffc00000ul /* the mirror starts here */

PT_RAW_NOCOV static bool i386_raw_leaf(uint64_t e, unsigned level)
{
    return level == 0 || (level == 1 && (e & I386_PDE_PS));
}

PT_RAW_NOCOV static uint64_t i386_raw_leaf_pa(uint64_t e, unsigned level)
{
    return (uint32_t)e & (level ? I386_PDE_FRAME_LARGE : I386_PTE_FRAME);
}

/*
 * A leaf: a 32-bit entry, nothing in the available bits 10-11 (bit 9 is
 * the soft NX), and in a 4 MiB PDE nothing in the reserved bits 13-21
 * (the PSE-36 address bits, unused).  A PDE pointing to a page table:
 * exactly P|RW|US besides the frame.
 */
PT_RAW_NOCOV static const char *i386_raw_bad(uint64_t e, unsigned level, bool leaf, uint64_t va)
{
    (void)va;
    if (e >> 32)
        return "not a 32-bit entry";
    if (!leaf)
        return (e & 0xfff) == (I386_PTE_P | I386_PTE_RW | I386_PTE_US)
                   ? NULL
                   : "a PDE pointing to a table that is not exactly P|RW|US";
    if (e & 0xc00)
        return "a leaf with stray available bits (10-11)";
    if (level == 1 && (e & I386_PDE_RSVD_LARGE))
        return "a 4 MiB leaf with reserved bits 13-21 set";
    return NULL;
}

/* Payload entries: the documents' non-present PTE, P clear and the
 * payload in the 31 bits above it. */
PT_RAW_NOCOV static uint64_t i386_raw_payload(uint64_t e)
{
    return (e >> 32) || (e & I386_PTE_P) ? 0 : e >> 1;
}

/* The SOS mirror in PDE 1023, user-readable (compat32.mirror=ro). */
static void i386_decorate(struct pgtable *pt)
{
    pt_raw_set(&pt_desc_i386, pt->root, I386_MIRROR_PDE, pt_i386_mirror_entry(pt->root, true));
}

static const struct pt_range i386_bad_ranges[] = {
    { 0x1000, 0x1000 },                              /* empty */
    { 0x2000, 0x1000 },                              /* reversed */
    { 0x1001, 0x3000 },                              /* unaligned */
    { 0, TOP + 0x1000 },                             /* past 4 GiB */
    { TOP, TOP + 0x1000 },                           /* above 4 GiB */
    { 0xffff800000000000ul, 0xfffffffffffff000ul },  /* an x86-64 kernel range */
};

static const struct pt_range i386_good_ranges[] = {
    { 0, VA_END },
    { 0, TOP }, /* the whole 32-bit space */
};

const struct pt_desc pt_desc_i386 = {
    .name = "i386",
    .fmt = &pt_i386,
    .gfp = GFP_DMA32,
    .levels = 2,
    .index_bits = 10,
    .entry_bytes = 4,
    .nsizes = 2,
    .sizes = { FR, M4 },
    .pa_limit = TOP,
    .va_bits = 32,
    .sign_extend = false,
    .bit_p = I386_PTE_P,
    .bit_a = I386_PTE_A,
    .bit_d = I386_PTE_D,
    .bit_rw = I386_PTE_RW,
    .bit_us = I386_PTE_US,
    .bit_g = I386_PTE_G,
    .bit_nx = I386_PTE_SOFT_NX,
    .bit_pwt = I386_PTE_PWT,
    .bit_pcd = I386_PTE_PCD,
    .bit_pat = I386_PTE_PAT,
    .bit_pat_large = I386_PDE_PAT_LARGE,
    .table_addr = I386_PTE_FRAME,
    .user_table_bits = I386_PTE_P | I386_PTE_RW | I386_PTE_US,
    .stray_small = 1u << 10,
    .stray_large = 1u << 13,
    .raw_leaf = i386_raw_leaf,
    .raw_leaf_pa = i386_raw_leaf_pa,
    .raw_bad = i386_raw_bad,
    .raw_payload = i386_raw_payload,
    .user = { 0, VA_END },
    .keep = { 0, VA_END },
    .walk_outside = 0xfffff000ul,
    .bad_va = { TOP, 0xffffffff80000000ul },
    .einval_end = VA_END,
    .bad_ranges = i386_bad_ranges,
    .nbad_ranges = sizeof(i386_bad_ranges) / sizeof(i386_bad_ranges[0]),
    .good_ranges = i386_good_ranges,
    .ngood_ranges = sizeof(i386_good_ranges) / sizeof(i386_good_ranges[0]),
    .choice = { 0x00800000 - 2 * FR, 0x01800000 + 3 * FR, 0x20000000, 9,
                { FR, FR, M4, M4, M4, M4, FR, FR, FR } },
    .random = { .win = { { 0, 48 * MiB }, { VA_END - 16 * MiB, VA_END } }, .nwin = 2,
                .ops = 4000, .walk_every = 16, .pa_unit = M4, .pa_units = 1000,
                .min_maps = 100, .min_eexist = 100, .min_einval = 10, .min_splits = 30,
                .min_freed = 50, .min_large_pages = 100000 },
    .decorate = i386_decorate,
};
