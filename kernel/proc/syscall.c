/*
 * System-call dispatch: Linux's x86-64 numbers (include/kernel/syscall.h).
 *
 * The entry code (kernel/cpu/isr.S, syscall_entry) built a trap frame on the
 * task's kernel stack; the number is in RAX and the arguments in RDI,
 * RSI, RDX, R10, R8, R9 (R10, not RCX: the syscall instruction
 * overwrote RCX with the return address).  The result goes in RAX.
 * An unknown number gets -ENOSYS, and its number and Linux's name for it
 * (kernel/proc/syscall_names.c) are logged the first time only.
 */
#include <kernel/syscall.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/task.h>
#include <kernel/x86.h>
#include <kernel/session.h>
#include <mm/swap.h>


static const struct {
    const char *name;
    syscall_fn fn;
} table[NR_SYSCALLS] = {
    [NR_read] = { "read", sys_read },
    [NR_write] = { "write", sys_write },
    [NR_open] = { "open", sys_open },
    [NR_close] = { "close", sys_close },
    [NR_stat] = { "stat", sys_stat },
    [NR_fstat] = { "fstat", sys_fstat },
    [NR_lstat] = { "lstat", sys_lstat },
    [NR_poll] = { "poll", sys_poll },
    [NR_lseek] = { "lseek", sys_lseek },
    [NR_mmap] = { "mmap", sys_mmap },
    [NR_mprotect] = { "mprotect", sys_mprotect },
    [NR_munmap] = { "munmap", sys_munmap },
    [NR_brk] = { "brk", sys_brk },
    [NR_rt_sigaction] = { "rt_sigaction", sys_rt_sigaction },
    [NR_rt_sigprocmask] = { "rt_sigprocmask", sys_rt_sigprocmask },
    [NR_rt_sigreturn] = { "rt_sigreturn", sys_rt_sigreturn },
    [NR_ioctl] = { "ioctl", sys_ioctl },
    [NR_pread64] = { "pread64", sys_pread64 },
    [NR_pwrite64] = { "pwrite64", sys_pwrite64 },
    [NR_readv] = { "readv", sys_readv },
    [NR_writev] = { "writev", sys_writev },
    [NR_access] = { "access", sys_access },
    [NR_pipe] = { "pipe", sys_pipe },
    [NR_select] = { "select", sys_select },
    [NR_sched_yield] = { "sched_yield", sys_sched_yield },
    [NR_mremap] = { "mremap", sys_mremap },
    [NR_msync] = { "msync", sys_msync },
    [NR_mincore] = { "mincore", sys_mincore },
    [NR_madvise] = { "madvise", sys_madvise },
    [NR_mbind] = { "mbind", sys_mbind },
    [NR_set_mempolicy] = { "set_mempolicy", sys_set_mempolicy },
    [NR_get_mempolicy] = { "get_mempolicy", sys_get_mempolicy },
    [NR_migrate_pages] = { "migrate_pages", sys_migrate_pages },
    [NR_move_pages] = { "move_pages", sys_move_pages },
    [NR_dup] = { "dup", sys_dup },
    [NR_dup2] = { "dup2", sys_dup2 },
    [NR_pause] = { "pause", sys_pause },
    [NR_nanosleep] = { "nanosleep", sys_nanosleep },
    [NR_getpid] = { "getpid", sys_getpid },
    [NR_clone] = { "clone", sys_clone },
    [NR_fork] = { "fork", sys_fork },
    [NR_vfork] = { "vfork", sys_vfork },
    [NR_execve] = { "execve", sys_execve },
    [NR_exit] = { "exit", sys_exit },
    [NR_wait4] = { "wait4", sys_wait4 },
    [NR_kill] = { "kill", sys_kill },
    [NR_rt_sigpending] = { "rt_sigpending", sys_rt_sigpending },
    [NR_rt_sigtimedwait] = { "rt_sigtimedwait", sys_rt_sigtimedwait },
    [NR_rt_sigsuspend] = { "rt_sigsuspend", sys_rt_sigsuspend },
    [NR_sigaltstack] = { "sigaltstack", sys_sigaltstack },
    [NR_tkill] = { "tkill", sys_tkill },
    [NR_restart_syscall] = { "restart_syscall", sys_restart_syscall },
    [NR_tgkill] = { "tgkill", sys_tgkill },
    [NR_uname] = { "uname", sys_uname },
    [NR_fcntl] = { "fcntl", sys_fcntl_all },   /* kernel/fs/fcntl.c, then sys_fcntl */
    [NR_getcwd] = { "getcwd", sys_getcwd },
    [NR_getrusage] = { "getrusage", sys_getrusage },
    [NR_getuid] = { "getuid", sys_getuid },
    [NR_getgid] = { "getgid", sys_getgid },
    [NR_geteuid] = { "geteuid", sys_geteuid },
    [NR_getegid] = { "getegid", sys_getegid },
    [NR_getppid] = { "getppid", sys_getppid },
    [NR_setpgid] = { "setpgid", sys_setpgid },
    [NR_getpgrp] = { "getpgrp", sys_getpgrp },
    [NR_setsid] = { "setsid", sys_setsid },
    [NR_getpgid] = { "getpgid", sys_getpgid },
    [NR_getsid] = { "getsid", sys_getsid },
    [NR_arch_prctl] = { "arch_prctl", sys_arch_prctl },
    [NR_gettid] = { "gettid", sys_gettid },
    [NR_time] = { "time", sys_time },
    [NR_set_tid_address] = { "set_tid_address", sys_set_tid_address },
    [NR_clock_gettime] = { "clock_gettime", sys_clock_gettime },
    [NR_clock_getres] = { "clock_getres", sys_clock_getres },
    [NR_clock_settime] = { "clock_settime", sys_clock_settime },
    [NR_settimeofday] = { "settimeofday", sys_settimeofday },
    [NR_getcpu] = { "getcpu", sys_getcpu },
    [NR_clock_nanosleep] = { "clock_nanosleep", sys_clock_nanosleep },
    [NR_exit_group] = { "exit_group", sys_exit_group },
    [NR_openat] = { "openat", sys_openat },
    [NR_newfstatat] = { "newfstatat", sys_newfstatat },
    [NR_dup3] = { "dup3", sys_dup3 },
    [NR_pipe2] = { "pipe2", sys_pipe2 },
    [NR_prlimit64] = { "prlimit64", sys_prlimit64 },
    [NR_getrandom] = { "getrandom", sys_getrandom },
    [NR_sendfile] = { "sendfile", sys_sendfile },
    [NR_gettimeofday] = { "gettimeofday", sys_gettimeofday },
    [NR_getrlimit] = { "getrlimit", sys_getrlimit },
    [NR_sysinfo] = { "sysinfo", sys_sysinfo },
    [NR_reboot] = { "reboot", sys_reboot },
    [NR_swapon] = { "swapon", sys_swapon },
    [NR_swapoff] = { "swapoff", sys_swapoff },
    [NR_setuid] = { "setuid", sys_setuid },
    [NR_setgid] = { "setgid", sys_setgid },
    [NR_setreuid] = { "setreuid", sys_setreuid },
    [NR_setregid] = { "setregid", sys_setregid },
    [NR_getgroups] = { "getgroups", sys_getgroups },
    [NR_setgroups] = { "setgroups", sys_setgroups },
    [NR_setresuid] = { "setresuid", sys_setresuid },
    [NR_getresuid] = { "getresuid", sys_getresuid },
    [NR_setresgid] = { "setresgid", sys_setresgid },
    [NR_getresgid] = { "getresgid", sys_getresgid },
    [NR_setfsuid] = { "setfsuid", sys_setfsuid },
    [NR_setfsgid] = { "setfsgid", sys_setfsgid },
    [NR_prctl] = { "prctl", sys_prctl },
    [NR_setrlimit] = { "setrlimit", sys_setrlimit },
    [NR_futex] = { "futex", sys_futex },
    [NR_sched_getaffinity] = { "sched_getaffinity", sys_sched_getaffinity },
    [NR_pselect6] = { "pselect6", sys_pselect6 },
    [NR_ppoll] = { "ppoll", sys_ppoll },
    [NR_set_robust_list] = { "set_robust_list", sys_set_robust_list },
    [NR_get_robust_list] = { "get_robust_list", sys_get_robust_list },
    /* files by name, attributes, directories (kernel/fs/sys_namei.c, sys_attr.c, sys_dir.c) */
    [NR_fsync] = { "fsync", sys_fsync },
    [NR_fdatasync] = { "fdatasync", sys_fsync },
    [NR_truncate] = { "truncate", sys_truncate },
    [NR_ftruncate] = { "ftruncate", sys_ftruncate },
    [NR_getdents] = { "getdents", sys_getdents },
    [NR_chdir] = { "chdir", sys_chdir },
    [NR_fchdir] = { "fchdir", sys_fchdir },
    [NR_rename] = { "rename", sys_rename },
    [NR_mkdir] = { "mkdir", sys_mkdir },
    [NR_rmdir] = { "rmdir", sys_rmdir },
    [NR_creat] = { "creat", sys_creat },
    [NR_link] = { "link", sys_link },
    [NR_unlink] = { "unlink", sys_unlink },
    [NR_symlink] = { "symlink", sys_symlink },
    [NR_readlink] = { "readlink", sys_readlink },
    [NR_chmod] = { "chmod", sys_chmod },
    [NR_fchmod] = { "fchmod", sys_fchmod },
    [NR_chown] = { "chown", sys_chown },
    [NR_fchown] = { "fchown", sys_fchown },
    [NR_lchown] = { "lchown", sys_lchown },
    [NR_umask] = { "umask", sys_umask },
    [NR_utime] = { "utime", sys_utime },
    [NR_mknod] = { "mknod", sys_mknod },
    [NR_statfs] = { "statfs", sys_statfs },
    [NR_fstatfs] = { "fstatfs", sys_fstatfs },
    [NR_sync] = { "sync", sys_sync },
    [NR_getdents64] = { "getdents64", sys_getdents64 },
    [NR_utimes] = { "utimes", sys_utimes },
    [NR_mkdirat] = { "mkdirat", sys_mkdirat },
    [NR_mknodat] = { "mknodat", sys_mknodat },
    [NR_fchownat] = { "fchownat", sys_fchownat },
    [NR_futimesat] = { "futimesat", sys_futimesat },
    [NR_unlinkat] = { "unlinkat", sys_unlinkat },
    [NR_renameat] = { "renameat", sys_renameat },
    [NR_linkat] = { "linkat", sys_linkat },
    [NR_symlinkat] = { "symlinkat", sys_symlinkat },
    [NR_readlinkat] = { "readlinkat", sys_readlinkat },
    [NR_fchmodat] = { "fchmodat", sys_fchmodat },
    [NR_faccessat] = { "faccessat", sys_faccessat },
    [NR_utimensat] = { "utimensat", sys_utimensat },
    [NR_syncfs] = { "syncfs", sys_syncfs },
    [NR_renameat2] = { "renameat2", sys_renameat2 },
    [NR_statx] = { "statx", sys_statx },
    [NR_faccessat2] = { "faccessat2", sys_faccessat2 },
};

/* One bit per number: has its -ENOSYS been logged? */
static uint64_t reported[(NR_SYSCALLS + 63) / 64];
static uint64_t reported_high; /* numbers beyond the table: logged once in all */

static long enosys(uint64_t nr)
{
    if (nr < NR_SYSCALLS) {
        if (!(reported[nr / 64] & (1ul << (nr % 64)))) {
            reported[nr / 64] |= 1ul << (nr % 64);
            const char *name = syscall_name(nr);   /* kernel/proc/syscall_names.c */
            printk("syscall: %s (%lu) is not implemented: -ENOSYS (pid %d, %s)\n",
                   name ? name : "a number Linux does not use", nr, current->pid, current->name);
        }
    } else if (!reported_high++) {
        printk("syscall: number %lu is beyond Linux's table: -ENOSYS (pid %d, %s)\n",
               nr, current->pid, current->name);
    }
    return -ENOSYS;
}

void syscall_dispatch(struct trap_frame *f)
{
    uint64_t nr = f->rax;
    struct sysargs a = { { f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9 } };
    if (nr < NR_SYSCALLS && table[nr].fn)
        f->rax = (uint64_t)table[nr].fn(&a);
    else
        f->rax = (uint64_t)enosys(nr);
}

extern const char syscall_entry[], syscall32_entry[];

#define MSR_SYSENTER_CS 0x174
#define MSR_STAR   0xc0000081
#define MSR_LSTAR  0xc0000082
#define MSR_CSTAR  0xc0000083
#define MSR_SFMASK 0xc0000084
#define EFER_SCE   1ul

void syscall_init(void)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    /* STAR[47:32]: the kernel CS loaded by syscall (SS = CS + 8);
     * STAR[63:48]: the base sysret would use (we return with iretq). */
    wrmsr(MSR_STAR, ((uint64_t)GDT_UCODE32 << 48) | ((uint64_t)GDT_KCODE << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    /* 32-bit programs use int 0x80: syscall from compatibility mode (AMD)
     * gives them #UD (kernel/cpu/isr.S), and sysenter, with a null
     * SYSENTER_CS, a #GP; never a jump into the kernel. */
    wrmsr(MSR_CSTAR, (uint64_t)syscall32_entry);
    wrmsr(MSR_SYSENTER_CS, 0);
    /* Cleared on entry: IF (interrupts stay off in the kernel), TF, DF,
     * NT and AC (SMAP stays enforced). */
    wrmsr(MSR_SFMASK, 0x200 | 0x100 | 0x400 | 0x4000 | RFLAGS_AC);
}
