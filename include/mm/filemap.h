/*
 * File pages in address spaces (mm/filemap.c; docs/page-cache.md): a VMA
 * that maps a file's page-cache pages, shared (MAP_SHARED: the pages
 * themselves, writes go to the file) or private (MAP_PRIVATE: the pages
 * read-only until the first write copies one), the per-file list of the
 * VMAs that map it (Linux's i_mmap), and truncation's unmapping.
 *
 * mm/ knows no file system: a file system that lets its files be mapped
 * gives each one a struct vm_mapping (Linux's struct address_space, the
 * part the fault path needs) whose operations find the file's pages.
 * The layers stay in order: the file system calls mm (mm_mmap_file,
 * unmap_mapping_pages, the page accounting below); mm calls back only
 * through the operations.
 *
 * Counting a page-cache page:
 *  - refcount: one reference held by the cache, one more per pte
 *    mapping it (in any address space), as for every mapped frame;
 *  - map count: the ptes mapping it (Linux's _mapcount + 1); kept in the
 *    descriptor's prev link, which belongs to the owner of an allocated
 *    frame (include/mm/page.h), and the page is marked PG_FILE while the
 *    cache holds it;
 *  - NR_FILE_PAGES/NR_SHMEM count cached pages, NR_FILE_MAPPED those with
 *    a map count above 0 (include/mm/vmstat.h).
 *
 * Context: one CPU, a kernel that is not preemptible; none of these
 * functions sleeps.  Errors as include/mm/vma.h.
 */
#ifndef MM_FILEMAP_H
#define MM_FILEMAP_H

#include <stdbool.h>
#include <stdint.h>

#include <mm/gfp.h>
#include <mm/page.h>
#include <mm/vmstat.h>

struct mm;
struct vma;
struct vm_mapping;

/*
 * What a file system provides for each mappable file.  All are called
 * with the file alive (a VMA or the caller holds a reference).
 *  - fault: the page of file index `index`, created when the file has a
 *    hole there (zero-filled): *pa is its frame, which the cache keeps
 *    referenced (the caller takes its own reference for a pte).
 *    -EIO when index is at or past the page holding the file's last byte
 *    (the access gets SIGBUS), -ENOSPC when the file system is full
 *    (SIGBUS too, as Linux's shmem), -ENOMEM;
 *  - find: the frame of index if the file holds a page there, else 0
 *    (creates nothing: mincore, the validators);
 *  - get, put: a VMA starts or stops referring to the file (the file
 *    lives at least as long as the VMAs that map it);
 *  - ident: the device (Linux's dev_t encoding) and inode number that
 *    /proc/self/maps shows;
 *  - name: the file's path for /proc/self/maps, and whether the file has
 *    lost its last name (Linux then adds " (deleted)");
 *  - migrate (may be NULL): move the cached page of index to a new frame
 *    from gfp, for an address space whose tables cannot name the old one
 *    (an i386 process and a page above 4 GiB): copy it, put the copy in
 *    the cache, filemap_move_ptes from the old frame to the new, let the
 *    old one go.  0 with *pa the new frame, -ENOMEM.  Without it such a
 *    fault gets SIGBUS.
 */
struct vm_mapping_ops {
    int (*fault)(struct vm_mapping *m, uint64_t index, uint64_t *pa);
    uint64_t (*find)(struct vm_mapping *m, uint64_t index);
    void (*get)(struct vm_mapping *m);
    void (*put)(struct vm_mapping *m);
    void (*ident)(struct vm_mapping *m, uint64_t *dev, uint64_t *ino);
    const char *(*name)(struct vm_mapping *m, bool *deleted);
    int (*migrate)(struct vm_mapping *m, uint64_t index, gfp_t gfp, uint64_t *pa);
};

/*
 * A mappable file, as mm sees it.  i_mmap lists every VMA (of every
 * address space) whose backing is this file, linked through the VMAs'
 * i_mmap_prev/i_mmap_next, newest first; nr_vmas counts them.  A VMA
 * is on the list exactly while its mapping field points here
 * (filemap_vma_link / filemap_vma_unlink, called where VMAs are made and
 * freed).  Linux keeps an interval tree of them, to find the VMAs
 * covering one page fast; a list is enough for the tens of mappings a
 * file has here, and truncation is rare.
 */
struct vm_mapping {
    const struct vm_mapping_ops *ops;
    struct vma *i_mmap;
    uint64_t nr_vmas;
};

/* ---- VMAs and their file (mm/filemap.c) ---------------------------------------------- */

/* A new VMA v (v->mapping and v->mm set) joins its file's list and takes
 * a reference on the file (ops->get). */
void filemap_vma_link(struct vma *v);
/* v leaves its file's list and drops its reference (ops->put: the file
 * may go).  Called when the VMA is freed. */
void filemap_vma_unlink(struct vma *v);

/*
 * The page at va (not present) of a file VMA v of mm, for the fault
 * handler: a shared VMA maps the page-cache page itself with the VMA's
 * rights; a private one maps it read-only for a read, or maps a copy
 * (writable, its own) for a write.  0, -EIO (past the end of the file, or
 * no room in the file system: the caller sends SIGBUS), -ENOMEM.
 */
int filemap_fault(struct mm *mm, struct vma *v, uint64_t va, unsigned access);

/*
 * Truncation (Linux's unmap_mapping_pages with even_cows): unmap, in
 * every address space, every page of the VMAs of m that lies at file
 * index start .. start + nr - 1: the page-cache pages and the private
 * copies made from them alike, so that an access there faults again and
 * finds the file's new size (SIGBUS past it).  nr may run past the end of
 * every index (UINT64_MAX - start: to the end of the file).
 */
void unmap_mapping_pages(struct vm_mapping *m, uint64_t start, uint64_t nr);

/*
 * Migration's pte half: every pte of m's VMAs that maps file page index
 * at frame old now maps frame new, rewritten in place (pt_replace_view:
 * the rights and the accessed and dirty state kept, one flush each), its
 * reference and map count moved with it.  Private copies are left alone.
 * new must already be a page-cache page (filemap_page_added).  Cannot
 * fail.
 */
void filemap_move_ptes(struct vm_mapping *m, uint64_t index, uint64_t old, uint64_t new);

/* Fork: give child's copy of the file VMA v the parent's pages (one more
 * reference and map count each); a private VMA's copies lose PT_W in both
 * for copy-on-write, as mm_fork does for anonymous memory.  -ENOMEM. */
int filemap_fork_vma(struct mm *child, struct mm *parent, const struct vma *v);
/* Exit: unmap the pages of every file VMA of mm (their map counts go
 * down), before the tables are destroyed. */
void filemap_exit_mm(struct mm *mm);
/* mincore: is the file page behind va of v in the page cache? */
bool filemap_resident(const struct vma *v, uint64_t va);

/* msync flags (Linux's) */
#define MS_ASYNC      1
#define MS_INVALIDATE 2
#define MS_SYNC       4

/*
 * msync: nothing to write back (the page cache is the file's only copy),
 * so only Linux's checks: -EINVAL (unknown flags, MS_ASYNC with MS_SYNC,
 * addr unaligned), -ENOMEM (the range wraps, or part of it is not
 * mapped).  No page is locked, so MS_INVALIDATE never gives -EBUSY.
 * len 0 (or a length that rounds up to 0 modulo 2^64): 0.
 */
int mm_msync(struct mm *mm, uint64_t addr, uint64_t len, int flags);

/* ---- page-cache pages --------------------------------------------------------------------- */

static inline bool page_is_file(const struct page *p)
{
    return p->flags & PG_FILE;
}

/* Ptes mapping a page-cache page. */
static inline uint32_t page_mapcount(const struct page *p)
{
    return p->prev;
}

/*
 * The page cache took pg (fresh from alloc_page, its one reference the
 * cache's) / is about to drop it.  shmem: a file system without backing
 * store (tmpfs): the page counts in Shmem too.  A page still mapped
 * cannot leave the cache (the caller unmaps first: panic otherwise).
 * In mm/vmstat.c, with the counters (the file systems' host tests link
 * it without the rest of mm/).
 */
void filemap_page_added(struct page *pg, bool shmem);
void filemap_page_removed(struct page *pg, bool shmem);

/* A pte was made for / removed from the frame pa (any frame: only
 * page-cache pages are counted).  mm_count_map / mm_count_unmap call
 * these. */
void filemap_page_mapped(uint64_t pa);
void filemap_page_unmapped(uint64_t pa);

#endif
