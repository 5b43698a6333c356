/*
 * Pipes: a ring buffer of PIPE_SIZE bytes between a read end and a write
 * end, with Linux's blocking rules (pipe(7)).
 *
 * Invariants:
 *  - the bytes held are buf[head], buf[head+1], ... (modulo PIPE_SIZE),
 *    len of them, 0 <= len <= PIPE_SIZE;
 *  - readers/writers count the open files of each end (a file shared by
 *    fork or dup counts once: it has its own refcount); the pipe is freed
 *    when both reach 0;
 *  - a task waits on the pipe's address, for data or for room alike;
 *    every change of len or of the ends wakes all waiters, who look again.
 *    With one CPU and no preemption, the check and the sleep cannot be
 *    separated by a wake-up, so none is lost.
 *
 * Semantics (as Linux for blocking pipes):
 *  - read returns as soon as some bytes are there (at most n), blocks
 *    while the pipe is empty and a writer exists, returns 0 at end of file;
 *  - write puts all n bytes, waiting for room as many times as needed;
 *    a write of at most PIPE_BUF bytes goes in one piece (waits until the
 *    whole of it fits), so it is never interleaved with another writer's;
 *  - with no reader, write fails with -EPIPE (after the bytes already
 *    written, if any: then it returns their count);
 *  - O_NONBLOCK: -EAGAIN instead of waiting; a small write that does not
 *    fit whole is refused whole, a large one writes what fits.
 *
 * There are no signal handlers, so no -EINTR: a task killed while it
 * waits here exits inside sleep_on and its files are closed by exit,
 * which wakes the other end.  That is also why the system calls hold no
 * reference of their own on the file (include/kernel/file.h, fd_file).
 */
#include <kernel/file.h>
#include <kernel/errno.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>
#include <mm/slab.h>

#define FIONREAD 0x541b

struct pipe {
    uint8_t *buf;
    size_t head;
    size_t len;
    int readers, writers;
    uint64_t ino;
};

static uint64_t pipe_next_ino = 1;

static long pipe_read(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    struct pipe *p = f->priv;
    if (n == 0)
        return 0;
    while (p->len == 0) {
        if (p->writers == 0)
            return 0;
        if ((f->flags & O_NONBLOCK) || (fio & FIO_NOWAIT))
            return -EAGAIN;
        sleep_on(p);     /* a killed task exits in there (kernel/proc/task.c) */
    }
    size_t done = 0;
    while (done < n && p->len > 0) {
        size_t span = MIN(MIN(p->len, PIPE_SIZE - p->head), n - done);
        if (copy_to_user(ubuf + done, p->buf + p->head, span) < 0)
            break;
        p->head = (p->head + span) % PIPE_SIZE;
        p->len -= span;
        done += span;
    }
    if (done)
        wake_up(p);                     /* writers waiting for room */
    return done ? (long)done : -EFAULT;
}

/* Copy up to n bytes from the user into the free part of the ring. */
static long pipe_fill(struct pipe *p, uint64_t usrc, size_t n)
{
    size_t done = 0;
    while (done < n && p->len < PIPE_SIZE) {
        size_t tail = (p->head + p->len) % PIPE_SIZE;
        size_t span = MIN(MIN(PIPE_SIZE - p->len, PIPE_SIZE - tail), n - done);
        if (copy_from_user(p->buf + tail, usrc + done, span) < 0)
            return done ? (long)done : -EFAULT;
        p->len += span;
        done += span;
    }
    return (long)done;
}

static long pipe_write(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    struct pipe *p = f->priv;
    bool nowait = (f->flags & O_NONBLOCK) || (fio & FIO_NOWAIT);
    bool whole = n <= PIPE_BUF;
    size_t done = 0;
    if (n == 0)
        return 0;
    for (;;) {
        if (p->readers == 0) {
            /* Linux sends SIGPIPE here (before returning -EPIPE, whatever
             * was written), whose default action ends the writer.  mmk
             * does not send it: the writer sees -EPIPE only. */
            return done ? (long)done : -EPIPE;
        }
        size_t room = PIPE_SIZE - p->len;
        if (room > 0 && (!whole || room >= n)) {
            size_t want = MIN(room, n - done);
            long k = pipe_fill(p, ubuf + done, want);
            if (k > 0) {
                done += (size_t)k;
                wake_up(p);             /* readers waiting for data */
            }
            if (k < 0 || (size_t)k < want)      /* a fault stopped the copy */
                return done ? (long)done : -EFAULT;
            if (done == n)
                return (long)done;
            continue;                   /* the pipe is full: wait on the next pass */
        }
        if (nowait)
            return done ? (long)done : -EAGAIN;
        sleep_on(p);
    }
}

static void pipe_release(struct file *f)
{
    struct pipe *p = f->priv;
    if ((f->flags & O_ACCMODE) == O_RDONLY)
        p->readers--;
    else
        p->writers--;
    if (p->readers == 0 && p->writers == 0) {
        kfree(p->buf);
        kfree(p);
        return;
    }
    wake_up(p);     /* the other end sees EOF or EPIPE */
}

static int pipe_stat(struct file *f, struct linux_stat *st)
{
    struct pipe *p = f->priv;
    st->st_dev = LINUX_MKDEV(0, 12);        /* pipefs */
    st->st_ino = p->ino;
    st->st_nlink = 1;
    st->st_mode = S_IFIFO | 0600;
    st->st_blksize = 4096;
    return 0;
}

static long pipe_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
    struct pipe *p = f->priv;
    if (cmd != FIONREAD)
        return -ENOTTY;
    int n = (int)p->len;
    return copy_to_user(arg, &n, sizeof(n)) < 0 ? -EFAULT : 0;
}

static const struct file_ops pipe_read_ops = {
    .read = pipe_read,
    .stat = pipe_stat,
    .ioctl = pipe_ioctl,
    .release = pipe_release,
};

static const struct file_ops pipe_write_ops = {
    .write = pipe_write,
    .stat = pipe_stat,
    .ioctl = pipe_ioctl,
    .release = pipe_release,
};

int pipe_create(unsigned flags, struct file **rd, struct file **wr)
{
    struct pipe *p = kzalloc(sizeof(*p), GFP_KERNEL);
    if (!p)
        return -ENOMEM;
    p->buf = kmalloc(PIPE_SIZE, GFP_KERNEL);
    if (!p->buf)
        goto err_pipe;
    unsigned status = flags & O_NONBLOCK;
    *rd = file_alloc(&pipe_read_ops, O_RDONLY | status, p);
    if (!*rd)
        goto err_buf;
    *wr = file_alloc(&pipe_write_ops, O_WRONLY | status, p);
    if (!*wr)
        goto err_rd;
    p->readers = p->writers = 1;
    p->ino = pipe_next_ino++;
    return 0;

err_rd:
    /* Not counted as a reader yet: free it without the release. */
    kfree(*rd);
err_buf:
    kfree(p->buf);
err_pipe:
    kfree(p);
    return -ENOMEM;
}
