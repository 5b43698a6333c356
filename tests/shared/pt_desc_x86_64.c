/*
 * The x86-64 4-level format described for the tests (tests/shared/pt_raw.h),
 * from the Intel SDM vol. 3A, section 4.5 and the Page Attribute Table
 * section, without mm/pt_x86_64.c's functions: the raw decoders here are
 * the oracle the format is checked against.
 */
#include "pt_raw.h"

#include <mm/pt_x86_64.h>

#define M2 (2 * MiB)
#define USER_END 0x0000800000000000ul
#define HIGH_START 0xffff800000000000ul
#define HIGH_END 0xfffffffffffff000ul

PT_RAW_NOCOV static bool x86_raw_leaf(uint64_t e, unsigned level)
{
    return level == 0 || (level <= 2 && (e & X86_PTE_PS));
}

PT_RAW_NOCOV static uint64_t x86_raw_leaf_pa(uint64_t e, unsigned level)
{
    return e & X86_PTE_ADDR & ~(level ? X86_PTE_PAT_LARGE : 0);
}

/*
 * A leaf: nothing in bits 9-11 and 52-62, the ones the SDM leaves to
 * software (the format uses none).  A table entry: present, writable,
 * executable, user-accessible exactly in the lower half, and nothing else
 * but the address (and A, which the CPU may set).
 */
PT_RAW_NOCOV static const char *x86_raw_bad(uint64_t e, unsigned level, bool leaf, uint64_t va)
{
    (void)level;
    if (leaf)
        return e & 0x7ff0000000000e00ul ? "a leaf with bits 9-11 or 52-62 set" : NULL;
    if (!(e & X86_PTE_RW) || (e & X86_PTE_NX))
        return "a table entry that is not writable and executable";
    if (!!(e & X86_PTE_US) != (va < USER_END))
        return "a table entry with U/S wrong for its half";
    if (e & ~(X86_PTE_ADDR | X86_PTE_P | X86_PTE_RW | X86_PTE_US | X86_PTE_A))
        return "a table entry with stray bits";
    return NULL;
}

/* Payload entries (include/mm/pt_x86_64.h): P clear, bit 1 set, the
 * payload inverted in bits 12..61, nothing else. */
PT_RAW_NOCOV static uint64_t x86_raw_payload(uint64_t e)
{
    const uint64_t bits = ((1ul << 50) - 1) << 12;
    if ((e & ~(bits | X86_PTE_RW)) || !(e & X86_PTE_RW))
        return 0;
    return ~(e >> 12) & ((1ul << 50) - 1);
}

static const struct pt_range x86_bad_ranges[] = {
    { 0x1000, 0x1000 },                    /* empty */
    { 0x2000, 0x1000 },                    /* reversed */
    { 0x1001, 0x3000 },                    /* unaligned */
    { 0, 0x1000000000000ul },              /* runs past the lower half */
    { 0x7ffffffff000ul, HIGH_START + FR }, /* across the hole */
    { USER_END, HIGH_START },              /* non-canonical */
};

static const struct pt_range x86_good_ranges[] = {
    { 0, USER_END },
    { HIGH_START, HIGH_END },
};

const struct pt_desc pt_desc_x86_64 = {
    .name = "x86_64",
    .fmt = &pt_x86_64,
    .gfp = GFP_KERNEL,
    .levels = 4,
    .index_bits = 9,
    .entry_bytes = 8,
    .nsizes = 3,
    .sizes = { FR, M2, GiB },
    .pa_limit = 1ul << 52,
    .va_bits = 48,
    .sign_extend = true,
    .bit_p = X86_PTE_P,
    .bit_a = X86_PTE_A,
    .bit_d = X86_PTE_D,
    .bit_rw = X86_PTE_RW,
    .bit_us = X86_PTE_US,
    .bit_g = X86_PTE_G,
    .bit_nx = X86_PTE_NX,
    .bit_pwt = X86_PTE_PWT,
    .bit_pcd = X86_PTE_PCD,
    .bit_pat = X86_PTE_PAT,
    .bit_pat_large = X86_PTE_PAT_LARGE,
    .table_addr = X86_PTE_ADDR,
    .user_table_bits = X86_PTE_P | X86_PTE_RW | X86_PTE_US,
    .stray_small = 1ul << 52,
    .stray_large = 1ul << 52,
    .raw_leaf = x86_raw_leaf,
    .raw_leaf_pa = x86_raw_leaf_pa,
    .raw_bad = x86_raw_bad,
    .raw_payload = x86_raw_payload,
    .user = { 0, USER_END },
    .keep = { HIGH_START, HIGH_END },
    .walk_outside = HIGH_START,
    .bad_va = { USER_END, 0xffff000000000000ul },
    .einval_end = 4 * GiB,
    .bad_ranges = x86_bad_ranges,
    .nbad_ranges = sizeof(x86_bad_ranges) / sizeof(x86_bad_ranges[0]),
    .good_ranges = x86_good_ranges,
    .ngood_ranges = sizeof(x86_good_ranges) / sizeof(x86_good_ranges[0]),
    .choice = { GiB - M2 - 2 * FR, 2 * GiB + M2 + 3 * FR, 5 * GiB, 8,
                { FR, FR, M2, GiB, M2, FR, FR, FR } },
    .random = { .win = { { GiB - 8 * MiB, GiB + 8 * MiB } }, .nwin = 1, .ops = 600,
                .walk_every = 1, .pa_unit = GiB, .pa_units = 64,
                .min_maps = 50, .min_eexist = 40, .min_einval = 2, .min_splits = 5,
                .min_freed = 20, .min_large_pages = 20000 },
    .decorate = NULL,
};
