/*
 * Per-process attributes: prctl's name and dumpable flag, and the robust
 * futex list of set_robust_list/get_robust_list (Linux's kernel/sys.c and
 * kernel/futex/syscalls.c).
 *
 *  - PR_SET_NAME / PR_GET_NAME: the task's name, as Linux's comm: at most
 *    15 bytes are set, 16 (with the NUL) read back; exec sets it to the
 *    program's base name;
 *  - PR_GET_DUMPABLE / PR_SET_DUMPABLE: 1 or 0 (no core files are written,
 *    but the flag is kept, inherited by fork, set back to 1 by exec);
 *  - every other option: -EINVAL.
 * The robust list head is stored and read back (fork clears it, exec
 * too); with one thread per process no other task can own a lock in it,
 * so exit does not walk it.
 */
#include <kernel/syscall.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>

#define PR_GET_DUMPABLE 3
#define PR_SET_DUMPABLE 4
#define PR_SET_NAME     15
#define PR_GET_NAME     16
#define TASK_COMM_LEN   16   /* Linux's comm: 15 bytes and a NUL */

_Static_assert(TASK_NAME_MAX >= TASK_COMM_LEN, "a comm fits a task's name");

long sys_prctl(const struct sysargs *a)
{
    char comm[TASK_COMM_LEN];
    switch ((int)a->arg[0]) {
    case PR_SET_NAME: {
        long n = strncpy_from_user(comm, a->arg[1], TASK_COMM_LEN - 1);
        if (n == -EFAULT)
            return -EFAULT;
        comm[TASK_COMM_LEN - 1] = 0;   /* -ENAMETOOLONG: the first 15 bytes */
        strlcpy(current->name, comm, TASK_NAME_MAX);
        return 0;
    }
    case PR_GET_NAME:
        memset(comm, 0, sizeof(comm));
        strlcpy(comm, current->name, sizeof(comm));
        return copy_to_user(a->arg[1], comm, sizeof(comm)) ? -EFAULT : 0;
    case PR_GET_DUMPABLE:
        return current->undumpable ? 0 : 1;
    case PR_SET_DUMPABLE:
        if (a->arg[1] > 1)
            return -EINVAL;   /* 2 (SUID_DUMP_ROOT) is for set-id programs only */
        current->undumpable = a->arg[1] == 0;
        return 0;
    default:
        return -EINVAL;
    }
}

/* set_robust_list(head, len): len must be the size of struct
 * robust_list_head (24 bytes, 12 for an i386 call). */
long robust_set(uint64_t head, uint64_t len, uint64_t want)
{
    if (len != want)
        return -EINVAL;
    current->robust_list = head;
    return 0;
}

/* get_robust_list(pid, head_ptr, len_ptr): the length first, then the
 * head, each ptr_size bytes (8, or 4 for an i386 call). */
long robust_get(int pid, uint64_t uhead, uint64_t ulen, uint64_t len, unsigned ptr_size)
{
    struct task *t = pid ? task_find(pid) : current;
    if (!t)
        return -ESRCH;
    uint64_t head = t->robust_list;
    if (copy_to_user(ulen, &len, ptr_size))
        return -EFAULT;
    return copy_to_user(uhead, &head, ptr_size) ? -EFAULT : 0;
}

long sys_set_robust_list(const struct sysargs *a)
{
    return robust_set(a->arg[0], a->arg[1], 24);
}

long sys_get_robust_list(const struct sysargs *a)
{
    return robust_get((int)a->arg[0], a->arg[1], a->arg[2], 24, 8);
}
