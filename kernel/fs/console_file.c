/*
 * The console as a file: what user processes get on descriptors 0, 1, 2,
 * a Linux tty as far as programs can tell (docs/terminal.md).
 *
 * It is the file side of the console terminal (console_tty(),
 * kernel/console/console_tty.c), whose line discipline is
 * kernel/console/tty.c:
 *  - read waits (sleep_on_intr) for what the discipline makes readable: a
 *    line in canonical mode, VMIN bytes or VTIME tenths of a second
 *    otherwise, as n_tty_read does;
 *  - write sends the bytes, unchanged, to COM2 (serial2_write: `make
 *    run-elf` turns that port into the program's stdout) and to the log
 *    ring, and through the discipline's output processing (ONLCR...) to
 *    the terminal: COM1 and the screen;
 *  - ioctl answers termios, the window size, the foreground process group,
 *    the controlling terminal and the queue sizes;
 *  - job control: a process of a background group of the terminal's
 *    session that reads gets SIGTTIN (EIO if it ignores or blocks it, or
 *    if its group is orphaned), one that writes with TOSTOP set, or changes
 *    the settings, SIGTTOU (Linux's __tty_check_change).
 *
 * Without an input device (no COM1, no PS/2 keyboard: console_has_input)
 * a read gives end of file at once instead of waiting forever.
 * console_set_tty(false) makes the console answer every ioctl with ENOTTY,
 * as a pipe would.  All console files share the one terminal; each open
 * file only has its flags (O_NONBLOCK).
 */
#include <kernel/apic.h>
#include <kernel/console.h>
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/printk.h>
#include <kernel/session.h>
#include <kernel/sigdeliver.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/tty.h>
#include <kernel/uaccess.h>

static bool con_is_tty = true;

void console_set_tty(bool is_tty)
{
    con_is_tty = is_tty;
}

/* ---- the controlling terminal and job control ------------------------------ */

/* Is t the caller's controlling terminal?  A session whose leader has gone
 * loses its terminal (checked here, when the terminal is next used). */
static bool is_ctty(struct tty *t)
{
    if (t->session && !session_leader_alive(t->session))
        t->session = t->pgrp = 0;
    return t->session && t->session == current->sid;
}

/* Linux's is_ignored: the caller blocks sig or ignores it (SIG_IGN). */
static bool sig_ignored(int sig)
{
    const struct task_signals *s = &current->sig;
    return (s->blocked & sigmask(sig)) ||
           (s->hand && s->hand->action[sig - 1].handler == SIG_IGN);
}

/*
 * May the caller use t as a foreground process would?  0: yes; -EIO;
 * -ERESTARTSYS once sig went to the caller's group (the call is restarted
 * when the group is continued).  With sig ignored: EIO for SIGTTIN, go
 * ahead for SIGTTOU.
 */
static long check_change(struct tty *t, int sig)
{
    if (!is_ctty(t) || !t->pgrp || current->pgid == t->pgrp)
        return 0;
    if (sig_ignored(sig))
        return sig == SIGTTIN ? -EIO : 0;
    if (pgrp_is_orphaned(current->pgid))
        return -EIO;
    kill_pgrp(current->pgid, sig);
    return -ERESTARTSYS;
}

/* ---- read -------------------------------------------------------------------- */

#define DECISECOND_TICKS (HZ / 10)

static long con_read(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    struct tty *t = console_tty();
    if (!console_has_input())
        return 0;
    long r = check_change(t, SIGTTIN);
    if (r)
        return r;
    if (n == 0)
        return 0;
    /* As n_tty_read: minimum bytes to wait for, and the timeouts. */
    bool canon = t->termios.c_lflag & ICANON;
    size_t minimum = 1;
    uint64_t vtime = 0, deadline = 0;
    bool wait = true;
    if (!canon) {
        minimum = t->termios.c_cc[VMIN];
        vtime = (uint64_t)t->termios.c_cc[VTIME] * DECISECOND_TICKS;
        if (minimum == 0) {
            minimum = 1;
            wait = vtime != 0;       /* MIN 0, TIME 0: never wait */
            if (vtime)
                deadline = ticks_now() + vtime;   /* TIME: for the first byte */
        }
    }
    char kbuf[256];
    size_t done = 0;
    for (;;) {
        if (!tty_input_ready(t, 1)) {
            if (done >= minimum || !wait || (deadline && ticks_now() >= deadline))
                break;
            if ((f->flags & O_NONBLOCK) || (fio & FIO_NOWAIT)) {
                if (!done)
                    return -EAGAIN;
                break;
            }
            current->wake_tick = deadline;   /* VTIME: the tick wakes us (0: no limit) */
            if (sleep_on_intr(t)) {
                current->wake_tick = 0;
                return done ? (long)done : -ERESTARTSYS;
            }
            current->wake_tick = 0;
            continue;
        }
        size_t used;
        bool line_end;
        size_t k = tty_peek(t, kbuf, MIN(n - done, sizeof(kbuf)), &used, &line_end);
        if (k && copy_to_user(ubuf + done, kbuf, k) < 0)
            return done ? (long)done : -EFAULT;
        tty_consume(t, used);
        done += k;
        if (done == n || (canon && line_end))
            break;
        if (!canon && done >= minimum)
            break;
        if (!canon && vtime && t->termios.c_cc[VMIN])
            deadline = ticks_now() + vtime;   /* MIN and TIME: a timer between bytes */
    }
    return (long)done;
}

/* ---- write ---------------------------------------------------------------------- */

static long con_write(struct file *f, uint64_t ubuf, size_t n, unsigned fio)
{
    struct tty *t = console_tty();
    if (t->termios.c_lflag & TOSTOP) {
        long r = check_change(t, SIGTTOU);
        if (r)
            return r;
    }
    char chunk[256];
    size_t done = 0;
    while (done < n) {
        if (t->stopped) {            /* ^S or TCOOFF: wait for ^Q */
            if ((f->flags & O_NONBLOCK) || (fio & FIO_NOWAIT))
                return done ? (long)done : -EAGAIN;
            if (sleep_on_intr(&t->stopped))
                return done ? (long)done : -ERESTARTSYS;
            continue;
        }
        size_t k = MIN(n - done, sizeof(chunk));
        if (copy_from_user(chunk, ubuf + done, k) < 0)
            return done ? (long)done : -EFAULT;
        serial2_write(chunk, k);     /* the program's output, byte for byte */
        log_append(chunk, k);
        tty_write(t, chunk, k);      /* the terminal's view: COM1 and the screen */
        done += k;
    }
    return (long)done;
}

/* ---- ioctl ----------------------------------------------------------------------- */

static long put_int(uint64_t arg, int v)
{
    return copy_to_user(arg, &v, sizeof(v)) < 0 ? -EFAULT : 0;
}

static long set_termios(struct tty *t, unsigned cmd, uint64_t arg)
{
    long r = check_change(t, SIGTTOU);
    if (r)
        return r;
    struct linux_termios nt;
    if (copy_from_user(&nt, arg, sizeof(nt)) < 0)
        return -EFAULT;
    if (cmd == TCSETSF)
        tty_flush_input(t);          /* TCSETSW and TCSETSF drain output: it is synchronous */
    tty_set_termios(t, &nt);
    return 0;
}

static long set_pgrp(struct tty *t, uint64_t arg)
{
    long r = check_change(t, SIGTTOU);
    if (r == -EIO)
        return -ENOTTY;
    if (r)
        return r;
    if (!is_ctty(t))
        return -ENOTTY;
    int pgrp;
    if (copy_from_user(&pgrp, arg, sizeof(pgrp)) < 0)
        return -EFAULT;
    if (pgrp < 0)
        return -EINVAL;
    int sid = pgrp_session(pgrp);
    if (sid < 0)
        return -ESRCH;
    if (sid != current->sid)
        return -EPERM;
    t->pgrp = pgrp;
    return 0;
}

/* TIOCSCTTY: a session leader without a terminal takes this one; arg 1
 * takes it from another session (allowed to root: everyone here). */
static long set_ctty(struct tty *t, uint64_t arg)
{
    if (current->sid == current->pid && is_ctty(t))
        return 0;
    if (current->sid != current->pid)
        return -EPERM;
    if (t->session && session_leader_alive(t->session) && arg != 1)
        return -EPERM;
    t->session = current->sid;
    t->pgrp = current->pgid;
    return 0;
}

/* TIOCNOTTY: the session leader gives the terminal up; its foreground
 * group gets SIGHUP and SIGCONT, as Linux's disassociate_ctty. */
static long drop_ctty(struct tty *t)
{
    if (!is_ctty(t))
        return -ENOTTY;
    if (current->sid == current->pid) {
        int pgrp = t->pgrp;
        t->session = t->pgrp = 0;
        if (pgrp > 0) {
            kill_pgrp(pgrp, SIGHUP);
            kill_pgrp(pgrp, SIGCONT);
        }
    }
    return 0;
}

static long set_winsize(struct tty *t, uint64_t arg)
{
    struct linux_winsize ws;
    if (copy_from_user(&ws, arg, sizeof(ws)) < 0)
        return -EFAULT;
    if (!memcmp(&ws, &t->winsize, sizeof(ws)))
        return 0;
    t->winsize = ws;
    if (t->pgrp > 0)
        kill_pgrp(t->pgrp, SIGWINCH);
    return 0;
}

static long con_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
    (void)f;
    if (!con_is_tty)
        return -ENOTTY;
    struct tty *t = console_tty();
    long r;
    switch (cmd) {
    case TCGETS:
        return copy_to_user(arg, &t->termios, sizeof(t->termios)) < 0 ? -EFAULT : 0;
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
        return set_termios(t, cmd, arg);
    case TIOCGWINSZ:
        return copy_to_user(arg, &t->winsize, sizeof(t->winsize)) < 0 ? -EFAULT : 0;
    case TIOCSWINSZ:
        return set_winsize(t, arg);
    case TIOCGPGRP:
        return is_ctty(t) ? put_int(arg, t->pgrp) : -ENOTTY;
    case TIOCSPGRP:
        return set_pgrp(t, arg);
    case TIOCGSID:
        return is_ctty(t) ? put_int(arg, t->session) : -ENOTTY;
    case TIOCSCTTY:
        return set_ctty(t, arg);
    case TIOCNOTTY:
        return drop_ctty(t);
    case FIONREAD:
        return put_int(arg, (int)tty_input_count(t));
    case TIOCOUTQ:
        return put_int(arg, 0);      /* output is written synchronously */
    case TCFLSH:
        if ((r = check_change(t, SIGTTOU)))
            return r;
        if (arg > TCIOFLUSH)
            return -EINVAL;
        if (arg != TCOFLUSH)
            tty_flush_input(t);
        return 0;
    case TCXONC: {
        if ((r = check_change(t, SIGTTOU)))
            return r;
        char c;
        switch (arg) {
        case TCOOFF: tty_stop(t); return 0;
        case TCOON: tty_start(t); return 0;
        case TCIOFF:
        case TCION:                  /* send STOP or START to the other end */
            c = (char)t->termios.c_cc[arg == TCIOFF ? VSTOP : VSTART];
            if (c)
                tty_write(t, &c, 1);
            return 0;
        default:
            return -EINVAL;
        }
    }
    case TCSBRK:
    case TCSBRKP:                    /* drain (nothing queued); no break on the line */
        return check_change(t, SIGTTOU);
    case TIOCGETD:
        return put_int(arg, 0);      /* N_TTY */
    case TIOCSETD: {
        int ld;
        if (copy_from_user(&ld, arg, sizeof(ld)) < 0)
            return -EFAULT;
        return ld == 0 ? 0 : -EINVAL;
    }
    case TIOCEXCL:
    case TIOCNXCL:
        return 0;
    case TIOCSTI: {
        char c;
        if (copy_from_user(&c, arg, 1) < 0)
            return -EFAULT;
        tty_receive(t, &c, 1);
        return 0;
    }
    default:
        return -ENOTTY;
    }
}

/* ---- poll and stat ---------------------------------------------------------------- */

static unsigned con_poll(struct file *f)
{
    (void)f;
    struct tty *t = console_tty();
    unsigned mask = 0;
    if (!console_has_input() || tty_input_ready(t, 1))
        mask |= POLLIN | POLLRDNORM;
    if (!t->stopped)
        mask |= POLLOUT | POLLWRNORM;
    return mask;
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
    .poll = con_poll,
    /* no lseek: -ESPIPE, as on a Linux tty */
};

struct file *console_open(unsigned flags)
{
    return file_alloc(&console_ops, flags, NULL);
}
