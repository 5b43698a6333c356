/*
 * CRC-32 (include/kernel/crc32.h), a byte at a time through a table of
 * 256 entries, built from the polynomial on first use.
 * Invariant: table[b] is the CRC register after shifting the byte b
 * through the reflected polynomial 0xEDB88320 eight times; the running
 * value is inverted on entry and exit, so that a CRC can be continued
 * over several buffers.
 */
#include <kernel/crc32.h>

static uint32_t table[256];
static int table_ready;

static void build_table(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = b;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (c & 1 ? 0xedb88320u : 0);
        table[b] = c;
    }
    table_ready = 1;
}

uint32_t crc32(uint32_t crc, const void *buf, size_t len)
{
    if (!table_ready)
        build_table();
    const uint8_t *p = buf;
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = (crc >> 8) ^ table[(crc ^ p[i]) & 0xff];
    return ~crc;
}
