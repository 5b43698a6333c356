/*
 * The OOM killer (include/mm/vmscan.h; docs/reclaim.md): when a process's
 * fault finds no frame even after reclaim, some process must go so that
 * the others can go on.  Linux's choice (oom_badness), without its
 * oom_score_adj: the process whose death frees the most, counted in pages
 * resident, swapped out and of page tables; never init (pid 1), never a
 * kernel task, never a child of vfork that still borrows its parent's
 * address space (killing it would free nothing: Linux's in_vfork).
 * SIGKILL, and one log line in Linux's words and format:
 *
 *   Out of memory: Killed process PID (NAME) total-vm:..kB, anon-rss:..kB,
 *   file-rss:..kB, shmem-rss:..kB, UID:.. pgtables:..kB oom_score_adj:0
 *
 * The RSS is split as Linux's counters split it, by a walk of the
 * victim's tables: a page of the page cache is shmem-rss (every file
 * here lives in tmpfs, whose pages Linux counts as shmem), any other
 * page anon-rss (a private copy, an ELF segment copied from the initrd);
 * file-rss (pages of a disk file system) is always 0.  pgtables counts
 * the tables below the root, as Linux's mm_pgtables_bytes.
 *
 * Invariant: at most one victim at a time.  While the last victim has not
 * exited, nobody else is killed: the faulting process yields so that the
 * victim runs, dies and frees its memory, then tries its access again
 * (Linux's tsk_is_oom_victim test).
 */
#include <mm/vmscan.h>
#include <mm/vma.h>
#include <mm/filemap.h>
#include <mm/vm_event.h>
#include <kernel/printk.h>
#include <kernel/signal.h>
#include <kernel/task.h>

static int victim_pid;

/* Table pages below the root (Linux's mm_pgtables_bytes / PAGE_SIZE). */
static uint64_t pgtables(const struct mm *mm)
{
    return mm->pt.nr_tables ? mm->pt.nr_tables - 1 : 0;
}

/* Linux's oom_badness: the pages freed by killing t. */
static uint64_t badness(const struct task *t)
{
    const struct mm *mm = t->mm;
    return mm->rss + mm->swap_ents + pgtables(mm);
}

/* May t be chosen at all? */
static bool killable(const struct task *t)
{
    if (!t || !t->mm || t->state == TASK_ZOMBIE || t->tgid == 1)
        return false;   /* init, and its threads */
    /* A vfork child on its parent's address space (Linux's in_vfork). */
    return !(t->vfork_parent && t->vfork_parent->mm == t->mm);
}

static uint64_t total_vm_kb(const struct mm *mm)
{
    uint64_t bytes = 0;
    for (const struct vma *v = mm->vmas; v; v = v->next)
        bytes += v->end - v->start;
    return bytes / 1024;
}

struct rss_split {
    uint64_t anon, shmem, zero;
};

static int count_leaf(const struct pt_view *v, void *arg)
{
    struct rss_split *r = arg;
    if (v->payload)
        return 0;                     /* swapped out: not resident */
    if (v->pa == mm_zero_page())
        r->zero++;
    else if (page_is_file(pfn_to_page(v->pa >> PAGE_SHIFT)))
        r->shmem++;
    else
        r->anon++;
    return 0;
}

static struct rss_split rss_split(const struct mm *mm)
{
    struct rss_split r = { 0, 0, 0 };
    for (const struct vma *v = mm->vmas; v; v = v->next)
        pt_for_each(&mm->pt, v->start, v->end, count_leaf, &r);
    return r;
}

bool out_of_memory(void)
{
    if (victim_pid) {
        struct task *v = task_find(victim_pid);
        /* The victim's process: a thread of it may still hold the memory. */
        if (v && ((v->state != TASK_ZOMBIE && v->mm) || thread_group_others(v))) {
            schedule();               /* let it die first */
            return true;
        }
        victim_pid = 0;
    }
    struct task *best = NULL;
    uint64_t most = 0;
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = task_slot(i);
        if (!killable(t))
            continue;
        uint64_t b = badness(t);
        if (b > most) {
            most = b;
            best = t;
        }
    }
    if (!best)
        return false;
    const struct mm *mm = best->mm;
    struct rss_split r = rss_split(mm);
    const uint64_t kb = PAGE_SIZE / 1024;
    printk("Out of memory: Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, "
           "file-rss:0kB, shmem-rss:%lukB, UID:%u pgtables:%lukB oom_score_adj:0\n",
           best->tgid, best->name, total_vm_kb(mm), r.anon * kb, r.shmem * kb, best->uid,
           pgtables(mm) * kb);
    send_signal(best, SIGKILL);   /* its default action ends every thread (do_group_exit) */
    count_vm_event(OOM_KILL);
    victim_pid = best->tgid;
    if (best != current)
        schedule();
    return true;
}
