/*
 * The OOM killer (include/mm/vmscan.h; docs/reclaim.md): when a process's
 * fault finds no frame even after reclaim, some process must go so that
 * the others can go on.  Linux's choice, simplified: the process with the
 * most pages (resident plus swapped out plus page tables: oom_badness),
 * never init (pid 1), never a kernel task; SIGKILL; one log line in
 * Linux's words.
 *
 * Invariant: at most one victim at a time.  While the last victim has not
 * exited, nobody else is killed: the faulting process yields so that the
 * victim runs, dies and frees its memory, then tries its access again
 * (Linux's tsk_is_oom_victim test).
 */
#include <mm/vmscan.h>
#include <mm/vma.h>
#include <mm/vm_event.h>
#include <kernel/printk.h>
#include <kernel/signal.h>
#include <kernel/task.h>

static int victim_pid;

/* Linux's oom_badness: the pages freed by killing t. */
static uint64_t badness(const struct task *t)
{
    const struct mm *mm = t->mm;
    return mm->rss + mm->swap_ents + mm->pt.nr_tables;
}

static uint64_t total_vm_kb(const struct mm *mm)
{
    uint64_t bytes = 0;
    for (const struct vma *v = mm->vmas; v; v = v->next)
        bytes += v->end - v->start;
    return bytes / 1024;
}

bool out_of_memory(void)
{
    if (victim_pid) {
        struct task *v = task_find(victim_pid);
        if (v && v->state != TASK_ZOMBIE && v->mm) {
            schedule();               /* let it die first */
            return true;
        }
        victim_pid = 0;
    }
    struct task *best = NULL;
    uint64_t most = 0;
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = task_slot(i);
        if (!t || !t->mm || t->state == TASK_ZOMBIE || t->pid == 1)
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
    printk("Out of memory: Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, "
           "file-rss:0kB, shmem-rss:0kB, UID:%u pgtables:%lukB oom_score_adj:0\n",
           best->pid, best->name, total_vm_kb(mm), mm->rss * (PAGE_SIZE / 1024), best->uid,
           mm->pt.nr_tables * (PAGE_SIZE / 1024));
    send_signal(best, SIGKILL);
    count_vm_event(OOM_KILL);
    victim_pid = best->pid;
    if (best != current)
        schedule();
    return true;
}
