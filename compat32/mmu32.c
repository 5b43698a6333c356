/*
 * The i386 MMU, in software: how a 32-bit process's two-level tables (the
 * authoritative map, in the layout of the blog post on kernel memory
 * management, 2024, and the blog post on i386 paging, 2008) become the
 * 4-level tables the CPU walks in long mode, kept exact (docs/compat32.md).
 *
 * Why in software?  In long mode the CPU always walks 4-level tables with
 * 8-byte entries; CR0/CR4 cannot make it read a 1024-entry directory of
 * 4-byte entries.  So the generic mm code (VMAs, demand paging, brk/mmap,
 * fork and CoW) works on the i386 tables through pt_i386, and this file
 * plays the part of the i386 MMU: the CPU's 4-level tables for the low
 * 4 GiB ("hw") are a cache of translations derived from the i386 tables,
 * filled on demand.
 *
 * Invariants (mmu32_check verifies them):
 *  - every leaf of hw below 4 GiB is a 4 KiB page that the i386 tables
 *    translate, by the walk an i386 MMU would do (PDE, then PTE or a
 *    4 MiB PDE), to the same frame;
 *  - its rights are at most the i386 ones: user iff U/S in both entries,
 *    executable iff soft NX in neither, writable only if R/W in both AND
 *    the leaf's D bit is set;
 *  - the A bit of the leaf and of its PDE is set.
 * Hence A and D read from the i386 entries are what i386 hardware would
 * have set since the entry was made (fork's child gets copies of the
 * parent's entries, A and D included: docs/compat32.md): an access finds
 * no hw entry (a fault: fill sets A, and D for a write, then makes the hw
 * entry), and a first write to a clean page finds the hw entry read-only
 * (a fault: fill sets D, then makes it writable).  Those faults are the emulated MMU's, not the process's:
 * they count no minor fault (mm_hw_fault).
 *  - a change to a present i386 entry reaches pt.flush (the generic walker
 *    calls it, include/mm/pgtable.h), which removes the hw entries derived
 *    from the range, and the mirror pages of its page tables; removing hw
 *    entries flushes the TLB (hw.flush).
 *
 * The mirror (SOS's mirroring, named by the SOS mailing-list post on
 * physical/paged/virtual memory, 2006): PDE 1023 points to the directory
 * itself.  Nothing special is needed here: the two-level walk of an
 * address in the last 4 MiB goes through PDE 1023 to the directory, read
 * as a page table, and finds the page table of PDE i at 0xffc00000 +
 * i * 4096 and the directory at 0xfffff000, exactly as i386 hardware
 * would.  The mirror PDE is read-only, and user-accessible only with
 * compat32.mirror=ro.
 *
 * Reference: Intel SDM vol. 3A, 4.3 (32-bit paging) and 4.8 (accessed and
 * dirty flags); the blog post on i386 paging, 2008 (the two-level walk);
 * the SOS mailing-list post, 2006 (mirroring); docs/bibliography.md.
 */
#include <compat32/mmu32.h>
#include <kernel/errno.h>
#include <mm/slab.h>
#include <kernel/string.h>
#include <compat32/pt_i386.h>
#include <mm/pt_x86_64.h>

#define FOUR_GIB (1ul << 32)

bool mmu32_mirror_user;

struct mmu32 {
    struct pgtable hw; /* x86-64 format, [0, 4 GiB), kernel half shared */
    bool mirror_user;  /* the mirror is user-readable (kept for fork's children) */
    struct mm *mm;     /* the address space it serves (its cpu_mask) */
};

static struct mmu32 *hw_of(const struct mm *mm)
{
    return mm->hw;
}

static uint32_t *table32(uint64_t pa)
{
    return page_address(pfn_to_page(pa >> PAGE_SHIFT));
}

/* ---- the two-level walk ----------------------------------------------------------------- */

/*
 * What an i386 MMU finds for va: the PDE and the leaf (the PTE, or the PDE
 * itself for a 4 MiB page), both as pointers so that A and D can be set.
 * Returns false when an entry on the way is not present.
 */
struct walk32 {
    uint32_t *pde, *leaf;
    uint64_t pa;          /* the frame of va's page */
    unsigned level;       /* of the leaf: 0 (PTE) or 1 (4 MiB PDE) */
};

static bool walk32(const struct mm *mm, uint32_t va, struct walk32 *w)
{
    uint32_t *pd = table32(mm->pt.root);
    w->pde = &pd[pde_index(va)];
    if (!(*w->pde & I386_PTE_P))
        return false;
    if (*w->pde & I386_PDE_PS) {
        w->leaf = w->pde;
        w->level = 1;
        w->pa = pde_large_addr(*w->pde) + (va & (I386_LARGE_SIZE - 1) & ~(PAGE_SIZE - 1));
        return true;
    }
    w->leaf = &table32(pte_addr(*w->pde))[pte_index(va)];
    w->level = 0;
    w->pa = pte_addr(*w->leaf);
    return (*w->leaf & I386_PTE_P) != 0;
}

/* The rights of the page, as both entries allow them (PT_U, PT_W, PT_X),
 * and its cache type. */
static unsigned rights32(const struct walk32 *w)
{
    uint32_t both = *w->pde & *w->leaf, any = *w->pde | *w->leaf;
    /* the cache type as pt_i386 decodes it (PAT: bit 7 of a PTE, bit 12
     * of a 4 MiB PDE), without a call through the format */
    unsigned prot = x86_cache_prot(*w->leaf, w->level ? I386_PDE_PAT_LARGE : I386_PTE_PAT);
    if (both & I386_PTE_US)
        prot |= PT_U;
    if (both & I386_PTE_RW)
        prot |= PT_W;
    if (!(any & I386_PTE_SOFT_NX))
        prot |= PT_X;
    return prot;
}

/* Does the access (FAULT_*) need rights the page does not have? */
static bool denied(unsigned rights, unsigned access)
{
    return ((access & FAULT_USER) && !(rights & PT_U)) ||
           ((access & FAULT_WRITE) && !(rights & PT_W)) ||
           ((access & FAULT_EXEC) && !(rights & PT_X));
}

/* The rights the hw entry gets: writable only once the page is dirty. */
static unsigned hw_rights(unsigned rights, uint32_t leaf)
{
    return (leaf & I386_PTE_D) ? rights : rights & ~PT_W;
}

/* ---- the hooks ----------------------------------------------------------------------- */

static int mmu32_fill(struct mm *mm, uint64_t va, unsigned access)
{
    struct mmu32 *m = hw_of(mm);
    struct walk32 w;
    if (!m || va >= FOUR_GIB || !walk32(mm, (uint32_t)va, &w))
        return -EFAULT;
    unsigned rights = rights32(&w);
    if (denied(rights, access))
        return -EFAULT;
    /* What the CPU would record: accessed on the way, dirty on a write;
     * written only once the hw entry is there (an access that fails for
     * want of memory leaves no trace). */
    uint32_t leaf_bits = I386_PTE_A | ((access & FAULT_WRITE) ? I386_PTE_D : 0);
    unsigned prot = hw_rights(rights, *w.leaf | leaf_bits);
    va &= ~(PAGE_SIZE - 1);
    /* Usually there is no hw entry yet: the access follows a fault of the
     * generic handler, whose change of the i386 tables removed any, or
     * touches a page for the first time.  pt_map's one-page path makes it
     * in one descent.  A first write to a clean page finds a read-only
     * one (rewritten in place by pt_replace, which cannot fail); a stale
     * TLB entry finds one that is right already (pt_replace changes
     * nothing). */
    int err = pt_map(&m->hw, va, w.pa, PAGE_SIZE, prot, 0);
    if (err == -EEXIST)
        err = pt_replace(&m->hw, va, w.pa, prot);
    if (err)
        return err;
    *w.pde |= I386_PTE_A;
    *w.leaf |= leaf_bits;
    return 0;
}

/* pt.flush of the i386 tables: the translations of [va, va + len) changed
 * (or went): forget what was derived from them. */
static void mmu32_flush(struct pgtable *pt, uint64_t va, uint64_t len)
{
    struct mm *mm = (struct mm *)((char *)pt - offsetof(struct mm, pt));
    struct mmu32 *m = hw_of(mm);
    if (!m)
        return;
    mm_must(pt_unmap(&m->hw, va, len), "mmu32_flush: hw", va);
    /* A page table may have gone with them: its page in the mirror too.
     * One page is the fault path's case (a copy-on-write break, a page
     * unmapped): a single 4 KiB entry changed, so its PDE did not, unless
     * the operation emptied and unlinked the table, which has already
     * cleared the PDE.  A present PDE keeps its mirror page. */
    if (len == PAGE_SIZE && (table32(mm->pt.root)[pde_index((uint32_t)va)] & I386_PTE_P))
        return;
    uint64_t first = va >> 22, last = (va + len - 1) >> 22;
    mm_must(pt_unmap(&m->hw, I386_MIRROR_BASE + first * PAGE_SIZE,
                     (last - first + 1) * PAGE_SIZE),
            "mmu32_flush: mirror", va);
}

/* The tables the CPU walks changed: this CPU's TLB, and those of the
 * other CPUs that have them loaded (the address space's cpu_mask). */
static void hw_flush(struct pgtable *pt, uint64_t va, uint64_t len)
{
    if (mm_tlb_flush)
        mm_tlb_flush(va, len);
    mm_flush_cpus(((struct mmu32 *)((char *)pt - offsetof(struct mmu32, hw)))->mm, va, len);
}

static void hw_tables_freed(struct pgtable *pt)
{
    mm_tables_freed(((struct mmu32 *)((char *)pt - offsetof(struct mmu32, hw)))->mm);
}

static int mmu32_attach(struct mm *mm, const struct mm *parent)
{
    struct mmu32 *m = kzalloc(sizeof(*m), GFP_KERNEL);
    if (!m)
        return -ENOMEM;
    int err = pt_init(&m->hw, &pt_x86_64, GFP_KERNEL, 0, FOUR_GIB);
    if (err) {
        kfree(m);
        return err;
    }
    m->hw.flush = hw_flush;
    m->hw.tables_freed = hw_tables_freed;
    m->mm = mm;
    if (mm_kernel_share && (err = mm_kernel_share(&m->hw)) != 0) {
        pt_destroy(&m->hw);
        kfree(m);
        return err;
    }
    /* A child keeps its parent's mirror policy; a new space takes the
     * command line's. */
    m->mirror_user = parent && hw_of(parent) ? hw_of(parent)->mirror_user : mmu32_mirror_user;
    /* SOS's mirror: the last PDE is the directory itself (outside
     * pt's range, so the generic walker never sees it). */
    table32(mm->pt.root)[I386_MIRROR_PDE] = pt_i386_mirror_entry(mm->pt.root, m->mirror_user);
    mm->pt.flush = mmu32_flush;
    mm->hw = m;
    return 0;
}

static void mmu32_detach(struct mm *mm)
{
    struct mmu32 *m = hw_of(mm);
    if (!m)
        return;
    pt_destroy(&m->hw);
    kfree(m);
    mm->hw = NULL;
}

static uint64_t mmu32_root(const struct mm *mm)
{
    return hw_of(mm)->hw.root;
}

static const struct mm_hw_ops mmu32_ops = {
    .attach = mmu32_attach,
    .detach = mmu32_detach,
    .fill = mmu32_fill,
    .root = mmu32_root,
};

int mm_init_user32(struct mm *mm)
{
    int err = mm_init_user_fmt(mm, &pt_i386, MM_VA_END_32, GFP_KERNEL | __GFP_DMA32);
    if (err)
        return err;
    mm->hw_ops = &mmu32_ops;
    err = mmu32_attach(mm, NULL);
    if (err) {
        mm->hw_ops = NULL;
        mm_destroy(mm);
    }
    return err;
}

bool mm_is32(const struct mm *mm)
{
    return mm->hw_ops == &mmu32_ops;
}

const struct pgtable *mmu32_hw(const struct mm *mm)
{
    return mm_is32(mm) && hw_of(mm) ? &hw_of(mm)->hw : NULL;
}

/* ---- the checker ----------------------------------------------------------------------- */

struct check32 {
    const struct mm *mm;
    char *why;
    size_t size;
};

static int check_leaf(const struct pt_view *hv, void *arg)
{
    struct check32 *c = arg;
    struct walk32 w;
    if (hv->payload)
        return snprintf(c->why, c->size, "payload entry at %#lx in hw", hv->va), -EUCLEAN;
    if (hv->size != PAGE_SIZE)
        return snprintf(c->why, c->size, "hw leaf at %#lx is %lu bytes",
                        hv->va, hv->size), -EUCLEAN;
    if (!walk32(c->mm, (uint32_t)hv->va, &w))
        return snprintf(c->why, c->size, "hw maps %#lx, the i386 tables do not",
                        hv->va), -EUCLEAN;
    if (w.pa != hv->pa)
        return snprintf(c->why, c->size, "%#lx: hw frame %#lx, i386 frame %#lx",
                        hv->va, hv->pa,
                        w.pa), -EUCLEAN;
    unsigned want = hw_rights(rights32(&w), *w.leaf);
    unsigned have = hv->prot & (PT_U | PT_W | PT_X | PT_CACHE_MASK);
    if ((have & ~want & (PT_U | PT_W | PT_X)) || (have & PT_U) != (want & PT_U) ||
        (have & PT_CACHE_MASK) != (want & PT_CACHE_MASK))
        return snprintf(c->why, c->size, "%#lx: hw rights %#x, i386 entries allow %#x "
                        "(PDE %08x, leaf %08x)", hv->va, have, want,
                        *w.pde, *w.leaf), -EUCLEAN;
    if (!(*w.pde & I386_PTE_A) || !(*w.leaf & I386_PTE_A))
        return snprintf(c->why, c->size, "%#lx is in hw but not accessed in the i386 "
                        "entries (PDE %08x, leaf %08x)", hv->va, *w.pde,
                        *w.leaf), -EUCLEAN;
    return 0;
}

int mmu32_check(const struct mm *mm, char *why, size_t size)
{
    struct mmu32 *m = hw_of(mm);
    if (!m)
        return snprintf(why, size, "not a 32-bit address space"), -EINVAL;
    uint32_t mirror = table32(mm->pt.root)[I386_MIRROR_PDE];
    if ((mirror & ~I386_PTE_A) != pt_i386_mirror_entry(mm->pt.root, m->mirror_user))
        return snprintf(why, size, "mirror PDE is %08x", mirror), -EUCLEAN;
    struct check32 c = { mm, why, size };
    return pt_for_each(&m->hw, 0, FOUR_GIB, check_leaf, &c); /* 0, or -EUCLEAN */
}

/* ---- the learner's view --------------------------------------------------------------- */

/* "P RW US A D" style flags of an i386 entry, in the documents' terms. */
static const char *flags32(uint32_t e, bool pde, char buf[40])
{
    static const struct { uint32_t bit; const char *name; } names[] = {
        { I386_PTE_P, "P" },     { I386_PTE_RW, "RW" },   { I386_PTE_US, "US" },
        { I386_PTE_PWT, "PWT" }, { I386_PTE_PCD, "PCD" }, { I386_PTE_A, "A" },
        { I386_PTE_D, "D" },     { I386_PTE_G, "G" },     { I386_PTE_SOFT_NX, "NX" },
    };
    char *p = buf;
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (e & names[i].bit)
            p += snprintf(p, 8, "%s%s", p == buf ? "" : " ", names[i].name);
    if (e & I386_PDE_PS)
        p += snprintf(p, 8, "%s%s", p == buf ? "" : " ", pde ? "PS" : "PAT");
    *p = 0;
    return buf;
}

void mmu32_dump(const struct mm *mm, uint64_t start, uint64_t end, struct sbuf *out)
{
    const uint32_t *pd = table32(mm->pt.root);
    char f[40];
    if (end > FOUR_GIB)
        end = FOUR_GIB;
    if (end <= start)
        return;
    sbuf_put(out, "page directory at %#lx (1024 PDEs), addresses %08lx-%08lx\n",
             mm->pt.root, start,
             end - 1);
    for (uint64_t va = start & ~(uint64_t)(I386_LARGE_SIZE - 1); va < end;
         va += I386_LARGE_SIZE) {
        uint32_t pde = pd[pde_index((uint32_t)va)];
        if (!(pde & I386_PTE_P))
            continue;
        if (pde & I386_PDE_PS) {
            sbuf_put(out, "PDE %4u  %08lx  4 MiB page, frame %05x  %s\n",
                     pde_index((uint32_t)va), va,
                     pde_large_addr(pde) >> PAGE_SHIFT,
                     flags32(pde, true, f));
            continue;
        }
        if (pde_index((uint32_t)va) == I386_MIRROR_PDE) {
            /* its "page table" is the directory: the PDEs above, again */
            sbuf_put(out, "PDE %4u  %08lx  mirror: the directory itself, frame %05x  %s\n",
                     I386_MIRROR_PDE, va, pte_frame(pde),
                     flags32(pde, true, f));
            continue;
        }
        sbuf_put(out, "PDE %4u  %08lx  page table, frame %05x  %s\n",
                 pde_index((uint32_t)va), va, pte_frame(pde),
                 flags32(pde, true, f));
        const uint32_t *pt = table32(pte_addr(pde));
        for (unsigned i = 0; i < I386_ENTRIES; i++) {
            uint64_t pva = va + (uint64_t)i * PAGE_SIZE;
            if (pva < (start & ~(uint64_t)(PAGE_SIZE - 1)) || pva >= end ||
                !(pt[i] & I386_PTE_P))
                continue;
            sbuf_put(out, "  PTE %4u  %08lx  frame %05x  %s\n", i,
                     pva, pte_frame(pt[i]), flags32(pt[i], false, f));
        }
    }
}
