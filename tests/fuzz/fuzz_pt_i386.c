/*
 * libFuzzer target: the page-table walker (mm/pgtable.c, mm/pgtable_clone.c)
 * with the i386 two-level format (compat32/pt_i386.c), driven by arbitrary
 * bytes.  The run model, the checks and the target itself are
 * tests/fuzz/pt_fuzz_model.h, shared with fuzz_pgtable; this file says
 * what is i386's.
 *
 * Each input starts a fresh node with 24 frames of RAM (so -ENOMEM comes
 * up) and a fresh pgtable over a 32-bit process's range [0, 0xffc00000),
 * with or without the mirror entry in PDE 1023 (user-readable or not),
 * keeping its top tables (the page tables, here) or not, taking its
 * tables from GFP_DMA32 with or without the watermarks.  The window is
 * the 128 MiB just below the mirror, in units of 4 KiB or 4 MiB; physical
 * addresses run up to 4 GiB and past it (-EINVAL), and the clone moves
 * frames by multiples of 1 GiB, wrapping at 4 GiB.
 */
#define FUZZ_NAME "fuzz_pt_i386"
#define DESC (&pt_desc_i386)
#define SPAN (128 * MiB)
#define MAX_RUNS 2048
#define PA_STEP (16 * MiB)
#define CLONE_STEP GiB
/* 4 MiB units: a walk over 8 MiB of 4 KiB leaves is 2048 entries already */
#define MAX_UNITS { 4, 2 }

#include "pt_fuzz_model.h"
#include <compat32/pt_i386.h>

static const struct host_ram ram[] = { { 1 * MiB, 1 * MiB + 24 * FR } };

static void fz_begin(uint8_t how)
{
    static bool ready;
    if (!ready) {
        mm_host_init(2 * MiB / FR, ram, sizeof(ram) / sizeof(ram[0]));
        ready = true;
    } else {
        mm_host_reset();
    }
    base_free = nr_free_pages();
    gfp_t gfp = GFP_DMA32 | __GFP_NOWARN | ((how & 4) ? 0 : __GFP_MEMALLOC);
    if (pt_init(&pt, DESC->fmt, gfp, DESC->user.start, DESC->user.end))
        DIE("pt_init failed");
    pt.keep_top_tables = how & 8;
    if (how & 1) {
        uint32_t mirror = pt_i386_mirror_entry(pt.root, how & 2);
        ((uint32_t *)(mm_host_arena() + pt.root))[I386_MIRROR_PDE] = mirror;
    }
    win = DESC->user.end - SPAN;
}
