/*
 * vmalloc, vmap, ioremap and kernel stacks: an allocator of virtual
 * address ranges (struct vmap_space).
 *
 * The direct map can only hand out memory that is physically contiguous,
 * and large contiguous runs become rare as memory fragments.  The course
 * slides on Linux's allocators present vmalloc as the answer: a zone of
 * memory that is contiguous in virtual addresses only.  vmalloc builds
 * that contiguity in the page tables: it takes single frames wherever the
 * buddy allocator has them and maps them one after the other in its
 * range.  The same range serves device memory (ioremap, with a cache type
 * chosen through PAT) and kernel stacks.
 *
 * A space is an instance: a range [start, end), the tables it maps into
 * (any struct pgtable: kernel_pt in the kernel, a private one over the
 * host arena in tests), its area list and counters, and hooks for the
 * kernel-only parts (symbol names, "is this RAM", where reports go).  TLB
 * maintenance is the tables' own flush hook.  The kernel's instance and
 * the API the rest of the kernel uses (vmalloc, vfree, ioremap...) are at
 * the end of this file; vmalloc_init (mm/vmalloc_kernel.c) points it at
 * kernel_pt.
 *
 * The area allocator is a list of areas sorted by address, searched
 * first-fit.  Each area reserves its mapping plus one unmapped guard page
 * after it (stacks also get one before it, where an overflow lands), so
 * running off the end of an area faults instead of scribbling on the
 * neighbour.  Linux keeps the same areas in a red-black tree augmented
 * with the largest free gap below each node; a list keeps this readable
 * and is fast enough for the few hundred areas a small kernel has.
 *
 * Invariants (checked by vmalloc_check, mm/vmalloc_check.c): areas are
 * sorted, nr_areas long, and their reserved spans [addr - guard_below,
 * addr + size + PAGE_SIZE) never overlap and lie inside [start, end);
 * exactly the [addr, addr + size) part of an area is mapped, with 4 KiB
 * leaves of the area's protections, and nothing else in the range is;
 * nr_frames counts the frames owned by VM_ALLOC and VM_STACK areas (their
 * nr_pages).  Each frame of a VM_ALLOC area is movable: marked
 * PG2_VMALLOC, with mapping = its area and index = the address it is
 * mapped at, so that migration (mm/migrate.c) can find its one pte and
 * vmalloc_move_page rewrite it; the marks go when the frame is freed.
 * Stack frames are not marked: the CPU may be running on them, and a
 * copy would miss the writes made while it is taken.  Between two calls no area is half built: a failure unwinds
 * before returning.  The caller serializes calls on one space.
 *
 * Lazy freeing (lazy_max set: several CPUs): a freed VM_ALLOC or
 * VM_STACK area is unmapped and its frames freed at once, with only this
 * CPU's TLB flushed; it stays in the list, marked lazy, not counted in
 * nr_areas, so that its span cannot be handed out while another CPU may
 * still hold a translation of it.  The purge flushes every CPU once for
 * all the lazy spans, then releases them.  Linux does the same
 * (purge_vmap_area_lazy): a translation left in another CPU's TLB points
 * to a freed frame, but only for an address nobody may use any more,
 * and it is gone before the address is.
 */
#include <mm/vmalloc.h>
#include <mm/gfp.h>
#include <mm/pgtable.h>
#include <mm/slab.h>
#include <mm/tlb.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/sbuf.h>
#include <kernel/string.h>

int vmap_space_init(struct vmap_space *s, struct pgtable *pt, uint64_t start, uint64_t end,
                    bool debug)
{
    if (!pt || ((start | end) & (PAGE_SIZE - 1)) || start >= end || start < pt->va_start ||
        end > pt->va_end)
        return -EINVAL;
    memset(s, 0, sizeof(*s));
    s->start = start;
    s->end = end;
    s->pt = pt;
    s->debug = debug;
    return 0;
}

/* One line through the report hook, or printk. */
static __printf(2, 3) void vm_report(const struct vmap_space *s, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (s->report)
        s->report(msg);
    else
        printk("%s\n", msg);
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
 * NULL with *err set: -ENOSPC when no gap fits, -ENOMEM when there is no
 * memory for the descriptor.
 */
static struct vm_area *reserve_once(struct vmap_space *s, uint64_t size, uint64_t below,
                                    enum vm_kind kind, const void *caller, int *err)
{
    uint64_t room = s->end - s->start;
    *err = -ENOSPC;
    if (size == 0 || size > room || below > room - size || PAGE_SIZE > room - size - below)
        return NULL;
    uint64_t need = below + size + PAGE_SIZE;
    uint64_t start = s->start;
    struct vm_area **link = &s->areas;
    while (*link && span_start(*link) - start < need) {
        start = span_end(*link);
        link = &(*link)->next;
    }
    if (s->end - start < need)
        return NULL;
    struct vm_area *a = kmalloc(sizeof(*a), GFP_KERNEL);
    if (!a) {
        *err = -ENOMEM;
        return NULL;
    }
    memset(a, 0, sizeof(*a));
    a->addr = start + below;
    a->size = size;
    a->guard_below = below;
    a->kind = kind;
    a->caller = caller;
    a->space = s;
    a->next = *link;
    *link = a;
    s->nr_areas++;
    return a;
}

/* The same, after a purge of the lazy areas when no gap fits. */
static struct vm_area *area_reserve(struct vmap_space *s, uint64_t size, uint64_t below,
                                    enum vm_kind kind, const void *caller, int *err)
{
    struct vm_area *a = reserve_once(s, size, below, kind, caller, err);
    if (!a && *err == -ENOSPC && s->nr_lazy) {
        vmap_space_purge(s);
        a = reserve_once(s, size, below, kind, caller, err);
    }
    return a;
}

/* Unlink and free an area (its mapping must be gone). */
static void area_release(struct vmap_space *s, struct vm_area *a)
{
    for (struct vm_area **link = &s->areas; *link; link = &(*link)->next)
        if (*link == a) {
            *link = a->next;
            break;
        }
    s->nr_areas--;   /* never a lazy one: vmap_space_purge releases those */
    kfree(a);
}

void vmap_space_purge(struct vmap_space *s)
{
    if (!s->nr_lazy)
        return;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (struct vm_area *a = s->areas; a; a = a->next)
        if (a->lazy) {
            lo = MIN(lo, span_start(a));
            hi = MAX(hi, span_end(a));
        }
    /* One flush of everything they covered, on every CPU: above 33 pages
     * a full flush, which is the usual case. */
    if (s->pt->flush)
        s->pt->flush(s->pt, lo, hi - lo);
    struct vm_area **link = &s->areas;
    while (*link) {
        struct vm_area *a = *link;
        if (a->lazy) {
            *link = a->next;
            kfree(a);
        } else {
            link = &a->next;
        }
    }
    s->nr_lazy = 0;
    s->lazy_pages = 0;
    s->purges++;
}

const struct vm_area *vmap_space_find(const struct vmap_space *s, uint64_t addr)
{
    for (struct vm_area *a = s->areas; a && span_start(a) <= addr; a = a->next)
        if (addr < span_end(a) && !a->lazy)
            return a;
    return NULL;
}

/* Per kind: its name in reports, and the call that frees it. */
static const char *const kind_name[VM_NR_KINDS] = { "vmalloc", "vmap", "ioremap", "stack" };
static const char *const kind_free[VM_NR_KINDS] = { "vfree", "vunmap", "iounmap",
                                                    "vfree_stack" };

/* "function+0x12" for an area's caller (or its bare address). */
static void caller_str(const struct vmap_space *s, const struct vm_area *a, char *buf,
                       size_t size)
{
    uint64_t off;
    const char *sym = s->sym_lookup ? s->sym_lookup((uint64_t)a->caller, &off) : NULL;
    if (sym)
        snprintf(buf, size, "%s+0x%lx", sym, off);
    else
        snprintf(buf, size, "%p", a->caller);
}

/* The area starting exactly at addr, or NULL after a report. */
static struct vm_area *area_at(struct vmap_space *s, const void *addr, enum vm_kind kind,
                               const char *fn)
{
    uint64_t va = (uint64_t)addr;
    const struct vm_area *near = vmap_space_find(s, va);
    if (near && near->addr == va && near->kind == kind)
        return (struct vm_area *)near;
    if (near && near->addr == va)
        vm_report(s, "%s: %#lx is a %s area (free it with %s)", fn, va,
                  kind_name[near->kind], kind_free[near->kind]);
    else if (near)
        vm_report(s, "%s: %#lx is inside the %s area %#lx+%#lx, not at its start", fn, va,
                  kind_name[near->kind], near->addr, near->size);
    else
        vm_report(s, "%s: %#lx was not allocated (no area there: already freed?)", fn, va);
    s->errors++;
    if (!s->debug)
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
 * failed half-way) are skipped.  Lazily (s->lazy_max), the flush is this
 * CPU's only and the area stays, lazy, until the purge.
 */
#define FREE_BATCH (TLB_FLUSH_CEILING - 1)
static void area_free_frames(struct vmap_space *s, struct vm_area *a)
{
    bool lazy = s->lazy_max && s->remote_defer;
    uint64_t pages = a->size / PAGE_SIZE;
    for (uint64_t off = 0; off < a->size; off += FREE_BATCH * PAGE_SIZE) {
        uint64_t pa[FREE_BATCH], n = 0;
        uint64_t len = MIN(a->size - off, (uint64_t)FREE_BATCH * PAGE_SIZE);
        for (uint64_t o = 0; o < len; o += PAGE_SIZE) {
            struct pt_view v;
            if (pt_walk(s->pt, a->addr + off + o, &v) == 0)
                pa[n++] = v.pa + (a->addr + off + o - v.va);
        }
        if (!n)
            continue;
        /* Only 4 KiB leaves live here: nothing to split, it cannot fail.
         * Lazily, the flush it makes stays on this CPU. */
        if (lazy)
            s->remote_defer(true);
        pt_unmap(s->pt, a->addr + off, len);
        if (lazy)
            s->remote_defer(false);
        for (uint64_t i = 0; i < n; i++) {
            struct page *p = pfn_to_page(pa[i] >> PAGE_SHIFT);
            p->flags2 &= (uint8_t)~PG2_VMALLOC;
            p->mapping = 0;
            p->index = 0;
            __free_pages(p, 0);
        }
        s->nr_frames -= n;
        a->nr_pages -= n;
    }
    if (!lazy) {
        area_release(s, a);
        return;
    }
    a->lazy = true;
    s->nr_areas--;
    s->nr_lazy++;
    s->lazy_pages += pages;
    if (s->lazy_pages >= s->lazy_max)
        vmap_space_purge(s);
}

/* Allocate and map frames for a reserved area, one at a time. */
static int area_populate(struct vmap_space *s, struct vm_area *a, gfp_t gfp)
{
    for (uint64_t off = 0; off < a->size; off += PAGE_SIZE) {
        struct page *p = alloc_page(gfp | __GFP_NOWARN);
        if (!p)
            return -ENOMEM;
        int err = pt_map(s->pt, a->addr + off, page_to_phys(p), PAGE_SIZE, a->prot, 0);
        if (err) {
            __free_pages(p, 0);
            return err;
        }
        if (a->kind == VM_ALLOC) {
            p->flags2 |= PG2_VMALLOC | PG2_MOVABLE;
            p->mapping = (uint64_t)(uintptr_t)a;
            p->index = a->addr + off;
        }
        a->nr_pages++;
        s->nr_frames++;
    }
    return 0;
}

static void *alloc_area(struct vmap_space *s, size_t size, uint64_t below, enum vm_kind kind,
                        gfp_t gfp, const void *caller, const char *owner)
{
    if (size == 0 || size > s->end - s->start)
        return NULL;
    uint64_t bytes = ALIGN_UP((uint64_t)size, PAGE_SIZE);
    int err;
    struct vm_area *a = area_reserve(s, bytes, below, kind, caller, &err);
    if (!a) {
        vm_report(s, "vmalloc: %s for %zu bytes (caller %p)",
                  err == -ENOSPC ? "no room" : "out of memory", size, caller);
        return NULL;
    }
    a->owner = owner;
    a->prot = PT_W | PT_G;
    if (area_populate(s, a, gfp)) {
        vm_report(s, "vmalloc: out of memory for %zu bytes (caller %p)", size, caller);
        /* only the frames mapped so far are unmapped; pt_unmap skips holes */
        area_free_frames(s, a);
        return NULL;
    }
    return (void *)a->addr;
}

void *vmap_space_alloc(struct vmap_space *s, size_t size, gfp_t gfp, const void *caller)
{
    return alloc_area(s, size, 0, VM_ALLOC, gfp, caller, NULL);
}

void *vmap_space_alloc_stack(struct vmap_space *s, size_t size, const char *owner,
                             const void *caller)
{
    /*
     * Zeroed, as Linux's kernel stacks (THREADINFO_GFP has __GFP_ZERO): no
     * stale data from the frames' last owner.  Under QEMU's TCG it also
     * matters for speed: a frame that held firmware code (EFI boot
     * services code is usable RAM after the loader leaves) keeps its
     * translated blocks until its bytes are overwritten, and until then
     * every store to the frame takes QEMU's self-modifying-code check,
     * ~100 times slower.  A stack is written only near its top, so
     * without this clear a boot whose stack lands on such a frame ran
     * everything ~100 times slower (docs/terminal.md).
     */
    return alloc_area(s, size, PAGE_SIZE, VM_STACK, GFP_KERNEL | __GFP_ZERO, caller, owner);
}

void vmap_space_free(struct vmap_space *s, const void *addr)
{
    if (!addr)
        return;
    struct vm_area *a = area_at(s, addr, VM_ALLOC, "vfree");
    if (a)
        area_free_frames(s, a);
}

void vmap_space_free_stack(struct vmap_space *s, const void *base)
{
    if (!base)
        return;
    struct vm_area *a = area_at(s, base, VM_STACK, "vfree_stack");
    if (a)
        area_free_frames(s, a);
}

/* Map a physically contiguous or given set of frames into a new area. */
static void *map_area(struct vmap_space *s, enum vm_kind kind, uint64_t bytes, unsigned prot,
                      const uint64_t *frames, uint64_t phys, const void *caller)
{
    int err;
    struct vm_area *a = area_reserve(s, bytes, 0, kind, caller, &err);
    if (!a)
        return NULL;
    a->prot = prot | PT_G;
    a->phys = phys;
    err = 0;
    if (frames) {
        for (uint64_t i = 0; i < bytes / PAGE_SIZE && !err; i++)
            err = pt_map(s->pt, a->addr + i * PAGE_SIZE, frames[i], PAGE_SIZE, a->prot, 0);
    } else {
        err = pt_map(s->pt, a->addr, phys, bytes, a->prot, 0);
    }
    if (err) {
        pt_unmap(s->pt, a->addr, a->size);
        area_release(s, a);
        return NULL;
    }
    return (void *)a->addr;
}

void *vmap_space_map(struct vmap_space *s, const uint64_t *frames, size_t n, unsigned prot,
                     const void *caller)
{
    /* never user-accessible, never writable and executable at once (W^X) */
    if (!frames || n == 0 || n > (s->end - s->start) / PAGE_SIZE ||
        (prot & ~PT_PROT_MASK) || (prot & PT_U) || ((prot & PT_W) && (prot & PT_X)))
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (frames[i] & (PAGE_SIZE - 1))
            return NULL;
    return map_area(s, VM_MAP, n * PAGE_SIZE, prot, frames, 0, caller);
}

void vmap_space_unmap(struct vmap_space *s, const void *addr)
{
    if (!addr)
        return;
    struct vm_area *a = area_at(s, addr, VM_MAP, "vunmap");
    if (a) {
        pt_unmap(s->pt, a->addr, a->size);
        area_release(s, a);
    }
}

void *vmap_space_ioremap(struct vmap_space *s, uint64_t pa, size_t size, unsigned cache,
                         const void *caller)
{
    if (size == 0 || pa + size < pa || pa + size > (1ul << 52) || (cache & ~PT_CACHE_MASK))
        return NULL;
    /* RAM already has a write-back mapping in the direct map: a second one,
     * uncached or write-combining, would give one frame two memory types,
     * which the SDM leaves undefined (vol. 3A, 11.12.4). */
    if (!s->is_ram) {
        vm_report(s, "ioremap: %#lx+%#zx refused: no way to tell RAM from device memory",
                  pa, size);
        return NULL;
    }
    if (s->is_ram(pa, size)) {
        vm_report(s, "ioremap: %#lx+%#zx is RAM (in the direct map); refused", pa, size);
        return NULL;
    }
    uint64_t first = ALIGN_DOWN(pa, PAGE_SIZE);
    uint64_t bytes = ALIGN_UP(pa + size, PAGE_SIZE) - first;
    void *v = map_area(s, VM_IOREMAP, bytes, PT_W | cache, NULL, first, caller);
    return v ? (uint8_t *)v + (pa - first) : NULL;
}

void vmap_space_iounmap(struct vmap_space *s, const volatile void *addr)
{
    if (!addr)
        return;
    uint64_t va = ALIGN_DOWN((uint64_t)addr, PAGE_SIZE);
    struct vm_area *a = area_at(s, (void *)va, VM_IOREMAP, "iounmap");
    if (a) {
        pt_unmap(s->pt, a->addr, a->size);
        area_release(s, a);
    }
}

/* ---- migration -------------------------------------------------------------------- */

void vmalloc_move_page(struct page *old, struct page *new)
{
    struct vm_area *a = (struct vm_area *)(uintptr_t)old->mapping;
    uint64_t va = old->index;
    struct pt_view v;
    if (!(old->flags2 & PG2_VMALLOC) || !a || va < a->addr || va >= a->addr + a->size ||
        pt_walk(a->space->pt, va, &v) || v.pa != page_to_phys(old) || v.size != PAGE_SIZE)
        panic("vmalloc_move_page: frame %#lx is not the vmalloc page it claims (area %p, "
              "address %#lx)", page_to_phys(old), (void *)a, va);
    /* Same rights, one flush; the area's reference is new's from now on. */
    int err = pt_replace_view(a->space->pt, &v, page_to_phys(new), v.prot);
    if (err)
        panic("vmalloc_move_page: pt_replace at %#lx failed (%d)", va, err);
    new->flags2 |= PG2_VMALLOC | PG2_MOVABLE;
    new->mapping = old->mapping;
    new->index = va;
    old->flags2 &= (uint8_t)~(PG2_VMALLOC | PG2_MOVABLE);
    old->mapping = 0;
    old->index = 0;
}

/* ---- guard pages ------------------------------------------------------------------- */

static void describe(const struct vmap_space *s, const struct vm_area *a, char *buf,
                     size_t size)
{
    char caller[96];
    caller_str(s, a, caller, sizeof(caller));
    snprintf(buf, size, "%s area %#lx-%#lx%s%s allocated by %s", kind_name[a->kind],
             a->addr, (a->addr + a->size),
             a->owner ? " of " : "", a->owner ? a->owner : "", caller);
}

bool vmap_space_report_guard(const struct vmap_space *s, uint64_t addr)
{
    const struct vm_area *a = vmap_space_find(s, addr);
    char what[200];
    if (!a || (addr >= a->addr && addr < a->addr + a->size))
        return false;
    describe(s, a, what, sizeof(what));
    if (addr < a->addr)
        vm_report(s, "guard page hit: %#lx is %lu bytes below the %s (stack overflow)",
                  addr, (a->addr - addr), what);
    else
        vm_report(s, "guard page hit: %#lx is %lu bytes past the end of the %s",
                  addr, (addr - a->addr - a->size + 1), what);
    /* The guard after one area is also just below the next one: an
     * underrun of that one lands here too. */
    if (addr >= a->addr + a->size && a->next && !a->next->lazy && a->next->guard_below == 0 &&
        a->next->addr == span_end(a)) {
        describe(s, a->next, what, sizeof(what));
        vm_report(s, "guard page hit: ... or %lu bytes before the start of the %s",
                  (a->next->addr - addr), what);
    }
    return true;
}

/* Is addr in the guard page below a stack, or within 256 bytes of its bottom? */
static const struct vm_area *stack_bottom(const struct vmap_space *s, uint64_t addr)
{
    const struct vm_area *a = vmap_space_find(s, addr);
    if (!a || a->kind != VM_STACK)
        return NULL;
    if (addr < a->addr || addr - a->addr < 256)
        return a;
    return NULL;
}

bool vmap_space_stack_overflow(const struct vmap_space *s, uint64_t rsp, uint64_t cr2,
                               const struct vm_area **area)
{
    /* A #PF that cannot be delivered because its frame would land in a
     * stack's guard page becomes a #DF: RSP sits at (or just below) the
     * bottom of the stack, and CR2 is the guard address.  RSP decides:
     * CR2 may be stale when the #DF had another cause, so it only counts
     * when RSP is within a page of the same stack's bottom. */
    *area = stack_bottom(s, rsp);
    if (!*area) {
        const struct vm_area *a = stack_bottom(s, cr2);
        if (a && rsp + PAGE_SIZE >= a->addr - a->guard_below && rsp < a->addr + PAGE_SIZE)
            *area = a;
    }
    return *area != NULL;
}

/* ---- statistics ------------------------------------------------------------------------ */

int vmap_space_info(const struct vmap_space *s, char *buf, size_t size)
{
    struct sbuf sb = { buf, size, 0 };
    if (size)
        buf[0] = 0;
    for (const struct vm_area *a = s->areas; a; a = a->next) {
        if (a->lazy)
            continue;   /* freed already: Linux's vmallocinfo does not show them either */
        char caller[96];
        caller_str(s, a, caller, sizeof(caller));
        /* Linux prints the span with its guard page, and the size with it too. */
        sbuf_put(&sb, "0x%016lx-0x%016lx %8lu %s", span_start(a), span_end(a),
                 (span_end(a) - span_start(a)), caller);
        if (a->kind == VM_IOREMAP)
            sbuf_put(&sb, " phys=0x%lx ioremap\n", a->phys);
        else if (a->kind == VM_STACK)
            sbuf_put(&sb, " pages=%lu vmalloc stack %s\n", a->nr_pages,
                     a->owner ? a->owner : "");
        else if (a->kind == VM_ALLOC)
            sbuf_put(&sb, " pages=%lu vmalloc\n", a->nr_pages);
        else
            sbuf_put(&sb, " vmap\n");
    }
    return (int)sb.len;
}

/* ---- the kernel's instance --------------------------------------------------------------- */

/*
 * Set up by vmalloc_init (mm/vmalloc_kernel.c).  Until then its range is
 * empty, so every allocation fails cleanly.  Each call passes its own
 * return address as the caller, which is the function that called
 * vmalloc, vmap... (what vmallocinfo and the guard reports name).
 */
struct vmap_space vmalloc_space;

void *vmalloc(size_t size)
{
    return vmap_space_alloc(&vmalloc_space, size, GFP_KERNEL, __builtin_return_address(0));
}

void *vzalloc(size_t size)
{
    return vmap_space_alloc(&vmalloc_space, size, GFP_KERNEL | __GFP_ZERO,
                            __builtin_return_address(0));
}

void vfree(const void *addr)
{
    vmap_space_free(&vmalloc_space, addr);
}

void *vmalloc_stack(size_t size, const char *owner)
{
    return vmap_space_alloc_stack(&vmalloc_space, size, owner, __builtin_return_address(0));
}

void vfree_stack(void *base)
{
    vmap_space_free_stack(&vmalloc_space, base);
}

void *vmap(const uint64_t *frames, size_t n, unsigned prot)
{
    return vmap_space_map(&vmalloc_space, frames, n, prot, __builtin_return_address(0));
}

void vunmap(const void *addr)
{
    vmap_space_unmap(&vmalloc_space, addr);
}

void *ioremap(uint64_t pa, size_t size)
{
    return vmap_space_ioremap(&vmalloc_space, pa, size, PT_UC, __builtin_return_address(0));
}

void *ioremap_wc(uint64_t pa, size_t size)
{
    return vmap_space_ioremap(&vmalloc_space, pa, size, PT_WC, __builtin_return_address(0));
}

void iounmap(volatile void *addr)
{
    vmap_space_iounmap(&vmalloc_space, addr);
}

const struct vm_area *find_vm_area(uint64_t addr)
{
    return vmap_space_find(&vmalloc_space, addr);
}

bool vmalloc_report_guard(uint64_t addr)
{
    return vmap_space_report_guard(&vmalloc_space, addr);
}

bool vmalloc_stack_overflow(uint64_t rsp, uint64_t cr2, const struct vm_area **area)
{
    return vmap_space_stack_overflow(&vmalloc_space, rsp, cr2, area);
}

int vmallocinfo(char *buf, size_t size)
{
    return vmap_space_info(&vmalloc_space, buf, size);
}

uint64_t vmalloc_nr_pages(void)
{
    return vmalloc_space.nr_frames;
}

uint64_t vmalloc_nr_areas(void)
{
    return vmalloc_space.nr_areas;
}

void vmalloc_purge(void)
{
    vmap_space_purge(&vmalloc_space);
}
