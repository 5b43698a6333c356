/*
 * The i386 forms of clone and of the calls beside it (docs/syscalls.md):
 * clone's argument order, the 16-bit uid calls, 32-bit time_t, the old
 * timeval and timespec, struct rlimit and sysinfo with 4-byte longs,
 * fd_set in 4-byte words, the compat flock structures, 4-byte pointers
 * in the robust-list calls.  Each translates and calls the work of the
 * 64-bit handler (kernel/proc/sys_*.c, kernel/fs/poll.c, fcntl.c,
 * sendfile.c), so the checks and their order are the same.  Layouts:
 * Linux's include/linux/compat.h and arch/x86/include/asm/compat.h.
 *
 * Invariant: as everywhere in compat32/, a structure copied out is fully
 * written (no kernel byte in padding), and a bad pointer is -EFAULT
 * where the 64-bit call gives it.
 */
#include <compat32/compat32.h>
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/string.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/time.h>
#include <kernel/uaccess.h>

/* ---- clone: flags, newsp, parent_tid, tls, child_tid (CLONE_BACKWARDS) ---------- */

long sys32_clone(const struct sysargs *a)
{
    return do_clone(a->arg[0], a->arg[1], a->arg[2], a->arg[4], a->arg[3], true);
}

/* ---- 16-bit uids and gids (the calls before the *32 ones) ------------------------ */

#define OVERFLOW_ID 65534u   /* what a 16-bit call sees of a larger id */

static uint16_t high2low(uint32_t id)
{
    return id & ~0xffffu ? (uint16_t)OVERFLOW_ID : (uint16_t)id;
}

/* A 16-bit -1 is the 32-bit -1 ("unchanged"). */
static uint64_t low2high(uint64_t id)
{
    return (uint16_t)id == 0xffff ? 0xffffffffu : (uint16_t)id;
}

long sys32_getuid16(const struct sysargs *a)
{
    (void)a;
    return high2low(current->uid);
}

long sys32_geteuid16(const struct sysargs *a)
{
    (void)a;
    return high2low(current->euid);
}

long sys32_getgid16(const struct sysargs *a)
{
    (void)a;
    return high2low(current->gid);
}

long sys32_getegid16(const struct sysargs *a)
{
    (void)a;
    return high2low(current->egid);
}

/* Run a 32-bit id call with its (up to three) id arguments widened. */
static long widened(long (*fn)(const struct sysargs *), const struct sysargs *a, int nids)
{
    struct sysargs b = *a;
    for (int i = 0; i < nids; i++)
        b.arg[i] = low2high(a->arg[i]);
    return fn(&b);
}

long sys32_setuid16(const struct sysargs *a) { return widened(sys_setuid, a, 1); }
long sys32_setgid16(const struct sysargs *a) { return widened(sys_setgid, a, 1); }
long sys32_setreuid16(const struct sysargs *a) { return widened(sys_setreuid, a, 2); }
long sys32_setregid16(const struct sysargs *a) { return widened(sys_setregid, a, 2); }
long sys32_setresuid16(const struct sysargs *a) { return widened(sys_setresuid, a, 3); }
long sys32_setresgid16(const struct sysargs *a) { return widened(sys_setresgid, a, 3); }

long sys32_setfsuid16(const struct sysargs *a)
{
    return high2low((uint32_t)widened(sys_setfsuid, a, 1));
}

long sys32_setfsgid16(const struct sysargs *a)
{
    return high2low((uint32_t)widened(sys_setfsgid, a, 1));
}

static long put_three16(const struct sysargs *a, uint32_t r, uint32_t e, uint32_t s)
{
    uint16_t v[3] = { high2low(r), high2low(e), high2low(s) };
    for (int i = 0; i < 3; i++)
        if (copy_to_user(a->arg[i], &v[i], sizeof(v[i])))
            return -EFAULT;
    return 0;
}

long sys32_getresuid16(const struct sysargs *a)
{
    return put_three16(a, current->uid, current->euid, current->suid);
}

long sys32_getresgid16(const struct sysargs *a)
{
    return put_three16(a, current->gid, current->egid, current->sgid);
}

long sys32_getgroups16(const struct sysargs *a)
{
    uint32_t g[TASK_NGROUPS];
    uint16_t g16[TASK_NGROUPS];
    int size = (int)a->arg[0];
    long n = groups_get(size, g);
    if (n <= 0 || !size)
        return n;
    for (long i = 0; i < n; i++)
        g16[i] = high2low(g[i]);
    return copy_to_user(a->arg[1], g16, (size_t)n * 2) ? -EFAULT : n;
}

long sys32_setgroups16(const struct sysargs *a)
{
    uint32_t g[TASK_NGROUPS];
    uint16_t g16[TASK_NGROUPS];
    int size = (int)a->arg[0];
    if (current->euid != 0)
        return -EPERM;
    if (size > 0 && size <= TASK_NGROUPS) {
        if (copy_from_user(g16, a->arg[1], (size_t)size * 2))
            return -EFAULT;
        for (int i = 0; i < size; i++)
            g[i] = (uint32_t)low2high(g16[i]);
    }
    return groups_set(size, g);
}

/* ---- limits: struct rlimit of two 4-byte longs ---------------------------------------- */

#define COMPAT_RLIM_INFINITY 0xffffffffu

/* getrlimit (191, ugetrlimit): values above 32 bits read as infinity. */
long sys32_ugetrlimit(const struct sysargs *a)
{
    struct rlimit64 r;
    long err = rlimit_do(0, (unsigned)a->arg[0], NULL, &r);
    if (err)
        return err;
    uint32_t v[2] = { r.cur > COMPAT_RLIM_INFINITY ? COMPAT_RLIM_INFINITY : (uint32_t)r.cur,
                      r.max > COMPAT_RLIM_INFINITY ? COMPAT_RLIM_INFINITY : (uint32_t)r.max };
    return copy_to_user(a->arg[1], v, sizeof(v)) ? -EFAULT : 0;
}

/* The old getrlimit (76): values above 2^31 - 1 read as 0x7fffffff. */
long sys32_old_getrlimit(const struct sysargs *a)
{
    struct rlimit64 r;
    if ((unsigned)a->arg[0] >= TASK_NRLIMITS)
        return -EINVAL;
    rlimit_do(0, (unsigned)a->arg[0], NULL, &r);
    uint32_t v[2] = { r.cur > 0x7fffffff ? 0x7fffffffu : (uint32_t)r.cur,
                      r.max > 0x7fffffff ? 0x7fffffffu : (uint32_t)r.max };
    return copy_to_user(a->arg[1], v, sizeof(v)) ? -EFAULT : 0;
}

/* setrlimit (75): a 32-bit infinity is infinity. */
long sys32_setrlimit(const struct sysargs *a)
{
    uint32_t v[2];
    if (copy_from_user(v, a->arg[1], sizeof(v)))
        return -EFAULT;
    struct rlimit64 r = { v[0] == COMPAT_RLIM_INFINITY ? ~0ul : v[0],
                          v[1] == COMPAT_RLIM_INFINITY ? ~0ul : v[1] };
    return rlimit_do(0, (unsigned)a->arg[0], &r, NULL);
}

/* ---- sysinfo: 4-byte fields, scaled when memory passes 4 GiB --------------------------- */

struct sysinfo32 {
    int32_t uptime;
    uint32_t loads[3];
    uint32_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
    uint16_t procs, pad;
    uint32_t totalhigh, freehigh;
    uint32_t mem_unit;
    char f[8];
};
_Static_assert(sizeof(struct sysinfo32) == 64, "struct sysinfo: Linux i386 layout");

long sys32_sysinfo(const struct sysargs *a)
{
    struct sysinfo64 s;
    sysinfo_fill(&s);
    /* Linux's compat_sys_sysinfo: a mem_unit up to a page, until they fit. */
    if ((s.totalram >> 32) || (s.totalswap >> 32)) {
        while (s.mem_unit < 4096) {
            s.mem_unit <<= 1;
            s.totalram >>= 1, s.freeram >>= 1, s.sharedram >>= 1, s.bufferram >>= 1;
            s.totalswap >>= 1, s.freeswap >>= 1, s.totalhigh >>= 1, s.freehigh >>= 1;
        }
    }
    struct sysinfo32 c;
    memset(&c, 0, sizeof(c));
    c.uptime = (int32_t)s.uptime;
    for (int i = 0; i < 3; i++)
        c.loads[i] = (uint32_t)s.loads[i];
    c.totalram = (uint32_t)s.totalram, c.freeram = (uint32_t)s.freeram;
    c.sharedram = (uint32_t)s.sharedram, c.bufferram = (uint32_t)s.bufferram;
    c.totalswap = (uint32_t)s.totalswap, c.freeswap = (uint32_t)s.freeswap;
    c.procs = s.procs;
    c.totalhigh = (uint32_t)s.totalhigh, c.freehigh = (uint32_t)s.freehigh;
    c.mem_unit = s.mem_unit;
    return copy_to_user(a->arg[0], &c, sizeof(c)) ? -EFAULT : 0;
}

long sys32_sched_getaffinity(const struct sysargs *a)
{
    return affinity_get((int)a->arg[0], (unsigned)a->arg[1], a->arg[2], 4);
}

/* ---- time: 32-bit time_t, the old timeval and timespec --------------------------------- */

long sys32_time(const struct sysargs *a)
{
    int32_t s = (int32_t)(realtime_ns() / NSEC_PER_SEC);   /* the wall clock: kernel/time.h */
    if (a->arg[0] && copy_to_user(a->arg[0], &s, sizeof(s)))
        return -EFAULT;
    return s;
}

long sys32_gettimeofday(const struct sysargs *a)
{
    if (a->arg[0]) {
        struct kernel_timespec ts;
        clock_read(CLOCK_REALTIME, &ts);
        int32_t tv[2] = { (int32_t)ts.tv_sec, (int32_t)(ts.tv_nsec / NSEC_PER_USEC) };
        if (copy_to_user(a->arg[0], tv, sizeof(tv)))
            return -EFAULT;
    }
    if (a->arg[1]) {
        struct kernel_timezone tz = timezone_get();   /* what settimeofday set */
        if (copy_to_user(a->arg[1], &tz, sizeof(tz)))
            return -EFAULT;
    }
    return 0;
}

/* Read an old (32-bit) timespec into a deadline. */
static long deadline32(uint64_t uts, uint64_t *deadline)
{
    int32_t ts[2];
    *deadline = POLL_FOREVER;
    if (!uts)
        return 0;
    if (copy_from_user(ts, uts, sizeof(ts)))
        return -EFAULT;
    return poll_deadline(ts[0], ts[1], deadline);
}

static long deadline64(uint64_t uts, uint64_t *deadline)
{
    int64_t ts[2];
    *deadline = POLL_FOREVER;
    if (!uts)
        return 0;
    if (copy_from_user(ts, uts, sizeof(ts)))
        return -EFAULT;
    return poll_deadline(ts[0], ts[1], deadline);
}

/* Write the time left back (poll_select_finish): 32-bit or 64-bit fields. */
static long finish_ts(uint64_t uts, uint64_t deadline, long ret, bool wide)
{
    if (!uts || deadline == POLL_NOWAIT)
        return ret;
    int64_t sec, nsec;
    poll_time_left(deadline, &sec, &nsec);
    int32_t t32[2] = { (int32_t)sec, (int32_t)nsec };
    int64_t t64[2] = { sec, nsec };
    int err = wide ? copy_to_user(uts, t64, sizeof(t64)) : copy_to_user(uts, t32, sizeof(t32));
    return err && ret == -ERESTARTNOHAND ? -EINTR : ret;
}

/* ---- poll and select ----------------------------------------------------------------------- */

static long ppoll_common(const struct sysargs *a, bool wide)
{
    uint64_t deadline;
    long err = wide ? deadline64(a->arg[2], &deadline) : deadline32(a->arg[2], &deadline);
    if (err)
        return err;
    long set = poll_sigmask_set(a->arg[3], a->arg[4]);
    if (set < 0)
        return set;
    long r = poll_do(a->arg[0], a->arg[1], deadline);
    poll_sigmask_restore(set, r);
    return finish_ts(a->arg[2], deadline, r, wide);
}

long sys32_ppoll(const struct sysargs *a) { return ppoll_common(a, false); }
long sys32_ppoll_time64(const struct sysargs *a) { return ppoll_common(a, true); }

/* select with an old timeval {int32 sec, int32 usec}, fd_sets of 4-byte words. */
static long select32(int n, uint64_t inp, uint64_t outp, uint64_t exp, uint64_t utv)
{
    uint64_t deadline = POLL_FOREVER;
    int32_t tv[2];
    if (utv) {
        if (copy_from_user(tv, utv, sizeof(tv)))
            return -EFAULT;
        long err = poll_deadline((int64_t)tv[0] + tv[1] / 1000000, (int64_t)(tv[1] % 1000000) * 1000,
                                 &deadline);
        if (err)
            return err;
    }
    long r = select_do(n, inp, outp, exp, deadline, 4);
    if (utv && deadline != POLL_NOWAIT) {
        int64_t sec, nsec;
        poll_time_left(deadline, &sec, &nsec);
        tv[0] = (int32_t)sec, tv[1] = (int32_t)(nsec / 1000);
        if (copy_to_user(utv, tv, sizeof(tv)) && r == -ERESTARTNOHAND)
            r = -EINTR;
    }
    return r;
}

/* _newselect (142) */
long sys32_newselect(const struct sysargs *a)
{
    return select32((int)a->arg[0], a->arg[1], a->arg[2], a->arg[3], a->arg[4]);
}

/* select (82): one pointer to the five arguments. */
long sys32_old_select(const struct sysargs *a)
{
    uint32_t v[5];
    if (copy_from_user(v, a->arg[0], sizeof(v)))
        return -EFAULT;
    return select32((int)v[0], v[1], v[2], v[3], v[4]);
}

static long pselect_common(const struct sysargs *a, bool wide)
{
    uint32_t pack[2] = { 0, 0 };   /* {sigmask, sigsetsize}, 4 bytes each */
    if (a->arg[5] && copy_from_user(pack, a->arg[5], sizeof(pack)))
        return -EFAULT;
    uint64_t deadline;
    long err = wide ? deadline64(a->arg[4], &deadline) : deadline32(a->arg[4], &deadline);
    if (err)
        return err;
    long set = poll_sigmask_set(pack[0], pack[1]);
    if (set < 0)
        return set;
    long r = select_do((int)a->arg[0], a->arg[1], a->arg[2], a->arg[3], deadline, 4);
    poll_sigmask_restore(set, r);
    return finish_ts(a->arg[4], deadline, r, wide);
}

long sys32_pselect6(const struct sysargs *a) { return pselect_common(a, false); }
long sys32_pselect6_time64(const struct sysargs *a) { return pselect_common(a, true); }

/* ---- futex: the old timespec ---------------------------------------------------------------- */

long sys32_futex(const struct sysargs *a)
{
    int op = (int)a->arg[1];
    int32_t t32[2];
    int64_t ts[2];
    bool timed = a->arg[3] && futex_has_timeout(op);
    if (timed) {
        if (copy_from_user(t32, a->arg[3], sizeof(t32)))
            return -EFAULT;
        ts[0] = t32[0], ts[1] = t32[1];
    }
    return do_futex(a->arg[0], op, (uint32_t)a->arg[2], timed ? ts : NULL, (uint32_t)a->arg[3],
                    a->arg[4], (uint32_t)a->arg[5]);
}

/* ---- robust lists: 12-byte heads, 4-byte pointers ------------------------------------------ */

long sys32_set_robust_list(const struct sysargs *a)
{
    return robust_set(a->arg[0], a->arg[1], 12);
}

long sys32_get_robust_list(const struct sysargs *a)
{
    return robust_get((int)a->arg[0], a->arg[1], a->arg[2], 12, 4);
}

/* ---- sendfile (187): a 4-byte off_t ------------------------------------------------------------ */

long sys32_sendfile(const struct sysargs *a)
{
    int out_fd = (int)a->arg[0], in_fd = (int)a->arg[1];
    if (!a->arg[2])
        return do_sendfile(out_fd, in_fd, NULL, a->arg[3]);
    int32_t off;
    if (copy_from_user(&off, a->arg[2], sizeof(off)))
        return -EFAULT;
    int64_t pos = off;
    long r = do_sendfile(out_fd, in_fd, &pos, a->arg[3]);
    off = (int32_t)pos;
    return copy_to_user(a->arg[2], &off, sizeof(off)) ? -EFAULT : r;
}

/* ---- fcntl: struct flock with 4-byte offsets, and the packed flock64 ----------------------- */

#define F_GETLK  5
#define F_SETLK  6
#define F_SETLKW 7
#define F_GETLK64  12
#define F_SETLK64  13
#define F_SETLKW64 14
#define F_OFD_GETLK  36
#define F_OFD_SETLK  37
#define F_OFD_SETLKW 38

struct flock32 {
    int16_t l_type, l_whence;
    int32_t l_start, l_len, l_pid;
};

struct flock64_32 {
    int16_t l_type, l_whence;
    int64_t l_start, l_len;
    int32_t l_pid;
} __attribute__((packed));
_Static_assert(sizeof(struct flock64_32) == 24, "struct flock64 is 24 bytes on i386");

static long lock32(int fd, unsigned cmd, uint64_t uarg)
{
    struct file *f = fd_file(fd);
    if (!f)
        return -EBADF;
    bool wide = cmd != F_GETLK && cmd != F_SETLK && cmd != F_SETLKW;
    struct flock32 n;
    struct flock64_32 w;
    struct kflock l;
    if (wide) {
        if (copy_from_user(&w, uarg, sizeof(w)))
            return -EFAULT;
        l = (struct kflock){ w.l_type, w.l_whence, w.l_start, w.l_len, w.l_pid };
    } else {
        if (copy_from_user(&n, uarg, sizeof(n)))
            return -EFAULT;
        l = (struct kflock){ n.l_type, n.l_whence, n.l_start, n.l_len, n.l_pid };
    }
    unsigned kcmd = cmd == F_GETLK64 ? F_GETLK : cmd == F_SETLK64 ? F_SETLK
                  : cmd == F_SETLKW64 ? F_SETLKW : cmd;
    long r = fcntl_lock(f, kcmd, &l);
    if (r || (kcmd != F_GETLK && kcmd != F_OFD_GETLK))
        return r;
    /* F_GETLK found nothing in the way: only the type changes. */
    if (wide) {
        w.l_type = l.type;
        return copy_to_user(uarg, &w, sizeof(w)) ? -EFAULT : 0;
    }
    n.l_type = l.type;
    return copy_to_user(uarg, &n, sizeof(n)) ? -EFAULT : 0;
}

static bool lock_cmd(unsigned cmd)
{
    return (cmd >= F_GETLK && cmd <= F_SETLKW) || (cmd >= F_GETLK64 && cmd <= F_SETLKW64) ||
           (cmd >= F_OFD_GETLK && cmd <= F_OFD_SETLKW);
}

/* fcntl64 (221): every lock form. */
long sys32_fcntl64(const struct sysargs *a)
{
    unsigned cmd = (unsigned)a->arg[1];
    if (lock_cmd(cmd))
        return lock32((int)a->arg[0], cmd, a->arg[2]);
    return fcntl_common((int)a->arg[0], cmd, a->arg[2]);
}

/* fcntl (55): the 64-bit-offset lock forms are refused before anything. */
long sys32_fcntl(const struct sysargs *a)
{
    unsigned cmd = (unsigned)a->arg[1];
    if ((cmd >= F_GETLK64 && cmd <= F_SETLKW64) || (cmd >= F_OFD_GETLK && cmd <= F_OFD_SETLKW))
        return -EINVAL;
    return sys32_fcntl64(a);
}
