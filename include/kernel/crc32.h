/*
 * CRC-32 as GPT, zip and Ethernet use it (polynomial 0x04C11DB7, bits
 * reflected, initial value and final xor 0xFFFFFFFF): kernel/lib/crc32.c.
 */
#ifndef KERNEL_CRC32_H
#define KERNEL_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: crc32(0, ...) starts one; crc32(crc32(0, a, n), b, m)
 * is the CRC of a followed by b. */
uint32_t crc32(uint32_t crc, const void *buf, size_t len);

#endif
