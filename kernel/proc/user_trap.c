/*
 * Exceptions raised by user code.
 *
 * A page fault goes to the process's address space (mm_hw_fault): demand
 * paging, copy-on-write, or a bad access.  No memory for an allowed
 * access ends the process with SIGKILL (Linux's OOM killer's signal).  A
 * bad access, and every other exception a program can raise, kills the
 * process with the signal Linux would send, after one log line saying
 * who, where, what and which mapping (or none) was involved.  The kernel
 * itself carries on; the parent's wait4 sees the signal.
 */
#include <kernel/errno.h>
#include <kernel/task.h>
#include <kernel/printk.h>
#include <kernel/trap.h>
#include <mm/vma.h>

#define PF_WRITE 2
#define PF_FETCH 16

static int signal_for(uint64_t vector)
{
    switch (vector) {
    case VEC_DE:
    case VEC_MF:
    case VEC_XM:
        return SIGFPE;
    case VEC_UD:
        return SIGILL;
    case VEC_AC:
        return SIGBUS;
    case VEC_BP:
    case VEC_DB:
        return 5;   /* SIGTRAP */
    default:
        return SIGSEGV;
    }
}

void user_exception(struct trap_frame *f, uint64_t cr2)
{
    struct task *t = current;
    if (f->vector == VEC_PF && t->mm) {
        unsigned access = FAULT_USER;
        if (f->error & PF_WRITE)
            access |= FAULT_WRITE;
        if (f->error & PF_FETCH)
            access |= FAULT_EXEC;
        int err = mm_hw_fault(t->mm, cr2, access);
        if (err == 0)
            return;
        if (err == -ENOMEM) {
            /* No frame for an access the mapping allows: Linux's OOM
             * killer would end some process with SIGKILL; we end this one. */
            printk("pid %d (%s): killed by SIGKILL: out of memory at %#lx (rip %#lx)\n", t->pid,
                   t->name, cr2, f->rip);
            task_exit(W_SIGNALED(SIGKILL));
        }
        char where[160];
        mm_describe(t->mm, cr2, where, sizeof(where));
        printk("pid %d (%s): killed by SIGSEGV: %s at %#lx (rip %#lx): %s\n", t->pid, t->name,
               (access & FAULT_EXEC) ? "execute" : (access & FAULT_WRITE) ? "write" : "read",
               cr2, f->rip, where);
        task_exit(W_SIGNALED(SIGSEGV));
    }
    int sig = signal_for(f->vector);
    printk("pid %d (%s): killed by signal %d: %s at rip %#lx\n", t->pid, t->name, sig,
           vector_name(f->vector), f->rip);
    task_exit(W_SIGNALED(sig));
}
