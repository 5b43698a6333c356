/*
 * The process's calls on its address space: mmap, munmap, mprotect, brk,
 * madvise, mincore (include/mm/vma.h; docs/address-spaces.md).  mremap
 * is in mm/mremap.c, the stack that grows down in mm/stack.c; both build
 * on the helpers here (mm/mmap_impl.h).
 *
 * Invariants kept by every call (mm/vma.c and mm/vma_check.c state them):
 * VMAs sorted, disjoint, merged when compatible; every present pte inside
 * a VMA with at most the VMA's rights; one frame reference per pte.
 *
 * Each call runs in three steps, like the page-table walker below it:
 *  1. check the arguments, with Linux's errors and in Linux's order where
 *     a program could tell the difference (for mmap: do_mmap's order, see
 *     mm_mmap_file);
 *  2. allocate everything the change needs (the new VMA, the VMAs the
 *     splits at both ends of the range need, a shared object) and check
 *     the VMA limit: -ENOMEM here changes nothing;
 *  3. change the VMA list and the tables, which cannot fail: the tables
 *     hold only 4 KiB leaves, so pt_unmap and pt_protect never need a
 *     page.
 * So every call is all or nothing, MAP_FIXED over old mappings included
 * (Linux may lose the old mapping when the new one fails).
 *
 * Nothing here allocates a data frame: pages appear on first touch
 * (mm/user_fault.c).  Unmapping drops the frame references after the
 * flush of their translations (mm_unmap_pages).
 *
 * Left out: MAP_POPULATE and MAP_LOCKED (accepted, no effect), huge pages
 * (MAP_HUGETLB is -ENOMEM: no huge page is reserved, as on a Linux whose
 * vm.nr_hugepages is 0), MAP_32BIT (ignored), memory policies.
 */
#include <mm/vma.h>
#include <mm/swap.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <kernel/types.h>

#include "mmap_impl.h"

/* Linux's LEGACY_MAP_MASK: the flags every file takes with MAP_SHARED_VALIDATE
 * (tmpfs adds none); MAP_32BIT, MAP_UNINITIALIZED and the MAP_HUGE_2MB/1GB
 * sizes are among them. */
#define MAP_32BIT_X86      0x40u
#define MAP_UNINITIALIZED_ 0x4000000u
#define MAP_HUGE_2MB_      (21u << 26)
#define MAP_HUGE_1GB_      (30u << 26)
#define LEGACY_MAP_MASK                                                                     \
    (MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE | \
     MAP_UNINITIALIZED_ | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE |       \
     MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB | MAP_32BIT_X86 | MAP_HUGE_2MB_ | MAP_HUGE_1GB_)

/* ---- unmapping pages ---------------------------------------------------------------------- */

/* Below TLB_FLUSH_CEILING: one invlpg per page in the kernel's flush. */
#define UNMAP_BATCH 32

struct unmap_batch {
    unsigned n, np;
    uint64_t last;                 /* va of the last page or payload entry seen, 0: none */
    uint64_t pa[UNMAP_BATCH];
    uint64_t payload[UNMAP_BATCH]; /* payload entries: what they name goes back to its owner */
};

static int collect(const struct pt_view *v, void *arg)
{
    struct unmap_batch *b = arg;
    b->last = v->va;
    if (v->payload)
        b->payload[b->np++] = v->payload;
    else
        b->pa[b->n++] = v->pa;
    return b->n == UNMAP_BATCH || b->np == UNMAP_BATCH;
}

void mm_unmap_pages(struct mm *mm, uint64_t start, uint64_t end)
{
    while (start < end) {
        struct unmap_batch b;
        b.n = b.np = 0;
        b.last = 0; /* user addresses start at MM_MIN_ADDR: 0 is none */
        int more = pt_for_each(&mm->pt, start, end, collect, &b);
        mm_must(more < 0 ? more : 0, "mm_unmap_pages: pt_for_each", start);
        if (b.last == 0)
            return;
        uint64_t stop = b.last + PAGE_SIZE;
        /* The flush happens inside pt_unmap: only then may frames go. */
        mm_must(pt_unmap(&mm->pt, start, stop - start), "mm_unmap_pages: pt_unmap", start);
        for (unsigned i = 0; i < b.n; i++) {
            mm_count_unmap(mm, b.pa[i]);
            frame_unref(b.pa[i]);
        }
        for (unsigned i = 0; i < b.np; i++) {
            mm->swap_ents--;
            if (mm_payload_put)
                mm_payload_put(b.payload[i]);
        }
        if (!more)
            return;
        start = stop;
    }
}

/* ---- ranges and splits ------------------------------------------------------------------- */

uint64_t vma_start_gap(const struct mm *mm, const struct vma *v)
{
    if (!(v->flags & VMA_GROWSDOWN))
        return v->start;
    return v->start > mm->stack_guard ? v->start - mm->stack_guard : 0;
}

/* May a new mapping without MAP_FIXED take [addr, addr + len)? */
static bool range_free(struct mm *mm, uint64_t addr, uint64_t len)
{
    if (addr < MM_MIN_ADDR || addr > mm->va_end || len > mm->va_end - addr)
        return false;
    struct vma *v = vma_find(mm, addr);
    return !v || addr + len <= vma_start_gap(mm, v);
}

/* The highest free range of len bytes ending at or below limit, clear of
 * the guard gaps below stacks: 0 or -ENOMEM. */
static int search_down(struct mm *mm, uint64_t len, uint64_t limit, uint64_t *out)
{
    uint64_t lo = MM_MIN_ADDR;
    bool found = false;
    for (struct vma *v = mm->vmas;; v = v->next) {
        uint64_t hi = v ? vma_start_gap(mm, v) : mm->va_end;
        hi = MIN(hi, limit);
        if (hi > lo && hi - lo >= len) {
            *out = hi - len;
            found = true;
        }
        if (!v)
            break;
        lo = MAX(lo, v->end);
    }
    return found ? 0 : -ENOMEM;
}

int mmap_get_area(struct mm *mm, uint64_t hint, uint64_t len, uint64_t *out)
{
    /* Linux's round_hint_to_min: down to a page, up to mmap_min_addr. */
    hint = ALIGN_DOWN(hint, PAGE_SIZE);
    if (hint && hint < MM_MIN_ADDR)
        hint = MM_MIN_ADDR;
    if (hint && range_free(mm, hint, len)) {
        *out = hint;
        return 0;
    }
    if (search_down(mm, len, mm->mmap_base, out) && search_down(mm, len, mm->va_end, out))
        return -ENOMEM;
    return 0;
}

unsigned mmap_splits_needed(struct mm *mm, uint64_t start, uint64_t end)
{
    struct vma *a = vma_lookup(mm, start), *b = vma_lookup(mm, end - 1);
    return (a && a->start < start) + (b && b->end > end);
}

int mmap_spares_get(struct spares *s, unsigned n)
{
    s->n = 0;
    while (s->n < n) {
        if (!(s->v[s->n] = vma_alloc())) {
            while (s->n)
                vma_free(s->v[--s->n]);
            return -ENOMEM;
        }
        s->n++;
    }
    return 0;
}

void mmap_spares_put(struct spares *s)
{
    while (s->n)
        vma_free(s->v[--s->n]);
}

void mmap_split_edges(struct mm *mm, uint64_t start, uint64_t end, struct spares *s)
{
    struct vma *a = vma_lookup(mm, start);
    if (a && a->start < start)
        vma_split(mm, a, start, s->v[--s->n]);
    struct vma *b = vma_lookup(mm, end - 1);
    if (b && b->end > end)
        vma_split(mm, b, end, s->v[--s->n]);
}

/* Remove everything in [start, end): pages, then VMAs.  The edges must
 * have been split. */
static void remove_range(struct mm *mm, uint64_t start, uint64_t end)
{
    mm_unmap_pages(mm, start, end);
    struct vma *v = vma_find(mm, start);
    while (v && v->start < end) {
        struct vma *next = v->next;
        vma_unlink(mm, v);
        vma_free(v);
        v = next;
    }
}

bool mmap_inside_one(struct mm *mm, uint64_t start, uint64_t end)
{
    struct vma *a = vma_lookup(mm, start);
    return a && a->start < start && a->end > end;
}

/* Linux checks vm.max_map_count before each split or new VMA: -ENOMEM
 * if `grow` more VMAs would pass it (merges are not counted). */
bool mmap_too_many(struct mm *mm, unsigned grow)
{
    return mm->nr_vmas + grow > mm->max_vmas;
}

/* ---- mmap and munmap ------------------------------------------------------------------------ */

/*
 * Linux's heuristic overcommit (vm.overcommit_memory = 0), reduced to its
 * core: one request for more memory than the machine has can never be
 * backed, so it is refused at once; anything smaller is allowed and paid
 * for at the touch.  The machine is its RAM and its swap areas
 * (totalram_pages + total_swap_pages, as Linux counts).  What counts is
 * what Linux accounts (VM_ACCOUNT): private writable mappings, shared
 * anonymous ones, and heap growth.
 */
bool mmap_enough_memory(uint64_t len)
{
    uint64_t pages = total_swap_pages;
    pages += totalram_pages();
    return len / PAGE_SIZE <= pages;
}

bool mmap_accounted(const struct vma *v)
{
    return (v->flags & VMA_SHARED) ? !v->file : (v->prot & PROT_WRITE) != 0;
}

int mm_mmap(struct mm *mm, uint64_t addr, uint64_t len, unsigned prot, unsigned flags,
            const struct vm_file *file, uint64_t off, uint64_t *out)
{
    if (off & PAGE_MASK_LOW)
        return -EINVAL;
    if (flags & MAP_ANONYMOUS)
        return mm_mmap_file(mm, addr, len, prot, flags, NULL, off, out);
    if (!file)
        return -EBADF;
    /* The initrd's files are read-only: opened for reading, never writable. */
    struct mmap_file mf = { file, true, false, NULL };
    return mm_mmap_file(mm, addr, len, prot, flags, &mf, off, out);
}

/* do_mmap's checks of the mapping type, after the address is known. */
static int check_type(unsigned flags, unsigned prot, const struct mmap_file *mf)
{
    unsigned type = flags & MAP_TYPE;
    if (!mf) {
        if (type == MAP_SHARED)
            return (flags & MAP_GROWSDOWN) ? -EINVAL : 0;
        if (type != MAP_PRIVATE)
            return -EINVAL;   /* MAP_SHARED_VALIDATE too: Linux takes it for files only */
        return (flags & MAP_HUGETLB) ? -ENOMEM : 0;   /* no huge pages reserved */
    }
    switch (type) {
    case MAP_SHARED:
        flags &= LEGACY_MAP_MASK;   /* unknown flags are ignored with plain MAP_SHARED */
        /* fall through */
    case MAP_SHARED_VALIDATE:
        if (flags & ~LEGACY_MAP_MASK)
            return -EOPNOTSUPP;
        if ((prot & PROT_WRITE) && !mf->writable)
            return -EACCES;
        /* fall through */
    case MAP_PRIVATE:
        if (!mf->readable)
            return -EACCES;
        if (!mf->vf && !mf->mapping)
            return -ENODEV;   /* the file has no mmap (a pipe, a directory) */
        if (flags & MAP_GROWSDOWN)
            return -EINVAL;
        /* Our files are read-only snapshots: writing through a shared
         * mapping cannot reach the file, so it is refused whatever the
         * file was opened for. */
        if (mf->vf && type != MAP_PRIVATE && (prot & PROT_WRITE))
            return -EACCES;
        return 0;
    default:
        return -EINVAL;
    }
}

int mm_mmap_file(struct mm *mm, uint64_t addr, uint64_t len, unsigned prot, unsigned flags,
                 const struct mmap_file *mf, uint64_t off, uint64_t *out)
{
    unsigned type = flags & MAP_TYPE;
    if (mf && (flags & MAP_HUGETLB))
        return -EINVAL;   /* ksys_mmap_pgoff: a file that is not on hugetlbfs */
    if (len == 0)
        return -EINVAL;
    uint64_t alen = ALIGN_UP(len, PAGE_SIZE);
    if (alen == 0)
        return -ENOMEM;   /* the length overflows */
    if (mm->nr_vmas > mm->max_vmas)
        return -ENOMEM;
    len = alen;

    /* get_unmapped_area */
    bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
    if (len > mm->va_end)
        return -ENOMEM;
    if (fixed) {
        if (addr > mm->va_end - len)
            return -ENOMEM;
        if (addr & PAGE_MASK_LOW)
            return -EINVAL;
        if (addr < MM_MIN_ADDR)
            return -EPERM;   /* Linux lets CAP_SYS_RAWIO below mmap_min_addr; nobody here */
    } else if (mmap_get_area(mm, addr, len, &addr)) {
        return -ENOMEM;
    }
    uint64_t end = addr + len;
    if (flags & MAP_FIXED_NOREPLACE) {
        struct vma *v = vma_find(mm, addr);
        if (v && v->start < end)
            return -EEXIST;
    }
    /* file_mmap_ok: the last byte must fit a file offset (2^63 - 1) */
    if (mf && off / PAGE_SIZE > (INT64_MAX - len) / PAGE_SIZE)
        return -EOVERFLOW;
    int err = check_type(flags, prot, mf);
    if (err)
        return err;
    const struct vm_file *file = mf ? mf->vf : NULL;
    bool shared = type != MAP_PRIVATE;
    prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
    if ((type == MAP_PRIVATE ? (prot & PROT_WRITE) != 0 : !mf) && !mmap_enough_memory(len))
        return -ENOMEM;

    /* Everything the change needs, before any change. */
    unsigned nsplit = fixed ? mmap_splits_needed(mm, addr, end) : 0;
    if (mmap_too_many(mm, 1 + (fixed && mmap_inside_one(mm, addr, end))))
        return -ENOMEM;
    struct spares s;
    struct vm_shm *shm = NULL;
    struct vm_mapping *mapping = mf ? mf->mapping : NULL;
    bool shmem = shared && !mf && mm_shmem_new; /* anonymous: a tmpfs file (filemap.h) */
    if (mmap_spares_get(&s, nsplit + 1))
        return -ENOMEM;
    if ((shmem && mm_shmem_new(len, &mapping)) ||
        (shared && !mf && !shmem && !(shm = vm_shm_new(len / PAGE_SIZE)))) {
        mmap_spares_put(&s);
        return -ENOMEM;
    }

    struct vma *v = s.v[--s.n];
    v->mapping = mapping;
    v->mm = mm;
    if (mapping) {
        /* On the file's i_mmap list (a reference on it) before MAP_FIXED
         * removes older VMAs, which may be this file's last ones. */
        filemap_vma_link(v);
        if (shmem)
            mapping->ops->put(mapping); /* the VMA's reference is the object's only one */
    }
    if (fixed) {
        mmap_split_edges(mm, addr, end, &s);
        remove_range(mm, addr, end);
    }
    v->start = addr;
    v->end = end;
    v->prot = prot;
    v->flags = (shared ? VMA_SHARED : 0) | ((flags & MAP_GROWSDOWN) ? VMA_GROWSDOWN : 0);
    if (shared && mapping && (!mf || mf->writable))
        v->flags |= VMA_MAYWRITE;   /* may be or become writable */
    v->file = file;
    v->shm = shm;
    v->off = (file || mf) ? off : 0;
    v->pgoff = (file || mf || shm || mapping ? v->off : addr) >> PAGE_SHIFT; /* Linux's vm_pgoff */
    vma_link(mm, v);
    vma_merge_range(mm, addr, end);
    mmap_spares_put(&s);
    *out = addr;
    return 0;
}

int mm_munmap(struct mm *mm, uint64_t addr, uint64_t len)
{
    if ((addr & PAGE_MASK_LOW) || addr > mm->va_end || len > mm->va_end - addr || len == 0)
        return -EINVAL;
    uint64_t end = ALIGN_UP(addr + len, PAGE_SIZE);
    if (mmap_too_many(mm, mmap_inside_one(mm, addr, end)))
        return -ENOMEM;
    struct spares s;
    if (mmap_spares_get(&s, mmap_splits_needed(mm, addr, end)))
        return -ENOMEM;
    mmap_split_edges(mm, addr, end, &s);
    mmap_spares_put(&s);
    remove_range(mm, addr, end);
    return 0;
}

/* ---- mprotect -------------------------------------------------------------------------------- */

/* The pte protections for the pages of v now: a private page may be
 * shared with a fork, so it waits for its write fault to get PT_W. */
static unsigned fresh_prot(const struct vma *v)
{
    return vma_pt_prot(v) & ((v->flags & VMA_SHARED) ? ~0u : ~PT_W);
}

int mm_mprotect(struct mm *mm, uint64_t addr, uint64_t len, unsigned prot)
{
    if (addr & PAGE_MASK_LOW)
        return -EINVAL;
    if (len == 0)
        return 0;
    uint64_t end = addr + ALIGN_UP(len, PAGE_SIZE);
    if (end <= addr)
        return -ENOMEM;
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM))
        return -EINVAL;
    prot &= ~PROT_SEM;
    /* Every page must be mapped (Linux would change the VMAs before a
     * hole and then fail; we check first and change nothing). */
    uint64_t at = addr;
    for (struct vma *v = vma_find(mm, addr); at < end; v = v->next) {
        if (!v || v->start > at)
            return -ENOMEM;
        if ((prot & PROT_WRITE) && (v->file || v->mapping) && (v->flags & VMA_SHARED) &&
            !(v->flags & VMA_MAYWRITE))
            return -EACCES;
        at = v->end;
    }
    unsigned nsplit = mmap_splits_needed(mm, addr, end);
    struct spares s;
    if (mmap_too_many(mm, nsplit) || mmap_spares_get(&s, nsplit))
        return -ENOMEM;
    mmap_split_edges(mm, addr, end, &s);
    mmap_spares_put(&s);
    for (struct vma *v = vma_find(mm, addr); v && v->start < end; v = v->next) {
        v->prot = prot;
        mm_must(pt_protect(&mm->pt, v->start, v->end - v->start, fresh_prot(v)),
                "mprotect: pt_protect", v->start);
    }
    vma_merge_range(mm, addr, end);
    return 0;
}

/* ---- brk ------------------------------------------------------------------------------------- */

int mm_brk_init(struct mm *mm, uint64_t start)
{
    if (start > mm->va_end)
        return -EINVAL;
    start = ALIGN_UP(start, PAGE_SIZE);
    if (start < MM_MIN_ADDR || start > mm->va_end)
        return -EINVAL;
    mm->brk_start = mm->brk = start;
    return 0;
}

uint64_t mm_brk(struct mm *mm, uint64_t brk)
{
    uint64_t old = mm->brk;
    if (brk < mm->brk_start || brk > mm->va_end || !mm->brk_start)
        return old;
    uint64_t new_end = ALIGN_UP(brk, PAGE_SIZE), old_end = ALIGN_UP(old, PAGE_SIZE);
    if (new_end == old_end) {
        mm->brk = brk;
        return brk;
    }
    if (brk < old) {
        /* Always allowed (unless the VMA limit forbids the split). */
        if (mm_munmap(mm, new_end, old_end - new_end))
            return old;
        mm->brk = brk;
        return brk;
    }
    if (!mmap_enough_memory(new_end - old_end))
        return old; /* (the overcommit rule above) */
    /* Growing: a page of gap before the next mapping, and the guard gap
     * below a stack (Linux's brk: newbrk + PAGE_SIZE <= vm_start_gap). */
    uint64_t next = mm->va_end + PAGE_SIZE;
    struct vma *v = vma_find(mm, old_end);
    if (v)
        next = vma_start_gap(mm, v);
    uint64_t got;
    if (new_end + PAGE_SIZE > next ||
        mm_mmap(mm, old_end, new_end - old_end, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, NULL, 0, &got))
        return old;
    mm->brk = brk;
    return brk;
}

/* ---- madvise and mincore ---------------------------------------------------------------------- */

int (*mm_madvise_reclaim)(struct mm *mm, struct vma *v, uint64_t start, uint64_t end, int advice);

int mm_madvise(struct mm *mm, uint64_t addr, uint64_t len, int advice)
{
    if (addr & PAGE_MASK_LOW)
        return -EINVAL;
    switch (advice) {
    case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
    case MADV_DONTNEED: case MADV_FREE: case MADV_COLD: case MADV_PAGEOUT:
        break;
    default:
        return -EINVAL;
    }
    uint64_t alen = ALIGN_UP(len, PAGE_SIZE);
    if (len && !alen)
        return -EINVAL;
    uint64_t end = addr + alen;
    if (end < addr)
        return -EINVAL;
    if (end == addr)
        return 0;
    int err = 0;
    uint64_t at = addr;
    for (struct vma *v = vma_find(mm, addr); v && v->start < end; v = v->next) {
        if (v->start > at)
            err = -ENOMEM; /* a hole: go on, then say so */
        uint64_t s = MAX(addr, v->start), e = MIN(end, v->end);
        at = v->end;
        if (advice == MADV_FREE && (v->file || v->shm || v->mapping))
            return -EINVAL; /* Linux: only private anonymous memory */
        if (advice == MADV_DONTNEED || advice == MADV_FREE)
            mm_unmap_pages(mm, s, e);
        if ((advice == MADV_PAGEOUT || advice == MADV_COLD) && mm_madvise_reclaim)
            mm_madvise_reclaim(mm, v, s, e, advice);  /* a hint: never fails */
    }
    return at < end ? -ENOMEM : err;
}

struct resident {
    uint64_t base;
    uint8_t *vec;
};

static int mark_resident(const struct pt_view *v, void *arg)
{
    struct resident *r = arg;
    if (!v->payload) /* a payload entry: the page is elsewhere, not resident */
        r->vec[(v->va - r->base) >> PAGE_SHIFT] = 1;
    return 0;
}

int mm_mincore(struct mm *mm, uint64_t addr, uint64_t len, uint8_t *vec)
{
    if (addr & PAGE_MASK_LOW)
        return -EINVAL;
    uint64_t alen = ALIGN_UP(len, PAGE_SIZE);
    if ((len && !alen) || addr > mm->va_end || alen > mm->va_end - addr)
        return -ENOMEM;
    uint64_t end = addr + alen, at = addr;
    struct resident r = { addr, vec };
    memset(vec, 0, alen >> PAGE_SHIFT);
    for (struct vma *v = vma_find(mm, addr); at < end; v = v->next) {
        if (!v || v->start > at)
            return -ENOMEM;
        uint64_t e = MIN(end, v->end);
        mm_must(pt_for_each(&mm->pt, at, e, mark_resident, &r), "mincore: pt_for_each", at);
        /* A shared page is resident while its object holds it. */
        for (uint64_t va = at; v->shm && va < e; va += PAGE_SIZE)
            if (vm_shm_frame(v->shm, (v->off + va - v->start) >> PAGE_SHIFT))
                vec[(va - addr) >> PAGE_SHIFT] = 1;
        /* A file page is resident while the page cache holds it (Linux's
         * mincore_page), mapped here or not. */
        for (uint64_t va = at; v->mapping && va < e; va += PAGE_SIZE)
            if (filemap_resident(v, va))
                vec[(va - addr) >> PAGE_SHIFT] = 1;
        at = e;
    }
    return 0;
}
