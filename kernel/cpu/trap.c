/*
 * Exception dispatch and the oops.
 *
 * Every vector lands in trap_dispatch() with a struct trap_frame.  The
 * timer interrupt goes to the scheduler, `syscall` and `int 0x80` to the
 * system-call tables, and an exception raised by user code to
 * user_exception() (kernel/proc/user_trap.c): a page fault to the
 * process's address space (demand paging, copy-on-write), anything else,
 * and a bad access, to a fatal signal.  A kernel-mode exception (and an
 * NMI, #DF or #MC, whatever the mode) is always fatal, unless a
 * catch_faults() is armed (the in-kernel tests use it; the user-copy
 * helpers need not, since they fault pages in before copying), in which
 * case it is reported and execution resumes at the catcher.
 *
 * The oops decodes what the CPU gave us, so that a reader does not need
 * the SDM open: the vector's name, the error code in words (for #PF:
 * present/protection, read/write, user/kernel, fetch, reserved bit; for
 * selector errors: which table and index), CR2, the registers and a
 * backtrace with function names.
 */
#include <kernel/trap.h>
#include <kernel/printk.h>
#include <kernel/ksyms.h>
#include <kernel/x86.h>
#include <kernel/string.h>
#include <kernel/console.h>
#include <kernel/memview.h>
#include <kernel/cpufeature.h>
#include <kernel/apic.h>
#include <kernel/irq.h>
#include <kernel/smp.h>
#include <kernel/kernel_lock.h>
#include <kernel/syscall.h>
#include <compat32/compat32.h>
#include <kernel/task.h>
#include <mm/fault_explain.h>
#include <mm/layout.h>
#include <mm/kernel_pt.h>
#include <mm/vmalloc.h>

extern const char __kernel_start[], __kernel_end[];
extern const char catch_resume[];
extern struct {
    uint64_t rsp;
    struct fault_info *info;
    uint64_t active;
} catch_ctx;

static const char *const names[32] = {
    [VEC_DE] = "#DE divide error",
    [VEC_DB] = "#DB debug",
    [VEC_NMI] = "NMI non-maskable interrupt",
    [VEC_BP] = "#BP breakpoint",
    [VEC_OF] = "#OF overflow",
    [VEC_BR] = "#BR bound range exceeded",
    [VEC_UD] = "#UD invalid opcode",
    [VEC_NM] = "#NM device not available",
    [VEC_DF] = "#DF double fault",
    [9] = "coprocessor segment overrun",
    [VEC_TS] = "#TS invalid TSS",
    [VEC_NP] = "#NP segment not present",
    [VEC_SS] = "#SS stack-segment fault",
    [VEC_GP] = "#GP general protection",
    [VEC_PF] = "#PF page fault",
    [VEC_MF] = "#MF x87 floating-point error",
    [VEC_AC] = "#AC alignment check",
    [VEC_MC] = "#MC machine check",
    [VEC_XM] = "#XM SIMD floating-point",
    [VEC_VE] = "#VE virtualization exception",
    [VEC_CP] = "#CP control protection",
};

const char *vector_name(uint64_t vector)
{
    if (vector < 32)
        return names[vector] ? names[vector] : "reserved exception";
    return "external interrupt";
}

static bool has_selector_error(uint64_t vector)
{
    return vector == VEC_TS || vector == VEC_NP || vector == VEC_SS ||
           vector == VEC_GP;
}

void decode_error(uint64_t vector, uint64_t error, char *buf, size_t size)
{
    if (vector == VEC_PF) {
        /* SDM vol. 3A, 4.7, figure 4-12 */
        snprintf(buf, size, "%s, %s, %s mode%s%s%s",
                 (error & 1) ? "protection violation" : "not-present page",
                 (error & 16) ? "instruction fetch" : (error & 2) ? "write" : "read",
                 (error & 4) ? "user" : "kernel",
                 (error & 8) ? ", reserved bit set in a paging entry" : "",
                 (error & 32) ? ", protection key" : "",
                 (error & 64) ? ", shadow stack" : "");
    } else if (has_selector_error(vector) && error) {
        /* SDM vol. 3A, 6.13: EXT, IDT, TI, selector index */
        const char *ext = (error & 1) ? ", during delivery of an external event" : "";
        if (error & 2) /* the index names an IDT vector, not a selector */
            snprintf(buf, size, "IDT vector %lu%s",
                     ((error >> 3) & 0x1fff), ext);
        else
            snprintf(buf, size, "%s entry %lu (selector 0x%lx)%s",
                     (error & 4) ? "LDT" : "GDT", ((error >> 3) & 0x1fff),
                     (error & 0xfff8), ext);
    } else if (vector == VEC_DF) {
        snprintf(buf, size, "none (always 0); an exception occurred while delivering another");
    } else {
        snprintf(buf, size, error ? "0x%lx" : "none", error);
    }
}

static void print_addr(const char *label, uint64_t addr)
{
    uint64_t off;
    const char *name = ksym_lookup(addr, &off);
    if (name)
        printk("%s%016lx <%s+0x%lx>\n", label, addr, name,
               off);
    else
        printk("%s%016lx\n", label, addr);
}

/* May the backtrace read 16 bytes at a?  Stacks live in the image (the
 * boot and IST stacks) or in the vmalloc range (kernel stacks); for the
 * latter, check the page is mapped rather than fault inside the oops. */
static bool readable_stack(uint64_t a)
{
    if (a >= (uint64_t)__kernel_start && a + 16 <= (uint64_t)__kernel_end)
        return true;
    if (a < VMALLOC_START || a + 16 > VMALLOC_END || kernel_pt.fmt == NULL)
        return false;
    /* only stacks: a stray frame pointer into an ioremap area must not
     * make the oops read device registers */
    const struct vm_area *area = find_vm_area(a);
    if (!area || area->kind != VM_STACK)
        return false;
    struct pgtable cur;
    struct pt_view v;
    current_pt(&cur);
    return pt_walk(&cur, a, &v) == 0 && pt_walk(&cur, a + 15, &v) == 0;
}

void backtrace_from(uint64_t rbp, uint64_t rip)
{
    printk("Backtrace:\n");
    print_addr("  ", rip);
    /* Follow saved frame pointers while they stay on a kernel stack
     * and go upwards. */
    for (int depth = 0; depth < 24 && rbp && (rbp & 7) == 0 &&
                        readable_stack(rbp); depth++) {
        const uint64_t *fp = (const uint64_t *)rbp;
        uint64_t ret = fp[1];
        if (!ret)
            break;
        print_addr("  ", ret);
        if (fp[0] <= rbp)
            break;
        rbp = fp[0];
    }
}

void oops_print(const struct trap_frame *f, uint64_t cr2, const char *headline)
{
    char err[160];
    decode_error(f->vector, f->error, err, sizeof(err));
    struct task *t = this_cpu()->task;
    printk("\n*** %s: %s (vector %lu) on CPU %u, task %d (%s) ***\n", headline,
           vector_name(f->vector), f->vector, smp_processor_id(), t ? t->pid : -1,
           t ? t->name : "none");
    printk("error code 0x%lx: %s\n", f->error, err);
    if (f->vector == VEC_PF)
        printk("CR2 (faulting address) = %016lx\n", cr2);
    print_addr("RIP = ", f->rip);
    printk("CS  = %04lx  RFLAGS = %016lx  RSP = %016lx  SS = %04lx\n",
           f->cs, f->rflags,
           f->rsp, f->ss);
    printk("RAX = %016lx  RBX = %016lx  RCX = %016lx\n",
           f->rax, f->rbx, f->rcx);
    printk("RDX = %016lx  RSI = %016lx  RDI = %016lx\n",
           f->rdx, f->rsi, f->rdi);
    printk("RBP = %016lx  R8  = %016lx  R9  = %016lx\n",
           f->rbp, f->r8, f->r9);
    printk("R10 = %016lx  R11 = %016lx  R12 = %016lx\n",
           f->r10, f->r11, f->r12);
    printk("R13 = %016lx  R14 = %016lx  R15 = %016lx\n",
           f->r13, f->r14, f->r15);
    printk("CR0 = %016lx  CR3 = %016lx  CR4 = %016lx\n",
           read_cr0(), read_cr3(),
           read_cr4());
    backtrace_from(f->rbp, f->rip);
}

static void trap_handle(struct trap_frame *f, uint64_t cr2, bool from_user);
void trap_dispatch(struct trap_frame *f);

/*
 * The kernel lock (include/kernel/kernel_lock.h): taken here by a CPU
 * coming from user mode or from its idle loop's hlt, let go on the way
 * back.  `took` lives on the task's stack: a task that sleeps in between
 * may come back on another CPU, which holds the lock then (schedule runs
 * under it), and lets it go here.  The IPIs run without it.
 */
void trap_dispatch(struct trap_frame *f)
{
    uint64_t cr2 = read_cr2();

    /* Kernel code runs with RFLAGS.AC clear (SMAP enforced); an exception
     * taken between stac and clac must not leave it open. */
    if (cpu.smap)
        clac();
    bool from_user = (f->cs & 3) == 3;
    if (f->vector == VEC_CALL_FUNCTION) {
        smp_call_interrupt();   /* another CPU asks: a flush, a drain, a call */
        return;
    }
    if (f->vector == VEC_RESCHEDULE && !from_user) {
        apic_eoi();   /* out of the idle loop's hlt: it looks at the run queue */
        return;
    }
    if (f->vector == 0xff)
        return;   /* the APIC's spurious vector: no EOI for it */
    if (f->vector == VEC_TIMER && !from_user && task_tick_idle()) {
        apic_eoi();   /* an idle AP's tick: its own counters, no lock */
        return;
    }
    /* An exception in kernel mode on a CPU without the lock (in an IPI's
     * function, or while it waits for the lock) goes to the oops as it is:
     * taking the lock there could wait for a holder that waits for this
     * CPU's answer. */
    bool took = (from_user || f->vector >= 32) && !kernel_locked();
    if (took)
        lock_kernel();
    trap_handle(f, cr2, from_user);
    if (took)
        unlock_kernel();
}

static void trap_handle(struct trap_frame *f, uint64_t cr2, bool from_user)
{
    if (f->vector == VEC_TIMER) {
        apic_eoi();
        if (smp_processor_id() == 0) {
            fbcon_flush();   /* what a burst of output left for later */
            if (from_user)
                memview_poll();   /* the memory map: no kernel structure is half updated here */
        }
        task_tick(from_user);
        if (from_user)
            task_return_to_user();
        return;
    }
    if (f->vector == VEC_SYSCALL) {
        syscall_dispatch(f);
        task_return_to_user();
        return;
    }
    if (f->vector == VEC_RESCHEDULE) {
        apic_eoi();   /* from user mode: a signal or a wake-up sent by task_kick */
        task_return_to_user();
        return;
    }
    if (f->vector == VEC_INT80 && from_user) {
        syscall32_dispatch(f);
        task_return_to_user();
        return;
    }
    /* Device interrupts (kernel/cpu/ioapic.c): the keyboard, COM1. */
    if (f->vector >= VEC_IRQ_BASE && f->vector < VEC_IRQ_BASE + NR_LEGACY_IRQS) {
        irq_dispatch((int)(f->vector - VEC_IRQ_BASE));
        if (from_user)
            task_return_to_user();   /* a signal the input raised, a woken reader */
        return;
    }
    if (f->vector >= 32) {
        /* Nobody set this vector up (an MSI, a stray int n): acknowledged,
         * and logged once per vector so that a storm cannot flood the log. */
        static uint64_t seen[4];
        if (!(seen[f->vector / 64 % 4] & 1ul << (f->vector % 64))) {
            seen[f->vector / 64 % 4] |= 1ul << (f->vector % 64);
            printk("trap: unexpected interrupt on vector %lu, ignored (logged once)\n",
                   f->vector);
        }
        apic_eoi();
        return;
    }
    /* NMI, #DF and #MC are about the machine, not the program running. */
    if (from_user && f->vector != VEC_NMI && f->vector != VEC_DF && f->vector != VEC_MC) {
        user_exception(f, cr2);
        task_return_to_user();
        return;
    }
    /*
     * depth counts the handlers running: more than one means the handler
     * itself faulted while reporting (the console, a walk through broken
     * tables, ...).  At depth 2 the report shrinks to what cannot fault
     * again and the framebuffer console goes off; at depth 3 we stop.
     */
    static int depth;
    depth++;
    if (depth > 2) {
        printk("trap: fault %d levels deep (vector %lu, RIP %016lx); halting\n",
               depth, f->vector,
               f->rip);
        for (;;) {
            cli();
            hlt();
        }
    }
    bool nested = depth > 1;
    if (nested) {
        if (fbcon_active())
            fbcon_disable();
        printk("trap: fault inside the fault handler (vector %lu, RIP %016lx, CR2 %016lx); "
               "framebuffer console switched off\n", f->vector,
               f->rip, cr2);
    }
    bool kernel = (f->cs & 3) == 0;
    /* Only a fault of the code under catch_faults is caught, never one
     * raised while a handler reports. */
    if (catch_ctx.active && kernel && !nested) {
        struct fault_info *info = catch_ctx.info;
        catch_ctx.active = 0;
        info->vector = f->vector;
        info->error = f->error;
        info->cr2 = cr2;
        info->rip = f->rip;
        info->handler_rsp = (uint64_t)f;
        oops_print(f, cr2, "caught kernel exception");
        kernel_fault_explain(f->vector, cr2, f->rsp);
        printk("(caught by catch_faults: resuming the caller)\n");
        f->rip = (uint64_t)catch_resume;
        f->rsp = catch_ctx.rsp;
        f->rax = 1;
        f->rflags &= ~RFLAGS_AC;
        depth = 0;
        return;
    }
    if (nested)
        panic("%s while handling a fault (RIP %016lx, CR2 %016lx)", vector_name(f->vector),
              f->rip, cr2);
    oops_print(f, cr2, "KERNEL OOPS");
    const char *why = kernel ? kernel_fault_explain(f->vector, cr2, f->rsp) : NULL;
    if (why)
        panic("%s (%s at %016lx)", why, vector_name(f->vector), cr2);
    panic("unhandled %s in %s mode", vector_name(f->vector), kernel ? "kernel" : "user");
}
