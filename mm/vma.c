/*
 * The VMA set of an address space, shared anonymous objects, and
 * /proc/self/maps (include/mm/vma.h).
 *
 * Invariants (mm_check_consistency in mm/vma_check.c verifies them):
 *  - mm->vmas is a doubly linked list sorted by address; the VMAs are
 *    disjoint, page aligned, non-empty, inside [MM_MIN_ADDR, va_end), and
 *    mm->nr_vmas counts them;
 *  - after every public operation no two adjacent VMAs are compatible
 *    (same protection, flags and backing, contiguous offsets): callers
 *    run vma_merge_range over what they changed, so the set is always
 *    the smallest one describing the address space;
 *  - mm->cache is NULL or a VMA of the list;
 *  - a shared object's refs is the number of VMAs (in every mm) pointing
 *    to it; it holds one reference on each frame in its directory;
 *  - a VMA with a mapping (a page-cache file) is on that file's i_mmap
 *    list from its making (mm_mmap_file, vma_split, fork, mremap) to
 *    vma_free, and v->mm is the mm whose list holds it (mm/filemap.c).
 *
 * A sorted list rather than a tree: processes here have tens of VMAs
 * (a heap grown by 5000 sbrk calls is still one VMA, merged), so a walk
 * costs less than the rebalancing it would save, and the one-entry cache
 * catches the runs of faults in one VMA.  Linux uses a maple tree;
 * SOS and xv6 use a list or a fixed array.
 *
 * Operations that need new VMAs (splits) take them from the caller, who
 * allocates everything first (mm/mmap.c): nothing here can fail halfway.
 */
#include <mm/vma.h>
#include <mm/rmap.h>
#include <mm/slab.h>
#include <mm/mempolicy.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>

void mm_must(int err, const char *what, uint64_t va)
{
    if (err)
        panic("mm: %s at %#lx failed (%d), which cannot happen", what, va,
              err);
}

/* ---- the list ---------------------------------------------------------------------------- */

struct vma *vma_find(struct mm *mm, uint64_t addr)
{
    struct vma *c = mm->cache;
    if (c && c->start <= addr && addr < c->end)
        return c;
    /* Every VMA before the cached one ends at or below its start. */
    struct vma *v = c && c->end <= addr ? c : mm->vmas;
    while (v && v->end <= addr)
        v = v->next;
    if (v)
        mm->cache = v;
    return v;
}

struct vma *vma_lookup(struct mm *mm, uint64_t addr)
{
    struct vma *v = vma_find(mm, addr);
    return v && v->start <= addr ? v : NULL;
}

unsigned vma_pt_prot(const struct vma *v)
{
    /* PROT_NONE: present for the kernel only, so the frames survive an
     * mprotect to PROT_NONE and back while every user access faults. */
    if (!(v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
        return 0;
    unsigned p = PT_U;
    if (v->prot & PROT_WRITE)
        p |= PT_W;
    if (v->prot & PROT_EXEC)
        p |= PT_X;
    return p;
}

bool vma_compatible(const struct vma *a, const struct vma *b)
{
    if (a->end != b->start || a->prot != b->prot || a->flags != b->flags ||
        a->file != b->file || a->shm != b->shm || a->mapping != b->mapping ||
        !mpol_equal(a->policy, b->policy))
        return false;
    /* A backing object must continue where a ends, and the anonymous
     * pages' indexes too (include/mm/rmap.h). */
    if (!anon_vma_mergeable(a, b))
        return false;
    return (!a->file && !a->shm && !a->mapping) || a->off + (a->end - a->start) == b->off;
}

struct vma *vma_alloc(void)
{
    return kzalloc(sizeof(struct vma), GFP_KERNEL | __GFP_NOWARN);
}

void vma_free(struct vma *v)
{
    anon_vma_unlink(v);          /* the lineage may go with its last VMA */
    if (v->shm)
        vm_shm_put(v->shm);
    if (v->mapping)
        filemap_vma_unlink(v);   /* off the file's list; its reference goes */
    mpol_put(v->policy);
    kfree(v);
}

void vma_link(struct mm *mm, struct vma *v)
{
    struct vma *prev = NULL, *next = mm->vmas;
    while (next && next->start < v->start) {
        prev = next;
        next = next->next;
    }
    if ((prev && prev->end > v->start) || (next && next->start < v->end))
        panic("vma_link: [%#lx, %#lx) overlaps a VMA", v->start,
              v->end);
    v->mm = mm;
    v->prev = prev;
    v->next = next;
    if (prev)
        prev->next = v;
    else
        mm->vmas = v;
    if (next)
        next->prev = v;
    mm->nr_vmas++;
}

void vma_unlink(struct mm *mm, struct vma *v)
{
    if (v->prev)
        v->prev->next = v->next;
    else
        mm->vmas = v->next;
    if (v->next)
        v->next->prev = v->prev;
    if (mm->cache == v)
        mm->cache = NULL;
    v->prev = v->next = NULL;
    mm->nr_vmas--;
}

void vma_split(struct mm *mm, struct vma *v, uint64_t addr, struct vma *spare)
{
    if (addr <= v->start || addr >= v->end || (addr & (PAGE_SIZE - 1)))
        panic("vma_split: %#lx is not inside [%#lx, %#lx)", addr,
              v->start, v->end);
    *spare = *v;
    spare->start = addr;
    if (v->file || v->shm || v->mapping)
        spare->off = v->off + (addr - v->start);
    spare->pgoff = vma_linear_index(v, addr);
    anon_vma_link(spare);        /* both halves may map the lineage's pages */
    if (spare->shm)
        vm_shm_get(spare->shm);
    if (spare->mapping)
        filemap_vma_link(spare);
    mpol_get(spare->policy);     /* both halves keep the policy */
    v->end = addr;
    spare->prev = v;
    spare->next = v->next;
    if (v->next)
        v->next->prev = spare;
    v->next = spare;
    mm->nr_vmas++;
}

unsigned vma_merge_range(struct mm *mm, uint64_t start, uint64_t end)
{
    unsigned merged = 0;
    struct vma *v = vma_find(mm, start);
    if (!v)
        return 0;
    if (v->prev)
        v = v->prev;
    /* Each pair whose boundary lies in [start, end]. */
    while (v->next && v->next->start <= end) {
        struct vma *n = v->next;
        if (vma_compatible(v, n)) {
            anon_vma_merge(v, n);
            v->end = n->end;
            vma_unlink(mm, n);
            vma_free(n);
            merged++;
        } else {
            v = n;
        }
    }
    return merged;
}

/* ---- shared anonymous objects --------------------------------------------------------------- */

#define SHM_LEAF (PAGE_SIZE / sizeof(uint64_t))   /* frame addresses per directory leaf */

static uint64_t shm_next_id = 1;

struct vm_shm *vm_shm_new(uint64_t npages)
{
    uint64_t nleaves = npages / SHM_LEAF + (npages % SHM_LEAF != 0);
    /* The directory is one kmalloc block: at most 4 MiB, 1 TiB of object. */
    if (npages == 0 || nleaves > (4ul << 20) / sizeof(uint64_t *))
        return NULL;
    struct vm_shm *s = kzalloc(sizeof(*s), GFP_KERNEL | __GFP_NOWARN);
    if (!s)
        return NULL;
    s->dir = kzalloc(nleaves * sizeof(uint64_t *), GFP_KERNEL | __GFP_NOWARN);
    if (!s->dir) {
        kfree(s);
        return NULL;
    }
    s->refs = 1;
    s->npages = npages;
    s->id = shm_next_id++;
    return s;
}

void vm_shm_get(struct vm_shm *s)
{
    s->refs++;
}

void vm_shm_put(struct vm_shm *s)
{
    if (s->refs == 0)
        panic("vm_shm_put: object %lu has no reference left", s->id);
    if (--s->refs)
        return;
    uint64_t nleaves = s->npages / SHM_LEAF + (s->npages % SHM_LEAF != 0);
    for (uint64_t l = 0; l < nleaves; l++) {
        if (!s->dir[l])
            continue;
        for (uint64_t i = 0; i < SHM_LEAF; i++)
            if (s->dir[l][i])
                frame_unref(s->dir[l][i]);
        kfree(s->dir[l]);
    }
    kfree(s->dir);
    kfree(s);
}

uint64_t vm_shm_frame(const struct vm_shm *s, uint64_t i)
{
    if (i >= s->npages || !s->dir[i / SHM_LEAF])
        return 0;
    return s->dir[i / SHM_LEAF][i % SHM_LEAF];
}

int vm_shm_set(struct vm_shm *s, uint64_t i, uint64_t pa)
{
    if (i >= s->npages || vm_shm_frame(s, i))
        panic("vm_shm_set: page %lu of object %lu (%lu pages) is taken or outside",
              i, s->id, s->npages);
    uint64_t **leaf = &s->dir[i / SHM_LEAF];
    if (!*leaf && !(*leaf = kzalloc(PAGE_SIZE, GFP_KERNEL | __GFP_NOWARN)))
        return -ENOMEM;
    (*leaf)[i % SHM_LEAF] = pa;
    s->nr_frames++;
    return 0;
}

int vm_shm_grow(struct vm_shm *s, uint64_t npages)
{
    if (npages <= s->npages)
        return 0;
    uint64_t old = s->npages / SHM_LEAF + (s->npages % SHM_LEAF != 0);
    uint64_t nleaves = npages / SHM_LEAF + (npages % SHM_LEAF != 0);
    if (nleaves > old) {
        if (nleaves > (4ul << 20) / sizeof(uint64_t *))
            return -ENOMEM;
        uint64_t **dir = kzalloc(nleaves * sizeof(uint64_t *), GFP_KERNEL | __GFP_NOWARN);
        if (!dir)
            return -ENOMEM;
        memcpy(dir, s->dir, old * sizeof(uint64_t *));
        kfree(s->dir);
        s->dir = dir;
    }
    /* The pages between the old end and the new one are not in any leaf
     * yet (vm_shm_frame reads 0): they fault in zeroed. */
    s->npages = npages;
    return 0;
}

/* ---- /proc/self/maps ------------------------------------------------------------------------- */

/* Linux's rules (fs/proc/task_mmu.c): a file's name first; then the VMA
 * overlapping [start_brk, brk] is the heap, the one holding the top of
 * the stack is the stack. */
const char *vma_name(const struct mm *mm, const struct vma *v, bool *deleted)
{
    *deleted = false;
    if (v->mapping)
        return v->mapping->ops->name(v->mapping, deleted);
    if (v->file)
        return v->file->name;
    if (v->shm)
        return "/dev/zero (deleted)";
    if (mm->brk_start && v->start <= mm->brk && v->end >= mm->brk_start)
        return "[heap]";
    if (mm->stack_end && v->start < mm->stack_end && v->end >= mm->stack_end)
        return "[stack]";
    return NULL;
}

/* What a vm_shm's lines show as their device: 00:01, as Linux's shmem. */
#define LINUX_DEV_SHM 1

/* Append to buf like snprintf, *len counting what the whole text needs. */
static __attribute__((format(printf, 4, 5))) void append(char *buf, size_t size, size_t *len,
                                                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*len < size ? buf + *len : NULL, *len < size ? size - *len : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n;
}

/* One line without its newline; compact: no device, inode or padding
 * (for a kill report). */
static void vma_line(const struct mm *mm, const struct vma *v, char *buf, size_t size,
                     size_t *len, bool compact)
{
    size_t line = *len;
    bool deleted;
    const char *name = vma_name(mm, v, &deleted);
    append(buf, size, len, "%08lx-%08lx %c%c%c%c %08lx", v->start,
           v->end, v->prot & PROT_READ ? 'r' : '-',
           v->prot & PROT_WRITE ? 'w' : '-', v->prot & PROT_EXEC ? 'x' : '-',
           v->flags & VMA_SHARED ? 's' : 'p',
           (v->file || v->shm || v->mapping ? v->off : 0));
    const char *del = deleted ? " (deleted)" : "";
    if (compact) {
        if (name)
            append(buf, size, len, " %s%s", name, del);
        return;
    }
    /* The device as major:minor from Linux's dev_t encoding, the inode. */
    uint64_t dev = v->shm ? LINUX_DEV_SHM : 0, ino = v->shm ? v->shm->id : 0;
    if (v->mapping)
        v->mapping->ops->ident(v->mapping, &dev, &ino);
    append(buf, size, len, " %02lx:%02lx %lu ", (dev >> 8) & 0xfff,
           (dev & 0xff) | ((dev >> 12) & 0xfff00), ino);
    if (name) {
        /* Linux pads the prefix to 72 columns, then one space. */
        size_t used = *len - line;
        append(buf, size, len, "%*s%s%s", (int)(used < 72 ? 72 - used + 1 : 1), "", name,
               del);
    }
}

int mm_maps(struct mm *mm, char *buf, size_t size)
{
    size_t len = 0;
    if (size)
        buf[0] = 0;
    for (const struct vma *v = mm->vmas; v; v = v->next) {
        vma_line(mm, v, buf, size, &len, false);
        append(buf, size, &len, "\n");
    }
    return (int)len;
}

int vma_describe(const struct mm *mm, const struct vma *v, char *buf, size_t size)
{
    size_t len = 0;
    if (size)
        buf[0] = 0;
    vma_line(mm, v, buf, size, &len, true);
    return (int)len;
}
