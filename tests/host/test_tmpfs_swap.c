/*
 * Host tests of the page cache's side of tmpfs pages on swap
 * (kernel/fs/pagecache.c; kernel/fs/tmpfs_swap.c is the kernel's other
 * side, tested in the kernel by tests/kernel/test_shmem_swap.c): a fake
 * swap store stands behind pagecache_swap (slots of host memory with a
 * count each), and a page goes out the way shmem_writeout sends it
 * (copied to a slot, pagecache_swapped_out, put_page).  Then the system
 * calls must find it: read and pread bring it back exactly and free the
 * slot, a write lands in the page read back, stat's st_blocks counts it
 * while it is out, truncation zeroes the tail of a page on swap and frees
 * the slots beyond, the last close of an unlinked file frees the rest, a
 * failed swap-in is the read's error with the entry kept, and the
 * validator catches a slot with a second owner or a file miscounting its
 * entries.  Every case ends with the leak check of test_tmpfs
 * (fs_host_teardown) and every slot free.
 */
#include <stdio.h>
#include <stdlib.h>

#include "test_tmpfs.h"
#include <kernel/kernel.h>
#include <mm/gfp.h>
#include <mm/page.h>
#include <mm/swap.h>

#define SLOTS 64

static struct {
    uint8_t data[PAGE_SIZE];
    int count;
} store[SLOTS + 1];                    /* slot 0 unused: an entry is never 0 */
static int fail_swapin;                /* the next swap-in's error, 0: none */

static int fake_swapin(uint64_t entry, struct page **out)
{
    if (entry == 0 || entry > SLOTS || store[entry].count != 1)
        return -EIO;
    if (fail_swapin) {
        int err = fail_swapin;
        fail_swapin = 0;
        return err;
    }
    struct page *pg = alloc_page(GFP_KERNEL);
    if (!pg)
        return -ENOMEM;
    memcpy(page_address(pg), store[entry].data, PAGE_SIZE);
    store[entry].count = 0;
    *out = pg;
    return 0;
}

static void fake_free(uint64_t entry)
{
    if (entry && entry <= SLOTS && store[entry].count > 0)
        store[entry].count--;
}

static int fake_count(uint64_t entry)
{
    return entry && entry <= SLOTS ? store[entry].count : -EINVAL;
}

static const struct pagecache_swap_ops fake_ops = { fake_swapin, fake_free, fake_count };

static unsigned slots_used(void)
{
    unsigned n = 0;
    for (unsigned i = 1; i <= SLOTS; i++)
        n += store[i].count != 0;
    return n;
}

/* shmem_writeout's steps for a page no process maps: 0, or -1 (no slot
 * or no such page). */
static int push(struct inode *ino, uint64_t index)
{
    struct page *pg = pagecache_find(ino, index);
    unsigned e = 1;
    while (e <= SLOTS && store[e].count)
        e++;
    if (!pg || e > SLOTS)
        return -1;
    memcpy(store[e].data, page_address(pg), PAGE_SIZE);
    store[e].count = 1;
    pagecache_swapped_out(pg, e);
    put_page(pg);
    return 0;
}

static void setup(void)
{
    tt_setup();
    memset(store, 0, sizeof(store));
    fail_swapin = 0;
    pagecache_swap = &fake_ops;
}

#define TS_TEARDOWN()                                                       \
    do {                                                                    \
        pagecache_swap = NULL;                                              \
        HT_EQ_U(slots_used(), 0);                                           \
        HT_EQ_U(pagecache_swapped_pages(), 0);                              \
        TT_TEARDOWN();                                                      \
    } while (0)

#define CHECK_OK()                                                          \
    do {                                                                    \
        char why_[160];                                                     \
        HT_ASSERT(tmpfs_check(why_, sizeof(why_)) == 0, "%s", why_);        \
    } while (0)

static struct inode *file_of(long fd)
{
    struct file *f = fd_file((int)fd);
    return f ? f->inode : NULL;
}

/* A file of n pages, page i full of the byte 'a' + i. */
static long make(const char *path, unsigned n)
{
    static char buf[PAGE_SIZE];
    long fd = tt_open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    for (unsigned i = 0; fd >= 0 && i < n; i++) {
        memset(buf, 'a' + (int)i, sizeof(buf));
        if (tt_write(fd, buf, sizeof(buf)) != PAGE_SIZE)
            return -1;
    }
    return fd;
}

static void t_swap_read_write_stat(void)
{
    setup();
    long fd = make("/tmp/s", 8);
    HT_ASSERT(fd >= 0, "make");
    struct inode *ino = file_of(fd);
    HT_ASSERT(ino, "no inode");
    for (unsigned i = 0; i < 8; i++)
        HT_EQ_U(push(ino, i), 0);
    HT_EQ_U(slots_used(), 8);
    HT_EQ_U(pagecache_pages(), 0);                 /* Cached: nothing in memory */
    HT_EQ_U(ino->reg.pages.nr_swapped, 8);
    HT_EQ_U(pagecache_swapped_pages(), 8);
    struct linux_stat st;
    HT_EQ_U(SYS(sys_fstat, fd, U(&st)), 0);
    HT_EQ_U(st.st_blocks, 64);                     /* pages on swap count */
    CHECK_OK();
    /* pread of page 3 brings that one page back, and frees its slot. */
    char buf[PAGE_SIZE];
    HT_EQ_U(SYS(sys_pread64, fd, U(buf), 10, 3 * PAGE_SIZE + 5), 10);
    HT_ASSERT(buf[0] == 'd' && buf[9] == 'd', "page 3 read back: %c", buf[0]);
    HT_EQ_U(slots_used(), 7);
    HT_EQ_U(pagecache_pages(), 1);
    HT_ASSERT(pagecache_find(ino, 3) && !pagecache_find(ino, 4), "only page 3 came back");
    CHECK_OK();
    /* A write to a page on swap reads it back first: the rest stays. */
    HT_EQ_U(SYS(sys_pwrite64, fd, U("XY"), 2, 5 * PAGE_SIZE + 1), 2);
    HT_EQ_U(SYS(sys_pread64, fd, U(buf), 4, 5 * PAGE_SIZE), 4);
    HT_ASSERT(!memcmp(buf, "fXYf", 4), "the write on a page back from swap");
    HT_EQ_U(slots_used(), 6);
    /* read() through the whole file. */
    HT_EQ_U(SYS(sys_lseek, fd, 0, SEEK_SET), 0);
    for (unsigned i = 0; i < 8; i++) {
        HT_EQ_U(tt_read(fd, buf, PAGE_SIZE), PAGE_SIZE);
        HT_ASSERT(buf[100] == 'a' + (int)i, "page %u: %c", i, buf[100]);
    }
    HT_EQ_U(slots_used(), 0);
    HT_EQ_U(ino->reg.pages.nr_swapped, 0);
    HT_EQ_U(SYS(sys_fstat, fd, U(&st)), 0);
    HT_EQ_U(st.st_blocks, 64);
    CHECK_OK();
    HT_EQ_U(SYS(sys_close, fd), 0);
    HT_EQ_U(SYS(sys_unlink, U("/tmp/s")), 0);
    TS_TEARDOWN();
}

static void t_swap_truncate_unlink(void)
{
    setup();
    long fd = make("/tmp/t", 10);
    struct inode *ino = file_of(fd);
    HT_ASSERT(ino, "no inode");
    for (unsigned i = 0; i < 10; i++)
        HT_EQ_U(push(ino, i), 0);
    /* Cut inside page 4, which is on swap: its tail is zeroed (read
     * back for it), the slots of pages 5.. go. */
    HT_EQ_U(SYS(sys_ftruncate, fd, 4 * PAGE_SIZE + 10), 0);
    HT_EQ_U(slots_used(), 4);
    HT_EQ_U(ino->reg.pages.nr_pages, 5);
    HT_EQ_U(ino->reg.pages.nr_swapped, 4);
    CHECK_OK();
    HT_EQ_U(SYS(sys_ftruncate, fd, 5 * PAGE_SIZE), 0);     /* grow: zeros */
    char buf[PAGE_SIZE];
    HT_EQ_U(SYS(sys_pread64, fd, U(buf), PAGE_SIZE, 4 * PAGE_SIZE), PAGE_SIZE);
    bool zero = true;
    for (unsigned i = 10; i < PAGE_SIZE; i++)
        zero = zero && buf[i] == 0;
    HT_ASSERT(buf[0] == 'e' && buf[9] == 'e' && zero, "the cut page: %c, tail zero %d", buf[0],
              zero);
    /* Unlinked while open: the slots stay until the last close. */
    HT_EQ_U(SYS(sys_unlink, U("/tmp/t")), 0);
    HT_EQ_U(slots_used(), 4);
    HT_EQ_U(pagecache_swapped_pages(), 4);
    CHECK_OK();                                    /* the unnamed file is on the list */
    HT_EQ_U(SYS(sys_close, fd), 0);
    HT_EQ_U(slots_used(), 0);
    TS_TEARDOWN();
}

static void t_swap_in_fails(void)
{
    setup();
    long fd = make("/tmp/f", 2);
    struct inode *ino = file_of(fd);
    HT_ASSERT(ino, "no inode");
    HT_EQ_U(push(ino, 0), 0);
    HT_EQ_U(push(ino, 1), 0);
    char buf[2 * PAGE_SIZE];
    /* The first page fails: the read's error; the entry stays. */
    fail_swapin = -ENOMEM;
    HT_EQ_U(SYS(sys_pread64, fd, U(buf), sizeof(buf), 0), -ENOMEM);
    HT_EQ_U(slots_used(), 2);
    /* The second fails after the first was read: a short read. */
    HT_EQ_U(SYS(sys_pread64, fd, U(buf), PAGE_SIZE, 0), PAGE_SIZE);
    fail_swapin = -EIO;
    HT_EQ_U(SYS(sys_pread64, fd, U(buf), sizeof(buf), 0), PAGE_SIZE);
    HT_EQ_U(slots_used(), 1);
    /* A write over it gets the error too, and changes nothing. */
    fail_swapin = -EIO;
    HT_EQ_U(SYS(sys_pwrite64, fd, U("z"), 1, PAGE_SIZE), -EIO);
    HT_EQ_U(SYS(sys_pread64, fd, U(buf), 1, PAGE_SIZE), 1);
    HT_ASSERT(buf[0] == 'b', "page 1 after the failures: %c", buf[0]);
    CHECK_OK();
    HT_EQ_U(SYS(sys_close, fd), 0);
    HT_EQ_U(SYS(sys_unlink, U("/tmp/f")), 0);
    TS_TEARDOWN();
}

static void t_swap_check_catches(void)
{
    setup();
    char why[160];
    long fd = make("/tmp/c", 2);
    struct inode *ino = file_of(fd);
    HT_ASSERT(ino, "no inode");
    HT_EQ_U(push(ino, 1), 0);
    CHECK_OK();
    store[1].count = 2;                            /* a second owner */
    HT_EQ_U(tmpfs_check(why, sizeof(why)), -EUCLEAN);
    HT_ASSERT(strstr(why, "not owned once"), "why: %s", why);
    store[1].count = 1;
    ino->reg.pages.nr_swapped = 2;                 /* the file miscounts */
    HT_EQ_U(tmpfs_check(why, sizeof(why)), -EUCLEAN);
    ino->reg.pages.nr_swapped = 1;
    CHECK_OK();
    HT_EQ_U(SYS(sys_close, fd), 0);
    HT_EQ_U(SYS(sys_unlink, U("/tmp/c")), 0);
    TS_TEARDOWN();
}

const struct htest tt_swap_cases[] = {
    HT_CASE(swap_read_write_stat), HT_CASE(swap_truncate_unlink), HT_CASE(swap_in_fails),
    HT_CASE(swap_check_catches),
};
const size_t tt_swap_count = HT_COUNT(tt_swap_cases);
