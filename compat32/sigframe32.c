/*
 * The i386 signal frames, as a 32-bit Linux program expects them
 * (arch/x86/include/asm/sigframe.h, uapi/asm/sigcontext.h): the handler
 * of a 32-bit task finds, at ESP,
 *
 *   without SA_SIGINFO: struct sigframe (sigreturn, 119)
 *     ESP+0    pretcode    where the handler returns: sa_restorer
 *                          (musl's __restore: pop, then sigreturn)
 *     ESP+4    sig         the argument handler(sig)
 *     ESP+8    sc          struct sigcontext, 88 bytes: GS FS ES DS, EDI
 *                          ESI EBP ESP EBX EDX ECX EAX, trapno, err, EIP,
 *                          CS, EFLAGS, ESP again, SS, fpstate, oldmask
 *                          (the mask's low 32 bits), cr2
 *     ESP+96   (624 bytes kept for old programs, unused)
 *     ESP+720  extramask   the mask's high 32 bits
 *     ESP+724  retcode     8 bytes: popl %eax; movl $119, %eax; int $0x80
 *
 *   with SA_SIGINFO: struct rt_sigframe (rt_sigreturn, 173)
 *     ESP+0    pretcode    sa_restorer (musl's __restore_rt)
 *     ESP+4    sig, pinfo, puc: the arguments handler(sig, info, uc)
 *     ESP+16   info        i386 siginfo, 128 bytes
 *     ESP+144  uc          struct ucontext: uc_flags, uc_link, uc_stack
 *                          (12 bytes), uc_mcontext (the sigcontext),
 *                          uc_sigmask (8 bytes)
 *     ESP+260  retcode     movl $173, %eax; int $0x80
 *
 * and above either, the FPU state: the 112-byte header of the old fsave
 * format (control, status and tag words, the eight x87 registers), then
 * the fxsave image at a 64-byte boundary.  The arguments are also in
 * EAX, EDX, ECX, as Linux puts them (regparm handlers).  ESP + 4 is a
 * multiple of 16.  Without SA_RESTORER pretcode points at the vDSO's
 * __kernel_sigreturn or __kernel_rt_sigreturn (kernel/vdso/vdso32.S), as
 * Linux does: glibc gives no restorer when a vDSO is there.  Without a
 * vDSO (unmapped) it points at retcode, as Linux does then; mmk's user
 * stacks are not executable, so such a handler cannot return.
 *
 * Returning restores what the frame holds; the same rules as the 64-bit
 * frame (kernel/proc/sig_frame.c) keep a doctored frame from doing harm:
 * CS and SS must be the 32-bit user ones, the flags user flags, the data
 * selectors are loaded through tls_switch_in (one that would fault
 * becomes 0), MXCSR may hold no reserved bit.  The x87 registers and
 * words of the fsave header win over the fxsave image's, as on Linux.
 */
#include <kernel/sigdeliver.h>
#include <compat32/compat32.h>
#include <compat32/signal32.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>
#include <kernel/vdso.h>
#include <kernel/x86.h>

struct sigcontext32 {
    uint16_t gs, gsh, fs, fsh, es, esh, ds, dsh;
    uint32_t di, si, bp, sp, bx, dx, cx, ax;
    uint32_t trapno, err, ip;
    uint16_t cs, csh;
    uint32_t flags, sp_at_signal;
    uint16_t ss, ssh;
    uint32_t fpstate, oldmask, cr2;
};
_Static_assert(sizeof(struct sigcontext32) == 88, "struct sigcontext: Linux i386 layout");

#define FPSTATE32_SIZE 624   /* struct _fpstate_32: the fsave header and the fxsave image */
#define FSAVE_HEADER   112

struct sigframe32 {
    uint32_t pretcode;
    int32_t sig;
    struct sigcontext32 sc;
    uint8_t fpstate_unused[FPSTATE32_SIZE];
    uint32_t extramask;
    uint8_t retcode[8];
};
_Static_assert(sizeof(struct sigframe32) == 732, "struct sigframe_ia32: 732 bytes");

struct stack32 {
    uint32_t ss_sp;
    int32_t ss_flags;
    uint32_t ss_size;
};

struct ucontext32 {
    uint32_t uc_flags, uc_link;
    struct stack32 uc_stack;
    struct sigcontext32 uc_mcontext;
    uint32_t uc_sigmask[2];
};

struct rt_sigframe32 {
    uint32_t pretcode;
    int32_t sig;
    uint32_t pinfo, puc;
    uint8_t info[128];
    struct ucontext32 uc;
    uint8_t retcode[8];
};
_Static_assert(offsetof(struct rt_sigframe32, uc) == 144, "ucontext at ESP+144");
_Static_assert(sizeof(struct rt_sigframe32) == 268, "struct rt_sigframe_ia32: 268 bytes");

#define FL_TF 0x100ul
#define FL_DF 0x400ul
#define FL_RF 0x10000ul

#define NR32_sigreturn    119
#define NR32_rt_sigreturn 173

/* ---- siginfo ----------------------------------------------------------------------- */

void siginfo_to_user32(const struct kernel_siginfo *k, uint8_t out[128])
{
    /* The 64-bit layout moved down: the union starts at 12, not 16, and
     * its longs and pointers are 4 bytes. */
    uint8_t wide[128];
    siginfo_to_user64(k, wide);
    memset(out, 0, 128);
    memcpy(out, wide, 12);   /* signo, errno, code */
    bool fault = k->code > SI_USER && k->code < SI_KERNEL &&
                 (k->signo == SIGILL || k->signo == SIGFPE || k->signo == SIGSEGV ||
                  k->signo == SIGBUS || k->signo == SIGTRAP);
    bool chld = k->code > SI_USER && k->code < SI_KERNEL && k->signo == SIGCHLD;
    uint32_t v[5] = { (uint32_t)k->pid, k->uid, 0, 0, 0 };
    if (fault) {
        v[0] = (uint32_t)k->addr;
        v[1] = 0;
    } else if (chld) {
        v[2] = (uint32_t)k->status;
        v[3] = (uint32_t)k->utime;
        v[4] = (uint32_t)k->stime;
    } else if (k->code < 0) {
        v[2] = (uint32_t)k->value;   /* sigval */
    }
    memcpy(out + 12, v, sizeof(v));
}

/* ---- the FPU state: the fsave header beside the fxsave image --------------------------- */

/* fxsave keeps one "in use" bit per register; fsave's tag word two bits
 * per register: 0 valid, 1 zero, 2 special, 3 empty.  The class is read
 * from the register itself (top of stack in FSW bits 11-13). */
static uint32_t tag_word(const uint8_t *fx)
{
    uint16_t fsw;
    memcpy(&fsw, fx + 2, 2);
    unsigned top = (fsw >> 11) & 7, used = fx[4];
    uint32_t tags = 0xffff0000u;
    for (unsigned phys = 0; phys < 8; phys++) {
        unsigned tag = 3;
        if (used & (1u << phys)) {
            const uint8_t *st = fx + 32 + 16 * ((phys - top) & 7);
            uint64_t mant;
            uint16_t exp;
            memcpy(&mant, st, 8);
            memcpy(&exp, st + 8, 2);
            exp &= 0x7fff;
            if (exp == 0x7fff)
                tag = 2;
            else if (exp == 0)
                tag = mant ? 2 : 1;
            else
                tag = (mant >> 63) ? 0 : 2;
        }
        tags |= tag << (2 * phys);
    }
    return tags;
}

/* The 112-byte header from the fxsave image in current->fpu. */
static void fsave_header(uint8_t hdr[FSAVE_HEADER], const struct trap_frame *f)
{
    const uint8_t *fx = current->fpu;
    uint16_t fcw, fsw;
    uint32_t fip, fdp;
    memcpy(&fcw, fx + 0, 2);
    memcpy(&fsw, fx + 2, 2);
    memcpy(&fip, fx + 8, 4);
    memcpy(&fdp, fx + 16, 4);
    uint32_t env[7] = { fcw | 0xffff0000u, fsw | 0xffff0000u, tag_word(fx), fip,
                        (uint32_t)f->cs, fdp, read_seg(0) | 0xffff0000u };
    memset(hdr, 0, FSAVE_HEADER);
    memcpy(hdr, env, sizeof(env));
    for (int i = 0; i < 8; i++)
        memcpy(hdr + 28 + 10 * i, fx + 32 + 16 * i, 10);
    memcpy(hdr + 108, &fsw, 2);   /* status; magic 0 at 110: fxsave data follows */
}

/* Fold a header read back from the user into an fxsave image. */
static void fsave_header_apply(uint8_t *fx, const uint8_t hdr[FSAVE_HEADER])
{
    uint32_t env[7];
    memcpy(env, hdr, sizeof(env));
    uint16_t fcw = (uint16_t)env[0], fsw = (uint16_t)env[1], fop = (uint16_t)(env[4] >> 16);
    uint8_t used = 0;
    for (int i = 0; i < 8; i++)
        if (((env[2] >> (2 * i)) & 3) != 3)
            used |= (uint8_t)(1u << i);
    memcpy(fx + 0, &fcw, 2);
    memcpy(fx + 2, &fsw, 2);
    fx[4] = used;
    memcpy(fx + 6, &fop, 2);
    uint64_t fip = env[3], fdp = env[5];
    memcpy(fx + 8, &fip, 8);
    memcpy(fx + 16, &fdp, 8);
    for (int i = 0; i < 8; i++)
        memcpy(fx + 32 + 16 * i, hdr + 28 + 10 * i, 10);
}

/* ---- setting up a frame ----------------------------------------------------------------- */

static void sigcontext_fill(struct sigcontext32 *sc, const struct trap_frame *f, uint64_t fpstate,
                            ksigset_t oldmask)
{
    const struct task *t = current;
    memset(sc, 0, sizeof(*sc));
    sc->gs = read_seg(3), sc->fs = read_seg(2), sc->es = read_seg(1), sc->ds = read_seg(0);
    sc->di = (uint32_t)f->rdi, sc->si = (uint32_t)f->rsi, sc->bp = (uint32_t)f->rbp;
    sc->sp = (uint32_t)f->rsp, sc->bx = (uint32_t)f->rbx, sc->dx = (uint32_t)f->rdx;
    sc->cx = (uint32_t)f->rcx, sc->ax = (uint32_t)f->rax;
    sc->trapno = (uint32_t)t->sig.trapno, sc->err = (uint32_t)t->sig.error;
    sc->ip = (uint32_t)f->rip, sc->cs = (uint16_t)f->cs, sc->flags = (uint32_t)f->rflags;
    sc->sp_at_signal = (uint32_t)f->rsp, sc->ss = (uint16_t)f->ss;
    sc->fpstate = (uint32_t)fpstate;
    sc->oldmask = (uint32_t)oldmask;
    sc->cr2 = (uint32_t)t->sig.cr2;
}

static int write_fpstate(uint64_t fpstate, const struct trap_frame *f)
{
    uint8_t hdr[FSAVE_HEADER];
    sig_fpu_save();
    fsave_header(hdr, f);
    if (copy_to_user(fpstate, hdr, sizeof(hdr)))
        return -EFAULT;
    return copy_to_user(fpstate + FSAVE_HEADER, current->fpu, 512);
}

static void enter_handler(struct trap_frame *f, const struct k_sigaction *ka, uint64_t frame,
                          int sig, uint64_t edx, uint64_t ecx)
{
    struct task *t = current;
    if (t->sig.ss_flags & SS_AUTODISARM) {
        t->sig.ss_sp = t->sig.ss_size = 0;
        t->sig.ss_flags = SS_DISABLE;
    }
    f->rsp = frame;
    f->rip = ka->handler;
    f->rax = (uint64_t)sig;
    f->rdx = edx;
    f->rcx = ecx;
    f->rflags &= ~(FL_TF | FL_DF | FL_RF);
    f->cs = GDT_UCODE32 | 3;
    f->ss = GDT_UDATA | 3;
    load_seg(0, GDT_UDATA | 3);   /* DS and ES: the flat data segment */
    load_seg(1, GDT_UDATA | 3);
    sig_fpu_reset();
}

int setup_frame32(struct trap_frame *f, int sig, const struct k_sigaction *ka,
                  const struct kernel_siginfo *info, ksigset_t oldmask)
{
    struct task *t = current;
    bool rt = ka->flags & SA_SIGINFO;
    if (ka->handler > 0xffffffffu)
        return -EFAULT;
    uint64_t fpstate;
    size_t size = rt ? sizeof(struct rt_sigframe32) : sizeof(struct sigframe32);
    uint64_t frame = sig_frame_place(f->rsp, ka, true, size, FSAVE_HEADER, &fpstate);
    if (!frame || write_fpstate(fpstate, f))
        return -EFAULT;
    uint32_t restorer = (ka->flags & SA_RESTORER) ? (uint32_t)ka->restorer : 0;
    if (!rt) {
        struct sigframe32 k;
        memset(&k, 0, sizeof(k));
        static const uint8_t code[8] = { 0x58, 0xb8, NR32_sigreturn, 0, 0, 0, 0xcd, 0x80 };
        memcpy(k.retcode, code, sizeof(code));
        uint32_t vdso = restorer ? 0 : (uint32_t)vdso_sigreturn32(t->mm, false);
        k.pretcode = restorer ? restorer
                     : vdso   ? vdso   /* Linux: the vDSO's __kernel_sigreturn (kernel/vdso/) */
                              : (uint32_t)(frame + offsetof(struct sigframe32, retcode));
        k.sig = sig;
        sigcontext_fill(&k.sc, f, fpstate, oldmask);
        k.extramask = (uint32_t)(oldmask >> 32);
        if (copy_to_user(frame, &k, sizeof(k)))
            return -EFAULT;
        enter_handler(f, ka, frame, sig, 0, 0);
        return 0;
    }
    struct rt_sigframe32 k;
    memset(&k, 0, sizeof(k));
    static const uint8_t code[8] = { 0xb8, NR32_rt_sigreturn, 0, 0, 0, 0xcd, 0x80, 0 };
    memcpy(k.retcode, code, sizeof(code));
    uint32_t vdso = restorer ? 0 : (uint32_t)vdso_sigreturn32(t->mm, true);
    k.pretcode = restorer ? restorer
                 : vdso   ? vdso   /* the vDSO's __kernel_rt_sigreturn */
                          : (uint32_t)(frame + offsetof(struct rt_sigframe32, retcode));
    k.sig = sig;
    k.pinfo = (uint32_t)(frame + offsetof(struct rt_sigframe32, info));
    k.puc = (uint32_t)(frame + offsetof(struct rt_sigframe32, uc));
    siginfo_to_user32(info, k.info);
    k.uc.uc_stack = (struct stack32){ (uint32_t)t->sig.ss_sp, t->sig.ss_flags,
                                      (uint32_t)t->sig.ss_size };
    sigcontext_fill(&k.uc.uc_mcontext, f, fpstate, oldmask);
    k.uc.uc_sigmask[0] = (uint32_t)oldmask;
    k.uc.uc_sigmask[1] = (uint32_t)(oldmask >> 32);
    if (copy_to_user(frame, &k, sizeof(k)))
        return -EFAULT;
    enter_handler(f, ka, frame, sig, k.pinfo, k.puc);
    return 0;
}

/* ---- returning ----------------------------------------------------------------------------- */

/* Check and apply a sigcontext read from the user: 0, or the reason it
 * is refused (nothing changed then). */
static const char *restore_sigcontext32(struct trap_frame *f, const struct sigcontext32 *sc)
{
    if ((sc->cs | 3) != (GDT_UCODE32 | 3) || (sc->ss | 3) != (GDT_UDATA | 3))
        return "not a 32-bit user CS or SS";
    if (!sig_flags_ok(sc->flags))
        return "privileged or reserved EFLAGS bits";
    uint8_t hdr[FSAVE_HEADER], fx[512];
    if (sc->fpstate && (copy_from_user(hdr, sc->fpstate, sizeof(hdr)) ||
                        copy_from_user(fx, (uint64_t)sc->fpstate + FSAVE_HEADER, sizeof(fx))))
        return "unreadable FPU state";
    if (sc->fpstate && !sig_fpu_ok(fx))
        return "reserved MXCSR bits";
    f->rdi = sc->di, f->rsi = sc->si, f->rbp = sc->bp, f->rsp = sc->sp;
    f->rbx = sc->bx, f->rdx = sc->dx, f->rcx = sc->cx, f->rax = sc->ax;
    f->rip = sc->ip;
    f->rflags = sig_flags_merge(sc->flags);
    f->cs = GDT_UCODE32 | 3;
    f->ss = GDT_UDATA | 3;
    f->orig_rax = ~0ul;
    current->sig.restart.fn = NULL;
    /* The data selectors, as the program left them (a bad one becomes 0). */
    struct task *t = current;
    t->useg[0] = sc->ds | 3, t->useg[1] = sc->es | 3, t->useg[2] = sc->fs | 3;
    t->useg[3] = sc->gs | 3;
    tls_switch_in(t);
    if (sc->fpstate) {
        fsave_header_apply(fx, hdr);
        sig_fpu_load(fx);
    } else {
        sig_fpu_reset();
    }
    return NULL;
}

long sys32_sigreturn(const struct sysargs *a)
{
    (void)a;
    struct trap_frame *f = task_frame(current);
    uint64_t frame = f->rsp - 8;   /* the restorer popped sig too */
    struct sigframe32 k;
    if (!(current->flags & TASK_COMPAT32))
        return sig_bad_frame("sigreturn from a 64-bit program", frame);
    if (copy_from_user(&k, frame, sizeof(k)))
        return sig_bad_frame("unreadable frame", frame);
    ksigset_t mask = k.sc.oldmask | (uint64_t)k.extramask << 32;
    const char *why = restore_sigcontext32(f, &k.sc);
    if (why)
        return sig_bad_frame(why, frame);
    set_current_blocked(mask);
    return (long)(uint32_t)f->rax;
}

long sys32_rt_sigreturn(const struct sysargs *a)
{
    (void)a;
    struct trap_frame *f = task_frame(current);
    uint64_t frame = f->rsp - 4;
    struct ucontext32 uc;
    if (!(current->flags & TASK_COMPAT32))
        return sig_bad_frame("rt_sigreturn from a 64-bit program", frame);
    if (copy_from_user(&uc, frame + offsetof(struct rt_sigframe32, uc), sizeof(uc)))
        return sig_bad_frame("unreadable frame", frame);
    const char *why = restore_sigcontext32(f, &uc.uc_mcontext);
    if (why)
        return sig_bad_frame(why, frame);
    set_current_blocked(uc.uc_sigmask[0] | (uint64_t)uc.uc_sigmask[1] << 32);
    struct k_stack ss = { uc.uc_stack.ss_sp, uc.uc_stack.ss_flags, uc.uc_stack.ss_size };
    do_sigaltstack(&ss, NULL, frame + 4);   /* as the 64-bit rt_sigreturn */
    return (long)(uint32_t)f->rax;
}
