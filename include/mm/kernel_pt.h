/*
 * The kernel's own page tables (mm/kernel_pt.c), which replace the
 * loader's: the direct map, the image per section, the vmalloc and kmap
 * ranges, all in the kernel half whose top-level entries are shared by
 * every address space.
 */
#ifndef MM_KERNEL_PT_H
#define MM_KERNEL_PT_H

#include <boot/boot_info.h>
#include <mm/pgtable.h>

extern struct pgtable kernel_pt;

/*
 * Build the tables (direct map of RAM with 2 MiB / 1 GiB pages, image per
 * section), without loading them.  Table pages come from the buddy
 * allocator: call after mem_init.
 */
void kernel_pt_build(const struct boot_info *bi);
/* Load them into CR3; from here on kernel_pt changes flush the TLB. */
void kernel_pt_activate(void);
/*
 * The W^X audit: walk every kernel mapping; print a summary and
 * "W^X: no writable+executable pages", or name the offenders.  Returns
 * the number of offending leaves (also user-accessible ones in the
 * kernel half).
 */
int kernel_pt_audit(void);
/* Print a short dump of the kernel half (one line per run of leaves). */
void kernel_pt_dump(void);

/* Give an address space's root the kernel half: the 256 shared top-level
 * entries (pt_share_top).  Every process's tables get them. */
int kernel_pt_share(struct pgtable *pt);

/*
 * A new address space: an empty user half [0, USER_SPACE_END) and the
 * kernel half's 256 top-level entries copied from kernel_pt (they point
 * to the shared tables, so later kernel mappings appear here too).
 * pt_destroy frees it.
 */
int user_pt_create(struct pgtable *pt);

/* The tables the CPU uses now (CR3), as a pgtable for walks in oopses. */
void current_pt(struct pgtable *out);

#endif
