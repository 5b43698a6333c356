/*
 * futex: what musl's and glibc's threads ask (docs/threads.md):
 * FUTEX_WAIT and FUTEX_WAKE and their _BITSET forms (with timeouts),
 * FUTEX_REQUEUE and FUTEX_CMP_REQUEUE (musl's condition variables move
 * their waiters to the mutex), FUTEX_WAKE_OP (glibc's).  The PI
 * operations and the rest are -ENOSYS, as Linux answers an unknown one.
 *
 * A futex is named by its address space and user address, even without
 * FUTEX_PRIVATE_FLAG: the threads of a process meet on it, and so do a
 * vfork child and its parent; processes that share a MAP_SHARED page do
 * not (Linux keys those by the shared page).  Without the private flag
 * the word must be mapped even to wake (-EFAULT), as Linux's
 * get_futex_key, which looks the page up; with it, only its alignment
 * (-EINVAL) and its range are checked.
 *
 * Invariant: t->futex_obj is non-NULL only while t waits in futex_wait
 * (or has just been woken and not yet run); a waiter sleeps on its own
 * &t->futex_obj, so a wake picks exactly the tasks it wakes, and
 * futex_wake_key clears futex_obj before waking, which is how the
 * waiter tells a wake from a timeout or a signal.  A requeue changes
 * only the waiter's futex_off: it goes on sleeping, on the other word.
 *
 * Under the kernel lock (include/kernel/kernel_lock.h): reading the word
 * and going to sleep happen with no other kernel code in between, and a
 * waker's FUTEX_WAKE must take the lock too, so a wake cannot be lost
 * between them (Linux needs the hash bucket's lock for that).  A thread
 * on another CPU may change the word meanwhile in user mode: that is the
 * futex protocol (it then calls FUTEX_WAKE).  What the kernel itself
 * writes into a word (FUTEX_WAKE_OP's operation, a dead owner's mark) is
 * a compare-and-exchange (user_cmpxchg_u32), so that such a write never
 * undoes one of theirs.
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
#define FUTEX_REQUEUE        3
#define FUTEX_CMP_REQUEUE    4
#define FUTEX_WAKE_OP        5
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

/* The key checks, and for a shared futex the page looked up as Linux
 * does (a read of the word: -EFAULT when nothing is mapped). */
static long futex_key_ok(uint64_t uaddr, bool priv)
{
    long r = futex_addr_ok(uaddr);
    uint32_t v;
    if (!r && !priv && copy_from_user(&v, uaddr, sizeof(v)))
        r = -EFAULT;
    return r;
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

static long futex_wake(uint64_t uaddr, int n, uint32_t bits, bool priv)
{
    if (!bits)
        return -EINVAL;
    long r = futex_key_ok(uaddr, priv);
    return r ? r : futex_wake_key(current->mm, uaddr, n, bits);
}

/* FUTEX_REQUEUE, FUTEX_CMP_REQUEUE (cmp: compare *uaddr with val3 first):
 * wake nr_wake waiters of uaddr, move up to nr_requeue others to uaddr2;
 * the number woken and moved. */
static long futex_requeue(uint64_t uaddr, uint64_t uaddr2, int nr_wake, int nr_requeue,
                          bool cmp, uint32_t val3, bool priv)
{
    if (nr_wake < 0 || nr_requeue < 0)
        return -EINVAL;
    long r = futex_key_ok(uaddr, priv);
    if (!r)
        r = futex_key_ok(uaddr2, priv);
    if (r)
        return r;
    if (cmp) {
        uint32_t cur;
        if (copy_from_user(&cur, uaddr, sizeof(cur)))
            return -EFAULT;
        if (cur != val3)
            return -EAGAIN;
    }
    const struct mm *mm = current->mm;
    long done = nr_wake ? futex_wake_key(mm, uaddr, nr_wake, FUTEX_BITSET_ANY) : 0;
    for (int i = 0; i < MAX_TASKS && nr_requeue > 0 && uaddr2 != uaddr; i++) {
        struct task *t = task_slot(i);
        if (!t || t->state != TASK_BLOCKED || t->futex_obj != mm || t->futex_off != uaddr)
            continue;
        t->futex_off = uaddr2;
        nr_requeue--;
        done++;
    }
    return done;
}

/* FUTEX_WAKE_OP's operation on the word at uaddr2: the old value, or an
 * error (-ENOSYS for an unknown operation or comparison, -EFAULT). */
static long wake_op_apply(uint64_t uaddr2, uint32_t encoded, bool *cond)
{
    unsigned op = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15;
    int32_t oparg = (int32_t)(encoded << 8) >> 20;    /* bits 12..23, signed */
    int32_t cmparg = (int32_t)(encoded << 20) >> 20;  /* bits 0..11, signed */
    if (encoded & (8u << 28))                         /* FUTEX_OP_OPARG_SHIFT */
        oparg = (int32_t)(1u << (oparg & 31));
    if (op > 4)
        return -ENOSYS;   /* an unknown comparison is found after the write, as Linux */
    /* The read-modify-write is one compare-and-exchange, tried again
     * until no thread wrote the word in between (Linux's
     * arch_futex_atomic_op_inuser does the same on x86). */
    uint32_t old, v, seen;
    if (copy_from_user(&old, uaddr2, sizeof(old)))
        return -EFAULT;
    for (;;) {
        switch (op) {
        case 0: v = (uint32_t)oparg; break;          /* SET */
        case 1: v = old + (uint32_t)oparg; break;    /* ADD */
        case 2: v = old | (uint32_t)oparg; break;    /* OR */
        case 3: v = old & ~(uint32_t)oparg; break;   /* ANDN */
        default: v = old ^ (uint32_t)oparg; break;   /* XOR */
        }
        if (user_cmpxchg_u32(uaddr2, old, v, &seen))
            return -EFAULT;
        if (seen == old)
            break;
        old = seen;
    }
    int32_t o = (int32_t)old;
    switch (cmp) {
    case 0: *cond = o == cmparg; break;
    case 1: *cond = o != cmparg; break;
    case 2: *cond = o < cmparg; break;
    case 3: *cond = o <= cmparg; break;
    case 4: *cond = o > cmparg; break;
    case 5: *cond = o >= cmparg; break;
    default: return -ENOSYS;
    }
    return 0;
}

static long futex_wake_op(uint64_t uaddr, uint64_t uaddr2, int nr_wake, int nr_wake2,
                          uint32_t encoded, bool priv)
{
    long r = futex_key_ok(uaddr, priv);
    if (!r)
        r = futex_key_ok(uaddr2, priv);
    bool cond = false;
    if (!r)
        r = wake_op_apply(uaddr2, encoded, &cond);
    if (r)
        return r;
    long woken = futex_wake_key(current->mm, uaddr, nr_wake, FUTEX_BITSET_ANY);
    if (cond)
        woken += futex_wake_key(current->mm, uaddr2, nr_wake2, FUTEX_BITSET_ANY);
    return woken;
}

/* ---- the robust list of a thread that dies -------------------------------------------- */

#define FUTEX_WAITERS        0x80000000u
#define FUTEX_OWNER_DIED     0x40000000u
#define FUTEX_TID_MASK       0x3fffffffu
#define ROBUST_LIST_LIMIT    2048   /* entries walked at most (Linux's) */

/* A user pointer of the task's ABI (4 bytes for an i386 program). */
static int get_uptr(uint64_t addr, bool is32, uint64_t *out)
{
    if (is32) {
        uint32_t v;
        if (copy_from_user(&v, addr, sizeof(v)))
            return -EFAULT;
        *out = v;
        return 0;
    }
    return copy_from_user(out, addr, sizeof(*out)) ? -EFAULT : 0;
}

/* The lock word at uaddr was held by tid, which is dying: mark it
 * FUTEX_OWNER_DIED (keeping FUTEX_WAITERS) and wake one waiter (Linux's
 * handle_futex_death; PI locks are not kept here). */
static void futex_owner_died(uint64_t uaddr, uint32_t tid, bool pending)
{
    uint32_t v;
    if ((uaddr & 3) || copy_from_user(&v, uaddr, sizeof(v)))
        return;
    if (pending && v == 0) {
        futex_wake_key(current->mm, uaddr, 1, FUTEX_BITSET_ANY);   /* woken before it took it */
        return;
    }
    /* A waiter may set FUTEX_WAITERS meanwhile: compare and exchange,
     * again with what it found until the word stays put. */
    for (;;) {
        if ((v & FUTEX_TID_MASK) != tid)
            return;
        uint32_t nv = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED, seen;
        if (user_cmpxchg_u32(uaddr, v, nv, &seen))
            return;
        if (seen == v)
            break;
        v = seen;
    }
    if (v & FUTEX_WAITERS)
        futex_wake_key(current->mm, uaddr, 1, FUTEX_BITSET_ANY);
}

void futex_exit_robust(struct task *t)
{
    uint64_t head = t->robust_list;
    if (!head || t != current || !t->mm)
        return;
    bool is32 = t->flags & TASK_COMPAT32;
    uint64_t w = is32 ? 4 : 8, entry, pending, off;
    /* struct robust_list_head: next, futex_offset, list_op_pending */
    if (get_uptr(head, is32, &entry) || get_uptr(head + w, is32, &off) ||
        get_uptr(head + 2 * w, is32, &pending))
        return;
    int64_t offset = is32 ? (int64_t)(int32_t)off : (int64_t)off;
    pending &= ~1ul;   /* bit 0: a PI lock */
    entry &= ~1ul;
    for (int n = 0; entry != head && n < ROBUST_LIST_LIMIT; n++) {
        uint64_t next;
        if (get_uptr(entry, is32, &next))
            return;
        if (entry != pending)
            futex_owner_died(entry + (uint64_t)offset, (uint32_t)t->pid, false);
        entry = next & ~1ul;
    }
    if (pending)
        futex_owner_died(pending + (uint64_t)offset, (uint32_t)t->pid, true);
}

bool futex_has_timeout(int op)
{
    int cmd = op & FUTEX_CMD_MASK;
    return cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET;
}

long do_futex(uint64_t uaddr, int op, uint32_t val, const int64_t *ts, uint32_t val2,
               uint64_t uaddr2, uint32_t val3)
{
    int cmd = op & FUTEX_CMD_MASK;
    bool priv = op & FUTEX_PRIVATE_FLAG;
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
        return futex_wake(uaddr, (int)val, FUTEX_BITSET_ANY, priv);
    case FUTEX_WAKE_BITSET:
        return futex_wake(uaddr, (int)val, val3, priv);
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
        return futex_requeue(uaddr, uaddr2, (int)val, (int)val2, cmd == FUTEX_CMP_REQUEUE, val3,
                             priv);
    case FUTEX_WAKE_OP:
        return futex_wake_op(uaddr, uaddr2, (int)val, (int)val2, val3, priv);
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
    /* The fourth argument is val2 (a count) for the requeues and WAKE_OP. */
    return do_futex(a->arg[0], op, (uint32_t)a->arg[2], timed ? ts : NULL, (uint32_t)a->arg[3],
                    a->arg[4], (uint32_t)a->arg[5]);
}
