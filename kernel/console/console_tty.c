/*
 * The console terminal: one struct tty (kernel/console/tty.c) whose input
 * is what COM1 receives and what the PS/2 keyboard types, and whose output
 * goes to COM1 and to the framebuffer console.  Processes reach it through
 * the console file (kernel/fs/console_file.c, their descriptors 0, 1, 2).
 *
 * The hooks the discipline calls:
 *  - output: COM1 byte for byte (the discipline has already turned \n into
 *    \r\n where ONLCR says so) and the screen;
 *  - signal: ^C, ^\ and ^Z go to the foreground process group;
 *  - wakeup: readers sleep on the tty, writers stopped by ^S on its
 *    `stopped` flag, and poll/select on the poll channel: all are woken.
 * They run in interrupt context (an input interrupt) or in a system call,
 * never both at once: the kernel runs with interrupts off.
 *
 * The terminal starts as the controlling terminal of session 1 with
 * process group 1 in the foreground: init's (pid 1 leads both), so the
 * first process and the shell it runs get ^C without asking.
 */
#include <kernel/console.h>
#include <kernel/file.h>
#include <kernel/printk.h>
#include <kernel/signal.h>
#include <kernel/task.h>
#include <kernel/tty.h>

static struct tty con;
static bool ready, has_input;

static void con_output(struct tty *t, const char *s, size_t n)
{
    (void)t;
    serial_write_raw(s, n);
    fbcon_write(s, n);
}

static void con_signal(struct tty *t, int sig)
{
    if (t->pgrp > 0)
        kill_pgrp(t->pgrp, sig);
}

static void con_wakeup(struct tty *t)
{
    wake_up(t);
    wake_up(&t->stopped);
    poll_wake();
}

static const struct tty_ops con_ops = {
    .output = con_output,
    .signal = con_signal,
    .wakeup = con_wakeup,
};

struct tty *console_tty(void)
{
    if (!ready) {
        tty_init(&con, &con_ops);
        if (fbcon_active()) {        /* the screen's size; 80x25 on serial alone */
            struct fbcon_info fi;
            fbcon_get_info(&fi);
            con.winsize.ws_col = (uint16_t)fi.cols;
            con.winsize.ws_row = (uint16_t)(fi.rows - 1);   /* the title row does not scroll */
            con.winsize.ws_xpixel = (uint16_t)(fi.cols * fi.glyph_w);
            con.winsize.ws_ypixel = (uint16_t)((fi.rows - 1) * fi.glyph_h);
        }
        con.session = 1;
        con.pgrp = 1;
        ready = true;
    }
    return &con;
}

void console_receive(const char *s, size_t n)
{
    tty_receive(console_tty(), s, n);
}

void console_input_init(void)
{
    console_tty();
    bool serial = serial_input_init();
    bool kbd = keyboard_init();
    has_input = serial || kbd;
    printk("console: input from %s%s%s\n", serial ? "COM1" : "",
           serial && kbd ? " and " : "", kbd ? "the PS/2 keyboard" : has_input ? "" : "nowhere "
           "(reads give end of file)");
}

bool console_has_input(void)
{
    return has_input;
}
