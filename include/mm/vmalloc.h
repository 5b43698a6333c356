/*
 * The vmalloc range (mm/vmalloc.c): virtually contiguous kernel memory
 * built from scattered frames, mappings of given frames, device memory
 * with cache attributes, and kernel stacks; every area is followed by an
 * unmapped guard page.
 */
#ifndef MM_VMALLOC_H
#define MM_VMALLOC_H

#include <kernel/types.h>

/* What an area holds. */
enum vm_kind { VM_ALLOC, VM_MAP, VM_IOREMAP, VM_STACK };

struct vm_area {
    uint64_t addr;           /* first mapped byte */
    uint64_t size;           /* mapped bytes (page multiple), guards excluded */
    uint64_t guard_below;    /* guard bytes before addr (stacks: one page) */
    uint64_t nr_pages;       /* frames we own (VM_ALLOC, VM_STACK), found by walking */
    uint64_t phys;           /* VM_IOREMAP: the device address */
    const void *caller;      /* who asked, for vmallocinfo and guard reports */
    const char *owner;       /* optional name (stacks) */
    enum vm_kind kind;
    unsigned prot;           /* PT_* of the mapping */
    struct vm_area *next;    /* sorted by address */
};

/* Set up the area allocator (after the slab allocator); `debug` makes bad
 * frees a report instead of a panic. */
void vmalloc_init(bool debug);

void *vmalloc(size_t size);
void *vzalloc(size_t size);
/* vfree(NULL) does nothing; anything else must be a vmalloc() result. */
void vfree(const void *addr);

/* Map n given frames (physical addresses) contiguously, with prot (PT_*;
 * never PT_U, never PT_W and PT_X together). */
void *vmap(const uint64_t *frames, size_t n, unsigned prot);
void vunmap(const void *addr);

/* Device memory: ioremap is uncached (MMIO), ioremap_wc write-combining
 * (framebuffers).  pa and size need not be page aligned.  RAM (anything
 * the direct map covers) is refused: one frame, two memory types. */
void *ioremap(uint64_t pa, size_t size);
void *ioremap_wc(uint64_t pa, size_t size);
void iounmap(volatile void *addr);

/* A kernel stack of `size` bytes with a guard page below it (where an
 * overflow lands) and one above.  Returns the lowest address. */
void *vmalloc_stack(size_t size, const char *owner);
void vfree_stack(void *base);   /* NULL does nothing */

/* The area whose mapping or guard pages contain addr, or NULL. */
const struct vm_area *find_vm_area(uint64_t addr);
/* Is addr in a guard page?  Then print "guard page hit" with the area's
 * owner (and "stack overflow" for a stack) and return true. */
bool vmalloc_report_guard(uint64_t addr);
/* For the double-fault handler: do this RSP and CR2 say a kernel stack
 * overflowed into its guard page?  Fills *area. */
bool vmalloc_stack_overflow(uint64_t rsp, uint64_t cr2, const struct vm_area **area);

/* /proc/vmallocinfo, in Linux's format. */
int vmallocinfo(char *buf, size_t size);
/* Frames held by vmalloc areas and stacks; the number of areas. */
uint64_t vmalloc_nr_pages(void);
uint64_t vmalloc_nr_areas(void);

#endif
