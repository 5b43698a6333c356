/*
 * kmap slots.
 *
 * KMAP_SLOTS pages at KMAP_BASE, just below the kernel image, share one
 * page table.  Slot 0 is the anchor: it stays mapped (read-only, to the
 * kernel's zero page) so that table is never empty and never freed, and
 * kmap never has to allocate a table page: it only writes one entry.
 * kunmap removes the entry and flushes that page from the TLB, so a
 * stale pointer faults instead of reading someone else's frame.
 *
 * A RAM frame mapped through kmap(page) is referenced by its slot: kmap
 * takes a reference (get_page) and kunmap drops it, as Linux's kmap
 * holds the page.  So a kmapped page has one reference more than its
 * mappings account for, and migration (include/mm/migrate.h) leaves it
 * where it is, "pinned", while the kernel works on it through the slot:
 * the slot's pte names the frame and would otherwise keep pointing at
 * the old one.  kmap_phys (no descriptor: firmware tables, device
 * memory) takes no reference.
 *
 * Invariant: bit i of `used` is set exactly when slot i is mapped to a
 * caller's frame; slot 0 is always used (the anchor); held[i] is the
 * page whose reference slot i holds, or NULL.
 */
#include <mm/kmap.h>
#include <mm/kernel_pt.h>
#include <mm/layout.h>
#include <mm/bootmem.h>
#include <mm/gfp.h>
#include <kernel/printk.h>

_Static_assert(KMAP_SLOTS <= 64, "the slot bitmap is one 64-bit word");
_Static_assert(KMAP_BASE + KMAP_SLOTS * PAGE_SIZE <= KERNEL_IMAGE_BASE, "slots overlap the image");

static uint64_t used;
static struct page *held[KMAP_SLOTS];
static uint8_t zero_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

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

void *kmap_phys(uint64_t pa)
{
    if (pa & (PAGE_SIZE - 1) || pa >= (1ul << 52)) {
        printk("kmap: bad physical address %#lx\n", pa);
        return NULL;
    }
    for (unsigned i = 1; i < KMAP_SLOTS; i++) {
        if (used & (1ul << i))
            continue;
        uint64_t va = KMAP_BASE + (uint64_t)i * PAGE_SIZE;
        /* RAM is write-back, like its direct-map alias; anything else
         * (device memory, firmware-reserved) is mapped uncached */
        unsigned cache = mem_is_ram(pa, PAGE_SIZE) ? PT_WB : PT_UC;
        if (pt_map(&kernel_pt, va, pa, PAGE_SIZE, PT_W | PT_G | cache, 0))
            return NULL;
        used |= 1ul << i;
        return (void *)va;
    }
    printk("kmap: all %d slots are in use\n", KMAP_SLOTS - 1);
    return NULL;
}

void *kmap(struct page *page)
{
    /* A frame the allocator hands out (referenced, not reserved) is
     * held by its slot; a reserved one (the kernel's own) needs no hold. */
    bool hold = page->refcount && !(page->flags & PG_RESERVED);
    if (hold && get_page(page) < 0)
        return NULL;
    void *va = kmap_phys(page_to_phys(page));
    if (!va) {
        if (hold)
            put_page(page);
        return NULL;
    }
    if (hold)
        held[((uint64_t)va - KMAP_BASE) / PAGE_SIZE] = page;
    return va;
}

void kunmap(const void *addr)
{
    uint64_t va = (uint64_t)addr;
    unsigned i = (unsigned)((va - KMAP_BASE) / PAGE_SIZE);
    if (va < KMAP_BASE || i >= KMAP_SLOTS || i == 0 || !(used & (1ul << i))) {
        printk("kunmap: %p is not a kmap slot in use\n", addr);
        return;
    }
    pt_unmap(&kernel_pt, KMAP_BASE + (uint64_t)i * PAGE_SIZE, PAGE_SIZE);
    used &= ~(1ul << i);
    if (held[i]) {
        struct page *page = held[i];
        held[i] = NULL;
        put_page(page);     /* after the unmap: the frame may be freed now */
    }
}

unsigned kmap_slots_used(void)
{
    return (unsigned)__builtin_popcountll(used) - 1;
}
