/*
 * kswapd: the background reclaimer (include/mm/vmscan.h; docs/reclaim.md),
 * a kernel thread (include/kernel/kthread.h) as Linux's kswapd0.
 *
 * It sleeps until an allocation finds its zone below the low watermark
 * (alloc_pages' slow path calls node0->wake_kswapd), then reclaims in
 * batches of 32 pages (shrink_memory with GFP_KSWAPD: it may write to
 * swap) until that zone is above its high watermark (balanced,
 * below), giving the CPU to
 * the tasks waiting for it between two batches, and sleeps again.  So a
 * process that allocates steadily finds frames freed ahead of it, and
 * direct reclaim (in the allocating process itself) is what happens only
 * when kswapd cannot keep up.
 *
 * A round that frees nothing (no swap, every page pinned or recently
 * used) makes kswapd deaf to wake-ups for a while (KSWAPD_BACKOFF ticks):
 * otherwise every allocation of a system that is short of memory would
 * send it round the clock again for nothing.  Linux counts such failures
 * (kswapd_failures) and stops after MAX_RECLAIM_RETRIES of them.
 *
 * Invariant: kswapd is asleep (on kswapd_wait) or reclaiming; while it
 * reclaims, wake-ups are no-ops.
 */
#include <mm/vmscan.h>
#include <mm/swap.h>
#include <mm/zone.h>
#include <kernel/kthread.h>
#include <kernel/printk.h>
#include <kernel/task.h>

#define KSWAPD_BATCH 32
#define KSWAPD_BACKOFF 10       /* ticks (100 ms at HZ = 100) */

static struct task *kswapd_task;
static bool kswapd_wait;        /* the channel it sleeps on */
static uint64_t deaf_until;     /* a tick: wake-ups before it are ignored */

/*
 * Balanced: the zone the waking allocation wanted (its highest allowed,
 * which it takes from first) has free frames, its per-CPU cache
 * included, at or above its high watermark.  Linux's pgdat_balanced asks
 * the same of any zone up to that one, but counts in a lower zone only
 * what lies beyond the lowmem_reserve it keeps for lower-zone requests;
 * without that reserve here, a small DMA zone would always look
 * balanced, and insisting on every zone would page out half the machine
 * to refill a DMA zone that user pages keep taking.
 */
static const struct zone *classzone;   /* the zone the waking allocation asked for */

static bool balanced(void)
{
    const struct zone *z = classzone;
    return !z || !z->managed || zone_free_frames(z) >= z->wmark_high;
}

/* The zone flag of classzone: reclaim frees only frames that can refill
 * it (shrink_memory skips the zones above). */
static gfp_t zone_gfp(void)
{
    unsigned t = classzone ? zone_idx(classzone) : ZONE_NORMAL;
    return t == ZONE_DMA ? __GFP_DMA : t == ZONE_DMA32 ? __GFP_DMA32 : 0;
}

static void wake_kswapd(struct zone *zone)
{
    if (!kswapd_task || kswapd_task->wait_chan != &kswapd_wait)
        return;                       /* at work already (or not started) */
    if (kswapd_task->state != TASK_BLOCKED || ticks_now() < deaf_until)
        return;
    classzone = zone;
    wake_up_task(kswapd_task);
}

static void kswapd(void *arg)
{
    (void)arg;
    for (;;) {
        sleep_on_intr(&kswapd_wait);   /* 'S' in ps, as Linux's; no signal reaches it */
        uint64_t got = 1;
        while (!balanced() &&
               (got = shrink_node_memory(classzone ? zone_to_nid(classzone) : -1, KSWAPD_BATCH,
                                           GFP_KSWAPD | zone_gfp(), true)) > 0)
            kthread_yield();          /* the others run between two batches */
        if (!got)
            deaf_until = ticks_now() + KSWAPD_BACKOFF;
    }
}

void kswapd_run(void)
{
    kswapd_task = kthread_run(kswapd, NULL, "kswapd0");
    if (kswapd_task)
        node0->wake_kswapd = wake_kswapd;
}
