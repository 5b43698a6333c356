/*
 * Host tests of the loader's kernel-ELF validation (efi/kelf.c).
 *
 * Every image is built in memory from a small valid kernel (two PT_LOAD
 * segments, text and data+bss), then broken in one way.  kelf_check()
 * always gets a private heap copy of exactly the length under test, so
 * that ASan reports any read past the end of the "file".
 */
#include <stdlib.h>

#include "htest.h"
#include "kelf.h"
#include "elf.h"

/*
 * The valid image:
 *
 *   file offset   contents                 virtual address
 *   0x0000        Elf64_Ehdr
 *   0x0040        2 program headers
 *   0x1000        text, 0x800 bytes        KBASE          (R X)
 *   0x2000        data, 0x100 bytes        KBASE + 0x1000 (R W), memsz 0x3000
 *   0x2100        end of file
 */
#define KBASE      0xffffffff80000000ull
#define TEXT_OFF   0x1000u
#define TEXT_SIZE  0x800u
#define DATA_OFF   0x2000u
#define DATA_FSIZE 0x100u
#define DATA_MSIZE 0x3000u
#define IMG_LEN    0x2100u
#define ENTRY      (KBASE + 0x10)
#define PH_END     (sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr))
#define MAX_PH     4

/* uint64_t storage keeps the headers naturally aligned. */
static uint64_t img_store[IMG_LEN / 8];
#define IMG ((uint8_t *)img_store)
#define EH  ((Elf64_Ehdr *)img_store)
#define PH  ((Elf64_Phdr *)(IMG + sizeof(Elf64_Ehdr)))
#define TEXT (&PH[0])
#define DATA (&PH[1])

_Static_assert(IMG_LEN % 8 == 0, "image size");
_Static_assert(sizeof(Elf64_Ehdr) + MAX_PH * sizeof(Elf64_Phdr) <= TEXT_OFF,
               "room for extra program headers");

static void make_valid(void)
{
    memset(img_store, 0, sizeof(img_store));
    Elf64_Ehdr *eh = EH;
    eh->e_ident[0] = ELFMAG0;
    eh->e_ident[1] = ELFMAG1;
    eh->e_ident[2] = ELFMAG2;
    eh->e_ident[3] = ELFMAG3;
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_entry = ENTRY;
    eh->e_phoff = sizeof(Elf64_Ehdr);
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = 2;

    *TEXT = (Elf64_Phdr){
        .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = TEXT_OFF,
        .p_vaddr = KBASE, .p_paddr = 0, .p_filesz = TEXT_SIZE,
        .p_memsz = TEXT_SIZE, .p_align = 0x1000,
    };
    *DATA = (Elf64_Phdr){
        .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = DATA_OFF,
        .p_vaddr = KBASE + 0x1000, .p_paddr = 0x1000, .p_filesz = DATA_FSIZE,
        .p_memsz = DATA_MSIZE, .p_align = 0x1000,
    };
    /* Something recognisable in the text, for the eye in a debugger. */
    memset(IMG + TEXT_OFF, 0x90, TEXT_SIZE);
    memset(IMG + DATA_OFF, 0xd5, DATA_FSIZE);
}

/* Check the first `len` bytes of the image through an exact-size copy. */
static int check_len(uint64_t len, struct kelf_plan *plan, const char **why)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, IMG, len);
    *why = NULL;
    int r = kelf_check(copy, len, plan, why);
    free(copy);
    return r;
}

/* The image (first `len` bytes) must be refused, with `word` in the reason. */
static void expect_reject_len(uint64_t len, const char *word)
{
    struct kelf_plan plan;
    const char *why;
    int r = check_len(len, &plan, &why);

    HT_ASSERT(r == -1, "accepted (returned %d), expected a refusal about '%s'",
              r, word);
    HT_ASSERT(why != NULL, "refused without a reason");
    HT_ASSERT(strstr(why, word) != NULL, "reason \"%s\" does not mention '%s'",
              why, word);
}

static void expect_reject(const char *word)
{
    expect_reject_len(IMG_LEN, word);
}

static void expect_accept(struct kelf_plan *plan)
{
    const char *why;
    int r = check_len(IMG_LEN, plan, &why);
    HT_ASSERT(r == 0, "refused: %s", why ? why : "(no reason)");
}

/* ---- accepted images ------------------------------------------------------ */

static void t_valid(void)
{
    struct kelf_plan plan;
    make_valid();
    HT_TRY(expect_accept(&plan));
    HT_EQ_U(plan.entry, ENTRY);
    HT_EQ_U(plan.vbase, KBASE);
    HT_EQ_U(plan.vend, KBASE + 0x1000 + DATA_MSIZE);
    HT_EQ_U(plan.nload, 2);
}

/* vbase is rounded down and vend up to 4 KiB. */
static void t_valid_rounding(void)
{
    struct kelf_plan plan;
    make_valid();
    TEXT->p_offset += 0x123;
    TEXT->p_vaddr += 0x123;
    TEXT->p_filesz = TEXT->p_memsz = 0x500;
    EH->e_entry = KBASE + 0x200;
    DATA->p_memsz = 0x2001;
    HT_TRY(expect_accept(&plan));
    HT_EQ_U(plan.entry, KBASE + 0x200);
    HT_EQ_U(plan.vbase, KBASE);
    HT_EQ_U(plan.vend, KBASE + 0x4000);
}

/* Segments in any order; other header types and empty PT_LOADs ignored. */
static void t_valid_other_headers(void)
{
    struct kelf_plan plan;
    make_valid();
    Elf64_Phdr text = *TEXT, data = *DATA;
    PH[0] = (Elf64_Phdr){ .p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W };
    PH[1] = data;
    PH[2] = text;
    /* An empty PT_LOAD, even at a silly address, loads nothing. */
    PH[3] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_vaddr = 0x1000,
                          .p_offset = 0x1000 };
    EH->e_phnum = 4;
    HT_TRY(expect_accept(&plan));
    HT_EQ_U(plan.nload, 2);
    HT_EQ_U(plan.vbase, KBASE);
    HT_EQ_U(plan.vend, KBASE + 0x1000 + DATA_MSIZE);
}

/* The entry may be the last byte of the text, not one past it. */
static void t_entry_last_byte(void)
{
    struct kelf_plan plan;
    make_valid();
    EH->e_entry = KBASE + TEXT_SIZE - 1;
    HT_TRY(expect_accept(&plan));
    EH->e_entry = KBASE + TEXT_SIZE;
    HT_TRY(expect_reject("entry"));
}

/* Exactly 256 MiB is allowed; one page more is not. */
static void t_span_limit(void)
{
    struct kelf_plan plan;
    make_valid();
    DATA->p_memsz = KELF_MAX_SPAN - 0x1000;
    HT_TRY(expect_accept(&plan));
    HT_EQ_U(plan.vend - plan.vbase, KELF_MAX_SPAN);
    DATA->p_memsz += 1;
    HT_TRY(expect_reject("256 MiB"));
}

/* ---- refused headers -------------------------------------------------------- */

static void t_null_buffer(void)
{
    struct kelf_plan plan;
    const char *why = NULL;
    HT_ASSERT(kelf_check(NULL, 0, &plan, &why) == -1, "NULL, 0 accepted");
    HT_ASSERT(why && strstr(why, "shorter"), "reason: %s", why ? why : "none");
    why = NULL;
    HT_ASSERT(kelf_check(NULL, IMG_LEN, &plan, &why) == -1,
              "NULL with a length accepted");
    HT_ASSERT(why != NULL, "refused without a reason");
}

static void t_empty_buffer(void)
{
    make_valid();
    HT_TRY(expect_reject_len(0, "shorter"));
}

static void t_short_header(void)
{
    make_valid();
    for (uint64_t len = 1; len < sizeof(Elf64_Ehdr); len++)
        HT_TRY(expect_reject_len(len, "shorter"));
}

static void t_bad_magic(void)
{
    for (int i = 0; i < 4; i++) {
        make_valid();
        IMG[i] ^= 0x20;
        HT_TRY(expect_reject("magic"));
    }
}

static void t_class32(void)
{
    make_valid();
    EH->e_ident[EI_CLASS] = ELFCLASS32;
    HT_TRY(expect_reject("64-bit"));
    EH->e_ident[EI_CLASS] = 0;
    HT_TRY(expect_reject("64-bit"));
}

static void t_big_endian(void)
{
    make_valid();
    EH->e_ident[EI_DATA] = 2; /* ELFDATA2MSB */
    HT_TRY(expect_reject("little-endian"));
}

static void t_wrong_machine(void)
{
    make_valid();
    EH->e_machine = EM_386;
    HT_TRY(expect_reject("x86-64"));
    EH->e_machine = 183; /* EM_AARCH64 */
    HT_TRY(expect_reject("x86-64"));
}

static void t_et_dyn(void)
{
    make_valid();
    EH->e_type = ET_DYN;
    HT_TRY(expect_reject("ET_EXEC"));
    EH->e_type = 1; /* ET_REL */
    HT_TRY(expect_reject("ET_EXEC"));
}

static void t_phentsize(void)
{
    make_valid();
    EH->e_phentsize = sizeof(Elf32_Phdr);
    HT_TRY(expect_reject("program header size"));
    EH->e_phentsize = sizeof(Elf64_Phdr) + 8;
    HT_TRY(expect_reject("program header size"));
    EH->e_phentsize = 0;
    HT_TRY(expect_reject("program header size"));
}

static void t_phnum_zero(void)
{
    make_valid();
    EH->e_phnum = 0;
    HT_TRY(expect_reject("no program headers"));
}

static void t_phdrs_past_end(void)
{
    make_valid();
    /* The second header would straddle the end of the file. */
    EH->e_phoff = IMG_LEN - sizeof(Elf64_Phdr);
    HT_TRY(expect_reject("past the end"));
    /* A huge offset whose sum with the table size wraps around. */
    EH->e_phoff = 0xfffffffffffffff8ull;
    HT_TRY(expect_reject("past the end"));
    /* Many headers from a valid offset. */
    make_valid();
    EH->e_phnum = 0xffff;
    HT_TRY(expect_reject("past the end"));
}

static void t_phoff_misaligned(void)
{
    make_valid();
    memmove(IMG + sizeof(Elf64_Ehdr) + 4, PH, 2 * sizeof(Elf64_Phdr));
    EH->e_phoff = sizeof(Elf64_Ehdr) + 4;
    HT_TRY(expect_reject("misaligned"));
}

/* Every proper prefix of the valid file is refused, and none is over-read. */
static void t_truncated(void)
{
    make_valid();
    for (uint64_t len = 0; len < IMG_LEN; len++) {
        struct kelf_plan plan;
        const char *why;
        int r = check_len(len, &plan, &why);
        HT_ASSERT(r == -1, "file cut at %#lx bytes accepted",
                  len);
        HT_ASSERT(why != NULL, "cut at %#lx: no reason",
                  len);
    }
    /* Past the program headers, the reason names the segment data. */
    HT_TRY(expect_reject_len(IMG_LEN - 1, "segment data"));
    HT_TRY(expect_reject_len(DATA_OFF, "segment data"));
    HT_TRY(expect_reject_len(PH_END, "segment data"));
    HT_TRY(expect_reject_len(PH_END - 1, "program headers"));
}

/* ---- refused segments -------------------------------------------------------- */

static void t_filesz_gt_memsz(void)
{
    make_valid();
    TEXT->p_memsz = TEXT->p_filesz - 1;
    HT_TRY(expect_reject("more file bytes"));
}

static void t_segment_offset_overflow(void)
{
    make_valid();
    /* offset + filesz wraps to a small number. */
    DATA->p_offset = 0xfffffffffffff000ull;
    DATA->p_filesz = 0x1000;
    HT_TRY(expect_reject("past the end"));
}

static void t_vaddr_wrap(void)
{
    make_valid();
    DATA->p_vaddr = 0xfffffffffffff000ull;
    HT_TRY(expect_reject("wraps"));
    /* Ending exactly at 2^64 also wraps (vaddr + memsz == 0). */
    DATA->p_vaddr = 0xffffffffffffd000ull;
    HT_TRY(expect_reject("wraps"));
}

/* A segment that ends within the last page cannot be rounded up to 4 KiB. */
static void t_top_of_memory(void)
{
    make_valid();
    DATA->p_vaddr = 0xfffffffffffff000ull;
    DATA->p_filesz = 0x100;
    DATA->p_memsz = 0xfff;
    HT_TRY(expect_reject("top of memory"));
}

static void t_below_window(void)
{
    make_valid();
    TEXT->p_vaddr = KBASE - 0x1000;
    EH->e_entry = TEXT->p_vaddr;
    HT_TRY(expect_reject("below the kernel window"));
    make_valid();
    DATA->p_vaddr = 0x1000; /* a user address */
    HT_TRY(expect_reject("below the kernel window"));
    make_valid();
    DATA->p_vaddr = 0xffff800000001000ull; /* the direct map */
    HT_TRY(expect_reject("below the kernel window"));
}

static void t_page_offset_mismatch(void)
{
    make_valid();
    DATA->p_vaddr += 0x10;
    HT_TRY(expect_reject("modulo the page size"));
    make_valid();
    TEXT->p_offset += 0x800;
    TEXT->p_filesz = TEXT->p_memsz = 0x100;
    HT_TRY(expect_reject("modulo the page size"));
}

static void t_overlap(void)
{
    /* Same start address. */
    make_valid();
    DATA->p_vaddr = KBASE;
    HT_TRY(expect_reject("overlap"));
    /* The text's bss reaches into the data. */
    make_valid();
    TEXT->p_memsz = 0x1001;
    HT_TRY(expect_reject("overlap"));
    /* Same, with the data's header first in the table. */
    make_valid();
    Elf64_Phdr t = *TEXT;
    *TEXT = *DATA;
    *DATA = t;
    DATA->p_memsz = 0x1001;
    HT_TRY(expect_reject("overlap"));
    /* One segment strictly inside another. */
    make_valid();
    DATA->p_memsz = 0x10000;
    *TEXT = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X,
                          .p_offset = TEXT_OFF, .p_vaddr = KBASE + 0x3000,
                          .p_filesz = 0x10, .p_memsz = 0x10 };
    EH->e_entry = KBASE + 0x3000;
    HT_TRY(expect_reject("overlap"));
    /* Touching is fine: [a, b) and [b, c). */
    make_valid();
    TEXT->p_memsz = 0x1000;
    struct kelf_plan plan;
    HT_TRY(expect_accept(&plan));
}

static void t_entry_outside(void)
{
    make_valid();
    EH->e_entry = KBASE + 0x900; /* the hole between text and data */
    HT_TRY(expect_reject("entry"));
    EH->e_entry = 0;
    HT_TRY(expect_reject("entry"));
    EH->e_entry = KBASE - 1;
    HT_TRY(expect_reject("entry"));
    EH->e_entry = KBASE + 0x1000 + DATA_MSIZE;
    HT_TRY(expect_reject("entry"));
}

static void t_entry_not_executable(void)
{
    make_valid();
    EH->e_entry = KBASE + 0x1010; /* in the R|W data */
    HT_TRY(expect_reject("executable"));
    /* And if the text loses PF_X, no segment is executable at all. */
    make_valid();
    TEXT->p_flags = PF_R;
    HT_TRY(expect_reject("executable"));
}

static void t_span_too_big(void)
{
    make_valid();
    DATA->p_vaddr = KBASE + KELF_MAX_SPAN;
    DATA->p_offset = DATA_OFF; /* still congruent: both page aligned */
    HT_TRY(expect_reject("256 MiB"));
}

static void t_no_pt_load(void)
{
    make_valid();
    TEXT->p_type = PT_NULL;
    DATA->p_type = PT_GNU_STACK;
    HT_TRY(expect_reject("no loadable segment"));
    /* PT_LOADs that are all empty load nothing either. */
    make_valid();
    TEXT->p_memsz = TEXT->p_filesz = 0;
    DATA->p_memsz = DATA->p_filesz = 0;
    HT_TRY(expect_reject("no loadable segment"));
}

/* ---- random corruption ------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64: deterministic, good enough to pick bytes. */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/*
 * What an accepted image must satisfy, in the loader's own terms
 * (efi/main.c copies and maps every PT_LOAD with memsz != 0).
 */
static void check_accepted(uint64_t len, const struct kelf_plan *plan,
                           int iter)
{
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(IMG + EH->e_phoff);
    unsigned nload = 0;
    int entry_ok = 0;

    HT_ASSERT(EH->e_phoff <= len &&
              EH->e_phnum * sizeof(Elf64_Phdr) <= len - EH->e_phoff,
              "iter %d: program headers outside the file", iter);
    HT_ASSERT(plan->vbase % 4096 == 0 && plan->vend % 4096 == 0,
              "iter %d: plan not page aligned", iter);
    HT_ASSERT(plan->vbase >= KELF_MIN_VADDR && plan->vend > plan->vbase &&
              plan->vend - plan->vbase <= KELF_MAX_SPAN,
              "iter %d: plan [%#lx, %#lx) out of bounds", iter,
              plan->vbase, plan->vend);
    for (unsigned i = 0; i < EH->e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_type != PT_LOAD || p->p_memsz == 0)
            continue;
        nload++;
        HT_ASSERT(p->p_filesz <= p->p_memsz, "iter %d: phdr %u filesz", iter, i);
        HT_ASSERT(p->p_offset <= len && p->p_filesz <= len - p->p_offset,
                  "iter %d: phdr %u data [%#lx +%#lx) outside a %#lx-byte "
                  "file", iter, i, p->p_offset,
                  p->p_filesz, len);
        HT_ASSERT(p->p_vaddr >= plan->vbase && p->p_vaddr < plan->vend &&
                  p->p_memsz <= plan->vend - p->p_vaddr,
                  "iter %d: phdr %u [%#lx +%#lx) outside the plan", iter, i,
                  p->p_vaddr,
                  p->p_memsz);
        HT_ASSERT((p->p_vaddr & 0xfff) == (p->p_offset & 0xfff),
                  "iter %d: phdr %u page offsets differ", iter, i);
        if ((p->p_flags & PF_X) && plan->entry >= p->p_vaddr &&
            plan->entry - p->p_vaddr < p->p_memsz)
            entry_ok = 1;
        for (unsigned j = 0; j < i; j++) {
            const Elf64_Phdr *q = &ph[j];
            if (q->p_type != PT_LOAD || q->p_memsz == 0)
                continue;
            HT_ASSERT(p->p_vaddr + p->p_memsz <= q->p_vaddr ||
                      q->p_vaddr + q->p_memsz <= p->p_vaddr,
                      "iter %d: phdrs %u and %u overlap", iter, j, i);
        }
    }
    HT_ASSERT(nload == plan->nload, "iter %d: %u PT_LOADs, plan says %u",
              iter, nload, plan->nload);
    HT_ASSERT(entry_ok, "iter %d: entry %#lx not in an executable segment",
              iter, plan->entry);
    HT_EQ_U(plan->entry, EH->e_entry);
}

static void t_mutations(void)
{
    const int iters = 5000;
    int accepted = 0, refused = 0;

    rng_state = 0x6d6d6b2d6b656c66ull; /* fixed: the run is reproducible */
    for (int it = 0; it < iters; it++) {
        make_valid();
        /* 1 to 4 changes in the ELF header and the program headers. */
        int changes = 1 + (int)(rng() % 4);
        for (int c = 0; c < changes; c++) {
            uint64_t r = rng();
            size_t at = (size_t)(r % PH_END);
            switch ((r >> 32) % 4) {
            case 0: IMG[at] ^= (uint8_t)(1u << ((r >> 40) % 8)); break;
            case 1: IMG[at] = (uint8_t)(r >> 48); break;
            case 2: IMG[at] = 0; break;
            default: IMG[at] = 0xff; break;
            }
        }
        /* Now and then, also cut the file short. */
        uint64_t len = IMG_LEN;
        if (rng() % 8 == 0)
            len = rng() % IMG_LEN;

        struct kelf_plan plan;
        const char *why;
        if (check_len(len, &plan, &why) == 0) {
            accepted++;
            HT_TRY(check_accepted(len, &plan, it));
        } else {
            refused++;
            HT_ASSERT(why != NULL && why[0] != 0, "iter %d: refused with no "
                      "reason", it);
        }
    }
    /* Both outcomes must occur, or the loop tested nothing. */
    HT_ASSERT(accepted > iters / 20 && refused > iters / 20,
              "%d accepted, %d refused: mutations too weak or too strong",
              accepted, refused);
}

static const struct htest cases[] = {
    HT_CASE(valid),
    HT_CASE(valid_rounding),
    HT_CASE(valid_other_headers),
    HT_CASE(entry_last_byte),
    HT_CASE(span_limit),
    HT_CASE(null_buffer),
    HT_CASE(empty_buffer),
    HT_CASE(short_header),
    HT_CASE(bad_magic),
    HT_CASE(class32),
    HT_CASE(big_endian),
    HT_CASE(wrong_machine),
    HT_CASE(et_dyn),
    HT_CASE(phentsize),
    HT_CASE(phnum_zero),
    HT_CASE(phdrs_past_end),
    HT_CASE(phoff_misaligned),
    HT_CASE(truncated),
    HT_CASE(filesz_gt_memsz),
    HT_CASE(segment_offset_overflow),
    HT_CASE(vaddr_wrap),
    HT_CASE(top_of_memory),
    HT_CASE(below_window),
    HT_CASE(page_offset_mismatch),
    HT_CASE(overlap),
    HT_CASE(entry_outside),
    HT_CASE(entry_not_executable),
    HT_CASE(span_too_big),
    HT_CASE(no_pt_load),
    HT_CASE(mutations),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
