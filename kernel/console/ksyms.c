/*
 * Symbol lookup over the table that tools/mksyms.py generates into the
 * .ksyms section: a count, then (address, name offset) pairs sorted by
 * address, then the NUL-terminated names.  The first link of the kernel
 * carries an empty table (kernel/console/ksyms_empty.S); the second carries the
 * real one, at the end of the image so no other address moves.
 */
#include <kernel/ksyms.h>
#include <kernel/string.h>

struct ksym_entry {
    uint64_t addr;
    uint64_t name_off;
};

extern const uint64_t ksyms_count;
extern const struct ksym_entry ksyms_entries[];
extern const char ksyms_names[];
extern const char __text_start[], __text_end[];

size_t ksym_count(void)
{
    return ksyms_count;
}

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
    if (addr < (uint64_t)__text_start || addr >= (uint64_t)__text_end ||
        ksyms_count == 0)
        return NULL;
    size_t lo = 0, hi = ksyms_count; /* find the last entry <= addr */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (ksyms_entries[mid].addr <= addr)
            lo = mid;
        else
            hi = mid;
    }
    if (ksyms_entries[lo].addr > addr)
        return NULL;
    *offset = addr - ksyms_entries[lo].addr;
    return ksyms_names + ksyms_entries[lo].name_off;
}

uint64_t ksym_address(const char *name)
{
    for (size_t i = 0; i < ksyms_count; i++)
        if (strcmp(ksyms_names + ksyms_entries[i].name_off, name) == 0)
            return ksyms_entries[i].addr;
    return 0;
}
