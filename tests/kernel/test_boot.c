/*
 * The boot contract: what the loader handed over is what
 * include/boot/boot_info.h promises.
 */
#include <kernel/ktest.h>
#include <kernel/kernel.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include <kernel/console.h>

extern const char __kernel_start[], __kernel_end[], __text_start[];

KTEST(bootinfo_header)
{
    const struct boot_info *bi = boot_info;
    KT_ASSERT(bi->magic == BOOT_INFO_MAGIC, "magic %#lx", bi->magic);
    KT_ASSERT(bi->version == BOOT_INFO_VERSION, "version %u", bi->version);
    KT_ASSERT(bi->size == sizeof(*bi), "size %u", bi->size);
    KT_ASSERT(bi->cmdline_len == strnlen(bi->cmdline, sizeof(bi->cmdline)),
              "cmdline_len %u but strlen %zu", bi->cmdline_len,
              strnlen(bi->cmdline, sizeof(bi->cmdline)));
    KT_ASSERT(strstr(bi->cmdline, "ktest") != NULL,
              "the command line that started the tests is not in boot_info");
}

/* Find the descriptor covering [pa, pa+len) and return its type, or -1. */
static long type_covering(const struct boot_info *bi, uint64_t pa, uint64_t len)
{
    for (uint64_t off = 0; off < bi->mmap.size; off += bi->mmap.desc_size) {
        const struct efi_mem_desc *d = phys_to_virt(bi->mmap.phys + off);
        uint64_t end = d->phys_start + d->num_pages * 4096;
        if (pa >= d->phys_start && pa + len <= end)
            return d->type;
    }
    return -1;
}

KTEST(bootinfo_memory_map)
{
    const struct boot_info *bi = boot_info;
    KT_ASSERT(bootmap_invalid(bi) == NULL, "map invalid: %s", bootmap_invalid(bi));
    uint64_t n = bi->mmap.size / bi->mmap.desc_size, conv = 0;
    for (uint64_t i = 0; i < n; i++) {
        const struct efi_mem_desc *d = phys_to_virt(bi->mmap.phys + i * bi->mmap.desc_size);
        KT_ASSERT((d->phys_start & 0xfff) == 0, "descriptor %lu not page aligned",
                  i);
        KT_ASSERT(d->num_pages < (1ul << 36), "descriptor %lu absurdly large",
                  i);
        if (d->type == EFI_CONVENTIONAL_MEMORY)
            conv += d->num_pages * 4096;
    }
    KT_ASSERT(conv >= (32ul << 20), "only %lu bytes of conventional memory",
              conv);
    /* The loader's hand-off memory carries our OS-defined types. */
    KT_ASSERT(type_covering(bi, bi->kernel.phys, bi->kernel.size) == BOOT_MEM_KERNEL,
              "kernel range type %ld", type_covering(bi, bi->kernel.phys, bi->kernel.size));
    KT_ASSERT(type_covering(bi, bi->bootinfo.phys, bi->bootinfo.size) == BOOT_MEM_BOOTINFO,
              "boot info range type %ld",
              type_covering(bi, bi->bootinfo.phys, bi->bootinfo.size));
    KT_ASSERT(type_covering(bi, bi->pagetables.phys, bi->pagetables.size) ==
                  BOOT_MEM_PAGETABLE, "page table range type %ld",
              type_covering(bi, bi->pagetables.phys, bi->pagetables.size));
    if (bi->initrd.phys)
        KT_ASSERT(type_covering(bi, bi->initrd.phys, bi->initrd.size) == BOOT_MEM_INITRD,
                  "initrd range type %ld",
                  type_covering(bi, bi->initrd.phys, bi->initrd.size));
}

KTEST(bootinfo_kernel_placement)
{
    const struct boot_info *bi = boot_info;
    KT_ASSERT((bi->kernel.phys & 0x1fffff) == 0, "kernel phys %#lx not 2 MiB aligned",
              bi->kernel.phys);
    KT_ASSERT(bi->kernel_virt == (uint64_t)__kernel_start, "kernel_virt %#lx, linked at %p",
              bi->kernel_virt, (void *)__kernel_start);
    KT_ASSERT(bi->kernel.size >= (uint64_t)(__kernel_end - __kernel_start) - 4096,
              "kernel size %#lx smaller than the image",
              bi->kernel.size);
    /* The direct map and the link-address map show the same bytes. */
    const uint8_t *via_direct = phys_to_virt(bi->kernel.phys + (__text_start - __kernel_start));
    KT_ASSERT(memcmp(via_direct, __text_start, 64) == 0,
              "kernel text differs between the direct map and the image map");
    /* The loader's identity map is gone. */
    const uint64_t *pml4 = phys_to_virt(read_cr3() & ~0xffful);
    for (int i = 0; i < 256; i++)
        KT_ASSERT(pml4[i] == 0, "PML4[%d] still maps user space", i);
}

KTEST(bootinfo_initrd)
{
    const struct boot_info *bi = boot_info;
    KT_ASSERT(bi->initrd.phys != 0 && bi->initrd.size >= 6,
              "no initrd handed over (size %lu)", bi->initrd.size);
    KT_ASSERT(memcmp(phys_to_virt(bi->initrd.phys), "070701", 6) == 0,
              "initrd does not start with the cpio newc magic 070701");
}

KTEST(bootinfo_acpi_rsdp)
{
    const struct boot_info *bi = boot_info;
    KT_ASSERT(bi->acpi_rsdp != 0, "no RSDP");
    KT_ASSERT(memcmp(phys_to_virt(bi->acpi_rsdp), "RSD PTR ", 8) == 0,
              "RSDP signature is not 'RSD PTR '");
    /* ACPI 1.0 checksum: the first 20 bytes sum to 0 mod 256. */
    const uint8_t *r = phys_to_virt(bi->acpi_rsdp);
    uint8_t sum = 0;
    for (int i = 0; i < 20; i++)
        sum += r[i];
    KT_ASSERT(sum == 0, "RSDP checksum %u", sum);
}
