/*
 * The event counters of /proc/vmstat (include/mm/vm_event.h): how many
 * times something happened since boot, under Linux's names.
 *
 * Invariant: vm_events[i] only grows (count_vm_event adds, nothing
 * subtracts or resets), and vm_event_names[i] is the name Linux's
 * /proc/vmstat prints for the same event (mm/vmstat.c's vmstat_text),
 * so a script written for Linux reads these lines unchanged.
 * Plain additions, no per-CPU arrays to sum as Linux has: the kernel
 * lock's holder counts, but for nr_tlb_remote_flush_received, which the
 * CPUs that answer an IPI add to atomically.
 */
#include <mm/vm_event.h>

uint64_t vm_events[NR_VM_EVENT_ITEMS];

const char *const vm_event_names[NR_VM_EVENT_ITEMS] = {
    [PSWPIN] = "pswpin",
    [PSWPOUT] = "pswpout",
    [PGMAJFAULT] = "pgmajfault",
    [PGSTEAL_KSWAPD] = "pgsteal_kswapd",
    [PGSTEAL_DIRECT] = "pgsteal_direct",
    [PGSCAN_KSWAPD] = "pgscan_kswapd",
    [PGSCAN_DIRECT] = "pgscan_direct",
    [OOM_KILL] = "oom_kill",
    [PGMIGRATE_SUCCESS] = "pgmigrate_success",
    [PGMIGRATE_FAIL] = "pgmigrate_fail",
    [COMPACT_MIGRATE_SCANNED] = "compact_migrate_scanned",
    [COMPACT_FREE_SCANNED] = "compact_free_scanned",
    [COMPACT_ISOLATED] = "compact_isolated",
    [COMPACT_STALL] = "compact_stall",
    [COMPACT_FAIL] = "compact_fail",
    [COMPACT_SUCCESS] = "compact_success",
    [SWAP_RA] = "swap_ra",
    [SWAP_RA_HIT] = "swap_ra_hit",
    [NR_TLB_REMOTE_FLUSH] = "nr_tlb_remote_flush",
    [NR_TLB_REMOTE_FLUSH_RECEIVED] = "nr_tlb_remote_flush_received",
    [NR_TLB_LOCAL_FLUSH_ALL] = "nr_tlb_local_flush_all",
    [NR_TLB_LOCAL_FLUSH_ONE] = "nr_tlb_local_flush_one",
};
