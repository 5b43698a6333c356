/*
 * Kernel threads (include/kernel/kthread.h).
 *
 * A kernel thread is a task (kernel/proc/task.c) whose first switch_to
 * does not return into trap_restore, which would drop it into user mode,
 * but into kthread_trampoline (kernel/cpu/switch.S), which calls its
 * function: the six registers switch_to pops are the function (r15) and
 * its argument (r14), then the trampoline's address for its `ret`.  With
 * no mm the scheduler keeps the kernel's own tables in CR3.
 */
#include <kernel/kthread.h>
#include <kernel/task.h>
#include <kernel/printk.h>

extern const char kthread_trampoline[];

struct task *kthread_run(void (*fn)(void *arg), void *arg, const char *name)
{
    int err;
    struct task *t = task_alloc(name, &err);
    if (!t) {
        printk("kthread: cannot start %s (error %d)\n", name, err);
        return NULL;
    }
    t->flags |= TASK_KTHREAD;
    uint64_t *sp = (uint64_t *)task_frame(t);
    *--sp = (uint64_t)kthread_trampoline;
    *--sp = 0;                  /* rbp */
    *--sp = 0;                  /* rbx */
    *--sp = 0;                  /* r12 */
    *--sp = 0;                  /* r13 */
    *--sp = (uint64_t)arg;      /* r14 */
    *--sp = (uint64_t)fn;       /* r15 */
    t->saved_rsp = (uint64_t)sp;
    task_start(t);
    return t;
}

bool is_kthread(const struct task *t)
{
    return t->flags & TASK_KTHREAD;
}

void kthread_yield(void)
{
    schedule();   /* current stays runnable: queued behind the others */
}
