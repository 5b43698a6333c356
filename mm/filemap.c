/*
 * File pages in address spaces (include/mm/filemap.h; docs/page-cache.md):
 * the fault path's "file mapping" of the SOS mailing-list post on
 * physical/paged/virtual memory (2006), over the page cache of a file
 * system (kernel/fs/pagecache.c for tmpfs).
 *
 * Invariants (mm_check_consistency and mm_check_frames verify the pte
 * side, mm/vma_check.c):
 *  - a VMA is on its file's i_mmap list exactly while v->mapping points
 *    to the file, and v->mm is the address space holding it;
 *  - a present pte of a shared file VMA maps the file's page-cache page
 *    of its index, with the VMA's rights (writable when the VMA is: the
 *    write goes straight to the file, read() sees it at once);
 *  - a present pte of a private file VMA maps either that page-cache
 *    page, never writable, or a copy made by a write (an anonymous frame,
 *    under mm/user_fault.c's copy-on-write rules: the file never changes
 *    through a private mapping);
 *  - a page-cache page's map count is the number of ptes mapping it in
 *    every address space, and its refcount is 1 (the cache's) + that
 *    count; NR_FILE_MAPPED counts the pages whose map count is above 0.
 *
 * Truncation finds every pte that maps a page of the file through the
 * i_mmap list, which names each VMA's address space (v->mm): that is the
 * reverse mapping the SOS post asks of a paged memory manager, kept per
 * file rather than per page (Linux's "object-based rmap").
 *
 * A file page above 4 GiB cannot be named by an i386 pte (compat32's
 * two-level tables, mm->gfp GFP_DMA32): a 32-bit process faulting on one
 * has the page migrated below 4 GiB first (ops->migrate: a copy takes
 * its place in the cache, and filemap_move_ptes rewrites every pte that
 * maps it in place with pt_replace_view, found through i_mmap), so that
 * every process keeps sharing one page.
 *
 * Left out: read-ahead (fault-around), dirty tracking and write-back
 * (tmpfs has no backing store: msync has nothing to write), mlock.
 */
#include <mm/filemap.h>
#include <mm/vma.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/types.h>

int (*mm_shmem_new)(uint64_t len, struct vm_mapping **out);

/* ---- the i_mmap list -------------------------------------------------------------------- */

void filemap_vma_link(struct vma *v)
{
    struct vm_mapping *m = v->mapping;
    v->i_mmap_prev = NULL;
    v->i_mmap_next = m->i_mmap;
    if (m->i_mmap)
        m->i_mmap->i_mmap_prev = v;
    m->i_mmap = v;
    m->nr_vmas++;
    m->ops->get(m);
}

void filemap_vma_unlink(struct vma *v)
{
    struct vm_mapping *m = v->mapping;
    if (m->nr_vmas == 0)
        panic("filemap_vma_unlink: VMA %#lx names a mapping with no VMA", v->start);
    if (v->i_mmap_prev)
        v->i_mmap_prev->i_mmap_next = v->i_mmap_next;
    else
        m->i_mmap = v->i_mmap_next;
    if (v->i_mmap_next)
        v->i_mmap_next->i_mmap_prev = v->i_mmap_prev;
    v->i_mmap_prev = v->i_mmap_next = NULL;
    v->mapping = NULL;
    m->nr_vmas--;
    m->ops->put(m);                  /* last: the file may go with it */
}

/* ---- map counts --------------------------------------------------------------------------- */

void filemap_page_mapped(uint64_t pa)
{
    struct page *p = pfn_to_page(pa >> PAGE_SHIFT);
    if (page_is_file(p) && p->prev++ == 0)
        mod_node_page_state(NR_FILE_MAPPED, 1);
}

void filemap_page_unmapped(uint64_t pa)
{
    struct page *p = pfn_to_page(pa >> PAGE_SHIFT);
    if (!page_is_file(p))
        return;
    if (p->prev == 0)
        panic("filemap_page_unmapped: page %#lx is mapped nowhere", pa);
    if (--p->prev == 0)
        mod_node_page_state(NR_FILE_MAPPED, -1);
}

/* ---- faults -------------------------------------------------------------------------------- */

static uint64_t index_of(const struct vma *v, uint64_t va)
{
    return (v->off + (va - v->start)) >> PAGE_SHIFT;
}

static void *frame_virt(uint64_t pa)
{
    return page_address(pfn_to_page(pa >> PAGE_SHIFT));
}

/* Can mm's page-table format name the frame at pa? */
static bool reachable(const struct mm *mm, uint64_t pa)
{
    uint64_t bits = mm->pt.fmt->pa_bits;
    return bits >= 64 || pa + PAGE_SIZE <= (1ul << bits);
}

int filemap_fault(struct mm *mm, struct vma *v, uint64_t va, unsigned access)
{
    struct vm_mapping *m = v->mapping;
    bool shared = v->flags & VMA_SHARED;
    unsigned prot = vma_pt_prot(v);
    uint64_t pa;
    uint64_t index = index_of(v, va);
    int err = m->ops->fault(m, index, &pa);
    if (!err && !reachable(mm, pa))
        err = m->ops->migrate ? m->ops->migrate(m, index, mm->gfp, &pa) : -EIO;
    if (err)
        return err == -ENOMEM ? -ENOMEM : -EIO;
    if (!shared && (access & FAULT_WRITE)) {
        /* The first write to a private page: a copy of the file's page,
         * ours alone, so writable when the VMA is (Linux's do_cow_fault). */
        /* Pinned while allocating (an allocation may migrate pages). */
        frame_ref(pa);
        uint64_t copy = mm_new_anon_page(mm, v, va, 0);
        frame_unref(pa);
        if (!copy)
            return -ENOMEM;
        memcpy(frame_virt(copy), frame_virt(pa), PAGE_SIZE);
        pa = copy;
    } else {
        if (!shared)
            prot &= ~PT_W; /* the file's own page: a write will copy it */
        frame_ref(pa);     /* the pte's reference; the cache keeps its own */
    }
    err = pt_map(&mm->pt, va, pa, PAGE_SIZE, prot, 0);
    if (err) {
        frame_unref(pa);
        mm_must(err == -ENOMEM ? 0 : err, "filemap_fault: pt_map", va);
        return -ENOMEM;
    }
    mm_count_map(mm, pa);
    return 0;
}

bool filemap_resident(const struct vma *v, uint64_t va)
{
    return v->mapping->ops->find(v->mapping, index_of(v, va)) != 0;
}

/* ---- truncation, fork, exit ------------------------------------------------------------- */

void unmap_mapping_pages(struct vm_mapping *m, uint64_t start, uint64_t nr)
{
    uint64_t end = nr > UINT64_MAX - start ? UINT64_MAX : start + nr;
    for (struct vma *v = m->i_mmap; v; v = v->i_mmap_next) {
        uint64_t first = v->off >> PAGE_SHIFT, pages = (v->end - v->start) >> PAGE_SHIFT;
        uint64_t lo = MAX(start, first), hi = MIN(end, first + pages);
        if (lo < hi)
            mm_unmap_pages(v->mm, v->start + ((lo - first) << PAGE_SHIFT),
                           v->start + ((hi - first) << PAGE_SHIFT));
    }
}

void filemap_move_ptes(struct vm_mapping *m, uint64_t index, uint64_t old, uint64_t new)
{
    for (struct vma *v = m->i_mmap; v; v = v->i_mmap_next) {
        uint64_t first = v->off >> PAGE_SHIFT, pages = (v->end - v->start) >> PAGE_SHIFT;
        if (index < first || index - first >= pages)
            continue;
        uint64_t va = v->start + ((index - first) << PAGE_SHIFT);
        struct pt_view pv;
        if (pt_walk(&v->mm->pt, va, &pv) || pv.pa != old)
            continue; /* not faulted in, or a private copy */
        mm_must(pt_replace_view(&v->mm->pt, &pv, new, pv.prot), "filemap_move_ptes", va);
        frame_ref(new);
        filemap_page_mapped(new);
        filemap_page_unmapped(old);
        frame_unref(old);
    }
}

/* A page of a file VMA going to the child: one more reference on the
 * frame (mapped, so an allocated head) and, for a page-cache page, one
 * more map. */
static int fork_file_page(struct pt_view *pv, void *arg)
{
    if (pv->payload) {
        /* A private copy paged out (mm/vmscan.c): the child's entry
         * names the slot too, as fork_payload in mm/mm_fork.c. */
        struct mm *child = arg;
        int err = mm_payload_dup ? mm_payload_dup(pv->payload) : 0;
        if (!err)
            child->swap_ents++;
        return err;
    }
    pfn_to_page(pv->pa >> PAGE_SHIFT)->refcount++;
    filemap_page_mapped(pv->pa);
    return 0;
}

int filemap_fork_vma(struct mm *child, struct mm *parent, const struct vma *v)
{
    bool private = !(v->flags & VMA_SHARED);
    return pt_clone(&child->pt, &parent->pt, v->start, v->end, private ? PT_W : 0, 0,
                    fork_file_page, child);
}

void filemap_exit_mm(struct mm *mm)
{
    for (struct vma *v = mm->vmas; v; v = v->next)
        if (v->mapping)
            mm_unmap_pages(mm, v->start, v->end);
}

/* ---- msync ---------------------------------------------------------------------------------- */

int mm_msync(struct mm *mm, uint64_t addr, uint64_t len, int flags)
{
    if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
        return -EINVAL;
    if (addr & (PAGE_SIZE - 1))
        return -EINVAL;
    if ((flags & MS_ASYNC) && (flags & MS_SYNC))
        return -EINVAL;
    /* Linux's arithmetic: the length rounds up modulo 2^64 (a length that
     * wraps to 0 is an empty range), a range that wraps is -ENOMEM. */
    uint64_t end = addr + ((len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
    if (end < addr)
        return -ENOMEM;
    /* Every page is its file's page already: nothing to write back.  What
     * remains is Linux's answer for a range not wholly mapped. */
    uint64_t at = addr;
    for (struct vma *v = vma_find(mm, addr); at < end; v = v->next) {
        if (!v || v->start > at)
            return -ENOMEM;
        at = v->end;
    }
    return 0;
}
