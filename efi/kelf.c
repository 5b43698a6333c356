/*
 * Kernel ELF validation (see kelf.h).  Every field that comes from the
 * file is checked before it is used as an offset, a size or an address;
 * sums are tested for overflow before they are formed.
 */
#include "kelf.h"
#include "elf.h"

#define FAIL(msg) do { *why = (msg); return -1; } while (0)

static int add_overflows(uint64_t a, uint64_t b, uint64_t *sum)
{
    *sum = a + b;
    return *sum < a;
}

int kelf_check(const void *buf, uint64_t len, struct kelf_plan *plan,
               const char **why)
{
    const uint8_t *bytes = buf;
    const Elf64_Ehdr *eh = buf;
    uint64_t ph_end;

    if (!buf || len < sizeof(Elf64_Ehdr))
        FAIL("file is shorter than an ELF header");
    if (bytes[0] != ELFMAG0 || bytes[1] != ELFMAG1 || bytes[2] != ELFMAG2 ||
        bytes[3] != ELFMAG3)
        FAIL("not an ELF file (bad magic)");
    if (eh->e_ident[EI_CLASS] != ELFCLASS64)
        FAIL("not a 64-bit ELF file");
    if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
        FAIL("not a little-endian ELF file");
    if (eh->e_machine != EM_X86_64)
        FAIL("ELF machine is not x86-64");
    if (eh->e_type != ET_EXEC)
        FAIL("ELF file is not an executable (ET_EXEC)");
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        FAIL("ELF program header size is wrong");
    if (eh->e_phnum == 0)
        FAIL("ELF file has no program headers");
    if (eh->e_phoff % 8)
        FAIL("ELF program headers are misaligned");
    if (add_overflows(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr),
                      &ph_end) || ph_end > len)
        FAIL("ELF program headers run past the end of the file (truncated?)");

    const Elf64_Phdr *ph = (const Elf64_Phdr *)(bytes + eh->e_phoff);
    uint64_t lo = ~0ull, hi = 0;
    unsigned nload = 0;
    int entry_ok = 0;

    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        uint64_t fend, vend;

        if (p->p_type != PT_LOAD)
            continue;
        if (p->p_memsz == 0)
            continue;
        if (p->p_filesz > p->p_memsz)
            FAIL("ELF segment has more file bytes than memory bytes");
        if (add_overflows(p->p_offset, p->p_filesz, &fend) || fend > len)
            FAIL("ELF segment data runs past the end of the file (truncated?)");
        if (add_overflows(p->p_vaddr, p->p_memsz, &vend))
            FAIL("ELF segment wraps around the address space");
        if (p->p_vaddr < KELF_MIN_VADDR)
            FAIL("ELF segment is below the kernel window (0xffffffff80000000)");
        if ((p->p_vaddr & 0xfff) != (p->p_offset & 0xfff))
            FAIL("ELF segment offset and address disagree modulo the page size");
        for (unsigned j = 0; j < i; j++) {
            const Elf64_Phdr *q = &ph[j];
            if (q->p_type != PT_LOAD || q->p_memsz == 0)
                continue;
            if (p->p_vaddr < q->p_vaddr + q->p_memsz &&
                q->p_vaddr < vend)
                FAIL("two ELF segments overlap");
        }
        if (p->p_vaddr < lo)
            lo = p->p_vaddr;
        if (vend > hi)
            hi = vend;
        if ((p->p_flags & PF_X) && eh->e_entry >= p->p_vaddr &&
            eh->e_entry < vend)
            entry_ok = 1;
        nload++;
    }
    if (nload == 0)
        FAIL("ELF file has no loadable segment");
    if (!entry_ok)
        FAIL("ELF entry point is not inside an executable segment");

    lo &= ~0xfffull;
    if (hi > ~0xfffull)
        FAIL("ELF segment ends too close to the top of memory");
    hi = (hi + 0xfff) & ~0xfffull;
    if (hi - lo > KELF_MAX_SPAN)
        FAIL("ELF image spans more than 256 MiB");

    plan->entry = eh->e_entry;
    plan->vbase = lo;
    plan->vend = hi;
    plan->nload = nload;
    *why = 0;
    return 0;
}
