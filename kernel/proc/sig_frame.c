/*
 * The x86-64 signal frame, and what the i386 one shares with it: where a
 * frame goes, the FPU image, the flags a frame may carry.
 *
 * A 64-bit handler always gets Linux's struct rt_sigframe
 * (arch/x86/include/asm/sigframe.h), at RSP, as if it had been called:
 *
 *   RSP+0    pretcode      sa_restorer: where the handler's `ret` goes;
 *                          it calls rt_sigreturn (musl's __restore_rt)
 *   RSP+8    uc            struct ucontext: uc_flags, uc_link, uc_stack,
 *                          uc_mcontext (struct sigcontext: the
 *                          interrupted registers, 256 bytes), uc_sigmask
 *   RSP+312  info          siginfo, 128 bytes
 *   ...      (padding)
 *   above    the fxsave image (512 bytes, 64-byte aligned), pointed to by
 *            uc_mcontext.fpstate
 *
 * with RDI = sig, RSI = &info, RDX = &uc, RAX = 0, RSP + 8 a multiple
 * of 16.  The frame goes below the interrupted RSP minus the 128-byte red
 * zone, or at the top of the alternate stack (SA_ONSTACK).  x86-64 has
 * no return trampoline of the kernel's: a handler without SA_RESTORER
 * cannot be returned from, and its signal ends in SIGSEGV, as on Linux.
 *
 * rt_sigreturn reads the frame back at RSP - 8 (the handler's `ret`
 * popped pretcode) and restores every register, the FPU state, the mask
 * and the alternate stack (refused, as on Linux, when the handler
 * returns from the alternate stack and has changed it meanwhile).  Invariant: nothing from a frame reaches the
 * trap frame unless it is safe to iretq to: CS and SS must be the user
 * selectors of the task's mode, RIP canonical, the flags free of
 * privileged or reserved bits, and MXCSR without reserved bits, so that
 * fxrstor cannot fault (anything else is a bad frame: SIGSEGV).
 */
#include <kernel/sigdeliver.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>

#define USER_TOP_64 0x0000800000000000ul   /* canonical user addresses end here */
#define RED_ZONE    128

/* Linux's struct sigcontext (x86-64), struct ucontext and stack_t. */
struct sigcontext64 {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2;
    uint64_t fpstate;   /* user address of the fxsave image, or 0 */
    uint64_t reserved1[8];
};
_Static_assert(sizeof(struct sigcontext64) == 256, "struct sigcontext: Linux x86-64 layout");

struct stack64 {
    uint64_t ss_sp;
    int32_t ss_flags;
    uint32_t pad;
    uint64_t ss_size;
};

struct ucontext64 {
    uint64_t uc_flags, uc_link;
    struct stack64 uc_stack;
    struct sigcontext64 uc_mcontext;
    ksigset_t uc_sigmask;
};

struct rt_sigframe64 {
    uint64_t pretcode;
    struct ucontext64 uc;
    uint8_t info[128];
};
_Static_assert(offsetof(struct rt_sigframe64, uc.uc_mcontext) == 48, "sigcontext at RSP+48");
_Static_assert(offsetof(struct rt_sigframe64, uc.uc_sigmask) == 304, "uc_sigmask at RSP+304");
_Static_assert(offsetof(struct rt_sigframe64, info) == 312, "siginfo at RSP+312");
_Static_assert(sizeof(struct rt_sigframe64) == 440, "struct rt_sigframe: 440 bytes");

/* uc_flags: the frame holds SS, and rt_sigreturn restores it as saved. */
#define UC_SIGCONTEXT_SS     0x2
#define UC_STRICT_RESTORE_SS 0x4

/* RFLAGS */
#define FL_CF 0x1ul
#define FL_1  0x2ul       /* always 1 */
#define FL_PF 0x4ul
#define FL_AF 0x10ul
#define FL_ZF 0x40ul
#define FL_SF 0x80ul
#define FL_TF 0x100ul
#define FL_IF 0x200ul
#define FL_DF 0x400ul
#define FL_OF 0x800ul
#define FL_RF 0x10000ul
#define FL_AC 0x40000ul
#define FL_ID 0x200000ul
/* What user code may change (Linux's FIX_EFLAGS, and ID, which popf sets). */
#define FL_USER (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_TF | FL_DF | FL_OF | FL_RF | FL_AC | FL_ID)

bool sig_flags_ok(uint64_t flags)
{
    /* IOPL, NT, VM, VIF, VIP and the reserved bits make a bad frame; IF
     * and bit 1 are set on return whatever the frame says. */
    return (flags & ~(FL_USER | FL_IF | FL_1)) == 0;
}

uint64_t sig_flags_merge(uint64_t flags)
{
    return (flags & FL_USER) | FL_IF | FL_1;
}

long sig_bad_frame(const char *what, uint64_t addr)
{
    struct task *t = current;
    printk("pid %d (%s): sigreturn: %s (frame at %#lx): SIGSEGV\n", t->pid, t->name, what, addr);
    force_sig(SIGSEGV);
    return 0;
}

/* ---- where the frame goes ------------------------------------------------------ */

uint64_t sig_frame_place(uint64_t sp, const struct k_sigaction *ka, bool ia32, size_t frame_size,
                         size_t fpu_header, uint64_t *fpu)
{
    const struct task_signals *s = &current->sig;
    bool nested = on_sig_stack(sp), entering = false;
    if (!ia32)
        sp -= RED_ZONE;
    if ((ka->flags & SA_ONSTACK) && sas_ss_flags(sp) == 0) {
        sp = s->ss_sp + s->ss_size;
        entering = true;
    }
    /* The fxsave image, 64-byte aligned (i386: after a 112-byte header in
     * the old fsave format), then the frame. */
    uint64_t fx = ALIGN_DOWN(sp - 512, 64ul);
    *fpu = fx - fpu_header;
    sp = *fpu - frame_size;
    /* As a call leaves it: (RSP + 8) % 16 == 0, i386 (ESP + 4) % 16 == 0. */
    sp = ia32 ? ((sp + 4) & ~15ul) - 4 : ALIGN_DOWN(sp, 16ul) - 8;
    /* A frame that would run off the alternate stack is refused (SIGSEGV)
     * rather than written over whatever lies below it. */
    if ((nested || entering) && !(sp > s->ss_sp && sp - s->ss_sp <= s->ss_size))
        return 0;
    return sp;
}

/* ---- the FPU --------------------------------------------------------------------------- */

void sig_fpu_save(void)
{
    task_fpu_save(current);
}

static void fpu_load_current(void)
{
    __asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t(*)[512])current->fpu));
}

void sig_fpu_reset(void)
{
    task_fpu_reset(current);
    fpu_load_current();
}

bool sig_fpu_ok(const uint8_t img[512])
{
    /* MXCSR_MASK (bytes 28..31 of what the CPU's own fxsave writes) says
     * which MXCSR bits exist; fxrstor faults on any other. */
    task_fpu_save(current);
    uint32_t mask, mxcsr;
    memcpy(&mask, current->fpu + 28, 4);
    if (!mask)
        mask = 0xffbf;   /* the SDM's default when the field is 0 */
    memcpy(&mxcsr, img + 24, 4);
    return (mxcsr & ~mask) == 0;
}

void sig_fpu_load(const uint8_t img[512])
{
    memcpy(current->fpu, img, 512);
    fpu_load_current();
}

/* ---- siginfo --------------------------------------------------------------------------- */

static void put32(uint8_t *out, size_t off, uint32_t v)
{
    memcpy(out + off, &v, 4);
}

static void put64(uint8_t *out, size_t off, uint64_t v)
{
    memcpy(out + off, &v, 8);
}

enum sil { SIL_KILL, SIL_RT, SIL_FAULT, SIL_CHLD };

/* Which union member of siginfo is meant (Linux's siginfo_layout). */
static enum sil layout(const struct kernel_siginfo *k)
{
    if (k->code > SI_USER && k->code < SI_KERNEL) {
        switch (k->signo) {
        case SIGILL: case SIGFPE: case SIGSEGV: case SIGBUS: case SIGTRAP:
            return SIL_FAULT;
        case SIGCHLD:
            return SIL_CHLD;
        default:
            return SIL_KILL;
        }
    }
    return k->code < 0 ? SIL_RT : SIL_KILL;
}

void siginfo_to_user64(const struct kernel_siginfo *k, uint8_t out[128])
{
    memset(out, 0, 128);
    put32(out, 0, (uint32_t)k->signo);
    put32(out, 4, (uint32_t)k->errnum);
    put32(out, 8, (uint32_t)k->code);
    switch (layout(k)) {
    case SIL_FAULT:
        put64(out, 16, k->addr);
        break;
    case SIL_CHLD:
        put32(out, 16, (uint32_t)k->pid);
        put32(out, 20, k->uid);
        put32(out, 24, (uint32_t)k->status);
        put64(out, 32, k->utime);
        put64(out, 40, k->stime);
        break;
    case SIL_RT:
        put64(out, 24, k->value);
        /* fall through: pid and uid too */
    case SIL_KILL:
        put32(out, 16, (uint32_t)k->pid);
        put32(out, 20, k->uid);
        break;
    }
}

/* ---- the 64-bit frame ------------------------------------------------------------------- */

int setup_rt_frame64(struct trap_frame *f, const struct k_sigaction *ka,
                     const struct kernel_siginfo *info, ksigset_t oldmask)
{
    struct task *t = current;
    if (!(ka->flags & SA_RESTORER) || ka->handler >= USER_TOP_64)
        return -EFAULT;
    uint64_t fpstate;
    uint64_t frame = sig_frame_place(f->rsp, ka, false, sizeof(struct rt_sigframe64), 0, &fpstate);
    if (!frame)
        return -EFAULT;
    sig_fpu_save();
    if (copy_to_user(fpstate, t->fpu, 512))
        return -EFAULT;

    struct rt_sigframe64 k;
    memset(&k, 0, sizeof(k));
    k.pretcode = ka->restorer;
    k.uc.uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
    k.uc.uc_stack.ss_sp = t->sig.ss_sp;
    k.uc.uc_stack.ss_flags = t->sig.ss_flags;
    k.uc.uc_stack.ss_size = t->sig.ss_size;
    struct sigcontext64 *sc = &k.uc.uc_mcontext;
    sc->r8 = f->r8, sc->r9 = f->r9, sc->r10 = f->r10, sc->r11 = f->r11;
    sc->r12 = f->r12, sc->r13 = f->r13, sc->r14 = f->r14, sc->r15 = f->r15;
    sc->rdi = f->rdi, sc->rsi = f->rsi, sc->rbp = f->rbp, sc->rbx = f->rbx;
    sc->rdx = f->rdx, sc->rax = f->rax, sc->rcx = f->rcx, sc->rsp = f->rsp;
    sc->rip = f->rip, sc->eflags = f->rflags;
    sc->cs = (uint16_t)f->cs, sc->ss = (uint16_t)f->ss;
    sc->err = t->sig.error, sc->trapno = t->sig.trapno, sc->cr2 = t->sig.cr2;
    sc->oldmask = oldmask;
    sc->fpstate = fpstate;
    k.uc.uc_sigmask = oldmask;
    siginfo_to_user64(info, k.info);
    if (copy_to_user(frame, &k, sizeof(k)))
        return -EFAULT;
    if (t->sig.ss_flags & SS_AUTODISARM) {   /* uc_stack keeps it for rt_sigreturn */
        t->sig.ss_sp = t->sig.ss_size = 0;
        t->sig.ss_flags = SS_DISABLE;
    }

    f->rdi = (uint64_t)info->signo;
    f->rsi = frame + offsetof(struct rt_sigframe64, info);
    f->rdx = frame + offsetof(struct rt_sigframe64, uc);
    f->rax = 0;   /* for handlers declared without a prototype (varargs) */
    f->rsp = frame;
    f->rip = ka->handler;
    f->rflags &= ~(FL_TF | FL_DF | FL_RF);
    f->cs = GDT_UCODE64 | 3;
    f->ss = GDT_UDATA | 3;
    sig_fpu_reset();   /* the handler starts with a clean FPU */
    return 0;
}

long sys_rt_sigreturn(const struct sysargs *a)
{
    (void)a;
    struct trap_frame *f = task_frame(current);
    uint64_t frame = f->rsp - 8;
    if (current->flags & TASK_COMPAT32)
        return sig_bad_frame("64-bit rt_sigreturn from a 32-bit program", frame);
    struct ucontext64 uc;
    if (copy_from_user(&uc, frame + offsetof(struct rt_sigframe64, uc), sizeof(uc)))
        return sig_bad_frame("unreadable frame", frame);
    const struct sigcontext64 *sc = &uc.uc_mcontext;
    if ((sc->cs | 3) != (GDT_UCODE64 | 3) || (sc->ss | 3) != (GDT_UDATA | 3))
        return sig_bad_frame("not a user CS or SS", frame);
    if (sc->rip >= USER_TOP_64)
        return sig_bad_frame("RIP outside user space", frame);
    if (!sig_flags_ok(sc->eflags))
        return sig_bad_frame("privileged or reserved RFLAGS bits", frame);
    uint8_t fx[512];
    if (sc->fpstate && copy_from_user(fx, sc->fpstate, sizeof(fx)))
        return sig_bad_frame("unreadable FPU state", frame);
    if (sc->fpstate && !sig_fpu_ok(fx))
        return sig_bad_frame("reserved MXCSR bits", frame);

    set_current_blocked(uc.uc_sigmask);
    f->r8 = sc->r8, f->r9 = sc->r9, f->r10 = sc->r10, f->r11 = sc->r11;
    f->r12 = sc->r12, f->r13 = sc->r13, f->r14 = sc->r14, f->r15 = sc->r15;
    f->rdi = sc->rdi, f->rsi = sc->rsi, f->rbp = sc->rbp, f->rbx = sc->rbx;
    f->rdx = sc->rdx, f->rax = sc->rax, f->rcx = sc->rcx, f->rsp = sc->rsp;
    f->rip = sc->rip;
    f->rflags = sig_flags_merge(sc->eflags);
    f->cs = GDT_UCODE64 | 3;
    f->ss = GDT_UDATA | 3;
    f->orig_rax = ~0ul;                 /* not a system call to restart any more */
    current->sig.restart.fn = NULL;     /* nor a restart_syscall left from before */
    if (sc->fpstate)
        sig_fpu_load(fx);
    else
        sig_fpu_reset();
    /* Judged by the stack pointer the handler returned with (refused while
     * on the stack, as Linux, and the refusal ignored). */
    struct k_stack ss = { uc.uc_stack.ss_sp, uc.uc_stack.ss_flags, uc.uc_stack.ss_size };
    do_sigaltstack(&ss, NULL, frame + 8);
    return (long)f->rax;
}
