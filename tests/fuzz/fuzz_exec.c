/*
 * libFuzzer target: what execve reads from untrusted bytes, namely the
 * initrd (kernel/fs/cpio.c), user ELF files (kernel/proc/elf_user.c) and, for
 * good measure, the initial stack built from them and read back
 * (kernel/proc/user_stack.c).
 *
 * Byte 0 picks the mode, the rest is the input:
 *   0  raw cpio: the bytes are the archive;
 *   1  structured cpio: each 8 input bytes make one entry with a valid
 *      magic and hex fields of plausible shape (name sizes and file sizes
 *      around the real ones, now and then huge or off by one), names and
 *      data from the input, so that the walk gets past the first header;
 *   2  raw ELF: the bytes are the file, byte 1 chooses the load bias;
 *   3  structured ELF: a well-formed ELF32 or ELF64 header and, for each
 *      8 input bytes, one program header of plausible shape (PT_LOAD
 *      mostly, addresses near the limits now and then), so that the
 *      segment checks run on almost every input;
 *   4  stack: the input split at its NULs becomes argv and envp, byte 1
 *      the buffer size; the stack is built, parsed and compared.
 * Every buffer is a heap copy of exactly its size (ASan catches reads past
 * it).  Accepted archives and plans are checked against what their
 * contracts promise; regular files found in an accepted archive are also
 * fed to elf_user_check, as exec does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <elf.h>
#include <kernel/cpio.h>
#include <kernel/elf_user.h>
#include <kernel/errno.h>
#include <kernel/user_stack.h>

#define FUZZ_NAME "fuzz_exec"
#include "fuzz_input.h"

/* ---- ELF -------------------------------------------------------------------- */

static void check_plan(const uint8_t *b, size_t len, const struct elf_user_plan *p)
{
    uint64_t limit = p->elf_class == ELFCLASS64 ? ELF_USER_END64 : ELF_USER_END32;
    bool entry_ok = false;

    if (p->nseg < 1 || p->nseg > ELF_USER_MAX_LOAD || p->phnum > ELF_USER_MAX_PHNUM)
        DIE("plan with %u segments, %u headers", p->nseg, p->phnum);
    if (p->elf_class != b[EI_CLASS])
        DIE("plan class %u, file class %u", p->elf_class, b[EI_CLASS]);
    for (uint32_t i = 0; i < p->nseg; i++) {
        const struct elf_user_seg *s = &p->seg[i];
        if (s->memsz == 0 || s->filesz > s->memsz)
            DIE("segment %u: filesz %#lx memsz %#lx", i,
                s->filesz, s->memsz);
        if (s->offset > len || s->filesz > len - s->offset)
            DIE("segment %u: file bytes outside the file", i);
        if ((s->vaddr & ~0xffful) < ELF_USER_MIN_ADDR || s->vaddr >= limit ||
            s->memsz > limit - s->vaddr)
            DIE("segment %u: [%#lx +%#lx) outside user space", i,
                s->vaddr, s->memsz);
        if ((s->vaddr ^ s->offset) & 0xfff)
            DIE("segment %u: offset and address not congruent", i);
        if (i > 0) {
            const struct elf_user_seg *r = &p->seg[i - 1];
            if (((r->vaddr + r->memsz + 0xfff) & ~0xffful) > (s->vaddr & ~0xffful))
                DIE("segments %u and %u share a page", i - 1, i);
        }
        if ((s->prot & ELF_USER_X) && p->entry >= s->vaddr && p->entry - s->vaddr < s->memsz)
            entry_ok = true;
        if (s->vaddr < p->start || s->vaddr + s->memsz > p->brk)
            DIE("segment %u outside [start, brk)", i);
    }
    if (!entry_ok)
        DIE("entry %#lx not in an executable segment", p->entry);
    if (p->brk > limit || p->brk % 4096 || p->start % 4096)
        DIE("brk %#lx start %#lx", p->brk,
            p->start);
}

static void run_elf(const uint8_t *data, size_t size, uint64_t bias)
{
    uint8_t *b = malloc(size ? size : 1);
    memcpy(b, data, size);
    struct elf_user_plan p, again;
    const char *why = NULL;
    int r = elf_user_check(b, size, bias, &p, &why);
    if (r == 0) {
        check_plan(b, size, &p);
        if (elf_user_check(b, size, bias, &again, &why) != 0 ||
            memcmp(&p, &again, sizeof(p)) != 0)
            DIE("the same file gave another plan");
    } else if ((r != -ENOEXEC && r != -EINVAL) || !why || !why[0]) {
        DIE("refused with %d and no reason", r);
    }
    free(b);
}

/* A header of either class with program headers made from the input. */
static void structured_elf(const uint8_t *in, size_t n)
{
    static uint8_t file[0x3000];
    bool is64 = n && (in[0] & 1);
    uint16_t type = n && (in[0] & 2) ? ET_DYN : ET_EXEC;
    size_t eh = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    size_t phsz = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    unsigned nph = (unsigned)(n / 8);
    uint64_t base = type == ET_DYN ? 0 : 0x400000;
    static const uint32_t types[] = { PT_LOAD, PT_LOAD, PT_LOAD, PT_LOAD, PT_PHDR,
                                      PT_GNU_STACK, PT_TLS, PT_INTERP };

    memset(file, 0xcc, sizeof(file));
    size_t len = 0x2000 + (n ? in[n - 1] * 16 : 0);
    uint64_t entry = base + 0x1000 + (n > 1 ? in[1] : 0);
    if (is64) {
        Elf64_Ehdr e = { .e_type = type, .e_machine = EM_X86_64, .e_version = 1,
                         .e_entry = entry, .e_phoff = eh, .e_ehsize = (uint16_t)eh,
                         .e_phentsize = (uint16_t)phsz, .e_phnum = (uint16_t)nph };
        memcpy(e.e_ident, "\177ELF\2\1\1", 7);
        memcpy(file, &e, sizeof(e));
    } else {
        Elf32_Ehdr e = { .e_type = type, .e_machine = EM_386, .e_version = 1,
                         .e_entry = (uint32_t)entry, .e_phoff = (uint32_t)eh,
                         .e_ehsize = (uint16_t)eh, .e_phentsize = (uint16_t)phsz,
                         .e_phnum = (uint16_t)nph };
        memcpy(e.e_ident, "\177ELF\1\1\1", 7);
        memcpy(file, &e, sizeof(e));
    }
    for (unsigned i = 0; i < nph && eh + (i + 1) * phsz <= 0x1000; i++) {
        const uint8_t *q = in + 8 * i;
        uint32_t ptype = types[q[0] % 8];
        uint32_t flags = q[0] >> 5;                    /* PF_X|W|R in bits 0-2 */
        uint64_t page = q[1] % 8, off_in = (uint64_t)(q[2] & 0x3f) << 6;
        uint64_t offset = page * 0x400 & ~0xffful;
        uint64_t vaddr = base + (uint64_t)q[3] * 0x1000 + off_in;
        offset += off_in;
        uint64_t filesz = (uint64_t)q[4] << (q[6] & 7);
        uint64_t memsz = filesz + ((uint64_t)q[5] << (q[6] >> 5));
        switch (q[7] >> 4) {              /* now and then, something hostile */
        case 15: vaddr = (is64 ? ELF_USER_END64 : ELF_USER_END32) - 0x1000 + off_in; break;
        case 14: memsz = is64 ? ~0ul - q[5] : 0xffffffffu - q[5]; break;
        case 13: offset = len - (q[5] & 0xf); filesz = q[4] & 0x1f; break;
        case 12: vaddr = off_in; break;
        case 11: vaddr ^= 0x10; break;
        case 10: filesz = memsz + 1; break;
        default: break;
        }
        if (ptype == PT_PHDR) {
            offset = eh;
            vaddr = base + eh + (q[7] & 1) * 8;
            filesz = memsz = (uint64_t)nph * phsz;
        }
        uint8_t *at = file + eh + i * phsz;
        if (is64) {
            Elf64_Phdr p = { ptype, flags, offset, vaddr, vaddr, filesz, memsz, 0x1000 };
            memcpy(at, &p, sizeof(p));
        } else {
            Elf32_Phdr p = { ptype, (uint32_t)offset, (uint32_t)vaddr, (uint32_t)vaddr,
                             (uint32_t)filesz, (uint32_t)memsz, flags, 0x1000 };
            memcpy(at, &p, sizeof(p));
        }
    }
    uint64_t bias = type == ET_DYN ? (is64 ? ELF_USER_DYN_BASE64 : ELF_USER_DYN_BASE32) : 0;
    run_elf(file, len, bias);
}

/* ---- cpio --------------------------------------------------------------------- */

static void run_cpio(const uint8_t *data, size_t size)
{
    uint8_t *b = malloc(size ? size : 1);
    memcpy(b, data, size);
    const char *why = NULL;
    long n = cpio_check(b, size, &why);
    if (n < 0) {
        if (n != -EINVAL || !why || !why[0])
            DIE("cpio refused with %ld and no reason", n);
        free(b);
        return;
    }
    struct cpio_iter it;
    struct cpio_entry e, f;
    long count = 0;
    int r;
    cpio_iter_init(&it, b, size);
    while ((r = cpio_next(&it, &e, &why)) > 0) {
        count++;
        const uint8_t *nm = (const uint8_t *)e.name;
        if (nm < b + CPIO_HDR_SIZE || nm + e.name_len >= b + size ||
            strlen(e.name) != e.name_len || e.name_len == 0)
            DIE("entry %ld: bad name", count);
        if (e.data < nm || e.data > b + size || e.size > (uint64_t)(b + size - e.data))
            DIE("entry %ld: data outside the archive", count);
        if (cpio_is_dir(&e) && e.size)
            DIE("entry %ld: directory with data", count);
        if (cpio_find(b, size, e.name, &f, &why) != 0 || !cpio_name_eq(f.name, e.name))
            DIE("entry %ld: \"%s\" not found by name", count, e.name);
        if (cpio_is_reg(&e))
            run_elf(e.data, e.size, ELF_USER_DYN_BASE64);
    }
    if (r != 0 || count != n)
        DIE("check said %ld entries, the walk %ld then %d", n, count, r);
    free(b);
}

/* Entries with real magic and hex, sizes and names from the input. */
static void structured_cpio(const uint8_t *in, size_t n)
{
    static uint8_t ar[64 * 1024];
    size_t len = 0;
    static const uint32_t modes[] = { 0100644, 0040755, 0120777, 0020644, 0, 0100755,
                                      0040000, 0177777 };
    for (size_t i = 0; i + 8 <= n; i += 8) {
        const uint8_t *q = in + i;
        const char *name = "bin/x";
        char namebuf[16];
        uint32_t namesize, filesize = q[2] % 40;
        switch (q[1] % 8) {
        case 0: name = "TRAILER!!!"; break;
        case 1: name = "."; break;
        case 2: name = "./bin/x"; break;
        case 3:
            snprintf(namebuf, sizeof(namebuf), "f%u", q[3]);
            name = namebuf;
            break;
        default: break;
        }
        namesize = (uint32_t)strlen(name) + 1;
        switch (q[4] >> 5) {            /* now and then, a lie */
        case 7: namesize += (q[4] & 3) - 1u; break;
        case 6: filesize = 0xfffffff0u + (q[4] & 0xf); break;
        case 5: namesize = q[4] & 0x1f ? 0x1000u + (q[4] & 1) : 0; break;
        default: break;
        }
        char hdr[CPIO_HDR_SIZE + 1];
        snprintf(hdr, sizeof(hdr),
                 "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
                 q[3], modes[q[0] % 8], 0u, 0u, 1u, 0u, filesize, 0u, 0u, 0u, 0u,
                 namesize, 0u);
        if (q[5] == 0xff)
            hdr[6 + q[6] % 104] = (char)q[7];  /* a non-hex digit, maybe */
        size_t need = CPIO_HDR_SIZE + strlen(name) + 8 + filesize + 8;
        if (len + need > sizeof(ar))
            break;
        memcpy(ar + len, hdr, CPIO_HDR_SIZE);
        len += CPIO_HDR_SIZE;
        memcpy(ar + len, name, strlen(name) + 1);
        len += strlen(name) + 1;
        while (len % 4)
            ar[len++] = 0;
        for (uint32_t k = 0; k < filesize && filesize < 40; k++)
            ar[len++] = in[(i + k) % n];
        while (len % 4)
            ar[len++] = 0;
    }
    if (n && (in[n - 1] & 1) && len + CPIO_HDR_SIZE + 12 <= sizeof(ar)) {
        char hdr[CPIO_HDR_SIZE + 1];
        snprintf(hdr, sizeof(hdr), "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x"
                 "%08x%08x%08x", 0u, 0u, 0u, 0u, 1u, 0u, 0u, 0u, 0u, 0u, 0u, 11u, 0u);
        memcpy(ar + len, hdr, CPIO_HDR_SIZE);
        memcpy(ar + len + CPIO_HDR_SIZE, "TRAILER!!!\0\0", 12);
        len += CPIO_HDR_SIZE + 12;
    }
    if (n > 1 && (in[n - 2] & 7) == 0 && len)
        len -= 1 + in[n - 2] % len;       /* truncated */
    run_cpio(ar, len);
}

/* ---- the stack ------------------------------------------------------------------ */

static void run_stack(const uint8_t *in, size_t n, uint8_t knob)
{
    static char strings[256];
    static uint8_t mem[4096];
    if (n > sizeof(strings) - 1)
        n = sizeof(strings) - 1;
    memcpy(strings, in, n);
    strings[n] = 0;
    /* Strings before the first 0xff byte are argv, after it envp. */
    size_t split = n;
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)strings[i] == 0xff) {
            split = i;
            strings[i] = 0;
            break;
        }
    uint32_t argc = 0, envc = 0;
    for (size_t i = 0; i < split; i++)
        argc += strings[i] == 0;
    for (size_t i = split + 1; i < n; i++)
        envc += strings[i] == 0;
    int bits = knob & 1 ? 32 : 64;
    size_t argv_len = split, envp_off = split < n ? split + 1 : n;
    /* Only whole strings: the last one may be cut by the end of the input. */
    while (argv_len && strings[argv_len - 1])
        argv_len--;
    size_t envp_len = n - envp_off;
    while (envp_len && strings[envp_off + envp_len - 1])
        envp_len--;
    struct user_stack_info info = {
        .bits = bits, .argv = { strings, argv_len, argc },
        .envp = { strings + envp_off, envp_len, envc },
        .execfn = "/init", .random = (const uint8_t *)"0123456789abcdef",
        .hwcap = 1, .phdr = 0x400040, .phent = 56, .phnum = 4, .entry = 0x401000,
    };
    uint64_t top = bits == 64 ? 0x7ffffffff000ul : 0xffffe000ul;
    size_t size = (size_t)(knob >> 1) * 16 + (knob & 0x10 ? 8 : 0);
    uint8_t *buf = malloc(size ? size : 1);
    int64_t sp = user_stack_build(buf, size, top, &info, NULL);
    if (sp > 0) {
        struct user_stack_view v;
        int r = user_stack_parse(buf, size, top, (uint64_t)sp, bits, &v);
        if (r != 0 || v.argc != (argc ? argc : 1) || v.envc != envc ||
            v.nauxv != user_stack_nauxv(&info) - 1 || sp % 16)
            DIE("built stack parses as %d, argc %lu envc %lu", r,
                v.argc, v.envc);
    } else if (sp != -E2BIG && sp != -EFAULT) {
        DIE("user_stack_build returned %ld", sp);
    }
    /* And the parser on the raw input as a stack. */
    size_t m = n < sizeof(mem) ? n & ~15ul : 0;
    memcpy(mem, in, m);
    struct user_stack_view v;
    if (m)
        (void)user_stack_parse(mem, m, 0x10000, 0x10000 - m, bits, &v);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t mode = data[0] % 5, knob = data[1];
    switch (mode) {
    case 0: run_cpio(data + 1, size - 1); break;
    case 1: structured_cpio(data + 1, size - 1); break;
    case 2: run_elf(data + 2, size - 2, (uint64_t)knob << 12); break;
    case 3: structured_elf(data + 1, size - 1); break;
    default: run_stack(data + 2, size - 2, knob); break;
    }
    return 0;
}
