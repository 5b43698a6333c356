/*
 * The vDSO in every process (include/kernel/vdso.h, docs/time.md).
 *
 * Linux maps a small ELF shared object into each process and tells it
 * where with AT_SYSINFO_EHDR; C libraries read its dynamic symbol table
 * and call __vdso_clock_gettime and friends instead of making the system
 * call.  Ours are built with the kernel (kernel/vdso/vdso64.S, vdso32.S,
 * one linker script vdso.lds, a version script each) and embedded in its
 * read-only data (vdso_image.S).  exec maps the one for the program's
 * class as a private, read-only, executable mapping of that image,
 * named "[vdso]" in /proc/self/maps: its page is copied from the image
 * at the first touch like any file page, and fork shares it.
 *
 * The image is checked once, the first time it is mapped: an ELF shared
 * object of the right class, one PT_LOAD from offset 0, and (i386) an
 * entry point inside it, __kernel_vsyscall, whose address AT_SYSINFO
 * passes, and the two signal-return entries the i386 signal frames need
 * (found in its dynamic symbol table).  A broken image (a build problem)
 * is reported and no vDSO is mapped: programs then make their system
 * calls directly, as they do on a Linux booted with vdso=0.
 */
#include <kernel/vdso.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <mm/vma.h>
#include <elf.h>

extern const uint8_t vdso64_image[], vdso64_image_end[];
extern const uint8_t vdso32_image[], vdso32_image_end[];

static struct vm_file vdso_files[2] = {
    { "[vdso]", vdso64_image, 0 },
    { "[vdso]", vdso32_image, 0 },
};
static int checked[2];   /* 0: not yet, 1: good, -1: broken */

/* Is the image a class-bits ELF shared object loaded from offset 0? */
static bool image_ok(const uint8_t *p, uint64_t size, bool is32, uint64_t *entry)
{
    if (size < sizeof(Elf64_Ehdr) || p[0] != ELFMAG0 || p[1] != ELFMAG1 ||
        p[2] != ELFMAG2 || p[3] != ELFMAG3 ||
        p[EI_CLASS] != (is32 ? ELFCLASS32 : ELFCLASS64))
        return false;
    if (is32) {
        const Elf32_Ehdr *eh = (const Elf32_Ehdr *)p;
        const Elf32_Phdr *ph = (const Elf32_Phdr *)(p + eh->e_phoff);
        if (eh->e_type != ET_DYN || eh->e_machine != EM_386 || eh->e_phnum == 0 ||
            eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(*ph) > size || ph->p_type != PT_LOAD ||
            ph->p_offset != 0 || ph->p_vaddr != 0 || eh->e_entry == 0 ||
            eh->e_entry >= ph->p_filesz)
            return false;
        *entry = eh->e_entry;
        return true;
    }
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)p;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(p + eh->e_phoff);
    if (eh->e_type != ET_DYN || eh->e_machine != EM_X86_64 || eh->e_phnum == 0 ||
        eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(*ph) > size || ph->p_type != PT_LOAD ||
        ph->p_offset != 0 || ph->p_vaddr != 0)
        return false;
    *entry = 0;
    return true;
}

static uint64_t entries[2];
static uint64_t sigreturn32[2];   /* __kernel_sigreturn, __kernel_rt_sigreturn: offsets */

/* The ELF32 section header and symbol (System V ABI, "Sections",
 * "Symbol Table"): only this file reads them, include/elf.h stays with
 * what loading needs. */
struct shdr32 {
    uint32_t sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info,
        sh_addralign, sh_entsize;
};
struct sym32 {
    uint32_t st_name, st_value, st_size;
    uint8_t st_info, st_other;
    uint16_t st_shndx;
};
#define SHT_DYNSYM 11
_Static_assert(sizeof(struct shdr32) == 40 && sizeof(struct sym32) == 16, "ELF32 layouts");

/* The value of a defined symbol of the i386 image's .dynsym (through its
 * section headers, which the image keeps), or 0. */
static uint64_t sym32(const uint8_t *p, uint64_t size, const char *name)
{
    const Elf32_Ehdr *eh = (const Elf32_Ehdr *)p;
    if (!eh->e_shoff || eh->e_shentsize != sizeof(struct shdr32) ||
        eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(struct shdr32) > size)
        return 0;
    const struct shdr32 *sh = (const struct shdr32 *)(p + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum)
            continue;
        const struct shdr32 *str = &sh[sh[i].sh_link];
        if (sh[i].sh_offset + (uint64_t)sh[i].sh_size > size ||
            str->sh_offset + (uint64_t)str->sh_size > size)
            return 0;
        const struct sym32 *sym = (const struct sym32 *)(p + sh[i].sh_offset);
        for (unsigned k = 0; k < sh[i].sh_size / sizeof(*sym); k++) {
            uint32_t n = sym[k].st_name;
            if (sym[k].st_shndx == 0 /* undefined */ || n >= str->sh_size)
                continue;
            const char *s = (const char *)p + str->sh_offset + n;
            if (strnlen(s, str->sh_size - n) < str->sh_size - n && !strcmp(s, name))
                return sym[k].st_value;
        }
    }
    return 0;
}

/* The image as a file, checked once. */
static struct vm_file *file_of(bool is32)
{
    struct vm_file *f = &vdso_files[is32];
    if (!checked[is32]) {
        const uint8_t *end = is32 ? vdso32_image_end : vdso64_image_end;
        f->size = (uint64_t)(end - f->data);
        checked[is32] = image_ok(f->data, f->size, is32, &entries[is32]) ? 1 : -1;
        if (is32 && checked[1] > 0) {
            sigreturn32[0] = sym32(f->data, f->size, "__kernel_sigreturn");
            sigreturn32[1] = sym32(f->data, f->size, "__kernel_rt_sigreturn");
            if (!sigreturn32[0] || !sigreturn32[1] || sigreturn32[0] >= f->size ||
                sigreturn32[1] >= f->size)
                checked[1] = -1;
        }
        if (checked[is32] < 0)
            printk("vdso: the %s image is not a valid shared object: no vDSO is mapped\n",
                   is32 ? "i386" : "x86-64");
    }
    return checked[is32] > 0 ? f : NULL;
}

int vdso_map(struct mm *mm, bool is32, uint64_t *base, uint64_t *vsyscall)
{
    struct vm_file *f = file_of(is32);
    *base = *vsyscall = 0;
    if (!f)
        return 0;
    int err = mm_mmap(mm, 0, f->size, PROT_READ | PROT_EXEC, MAP_PRIVATE, f, 0, base);
    if (err)
        return err;
    if (is32)
        *vsyscall = *base + entries[1];
    return 0;
}

const struct vm_file *vdso_image(bool is32)
{
    return file_of(is32);
}

uint64_t vdso_sigreturn32(struct mm *mm, bool rt)
{
    const struct vm_file *f = &vdso_files[1];
    if (checked[1] <= 0 || !mm)
        return 0;
    /* wherever the process has it now (mremap may have moved it) */
    for (const struct vma *v = mm->vmas; v; v = v->next)
        if (v->file == f && v->off == 0 && v->start + sigreturn32[rt] < v->end)
            return v->start + sigreturn32[rt];
    return 0;
}
