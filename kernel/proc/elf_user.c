/*
 * User executables: validation and load plan (see include/kernel/elf_user.h).
 *
 * What is always true of an accepted file: every byte the plan names is
 * inside the file; every segment lies in [ELF_USER_MIN_ADDR, end of user
 * space for its class) with no wrap-around; no two segments touch the
 * same page; the entry point is in an executable segment.  A loader that
 * maps the plan page by page can therefore create one VMA per segment
 * without overlap checks of its own, and never reads outside the file.
 *
 * How: the headers are copied out of the buffer with memcpy (the file may
 * sit at any alignment, and an ELF32 and an ELF64 header are read into one
 * common form), every sum of two file values is checked for overflow
 * before it is formed, and the segments are kept sorted by address so
 * that overlap is a check of neighbours.
 *
 * Deliberately left out, compared with Linux's fs/binfmt_elf.c: dynamic
 * linking (PT_INTERP), READ_IMPLIES_EXEC for old 32-bit binaries without
 * PT_GNU_STACK (we keep the stack non-executable), aligning the bias of
 * a PIE to its largest p_align, and address randomisation (the caller
 * picks the bias).  Segments sharing a page are refused where Linux maps
 * the later over the earlier: our VMAs cannot overlap, and GNU ld and lld
 * never produce such files at the usual page sizes.
 */
#include <kernel/elf_user.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <elf.h>

/* The fields we use, from either class. */
struct ehdr {
    uint16_t type, machine;
    uint64_t entry, phoff;
    uint16_t phentsize, phnum;
};

struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz;
};

#define PAGE_MASK (ELF_USER_PAGE - 1)
#define REFUSE(msg) do { *why = (msg); return -ENOEXEC; } while (0)

static void read_ehdr(const uint8_t *b, bool is64, struct ehdr *h)
{
    if (is64) {
        Elf64_Ehdr e;
        memcpy(&e, b, sizeof(e));
        *h = (struct ehdr){ e.e_type, e.e_machine, e.e_entry, e.e_phoff,
                            e.e_phentsize, e.e_phnum };
    } else {
        Elf32_Ehdr e;
        memcpy(&e, b, sizeof(e));
        *h = (struct ehdr){ e.e_type, e.e_machine, e.e_entry, e.e_phoff,
                            e.e_phentsize, e.e_phnum };
    }
}

/* Program header i; the caller has checked that the table is in the file. */
static void read_phdr(const uint8_t *b, bool is64, const struct ehdr *h,
                      unsigned i, struct phdr *p)
{
    const uint8_t *at = b + h->phoff + (uint64_t)i * h->phentsize;
    if (is64) {
        Elf64_Phdr q;
        memcpy(&q, at, sizeof(q));
        *p = (struct phdr){ q.p_type, q.p_flags, q.p_offset, q.p_vaddr,
                            q.p_filesz, q.p_memsz };
    } else {
        Elf32_Phdr q;
        memcpy(&q, at, sizeof(q));
        *p = (struct phdr){ q.p_type, q.p_flags, q.p_offset, q.p_vaddr,
                            q.p_filesz, q.p_memsz };
    }
}

/* The identification bytes and the ELF header proper. */
static int check_header(const uint8_t *b, uint64_t len, struct ehdr *h,
                        bool *is64, const char **why)
{
    if (!b || len < EI_NIDENT)
        REFUSE("file is shorter than an ELF header");
    if (b[0] != ELFMAG0 || b[1] != ELFMAG1 || b[2] != ELFMAG2 || b[3] != ELFMAG3)
        REFUSE("not an ELF file (bad magic)");
    if (b[EI_CLASS] != ELFCLASS64 && b[EI_CLASS] != ELFCLASS32)
        REFUSE("ELF class is neither 32-bit nor 64-bit");
    *is64 = b[EI_CLASS] == ELFCLASS64;
    if (len < (*is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
        REFUSE("file is shorter than an ELF header");
    if (b[EI_DATA] != ELFDATA2LSB)
        REFUSE("not a little-endian ELF file");

    /* e_version sits at the same offset in both classes. */
    uint32_t version;
    memcpy(&version, b + 20, sizeof(version));
    if (b[EI_VERSION] != EV_CURRENT || version != EV_CURRENT)
        REFUSE("unknown ELF version");

    read_ehdr(b, *is64, h);
    if (*is64 && h->machine != EM_X86_64)
        REFUSE("64-bit ELF file is not for x86-64");
    if (!*is64 && h->machine != EM_386)
        REFUSE("32-bit ELF file is not for i386");
    if (h->type != ET_EXEC && h->type != ET_DYN)
        REFUSE("ELF file is neither an executable (ET_EXEC) nor "
               "position-independent (ET_DYN)");
    if (h->phentsize != (*is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
        REFUSE("ELF program header size is wrong for the class");
    if (h->phnum == 0)
        REFUSE("ELF file has no program headers");
    if (h->phnum > ELF_USER_MAX_PHNUM)
        REFUSE("ELF file has more than 64 program headers");
    /* phnum * phentsize <= 64 * 56: no overflow. */
    uint64_t table = (uint64_t)h->phnum * h->phentsize;
    if (h->phoff > len || table > len - h->phoff)
        REFUSE("ELF program headers run past the end of the file (truncated?)");
    return 0;
}

/* Check one PT_LOAD with memsz != 0 and insert it into the sorted plan. */
static int add_segment(struct elf_user_plan *plan, const struct phdr *p,
                       uint64_t len, bool is64, const char **why)
{
    uint64_t va, end;
    uint64_t limit = is64 ? ELF_USER_END64 : ELF_USER_END32;

    /*
     * Even with filesz 0 the offset must be inside the file: a loader maps
     * file page align_down(offset), and the bytes of that page before
     * offset, so they have to exist.
     */
    if (p->offset > len || p->filesz > len - p->offset)
        REFUSE("ELF segment data runs past the end of the file (truncated?)");
    va = p->vaddr + plan->load_bias;
    end = va + p->memsz;
    if (va < p->vaddr || end < va || (!is64 && end > (1ul << 32)))
        REFUSE("ELF segment wraps around the address space");
    /* The bias is page aligned, so the unbiased vaddr would do too. */
    if ((va & PAGE_MASK) != (p->offset & PAGE_MASK))
        REFUSE("ELF segment offset and address disagree modulo the page size");
    if ((va & ~PAGE_MASK) < ELF_USER_MIN_ADDR)
        REFUSE("ELF segment lies in the first 64 KiB, which stay unmapped");
    if (end > limit)
        REFUSE(is64 ? "ELF segment reaches the top page of user space or the "
                      "kernel half (0x7ffffffff000 and above)"
                    : "ELF segment reaches into the page-table mirror window "
                      "(0xffc00000 and above)");
    if (plan->nseg == ELF_USER_MAX_LOAD)
        REFUSE("ELF file has more than 16 loadable segments");

    uint32_t prot = 0;
    if (p->flags & PF_R)
        prot |= ELF_USER_R;
    if (p->flags & PF_W)
        prot |= ELF_USER_W;
    if (p->flags & PF_X)
        prot |= ELF_USER_X;

    unsigned i = plan->nseg++;
    while (i > 0 && plan->seg[i - 1].vaddr > va) {
        plan->seg[i] = plan->seg[i - 1];
        i--;
    }
    plan->seg[i] = (struct elf_user_seg){ va, p->memsz, p->offset, p->filesz,
                                          prot };
    return 0;
}

/* Does segment s hold the bytes [addr, addr + n) from the file at file_off? */
static bool seg_has_file_bytes(const struct elf_user_seg *s, uint64_t addr,
                               uint64_t n, uint64_t file_off)
{
    if (addr < s->vaddr || addr - s->vaddr > s->filesz ||
        n > s->filesz - (addr - s->vaddr))
        return false;
    return s->offset + (addr - s->vaddr) == file_off;
}

int elf_user_check(const void *buf, uint64_t len, uint64_t load_bias,
                   struct elf_user_plan *plan, const char **why)
{
    const uint8_t *b = buf;
    const char *ignored;
    struct ehdr h;
    struct phdr p;
    bool is64;
    int r;

    if (!why)
        why = &ignored;
    *why = NULL;
    if ((r = check_header(b, len, &h, &is64, why)) < 0)
        return r;

    memset(plan, 0, sizeof(*plan));
    plan->elf_class = is64 ? ELFCLASS64 : ELFCLASS32;
    plan->machine = h.machine;
    plan->type = h.type;
    plan->phent = h.phentsize;
    plan->phnum = h.phnum;
    if (h.type == ET_DYN) {
        if (load_bias & PAGE_MASK) {
            *why = "load bias is not page aligned";
            return -EINVAL;
        }
        if (!is64 && load_bias >= (1ul << 32)) {
            *why = "load bias is above 4 GiB for a 32-bit program";
            return -EINVAL;
        }
        plan->load_bias = load_bias;
    }

    /* First the headers that change what the file is, whatever their order. */
    bool have_phdr = false;
    uint64_t phdr_vaddr = 0;
    for (unsigned i = 0; i < h.phnum; i++) {
        read_phdr(b, is64, &h, i, &p);
        if (p.type == PT_INTERP)
            REFUSE("ELF file needs a dynamic linker (PT_INTERP); only static "
                   "programs run here");
        if (p.type == PT_GNU_STACK)
            plan->stack_exec = (p.flags & PF_X) != 0;   /* the last one wins */
        if (p.type == PT_PHDR && !have_phdr) {
            have_phdr = true;
            phdr_vaddr = p.vaddr;
        }
    }

    /* Then the segments.  AT_PHDR is found as Linux does when no PT_PHDR. */
    bool phdr_found = false;
    for (unsigned i = 0; i < h.phnum; i++) {
        read_phdr(b, is64, &h, i, &p);
        if (p.type != PT_LOAD)
            continue;
        if (p.filesz > p.memsz)
            REFUSE("ELF segment has more file bytes than memory bytes");
        if (p.memsz == 0)
            continue;               /* loads nothing */
        if ((r = add_segment(plan, &p, len, is64, why)) < 0)
            return r;
        if (!phdr_found && p.offset <= h.phoff && h.phoff - p.offset < p.filesz) {
            phdr_found = true;
            plan->phdr = h.phoff - p.offset + p.vaddr + plan->load_bias;
        }
    }
    if (plan->nseg == 0)
        REFUSE("ELF file has no loadable segment");

    for (unsigned i = 0; i + 1 < plan->nseg; i++) {
        const struct elf_user_seg *s = &plan->seg[i], *t = &plan->seg[i + 1];
        uint64_t end = s->vaddr + s->memsz;
        if (end > t->vaddr)
            REFUSE("two ELF segments overlap");
        if (ALIGN_UP(end, ELF_USER_PAGE) > ALIGN_DOWN(t->vaddr, ELF_USER_PAGE))
            REFUSE("two ELF segments share a page");
    }

    plan->entry = h.entry + plan->load_bias;
    bool entry_ok = false;
    for (unsigned i = 0; i < plan->nseg; i++) {
        const struct elf_user_seg *s = &plan->seg[i];
        if ((s->prot & ELF_USER_X) && plan->entry >= s->vaddr &&
            plan->entry - s->vaddr < s->memsz)
            entry_ok = true;
    }
    if (!entry_ok)
        REFUSE("ELF entry point is not inside an executable segment");

    if (have_phdr) {
        uint64_t at = phdr_vaddr + plan->load_bias;
        uint64_t n = (uint64_t)h.phnum * h.phentsize;
        bool ok = false;
        for (unsigned i = 0; i < plan->nseg && !ok; i++)
            ok = seg_has_file_bytes(&plan->seg[i], at, n, h.phoff);
        if (!ok || at < phdr_vaddr)
            REFUSE("ELF PT_PHDR does not point at the program headers in a "
                   "loadable segment");
        plan->phdr = at;
    }

    plan->start = ALIGN_DOWN(plan->seg[0].vaddr, ELF_USER_PAGE);
    uint64_t hi = 0;
    for (unsigned i = 0; i < plan->nseg; i++)
        hi = MAX(hi, plan->seg[i].vaddr + plan->seg[i].memsz);
    plan->brk = ALIGN_UP(hi, ELF_USER_PAGE);
    return 0;
}
