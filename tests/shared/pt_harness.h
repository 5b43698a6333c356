/*
 * The page-table test harness: what every page-table case needs around
 * its pt_map / pt_unmap / pt_protect calls, for any format and in both
 * worlds (host tests over tests/host/mm_host.c's arena, in-kernel tests
 * over the real buddy allocator).
 *
 * A runner chooses a format description (tests/shared/pt_raw.h) and an
 * environment with ph_use(); the cases then work on `ph`:
 *
 *   ph_setup()     a fresh allocator state (env->mem_reset), the free
 *                  frame count as baseline, ph.pt = pt_init over the
 *                  format's user range, the flush hook logging into ph.fl;
 *   ph_check()     after every operation: pt_check, the allocator's
 *                  validator, the raw walker (tests/shared/pt_raw.c) whose
 *                  table count must be nr_tables, the frame count (free +
 *                  table pages + frames the case holds == the baseline: no
 *                  leak, no double free), no pt_check failure inside a
 *                  flush, and the root entries outside the range as they
 *                  were frozen (ph_freeze_outside);
 *   ph_teardown()  unmap everything, check, pt_destroy: every frame back.
 *
 * Memory the harness needs beyond the tables is static (the kernel has no
 * calloc, and a kmalloc would move the frame count), so a case's buffers
 * are here too: the leaf lists, the random model.
 */
#ifndef TESTS_SHARED_PT_HARNESS_H
#define TESTS_SHARED_PT_HARNESS_H

#include "pt_raw.h"
#include "tcase.h"

/* Where the cases run. */
struct pt_env {
    const char *world;               /* "host", "kernel" */
    /* Bring the allocator to a known state before a case measures its
     * baseline (host: a new arena; kernel: empty slabs and per-CPU lists
     * given back). */
    void (*mem_reset)(void);
    /* Is [pa, pa + 4096) RAM the allocator manages? */
    bool (*is_ram)(uint64_t pa);
    /* Run the allocator's validator (node_check) in every ph_check, or
     * only in ph_teardown (it walks every frame: 262144 at 1 GiB). */
    bool node_check_each;
    /* Percent of its description's operations the random case runs
     * (100 on the host; less under an emulator). */
    unsigned random_percent;
};

extern const struct pt_env pt_env_host;  /* tests/shared/pt_harness.c, host builds */

/* What the flush hook saw. */
struct ph_flush_log {
    unsigned calls;
    uint64_t va, len;                /* the last call's range */
    uint64_t free_at;                /* nr_free_pages() at the last call */
    bool check_failed;               /* pt_check failed inside a flush */
};

struct ph_state {
    const struct pt_desc *d;
    const struct pt_env *env;
    struct pgtable pt;               /* the tables under test */
    uint64_t base_free;              /* nr_free_pages() before pt_init */
    uint64_t held;                   /* frames the case holds (ph_exhaust) */
    struct ph_flush_log fl;
    unsigned nfrozen;                /* root entries outside the range, frozen */
    uint64_t frozen[16][2];          /* index, value */
};

extern struct ph_state ph;

/* Choose the format and the world for the cases that follow. */
void ph_use(const struct pt_desc *d, const struct pt_env *env);

void ph_setup(void);                 /* the user range, no kept tables */
void ph_setup_range(uint64_t start, uint64_t end, bool keep);
/* ph_setup_range without the allocator's reset: over memory the case
 * prepared itself. */
void ph_start(uint64_t start, uint64_t end, bool keep);
void ph_check(void);
void ph_teardown(void);
/* Remember the root's present entries outside the range (the i386
 * mirror...): ph_check then insists they do not change. */
void ph_freeze_outside(void);

/* The raw walker over p (tables counted, leaves not reported); 0 or -1
 * with the reason in *why (static storage). */
int ph_raw(const struct pgtable *p, uint64_t *tables, const char **why);

/* Fingerprints: of p's reachable tables (addresses, contents) and
 * nr_tables; ph_snapshot adds the free frame count (equal: nothing changed). */
uint64_t ph_pt_hash(const struct pgtable *p);
uint64_t ph_snapshot(void);

/* pt_walk(va) is a leaf with these fields (level and nraw from size). */
void ph_expect_leaf(uint64_t va, uint64_t pa, uint64_t size, unsigned prot);
void ph_expect_hole(uint64_t va);

/* The table (physical address) holding ph.pt's entry for va at this
 * level, from the raw entries, or 0 when the walk stops above it. */
uint64_t ph_table_of(uint64_t va, unsigned level);
/* Or bits into ph.pt's entry for va at this level (what the CPU does with
 * accessed and dirty bits). */
void ph_set_bits(uint64_t va, unsigned level, uint64_t bits);

/* Take every free frame (ph.held counts them), and give n of them back
 * (all: ph_give_back(~0ul)).  Large blocks first, so that it is quick
 * over a whole machine's memory; given-back frames are single pages. */
void ph_exhaust(void);
void ph_give_back(uint64_t n);

/* Oracles from the raw entries: the table pages a map of [va, va + len)
 * with 4 KiB leaves would add, and the splits pt_unmap / pt_protect of it
 * needs (each a table page). */
uint64_t ph_tables_missing(uint64_t va, uint64_t len);
uint64_t ph_splits_needed(uint64_t va, uint64_t len);
/* The table pages tables holding exactly ph.pt's leaves need, the root
 * included (nothing kept). */
uint64_t ph_tables_needed(void);

/* ---- leaves through pt_for_each ---- */

struct ph_leaves {
    size_t n;
    struct pt_view v[64];
    int stop_at;                     /* return 7 from this call (1-based); 0: never */
};
int ph_collect(const struct pt_view *v, void *arg);     /* arg: struct ph_leaves */
int ph_count_leaf(const struct pt_view *v, void *arg);  /* arg: uint64_t by_level[4] */
extern struct ph_leaves ph_leaves;   /* a list the cases share (not on the stack) */

/* ---- random numbers (fixed seeds: a failure reproduces) ---- */

extern uint64_t ph_rng;
uint64_t ph_rnd(uint64_t n);

/* ---- random operations against a page model ---- */

struct ph_mpage {
    uint64_t pa;
    uint8_t prot;
    bool mapped;
};

/* The model: one record per 4 KiB page of up to two windows, and what the
 * random operations went through. */
struct ph_model {
    struct ph_mpage *page;
    uint64_t npages;
    struct pt_range win[2];
    unsigned nwin;
    uint64_t win_first[2];           /* index of each window's first page */
    /* Maps close to the format's physical limit, some past it (-EINVAL);
     * true after ph_model_init.  A case whose leaves get moved frames
     * (pt_clone's fn) turns them off. */
    bool near_limit;
    struct {
        unsigned maps, eexist, einval, splits, freed;
        uint64_t large_pages;        /* pages found in large leaves by the walks */
    } stats;
};
extern struct ph_model ph_model;

/* Model windows over `pages` (zeroed here, room for the windows' pages). */
void ph_model_init(struct ph_mpage *pages, uint64_t room, const struct pt_range *win,
                   unsigned nwin);
uint64_t ph_page_va(uint64_t i);
/* A start page and a page count inside one window, in units (4 KiB or a
 * large size), sometimes off the unit's alignment. */
void ph_random_range(uint64_t unit, uint64_t max_units, uint64_t *s, uint64_t *n);
/* One random pt_map, pt_unmap or pt_protect on pages [s, s + n) of one
 * window, its value and its flushes checked against the model. */
void ph_random_op(uint64_t s, uint64_t n, uint64_t unit);
/* pt_walk of pages [s, e) against the model. */
void ph_model_compare_walk(uint64_t s, uint64_t e);
/* pt_for_each over the range against the model. */
void ph_model_compare_leaves(void);

#endif
