/*
 * libFuzzer target: the vmalloc allocator (mm/vmalloc.c, vmalloc_check.c)
 * over the page-table walker, the slab allocator (area descriptors) and
 * the page allocator (frames), driven by arbitrary bytes.
 *
 * Each input starts a fresh node with 3 MiB of RAM and zero watermarks,
 * fresh tables over the vmalloc range and a space of 16 to 1036 pages
 * (the first bytes choose its size and whether bad frees are reported,
 * debug mode, or panic).  Then it is a program of operations: vmalloc
 * and vzalloc of any size (0 and too big included), stacks, vmap of
 * frames the target takes from the allocator with any protections (W+X
 * and user ones must be refused), ioremap of device memory and of RAM
 * (refused) at any offset, frees of live areas, and in debug mode the
 * mistakes: frees of interior pointers, guard pages, freed areas, of an
 * area with the wrong call.  Memory pressure (every frame taken, or
 * given back), vmallocinfo into a buffer of any size and look-ups of
 * addresses in and around the areas complete the set.
 *
 * The target keeps a model of the live areas (span, kind, pages) and
 * from it predicts every result: the exact address first fit gives (or
 * NULL when no gap fits), the refusals, the one report per mistake;
 * under memory pressure (or with few frames left) an allocation may also
 * fail, and then nothing may have changed.  Each vmalloc'd area carries
 * a stamp in its first and last page, checked when it is freed, and
 * vzalloc memory must read as zero.  After every operation:
 * vmalloc_check, pt_check, node_check and slab_check pass, the frames add
 * up (free + slab + large kmalloc + table pages + owned by the space +
 * held by the target = the baseline), and the counters (areas, frames,
 * errors) are the model's.  At the end everything is freed: one table
 * page (the root) is left, and frames and slab objects are back at their
 * baseline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_host.h"
#include <kernel/errno.h>
#include <mm/gfp.h>
#include <mm/layout.h>
#include <mm/pgtable.h>
#include <mm/pt_x86_64.h>
#include <mm/slab.h>
#include <mm/vmalloc.h>
#include <mm/zone.h>

#define MiB (1ul << 20)
#define FR 4096ul
#define MAX_PFN (3 * MiB / FR)
#define MAX_OPS 200
#define NLIVE 64
#define NFREED 16
#define MAX_VMAP 8

static const struct host_ram ram[] = { { 64 * 1024, 3 * MiB - 3 * FR } };
#define DEVICE 0xfe000000ul         /* device memory: far above the RAM */

#define FUZZ_NAME "fuzz_vmalloc"
#include "fuzz_input.h"

struct live {
    uint8_t *p;              /* what the call returned */
    uint64_t addr, pages;    /* the area: first mapped byte, mapped pages */
    enum vm_kind kind;
    uint64_t seed;           /* VM_ALLOC: the stamp */
    uint64_t frames[MAX_VMAP]; /* VM_MAP: the target's frames */
};

static struct pgtable pt;
static struct vmap_space vs;
static struct live live[NLIVE];
static size_t nlive;
static uint64_t freed[NFREED];   /* starts of freed areas */
static size_t nfreed;
static struct page *grabbed[MAX_PFN];
static uint8_t grabbed_order[MAX_PFN];
static uint64_t ngrabs, ngrabbed, held, base, base_live, errors; /* blocks, frames */
static bool debug;

/* ---- the model ------------------------------------------------------------------------ */

static uint64_t below_of(enum vm_kind k)
{
    return k == VM_STACK ? FR : 0;
}

static uint64_t span0(const struct live *l)
{
    return l->addr - below_of(l->kind);
}

static uint64_t span1(const struct live *l)
{
    return l->addr + l->pages * FR + FR;
}

/* First fit over the model: where `need` bytes go, or 0 when nowhere. */
static uint64_t fzv_first_fit(uint64_t need)
{
    uint64_t start = vs.start;
    for (;;) {
        const struct live *next = NULL; /* the lowest span at or above start */
        for (size_t i = 0; i < nlive; i++)
            if (span0(&live[i]) >= start && (!next || span0(&live[i]) < span0(next)))
                next = &live[i];
        uint64_t limit = next ? span0(next) : vs.end;
        if (limit - start >= need)
            return start;
        if (!next)
            return 0;
        start = span1(next);
    }
}

/* Few frames left: an allocation of `pages` may fail. */
static bool short_of_memory(uint64_t pages)
{
    return ngrabbed || nr_free_pages() < pages + 8;
}

static uint8_t *fzv_at(uint64_t va)
{
    struct pt_view v;
    if (pt_walk(&pt, va, &v))
        DIE("%#lx is not mapped", va);
    return mm_host_arena() + v.pa + (va - v.va);
}

/* The stamp: the first and the last page, each word its address ^ seed. */
static void fzv_stamp(const struct live *l)
{
    uint64_t va[2] = { l->addr, l->addr + (l->pages - 1) * FR };
    for (int k = 0; k < 2; k++) {
        uint64_t *w = (uint64_t *)fzv_at(va[k]);
        for (unsigned i = 0; i < FR / 8; i++)
            w[i] = l->seed ^ (va[k] + i);
    }
}

static void fzv_unstamp(const struct live *l)
{
    uint64_t va[2] = { l->addr, l->addr + (l->pages - 1) * FR };
    for (int k = 0; k < 2; k++) {
        const uint64_t *w = (const uint64_t *)fzv_at(va[k]);
        for (unsigned i = 0; i < FR / 8; i++)
            if (w[i] != (l->seed ^ (va[k] + i)))
                DIE("area %#lx: stamp overwritten at %#lx", l->addr, va[k] + i * 8);
    }
}

static uint64_t owned_pages(void)
{
    uint64_t n = 0;
    for (size_t i = 0; i < nlive; i++)
        if (live[i].kind == VM_ALLOC || live[i].kind == VM_STACK)
            n += live[i].pages;
    return n;
}

static void fzv_check(int op)
{
    char why[256];
    if (vmalloc_check(&vs, why, sizeof(why)))
        DIE("op %d: vmalloc_check: %s", op, why);
    if (pt_check(&pt, why, sizeof(why)))
        DIE("op %d: pt_check: %s", op, why);
    if (node_check(why, sizeof(why)))
        DIE("op %d: node_check: %s", op, why);
    if (slab_check(why, sizeof(why)))
        DIE("op %d: slab_check: %s", op, why);
    if (mm_host_node.errors)
        DIE("op %d: page allocator errors: %s", op, mm_host_last_report());
    uint64_t frames = nr_free_pages() + slab_pages_held() + kmalloc_large_pages() +
                      pt.nr_tables + vs.nr_frames + held + ngrabbed;
    if (frames != base)
        DIE("op %d: %lu frames accounted for, %lu at the start", op, frames, base);
    if (vs.nr_areas != nlive || vs.nr_frames != owned_pages() || vs.errors != errors)
        DIE("op %d: %lu areas, %lu frames, %lu errors; the model says %zu, %lu, %lu", op,
            vs.nr_areas, vs.nr_frames, vs.errors, nlive, owned_pages(), errors);
}

/* A call returned p for `pages` pages of kind k (with `below` guard
 * bytes) where the model predicted `want` (a span start, 0: no room). */
static struct live *fzv_got(uint8_t *p, uint64_t pages, enum vm_kind k, uint64_t want,
                            const char *what)
{
    uint64_t addr = (uint64_t)p & ~(FR - 1);
    if (!p) {
        if (want && !short_of_memory(pages))
            DIE("%s of %lu pages failed with room at %#lx and frames free", what, pages,
                want);
        return NULL;
    }
    if (!want || addr != want + below_of(k))
        DIE("%s of %lu pages at %#lx, first fit says %#lx", what, pages, addr,
            want ? want + below_of(k) : 0);
    const struct vm_area *a = vmap_space_find(&vs, addr);
    if (!a || a->addr != addr || a->kind != k || a->size != pages * FR)
        DIE("%s: the area at %#lx is not what was asked", what, addr);
    if (nlive == NLIVE)
        DIE("model full");
    for (size_t i = 0; i < nfreed; i++)
        if (freed[i] == addr)
            freed[i] = freed[--nfreed];
    struct live *l = &live[nlive++];
    memset(l, 0, sizeof(*l));
    l->p = p;
    l->addr = addr;
    l->pages = pages;
    l->kind = k;
    return l;
}

/* ---- operations ------------------------------------------------------------------------ */

static void do_vmalloc(struct input *in)
{
    uint8_t k = u8(in);
    bool zero = k & 1;
    size_t size = k < 120 ? 1 + u8(in) * 16ul : k < 220 ? 1 + u16(in) % (24 * FR)
                : k < 240 ? 1 + u16(in) * 8ul : k < 250 ? vs.end - vs.start - (k - 240) * FR
                : k < 254 ? 0 : (size_t)-1 - u8(in);
    uint64_t range = vs.end - vs.start;
    uint64_t pages = (size + FR - 1) / FR;
    uint64_t want = size && size <= range - FR ? fzv_first_fit(pages * FR + FR) : 0;
    uint64_t seed = u16(in);
    uint8_t *p = vmap_space_alloc(&vs, size, GFP_KERNEL | (zero ? __GFP_ZERO : 0), NULL);
    if (size == 0 || size > range - FR) {
        if (p)
            DIE("vmalloc(%zu) worked in a space of %lu bytes", size, range);
        return;
    }
    struct live *l = fzv_got(p, pages, VM_ALLOC, want, "vmalloc");
    if (!l)
        return;
    for (uint64_t o = 0; zero && o < pages * FR && o < 4 * FR; o += FR) {
        const uint8_t *b = fzv_at(l->addr + o);
        for (unsigned i = 0; i < FR; i++)
            if (b[i])
                DIE("vzalloc(%zu) byte %#lx is %#x", size, o + i, b[i]);
    }
    l->seed = seed * 0x9e3779b97f4a7c15ul;
    fzv_stamp(l);
}

static void do_stack(struct input *in)
{
    uint64_t pages = 1 + u8(in) % 8;
    uint64_t want = fzv_first_fit(pages * FR + 2 * FR);
    uint8_t *p = vmap_space_alloc_stack(&vs, pages * FR, "fz", NULL);
    struct live *l = fzv_got(p, pages, VM_STACK, want, "vmalloc_stack");
    if (l && vmap_space_find(&vs, l->addr - 1) != vmap_space_find(&vs, l->addr))
        DIE("stack %#lx: the guard below is not its own", l->addr);
}

static void do_vmap(struct input *in)
{
    size_t n = 1 + u8(in) % MAX_VMAP;
    unsigned prot = u8(in) & 0x7f;
    uint64_t frames[MAX_VMAP];
    size_t got = 0;
    for (; got < n; got++) {
        struct page *pg = alloc_page(GFP_KERNEL | __GFP_NOWARN);
        if (!pg)
            break;
        frames[got] = page_to_phys(pg);
        held++;
    }
    bool bad = (prot & ~PT_PROT_MASK) || (prot & PT_U) || ((prot & PT_W) && (prot & PT_X));
    uint64_t want = got ? fzv_first_fit(got * FR + FR) : 0;
    uint8_t *p = got ? vmap_space_map(&vs, frames, got, prot, NULL) : NULL;
    struct live *l = NULL;
    if (bad) {
        if (p)
            DIE("vmap with prot %#x worked", prot);
    } else if (got) {
        l = fzv_got(p, got, VM_MAP, want, "vmap");
    }
    if (!l) {
        for (size_t i = 0; i < got; i++) {
            __free_pages(pfn_to_page(frames[i] >> PAGE_SHIFT), 0);
            held--;
        }
        return;
    }
    memcpy(l->frames, frames, sizeof(frames));
    struct pt_view v;
    for (size_t i = 0; i < got; i++)
        if (pt_walk(&pt, l->addr + i * FR, &v) || v.pa != frames[i] ||
            v.prot != (prot | PT_G))
            DIE("vmap page %zu not mapped to its frame with prot %#x", i, prot);
}

static void do_ioremap(struct input *in)
{
    uint8_t k = u8(in);
    uint64_t pa = k & 1 ? 64 * 1024 + u16(in) * 64ul      /* RAM (or across its edges) */
                        : DEVICE + u16(in) * 16ul;
    if (k & 2)
        pa = ram[0].end - 64 + u8(in);                    /* straddling the end of RAM */
    size_t size = 1 + u16(in) % (3 * FR);
    unsigned cache = k & 4 ? PT_WC : PT_UC;
    uint64_t first = pa & ~(FR - 1);
    uint64_t pages = (pa + size - first + FR - 1) / FR;
    bool is_ram = ram[0].start < pa + size && pa < ram[0].end;
    uint64_t want = is_ram ? 0 : fzv_first_fit(pages * FR + FR);
    uint8_t *p = vmap_space_ioremap(&vs, pa, size, cache, NULL);
    if (is_ram) {
        if (p)
            DIE("ioremap of RAM %#lx+%#zx worked", pa, size);
        return;
    }
    if (p && ((uint64_t)p & (FR - 1)) != (pa & (FR - 1)))
        DIE("ioremap(%#lx) returned %p: wrong offset", pa, (void *)p);
    struct live *l = fzv_got(p, pages, VM_IOREMAP, want, "ioremap");
    struct pt_view v;
    if (l && (pt_walk(&pt, (uint64_t)p, &v) || v.pa != first ||
              (v.prot & PT_CACHE_MASK) != cache))
        DIE("ioremap(%#lx): the mapping is not the device's", pa);
}

static void release(size_t i)
{
    struct live l = live[i];
    live[i] = live[--nlive];
    switch (l.kind) {
    case VM_ALLOC:
        fzv_unstamp(&l);
        vmap_space_free(&vs, l.p);
        break;
    case VM_STACK:
        vmap_space_free_stack(&vs, l.p);
        break;
    case VM_MAP:
        vmap_space_unmap(&vs, l.p);
        for (uint64_t f = 0; f < l.pages; f++) {
            __free_pages(pfn_to_page(l.frames[f] >> PAGE_SHIFT), 0);
            held--;
        }
        break;
    default:
        vmap_space_iounmap(&vs, l.p);
        break;
    }
    if (vmap_space_find(&vs, l.addr))
        DIE("area %#lx still found after its free", l.addr);
    if (nfreed < NFREED)
        freed[nfreed++] = l.addr;
}

static void do_free(struct input *in)
{
    if (nlive)
        release(u8(in) % nlive);
}

/* Is va the start of a live area of kind k (a free of it is no mistake)? */
static bool fzv_is_start(uint64_t va, enum vm_kind k)
{
    for (size_t i = 0; i < nlive; i++)
        if (live[i].addr == va && live[i].kind == k)
            return true;
    return false;
}

/* Debug mode: one mistake, reported once, nothing changed. */
static void do_mistake(struct input *in)
{
    uint8_t k = u8(in);
    uint64_t va;
    if (nlive && k % 4 != 3) {
        const struct live *l = &live[u8(in) % nlive];
        uint64_t span = span1(l) - span0(l);
        va = k % 4 == 0 ? span0(l) + u16(in) % span      /* anywhere in the span */
           : k % 4 == 1 ? l->addr                       /* the start, wrong call */
                        : span1(l) - FR + u8(in);       /* the guard after */
    } else if (nfreed) {
        va = freed[u8(in) % nfreed];                    /* freed already */
    } else {
        va = vs.start + u16(in) * 64ul;
    }
    enum vm_kind call = (enum vm_kind)((k >> 2) % VM_NR_KINDS);
    if (call == VM_IOREMAP)
        va &= ~(FR - 1); /* iounmap takes any address of the first page */
    if (fzv_is_start(va, call))
        return;
    char before[4096], after[4096];
    vmap_space_info(&vs, before, sizeof(before));
    switch (call) {
    case VM_ALLOC: vmap_space_free(&vs, (void *)va); break;
    case VM_STACK: vmap_space_free_stack(&vs, (void *)va); break;
    case VM_MAP: vmap_space_unmap(&vs, (void *)va); break;
    default: vmap_space_iounmap(&vs, (void *)va); break;
    }
    errors++;
    vmap_space_info(&vs, after, sizeof(after));
    if (strcmp(before, after))
        DIE("a bad free of %#lx changed the areas", va);
}

static void release_grabbed(void)
{
    while (ngrabs) {
        ngrabs--;
        __free_pages(grabbed[ngrabs], grabbed_order[ngrabs]);
        ngrabbed -= 1ul << grabbed_order[ngrabs];
    }
}

/* Take every frame (big blocks first: fewer calls), or give them back. */
static void do_pressure(struct input *in)
{
    if (ngrabs && (u8(in) & 1)) {
        release_grabbed();
        return;
    }
    for (int order = 4; order >= 0; order--) {
        struct page *p;
        while (ngrabs < MAX_PFN && (p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, (unsigned)order))) {
            grabbed_order[ngrabs] = (uint8_t)order;
            grabbed[ngrabs++] = p;
            ngrabbed += 1ul << order;
        }
    }
}

static void do_info(struct input *in)
{
    static char buf[8192];
    size_t size = u16(in) % sizeof(buf);
    int n = vmap_space_info(&vs, buf, size);
    if (size && strlen(buf) != ((size_t)n < size ? (size_t)n : size - 1))
        DIE("vmallocinfo into %zu bytes: %d, %zu written", size, n, strlen(buf));
    if ((size_t)n < size) {
        size_t lines = 0;
        for (const char *c = buf; *c; c++)
            lines += *c == '\n';
        if (lines != nlive)
            DIE("vmallocinfo has %zu lines for %zu areas", lines, nlive);
    }
}

static void do_find(struct input *in)
{
    uint64_t va = vs.start + (u16(in) * 64ul) % (vs.end - vs.start);
    const struct live *want = NULL;
    for (size_t i = 0; i < nlive; i++)
        if (va >= span0(&live[i]) && va < span1(&live[i]))
            want = &live[i];
    const struct vm_area *a = vmap_space_find(&vs, va);
    if ((a ? a->addr : 0) != (want ? want->addr : 0))
        DIE("find(%#lx): %#lx, the model says %#lx", va, a ? a->addr : 0,
            want ? want->addr : 0);
    if (a && vmap_space_report_guard(&vs, va) != (va < a->addr || va >= a->addr + a->size))
        DIE("report_guard(%#lx) wrong", va);
}

/* ---- the program ----------------------------------------------------------------------- */

static void quiet(const char *msg)
{
    (void)msg;
}

/* The kernel's rule (mem_is_ram): a range touching RAM is RAM. */
static bool touches_ram(uint64_t pa, uint64_t len)
{
    return ram[0].start < pa + len && pa < ram[0].end;
}

static void reset(uint8_t b0, uint8_t b1)
{
    static bool ready;
    if (!ready) {
        mm_host_init(MAX_PFN, ram, sizeof(ram) / sizeof(ram[0]));
        ready = true;
    } else {
        mm_host_reset();
    }
    for (int z = 0; z < NR_ZONES; z++)
        mm_host_node.zones[z].wmark_min = mm_host_node.zones[z].wmark_low =
            mm_host_node.zones[z].wmark_high = 0;
    slab_set_debug(false);
    kmem_cache_init();
    if (pt_init(&pt, &pt_x86_64, GFP_KERNEL, VMALLOC_START, VMALLOC_END))
        DIE("pt_init failed");
    debug = b0 & 1;
    uint64_t range = (16 + b1 * 4ul) * FR; /* up to 4 MiB: more than the RAM */
    if (vmap_space_init(&vs, &pt, VMALLOC_START, VMALLOC_START + range, debug))
        DIE("vmap_space_init failed");
    vs.is_ram = touches_ram;
    vs.report = quiet;
    nlive = nfreed = 0;
    ngrabs = ngrabbed = held = errors = 0;
    base = nr_free_pages() + slab_pages_held() + kmalloc_large_pages() + pt.nr_tables;
    base_live = slab_live_objects();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    uint8_t b0 = u8(&in);
    reset(b0, u8(&in));
    for (int op = 0; op < MAX_OPS && in.n; op++) {
        switch (u8(&in) % 12) {
        case 0:
        case 1:
        case 2:
            if (nlive < NLIVE)
                do_vmalloc(&in);
            break;
        case 3:
            if (nlive < NLIVE)
                do_stack(&in);
            break;
        case 4:
            if (nlive < NLIVE)
                do_vmap(&in);
            break;
        case 5:
            if (nlive < NLIVE)
                do_ioremap(&in);
            break;
        case 6:
        case 7:
            do_free(&in);
            break;
        case 8:
            if (debug)
                do_mistake(&in);
            break;
        case 9:
            do_pressure(&in);
            break;
        case 10:
            do_info(&in);
            break;
        default:
            do_find(&in);
            break;
        }
        fzv_check(op);
    }
    while (nlive)
        release(nlive - 1);
    release_grabbed();
    fzv_check(-1);
    if (pt.nr_tables != 1 || vs.areas || slab_live_objects() != base_live)
        DIE("left at the end: %lu table pages, %s, %lu slab objects (%lu before)",
            pt.nr_tables, vs.areas ? "areas" : "no area", slab_live_objects(), base_live);
    pt_destroy(&pt);
    return 0;
}
