/*
 * test_badelf: execve refuses corrupt ELF files and the system carries on.
 *
 *     test_badelf [DIR]        (default /badelf, where the initrd has them)
 *
 * DIR holds the files made by tests/user/mkbadelf.py and their MANIFEST,
 * one "name expectation" per line; mkbadelf.py explains each expectation.
 * Each file is given to execve in a child; a child whose execve fails
 * exits with 128 + errno, and the code inside every file exits with 42, so
 * the parent can tell "refused", "ran" and "killed" apart.  The errno or
 * signal seen goes into a note line, since it may differ between Linux and
 * mmk where the expectation allows it.
 */
#include "ut.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char manifest[8192];

static int load_manifest(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, manifest, sizeof manifest - 1);
    close(fd);
    if (n <= 0)
        return -1;
    manifest[n] = 0;
    return 0;
}

/* Exec path in a child; returns the wait status. */
static int try_exec(const char *path, const char *name)
{
    pid_t pid = ut_fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char *argv[] = { (char *)name, NULL };
        char *envp[] = { NULL };
        execve(path, argv, envp);
        _exit(128 + (errno & 0x7f));
    }
    return ut_wait(pid);
}

static int refused_with(int st, int e)
{
    return ut_exited_with(st, 128 + e);
}

int main(int argc, char **argv)
{
    ut_init();
    const char *dir = argc > 1 ? argv[1] : "/badelf";
    int mmk = ut_on_mmk();
    if (load_manifest(dir) < 0) {
        ut_check(0, "read_manifest", "cannot read %s/MANIFEST", dir);
        return ut_done();
    }
    for (char *line = strtok(manifest, "\n"); line; line = strtok(NULL, "\n")) {
        char name[128], expect[32], path[512], check[192], why[64];
        if (sscanf(line, "%127s %31s", name, expect) != 2)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        int st = try_exec(path, name);
        int ok;
        const char *what = ut_status_str(st, why, sizeof why);
        if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) > 128) {
            snprintf(why, sizeof why, "execve: %s", ut_errno_name(WEXITSTATUS(st) - 128));
            what = why;
        }
        if (!strcmp(expect, "run42")) {
            ok = ut_exited_with(st, 42);
            snprintf(check, sizeof check, "%s_runs", name);
        } else if (!strcmp(expect, "enoexec")) {
            ok = refused_with(st, ENOEXEC);
            snprintf(check, sizeof check, "%s_refused_enoexec", name);
        } else if (!strcmp(expect, "refused")) {
            ok = refused_with(st, ENOEXEC) || (!mmk && refused_with(st, EIO));
            snprintf(check, sizeof check, "%s_refused", name);
        } else if (!strcmp(expect, "not_run")) {
            ok = refused_with(st, ENOEXEC) ||
                 (!mmk && (ut_killed_by(st, SIGSEGV) || ut_killed_by(st, SIGBUS) ||
                           ut_killed_by(st, SIGKILL)));
            snprintf(check, sizeof check, "%s_not_run", name);
        } else if (!strcmp(expect, "mmk_enoexec")) {
            ok = !mmk || refused_with(st, ENOEXEC);
            snprintf(check, sizeof check, "%s_refused_on_mmk", name);
        } else if (!strcmp(expect, "no_entry")) {
            ok = refused_with(st, ENOEXEC) || ut_killed_by(st, SIGSEGV);
            snprintf(check, sizeof check, "%s_not_run", name);
        } else {
            ok = 0;
            snprintf(check, sizeof check, "%s_unknown_expectation_%s", name, expect);
        }
        ut_note("%s: %s", name, what);
        ut_check(ok, check, "%s (expected %s)", what, expect);
    }
    /* After all that, an ordinary fork and exit still work. */
    pid_t pid = ut_fork();
    if (pid == 0)
        _exit(7);
    ut_check(pid > 0 && ut_exited_with(ut_wait(pid), 7), "fork_after_bad_execs_works", "fork or wait failed");
    return ut_done();
}
