/*
 * Host tests of the tty line discipline (kernel/console/tty.c): bytes are
 * fed as a device would feed them, and each case checks what a read would
 * return, what was echoed to the device, and which signals the foreground
 * group would get.  The expected echoes are what Linux's n_tty prints with
 * the same settings (checked on a Linux pty with the same input).  The
 * last cases feed scan codes to the keyboard map (kernel/console/keymap.c).
 */
#include "htest.h"
#include <kernel/keymap.h>
#include <kernel/signal.h>
#include <kernel/tty.h>

static struct tty tt;
static char out[16384];
static size_t out_len;
static int sigs[16], nsigs, wakeups;

static void cap_output(struct tty *t, const char *s, size_t n)
{
    (void)t;
    if (out_len + n <= sizeof(out)) {
        memcpy(out + out_len, s, n);
        out_len += n;
    }
}

static void cap_signal(struct tty *t, int sig)
{
    (void)t;
    if (nsigs < 16)
        sigs[nsigs++] = sig;
}

static void cap_wakeup(struct tty *t)
{
    (void)t;
    wakeups++;
}

static const struct tty_ops cap_ops = { cap_output, cap_signal, cap_wakeup };

static void fresh(void)
{
    tty_init(&tt, &cap_ops);
    out_len = 0;
    nsigs = wakeups = 0;
}

static void feed(const char *s)
{
    tty_receive(&tt, s, strlen(s));
}

/* What one read of up to n bytes returns (consumed), as a C string. */
static const char *rd(size_t n)
{
    static char buf[8192];
    size_t used;
    bool end;
    size_t k = tty_peek(&tt, buf, n < sizeof(buf) ? n : sizeof(buf) - 1, &used, &end);
    tty_consume(&tt, used);
    buf[k] = 0;
    return buf;
}

/* The echo so far must be exactly `want` (then it is forgotten). */
#define ECHOED(want)                                                            \
    do {                                                                        \
        size_t wl_ = strlen(want);                                              \
        HT_ASSERT(out_len == wl_ && !memcmp(out, want, wl_),                    \
                  "echo %.*s (%zu bytes), expected %s", (int)out_len, out,      \
                  out_len, want);                                               \
        out_len = 0;                                                            \
    } while (0)

static void set_lflag(uint32_t on, uint32_t off)
{
    struct linux_termios t = tt.termios;
    t.c_lflag = (t.c_lflag | on) & ~off;
    tty_set_termios(&tt, &t);
}

/* ---- canonical mode ------------------------------------------------------------ */

static void t_canon_line(void)
{
    fresh();
    feed("hello");
    HT_ASSERT(!tty_input_ready(&tt, 1), "a line without its end is not readable");
    ECHOED("hello");
    feed("\r");                                   /* ICRNL: Enter sends CR */
    ECHOED("\r\n");                               /* ONLCR on the echoed newline */
    HT_ASSERT(tty_input_ready(&tt, 1), "the finished line is readable");
    HT_EQ_U(tty_input_count(&tt), 6);
    HT_ASSERT(!strcmp(rd(100), "hello\n"), "read the line");
    HT_ASSERT(!tty_input_ready(&tt, 1), "nothing left");
    HT_ASSERT(wakeups >= 1, "the reader was woken");
}

static void t_canon_one_line_per_read(void)
{
    fresh();
    feed("abcdef\nxy\n");
    char b[8];
    size_t used;
    bool end;
    HT_EQ_U(tty_peek(&tt, b, 7, &used, &end), 7);
    HT_ASSERT(end && used == 7, "exactly the first line, and it ended");
    HT_EQ_U(tty_peek(&tt, b, 3, &used, &end), 3);
    HT_ASSERT(!end, "a line cut short did not end");
    HT_ASSERT(!strcmp(rd(3), "abc"), "a short read takes part of the line");
    HT_ASSERT(!strcmp(rd(100), "def\n"), "the rest of the first line only");
    HT_ASSERT(!strcmp(rd(100), "xy\n"), "then the second line");
}

static void t_erase(void)
{
    fresh();
    feed("abx\x7f" "c\n");
    ECHOED("abx\b \bc\r\n");
    HT_ASSERT(!strcmp(rd(100), "abc\n"), "DEL erased x");
    feed("ab\bc\n");                              /* ^H erases too */
    HT_ASSERT(!strcmp(rd(100), "ac\n"), "^H erased b");
    out_len = 0;
    feed("\x7f\x7f");                             /* nothing to erase: nothing shown */
    ECHOED("");
    feed("\x01\x7f\n");                           /* a control char echoed as ^A takes two cells */
    ECHOED("^A\b \b\b \b\r\n");
    HT_ASSERT(!strcmp(rd(100), "\n"), "the erased ^A is gone");
}

static void t_erase_without_echoe(void)
{
    fresh();
    set_lflag(0, ECHOE);
    feed("ab\x7f\n");
    ECHOED("ab^?\r\n");                           /* the erase character itself */
    HT_ASSERT(!strcmp(rd(100), "a\n"), "still erased");
}

static void t_erase_tab(void)
{
    fresh();
    feed("a\tb");
    ECHOED("a\tb");
    HT_EQ_U(tt.column, 9);
    feed("\x7f\x7f");                             /* b, then the tab: back to column 1 */
    ECHOED("\b \b\b\b\b\b\b\b\b");
    HT_EQ_U(tt.column, 1);
    feed("\n");
    HT_ASSERT(!strcmp(rd(100), "a\n"), "the tab is gone");
}

static void t_kill(void)
{
    fresh();
    feed("foo bar\x15");                          /* ^U with ECHOKE: erased one by one */
    ECHOED("foo bar\b \b\b \b\b \b\b \b\b \b\b \b\b \b");
    feed("baz\n");
    HT_ASSERT(!strcmp(rd(100), "baz\n"), "^U dropped the line");
    set_lflag(0, ECHOKE);                         /* ECHOK alone: ^U and a newline */
    out_len = 0;
    feed("xy\x15z\n");
    ECHOED("xy^U\r\nz\r\n");
    HT_ASSERT(!strcmp(rd(100), "z\n"), "killed without ECHOKE");
}

static void t_werase(void)
{
    fresh();
    feed("foo bar_1  \x17");                      /* ^W: trailing blanks, then the word */
    ECHOED("foo bar_1  \b \b\b \b\b \b\b \b\b \b\b \b\b \b");
    feed("x\n");
    HT_ASSERT(!strcmp(rd(100), "foo x\n"), "^W erased one word");
    feed("a-b\x17\x17\n");
    HT_ASSERT(!strcmp(rd(100), "\n"), "two ^W: b, then a- (punctuation goes with the word before)");
    set_lflag(0, IEXTEN);                         /* without IEXTEN ^W is data */
    feed("a\x17\n");
    HT_ASSERT(!strcmp(rd(100), "a\x17\n"), "^W kept");
}

static void t_eof(void)
{
    fresh();
    feed("abc\x04");                              /* ^D ends the line, is not returned */
    ECHOED("abc");
    HT_ASSERT(tty_input_ready(&tt, 1), "readable");
    HT_EQ_U(tty_input_count(&tt), 3);
    HT_ASSERT(!strcmp(rd(100), "abc"), "the line without a newline");
    HT_ASSERT(!tty_input_ready(&tt, 1), "the marker went with it");
    feed("\x04");                                 /* at the start of a line: end of file */
    HT_ASSERT(tty_input_ready(&tt, 1), "end of file is readable");
    HT_EQ_U(tty_input_count(&tt), 0);
    size_t used;
    bool end;
    char b[4];
    HT_EQ_U(tty_peek(&tt, b, sizeof(b), &used, &end), 0);
    HT_EQ_U(used, 1);
    HT_ASSERT(end, "the marker ends the line");
    tty_consume(&tt, used);
    HT_ASSERT(!tty_input_ready(&tt, 1), "one end of file per ^D");
    feed("x\x04\x04");                            /* "x", then an empty read */
    HT_ASSERT(!strcmp(rd(100), "x"), "x");
    HT_ASSERT(tty_input_ready(&tt, 1) && !strcmp(rd(100), ""), "then end of file");
}

static void t_echoctl_and_echo_off(void)
{
    fresh();
    feed("\x01\x1b\n");
    ECHOED("^A^[\r\n");
    set_lflag(0, ECHOCTL);
    feed("\x01\n");
    ECHOED("\x01\r\n");
    set_lflag(0, ECHO);
    feed("secret\n");
    ECHOED("");
    set_lflag(ECHONL, 0);                         /* ECHONL: only the newline */
    feed("pw\n");
    ECHOED("\r\n");
    rd(100), rd(100), rd(100), rd(100);
}

static void t_reprint_and_lnext(void)
{
    fresh();
    feed("ab\x12");                               /* ^R: show the line again */
    ECHOED("ab^R\r\nab");
    feed("\x16\x03");                             /* ^V ^C: a literal 0x03, no signal */
    ECHOED("^\b^C");
    HT_EQ_U(nsigs, 0);
    feed("\n");
    HT_ASSERT(!strcmp(rd(100), "ab\x03\n"), "the literal byte is data");
}

/* ---- signals -------------------------------------------------------------------- */

static void t_signals(void)
{
    fresh();
    feed("typed\x03");
    HT_EQ_U(nsigs, 1);
    HT_EQ_U(sigs[0], SIGINT);
    ECHOED("typed^C");
    HT_ASSERT(!tty_input_ready(&tt, 1) && tt.head == tt.tail, "^C flushed the input");
    feed("\x1c\x1a");
    HT_EQ_U(nsigs, 3);
    HT_EQ_U(sigs[1], SIGQUIT);
    HT_EQ_U(sigs[2], SIGTSTP);
    set_lflag(NOFLSH, 0);
    feed("kept\n" "x\x03");
    HT_EQ_U(nsigs, 4);
    HT_ASSERT(!strcmp(rd(100), "kept\n"), "NOFLSH keeps the input");
    set_lflag(0, ISIG);                           /* without ISIG ^C is a byte */
    feed("\x03\n");
    HT_EQ_U(nsigs, 4);
    HT_ASSERT(!strcmp(rd(100), "x\x03\n"), "^C as data");
    struct linux_termios t = tt.termios;          /* a disabled slot (0) matches nothing */
    t.c_lflag |= ISIG;
    t.c_cc[VINTR] = 0;
    tty_set_termios(&tt, &t);
    feed("\x03");
    feed(""), tty_receive(&tt, "\0", 1);
    HT_EQ_U(nsigs, 4);
}

static void t_ixon(void)
{
    fresh();
    feed("\x13");                                 /* ^S stops output */
    HT_ASSERT(tt.stopped, "stopped");
    wakeups = 0;
    feed("\x11");                                 /* ^Q restarts it and wakes writers */
    HT_ASSERT(!tt.stopped && wakeups == 1, "restarted");
    HT_EQ_U(tty_input_count(&tt), 0);
    feed("\x13" "a");                             /* without IXANY another key does not */
    HT_ASSERT(tt.stopped, "still stopped");
    struct linux_termios t = tt.termios;
    t.c_iflag |= IXANY;
    tty_set_termios(&tt, &t);
    feed("b");
    HT_ASSERT(!tt.stopped, "IXANY: any key restarts");
}

/* ---- input translation ----------------------------------------------------------- */

static void t_cr_nl(void)
{
    fresh();
    struct linux_termios t = tt.termios;
    t.c_iflag = IGNCR;
    tty_set_termios(&tt, &t);
    feed("a\rb\n");
    HT_ASSERT(!strcmp(rd(100), "ab\n"), "IGNCR drops CR");
    t.c_iflag = INLCR;
    tty_set_termios(&tt, &t);
    feed("c\nd\r");                               /* NL becomes CR, which ends no line */
    HT_ASSERT(!tty_input_ready(&tt, 1), "CR without ICRNL is data");
    t.c_iflag = ICRNL;
    tty_set_termios(&tt, &t);
    feed("\r");
    HT_ASSERT(!strcmp(rd(100), "c\rd\r\n"), "the line with its CRs");
}

/* ---- non-canonical mode ----------------------------------------------------------- */

static void t_raw(void)
{
    fresh();
    set_lflag(0, ICANON | ECHO);
    feed("ab");
    ECHOED("");
    HT_ASSERT(tty_input_ready(&tt, 1) && tty_input_ready(&tt, 2), "bytes at once");
    HT_ASSERT(!tty_input_ready(&tt, 3), "VMIN 3 not reached");
    HT_EQ_U(tty_input_count(&tt), 2);
    feed("\x7f\x15\n");                           /* no editing: all data */
    HT_ASSERT(!strcmp(rd(100), "ab\x7f\x15\n"), "everything, unedited");
    HT_ASSERT(tty_input_ready(&tt, 0), "VMIN 0: always ready");
    feed("\x03");                                 /* ISIG still applies */
    HT_EQ_U(nsigs, 1);
    set_lflag(ECHO, 0);
    feed("\x01z");
    ECHOED("^Az");
}

static void t_mode_switch(void)
{
    fresh();
    feed("ab");                                   /* an unfinished line... */
    set_lflag(0, ICANON);                         /* ...is readable in raw mode */
    HT_ASSERT(!strcmp(rd(1), "a"), "raw: one byte");
    feed("c");
    set_lflag(ICANON, 0);                         /* back: what is pending is one line */
    HT_ASSERT(tty_input_ready(&tt, 1), "a pushed line");
    HT_ASSERT(!strcmp(rd(100), "bc"), "bc without a newline");
    HT_ASSERT(!tty_input_ready(&tt, 1), "empty");
}

/* ---- a full buffer ------------------------------------------------------------------- */

static void t_overflow_canon(void)
{
    fresh();
    static char flood[5001];
    memset(flood, 'a', 5000);
    flood[5000] = 0;
    feed(flood);
    HT_EQ_U(tt.head - tt.tail, TTY_BUF_SIZE - 1);   /* the last slot waits for a newline */
    HT_EQ_U(tt.dropped, 5000 - (TTY_BUF_SIZE - 1));
    size_t bells = 0;
    for (size_t i = 0; i < out_len; i++)
        bells += out[i] == '\a';
    HT_EQ_U(bells, 5000 - (TTY_BUF_SIZE - 1));
    HT_ASSERT(!tty_input_ready(&tt, 1), "no line yet");
    feed("\x7f");                                 /* editing still works */
    feed("b\n");
    HT_ASSERT(tty_input_ready(&tt, 1), "the newline got in");
    const char *line = rd(8192);
    HT_EQ_U(strlen(line), TTY_BUF_SIZE);
    HT_ASSERT(line[TTY_BUF_SIZE - 2] == 'b' && line[TTY_BUF_SIZE - 1] == '\n', "ends in b\\n");
    HT_EQ_U(tt.head - tt.tail, 0);
    feed("again\n");                              /* and the terminal goes on */
    HT_ASSERT(!strcmp(rd(100), "again\n"), "usable afterwards");
}

static void t_overflow_full_of_lines(void)
{
    fresh();
    for (int i = 0; i < TTY_BUF_SIZE / 2; i++)
        feed("x\n");
    HT_EQ_U(tt.head - tt.tail, TTY_BUF_SIZE);
    uint64_t before = tt.dropped;
    feed("y\n");                                  /* nothing fits: refused */
    HT_EQ_U(tt.dropped, before + 2);
    HT_ASSERT(!strcmp(rd(100), "x\n"), "the oldest line is intact");
}

static void t_overflow_raw(void)
{
    fresh();
    set_lflag(0, ICANON | ECHO);
    static char flood[6001];
    memset(flood, 'r', 6000);
    feed(flood);
    HT_EQ_U(tty_input_count(&tt), TTY_BUF_SIZE);
    HT_EQ_U(tt.dropped, 6000 - TTY_BUF_SIZE);
    HT_EQ_U(strlen(rd(8192)), TTY_BUF_SIZE);
}

/* ---- output ------------------------------------------------------------------------ */

static void t_output(void)
{
    fresh();
    tty_write(&tt, "a\nb", 3);
    ECHOED("a\r\nb");
    HT_EQ_U(tt.column, 1);
    struct linux_termios t = tt.termios;
    t.c_oflag |= XTABS;
    tty_set_termios(&tt, &t);
    tty_write(&tt, "\tx", 2);
    ECHOED("       x");                           /* from column 1 to 8 */
    HT_EQ_U(tt.column, 9);
    t.c_oflag = OPOST | OCRNL;
    tty_set_termios(&tt, &t);
    tty_write(&tt, "\r", 1);
    ECHOED("\n");
    t.c_oflag = OPOST | ONOCR;
    tty_set_termios(&tt, &t);
    tty_write(&tt, "\r", 1);                      /* column 9: sent, back to 0 */
    tty_write(&tt, "\r", 1);                      /* at column 0: dropped */
    ECHOED("\r");
    t.c_oflag = ONLCR;                            /* without OPOST nothing changes */
    tty_set_termios(&tt, &t);
    tty_write(&tt, "\n\t", 2);
    ECHOED("\n\t");
}

/* ---- the keyboard map ------------------------------------------------------------------- */

/* The bytes a sequence of scan codes gives, as a C string. */
static const char *keys(struct kbd_state *k, const uint8_t *codes, size_t n)
{
    static char buf[64];
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += kbd_scancode(k, codes[i], buf + len);
    buf[len] = 0;
    return buf;
}

#define KEYS(k, ...) keys(k, (const uint8_t[]){ __VA_ARGS__ }, \
                          sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void t_keymap(void)
{
    struct kbd_state k = { 0 };
    HT_ASSERT(!strcmp(KEYS(&k, 0x1e, 0x9e, 0x02, 0x82), "a1"), "a 1");
    HT_ASSERT(!strcmp(KEYS(&k, 0x2a, 0x1e, 0x02, 0xaa, 0x1e), "A!a"), "Shift, released");
    HT_ASSERT(!strcmp(KEYS(&k, 0x3a, 0xba, 0x1e, 0x02, 0x36, 0x1e, 0xb6), "A1a"),
              "Caps Lock: letters only, Shift undoes it");
    HT_ASSERT(!strcmp(KEYS(&k, 0x3a, 0xba, 0x1c, 0x0e, 0x0f, 0x01), "\r\x7f\t\x1b"),
              "Enter, Backspace, Tab, Esc");
    HT_ASSERT(!strcmp(KEYS(&k, 0x1d, 0x2e, 0x2b, 0x9d, 0x2e), "\x03\x1c" "c"),
              "Ctrl+C, Ctrl+\\, released");
    HT_ASSERT(!strcmp(KEYS(&k, 0xe0, 0x1d, 0x2c, 0xe0, 0x9d), "\x1a"), "right Ctrl+Z");
    HT_ASSERT(!strcmp(KEYS(&k, 0x38, 0x1e, 0xb8), "\x1b" "a"), "Alt: ESC first");
    HT_ASSERT(!strcmp(KEYS(&k, 0xe0, 0x48, 0xe0, 0xc8, 0xe0, 0x4b, 0xe0, 0x53),
                      "\x1b[A\x1b[D\x1b[3~"), "arrows and Delete");
    HT_ASSERT(!strcmp(KEYS(&k, 0x3b, 0x58), "\x1b[[A\x1b[24~"), "F1, F12");
    HT_ASSERT(!strcmp(KEYS(&k, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5, 0x30), "b"),
                      "Pause skipped whole");
    HT_ASSERT(!strcmp(KEYS(&k, 0xe0, 0x2a, 0xe0, 0x47, 0xe0, 0xaa), "\x1b[1~"),
              "fake shifts around Home ignored");
    HT_ASSERT(!strcmp(KEYS(&k, 0x00, 0xff, 0x59, 0x7f), ""), "errors and unknown codes");
}

static const struct htest cases[] = {
    HT_CASE(canon_line), HT_CASE(canon_one_line_per_read), HT_CASE(erase),
    HT_CASE(erase_without_echoe), HT_CASE(erase_tab), HT_CASE(kill), HT_CASE(werase),
    HT_CASE(eof), HT_CASE(echoctl_and_echo_off), HT_CASE(reprint_and_lnext),
    HT_CASE(signals), HT_CASE(ixon), HT_CASE(cr_nl), HT_CASE(raw), HT_CASE(mode_switch),
    HT_CASE(overflow_canon), HT_CASE(overflow_full_of_lines), HT_CASE(overflow_raw),
    HT_CASE(output), HT_CASE(keymap),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
