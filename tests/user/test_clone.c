/*
 * test_clone: clone, vfork and posix_spawn as C libraries use them.
 *
 *  - a glibc-style fork: the raw clone(CLONE_CHILD_SETTID |
 *    CLONE_CHILD_CLEARTID | CLONE_PARENT_SETTID | SIGCHLD) with no new
 *    stack: the child finds its tid in its own copy of the child word,
 *    the parent its child's pid in the parent word, and neither copy
 *    sees the other's write;
 *  - an exit signal of 0 makes a "clone" child: wait4 without __WALL or
 *    __WCLONE does not see it (ECHILD), with __WALL it does;
 *  - CLONE_VM | CLONE_VFORK on a stack of its own (posix_spawn's way):
 *    the parent sleeps until the child has exited, the child's writes are
 *    in the parent's memory, CLONE_CHILD_CLEARTID wrote 0 at its exit;
 *  - CLONE_VM alone: the parent goes on, and joins the child as
 *    pthread_join would, with FUTEX_WAIT on the cleared tid word;
 *  - CLONE_SIGHAND: an action the child sets is the parent's too;
 *  - vfork (the C library's, NR 58 / 190): a child that calls _exit, one
 *    that execs, one whose exec fails; posix_spawn with file actions and
 *    a missing program;
 *  - the flag combinations Linux refuses (EINVAL), a bad TLS (EPERM on
 *    x86-64, EFAULT for i386's struct user_desc).
 * The program runs itself as a child: "test_clone exit-with N" exits N,
 * "test_clone say WORD" writes WORD and a newline.
 */
#define _GNU_SOURCE
#include "ut.h"

#include <errno.h>
#include <sched.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __WALL
#define __WALL 0x40000000
#endif
#define FUTEX_WAIT 0

extern char **environ;
static const char *self;

/* ---- a raw clone that runs fn on a stack of its own -------------------------------- */

#define STACK_BYTES (64 * 1024)
static uint8_t child_stack[STACK_BYTES] __attribute__((aligned(16)));

/* clone(flags, top of child_stack, ptid, ctid, no TLS); the child calls
 * fn() and exits with its value.  Written in assembly: the child must not
 * return into C code on a stack it does not own. */
static long clone_on_stack(unsigned long flags, int *ptid, int *ctid, int (*fn)(void))
{
    uint8_t *top = child_stack + STACK_BYTES;
#if defined(__x86_64__)
    register long rax __asm__("rax") = SYS_clone;
    register long rdi __asm__("rdi") = (long)flags;
    register long rsi __asm__("rsi") = (long)top;
    register long rdx __asm__("rdx") = (long)ptid;
    register long r10 __asm__("r10") = (long)ctid;
    register long r8 __asm__("r8") = 0;
    register long r9 __asm__("r9") = (long)fn;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "call *%%r9\n\t"
                     "mov %%eax, %%edi\n\t"
                     "mov $60, %%eax\n\t"        /* exit */
                     "syscall\n\t"
                     "hlt\n"
                     "1:"
                     : "+r"(rax)
                     : "r"(rdi), "r"(rsi), "r"(rdx), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return rax;
#else
    /* i386: clone(flags, newsp, ptid, tls, ctid); fn sits where the child's
     * stack pointer starts. */
    uint32_t *sp = (uint32_t *)top - 4;
    sp[0] = (uint32_t)(uintptr_t)fn;
    long eax = SYS_clone;
    __asm__ volatile("int $0x80\n\t"
                     "test %%eax, %%eax\n\t"
                     "jnz 1f\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "call *(%%esp)\n\t"
                     "mov %%eax, %%ebx\n\t"
                     "mov $1, %%eax\n\t"         /* exit */
                     "int $0x80\n\t"
                     "hlt\n"
                     "1:"
                     : "+a"(eax)
                     : "b"(flags), "c"(sp), "d"(ptid), "S"(0), "D"(ctid)
                     : "memory");
    return eax;
#endif
}

/* The raw clone with no new stack: returns twice, like fork. */
static long clone_fork(unsigned long flags, int *ptid, int *ctid, unsigned long tls)
{
#if defined(__x86_64__)
    return syscall(SYS_clone, flags, 0, ptid, ctid, tls);
#else
    return syscall(SYS_clone, flags, 0, ptid, tls, ctid);
#endif
}

/* The raw nanosleep takes the kernel's timespec: two longs (4-byte ones
 * on i386, where musl's struct timespec has a 64-bit time_t). */
static void sleep_ms(long ms)
{
    long ts[2] = { ms / 1000, (ms % 1000) * 1000000 };
    syscall(SYS_nanosleep, ts, NULL);
}

/* ---- a glibc-style fork --------------------------------------------------------------- */

static void fork_style(void)
{
    int ptid = 0x5555, ctid = 0x6666;
    fflush(stdout);
    long pid = clone_fork(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_PARENT_SETTID | SIGCHLD,
                          &ptid, &ctid, 0);
    if (pid == 0) {
        int bad = 0;
        if (ctid != (int)syscall(SYS_gettid))
            bad |= 1;       /* CLONE_CHILD_SETTID: in the child's copy */
        if (ptid != 0x5555)
            bad |= 2;       /* the parent's word was written after the copy */
        _exit(bad);
    }
    if (!ut_check(pid > 0, "clone_fork_style_runs", "clone: %s", ut_errno_name(errno)))
        return;
    int st = ut_wait((pid_t)pid);
    ut_check(ut_exited_with(st, 0), "clone_child_tid_word_in_child",
             "child saw ctid/ptid wrong (status %#x)", st);
    ut_check(ptid == pid, "clone_parent_settid", "ptid %d", ptid);
    ut_check(ctid == 0x6666, "clone_parent_copy_untouched", "ctid %#x", ctid);
}

/* ---- exit signal 0: a "clone" child ---------------------------------------------------- */

static void exit_signal_zero(void)
{
    fflush(stdout);
    long pid = clone_fork(0, NULL, NULL, 0);
    if (pid == 0)
        _exit(3);
    if (!ut_check(pid > 0, "clone_exit_signal_0_runs", "clone: %s", ut_errno_name(errno)))
        return;
    int st;
    long r = waitpid((pid_t)pid, &st, 0);
    ut_check_errno("wait_ignores_clone_child", r, ECHILD);
    r = waitpid((pid_t)pid, &st, __WALL);
    ut_check(r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 3, "wait_wall_reaps_clone_child",
             "waitpid %ld, status %#x", r, st);
}

/* ---- CLONE_VM | CLONE_VFORK on a new stack -------------------------------------------- */

static volatile int vm_done, vm_seen_ctid, vm_seen_tid;
static int vm_ctid, vm_ptid;

static int vm_child(void)
{
    vm_seen_ctid = vm_ctid;                    /* CLONE_CHILD_SETTID, before we ran */
    vm_seen_tid = (int)syscall(SYS_gettid);
    sleep_ms(50);                              /* the parent must still be asleep */
    vm_done = 1;
    return 4;
}

static void vm_vfork(void)
{
    vm_done = 0;
    vm_ctid = -1;
    vm_ptid = 0;
    fflush(stdout);
    long pid = clone_on_stack(CLONE_VM | CLONE_VFORK | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID |
                              CLONE_PARENT_SETTID | SIGCHLD, &vm_ptid, &vm_ctid, vm_child);
    if (!ut_check(pid > 0, "clone_vm_vfork_runs", "clone: %s", ut_errno_name((int)-pid)))
        return;
    ut_check(vm_done == 1, "clone_vfork_parent_waits", "the parent ran before the child exited");
    ut_check(vm_seen_ctid == vm_seen_tid && vm_seen_tid == pid, "clone_vm_child_settid",
             "child saw %d, its tid %d", vm_seen_ctid, vm_seen_tid);
    ut_check(vm_ctid == 0, "clone_vm_cleartid_at_exit", "ctid %d after the exit", vm_ctid);
    ut_check(vm_ptid == pid, "clone_vm_parent_settid", "ptid %d", vm_ptid);
    int st = ut_wait((pid_t)pid);
    ut_check(ut_exited_with(st, 4), "clone_vm_child_status", "status %#x", st);
}

/* ---- CLONE_VM alone, joined with a futex ------------------------------------------------ */

static volatile int join_done;
static int join_ctid;

static int join_child(void)
{
    sleep_ms(30);
    join_done = 1;
    return 0;
}

static void vm_join(void)
{
    join_done = 0;
    join_ctid = -1;
    fflush(stdout);
    long pid = clone_on_stack(CLONE_VM | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD, NULL,
                              &join_ctid, join_child);
    if (!ut_check(pid > 0, "clone_vm_runs", "clone: %s", ut_errno_name((int)-pid)))
        return;
    int waits = 0;
    for (int v; (v = __atomic_load_n(&join_ctid, __ATOMIC_SEQ_CST)) != 0 && waits < 1000; waits++)
        syscall(SYS_futex, &join_ctid, FUTEX_WAIT, v, NULL, NULL, 0);
    ut_check(join_ctid == 0 && join_done == 1, "clone_vm_futex_join",
             "ctid %d, done %d after %d waits", join_ctid, join_done, waits);
    int st = ut_wait((pid_t)pid);
    ut_check(ut_exited_with(st, 0), "clone_vm_child_reaped", "status %#x", st);
}

/* ---- CLONE_SIGHAND: one table of signal actions -------------------------------------------- */

/* The kernel's struct sigaction: handler, flags, restorer, an 8-byte mask
 * (32 bytes on x86-64, 20 on i386). */
struct ksigaction {
    long handler;
    unsigned long flags;
    long restorer;
    unsigned long long mask;
};

static int sighand_child(void)
{
    struct ksigaction ign = { 1 /* SIG_IGN */, 0, 0, 0 };
    return syscall(SYS_rt_sigaction, SIGUSR2, &ign, NULL, 8) == 0 ? 0 : 1;
}

static void sighand_shared(void)
{
    fflush(stdout);
    long pid = clone_on_stack(CLONE_VM | CLONE_SIGHAND | CLONE_VFORK | SIGCHLD, NULL, NULL,
                              sighand_child);
    if (!ut_check(pid > 0, "clone_sighand_runs", "clone: %s", ut_errno_name((int)-pid)))
        return;
    int st = ut_wait((pid_t)pid);
    struct ksigaction now = { 0, 0, 0, 0 }, dfl = { 0, 0, 0, 0 };
    syscall(SYS_rt_sigaction, SIGUSR2, NULL, &now, 8);
    ut_check(ut_exited_with(st, 0) && now.handler == 1, "clone_sighand_shares_actions",
             "status %#x, handler %ld", st, now.handler);
    syscall(SYS_rt_sigaction, SIGUSR2, &dfl, NULL, 8);
}

/* ---- vfork ---------------------------------------------------------------------------------- */

static void vfork_cases(void)
{
    fflush(stdout);
    pid_t pid = vfork();
    if (pid == 0)
        _exit(7);
    ut_check(pid > 0 && ut_exited_with(ut_wait(pid), 7), "vfork_child_exit", "pid %d", pid);

    char *argv[] = { (char *)self, "exit-with", "9", NULL };
    fflush(stdout);
    pid = vfork();
    if (pid == 0) {
        execve(self, argv, environ);
        _exit(127);
    }
    ut_check(pid > 0 && ut_exited_with(ut_wait(pid), 9), "vfork_child_exec", "pid %d", pid);

    char *none[] = { "/nonexistent/program", NULL };
    fflush(stdout);
    pid = vfork();
    if (pid == 0) {
        execve(none[0], none, environ);
        _exit(errno == ENOENT ? 42 : 43);
    }
    ut_check(pid > 0 && ut_exited_with(ut_wait(pid), 42), "vfork_failed_exec_exits",
             "pid %d", pid);
}

/* ---- posix_spawn ---------------------------------------------------------------------------- */

static void spawn_cases(void)
{
    pid_t pid;
    char *argv[] = { (char *)self, "exit-with", "5", NULL };
    fflush(stdout);
    int r = posix_spawn(&pid, self, NULL, NULL, argv, environ);
    ut_check(r == 0 && ut_exited_with(ut_wait(pid), 5), "posix_spawn_runs", "posix_spawn: %s",
             ut_errno_name(r));

    int p[2];
    if (pipe(p) != 0) {
        ut_check(0, "posix_spawn_file_actions", "pipe: %s", ut_errno_name(errno));
        return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    char *say[] = { (char *)self, "say", "spawned", NULL };
    fflush(stdout);
    r = posix_spawn(&pid, self, &fa, NULL, say, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    char buf[32] = { 0 };
    ssize_t n = r == 0 ? read(p[0], buf, sizeof(buf) - 1) : -1;
    close(p[0]);
    int st = r == 0 ? ut_wait(pid) : -1;
    ut_check(r == 0 && n == 8 && memcmp(buf, "spawned\n", 8) == 0 && ut_exited_with(st, 0),
             "posix_spawn_file_actions", "r %d, read %zd '%s'", r, n, buf);

    char *none[] = { "/nonexistent/program", NULL };
    r = posix_spawn(&pid, none[0], NULL, NULL, none, environ);
    ut_check(r == ENOENT, "posix_spawn_missing_program", "posix_spawn: %s", ut_errno_name(r));
}

/* ---- refusals ------------------------------------------------------------------------------- */

/* A clone that must fail: a child that appears anyway leaves at once. */
static void clone_fails(const char *name, unsigned long flags, unsigned long tls, int want)
{
    fflush(stdout);
    long r = clone_fork(flags | SIGCHLD, NULL, NULL, tls);
    if (r == 0)
        _exit(99);
    int e = errno;
    if (r > 0) {
        ut_wait((pid_t)r);
        ut_check(0, name, "clone succeeded");
        return;
    }
    errno = e;
    ut_check_errno(name, r, want);
}

static void refusals(void)
{
    clone_fails("clone_thread_without_sighand", CLONE_THREAD, 0, EINVAL);
    clone_fails("clone_sighand_without_vm", CLONE_SIGHAND, 0, EINVAL);
    clone_fails("clone_newns_with_fs", CLONE_NEWNS | CLONE_FS, 0, EINVAL);
#if defined(__x86_64__)
    clone_fails("clone_settls_kernel_address", CLONE_SETTLS, 0xffff800000000000ul, EPERM);
#else
    clone_fails("clone_settls_bad_user_desc", CLONE_SETTLS, 1, EFAULT);
#endif
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "exit-with") == 0)
        return atoi(argv[2]);
    if (argc == 3 && strcmp(argv[1], "say") == 0) {
        printf("%s\n", argv[2]);
        return 0;
    }
    self = argv[0];
    ut_init();
    fork_style();
    exit_signal_zero();
    vm_vfork();
    vm_join();
    sighand_shared();
    vfork_cases();
    spawn_cases();
    refusals();
    return ut_done();
}
