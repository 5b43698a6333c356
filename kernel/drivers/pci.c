/*
 * PCI enumeration through the legacy configuration mechanism (the two
 * ports 0xCF8 and 0xCFC): write the address of a 32-bit register of
 * configuration space (enable bit, bus, device, function, offset) to
 * 0xCF8, then read or write it at 0xCFC.  Every bus, device and function
 * is tried; a vendor id of 0xffff means nobody answered.
 *
 * Invariant: the list of struct pci_dev holds each function found once,
 * in bus order; each BAR's size was measured with decoding switched off
 * (so the all-ones probe never claims addresses on the bus) and the
 * original value written back.
 *
 * ECAM (memory-mapped configuration, 4 KiB per function) needs the ACPI
 * MCFG table to find its base; reading it is later work.
 */
#include <kernel/pci.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/time.h>
#include <kernel/x86.h>
#include <mm/slab.h>
#include <mm/vmalloc.h>

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA    0xcfc

static struct pci_dev *devices, **devices_tail = &devices;
static bool scanned;

static uint32_t cfg_addr(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
    return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)(dev & 31) << 11 |
           (uint32_t)(fn & 7) << 8 | (off & 0xfc);
}

static uint32_t raw_read32(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
    outl(PCI_CONFIG_ADDRESS, cfg_addr(bus, dev, fn, off));
    return inl(PCI_CONFIG_DATA);
}

uint32_t pci_read32(const struct pci_dev *pd, uint8_t off)
{
    return raw_read32(pd->bus, pd->dev, pd->fn, off);
}

uint16_t pci_read16(const struct pci_dev *pd, uint8_t off)
{
    return (uint16_t)(pci_read32(pd, off) >> ((off & 2) * 8));
}

uint8_t pci_read8(const struct pci_dev *pd, uint8_t off)
{
    return (uint8_t)(pci_read32(pd, off) >> ((off & 3) * 8));
}

void pci_write32(const struct pci_dev *pd, uint8_t off, uint32_t v)
{
    outl(PCI_CONFIG_ADDRESS, cfg_addr(pd->bus, pd->dev, pd->fn, off));
    outl(PCI_CONFIG_DATA, v);
}

/* Read-modify-write of the dword: the legacy mechanism has 32-bit
 * registers only through these two ports. */
void pci_write16(const struct pci_dev *pd, uint8_t off, uint16_t v)
{
    uint32_t old = pci_read32(pd, off);
    unsigned shift = (off & 2) * 8;
    pci_write32(pd, off, (old & ~(0xffffu << shift)) | (uint32_t)v << shift);
}

void pci_name(const struct pci_dev *pd, char *buf, size_t size)
{
    snprintf(buf, size, "%02x:%02x.%u", pd->bus, pd->dev, pd->fn);
}

/* Size the BARs of a type-0 header.  Decoding is off meanwhile. */
static void size_bars(struct pci_dev *pd)
{
    uint16_t cmd = pci_read16(pd, PCI_COMMAND);
    pci_write16(pd, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
    for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
        uint8_t off = (uint8_t)(PCI_BAR0 + 4 * i);
        uint32_t orig = pci_read32(pd, off);
        pci_write32(pd, off, 0xffffffffu);
        uint32_t probe = pci_read32(pd, off);
        pci_write32(pd, off, orig);
        struct pci_bar *b = &pd->bar[i];
        if (probe == 0 || probe == 0xffffffffu)
            continue;               /* not implemented */
        if (orig & 1) {             /* I/O space */
            b->io = true;
            b->base = orig & ~3u;
            b->size = (uint16_t)~(probe & ~3u) + 1u;
            continue;
        }
        uint64_t mask = probe & ~0xfu;
        b->base = orig & ~0xfu;
        if (((orig >> 1) & 3) == 2 && i + 1 < PCI_MAX_BARS) {   /* 64-bit */
            uint8_t hi_off = (uint8_t)(off + 4);
            uint32_t hi_orig = pci_read32(pd, hi_off);
            pci_write32(pd, hi_off, 0xffffffffu);
            uint32_t hi_probe = pci_read32(pd, hi_off);
            pci_write32(pd, hi_off, hi_orig);
            mask |= (uint64_t)hi_probe << 32;
            b->base |= (uint64_t)hi_orig << 32;
            b->is64 = true;
        } else {
            mask |= 0xffffffff00000000ul;
        }
        b->size = ~mask + 1;
        if (b->is64)
            i++;                    /* the upper half took the next slot */
    }
    pci_write16(pd, PCI_COMMAND, cmd);
}

static void add_function(uint8_t bus, uint8_t dev, uint8_t fn, uint32_t id)
{
    struct pci_dev *pd = kmalloc(sizeof(*pd), GFP_KERNEL);
    if (!pd) {
        printk("pci: no memory for %02x:%02x.%u, left out\n", bus, dev, fn);
        return;
    }
    memset(pd, 0, sizeof(*pd));
    pd->bus = bus;
    pd->dev = dev;
    pd->fn = fn;
    pd->vendor = (uint16_t)id;
    pd->device = (uint16_t)(id >> 16);
    uint32_t cr = pci_read32(pd, PCI_CLASS_REVISION);
    pd->revision = (uint8_t)cr;
    pd->prog_if = (uint8_t)(cr >> 8);
    pd->subclass = (uint8_t)(cr >> 16);
    pd->class_code = (uint8_t)(cr >> 24);
    pd->header_type = pci_read8(pd, PCI_HEADER_TYPE) & 0x7f;
    if (pd->header_type == 0)
        size_bars(pd);
    *devices_tail = pd;
    devices_tail = &pd->next;

    char bars[96] = "";
    size_t at = 0;
    for (unsigned i = 0; i < PCI_MAX_BARS && at < sizeof(bars); i++) {
        const struct pci_bar *b = &pd->bar[i];
        if (!b->size)
            continue;
        int n = snprintf(bars + at, sizeof(bars) - at, " BAR%u %s %#lx+%#lx", i,
                         b->io ? "io" : b->is64 ? "mem64" : "mem", b->base, b->size);
        if (n < 0)
            break;
        at += (size_t)n;
    }
    printk("pci: %02x:%02x.%u %04x:%04x class %02x%02x%02x%s\n", bus, dev, fn,
           pd->vendor, pd->device, pd->class_code, pd->subclass, pd->prog_if, bars);
}

void pci_scan(void)
{
    if (scanned)
        return;
    scanned = true;
    unsigned found = 0;
    for (unsigned bus = 0; bus < 256; bus++) {
        for (uint8_t dev = 0; dev < 32; dev++) {
            uint32_t id = raw_read32((uint8_t)bus, dev, 0, PCI_VENDOR_ID);
            if ((id & 0xffff) == 0xffff)
                continue;
            uint8_t ht = (uint8_t)(raw_read32((uint8_t)bus, dev, 0, 0x0c) >> 16);
            unsigned nfn = (ht & 0x80) ? 8 : 1;     /* multi-function device */
            for (uint8_t fn = 0; fn < nfn; fn++) {
                if (fn)
                    id = raw_read32((uint8_t)bus, dev, fn, PCI_VENDOR_ID);
                if ((id & 0xffff) == 0xffff)
                    continue;
                add_function((uint8_t)bus, dev, fn, id);
                found++;
            }
        }
    }
    printk("pci: %u functions found (legacy configuration ports 0xcf8/0xcfc)\n", found);
}

struct pci_dev *pci_first(void)
{
    return devices;
}

static bool matches(const struct pci_driver *d, const struct pci_dev *pd)
{
    if (d->vendor != PCI_ANY_ID)
        return d->vendor == pd->vendor &&
               (d->device == PCI_ANY_ID || d->device == pd->device);
    return d->class_code == pd->class_code && d->subclass == pd->subclass &&
           d->prog_if == pd->prog_if;
}

void pci_probe_drivers(const struct pci_driver *drivers, size_t n)
{
    for (struct pci_dev *pd = devices; pd; pd = pd->next) {
        for (size_t i = 0; i < n; i++) {
            if (!matches(&drivers[i], pd))
                continue;
            char name[16];
            pci_name(pd, name, sizeof(name));
            int r = drivers[i].probe(pd);
            if (r)
                printk("pci: %s: %s gave up (error %d), the device is left alone\n",
                       name, drivers[i].name, r);
            break;
        }
    }
}

void *pci_map_bar(struct pci_dev *pd, unsigned i)
{
    char name[16];
    pci_name(pd, name, sizeof(name));
    if (i >= PCI_MAX_BARS || !pd->bar[i].size) {
        printk("pci: %s: BAR%u is not implemented\n", name, i);
        return NULL;
    }
    struct pci_bar *b = &pd->bar[i];
    if (b->io) {
        printk("pci: %s: BAR%u is an I/O port range, not memory; refused\n", name, i);
        return NULL;
    }
    if (!b->virt) {
        b->virt = ioremap(b->base, b->size);
        if (!b->virt)
            printk("pci: %s: cannot map BAR%u (%#lx+%#lx)\n", name, i, b->base, b->size);
    }
    return b->virt;
}

void pci_enable_device(struct pci_dev *pd)
{
    uint16_t cmd = pci_read16(pd, PCI_COMMAND);
    cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE;
    pci_write16(pd, PCI_COMMAND, cmd);
}

uint8_t pci_find_cap(const struct pci_dev *pd, uint8_t id, uint8_t from)
{
    if (!(pci_read16(pd, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return 0;
    uint8_t at = from ? pci_read8(pd, (uint8_t)(from + 1)) : pci_read8(pd, PCI_CAPABILITY_LIST);
    /* 48 capabilities at most fit in the 192 bytes after the header. */
    for (int guard = 0; guard < 48 && at >= 0x40; guard++) {
        at &= 0xfc;
        if (pci_read8(pd, at) == id)
            return at;
        at = pci_read8(pd, (uint8_t)(at + 1));
    }
    return 0;
}

void pci_timeout_start(struct pci_timeout *t, unsigned ms)
{
    uint64_t now = now_ns();
    t->end_ns = now ? now + (uint64_t)ms * 1000000 : 0;
    t->spins = 0;
    t->max_spins = (uint64_t)ms * 20000;
}

bool pci_timeout_expired(struct pci_timeout *t)
{
    cpu_relax();
    if (t->end_ns)
        return now_ns() > t->end_ns;
    return ++t->spins > t->max_spins;
}
