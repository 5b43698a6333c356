/*
 * Sessions and process groups: setsid, setpgid, getpgid, getpgrp, getsid,
 * and the questions a terminal asks about them (include/kernel/session.h).
 *
 * The ids live in every task (pgid, sid); a group or a session exists as
 * long as some task carries its id, so every question is a walk over the
 * task table (MAX_TASKS slots: cheap, and nothing to keep in step).
 * Zombies still count as members until they are reaped, as on Linux, where
 * a zombie keeps its pids attached.
 *
 * The rules are Linux's (kernel/sys.c):
 *  - setsid: refused (EPERM) when a process group with the caller's pid as
 *    its id exists, which is always the case for a group leader; otherwise
 *    the caller leads a new session and a new group, with no terminal;
 *  - setpgid(pid, pgid): 0 means the caller, pgid 0 means pgid = pid;
 *    pgid < 0 is EINVAL; pid must be the caller or one of its children
 *    (ESRCH); a child in another session is EPERM, a child that has called
 *    execve EACCES; a session leader cannot move (EPERM); joining a group
 *    needs a group of the caller's session (EPERM).
 */
#include <kernel/session.h>
#include <kernel/errno.h>
#include <kernel/syscall.h>
#include <kernel/task.h>

static bool alive(const struct task *t)
{
    return t && t->state != TASK_ZOMBIE;
}

int pgrp_session(int pgid)
{
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = task_slot(i);
        if (t && t->pid > 0 && t->pgid == pgid)
            return t->sid;
    }
    return -ESRCH;
}

bool pgrp_is_orphaned(int pgid)
{
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = task_slot(i);
        if (!alive(t) || t->pgid != pgid)
            continue;
        const struct task *p = t->parent;
        if (alive(p) && p->pid != 1 && p->pgid != pgid && p->sid == t->sid)
            return false;
    }
    return true;
}

bool session_leader_alive(int sid)
{
    struct task *t = task_find(sid);
    return alive(t) && t->sid == sid;
}

/* The group and session of every thread of t's process (they are the
 * process's: docs/threads.md). */
static void set_process_ids(const struct task *t, int pgid, int sid)
{
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *o = task_slot(i);
        if (o && o->tgid == t->tgid) {
            o->pgid = pgid;
            o->sid = sid;
        }
    }
}

long sys_setsid(const struct sysargs *a)
{
    (void)a;
    if (pgrp_session(current->tgid) != -ESRCH)
        return -EPERM;               /* a group with our pid as its id exists */
    set_process_ids(current, current->tgid, current->tgid);
    return current->sid;
}

long sys_setpgid(const struct sysargs *a)
{
    int pid = (int)a->arg[0], pgid = (int)a->arg[1];
    if (pid == 0)
        pid = current->tgid;
    if (pgid == 0)
        pgid = pid;
    if (pgid < 0)
        return -EINVAL;
    struct task *p = pid > 0 ? task_find(pid) : NULL;
    if (!p)
        return -ESRCH;
    p = p->group_leader;             /* a thread's id names its process */
    if (p->parent && p->parent->tgid == current->tgid && p->tgid != current->tgid) {
        if (p->sid != current->sid)
            return -EPERM;
        if (!(p->flags & TASK_FORKNOEXEC))
            return -EACCES;          /* it has called execve since fork */
    } else if (p->tgid != current->tgid) {
        return -ESRCH;
    }
    if (p->sid == p->tgid)
        return -EPERM;               /* a session leader stays in its group */
    if (pgid != p->tgid && pgrp_session(pgid) != current->sid)
        return -EPERM;               /* no such group in our session */
    set_process_ids(p, pgid, p->sid);
    return 0;
}

/* The task pid names for getpgid/getsid: 0 is the caller. */
static struct task *lookup(int pid)
{
    if (pid == 0)
        return current;
    return pid > 0 ? task_find(pid) : NULL;
}

long sys_getpgid(const struct sysargs *a)
{
    struct task *t = lookup((int)a->arg[0]);
    return t ? t->pgid : -ESRCH;
}

long sys_getpgrp(const struct sysargs *a)
{
    (void)a;
    return current->pgid;
}

long sys_getsid(const struct sysargs *a)
{
    struct task *t = lookup((int)a->arg[0]);
    return t ? t->sid : -ESRCH;
}
