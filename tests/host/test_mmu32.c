/*
 * Host tests of compat32's software i386 MMU (compat32/mmu32.c): the i386
 * two-level tables of a 32-bit address space are the authoritative map,
 * and the 4-level tables the CPU walks ("hw", mmu32_hw) are derived from
 * them on demand, with accessed and dirty bits emulated
 * (docs/compat32.md).
 *
 * The test plays the CPU in long mode: cpu_access() walks the hw tables
 * with pt_walk; if a present leaf allows the access (PT_U for a user
 * access, PT_W for a write, PT_X for an execution) the access succeeds
 * and touches the frame through the arena (the direct map).  Otherwise
 * the "CPU" raises a page fault: mm_hw_fault(), then one retry; a second
 * refusal after mm_hw_fault said yes fails the test (the process would
 * be killed for an access its tables allow).
 *
 * The fake node has RAM on both sides of 4 GiB, so that GFP_KERNEL
 * allocations (the hw tables, slab) land above 4 GiB and every frame and
 * table page of the i386 side must still come from below (GFP_DMA32).
 *
 * After every step check_all() runs, on every live 32-bit mm:
 * mm_check_consistency, pt_check of the i386 tables and of hw,
 * mmu32_check, and two validators of this file written from the Intel
 * bit layout (SDM vol. 3A, 4.3 and 4.8) without mmu32.c's functions:
 * raw_hw_leaf (on every hw leaf: a 4 KiB page whose frame the raw i386
 * walk gives, with at most the rights of both entries, writable only when
 * D is set, and A set in the PDE and the PTE) and raw_i386_check (every
 * table page and frame is RAM below 4 GiB, the mirror PDE); then
 * mm_check_frames over all live mms, node_check, slab_check.
 *
 * Failures use longjmp back to the case (FAIL / CHECK / EQ), so helpers
 * can assert at any depth.
 */
#include <setjmp.h>
#include <stdlib.h>

#include "htest.h"
#include "mm_host.h"
#include <compat32/mmu32.h>
#include <kernel/errno.h>
#include <kernel/sbuf.h>
#include <mm/gfp.h>
#include <mm/pgtable.h>
#include <compat32/pt_i386.h>
#include <mm/slab.h>
#include <mm/vma.h>
#include <mm/zone.h>

#include "../shared/mmu32_oracle.h"

#define KiB (1ul << 10)
#define MiB (1ul << 20)
#define GiB (1ul << 30)
#define FR 4096ul
#define M4 (4 * MiB)
#define TOP (1ul << 32)


/* RAM below 4 GiB (DMA and DMA32) and above (NORMAL). */
static const struct host_ram ram[] = { { 1 * MiB, 24 * MiB }, { 4 * GiB, 4 * GiB + 24 * MiB } };
#define MAX_PFN ((4 * GiB + 24 * MiB) / FR)

/* ---- failing from any depth ------------------------------------------------------------------ */

static jmp_buf case_jmp;
static char fail_msg[480];
static const char *fail_file;
static int fail_line;

#define FAIL(...)                                                           \
    do {                                                                    \
        fail_file = __FILE__;                                               \
        fail_line = __LINE__;                                               \
        snprintf(fail_msg, sizeof(fail_msg), __VA_ARGS__);                  \
        longjmp(case_jmp, 1);                                               \
    } while (0)
#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond))                                                        \
            FAIL(__VA_ARGS__);                                              \
    } while (0)
#define EQ(a, b)                                                            \
    do {                                                                    \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                   \
        if (a_ != b_)                                                       \
            FAIL("%s = %#lx, expected %s = %#lx", #a, a_, #b, b_);        \
    } while (0)

static void run_case(void (*fn)(void))
{
    if (setjmp(case_jmp)) {
        ht_fail(fail_file, fail_line, "%s", fail_msg);
        return;
    }
    fn();
}

#define CASE(name)                                                          \
    static void c_##name(void);                                             \
    static void t_##name(void) { run_case(c_##name); }                      \
    static void c_##name(void)

/* ---- set-up, address spaces ---------------------------------------------------------------- */

#define NMM 6
static struct mm mms[NMM];
static bool used[NMM];
static uint64_t base_frames, base_live;
static uint64_t hw_faults; /* mm_hw_fault calls made by cpu_access */

static struct page *hoard[16384];
static size_t nhoard;

static uint64_t frames_now(void)
{
    return nr_free_pages() + slab_pages_held() + kmalloc_large_pages();
}

static void setup(void)
{
    mm_host_init_no_watermarks(MAX_PFN, ram, HT_COUNT(ram));
    kmem_cache_init();
    memset(used, 0, sizeof(used));
    mm_tlb_flush = NULL;
    mm_kernel_share = NULL;
    mmu32_mirror_user = false;
    nhoard = 0;
    hw_faults = 0;
    CHECK(mm_zero_page_init() == 0, "no zero page");
    CHECK(mm_zero_page() < TOP, "zero page above 4 GiB");
    base_frames = frames_now();
    base_live = slab_live_objects();
}

static struct mm *new32(void)
{
    for (int i = 0; i < NMM; i++) {
        if (used[i])
            continue;
        memset(&mms[i], 0x5a, sizeof(mms[i]));
        int err = mm_init_user32(&mms[i]);
        CHECK(err == 0, "mm_init_user32: %d", err);
        CHECK(mm_is32(&mms[i]) && mmu32_hw(&mms[i]), "mm_init_user32 gave no 32-bit mm");
        used[i] = true;
        return &mms[i];
    }
    FAIL("no free mm slot");
}

/* fork into a free slot: mm_fork's result; *out NULL on failure. */
static int fork32(struct mm *parent, bool eager, struct mm **out)
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
    FAIL("no free mm slot");
}

static void drop(struct mm *mm)
{
    mm_destroy(mm);
    used[mm - mms] = false;
}

/* ---- raw i386 entries -------------------------------------------------------------------------- */

/* tab, pde_ptr, pte_of and i386_allows, the raw oracle shared with
 * fuzz_mmu32, are in tests/shared/mmu32_oracle.h. */

/* The hw leaf of va: 0 and *prot, or pt_walk's error. */
static int hw_leaf(const struct mm *mm, uint64_t va, uint64_t *pa, unsigned *prot)
{
    struct pt_view v;
    int err = pt_walk(mmu32_hw(mm), va & ~(FR - 1), &v);
    if (err)
        return err;
    if (pa)
        *pa = v.pa;
    if (prot)
        *prot = v.prot;
    return 0;
}

/* ---- the CPU ------------------------------------------------------------------------------------ */

/* An access through hw (cpu_try, tests/shared/mmu32_oracle.h); 0 (*p points at
 * the byte), or mm_hw_fault's error. */
static int cpu_access(struct mm *mm, uint64_t va, unsigned access, uint8_t **p)
{
    CHECK(mmu32_hw(mm), "cpu_access on a mm that is not 32-bit");
    int rc = cpu_try(mm, va, access, p, &hw_faults);
    if (rc == 1)
        FAIL("access %#x at %#lx: mm_hw_fault said yes, hw still refuses (the process "
             "would be killed)", access, va);
    return rc;
}

static void uwrite(struct mm *mm, uint64_t va, uint8_t val)
{
    uint8_t *p;
    int err = cpu_access(mm, va, FAULT_USER | FAULT_WRITE, &p);
    CHECK(err == 0, "user write at %#lx: %d", va, err);
    *p = val;
}

static uint8_t uread(struct mm *mm, uint64_t va)
{
    uint8_t *p;
    int err = cpu_access(mm, va, FAULT_USER, &p);
    CHECK(err == 0, "user read at %#lx: %d", va, err);
    return *p;
}

/* ---- validators --------------------------------------------------------------------------------- */

struct raw_arg {
    const struct mm *mm;
    char *why;
    size_t size;
};

/* Every hw leaf against the raw i386 walk (independent of mmu32_check). */
static int raw_hw_leaf(const struct pt_view *hv, void *arg)
{
    struct raw_arg *r = arg;
    return hw_leaf_bad(r->mm, hv, r->why, r->size) ? -1 : 0;
}

static void raw_i386_check(const struct mm *mm)
{
    CHECK(mm->pt.root < TOP && mm_host_is_ram(mm->pt.root, FR), "directory %#lx",
          mm->pt.root);
    const uint32_t *pd = tab(mm->pt.root);
    uint32_t mirror = pt_i386_mirror_entry(mm->pt.root, mmu32_mirror_user);
    CHECK((pd[I386_MIRROR_PDE] & ~I386_PTE_A) == mirror, "mirror PDE %08x, expected %08x",
          pd[I386_MIRROR_PDE], mirror);
    uint64_t tables = 1;
    for (unsigned i = 0; i < I386_MIRROR_PDE; i++) {
        uint32_t d = pd[i];
        if (!(d & I386_PTE_P))
            continue;
        CHECK(!(d & I386_PDE_PS), "PDE %u is a 4 MiB page (%08x)", i, d);
        uint64_t tpa = pte_addr(d);
        CHECK(mm_host_is_ram(tpa, FR) && page_count(pfn_to_page(tpa / FR)) >= 1,
              "PDE %u: table %#lx is not an allocated frame", i, tpa);
        tables++;
        const uint32_t *t = tab(tpa);
        for (unsigned j = 0; j < I386_ENTRIES; j++) {
            if (!(t[j] & I386_PTE_P))
                continue;
            uint64_t pa = pte_addr(t[j]);
            CHECK(mm_host_is_ram(pa, FR) && page_count(pfn_to_page(pa / FR)) >= 1,
                  "PTE %u/%u: frame %#lx is not an allocated frame", i, j, pa);
        }
    }
    EQ(tables, mm->pt.nr_tables);
}

/* The allocator-wide validators (node_check walks every frame of the node,
 * slab_check every slab): the random case runs them every 32 steps. */
static bool light;

static void check_all(void)
{
    char why[256];
    struct mm *live[NMM];
    size_t n = 0;
    for (int i = 0; i < NMM; i++) {
        if (!used[i])
            continue;
        struct mm *mm = &mms[i];
        CHECK(mm_is32(mm), "mm %d is not 32-bit", i);
        CHECK(mm_check_consistency(mm, why, sizeof(why)) == 0, "mm %d: %s", i, why);
        CHECK(pt_check(&mm->pt, why, sizeof(why)) == 0, "mm %d: i386 pt_check: %s", i, why);
        CHECK(pt_check(mmu32_hw(mm), why, sizeof(why)) == 0, "mm %d: hw pt_check: %s", i, why);
        CHECK(mmu32_check(mm, why, sizeof(why)) == 0, "mm %d: mmu32_check: %s", i, why);
        struct raw_arg r = { mm, why, sizeof(why) };
        CHECK(pt_for_each(mmu32_hw(mm), 0, TOP, raw_hw_leaf, &r) == 0, "mm %d: raw: %s", i, why);
        raw_i386_check(mm);
        live[n++] = mm;
    }
    CHECK(mm_check_frames(live, n, why, sizeof(why)) == 0, "mm_check_frames: %s", why);
    if (!light) {
        CHECK(node_check(why, sizeof(why)) == 0, "node_check: %s", why);
        CHECK(slab_check(why, sizeof(why)) == 0, "slab_check: %s", why);
    }
    CHECK(mm_host_node.errors == 0, "allocator errors: %s", mm_host_last_report());
}

static void give_back(size_t n)
{
    while (n-- && nhoard)
        __free_pages(hoard[--nhoard], 0);
}

/* Take every frame below 4 GiB (DMA and DMA32); returns how many. */
static size_t exhaust_dma32(void)
{
    struct page *p;
    size_t before = nhoard;
    while ((p = alloc_pages(GFP_DMA32 | __GFP_MEMALLOC | __GFP_NOWARN, 0))) {
        CHECK(nhoard < HT_COUNT(hoard), "hoard too small");
        CHECK(page_to_phys(p) < TOP, "GFP_DMA32 gave %#lx", page_to_phys(p));
        hoard[nhoard++] = p;
    }
    return nhoard - before;
}

static void teardown(void)
{
    give_back(nhoard);
    for (int i = 0; i < NMM; i++)
        if (used[i])
            drop(&mms[i]);
    check_all();
    CHECK(frames_now() == base_frames, "%lu frames free or in slabs, %lu before: leak",
          frames_now(), base_frames);
    CHECK(slab_live_objects() == base_live, "%lu slab objects live, %lu before",
          slab_live_objects(), base_live);
    mmu32_mirror_user = false;
}

static uint64_t xmmap(struct mm *mm, uint64_t addr, uint64_t len, unsigned prot, unsigned flags,
                      const struct vm_file *f)
{
    uint64_t got = 0;
    int err = mm_mmap(mm, addr, len, prot, flags | MAP_FIXED, f, 0, &got);
    CHECK(err == 0 && got == addr, "mmap %#lx+%#lx: %d, got %#lx", addr, len, err,
          got);
    return got;
}

#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define SHANON (MAP_SHARED | MAP_ANONYMOUS)

#define P_ I386_PTE_P
#define A_ I386_PTE_A
#define D_ I386_PTE_D
#define RW_ I386_PTE_RW

/* The PTE's P, R/W, A, D bits must be exactly `want` (of those four). */
#define BITS(mm, va, want)                                                  \
    do {                                                                    \
        uint32_t e_ = pte_of(mm, va) & (P_ | RW_ | A_ | D_);                \
        if (e_ != (want))                                                   \
            FAIL("PTE of %#lx: P/RW/A/D %#x, expected %#x (full %08x)",    \
                 (va), e_, (unsigned)(want), pte_of(mm, va));          \
    } while (0)

static uint8_t file_data[3 * 4096 + 100];
static const struct vm_file file = { "/bin/data", file_data, sizeof(file_data) };

static void init_file(void)
{
    for (size_t i = 0; i < sizeof(file_data); i++)
        file_data[i] = (uint8_t)(i * 13 + 7 + i / 4096);
}

/* ---- 1. accessed and dirty, exact --------------------------------------------------------------------- */

CASE(ad_exact)
{
    setup();
    struct mm *m = new32();
    uint64_t a = 0x10000000;
    xmmap(m, a, 8 * FR, RW, ANON, NULL);
    check_all();
    EQ(pte_of(m, a) & P_, 0);
    uint64_t mf = m->minor_faults, hf0 = hw_faults;

    /* A read: the zero page, accessed, clean, one fault (one touch, one
     * CPU fault: the generic handler's and the derived entry's work are
     * done in the same one). */
    EQ(uread(m, a + 17), 0);
    BITS(m, a, P_ | A_);
    EQ(pte_addr(pte_of(m, a)), mm_zero_page());
    CHECK(*pde_ptr(m, a) & A_, "PDE not accessed after a read");
    EQ(m->minor_faults, mf + 1);
    EQ(hw_faults, hf0 + 1);
    unsigned prot;
    EQ(hw_leaf(m, a, NULL, &prot), 0);
    CHECK(!(prot & PT_W) && (prot & PT_U), "hw prot %#x after a read", prot);
    check_all();

    /* A write: CoW from the zero page, dirty, one more fault. */
    uwrite(m, a + 17, 0x5a);
    BITS(m, a, P_ | RW_ | A_ | D_);
    CHECK(pte_addr(pte_of(m, a)) != mm_zero_page(), "still the zero page");
    EQ(m->minor_faults, mf + 2);
    EQ(hw_faults, hf0 + 2);
    EQ(hw_leaf(m, a, NULL, &prot), 0);
    CHECK(prot & PT_W, "hw not writable after a write");
    check_all();

    /* Another write, and a read: nothing to do, no fault of any kind. */
    uint64_t hf = hw_faults;
    uwrite(m, a + 18, 0x5b);
    EQ(uread(m, a + 17), 0x5a);
    EQ(m->minor_faults, mf + 2);
    EQ(hw_faults, hf);

    /* A page first written: A and D at once, one fault, of each kind. */
    hf = hw_faults;
    uwrite(m, a + FR, 1);
    BITS(m, a + FR, P_ | RW_ | A_ | D_);
    EQ(m->minor_faults, mf + 3);
    EQ(hw_faults, hf + 1);

    /* The kernel's paths. */
    EQ(mm_prepare_write(m, a + 2 * FR + 100, 10), 0);
    BITS(m, a + 2 * FR, P_ | RW_ | A_ | D_);
    EQ(m->minor_faults, mf + 4);
    EQ(hw_leaf(m, a + 2 * FR, NULL, &prot), 0);
    CHECK(prot & PT_W, "hw not writable after mm_prepare_write");
    EQ(mm_prepare_read(m, a + 3 * FR + 5, 1), 0);
    BITS(m, a + 3 * FR, P_ | A_);
    EQ(m->minor_faults, mf + 5);
    /* A user read of pages the kernel prepared: hw is filled, no fault. */
    hf = hw_faults;
    EQ(uread(m, a + 2 * FR), 0);
    EQ(uread(m, a + 3 * FR), 0);
    EQ(hw_faults, hf);
    /* Then a user write of the page prepared for reading: CoW, dirty. */
    uwrite(m, a + 3 * FR, 3);
    BITS(m, a + 3 * FR, P_ | RW_ | A_ | D_);
    EQ(m->minor_faults, mf + 6);

    /* mm_write / mm_read: prepare_write dirties, prepare_read does not. */
    uint8_t buf[3] = { 7, 8, 9 }, back[3];
    EQ(mm_write(m, a + 4 * FR + FR - 1, buf, 3), 0); /* two pages */
    BITS(m, a + 4 * FR, P_ | RW_ | A_ | D_);
    BITS(m, a + 5 * FR, P_ | RW_ | A_ | D_);
    EQ(mm_read(m, back, a + 4 * FR + FR - 1, 3), 0);
    CHECK(memcmp(buf, back, 3) == 0, "mm_read gave other bytes");
    EQ(mm_read(m, back, a + 6 * FR, 3), 0);
    BITS(m, a + 6 * FR, P_ | A_);
    EQ(uread(m, a + 4 * FR + FR - 1), 7);
    EQ(uread(m, a + 5 * FR + 1), 9);

    /* Not executable: soft NX in the PTE, refused by hw and by the fault. */
    CHECK(pte_of(m, a) & I386_PTE_SOFT_NX, "RW page without soft NX");
    EQ(cpu_access(m, a, FAULT_USER | FAULT_EXEC, NULL), -EFAULT);
    /* An untouched page stays untouched by all this. */
    EQ(pte_of(m, a + 7 * FR), 0);
    check_all();

    /* An executable page: exec sets A only. */
    uint64_t x = 0x10400000;
    xmmap(m, x, FR, PROT_READ | PROT_EXEC, MAP_PRIVATE, &file);
    mf = m->minor_faults;
    EQ(cpu_access(m, x + 3, FAULT_USER | FAULT_EXEC, NULL), 0);
    BITS(m, x, P_ | A_);
    CHECK(!(pte_of(m, x) & I386_PTE_SOFT_NX), "executable page with soft NX");
    EQ(m->minor_faults, mf + 1);
    EQ(hw_leaf(m, x, NULL, &prot), 0);
    CHECK((prot & PT_X) && !(prot & PT_W), "hw prot %#x of an r-x page", prot);
    EQ(uread(m, x + 3), file_data[3]);
    EQ(cpu_access(m, x, FAULT_USER | FAULT_WRITE, NULL), -EFAULT);
    BITS(m, x, P_ | A_);
    check_all();
    teardown();
}

/* ---- 2. clean writable pages: hw read-only until the first write ------------------------------------- */

CASE(clean_writable)
{
    init_file();
    setup();
    struct mm *m = new32();
    unsigned prot;

    /* Shared anonymous: a read maps the object's writable frame. */
    uint64_t s = 0x20000000;
    xmmap(m, s, 3 * FR, RW, SHANON, NULL);
    uint64_t mf = m->minor_faults;
    EQ(uread(m, s), 0);
    BITS(m, s, P_ | RW_ | A_);
    EQ(m->minor_faults, mf + 1);
    EQ(hw_leaf(m, s, NULL, &prot), 0);
    CHECK(!(prot & PT_W), "a clean writable page is writable in hw (prot %#x)", prot);
    check_all();
    uint64_t hf = hw_faults;
    uwrite(m, s + 9, 0x99);
    EQ(hw_faults, hf + 1);                 /* the emulated MMU's fault... */
    EQ(m->minor_faults, mf + 1);           /* ...not the process's */
    BITS(m, s, P_ | RW_ | A_ | D_);
    EQ(hw_leaf(m, s, NULL, &prot), 0);
    CHECK(prot & PT_W, "hw not writable after the first write");
    hf = hw_faults;
    uwrite(m, s + 10, 0x9a);
    EQ(hw_faults, hf);
    check_all();

    /* mm_prepare_read on a writable page: A only; then prepare_write: D,
     * without a minor fault (the PTE allows it). */
    EQ(mm_prepare_read(m, s + FR, 1), 0);
    BITS(m, s + FR, P_ | RW_ | A_);
    EQ(m->minor_faults, mf + 2);
    EQ(mm_prepare_write(m, s + FR, 1), 0);
    BITS(m, s + FR, P_ | RW_ | A_ | D_);
    EQ(m->minor_faults, mf + 2);
    check_all();

    /* Private file page, writable VMA: a read maps the copy writable, clean. */
    uint64_t f = 0x20400000;
    xmmap(m, f, 2 * FR, RW, MAP_PRIVATE, &file);
    mf = m->minor_faults;
    EQ(uread(m, f + 5), file_data[5]);
    BITS(m, f, P_ | RW_ | A_);
    EQ(m->minor_faults, mf + 1);
    EQ(hw_leaf(m, f, NULL, &prot), 0);
    CHECK(!(prot & PT_W), "clean private file page writable in hw");
    uint64_t frame = pte_addr(pte_of(m, f));
    hf = hw_faults;
    uwrite(m, f + 5, 0x42);
    EQ(hw_faults, hf + 1);
    EQ(m->minor_faults, mf + 1);
    BITS(m, f, P_ | RW_ | A_ | D_);
    EQ(pte_addr(pte_of(m, f)), frame);
    EQ(uread(m, f + 6), file_data[6]);
    check_all();

    /* mprotect keeps A and D; the hw entry goes. */
    EQ(mm_mprotect(m, f, FR, PROT_READ), 0);
    BITS(m, f, P_ | A_ | D_);
    EQ(hw_leaf(m, f, NULL, NULL), -ENOENT);
    check_all();
    EQ(cpu_access(m, f, FAULT_USER | FAULT_WRITE, NULL), -EFAULT);
    EQ(uread(m, f + 5), 0x42);
    EQ(mm_mprotect(m, f, FR, RW), 0);
    BITS(m, f, P_ | A_ | D_); /* private: R/W back on the next write fault */
    check_all();
    mf = m->minor_faults;
    uwrite(m, f + 5, 0x43);
    EQ(m->minor_faults, mf + 1); /* the generic write fault (ours alone: no copy) */
    BITS(m, f, P_ | RW_ | A_ | D_);
    EQ(pte_addr(pte_of(m, f)), frame);

    /* A clean shared page through mprotect read-only then read-write: R/W
     * comes back at once (shared), D stays clear until a write. */
    EQ(uread(m, s + 2 * FR), 0);
    BITS(m, s + 2 * FR, P_ | RW_ | A_);
    EQ(mm_mprotect(m, s + 2 * FR, FR, PROT_READ), 0);
    BITS(m, s + 2 * FR, P_ | A_);
    EQ(mm_mprotect(m, s + 2 * FR, FR, RW), 0);
    BITS(m, s + 2 * FR, P_ | RW_ | A_);
    EQ(hw_leaf(m, s + 2 * FR, NULL, NULL), -ENOENT);
    check_all();
    mf = m->minor_faults;
    EQ(uread(m, s + 2 * FR), 0);
    EQ(m->minor_faults, mf); /* refilled by the emulated MMU */
    EQ(hw_leaf(m, s + 2 * FR, NULL, &prot), 0);
    CHECK(!(prot & PT_W), "hw writable while D is clear");
    uwrite(m, s + 2 * FR, 1);
    EQ(m->minor_faults, mf);
    BITS(m, s + 2 * FR, P_ | RW_ | A_ | D_);
    check_all();
    teardown();
}

/* ---- 3. fork and copy-on-write --------------------------------------------------------------------------- */

CASE(fork_cow)
{
    setup();
    struct mm *p = new32(), *c;
    uint64_t x = 0x10000000, z = 0x20000000, y = 0x30000000;
    xmmap(p, x, 2 * FR, RW, ANON, NULL);
    xmmap(p, z, FR, RW, ANON, NULL);
    xmmap(p, y, FR, RW, SHANON, NULL);
    uwrite(p, x, 0x11);
    EQ(uread(p, x + FR), 0);
    uwrite(p, z, 0x22);
    uwrite(p, y, 0x33);
    unsigned prot;
    EQ(hw_leaf(p, x, NULL, &prot), 0);
    CHECK(prot & PT_W, "parent's written page not writable in hw");
    check_all();

    EQ(fork32(p, false, &c), 0);
    CHECK(mm_is32(c) && mmu32_hw(c) && mmu32_hw(c) != mmu32_hw(p), "child is not 32-bit");
    CHECK(mm_cr3(c) != mm_cr3(p), "same CR3");
    check_all();
    uint64_t frame = pte_addr(pte_of(p, x));
    BITS(p, x, P_ | A_ | D_);
    BITS(c, x, P_ | A_ | D_);
    EQ(pte_addr(pte_of(c, x)), frame);
    BITS(c, x + FR, P_ | A_);
    BITS(p, y, P_ | RW_ | A_ | D_);
    BITS(c, y, P_ | RW_ | A_ | D_);
    /* No stale writable entry in the parent's hw. */
    if (hw_leaf(p, x, NULL, &prot) == 0)
        CHECK(!(prot & PT_W), "parent's hw still writable at %#lx after fork", x);
    if (hw_leaf(p, z, NULL, &prot) == 0)
        CHECK(!(prot & PT_W), "parent's hw still writable at %#lx after fork", z);
    EQ(pt_check(mmu32_hw(c), (char[64]){ 0 }, 64), 0);

    /* The parent writes: a real fault, a copy, R/W and D. */
    uint64_t mf = p->minor_faults, hf = hw_faults;
    uwrite(p, x, 0x44);
    CHECK(hw_faults > hf, "the parent's write after fork took no fault");
    EQ(p->minor_faults, mf + 1);
    BITS(p, x, P_ | RW_ | A_ | D_);
    CHECK(pte_addr(pte_of(p, x)) != frame, "no copy for the parent");
    check_all();

    /* The child reads the old value (an emulated fault only), then writes:
     * the frame is its alone now, no copy. */
    mf = c->minor_faults;
    EQ(uread(c, x), 0x11);
    EQ(c->minor_faults, mf);
    uwrite(c, x, 0x55);
    EQ(c->minor_faults, mf + 1);
    BITS(c, x, P_ | RW_ | A_ | D_);
    EQ(pte_addr(pte_of(c, x)), frame);
    EQ(uread(p, x), 0x44);
    EQ(uread(c, x), 0x55);
    /* The zero page in both: a write in the child is a CoW from zero. */
    uwrite(c, x + FR, 0x66);
    EQ(uread(p, x + FR), 0);
    BITS(p, x + FR, P_ | A_);
    BITS(c, x + FR, P_ | RW_ | A_ | D_);
    /* Shared: writes seen on both sides, no minor fault (R/W and D kept). */
    mf = c->minor_faults;
    uwrite(c, y, 0x77);
    EQ(c->minor_faults, mf);
    EQ(uread(p, y), 0x77);
    check_all();

    /* The child goes; the parent's other page is its own again. */
    drop(c);
    check_all();
    mf = p->minor_faults;
    frame = pte_addr(pte_of(p, z));
    uwrite(p, z, 0x23);
    EQ(p->minor_faults, mf + 1);
    EQ(pte_addr(pte_of(p, z)), frame);
    BITS(p, z, P_ | RW_ | A_ | D_);
    check_all();

    /* Eager fork: the child's copies are writable, A/D copied; the
     * parent keeps R/W and its writable hw entries. */
    EQ(fork32(p, true, &c), 0);
    CHECK(mm_is32(c), "eager child not 32-bit");
    check_all();
    BITS(p, x, P_ | RW_ | A_ | D_);
    BITS(c, x, P_ | RW_ | A_ | D_);
    CHECK(pte_addr(pte_of(c, x)) != pte_addr(pte_of(p, x)), "eager child shares a frame");
    hf = hw_faults;
    uwrite(p, x, 0x45);
    EQ(hw_faults, hf);
    mf = c->minor_faults;
    EQ(uread(c, x), 0x44);
    uwrite(c, x, 0x56);
    EQ(c->minor_faults, mf);
    EQ(uread(p, x), 0x45);
    check_all();
    drop(c);

    /* fork failing half-way: the parent's first VMA was made read-only,
     * the second needs a table that is not there.  Its hw must not keep
     * writable entries (pt_clone flushes even on failure). */
    uwrite(p, x, 0x46);
    uwrite(p, z, 0x24);
    check_all();
    size_t got = exhaust_dma32();
    CHECK(got > 10, "only %zu DMA32 frames", got);
    give_back(2); /* the child's directory and the table for x */
    int err = fork32(p, false, &c);
    EQ(err, -ENOMEM);
    check_all();
    if (hw_leaf(p, x, NULL, &prot) == 0)
        CHECK(!(prot & PT_W) || (pte_of(p, x) & RW_), "stale writable hw entry after a failed "
              "fork (PTE %08x)", pte_of(p, x));
    give_back(nhoard);
    mf = p->minor_faults;
    frame = pte_addr(pte_of(p, x));
    uwrite(p, x, 0x47);
    EQ(pte_addr(pte_of(p, x)), frame);
    EQ(uread(p, x), 0x47);
    EQ(uread(p, z), 0x24);
    check_all();
    teardown();
}

/* ---- 4. below 4 GiB, and running out of it --------------------------------------------------------------- */

static int below_leaf(const struct pt_view *v, void *arg)
{
    (void)arg;
    return v->pa + v->size > TOP ? -1 : 0;
}

CASE(below_4g)
{
    init_file();
    setup();
    /* The node really has usable memory above 4 GiB. */
    struct page *hi = alloc_pages(GFP_KERNEL, 0);
    CHECK(hi && page_to_phys(hi) >= TOP, "GFP_KERNEL page at %#lx",
          hi ? page_to_phys(hi) : 0ul);
    __free_pages(hi, 0);

    struct mm *m = new32(), *c;
    uint64_t a = 0x08000000 - 20 * FR; /* 40 pages across a PDE boundary */
    xmmap(m, a, 40 * FR, RW, ANON, NULL);
    xmmap(m, 0x30000000, 4 * FR, RW, SHANON, NULL);
    xmmap(m, 0x40000000, 3 * FR, PROT_READ, MAP_PRIVATE, &file);
    for (unsigned i = 0; i < 40; i++)
        uwrite(m, a + i * FR, (uint8_t)i);
    for (unsigned i = 0; i < 4; i++)
        uwrite(m, 0x30000000 + i * FR, (uint8_t)(i + 100));
    for (unsigned i = 0; i < 3; i++)
        EQ(uread(m, 0x40000000 + i * FR), file_data[i * FR]);
    EQ(fork32(m, false, &c), 0);
    for (unsigned i = 0; i < 40; i += 2)
        uwrite(c, a + i * FR, (uint8_t)(i + 50));
    check_all();
    for (int i = 0; i < NMM; i++) {
        if (!used[i])
            continue;
        CHECK(mms[i].pt.root < TOP, "directory above 4 GiB");
        CHECK(pt_for_each(&mms[i].pt, 0, MM_VA_END_32, below_leaf, NULL) == 0,
              "a frame above 4 GiB");
    }
    /* The hw tables are plain kernel allocations (above 4 GiB here). */
    CHECK(mmu32_hw(m)->root >= TOP, "hw root %#lx: the node does not separate the zones",
          mmu32_hw(m)->root);
    drop(c);

    /* Out of DMA32 frames. */
    uint64_t b = 0x08000000 + 20 * FR; /* right after a: same table */
    xmmap(m, b, 4 * FR, RW, ANON, NULL);
    uint64_t far = 0x50000000;         /* a PDE without a table */
    xmmap(m, far, FR, RW, ANON, NULL);
    xmmap(m, 0x60000000, FR, RW, SHANON, NULL);
    check_all();
    uint64_t before = frames_now();
    size_t got = exhaust_dma32();
    CHECK(got > 100, "only %zu DMA32 frames", got);
    uint64_t mf = m->minor_faults;
    EQ(cpu_access(m, b, FAULT_USER | FAULT_WRITE, NULL), -ENOMEM);
    EQ(pte_of(m, b), 0);
    EQ(m->minor_faults, mf);
    check_all();
    /* A read needs no frame (the zero page, in an existing table). */
    EQ(uread(m, b + FR), 0);
    BITS(m, b + FR, P_ | A_);
    /* Writing it needs one: refused, nothing changed, D still clear. */
    EQ(cpu_access(m, b + FR, FAULT_USER | FAULT_WRITE, NULL), -ENOMEM);
    BITS(m, b + FR, P_ | A_);
    EQ(pte_addr(pte_of(m, b + FR)), mm_zero_page());
    /* A table is a frame too. */
    EQ(cpu_access(m, far, FAULT_USER, NULL), -ENOMEM);
    EQ(*pde_ptr(m, far) & P_, 0);
    EQ(mm_prepare_write(m, b + 2 * FR, 1), -ENOMEM);
    EQ(cpu_access(m, 0x60000000, FAULT_USER, NULL), -ENOMEM);
    /* The CoW of a written page of the parent after a (failing) fork. */
    EQ(fork32(m, false, &c), -ENOMEM);
    struct mm spare;
    memset(&spare, 0, sizeof(spare));
    EQ(mm_init_user32(&spare), -ENOMEM);
    EQ(uread(m, a + 3 * FR), 3); /* what was there still works */
    uwrite(m, a + 3 * FR, 33);
    check_all();
    give_back(nhoard);
    /* (The hw tables of the fills since are kernel frames: not compared.) */
    CHECK(frames_now() <= before, "more frames free than before exhaustion");
    /* Everything works again. */
    uwrite(m, b, 1);
    uwrite(m, b + FR, 2);
    BITS(m, b + FR, P_ | RW_ | A_ | D_);
    uwrite(m, far, 3);
    EQ(mm_prepare_write(m, b + 2 * FR, 1), 0);
    EQ(uread(m, 0x60000000), 0);
    EQ(fork32(m, false, &c), 0);
    EQ(uread(c, far), 3);
    EQ(uread(c, a + 3 * FR), 33);
    check_all();
    for (int i = 0; i < NMM; i++)
        if (used[i])
            CHECK(pt_for_each(&mms[i].pt, 0, MM_VA_END_32, below_leaf, NULL) == 0,
                  "a frame above 4 GiB");
    teardown();
}

/*
 * No memory for the hw tables themselves (every frame taken, above 4 GiB
 * too): a child after fork has i386 PTEs and empty hw, so its first
 * access needs hw tables.  The access fails with -ENOMEM, nothing breaks
 * and nothing leaks, and it is exact: a failed access records neither
 * A nor D, and counts no minor fault (mmu32_fill writes A/D only once
 * the hw entry is there; mm_fault_why counts only a complete fault).
 */
CASE(hw_oom)
{
    setup();
    struct mm *m = new32(), *c;
    uint64_t y = 0x30000000, x = 0x10000000;
    xmmap(m, y, FR, RW, SHANON, NULL);
    xmmap(m, x, FR, RW, ANON, NULL);
    EQ(uread(m, y), 0);
    uwrite(m, x, 1);
    EQ(fork32(m, false, &c), 0);
    BITS(c, y, P_ | RW_ | A_);
    /* As the OS may: clear the child's A, to see what a failed fill records. */
    tab(pte_addr(*pde_ptr(c, y)))[pte_index(y)] &= ~A_;
    tab(pte_addr(*pde_ptr(c, x)))[pte_index(x)] &= ~A_;
    struct page *pg;
    while ((pg = alloc_pages(__GFP_MEMALLOC | __GFP_NOWARN, 0))) {
        CHECK(nhoard < HT_COUNT(hoard), "hoard too small");
        hoard[nhoard++] = pg;
    }
    uint64_t mf = c->minor_faults;
    EQ(cpu_access(c, y, FAULT_USER | FAULT_WRITE, NULL), -ENOMEM);
    uint32_t ey = pte_of(c, y);
    uint64_t dmy = c->minor_faults - mf;
    mf = c->minor_faults;
    EQ(cpu_access(c, x, FAULT_USER, NULL), -ENOMEM);
    uint32_t ex = pte_of(c, x);
    uint64_t dmx = c->minor_faults - mf;
    EQ(mm_prepare_read(c, x, 1), -ENOMEM);
    EQ(mm_prepare_write(c, y, 1), -ENOMEM);
    EQ(hw_leaf(c, y, NULL, NULL), -ENOENT);
    /* (mm_check_consistency needs memory for its scratch array: the
     * validators that do not, here, all of them after give_back.) */
    char why[200];
    for (int i = 0; i < NMM; i++)
        if (used[i])
            CHECK(mmu32_check(&mms[i], why, sizeof(why)) == 0 &&
                  pt_check(&mms[i].pt, why, sizeof(why)) == 0, "mm %d: %s", i, why);
    give_back(nhoard);
    check_all();
    CHECK(!(ey & D_), "failed write (hw -ENOMEM) left D set: PTE %08x", ey);
    CHECK(!(ex & A_), "failed read (hw -ENOMEM) left A set: PTE %08x", ex);
    CHECK(dmy == 0 && dmx == 0, "failed accesses counted %lu and %lu minor faults",
          dmy, dmx);
    give_back(nhoard);
    uwrite(c, y, 9);
    EQ(uread(m, y), 9);
    EQ(uread(c, x), 1);
    BITS(c, y, P_ | RW_ | A_ | D_);
    check_all();
    teardown();
}

/* ---- 5. the mirror -------------------------------------------------------------------------------------- */

static uint64_t mirror_va(unsigned pde)
{
    return I386_MIRROR_BASE + (uint64_t)pde * FR;
}

CASE(mirror)
{
    setup();
    mmu32_mirror_user = true;
    struct mm *m = new32();
    const uint32_t *pd = tab(m->pt.root);
    EQ(pd[I386_MIRROR_PDE], pt_i386_mirror_entry(m->pt.root, true));
    CHECK(pd[I386_MIRROR_PDE] & I386_PTE_US, "mirror not user with mirror=ro");
    xmmap(m, 0x00400000, 2 * FR, RW, ANON, NULL); /* PDE 1 */
    xmmap(m, 0x00c00000, FR, RW, ANON, NULL);     /* PDE 3 */
    uwrite(m, 0x00400000, 1);
    EQ(uread(m, 0x00401000), 0);
    uwrite(m, 0x00c00000, 3);
    check_all();

    /* The page table of PDE 1, as the process sees it. */
    uint8_t *p;
    EQ(cpu_access(m, mirror_va(1), FAULT_USER, &p), 0);
    uint64_t pa;
    unsigned prot;
    EQ(hw_leaf(m, mirror_va(1), &pa, &prot), 0);
    EQ(pa, pte_addr(pd[1]));
    CHECK((prot & PT_U) && !(prot & PT_W) && !(prot & PT_X), "mirror hw prot %#x", prot);
    const uint32_t *seen = (const uint32_t *)p;
    EQ(seen[0], pte_of(m, 0x00400000));
    EQ(seen[1], pte_of(m, 0x00401000));
    EQ(seen[2], 0);
    EQ(pte_addr(seen[0]), pte_addr(pte_of(m, 0x00400000)));
    CHECK(pd[1] & A_, "PDE 1 not accessed after its page table was read as a page");
    CHECK(pd[I386_MIRROR_PDE] & A_, "mirror PDE not accessed");
    /* A byte in the middle: the PTE of 0x00401000 read byte by byte. */
    uint8_t *b1;
    EQ(cpu_access(m, mirror_va(1) + 4, FAULT_USER, &b1), 0);
    EQ(*b1, (uint8_t)pte_of(m, 0x00401000));
    /* The directory. */
    EQ(cpu_access(m, I386_MIRROR_PD, FAULT_USER, &p), 0);
    EQ(hw_leaf(m, I386_MIRROR_PD, &pa, NULL), 0);
    EQ(pa, m->pt.root);
    seen = (const uint32_t *)p;
    EQ(seen[1], pd[1]);
    EQ(seen[3], pd[3]);
    EQ(seen[2], 0);
    EQ(pte_addr(seen[I386_MIRROR_PDE]), m->pt.root);
    EQ(cpu_access(m, mirror_va(3), FAULT_USER, NULL), 0);
    check_all();

    /* Writes and executions are refused; a missing table is too. */
    EQ(mm_hw_fault(m, mirror_va(1), FAULT_USER | FAULT_WRITE), -EFAULT);
    EQ(cpu_access(m, mirror_va(1), FAULT_USER | FAULT_WRITE, NULL), -EFAULT);
    EQ(cpu_access(m, mirror_va(1), FAULT_WRITE, NULL), -EFAULT); /* the kernel's, too */
    EQ(cpu_access(m, I386_MIRROR_PD, FAULT_USER | FAULT_WRITE, NULL), -EFAULT);
    EQ(cpu_access(m, mirror_va(1), FAULT_USER | FAULT_EXEC, NULL), -EFAULT);
    EQ(cpu_access(m, mirror_va(2), FAULT_USER, NULL), -EFAULT);
    EQ(hw_leaf(m, mirror_va(2), NULL, NULL), -ENOENT);
    check_all();

    /* Unmap everything under PDE 1: its table goes, so does its mirror page. */
    uint64_t old_table = pte_addr(pd[1]);
    EQ(mm_munmap(m, 0x00400000, 2 * FR), 0);
    EQ(pd[1] & P_, 0);
    EQ(hw_leaf(m, mirror_va(1), NULL, NULL), -ENOENT);
    EQ(hw_leaf(m, mirror_va(3), NULL, NULL), 0); /* another PDE's stays */
    check_all();
    EQ(cpu_access(m, mirror_va(1), FAULT_USER, NULL), -EFAULT);
    EQ(cpu_access(m, mirror_va(1), 0, NULL), -EFAULT);
    /* The directory page shows PDE 1 gone. */
    EQ(cpu_access(m, I386_MIRROR_PD, FAULT_USER, &p), 0);
    EQ(((const uint32_t *)p)[1], 0);
    /* A new table for PDE 1 (maybe another frame): the mirror follows. */
    xmmap(m, 0x00500000, FR, RW, ANON, NULL);
    uwrite(m, 0x00500000, 5);
    EQ(cpu_access(m, mirror_va(1), FAULT_USER, &p), 0);
    EQ(hw_leaf(m, mirror_va(1), &pa, NULL), 0);
    EQ(pa, pte_addr(pd[1]));
    EQ(((const uint32_t *)p)[pte_index(0x00500000)], pte_of(m, 0x00500000));
    (void)old_table;
    /* Fork: the child's mirror is its own directory. */
    struct mm *c;
    EQ(fork32(m, false, &c), 0);
    EQ(cpu_access(c, I386_MIRROR_PD, FAULT_USER, &p), 0);
    EQ(hw_leaf(c, I386_MIRROR_PD, &pa, NULL), 0);
    EQ(pa, c->pt.root);
    EQ(cpu_access(c, mirror_va(1), FAULT_USER, &p), 0);
    EQ(((const uint32_t *)p)[pte_index(0x00500000)], pte_of(c, 0x00500000));
    /* The parent's CoW break shows in its mirror (same table, new PTE). */
    EQ(cpu_access(m, mirror_va(1), FAULT_USER, &p), 0);
    uwrite(m, 0x00500000, 6);
    EQ(((const uint32_t *)p)[pte_index(0x00500000)], pte_of(m, 0x00500000));
    CHECK(((const uint32_t *)p)[pte_index(0x00500000)] & D_, "mirror shows no D");
    check_all();
    drop(c);
    drop(m);
    check_all();

    /* compat32.mirror off: supervisor-only. */
    mmu32_mirror_user = false;
    m = new32();
    pd = tab(m->pt.root);
    EQ(pd[I386_MIRROR_PDE], pt_i386_mirror_entry(m->pt.root, false));
    CHECK(!(pd[I386_MIRROR_PDE] & I386_PTE_US), "mirror user-readable without mirror=ro");
    xmmap(m, 0x00400000, FR, RW, ANON, NULL);
    uwrite(m, 0x00400000, 1);
    EQ(mm_hw_fault(m, mirror_va(1), FAULT_USER), -EFAULT);
    EQ(cpu_access(m, mirror_va(1), FAULT_USER, NULL), -EFAULT);
    EQ(cpu_access(m, I386_MIRROR_PD, FAULT_USER, NULL), -EFAULT);
    check_all();
    EQ(cpu_access(m, mirror_va(1), 0, &p), 0); /* the kernel may */
    EQ(((const uint32_t *)p)[0], pte_of(m, 0x00400000));
    EQ(hw_leaf(m, mirror_va(1), NULL, &prot), 0);
    CHECK(!(prot & PT_U), "supervisor-only mirror is user in hw (prot %#x)", prot);
    EQ(cpu_access(m, mirror_va(1), FAULT_USER, NULL), -EFAULT); /* still refused */
    EQ(cpu_access(m, I386_MIRROR_PD, 0, NULL), 0);
    EQ(cpu_access(m, mirror_va(1), FAULT_WRITE, NULL), -EFAULT);
    check_all();
    teardown();
}

/* ---- 7. the dump ------------------------------------------------------------------------------------------ */

static char dump_buf[1 << 17];

static const char *dump(struct mm *mm, uint64_t start, uint64_t end)
{
    struct sbuf out = { dump_buf, sizeof(dump_buf), 0 };
    mmu32_dump(mm, start, end, &out);
    CHECK(out.len < sizeof(dump_buf), "dump cut");
    return dump_buf;
}

CASE(dump)
{
    init_file();
    setup();
    struct mm *m = new32();
    uint64_t a = 0x08048000, x = 0x08400000;
    xmmap(m, a, 3 * FR, RW, ANON, NULL);
    xmmap(m, x, FR, PROT_READ | PROT_EXEC, MAP_PRIVATE, &file);
    uwrite(m, a, 1);           /* PTE 72: P RW US A D NX */
    EQ(uread(m, a + FR), 0);   /* PTE 73: the zero page, P US A NX */
    EQ(cpu_access(m, x, FAULT_USER | FAULT_EXEC, NULL), 0); /* PDE 33, PTE 0: P US A */
    check_all();
    const uint32_t *pd = tab(m->pt.root);
    char want[1024];
    snprintf(want, sizeof(want),
             "page directory at %#lx (1024 PDEs), addresses 08048000-0804afff\n"
             "PDE   32  08000000  page table, frame %05x  P RW US A\n"
             "  PTE   72  08048000  frame %05x  P RW US A D NX\n"
             "  PTE   73  08049000  frame %05x  P US A NX\n",
             m->pt.root, pte_frame(pd[32]), pte_frame(pte_of(m, a)),
             pte_frame(pte_of(m, a + FR)));
    const char *got = dump(m, a, a + 3 * FR);
    CHECK(strcmp(got, want) == 0, "dump:\n%s\nexpected:\n%s", got, want);
    EQ(pte_frame(pte_of(m, a + FR)), mm_zero_page() >> 12);

    got = dump(m, 0x08000000, 0x08800000);
    snprintf(want, sizeof(want), "PDE   33  08400000  page table, frame %05x  P RW US A\n"
                                 "  PTE    0  08400000  frame %05x  P US A\n",
             pte_frame(pd[33]), pte_frame(pte_of(m, x)));
    CHECK(strstr(got, want), "no r-x page in:\n%s", got);
    CHECK(strstr(got, "PDE   32") && strstr(got, "PTE   72") && !strstr(got, "PTE   74"),
          "dump of two PDEs:\n%s", got);

    /* The mirror in the dump: PDE 1023 is the directory, read as a table. */
    got = dump(m, I386_MIRROR_BASE, TOP);
    {
        const char *l = strstr(got, "PDE 1023  ffc00000  ");
        CHECK(l, "no PDE 1023 line in:\n%s", got);
        const char *nl = strchr(l, '\n');
        CHECK(nl, "PDE 1023 line not ended");
        char line[200], fr[32];
        snprintf(line, sizeof(line), "%.*s", (int)(nl - l), l);
        snprintf(fr, sizeof(fr), "frame %05x  ", (unsigned)(m->pt.root >> 12));
        CHECK(strstr(line, "mirror") && strstr(line, fr) && strstr(line, "  P NX"),
              "PDE 1023 line: %s", line);
    }
    /* An empty range: just the header. */
    got = dump(m, 0x20000000, 0x20001000);
    CHECK(strstr(got, "\nPDE") == NULL && strstr(got, "PTE") == NULL, "empty range dumped entries:\n%s", got);
    teardown();
}

/* ---- 6. random operations against a model ---------------------------------------------------------------- */

/*
 * Up to NPROC processes (forks of the first), each over a window of
 * WPAGES pages that crosses a PDE boundary (mmap, munmap, mprotect,
 * madvise) and a heap of HPAGES pages in another PDE (brk).  The model
 * says, per page: what is mapped (kind, protection, object, file page),
 * the bytes at offsets 0 and 4095, and the A and D bits the PTE must
 * hold: A iff the page was accessed since its PTE was made, D iff it was
 * written.  A PTE is "made" by a fault (demand paging, a CoW copy: a new
 * frame), by fork (the child's copies keep the parent's bits), and keeps
 * its bits through mprotect and a write fault that only gives back R/W;
 * munmap, madvise and brk remove it.  After every step each page's PTE
 * is compared with it (present and frame changed since the last step: a
 * new PTE, with only this step's accesses), and each access's fault count
 * is predicted from the raw i386 entries before it (allowed: the emulated
 * MMU's fault only, no minor fault; not allowed: exactly one).
 */
#define NPROC 3
#define WPAGES 64
#define HPAGES 16
#define NP (WPAGES + HPAGES)
#define WIN (0x00800000ul - 32 * FR)
#define HEAP 0x02000000ul
#define MAXOBJ 64

enum kind { K_NONE, K_ANON, K_SHM, K_FILE };

struct mpage {
    uint8_t kind, prot;
    uint16_t obj;
    uint32_t idx;
    uint8_t v[2];
    struct ad_model ad; /* the accessed / dirty model (touch: 1 accessed, 2 written) */
};

struct proc {
    struct mm *mm;
    struct mpage pg[NP];
};

static struct proc procs[NPROC];
static uint8_t objv[MAXOBJ][WPAGES][2];
static struct vm_shm *objreal[MAXOBJ];
static unsigned nobj;
static const unsigned offs[2] = { 0, 4095 };
static uint64_t rng;
static struct {
    unsigned ops[16], ok_access, refused, hw_only, new_ptes, kept, forks, mirror_reads,
        tables_freed, cow;
} st;

static bool trace;
#define TRACE(...)                                                          \
    do {                                                                    \
        if (trace)                                                          \
            fprintf(stderr, __VA_ARGS__);                                   \
    } while (0)

static uint64_t rnd(uint64_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return n ? (rng * 0x2545f4914f6cdd1dul) % n : 0;
}

static uint64_t va_of(unsigned page)
{
    return page < WPAGES ? WIN + page * FR : HEAP + (page - WPAGES) * FR;
}

static uint8_t fbyte(uint64_t off)
{
    return off < sizeof(file_data) ? file_data[off] : 0;
}

static uint8_t fresh(const struct mpage *m, unsigned k)
{
    return m->kind == K_FILE ? fbyte(m->idx * FR + offs[k]) : 0;
}

static uint8_t mwant(const struct mpage *m, unsigned k)
{
    return m->kind == K_SHM ? objv[m->obj][m->idx][k] : m->v[k];
}

static bool may(const struct mpage *m, unsigned access)
{
    if (m->kind == K_NONE)
        return false;
    if (access & FAULT_WRITE)
        return m->prot & PROT_WRITE;
    if (access & FAULT_EXEC)
        return m->prot & PROT_EXEC;
    return m->prot != PROT_NONE;
}

static struct proc *pick(void)
{
    unsigned k = (unsigned)rnd(NPROC);
    for (unsigned i = 0; i < NPROC; i++)
        if (procs[(k + i) % NPROC].mm)
            return &procs[(k + i) % NPROC];
    FAIL("no process");
}

/* [s, s + n) inside one chunk (the window or the heap). */
static void range(unsigned *s, unsigned *n, bool heap_too)
{
    unsigned lo = 0, hi = WPAGES;
    if (heap_too && rnd(4) == 0)
        lo = WPAGES, hi = NP;
    *s = lo + (unsigned)rnd(hi - lo);
    *n = 1 + (unsigned)rnd(rnd(4) == 0 ? 24 : 6);
    if (*n > hi - *s)
        *n = hi - *s;
}

static const unsigned prots[] = { PROT_NONE, PROT_READ, RW, PROT_READ | PROT_EXEC,
                                  RW | PROT_EXEC, PROT_WRITE, RW, PROT_READ };

static void set_none(struct proc *pr, unsigned s, unsigned n)
{
    for (unsigned i = s; i < s + n; i++) {
        pr->pg[i].kind = K_NONE;
        pr->pg[i].prot = 0;
    }
}

static void r_mmap(struct proc *pr)
{
    unsigned s, n;
    range(&s, &n, false);
    enum kind kind = K_ANON + (unsigned)rnd(3);
    unsigned prot = prots[rnd(8)], nore = rnd(3) == 0, fo = (unsigned)rnd(4);
    if (kind == K_SHM && nobj == MAXOBJ)
        kind = K_ANON;
    unsigned flags = (kind == K_SHM ? MAP_SHARED : MAP_PRIVATE) |
                     (kind == K_FILE ? 0 : MAP_ANONYMOUS) |
                     (nore ? MAP_FIXED_NOREPLACE : MAP_FIXED);
    bool taken = false;
    for (unsigned i = s; i < s + n; i++)
        taken = taken || pr->pg[i].kind != K_NONE;
    uint64_t got = 0;
    int err = mm_mmap(pr->mm, va_of(s), n * FR, prot, flags, kind == K_FILE ? &file : NULL,
                      fo * FR, &got);
    int expect = nore && taken ? -EEXIST : 0;
    TRACE("  mmap %u+%u kind %u prot %u fo %u nore %u: %d\n", s, n, kind, prot, fo, nore, err);
    CHECK(err == expect, "mmap %u+%u kind %u: %d, expected %d", s, n, kind, err, expect);
    if (err)
        return;
    EQ(got, va_of(s));
    unsigned o = 0;
    if (kind == K_SHM) {
        o = nobj++;
        memset(objv[o], 0, sizeof(objv[o]));
        objreal[o] = vma_lookup(pr->mm, va_of(s))->shm;
    }
    for (unsigned i = 0; i < n; i++) {
        struct mpage *m = &pr->pg[s + i];
        m->kind = (uint8_t)kind;
        m->prot = (uint8_t)prot;
        m->obj = (uint16_t)o;
        m->idx = kind == K_SHM ? i : fo + i;
        m->v[0] = fresh(m, 0);
        m->v[1] = fresh(m, 1);
    }
}

static void r_munmap(struct proc *pr)
{
    unsigned s, n;
    range(&s, &n, true);
    TRACE("  munmap %u+%u\n", s, n);
    EQ(mm_munmap(pr->mm, va_of(s), n * FR), 0);
    set_none(pr, s, n);
}

static void r_mprotect(struct proc *pr)
{
    unsigned s, n, prot = prots[rnd(8)];
    range(&s, &n, true);
    int expect = 0;
    for (unsigned i = s; i < s + n; i++)
        if (pr->pg[i].kind == K_NONE)
            expect = -ENOMEM;
    int err = mm_mprotect(pr->mm, va_of(s), n * FR, prot);
    TRACE("  mprotect %u+%u %u: %d\n", s, n, prot, err);
    CHECK(err == expect, "mprotect %u+%u: %d, expected %d", s, n, err, expect);
    if (!err)
        for (unsigned i = s; i < s + n; i++)
            pr->pg[i].prot = (uint8_t)prot;
}

static void r_madvise(struct proc *pr)
{
    unsigned s, n, b = (unsigned)rnd(3);
    int advice = b == 0 ? MADV_DONTNEED : b == 1 ? MADV_FREE : MADV_WILLNEED;
    range(&s, &n, true);
    int expect = 0;
    bool hole = false;
    for (unsigned i = s; i < s + n; i++) {
        struct mpage *m = &pr->pg[i];
        if (m->kind == K_NONE) {
            hole = true;
            continue;
        }
        if (advice == MADV_FREE && m->kind != K_ANON) {
            expect = -EINVAL;
            break;
        }
    }
    if (!expect && hole)
        expect = -ENOMEM;
    int err = mm_madvise(pr->mm, va_of(s), n * FR, advice);
    TRACE("  madvise %u+%u %d: %d\n", s, n, advice, err);
    CHECK(err == expect, "madvise(%d) %u+%u: %d, expected %d", advice, s, n, err, expect);
    if (advice == MADV_WILLNEED)
        return;
    /* -EINVAL (MADV_FREE reaching a non-anonymous page): applied up to it. */
    for (unsigned i = s; i < s + n; i++) {
        struct mpage *m = &pr->pg[i];
        if (expect == -EINVAL && m->kind != K_NONE && m->kind != K_ANON)
            break;
        if (m->kind != K_NONE && m->kind != K_SHM) {
            m->v[0] = fresh(m, 0);
            m->v[1] = fresh(m, 1);
        }
    }
}

static void r_brk(struct proc *pr)
{
    uint64_t old = pr->mm->brk, want_brk = HEAP + rnd(HPAGES * FR + 1);
    unsigned old_end = (unsigned)((((old + FR - 1) & ~(FR - 1)) - HEAP) / FR);
    unsigned new_end = (unsigned)((((want_brk + FR - 1) & ~(FR - 1)) - HEAP) / FR);
    uint64_t got = mm_brk(pr->mm, want_brk);
    TRACE("  brk %#lx -> %#lx (pages %u -> %u)\n", old, want_brk, old_end, new_end);
    EQ(got, want_brk);
    if (new_end < old_end) {
        set_none(pr, WPAGES + new_end, old_end - new_end);
    } else {
        for (unsigned i = old_end; i < new_end; i++) {
            struct mpage *m = &pr->pg[WPAGES + i];
            m->kind = K_ANON;
            m->prot = RW;
            m->v[0] = m->v[1] = 0;
        }
    }
}

/* A page, mapped ones more often. */
static unsigned some_page(const struct proc *pr)
{
    unsigned page = (unsigned)rnd(NP);
    for (unsigned i = 0; i < 4 && pr->pg[page].kind == K_NONE; i++)
        page = (unsigned)rnd(NP);
    return page;
}

static void r_access(struct proc *pr, unsigned access)
{
    unsigned page = some_page(pr), k = (unsigned)rnd(2);
    uint8_t val = (uint8_t)rnd(256);
    struct mpage *m = &pr->pg[page];
    uint64_t va = va_of(page) + offs[k];
    unsigned acc = access | FAULT_USER;
    bool allowed = i386_allows(pr->mm, va, acc);
    uint64_t mf = pr->mm->minor_faults, hf = hw_faults;
    uint64_t hpa;
    unsigned hprot;
    bool hw_ok = hw_leaf(pr->mm, va, &hpa, &hprot) == 0 && hw_allows(hprot, acc);
    uint8_t *p;
    int err = cpu_access(pr->mm, va, acc, &p);
    TRACE("  access %#x page %u k %u val %#x: %d (PTE now %08x)\n", access, page, k, val, err,
          pte_of(pr->mm, va));
    CHECK(err == (may(m, access) ? 0 : -EFAULT), "access %#x to page %u (kind %u prot %u): %d",
          access, page, m->kind, m->prot, err);
    if (err) {
        st.refused++;
        EQ(pr->mm->minor_faults, mf);
        return;
    }
    st.ok_access++;
    if (hw_ok) {
        EQ(hw_faults, hf);
    } else if (allowed) {
        st.hw_only++;
    }
    CHECK(pr->mm->minor_faults == mf + (allowed ? 0 : 1),
          "access %#x to page %u: %lu minor faults, i386 entries %s it before", access, page,
          (pr->mm->minor_faults - mf), allowed ? "allowed" : "refused");
    m->ad.touch |= 1 | ((access & FAULT_WRITE) ? 2 : 0);
    if (access & FAULT_WRITE) {
        *p = val;
        if (m->kind == K_SHM)
            objv[m->obj][m->idx][k] = val;
        else
            m->v[k] = val;
    } else {
        CHECK(*p == mwant(m, k), "read of page %u byte %u: %#x, model %#x", page, offs[k], *p,
              mwant(m, k));
    }
}

/* The kernel copies into or out of the process (mm_write / mm_read). */
static void r_kernel(struct proc *pr, bool write)
{
    static uint8_t buf[4 * 4096];
    unsigned page = (unsigned)rnd(WPAGES);
    uint64_t len = 1 + rnd(3 * FR), start = va_of(page) + rnd(2) * 4095, end = start + len;
    if (end > WIN + WPAGES * FR)
        end = WIN + WPAGES * FR, len = end - start;
    unsigned acc = FAULT_USER | (write ? FAULT_WRITE : 0);
    bool ok = true;
    uint64_t faults = 0;
    unsigned first = (unsigned)((start - WIN) / FR), last = (unsigned)((end - 1 - WIN) / FR);
    for (unsigned i = first; i <= last && ok; i++) {
        ok = may(&pr->pg[i], write ? FAULT_WRITE : 0);
        if (ok)
            faults += !i386_allows(pr->mm, va_of(i), acc);
    }
    uint64_t mf = pr->mm->minor_faults;
    uint8_t val = (uint8_t)rnd(256);
    int err;
    if (write) {
        memset(buf, val, len);
        err = mm_write(pr->mm, start, buf, len);
    } else {
        err = mm_read(pr->mm, buf, start, len);
    }
    TRACE("  mm_%s %#lx+%lu val %#x: %d\n", write ? "write" : "read", start, len,
          val, err);
    CHECK(err == (ok ? 0 : -EFAULT), "mm_%s %#lx+%lu: %d", write ? "write" : "read",
          start, len, err);
    EQ(pr->mm->minor_faults, mf + faults);
    for (unsigned i = first; i <= last; i++) {
        struct mpage *m = &pr->pg[i];
        if (!may(m, write ? FAULT_WRITE : 0))
            break;
        m->ad.touch |= 1 | (write ? 2 : 0);
        /* prepare touched the pages before the refused one; nothing was copied */
        for (unsigned k = 0; k < 2 && !err; k++) {
            uint64_t at = va_of(i) + offs[k];
            if (at < start || at >= end)
                continue;
            if (write) {
                if (m->kind == K_SHM)
                    objv[m->obj][m->idx][k] = val;
                else
                    m->v[k] = val;
            } else {
                CHECK(buf[at - start] == mwant(m, k), "mm_read of page %u byte %u: %#x, "
                      "model %#x", i, offs[k], buf[at - start], mwant(m, k));
            }
        }
    }
}

static void r_fork(struct proc *pr)
{
    struct proc *c = NULL;
    for (int i = 0; i < NPROC && !c; i++)
        if (!procs[i].mm)
            c = &procs[i];
    if (!c)
        return;
    struct mm *cm;
    bool eager = rnd(4) == 0;
    EQ(fork32(pr->mm, eager, &cm), 0);
    TRACE("  fork%s -> proc %d\n", eager ? " eager" : "", (int)(c - procs));
    CHECK(mm_is32(cm), "child not 32-bit");
    c->mm = cm;
    memcpy(c->pg, pr->pg, sizeof(c->pg));
    /* The child's PTEs carry the parent's bits; their frames may differ
     * (eager copies). */
    for (unsigned i = 0; i < NP; i++) {
        uint32_t e = pte_of(cm, va_of(i));
        c->pg[i].ad.pa = (e & P_) ? pte_addr(e) : 0;
        c->pg[i].ad.touch = 0;
        CHECK(!!c->pg[i].ad.pa == !!pr->pg[i].ad.pa, "page %u present in one of parent and child",
              i);
    }
    st.forks++;
}

static void r_exit(struct proc *pr)
{
    int live = 0;
    for (int i = 0; i < NPROC; i++)
        live += procs[i].mm != NULL;
    if (live < 2)
        return;
    TRACE("  exit\n");
    drop(pr->mm);
    pr->mm = NULL;
}

/* Read (or try to write) the mirror: the tables of the window's PDEs, an
 * empty PDE, the directory. */
static void r_mirror(struct proc *pr)
{
    static const unsigned pdes[] = { 1, 2, 8, 5, I386_MIRROR_PDE };
    unsigned pde = pdes[rnd(HT_COUNT(pdes))];
    bool user = rnd(2), write = rnd(8) == 0;
    uint64_t va = mirror_va(pde) + rnd(1024) * 4;
    const uint32_t *pd = tab(pr->mm->pt.root);
    bool present = pde == I386_MIRROR_PDE || (pd[pde] & P_);
    bool ok = present && !write && (!user || mmu32_mirror_user);
    uint64_t mf = pr->mm->minor_faults;
    uint8_t *p;
    int err = cpu_access(pr->mm, va, (user ? FAULT_USER : 0) | (write ? FAULT_WRITE : 0), &p);
    TRACE("  mirror pde %u user %d write %d: %d\n", pde, user, write, err);
    CHECK(err == (ok ? 0 : -EFAULT), "mirror %s %s of PDE %u (%s): %d", user ? "user" : "kernel",
          write ? "write" : "read", pde, present ? "present" : "absent", err);
    EQ(pr->mm->minor_faults, mf);
    if (err)
        return;
    st.mirror_reads++;
    uint64_t pa;
    EQ(hw_leaf(pr->mm, va, &pa, NULL), 0);
    uint64_t want = pde == I386_MIRROR_PDE ? pr->mm->pt.root : pte_addr(pd[pde]);
    CHECK(pa == want, "mirror page of PDE %u maps %#lx, the table is %#lx", pde, pa,
          want);
    /* The word read is the entry: for a window page, its PTE. */
    uint32_t word = *(const uint32_t *)p;
    unsigned idx = (unsigned)((va & (FR - 1)) / 4);
    uint32_t entry = pde == I386_MIRROR_PDE ? pd[idx] : tab(want)[idx];
    EQ(word, entry);
}

/* After each step: the A/D model against every PTE, and the data. */
static void model_check(void)
{
    for (int i = 0; i < NPROC; i++) {
        struct proc *pr = &procs[i];
        if (!pr->mm)
            continue;
        for (unsigned p = 0; p < NP; p++) {
            struct mpage *m = &pr->pg[p];
            uint64_t va = va_of(p);
            uint32_t e = pte_of(pr->mm, va);
            uint32_t pa = (e & P_) ? pte_addr(e) : 0;
            struct vma *v = vma_lookup(pr->mm, va);
            CHECK(!!v == (m->kind != K_NONE), "proc %d page %u: VMA %s, model kind %u", i, p,
                  v ? "present" : "absent", m->kind);
            if (v)
                CHECK(v->prot == m->prot, "proc %d page %u: prot %u, model %u", i, p, v->prot,
                      m->prot);
            bool had = m->ad.pa, touched = m->ad.touch, wrote = m->ad.touch & 2;
            switch (ad_model_step(&m->ad, e)) {
            case AD_TOUCHED_ABSENT:
                FAIL("proc %d page %u accessed this step, not present", i, p);
            case AD_NEW:
                st.new_ptes++;
                st.cow += had && wrote;
                break;
            case AD_KEPT:
                st.kept += touched;
                break;
            case AD_ABSENT:
                break;
            }
            CHECK(!ad_mismatch(&m->ad, e),
                  "proc %d page %u (%#lx, kind %u prot %u): PTE %08x, model A %d D %d", i, p,
                  va, m->kind, m->prot, e, m->ad.a, m->ad.d);
            /* The bytes, without faulting. */
            const uint8_t *bytes = NULL;
            if (pa)
                bytes = mm_host_arena() + pa;
            else if (m->kind == K_SHM && vm_shm_frame(v->shm, m->idx))
                bytes = mm_host_arena() + vm_shm_frame(v->shm, m->idx);
            if (m->kind == K_NONE)
                continue;
            if (m->kind == K_SHM)
                CHECK(v->shm == objreal[m->obj], "proc %d page %u: another object", i, p);
            for (unsigned k = 0; k < 2; k++) {
                uint8_t got = bytes ? bytes[offs[k]] : fresh(m, k);
                CHECK(got == mwant(m, k), "proc %d page %u (kind %u) byte %u: %#x, model %#x",
                      i, p, m->kind, offs[k], got, mwant(m, k));
            }
        }
    }
}

static void random_run(uint64_t seed, unsigned steps, bool mirror_user)
{
    init_file();
    setup();
    trace = getenv("MMU32_TRACE") != NULL;
    rng = seed;
    mmu32_mirror_user = mirror_user;
    memset(procs, 0, sizeof(procs));
    memset(&st, 0, sizeof(st));
    nobj = 0;
    procs[0].mm = new32();
    EQ(mm_brk_init(procs[0].mm, HEAP), 0);
    for (unsigned step = 0; step < steps; step++) {
        struct proc *pr = pick();
        unsigned op = (unsigned)rnd(100);
        TRACE("step %u proc %d\n", step, (int)(pr - procs));
        unsigned tables_before = 0;
        for (int i = 0; i < NPROC; i++)
            if (procs[i].mm)
                tables_before += (unsigned)procs[i].mm->pt.nr_tables;
        if (op < 12) {
            st.ops[0]++, r_mmap(pr);
        } else if (op < 16) {
            st.ops[1]++, r_munmap(pr);
        } else if (op < 22) {
            st.ops[2]++, r_mprotect(pr);
        } else if (op < 27) {
            st.ops[3]++, r_madvise(pr);
        } else if (op < 31) {
            st.ops[4]++, r_brk(pr);
        } else if (op < 51) {
            st.ops[5]++, r_access(pr, FAULT_WRITE);
        } else if (op < 69) {
            st.ops[6]++, r_access(pr, 0);
        } else if (op < 74) {
            st.ops[7]++, r_access(pr, FAULT_EXEC);
        } else if (op < 79) {
            st.ops[8]++, r_kernel(pr, true);
        } else if (op < 83) {
            st.ops[9]++, r_kernel(pr, false);
        } else if (op < 87) {
            st.ops[10]++, r_fork(pr);
        } else if (op < 90) {
            st.ops[11]++, r_exit(pr);
        } else {
            st.ops[12]++, r_mirror(pr);
        }
        unsigned tables_after = 0;
        for (int i = 0; i < NPROC; i++)
            if (procs[i].mm)
                tables_after += (unsigned)procs[i].mm->pt.nr_tables;
        st.tables_freed += tables_after < tables_before;
        model_check();
        light = step % 32 != 31;
        check_all();
        light = false;
    }
    /* What the run went through. */
    CHECK(st.hw_only > 20 && st.forks > 5 && st.mirror_reads > 20 && st.cow > 5 &&
          st.tables_freed > 3 && st.refused > 20,
          "a thin run: hw_only %u forks %u mirror %u cow %u tables freed %u refused %u",
          st.hw_only, st.forks, st.mirror_reads, st.cow, st.tables_freed, st.refused);
    if (getenv("MMU32_VERBOSE"))
        fprintf(stderr, "seed %#lx: %u steps, accesses %u ok %u refused (%u filled by the "
                "emulated MMU only), %u new PTEs (%u CoW/re-made by a write), %u kept, %u forks, "
                "%u mirror reads, %u steps freeing tables\n", seed, steps, st.ok_access,
                st.refused, st.hw_only, st.new_ptes, st.cow, st.kept, st.forks,
                st.mirror_reads, st.tables_freed);
    for (int i = 0; i < NPROC; i++)
        procs[i].mm = NULL;
    teardown();
}

static unsigned long random_steps;

CASE(random)
{
    static const uint64_t seeds[] = { 0x9e3779b97f4a7c15ul, 0x1234567887654321ul,
                                      0xdeadbeefcafef00dul, 0x0badc0ffee0ddf00ul };
    unsigned steps = getenv("MMU32_STEPS") ? (unsigned)atoi(getenv("MMU32_STEPS")) : 2500;
    for (size_t i = 0; i < HT_COUNT(seeds); i++) {
        random_run(seeds[i], steps, i & 1);
        random_steps += steps;
    }
    if (getenv("MMU32_VERBOSE"))
        fprintf(stderr, "random: %lu steps\n", random_steps);
}

/*
 * The mirror policy belongs to each address space: a space made while
 * compat32.mirror=ro was in force keeps a user-readable mirror, and so do
 * its fork children, whatever the global says later (and the reverse).
 */
CASE(mirror_policy_per_space)
{
    setup();
    char why[200];
    for (int ro = 0; ro < 2; ro++) {
        mmu32_mirror_user = ro;
        struct mm *m = new32(), *c;
        mmu32_mirror_user = !ro;
        EQ(fork32(m, false, &c), 0);
        uint32_t pm = tab(m->pt.root)[I386_MIRROR_PDE], pc = tab(c->pt.root)[I386_MIRROR_PDE];
        CHECK(!!(pm & I386_PTE_US) == ro && !!(pc & I386_PTE_US) == ro,
              "mirror PDEs %08x (parent) and %08x (child), made with mirror=%s", pm, pc,
              ro ? "ro" : "off");
        CHECK(mmu32_check(m, why, sizeof(why)) == 0, "parent: %s", why);
        CHECK(mmu32_check(c, why, sizeof(why)) == 0, "child: %s", why);
        int got = cpu_access(c, I386_MIRROR_PD, FAULT_USER, NULL);
        CHECK((got == 0) == ro, "user read of the child's mirror: %d with mirror=%s", got,
              ro ? "ro" : "off");
        drop(c);
        drop(m);
    }
    mmu32_mirror_user = false;
    teardown();
}

static const struct htest cases[] = {
    HT_CASE(ad_exact), HT_CASE(clean_writable), HT_CASE(fork_cow), HT_CASE(below_4g),
    HT_CASE(hw_oom),   HT_CASE(mirror),   HT_CASE(dump),           HT_CASE(random),
    HT_CASE(mirror_policy_per_space),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
