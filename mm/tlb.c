/*
 * TLB maintenance (include/mm/tlb.h).
 *
 * Invariant: after any of these calls returns, no translation of the
 * named range (or of anything, for tlb_flush_all) that was cached before
 * the call is used again, on any CPU: a flush of the kernel half (the
 * only part the other CPUs may hold: they never load a process's tables)
 * is also sent to them through tlb_remote_flush once they are started
 * (kernel/cpu/tlb_shootdown.c); a process's range is flushed here only.
 */
#include <mm/tlb.h>
#include <mm/vm_event.h>
#include <mm/page.h>
#include <mm/layout.h>
#include <kernel/x86.h>

struct tlb_stats tlb_stats;
void (*tlb_remote_flush)(uint64_t va, uint64_t len);
bool tlb_remote_deferred;

/* The other CPUs, for a kernel-half range (len 0: everything). */
static void remote(uint64_t va, uint64_t len)
{
    if (tlb_remote_flush && !tlb_remote_deferred && (len == 0 || va >= KERNEL_HALF_START)) {
        tlb_remote_flush(va, len);
        tlb_stats.remote++;
    }
}

void tlb_tables_freed(void)
{
    if (tlb_remote_deferred && tlb_remote_flush) {
        tlb_remote_flush(0, 0);
        tlb_stats.remote++;
    }
}

void tlb_flush_page(uint64_t va)
{
    invlpg(va);
    tlb_stats.pages++;
    count_vm_event(NR_TLB_LOCAL_FLUSH_ONE);
}

/* This CPU's whole TLB, global entries included. */
static void local_flush_all(void)
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
    count_vm_event(NR_TLB_LOCAL_FLUSH_ALL);
}

void tlb_flush_all(void)
{
    local_flush_all();
    remote(0, 0);
}

void tlb_flush_range(uint64_t va, uint64_t len)
{
    uint64_t start = va & ~(PAGE_SIZE - 1);
    uint64_t end = va + len;
    if (len == 0)
        return;
    if (end < va || (end - start + PAGE_SIZE - 1) / PAGE_SIZE > TLB_FLUSH_CEILING)
        local_flush_all();
    else
        for (uint64_t a = start; a < end; a += PAGE_SIZE)
            tlb_flush_page(a);
    remote(va, len);   /* the other CPUs decide the same way between the two */
}
