/*
 * Starting the other CPUs (include/kernel/smp.h; docs/smp.md).
 *
 * A PC starts with one CPU running, the bootstrap processor (BSP); the
 * firmware parks the others, the application processors (APs), in a wait
 * for an INIT and a startup IPI (SIPI) sent through the local APIC
 * (Intel SDM vol. 3A, 9.4 "Multiple-processor initialization" and 11.6
 * "Issuing interprocessor interrupts").  The ACPI MADT says which CPUs
 * exist (kernel/acpi/madt.c).  For each AP the BSP prepares, before the
 * IPIs: a kernel stack, its own GDT and TSS with IST stacks
 * (kernel/cpu/gdt.c), and the trampoline page below 1 MiB
 * (kernel/cpu/trampoline.S) that the SIPI points to, with a bring-up root
 * page table below 4 GiB (the AP loads CR3 while still in 32-bit mode)
 * that maps the trampoline at its own address and shares the kernel's
 * half with the kernel's tables.  The AP climbs from real mode to long
 * mode there, jumps to ap_start on its stack, loads its GDT, TSS and the
 * IDT, moves to the kernel's own page tables, programs its PAT like the
 * BSP's, enables its local APIC and says it is alive; then it waits for
 * interrupts (sti; hlt): calls by IPI (kernel/cpu/smp_call.c), such as
 * the TLB shootdown's flushes, until kmain lets the APs join the
 * scheduler just before init (task_start_aps, kernel/proc/task.c).
 *
 * Invariants: the BSP sends the IPIs to one AP at a time and touches
 * nothing the AP reads until that AP is alive or given up; an AP writes
 * nothing shared but its own cpu_info entry (online, last, with a release
 * store); an AP that does not answer within the timeout is left out, its
 * bring-up memory is never freed and no later AP is started (it might
 * still wake up and use the trampoline, whose stack and argument would
 * by then be the next AP's).
 */
#include <kernel/smp.h>
#include <kernel/acpi.h>
#include <kernel/apic.h>
#include <kernel/cmdline.h>
#include <kernel/cpu.h>
#include <kernel/percpu.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/x86.h>
#include <mm/gfp.h>
#include <mm/kernel_pt.h>
#include <mm/numa.h>
#include <mm/slab.h>
#include <mm/vmalloc.h>
#include <mm/tlb.h>

#define AP_STACK_SIZE (16 * 1024)
#define MSR_PAT       0x277
#define REG_SVR       0x0f0
#define REG_ICR_LO    0x300
#define REG_ICR_HI    0x310
#define ICR_INIT      0x00004500u     /* INIT, level assert */
#define ICR_STARTUP   0x00004600u     /* startup, level assert: | vector */
#define ICR_PENDING   (1u << 12)
#define CR4_PCIDE     (1ul << 17)
#define CR4_PAE       (1ul << 5)
#define EFER_SCE      (1ul << 0)
#define EFER_LME      (1ul << 8)

extern const uint8_t trampoline_start[], trampoline_end[];
extern const uint32_t trampoline_pm32, trampoline_lm64;

struct cpu_info cpu_info[NR_CPUS];
unsigned nr_cpus_possible = 1, nr_cpus_online = 1;

static uint64_t tramp_pa;            /* the page below 1 MiB, 0 if none */
static uint64_t bsp_pat, bsp_cr4;
static void *ap_tables[NR_CPUS];     /* each AP's GDT and TSS (gdt_alloc_ap) */

void smp_reserve_trampoline(void)
{
    tramp_pa = alloc_contig(1, PAGE_SIZE, 0x1000, 0x100000, GFP_KERNEL | __GFP_NOWARN);
    if (!tramp_pa)
        printk("smp: no free page below 1 MiB for the startup IPI: one CPU only\n");
}

/* ---- the local APIC's interrupt command register ---------------------------------- */

static void delay_us(uint64_t us)
{
    uint64_t end = rdtsc() + tsc_hz() / 1000000 * us;
    while (rdtsc() < end)
        cpu_relax();
}

bool smp_send_ipi(uint32_t dest, uint32_t lo)
{
    if (lapic_x2apic()) {
        wrmsr(0x830, (uint64_t)dest << 32 | lo);   /* one 64-bit ICR, no busy bit */
        return true;
    }
    lapic_write(REG_ICR_HI, dest << 24);
    lapic_write(REG_ICR_LO, lo);
    for (int i = 0; i < 1000; i++) {
        if (!(lapic_read(REG_ICR_LO) & ICR_PENDING))
            return true;
        delay_us(1);
    }
    return false;
}

/* ---- the AP's side ----------------------------------------------------------------- */

static void __attribute__((noreturn)) ap_start(struct cpu_info *ci)
{
    gdt_load_ap(ap_tables[ci->cpu]);
    percpu_init(ci->cpu);
    this_cpu()->tables = ap_tables[ci->cpu];   /* its TSS.RSP0 and TLS slots (gdt.c) */
    idt_load();
    write_cr3(kernel_pt.root);        /* off the bring-up root */
    write_cr4(bsp_cr4);               /* SMEP, SMAP, PGE... as the boot CPU has them */
    wrmsr(MSR_PAT, bsp_pat);
    lapic_write(REG_SVR, lapic_read(REG_SVR) | 0x100 | 0xff);   /* enabled, spurious 0xff */
    ci->started_tsc = rdtsc();
    __atomic_store_n(&ci->online, true, __ATOMIC_RELEASE);
    /* Wait for interrupts: until the scheduler runs here, the only ones
     * sent are the IPI requests (kernel/cpu/smp_call.c); sti takes
     * effect after hlt, so none slips in between.  Then the idle loop
     * (kernel/proc/task.c), once kmain lets the other CPUs take tasks. */
    for (;;) {
        if (task_aps_may_schedule())
            task_ap_idle();
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    }
}


/* ---- the BSP's side ---------------------------------------------------------------- */

/* A page-table page below 4 GiB (the AP loads CR3 in 32-bit mode). */
static uint64_t *low_table(uint64_t *pa)
{
    struct page *p = alloc_pages(GFP_DMA32 | __GFP_ZERO | __GFP_NOWARN, 0);
    if (!p)
        return NULL;
    *pa = page_to_phys(p);
    return page_address(p);
}

/* The bring-up root: the trampoline page at its own address, the kernel
 * half as the kernel's tables have it.  0 when memory is short. */
static uint64_t bringup_root(void)
{
    uint64_t root, pdpt, pd, pt;
    uint64_t *r = low_table(&root), *a = low_table(&pdpt), *b = low_table(&pd),
             *c = low_table(&pt);
    if (!r || !a || !b || !c) {
        uint64_t *all[4] = { r, a, b, c };
        for (int i = 0; i < 4; i++)
            if (all[i])
                free_pages(all[i], 0);
        return 0;
    }
    const uint64_t *kroot = page_address(pfn_to_page(kernel_pt.root >> PAGE_SHIFT));
    for (int i = 256; i < 512; i++)
        r[i] = kroot[i];
    r[0] = pdpt | 3;                  /* present, writable */
    a[0] = pd | 3;
    b[0] = pt | 3;
    c[tramp_pa >> PAGE_SHIFT] = tramp_pa | 3;
    return root;
}

static void fill_trampoline(uint64_t root)
{
    uint8_t *t = page_address(pfn_to_page(tramp_pa >> PAGE_SHIFT));
    size_t n = (size_t)(trampoline_end - trampoline_start);
    memset(t, 0, PAGE_SIZE);
    memcpy(t, trampoline_start, n);
    uint64_t gdt[4] = { 0, 0x00cf9a000000fffful, 0x00cf92000000fffful, 0x00af9a000000fffful };
    memcpy(t + TR_GDT, gdt, sizeof(gdt));
    uint16_t limit = sizeof(gdt) - 1;
    uint32_t base = (uint32_t)tramp_pa + TR_GDT;
    memcpy(t + TR_GDTR, &limit, 2);
    memcpy(t + TR_GDTR + 2, &base, 4);
    uint32_t off32 = (uint32_t)tramp_pa + trampoline_pm32, off64 = (uint32_t)tramp_pa + trampoline_lm64;
    uint16_t cs32 = 0x08, cs64 = 0x18;
    memcpy(t + TR_FAR32, &off32, 4);
    memcpy(t + TR_FAR32 + 4, &cs32, 2);
    memcpy(t + TR_FAR64, &off64, 4);
    memcpy(t + TR_FAR64 + 4, &cs64, 2);
    uint32_t cr4 = (uint32_t)(read_cr4() & CR4_PAE), cr3 = (uint32_t)root;
    uint32_t efer = (uint32_t)((rdmsr(MSR_EFER) & (EFER_NXE | EFER_SCE)) | EFER_LME);
    memcpy(t + TR_CR4, &cr4, 4);
    memcpy(t + TR_CR3, &cr3, 4);
    memcpy(t + TR_EFER, &efer, 4);
    uint64_t entry = (uint64_t)ap_start;
    memcpy(t + TR_ENTRY, &entry, 8);
    uint32_t a, b, c, d, flags = 0;
    cpuid(0, 0, &a, &b, &c, &d);
    if (b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e)   /* "GenuineIntel" */
        flags |= 1;
    memcpy(t + TR_FLAGS, &flags, 4);
}

/* Start AP cpu_info[i]: true when it said it was alive in time. */
static bool start_ap(unsigned i)
{
    struct cpu_info *ci = &cpu_info[i];
    uint8_t *t = page_address(pfn_to_page(tramp_pa >> PAGE_SHIFT));
    void *stack = vmalloc_stack(AP_STACK_SIZE, "ap");
    ap_tables[i] = gdt_alloc_ap();
    if (!stack || !ap_tables[i]) {
        printk("smp: CPU %u (APIC id %#x): no memory for its stack or tables\n", i,
               ci->apic_id);
        return false;
    }
    ci->stack_top = (uint64_t)stack + AP_STACK_SIZE;
    uint64_t arg = (uint64_t)ci;
    memcpy(t + TR_STACK, &ci->stack_top, 8);
    memcpy(t + TR_ARG, &arg, 8);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint32_t vector = (uint32_t)(tramp_pa >> PAGE_SHIFT);
    if (!smp_send_ipi(ci->apic_id, ICR_INIT))
        return false;
    delay_us(10000);                   /* the SDM's 10 ms after INIT */
    for (int sipi = 0; sipi < 2; sipi++) {
        if (!smp_send_ipi(ci->apic_id, ICR_STARTUP | vector))
            return false;
        /* 200 us between the two SIPIs; after the second, up to a second
         * (an emulator on a busy host may take a tenth of it; Linux waits
         * up to 10 s). */
        uint64_t end = rdtsc() + tsc_hz() / 1000000 * (sipi ? 1000000 : 200);
        while (rdtsc() < end)
            if (__atomic_load_n(&ci->online, __ATOMIC_ACQUIRE))
                return true;
    }
    return __atomic_load_n(&ci->online, __ATOMIC_ACQUIRE);
}

static void report_line(const char *line)
{
    printk("%s\n", line);
}

void smp_boot(void)
{
    static uint8_t madt[16 << 10];
    static struct acpi_cpus cpus;
    uint32_t boot_apic = boot_cpu_apic_id();
    cpu_info[0] = (struct cpu_info){ .cpu = 0, .apic_id = boot_apic, .online = true };
    /* Address spaces entered and left, lazy TLB: with one CPU too. */
    tlb_mm_init();
    long n = acpi_copy_table(acpi_kernel(), "APIC", madt, sizeof(madt));
    if (n > 0)
        acpi_madt_cpus(madt, (size_t)n, boot_apic, &cpus, report_line);
    else
        acpi_madt_cpus(NULL, 0, boot_apic, &cpus, NULL);   /* the boot CPU alone */
    printk("smp: %u CPU%s in the ACPI MADT (boot CPU: APIC id %#x)%s\n", cpus.nr,
           cpus.nr == 1 ? "" : "s", boot_apic, n > 0 ? "" : ", no MADT");
    /* smp.ghost=N: a CPU the MADT does not list, APIC id N (decimal), that
     * nobody will answer for: the test of the timeout (docs/smp.md). */
    const char *ghost = option("smp.ghost");
    if (ghost && *ghost && cpus.nr < ACPI_MAX_CPUS) {
        uint32_t id = 0;
        for (const char *c = ghost; *c >= '0' && *c <= '9' && id < 0x10000; c++)
            id = id * 10 + (uint32_t)(*c - '0');
        bool known = false;
        for (unsigned i = 0; i < cpus.nr; i++)
            known |= cpus.cpu[i].apic_id == id;
        if (!known && id < 0xff) {
            cpus.cpu[cpus.nr++] = (struct acpi_cpu){ id, id, false };
            printk("smp: smp.ghost=%s: APIC id %#x added, a CPU that does not exist\n", ghost,
                   id);
        }
    }
    nr_cpus_possible = cpus.nr;
    const char *opt = option("smp");
    if (cpus.nr == 1 || (opt && (strcmp(opt, "off") == 0 || strcmp(opt, "1") == 0))) {
        if (cpus.nr > 1)
            printk("smp: smp=%s: the other CPUs stay parked in the firmware\n", opt);
        return;
    }
    uint64_t root = tramp_pa ? bringup_root() : 0;
    if (!root) {
        printk("smp: cannot prepare the startup (trampoline %#lx): one CPU only\n", tramp_pa);
        return;
    }
    bsp_pat = rdmsr(MSR_PAT);
    bsp_cr4 = read_cr4() & ~CR4_PCIDE;
    fill_trampoline(root);
    bool all = true;
    for (unsigned i = 1; i < cpus.nr; i++)
        cpu_info[i] = (struct cpu_info){ .cpu = i, .apic_id = cpus.cpu[i].apic_id };
    for (unsigned i = 1; i < cpus.nr; i++) {
        /* The xAPIC's destination field is 8 bits: a larger id (an x2APIC
         * entry) cannot be reached, and truncated it would name another
         * CPU, the boot CPU perhaps (Linux skips them too). */
        if (!lapic_x2apic() && cpus.cpu[i].apic_id > 0xfe) {
            printk("smp: CPU %u (APIC id %#x) is beyond the xAPIC's reach: left out\n", i,
                   cpus.cpu[i].apic_id);
            continue;
        }
        uint64_t t0 = rdtsc();
        if (start_ap(i)) {
            nr_cpus_online++;
            printk("smp: CPU %u (APIC id %#x) is up in %lu us, waiting for interrupts\n",
                   i, cpus.cpu[i].apic_id, (rdtsc() - t0) * 1000000 / tsc_hz());
            /* Its node, from the SRAT: where its allocations will start. */
            int nid = numa_set_cpu_node(i, cpus.cpu[i].apic_id);
            if (nr_node_ids > 1)
                printk("NUMA: CPU %u (APIC id %#x) on node %d\n", i, cpus.cpu[i].apic_id, nid);
        } else {
            /* The trampoline's stack and argument are the next CPU's once
             * rewritten: a late riser would take them.  Start no more. */
            all = false;
            printk("smp: CPU %u (APIC id %#x) did not answer: left out, and the CPUs after "
                   "it are not started\n", i, cpus.cpu[i].apic_id);
            break;
        }
    }
    if (all) {
        /* Every AP runs on the kernel's tables now: the bring-up root goes
         * (its three lower tables with it).  The trampoline page stays. */
        uint64_t *r = page_address(pfn_to_page(root >> PAGE_SHIFT));
        uint64_t pdpt = r[0] & ~0xffful;
        uint64_t *a = page_address(pfn_to_page(pdpt >> PAGE_SHIFT));
        uint64_t pd = a[0] & ~0xffful;
        uint64_t *b = page_address(pfn_to_page(pd >> PAGE_SHIFT));
        free_pages(page_address(pfn_to_page((b[0] & ~0xffful) >> PAGE_SHIFT)), 0);
        free_pages(b, 0);
        free_pages(a, 0);
        free_pages(r, 0);
    }
    printk("smp: %u of %u CPUs online\n", nr_cpus_online, nr_cpus_possible);
    if (nr_cpus_online > 1) {
        tlb_shootdown_init();   /* flushes reach them from now on */
        smp_drain_init();       /* and drain_pcp their per-CPU caches */
    }
}
