/*
 * GDT and TSS.
 *
 * In long mode segmentation is mostly off: base and limit are ignored
 * for code and data, only the type, DPL and the L/D bits matter.  The
 * GDT exists for the privilege levels (ring 0 / ring 3), the 32-bit
 * compatibility-mode code segment of compat32/, and the TSS, which holds
 * the stack used on entry from ring 3 (RSP0) and the IST stacks used for
 * exceptions that must not trust the current stack (double fault, NMI,
 * machine check).  Intel SDM vol. 3A, 3.4.5 and 7.7.
 *
 * Each CPU has its own GDT and TSS (a TSS descriptor is marked busy by
 * ltr, so two CPUs cannot load the same one, and each needs its own
 * stacks): the boot CPU's are static, an application processor's are
 * allocated by the boot CPU before it starts it (gdt_alloc_ap) and loaded
 * by the AP itself (gdt_load_ap; kernel/cpu/smpboot.c).
 */
#include <kernel/cpu.h>
#include <kernel/percpu.h>
#include <kernel/string.h>
#include <mm/slab.h>

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS layout (SDM 7.7)");

/* Descriptor bits (SDM 3.4.5): access byte in bits 40-47, flags in 52-55. */
#define SEG_P      (1ul << 47)
#define SEG_DPL3   (3ul << 45)
#define SEG_S      (1ul << 44)   /* code/data, not system */
#define SEG_CODE   (1ul << 43)
#define SEG_RW     (1ul << 41)   /* readable code / writable data */
#define SEG_L      (1ul << 53)   /* 64-bit code */
#define SEG_D      (1ul << 54)   /* 32-bit default operand size */
#define SEG_G      (1ul << 55)   /* 4 KiB granularity */
#define SEG_LIMIT_4G (0xfffful | (0xful << 48))

struct cpu_tables {
    uint64_t gdt[GDT_ENTRIES];
    struct tss tss;
} __attribute__((aligned(16)));

static struct cpu_tables boot_tables;
static uint8_t ist_stacks[3][IST_STACK_SIZE] __attribute__((aligned(16)));

void ist_bounds(int ist, uint64_t *lo, uint64_t *hi)
{
    *lo = (uint64_t)ist_stacks[ist - 1];
    *hi = *lo + IST_STACK_SIZE;
}

/* A CPU's descriptors, its TSS pointing to the three IST stacks at ist[]. */
static void fill(struct cpu_tables *t, uint8_t *const ist[3])
{
    uint64_t *g = t->gdt;
    g[0] = 0;
    g[GDT_KCODE / 8] = SEG_P | SEG_S | SEG_CODE | SEG_RW | SEG_L;
    g[GDT_KDATA / 8] = SEG_P | SEG_S | SEG_RW;
    g[GDT_UCODE32 / 8] = SEG_P | SEG_DPL3 | SEG_S | SEG_CODE | SEG_RW |
                         SEG_D | SEG_G | SEG_LIMIT_4G;
    g[GDT_UDATA / 8] = SEG_P | SEG_DPL3 | SEG_S | SEG_RW | SEG_D | SEG_G |
                       SEG_LIMIT_4G;
    g[GDT_UCODE64 / 8] = SEG_P | SEG_DPL3 | SEG_S | SEG_CODE | SEG_RW | SEG_L;

    for (int i = 0; i < 3; i++)
        t->tss.ist[i] = (uint64_t)ist[i] + IST_STACK_SIZE;
    t->tss.iomap_base = sizeof(t->tss); /* no I/O permission bitmap */
    uint64_t base = (uint64_t)&t->tss, limit = sizeof(t->tss) - 1;
    /* 64-bit TSS descriptor: type 9 (available TSS), two GDT slots */
    g[GDT_TSS / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 |
                     9ul << 40 | SEG_P | ((limit >> 16) & 0xf) << 48 |
                     ((base >> 24) & 0xff) << 56;
    g[GDT_TSS / 8 + 1] = base >> 32;
}

/* lgdt, the data segments, CS through a far return, ltr. */
static void load(const struct cpu_tables *t)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) gdtr = { sizeof(t->gdt) - 1, (uint64_t)t->gdt };

    __asm__ volatile(
        "lgdt %0\n\t"
        "mov %1, %%ds\n\t"
        "mov %1, %%es\n\t"
        "mov %1, %%ss\n\t"
        "xor %%eax, %%eax\n\t"
        "mov %%ax, %%fs\n\t"
        "mov %%ax, %%gs\n\t"
        /* reload CS with a far return */
        "pushq %2\n\t"
        "lea 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "ltr %w3"
        :
        : "m"(gdtr), "r"((uint64_t)GDT_KDATA), "i"(GDT_KCODE), "r"(GDT_TSS)
        : "rax", "memory");
}

void gdt_init(void)
{
    uint8_t *const ist[3] = { ist_stacks[0], ist_stacks[1], ist_stacks[2] };
    fill(&boot_tables, ist);
    load(&boot_tables);
}

void *gdt_alloc_ap(void)
{
    struct cpu_tables *t = kzalloc(sizeof(*t), GFP_KERNEL | __GFP_NOWARN);
    uint8_t *ist[3] = { NULL, NULL, NULL };
    for (int i = 0; t && i < 3; i++)
        ist[i] = kmalloc(IST_STACK_SIZE, GFP_KERNEL | __GFP_NOWARN);
    if (!t || !ist[0] || !ist[1] || !ist[2]) {
        for (int i = 0; i < 3; i++)
            kfree(ist[i]);
        kfree(t);
        return NULL;
    }
    fill(t, ist);
    return t;
}

void gdt_load_ap(void *tables)
{
    load(tables);
}

/*
 * The three i386 TLS slots (GDT indexes 8-10) hold the running task's
 * set_thread_area descriptors: the scheduler rewrites them at every
 * switch (compat32/tls32.c), as Linux's load_TLS does for its entries
 * 6-8 (ours are 8-10 because the 64-bit TSS takes two slots after the
 * SYSRET-ordered user segments).  The caller reloads the segment
 * registers afterwards: a selector caches its descriptor when loaded.
 */
/* This CPU's GDT and TSS: an AP's are in percpu.tables (set by
 * ap_start), the boot CPU's are boot_tables. */
static struct cpu_tables *mine(void)
{
    struct cpu_tables *t = this_cpu()->tables;
    return t ? t : &boot_tables;
}

void gdt_set_tls(const uint64_t tls[GDT_TLS_ENTRIES])
{
    struct cpu_tables *t = mine();
    for (int i = 0; i < GDT_TLS_ENTRIES; i++)
        t->gdt[GDT_TLS_FIRST + i] = tls[i];
}

void tss_set_rsp0(uint64_t top)
{
    mine()->tss.rsp[0] = top;
}
