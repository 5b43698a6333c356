/*
 * The vmalloc range (mm/vmalloc.c): virtually contiguous kernel memory
 * built from scattered frames, mappings of given frames, device memory
 * with cache attributes, and kernel stacks; every area is followed by an
 * unmapped guard page.
 *
 * The allocator is an instance, struct vmap_space, like the buddy
 * allocator's struct mem_node and the slab's struct kmem_cache: a range,
 * the page tables it maps into and a few hooks for what only the kernel
 * has.  The kernel has one, vmalloc_space, over [VMALLOC_START,
 * VMALLOC_END) in kernel_pt (set up by vmalloc_init, mm/vmalloc_kernel.c),
 * and the familiar API (vmalloc, vfree, vmap, ioremap...) works on it.
 * Host tests and the fuzz target build their own over the private arena
 * of tests/host/mm_host.c and call the vmap_space_* variants.
 *
 * Frames come from the page allocator (node0) and area descriptors from
 * kmalloc, so a space needs both set up.  Nothing here sleeps; the
 * caller serializes the calls on one space.
 */
#ifndef MM_VMALLOC_H
#define MM_VMALLOC_H

#include <kernel/types.h>
#include <mm/gfp.h>

struct pgtable;

/* What an area holds. */
enum vm_kind { VM_ALLOC, VM_MAP, VM_IOREMAP, VM_STACK, VM_NR_KINDS };

struct vm_area {
    uint64_t addr;           /* first mapped byte */
    uint64_t size;           /* mapped bytes (page multiple), guards excluded */
    uint64_t guard_below;    /* guard bytes before addr (stacks: one page) */
    uint64_t nr_pages;       /* frames we own (VM_ALLOC, VM_STACK), found by walking */
    uint64_t phys;           /* VM_IOREMAP: the device address (page aligned) */
    const void *caller;      /* who asked, for vmallocinfo and guard reports */
    const char *owner;       /* optional name (stacks) */
    enum vm_kind kind;
    unsigned prot;           /* PT_* of the mapping */
    bool lazy;               /* freed: unmapped, no frames, but the other CPUs'
                              * TLBs not flushed yet, so its span stays reserved
                              * until the purge (vmap_space_purge) */
    struct vm_area *next;    /* sorted by address */
    struct vmap_space *space; /* the space it belongs to (vmalloc_move_page) */
};

struct vmap_space {
    uint64_t start, end;        /* the range areas are carved from, [start, end) */
    struct pgtable *pt;         /* the tables they are mapped in; TLB flushes go
                                 * through its own flush hook (NULL on the host) */
    struct vm_area *areas;      /* sorted by address */
    uint64_t nr_areas;
    uint64_t nr_frames;         /* frames owned by VM_ALLOC and VM_STACK areas */
    uint64_t errors;            /* bad frees reported (and survived: debug) */
    /* Lazy freeing (Linux's purge_vmap_area_lazy): a vfree or
     * vfree_stack unmaps and frees the frames at once but flushes only
     * this CPU's TLB; the area stays in the list, lazy, until lazy_pages
     * reaches lazy_max, when one flush on every CPU covers them all and
     * their spans are released.  lazy_max 0: every free flushes
     * everywhere at once (one CPU, the host tests). */
    uint64_t lazy_max;
    uint64_t nr_lazy;           /* lazy areas in the list (not in nr_areas) */
    uint64_t lazy_pages;        /* their mapped pages */
    uint64_t purges;            /* purges done */
    bool debug;                 /* a bad free is reported and ignored, not a panic */
    /*
     * Hooks, set after vmap_space_init (which clears them).
     *   sym_lookup: name and offset of the function holding an address,
     *     for callers in vmallocinfo and guard reports (the kernel's
     *     ksym_lookup); NULL prints bare addresses.
     *   is_ram: does [pa, pa + len) touch RAM (the kernel's mem_is_ram)?
     *     ioremap refuses RAM; with NULL it refuses every range, since it
     *     cannot tell RAM from device memory.
     *   report: one line of text per message (no newline); NULL: printk.
     *   remote_defer: while on, the flushes of the tables stay on this CPU
     *     (the kernel's: tlb_remote_deferred); lazy freeing needs it, and
     *     NULL frees eagerly whatever lazy_max says.
     */
    const char *(*sym_lookup)(uint64_t addr, uint64_t *offset);
    bool (*is_ram)(uint64_t pa, uint64_t len);
    void (*report)(const char *msg);
    void (*remote_defer)(bool on);
};

/* ---- the instance ------------------------------------------------------------------------ */

/*
 * An empty space over [start, end) of pt: page aligned, non-empty, inside
 * [pt->va_start, pt->va_end) (-EINVAL otherwise).  Clears the whole
 * struct, hooks included.  An empty space holds nothing: there is no
 * destroy, only the rule that every area be freed first.
 */
int vmap_space_init(struct vmap_space *s, struct pgtable *pt, uint64_t start, uint64_t end,
                    bool debug);

/* size bytes (rounded up to pages) of fresh frames, zeroed with
 * __GFP_ZERO in gfp; NULL when size is 0 or too big for the range, or
 * when the range or the frames run out (then nothing is kept). */
void *vmap_space_alloc(struct vmap_space *s, size_t size, gfp_t gfp, const void *caller);
/* A kernel stack: a guard page below (where an overflow lands) and one
 * above; returns the lowest address. */
void *vmap_space_alloc_stack(struct vmap_space *s, size_t size, const char *owner,
                             const void *caller);
/* n given frames (physical addresses, page aligned) mapped contiguously
 * with prot (PT_*; never PT_U, never PT_W and PT_X together: NULL). */
void *vmap_space_map(struct vmap_space *s, const uint64_t *frames, size_t n, unsigned prot,
                     const void *caller);
/* Device memory [pa, pa + size), not page aligned necessarily, with a
 * cache type (PT_UC, PT_WC...); returns the address of pa itself.  RAM
 * is refused: one frame, two memory types. */
void *vmap_space_ioremap(struct vmap_space *s, uint64_t pa, size_t size, unsigned cache,
                         const void *caller);
/*
 * Undo one of the above: addr must be what it returned (iounmap takes any
 * address in the area's first page).  NULL does nothing.  Anything else
 * (not an area's start, an area of another kind, already freed) is
 * reported, counted in s->errors and, unless s->debug, a panic.
 */
void vmap_space_free(struct vmap_space *s, const void *addr);
/* Flush the spans of the lazy areas on every CPU (one flush for all) and
 * release them; nothing when there are none.  Also done when lazy_pages
 * reaches lazy_max and when no gap fits a new area. */
void vmap_space_purge(struct vmap_space *s);
void vmap_space_free_stack(struct vmap_space *s, const void *base);
void vmap_space_unmap(struct vmap_space *s, const void *addr);
void vmap_space_iounmap(struct vmap_space *s, const volatile void *addr);

/* The area whose mapping or guard pages contain addr, or NULL. */
const struct vm_area *vmap_space_find(const struct vmap_space *s, uint64_t addr);
/* See vmalloc_report_guard and vmalloc_stack_overflow below. */
bool vmap_space_report_guard(const struct vmap_space *s, uint64_t addr);
bool vmap_space_stack_overflow(const struct vmap_space *s, uint64_t rsp, uint64_t cr2,
                               const struct vm_area **area);
/* vmallocinfo of this space: the length of the whole text, as snprintf. */
int vmap_space_info(const struct vmap_space *s, char *buf, size_t size);

/*
 * The validator (mm/vmalloc_check.c): walk the whole structure and
 * recount.  The list: sorted, as long as nr_areas says, every area well
 * formed (kind, aligned non-empty size, a guard below exactly for stacks,
 * protections never user nor W+X), reserved spans (guards included)
 * disjoint and inside [start, end), owned pages summing to nr_frames.
 * The tables, through pt_for_each over the whole range: every page of
 * each area's [addr, addr + size) mapped by a 4 KiB leaf with the area's
 * protections, nothing else mapped (guard pages and gaps empty), owned
 * frames allocated order-0 frames, ioremap pages at their device
 * addresses.  Returns 0, or -EUCLEAN with the first problem in why.  Only
 * reads.
 */
int vmalloc_check(const struct vmap_space *s, char *why, size_t size);

/* ---- the kernel's instance and its API ----------------------------------------------------- */

extern struct vmap_space vmalloc_space;

/* Set up vmalloc_space (after the slab allocator and kernel_pt_build);
 * `debug` makes bad frees a report instead of a panic. */
void vmalloc_init(bool debug);

void *vmalloc(size_t size);
void *vzalloc(size_t size);
/* vfree(NULL) does nothing; anything else must be a vmalloc() result. */
void vfree(const void *addr);

/* Map n given frames (physical addresses) contiguously, with prot (PT_*;
 * never PT_U, never PT_W and PT_X together). */
void *vmap(const uint64_t *frames, size_t n, unsigned prot);
void vunmap(const void *addr);

/* Device memory: ioremap is uncached (MMIO), ioremap_wc write-combining
 * (framebuffers).  pa and size need not be page aligned.  RAM (anything
 * the direct map covers) is refused: one frame, two memory types. */
void *ioremap(uint64_t pa, size_t size);
void *ioremap_wc(uint64_t pa, size_t size);
void iounmap(volatile void *addr);

/* A kernel stack of `size` bytes with a guard page below it (where an
 * overflow lands) and one above.  Returns the lowest address. */
void *vmalloc_stack(size_t size, const char *owner);
void vfree_stack(void *base);   /* NULL does nothing */

/* The area whose mapping or guard pages contain addr, or NULL. */
const struct vm_area *find_vm_area(uint64_t addr);
/* Is addr in a guard page?  Then print "guard page hit" with the area's
 * owner (and "stack overflow" for a stack) and return true. */
bool vmalloc_report_guard(uint64_t addr);
/* For the double-fault handler: do this RSP and CR2 say a kernel stack
 * overflowed into its guard page?  Fills *area. */
bool vmalloc_stack_overflow(uint64_t rsp, uint64_t cr2, const struct vm_area **area);

/* /proc/vmallocinfo, in Linux's format. */
int vmallocinfo(char *buf, size_t size);
/* Frames held by vmalloc areas and stacks; the number of areas. */
uint64_t vmalloc_nr_pages(void);
uint64_t vmalloc_nr_areas(void);
/* vmap_space_purge of the kernel's space. */
void vmalloc_purge(void);
/* Free the kernel's vmalloc areas lazily from now on (the other CPUs are
 * online: kernel/cpu/tlb_shootdown.c), up to Linux's lazy_max_pages for
 * that many CPUs. */
void vmalloc_lazy_init(unsigned cpus);

/*
 * Migration's vmalloc half (mm/migrate.c calls it for a PG2_VMALLOC
 * page): new, a copy of old referenced once, takes old's place in its
 * area: the kernel pte at old->index maps new (pt_replace: rights kept,
 * one flush), new gets old's marks (PG2_VMALLOC, mapping, index), and
 * old loses them, its reference still to be dropped by the caller.
 * Cannot fail for a page vmalloc marked.
 */
struct page;
void vmalloc_move_page(struct page *old, struct page *new);

#endif
