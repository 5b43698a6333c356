/*
 * clone, fork and vfork: Linux's kernel_clone, for processes and for
 * threads (docs/syscalls.md, docs/threads.md).
 *
 * The child gets:
 *  - an address space: a copy of the parent's (mm_fork: private pages
 *    shared read-only with their reference counts raised, so the first
 *    write copies; with `fork=copy` on the command line every page is
 *    copied at once, for the benchmark), or with CLONE_VM the parent's
 *    own.  A shared mm keeps no count of its own: its users are the tasks
 *    whose ->mm points to it (mm_has_users), and the last one to leave it
 *    (exit, exec) frees it;
 *  - a copy of the parent's file table, FPU registers, FS base and TLS
 *    descriptors, process group and session, credentials, limits;
 *  - the parent's trap frame with RAX = 0 (and RSP = the new stack when
 *    one is given): when the scheduler first runs it, it returns from the
 *    same system call, with 0.
 *
 * The flags (the low byte is the signal the parent gets at the child's
 * exit, SIGCHLD or 0):
 *  - CLONE_VM, CLONE_VFORK, CLONE_SIGHAND (one table of signal actions:
 *    kernel/proc/sig_action.c), CLONE_SETTLS, CLONE_PARENT,
 *    CLONE_PARENT_SETTID, CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID do what
 *    they do on Linux, and so do CLONE_THREAD (a task of the caller's
 *    thread group: kernel/proc/thread_group.c), CLONE_FILES (one
 *    descriptor table, counted) and CLONE_FS (one working directory and
 *    umask: kernel/fs/file.c);
 *    CLONE_SYSVSEM, CLONE_IO, CLONE_PTRACE, CLONE_UNTRACED and
 *    CLONE_DETACHED are accepted and change nothing here (no System V
 *    semaphores, I/O contexts or tracers);
 *  - the combinations Linux refuses are -EINVAL, with Linux's checks in
 *    Linux's order, and so are the namespaces (CLONE_NEW*), as on a Linux
 *    built without them;
 *  - what Linux allows and mmk cannot do (CLONE_PIDFD) is -ENOSYS.
 *
 * vfork (CLONE_VFORK): the parent sleeps until the child has exec'd or
 * exited (vfork_release); with CLONE_VM the child runs on the parent's
 * own pages meanwhile, as Linux's vfork and posix_spawn expect.  The
 * parent's sleep is uninterruptible: a signal for it waits until the
 * child lets it go (Linux lets a fatal one end it at once).
 *
 * At exit and at exec (clone_mm_release), as Linux's mm_release: the
 * robust list's locks still held are marked owner-died (sys_futex.c);
 * if the mm is still used by another task, 0 is written at
 * clear_child_tid and one futex waiter there is woken; then a vfork
 * parent is let go.
 */
#include <kernel/syscall.h>
#include <kernel/sigdeliver.h>
#include <kernel/cmdline.h>
#include <compat32/compat32.h>
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>
#include <mm/slab.h>
#include <mm/vma.h>
#include <mm/mempolicy.h>

#define CSIGNAL              0x000000ffu
#define CLONE_VM             0x00000100u
#define CLONE_FS             0x00000200u
#define CLONE_FILES          0x00000400u
#define CLONE_SIGHAND        0x00000800u
#define CLONE_PIDFD          0x00001000u
#define CLONE_PTRACE         0x00002000u
#define CLONE_VFORK          0x00004000u
#define CLONE_PARENT         0x00008000u
#define CLONE_THREAD         0x00010000u
#define CLONE_NEWNS          0x00020000u
#define CLONE_SYSVSEM        0x00040000u
#define CLONE_SETTLS         0x00080000u
#define CLONE_PARENT_SETTID  0x00100000u
#define CLONE_CHILD_CLEARTID 0x00200000u
#define CLONE_DETACHED       0x00400000u
#define CLONE_UNTRACED       0x00800000u
#define CLONE_CHILD_SETTID   0x01000000u
#define CLONE_NEWCGROUP      0x02000000u
#define CLONE_NEWUTS         0x04000000u
#define CLONE_NEWIPC         0x08000000u
#define CLONE_NEWUSER        0x10000000u
#define CLONE_NEWPID         0x20000000u
#define CLONE_NEWNET         0x40000000u
#define CLONE_IO             0x80000000u

#define CLONE_NEW_ANY (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
                       CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)
#define CLONE_NOT_HERE CLONE_PIDFD

static bool eager_fork(void)
{
    const char *v = option("fork");
    return v && strcmp(v, "copy") == 0;
}

bool mm_has_users(const struct mm *mm)
{
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = task_slot(i);
        if (t && t->mm == mm)
            return true;
    }
    return false;
}

/* copy_process's checks, in its order: 0 or the error. */
static long clone_check(uint32_t flags, uint64_t ptid, uint64_t pidfd)
{
    if ((flags & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS))
        return -EINVAL;
    if ((flags & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS))
        return -EINVAL;
    if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
        return -EINVAL;
    if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
        return -EINVAL;
    if ((flags & CLONE_PARENT) && current->pid == 1)
        return -EINVAL;   /* init's parent is nobody (SIGNAL_UNKILLABLE) */
    if ((flags & CLONE_THREAD) && (flags & (CLONE_NEWUSER | CLONE_NEWPID)))
        return -EINVAL;
    if ((flags & CLONE_PIDFD) && (flags & CLONE_DETACHED))
        return -EINVAL;
    if ((flags & CLONE_PIDFD) && (flags & CLONE_PARENT_SETTID) && pidfd == ptid)
        return -EINVAL;   /* kernel_clone: one word cannot hold both */
    if (flags & CLONE_NEW_ANY)
        return -EINVAL;
    if (flags & CLONE_NOT_HERE)
        return -ENOSYS;
    return 0;
}

/* Give back what a child that never ran holds. */
static void clone_undo(struct task *child)
{
    if (child->files)
        files_close_all(child->files);
    child->files = NULL;
    task_drop_mm(child);   /* a shared mm stays with the parent */
    task_reap(child);
}

/* The new thread pointer: x86-64's FS base, or (i386 system call) a
 * struct user_desc for the child's TLS descriptors. */
static long clone_settls(struct task *child, uint64_t tls, bool tls_desc)
{
    if (tls_desc)
        return tls_clone_settls(child, tls);
    if (tls >= MM_VA_END_64)
        return -EPERM;   /* Linux: at or above TASK_SIZE_MAX, as arch_prctl(ARCH_SET_FS) */
    child->fs_base = tls;
    return 0;
}

static void copy_identity(struct task *child, uint32_t flags)
{
    if (flags & CLONE_THREAD) {
        /* One more thread of current's process: its parent is the
         * process's, and its exit tells nobody (Linux's exit_signal -1). */
        child->tgid = current->tgid;
        child->group_leader = current->group_leader;
        child->parent = current->parent;
        child->exit_signal = 0;
    } else {
        child->parent = (flags & CLONE_PARENT) ? current->parent : current;
        child->exit_signal = (flags & CLONE_PARENT) ? current->exit_signal
                                                    : (int)(flags & CSIGNAL);
    }
    child->pgid = current->pgid;     /* same process group and session */
    child->sid = current->sid;
    child->uid = current->uid, child->euid = current->euid;
    child->suid = current->suid, child->fsuid = current->fsuid;
    child->gid = current->gid, child->egid = current->egid;
    child->sgid = current->sgid, child->fsgid = current->fsgid;
    child->ngroups = current->ngroups;
    memcpy(child->groups, current->groups, sizeof(child->groups));
    child->rlim_set = current->rlim_set;
    memcpy(child->rlim, current->rlim, sizeof(child->rlim));
    child->undumpable = current->undumpable;
}

long do_clone(uint64_t flags64, uint64_t newsp, uint64_t ptid, uint64_t ctid, uint64_t tls,
              bool tls_desc)
{
    uint32_t flags = (uint32_t)flags64;   /* clone() takes the low 32 bits (lower_32_bits) */
    long err = clone_check(flags, ptid, ptid);
    if (err)
        return err;
    /* A group being killed makes no thread (Linux: a fatal signal is
     * pending, and the call is restarted after it, that is never). */
    if ((flags & CLONE_THREAD) && current->group_leader->group_exit)
        return -ERESTARTNOINTR;
    int aerr;
    struct task *child = task_alloc(current->name, &aerr);
    if (!child)
        return aerr; /* -EAGAIN: the task table is full; -ENOMEM */
    if (flags & CLONE_VM) {
        child->mm = current->mm;
    } else {
        struct mm *mm = kzalloc(sizeof(*mm), GFP_KERNEL);
        if (!mm || mm_fork(mm, current->mm, eager_fork())) {
            kfree(mm);
            task_reap(child);
            return -ENOMEM;
        }
        child->mm = mm;   /* with the kernel half: mm_fork shares it */
    }
    child->files = current->files ? files_clone(current->files, flags & CLONE_FILES,
                                                flags & CLONE_FS) : NULL;
    if (current->files && !child->files) {
        clone_undo(child);
        return -ENOMEM;
    }
    task_fpu_save(child);   /* the parent's registers as they are now */
    child->fs_base = current->fs_base;
    child->flags = current->flags | TASK_FORKNOEXEC;   /* a 32-bit parent has a 32-bit child */
    tls_fork(child, current);        /* its TLS descriptors and segment registers */
    if (flags & CLONE_SETTLS) {
        err = clone_settls(child, tls, tls_desc);
        if (err) {
            clone_undo(child);
            return err;
        }
    }
    copy_identity(child, flags);
    if (mpol_fork(child, current)) {   /* the NUMA policy: a copy of its own */
        clone_undo(child);
        return -ENOMEM;
    }
    if (flags & CLONE_SIGHAND)
        signal_share_actions(child);   /* task_alloc gave it a copy: share instead */
    if ((flags & (CLONE_VM | CLONE_VFORK)) == CLONE_VM) {
        /* A thread does not run on its creator's alternate signal stack
         * (Linux's sas_ss_reset). */
        child->sig.ss_sp = child->sig.ss_size = 0;
        child->sig.ss_flags = SS_DISABLE;
    }
    child->clear_child_tid = (flags & CLONE_CHILD_CLEARTID) ? ctid : 0;
    struct trap_frame *f = task_frame(child);
    *f = *task_frame(current);
    f->rax = 0;
    if (newsp)
        f->rsp = newsp;
    int pid = child->pid;
    /* The tid words: errors are ignored, as Linux's put_user there. */
    if (flags & CLONE_CHILD_SETTID) {
        if (flags & CLONE_VM)
            copy_to_user(ctid, &pid, sizeof(pid));
        else
            mm_write(child->mm, ctid, &pid, sizeof(pid));
    }
    if (flags & CLONE_PARENT_SETTID)
        copy_to_user(ptid, &pid, sizeof(pid));
    if (flags & CLONE_VFORK) {
        child->vfork_parent = current;
        current->vfork_waiting = true;
    }
    task_start(child);
    /* The child may be gone (a zombie, even reaped by init if we were
     * killed) when we wake: only our own flag is looked at. */
    while (current->vfork_waiting)
        sleep_on(&current->vfork_waiting);
    return pid;
}

/* clone(flags, newsp, parent_tid, child_tid, tls): x86-64's order. */
long sys_clone(const struct sysargs *a)
{
    return do_clone(a->arg[0], a->arg[1], a->arg[2], a->arg[3], a->arg[4], false);
}

long sys_fork(const struct sysargs *a)
{
    (void)a;
    return do_clone(SIGCHLD, 0, 0, 0, 0, false);
}

long sys_vfork(const struct sysargs *a)
{
    (void)a;
    return do_clone(CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0, false);
}

/* Let a vfork parent go (exec or exit of the child). */
static void vfork_release(struct task *t)
{
    struct task *p = t->vfork_parent;
    if (!p)
        return;
    t->vfork_parent = NULL;
    p->vfork_waiting = false;
    wake_up(&p->vfork_waiting);
}

void clone_mm_release(struct task *t)
{
    futex_exit_robust(t);   /* first, as Linux: robust locks it still holds, owner died */
    if (t->clear_child_tid && t == current && t->mm) {
        struct mm *mm = t->mm;
        t->mm = NULL;                 /* is anybody else on it? */
        bool shared = mm_has_users(mm);
        t->mm = mm;
        if (shared) {
            uint32_t zero = 0;
            if (copy_to_user(t->clear_child_tid, &zero, sizeof(zero)) == 0)
                futex_wake_key(mm, t->clear_child_tid, 1, ~0u);
        }
    }
    t->clear_child_tid = 0;
    t->robust_list = 0;
    vfork_release(t);
}

void clone_exit(struct task *t)
{
    clone_mm_release(t);
    t->kwin = NULL;
    /* A vfork child of ours must not let go of a parent that is gone. */
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *c = task_slot(i);
        if (c && c->vfork_parent == t)
            c->vfork_parent = NULL;
    }
}

void clone_exec(struct task *t)
{
    clone_mm_release(t);
    t->undumpable = false;   /* Linux: dumpable again after exec (no set-id files here) */
    ids_exec(t);             /* the saved ids become the effective ones */
}
