/*
 * The i386 system-call table: `int 0x80` from a 32-bit program.
 *
 * The gate (kernel/cpu/idt.c, vector 0x80, DPL 3) goes through the same stub
 * and trap frame as every interrupt (kernel/cpu/isr.S); trap_dispatch sends
 * vector 0x80 from user mode here.  Linux's i386 convention: the number
 * in EAX, up to six arguments in EBX, ECX, EDX, ESI, EDI, EBP, the result
 * in EAX.  Each argument is ZERO-extended: a 32-bit pointer 0xfffff000
 * stays 0x00000000fffff000, above the process's va_end (0xffc00000), so
 * the user-copy helpers refuse it with -EFAULT; a handler that takes a
 * signed number casts it to int, which gives back the sign.
 *
 * Where i386 and x86-64 agree on the structures (and on the meaning of
 * the zero-extended arguments), the entry is the 64-bit handler itself.
 * The others are in compat32/sys32.c and compat32/sys32_file.c, which
 * translate the structures and call the same work (docs/compat32-abi.md
 * lists them and says why).  Numbers from Linux's syscall_32.tbl.
 *
 * A 64-bit program may use `int 0x80` too; it gets this table, with its
 * arguments cut to 32 bits, as on Linux.
 *
 * Invariant: a handler never sees an argument above 2^32 - 1 (each is
 * zero-extended from its 32-bit register), and every number without an
 * entry returns -ENOSYS, logged once.
 */
#include <compat32/compat32.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/syscall.h>
#include <kernel/task.h>

/* compat32/sys32.c */
long sys32_execve(const struct sysargs *a);
long sys32_waitpid(const struct sysargs *a);
long sys32_wait4(const struct sysargs *a);
long sys32_getrusage(const struct sysargs *a);
long sys32_nanosleep(const struct sysargs *a);
long sys32_clock_gettime(const struct sysargs *a);
long sys32_rt_sigaction(const struct sysargs *a);
long sys32_mmap2(const struct sysargs *a);
long sys32_old_mmap(const struct sysargs *a);
/* compat32/sys32_file.c */
long sys32_lseek(const struct sysargs *a);
long sys32_llseek(const struct sysargs *a);
long sys32_readv(const struct sysargs *a);
long sys32_writev(const struct sysargs *a);
long sys32_pread64(const struct sysargs *a);
long sys32_stat64(const struct sysargs *a);
long sys32_fstat64(const struct sysargs *a);
long sys32_fstatat64(const struct sysargs *a);
/* compat32/tls32.c */
long sys32_set_thread_area(const struct sysargs *a);
long sys32_get_thread_area(const struct sysargs *a);

#define NR32_SYSCALLS 440

/* A name without a handler: known to Linux, -ENOSYS here (named in the log). */
static const struct {
    const char *name;
    syscall_fn fn;
} table32[NR32_SYSCALLS] = {
    [1] = { "exit", sys_exit },
    [2] = { "fork", sys_fork },
    [3] = { "read", sys_read },
    [4] = { "write", sys_write },
    [5] = { "open", sys_open },
    [6] = { "close", sys_close },
    [7] = { "waitpid", sys32_waitpid },
    [11] = { "execve", sys32_execve },
    [13] = { "time", NULL },
    [19] = { "lseek", sys32_lseek },
    [20] = { "getpid", sys_getpid },
    [24] = { "getuid", sys_getuid },
    [29] = { "pause", NULL },
    [33] = { "access", sys_access },
    [37] = { "kill", sys_kill },
    [41] = { "dup", sys_dup },
    [42] = { "pipe", sys_pipe },
    [45] = { "brk", sys_brk },
    [47] = { "getgid", sys_getuid },
    [49] = { "geteuid", sys_getuid },
    [50] = { "getegid", sys_getuid },
    [54] = { "ioctl", sys_ioctl },
    [55] = { "fcntl", sys_fcntl },
    [63] = { "dup2", sys_dup2 },
    [64] = { "getppid", sys_getppid },
    [75] = { "setrlimit", NULL },
    [76] = { "getrlimit", NULL },
    [77] = { "getrusage", sys32_getrusage },
    [78] = { "gettimeofday", NULL },
    [82] = { "select", NULL },
    [90] = { "mmap", sys32_old_mmap },
    [91] = { "munmap", sys_munmap },
    [114] = { "wait4", sys32_wait4 },
    [119] = { "sigreturn", NULL },
    [120] = { "clone", NULL },
    [122] = { "uname", sys_uname },   /* struct new_utsname: the same on both */
    [125] = { "mprotect", sys_mprotect },
    [140] = { "_llseek", sys32_llseek },
    [142] = { "_newselect", NULL },
    [144] = { "msync", NULL },
    [145] = { "readv", sys32_readv },
    [146] = { "writev", sys32_writev },
    [158] = { "sched_yield", sys_sched_yield },
    [162] = { "nanosleep", sys32_nanosleep },
    [163] = { "mremap", NULL },
    [168] = { "poll", NULL },
    [173] = { "rt_sigreturn", NULL },
    [174] = { "rt_sigaction", sys32_rt_sigaction },
    [175] = { "rt_sigprocmask", sys_rt_sigprocmask },   /* sigset_t: 8 bytes on both */
    [180] = { "pread64", sys32_pread64 },
    [181] = { "pwrite64", NULL },
    [183] = { "getcwd", sys_getcwd },
    [190] = { "vfork", sys_fork },
    [191] = { "ugetrlimit", NULL },
    [192] = { "mmap2", sys32_mmap2 },
    [195] = { "stat64", sys32_stat64 },
    [196] = { "lstat64", sys32_stat64 },   /* no symbolic links exist */
    [197] = { "fstat64", sys32_fstat64 },
    [199] = { "getuid32", sys_getuid },
    [200] = { "getgid32", sys_getuid },
    [201] = { "geteuid32", sys_getuid },
    [202] = { "getegid32", sys_getuid },
    [218] = { "mincore", sys_mincore },
    [219] = { "madvise", sys_madvise },
    [221] = { "fcntl64", sys_fcntl },   /* the commands we know take no structure */
    [224] = { "gettid", sys_gettid },
    [243] = { "set_thread_area", sys32_set_thread_area },
    [244] = { "get_thread_area", sys32_get_thread_area },
    [252] = { "exit_group", sys_exit_group },
    [258] = { "set_tid_address", sys_set_tid_address },
    [265] = { "clock_gettime", sys32_clock_gettime },
    [266] = { "clock_getres", NULL },
    [267] = { "clock_nanosleep", NULL },
    [295] = { "openat", sys_openat },
    [300] = { "fstatat64", sys32_fstatat64 },
    [330] = { "dup3", sys_dup3 },
    [331] = { "pipe2", sys_pipe2 },
    [340] = { "prlimit64", sys_prlimit64 },   /* struct rlimit64: the same on both */
    [355] = { "getrandom", sys_getrandom },
    [383] = { "statx", NULL },
    [384] = { "arch_prctl", NULL },
    [403] = { "clock_gettime64", sys_clock_gettime },   /* 64-bit time: x86-64's timespec */
    [407] = { "clock_nanosleep_time64", NULL },
};

/* One bit per number: has its -ENOSYS been logged? */
static uint64_t reported32[(NR32_SYSCALLS + 63) / 64];
static uint64_t reported32_high;

static long enosys32(uint32_t nr)
{
    if (nr < NR32_SYSCALLS) {
        if (!(reported32[nr / 64] & (1ul << (nr % 64)))) {
            reported32[nr / 64] |= 1ul << (nr % 64);
            printk("syscall32: %s (%u) is not implemented: -ENOSYS (pid %d, %s)\n",
                   table32[nr].name ? table32[nr].name : "unknown", nr, current->pid,
                   current->name);
        }
    } else if (!reported32_high++) {
        printk("syscall32: number %u is beyond Linux's i386 table: -ENOSYS (pid %d, %s)\n", nr,
               current->pid, current->name);
    }
    return -ENOSYS;
}

void syscall32_dispatch(struct trap_frame *f)
{
    uint32_t nr = (uint32_t)f->rax;
    struct sysargs a = { { (uint32_t)f->rbx, (uint32_t)f->rcx, (uint32_t)f->rdx,
                           (uint32_t)f->rsi, (uint32_t)f->rdi, (uint32_t)f->rbp } };
    long r = nr < NR32_SYSCALLS && table32[nr].fn ? table32[nr].fn(&a) : enosys32(nr);
    /* A 32-bit program reads EAX; a 64-bit caller of int 0x80 gets the
     * sign-extended value, as on Linux. */
    f->rax = (uint64_t)r;
}
