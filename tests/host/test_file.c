/*
 * Host tests of the file layer's pure parts: descriptor tables and
 * open-file references (kernel/fs/file.c), pipes (kernel/fs/pipe.c), and
 * the ABI structures of include/kernel/file.h against the host C
 * library's (tests/host/file_abi_host.c).  Path resolution is tested over
 * a real tmpfs tree in tests/host/test_tmpfs_names.c.
 *
 * The kernel services these files use are replaced by file_host.c:
 * kmalloc is malloc (with a failure switch), "user memory" is host memory
 * inside a window (outside: -EFAULT), and sleep_on runs a hook standing
 * for the other task (a reader draining a pipe, a writer filling it), or,
 * with no hook, jumps back to the test to say "this call would block".
 * The console is a stub file that counts its releases.
 * AddressSanitizer's leak check catches a pipe or file left unfreed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "htest.h"
#include "file_abi_host.h"
#include "file_host.h"
#include <kernel/file.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>
#include <mm/slab.h>

/* ---- the kernel around the code under test (the rest: file_host.c) ---- */

/* The console: a file that counts its releases. */
static int console_releases;

static void con_release(struct file *f)
{
    (void)f;
    console_releases++;
}

static const struct file_ops test_console_ops = { .release = con_release };

struct file *console_open(unsigned flags)
{
    return file_alloc(&test_console_ops, flags, NULL);
}

static void fresh(void)
{
    fh_reset();
    console_releases = 0;
}

/* ---- descriptor tables ---------------------------------------------------------- */

static void t_fd_std(void)
{
    fresh();
    current->files = files_create_std();
    HT_ASSERT(current->files, "no table");
    struct file *f0 = fd_file(0), *f2 = fd_file(2);
    HT_ASSERT(f0 && f0 == f2, "0 and 2 are not the same console file");
    HT_EQ_U(f0->refs, 3);                       /* three slots; fd_file borrows */
    HT_EQ_U(f0->flags, O_RDWR | O_LARGEFILE);
    HT_EQ_U(fd_count(), 3);
    HT_ASSERT(!fd_file(3) && !fd_file(-1) && !fd_file(FD_MAX) && !fd_file(1 << 30), "bad fds found");
    HT_EQ_U(fd_close(3), -EBADF);
    HT_EQ_U(fd_close(1), 0);
    HT_EQ_U(fd_close(1), -EBADF);
    files_close_all(current->files);
    current->files = NULL;
    HT_EQ_U(console_releases, 1);
    HT_ASSERT(!fd_file(0), "fd 0 without a table");
    HT_EQ_U(fd_install(NULL, 0, false), -EMFILE);
}

static void t_fd_fork_table(void)
{
    fresh();
    void *parent = files_create_std();
    current->files = parent;
    struct file *f = fd_file(0);
    HT_EQ_U(fd_set_cloexec(2, true), 0);
    void *child = files_dup_table(parent);
    HT_ASSERT(child && child != parent, "no new table");
    HT_EQ_U(f->refs, 6);
    current->files = child;
    HT_EQ_U(fd_get_cloexec(2), 1);
    HT_EQ_U(fd_close(0), 0);                    /* the child's close... */
    current->files = parent;
    HT_ASSERT(fd_file(0) == f, "parent lost fd 0");   /* ...leaves the parent's fd 0 */
    files_close_all(child);
    HT_EQ_U(f->refs, 3);
    HT_EQ_U(console_releases, 0);
    /* Out of memory: nothing changes. */
    fh_kmalloc_fail_in = 0;
    HT_ASSERT(files_dup_table(parent) == NULL, "dup without memory");
    fh_kmalloc_fail_in = -1;
    HT_EQ_U(f->refs, 3);
    void *empty = files_dup_table(NULL);
    HT_ASSERT(empty, "empty table");
    files_close_all(empty);
    files_close_all(parent);
    HT_EQ_U(console_releases, 1);
}

static void t_fd_cloexec(void)
{
    fresh();
    current->files = files_create_std();
    struct file *x = console_open(O_RDONLY);
    HT_EQ_U(fd_install(x, 10, true), 10);
    HT_EQ_U(fd_get_cloexec(10), 1);
    HT_EQ_U(fd_get_cloexec(0), 0);
    HT_EQ_U(fd_get_cloexec(11), -EBADF);
    HT_EQ_U(fd_set_cloexec(11, true), -EBADF);
    files_close_on_exec(current->files);
    HT_ASSERT(!fd_file(10), "fd 10 survived exec");
    HT_EQ_U(console_releases, 1);
    HT_EQ_U(fd_count(), 3);
    /* A slot reused without O_CLOEXEC loses the old mark. */
    x = console_open(O_RDONLY);
    HT_EQ_U(fd_install(x, 10, true), 10);
    HT_EQ_U(fd_close(10), 0);
    x = console_open(O_RDONLY);
    HT_EQ_U(fd_install(x, 10, false), 10);
    HT_EQ_U(fd_get_cloexec(10), 0);
    HT_EQ_U(console_releases, 2);
    files_close_all(current->files);
    HT_EQ_U(console_releases, 4);                /* the console and the third x */
}

static void t_fd_dup2(void)
{
    fresh();
    current->files = files_create_std();
    struct file *con = fd_file(0);
    HT_EQ_U(fd_dup2(0, 5, false), 5);
    HT_EQ_U(con->refs, 4);
    HT_EQ_U(fd_dup2(5, 5, false), 5);           /* same fd: nothing happens */
    HT_EQ_U(con->refs, 4);
    HT_EQ_U(fd_dup2(9, 5, false), -EBADF);
    HT_EQ_U(fd_dup2(9, 9, false), -EBADF);
    HT_EQ_U(fd_dup2(0, FD_MAX, false), -EBADF);
    HT_EQ_U(fd_dup2(0, -1, false), -EBADF);
    struct file *x = console_open(O_RDONLY);
    HT_EQ_U(fd_install(x, 7, false), 7);
    HT_EQ_U(fd_dup2(0, 7, true), 7);            /* x is closed on the way */
    HT_EQ_U(console_releases, 1);
    HT_EQ_U(fd_get_cloexec(7), 1);
    files_close_all(current->files);
    HT_EQ_U(console_releases, 2);
}

static void t_fd_full(void)
{
    fresh();
    current->files = files_create_std();
    struct file *con = fd_file(0);
    file_get(con);
    for (int i = 3; i < FD_MAX; i++) {
        file_get(con);
        HT_EQ_U(fd_install(con, 0, false), i);
    }
    HT_EQ_U(fd_count(), FD_MAX);
    HT_EQ_U(fd_install(con, 0, false), -EMFILE);
    HT_EQ_U(fd_install(con, FD_MAX + 5, false), -EMFILE);
    file_put(con);
    files_close_all(current->files);
    HT_EQ_U(console_releases, 1);
}

/* ---- fixed-content files ------------------------------------------------------------ */

static const struct file_ops fixed_ops = { .read = file_read_fixed, .lseek = file_lseek_fixed };

static void t_fixed_lseek(void)
{
    fresh();
    static const uint8_t text[100];
    struct file *f = file_alloc(&fixed_ops, O_RDONLY, NULL);
    f->data = text;
    f->size = sizeof(text);
    HT_EQ_U(file_lseek_fixed(f, 10, SEEK_SET), 10);
    HT_EQ_U(file_lseek_fixed(f, 5, SEEK_CUR), 15);
    HT_EQ_U(file_lseek_fixed(f, -1, SEEK_END), 99);
    HT_EQ_U(file_lseek_fixed(f, 1000, SEEK_SET), 1000);   /* past the end is allowed */
    HT_EQ_U(file_lseek_fixed(f, -1, SEEK_SET), -EINVAL);
    HT_EQ_U(f->pos, 1000);
    HT_EQ_U(file_lseek_fixed(f, INT64_MAX, SEEK_CUR), -EINVAL);  /* overflow */
    HT_EQ_U(file_lseek_fixed(f, 0, 7), -EINVAL);
    HT_EQ_U(file_lseek_fixed(f, 30, SEEK_DATA), 30);
    HT_EQ_U(file_lseek_fixed(f, 30, SEEK_HOLE), 100);
    HT_EQ_U(file_lseek_fixed(f, 100, SEEK_DATA), -6 /* ENXIO */);
    HT_EQ_U(file_lseek_fixed(f, -5, SEEK_HOLE), -6);
    file_put(f);
}

static void t_fixed_read(void)
{
    fresh();
    uint8_t text[300], buf[400];
    for (int i = 0; i < 300; i++)
        text[i] = (uint8_t)i;
    struct file *f = file_alloc(&fixed_ops, O_RDONLY, NULL);
    f->data = text;
    f->size = sizeof(text);
    HT_EQ_U(file_read_fixed(f, U(buf), 100, 0), 100);
    HT_ASSERT(!memcmp(buf, text, 100), "first 100 bytes");
    HT_EQ_U(file_read_fixed(f, U(buf), 400, 0), 200);     /* short at the end */
    HT_ASSERT(!memcmp(buf, text + 100, 200), "last 200 bytes");
    HT_EQ_U(file_read_fixed(f, U(buf), 400, 0), 0);       /* end of file */
    f->pos = 5000;
    HT_EQ_U(file_read_fixed(f, U(buf), 400, 0), 0);
    f->pos = 0;
    HT_EQ_U(file_read_fixed(f, 16, 10, 0), -EFAULT);      /* below the window */
    HT_EQ_U(f->pos, 0);
    file_put(f);
}

/* ---- pipes --------------------------------------------------------------------------- */

static struct file *prd, *pwr;

static long p_read(void *buf, size_t n)
{
    return prd->ops->read(prd, U(buf), n, 0);
}

static long p_write(const void *buf, size_t n)
{
    return pwr->ops->write(pwr, U(buf), n, 0);
}

static void pipe_setup(unsigned flags)
{
    fresh();
    HT_EQ_U(pipe_create(flags, &prd, &pwr), 0);
    HT_EQ_U(prd->flags & O_ACCMODE, O_RDONLY);
    HT_EQ_U(pwr->flags & O_ACCMODE, O_WRONLY);
    HT_ASSERT(!prd->ops->write && !pwr->ops->read, "an end can go both ways");
    HT_ASSERT(!prd->ops->lseek, "a pipe must not seek");
}

static void pipe_done(void)
{
    if (prd)
        file_put(prd);
    if (pwr)
        file_put(pwr);
    prd = pwr = NULL;
}

static void t_pipe_basic(void)
{
    HT_TRY(pipe_setup(0));
    char buf[64];
    HT_EQ_U(p_write("hello", 5), 5);
    HT_EQ_U(p_write(" world", 6), 6);
    HT_EQ_U(p_read(buf, 3), 3);
    HT_ASSERT(!memcmp(buf, "hel", 3), "first 3 bytes");
    HT_EQ_U(p_read(buf, sizeof(buf)), 8);       /* returns what is there */
    HT_ASSERT(!memcmp(buf, "lo world", 8), "the rest");
    HT_EQ_U(p_read(buf, 0), 0);
    HT_EQ_U(p_write(buf, 0), 0);
    int n = -1;
    HT_EQ_U(p_write("abc", 3), 3);
    HT_EQ_U(prd->ops->ioctl(prd, 0x541b, U(&n)), 0);     /* FIONREAD */
    HT_EQ_U(n, 3);
    HT_EQ_U(prd->ops->ioctl(prd, 0x5401, U(&n)), -ENOTTY);
    struct linux_stat st;
    memset(&st, 0, sizeof(st));
    HT_EQ_U(prd->ops->stat(prd, &st), 0);
    HT_EQ_U(st.st_mode, S_IFIFO | 0600);
    pipe_done();
}

static void t_pipe_eof_and_epipe(void)
{
    HT_TRY(pipe_setup(0));
    char buf[16];
    HT_EQ_U(p_write("xy", 2), 2);
    file_put(pwr);
    pwr = NULL;
    HT_EQ_U(p_read(buf, sizeof(buf)), 2);       /* data first... */
    HT_EQ_U(p_read(buf, sizeof(buf)), 0);       /* ...then end of file */
    pipe_done();

    HT_TRY(pipe_setup(0));
    file_put(prd);
    prd = NULL;
    fh_last_sig = 0;
    HT_EQ_U(p_write("xy", 2), -EPIPE);
    HT_EQ_U(fh_last_sig, SIGPIPE);                /* and SIGPIPE for the writer, as Linux */
    pipe_done();
}

static void t_pipe_would_block(void)
{
    HT_TRY(pipe_setup(0));
    char buf[16];
    if (setjmp(fh_would_block) == 0) {
        p_read(buf, sizeof(buf));
        HT_FAIL("a read of an empty pipe with a writer returned");
    }
    HT_EQ_U(fh_sleeps, 1);
    /* Nowait (a later readv segment) gets -EAGAIN instead. */
    HT_EQ_U(prd->ops->read(prd, U(buf), sizeof(buf), FIO_NOWAIT), -EAGAIN);
    pipe_done();
}

static void t_pipe_nonblock(void)
{
    HT_TRY(pipe_setup(O_NONBLOCK));
    static char big[PIPE_SIZE + 100], buf[PIPE_BUF];
    memset(big, 'b', sizeof(big));
    HT_EQ_U(prd->flags & O_NONBLOCK, O_NONBLOCK);
    HT_EQ_U(p_read(buf, 1), -EAGAIN);
    HT_EQ_U(p_write(big, PIPE_SIZE - 10), PIPE_SIZE - 10);
    HT_EQ_U(p_write(big, 20), -EAGAIN);          /* small: all or nothing */
    HT_EQ_U(p_write(big, PIPE_BUF + 1), 10);     /* large: what fits */
    HT_EQ_U(p_write(big, PIPE_BUF + 1), -EAGAIN);
    HT_EQ_U(fh_sleeps, 0);
    pipe_done();
}

/* The other task, when the writer sleeps: read everything into sink. */
static uint8_t *sink;
static size_t sink_len;

static void drain(void)
{
    long k = p_read(sink + sink_len, PIPE_SIZE);
    if (k > 0)
        sink_len += (size_t)k;
}

static void t_pipe_big_write_blocks(void)
{
    HT_TRY(pipe_setup(0));
    size_t n = 3 * PIPE_SIZE + 1234;
    uint8_t *src = malloc(n);
    sink = malloc(n + PIPE_SIZE);
    sink_len = 0;
    for (size_t i = 0; i < n; i++)
        src[i] = (uint8_t)(i * 7 + i / 251);
    fh_sleep_hook = drain;
    HT_EQ_U(p_write(src, n), n);                 /* all of it, in pieces */
    fh_sleep_hook = NULL;
    HT_ASSERT(fh_sleeps >= 3, "slept %d times", fh_sleeps);
    drain();
    HT_EQ_U(sink_len, n);
    HT_ASSERT(!memcmp(src, sink, n), "bytes changed or reordered");
    free(src);
    free(sink);
    pipe_done();
}

/* The other task, when the reader sleeps: write once. */
static void feed(void)
{
    HT_EQ_U(p_write("late", 4), 4);
}

static void t_pipe_read_waits(void)
{
    HT_TRY(pipe_setup(0));
    char buf[16];
    fh_sleep_hook = feed;
    HT_EQ_U(p_read(buf, sizeof(buf)), 4);
    HT_ASSERT(!memcmp(buf, "late", 4), "read what was fed");
    HT_EQ_U(fh_sleeps, 1);
    pipe_done();
}

/* A small write that does not fit whole waits, even though some bytes would. */
static void t_pipe_atomic_small_write(void)
{
    HT_TRY(pipe_setup(0));
    static char fill[PIPE_SIZE], buf[PIPE_SIZE];
    HT_EQ_U(p_write(fill, PIPE_SIZE - 100), PIPE_SIZE - 100);
    if (setjmp(fh_would_block) == 0) {
        p_write(fill, 200);
        HT_FAIL("a 200-byte write into 100 bytes of room returned");
    }
    HT_EQ_U(p_read(buf, sizeof(buf)), PIPE_SIZE - 100);   /* nothing was added */
    pipe_done();
}

/* Wrap around the end of the ring many times; bytes stay in order. */
static void t_pipe_wrap(void)
{
    HT_TRY(pipe_setup(0));
    static uint8_t in[7001], out[7001];
    uint8_t next_in = 0, next_out = 0;
    for (int round = 0; round < 100; round++) {
        size_t n = 1000 + (size_t)(round * 37) % 6000;
        for (size_t i = 0; i < n; i++)
            in[i] = next_in++;
        HT_EQ_U(p_write(in, n), n);
        long k = p_read(out, n);
        HT_EQ_U(k, n);
        for (size_t i = 0; i < n; i++)
            HT_ASSERT(out[i] == next_out++, "round %d byte %zu", round, i);
    }
    pipe_done();
}

static void t_pipe_fault(void)
{
    HT_TRY(pipe_setup(0));
    char buf[16];
    HT_EQ_U(p_write("0123456789", 10), 10);
    HT_EQ_U(prd->ops->read(prd, 8, 10, 0), -EFAULT);       /* nothing copied */
    /* Only 4 bytes of the buffer are "mapped": a short read. */
    fh_uhi = U(buf) + 4;
    HT_EQ_U(p_read(buf, 10), -EFAULT);                      /* the span is 10 bytes */
    fh_uhi = FH_USER_END;
    HT_EQ_U(p_read(buf, 10), 10);                           /* the data stayed */
    HT_ASSERT(!memcmp(buf, "0123456789", 10), "data after the fault");
    HT_EQ_U(pwr->ops->write(pwr, 8, 10, 0), -EFAULT);
    int n = -1;
    HT_EQ_U(prd->ops->ioctl(prd, 0x541b, U(&n)), 0);
    HT_EQ_U(n, 0);                                          /* the bad write added nothing */
    pipe_done();
}

static void t_pipe_nomem(void)
{
    fresh();
    for (int k = 0; k < 4; k++) {
        fh_kmalloc_fail_in = k;
        HT_EQ_U(pipe_create(0, &prd, &pwr), -ENOMEM);
    }
    fh_kmalloc_fail_in = -1;
    /* Leaks are ASan's to find. */
}

/* Closing the writer wakes a sleeping reader, which then sees EOF. */
static void close_writer(void)
{
    file_put(pwr);
    pwr = NULL;
}

static void t_pipe_reader_sees_close(void)
{
    HT_TRY(pipe_setup(0));
    char buf[4];
    fh_sleep_hook = close_writer;
    HT_EQ_U(p_read(buf, sizeof(buf)), 0);
    pipe_done();
}

/* ---- the ABI against the host's C library ---------------------------------------- */

#define OFF(field) __builtin_offsetof(struct linux_stat, field)

static void t_abi_stat(void)
{
    const struct host_abi *h = &host_abi;
    HT_EQ_U(sizeof(struct linux_stat), h->stat_size);
    HT_EQ_U(OFF(st_dev), h->off_dev);
    HT_EQ_U(OFF(st_ino), h->off_ino);
    HT_EQ_U(OFF(st_nlink), h->off_nlink);
    HT_EQ_U(OFF(st_mode), h->off_mode);
    HT_EQ_U(OFF(st_uid), h->off_uid);
    HT_EQ_U(OFF(st_gid), h->off_gid);
    HT_EQ_U(OFF(st_rdev), h->off_rdev);
    HT_EQ_U(OFF(st_size), h->off_size);
    HT_EQ_U(OFF(st_blksize), h->off_blksize);
    HT_EQ_U(OFF(st_blocks), h->off_blocks);
    HT_EQ_U(OFF(st_atim), h->off_atim);
    HT_EQ_U(OFF(st_mtim), h->off_mtim);
    HT_EQ_U(OFF(st_ctim), h->off_ctim);
    HT_EQ_U(sizeof(struct linux_iovec), h->iovec_size);
    HT_EQ_U(__builtin_offsetof(struct linux_iovec, len), h->off_iov_len);
}

static void t_abi_constants(void)
{
    const struct host_abi *h = &host_abi;
    HT_EQ_U(O_WRONLY, h->o_wronly);
    HT_EQ_U(O_RDWR, h->o_rdwr);
    HT_EQ_U(O_CREAT, h->o_creat);
    HT_EQ_U(O_EXCL, h->o_excl);
    HT_EQ_U(O_TRUNC, h->o_trunc);
    HT_EQ_U(O_APPEND, h->o_append);
    HT_EQ_U(O_NONBLOCK, h->o_nonblock);
    HT_EQ_U(O_DIRECTORY, h->o_directory);
    HT_EQ_U(O_CLOEXEC, h->o_cloexec);
    HT_EQ_U(F_DUPFD_CLOEXEC, h->f_dupfd_cloexec);
    HT_EQ_U(AT_FDCWD, h->at_fdcwd);
    HT_EQ_U(AT_EMPTY_PATH, h->at_empty_path);
    HT_EQ_U(S_IFDIR, h->s_ifdir);
    HT_EQ_U(S_IFREG, h->s_ifreg);
    HT_EQ_U(S_IFIFO, h->s_ififo);
    HT_EQ_U(S_IFCHR, h->s_ifchr);
    HT_EQ_U(SEEK_DATA, h->seek_data);
    HT_EQ_U(SEEK_HOLE, h->seek_hole);
    HT_EQ_U(LINUX_MKDEV(5, 1), 0x501);
    HT_EQ_U(LINUX_MKDEV(1, 0x123), 0x100123);
}

static const struct htest cases[] = {
    HT_CASE(fd_std), HT_CASE(fd_fork_table), HT_CASE(fd_cloexec), HT_CASE(fd_dup2),
    HT_CASE(fd_full), HT_CASE(fixed_lseek), HT_CASE(fixed_read),
    HT_CASE(pipe_basic), HT_CASE(pipe_eof_and_epipe), HT_CASE(pipe_would_block),
    HT_CASE(pipe_nonblock), HT_CASE(pipe_big_write_blocks), HT_CASE(pipe_read_waits),
    HT_CASE(pipe_atomic_small_write), HT_CASE(pipe_wrap), HT_CASE(pipe_fault),
    HT_CASE(pipe_nomem), HT_CASE(pipe_reader_sees_close),
    HT_CASE(abi_stat), HT_CASE(abi_constants),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
