/*
 * In-kernel tests of compat32's address spaces (docs/compat32.md): the
 * software i386 MMU on the real machine (its hardware tables shared with
 * the kernel half, the real TLB flush), and DMA32 exhaustion.  The
 * simulated-CPU tests are on the host (tests/host/test_mmu32.c); 32-bit
 * programs run in the user-program boot (test_pte32 and the suite).
 */
#include <compat32/mmu32.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <mm/gfp.h>
#include <mm/bootmem.h>
#include <compat32/pt_i386.h>
#include <mm/slab.h>
#include <mm/vma.h>

static uint64_t free_now(void)
{
    ktest_settle();
    return nr_free_pages();
}

/* Every present page of the i386 tables in [start, end) names a frame
 * below 4 GiB, and so does every table (walk: pt_walk's raw entries). */
static int frames_low(const struct pt_view *v, void *arg)
{
    (void)arg;
    return (v->pa >> 32) || (v->raw[0] >> 32) ? -1 : 0;
}

KTEST(compat32_space)
{
    uint64_t base_free = free_now();
    struct mm *mm = kzalloc(sizeof(*mm), GFP_KERNEL), *child = kzalloc(sizeof(*child), GFP_KERNEL);
    KT_ASSERT(mm && child, "no memory");
    KT_ASSERT(mm_init_user32(mm) == 0, "mm_init_user32 failed");
    KT_ASSERT(mm_is32(mm) && mm->va_end == MM_VA_END_32, "not a 32-bit space (va_end %#lx)",
              mm->va_end);
    uint64_t a;
    KT_ASSERT(mm_mmap(mm, 0, 64 * PAGE_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, &a) == 0, "mmap");
    KT_ASSERT(a + 64 * PAGE_SIZE <= MM_VA_END_32, "mmap at %#lx, above the mirror",
              a);
    KT_ASSERT(mm_prepare_write(mm, a, 32 * PAGE_SIZE) == 0, "prepare_write");
    KT_ASSERT(mm_prepare_read(mm, a + 32 * PAGE_SIZE, 32 * PAGE_SIZE) == 0, "prepare_read");
    char why[160];
    KT_ASSERT(mmu32_check(mm, why, sizeof(why)) == 0, "check: %s", why);
    KT_ASSERT(pt_for_each(&mm->pt, 0, MM_VA_END_32, frames_low, NULL) == 0,
              "a frame or table above 4 GiB");
    /* the kernel half is there: the hw root shares the kernel's entries */
    KT_ASSERT(mm_cr3(mm) != mm->pt.root, "CR3 would load the i386 directory");
    KT_ASSERT(mm_fork(child, mm, false) == 0, "fork");
    KT_ASSERT(mm_is32(child), "fork's child is not a 32-bit space");
    KT_ASSERT(mmu32_check(mm, why, sizeof(why)) == 0, "parent after fork: %s", why);
    KT_ASSERT(mmu32_check(child, why, sizeof(why)) == 0, "child after fork: %s", why);
    /* The parent's written pages lost R/W in its PTEs (fork's CoW). */
    struct pt_view v;
    KT_ASSERT(pt_walk(&mm->pt, a, &v) == 0 && !(v.prot & PT_W) && v.dirty,
              "parent's PTE after fork: prot %#x dirty %d", v.prot, v.dirty);
    KT_ASSERT(mm_fault(mm, a, FAULT_WRITE | FAULT_USER) == 0, "CoW write");
    KT_ASSERT(pt_walk(&mm->pt, a, &v) == 0 && (v.prot & PT_W) && v.dirty && v.accessed,
              "parent's PTE after the write: prot %#x", v.prot);
    KT_ASSERT(mmu32_check(mm, why, sizeof(why)) == 0, "after the write: %s", why);
    mm_destroy(child);
    mm_destroy(mm);
    kfree(child);
    kfree(mm);
    uint64_t now = free_now();
    KT_ASSERT(now == base_free, "%ld frames leaked", (base_free - now));
}

/*
 * A 32-bit process can only use frames below 4 GiB.  With RAM above
 * 4 GiB (the 6G boot), fill DMA32 through a 32-bit space: the touch that
 * finds DMA32 (and DMA) empty gets -ENOMEM although Normal memory is
 * free, and everything comes back afterwards.  Without RAM above 4 GiB
 * the test has nothing to show and passes at once (noted in the log).
 */
KTEST(compat32_dma32_exhaustion)
{
    struct zone *normal = &node0->zones[ZONE_NORMAL];
    if (normal->managed < 65536) {
        printk("compat32_dma32_exhaustion: no RAM above 4 GiB here, nothing to exhaust\n");
        return;
    }
    uint64_t base_free = free_now();
    struct mm *mm = kzalloc(sizeof(*mm), GFP_KERNEL);
    KT_ASSERT(mm && mm_init_user32(mm) == 0, "mm_init_user32 failed");
    uint64_t low = (node0->zones[ZONE_DMA].managed + node0->zones[ZONE_DMA32].managed) *
                   PAGE_SIZE;
    uint64_t len = MIN(low + (64ul << 20), 7ul << 29 /* 3.5 GiB */), a;
    KT_ASSERT(mm_mmap(mm, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0,
                      &a) == 0, "mmap of %lu MiB", (len >> 20));
    int err = 0;
    uint64_t touched = 0;
    for (; touched < len; touched += 2ul << 20) {
        err = mm_prepare_write(mm, a + touched, 2ul << 20);
        if (err)
            break;
    }
    uint64_t normal_free = zone_free_frames(normal);
    KT_ASSERT(err == -ENOMEM, "touching %lu MiB of a 32-bit space gave %d, not -ENOMEM",
              (touched >> 20), err);
    KT_ASSERT(normal_free > 16384, "Normal memory ran out too (%lu pages free)",
              normal_free);
    char why[160];
    KT_ASSERT(mmu32_check(mm, why, sizeof(why)) == 0, "check: %s", why);
    KT_ASSERT(pt_for_each(&mm->pt, 0, MM_VA_END_32, frames_low, NULL) == 0,
              "a frame or table above 4 GiB");
    printk("compat32_dma32_exhaustion: -ENOMEM after %lu MiB, %lu MiB still free above "
           "4 GiB\n", (touched >> 20),
           (normal_free >> 8));
    mm_destroy(mm);
    kfree(mm);
    uint64_t now = free_now();
    KT_ASSERT(now == base_free, "%ld frames leaked", (base_free - now));
    /* and DMA32 works again */
    struct page *p = alloc_pages(GFP_DMA32, 0);
    KT_ASSERT(p, "no DMA32 page after the test");
    __free_pages(p, 0);
}
