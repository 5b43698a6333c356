/*
 * make bench: the page allocator (mm/buddy.c, page_alloc.c, zone.c) against
 * baselines measured in the same process, on the same requests.
 *
 * Baselines:
 *   - a bare free list: a stack of frame numbers linked through an array,
 *     pop to allocate, push to free, no checks; the floor for an order-0
 *     pair, which the per-CPU cache is in front of the zone;
 *   - a bare buddy allocator: the textbook one (a doubly linked free list
 *     per order, split on allocation, merge with pfn ^ (1 << k) on free),
 *     with a 12-byte descriptor per frame and none of the kernel's checks,
 *     zones, statistics or per-CPU cache; the floor for the mixed orders;
 *   - glibc malloc(4096) + free;
 *   - the bitmap first-fit frame allocator of the blog post on kernel
 *     memory management, 2024 (one bit per frame, scan from the start for
 *     the first clear bit), written here as the post describes it, the
 *     teaching baseline.  Its occupancy is made by its own first-fit
 *     allocations (the low frames are the taken ones), the state it would
 *     really be in.
 * The bare allocators are called through functions the compiler may not
 * inline, as the kernel's are (they live in other files): otherwise it
 * folds a pop followed by a push of the same frame into almost nothing,
 * and the floor would measure the compiler.
 *
 * Workloads, over 1 Mi frames (4 GiB described by descriptors):
 *   1. order-0 alloc+free pairs at 0%, 50% and 90% occupancy (frames taken
 *      beforehand, the free ones scattered);
 *   2. mixed orders: 4096 slots; each operation picks a random slot and
 *      frees its block if it holds one, else allocates a block of a random
 *      order 0-10 there (order k with probability 2^-(k+1), small orders
 *      likelier); the sequence is drawn once and replayed for both
 *      allocators, and each run ends by freeing what its slots hold.  A
 *      second row draws orders 4-10 the same way (4 + k with probability
 *      2^-(k+1)) over the same slots: no request there fits the per-CPU
 *      cache (orders 0-3), so it shows the buddy lists' own fast paths
 *      against the bare buddy, with no target.
 * The frames are never touched: the node's linear map points into 4 GiB
 * of address space reserved with no access rights, so a write to frame
 * memory (a __GFP_ZERO slipping in, a poison fill) would crash the run
 * instead of timing it.
 *
 * Time (tests/bench/bench.h): the thread's CPU time; the candidates of a
 * workload run in interleaved rounds after one untimed run each; a time
 * is the median of the rounds, a ratio the median of the per-round ratios
 * with [lowest-highest] beside it.  Targets, one line each at the end: an
 * order-0 pair at most 3x a bare free-list pop+push (the worst of the
 * three occupancies), the mixed orders at most 1.3x the bare buddy.  The
 * exit status is 0 whether they are met or not (1 only if the allocator
 * is found inconsistent afterwards).  Built with -O2, no sanitizers
 * (tests/host/test_buddy.c covers correctness).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"
#include <mm/gfp.h>
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

#define NFRAMES (1u << 20)
#define FIRST_FREE 256u        /* the first MiB stays reserved, as on a PC */
#define NIL 0xffffffffu
#define ROUNDS 11

static void report(const char *msg) { fprintf(stderr, "mm: %s\n", msg); }

/* The linear map: address space with no access rights (never touched). */
static uint8_t *no_access;
static void *p2v(uint64_t pa) { return no_access + pa; }

static uint64_t rng = 88172645463325252ul;
static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ---- the blog post's bitmap allocator ------------------------------------------------- */

static uint64_t bitmap[NFRAMES / 64];

static long bitmap_alloc(void)
{
    for (uint32_t w = 0; w < NFRAMES / 64; w++)
        if (bitmap[w] != ~0ul) {
            int b = __builtin_ctzll(~bitmap[w]);
            bitmap[w] |= 1ul << b;
            return (long)w * 64 + b;
        }
    return -1;
}

static void bitmap_free(long f) { bitmap[f / 64] &= ~(1ul << (f % 64)); }

/* ---- the bare free list ------------------------------------------------------------- */

static uint32_t list_next[NFRAMES];
static uint32_t list_head = NIL;

__attribute__((noinline)) static uint32_t list_pop(void)
{
    uint32_t f = list_head;
    if (f != NIL)
        list_head = list_next[f];
    return f;
}

__attribute__((noinline)) static void list_push(uint32_t f)
{
    list_next[f] = list_head;
    list_head = f;
}

/* ---- the bare buddy allocator ------------------------------------------------------- */

struct bare_frame {
    uint32_t next, prev;   /* free-list links, NIL at the ends */
    uint8_t order;         /* on a free block's head */
    uint8_t free;          /* 1 on the head of a free block */
};

static struct bare_frame bare[NFRAMES];
static uint32_t bare_head[MAX_ORDER + 1];

static void bare_add(unsigned k, uint32_t f)
{
    bare[f] = (struct bare_frame){ bare_head[k], NIL, (uint8_t)k, 1 };
    if (bare_head[k] != NIL)
        bare[bare_head[k]].prev = f;
    bare_head[k] = f;
}

static void bare_del(unsigned k, uint32_t f)
{
    struct bare_frame *b = &bare[f];
    if (b->prev != NIL)
        bare[b->prev].next = b->next;
    else
        bare_head[k] = b->next;
    if (b->next != NIL)
        bare[b->next].prev = b->prev;
    b->free = 0;
}

__attribute__((noinline)) static uint32_t bare_alloc(unsigned order)
{
    unsigned k = order;
    while (k <= MAX_ORDER && bare_head[k] == NIL)
        k++;
    if (k > MAX_ORDER)
        return NIL;
    uint32_t f = bare_head[k];
    bare_del(k, f);
    while (k > order) {
        k--;
        bare_add(k, f + (1u << k));
    }
    return f;
}

/* NFRAMES is a power of two above 2^MAX_ORDER, so a buddy is always a
 * frame of the array; the reserved first MiB is never marked free. */
__attribute__((noinline)) static void bare_free(uint32_t f, unsigned k)
{
    while (k < MAX_ORDER) {
        uint32_t b = f ^ (1u << k);
        if (!bare[b].free || bare[b].order != k)
            break;
        bare_del(k, b);
        f &= ~(1u << k);
        k++;
    }
    bare_add(k, f);
}

static void bare_setup(void)
{
    memset(bare, 0, sizeof(bare));
    for (unsigned k = 0; k <= MAX_ORDER; k++)
        bare_head[k] = NIL;
    for (uint32_t f = FIRST_FREE; f < NFRAMES;) {
        unsigned k = MAX_ORDER;
        while (k && (f & ((1u << k) - 1)))
            k--;
        bare_free(f, k);
        f += 1u << k;
    }
}

/* ---- the kernel's node ---------------------------------------------------------------- */

static struct mem_node node;
static struct page *mem_map;

static void buddy_setup(void)
{
    node_init(&node, mem_map, NFRAMES, p2v, report);
    node_add_free(&node, FIRST_FREE, NFRAMES);
    node_finish(&node);
}

static int consistent(void)
{
    char why[200];
    if (node_check(why, sizeof(why))) {
        fprintf(stderr, "allocator inconsistent after the benchmark: %s\n", why);
        return 0;
    }
    return 1;
}

/* ---- 1. order-0 pairs ------------------------------------------------------------------- */

enum { BUDDY, LIST, MALLOC, BITMAP, NR_PAIR };

#define PAIRS 1000000
#define BITMAP_PAIRS 2000      /* it scans thousands of words per pair when full */

static struct page **held;
static uint64_t nheld;

/* Take `pct` percent of the frames, scattered: every frame is taken, then a
 * random (100 - pct)% are given back.  The bare free list gets the same
 * free frames, in the same scattered order. */
static void occupy(int pct)
{
    uint64_t total = nr_free_pages(), n = 0;
    struct page *p;
    while ((p = alloc_pages(__GFP_MEMALLOC | __GFP_NOWARN, 0)))
        held[n++] = p;
    for (uint64_t i = n; i > 1; i--) { /* shuffle */
        uint64_t j = xorshift() % i;
        struct page *t = held[i - 1];
        held[i - 1] = held[j];
        held[j] = t;
    }
    uint64_t keep = total * (uint64_t)pct / 100;
    list_head = NIL;
    while (n > keep) {
        p = held[--n];
        list_push((uint32_t)page_to_pfn(p));
        __free_pages(p, 0);
    }
    nheld = n;

    /* The bitmap: first-fit fills the lowest frames first. */
    memset(bitmap, 0, sizeof(bitmap));
    for (uint32_t f = 0; f < FIRST_FREE; f++)
        bitmap[f / 64] |= 1ul << (f % 64);
    uint64_t target = (uint64_t)(NFRAMES - FIRST_FREE) * (uint64_t)pct / 100;
    for (uint64_t i = 0; i < target; i++)
        bitmap_alloc();
}

static double run_pairs(int w, void *arg)
{
    (void)arg;
    int n = w == BITMAP ? BITMAP_PAIRS : PAIRS;
    double t0 = bench_now_ns();
    switch (w) {
    case BUDDY:
        for (int i = 0; i < n; i++) {
            struct page *p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0);
            if (!p) {
                fprintf(stderr, "buddy: alloc_pages failed\n");
                exit(1);
            }
            __free_pages(p, 0);
        }
        break;
    case LIST:
        for (int i = 0; i < n; i++) {
            uint32_t f = list_pop();
            if (f == NIL) {
                fprintf(stderr, "free list empty\n");
                exit(1);
            }
            list_push(f);
        }
        break;
    case MALLOC:
        for (int i = 0; i < n; i++) {
            void *volatile p = malloc(4096);
            free(p);
        }
        break;
    default:
        for (int i = 0; i < n; i++) {
            long f = bitmap_alloc();
            if (f < 0) {
                fprintf(stderr, "bitmap full\n");
                exit(1);
            }
            bitmap_free(f);
        }
        break;
    }
    return (bench_now_ns() - t0) / n;
}

/* ---- 2. mixed orders -------------------------------------------------------------------- */

enum { MIX_BUDDY, MIX_BARE, NR_MIX };

#define SLOTS 4096
#define OPS 400000
static uint16_t op_slot[OPS];
static uint8_t op_order[OPS];
static struct page *slot_page[SLOTS];
static uint32_t slot_pfn[SLOTS];
static uint8_t slot_order[SLOTS];
static uint64_t mix_fails;

/* Orders lowest..MAX_ORDER, lowest + k with probability 2^-(k+1) (the
 * last one takes the rest). */
static void draw_orders(unsigned lowest)
{
    for (int i = 0; i < OPS; i++)
        op_order[i] = (uint8_t)(lowest + (unsigned)__builtin_ctzll(xorshift() |
                                                                   (1ul << (MAX_ORDER - lowest))));
}

static double run_mixed(int w, void *arg)
{
    (void)arg;
    uint64_t ops = OPS;
    double t0 = bench_now_ns();
    if (w == MIX_BUDDY) {
        for (int i = 0; i < OPS; i++) {
            unsigned s = op_slot[i];
            if (slot_page[s]) {
                __free_pages(slot_page[s], slot_order[s]);
                slot_page[s] = NULL;
            } else {
                slot_page[s] = alloc_pages(GFP_KERNEL | __GFP_NOWARN, op_order[i]);
                slot_order[s] = op_order[i];
                mix_fails += !slot_page[s];
            }
        }
        for (unsigned s = 0; s < SLOTS; s++)
            if (slot_page[s]) {
                __free_pages(slot_page[s], slot_order[s]);
                slot_page[s] = NULL;
                ops++;
            }
    } else {
        for (int i = 0; i < OPS; i++) {
            unsigned s = op_slot[i];
            if (slot_pfn[s] != NIL) {
                bare_free(slot_pfn[s], slot_order[s]);
                slot_pfn[s] = NIL;
            } else {
                slot_pfn[s] = bare_alloc(op_order[i]);
                slot_order[s] = op_order[i];
                mix_fails += slot_pfn[s] == NIL;
            }
        }
        for (unsigned s = 0; s < SLOTS; s++)
            if (slot_pfn[s] != NIL) {
                bare_free(slot_pfn[s], slot_order[s]);
                slot_pfn[s] = NIL;
                ops++;
            }
    }
    return (bench_now_ns() - t0) / (double)ops;
}

/* ---- output ------------------------------------------------------------------------------ */

/* "1.23x [1.10-1.40]": the median ratio a/b and its spread (whole
 * numbers from 10 on: the bitmap's ratios reach the hundreds). */
static double ratio_text(char *buf, size_t size, const struct bench_rounds *r, int a, int b)
{
    double lo, hi, q = bench_ratio(r, a, b, &lo, &hi);
    if (lo >= 9.995)
        snprintf(buf, size, "%.0fx [%.0f-%.0f]", q, lo, hi);
    else
        snprintf(buf, size, "%.2fx [%.2f-%.2f]", q, lo, hi);
    return q;
}

int main(void)
{
    no_access = mmap(NULL, (uint64_t)NFRAMES << PAGE_SHIFT, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    mem_map = calloc(NFRAMES, sizeof(struct page));
    held = calloc(NFRAMES, sizeof(*held));
    if (no_access == MAP_FAILED || !mem_map || !held) {
        fprintf(stderr, "bench_buddy: no memory for the set-up\n");
        return 1;
    }

    printf("Page allocator benchmark: thread CPU time, median of %d interleaved rounds;\n"
           "ratio = ours / baseline (median of the per-round ratios, [lowest-highest])\n\n",
           ROUNDS);
    printf("1. Order-0 alloc+free pair, ns per pair, over %u frames (%u MiB described)\n\n",
           NFRAMES, NFRAMES / 256);
    printf("%-9s %7s %9s %7s %10s   %-20s %-20s %s\n", "occupancy", "buddy", "free list",
           "malloc", "bitmap", "buddy / free list", "buddy / malloc",
           "bitmap (blog post) / buddy");
    static const int pcts[] = { 0, 50, 90 };
    double worst_pair = 0;
    for (int i = 0; i < 3; i++) {
        buddy_setup();
        occupy(pcts[i]);
        struct bench_rounds r;
        bench_run_rounds(&r, ROUNDS, NR_PAIR, run_pairs, NULL);
        char vs_list[40], vs_malloc[40], bitmap_vs[40], label[8];
        double q = ratio_text(vs_list, sizeof(vs_list), &r, BUDDY, LIST);
        ratio_text(vs_malloc, sizeof(vs_malloc), &r, BUDDY, MALLOC);
        ratio_text(bitmap_vs, sizeof(bitmap_vs), &r, BITMAP, BUDDY);
        snprintf(label, sizeof(label), "%d%%", pcts[i]);
        printf("%-9s %7.2f %9.2f %7.2f %10.1f   %-20s %-20s %s\n", label,
               bench_time(&r, BUDDY), bench_time(&r, LIST), bench_time(&r, MALLOC),
               bench_time(&r, BITMAP), vs_list, vs_malloc, bitmap_vs);
        worst_pair = q > worst_pair ? q : worst_pair;
        for (uint64_t k = 0; k < nheld; k++)
            __free_pages(held[k], 0);
        if (!consistent())
            return 1;
    }

    /* 2. Mixed orders, the same requests for both. */
    printf("\n2. Mixed orders, %d random allocations and frees over %d slots, ns per "
           "operation\n\n", OPS, SLOTS);
    printf("%-7s %7s %11s   %s\n", "orders", "buddy", "bare buddy", "buddy / bare buddy");
    for (int i = 0; i < OPS; i++)
        op_slot[i] = (uint16_t)(xorshift() % SLOTS);
    for (unsigned s = 0; s < SLOTS; s++)
        slot_pfn[s] = NIL;
    static const unsigned lowest[] = { 0, PCP_MAX_ORDER + 1 };
    double mixed = 0;
    for (int row = 0; row < 2; row++) {
        draw_orders(lowest[row]);
        buddy_setup();
        bare_setup();
        mix_fails = 0;
        struct bench_rounds r;
        bench_run_rounds(&r, ROUNDS, NR_MIX, run_mixed, NULL);
        char vs_bare[40], label[16];
        double q = ratio_text(vs_bare, sizeof(vs_bare), &r, MIX_BUDDY, MIX_BARE);
        snprintf(label, sizeof(label), "%u-%u", lowest[row], MAX_ORDER);
        printf("%-7s %7.2f %11.2f   %-20s (%lu requests refused)\n", label,
               bench_time(&r, MIX_BUDDY), bench_time(&r, MIX_BARE), vs_bare, mix_fails);
        if (row == 0)
            mixed = q;
        if (!consistent())
            return 1;
    }

    /* Set-up cost (what mem_init does at boot) on the host, 1 GiB vs 16 GiB. */
    printf("\n");
    for (uint64_t gib = 1; gib <= 16; gib *= 16) {
        uint64_t n = gib << 18;
        struct page *map = malloc(n * sizeof(struct page));
        struct mem_node nd;
        if (!map)
            return 1;
        /* Touch the array first: the host's page faults on fresh memory
         * (about 80% of the time otherwise) are not the set-up's cost;
         * the kernel times its own first touch apart too (mm/bootmem.c). */
        memset(map, 0xff, n * sizeof(struct page));
        double t1 = bench_now_ns();
        node_init(&nd, map, n, p2v, report);
        node_add_free(&nd, FIRST_FREE, n);
        node_finish(&nd);
        double per_gib = (bench_now_ns() - t1) / (double)gib;
        printf("Set-up (descriptors + free lists) for %2lu GiB on the host: %.2f ms per GiB\n",
               gib, per_gib / 1e6);
        free(map);
    }
    node0 = &node;
    printf("Metadata: %zu bytes per 4 KiB frame (%.2f%% of RAM); Linux's struct page: 64 "
           "bytes (1.56%%)\n\n", sizeof(struct page), 100.0 * sizeof(struct page) / 4096);

    bench_target("order0_pair_vs_free_list", worst_pair, 3.0, true, "%.2fx");
    bench_target("mixed_orders_vs_bare_buddy", mixed, 1.3, true, "%.2fx");
    return 0;
}
