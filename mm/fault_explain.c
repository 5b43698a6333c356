/*
 * Kernel faults, explained.
 *
 * The oops (kernel/cpu/trap.c) prints what the CPU reported.  For a page
 * fault we add what the page tables say, found by the same generic walk
 * everything else uses: the entry read at each level, the mapping if
 * there is one (with its protections, which tell why a "protection
 * violation" happened: a write to a read-only page, a fetch from an NX
 * page), the region of the layout, and a vmalloc guard-page hit with the
 * owner of the area.  A double fault whose stack pointer or CR2 sits in
 * the guard page below a kernel stack is a stack overflow: the #PF could
 * not push its frame, so the CPU switched to the IST stack of #DF.
 *
 * Invariant: nothing here allocates, takes locks or changes any state
 * (tables, areas, counters): it runs inside fault handlers, maybe on a
 * broken system, and only reads and prints.
 */
#include <mm/fault_explain.h>
#include <mm/kernel_pt.h>
#include <mm/layout.h>
#include <mm/vmalloc.h>
#include <kernel/cpu.h>
#include <kernel/printk.h>

extern const char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern const char __data_start[], __bss_end[], __kernel_end[];

const char *kernel_region(uint64_t va)
{
    if (va < 0x0000800000000000ul)
        return va < PAGE_SIZE ? "user space (NULL page)" : "user space";
    if (va < KERNEL_HALF_START)
        return "non-canonical";
    if (va < VMALLOC_START)
        return "direct map";
    if (va >= VMALLOC_START && va < VMALLOC_END)
        return "vmalloc range";
    if (va >= KMAP_BASE && va < KMAP_BASE + KMAP_SLOTS * PAGE_SIZE)
        return "kmap slots";
    if (va >= (uint64_t)__text_start && va < (uint64_t)__text_end)
        return "kernel text";
    if (va >= (uint64_t)__rodata_start && va < (uint64_t)__rodata_end)
        return "kernel rodata";
    if (va >= (uint64_t)__data_start && va < (uint64_t)__bss_end)
        return "kernel data/bss";
    if (va >= KERNEL_IMAGE_BASE && va < (uint64_t)__kernel_end)
        return "kernel image";
    return "unused kernel address";
}

void fault_print_walk(uint64_t addr)
{
    static const char *const level_names[] = { "PT", "PD", "PDPT", "PML4" };
    struct pgtable cur;
    struct pt_view v;
    char prot[16];
    current_pt(&cur);
    int err = pt_walk(&cur, addr, &v);
    printk("page walk of %016lx (%s):", addr, kernel_region(addr));
    for (unsigned i = 0; i < v.nraw; i++) {
        unsigned level = cur.fmt->levels - 1 - i;
        unsigned shift = PAGE_SHIFT + level * cur.fmt->index_bits;
        printk(" %s[%lu]=%016lx", level_names[level],
               ((addr >> shift) & ((1ul << cur.fmt->index_bits) - 1)),
               v.raw[i]);
    }
    if (err)
        printk(" -> no mapping\n");
    else
        printk(" -> %s page at phys %#lx, %s%s%s\n",
               v.size == (1ul << 30) ? "1 GiB" : v.size == (2ul << 20) ? "2 MiB" : "4 KiB",
               v.pa, pt_prot_str(v.prot, prot),
               v.accessed ? ", accessed" : "", v.dirty ? ", dirty" : "");
}

const char *kernel_fault_explain(uint64_t vector, uint64_t cr2, uint64_t rsp)
{
    if (vector == VEC_PF) {
        fault_print_walk(cr2);
        if (vmalloc_report_guard(cr2)) {
            const struct vm_area *a = find_vm_area(cr2);
            return a && cr2 < a->addr ? "kernel stack overflow" : "guard page hit";
        }
        return NULL;
    }
    if (vector == VEC_DF) {
        const struct vm_area *a;
        if (vmalloc_stack_overflow(rsp, cr2, &a)) {
            printk("kernel stack overflow: RSP %016lx, CR2 %016lx; the stack %#lx-%#lx "
                   "(%s) is exhausted and the page below it is its guard page; this report "
                   "runs on the double-fault IST stack\n",
                   rsp, cr2,
                   a->addr, (a->addr + a->size),
                   a->owner ? a->owner : "unnamed");
            return "kernel stack overflow";
        }
    }
    return NULL;
}
