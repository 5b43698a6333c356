/*
 * Exceptions raised by user code: faults become signals.
 *
 * A page fault goes to the process's address space first (mm_hw_fault):
 * demand paging, copy-on-write.  No memory for an access the mapping
 * allows ends the process with SIGKILL (Linux's OOM killer's signal).
 * A bad access, and every other exception a program can raise, becomes
 * the signal Linux sends for it, with Linux's si_code and si_addr:
 *
 *   #PF  SIGSEGV  SEGV_MAPERR (no mapping there) or SEGV_ACCERR (the
 *                 mapping forbids it); si_addr the address (CR2)
 *        SIGBUS   BUS_ADRERR: a mapped file's page past its end
 *                 (mm/filemap.c), or a page whose read from swap failed
 *                 (mm/swap_fault.c, Linux's VM_FAULT_SIGBUS); si_addr
 *                 the address
 *   #DE  SIGFPE   FPE_INTDIV, si_addr the instruction
 *   #MF, #XM  SIGFPE  the x87 or SSE exception's FPE_* code
 *   #UD  SIGILL   ILL_ILLOPN, si_addr the instruction
 *   #DB  SIGTRAP  TRAP_TRACE (a single step); #BP (int3): SIGTRAP SI_KERNEL
 *   #AC  SIGBUS   BUS_ADRALN; #NP, #SS: SIGBUS SI_KERNEL
 *   #GP, #TS, #OF, #BR and the rest: SIGSEGV SI_KERNEL, si_addr 0
 *
 * The signal is forced (force_sig_fault): a handler runs if there is one
 * and the signal is not blocked; blocked or ignored, it is reset to its
 * default action, which ends the process.  When it will end it, the
 * kernel logs one line saying who, where, what and which mapping (or
 * none) was involved; the parent's wait4 sees the signal.  The kernel
 * itself carries on.
 */
#include <kernel/errno.h>
#include <kernel/task.h>
#include <kernel/printk.h>
#include <kernel/trap.h>
#include <mm/vmscan.h>
#include <mm/vma.h>

#define PF_WRITE 2
#define PF_FETCH 16

/* The x87 or SSE exception that is pending and unmasked, as an FPE_*
 * code (Linux's fpu__exception_code): invalid first, then divide by
 * zero, overflow, underflow (or denormal), precision. */
static int fpe_code(uint64_t vector)
{
    uint32_t status, masks;
    if (vector == VEC_XM) {
        __asm__ volatile("stmxcsr %0" : "=m"(status));
        masks = status >> 7;
    } else {
        uint16_t sw, cw;
        __asm__ volatile("fnstsw %0" : "=m"(sw));
        __asm__ volatile("fnstcw %0" : "=m"(cw));
        status = sw, masks = cw;
    }
    uint32_t e = status & ~masks & 0x3f;
    if (e & 0x01)
        return FPE_FLTINV;   /* invalid operation (and x87 stack fault) */
    if (e & 0x04)
        return FPE_FLTDIV;
    if (e & 0x08)
        return FPE_FLTOVF;
    if (e & 0x12)
        return FPE_FLTUND;   /* underflow, or a denormal operand */
    if (e & 0x20)
        return FPE_FLTRES;
    return 0;   /* nothing unmasked: Linux sends SIGFPE with code 0 */
}

/* Linux's signal, si_code and si_addr for an exception other than #PF. */
static int signal_for(const struct trap_frame *f, int *code, uint64_t *addr)
{
    *addr = 0;
    *code = SI_KERNEL;
    switch (f->vector) {
    case VEC_DE:
        *code = FPE_INTDIV, *addr = f->rip;
        return SIGFPE;
    case VEC_MF:
    case VEC_XM:
        *code = fpe_code(f->vector), *addr = f->rip;
        return SIGFPE;
    case VEC_UD:
        *code = ILL_ILLOPN, *addr = f->rip;
        return SIGILL;
    case VEC_DB:
        *code = TRAP_TRACE, *addr = f->rip;
        return SIGTRAP;
    case VEC_BP:
        return SIGTRAP;
    case VEC_AC:
        *code = BUS_ADRALN, *addr = f->rip;
        return SIGBUS;
    case VEC_NP:
    case VEC_SS:
        return SIGBUS;
    default:
        return SIGSEGV;
    }
}

void user_exception(struct trap_frame *f, uint64_t cr2)
{
    struct task *t = current;
    t->sig.trapno = f->vector;
    t->sig.error = f->error;
    if (f->vector == VEC_PF && t->mm) {
        t->sig.cr2 = cr2;
        unsigned access = FAULT_USER;
        if (f->error & PF_WRITE)
            access |= FAULT_WRITE;
        if (f->error & PF_FETCH)
            access |= FAULT_EXEC;
        int err = mm_hw_fault(t->mm, cr2, access);
        if (err == 0)
            return;
        if (err == -ENOMEM) {
            /* No frame for an access the mapping allows, even after
             * reclaim: the OOM killer ends the largest process (maybe
             * this one) and the access is tried again (mm/oom_kill.c). */
            if (out_of_memory())
                return;
            printk("pid %d (%s): killed by SIGKILL: out of memory at %#lx (rip %#lx)\n", t->pid,
                   t->name, cr2, f->rip);
            force_sig(SIGKILL);
            return;
        }
        bool mapped = cr2 < t->mm->va_end && vma_lookup(t->mm, cr2);
        /* -EIO: a mapped file's page past its end (mm/filemap.c), or a
         * swap read error (the PTE still holds the swap entry): SIGBUS. */
        struct pt_view pv;
        bool swapped = err == -EIO &&
                       pt_walk(&t->mm->pt, cr2 & ~(PAGE_SIZE - 1), &pv) == -ENOENT && pv.payload;
        int sig = err == -EIO ? SIGBUS : SIGSEGV;
        int code = err == -EIO ? BUS_ADRERR : mapped ? SEGV_ACCERR : SEGV_MAPERR;
        if (force_sig_fault(sig, code, cr2)) {
            char where[160];
            mm_describe(t->mm, cr2, where, sizeof(where));
            printk("pid %d (%s): killed by %s: %s at %#lx (rip %#lx): %s\n", t->pid,
                   t->name, sig == SIGSEGV ? "SIGSEGV" : swapped ? "SIGBUS (swap read error)"
                                                                  : "SIGBUS (past the end of the file)",
                   (access & FAULT_EXEC) ? "execute" : (access & FAULT_WRITE) ? "write" : "read",
                   cr2, f->rip, where);
        }
        return;
    }
    int code;
    uint64_t addr;
    int sig = signal_for(f, &code, &addr);
    if (force_sig_fault(sig, code, addr))
        printk("pid %d (%s): killed by signal %d: %s at rip %#lx\n", t->pid, t->name, sig,
               vector_name(f->vector), f->rip);
}
