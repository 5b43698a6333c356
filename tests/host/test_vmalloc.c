/*
 * Host tests of the vmalloc allocator (mm/vmalloc.c, mm/vmalloc_check.c):
 * a struct vmap_space over private page tables, on the fake physical
 * memory of tests/host/mm_host.c (30 MiB of RAM), with the real buddy
 * allocator for frames, the real walker for the tables and the slab
 * allocator for the area descriptors.
 *
 * The test plays the MMU: at() walks the tables to the frame behind a
 * vmalloc address and reads or writes it through the arena, so contents
 * are checked where the kernel would see them.  The space's hooks are the
 * test's: a symbol table of one fake function, an "is RAM" over the
 * arena's RAM, and a report hook that keeps the last message.
 *
 * After every operation check() runs vmalloc_check, pt_check, node_check
 * and slab_check, and checks the frame count: free frames + slab frames +
 * large kmalloc frames + table pages + frames the space owns + frames the
 * case holds itself are what was free before the case.  Each case frees
 * everything; teardown() then wants no area, the root as the only table,
 * the frames and the live slab objects back at their baseline.  The
 * zones' watermarks are 0, so "k frames free" means k frames can be had.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "htest.h"
#include "mm_host.h"
#include <kernel/errno.h>
#include <mm/gfp.h>
#include <mm/layout.h>
#include <mm/pgtable.h>
#include <mm/pt_x86_64.h>
#include <mm/slab.h>
#include <mm/vmalloc.h>
#include <mm/zone.h>

#define KiB (1ul << 10)
#define MiB (1ul << 20)
#define FR 4096ul

static const struct host_ram ram[] = { { 1 * MiB, 31 * MiB } };

static struct pgtable pt;
static struct vmap_space vs;
static uint64_t base_frames, base_live, held;

/* ---- hooks ------------------------------------------------------------------------------- */

/* The fake function the test names as the caller: fake_text[0..4096). */
static char fake_text[4096];
#define FAKE_CALLER(off) ((const void *)(fake_text + (off)))

static const char *fake_sym(uint64_t addr, uint64_t *off)
{
    if (addr < (uint64_t)fake_text || addr >= (uint64_t)fake_text + sizeof(fake_text))
        return NULL;
    *off = addr - (uint64_t)fake_text;
    return "fake_fn";
}

/* Like the kernel's mem_is_ram: does the range touch RAM? */
static bool touches_ram(uint64_t pa, uint64_t len)
{
    for (size_t i = 0; i < HT_COUNT(ram); i++)
        if (ram[i].start < pa + len && pa < ram[i].end)
            return true;
    return false;
}

static char last_report[256];
static uint64_t nreports;

static void record(const char *msg)
{
    snprintf(last_report, sizeof(last_report), "%s", msg);
    nreports++;
    if (getenv("MM_HOST_VERBOSE"))
        fprintf(stderr, "vmalloc: %s\n", msg);
}

/* ---- set-up and validators --------------------------------------------------------------- */

static uint64_t frames_now(void)
{
    return nr_free_pages() + slab_pages_held() + kmalloc_large_pages() + pt.nr_tables +
           vs.nr_frames + held;
}

static void check(void)
{
    char why[256];
    HT_ASSERT(vmalloc_check(&vs, why, sizeof(why)) == 0, "vmalloc_check: %s", why);
    HT_ASSERT(pt_check(&pt, why, sizeof(why)) == 0, "pt_check: %s", why);
    HT_ASSERT(node_check(why, sizeof(why)) == 0, "node_check: %s", why);
    HT_ASSERT(slab_check(why, sizeof(why)) == 0, "slab_check: %s", why);
    HT_ASSERT(mm_host_node.errors == 0, "page allocator errors: %s", mm_host_last_report());
    HT_ASSERT(frames_now() == base_frames, "%lu frames accounted for, %lu at the start",
              frames_now(), base_frames);
}

/* A space of `range` bytes at VMALLOC_START (the tables cover the whole
 * vmalloc range, so strays beyond the space would show in pt_check only). */
static void setup_space(uint64_t range, bool debug)
{
    mm_host_init_no_watermarks(32 * MiB / FR, ram, HT_COUNT(ram));
    slab_set_debug(false);
    kmem_cache_init();
    HT_EQ_U(pt_init(&pt, &pt_x86_64, GFP_KERNEL, VMALLOC_START, VMALLOC_END), 0);
    HT_EQ_U(vmap_space_init(&vs, &pt, VMALLOC_START, VMALLOC_START + range, debug), 0);
    vs.sym_lookup = fake_sym;
    vs.is_ram = touches_ram;
    vs.report = record;
    nreports = 0;
    last_report[0] = 0;
    held = 0;
    base_frames = frames_now();
    base_live = slab_live_objects();
    HT_TRY(check());
}

static void setup(void)
{
    setup_space(256 * MiB, true);
}

static void teardown(void)
{
    HT_TRY(check());
    HT_EQ_U(vs.nr_areas, 0);
    HT_ASSERT(vs.areas == NULL, "areas left in the list");
    HT_EQ_U(vs.nr_frames, 0);
    HT_EQ_U(pt.nr_tables, 1);
    HT_ASSERT(slab_live_objects() == base_live, "%lu slab objects live, %lu before",
              slab_live_objects(), base_live);
    pt_destroy(&pt);
}

/* ---- the MMU ------------------------------------------------------------------------------- */

/* The byte behind va in the arena, or NULL when nothing maps it. */
static uint8_t *at(uint64_t va)
{
    struct pt_view v;
    if (pt_walk(&pt, va, &v))
        return NULL;
    return mm_host_arena() + v.pa + (va - v.va);
}

static uint64_t word(uint64_t va, uint64_t seed)
{
    return (va ^ seed) * 0x9e3779b97f4a7c15ul;
}

/* Fill / check [va, va + len) (page multiples) with a pattern of its own. */
static void fill(uint64_t va, uint64_t len, uint64_t seed)
{
    for (uint64_t o = 0; o < len; o += FR) {
        uint64_t *p = (uint64_t *)at(va + o);
        HT_ASSERT(p, "%#lx is not mapped", va + o);
        for (unsigned i = 0; i < FR / 8; i++)
            p[i] = word(va + o + i * 8, seed);
    }
}

static void expect(uint64_t va, uint64_t len, uint64_t seed)
{
    for (uint64_t o = 0; o < len; o += FR) {
        const uint64_t *p = (const uint64_t *)at(va + o);
        HT_ASSERT(p, "%#lx is not mapped", va + o);
        for (unsigned i = 0; i < FR / 8; i++)
            HT_ASSERT(p[i] == word(va + o + i * 8, seed), "word at %#lx changed",
                      va + o + i * 8);
    }
}

static const struct vm_area *area_of(const void *p)
{
    return vmap_space_find(&vs, (uint64_t)p);
}

/* ---- alloc and free ----------------------------------------------------------------------- */

static void t_alloc_sizes(void)
{
    static const size_t sizes[] = { 1, 7, 4095, 4096, 4097, 8192, 12345, 65536,
                                    MiB + 1, 3 * MiB, 6 * MiB };
    enum { N = HT_COUNT(sizes) };
    uint8_t *p[N];
    HT_TRY(setup());
    for (size_t i = 0; i < N; i++) {
        p[i] = vmap_space_alloc(&vs, sizes[i], GFP_KERNEL, FAKE_CALLER(i));
        HT_ASSERT(p[i], "vmalloc(%zu) failed: %s", sizes[i], last_report);
        HT_TRY(check());
        const struct vm_area *a = area_of(p[i]);
        uint64_t pages = (sizes[i] + FR - 1) / FR;
        HT_ASSERT(a && a->addr == (uint64_t)p[i] && a->kind == VM_ALLOC,
                  "no vmalloc area at %p", (void *)p[i]);
        HT_EQ_U(a->size, pages * FR);
        HT_EQ_U(a->nr_pages, pages);
        HT_EQ_U(a->guard_below, 0);
        HT_EQ_U((uint64_t)p[i] % FR, 0);
        HT_ASSERT((uint64_t)p[i] >= vs.start && (uint64_t)p[i] + pages * FR < vs.end,
                  "area %p outside the space", (void *)p[i]);
        HT_TRY(fill((uint64_t)p[i], pages * FR, i));
    }
    HT_EQ_U(vs.nr_areas, N);
    /* every area still holds what was written, after all the others */
    for (size_t i = 0; i < N; i++)
        HT_TRY(expect((uint64_t)p[i], ALIGN_UP(sizes[i], FR), i));
    /* free in a scattered order, checking the rest each time */
    for (size_t k = 0; k < N; k++) {
        size_t i = (k * 5) % N;
        vmap_space_free(&vs, p[i]);
        p[i] = NULL;
        HT_TRY(check());
        for (size_t j = 0; j < N; j++)
            if (p[j])
                HT_TRY(expect((uint64_t)p[j], FR, j));
    }
    HT_EQ_U(nreports, 0);
    HT_TRY(teardown());
}

/* Too big, zero: NULL, and nothing is taken. */
static void t_bad_sizes(void)
{
    HT_TRY(setup_space(64 * FR, true));
    HT_ASSERT(!vmap_space_alloc(&vs, 0, GFP_KERNEL, NULL), "vmalloc(0) worked");
    HT_ASSERT(!vmap_space_alloc(&vs, 64 * FR, GFP_KERNEL, NULL), "vmalloc(whole range) worked");
    HT_ASSERT(!vmap_space_alloc(&vs, 63 * FR + 1, GFP_KERNEL, NULL), "no room for the guard");
    HT_ASSERT(!vmap_space_alloc(&vs, (size_t)-1, GFP_KERNEL, NULL), "vmalloc(-1) worked");
    HT_ASSERT(!vmap_space_alloc_stack(&vs, 63 * FR, "s", NULL), "stack without its guards");
    HT_TRY(check());
    void *p = vmap_space_alloc(&vs, 63 * FR, GFP_KERNEL, NULL); /* exactly fits */
    HT_ASSERT(p, "vmalloc(range - guard) failed: %s", last_report);
    HT_TRY(check());
    vmap_space_free(&vs, p);
    HT_TRY(teardown());
}

static void t_vzalloc_zeroes(void)
{
    HT_TRY(setup());
    /* dirty some frames, give them back, and take them again zeroed */
    uint8_t *d = vmap_space_alloc(&vs, 64 * FR, GFP_KERNEL, NULL);
    HT_ASSERT(d, "vmalloc failed");
    for (uint64_t o = 0; o < 64 * FR; o += FR)
        memset(at((uint64_t)d + o), 0xa5, FR);
    vmap_space_free(&vs, d);
    HT_TRY(check());
    uint8_t *z = vmap_space_alloc(&vs, 64 * FR - 100, GFP_KERNEL | __GFP_ZERO, NULL);
    HT_ASSERT(z, "vzalloc failed");
    HT_TRY(check());
    for (uint64_t o = 0; o < 64 * FR; o += FR) {
        const uint8_t *b = at((uint64_t)z + o);
        HT_ASSERT(b, "page %#lx not mapped", o);
        for (uint64_t i = 0; i < FR; i++)
            HT_ASSERT(b[i] == 0, "vzalloc byte %#lx is %#x", o + i, b[i]);
    }
    vmap_space_free(&vs, z);
    HT_TRY(teardown());
}

static void t_guard_pages(void)
{
    HT_TRY(setup());
    uint8_t *a = vmap_space_alloc(&vs, 3 * FR, GFP_KERNEL, FAKE_CALLER(0x40));
    uint8_t *b = vmap_space_alloc(&vs, FR, GFP_KERNEL, FAKE_CALLER(0x80));
    HT_ASSERT(a && b, "vmalloc failed");
    HT_TRY(check());
    struct pt_view v;
    uint64_t end = (uint64_t)a + 3 * FR;
    HT_EQ_U(pt_walk(&pt, end, &v), (uint64_t)-ENOENT);
    HT_EQ_U((uint64_t)b, end + FR);     /* b follows a's guard page */
    HT_EQ_U(pt_walk(&pt, (uint64_t)b + FR, &v), (uint64_t)-ENOENT);
    HT_EQ_U(pt_walk(&pt, end - 1, &v), 0);
    /* a write one byte past a's end lands in the guard, and is reported */
    HT_ASSERT(!vmap_space_report_guard(&vs, end - 1), "a mapped byte reported as a guard");
    uint64_t mark = nreports;
    HT_ASSERT(vmap_space_report_guard(&vs, end), "the guard page is not reported");
    HT_ASSERT(nreports == mark + 2, "%lu reports, expected 2 (past a, before b)",
              nreports - mark);
    HT_ASSERT(strstr(last_report, "before the start of the vmalloc area") &&
              strstr(last_report, "fake_fn+0x80"), "report: %s", last_report);
    HT_ASSERT(!vmap_space_report_guard(&vs, (uint64_t)b + 2 * FR), "beyond every area");
    vmap_space_free(&vs, a);
    vmap_space_free(&vs, b);
    HT_TRY(teardown());
}

static void t_first_fit_reuse(void)
{
    HT_TRY(setup());
    void *a = vmap_space_alloc(&vs, 2 * FR, GFP_KERNEL, NULL);
    void *b = vmap_space_alloc(&vs, 4 * FR, GFP_KERNEL, NULL);
    void *c = vmap_space_alloc(&vs, FR, GFP_KERNEL, NULL);
    HT_ASSERT(a && b && c, "vmalloc failed");
    HT_EQ_U((uint64_t)a, vs.start);
    HT_EQ_U((uint64_t)b, vs.start + 3 * FR);
    HT_EQ_U((uint64_t)c, vs.start + 8 * FR);
    vmap_space_free(&vs, b);
    HT_TRY(check());
    /* b's gap is 5 pages (4 + guard): 3 + guard fit in it, at its start */
    void *d = vmap_space_alloc(&vs, 3 * FR, GFP_KERNEL, NULL);
    HT_EQ_U((uint64_t)d, (uint64_t)b);
    HT_TRY(check());
    /* the page left over cannot hold 1 + guard: the next goes after c */
    void *e = vmap_space_alloc(&vs, FR, GFP_KERNEL, NULL);
    HT_EQ_U((uint64_t)e, (uint64_t)c + 2 * FR);
    HT_TRY(check());
    /* freeing the first area opens the lowest gap again */
    vmap_space_free(&vs, a);
    void *f = vmap_space_alloc(&vs, FR, GFP_KERNEL, NULL);
    HT_EQ_U((uint64_t)f, vs.start);
    HT_TRY(check());
    void *all[] = { c, d, e, f };
    for (size_t i = 0; i < HT_COUNT(all); i++) {
        vmap_space_free(&vs, all[i]);
        HT_TRY(check());
    }
    HT_TRY(teardown());
}

/* Lazy freeing (several CPUs in the kernel): the remote flush is
 * deferred, the area stays reserved until the purge. */
static int defers;
static bool deferring;
static void fake_defer(bool on)
{
    HT_ASSERT(on != deferring, "remote_defer(%d) twice", on);
    deferring = on;
    defers += on;
}

static void t_lazy_free(void)
{
    HT_TRY(setup_space(16 * FR, true));
    vs.remote_defer = fake_defer;
    vs.lazy_max = 4;
    defers = 0;
    void *a = vmap_space_alloc(&vs, 2 * FR, GFP_KERNEL, NULL);
    void *b = vmap_space_alloc(&vs, FR, GFP_KERNEL, NULL);
    HT_ASSERT(a && b, "vmalloc failed");
    vmap_space_free(&vs, a);
    HT_TRY(check());
    /* a's frames are back, its span is not: the next area goes after b */
    HT_EQ_U(vs.nr_areas, 1);
    HT_EQ_U(vs.nr_lazy, 1);
    HT_EQ_U(vs.lazy_pages, 2);
    HT_EQ_U(vs.nr_frames, 1);
    HT_ASSERT(defers == 1 && !deferring, "remote_defer: %d times, left %d", defers, deferring);
    HT_ASSERT(vmap_space_find(&vs, (uint64_t)a) == NULL, "a lazy area is found");
    void *c = vmap_space_alloc(&vs, FR, GFP_KERNEL, NULL);
    HT_EQ_U((uint64_t)c, (uint64_t)b + 2 * FR);
    /* a double free is reported as one */
    vmap_space_free(&vs, a);
    HT_ASSERT(strstr(last_report, "not allocated"), "double free: %s", last_report);
    /* vmallocinfo leaves the lazy area out */
    char info[512];
    vmap_space_info(&vs, info, sizeof(info));
    HT_ASSERT(!strstr(info, "pages=0"), "vmallocinfo shows a lazy area:\n%s", info);
    HT_TRY(check());
    /* 2 + 1 lazy pages, then 2 more: 4 reached, one purge releases all */
    vmap_space_free(&vs, b);
    HT_EQ_U(vs.purges, 0);
    void *d = vmap_space_alloc(&vs, 2 * FR, GFP_KERNEL, NULL);
    HT_ASSERT(d, "vmalloc after the lazy frees");
    HT_TRY(check());
    vmap_space_free(&vs, d);
    HT_EQ_U(vs.purges, 1);
    HT_EQ_U(vs.nr_lazy, 0);
    HT_EQ_U(vs.lazy_pages, 0);
    HT_TRY(check());
    /* a space full of lazy spans: the next area purges them and fits */
    vs.lazy_max = 100;
    void *p[5];
    for (int i = 0; i < 5; i++)
        HT_ASSERT((p[i] = vmap_space_alloc(&vs, FR, GFP_KERNEL, NULL)), "area %d", i);
    for (int i = 0; i < 5; i++)
        vmap_space_free(&vs, p[i]);
    HT_EQ_U(vs.nr_lazy, 5);
    void *big = vmap_space_alloc(&vs, 8 * FR, GFP_KERNEL, NULL);   /* fits after c, once purged */
    HT_ASSERT(big, "no room after the purge (%s)", last_report);
    HT_EQ_U(vs.purges, 2);
    HT_EQ_U(vs.nr_lazy, 0);
    vmap_space_free(&vs, big);
    vmap_space_free(&vs, c);
    vmap_space_purge(&vs);
    HT_TRY(teardown());
}

/* A space of 16 pages holds eight 1-page areas (each with its guard). */
static void t_out_of_range(void)
{
    HT_TRY(setup_space(16 * FR, true));
    void *p[9];
    for (int i = 0; i < 8; i++) {
        p[i] = vmap_space_alloc(&vs, FR, GFP_KERNEL, NULL);
        HT_ASSERT(p[i], "area %d of 8 refused", i);
        HT_TRY(check());
    }
    uint64_t frames = vs.nr_frames, live = slab_live_objects(), free = nr_free_pages();
    p[8] = vmap_space_alloc(&vs, FR, GFP_KERNEL, NULL);
    HT_ASSERT(!p[8], "a ninth area in a full space");
    HT_ASSERT(strstr(last_report, "no room"), "report: %s", last_report);
    HT_ASSERT(!vmap_space_alloc_stack(&vs, FR, "s", NULL), "a stack in a full space");
    HT_ASSERT(!vmap_space_map(&vs, (uint64_t[]){ 2 * MiB }, 1, 0, NULL), "vmap in a full space");
    HT_TRY(check());
    HT_EQ_U(vs.nr_frames, frames);
    HT_EQ_U(vs.nr_areas, 8);
    HT_EQ_U(slab_live_objects(), live);
    HT_EQ_U(nr_free_pages(), free);
    /* one freed area makes room for exactly one */
    vmap_space_free(&vs, p[3]);
    p[3] = vmap_space_alloc(&vs, FR, GFP_KERNEL, NULL);
    HT_ASSERT(p[3], "the freed gap was not reused");
    HT_ASSERT(!vmap_space_alloc(&vs, 2 * FR, GFP_KERNEL, NULL), "two pages in a one-page gap");
    for (int i = 0; i < 8; i++) {
        vmap_space_free(&vs, p[i]);
        HT_TRY(check());
    }
    HT_TRY(teardown());
}

/* The frames the case takes away from the allocator (held). */
static struct page *hoard[32 * MiB / FR];
static size_t nhoard;

static void take_all(void)
{
    struct page *p;
    while ((p = alloc_page(GFP_KERNEL | __GFP_NOWARN)))
        hoard[nhoard++] = p;
    held = nhoard;
}

static void give_back(size_t n)
{
    while (n-- && nhoard) {
        __free_pages(hoard[--nhoard], 0);
        held = nhoard;
    }
}

/*
 * Leave exactly k frames free, for every k from 0 up to what a 20-page
 * vmalloc needs: each attempt short of it fails (in kmalloc, in the
 * table pages or in the frames themselves) and leaves nothing behind.
 */
static void t_out_of_frames(void)
{
    HT_TRY(setup());
    bool done = false;
    for (size_t k = 0; k < 64 && !done; k++) {
        nhoard = 0;
        HT_TRY(take_all());
        HT_TRY(check());
        slab_shrink_all(); /* the slab's empty pages count as free for nobody */
        take_all();
        give_back(k);
        uint64_t areas = vs.nr_areas, live = slab_live_objects();
        char before[512], after[512];
        vmap_space_info(&vs, before, sizeof(before));
        void *p = vmap_space_alloc(&vs, 20 * FR, GFP_KERNEL, NULL);
        HT_TRY(check());
        if (p) {
            HT_ASSERT(k >= 20, "20 pages from %zu free frames", k);
            vmap_space_free(&vs, p);
            done = true;
        } else {
            HT_ASSERT(strstr(last_report, "out of memory"), "k %zu: report %s", k,
                      last_report);
            HT_EQ_U(vs.nr_areas, areas);
            HT_EQ_U(slab_live_objects(), live);
            vmap_space_info(&vs, after, sizeof(after));
            HT_EQ_STR(after, before);
        }
        HT_TRY(check());
        give_back(nhoard);
        HT_TRY(check());
    }
    HT_ASSERT(done, "vmalloc of 20 pages never worked with up to 63 frames free");
    HT_TRY(teardown());
}

/* ---- bad frees ------------------------------------------------------------------------------- */

static void t_vfree_null(void)
{
    HT_TRY(setup_space(64 * FR, false)); /* not debug: a report would panic */
    vmap_space_free(&vs, NULL);
    vmap_space_free_stack(&vs, NULL);
    vmap_space_unmap(&vs, NULL);
    vmap_space_iounmap(&vs, NULL);
    HT_EQ_U(vs.errors, 0);
    HT_EQ_U(nreports, 0);
    HT_TRY(teardown());
}

/* Debug mode: every bad free is reported once, and nothing changes. */
static void t_bad_free_debug(void)
{
    HT_TRY(setup());
    uint8_t *a = vmap_space_alloc(&vs, 4 * FR, GFP_KERNEL, NULL);
    uint8_t *s = vmap_space_alloc_stack(&vs, 2 * FR, "st", NULL);
    uint8_t *gone = vmap_space_alloc(&vs, FR, GFP_KERNEL, NULL);
    HT_ASSERT(a && s && gone, "allocations failed");
    vmap_space_free(&vs, gone);
    HT_TRY(check());
    char before[1024], after[1024];
    vmap_space_info(&vs, before, sizeof(before));
    uint64_t frames = vs.nr_frames, areas = vs.nr_areas;
    struct {
        int call;               /* 0 vfree, 1 vfree_stack, 2 vunmap, 3 iounmap */
        const void *p;
        const char *says;
    } bad[] = {
        { 0, a + FR, "inside the vmalloc area" },
        { 0, a + 1, "inside the vmalloc area" },
        { 0, gone, "was not allocated" },
        { 0, a + 4 * FR, "inside the vmalloc area" },      /* a's guard page */
        { 0, s, "is a stack area (free it with vfree_stack)" },
        { 1, a, "is a vmalloc area (free it with vfree)" },
        { 2, a, "is a vmalloc area" },
        { 3, a, "is a vmalloc area" },
        { 1, s - FR, "inside the stack area" },          /* the stack's lower guard */
        { 0, (void *)(vs.end - FR), "was not allocated" },
        { 0, (void *)0x1000, "was not allocated" },
    };
    for (size_t i = 0; i < HT_COUNT(bad); i++) {
        uint64_t mark = nreports;
        switch (bad[i].call) {
        case 0: vmap_space_free(&vs, bad[i].p); break;
        case 1: vmap_space_free_stack(&vs, bad[i].p); break;
        case 2: vmap_space_unmap(&vs, bad[i].p); break;
        default: vmap_space_iounmap(&vs, bad[i].p); break;
        }
        HT_ASSERT(nreports == mark + 1, "bad free %zu: %lu reports", i, nreports - mark);
        HT_ASSERT(strstr(last_report, bad[i].says), "bad free %zu: report \"%s\", "
                  "expected \"%s\"", i, last_report, bad[i].says);
        HT_EQ_U(vs.errors, i + 1);
        HT_TRY(check());
        HT_EQ_U(vs.nr_frames, frames);
        HT_EQ_U(vs.nr_areas, areas);
        vmap_space_info(&vs, after, sizeof(after));
        HT_EQ_STR(after, before);
    }
    vmap_space_free(&vs, a);
    vmap_space_free_stack(&vs, s);
    HT_TRY(teardown());
}

/* Normal mode: a bad free panics naming the address (in a child). */
static char child_err[4096];

static bool dies(void (*fn)(void))
{
    int fd[2];
    fflush(stdout);
    fflush(stderr);
    if (pipe(fd))
        return false;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], 2);
        fn();
        _exit(0);
    }
    close(fd[1]);
    size_t len = 0;
    ssize_t r;
    while ((r = read(fd[0], child_err + len, sizeof(child_err) - 1 - len)) > 0)
        len += (size_t)r;
    child_err[len] = 0;
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static uint8_t *victim;
static void free_interior(void) { vmap_space_free(&vs, victim + 8); }
static void free_twice(void) { vmap_space_free(&vs, victim); vmap_space_free(&vs, victim); }
static void free_fine(void) { vmap_space_free(&vs, victim); }

static void t_bad_free_panics(void)
{
    HT_TRY(setup_space(64 * FR, false));
    victim = vmap_space_alloc(&vs, 2 * FR, GFP_KERNEL, NULL);
    HT_ASSERT(victim, "vmalloc failed");
    char addr[64];
    snprintf(addr, sizeof(addr), "vfree(%#lx): bad pointer", (uint64_t)victim + 8);
    HT_ASSERT(dies(free_interior), "no panic for an interior pointer");
    HT_ASSERT(strstr(child_err, addr), "panic message: %.300s", child_err);
    snprintf(addr, sizeof(addr), "vfree(%#lx): bad pointer", (uint64_t)victim);
    HT_ASSERT(dies(free_twice), "no panic for a double vfree");
    HT_ASSERT(strstr(child_err, addr), "panic message: %.300s", child_err);
    HT_ASSERT(!dies(free_fine), "a good vfree panicked: %.300s", child_err);
    vmap_space_free(&vs, victim);
    HT_TRY(teardown());
}

/* ---- vmap and ioremap ---------------------------------------------------------------------- */

static void t_vmap(void)
{
    HT_TRY(setup());
    uint64_t f[3];
    for (int i = 0; i < 3; i++) {
        struct page *p = alloc_page(GFP_KERNEL | __GFP_ZERO);
        HT_ASSERT(p, "no frame");
        f[i] = page_to_phys(p);
        held++;
    }
    HT_TRY(check());
    /* W^X and no user access: refused before anything is reserved */
    HT_ASSERT(!vmap_space_map(&vs, f, 3, PT_W | PT_X, NULL), "vmap W+X worked");
    HT_ASSERT(!vmap_space_map(&vs, f, 3, PT_U, NULL), "vmap user worked");
    HT_ASSERT(!vmap_space_map(&vs, f, 3, 0x100, NULL), "vmap unknown prot bits worked");
    HT_ASSERT(!vmap_space_map(&vs, f, 0, PT_W, NULL), "vmap of 0 frames worked");
    HT_ASSERT(!vmap_space_map(&vs, NULL, 3, PT_W, NULL), "vmap(NULL) worked");
    uint64_t odd[2] = { f[0], f[1] + 8 };
    HT_ASSERT(!vmap_space_map(&vs, odd, 2, PT_W, NULL), "vmap of an unaligned frame worked");
    HT_EQ_U(vs.nr_areas, 0);
    HT_TRY(check());
    /* in the frames' order, writable: a write shows in the frame */
    uint8_t *v = vmap_space_map(&vs, (uint64_t[]){ f[2], f[0], f[1] }, 3, PT_W, NULL);
    HT_ASSERT(v, "vmap failed");
    HT_TRY(check());
    HT_EQ_U(area_of(v)->nr_pages, 0);   /* it owns no frame */
    HT_EQ_U(vs.nr_frames, 0);
    *at((uint64_t)v + 5) = 0x11;
    *at((uint64_t)v + FR + 6) = 0x22;
    HT_EQ_U(mm_host_arena()[f[2] + 5], 0x11);
    HT_EQ_U(mm_host_arena()[f[0] + 6], 0x22);
    struct pt_view pv;
    HT_EQ_U(pt_walk(&pt, (uint64_t)v + 2 * FR, &pv), 0);
    HT_EQ_U(pv.pa, f[1]);
    HT_EQ_U(pv.prot, PT_W | PT_G);
    /* the same frames again, read-only and executable: allowed */
    void *x = vmap_space_map(&vs, f, 1, PT_X, NULL);
    HT_ASSERT(x, "vmap read+exec failed");
    HT_TRY(check());
    vmap_space_unmap(&vs, v);
    vmap_space_unmap(&vs, x);
    HT_TRY(check());
    /* vunmap leaves the frames to their owner */
    HT_EQ_U(mm_host_arena()[f[2] + 5], 0x11);
    for (int i = 0; i < 3; i++) {
        __free_pages(pfn_to_page(f[i] >> PAGE_SHIFT), 0);
        held--;
    }
    HT_TRY(teardown());
}

static void t_ioremap_ram_refused(void)
{
    HT_TRY(setup());
    HT_ASSERT(!vmap_space_ioremap(&vs, 2 * MiB, 16, PT_UC, NULL), "ioremap of RAM worked");
    HT_ASSERT(strstr(last_report, "is RAM"), "report: %s", last_report);
    HT_ASSERT(!vmap_space_ioremap(&vs, 31 * MiB - 8, 16, PT_WC, NULL),
              "ioremap straddling the end of RAM worked");
    HT_ASSERT(!vmap_space_ioremap(&vs, 1 * MiB - 8, 9, PT_UC, NULL),
              "ioremap straddling the start of RAM worked");
    HT_ASSERT(!vmap_space_ioremap(&vs, 0xfee00000, 0, PT_UC, NULL), "ioremap of 0 bytes");
    HT_ASSERT(!vmap_space_ioremap(&vs, ~0ul - 10, 100, PT_UC, NULL), "ioremap past 2^64");
    HT_ASSERT(!vmap_space_ioremap(&vs, 1ul << 52, 4096, PT_UC, NULL), "ioremap past 2^52");
    HT_ASSERT(!vmap_space_ioremap(&vs, 0xfee00000, 16, PT_W, NULL), "a cache type of PT_W");
    /* without a way to tell RAM, nothing is mapped */
    vs.is_ram = NULL;
    HT_ASSERT(!vmap_space_ioremap(&vs, 0xfee00000, 16, PT_UC, NULL), "ioremap without is_ram");
    HT_ASSERT(strstr(last_report, "no way to tell"), "report: %s", last_report);
    vs.is_ram = touches_ram;
    HT_EQ_U(vs.nr_areas, 0);
    HT_TRY(teardown());
}

static void t_ioremap_offset(void)
{
    HT_TRY(setup());
    uint8_t *r = vmap_space_ioremap(&vs, 0xfee00123, 0x20, PT_UC, NULL);
    HT_ASSERT(r, "ioremap failed: %s", last_report);
    HT_TRY(check());
    HT_EQ_U((uint64_t)r & (FR - 1), 0x123);
    const struct vm_area *a = area_of(r);
    HT_ASSERT(a && a->kind == VM_IOREMAP, "no ioremap area");
    HT_EQ_U(a->phys, 0xfee00000);
    HT_EQ_U(a->size, FR);
    struct pt_view v;
    HT_EQ_U(pt_walk(&pt, (uint64_t)r, &v), 0);
    HT_EQ_U(v.pa, 0xfee00000);
    HT_EQ_U(v.prot, PT_W | PT_G | PT_UC);
    /* across a page boundary: two pages, write-combining */
    uint8_t *w = vmap_space_ioremap(&vs, 0xc0000ff0, 0x20, PT_WC, NULL);
    HT_ASSERT(w, "ioremap_wc failed");
    HT_TRY(check());
    HT_EQ_U((uint64_t)w & (FR - 1), 0xff0);
    HT_EQ_U(area_of(w)->size, 2 * FR);
    HT_EQ_U(pt_walk(&pt, (uint64_t)w + 0x10, &v), 0);
    HT_EQ_U(v.pa, 0xc0001000);
    HT_EQ_U(v.prot, PT_W | PT_G | PT_WC);
    /* iounmap takes the address ioremap returned */
    vmap_space_iounmap(&vs, r);
    vmap_space_iounmap(&vs, w);
    HT_EQ_U(vs.errors, 0);
    HT_TRY(teardown());
}

/* ---- stacks --------------------------------------------------------------------------------- */

static void t_stack_guards(void)
{
    HT_TRY(setup());
    void *before = vmap_space_alloc(&vs, FR, GFP_KERNEL, NULL);
    uint8_t *s = vmap_space_alloc_stack(&vs, 4 * FR, "t-stack", FAKE_CALLER(0x20));
    HT_ASSERT(before && s, "allocations failed");
    HT_TRY(check());
    const struct vm_area *a = area_of(s);
    HT_ASSERT(a && a->kind == VM_STACK && a->addr == (uint64_t)s, "no stack area");
    HT_EQ_U(a->guard_below, FR);
    HT_EQ_U(a->nr_pages, 4);
    /* below it: its own guard page, then the guard of the area before */
    HT_EQ_U((uint64_t)s, (uint64_t)before + 3 * FR);
    struct pt_view v;
    HT_EQ_U(pt_walk(&pt, (uint64_t)s - FR, &v), (uint64_t)-ENOENT);
    HT_EQ_U(pt_walk(&pt, (uint64_t)s + 4 * FR, &v), (uint64_t)-ENOENT);
    HT_ASSERT(area_of(s - 1) == a, "the guard below does not belong to the stack");
    HT_TRY(fill((uint64_t)s, 4 * FR, 7));
    /* an overflow report names the stack and its owner */
    HT_ASSERT(vmap_space_report_guard(&vs, (uint64_t)s - 8), "no guard report");
    HT_ASSERT(strstr(last_report, "8 bytes below the stack area") &&
              strstr(last_report, "(stack overflow)") && strstr(last_report, "of t-stack") &&
              strstr(last_report, "fake_fn+0x20"), "report: %s", last_report);
    /* the double-fault test: RSP at the bottom, or CR2 in the guard with
     * RSP within a page of it; RSP high in the stack does not count */
    const struct vm_area *o;
    HT_ASSERT(vmap_space_stack_overflow(&vs, (uint64_t)s + 16, 0, &o) && o == a,
              "RSP at the bottom not seen");
    HT_ASSERT(vmap_space_stack_overflow(&vs, (uint64_t)s - 64, (uint64_t)s - 72, &o) && o == a,
              "RSP in the guard not seen");
    HT_ASSERT(!vmap_space_stack_overflow(&vs, (uint64_t)s + 3 * FR, (uint64_t)s - 8, &o),
              "RSP high in the stack taken for an overflow");
    HT_ASSERT(!vmap_space_stack_overflow(&vs, (uint64_t)before + 16, 0, &o),
              "a vmalloc area taken for a stack");
    HT_TRY(expect((uint64_t)s, 4 * FR, 7));
    vmap_space_free_stack(&vs, s);
    vmap_space_free(&vs, before);
    HT_TRY(teardown());
}

/* ---- vmallocinfo and find ----------------------------------------------------------------- */

static void t_vmallocinfo_format(void)
{
    HT_TRY(setup());
    uint64_t b = vs.start;
    void *io = vmap_space_ioremap(&vs, 0xfee00010, 8, PT_UC, FAKE_CALLER(0x3fa));
    void *v = vmap_space_alloc(&vs, 3 * FR - 5, GFP_KERNEL, FAKE_CALLER(0x422));
    void *s = vmap_space_alloc_stack(&vs, 4 * FR, "kmain", FAKE_CALLER(0x558));
    uint64_t f = page_to_phys(alloc_page(GFP_KERNEL));
    held++;
    void *m = vmap_space_map(&vs, &f, 1, 0, (const void *)0x1234);
    HT_ASSERT(io && v && s && m, "allocations failed");
    HT_TRY(check());
    char want[1024], got[1024], bare[32];
    snprintf(bare, sizeof(bare), "%p", (const void *)0x1234); /* no symbol: the address */
    snprintf(want, sizeof(want),
             "0x%016lx-0x%016lx     8192 fake_fn+0x3fa phys=0xfee00000 ioremap\n"
             "0x%016lx-0x%016lx    16384 fake_fn+0x422 pages=3 vmalloc\n"
             "0x%016lx-0x%016lx    24576 fake_fn+0x558 pages=4 vmalloc stack kmain\n"
             "0x%016lx-0x%016lx     8192 %s vmap\n",
             b, b + 2 * FR, b + 2 * FR, b + 6 * FR, b + 6 * FR, b + 12 * FR,
             b + 12 * FR, b + 14 * FR, bare);
    int n = vmap_space_info(&vs, got, sizeof(got));
    HT_EQ_STR(got, want);
    HT_EQ_U(n, strlen(want));
    /* cut to fit, the length still the whole text's */
    char small[20];
    HT_EQ_U(vmap_space_info(&vs, small, sizeof(small)), strlen(want));
    HT_EQ_U(strlen(small), sizeof(small) - 1);
    HT_ASSERT(!strncmp(small, want, sizeof(small) - 1), "cut text %s", small);
    HT_EQ_U(vmap_space_info(&vs, NULL, 0), strlen(want));
    vmap_space_iounmap(&vs, io);
    vmap_space_free(&vs, v);
    vmap_space_free_stack(&vs, s);
    vmap_space_unmap(&vs, m);
    HT_EQ_U(vmap_space_info(&vs, got, sizeof(got)), 0);
    HT_EQ_STR(got, "");
    __free_pages(pfn_to_page(f >> PAGE_SHIFT), 0);
    held--;
    HT_TRY(teardown());
}

static void t_find_vm_area(void)
{
    HT_TRY(setup());
    uint8_t *a = vmap_space_alloc(&vs, 2 * FR, GFP_KERNEL, NULL);
    uint8_t *s = vmap_space_alloc_stack(&vs, FR, "s", NULL);
    HT_ASSERT(a && s, "allocations failed");
    const struct vm_area *A = area_of(a), *S = area_of(s);
    struct { uint64_t va; const struct vm_area *want; } q[] = {
        { (uint64_t)a, A }, { (uint64_t)a + 2 * FR - 1, A },          /* the mapping */
        { (uint64_t)a + 2 * FR, A }, { (uint64_t)a + 3 * FR - 1, A },  /* its guard */
        { (uint64_t)s - FR, S }, { (uint64_t)s - 1, S },              /* guard below */
        { (uint64_t)s, S }, { (uint64_t)s + FR, S }, { (uint64_t)s + 2 * FR - 1, S },
        { (uint64_t)s + 2 * FR, NULL }, { vs.end - 1, NULL },       /* beyond */
        { vs.start - 1, NULL }, { 0, NULL }, { ~0ul, NULL },          /* outside */
    };
    for (size_t i = 0; i < HT_COUNT(q); i++)
        HT_ASSERT(vmap_space_find(&vs, q[i].va) == q[i].want, "find(%#lx): %p, expected %p",
                  q[i].va, (const void *)vmap_space_find(&vs, q[i].va),
                  (const void *)q[i].want);
    vmap_space_free(&vs, a);
    HT_ASSERT(!vmap_space_find(&vs, (uint64_t)a), "a freed area is still found");
    vmap_space_free_stack(&vs, s);
    HT_TRY(teardown());
}

/* ---- the kernel's API on vmalloc_space ------------------------------------------------------- */

static void t_global_api(void)
{
    HT_TRY(setup_space(64 * MiB, true)); /* vmalloc_space takes the next 64 MiB */
    HT_EQ_U(vmap_space_init(&vmalloc_space, &pt, VMALLOC_START + 64 * MiB,
                            VMALLOC_START + 128 * MiB, true), 0);
    vmalloc_space.is_ram = touches_ram;
    vmalloc_space.report = record;
    uint8_t *v = vmalloc(5000);
    uint8_t *z = vzalloc(FR);
    uint8_t *s = vmalloc_stack(2 * FR, "g");
    uint64_t f = page_to_phys(alloc_page(GFP_KERNEL));
    held++;
    uint8_t *m = vmap(&f, 1, PT_W);
    uint8_t *io = ioremap(0xfee00004, 4), *wc = ioremap_wc(0xc0000000, FR);
    HT_ASSERT(v && z && s && m && io && wc, "allocations failed: %s", last_report);
    HT_EQ_U(vmalloc_nr_areas(), 6);
    HT_EQ_U(vmalloc_nr_pages(), 2 + 1 + 2);
    char why[256];
    HT_ASSERT(vmalloc_check(&vmalloc_space, why, sizeof(why)) == 0, "%s", why);
    /* the caller recorded is this function */
    const struct vm_area *a = find_vm_area((uint64_t)v);
    HT_ASSERT(a && a->kind == VM_ALLOC && (uint64_t)a->caller > (uint64_t)t_global_api &&
              (uint64_t)a->caller < (uint64_t)t_global_api + 64 * KiB,
              "caller %p, this function at %p", a ? a->caller : NULL, (void *)t_global_api);
    a = find_vm_area((uint64_t)s - 1);
    HT_ASSERT(a && a->kind == VM_STACK && a->addr == (uint64_t)s, "stack guard");
    HT_EQ_U(*at((uint64_t)z + 100), 0);
    char info[1024];
    HT_ASSERT(vmallocinfo(info, sizeof(info)) > 0 && strstr(info, "pages=2 vmalloc stack g"),
              "vmallocinfo: %s", info);
    HT_ASSERT(vmalloc_report_guard((uint64_t)v + 2 * FR), "guard not reported");
    const struct vm_area *o;
    HT_ASSERT(vmalloc_stack_overflow((uint64_t)s + 8, 0, &o) && o->addr == (uint64_t)s,
              "overflow not seen");
    vfree(v);
    vfree(z);
    vfree_stack(s);
    vunmap(m);
    iounmap(io);
    iounmap(wc);
    HT_EQ_U(vmalloc_nr_areas(), 0);
    HT_EQ_U(vmalloc_nr_pages(), 0);
    HT_ASSERT(vmalloc_check(&vmalloc_space, why, sizeof(why)) == 0, "%s", why);
    HT_EQ_U(vmalloc_space.errors, 0);
    memset(&vmalloc_space, 0, sizeof(vmalloc_space));
    __free_pages(pfn_to_page(f >> PAGE_SHIFT), 0);
    held--;
    HT_TRY(teardown());
}

/* Before set-up, the kernel's space has an empty range: every call fails cleanly. */
static void t_global_before_init(void)
{
    HT_TRY(setup());
    memset(&vmalloc_space, 0, sizeof(vmalloc_space));
    vmalloc_space.report = record;
    HT_ASSERT(!vmalloc(FR), "vmalloc before vmalloc_init");
    HT_ASSERT(!vmalloc_stack(FR, "x"), "vmalloc_stack before vmalloc_init");
    HT_ASSERT(!find_vm_area(VMALLOC_START), "an area before vmalloc_init");
    HT_EQ_U(vmalloc_nr_areas(), 0);
    memset(&vmalloc_space, 0, sizeof(vmalloc_space));
    HT_TRY(teardown());
}

/* ---- the validator catches corruption ------------------------------------------------------ */

/* vmalloc_check must fail, naming the problem with `says`. */
static void expect_caught(const char *what, const char *says)
{
    char why[256];
    HT_ASSERT(vmalloc_check(&vs, why, sizeof(why)) != 0, "%s not caught", what);
    HT_ASSERT(strstr(why, says), "%s: \"%s\", expected \"%s\"", what, why, says);
}

static void t_check_catches(void)
{
    HT_TRY(setup());
    uint8_t *a = vmap_space_alloc(&vs, 3 * FR, GFP_KERNEL, NULL);
    uint8_t *b = vmap_space_alloc(&vs, 2 * FR, GFP_KERNEL, NULL);
    uint8_t *s = vmap_space_alloc_stack(&vs, 2 * FR, "s", NULL);
    uint8_t *io = vmap_space_ioremap(&vs, 0xfee00000, FR, PT_UC, NULL);
    HT_ASSERT(a && b && s && io, "allocations failed");
    HT_TRY(check());
    struct vm_area *A = (struct vm_area *)area_of(a), *B = (struct vm_area *)area_of(b);
    struct vm_area *S = (struct vm_area *)area_of(s), *I = (struct vm_area *)area_of(io);
    struct page *spare = alloc_page(GFP_KERNEL);
    HT_ASSERT(spare, "no frame");
    held++;
    uint64_t spa = page_to_phys(spare);
    struct pt_view v;

    /* two overlapping areas: b moved down onto a's guard page */
    B->addr -= FR;
    HT_TRY(expect_caught("overlapping areas", "overlap"));
    B->addr += FR;
    HT_TRY(check());
    /* out of order */
    vs.areas = B;
    A->next = B->next;
    B->next = A;
    HT_TRY(expect_caught("unsorted areas", "out of order"));
    vs.areas = A;
    B->next = A->next;
    A->next = B;
    HT_TRY(check());
    /* the guard page after a mapped */
    HT_EQ_U(pt_map(&pt, (uint64_t)a + 3 * FR, spa, FR, PT_W | PT_G, 0), 0);
    HT_TRY(expect_caught("a mapped guard page", "guard page"));
    HT_EQ_U(pt_unmap(&pt, (uint64_t)a + 3 * FR, FR), 0);
    HT_TRY(check());
    /* the guard page below the stack mapped */
    HT_EQ_U(pt_map(&pt, (uint64_t)s - FR, spa, FR, PT_W | PT_G, 0), 0);
    HT_TRY(expect_caught("a mapped stack guard", "guard page"));
    HT_EQ_U(pt_unmap(&pt, (uint64_t)s - FR, FR), 0);
    /* a mapping in no area */
    uint64_t stray = (uint64_t)io + 16 * FR;
    HT_EQ_U(pt_map(&pt, stray, spa, FR, PT_W | PT_G, 0), 0);
    HT_TRY(expect_caught("a stray mapping", "outside every area"));
    HT_EQ_U(pt_unmap(&pt, stray, FR), 0);
    HT_TRY(check());
    /* a hole in an area */
    HT_EQ_U(pt_walk(&pt, (uint64_t)b + FR, &v), 0);
    HT_EQ_U(pt_unmap(&pt, (uint64_t)b + FR, FR), 0);
    HT_TRY(expect_caught("a hole", "1 of its 2 pages mapped"));
    HT_EQ_U(pt_map(&pt, (uint64_t)b + FR, v.pa, FR, B->prot, 0), 0);
    HT_TRY(check());
    /* a page with other protections */
    HT_EQ_U(pt_protect(&pt, (uint64_t)a + FR, FR, PT_G), 0);
    HT_TRY(expect_caught("a read-only page", "protections"));
    HT_EQ_U(pt_protect(&pt, (uint64_t)a + FR, FR, A->prot), 0);
    HT_TRY(check());
    /* an area that claims W+X */
    A->prot |= PT_X;
    HT_TRY(expect_caught("a W+X area", "W+X"));
    A->prot &= ~PT_X;
    /* a frame the page allocator thinks is free */
    HT_EQ_U(pt_walk(&pt, (uint64_t)s, &v), 0);
    struct page *pg = pfn_to_page(v.pa >> PAGE_SHIFT);
    pg->refcount = 0;
    HT_TRY(expect_caught("a free frame mapped", "not an allocated single frame"));
    pg->refcount = 1;
    HT_TRY(check());
    /* an ioremap page away from its device address */
    I->phys += FR;
    HT_TRY(expect_caught("a moved device address", "not device address"));
    I->phys -= FR;
    /* counters */
    vs.nr_frames++;
    HT_TRY(expect_caught("nr_frames", "nr_frames"));
    vs.nr_frames--;
    vs.nr_areas--;
    HT_TRY(expect_caught("nr_areas", "nr_areas"));
    vs.nr_areas += 2;
    HT_TRY(expect_caught("nr_areas", "nr_areas"));
    vs.nr_areas--;
    S->nr_pages--;
    HT_TRY(expect_caught("a stack's nr_pages", "nr_pages"));
    S->nr_pages++;
    /* a stack without its guard below, an area beyond the range */
    S->guard_below = 0;
    HT_TRY(expect_caught("a stack without a guard", "guard bytes below"));
    S->guard_below = FR;
    uint64_t end = vs.end;
    vs.end = (uint64_t)io + FR; /* io's guard page falls outside */
    HT_TRY(expect_caught("an area beyond the range", "not inside"));
    vs.end = end;
    /* a cycle in the list is stopped by the count */
    struct vm_area *last = I->next;
    I->next = A;
    HT_TRY(expect_caught("a cycle", "more areas in the list"));
    I->next = last;
    HT_TRY(check());

    __free_pages(spare, 0);
    held--;
    vmap_space_free(&vs, a);
    vmap_space_free(&vs, b);
    vmap_space_free_stack(&vs, s);
    vmap_space_iounmap(&vs, io);
    HT_TRY(teardown());
}

/* ---- random operations against a model ------------------------------------------------------ */

static uint64_t rng = 88172645463325252ul;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void t_random(void)
{
    enum { NLIVE = 48 };
    struct { uint8_t *p; uint64_t len, seed; int kind; } live[NLIVE];
    size_t n = 0;
    HT_TRY(setup_space(4 * MiB, true));
    for (int op = 0; op < 3000; op++) {
        uint64_t r = rnd();
        if (n < NLIVE && (r % 3 || n == 0)) {
            uint64_t pages = (r >> 8) % 8 == 0 ? 1 + (r >> 16) % 200 : 1 + (r >> 16) % 6;
            bool stack = (r >> 4) % 5 == 0;
            uint8_t *p = stack ? vmap_space_alloc_stack(&vs, pages * FR, "r", NULL)
                               : vmap_space_alloc(&vs, pages * FR - (r >> 40) % FR, GFP_KERNEL,
                                                  NULL);
            HT_TRY(check());
            if (!p) {
                HT_ASSERT(strstr(last_report, "no room"), "op %d: %s", op, last_report);
                continue;
            }
            live[n].p = p;
            live[n].len = pages * FR;
            live[n].seed = r;
            live[n].kind = stack;
            HT_TRY(fill((uint64_t)p, FR, r));
            n++;
        } else {
            size_t i = (r >> 8) % n;
            HT_TRY(expect((uint64_t)live[i].p, FR, live[i].seed));
            if (live[i].kind)
                vmap_space_free_stack(&vs, live[i].p);
            else
                vmap_space_free(&vs, live[i].p);
            live[i] = live[--n];
            HT_TRY(check());
        }
    }
    while (n--) {
        if (live[n].kind)
            vmap_space_free_stack(&vs, live[n].p);
        else
            vmap_space_free(&vs, live[n].p);
    }
    HT_EQ_U(vs.errors, 0);
    HT_TRY(teardown());
}

/* ---- migration's vmalloc half ---------------------------------------------------------------- */

/* Every frame of a vmalloc area is marked with its area and address, and
 * vmalloc_move_page puts a copy in its place (what migrate_page does with
 * it); the validator catches a wrong mark; stacks are not marked. */
static void t_move_page(void)
{
    HT_TRY(setup());
    uint8_t *a = vmap_space_alloc(&vs, 3 * FR, GFP_KERNEL, NULL);
    uint8_t *st = vmap_space_alloc_stack(&vs, 2 * FR, "s", NULL);
    HT_ASSERT(a && st, "allocations failed");
    HT_TRY(fill((uint64_t)a, 3 * FR, 5));
    const struct vm_area *A = area_of(a);
    for (unsigned i = 0; i < 3; i++) {
        uint64_t va = (uint64_t)a + i * FR;
        struct pt_view v;
        HT_EQ_U(pt_walk(&pt, va, &v), 0);
        struct page *old = pfn_to_page(v.pa >> PAGE_SHIFT);
        HT_ASSERT((old->flags2 & PG2_VMALLOC) && old->mapping == (uint64_t)(uintptr_t)A &&
                      old->index == va, "page %u: flags2 %#x mapping %#lx index %#lx", i,
                  old->flags2, old->mapping, old->index);
        struct page *new = alloc_page(GFP_KERNEL);
        HT_ASSERT(new, "no frame");
        memcpy(page_address(new), page_address(old), FR);
        vmalloc_move_page(old, new);
        HT_ASSERT(!(old->flags2 & PG2_VMALLOC) && !old->mapping && !old->index,
                  "the old frame kept its marks");
        HT_EQ_U(put_page(old), 0);      /* the caller drops the old frame */
        HT_EQ_U(pt_walk(&pt, va, &v), 0);
        HT_EQ_U(v.pa, page_to_phys(new));
        HT_TRY(check());
    }
    HT_TRY(expect((uint64_t)a, 3 * FR, 5));
    /* A wrong mark is caught. */
    struct pt_view v;
    HT_EQ_U(pt_walk(&pt, (uint64_t)a + FR, &v), 0);
    struct page *p = pfn_to_page(v.pa >> PAGE_SHIFT);
    p->index += FR;
    HT_TRY(expect_caught("a vmalloc frame with the wrong address", "is marked"));
    p->index -= FR;
    HT_EQ_U(pt_walk(&pt, (uint64_t)st, &v), 0);
    p = pfn_to_page(v.pa >> PAGE_SHIFT);
    HT_ASSERT(!(p->flags2 & PG2_VMALLOC), "a stack frame is marked movable");
    p->flags2 |= PG2_VMALLOC;
    HT_TRY(expect_caught("a marked stack frame", "marked movable"));
    p->flags2 &= (uint8_t)~PG2_VMALLOC;
    HT_TRY(check());
    vmap_space_free(&vs, a);
    vmap_space_free_stack(&vs, st);
    HT_TRY(teardown());
}

static const struct htest cases[] = {
    HT_CASE(alloc_sizes),
    HT_CASE(bad_sizes),
    HT_CASE(vzalloc_zeroes),
    HT_CASE(guard_pages),
    HT_CASE(lazy_free),
    HT_CASE(first_fit_reuse),
    HT_CASE(out_of_range),
    HT_CASE(out_of_frames),
    HT_CASE(vfree_null),
    HT_CASE(bad_free_debug),
    HT_CASE(bad_free_panics),
    HT_CASE(vmap),
    HT_CASE(ioremap_ram_refused),
    HT_CASE(ioremap_offset),
    HT_CASE(stack_guards),
    HT_CASE(vmallocinfo_format),
    HT_CASE(find_vm_area),
    HT_CASE(global_api),
    HT_CASE(global_before_init),
    HT_CASE(check_catches),
    HT_CASE(random),
    HT_CASE(move_page),
};

int main(int argc, char **argv)
{
    int rc = htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
    mm_host_fini();
    return rc;
}
