/*
 * vmalloc, vmap, ioremap and kernel stacks: the vmalloc range.
 *
 * The direct map can only hand out memory that is physically contiguous,
 * and large contiguous runs become rare as memory fragments (seed 002:
 * "vmalloc ... zone de mémoire virtuellement contiguë").  vmalloc builds
 * contiguity in the page tables instead: it takes single frames wherever
 * the buddy allocator has them and maps them one after the other in the
 * vmalloc range.  The same range serves device memory (ioremap, with a
 * cache type chosen through PAT) and kernel stacks.
 *
 * The area allocator is a list of areas sorted by address, searched
 * first-fit.  Each area reserves its mapping plus one unmapped guard page
 * after it (stacks also get one before it, where an overflow lands), so
 * running off the end of an area faults instead of scribbling on the
 * neighbour.  Linux keeps the same areas in a red-black tree augmented
 * with the largest free gap below each node; a list keeps this readable
 * and is fast enough for the few hundred areas a small kernel has.
 *
 * Invariants: areas are sorted and their reserved spans [addr -
 * guard_below, addr + size + PAGE_SIZE) never overlap and lie inside
 * [VMALLOC_START, VMALLOC_END); exactly the [addr, addr + size) part of
 * an area is mapped; nr_frames counts the frames owned by VM_ALLOC and
 * VM_STACK areas.
 */
#include <mm/vmalloc.h>
#include <mm/kernel_pt.h>
#include <mm/layout.h>
#include <mm/bootmem.h>
#include <mm/gfp.h>
#include <mm/slab.h>
#include <mm/tlb.h>
#include <kernel/errno.h>
#include <kernel/ksyms.h>
#include <kernel/printk.h>
#include <kernel/sbuf.h>
#include <kernel/string.h>

static struct vm_area *areas;        /* sorted by address */
static uint64_t nr_areas, nr_frames;
static bool debug_mode;

void vmalloc_init(bool debug)
{
    debug_mode = debug;
}

static uint64_t span_start(const struct vm_area *a)
{
    return a->addr - a->guard_below;
}

static uint64_t span_end(const struct vm_area *a)
{
    return a->addr + a->size + PAGE_SIZE;
}

/*
 * Reserve address space for `size` mapped bytes with `below` guard bytes
 * before them: the first gap that fits.  Returns the area, linked in, or
 * NULL.
 */
static struct vm_area *area_reserve(uint64_t size, uint64_t below, enum vm_kind kind,
                                    const void *caller)
{
    uint64_t need = below + size + PAGE_SIZE;
    if (size == 0 || size > VMALLOC_END - VMALLOC_START || need > VMALLOC_END - VMALLOC_START)
        return NULL;
    struct vm_area *a = kmalloc(sizeof(*a), GFP_KERNEL);
    if (!a)
        return NULL;
    uint64_t start = VMALLOC_START;
    struct vm_area **link = &areas;
    while (*link && span_start(*link) - start < need) {
        start = span_end(*link);
        link = &(*link)->next;
    }
    if (VMALLOC_END - start < need) {
        kfree(a);
        return NULL;
    }
    memset(a, 0, sizeof(*a));
    a->addr = start + below;
    a->size = size;
    a->guard_below = below;
    a->kind = kind;
    a->caller = caller;
    a->next = *link;
    *link = a;
    nr_areas++;
    return a;
}

/* Unlink and free an area (its mapping must be gone). */
static void area_release(struct vm_area *a)
{
    for (struct vm_area **link = &areas; *link; link = &(*link)->next)
        if (*link == a) {
            *link = a->next;
            break;
        }
    nr_areas--;
    kfree(a);
}

const struct vm_area *find_vm_area(uint64_t addr)
{
    for (struct vm_area *a = areas; a && span_start(a) <= addr; a = a->next)
        if (addr < span_end(a))
            return a;
    return NULL;
}

/* Per kind: its name in reports, and the call that frees it. */
static const char *const kind_name[] = { "vmalloc", "vmap", "ioremap", "stack" };
static const char *const kind_free[] = { "vfree", "vunmap", "iounmap", "vfree_stack" };

/* "function+0x12" for an area's caller (or its bare address). */
static void caller_str(const struct vm_area *a, char *buf, size_t size)
{
    uint64_t off;
    const char *sym = ksym_lookup((uint64_t)a->caller, &off);
    if (sym)
        snprintf(buf, size, "%s+0x%lx", sym, off);
    else
        snprintf(buf, size, "%p", a->caller);
}

/* The area starting exactly at addr, or NULL after a report. */
static struct vm_area *area_at(const void *addr, enum vm_kind kind, const char *fn)
{
    uint64_t va = (uint64_t)addr;
    const struct vm_area *near = find_vm_area(va);
    if (near && near->addr == va && near->kind == kind)
        return (struct vm_area *)near;
    if (near && near->addr == va)
        printk("%s: %#lx is a %s area (free it with %s)\n", fn, va,
               kind_name[near->kind], kind_free[near->kind]);
    else if (near)
        printk("%s: %#lx is inside the %s area %#lx+%#lx, not at its start\n", fn,
               va, kind_name[near->kind], near->addr,
               near->size);
    else
        printk("%s: %#lx was not allocated (no area there: already freed?)\n", fn,
               va);
    if (!debug_mode)
        panic("%s(%#lx): bad pointer", fn, va);
    return NULL;
}

/*
 * Undo a VM_ALLOC/VM_STACK area: unmap its pages and give their frames
 * back, then release the area.  The frames are found by walking the
 * tables, so an area needs no array of them (such an array would itself
 * need physically contiguous memory for a large vmalloc).  Pages go in
 * batches of TLB_FLUSH_CEILING - 1: one pt_unmap (one flush) per batch,
 * and each frame is freed only after the flush.  Holes (a vmalloc that
 * failed half-way) are skipped.
 */
#define FREE_BATCH (TLB_FLUSH_CEILING - 1)
static void area_free_frames(struct vm_area *a)
{
    for (uint64_t off = 0; off < a->size; off += FREE_BATCH * PAGE_SIZE) {
        uint64_t pa[FREE_BATCH], n = 0;
        uint64_t len = MIN(a->size - off, (uint64_t)FREE_BATCH * PAGE_SIZE);
        for (uint64_t o = 0; o < len; o += PAGE_SIZE) {
            struct pt_view v;
            if (pt_walk(&kernel_pt, a->addr + off + o, &v) == 0)
                pa[n++] = v.pa + (a->addr + off + o - v.va);
        }
        if (!n)
            continue;
        pt_unmap(&kernel_pt, a->addr + off, len);
        for (uint64_t i = 0; i < n; i++)
            __free_pages(pfn_to_page(pa[i] >> PAGE_SHIFT), 0);
        nr_frames -= n;
        a->nr_pages -= n;
    }
    area_release(a);
}

/* Allocate and map frames for a reserved area, one at a time. */
static int area_populate(struct vm_area *a, gfp_t gfp)
{
    for (uint64_t off = 0; off < a->size; off += PAGE_SIZE) {
        struct page *p = alloc_page(gfp | __GFP_NOWARN);
        if (!p)
            return -ENOMEM;
        int err = pt_map(&kernel_pt, a->addr + off, page_to_phys(p), PAGE_SIZE, a->prot, 0);
        if (err) {
            __free_pages(p, 0);
            return err;
        }
        a->nr_pages++;
        nr_frames++;
    }
    return 0;
}

static void *alloc_area(size_t size, uint64_t below, enum vm_kind kind, gfp_t gfp,
                        const void *caller, const char *owner)
{
    if (size == 0 || size > VMALLOC_END - VMALLOC_START)
        return NULL;
    uint64_t bytes = ALIGN_UP((uint64_t)size, PAGE_SIZE);
    struct vm_area *a = area_reserve(bytes, below, kind, caller);
    if (!a) {
        printk("vmalloc: no room for %zu bytes (caller %p)\n", size, caller);
        return NULL;
    }
    a->owner = owner;
    a->prot = PT_W | PT_G;
    if (area_populate(a, gfp)) {
        printk("vmalloc: out of memory for %zu bytes (caller %p)\n", size, caller);
        /* only the frames mapped so far are unmapped; pt_unmap skips holes */
        area_free_frames(a);
        return NULL;
    }
    return (void *)a->addr;
}

void *vmalloc(size_t size)
{
    return alloc_area(size, 0, VM_ALLOC, GFP_KERNEL, __builtin_return_address(0), NULL);
}

void *vzalloc(size_t size)
{
    return alloc_area(size, 0, VM_ALLOC, GFP_KERNEL | __GFP_ZERO,
                      __builtin_return_address(0), NULL);
}

void vfree(const void *addr)
{
    if (!addr)
        return;
    struct vm_area *a = area_at(addr, VM_ALLOC, "vfree");
    if (a)
        area_free_frames(a);
}

void *vmalloc_stack(size_t size, const char *owner)
{
    return alloc_area(size, PAGE_SIZE, VM_STACK, GFP_KERNEL, __builtin_return_address(0),
                      owner);
}

void vfree_stack(void *base)
{
    if (!base)
        return;
    struct vm_area *a = area_at(base, VM_STACK, "vfree_stack");
    if (a)
        area_free_frames(a);
}

/* Map a physically contiguous or given set of frames into a new area. */
static void *map_area(enum vm_kind kind, uint64_t bytes, unsigned prot, const uint64_t *frames,
                      uint64_t phys, const void *caller)
{
    struct vm_area *a = area_reserve(bytes, 0, kind, caller);
    if (!a)
        return NULL;
    a->prot = prot | PT_G;
    a->phys = phys;
    int err = 0;
    if (frames) {
        for (uint64_t i = 0; i < bytes / PAGE_SIZE && !err; i++)
            err = pt_map(&kernel_pt, a->addr + i * PAGE_SIZE, frames[i], PAGE_SIZE,
                         a->prot, 0);
    } else {
        err = pt_map(&kernel_pt, a->addr, phys, bytes, a->prot, 0);
    }
    if (err) {
        pt_unmap(&kernel_pt, a->addr, a->size);
        area_release(a);
        return NULL;
    }
    return (void *)a->addr;
}

void *vmap(const uint64_t *frames, size_t n, unsigned prot)
{
    /* never user-accessible, never writable and executable at once (W^X) */
    if (!frames || n == 0 || n > (VMALLOC_END - VMALLOC_START) / PAGE_SIZE ||
        (prot & ~PT_PROT_MASK) || (prot & PT_U) || ((prot & PT_W) && (prot & PT_X)))
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (frames[i] & (PAGE_SIZE - 1))
            return NULL;
    return map_area(VM_MAP, n * PAGE_SIZE, prot, frames, 0, __builtin_return_address(0));
}

void vunmap(const void *addr)
{
    if (!addr)
        return;
    struct vm_area *a = area_at(addr, VM_MAP, "vunmap");
    if (a) {
        pt_unmap(&kernel_pt, a->addr, a->size);
        area_release(a);
    }
}

static void *ioremap_cache(uint64_t pa, size_t size, unsigned cache, const void *caller)
{
    if (size == 0 || pa + size < pa || pa + size > (1ul << 52))
        return NULL;
    /* RAM already has a write-back mapping in the direct map: a second one,
     * uncached or write-combining, would give one frame two memory types,
     * which the SDM leaves undefined (vol. 3A, 11.12.4). */
    if (mem_is_ram(pa, size)) {
        printk("ioremap: %#lx+%#zx is RAM (in the direct map); refused\n",
               pa, size);
        return NULL;
    }
    uint64_t first = ALIGN_DOWN(pa, PAGE_SIZE);
    uint64_t bytes = ALIGN_UP(pa + size, PAGE_SIZE) - first;
    void *v = map_area(VM_IOREMAP, bytes, PT_W | cache, NULL, first, caller);
    return v ? (uint8_t *)v + (pa - first) : NULL;
}

void *ioremap(uint64_t pa, size_t size)
{
    return ioremap_cache(pa, size, PT_UC, __builtin_return_address(0));
}

void *ioremap_wc(uint64_t pa, size_t size)
{
    return ioremap_cache(pa, size, PT_WC, __builtin_return_address(0));
}

void iounmap(volatile void *addr)
{
    if (!addr)
        return;
    uint64_t va = ALIGN_DOWN((uint64_t)addr, PAGE_SIZE);
    struct vm_area *a = area_at((void *)va, VM_IOREMAP, "iounmap");
    if (a) {
        pt_unmap(&kernel_pt, a->addr, a->size);
        area_release(a);
    }
}

/* ---- guard pages ------------------------------------------------------------------- */

static void describe(const struct vm_area *a, char *buf, size_t size)
{
    char caller[96];
    caller_str(a, caller, sizeof(caller));
    snprintf(buf, size, "%s area %#lx-%#lx%s%s allocated by %s", kind_name[a->kind],
             a->addr, (a->addr + a->size),
             a->owner ? " of " : "", a->owner ? a->owner : "", caller);
}

bool vmalloc_report_guard(uint64_t addr)
{
    const struct vm_area *a = find_vm_area(addr);
    char what[200];
    if (!a || (addr >= a->addr && addr < a->addr + a->size))
        return false;
    describe(a, what, sizeof(what));
    if (addr < a->addr)
        printk("guard page hit: %#lx is %lu bytes below the %s (stack overflow)\n",
               addr, (a->addr - addr), what);
    else
        printk("guard page hit: %#lx is %lu bytes past the end of the %s\n",
               addr, (addr - a->addr - a->size + 1),
               what);
    /* The guard after one area is also just below the next one: an
     * underrun of that one lands here too. */
    if (addr >= a->addr + a->size && a->next && a->next->guard_below == 0 &&
        a->next->addr == span_end(a)) {
        describe(a->next, what, sizeof(what));
        printk("guard page hit: ... or %lu bytes before the start of the %s\n",
               (a->next->addr - addr), what);
    }
    return true;
}

/* Is addr in the guard page below a stack, or within 256 bytes of its bottom? */
static const struct vm_area *stack_bottom(uint64_t addr)
{
    const struct vm_area *a = find_vm_area(addr);
    if (!a || a->kind != VM_STACK)
        return NULL;
    if (addr < a->addr || addr - a->addr < 256)
        return a;
    return NULL;
}

bool vmalloc_stack_overflow(uint64_t rsp, uint64_t cr2, const struct vm_area **area)
{
    /* A #PF that cannot be delivered because its frame would land in a
     * stack's guard page becomes a #DF: RSP sits at (or just below) the
     * bottom of the stack, and CR2 is the guard address.  RSP decides:
     * CR2 may be stale when the #DF had another cause, so it only counts
     * when RSP is within a page of the same stack's bottom. */
    *area = stack_bottom(rsp);
    if (!*area) {
        const struct vm_area *a = stack_bottom(cr2);
        if (a && rsp + PAGE_SIZE >= a->addr - a->guard_below && rsp < a->addr + PAGE_SIZE)
            *area = a;
    }
    return *area != NULL;
}

/* ---- statistics ------------------------------------------------------------------------ */

int vmallocinfo(char *buf, size_t size)
{
    struct sbuf s = { buf, size, 0 };
    if (size)
        buf[0] = 0;
    for (const struct vm_area *a = areas; a; a = a->next) {
        char caller[96];
        caller_str(a, caller, sizeof(caller));
        /* Linux prints the span with its guard page, and the size with it too. */
        sbuf_put(&s, "0x%016lx-0x%016lx %8lu %s", span_start(a),
                 span_end(a),
                 (span_end(a) - span_start(a)), caller);
        if (a->kind == VM_IOREMAP)
            sbuf_put(&s, " phys=0x%lx ioremap\n", a->phys);
        else if (a->kind == VM_STACK)
            sbuf_put(&s, " pages=%lu vmalloc stack %s\n", a->nr_pages,
                     a->owner ? a->owner : "");
        else if (a->kind == VM_ALLOC)
            sbuf_put(&s, " pages=%lu vmalloc\n", a->nr_pages);
        else
            sbuf_put(&s, " vmap\n");
    }
    return (int)s.len;
}

uint64_t vmalloc_nr_pages(void)
{
    return nr_frames;
}

uint64_t vmalloc_nr_areas(void)
{
    return nr_areas;
}
