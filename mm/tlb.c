/*
 * TLB maintenance (include/mm/tlb.h).
 *
 * Invariant: after any of these calls returns, no translation of the
 * named range (or of anything, for tlb_flush_all) that was cached before
 * the call is used again.  One CPU (no SMP): no shootdown IPIs.
 */
#include <mm/tlb.h>
#include <mm/page.h>
#include <kernel/x86.h>

struct tlb_stats tlb_stats;

void tlb_flush_page(uint64_t va)
{
    invlpg(va);
    tlb_stats.pages++;
}

void tlb_flush_all(void)
{
    uint64_t cr4 = read_cr4();
    if (cr4 & CR4_PGE) {
        /* Clearing PGE flushes everything, global entries included. */
        write_cr4(cr4 & ~CR4_PGE);
        write_cr4(cr4);
    } else {
        write_cr3(read_cr3());
    }
    tlb_stats.full++;
}

void tlb_flush_range(uint64_t va, uint64_t len)
{
    uint64_t start = va & ~(PAGE_SIZE - 1);
    uint64_t end = va + len;
    if (len == 0)
        return;
    if (end < va || (end - start + PAGE_SIZE - 1) / PAGE_SIZE > TLB_FLUSH_CEILING) {
        tlb_flush_all();
        return;
    }
    for (uint64_t a = start; a < end; a += PAGE_SIZE)
        tlb_flush_page(a);
}
