/*
 * Pipes: a ring buffer of PIPE_SIZE bytes (F_SETPIPE_SZ changes it)
 * between a read end and a write end, with Linux's blocking rules
 * (pipe(7)).
 *
 * Invariants:
 *  - the bytes held are buf[head], buf[head+1], ... (modulo size),
 *    len of them, 0 <= len <= size;
 *  - readers/writers count the open files of each end (a file shared by
 *    fork or dup counts once: it has its own refcount); the pipe is freed
 *    when both reach 0;
 *  - a task waits on the pipe's address, for data or for room alike;
 *    every change of len or of the ends wakes all waiters, who look again,
 *    and the tasks in poll/select (poll_wake).
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
 * A signal ends a wait (sleep_on_intr): -ERESTARTSYS when nothing was
 * transferred yet (EINTR, or the call restarted under SA_RESTART), else
 * the count so far.  Processes have one thread each, so nobody can close
 * the file while its owner waits here: the system calls hold no
 * reference of their own on it (include/kernel/file.h, fd_file).
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
    size_t size;             /* the ring's capacity: PIPE_SIZE, or F_SETPIPE_SZ's */
};

static uint64_t pipe_next_ino = 1;

/* Readers, writers and pollers (kernel/fs/poll.c) look again. */
static void pipe_wake(struct pipe *p)
{
    wake_up(p);
    poll_wake();
}

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
        if (sleep_on_intr(p))
            return -ERESTARTSYS;   /* nothing read yet: EINTR or a restart */
    }
    size_t done = 0;
    while (done < n && p->len > 0) {
        size_t span = MIN(MIN(p->len, p->size - p->head), n - done);
        if (copy_to_user(ubuf + done, p->buf + p->head, span) < 0)
            break;
        p->head = (p->head + span) % p->size;
        p->len -= span;
        done += span;
    }
    if (done)
        pipe_wake(p);                   /* writers waiting for room */
    return done ? (long)done : -EFAULT;
}

/* Copy up to n bytes from the user into the free part of the ring. */
static long pipe_fill(struct pipe *p, uint64_t usrc, size_t n)
{
    size_t done = 0;
    while (done < n && p->len < p->size) {
        size_t tail = (p->head + p->len) % p->size;
        size_t span = MIN(MIN(p->size - p->len, p->size - tail), n - done);
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
            /* SIGPIPE (its default action ends the writer), then -EPIPE
             * unless some bytes went in, as Linux. */
            send_sig(SIGPIPE, current, 0);
            return done ? (long)done : -EPIPE;
        }
        size_t room = p->size - p->len;
        if (room > 0 && (!whole || room >= n)) {
            size_t want = MIN(room, n - done);
            long k = pipe_fill(p, ubuf + done, want);
            if (k > 0) {
                done += (size_t)k;
                pipe_wake(p);           /* readers waiting for data */
            }
            if (k < 0 || (size_t)k < want)      /* a fault stopped the copy */
                return done ? (long)done : -EFAULT;
            if (done == n)
                return (long)done;
            continue;                   /* the pipe is full: wait on the next pass */
        }
        if (nowait)
            return done ? (long)done : -EAGAIN;
        if (sleep_on_intr(p))
            return done ? (long)done : -ERESTARTSYS;   /* a signal: what went in counts */
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
    pipe_wake(p);   /* the other end sees EOF or EPIPE */
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

/* Linux's pipe_poll: the read end is readable with data, hung up when
 * no writer is left; the write end is writable while a PIPE_BUF write
 * would not wait, in error when no reader is left. */
static unsigned pipe_poll_read(struct file *f)
{
    struct pipe *p = f->priv;
    return (p->len ? POLLIN | POLLRDNORM : 0) | (p->writers ? 0 : POLLHUP);
}

static unsigned pipe_poll_write(struct file *f)
{
    struct pipe *p = f->priv;
    return (p->size - p->len >= MIN(p->size, PIPE_BUF) ? POLLOUT | POLLWRNORM : 0) |
           (p->readers ? 0 : POLLERR);
}

static const struct file_ops pipe_read_ops = {
    .read = pipe_read,
    .stat = pipe_stat,
    .ioctl = pipe_ioctl,
    .release = pipe_release,
    .poll = pipe_poll_read,
};

static const struct file_ops pipe_write_ops = {
    .write = pipe_write,
    .stat = pipe_stat,
    .ioctl = pipe_ioctl,
    .release = pipe_release,
    .poll = pipe_poll_write,
};

/* F_GETPIPE_SZ / F_SETPIPE_SZ (Linux's pipe_fcntl): -EBADF for a file
 * that is not a pipe.  A new size is rounded up to a power of two of at
 * least a page; more than 2 GiB is -EINVAL, fewer bytes than the pipe
 * holds -EBUSY, more than the allocator's largest block (4 MiB) -ENOMEM.
 * The bytes held move to the new ring in order. */
long pipe_fcntl(struct file *f, bool set, uint32_t arg)
{
    if (f->ops != &pipe_read_ops && f->ops != &pipe_write_ops)
        return -EBADF;
    struct pipe *p = f->priv;
    if (!set)
        return (long)p->size;
    if (arg > (1u << 31))
        return -EINVAL;
    size_t size = PIPE_BUF;   /* a page */
    while (size < arg)
        size <<= 1;
    if (size < p->len)
        return -EBUSY;
    if (size > (4ul << 20))
        return -ENOMEM;
    uint8_t *buf = kmalloc(size, GFP_KERNEL | __GFP_NOWARN);
    if (!buf)
        return -ENOMEM;
    for (size_t i = 0; i < p->len; i++)
        buf[i] = p->buf[(p->head + i) % p->size];
    kfree(p->buf);
    p->buf = buf;
    p->head = 0;
    p->size = size;
    pipe_wake(p);   /* more room, perhaps */
    return (long)size;
}

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
    p->size = PIPE_SIZE;
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
