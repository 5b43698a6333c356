/*
 * The kernel's vmalloc space: vmalloc_space (mm/vmalloc.c) over
 * [VMALLOC_START, VMALLOC_END) of kernel_pt, with the kernel's symbol
 * table for naming callers and the cleaned memory map for telling RAM
 * from device memory.  Kernel-only glue: the host tests build their own
 * space over the arena instead, so mm/vmalloc.c itself never names
 * kernel_pt, ksym_lookup or mem_is_ram.
 *
 * Invariant: after vmalloc_init, vmalloc_space maps into kernel_pt, whose
 * flush hook does the TLB work (nothing to flush before kernel_pt is
 * loaded); its reports go to printk.
 */
#include <mm/vmalloc.h>
#include <mm/bootmem.h>
#include <mm/kernel_pt.h>
#include <mm/layout.h>
#include <mm/tlb.h>
#include <kernel/ksyms.h>
#include <kernel/printk.h>

static void remote_defer(bool on)
{
    tlb_remote_deferred = on;
}

void vmalloc_init(bool debug)
{
    int err = vmap_space_init(&vmalloc_space, &kernel_pt, VMALLOC_START, VMALLOC_END, debug);
    if (err)
        panic("vmalloc_init: the range %#lx-%#lx is not in the kernel's tables (%d)",
              VMALLOC_START, VMALLOC_END, err);
    vmalloc_space.sym_lookup = ksym_lookup;
    vmalloc_space.is_ram = mem_is_ram;
    vmalloc_space.remote_defer = remote_defer;
}

void vmalloc_lazy_init(unsigned cpus)
{
    /* Linux's lazy_max_pages is fls(CPUs) x 32 MiB.  Here a list, walked
     * by every allocation, holds the lazy areas, so a 1 MiB step keeps it
     * to some hundreds of areas: 768 pages for four CPUs. */
    unsigned fls = 0;
    while (fls < 32 && (1u << fls) <= cpus)
        fls++;
    vmalloc_space.lazy_max = (uint64_t)fls * ((1ul << 20) / PAGE_SIZE);
}
