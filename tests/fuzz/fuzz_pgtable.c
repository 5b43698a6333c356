/*
 * libFuzzer target: the page-table walker (mm/pgtable.c, mm/pgtable_clone.c)
 * with the x86-64 format, driven by arbitrary bytes.  The run model, the
 * checks and the target itself are tests/fuzz/pt_fuzz_model.h, shared
 * with fuzz_pt_i386; this file says what is x86-64's.
 *
 * Each input starts a fresh node with 2 MiB of RAM (512 frames, so
 * -ENOMEM comes up quickly) and a fresh pgtable over the user or the
 * kernel half, keeping its top tables or not, taking its tables with or
 * without the watermarks.  The window is 2 GiB + 16 MiB that straddles
 * two 1 GiB boundaries, in units of 4 KiB, 2 MiB or 1 GiB; physical
 * addresses are multiples of 1 GiB plus an offset, and the clone moves
 * frames by multiples of 1 GiB.
 */
#define FUZZ_NAME "fuzz_pgtable"
#define DESC (&pt_desc_x86_64)
#define SPAN (GiB + 16 * MiB)
#define MAX_RUNS 1024
#define PA_STEP GiB
#define CLONE_STEP GiB
#define MAX_UNITS { 4, 4, 4 }

#include "pt_fuzz_model.h"

static const struct host_ram ram[] = { { 1 * MiB, 3 * MiB } };

static void fz_begin(uint8_t how)
{
    static bool ready;
    if (!ready) {
        mm_host_init(4 * MiB / FR, ram, sizeof(ram) / sizeof(ram[0]));
        ready = true;
    } else {
        mm_host_reset();
    }
    base_free = nr_free_pages();
    bool high = how & 1;
    const struct pt_range *r = high ? &DESC->keep : &DESC->user;
    if (pt_init(&pt, DESC->fmt, (how & 4) ? GFP_KERNEL | __GFP_NOWARN
                                          : __GFP_MEMALLOC | __GFP_NOWARN,
                r->start, r->end))
        DIE("pt_init failed");
    pt.keep_top_tables = how & 2;
    win = r->start + GiB - 8 * MiB;
}
