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
    NR_SYSCALLS = 335
};

/* struct rusage of x86-64 Linux (getrusage, wait4). */
struct rusage {
    struct { int64_t tv_sec, tv_usec; } ru_utime, ru_stime;
    int64_t ru_maxrss, ru_ixrss, ru_idrss, ru_isrss, ru_minflt, ru_majflt, ru_nswap,
        ru_inblock, ru_oublock, ru_msgsnd, ru_msgrcv, ru_nsignals, ru_nvcsw, ru_nivcsw;
};

/*
 * The work behind some handlers, for the i386 ones (compat32/) that only
 * translate structures around it.  kernel/proc/sys_proc.c:
 *  - do_rt_sigaction: the act/oldact structures are `size` bytes;
 *  - nanosleep_for: sleep sec s + nsec ns (-EINVAL when out of range);
 *  - now_ns: nanoseconds since boot (every clock reads it);
 *  - rusage_fill: getrusage's numbers for who (-EINVAL).
 * kernel/proc/exit.c, do_wait4: the rusage written is rusage_size zero bytes.
 */
long do_rt_sigaction(int sig, uint64_t act, uint64_t oldact, uint64_t sigsetsize, size_t size);
long nanosleep_for(int64_t sec, int64_t nsec);
uint64_t now_ns(void);
int rusage_fill(int who, struct rusage *r);
long do_wait4(int pid, uint64_t ustatus, int options, uint64_t urusage, size_t rusage_size);

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

#endif
