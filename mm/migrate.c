/*
 * Page migration (include/mm/migrate.h; docs/rmap.md): move an in-use
 * page to another frame and every pte that mapped it with it.
 *
 * The steps, for one page (Linux's migrate_folio_unmap and
 * migrate_folio_move, without the waits a kernel under one lock that is
 * not preemptible does not need):
 *  1. check: the head of an allocated order-0 block with an owner the
 *     reverse map knows (anonymous, page cache, vmalloc), and no
 *     reference beyond its mappings (and the cache's or the area's own);
 *  2. target: one frame from the caller's allocator, below 4 GiB when an
 *     i386 address space maps the page (its entries hold 32 bits);
 *  3. copy the 4 KiB, every writable pte made read-only first (with
 *     several CPUs a thread may be writing to the page elsewhere: its
 *     write must fault and wait rather than land in the old frame after
 *     the copy; stop_writers);
 *  4. switch: each pte is rewritten in place (pt_replace_view: rights,
 *     accessed and dirty state kept, one TLB flush each; for an i386
 *     process the authoritative i386 entry, whose derived 4-level entry
 *     goes with its flush), and its reference moves to the new frame;
 *     the owner's marks move too (anon_vma handle and index, the page
 *     cache's slot, the vmalloc area's);
 *  5. the old frame's last reference goes: it is free.
 * Steps 1-3 change nothing visible and 4-5 cannot fail, so a migration
 * happens entirely or not at all.
 *
 * Invariant: between two calls, every pte that mapped the old frame maps
 * the new one with the same rights and state, the new frame has as many
 * references as the old had, and the old frame is free.
 */
#include <mm/migrate.h>
#include <mm/rmap.h>
#include <mm/vma.h>
#include <mm/filemap.h>
#include <mm/vmalloc.h>
#include <mm/vm_event.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>

/* vmalloc's half (mm/vmalloc.c).  Weak: host programs that link
 * migration without vmalloc have no vmalloc page to move. */
extern void vmalloc_move_page(struct page *old, struct page *new) __attribute__((weak));
/* The swap cache's (mm/swap_state.c), weak for the same reason. */
extern void swap_cache_replace(struct page *old, struct page *new) __attribute__((weak));

static const char *const result_words[NR_MIGRATE_RESULTS] = {
    [MIGRATE_OK] = "moved",
    [MIGRATE_NOT_RAM] = "not RAM",
    [MIGRATE_FREE] = "free",
    [MIGRATE_RESERVED] = "reserved",
    [MIGRATE_TAIL] = "tail of a block",
    [MIGRATE_COMPOUND] = "block of order > 0",
    [MIGRATE_UNMOVABLE] = "unmovable",
    [MIGRATE_PINNED] = "pinned",
    [MIGRATE_NOMEM] = "no target frame",
};

const char *migrate_result_str(enum migrate_result r)
{
    return (unsigned)r < NR_MIGRATE_RESULTS ? result_words[r] : "?";
}

/* What the mappings of pg ask of a new frame (the zone flags of the most
 * constrained address space mapping it), and the first HITS of them, kept
 * so that step 4 rewrites them without walking the reverse map again
 * (nothing changes in between: one CPU, no sleep). */
#define HITS 4
struct constraint {
    gfp_t zone;
    uint64_t maps;
    struct rmap_hit hit[HITS];
};

/* The cursors of the reverse-map walks, shared by every migration: the
 * compaction and evacuation scanners, which move page after page of the
 * same processes, walk their tables from the root once per table.  A
 * cursor is right whatever happened since its last use (struct
 * pt_cursor), so one shared by all callers is safe. */
static struct rmap_cursor cursor;

static int constrain(const struct rmap_hit *h, void *arg)
{
    struct constraint *c = arg;
    c->zone |= h->mm->gfp & (__GFP_DMA | __GFP_DMA32);
    return 0;
}

/* References the owner holds besides the ptes: the page cache's one, the
 * vmalloc area's one, none for an anonymous page. */
static uint32_t owner_refs(const struct page *pg)
{
    return ((pg->flags & PG_FILE) || (pg->flags2 & PG2_VMALLOC) ? 1 : 0) +
           (pg->flags2 & PG2_SWAPCACHE ? 1 : 0);
}

static enum migrate_result check(struct page *pg, struct constraint *c, struct rmap_cursor *cur)
{
    uint64_t pfn = (uint64_t)(pg - node0->mem_map);
    if (pg < node0->mem_map || pfn >= node0->max_pfn || &node0->mem_map[pfn] != pg)
        return MIGRATE_NOT_RAM;
    if (pg->flags & PG_RESERVED)
        return MIGRATE_RESERVED;
    if (pg->refcount == 0) {
        uint64_t head;
        return frame_tail_of(pfn, &head) ? MIGRATE_TAIL : MIGRATE_FREE;
    }
    if (pg->order)
        return MIGRATE_COMPOUND;
    if (!(pg->flags & (PG_ANON | PG_FILE)) && !(pg->flags2 & PG2_VMALLOC))
        return MIGRATE_UNMOVABLE;
    if (pg->flags & (PG_SLAB | PG_PGTABLE | PG_CONTIG))
        return MIGRATE_UNMOVABLE;
    if (page_to_phys(pg) == mm_zero_page())
        return MIGRATE_UNMOVABLE;
    if ((pg->flags2 & PG2_VMALLOC) && !vmalloc_move_page)
        return MIGRATE_UNMOVABLE;
    if ((pg->flags & PG_FILE) && !filemap_owner)
        return MIGRATE_UNMOVABLE;   /* no file system to move it in its cache */
    c->zone = 0;
    c->maps = 0;
    if (!(pg->flags2 & PG2_VMALLOC)) {
        c->maps = rmap_collect(pg, c->hit, HITS, cur);
        if (c->maps > HITS)
            rmap_walk_cursor(pg, constrain, c, cur);
        else
            for (uint64_t i = 0; i < c->maps; i++)
                c->zone |= c->hit[i].mm->gfp & (__GFP_DMA | __GFP_DMA32);
    }
    if (pg->refcount != c->maps + owner_refs(pg))
        return MIGRATE_PINNED;
    return MIGRATE_OK;
}

enum migrate_result migrate_check(struct page *pg)
{
    struct constraint c;
    return check(pg, &c, &cursor);
}

struct page *migrate_alloc_any(gfp_t gfp, void *arg)
{
    (void)arg;
    /* No reclaim for a target: a migration is itself what frees memory
     * (compaction, evacuation), and reclaim must not page out pages an
     * evacuation is clearing. */
    return alloc_pages((gfp | GFP_HIGHUSER_MOVABLE | __GFP_NOWARN) & ~__GFP_WAIT, 0);
}

/* Does the frame lie where the constraint's zones end? */
static bool fits(const struct page *pg, gfp_t zone)
{
    uint64_t end = page_to_phys(pg) + PAGE_SIZE;
    if (zone & __GFP_DMA)
        return end <= ZONE_DMA_END;
    if (zone & __GFP_DMA32)
        return end <= ZONE_DMA32_END;
    return true;
}

struct switch_walk {
    uint64_t new_pa;
    uint64_t moved;
};

/* Step 4 for one pte of an anonymous page. */
static int switch_pte(const struct rmap_hit *h, void *arg)
{
    struct switch_walk *w = arg;
    mm_must(pt_replace_view(&h->mm->pt, &h->pv, w->new_pa, h->pv.prot), "migrate: replace",
            h->pv.va);
    w->moved++;
    return 0;
}

static void move_anon(struct page *pg, struct page *new, const struct constraint *c,
                      struct rmap_cursor *cur)
{
    new->flags |= PG_ANON;
    /* read ahead, not used yet (swap_ra_hit), and the mark that sends the next window */
    new->flags2 |= pg->flags2 & (PG2_READAHEAD | PG2_RA_MARK);
    new->mapping = pg->mapping;
    new->index = pg->index;
    struct switch_walk w = { page_to_phys(new), 0 };
    uint32_t refs = pg->refcount, cached = pg->flags2 & PG2_SWAPCACHE ? 1 : 0;
    if (c->maps <= HITS) {
        for (uint64_t i = 0; i < c->maps; i++)
            switch_pte(&c->hit[i], &w);
    } else {
        rmap_walk_cursor(pg, switch_pte, &w, cur);
    }
    if (w.moved + cached != refs)
        panic("migrate: page %#lx had %u references, %lu ptes moved", page_to_phys(pg), refs,
              w.moved);
    if (cached)
        swap_cache_replace(pg, new);   /* the same entry, the cache's reference with it */
    new->refcount = refs;       /* one per pte (and the swap cache's), as the old frame had */
    pg->refcount = 1;           /* ours, dropped below */
    pg->flags &= (uint8_t)~PG_ANON;
    pg->mapping = 0;
    pg->index = 0;
}

/* A pte of the page read-only (a flush to every CPU that may hold it). */
static int wrprotect_pte(const struct rmap_hit *h, void *arg)
{
    (void)arg;
    if ((h->pv.prot & PT_W) && mm_loaded_elsewhere(h->mm))
        mm_must(pt_replace_view(&h->mm->pt, &h->pv, h->pv.pa, h->pv.prot & ~PT_W),
                "migrate: write-protect", h->pv.va);
    return 0;
}

/*
 * Before the copy, no CPU may write to the page: a thread of a process
 * that maps it may run on another CPU and write through its TLB while
 * the copy is made, and its write would stay behind in the old frame.
 * Every writable pte of an address space loaded on another CPU goes
 * read-only, with its shootdown (the others cost nothing); such a thread's
 * write faults and waits for the kernel lock, which this migration holds
 * until the ptes name the new frame.  The hits collected by check() are
 * read again, their rights kept, so that step 4 restores them; a page
 * mapped more often than they hold, or a page-cache page (its owner
 * moves its ptes), is mapped read-only by the new frame, and its next
 * write fault gives the right back (mm/user_fault.c's write_fault).
 */
static bool stop_writers(struct page *pg, struct constraint *c)
{
    uint64_t timeouts = mm_flush_timeouts;
    if (pg->flags2 & PG2_VMALLOC)
        return true;   /* the kernel's: only the kernel lock's holder writes it */
    if ((pg->flags & PG_FILE) || c->maps > HITS) {
        rmap_walk(pg, wrprotect_pte, NULL);
        return mm_flush_timeouts == timeouts;
    }
    for (uint64_t i = 0; i < c->maps; i++) {
        struct rmap_hit *h = &c->hit[i];
        unsigned prot = h->pv.prot;
        if (!(prot & PT_W) || !mm_loaded_elsewhere(h->mm))
            continue;
        wrprotect_pte(h, NULL);
        mm_must(pt_walk(&h->mm->pt, h->pv.va, &h->pv), "migrate: walk", h->pv.va);
        h->pv.prot = prot;   /* what step 4 writes back */
    }
    return mm_flush_timeouts == timeouts;
}

/* migrate_page, its walks through the cursor cur. */
static int move_one(struct page *pg, migrate_alloc_t alloc, void *arg, struct page **newp,
                    enum migrate_result *why, struct rmap_cursor *cur)
{
    struct constraint c;
    enum migrate_result r = check(pg, &c, cur);
    struct page *new = NULL;
    if (r == MIGRATE_OK) {
        /* Held while the target is allocated: whatever the allocator does
         * (reclaim through another caller's allocator), pg stays. */
        pg->refcount++;
        new = alloc(c.zone, arg);
        pg->refcount--;
        if (new && (new->order || !fits(new, c.zone))) {
            __free_pages(new, new->order);
            new = NULL;
        }
        if (!new)
            r = MIGRATE_NOMEM;
        else if (pg->refcount != c.maps + owner_refs(pg))
            r = MIGRATE_PINNED;   /* the allocator's work took or dropped a reference */
        if (r != MIGRATE_OK && new) {
            __free_pages(new, 0);
            new = NULL;
        }
    }
    if (why)
        *why = r;
    if (r != MIGRATE_OK) {
        count_vm_event(PGMIGRATE_FAIL);
        return r == MIGRATE_PINNED ? -EBUSY : r == MIGRATE_NOMEM ? -ENOMEM : -EINVAL;
    }
    if (!stop_writers(pg, &c)) {
        /* A CPU did not answer its flush and may still write: the page
         * stays (read-only now: its next write fault gives the right back). */
        __free_pages(new, 0);
        if (why)
            *why = MIGRATE_PINNED;
        count_vm_event(PGMIGRATE_FAIL);
        return -EBUSY;
    }
    memcpy(page_address(new), page_address(pg), PAGE_SIZE);
    if (pg->flags2 & PG2_VMALLOC)
        vmalloc_move_page(pg, new);         /* new keeps the area's reference */
    else if (pg->flags & PG_FILE)
        filemap_owner->replace(pg, new);    /* drops the cache's reference on pg */
    else
        move_anon(pg, new, &c, cur);
    if (pg->flags & PG_FILE)
        panic("migrate: page-cache page %#lx still in the cache", page_to_phys(pg));
    if (!(pg->flags & PG_FILE) && pg->refcount)
        put_page(pg);                       /* the last reference: freed */
    count_vm_event(PGMIGRATE_SUCCESS);
    if (newp)
        *newp = new;
    return 0;
}

int migrate_page(struct page *pg, migrate_alloc_t alloc, void *arg, struct page **newp,
                 enum migrate_result *why)
{
    return move_one(pg, alloc, arg, newp, why, &cursor);
}

unsigned migrate_pages(struct page **pages, unsigned n, migrate_alloc_t alloc, void *arg,
                       struct page **newp, enum migrate_result *why)
{
    unsigned moved = 0;
    for (unsigned i = 0; i < n; i++)
        if (move_one(pages[i], alloc, arg, newp ? &newp[i] : NULL, why ? &why[i] : NULL,
                     &cursor) == 0)
            moved++;
        else if (newp)
            newp[i] = NULL;
    return moved;
}

int pin_user_page(struct mm *mm, uint64_t va, struct page **out)
{
    struct pt_view pv;
    if (pt_walk(&mm->pt, va & ~(PAGE_SIZE - 1), &pv) || pv.size != PAGE_SIZE)
        return -EFAULT;
    struct page *pg = pfn_to_page(pv.pa >> PAGE_SHIFT);
    if (get_page(pg) < 0)
        return -EFAULT;
    *out = pg;
    return 0;
}

void unpin_user_page(struct page *pg)
{
    put_page(pg);
}
