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
 * entry returns -ENOSYS, logged once with Linux's name for it
 * (compat32/syscall32_names.c).
 */
#include <compat32/compat32.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <compat32/signal32.h>
#include <kernel/session.h>
#include <mm/swap.h>

/* compat32/sys32.c */
long sys32_execve(const struct sysargs *a);
long sys32_waitpid(const struct sysargs *a);
long sys32_wait4(const struct sysargs *a);
long sys32_getrusage(const struct sysargs *a);
long sys32_nanosleep(const struct sysargs *a);
long sys32_clock_gettime(const struct sysargs *a);
long sys32_mmap2(const struct sysargs *a);
long sys32_old_mmap(const struct sysargs *a);
/* compat32/sys32_time.c */
long sys32_clock_getres(const struct sysargs *a);
long sys32_clock_settime(const struct sysargs *a);
long sys32_settimeofday(const struct sysargs *a);
long sys32_stime(const struct sysargs *a);
/* compat32/sys32_file.c */
long sys32_lseek(const struct sysargs *a);
long sys32_llseek(const struct sysargs *a);
long sys32_readv(const struct sysargs *a);
long sys32_writev(const struct sysargs *a);
long sys32_pread64(const struct sysargs *a);
long sys32_stat64(const struct sysargs *a);
long sys32_fstat64(const struct sysargs *a);
long sys32_fstatat64(const struct sysargs *a);
long sys32_lstat64(const struct sysargs *a);
/* compat32/sys32_fs.c */
long sys32_getdents(const struct sysargs *a);
long sys32_truncate(const struct sysargs *a);
long sys32_ftruncate(const struct sysargs *a);
long sys32_truncate64(const struct sysargs *a);
long sys32_ftruncate64(const struct sysargs *a);
long sys32_pwrite64(const struct sysargs *a);
long sys32_statfs(const struct sysargs *a);
long sys32_fstatfs(const struct sysargs *a);
long sys32_statfs64(const struct sysargs *a);
long sys32_fstatfs64(const struct sysargs *a);
long sys32_utimensat(const struct sysargs *a);
long sys32_utimes(const struct sysargs *a);
long sys32_futimesat(const struct sysargs *a);
long sys32_utime(const struct sysargs *a);
long sys32_chown16(const struct sysargs *a);
long sys32_lchown16(const struct sysargs *a);
long sys32_fchown16(const struct sysargs *a);
/* compat32/sys32_sys.c */
long sys32_clone(const struct sysargs *a);
long sys32_getuid16(const struct sysargs *a);
long sys32_geteuid16(const struct sysargs *a);
long sys32_getgid16(const struct sysargs *a);
long sys32_getegid16(const struct sysargs *a);
long sys32_setuid16(const struct sysargs *a);
long sys32_setgid16(const struct sysargs *a);
long sys32_setreuid16(const struct sysargs *a);
long sys32_setregid16(const struct sysargs *a);
long sys32_setresuid16(const struct sysargs *a);
long sys32_setresgid16(const struct sysargs *a);
long sys32_getresuid16(const struct sysargs *a);
long sys32_getresgid16(const struct sysargs *a);
long sys32_setfsuid16(const struct sysargs *a);
long sys32_setfsgid16(const struct sysargs *a);
long sys32_getgroups16(const struct sysargs *a);
long sys32_setgroups16(const struct sysargs *a);
long sys32_ugetrlimit(const struct sysargs *a);
long sys32_old_getrlimit(const struct sysargs *a);
long sys32_setrlimit(const struct sysargs *a);
long sys32_sysinfo(const struct sysargs *a);
long sys32_sched_getaffinity(const struct sysargs *a);
long sys32_time(const struct sysargs *a);
long sys32_gettimeofday(const struct sysargs *a);
long sys32_ppoll(const struct sysargs *a);
long sys32_ppoll_time64(const struct sysargs *a);
long sys32_newselect(const struct sysargs *a);
long sys32_old_select(const struct sysargs *a);
long sys32_pselect6(const struct sysargs *a);
long sys32_pselect6_time64(const struct sysargs *a);
long sys32_futex(const struct sysargs *a);
long sys32_set_robust_list(const struct sysargs *a);
long sys32_get_robust_list(const struct sysargs *a);
long sys32_sendfile(const struct sysargs *a);
long sys32_fcntl(const struct sysargs *a);
long sys32_fcntl64(const struct sysargs *a);
/* compat32/tls32.c */
long sys32_set_thread_area(const struct sysargs *a);
long sys32_get_thread_area(const struct sysargs *a);

/* NR32_SYSCALLS: include/compat32/compat32.h (with the name table) */

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
    [13] = { "time", sys32_time },
    [19] = { "lseek", sys32_lseek },
    [20] = { "getpid", sys_getpid },
    [24] = { "getuid", sys32_getuid16 },
    [0] = { "restart_syscall", sys_restart_syscall },
    [29] = { "pause", sys_pause },
    [33] = { "access", sys_access },
    [37] = { "kill", sys_kill },
    [48] = { "signal", sys32_signal },
    [67] = { "sigaction", sys32_sigaction },
    [72] = { "sigsuspend", sys32_sigsuspend },
    [73] = { "sigpending", sys32_sigpending },
    [41] = { "dup", sys_dup },
    [42] = { "pipe", sys_pipe },
    [45] = { "brk", sys_brk },
    [47] = { "getgid", sys32_getgid16 },
    [49] = { "geteuid", sys32_geteuid16 },
    [50] = { "getegid", sys32_getegid16 },
    [54] = { "ioctl", sys_ioctl },
    [55] = { "fcntl", sys32_fcntl },
    [63] = { "dup2", sys_dup2 },
    [64] = { "getppid", sys_getppid },
    [57] = { "setpgid", sys_setpgid },
    [65] = { "getpgrp", sys_getpgrp },
    [66] = { "setsid", sys_setsid },
    [132] = { "getpgid", sys_getpgid },
    [147] = { "getsid", sys_getsid },
    [75] = { "setrlimit", sys32_setrlimit },
    [76] = { "getrlimit", sys32_old_getrlimit },
    [77] = { "getrusage", sys32_getrusage },
    [78] = { "gettimeofday", sys32_gettimeofday },
    [82] = { "select", sys32_old_select },
    [90] = { "mmap", sys32_old_mmap },
    [91] = { "munmap", sys_munmap },
    [114] = { "wait4", sys32_wait4 },
    [119] = { "sigreturn", sys32_sigreturn },
    [126] = { "sigprocmask", sys32_sigprocmask },
    [120] = { "clone", sys32_clone },
    [122] = { "uname", sys_uname },   /* struct new_utsname: the same on both */
    [125] = { "mprotect", sys_mprotect },
    [140] = { "_llseek", sys32_llseek },
    [142] = { "_newselect", sys32_newselect },
    [144] = { "msync", sys_msync },
    [145] = { "readv", sys32_readv },
    [146] = { "writev", sys32_writev },
    [158] = { "sched_yield", sys_sched_yield },
    [162] = { "nanosleep", sys32_nanosleep },
    [163] = { "mremap", sys_mremap },   /* five zero-extended numbers: the same on both */
    [168] = { "poll", sys_poll },   /* struct pollfd: the same on both */
    [173] = { "rt_sigreturn", sys32_rt_sigreturn },
    [174] = { "rt_sigaction", sys32_rt_sigaction },
    [175] = { "rt_sigprocmask", sys_rt_sigprocmask },   /* sigset_t: 8 bytes on both */
    [176] = { "rt_sigpending", sys_rt_sigpending },
    [177] = { "rt_sigtimedwait", sys32_rt_sigtimedwait },
    [179] = { "rt_sigsuspend", sys_rt_sigsuspend },
    [186] = { "sigaltstack", sys32_sigaltstack },
    [180] = { "pread64", sys32_pread64 },
    [181] = { "pwrite64", sys32_pwrite64 },
    [183] = { "getcwd", sys_getcwd },
    [190] = { "vfork", sys_vfork },
    [191] = { "ugetrlimit", sys32_ugetrlimit },
    [192] = { "mmap2", sys32_mmap2 },
    [195] = { "stat64", sys32_stat64 },
    [196] = { "lstat64", sys32_lstat64 },
    [197] = { "fstat64", sys32_fstat64 },
    [199] = { "getuid32", sys_getuid },
    [200] = { "getgid32", sys_getgid },
    [201] = { "geteuid32", sys_geteuid },
    [202] = { "getegid32", sys_getegid },
    [218] = { "mincore", sys_mincore },
    [219] = { "madvise", sys_madvise },
    /* NUMA policies: the handlers read an i386 caller's 4-byte longs */
    [274] = { "mbind", sys_mbind },
    [275] = { "get_mempolicy", sys_get_mempolicy },
    [276] = { "set_mempolicy", sys_set_mempolicy },
    [294] = { "migrate_pages", sys_migrate_pages },
    [317] = { "move_pages", sys_move_pages },
    [221] = { "fcntl64", sys32_fcntl64 },
    [224] = { "gettid", sys_gettid },
    [238] = { "tkill", sys_tkill },
    [243] = { "set_thread_area", sys32_set_thread_area },
    [244] = { "get_thread_area", sys32_get_thread_area },
    [252] = { "exit_group", sys_exit_group },
    [258] = { "set_tid_address", sys_set_tid_address },
    [265] = { "clock_gettime", sys32_clock_gettime },
    [266] = { "clock_getres", sys32_clock_getres },
    [264] = { "clock_settime", sys32_clock_settime },
    [79] = { "settimeofday", sys32_settimeofday },
    [25] = { "stime", sys32_stime },
    [318] = { "getcpu", sys_getcpu },
    [404] = { "clock_settime64", sys_clock_settime },   /* 64-bit time: x86-64's timespec */
    [406] = { "clock_getres_time64", sys_clock_getres },
    [267] = { "clock_nanosleep", sys32_clock_nanosleep },
    [270] = { "tgkill", sys_tgkill },
    [295] = { "openat", sys_openat },
    [300] = { "fstatat64", sys32_fstatat64 },
    [330] = { "dup3", sys_dup3 },
    [331] = { "pipe2", sys_pipe2 },
    [340] = { "prlimit64", sys_prlimit64 },   /* struct rlimit64: the same on both */
    [355] = { "getrandom", sys_getrandom },
    /* clone and the calls beside it ("sys": compat32/sys32_sys.c) */
    [23] = { "setuid", sys32_setuid16 },
    [46] = { "setgid", sys32_setgid16 },
    [70] = { "setreuid", sys32_setreuid16 },
    [71] = { "setregid", sys32_setregid16 },
    [80] = { "getgroups", sys32_getgroups16 },
    [81] = { "setgroups", sys32_setgroups16 },
    [88] = { "reboot", sys_reboot },
    [116] = { "sysinfo", sys32_sysinfo },
    [138] = { "setfsuid", sys32_setfsuid16 },
    [139] = { "setfsgid", sys32_setfsgid16 },
    [164] = { "setresuid", sys32_setresuid16 },
    [165] = { "getresuid", sys32_getresuid16 },
    [170] = { "setresgid", sys32_setresgid16 },
    [171] = { "getresgid", sys32_getresgid16 },
    [172] = { "prctl", sys_prctl },
    [187] = { "sendfile", sys32_sendfile },
    [203] = { "setreuid32", sys_setreuid },
    [204] = { "setregid32", sys_setregid },
    [205] = { "getgroups32", sys_getgroups },
    [206] = { "setgroups32", sys_setgroups },
    [208] = { "setresuid32", sys_setresuid },
    [209] = { "getresuid32", sys_getresuid },
    [210] = { "setresgid32", sys_setresgid },
    [211] = { "getresgid32", sys_getresgid },
    [213] = { "setuid32", sys_setuid },
    [214] = { "setgid32", sys_setgid },
    [215] = { "setfsuid32", sys_setfsuid },
    [216] = { "setfsgid32", sys_setfsgid },
    [239] = { "sendfile64", sys_sendfile },   /* loff_t: the same on both */
    [240] = { "futex", sys32_futex },
    [242] = { "sched_getaffinity", sys32_sched_getaffinity },
    [308] = { "pselect6", sys32_pselect6 },
    [309] = { "ppoll", sys32_ppoll },
    [311] = { "set_robust_list", sys32_set_robust_list },
    [312] = { "get_robust_list", sys32_get_robust_list },
    [413] = { "pselect6_time64", sys32_pselect6_time64 },
    [414] = { "ppoll_time64", sys32_ppoll_time64 },
    [422] = { "futex_time64", sys_futex },   /* 64-bit timespec: x86-64's */
    [383] = { "statx", sys_statx },   /* struct statx: the same on both */
    [384] = { "arch_prctl", NULL },
    [403] = { "clock_gettime64", sys_clock_gettime },   /* 64-bit time: x86-64's timespec */
    [407] = { "clock_nanosleep_time64", sys32_clock_nanosleep_time64 },
    [421] = { "rt_sigtimedwait_time64", sys32_rt_sigtimedwait_time64 },
    /* files by name, attributes, directories (kernel/fs/, compat32/sys32_fs.c) */
    [8] = { "creat", sys_creat },
    [9] = { "link", sys_link },
    [10] = { "unlink", sys_unlink },
    [12] = { "chdir", sys_chdir },
    [14] = { "mknod", sys_mknod },
    [87] = { "swapon", sys_swapon },
    [115] = { "swapoff", sys_swapoff },
    [15] = { "chmod", sys_chmod },
    [16] = { "lchown", sys32_lchown16 },
    [30] = { "utime", sys32_utime },
    [36] = { "sync", sys_sync },
    [38] = { "rename", sys_rename },
    [39] = { "mkdir", sys_mkdir },
    [40] = { "rmdir", sys_rmdir },
    [60] = { "umask", sys_umask },
    [83] = { "symlink", sys_symlink },
    [85] = { "readlink", sys_readlink },
    [92] = { "truncate", sys32_truncate },
    [93] = { "ftruncate", sys32_ftruncate },
    [94] = { "fchmod", sys_fchmod },
    [95] = { "fchown", sys32_fchown16 },
    [99] = { "statfs", sys32_statfs },
    [100] = { "fstatfs", sys32_fstatfs },
    [118] = { "fsync", sys_fsync },
    [133] = { "fchdir", sys_fchdir },
    [141] = { "getdents", sys32_getdents },
    [148] = { "fdatasync", sys_fsync },
    [182] = { "chown", sys32_chown16 },
    [193] = { "truncate64", sys32_truncate64 },
    [194] = { "ftruncate64", sys32_ftruncate64 },
    [198] = { "lchown32", sys_lchown },
    [207] = { "fchown32", sys_fchown },
    [212] = { "chown32", sys_chown },
    [220] = { "getdents64", sys_getdents64 },   /* struct linux_dirent64: the same on both */
    [268] = { "statfs64", sys32_statfs64 },
    [269] = { "fstatfs64", sys32_fstatfs64 },
    [271] = { "utimes", sys32_utimes },
    [296] = { "mkdirat", sys_mkdirat },
    [297] = { "mknodat", sys_mknodat },
    [298] = { "fchownat", sys_fchownat },
    [299] = { "futimesat", sys32_futimesat },
    [301] = { "unlinkat", sys_unlinkat },
    [302] = { "renameat", sys_renameat },
    [303] = { "linkat", sys_linkat },
    [304] = { "symlinkat", sys_symlinkat },
    [305] = { "readlinkat", sys_readlinkat },
    [306] = { "fchmodat", sys_fchmodat },
    [307] = { "faccessat", sys_faccessat },
    [320] = { "utimensat", sys32_utimensat },
    [344] = { "syncfs", sys_syncfs },
    [353] = { "renameat2", sys_renameat2 },
    [412] = { "utimensat_time64", sys_utimensat },   /* 64-bit time: x86-64's timespec */
    [439] = { "faccessat2", sys_faccessat2 },
};

/* One bit per number: has its -ENOSYS been logged? */
static uint64_t reported32[(NR32_SYSCALLS + 63) / 64];
static uint64_t reported32_high;

static long enosys32(uint32_t nr)
{
    if (nr < NR32_SYSCALLS) {
        if (!(reported32[nr / 64] & (1ul << (nr % 64)))) {
            reported32[nr / 64] |= 1ul << (nr % 64);
            const char *name = syscall32_name(nr);   /* compat32/syscall32_names.c */
            printk("syscall32: %s (%u) is not implemented: -ENOSYS (pid %d, %s)\n",
                   name ? name : "a number Linux does not use", nr, current->pid, current->name);
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
