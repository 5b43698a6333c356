/*
 * test_tty_echo: the program the scripted terminal session talks to
 * (tests/tty_session.py; not one of the compared test programs).
 *
 * Started as init (or from a shell), it forks: the child reads the
 * terminal and reports every read as one line,
 *
 *     got 6: hello\n
 *
 * (the count read, then the bytes with control characters escaped), so
 * that the driver sees exactly what read() returned after the line
 * discipline's editing.  The parent waits and says how the child ended
 * ("tty_echo: child exited 0", "... killed by signal 2"): a ^C that
 * kills the child must leave the system running.  In the child:
 *  - SIGINT is caught (no SA_RESTART): "tty_echo: SIGINT", and the read
 *    it interrupted says "read: EINTR";
 *  - the line "raw" switches to non-canonical mode without echo (VMIN 1)
 *    and reports each byte read ("byte 61") until "q", then restores;
 *  - the line "timeout" reads once with VMIN 0, VTIME 5 (half a second);
 *  - end of file (^D on an empty line) ends the child with status 0.
 * The child is in the parent's process group, the terminal's foreground
 * group: both get the terminal's signals, and init ignores them.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void say(const char *s)
{
    (void)!write(1, s, strlen(s));
}

static void on_sigint(int sig)
{
    (void)sig;
    say("tty_echo: SIGINT\n");
}

static void report(const char *buf, long n)
{
    char out[4096 * 4 + 32];
    int k = snprintf(out, sizeof(out), "got %ld: ", n);
    for (long i = 0; i < n && k < (int)sizeof(out) - 8; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '\n')
            k += snprintf(out + k, sizeof(out) - (size_t)k, "\\n");
        else if (c < 32 || c == 127)
            k += snprintf(out + k, sizeof(out) - (size_t)k, "\\x%02x", c);
        else
            out[k++] = (char)c;
    }
    out[k++] = '\n';
    (void)!write(1, out, (size_t)k);
}

static void raw_mode(void)
{
    struct termios saved, t;
    tcgetattr(0, &saved);
    t = saved;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(0, TCSANOW, &t);
    say("tty_echo: raw\n");
    for (;;) {
        char c, line[32];
        long n = read(0, &c, 1);
        if (n != 1)
            break;
        snprintf(line, sizeof(line), "byte %02x\n", (unsigned char)c);
        say(line);
        if (c == 'q')
            break;
    }
    tcsetattr(0, TCSANOW, &saved);
    say("tty_echo: cooked\n");
}

static void timeout_read(void)
{
    struct termios saved, t;
    tcgetattr(0, &saved);
    t = saved;
    t.c_lflag &= ~(tcflag_t)ICANON;
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 5;
    tcsetattr(0, TCSANOW, &t);
    char buf[16];
    long n = read(0, buf, sizeof(buf));
    tcsetattr(0, TCSANOW, &saved);
    char line[48];
    snprintf(line, sizeof(line), "tty_echo: timeout read %ld\n", n);
    say(line);
}

static int child(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    say("tty_echo: ready\n");
    static char buf[8192];
    for (;;) {
        long n = read(0, buf, sizeof(buf));
        if (n < 0) {
            say(errno == EINTR ? "read: EINTR\n" : "read: error\n");
            if (errno != EINTR)
                return 1;
            continue;
        }
        report(buf, n);
        if (n == 0)
            return 0;
        if (n == 4 && !memcmp(buf, "raw\n", 4))
            raw_mode();
        else if (n == 8 && !memcmp(buf, "timeout\n", 8))
            timeout_read();
    }
}

int main(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(child());
    if (pid < 0) {
        say("tty_echo: fork failed\n");
        return 1;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    char line[64];
    if (WIFEXITED(st))
        snprintf(line, sizeof(line), "tty_echo: child exited %d\n", WEXITSTATUS(st));
    else
        snprintf(line, sizeof(line), "tty_echo: child killed by signal %d\n", WTERMSIG(st));
    say(line);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 0;
}
