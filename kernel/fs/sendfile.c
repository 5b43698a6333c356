/*
 * sendfile(out_fd, in_fd, offset, count): bytes from one file to another
 * without passing through the caller's memory (Linux's do_sendfile,
 * fs/read_write.c, with its checks in its order).
 *
 * The bytes go through a kernel buffer of one page: the input file's
 * read and the output file's write are the ordinary file operations,
 * which move bytes to and from user addresses through uaccess; for the
 * time of the call, current->kwin lends them the kernel buffer in place
 * of user memory (kernel/proc/uaccess.c).  A signal that interrupts a
 * wait in a write (a full pipe) comes back here as an error, which
 * frees the buffer like any other end.
 *
 * What is read comes from the offset given (the file's own position is
 * then left alone, and the new offset is written back) or from the
 * file's position, which moves.  The input must be readable, and with
 * an offset seekable (-ESPIPE); the output writable.  Into a pipe,
 * anything but a pipe may be sent; into anything else, only a regular
 * file, and not to an O_APPEND file (-EINVAL: Linux's splice rules).
 * Writes wait as a write would; the
 * first read may wait, later ones do not.  When a write takes fewer
 * bytes than were read, a seekable input is moved back to the first byte
 * not written; from a terminal those bytes are lost (Linux splices only
 * what fits).
 */
#include <kernel/syscall.h>
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>
#include <mm/slab.h>

#define CHUNK PIPE_BUF   /* a page: a write to a pipe stays whole */

static unsigned file_type(struct file *f)
{
    struct linux_stat st;
    return f->ops->stat && f->ops->stat(f, &st) == 0 ? st.st_mode & S_IFMT : 0;
}

static bool may(const struct file *f, unsigned acc)
{
    unsigned m = f->flags & O_ACCMODE;
    return m == O_RDWR || m == acc;
}

/* Move up to count bytes, reading at *pos; the bytes moved or -errno. */
static long pump(struct file *in, struct file *out, int64_t *pos, size_t count, uint8_t *buf)
{
    bool seekable = in->ops->lseek != NULL;
    size_t done = 0;
    long err = 0;
    while (done < count) {
        size_t want = MIN((size_t)CHUNK, count - done);
        uint64_t saved = in->pos;
        in->pos = (uint64_t)*pos;
        long k = in->ops->read(in, (uint64_t)buf, want, done ? FIO_NOWAIT : 0);
        if (seekable && k > 0)
            *pos += k;
        in->pos = saved;
        if (k <= 0) {
            if (k < 0 && k != -EAGAIN)
                err = k;
            if (k == -EAGAIN && !done)
                err = k;
            break;
        }
        size_t put = 0;
        while (put < (size_t)k) {
            long w = out->ops->write(out, (uint64_t)buf + put, (size_t)k - put, 0);
            if (w <= 0) {
                err = w;
                break;
            }
            put += (size_t)w;
        }
        done += put;
        if (put < (size_t)k) {
            if (seekable)
                *pos -= (int64_t)((size_t)k - put);
            break;
        }
        if ((size_t)k < want)
            break;
    }
    return done ? (long)done : err;
}

long do_sendfile(int out_fd, int in_fd, int64_t *ppos, uint64_t count)
{
    struct file *in = fd_file(in_fd);
    if (!in || !may(in, O_RDONLY))
        return -EBADF;
    int64_t pos = ppos ? *ppos : (int64_t)in->pos;
    if (ppos && !in->ops->lseek)
        return -ESPIPE;
    int64_t end;
    if ((int64_t)count < 0 || pos < 0 || __builtin_add_overflow(pos, (int64_t)count, &end))
        return -EINVAL;   /* rw_verify_area */
    if (count > MAX_RW_COUNT)
        count = MAX_RW_COUNT;
    struct file *out = fd_file(out_fd);
    if (!out || !may(out, O_WRONLY))
        return -EBADF;
    if (!in->ops->read || !out->ops->write)
        return -EINVAL;
    if (file_type(out) == S_IFIFO) {
        if (count == 0)
            return 0;
        if (file_type(in) == S_IFIFO)
            return -EINVAL;   /* a pipe cannot be spliced from */
    } else {
        if (out->flags & O_APPEND)
            return -EINVAL;
        if (file_type(in) != S_IFREG)
            return -EINVAL;   /* splice_direct_to_actor: only from a regular file */
        if (count == 0)
            return 0;
    }
    uint8_t *buf = kmalloc(CHUNK, GFP_KERNEL);
    if (!buf)
        return -ENOMEM;
    current->kwin = buf;
    current->kwin_len = CHUNK;
    long r = pump(in, out, &pos, (size_t)count, buf);
    current->kwin = NULL;
    current->kwin_len = 0;
    kfree(buf);
    if (ppos)
        *ppos = pos;
    else if (in->ops->lseek)
        in->pos = (uint64_t)pos;
    return r;
}

/* sendfile(out_fd, in_fd, loff_t *offset, count): the offset is read
 * first and written back even when the transfer failed (Linux). */
long sys_sendfile(const struct sysargs *a)
{
    int out_fd = (int)a->arg[0], in_fd = (int)a->arg[1];
    if (!a->arg[2])
        return do_sendfile(out_fd, in_fd, NULL, a->arg[3]);
    int64_t pos;
    if (copy_from_user(&pos, a->arg[2], sizeof(pos)))
        return -EFAULT;
    long r = do_sendfile(out_fd, in_fd, &pos, a->arg[3]);
    return copy_to_user(a->arg[2], &pos, sizeof(pos)) ? -EFAULT : r;
}
