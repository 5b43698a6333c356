/*
 * compat32's software i386 MMU seen from outside, for its host test
 * (tests/host/test_mmu32.c) and its fuzz target (tests/fuzz/fuzz_mmu32.c):
 * the i386 entries of a 32-bit mm read raw, what an i386 MMU would allow
 * from them, a CPU in long mode walking the derived 4-level tables
 * ("hw"), and the accessed/dirty bits a PTE must hold.
 *
 * Written from the Intel bit layout (SDM vol. 3A, 4.3 for 32-bit paging,
 * 4.8 for accessed and dirty flags) and the generic pt_walk of hw, never
 * with compat32/mmu32.c's functions: this is the independent oracle the
 * MMU is checked against, so that one mistake cannot hide in both.
 * Header-only: each of the two programs includes it once.
 */
#ifndef TESTS_SHARED_MMU32_ORACLE_H
#define TESTS_SHARED_MMU32_ORACLE_H

#include <stdbool.h>
#include <stdint.h>

#include <compat32/mmu32.h>
#include <compat32/pt_i386.h>
#include <kernel/printk.h>
#include <mm/pgtable.h>
#include <mm/vma.h>

/* A table page of the i386 side as 1024 entries (the direct map). */
static inline uint32_t *tab(uint64_t pa)
{
    return page_address(pfn_to_page(pa >> PAGE_SHIFT));
}

static inline uint32_t *pde_ptr(const struct mm *mm, uint64_t va)
{
    return &tab(mm->pt.root)[pde_index((uint32_t)va)];
}

/* The PTE of va (the PDE itself for a 4 MiB page; 0 when the PDE is not
 * present). */
static inline uint32_t pte_of(const struct mm *mm, uint64_t va)
{
    uint32_t d = *pde_ptr(mm, va);
    if (!(d & I386_PTE_P))
        return 0;
    if (d & I386_PDE_PS)
        return d;
    return tab(pte_addr(d))[pte_index((uint32_t)va)];
}

/* Would an i386 MMU allow the access (FAULT_*) from the raw entries?  U/S
 * and R/W must be set in both the PDE and the PTE; soft NX in either
 * forbids execution. */
static inline bool i386_allows(const struct mm *mm, uint64_t va, unsigned access)
{
    uint32_t d = *pde_ptr(mm, va), e = pte_of(mm, va);
    if (!(d & I386_PTE_P) || !(e & I386_PTE_P))
        return false;
    uint32_t both = d & e, any = d | e;
    if ((access & FAULT_USER) && !(both & I386_PTE_US))
        return false;
    if ((access & FAULT_WRITE) && !(both & I386_PTE_RW))
        return false;
    if ((access & FAULT_EXEC) && (any & I386_PTE_SOFT_NX))
        return false;
    return true;
}

/* Does a hw leaf with these rights allow the access? */
static inline bool hw_allows(unsigned prot, unsigned access)
{
    return (!(access & FAULT_USER) || (prot & PT_U)) && (!(access & FAULT_WRITE) || (prot & PT_W)) &&
           (!(access & FAULT_EXEC) || (prot & PT_X));
}

/*
 * The CPU's access: walk hw; if a present leaf allows the access, 0 and
 * *p (when p) points at the byte through the direct map.  Otherwise a
 * page fault: mm_hw_fault (counted in *hw_faults), then one retry.
 * Returns mm_hw_fault's error, or 1 when hw still refuses after
 * mm_hw_fault said yes (the process would be killed for an access its
 * tables allow: the caller fails).
 */
static inline int cpu_try(struct mm *mm, uint64_t va, unsigned access, uint8_t **p,
                          uint64_t *hw_faults)
{
    const struct pgtable *hw = mmu32_hw(mm);
    for (int tries = 0;; tries++) {
        struct pt_view v;
        if (pt_walk(hw, va & ~(uint64_t)(PAGE_SIZE - 1), &v) == 0 && hw_allows(v.prot, access)) {
            if (p)
                *p = (uint8_t *)page_address(pfn_to_page(v.pa >> PAGE_SHIFT)) +
                     (va & (PAGE_SIZE - 1));
            return 0;
        }
        if (tries)
            return 1;
        (*hw_faults)++;
        int err = mm_hw_fault(mm, va, access);
        if (err)
            return err;
    }
}

/*
 * A hw leaf against the raw i386 walk: a 4 KiB page below 4 GiB whose
 * frame is the PTE's, under a present PDE that is not a 4 MiB page, with
 * A set in both entries, U exactly when both have U/S, writable only with
 * R/W in both and D in the PTE, executable only without soft NX.  NULL,
 * or the reason in buf.
 */
static inline const char *hw_leaf_bad(const struct mm *mm, const struct pt_view *hv, char *buf,
                                      size_t size)
{
    uint64_t va = hv->va;
#define HW_BAD(...) return snprintf(buf, size, __VA_ARGS__), buf
    if (hv->size != PAGE_SIZE)
        HW_BAD("hw leaf %#lx of %lu bytes", va, hv->size);
    if (hv->pa >> 32)
        HW_BAD("hw leaf %#lx maps %#lx, above 4 GiB", va, hv->pa);
    uint32_t d = *pde_ptr(mm, va);
    if (!(d & I386_PTE_P))
        HW_BAD("hw maps %#lx, PDE %08x not present", va, d);
    if (d & I386_PDE_PS)
        HW_BAD("hw maps %#lx under a 4 MiB PDE %08x (user pages are 4 KiB)", va, d);
    uint32_t e = tab(pte_addr(d))[pte_index((uint32_t)va)];
    if (!(e & I386_PTE_P))
        HW_BAD("hw maps %#lx, PTE %08x not present", va, e);
    if (pte_addr(e) != hv->pa)
        HW_BAD("%#lx: hw frame %#lx, PTE %08x", va, hv->pa, e);
    if (!(d & I386_PTE_A) || !(e & I386_PTE_A))
        HW_BAD("%#lx in hw, A clear (PDE %08x PTE %08x)", va, d, e);
    uint32_t both = d & e, any = d | e;
    if (!!(hv->prot & PT_U) != !!(both & I386_PTE_US))
        HW_BAD("%#lx: hw U %d, i386 U/S %d (PDE %08x PTE %08x)", va, !!(hv->prot & PT_U),
               !!(both & I386_PTE_US), d, e);
    if ((hv->prot & PT_W) && (!(both & I386_PTE_RW) || !(e & I386_PTE_D)))
        HW_BAD("%#lx: hw writable, PDE %08x PTE %08x (needs R/W and D)", va, d, e);
    if ((hv->prot & PT_X) && (any & I386_PTE_SOFT_NX))
        HW_BAD("%#lx: hw executable, soft NX set (PDE %08x PTE %08x)", va, d, e);
#undef HW_BAD
    return NULL;
}

/*
 * The accessed and dirty bits one PTE must hold: A iff the page was
 * accessed since its PTE was made, D iff it was written.  A PTE is made
 * by a fault (demand paging, a copy-on-write copy: a new frame) or by
 * fork (the child's copies keep the parent's bits), and keeps its bits
 * through mprotect and a write fault that only gives R/W back; munmap,
 * madvise and brk remove it.  `touch` collects one step's accesses (1
 * accessed, 2 written, 4 the bits are unknown: read them back from the
 * PTE); pa is the PTE's frame at the last step, 0 when none.
 */
struct ad_model {
    uint32_t pa;
    bool a, d;
    uint8_t touch;
};

enum ad_step {
    AD_ABSENT,            /* no PTE, none expected */
    AD_TOUCHED_ABSENT,    /* accessed this step, yet no PTE: wrong */
    AD_NEW,               /* a new PTE (another frame): this step's accesses only */
    AD_KEPT,              /* the same PTE: this step's accesses added */
};

/* One step of the model against the PTE e of its page; afterwards the
 * model holds what the PTE must show (ad_mismatch). */
static inline enum ad_step ad_model_step(struct ad_model *m, uint32_t e)
{
    uint32_t pa = (e & I386_PTE_P) ? pte_addr(e) : 0;
    enum ad_step step;
    if (!pa) {
        step = m->touch & 3 ? AD_TOUCHED_ABSENT : AD_ABSENT;
        m->a = m->d = false;
    } else if (m->touch & 4) {
        m->a = e & I386_PTE_A;
        m->d = e & I386_PTE_D;
        step = pa != m->pa ? AD_NEW : AD_KEPT;
    } else if (pa != m->pa) {
        m->a = m->touch & 1;
        m->d = (m->touch & 2) != 0;
        step = AD_NEW;
    } else {
        m->a |= m->touch & 1;
        m->d |= (m->touch & 2) != 0;
        step = AD_KEPT;
    }
    m->pa = pa;
    m->touch = 0;
    return step;
}

/* Does a present PTE disagree with the model's A and D? */
static inline bool ad_mismatch(const struct ad_model *m, uint32_t e)
{
    return m->pa && (!!(e & I386_PTE_A) != m->a || !!(e & I386_PTE_D) != m->d);
}

#endif
