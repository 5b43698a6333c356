/*
 * System-call dispatch: Linux's x86-64 numbers (include/kernel/syscall.h).
 *
 * The entry code (kernel/cpu/isr.S, syscall_entry) built a trap frame on the
 * task's kernel stack; the number is in RAX and the arguments in RDI,
 * RSI, RDX, R10, R8, R9 (R10, not RCX: the syscall instruction
 * overwrote RCX with the return address).  The result goes in RAX.
 * An unknown number gets -ENOSYS, and its number and name (when we know
 * it) are logged the first time only.
 */
#include <kernel/syscall.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/task.h>
#include <kernel/x86.h>


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
    [NR_lstat] = { "lstat", sys_stat },
    [NR_poll] = { "poll", NULL },
    [NR_lseek] = { "lseek", sys_lseek },
    [NR_mmap] = { "mmap", sys_mmap },
    [NR_mprotect] = { "mprotect", sys_mprotect },
    [NR_munmap] = { "munmap", sys_munmap },
    [NR_brk] = { "brk", sys_brk },
    [NR_rt_sigaction] = { "rt_sigaction", sys_rt_sigaction },
    [NR_rt_sigprocmask] = { "rt_sigprocmask", sys_rt_sigprocmask },
    [NR_rt_sigreturn] = { "rt_sigreturn", NULL },
    [NR_ioctl] = { "ioctl", sys_ioctl },
    [NR_pread64] = { "pread64", sys_pread64 },
    [NR_pwrite64] = { "pwrite64", NULL },
    [NR_readv] = { "readv", sys_readv },
    [NR_writev] = { "writev", sys_writev },
    [NR_access] = { "access", sys_access },
    [NR_pipe] = { "pipe", sys_pipe },
    [NR_select] = { "select", NULL },
    [NR_sched_yield] = { "sched_yield", sys_sched_yield },
    [NR_mremap] = { "mremap", NULL },
    [NR_msync] = { "msync", NULL },
    [NR_mincore] = { "mincore", sys_mincore },
    [NR_madvise] = { "madvise", sys_madvise },
    [NR_dup] = { "dup", sys_dup },
    [NR_dup2] = { "dup2", sys_dup2 },
    [NR_pause] = { "pause", NULL },
    [NR_nanosleep] = { "nanosleep", sys_nanosleep },
    [NR_getpid] = { "getpid", sys_getpid },
    [NR_clone] = { "clone", NULL },
    [NR_fork] = { "fork", sys_fork },
    [NR_vfork] = { "vfork", sys_fork },   /* vfork may act as fork */
    [NR_execve] = { "execve", sys_execve },
    [NR_exit] = { "exit", sys_exit },
    [NR_wait4] = { "wait4", sys_wait4 },
    [NR_kill] = { "kill", sys_kill },
    [NR_uname] = { "uname", sys_uname },
    [NR_fcntl] = { "fcntl", sys_fcntl },
    [NR_getcwd] = { "getcwd", sys_getcwd },
    [NR_getrusage] = { "getrusage", sys_getrusage },
    [NR_getuid] = { "getuid", sys_getuid },
    [NR_getgid] = { "getgid", sys_getuid },
    [NR_geteuid] = { "geteuid", sys_getuid },
    [NR_getegid] = { "getegid", sys_getuid },
    [NR_getppid] = { "getppid", sys_getppid },
    [NR_arch_prctl] = { "arch_prctl", sys_arch_prctl },
    [NR_gettid] = { "gettid", sys_gettid },
    [NR_time] = { "time", NULL },
    [NR_set_tid_address] = { "set_tid_address", sys_set_tid_address },
    [NR_clock_gettime] = { "clock_gettime", sys_clock_gettime },
    [NR_clock_nanosleep] = { "clock_nanosleep", NULL },
    [NR_exit_group] = { "exit_group", sys_exit_group },
    [NR_openat] = { "openat", sys_openat },
    [NR_newfstatat] = { "newfstatat", sys_newfstatat },
    [NR_dup3] = { "dup3", sys_dup3 },
    [NR_pipe2] = { "pipe2", sys_pipe2 },
    [NR_prlimit64] = { "prlimit64", sys_prlimit64 },
    [NR_getrandom] = { "getrandom", sys_getrandom },
};

/* One bit per number: has its -ENOSYS been logged? */
static uint64_t reported[(NR_SYSCALLS + 63) / 64];
static uint64_t reported_high; /* numbers beyond the table: logged once in all */

static long enosys(uint64_t nr)
{
    if (nr < NR_SYSCALLS) {
        if (!(reported[nr / 64] & (1ul << (nr % 64)))) {
            reported[nr / 64] |= 1ul << (nr % 64);
            printk("syscall: %s (%lu) is not implemented: -ENOSYS (pid %d, %s)\n",
                   table[nr].name ? table[nr].name : "unknown", nr,
                   current->pid, current->name);
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
