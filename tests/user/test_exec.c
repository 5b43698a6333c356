/*
 * test_exec: what execve hands the new program, and what it keeps.
 *
 * The program execs itself in a child with chosen arguments and
 * environment (including an empty string and a string with a blank); the
 * new image checks what it received and writes one character per check
 * ('1' held, '0' did not) into a pipe it inherited across exec:
 * argv and envp exactly as given, the auxiliary vector (AT_PAGESZ 4096,
 * AT_PHDR/AT_PHNUM describing its own program headers, AT_ENTRY = _start,
 * 16 readable AT_RANDOM bytes), the same pid and parent as before exec,
 * the inherited file descriptor, and no trace of a mapping made before
 * exec.  A failed execve (ENOENT) leaves the caller untouched.
 *
 *     test_exec            (argv[0] must be the program's path: it execs itself)
 */
#include "ut.h"

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#if UINTPTR_MAX > 0xffffffffu
typedef Elf64_Phdr Phdr;
#else
typedef Elf32_Phdr Phdr;
#endif

extern char _start[];
extern char **environ;

static const char *const checks[] = {
    "exec_argv_delivered",
    "exec_envp_delivered",
    "auxv_pagesz_4096",
    "auxv_phdr_describes_the_program",
    "auxv_entry_is_start",
    "auxv_random_16_bytes",
    "exec_keeps_pid",
    "exec_keeps_parent",
    "exec_keeps_open_fds",
    "exec_drops_old_mappings",
};
#define NCHECKS (sizeof checks / sizeof checks[0])

static char *const child_env[] = { "A=1", "EMPTY=", "WITH BLANK=x y", NULL };

/* The exec'd image: argv = self, "--execd", fd, pid, ppid, addr, "a b", "", "last". */
static int execd_main(int argc, char **argv)
{
    char res[NCHECKS + 1];
    memset(res, '0', NCHECKS);
    res[NCHECKS] = 0;
    if (argc != 9)
        return 2;
    int fd = atoi(argv[2]);
    long pid = atol(argv[3]), ppid = atol(argv[4]);
    uintptr_t old = (uintptr_t)strtoull(argv[5], NULL, 16);

    res[0] = '0' + (!strcmp(argv[6], "a b") && !strcmp(argv[7], "") && !strcmp(argv[8], "last") &&
                    argv[9] == NULL);
    int n = 0, same = 1;
    for (char **e = environ; *e; e++, n++)
        same &= n < 3 && !strcmp(*e, child_env[n]);
    res[1] = '0' + (same && n == 3 && environ == argv + argc + 1);

    res[2] = '0' + (getauxval(AT_PAGESZ) == 4096);
    const Phdr *ph = (const Phdr *)getauxval(AT_PHDR);
    unsigned long phnum = getauxval(AT_PHNUM);
    int text = 0;
    for (unsigned long i = 0; ph && i < phnum && i < 64; i++)
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X) &&
            (uintptr_t)&execd_main >= ph[i].p_vaddr &&
            (uintptr_t)&execd_main < ph[i].p_vaddr + ph[i].p_memsz)
            text = 1;
    res[3] = '0' + text;
    res[4] = '0' + (getauxval(AT_ENTRY) == (uintptr_t)_start);
    const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
    int nonzero = 0;
    for (int i = 0; rnd && i < 16; i++)
        nonzero |= rnd[i];
    res[5] = '0' + (rnd != NULL && nonzero);
    res[6] = '0' + (getpid() == pid);
    res[7] = '0' + (getppid() == ppid);
    unsigned char vec;
    errno = 0;
    int mc = mincore((void *)old, PAGE, &vec);
    res[9] = '0' + (mc == -1 && errno == ENOMEM);
    res[8] = '1';                   /* provisional: the write below proves it */
    return ut_write_full(fd, res, NCHECKS) == 0 ? 0 : 3;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--execd"))
        return execd_main(argc, argv);
    ut_init();

    int p[2];
    char *old = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pipe(p) < 0 || old == MAP_FAILED) {
        ut_check(0, "setup", "%s", ut_errno_name(errno));
        return ut_done();
    }
    old[0] = 1;
    long parent = getpid();
    pid_t pid = ut_fork();
    if (pid == 0) {
        char fd[16], mypid[24], ppid[24], addr[24];
        snprintf(fd, sizeof fd, "%d", p[1]);
        snprintf(mypid, sizeof mypid, "%ld", (long)getpid());
        snprintf(ppid, sizeof ppid, "%ld", parent);
        snprintf(addr, sizeof addr, "%lx", (unsigned long)(uintptr_t)old);
        char *args[] = { argv[0], "--execd", fd, mypid, ppid, addr, "a b", "", "last", NULL };
        close(p[0]);
        execve(argv[0], args, child_env);
        _exit(100);
    }
    close(p[1]);
    char res[NCHECKS];
    int got = ut_read_full(p[0], res, NCHECKS) == 0;
    close(p[0]);
    int st = pid > 0 ? ut_wait(pid) : -1;
    char why[64];
    ut_status_str(st, why, sizeof why);
    for (size_t i = 0; i < NCHECKS; i++)
        ut_check(got && res[i] == '1', checks[i], got ? "the exec'd program says no"
                                                     : "no report from the exec'd program (%s)", why);
    ut_check(ut_exited_with(st, 0), "exec_exit_status_reaches_parent", "child: %s", why);

    char *args[] = { "/no/such/program", NULL };
    int r = execve(args[0], args, child_env);
    int e = errno;
    ut_check(r == -1 && e == ENOENT && old[0] == 1, "execve_enoent_leaves_caller_intact",
             "returned %d, errno %s", r, ut_errno_name(e));
    return ut_done();
}
