/*
 * kmap is cumulative (mm/kmap.c; docs/kernel-vm.md), as the course slides
 * on Linux's allocators say: a page may be kmapped several times, gets
 * the same address each time, and must be kunmapped as many times; the
 * last kunmap frees the slot.  kunmap of a page not mapped is refused
 * (reported, counted, nothing changed).  A kmapped page is pinned for
 * migration until its last kunmap.  Every case ends with the slots, the
 * free frames and the page's references back where they were.
 */
#include <kernel/ktest.h>
#include <kernel/trap.h>
#include <mm/gfp.h>
#include <mm/kernel_pt.h>
#include <mm/kmap.h>
#include <mm/layout.h>
#include <mm/migrate.h>
#include <mm/slab.h>
#include <mm/vmalloc.h>

static uint64_t free_now(void)
{
    ktest_settle();
    return nr_free_pages();
}

static void read_byte(void *arg)
{
    (void)*(volatile uint8_t *)arg;
}

KTEST(kmap_twice_same_address)
{
    uint64_t free0 = free_now();
    unsigned slots0 = kmap_slots_used();
    uint64_t *direct = get_zeroed_page(GFP_KERNEL);
    KT_ASSERT(direct, "no page");
    struct page *pg = virt_to_page(direct);
    unsigned ref0 = pg->refcount;
    uint64_t *a = kmap(pg), *b = kmap(pg);
    bool same = a && a == b;
    unsigned count = kmap_count(pg), slots = kmap_slots_used(), ref = pg->refcount;
    if (b)
        b[3] = 0x600dcafe;
    bool seen = a && a[3] == 0x600dcafe && direct[3] == 0x600dcafe;
    if (a)
        kunmap(pg);
    if (b)
        kunmap(pg);
    free_page(direct);
    KT_ASSERT(same, "two kmaps of one page: %p and %p", (void *)a, (void *)b);
    KT_ASSERT(count == 2, "kmap_count %u after two kmaps", count);
    KT_ASSERT(slots == slots0 + 1, "two kmaps of one page took %u slots", slots - slots0);
    KT_ASSERT(ref == ref0 + 1, "references %u -> %u: one per slot, not per kmap", ref0, ref);
    KT_ASSERT(seen, "a write through one address not seen through the other");
    KT_ASSERT(kmap_slots_used() == slots0, "slots %u, baseline %u", kmap_slots_used(), slots0);
    KT_ASSERT(free_now() == free0, "free frames %lu, baseline %lu", free_now(), free0);
}

KTEST(kmap_kunmap_as_many_times)
{
    struct fault_info fi;
    uint64_t free0 = free_now();
    unsigned slots0 = kmap_slots_used();
    uint64_t errors0 = kmap_errors();
    uint64_t *direct = get_zeroed_page(GFP_KERNEL);
    KT_ASSERT(direct, "no page");
    struct page *pg = virt_to_page(direct);
    unsigned ref0 = pg->refcount;
    uint8_t *a = kmap(pg);
    uint8_t *b = kmap(pg);
    KT_ASSERT(a && a == b, "kmap");
    kunmap(pg);
    /* One user left: the slot stays mapped, the page held. */
    unsigned count1 = kmap_count(pg), slots1 = kmap_slots_used(), ref1 = pg->refcount;
    int rd1 = catch_faults(read_byte, a, &fi);
    kunmap(pg);
    /* None left: the slot is free, unmapped, and the reference gone. */
    unsigned count2 = kmap_count(pg), slots2 = kmap_slots_used(), ref2 = pg->refcount;
    int rd2 = catch_faults(read_byte, a, &fi);
    /* A third kunmap: refused, counted, nothing changed. */
    kunmap(pg);
    unsigned ref3 = pg->refcount, slots3 = kmap_slots_used();
    uint64_t errors3 = kmap_errors() - errors0;
    free_page(direct);
    KT_ASSERT(count1 == 1 && slots1 == slots0 + 1 && ref1 == ref0 + 1 && rd1 == 0,
              "after one kunmap of two: count %u, slots +%u, references %u (was %u), read %d",
              count1, slots1 - slots0, ref1, ref0, rd1);
    KT_ASSERT(count2 == 0 && slots2 == slots0 && ref2 == ref0,
              "after the last kunmap: count %u, slots +%u, references %u (was %u)", count2,
              slots2 - slots0, ref2, ref0);
    KT_ASSERT(rd2 == 1, "the freed slot still reads");
    KT_ASSERT(errors3 == 1 && ref3 == ref0 && slots3 == slots0,
              "third kunmap: %lu errors counted, references %u (was %u), slots +%u", errors3,
              ref3, ref0, slots3 - slots0);
    KT_ASSERT(free_now() == free0, "free frames %lu, baseline %lu", free_now(), free0);
}

KTEST(kmap_misuse_refused)
{
    unsigned slots0 = kmap_slots_used();
    uint64_t errors0 = kmap_errors();
    uint64_t *direct = get_zeroed_page(GFP_KERNEL);
    KT_ASSERT(direct, "no page");
    struct page *pg = virt_to_page(direct);
    unsigned ref0 = pg->refcount;
    kunmap(pg);                         /* never mapped */
    void *a = kmap(pg);
    kunmap_phys(a);                     /* a kmap(page) slot: kunmap(page) releases it */
    kunmap_phys((void *)KMAP_BASE);     /* the anchor */
    kunmap_phys(direct);                /* not a slot at all */
    unsigned count = kmap_count(pg), ref1 = pg->refcount, slots1 = kmap_slots_used();
    uint64_t errors = kmap_errors() - errors0;
    if (a)
        kunmap(pg);
    unsigned ref2 = pg->refcount;
    free_page(direct);
    KT_ASSERT(a, "kmap");
    KT_ASSERT(errors == 4, "%lu misuses counted, expected 4", errors);
    KT_ASSERT(count == 1 && ref1 == ref0 + 1 && slots1 == slots0 + 1,
              "the refused calls changed the slot: count %u, references %u (was %u), slots +%u",
              count, ref1, ref0, slots1 - slots0);
    KT_ASSERT(ref2 == ref0, "references %u after kunmap, %u before kmap", ref2, ref0);
    KT_ASSERT(kmap_slots_used() == slots0, "slots %u, baseline %u", kmap_slots_used(), slots0);
}

/* Each page its own slot: pages mapped until the 63 slots are taken, the
 * next one refused without a reference left on it. */
KTEST(kmap_pages_exhaust_slots)
{
    uint64_t free0 = free_now();
    unsigned slots0 = kmap_slots_used();
    struct page *pages[KMAP_SLOTS];
    unsigned n = 0;
    while (n < KMAP_SLOTS && (pages[n] = alloc_page(GFP_KERNEL)))
        n++;
    unsigned got = 0;
    while (got < n && kmap(pages[got]))
        got++;
    unsigned last_ref = got < n ? pages[got]->refcount : 0, ref0 = n ? pages[0]->refcount : 0;
    for (unsigned i = 0; i < got; i++)
        kunmap(pages[i]);
    unsigned ref1 = n ? pages[0]->refcount : 0;
    for (unsigned i = 0; i < n; i++)
        __free_pages(pages[i], 0);
    KT_ASSERT(n == KMAP_SLOTS, "only %u pages", n);
    KT_ASSERT(got == KMAP_SLOTS - 1 - slots0, "%u pages mapped, expected %u", got,
              KMAP_SLOTS - 1 - slots0);
    KT_ASSERT(last_ref == 1, "the refused page has %u references", last_ref);
    KT_ASSERT(ref0 == 2 && ref1 == 1, "references %u while mapped, %u after", ref0, ref1);
    KT_ASSERT(kmap_slots_used() == slots0, "slots %u, baseline %u", kmap_slots_used(), slots0);
    KT_ASSERT(free_now() == free0, "free frames %lu, baseline %lu", free_now(), free0);
}

/* Pinned for migration until the last kunmap: a vmalloc page, which
 * migration moves otherwise. */
KTEST(kmap_pins_until_last_kunmap)
{
    uint64_t free0 = free_now();
    uint64_t *v = vmalloc(PAGE_SIZE);
    KT_ASSERT(v, "vmalloc");
    struct pt_view pv;
    KT_ASSERT(pt_walk(&kernel_pt, (uint64_t)v, &pv) == 0, "vmalloc page not mapped");
    struct page *pg = pfn_to_page(pv.pa >> PAGE_SHIFT);
    enum migrate_result r0 = migrate_check(pg);
    void *a = kmap(pg), *b = kmap(pg);
    enum migrate_result r2 = migrate_check(pg);
    kunmap(pg);
    enum migrate_result r1 = migrate_check(pg);
    kunmap(pg);
    enum migrate_result r = migrate_check(pg);
    vfree(v);
    KT_ASSERT(a && a == b, "kmap");
    KT_ASSERT(r0 == MIGRATE_OK, "a vmalloc page cannot move: %s", migrate_result_str(r0));
    KT_ASSERT(r2 == MIGRATE_PINNED && r1 == MIGRATE_PINNED,
              "kmapped twice: %s; once: %s (expected pinned)", migrate_result_str(r2),
              migrate_result_str(r1));
    KT_ASSERT(r == MIGRATE_OK, "after the last kunmap: %s", migrate_result_str(r));
    KT_ASSERT(free_now() == free0, "free frames %lu, baseline %lu", free_now(), free0);
}
