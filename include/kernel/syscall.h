/*
 * System calls: Linux's x86-64 numbers and calling convention
 * (kernel/proc/syscall.c).  The number is in RAX, the arguments in RDI, RSI,
 * RDX, R10, R8, R9; the result goes back in RAX, a negative errno on
 * failure.  Each handler gets the six raw arguments and names the ones
 * it uses:
 *
 *   long sys_close(const struct sysargs *a)
 *   {
 *       int fd = (int)a->arg[0];
 *       ...
 *   }
 */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

#include <kernel/cpu.h>

struct sysargs {
    uint64_t arg[6];
};

typedef long (*syscall_fn)(const struct sysargs *a);

/* Program the syscall MSRs (STAR, LSTAR, SFMASK, EFER.SCE). */
void syscall_init(void);
/* Run the system call described by a trap frame, result in f->rax. */
void syscall_dispatch(struct trap_frame *f);

/* Linux x86-64 system-call numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
enum {
    NR_read = 0, NR_write = 1, NR_open = 2, NR_close = 3, NR_stat = 4, NR_fstat = 5,
    NR_lstat = 6, NR_poll = 7, NR_lseek = 8, NR_mmap = 9, NR_mprotect = 10, NR_munmap = 11,
    NR_brk = 12, NR_rt_sigaction = 13, NR_rt_sigprocmask = 14, NR_rt_sigreturn = 15,
    NR_ioctl = 16, NR_pread64 = 17, NR_pwrite64 = 18, NR_readv = 19, NR_writev = 20,
    NR_access = 21, NR_pipe = 22, NR_select = 23, NR_sched_yield = 24, NR_mremap = 25,
    NR_msync = 26, NR_mincore = 27, NR_madvise = 28, NR_dup = 32, NR_dup2 = 33,
    NR_pause = 34, NR_nanosleep = 35, NR_getpid = 39, NR_clone = 56, NR_fork = 57,
    NR_vfork = 58, NR_execve = 59, NR_exit = 60, NR_wait4 = 61, NR_kill = 62,
    NR_uname = 63, NR_fcntl = 72, NR_getcwd = 79, NR_getrusage = 98, NR_getuid = 102,
    NR_getgid = 104, NR_geteuid = 107, NR_getegid = 108, NR_getppid = 110,
    NR_arch_prctl = 158, NR_gettid = 186, NR_time = 201, NR_set_tid_address = 218,
    NR_clock_gettime = 228, NR_clock_nanosleep = 230, NR_exit_group = 231,
    NR_openat = 257, NR_newfstatat = 262, NR_dup3 = 292, NR_pipe2 = 293, NR_prlimit64 = 302,
    NR_getrandom = 318,
    /* kernel/proc/fork.c, kernel/fs/poll.c, kernel/proc/sys_*.c ("sys"): */
    NR_sendfile = 40, NR_gettimeofday = 96, NR_getrlimit = 97, NR_sysinfo = 99, NR_reboot = 169,
    NR_setuid = 105, NR_setgid = 106, NR_setreuid = 113, NR_setregid = 114,
    NR_getgroups = 115, NR_setgroups = 116, NR_setresuid = 117, NR_getresuid = 118,
    NR_setresgid = 119, NR_getresgid = 120, NR_setfsuid = 122, NR_setfsgid = 123,
    NR_prctl = 157, NR_setrlimit = 160, NR_futex = 202, NR_sched_getaffinity = 204,
    NR_pselect6 = 270, NR_ppoll = 271, NR_set_robust_list = 273, NR_get_robust_list = 274,
    NR_rseq = 334, NR_clone3 = 435,
    /* kernel/proc/session.c ("tty"): */
    NR_setpgid = 109, NR_getpgrp = 111, NR_setsid = 112, NR_getpgid = 121, NR_getsid = 124,
    /* kernel/proc/sig_*.c ("sig"): */
    NR_rt_sigpending = 127, NR_rt_sigtimedwait = 128, NR_rt_sigsuspend = 130,
    NR_sigaltstack = 131, NR_tkill = 200, NR_restart_syscall = 219, NR_tgkill = 234,
    /* kernel/fs/sys_namei.c, sys_attr.c, sys_dir.c ("fs"): */
    NR_fsync = 74, NR_fdatasync = 75, NR_truncate = 76, NR_ftruncate = 77, NR_getdents = 78,
    NR_chdir = 80, NR_fchdir = 81, NR_rename = 82, NR_mkdir = 83, NR_rmdir = 84,
    NR_creat = 85, NR_link = 86, NR_unlink = 87, NR_symlink = 88, NR_readlink = 89,
    NR_chmod = 90, NR_fchmod = 91, NR_chown = 92, NR_fchown = 93, NR_lchown = 94,
    NR_umask = 95, NR_utime = 132, NR_mknod = 133, NR_statfs = 137, NR_fstatfs = 138,
    NR_sync = 162, NR_getdents64 = 217, NR_utimes = 235, NR_mkdirat = 258, NR_mknodat = 259,
    NR_fchownat = 260, NR_futimesat = 261, NR_unlinkat = 263, NR_renameat = 264,
    NR_linkat = 265, NR_symlinkat = 266, NR_readlinkat = 267, NR_fchmodat = 268,
    NR_faccessat = 269, NR_utimensat = 280, NR_syncfs = 306, NR_renameat2 = 316,
    NR_statx = 332, NR_faccessat2 = 439,
    /* kernel/proc/sys_time.c, kernel/proc/sys_mm.c ("time+mm"): */
    NR_swapon = 167, NR_swapoff = 168,
    /* mm/mempolicy_sys.c, mm/mempolicy_move.c (docs/mempolicy.md): */
    NR_mbind = 237, NR_set_mempolicy = 238, NR_get_mempolicy = 239, NR_migrate_pages = 256,
    NR_move_pages = 279,
    NR_settimeofday = 164, NR_clock_settime = 227, NR_clock_getres = 229, NR_getcpu = 309,
    /* 0..334 and 424..469: the names of kernel/proc/syscall_names.c */
    NR_SYSCALLS = 470
};

/* Linux's name of x86-64 call nr, or NULL for a number Linux does not use
 * (kernel/proc/syscall_names.c). */
const char *syscall_name(uint64_t nr);

/* struct rusage of x86-64 Linux (getrusage, wait4). */
struct rusage {
    struct { int64_t tv_sec, tv_usec; } ru_utime, ru_stime;
    int64_t ru_maxrss, ru_ixrss, ru_idrss, ru_isrss, ru_minflt, ru_majflt, ru_nswap,
        ru_inblock, ru_oublock, ru_msgsnd, ru_msgrcv, ru_nsignals, ru_nvcsw, ru_nivcsw;
};

/*
 * The work behind some handlers, for the i386 ones (compat32/) that only
 * translate structures around it.  kernel/proc/sig_wait.c:
 *  - nanosleep_for: sleep sec s + nsec ns (-EINVAL when out of range);
 *    when a signal interrupts it, the time left goes to urem (an i386
 *    struct timespec if rem32) unless urem is 0.
 * kernel/proc/timekeeping.c (include/kernel/time.h has the other clocks):
 *  - now_ns: nanoseconds since boot (MONOTONIC; sleeps and timeouts).
 * kernel/proc/sys_proc.c:
 *  - rusage_fill: getrusage's numbers for who (-EINVAL).
 * kernel/proc/exit.c, do_wait4: the rusage written is rusage_size zero bytes.
 */
long nanosleep_for(int64_t sec, int64_t nsec, uint64_t urem, bool rem32);
uint64_t now_ns(void);
int rusage_fill(int who, struct rusage *r);
long do_wait4(int pid, uint64_t ustatus, int options, uint64_t urusage, size_t rusage_size);
/* kernel/proc/fork.c: clone with its arguments in x86-64's order; tls_desc:
 * the TLS argument is an i386 struct user_desc (an i386 system call). */
long do_clone(uint64_t flags, uint64_t newsp, uint64_t ptid, uint64_t ctid, uint64_t tls,
              bool tls_desc);

/* Handlers, by file. */
/* kernel/fs/sys_file.c (files, pipes, /proc, the console) */
long sys_read(const struct sysargs *a);
long sys_write(const struct sysargs *a);
long sys_readv(const struct sysargs *a);
long sys_writev(const struct sysargs *a);
long sys_open(const struct sysargs *a);
long sys_openat(const struct sysargs *a);
long sys_close(const struct sysargs *a);
long sys_lseek(const struct sysargs *a);
long sys_fstat(const struct sysargs *a);
long sys_newfstatat(const struct sysargs *a);
long sys_stat(const struct sysargs *a);
long sys_pipe(const struct sysargs *a);
long sys_pipe2(const struct sysargs *a);
long sys_dup(const struct sysargs *a);
long sys_dup2(const struct sysargs *a);
long sys_ioctl(const struct sysargs *a);
long sys_fcntl(const struct sysargs *a);
long sys_access(const struct sysargs *a);
long sys_pread64(const struct sysargs *a);
long sys_getcwd(const struct sysargs *a);
long sys_dup3(const struct sysargs *a);
long sys_lstat(const struct sysargs *a);
long sys_pwrite64(const struct sysargs *a);
long sys_creat(const struct sysargs *a);
long sys_faccessat(const struct sysargs *a);
long sys_faccessat2(const struct sysargs *a);
/* kernel/fs/sys_namei.c, sys_attr.c, sys_dir.c (names, attributes, directories) */
long sys_mkdir(const struct sysargs *a);
long sys_mkdirat(const struct sysargs *a);
long sys_mknod(const struct sysargs *a);
long sys_mknodat(const struct sysargs *a);
long sys_rmdir(const struct sysargs *a);
long sys_unlink(const struct sysargs *a);
long sys_unlinkat(const struct sysargs *a);
long sys_rename(const struct sysargs *a);
long sys_renameat(const struct sysargs *a);
long sys_renameat2(const struct sysargs *a);
long sys_link(const struct sysargs *a);
long sys_linkat(const struct sysargs *a);
long sys_symlink(const struct sysargs *a);
long sys_symlinkat(const struct sysargs *a);
long sys_readlink(const struct sysargs *a);
long sys_readlinkat(const struct sysargs *a);
long sys_chmod(const struct sysargs *a);
long sys_fchmod(const struct sysargs *a);
long sys_fchmodat(const struct sysargs *a);
long sys_chown(const struct sysargs *a);
long sys_fchown(const struct sysargs *a);
long sys_lchown(const struct sysargs *a);
long sys_fchownat(const struct sysargs *a);
long sys_umask(const struct sysargs *a);
long sys_truncate(const struct sysargs *a);
long sys_ftruncate(const struct sysargs *a);
long sys_utimensat(const struct sysargs *a);
long sys_utimes(const struct sysargs *a);
long sys_futimesat(const struct sysargs *a);
long sys_utime(const struct sysargs *a);
long sys_statx(const struct sysargs *a);
long sys_statfs(const struct sysargs *a);
long sys_fstatfs(const struct sysargs *a);
long sys_fsync(const struct sysargs *a);
long sys_sync(const struct sysargs *a);
long sys_syncfs(const struct sysargs *a);
long sys_getdents(const struct sysargs *a);
long sys_getdents64(const struct sysargs *a);
long sys_chdir(const struct sysargs *a);
long sys_fchdir(const struct sysargs *a);

/* Processes, time and memory (kernel/proc/sys_proc.c, sys_mm.c, exit.c, fork.c,
 * exec.c): the 64-bit table's handlers, which compat32's table also uses
 * where the i386 call has the same arguments. */
long sys_exit(const struct sysargs *a);
long sys_exit_group(const struct sysargs *a);
long sys_getpid(const struct sysargs *a);
long sys_getppid(const struct sysargs *a);
long sys_gettid(const struct sysargs *a);
long sys_getuid(const struct sysargs *a);
long sys_sched_yield(const struct sysargs *a);
long sys_fork(const struct sysargs *a);
long sys_vfork(const struct sysargs *a);
long sys_clone(const struct sysargs *a);
long sys_execve(const struct sysargs *a);
long sys_wait4(const struct sysargs *a);
long sys_kill(const struct sysargs *a);
long sys_uname(const struct sysargs *a);
long sys_arch_prctl(const struct sysargs *a);
long sys_set_tid_address(const struct sysargs *a);
long sys_rt_sigaction(const struct sysargs *a);
long sys_rt_sigprocmask(const struct sysargs *a);
long sys_nanosleep(const struct sysargs *a);
long sys_clock_gettime(const struct sysargs *a);
long sys_getrusage(const struct sysargs *a);
long sys_getrandom(const struct sysargs *a);
long sys_prlimit64(const struct sysargs *a);
long sys_brk(const struct sysargs *a);
long sys_mmap(const struct sysargs *a);
long sys_munmap(const struct sysargs *a);
long sys_mprotect(const struct sysargs *a);
long sys_madvise(const struct sysargs *a);
long sys_mincore(const struct sysargs *a);
long sys_mremap(const struct sysargs *a);
long sys_msync(const struct sysargs *a);
/* mm/mempolicy_sys.c, mm/mempolicy_move.c: NUMA policies (docs/mempolicy.md);
 * both ABIs (an i386 caller's longs and pointers are 4 bytes) */
long sys_set_mempolicy(const struct sysargs *a);
long sys_get_mempolicy(const struct sysargs *a);
long sys_mbind(const struct sysargs *a);
long sys_move_pages(const struct sysargs *a);
long sys_migrate_pages(const struct sysargs *a);
/* kernel/proc/sys_time.c (docs/time.md) */
long sys_clock_getres(const struct sysargs *a);
long sys_clock_settime(const struct sysargs *a);
long sys_settimeofday(const struct sysargs *a);
long sys_getcpu(const struct sysargs *a);

/* ---- clone's companions: ids, limits, poll, sendfile... ("sys", docs/syscalls.md) ---- */

struct task;
struct file;

/* struct rlimit64 (prlimit64; getrlimit/setrlimit on x86-64). */
struct rlimit64 {
    uint64_t cur, max;
};

/* struct sysinfo of x86-64 (112 bytes). */
struct sysinfo64 {
    int64_t uptime;
    uint64_t loads[3];
    uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
    uint16_t procs, pad;
    uint64_t totalhigh, freehigh;
    uint32_t mem_unit;
};
_Static_assert(sizeof(struct sysinfo64) == 112, "struct sysinfo: Linux x86-64 layout");

/* A record lock whatever the ABI's struct flock (kernel/fs/fcntl.c). */
struct kflock {
    int16_t type, whence;
    int64_t start, len;
    int32_t pid;
};

/* poll/select deadlines (now_ns() values): no wait at all, or none. */
#define POLL_NOWAIT  0ul
#define POLL_FOREVER UINT64_MAX

/* The work the i386 handlers (compat32/sys32_sys.c) share. */
long rlimit_do(int pid, unsigned resource, const struct rlimit64 *new, struct rlimit64 *old);
void sysinfo_fill(struct sysinfo64 *s);
/* sched_getaffinity with `word`-byte longs (8, or 4 for i386). */
long affinity_get(int pid, unsigned len, uint64_t umask, unsigned word);
long groups_get(int size, uint32_t *out);   /* the count, -EINVAL */
long groups_set(int size, const uint32_t *in);   /* -EPERM, -EINVAL, -ENOMEM */
void ids_exec(struct task *t);
long robust_set(uint64_t head, uint64_t len, uint64_t want);
long robust_get(int pid, uint64_t uhead, uint64_t ulen, uint64_t len, unsigned ptr_size);
/* futex: ts is {sec, nsec} (read only when futex_has_timeout(op)), or NULL;
 * val2 the count of the requeues and FUTEX_WAKE_OP (the timeout argument). */
bool futex_has_timeout(int op);
long do_futex(uint64_t uaddr, int op, uint32_t val, const int64_t *ts, uint32_t val2,
              uint64_t uaddr2, uint32_t val3);
/* A timeout of sec s + nsec ns from now: POLL_NOWAIT for zero, -EINVAL. */
long poll_deadline(int64_t sec, int64_t nsec, uint64_t *deadline);
void poll_time_left(uint64_t deadline, int64_t *sec, int64_t *nsec);
/* ppoll/pselect6's mask: 1 when set (0 for none, -EINVAL, -EFAULT);
 * poll_sigmask_restore(set, the call's result) puts the old one back. */
long poll_sigmask_set(uint64_t umask, uint64_t size);
void poll_sigmask_restore(long set, long ret);
long poll_do(uint64_t ufds, uint64_t nfds, uint64_t deadline);
long select_do(int n, uint64_t inp, uint64_t outp, uint64_t exp, uint64_t deadline,
               unsigned word);
long do_sendfile(int out_fd, int in_fd, int64_t *ppos, uint64_t count);
long fcntl_lock(struct file *f, unsigned cmd, struct kflock *l);
long fcntl_common(int fd, unsigned cmd, uint64_t arg);

/* kernel/proc/sys_ids.c */
long sys_geteuid(const struct sysargs *a);
long sys_getgid(const struct sysargs *a);
long sys_getegid(const struct sysargs *a);
long sys_setuid(const struct sysargs *a);
long sys_setgid(const struct sysargs *a);
long sys_setreuid(const struct sysargs *a);
long sys_setregid(const struct sysargs *a);
long sys_setresuid(const struct sysargs *a);
long sys_setresgid(const struct sysargs *a);
long sys_getresuid(const struct sysargs *a);
long sys_getresgid(const struct sysargs *a);
long sys_setfsuid(const struct sysargs *a);
long sys_setfsgid(const struct sysargs *a);
long sys_getgroups(const struct sysargs *a);
long sys_setgroups(const struct sysargs *a);
/* kernel/proc/sys_rlimit.c, sys_sysinfo.c, sys_time.c, sys_prctl.c, sys_futex.c */
long sys_getrlimit(const struct sysargs *a);
long sys_setrlimit(const struct sysargs *a);
long sys_sysinfo(const struct sysargs *a);
/* kernel/proc/sys_reboot.c: power off, halt, restart */
long sys_reboot(const struct sysargs *a);
long sys_sched_getaffinity(const struct sysargs *a);
long sys_gettimeofday(const struct sysargs *a);
long sys_time(const struct sysargs *a);
long sys_prctl(const struct sysargs *a);
long sys_set_robust_list(const struct sysargs *a);
long sys_get_robust_list(const struct sysargs *a);
long sys_futex(const struct sysargs *a);
/* kernel/fs/poll.c, sendfile.c, fcntl.c */
long sys_poll(const struct sysargs *a);
long sys_ppoll(const struct sysargs *a);
long sys_select(const struct sysargs *a);
long sys_pselect6(const struct sysargs *a);
long sys_sendfile(const struct sysargs *a);
long sys_fcntl_all(const struct sysargs *a);

#endif
