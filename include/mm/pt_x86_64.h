/*
 * The x86-64 4-level page-table entry (Intel SDM vol. 3A, section 4.5
 * "4-level paging", and the "Page Attribute Table" section of the
 * memory-cache chapter).
 *
 * Generic code never uses these: it goes through include/mm/pgtable.h and
 * the format `pt_x86_64` (mm/pt_x86_64.c).  This header draws the entry
 * and gathers what the few places that must speak the hardware's
 * language need: the entry bits (include/mm/x86_pte.h, shared with the
 * UEFI loader) and the PAT cache-type helpers (include/mm/pat.h), for the
 * format itself, the i386 format's cache bits, and the code that
 * programs IA32_PAT (kernel/cpu/cpufeature.c).
 *
 *  63  62..52  51 ............ 12  11..9   8   7   6   5   4    3    2   1   0
 * +--+-------+--------------------+-------+---+---+---+---+----+----+----+---+---+
 * |NX| avail |  physical address  | avail | G |PS/| D | A |PCD |PWT |U/S|R/W| P |
 * |  |       |  (bit 12 = PAT in  |       |   |PAT|   |   |    |    |   |   |   |
 * |  |       |  2M and 1G leaves) |       |   |   |   |   |    |    |   |   |   |
 * +--+-------+--------------------+-------+---+---+---+---+----+----+----+---+---+
 *
 * Bit 7 is PS ("this entry is a leaf") in the level 1 and 2 entries (PDE,
 * PDPTE) and PAT in level 0 entries (PTE); a large leaf keeps its PAT
 * bit at 12, where a 4 KiB-aligned address would have a bit that a
 * 2 MiB- or 1 GiB-aligned one does not need.  G, D and PAT mean something
 * only in leaves.
 *
 * A payload entry (not present: the CPU ignores all of it but P) carries
 * a number for the operating system, where a page went (mm/pt_x86_64.c):
 *
 *  63 62  61 ............................ 12  11 ........ 2   1   0
 * +-----+------------------------------------+--------------+---+---+
 * |  0  |   ~payload (50 bits, inverted)     |      0       | 1 | 0 |
 * +-----+------------------------------------+--------------+---+---+
 */
#ifndef MM_PT_X86_64_H
#define MM_PT_X86_64_H

#include <stdint.h>

#include <mm/pgtable.h>
#include <mm/pat.h>
#include <mm/x86_pte.h>

#endif
