/*
 * Address spaces of user processes (docs/address-spaces.md): the sorted
 * set of VMAs, mmap and friends, demand paging, copy-on-write fork.
 *
 * Three layers, as the SOS mailing-list post on physical/paged/virtual
 * memory (2006) draws them:
 *  - physical: reference-counted frames (include/mm/gfp.h: get_page,
 *    put_page).  Every present user page holds ONE reference on its
 *    frame; a frame shared after fork is counted once per mapping;
 *  - paged: the generic page-table interface (include/mm/pgtable.h).
 *    Nothing here touches an entry bit, so the i386 format of compat32
 *    can sit behind the same code (docs/compat32.md: frames and tables
 *    from mm->gfp = GFP_DMA32, va_end = 4 GiB or less);
 *  - virtual (this header): what the process asked for, as VMAs, and
 *    the fault handler that makes page tables follow them lazily.
 *
 * Code: mm/vma.c (the VMA set, shared anonymous objects, /proc/self/maps),
 * mm/mmap.c (mmap, munmap, mprotect, brk, madvise, mincore), mm/user_fault.c
 * (demand paging, CoW, the zero page, user-memory helpers), mm/mm_fork.c
 * (create, fork, destroy), mm/vma_check.c (the validators), mm/filemap.c
 * (page-cache files: include/mm/filemap.h).
 *
 * Context: one CPU, a non-preemptible kernel: the caller serializes the
 * calls on one mm, none of them sleeps.  All functions return 0 or a
 * negative errno (include/kernel/errno.h), with Linux's values where a
 * system call returns them unchanged.
 */
#ifndef MM_VMA_H
#define MM_VMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mm/gfp.h>
#include <mm/pgtable.h>
#include <mm/filemap.h>

/* ---- Linux's ABI values (x86-64 and i386 share them) ----------------------------- */

/* (Each group is skipped if a libc header defined it first.) */
#ifndef PROT_READ
#define PROT_NONE  0x0u
#define PROT_READ  0x1u
#define PROT_WRITE 0x2u
#define PROT_EXEC  0x4u
#define PROT_SEM   0x8u          /* accepted and ignored, as on x86 */
#endif
#ifndef MAP_SHARED
#define MAP_SHARED          0x01u
#define MAP_PRIVATE         0x02u
#define MAP_SHARED_VALIDATE 0x03u
#define MAP_TYPE            0x0fu
#define MAP_FIXED           0x10u
#define MAP_ANONYMOUS       0x20u
#define MAP_GROWSDOWN       0x100u
#define MAP_DENYWRITE       0x800u
#define MAP_EXECUTABLE      0x1000u
#define MAP_LOCKED          0x2000u
#define MAP_NORESERVE       0x4000u
#define MAP_POPULATE        0x8000u
#define MAP_NONBLOCK        0x10000u
#define MAP_STACK           0x20000u
#define MAP_HUGETLB         0x40000u
#define MAP_SYNC            0x80000u
#define MAP_FIXED_NOREPLACE 0x100000u
#endif
#ifndef MREMAP_MAYMOVE
#define MREMAP_MAYMOVE   1u
#define MREMAP_FIXED     2u
#define MREMAP_DONTUNMAP 4u
#endif
#ifndef MADV_DONTNEED
#define MADV_NORMAL     0
#define MADV_RANDOM     1
#define MADV_SEQUENTIAL 2
#define MADV_WILLNEED   3
#define MADV_DONTNEED   4
#define MADV_FREE       8
#define MADV_COLD       20
#define MADV_PAGEOUT    21
#endif

/* ---- the structures ------------------------------------------------------------------ */

/*
 * An in-memory, read-only file: an initrd entry.  A mapping copies from
 * data on first touch and zero-fills past size, so a loader can describe
 * an ELF segment as { name, file start, p_offset + p_filesz } and map the
 * whole [p_vaddr, p_vaddr + p_memsz) with offset p_offset rounded down:
 * bss comes out zeroed.  The file must outlive every mapping of it
 * (initrd entries are never freed).
 */
struct vm_file {
    const char *name;        /* shown in /proc/self/maps */
    const uint8_t *data;
    uint64_t size;
};

/*
 * A MAP_SHARED anonymous object: the frames behind a shared mapping, by
 * page index, allocated on first touch and kept until the last VMA
 * referring to it (in any process) is gone, as Linux's shmem keeps them:
 * a page unmapped by MADV_DONTNEED or munmap keeps its data while a VMA
 * still covers the object.  The object holds one reference on each of its
 * frames; each present pte another.
 */
struct vm_shm {
    uint64_t refs;           /* VMAs pointing here, in every mm */
    uint64_t npages;         /* its size */
    uint64_t nr_frames;      /* frames held */
    uint64_t id;             /* the "inode" /proc/self/maps shows */
    uint64_t **dir;          /* npages / 512 rounded up leaves of 512 frame addresses (0: none) */
};

/* vma->flags */
#define VMA_SHARED    0x1u   /* MAP_SHARED: frames shared with forks, never copied on write */
#define VMA_GROWSDOWN 0x2u   /* a stack: a fault below it extends it (mm/stack.c) */
#define VMA_MAYWRITE  0x4u   /* a shared file mapping that may be writable: the file was
                              * opened for writing (Linux's VM_MAYWRITE) */

/*
 * A virtual memory area: [start, end) with one protection and one
 * backing, one of:
 *  - private anonymous (file == shm == NULL): demand zero, CoW on fork;
 *  - private file (file): the file's bytes copied on first touch, CoW;
 *  - shared anonymous (shm, VMA_SHARED): the object's frames;
 *  - shared file (file, VMA_SHARED): files are read-only, so it can never
 *    be writable (mmap and mprotect refuse PROT_WRITE: -EACCES); its
 *    pages are copies of the file made on first touch, and fork shares
 *    them, as everyone would share the page cache's;
 *  - a page-cache file (mapping, include/mm/filemap.h), shared or private:
 *    the file's own pages (a private VMA's first write copies them), and
 *    the VMA is on the file's i_mmap list.  MAP_SHARED anonymous memory
 *    is such a file too when mm_shmem_new is set (the kernel: an unlinked
 *    tmpfs file, as Linux's shmem), otherwise a vm_shm (host tests).
 */
struct vma {
    struct vma *prev, *next; /* the mm's list, sorted by address; NULL at the ends */
    uint64_t start, end;     /* page aligned, start < end */
    unsigned prot;           /* PROT_READ | PROT_WRITE | PROT_EXEC, or PROT_NONE */
    unsigned flags;          /* VMA_* */
    const struct vm_file *file;
    struct vm_shm *shm;
    uint64_t off;            /* file or shm: byte offset of start in the object (page aligned) */
    struct vm_mapping *mapping; /* a page-cache file, or NULL */
    struct mm *mm;           /* the address space holding it (set by vma_link) */
    struct vma *i_mmap_prev, *i_mmap_next; /* the file's list (mapping->i_mmap) */
    /*
     * The reverse map (include/mm/rmap.h): pgoff is the linear page index
     * of start (a file VMA: off / 4096; an anonymous one: start / 4096
     * when made, then kept through splits, moves and forks as Linux's
     * vm_pgoff is), and anon_vma the lineage whose anonymous pages this
     * VMA may map (NULL until its first one), linked through anon_prev /
     * anon_next.
     */
    uint64_t pgoff;
    struct anon_vma *anon_vma;
    struct vma *anon_prev, *anon_next;
    /* The NUMA policy of this range (include/mm/mempolicy.h; NULL: none,
     * the task's applies): one reference, kept through splits and forks,
     * dropped by vma_free; neighbours merge only with equal policies. */
    struct mempolicy *policy;
};

/*
 * An address space.  Invariants (mm_check_consistency verifies them):
 *  - the VMAs are sorted, disjoint, page aligned, inside
 *    [MM_MIN_ADDR, va_end), nr_vmas of them, and no two adjacent ones are
 *    compatible (they would have been merged);
 *  - every present pte is a 4 KiB page inside a VMA, with the VMA's
 *    protections (vma_pt_prot), except that a private page may lack PT_W:
 *    a private page is writable only when its frame is referenced once
 *    (ours alone) and is not the zero page;
 *  - every present pte holds one reference on its frame; the zero page
 *    only in private anonymous VMAs; a shared VMA's pages are its
 *    object's frames;
 *  - rss and zero_maps count the present ptes.
 */
struct mm {
    struct pgtable pt;          /* the user half: pt_init(fmt, gfp, 0, va_end); the kernel
                                 * adds its half with pt_share_top and loads pt.root */
    struct vma *vmas;           /* first VMA (lowest address), NULL when there is none */
    struct vma *cache;          /* the VMA the last lookup found: faults come in runs */
    uint64_t nr_vmas;           /* how many; never above max_vmas */
    uint64_t max_vmas;          /* Linux's vm.max_map_count (MM_MAX_VMAS): more is -ENOMEM */
    uint64_t va_end;            /* user addresses are [MM_MIN_ADDR, va_end) */
    uint64_t mmap_base;         /* mmap without MAP_FIXED searches downwards from here */
    gfp_t gfp;                  /* data frames and table pages (GFP_DMA32 for i386) */
    uint64_t brk_start, brk;    /* program break: the heap is [brk_start, PAGE_ALIGN(brk));
                                 * brk is kept as the process gave it (unaligned) */
    uint64_t stack_start, stack_end; /* the main stack ("[stack]"): start moves down as it grows */
    uint64_t stack_guard;       /* Linux's stack_guard_gap: bytes below every VMA_GROWSDOWN VMA
                                 * that mmap's search and brk leave free, and that a stack
                                 * keeps from the VMA below it when it grows */
    uint64_t minor_faults;      /* faults resolved without I/O (getrusage ru_minflt) */
    uint64_t major_faults;      /* faults that read a page from swap (ru_majflt) */
    uint64_t swap_ents;         /* PTEs holding a swap entry (Linux's MM_SWAPENTS) */
    uint64_t rss;               /* present pages mapping a frame other than the zero page */
    uint64_t zero_maps;         /* present pages mapping the zero page */
    uint64_t max_rss;           /* the highest rss seen (getrusage ru_maxrss) */
    uint64_t start_stack;       /* exec's stack: where argc is, and the argv and envp strings */
    uint64_t arg_start, arg_end, env_start, env_end;   /* (/proc/<pid>/stat, cmdline, environ) */
    /* When the CPU does not walk pt itself: the hardware side (compat32:
     * pt holds the i386 two-level tables, the authoritative map, and the
     * CPU walks 4-level tables derived from them).  NULL: pt is what the
     * CPU walks (64-bit processes). */
    const struct mm_hw_ops *hw_ops;
    void *hw;                   /* the hardware side's own state */
    /* The CPUs whose CR3 may hold these tables (bit i: cpu_info[i];
     * Linux's mm_cpumask): set by the CPU that loads them (cpu_switch_mm,
     * smp_enter_mm), cleared when it leaves them.  Every flush of the user range is
     * sent to the others (mm_tlb_flush_cpus; the flushing CPU's own TLB
     * is flushed locally when the tables are loaded there,
     * mm_loaded_root), and mm_destroy makes them all leave first.  An
     * idle CPU that keeps the tables loaded (lazy TLB) keeps its bit but
     * is skipped by the flushes (mm_lazy_cpus). */
    uint64_t cpu_mask;
    /* Counts the flushes of this address space sent to other CPUs: a lazy
     * CPU that comes back to it and finds the count moved since it went
     * idle flushes its whole TLB (Linux's tlb_gen). */
    uint64_t tlb_gen;
};

/*
 * The hardware side of an mm whose pt the CPU cannot walk
 * (docs/compat32.md; compat32/mmu32.c).  The generic code calls it at four
 * points: mm_fork (attach the child), mm_destroy (detach), mm_fault and
 * the user-copy helpers (fill what an allowed access needs), and the
 * scheduler (the root to load).  pt.flush, set by the same layer, tells
 * it when entries it derived from pt went stale.
 */
struct mm_hw_ops {
    /* give a new mm its tables: fork's child (parent: the mm it copies) */
    int (*attach)(struct mm *mm, const struct mm *parent);
    void (*detach)(struct mm *mm);          /* free them; they are not loaded */
    /* An access (FAULT_*) to va: if pt allows it, record it there
     * (accessed, dirty: what the CPU would have set) and make the
     * hardware translation allow it: 0.  -EFAULT when pt does not allow
     * it (the caller then takes it as a page fault of the process),
     * -ENOMEM. */
    int (*fill)(struct mm *mm, uint64_t va, unsigned access);
    uint64_t (*root)(const struct mm *mm);  /* the table to load in CR3 */
};

/* The physical address to load in CR3 for mm. */
static inline uint64_t mm_cr3(const struct mm *mm)
{
    return mm->hw_ops ? mm->hw_ops->root(mm) : mm->pt.root;
}

#define MM_MIN_ADDR  0x10000ul  /* Linux's default vm.mmap_min_addr: page 0 etc. stay unmapped */
#define MM_MAX_VMAS  65530u      /* Linux's vm.max_map_count */
#define MM_VA_END_64 0x7ffffffff000ul  /* Linux's TASK_SIZE: the last user page stays unused */
#define MM_VA_END_32 0xffc00000ul      /* below the page-table mirror of compat32 */

/* ---- creating and destroying (mm/mm_fork.c) ---------------------------------------------- */

/*
 * TLB shootdown for user tables: called by every mm's pt.flush with the
 * range whose translations changed.  NULL (host tests): nothing to flush.
 * The kernel sets it to tlb_flush_range once at boot, before the first
 * process: without it, a CPU could keep writing through a translation
 * fork has just made read-only (CoW would leak writes into the child).
 */
extern void (*mm_tlb_flush)(uint64_t va, uint64_t len);
/* The root of the user tables the CPU walks now (CR3), set at boot like
 * mm_tlb_flush: a flush of tables not loaded is skipped.  NULL: always
 * flush. */
extern uint64_t (*mm_loaded_root)(void);
/* Share the kernel half into a new set of user tables (kernel_pt_share);
 * set at boot like mm_tlb_flush, NULL in host tests.  mm_init_user and
 * mm_fork give it to the tables the CPU walks: the mm's own, or those of
 * its hardware side (compat32's attach). */
extern int (*mm_kernel_share)(struct pgtable *pt);
/* The remote half of a user-range flush: flush [va, va + len) on the
 * CPUs of mask (an mm's cpu_mask) and wait for them
 * (smp_tlb_flush_mask).  NULL (host tests, one CPU): nothing to send. */
extern void (*mm_tlb_flush_cpus)(uint64_t mask, uint64_t va, uint64_t len);
/* Send a flush of mm's range [va, va + len) to the other CPUs of its
 * cpu_mask but the lazy ones, and bump its tlb_gen for those (the
 * pt.flush of the tables the CPU walks calls it: mm's own, or compat32's
 * derived ones). */
void mm_flush_cpus(struct mm *mm, uint64_t va, uint64_t len);
/* Flushes of an address space that a CPU did not acknowledge in time
 * (kernel/cpu/smp_call.c gives up after a second): that CPU may
 * still write through a stale entry, so a page-out or a migration that
 * saw this count move gives up (pageout_wrprotect, stop_writers). */
extern uint64_t mm_flush_timeouts;

/* The CPUs idle in lazy TLB mode (bit i: CPU i): each keeps the tables
 * of the last address space it ran (its bit stays in that cpu_mask) but
 * runs no user code, so the flushes skip it (mm_flush_cpus bumps tlb_gen
 * instead).  Changed by the scheduler under the kernel lock
 * (kernel/cpu/tlb_shootdown.c); 0 in the host tests. */
extern uint64_t mm_lazy_cpus;

/* Does a CPU other than this one have mm's tables loaded and run a
 * thread of it (so that it may be writing through its TLB right now)?  A
 * lazy CPU does not.  No CPU can start running mm meanwhile: that takes
 * the scheduler, under the kernel lock the caller holds. */
static inline bool mm_loaded_elsewhere(const struct mm *mm)
{
    return (mm->cpu_mask & ~mm_lazy_cpus & ~(1ul << mm_cpu())) != 0;
}

/* Make every CPU of mm->cpu_mask leave mm's tables (load the kernel's)
 * and clear its bit: mm_destroy calls it before it frees a table.  NULL:
 * nothing to do. */
extern void (*mm_leave_cpus)(struct mm *mm);
/* The same for the lazy CPUs of mask only (tables of mm are about to be
 * freed: mm_tables_freed).  NULL: nothing to do. */
extern void (*mm_leave_lazy_cpus)(struct mm *mm, uint64_t mask);
/* The pt.tables_freed of the tables the CPU walks (mm's own, or
 * compat32's derived ones): the lazy CPUs on mm leave it. */
void mm_tables_freed(struct mm *mm);

/*
 * An empty address space over [0, va_end) with the x86-64 format, frames
 * and tables from gfp, and the kernel half (mm_kernel_share).  -EINVAL
 * for a va_end the format cannot translate or below MM_MIN_ADDR; -ENOMEM
 * (nothing allocated).  Everything else in *mm is overwritten.
 */
int mm_init_user(struct mm *mm, uint64_t va_end, gfp_t gfp);
/* The same with another page-table format (compat32's i386 one). */
int mm_init_user_fmt(struct mm *mm, const struct pt_format *fmt, uint64_t va_end, gfp_t gfp);
/*
 * Exit: drop every frame reference and free every table page, VMA and
 * shared object no other mm refers to.  The tables must not be loaded
 * (switch CR3 first).  *mm may then be freed or given to mm_init_user.
 */
void mm_destroy(struct mm *mm);
/*
 * fork: *child (any content) becomes a copy of parent.  The VMAs are
 * copied; shared mappings stay shared; private pages are mapped read-only
 * in both (each mapping one more reference on the frame: the first write
 * copies), unless eager: then every present private page is copied now
 * (`fork=copy`, for the benchmark).  The child's tables are built
 * without copying any data page (pt_clone).  On -ENOMEM nothing is left
 * allocated for the child and the parent's memory reads and writes as it
 * did (some private pages may have become read-only: the next write takes
 * PT_W back without a copy, the frame being referenced once again).
 */
int mm_fork(struct mm *child, struct mm *parent, bool eager);

/* ---- the program's layout (mm/mmap.c) --------------------------------------------------- */

/*
 * The process's address-space calls, with Linux's semantics and errors
 * (docs/address-spaces.md lists them).  Nothing is allocated for data
 * until it is touched.
 *
 * mm_mmap: a new mapping of len bytes; *out gets its address.  prot is
 * PROT_* (other bits ignored); flags MAP_PRIVATE or MAP_SHARED, with
 * MAP_ANONYMOUS (file and off ignored) or a file and a page-aligned
 * offset, MAP_FIXED (replace whatever is there) or MAP_FIXED_NOREPLACE
 * (-EEXIST if something is), otherwise addr is a hint used if the range
 * is free.  Errors: -EINVAL (len 0, unaligned off or fixed addr, no or
 * two mapping types), -ENOMEM (len too large, no room, too many VMAs, no
 * memory), -EPERM (fixed below MM_MIN_ADDR), -EBADF (no file without
 * MAP_ANONYMOUS), -EACCES (MAP_SHARED + PROT_WRITE of a file), -EEXIST.
 * All or nothing, MAP_FIXED included: on failure the old mapping stays.
 */
int mm_mmap(struct mm *mm, uint64_t addr, uint64_t len, unsigned prot, unsigned flags,
            const struct vm_file *file, uint64_t off, uint64_t *out);
/*
 * What the mmap system call knows of the file behind its fd: what to
 * map, an initrd view (vf) or a page-cache file (mapping, include/mm/
 * filemap.h), both NULL when the file cannot be mapped (a pipe, a
 * directory, the console), and how it was opened.
 */
struct mmap_file {
    const struct vm_file *vf;
    bool readable, writable;
    struct vm_mapping *mapping;
};
/*
 * MAP_SHARED anonymous memory as Linux makes it (shmem_zero_setup): a new
 * unlinked file of len bytes on a memory file system, its mapping
 * referenced once for the caller (which drops that with ops->put once a
 * VMA holds the file).  0 or -ENOMEM.  Set at boot like mm_tlb_flush;
 * NULL (host tests): a vm_shm instead.
 */
extern int (*mm_shmem_new)(uint64_t len, struct vm_mapping **out);
/*
 * mmap with Linux's checks in do_mmap's order, for sys_mmap, after the
 * system call's own (offset alignment: -EINVAL, the fd: -EBADF).  mf is
 * NULL for MAP_ANONYMOUS.  In order: -EINVAL for MAP_HUGETLB on a file,
 * a zero len; -ENOMEM for a len that overflows or passes va_end, too many
 * VMAs, no room, a fixed range past va_end; -EINVAL for an unaligned
 * fixed address; -EPERM below MM_MIN_ADDR; -EEXIST (MAP_FIXED_NOREPLACE);
 * -EOVERFLOW for a file offset whose end passes 2^63; then the type:
 * -EINVAL (none, or MAP_SHARED_VALIDATE without a file), -EOPNOTSUPP
 * (MAP_SHARED_VALIDATE with a flag Linux does not know), -EACCES (a
 * shared writable mapping of a file, a file not opened for reading),
 * -ENODEV (neither a view nor a mapping), -EINVAL (MAP_GROWSDOWN with a file or MAP_SHARED),
 * -ENOMEM (anonymous MAP_HUGETLB: no huge pages); last, the overcommit
 * rule and memory (-ENOMEM).  mm_mmap is this with a read-only file.
 */
int mm_mmap_file(struct mm *mm, uint64_t addr, uint64_t len, unsigned prot, unsigned flags,
                 const struct mmap_file *mf, uint64_t off, uint64_t *out);
/*
 * mremap (mm/mremap.c), Linux's rules and errors:
 *  - shrink in place (the tail is unmapped); grow in place when the pages
 *    after the VMA are free; otherwise, with MREMAP_MAYMOVE, move to a
 *    free range (MREMAP_FIXED: to new_addr, unmapping what was there).
 *    A move carries the page-table entries (the frames and their state),
 *    it copies no page; the old range is unmapped, or with
 *    MREMAP_DONTUNMAP keeps its VMA and reads as fresh memory;
 *  - old_len 0 with a shared mapping makes a second mapping of the same
 *    object (Linux's "duplicate" special case);
 *  - a move to new_addr without resizing (MREMAP_FIXED or
 *    MREMAP_DONTUNMAP, old_len == new_len) may span several VMAs and the
 *    holes between them (Linux 6.17), each piece keeping its offset.
 * Errors: -EINVAL (unknown flags, FIXED or DONTUNMAP without MAYMOVE,
 * DONTUNMAP resizing, unaligned addr or new_addr, new_len 0 or beyond
 * va_end, old and new ranges overlapping, old_len 0 with a private
 * mapping), -EFAULT (addr not mapped, or a resized range past its VMA),
 * -ENOMEM (cannot grow in place without MAYMOVE, no room, too many
 * VMAs, no memory).  *out: the new address.
 */
int mm_mremap(struct mm *mm, uint64_t addr, uint64_t old_len, uint64_t new_len, unsigned flags,
              uint64_t new_addr, uint64_t *out);
/* Unmap [addr, addr + len) (holes are fine), splitting VMAs: -EINVAL
 * (unaligned addr, len 0, outside user space), -ENOMEM (too many VMAs). */
int mm_munmap(struct mm *mm, uint64_t addr, uint64_t len);
/* New protections for [addr, addr + len), which must be fully mapped
 * (-ENOMEM otherwise, nothing changed); -EINVAL (unaligned, unknown
 * bits), -EACCES (PROT_WRITE on a shared file mapping); len 0 does
 * nothing.  Private pages become writable on their next write fault. */
int mm_mprotect(struct mm *mm, uint64_t addr, uint64_t len, unsigned prot);
/* sys_brk: move the break to brk; returns the new break, or the current
 * one when brk is below brk_start, runs into a mapping (with a page of
 * gap, and the stack guard) or memory is short.  Shrinking frees the
 * pages: grown again they read zero. */
uint64_t mm_brk(struct mm *mm, uint64_t brk);
/* MADV_DONTNEED (and MADV_FREE, done the same way on private anonymous
 * memory): drop the pages; private ones read back zero (or the file's
 * bytes), shared ones keep their data.  MADV_PAGEOUT and MADV_COLD go to
 * mm_madvise_reclaim (nothing happens while it is NULL).
 * NORMAL/RANDOM/SEQUENTIAL/WILLNEED do nothing.  -EINVAL (unaligned,
 * unknown advice), -ENOMEM (a hole in the range: the advice is still
 * applied to the mapped parts). */
int mm_madvise(struct mm *mm, uint64_t addr, uint64_t len, int advice);
/* MADV_PAGEOUT / MADV_COLD on [start, end) inside v: mm/madvise_pageout.c's
 * madvise_reclaim, set at boot (include/mm/vmscan.h); NULL in host tests
 * without reclaim. */
extern int (*mm_madvise_reclaim)(struct mm *mm, struct vma *v, uint64_t start, uint64_t end,
                                 int advice);
/* mincore: vec[i] = 1 if page i of [addr, addr + len) is resident (a
 * present pte, or a frame of the shared object), else 0.  vec holds
 * PAGE_ALIGN(len) / 4096 bytes.  -EINVAL (unaligned), -ENOMEM (not all
 * mapped). */
int mm_mincore(struct mm *mm, uint64_t addr, uint64_t len, uint8_t *vec);

/* For exec: the heap starts at start (rounded up to a page); empty. */
int mm_brk_init(struct mm *mm, uint64_t start);
/*
 * For exec (mm/stack.c): the stack [top - size, top), read-write,
 * private, demand paged, growing down (VMA_GROWSDOWN) up to the stack
 * limit, with guard bytes kept free below it (mm->stack_guard, Linux's
 * stack_guard_gap).  mmap_base moves below the room the stack may take
 * (Linux's: the limit plus the guard, at least 128 MiB, at most 5/6 of
 * the space).  Errors as mm_mmap with MAP_FIXED_NOREPLACE.
 */
int mm_setup_stack(struct mm *mm, uint64_t top, uint64_t size, uint64_t guard);
/*
 * The stack limit (RLIMIT_STACK of the faulting task), asked at each
 * growth; set at boot like mm_tlb_flush.  NULL (host tests): 8 MiB.
 */
extern uint64_t (*mm_stack_limit)(void);
/*
 * A fault at addr, which no VMA holds: when the VMA above it grows down,
 * extend it down to addr's page (Linux's expand_stack), as long as the
 * VMA stays within the stack limit, keeps mm->stack_guard bytes from an
 * accessible VMA below, stays above MM_MIN_ADDR and the memory could be
 * backed.  Returns the VMA, now holding addr, or NULL (nothing changed).
 */
struct vma *mm_grow_stack(struct mm *mm, uint64_t addr);

/* ---- faults and user memory (mm/user_fault.c) ----------------------------------------------- */

/* access bits of a fault (from the #PF error code) */
#define FAULT_WRITE 0x1u
#define FAULT_EXEC  0x2u
#define FAULT_USER  0x4u      /* from user mode; without it, the kernel's user-copy helpers */

enum mm_fault_why {
    MM_FAULT_DONE = 0,        /* resolved */
    MM_FAULT_NO_MAPPING,      /* no VMA holds the address (or it is not a user address) */
    MM_FAULT_STACK_GUARD,     /* no mapping, below a stack that may not grow there */
    MM_FAULT_PROTECTION,      /* a VMA holds it but does not allow the access */
    MM_FAULT_OOM,             /* no memory for a frame or a table */
    MM_FAULT_SIGBUS,          /* a file page past the end of its file (or no room for it) */
};

/*
 * Allocate the zero page (zeroed, GFP_DMA32 so that 32-bit processes can
 * map it too), pinned with one reference forever.  Call once after mem_init
 * and kmem_cache_init; host tests call it after each mm_host_init (the
 * previous one is forgotten).  -ENOMEM.
 */
int mm_zero_page_init(void);
/* Its physical address (0 before mm_zero_page_init). */
uint64_t mm_zero_page(void);
/*
 * The owner of payload entries (include/mm/pgtable.h) in user address
 * spaces: swap (mm/swap_fault.c) sets these at boot; NULL (host tests
 * without swap): payload entries are copied and dropped as they are.
 *  - put: a PTE holding payload is gone (exit, munmap, MADV_DONTNEED);
 *  - dup: fork copies a PTE holding payload (0, or -ENOMEM: fork fails);
 *  - fault: an access to va of v, whose PTE holds payload (0 when the
 *    page is back, -EIO: SIGBUS, -ENOMEM).
 */
extern void (*mm_payload_put)(uint64_t payload);
extern int (*mm_payload_dup)(uint64_t payload);
extern int (*mm_payload_fault)(struct mm *mm, struct vma *v, uint64_t va, uint64_t payload,
                               unsigned access);
/*
 * A new anonymous page for va of v (the fault handler's, a private file
 * page's first write, a copy-on-write break): a frame of the process's
 * zones (GFP_HIGHUSER_MOVABLE, or the zone of the user_zone switch,
 * include/mm/compaction.h), with extra flags (__GFP_ZERO), marked for the
 * reverse map with v's anon_vma (made if v has none) and its index.  Its
 * physical address, or 0 when memory is short.
 */
uint64_t mm_new_anon_page(struct mm *mm, struct vma *v, uint64_t va, gfp_t extra);

/*
 * A page fault at addr (any address) with FAULT_* access bits:
 *  - demand zero: a first read of private anonymous memory maps the zero
 *    page read-only; a first write gets a zeroed frame of its own;
 *  - file pages: the first touch copies the file's bytes into a frame
 *    (zero past the end of the file), mapped with the VMA's rights;
 *  - shared anonymous: the object's frame (allocated zeroed if new);
 *  - page-cache files (mm/filemap.c): the file's page, itself (shared, or
 *    read-only for a private read) or a copy (a private write);
 *  - copy-on-write: a write to a read-only page of a writable private VMA
 *    makes it writable if the frame is ours alone (refcount 1), or copies
 *    it to a new frame and drops a reference on the old one;
 *  - a page already allowing the access (a stale TLB entry): nothing to do.
 * Each success counts one minor fault; with a hardware side (hw_ops),
 * the access is then filled in (mm_hw_ops.fill).  Returns 0, -EFAULT (no
 * mapping or protection: the caller sends SIGSEGV), -EIO (a file page
 * past the end of the file: SIGBUS), -ENOMEM.
 * mm_fault_why says which (why may be NULL).
 */
int mm_fault(struct mm *mm, uint64_t addr, unsigned access);
/*
 * A page fault the CPU reported: with a hardware side, first try to fill
 * the translation from pt (an access pt allows, whose derived entry was
 * not made yet or was write-protected to catch the first write for the
 * dirty bit): that is the emulated MMU's work, not a fault of the
 * process, and counts nothing.  Otherwise, or without a hardware side,
 * mm_fault.
 */
int mm_hw_fault(struct mm *mm, uint64_t addr, unsigned access);
int mm_fault_why(struct mm *mm, uint64_t addr, unsigned access, enum mm_fault_why *why);
/* One line about addr for a kill report: "no mapping", "stack guard gap
 * below 7ffffffde000 (no mapping)" (the stack may not reach the VMA
 * below), "stack limit below 7ffffffde000 (no mapping)" (RLIMIT_STACK),
 * or the VMA holding it, as in
 * /proc/self/maps without device, inode and padding
 * ("00400000-00401000 r-xp 00000000 /bin/init").  Returns the length like
 * snprintf. */
int mm_describe(struct mm *mm, uint64_t addr, char *buf, size_t size);

/*
 * For copy_to_user: make every page of [addr, addr + len) present and
 * writable, faulting in and breaking CoW exactly as user writes would (and
 * counted as faults).  -EFAULT if a page is not writable by the user (no
 * VMA, no PROT_WRITE, outside user space, len overflowing), -ENOMEM.
 * len 0: 0.  mm_prepare_read does the same for reads (PROT_NONE pages,
 * present but supervisor-only, are refused).
 */
int mm_prepare_write(struct mm *mm, uint64_t addr, uint64_t len);
int mm_prepare_read(struct mm *mm, uint64_t addr, uint64_t len);
/* Copy into or out of an address space that need not be loaded (exec
 * building the stack, tests), through the direct map, after
 * mm_prepare_write / mm_prepare_read.  Same errors. */
int mm_write(struct mm *mm, uint64_t addr, const void *src, uint64_t len);
int mm_read(struct mm *mm, void *dst, uint64_t addr, uint64_t len);

/* ---- statistics and text (mm/vma.c) ---------------------------------------------------------- */

static inline uint64_t mm_minor_faults(const struct mm *mm) { return mm->minor_faults; }
static inline uint64_t mm_rss_pages(const struct mm *mm) { return mm->rss; }
static inline uint64_t mm_max_rss_pages(const struct mm *mm) { return mm->max_rss; }

/*
 * /proc/self/maps in Linux's format, one line per VMA:
 *   "00400000-00401000 r-xp 00000000 00:00 0          /bin/init"
 * start-end, perms (rwx and p/s), offset, dev, inode, then the name from
 * column 73: the file's name, "/dev/zero (deleted)" for shared anonymous
 * memory (dev 00:01, the object's id as inode), "[heap]", "[stack]", or
 * nothing (the line then ends with a space after the inode, as Linux's).
 * Returns the length like snprintf (the text is cut to fit size).
 */
int mm_maps(struct mm *mm, char *buf, size_t size);

/* ---- validators (mm/vma_check.c) --------------------------------------------------------------- */

/*
 * Check the invariants written above struct mm: the VMA list, every
 * present pte against its VMA, the counts, each mapped frame referenced
 * at least once per mapping in this mm (+1 for the zero page's pin and a
 * shared object's own reference, and a page-cache page's cache), no
 * frame other than the zero page and page-cache pages mapped twice; a
 * file VMA on its file's i_mmap list, its ptes the file's pages (or, in
 * a private VMA, copies).  Returns 0, -EUCLEAN with the first problem in why, or -ENOMEM
 * (no memory for the check's scratch array).
 */
int mm_check_consistency(struct mm *mm, char *why, size_t size);
/*
 * Across address spaces: the same checks on each of mms[0..n) (walking
 * only the VMAs: a stray pte outside them shows as a count mismatch), and
 * when they are ALL the address spaces and nobody else holds frame
 * references, every mapped frame's refcount is exactly its mappings in
 * all of them, +1 if it is the zero page, +1 if it belongs to a shared
 * object or a page cache, and a page-cache page's map count is exactly
 * its mappings.  0, -EUCLEAN with why, -ENOMEM, or -EINVAL (more than 1024 mms).
 */
int mm_check_frames(struct mm *const *mms, size_t n, char *why, size_t size);

/* ---- for mm/ only: the VMA set (mm/vma.c) ------------------------------------------------------ */

/* The first VMA with end > addr (it may start above addr), or NULL. */
struct vma *vma_find(struct mm *mm, uint64_t addr);
/* The VMA holding addr, or NULL. */
struct vma *vma_lookup(struct mm *mm, uint64_t addr);
/* The page-table protections of a VMA's pages (PT_U unless PROT_NONE,
 * PT_W, PT_X); a private page may have less (no PT_W). */
unsigned vma_pt_prot(const struct vma *v);
/* Could a and b (a->end == b->start) be one VMA? */
bool vma_compatible(const struct vma *a, const struct vma *b);
/* A VMA from kmalloc, not in any list, all fields zero; NULL. */
struct vma *vma_alloc(void);
/* Free a VMA not in a list (dropping its shared object's reference). */
void vma_free(struct vma *v);
/* Insert v (not overlapping any VMA) at its place. */
void vma_link(struct mm *mm, struct vma *v);
/* Take v out of the list (not freed). */
void vma_unlink(struct mm *mm, struct vma *v);
/* Cut v at addr (start < addr < end) using spare (from vma_alloc): v
 * keeps [start, addr), spare becomes [addr, end) after it.  Cannot fail. */
void vma_split(struct mm *mm, struct vma *v, uint64_t addr, struct vma *spare);
/* Merge every pair of compatible neighbours among the VMAs overlapping
 * [start, end] (boundaries included); returns the number merged away. */
unsigned vma_merge_range(struct mm *mm, uint64_t start, uint64_t end);

/* The name /proc/self/maps shows for v: a file's, "[heap]", "[stack]",
 * "/dev/zero (deleted)", or NULL; *deleted for an unlinked file. */
const char *vma_name(const struct mm *mm, const struct vma *v, bool *deleted);
/* The VMA in short, as mm_describe prints it; length like snprintf. */
int vma_describe(const struct mm *mm, const struct vma *v, char *buf, size_t size);

/* Shared anonymous objects: a new one of npages (refs 1), or NULL. */
struct vm_shm *vm_shm_new(uint64_t npages);
void vm_shm_get(struct vm_shm *s);
/* Drop a reference; the last one frees every frame and the object. */
void vm_shm_put(struct vm_shm *s);
/* The frame of page index i (0: none yet). */
uint64_t vm_shm_frame(const struct vm_shm *s, uint64_t i);
/* Store frame pa (the object takes the caller's reference) at i: -ENOMEM. */
int vm_shm_set(struct vm_shm *s, uint64_t i, uint64_t pa);
/* Make the object npages long at least (mremap growing a shared
 * mapping): the new pages read zero.  -ENOMEM (nothing changed). */
int vm_shm_grow(struct vm_shm *s, uint64_t npages);

/* Unmap the pages of [start, end) and drop their frame references (one
 * flush per batch of pages).  The VMAs stay. */
void mm_unmap_pages(struct mm *mm, uint64_t start, uint64_t end);
/* Count a page mapped into mm (rss or zero_maps) / unmapped from it. */
void mm_count_map(struct mm *mm, uint64_t pa);
void mm_count_unmap(struct mm *mm, uint64_t pa);
/* A call that cannot fail did (a broken invariant): panic with what and where. */
void mm_must(int err, const char *what, uint64_t va);

#endif
