/*
 * Inside mm/: the pieces of mm/mmap.c that mm/mremap.c and mm/stack.c
 * build on (include/mm/vma.h has the public calls).  Each change to the
 * VMA set follows mmap.c's three steps: check, allocate everything
 * (spares), then change what cannot fail.
 */
#ifndef MM_MMAP_IMPL_H
#define MM_MMAP_IMPL_H

#include <mm/vma.h>

#define PAGE_MASK_LOW (PAGE_SIZE - 1)

/* VMAs allocated before a change, so that the change cannot fail. */
struct spares {
    unsigned n;
    struct vma *v[4];
};

/* n VMAs (n <= 4) into s: 0 or -ENOMEM (none kept). */
int mmap_spares_get(struct spares *s, unsigned n);
/* Free the ones not used. */
void mmap_spares_put(struct spares *s);
/* How many VMAs the splits at start and end of [start, end) need (0-2). */
unsigned mmap_splits_needed(struct mm *mm, uint64_t start, uint64_t end);
/* Cut the VMAs at start and end, taking the spares splits_needed said. */
void mmap_split_edges(struct mm *mm, uint64_t start, uint64_t end, struct spares *s);
/* Is [start, end) strictly inside one VMA (an unmap would cut it in three)? */
bool mmap_inside_one(struct mm *mm, uint64_t start, uint64_t end);
/* Would `grow` more VMAs pass vm.max_map_count? */
bool mmap_too_many(struct mm *mm, unsigned grow);
/* Linux's heuristic overcommit: could len more bytes ever be backed? */
bool mmap_enough_memory(uint64_t len);
/* Does a private mapping with prot (or a shared anonymous one) count
 * against memory (Linux's VM_ACCOUNT)? */
bool mmap_accounted(const struct vma *v);
/*
 * Where a mapping of len bytes without MAP_FIXED goes: the page-aligned
 * hint (rounded down, raised to MM_MIN_ADDR) if [hint, hint + len) is
 * free and clear of every stack's guard gap, else the highest free range
 * below mmap_base, else the highest anywhere.  0 or -ENOMEM.
 */
int mmap_get_area(struct mm *mm, uint64_t hint, uint64_t len, uint64_t *out);
/* Where a VMA begins for mmap's search: a stack that grows down keeps
 * the guard gap below it free (Linux's vm_start_gap). */
uint64_t vma_start_gap(const struct mm *mm, const struct vma *v);

/* The size limit of a stack that grows (RLIMIT_STACK of the caller). */
uint64_t mm_stack_rlimit(void);

#endif
