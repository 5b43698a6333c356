/*
 * The other CPUs' per-CPU caches given back (include/kernel/smp.h;
 * docs/smp.md, docs/physical-memory.md).
 *
 * Each CPU keeps frames in its own page lists (mm/page_alloc.c) and
 * objects in its own slab arrays (mm/slab.c), which only that CPU may
 * touch.  When the kernel lock's holder needs them back (compaction, a
 * contiguous allocation, memory pressure, /proc/sys/vm/drop_caches), it
 * asks each other online CPU, by a call (kernel/cpu/smp_call.c), to
 * empty its own: the objects first, back into their slabs, whose empty
 * slabs then give their frames back, then the frames.
 *
 * Invariant: when drain_pcp_others returns, every online CPU that
 * answered has emptied its caches once after the call was made (one
 * that did not answer within a second keeps its own, said once).
 */
#include <kernel/smp.h>
#include <kernel/percpu.h>
#include <mm/gfp.h>
#include <mm/page.h>
#include <mm/slab.h>

static void drain_here(void *arg)
{
    (void)arg;
    slab_drain_local();     /* objects back to their slabs, then the frames */
    drain_pcp_local();
}

/* Every other online CPU with per-CPU caches, all at once (a CPU past
 * PCP_CPUS has none: it uses the zones' and the caches' locks). */
static void drain_others(void)
{
    uint64_t mask = PCP_CPUS >= 64 ? ~0ul : (1ul << PCP_CPUS) - 1;
    smp_call_mask(mask, drain_here, NULL);
}

void smp_drain_init(void)
{
    drain_pcp_others = drain_others;
    for (unsigned i = 0; i < nr_cpus_possible && i < PCP_CPUS; i++)
        if (cpu_info[i].online)
            pcp_nr_cpus = i + 1;        /* /proc/zoneinfo's pagesets */
}
