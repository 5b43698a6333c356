/*
 * The tty line discipline: input editing, echo, signals and output
 * processing, as Linux's n_tty does them (include/kernel/tty.h says what
 * each call promises; docs/terminal.md explains the whole path).
 *
 * Invariants:
 *  - tail <= canon_head <= head and head - tail <= TTY_BUF_SIZE (the
 *    counters are free-running; only differences are compared);
 *  - in canonical mode every byte of [tail, canon_head) belongs to a
 *    finished line, whose last byte has its eol bit set; no byte of
 *    [canon_head, head) has it.  In non-canonical mode canon_head == head;
 *  - `column` is where the device's cursor is, as far as this terminal's
 *    own output (echo and writes) moved it.
 *
 * A full buffer: as Linux did for years (n_tty before 3.12), an ordinary
 * byte is refused once only one free slot is left, so that the slot stays
 * for a newline (or VEOF) that finishes the line; a terminator is refused
 * only when nothing is free.  Each refused byte rings the bell (when ECHO
 * is on) and is counted in `dropped`.  A flood can thus neither overflow
 * the ring nor leave a reader waiting for a line that cannot end.
 *
 * Left out: parity and break handling (IGNPAR, BRKINT...), IUCLC/OLCUC
 * case mapping, VDISCARD (^O), ECHOPRT's hardcopy erase, delays
 * (NLDLY...), and UTF-8 aware erase (IUTF8): erase removes one byte.
 */
#include <kernel/tty.h>
#include <kernel/signal.h>
#include <kernel/string.h>

#define L(t, f) ((t)->termios.c_lflag & (f))
#define I(t, f) ((t)->termios.c_iflag & (f))
#define O(t, f) ((t)->termios.c_oflag & (f))
#define CC(t, i) ((t)->termios.c_cc[i])

/* Linux's tty_std_termios (drivers/tty/tty_io.c). */
static const struct linux_termios std_termios = {
    .c_iflag = ICRNL | IXON,
    .c_oflag = OPOST | ONLCR,
    .c_cflag = B38400 | CS8 | CREAD | HUPCL,
    .c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
    /* ^C ^\ DEL ^U ^D, VTIME 0, VMIN 1, ^Q ^S ^Z, ^R ^O ^W ^V */
    .c_cc = { 3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0 },
};

static inline unsigned idx(unsigned pos)
{
    return pos % TTY_BUF_SIZE;
}

static bool is_eol(const struct tty *t, unsigned pos)
{
    return t->eol[idx(pos) / 8] & (1u << (idx(pos) % 8));
}

static void set_eol(struct tty *t, unsigned pos, bool on)
{
    if (on)
        t->eol[idx(pos) / 8] |= (uint8_t)(1u << (idx(pos) % 8));
    else
        t->eol[idx(pos) / 8] &= (uint8_t)~(1u << (idx(pos) % 8));
}

static bool iscntrl_byte(unsigned char c)
{
    return c < 32 || c == 127;
}

/* Is c the character in slot i (a 0 slot is disabled: _POSIX_VDISABLE)? */
static bool is_cc(const struct tty *t, int i, unsigned char c)
{
    return CC(t, i) != 0 && c == CC(t, i);
}

void tty_init(struct tty *t, const struct tty_ops *ops)
{
    memset(t, 0, sizeof(*t));
    t->ops = ops;
    t->termios = std_termios;
    t->winsize.ws_row = 25;
    t->winsize.ws_col = 80;
}

/* ---- output ----------------------------------------------------------- */

static void device_out(struct tty *t, const char *s, size_t n)
{
    if (n && t->ops && t->ops->output)
        t->ops->output(t, s, n);
}

/*
 * One byte through c_oflag, into out (at most 8 bytes: a tab expanded);
 * updates the column.  Returns the bytes to send.
 */
static size_t opost_byte(struct tty *t, unsigned char c, char *out)
{
    size_t n = 0;
    if (!O(t, OPOST)) {
        out[n++] = (char)c;
        return n;
    }
    switch (c) {
    case '\n':
        if (O(t, ONLRET))
            t->column = 0;
        if (O(t, ONLCR)) {
            out[n++] = '\r';
            t->column = 0;
        }
        out[n++] = '\n';
        break;
    case '\r':
        if (O(t, ONOCR) && t->column == 0)
            break;
        if (O(t, OCRNL)) {
            if (O(t, ONLRET))
                t->column = 0;
            out[n++] = '\n';
            break;
        }
        t->column = 0;
        out[n++] = '\r';
        break;
    case '\t': {
        unsigned spaces = 8 - (t->column & 7);
        if ((t->termios.c_oflag & TABDLY) == XTABS) {
            while (n < spaces)
                out[n++] = ' ';
        } else {
            out[n++] = '\t';
        }
        t->column += spaces;
        break;
    }
    case '\b':
        if (t->column)
            t->column--;
        out[n++] = '\b';
        break;
    default:
        if (!iscntrl_byte(c))
            t->column++;
        out[n++] = (char)c;
    }
    return n;
}

void tty_write(struct tty *t, const char *s, size_t n)
{
    char out[256];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k + 8 > sizeof(out)) {
            device_out(t, out, k);
            k = 0;
        }
        k += opost_byte(t, (unsigned char)s[i], out + k);
    }
    device_out(t, out, k);
}

/* Echo goes through the same output processing, gathered per receive. */
static void echo_flush(struct tty *t)
{
    unsigned n = t->echo_len;
    t->echo_len = 0;
    device_out(t, t->echo, n);
}

static void echo_raw(struct tty *t, unsigned char c)
{
    char out[8];
    size_t n = opost_byte(t, c, out);
    if (t->echo_len + n > sizeof(t->echo))
        echo_flush(t);
    memcpy(t->echo + t->echo_len, out, n);
    t->echo_len += (unsigned)n;
}

/* Echo a typed byte: control characters as ^X with ECHOCTL (not tab or newline). */
static void echo_char(struct tty *t, unsigned char c)
{
    if (L(t, ECHOCTL) && iscntrl_byte(c) && c != '\t' && c != '\n') {
        echo_raw(t, '^');
        echo_raw(t, c ^ 0100);
    } else {
        echo_raw(t, c);
    }
}

static void echo_str(struct tty *t, const char *s)
{
    while (*s)
        echo_raw(t, (unsigned char)*s++);
}

void tty_stop(struct tty *t)
{
    t->stopped = true;
}

void tty_start(struct tty *t)
{
    if (!t->stopped)
        return;
    t->stopped = false;
    if (t->ops && t->ops->wakeup)
        t->ops->wakeup(t);
}

/* ---- the input ring ----------------------------------------------------- */

static size_t count(const struct tty *t)
{
    return t->head - t->tail;
}

static void put_byte(struct tty *t, unsigned char c)
{
    t->buf[idx(t->head)] = (char)c;
    set_eol(t, t->head, false);
    t->head++;
}

void tty_flush_input(struct tty *t)
{
    t->tail = t->canon_head = t->head;
    t->lnext = false;
}

static void wake_readers(struct tty *t)
{
    if (t->ops && t->ops->wakeup)
        t->ops->wakeup(t);
}

static void refuse(struct tty *t)
{
    t->dropped++;
    if (L(t, ECHO))
        echo_raw(t, '\a');
}

/* ---- canonical editing ------------------------------------------------- */

/* The column the edited line reaches before position `upto`. */
static unsigned line_column(const struct tty *t, unsigned upto)
{
    unsigned col = t->canon_column;
    for (unsigned p = t->canon_head; p != upto; p++) {
        unsigned char c = (unsigned char)t->buf[idx(p)];
        if (c == '\t')
            col = (col | 7) + 1;
        else if (iscntrl_byte(c))
            col += L(t, ECHOCTL) ? 2 : 0;
        else
            col++;
    }
    return col;
}

/* Visually remove the last byte of the line, which was c. */
static void rub_out(struct tty *t, unsigned char c)
{
    if (c == '\t') {
        unsigned col = line_column(t, t->head);   /* head already moved back */
        while (t->column > col) {
            echo_raw(t, '\b');
        }
        return;
    }
    if (iscntrl_byte(c) && L(t, ECHOCTL))
        echo_str(t, "\b \b");
    if (!iscntrl_byte(c) || L(t, ECHOCTL))
        echo_str(t, "\b \b");
}

enum kill_kind { K_ERASE, K_WERASE, K_KILL };

/* Erase one byte, one word, or the whole line being edited (Linux's eraser). */
static void eraser(struct tty *t, unsigned char c, enum kill_kind kind)
{
    if (t->head == t->canon_head)
        return;                              /* nothing to erase */
    if (kind == K_KILL) {
        if (!L(t, ECHO)) {
            t->head = t->canon_head;
            return;
        }
        if (!L(t, ECHOK) || !L(t, ECHOKE) || !L(t, ECHOE)) {
            t->head = t->canon_head;
            echo_char(t, c);
            if (L(t, ECHOK))
                echo_raw(t, '\n');
            return;
        }
    }
    unsigned alnums = 0;
    while (t->head != t->canon_head) {
        unsigned char b = (unsigned char)t->buf[idx(t->head - 1)];
        if (kind == K_WERASE) {
            bool word = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') ||
                        (b >= 'A' && b <= 'Z') || b == '_';
            if (word)
                alnums++;
            else if (alnums)
                break;                       /* the start of the word */
        }
        t->head--;
        if (L(t, ECHO)) {
            if (kind == K_ERASE && !L(t, ECHOE))
                echo_char(t, c);             /* no visual erase: show the erase character */
            else
                rub_out(t, b);
        }
        if (kind == K_ERASE)
            break;
    }
}

/* A finished line: everything up to head becomes readable. */
static void end_line(struct tty *t)
{
    set_eol(t, t->head - 1, true);
    t->canon_head = t->head;
    wake_readers(t);
}

static void reprint(struct tty *t, unsigned char c)
{
    echo_char(t, c);
    echo_raw(t, '\n');
    t->canon_column = t->column;
    for (unsigned p = t->canon_head; p != t->head; p++)
        echo_char(t, (unsigned char)t->buf[idx(p)]);
}

/* One byte in canonical mode; returns true when it was a special one. */
static bool canon_special(struct tty *t, unsigned char c)
{
    if (is_cc(t, VERASE, c) || (c == '\b' && CC(t, VERASE) == 127)) {
        /* ^H erases too while VERASE is DEL: terminals send either */
        eraser(t, c, K_ERASE);
        return true;
    }
    if (is_cc(t, VKILL, c)) {
        eraser(t, c, K_KILL);
        return true;
    }
    if (L(t, IEXTEN) && is_cc(t, VWERASE, c)) {
        eraser(t, c, K_WERASE);
        return true;
    }
    if (L(t, IEXTEN) && is_cc(t, VREPRINT, c)) {
        if (L(t, ECHO))
            reprint(t, c);
        return true;
    }
    if (L(t, IEXTEN) && is_cc(t, VLNEXT, c)) {
        t->lnext = true;
        if (L(t, ECHO) && L(t, ECHOCTL)) {
            echo_raw(t, '^');
            echo_raw(t, '\b');
        }
        return true;
    }
    if (is_cc(t, VEOF, c)) {
        if (count(t) >= TTY_BUF_SIZE) {
            refuse(t);
            return true;
        }
        put_byte(t, 0);                      /* the marker: read skips it */
        end_line(t);
        return true;
    }
    if (c == '\n' || is_cc(t, VEOL, c) || (L(t, IEXTEN) && is_cc(t, VEOL2, c))) {
        if (count(t) >= TTY_BUF_SIZE) {
            refuse(t);
            return true;
        }
        if (L(t, ECHO) || (c == '\n' && L(t, ECHONL)))
            c == '\n' ? echo_raw(t, '\n') : echo_char(t, c);
        put_byte(t, c);
        end_line(t);
        return true;
    }
    return false;
}

/* An ordinary byte: echo and queue it. */
static void receive_plain(struct tty *t, unsigned char c)
{
    bool canon = L(t, ICANON);
    if (count(t) >= TTY_BUF_SIZE - (canon ? 1 : 0)) {
        if (canon)
            refuse(t);                       /* keep the last slot for the terminator */
        else
            t->dropped++;
        return;
    }
    if (L(t, ECHO)) {
        if (canon && t->canon_head == t->head)
            t->canon_column = t->column;
        echo_char(t, c);
    }
    put_byte(t, c);
    if (!canon) {
        t->canon_head = t->head;
        wake_readers(t);
    }
}

static void receive_byte(struct tty *t, unsigned char c)
{
    if (I(t, ISTRIP))
        c &= 0x7f;
    if (t->lnext) {
        t->lnext = false;
        receive_plain(t, c);                 /* its echo covers the ^ VLNEXT showed */
        return;
    }
    if (I(t, IXON)) {
        if (is_cc(t, VSTOP, c)) {
            tty_stop(t);
            return;
        }
        if (is_cc(t, VSTART, c)) {
            tty_start(t);
            return;
        }
    }
    if (L(t, ISIG)) {
        int sig = is_cc(t, VINTR, c) ? SIGINT : is_cc(t, VQUIT, c) ? SIGQUIT
                : is_cc(t, VSUSP, c) ? SIGTSTP : 0;
        if (sig) {
            if (!L(t, NOFLSH))
                tty_flush_input(t);
            if (I(t, IXON))
                tty_start(t);
            if (L(t, ECHO))
                echo_char(t, c);
            if (t->ops && t->ops->signal)
                t->ops->signal(t, sig);
            return;
        }
    }
    if (t->stopped && I(t, IXON) && I(t, IXANY))
        tty_start(t);
    if (c == '\r') {
        if (I(t, IGNCR))
            return;
        if (I(t, ICRNL))
            c = '\n';
    } else if (c == '\n' && I(t, INLCR)) {
        c = '\r';
    }
    if (L(t, ICANON) && canon_special(t, c))
        return;
    receive_plain(t, c);
}

void tty_receive(struct tty *t, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        receive_byte(t, (unsigned char)s[i]);
    echo_flush(t);
}

/* ---- reading ----------------------------------------------------------- */

bool tty_input_ready(const struct tty *t, size_t min)
{
    if (L(t, ICANON))
        return t->canon_head != t->tail;
    return count(t) >= min;
}

size_t tty_input_count(const struct tty *t)
{
    size_t n = 0;
    for (unsigned p = t->tail; p != t->canon_head; p++)
        if (!(is_eol(t, p) && t->buf[idx(p)] == 0 && L(t, ICANON)))
            n++;
    return n;
}

size_t tty_peek(const struct tty *t, char *dst, size_t n, size_t *used, bool *line_end)
{
    size_t k = 0;
    unsigned p = t->tail;
    *line_end = false;
    if (!L(t, ICANON)) {
        while (k < n && p != t->head)
            dst[k++] = t->buf[idx(p++)];
        *used = k;
        return k;
    }
    while (k < n && p != t->canon_head) {
        char c = t->buf[idx(p)];
        bool end = is_eol(t, p);
        p++;
        *line_end = end;
        if (end && c == 0)
            break;                           /* VEOF: ends the read, is not returned */
        dst[k++] = c;
        if (end)
            break;
    }
    *used = p - t->tail;
    return k;
}

void tty_consume(struct tty *t, size_t used)
{
    size_t avail = t->canon_head - t->tail;
    if (!L(t, ICANON))
        avail = count(t);
    t->tail += (unsigned)MIN(used, avail);
    if (!L(t, ICANON))
        t->canon_head = t->head;
}

/* ---- settings ------------------------------------------------------------ */

void tty_set_termios(struct tty *t, const struct linux_termios *nt)
{
    bool was_canon = L(t, ICANON);
    t->termios = *nt;
    if (was_canon == !!L(t, ICANON))
        return;
    /* As n_tty_set_termios: all eol marks go; to canonical, what is
     * pending becomes one finished line; to raw, everything is readable. */
    memset(t->eol, 0, sizeof(t->eol));
    t->lnext = false;
    if (L(t, ICANON) && count(t)) {
        set_eol(t, t->head - 1, true);
        t->canon_head = t->head;
    } else if (L(t, ICANON)) {
        t->canon_head = t->tail;
    } else {
        t->canon_head = t->head;
    }
    if (count(t))
        wake_readers(t);
}
