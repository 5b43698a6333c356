/* The PCI drivers' probe functions, for the table in kernel/block/blkdev.c. */
#ifndef KERNEL_DRIVERS_DRIVERS_H
#define KERNEL_DRIVERS_DRIVERS_H

struct pci_dev;

int virtio_blk_probe(struct pci_dev *pd);   /* kernel/drivers/virtio_blk.c */
int nvme_probe(struct pci_dev *pd);         /* kernel/drivers/nvme.c */

#endif
