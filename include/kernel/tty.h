/*
 * The tty line discipline (kernel/console/tty.c; docs/terminal.md).
 *
 * A struct tty sits between a terminal's devices and the programs that
 * read and write it.  Bytes typed arrive through tty_receive (from an
 * interrupt handler): they are translated (ICRNL...), turned into signals
 * (^C, ^\, ^Z with ISIG), edited (erase, kill, word erase, in canonical
 * mode) and echoed, then wait in a bounded ring for read.  Bytes written
 * go through tty_write, which applies the output processing (OPOST,
 * ONLCR...) and hands them to the device.  The termios structure and the
 * flag names are Linux's (include/uapi/asm-generic/termbits.h), so that
 * unmodified programs (stty, a shell's line editor) find what they expect.
 *
 * This file holds only the discipline: no sleeping, no user memory, no
 * process table.  The terminal's owner gives three hooks (struct tty_ops)
 * and does the waiting itself (the console: kernel/fs/console_file.c), so
 * the same code runs in host tests (tests/host/test_tty.c).
 *
 * Locking: none.  The kernel runs with interrupts off (one CPU), so the
 * interrupt handler that feeds a tty never runs while a system call is
 * inside one of these functions.
 */
#ifndef KERNEL_TTY_H
#define KERNEL_TTY_H

#include <kernel/types.h>

/* ---- Linux's termios, as the kernel sees it (TCGETS/TCSETS) ---------- */

#define LINUX_NCCS 19
struct linux_termios {
    uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
    uint8_t c_line;
    uint8_t c_cc[LINUX_NCCS];
};
_Static_assert(sizeof(struct linux_termios) == 36, "the kernel's termios is 36 bytes");

struct linux_winsize {
    uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
};
_Static_assert(sizeof(struct linux_winsize) == 8, "struct winsize is 8 bytes");

/* c_cc indices */
#define VINTR    0
#define VQUIT    1
#define VERASE   2
#define VKILL    3
#define VEOF     4
#define VTIME    5
#define VMIN     6
#define VSWTC    7
#define VSTART   8
#define VSTOP    9
#define VSUSP   10
#define VEOL    11
#define VREPRINT 12
#define VDISCARD 13
#define VWERASE 14
#define VLNEXT  15
#define VEOL2   16

/* c_iflag */
#define IGNBRK  0000001
#define BRKINT  0000002
#define ISTRIP  0000040
#define INLCR   0000100
#define IGNCR   0000200
#define ICRNL   0000400
#define IXON    0002000
#define IXANY   0004000
#define IXOFF   0010000
#define IMAXBEL 0020000
#define IUTF8   0040000

/* c_oflag */
#define OPOST   0000001
#define ONLCR   0000004
#define OCRNL   0000010
#define ONOCR   0000020
#define ONLRET  0000040
#define TABDLY  0014000
#define XTABS   0014000

/* c_cflag */
#define B38400  0000017
#define CS8     0000060
#define CREAD   0000200
#define HUPCL   0002000

/* c_lflag */
#define ISIG    0000001
#define ICANON  0000002
#define ECHO    0000010
#define ECHOE   0000020
#define ECHOK   0000040
#define ECHONL  0000100
#define NOFLSH  0000200
#define TOSTOP  0000400
#define ECHOCTL 0001000
#define ECHOPRT 0002000
#define ECHOKE  0004000
#define IEXTEN  0100000

/* The terminal ioctls (include/uapi/asm-generic/ioctls.h). */
#define TCGETS     0x5401
#define TCSETS     0x5402
#define TCSETSW    0x5403
#define TCSETSF    0x5404
#define TCSBRK     0x5409
#define TCXONC     0x540a
#define TCFLSH     0x540b
#define TIOCEXCL   0x540c
#define TIOCNXCL   0x540d
#define TIOCSCTTY  0x540e
#define TIOCGPGRP  0x540f
#define TIOCSPGRP  0x5410
#define TIOCOUTQ   0x5411
#define TIOCSTI    0x5412
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414
#define FIONREAD   0x541b
#define TIOCNOTTY  0x5422
#define TIOCSETD   0x5423
#define TIOCGETD   0x5424
#define TCSBRKP    0x5425
#define TIOCGSID   0x5429

/* TCXONC and TCFLSH arguments */
#define TCOOFF 0
#define TCOON  1
#define TCIOFF 2
#define TCION  3
#define TCIFLUSH  0
#define TCOFLUSH  1
#define TCIOFLUSH 2

/* ---- the discipline ------------------------------------------------------ */

/* Bytes of input a terminal holds (Linux's N_TTY_BUF_SIZE). */
#define TTY_BUF_SIZE 4096
#define TTY_ECHO_BUF 128

struct tty;

/*
 * What the terminal's owner provides:
 *  - output: bytes for the device (echo and processed writes), as they
 *    must appear on it;
 *  - signal: ISIG saw ^C, ^\ or ^Z: send sig to the foreground group;
 *  - wakeup: input became readable, or output was restarted (^Q).
 * Each is called with the discipline's state consistent; any may be NULL.
 */
struct tty_ops {
    void (*output)(struct tty *t, const char *s, size_t n);
    void (*signal)(struct tty *t, int sig);
    void (*wakeup)(struct tty *t);
};

struct tty {
    const struct tty_ops *ops;
    struct linux_termios termios;
    struct linux_winsize winsize;
    int pgrp;                       /* foreground process group, 0 if none */
    int session;                    /* session it controls, 0 if none */
    /*
     * The input ring.  Positions are free-running counters (the index is
     * pos % TTY_BUF_SIZE): tail <= canon_head <= head, head - tail <=
     * TTY_BUF_SIZE.  [tail, canon_head) holds finished lines, each ending
     * at a byte whose bit is set in eol (a newline, VEOL, or a VEOF
     * marker: a 0 byte that read skips); [canon_head, head) is the line
     * being edited.  In non-canonical mode canon_head == head: everything
     * is readable.
     */
    unsigned tail, canon_head, head;
    char buf[TTY_BUF_SIZE];
    uint8_t eol[TTY_BUF_SIZE / 8];
    unsigned column;                /* output column: where the cursor is */
    unsigned canon_column;          /* column at which the edited line began */
    bool lnext;                     /* the next byte is taken literally (VLNEXT) */
    bool stopped;                   /* output suspended (^S, TCOOFF) */
    uint64_t dropped;               /* input bytes refused: the buffer was full */
    /* echo bytes gathered during one tty_receive, then output at once */
    char echo[TTY_ECHO_BUF];
    unsigned echo_len;
};

/* Linux's tty_std_termios, an 80x25 window, no session; output on. */
void tty_init(struct tty *t, const struct tty_ops *ops);

/* Input from the device (an interrupt handler): edit, echo, signal, queue. */
void tty_receive(struct tty *t, const char *s, size_t n);

/*
 * Is there something for read?  Canonical: a finished line (an empty one
 * ending in VEOF counts: read returns 0).  Otherwise: at least `min` bytes
 * (min 0 means "any": always true).
 */
bool tty_input_ready(const struct tty *t, size_t min);
/* FIONREAD: the bytes read could return now (VEOF markers not counted). */
size_t tty_input_count(const struct tty *t);

/*
 * What one read of at most n bytes returns, copied into dst without
 * removing it: canonical mode stops at the end of the first line (the
 * newline is included, a VEOF marker is not), and then sets *line_end.
 * *used receives the count of ring bytes tty_consume must then remove
 * (VEOF markers included).  The caller copies dst to the user first, then
 * consumes, so that a fault loses nothing.
 */
size_t tty_peek(const struct tty *t, char *dst, size_t n, size_t *used, bool *line_end);
void tty_consume(struct tty *t, size_t used);
/* Drop all input (TCIFLUSH, TCSETSF, a signal without NOFLSH). */
void tty_flush_input(struct tty *t);

/* Output: apply c_oflag and hand the result to ops->output. */
void tty_write(struct tty *t, const char *s, size_t n);
/* Suspend or restart output (TCOOFF/TCOON, or ^S/^Q with IXON). */
void tty_stop(struct tty *t);
void tty_start(struct tty *t);

/* TCSETS: take new settings; switching ICANON on or off regroups the
 * input as Linux does (pending bytes become one line, or all readable). */
void tty_set_termios(struct tty *t, const struct linux_termios *nt);

#endif
