/*
 * CPU features the memory manager cares about, read once from CPUID
 * (kernel/cpu/cpufeature.c), and the protections switched on from them.
 */
#ifndef KERNEL_CPUFEATURE_H
#define KERNEL_CPUFEATURE_H

#include <kernel/types.h>

struct cpu_features {
    char vendor[13];
    bool nx;        /* EFER.NXE: no-execute pages */
    bool gbpages;   /* 1 GiB pages */
    bool pge;       /* global pages (CR4.PGE) */
    bool pat;       /* page attribute table */
    bool smep;      /* supervisor-mode execution prevention */
    bool smap;      /* supervisor-mode access prevention */
    bool invpcid;
};

extern struct cpu_features cpu;

/* Fill `cpu` and print one line with what was found; NX hidden by the
 * firmware is brought back (cpu_nx_unhide, Intel only), XSAVE left on is
 * turned off (cpu_xsave_off); each prints a line when it acted. */
void cpu_detect(void);
/* Clear IA32_MISC_ENABLE.XD_DISABLE: true when it was set. */
bool cpu_nx_unhide(void);
/* Turn CR4.OSXSAVE off: the XCR0 it had, 0 when it was already off. */
uint64_t cpu_xsave_off(void);
/*
 * Switch on what the kernel's own page tables rely on: PAT programmed
 * with Linux's layout (so WC and UC can be named in page entries),
 * global pages, then SMEP and SMAP when present (the `nosmep` and
 * `nosmap` options leave them off).  Prints what is on.
 */
void cpu_enable_protections(void);

#endif
