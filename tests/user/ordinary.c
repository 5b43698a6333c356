/*
 * ordinary: an ordinary C program, written with no thought of mmk.
 *
 * It stands for "an unmodified static musl program": stdio,
 * malloc of small and large blocks (musl's malloc uses brk and mmap),
 * realloc, calloc, qsort, string functions, floating point, fork and
 * waitpid.  It prints only deterministic results, so its output under
 * `make run-elf ELF=build/user/ordinary` must be byte for byte the output
 * of build/user/ordinary run on the host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long long seed = 12345;

static unsigned long next_random(void)
{
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned long)(seed >> 33);
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static double leibniz_pi(int terms)
{
    double sum = 0;
    for (int k = 0; k < terms; k++)
        sum += (k % 2 ? -4.0 : 4.0) / (2 * k + 1);
    return sum;
}

static int small_blocks(void)
{
    enum { N = 2000 };
    static char *blocks[N];
    static size_t sizes[N];
    for (int i = 0; i < N; i++) {
        sizes[i] = 1 + next_random() % 600;
        blocks[i] = malloc(sizes[i]);
        if (!blocks[i])
            return 0;
        memset(blocks[i], i & 0xff, sizes[i]);
    }
    for (int i = 0; i < N; i += 2) {       /* free every other one, then refill */
        free(blocks[i]);
        blocks[i] = strdup("again");
    }
    int ok = 1;
    for (int i = 0; i < N; i++) {
        if (i % 2 == 0)
            ok &= blocks[i] && strcmp(blocks[i], "again") == 0;
        else
            for (size_t k = 0; k < sizes[i]; k++)
                ok &= blocks[i][k] == (char)(i & 0xff);
        free(blocks[i]);
    }
    return ok;
}

static int large_blocks(void)
{
    size_t size = 8 << 20;
    unsigned char *p = malloc(size);
    if (!p)
        return 0;
    for (size_t i = 0; i < size; i += 4096)
        p[i] = (unsigned char)(i >> 12);
    unsigned char *q = realloc(p, 2 * size);
    if (!q)
        return 0;
    int ok = 1;
    for (size_t i = 0; i < size; i += 4096)
        ok &= q[i] == (unsigned char)(i >> 12);
    free(q);
    unsigned *z = calloc(1 << 20, sizeof *z);
    if (!z)
        return 0;
    for (size_t i = 0; i < (1 << 20); i += 1024)
        ok &= z[i] == 0;
    free(z);
    return ok;
}

int main(void)
{
    printf("ordinary: a plain C program\n");

    printf("small blocks: %s\n", small_blocks() ? "fine" : "WRONG");
    printf("large blocks: %s\n", large_blocks() ? "fine" : "WRONG");

    int numbers[1000];
    for (int i = 0; i < 1000; i++)
        numbers[i] = (int)(next_random() % 100000);
    qsort(numbers, 1000, sizeof numbers[0], compare_ints);
    long checksum = 0;
    for (int i = 0; i < 1000; i++)
        checksum = checksum * 31 % 1000000007 + numbers[i];
    printf("sorted: smallest %d, largest %d, checksum %ld\n", numbers[0], numbers[999], checksum);

    char text[128];
    snprintf(text, sizeof text, "%s-%05d-%x-%c", "fmt", 42, 0xbeef, 'z');
    printf("formatted: %s (%zu chars), parsed back %ld\n", text, strlen(text),
           strtol(strchr(text, '-') + 1, NULL, 10));
    printf("pi after a million terms: %.6f\n", leibniz_pi(1000000));

    fflush(stdout);                     /* nothing buffered may reach the child */
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        long sum = 0;
        for (int n = 2; n < 10000; n++) {
            int prime = 1;
            for (int d = 2; d * d <= n && prime; d++)
                prime = n % d != 0;
            if (prime)
                sum += n;
        }
        printf("child: sum of the primes below 10000 is %ld; my parent is %s\n", sum,
               getppid() == parent ? "the right one" : "WRONG");
        printf("child: pi after 1000 terms: %.6f\n", leibniz_pi(1000));
        exit((int)(sum % 256));
    }
    int status;
    if (waitpid(child, &status, 0) != child) {
        perror("waitpid");
        return 1;
    }
    if (WIFEXITED(status))
        printf("parent: child exited with %d\n", WEXITSTATUS(status));
    else
        printf("parent: child ended abnormally\n");
    printf("parent: pi is still %.6f\n", leibniz_pi(1000000));
    printf("ordinary: done\n");
    return 0;
}
