/*
 * User and group identities: getuid ... setresgid, setfsuid, getgroups,
 * setgroups, with Linux's rules (kernel/sys.c, kernel/groups.c).
 *
 * Every task carries Linux's eight ids (real, effective, saved and
 * file-system uid and gid) and up to TASK_NGROUPS supplementary groups,
 * sorted as setgroups leaves them; a zeroed task is root with no groups,
 * and fork copies them.  Being privileged (CAP_SETUID, CAP_SETGID) is
 * having euid 0: that is what Linux's capability rules come to for a
 * root that gives its ids away (a non-zero euid clears the effective
 * set, all of uid/euid/suid non-zero clears the permitted one too, and
 * no file here is set-id).  The ids change nothing else in mmk: files
 * and signals are not checked against them (docs/syscalls.md).
 *
 * Invariant: a task's ids only change through these calls and exec
 * (clone_exec: suid = fsuid = euid, sgid = fsgid = egid, as Linux's exec
 * of a file that is not set-id).
 */
#include <kernel/syscall.h>
#include <kernel/errno.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>

#define ID_NONE 0xffffffffu   /* (uid_t)-1: "unchanged", and never a valid id */

static bool privileged(void)
{
    return current->euid == 0;
}

long sys_getuid(const struct sysargs *a)
{
    (void)a;
    return current->uid;
}

long sys_geteuid(const struct sysargs *a)
{
    (void)a;
    return current->euid;
}

long sys_getgid(const struct sysargs *a)
{
    (void)a;
    return current->gid;
}

long sys_getegid(const struct sysargs *a)
{
    (void)a;
    return current->egid;
}

long sys_setuid(const struct sysargs *a)
{
    uint32_t uid = (uint32_t)a->arg[0];
    struct task *t = current;
    if (uid == ID_NONE)
        return -EINVAL;
    if (privileged())
        t->uid = t->suid = uid;
    else if (uid != t->uid && uid != t->suid)
        return -EPERM;
    t->euid = t->fsuid = uid;
    return 0;
}

long sys_setgid(const struct sysargs *a)
{
    uint32_t gid = (uint32_t)a->arg[0];
    struct task *t = current;
    if (gid == ID_NONE)
        return -EINVAL;
    if (privileged())
        t->gid = t->sgid = gid;
    else if (gid != t->gid && gid != t->sgid)
        return -EPERM;
    t->egid = t->fsgid = gid;
    return 0;
}

/* setreuid/setregid: the same rules for uids and gids (r, e, s, fs point
 * at the task's four ids of the kind). */
static long set_re(uint32_t *r, uint32_t *e, uint32_t *s, uint32_t *fs, uint32_t nr, uint32_t ne)
{
    bool priv = privileged();
    if (nr != ID_NONE && nr != *r && nr != *e && !priv)
        return -EPERM;
    if (ne != ID_NONE && ne != *r && ne != *e && ne != *s && !priv)
        return -EPERM;
    uint32_t old_r = *r;
    if (nr != ID_NONE)
        *r = nr;
    if (ne != ID_NONE)
        *e = ne;
    if (nr != ID_NONE || (ne != ID_NONE && ne != old_r))
        *s = *e;
    *fs = *e;
    return 0;
}

long sys_setreuid(const struct sysargs *a)
{
    struct task *t = current;
    return set_re(&t->uid, &t->euid, &t->suid, &t->fsuid, (uint32_t)a->arg[0],
                  (uint32_t)a->arg[1]);
}

long sys_setregid(const struct sysargs *a)
{
    struct task *t = current;
    return set_re(&t->gid, &t->egid, &t->sgid, &t->fsgid, (uint32_t)a->arg[0],
                  (uint32_t)a->arg[1]);
}

/* Is v (not ID_NONE) one of the three old ids? */
static bool one_of(uint32_t v, uint32_t r, uint32_t e, uint32_t s)
{
    return v == ID_NONE || v == r || v == e || v == s;
}

static long set_res(uint32_t *r, uint32_t *e, uint32_t *s, uint32_t *fs, uint32_t nr,
                    uint32_t ne, uint32_t ns)
{
    if (!(one_of(nr, *r, *e, *s) && one_of(ne, *r, *e, *s) && one_of(ns, *r, *e, *s)) &&
        !privileged())
        return -EPERM;
    if (nr != ID_NONE)
        *r = nr;
    if (ne != ID_NONE)
        *e = ne;
    if (ns != ID_NONE)
        *s = ns;
    *fs = *e;
    return 0;
}

long sys_setresuid(const struct sysargs *a)
{
    struct task *t = current;
    return set_res(&t->uid, &t->euid, &t->suid, &t->fsuid, (uint32_t)a->arg[0],
                   (uint32_t)a->arg[1], (uint32_t)a->arg[2]);
}

long sys_setresgid(const struct sysargs *a)
{
    struct task *t = current;
    return set_res(&t->gid, &t->egid, &t->sgid, &t->fsgid, (uint32_t)a->arg[0],
                   (uint32_t)a->arg[1], (uint32_t)a->arg[2]);
}

/* getresuid(r, e, s): each written in turn; the first bad pointer stops it. */
static long put_three(const struct sysargs *a, uint32_t r, uint32_t e, uint32_t s)
{
    if (copy_to_user(a->arg[0], &r, 4) || copy_to_user(a->arg[1], &e, 4) ||
        copy_to_user(a->arg[2], &s, 4))
        return -EFAULT;
    return 0;
}

long sys_getresuid(const struct sysargs *a)
{
    return put_three(a, current->uid, current->euid, current->suid);
}

long sys_getresgid(const struct sysargs *a)
{
    return put_three(a, current->gid, current->egid, current->sgid);
}

/* setfsuid/setfsgid: always the old value; set when allowed. */
static long set_fs(uint32_t *fs, uint32_t r, uint32_t e, uint32_t s, uint32_t v)
{
    uint32_t old = *fs;
    if (v != ID_NONE && (v == r || v == e || v == s || v == old || privileged()))
        *fs = v;
    return old;
}

long sys_setfsuid(const struct sysargs *a)
{
    struct task *t = current;
    return set_fs(&t->fsuid, t->uid, t->euid, t->suid, (uint32_t)a->arg[0]);
}

long sys_setfsgid(const struct sysargs *a)
{
    struct task *t = current;
    return set_fs(&t->fsgid, t->gid, t->egid, t->sgid, (uint32_t)a->arg[0]);
}

/* ---- supplementary groups -------------------------------------------------------------- */

#define NGROUPS_MAX 65536   /* Linux's limit; more than TASK_NGROUPS is -ENOMEM here */

long groups_get(int size, uint32_t *out)
{
    if (size < 0)
        return -EINVAL;
    int n = (int)current->ngroups;
    if (size && n > size)
        return -EINVAL;
    for (int i = 0; out && size && i < n; i++)
        out[i] = current->groups[i];
    return n;
}

long groups_set(int size, const uint32_t *in)
{
    if (!privileged())
        return -EPERM;
    if ((unsigned)size > NGROUPS_MAX)
        return -EINVAL;
    if (size > TASK_NGROUPS)
        return -ENOMEM;
    uint32_t g[TASK_NGROUPS];
    for (int i = 0; i < size; i++) {   /* sorted, as Linux's groups_sort */
        int j = i;
        for (; j > 0 && g[j - 1] > in[i]; j--)
            g[j] = g[j - 1];
        g[j] = in[i];
    }
    current->ngroups = (uint32_t)size;
    for (int i = 0; i < size; i++)
        current->groups[i] = g[i];
    return 0;
}

long sys_getgroups(const struct sysargs *a)
{
    uint32_t g[TASK_NGROUPS];
    int size = (int)a->arg[0];
    long n = groups_get(size, g);
    if (n > 0 && size && copy_to_user(a->arg[1], g, (size_t)n * 4))
        return -EFAULT;
    return n;
}

long sys_setgroups(const struct sysargs *a)
{
    uint32_t g[TASK_NGROUPS];
    int size = (int)a->arg[0];
    if (!privileged())
        return -EPERM;
    if (size > 0 && size <= TASK_NGROUPS && copy_from_user(g, a->arg[1], (size_t)size * 4))
        return -EFAULT;
    return groups_set(size, g);
}

void ids_exec(struct task *t)
{
    t->suid = t->fsuid = t->euid;
    t->sgid = t->fsgid = t->egid;
}
