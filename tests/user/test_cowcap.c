/*
 * test_cowcap: copy-on-write capacity.
 *
 * The process allocates and touches more than half of RAM (MemTotal from
 * /proc/meminfo), then forks twice in a row; each child reads a sample of
 * the pages and exits at once.  With eager copying the first fork would
 * already need more memory than is left, so both forks succeeding shows
 * that fork shared the frames instead of copying them.
 *
 *     test_cowcap [MiB]
 *
 * MiB caps the amount touched.  On mmk the default is no cap; on the host
 * (which is a shared machine with many GiB) it is 256 MiB, and the "more
 * than half of RAM" check is then reported as skipped.
 */
#include "ut.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define HOST_CAP_MIB 256
#define SAMPLE 61           /* children read every 61st page (a prime stride) */

static unsigned long *mem;
static size_t npages;

static unsigned long pattern(size_t i)
{
    return i * 2654435761UL + 12345;
}

static int child_check(void *unused)
{
    (void)unused;
    for (size_t i = 0; i < npages; i += SAMPLE)
        if (mem[i * (PAGE / sizeof *mem)] != pattern(i))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    ut_init();
    int mmk = ut_on_mmk();
    long total = ut_meminfo("MemTotal"), avail = ut_meminfo("MemAvailable");
    if (total <= 0 || avail <= 0) {
        ut_check(0, "read_meminfo", "no MemTotal/MemAvailable in /proc/meminfo");
        return ut_done();
    }
    long cap_kb = argc > 1 ? atol(argv[1]) * 1024 : mmk ? 0 : HOST_CAP_MIB * 1024L;
    long want_kb = total / 2 + total / 16;      /* 56% of RAM */
    int capped = cap_kb > 0 && want_kb > cap_kb;
    long kb = capped ? cap_kb : want_kb;
    ut_note("MemTotal %ld kB, MemAvailable %ld kB, touching %ld kB", total, avail, kb);
    if (!capped && kb > avail - 8192) {
        ut_check(0, "more_than_half_of_ram_touched",
                 "only %ld kB available, %ld kB needed (more than half of %ld kB)", avail, kb,
                 total);
        return ut_done();
    }
    npages = (size_t)kb / 4;
    mem = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        ut_check(0, "more_than_half_of_ram_touched", "mmap of %ld kB: %s", kb,
                 ut_errno_name(errno));
        return ut_done();
    }
    for (size_t i = 0; i < npages; i++)
        mem[i * (PAGE / sizeof *mem)] = pattern(i);
    if (capped)
        ut_skip("more_than_half_of_ram_touched", "capped at %ld MiB on the host", cap_kb / 1024);
    else
        ut_check(1, "more_than_half_of_ram_touched", "-");

    /* Two forks in a row; each child reads its sample and exits at once. */
    pid_t pid[2];
    int err[2];
    for (int k = 0; k < 2; k++) {
        pid[k] = ut_fork();
        err[k] = errno;
        if (pid[k] == 0)
            _exit(child_check(NULL));
    }
    int st[2];
    char why[2][64];
    for (int k = 0; k < 2; k++) {
        st[k] = pid[k] > 0 ? ut_wait(pid[k]) : -1;
        ut_status_str(st[k], why[k], sizeof why[k]);
    }
    ut_check(pid[0] > 0, "first_fork_succeeded", "fork: %s", ut_errno_name(err[0]));
    ut_check(pid[1] > 0, "second_fork_succeeded", "fork: %s", ut_errno_name(err[1]));
    ut_check(ut_exited_with(st[0], 0) && ut_exited_with(st[1], 0), "children_see_the_data",
             "first child %s, second %s", why[0], why[1]);
    ut_check(child_check(NULL) == 0, "parent_data_intact", "a sampled page changed");
    munmap(mem, npages * PAGE);
    return ut_done();
}
