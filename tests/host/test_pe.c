/*
 * Host checks of the loader binary (build/BOOTX64.EFI) as firmware will
 * see it: a PE32+ EFI application for x86-64 whose code is not writable,
 * whose data is not executable, and which carries base relocations so
 * that the firmware can load it at any address.
 *
 *   test_pe [path/to/BOOTX64.EFI [case...]]     (default build/BOOTX64.EFI)
 *
 * Layouts from the Microsoft PE/COFF specification ("PE Format"):
 * MS-DOS stub, signature, COFF file header, optional header (PE32+),
 * section table, and the .reloc section's base relocation blocks.  Every
 * structure is copied out of the file after a bounds check, never cast
 * in place.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "htest.h"

/* ---- the formats ------------------------------------------------------------ */

#define DOS_MAGIC        0x5a4d      /* "MZ" */
#define DOS_LFANEW_OFF   0x3c        /* offset of the PE signature's offset */
#define PE_SIGNATURE     0x00004550u /* "PE\0\0" */

struct coff_header {
    uint16_t machine;
    uint16_t nsections;
    uint32_t timestamp;
    uint32_t symtab_off;
    uint32_t nsymbols;
    uint16_t opthdr_size;
    uint16_t characteristics;
};

#define COFF_MACHINE_AMD64     0x8664
#define COFF_RELOCS_STRIPPED   0x0001
#define COFF_EXECUTABLE_IMAGE  0x0002

struct data_dir {
    uint32_t rva;
    uint32_t size;
};

#define PE32PLUS_MAGIC        0x20b
#define SUBSYSTEM_EFI_APP     10
#define DIR_BASERELOC         5
#define NDIRS_MAX             16

struct opt_header64 {
    uint16_t magic;
    uint8_t  linker_major;
    uint8_t  linker_minor;
    uint32_t code_size;
    uint32_t idata_size;
    uint32_t udata_size;
    uint32_t entry_rva;
    uint32_t code_base;
    uint64_t image_base;
    uint32_t section_align;
    uint32_t file_align;
    uint16_t os_major, os_minor;
    uint16_t image_major, image_minor;
    uint16_t subsys_major, subsys_minor;
    uint32_t win32_version;
    uint32_t image_size;
    uint32_t headers_size;
    uint32_t checksum;
    uint16_t subsystem;
    uint16_t dll_characteristics;
    uint64_t stack_reserve, stack_commit;
    uint64_t heap_reserve, heap_commit;
    uint32_t loader_flags;
    uint32_t ndirs;
    struct data_dir dir[NDIRS_MAX];
};

/* The part before the data directories, which a file may not extend. */
#define OPT_FIXED_SIZE offsetof(struct opt_header64, dir)

struct section_header {
    char     name[8];
    uint32_t vsize;
    uint32_t rva;
    uint32_t raw_size;
    uint32_t raw_off;
    uint32_t relocs_off;
    uint32_t lines_off;
    uint16_t nrelocs;
    uint16_t nlines;
    uint32_t flags;
};

#define SCN_CNT_CODE    0x00000020u
#define SCN_MEM_EXECUTE 0x20000000u
#define SCN_MEM_READ    0x40000000u
#define SCN_MEM_WRITE   0x80000000u

/* A base relocation block: this header, then 16-bit (type << 12 | offset). */
struct reloc_block {
    uint32_t page_rva;
    uint32_t size;       /* including this header */
};

#define REL_ABSOLUTE 0   /* padding, does nothing */
#define REL_DIR64    10  /* add the load delta to the 64-bit word there */

_Static_assert(sizeof(struct coff_header) == 20, "COFF header layout");
_Static_assert(offsetof(struct opt_header64, subsystem) == 68, "subsystem");
_Static_assert(OPT_FIXED_SIZE == 112, "PE32+ fixed part");
_Static_assert(sizeof(struct opt_header64) == 240, "PE32+ optional header");
_Static_assert(sizeof(struct section_header) == 40, "section header layout");
_Static_assert(sizeof(struct reloc_block) == 8, "reloc block layout");

/* ---- reading the file ------------------------------------------------------- */

static const char *path = "build/BOOTX64.EFI";
static uint8_t *file;
static uint64_t fsize;
static int load_errno;

/* What need_headers() found, for the cases after it. */
static uint32_t pe_off;
static struct coff_header coff;
static struct opt_header64 opt;
static struct section_header *sec;
static unsigned nsec;

static void load(void)
{
    FILE *f = fopen(path, "rb");
    long n;

    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        load_errno = errno ? errno : EIO;
        if (f)
            fclose(f);
        return;
    }
    /* Exact size: ASan catches any read past the end of the file. */
    file = malloc(n ? (size_t)n : 1);
    if (!file || fread(file, 1, (size_t)n, f) != (size_t)n) {
        load_errno = EIO;
        free(file);
        file = NULL;
    }
    fsize = (uint64_t)n;
    fclose(f);
}

/* Copy n bytes at file offset off into dst, or return false if outside. */
static bool get(void *dst, uint64_t off, uint64_t n)
{
    if (off > fsize || n > fsize - off)
        return false;
    memcpy(dst, file + off, n);
    return true;
}

static bool name_is(const struct section_header *s, const char *name)
{
    return strncmp(s->name, name, sizeof(s->name)) == 0 &&
           (strlen(name) >= sizeof(s->name) || s->name[strlen(name)] == 0);
}

static const struct section_header *find_section(const char *name)
{
    for (unsigned i = 0; i < nsec; i++)
        if (name_is(&sec[i], name))
            return &sec[i];
    return NULL;
}

/* The section whose memory image holds [rva, rva + n), or NULL. */
static const struct section_header *section_at(uint64_t rva, uint64_t n)
{
    for (unsigned i = 0; i < nsec; i++)
        if (rva >= sec[i].rva && rva - sec[i].rva <= sec[i].vsize &&
            n <= sec[i].vsize - (rva - sec[i].rva))
            return &sec[i];
    return NULL;
}

/* ---- the chain of structural checks ----------------------------------------- */

static void need_file(void)
{
    HT_ASSERT(file != NULL, "cannot read %s: %s (build it with make first)",
              path, strerror(load_errno));
}

static void need_dos(void)
{
    uint16_t magic;

    HT_TRY(need_file());
    HT_ASSERT(get(&magic, 0, sizeof(magic)) && magic == DOS_MAGIC,
              "no MZ signature at offset 0");
    HT_ASSERT(get(&pe_off, DOS_LFANEW_OFF, sizeof(pe_off)),
              "file too short for e_lfanew (%lu bytes)",
              fsize);
    /* The signature follows the 64-byte MS-DOS header. */
    HT_ASSERT(pe_off >= 64 &&
              (uint64_t)pe_off + 4 + sizeof(struct coff_header) <= fsize,
              "e_lfanew %#x: inside the MS-DOS header or past the end of "
              "the file", pe_off);
}

static void need_signature(void)
{
    uint32_t sig;

    HT_TRY(need_dos());
    get(&sig, pe_off, sizeof(sig)); /* in bounds: need_dos() checked */
    HT_ASSERT(sig == PE_SIGNATURE, "signature at %#x is %#x, not PE\\0\\0",
              pe_off, sig);
}

static void need_coff(void)
{
    HT_TRY(need_signature());
    get(&coff, pe_off + 4, sizeof(coff));
    HT_ASSERT(coff.opthdr_size >= OPT_FIXED_SIZE &&
              coff.opthdr_size <= sizeof(opt) &&
              (coff.opthdr_size - OPT_FIXED_SIZE) % sizeof(struct data_dir) == 0,
              "optional header size %u is not a PE32+ size", coff.opthdr_size);
}

/* Optional header and section table read and in bounds. */
static void need_headers(void)
{
    uint64_t opt_off = pe_off + 4 + sizeof(coff);

    HT_TRY(need_coff());
    memset(&opt, 0, sizeof(opt));
    HT_ASSERT(get(&opt, opt_off, coff.opthdr_size),
              "optional header runs past the end of the file");
    HT_ASSERT(opt.ndirs <= NDIRS_MAX &&
              OPT_FIXED_SIZE + opt.ndirs * sizeof(struct data_dir) <=
                  coff.opthdr_size,
              "%u data directories do not fit a %u-byte optional header",
              opt.ndirs, coff.opthdr_size);
    if (sec)
        return; /* the section table was read by an earlier case */
    HT_ASSERT(coff.nsections > 0, "no sections");
    nsec = coff.nsections;
    sec = calloc(nsec, sizeof(*sec));
    HT_ASSERT(sec != NULL, "out of memory");
    HT_ASSERT(get(sec, opt_off + coff.opthdr_size, nsec * sizeof(*sec)),
              "section table runs past the end of the file");
    /* Names are printed in messages: keep them printable ASCII. */
    for (unsigned i = 0; i < nsec; i++)
        for (size_t k = 0; k < sizeof(sec[i].name); k++)
            if (sec[i].name[k] && (sec[i].name[k] < 0x20 || sec[i].name[k] > 0x7e))
                sec[i].name[k] = '?';
}

/* ---- cases ------------------------------------------------------------------- */

static void t_dos_header(void)
{
    HT_TRY(need_dos());
}

static void t_pe_signature(void)
{
    HT_TRY(need_signature());
}

static void t_coff_header(void)
{
    HT_TRY(need_coff());
    HT_ASSERT(coff.machine == COFF_MACHINE_AMD64,
              "machine %#x, expected AMD64 (0x8664)", coff.machine);
    HT_ASSERT(coff.characteristics & COFF_EXECUTABLE_IMAGE,
              "characteristics %#x: not marked executable",
              coff.characteristics);
    HT_ASSERT(!(coff.characteristics & COFF_RELOCS_STRIPPED),
              "characteristics %#x: relocations stripped, the firmware can "
              "only load it at its ImageBase", coff.characteristics);
}

static void t_optional_header(void)
{
    HT_TRY(need_headers());
    HT_ASSERT(opt.magic == PE32PLUS_MAGIC, "magic %#x, expected PE32+ (0x20b)",
              opt.magic);
    HT_ASSERT(opt.subsystem == SUBSYSTEM_EFI_APP,
              "subsystem %u, expected EFI application (10)", opt.subsystem);
    HT_ASSERT(opt.section_align >= 4096 &&
              (opt.section_align & (opt.section_align - 1)) == 0,
              "section alignment %#x", opt.section_align);
    HT_ASSERT(opt.file_align >= 512 &&
              (opt.file_align & (opt.file_align - 1)) == 0 &&
              opt.file_align <= opt.section_align,
              "file alignment %#x", opt.file_align);
    HT_ASSERT(opt.ndirs > DIR_BASERELOC,
              "only %u data directories: no base relocation entry", opt.ndirs);
}

/* Each section's file bytes are in the file, its memory in the image. */
static void t_sections_in_bounds(void)
{
    HT_TRY(need_headers());
    for (unsigned i = 0; i < nsec; i++) {
        const struct section_header *s = &sec[i];
        HT_ASSERT((uint64_t)s->raw_off + s->raw_size <= fsize,
                  "section %.8s: file bytes [%#x +%#x) past the end (%#lx)",
                  s->name, s->raw_off, s->raw_size, fsize);
        HT_ASSERT(s->rva % opt.section_align == 0,
                  "section %.8s: address %#x not aligned", s->name, s->rva);
        HT_ASSERT((uint64_t)s->rva + s->vsize <= opt.image_size,
                  "section %.8s: [%#x +%#x) past SizeOfImage %#x", s->name,
                  s->rva, s->vsize, opt.image_size);
        HT_ASSERT(s->rva >= opt.headers_size,
                  "section %.8s at %#x overlaps the headers", s->name, s->rva);
        if (i > 0)
            HT_ASSERT(s->rva >= (uint64_t)sec[i - 1].rva + sec[i - 1].vsize,
                      "sections %.8s and %.8s overlap or are out of order",
                      sec[i - 1].name, s->name);
    }
}

static void t_entry_point(void)
{
    HT_TRY(need_headers());
    HT_ASSERT(opt.entry_rva != 0, "no entry point");
    const struct section_header *s = section_at(opt.entry_rva, 1);
    HT_ASSERT(s != NULL, "entry point %#x is in no section", opt.entry_rva);
    HT_ASSERT(s->flags & SCN_MEM_EXECUTE,
              "entry point %#x is in %.8s, which is not executable",
              opt.entry_rva, s->name);
}

static void t_text_section(void)
{
    HT_TRY(need_headers());
    const struct section_header *s = find_section(".text");
    HT_ASSERT(s != NULL, "no .text section");
    HT_ASSERT(s->vsize > 0, ".text is empty");
    HT_ASSERT((s->flags & (SCN_MEM_EXECUTE | SCN_MEM_READ | SCN_CNT_CODE)) ==
              (SCN_MEM_EXECUTE | SCN_MEM_READ | SCN_CNT_CODE),
              ".text flags %#x: not readable executable code", s->flags);
    HT_ASSERT(!(s->flags & SCN_MEM_WRITE), ".text flags %#x: writable",
              s->flags);
}

static void t_data_section(void)
{
    HT_TRY(need_headers());
    const struct section_header *s = find_section(".data");
    for (unsigned i = 0; !s && i < nsec; i++)
        if (sec[i].flags & SCN_MEM_WRITE)
            s = &sec[i];
    HT_ASSERT(s != NULL, "no .data and no writable section");
    HT_ASSERT(s->flags & SCN_MEM_WRITE, "%.8s flags %#x: not writable",
              s->name, s->flags);
    HT_ASSERT(!(s->flags & SCN_MEM_EXECUTE), "%.8s flags %#x: executable",
              s->name, s->flags);
}

static void t_no_write_exec(void)
{
    HT_TRY(need_headers());
    for (unsigned i = 0; i < nsec; i++)
        HT_ASSERT((sec[i].flags & (SCN_MEM_WRITE | SCN_MEM_EXECUTE)) !=
                  (SCN_MEM_WRITE | SCN_MEM_EXECUTE),
                  "section %.8s (flags %#x) is writable and executable",
                  sec[i].name, sec[i].flags);
}

/* The base relocation directory, checked to lie in .reloc's file bytes. */
static void need_reloc_dir(uint64_t *off, uint32_t *size)
{
    HT_TRY(need_headers());
    HT_ASSERT(opt.ndirs > DIR_BASERELOC, "no base relocation directory");
    const struct data_dir *d = &opt.dir[DIR_BASERELOC];
    const struct section_header *s = find_section(".reloc");
    HT_ASSERT(s != NULL, "no .reloc section (base relocation directory "
              "%#x +%#x)", d->rva, d->size);
    HT_ASSERT(d->size >= sizeof(struct reloc_block),
              "base relocation directory is empty (size %#x)", d->size);
    HT_ASSERT(d->rva >= s->rva && (uint64_t)d->rva + d->size <=
                  (uint64_t)s->rva + s->vsize,
              "base relocations [%#x +%#x) are not inside .reloc [%#x +%#x)",
              d->rva, d->size, s->rva, s->vsize);
    HT_ASSERT((uint64_t)d->rva - s->rva + d->size <= s->raw_size,
              "base relocations extend past .reloc's file bytes");
    HT_ASSERT(!(s->flags & (SCN_MEM_WRITE | SCN_MEM_EXECUTE)),
              ".reloc flags %#x: writable or executable", s->flags);
    *off = s->raw_off + (d->rva - s->rva);
    *size = d->size;
}

static void t_reloc_section(void)
{
    uint64_t off;
    uint32_t size;
    HT_TRY(need_reloc_dir(&off, &size));
    HT_ASSERT(off + size <= fsize, "relocations past the end of the file");
}

/*
 * Walk the blocks: each one at least its header, 4-byte aligned, inside
 * the directory, covering one 4 KiB page of the image; each entry is
 * padding or a DIR64 whose 8 bytes lie in a section.
 */
static void t_reloc_blocks(void)
{
    uint64_t off;
    uint32_t size;
    unsigned nblocks = 0, ndir64 = 0, npad = 0;

    HT_TRY(need_reloc_dir(&off, &size));
    for (uint32_t pos = 0; pos < size;) {
        struct reloc_block b;
        HT_ASSERT(size - pos >= sizeof(b),
                  "%u stray bytes after block %u", size - pos, nblocks);
        get(&b, off + pos, sizeof(b)); /* inside: need_reloc_dir() checked */
        HT_ASSERT(b.size >= sizeof(b) && b.size % 4 == 0 &&
                  b.size <= size - pos,
                  "block %u at +%#x: size %#x is invalid or past the "
                  "directory's end (%#x)", nblocks, pos, b.size, size);
        HT_ASSERT(b.page_rva % 4096 == 0 && b.page_rva < opt.image_size,
                  "block %u: page %#x", nblocks, b.page_rva);
        for (uint32_t e = sizeof(b); e < b.size; e += 2) {
            uint16_t ent;
            get(&ent, off + pos + e, sizeof(ent));
            unsigned type = ent >> 12;
            uint64_t rva = (uint64_t)b.page_rva + (ent & 0xfff);
            if (type == REL_ABSOLUTE) {
                npad++;
                continue;
            }
            HT_ASSERT(type == REL_DIR64,
                      "block %u: relocation type %u at %#lx in an x86-64 image",
                      nblocks, type, rva);
            HT_ASSERT(section_at(rva, 8) != NULL,
                      "DIR64 at %#lx is not inside a section",
                      rva);
            ndir64++;
        }
        pos += b.size;
        nblocks++;
    }
    HT_ASSERT(nblocks > 0, "no relocation blocks");
    HT_ASSERT(ndir64 > 0, "%u blocks, %u padding entries, no DIR64 relocation",
              nblocks, npad);
}

static const struct htest cases[] = {
    HT_CASE(dos_header),
    HT_CASE(pe_signature),
    HT_CASE(coff_header),
    HT_CASE(optional_header),
    HT_CASE(sections_in_bounds),
    HT_CASE(entry_point),
    HT_CASE(text_section),
    HT_CASE(data_section),
    HT_CASE(no_write_exec),
    HT_CASE(reloc_section),
    HT_CASE(reloc_blocks),
};

int main(int argc, char **argv)
{
    if (argc > 1)
        path = argv[1];
    load();
    int r = htest_main(cases, HT_COUNT(cases), argc > 1 ? argc - 2 : 0,
                       argv + 2);
    free(sec);
    free(file);
    return r;
}
