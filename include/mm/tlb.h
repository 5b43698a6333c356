/*
 * TLB maintenance: one small set of calls (mm/tlb.c).
 *
 * A change to a present page-table entry is not seen by the CPU until the
 * stale translation is dropped from the TLB.  invlpg drops one page; a
 * CR3 reload drops every non-global one; toggling CR4.PGE drops them all.
 * For a range, invlpg per page costs one instruction per page, while a
 * full flush costs every later TLB miss: like Linux, we use invlpg up to
 * TLB_FLUSH_CEILING pages and a full flush above.
 */
#ifndef MM_TLB_H
#define MM_TLB_H

#include <stdbool.h>
#include <stdint.h>

#define TLB_FLUSH_CEILING 33   /* Linux's tlb_single_page_flush_ceiling */

void tlb_flush_page(uint64_t va);
void tlb_flush_range(uint64_t va, uint64_t len);
void tlb_flush_all(void);       /* global entries included */
/*
 * The other CPUs' part (kernel/cpu/tlb_shootdown.c), NULL while they run
 * nothing: a flush of [va, va + len) in the kernel half (len 0: all)
 * sent to every other online CPU, returning once each has done it.  A
 * process's range goes to the CPUs of its address space's cpu_mask
 * instead (mm_flush_cpus, include/mm/vma.h).
 */
extern void (*tlb_remote_flush)(uint64_t va, uint64_t len);
/* While set, kernel-half flushes stay on this CPU: the caller flushes the
 * other CPUs later, before anything can be mapped at those addresses
 * again (vmalloc's lazy purge, mm/vmalloc.c).  Set and cleared around one
 * operation by the kernel lock's holder. */
extern bool tlb_remote_deferred;
/* Kernel table pages are about to be freed: a deferred flush cannot wait
 * (another CPU's paging-structure caches may point into them), so the
 * other CPUs flush everything now.  Nothing when no flush is deferred. */
void tlb_tables_freed(void);

/* What was done so far, for tests and /proc-style statistics. */
struct tlb_stats {
    uint64_t pages;     /* invlpg instructions issued */
    uint64_t full;      /* full flushes */
    uint64_t remote;    /* flushes sent to the other CPUs (shootdowns) */
};
extern struct tlb_stats tlb_stats;

#endif
