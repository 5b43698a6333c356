/*
 * CPU features (CPUID) and the protections the kernel switches on.
 *
 * CPUID leaf 1 EDX: PGE (bit 13), PAT (bit 16); leaf 7 EBX: SMEP (bit 7),
 * SMAP (bit 20), INVPCID (bit 10); leaf 0x80000001 EDX: NX (bit 20),
 * 1 GiB pages (bit 26).  Intel SDM vol. 2A, CPUID.
 */
#include <kernel/cpufeature.h>
#include <kernel/cmdline.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include <mm/pt_x86_64.h>

struct cpu_features cpu;

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
