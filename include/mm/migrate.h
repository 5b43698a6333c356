/*
 * Page migration (mm/migrate.c; docs/rmap.md): move the contents of an
 * in-use page to another frame and make every pte that mapped it map the
 * new one, as the SOS mailing-list post describes getting pages
 * "elsewhere" and the SOS article on Linux's physical memory requisitions
 * DMA-zone pages that are in use.  Linux: migrate_pages (mm/migrate.c).
 *
 * Which frames can move: the head of an allocated order-0 block whose
 * owner the reverse map knows (include/mm/rmap.h): an anonymous user
 * page, a page-cache page, a vmalloc page.  Every reference must be
 * accounted for by a mapping (plus the page cache's own): a page with
 * more references is pinned (a kernel copy in progress, a kmap, a
 * pin_user_page) and is left where it is, as Linux's expected-count check
 * leaves it.
 *
 * Context: one CPU, a kernel that is not preemptible; nothing sleeps.
 */
#ifndef MM_MIGRATE_H
#define MM_MIGRATE_H

#include <stdint.h>
#include <mm/gfp.h>

struct mm;

/* Why a page did not move (migrate_page's *why); MIGRATE_OK when it did. */
enum migrate_result {
    MIGRATE_OK = 0,
    MIGRATE_NOT_RAM,        /* no descriptor: past max_pfn */
    MIGRATE_FREE,           /* a free frame: nothing to move */
    MIGRATE_RESERVED,       /* not managed by the allocator */
    MIGRATE_TAIL,           /* inside an allocated block, not its head */
    MIGRATE_COMPOUND,       /* the head of a block of order > 0 */
    MIGRATE_UNMOVABLE,      /* kernel memory: slab, page table, direct map, the zero page */
    MIGRATE_PINNED,         /* more references than mappings */
    MIGRATE_NOMEM,          /* no target frame */
    NR_MIGRATE_RESULTS
};
/* "free", "pinned"...: the reason's word, for logs and tests. */
const char *migrate_result_str(enum migrate_result r);

/*
 * Where the new frame comes from: called once, with gfp the zone limit
 * the page's mappings impose (__GFP_DMA32 when an i386 address space
 * maps it, so its 32-bit entries can hold the new address; 0 otherwise).
 * Returns a fresh order-0 page referenced once, or NULL.
 */
typedef struct page *(*migrate_alloc_t)(gfp_t gfp, void *arg);
/* The usual source: alloc_pages(gfp | GFP_HIGHUSER_MOVABLE | __GFP_NOWARN, 0),
 * without __GFP_WAIT (a migration target never starts reclaim). */
struct page *migrate_alloc_any(gfp_t gfp, void *arg);

/*
 * Move page pg (any descriptor pointer; past mem_map: MIGRATE_NOT_RAM):
 * check it can move, take a target from alloc, copy the 4 KiB, rewrite
 * every pte through the reverse map in place (pt_replace_view: rights,
 * accessed and dirty state kept, one flush each), give the target the
 * page's references, owner and marks, free the old frame.  All or
 * nothing: on any failure no pte changed and the target went back.
 * Returns 0 with *newp the new page (when newp is not NULL), or -EINVAL
 * (free, reserved, tail, compound, unmovable, not RAM), -EBUSY (pinned),
 * -ENOMEM; *why (when not NULL) says which.  Counted in /proc/vmstat
 * (pgmigrate_success, pgmigrate_fail).
 */
int migrate_page(struct page *pg, migrate_alloc_t alloc, void *arg, struct page **newp,
                 enum migrate_result *why);

/*
 * A batch (Linux's migrate_pages on a list): each of pages[0..n) moved as
 * migrate_page moves it, in order, each all or nothing; newp[i] and why[i]
 * (either array may be NULL) say what became of each (newp[i] NULL when
 * it did not move).  The reverse-map walks of the batch share cursors
 * (include/mm/rmap.h): pages that lie in one page table, as a VMA's pages
 * usually do, cost one entry read each instead of a walk from the root.
 * Returns how many moved.
 */
unsigned migrate_pages(struct page **pages, unsigned n, migrate_alloc_t alloc, void *arg,
                       struct page **newp, enum migrate_result *why);

/*
 * Can pg move at all (the checks of migrate_page that need no target)?
 * MIGRATE_OK or the reason it cannot.  The compaction and evacuation
 * scanners ask before isolating anything.
 */
enum migrate_result migrate_check(struct page *pg);

/*
 * A pin (Linux's pin_user_pages, one page): the frame mapped at va of mm
 * gets one more reference while the kernel works on it, so migration
 * leaves it alone.  0 with *out the page, -EFAULT (nothing mapped there:
 * fault it in first).  unpin_user_page drops the reference.
 */
int pin_user_page(struct mm *mm, uint64_t va, struct page **out);
void unpin_user_page(struct page *pg);

#endif
