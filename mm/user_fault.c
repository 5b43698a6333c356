/*
 * User page faults: demand paging and copy-on-write (include/mm/vma.h;
 * a fault below a stack first lets it grow: mm/stack.c;
 * docs/address-spaces.md), and the helpers the kernel's user-copy code
 * uses to get the same effect before it touches user memory.
 *
 * Invariants this file keeps (mm/vma_check.c verifies them):
 *  - a present pte holds one reference on its frame, counted in rss, or
 *    in zero_maps for the zero page;
 *  - the zero page is only ever mapped read-only, in private anonymous
 *    VMAs, and keeps one reference of its own forever (pinned);
 *  - a private page is writable only if its frame's refcount is 1: no
 *    other address space maps it, so a write cannot be seen elsewhere.
 *    Fork makes private pages read-only in both; the first write then
 *    copies (refcount > 1) or just restores PT_W (refcount 1: the other
 *    side has copied or gone already);
 *  - shared anonymous pages are their object's frames, writable whenever
 *    the VMA is, never copied;
 *  - a page-cache file's pages (VMAs with a mapping) are mm/filemap.c's:
 *    a page of the cache is never writable in a private VMA (its
 *    refcount is the cache's + the ptes', so the write fault below always
 *    copies it), and mm_count_map/unmap keep its map count.
 *
 * A copy-on-write break gives the writer its copy with pt_replace_view:
 * the leaf the fault's one walk found (pt_walk's view keeps where it is)
 * is rewritten in place with the new frame and PT_W, one entry write and
 * one TLB flush, no second walk and no memory, so once the copy is made
 * nothing can fail.  (Unmapping then mapping again could free the table
 * in between and fail to get it back, with the old page already gone.)
 *
 * Left out: swapping (every fault is minor; no subsystem parks payload
 * entries in user address spaces yet, so nothing would bring such a page
 * back), read-ahead (fault-around).  A struct vm_file (the initrd's
 * bytes: ELF segments) is zero-filled past its end, for the bss; a
 * page-cache file gives SIGBUS there, as Linux (mm/filemap.c).
 */
#include <mm/vma.h>
#include <mm/rmap.h>
#include <mm/compaction.h>
#include <mm/vmscan.h>
#include <mm/mempolicy.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>

#include "mmap_impl.h"   /* mm_stack_rlimit, for the kill report */

static uint64_t zero_pa;

int mm_zero_page_init(void)
{
    struct page *p = alloc_pages(GFP_DMA32 | __GFP_ZERO, 0);
    if (!p)
        return -ENOMEM;
    zero_pa = page_to_phys(p);
    return 0;
}

uint64_t mm_zero_page(void)
{
    return zero_pa;
}

void mm_count_map(struct mm *mm, uint64_t pa)
{
    if (pa == zero_pa) {
        mm->zero_maps++;
        return;
    }
    if (++mm->rss > mm->max_rss)
        mm->max_rss = mm->rss;
    filemap_page_mapped(pa);     /* a page-cache page: its map count */
}

void mm_count_unmap(struct mm *mm, uint64_t pa)
{
    if (pa == zero_pa) {
        mm->zero_maps--;
        return;
    }
    mm->rss--;
    filemap_page_unmapped(pa);
}

static uint8_t *frame_virt(uint64_t pa)
{
    return page_address(pfn_to_page(pa >> PAGE_SHIFT));
}

gfp_t mm_user_zone;

/* The swap cache's (mm/swap_state.c).  Weak: host programs that link the
 * fault path without swap have no page in the swap cache. */
extern bool try_to_free_swap(struct page *pg) __attribute__((weak));

/* A new frame for this mm's data at va of v: movable (the reverse map
 * finds its ptes), from the process's zones or the zone the user_zone
 * switch names (include/mm/compaction.h), on the node the NUMA policy
 * names (include/mm/mempolicy.h: v's, else the task's); 0 if memory is
 * short (the caller reports, the allocator does not). */
static uint64_t new_frame(struct mm *mm, const struct vma *v, uint64_t va, gfp_t extra)
{
    gfp_t gfp = mm->gfp | GFP_HIGHUSER_MOVABLE | __GFP_NOWARN | extra;
    if (mm_user_zone)
        gfp = (gfp & ~(gfp_t)(__GFP_DMA | __GFP_DMA32)) | mm_user_zone;
    struct page *p = alloc_pages_vma(gfp, 0, v, va);
    return p ? page_to_phys(p) : 0;
}

uint64_t mm_new_anon_page(struct mm *mm, struct vma *v, uint64_t va, gfp_t extra)
{
    if (anon_vma_prepare(v))
        return 0;
    uint64_t pa = new_frame(mm, v, va, extra);
    if (pa)
        page_add_anon_rmap(pfn_to_page(pa >> PAGE_SHIFT), v, va);
    return pa;
}

/* Does the VMA allow the access?  A present page is always readable on
 * x86, so any right allows a read; the kernel never executes user pages. */
static bool allowed(const struct vma *v, unsigned access)
{
    if (access & FAULT_WRITE)
        return v->prot & PROT_WRITE;
    if (access & FAULT_EXEC)
        return (v->prot & PROT_EXEC) && (access & FAULT_USER);
    return v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
}

/* Copy the file's bytes for the page at va of v into the frame at pa,
 * zero past the end of the file. */
static void fill_from_file(const struct vma *v, uint64_t va, uint64_t pa)
{
    uint64_t off = v->off + (va - v->start), n = 0;
    if (off < v->file->size)
        n = MIN(PAGE_SIZE, v->file->size - off);
    uint8_t *dst = frame_virt(pa);
    memcpy(dst, v->file->data + off, n);
    memset(dst + n, 0, PAGE_SIZE - n);
}

/* The page at va is not present: map what it should hold. */
static int fault_in(struct mm *mm, struct vma *v, uint64_t va, unsigned access)
{
    unsigned prot = vma_pt_prot(v);
    uint64_t pa;
    if (v->mapping)
        return filemap_fault(mm, v, va, access);   /* the page cache's (mm/filemap.c) */
    if (v->shm) {
        uint64_t i = (v->off + (va - v->start)) >> PAGE_SHIFT;
        pa = vm_shm_frame(v->shm, i);
        if (!pa) {
            if (!(pa = new_frame(mm, v, va, __GFP_ZERO)))
                return -ENOMEM;
            if (vm_shm_set(v->shm, i, pa)) {
                frame_unref(pa);
                return -ENOMEM;
            }
        }
        frame_ref(pa); /* the pte's reference; the object keeps its own */
    } else if (v->file) {
        if (!(pa = mm_new_anon_page(mm, v, va, 0)))
            return -ENOMEM;
        fill_from_file(v, va, pa);
    } else if (!(access & FAULT_WRITE)) {
        pa = zero_pa;
        frame_ref(pa);
        prot &= ~PT_W;
    } else if (!(pa = mm_new_anon_page(mm, v, va, __GFP_ZERO))) {
        return -ENOMEM;
    }
    int err = pt_map(&mm->pt, va, pa, PAGE_SIZE, prot, 0);
    if (err) {
        frame_unref(pa); /* an object frame stays in its object */
        mm_must(err == -ENOMEM ? 0 : err, "fault_in: pt_map", va);
        return -ENOMEM;
    }
    mm_count_map(mm, pa);
    return 0;
}

/* A write to a present read-only page of a writable VMA. */
static int write_fault(struct mm *mm, struct vma *v, const struct pt_view *pv)
{
    uint64_t old = pv->pa;
    unsigned prot = vma_pt_prot(v);
    /* A page read back from swap is mapped read-only while it is in the
     * swap cache; when no other PTE names its slot it leaves the cache,
     * and is then ours alone. */
    if (old != zero_pa && page_in_swap_cache(pfn_to_page(old >> PAGE_SHIFT)) && try_to_free_swap)
        try_to_free_swap(pfn_to_page(old >> PAGE_SHIFT));
    if ((v->flags & VMA_SHARED) ||
        (old != zero_pa && page_count(pfn_to_page(old >> PAGE_SHIFT)) == 1)) {
        /* Ours alone (or shared on purpose): just allow the write. */
        mm_must(pt_replace_view(&mm->pt, pv, old, prot), "write_fault: replace", pv->va);
        return 0;
    }
    /* Held while allocating: an allocation may compact (migrate pages),
     * and a held page is pinned, so old and the leaf in pv stay. */
    struct page *held = old != zero_pa ? pfn_to_page(old >> PAGE_SHIFT) : NULL;
    if (held)
        held->refcount++;
    uint64_t pa = mm_new_anon_page(mm, v, pv->va, old == zero_pa ? __GFP_ZERO : 0);
    if (held)
        held->refcount--;
    if (!pa)
        return -ENOMEM;
    if (old != zero_pa)
        memcpy(frame_virt(pa), frame_virt(old), PAGE_SIZE);
    /* The copy is being written: accessed and dirty, as the CPU would set. */
    mm_must(pt_replace_view(&mm->pt, pv, pa, prot | PT_ACCESSED | PT_DIRTY),
            "write_fault: replace", pv->va);
    /* One page for another: the RSS stays; a fresh frame is never a
     * page-cache page, only the old one may be (a private file page). */
    if (old == zero_pa) {
        mm_count_unmap(mm, old);
        mm_count_map(mm, pa);
    } else {
        filemap_page_unmapped(old);
    }
    /* The old frame was mapped here, so its descriptor is an allocated
     * head: drop this mapping's reference inline when others remain (the
     * common case, the other side of the fork still maps it). */
    struct page *p = pfn_to_page(old >> PAGE_SHIFT);
    if (p->refcount > 1)
        p->refcount--;
    else
        frame_unref(old);
    return 0;
}

/* The stack above an address no VMA holds, when one grows down there and
 * addr is within its reach (its limit and a guard gap more: a fault
 * farther down is no stack's business). */
static struct vma *stack_above(struct mm *mm, uint64_t addr)
{
    struct vma *v = addr < mm->va_end ? vma_find(mm, addr) : NULL;
    if (!v || v->start <= addr || !(v->flags & VMA_GROWSDOWN))
        return NULL;
    uint64_t reach = mm_stack_rlimit() + mm->stack_guard;
    return v->end - addr <= reach || reach < mm->stack_guard ? v : NULL;
}

static enum mm_fault_why no_vma_why(struct mm *mm, uint64_t addr)
{
    return stack_above(mm, addr) ? MM_FAULT_STACK_GUARD : MM_FAULT_NO_MAPPING;
}

static int handle(struct mm *mm, uint64_t addr, unsigned access, enum mm_fault_why *why)
{
    struct vma *v = addr < mm->va_end ? vma_lookup(mm, addr) : NULL;
    if (!v)
        v = mm_grow_stack(mm, addr);   /* below a stack that grows down (mm/stack.c) */
    if (!v) {
        *why = no_vma_why(mm, addr);
        return -EFAULT;
    }
    if (!allowed(v, access)) {
        *why = MM_FAULT_PROTECTION;
        return -EFAULT;
    }
    uint64_t va = addr & ~(PAGE_SIZE - 1);
    struct pt_view pv;
    int err = pt_walk(&mm->pt, va, &pv);
    if (err == -ENOENT && pv.payload) { /* the page is elsewhere: its owner brings it back */
        err = mm_payload_fault ? mm_payload_fault(mm, v, va, pv.payload, access) : -EIO;
        /* Back read-only (others still name its slot): a write copies it
         * now, as the CPU's retry would make it (a derived side asks for
         * the whole access at once). */
        if (!err && (access & FAULT_WRITE)) {
            mm_must(pt_walk(&mm->pt, va, &pv), "mm_fault: pt_walk after page-in", va);
            if (!(pv.prot & PT_W))
                err = write_fault(mm, v, &pv);
        }
    }
    else if (err == -ENOENT)
        err = fault_in(mm, v, va, access);
    else if (err)
        mm_must(err, "mm_fault: pt_walk", va);
    else if ((access & FAULT_WRITE) && !(pv.prot & PT_W))
        err = write_fault(mm, v, &pv);
    else if ((pv.prot & ~PT_W) != (vma_pt_prot(v) & ~PT_W))
        panic("mm_fault: pte at %#lx has prot %#x, its VMA wants %#x", va,
              pv.prot, vma_pt_prot(v));
    /* else: the pte allows the access already (a stale TLB entry). */
    if (err)
        *why = err == -EIO ? MM_FAULT_SIGBUS : MM_FAULT_OOM;
    return err;
}

/* With a hardware side: make the derived translation allow the access. */
static int hw_fill(struct mm *mm, uint64_t addr, unsigned access)
{
    return mm->hw_ops ? mm->hw_ops->fill(mm, addr, access) : 0;
}

int mm_fault_why(struct mm *mm, uint64_t addr, unsigned access, enum mm_fault_why *why)
{
    enum mm_fault_why w = MM_FAULT_DONE;
    uint64_t major = mm->major_faults;   /* a page-in counts as major instead */
    int err = handle(mm, addr, access, &w);
    if (!err) {
        err = hw_fill(mm, addr, access);
        if (err)
            w = err == -ENOMEM ? MM_FAULT_OOM : MM_FAULT_PROTECTION;
        else if (mm->major_faults == major)
            mm->minor_faults++;
    }
    if (why)
        *why = w;
    return err;
}

int mm_fault(struct mm *mm, uint64_t addr, unsigned access)
{
    return mm_fault_why(mm, addr, access, NULL);
}

int mm_hw_fault(struct mm *mm, uint64_t addr, unsigned access)
{
    if (mm->hw_ops && mm->hw_ops->fill(mm, addr, access) == 0)
        return 0;
    return mm_fault(mm, addr, access);
}

int mm_describe(struct mm *mm, uint64_t addr, char *buf, size_t size)
{
    struct vma *v = addr < mm->va_end ? vma_lookup(mm, addr) : NULL;
    if (v)
        return vma_describe(mm, v, buf, size);
    struct vma *s = stack_above(mm, addr);
    if (s)
        return snprintf(buf, size, "stack %s below %08lx (no mapping)",
                        s->end - (addr & ~(PAGE_SIZE - 1)) > mm_stack_rlimit() ? "limit"
                                                                                : "guard gap",
                        s->start);
    return snprintf(buf, size, "no mapping");
}

/* ---- user memory from the kernel --------------------------------------------------------- */

/* Make every page of [addr, addr + len) present with the access. */
static int prepare(struct mm *mm, uint64_t addr, uint64_t len, unsigned access)
{
    if (len == 0)
        return 0;
    if (addr >= mm->va_end || len > mm->va_end - addr)
        return -EFAULT;
    unsigned need = PT_U | ((access & FAULT_WRITE) ? PT_W : 0);
    for (uint64_t va = addr & ~(PAGE_SIZE - 1); va < addr + len; va += PAGE_SIZE) {
        struct pt_view pv;
        int err;
        if (pt_walk(&mm->pt, va, &pv) == 0 && (pv.prot & need) == need)
            err = hw_fill(mm, va, access); /* the kernel's access goes through the CPU */
        else
            err = mm_fault(mm, va, access);
        if (err)
            return err == -ENOMEM ? -ENOMEM : -EFAULT;
    }
    return 0;
}

int mm_prepare_write(struct mm *mm, uint64_t addr, uint64_t len)
{
    return prepare(mm, addr, len, FAULT_WRITE | FAULT_USER);
}

int mm_prepare_read(struct mm *mm, uint64_t addr, uint64_t len)
{
    return prepare(mm, addr, len, FAULT_USER);
}

/* Copy between buf and [addr, addr + len) of mm, page by page through the
 * direct map; the range has been prepared. */
static void copy_pages(struct mm *mm, uint64_t addr, uint8_t *buf, uint64_t len, bool to_user)
{
    while (len) {
        struct pt_view pv;
        mm_must(pt_walk(&mm->pt, addr, &pv), "mm_read/mm_write: pt_walk", addr);
        uint64_t in = addr & (PAGE_SIZE - 1), n = MIN(len, PAGE_SIZE - in);
        uint8_t *p = frame_virt(pv.pa) + in;
        if (to_user)
            memcpy(p, buf, n);
        else
            memcpy(buf, p, n);
        addr += n;
        buf += n;
        len -= n;
    }
}

int mm_write(struct mm *mm, uint64_t addr, const void *src, uint64_t len)
{
    int err = mm_prepare_write(mm, addr, len);
    if (!err)
        copy_pages(mm, addr, (uint8_t *)src, len, true);
    return err;
}

int mm_read(struct mm *mm, void *dst, uint64_t addr, uint64_t len)
{
    int err = mm_prepare_read(mm, addr, len);
    if (!err)
        copy_pages(mm, addr, dst, len, false);
    return err;
}
