/*
 * The i386 two-level page-table entry, without PAE (Intel SDM vol. 3A,
 * section 4.3 "32-bit paging", and the "Page Attribute Table" section of
 * the memory-cache chapter): the two-level layout that the blog post on
 * i386 paging, 2008, and the blog post on kernel memory management, 2024,
 * describe (docs/bibliography.md).
 *
 * compat32 keeps these tables in software, as the authoritative
 * description of a 32-bit process's address space; the CPU, in long
 * mode, walks 4-level tables derived from them (docs/compat32.md).
 * Generic code never uses these macros: it goes through
 * include/mm/pgtable.h and the format `pt_i386` (compat32/pt_i386.c).
 * They are here for the format itself, the translation into 4-level
 * entries, dumps, and the tests.
 *
 * A virtual address is cut 10 / 10 / 12 (the blog post on i386 paging):
 *
 *   31 ........ 22 21 ........ 12 11 ............ 0
 *  +--------------+--------------+-----------------+
 *  |  PDE index   |  PTE index   | offset in page  |
 *  +--------------+--------------+-----------------+
 *
 * A page-table entry (level 0, a 4 KiB page) and a page-directory entry
 * pointing to a page table (level 1, PS clear):
 *
 *      31 ........... 12      11..9   8    7    6   5    4     3     2     1    0
 * +-------------------------+-------+---+-----+---+---+-----+-----+-----+-----+---+
 * |  frame number (20 bits) | avail | G | PAT | D | A | PCD | PWT | U/S | R/W | P |
 * |   of the page or table  |       |   | /PS |   |   |     |     |     |     |   |
 * +-------------------------+-------+---+-----+---+---+-----+-----+-----+-----+---+
 *
 * A page-directory entry mapping a 4 MiB page (level 1, PS set):
 *
 *      31 .. 22     21 .... 13    12   11..9   8    7    6   5    4     3     2     1    0
 * +--------------+-------------+-----+-------+---+-----+---+---+-----+-----+-----+-----+---+
 * | 4 MiB frame  |   reserved  | PAT | avail | G |  PS | D | A | PCD | PWT | U/S | R/W | P |
 * | bits 31..22  | (0; PSE-36) |     |       |   |  =1 |   |   |     |     |     |     |   |
 * +--------------+-------------+-----+-------+---+-----+---+---+-----+-----+-----+-----+---+
 *
 * Bit 7 is PAT in a PTE and PS ("this entry is a 4 MiB leaf") in a PDE,
 * so a 4 MiB leaf keeps its PAT bit at 12.  With PSE-36, bits 13..20 of
 * a 4 MiB PDE hold physical address bits 32..39: not used here, every
 * physical address of this format is below 4 GiB, so bits 13..21 are 0.
 *
 * A non-present PTE (P clear) is ignored by the CPU: its other 31 bits
 * are the operating system's.  A payload entry (where a page went) keeps
 * its payload there, shifted left by one (compat32/pt_i386.c):
 *
 *      31 ............................................... 1   0
 * +----------------------------------------------------------+---+
 * |                    payload (31 bits)                     | 0 |
 * +----------------------------------------------------------+---+
 *
 * There is no execute-disable bit in this format.  Bits 9..11 are
 * "available": the SDM leaves them to the operating system.  We keep
 * "not executable" in bit 9 (I386_PTE_SOFT_NX); the translation layer
 * copies it into the real NX bit (63) of the derived 4-level entries, so
 * a 32-bit process that jumps into its stack or heap faults as it would
 * under Linux on x86-64 hardware.  It follows NX's rule: set in any
 * entry on the way (PDE or PTE), the page cannot be executed.
 *
 * The blog post on kernel memory management (2024) writes the entry as a
 * bitfield struct with accessed and dirty at bits 3 and 4: it drops PWT
 * and PCD.  Intel's positions are the ones below, checked by
 * _Static_asserts in compat32/pt_i386.c.
 */
#ifndef COMPAT32_PT_I386_H
#define COMPAT32_PT_I386_H

#include <stdbool.h>
#include <stdint.h>

typedef uint32_t pde_t; /* a page-directory entry (level 1) */
typedef uint32_t pte_t; /* a page-table entry (level 0) */

#define I386_PTE_P          (1u << 0)   /* present */
#define I386_PTE_RW         (1u << 1)   /* writable */
#define I386_PTE_US         (1u << 2)   /* user accessible */
#define I386_PTE_PWT        (1u << 3)   /* PAT index bit 0 */
#define I386_PTE_PCD        (1u << 4)   /* PAT index bit 1 */
#define I386_PTE_A          (1u << 5)   /* accessed */
#define I386_PTE_D          (1u << 6)   /* dirty (leaves only) */
#define I386_PTE_PAT        (1u << 7)   /* PAT index bit 2, in a PTE */
#define I386_PDE_PS         (1u << 7)   /* a 4 MiB leaf, in a PDE */
#define I386_PTE_G          (1u << 8)   /* global (leaves only) */
#define I386_PTE_AVL        (7u << 9)   /* bits 9..11: the operating system's */
#define I386_PTE_SOFT_NX    (1u << 9)   /* ours: not executable (see above) */
#define I386_PDE_PAT_LARGE  (1u << 12)  /* PAT index bit 2, in a 4 MiB PDE */
#define I386_PDE_RSVD_LARGE 0x003fe000u /* bits 13..21 of a 4 MiB PDE: zero */
#define I386_PTE_FRAME      0xfffff000u /* bits 12..31: frame of a page or table */
#define I386_PDE_FRAME_LARGE 0xffc00000u /* bits 22..31: frame of a 4 MiB page */

#define I386_ENTRIES        1024u       /* entries per table: 4096 / 4 */
#define I386_PAGE_SIZE      0x1000u     /* a PTE maps 4 KiB */
#define I386_LARGE_SIZE     0x400000u   /* a PDE maps 4 MiB */

/*
 * SOS's mirroring (named by the SOS mailing-list post on physical/paged/
 * virtual memory, 2006): PDE 1023 points to the page directory itself,
 * so the MMU (here compat32's software one, compat32/mmu32.c), walking it
 * as a page table, shows every page table at I386_MIRROR_BASE + i * 4096
 * (the table of PDE i) and the directory at I386_MIRROR_PD (entry 1023
 * of the directory read as a PTE).
 */
#define I386_MIRROR_PDE     1023u
#define I386_MIRROR_BASE    0xffc00000u
#define I386_MIRROR_PD      0xfffff000u

/* Which PDE covers va (bits 31..22). */
static inline unsigned pde_index(uint32_t va)
{
    return va >> 22;
}

/* Which PTE of its page table covers va (bits 21..12). */
static inline unsigned pte_index(uint32_t va)
{
    return (va >> 12) & (I386_ENTRIES - 1);
}

/* The 20-bit frame number of a PTE or of a PDE pointing to a table. */
static inline uint32_t pte_frame(uint32_t e)
{
    return e >> 12;
}

/* The physical address of the page (PTE) or page table (PDE, PS clear). */
static inline uint32_t pte_addr(uint32_t e)
{
    return e & I386_PTE_FRAME;
}

/* The physical address of the 4 MiB page of a PDE with PS set. */
static inline uint32_t pde_large_addr(pde_t e)
{
    return e & I386_PDE_FRAME_LARGE;
}

/* The format, for struct pgtable (include/mm/pgtable.h). */
extern const struct pt_format pt_i386;

/*
 * The PDE that mirroring puts in entry I386_MIRROR_PDE of the directory
 * at pd_pa: present, pointing to the directory as if it were a page
 * table (PS clear), read-only (R/W clear: nobody writes the tables
 * through the mirror), user-readable only when user_readable
 * (compat32.mirror=ro), and not executable (soft NX).  pd_pa must be a
 * page-aligned address below 4 GiB (panics otherwise: a caller's bug).
 * The caller writes the entry; the pgtable's range must end at
 * I386_MIRROR_BASE so that the walker never touches it.
 */
uint32_t pt_i386_mirror_entry(uint64_t pd_pa, bool user_readable);

#endif
