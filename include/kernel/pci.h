/*
 * The PCI bus (kernel/drivers/pci.c; docs/block.md): every function of
 * every device on every bus, found through the legacy configuration
 * mechanism (I/O ports 0xCF8/0xCFC), and the drivers that claim them.
 *
 * The memory-mapped configuration space (ECAM) would need the ACPI MCFG
 * table; it is not read yet, so only the first 256 bytes of each
 * function's configuration space are reachable (enough for the standard
 * header and the capability list that virtio and NVMe use).
 */
#ifndef KERNEL_PCI_H
#define KERNEL_PCI_H

#include <kernel/types.h>

#define PCI_VENDOR_ID       0x00
#define PCI_DEVICE_ID       0x02
#define PCI_COMMAND         0x04
#define PCI_STATUS          0x06
#define PCI_CLASS_REVISION  0x08
#define PCI_HEADER_TYPE     0x0e
#define PCI_BAR0            0x10
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE  0x3c

#define PCI_COMMAND_IO          0x0001
#define PCI_COMMAND_MEMORY      0x0002
#define PCI_COMMAND_MASTER      0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_CAP_LIST     0x0010

#define PCI_CAP_ID_VNDR 0x09    /* vendor specific (virtio's structures) */

#define PCI_MAX_BARS 6

struct pci_bar {
    uint64_t base;      /* physical address (memory) or port (I/O) */
    uint64_t size;      /* 0: not implemented */
    bool io;            /* an I/O port range, not memory */
    bool is64;          /* a 64-bit memory BAR (it uses the next slot too) */
    void *virt;         /* the ioremap'ed mapping, after pci_map_bar */
};

struct pci_dev {
    uint8_t bus, dev, fn;
    uint16_t vendor, device;
    uint8_t class_code, subclass, prog_if, revision;
    uint8_t header_type;
    struct pci_bar bar[PCI_MAX_BARS];
    struct pci_dev *next;
};

/* A driver: match on vendor/device (device 0xffff: any) or, when vendor
 * is 0xffff, on the class triple.  probe returns 0 when it took the
 * device, a negative errno when it gave up (the boot goes on). */
struct pci_driver {
    const char *name;
    uint16_t vendor, device;
    uint8_t class_code, subclass, prog_if;
    int (*probe)(struct pci_dev *pd);
};
#define PCI_ANY_ID 0xffff

uint32_t pci_read32(const struct pci_dev *pd, uint8_t off);
uint16_t pci_read16(const struct pci_dev *pd, uint8_t off);
uint8_t pci_read8(const struct pci_dev *pd, uint8_t off);
void pci_write32(const struct pci_dev *pd, uint8_t off, uint32_t v);
void pci_write16(const struct pci_dev *pd, uint8_t off, uint16_t v);

/* Enumerate the bus once (a log line per function found); idempotent. */
void pci_scan(void);
/* The functions found, in bus order. */
struct pci_dev *pci_first(void);
/* Hand every function to the first driver of drivers[] that matches. */
void pci_probe_drivers(const struct pci_driver *drivers, size_t n);

/* Map memory BAR i uncached (ioremap); its virtual address, or NULL with
 * a log line (an I/O BAR, an empty one, no room). */
void *pci_map_bar(struct pci_dev *pd, unsigned i);
/* Memory decoding and bus mastering on, legacy INTx off (we poll). */
void pci_enable_device(struct pci_dev *pd);
/* Offset of the first capability with this id at or after `from` (0: from
 * the start of the list), or 0 when none.  The walk is bounded (a looping
 * list ends it). */
uint8_t pci_find_cap(const struct pci_dev *pd, uint8_t id, uint8_t from);

/* A deadline for polling a device: the TSC clock when it runs, else a
 * count of polls (before the clock is calibrated).  pci_timeout_expired
 * also relaxes the CPU for a moment (pause). */
struct pci_timeout {
    uint64_t end_ns, spins, max_spins;
};
void pci_timeout_start(struct pci_timeout *t, unsigned ms);
bool pci_timeout_expired(struct pci_timeout *t);

/* "00:03.0" into buf (at least 8 bytes). */
void pci_name(const struct pci_dev *pd, char *buf, size_t size);

#endif
