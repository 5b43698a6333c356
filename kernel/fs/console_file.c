/*
 * The console as a file: what user processes get on descriptors 0, 1, 2.
 *
 * Writing sends the bytes, unchanged, to COM2 (serial2_write: `make
 * run-elf` turns that port into the program's stdout) and to the kernel's
 * consoles (console_write: COM1, the screen and the log ring, so `make
 * run` shows them and tests can search them).  There is no input device:
 * reading gives end of file at once.
 *
 * It answers the two terminal ioctls musl asks about (TIOCGWINSZ in
 * isatty, TCGETS in tcgetattr) like a Linux tty with default settings,
 * unless console_set_tty(false) made it look like a pipe.  All consoles
 * share the static state below; each open file only has its flags.
 */
#include <kernel/file.h>
#include <kernel/console.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/uaccess.h>

#define TCGETS     0x5401
#define TCSETS     0x5402
#define TCSETSW    0x5403
#define TCSETSF    0x5404
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414

/* The kernel's struct termios (include/uapi/asm-generic/termbits.h), which
 * TCGETS writes; libc's own struct is larger and converts. */
#define LINUX_NCCS 19
struct linux_termios {
    uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
    uint8_t c_line;
    uint8_t c_cc[LINUX_NCCS];
};
_Static_assert(sizeof(struct linux_termios) == 36, "kernel termios is 36 bytes");

struct linux_winsize {
    uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
};

/* Linux's tty_std_termios: ICRNL|IXON, OPOST|ONLCR, B38400|CS8|CREAD|HUPCL,
 * ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN, and INIT_C_CC
 * (^C ^\ DEL ^U ^D, VTIME 0, VMIN 1, ...). */
static struct linux_termios con_termios = {
    .c_iflag = 0x0500, .c_oflag = 0x0005, .c_cflag = 0x00bf, .c_lflag = 0x8a3b,
    .c_cc = { 3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0 },
};
static bool con_is_tty = true;

void console_set_tty(bool is_tty)
{
    con_is_tty = is_tty;
}

static long con_read(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    (void)f, (void)ubuf, (void)n, (void)fio;
    return 0;
}

static long con_write(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    (void)f, (void)fio;
    char chunk[256];
    size_t done = 0;
    while (done < n) {
        size_t k = MIN(n - done, sizeof(chunk));
        if (copy_from_user(chunk, ubuf + done, k) < 0)
            return done ? (long)done : -EFAULT;
        serial2_write(chunk, k);
        console_write(chunk, k);
        done += k;
    }
    return (long)done;
}

static void con_winsize(struct linux_winsize *ws)
{
    ws->ws_col = 80;
    ws->ws_row = 25;
    ws->ws_xpixel = ws->ws_ypixel = 0;
    if (fbcon_active()) {
        struct fbcon_info fi;
        fbcon_get_info(&fi);
        if (fi.cols && fi.rows > 1) {
            ws->ws_col = (uint16_t)fi.cols;
            ws->ws_row = (uint16_t)(fi.rows - 1);   /* the title row does not scroll */
            ws->ws_xpixel = (uint16_t)(fi.cols * fi.glyph_w);
            ws->ws_ypixel = (uint16_t)((fi.rows - 1) * fi.glyph_h);
        }
    }
}

static long con_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
    (void)f;
    if (!con_is_tty)
        return -ENOTTY;
    switch (cmd) {
    case TIOCGWINSZ: {
        struct linux_winsize ws;
        con_winsize(&ws);
        return copy_to_user(arg, &ws, sizeof(ws)) < 0 ? -EFAULT : 0;
    }
    case TIOCSWINSZ: {
        struct linux_winsize ws;   /* accepted and forgotten: the size is the screen's */
        return copy_from_user(&ws, arg, sizeof(ws)) < 0 ? -EFAULT : 0;
    }
    case TCGETS:
        return copy_to_user(arg, &con_termios, sizeof(con_termios)) < 0 ? -EFAULT : 0;
    case TCSETS:
    case TCSETSW:
    case TCSETSF: {
        /* Kept, so that a program restoring what it read finds it again;
         * nothing else changes (there is no line discipline). */
        struct linux_termios t;
        if (copy_from_user(&t, arg, sizeof(t)) < 0)
            return -EFAULT;
        con_termios = t;
        return 0;
    }
    default:
        return -ENOTTY;
    }
}

static int con_stat(struct file *f, struct linux_stat *st)
{
    (void)f;
    st->st_dev = LINUX_MKDEV(0, 5);         /* devtmpfs-like */
    st->st_ino = 5;
    st->st_nlink = 1;
    st->st_mode = S_IFCHR | 0620;
    st->st_rdev = LINUX_MKDEV(5, 1);        /* /dev/console */
    st->st_blksize = 1024;
    return 0;
}

static const struct file_ops console_ops = {
    .read = con_read,
    .write = con_write,
    .stat = con_stat,
    .ioctl = con_ioctl,
    /* no lseek: -ESPIPE, as on a Linux tty */
};

struct file *console_open(unsigned flags)
{
    return file_alloc(&console_ops, flags, NULL);
}
