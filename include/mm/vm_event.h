/*
 * Event counters of /proc/vmstat (Linux's enum vm_event_item,
 * count_vm_event in include/linux/vmstat.h): things that happened, as
 * opposed to include/mm/vmstat.h's counts of pages in a state.  Only
 * ever incremented; /proc/vmstat prints them with Linux's names.
 * One CPU, a kernel that is not preemptible: plain additions.
 */
#ifndef MM_VM_EVENT_H
#define MM_VM_EVENT_H

#include <stdint.h>

enum vm_event_item {
    PSWPIN,                 /* pages read from swap */
    PSWPOUT,                /* pages written to swap */
    PGMAJFAULT,             /* faults that read from swap */
    PGSTEAL_KSWAPD,         /* pages reclaimed by kswapd */
    PGSTEAL_DIRECT,         /* ... by an allocation itself (direct reclaim) */
    PGSCAN_KSWAPD,          /* pages kswapd's clock looked at */
    PGSCAN_DIRECT,          /* ... direct reclaim's */
    OOM_KILL,               /* processes the OOM killer killed */
    PGMIGRATE_SUCCESS,      /* pages moved by migrate_page */
    PGMIGRATE_FAIL,         /* migrate_page refused or failed */
    COMPACT_MIGRATE_SCANNED, /* frames the compaction's migration scanner looked at */
    COMPACT_FREE_SCANNED,   /* frames its free scanner looked at */
    COMPACT_ISOLATED,       /* pages taken off for compaction (moved or freed frames held) */
    COMPACT_STALL,          /* an allocation ran compaction itself (direct compaction) */
    COMPACT_FAIL,           /* ... and still failed */
    COMPACT_SUCCESS,        /* ... and then succeeded */
    SWAP_RA,                /* pages read ahead from swap into the swap cache */
    SWAP_RA_HIT,            /* faults that found a page read ahead */
    NR_TLB_REMOTE_FLUSH,    /* TLB flushes sent to other CPUs (one per request) */
    NR_TLB_REMOTE_FLUSH_RECEIVED, /* ... done by a CPU that another asked */
    NR_TLB_LOCAL_FLUSH_ALL, /* full flushes of this CPU's TLB */
    NR_TLB_LOCAL_FLUSH_ONE, /* invlpg of one page */
    NR_VM_EVENT_ITEMS
};

extern uint64_t vm_events[NR_VM_EVENT_ITEMS];
/* Linux's name of each counter, as /proc/vmstat prints it. */
extern const char *const vm_event_names[NR_VM_EVENT_ITEMS];

static inline void count_vm_event(enum vm_event_item item)
{
    vm_events[item]++;
}
static inline void count_vm_events(enum vm_event_item item, uint64_t n)
{
    vm_events[item] += n;
}

#endif
