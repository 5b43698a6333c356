/*
 * Host tests of user address spaces: the VMA set (mm/vma.c), mmap and
 * friends (mm/mmap.c), demand paging and CoW (mm/user_fault.c), fork and
 * exit (mm/mm_fork.c), over the fake physical memory of tests/host/mm_host.c
 * (30 MiB of RAM), the real page-table walker and the slab allocator.
 *
 * The test plays the CPU: uaccess() walks the tables like the MMU (a
 * user access needs PT_U, a write PT_W, an execution PT_X), calls
 * mm_fault when the entry does not allow the access, and then reads or
 * writes the frame through the arena.  So every byte a "process" sees went
 * through the same path as in the kernel, and faults are counted exactly.
 *
 * After every operation check() runs the validators on every live
 * address space: mm_check_consistency, pt_check, mm_check_frames (every
 * mapped frame's refcount is EXACTLY its mappings in all address spaces
 * + the zero page's pin + its shared object's), node_check (the buddy
 * allocator) and slab_check.  Each case ends with teardown(): every mm
 * destroyed, and free frames + slab frames + large kmalloc frames and the
 * live slab objects back to what they were before the case.
 *
 * The zones' watermarks are set to 0, so that "k frames free" means k
 * frames can be allocated: the exhaustion cases count exactly.
 */
#include <stdlib.h>

#include "htest.h"
#include "mm_host.h"
#include <kernel/errno.h>
#include <mm/gfp.h>
#include <mm/pgtable.h>
#include <mm/slab.h>
#include <mm/vma.h>
#include <mm/zone.h>

#define KiB (1ul << 10)
#define MiB (1ul << 20)
#define GiB (1ul << 30)
#define FR 4096ul


static const struct host_ram ram[] = { { 1 * MiB, 31 * MiB } };

#define NMM 8
static struct mm mms[NMM];
static bool used[NMM];
static uint64_t base_frames, base_live;

/* ---- set-up and validators -------------------------------------------------------------------- */

static uint64_t frames_now(void)
{
    return nr_free_pages() + slab_pages_held() + kmalloc_large_pages();
}

static void setup(void)
{
    mm_host_init_no_watermarks(32 * MiB / FR, ram, HT_COUNT(ram));
    kmem_cache_init();
    memset(used, 0, sizeof(used));
    mm_tlb_flush = NULL;
    HT_ASSERT(mm_zero_page_init() == 0, "no zero page");
    base_frames = frames_now();
    base_live = slab_live_objects();
}

static struct mm *new_mm(void)
{
    for (int i = 0; i < NMM; i++) {
        if (used[i])
            continue;
        int err = mm_init_user(&mms[i], MM_VA_END_64, GFP_KERNEL);
        if (err)
            return NULL;
        used[i] = true;
        return &mms[i];
    }
    return NULL;
}

/* fork into a new slot: 0 or mm_fork's error (*out NULL then). */
static int fork_mm(struct mm *parent, bool eager, struct mm **out)
{
    *out = NULL;
    for (int i = 0; i < NMM; i++) {
        if (used[i])
            continue;
        memset(&mms[i], 0x5a, sizeof(mms[i])); /* "any content" */
        int err = mm_fork(&mms[i], parent, eager);
        if (!err) {
            used[i] = true;
            *out = &mms[i];
        }
        return err;
    }
    return -EBUSY;
}

static void drop_mm(struct mm *mm)
{
    mm_destroy(mm);
    used[mm - mms] = false;
}

static void check(void)
{
    char why[256];
    struct mm *live[NMM];
    size_t n = 0;
    for (int i = 0; i < NMM; i++) {
        if (!used[i])
            continue;
        HT_ASSERT(mm_check_consistency(&mms[i], why, sizeof(why)) == 0, "mm %d: %s", i, why);
        HT_ASSERT(pt_check(&mms[i].pt, why, sizeof(why)) == 0, "mm %d: pt_check: %s", i, why);
        live[n++] = &mms[i];
    }
    HT_ASSERT(mm_check_frames(live, n, why, sizeof(why)) == 0, "mm_check_frames: %s", why);
    HT_ASSERT(node_check(why, sizeof(why)) == 0, "node_check: %s", why);
    HT_ASSERT(slab_check(why, sizeof(why)) == 0, "slab_check: %s", why);
    HT_ASSERT(mm_host_node.errors == 0, "allocator errors: %s", mm_host_last_report());
}

static void give_back(size_t n);
static size_t nhoard;

static void teardown(void)
{
    give_back(nhoard);
    for (int i = 0; i < NMM; i++)
        if (used[i])
            drop_mm(&mms[i]);
    HT_TRY(check());
    HT_ASSERT(frames_now() == base_frames, "%lu frames free or in slabs, %lu before: leak",
              frames_now(), base_frames);
    HT_ASSERT(slab_live_objects() == base_live, "%lu slab objects live, %lu before",
              slab_live_objects(), base_live);
}

/* ---- the CPU: user accesses through the tables ------------------------------------------------- */

static int uaccess(struct mm *mm, uint64_t va, unsigned access, uint8_t **p)
{
    for (int tries = 0;; tries++) {
        struct pt_view v;
        if (pt_walk(&mm->pt, va & ~(FR - 1), &v) == 0 && (v.prot & PT_U) &&
            (!(access & FAULT_WRITE) || (v.prot & PT_W)) &&
            (!(access & FAULT_EXEC) || (v.prot & PT_X))) {
            *p = mm_host_arena() + v.pa + (va & (FR - 1));
            return 0;
        }
        if (tries)
            return -1000; /* mm_fault said yes but the entry still refuses */
        int err = mm_fault(mm, va, access | FAULT_USER);
        if (err)
            return err;
    }
}

static void uw(struct mm *mm, uint64_t va, uint8_t val)
{
    uint8_t *p;
    int err = uaccess(mm, va, FAULT_WRITE, &p);
    HT_ASSERT(err == 0, "write at %#lx: %d", va, err);
    *p = val;
}

static void ur(struct mm *mm, uint64_t va, uint8_t want)
{
    uint8_t *p;
    int err = uaccess(mm, va, 0, &p);
    HT_ASSERT(err == 0, "read at %#lx: %d", va, err);
    HT_ASSERT(*p == want, "read at %#lx: %#x, expected %#x", va, *p, want);
}

/* A fault must be refused with this reason. */
static void refused(struct mm *mm, uint64_t va, unsigned access, enum mm_fault_why want)
{
    uint8_t *p;
    enum mm_fault_why why;
    HT_ASSERT(uaccess(mm, va, access, &p) == -EFAULT, "access %#x at %#lx allowed", access,
              va);
    HT_EQ_U(mm_fault_why(mm, va, access | FAULT_USER, &why), -EFAULT);
    HT_ASSERT(why == want, "access %#x at %#lx: reason %d, expected %d", access, va, why,
              want);
}

static uint8_t pat(uint64_t seed, uint64_t page, unsigned k)
{
    return (uint8_t)(seed * 31 + page * 7 + k * 101 + 1);
}

/* Write/check three bytes in each of n pages from va (the pattern
 * depends on the page's address, so any sub-range can be checked). */
static const unsigned offs[] = { 0, 1234, 4095 };

static void fill(struct mm *mm, uint64_t va, uint64_t n, uint64_t seed)
{
    for (uint64_t i = 0; i < n; i++)
        for (unsigned k = 0; k < 3; k++)
            HT_TRY(uw(mm, va + i * FR + offs[k], pat(seed, va / FR + i, k)));
}

static void expect(struct mm *mm, uint64_t va, uint64_t n, uint64_t seed)
{
    for (uint64_t i = 0; i < n; i++)
        for (unsigned k = 0; k < 3; k++)
            HT_TRY(ur(mm, va + i * FR + offs[k], pat(seed, va / FR + i, k)));
}

static void expect_zero(struct mm *mm, uint64_t va, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        uint8_t *p;
        HT_ASSERT(uaccess(mm, va + i * FR, 0, &p) == 0, "read at %#lx", (va + i * FR));
        for (uint64_t b = 0; b < FR; b++)
            HT_ASSERT(p[b] == 0, "byte %#lx is %#x, not 0", (va + i * FR + b), p[b]);
    }
}

/* The frame and prot behind va (pa 0 when not present). */
static uint64_t pte_pa(struct mm *mm, uint64_t va, unsigned *prot)
{
    struct pt_view v;
    if (pt_walk(&mm->pt, va, &v))
        return 0;
    if (prot)
        *prot = v.prot;
    return v.pa;
}

static uint32_t refs(uint64_t pa)
{
    return page_count(pfn_to_page(pa / FR));
}

static uint64_t xmmap(struct mm *mm, uint64_t addr, uint64_t len, unsigned prot, unsigned flags)
{
    uint64_t got = 0;
    int err = mm_mmap(mm, addr, len, prot, flags, NULL, 0, &got);
    return err ? (uint64_t)(int64_t)err : got;
}

#define RW (PROT_READ | PROT_WRITE)
#define PRIV (MAP_PRIVATE | MAP_ANONYMOUS)
#define FIXED (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)

/* The VMAs from base on as "start-end:prot ...", addresses relative to
 * base in pages, for compact expectations. */
static char layout_buf[512];
static const char *layout(struct mm *mm, uint64_t base)
{
    size_t n = 0;
    layout_buf[0] = 0;
    for (const struct vma *v = vma_find(mm, base); v && n < sizeof(layout_buf) - 40;
         v = v->next)
        n += (size_t)snprintf(layout_buf + n, sizeof(layout_buf) - n, "%s%ld-%ld:%c%c%c",
                              n ? " " : "", (v->start - base) / FR,
                              (v->end - base) / FR,
                              v->prot & PROT_READ ? 'r' : '-', v->prot & PROT_WRITE ? 'w' : '-',
                              v->prot & PROT_EXEC ? 'x' : '-');
    return layout_buf;
}

#define LAYOUT(mm, base, want) HT_EQ_STR(layout(mm, base), want)

/* ---- exhausting memory ------------------------------------------------------------------------------ */

static struct page *hoard[8192];
static void *objs;             /* kmalloc objects hoarded, linked through their first word */

/* Take every frame, and every free slot of the kmalloc caches, so that
 * the next allocation of any kind needs a frame.  give_back(k) then makes
 * exactly k frames available (the watermarks are 0). */
static void exhaust(void)
{
    static const size_t sizes[] = { 8, 16, 32, 48, 64, 80, 96, 128, 160, 192, 256, 512, 1024,
                                    2048, 4096, 8192 };
    struct page *p;
    give_back(nhoard);
    slab_shrink_all();
    while ((p = alloc_pages(__GFP_MEMALLOC | __GFP_NOWARN, 0))) {
        HT_ASSERT(nhoard < HT_COUNT(hoard), "arena larger than the hoard");
        hoard[nhoard++] = p;
    }
    for (size_t i = 0; i < HT_COUNT(sizes); i++) {
        void *o;
        while ((o = kmalloc(sizes[i], GFP_KERNEL | __GFP_NOWARN))) {
            *(void **)o = objs;
            objs = o;
        }
    }
}

static void give_back(size_t n)
{
    while (n-- && nhoard)
        __free_pages(hoard[--nhoard], 0);
    if (nhoard == 0) {
        while (objs) {
            void *o = objs;
            objs = *(void **)o;
            kfree(o);
        }
    }
}

static void give_back_all(void)
{
    give_back(nhoard);
}

/* ---- creating, mapping, unmapping ------------------------------------------------------------------ */

static void t_init_destroy(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    HT_ASSERT(mm, "mm_init_user failed");
    HT_EQ_U(mm->nr_vmas, 0);
    HT_EQ_U(mm->pt.nr_tables, 1);
    HT_EQ_U(mm->mmap_base, MM_VA_END_64);
    HT_TRY(check());
    struct mm bad;
    static const uint64_t ends[] = {
        0, MM_MIN_ADDR, MM_VA_END_64 + 1, /* too low, unaligned */
        0x800000000000ul + FR,           /* not translatable */
    };
    for (size_t i = 0; i < HT_COUNT(ends); i++)
        HT_ASSERT(mm_init_user(&bad, ends[i], GFP_KERNEL) == -EINVAL, "va_end %#lx accepted",
                  ends[i]);
    /* A last table holding a single page of the range is fine: a CoW break
     * rewrites the leaf in place (pt_replace), it never empties the table. */
    HT_EQ_U(mm_init_user(&bad, 64 * MiB + FR, GFP_KERNEL), 0);
    mm_destroy(&bad);
    HT_EQ_U(mm_init_user(&bad, MM_VA_END_32, GFP_DMA32), 0);
    HT_EQ_U(bad.gfp, GFP_DMA32);
    mm_destroy(&bad);
    mm_destroy(&bad); /* twice: nothing happens */
    HT_TRY(teardown());
}

static void t_mmap_placement(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    uint64_t a = xmmap(mm, 0, 3 * FR, RW, PRIV);
    HT_EQ_U(a, MM_VA_END_64 - 3 * FR); /* top down from mmap_base */
    uint64_t b = xmmap(mm, 0, FR, PROT_READ, PRIV);
    HT_EQ_U(b, a - FR);
    uint64_t c = xmmap(mm, 0, FR, RW, PRIV);
    HT_EQ_U(c, b - FR);
    uint64_t d = xmmap(mm, 0, 2 * FR, RW, PRIV);
    HT_EQ_U(d, c - 2 * FR);
    LAYOUT(mm, d, "0-3:rw- 3-4:r-- 4-7:rw-"); /* c and d merged */
    HT_EQ_U(mm->pt.nr_tables, 1);             /* nothing is built before a touch */
    HT_EQ_U(mm->rss, 0);
    HT_TRY(check());

    /* hints: taken when free, rounded down (Linux's round_hint_to_min),
     * raised to MM_MIN_ADDR, else ignored */
    HT_EQ_U(xmmap(mm, 0x200000, FR, RW, PRIV), 0x200000);
    HT_EQ_U(xmmap(mm, 0x200000, FR, RW, PRIV), d - FR);
    HT_EQ_U(xmmap(mm, 0x300123, FR, RW, PRIV), 0x300000);
    HT_EQ_U(xmmap(mm, 0x1000, FR, RW, PRIV), MM_MIN_ADDR);
    HT_EQ_U(xmmap(mm, MM_VA_END_64 - FR, 2 * FR, RW, PRIV), d - 3 * FR);
    HT_EQ_U(xmmap(mm, 0xfffffffffffff800ul, FR, RW, PRIV), d - 4 * FR);
    HT_TRY(check());

    /* the stack's guard gap is never chosen, but MAP_FIXED may take it;
     * mmap_base leaves the stack room to grow (Linux's: its limit and the
     * gap, at least 128 MiB) */
    uint64_t top = 0x7ff000000000ul, size = 16 * FR, guard = 256 * FR;
    HT_EQ_U(mm_setup_stack(mm, top, size, guard), 0);
    uint64_t glo = top - size - guard, base = top - 128 * MiB;
    HT_EQ_U(mm->mmap_base, base);
    HT_EQ_U(xmmap(mm, glo + FR, FR, PROT_READ, PRIV), base - FR);
    HT_EQ_U(xmmap(mm, 0, FR, PROT_EXEC, PRIV), base - 2 * FR);
    HT_EQ_U(xmmap(mm, glo - FR, FR, PROT_READ, PRIV), glo - FR);   /* a hint below the gap */
    HT_EQ_U(xmmap(mm, glo + 8 * FR, FR, PROT_READ, FIXED), glo + 8 * FR);
    HT_TRY(check());
    /* what does not fit below mmap_base goes above it */
    mm->mmap_base = 0x400000;
    HT_EQ_U(xmmap(mm, 0, 16 * FR, PROT_NONE, PRIV), 0x400000 - 16 * FR);
    HT_EQ_U(xmmap(mm, 0, 2 * MiB, PROT_NONE, PRIV), d - 4 * FR - 2 * MiB);
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_mmap_errors(void)
{
    static const uint8_t data[100];
    static const struct vm_file f = { "/f", data, sizeof(data) };
    HT_TRY(setup());
    struct mm *mm = new_mm();
    uint64_t got = 0x1234;
    static const struct {
        uint64_t addr, len;
        unsigned prot, flags;
        const struct vm_file *file;
        uint64_t off;
        int err;
    } bad[] = {
        { 0, 0, RW, PRIV, NULL, 0, -EINVAL },                     /* len 0 */
        { 0, FR, RW, MAP_ANONYMOUS, NULL, 0, -EINVAL },           /* no type */
        { 0, FR, RW, MAP_ANONYMOUS | 0x4, NULL, 0, -EINVAL },     /* bad type */
        { 0, FR, RW, MAP_PRIVATE, NULL, 0, -EBADF },              /* no file */
        { 0, FR, PROT_READ, MAP_PRIVATE, &f, 100, -EINVAL },      /* unaligned offset */
        { 0, 2 * FR, PROT_READ, MAP_PRIVATE, &f, ~0ul << 12, -EOVERFLOW }, /* offset past 2^63 */
        { 0, ~0ul, RW, PRIV, NULL, 0, -ENOMEM },                 /* huge */
        { 0, ~0ul - FR - 5, RW, PRIV, NULL, 0, -ENOMEM },
        { 0, MM_VA_END_64 + 1, RW, PRIV, NULL, 0, -ENOMEM },
        { 0, MM_VA_END_64 - MM_MIN_ADDR + FR, RW, PRIV, NULL, 0, -ENOMEM }, /* no room */
        { 0x100001, FR, RW, FIXED, NULL, 0, -EINVAL },            /* unaligned fixed */
        { 0x1000, FR, RW, FIXED, NULL, 0, -EPERM },               /* below mmap_min_addr */
        { MM_VA_END_64 - FR, 2 * FR, RW, FIXED, NULL, 0, -ENOMEM }, /* past the end */
        { 0, FR, RW, MAP_SHARED, &f, 0, -EACCES },                /* writable shared file */
        { 0, FR, PROT_READ, MAP_SHARED_VALIDATE | 0x200000, &f, 0, -EOPNOTSUPP },
        { 0, FR, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, NULL, 0, -EINVAL }, /* files only */
        { 0, FR, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, NULL, 0, -EINVAL },
        { 0, FR, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, &f, 0, -EINVAL },
        { 0, FR, PROT_READ, MAP_PRIVATE | MAP_HUGETLB, &f, 0, -EINVAL },
        { 0, FR, RW, PRIV | MAP_HUGETLB, NULL, 0, -ENOMEM },       /* no huge pages */
        { 0, 0, RW, MAP_ANONYMOUS, NULL, 0, -EINVAL },             /* the length first */
        { 0, ~0ul, RW, MAP_ANONYMOUS, NULL, 0, -ENOMEM },          /* then the address */
    };
    for (size_t i = 0; i < HT_COUNT(bad); i++) {
        int err = mm_mmap(mm, bad[i].addr, bad[i].len, bad[i].prot, bad[i].flags, bad[i].file,
                          bad[i].off, &got);
        HT_ASSERT(err == bad[i].err, "case %zu: %d, expected %d", i, err, bad[i].err);
    }
    HT_EQ_U(got, 0x1234);
    HT_EQ_U(mm->nr_vmas, 0);
    uint64_t base = 0x100000;
    HT_EQ_U(xmmap(mm, base, 2 * FR, RW, FIXED), base);
    HT_EQ_U(xmmap(mm, base + FR, 2 * FR, RW, PRIV | MAP_FIXED_NOREPLACE), -EEXIST);
    HT_EQ_U(xmmap(mm, base + FR, 2 * FR, RW, FIXED | MAP_FIXED_NOREPLACE), -EEXIST);
    HT_EQ_U(xmmap(mm, base + 2 * FR, FR, RW, PRIV | MAP_FIXED_NOREPLACE), base + 2 * FR);
    LAYOUT(mm, base, "0-3:rw-");
    /* unknown prot bits are ignored by mmap, as Linux does */
    HT_EQ_U(xmmap(mm, base + 3 * FR, FR, RW | 0x100, FIXED), base + 3 * FR);
    LAYOUT(mm, base, "0-4:rw-");
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_munmap_split(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    uint64_t b = 0x400000;
    HT_EQ_U(xmmap(mm, b, 10 * FR, RW, FIXED), b);
    HT_TRY(fill(mm, b, 10, 1));
    HT_EQ_U(mm->rss, 10);
    uint64_t before = frames_now();
    HT_EQ_U(mm_munmap(mm, b, FR), 0); /* head */
    LAYOUT(mm, b, "1-10:rw-");
    HT_EQ_U(mm->rss, 9);
    HT_EQ_U(frames_now(), before + 1);
    HT_TRY(check());
    HT_EQ_U(mm_munmap(mm, b + 9 * FR, FR), 0); /* tail */
    LAYOUT(mm, b, "1-9:rw-");
    HT_EQ_U(mm_munmap(mm, b + 4 * FR, 2 * FR - 100), 0); /* middle, length rounded up */
    LAYOUT(mm, b, "1-4:rw- 6-9:rw-");
    HT_TRY(check());
    HT_TRY(expect(mm, b + FR, 3, 1));
    HT_TRY(expect(mm, b + 6 * FR, 3, 1));
    HT_EQ_U(mm->rss, 6);
    /* spanning several VMAs and holes, cutting both ends */
    HT_EQ_U(xmmap(mm, b + 12 * FR, 2 * FR, PROT_READ, FIXED), b + 12 * FR);
    HT_EQ_U(mm_munmap(mm, b + 2 * FR, 11 * FR), 0);
    LAYOUT(mm, b, "1-2:rw- 13-14:r--");
    HT_TRY(expect(mm, b + FR, 1, 1));
    HT_EQ_U(mm->rss, 1);
    HT_TRY(check());
    /* nothing mapped: fine; bad arguments: -EINVAL */
    HT_EQ_U(mm_munmap(mm, 0x10000000, 5 * FR), 0);
    HT_EQ_U(mm_munmap(mm, b + 1, FR), -EINVAL);
    HT_EQ_U(mm_munmap(mm, b, 0), -EINVAL);
    HT_EQ_U(mm_munmap(mm, MM_VA_END_64 - FR, 2 * FR), -EINVAL);
    HT_EQ_U(mm_munmap(mm, MM_VA_END_64 + FR, FR), -EINVAL);
    HT_EQ_U(mm_munmap(mm, b, ~0ul), -EINVAL);
    LAYOUT(mm, b, "1-2:rw- 13-14:r--");
    HT_EQ_U(mm_munmap(mm, 0, MM_VA_END_64), 0);
    HT_EQ_U(mm->nr_vmas, 0);
    HT_EQ_U(mm->pt.nr_tables, 1);
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_mprotect_split_merge(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    uint64_t b = 0x400000;
    HT_EQ_U(xmmap(mm, b, 8 * FR, RW, FIXED), b);
    HT_TRY(fill(mm, b, 8, 2));
    HT_EQ_U(mm_mprotect(mm, b, FR, PROT_READ), 0); /* head */
    LAYOUT(mm, b, "0-1:r-- 1-8:rw-");
    HT_TRY(check());
    HT_EQ_U(mm_mprotect(mm, b + 7 * FR, FR, PROT_READ), 0); /* tail */
    LAYOUT(mm, b, "0-1:r-- 1-7:rw- 7-8:r--");
    HT_EQ_U(mm_mprotect(mm, b + 3 * FR, 2 * FR, PROT_READ | PROT_EXEC), 0); /* middle */
    LAYOUT(mm, b, "0-1:r-- 1-3:rw- 3-5:r-x 5-7:rw- 7-8:r--");
    HT_TRY(check());
    HT_TRY(refused(mm, b, FAULT_WRITE, MM_FAULT_PROTECTION));
    HT_TRY(refused(mm, b + FR, FAULT_EXEC, MM_FAULT_PROTECTION));
    uint8_t *p;
    HT_EQ_U(uaccess(mm, b + 3 * FR, FAULT_EXEC, &p), 0);
    HT_EQ_U(mm_mprotect(mm, b + FR, 3 * FR, PROT_READ), 0); /* spanning, merging left */
    LAYOUT(mm, b, "0-4:r-- 4-5:r-x 5-7:rw- 7-8:r--");
    HT_EQ_U(mm_mprotect(mm, b, 8 * FR, RW), 0); /* everything back into one */
    LAYOUT(mm, b, "0-8:rw-");
    HT_TRY(check());
    HT_TRY(expect(mm, b, 8, 2));
    /* a private page made writable again keeps its frame on the next write */
    unsigned prot;
    uint64_t pa = pte_pa(mm, b, &prot);
    HT_ASSERT(pa && !(prot & PT_W), "page still writable after the round trip");
    uint64_t faults = mm->minor_faults, before = frames_now();
    HT_TRY(uw(mm, b, 0x77));
    HT_EQ_U(pte_pa(mm, b, &prot), pa);
    HT_ASSERT(prot & PT_W, "not writable after the write fault");
    HT_EQ_U(mm->minor_faults, faults + 1);
    HT_EQ_U(frames_now(), before);
    /* a hole: -ENOMEM and nothing changed */
    HT_EQ_U(mm_munmap(mm, b + 4 * FR, FR), 0);
    HT_EQ_U(mm_mprotect(mm, b, 8 * FR, PROT_READ), -ENOMEM);
    HT_EQ_U(mm_mprotect(mm, b + 2 * FR, 4 * FR, PROT_READ), -ENOMEM);
    HT_EQ_U(mm_mprotect(mm, MM_VA_END_64 - FR, FR, PROT_READ), -ENOMEM);
    LAYOUT(mm, b, "0-4:rw- 5-8:rw-");
    /* bad arguments */
    HT_EQ_U(mm_mprotect(mm, b + 1, FR, PROT_READ), -EINVAL);
    HT_EQ_U(mm_mprotect(mm, b, FR, 0x10), -EINVAL);
    HT_EQ_U(mm_mprotect(mm, b, FR, 0x01000000), -EINVAL); /* PROT_GROWSDOWN */
    HT_EQ_U(mm_mprotect(mm, b, 0, 0x10), 0);              /* len 0 first, as Linux */
    HT_EQ_U(mm_mprotect(mm, b, ~0ul - 10, PROT_READ), -ENOMEM);
    HT_EQ_U(mm_mprotect(mm, b, FR, RW | PROT_SEM), 0);
    LAYOUT(mm, b, "0-4:rw- 5-8:rw-");
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_map_fixed_replace(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    uint64_t b = 0x400000;
    HT_EQ_U(xmmap(mm, b, 6 * FR, RW, FIXED), b);
    HT_TRY(fill(mm, b, 6, 3));
    uint64_t before = frames_now();
    HT_EQ_U(xmmap(mm, b + 2 * FR, 2 * FR, PROT_READ, FIXED), b + 2 * FR);
    LAYOUT(mm, b, "0-2:rw- 2-4:r-- 4-6:rw-");
    HT_EQ_U(frames_now(), before + 2);
    HT_TRY(check());
    HT_TRY(expect_zero(mm, b + 2 * FR, 2));
    HT_TRY(expect(mm, b, 2, 3));
    HT_TRY(expect(mm, b + 4 * FR, 2, 3));
    /* head and tail */
    HT_EQ_U(xmmap(mm, b, FR, PROT_EXEC, FIXED), b);
    HT_EQ_U(xmmap(mm, b + 5 * FR, FR, PROT_EXEC, FIXED), b + 5 * FR);
    LAYOUT(mm, b, "0-1:--x 1-2:rw- 2-4:r-- 4-5:rw- 5-6:--x");
    HT_TRY(expect(mm, b + FR, 1, 3));
    HT_TRY(expect(mm, b + 4 * FR, 1, 3));
    HT_EQ_U(xmmap(mm, b, FR, RW, FIXED), b);
    HT_EQ_U(xmmap(mm, b + 5 * FR, FR, RW, FIXED), b + 5 * FR);
    LAYOUT(mm, b, "0-2:rw- 2-4:r-- 4-6:rw-");
    HT_TRY(fill(mm, b, 1, 3));
    HT_TRY(fill(mm, b + 5 * FR, 1, 3));
    HT_TRY(check());
    /* across several VMAs and a hole */
    HT_EQ_U(xmmap(mm, b + 8 * FR, FR, PROT_READ, FIXED), b + 8 * FR);
    HT_EQ_U(xmmap(mm, b + FR, 8 * FR, RW, FIXED), b + FR);
    LAYOUT(mm, b, "0-9:rw-");
    HT_TRY(expect(mm, b, 1, 3));
    HT_TRY(expect_zero(mm, b + FR, 8));
    HT_TRY(check());
    /* all or nothing: with memory short, the old mapping stays (a child
     * holds the frames, so that unmapping them would free nothing) */
    HT_TRY(fill(mm, b, 9, 4));
    struct mm *child;
    HT_EQ_U(fork_mm(mm, false, &child), 0);
    for (size_t k = 0;; k++) {
        HT_TRY(exhaust());
        give_back(k);
        int err = mm_mmap(mm, b + 2 * FR, 3 * FR, PROT_READ | PROT_EXEC,
                          MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, &before);
        give_back_all();
        HT_TRY(check());
        if (!err)
            break;
        HT_EQ_U(err, -ENOMEM);
        LAYOUT(mm, b, "0-9:rw-");
        HT_TRY(expect(mm, b, 9, 4));
        HT_ASSERT(k < 20, "mmap still fails with %zu frames", k);
    }
    LAYOUT(mm, b, "0-2:rw- 2-5:r-x 5-9:rw-");
    HT_TRY(expect(mm, b + 5 * FR, 4, 4));
    HT_TRY(teardown());
}

/* ---- brk ---------------------------------------------------------------------------------------- */

static void t_brk(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    HT_EQ_U(mm_brk(mm, 0x700000), 0); /* no heap yet: the current break, 0 */
    HT_EQ_U(mm_brk_init(mm, 0x600123), 0);
    uint64_t s = 0x601000;
    HT_EQ_U(mm->brk_start, s);
    HT_EQ_U(mm_brk(mm, 0), s);
    HT_EQ_U(mm_brk(mm, s + 10), s + 10);
    LAYOUT(mm, s, "0-1:rw-");
    /* 5000 sbrk(1): one VMA, contiguous bytes */
    uint64_t cur = mm_brk(mm, 0);
    for (unsigned i = 0; i < 5000; i++) {
        uint64_t next = mm_brk(mm, cur + 1);
        HT_ASSERT(next == cur + 1, "sbrk(1) number %u: %#lx, expected %#lx", i, next,
                  (cur + 1));
        HT_TRY(uw(mm, cur, (uint8_t)i));
        cur = next;
    }
    HT_EQ_U(mm->nr_vmas, 1);
    LAYOUT(mm, s, "0-2:rw-");
    for (unsigned i = 0; i < 5000; i++)
        HT_TRY(ur(mm, s + 10 + i, (uint8_t)i));
    HT_TRY(check());
    /* grow, write, shrink: the pages go; grown again they read zero */
    HT_EQ_U(mm_brk(mm, s + 6 * FR), s + 6 * FR);
    HT_TRY(fill(mm, s + 2 * FR, 4, 5));
    uint64_t before = frames_now(), rss = mm->rss;
    HT_EQ_U(mm_brk(mm, s + 3 * FR + 5), s + 3 * FR + 5);
    LAYOUT(mm, s, "0-4:rw-");
    HT_EQ_U(mm->rss, rss - 2);
    HT_EQ_U(frames_now(), before + 2);
    HT_TRY(check());
    HT_EQ_U(mm_brk(mm, s + 6 * FR), s + 6 * FR);
    HT_TRY(expect(mm, s + 2 * FR, 2, 5)); /* kept: the break stayed inside page 3 */
    HT_TRY(expect_zero(mm, s + 4 * FR, 2));
    /* within the same page: only the value moves */
    HT_EQ_U(mm_brk(mm, s + 6 * FR - 1), s + 6 * FR - 1);
    HT_EQ_U(mm_brk(mm, s + 6 * FR), s + 6 * FR);
    LAYOUT(mm, s, "0-6:rw-");
    /* refusals return the current break */
    HT_EQ_U(mm_brk(mm, s - 1), s + 6 * FR);
    HT_EQ_U(mm_brk(mm, MM_VA_END_64 + 1), s + 6 * FR);
    HT_EQ_U(mm_brk(mm, ~0ul), s + 6 * FR);
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_brk_limits(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    uint64_t s = 0x600000;
    HT_EQ_U(mm_brk_init(mm, s), 0);
    HT_EQ_U(xmmap(mm, s + 16 * FR, FR, PROT_READ, FIXED), s + 16 * FR);
    HT_EQ_U(mm_brk(mm, s + 16 * FR), s);          /* no page left before the mapping */
    HT_EQ_U(mm_brk(mm, s + 15 * FR), s + 15 * FR); /* one page of gap */
    HT_EQ_U(mm_brk(mm, s + 15 * FR + 1), s + 15 * FR);
    /* the stack's guard counts as a mapping */
    HT_EQ_U(mm_munmap(mm, s + 16 * FR, FR), 0);
    HT_EQ_U(mm_setup_stack(mm, s + 64 * FR, 8 * FR, 16 * FR), 0);
    /* stack at s + 56 pages, its guard from s + 40 */
    HT_EQ_U(mm_brk(mm, s + 40 * FR), s + 15 * FR);
    HT_EQ_U(mm_brk(mm, s + 39 * FR), s + 39 * FR);
    HT_EQ_U(mm_brk(mm, s + 39 * FR + 1), s + 39 * FR);
    HT_TRY(check());
    /* a huge request fails cleanly and changes nothing */
    HT_EQ_U(mm_brk(mm, MM_VA_END_64 - FR), s + 39 * FR);
    LAYOUT(mm, s, "0-39:rw- 56-64:rw-");
    HT_EQ_U(mm_brk_init(mm, MM_VA_END_64 + FR), -EINVAL);
    HT_EQ_U(mm_brk_init(mm, 0x1000), -EINVAL);
    HT_TRY(check());
    HT_TRY(teardown());
}

/* ---- demand paging and copy-on-write ------------------------------------------------------------------ */

static void t_demand_zero(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    uint64_t b = 0x400000, zero = mm_zero_page();
    HT_EQ_U(xmmap(mm, b, 4 * FR, RW, FIXED), b);
    uint64_t before = frames_now();
    HT_TRY(ur(mm, b + 5, 0)); /* a read maps the zero page, read-only */
    unsigned prot;
    HT_EQ_U(pte_pa(mm, b, &prot), zero);
    HT_ASSERT(!(prot & PT_W) && (prot & PT_U), "zero page mapped with prot %#x", prot);
    HT_EQ_U(mm->zero_maps, 1);
    HT_EQ_U(mm->rss, 0);
    HT_EQ_U(mm->minor_faults, 1);
    HT_EQ_U(frames_now(), before - 3); /* only the three tables below the root */
    HT_TRY(check());
    HT_TRY(uw(mm, b + 5, 9)); /* then the write: a zeroed frame of its own */
    uint64_t pa = pte_pa(mm, b, &prot);
    HT_ASSERT(pa && pa != zero && (prot & PT_W), "write did not give a private frame");
    HT_EQ_U(mm->zero_maps, 0);
    HT_EQ_U(mm->rss, 1);
    HT_EQ_U(mm->minor_faults, 2);
    HT_EQ_U(frames_now(), before - 4);
    HT_EQ_U(refs(zero), 1); /* only its pin again */
    uint8_t *p;
    HT_EQ_U(uaccess(mm, b, 0, &p), 0);
    for (unsigned i = 0; i < FR; i++)
        HT_ASSERT(p[i] == (i == 5 ? 9 : 0), "byte %u is %#x", i, p[i]);
    HT_TRY(uw(mm, b + FR, 1)); /* a write first: one fault */
    HT_EQ_U(mm->minor_faults, 3);
    HT_TRY(expect_zero(mm, b + 2 * FR, 2));
    HT_EQ_U(mm->minor_faults, 5);
    HT_EQ_U(mm->zero_maps, 2);
    HT_EQ_U(refs(zero), 3);
    HT_EQ_U(mm->max_rss, 2);
    HT_TRY(refused(mm, b, FAULT_EXEC, MM_FAULT_PROTECTION));
    HT_EQ_U(mm->minor_faults, 5); /* refused faults are not counted */
    HT_TRY(check());
    HT_TRY(teardown());
}

/* Three processes share six pages; page i is written by them in the i-th
 * of the six orders.  Each sees only its own writes. */
static void t_cow_three_generations(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm(), *c, *g;
    uint64_t b = 0x400000;
    HT_EQ_U(xmmap(p, b, 6 * FR, RW, FIXED), b);
    HT_TRY(fill(p, b, 6, 1));
    uint64_t orig[6];
    for (int i = 0; i < 6; i++)
        orig[i] = pte_pa(p, b + i * FR, NULL);
    HT_EQ_U(fork_mm(p, false, &c), 0);
    HT_TRY(check());
    HT_EQ_U(fork_mm(c, false, &g), 0);
    HT_TRY(check());
    struct mm *who[3] = { p, c, g };
    for (int i = 0; i < 6; i++) {
        HT_EQ_U(refs(orig[i]), 3);
        for (int k = 0; k < 3; k++) {
            unsigned prot;
            HT_EQ_U(pte_pa(who[k], b + i * FR, &prot), orig[i]);
            HT_ASSERT(!(prot & PT_W), "page %d writable in process %d after fork", i, k);
        }
    }
    HT_EQ_U(c->minor_faults, 0);
    HT_EQ_U(c->rss, 6);
    static const int order[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
                                     { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
    uint64_t before = frames_now();
    for (int i = 0; i < 6; i++) {
        for (int k = 0; k < 3; k++) {
            int w = order[i][k];
            HT_TRY(uw(who[w], b + i * FR + 7, (uint8_t)(0x10 * (w + 1) + i)));
            HT_TRY(check());
            /* everyone sees its own write, or the original bytes */
            for (int o = 0; o < 3; o++) {
                bool wrote = false;
                for (int j = 0; j <= k; j++)
                    wrote = wrote || order[i][j] == o;
                HT_TRY(ur(who[o], b + i * FR + 7, wrote ? (uint8_t)(0x10 * (o + 1) + i) : 0));
                HT_TRY(ur(who[o], b + i * FR, pat(1, b / FR + i, 0)));
            }
        }
        /* the last writer kept the original frame (refcount 1 by then) */
        int last = order[i][2];
        HT_EQ_U(pte_pa(who[last], b + i * FR, NULL), orig[i]);
        HT_EQ_U(refs(orig[i]), 1);
    }
    HT_EQ_U(frames_now(), before - 12); /* two copies per page */
    /* mprotect read-only then read-write in the child: still isolated */
    HT_EQ_U(mm_mprotect(c, b, 6 * FR, PROT_READ), 0);
    HT_EQ_U(mm_mprotect(c, b, 6 * FR, RW), 0);
    HT_TRY(uw(c, b + 100, 0xcc));
    HT_TRY(ur(p, b + 100, 0));
    HT_TRY(ur(g, b + 100, 0));
    HT_TRY(check());
    drop_mm(c);
    HT_TRY(check());
    drop_mm(p);
    HT_TRY(check());
    HT_TRY(expect(g, b, 6, 1));
    HT_TRY(teardown());
}

static void t_cow_reuse(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm(), *c;
    uint64_t b = 0x400000;
    HT_EQ_U(xmmap(p, b, 2 * FR, RW, FIXED), b);
    HT_TRY(fill(p, b, 2, 1));
    uint64_t pa0 = pte_pa(p, b, NULL), pa1 = pte_pa(p, b + FR, NULL);
    /* the child exits: the parent's write finds refcount 1 and keeps its frame */
    HT_EQ_U(fork_mm(p, false, &c), 0);
    HT_EQ_U(refs(pa0), 2);
    drop_mm(c);
    HT_EQ_U(refs(pa0), 1);
    uint64_t before = frames_now();
    HT_TRY(uw(p, b, 5));
    unsigned prot;
    HT_EQ_U(pte_pa(p, b, &prot), pa0);
    HT_ASSERT(prot & PT_W, "not writable");
    HT_EQ_U(frames_now(), before);
    /* the child writes first (copies); then the parent's write reuses */
    HT_EQ_U(fork_mm(p, false, &c), 0);
    HT_TRY(uw(c, b + FR, 6));
    HT_ASSERT(pte_pa(c, b + FR, NULL) != pa1, "the child wrote into the shared frame");
    HT_EQ_U(refs(pa1), 1);
    before = frames_now();
    HT_TRY(uw(p, b + FR, 7));
    HT_EQ_U(pte_pa(p, b + FR, NULL), pa1);
    HT_EQ_U(frames_now(), before);
    HT_TRY(ur(c, b + FR, 6));
    HT_TRY(check());
    /* zero-page mappings are inherited as they are */
    HT_EQ_U(xmmap(p, b + 8 * FR, FR, RW, FIXED), b + 8 * FR);
    HT_TRY(ur(p, b + 8 * FR, 0));
    struct mm *c2;
    HT_EQ_U(fork_mm(p, false, &c2), 0);
    HT_EQ_U(pte_pa(c2, b + 8 * FR, NULL), mm_zero_page());
    HT_EQ_U(c2->zero_maps, 1);
    HT_TRY(uw(c2, b + 8 * FR, 1));
    HT_TRY(ur(p, b + 8 * FR, 0));
    HT_EQ_U(pte_pa(p, b + 8 * FR, NULL), mm_zero_page());
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_shared_anon(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm(), *c, *g;
    uint64_t s = 0x500000;
    HT_EQ_U(xmmap(p, s, 4 * FR, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), s);
    HT_TRY(uw(p, s, 1));
    HT_EQ_U(fork_mm(p, false, &c), 0);
    unsigned prot;
    HT_EQ_U(pte_pa(c, s, &prot), pte_pa(p, s, NULL));
    HT_ASSERT(prot & PT_W, "a shared page lost its write right in fork");
    HT_TRY(uw(c, s, 2));
    HT_TRY(ur(p, s, 2));
    HT_TRY(uw(c, s + FR, 3)); /* first touched by the child after fork */
    HT_TRY(ur(p, s + FR, 3));
    HT_EQ_U(fork_mm(c, true, &g), 0); /* eager fork keeps shared pages shared */
    HT_TRY(uw(g, s + 2 * FR, 4));
    HT_TRY(ur(p, s + 2 * FR, 4));
    HT_TRY(ur(c, s + 2 * FR, 4));
    HT_TRY(check());
    /* MADV_DONTNEED drops the mapping, not the data */
    HT_EQ_U(mm_madvise(p, s, 4 * FR, MADV_DONTNEED), 0);
    HT_EQ_U(p->rss, 0);
    HT_TRY(ur(p, s, 2));
    HT_TRY(ur(p, s + FR, 3));
    HT_TRY(check());
    /* read-only then writable again, still shared */
    HT_EQ_U(mm_mprotect(c, s, 4 * FR, PROT_READ), 0);
    HT_TRY(refused(c, s, FAULT_WRITE, MM_FAULT_PROTECTION));
    HT_EQ_U(mm_mprotect(c, s, 4 * FR, RW), 0);
    HT_TRY(uw(c, s, 8));
    HT_TRY(ur(g, s, 8));
    HT_EQ_U(mm_munmap(p, s, 4 * FR), 0);
    drop_mm(c);
    HT_TRY(check());
    HT_TRY(ur(g, s, 8));
    HT_TRY(ur(g, s + FR, 3));
    HT_TRY(teardown());
}

static void t_shared_object_lifetime(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm(), *c;
    uint64_t s = 0x500000, before = frames_now();
    HT_EQ_U(xmmap(p, s, 2 * FR, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), s);
    HT_TRY(uw(p, s, 1));
    HT_TRY(uw(p, s + FR, 2));
    uint64_t used_now = frames_now();
    /* a page unmapped while its object lives keeps its frame and data */
    HT_EQ_U(mm_munmap(p, s + FR, FR), 0);
    HT_EQ_U(frames_now(), used_now);
    HT_EQ_U(p->vmas->shm->nr_frames, 2);
    HT_EQ_U(fork_mm(p, false, &c), 0);
    HT_EQ_U(p->vmas->shm->refs, 2);
    HT_EQ_U(mm_munmap(p, s, FR), 0);
    HT_TRY(ur(c, s, 1));
    HT_TRY(check());
    drop_mm(c); /* the last VMA: every frame of the object goes */
    HT_EQ_U(p->nr_vmas, 0);
    HT_EQ_U(mm_munmap(p, 0, MM_VA_END_64), 0); /* and the tables */
    HT_EQ_U(frames_now(), before);
    /* a shared mapping split in two keeps one object */
    HT_EQ_U(xmmap(p, s, 3 * FR, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), s);
    HT_EQ_U(mm_mprotect(p, s + FR, FR, PROT_READ), 0);
    HT_EQ_U(p->nr_vmas, 3);
    HT_ASSERT(p->vmas->shm == p->vmas->next->next->shm && p->vmas->shm->refs == 3,
              "the pieces do not share their object");
    HT_EQ_U(p->vmas->next->next->off, 2 * FR);
    HT_TRY(uw(p, s + 2 * FR, 9));
    HT_EQ_U(mm_mprotect(p, s + FR, FR, RW), 0); /* merged back: contiguous offsets */
    HT_EQ_U(p->nr_vmas, 1);
    HT_EQ_U(p->vmas->shm->refs, 1);
    HT_TRY(ur(p, s + 2 * FR, 9));
    /* two separate shared mappings never merge */
    HT_EQ_U(xmmap(p, s + 3 * FR, FR, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), s + 3 * FR);
    HT_EQ_U(p->nr_vmas, 2);
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_eager_fork(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm(), *c;
    uint64_t b = 0x400000;
    HT_EQ_U(xmmap(p, b, 4 * FR, RW, FIXED), b);
    HT_TRY(fill(p, b, 3, 1));
    HT_TRY(ur(p, b + 3 * FR, 0));
    uint64_t before = frames_now();
    HT_EQ_U(fork_mm(p, true, &c), 0);
    HT_EQ_U(frames_now(), before - 3 - 4); /* 3 copies; the root and 3 tables */
    for (int i = 0; i < 3; i++) {
        unsigned pp, cp;
        uint64_t a = pte_pa(p, b + i * FR, &pp), x = pte_pa(c, b + i * FR, &cp);
        HT_ASSERT(a != x && refs(a) == 1 && refs(x) == 1, "page %d not copied", i);
        HT_ASSERT((pp & PT_W) && (cp & PT_W), "page %d lost PT_W", i);
    }
    HT_EQ_U(pte_pa(c, b + 3 * FR, NULL), mm_zero_page());
    HT_TRY(expect(c, b, 3, 1));
    uint64_t pf = p->minor_faults;
    HT_TRY(fill(p, b, 3, 2)); /* no fault: nothing is shared */
    HT_TRY(fill(c, b, 3, 3));
    HT_EQ_U(p->minor_faults, pf);
    HT_EQ_U(c->minor_faults, 0);
    HT_TRY(expect(p, b, 3, 2));
    HT_TRY(expect(c, b, 3, 3));
    HT_TRY(check());
    HT_TRY(teardown());
}

/* The parent's present pages as (va, pa, prot), hashed.  PT_W is left
 * out: a failed fork may leave private pages write-protected (pt_clone
 * is not all or nothing; the next write takes PT_W back, see cow_reuse). */
static int hash_leaf(const struct pt_view *v, void *arg)
{
    uint64_t *h = arg;
    *h = (*h ^ v->va) * 0x100000001b3ul;
    *h = (*h ^ v->pa) * 0x100000001b3ul;
    *h = (*h ^ (v->prot & ~PT_W)) * 0x100000001b3ul;
    return 0;
}

static uint64_t pte_hash(struct mm *mm)
{
    uint64_t h = 0xcbf29ce484222325ul;
    pt_for_each(&mm->pt, 0, mm->va_end, hash_leaf, &h);
    return h ^ mm->pt.nr_tables;
}

/*
 * A payload entry (a swap slot, one day) through fork and exit: the child
 * gets the same entry, copy-on-write or eager, beside the shared or
 * copied pages; munmap clears it and mincore calls it not resident; every
 * validator accepts it inside its VMA; exit drops it with its table.
 */
static uint64_t payload_at(struct mm *mm, uint64_t va)
{
    struct pt_view v;
    return pt_walk(&mm->pt, va, &v) == -ENOENT ? v.payload : 0;
}

static void t_fork_payload(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm(), *c, *e;
    uint64_t b = 0x400000;
    HT_EQ_U(xmmap(p, b, 4 * FR, RW, FIXED), b);
    HT_TRY(fill(p, b, 3, 1));
    HT_EQ_U(pt_set_payload(&p->pt, b + 3 * FR, 0x5151), 0);
    HT_TRY(check());
    uint64_t before = frames_now();
    /* A touch of it: nothing brings the page back, SIGBUS, nothing changed. */
    enum mm_fault_why why;
    HT_EQ_U(mm_fault_why(p, b + 3 * FR + 5, FAULT_USER, &why), -EIO);
    HT_EQ_U(why, MM_FAULT_SIGBUS);
    HT_EQ_U(payload_at(p, b + 3 * FR), 0x5151);
    HT_EQ_U(fork_mm(p, false, &c), 0);
    HT_EQ_U(payload_at(c, b + 3 * FR), 0x5151);
    HT_EQ_U(payload_at(p, b + 3 * FR), 0x5151);
    for (int i = 0; i < 3; i++)
        HT_EQ_U(refs(pte_pa(c, b + i * FR, NULL)), 2);
    HT_TRY(expect(c, b, 3, 1));
    HT_EQ_U(fork_mm(p, true, &e), 0);
    HT_EQ_U(payload_at(e, b + 3 * FR), 0x5151);
    HT_TRY(expect(e, b, 3, 1));
    HT_TRY(check());
    uint8_t vec[4];
    HT_EQ_U(mm_mincore(c, b, 4 * FR, vec), 0);
    HT_ASSERT(vec[0] && vec[1] && vec[2] && !vec[3], "mincore %d %d %d %d", vec[0], vec[1],
              vec[2], vec[3]);
    /* munmap of the payload's page in one child, then the child's exit */
    HT_EQ_U(mm_munmap(c, b + 2 * FR, 2 * FR), 0);
    HT_EQ_U(payload_at(c, b + 3 * FR), 0);
    HT_EQ_U(payload_at(p, b + 3 * FR), 0x5151);
    HT_TRY(check());
    drop_mm(c);
    drop_mm(e);
    HT_EQ_U(frames_now(), before);
    for (int i = 0; i < 3; i++)
        HT_EQ_U(refs(pte_pa(p, b + i * FR, NULL)), 1);
    HT_TRY(check());
    HT_TRY(teardown());
}

static void fork_enomem(bool eager)
{
    static const uint8_t data[3 * 4096] = { 1, 2, 3 };
    static const struct vm_file f = { "/lib", data, sizeof(data) };
    HT_TRY(setup());
    struct mm *p = new_mm(), *c;
    uint64_t b = 0x400000, got;
    HT_EQ_U(xmmap(p, b, 8 * FR, RW, FIXED), b);
    HT_TRY(fill(p, b, 6, 1));
    HT_TRY(ur(p, b + 7 * FR, 0));
    HT_EQ_U(xmmap(p, 0x40000000, 2 * FR, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), 0x40000000);
    HT_TRY(uw(p, 0x40000000, 1));
    HT_EQ_U(mm_mmap(p, 0x800000000, 3 * FR, RW, MAP_PRIVATE | MAP_FIXED, &f, 0, &got), 0);
    HT_TRY(uw(p, 0x800000000 + FR, 1));
    HT_TRY(ur(p, 0x800000000, 1));
    HT_EQ_U(mm_setup_stack(p, 0x7ffff0000000, 8 * FR, 64 * FR), 0);
    HT_TRY(uw(p, 0x7ffff0000000 - 8, 1));
    uint64_t h = pte_hash(p), before = frames_now(), fails = 0;
    for (size_t k = 0;; k++) {
        HT_TRY(exhaust());
        give_back(k);
        int err = fork_mm(p, eager, &c);
        give_back_all();
        HT_TRY(check());
        if (!err)
            break;
        HT_EQ_U(err, -ENOMEM);
        fails++;
        HT_ASSERT(pte_hash(p) == h, "the parent's tables changed in a failed fork (%zu frames)",
                  k);
        HT_ASSERT(frames_now() == before, "a failed fork with %zu frames leaked %ld frames", k,
                  (before - frames_now()));
        /* A page the failed fork write-protected is the parent's alone: a
         * write takes PT_W back on the same frame, no copy. */
        struct pt_view v0, v1;
        HT_EQ_U(pt_walk(&p->pt, b, &v0), 0);
        HT_TRY(uw(p, b, pat(1, b / FR, 0)));
        HT_EQ_U(pt_walk(&p->pt, b, &v1), 0);
        HT_ASSERT(v1.pa == v0.pa && (v1.prot & PT_W), "a write after a failed fork copied "
                  "(%#lx -> %#lx) or left the page read-only", v0.pa, v1.pa);
        HT_ASSERT(frames_now() == before, "the write after a failed fork took a frame");
        h = pte_hash(p);
        HT_ASSERT(k < 200, "fork still fails with %zu frames", k);
    }
    HT_ASSERT(fails >= 8, "fork failed only %lu times", fails);
    HT_TRY(uw(c, b, 0x42));
    HT_TRY(ur(p, b, pat(1, b / FR, 0)));
    HT_TRY(uw(c, 0x40000000 + 1, 0x43));
    HT_TRY(ur(p, 0x40000000 + 1, 0x43));
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_fork_enomem(void)
{
    HT_TRY(fork_enomem(false));
}

static void t_fork_enomem_eager(void)
{
    HT_TRY(fork_enomem(true));
}

/* ---- madvise, mincore, files ---------------------------------------------------------------------------- */

static uint8_t file_data[5000];
static const struct vm_file file = { "/bin/data", file_data, sizeof(file_data) };

static void init_file(void)
{
    for (size_t i = 0; i < sizeof(file_data); i++)
        file_data[i] = (uint8_t)(i * 13 + 7);
}

static void t_madvise(void)
{
    HT_TRY(setup());
    init_file();
    struct mm *mm = new_mm();
    uint64_t b = 0x400000, f = 0x600000, got;
    HT_EQ_U(xmmap(mm, b, 4 * FR, RW, FIXED), b);
    HT_TRY(fill(mm, b, 4, 1));
    uint64_t before = frames_now();
    HT_EQ_U(mm_madvise(mm, b + FR, 2 * FR, MADV_DONTNEED), 0);
    HT_EQ_U(mm->rss, 2);
    HT_EQ_U(frames_now(), before + 2);
    HT_TRY(check());
    HT_TRY(expect_zero(mm, b + FR, 2));
    HT_TRY(expect(mm, b, 1, 1));
    HT_TRY(expect(mm, b + 3 * FR, 1, 1));
    HT_EQ_U(mm_madvise(mm, b, FR, MADV_FREE), 0);
    HT_TRY(expect_zero(mm, b, 1));
    /* a private file page reads the file's bytes again */
    HT_EQ_U(mm_mmap(mm, f, FR, RW, MAP_PRIVATE | MAP_FIXED, &file, 0, &got), 0);
    HT_TRY(uw(mm, f + 3, 0));
    HT_EQ_U(mm_madvise(mm, f, FR, MADV_DONTNEED), 0);
    HT_TRY(ur(mm, f + 3, file_data[3]));
    HT_EQ_U(mm_madvise(mm, f, FR, MADV_FREE), -EINVAL);
    /* a hole: -ENOMEM, the mapped part is still dropped */
    HT_TRY(fill(mm, b, 4, 2));
    HT_EQ_U(mm_munmap(mm, b + 2 * FR, FR), 0);
    HT_EQ_U(mm_madvise(mm, b, 4 * FR, MADV_DONTNEED), -ENOMEM);
    HT_EQ_U(mm->rss, 1); /* the file page */
    HT_EQ_U(mm_madvise(mm, b + 2 * FR, FR, MADV_WILLNEED), -ENOMEM);
    HT_EQ_U(mm_madvise(mm, 0x10000000, FR, MADV_NORMAL), -ENOMEM);
    /* bad arguments */
    HT_EQ_U(mm_madvise(mm, b + 1, FR, MADV_DONTNEED), -EINVAL);
    HT_EQ_U(mm_madvise(mm, b, FR, 5), -EINVAL);
    HT_EQ_U(mm_madvise(mm, b, FR, -1), -EINVAL);
    HT_EQ_U(mm_madvise(mm, b, ~0ul, MADV_DONTNEED), -EINVAL);
    HT_EQ_U(mm_madvise(mm, b, 0, MADV_DONTNEED), 0);
    HT_EQ_U(mm_madvise(mm, b, FR, MADV_SEQUENTIAL), 0);
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_mincore(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm(), *c;
    uint64_t b = 0x400000, s = 0x500000;
    uint8_t vec[8];
    HT_EQ_U(xmmap(p, b, 4 * FR, RW, FIXED), b);
    HT_EQ_U(mm_mincore(p, b, 4 * FR, vec), 0);
    HT_ASSERT(!memcmp(vec, "\0\0\0\0", 4), "untouched pages resident");
    HT_TRY(ur(p, b, 0));
    HT_TRY(uw(p, b + 2 * FR, 1));
    memset(vec, 9, sizeof(vec));
    HT_EQ_U(mm_mincore(p, b, 4 * FR - 100, vec), 0);
    HT_ASSERT(!memcmp(vec, "\1\0\1\0\x09", 5), "vec %d %d %d %d %d", vec[0], vec[1], vec[2],
              vec[3], vec[4]);
    HT_EQ_U(mm_mincore(p, b + 2 * FR, 1, vec), 0);
    HT_EQ_U(vec[0], 1);
    HT_EQ_U(mm_mincore(p, b, 0, vec), 0);
    HT_EQ_U(mm_mincore(p, b + 1, FR, vec), -EINVAL);
    HT_EQ_U(mm_mincore(p, b, 5 * FR, vec), -ENOMEM);
    HT_EQ_U(mm_mincore(p, b - FR, 2 * FR, vec), -ENOMEM);
    HT_EQ_U(mm_mincore(p, MM_VA_END_64, FR, vec), -ENOMEM);
    HT_EQ_U(mm_mincore(p, b, ~0ul, vec), -ENOMEM);
    /* a shared page another process touched is resident for both */
    HT_EQ_U(xmmap(p, s, 2 * FR, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), s);
    HT_EQ_U(fork_mm(p, false, &c), 0);
    HT_TRY(uw(c, s + FR, 1));
    HT_EQ_U(mm_mincore(p, s, 2 * FR, vec), 0);
    HT_ASSERT(vec[0] == 0 && vec[1] == 1, "shared residency %d %d", vec[0], vec[1]);
    /* after MADV_DONTNEED a private page is gone */
    HT_EQ_U(mm_madvise(p, b + 2 * FR, FR, MADV_DONTNEED), 0);
    HT_EQ_U(mm_mincore(p, b, 4 * FR, vec), 0);
    HT_ASSERT(!memcmp(vec, "\1\0\0\0", 4), "after DONTNEED");
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_file_mapping(void)
{
    HT_TRY(setup());
    init_file();
    struct mm *p = new_mm(), *c;
    uint64_t a = 0x400000, got;
    HT_EQ_U(mm_mmap(p, a, 3 * FR, PROT_READ, MAP_PRIVATE | MAP_FIXED, &file, 0, &got), 0);
    uint8_t *x;
    for (uint64_t i = 0; i < 3 * FR; i++) {
        if (i % FR == 0)
            HT_EQ_U(uaccess(p, a + i, 0, &x), 0);
        uint8_t want = i < sizeof(file_data) ? file_data[i] : 0;
        HT_ASSERT(x[i % FR] == want, "byte %lu is %#x, expected %#x", i, x[i % FR], want);
    }
    HT_EQ_U(p->rss, 3); /* copies, even past the end of the file */
    HT_EQ_U(p->zero_maps, 0);
    HT_TRY(refused(p, a, FAULT_WRITE, MM_FAULT_PROTECTION));
    HT_TRY(check());
    /* at an offset, writable (an ELF data segment): private copies */
    uint64_t d = 0x500000;
    HT_EQ_U(mm_mmap(p, d, 2 * FR, RW, MAP_PRIVATE | MAP_FIXED, &file, FR, &got), 0);
    HT_TRY(ur(p, d + 5, file_data[FR + 5]));
    HT_TRY(ur(p, d + 5000 - FR, 0));
    HT_TRY(uw(p, d + 5, 0xee));
    HT_EQ_U(file_data[FR + 5], (uint8_t)((FR + 5) * 13 + 7)); /* the file is untouched */
    HT_EQ_U(fork_mm(p, false, &c), 0);
    HT_TRY(uw(c, d + 5, 0xdd));
    HT_TRY(ur(p, d + 5, 0xee));
    HT_TRY(ur(c, d + 5, 0xdd));
    /* an ELF segment as a window of the file: bss zero past p_filesz */
    static struct vm_file seg;
    seg = (struct vm_file){ "/bin/elf", file_data, FR + 100 };
    uint64_t e = 0x700000;
    HT_EQ_U(mm_mmap(p, e, 3 * FR, RW, MAP_PRIVATE | MAP_FIXED, &seg, FR, &got), 0);
    HT_TRY(ur(p, e + 99, file_data[FR + 99]));
    HT_TRY(ur(p, e + 100, 0));
    HT_TRY(expect_zero(p, e + FR, 2));
    /* adjacent pieces of one file at contiguous offsets merge */
    uint64_t m = 0x800000;
    HT_EQ_U(mm_mmap(p, m, FR, PROT_READ, MAP_PRIVATE | MAP_FIXED, &file, 0, &got), 0);
    HT_EQ_U(mm_mmap(p, m + FR, FR, PROT_READ, MAP_PRIVATE | MAP_FIXED, &file, FR, &got), 0);
    HT_EQ_U(mm_mmap(p, m + 2 * FR, FR, PROT_READ, MAP_PRIVATE | MAP_FIXED, &file, 0, &got), 0);
    LAYOUT(p, m, "0-2:r-- 2-3:r--");
    /* a shared file mapping: read-only for good, its pages shared by fork */
    uint64_t s = 0x900000;
    HT_EQ_U(mm_mmap(p, s, FR, PROT_READ, MAP_SHARED | MAP_FIXED, &file, 0, &got), 0);
    HT_TRY(ur(p, s + 1, file_data[1]));
    HT_EQ_U(mm_mprotect(p, s, FR, RW), -EACCES);
    struct mm *c2;
    HT_EQ_U(fork_mm(p, false, &c2), 0);
    HT_EQ_U(pte_pa(c2, s, NULL), pte_pa(p, s, NULL));
    HT_TRY(check());
    HT_TRY(teardown());
}

/* ---- protection, faults, user copies ---------------------------------------------------------------------- */

static void t_protection_faults(void)
{
    HT_TRY(setup());
    init_file();
    static struct vm_file text;
    text = (struct vm_file){ "/bin/text", file_data, sizeof(file_data) };
    struct mm *mm = new_mm();
    uint64_t t = 0x400000, h = 0x401000, n = 0x500000, got;
    uint64_t top = 0x7ffff0000000, ss = top - 8 * FR, guard = 64 * FR;
    HT_EQ_U(mm_mmap(mm, t, FR, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, &text, 0, &got), 0);
    HT_EQ_U(xmmap(mm, h, FR, RW, FIXED), h);
    HT_EQ_U(xmmap(mm, n, FR, PROT_NONE, FIXED), n);
    HT_EQ_U(mm_setup_stack(mm, top, 8 * FR, guard), 0);
    uint8_t *p;
    HT_EQ_U(uaccess(mm, t, FAULT_EXEC, &p), 0);
    HT_EQ_U(*p, file_data[0]);
    HT_TRY(refused(mm, t, FAULT_WRITE, MM_FAULT_PROTECTION));     /* write to text */
    HT_TRY(refused(mm, h, FAULT_EXEC, MM_FAULT_PROTECTION));      /* execute the heap */
    HT_TRY(refused(mm, top - 8, FAULT_EXEC, MM_FAULT_PROTECTION)); /* execute the stack */
    HT_TRY(refused(mm, n, 0, MM_FAULT_PROTECTION));               /* PROT_NONE */
    HT_TRY(refused(mm, n + 5, FAULT_WRITE, MM_FAULT_PROTECTION));
    HT_TRY(refused(mm, 0x300000, 0, MM_FAULT_NO_MAPPING));
    HT_TRY(refused(mm, 0, FAULT_WRITE, MM_FAULT_NO_MAPPING));
    HT_TRY(refused(mm, MM_VA_END_64 - 1, 0, MM_FAULT_NO_MAPPING));
    /* the stack grows down to a fault below it (mm/stack.c) ... */
    uw(mm, ss - 1, 7);
    HT_EQ_U(mm->stack_start, ss - FR);
    /* ... not past its limit (8 MiB without mm_stack_limit) ... */
    HT_TRY(refused(mm, top - 8 * MiB - 1, FAULT_WRITE, MM_FAULT_STACK_GUARD));
    HT_TRY(refused(mm, top - 8 * MiB - guard - FR, 0, MM_FAULT_NO_MAPPING)); /* out of reach */
    char lim[160];
    mm_describe(mm, top - 8 * MiB - 1, lim, sizeof(lim));
    HT_EQ_STR(lim, "stack limit below 7fffefff7000 (no mapping)");
    /* ... and not within the guard gap of an accessible mapping below */
    HT_EQ_U(xmmap(mm, ss - 40 * FR, FR, PROT_READ, FIXED), ss - 40 * FR);
    HT_TRY(refused(mm, ss - 2 * FR, FAULT_WRITE, MM_FAULT_STACK_GUARD));
    HT_EQ_U(mm->stack_start, ss - FR);
    static const uint64_t kernel[] = { 0x800000000000ul, 0xffff800000000000ul, ~0ul };
    for (size_t i = 0; i < HT_COUNT(kernel); i++) {
        enum mm_fault_why why;
        HT_EQ_U(mm_fault_why(mm, kernel[i], FAULT_USER, &why), -EFAULT);
        HT_EQ_U(why, MM_FAULT_NO_MAPPING);
    }
    /* the kernel never executes user memory */
    enum mm_fault_why why;
    HT_EQ_U(mm_fault_why(mm, t, FAULT_EXEC, &why), -EFAULT);
    HT_EQ_U(why, MM_FAULT_PROTECTION);
    HT_EQ_U(mm->minor_faults, 2);   /* the text page and the stack's new page */
    /* the kill report */
    char buf[160];
    mm_describe(mm, 0x300000, buf, sizeof(buf));
    HT_EQ_STR(buf, "no mapping");
    mm_describe(mm, ss - 2 * FR, buf, sizeof(buf));
    HT_EQ_STR(buf, "stack guard gap below 7fffefff7000 (no mapping)");

    mm_describe(mm, t + 5, buf, sizeof(buf));
    HT_EQ_STR(buf, "00400000-00401000 r-xp 00000000 /bin/text");
    mm_describe(mm, n, buf, sizeof(buf));
    HT_EQ_STR(buf, "00500000-00501000 ---p 00000000");
    HT_EQ_U(mm_describe(mm, t, buf, 10), 41);
    HT_EQ_STR(buf, "00400000-");
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_prot_none_keeps_data(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm(), *c;
    uint64_t b = 0x400000;
    HT_EQ_U(xmmap(p, b, 2 * FR, RW, FIXED), b);
    HT_TRY(fill(p, b, 2, 1));
    uint64_t before = frames_now();
    HT_EQ_U(mm_mprotect(p, b, 2 * FR, PROT_NONE), 0);
    HT_TRY(refused(p, b, 0, MM_FAULT_PROTECTION));
    uint8_t vec[2];
    HT_EQ_U(mm_mincore(p, b, 2 * FR, vec), 0);
    HT_ASSERT(vec[0] && vec[1], "PROT_NONE pages are still resident");
    HT_EQ_U(mm_prepare_read(p, b, 1), -EFAULT); /* the kernel may not read them either */
    HT_TRY(check());
    HT_EQ_U(fork_mm(p, false, &c), 0);
    HT_EQ_U(mm_mprotect(p, b, 2 * FR, RW), 0);
    HT_TRY(expect(p, b, 2, 1));
    HT_TRY(uw(p, b, 1));
    HT_EQ_U(mm_mprotect(c, b, 2 * FR, PROT_READ), 0);
    HT_TRY(expect(c, b, 2, 1));
    HT_EQ_U(frames_now(), before - 1 - 4); /* one copy; the child's tables */
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_prepare_write(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm(), *c;
    uint64_t b = 0x400000;
    HT_EQ_U(xmmap(p, b, 3 * FR, RW, FIXED), b);
    HT_EQ_U(xmmap(p, b + 3 * FR, FR, PROT_READ, FIXED), b + 3 * FR);
    HT_TRY(fill(p, b, 3, 1));
    HT_EQ_U(fork_mm(p, false, &c), 0);
    uint64_t faults = p->minor_faults;
    /* the kernel writes into a buffer shared after fork: only p's copy changes */
    HT_EQ_U(mm_prepare_write(p, b + 100, 2 * FR), 0);
    HT_EQ_U(p->minor_faults, faults + 3);
    for (int i = 0; i < 3; i++) {
        unsigned prot;
        uint64_t pa = pte_pa(p, b + i * FR, &prot);
        HT_ASSERT((prot & PT_W) && pa != pte_pa(c, b + i * FR, NULL), "page %d not broken", i);
    }
    HT_EQ_U(mm_write(p, b + FR - 2, "hello", 5), 0);
    char got[6] = { 0 };
    HT_EQ_U(mm_read(p, got, b + FR - 2, 5), 0);
    HT_EQ_STR(got, "hello");
    HT_EQ_U(mm_read(c, got, b + FR - 2, 5), 0);
    HT_ASSERT(memcmp(got, "hello", 5) != 0, "the child sees the kernel's write");
    HT_TRY(expect(c, b, 3, 1));
    HT_EQ_U(p->minor_faults, faults + 3); /* all present and writable now */
    /* refusals */
    HT_EQ_U(mm_prepare_write(p, b + 3 * FR, 1), -EFAULT); /* read-only */
    HT_EQ_U(mm_prepare_write(p, b + 2 * FR, 2 * FR), -EFAULT);
    HT_EQ_U(mm_prepare_write(p, b + 4 * FR - 1, 2), -EFAULT); /* into a hole */
    HT_EQ_U(mm_prepare_write(p, b - 1, 2), -EFAULT);
    HT_EQ_U(mm_prepare_write(p, b, ~0ul), -EFAULT);
    HT_EQ_U(mm_prepare_write(p, ~0ul - 5, 10), -EFAULT);
    HT_EQ_U(mm_prepare_write(p, 0xffff800000000000ul, 8), -EFAULT);
    HT_EQ_U(mm_prepare_write(p, 0, 0), 0);
    HT_EQ_U(mm_prepare_read(p, b + 3 * FR, FR), 0);
    HT_EQ_U(mm_prepare_read(p, b + 3 * FR, FR + 1), -EFAULT);
    HT_EQ_U(mm_write(p, b + 3 * FR, "x", 1), -EFAULT);
    /* a fresh page: a zeroed frame of its own, never the zero page */
    HT_EQ_U(xmmap(p, b + 8 * FR, FR, RW, FIXED), b + 8 * FR);
    HT_EQ_U(mm_prepare_write(p, b + 8 * FR, 1), 0);
    HT_ASSERT(pte_pa(p, b + 8 * FR, NULL) != mm_zero_page(), "zero page for a write");
    /* with no memory: -ENOMEM, nothing changed */
    HT_EQ_U(xmmap(p, b + 9 * FR, FR, RW, FIXED), b + 9 * FR);
    HT_TRY(exhaust());
    HT_EQ_U(mm_prepare_write(p, b + 9 * FR, 1), -ENOMEM);
    give_back_all();
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_maps_text(void)
{
    HT_TRY(setup());
    init_file();
    static struct vm_file prog;
    prog = (struct vm_file){ "/bin/prog", file_data, sizeof(file_data) };
    struct mm *mm = new_mm();
    uint64_t got;
    HT_EQ_U(mm_mmap(mm, 0x400000, FR, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, &prog, 0,
                    &got), 0);
    HT_EQ_U(mm_mmap(mm, 0x401000, 2 * FR, RW, MAP_PRIVATE | MAP_FIXED, &prog, FR, &got), 0);
    HT_EQ_U(mm_brk_init(mm, 0x403123), 0);
    HT_EQ_U(mm_brk(mm, 0x406000), 0x406000);
    HT_EQ_U(xmmap(mm, 0x10000000, FR, RW, FIXED), 0x10000000);
    HT_EQ_U(xmmap(mm, 0x10001000, FR, PROT_WRITE, FIXED), 0x10001000);
    HT_EQ_U(xmmap(mm, 0x20000000, 2 * FR, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED),
            0x20000000);
    HT_EQ_U(mm_mmap(mm, 0x30000000, FR, PROT_READ, MAP_SHARED | MAP_FIXED, &prog, 0, &got), 0);
    HT_EQ_U(mm_setup_stack(mm, MM_VA_END_64, 0x21000, 256 * FR), 0);
    /* Linux pads "start-end perms offset dev inode " to 72 columns, then
     * one space and the name; the literal lines were laid out that way. */
    char shm_line[160], prefix[80];
    snprintf(prefix, sizeof(prefix), "20000000-20002000 rw-s 00000000 00:01 %lu ",
             mm->vmas->next->next->next->next->next->shm->id);
    snprintf(shm_line, sizeof(shm_line), "%-72s %s\n", prefix, "/dev/zero (deleted)");
    char want[1024];
    snprintf(want, sizeof(want),
             "00400000-00401000 r-xp 00000000 00:00 0                                  /bin/prog\n"
             "00401000-00403000 rw-p 00001000 00:00 0                                  /bin/prog\n"
             "00404000-00406000 rw-p 00000000 00:00 0                                  [heap]\n"
             "10000000-10001000 rw-p 00000000 00:00 0 \n"
             "10001000-10002000 -w-p 00000000 00:00 0 \n"
             "%s"
             "30000000-30001000 r--s 00000000 00:00 0                                  /bin/prog\n"
             "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n",
             shm_line);
    char buf[1024];
    int n = mm_maps(mm, buf, sizeof(buf));
    if (strcmp(buf, want))
        fprintf(stderr, "maps:\n%s\nexpected:\n%s\n", buf, want);
    HT_EQ_U(n, strlen(want));
    HT_EQ_STR(buf, want);
    /* cut to fit, the length of the whole text still returned */
    char small[40];
    HT_EQ_U(mm_maps(mm, small, sizeof(small)), strlen(want));
    HT_ASSERT(strncmp(small, want, 39) == 0 && small[39] == 0, "truncated text");
    HT_EQ_U(mm_maps(mm, NULL, 0), strlen(want));
    /* /proc/self/maps after fork names the same shared object */
    struct mm *c;
    HT_EQ_U(fork_mm(mm, false, &c), 0);
    char cbuf[1024];
    mm_maps(c, cbuf, sizeof(cbuf));
    HT_EQ_STR(cbuf, want);
    HT_TRY(check());
    HT_TRY(teardown());
}

/* ---- limits, memory exhaustion, the flush hook, 32-bit limits ----------------------------------------------- */

static void t_max_vmas(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    uint64_t b = 0x400000;
    mm->max_vmas = 3;
    HT_EQ_U(xmmap(mm, b, 3 * FR, RW, FIXED), b);
    HT_EQ_U(xmmap(mm, b + 10 * FR, FR, PROT_READ, FIXED), b + 10 * FR);
    HT_EQ_U(xmmap(mm, b + 20 * FR, FR, PROT_READ, FIXED), b + 20 * FR);
    HT_EQ_U(xmmap(mm, b + 30 * FR, FR, PROT_READ, FIXED), -ENOMEM);
    HT_EQ_U(xmmap(mm, 0, FR, PROT_READ, PRIV), -ENOMEM);
    HT_EQ_U(mm_munmap(mm, b + FR, FR), -ENOMEM);                /* would cut A in three */
    HT_EQ_U(mm_mprotect(mm, b + FR, FR, PROT_READ), -ENOMEM);   /* likewise */
    HT_EQ_U(mm_mprotect(mm, b, FR, PROT_READ), -ENOMEM);        /* a split adds one */
    LAYOUT(mm, b, "0-3:rw- 10-11:r-- 20-21:r--");
    HT_EQ_U(mm_munmap(mm, b, FR), 0); /* a head: no new VMA */
    HT_EQ_U(mm_mprotect(mm, b + 10 * FR, FR, RW), 0);
    HT_EQ_U(mm_munmap(mm, b + 20 * FR, FR), 0);
    HT_EQ_U(xmmap(mm, b + 30 * FR, FR, PROT_READ, FIXED), b + 30 * FR);
    LAYOUT(mm, b, "1-3:rw- 10-11:rw- 30-31:r--");
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_oom_fault(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm(), *c;
    uint64_t b = 0x400000;
    HT_EQ_U(xmmap(p, b, 2 * FR, RW, FIXED), b);
    HT_TRY(exhaust());
    enum mm_fault_why why;
    HT_EQ_U(mm_fault_why(p, b, FAULT_WRITE | FAULT_USER, &why), -ENOMEM);
    HT_EQ_U(why, MM_FAULT_OOM);
    HT_EQ_U(mm_fault(p, b, FAULT_USER), -ENOMEM); /* the zero page needs tables */
    HT_EQ_U(p->minor_faults, 0);
    give_back(2);
    HT_EQ_U(mm_fault(p, b, FAULT_USER), -ENOMEM);
    give_back(1);
    HT_EQ_U(mm_fault(p, b, FAULT_USER), 0);
    HT_EQ_U(pte_pa(p, b, NULL), mm_zero_page());
    HT_EQ_U(mm_fault(p, b, FAULT_WRITE | FAULT_USER), -ENOMEM);
    HT_EQ_U(pte_pa(p, b, NULL), mm_zero_page());
    /* The first anonymous page of the VMA also needs its anon_vma (and
     * the reverse map's handle table): a frame or two of slab more. */
    int tries = 0, err;
    do {
        give_back(1);
        err = mm_fault(p, b, FAULT_WRITE | FAULT_USER);
        if (err)
            HT_EQ_U(pte_pa(p, b, NULL), mm_zero_page());
    } while (err == -ENOMEM && ++tries < 4);
    HT_EQ_U(err, 0);
    give_back_all();
    HT_TRY(check());
    /* a CoW break with no memory: -ENOMEM, the page as it was */
    HT_TRY(fill(p, b, 1, 1));
    HT_EQ_U(fork_mm(p, false, &c), 0);
    uint64_t pa = pte_pa(p, b, NULL);
    HT_TRY(exhaust());
    HT_EQ_U(mm_fault(p, b, FAULT_WRITE | FAULT_USER), -ENOMEM);
    unsigned prot;
    HT_EQ_U(pte_pa(p, b, &prot), pa);
    HT_ASSERT(!(prot & PT_W), "writable after a failed break");
    give_back(1); /* the copy; no table is needed (swap_leaf) */
    HT_EQ_U(mm_fault(p, b, FAULT_WRITE | FAULT_USER), 0);
    give_back_all();
    HT_TRY(expect(p, b, 1, 1));
    HT_TRY(expect(c, b, 1, 1));
    HT_TRY(check());
    HT_TRY(teardown());
}

/* A CoW break of the only page in its table, and of the last page of
 * user space (whose pair in the table is past va_end): the tables are
 * kept, only the copy is allocated. */
static void t_cow_lonely_page(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm(), *c;
    /* each alone in its level-0 table (2 MiB); the last one alone up to the root */
    static const uint64_t at[] = { 0x400000, 0xbff000, MM_VA_END_64 - FR };
    for (size_t i = 0; i < HT_COUNT(at); i++) {
        HT_EQ_U(xmmap(p, at[i], FR, RW, FIXED), at[i]);
        HT_TRY(uw(p, at[i] + 1, (uint8_t)(i + 1)));
    }
    HT_EQ_U(fork_mm(p, false, &c), 0);
    for (size_t i = 0; i < HT_COUNT(at); i++) {
        uint64_t tables = p->pt.nr_tables;
        struct pt_view before, after;
        HT_EQ_U(pt_walk(&p->pt, at[i], &before), 0);
        HT_TRY(exhaust());
        give_back(1);
        HT_ASSERT(mm_fault(p, at[i], FAULT_WRITE | FAULT_USER) == 0,
                  "CoW break at %#lx needed more than the copy", at[i]);
        give_back_all();
        HT_EQ_U(p->pt.nr_tables, tables);
        /* the same table pages all the way down: none was freed and remade */
        HT_EQ_U(pt_walk(&p->pt, at[i], &after), 0);
        for (unsigned l = 0; l + 1 < before.nraw; l++)
            HT_ASSERT(before.raw[l] == after.raw[l], "level-%u entry of %#lx changed: %#lx "
                      "-> %#lx", 3 - l, at[i], before.raw[l], after.raw[l]);
        HT_TRY(uw(p, at[i] + 1, 0x80));
        HT_TRY(ur(c, at[i] + 1, (uint8_t)(i + 1)));
        HT_TRY(check());
    }
    HT_TRY(teardown());
}

static struct {
    unsigned n;
    uint64_t va[16], len[16];
} flushes;

static void record_flush(uint64_t va, uint64_t len)
{
    if (flushes.n < 16) {
        flushes.va[flushes.n] = va;
        flushes.len[flushes.n] = len;
    }
    flushes.n++;
}

static bool flushed(uint64_t va, uint64_t len)
{
    for (unsigned i = 0; i < flushes.n && i < 16; i++)
        if (flushes.va[i] <= va && va + len <= flushes.va[i] + flushes.len[i])
            return true;
    return false;
}

static void t_tlb_flush(void)
{
    HT_TRY(setup());
    mm_tlb_flush = record_flush;
    struct mm *p = new_mm(), *c;
    uint64_t b = 0x400000;
    HT_EQ_U(xmmap(p, b, 4 * FR, RW, FIXED), b);
    memset(&flushes, 0, sizeof(flushes));
    HT_TRY(fill(p, b, 4, 1));
    HT_EQ_U(flushes.n, 0); /* filling empty entries needs no flush */
    HT_EQ_U(fork_mm(p, false, &c), 0);
    HT_ASSERT(flushed(b, 4 * FR), "fork did not flush the parent's pages made read-only");
    memset(&flushes, 0, sizeof(flushes));
    HT_TRY(uw(c, b, 9));
    HT_ASSERT(flushed(b, FR), "a CoW break did not flush the old translation");
    memset(&flushes, 0, sizeof(flushes));
    HT_EQ_U(mm_munmap(p, b + FR, 2 * FR), 0);
    HT_ASSERT(flushed(b + FR, 2 * FR), "munmap did not flush");
    HT_TRY(uw(p, b, 8)); /* ours alone again: PT_W back, nothing to flush */
    memset(&flushes, 0, sizeof(flushes));
    HT_EQ_U(mm_mprotect(p, b, FR, PROT_READ), 0);
    HT_ASSERT(flushed(b, FR), "mprotect did not flush");
    mm_tlb_flush = NULL;
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_va_end_32(void)
{
    HT_TRY(setup());
    struct mm *p = &mms[0], *c;
    HT_EQ_U(mm_init_user(p, MM_VA_END_32, GFP_DMA32), 0);
    used[0] = true;
    uint64_t a = xmmap(p, 0, 2 * FR, RW, PRIV);
    HT_EQ_U(a, MM_VA_END_32 - 2 * FR);
    HT_TRY(fill(p, a, 2, 1));
    HT_ASSERT(pte_pa(p, a, NULL) < 4 * GiB, "a frame above 4 GiB");
    HT_EQ_U(xmmap(p, MM_VA_END_32, FR, RW, FIXED), -ENOMEM);
    HT_EQ_U(xmmap(p, 0, 0x100000000ul, RW, PRIV), -ENOMEM);
    HT_EQ_U(fork_mm(p, false, &c), 0);
    HT_EQ_U(c->va_end, MM_VA_END_32);
    HT_EQ_U(c->gfp, GFP_DMA32);
    HT_TRY(uw(c, a + FR, 7)); /* the top page: a CoW break in the last table */
    HT_TRY(expect(p, a, 2, 1));
    HT_TRY(check());
    HT_TRY(teardown());
}

/* ---- random operations against a byte model --------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ul;

static uint64_t rnd(uint64_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return n ? (rng * 0x2545f4914f6cdd1dul) % n : 0;
}

/* A window of 64 pages in up to 4 processes; model[m][page] is what
 * process m must read at offset 0 of that page (-1: no mapping). */
#define RP 64
static int model[NMM][RP];

static void t_random(void)
{
    HT_TRY(setup());
    uint64_t w = 0x10000000;
    struct mm *m[4] = { new_mm() };
    int nm = 1;
    for (int i = 0; i < RP; i++)
        model[0][i] = -1;
    for (int step = 0; step < 3000; step++) {
        int k = (int)rnd((uint64_t)nm), op = (int)rnd(10);
        struct mm *mm = m[k];
        uint64_t pg = rnd(RP), n = 1 + rnd(RP - pg < 8 ? RP - pg : 8), va = w + pg * FR;
        if (op == 0) {
            HT_EQ_U(xmmap(mm, va, n * FR, RW, FIXED), va);
            for (uint64_t i = 0; i < n; i++)
                model[k][pg + i] = 0;
        } else if (op == 1) {
            HT_EQ_U(mm_munmap(mm, va, n * FR), 0);
            for (uint64_t i = 0; i < n; i++)
                model[k][pg + i] = -1;
        } else if (op == 2) {
            HT_EQ_U(mm_madvise(mm, va, FR, MADV_DONTNEED), model[k][pg] < 0 ? -ENOMEM : 0);
            if (model[k][pg] >= 0)
                model[k][pg] = 0;
        } else if (op == 3 && nm < 4) {
            HT_EQ_U(fork_mm(mm, rnd(4) == 0, &m[nm]), 0);
            memcpy(model[nm], model[k], sizeof(model[k]));
            nm++;
        } else if (op == 4 && nm > 1 && rnd(3) == 0) {
            drop_mm(mm);
            m[k] = m[nm - 1];
            memcpy(model[k], model[nm - 1], sizeof(model[k]));
            nm--;
        } else if (op == 5) {
            unsigned prot = rnd(2) ? RW : PROT_READ;
            bool all = true;
            for (uint64_t i = 0; i < n; i++)
                all = all && model[k][pg + i] >= 0;
            HT_EQ_U(mm_mprotect(mm, va, n * FR, prot), all ? 0 : -ENOMEM);
            if (all && prot == PROT_READ)
                for (uint64_t i = 0; i < n; i++)
                    HT_EQ_U(mm_mprotect(mm, va + i * FR, FR, RW), 0);
        } else if (model[k][pg] >= 0 && rnd(2)) {
            uint8_t v = (uint8_t)(1 + rnd(255));
            HT_TRY(uw(mm, va, v));
            model[k][pg] = v;
        } else if (model[k][pg] >= 0) {
            HT_TRY(ur(mm, va, (uint8_t)model[k][pg]));
        } else {
            uint8_t *p;
            HT_EQ_U(uaccess(mm, va, 0, &p), -EFAULT);
        }
        if (step % 16 == 0)
            HT_TRY(check());
    }
    for (int j = 0; j < nm; j++)
        for (int i = 0; i < RP; i++)
            if (model[j][i] >= 0)
                HT_TRY(ur(m[j], w + i * FR, (uint8_t)model[j][i]));
    HT_TRY(check());
    HT_TRY(teardown());
}

/* More pages than one unmap batch (32): munmap, MADV_DONTNEED, brk. */
static void t_unmap_many(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    uint64_t b = 0x400000, before = frames_now();
    HT_EQ_U(xmmap(mm, b, 100 * FR, RW, FIXED), b);
    HT_TRY(fill(mm, b, 100, 1));
    HT_EQ_U(mm->rss, 100);
    HT_EQ_U(mm_madvise(mm, b + 10 * FR, 70 * FR, MADV_DONTNEED), 0);
    HT_EQ_U(mm->rss, 30);
    HT_TRY(expect_zero(mm, b + 10 * FR, 70));
    HT_TRY(expect(mm, b + 80 * FR, 20, 1));
    HT_EQ_U(mm_munmap(mm, b, 100 * FR), 0);
    HT_EQ_U(mm->rss, 0);
    HT_EQ_U(mm->zero_maps, 0);
    HT_EQ_U(frames_now(), before);
    HT_EQ_U(mm_brk_init(mm, b), 0);
    HT_EQ_U(mm_brk(mm, b + 90 * FR), b + 90 * FR);
    HT_TRY(fill(mm, b, 90, 2));
    HT_EQ_U(mm_brk(mm, b + 1), b + 1);
    HT_EQ_U(mm->rss, 1);
    HT_TRY(expect(mm, b, 1, 2));
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_fault_oom_kinds(void)
{
    HT_TRY(setup());
    init_file();
    struct mm *mm = new_mm();
    uint64_t s = 0x500000, f = 0x540000, got;
    HT_EQ_U(xmmap(mm, s, 2 * FR, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), s);
    HT_EQ_U(mm_mmap(mm, f, FR, PROT_READ, MAP_PRIVATE | MAP_FIXED, &file, 0, &got), 0);
    HT_TRY(uw(mm, s + FR, 1)); /* the tables exist now */
    HT_TRY(exhaust());
    HT_EQ_U(mm_fault(mm, s, FAULT_USER), -ENOMEM);      /* no frame for the object */
    HT_EQ_U(mm_fault(mm, f, FAULT_USER), -ENOMEM);      /* no frame for the copy */
    give_back(1);
    /* the frame, but no slab slot for the object's second directory leaf:
     * page 512 of a bigger object */
    HT_EQ_U(mm->vmas->shm->nr_frames, 1);
    HT_EQ_U(mm_fault(mm, s, FAULT_USER), 0);
    HT_EQ_U(mm_fault(mm, f, FAULT_USER), -ENOMEM);
    give_back_all();
    HT_EQ_U(xmmap(mm, 0x10000000, 600 * FR, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED),
            0x10000000);
    HT_TRY(uw(mm, 0x10000000, 1));
    HT_TRY(exhaust());
    give_back(1);
    HT_EQ_U(mm_fault(mm, 0x10000000 + 520 * FR, FAULT_WRITE | FAULT_USER), -ENOMEM);
    give_back_all();
    HT_TRY(uw(mm, 0x10000000 + 520 * FR, 2));
    HT_TRY(ur(mm, s + FR, 1));
    HT_TRY(check());
    /* a shared object whose directory would be larger than kmalloc's largest block */
    HT_EQ_U(xmmap(mm, 0, 2ul << 40, RW, MAP_SHARED | MAP_ANONYMOUS), -ENOMEM);
    HT_EQ_U(xmmap(mm, 0, 2ul << 40, PROT_NONE, PRIV), MM_VA_END_64 - (2ul << 40));
    /* stack set-up refusals */
    HT_EQ_U(mm_setup_stack(mm, MM_VA_END_64 + FR, FR, 0), -EINVAL);
    HT_EQ_U(mm_setup_stack(mm, 0x7000000000ul + 1, FR, 0), -EINVAL);
    HT_EQ_U(mm_setup_stack(mm, 0x7000000000ul, 0, 0), -EINVAL);
    HT_EQ_U(mm_setup_stack(mm, 0x8000, FR, 0), -EINVAL);
    HT_EQ_U(mm_setup_stack(mm, 0x20000, 0x20000, 0), -EINVAL);
    HT_EQ_U(mm_setup_stack(mm, s + FR, FR, 0), -EEXIST);
    HT_TRY(check());
    HT_TRY(teardown());
}

/* A shrinking break that would need a VMA past the limit keeps the break. */
/* Linux's heuristic overcommit: one request larger than all RAM is
 * refused (private writable, shared anonymous, heap growth); read-only
 * private mappings are not counted; just under RAM is fine. */
static void t_overcommit(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    uint64_t ram = 0;
    for (int i = 0; i < NR_ZONES; i++)
        ram += node0->zones[i].managed;
    uint64_t big = (ram + 1) * FR, ok = ram * FR;
    HT_EQ_U(xmmap(mm, 0, big, RW, MAP_PRIVATE | MAP_ANONYMOUS), (uint64_t)-ENOMEM);
    HT_EQ_U(xmmap(mm, 0, big, RW, MAP_SHARED | MAP_ANONYMOUS), (uint64_t)-ENOMEM);
    uint64_t a = xmmap(mm, 0, big, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
    HT_ASSERT(a < mm->va_end, "a read-only private mapping larger than RAM: %#lx", a);
    HT_EQ_U(mm_munmap(mm, a, big), 0);
    a = xmmap(mm, 0, ok, RW, MAP_PRIVATE | MAP_ANONYMOUS);
    HT_ASSERT(a < mm->va_end, "a writable mapping of all RAM (untouched): %#lx", a);
    HT_EQ_U(mm_munmap(mm, a, ok), 0);
    uint64_t b = 0x600000;
    HT_EQ_U(mm_brk_init(mm, b), 0);
    HT_EQ_U(mm_brk(mm, b + big), b);
    HT_EQ_U(mm_brk(mm, b + 4 * FR), b + 4 * FR);
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_brk_shrink_refused(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    uint64_t b = 0x600000;
    HT_EQ_U(mm_brk_init(mm, b), 0);
    HT_EQ_U(mm_brk(mm, b + 4 * FR), b + 4 * FR);
    /* a mapping right after the heap merges with it */
    HT_EQ_U(xmmap(mm, b + 4 * FR, 4 * FR, RW, FIXED), b + 4 * FR);
    HT_EQ_U(mm->nr_vmas, 1);
    mm->max_vmas = 1;
    HT_EQ_U(mm_brk(mm, b + FR), b + 4 * FR);
    mm->max_vmas = 2;
    HT_EQ_U(mm_brk(mm, b + FR), b + FR);
    LAYOUT(mm, b, "0-1:rw- 4-8:rw-");
    HT_TRY(check());
    HT_TRY(teardown());
}

/* Positive controls: each validator reports a broken address space. */
static void t_validators_catch(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm(), *c;
    uint64_t b = 0x400000;
    char why[256];
    HT_EQ_U(xmmap(p, b, 4 * FR, RW, FIXED), b);
    HT_TRY(fill(p, b, 2, 1));
    HT_EQ_U(fork_mm(p, false, &c), 0);
    HT_TRY(check());
    /* a CoW-shared page made writable behind the mm's back */
    HT_EQ_U(pt_protect(&p->pt, b, FR, PT_U | PT_W), 0);
    HT_EQ_U(mm_check_consistency(p, why, sizeof(why)), -EUCLEAN);
    HT_ASSERT(strstr(why, "writable"), "why: %s", why);
    HT_EQ_U(pt_protect(&p->pt, b, FR, PT_U), 0);
    /* a pte outside every VMA (counted, with its reference): the full walk
     * finds it, the VMA-only walk of mm_check_frames by the count */
    uint64_t pa = pte_pa(p, b, NULL);
    HT_EQ_U(pt_map(&p->pt, b + 64 * FR, pa, FR, PT_U, 0), 0);
    mm_count_map(p, pa);
    frame_ref(pa);
    HT_EQ_U(mm_check_consistency(p, why, sizeof(why)), -EUCLEAN);
    HT_ASSERT(strstr(why, "outside every VMA"), "why: %s", why);
    struct mm *both[2] = { p, c };
    HT_EQ_U(mm_check_frames(both, 2, why, sizeof(why)), -EUCLEAN);
    HT_ASSERT(strstr(why, "counted"), "why: %s", why);
    HT_EQ_U(pt_unmap(&p->pt, b + 64 * FR, FR), 0);
    mm_count_unmap(p, pa);
    frame_unref(pa);
    /* a frame mapped twice in one address space */
    HT_EQ_U(pt_map(&p->pt, b + 3 * FR, pa, FR, PT_U, 0), 0);
    mm_count_map(p, pa);
    frame_ref(pa);
    HT_EQ_U(mm_check_consistency(p, why, sizeof(why)), -EUCLEAN);
    HT_ASSERT(strstr(why, "twice"), "why: %s", why);
    HT_EQ_U(pt_unmap(&p->pt, b + 3 * FR, FR), 0);
    mm_count_unmap(p, pa);
    frame_unref(pa);
    /* one reference too many: only the exact check sees it */
    frame_ref(pa);
    HT_EQ_U(mm_check_consistency(p, why, sizeof(why)), 0);
    HT_EQ_U(mm_check_frames(both, 2, why, sizeof(why)), -EUCLEAN);
    HT_ASSERT(strstr(why, "references"), "why: %s", why);
    frame_unref(pa);
    /* a wrong count, an unmerged pair, an overlap */
    p->zero_maps++;
    HT_EQ_U(mm_check_consistency(p, why, sizeof(why)), -EUCLEAN);
    p->zero_maps--;
    HT_EQ_U(mm_mprotect(p, b + 2 * FR, FR, PROT_READ), 0);
    p->vmas->next->prot = RW;
    HT_EQ_U(mm_check_consistency(p, why, sizeof(why)), -EUCLEAN);
    HT_ASSERT(strstr(why, "merged"), "why: %s", why);
    p->vmas->next->prot = PROT_READ;
    p->vmas->end += FR;
    HT_EQ_U(mm_check_consistency(p, why, sizeof(why)), -EUCLEAN);
    HT_ASSERT(strstr(why, "overlap"), "why: %s", why);
    p->vmas->end -= FR;
    HT_TRY(check());
    HT_TRY(teardown());
}

/* ---- mremap (mm/mremap.c) and the stack (mm/stack.c) ----------------------------------------------------- */

static int remap(struct mm *mm, uint64_t a, uint64_t ol, uint64_t nl, unsigned fl, uint64_t na,
                 uint64_t *out)
{
    *out = 0;
    return mm_mremap(mm, a, ol, nl, fl, na, out);
}

/* A move carries the entries: same frames, same state, no fault, no copy. */
static void t_mremap_moves_entries(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    uint64_t a = 0x400000, pa[4], n;
    HT_EQ_U(xmmap(mm, a, 4 * FR, RW, FIXED), a);
    HT_EQ_U(xmmap(mm, a + 4 * FR, FR, PROT_READ, FIXED), a + 4 * FR);   /* in the way */
    HT_TRY(fill(mm, a, 3, 1));
    HT_TRY(ur(mm, a + 3 * FR, 0));   /* page 3: the zero page */
    for (int i = 0; i < 4; i++)
        pa[i] = pte_pa(mm, a + i * FR, NULL);
    HT_EQ_U(pa[3], mm_zero_page());
    struct pt_view st;   /* the first page's accessed and dirty bits, which must move too */
    HT_EQ_U(pt_walk(&mm->pt, a, &st), 0);
    HT_EQ_U(pt_replace(&mm->pt, a, pa[0], PT_U | PT_W | PT_ACCESSED | PT_DIRTY), 0);
    HT_EQ_U(pt_walk(&mm->pt, a, &st), 0);
    HT_ASSERT(st.dirty && st.accessed, "pt_replace did not set the state bits");
    uint64_t rss = mm->rss, zero = mm->zero_maps, faults = mm->minor_faults;
    HT_EQ_U(remap(mm, a, 4 * FR, 8 * FR, 0, 0, &n), -ENOMEM);   /* blocked, may not move */
    HT_EQ_U(remap(mm, a, 4 * FR, 8 * FR, MREMAP_MAYMOVE, 0, &n), 0);
    HT_ASSERT(n != a, "did not move");
    HT_TRY(check());
    for (int i = 0; i < 4; i++) {
        HT_EQ_U(pte_pa(mm, n + i * FR, NULL), pa[i]);
        HT_EQ_U(pte_pa(mm, a + i * FR, NULL), 0);
    }
    struct pt_view v;
    HT_EQ_U(pt_walk(&mm->pt, n, &v), 0);
    HT_ASSERT(v.dirty == st.dirty && v.accessed == st.accessed, "the state bits changed");
    HT_EQ_U(mm->rss, rss);
    HT_EQ_U(mm->zero_maps, zero);
    for (int i = 0; i < 3; i++)
        for (unsigned k = 0; k < 3; k++)
            HT_TRY(ur(mm, n + i * FR + offs[k], pat(1, a / FR + i, k)));
    HT_EQ_U(mm->minor_faults, faults);   /* nothing faulted in again */
    HT_TRY(expect_zero(mm, n + 3 * FR, 5));
    LAYOUT(mm, n, "0-8:rw-");
    HT_TRY(refused(mm, a, 0, MM_FAULT_NO_MAPPING));
    /* shrink: the tail's frames go; then grow in place where it is free */
    uint64_t g;
    HT_EQ_U(remap(mm, n, 8 * FR, 2 * FR, 0, 0, &g), 0);
    HT_EQ_U(g, n);
    HT_EQ_U(mm->rss, 2);
    HT_EQ_U(remap(mm, n, 2 * FR, 5 * FR, 0, 0, &g), 0);
    HT_EQ_U(g, n);
    LAYOUT(mm, n, "0-5:rw-");
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_mremap_fork_and_shared(void)
{
    HT_TRY(setup());
    struct mm *p = new_mm(), *c;
    uint64_t a = 0x400000, n;
    HT_EQ_U(xmmap(p, a, 3 * FR, RW, FIXED), a);
    HT_TRY(fill(p, a, 3, 2));
    HT_EQ_U(fork_mm(p, false, &c), 0);
    uint64_t pa = pte_pa(p, a, NULL);
    HT_EQ_U(remap(p, a, 3 * FR, 3 * FR, MREMAP_FIXED | MREMAP_MAYMOVE, 0x900000, &n), 0);
    HT_EQ_U(n, 0x900000);
    HT_EQ_U(pte_pa(p, n, NULL), pa);
    HT_EQ_U(pte_pa(p, a, NULL), 0);
    HT_EQ_U(refs(pa), 2);        /* still shared with the child: copy-on-write */
    HT_TRY(check());
    uw(p, n, 0x5a);              /* the parent's write copies */
    HT_ASSERT(pte_pa(p, n, NULL) != pa, "no copy");
    HT_TRY(expect(c, a, 3, 2));  /* the child sees its data where it was */
    HT_TRY(check());
    /* a shared object: a "duplicate" (old size 0), then DONTUNMAP */
    uint64_t s = 0x2000000, d, m;
    HT_EQ_U(xmmap(p, s, 2 * FR, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), s);
    uw(p, s + 5, 0x77);
    HT_EQ_U(remap(p, s, 0, 2 * FR, MREMAP_MAYMOVE, 0, &d), 0);
    HT_TRY(ur(p, d + 5, 0x77));
    uw(p, d + FR, 0x33);
    HT_TRY(ur(p, s + FR, 0x33));
    HT_EQ_U(remap(p, s, 0, FR, 0, 0, &m), -ENOMEM);
    HT_EQ_U(remap(p, a + 16 * FR, 0, FR, MREMAP_MAYMOVE, 0, &m), -EFAULT);
    HT_EQ_U(remap(p, n, 0, FR, MREMAP_MAYMOVE, 0, &m), -EINVAL);   /* private */
    HT_EQ_U(remap(p, s, 2 * FR, 2 * FR, MREMAP_DONTUNMAP | MREMAP_MAYMOVE, 0, &m), 0);
    HT_TRY(ur(p, m + 5, 0x77));
    HT_TRY(ur(p, s + 5, 0x77));  /* the old range still shows the object */
    HT_TRY(check());
    /* growing a shared object's mapping grows the object */
    HT_EQ_U(remap(p, m, 2 * FR, 4 * FR, MREMAP_MAYMOVE, 0, &m), 0);
    uw(p, m + 3 * FR, 1);
    HT_TRY(check());
    HT_TRY(teardown());
}

/* Out of table pages in the middle of a move: the old mapping is whole. */
static void t_mremap_enomem_undo(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    uint64_t a = 0x400000, pa[40], n = 0, far = 0x7f0000000000ul;
    HT_EQ_U(xmmap(mm, a, 40 * FR, RW, FIXED), a);
    HT_TRY(fill(mm, a, 40, 3));
    for (int i = 0; i < 40; i++)
        pa[i] = pte_pa(mm, a + i * FR, NULL);
    int err = -ENOMEM;
    for (size_t k = 0; err == -ENOMEM && k < 16; k++) {
        HT_TRY(exhaust());
        HT_TRY(give_back(k));
        err = remap(mm, a, 40 * FR, 40 * FR, MREMAP_FIXED | MREMAP_MAYMOVE, far, &n);
        HT_TRY(give_back(nhoard));
        HT_TRY(check());
        if (err == -ENOMEM) {
            for (int i = 0; i < 40; i++)
                HT_EQ_U(pte_pa(mm, a + i * FR, NULL), pa[i]);
            HT_EQ_U(pte_pa(mm, far, NULL), 0);
        }
    }
    HT_EQ_U(err, 0);
    for (int i = 0; i < 40; i++)
        HT_EQ_U(pte_pa(mm, far + i * FR, NULL), pa[i]);
    HT_TRY(teardown());
}

static void t_mremap_errors(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    uint64_t a = 0x400000, n;
    HT_EQ_U(xmmap(mm, a, 4 * FR, RW, FIXED), a);
    static const struct {
        uint64_t addr, ol, nl;
        unsigned fl;
        uint64_t na;
        int err;
    } bad[] = {
        { 0x400000, FR, FR, 8, 0, -EINVAL },
        { 0x400000, FR, FR, MREMAP_FIXED, 0x900000, -EINVAL },
        { 0x400000, FR, FR, MREMAP_DONTUNMAP, 0, -EINVAL },
        { 0x400000, FR, 2 * FR, MREMAP_DONTUNMAP | MREMAP_MAYMOVE, 0, -EINVAL },
        { 0x400001, FR, FR, 0, 0, -EINVAL },
        { 0x400000, FR, 0, 0, 0, -EINVAL },
        { 0x800000, FR, 0, 0, 0, -EINVAL },           /* the size before the mapping */
        { 0x800000, FR, 2 * FR, MREMAP_MAYMOVE, 0, -EFAULT },
        { 0x800000, 2 * FR, FR, 0, 0, -EFAULT },
        { 0x400000, 8 * FR, 9 * FR, MREMAP_MAYMOVE, 0, -EFAULT },
        { 0x400000, 2 * FR, 2 * FR, MREMAP_FIXED | MREMAP_MAYMOVE, 0x401000, -EINVAL },
        { 0x800000, FR, FR, MREMAP_FIXED | MREMAP_MAYMOVE, 0x900001, -EINVAL },
        { 0x400000, FR, FR, MREMAP_FIXED | MREMAP_MAYMOVE, MM_VA_END_64, -EINVAL },
        { 0x400000, FR, MM_VA_END_64 + FR, MREMAP_MAYMOVE, 0, -EINVAL },
    };
    for (size_t i = 0; i < HT_COUNT(bad); i++) {
        int err = remap(mm, bad[i].addr, bad[i].ol, bad[i].nl, bad[i].fl, bad[i].na, &n);
        HT_ASSERT(err == bad[i].err, "case %zu: %d, expected %d", i, err, bad[i].err);
    }
    /* same size past the mapping: nothing to do, as Linux */
    HT_EQ_U(remap(mm, a, 8 * FR, 8 * FR, 0, 0, &n), 0);
    HT_EQ_U(n, a);
    LAYOUT(mm, a, "0-4:rw-");
    HT_TRY(check());
    HT_TRY(teardown());
}

/* A MAP_GROWSDOWN VMA grows on a fault below it, within the limit and the gap. */
static void t_growsdown(void)
{
    HT_TRY(setup());
    struct mm *mm = new_mm();
    uint64_t top = 0x7ff000000000ul, g;
    HT_EQ_U(xmmap(mm, top - FR, FR, RW, FIXED | MAP_GROWSDOWN), top - FR);
    mm->stack_guard = 256 * FR;
    uw(mm, top - 3 * FR - 1, 9);   /* three pages down */
    LAYOUT(mm, top - 4 * FR, "0-4:rw-");
    HT_EQ_U(mm->rss, 1);
    /* placement keeps the gap free below it */
    g = xmmap(mm, top - 4 * FR - 8 * FR, FR, RW, PRIV);
    HT_ASSERT(g + FR <= top - 4 * FR - 256 * FR || g >= top, "a hint in the gap was taken: %#lx",
              g);
    /* beyond 8 MiB: refused */
    HT_TRY(refused(mm, top - 8 * MiB - FR, FAULT_WRITE, MM_FAULT_STACK_GUARD));
    /* growth up to a PROT_NONE VMA, not up to a readable one */
    HT_EQ_U(xmmap(mm, top - 64 * FR, FR, PROT_NONE, FIXED), top - 64 * FR);
    uw(mm, top - 63 * FR, 1);
    HT_EQ_U(mm_mprotect(mm, top - 64 * FR, FR, PROT_READ), 0);
    HT_EQ_U(mm_munmap(mm, top - 63 * FR, 59 * FR), 0);   /* shrink it back */
    HT_TRY(refused(mm, top - 5 * FR, FAULT_WRITE, MM_FAULT_STACK_GUARD));
    HT_TRY(check());
    HT_TRY(teardown());
}

static const struct htest cases[] = {
    HT_CASE(init_destroy),
    HT_CASE(mmap_placement),
    HT_CASE(mmap_errors),
    HT_CASE(munmap_split),
    HT_CASE(mprotect_split_merge),
    HT_CASE(map_fixed_replace),
    HT_CASE(brk),
    HT_CASE(brk_limits),
    HT_CASE(demand_zero),
    HT_CASE(cow_three_generations),
    HT_CASE(cow_reuse),
    HT_CASE(shared_anon),
    HT_CASE(shared_object_lifetime),
    HT_CASE(eager_fork),
    HT_CASE(fork_payload),
    HT_CASE(fork_enomem),
    HT_CASE(fork_enomem_eager),
    HT_CASE(madvise),
    HT_CASE(mincore),
    HT_CASE(file_mapping),
    HT_CASE(protection_faults),
    HT_CASE(prot_none_keeps_data),
    HT_CASE(prepare_write),
    HT_CASE(maps_text),
    HT_CASE(max_vmas),
    HT_CASE(oom_fault),
    HT_CASE(cow_lonely_page),
    HT_CASE(tlb_flush),
    HT_CASE(va_end_32),
    HT_CASE(mremap_moves_entries),
    HT_CASE(mremap_fork_and_shared),
    HT_CASE(mremap_enomem_undo),
    HT_CASE(mremap_errors),
    HT_CASE(growsdown),
    HT_CASE(random),
    HT_CASE(unmap_many),
    HT_CASE(fault_oom_kinds),
    HT_CASE(brk_shrink_refused),
    HT_CASE(overcommit),
    HT_CASE(validators_catch),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
