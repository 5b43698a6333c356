/*
 * poll, ppoll, select and pselect6 (Linux's fs/select.c), for both ABIs:
 * the i386 forms (compat32/sys32_poll.c) translate their timeouts and
 * call the same work.
 *
 * A file says what it is ready for through its poll operation (a mask of
 * POLLIN, POLLOUT, POLLHUP, POLLERR...; none means always readable and
 * writable).  A caller with nothing ready sleeps interruptibly on
 * POLL_WAIT_CHAN, with the deadline as its wake tick; whatever changes a
 * file's readiness calls poll_wake() (include/kernel/file.h), and every
 * poller looks at all its files again.  With one CPU and no preemption,
 * nothing can change between the last look and the sleep, so no wake-up
 * is lost.
 *
 * Linux's rules kept here:
 *  - poll: more entries than RLIMIT_NOFILE is -EINVAL; a negative fd is
 *    skipped (revents 0), a closed one gives POLLNVAL; revents is what
 *    was asked plus POLLERR and POLLHUP; the revents are written back
 *    even when a signal ends the wait;
 *  - select: n is cut to the descriptor table's size (FD_MAX); a set bit
 *    naming a closed descriptor is -EBADF; a hang-up or an error counts
 *    as readable, an error as writable; the sets are not written back
 *    when a signal ends the wait;
 *  - the timeouts are checked before anything else (-EFAULT, -EINVAL),
 *    select, pselect6 and ppoll write the time left back (but never for
 *    a zero timeout), and a signal with nothing ready is -ERESTARTNOHAND
 *    (EINTR after a handler, a restart otherwise; poll restarts with its
 *    whole timeout, where Linux keeps the time left).
 * Deadlines are now_ns() values, met at timer ticks: never early, up to a
 * tick late.
 */
#include <kernel/syscall.h>
#include <kernel/apic.h>
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/sigdeliver.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>

#define NSEC 1000000000ul
#define POLLIN_SET  (POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR)
#define POLLOUT_SET (POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR)
#define POLLEX_SET  POLLPRI

struct pollfd {
    int32_t fd;
    int16_t events, revents;
};

/* ---- timeouts -------------------------------------------------------------------------- */

long poll_deadline(int64_t sec, int64_t nsec, uint64_t *deadline)
{
    if (sec < 0 || nsec < 0 || nsec >= (int64_t)NSEC)
        return -EINVAL;
    if (sec == 0 && nsec == 0) {
        *deadline = POLL_NOWAIT;
        return 0;
    }
    uint64_t now = now_ns();
    if ((uint64_t)sec >= (POLL_FOREVER - now) / NSEC - 1)
        *deadline = POLL_FOREVER - 1;   /* far beyond any uptime, but a deadline */
    else
        *deadline = now + (uint64_t)sec * NSEC + (uint64_t)nsec;
    return 0;
}

void poll_time_left(uint64_t deadline, int64_t *sec, int64_t *nsec)
{
    uint64_t now = now_ns(), left = deadline > now ? deadline - now : 0;
    *sec = (int64_t)(left / NSEC);
    *nsec = (int64_t)(left % NSEC);
}

/* Sleep until poll_wake or the deadline; true when the deadline has passed. */
static bool poll_sleep(uint64_t deadline)
{
    if (deadline != POLL_FOREVER) {
        uint64_t now = now_ns();
        if (now >= deadline)
            return true;
        current->wake_tick = ticks_now() + (deadline - now) / (NSEC / HZ) + 1;
    }
    sleep_on_intr(POLL_WAIT_CHAN);   /* a signal is seen by the caller's next look */
    current->wake_tick = 0;
    return deadline != POLL_FOREVER && now_ns() >= deadline;
}

/* ---- the temporary mask of ppoll and pselect6 ---------------------------------------- */

long poll_sigmask_set(uint64_t umask, uint64_t size)
{
    ksigset_t mask;
    if (!umask)
        return 0;
    if (size != sizeof(mask))
        return -EINVAL;
    if (copy_from_user(&mask, umask, sizeof(mask)))
        return -EFAULT;
    current->sig.saved_mask = current->sig.blocked;
    set_current_blocked(mask);
    return 1;
}

/* Linux's restore_saved_sigmask_unless(ret == -ERESTARTNOHAND): after an
 * interruption the old mask comes back once a handler's frame holds it. */
void poll_sigmask_restore(long set, long ret)
{
    if (set != 1)
        return;
    if (ret == -ERESTARTNOHAND)
        current->sig.restore_mask = true;
    else
        set_current_blocked(current->sig.saved_mask);
}

/* ---- poll ------------------------------------------------------------------------------ */

static unsigned fd_poll(int fd)
{
    struct file *f = fd_file(fd);
    if (!f)
        return POLLNVAL;
    return f->ops->poll ? f->ops->poll(f) : DEFAULT_POLLMASK;
}

static int poll_scan(struct pollfd *p, unsigned n)
{
    int count = 0;
    for (unsigned i = 0; i < n; i++) {
        p[i].revents = 0;
        if (p[i].fd < 0)
            continue;
        unsigned filter = (uint16_t)p[i].events | POLLERR | POLLHUP | POLLNVAL;
        p[i].revents = (int16_t)(fd_poll(p[i].fd) & filter);
        count += p[i].revents != 0;
    }
    return count;
}

long poll_do(uint64_t ufds, uint64_t nfds, uint64_t deadline)
{
    struct pollfd p[FD_MAX];
    if (nfds > (uint64_t)task_nofile(current, FD_MAX))
        return -EINVAL;
    unsigned n = (unsigned)nfds;
    if (n && copy_from_user(p, ufds, n * sizeof(p[0])))
        return -EFAULT;
    bool timed_out = deadline == POLL_NOWAIT;
    long r;
    for (;;) {
        r = poll_scan(p, n);
        if (!r && signal_pending(current))
            r = -ERESTARTNOHAND;
        if (r || timed_out)
            break;
        timed_out = poll_sleep(deadline);
    }
    for (unsigned i = 0; i < n; i++)
        if (copy_to_user(ufds + i * sizeof(p[0]) + offsetof(struct pollfd, revents),
                         &p[i].revents, sizeof(p[i].revents)))
            return -EFAULT;
    return r;
}

/* poll(fds, nfds, timeout_ms): a negative timeout waits for ever. */
long sys_poll(const struct sysargs *a)
{
    int ms = (int)a->arg[2];
    uint64_t deadline = POLL_FOREVER;
    if (ms >= 0)
        poll_deadline(ms / 1000, (int64_t)(ms % 1000) * 1000000, &deadline);
    return poll_do(a->arg[0], (uint32_t)a->arg[1], deadline);   /* nfds: an unsigned int */
}

struct timespec64 {
    int64_t tv_sec, tv_nsec;
};

/* Write the time left into a 64-bit timespec; ret becomes -EINTR when it
 * cannot be written after an interruption (poll_select_finish). */
static long finish_timespec64(uint64_t uts, uint64_t deadline, long ret)
{
    if (!uts || deadline == POLL_NOWAIT)
        return ret;
    struct timespec64 ts;
    poll_time_left(deadline, &ts.tv_sec, &ts.tv_nsec);
    if (copy_to_user(uts, &ts, sizeof(ts)) && ret == -ERESTARTNOHAND)
        return -EINTR;
    return ret;
}

/* ppoll(fds, nfds, timeout, sigmask, sigsetsize) */
long sys_ppoll(const struct sysargs *a)
{
    uint64_t deadline = POLL_FOREVER;
    if (a->arg[2]) {
        struct timespec64 ts;
        if (copy_from_user(&ts, a->arg[2], sizeof(ts)))
            return -EFAULT;
        long err = poll_deadline(ts.tv_sec, ts.tv_nsec, &deadline);
        if (err)
            return err;
    }
    long set = poll_sigmask_set(a->arg[3], a->arg[4]);
    if (set < 0)
        return set;
    long r = poll_do(a->arg[0], (uint32_t)a->arg[1], deadline);
    poll_sigmask_restore(set, r);
    return finish_timespec64(a->arg[2], deadline, r);
}

/* ---- select ---------------------------------------------------------------------------- */

/* One fd_set per kind, FD_MAX bits at most: in, out, ex, then the results. */
struct fdsets {
    uint64_t in, out, ex, res_in, res_out, res_ex;
};

/* FDS_BYTES: n bits in whole words of `word` bytes (a long: 8, or 4 for i386). */
static size_t fds_bytes(int n, unsigned word)
{
    return ((size_t)n + word * 8 - 1) / (word * 8) * word;
}

static long get_fdset(uint64_t u, uint64_t *set, size_t bytes)
{
    *set = 0;
    return u && bytes && copy_from_user(set, u, bytes) ? -EFAULT : 0;
}

static long put_fdset(uint64_t u, const uint64_t *set, size_t bytes)
{
    return u && bytes && copy_to_user(u, set, bytes) ? -EFAULT : 0;
}

static long select_scan(struct fdsets *s, int n)
{
    long count = 0;
    s->res_in = s->res_out = s->res_ex = 0;
    for (int fd = 0; fd < n; fd++) {
        uint64_t bit = 1ul << fd;
        if (!((s->in | s->out | s->ex) & bit))
            continue;
        unsigned mask = fd_poll(fd);
        if ((mask & POLLIN_SET) && (s->in & bit))
            s->res_in |= bit, count++;
        if ((mask & POLLOUT_SET) && (s->out & bit))
            s->res_out |= bit, count++;
        if ((mask & POLLEX_SET) && (s->ex & bit))
            s->res_ex |= bit, count++;
    }
    return count;
}

long select_do(int n, uint64_t inp, uint64_t outp, uint64_t exp, uint64_t deadline,
               unsigned word)
{
    if (n < 0)
        return -EINVAL;
    if (n > FD_MAX)
        n = FD_MAX;   /* Linux: the size of the descriptor table */
    size_t bytes = fds_bytes(n, word);
    struct fdsets s;
    long r = get_fdset(inp, &s.in, bytes);
    if (!r)
        r = get_fdset(outp, &s.out, bytes);
    if (!r)
        r = get_fdset(exp, &s.ex, bytes);
    if (r)
        return r;
    uint64_t keep = n == 64 ? ~0ul : (1ul << n) - 1;   /* bits past n are not looked at */
    s.in &= keep, s.out &= keep, s.ex &= keep;
    for (int fd = 0; fd < n; fd++)
        if (((s.in | s.out | s.ex) >> fd & 1) && !fd_file(fd))
            return -EBADF;
    bool timed_out = deadline == POLL_NOWAIT;
    for (;;) {
        r = select_scan(&s, n);
        if (r || timed_out || signal_pending(current))
            break;
        timed_out = poll_sleep(deadline);
    }
    if (!r && signal_pending(current))
        return -ERESTARTNOHAND;
    if (put_fdset(inp, &s.res_in, bytes) || put_fdset(outp, &s.res_out, bytes) ||
        put_fdset(exp, &s.res_ex, bytes))
        return -EFAULT;
    return r;
}

struct timeval64 {
    int64_t tv_sec, tv_usec;
};

/* select(n, in, out, ex, timeval): the microseconds may hold whole seconds. */
long sys_select(const struct sysargs *a)
{
    uint64_t deadline = POLL_FOREVER;
    struct timeval64 tv;
    if (a->arg[4]) {
        if (copy_from_user(&tv, a->arg[4], sizeof(tv)))
            return -EFAULT;
        int64_t sec;
        if (__builtin_add_overflow(tv.tv_sec, tv.tv_usec / 1000000, &sec))
            return -EINVAL;   /* Linux's sum wraps negative */
        long err = poll_deadline(sec, tv.tv_usec % 1000000 * 1000, &deadline);
        if (err)
            return err;
    }
    long r = select_do((int)a->arg[0], a->arg[1], a->arg[2], a->arg[3], deadline, 8);
    if (a->arg[4] && deadline != POLL_NOWAIT) {
        int64_t ns;
        poll_time_left(deadline, &tv.tv_sec, &ns);
        tv.tv_usec = ns / 1000;
        if (copy_to_user(a->arg[4], &tv, sizeof(tv)) && r == -ERESTARTNOHAND)
            r = -EINTR;
    }
    return r;
}

/* pselect6(n, in, out, ex, timespec, {sigmask, sigsetsize}) */
long sys_pselect6(const struct sysargs *a)
{
    uint64_t pack[2] = { 0, 0 };
    if (a->arg[5] && copy_from_user(pack, a->arg[5], sizeof(pack)))
        return -EFAULT;
    uint64_t deadline = POLL_FOREVER;
    if (a->arg[4]) {
        struct timespec64 ts;
        if (copy_from_user(&ts, a->arg[4], sizeof(ts)))
            return -EFAULT;
        long err = poll_deadline(ts.tv_sec, ts.tv_nsec, &deadline);
        if (err)
            return err;
    }
    long set = poll_sigmask_set(pack[0], pack[1]);
    if (set < 0)
        return set;
    long r = select_do((int)a->arg[0], a->arg[1], a->arg[2], a->arg[3], deadline, 8);
    poll_sigmask_restore(set, r);
    return finish_timespec64(a->arg[4], deadline, r);
}
