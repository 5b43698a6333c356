/*
 * A disk in memory for the swap tests (tests/kernel/test_swap.c,
 * test_shmem_swap.c): a block device whose sectors are bd->priv, an
 * image the test allocates, so that a test can put a swap area on it,
 * count what was written and read every byte back without a real disk.
 */
#ifndef TESTS_KERNEL_RAMDISK_H
#define TESTS_KERNEL_RAMDISK_H

#include <kernel/blkdev.h>
#include <kernel/string.h>
#include <mm/page.h>

static int ram_rw(struct block_device *bd, uint64_t sector, uint64_t pa, uint32_t count,
                  bool write)
{
    uint8_t *img = (uint8_t *)bd->priv + sector * SECTOR_SIZE, *mem = phys_to_virt(pa);
    if (write)
        memcpy(img, mem, (size_t)count * SECTOR_SIZE);
    else
        memcpy(mem, img, (size_t)count * SECTOR_SIZE);
    return 0;
}

static const struct block_ops ram_ops = { .rw = ram_rw };

#endif
