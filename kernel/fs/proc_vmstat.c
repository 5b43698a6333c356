/*
 * /proc/vmstat: one "name value" line per counter, in Linux's format and
 * Linux's order (mm/vmstat.c's vmstat_text): the page counts first, then
 * the events since boot (include/mm/vm_event.h).  Only the counters mmk
 * keeps are printed; a script that looks for a line by its name reads
 * them as on Linux.
 *
 *   nr_free_pages     free frames: buddy lists and per-CPU caches (MemFree)
 *   nr_mapped         page-cache pages mapped by some pte (meminfo's Mapped)
 *   nr_file_pages     page-cache pages (Cached)
 *   nr_shmem          of those, tmpfs and shared anonymous pages (Shmem)
 *   numa_hit ... numa_other   the NUMA counters of every zone, summed
 *                     (include/mm/page.h, enum numa_stat_item)
 *   pgmigrate_success, pgmigrate_fail, compact_*   the events
 *
 * Linux's nr_zone_* lines count its LRU lists, which mmk does not have:
 * they are left out rather than shown as made-up zeros.  So is
 * nr_anon_pages: mmk keeps no running count of anonymous pages, and a
 * scan of mem_map at each read would stall the machine for tens of
 * milliseconds on a large one (a kernel that is not preemptible).
 */
#include <kernel/kernel.h>
#include <kernel/sbuf.h>
#include <mm/gfp.h>
#include <mm/vm_event.h>
#include <mm/vmstat.h>
#include "proc_impl.h"

int proc_vmstat(char *buf, size_t size)
{
    struct sbuf out = { buf, size, 0 };
    sbuf_put(&out, "nr_free_pages %lu\n", nr_free_pages());
    sbuf_put(&out, "nr_mapped %lu\n", global_node_page_state(NR_FILE_MAPPED));
    sbuf_put(&out, "nr_file_pages %lu\n", global_node_page_state(NR_FILE_PAGES));
    sbuf_put(&out, "nr_shmem %lu\n", global_node_page_state(NR_SHMEM));
    static const char *const numa[NR_NUMA_STAT] = {
        "numa_hit", "numa_miss", "numa_foreign", "numa_interleave", "numa_local", "numa_other",
    };
    for (int k = 0; k < NR_NUMA_STAT; k++) {
        uint64_t n = 0;
        for (unsigned nid = 0; nid < nr_node_ids; nid++)
            n += node_numa_stat((int)nid, (enum numa_stat_item)k);
        sbuf_put(&out, "%s %lu\n", numa[k], n);
    }
    for (int i = 0; i < NR_VM_EVENT_ITEMS; i++)
        sbuf_put(&out, "%s %lu\n", vm_event_names[i], vm_events[i]);
    return (int)out.len;
}
