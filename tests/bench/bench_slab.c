/*
 * make bench: the slab allocator and kmalloc against two baselines, in
 * one process, on the same workloads.
 *
 *   - glibc malloc/free (its per-thread tcache is the fast path to beat);
 *   - the naive slab of the blog post on kernel memory management (2024),
 *     written here as the post shows it: a free list threaded through the
 *     objects, refilled with a chunk of SLAB_SIZE - sizeof(slab_t) bytes
 *     from malloc, carved into objects; free pushes on the list.  No
 *     checks, no statistics, memory never given back.  For kmalloc-like
 *     use it gets one such slab per power of two from 8 to 4096 (an
 *     object larger than the chunk gets a chunk of its own: the post's
 *     loop would underflow there), and its free is told the size, since
 *     it has no way to find a slab from a pointer.
 *
 * Time (tests/bench/bench.h): the thread's CPU time per alloc+free pair;
 * the three allocators run in rounds, interleaved (slab, glibc, naive,
 * slab, ...), ROUNDS rounds after one untimed run of each; each time is
 * the median of the rounds and each ratio the median of the per-round
 * ratios, printed with the lowest and highest of them.
 *   1. pair: alloc then free at once, 64 B and 256 B objects (the per-CPU
 *      array's path: Bonwick and Adams's magazine layer), and 64 B in
 *      debug mode;
 *   2. batch: 1000 allocations then the 1000 frees, 1000 times (refill and
 *      flush through the slabs);
 *   3. mixed: 1024 slots, each operation picks a random slot and frees it
 *      if full, else kmallocs a random size there (log-uniform 8 B - 4 KiB).
 *      The random sequence is computed beforehand and replayed for each
 *      allocator.
 * Memory: 100 000 live kmalloc objects of random sizes from 8 B to 4 KiB,
 * log-uniform and then uniform: requested bytes / bytes of the frames
 * the slabs took.  For glibc: requested / growth of its heap (mallinfo2
 * arena + hblkhd); for the naive slab: requested / (chunks x 4 KiB).  The
 * draws are fixed (a seeded generator): these figures do not vary.
 *
 * Targets, one "target NAME: measured X, goal Y: met" line each at the
 * end: a kmem_cache pair at most half a glibc pair at 64 B and 256 B, and
 * at least 92% of the frames kmalloc holds in requested bytes, for both
 * distributions.  The exit status is 0 whether they are met or not (1
 * only if the allocator is found inconsistent afterwards).
 *
 * Built with -O2, no sanitizers (tests/host/test_slab.c covers
 * correctness); the kernel's mm/ code over a 1 GiB arena of host memory.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"
#include <mm/gfp.h>
#include <mm/slab.h>
#include <mm/zone.h>

/* Host glue: the mm code reports through printk/panic. */
void printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

__attribute__((noreturn)) void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

#define ARENA (1ul << 30)
static uint8_t *arena;
static void report(const char *msg) { fprintf(stderr, "mm: %s\n", msg); }
static void *p2v(uint64_t pa) { return arena + pa; }

static uint64_t rng = 88172645463325252ul;
static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* 8 * 512^u, u uniform in [0, 1): log-uniform from 8 to 4096 bytes. */
static size_t log_uniform(void)
{
    double x = 9.0 * (double)(xorshift() >> 11) / (double)(1ul << 53);
    int k = (int)x;
    double y = (x - k) * 0.6931471805599453, t = 1, sum = 1;
    for (int i = 1; i < 20; i++) {
        t *= y / i;
        sum += t;
    }
    return (size_t)(8.0 * sum * (double)(1u << k) + 0.5);
}

static size_t uniform(void)
{
    return 8 + xorshift() % (4096 - 8 + 1);
}

/* ---- the blog post's naive slab ------------------------------------------------------- */

#define NAIVE_SLAB_SIZE 4096

typedef struct naive_slab {
    size_t obj_size;
    void *free_list;
    struct naive_slab *next;
} naive_slab_t;

static uint64_t naive_chunk_pages;

static void *naive_slab_alloc(naive_slab_t *slab)
{
    if (!slab->free_list) {
        size_t bytes = NAIVE_SLAB_SIZE - sizeof(naive_slab_t);
        if (bytes < slab->obj_size)
            bytes = slab->obj_size; /* the post's loop cannot: one object per chunk */
        char *mem = malloc(bytes);
        if (!mem)
            return NULL;
        naive_chunk_pages += (bytes + 4095) / 4096;
        size_t n = bytes / slab->obj_size;
        slab->free_list = mem;
        char *cur = mem;
        for (size_t i = 0; i + 1 < n; i++) {
            char *next = cur + slab->obj_size;
            *(void **)cur = next;
            cur = next;
        }
        *(void **)cur = NULL;
    }
    void *obj = slab->free_list;
    slab->free_list = *(void **)obj;
    return obj;
}

static void naive_slab_free(naive_slab_t *slab, void *obj)
{
    *(void **)obj = slab->free_list;
    slab->free_list = obj;
}

/* kmalloc made of naive slabs: powers of two from 8 to 4096. */
static naive_slab_t naive_classes[10];

static unsigned naive_class(size_t n)
{
    unsigned k = 0;
    while ((8ul << k) < n)
        k++;
    return k;
}

static void *naive_kmalloc(size_t n)
{
    return naive_slab_alloc(&naive_classes[naive_class(n)]);
}

static void naive_kfree(void *p, size_t n)
{
    naive_slab_free(&naive_classes[naive_class(n)], p);
}

/* ---- timing ---------------------------------------------------------------------------- */

#define PAIRS 2000000
#define BATCH 1000
#define ROUNDS_OF_BATCH 1000
#define ROUNDS 11             /* interleaved rounds per workload (bench.h) */

enum who { SLAB, GLIBC, NAIVE, NR_WHO };
static const char *const who_name[NR_WHO] = { "slab", "glibc", "naive" };
static struct kmem_cache *cache;
static naive_slab_t naive_slab;
static size_t obj_size;

/* Each candidate has a loop of its own (the switch is outside): no
 * dispatch inside the timed loop, for any of them. */
static double run_pairs(int w, void *arg)
{
    (void)arg;
    double t0 = bench_now_ns();
    switch (w) {
    case SLAB:
        for (int i = 0; i < PAIRS; i++) {
            void *volatile p = kmem_cache_alloc(cache, GFP_KERNEL);
            kmem_cache_free(cache, p);
        }
        break;
    case GLIBC:
        for (int i = 0; i < PAIRS; i++) {
            void *volatile p = malloc(obj_size);
            free(p);
        }
        break;
    default:
        for (int i = 0; i < PAIRS; i++) {
            void *volatile p = naive_slab_alloc(&naive_slab);
            naive_slab_free(&naive_slab, p);
        }
        break;
    }
    return (bench_now_ns() - t0) / PAIRS;
}

static void *batch[BATCH];

static double run_batch(int w, void *arg)
{
    (void)arg;
    double t0 = bench_now_ns();
    for (int r = 0; r < ROUNDS_OF_BATCH; r++) {
        switch (w) {
        case SLAB:
            for (int i = 0; i < BATCH; i++)
                batch[i] = kmem_cache_alloc(cache, GFP_KERNEL);
            for (int i = 0; i < BATCH; i++)
                kmem_cache_free(cache, batch[i]);
            break;
        case GLIBC:
            for (int i = 0; i < BATCH; i++)
                batch[i] = malloc(obj_size);
            for (int i = 0; i < BATCH; i++)
                free(batch[i]);
            break;
        default:
            for (int i = 0; i < BATCH; i++)
                batch[i] = naive_slab_alloc(&naive_slab);
            for (int i = 0; i < BATCH; i++)
                naive_slab_free(&naive_slab, batch[i]);
            break;
        }
    }
    return (bench_now_ns() - t0) / ((double)ROUNDS_OF_BATCH * BATCH);
}

/* The mixed workload, replayed from precomputed arrays. */
#define SLOTS 1024
#define OPS 1000000
static uint16_t op_slot[OPS];
static uint16_t op_size[OPS];
static void *slot_ptr[SLOTS];
static size_t slot_len[SLOTS];

static double run_mixed(int w, void *arg)
{
    (void)arg;
    uint64_t allocs = 0;
    double t0 = bench_now_ns();
    for (int i = 0; i < OPS; i++) {
        unsigned s = op_slot[i];
        if (slot_ptr[s]) {
            if (w == SLAB)
                kfree(slot_ptr[s]);
            else if (w == GLIBC)
                free(slot_ptr[s]);
            else
                naive_kfree(slot_ptr[s], slot_len[s]);
            slot_ptr[s] = NULL;
        } else {
            size_t n = op_size[i];
            slot_ptr[s] = w == SLAB ? kmalloc(n, GFP_KERNEL) : w == GLIBC ? malloc(n)
                                                                           : naive_kmalloc(n);
            slot_len[s] = n;
            allocs++;
        }
    }
    for (unsigned s = 0; s < SLOTS; s++) {
        if (!slot_ptr[s])
            continue;
        if (w == SLAB)
            kfree(slot_ptr[s]);
        else if (w == GLIBC)
            free(slot_ptr[s]);
        else
            naive_kfree(slot_ptr[s], slot_len[s]);
        slot_ptr[s] = NULL;
    }
    return (bench_now_ns() - t0) / (double)allocs; /* per alloc+free pair */
}

/* One line of the time table: median ns of each allocator, our median
 * ratio to each baseline with [lowest-highest] of the per-round ratios. */
static double print_row(const char *label, const struct bench_rounds *r)
{
    double lo_g, hi_g, lo_n, hi_n;
    double vs_glibc = bench_ratio(r, SLAB, GLIBC, &lo_g, &hi_g);
    double vs_naive = bench_ratio(r, SLAB, NAIVE, &lo_n, &hi_n);
    printf("%-30s %7.2f %7.2f %7.2f   %5.2fx [%.2f-%.2f]  %6.2fx [%.2f-%.2f]\n", label,
           bench_time(r, SLAB), bench_time(r, GLIBC), bench_time(r, NAIVE), vs_glibc, lo_g,
           hi_g, vs_naive, lo_n, hi_n);
    return vs_glibc;
}

/* ---- memory ------------------------------------------------------------------------------- */

#define LIVE 100000
static void *live[LIVE];
static size_t live_len[LIVE];

struct eff {
    double slab, slab_half, glibc, naive;
};

static size_t glibc_heap(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.arena + mi.hblkhd;
}

static struct eff efficiency(size_t (*dist)(void))
{
    struct eff e;
    uint64_t req = 0;
    for (int i = 0; i < LIVE; i++) {
        live_len[i] = dist();
        req += live_len[i];
    }
    /* kmalloc */
    slab_shrink_all();
    uint64_t before = slab_pages_held();
    for (int i = 0; i < LIVE; i++)
        live[i] = kmalloc(live_len[i], GFP_KERNEL);
    e.slab = (double)req / ((double)(slab_pages_held() - before) * 4096);
    /* Then free a random half: what fragmentation leaves (no target). */
    uint64_t half = 0;
    for (int i = 0; i < LIVE; i++) {
        if (xorshift() & 1) {
            kfree(live[i]);
            live[i] = NULL;
        } else {
            half += live_len[i];
        }
    }
    e.slab_half = (double)half / ((double)(slab_pages_held() - before) * 4096);
    for (int i = 0; i < LIVE; i++)
        kfree(live[i]);
    slab_shrink_all();
    /* glibc */
    malloc_trim(0);
    size_t g0 = glibc_heap();
    for (int i = 0; i < LIVE; i++)
        live[i] = malloc(live_len[i]);
    e.glibc = (double)req / (double)(glibc_heap() - g0);
    for (int i = 0; i < LIVE; i++)
        free(live[i]);
    malloc_trim(0);
    /* the naive slab (its chunks are never given back: count only new ones) */
    memset(naive_classes, 0, sizeof(naive_classes));
    for (unsigned k = 0; k < 10; k++)
        naive_classes[k].obj_size = 8ul << k;
    uint64_t c0 = naive_chunk_pages;
    for (int i = 0; i < LIVE; i++)
        live[i] = naive_kmalloc(live_len[i]);
    e.naive = (double)req / ((double)(naive_chunk_pages - c0) * 4096);
    return e;
}

static int consistent(void)
{
    char why[200];
    if (slab_check(why, sizeof(why)) || node_check(why, sizeof(why))) {
        fprintf(stderr, "allocator inconsistent after the benchmark: %s\n", why);
        return 0;
    }
    return 1;
}

int main(void)
{
    arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
    struct page *mem_map = calloc(ARENA >> PAGE_SHIFT, sizeof(struct page));
    if (arena == MAP_FAILED || !mem_map)
        return 1;
    static struct mem_node node;
    node_init(&node, mem_map, ARENA >> PAGE_SHIFT, p2v, report);
    node_add_free(&node, 256, ARENA >> PAGE_SHIFT);
    node_finish(&node);
    kmem_cache_init();
    for (unsigned k = 0; k < 10; k++)
        naive_classes[k].obj_size = 8ul << k;

    printf("Slab allocator benchmark: ns per alloc+free pair, thread CPU time, median of %d\n"
           "interleaved rounds; ratio = ours / baseline (median of the per-round ratios,\n"
           "[lowest-highest]), below 1.00 means ours is faster\n\n", ROUNDS);
    printf("%-30s %7s %7s %7s   %-18s  %s\n", "workload", who_name[SLAB], who_name[GLIBC],
           who_name[NAIVE], "vs glibc", "vs naive");
    static const struct {
        const char *label, *target;
        size_t size;
        bool batch, debug;
    } rows[] = {
        { "kmem_cache pair, 64 B", "kmem_cache_pair_64B_vs_glibc", 64, false, false },
        { "kmem_cache pair, 256 B", "kmem_cache_pair_256B_vs_glibc", 256, false, false },
        { "kmem_cache batch 1000, 64 B", NULL, 64, true, false },
        { "kmem_cache batch 1000, 256 B", NULL, 256, true, false },
        { "kmem_cache pair, 64 B, debug", NULL, 64, false, true },
    };
    double pair_ratio[2] = { 0, 0 };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        obj_size = rows[r].size;
        slab_set_debug(rows[r].debug);
        cache = kmem_cache_create("bench", obj_size, 0, 0, NULL);
        slab_set_debug(false);
        if (!cache)
            return 1;
        naive_slab = (naive_slab_t){ obj_size, NULL, NULL };
        struct bench_rounds t;
        bench_run_rounds(&t, ROUNDS, NR_WHO, rows[r].batch ? run_batch : run_pairs, NULL);
        double ratio = print_row(rows[r].label, &t);
        if (r < 2)
            pair_ratio[r] = ratio;
        if (kmem_cache_destroy(cache))
            return 1;
    }
    for (int i = 0; i < OPS; i++) {
        op_slot[i] = (uint16_t)(xorshift() % SLOTS);
        op_size[i] = (uint16_t)log_uniform();
    }
    struct bench_rounds t;
    bench_run_rounds(&t, ROUNDS, NR_WHO, run_mixed, NULL);
    print_row("kmalloc mix 8 B-4 KiB", &t);
    if (!consistent())
        return 1;

    printf("\nMemory: %d live kmalloc objects of 8 B to 4 KiB; requested bytes / bytes held\n\n",
           LIVE);
    printf("%-14s %9s %12s %9s %9s\n", "sizes", "slab", "slab, half", "glibc", "naive");
    rng = 12345;
    struct eff lu = efficiency(log_uniform);
    printf("%-14s %8.1f%% %11.1f%% %8.1f%% %8.1f%%\n", "log-uniform", 100 * lu.slab,
           100 * lu.slab_half, 100 * lu.glibc, 100 * lu.naive);
    struct eff un = efficiency(uniform);
    printf("%-14s %8.1f%% %11.1f%% %8.1f%% %8.1f%%\n", "uniform", 100 * un.slab,
           100 * un.slab_half, 100 * un.glibc, 100 * un.naive);
    printf("(\"slab, half\": after freeing a random half of them, nothing given back yet)\n\n");
    if (!consistent())
        return 1;

    bench_target(rows[0].target, pair_ratio[0], 0.50, true, "%.2fx");
    bench_target(rows[1].target, pair_ratio[1], 0.50, true, "%.2fx");
    bench_target("kmalloc_memory_log_uniform", 100 * lu.slab, 92.0, false, "%.1f%%");
    bench_target("kmalloc_memory_uniform", 100 * un.slab, 92.0, false, "%.1f%%");
    return 0;
}
