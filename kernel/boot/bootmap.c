/*
 * The firmware memory map, printed as the loader handed it over: one row
 * per descriptor in firmware order, then the totals.  The map is walked
 * by the descriptor size the firmware reported, never by sizeof, and its
 * shape is checked first (bootmap_invalid).  Turning it into a clean list
 * of usable ranges is mm/'s job; this file only shows it.
 */
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <mm/memmap.h>

/* A map larger than this is not believable (a real one has < 1000). */
#define BOOTMAP_MAX_DESC 65536

const char *efi_type_name(uint32_t type)
{
    static const char *const n[] = {
        "reserved", "loader code", "loader data", "boot services code",
        "boot services data", "runtime code", "runtime data", "conventional",
        "unusable", "ACPI reclaim", "ACPI NVS", "MMIO", "MMIO port space",
        "PAL code", "persistent", "unaccepted",
    };
    switch (type) {
    case BOOT_MEM_KERNEL: return "mmk kernel";
    case BOOT_MEM_INITRD: return "mmk initrd";
    case BOOT_MEM_BOOTINFO: return "mmk boot info";
    case BOOT_MEM_PAGETABLE: return "mmk page tables";
    }
    if (type < ARRAY_SIZE(n))
        return n[type];
    return type >= 0x80000000u ? "OS-defined" : "unknown";
}

void format_size(char *buf, size_t size, uint64_t bytes)
{
    static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    int u = 0;
    uint64_t whole = bytes, frac = 0;
    while (whole >= 1024 && u < 4) {
        frac = whole % 1024;
        whole /= 1024;
        u++;
    }
    if (u == 0 || frac == 0)
        snprintf(buf, size, "%lu %s", whole, unit[u]);
    else
        snprintf(buf, size, "%lu.%lu %s", whole,
                 (frac * 10 / 1024), unit[u]);
}

const char *bootmap_invalid(const struct boot_info *bi)
{
    const struct boot_mmap *m = &bi->mmap;
    if (m->phys == 0 || m->size == 0)
        return "the memory map is empty";
    if (m->desc_size < sizeof(struct efi_mem_desc) || m->desc_size % 8)
        return "the descriptor size is smaller than a UEFI descriptor or misaligned";
    if (m->size % m->desc_size)
        return "the map size is not a multiple of the descriptor size";
    if (m->size / m->desc_size > BOOTMAP_MAX_DESC)
        return "the map has an unbelievable number of descriptors";
    return NULL;
}

static void attr_words(uint64_t a, char *buf, size_t size)
{
    static const struct { uint64_t bit; const char *name; } w[] = {
        { EFI_MA_UC, "UC" }, { EFI_MA_WC, "WC" }, { EFI_MA_WT, "WT" },
        { EFI_MA_WB, "WB" }, { EFI_MA_UCE, "UCE" }, { EFI_MA_WP, "WP" },
        { EFI_MA_RP, "RP" }, { EFI_MA_XP, "XP" }, { EFI_MA_NV, "NV" },
        { EFI_MA_MORE_RELIABLE, "MR" }, { EFI_MA_RO, "RO" },
        { EFI_MA_SP, "SP" }, { EFI_MA_RUNTIME, "RUNTIME" },
    };
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < ARRAY_SIZE(w); i++)
        if ((a & w[i].bit) && n < size)
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? " " : "", w[i].name);
}

void bootmap_print(const struct boot_info *bi)
{
    const char *why = bootmap_invalid(bi);
    if (why) {
        printk("memory map: unusable: %s\n", why);
        return;
    }
    const struct boot_mmap *m = &bi->mmap;
    uint64_t n = m->size / m->desc_size;
    uint64_t usable = 0, handoff = 0, acpi = 0, other = 0;
    char sz[24], attrs[64];

    printk("Firmware memory map: %lu entries, descriptor size %lu, version %u\n",
           n, m->desc_size, m->desc_version);
    printk("  %-18s  %-18s  %-18s  %10s  %s\n", "type", "start", "end", "size",
           "attributes");
    for (uint64_t i = 0; i < n; i++) {
        const struct efi_mem_desc *d = phys_to_virt(m->phys + i * m->desc_size);
        uint64_t bytes = d->num_pages * 4096;
        format_size(sz, sizeof(sz), bytes);
        attr_words(d->attribute, attrs, sizeof(attrs));
        printk("  %-18s  0x%016lx  0x%016lx  %10s  %s\n", efi_type_name(d->type),
               d->phys_start,
               (d->phys_start + bytes), sz, attrs);
        uint32_t kind = memmap_kind(d->type); /* the rules of mm/memmap.c */
        if (kind == MEM_USABLE)
            usable += bytes;
        else if (kind >= MEM_BOOT_KERNEL && kind <= MEM_BOOT_TABLES)
            handoff += bytes;
        else if (kind == MEM_ACPI_RECLAIM)
            acpi += bytes;
        else if (d->type != EFI_MEMORY_MAPPED_IO &&
                 d->type != EFI_MEMORY_MAPPED_IO_PORT_SPACE)
            other += bytes;
    }
    format_size(sz, sizeof(sz), usable);
    printk("Usable memory: %s (%lu KiB: conventional, boot services, loader)\n", sz,
           (usable / 1024));
    format_size(sz, sizeof(sz), handoff);
    printk("  held by the loader hand-off (kernel, initrd, boot info, tables): %s\n", sz);
    format_size(sz, sizeof(sz), acpi);
    printk("  ACPI reclaimable: %s\n", sz);
    format_size(sz, sizeof(sz), other);
    printk("  reserved, runtime services, NVS and other: %s\n", sz);
    format_size(sz, sizeof(sz), usable + handoff + acpi);
    printk("Total usable memory: %s\n", sz);
}
