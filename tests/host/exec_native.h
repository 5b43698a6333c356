/*
 * The host kernel as an oracle for the exec tests: run one of the
 * tests/host/stackdump.c builds natively, with address randomisation off
 * (personality ADDR_NO_RANDOMIZE, as `setarch -R`), and read back its
 * initial stack, stack top and program break.
 *
 * EXEC_DIR (set by the Makefile) is where the four builds are:
 * stackdump64, stackdump64pie, stackdump32, stackdump32pie.
 */
#ifndef EXEC_NATIVE_H
#define EXEC_NATIVE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef EXEC_DIR
#define EXEC_DIR "build/host/exec"
#endif

struct native_run {
    uint64_t sp, top, brk;
    uint8_t *mem;        /* the bytes of [sp, top), malloc'd */
    size_t size;         /* top - sp */
};

/* The whole file at path, malloc'd; NULL if unreadable. */
static inline uint8_t *native_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    for (;;) {
        if (n == cap)
            b = realloc(b, cap *= 2);
        size_t got = fread(b + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *len = n;
    return b;
}

static inline int native_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/*
 * Run path with exactly argv and envp (NULL-terminated) and parse its
 * report.  Returns 0, or -1 with a sentence in err.
 */
static inline int native_run(const char *path, char *const argv[],
                             char *const envp[], struct native_run *out,
                             char *err, size_t errlen)
{
    int fds[2];
    memset(out, 0, sizeof(*out));
    if (pipe(fds) != 0) {
        snprintf(err, errlen, "pipe failed");
        return -1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork failed");
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 1);
        if (personality(ADDR_NO_RANDOMIZE) == -1)
            _exit(126);
        execve(path, argv, envp);
        _exit(127);
    }
    close(fds[1]);
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap);
    for (;;) {
        if (n + 1 >= cap)
            text = realloc(text, cap *= 2);
        ssize_t got = read(fds[0], text + n, cap - n - 1);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    text[n] = 0;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "%s: status %#x (126: personality refused, "
                 "127: exec failed; is IA32 emulation on?)", path, status);
        free(text);
        return -1;
    }

    uint64_t sp, top, brk;
    const char *mem = strstr(text, "\nmem ");
    if (sscanf(text, "sp %lx\ntop %lx\nbrk %lx\n", &sp, &top, &brk) != 3 ||
        !mem || top <= sp) {
        snprintf(err, errlen, "%s: unreadable report", path);
        free(text);
        return -1;
    }
    mem += 5;
    out->sp = sp;
    out->top = top;
    out->brk = brk;
    out->size = top - sp;
    out->mem = malloc(out->size);
    for (size_t i = 0; i < out->size; i++) {
        int hi = native_hex(mem[2 * i]), lo = hi < 0 ? -1 : native_hex(mem[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            snprintf(err, errlen, "%s: short memory dump", path);
            free(text);
            free(out->mem);
            out->mem = NULL;
            return -1;
        }
        out->mem[i] = (uint8_t)(hi << 4 | lo);
    }
    free(text);
    return 0;
}

#endif
