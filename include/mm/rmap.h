/*
 * The reverse map (mm/rmap.c; docs/rmap.md): from a frame, every
 * (address space, virtual address) whose pte maps it.  The page tables
 * answer "which frame is behind this address?"; the reverse map answers
 * the inverse question, which the SOS mailing-list post on physical/
 * paged/virtual memory asks for: to move a page that is in use
 * (migration), to take it away (swap), to know who shares it.
 *
 * The design is Linux's object-based reverse map, in its first form (one
 * anon_vma per lineage of VMAs, as 2.6.7-2.6.33 had it):
 *  - an anonymous page (PG_ANON) records in its descriptor an anon_vma,
 *    the set of VMAs that may map it, and its linear index: the page
 *    index it has in those VMAs, vma->pgoff + (va - vma->start) / 4096.
 *    A VMA keeps its pgoff when it is split (the second half adds the
 *    offset), moved by mremap or copied by fork, so that index maps back
 *    to one address in every VMA of the set: va = vma->start +
 *    (index - vma->pgoff) * 4096.  A fork's child VMAs join their
 *    parent's anon_vma: CoW-shared pages are found in both;
 *  - a page-cache page (PG_FILE) records its file and its index in the
 *    file; the file's i_mmap list gives the VMAs that map it (shared
 *    mappings of tmpfs files and MAP_SHARED anonymous memory);
 *  - nothing is recorded per mapping: fork adds no work per page, and a
 *    lookup walks each candidate VMA's tables at one address, keeping
 *    the hits whose leaf maps the frame.
 * The anon_vma in a page is a handle (slot and generation), not a
 * pointer: a page can outlive every VMA that mapped it (a kernel pin
 * holds it), and a stale handle then resolves to nothing.
 *
 * For an i386 (compat32) process the rmap finds the authoritative i386
 * entry (mm->pt); the 4-level entries derived from it follow through
 * pt.flush when it is replaced.
 *
 * Context: one CPU, a kernel that is not preemptible; nothing here sleeps.
 */
#ifndef MM_RMAP_H
#define MM_RMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mm/page.h>
#include <mm/pgtable.h>

struct mm;
struct vma;

/* A lineage of VMAs that may map the same anonymous pages. */
struct anon_vma {
    struct vma *vmas;        /* linked through vma->anon_next / anon_prev */
    uint64_t nr_vmas;
    uint32_t slot;           /* its handle's slot (mm/rmap.c) */
    uint32_t gen;            /* its handle's generation (mm/rmap.c) */
};

/* Give v an anon_vma before its first anonymous page (Linux's
 * anon_vma_prepare): a new one.  0 or -ENOMEM. */
int anon_vma_prepare(struct vma *v);
/* v, a new VMA whose anon_vma field was copied from another VMA (split,
 * fork, mremap), joins that anon_vma's list (nothing when NULL). */
void anon_vma_link(struct vma *v);
/* v leaves its anon_vma (freed with its last VMA); v->anon_vma = NULL. */
void anon_vma_unlink(struct vma *v);
/* Two VMAs merge into a (b is then freed): a takes b's anon_vma when it
 * has none.  False when both have one and they differ, or their pgoffs
 * do not continue each other (they cannot merge). */
bool anon_vma_mergeable(const struct vma *a, const struct vma *b);
void anon_vma_merge(struct vma *a, struct vma *b);

/* The linear index of va in v (see above). */
uint64_t vma_linear_index(const struct vma *v, uint64_t va);

/* A new anonymous page pg (fresh, referenced once, not yet mapped
 * anywhere else) is being mapped at va of v: mark it PG_ANON with v's
 * anon_vma (anon_vma_prepare must have given v one) and its index. */
void page_add_anon_rmap(struct page *pg, const struct vma *v, uint64_t va);
/* The anon_vma a PG_ANON page records, or NULL when its handle is stale. */
struct anon_vma *page_anon_vma(const struct page *pg);

/*
 * Page-cache pages: the file system that owns them records, when a page
 * enters its cache, pg->mapping = an identifier of the file and pg->index
 * = the page's index, and sets these hooks (kernel/fs/pagecache.c; NULL
 * in host tests that have no page cache):
 *  - mapping_of: the vm_mapping whose i_mmap lists the VMAs mapping the
 *    file, or NULL when no VMA ever mapped it;
 *  - replace: migration's file half: new (a copy of old, referenced once)
 *    takes old's place in the cache (its slot, the marks and counters of
 *    include/mm/filemap.h), every pte mapping old maps new
 *    (filemap_move_ptes), and the cache's reference on old is dropped.
 *    Cannot fail.
 */
struct vm_mapping;
struct filemap_owner_ops {
    struct vm_mapping *(*mapping_of)(const struct page *pg);
    void (*replace)(struct page *old, struct page *new);
};
extern const struct filemap_owner_ops *filemap_owner;

/* One pte that maps the page: its address space, VMA, and the view
 * pt_walk gave (v.va the address; pt_replace_view can rewrite it). */
struct rmap_hit {
    struct mm *mm;
    const struct vma *vma;
    struct pt_view pv;
};

/*
 * Call fn on every pte mapping pg (an anonymous page through its
 * anon_vma, a page-cache page through its file's VMAs); stops and returns
 * fn's value when it is not 0.  Other frames (kernel, slab, the zero
 * page, a frame no owner recorded) have no reverse map: 0 hits.  fn may
 * rewrite the leaf it is given (pt_replace_view) but nothing else.
 */
int rmap_walk(struct page *pg, int (*fn)(const struct rmap_hit *h, void *arg), void *arg);
/* The number of ptes mapping pg, by rmap_walk. */
uint64_t rmap_count(struct page *pg);

/*
 * The same walks for a batch of pages that lie near each other in a few
 * address spaces (a migration batch: include/mm/migrate.h): each walk of
 * a page table goes through one of the cursors (pt_walk_cursor), so the
 * pages of one table cost one read each instead of a walk from the root.
 * Zero the cursor before its first use; it may be kept across any
 * change (see struct pt_cursor).
 */
#define RMAP_CURSORS 4
struct rmap_cursor {
    struct pt_cursor pc[RMAP_CURSORS];
    unsigned next;              /* the one a new page table takes */
};
int rmap_walk_cursor(struct page *pg, int (*fn)(const struct rmap_hit *h, void *arg), void *arg,
                     struct rmap_cursor *cur);
/* The ptes mapping pg, without a function to call: the first max of them
 * written to hits[], in rmap_walk's order; returns how many there are
 * (more than max when hits[] was too short).  cur may be NULL. */
uint64_t rmap_collect(struct page *pg, struct rmap_hit *hits, unsigned max,
                      struct rmap_cursor *cur);

/*
 * The validator, for mm_check_consistency: every VMA on its anon_vma's
 * list and each list's count right; every present leaf mapping a frame
 * other than the zero page is, in a VMA with a page-cache file, that
 * file's page (PG_FILE, index matching) or an anonymous copy; an
 * anonymous page is PG_ANON with the VMA's anon_vma and the index of its
 * address (so rmap_walk finds that pte).  0 or -EUCLEAN with the first
 * problem in why.
 */
int rmap_check_mm(struct mm *mm, char *why, size_t size);

#endif
