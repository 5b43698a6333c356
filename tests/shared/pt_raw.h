/*
 * The page-table formats as the tests see them, and a walker of raw
 * entries: what the host tests, the in-kernel tests and the fuzz targets
 * of mm/pgtable*.c share about a format.
 *
 * A `struct pt_desc` describes one format a second time, from the Intel
 * SDM (vol. 3A, 4.3 for i386's 32-bit paging, 4.5 for x86-64's 4-level
 * paging) and without the format's own functions: its geometry, where
 * its bits are, how to read a raw entry (is it a leaf, what does it map,
 * with which rights, is a bit set that no entry may have).  The format
 * under test (`fmt`) is only what the cases call through pt_map and
 * friends; the description is the independent oracle they check it
 * against.  It also carries the addresses the shared cases use for this
 * format (tests/shared/pt_cases.c): a process's range, addresses that are
 * not translatable, the ranges pt_init must refuse...
 *
 * pt_raw_walk() reads a pgtable's tables from the raw bits alone: every
 * table page must be an allocated frame of RAM the format can point to,
 * every entry pointing to a table must have exactly the bits a table
 * entry gets, no table but a kept top-level one may be empty, no entry
 * below the root may lie outside the pgtable's range (root entries
 * outside it are not the pgtable's: the kernel half, the i386 mirror),
 * every leaf must be aligned to its size and free of stray bits, every
 * non-present entry empty or a well-formed payload entry at level 0.  It
 * counts the table pages and hands every leaf and payload entry, in
 * address order, to callbacks.  It is a different program from the walker (mm/pgtable.c)
 * and its validator (mm/pgtable_check.c), so that one mistake cannot
 * hide in both.
 */
#ifndef TESTS_SHARED_PT_RAW_H
#define TESTS_SHARED_PT_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mm/gfp.h>
#include <mm/pgtable.h>

/* The raw walker and the descriptions' decoders run after every fuzz
 * operation: keep them out of the coverage instrumentation (see
 * tests/fuzz/coverage_ignore.txt for why). */
#define PT_RAW_NOCOV __attribute__((no_sanitize("coverage")))

#define KiB (1ul << 10)
#define MiB (1ul << 20)
#define GiB (1ul << 30)
#define FR 4096ul

/* A range [start, end). */
struct pt_range {
    uint64_t start, end;
};

struct pt_desc {
    const char *name;                /* "x86_64", "i386": how case names start */
    const struct pt_format *fmt;     /* the format under test */
    gfp_t gfp;                       /* where its table pages come from */

    /* ---- the geometry, from the SDM ---- */
    unsigned levels;                 /* 4, 2 */
    unsigned index_bits;             /* 9, 10 */
    unsigned entry_bytes;            /* 8, 4 */
    unsigned nsizes;                 /* page sizes offered, smallest first: */
    uint64_t sizes[PT_MAX_LEVELS];   /* 4 KiB, 2 MiB, 1 GiB / 4 KiB, 4 MiB */
    uint64_t pa_limit;               /* 2^52, 2^32: every pa of a leaf is below */
    unsigned va_bits;                /* 48, 32 */
    bool sign_extend;                /* addresses with bit va_bits - 1 set are
                                      * sign-extended (x86-64's upper half) */

    /* ---- the bits ---- */
    uint64_t bit_p, bit_a, bit_d;    /* present, accessed, dirty */
    uint64_t bit_rw, bit_us, bit_g;  /* writable, user, global */
    uint64_t bit_nx;                 /* not executable (i386: the soft NX bit) */
    uint64_t bit_pwt, bit_pcd;       /* PAT index bits 0 and 1 */
    uint64_t bit_pat, bit_pat_large; /* PAT index bit 2: in a 4 KiB leaf, in a larger one */
    uint64_t table_addr;             /* the address bits of an entry pointing to a table */
    uint64_t user_table_bits;        /* the other bits of such an entry, in a user range */
    uint64_t stray_small, stray_large; /* a bit no 4 KiB leaf / no largest leaf may have */
    bool (*raw_leaf)(uint64_t e, unsigned level);        /* present e is a leaf */
    uint64_t (*raw_leaf_pa)(uint64_t e, unsigned level); /* what leaf e maps */
    /* NULL, or why a present entry covering va is malformed (leaf: a leaf
     * entry; otherwise one pointing to a table). */
    const char *(*raw_bad)(uint64_t e, unsigned level, bool leaf, uint64_t va);
    /* The payload a non-present, non-zero level-0 entry holds, read from
     * the bits as the SDM leaves them to the system; 0 when e is no
     * well-formed payload entry of the format. */
    uint64_t (*raw_payload)(uint64_t e);

    /* ---- addresses the shared cases use ---- */
    struct pt_range user;            /* a process's range */
    struct pt_range keep;            /* keep_top_tables' range (x86-64: the kernel half) */
    uint64_t walk_outside;           /* translatable, outside `user` and unmapped */
    uint64_t bad_va[2];              /* not translatable */
    uint64_t einval_end;             /* end of einval's range: translatable beyond it */
    const struct pt_range *bad_ranges;  /* pt_init refuses these */
    unsigned nbad_ranges;
    const struct pt_range *good_ranges; /* and accepts these */
    unsigned ngood_ranges;
    /* large_choice: [start, end) mapped to start + off with PT_MAP_LARGE
     * gives leaves of these sizes, in order */
    struct {
        uint64_t start, end, off;
        unsigned n;
        uint64_t sizes[12];
    } choice;
    /* the random case: windows (at most 2), operations, physical addresses
     * rnd(pa_units) * pa_unit + something, a pt_walk of every page every
     * walk_every operations, and what must have happened by the end */
    struct {
        struct pt_range win[2];
        unsigned nwin, ops, walk_every;
        uint64_t pa_unit, pa_units;
        unsigned min_maps, min_eexist, min_einval, min_splits, min_freed;
        uint64_t min_large_pages;
    } random;
    /* After pt_init in the random case: what a real user of the format
     * adds to the root outside the range (the i386 mirror), or NULL. */
    void (*decorate)(struct pgtable *pt);
};

extern const struct pt_desc pt_desc_x86_64, pt_desc_i386;

/* One walk: set d, pt, is_ram (and leaf, arg), call pt_raw_walk. */
struct pt_raw {
    const struct pt_desc *d;
    const struct pgtable *pt;
    /* Is [pa, pa + 4096) RAM the allocator manages? */
    bool (*is_ram)(uint64_t pa);
    /* Every leaf in address order (may be NULL). */
    void (*leaf)(void *arg, uint64_t va, uint64_t size, uint64_t pa, unsigned prot);
    /* Every payload entry, in the same order (may be NULL). */
    void (*payload)(void *arg, uint64_t va, uint64_t payload);
    void *arg;
    uint64_t tables;                 /* out: table pages reachable, the root included */
    uint64_t leaves;                 /* out: leaves seen */
    uint64_t payloads;               /* out: payload entries seen */
    char why[200];                   /* out: the first problem */
};

/* 0, or -1 with the first problem in w->why. */
int pt_raw_walk(struct pt_raw *w);

/* The table page at pa (a frame: check first), through the direct map. */
const void *pt_raw_table(uint64_t pa);

/* Entry i of the table at t. */
PT_RAW_NOCOV static inline uint64_t pt_raw_at(const struct pt_desc *d, const void *t, unsigned i)
{
    if (d->entry_bytes == 8)
        return ((const uint64_t *)t)[i];
    return ((const uint32_t *)t)[i];
}

/* Read and write entry i of the table at pa (a frame). */
uint64_t pt_raw_entry(const struct pt_desc *d, uint64_t pa, unsigned i);
void pt_raw_set(const struct pt_desc *d, uint64_t pa, unsigned i, uint64_t e);

/* Bytes one entry of this level maps. */
static inline uint64_t pt_raw_size(const struct pt_desc *d, unsigned level)
{
    return 4096ul << (d->index_bits * level);
}

/* Which entry of its level's table covers va. */
static inline unsigned pt_raw_index(const struct pt_desc *d, unsigned level, uint64_t va)
{
    return (unsigned)(va >> (12 + d->index_bits * level)) & ((1u << d->index_bits) - 1);
}

/* The PT_* rights and cache type of leaf e at this level, from its bits:
 * the PAT index (PWT, PCD, PAT) through IA32_PAT as the kernel programs it
 * (WB WC UC- UC WB WP WC WT), read back as the formats do (UC- as UC, WP
 * as WT). */
unsigned pt_raw_prot(const struct pt_desc *d, uint64_t e, unsigned level);

/* The level of a leaf of this size (sizes[] of the description), or -1. */
int pt_raw_level_of(const struct pt_desc *d, uint64_t size);

#endif
