/*
 * The loader -> kernel contract (docs/boot.md).
 *
 * The UEFI loader (efi/) fills one `struct boot_info` and jumps to the
 * kernel's ELF entry point with:
 *   - long mode, interrupts off, RDI = direct-map address of boot_info;
 *   - CR3 = loader-built 4-level tables that map
 *       * the kernel's PT_LOAD segments at their link addresses,
 *       * all of physical memory (RAM and the framebuffer, from 0 up to
 *         the highest address in the memory map or the framebuffer end)
 *         at BOOT_DIRECT_MAP_BASE, and
 *       * the same range identity-mapped at 0, only so the loader can
 *         survive its own CR3 switch; the kernel drops it first thing.
 *
 * Every address stored in boot_info is PHYSICAL; the kernel reaches it
 * through the direct map.  The struct is plain data: no firmware types,
 * no pointers, fixed-width fields only, so both sides (and host tests)
 * agree on its layout.  This header must never include gnu-efi headers.
 *
 * Versioning: `magic` identifies the struct, `version` is bumped on any
 * incompatible change, `size` is sizeof(struct boot_info) as the loader
 * saw it.  The kernel refuses to boot on a mismatch.
 */
#ifndef BOOT_BOOT_INFO_H
#define BOOT_BOOT_INFO_H

#include <stdint.h>

#define BOOT_INFO_MAGIC   0x4f464e49544f4f42ull /* "BOOTINFO" little-endian */
#define BOOT_INFO_VERSION 1u

/* Where the loader maps all physical memory (include/mm/layout.h,
 * docs/kernel-vm.md). */
#define BOOT_DIRECT_MAP_BASE 0xffff800000000000ull

/* Largest command line the loader passes on, including the final NUL. */
#define BOOT_CMDLINE_MAX 1024u

/*
 * OS-defined UEFI memory types (UEFI reserves 0x80000000..0xffffffff for
 * the OS loader).  The loader allocates its hand-off memory with these
 * so that the kernel can tell it apart in the firmware map.
 */
#define BOOT_MEM_KERNEL    0x80000000u /* kernel image (PT_LOAD segments) */
#define BOOT_MEM_INITRD    0x80000001u /* initrd.cpio as read from disk */
#define BOOT_MEM_BOOTINFO  0x80000002u /* boot_info + memory map buffer */
#define BOOT_MEM_PAGETABLE 0x80000003u /* the loader's initial page tables */

/*
 * One UEFI memory descriptor as the firmware lays it out (UEFI spec
 * 2.10, section 7.2, EFI_MEMORY_DESCRIPTOR).  The firmware may use a
 * larger stride (desc_size) than this struct: always step by desc_size.
 */
struct efi_mem_desc {
    uint32_t type;
    uint32_t pad;
    uint64_t phys_start;
    uint64_t virt_start;
    uint64_t num_pages;  /* 4 KiB pages */
    uint64_t attribute;
};

/* UEFI memory types (UEFI spec, EFI_MEMORY_TYPE) */
enum efi_mem_type {
    EFI_RESERVED_MEMORY = 0,
    EFI_LOADER_CODE = 1,
    EFI_LOADER_DATA = 2,
    EFI_BOOT_SERVICES_CODE = 3,
    EFI_BOOT_SERVICES_DATA = 4,
    EFI_RUNTIME_SERVICES_CODE = 5,
    EFI_RUNTIME_SERVICES_DATA = 6,
    EFI_CONVENTIONAL_MEMORY = 7,
    EFI_UNUSABLE_MEMORY = 8,
    EFI_ACPI_RECLAIM_MEMORY = 9,
    EFI_ACPI_MEMORY_NVS = 10,
    EFI_MEMORY_MAPPED_IO = 11,
    EFI_MEMORY_MAPPED_IO_PORT_SPACE = 12,
    EFI_PAL_CODE = 13,
    EFI_PERSISTENT_MEMORY = 14,
    EFI_UNACCEPTED_MEMORY = 15,
};

/* UEFI memory attribute bits (EFI_MEMORY_* in the spec; renamed to stay clear of gnu-efi in the loader) */
#define EFI_MA_UC      0x1ull
#define EFI_MA_WC      0x2ull
#define EFI_MA_WT      0x4ull
#define EFI_MA_WB      0x8ull
#define EFI_MA_UCE     0x10ull
#define EFI_MA_WP      0x1000ull
#define EFI_MA_RP      0x2000ull
#define EFI_MA_XP      0x4000ull
#define EFI_MA_NV      0x8000ull
#define EFI_MA_MORE_RELIABLE 0x10000ull
#define EFI_MA_RO      0x20000ull
#define EFI_MA_SP      0x40000ull
#define EFI_MA_RUNTIME 0x8000000000000000ull

struct boot_mmap {
    uint64_t phys;        /* first descriptor */
    uint64_t size;        /* bytes used by descriptors */
    uint64_t desc_size;   /* stride between descriptors */
    uint32_t desc_version;
    uint32_t pad;
};

/* Pixel layouts of a GOP framebuffer, reduced to what the kernel needs. */
enum boot_fb_format {
    BOOT_FB_NONE = 0,     /* no usable linear framebuffer */
    BOOT_FB_RGBX = 1,     /* byte 0 red, 1 green, 2 blue */
    BOOT_FB_BGRX = 2,     /* byte 0 blue, 1 green, 2 red (most common) */
    BOOT_FB_BITMASK = 3,  /* see the masks */
};

struct boot_framebuffer {
    uint64_t phys;        /* base of the linear framebuffer */
    uint64_t size;        /* bytes */
    uint32_t width;       /* visible pixels */
    uint32_t height;
    uint32_t pitch;       /* bytes per scan line */
    uint32_t format;      /* enum boot_fb_format */
    uint32_t red_mask, green_mask, blue_mask, reserved_mask;
};

struct boot_range {
    uint64_t phys;        /* 0 when absent */
    uint64_t size;        /* bytes actually used */
};

struct boot_info {
    uint64_t magic;       /* BOOT_INFO_MAGIC */
    uint32_t version;     /* BOOT_INFO_VERSION */
    uint32_t size;        /* sizeof(struct boot_info) */

    struct boot_mmap mmap;        /* final map, taken just before ExitBootServices */
    struct boot_framebuffer fb;
    uint64_t acpi_rsdp;           /* physical address of the RSDP, 0 if none */
    uint32_t acpi_rsdp_version;   /* 1 (ACPI 1.0) or 2 (ACPI 2.0+) */
    uint32_t pad0;

    struct boot_range kernel;     /* physical span of the loaded image */
    uint64_t kernel_virt;         /* link address that kernel.phys maps to */
    struct boot_range initrd;
    struct boot_range pagetables; /* loader's page-table pages (contiguous) */
    struct boot_range bootinfo;   /* this struct plus the memory map buffer */

    uint32_t loader_flags;        /* BOOT_FLAG_* */
    uint32_t cmdline_len;         /* strlen(cmdline) */
    char cmdline[BOOT_CMDLINE_MAX];

    /*
     * Human-readable notes from the loader (bad cmdline.txt, missing
     * initrd...), NUL-terminated lines, so the kernel can show them on
     * its own consoles after the firmware's have gone.
     */
    char loader_log[1024];
};

#define BOOT_FLAG_NX_SET      0x1u /* loader enabled EFER.NXE */
#define BOOT_FLAG_1G_PAGES    0x2u /* direct map built with 1 GiB pages */
#define BOOT_FLAG_CMDLINE_BAD 0x4u /* cmdline.txt was unusable, ignored */
#define BOOT_FLAG_NO_INITRD   0x8u /* boot/initrd.cpio missing or unreadable */

#endif
