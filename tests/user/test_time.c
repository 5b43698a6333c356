/*
 * test_time: the clocks and the vDSO (docs/time.md).
 *
 * Only facts that hold on any Linux are printed, never a time itself:
 * the wall clock is after 2020 and before 2100, gettimeofday and time
 * (the raw system calls: musl's wrappers go through clock_gettime) agree
 * with CLOCK_REALTIME within seconds, every clock moves forward and
 * never back, a sleep moves MONOTONIC by at least its length, the coarse
 * clocks lag the fine ones by less than a tick, CPU time grows while the
 * program computes, clock_getres gives 1 ns for the fine clocks and at
 * most 10 ms for the coarse and CPU ones; the errors (EINVAL for unknown
 * ids, EFAULT, EPERM for a user who is not root, EINVAL before EPERM for
 * bad times) in Linux's order, checked in a child that gives up root so
 * that the host's clock is never touched.  Setting the clock as root is
 * checked on mmk only (# SKIP on the host).
 *
 * The vDSO: AT_SYSINFO_EHDR points at an ELF shared object of the
 * program's class, mapped where /proc/self/maps says "[vdso]"; its
 * dynamic symbols (found here by hand, through DT_HASH and the version
 * tables, as a C library does) include __vdso_clock_gettime,
 * __vdso_gettimeofday, __vdso_time and __vdso_getcpu at version
 * LINUX_2.6 (i386: also __vdso_clock_gettime64, and __kernel_vsyscall at
 * LINUX_2.5, whose address is AT_SYSINFO); calling them gives what the
 * system calls give; and the C library itself calls into the vDSO: a
 * child that unmaps it dies with SIGSEGV at its next clock_gettime.
 */
#define _GNU_SOURCE
#include "ut.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#if UINTPTR_MAX > 0xffffffffu
#define IS64 1
typedef Elf64_Ehdr Ehdr;
typedef Elf64_Phdr Phdr;
typedef Elf64_Sym Sym;
typedef Elf64_Dyn Dyn;
typedef Elf64_Verdef Verdef;
typedef Elf64_Verdaux Verdaux;
#define CLASS ELFCLASS64
#else
#define IS64 0
typedef Elf32_Ehdr Ehdr;
typedef Elf32_Phdr Phdr;
typedef Elf32_Sym Sym;
typedef Elf32_Dyn Dyn;
typedef Elf32_Verdef Verdef;
typedef Elf32_Verdaux Verdaux;
#define CLASS ELFCLASS32
#endif

#define NS 1000000000LL

/* The kernel's own layouts for the raw calls: struct timespec and
 * timeval with a `long` (i386: the old 32-bit forms). */
struct kts {
    long sec, nsec;
};
struct ktv {
    long sec, usec;
};

#ifndef SYS_clock_gettime
#define SYS_clock_gettime SYS_clock_gettime32
#endif
#ifndef SYS_clock_settime
#define SYS_clock_settime SYS_clock_settime32
#endif
#ifndef SYS_clock_getres
#define SYS_clock_getres SYS_clock_getres_time32
#endif
#ifndef SYS_settimeofday
#define SYS_settimeofday SYS_settimeofday_time32
#endif
#ifndef SYS_gettimeofday
#define SYS_gettimeofday SYS_gettimeofday_time32
#endif
#ifndef SYS_time
#define SYS_time SYS_time32
#endif

static long long ts_ns(const struct timespec *t)
{
    return (long long)t->tv_sec * NS + t->tv_nsec;
}

static long long now(clockid_t c)
{
    struct timespec t;
    if (clock_gettime(c, &t))
        return -1;
    return ts_ns(&t);
}

static long sys_err(long r)
{
    return r < 0 ? -errno : r;
}

/* ---- the clocks ------------------------------------------------------------------------ */

static void wall_clock(void)
{
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    ut_check(rt.tv_sec > 1577836800, "realtime_after_2020", "%lld", (long long)rt.tv_sec);
    ut_check(rt.tv_sec < 4102444800LL, "realtime_before_2100", "%lld", (long long)rt.tv_sec);
    struct ktv tv;
    long r = syscall(SYS_gettimeofday, &tv, NULL);
    long long d = (long long)tv.sec - rt.tv_sec;
    ut_check(r == 0 && d >= 0 && d <= 2, "gettimeofday_agrees_with_realtime", "r %ld, %lld s", r,
             d);
    ut_check(tv.usec >= 0 && tv.usec < 1000000, "gettimeofday_usec_in_range", "%ld", tv.usec);
    long t = syscall(SYS_time, NULL);
    d = (long long)t - rt.tv_sec;
    ut_check(d >= 0 && d <= 2, "time_agrees_with_realtime", "%lld s", d);
    long stored = 0;
    t = syscall(SYS_time, &stored);
    ut_check(t == stored, "time_stores_what_it_returns", "%ld vs %ld", t, stored);
    struct timespec tai;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_TAI, &tai);
    d = tai.tv_sec - rt.tv_sec;
    ut_check(d >= 0 && d <= 40, "tai_within_leap_seconds_of_realtime", "%lld s", d);
    /* the file system's clock is the wall clock too */
    char path[] = "/tmp/test_time.XXXXXX";
    int fd = mkstemp(path);
    struct stat st;
    int ok = fd >= 0 && fstat(fd, &st) == 0;
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    d = ok ? (long long)st.st_mtime - rt.tv_sec : -99;
    ut_check(ok && d >= -2 && d <= 2, "new_file_mtime_is_wall_clock", "ok %d, %lld s", ok, d);
}

static void forward(void)
{
    static const struct {
        clockid_t id;
        const char *name;
    } clocks[] = {
        { CLOCK_REALTIME, "realtime" }, { CLOCK_MONOTONIC, "monotonic" },
        { CLOCK_MONOTONIC_RAW, "monotonic_raw" }, { CLOCK_BOOTTIME, "boottime" },
        { CLOCK_REALTIME_COARSE, "realtime_coarse" },
        { CLOCK_MONOTONIC_COARSE, "monotonic_coarse" },
        { CLOCK_PROCESS_CPUTIME_ID, "process_cputime" },
        { CLOCK_THREAD_CPUTIME_ID, "thread_cputime" },
    };
    char name[64];
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        long long prev = now(clocks[i].id), back = 0;
        int bad = prev < 0;
        for (int k = 0; k < 2000 && !bad; k++) {
            long long t = now(clocks[i].id);
            if (t < 0)
                bad = 1;
            else if (t < prev)
                back = prev - t;
            prev = t;
        }
        snprintf(name, sizeof name, "%s_never_goes_back", clocks[i].name);
        ut_check(!bad && back == 0, name, "bad %d, back %lld ns", bad, back);
    }
    /* a sleep of 50 ms moves MONOTONIC and BOOTTIME by at least that */
    long long m0 = now(CLOCK_MONOTONIC), b0 = now(CLOCK_BOOTTIME);
    struct timespec req = { 0, 50000000 };
    nanosleep(&req, NULL);
    long long dm = now(CLOCK_MONOTONIC) - m0, db = now(CLOCK_BOOTTIME) - b0;
    ut_check(dm >= 50000000 && dm < 5 * NS, "monotonic_counts_a_sleep", "%lld ns", dm);
    ut_check(db >= 50000000 && db < 5 * NS, "boottime_counts_a_sleep", "%lld ns", db);
    long long mono = now(CLOCK_MONOTONIC), boot = now(CLOCK_BOOTTIME);
    ut_check(boot >= mono, "boottime_not_behind_monotonic", "%lld", boot - mono);
    /* coarse: not later than a fine reading after it, less than a tick behind */
    long long c = now(CLOCK_MONOTONIC_COARSE), f = now(CLOCK_MONOTONIC);
    ut_check(c <= f && f - c < NS / 10, "monotonic_coarse_lags_by_less_than_a_tick", "%lld ns",
             f - c);
    c = now(CLOCK_REALTIME_COARSE), f = now(CLOCK_REALTIME);
    ut_check(c <= f && f - c < NS / 10, "realtime_coarse_lags_by_less_than_a_tick", "%lld ns",
             f - c);
    /* REALTIME - MONOTONIC does not move when nobody sets the clock */
    long long o1 = now(CLOCK_REALTIME) - now(CLOCK_MONOTONIC);
    nanosleep(&req, NULL);
    long long o2 = now(CLOCK_REALTIME) - now(CLOCK_MONOTONIC);
    ut_check(llabs(o2 - o1) < NS / 20, "realtime_minus_monotonic_is_steady", "%lld ns", o2 - o1);
}

static void cpu_time(void)
{
    long long p0 = now(CLOCK_PROCESS_CPUTIME_ID), t0 = now(CLOCK_THREAD_CPUTIME_ID);
    long long w0 = now(CLOCK_MONOTONIC), p = p0;
    volatile unsigned long x = 0;
    while (p - p0 < 30000000 && now(CLOCK_MONOTONIC) - w0 < 10 * NS) {
        for (int i = 0; i < 100000; i++)
            x += (unsigned long)i;
        p = now(CLOCK_PROCESS_CPUTIME_ID);
    }
    long long t = now(CLOCK_THREAD_CPUTIME_ID), w = now(CLOCK_MONOTONIC) - w0;
    ut_note("computed %lu", (unsigned long)x);
    ut_check(p - p0 >= 30000000, "process_cputime_grows_while_computing", "%lld ns", p - p0);
    ut_check(t - t0 >= 20000000, "thread_cputime_grows_while_computing", "%lld ns", t - t0);
    ut_check(p - p0 <= w + 20000000, "cputime_not_faster_than_the_clock", "cpu %lld, wall %lld",
             p - p0, w);
    /* the CPU clock of this process and thread by pid (Linux's encoding) */
    clockid_t pc = (clockid_t)((~(unsigned)getpid()) << 3 | 2);
    clockid_t tc = (clockid_t)((~(unsigned)syscall(SYS_gettid)) << 3 | 6);
    struct timespec ts;
    ut_check(clock_gettime(pc, &ts) == 0, "cpu_clock_of_own_pid", "%s", strerror(errno));
    ut_check(clock_gettime(tc, &ts) == 0, "cpu_clock_of_own_tid", "%s", strerror(errno));
    clockid_t id;
    ut_check(clock_getcpuclockid(getpid(), &id) == 0 && id == pc, "clock_getcpuclockid_encoding",
             "%d vs %d", (int)id, (int)pc);
}

static void resolutions(void)
{
    static const clockid_t fine[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME,
                                      CLOCK_MONOTONIC_RAW, CLOCK_TAI };
    int ok = 1;
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        struct timespec r;
        ok &= clock_getres(fine[i], &r) == 0 && r.tv_sec == 0 && r.tv_nsec == 1;
    }
    ut_check(ok, "fine_clocks_resolution_1ns", "a clock differs");
    static const clockid_t coarse[] = { CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE,
                                        CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID };
    ok = 1;
    for (size_t i = 0; i < sizeof coarse / sizeof coarse[0]; i++) {
        struct timespec r;
        ok &= clock_getres(coarse[i], &r) == 0 && r.tv_sec == 0 && r.tv_nsec > 0 &&
              r.tv_nsec <= 10000000;
    }
    ut_check(ok, "coarse_and_cpu_resolution_at_most_10ms", "a clock differs");
    ut_check(syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL) == 0, "getres_null_pointer_ok",
             "%s", strerror(errno));
}

static void errors(void)
{
    struct kts k;
    static const int bad_ids[] = { 10, 12, 16, 100, 0x7fffffff };
    int ok = 1;
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        ok &= sys_err(syscall(SYS_clock_gettime, bad_ids[i], &k)) == -EINVAL;
        ok &= sys_err(syscall(SYS_clock_getres, bad_ids[i], &k)) == -EINVAL;
    }
    ut_check(ok, "unknown_clock_ids_einval", "an id was accepted");
    ut_check_errno("clock_gettime_bad_pointer_efault",
                   syscall(SYS_clock_gettime, CLOCK_REALTIME, (void *)8), EFAULT);
    ut_check_errno("clock_gettime_unknown_id_before_bad_pointer",
                   syscall(SYS_clock_gettime, 100, (void *)8), EINVAL);
    ut_check_errno("clock_getres_bad_pointer_efault",
                   syscall(SYS_clock_getres, CLOCK_MONOTONIC, (void *)8), EFAULT);
    ut_check_errno("gettimeofday_bad_pointer_efault", syscall(SYS_gettimeofday, (void *)8, NULL),
                   EFAULT);
    /* a CPU clock of a pid that does not exist (pid_max is at most 4M) */
    clockid_t gone = (clockid_t)((~(unsigned)0x7ffffff0) << 3 | 2);
    ut_check_errno("cpu_clock_of_missing_pid_einval", syscall(SYS_clock_gettime, gone, &k),
                   EINVAL);
    clockid_t fdclock = (clockid_t)((~(unsigned)1000) << 3 | 3);   /* a clock "fd" */
    ut_check_errno("fd_clock_of_unopened_fd_einval", syscall(SYS_clock_gettime, fdclock, &k),
                   EINVAL);
}

/* In a child that is no longer root: each setting call's errno, in order. */
static int settime_child(void *arg)
{
    int *out = arg, n = 0;
    if (setgid(65534) || setuid(65534))
        return 99;
    struct kts now_ts = { (long)time(NULL), 0 }, bad_ns = { (long)time(NULL), 1000000000 };
    struct ktv tv = { (long)time(NULL), 0 }, tv_big = { 1, 1000000 }, tv_neg = { 1, -1 };
    struct { int minuteswest, dsttime; } tz_far = { 16 * 60, 0 };
    out[n++] = (int)-sys_err(syscall(SYS_clock_settime, CLOCK_MONOTONIC, &now_ts));
    out[n++] = (int)-sys_err(syscall(SYS_clock_settime, CLOCK_MONOTONIC, (void *)8));
    out[n++] = (int)-sys_err(syscall(SYS_clock_settime, CLOCK_REALTIME, &bad_ns));
    out[n++] = (int)-sys_err(syscall(SYS_clock_settime, CLOCK_REALTIME, &now_ts));
    out[n++] = (int)-sys_err(syscall(SYS_clock_settime, CLOCK_REALTIME, (void *)8));
    out[n++] = (int)-sys_err(syscall(SYS_clock_settime, 100, &now_ts));
    out[n++] = (int)-sys_err(syscall(SYS_clock_settime, CLOCK_PROCESS_CPUTIME_ID, &now_ts));
    clockid_t own = (clockid_t)((~(unsigned)getpid()) << 3 | 2);
    out[n++] = (int)-sys_err(syscall(SYS_clock_settime, own, &now_ts));
    out[n++] = (int)-sys_err(syscall(SYS_settimeofday, &tv_big, NULL));
    out[n++] = (int)-sys_err(syscall(SYS_settimeofday, &tv_neg, NULL));
    out[n++] = (int)-sys_err(syscall(SYS_settimeofday, &tv, NULL));
    out[n++] = (int)-sys_err(syscall(SYS_settimeofday, NULL, &tz_far));
    out[n++] = (int)-sys_err(syscall(SYS_settimeofday, NULL, NULL));
    out[n++] = (int)-sys_err(syscall(SYS_settimeofday, (void *)8, NULL));
    return 0;
}

static void settime_not_root(void)
{
    static const struct {
        const char *name;
        int err;
    } want[] = {
        { "settime_monotonic_einval", EINVAL },
        { "settime_monotonic_bad_pointer_einval_first", EINVAL },
        { "settime_realtime_bad_nsec_einval_before_eperm", EINVAL },
        { "settime_realtime_not_root_eperm", EPERM },
        { "settime_realtime_bad_pointer_efault", EFAULT },
        { "settime_unknown_clock_einval", EINVAL },
        { "settime_process_cputime_einval", EINVAL },
        { "settime_cpu_clock_of_own_pid_eperm", EPERM },
        { "settimeofday_usec_1000000_einval", EINVAL },
        { "settimeofday_negative_usec_einval", EINVAL },
        { "settimeofday_not_root_eperm", EPERM },
        { "settimeofday_zone_not_root_eperm_before_range", EPERM },
        { "settimeofday_nothing_not_root_eperm", EPERM },
        { "settimeofday_bad_pointer_efault", EFAULT },
    };
    enum { N = sizeof want / sizeof want[0] };
    int *res = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (res == MAP_FAILED) {
        ut_check(0, "settime_shared_page", "mmap: %s", strerror(errno));
        return;
    }
    memset(res, 0xff, PAGE);
    int st = ut_run_child(settime_child, res);
    ut_check(ut_exited_with(st, 0), "settime_child_gave_up_root", "status %#x", st);
    for (int i = 0; i < N; i++)
        ut_check(res[i] == want[i].err, want[i].name, "%s", ut_errno_name(res[i]));
    munmap(res, PAGE);
}

/* As root, on mmk only: the host's clock is left alone. */
static void settime_root(void)
{
    if (!ut_on_mmk()) {
        const char *names[] = { "settimeofday_root_moves_the_wall_clock",
                                "settimeofday_root_leaves_monotonic",
                                "clock_settime_back", "settime_before_boot_einval",
                                "settimeofday_zone_reported", "settimeofday_zone_range_einval" };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            ut_skip(names[i], "the host's clock is not touched");
        return;
    }
    struct timespec r0, m0, r1, m1;
    clock_gettime(CLOCK_REALTIME, &r0);
    clock_gettime(CLOCK_MONOTONIC, &m0);
    struct ktv tv = { (long)r0.tv_sec + 1000, 0 };
    long e = sys_err(syscall(SYS_settimeofday, &tv, NULL));
    clock_gettime(CLOCK_REALTIME, &r1);
    clock_gettime(CLOCK_MONOTONIC, &m1);
    long long jump = (long long)r1.tv_sec - r0.tv_sec;
    ut_check(e == 0 && jump >= 999 && jump <= 1002, "settimeofday_root_moves_the_wall_clock",
             "err %ld, %lld s", e, jump);
    ut_check(m1.tv_sec - m0.tv_sec <= 2, "settimeofday_root_leaves_monotonic", "%lld s",
             (long long)(m1.tv_sec - m0.tv_sec));
    struct kts back = { (long)r1.tv_sec - 1000, r1.tv_nsec };
    e = sys_err(syscall(SYS_clock_settime, CLOCK_REALTIME, &back));
    clock_gettime(CLOCK_REALTIME, &r1);
    ut_check(e == 0 && llabs((long long)r1.tv_sec - r0.tv_sec) <= 2, "clock_settime_back",
             "err %ld", e);
    struct kts early = { 0, 0 };
    ut_check_errno("settime_before_boot_einval",
                   syscall(SYS_clock_settime, CLOCK_REALTIME, &early), EINVAL);
    struct { int minuteswest, dsttime; } tz = { 60, 0 }, got = { 0, 0 }, far = { 901, 0 };
    struct ktv tv2;
    e = sys_err(syscall(SYS_settimeofday, NULL, &tz));
    syscall(SYS_gettimeofday, &tv2, &got);
    ut_check(e == 0 && got.minuteswest == 60, "settimeofday_zone_reported", "err %ld, %d", e,
             got.minuteswest);
    ut_check_errno("settimeofday_zone_range_einval", syscall(SYS_settimeofday, NULL, &far),
                   EINVAL);
    tz.minuteswest = 0;
    syscall(SYS_settimeofday, NULL, &tz);
}

/* ---- the vDSO -------------------------------------------------------------------------- */

struct vdso {
    uintptr_t base;            /* load bias: the ELF header's address less its vaddr 0 */
    const Sym *syms;
    const char *strs;
    const uint32_t *hash;
    const uint16_t *versym;
    const Verdef *verdef;
};

static int vdso_open(struct vdso *v, uintptr_t ehdr)
{
    const Ehdr *eh = (const Ehdr *)ehdr;
    memset(v, 0, sizeof *v);
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != CLASS ||
        eh->e_type != ET_DYN)
        return -1;
    const Phdr *ph = (const Phdr *)(ehdr + eh->e_phoff);
    const Dyn *dyn = NULL;
    v->base = (uintptr_t)-1;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && v->base == (uintptr_t)-1)
            v->base = ehdr + ph[i].p_offset - ph[i].p_vaddr;
        else if (ph[i].p_type == PT_DYNAMIC)
            dyn = (const Dyn *)(ehdr + ph[i].p_offset);
    }
    if (!dyn || v->base == (uintptr_t)-1)
        return -1;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        uintptr_t p = v->base + dyn->d_un.d_ptr;
        switch (dyn->d_tag) {
        case DT_SYMTAB: v->syms = (const Sym *)p; break;
        case DT_STRTAB: v->strs = (const char *)p; break;
        case DT_HASH: v->hash = (const uint32_t *)p; break;
        case DT_VERSYM: v->versym = (const uint16_t *)p; break;
        case DT_VERDEF: v->verdef = (const Verdef *)p; break;
        }
    }
    return v->syms && v->strs && v->hash ? 0 : -1;
}

/* The version name of symbol i, or NULL. */
static const char *vdso_version(const struct vdso *v, unsigned i)
{
    if (!v->versym || !v->verdef)
        return NULL;
    unsigned want = v->versym[i] & 0x7fff;
    for (const Verdef *d = v->verdef;; d = (const Verdef *)((const char *)d + d->vd_next)) {
        if (!(d->vd_flags & VER_FLG_BASE) && (d->vd_ndx & 0x7fff) == want) {
            const Verdaux *a = (const Verdaux *)((const char *)d + d->vd_aux);
            return v->strs + a->vda_name;
        }
        if (!d->vd_next)
            return NULL;
    }
}

/* The address of a defined function symbol name@version, or 0. */
static uintptr_t vdso_sym(const struct vdso *v, const char *name, const char *version)
{
    unsigned nsyms = v->hash[1];   /* DT_HASH: nbucket, nchain = the symbol count */
    for (unsigned i = 0; i < nsyms; i++) {
        const Sym *s = &v->syms[i];
        if (s->st_shndx == SHN_UNDEF || strcmp(v->strs + s->st_name, name))
            continue;
        const char *ver = vdso_version(v, i);
        if (ver && !strcmp(ver, version))
            return v->base + s->st_value;
    }
    return 0;
}

/* The [vdso] line of /proc/self/maps: its start, and its end in *end. */
static uintptr_t maps_vdso(uintptr_t *end)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    uintptr_t start = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long s, e;
        if (strstr(line, "[vdso]") && sscanf(line, "%lx-%lx", &s, &e) == 2) {
            start = s;
            if (end)
                *end = e;
        }
    }
    if (f)
        fclose(f);
    return start;
}

static int unmap_and_read_clock(void *arg)
{
    (void)arg;
    uintptr_t end = 0, start = maps_vdso(&end);
    struct timespec t;
    /* (on i386 the C library's system calls enter through the vDSO too,
     * so munmap itself cannot return) */
    if (start)
        munmap((void *)start, end - start);
    clock_gettime(CLOCK_MONOTONIC, &t);
    return 0;
}

typedef int (*cgt_fn)(clockid_t, struct timespec *);
typedef int (*gtod_fn)(struct timeval *, void *);
typedef long (*time_fn)(long *);
typedef int (*getcpu_fn)(unsigned *, unsigned *, void *);

static void vdso(void)
{
    uintptr_t eh = getauxval(AT_SYSINFO_EHDR);
    ut_check(eh != 0, "auxv_has_sysinfo_ehdr", "no AT_SYSINFO_EHDR");
    if (!eh)
        return;
    ut_check(eh % PAGE == 0, "vdso_page_aligned", "%#lx", (unsigned long)eh);
    ut_check(maps_vdso(NULL) == eh, "maps_names_vdso_at_sysinfo_ehdr", "[vdso] at %#lx",
             (unsigned long)maps_vdso(NULL));
    struct vdso v;
    int ok = vdso_open(&v, eh) == 0;
    ut_check(ok, "vdso_is_a_shared_object_with_hash", "not an ELF shared object of our class");
    if (!ok)
        return;
    cgt_fn cgt = (cgt_fn)vdso_sym(&v, "__vdso_clock_gettime", "LINUX_2.6");
    gtod_fn gtod = (gtod_fn)vdso_sym(&v, "__vdso_gettimeofday", "LINUX_2.6");
    time_fn tm = (time_fn)vdso_sym(&v, "__vdso_time", "LINUX_2.6");
    getcpu_fn gc = (getcpu_fn)vdso_sym(&v, "__vdso_getcpu", "LINUX_2.6");
    ut_check(cgt != 0, "vdso_has_clock_gettime", "missing");
    ut_check(gtod != 0, "vdso_has_gettimeofday", "missing");
    ut_check(tm != 0, "vdso_has_time", "missing");
    ut_check(gc != 0, "vdso_has_getcpu", "missing");
    ut_check(vdso_sym(&v, "__vdso_clock_gettime", "LINUX_2.5") == 0,
             "vdso_clock_gettime_not_at_another_version", "found");
#if IS64
    if (cgt) {
        struct timespec a, b;
        int r = cgt(CLOCK_REALTIME, &a);
        clock_gettime(CLOCK_REALTIME, &b);
        ut_check(r == 0 && llabs(ts_ns(&b) - ts_ns(&a)) < NS, "vdso_clock_gettime_realtime",
                 "r %d", r);
        r = cgt(CLOCK_MONOTONIC, &a);
        clock_gettime(CLOCK_MONOTONIC, &b);
        ut_check(r == 0 && ts_ns(&b) >= ts_ns(&a) && ts_ns(&b) - ts_ns(&a) < NS,
                 "vdso_clock_gettime_monotonic", "r %d", r);
        ut_check(cgt(100, &a) == -EINVAL, "vdso_clock_gettime_einval", "accepted");
    }
    if (gtod) {
        struct timeval tv;
        int r = gtod(&tv, NULL);
        long long d = (long long)tv.tv_sec - time(NULL);
        ut_check(r == 0 && d >= -2 && d <= 0, "vdso_gettimeofday_agrees", "r %d, %lld", r, d);
    }
#else
    /* i386: the old 32-bit timespec, the 64-bit one, and the syscall entry */
    if (cgt) {
        struct kts a;
        int r = cgt(CLOCK_REALTIME, (struct timespec *)&a);
        long long d = (long long)a.sec - time(NULL);
        ut_check(r == 0 && d >= -2 && d <= 0, "vdso_clock_gettime_realtime", "r %d", r);
        ut_check(cgt(100, (struct timespec *)&a) == -EINVAL, "vdso_clock_gettime_einval",
                 "accepted");
    }
    cgt_fn cgt64 = (cgt_fn)vdso_sym(&v, "__vdso_clock_gettime64", "LINUX_2.6");
    ut_check(cgt64 != 0, "vdso_has_clock_gettime64", "missing");
    if (cgt64) {
        long long a[2];
        int r = cgt64(CLOCK_MONOTONIC, (struct timespec *)a);
        long long b = now(CLOCK_MONOTONIC);
        ut_check(r == 0 && b >= a[0] * NS + a[1] && b - (a[0] * NS + a[1]) < NS,
                 "vdso_clock_gettime64_monotonic", "r %d", r);
    }
    if (gtod) {
        struct ktv tv;
        int r = gtod((struct timeval *)&tv, NULL);
        long long d = (long long)tv.sec - time(NULL);
        ut_check(r == 0 && d >= -2 && d <= 0, "vdso_gettimeofday_agrees", "r %d, %lld", r, d);
    }
    uintptr_t vsys = vdso_sym(&v, "__kernel_vsyscall", "LINUX_2.5");
    ut_check(vsys != 0 && vsys == getauxval(AT_SYSINFO), "at_sysinfo_is_kernel_vsyscall",
             "%#lx vs %#lx", (unsigned long)vsys, (unsigned long)getauxval(AT_SYSINFO));
    if (vsys) {
        long pid;
        __asm__ volatile("call *%1" : "=a"(pid) : "r"(vsys), "a"(SYS_getpid) : "memory");
        ut_check(pid == getpid(), "kernel_vsyscall_makes_system_calls", "%ld", pid);
    }
#endif
    if (tm) {
        long stored = 0, t = tm(&stored);
        long long d = (long long)t - time(NULL);
        ut_check(t == stored && d >= -2 && d <= 0, "vdso_time_agrees", "%lld", d);
    }
    if (gc) {
        unsigned cpu = ~0u, node = ~0u;
        int r = gc(&cpu, &node, NULL);
        ut_check(r == 0 && cpu < 4096 && node < 1024, "vdso_getcpu_fills_cpu_and_node", "r %d",
                 r);
    }
    int st = ut_run_child(unmap_and_read_clock, NULL);
    ut_check(ut_killed_by(st, SIGSEGV), "libc_calls_into_the_vdso",
             "a child without its vDSO: %#x", st);
}

int main(void)
{
    ut_init();
    wall_clock();
    forward();
    cpu_time();
    resolutions();
    errors();
    settime_not_root();
    settime_root();
    vdso();
    return ut_done();
}
