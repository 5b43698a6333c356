/*
 * The swap cache (include/mm/vmscan.h; docs/reclaim.md): pages that are
 * in memory and in a swap slot at once.
 *
 * A page enters the cache when reclaim gives it a slot (and leaves once
 * its PTEs hold the entry and it is written), or when a fault reads it
 * back while other PTEs still name the slot: those find it here rather
 * than read it again (a page shared by fork is written once and read
 * once), or when a major fault reads it ahead with its own page
 * (mm/swap_readahead.c: then nothing maps it until a fault asks for it,
 * and reclaim drops it if none does).  A cached page that is mapped is
 * mapped read-only: a write copies it, or takes it out of the cache when
 * nobody else names the slot, so the copy on disk is always the page's
 * contents (a cached page is clean: reclaim drops it without writing).
 *
 * Invariants:
 *  - a page is cached exactly when PG2_SWAPCACHE is set; then page.next
 *    is its entry and page.prev links its hash chain (frame numbers);
 *    both links belong to the owner of an allocated page (page.h), and
 *    an anonymous page has no other use for them;
 *  - the cache holds one reference on each cached page and one on its
 *    slot (swap_map); no two cached pages have the same entry;
 *  - swap_cache_pages counts the cached pages;
 *  - a cached page may be PG2_LOCKED, its read still in flight
 *    (mm/swap_readahead.c): lookup_swap_cache waits for it,
 *    swap_cache_find does not.
 * The hash table is a fixed array of chain heads: no allocation, so the
 * cache can never fail for want of memory in the middle of reclaim.
 */
#include <mm/vmscan.h>
#include <mm/gfp.h>
#include <kernel/printk.h>

#define HASH_BITS 12
#define HASH_SIZE (1u << HASH_BITS)

static uint32_t chains[HASH_SIZE];
static bool chains_ready;

static uint32_t *chain_of(swp_entry_t e)
{
    if (!chains_ready) {
        for (unsigned i = 0; i < HASH_SIZE; i++)
            chains[i] = PFN_NIL;
        chains_ready = true;
    }
    uint64_t h = e.val * 0x9e3779b97f4a7c15ull;
    return &chains[h >> (64 - HASH_BITS)];
}

struct page *swap_cache_find(swp_entry_t e)
{
    for (uint32_t pfn = *chain_of(e); pfn != PFN_NIL;) {
        struct page *pg = pfn_to_page(pfn);
        if (pg->next == e.val)
            return pg;
        pfn = pg->prev;
    }
    return NULL;
}

struct page *lookup_swap_cache(swp_entry_t e)
{
    struct page *pg = swap_cache_find(e);
    if (pg && (pg->flags2 & PG2_LOCKED)) {
        swap_ra_wait();
        pg = swap_cache_find(e);        /* gone if its read failed */
    }
    return pg;
}

int add_to_swap_cache(struct page *pg, swp_entry_t e)
{
    if (page_in_swap_cache(pg) || swap_cache_find(e))
        panic("add_to_swap_cache: page %#lx or entry %#lx cached already", page_to_phys(pg),
              e.val);
    int err = swap_duplicate(e);
    if (err)
        return err;
    uint32_t *head = chain_of(e);
    pg->next = (uint32_t)e.val;
    pg->prev = *head;
    *head = (uint32_t)page_to_pfn(pg);
    pg->flags2 |= PG2_SWAPCACHE;
    get_page(pg);
    swap_cache_pages++;
    return 0;
}

/* Take pg off its chain (it is there). */
static void unchain(struct page *pg)
{
    uint32_t *link = chain_of(page_swap_entry(pg)), me = (uint32_t)page_to_pfn(pg);
    while (*link != me) {
        if (*link == PFN_NIL)
            panic("swap cache: page %#lx is not on its chain", page_to_phys(pg));
        link = &pfn_to_page(*link)->prev;
    }
    *link = pg->prev;
}

void delete_from_swap_cache(struct page *pg)
{
    if (!page_in_swap_cache(pg))
        panic("delete_from_swap_cache: page %#lx is not cached", page_to_phys(pg));
    swp_entry_t e = page_swap_entry(pg);
    unchain(pg);
    pg->flags2 &= (uint8_t)~PG2_SWAPCACHE;
    pg->next = pg->prev = 0;
    swap_cache_pages--;
    swap_free(e);
    put_page(pg);
}

void swap_cache_replace(struct page *old, struct page *new)
{
    swp_entry_t e = page_swap_entry(old);
    unchain(old);
    uint32_t *head = chain_of(e);
    new->next = (uint32_t)e.val;
    new->prev = *head;
    *head = (uint32_t)page_to_pfn(new);
    new->flags2 |= PG2_SWAPCACHE;
    old->flags2 &= (uint8_t)~PG2_SWAPCACHE;
    old->next = old->prev = 0;
}

bool try_to_free_swap(struct page *pg)
{
    /* Only the cache's references left: on the page and on the slot. */
    if (!page_in_swap_cache(pg) || swap_count(page_swap_entry(pg)) != 1)
        return false;
    delete_from_swap_cache(pg);
    return true;
}
