/*
 * test_faults: bad accesses kill the process that makes them, and only it.
 *
 * Each case runs in a child that does one forbidden thing; the parent
 * checks with wait4 that the child was killed by the expected signal (and
 * did not exit: every child exits 0 if the access went through).  The
 * kernel must log one line per killed process and keep running; the
 * parent carries on through the whole table.
 *
 *   SIGSEGV: NULL read, write and call; a PROT_NONE mapping read and
 *   written; a mapping turned PROT_NONE by mprotect; a write to the text
 *   and to read-only data; execution from the stack, the heap (malloc), a
 *   read-write mapping and .data (no page is both writable and executable
 *   unless asked); the guard below the stack (unbounded recursion); user
 *   accesses to kernel and non-canonical addresses (#GP on x86-64).
 *   SIGILL: ud2.  SIGFPE: division by zero.  SIGKILL: kill() by the parent.
 */
#include "ut.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

typedef void (*fn_t)(void);

static volatile int sink;
static unsigned char data_code[16] = { 0xc3 };   /* "ret", in writable .data */

static void null_read(void)    { sink = *(volatile int *)0; }
static void null_write(void)   { *(volatile int *)0 = 1; }
static void null_call(void)    { ((fn_t)0)(); }

static void *map(int prot)
{
    void *p = mmap(NULL, PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        _exit(90);
    return p;
}

static void prot_none_read(void)  { sink = *(volatile int *)map(PROT_NONE); }
static void prot_none_write(void) { *(volatile int *)map(PROT_NONE) = 1; }

static void mprotect_none_read(void)
{
    volatile int *p = map(PROT_READ | PROT_WRITE);
    *p = 1;
    if (mprotect((void *)p, PAGE, PROT_NONE) != 0)
        _exit(91);
    sink = *p;
}

static void text_write(void)   { *(volatile unsigned char *)(uintptr_t)&null_read = 0xc3; }
static void rodata_write(void)
{
    static const char ro[] = "read-only";
    *(volatile char *)(uintptr_t)ro = 'R';
}

static void exec_stack(void)
{
    unsigned char code[16] = { 0xc3 };
    ((fn_t)(uintptr_t)code)();
    sink = code[1];
}

static void exec_heap(void)
{
    unsigned char *code = malloc(64);
    if (!code)
        _exit(92);
    code[0] = 0xc3;
    ((fn_t)(uintptr_t)code)();
}

static void exec_rw_mapping(void)
{
    unsigned char *code = map(PROT_READ | PROT_WRITE);
    code[0] = 0xc3;
    ((fn_t)(uintptr_t)code)();
}

static void exec_data(void) { ((fn_t)(uintptr_t)data_code)(); }

/* Recurse until the stack runs into its guard; each frame touches 4 KiB.
 * (GCC calls this infinite: it is, on purpose, up to the bound.) */
#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int recurse(int depth)
{
    volatile char frame[4096];
    frame[0] = (char)depth;
    frame[sizeof frame - 1] = (char)depth;
    /* the array's address escapes: clang would otherwise keep only the
     * two bytes used and the frame would shrink to a few bytes */
    __asm__ volatile("" : : "r"(frame) : "memory");
    if (depth > 65536)              /* 256 MiB of stack and no guard: give up */
        _exit(93);
    return recurse(depth + 1) + frame[0];
}

static void stack_guard(void)
{
    /* Linux grows the stack up to RLIMIT_STACK: keep that small here. */
    struct rlimit r = { 1 << 20, 1 << 20 };
    if (!ut_on_mmk())
        setrlimit(RLIMIT_STACK, &r);
    sink = recurse(0);
}

#if UINTPTR_MAX > 0xffffffffu
static void kernel_read(void)       { sink = *(volatile int *)0xffff800000000000UL; }
static void kernel_text_read(void)  { sink = *(volatile int *)0xffffffff80000000UL; }
static void kernel_write(void)      { *(volatile int *)0xffff800000001000UL = 1; }
static void noncanonical_read(void) { sink = *(volatile int *)0x0000800000000000UL; }
static void noncanonical_write(void) { *(volatile int *)0x8000000000000000UL = 1; }
static void kernel_call(void)       { ((fn_t)0xffffffff80000000UL)(); }
#endif

static void ud2(void) { __asm__ volatile("ud2"); }

#if UINTPTR_MAX == 0xffffffffu
/* getpid (20) through the instructions mmk does not take from 32-bit code */
static void compat_syscall(void)
{
    __asm__ volatile("mov $20, %%eax\n\tsyscall" : : : "eax", "ecx", "edx", "memory");
}
static void compat_sysenter(void)
{
    __asm__ volatile("mov $20, %%eax\n\tsysenter" : : : "eax", "ecx", "edx", "memory");
}
#endif

static void divide_by_zero(void)
{
    volatile int zero = 0, seven = 7;   /* 1 / x would compile to a compare */
    sink = seven / zero;
}

static const struct fault {
    const char *name;
    void (*fn)(void);
    int sig;
} faults[] = {
    { "null_read_segv",               null_read,          SIGSEGV },
    { "null_write_segv",              null_write,         SIGSEGV },
    { "null_call_segv",               null_call,          SIGSEGV },
    { "prot_none_read_segv",          prot_none_read,     SIGSEGV },
    { "prot_none_write_segv",         prot_none_write,    SIGSEGV },
    { "mprotect_none_then_read_segv", mprotect_none_read, SIGSEGV },
    { "write_to_text_segv",           text_write,         SIGSEGV },
    { "write_to_rodata_segv",         rodata_write,       SIGSEGV },
    { "exec_from_stack_segv",         exec_stack,         SIGSEGV },
    { "exec_from_heap_segv",          exec_heap,          SIGSEGV },
    { "exec_from_rw_mapping_segv",    exec_rw_mapping,    SIGSEGV },
    { "exec_from_data_segv",          exec_data,          SIGSEGV },
    { "stack_guard_segv",             stack_guard,        SIGSEGV },
#if UINTPTR_MAX > 0xffffffffu
    { "kernel_address_read_segv",     kernel_read,        SIGSEGV },
    { "kernel_text_read_segv",        kernel_text_read,   SIGSEGV },
    { "kernel_address_write_segv",    kernel_write,       SIGSEGV },
    { "kernel_address_call_segv",     kernel_call,        SIGSEGV },
    { "non_canonical_read_segv",      noncanonical_read,  SIGSEGV },
    { "non_canonical_write_segv",     noncanonical_write, SIGSEGV },
#endif
    { "ud2_sigill",                   ud2,                SIGILL },
    { "divide_by_zero_sigfpe",        divide_by_zero,     SIGFPE },
};

static int run_fault(void *arg)
{
    ((const struct fault *)arg)->fn();
    return 0;                       /* the access went through */
}

int main(void)
{
    ut_init();
    char why[64];
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        int st = ut_run_child(run_fault, (void *)&faults[i]);
        ut_check(ut_killed_by(st, faults[i].sig), faults[i].name, "child: %s",
                 ut_status_str(st, why, sizeof why));
    }

#if UINTPTR_MAX == 0xffffffffu
    /* mmk's 32-bit programs call the kernel with int 0x80 only: syscall
     * and sysenter from compatibility mode kill the program (SIGILL, or
     * SIGSEGV for sysenter's #GP), never the kernel.  Linux on an AMD CPU
     * takes a syscall from there as a system call: mmk only. */
    if (ut_on_mmk()) {
        int st = ut_run_child(run_fault, (void *)&(struct fault){ "", compat_syscall, 0 });
        ut_check(ut_killed_by(st, SIGILL), "syscall_instruction_32bit_sigill", "child: %s",
                 ut_status_str(st, why, sizeof why));
        st = ut_run_child(run_fault, (void *)&(struct fault){ "", compat_sysenter, 0 });
        ut_check(ut_killed_by(st, SIGILL) || ut_killed_by(st, SIGSEGV),
                 "sysenter_instruction_32bit_killed", "child: %s",
                 ut_status_str(st, why, sizeof why));
    } else {
        ut_skip("syscall_instruction_32bit_sigill", "Linux on AMD takes it as a system call");
        ut_skip("sysenter_instruction_32bit_killed", "Linux takes it as a system call");
    }
#endif

    /* kill(SIGKILL) of a child blocked in read() on a pipe. */
    int p[2];
    if (pipe(p) == 0) {
        pid_t pid = ut_fork();
        if (pid == 0) {
            char c;
            close(p[1]);
            _exit(read(p[0], &c, 1) == 0 ? 0 : 1);
        }
        close(p[0]);
        int k = pid > 0 ? kill(pid, SIGKILL) : -1;
        int st = pid > 0 ? ut_wait(pid) : -1;
        close(p[1]);
        ut_check(k == 0 && ut_killed_by(st, SIGKILL), "kill_sigkill_blocked_child", "kill %d, child: %s",
                 k, ut_status_str(st, why, sizeof why));
    }

    /* exit statuses go through wait4 unchanged. */
    int codes[] = { 0, 1, 42, 255 };
    int ok = 1;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        pid_t pid = ut_fork();
        if (pid == 0)
            _exit(codes[i]);
        ok &= ut_exited_with(pid > 0 ? ut_wait(pid) : -1, codes[i]);
    }
    ut_check(ok, "exit_codes_reach_wait4", "an exit code changed on its way");
    return ut_done();
}
