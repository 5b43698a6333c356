/*
 * futex: FUTEX_WAIT and FUTEX_WAKE and their _BITSET forms, enough for
 * what a C library asks with one thread per process: the wake of
 * CLONE_CHILD_CLEARTID at exit, and a word in memory shared by CLONE_VM.
 * Every other operation is -ENOSYS, as Linux answers an unknown one.
 *
 * A futex is named by its address space and user address, even without
 * FUTEX_PRIVATE_FLAG: processes that share a MAP_SHARED page do not meet
 * on a futex in it (Linux keys those by the shared page).
 *
 * Invariant: t->futex_obj is non-NULL only while t waits in futex_wait
 * (or has just been woken and not yet run); a waiter sleeps on its own
 * &t->futex_obj, so a wake picks exactly the tasks it wakes, and
 * futex_wake_key clears futex_obj before waking, which is how the
 * waiter tells a wake from a timeout or a signal.
 */
#include <kernel/syscall.h>
#include <kernel/apic.h>
#include <kernel/errno.h>
#include <kernel/task.h>
#include <kernel/time.h>
#include <kernel/uaccess.h>

#ifndef ETIMEDOUT
#define ETIMEDOUT 110
#endif

#define FUTEX_WAIT           0
#define FUTEX_WAKE           1
#define FUTEX_WAIT_BITSET    9
#define FUTEX_WAKE_BITSET    10
#define FUTEX_PRIVATE_FLAG   128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK       (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))
#define FUTEX_BITSET_ANY     0xffffffffu

#define NSEC 1000000000ull

int futex_wake_key(const struct mm *mm, uint64_t uaddr, int n, uint32_t bits)
{
    int woken = 0;
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = task_slot(i);
        if (!t || t->state != TASK_BLOCKED || t->futex_obj != mm || t->futex_off != uaddr ||
            !(t->futex_bits & bits))
            continue;
        t->futex_obj = NULL;
        wake_up(&t->futex_obj);
        if (++woken >= n)   /* n <= 0 still wakes one, as Linux's loop */
            break;
    }
    return woken;
}

/* The word's key checks of get_futex_key: aligned (-EINVAL), user (-EFAULT). */
static long futex_addr_ok(uint64_t uaddr)
{
    if (uaddr & 3)
        return -EINVAL;
    return user_range_ok(uaddr, 4) ? 0 : -EFAULT;
}

static uint64_t ns_to_ticks(uint64_t ns)
{
    return ns / (NSEC / HZ) + 1;   /* rounded up, and the tick already begun */
}

/* deadline: now_ns() value to give up at, or 0 for none. */
static long futex_wait(uint64_t uaddr, uint32_t val, uint64_t deadline, uint32_t bits)
{
    if (!bits)
        return -EINVAL;
    long r = futex_addr_ok(uaddr);
    if (r)
        return r;
    uint32_t cur;
    if (copy_from_user(&cur, uaddr, sizeof(cur)))
        return -EFAULT;
    if (cur != val)
        return -EAGAIN;
    struct task *t = current;
    t->futex_obj = t->mm;
    t->futex_off = uaddr;
    t->futex_bits = bits;
    for (;;) {
        if (deadline) {
            uint64_t now = now_ns();
            if (now >= deadline) {
                r = -ETIMEDOUT;
                break;
            }
            t->wake_tick = ticks_now() + ns_to_ticks(deadline - now);
        }
        int err = sleep_on_intr(&t->futex_obj);
        if (!t->futex_obj)
            return 0;   /* futex_wake_key chose us */
        if (err) {
            /* Linux: restarted (or -EINTR after a handler); with a timeout
             * its restart block keeps the deadline, here the call restarts
             * from the same arguments. */
            r = deadline ? -ERESTARTNOHAND : -ERESTARTSYS;
            break;
        }
    }
    t->futex_obj = NULL;
    t->wake_tick = 0;
    return r;
}

static long futex_wake(uint64_t uaddr, int n, uint32_t bits)
{
    if (!bits)
        return -EINVAL;
    long r = futex_addr_ok(uaddr);
    return r ? r : futex_wake_key(current->mm, uaddr, n, bits);
}

bool futex_has_timeout(int op)
{
    int cmd = op & FUTEX_CMD_MASK;
    return cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET;
}

long do_futex(uint64_t uaddr, int op, uint32_t val, const int64_t *ts, uint32_t val3)
{
    int cmd = op & FUTEX_CMD_MASK;
    if ((op & FUTEX_CLOCK_REALTIME) && cmd != FUTEX_WAIT_BITSET)
        return -ENOSYS;
    uint64_t deadline = 0;
    if (ts && futex_has_timeout(op)) {
        if (ts[0] < 0 || ts[1] < 0 || ts[1] >= (int64_t)NSEC)
            return -EINVAL;
        /* FUTEX_WAIT: relative; FUTEX_WAIT_BITSET: absolute, on the one
         * clock every CLOCK_* reads here (now_ns). */
        uint64_t t = (uint64_t)ts[0] > UINT64_MAX / 4 / NSEC ? UINT64_MAX / 4
                                                              : (uint64_t)ts[0] * NSEC;
        t += (uint64_t)ts[1];
        deadline = cmd == FUTEX_WAIT ? now_ns() + t
                   : (op & FUTEX_CLOCK_REALTIME) ? clock_abs_to_boot(CLOCK_REALTIME, ts[0], ts[1])
                                                 : t;
        if (!deadline)
            deadline = 1;   /* an absolute 0 is in the past, not "none" */
    }
    switch (cmd) {
    case FUTEX_WAIT:
        return futex_wait(uaddr, val, deadline, FUTEX_BITSET_ANY);
    case FUTEX_WAIT_BITSET:
        return futex_wait(uaddr, val, deadline, val3);
    case FUTEX_WAKE:
        return futex_wake(uaddr, (int)val, FUTEX_BITSET_ANY);
    case FUTEX_WAKE_BITSET:
        return futex_wake(uaddr, (int)val, val3);
    default:
        return -ENOSYS;   /* requeue, PI and the rest */
    }
}

/* futex(uaddr, op, val, timeout or val2, uaddr2, val3) */
long sys_futex(const struct sysargs *a)
{
    int op = (int)a->arg[1];
    int64_t ts[2];
    bool timed = a->arg[3] && futex_has_timeout(op);
    if (timed && copy_from_user(ts, a->arg[3], sizeof(ts)))
        return -EFAULT;
    return do_futex(a->arg[0], op, (uint32_t)a->arg[2], timed ? ts : NULL, (uint32_t)a->arg[5]);
}
