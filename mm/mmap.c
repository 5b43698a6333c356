/*
 * The process's calls on its address space: mmap, munmap, mprotect, brk,
 * madvise, mincore (include/mm/vma.h; docs/address-spaces.md).
 *
 * Invariants kept by every call (mm/vma.c and mm/vma_check.c state them):
 * VMAs sorted, disjoint, merged when compatible; every present pte inside
 * a VMA with at most the VMA's rights; one frame reference per pte.
 *
 * Each call runs in three steps, like the page-table walker below it:
 *  1. check the arguments, with Linux's errors and in Linux's order where
 *     a program could tell the difference;
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
 * Left out: mremap, MAP_GROWSDOWN growth (the stack is a fixed VMA with a
 * guard gap below), MAP_POPULATE and MAP_LOCKED (accepted, no effect),
 * huge pages, memory policies.  Linux returns -EOVERFLOW for an offset
 * plus length past 2^64 and -EOPNOTSUPP for unknown flags with
 * MAP_SHARED_VALIDATE; our errno.h has neither, so both are -EINVAL.
 */
#include <mm/vma.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <kernel/types.h>

#define PAGE_MASK_LOW (PAGE_SIZE - 1)

#define MAP_KNOWN                                                                          \
    (MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE | \
     MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB |   \
     MAP_SYNC | MAP_FIXED_NOREPLACE)

/* ---- unmapping pages ---------------------------------------------------------------------- */

/* Below TLB_FLUSH_CEILING: one invlpg per page in the kernel's flush. */
#define UNMAP_BATCH 32

struct unmap_batch {
    unsigned n;
    uint64_t last;                 /* va of the last page collected */
    uint64_t pa[UNMAP_BATCH];
};

static int collect(const struct pt_view *v, void *arg)
{
    struct unmap_batch *b = arg;
    b->pa[b->n++] = v->pa;
    b->last = v->va;
    return b->n == UNMAP_BATCH;
}

void mm_unmap_pages(struct mm *mm, uint64_t start, uint64_t end)
{
    while (start < end) {
        struct unmap_batch b;
        b.n = 0;
        int more = pt_for_each(&mm->pt, start, end, collect, &b);
        mm_must(more < 0 ? more : 0, "mm_unmap_pages: pt_for_each", start);
        if (b.n == 0)
            return;
        uint64_t stop = b.last + PAGE_SIZE;
        /* The flush happens inside pt_unmap: only then may frames go. */
        mm_must(pt_unmap(&mm->pt, start, stop - start), "mm_unmap_pages: pt_unmap", start);
        for (unsigned i = 0; i < b.n; i++) {
            mm_count_unmap(mm, b.pa[i]);
            frame_unref(b.pa[i]);
        }
        if (!more)
            return;
        start = stop;
    }
}

/* ---- ranges and splits ------------------------------------------------------------------- */

/* The stack's guard gap [lo, hi), empty when there is none. */
static void guard_gap(const struct mm *mm, uint64_t *lo, uint64_t *hi)
{
    *hi = mm->stack_guard ? mm->stack_start : 0;
    *lo = *hi > mm->stack_guard ? *hi - mm->stack_guard : 0;
}

/* May a new mapping without MAP_FIXED take [addr, addr + len)? */
static bool range_free(struct mm *mm, uint64_t addr, uint64_t len)
{
    uint64_t glo, ghi;
    if (addr < MM_MIN_ADDR || addr > mm->va_end || len > mm->va_end - addr)
        return false;
    struct vma *v = vma_find(mm, addr);
    if (v && v->start < addr + len)
        return false;
    guard_gap(mm, &glo, &ghi);
    return addr + len <= glo || addr >= ghi;
}

/* The highest free range of len bytes ending at or below limit, outside
 * the stack guard: 0 or -ENOMEM. */
static int search_down(struct mm *mm, uint64_t len, uint64_t limit, uint64_t *out)
{
    uint64_t glo, ghi, lo = MM_MIN_ADDR;
    bool found = false;
    guard_gap(mm, &glo, &ghi);
    for (struct vma *v = mm->vmas;; v = v->next) {
        uint64_t hi = v ? v->start : mm->va_end;
        /* The gap [lo, hi) less the guard: at most two pieces, in order. */
        uint64_t piece[2][2] = { { lo, MIN(hi, glo) }, { MAX(lo, ghi), hi } };
        if (ghi <= glo) /* no guard */
            piece[0][1] = lo;
        for (int i = 0; i < 2; i++) {
            uint64_t plo = piece[i][0], phi = MIN(piece[i][1], limit);
            if (phi > plo && phi - plo >= len) {
                *out = phi - len;
                found = true;
            }
        }
        if (!v)
            break;
        lo = MAX(lo, v->end);
    }
    return found ? 0 : -ENOMEM;
}

/* VMAs the splits of [start, end) will need: one for each end strictly
 * inside a VMA. */
static unsigned splits_needed(struct mm *mm, uint64_t start, uint64_t end)
{
    struct vma *a = vma_lookup(mm, start), *b = vma_lookup(mm, end - 1);
    return (a && a->start < start) + (b && b->end > end);
}

struct spares {
    unsigned n;
    struct vma *v[3];
};

static int spares_get(struct spares *s, unsigned n)
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

static void spares_put(struct spares *s)
{
    while (s->n)
        vma_free(s->v[--s->n]);
}

/* Cut the VMAs at start and end so that whole VMAs cover [start, end). */
static void split_edges(struct mm *mm, uint64_t start, uint64_t end, struct spares *s)
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

/* Is [start, end) strictly inside one VMA (cutting it in three)? */
static bool inside_one(struct mm *mm, uint64_t start, uint64_t end)
{
    struct vma *a = vma_lookup(mm, start);
    return a && a->start < start && a->end > end;
}

/* Linux checks vm.max_map_count before each split or new VMA: -ENOMEM
 * if `grow` more VMAs would pass it (merges are not counted). */
static bool too_many(struct mm *mm, unsigned grow)
{
    return mm->nr_vmas + grow > mm->max_vmas;
}

/* ---- mmap and munmap ------------------------------------------------------------------------ */

/*
 * Linux's heuristic overcommit (vm.overcommit_memory = 0), reduced to its
 * core: one request for more memory than the machine has can never be
 * backed, so it is refused at once; anything smaller is allowed and paid
 * for at the touch.  What counts is what Linux accounts (VM_ACCOUNT):
 * private writable mappings, shared anonymous ones, and heap growth.
 */
static bool enough_memory(uint64_t len)
{
    uint64_t ram = 0;
    for (int i = 0; i < NR_ZONES; i++)
        ram += node0->zones[i].managed;
    return len / PAGE_SIZE <= ram;
}

int mm_mmap(struct mm *mm, uint64_t addr, uint64_t len, unsigned prot, unsigned flags,
            const struct vm_file *file, uint64_t off, uint64_t *out)
{
    unsigned type = flags & MAP_TYPE;
    bool anon = flags & MAP_ANONYMOUS, shared = type != MAP_PRIVATE;
    if (off & PAGE_MASK_LOW)
        return -EINVAL;
    if (anon) {
        file = NULL;
        off = 0;
    } else if (!file) {
        return -EBADF;
    }
    if (len == 0 || (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE))
        return -EINVAL;
    if (type == MAP_SHARED_VALIDATE && (flags & ~MAP_KNOWN))
        return -EINVAL;
    if (len > mm->va_end)
        return -ENOMEM;
    len = ALIGN_UP(len, PAGE_SIZE);
    bool accounted = type == MAP_PRIVATE ? (prot & PROT_WRITE) != 0 : !file;
    if (accounted && !enough_memory(len))
        return -ENOMEM;
    if (file && off + len < off)
        return -EINVAL;
    prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
    if (file && shared && (prot & PROT_WRITE))
        return -EACCES; /* files are read-only */

    bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
    if (fixed) {
        if (addr & PAGE_MASK_LOW)
            return -EINVAL;
        if (addr > mm->va_end - len)
            return -ENOMEM;
        if (addr < MM_MIN_ADDR)
            return -EPERM;
        if ((flags & MAP_FIXED_NOREPLACE)) {
            struct vma *v = vma_find(mm, addr);
            if (v && v->start < addr + len)
                return -EEXIST;
        }
    } else {
        /* A hint is taken when the range is free (rounded up to a page,
         * and to MM_MIN_ADDR, as Linux does). */
        uint64_t hint = addr ? ALIGN_UP(addr, PAGE_SIZE) : 0;
        if (hint && hint < MM_MIN_ADDR)
            hint = MM_MIN_ADDR;
        if (hint && range_free(mm, hint, len))
            addr = hint;
        else if (search_down(mm, len, mm->mmap_base, &addr) &&
                 search_down(mm, len, mm->va_end, &addr))
            return -ENOMEM;
    }
    uint64_t end = addr + len;

    /* Everything the change needs, before any change. */
    unsigned nsplit = fixed ? splits_needed(mm, addr, end) : 0;
    if (too_many(mm, 1 + (fixed && inside_one(mm, addr, end))))
        return -ENOMEM;
    struct spares s;
    struct vm_shm *shm = NULL;
    if (spares_get(&s, nsplit + 1))
        return -ENOMEM;
    if (shared && anon && !(shm = vm_shm_new(len / PAGE_SIZE))) {
        spares_put(&s);
        return -ENOMEM;
    }

    struct vma *v = s.v[--s.n];
    if (fixed) {
        split_edges(mm, addr, end, &s);
        remove_range(mm, addr, end);
    }
    v->start = addr;
    v->end = end;
    v->prot = prot;
    v->flags = shared ? VMA_SHARED : 0;
    v->file = file;
    v->shm = shm;
    v->off = off;
    vma_link(mm, v);
    vma_merge_range(mm, addr, end);
    spares_put(&s);
    *out = addr;
    return 0;
}

int mm_munmap(struct mm *mm, uint64_t addr, uint64_t len)
{
    if ((addr & PAGE_MASK_LOW) || addr > mm->va_end || len > mm->va_end - addr || len == 0)
        return -EINVAL;
    uint64_t end = ALIGN_UP(addr + len, PAGE_SIZE);
    if (too_many(mm, inside_one(mm, addr, end)))
        return -ENOMEM;
    struct spares s;
    if (spares_get(&s, splits_needed(mm, addr, end)))
        return -ENOMEM;
    split_edges(mm, addr, end, &s);
    spares_put(&s);
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
        if ((prot & PROT_WRITE) && v->file && (v->flags & VMA_SHARED))
            return -EACCES;
        at = v->end;
    }
    unsigned nsplit = splits_needed(mm, addr, end);
    struct spares s;
    if (too_many(mm, nsplit) || spares_get(&s, nsplit))
        return -ENOMEM;
    split_edges(mm, addr, end, &s);
    spares_put(&s);
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
    if (!enough_memory(new_end - old_end))
        return old; /* (the overcommit rule above) */
    /* Growing: a page of gap before the next mapping or the stack guard. */
    uint64_t glo, ghi, next = mm->va_end + PAGE_SIZE;
    struct vma *v = vma_find(mm, old_end);
    if (v)
        next = v->start;
    guard_gap(mm, &glo, &ghi);
    if (ghi > old_end && glo < next)
        next = glo;
    uint64_t got;
    if (new_end + PAGE_SIZE > next ||
        mm_mmap(mm, old_end, new_end - old_end, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, NULL, 0, &got))
        return old;
    mm->brk = brk;
    return brk;
}

/* ---- madvise and mincore ---------------------------------------------------------------------- */

int mm_madvise(struct mm *mm, uint64_t addr, uint64_t len, int advice)
{
    if (addr & PAGE_MASK_LOW)
        return -EINVAL;
    switch (advice) {
    case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
    case MADV_DONTNEED: case MADV_FREE:
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
        if (advice == MADV_FREE && (v->file || v->shm))
            return -EINVAL; /* Linux: only private anonymous memory */
        if (advice == MADV_DONTNEED || advice == MADV_FREE)
            mm_unmap_pages(mm, s, e);
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
        at = e;
    }
    return 0;
}

/* ---- the stack ---------------------------------------------------------------------------------- */

int mm_setup_stack(struct mm *mm, uint64_t top, uint64_t size, uint64_t guard)
{
    if (((top | size | guard) & PAGE_MASK_LOW) || size == 0 || top > mm->va_end ||
        top < MM_MIN_ADDR || size > top - MM_MIN_ADDR)
        return -EINVAL;
    uint64_t got;
    int err = mm_mmap(mm, top - size, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, NULL, 0, &got);
    if (err)
        return err;
    mm->stack_start = top - size;
    mm->stack_end = top;
    mm->stack_guard = guard;
    uint64_t below = mm->stack_start > guard ? mm->stack_start - guard : 0;
    if (below < mm->mmap_base)
        mm->mmap_base = below;
    return 0;
}
