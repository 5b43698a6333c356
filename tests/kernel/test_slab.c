/*
 * The slab allocator and kmalloc in the running kernel (mm/slab*.c,
 * mm/kmalloc.c, docs/slab.md): caches with constructors, alignment,
 * zones, colouring, slabinfo, the kmalloc size classes and large blocks,
 * memory pressure, and (with slab_debug on the command line) the
 * detection of red-zone overflows, writes after free, double frees and
 * invalid frees, each of which the kernel must survive.
 *
 * Every case ends the same way: the validator (slab_check) finds nothing
 * wrong, and free frames, objects in callers' hands, large kmalloc
 * blocks, slab frames and vmalloc areas are back where they were before
 * the case.  The debug cases skip (with a line saying so) when the kernel
 * was booted without slab_debug: without it a bad free is a panic.  The
 * boot "slab-debug" of tests/run_all.py runs them for real, and the boots
 * "bad-kfree-panics" and "bad-vfree-panics" (ktest.crash=kfree, =vfree)
 * check the panic of normal mode.
 */
#include <kernel/ktest.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <mm/gfp.h>
#include <mm/bootmem.h>
#include <mm/slab.h>
#include <mm/vmalloc.h>

/* ---- baseline, validator, reports ---------------------------------------------------- */

struct baseline {
    uint64_t free;      /* free frames (buddy lists and per-CPU caches) */
    uint64_t live;      /* objects in callers' hands, every cache */
    uint64_t held;      /* frames in slabs (after the shrink: slabs with objects) */
    uint64_t large;     /* frames in large kmalloc blocks */
    uint64_t vareas, vpages;
};

/* Empty slabs and the per-CPU page caches keep frames between cases on
 * purpose; give them back before counting. */
static void take(struct baseline *b)
{
    ktest_settle();
    b->free = nr_free_pages();
    b->live = slab_live_objects();
    b->held = slab_pages_held();
    b->large = kmalloc_large_pages();
    b->vareas = vmalloc_nr_areas();
    b->vpages = vmalloc_nr_pages();
}

/* Is everything back, and does the validator agree?  A reason or NULL. */
static const char *changed(const struct baseline *b)
{
    static char why[240];
    struct baseline now;
    if (slab_check(why, sizeof(why)) != 0)
        return why;
    take(&now);
    if (slab_check(why, sizeof(why)) != 0)
        return why;
#define CMP(field, what)                                                          \
    if (now.field != b->field) {                                                  \
        snprintf(why, sizeof(why), "%s %lu, baseline %lu", what,                \
                 now.field, b->field);   \
        return why;                                                               \
    }
    CMP(free, "free frames");
    CMP(live, "live slab objects");
    CMP(held, "slab frames");
    CMP(large, "large kmalloc frames");
    CMP(vareas, "vmalloc areas");
    CMP(vpages, "vmalloc frames");
#undef CMP
    return NULL;
}

#define KT_BASELINE(b)                                                      \
    do {                                                                    \
        const char *why_ = changed(b);                                      \
        KT_ASSERT(!why_, "after the case: %s", why_);                       \
    } while (0)

#define KT_SLAB_OK()                                                        \
    do {                                                                    \
        char why_[240];                                                     \
        KT_ASSERT(slab_check(why_, sizeof(why_)) == 0, "slab_check: %s", why_); \
    } while (0)

/* Exactly one slab error since `errors`, and the log since `mark` shows
 * `text`.  A reason or NULL. */
static const char *one_report(uint64_t mark, uint64_t errors, const char *text)
{
    static char why[400];
    uint64_t n = slab_error_count() - errors;
    if (n != 1)
        snprintf(why, sizeof(why), "%lu reports instead of 1 (last: \"%s\"), expected \"%s\"",
                 n, slab_last_error(), text);
    else if (!log_contains_since(mark, text))
        snprintf(why, sizeof(why), "the log lacks \"%s\"; the report was \"%s\"", text,
                 slab_last_error());
    else
        return NULL;
    return why;
}

/* Do `stmt`, which must cause exactly one slab report containing the
 * formatted text. */
/* The expected text goes to one static buffer: at -O0 (DEBUG=1) a buffer
 * per use would add up past the 2 KiB frame limit in a case with many. */
static char kt_report_text[200];
#define KT_REPORTS(stmt, ...)                                               \
    do {                                                                    \
        uint64_t mark_ = log_mark(), errors_ = slab_error_count();          \
        snprintf(kt_report_text, sizeof(kt_report_text), __VA_ARGS__);     \
        stmt;                                                               \
        const char *why_ = one_report(mark_, errors_, kt_report_text);      \
        KT_ASSERT(!why_, "%s: %s", #stmt, why_);                            \
    } while (0)

/* The debug cases need slab_debug: without it their mistakes panic. */
#define NEEDS_SLAB_DEBUG(name)                                              \
    do {                                                                    \
        if (!slab_debug) {                                                  \
            printk("%s: skipped: needs slab_debug on the command line "     \
                   "(a bad free panics without it)\n", name);               \
            return;                                                         \
        }                                                                   \
    } while (0)

static uint64_t phys_of(const void *p)
{
    struct page *pg = virt_to_page(p);
    return pg ? page_to_phys(pg) + ((uintptr_t)p & (PAGE_SIZE - 1)) : ~0ul;
}

static bool all_bytes(const void *p, size_t n, uint8_t byte)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != byte)
            return false;
    return true;
}

/* ---- slabinfo, parsed ------------------------------------------------------------------ */

static char info_text[32 * 1024];

struct cache_info {
    uint64_t active, objs, objsize, perslab, pages;
    uint64_t limit, batch, shared;
    uint64_t active_slabs, slabs, sharedavail;
};

static const char *skip_spaces(const char *p)
{
    while (*p == ' ')
        p++;
    return p;
}

/* A number after optional spaces; NULL when there is none. */
static const char *number(const char *p, uint64_t *v)
{
    p = skip_spaces(p);
    if (*p < '0' || *p > '9')
        return NULL;
    *v = 0;
    while (*p >= '0' && *p <= '9')
        *v = *v * 10 + (uint64_t)(*p++ - '0');
    return p;
}

static const char *word(const char *p, const char *w)
{
    p = skip_spaces(p);
    size_t n = strlen(w);
    return p && strncmp(p, w, n) == 0 ? p + n : NULL;
}

/* The line of cache `name` in a fresh slabinfo: 1 when found and well
 * formed, 0 when absent, -1 when malformed (what is wrong in *why). */
static int cache_line(const char *name, struct cache_info *ci, const char **why)
{
    char key[48];
    int len = slabinfo(info_text, sizeof(info_text));
    *why = "";
    if (len <= 0 || (size_t)len >= sizeof(info_text)) {
        *why = "slabinfo did not fit its buffer";
        return -1;
    }
    /* Linux's layout: the name left-justified in 17 columns, then a space. */
    snprintf(key, sizeof(key), "\n%-17s ", name);
    const char *p = strstr(info_text, key);
    if (!p)
        return 0;
    p += strlen(key);
    uint64_t *first[] = { &ci->active, &ci->objs, &ci->objsize, &ci->perslab, &ci->pages };
    for (unsigned i = 0; i < 5 && p; i++)
        p = number(p, first[i]);
    p = p ? word(p, ": tunables") : NULL;
    p = p ? number(p, &ci->limit) : NULL;
    p = p ? number(p, &ci->batch) : NULL;
    p = p ? number(p, &ci->shared) : NULL;
    p = p ? word(p, ": slabdata") : NULL;
    p = p ? number(p, &ci->active_slabs) : NULL;
    p = p ? number(p, &ci->slabs) : NULL;
    p = p ? number(p, &ci->sharedavail) : NULL;
    if (!p || *p != '\n') {
        *why = "the line does not follow the slabinfo 2.1 layout";
        return -1;
    }
    return 1;
}

#define KT_CACHE_LINE(name, ci)                                             \
    do {                                                                    \
        const char *w_;                                                     \
        int r_ = cache_line(name, ci, &w_);                                 \
        KT_ASSERT(r_ == 1, "slabinfo line of %s: %s", name, r_ ? w_ : "absent"); \
    } while (0)

/* ---- caches: create, allocate, free, destroy --------------------------------------------- */

#define CTOR_MAGIC 0x5ca1ab1e0b1ec7ul

struct ctor_obj {
    uint64_t magic;
    void *self;
    uint64_t uses;   /* changed by callers, must survive free + alloc */
    uint8_t payload[40];
};

static uint64_t ctor_calls;

static void ctor_obj_init(void *p)
{
    struct ctor_obj *o = p;
    ctor_calls++;
    o->magic = CTOR_MAGIC;
    o->self = p;
    o->uses = 0;
}

static struct ctor_obj *ctor_objs[600];

/* Constructors run once per object when its slab is made, never on an
 * allocation; a freed object comes back in the state it was freed in. */
KTEST(slab_cache_roundtrip)
{
    struct baseline b;
    struct cache_info ci;
    take(&b);
    ctor_calls = 0;
    struct kmem_cache *c = kmem_cache_create("kt_ctor", sizeof(struct ctor_obj), 0, 0,
                                             ctor_obj_init);
    KT_ASSERT(c, "kmem_cache_create failed");
    KT_ASSERT(kmem_cache_size(c) == sizeof(struct ctor_obj), "size %zu", kmem_cache_size(c));
    KT_ASSERT(ctor_calls == 0, "the constructor ran before any slab existed");
    KT_CACHE_LINE("kt_ctor", &ci);
    KT_ASSERT(ci.objs == 0 && ci.slabs == 0, "a new cache has %lu objects",
              ci.objs);

    struct ctor_obj *o = kmem_cache_alloc(c, GFP_KERNEL);
    KT_ASSERT(o, "no object");
    KT_CACHE_LINE("kt_ctor", &ci);
    uint64_t num = ci.perslab;
    KT_ASSERT(num > 1 && ci.slabs == 1 && ci.active == 1, "%lu per slab, %lu slabs, %lu active",
              num, ci.slabs,
              ci.active);
    KT_ASSERT(ctor_calls == num, "constructor called %lu times for a slab of %lu objects",
              ctor_calls, num);
    KT_ASSERT(o->magic == CTOR_MAGIC && o->self == o && o->uses == 0, "object not constructed");
    KT_ASSERT(kmem_cache_live(c) == 1, "live %lu", kmem_cache_live(c));

    /* Freed in a constructed state, handed back as it was left. */
    o->uses = 41;
    kmem_cache_free(c, o);
    KT_ASSERT(kmem_cache_live(c) == 0, "live %lu after the free",
              kmem_cache_live(c));
    struct ctor_obj *again = kmem_cache_alloc(c, GFP_KERNEL);
    KT_ASSERT(again == o, "the object just freed was not handed out first (LIFO array)");
    KT_ASSERT(again->magic == CTOR_MAGIC && again->uses == 41,
              "the object lost its state across free and alloc");
    KT_ASSERT(ctor_calls == num, "constructor ran again on an allocation");

    /* One slab more: num calls more, and no more. */
    ctor_objs[0] = again;
    KT_ASSERT(num + 1 <= sizeof(ctor_objs) / sizeof(ctor_objs[0]), "%lu objects per slab",
              num);
    for (uint64_t i = 1; i <= num; i++) {
        ctor_objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
        KT_ASSERT(ctor_objs[i], "allocation %lu failed", i);
        KT_ASSERT(ctor_objs[i]->magic == CTOR_MAGIC && ctor_objs[i]->self == ctor_objs[i],
                  "object %lu not constructed", i);
        for (uint64_t j = 0; j < i; j++)
            KT_ASSERT(ctor_objs[j] != ctor_objs[i], "object handed out twice");
    }
    KT_ASSERT(ctor_calls == 2 * num, "%lu constructor calls for 2 slabs of %lu",
              ctor_calls, num);
    KT_ASSERT(kmem_cache_live(c) == num + 1, "live %lu", kmem_cache_live(c));
    KT_CACHE_LINE("kt_ctor", &ci);
    KT_ASSERT(ci.slabs == 2 && ci.active == num + 1 && ci.objs == 2 * num,
              "slabinfo: %lu slabs, %lu active, %lu objects", ci.slabs,
              ci.active, ci.objs);
    KT_SLAB_OK();
    for (uint64_t i = 0; i <= num; i++)
        kmem_cache_free(c, ctor_objs[i]);
    KT_ASSERT(kmem_cache_live(c) == 0, "live %lu", kmem_cache_live(c));

    /* __GFP_ZERO on a cache without constructor. */
    struct kmem_cache *z = kmem_cache_create("kt_zero", 300, 0, 0, NULL);
    KT_ASSERT(z, "kmem_cache_create failed");
    uint8_t *p = kmem_cache_alloc(z, GFP_KERNEL);
    KT_ASSERT(p, "no object");
    memset(p, 0xee, 300);
    kmem_cache_free(z, p);
    p = kmem_cache_alloc(z, __GFP_ZERO);
    KT_ASSERT(p && all_bytes(p, 300, 0), "__GFP_ZERO gave a dirty object");
    kmem_cache_free(z, p);

    KT_ASSERT(kmem_cache_destroy(z) == 0, "destroying an empty cache failed");
    KT_ASSERT(kmem_cache_destroy(c) == 0, "destroying an empty cache failed");
    KT_ASSERT(cache_line("kt_ctor", &ci, &(const char *){ 0 }) == 0,
              "a destroyed cache is still in slabinfo");
    KT_BASELINE(&b);
}

static void *align_objs[64];

/* SLAB_HWCACHE_ALIGN and explicit alignments, in debug mode too (the red
 * zone before an object is as wide as its alignment). */
KTEST(slab_alignment)
{
    static const struct {
        size_t size, align;
        unsigned long flags;
        size_t expect;
    } t[] = {
        { 100, 0, SLAB_HWCACHE_ALIGN, 64 },   /* a cache line */
        { 20, 0, SLAB_HWCACHE_ALIGN, 32 },    /* two share a line, none straddles */
        { 8, 0, SLAB_HWCACHE_ALIGN, 8 },
        { 700, 0, SLAB_HWCACHE_ALIGN, 64 },
        { 24, 0, 0, 8 },                      /* the default */
        { 200, 256, 0, 256 },
        { 1000, 4096, 0, 4096 },
        { 50, 128, SLAB_HWCACHE_ALIGN, 128 }, /* the larger of the two */
    };
    struct baseline b;
    take(&b);
    uint64_t errors = slab_error_count();
    for (unsigned k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
        struct kmem_cache *c = kmem_cache_create("kt_align", t[k].size, t[k].align, t[k].flags,
                                                 NULL);
        KT_ASSERT(c, "create size %zu align %zu failed", t[k].size, t[k].align);
        const unsigned n = sizeof(align_objs) / sizeof(align_objs[0]);
        for (unsigned i = 0; i < n; i++) {
            uint8_t *p = kmem_cache_alloc(c, GFP_KERNEL);
            KT_ASSERT(p, "size %zu: allocation %u failed", t[k].size, i);
            KT_ASSERT((uintptr_t)p % t[k].expect == 0, "size %zu align %zu flags %lu: %p is "
                      "not %zu-aligned", t[k].size, t[k].align, t[k].flags, (void *)p,
                      t[k].expect);
            for (unsigned j = 0; j < i; j++) {
                uint8_t *q = align_objs[j];
                KT_ASSERT(q + t[k].size <= p || p + t[k].size <= q,
                          "size %zu: objects %p and %p overlap", t[k].size, (void *)p,
                          (void *)q);
            }
            memset(p, (int)i, t[k].size); /* every byte is the caller's */
            align_objs[i] = p;
        }
        for (unsigned i = 0; i < n; i++)
            KT_ASSERT(all_bytes(align_objs[i], t[k].size, (uint8_t)i),
                      "size %zu: object %u was overwritten", t[k].size, i);
        for (unsigned i = 0; i < n; i++)
            kmem_cache_free(c, align_objs[i]);
        KT_ASSERT(kmem_cache_destroy(c) == 0, "destroy failed");
    }
    KT_ASSERT(slab_error_count() == errors, "writing whole objects was reported: %s",
              slab_last_error());
    KT_BASELINE(&b);
}

static void *dma_objs[100];

/* SLAB_CACHE_DMA slabs lie below 16 MiB, SLAB_CACHE_DMA32 below 4 GiB; an
 * ordinary cache refuses a zone it cannot give. */
KTEST(slab_cache_dma)
{
    static const struct {
        const char *name;
        unsigned long flags;
        uint64_t limit;
    } t[] = {
        { "kt_dma", SLAB_CACHE_DMA, ZONE_DMA_END },
        { "kt_dma32", SLAB_CACHE_DMA32, ZONE_DMA32_END },
    };
    struct baseline b;
    take(&b);
    for (unsigned k = 0; k < 2; k++) {
        struct kmem_cache *c = kmem_cache_create(t[k].name, 500, 0, t[k].flags, NULL);
        KT_ASSERT(c, "create %s failed", t[k].name);
        const unsigned n = sizeof(dma_objs) / sizeof(dma_objs[0]);
        for (unsigned i = 0; i < n; i++) {
            /* The cache's own zone flag is accepted too. */
            gfp_t gfp = (i & 1) ? GFP_KERNEL : (k == 0 ? GFP_DMA : GFP_DMA32);
            void *p = kmem_cache_alloc(c, gfp);
            KT_ASSERT(p, "%s: allocation %u failed", t[k].name, i);
            uint64_t pa = phys_of(p);
            KT_ASSERT(pa + 500 <= t[k].limit, "%s: object %p at phys %#lx", t[k].name, p,
                      pa);
            dma_objs[i] = p;
        }
        for (unsigned i = 0; i < n; i++)
            kmem_cache_free(c, dma_objs[i]);
        KT_ASSERT(kmem_cache_destroy(c) == 0, "destroy %s failed", t[k].name);
    }
    struct kmem_cache *c = kmem_cache_create("kt_nodma", 64, 0, 0, NULL);
    KT_ASSERT(c, "create failed");
    void *p = (void *)1;
    KT_REPORTS(p = kmem_cache_alloc(c, GFP_DMA),
               "kmem_cache_alloc: cache kt_nodma cannot give DMA memory");
    KT_ASSERT(p == NULL, "GFP_DMA from an ordinary cache gave %p", p);
    KT_REPORTS(p = kmem_cache_alloc(c, GFP_DMA32),
               "kmem_cache_alloc: cache kt_nodma cannot give DMA32 memory");
    KT_ASSERT(p == NULL, "GFP_DMA32 from an ordinary cache gave %p", p);
    KT_ASSERT(kmem_cache_destroy(c) == 0, "destroy failed");
    KT_BASELINE(&b);
}

static void kt_nop_ctor(void *p)
{
    (void)p;
}

/* Absurd arguments: NULL, and nothing allocated. */
KTEST(slab_create_refuses)
{
    static const struct {
        const char *name;
        size_t size, align;
        unsigned long flags;
    } bad[] = {
        { NULL, 64, 0, 0 },
        { "kt_bad", 0, 0, 0 },
        { "kt_bad", KMEM_CACHE_MAX_SIZE + 1, 0, 0 },
        { "kt_bad", (size_t)-1, 0, 0 },
        { "kt_bad", 64, 3, 0 },
        { "kt_bad", 64, 24, 0 },
        { "kt_bad", 64, 2 * PAGE_SIZE, 0 },
        { "kt_bad", 64, (size_t)1 << 63, 0 },
        { "kt_bad", 64, 0, 0x1000 },
        { "kt_bad", 64, 0, 0x100 },   /* an internal flag (kmalloc class) */
        { "kt_bad", 64, 0, ~0ul },
    };
    struct baseline b;
    take(&b);
    for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        uint64_t mark = log_mark();
        struct kmem_cache *c = kmem_cache_create(bad[k].name, bad[k].size, bad[k].align,
                                                 bad[k].flags, NULL);
        KT_ASSERT(c == NULL, "case %u (size %zu align %zu flags %#lx) was accepted", k,
                  bad[k].size, bad[k].align, bad[k].flags);
        KT_ASSERT(log_contains_since(mark, "kmem_cache_create: "),
                  "case %u refused without a word", k);
    }
    /* The edges that must work: the largest size (in debug mode too, where
     * the red zones make its slot larger than 32 frames: debug caches may
     * use one order more), the largest alignment, every user flag. */
    size_t max = KMEM_CACHE_MAX_SIZE;
    struct kmem_cache *c = kmem_cache_create("kt_edge_max", max, 0, 0, NULL);
    KT_ASSERT(c, "a cache of %zu bytes was refused", max);
    void *p = kmem_cache_alloc(c, GFP_KERNEL);
    KT_ASSERT(p, "no object of %zu bytes", max);
    memset(p, 1, max);
    kmem_cache_free(c, p);
    KT_ASSERT(kmem_cache_destroy(c) == 0, "destroy failed");
    c = kmem_cache_create("kt_edge_align", 1, PAGE_SIZE,
                          SLAB_HWCACHE_ALIGN | SLAB_CACHE_DMA32 | SLAB_NO_REAP, kt_nop_ctor);
    KT_ASSERT(c, "size 1, alignment PAGE_SIZE, all flags: refused");
    p = kmem_cache_alloc(c, GFP_KERNEL);
    KT_ASSERT(p && (uintptr_t)p % PAGE_SIZE == 0, "object %p", p);
    kmem_cache_free(c, p);
    /* SLAB_NO_REAP: memory pressure leaves its empty slab, an explicit
     * shrink takes it. */
    struct cache_info ci;
    slab_shrink_all();
    KT_CACHE_LINE("kt_edge_align", &ci);
    KT_ASSERT(ci.slabs == 1 && ci.active == 0, "SLAB_NO_REAP cache: %lu slabs after "
              "slab_shrink_all", ci.slabs);
    KT_ASSERT(kmem_cache_shrink(c) > 0, "kmem_cache_shrink freed nothing");
    KT_CACHE_LINE("kt_edge_align", &ci);
    KT_ASSERT(ci.slabs == 0, "%lu slabs after kmem_cache_shrink", ci.slabs);
    KT_ASSERT(kmem_cache_destroy(c) == 0, "destroy failed");
    KT_BASELINE(&b);
}

/* A cache with objects left is a leak: reported, refused, kept usable. */
KTEST(slab_destroy_leak)
{
    struct baseline b;
    take(&b);
    struct kmem_cache *c = kmem_cache_create("kt_leak", 40, 0, 0, NULL);
    KT_ASSERT(c, "create failed");
    void *o[3];
    for (int i = 0; i < 3; i++) {
        o[i] = kmem_cache_alloc(c, GFP_KERNEL);
        KT_ASSERT(o[i], "no object");
    }
    int r = 0;
    KT_REPORTS(r = kmem_cache_destroy(c),
               "kmem_cache_destroy: cache kt_leak still has 3 objects allocated (a leak; "
               "one is at ");
    KT_ASSERT(r == -1, "destroying a cache with 3 objects returned %d", r);
    bool named = false;
    for (int i = 0; i < 3; i++) {
        char at[40];
        snprintf(at, sizeof(at), "one is at %p)", o[i]);
        named = named || strstr(slab_last_error(), at);
    }
    KT_ASSERT(named, "the report names none of the leaked objects: %s", slab_last_error());
    /* Still a working cache. */
    KT_ASSERT(kmem_cache_live(c) == 3, "live %lu", kmem_cache_live(c));
    void *more = kmem_cache_alloc(c, GFP_KERNEL);
    KT_ASSERT(more, "the cache stopped working");
    kmem_cache_free(c, more);
    KT_SLAB_OK();
    kmem_cache_free(c, o[1]);
    KT_REPORTS(r = kmem_cache_destroy(c), "cache kt_leak still has 2 objects allocated");
    KT_ASSERT(r == -1, "returned %d", r);
    kmem_cache_free(c, o[0]);
    kmem_cache_free(c, o[2]);
    KT_ASSERT(kmem_cache_destroy(c) == 0, "destroying the emptied cache failed");
    KT_ASSERT(kmem_cache_destroy(NULL) == -1, "destroying NULL succeeded");
    KT_BASELINE(&b);
}

static void *info_objs[30];

/* /proc/slabinfo version 2.1, as Linux writes it. */
KTEST(slab_slabinfo)
{
    static const char head[] =
        "slabinfo - version: 2.1\n"
        "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
        " : tunables <limit> <batchcount> <sharedfactor>"
        " : slabdata <active_slabs> <num_slabs> <sharedavail>\n";
    static const char long_name[] = "kt_a_name_longer_than_31_characters";
    struct baseline b;
    struct cache_info ci;
    take(&b);
    char name[16] = "kt_info";
    struct kmem_cache *c = kmem_cache_create(name, 192, 0, 0, NULL);
    KT_ASSERT(c, "create failed");
    memcpy(name, "kt_XXXX", 8); /* the cache keeps its own copy of the name */
    struct kmem_cache *l = kmem_cache_create(long_name, 16, 0, 0, NULL);
    KT_ASSERT(l, "create with a long name failed");
    for (int i = 0; i < 30; i++) {
        info_objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
        KT_ASSERT(info_objs[i], "no object");
    }
    KT_CACHE_LINE("kt_info", &ci);
    KT_ASSERT(strncmp(info_text, head, sizeof(head) - 1) == 0, "the header is not Linux's");
    KT_ASSERT(ci.active == 30, "active_objs %lu, 30 allocated", ci.active);
    KT_ASSERT(ci.objsize >= 192 && (slab_debug || ci.objsize == 192),
              "objsize %lu", ci.objsize);
    KT_ASSERT(ci.pages && !(ci.pages & (ci.pages - 1)), "pagesperslab %lu",
              ci.pages);
    KT_ASSERT(ci.perslab * ci.objsize <= ci.pages * PAGE_SIZE, "%lu objects of %lu bytes "
              "in %lu pages", ci.perslab, ci.objsize,
              ci.pages);
    KT_ASSERT(ci.objs == ci.slabs * ci.perslab && ci.slabs == (30 + ci.perslab - 1) / ci.perslab,
              "%lu objects in %lu slabs of %lu", ci.objs,
              ci.slabs, ci.perslab);
    KT_ASSERT(ci.active_slabs == ci.slabs, "active_slabs %lu of %lu",
              ci.active_slabs, ci.slabs);
    /* A debug cache has no per-CPU array: every free is checked in its slab. */
    KT_ASSERT((slab_debug ? ci.limit == 0 && ci.batch == 0 : ci.limit >= ci.batch && ci.batch > 0)
              && ci.shared == 0 && ci.sharedavail == 0,
              "tunables %lu %lu %lu (slab_debug %d)", ci.limit, ci.batch, ci.shared, slab_debug);
    KT_ASSERT(!strstr(info_text, "kt_XXXX"), "the cache did not copy its name");
    /* 31 characters kept. */
    char cut[40];
    snprintf(cut, sizeof(cut), "\n%.31s ", long_name);
    KT_ASSERT(strstr(info_text, cut), "no line for the long name cut to 31 characters");
    KT_CACHE_LINE("kmem_cache", &ci);
    KT_CACHE_LINE("kmalloc-8", &ci);
    KT_CACHE_LINE("kmalloc-8192", &ci);

    /* Cut to fit, terminated, and the full length returned like snprintf. */
    int whole = slabinfo(info_text, sizeof(info_text));
    char small[20];
    memset(small, 'z', sizeof(small));
    int n = slabinfo(small, sizeof(small));
    KT_ASSERT(n == whole, "slabinfo into 20 bytes returned %d, not %d", n, whole);
    KT_ASSERT(strlen(small) == 19 && strncmp(small, head, 19) == 0, "the cut text is wrong");
    KT_ASSERT(slabinfo(NULL, 0) == whole, "slabinfo(NULL, 0) is not the length");

    for (int i = 0; i < 30; i++)
        kmem_cache_free(c, info_objs[i]);
    KT_CACHE_LINE("kt_info", &ci);
    KT_ASSERT(ci.active == 0 && ci.slabs > 0, "after freeing all: %lu active in %lu slabs "
              "(the slabs stay until a shrink)", ci.active,
              ci.slabs);
    KT_ASSERT(kmem_cache_shrink(c) > 0, "kmem_cache_shrink freed nothing");
    KT_CACHE_LINE("kt_info", &ci);
    KT_ASSERT(ci.slabs == 0 && ci.objs == 0, "%lu slabs left after kmem_cache_shrink",
              ci.slabs);
    KT_ASSERT(kmem_cache_destroy(c) == 0 && kmem_cache_destroy(l) == 0, "destroy failed");
    KT_ASSERT(cache_line("kt_info", &ci, &(const char *){ 0 }) == 0,
              "the destroyed cache is still listed");
    KT_BASELINE(&b);
}

static uint8_t *colour_objs[3 * 64];

/*
 * Colouring: the first object of successive slabs starts one colour step
 * (64 bytes) further in, while the leftover space of a slab allows.  The
 * object size is chosen from slabinfo's geometry so that a slab has room
 * for at least three colours in the current mode (debug mode changes the
 * slot size).
 */
KTEST(slab_colouring)
{
    static const size_t sizes[] = { 200, 300, 450, 700, 1000, 1500, 2500, 100, 60 };
    struct baseline b;
    struct cache_info ci;
    take(&b);
    struct kmem_cache *c = NULL;
    for (unsigned k = 0; k < sizeof(sizes) / sizeof(sizes[0]) && !c; k++) {
        c = kmem_cache_create("kt_colour", sizes[k], 0, 0, NULL);
        KT_ASSERT(c, "create failed");
        KT_CACHE_LINE("kt_colour", &ci);
        /* Leftover, minus room for an on-slab descriptor and its maps. */
        uint64_t left = ci.pages * PAGE_SIZE - ci.perslab * ci.objsize;
        uint64_t desc = 64 + 16 * ((ci.perslab + 63) / 64);
        if (ci.perslab > 64 || left < desc + 2 * 64) {
            kmem_cache_destroy(c);
            c = NULL;
        }
    }
    KT_ASSERT(c, "no candidate size leaves room for three colours");
    uint64_t num = ci.perslab, bytes = ci.pages * PAGE_SIZE;
    for (uint64_t i = 0; i < 3 * num; i++) {
        colour_objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
        KT_ASSERT(colour_objs[i], "no object");
    }
    KT_CACHE_LINE("kt_colour", &ci);
    KT_ASSERT(ci.slabs == 3, "%lu objects took %lu slabs of %lu", (3 * num),
              ci.slabs, num);
    /* Slabs are naturally aligned blocks: group the objects by block, in
     * the order the slabs were made, and take each one's first offset. */
    uintptr_t base[3];
    uint64_t first[3];
    unsigned nbase = 0;
    for (uint64_t i = 0; i < 3 * num; i++) {
        uintptr_t bs = (uintptr_t)colour_objs[i] & ~(uintptr_t)(bytes - 1);
        uint64_t off = (uintptr_t)colour_objs[i] - bs;
        unsigned j = 0;
        while (j < nbase && base[j] != bs)
            j++;
        if (j == nbase) {
            KT_ASSERT(nbase < 3, "objects in more than 3 blocks");
            base[nbase] = bs;
            first[nbase++] = off;
        } else if (off < first[j]) {
            first[j] = off;
        }
    }
    KT_ASSERT(nbase == 3, "objects in %u blocks", nbase);
    printk("slab_colouring: %lu-byte slots, %lu per slab: first objects at +%lu, +%lu, +%lu\n",
           ci.objsize, num, first[0],
           first[1], first[2]);
    KT_ASSERT(first[1] == first[0] + SLAB_CACHE_LINE && first[2] == first[1] + SLAB_CACHE_LINE,
              "first objects at +%lu, +%lu, +%lu: not one colour (%d bytes) apart",
              first[0], first[1],
              first[2], SLAB_CACHE_LINE);
    for (uint64_t i = 0; i < 3 * num; i++)
        kmem_cache_free(c, colour_objs[i]);
    KT_ASSERT(kmem_cache_destroy(c) == 0, "destroy failed");
    KT_BASELINE(&b);
}

/* ---- memory pressure --------------------------------------------------------------------- */

static uint64_t (*real_shrink)(void);
static uint64_t shrink_calls, shrink_freed;

static uint64_t counting_shrink(void)
{
    uint64_t n = real_shrink();
    shrink_calls++;
    shrink_freed += n;
    return n;
}

/*
 * Fill part of memory with kmalloc objects, free them all: the slabs stay
 * (a cache that shrank will likely grow again).  Then take every frame
 * with alloc_pages, largest blocks first: before failing, the page
 * allocator must call the slab shrinker, which gives those slabs back,
 * and the frames they held are handed out too.  The blocks taken are
 * chained through their head's `next` field (the owner's on an allocated
 * block, include/mm/page.h), not through their memory: under QEMU the
 * first write to each of gigabytes of untouched RAM costs seconds.
 */
KTEST(slab_pressure_shrink)
{
    struct baseline b;
    take(&b);
    /* A quarter of free memory, at most 32 MiB, in 1000-byte objects. */
    uint64_t pages = b.free / 4 < 8192 ? b.free / 4 : 8192;
    uint64_t want = pages * (PAGE_SIZE / 1024), got = 0;
    void **chain = NULL;
    while (got < want) {
        void **p = kmalloc(1000, GFP_KERNEL | __GFP_NOWARN);
        KT_ASSERT(p, "kmalloc failed after %lu objects", got);
        *p = chain;
        chain = p;
        got++;
    }
    uint64_t held_full = slab_pages_held();
    KT_ASSERT(held_full >= b.held + pages * 9 / 10, "%lu objects of 1000 bytes, but slabs hold "
              "%lu frames (%lu before)", got,
              held_full, b.held);
    while (chain) {
        void **next = *chain;
        kfree(chain);
        chain = next;
    }
    KT_ASSERT(slab_live_objects() == b.live, "live objects %lu, baseline %lu",
              slab_live_objects(), b.live);
    uint64_t held_empty = slab_pages_held();
    KT_ASSERT(held_empty == held_full, "the slabs gave frames back on their own (%lu -> %lu)",
              held_full, held_empty);

    /* Take everything, counting the page allocator's calls to the shrinker. */
    real_shrink = node0->shrink;
    KT_ASSERT(real_shrink, "the page allocator has no shrink hook");
    shrink_calls = shrink_freed = 0;
    node0->shrink = counting_shrink;
    uint32_t blocks = PFN_NIL;
    uint64_t taken = 0;
    for (int order = MAX_ORDER; order >= 0; order--) {
        struct page *pg;
        while ((pg = alloc_pages(GFP_KERNEL | __GFP_NOWARN, (unsigned)order))) {
            pg->next = blocks;
            blocks = (uint32_t)page_to_pfn(pg);
            taken += 1ul << order;
        }
    }
    node0->shrink = real_shrink;
    uint64_t held_end = slab_pages_held(), calls = shrink_calls, freed = shrink_freed;
    uint64_t free_end = nr_free_pages();
    while (blocks != PFN_NIL) {
        struct page *pg = pfn_to_page(blocks);
        blocks = pg->next;
        pg->next = PFN_NIL;
        __free_pages(pg, pg->order);
    }
    printk("slab_pressure_shrink: %lu objects in %lu slab frames freed; taking %lu frames "
           "called the shrinker %lu times, it gave back %lu frames; slabs hold %lu\n",
           got, (held_empty - b.held),
           taken, calls, freed,
           held_end);
    KT_ASSERT(calls >= 1, "the page allocator ran out without calling the shrinker");
    KT_ASSERT(freed >= held_empty - b.held, "the shrinker gave back %lu frames, the empty "
              "slabs held %lu", freed,
              (held_empty - b.held));
    KT_ASSERT(held_end <= b.held, "slabs still hold %lu frames (%lu with no empty slab)",
              held_end, b.held);
    KT_ASSERT(taken + free_end >= b.free, "only %lu frames taken and %lu left of %lu: the "
              "empty slabs' frames were not handed out", taken,
              free_end, b.free);
    KT_BASELINE(&b);
}

/* ---- kmalloc ------------------------------------------------------------------------------- */

/* Every request size of the slab classes: the class fits, classes grow by
 * less than 1.125 above 128 (8-byte steps up to 128), each object is
 * aligned to the largest power of two dividing its class (naturally, for
 * a power of two), and the whole class is usable. */
KTEST(kmalloc_classes)
{
    struct baseline b;
    take(&b);
    uint64_t errors = slab_error_count(), large = kmalloc_large_pages();
    size_t prev = 0;
    unsigned classes = 0;
    for (size_t n = 1; n <= KMALLOC_MAX_CACHE_SIZE; n++) {
        uint8_t *p = kmalloc(n, GFP_KERNEL);
        KT_ASSERT(p, "kmalloc(%zu) failed", n);
        size_t k = ksize(p);
        KT_ASSERT(k >= n && k % 8 == 0 && k <= KMALLOC_MAX_CACHE_SIZE, "ksize(kmalloc(%zu)) = %zu",
                  n, k);
        size_t align = k & -k;
        if (align > PAGE_SIZE)
            align = PAGE_SIZE;
        KT_ASSERT(align >= KMALLOC_MIN_SIZE && (uintptr_t)p % align == 0,
                  "kmalloc(%zu) = %p: class %zu, not %zu-aligned", n, (void *)p, k, align);
        KT_ASSERT(k >= prev, "kmalloc(%zu) got a smaller class (%zu) than kmalloc(%zu) (%zu)",
                  n, k, n - 1, prev);
        KT_ASSERT(n > 128 || k == ALIGN_UP(n, 8), "kmalloc(%zu): class %zu", n, k);
        KT_ASSERT(n <= 128 || (8 * k < 9 * n && align >= 16),
                  "kmalloc(%zu): class %zu is 1.125 times or more, or aligned to %zu only",
                  n, k, align);
        KT_ASSERT(k == prev || n == prev + 1, "kmalloc(%zu) skipped to class %zu", n, k);
        if (k != prev)
            classes++;
        /* Touching the first and last bytes of the class is allowed. */
        p[0] = 1;
        p[k - 1] = 2;
        if (n == k)
            memset(p, 3, k);
        kfree(p);
        prev = k;
    }
    KT_ASSERT(classes == 64, "%u size classes (docs/slab.md lists 64)", classes);
    KT_ASSERT(slab_error_count() == errors, "a legal use was reported: %s", slab_last_error());
    KT_ASSERT(kmalloc_large_pages() == large, "a class request took a large block");
    KT_ASSERT(kmalloc(0, GFP_KERNEL) == NULL, "kmalloc(0) returned memory");
    KT_ASSERT(kzalloc(0, GFP_KERNEL) == NULL, "kzalloc(0) returned memory");
    kfree(NULL);
    KT_ASSERT(ksize(NULL) == 0, "ksize(NULL) is not 0");
    /* Zeroed memory, even in debug mode where fresh objects are 0x5a. */
    uint8_t *z = kzalloc(300, GFP_KERNEL);
    KT_ASSERT(z && all_bytes(z, ksize(z), 0), "kzalloc(300) is not zeroed");
    kfree(z);
    z = kmalloc(5000, GFP_KERNEL | __GFP_ZERO);
    KT_ASSERT(z && all_bytes(z, 5000, 0), "kmalloc(5000, __GFP_ZERO) is not zeroed");
    kfree(z);
    KT_BASELINE(&b);
}

/* Above 8 KiB: whole buddy blocks, rounded to a power of two of frames;
 * above 4 MiB: NULL. */
KTEST(kmalloc_large)
{
    static const struct {
        size_t size;
        unsigned order;
    } t[] = {
        { KMALLOC_MAX_CACHE_SIZE + 1, 2 }, { 12288, 2 }, { 16384, 2 }, { 16385, 3 },
        { 100000, 5 }, { PAGE_SIZE << MAX_ORDER, MAX_ORDER },
    };
    struct baseline b;
    take(&b);
    for (unsigned k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
        drain_pcp();
        uint64_t free = nr_free_pages(), large = kmalloc_large_pages();
        uint64_t held = slab_pages_held();
        uint8_t *p = kmalloc(t[k].size, GFP_KERNEL);
        KT_ASSERT(p, "kmalloc(%zu) failed", t[k].size);
        uint64_t frames = 1ul << t[k].order;
        KT_ASSERT((uintptr_t)p % PAGE_SIZE == 0, "kmalloc(%zu) = %p", t[k].size, (void *)p);
        KT_ASSERT(ksize(p) == frames * PAGE_SIZE, "ksize(kmalloc(%zu)) = %zu", t[k].size,
                  ksize(p));
        KT_ASSERT(ksize(p + 8) == 0, "ksize inside a block is %zu", ksize(p + 8));
        KT_ASSERT(kmalloc_large_pages() == large + frames, "large frames %lu, expected %lu",
                  kmalloc_large_pages(),
                  (large + frames));
        KT_ASSERT(free - nr_free_pages() == frames, "kmalloc(%zu) took %lu frames", t[k].size,
                  (free - nr_free_pages()));
        KT_ASSERT(slab_pages_held() == held, "a large block counted as a slab");
        /* One buddy block: physically contiguous. */
        for (uint64_t i = 0; i < frames; i++)
            KT_ASSERT(phys_of(p + i * PAGE_SIZE) == phys_of(p) + i * PAGE_SIZE,
                      "frame %lu of the block is not contiguous", i);
        memset(p, 0x77, ksize(p));
        kfree(p);
        KT_ASSERT(kmalloc_large_pages() == large, "the block was not given back");
        KT_ASSERT(nr_free_pages() == free, "free frames %lu, %lu before",
                  nr_free_pages(), free);
    }
    uint64_t mark = log_mark();
    KT_ASSERT(kmalloc((PAGE_SIZE << MAX_ORDER) + 1, GFP_KERNEL) == NULL,
              "kmalloc(4 MiB + 1) returned memory");
    KT_ASSERT(log_contains_since(mark, "is more than the largest block"),
              "the refusal was not logged");
    mark = log_mark();
    KT_ASSERT(kmalloc((PAGE_SIZE << MAX_ORDER) + 1, GFP_KERNEL | __GFP_NOWARN) == NULL,
              "kmalloc(4 MiB + 1, NOWARN) returned memory");
    KT_ASSERT(!log_contains_since(mark, "is more than the largest block"),
              "__GFP_NOWARN was not obeyed");
    KT_ASSERT(kmalloc((size_t)-1, GFP_KERNEL | __GFP_NOWARN) == NULL, "kmalloc(-1) worked");
    KT_BASELINE(&b);
}

static void *kdma_objs[200];

/* GFP_DMA and GFP_DMA32: their own classes (made on first use), memory
 * below 16 MiB / 4 GiB, slab classes and large blocks alike. */
KTEST(kmalloc_dma)
{
    static const struct {
        gfp_t gfp;
        uint64_t limit;
        const char *cls;
    } t[] = {
        { GFP_DMA, ZONE_DMA_END, "dma-kmalloc-104" },
        { GFP_DMA32, ZONE_DMA32_END, "dma32-kmalloc-104" },
    };
    struct baseline b;
    struct cache_info ci;
    /* The first use makes the classes, which stay (one kmem_cache each). */
    for (unsigned k = 0; k < 2; k++)
        kfree(kmalloc(100, t[k].gfp));
    take(&b);
    for (unsigned k = 0; k < 2; k++) {
        const unsigned n = sizeof(kdma_objs) / sizeof(kdma_objs[0]);
        for (unsigned i = 0; i < n; i++) {
            void *p = kmalloc(100, t[k].gfp);
            KT_ASSERT(p, "kmalloc(100, %#x) #%u failed", t[k].gfp, i);
            KT_ASSERT(ksize(p) == 104, "ksize %zu", ksize(p));
            KT_ASSERT(phys_of(p) + 100 <= t[k].limit, "kmalloc(100, %#x) at phys %#lx",
                      t[k].gfp, phys_of(p));
            kdma_objs[i] = p;
        }
        KT_CACHE_LINE(t[k].cls, &ci);
        KT_ASSERT(ci.active == n, "%s: %lu active, %u allocated", t[k].cls,
                  ci.active, n);
        for (unsigned i = 0; i < n; i++)
            kfree(kdma_objs[i]);
        uint8_t *big = kmalloc(20000, t[k].gfp);
        KT_ASSERT(big, "kmalloc(20000, %#x) failed", t[k].gfp);
        KT_ASSERT(phys_of(big + 20000 - 1) < t[k].limit, "large block at phys %#lx",
                  phys_of(big));
        kfree(big);
    }
    /* The normal classes never serve a zone request, and the other way round. */
    void *p = kmalloc(100, GFP_DMA);
    KT_ASSERT(p, "no DMA object");
    KT_CACHE_LINE("dma-kmalloc-104", &ci);
    KT_ASSERT(ci.active == 1, "dma-kmalloc-104 has %lu active", ci.active);
    kfree(p);
    KT_BASELINE(&b);
}

/* ---- debug mode: mistakes are reported and survived --------------------------------------- */

/* One byte past the object, one before it: reported at the free with the
 * cache, the object and the offset; the free goes on, the bytes restored. */
KTEST(slab_debug_redzone)
{
    NEEDS_SLAB_DEBUG("slab_debug_redzone");
    struct baseline b;
    take(&b);
    struct kmem_cache *c = kmem_cache_create("kt_redzone", 13, 0, 0, NULL);
    KT_ASSERT(c, "create failed");
    uint8_t *p = kmem_cache_alloc(c, GFP_KERNEL);
    KT_ASSERT(p, "no object");
    memset(p, 0, 13); /* all 13 bytes are ours: no report */
    p[13] = 0x42;
    KT_REPORTS(kmem_cache_free(c, p),
               "slab error: red zone after the object overwritten (seen at free): "
               "cache kt_redzone, object %p, offset 13", (void *)p);
    KT_ASSERT(kmem_cache_live(c) == 0, "the free did not go on after the report");
    KT_SLAB_OK(); /* restored */

    p = kmem_cache_alloc(c, GFP_KERNEL);
    KT_ASSERT(p, "no object");
    p[-3] = 0x42;
    KT_REPORTS(kmem_cache_free(c, p),
               "slab error: red zone before the object overwritten (seen at free): "
               "cache kt_redzone, object %p, offset -3", (void *)p);

    /* The validator sees it too, while the object is live. */
    p = kmem_cache_alloc(c, GFP_KERNEL);
    KT_ASSERT(p, "no object");
    uint8_t saved = p[20];
    p[20] = 0;
    char why[200];
    KT_ASSERT(slab_check(why, sizeof(why)) == -EUCLEAN && strstr(why, "red zone overwritten"),
              "slab_check missed an overwritten red zone");
    p[20] = saved;
    uint64_t errors = slab_error_count();
    kmem_cache_free(c, p);
    KT_ASSERT(slab_error_count() == errors, "a repaired red zone was reported");

    /* kmalloc: the zone starts at the class size. */
    uint8_t *k = kmalloc(56, GFP_KERNEL);
    KT_ASSERT(k && ksize(k) == 56, "kmalloc(56)");
    k[56] = 0;
    KT_REPORTS(kfree(k), "slab error: red zone after the object overwritten (seen at free): "
               "cache kmalloc-56, object %p, offset 56", (void *)k);
    KT_ASSERT(kmem_cache_destroy(c) == 0, "destroy failed");
    KT_BASELINE(&b);
}

/* Fresh objects are 0x5a, free ones 0x6b; a write through a stale
 * pointer is reported at the next allocation of the object, or when its
 * slab is released, with the offset written. */
KTEST(slab_debug_use_after_free)
{
    NEEDS_SLAB_DEBUG("slab_debug_use_after_free");
    struct baseline b;
    take(&b);
    struct kmem_cache *c = kmem_cache_create("kt_uaf", 64, 0, 0, NULL);
    KT_ASSERT(c, "create failed");
    uint8_t *p = kmem_cache_alloc(c, GFP_KERNEL);
    KT_ASSERT(p, "no object");
    KT_ASSERT(all_bytes(p, 64, 0x5a), "a fresh object is not 0x5a (uninitialised poison)");
    kmem_cache_free(c, p);
    KT_ASSERT(all_bytes(p, 64, 0x6b), "a free object is not 0x6b (free poison)");
    p[10] = 0x11; /* write after free */
    uint8_t *q = NULL;
    KT_REPORTS(q = kmem_cache_alloc(c, GFP_KERNEL),
               "slab error: write after free (seen at allocation): cache kt_uaf, object %p, "
               "offset 10", (void *)p);
    KT_ASSERT(q == p, "the freed object was not the next one handed out (%p, %p)", (void *)q,
              (void *)p);
    KT_ASSERT(all_bytes(q, 64, 0x5a), "the object handed out after the report is not fresh");
    kmem_cache_free(c, q);
    KT_SLAB_OK();

    /* Not allocated again: seen when the slab goes back. */
    p = kmem_cache_alloc(c, GFP_KERNEL);
    KT_ASSERT(p, "no object");
    kmem_cache_free(c, p);
    p[40] = 0;
    uint64_t freed = 0;
    KT_REPORTS(freed = kmem_cache_shrink(c),
               "slab error: write after free (seen at slab release): cache kt_uaf, object %p, "
               "offset 40", (void *)p);
    KT_ASSERT(freed > 0, "the empty slab was not released");

    /* kmalloc objects are poisoned too. */
    uint8_t *k = kmalloc(200, GFP_KERNEL);
    KT_ASSERT(k, "no kmalloc object");
    kfree(k);
    k[0] = 0;
    uint8_t *k2 = NULL;
    KT_REPORTS(k2 = kmalloc(200, GFP_KERNEL),
               "slab error: write after free (seen at allocation): cache kmalloc-208, "
               "object %p, offset 0", (void *)k);
    kfree(k2);
    KT_ASSERT(kmem_cache_destroy(c) == 0, "destroy failed");
    KT_BASELINE(&b);
}

/* The second free is reported and ignored: the object is freed once. */
KTEST(slab_debug_double_free)
{
    NEEDS_SLAB_DEBUG("slab_debug_double_free");
    struct baseline b;
    take(&b);
    struct kmem_cache *c = kmem_cache_create("kt_dfree", 100, 0, 0, NULL);
    KT_ASSERT(c, "create failed");
    void *p = kmem_cache_alloc(c, GFP_KERNEL);
    KT_ASSERT(p, "no object");
    kmem_cache_free(c, p);
    KT_REPORTS(kmem_cache_free(c, p),
               "slab error: double free (the object is not allocated): cache kt_dfree, "
               "object %p, offset 0", p);
    KT_SLAB_OK();
    /* Handed out once, not twice. */
    void *a = kmem_cache_alloc(c, GFP_KERNEL), *a2 = kmem_cache_alloc(c, GFP_KERNEL);
    void *keep = kmem_cache_alloc(c, GFP_KERNEL);
    KT_ASSERT(a && a2 && keep && a != a2, "one object handed out twice after a double free");
    kmem_cache_free(c, a);
    kmem_cache_free(c, a2);
    /* Also after a shrink (`keep` keeps the slab): a debug cache has no
     * per-CPU array, so every free, this one too, is checked against the
     * object's free bit. */
    kmem_cache_shrink(c);
    KT_REPORTS(kmem_cache_free(c, a), "double free (the object is not allocated): "
               "cache kt_dfree, object %p", a);
    kmem_cache_free(c, keep);

    void *k = kmalloc(200, GFP_KERNEL);
    KT_ASSERT(k, "no kmalloc object");
    kfree(k);
    KT_REPORTS(kfree(k), "slab error: double free (the object is not allocated): "
               "cache kmalloc-208, object %p, offset 0", k);
    KT_ASSERT(kmem_cache_destroy(c) == 0, "destroy failed");
    KT_BASELINE(&b);
}

/* Pointers that were never objects, or not of this cache. */
KTEST(slab_debug_invalid_free)
{
    NEEDS_SLAB_DEBUG("slab_debug_invalid_free");
    struct baseline b;
    take(&b);
    struct kmem_cache *c = kmem_cache_create("kt_inval", 100, 0, 0, NULL);
    struct kmem_cache *o = kmem_cache_create("kt_other", 100, 0, 0, NULL);
    KT_ASSERT(c && o, "create failed");
    uint8_t *p = kmem_cache_alloc(c, GFP_KERNEL), *q = kmem_cache_alloc(o, GFP_KERNEL);
    uint8_t *k = kmalloc(100, GFP_KERNEL), *big = kmalloc(20000, GFP_KERNEL);
    void *page = __get_free_pages(GFP_KERNEL, 0);
    KT_ASSERT(p && q && k && big && page, "allocations failed");
    uint64_t stack_var = 0;

    KT_REPORTS(kmem_cache_free(c, p + 4), "slab error: free of a pointer inside an object: "
               "cache kt_inval, object %p, offset 4", (void *)p);
    KT_REPORTS(kfree(k + 8), "slab error: free of a pointer inside an object: "
               "cache kmalloc-104, object %p, offset 8", (void *)k);
    KT_REPORTS(kmem_cache_free(c, &stack_var), "slab error: free of a pointer that is not a "
               "slab object: cache kt_inval, object %p, offset 0", (void *)&stack_var);
    KT_REPORTS(kfree(&stack_var), "slab error: kfree of a pointer kmalloc did not return: "
               "cache (none), object %p, offset 0", (void *)&stack_var);
    KT_REPORTS(kfree(page), "slab error: kfree of a pointer kmalloc did not return: "
               "cache (none), object %p", page);
    KT_REPORTS(kmem_cache_free(c, page), "slab error: free of a pointer that is not a "
               "slab object: cache kt_inval, object %p", page);
    KT_REPORTS(kmem_cache_free(c, q), "slab error: cache mismatch (the object belongs to "
               "kt_other): cache kt_inval, object %p, offset 0", (void *)q);
    KT_REPORTS(kmem_cache_free(c, k), "slab error: cache mismatch (the object belongs to "
               "kmalloc-104): cache kt_inval, object %p", (void *)k);
    KT_REPORTS(kfree(q), "slab error: cache mismatch (kfree of a kmem_cache object: use "
               "kmem_cache_free): cache kt_other, object %p, offset 0", (void *)q);
    KT_REPORTS(kfree(big + 100), "slab error: kfree of a pointer inside a kmalloc block: "
               "cache (none), object %p, offset 100", (void *)(big + 100));
    KT_ASSERT(ksize(&stack_var) == 0 && ksize(big + 100) == 0 && ksize(page) == 0,
              "ksize of a pointer kmalloc did not return is not 0");

    /* Nothing was freed by the bad calls: everything is still live. */
    KT_ASSERT(kmem_cache_live(c) == 1 && kmem_cache_live(o) == 1, "live %lu and %lu",
              kmem_cache_live(c), kmem_cache_live(o));
    KT_ASSERT(ksize(k) == 104 && ksize(big) == 32768, "the kmalloc blocks changed");
    KT_SLAB_OK();
    kmem_cache_free(c, p);
    kmem_cache_free(o, q);
    kfree(k);
    kfree(big);
    free_pages(page, 0);
    KT_ASSERT(kmem_cache_destroy(c) == 0 && kmem_cache_destroy(o) == 0, "destroy failed");
    KT_BASELINE(&b);
}

/* vfree of what vmalloc did not return: reported (debug mode), ignored. */
KTEST(slab_debug_vfree)
{
    NEEDS_SLAB_DEBUG("slab_debug_vfree");
    struct baseline b;
    take(&b);
    uint8_t *v = vmalloc(3 * PAGE_SIZE);
    void *k = kmalloc(64, GFP_KERNEL);
    void *stack = vmalloc_stack(4 * PAGE_SIZE, "kt-vfree");
    KT_ASSERT(v && k && stack, "allocations failed");
    char text[160];
    uint64_t mark = log_mark();
    vfree(v + PAGE_SIZE);
    snprintf(text, sizeof(text), "vfree: %#lx is inside the vmalloc area %#lx+%#lx, not at "
             "its start", (uintptr_t)(v + PAGE_SIZE),
             (uintptr_t)v, (3 * PAGE_SIZE));
    KT_ASSERT(log_contains_since(mark, text), "no report \"%s\"", text);
    mark = log_mark();
    vfree(k);
    snprintf(text, sizeof(text), "vfree: %#lx was not allocated (no area there: already "
             "freed?)", (uintptr_t)k);
    KT_ASSERT(log_contains_since(mark, text), "no report \"%s\"", text);
    mark = log_mark();
    vfree(stack);
    snprintf(text, sizeof(text), "vfree: %#lx is a stack area (free it with vfree_stack)",
             (uintptr_t)stack);
    KT_ASSERT(log_contains_since(mark, text), "no report \"%s\"", text);
    /* The area survived the bad calls. */
    memset(v, 1, 3 * PAGE_SIZE);
    vfree(v);
    mark = log_mark();
    vfree(v);
    snprintf(text, sizeof(text), "vfree: %#lx was not allocated", (uintptr_t)v);
    KT_ASSERT(log_contains_since(mark, text), "a double vfree was not reported");
    vfree_stack(stack);
    kfree(k);
    KT_BASELINE(&b);
}
