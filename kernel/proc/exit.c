/*
 * exit, wait4 and kill.
 *
 * A task that exits gives back everything it holds at once (its address
 * space: every frame reference and table page; its files) and becomes a
 * zombie: only its slot, its kernel stack and its exit status remain,
 * for its parent's wait4, which frees them.  Its children go to init
 * (pid 1).  When init itself exits the system has nothing left to do:
 * the kernel says how it ended and powers off (QEMU's exit device), which
 * is also how `make run-elf` learns the program's exit status.
 */
#include <kernel/task.h>
#include <kernel/syscall.h>
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/uaccess.h>
#include <kernel/x86.h>
#include <mm/kernel_pt.h>
#include <mm/slab.h>
#include <mm/vma.h>

void mm_release(struct mm *mm)
{
    if (read_cr3() == mm_cr3(mm))
        write_cr3(kernel_pt.root);   /* never free the tables the CPU is on */
    mm_destroy(mm);
    kfree(mm);
}

void task_drop_mm(struct task *t)
{
    if (t->mm) {
        mm_release(t->mm);
        t->mm = NULL;
    }
}

static void report_init_end(int status)
{
    if ((status & 0x7f) == 0)
        printk("init: exited with status %d\n", (status >> 8) & 0xff);
    else
        printk("init: killed by signal %d\n", status & 0x7f);
    /* The same exit code scheme as the tests: pass for status 0. */
    qemu_exit(status == 0 ? QEMU_EXIT_PASS : QEMU_EXIT_FAIL);
    for (;;) {
        cli();
        hlt();
    }
}

__noreturn void task_exit(int status)
{
    struct task *t = current;
    if (t->files) {
        files_close_all(t->files);
        t->files = NULL;
    }
    task_drop_mm(t);
    t->exit_code = status;
    t->state = TASK_ZOMBIE;
    if (t->pid == 1)
        report_init_end(status);
    struct task *init = task_find(1);
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *c = task_slot(i);
        if (c && c->parent == t)
            c->parent = init;
    }
    if (init)
        wake_up(init);   /* it may now have a zombie to reap */
    if (t->parent)
        wake_up(t->parent);
    schedule();
    panic("a zombie ran again (pid %d)", t->pid);
}

long sys_exit(const struct sysargs *a)
{
    task_exit(W_EXITCODE((int)a->arg[0]));
}

long sys_exit_group(const struct sysargs *a)
{
    task_exit(W_EXITCODE((int)a->arg[0]));   /* one thread per process */
}

#define WNOHANG 1

long sys_wait4(const struct sysargs *a)
{
    return do_wait4((int)a->arg[0], a->arg[1], (int)a->arg[2], a->arg[3], 144);
}

long do_wait4(int pid, uint64_t ustatus, int options, uint64_t urusage, size_t rusage_size)
{
    if (options & ~(WNOHANG | 2 /* WUNTRACED */ | 8 /* WCONTINUED */))
        return -EINVAL;
    if (ustatus && !user_range_ok(ustatus, sizeof(int)))
        return -EFAULT;
    if (urusage && !user_range_ok(urusage, rusage_size))
        return -EFAULT;
    for (;;) {
        bool any = false;
        for (int i = 0; i < MAX_TASKS; i++) {
            struct task *c = task_slot(i);
            if (!c || c->parent != current || (pid > 0 && c->pid != pid))
                continue;
            any = true;
            if (c->state != TASK_ZOMBIE)
                continue;
            int status = c->exit_code, cpid = c->pid;
            task_reap(c);   /* reaped even if the status cannot be stored (as Linux) */
            if (ustatus && copy_to_user(ustatus, &status, sizeof(status)))
                return -EFAULT;
            if (urusage) {
                uint8_t zero[144] = { 0 };
                if (copy_to_user(urusage, zero, rusage_size))
                    return -EFAULT;
            }
            return cpid;
        }
        if (!any)
            return -ECHILD;
        if (options & WNOHANG)
            return 0;
        sleep_on(current);
    }
}

long sys_kill(const struct sysargs *a)
{
    int pid = (int)a->arg[0], sig = (int)a->arg[1];
    if (sig < 0 || sig > 64)
        return -EINVAL;
    if (pid <= 0)
        return -EINVAL;   /* process groups: not supported */
    struct task *t = task_find(pid);
    if (!t)
        return -ESRCH;
    if (sig == 0 || t->state == TASK_ZOMBIE)
        return 0;
    /* Ignored by default: SIGCHLD, SIGCONT, SIGURG, SIGWINCH.  And init
     * ignores every signal sent by another process (it has no handlers). */
    if (sig == 17 || sig == 18 || sig == 23 || sig == 28 || (t->pid == 1 && t != current))
        return 0;
    /* Only SIGKILL and the fatal defaults are delivered: any signal kills. */
    if (t == current)
        task_exit(W_SIGNALED(sig));
    task_kill(t, sig);
    return 0;
}
