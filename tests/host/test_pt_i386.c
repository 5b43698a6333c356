/*
 * Host tests of the i386 two-level format (compat32/pt_i386.c) behind the
 * generic walker (mm/pgtable.c), and of SOS-style mirroring.
 *
 * The cases every format shares (mapping, splitting, refusals, -ENOMEM,
 * the flush contract, the random model over two windows with the mirror
 * installed...) are written once in tests/shared/pt_cases.c and run here
 * as i386/<name>, over the harness of tests/shared/pt_harness.h; the
 * in-kernel test (tests/kernel/test_pgtable.c) runs the same cases over
 * the real allocator.  This file adds what only i386 has: the entry bits
 * at Intel's positions (SDM vol. 3A, 4.3), the header's helpers, the
 * edges of the 32-bit space, the mirror, fork's copy with mirrors, and
 * table pages below 4 GiB.  One binary per format: see
 * tests/host/test_pgtable.c for why.
 *
 * Physical memory is the private arena of tests/host/mm_host.c (32 MiB of
 * address space, 30 MiB of RAM, all below 4 GiB): table pages are real
 * buddy allocations (GFP_DMA32), read and written through the arena as
 * arrays of 1024 uint32_t.  Mapped frames are just numbers below 4 GiB.
 * After every operation ph_check() runs pt_check(), the allocator's
 * validator, the raw walker of tests/shared/pt_raw.c (the table count,
 * PDEs pointing to tables exactly P|RW|US, no stray bit in a leaf:
 * available bits 10-11, reserved bits 13-21 of a 4 MiB PDE), the frame
 * count, and the mirror entry as it was installed.
 */
#include <stdlib.h>

#include "htest.h"
#include "mm_host.h"
#include "../shared/pt_cases.h"
#include "../shared/pt_harness.h"
#include <kernel/errno.h>
#include <mm/gfp.h>
#include <mm/pgtable.h>
#include <compat32/pt_i386.h>
#include <mm/zone.h>

#define M4 (4 * MiB)
#define TOP (1ul << 32)             /* the end of the 32-bit space */
#define VA_END 0xffc00000ul         /* the pgtable's end: the mirror starts here */
#define NX I386_PTE_SOFT_NX

/* A table page as 1024 entries (through the arena). */
static uint32_t *tab(uint64_t pa)
{
    return (uint32_t *)(mm_host_arena() + pa);
}

static uint32_t mirror; /* the value PDE 1023 holds */

/* Put the mirror entry in PDE 1023 by hand, as compat32 does; ph_check
 * then insists it stays. */
static void install_mirror(bool user_readable)
{
    mirror = pt_i386_mirror_entry(ph.pt.root, user_readable);
    tab(ph.pt.root)[I386_MIRROR_PDE] = mirror;
    ph_freeze_outside();
}

/* ---- the format ------------------------------------------------------------------------ */

static void t_format_bits(void)
{
    const struct pt_format *f = &pt_i386;
    HT_EQ_U(f->levels, 2);
    HT_EQ_U(f->entry_bytes, 4);
    HT_EQ_U(f->index_bits, 10);
    HT_EQ_U(f->leaf_levels, 3);
    HT_EQ_U(f->va_bits, 32);
    HT_EQ_U(f->pa_bits, 32);

    /* A user read-write 4 KiB page: P|RW|US = 7, plus soft NX unless executable. */
    uint64_t pa = 0x12345000;
    HT_EQ_U(f->make_leaf(pa, 0, PT_W | PT_U | PT_X), 0x12345007u);
    HT_EQ_U(f->make_leaf(pa, 0, PT_W | PT_U), 0x12345207u);
    HT_EQ_U(f->make_leaf(pa, 0, 0), 0x12345201u);
    HT_EQ_U(f->make_leaf(pa, 0, PT_X | PT_G), 0x12345101u);
    HT_EQ_U(f->make_leaf(pa, 0, PT_X | PT_ACCESSED), 0x12345021u);
    HT_EQ_U(f->make_leaf(pa, 0, PT_X | PT_DIRTY), 0x12345041u);
    HT_EQ_U(f->make_leaf(pa, 0, PT_X | PT_WC), 0x12345009u);
    HT_EQ_U(f->make_leaf(pa, 0, PT_X | PT_UC), 0x12345019u);
    HT_EQ_U(f->make_leaf(pa, 0, PT_X | PT_WT), 0x12345099u); /* PAT is bit 7 in a PTE */
    /* A 4 MiB page: PS (bit 7), PAT at bit 12, frame in bits 22..31. */
    HT_EQ_U(f->make_leaf(0x12c00000, 1, PT_W | PT_U | PT_X), 0x12c00087u);
    HT_EQ_U(f->make_leaf(0x12c00000, 1, PT_W | PT_U), 0x12c00287u);
    HT_EQ_U(f->make_leaf(0x12c00000, 1, PT_X | PT_WT), 0x12c01099u);
    HT_EQ_U(f->make_leaf(0xffc00000, 1, PT_W | PT_X | PT_ACCESSED | PT_DIRTY), 0xffc000e3u);
    /* make_leaf keeps only the frame bits of its level. */
    HT_EQ_U(f->make_leaf(0x12efffff, 1, PT_X), 0x12c00081u);
    HT_EQ_U(f->make_leaf(0x12345fff, 0, PT_X), 0x12345001u);

    /* Tables: P|RW|US whatever the address, never soft NX. */
    HT_EQ_U(f->make_table(0x345000, 0), 0x345007u);
    HT_EQ_U(f->make_table(0x345000, 0xff000000), 0x345007u);
    HT_EQ_U(f->make_table(0xfffff000, 0) & f->table_mask, 0xfffff000u);
    HT_EQ_U(0x345067 & f->table_mask, 0x345000u);

    /* The walker's tests are these masks (struct pt_format): P, PS (in a
     * PDE: level 1 is the only level above 0), the frame, A and D. */
    HT_EQ_U(f->present_mask, I386_PTE_P);
    HT_EQ_U(f->leaf_mask, I386_PDE_PS);
    HT_EQ_U(f->table_mask, I386_PTE_FRAME);
    HT_EQ_U(f->accessed_mask, I386_PTE_A);
    HT_EQ_U(f->dirty_mask, I386_PTE_D);

    static const uint64_t ok[] = { 0, 0x1000, 0xbfffffff, 0xffc00000, 0xffffffff };
    static const uint64_t bad[] = { TOP, TOP + 0x1000, 1ul << 47, 0xfffffffffffffffful };
    for (size_t i = 0; i < HT_COUNT(ok); i++)
        HT_ASSERT(f->va_ok(ok[i]), "%#lx is a 32-bit address", ok[i]);
    for (size_t i = 0; i < HT_COUNT(bad); i++)
        HT_ASSERT(!f->va_ok(bad[i]), "%#lx is not a 32-bit address", bad[i]);

    /* Entries not made by make_leaf: UC- reads as UC, WP as WT, index 4 as WB. */
    struct pt_view v;
    static const struct { uint32_t bits; unsigned cache; } foreign[] = {
        { I386_PTE_PCD, PT_UC },
        { I386_PTE_PAT, PT_WB },
        { I386_PTE_PAT | I386_PTE_PWT, PT_WT },
        { I386_PTE_PAT | I386_PTE_PCD, PT_UC },
    };
    for (size_t i = 0; i < HT_COUNT(foreign); i++) {
        f->decode_leaf(pa | I386_PTE_P | foreign[i].bits, 0, &v);
        HT_EQ_U(v.prot, PT_X | foreign[i].cache);
    }
    /* In a 4 MiB PDE bit 7 is PS, not PAT; bit 12 is PAT, not address. */
    f->decode_leaf(0x12c01081u, 1, &v);
    HT_ASSERT(v.pa == 0x12c00000 && v.prot == (PT_X | PT_WB), "PAT alone: pa %#lx prot %#x",
              v.pa, v.prot);
    /* Soft NX, A, D decode. */
    f->decode_leaf(0x12345261u, 0, &v);
    HT_ASSERT(v.pa == pa && v.prot == 0 && v.accessed && v.dirty, "pa %#lx prot %#x a %d d %d",
              v.pa, v.prot, v.accessed, v.dirty);
}

/* The helpers of include/compat32/pt_i386.h, and the mirror entry's bits. */
static void t_header_helpers(void)
{
    HT_EQ_U(pde_index(0x00000000), 0);
    HT_EQ_U(pde_index(0x08048123), 32);
    HT_EQ_U(pde_index(0xffc00000), 1023);
    HT_EQ_U(pde_index(0xffffffff), 1023);
    HT_EQ_U(pte_index(0x12345678), 0x345);
    HT_EQ_U(pte_index(0x003ff000), 1023);
    HT_EQ_U(pte_index(0x00400000), 0);
    HT_EQ_U(pte_frame(0x12345067), 0x12345);
    HT_EQ_U(pte_addr(0x12345067), 0x12345000);
    HT_EQ_U(pde_large_addr(0x12c01087), 0x12c00000);
    /* The SOS formulas: the PTE of va at 0xffc00000 + (va >> 12) * 4, its PDE
     * at 0xfffff000 + (va >> 22) * 4. */
    uint32_t va = 0x08048123;
    HT_EQ_U(I386_MIRROR_BASE + pde_index(va) * I386_PAGE_SIZE + pte_index(va) * 4,
            I386_MIRROR_BASE + (va >> 12) * 4);
    HT_EQ_U(I386_MIRROR_BASE + I386_MIRROR_PDE * I386_PAGE_SIZE + pde_index(va) * 4,
            I386_MIRROR_PD + (va >> 22) * 4);

    /* P, soft NX, US only when user-readable; never RW, never PS. */
    HT_EQ_U(pt_i386_mirror_entry(0x345000, false), 0x345000u | I386_PTE_P | NX);
    HT_EQ_U(pt_i386_mirror_entry(0x345000, true), 0x345000u | I386_PTE_P | I386_PTE_US | NX);
    HT_EQ_U(pt_i386_mirror_entry(0xfffff000, true), 0xfffff205u);
    /* Read as a leaf, the mirror entry is read-only and not executable. */
    struct pt_view v;
    pt_i386.decode_leaf(pt_i386_mirror_entry(0x345000, true), 0, &v);
    HT_ASSERT(v.pa == 0x345000 && v.prot == PT_U, "mirror as a PTE: pa %#lx prot %#x",
              v.pa, v.prot);
    HT_ASSERT(!(pt_i386_mirror_entry(0x345000, false) & pt_i386.leaf_mask),
              "the mirror PDE must point to a table");
}


/*
 * The entries pt_map, splits and pt_protect write, read in memory at
 * Intel's positions (the same operations run in the shared cases, which
 * check them through the views).
 */
static void t_entry_bits(void)
{
    /* 4 KiB pages: the PDE points to a table with P|RW|US, the PTEs hold
     * frame | soft NX | U/S | R/W | P. */
    HT_TRY(ph_setup());
    uint64_t va = 0x08048000, pa = 0x12345000;
    HT_EQ_U(pt_map(&ph.pt, va, pa, 3 * FR, PT_W | PT_U, 0), 0);
    HT_TRY(ph_check());
    uint32_t pde = tab(ph.pt.root)[pde_index((uint32_t)va)];
    HT_EQ_U(pde & 0xfff, I386_PTE_P | I386_PTE_RW | I386_PTE_US);
    HT_EQ_U(tab(pte_addr(pde))[pte_index((uint32_t)va)], 0x12345207u);
    HT_EQ_U(tab(pte_addr(pde))[pte_index((uint32_t)va) + 2], 0x12347207u);
    struct pt_view v;
    HT_EQ_U(pt_walk(&ph.pt, va + FR, &v), 0);
    HT_EQ_U(v.raw[0], pde);
    HT_EQ_U(v.raw[1], 0x12346207u);
    HT_TRY(ph_teardown());

    /* 4 MiB pages: PS (bit 7) in the PDE; write-through moves PAT to bit 12. */
    HT_TRY(ph_setup());
    va = 0x40000000;
    pa = 0x12c00000;
    HT_EQ_U(pt_map(&ph.pt, va, pa, 2 * M4, PT_W | PT_U, PT_MAP_LARGE), 0);
    HT_EQ_U(tab(ph.pt.root)[256], 0x12c00287u);
    HT_EQ_U(tab(ph.pt.root)[257], 0x13000287u);
    HT_EQ_U(pt_map(&ph.pt, 0x80000000, 0xff800000, M4, PT_X | PT_WT, PT_MAP_LARGE), 0);
    HT_EQ_U(tab(ph.pt.root)[512], 0xff801099u);
    HT_TRY(ph_expect_leaf(0x80000000, 0xff800000, M4, PT_X | PT_WT));
    HT_TRY(ph_check());
    HT_TRY(ph_teardown());

    /* A split 4 MiB leaf: a new page table of PTEs at the same frames. */
    HT_TRY(ph_setup());
    va = 0x40000000;
    pa = 0x80000000;
    HT_EQ_U(pt_map(&ph.pt, va, pa, 3 * M4, PT_W | PT_U, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_unmap(&ph.pt, va + M4 + 5 * FR, FR), 0);
    HT_TRY(ph_check());
    pde = tab(ph.pt.root)[pde_index((uint32_t)(va + M4))];
    HT_EQ_U(pde & 0xfff, 0x7);
    HT_EQ_U(tab(pte_addr(pde))[0], (uint32_t)(pa + M4) | 0x207u);
    HT_EQ_U(tab(pte_addr(pde))[5], 0);
    HT_TRY(ph_teardown());

    /* pt_protect of one page of a leaf the CPU marked accessed and dirty:
     * every piece keeps A and D, the protected one lost soft NX and R/W;
     * a whole leaf is rewritten in place. */
    HT_TRY(ph_setup());
    va = 0x40000000;
    pa = 0x00c00000;
    HT_EQ_U(pt_map(&ph.pt, va, pa, 2 * M4, PT_W | PT_U, PT_MAP_LARGE), 0);
    tab(ph.pt.root)[256] |= I386_PTE_A | I386_PTE_D; /* as the CPU would */
    HT_EQ_U(pt_protect(&ph.pt, va + 7 * FR, FR, PT_U | PT_X), 0);
    HT_TRY(ph_check());
    uint32_t *ptes = tab(pte_addr(tab(ph.pt.root)[256]));
    HT_EQ_U(ptes[6], (uint32_t)(pa + 6 * FR) | 0x267u);
    HT_EQ_U(ptes[7], (uint32_t)(pa + 7 * FR) | 0x065u);
    HT_EQ_U(ptes[1023], (uint32_t)(pa + 1023 * FR) | 0x267u);
    HT_EQ_U(pt_protect(&ph.pt, va + M4, M4, PT_U | PT_WC), 0);
    HT_TRY(ph_check());
    HT_EQ_U(tab(ph.pt.root)[257], (uint32_t)(pa + M4) | 0x28du);
    HT_TRY(ph_teardown());
}

/* The top of the range and of the physical space. */
static void t_edges(void)
{
    HT_TRY(ph_setup());
    /* The last PDE below the mirror, as a 4 MiB leaf of the last 4 MiB frame. */
    HT_EQ_U(pt_map(&ph.pt, VA_END - M4, 0xffc00000, M4, PT_W | PT_U, PT_MAP_LARGE), 0);
    HT_TRY(ph_expect_leaf(VA_END - 1, 0xffc00000, M4, PT_W | PT_U));
    HT_EQ_U(pt_unmap(&ph.pt, VA_END - M4, M4), 0);
    /* The last 4 KiB page of the range, mapping the last frame below 4 GiB. */
    HT_EQ_U(pt_map(&ph.pt, VA_END - FR, TOP - FR, FR, PT_U, 0), 0);
    HT_TRY(ph_expect_leaf(VA_END - FR, TOP - FR, FR, PT_U));
    HT_TRY(ph_check());
    HT_EQ_U(pt_map(&ph.pt, VA_END, 0, FR, PT_U, 0), -EINVAL); /* the mirror's page */
    HT_TRY(ph_teardown());

    /* With the whole 32-bit space as range, the last page can be mapped. */
    HT_TRY(ph_setup_range(0, TOP, false));
    HT_EQ_U(pt_map(&ph.pt, TOP - FR, 0x5000, FR, PT_W, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, TOP - 2 * M4, TOP - 2 * M4, 2 * M4, PT_W, PT_MAP_LARGE), -EEXIST);
    HT_EQ_U(pt_map(&ph.pt, TOP - 2 * M4, TOP - 2 * M4, M4, PT_W, PT_MAP_LARGE), 0);
    HT_TRY(ph_check());
    HT_TRY(ph_expect_leaf(TOP - FR, 0x5000, FR, PT_W));
    HT_TRY(ph_expect_leaf(TOP - 2 * M4, TOP - 2 * M4, M4, PT_W));
    struct ph_leaves *l = &ph_leaves;
    memset(l, 0, sizeof(*l));
    HT_EQ_U(pt_for_each(&ph.pt, TOP - 2 * M4, TOP, ph_collect, l), 0);
    HT_ASSERT(l->n == 2 && l->v[1].va == TOP - FR, "%zu leaves", l->n);
    HT_EQ_U(pt_unmap(&ph.pt, 0, TOP), 0);
    HT_TRY(ph_check());
    HT_EQ_U(ph.pt.nr_tables, 1);
    HT_TRY(ph_teardown());
}


/* ---- mirroring ---------------------------------------------------------------------------- */

/*
 * PDE 1023 points to the directory.  Walking the mirror window as the
 * CPU would: 0xffc00000 + i * 4096 is the page table of PDE i (a PDE read
 * as a PTE), 0xfffff000 the directory itself, and SOS's formulas give the
 * address of any entry.
 */
static void mirror_case(bool user_readable)
{
    HT_TRY(ph_setup());
    HT_TRY(install_mirror(user_readable));
    HT_EQ_U(mirror, (uint32_t)ph.pt.root | I386_PTE_P | NX | (user_readable ? I386_PTE_US : 0));
    HT_TRY(ph_check());
    static const struct { uint64_t va, pa, len; unsigned prot, flags; } maps[] = {
        { 0x00400000, 0x00123000, 3 * FR, PT_U | PT_X, 0 },          /* PDE 1: text */
        { 0x08048000, 0x00200000, FR, PT_U | PT_W, 0 },              /* PDE 32 */
        { 0x40000000, 0x12c00000, M4, PT_U | PT_W, PT_MAP_LARGE },   /* PDE 256: 4 MiB */
        { 0xbfffe000, 0x00300000, 2 * FR, PT_U | PT_W, 0 },          /* PDE 767: a stack */
        { VA_END - FR, 0x00400000, FR, PT_U, 0 },                    /* PDE 1022 */
    };
    for (size_t i = 0; i < HT_COUNT(maps); i++)
        HT_EQ_U(pt_map(&ph.pt, maps[i].va, maps[i].pa, maps[i].len, maps[i].prot, maps[i].flags),
                0);
    HT_TRY(ph_check());
    HT_EQ_U(ph.pt.nr_tables, 5); /* the directory, 4 page tables: the mirror adds none */

    /* The mirror window, one page per PDE. */
    unsigned present = 0;
    for (unsigned i = 0; i < 1024; i++) {
        struct pt_view v;
        uint32_t pde = tab(ph.pt.root)[i];
        int rc = pt_walk(&ph.pt, I386_MIRROR_BASE + i * FR, &v);
        if (!(pde & I386_PTE_P)) {
            HT_ASSERT(rc == -ENOENT && v.nraw == 2 && v.level == 0 && v.raw[0] == mirror,
                      "mirror page %u: rc %d nraw %u level %u", i, rc, v.nraw, v.level);
            continue;
        }
        present++;
        HT_ASSERT(rc == 0 && v.level == 0 && v.size == FR && v.nraw == 2 && v.raw[0] == mirror &&
                      v.raw[1] == pde,
                  "mirror page %u: rc %d level %u raw %#lx %#lx, PDE %#x", i, rc, v.level,
                  v.raw[0], v.raw[1], pde);
        /* A PDE read as a PTE: frame bits 12..31 (for a 4 MiB PDE, bit 12 is its PAT). */
        HT_EQ_U(v.pa, pde & I386_PTE_FRAME);
        if (i == I386_MIRROR_PDE)
            HT_EQ_U(v.pa, ph.pt.root);
        else if (!(pde & I386_PDE_PS))
            HT_ASSERT(page_count(pfn_to_page(v.pa / FR)) >= 1 && v.pa != ph.pt.root,
                      "mirror page %u: %#lx is not a page table", i, v.pa);
    }
    HT_EQ_U(present, 6); /* 1, 32, 256, 767, 1022 and the mirror itself */

    /* The directory at 0xfffff000, read-only and not executable. */
    struct pt_view d;
    HT_EQ_U(pt_walk(&ph.pt, I386_MIRROR_PD, &d), 0);
    HT_EQ_U(d.pa, ph.pt.root);
    HT_EQ_U(d.raw[1], mirror);
    HT_EQ_U(d.prot, user_readable ? PT_U : 0);

    /* Every mapped page's PTE and PDE, found through the mirror by SOS's
     * formulas and read through the arena, are the entries pt_walk read. */
    for (size_t i = 0; i < HT_COUNT(maps); i++) {
        for (uint64_t off = 0; off < maps[i].len; off += maps[i].flags ? M4 : FR) {
            uint32_t va = (uint32_t)(maps[i].va + off);
            struct pt_view v, w;
            HT_EQ_U(pt_walk(&ph.pt, va, &v), 0);
            uint32_t pde_va = I386_MIRROR_PD + (va >> 22) * 4;
            HT_EQ_U(pt_walk(&ph.pt, pde_va, &w), 0);
            HT_EQ_U(*(uint32_t *)(mm_host_arena() + w.pa + (pde_va & 0xfff)), v.raw[0]);
            if (v.level == 1)
                continue; /* a 4 MiB leaf: its PDE is the leaf */
            uint32_t pte_va = I386_MIRROR_BASE + (va >> 12) * 4;
            HT_EQ_U(pt_walk(&ph.pt, pte_va, &w), 0);
            HT_EQ_U(*(uint32_t *)(mm_host_arena() + w.pa + (pte_va & 0xfff)), v.raw[1]);
            HT_EQ_U(tab(w.pa)[pte_index(va)], v.raw[1]);
        }
    }

    /* pt_for_each over the mirror window sees each present PDE as a 4 KiB leaf;
     * over the range it never sees the mirror. */
    struct ph_leaves *l = &ph_leaves;
    memset(l, 0, sizeof(*l));
    HT_EQ_U(pt_for_each(&ph.pt, I386_MIRROR_BASE, TOP, ph_collect, l), 0);
    HT_EQ_U(l->n, 6);
    HT_ASSERT(l->v[5].va == I386_MIRROR_PD && l->v[5].pa == ph.pt.root, "last mirror leaf %#lx",
              l->v[5].va);
    memset(l, 0, sizeof(*l));
    HT_EQ_U(pt_for_each(&ph.pt, 0, VA_END, ph_collect, l), 0);
    HT_EQ_U(l->n, 3 + 1 + 1 + 2 + 1);

    /* Operations near the mirror leave it alone. */
    HT_EQ_U(pt_unmap(&ph.pt, VA_END - M4, M4), 0);
    HT_EQ_U(pt_map(&ph.pt, VA_END - M4, 0xffc00000, M4, PT_U, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_protect(&ph.pt, VA_END - 2 * FR, 2 * FR, PT_U | PT_W), 0); /* splits PDE 1022 */
    HT_TRY(ph_check());
    HT_EQ_U(pt_unmap(&ph.pt, 0, VA_END), 0);
    HT_TRY(ph_check());
    HT_EQ_U(ph.pt.nr_tables, 1);
    HT_EQ_U(tab(ph.pt.root)[I386_MIRROR_PDE], mirror);

    /* pt_destroy with mappings and the mirror: it does not follow PDE 1023
     * (the root would be freed twice), and every frame comes back. */
    HT_EQ_U(pt_map(&ph.pt, 0x00400000, 0x00123000, 3 * FR, PT_U | PT_X, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, VA_END - FR, 0x00400000, FR, PT_U, 0), 0);
    HT_TRY(ph_check());
    pt_destroy(&ph.pt);
    HT_EQ_U(ph.pt.nr_tables, 0);
    HT_EQ_U(nr_free_pages(), ph.base_free);
    char why[256];
    HT_ASSERT(node_check(why, sizeof(why)) == 0, "node_check: %s", why);
}

static void t_mirror(void)
{
    HT_TRY(mirror_case(false));
}

static void t_mirror_user_readable(void)
{
    HT_TRY(mirror_case(true));
}

/* ---- fork's copy ------------------------------------------------------------------------- */

struct clone_count {
    unsigned leaves;
    uint64_t bytes;
};

static int clone_fn(struct pt_view *v, void *arg)
{
    struct clone_count *c = arg;
    c->leaves++;
    c->bytes += v->size;
    return 0;
}

static void destroy_fn(const struct pt_view *v, void *arg)
{
    struct clone_count *c = arg;
    c->leaves++;
    c->bytes += v->size;
}

/*
 * pt_clone and pt_destroy_each (mm/pgtable_clone.c) over i386 tables,
 * each with its own mirror: the copy is made a table at a time from the
 * 32-bit entries, write access goes from both (copy-on-write), and
 * neither mirror is copied, followed or freed.
 */
static void t_clone(void)
{
    HT_TRY(ph_setup());
    HT_TRY(install_mirror(false));
    HT_EQ_U(pt_map(&ph.pt, 0x08048000, 0x00123000, 5 * FR, PT_U | PT_X, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, 0x0804d000, 0x00200000, 3 * FR, PT_U | PT_W, 0), 0);
    HT_EQ_U(pt_map(&ph.pt, 0x40000000, 0x12c00000, M4, PT_U | PT_W, PT_MAP_LARGE), 0);
    HT_EQ_U(pt_map(&ph.pt, VA_END - 2 * FR, 0x00300000, 2 * FR, PT_U | PT_W, 0), 0);
    tab(pte_addr(tab(ph.pt.root)[32]))[0x4d] |= I386_PTE_A | I386_PTE_D; /* as the CPU would */
    HT_TRY(ph_check());

    struct pgtable child;
    HT_EQ_U(pt_init(&child, &pt_i386, GFP_DMA32, 0, VA_END), 0);
    uint32_t child_mirror = pt_i386_mirror_entry(child.root, true);
    tab(child.root)[I386_MIRROR_PDE] = child_mirror;
    struct clone_count c = { 0, 0 };
    unsigned calls = ph.fl.calls;
    HT_EQ_U(pt_clone(&child, &ph.pt, 0, VA_END, PT_W, 0, clone_fn, &c), 0);
    HT_EQ_U(c.leaves, 5 + 3 + 1 + 2);
    HT_EQ_U(c.bytes, 10 * FR + M4);
    HT_EQ_U(ph.fl.calls, calls + 1); /* the parent lost write access: one flush */
    ph.held = child.nr_tables; /* the child's tables, for check()'s frame count */
    HT_TRY(ph_check());
    char why[256];
    HT_ASSERT(pt_check(&child, why, sizeof(why)) == 0, "pt_check(child): %s", why);
    HT_EQ_U(child.nr_tables, 3); /* the directory, the tables of PDEs 32 and 1022 */
    HT_EQ_U(tab(child.root)[I386_MIRROR_PDE], child_mirror);

    /* Both read-only now, same frames, the state bits copied. */
    struct pt_view a, b;
    static const uint64_t probe[] = { 0x08048000, 0x0804d000, 0x0804f000, 0x40123000,
                                      VA_END - FR };
    for (size_t i = 0; i < HT_COUNT(probe); i++) {
        HT_EQ_U(pt_walk(&ph.pt, probe[i], &a), 0);
        HT_EQ_U(pt_walk(&child, probe[i], &b), 0);
        HT_ASSERT(a.pa == b.pa && a.prot == b.prot && !(a.prot & PT_W) &&
                      a.accessed == b.accessed && a.dirty == b.dirty && a.size == b.size,
                  "%#lx: parent pa %#lx prot %#x, child pa %#lx prot %#x", probe[i],
                  a.pa, a.prot, b.pa, b.prot);
        HT_EQ_U(a.raw[a.nraw - 1], b.raw[b.nraw - 1]);
    }
    HT_EQ_U(pt_walk(&child, 0x0804d000, &b), 0);
    HT_ASSERT(b.accessed && b.dirty && b.raw[1] == (0x00200000u | 0x265u),
              "child's copy %#lx", b.raw[1]);
    HT_EQ_U(pt_walk(&child, 0x40000000, &b), 0);
    HT_EQ_U(b.raw[0], 0x12c00285u);

    /* Exit's teardown of the child: every leaf reported once, the mirror not
     * followed, every table freed. */
    memset(&c, 0, sizeof(c));
    pt_destroy_each(&child, 0, destroy_fn, &c);
    HT_EQ_U(c.leaves, 5 + 3 + 1 + 2);
    HT_EQ_U(c.bytes, 10 * FR + M4);
    HT_EQ_U(child.nr_tables, 0);
    ph.held = 0;
    HT_TRY(ph_check());
    HT_TRY(ph_teardown());
}

/* ---- table pages below 4 GiB --------------------------------------------------------------- */

/*
 * A node with RAM on both sides of 4 GiB: GFP_DMA32 puts every table page
 * below 4 GiB, where a 20-bit frame number reaches it.
 */
static void t_tables_below_4g(void)
{
    static const struct host_ram wide[] = { { 1 * MiB, 8 * MiB }, { 4 * GiB, 4 * GiB + 8 * MiB } };
    mm_host_init((4 * GiB + 8 * MiB) / FR, wide, HT_COUNT(wide));
    /* A plain allocation prefers the frames above 4 GiB... */
    struct page *p = alloc_pages(GFP_KERNEL, 0);
    HT_ASSERT(p && page_to_phys(p) >= 4 * GiB, "GFP_KERNEL page at %#lx",
              p ? page_to_phys(p) : 0ul);
    __free_pages(p, 0);
    /* ...the tables do not (the description's gfp: GFP_DMA32). */
    HT_TRY(ph_start(0, VA_END, false));
    HT_EQ_U(ph.pt.gfp, GFP_DMA32);
    HT_TRY(install_mirror(false));
    for (unsigned i = 0; i < 200; i++)
        HT_EQ_U(pt_map(&ph.pt, (uint64_t)i * 5 * M4 + 7 * FR, 0, FR, PT_W, 0), 0);
    HT_TRY(ph_check());
    HT_EQ_U(ph.pt.nr_tables, 201);
    HT_TRY(ph_teardown());
}

/* ---- the cases ------------------------------------------------------------------------------ */

/* The shared cases, named i386/<case>. */
#define RUN_SHARED(name) static void run_##name(void) { tcase_##name(); }
PT_CASES(RUN_SHARED)
#define AS_HTEST(name) { "i386/" #name, run_##name },
#define I386_CASE(name) { "i386/" #name, t_##name }

static const struct htest cases[] = {
    PT_CASES(AS_HTEST)
    I386_CASE(format_bits),
    I386_CASE(header_helpers),
    I386_CASE(entry_bits),
    I386_CASE(edges),
    I386_CASE(mirror),
    I386_CASE(mirror_user_readable),
    I386_CASE(clone),
    I386_CASE(tables_below_4g),
};

int main(int argc, char **argv)
{
    ph_use(&pt_desc_i386, &pt_env_host);
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
