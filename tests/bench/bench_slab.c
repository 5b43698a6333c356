/*
 * make bench: the slab allocator and kmalloc against two baselines, in
 * one process, on the same workloads.
 *
 *   - glibc malloc/free (its per-thread tcache is the fast path to beat);
 *   - the naive slab of seed 000, written here as the seed shows it: a
 *     free list threaded through the objects, refilled with a chunk of
 *     SLAB_SIZE - sizeof(slab_t) bytes from malloc, carved into objects;
 *     free pushes on the list.  No checks, no statistics, memory never
 *     given back.  For kmalloc-like use it gets one such slab per power of
 *     two from 8 to 4096 (an object larger than the chunk gets a chunk of
 *     its own: the seed's loop would underflow there), and its free is
 *     told the size, since the seed has no way to find a slab from a
 *     pointer.
 *
 * Time: ns per alloc+free pair, best of 7 runs (CLOCK_MONOTONIC), the
 * three allocators' runs interleaved.
 *   1. pair: alloc then free at once, 64 B and 256 B objects (the per-CPU
 *      array's path: Bonwick's magazine layer), and 64 B in debug mode;
 *   2. batch: 1000 allocations then the 1000 frees, 1000 times (refill and flush
 *      through the slabs);
 *   3. mixed: 1024 slots, each operation picks a random slot and frees it
 *      if full, else kmallocs a random size there (log-uniform 8 B - 4 KiB).
 *      The random sequence is computed beforehand and replayed for each
 *      allocator.
 * Memory: 100 000 live kmalloc objects of random sizes from 8 B to 4 KiB,
 * log-uniform and then uniform: requested bytes / bytes of the frames
 * the slabs took.  For glibc: requested / growth of its heap (mallinfo2
 * arena + hblkhd); for the seed: requested / (chunks x 4 KiB).
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
#include <time.h>

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

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

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

/* ---- the seed's naive slab ---------------------------------------------------------- */

#define SEED_SLAB_SIZE 4096

typedef struct seed_slab {
    size_t obj_size;
    void *free_list;
    struct seed_slab *next;
} seed_slab_t;

static uint64_t seed_chunk_pages;

static void *seed_slab_alloc(seed_slab_t *slab)
{
    if (!slab->free_list) {
        size_t bytes = SEED_SLAB_SIZE - sizeof(seed_slab_t);
        if (bytes < slab->obj_size)
            bytes = slab->obj_size; /* the seed cannot: one object per chunk */
        char *mem = malloc(bytes);
        if (!mem)
            return NULL;
        seed_chunk_pages += (bytes + 4095) / 4096;
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

static void seed_slab_free(seed_slab_t *slab, void *obj)
{
    *(void **)obj = slab->free_list;
    slab->free_list = obj;
}

/* kmalloc made of seed slabs: powers of two from 8 to 4096. */
static seed_slab_t seed_classes[10];

static unsigned seed_class(size_t n)
{
    unsigned k = 0;
    while ((8ul << k) < n)
        k++;
    return k;
}

static void *seed_kmalloc(size_t n)
{
    return seed_slab_alloc(&seed_classes[seed_class(n)]);
}

static void seed_kfree(void *p, size_t n)
{
    seed_slab_free(&seed_classes[seed_class(n)], p);
}

/* ---- timing ---------------------------------------------------------------------------- */

#define PAIRS 1000000
#define BATCH 1000
#define ROUNDS 1000

enum who { SLAB, GLIBC, SEED };
static struct kmem_cache *cache;
static seed_slab_t seed_slab;
static size_t obj_size;

/* Best of ROUNDS_BEST runs of each allocator, interleaved (ours, glibc,
 * seed, ours, ...) so that a burst of load on the machine hits all three
 * alike. */
#define ROUNDS_BEST 7

static void best_of(double (*run)(enum who), double best[3])
{
    best[0] = best[1] = best[2] = 1e30;
    for (int r = 0; r < ROUNDS_BEST; r++) {
        for (int w = SLAB; w <= SEED; w++) {
            double t = run((enum who)w);
            if (t < best[w])
                best[w] = t;
        }
    }
}

static double run_pairs(enum who w)
{
    double t0 = now_ns();
    for (int i = 0; i < PAIRS; i++) {
        void *volatile p;
        switch (w) {
        case SLAB:
            p = kmem_cache_alloc(cache, GFP_KERNEL);
            kmem_cache_free(cache, p);
            break;
        case GLIBC:
            p = malloc(obj_size);
            free(p);
            break;
        case SEED:
            p = seed_slab_alloc(&seed_slab);
            seed_slab_free(&seed_slab, p);
            break;
        }
    }
    return (now_ns() - t0) / PAIRS;
}

static void *batch[BATCH];

static double run_batch(enum who w)
{
    double t0 = now_ns();
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < BATCH; i++)
            batch[i] = w == SLAB ? kmem_cache_alloc(cache, GFP_KERNEL)
                     : w == GLIBC ? malloc(obj_size) : seed_slab_alloc(&seed_slab);
        for (int i = 0; i < BATCH; i++) {
            if (w == SLAB)
                kmem_cache_free(cache, batch[i]);
            else if (w == GLIBC)
                free(batch[i]);
            else
                seed_slab_free(&seed_slab, batch[i]);
        }
    }
    return (now_ns() - t0) / ((double)ROUNDS * BATCH);
}

/* The mixed workload, replayed from precomputed arrays. */
#define SLOTS 1024
#define OPS 1000000
static uint16_t op_slot[OPS];
static uint16_t op_size[OPS];
static void *slot_ptr[SLOTS];
static size_t slot_len[SLOTS];

static double run_mixed(enum who w)
{
    uint64_t allocs = 0;
    double t0 = now_ns();
    for (int i = 0; i < OPS; i++) {
        unsigned s = op_slot[i];
        if (slot_ptr[s]) {
            if (w == SLAB)
                kfree(slot_ptr[s]);
            else if (w == GLIBC)
                free(slot_ptr[s]);
            else
                seed_kfree(slot_ptr[s], slot_len[s]);
            slot_ptr[s] = NULL;
        } else {
            size_t n = op_size[i];
            slot_ptr[s] = w == SLAB ? kmalloc(n, GFP_KERNEL) : w == GLIBC ? malloc(n)
                                                                           : seed_kmalloc(n);
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
            seed_kfree(slot_ptr[s], slot_len[s]);
        slot_ptr[s] = NULL;
    }
    return (now_ns() - t0) / (double)allocs; /* per alloc+free pair */
}

/* ---- memory ------------------------------------------------------------------------------- */

#define LIVE 100000
static void *live[LIVE];
static size_t live_len[LIVE];

struct eff {
    double slab, slab_half, glibc, seed;
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
    /* the seed (its chunks are never given back: count only new ones) */
    memset(seed_classes, 0, sizeof(seed_classes));
    for (unsigned k = 0; k < 10; k++)
        seed_classes[k].obj_size = 8ul << k;
    uint64_t c0 = seed_chunk_pages;
    for (int i = 0; i < LIVE; i++)
        live[i] = seed_kmalloc(live_len[i]);
    e.seed = (double)req / ((double)(seed_chunk_pages - c0) * 4096);
    return e;
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
        seed_classes[k].obj_size = 8ul << k;

    printf("Slab allocator benchmark: ns per alloc+free pair (best of %d); ratio = ours / "
           "baseline,\nbelow 1.00 means ours is faster\n\n", ROUNDS_BEST);
    printf("%-30s %9s %9s %9s %10s %10s\n", "workload", "slab", "glibc", "seed-000",
           "vs glibc", "vs seed");
    double worst_pair_ratio = 0;
    static const struct {
        const char *label;
        size_t size;
        bool batch, debug;
    } rows[] = {
        { "kmem_cache pair, 64 B", 64, false, false },
        { "kmem_cache pair, 256 B", 256, false, false },
        { "kmem_cache batch 1000, 64 B", 64, true, false },
        { "kmem_cache batch 1000, 256 B", 256, true, false },
        { "kmem_cache pair, 64 B, debug", 64, false, true },
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        obj_size = rows[r].size;
        slab_set_debug(rows[r].debug);
        cache = kmem_cache_create("bench", obj_size, 0, 0, NULL);
        slab_set_debug(false);
        seed_slab = (seed_slab_t){ obj_size, NULL, NULL };
        double t[3];
        best_of(rows[r].batch ? run_batch : run_pairs, t);
        double s = t[SLAB], g = t[GLIBC], d = t[SEED];
        printf("%-30s %9.2f %9.2f %9.2f %9.2fx %9.2fx\n", rows[r].label, s, g, d, s / g, s / d);
        if (!rows[r].batch && !rows[r].debug && s / g > worst_pair_ratio)
            worst_pair_ratio = s / g;
        if (kmem_cache_destroy(cache))
            return 1;
    }
    for (int i = 0; i < OPS; i++) {
        op_slot[i] = (uint16_t)(xorshift() % SLOTS);
        op_size[i] = (uint16_t)log_uniform();
    }
    double t[3];
    best_of(run_mixed, t);
    double s = t[SLAB], g = t[GLIBC], d = t[SEED];
    printf("%-30s %9.2f %9.2f %9.2f %9.2fx %9.2fx\n", "kmalloc mix 8 B-4 KiB", s, g, d, s / g,
           s / d);

    char why[200];
    if (slab_check(why, sizeof(why)) || node_check(why, sizeof(why))) {
        fprintf(stderr, "allocator inconsistent after the benchmark: %s\n", why);
        return 1;
    }

    printf("\nMemory: %d live kmalloc objects of 8 B to 4 KiB; requested bytes / bytes held\n\n",
           LIVE);
    printf("%-14s %9s %12s %9s %9s\n", "sizes", "slab", "slab, half", "glibc", "seed-000");
    rng = 12345;
    struct eff lu = efficiency(log_uniform);
    printf("%-14s %8.1f%% %11.1f%% %8.1f%% %8.1f%%\n", "log-uniform", 100 * lu.slab,
           100 * lu.slab_half, 100 * lu.glibc, 100 * lu.seed);
    struct eff un = efficiency(uniform);
    printf("%-14s %8.1f%% %11.1f%% %8.1f%% %8.1f%%\n", "uniform", 100 * un.slab,
           100 * un.slab_half, 100 * un.glibc, 100 * un.seed);
    printf("(\"slab, half\": after freeing a random half of them, nothing given back yet)\n");

    if (slab_check(why, sizeof(why)) || node_check(why, sizeof(why))) {
        fprintf(stderr, "allocator inconsistent after the benchmark: %s\n", why);
        return 1;
    }
    printf("\nTargets: slab pair no slower than glibc (ratio <= 1.00): %s (worst %.2fx); "
           "memory >= 85%%: %s (log-uniform %.1f%%, uniform %.1f%%)\n",
           worst_pair_ratio <= 1.0 ? "met" : "NOT met", worst_pair_ratio,
           lu.slab >= 0.85 && un.slab >= 0.85 ? "met" : "NOT met", 100 * lu.slab,
           100 * un.slab);
    return 0;
}
