/*
 * The address-space validators, mm_check_consistency and mm_check_frames
 * (include/mm/vma.h): what the host tests and the fuzz target run after
 * every operation.
 *
 * They recount everything from scratch: the VMA list link by link, every
 * present pte through pt_for_each (checked against the VMA it must lie
 * in: mm_check_consistency walks the whole user half, mm_check_frames
 * only the VMAs, relying on the counts for strays, so that it stays cheap
 * enough to run over every process after every step), and the frame
 * references.  For the references, every mapping (and
 * every frame a shared object holds under a VMA) becomes one entry of a
 * scratch array, "physical address | kind | which mm", which is sorted
 * (heap sort: no recursion, no second array) so that all the entries of
 * one frame are adjacent; then each run is compared with the frame's
 * refcount.  The array comes from kmalloc: -ENOMEM when it cannot be had.
 *
 * Invariant: the validators only read (the scratch array aside): a
 * passing check changes nothing in the mms or the frames it inspects.
 *
 * Like 9front's checkpagerefs, the cross-address-space check is exact
 * only when it sees every holder: all the mms, and nobody else holding
 * a reference (no kernel code in the middle of a copy).
 */
#include <mm/check.h>
#include <mm/vma.h>
#include <mm/rmap.h>
#include <mm/slab.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/types.h>

#define E_OBJ    0x1ul     /* a shared object holds the frame (not a pte) */
#define E_SHARED 0x2ul     /* a pte of a shared VMA */
#define E_MM_SHIFT 2        /* bits 2..11: index of the mm, for duplicates within one */
#define E_MAX_MMS 1024

struct check {
    struct mm *mm;
    const struct vma *v;        /* the VMA the pte walk is in */
    uint64_t rss, zero;         /* recounted */
    uint64_t *e;                /* entries: cap of them, n used */
    uint64_t n, cap;
    uint64_t tag;               /* mm index << E_MM_SHIFT */
    char *why;
    size_t size;
};


static int add(struct check *c, uint64_t entry)
{
    char *why = c->why;
    size_t size = c->size;
    CHECK(c->n < c->cap, "more mappings than rss + zero_maps + object pages say");
    c->e[c->n++] = entry;
    return 0;
}

/* ---- the VMA list -------------------------------------------------------------------------------- */

/* A page-cache file's VMA: on its file's i_mmap list, naming its mm;
 * VMA_MAYWRITE only there, and a shared one writable only with it. */
static int check_file_vma(struct check *c, const struct vma *v)
{
    char *why = c->why;
    size_t size = c->size;
    bool shared = v->flags & VMA_SHARED;
    CHECK(!(v->flags & VMA_MAYWRITE) || (v->mapping && shared),
          "VMA %#lx: may-write flag outside a shared file mapping", v->start);
    if (!v->mapping)
        return 0;
    CHECK(v->mm == c->mm, "file VMA %#lx names another address space", v->start);
    CHECK(!shared || !(v->prot & PROT_WRITE) || (v->flags & VMA_MAYWRITE),
          "VMA %#lx: writable shared mapping of a file not opened for writing", v->start);
    uint64_t n = 0;
    bool found = false;
    for (const struct vma *o = v->mapping->i_mmap; o; o = o->i_mmap_next) {
        CHECK(++n <= v->mapping->nr_vmas, "file of VMA %#lx: more VMAs on i_mmap than %lu",
              v->start, v->mapping->nr_vmas);
        CHECK(o->mapping == v->mapping && (!o->i_mmap_next || o->i_mmap_next->i_mmap_prev == o),
              "file of VMA %#lx: i_mmap list broken", v->start);
        found = found || o == v;
    }
    CHECK(found, "file VMA %#lx is not on its file's i_mmap list", v->start);
    return 0;
}

static int check_vmas(struct check *c)
{
    char *why = c->why;
    size_t size = c->size;
    struct mm *mm = c->mm;
    const struct vma *prev = NULL;
    uint64_t n = 0;
    int err;
    bool cache_seen = !mm->cache;
    for (const struct vma *v = mm->vmas; v; prev = v, v = v->next) {
        CHECK(++n <= mm->nr_vmas, "more VMAs in the list than nr_vmas %lu", mm->nr_vmas);
        CHECK(v->prev == prev, "VMA %#lx: prev link broken", v->start);
        CHECK(!((v->start | v->end | v->off) & (PAGE_SIZE - 1)) && v->start < v->end,
              "VMA [%#lx, %#lx) off %#lx: unaligned or empty", v->start, v->end,
              v->off);
        CHECK(v->start >= MM_MIN_ADDR && v->end <= mm->va_end,
              "VMA [%#lx, %#lx) outside user space", v->start, v->end);
        CHECK(!prev || prev->end <= v->start, "VMAs [%#lx, %#lx) and [%#lx, %#lx) overlap "
              "or are out of order", prev->start, prev->end, v->start,
              v->end);
        CHECK(!prev || !vma_compatible(prev, v), "VMAs [%#lx, %#lx) and [%#lx, %#lx) "
              "should have been merged", prev->start, prev->end, v->start,
              v->end);
        CHECK(!(v->prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) &&
                  !(v->flags & ~(VMA_SHARED | VMA_GROWSDOWN | VMA_MAYWRITE)),
              "VMA %#lx: prot %#x flags %#x", v->start, v->prot, v->flags);
        CHECK(!(v->file && v->shm) && !(v->mapping && (v->file || v->shm)),
              "VMA %#lx: two backings", v->start);
        if ((err = check_file_vma(c, v)) != 0)
            return err;
        CHECK(!v->shm || (v->flags & VMA_SHARED), "VMA %#lx: private with an object",
              v->start);
        CHECK(!(v->flags & VMA_SHARED) || v->shm || v->file || v->mapping,
              "VMA %#lx: shared without backing", v->start);
        CHECK(!(v->file && (v->flags & VMA_SHARED) && (v->prot & PROT_WRITE)),
              "VMA %#lx: writable shared file mapping", v->start);
        CHECK(v->file || v->shm || v->mapping || v->off == 0,
              "VMA %#lx: anonymous with offset %#lx",
              v->start, v->off);
        CHECK(!v->shm || (v->shm->refs > 0 && v->off / PAGE_SIZE <= v->shm->npages &&
                          (v->end - v->start) / PAGE_SIZE <= v->shm->npages - v->off / PAGE_SIZE),
              "VMA %#lx: outside its object (%lu pages, %lu refs)", v->start,
              (v->shm ? v->shm->npages : 0), (v->shm ? v->shm->refs : 0));
        cache_seen = cache_seen || v == mm->cache;
    }
    CHECK(n == mm->nr_vmas, "%lu VMAs in the list, nr_vmas %lu", n, mm->nr_vmas);
    CHECK(n <= mm->max_vmas, "%lu VMAs, the limit is %lu", n, mm->max_vmas);
    CHECK(cache_seen, "the VMA cache points outside the list");
    CHECK(mm->brk_start <= mm->brk && !(mm->brk_start & (PAGE_SIZE - 1)),
          "brk %#lx below its start %#lx or unaligned start", mm->brk,
          mm->brk_start);
    return 0;
}

/* ---- every present pte ---------------------------------------------------------------------------- */

static int check_leaf(const struct pt_view *pv, void *arg)
{
    struct check *c = arg;
    uint64_t va = pv->va, pa = pv->pa, zero = mm_zero_page();
    char *why = c->why;
    size_t size = c->size;
    while (c->v && c->v->end <= va)
        c->v = c->v->next;
    const struct vma *v = c->v;
    if (pv->payload) { /* maps nothing; what it names is its owner's */
        CHECK(v && v->start <= va, "payload entry at %#lx outside every VMA", va);
        return 0;
    }
    CHECK(pv->size == PAGE_SIZE, "a %#lx-byte leaf at %#lx", pv->size, va);
    CHECK(v && v->start <= va, "pte at %#lx (pa %#lx) outside every VMA", va, pa);
    unsigned want = vma_pt_prot(v);
    CHECK((pv->prot & ~PT_W) == (want & ~PT_W) && (!(pv->prot & PT_W) || (want & PT_W)),
          "pte at %#lx has prot %#x, its VMA allows %#x", va, pv->prot, want);
    CHECK((pa >> PAGE_SHIFT) < node0->max_pfn &&
              page_count(pfn_to_page(pa >> PAGE_SHIFT)) > 0,
          "pte at %#lx maps %#lx, not an allocated frame", va, pa);
    if (pa == zero) {
        CHECK(!v->file && !v->shm && !v->mapping && !(pv->prot & PT_W),
              "zero page at %#lx writable or in a file/shared VMA", va);
        c->zero++;
    } else {
        c->rss++;
    }
    if ((pv->prot & PT_W) && !(v->flags & VMA_SHARED))
        CHECK(page_count(pfn_to_page(pa >> PAGE_SHIFT)) == 1,
              "private pte at %#lx writable, but frame %#lx has %u references", va,
              pa, page_count(pfn_to_page(pa >> PAGE_SHIFT)));
    if (v->shm) {
        uint64_t obj = vm_shm_frame(v->shm, (v->off + va - v->start) >> PAGE_SHIFT);
        CHECK(obj == pa, "shared pte at %#lx maps %#lx, its object holds %#lx", va,
              pa, obj);
    }
    /* A file VMA maps its file's page of the index (never writable when
     * private), or, private, a copy of its own (not a page-cache page). */
    bool file = page_is_file(pfn_to_page(pa >> PAGE_SHIFT));
    CHECK(!file || v->mapping, "pte at %#lx maps page-cache page %#lx outside a file VMA", va,
          pa);
    if (v->mapping && (file || (v->flags & VMA_SHARED))) {
        uint64_t cached = v->mapping->ops->find(v->mapping, (v->off + va - v->start) >> PAGE_SHIFT);
        CHECK(file && cached == pa, "file pte at %#lx maps %#lx, the file's page is %#lx", va, pa,
              cached);
        CHECK((v->flags & VMA_SHARED) || !(pv->prot & PT_W),
              "private pte at %#lx writes to the file's page %#lx", va, pa);
    }
    return add(c, pa | c->tag | ((v->flags & VMA_SHARED) ? E_SHARED : 0));
}

/* Entries for the frames objects hold under each shared VMA. */
static int add_objects(struct check *c)
{
    for (const struct vma *v = c->mm->vmas; v; v = v->next)
        for (uint64_t va = v->start; v->shm && va < v->end; va += PAGE_SIZE) {
            uint64_t pa = vm_shm_frame(v->shm, (v->off + va - v->start) >> PAGE_SHIFT);
            int err = pa ? add(c, pa | c->tag | E_OBJ) : 0;
            if (err)
                return err;
        }
    return 0;
}

/*
 * Walk one mm: its ptes, then its objects' frames.  The full walk goes
 * over all of [0, va_end), so a pte outside every VMA is found wherever
 * it is; the quick one only over the VMAs, where a stray pte can still
 * show as a count that does not match rss + zero_maps.
 */
static int walk_mm(struct check *c, bool full)
{
    char *why = c->why;
    size_t size = c->size;
    struct mm *mm = c->mm;
    c->v = mm->vmas;
    c->rss = c->zero = 0;
    int r = 0;
    if (full)
        r = pt_for_each(&mm->pt, 0, mm->va_end, check_leaf, c);
    for (const struct vma *v = mm->vmas; v && !full && !r; v = v->next)
        r = pt_for_each(&mm->pt, v->start, v->end, check_leaf, c);
    CHECK(r == 0 || r == -EUCLEAN, "pt_for_each over the user half: %d", r);
    if (r)
        return r;
    CHECK(c->rss == mm->rss && c->zero == mm->zero_maps,
          "%lu pages and %lu zero pages mapped, counted %lu and %lu", c->rss,
          c->zero, mm->rss, mm->zero_maps);
    CHECK(mm->max_rss >= mm->rss, "max_rss %lu below rss %lu", mm->max_rss,
          mm->rss);
    return add_objects(c);
}

/* ---- references ------------------------------------------------------------------------------------ */

static void sift(uint64_t *a, uint64_t i, uint64_t n)
{
    for (;;) {
        uint64_t big = i, l = 2 * i + 1, r = l + 1;
        if (l < n && a[l] > a[big])
            big = l;
        if (r < n && a[r] > a[big])
            big = r;
        if (big == i)
            return;
        uint64_t t = a[i];
        a[i] = a[big];
        a[big] = t;
        i = big;
    }
}

static void heap_sort(uint64_t *a, uint64_t n)
{
    for (uint64_t i = n / 2; i-- > 0;)
        sift(a, i, n);
    for (uint64_t end = n; end-- > 1;) {
        uint64_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift(a, 0, end);
    }
}

/* Compare each frame's run of entries with its refcount. */
static int check_runs(struct check *c, bool exact)
{
    char *why = c->why;
    size_t size = c->size;
    uint64_t mask = ~(PAGE_SIZE - 1), zero = mm_zero_page();
    heap_sort(c->e, c->n);
    for (uint64_t i = 0; i < c->n;) {
        uint64_t pa = c->e[i] & mask, maps = 0, pins = pa == zero;
        const struct page *pg = pfn_to_page(pa >> PAGE_SHIFT);
        bool file = page_is_file(pg); /* the cache holds one reference, may map it anywhere */
        bool obj = false, shared = false, privat = false;
        uint64_t j = i, prev_tag = ~0ul;
        for (; j < c->n && (c->e[j] & mask) == pa; j++) {
            uint64_t e = c->e[j], tag = e & ~mask & ~(E_OBJ | E_SHARED);
            if (e & E_OBJ) {
                obj = true;
                continue;
            }
            /* Within one mm, only the zero page, file pages and a shared
             * object's pages (two mappings of it: mremap's "duplicate")
             * are mapped twice. */
            CHECK(pa == zero || file || (e & E_SHARED) || tag != prev_tag,
                  "frame %#lx mapped twice in one address space", pa);
            prev_tag = tag;
            maps++;
            shared = shared || (e & E_SHARED);
            privat = privat || !(e & E_SHARED);
        }
        CHECK(file || !(shared && privat), "frame %#lx in shared and private VMAs", pa);
        CHECK(!exact || !file || page_mapcount(pg) == maps,
              "page-cache page %#lx has map count %u for %lu mappings", pa, page_mapcount(pg),
              maps);
        pins += obj + file;
        uint32_t refs = page_count(pfn_to_page(pa >> PAGE_SHIFT));
        CHECK(exact ? refs == maps + pins : refs >= maps + pins,
              "frame %#lx has %u references for %lu mappings%s%s", pa, refs, maps,
              pa == zero ? " + the zero page's pin" : "",
              obj ? " + its object's" : file ? " + the page cache's" : "");
        i = j;
    }
    return 0;
}

/* Entries the walk should find: the counters' word, checked by the walk. */
static uint64_t expected_entries(struct mm *const *mms, size_t n)
{
    uint64_t total = 0;
    for (size_t k = 0; k < n; k++) {
        total += mms[k]->rss + mms[k]->zero_maps;
        for (const struct vma *v = mms[k]->vmas; v; v = v->next)
            if (v->shm)
                total += (v->end - v->start) / PAGE_SIZE;
    }
    return total;
}

static int check_refs(struct mm *const *mms, size_t n, bool exact, char *why, size_t size)
{
    struct check c = { .why = why, .size = size };
    if (n > E_MAX_MMS)
        return snprintf(why, size, "at most %d address spaces", E_MAX_MMS), -EINVAL;
    /* One walk: an entry past what the counters announce is an error
     * (walk_mm reports the counters' mismatch otherwise). */
    c.cap = expected_entries(mms, n);
    c.e = kmalloc(MAX(c.cap, 1) * sizeof(uint64_t), GFP_KERNEL | __GFP_NOWARN);
    if (!c.e)
        return -ENOMEM;
    int r = 0;
    for (size_t k = 0; k < n && !r; k++) {
        c.mm = mms[k];
        c.tag = (uint64_t)k << E_MM_SHIFT;
        r = walk_mm(&c, !exact);
    }
    if (!r)
        r = check_runs(&c, exact);
    kfree(c.e);
    return r;
}

int mm_check_consistency(struct mm *mm, char *why, size_t size)
{
    struct check c = { .mm = mm, .why = why, .size = size };
    int err = check_vmas(&c);
    if (!err)
        err = check_refs(&mm, 1, false, why, size);
    return err ? err : rmap_check_mm(mm, why, size);   /* every pte findable from its frame */
}

int mm_check_frames(struct mm *const *mms, size_t n, char *why, size_t size)
{
    for (size_t k = 0; k < n; k++) {
        struct check c = { .mm = mms[k], .why = why, .size = size };
        int err = check_vmas(&c);
        if (err)
            return err;
    }
    int err = check_refs(mms, n, true, why, size);
    for (size_t k = 0; k < n && !err; k++)
        err = rmap_check_mm(mms[k], why, size);
    return err;
}
