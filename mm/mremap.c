/*
 * mremap: resize a mapping, in place or by moving it (include/mm/vma.h;
 * docs/address-spaces.md, "mremap").
 *
 * Three ways, as Linux's mm/mremap.c:
 *  - shrink: the tail is unmapped, the address stays;
 *  - grow in place: when the VMA ends where the range ends and the pages
 *    after it are free, the VMA is simply made longer (the new pages
 *    appear on first touch, like any);
 *  - move (MREMAP_MAYMOVE): a new VMA at a free range (or new_addr with
 *    MREMAP_FIXED) takes over the old one's page-table ENTRIES: each
 *    present page is mapped at its new address with the same frame,
 *    rights and accessed/dirty state, then the old entries are cleared.
 *    No page is copied and no frame reference changes hands: the
 *    reference the old pte held is now the new pte's.  A shared object
 *    or a file stays the backing, at the same offset.
 *
 * Invariant of a move: until the last step nothing is lost.  The new
 * entries are made first while the old ones stay (a frame is briefly
 * mapped twice for one reference: no one can run meanwhile), so a
 * failure to get a table page undoes the new ones and leaves the old
 * mapping whole; only then are the old entries cleared (one flush) and
 * the VMAs changed, which cannot fail (the VMAs were allocated first).
 * With MREMAP_FIXED the destination is unmapped before, as Linux does:
 * an -ENOMEM after that leaves it unmapped.
 *
 * The page tables are only used through include/mm/pgtable.h: pt_for_each
 * to read the old entries (in batches: its function may not change the
 * tables), pt_map and pt_replace to make the new ones (pt_map cannot set
 * the accessed and dirty bits, pt_replace can), pt_set_payload for a
 * payload entry (none are made in user spaces yet), pt_unmap to clear.
 *
 * Linux's order of checks is kept (mm_mremap), including since 6.17 the
 * move of several VMAs at once when the size does not change.  Left out:
 * userfaultfd, mlock accounting, huge pages.  Growing a mapping of a
 * page-cache file past the file's end gives SIGBUS there, as Linux; a
 * vm_shm (the host tests' shared anonymous memory) grows instead.
 */
#include <mm/vma.h>
#include <mm/rmap.h>
#include <mm/mempolicy.h>
#include <kernel/errno.h>
#include <kernel/types.h>

#include "mmap_impl.h"

/* ---- moving page-table entries --------------------------------------------------------------- */

#define MOVE_BATCH 32

/* What a move needs of an old entry (a pt_view is larger: kernel stacks are small). */
struct old_entry {
    uint64_t va, pa, payload;
    unsigned prot;
    bool accessed, dirty;
};

struct move_batch {
    unsigned n;
    struct old_entry e[MOVE_BATCH];
};

static int collect(const struct pt_view *v, void *arg)
{
    struct move_batch *b = arg;
    b->e[b->n++] = (struct old_entry){ v->va, v->pa, v->payload, v->prot, v->accessed, v->dirty };
    return b->n == MOVE_BATCH;
}

/* The entry e (of the old range) made again at dst. */
static int copy_entry(struct mm *mm, const struct old_entry *e, uint64_t dst)
{
    if (e->payload) {
        /* pt_set_payload never builds tables: a leaf first builds them */
        int err = pt_map(&mm->pt, dst, mm_zero_page(), PAGE_SIZE, 0, 0);
        if (!err)
            mm_must(pt_set_payload(&mm->pt, dst, e->payload), "mremap: pt_set_payload", dst);
        return err;
    }
    int err = pt_map(&mm->pt, dst, e->pa, PAGE_SIZE, e->prot, 0);
    if (!err && (e->accessed || e->dirty))
        mm_must(pt_replace(&mm->pt, dst, e->pa,
                           e->prot | (e->accessed ? PT_ACCESSED : 0) | (e->dirty ? PT_DIRTY : 0)),
                "mremap: pt_replace", dst);
    return err;
}

/*
 * Give [to, to + len) the entries of [from, from + len) (which stay):
 * 0, or -ENOMEM with the new ones removed again.
 */
static int copy_entries(struct mm *mm, uint64_t from, uint64_t len, uint64_t to)
{
    uint64_t at = from, end = from + len;
    while (at < end) {
        struct move_batch b;
        b.n = 0;
        int more = pt_for_each(&mm->pt, at, end, collect, &b);
        mm_must(more < 0 ? more : 0, "mremap: pt_for_each", at);
        for (unsigned i = 0; i < b.n; i++) {
            int err = copy_entry(mm, &b.e[i], to + (b.e[i].va - from));
            if (err) {
                /* what was made so far goes; the old entries still hold the frames */
                uint64_t made = b.e[i].va - from;
                if (made)
                    mm_must(pt_unmap(&mm->pt, to, made), "mremap: undo", to);
                return -ENOMEM;
            }
        }
        if (!more || b.n == 0)
            break;
        at = b.e[b.n - 1].va + PAGE_SIZE;
    }
    return 0;
}

/* ---- moving a VMA --------------------------------------------------------------------------- */

/* Offset in v's object of address a (files and shared objects). */
static uint64_t off_at(const struct vma *v, uint64_t a)
{
    return (v->file || v->shm || v->mapping) ? v->off + (a - v->start) : 0;
}

/*
 * Move [from, from + len), inside v, to a new VMA [to, to + new_len)
 * (new_len >= len; len 0: a second mapping of v's shared object).  The
 * destination is free.  dontunmap: the old range keeps its VMA, emptied.
 */
static int move_range(struct mm *mm, struct vma *v, uint64_t from, uint64_t len, uint64_t to,
                      uint64_t new_len, bool dontunmap)
{
    bool cut = len && !dontunmap;
    unsigned nsplit = cut ? mmap_splits_needed(mm, from, from + len) : 0;
    /* Linux's move_vma keeps 4 VMAs of room below vm.max_map_count. */
    if (mm->nr_vmas + 4 > mm->max_vmas)
        return -ENOMEM;
    struct spares s;
    if (mmap_spares_get(&s, nsplit + 1))
        return -ENOMEM;
    if (v->shm && vm_shm_grow(v->shm, (off_at(v, from) + new_len) / PAGE_SIZE)) {
        mmap_spares_put(&s);
        return -ENOMEM;
    }
    if (len && copy_entries(mm, from, len, to)) {
        mmap_spares_put(&s);
        return -ENOMEM;
    }

    /* Nothing below can fail. */
    struct vma *n = s.v[--s.n];
    n->start = to;
    n->end = to + new_len;
    n->prot = v->prot;
    n->flags = v->flags;
    n->file = v->file;
    n->shm = v->shm;
    n->off = off_at(v, from);
    /* The pages keep their indexes (Linux's copy_vma); an anonymous VMA
     * that never had a page starts afresh at its new address. */
    n->pgoff = v->anon_vma || v->file || v->shm || v->mapping ? vma_linear_index(v, from)
                                                               : to >> PAGE_SHIFT;
    n->anon_vma = v->anon_vma;
    anon_vma_link(n);
    n->policy = mpol_get(v->policy);   /* the NUMA policy moves with it (Linux's copy_vma) */
    if (n->shm)
        vm_shm_get(n->shm);
    n->mapping = v->mapping;
    if (n->mapping)
        filemap_vma_link(n);   /* a page-cache file's list (mm/filemap.c) */
    if (len) /* the moved entries' references are the new ptes' now */
        mm_must(pt_unmap(&mm->pt, from, len), "mremap: pt_unmap", from);
    if (cut) {
        mmap_split_edges(mm, from, from + len, &s);
        struct vma *o = vma_find(mm, from);
        while (o && o->start < from + len) {
            struct vma *next = o->next;
            vma_unlink(mm, o);
            vma_free(o);
            o = next;
        }
    }
    vma_link(mm, n);
    vma_merge_range(mm, to, to + new_len);
    mmap_spares_put(&s);
    return 0;
}

/* vma_to_resize: may [addr, addr + old_len) of v become new_len long? */
static int check_resize(struct mm *mm, struct vma *v, uint64_t addr, uint64_t old_len,
                        uint64_t new_len)
{
    (void)mm;
    if (!old_len && !(v->flags & VMA_SHARED))
        return -EINVAL;   /* a "duplicate" of private memory would be unrelated to it */
    if (old_len > v->end - addr)
        return -EFAULT;   /* one VMA only when resizing */
    if (new_len == old_len)
        return 0;
    if ((v->file || v->shm || v->mapping) && off_at(v, addr) + new_len < off_at(v, addr))
        return -EINVAL;
    if (new_len > old_len && mmap_accounted(v) && !mmap_enough_memory(new_len - old_len))
        return -ENOMEM;
    return 0;
}

/* Move to new_addr (fixed or a hint, as flags say) without resizing:
 * every VMA piece of [addr, addr + len) keeps its place relative to addr. */
static int move_pieces(struct mm *mm, uint64_t addr, uint64_t len, uint64_t to, bool dontunmap)
{
    uint64_t at = addr, end = addr + len;
    for (;;) {
        struct vma *v = vma_find(mm, at);
        if (!v || v->start >= end)
            return 0;
        uint64_t ps = MAX(at, v->start), pe = MIN(end, v->end);
        int err = move_range(mm, v, ps, pe - ps, to + (ps - addr), pe - ps, dontunmap);
        if (err)
            return err;
        at = pe;
    }
}

/* MREMAP_FIXED or MREMAP_DONTUNMAP: Linux's mremap_to. */
static int remap_to(struct mm *mm, uint64_t addr, uint64_t old_len, uint64_t new_len,
                    unsigned flags, uint64_t new_addr, uint64_t *out)
{
    bool dontunmap = flags & MREMAP_DONTUNMAP;
    if (mm->nr_vmas + 2 >= mm->max_vmas - 3)
        return -ENOMEM;
    int err;
    if (flags & MREMAP_FIXED) {
        err = mm_munmap(mm, new_addr, new_len);
        if (err)
            return err;
    }
    if (old_len > new_len) {
        err = mm_munmap(mm, addr + new_len, old_len - new_len);
        if (err)
            return err;
        old_len = new_len;
    }
    struct vma *v = vma_lookup(mm, addr);
    if (!v)
        return -EFAULT;
    /* Without resizing, the range may span VMAs and holes. */
    bool pieces = old_len && old_len == new_len;
    if (!pieces && (err = check_resize(mm, v, addr, old_len, new_len)))
        return err;
    if (dontunmap && mmap_accounted(v) && !mmap_enough_memory(old_len))
        return -ENOMEM;
    if (!(flags & MREMAP_FIXED) && mmap_get_area(mm, new_addr, new_len, &new_addr))
        return -ENOMEM;
    err = pieces ? move_pieces(mm, addr, old_len, new_addr, dontunmap)
                 : move_range(mm, v, addr, old_len, new_addr, new_len, dontunmap);
    if (!err)
        *out = new_addr;
    return err;
}

int mm_mremap(struct mm *mm, uint64_t addr, uint64_t old_len, uint64_t new_len, unsigned flags,
              uint64_t new_addr, uint64_t *out)
{
    bool maymove = flags & MREMAP_MAYMOVE, fixed = flags & MREMAP_FIXED;
    bool dontunmap = flags & MREMAP_DONTUNMAP;
    if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
        return -EINVAL;
    if ((fixed || dontunmap) && !maymove)
        return -EINVAL;
    if (addr & PAGE_MASK_LOW)
        return -EINVAL;
    old_len = ALIGN_UP(old_len, PAGE_SIZE);   /* 0 when it overflows, as Linux's PAGE_ALIGN */
    new_len = ALIGN_UP(new_len, PAGE_SIZE);
    if (dontunmap && old_len != new_len)
        return -EINVAL;
    if (!new_len || new_len > mm->va_end)
        return -EINVAL;
    if (fixed || dontunmap) {
        if ((new_addr & PAGE_MASK_LOW) || new_addr > mm->va_end - new_len)
            return -EINVAL;
        uint64_t old_end = addr + old_len < addr ? UINT64_MAX : addr + old_len;
        if (new_addr < old_end && addr < new_addr + new_len)
            return -EINVAL;   /* the ranges overlap */
    }
    struct vma *v = addr < mm->va_end ? vma_lookup(mm, addr) : NULL;
    if (!v)
        return -EFAULT;
    if (fixed || dontunmap)
        return remap_to(mm, addr, old_len, new_len, flags, new_addr, out);

    if (old_len >= new_len) {
        /* Shrinking always works: the tail is unmapped. */
        if (old_len > new_len) {
            int err = mm_munmap(mm, addr + new_len, old_len - new_len);
            if (err)
                return err;
        }
        *out = addr;
        return 0;
    }
    int err = check_resize(mm, v, addr, old_len, new_len);
    if (err)
        return err;
    uint64_t end = addr + new_len;
    if (old_len == v->end - addr && end <= mm->va_end && (!v->next || v->next->start >= end)) {
        /* Grow in place: the pages after the VMA are free. */
        if (v->shm && vm_shm_grow(v->shm, (off_at(v, addr) + new_len) / PAGE_SIZE))
            return -ENOMEM;
        v->end = end;
        vma_merge_range(mm, v->start, end);
        *out = addr;
        return 0;
    }
    if (!maymove)
        return -ENOMEM;
    if (mmap_get_area(mm, 0, new_len, &new_addr))
        return -ENOMEM;
    err = move_range(mm, v, addr, old_len, new_addr, new_len, false);
    if (!err)
        *out = new_addr;
    return err;
}
