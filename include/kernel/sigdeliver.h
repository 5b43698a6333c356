/*
 * Inside the signal code: actions, queues, the alternate stack and the
 * frame builders, shared by kernel/proc/signal.c, sig_*.c and
 * compat32/signal32.c, sigframe32.c.  The rest of the kernel uses
 * include/kernel/signal.h only.
 *
 * The values are Linux's (include/uapi/asm-generic/signal-defs.h,
 * arch/x86/include/uapi/asm/signal.h): programs pass them unchanged.
 */
#ifndef KERNEL_SIGDELIVER_H
#define KERNEL_SIGDELIVER_H

#include <kernel/signal.h>

struct trap_frame;

/* sa_handler values that are not handlers. */
#define SIG_DFL 0ul
#define SIG_IGN 1ul

/* sa_flags */
#define SA_NOCLDSTOP  0x00000001ul
#define SA_NOCLDWAIT  0x00000002ul
#define SA_SIGINFO    0x00000004ul
#define SA_EXPOSE_TAGBITS 0x00000800ul
#define SA_RESTORER   0x04000000ul
#define SA_ONSTACK    0x08000000ul
#define SA_RESTART    0x10000000ul
#define SA_NODEFER    0x40000000ul
#define SA_RESETHAND  0x80000000ul
/* What rt_sigaction keeps (Linux clears the other bits, so that a
 * program can tell which flags the kernel knows). */
#define SA_KNOWN (SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_EXPOSE_TAGBITS | SA_RESTORER | \
                  SA_ONSTACK | SA_RESTART | SA_NODEFER | SA_RESETHAND)

/* sigaltstack */
#define SS_ONSTACK    1
#define SS_DISABLE    2
#define SS_AUTODISARM (1u << 31)
#define MINSIGSTKSZ   2048

/* rt_sigprocmask's how */
#define SIG_BLOCK   0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2

/* Signals a fault raises: taken before the others (Linux's SYNCHRONOUS_MASK). */
#define SIG_SYNCHRONOUS (sigmask(SIGSEGV) | sigmask(SIGBUS) | sigmask(SIGILL) | \
                         sigmask(SIGTRAP) | sigmask(SIGFPE) | sigmask(SIGSYS))
#define SIG_STOPS (sigmask(SIGSTOP) | sigmask(SIGTSTP) | sigmask(SIGTTIN) | sigmask(SIGTTOU))

/* One action, whatever the ABI it was set through. */
struct k_sigaction {
    uint64_t handler;       /* SIG_DFL, SIG_IGN or the user address of the handler */
    uint64_t flags;         /* SA_* */
    uint64_t restorer;      /* SA_RESTORER: where the handler returns (it calls rt_sigreturn) */
    ksigset_t mask;         /* blocked while the handler runs (never SIGKILL, SIGSTOP) */
};

/* The actions of a process: shared by the tasks that hold a reference. */
struct sighand_struct {
    int count;
    struct k_sigaction action[NSIG];
};

/* One pending instance. */
struct sigqueue {
    struct sigqueue *next;
    struct kernel_siginfo info;
};

/* At most this many instances wait per task (Linux's RLIMIT_SIGPENDING
 * is larger, but a limit there must be): beyond it a real-time signal is
 * refused (-EAGAIN), a standard one is kept without its details. */
#define SIGQUEUE_MAX 256

/* A sigaltstack, whatever the ABI. */
struct k_stack {
    uint64_t sp;
    int flags;
    uint64_t size;
};

/* ---- kernel/proc/signal.c ----------------------------------------------- */

enum sig_default { SIGDFL_TERM, SIGDFL_CORE, SIGDFL_IGN, SIGDFL_STOP, SIGDFL_CONT };
/* What SIG_DFL does for sig (signal(7)'s table). */
enum sig_default sig_default_action(int sig);
static inline bool sig_valid(int sig)
{
    return sig >= 1 && sig <= NSIG;
}
/* The action of sig in t's table. */
struct k_sigaction *sig_action(struct task *t, int sig);
/* rt_sigaction's work: -EINVAL for a bad number or SIGKILL/SIGSTOP with
 * act.  act and oact may be NULL. */
int do_sigaction(int sig, const struct k_sigaction *act, struct k_sigaction *oact);
/* Set current's mask (SIGKILL and SIGSTOP are taken out). */
void set_current_blocked(ksigset_t set);
/* rt_sigprocmask's work on a 64-bit set: -EINVAL for a bad how. */
int do_sigprocmask(int how, ksigset_t set, ksigset_t *old);
/* Take the first pending signal of mask from t's queue (the lowest
 * number, a fault's first): its number with *info filled, or 0. */
int dequeue_signal(struct task *t, ksigset_t mask, struct kernel_siginfo *info);
/* kill(pid, sig) from current (SI_USER): Linux's four cases of pid.
 * 0, -ESRCH (nobody there), -EINVAL (a bad number), -EAGAIN. */
int kill_something(int pid, int sig);
/* Send with si_code code and current's pid to task pid, which must be in
 * thread group tgid unless tgid is 0 (tkill/tgkill). */
int kill_task(int tgid, int pid, int sig, int code);
/* sigaltstack's work; sp is the user's stack pointer now (no change is
 * allowed while running on the alternate stack: -EPERM). */
int do_sigaltstack(const struct k_stack *ss, struct k_stack *oss, uint64_t sp);
/* Is sp on current's alternate stack? */
bool on_sig_stack(uint64_t sp);
/* SS_ONSTACK, SS_DISABLE or 0 for sp (sigaltstack's ss_flags). */
int sas_ss_flags(uint64_t sp);
/* t stops with sig: wait4's WUNTRACED sees it, its parent gets SIGCHLD
 * (CLD_STOPPED) unless SA_NOCLDSTOP. */
void signal_stopped(struct task *t, int sig);
/* The sleep of pause, rt_sigsuspend: until a signal. */
void sleep_until_signal(void);

/* ---- kernel/proc/sig_wait.c: the work of the calls that wait ------------ */

/* rt_sigsuspend: -ERESTARTNOHAND once a signal came. */
long do_sigsuspend(ksigset_t mask);
/* rt_sigtimedwait: a signal of set (its number, *info filled), -EAGAIN
 * at the timeout (timeout[0] s + timeout[1] ns; NULL: none), -EINTR for
 * another signal, -EINVAL for a bad timeout. */
long do_sigtimedwait(ksigset_t set, struct kernel_siginfo *info, const int64_t *timeout);
/* clock_nanosleep (urem: where the time left goes, in the i386 layout
 * if rem32). */
long do_clock_nanosleep(int clock, int flags, int64_t sec, int64_t nsec, uint64_t urem,
                        bool rem32);

/* ---- kernel/proc/sig_frame.c: the x86-64 frame, and what both ABIs share -- */

/* Where a frame of frame_size bytes goes for a handler of ka, with the
 * FPU state above it (a fpu_header-byte header, then the 512-byte fxsave
 * image at a 64-byte boundary): on the alternate stack when asked for
 * and not already there, else below sp (and x86-64's 128-byte red zone).
 * Returns the frame's address, aligned as a call leaves the stack
 * (x86-64: RSP + 8 a multiple of 16; i386: ESP + 4), with *fpu the FPU
 * state's; or 0 when the frame would overflow the alternate stack. */
uint64_t sig_frame_place(uint64_t sp, const struct k_sigaction *ka, bool ia32, size_t frame_size,
                         size_t fpu_header, uint64_t *fpu);
/* current's FPU registers into current->fpu (the live ones: the task is
 * running), and a fresh FPU for a handler. */
void sig_fpu_save(void);
void sig_fpu_reset(void);
/* May an fxsave image from the user be loaded (no reserved MXCSR bit,
 * on which fxrstor faults)?  Then load current's FPU registers from it. */
bool sig_fpu_ok(const uint8_t img[512]);
void sig_fpu_load(const uint8_t img[512]);
/* Set up a 64-bit handler: 0, or -EFAULT when the frame cannot be written. */
int setup_rt_frame64(struct trap_frame *f, const struct k_sigaction *ka,
                     const struct kernel_siginfo *info, ksigset_t oldmask);
/* siginfo in the x86-64 layout (128 bytes). */
void siginfo_to_user64(const struct kernel_siginfo *k, uint8_t out[128]);
/* Is flags (from a frame) a value user mode may have?  Privileged or
 * reserved bits make a frame bad. */
bool sig_flags_ok(uint64_t flags);
/* The flags to return with: the user's arithmetic and control bits from
 * the frame, IF and the reserved bit 1 set. */
uint64_t sig_flags_merge(uint64_t flags);
/* A rejected sigreturn: log one line, force SIGSEGV. */
long sig_bad_frame(const char *what, uint64_t addr);

/* ---- compat32/sigframe32.c ---------------------------------------------- */

/* Set up an i386 handler: struct sigframe (sigreturn) without SA_SIGINFO,
 * struct rt_sigframe with it.  0 or -EFAULT. */
int setup_frame32(struct trap_frame *f, int sig, const struct k_sigaction *ka,
                  const struct kernel_siginfo *info, ksigset_t oldmask);
/* siginfo in the i386 layout (128 bytes). */
void siginfo_to_user32(const struct kernel_siginfo *k, uint8_t out[128]);

#endif
