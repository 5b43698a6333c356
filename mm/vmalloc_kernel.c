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
#include <kernel/ksyms.h>
#include <kernel/printk.h>

void vmalloc_init(bool debug)
{
    int err = vmap_space_init(&vmalloc_space, &kernel_pt, VMALLOC_START, VMALLOC_END, debug);
    if (err)
        panic("vmalloc_init: the range %#lx-%#lx is not in the kernel's tables (%d)",
              VMALLOC_START, VMALLOC_END, err);
    vmalloc_space.sym_lookup = ksym_lookup;
    vmalloc_space.is_ram = mem_is_ram;
}
