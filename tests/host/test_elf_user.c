/*
 * Host tests of the user-executable checker (kernel/proc/elf_user.c).
 *
 * Synthetic files come from one class-independent description (struct
 * img) written out as ELF64 or ELF32, so that almost every case runs for
 * both classes.  The valid file, in both:
 *
 *   file offset   contents                  address
 *   0x0000        ELF header, phdrs         0x400000  (R X, memsz 0x1800)
 *   0x1000        text                      0x401000
 *   0x2000        data, 0x100 bytes         0x402000  (R W, memsz 0x3000)
 *   0x2100        end of file
 *
 * Real files: tests/host/stackdump.c built by the Makefile with musl,
 * static and static-pie, 64- and 32-bit; the host kernel runs each (with
 * no address randomisation) and its AT_ENTRY, AT_PHDR and brk must be
 * what the plan says.  The checker always gets a heap copy of exactly the
 * length under test, so that ASan sees any read past the end.
 */
#include <stdlib.h>

#include "htest.h"
#include "exec_native.h"
#include <elf.h>
#include <kernel/elf_user.h>
#include <kernel/errno.h>
#include <kernel/user_stack.h>

#define MAXPH 80
#define IMG_CAP 0x4000

struct ph {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz, align;
};

static struct img {
    int bits;
    uint16_t type, machine, phentsize, phnum;
    uint64_t entry, phoff;
    struct ph ph[MAXPH];
    size_t len;
} M;

static uint8_t IMG[IMG_CAP];

/* The valid file of the picture above. */
static void make_valid(int bits)
{
    memset(&M, 0, sizeof(M));
    M.bits = bits;
    M.type = ET_EXEC;
    M.machine = bits == 64 ? EM_X86_64 : EM_386;
    M.phentsize = bits == 64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    M.phoff = bits == 64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    M.entry = 0x401000;
    M.phnum = 3;
    M.ph[0] = (struct ph){ PT_LOAD, PF_R | PF_X, 0, 0x400000, 0x1800, 0x1800, 0x1000 };
    M.ph[1] = (struct ph){ PT_LOAD, PF_R | PF_W, 0x2000, 0x402000, 0x100, 0x3000, 0x1000 };
    M.ph[2] = (struct ph){ PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16 };
    M.len = 0x2100;
}

/* Write M into IMG (the text and data get recognisable bytes). */
static void emit(void)
{
    memset(IMG, 0, sizeof(IMG));
    memset(IMG + 0x1000, 0x90, 0x1000);
    memset(IMG + 0x2000, 0xd5, 0x100);
    if (M.bits == 64) {
        Elf64_Ehdr e = { .e_type = M.type, .e_machine = M.machine,
                         .e_version = EV_CURRENT, .e_entry = M.entry,
                         .e_phoff = M.phoff, .e_ehsize = sizeof(Elf64_Ehdr),
                         .e_phentsize = M.phentsize, .e_phnum = M.phnum };
        memcpy(e.e_ident, "\177ELF\2\1\1", 7);
        memcpy(IMG, &e, sizeof(e));
        for (unsigned i = 0; i < M.phnum && i < MAXPH; i++) {
            Elf64_Phdr p = { M.ph[i].type, M.ph[i].flags, M.ph[i].offset,
                             M.ph[i].vaddr, M.ph[i].vaddr, M.ph[i].filesz,
                             M.ph[i].memsz, M.ph[i].align };
            uint64_t at = M.phoff + (uint64_t)i * sizeof(p);
            if (at >= M.phoff && at <= IMG_CAP - sizeof(p))
                memcpy(IMG + at, &p, sizeof(p));
        }
    } else {
        Elf32_Ehdr e = { .e_type = M.type, .e_machine = M.machine,
                         .e_version = EV_CURRENT, .e_entry = (uint32_t)M.entry,
                         .e_phoff = (uint32_t)M.phoff, .e_ehsize = sizeof(Elf32_Ehdr),
                         .e_phentsize = M.phentsize, .e_phnum = M.phnum };
        memcpy(e.e_ident, "\177ELF\1\1\1", 7);
        memcpy(IMG, &e, sizeof(e));
        for (unsigned i = 0; i < M.phnum && i < MAXPH; i++) {
            Elf32_Phdr p = { M.ph[i].type, (uint32_t)M.ph[i].offset,
                             (uint32_t)M.ph[i].vaddr, (uint32_t)M.ph[i].vaddr,
                             (uint32_t)M.ph[i].filesz, (uint32_t)M.ph[i].memsz,
                             M.ph[i].flags, (uint32_t)M.ph[i].align };
            uint64_t at = M.phoff + (uint64_t)i * sizeof(p);
            if (at >= M.phoff && at <= IMG_CAP - sizeof(p))
                memcpy(IMG + at, &p, sizeof(p));
        }
    }
}

/* Check the first len bytes of IMG through an exact-size copy. */
static int check_bytes(const uint8_t *bytes, uint64_t len, uint64_t bias,
                       struct elf_user_plan *plan, const char **why)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, bytes, len);
    *why = NULL;
    int r = elf_user_check(copy, len, bias, plan, why);
    free(copy);
    return r;
}

static struct elf_user_plan plan;

/* IMG as it stands (no emit) must be refused with err and `word`. */
static void reject_raw(uint64_t len, uint64_t bias, int err, const char *word)
{
    const char *why;
    int r = check_bytes(IMG, len, bias, &plan, &why);
    HT_ASSERT(r == err, "%d-bit: returned %d, expected %d about '%s'", M.bits, r,
              err, word);
    HT_ASSERT(why && strstr(why, word), "%d-bit: reason \"%s\" does not mention '%s'",
              M.bits, why ? why : "(none)", word);
}

static void expect_reject(const char *word)
{
    emit();
    reject_raw(M.len, 0, -ENOEXEC, word);
}

static void expect_accept_bias(uint64_t bias)
{
    const char *why;
    emit();
    int r = check_bytes(IMG, M.len, bias, &plan, &why);
    HT_ASSERT(r == 0, "%d-bit: refused (%d): %s", M.bits, r, why ? why : "(no reason)");
}

static void expect_accept(void)
{
    expect_accept_bias(0);
}

/* Run a case body for both classes. */
#define BOTH(...)                                                           \
    for (int bits_ = 64; bits_ >= 32; bits_ -= 32) {                        \
        make_valid(bits_);                                                  \
        __VA_ARGS__                                                         \
        if (ht_failed)                                                      \
            return;                                                         \
    }

/* ---- accepted files ----------------------------------------------------------- */

static void t_valid(void)
{
    BOTH({
        HT_TRY(expect_accept());
        HT_EQ_U(plan.elf_class, bits_ == 64 ? ELFCLASS64 : ELFCLASS32);
        HT_EQ_U(plan.machine, bits_ == 64 ? EM_X86_64 : EM_386);
        HT_EQ_U(plan.type, ET_EXEC);
        HT_EQ_U(plan.entry, 0x401000);
        HT_EQ_U(plan.phdr, 0x400000 + M.phoff);
        HT_EQ_U(plan.phent, M.phentsize);
        HT_EQ_U(plan.phnum, 3);
        HT_EQ_U(plan.start, 0x400000);
        HT_EQ_U(plan.brk, 0x405000);
        HT_EQ_U(plan.load_bias, 0);
        HT_ASSERT(!plan.stack_exec, "stack executable");
        HT_EQ_U(plan.nseg, 2);
        HT_EQ_U(plan.seg[0].vaddr, 0x400000);
        HT_EQ_U(plan.seg[0].memsz, 0x1800);
        HT_EQ_U(plan.seg[0].offset, 0);
        HT_EQ_U(plan.seg[0].filesz, 0x1800);
        HT_EQ_U(plan.seg[0].prot, ELF_USER_R | ELF_USER_X);
        HT_EQ_U(plan.seg[1].vaddr, 0x402000);
        HT_EQ_U(plan.seg[1].memsz, 0x3000);
        HT_EQ_U(plan.seg[1].offset, 0x2000);
        HT_EQ_U(plan.seg[1].filesz, 0x100);
        HT_EQ_U(plan.seg[1].prot, ELF_USER_R | ELF_USER_W);
    })
}

/* Segments in any order come out sorted; other types are ignored. */
static void t_unsorted_and_other_types(void)
{
    BOTH({
        struct ph text = M.ph[0], data = M.ph[1];
        M.ph[0] = (struct ph){ 0x6474e553 /* GNU_PROPERTY */, PF_R, 0x100, 0x400100, 8, 8, 8 };
        M.ph[1] = data;
        M.ph[2] = (struct ph){ PT_TLS, PF_R, 0x2000, 0x402000, 0x10, 0x20, 8 };
        M.ph[3] = text;
        M.ph[4] = (struct ph){ PT_NULL, 0, 0xffffffff, 0xffffffff, 0xffffffff, 0, 0 };
        /* An empty PT_LOAD, even at 0 and past the file, loads nothing. */
        M.ph[5] = (struct ph){ PT_LOAD, PF_R, 0x90000, 0, 0, 0, 0 };
        M.phnum = 6;
        HT_TRY(expect_accept());
        HT_EQ_U(plan.nseg, 2);
        HT_EQ_U(plan.seg[0].vaddr, 0x400000);
        HT_EQ_U(plan.seg[1].vaddr, 0x402000);
        /* AT_PHDR: the first PT_LOAD *in file order* covering e_phoff. */
        HT_EQ_U(plan.phdr, 0x400000 + M.phoff);
    })
}

static void t_gnu_stack(void)
{
    BOTH({
        M.ph[2].flags = PF_R | PF_W | PF_X;
        HT_TRY(expect_accept());
        HT_ASSERT(plan.stack_exec, "PF_X on PT_GNU_STACK ignored");
        /* Absent: not executable (W^X; no READ_IMPLIES_EXEC). */
        M.phnum = 2;
        HT_TRY(expect_accept());
        HT_ASSERT(!plan.stack_exec, "stack executable without PT_GNU_STACK");
        /* Two of them: the last wins, as in Linux. */
        M.phnum = 4;
        M.ph[3] = (struct ph){ PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16 };
        HT_TRY(expect_accept());
        HT_ASSERT(!plan.stack_exec, "the first PT_GNU_STACK won");
    })
}

static void t_pt_phdr(void)
{
    BOTH({
        uint64_t size = (uint64_t)4 * M.phentsize;
        M.ph[3] = (struct ph){ PT_PHDR, PF_R, M.phoff, 0x400000 + M.phoff, size, size, 8 };
        M.phnum = 4;
        HT_TRY(expect_accept());
        HT_EQ_U(plan.phdr, 0x400000 + M.phoff);
        /* Pointing elsewhere in the text: not the headers. */
        M.ph[3].vaddr += 8;
        HT_TRY(expect_reject("PT_PHDR"));
        /* Pointing into the data's bss, or nowhere at all. */
        M.ph[3].vaddr = 0x403000;
        HT_TRY(expect_reject("PT_PHDR"));
        M.ph[3].vaddr = 0x900000;
        HT_TRY(expect_reject("PT_PHDR"));
        /* Straddling the end of the text's file bytes. */
        make_valid(bits_);
        M.ph[0].filesz = M.phoff + 2 * M.phentsize;
        M.ph[3] = (struct ph){ PT_PHDR, PF_R, M.phoff, 0x400000 + M.phoff, size, size, 8 };
        M.phnum = 4;
        HT_TRY(expect_reject("PT_PHDR"));
    })
}

/* Headers outside every segment: AT_PHDR is 0 (as Linux), not a refusal. */
static void t_phdr_not_loaded(void)
{
    BOTH({
        M.ph[0].offset = 0x1000;
        M.ph[0].vaddr = 0x401000;
        M.ph[0].filesz = M.ph[0].memsz = 0x800;
        HT_TRY(expect_accept());
        HT_EQ_U(plan.phdr, 0);
        /* Found through the second segment when it is the one mapping them. */
        M.ph[1].offset = 0;
        M.ph[1].vaddr = 0x402000;
        M.ph[1].filesz = 0x200;
        HT_TRY(expect_accept());
        HT_EQ_U(plan.phdr, 0x402000 + M.phoff);
    })
}

static void t_static_pie(void)
{
    BOTH({
        uint64_t base = bits_ == 64 ? ELF_USER_DYN_BASE64 : ELF_USER_DYN_BASE32;
        M.type = ET_DYN;
        M.ph[0].vaddr = 0;
        M.ph[1].vaddr = 0x2000;
        M.entry = 0x1000;
        HT_TRY(expect_accept_bias(base));
        HT_EQ_U(plan.type, ET_DYN);
        HT_EQ_U(plan.load_bias, base);
        HT_EQ_U(plan.entry, base + 0x1000);
        HT_EQ_U(plan.phdr, base + M.phoff);
        HT_EQ_U(plan.start, base);
        HT_EQ_U(plan.seg[1].vaddr, base + 0x2000);
        HT_EQ_U(plan.brk, base + 0x5000);
        /* Unmoved, it would map page 0. */
        emit();
        HT_TRY(reject_raw(M.len, 0, -ENOEXEC, "first 64 KiB"));
        HT_TRY(reject_raw(M.len, 0x1000, -ENOEXEC, "first 64 KiB"));
        HT_TRY(expect_accept_bias(0x10000));
        /* The caller's mistakes. */
        HT_TRY(reject_raw(M.len, base + 0x10, -EINVAL, "page aligned"));
        if (bits_ == 32)
            HT_TRY(reject_raw(M.len, 1ul << 32, -EINVAL, "4 GiB"));
        /* A bias pushing it out of user space. */
        if (bits_ == 64) {
            HT_TRY(reject_raw(M.len, ELF_USER_END64 - 0x4000, -ENOEXEC, "kernel half"));
            HT_TRY(reject_raw(M.len, 0xfffffffffffff000ul, -ENOEXEC, "wraps"));
        } else {
            HT_TRY(reject_raw(M.len, ELF_USER_END32 - 0x4000, -ENOEXEC, "mirror"));
            HT_TRY(reject_raw(M.len, 0xfffff000ul, -ENOEXEC, "wraps"));
        }
        /* ET_EXEC ignores the bias. */
        M.type = ET_EXEC;
        make_valid(bits_);
        HT_TRY(expect_accept_bias(0x12345678));
        HT_EQ_U(plan.load_bias, 0);
        HT_EQ_U(plan.entry, 0x401000);
    })
}

/* The edges of user space, exactly. */
static void t_address_limits(void)
{
    BOTH({
        uint64_t end = bits_ == 64 ? ELF_USER_END64 : ELF_USER_END32;
        const char *word = bits_ == 64 ? "kernel half" : "mirror";
        /* The data ending exactly at the limit, then one byte more. */
        M.ph[1].vaddr = end - 0x3000;
        HT_TRY(expect_accept());
        HT_EQ_U(plan.brk, end);
        M.ph[1].memsz++;
        HT_TRY(expect_reject(word));
        /* Starting at the limit. */
        M.ph[1].vaddr = end;
        M.ph[1].memsz = 0x1000;
        HT_TRY(expect_reject(word));
        /* The lowest page allowed, and the one below. */
        make_valid(bits_);
        M.ph[0].vaddr = ELF_USER_MIN_ADDR;
        M.entry = ELF_USER_MIN_ADDR + 0x1000;
        HT_TRY(expect_accept());
        HT_EQ_U(plan.start, ELF_USER_MIN_ADDR);
        M.ph[0].vaddr = ELF_USER_MIN_ADDR - 0x1000;
        M.entry = M.ph[0].vaddr + 0x1000;
        HT_TRY(expect_reject("first 64 KiB"));
        M.ph[0].vaddr = 0;
        M.entry = 0x1000;
        HT_TRY(expect_reject("first 64 KiB"));
    })
    /* 64-bit only: the kernel half and wrap-around. */
    make_valid(64);
    M.ph[1].vaddr = 0xffff800000002000ul;
    HT_TRY(expect_reject("kernel half"));
    M.ph[1].vaddr = 0x0000800000000000ul;
    HT_TRY(expect_reject("kernel half"));
    M.ph[1].vaddr = 0xfffffffffffff000ul;
    HT_TRY(expect_reject("wraps"));
    M.ph[1].vaddr = 0xffffffffffffd000ul;   /* ends exactly at 2^64 */
    HT_TRY(expect_reject("wraps"));
    /* 32-bit only: the mirror, the top, the wrap at 4 GiB. */
    make_valid(32);
    M.ph[1].vaddr = 0xffc00000;
    HT_TRY(expect_reject("mirror"));
    M.ph[1].vaddr = 0xfffff000;
    M.ph[1].memsz = 0x1000;                   /* ends exactly at 2^32 */
    HT_TRY(expect_reject("mirror"));
    M.ph[1].memsz = 0x2000;
    HT_TRY(expect_reject("wraps"));
    M.ph[1].vaddr = 0xffbfe000;
    M.ph[1].memsz = 0x3000;
    HT_TRY(expect_reject("mirror"));
}

static void t_phnum_limits(void)
{
    BOTH({
        for (unsigned i = 3; i < ELF_USER_MAX_PHNUM; i++)
            M.ph[i] = (struct ph){ PT_NULL, 0, 0, 0, 0, 0, 0 };
        M.ph[0].filesz = 0x1000;   /* room for the headers before 0x1000 */
        M.ph[0].memsz = 0x1800;
        M.phnum = ELF_USER_MAX_PHNUM;
        HT_TRY(expect_accept());
        HT_EQ_U(plan.phnum, ELF_USER_MAX_PHNUM);
        M.phnum = ELF_USER_MAX_PHNUM + 1;
        HT_TRY(expect_reject("more than 64 program headers"));
        M.phnum = 0xffff;   /* PN_XNUM: extended numbering, not supported */
        HT_TRY(expect_reject("more than 64 program headers"));
    })
}

static void t_load_limits(void)
{
    BOTH({
        /* 16 one-page segments, every other page: accepted; 17 are not. */
        for (unsigned i = 0; i <= ELF_USER_MAX_LOAD; i++)
            M.ph[i] = (struct ph){ PT_LOAD, i == 0 ? PF_R | PF_X : PF_R, 0x1000,
                                   0x1000000 + 0x2000 * (uint64_t)i, 0x100, 0x100,
                                   0x1000 };
        M.entry = 0x1000000;
        M.phnum = ELF_USER_MAX_LOAD;
        HT_TRY(expect_accept());
        HT_EQ_U(plan.nseg, ELF_USER_MAX_LOAD);
        HT_EQ_U(plan.phdr, 0);
        M.phnum = ELF_USER_MAX_LOAD + 1;
        HT_TRY(expect_reject("more than 16 loadable segments"));
    })
}

/* ---- refused headers ------------------------------------------------------------ */

static void t_short_header(void)
{
    const char *why;
    HT_ASSERT(elf_user_check(NULL, 0, 0, &plan, &why) == -ENOEXEC &&
              strstr(why, "shorter"), "NULL accepted");
    HT_ASSERT(elf_user_check(NULL, 4096, 0, &plan, &why) == -ENOEXEC,
              "NULL with a length accepted");
    /* The reason is optional. */
    HT_ASSERT(elf_user_check(NULL, 0, 0, &plan, NULL) == -ENOEXEC, "NULL, no why");
    make_valid(64);
    emit();
    HT_ASSERT(elf_user_check(IMG, M.len, 0, &plan, NULL) == 0, "valid, no why");
    BOTH({
        emit();
        uint64_t hsize = bits_ == 64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
        for (uint64_t len = 0; len < hsize; len++)
            HT_TRY(reject_raw(len, 0, -ENOEXEC, "shorter"));
    })
}

static void t_every_truncation(void)
{
    BOTH({
        emit();
        for (uint64_t len = 0; len < M.len; len++) {
            const char *why;
            int r = check_bytes(IMG, len, 0, &plan, &why);
            HT_ASSERT(r == -ENOEXEC && why && why[0], "%d-bit: %lu/%zu bytes: %d",
                      bits_, len, M.len, r);
        }
    })
}

static void t_bad_ident(void)
{
    BOTH({
        for (int i = 0; i < 4; i++) {
            emit();
            IMG[i] ^= 0x20;
            HT_TRY(reject_raw(M.len, 0, -ENOEXEC, "magic"));
        }
        static const uint8_t classes[] = { 0, 3, 0xff };
        for (size_t i = 0; i < sizeof(classes); i++) {
            emit();
            IMG[EI_CLASS] = classes[i];
            HT_TRY(reject_raw(M.len, 0, -ENOEXEC, "neither 32-bit nor 64-bit"));
        }
        emit();
        IMG[EI_DATA] = ELFDATA2MSB;
        HT_TRY(reject_raw(M.len, 0, -ENOEXEC, "little-endian"));
        IMG[EI_DATA] = 0;
        HT_TRY(reject_raw(M.len, 0, -ENOEXEC, "little-endian"));
        emit();
        IMG[EI_VERSION] = 0;
        HT_TRY(reject_raw(M.len, 0, -ENOEXEC, "version"));
        emit();
        IMG[20] = 2;        /* e_version */
        HT_TRY(reject_raw(M.len, 0, -ENOEXEC, "version"));
    })
}

/* A 32-bit file read as 64-bit (and the reverse) is judged by its own class. */
static void t_wrong_class_header(void)
{
    make_valid(32);
    emit();
    IMG[EI_CLASS] = ELFCLASS64;
    reject_raw(M.len, 0, -ENOEXEC, "");
    HT_ASSERT(!ht_failed, "a 32-bit header read as 64-bit was accepted");
    make_valid(64);
    emit();
    IMG[EI_CLASS] = ELFCLASS32;
    reject_raw(M.len, 0, -ENOEXEC, "");
    HT_ASSERT(!ht_failed, "a 64-bit header read as 32-bit was accepted");
}

static void t_wrong_machine(void)
{
    make_valid(64);
    M.machine = EM_386;
    HT_TRY(expect_reject("not for x86-64"));
    M.machine = 183;    /* EM_AARCH64 */
    HT_TRY(expect_reject("not for x86-64"));
    make_valid(32);
    M.machine = EM_X86_64;
    HT_TRY(expect_reject("not for i386"));
    M.machine = 6;      /* EM_486, never used by Linux */
    HT_TRY(expect_reject("not for i386"));
}

static void t_wrong_type(void)
{
    BOTH({
        static const uint16_t types[] = { 0, 1 /* REL */, 4 /* CORE */, 0xfe00 };
        for (size_t i = 0; i < HT_COUNT(types); i++) {
            M.type = types[i];
            HT_TRY(expect_reject("neither an executable"));
        }
    })
}

static void t_phentsize(void)
{
    BOTH({
        M.phentsize = bits_ == 64 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
        HT_TRY(expect_reject("program header size"));
        M.phentsize = 0;
        HT_TRY(expect_reject("program header size"));
    })
}

static void t_phdrs_outside(void)
{
    BOTH({
        M.phnum = 0;
        HT_TRY(expect_reject("no program headers"));
        make_valid(bits_);
        M.phoff = M.len - M.phentsize;
        HT_TRY(expect_reject("program headers run past"));
        M.phoff = bits_ == 64 ? 0xfffffffffffffff0ul : 0xfffffff0u;
        HT_TRY(expect_reject("program headers run past"));
        M.phoff = M.len;
        HT_TRY(expect_reject("program headers run past"));
    })
}

/* Program headers at an odd offset are read correctly (no alignment rule). */
static void t_phdrs_unaligned(void)
{
    BOTH({
        M.phoff += 3;
        HT_TRY(expect_accept());
        HT_EQ_U(plan.nseg, 2);
        HT_EQ_U(plan.phdr, 0x400000 + M.phoff);
    })
}

static void t_interp(void)
{
    BOTH({
        M.ph[2] = (struct ph){ PT_INTERP, PF_R, 0x200, 0x400200, 28, 28, 1 };
        HT_TRY(expect_reject("dynamic linker"));
        /* Whatever else is wrong, a dynamic program is named as such. */
        M.ph[0].filesz = M.ph[0].memsz + 1;
        HT_TRY(expect_reject("dynamic linker"));
    })
}

static void t_no_load(void)
{
    BOTH({
        M.ph[0].type = PT_NULL;
        M.ph[1].type = PT_NOTE;
        HT_TRY(expect_reject("no loadable segment"));
        make_valid(bits_);
        M.ph[0].filesz = M.ph[0].memsz = 0;
        M.ph[1].filesz = M.ph[1].memsz = 0;
        HT_TRY(expect_reject("no loadable segment"));
    })
}

/* ---- refused segments ------------------------------------------------------------ */

static void t_filesz_gt_memsz(void)
{
    BOTH({
        M.ph[1].memsz = 0x80;
        M.ph[1].filesz = 0x81;
        HT_TRY(expect_reject("more file bytes"));
        /* Even in a PT_LOAD that would load nothing. */
        make_valid(bits_);
        M.ph[2] = (struct ph){ PT_LOAD, PF_R, 0x2000, 0x600000, 1, 0, 0x1000 };
        HT_TRY(expect_reject("more file bytes"));
    })
}

static void t_data_outside_file(void)
{
    BOTH({
        M.ph[1].filesz = 0x101;
        HT_TRY(expect_reject("past the end of the file"));
        make_valid(bits_);
        M.ph[1].offset = 0x3000;
        M.ph[1].filesz = 1;
        HT_TRY(expect_reject("past the end of the file"));
        /* Even with no file bytes: a loader maps the page at the offset. */
        M.ph[1].filesz = 0;
        HT_TRY(expect_reject("past the end of the file"));
        M.ph[1].offset = 0x2000;       /* bss only, at the end of the file: fine */
        HT_TRY(expect_accept());
        HT_EQ_U(plan.seg[1].filesz, 0);
        make_valid(bits_);
        /* offset + filesz wraps. */
        M.ph[1].offset = bits_ == 64 ? 0xfffffffffffff000ul : 0xfffff000u;
        M.ph[1].filesz = 0x1000;
        M.ph[1].memsz = 0x3000;
        HT_TRY(expect_reject("past the end of the file"));
        /* Exactly up to the end is fine (the valid file does it). */
        make_valid(bits_);
        HT_TRY(expect_accept());
    })
}

static void t_page_offset_mismatch(void)
{
    BOTH({
        M.ph[1].vaddr += 0x10;
        HT_TRY(expect_reject("modulo the page size"));
        make_valid(bits_);
        M.ph[1].offset += 0x800;
        M.ph[1].filesz = 0x10;
        M.len = 0x2810;
        HT_TRY(expect_reject("modulo the page size"));
        /* Same page offset, any page: fine (the RELRO layout of GNU ld). */
        make_valid(bits_);
        M.ph[1].offset = 0x1fc0;
        M.ph[1].vaddr = 0x402fc0;
        M.ph[1].filesz = 0x140;
        HT_TRY(expect_accept());
    })
}

static void t_overlap(void)
{
    BOTH({
        /* Same start. */
        M.ph[1].vaddr = 0x400000;
        HT_TRY(expect_reject("overlap"));
        /* The text's bss reaching into the data. */
        make_valid(bits_);
        M.ph[0].memsz = 0x2001;
        HT_TRY(expect_reject("overlap"));
        /* One strictly inside another, listed first. */
        make_valid(bits_);
        M.ph[1].memsz = 0x10000;
        M.ph[2] = (struct ph){ PT_LOAD, PF_R | PF_X, 0x1000, 0x405000, 0x10, 0x10, 0x1000 };
        M.entry = 0x405000;
        HT_TRY(expect_reject("overlap"));
        /* Apart by bytes, but sharing a page. */
        make_valid(bits_);
        M.ph[0].memsz = 0x1800;
        M.ph[1].vaddr = 0x401000 + 0x800;
        M.ph[1].offset = 0x1800;
        M.len = 0x1900;
        HT_TRY(expect_reject("share a page"));
        /* Touching page boundaries: [a, b) and [b, c) are fine. */
        make_valid(bits_);
        M.ph[0].memsz = 0x2000;
        HT_TRY(expect_accept());
        M.ph[0].memsz = 0x2001;
        HT_TRY(expect_reject("overlap"));
    })
}

static void t_entry(void)
{
    BOTH({
        static const uint64_t bad[] = { 0, 0x3fffff, 0x401800, 0x402000, 0x404fff,
                                        0x405000 };
        for (size_t i = 0; i < HT_COUNT(bad); i++) {
            M.entry = bad[i];
            HT_TRY(expect_reject("entry point"));
        }
        M.entry = 0x4017ff;    /* the last byte of the text */
        HT_TRY(expect_accept());
        M.entry = 0x400000;
        HT_TRY(expect_accept());
        M.ph[0].flags = PF_R;  /* no executable segment at all */
        HT_TRY(expect_reject("entry point"));
    })
}

/* ---- random corruption ------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Read header fields of either class, independently of kernel/proc/elf_user.c. */
static void read_file(const uint8_t *b, int bits, uint64_t *phoff, unsigned *phnum,
                      struct ph *ph, unsigned maxph)
{
    if (bits == 64) {
        Elf64_Ehdr e;
        memcpy(&e, b, sizeof(e));
        *phoff = e.e_phoff;
        *phnum = e.e_phnum;
        for (unsigned i = 0; i < e.e_phnum && i < maxph; i++) {
            Elf64_Phdr p;
            memcpy(&p, b + e.e_phoff + i * sizeof(p), sizeof(p));
            ph[i] = (struct ph){ p.p_type, p.p_flags, p.p_offset, p.p_vaddr,
                                 p.p_filesz, p.p_memsz, p.p_align };
        }
    } else {
        Elf32_Ehdr e;
        memcpy(&e, b, sizeof(e));
        *phoff = e.e_phoff;
        *phnum = e.e_phnum;
        for (unsigned i = 0; i < e.e_phnum && i < maxph; i++) {
            Elf32_Phdr p;
            memcpy(&p, b + e.e_phoff + i * sizeof(p), sizeof(p));
            ph[i] = (struct ph){ p.p_type, p.p_flags, p.p_offset, p.p_vaddr,
                                 p.p_filesz, p.p_memsz, p.p_align };
        }
    }
}

/*
 * What an accepted file and its plan must satisfy, checked from the
 * bytes with code of its own: a loader that trusts the plan stays in the
 * file and in user space and creates non-overlapping VMAs.
 */
static void check_plan(const uint8_t *b, uint64_t len, uint64_t bias,
                       const struct elf_user_plan *p, const char *what)
{
    static struct ph ph[ELF_USER_MAX_PHNUM];
    uint64_t phoff;
    unsigned phnum, nload = 0;
    int bits = p->elf_class == ELFCLASS64 ? 64 : 32;
    uint64_t limit = bits == 64 ? ELF_USER_END64 : ELF_USER_END32;

    HT_ASSERT(b[EI_CLASS] == p->elf_class, "%s: class", what);
    read_file(b, bits, &phoff, &phnum, ph, ELF_USER_MAX_PHNUM);
    HT_ASSERT(phnum == p->phnum && phnum <= ELF_USER_MAX_PHNUM && phnum > 0, "%s: phnum",
              what);
    HT_ASSERT(phoff <= len && (uint64_t)phnum * p->phent <= len - phoff,
              "%s: program headers outside the file", what);
    HT_ASSERT(p->nseg >= 1 && p->nseg <= ELF_USER_MAX_LOAD, "%s: nseg %u", what, p->nseg);
    if (p->type == ET_EXEC)
        bias = 0;
    HT_EQ_U(p->load_bias, bias);
    for (unsigned i = 0; i < phnum; i++) {
        HT_ASSERT(ph[i].type != PT_INTERP, "%s: PT_INTERP accepted", what);
        if (ph[i].type != PT_LOAD || ph[i].memsz == 0)
            continue;
        /* Each loadable header appears in the plan, biased. */
        bool found = false;
        for (unsigned k = 0; k < p->nseg; k++)
            found = found || (p->seg[k].vaddr == ph[i].vaddr + bias &&
                              p->seg[k].memsz == ph[i].memsz &&
                              p->seg[k].offset == ph[i].offset &&
                              p->seg[k].filesz == ph[i].filesz);
        HT_ASSERT(found, "%s: phdr %u missing from the plan", what, i);
        nload++;
    }
    HT_EQ_U(nload, p->nseg);
    bool entry_ok = false;
    for (unsigned k = 0; k < p->nseg; k++) {
        const struct elf_user_seg *s = &p->seg[k];
        HT_ASSERT(s->filesz <= s->memsz && s->memsz > 0, "%s: seg %u sizes", what, k);
        HT_ASSERT(s->offset <= len && s->filesz <= len - s->offset,
                  "%s: seg %u file bytes outside the file", what, k);
        HT_ASSERT((s->vaddr & ~0xffful) >= ELF_USER_MIN_ADDR && s->vaddr < limit &&
                  s->memsz <= limit - s->vaddr,
                  "%s: seg %u [%#lx +%#lx) outside user space", what, k,
                  s->vaddr, s->memsz);
        HT_ASSERT(s->vaddr % 4096 == s->offset % 4096, "%s: seg %u congruence", what, k);
        HT_ASSERT(p->start <= s->vaddr && s->vaddr + s->memsz <= p->brk,
                  "%s: seg %u outside [start, brk)", what, k);
        if (k > 0)
            HT_ASSERT(((p->seg[k - 1].vaddr + p->seg[k - 1].memsz + 4095) & ~4095ul) <=
                      (s->vaddr & ~4095ul), "%s: segs %u and %u share a page", what,
                      k - 1, k);
        if ((s->prot & ELF_USER_X) && p->entry >= s->vaddr &&
            p->entry - s->vaddr < s->memsz)
            entry_ok = true;
    }
    HT_ASSERT(entry_ok, "%s: entry %#lx not executable", what,
              p->entry);
    HT_ASSERT(p->start % 4096 == 0 && p->brk % 4096 == 0 && p->brk <= limit,
              "%s: start/brk", what);
    /* AT_PHDR, when known, shows the program headers themselves. */
    if (p->phdr) {
        bool shown = false;
        for (unsigned k = 0; k < p->nseg; k++) {
            const struct elf_user_seg *s = &p->seg[k];
            if (p->phdr >= s->vaddr && p->phdr - s->vaddr < s->filesz)
                shown = shown || s->offset + (p->phdr - s->vaddr) == phoff;
        }
        HT_ASSERT(shown, "%s: AT_PHDR %#lx does not show the headers", what,
                  p->phdr);
    }
}

static void t_mutations(void)
{
    const int iters = 5000;
    BOTH({
        int accepted = 0, refused = 0;
        rng_state = 0x656c662d75736572ul + (uint64_t)bits_;
        for (int it = 0; it < iters; it++) {
            make_valid(bits_);
            /* Sometimes a PT_PHDR, to exercise its checks too. */
            if (it % 3 == 0) {
                uint64_t size = 3 * (uint64_t)M.phentsize;
                M.ph[2] = (struct ph){ PT_PHDR, PF_R, M.phoff, 0x400000 + M.phoff,
                                       size, size, 8 };
            }
            if (it % 5 == 0)
                M.type = ET_DYN;
            emit();
            uint64_t hdrs = M.phoff + 3 * (uint64_t)M.phentsize;
            int changes = 1 + (int)(rng() % 4);
            for (int c = 0; c < changes; c++) {
                uint64_t r = rng();
                size_t at = (size_t)(r % hdrs);
                switch ((r >> 32) % 4) {
                case 0: IMG[at] ^= (uint8_t)(1u << ((r >> 40) % 8)); break;
                case 1: IMG[at] = (uint8_t)(r >> 48); break;
                case 2: IMG[at] = 0; break;
                default: IMG[at] = 0xff; break;
                }
            }
            uint64_t len = M.len;
            if (rng() % 8 == 0)
                len = rng() % M.len;
            uint64_t bias = it % 5 == 0 ? 0x10000000 : 0;
            const char *why;
            struct elf_user_plan p;
            int r = check_bytes(IMG, len, bias, &p, &why);
            if (r == 0) {
                accepted++;
                char what[32];
                snprintf(what, sizeof(what), "iter %d", it);
                HT_TRY(check_plan(IMG, len, bias, &p, what));
            } else {
                refused++;
                HT_ASSERT((r == -ENOEXEC || r == -EINVAL) && why && why[0],
                          "iter %d: %d with no reason", it, r);
            }
        }
        HT_ASSERT(accepted > iters / 20 && refused > iters / 20,
                  "%d-bit: %d accepted, %d refused", bits_, accepted, refused);
    })
}

/* ---- real programs ------------------------------------------------------------------- */

struct sample {
    const char *name;
    int bits;
    uint16_t type;
};

static const struct sample samples[] = {
    { "stackdump64", 64, ET_EXEC },
    { "stackdump64pie", 64, ET_DYN },
    { "stackdump32", 32, ET_EXEC },
    { "stackdump32pie", 32, ET_DYN },
};

static uint64_t auxval(const struct user_stack_view *v, uint64_t type)
{
    for (unsigned i = 0; i < v->nauxv; i++)
        if (v->auxv[i][0] == type)
            return v->auxv[i][1];
    return ~0ul;
}

/*
 * Each sample is accepted, its plan passes check_plan, and the host
 * kernel, running it, puts the entry point, the program headers and the
 * break where the plan says.
 */
static void real_sample(const struct sample *s)
{
    char path[512], err[256];
    size_t len;
    snprintf(path, sizeof(path), "%s/%s", EXEC_DIR, s->name);
    uint8_t *file = native_read_file(path, &len);
    HT_ASSERT(file, "%s is missing (the Makefile builds it)", path);

    struct native_run run;
    char *argv[] = { path, "x", NULL }, *envp[] = { "A=1", NULL };
    if (native_run(path, argv, envp, &run, err, sizeof(err)) != 0) {
        free(file);
        HT_FAIL("%s", err);
    }
    struct user_stack_view v;
    int pr = user_stack_parse(run.mem, run.size, run.top, run.sp, s->bits, &v);
    uint64_t at_entry = auxval(&v, AT_ENTRY), at_phdr = auxval(&v, AT_PHDR);
    free(run.mem);

    /* A PIE's bias is where the host put it. */
    uint64_t e_entry;
    if (s->bits == 64) {
        Elf64_Ehdr e;
        memcpy(&e, file, sizeof(e));
        e_entry = e.e_entry;
    } else {
        Elf32_Ehdr e;
        memcpy(&e, file, sizeof(e));
        e_entry = e.e_entry;
    }
    uint64_t bias = s->type == ET_DYN ? at_entry - e_entry : 0;
    struct elf_user_plan p;
    const char *why;
    int r = check_bytes(file, len, bias, &p, &why);
    if (r != 0) {
        free(file);
        HT_FAIL("%s refused: %s", s->name, why ? why : "?");
    }
    check_plan(file, len, bias, &p, s->name);
    free(file);
    if (ht_failed)
        return;
    HT_ASSERT(pr == 0, "%s: the host's stack does not parse (%d)", s->name, pr);
    HT_EQ_U(p.type, s->type);
    HT_EQ_U(p.elf_class, s->bits == 64 ? ELFCLASS64 : ELFCLASS32);
    HT_EQ_U(p.entry, at_entry);
    HT_EQ_U(p.phdr, at_phdr);
    HT_EQ_U(p.phnum, auxval(&v, AT_PHNUM));
    HT_EQ_U(p.phent, auxval(&v, AT_PHENT));
    /* Linux moves a static PIE's brk away from the image; not an ET_EXEC's. */
    if (s->type == ET_EXEC)
        HT_EQ_U(p.brk, run.brk);
    HT_ASSERT(!p.stack_exec, "%s: executable stack", s->name);
}

static void t_real_static64(void) { real_sample(&samples[0]); }
static void t_real_pie64(void) { real_sample(&samples[1]); }
static void t_real_static32(void) { real_sample(&samples[2]); }
static void t_real_pie32(void) { real_sample(&samples[3]); }

/*
 * Truncated real files: refused exactly when a PT_LOAD's file bytes or
 * the program headers are cut (what follows, section headers and debug
 * information, is never loaded).
 */
static void t_real_truncations(void)
{
    for (size_t k = 0; k < HT_COUNT(samples); k++) {
        char path[512];
        size_t len;
        snprintf(path, sizeof(path), "%s/%s", EXEC_DIR, samples[k].name);
        uint8_t *file = native_read_file(path, &len);
        HT_ASSERT(file, "%s is missing", path);
        static struct ph ph[ELF_USER_MAX_PHNUM];
        uint64_t phoff;
        unsigned phnum;
        read_file(file, samples[k].bits, &phoff, &phnum, ph, ELF_USER_MAX_PHNUM);
        uint64_t need = phoff + phnum * (samples[k].bits == 64 ? 56u : 32u);
        for (unsigned i = 0; i < phnum && i < ELF_USER_MAX_PHNUM; i++)
            if (ph[i].type == PT_LOAD && ph[i].memsz)
                need = MAX(need, ph[i].offset + ph[i].filesz);
        uint64_t bias = samples[k].type == ET_DYN ? 0x10000000 : 0;
        /* Every length near the headers and the end of the loaded bytes. */
        for (uint64_t cut = 0; cut <= len; cut += (cut < 512 || (cut + 600 > need &&
                                                   cut < need + 600)) ? 1 : 97) {
            struct elf_user_plan p;
            const char *why;
            int r = check_bytes(file, cut, bias, &p, &why);
            if ((r == 0) != (cut >= need)) {
                free(file);
                HT_FAIL("%s cut to %lu of %zu bytes (loaded bytes end at %lu): %s",
                        samples[k].name, cut, len,
                        need, r ? why : "accepted");
            }
        }
        free(file);
    }
}

/* The samples' headers, mutated: never a read outside, always a sound plan. */
static void t_real_mutations(void)
{
    rng_state = 0x7265616c2d656c66ul;
    for (size_t k = 0; k < HT_COUNT(samples); k++) {
        char path[512];
        size_t len;
        snprintf(path, sizeof(path), "%s/%s", EXEC_DIR, samples[k].name);
        uint8_t *file = native_read_file(path, &len);
        HT_ASSERT(file, "%s is missing", path);
        uint8_t *work = malloc(len);
        uint64_t hdrs = samples[k].bits == 64 ? 64 + 12 * 56 : 52 + 12 * 32;
        int accepted = 0;
        for (int it = 0; it < 1000 && !ht_failed; it++) {
            memcpy(work, file, len);
            for (int c = 1 + (int)(rng() % 3); c > 0; c--) {
                uint64_t r = rng();
                work[r % hdrs] = (r >> 40) % 2 ? (uint8_t)(r >> 48)
                                               : work[r % hdrs] ^ (uint8_t)(1u << ((r >> 56) % 8));
            }
            struct elf_user_plan p;
            const char *why;
            uint64_t bias = samples[k].type == ET_DYN ? 0x10000000 : 0;
            if (check_bytes(work, len, bias, &p, &why) == 0) {
                accepted++;
                char what[64];
                snprintf(what, sizeof(what), "%s iter %d", samples[k].name, it);
                check_plan(work, len, bias, &p, what);
            }
        }
        free(work);
        free(file);
        if (ht_failed)
            return;
        HT_ASSERT(accepted > 50, "%s: only %d mutants accepted", samples[k].name, accepted);
    }
}

/* A dynamically linked program (this test, built by the host compiler). */
static void t_real_dynamic(void)
{
    size_t len;
    uint8_t *file = native_read_file("/proc/self/exe", &len);
    HT_ASSERT(file, "cannot read /proc/self/exe");
    struct elf_user_plan p;
    const char *why;
    int r = check_bytes(file, len, ELF_USER_DYN_BASE64, &p, &why);
    free(file);
    HT_ASSERT(r == -ENOEXEC && why && strstr(why, "dynamic linker"),
              "a dynamic executable: %d (%s)", r, why ? why : "accepted");
}

static const struct htest cases[] = {
    HT_CASE(valid),
    HT_CASE(unsorted_and_other_types),
    HT_CASE(gnu_stack),
    HT_CASE(pt_phdr),
    HT_CASE(phdr_not_loaded),
    HT_CASE(static_pie),
    HT_CASE(address_limits),
    HT_CASE(phnum_limits),
    HT_CASE(load_limits),
    HT_CASE(short_header),
    HT_CASE(every_truncation),
    HT_CASE(bad_ident),
    HT_CASE(wrong_class_header),
    HT_CASE(wrong_machine),
    HT_CASE(wrong_type),
    HT_CASE(phentsize),
    HT_CASE(phdrs_outside),
    HT_CASE(phdrs_unaligned),
    HT_CASE(interp),
    HT_CASE(no_load),
    HT_CASE(filesz_gt_memsz),
    HT_CASE(data_outside_file),
    HT_CASE(page_offset_mismatch),
    HT_CASE(overlap),
    HT_CASE(entry),
    HT_CASE(mutations),
    HT_CASE(real_static64),
    HT_CASE(real_pie64),
    HT_CASE(real_static32),
    HT_CASE(real_pie32),
    HT_CASE(real_truncations),
    HT_CASE(real_mutations),
    HT_CASE(real_dynamic),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
