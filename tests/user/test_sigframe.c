/*
 * test_sigframe: the signal frame itself (docs/signals.md).
 *
 *   - every register survives a handler: assembly fills the general
 *     registers (and XMM6/XMM7, the x87 control word, MXCSR) with known
 *     values, raises a signal with the kill system call, and stores them
 *     again after it; the handler, also in assembly, overwrites them all;
 *     the handler starts with a clean FPU;
 *   - the alternate stack: a SA_ONSTACK handler runs on it, sees
 *     SS_ONSTACK and may not change it (EPERM); sigaltstack's refusals;
 *     SS_AUTODISARM (and the refused restore of rt_sigreturn); a frame
 *     that would overflow it, or lands on memory that cannot be written,
 *     gets its process SIGSEGV;
 *   - faults: si_code and si_addr of a NULL write (SEGV_MAPERR, 0), a
 *     write to a read-only page (SEGV_ACCERR, the address), a division by
 *     zero (FPE_INTDIV at the instruction), ud2 (ILL_ILLOPN), int3
 *     (SIGTRAP, SI_KERNEL, going on after it); a handler that fixes the
 *     fault and returns; a fault with its signal blocked or ignored, or
 *     inside its own handler, kills;
 *   - rt_sigreturn (sigreturn) with a doctored frame: a kernel code
 *     segment, an unreadable frame or FPU state, reserved MXCSR bits
 *     kill with SIGSEGV; a non-canonical RIP too;
 *   - abort() ends the process with SIGABRT whatever its handler or mask.
 *
 * Everything printed is the same on Linux (the host run is the oracle),
 * except what only mmk promises, which prints "# SKIP" on the host.
 */
#define _GNU_SOURCE   /* REG_RIP, REG_EIP... */
#include "ut.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#if UINTPTR_MAX > 0xffffffffu
#define IS64 1
#define UC_IP(uc) ((uc)->uc_mcontext.gregs[REG_RIP])
#else
#define IS64 0
#define UC_IP(uc) ((uc)->uc_mcontext.gregs[REG_EIP])
#endif

static void reset_all(void)
{
    struct sigaction sa = { .sa_handler = SIG_DFL };
    for (int s = 1; s < 65; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static int on_info(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa = { .sa_sigaction = fn, .sa_flags = SA_SIGINFO | flags };
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}

static int on(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa = { .sa_handler = fn, .sa_flags = flags };
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}

static void child_killed(int st, int sig, const char *name)
{
    char why[64];
    ut_check(ut_killed_by(st, sig), name, "child: %s", ut_status_str(st, why, sizeof why));
}

/* ---- every register survives a handler ------------------------------------------------ */

/* The handler, in assembly: counts, then writes over every register it
 * can (the C rules would have it keep some: the frame must bring them
 * back, not the handler). */
volatile int trash_count;
volatile uint32_t handler_mxcsr, handler_fcw;
void trash_handler(int);
#if IS64
__asm__(".text\n.globl trash_handler\ntrash_handler:\n"
        "  incl trash_count(%rip)\n"
        "  stmxcsr handler_mxcsr(%rip)\n"
        "  fnstcw handler_fcw(%rip)\n"
        "  movq $-1, %rax\n  movq %rax, %rbx\n  movq %rax, %rcx\n  movq %rax, %rdx\n"
        "  movq %rax, %rsi\n  movq %rax, %rdi\n  movq %rax, %rbp\n  movq %rax, %r8\n"
        "  movq %rax, %r9\n  movq %rax, %r10\n  movq %rax, %r11\n  movq %rax, %r12\n"
        "  movq %rax, %r13\n  movq %rax, %r14\n  movq %rax, %r15\n"
        "  pcmpeqd %xmm6, %xmm6\n  pcmpeqd %xmm7, %xmm7\n  pcmpeqd %xmm0, %xmm0\n"
        "  ret\n");
#else
__asm__(".text\n.globl trash_handler\ntrash_handler:\n"
        "  incl trash_count\n"
        "  stmxcsr handler_mxcsr\n"
        "  fnstcw handler_fcw\n"
        "  movl $-1, %eax\n  movl %eax, %ebx\n  movl %eax, %ecx\n  movl %eax, %edx\n"
        "  movl %eax, %esi\n  movl %eax, %edi\n  movl %eax, %ebp\n"
        "  pcmpeqd %xmm6, %xmm6\n  pcmpeqd %xmm7, %xmm7\n  pcmpeqd %xmm0, %xmm0\n"
        "  ret\n");
#endif

/* io[0], io[1]: pid and signal in; then the registers out, see below.
 * (Not static: the assembly names them.) */
unsigned long io[24];
uint8_t xmm_in[32] __attribute__((aligned(16))), xmm_out[32] __attribute__((aligned(16)));
volatile uint32_t mxcsr_in = 0x3f80, mxcsr_out;   /* rounding toward -inf: not the default */
volatile uint16_t fcw_in = 0x027f, fcw_out;      /* 53-bit precision: not the default */

static void raise_with_known_registers(void)
{
    unsigned long *p = io;
#if IS64
    __asm__ volatile(
        "sub $128, %%rsp\n\t"          /* keep out of the red zone */
        "push %%rbx\n\tpush %%rbp\n\tpush %%r12\n\tpush %%r13\n\tpush %%r14\n\tpush %%r15\n\t"
        "push %0\n\t"
        "movdqa xmm_in(%%rip), %%xmm6\n\tmovdqa xmm_in+16(%%rip), %%xmm7\n\t"
        "ldmxcsr mxcsr_in(%%rip)\n\tfldcw fcw_in(%%rip)\n\t"
        "mov 0(%0), %%rdi\n\tmov 8(%0), %%rsi\n\t"
        "movabs $0x1111111111111111, %%rbx\n\tmovabs $0x2222222222222222, %%rbp\n\t"
        "movabs $0x3333333333333333, %%rdx\n\tmovabs $0x8888888888888888, %%r8\n\t"
        "movabs $0x9999999999999999, %%r9\n\tmovabs $0xaaaaaaaaaaaaaaaa, %%r10\n\t"
        "movabs $0xcccccccccccccccc, %%r12\n\tmovabs $0xdddddddddddddddd, %%r13\n\t"
        "movabs $0xeeeeeeeeeeeeeeee, %%r14\n\tmovabs $0x0f0f0f0f0f0f0f0f, %%r15\n\t"
        "mov $62, %%eax\n\t"           /* kill(pid, sig): the handler runs on its way back */
        "syscall\n\t"
        "xchg %%rax, (%%rsp)\n\t"
        "mov %%rbx, 16(%%rax)\n\tmov %%rbp, 24(%%rax)\n\tmov %%rdx, 32(%%rax)\n\t"
        "mov %%rdi, 40(%%rax)\n\tmov %%rsi, 48(%%rax)\n\tmov %%r8, 56(%%rax)\n\t"
        "mov %%r9, 64(%%rax)\n\tmov %%r10, 72(%%rax)\n\tmov %%r12, 80(%%rax)\n\t"
        "mov %%r13, 88(%%rax)\n\tmov %%r14, 96(%%rax)\n\tmov %%r15, 104(%%rax)\n\t"
        "pop %%rcx\n\tmov %%rcx, 112(%%rax)\n\t"
        "movdqa %%xmm6, xmm_out(%%rip)\n\tmovdqa %%xmm7, xmm_out+16(%%rip)\n\t"
        "stmxcsr mxcsr_out(%%rip)\n\tfnstcw fcw_out(%%rip)\n\t"
        "ldmxcsr 1f(%%rip)\n\tfninit\n\t"
        "pop %%r15\n\tpop %%r14\n\tpop %%r13\n\tpop %%r12\n\tpop %%rbp\n\tpop %%rbx\n\t"
        "add $128, %%rsp\n\t"
        "jmp 2f\n"
        "1: .long 0x1f80\n"
        "2:\n"
        :
        : "r"(p)
        : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "xmm6", "xmm7", "memory",
          "cc");
#else
    __asm__ volatile(
        "push %%ebx\n\tpush %%ebp\n\tpush %%esi\n\tpush %%edi\n\t"
        "push %0\n\t"
        "movdqa xmm_in, %%xmm6\n\tmovdqa xmm_in+16, %%xmm7\n\t"
        "ldmxcsr mxcsr_in\n\tfldcw fcw_in\n\t"
        "mov 0(%0), %%ebx\n\tmov 4(%0), %%ecx\n\t"
        "mov $0x33333333, %%edx\n\tmov $0x55555555, %%esi\n\t"
        "mov $0x77777777, %%edi\n\tmov $0x22222222, %%ebp\n\t"
        "mov $37, %%eax\n\t"           /* kill(pid, sig) */
        "int $0x80\n\t"
        "xchg %%eax, (%%esp)\n\t"
        "mov %%ebx, 8(%%eax)\n\tmov %%ecx, 12(%%eax)\n\tmov %%edx, 16(%%eax)\n\t"
        "mov %%esi, 20(%%eax)\n\tmov %%edi, 24(%%eax)\n\tmov %%ebp, 28(%%eax)\n\t"
        "pop %%ecx\n\tmov %%ecx, 32(%%eax)\n\t"
        "movdqa %%xmm6, xmm_out\n\tmovdqa %%xmm7, xmm_out+16\n\t"
        "stmxcsr mxcsr_out\n\tfnstcw fcw_out\n\t"
        "ldmxcsr 1f\n\tfninit\n\t"
        "pop %%edi\n\tpop %%esi\n\tpop %%ebp\n\tpop %%ebx\n\t"
        "jmp 2f\n"
        "1: .long 0x1f80\n"
        "2:\n"
        : "+a"(p)
        :
        : "ecx", "edx", "xmm6", "xmm7", "memory", "cc");
#endif
}

static void t_registers(void)
{
    reset_all();
    on(SIGUSR1, trash_handler, 0);
    for (int i = 0; i < 32; i++)
        xmm_in[i] = (uint8_t)(0x40 + i);
    memset(io, 0, sizeof io);
    io[0] = (unsigned long)getpid();
    io[1] = SIGUSR1;
    trash_count = 0;
    raise_with_known_registers();
    ut_check(trash_count == 1, "asm_handler_ran", "count %d", trash_count);
#if IS64
    static const unsigned long want[] = {
        0x1111111111111111ul, 0x2222222222222222ul, 0x3333333333333333ul, 0, SIGUSR1,
        0x8888888888888888ul, 0x9999999999999999ul, 0xaaaaaaaaaaaaaaaaul,
        0xccccccccccccccccul, 0xddddddddddddddddul, 0xeeeeeeeeeeeeeeeeul,
        0x0f0f0f0f0f0f0f0ful, 0 };
    static const char *const names[] = { "rbx", "rbp", "rdx", "rdi", "rsi", "r8", "r9", "r10",
                                         "r12", "r13", "r14", "r15", "rax" };
    int first = 2, n = 13;
#else
    static const unsigned long want[] = { 0, SIGUSR1, 0x33333333, 0x55555555, 0x77777777,
                                          0x22222222, 0 };
    static const char *const names[] = { "ebx", "ecx", "edx", "esi", "edi", "ebp", "eax" };
    int first = 2, n = 7;
#endif
    int bad = -1;
    for (int i = 0; i < n && bad < 0; i++) {
        unsigned long w = want[i];
        if (i == (IS64 ? 3 : 0))
            w = (unsigned long)getpid();   /* the pid argument */
        if (io[first + i] != w)
            bad = i;
    }
    ut_check(bad < 0, "general_registers_survive_handler", "%s changed", bad < 0 ? "" : names[bad]);
    ut_check(memcmp(xmm_in, xmm_out, 32) == 0, "xmm_registers_survive_handler", "xmm6/7 changed");
    ut_check(mxcsr_out == mxcsr_in && fcw_out == fcw_in, "fpu_control_survives_handler",
             "mxcsr %#x fcw %#x", mxcsr_out, fcw_out);
    ut_check(handler_mxcsr == 0x1f80 && handler_fcw == 0x037f,
             "handler_starts_with_clean_fpu", "mxcsr %#x fcw %#x", handler_mxcsr, handler_fcw);
}

/* ---- the alternate stack -------------------------------------------------------------- */

char sig_altstack[65536] __attribute__((aligned(16)));   /* named by the assembly */
#define altstack sig_altstack
static volatile uintptr_t alt_local;
static volatile int alt_flags, alt_change_errno;

static void alt_handler(int sig)
{
    volatile char here;
    (void)sig;
    alt_local = (uintptr_t)&here;
    stack_t cur, other = { .ss_sp = altstack, .ss_size = sizeof altstack };
    sigaltstack(NULL, &cur);
    alt_flags = cur.ss_flags;
    alt_change_errno = sigaltstack(&other, NULL) == 0 ? 0 : errno;
}

static void alt_query_handler(int sig, siginfo_t *si, void *uc)
{
    volatile char here;
    (void)sig, (void)si, (void)uc;
    alt_local = (uintptr_t)&here;
    stack_t cur;
    sigaltstack(NULL, &cur);
    alt_flags = cur.ss_flags;
}

static int in_alt(uintptr_t a)
{
    return a >= (uintptr_t)altstack && a < (uintptr_t)altstack + sizeof altstack;
}

/* Handlers in assembly that raise SIGUSR1 again with the stack pointer
 * where a frame cannot go: 200 bytes above the bottom of the alternate
 * stack (a frame needs more: it would overflow it), or at 4096 (nothing
 * is mapped there).  Their process must die of SIGSEGV. */
void near_bottom(int), at_4096(int);
#if IS64
#define RAISE_USR1 "  mov $39, %eax\n  syscall\n" \
                   "  mov %eax, %edi\n  mov $10, %esi\n  mov $62, %eax\n  syscall\n  hlt\n"
__asm__(".text\n.globl near_bottom\nnear_bottom:\n"
        "  lea sig_altstack+200(%rip), %rsp\n" RAISE_USR1
        ".globl at_4096\nat_4096:\n"
        "  mov $4096, %rsp\n" RAISE_USR1);
#else
#define RAISE_USR1 "  mov $20, %eax\n  int $0x80\n" \
                   "  mov %eax, %ebx\n  mov $10, %ecx\n  mov $37, %eax\n  int $0x80\n  hlt\n"
__asm__(".text\n.globl near_bottom\nnear_bottom:\n"
        "  lea sig_altstack+200, %esp\n" RAISE_USR1
        ".globl at_4096\nat_4096:\n"
        "  mov $4096, %esp\n" RAISE_USR1);
#endif

/* A child: SIGUSR1's handler is fn (on the alternate stack sp, size
 * bytes, when sp is not NULL); it raises SIGUSR1. */
static int frame_child(void (*fn)(int), void *sp, size_t size)
{
    pid_t pid = ut_fork();
    if (pid == 0) {
        if (sp) {
            stack_t ss = { .ss_sp = sp, .ss_size = size };
            sigaltstack(&ss, NULL);
        }
        on(SIGUSR1, fn, sp ? SA_ONSTACK | SA_NODEFER : SA_NODEFER);
        kill(getpid(), SIGUSR1);
        _exit(0);
    }
    return ut_wait(pid);
}

static void t_altstack(void)
{
    reset_all();
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack }, cur;
    ut_check(sigaltstack(&ss, NULL) == 0, "sigaltstack_set", "errno %d", errno);
    sigaltstack(NULL, &cur);
    ut_check(cur.ss_flags == 0 && cur.ss_sp == altstack && cur.ss_size == sizeof altstack,
             "sigaltstack_query_outside", "flags %d", cur.ss_flags);
    on(SIGUSR1, alt_handler, SA_ONSTACK);
    kill(getpid(), SIGUSR1);
    ut_check(in_alt(alt_local), "sa_onstack_handler_on_alt_stack", "local not in it");
    ut_check(alt_flags == SS_ONSTACK, "ss_onstack_reported_inside", "flags %d", alt_flags);
    ut_check(alt_change_errno == EPERM, "change_while_on_it_eperm", "errno %s",
             ut_errno_name(alt_change_errno));
    on(SIGUSR1, alt_handler, 0);
    kill(getpid(), SIGUSR1);
    ut_check(!in_alt(alt_local) && alt_flags == 0, "without_sa_onstack_normal_stack",
             "flags %d", alt_flags);

    stack_t small = { .ss_sp = altstack, .ss_size = MINSIGSTKSZ - 1 };
    ut_check_errno("sigaltstack_too_small_enomem", sigaltstack(&small, NULL), ENOMEM);
    stack_t badf = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 12345 };
    ut_check_errno("sigaltstack_bad_flags_einval", sigaltstack(&badf, NULL), EINVAL);
    stack_t off = { .ss_flags = SS_DISABLE };
    sigaltstack(&off, NULL);
    sigaltstack(NULL, &cur);
    ut_check(cur.ss_flags == SS_DISABLE, "sigaltstack_disable", "flags %d", cur.ss_flags);
    on(SIGUSR1, alt_handler, SA_ONSTACK);
    kill(getpid(), SIGUSR1);
    ut_check(!in_alt(alt_local), "sa_onstack_without_stack_normal_stack", "ran on the old one");

    /* SS_AUTODISARM: the stack is off while the handler runs on it (so
     * the handler may set another), and back after it: rt_sigreturn
     * restores it (i386's old sigreturn, without SA_SIGINFO, would not). */
    stack_t ad = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = SS_AUTODISARM };
    sigaltstack(&ad, NULL);
    on_info(SIGUSR1, alt_query_handler, SA_ONSTACK);
    kill(getpid(), SIGUSR1);
    sigaltstack(NULL, &cur);
    ut_check(in_alt(alt_local) && alt_flags == SS_DISABLE, "ss_autodisarm_off_inside",
             "flags %d", alt_flags);
    ut_check(cur.ss_flags == (int)SS_AUTODISARM && cur.ss_sp == altstack,
             "ss_autodisarm_back_after", "flags %#x", cur.ss_flags);
    /* One set inside the handler, while on the old one's memory, stays:
     * rt_sigreturn's restore is refused there (Linux looks at the stack
     * pointer the handler returns with). */
    on(SIGUSR1, alt_handler, SA_ONSTACK);
    kill(getpid(), SIGUSR1);
    sigaltstack(NULL, &cur);
    ut_check(alt_change_errno == 0 && cur.ss_flags == 0, "ss_autodisarm_set_inside_stays",
             "errno %d flags %#x", alt_change_errno, cur.ss_flags);
    sigaltstack(&off, NULL);

    /* Frames that cannot be written: SIGSEGV. */
    child_killed(frame_child(near_bottom, altstack, sizeof altstack), SIGSEGV,
                 "altstack_overflow_sigsegv");
    void *ro = mmap(NULL, 16 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    child_killed(frame_child(alt_handler, ro, 16 * PAGE), SIGSEGV, "altstack_read_only_sigsegv");
    munmap(ro, 16 * PAGE);
    child_killed(frame_child(at_4096, NULL, 0), SIGSEGV, "stack_pointer_unmapped_sigsegv");
}

/* ---- faults ---------------------------------------------------------------------------- */

static sigjmp_buf jb;
static volatile int f_sig, f_code;
static volatile uintptr_t f_addr, f_ip;

static void fault_handler(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    f_sig = sig;
    f_code = si->si_code;
    f_addr = (uintptr_t)si->si_addr;
    f_ip = (uintptr_t)UC_IP(uc);
    siglongjmp(jb, 1);
}

static volatile int sink;
static char *ro_page;

static void do_null_write(void) { *(volatile int *)0 = 1; }
static void do_ro_write(void) { *(volatile int *)(ro_page + 8) = 1; }
static void do_div0(void)
{
    volatile int zero = 0, seven = 7;
    sink = seven / zero;
}
static void do_ud2(void) { __asm__ volatile("ud2"); }

/* SSE: divide by zero with that exception unmasked in MXCSR (#XM). */
static void do_sse_div0(void)
{
    uint32_t mx = 0x1f80 & ~0x200u;   /* ZM clear */
    volatile double one = 1.0, zero = 0.0, r;
    __asm__ volatile("ldmxcsr %1\n\tmovsd %2, %%xmm0\n\tdivsd %3, %%xmm0\n\tmovsd %%xmm0, %0"
                     : "=m"(r) : "m"(mx), "m"(one), "m"(zero) : "xmm0");
}

/* x87: the same with ZM clear in the control word; the next x87
 * instruction (fwait) reports it (#MF). */
static void do_x87_div0(void)
{
    uint16_t cw = 0x037f & ~0x4u;
    __asm__ volatile("fldcw %0\n\tfld1\n\tfldz\n\tfdivrp\n\tfwait\n\tfstp %%st(0)" : : "m"(cw));
}

/* Run fn with handlers for the fault signals; 1 if one came. */
static int fault(void (*fn)(void))
{
    f_sig = f_code = 0;
    f_addr = f_ip = 0;
    if (sigsetjmp(jb, 1) == 0) {
        fn();
        return 0;
    }
    return 1;
}

static volatile int trap_count;

static void trap_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    f_sig = sig;
    f_code = si->si_code;
    trap_count++;
}

static void fix_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    /* Make the page writable and return: the write is done again. */
    mprotect((void *)((uintptr_t)si->si_addr & ~(PAGE - 1)), PAGE, PROT_READ | PROT_WRITE);
    trap_count++;
}

static void t_faults(void)
{
    reset_all();
    on_info(SIGSEGV, fault_handler, 0);
    on_info(SIGFPE, fault_handler, 0);
    on_info(SIGILL, fault_handler, 0);
    ro_page = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    int got = fault(do_null_write);
    ut_check(got && f_sig == SIGSEGV && f_code == SEGV_MAPERR && f_addr == 0,
             "null_write_segv_maperr_addr_0", "sig %d code %d addr %s", f_sig, f_code,
             f_addr ? "not 0" : "0");
    got = fault(do_ro_write);
    ut_check(got && f_sig == SIGSEGV && f_code == SEGV_ACCERR &&
             f_addr == (uintptr_t)ro_page + 8, "readonly_write_segv_accerr_addr", "sig %d code %d",
             f_sig, f_code);
    got = fault(do_div0);
    ut_check(got && f_sig == SIGFPE && f_code == FPE_INTDIV && f_addr == f_ip && f_ip,
             "divide_by_zero_fpe_intdiv_at_instruction", "sig %d code %d", f_sig, f_code);
    got = fault(do_ud2);
    ut_check(got && f_sig == SIGILL && f_code == ILL_ILLOPN && f_addr == f_ip && f_ip &&
             ((const uint8_t *)f_ip)[0] == 0x0f && ((const uint8_t *)f_ip)[1] == 0x0b,
             "ud2_sigill_illopn_at_instruction", "sig %d code %d", f_sig, f_code);

    got = fault(do_sse_div0);
    __asm__ volatile("ldmxcsr %0" : : "m"((uint32_t){ 0x1f80 }));
    if (!got && ut_on_mmk())   /* the instruction completed: no #XM came at all */
        ut_skip("sse_divide_by_zero_fpe_fltdiv", "QEMU's emulator (TCG) raises no #XM");
    else
        ut_check(got && f_sig == SIGFPE && f_code == FPE_FLTDIV, "sse_divide_by_zero_fpe_fltdiv",
                 "sig %d code %d", f_sig, f_code);
    got = fault(do_x87_div0);
    __asm__ volatile("fninit");
    ut_check(got && f_sig == SIGFPE && f_code == FPE_FLTDIV, "x87_divide_by_zero_fpe_fltdiv",
             "sig %d code %d", f_sig, f_code);

    /* int3: SIGTRAP from the kernel; the handler returns, the program goes on. */
    on_info(SIGTRAP, trap_handler, 0);
    trap_count = 0;
    __asm__ volatile("int3");
    ut_check(trap_count == 1 && f_sig == SIGTRAP && f_code == SI_KERNEL, "int3_sigtrap_si_kernel",
             "count %d code %d", trap_count, f_code);

    /* A handler that fixes the cause: the instruction runs again. */
    on_info(SIGSEGV, fix_handler, 0);
    trap_count = 0;
    *(volatile int *)(ro_page + 16) = 5;
    ut_check(trap_count == 1 && ((volatile int *)ro_page)[4] == 5, "handler_fixes_fault_returns",
             "count %d", trap_count);
    munmap(ro_page, PAGE);

    /* Blocked, ignored, or inside its own handler: the fault kills. */
    pid_t pid = ut_fork();
    if (pid == 0) {
        on_info(SIGSEGV, fault_handler, 0);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGSEGV);
        sigprocmask(SIG_BLOCK, &s, NULL);
        do_null_write();
        _exit(0);
    }
    child_killed(ut_wait(pid), SIGSEGV, "fault_with_signal_blocked_kills");
    pid = ut_fork();
    if (pid == 0) {
        signal(SIGFPE, SIG_IGN);
        do_div0();
        _exit(0);
    }
    child_killed(ut_wait(pid), SIGFPE, "fault_with_signal_ignored_kills");
    pid = ut_fork();
    if (pid == 0) {
        on(SIGSEGV, (void (*)(int))do_null_write, 0);
        do_null_write();
        _exit(0);
    }
    child_killed(ut_wait(pid), SIGSEGV, "fault_in_its_own_handler_kills");
    reset_all();
}

/* ---- doctored frames ------------------------------------------------------------------- */

static int doctor_what;

static void doctor(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    switch (doctor_what) {
    case 0:   /* a kernel code segment */
#if IS64
        uc->uc_mcontext.gregs[REG_CSGSFS] = (uc->uc_mcontext.gregs[REG_CSGSFS] & ~0xffffl) | 0x08;
#else
        uc->uc_mcontext.gregs[REG_CS] = 0x08;
#endif
        break;
    case 1:   /* FPU state somewhere unreadable */
        uc->uc_mcontext.fpregs = (void *)16;
        break;
    case 2:   /* reserved MXCSR bits: fxrstor would fault */
#if IS64
        uc->uc_mcontext.fpregs->mxcsr = 0xffffffffu;
#else
        *(uint32_t *)((char *)uc->uc_mcontext.fpregs + 136) = 0xffffffffu;
#endif
        break;
    case 3:   /* privileged flags: IOPL 3 */
        uc->uc_mcontext.gregs[REG_EFL] |= 0x3000;
        break;
#if IS64
    case 4:   /* a RIP no CPU can return to */
        uc->uc_mcontext.gregs[REG_RIP] = (long)0x8000000000000000ul;
        break;
    case 5:   /* a stack pointer the first push or ret cannot use */
        uc->uc_mcontext.gregs[REG_RSP] = (long)0x8000000000000000ul;
        break;
#endif
    }
}

static void raw_sigreturn_bad_stack(void)
{
#if IS64
    __asm__ volatile("mov $4096, %%rsp\n\tmov $15, %%eax\n\tsyscall" ::: "memory");
#else
    __asm__ volatile("mov $4096, %%esp\n\tmov $173, %%eax\n\tint $0x80" ::: "memory");
#endif
}

static int doctored_child(int what)
{
    pid_t pid = ut_fork();
    if (pid == 0) {
        doctor_what = what;
        on_info(SIGUSR1, doctor, 0);
        kill(getpid(), SIGUSR1);
        _exit(0);
    }
    return ut_wait(pid);
}

static void t_doctored(void)
{
    reset_all();
    child_killed(doctored_child(0), SIGSEGV, "sigreturn_kernel_cs_sigsegv");
    child_killed(doctored_child(1), SIGSEGV, "sigreturn_unreadable_fpstate_sigsegv");
    child_killed(doctored_child(2), SIGSEGV, "sigreturn_reserved_mxcsr_bits_sigsegv");
#if IS64
    child_killed(doctored_child(4), SIGSEGV, "sigreturn_noncanonical_rip_sigsegv");
    /* The first use of the stack faults: #SS on the CPU (Linux: SIGBUS),
     * #GP under QEMU's emulator (SIGSEGV).  The kernel must survive it. */
    int st = doctored_child(5);
    char why[64];
    ut_check(ut_killed_by(st, SIGBUS) || ut_killed_by(st, SIGSEGV),
             "sigreturn_noncanonical_rsp_killed", "child: %s", ut_status_str(st, why, sizeof why));
#endif
    /* Linux quietly drops privileged flags; mmk refuses the frame. */
    if (ut_on_mmk())
        child_killed(doctored_child(3), SIGSEGV, "sigreturn_iopl_flags_sigsegv");
    else
        ut_skip("sigreturn_iopl_flags_sigsegv", "Linux drops the bits and goes on");
    pid_t pid = ut_fork();
    if (pid == 0) {
        raw_sigreturn_bad_stack();
        _exit(0);
    }
    child_killed(ut_wait(pid), SIGSEGV, "sigreturn_unreadable_frame_sigsegv");
}

/* ---- abort ------------------------------------------------------------------------------ */

static int report_fd = -1;

static void abort_handler(int sig)
{
    (void)sig;
    write(report_fd, "h", 1);   /* returns: abort goes on */
}

static int abort_child(int how, int *handled)
{
    int p[2];
    pipe(p);
    pid_t pid = ut_fork();
    if (pid == 0) {
        close(p[0]);
        report_fd = p[1];
        if (how == 1)
            on(SIGABRT, abort_handler, 0);
        if (how == 2) {
            sigset_t s;
            sigemptyset(&s);
            sigaddset(&s, SIGABRT);
            sigprocmask(SIG_BLOCK, &s, NULL);
        }
        if (how == 3)
            signal(SIGABRT, SIG_IGN);
        abort();
    }
    close(p[1]);
    char c = 0;
    *handled = read(p[0], &c, 1) == 1 && c == 'h';
    close(p[0]);
    return ut_wait(pid);
}

static void t_abort(void)
{
    reset_all();
    int h, st = abort_child(0, &h);
    child_killed(st, SIGABRT, "abort_sigabrt");
    if (ut_on_mmk())
        ut_check(WCOREDUMP(st), "abort_core_flag_in_status", "status %#x", st);
    else
        ut_skip("abort_core_flag_in_status", "the host run forbids core files");
    st = abort_child(1, &h);
    child_killed(st, SIGABRT, "abort_with_returning_handler_sigabrt");
    ut_check(h, "abort_handler_ran_first", "no report");
    child_killed(abort_child(2, &h), SIGABRT, "abort_blocked_sigabrt");
    child_killed(abort_child(3, &h), SIGABRT, "abort_ignored_sigabrt");
}

int main(void)
{
    ut_init();
    t_registers();
    t_altstack();
    t_faults();
    t_doctored();
    t_abort();
    reset_all();
    return ut_done();
}
