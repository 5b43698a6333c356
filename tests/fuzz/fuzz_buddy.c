/*
 * libFuzzer target: the page allocator (mm/buddy.c, page_alloc.c, zone.c,
 * contig.c) driven by arbitrary bytes.
 *
 * Each input is a program of operations on a fresh node of 20 MiB (DMA and
 * DMA32, a little RAM straddling 16 MiB): alloc_pages, __free_pages, free_pages,
 * get_page, put_page, frame_ref, frame_unref, frame_alloc, alloc_contig,
 * free_contig, drain_pcp, aimed at frames the program holds or at any
 * frame at all, so that double frees, tail frames, reserved frames, wrong
 * orders and unaligned addresses come up constantly.
 *
 * The target keeps its own model of what it holds (per frame: head of a
 * block of some order, tail, or contiguous frame, and the reference
 * count).  From it, it knows whether each operation must succeed or be
 * refused (-EINVAL, or -EBUSY for a contiguous run with a frame referenced
 * twice), and checks after every step: the allocator agreed, node->errors
 * grew by exactly the refusals, each refusal of a free or a reference
 * was reported once in the words the model expects (a tail frame, a free
 * frame, a reserved one, a wrong order: only block heads are marked, so
 * this is the error path's search for a tail's head at work),
 * node_check() passes, nr_free_pages() equals the frames not held, no
 * frame is handed out twice or outside RAM.  At
 * the end it drops every reference and checks the node is back to its
 * initial free lists exactly.  Any mismatch aborts (a crash for libFuzzer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_host.h"
#include <kernel/errno.h>
#include <mm/buddy.h>
#include <mm/gfp.h>
#include <mm/zone.h>

#define MiB (1ul << 20)
#define FR 4096ul
#define MAX_PFN (20 * MiB / FR)
#define MAX_OPS 400

/* Little RAM (59 frames in each zone, wmark_min 14), so that short inputs
 * reach exhaustion, fallback and the watermarks. */
static const struct host_ram ram[] = {
    { 1 * FR, 40 * FR },                          /* DMA, odd pieces */
    { 16 * MiB - 20 * FR, 16 * MiB + 30 * FR },   /* straddles 16 MiB */
    { 18 * MiB + 3 * FR, 18 * MiB + 32 * FR },    /* DMA32, odd pieces */
};

enum { NONE = 0, HEAD, TAIL, CONTIG };

static uint8_t kind[MAX_PFN];    /* what the model holds, per frame */
static uint8_t order_of[MAX_PFN];
static uint32_t refs[MAX_PFN];   /* on HEAD and CONTIG frames */
static uint32_t heads[MAX_PFN];  /* HEAD and CONTIG frames, for picking targets */
static uint32_t slot[MAX_PFN];
static uint32_t nheads;
static uint64_t held, errors, base_free;
static uint64_t base_area[NR_ZONES][MAX_ORDER + 1];

#define FUZZ_NAME "fuzz_buddy"
#include "fuzz_input.h"

static unsigned zone_of(uint64_t pfn)
{
    return pfn < (16 * MiB / FR) ? ZONE_DMA : ZONE_DMA32;
}

static void add_head(uint64_t pfn)
{
    slot[pfn] = nheads;
    heads[nheads++] = (uint32_t)pfn;
}

static void del_head(uint64_t pfn)
{
    uint32_t last = heads[--nheads];
    heads[slot[pfn]] = last;
    slot[last] = slot[pfn];
}

/* Record frames the allocator handed out; they must have been free. */
static void take(uint64_t pfn, uint64_t n, unsigned order, int k)
{
    for (uint64_t i = 0; i < n; i++) {
        if (pfn + i >= MAX_PFN || !mm_host_is_ram((pfn + i) * FR, FR))
            DIE("frame %#lx handed out is not RAM", (pfn + i));
        if (kind[pfn + i] != NONE)
            DIE("frame %#lx handed out twice", (pfn + i));
    }
    for (uint64_t i = 0; i < n; i++) {
        if (k == CONTIG || i == 0) {
            kind[pfn + i] = (uint8_t)k;
            refs[pfn + i] = 1;
            order_of[pfn + i] = (uint8_t)order;
            add_head(pfn + i);
        } else {
            kind[pfn + i] = TAIL;
        }
        /* Dirty it, so that __GFP_ZERO is tested on reused frames. */
        memset(mm_host_arena() + (pfn + i) * FR, 0xa5, 64);
    }
    held += n;
}

/* The model's side of dropping one reference on a HEAD or CONTIG frame. */
static void unref(uint64_t pfn)
{
    if (--refs[pfn])
        return;
    uint64_t n = kind[pfn] == CONTIG ? 1 : 1ul << order_of[pfn];
    for (uint64_t i = 0; i < n; i++)
        kind[pfn + i] = NONE;
    del_head(pfn);
    held -= n;
}

static bool referenced(uint64_t pfn)
{
    return pfn < MAX_PFN && (kind[pfn] == HEAD || kind[pfn] == CONTIG) && refs[pfn];
}

/* A frame to aim at: mostly one the program holds, sometimes next to one,
 * sometimes anywhere. */
static uint64_t target(struct input *in)
{
    uint8_t how = u8(in);
    if (nheads && how < 160)
        return heads[u16(in) % nheads];
    if (nheads && how < 200)
        return heads[u16(in) % nheads] + 1 + u8(in) % 8;
    return u16(in) % MAX_PFN;
}

static gfp_t gfp_of(uint8_t b)
{
    static const gfp_t bits[] = { __GFP_DMA, __GFP_DMA32, __GFP_HIGH, __GFP_ATOMIC,
                                  __GFP_ZERO, __GFP_NOWARN, __GFP_MEMALLOC };
    gfp_t g = 0;
    for (unsigned i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
        if (b & (1u << i))
            g |= bits[i];
    return g;
}

static unsigned top_zone(gfp_t g)
{
    return (g & __GFP_DMA) ? ZONE_DMA : ZONE_DMA32; /* no Normal memory here */
}

/* After an allocation of gfp from zone zi, the zone's free frames (cache
 * included) must still be at or above the floor gfp may go down to. */
static void watermark_kept(gfp_t g, unsigned zi)
{
    const struct zone *z = &node0->zones[zi];
    uint64_t floor = (g & __GFP_MEMALLOC) ? 0 : (g & __GFP_HIGH) ? z->wmark_min / 2
                                                                  : z->wmark_min;
    if (z->free + z->pcp[0].count < floor)
        DIE("gfp %#x left zone %u with %lu free, below %lu", g, zi,
            (z->free + z->pcp[0].count), floor);
}

static bool zeroed(uint64_t pa, uint64_t len)
{
    static const uint8_t zero[FR];
    for (uint64_t off = 0; off < len; off += FR)
        if (memcmp(mm_host_arena() + pa + off, zero, FR))
            return false;
    return true;
}

static void check(int op)
{
    char why[256];
    if (node_check(why, sizeof(why)))
        DIE("op %d: node_check: %s", op, why);
    if (node0->errors != errors)
        DIE("op %d: %lu errors counted, the model expects %lu", op,
            node0->errors, errors);
    if (nr_free_pages() + held != base_free)
        DIE("op %d: %lu free + %lu held != %lu", op, nr_free_pages(),
            held, base_free);
    for (unsigned zi = 0; zi < NR_ZONES; zi++)
        if (node0->zones[zi].pcp[0].count > node0->zones[zi].pcp[0].high)
            DIE("op %d: pcp above high", op);
}

/* The result of an operation the model says must succeed with `want`,
 * or be refused (the errno `err`, and one more error) when `ok` is false. */
static void expect(int op, bool ok, long got, long want, long err)
{
    if (ok && got != want)
        DIE("op %d: returned %ld, expected %ld", op, got, want);
    if (!ok) {
        if (got != err)
            DIE("op %d: returned %ld, expected the refusal %ld", op, got, err);
        errors++;
    }
}

static void do_alloc_pages(struct input *in)
{
    gfp_t g = gfp_of(u8(in));
    unsigned order = u8(in) % (MAX_ORDER + 3);
    struct page *p = alloc_pages(g, order);
    if (!p)
        return;
    if (order > MAX_ORDER)
        DIE("order %u allocated", order);
    uint64_t pfn = page_to_pfn(p);
    if (pfn & ((1ul << order) - 1))
        DIE("order %u block %#lx misaligned", order, pfn);
    if (zone_of(pfn) > top_zone(g))
        DIE("gfp %#x got a frame in zone %u", g, zone_of(pfn));
    if ((g & __GFP_ZERO) && !zeroed(pfn * FR, FR << order))
        DIE("__GFP_ZERO block %#lx not zeroed", pfn);
    watermark_kept(g, zone_of(pfn));
    take(pfn, 1ul << order, order, HEAD);
}

/*
 * What the one report of a refused __free_pages, free_pages, get_page or
 * put_page of frame pfn must say, by the model: only block heads are
 * marked in the allocator (include/mm/page.h), so this checks that a tail
 * is still told from a free frame (by searching for its head) whatever
 * the frames around it are doing: allocated, cached, on the buddy lists.
 */
static const char *refusal(uint64_t pfn, bool by_address, bool unaligned)
{
    if (unaligned || (by_address && pfn >= MAX_PFN))
        return "not the address";
    if (pfn >= MAX_PFN)
        return "not a frame descriptor";
    if (!mm_host_is_ram(pfn * FR, FR))
        return "reserved";
    switch (kind[pfn]) {
    case TAIL:
        return "inside a larger block";
    case NONE:
        return "is free";
    default: /* a head or contiguous frame: a wrong order */
        return "was allocated with order";
    }
}

static void expect_report(int op, uint64_t mark, const char *needle)
{
    if (mm_host_reports() != mark + 1)
        DIE("op %d: %lu reports for one refusal", op, mm_host_reports() - mark);
    if (!strstr(mm_host_last_report(), needle))
        DIE("op %d: report \"%s\" lacks \"%s\"", op, mm_host_last_report(), needle);
}

static void do_free_pages(struct input *in, bool by_address)
{
    uint64_t pfn = target(in);
    uint8_t b = u8(in);
    unsigned order = (b & 0x80) && pfn < MAX_PFN ? order_of[pfn] : b % (MAX_ORDER + 2);
    uint64_t off = by_address && (b & 0x40) ? 1 + u8(in) * 16 : 0;
    bool ok = pfn < MAX_PFN && kind[pfn] == HEAD && refs[pfn] && order_of[pfn] == order &&
              off == 0;
    uint64_t mark = mm_host_reports();
    if (by_address)
        free_pages(mm_host_arena() + pfn * FR + off, order);
    else
        __free_pages(pfn_to_page(pfn), order);
    if (ok) {
        unref(pfn);
    } else {
        errors++; /* check() then wants exactly one more error counted */
        expect_report(1, mark, refusal(pfn, by_address, off != 0));
    }
}

static void do_ref(struct input *in, bool get, bool by_address)
{
    uint64_t pfn = target(in);
    uint64_t pa = pfn * FR;
    uint8_t b = u8(in);
    bool bad_pa = by_address && (b & 0x80);
    if (bad_pa)
        pa += 1 + (b & 0x7f) * 8; /* unaligned */
    bool ok = !bad_pa && referenced(pfn) && (get ? refs[pfn] < 1000 : true);
    if (get && !ok && referenced(pfn) && !bad_pa)
        return; /* refcounts are capped by the program, not the allocator */
    long r;
    uint64_t mark = mm_host_reports();
    if (by_address)
        r = get ? frame_ref(pa) : frame_unref(pa);
    else
        r = get ? get_page(pfn_to_page(pfn)) : put_page(pfn_to_page(pfn));
    expect(2, ok, r, ok ? (long)refs[pfn] + (get ? 1 : -1) : 0, -EINVAL);
    if (!ok) /* frame_ref and frame_unref word an unaligned address their own way */
        expect_report(2, mark, bad_pa || (by_address && pfn >= MAX_PFN)
                                   ? "not the address of a frame"
                                   : refusal(pfn, false, false));
    if (ok) {
        if (get)
            refs[pfn]++;
        else
            unref(pfn);
    }
}

static void do_alloc_contig(struct input *in)
{
    uint8_t b = u8(in);
    uint64_t n = b < 8 ? b : b < 200 ? 1 + b % 24 : 1 + u16(in) % 1200;
    uint8_t a = u8(in);
    uint64_t align = a < 240 ? FR << (a % 12) : (uint64_t)a * 97; /* some not powers of 2 */
    uint64_t min = (uint64_t)u16(in) * 320, max = min + (uint64_t)u16(in) * 320;
    if (u8(in) < 32)
        max = ~0ul;
    gfp_t g = gfp_of(u8(in));
    uint64_t pa = alloc_contig(n, align, min, max, g);
    if (!pa)
        return;
    uint64_t pfn = pa / FR;
    if (n == 0 || (align & (align - 1)) || align < FR || pa % align || pa < min ||
        pa + n * FR > max || pa % FR)
        DIE("alloc_contig(%lu, %#lx, [%#lx, %#lx)) = %#lx", n,
            align, min, max,
            pa);
    if (zone_of(pfn) != zone_of(pfn + n - 1))
        DIE("contiguous run crosses a zone");
    if ((g & __GFP_ZERO) && !zeroed(pa, n * FR))
        DIE("alloc_contig __GFP_ZERO not zeroed");
    watermark_kept(g, zone_of(pfn));
    take(pfn, n, 0, CONTIG);
}

static void do_free_contig(struct input *in)
{
    uint64_t pfn = target(in);
    uint8_t b = u8(in);
    uint64_t n = b < 250 ? 1 + b % 32 : b == 250 ? 0 : ~0ul / (b - 249);
    uint64_t pa = pfn * FR + (b == 255 ? 8 : 0);
    bool ok = pa % FR == 0 && n && pfn < MAX_PFN && n <= MAX_PFN - pfn;
    long err = -EINVAL;
    for (uint64_t i = 0; ok && i < n; i++) {
        ok = kind[pfn + i] == CONTIG && refs[pfn + i] == 1;
        if (!ok && kind[pfn + i] == CONTIG)
            err = -EBUSY; /* a run frame someone else still references */
    }
    expect(3, ok, free_contig(pa, n), 0, err);
    for (uint64_t i = 0; ok && i < n; i++)
        unref(pfn + i);
}

static void reset(void)
{
    static bool ready;
    if (!ready) {
        mm_host_init(MAX_PFN, ram, sizeof(ram) / sizeof(ram[0]));
        ready = true;
    } else {
        mm_host_reset();
    }
    memset(kind, 0, sizeof(kind));
    nheads = 0;
    held = 0;
    errors = 0;
    base_free = nr_free_pages();
    for (unsigned zi = 0; zi < NR_ZONES; zi++)
        for (unsigned k = 0; k <= MAX_ORDER; k++)
            base_area[zi][k] = node0->zones[zi].area[k].nr_free;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    reset();
    for (int op = 0; op < MAX_OPS && in.n; op++) {
        switch (u8(&in) % 13) {
        case 0:
        case 1:
            do_alloc_pages(&in);
            break;
        case 2:
            do_free_pages(&in, false);
            break;
        case 3:
            do_free_pages(&in, true);
            break;
        case 4:
            do_ref(&in, true, false);
            break;
        case 5:
            do_ref(&in, false, false);
            break;
        case 6:
            do_ref(&in, true, true);
            break;
        case 7:
            do_ref(&in, false, true);
            break;
        case 8: {
            gfp_t g = gfp_of(u8(&in));
            uint64_t pa = frame_alloc(g);
            if (pa && zone_of(pa / FR) > top_zone(g))
                DIE("frame_alloc(%#x) got zone %u", g, zone_of(pa / FR));
            if (pa)
                watermark_kept(g, zone_of(pa / FR));
            if (pa)
                take(pa / FR, 1, 0, HEAD);
            break;
        }
        case 9:
        case 10:
            do_alloc_contig(&in);
            break;
        case 11:
            do_free_contig(&in);
            break;
        default:
            drain_pcp();
            break;
        }
        check(op);
    }
    /* Drop every reference: the node must be exactly as it started. */
    while (nheads) {
        uint64_t pfn = heads[nheads - 1];
        if (put_page(pfn_to_page(pfn)) != (int)refs[pfn] - 1)
            DIE("final put_page on %#lx", pfn);
        unref(pfn);
        check(-1);
    }
    drain_pcp();
    check(-1);
    for (unsigned zi = 0; zi < NR_ZONES; zi++)
        for (unsigned k = 0; k <= MAX_ORDER; k++)
            if (node0->zones[zi].area[k].nr_free != base_area[zi][k])
                DIE("zone %u order %u: %lu free blocks at the end, %lu at the start", zi, k,
                    node0->zones[zi].area[k].nr_free,
                    base_area[zi][k]);
    return 0;
}
