/*
 * The GUID partition table parser (kernel/block/gpt.c; docs/block.md).
 * Pure code over a "read one sector" function, so that host tests and a
 * fuzz target can feed it any bytes; the block layer (blkdev.c) calls it
 * for every whole disk it registers.
 */
#ifndef KERNEL_GPT_H
#define KERNEL_GPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GPT_SECTOR 512u
#define GPT_MAX_PARTS 128u              /* used entries taken from one table */
#define GPT_MAX_ARRAY_SECTORS 2048u     /* the entry array: 1 MiB at most */

struct gpt_part {
    unsigned index;         /* the entry's number in the array, from 1 */
    uint64_t first, last;   /* LBAs, inclusive */
    uint64_t attrs;
    uint8_t type[16];       /* partition type GUID (on-disk byte order) */
    uint8_t uuid[16];       /* unique partition GUID (PARTUUID) */
};

struct gpt_table {
    uint8_t disk_guid[16];
    uint64_t first_usable, last_usable;
    bool from_backup;       /* the primary header was refused (why says why) */
    unsigned n;
    struct gpt_part part[GPT_MAX_PARTS];
};

/* Read sector lba (GPT_SECTOR bytes) into buf: 0 or a negative errno. */
typedef int (*gpt_read_t)(void *ctx, uint64_t lba, void *buf);

/*
 * Read the table of a disk of nr_sectors sectors.  The primary header
 * (LBA 1) is used when every field checks out, else the backup (the last
 * LBA).  Returns the number of used entries (0..GPT_MAX_PARTS) in t;
 * -ENOENT when neither header has the signature (no GPT: not an error);
 * -EINVAL when the table is refused, the reason in why; -EIO (or read's
 * error) when a sector could not be read.  When the backup was used,
 * t->from_backup is set and why holds the primary's problem.
 */
int gpt_parse(uint64_t nr_sectors, gpt_read_t read, void *ctx, struct gpt_table *t,
              char *why, size_t why_size);

/* A GUID in Linux's text form, lower case (36 characters and a NUL). */
void gpt_guid_to_text(const uint8_t g[16], char out[37]);
/* Parse that form (either case): 0 or -EINVAL. */
int gpt_guid_from_text(const char *s, uint8_t g[16]);

#endif
