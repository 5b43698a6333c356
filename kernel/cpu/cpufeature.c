/*
 * CPU features (CPUID) and the protections the kernel switches on.
 *
 * CPUID leaf 1 EDX: PGE (bit 13), PAT (bit 16); leaf 7 EBX: SMEP (bit 7),
 * SMAP (bit 20), INVPCID (bit 10); leaf 0x80000001 EDX: NX (bit 20),
 * 1 GiB pages (bit 26).  Intel SDM vol. 2A, CPUID.
 *
 * What firmware may leave behind on a real PC (docs/boot.md, "What the
 * kernel checks on a real PC"):
 *  - NX hidden: an Intel CPU whose IA32_MISC_ENABLE (MSR 0x1a0) has
 *    XD_DISABLE (bit 34) set reports no NX in CPUID and refuses EFER.NXE
 *    (SDM vol. 4, table 2-2).  The bit is cleared and CPUID asked again.
 *  - XSAVE on: CR4.OSXSAVE (bit 18) lets programs use AVX and the other
 *    states of XCR0 beyond x87/SSE, which the kernel's task switch
 *    (fxsave) does not keep.  The kernel turns CR4.OSXSAVE off, so that
 *    CPUID.1:ECX.OSXSAVE reads 0 (libc then never picks AVX code) and
 *    an AVX instruction is #UD, SIGILL, every time (SDM vol. 1, 13.1).
 */
#include <kernel/cpufeature.h>
#include <kernel/cmdline.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include <mm/pt_x86_64.h>

struct cpu_features cpu;

#define MSR_MISC_ENABLE  0x1a0
#define MISC_XD_DISABLE  (1ul << 34)
#define CR4_OSXSAVE      (1ul << 18)

bool cpu_nx_unhide(void)
{
    uint64_t misc = rdmsr(MSR_MISC_ENABLE);
    if (!(misc & MISC_XD_DISABLE))
        return false;
    wrmsr(MSR_MISC_ENABLE, misc & ~MISC_XD_DISABLE);
    return true;
}

static bool cpuid_nx(void)
{
    uint32_t a, b, c, d, max;
    cpuid(0x80000000, 0, &max, &b, &c, &d);
    if (max < 0x80000001)
        return false;
    cpuid(0x80000001, 0, &a, &b, &c, &d);
    return d & (1u << 20);
}

uint64_t cpu_xsave_off(void)
{
    uint64_t cr4 = read_cr4();
    if (!(cr4 & CR4_OSXSAVE))
        return 0;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    write_cr4(cr4 & ~CR4_OSXSAVE);
    return (uint64_t)hi << 32 | lo;
}

void cpu_detect(void)
{
    uint32_t a, b, c, d, max;
    cpuid(0, 0, &max, &b, &c, &d);
    memcpy(cpu.vendor, &b, 4);
    memcpy(cpu.vendor + 4, &d, 4);
    memcpy(cpu.vendor + 8, &c, 4);
    cpu.vendor[12] = 0;
    cpuid(1, 0, &a, &b, &c, &d);
    cpu.pge = d & (1u << 13);
    cpu.pat = d & (1u << 16);
    if (max >= 7) {
        cpuid(7, 0, &a, &b, &c, &d);
        cpu.smep = b & (1u << 7);
        cpu.smap = b & (1u << 20);
        cpu.invpcid = b & (1u << 10);
    }
    cpuid(0x80000000, 0, &max, &b, &c, &d);
    if (max >= 0x80000001) {
        cpuid(0x80000001, 0, &a, &b, &c, &d);
        cpu.nx = d & (1u << 20);
        cpu.gbpages = d & (1u << 26);
    }
    /* Only Intel has XD_DISABLE; elsewhere the MSR may not exist (#GP). */
    if (!cpu.nx && strcmp(cpu.vendor, "GenuineIntel") == 0 && cpu_nx_unhide()) {
        cpu.nx = cpuid_nx();
        printk("CPU: the firmware had disabled NX (IA32_MISC_ENABLE.XD_DISABLE): cleared; "
               "NX now %s\n", cpu.nx ? "reported" : "still missing");
    }
    uint64_t xcr0 = cpu_xsave_off();
    if (xcr0)
        printk("CPU: the firmware left XSAVE on (XCR0 %#lx): turned off (CR4.OSXSAVE), the "
               "kernel keeps x87/SSE state only; AVX is SIGILL\n", xcr0);
    printk("CPU: %s; NX %s, 1 GiB pages %s, PGE %s, PAT %s, SMEP %s, SMAP %s\n",
           cpu.vendor, cpu.nx ? "yes" : "no", cpu.gbpages ? "yes" : "no",
           cpu.pge ? "yes" : "no", cpu.pat ? "yes" : "no", cpu.smep ? "yes" : "no",
           cpu.smap ? "yes" : "no");
}

void cpu_enable_protections(void)
{
    /* Every leaf the kernel maps without PT_X carries the no-execute bit,
     * which is a reserved bit (a fault on every access) unless EFER.NXE
     * is on.  The loader sets it when the CPU has NX; make sure. */
    if (!cpu.nx)
        panic("this CPU has no NX (no-execute) bit: the kernel's W^X page tables need it");
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    uint64_t cr4 = read_cr4();
    if (cpu.pat) /* before any WC/UC mapping is made */
        wrmsr(MSR_PAT, X86_PAT_MSR_VALUE);
    if (cpu.pge)
        cr4 |= CR4_PGE;
    bool smep = cpu.smep && !option("nosmep");
    bool smap = cpu.smap && !option("nosmap");
    if (smep)
        cr4 |= CR4_SMEP;
    if (smap) {
        clac(); /* user accesses stay forbidden until a user-copy helper says so */
        cr4 |= CR4_SMAP;
    }
    write_cr4(cr4);
    write_cr0(read_cr0() | CR0_WP);
    printk("CPU protections: NX on, CR0.WP on, PAT %s, global pages %s, SMEP %s, SMAP %s\n",
           cpu.pat ? "WB/WC/UC-/UC/WB/WP/UC-/WT" : "absent (no WC)",
           cpu.pge ? "on" : "absent", smep ? "on" : cpu.smep ? "off (nosmep)" : "absent",
           smap ? "on" : cpu.smap ? "off (nosmap)" : "absent");
}
