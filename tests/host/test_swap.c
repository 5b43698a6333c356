/*
 * Swap areas, their header and their slots (mm/swap_header.c, swapfile.c,
 * swapon.c, swap_slots.c, swap_check.c; docs/swap.md), over fake block
 * devices: an image in host memory behind blk_read / blk_write /
 * blk_rw_page, which counts every write so that a test can say "nothing
 * was written".  The validator swap_check runs after every step, and a
 * model of every slot's count (one array per area) is compared with the
 * map after every step of the random cases.
 *
 * The header cases use a writer that lays the fields out as mkswap does
 * and, when util-linux's mkswap is installed, mkswap's own output.
 */
#include "htest.h"
#include "mm_host.h"

#include <stdlib.h>
#include <unistd.h>

#include <kernel/blkdev.h>
#include <kernel/errno.h>
#include <mm/gfp.h>
#include <mm/swap.h>
#include <mm/vmalloc.h>
#include <mm/zone.h>

#define MiB (1ul << 20)
#define PG 4096u
#define SPP (PG / SECTOR_SIZE)   /* sectors per page */

/* ---- a fake block device ----------------------------------------------------------- */

struct fake_disk {
    struct block_device bd;
    uint8_t *img;
    uint64_t writes, reads;
};

static struct fake_disk *to_fake(struct block_device *bd)
{
    return (struct fake_disk *)bd;
}

/* Sector numbers of a partition are relative to it: find the image. */
static uint8_t *where(struct block_device *bd, uint64_t sector, uint32_t count, int *err)
{
    *err = 0;
    if (count == 0 || sector >= bd->nr_sectors || count > bd->nr_sectors - sector) {
        *err = -EINVAL;
        return NULL;
    }
    struct block_device *disk = bd->whole ? bd->whole : bd;
    return to_fake(disk)->img + (bd->start + sector) * SECTOR_SIZE;
}

int blk_read(struct block_device *bd, uint64_t sector, void *buf, uint32_t count)
{
    int err;
    uint8_t *p = where(bd, sector, count, &err);
    if (p) {
        memcpy(buf, p, (size_t)count * SECTOR_SIZE);
        to_fake(bd->whole ? bd->whole : bd)->reads++;
    }
    return err;
}

int blk_write(struct block_device *bd, uint64_t sector, const void *buf, uint32_t count)
{
    int err;
    uint8_t *p = where(bd, sector, count, &err);
    if (p) {
        memcpy(p, buf, (size_t)count * SECTOR_SIZE);
        to_fake(bd->whole ? bd->whole : bd)->writes++;
    }
    return err;
}

int blk_rw_page(struct block_device *bd, uint64_t sector, uint64_t pa, bool write)
{
    void *buf = mm_host_arena() + pa;
    return write ? blk_write(bd, sector, buf, SPP) : blk_read(bd, sector, buf, SPP);
}

/* The map's memory: plain host memory (ASan sees leaks). */
void *vzalloc(size_t size)
{
    return calloc(1, size ? size : 1);
}

void vfree(const void *addr)
{
    free((void *)addr);
}

static struct fake_disk *disk_new(const char *name, uint64_t pages)
{
    struct fake_disk *d = calloc(1, sizeof(*d));
    d->img = calloc(pages ? pages : 1, PG);
    snprintf(d->bd.name, sizeof(d->bd.name), "%s", name);
    d->bd.nr_sectors = pages * SPP;
    d->bd.dma_limit = ~0ul;
    return d;
}

static void disk_free(struct fake_disk *d)
{
    free(d->img);
    free(d);
}

/* ---- headers as mkswap writes them -------------------------------------------------- */

static void put32(uint8_t *p, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static void mkswap(uint8_t *page, uint32_t last_page, uint32_t nbad, const uint32_t *bad,
                   const char *label)
{
    memset(page, 0, PG);
    put32(page, SWAP_HDR_VERSION_OFF, 1);
    put32(page, SWAP_HDR_LAST_PAGE_OFF, last_page);
    put32(page, SWAP_HDR_NR_BAD_OFF, nbad);
    for (uint32_t i = 0; i < 16; i++)
        page[SWAP_HDR_UUID_OFF + i] = (uint8_t)(0xa0 + i);
    if (label)
        memcpy(page + SWAP_HDR_LABEL_OFF, label, strnlen(label, 16));
    for (uint32_t i = 0; i < nbad; i++)
        put32(page, SWAP_HDR_BADPAGES_OFF + 4 * i, bad[i]);
    memcpy(page + SWAP_HDR_MAGIC_OFF, SWAP_HDR_MAGIC, 10);
}

/* ---- checks ------------------------------------------------------------------------- */

static char why[256];

static void check(void)
{
    HT_ASSERT(swap_check(why, sizeof(why)) == 0, "swap_check: %s", why);
}

static const struct host_ram ram[] = { { 1 * MiB, 16 * MiB } };

static void setup(void)
{
    mm_host_init(16 * MiB / PG, ram, HT_COUNT(ram));
    /* A failed case may have left areas behind: start clean. */
    for (unsigned t = 0; t < MAX_SWAPFILES; t++)
        if (swap_info[t].flags & SWP_USED) {
            for (uint64_t off = 1; off < swap_info[t].max; off++)
                if (swap_info[t].swap_map[off] != SWAP_MAP_BAD)
                    swap_info[t].swap_map[off] = 0;
            swap_info[t].inuse_pages = 0;
            swap_deactivate(t);
        }
    total_swap_pages = nr_swap_pages = 0;
    HT_TRY(check());
    HT_EQ_U(total_swap_pages, 0);
}

/* Every area gone, the counts back at 0, the host arena's frames all free. */
static void teardown(void)
{
    for (unsigned t = 0; t < MAX_SWAPFILES; t++)
        if (swap_info[t].flags & SWP_USED) {
            HT_ASSERT(swap_info[t].inuse_pages == 0, "area %u: %lu slots still used", t,
                      swap_info[t].inuse_pages);
            HT_EQ_U(swap_deactivate(t), 0);
        }
    HT_TRY(check());
    HT_EQ_U(total_swap_pages, 0);
    HT_EQ_U(nr_swap_pages, 0);
    HT_ASSERT(swap_deactivate(0) == -EINVAL, "swapoff of no area");
}

/* ---- the header parser --------------------------------------------------------------- */

static void t_header_good(void)
{
    static uint8_t page[PG];
    struct swap_header_info h;
    uint32_t bad[] = { 7, 3, 99 };
    mkswap(page, 99, 3, bad, "swaplabel");
    HT_ASSERT(swap_header_parse(page, PG, 100, &h, why, sizeof(why)) == 0, "%s", why);
    HT_EQ_U(h.last_page, 99);
    HT_EQ_U(h.nr_badpages, 3);
    HT_EQ_U(h.badpages[0], 7);
    HT_EQ_U(h.badpages[2], 99);
    HT_EQ_STR(h.label, "swaplabel");
    HT_EQ_U(h.uuid[0], 0xa0);
    HT_EQ_U(h.uuid[15], 0xaf);
    /* The smallest area (10 pages), a device larger than the area, a
     * 16-byte label with no NUL, the most bad pages. */
    mkswap(page, 9, 0, NULL, "0123456789abcdef");
    HT_ASSERT(swap_header_parse(page, PG, 1000, &h, why, sizeof(why)) == 0, "%s", why);
    HT_EQ_STR(h.label, "0123456789abcdef");
    uint32_t many[MAX_SWAP_BADPAGES];
    for (uint32_t i = 0; i < MAX_SWAP_BADPAGES; i++)
        many[i] = i + 1;
    mkswap(page, MAX_SWAP_BADPAGES + 1, MAX_SWAP_BADPAGES, many, NULL);
    HT_ASSERT(swap_header_parse(page, PG, MAX_SWAP_BADPAGES + 2, &h, why, sizeof(why)) == 0,
              "%s", why);
    HT_EQ_U(h.nr_badpages, 637);
    HT_EQ_STR(h.label, "");
}

/* util-linux's mkswap, when the host has it: our reading of its header. */
static void t_header_mkswap(void)
{
    char path[] = "/tmp/test_swap_XXXXXX";
    int fd = mkstemp(path);
    HT_ASSERT(fd >= 0, "mkstemp");
    HT_ASSERT(ftruncate(fd, 64 * PG) == 0, "ftruncate");
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "mkswap -L hostswap -U 01234567-89ab-cdef-0123-456789abcdef %s >/dev/null 2>&1",
             path);
    if (system(cmd) != 0) {
        unlink(path);
        fprintf(stderr, "# header_mkswap: no mkswap on this host, case not run\n");
        return;
    }
    static uint8_t page[PG];
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(page, 1, PG, f) : 0;
    if (f)
        fclose(f);
    unlink(path);
    HT_EQ_U(got, PG);
    struct swap_header_info h;
    HT_ASSERT(swap_header_parse(page, PG, 64, &h, why, sizeof(why)) == 0, "%s", why);
    HT_EQ_U(h.last_page, 63);
    HT_EQ_U(h.nr_badpages, 0);
    HT_EQ_STR(h.label, "hostswap");
    HT_EQ_U(h.uuid[0], 0x01);
    HT_EQ_U(h.uuid[1], 0x23);
    HT_EQ_U(h.uuid[15], 0xef);
    /* The device must hold the whole area. */
    HT_ASSERT(swap_header_parse(page, PG, 63, &h, why, sizeof(why)) == -EINVAL, "63 pages");
}

struct hostile {
    const char *name;
    void (*spoil)(uint8_t *page);
    uint64_t dev_pages;
    const char *reason;          /* a piece of the message */
};

static void no_magic(uint8_t *p) { memset(p + SWAP_HDR_MAGIC_OFF, 0, 10); }
static void magic_v0(uint8_t *p) { memcpy(p + SWAP_HDR_MAGIC_OFF, SWAP_HDR_MAGIC_V0, 10); }
static void magic_off(uint8_t *p) { p[SWAP_HDR_MAGIC_OFF + 9] = '3'; }
static void version0(uint8_t *p) { put32(p, SWAP_HDR_VERSION_OFF, 0); }
static void version2(uint8_t *p) { put32(p, SWAP_HDR_VERSION_OFF, 2); }
static void version_be(uint8_t *p) { put32(p, SWAP_HDR_VERSION_OFF, 0x01000000); }
static void tiny(uint8_t *p) { put32(p, SWAP_HDR_LAST_PAGE_OFF, 8); }
static void zero_last(uint8_t *p) { put32(p, SWAP_HDR_LAST_PAGE_OFF, 0); }
static void past_end(uint8_t *p) { put32(p, SWAP_HDR_LAST_PAGE_OFF, 100); }
static void huge_last(uint8_t *p) { put32(p, SWAP_HDR_LAST_PAGE_OFF, 0xffffffff); }
static void nbad_big(uint8_t *p) { put32(p, SWAP_HDR_NR_BAD_OFF, MAX_SWAP_BADPAGES + 1); }
static void nbad_max(uint8_t *p) { put32(p, SWAP_HDR_NR_BAD_OFF, 0xffffffff); }
static void bad_zero(uint8_t *p) { put32(p, SWAP_HDR_NR_BAD_OFF, 1); put32(p, SWAP_HDR_BADPAGES_OFF, 0); }
static void bad_past(uint8_t *p) { put32(p, SWAP_HDR_NR_BAD_OFF, 1); put32(p, SWAP_HDR_BADPAGES_OFF, 100); }
static void bad_twice(uint8_t *p)
{
    put32(p, SWAP_HDR_NR_BAD_OFF, 3);
    put32(p, SWAP_HDR_BADPAGES_OFF, 5);
    put32(p, SWAP_HDR_BADPAGES_OFF + 4, 6);
    put32(p, SWAP_HDR_BADPAGES_OFF + 8, 5);
}
static void all_bad(uint8_t *p)
{
    put32(p, SWAP_HDR_LAST_PAGE_OFF, 9);
    put32(p, SWAP_HDR_NR_BAD_OFF, 9);
    for (uint32_t i = 0; i < 9; i++)
        put32(p, SWAP_HDR_BADPAGES_OFF + 4 * i, i + 1);
}
static void label_ctl(uint8_t *p) { p[SWAP_HDR_LABEL_OFF + 2] = '\n'; }
static void zeros(uint8_t *p) { memset(p, 0, PG); }

static const struct hostile hostile[] = {
    { "no signature", no_magic, 100, "no swap signature" },
    { "zeros", zeros, 100, "no swap signature" },
    { "old signature", magic_v0, 100, "SWAP-SPACE" },
    { "signature typo", magic_off, 100, "no swap signature" },
    { "version 0", version0, 100, "version 0" },
    { "version 2", version2, 100, "version 2" },
    { "other byte order", version_be, 100, "byte order" },
    { "9 pages", tiny, 100, "too small" },
    { "last_page 0", zero_last, 100, "too small" },
    { "past the device", past_end, 100, "past the end" },
    { "last_page huge", huge_last, 100, "past the end" },
    { "device of 9 pages", NULL, 9, "device too small" },
    { "device of 0 pages", NULL, 0, "device too small" },
    { "nr_badpages 638", nbad_big, 100, "nr_badpages" },
    { "nr_badpages ~0", nbad_max, 100, "nr_badpages" },
    { "bad page 0", bad_zero, 100, "page 0" },
    { "bad page past last", bad_past, 100, "past last_page" },
    { "bad page twice", bad_twice, 100, "listed twice" },
    { "every page bad", all_bad, 100, "no usable page" },
    { "label control char", label_ctl, 100, "control character" },
};

/* Each hostile header: refused by the parser with its reason, refused by
 * swap_activate with -EINVAL, nothing written, no area, no count moved. */
static void t_header_hostile(void)
{
    HT_TRY(setup());
    for (size_t i = 0; i < HT_COUNT(hostile); i++) {
        const struct hostile *c = &hostile[i];
        struct fake_disk *d = disk_new("vdx", c->dev_pages);
        static uint8_t page[PG], before[PG];
        mkswap(page, 99, 0, NULL, "lbl");
        if (c->spoil)
            c->spoil(page);
        memcpy(d->img, page, PG);
        memcpy(before, page, PG);
        struct swap_header_info h;
        int r = swap_header_parse(page, PG, c->dev_pages, &h, why, sizeof(why));
        HT_ASSERT(r == -EINVAL, "%s: parse %d", c->name, r);
        HT_ASSERT(strstr(why, c->reason), "%s: reason \"%s\", expected \"%s\"", c->name, why,
                  c->reason);
        char why2[256];
        r = swap_activate(&d->bd, "/dev/vdx", 0, why2, sizeof(why2));
        HT_ASSERT(r == -EINVAL, "%s: swap_activate %d", c->name, r);
        HT_EQ_STR(why2, why);
        HT_ASSERT(d->writes == 0 && memcmp(d->img, before, PG) == 0, "%s: device written",
                  c->name);
        HT_EQ_U(total_swap_pages, 0);
        HT_ASSERT(swap_type_of(&d->bd) == -EINVAL, "%s: an area was made", c->name);
        HT_TRY(check());
        disk_free(d);
    }
    /* Short buffers and unknown flags. */
    static uint8_t page[PG];
    struct swap_header_info h;
    mkswap(page, 99, 0, NULL, NULL);
    HT_ASSERT(swap_header_parse(page, PG - 1, 100, &h, why, sizeof(why)) == -EINVAL, "short");
    HT_ASSERT(swap_header_parse(NULL, PG, 100, &h, why, sizeof(why)) == -EINVAL, "NULL");
    struct fake_disk *d = disk_new("vdx", 100);
    memcpy(d->img, page, PG);
    HT_ASSERT(swap_activate(&d->bd, "/dev/vdx", 0x80000, why, sizeof(why)) == -EINVAL, "flags");
    HT_EQ_U(d->writes, 0);
    disk_free(d);
    HT_TRY(teardown());
}

/* ---- areas --------------------------------------------------------------------------- */

/* A formatted disk of `pages` pages with these bad pages; activated with
 * flags (the area's type in *type). */
static struct fake_disk *area_new(const char *name, uint64_t pages, uint32_t nbad,
                                  const uint32_t *bad, unsigned flags, int *type)
{
    struct fake_disk *d = disk_new(name, pages);
    mkswap(d->img, (uint32_t)pages - 1, nbad, bad, name);
    char path[32];
    snprintf(path, sizeof(path), "/dev/%s", name);
    *type = swap_activate(&d->bd, path, flags, why, sizeof(why));
    return d;
}

static void t_activate(void)
{
    HT_TRY(setup());
    int t;
    uint32_t bad[] = { 5, 300 };
    struct fake_disk *d = area_new("vda", 1000, 2, bad, 0, &t);
    HT_ASSERT(t == 0, "swap_activate: %d %s", t, why);
    HT_EQ_U(d->writes, 0);
    HT_EQ_U(d->reads, 1);
    HT_TRY(check());
    const struct swap_info_struct *si = &swap_info[0];
    HT_EQ_U(si->max, 1000);
    HT_EQ_U(si->pages, 997);
    HT_EQ_U(si->swap_map[5], SWAP_MAP_BAD);
    HT_EQ_U(si->swap_map[300], SWAP_MAP_BAD);
    HT_EQ_U(si->prio, (uint64_t)-1);
    HT_EQ_STR(si->label, "vda");
    HT_EQ_U(total_swap_pages, 997);
    HT_EQ_U(nr_swap_pages, 997);
    char buf[512];
    swaps_show(buf, sizeof(buf));
    HT_EQ_STR(buf, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                   "/dev/vda                                partition\t3988\t\t0\t\t-1\n");
    /* meminfo shows the same, in kB, between Cached and Mapped. */
    meminfo_show(buf, sizeof(buf));
    const char *tot = strstr(buf, "SwapTotal:"), *fr = strstr(buf, "SwapFree:");
    HT_ASSERT(tot && fr && strstr(buf, "Cached:") < tot && fr < strstr(buf, "Mapped:"),
              "meminfo: %s", buf);
    HT_ASSERT(strncmp(tot, "SwapTotal:          3988 kB\n", 28) == 0, "%.30s", tot);
    HT_ASSERT(strncmp(fr, "SwapFree:           3988 kB\n", 28) == 0, "%.30s", fr);
    /* Busy: the same device again, and a partition of it. */
    HT_ASSERT(swap_activate(&d->bd, "/dev/vda", 0, why, sizeof(why)) == -EBUSY, "again");
    struct block_device part = d->bd;
    snprintf(part.name, sizeof(part.name), "vda1");
    part.whole = &d->bd;
    part.start = 0;
    HT_ASSERT(swap_activate(&part, "/dev/vda1", 0, why, sizeof(why)) == -EBUSY, "partition");
    HT_EQ_U(d->writes, 0);
    HT_TRY(check());
    HT_EQ_U(swap_deactivate(0), 0);
    HT_EQ_U(total_swap_pages, 0);
    swaps_show(buf, sizeof(buf));
    HT_EQ_STR(buf, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
    HT_TRY(teardown());
    disk_free(d);
}

/* A partition area: sectors relative to the partition. */
static void t_partition(void)
{
    HT_TRY(setup());
    struct fake_disk *d = disk_new("vdb", 200);
    struct block_device part = { 0 };
    snprintf(part.name, sizeof(part.name), "vdb2");
    part.whole = &d->bd;
    part.start = 50 * SPP;
    part.nr_sectors = 100 * SPP;
    part.dma_limit = ~0ul;
    mkswap(d->img + 50 * PG, 99, 0, NULL, NULL);
    int t = swap_activate(&part, "/dev/vdb2", 0, why, sizeof(why));
    HT_ASSERT(t == 0, "%d %s", t, why);
    HT_EQ_U(swap_info[0].pages, 99);
    /* The whole disk is busy now. */
    HT_ASSERT(swap_activate(&d->bd, "/dev/vdb", 0, why, sizeof(why)) == -EBUSY, "disk");
    /* A page written to slot 1 lands at the partition's page 1. */
    swp_entry_t e = get_swap_page();
    HT_EQ_U(swp_offset(e), 1);
    void *frame = get_zeroed_page(GFP_KERNEL);
    memset(frame, 0x5a, PG);
    HT_EQ_U(swap_writepage(e, (uint64_t)((uint8_t *)frame - mm_host_arena())), 0);
    HT_EQ_U(d->img[51 * PG], 0x5a);
    HT_EQ_U(d->img[51 * PG + PG - 1], 0x5a);
    HT_EQ_U(d->img[52 * PG], 0);
    HT_EQ_U(memcmp(d->img + 50 * PG + SWAP_HDR_MAGIC_OFF, SWAP_HDR_MAGIC, 10), 0);
    HT_EQ_U(swap_free(e), 0);
    free_page(frame);
    HT_TRY(teardown());
    disk_free(d);
}

/* Slots through the page path: written and read back; nothing but an
 * allocated slot is ever touched, the header never. */
static void t_readwrite(void)
{
    HT_TRY(setup());
    int t;
    struct fake_disk *d = area_new("vda", 64, 0, NULL, 0, &t);
    HT_ASSERT(t == 0, "%s", why);
    uint8_t *frame = get_zeroed_page(GFP_KERNEL);
    uint64_t pa = (uint64_t)(frame - mm_host_arena());
    swp_entry_t e[3];
    for (int i = 0; i < 3; i++) {
        e[i] = get_swap_page();
        memset(frame, 0x10 + i, PG);
        HT_EQ_U(swap_writepage(e[i], pa), 0);
    }
    for (int i = 0; i < 3; i++) {
        memset(frame, 0, PG);
        HT_EQ_U(swap_readpage(e[i], pa), 0);
        HT_ASSERT(frame[0] == 0x10 + i && frame[PG - 1] == 0x10 + i, "slot %d read back", i);
    }
    uint64_t w = d->writes;
    HT_ASSERT(swap_writepage(swp_entry(0, 0), pa) == -EINVAL, "header");
    HT_ASSERT(swap_writepage(swp_entry(0, 40), pa) == -EINVAL, "free slot");
    HT_ASSERT(swap_writepage(swp_entry(0, 64), pa) == -EINVAL, "past the area");
    HT_ASSERT(swap_writepage(swp_entry(1, 1), pa) == -EINVAL, "no area 1");
    HT_ASSERT(swap_writepage(swp_entry(31, 1), pa) == -EINVAL, "type 31");
    HT_ASSERT(swap_writepage(e[0], pa + 1) == -EINVAL, "unaligned frame");
    HT_EQ_U(d->writes, w);
    for (int i = 0; i < 3; i++)
        HT_EQ_U(swap_free(e[i]), 0);
    HT_ASSERT(swap_writepage(e[0], pa) == -EINVAL, "freed slot");
    free_page(frame);
    HT_EQ_U(memcmp(d->img + SWAP_HDR_MAGIC_OFF, SWAP_HDR_MAGIC, 10), 0);
    HT_TRY(teardown());
    disk_free(d);
}

/* ---- slots ----------------------------------------------------------------------------- */

/* Every slot handed out once, in order, never 0 nor a bad page; then none. */
static void t_alloc_all(void)
{
    HT_TRY(setup());
    uint32_t bad[] = { 2, 256, 257, 700, 1023 };
    int t;
    struct fake_disk *d = area_new("vda", 1024, 5, bad, 0, &t);
    HT_ASSERT(t == 0, "%s", why);
    uint64_t n = swap_info[0].pages;
    HT_EQ_U(n, 1018);
    uint8_t *seen = calloc(1024, 1);
    swp_entry_t *got = calloc(n, sizeof(*got));
    uint64_t prev = 0;
    for (uint64_t i = 0; i < n; i++) {
        swp_entry_t e = get_swap_page();
        uint64_t off = swp_offset(e);
        HT_ASSERT(e.val != 0 && swp_type(e) == 0, "allocation %lu failed", i);
        HT_ASSERT(off > 0 && off < 1024 && !seen[off], "slot %lu handed twice or out of range",
                  off);
        for (size_t k = 0; k < HT_COUNT(bad); k++)
            HT_ASSERT(off != bad[k], "bad page %lu handed out", off);
        HT_ASSERT(off > prev, "slot %lu after %lu: not in order", off, prev);
        HT_EQ_U(swap_count(e), 1);
        seen[off] = 1;
        got[i] = e;
        prev = off;
        HT_EQ_U(nr_swap_pages, n - i - 1);
        HT_TRY(check());
    }
    HT_EQ_U(get_swap_page().val, 0);
    HT_TRY(check());
    swp_entry_t first = got[0];
    for (uint64_t i = 0; i < n; i++) {
        HT_EQ_U(swap_free(got[i]), 0);
        HT_TRY(check());
    }
    HT_EQ_U(nr_swap_pages, n);
    HT_EQ_U(swap_count(first), 0);
    free(seen);
    free(got);
    HT_TRY(teardown());
    disk_free(d);
}

/* Clusters: after a run of SWAPFILE_CLUSTER slots the allocator moves to
 * an empty cluster rather than filling holes. */
static void t_clusters(void)
{
    HT_TRY(setup());
    int t;
    struct fake_disk *d = area_new("vda", 4 * SWAPFILE_CLUSTER, 0, NULL, 0, &t);
    HT_ASSERT(t == 0, "%s", why);
    swp_entry_t e[2 * SWAPFILE_CLUSTER];
    for (unsigned i = 0; i < 2 * SWAPFILE_CLUSTER; i++)
        e[i] = get_swap_page();
    /* Free every other slot of cluster 0: holes. */
    for (unsigned i = 0; i < SWAPFILE_CLUSTER - 1; i += 2)
        HT_EQ_U(swap_free(e[i]), 0);
    HT_TRY(check());
    /* The next slots still go forward, into fresh space. */
    swp_entry_t n = get_swap_page();
    HT_ASSERT(swp_offset(n) >= 2 * SWAPFILE_CLUSTER, "slot %lu: back into the holes",
              swp_offset(n));
    HT_EQ_U(swap_free(n), 0);
    for (unsigned i = 0; i < 2 * SWAPFILE_CLUSTER; i++)
        if (swap_count(e[i]) == 1)
            HT_EQ_U(swap_free(e[i]), 0);
    HT_TRY(check());
    HT_TRY(teardown());
    disk_free(d);
}

/* Runs of slots (get_swap_pages): consecutive, each with a count of 1,
 * cut short by a used slot and by the end of the current cluster; no
 * slot when n is 0 or every slot is used. */
static void t_runs(void)
{
    HT_TRY(setup());
    int t;
    struct fake_disk *d = area_new("vda", 4 * SWAPFILE_CLUSTER, 0, NULL, 0, &t);
    HT_ASSERT(t == 0, "%s", why);
    unsigned got = 99;
    swp_entry_t e = get_swap_pages(0, &got);
    HT_ASSERT(e.val == 0 && got == 0, "n 0: entry %#lx, %u slots", e.val, got);
    e = get_swap_pages(32, &got);
    HT_EQ_U(got, 32);
    uint64_t off = swp_offset(e);
    for (unsigned i = 0; i < 32; i++)
        HT_EQ_U(swap_count(swp_entry(0, off + i)), 1);
    HT_TRY(check());
    /* A used slot ahead cuts the next run short. */
    swp_entry_t lone = swp_entry(0, off + 40);
    swp_entry_t f = get_swap_pages(8, &got);       /* off + 32 .. off + 39 */
    HT_EQ_U(swp_offset(f), off + 32);
    HT_EQ_U(got, 8);
    swp_entry_t g = get_swap_page();               /* off + 40 */
    HT_EQ_U(g.val, lone.val);
    HT_EQ_U(swap_free(swp_entry(0, off + 38)), 0);  /* a hole behind the hand */
    swp_entry_t h = get_swap_pages(64, &got);      /* forward: off + 41 ... */
    HT_EQ_U(swp_offset(h), off + 41);
    /* Never past the current cluster's end. */
    HT_ASSERT(swp_offset(h) + got <= SWAPFILE_CLUSTER * (swp_offset(h) / SWAPFILE_CLUSTER + 1),
              "run %lu + %u crosses its cluster", swp_offset(h), got);
    HT_TRY(check());
    /* Every slot out: the last runs, then none. */
    uint64_t total = 32 + 8 + 1 + got - 1;         /* slot off + 38 was given back */
    while (nr_swap_pages) {
        swp_entry_t r = get_swap_pages(64, &got);
        HT_ASSERT(got >= 1 && r.val, "a free slot but no run");
        total += got;
    }
    HT_EQ_U(total, total_swap_pages);
    e = get_swap_pages(4, &got);
    HT_ASSERT(e.val == 0 && got == 0, "full: entry %#lx, %u slots", e.val, got);
    HT_TRY(check());
    for (uint64_t o = 1; o < swap_info[0].max; o++)
        if (swap_count(swp_entry(0, o)) == 1)
            HT_EQ_U(swap_free(swp_entry(0, o)), 0);
    HT_TRY(teardown());
    disk_free(d);
}

/* Reference counts: fork's duplicate, the frees, and the misuse. */
static void t_refcounts(void)
{
    HT_TRY(setup());
    int t;
    uint32_t bad[] = { 3 };
    struct fake_disk *d = area_new("vda", 32, 1, bad, 0, &t);
    HT_ASSERT(t == 0, "%s", why);
    swp_entry_t e = get_swap_page();
    HT_EQ_U(swap_duplicate(e), 0);
    HT_EQ_U(swap_duplicate(e), 0);
    HT_EQ_U(swap_count(e), 3);
    HT_EQ_U(swap_info[0].inuse_pages, 1);
    HT_TRY(check());
    HT_EQ_U(swap_free(e), 0);
    HT_EQ_U(swap_free(e), 0);
    HT_EQ_U(swap_count(e), 1);
    HT_EQ_U(nr_swap_pages, swap_info[0].pages - 1);
    HT_EQ_U(swap_free(e), 0);
    HT_EQ_U(swap_count(e), 0);
    HT_EQ_U(nr_swap_pages, swap_info[0].pages);
    HT_TRY(check());
    /* Misuse: reported, counted, nothing changes. */
    uint64_t mark = mm_host_reports();
    HT_ASSERT(swap_free(e) == -EINVAL, "double free");
    HT_ASSERT(mm_host_reported_since(mark, "already free"), "no report: %s",
              mm_host_last_report());
    HT_EQ_U(swap_info[0].errors, 1);
    HT_ASSERT(swap_free(swp_entry(0, 3)) == -EINVAL, "free of a bad page");
    HT_ASSERT(swap_free(swp_entry(0, 0)) == -EINVAL, "free of the header");
    HT_ASSERT(swap_free(swp_entry(0, 32)) == -EINVAL, "past the area");
    HT_ASSERT(swap_free(swp_entry(5, 1)) == -EINVAL, "no such area");
    HT_EQ_U(swap_info[0].errors, 3);
    HT_ASSERT(swap_duplicate(e) == -ENOENT, "duplicate of a free slot");
    HT_ASSERT(swap_duplicate(swp_entry(0, 3)) == -ENOENT, "duplicate of a bad slot");
    HT_ASSERT(swap_duplicate(swp_entry(0, 99)) == -EINVAL, "duplicate past the area");
    HT_ASSERT(swap_duplicate(swp_entry(7, 1)) == -EINVAL, "duplicate, no area");
    HT_ASSERT(swap_count(swp_entry(7, 1)) == -EINVAL, "count, no area");
    HT_TRY(check());
    /* The count's ceiling. */
    e = get_swap_page();
    for (unsigned i = 1; i < SWAP_MAP_MAX; i++)
        HT_EQ_U(swap_duplicate(e), 0);
    HT_ASSERT(swap_duplicate(e) == -ENOMEM, "past SWAP_MAP_MAX");
    HT_EQ_U(swap_count(e), SWAP_MAP_MAX);
    HT_TRY(check());
    for (unsigned i = 0; i < SWAP_MAP_MAX; i++)
        HT_EQ_U(swap_free(e), 0);
    HT_TRY(teardown());
    disk_free(d);
}

/* Random allocations, duplicates and frees on three areas, against a
 * model of every count; the validator after every step. */
static void t_random(void)
{
    HT_TRY(setup());
    enum { NA = 3, PAGES = 300 };
    struct fake_disk *d[NA];
    uint32_t bad[] = { 10, 11, 12, 200 };
    unsigned flags[NA] = { 0, SWAP_FLAG_PREFER | 5, 0 };
    for (int a = 0; a < NA; a++) {
        char name[8];
        snprintf(name, sizeof(name), "vd%c", 'a' + a);
        int t;
        d[a] = area_new(name, PAGES, a == 1 ? 4 : 0, bad, flags[a], &t);
        HT_ASSERT(t == a, "area %d: %d %s", a, t, why);
    }
    static uint16_t model[NA][PAGES];
    memset(model, 0, sizeof(model));
    swp_entry_t held[2000];
    unsigned nheld = 0;
    srandom(12345);
    for (int step = 0; step < 20000; step++) {
        int op = (int)(random() % 10);
        if (op < 4 && nheld < HT_COUNT(held)) {
            swp_entry_t e = get_swap_page();
            if (!e.val) {
                HT_ASSERT(nr_swap_pages == 0, "step %d: none, %lu free", step, nr_swap_pages);
                continue;
            }
            unsigned t = swp_type(e);
            /* The priority-5 area first, while it has room. */
            HT_ASSERT(t == 1 || swap_info[1].inuse_pages == swap_info[1].pages,
                      "step %d: area %u before the preferred one", step, t);
            HT_ASSERT(model[t][swp_offset(e)] == 0, "step %d: slot %u:%lu handed twice", step,
                      t, swp_offset(e));
            model[t][swp_offset(e)] = 1;
            held[nheld++] = e;
        } else if (op < 6 && nheld) {
            swp_entry_t e = held[random() % nheld];
            if (nheld < HT_COUNT(held)) {
                HT_EQ_U(swap_duplicate(e), 0);
                model[swp_type(e)][swp_offset(e)]++;
                held[nheld++] = e;
            }
        } else if (nheld) {
            unsigned i = (unsigned)(random() % nheld);
            swp_entry_t e = held[i];
            held[i] = held[--nheld];
            HT_EQ_U(swap_free(e), 0);
            model[swp_type(e)][swp_offset(e)]--;
        }
        HT_ASSERT(swap_check(why, sizeof(why)) == 0, "step %d: %s", step, why);
        if (step % 500 == 0)
            for (int a = 0; a < NA; a++)
                for (int off = 1; off < PAGES; off++) {
                    int c = swap_count(swp_entry((unsigned)a, (uint64_t)off));
                    if (c == SWAP_MAP_BAD)
                        continue;
                    HT_ASSERT(c == model[a][off], "step %d: slot %d:%d count %d, model %u",
                              step, a, off, c, model[a][off]);
                }
    }
    while (nheld)
        HT_EQ_U(swap_free(held[--nheld]), 0);
    HT_TRY(teardown());
    for (int a = 0; a < NA; a++) {
        HT_EQ_U(d[a]->writes, 0);
        disk_free(d[a]);
    }
}

/* ---- priorities and swapoff ------------------------------------------------------------- */

static void t_priorities(void)
{
    HT_TRY(setup());
    int t[4];
    struct fake_disk *d[4];
    d[0] = area_new("vda", 20, 0, NULL, 0, &t[0]);
    d[1] = area_new("vdb", 20, 0, NULL, 0, &t[1]);
    d[2] = area_new("vdc", 20, 0, NULL, 0, &t[2]);
    d[3] = area_new("vdd", 20, 0, NULL, SWAP_FLAG_PREFER | 7, &t[3]);
    for (int i = 0; i < 4; i++)
        HT_ASSERT(t[i] == i, "area %d: %d", i, t[i]);
    HT_EQ_U(swap_info[0].prio, (uint64_t)-1);
    HT_EQ_U(swap_info[1].prio, (uint64_t)-2);
    HT_EQ_U(swap_info[2].prio, (uint64_t)-3);
    HT_EQ_U(swap_info[3].prio, 7);
    /* Linux: removing -1 moves -2 and -3 up; the next automatic one is -3. */
    HT_EQ_U(swap_deactivate(0), 0);
    HT_EQ_U(swap_info[1].prio, (uint64_t)-1);
    HT_EQ_U(swap_info[2].prio, (uint64_t)-2);
    HT_EQ_U(swap_info[3].prio, 7);
    int t0;
    struct fake_disk *e = area_new("vde", 20, 0, NULL, 0, &t0);
    HT_EQ_U(t0, 0);
    HT_EQ_U(swap_info[0].prio, (uint64_t)-3);
    char buf[1024];
    swaps_show(buf, sizeof(buf));
    HT_EQ_STR(buf, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                   "/dev/vde                                partition\t76\t\t0\t\t-3\n"
                   "/dev/vdb                                partition\t76\t\t0\t\t-1\n"
                   "/dev/vdc                                partition\t76\t\t0\t\t-2\n"
                   "/dev/vdd                                partition\t76\t\t0\t\t7\n");
    /* Highest priority first: vdd's 19 slots, then vdb's. */
    swp_entry_t got[40];
    for (int i = 0; i < 19; i++) {
        got[i] = get_swap_page();
        HT_EQ_U(swp_type(got[i]), 3);
    }
    got[19] = get_swap_page();
    HT_EQ_U(swp_type(got[19]), 1);
    HT_TRY(check());
    /* Equal priorities take turns, one slot each. */
    for (int i = 0; i < 20; i++)
        HT_EQ_U(swap_free(got[i]), 0);
    HT_EQ_U(swap_deactivate(3), 0);
    HT_EQ_U(swap_deactivate(1), 0);
    HT_EQ_U(swap_deactivate(2), 0);
    HT_EQ_U(swap_deactivate(0), 0);
    int a, b;
    struct fake_disk *p = area_new("vdp", 20, 0, NULL, SWAP_FLAG_PREFER | 3, &a);
    struct fake_disk *q = area_new("vdq", 20, 0, NULL, SWAP_FLAG_PREFER | 3, &b);
    HT_ASSERT(a >= 0 && b >= 0, "%d %d", a, b);
    unsigned per[MAX_SWAPFILES] = { 0 };
    for (int i = 0; i < 10; i++) {
        got[i] = get_swap_page();
        per[swp_type(got[i])]++;
    }
    HT_EQ_U(per[a], 5);
    HT_EQ_U(per[b], 5);
    for (int i = 0; i < 10; i++)
        HT_EQ_U(swap_free(got[i]), 0);
    HT_TRY(teardown());
    for (int i = 0; i < 4; i++)
        disk_free(d[i]);
    disk_free(e);
    disk_free(p);
    disk_free(q);
}

static int hook_calls;
static swp_entry_t hook_slot;

/* The page-in path's stand-in: "brings back" the one used slot. */
static int unuse_hook(unsigned type)
{
    hook_calls++;
    if (swp_type(hook_slot) != type)
        return -EINVAL;
    /* During swapoff no slot may be handed out from this area. */
    swp_entry_t e = get_swap_page();
    if (e.val && swp_type(e) == type)
        return -EIO;
    if (e.val)
        swap_free(e);
    return swap_free(hook_slot);
}

static void t_swapoff_busy(void)
{
    HT_TRY(setup());
    int t;
    struct fake_disk *d = area_new("vda", 50, 0, NULL, 0, &t);
    HT_ASSERT(t == 0, "%s", why);
    swp_entry_t e = get_swap_page();
    HT_ASSERT(swap_deactivate(0) == -EBUSY, "swapoff with a used slot");
    HT_TRY(check());
    HT_EQ_U(total_swap_pages, 49);
    HT_EQ_U(nr_swap_pages, 48);
    /* Still working: slots handed out and freed. */
    swp_entry_t f = get_swap_page();
    HT_ASSERT(f.val && swp_offset(f) != swp_offset(e), "after a refused swapoff");
    HT_EQ_U(swap_free(f), 0);
    /* A hook that fails leaves the area; one that brings pages back lets it go. */
    hook_slot = swp_entry(5, 1);
    swapoff_hook = unuse_hook;
    HT_ASSERT(swap_deactivate(0) == -EINVAL, "failing hook");
    HT_TRY(check());
    hook_slot = e;
    hook_calls = 0;
    HT_EQ_U(swap_deactivate(0), 0);
    HT_EQ_U(hook_calls, 1);
    swapoff_hook = NULL;
    HT_TRY(check());
    HT_EQ_U(total_swap_pages, 0);
    HT_TRY(teardown());
    disk_free(d);
}

static void t_table_full(void)
{
    HT_TRY(setup());
    struct fake_disk *d[MAX_SWAPFILES + 1];
    for (int i = 0; i <= MAX_SWAPFILES; i++) {
        char name[8];
        snprintf(name, sizeof(name), "vd%c", 'a' + i);
        int t;
        d[i] = area_new(name, 12, 0, NULL, 0, &t);
        HT_ASSERT(i < MAX_SWAPFILES ? t == i : t == -EPERM, "area %d: %d", i, t);
    }
    HT_TRY(check());
    HT_EQ_U(total_swap_pages, MAX_SWAPFILES * 11);
    HT_TRY(teardown());
    for (int i = 0; i <= MAX_SWAPFILES; i++)
        disk_free(d[i]);
}

/* An area beyond what an entry can name is cut, with a warning. */
static void t_truncate(void)
{
    HT_TRY(setup());
    uint64_t pages = SWP_OFFSET_MAX + 11;
    struct fake_disk *d = calloc(1, sizeof(*d));
    d->img = calloc(1, PG);   /* only the header is ever read */
    snprintf(d->bd.name, sizeof(d->bd.name), "vdz");
    d->bd.nr_sectors = 1 * SPP;
    mkswap(d->img, (uint32_t)pages - 1, 0, NULL, NULL);
    /* The fake reads only inside nr_sectors: say the device is that big
     * once the header is there (only page 0 is read). */
    d->bd.nr_sectors = pages * SPP;
    int t = swap_activate(&d->bd, "/dev/vdz", 0, why, sizeof(why));
    HT_ASSERT(t == 0, "%d %s", t, why);
    HT_EQ_U(swap_info[0].max, SWP_OFFSET_MAX + 1);
    HT_EQ_U(swap_info[0].pages, SWP_OFFSET_MAX);
    swp_entry_t e = get_swap_page();
    HT_ASSERT(e.val < (1ul << SWP_PAYLOAD_BITS), "entry %#lx", e.val);
    HT_EQ_U(swap_free(e), 0);
    HT_EQ_U(swap_deactivate(0), 0);
    HT_TRY(teardown());
    free(d->img);
    free(d);
}

/* ---- entries ------------------------------------------------------------------------- */

static void t_entries(void)
{
    for (unsigned t = 0; t < MAX_SWAPFILES; t++)
        for (uint64_t off = 1; off <= SWP_OFFSET_MAX; off = off * 3 + 1) {
            swp_entry_t e = swp_entry(t, off);
            HT_EQ_U(swp_type(e), t);
            HT_EQ_U(swp_offset(e), off);
            HT_ASSERT(e.val != 0 && e.val < (1ul << 31), "entry %#lx", e.val);
        }
    swp_entry_t top = swp_entry((1u << SWP_TYPE_BITS) - 1, SWP_OFFSET_MAX);
    HT_EQ_U(top.val, (1ul << 31) - 1);
    HT_EQ_U(swp_entry(0, 1).val, 32);
    HT_ASSERT(MAX_SWAPFILES <= (1u << SWP_TYPE_BITS), "types fit");
}

/* /proc/swaps: long names keep one blank; blanks are escaped as Linux does. */
static void t_swaps_format(void)
{
    HT_TRY(setup());
    int t;
    struct fake_disk *d = disk_new("vda", 30000);
    mkswap(d->img, 29999, 0, NULL, NULL);
    t = swap_activate(&d->bd, "/dev/a name\\with/odd bytes/and/a/long/path/x", 0, why,
                      sizeof(why));
    HT_ASSERT(t == 0, "%s", why);
    swp_entry_t e = get_swap_page();
    char buf[512];
    swaps_show(buf, sizeof(buf));
    HT_EQ_STR(buf, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                   "/dev/a\\040name\\134with/odd\\040bytes/and/a/long/path/x partition\t"
                   "119996\t\t4\t\t-1\n");
    /* The length is what the whole text needs, even when cut. */
    int full = swaps_show(buf, 10);
    HT_ASSERT(full > 100 && strlen(buf) == 9, "cut: %d", full);
    HT_EQ_U(swap_free(e), 0);
    HT_TRY(teardown());
    disk_free(d);
}

static const struct htest cases[] = {
    HT_CASE(header_good),  HT_CASE(header_mkswap), HT_CASE(header_hostile),
    HT_CASE(activate),     HT_CASE(partition),     HT_CASE(readwrite),
    HT_CASE(alloc_all),    HT_CASE(clusters),      HT_CASE(refcounts),
    HT_CASE(random),       HT_CASE(priorities),    HT_CASE(swapoff_busy),
    HT_CASE(table_full),   HT_CASE(truncate),      HT_CASE(entries),
    HT_CASE(swaps_format), HT_CASE(runs),
};

int main(int argc, char **argv)
{
    int rc = htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
    mm_host_fini();
    return rc;
}
