/*
 * /proc/PID/numa_maps in Linux's format (fs/proc/task_mmu.c,
 * show_numa_map; docs/mempolicy.md): one line per VMA, its start, the
 * policy that governs it (the VMA's, else the task's), what it maps and
 * how many of its pages lie on each node:
 *
 *   7f1c2a600000 bind:1 anon=4 dirty=4 N1=4 kernelpagesize_kB=4
 *   00400000 default file=/bin/test_mempolicy mapped=3 N0=3 kernelpagesize_kB=4
 *
 * Fields as Linux prints them, each only when it says something: file=
 * (or heap, stack), anon=, dirty=, mapped= (when neither anon nor dirty
 * counts every page), mapmax= (a page mapped more than once), swapcache=,
 * then N<node>= for each node holding pages.  The zero page and pages on
 * swap are not counted (Linux counts only "normal" present pages).
 * Linux's active= needs an LRU list, which this kernel does not keep: it
 * is left out, as Linux leaves it out when every page is active.
 *
 * Reading takes no lock and changes nothing: a walk of each VMA's
 * present entries.
 */
#include <kernel/sbuf.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <mm/mempolicy.h>
#include <mm/vma.h>
#include "proc_impl.h"

struct numa_stats {
    uint64_t pages, anon, dirty, mapmax, swapcache;
    uint64_t node[MAX_NUMNODES];
};

static int count_page(const struct pt_view *v, void *arg)
{
    struct numa_stats *s = arg;
    if (v->payload || v->pa == mm_zero_page())
        return 0;
    struct page *pg = pfn_to_page(v->pa >> PAGE_SHIFT);
    s->pages++;
    if (pg->flags & PG_ANON)
        s->anon++;
    if (v->dirty)
        s->dirty++;
    if (pg->flags2 & PG2_SWAPCACHE)
        s->swapcache++;
    uint64_t maps = (pg->flags & PG_FILE) ? pg->prev
                  : pg->refcount - ((pg->flags2 & PG2_SWAPCACHE) ? 1 : 0);
    if (maps > s->mapmax)
        s->mapmax = maps;
    int nid = page_to_nid(pg);
    if (nid >= 0 && nid < MAX_NUMNODES)
        s->node[nid]++;
    return 0;
}

/* A path as Linux's seq_file_path writes it: blanks, tabs, newlines and
 * '=' as octal escapes. */
static void put_path(struct sbuf *out, const char *name, bool deleted)
{
    for (const char *p = name; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '=')
            sbuf_put(out, "\\%03o", (unsigned char)*p);
        else
            sbuf_put(out, "%c", *p);
    }
    if (deleted)
        sbuf_put(out, "\\040(deleted)");
}

static void numa_line(struct sbuf *out, struct task *t, struct vma *v)
{
    struct mm *mm = t->mm;
    char pol[64];
    mpol_to_str(pol, sizeof(pol), v->policy ? v->policy : t->mempolicy);
    sbuf_put(out, "%08lx %s", v->start, pol);
    bool deleted = false;
    const char *name = vma_name(mm, v, &deleted);
    if (v->mapping || v->file || v->shm) {
        sbuf_put(out, " file=");
        put_path(out, name ? name : "", deleted);
    } else if (name && !strcmp(name, "[heap]")) {
        sbuf_put(out, " heap");
    } else if (name && !strcmp(name, "[stack]")) {
        sbuf_put(out, " stack");
    }
    struct numa_stats s = { 0 };
    pt_for_each(&mm->pt, v->start, v->end, count_page, &s);
    if (s.pages) {
        if (s.anon)
            sbuf_put(out, " anon=%lu", s.anon);
        if (s.dirty)
            sbuf_put(out, " dirty=%lu", s.dirty);
        if (s.pages != s.anon && s.pages != s.dirty)
            sbuf_put(out, " mapped=%lu", s.pages);
        if (s.mapmax > 1)
            sbuf_put(out, " mapmax=%lu", s.mapmax);
        if (s.swapcache)
            sbuf_put(out, " swapcache=%lu", s.swapcache);
        for (int nid = 0; nid < MAX_NUMNODES; nid++)
            if (s.node[nid])
                sbuf_put(out, " N%d=%lu", nid, s.node[nid]);
        sbuf_put(out, " kernelpagesize_kB=%lu", PAGE_SIZE >> 10);
    }
    sbuf_put(out, "\n");
}

int proc_pid_numa_maps(struct task *t, char *buf, size_t size)
{
    struct sbuf out = { buf, size, 0 };
    if (size)
        buf[0] = 0;
    if (t->mm)   /* a zombie has no mappings */
        for (struct vma *v = t->mm->vmas; v; v = v->next)
            numa_line(&out, t, v);
    return (int)out.len;
}
