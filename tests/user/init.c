/*
 * init: the first user process of mmk (PID 1, /bin/init in the initrd).
 *
 *     init [-b BINDIR] [-l LIST]             a shell on the console
 *     init [-b BINDIR] [-l LIST] demo        the demo
 *     init [-b BINDIR] [-l LIST] test [NAME...]
 *
 * With no command, init prints a short banner of things to try and runs
 * busybox's shell (/bin/sh) as a login shell in a new session whose
 * controlling terminal is the console; when the shell exits, init starts
 * another one, as getty would.
 *
 * The demo runs a few programs from BINDIR (default /bin) one after the
 * other, then prints /proc/meminfo and /proc/buddyinfo, and exits 0.
 *
 * `test` runs the user test programs in turn: every line of LIST (default
 * /etc/user-tests, written by the Makefile), or the NAMEs given.  A line
 * is "[NAME=]PROGRAM [ARG...]": PROGRAM (in BINDIR) runs with the ARGs,
 * and NAME, which defaults to PROGRAM, names the run, so that one program
 * may be run by several lines ("busybox_applets=busybox sh applets.sh").
 * A NAME given on the command line is the line of that name, or else the
 * program of that name without arguments.  Around each program's own
 * output init prints two marker lines, which tests/run_all.py uses to cut
 * the output into one piece per run and to check for leaks
 * (docs/user-programs.md):
 *
 *     === begin NAME
 *     === end NAME: exit 0, MemFree 123456 kB -> 123456 kB, slab objects 789 -> 789, slab pages 40 -> 41
 *
 * ("signal 11" instead of "exit 0" when the program was killed; -1 for a
 * number that could not be read).  MemFree (/proc/meminfo), the active
 * slab objects and the pages held by slab caches (/proc/slabinfo) are read
 * just before the fork and after the program and every orphan it left have
 * been reaped.  A last line "=== done: N programs, N failed" ends the run;
 * init exits 0 when every program exited 0, else 1.
 *
 * As PID 1, init also reaps the orphans that programs leave behind.  It
 * needs nothing but execve's arguments, its open fds 1 and 2, BINDIR, LIST
 * and /proc; no /dev, no /tmp, no environment (the busybox scripts that
 * some lines run use /tmp themselves).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 16

extern char **environ;

static const char *bindir = "/bin";
static const char *listfile = "/etc/user-tests";

static const char *const demo_programs[] = { "ordinary", "ordinary32", "pagetable32", "test_cow",
                                              "test_demand", "pagemove" };

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

static long read_small_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t len = 0;
    ssize_t n;
    while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = 0;
    return (long)len;
}

static long memfree_kb(void)
{
    static char buf[4096];
    if (read_small_file("/proc/meminfo", buf, sizeof buf) < 0)
        return -1;
    char *p = strstr(buf, "MemFree:");
    return p ? strtol(p + 8, NULL, 10) : -1;
}

/* Every CPU's per-CPU arrays drained and the empty slabs freed (Linux's
 * drop_caches) before MemFree and the slab counts are read: objects
 * cached on other CPUs, and the slabs they keep, are no leak. */
static void drop_slab_caches(void)
{
    int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (fd >= 0) {
        if (write(fd, "2", 1) != 1)
            printf("init: drop_caches: %s\n", strerror(errno));
        close(fd);
    }
}

/* One cache's active objects, to name the caches whose count moved. */
#define MAX_CACHES 128
struct cache_count {
    char name[64];
    long active;
};

/* From /proc/slabinfo: the active objects and the pages of all caches,
 * and each cache's count in tab[] (MAX_CACHES entries, "" ends it). */
static void slab_counts(long *objects, long *pages, struct cache_count *tab)
{
    int ncaches = 0;
    tab[0].name[0] = 0;
    static char buf[65536];
    *objects = *pages = -1;
    if (read_small_file("/proc/slabinfo", buf, sizeof buf) <= 0)
        return;
    *objects = *pages = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        /* name active num objsize perslab pagesperslab : tunables l b s : slabdata act num sh */
        char name[64];
        long active, perslab, slabs;
        if (sscanf(line, "%63s %ld %*d %*d %*d %ld : tunables %*d %*d %*d : slabdata %*d %ld",
                   name, &active, &perslab, &slabs) == 4) {
            *objects += active;
            *pages += perslab * slabs;
            if (ncaches < MAX_CACHES - 1) {
                snprintf(tab[ncaches].name, sizeof tab[ncaches].name, "%s", name);
                tab[ncaches++].active = active;
                tab[ncaches].name[0] = 0;
            }
        }
    }
}

/* The caches whose active objects differ between two slab_counts. */
static void print_slab_moves(const struct cache_count *a, const struct cache_count *b)
{
    for (int i = 0; b[i].name[0]; i++) {
        long before = 0;
        for (int j = 0; a[j].name[0]; j++)
            if (!strcmp(a[j].name, b[i].name))
                before = a[j].active;
        if (before != b[i].active)
            printf("init: slab %s: %ld -> %ld active objects\n", b[i].name, before,
                   b[i].active);
    }
}

static void print_file(const char *path)
{
    char buf[1024];
    int fd = open(path, O_RDONLY);
    printf("init: %s\n", path);
    fflush(stdout);
    if (fd < 0) {
        printf("init: cannot open %s: %s\n", path, strerror(errno));
        return;
    }
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (write(1, buf, (size_t)n) != n)
            break;
    close(fd);
}

/* Reap every child that has exited; with `all`, wait (up to 10 s) until
 * no child is left at all: orphans of a program may still be exiting. */
static void reap_orphans(int all)
{
    for (int waited = 0;;) {
        pid_t r = wait4(-1, NULL, WNOHANG, NULL);
        if (r > 0)
            continue;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || !all || waited >= 10000)
            return;                 /* ECHILD: nobody left */
        sleep_ms(50);
        waited += 50;
    }
}

/* Fork and exec BINDIR/argv[0]; wait for it, reaping orphans on the way.
 * Returns its wait status, or -1 when fork failed. */
static int run(char **argv)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", bindir, argv[0]);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        printf("init: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        char *args[MAX_ARGS + 2];
        int i = 0;
        args[i++] = path;
        for (int k = 1; argv[k] && i <= MAX_ARGS; k++)
            args[i++] = argv[k];
        args[i] = NULL;
        execve(path, args, environ);
        printf("init: cannot execute %s: %s\n", path, strerror(errno));
        fflush(stdout);
        _exit(127);
    }
    for (;;) {
        int status;
        pid_t r = wait4(-1, &status, 0, NULL);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR) {
            printf("init: wait4: %s\n", strerror(errno));
            return -1;
        }
    }
}

static void status_str(int st, char *buf, size_t size)
{
    if (st == -1)
        snprintf(buf, size, "exit -1");
    else if (WIFSIGNALED(st))
        snprintf(buf, size, "signal %d", WTERMSIG(st));
    else
        snprintf(buf, size, "exit %d", WEXITSTATUS(st));
}

static int demo(void)
{
    printf("init: the mmk demo init, pid %d\n", (int)getpid());
    for (size_t i = 0; i < sizeof demo_programs / sizeof demo_programs[0]; i++) {
        char *argv[] = { (char *)demo_programs[i], NULL };
        char st[32];
        printf("init: running %s/%s\n", bindir, argv[0]);
        status_str(run(argv), st, sizeof st);
        reap_orphans(0);
        printf("init: %s/%s: %s\n", bindir, argv[0], st);
    }
    print_file("/proc/meminfo");
    print_file("/proc/buddyinfo");
    printf("init: done\n");
    fflush(stdout);
    return 0;
}

/* Run one test program between the two markers: `name` is what they
 * call it, argv[0] the program in BINDIR. */
static int run_test(const char *name, char **argv)
{
    char st[32];
    reap_orphans(1);
    drop_slab_caches();
    static struct cache_count caches0[MAX_CACHES], caches1[MAX_CACHES];
    long free0 = memfree_kb(), obj0, pages0, obj1, pages1;
    slab_counts(&obj0, &pages0, caches0);
    printf("=== begin %s\n", name);
    int status = run(argv);
    reap_orphans(1);
    drop_slab_caches();
    long free1 = memfree_kb();
    slab_counts(&obj1, &pages1, caches1);
    status_str(status, st, sizeof st);
    printf("=== end %s: %s, MemFree %ld kB -> %ld kB, slab objects %ld -> %ld, "
           "slab pages %ld -> %ld\n", name, st, free0, free1, obj0, obj1, pages0, pages1);
    if (obj1 != obj0)
        print_slab_moves(caches0, caches1);   /* after the end line: not the program's output */
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* One line of LIST: "[NAME=]PROGRAM [ARG...]".  Without NAME= the
 * program's name is the line's name. */
struct test_line {
    char *name;
    char *argv[MAX_ARGS + 1];
};

#define MAX_LINES 256

static struct test_line lines[MAX_LINES];

/* Split LIST (modified in place) into `lines`; returns their number, or -1
 * with a message for a line init cannot run as written. */
static int parse_list(char *list)
{
    int n = 0;
    char *save_line;
    for (char *line = strtok_r(list, "\n", &save_line); line;
         line = strtok_r(NULL, "\n", &save_line)) {
        struct test_line *t = &lines[n];
        int argc = 0;
        char *save_word, *w = strtok_r(line, " \t", &save_word);
        if (!w || w[0] == '#')
            continue;
        if (n == MAX_LINES) {
            printf("init: %s: more than %d lines\n", listfile, MAX_LINES);
            return -1;
        }
        for (; w; w = strtok_r(NULL, " \t", &save_word)) {
            if (argc == MAX_ARGS) {
                printf("init: %s: more than %d words in the line of %s\n", listfile,
                       MAX_ARGS, t->argv[0]);
                return -1;
            }
            t->argv[argc++] = w;
        }
        t->argv[argc] = NULL;
        t->name = t->argv[0];
        char *eq = strchr(t->argv[0], '=');
        if (eq) {
            *eq = 0;
            t->argv[0] = eq + 1;
            if (!t->name[0] || !t->argv[0][0]) {
                printf("init: %s: a line needs NAME=PROGRAM, not \"%s=%s\"\n", listfile,
                       t->name, t->argv[0]);
                return -1;
            }
        }
        for (int k = 0; k < n; k++)
            if (!strcmp(lines[k].name, t->name)) {
                printf("init: %s: two lines named %s (give one NAME=)\n", listfile, t->name);
                return -1;
            }
        n++;
    }
    return n;
}

/* With NAMEs, each one is the line of that name, or else the program of
 * that name without arguments; without, every line of LIST in turn. */
static int tests(char **names)
{
    static char list[16384];
    int n = 0, failed = 0, count = 0;
    long len = read_small_file(listfile, list, sizeof list);
    if (len >= (long)sizeof list - 1) {
        printf("init: %s is too large (%zu bytes or more)\n", listfile, sizeof list - 1);
        return 1;
    }
    if (len >= 0)
        count = parse_list(list);
    else if (!names[0]) {
        printf("init: cannot read %s: %s\n", listfile, strerror(errno));
        return 1;
    }
    if (count < 0)
        return 1;
    /* A first fork may set up kernel objects that stay (a cache's first
     * slab...): do one before any measurement. */
    fflush(stdout);
    pid_t warm = fork();
    if (warm == 0)
        _exit(0);
    reap_orphans(1);
    if (names[0]) {
        for (; names[n]; n++) {
            char *argv[] = { names[n], NULL };
            int k = 0;
            while (k < count && strcmp(lines[k].name, names[n]))
                k++;
            failed += k < count ? !run_test(lines[k].name, lines[k].argv)
                                : !run_test(names[n], argv);
        }
    } else {
        for (; n < count; n++)
            failed += !run_test(lines[n].name, lines[n].argv);
    }
    printf("=== done: %d programs, %d failed\n", n, failed);
    fflush(stdout);
    return failed ? 1 : 0;
}

static const char banner[] =
    "\n"
    "Welcome to mmk, a kernel about memory management.  Things to try:\n"
    "  cat /proc/buddyinfo    free blocks per order, per zone (the buddy allocator)\n"
    "  cat /proc/meminfo      free and used memory; free gives the short form\n"
    "  cat /proc/zoneinfo     the zones and their watermarks\n"
    "  cat /proc/slabinfo     the slab caches behind kmalloc and kmem_cache_alloc\n"
    "  cat /proc/vmallocinfo  the kernel's vmalloc/ioremap areas\n"
    "  cat /proc/self/maps    the mappings of the process reading it (cat itself)\n"
    "  test_cow, test_demand  copy-on-write and demand paging at work (ls /bin/test_*)\n"
    "  pagetable32            a 32-bit program printing its own PDE/PTE entries\n"
    "  busybox32 sh           the same shell, as a 32-bit program in compatibility mode\n"
    "  pagemove               pages moved out of the DMA zone while in use; F12 first\n"
    "                         shows the memory map (docs/memview.md)\n"
    "Ctrl-C interrupts a program, Ctrl-D leaves the shell (init starts a new one).\n"
    "\n";

/* The interactive console: a login shell in its own session, again and again. */
static int shell(void)
{
    char *argv[] = { "-sh", NULL };
    char *envp[] = { "HOME=/", "TERM=linux", "PATH=/bin:/sbin:/usr/bin:/usr/sbin",
                     "PS1=mmk:\\w# ", NULL };
    int quick = 0;
    for (;;) {
        fputs(banner, stdout);
        fflush(stdout);
        time_t started = time(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            printf("init: fork: %s\n", strerror(errno));
            return 1;
        }
        if (pid == 0) {
            setsid();
            ioctl(0, TIOCSCTTY, 1);   /* 1: take it from init's session, which holds it */
            execve("/bin/sh", argv, envp);
            printf("init: cannot execute /bin/sh: %s (try: init demo)\n", strerror(errno));
            fflush(stdout);
            _exit(127);
        }
        for (;;) {
            int status;
            pid_t r = wait4(-1, &status, 0, NULL);
            if (r == pid) {
                char st[32];
                status_str(status, st, sizeof st);
                if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                    return 1;
                /* A shell that ends at once, three times running, has no
                 * input (a console without a keyboard, or stdin at end of
                 * file): stop rather than print banners for ever. */
                quick = time(NULL) - started < 2 ? quick + 1 : 0;
                if (quick == 3) {
                    printf("init: the shell ended (%s) at once three times: no console input? "
                           "Stopping.\n", st);
                    return 0;
                }
                printf("init: the shell ended (%s); starting a new one\n", st);
                break;
            }
            if (r < 0 && errno != EINTR) {
                printf("init: wait4: %s\n", strerror(errno));
                return 1;
            }
        }
    }
}

int main(int argc, char **argv)
{
    static char outbuf[4096];
    setvbuf(stdout, outbuf, _IOLBF, sizeof outbuf);
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (!strcmp(argv[i], "-b"))
            bindir = argv[i + 1];
        else if (!strcmp(argv[i], "-l"))
            listfile = argv[i + 1];
        else
            break;
    }
    if (i < argc && !strcmp(argv[i], "test"))
        return tests(argv + i + 1);
    if (i < argc && !strcmp(argv[i], "demo") && i + 1 == argc)
        return demo();
    if (i < argc) {
        printf("usage: init [-b BINDIR] [-l LIST] [demo | test [NAME...]]\n");
        return 2;
    }
    return shell();
}
