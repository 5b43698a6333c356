/*
 * BOOTX64.EFI: the UEFI loader.
 *
 * Reads boot/kernel.elf, boot/initrd.cpio and boot/cmdline.txt from the
 * partition it was itself loaded from, places the kernel, records the
 * framebuffer and the ACPI RSDP, builds the initial page tables, takes
 * the final memory map, exits boot services and jumps to the kernel with
 * a struct boot_info (include/boot/boot_info.h, docs/boot.md).
 *
 * Error policy: anything that stops the boot prints one clear sentence
 * on the firmware console and returns to the firmware; the loader never
 * jumps into a kernel it has not validated.  Problems that do not stop
 * the boot (no initrd, bad cmdline.txt) are printed and also copied into
 * boot_info.loader_log, so the kernel can show them on its own consoles.
 *
 * Built with clang --target=x86_64-unknown-windows (the MS x64 calling
 * convention is then native, so firmware calls are plain calls) against
 * gnu-efi's headers only; libefi is not linked.
 */
#include <efi.h>
#include <efiapi.h>
#include <efiprot.h>

#include "boot/boot_info.h"
#include "elf.h"
#include "kelf.h"
#include "la57.h"
#include <kernel/string.h> /* memset/memcpy: kernel/lib/string.c, linked in too */
#include <mm/x86_pte.h>     /* the entry bits, shared with the kernel */

static EFI_SYSTEM_TABLE *ST;
static EFI_BOOT_SERVICES *BS;

static int guid_eq(const EFI_GUID *a, const EFI_GUID *b)
{
    const unsigned char *x = (const void *)a, *y = (const void *)b;
    for (int i = 0; i < 16; i++)
        if (x[i] != y[i])
            return 0;
    return 1;
}

/* ---- console output, mirrored into the log handed to the kernel ---- */

static char loader_log[sizeof(((struct boot_info *)0)->loader_log)];
static UINTN loader_log_len;

static void out(const char *s)
{
    CHAR16 buf[128];
    UINTN n = 0;

    for (; *s; s++) {
        if (*s == '\n') {
            buf[n++] = L'\r';
        }
        buf[n++] = (CHAR16)(unsigned char)*s;
        if (loader_log_len + 1 < sizeof(loader_log))
            loader_log[loader_log_len++] = *s;
        if (n >= 120) {
            buf[n] = 0;
            ST->ConOut->OutputString(ST->ConOut, buf);
            n = 0;
        }
    }
    buf[n] = 0;
    ST->ConOut->OutputString(ST->ConOut, buf);
}

static void out_num(UINT64 v, unsigned base)
{
    char tmp[24];
    int i = 23;
    tmp[i] = 0;
    do {
        tmp[--i] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (base == 16)
        out("0x");
    out(&tmp[i]);
}

/* Names of the UEFI error codes (UEFI 2.10, appendix D), for messages. */
static const char *const status_names[] = {
    [1] = "EFI_LOAD_ERROR", [2] = "EFI_INVALID_PARAMETER",
    [3] = "EFI_UNSUPPORTED", [4] = "EFI_BAD_BUFFER_SIZE",
    [5] = "EFI_BUFFER_TOO_SMALL", [6] = "EFI_NOT_READY",
    [7] = "EFI_DEVICE_ERROR", [8] = "EFI_WRITE_PROTECTED",
    [9] = "EFI_OUT_OF_RESOURCES", [10] = "EFI_VOLUME_CORRUPTED",
    [11] = "EFI_VOLUME_FULL", [12] = "EFI_NO_MEDIA",
    [13] = "EFI_MEDIA_CHANGED", [14] = "EFI_NOT_FOUND",
    [15] = "EFI_ACCESS_DENIED", [16] = "EFI_NO_RESPONSE",
    [17] = "EFI_NO_MAPPING", [18] = "EFI_TIMEOUT",
    [19] = "EFI_NOT_STARTED", [20] = "EFI_ALREADY_STARTED",
    [21] = "EFI_ABORTED", [26] = "EFI_SECURITY_VIOLATION",
    [27] = "EFI_CRC_ERROR", [28] = "EFI_END_OF_MEDIA",
    [31] = "EFI_END_OF_FILE",
};

static void out_status(EFI_STATUS st)
{
    UINT64 code = st & ~EFI_ERROR_MASK;
    out(" (");
    if ((st & EFI_ERROR_MASK) && code < sizeof(status_names) / sizeof(status_names[0]) &&
        status_names[code]) {
        out(status_names[code]);
    } else {
        out("EFI status ");
        out_num(code, 10);
        out(st & EFI_ERROR_MASK ? ", an error" : ", a warning");
    }
    out(")");
}

/* Stop the boot: one clear sentence, a pause to read it, back to firmware. */
static EFI_STATUS fail(const char *why, EFI_STATUS st)
{
    out("mmk loader: FATAL: ");
    out(why);
    if (st != EFI_SUCCESS)
        out_status(st);
    out("\nmmk loader: not starting the kernel; returning to the firmware.\n");
    BS->Stall(3 * 1000 * 1000);
    return st == EFI_SUCCESS ? EFI_LOAD_ERROR : st;
}

/* ---- files on the boot partition ---- */

static EFI_FILE_HANDLE root_dir;

static EFI_STATUS open_root(EFI_HANDLE image)
{
    EFI_GUID lip_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
    EFI_GUID sfs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
    EFI_LOADED_IMAGE *li;
    EFI_FILE_IO_INTERFACE *fs;
    EFI_STATUS st;

    st = BS->HandleProtocol(image, &lip_guid, (void **)&li);
    if (EFI_ERROR(st))
        return st;
    st = BS->HandleProtocol(li->DeviceHandle, &sfs_guid, (void **)&fs);
    if (EFI_ERROR(st))
        return st;
    return fs->OpenVolume(fs, &root_dir);
}

/*
 * Read a whole file into pages of memory type `type`.  On success *buf
 * and *size describe the file; the allocation is rounded up to pages.
 * Returns EFI_NOT_FOUND when the file does not exist.
 */
static EFI_STATUS read_file(const CHAR16 *path, UINT32 type, UINT64 max_size,
                            void **buf, UINT64 *size)
{
    EFI_GUID info_guid = EFI_FILE_INFO_ID;
    EFI_FILE_HANDLE f;
    EFI_STATUS st;
    UINT8 info_buf[sizeof(EFI_FILE_INFO) + 256];
    UINTN info_size = sizeof(info_buf);
    EFI_PHYSICAL_ADDRESS mem;

    st = root_dir->Open(root_dir, &f, (CHAR16 *)path, EFI_FILE_MODE_READ, 0);
    if (EFI_ERROR(st))
        return st;
    st = f->GetInfo(f, &info_guid, &info_size, info_buf);
    if (EFI_ERROR(st))
        goto out;
    UINT64 fsize = ((EFI_FILE_INFO *)info_buf)->FileSize;
    if (fsize > max_size) {
        st = EFI_BAD_BUFFER_SIZE;
        goto out;
    }
    st = BS->AllocatePages(AllocateAnyPages, type,
                           (fsize + 4095) / 4096 + (fsize == 0), &mem);
    if (EFI_ERROR(st))
        goto out;
    UINTN n = fsize;
    st = f->Read(f, &n, (void *)mem);
    if (!EFI_ERROR(st) && n != fsize)
        st = EFI_END_OF_FILE; /* short read */
    if (EFI_ERROR(st)) {
        BS->FreePages(mem, (fsize + 4095) / 4096 + (fsize == 0));
        goto out;
    }
    *buf = (void *)mem;
    *size = fsize;
out:
    f->Close(f);
    return st;
}

/* ---- the kernel image ---- */

static struct kelf_plan kplan;
static EFI_PHYSICAL_ADDRESS kernel_phys;
static const void *kernel_file;    /* kept for the segment flags */
static UINT64 kernel_file_size;

#define MIB2 0x200000ull

/* Validate the ELF, then copy its segments into fresh 2 MiB-aligned pages. */
static EFI_STATUS load_kernel(void)
{
    void *file;
    UINT64 fsize;
    const char *why;
    EFI_STATUS st;

    st = read_file(L"\\boot\\kernel.elf", EfiLoaderData, KELF_MAX_SPAN, &file,
                   &fsize);
    if (st == EFI_NOT_FOUND)
        return fail("\\boot\\kernel.elf is missing from the boot partition", st);
    if (EFI_ERROR(st))
        return fail("cannot read \\boot\\kernel.elf", st);
    if (kelf_check(file, fsize, &kplan, &why) != 0) {
        out("mmk loader: \\boot\\kernel.elf is not a valid kernel: ");
        out(why);
        out("\n");
        return fail("corrupt kernel image", EFI_LOAD_ERROR);
    }

    /* Over-allocate by 2 MiB, then give back the unaligned head and tail. */
    UINT64 span = kplan.vend - kplan.vbase;
    UINTN pages = span / 4096 + MIB2 / 4096;
    EFI_PHYSICAL_ADDRESS mem;
    st = BS->AllocatePages(AllocateAnyPages, BOOT_MEM_KERNEL, pages, &mem);
    if (EFI_ERROR(st))
        return fail("no memory for the kernel image", st);
    kernel_phys = (mem + MIB2 - 1) & ~(MIB2 - 1);
    if (kernel_phys > mem)
        BS->FreePages(mem, (kernel_phys - mem) / 4096);
    UINT64 tail = mem + pages * 4096 - (kernel_phys + span);
    if (tail)
        BS->FreePages(kernel_phys + span, tail / 4096);

    memset((void *)kernel_phys, 0, span);
    const Elf64_Ehdr *eh = file;
    const Elf64_Phdr *ph = (const void *)((UINT8 *)file + eh->e_phoff);
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
            continue;
        memcpy((void *)(kernel_phys + ph[i].p_vaddr - kplan.vbase),
               (UINT8 *)file + ph[i].p_offset, ph[i].p_filesz);
    }
    kernel_file = file;
    kernel_file_size = fsize;
    return EFI_SUCCESS;
}

/* ---- initrd and command line ---- */

static struct boot_range initrd;
static UINT32 boot_flags;
static char cmdline[BOOT_CMDLINE_MAX];
static UINT32 cmdline_len;

static void load_initrd(void)
{
    void *buf;
    UINT64 size;
    EFI_STATUS st = read_file(L"\\boot\\initrd.cpio", BOOT_MEM_INITRD,
                              1ull << 32, &buf, &size);
    if (EFI_ERROR(st)) {
        out(st == EFI_NOT_FOUND
                ? "mmk loader: warning: \\boot\\initrd.cpio is missing; booting without an initrd\n"
                : "mmk loader: warning: cannot read \\boot\\initrd.cpio; booting without an initrd\n");
        boot_flags |= BOOT_FLAG_NO_INITRD;
        return;
    }
    initrd.phys = (UINT64)buf;
    initrd.size = size;
}

/*
 * cmdline.txt: one line of options.  Newlines and tabs become spaces,
 * surrounding blanks are trimmed.  Empty is fine (defaults apply); a
 * file that does not fit BOOT_CMDLINE_MAX, or holds bytes that are not
 * printable ASCII, is reported and ignored: the boot goes on without it.
 */
static void load_cmdline(void)
{
    void *buf;
    UINT64 size;
    EFI_STATUS st = read_file(L"\\boot\\cmdline.txt", EfiLoaderData,
                              1u << 20, &buf, &size);
    if (st == EFI_NOT_FOUND)
        return;
    if (EFI_ERROR(st)) {
        out("mmk loader: warning: cannot read \\boot\\cmdline.txt (too large?); using an empty command line\n");
        boot_flags |= BOOT_FLAG_CMDLINE_BAD;
        return;
    }
    const char *p = buf;
    UINT64 start = 0, end = size;
    while (start < end && (p[start] == ' ' || p[start] == '\n' ||
                           p[start] == '\r' || p[start] == '\t'))
        start++;
    while (end > start && (p[end - 1] == ' ' || p[end - 1] == '\n' ||
                           p[end - 1] == '\r' || p[end - 1] == '\t'))
        end--;
    if (end - start > BOOT_CMDLINE_MAX - 1) {
        out("mmk loader: warning: \\boot\\cmdline.txt is ");
        out_num(end - start, 10);
        out(" bytes, more than the limit of ");
        out_num(BOOT_CMDLINE_MAX - 1, 10);
        out("; ignoring it\n");
        boot_flags |= BOOT_FLAG_CMDLINE_BAD;
        goto done;
    }
    for (UINT64 i = start; i < end; i++) {
        char c = p[i];
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
        if (c < 0x20 || c > 0x7e) {
            out("mmk loader: warning: \\boot\\cmdline.txt holds a byte that is not printable ASCII at offset ");
            out_num(i, 10);
            out("; ignoring it\n");
            boot_flags |= BOOT_FLAG_CMDLINE_BAD;
            cmdline_len = 0;
            goto done;
        }
        cmdline[cmdline_len++] = c;
    }
done:
    cmdline[cmdline_len] = 0;
    BS->FreePages((EFI_PHYSICAL_ADDRESS)buf, (size + 4095) / 4096 + (size == 0));
}

/* ---- framebuffer and ACPI ---- */

static struct boot_framebuffer fb;

static void find_framebuffer(void)
{
    EFI_GUID gop_guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
    EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;

    if (EFI_ERROR(BS->LocateProtocol(&gop_guid, NULL, (void **)&gop)) ||
        !gop->Mode || !gop->Mode->Info) {
        out("mmk loader: no graphics output; the kernel will use the serial port only\n");
        return;
    }
    EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *mi = gop->Mode->Info;
    switch (mi->PixelFormat) {
    case PixelRedGreenBlueReserved8BitPerColor:
        fb.format = BOOT_FB_RGBX;
        break;
    case PixelBlueGreenRedReserved8BitPerColor:
        fb.format = BOOT_FB_BGRX;
        break;
    case PixelBitMask:
        fb.format = BOOT_FB_BITMASK;
        fb.red_mask = mi->PixelInformation.RedMask;
        fb.green_mask = mi->PixelInformation.GreenMask;
        fb.blue_mask = mi->PixelInformation.BlueMask;
        fb.reserved_mask = mi->PixelInformation.ReservedMask;
        break;
    default: /* PixelBltOnly: no linear framebuffer to hand over */
        out("mmk loader: the display has no linear framebuffer; serial only\n");
        return;
    }
    fb.phys = gop->Mode->FrameBufferBase;
    fb.size = gop->Mode->FrameBufferSize;
    fb.width = mi->HorizontalResolution;
    fb.height = mi->VerticalResolution;
    fb.pitch = mi->PixelsPerScanLine * 4;
}

static UINT64 rsdp;
static UINT32 rsdp_version;

static void find_rsdp(void)
{
    EFI_GUID acpi20 = ACPI_20_TABLE_GUID;
    EFI_GUID acpi10 = ACPI_TABLE_GUID;

    for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
        EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];
        if (guid_eq(&t->VendorGuid, &acpi20)) {
            rsdp = (UINT64)t->VendorTable;
            rsdp_version = 2;
            return;
        }
        if (guid_eq(&t->VendorGuid, &acpi10) && !rsdp) {
            rsdp = (UINT64)t->VendorTable;
            rsdp_version = 1;
        }
    }
    if (!rsdp)
        out("mmk loader: warning: no ACPI RSDP in the firmware's configuration tables\n");
}

/* ---- initial page tables ---- */

#define PAGE_1G (1ull << 30)

static UINT64 *pt_pool;         /* pages reserved for tables */
static UINTN pt_pool_pages, pt_pool_used;
static int use_nx, use_1g;

static UINT64 *pt_page(void)
{
    if (pt_pool_used >= pt_pool_pages)
        return NULL;
    UINT64 *p = pt_pool + 512 * pt_pool_used++;
    memset(p, 0, 4096);
    return p;
}

static void cpuid(UINT32 leaf, UINT32 *a, UINT32 *b, UINT32 *c, UINT32 *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
                     : "a"(leaf), "c"(0));
}

/* Highest physical address the direct map must reach. */
static UINT64 phys_top(const UINT8 *map, UINTN map_size, UINTN desc_size)
{
    UINT64 top = 4ull << 30; /* always cover the low 4 GiB (MMIO, APIC) */
    for (UINTN off = 0; off + desc_size <= map_size; off += desc_size) {
        const EFI_MEMORY_DESCRIPTOR *d = (const void *)(map + off);
        UINT64 end = d->PhysicalStart + d->NumberOfPages * 4096;
        if (end > top && end < (1ull << 46))
            top = end;
    }
    if (fb.phys + fb.size > top && fb.phys + fb.size < (1ull << 46))
        top = fb.phys + fb.size;
    return (top + PAGE_1G - 1) & ~(PAGE_1G - 1);
}

/*
 * Build the tables of the boot contract: the direct map at
 * BOOT_DIRECT_MAP_BASE and at 0 (sharing the same lower-level pages),
 * and the kernel's segments at their link address with their ELF
 * permissions.  Returns the PML4's physical address, or 0.
 */
static UINT64 *build_tables(UINT64 top)
{
    UINT64 *pml4 = pt_page();
    UINT64 ngb = top / PAGE_1G;
    if (!pml4)
        return NULL;

    /* Direct map: one PDPT per 512 GiB, 1 GiB pages or a PD per GiB. */
    for (UINT64 gb = 0; gb < ngb; gb++) {
        UINTN l4 = gb / 512, l3 = gb % 512;
        UINT64 *pdpt;
        if (!(pml4[l4] & X86_PTE_P)) {
            if (!(pdpt = pt_page()))
                return NULL;
            pml4[l4] = (UINT64)pdpt | X86_PTE_P | X86_PTE_RW;
            /* The direct map is data only: no-execute at the top level
             * (the identity alias keeps X: the loader runs from it). */
            pml4[256 + l4] = pml4[l4] | (use_nx ? X86_PTE_NX : 0);
        }
        pdpt = (UINT64 *)(pml4[l4] & ~0xfffull);
        if (use_1g) {
            pdpt[l3] = gb * PAGE_1G | X86_PTE_P | X86_PTE_RW | X86_PTE_PS;
        } else {
            UINT64 *pd = pt_page();
            if (!pd)
                return NULL;
            for (UINTN i = 0; i < 512; i++)
                pd[i] = gb * PAGE_1G + i * MIB2 | X86_PTE_P | X86_PTE_RW | X86_PTE_PS;
            pdpt[l3] = (UINT64)pd | X86_PTE_P | X86_PTE_RW;
        }
    }

    /* The kernel: 4 KiB pages, permissions from the segment flags. */
    const Elf64_Ehdr *eh = kernel_file;
    const Elf64_Phdr *ph = (const void *)((const UINT8 *)kernel_file + eh->e_phoff);
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
            continue;
        UINT64 va = ph[i].p_vaddr & ~0xfffull;
        UINT64 end = (ph[i].p_vaddr + ph[i].p_memsz + 0xfff) & ~0xfffull;
        UINT64 flags = X86_PTE_P;
        if (ph[i].p_flags & PF_W)
            flags |= X86_PTE_RW;
        if (!(ph[i].p_flags & PF_X) && use_nx)
            flags |= X86_PTE_NX;
        for (; va < end; va += 4096) {
            UINT64 *table = pml4;
            /* walk levels 4, 3, 2 creating tables; level 1 holds the page */
            for (int level = 4; level > 1; level--) {
                UINTN idx = (va >> (12 + 9 * (level - 1))) & 511;
                if (!(table[idx] & X86_PTE_P)) {
                    UINT64 *next = pt_page();
                    if (!next)
                        return NULL;
                    table[idx] = (UINT64)next | X86_PTE_P | X86_PTE_RW;
                }
                table = (UINT64 *)(table[idx] & 0x000ffffffffff000ull);
            }
            table[(va >> 12) & 511] =
                (kernel_phys + va - kplan.vbase) | flags;
        }
    }
    return pml4;
}

/* ---- the hand-off ---- */

static struct boot_info *bi;

/*
 * Take the memory map into the buffer reserved inside the boot-info
 * allocation and exit boot services.  A stale key (the map changed
 * between the two calls) is retried with a fresh map; nothing may be
 * allocated in between, which is why the buffer has slack.  When the map
 * does not fit before any ExitBootServices attempt, EFI_BUFFER_TOO_SMALL
 * comes back with *need set, and the caller allocates a larger buffer.
 */
static EFI_STATUS exit_boot_services(EFI_HANDLE image, UINT8 *map, UINTN cap,
                                     UINTN *need)
{
    EFI_STATUS st = EFI_SUCCESS;
    for (int tries = 0; tries < 8; tries++) {
        UINTN size = cap, key, desc_size;
        UINT32 desc_version;
        st = BS->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)map, &key,
                              &desc_size, &desc_version);
        if (st == EFI_BUFFER_TOO_SMALL && tries == 0) {
            *need = size;
            return st;
        }
        if (EFI_ERROR(st))
            return st;
        bi->mmap.phys = (UINT64)map;
        bi->mmap.size = size;
        bi->mmap.desc_size = desc_size;
        bi->mmap.desc_version = desc_version;
        st = BS->ExitBootServices(image, key);
        if (!EFI_ERROR(st))
            return st;
    }
    return st;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    EFI_STATUS st;
    UINT32 a, b, c, d;

    ST = systab;
    BS = systab->BootServices;
    out("mmk loader: starting\n");

    st = open_root(image);
    if (EFI_ERROR(st))
        return fail("cannot open the partition the loader came from", st);
    if ((st = load_kernel()) != EFI_SUCCESS)
        return st;
    load_initrd();
    load_cmdline();
    find_framebuffer();
    find_rsdp();

    cpuid(0x80000000, &a, &b, &c, &d);
    if (a >= 0x80000001) {
        cpuid(0x80000001, &a, &b, &c, &d);
        use_nx = (d >> 20) & 1;
        use_1g = (d >> 26) & 1;
    }

    /*
     * Size the memory map: ask for its current size, then leave room for
     * the allocations still to come and for the firmware splitting
     * descriptors behind our back.
     */
    UINTN map_size = 0, key, desc_size = sizeof(EFI_MEMORY_DESCRIPTOR);
    UINT32 desc_version;
    st = BS->GetMemoryMap(&map_size, NULL, &key, &desc_size, &desc_version);
    if (st != EFI_BUFFER_TOO_SMALL)
        return fail("cannot query the size of the memory map", st);
    UINTN map_cap = map_size + 64 * desc_size;

    /* Page tables: PML4, PDPTs, PDs (when no 1 GiB pages), kernel tables. */
    UINT64 top = phys_top(NULL, 0, 1);
    {
        /* A first pass over the current map for the top of memory. */
        UINTN msz = map_cap;
        EFI_PHYSICAL_ADDRESS tmp;
        st = BS->AllocatePages(AllocateAnyPages, EfiLoaderData,
                               (msz + 4095) / 4096, &tmp);
        if (EFI_ERROR(st))
            return fail("no memory for a copy of the memory map", st);
        st = BS->GetMemoryMap(&msz, (EFI_MEMORY_DESCRIPTOR *)tmp, &key,
                              &desc_size, &desc_version);
        if (EFI_ERROR(st))
            return fail("cannot read the memory map", st);
        top = phys_top((const UINT8 *)tmp, msz, desc_size);
        BS->FreePages(tmp, (map_cap + 4095) / 4096);
    }
    /* 4-level tables only: refuse a CPU the firmware left in 5-level
     * paging, rather than fault on the CR3 switch (efi/la57.c). */
    UINT64 cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    if (la57_refusal(cr4))
        return fail(la57_refusal(cr4), EFI_UNSUPPORTED);
    UINT64 ngb = top / PAGE_1G;
    pt_pool_pages = 1 + (ngb + 511) / 512 + (use_1g ? 0 : ngb) +
                    3 + (kplan.vend - kplan.vbase) / MIB2 + 2;
    EFI_PHYSICAL_ADDRESS ptmem;
    st = BS->AllocatePages(AllocateAnyPages, BOOT_MEM_PAGETABLE,
                           pt_pool_pages, &ptmem);
    if (EFI_ERROR(st))
        return fail("no memory for the initial page tables", st);
    pt_pool = (UINT64 *)ptmem;
    UINT64 *pml4 = build_tables(top);
    if (!pml4)
        return fail("initial page tables did not fit their pool (loader bug)",
                    EFI_SUCCESS);

    /*
     * Boot info and the map buffer in one allocation.  The hand-off is
     * filled in, then the final map is taken; if the map outgrew the
     * buffer, everything is redone with a larger one (a few times at most).
     */
    EFI_PHYSICAL_ADDRESS bimem = 0;
    UINTN bi_pages = 0;
    for (int attempt = 0;; attempt++) {
        UINTN bi_bytes = ((sizeof(struct boot_info) + 15) & ~15ull) + map_cap;
        bi_pages = (bi_bytes + 4095) / 4096;
        st = BS->AllocatePages(AllocateAnyPages, BOOT_MEM_BOOTINFO, bi_pages, &bimem);
        if (EFI_ERROR(st))
            return fail("no memory for the boot information", st);
        bi = (struct boot_info *)bimem;
        memset(bi, 0, bi_bytes);
        bi->magic = BOOT_INFO_MAGIC;
        bi->version = BOOT_INFO_VERSION;
        bi->size = sizeof(struct boot_info);
        bi->fb = fb;
        bi->acpi_rsdp = rsdp;
        bi->acpi_rsdp_version = rsdp_version;
        bi->kernel.phys = kernel_phys;
        bi->kernel.size = kplan.vend - kplan.vbase;
        bi->kernel_virt = kplan.vbase;
        bi->initrd = initrd;
        bi->pagetables.phys = ptmem;
        bi->pagetables.size = pt_pool_pages * 4096;
        bi->bootinfo.phys = bimem;
        bi->bootinfo.size = bi_pages * 4096;
        bi->loader_flags = boot_flags | (use_nx ? BOOT_FLAG_NX_SET : 0) |
                           (use_1g ? BOOT_FLAG_1G_PAGES : 0);
        memcpy(bi->cmdline, cmdline, sizeof(cmdline));
        bi->cmdline_len = cmdline_len;

        if (attempt == 0) {
            out("mmk loader: kernel at phys ");
            out_num(kernel_phys, 16);
            out(", entry ");
            out_num(kplan.entry, 16);
            out("; exiting boot services\n");
        }
        memcpy(bi->loader_log, loader_log, loader_log_len);

        UINT8 *map = (UINT8 *)bimem + ((sizeof(struct boot_info) + 15) & ~15ull);
        UINTN need = 0;
        st = exit_boot_services(image, map, map_cap, &need);
        if (st != EFI_BUFFER_TOO_SMALL)
            break;
        /* Still in boot services: report, grow, retry. */
        BS->FreePages(bimem, bi_pages);
        if (attempt == 3)
            return fail("the memory map keeps outgrowing its buffer", st);
        out("mmk loader: the memory map (");
        out_num(need, 10);
        out(" bytes) does not fit its buffer; retrying with a larger one\n");
        map_cap = need + 64 * desc_size;
    }
    if (EFI_ERROR(st))
        return st; /* boot services may be half gone: no console, no Stall */

    /* No firmware services from here on. */
    if (use_nx) {
        UINT32 lo, hi;
        __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080));
        lo |= 1u << 11; /* EFER.NXE */
        __asm__ volatile("wrmsr" : : "a"(lo), "d"(hi), "c"(0xc0000080));
    }
    UINT64 bi_virt = BOOT_DIRECT_MAP_BASE + bimem;
    __asm__ volatile("cli\n\t"
                     "mov %0, %%cr3\n\t"
                     "mov %1, %%rdi\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "jmp *%2"
                     :
                     : "r"((UINT64)pml4), "r"(bi_virt), "r"(kplan.entry)
                     : "rdi", "memory");
    __builtin_unreachable();
}
