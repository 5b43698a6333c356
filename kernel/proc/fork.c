/*
 * fork (and vfork, which acts as fork).
 *
 * The child gets a copy of the parent's address space (mm_fork: private
 * pages shared read-only with their reference counts raised, so the first
 * write copies; with `fork=copy` on the command line every page is copied
 * at once instead, for the benchmark), the parent's open files, and a
 * copy of the parent's trap frame with RAX = 0: when the scheduler first
 * runs it, it returns from the same fork() the parent called, with 0.
 */
#include <kernel/syscall.h>
#include <kernel/cmdline.h>
#include <compat32/compat32.h>
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <mm/slab.h>
#include <mm/vma.h>

static bool eager_fork(void)
{
    const char *v = option("fork");
    return v && strcmp(v, "copy") == 0;
}

long sys_fork(const struct sysargs *a)
{
    (void)a;
    int err;
    struct task *child = task_alloc(current->name, &err);
    if (!child)
        return err; /* -EAGAIN: the task table is full; -ENOMEM */
    struct mm *mm = kzalloc(sizeof(*mm), GFP_KERNEL);
    if (!mm || mm_fork(mm, current->mm, eager_fork())) {
        kfree(mm);
        task_reap(child);
        return -ENOMEM;
    }
    child->mm = mm;   /* with the kernel half: mm_fork shares it */
    child->files = current->files ? files_dup_table(current->files) : NULL;
    if (current->files && !child->files) {
        task_drop_mm(child);
        task_reap(child);
        return -ENOMEM;
    }
    task_fpu_save(child);   /* the parent's registers as they are now */
    child->fs_base = current->fs_base;
    child->flags = current->flags;   /* a 32-bit parent has a 32-bit child */
    tls_fork(child, current);        /* its TLS descriptors and segment registers */
    child->parent = current;
    child->pgid = current->pgid;     /* same process group and session */
    child->sid = current->sid;
    *task_frame(child) = *task_frame(current);
    task_frame(child)->rax = 0;
    task_start(child);
    return child->pid;
}
