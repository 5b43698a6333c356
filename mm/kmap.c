/*
 * kmap slots.
 *
 * KMAP_SLOTS pages at KMAP_BASE, just below the kernel image, share one
 * page table.  Slot 0 is the anchor: it stays mapped (read-only, to the
 * kernel's zero page) so that table is never empty and never freed, and
 * kmap never has to allocate a table page: it only writes one entry.
 * Freeing a slot removes the entry and flushes that page from the TLB, so
 * a stale pointer faults instead of reading someone else's frame.
 *
 * kmap is cumulative, as the course slides on Linux's allocators say: a
 * page may be kmapped several times and must be kunmapped as many times.
 * A slot mapping a page keeps the page (slot_page) and its count of users
 * (pkmap_count, Linux's name); kmap of a page already mapped finds its
 * slot and counts one more, kunmap counts one less and frees the slot at
 * zero.  Linux's pkmap_count is one higher (1 meaning "free, TLB not yet
 * flushed", flushed in batches); here the flush is done at once, so the
 * count is just the users.  Linux finds a page's slot through a hash of
 * page addresses (page_address_htable); with 63 slots a scan is as good.
 *
 * A RAM frame mapped through kmap(page) is referenced by its slot: the
 * first kmap takes a reference (get_page) and the last kunmap drops it,
 * as Linux's kmap holds the page.  So a kmapped page has one reference
 * more than its mappings account for, and migration (include/mm/migrate.h)
 * leaves it where it is, "pinned", while the kernel works on it through
 * the slot: the slot's pte names the frame and would otherwise keep
 * pointing at the old one.  kmap_phys (no descriptor: firmware tables,
 * device memory) takes no reference and has no count: a slot per call,
 * released by kunmap_phys.
 *
 * Invariant: bit i of `used` is set exactly when slot i is mapped to a
 * caller's frame; slot 0 is always used (the anchor).  A used slot i is a
 * kmap slot when slot_page[i] is set, and then pkmap_count[i] >= 1 and no
 * other slot maps that page; it is a kmap_phys slot otherwise, with
 * pkmap_count[i] == 0.  Bit i of `held` is set when slot i holds a
 * reference on slot_page[i].
 */
#include <mm/kmap.h>
#include <mm/kernel_pt.h>
#include <mm/layout.h>
#include <mm/bootmem.h>
#include <mm/gfp.h>
#include <kernel/printk.h>

_Static_assert(KMAP_SLOTS <= 64, "the slot bitmap is one 64-bit word");
_Static_assert(KMAP_BASE + KMAP_SLOTS * PAGE_SIZE <= KERNEL_IMAGE_BASE, "slots overlap the image");

static uint64_t used, held, errors;
static struct page *slot_page[KMAP_SLOTS];
static unsigned pkmap_count[KMAP_SLOTS];
static uint8_t zero_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static inline uint64_t slot_va(unsigned i)
{
    return KMAP_BASE + (uint64_t)i * PAGE_SIZE;
}

void kmap_init(void)
{
    struct pt_view v;
    if (pt_walk(&kernel_pt, (uint64_t)zero_page, &v))
        panic("kmap_init: the zero page is not mapped");
    int err = pt_map(&kernel_pt, KMAP_BASE, v.pa + ((uint64_t)zero_page - v.va), PAGE_SIZE,
                     PT_G, 0);
    if (err)
        panic("kmap_init: cannot map the anchor slot (%d)", err);
    used = 1;
}

/* A free slot mapped to pa: its number, or 0 (reported). */
static unsigned map_slot(uint64_t pa)
{
    if (pa & (PAGE_SIZE - 1) || pa >= (1ul << 52)) {
        printk("kmap: bad physical address %#lx\n", pa);
        return 0;
    }
    for (unsigned i = 1; i < KMAP_SLOTS; i++) {
        if (used & (1ul << i))
            continue;
        /* RAM is write-back, like its direct-map alias; anything else
         * (device memory, firmware-reserved) is mapped uncached */
        unsigned cache = mem_is_ram(pa, PAGE_SIZE) ? PT_WB : PT_UC;
        if (pt_map(&kernel_pt, slot_va(i), pa, PAGE_SIZE, PT_W | PT_G | cache, 0))
            return 0;
        used |= 1ul << i;
        return i;
    }
    printk("kmap: all %d slots are in use\n", KMAP_SLOTS - 1);
    return 0;
}

static void unmap_slot(unsigned i)
{
    pt_unmap(&kernel_pt, slot_va(i), PAGE_SIZE);
    used &= ~(1ul << i);
}

/* The slot mapping page through kmap, or 0. */
static unsigned find_page(const struct page *page)
{
    if (!page)
        return 0;
    for (unsigned i = 1; i < KMAP_SLOTS; i++)
        if ((used & (1ul << i)) && slot_page[i] == page)
            return i;
    return 0;
}

void *kmap_phys(uint64_t pa)
{
    unsigned i = map_slot(pa);
    return i ? (void *)slot_va(i) : NULL;
}

void *kmap(struct page *page)
{
    if (!page) {
        printk("kmap: no page\n");
        return NULL;
    }
    unsigned i = find_page(page);
    if (i) {
        pkmap_count[i]++;             /* cumulative: the same address */
        return (void *)slot_va(i);
    }
    /* A frame the allocator hands out (referenced, not reserved) is
     * held by its slot; a reserved one (the kernel's own) needs no hold. */
    bool hold = page->refcount && !(page->flags & PG_RESERVED);
    if (hold && get_page(page) < 0)
        return NULL;
    i = map_slot(page_to_phys(page));
    if (!i) {
        if (hold)
            put_page(page);
        return NULL;
    }
    slot_page[i] = page;
    pkmap_count[i] = 1;
    if (hold)
        held |= 1ul << i;
    return (void *)slot_va(i);
}

void kunmap(struct page *page)
{
    unsigned i = find_page(page);
    if (!i) {
        errors++;
        printk("kunmap: page %p (pfn %#lx) is not kmapped\n", (void *)page,
               page ? page_to_phys(page) >> PAGE_SHIFT : 0);
        return;
    }
    if (--pkmap_count[i])
        return;                       /* other users of the slot remain */
    unmap_slot(i);
    slot_page[i] = NULL;
    if (held & (1ul << i)) {
        held &= ~(1ul << i);
        put_page(page);               /* after the unmap: the frame may be freed now */
    }
}

unsigned kmap_count(const struct page *page)
{
    unsigned i = find_page(page);
    return i ? pkmap_count[i] : 0;
}

void kunmap_phys(const void *addr)
{
    uint64_t va = (uint64_t)addr;
    unsigned i = (unsigned)((va - KMAP_BASE) / PAGE_SIZE);
    if (va < KMAP_BASE || i >= KMAP_SLOTS || i == 0 || !(used & (1ul << i)) || slot_page[i]) {
        errors++;
        printk("kunmap_phys: %p is not a kmap_phys slot in use%s\n", addr,
               va >= KMAP_BASE && i < KMAP_SLOTS && slot_page[i] ? " (a kmap(page) slot)" : "");
        return;
    }
    unmap_slot(i);
}

unsigned kmap_slots_used(void)
{
    return (unsigned)__builtin_popcountll(used) - 1;
}

uint64_t kmap_errors(void)
{
    return errors;
}
