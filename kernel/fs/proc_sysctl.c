/*
 * /proc/sys/vm: the memory knobs Linux has there, and a few of mmk's own
 * for teaching (docs/proc.md).  Each file is a struct proc_sysctl
 * (kernel/fs/proc_impl.h); kernel/fs/proc_rw.c makes the text at every
 * read and hands every write() to store.  Values are written in one
 * write, with or without a trailing newline (echo's); white space around
 * a value is ignored, as Linux's proc_dointvec skips it.
 *
 *   compact_memory     0200  "1" compacts every zone (compact_memory());
 *                            anything else is -EINVAL, as Linux since 5.x
 *   drop_caches        0200  as Linux: "2" or "3" gives back the slab
 *                            allocator's caches: every CPU's per-CPU arrays
 *                            and frame caches drained (drain_pcp), then the
 *                            empty slabs of every cache freed
 *                            (slab_shrink_all) and drained again, and the
 *                            lazily freed vmalloc areas purged (their
 *                            descriptors are slab objects); "1" (the page cache's clean
 *                            pages) has nothing to drop: tmpfs and initrd
 *                            pages are the only copies of their files; "4"
 *                            is accepted (Linux's "be quiet"); else -EINVAL
 *   evacuate_zone      0644  mmk's: a zone's name ("DMA", "DMA32",
 *                            "Normal") evacuates it (evacuate_zone()): -ENOMEM
 *                            when it could not obtain the zone's frames (some
 *                            stayed besides the unmovable ones), -EINVAL for a
 *                            zone without memory; reads back the last result
 *   max_map_count      0444  VMAs a process may have (Linux's 65530; read-only here)
 *   memview            0644  mmk's: "1"/"0" switches the live map of physical
 *                            memory (memview_set(); -ENODEV without a framebuffer)
 *   mmap_min_addr      0444  the lowest address mmap gives (Linux's 65536)
 *   overcommit_memory  0444  0: Linux's heuristic, which mmk's mmap applies
 *                            (mm/mmap.c: one request larger than RAM fails)
 *   page-cluster       0644  swap read-ahead: 2^n slots, the window of a major
 *                            fault with no history, then it adapts
 *                            (mm/swap_readahead.c); 0..5 here (-EINVAL beyond),
 *                            3 by default as Linux
 *   user_zone          0644  mmk's teaching switch: the zone new user pages
 *                            come from ("Normal": the usual zones; "DMA32", "DMA")
 *
 * Files are listed in name order, as Linux lists /proc/sys/vm.
 */
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/memview.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <mm/compaction.h>
#include <mm/page.h>
#include <mm/vma.h>
#include <mm/vmalloc.h>
#include <mm/vmscan.h>
#include "proc_impl.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

/* The value of a write without the white space around it: *len its length. */
static const char *value_of(const char *text, size_t *len)
{
    size_t n = *len;
    while (n && is_space(*text))
        text++, n--;
    while (n && is_space(text[n - 1]))
        n--;
    *len = n;
    return text;
}

static bool value_is(const char *text, size_t len, const char *word)
{
    const char *v = value_of(text, &len);
    return len == strlen(word) && !memcmp(v, word, len);
}

/* A zone's name as /proc/zoneinfo prints it, or -1. */
static int zone_by_name(const char *text, size_t len)
{
    for (int t = 0; t < NR_ZONES; t++)
        if (value_is(text, len, node0->zones[t].name))
            return t;
    return -1;
}

/* ---- Linux's knobs -------------------------------------------------------------------- */

/* Like Linux's sysctl_compaction_handler: only 1 is a value. */
static int compact_store(const char *text, size_t len)
{
    if (!value_is(text, len, "1"))
        return -EINVAL;
    return compact_memory();
}

static int max_map_count_show(char *buf, size_t size)
{
    return snprintf(buf, size, "%u\n", MM_MAX_VMAS);
}

static int mmap_min_addr_show(char *buf, size_t size)
{
    return snprintf(buf, size, "%lu\n", MM_MIN_ADDR);
}

/* Linux's OVERCOMMIT_GUESS (0) is what mmap_enough_memory does. */
static int overcommit_show(char *buf, size_t size)
{
    return snprintf(buf, size, "0\n");
}

static int page_cluster_show(char *buf, size_t size)
{
    return snprintf(buf, size, "%u\n", page_cluster);
}

/* A decimal 0..PAGE_CLUSTER_MAX (Linux takes up to 31). */
static int page_cluster_store(const char *text, size_t len)
{
    const char *v = value_of(text, &len);
    unsigned n = 0;
    if (len == 0 || len > 2)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -EINVAL;
        n = n * 10 + (unsigned)(v[i] - '0');
    }
    if (n > PAGE_CLUSTER_MAX)
        return -EINVAL;
    page_cluster = n;
    return 0;
}

/* ---- mmk's teaching knobs ------------------------------------------------------------------ */

static int user_zone_show(char *buf, size_t size)
{
    int t = (mm_user_zone & __GFP_DMA) ? ZONE_DMA
            : (mm_user_zone & __GFP_DMA32) ? ZONE_DMA32 : ZONE_NORMAL;
    return snprintf(buf, size, "%s\n", node0->zones[t].name);
}

static int user_zone_store(const char *text, size_t len)
{
    static const gfp_t flag[NR_ZONES] = { [ZONE_DMA] = __GFP_DMA, [ZONE_DMA32] = __GFP_DMA32,
                                          [ZONE_NORMAL] = 0 };
    int t = zone_by_name(text, len);
    if (t < 0)
        return -EINVAL;
    mm_user_zone = flag[t];
    return 0;
}

static int evacuate_show(char *buf, size_t size)
{
    const struct evacuate_result *r = &last_evacuation;
    if (last_evacuation_zone < 0 || last_evacuation_zone >= NR_ZONES)
        return snprintf(buf, size, "none\n");
    return snprintf(buf, size,
                    "zone %s frames %lu moved %lu pinned %lu unmovable %lu failed %lu "
                    "obtained %lu\n",
                    node0->zones[last_evacuation_zone].name, r->frames, r->moved, r->pinned,
                    r->unmovable, r->failed, r->obtained);
}

/* The zone was obtained when every frame but the unmovable ones was. */
static int evacuate_store(const char *text, size_t len)
{
    int t = zone_by_name(text, len);
    if (t < 0)
        return -EINVAL;
    struct evacuate_result r;
    memset(&r, 0, sizeof(r));
    int err = evacuate_zone((enum zone_type)t, &r);
    if (err)
        return err;
    return r.obtained + r.unmovable < r.frames ? -ENOMEM : 0;
}

static int memview_show(char *buf, size_t size)
{
    return snprintf(buf, size, "%d\n", memview_on() ? 1 : 0);
}

static int memview_store(const char *text, size_t len)
{
    if (value_is(text, len, "1"))
        return memview_set(true);
    if (value_is(text, len, "0"))
        return memview_set(false);
    return -EINVAL;
}

static int drop_caches_store(const char *text, size_t len)
{
    const char *v = value_of(text, &len);
    if (len != 1 || v[0] < '1' || v[0] > '4')
        return -EINVAL;
    if ((v[0] - '0') & 2) {
        vmalloc_purge();      /* the lazily freed areas' descriptors */
        drain_pcp();          /* every CPU's arrays back to their slabs */
        if (node0->shrink)
            node0->shrink();  /* slab_shrink_all: the empty slabs' frames to this CPU's cache */
        drain_pcp();          /* and from there to the buddy lists */
    }
    return 0;
}

static const struct proc_sysctl vm_files[] = {
    { "compact_memory",    0200, NULL, compact_store },
    { "drop_caches",       0200, NULL, drop_caches_store },
    { "evacuate_zone",     0644, evacuate_show, evacuate_store },
    { "max_map_count",     0444, max_map_count_show, NULL },
    { "memview",           0644, memview_show, memview_store },
    { "mmap_min_addr",     0444, mmap_min_addr_show, NULL },
    { "overcommit_memory", 0444, overcommit_show, NULL },
    { "page-cluster",      0644, page_cluster_show, page_cluster_store },
    { "user_zone",         0644, user_zone_show, user_zone_store },
};

const struct proc_sysctl_dir proc_sysctl_dirs[] = {
    { "vm", vm_files, ARRAY_SIZE(vm_files) },
};
const size_t proc_sysctl_ndirs = ARRAY_SIZE(proc_sysctl_dirs);
