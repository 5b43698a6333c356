/*
 * test_demand: demand paging, seen from user space.
 *
 * Nothing is allocated until it is touched, and every first touch of a
 * page is one minor fault (getrusage's ru_minflt, which must be a real
 * count): a first write, a first read (which may map the shared zero
 * page), and the first write after fork (copy-on-write, or only write
 * access given back when the page is no longer shared) each cost exactly
 * one fault per page; touching a page again costs none.  mincore reports
 * which pages are resident.  A page given back with MADV_DONTNEED reads
 * back as zero and is no longer resident (the brk side of "reads back as
 * zero" is in test_brk).
 *
 * Regions are 64 pages (256 KiB), too small to hold an aligned 2 MiB range,
 * so the host's transparent huge pages never turn 512 faults into one.
 */
#include "ut.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define N 64

static long minflt(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

static char *map(size_t pages)
{
    char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Touch every page of p once; returns the minor faults that cost. */
static long write_pages(char *p, size_t pages, char v)
{
    long before = minflt();
    for (size_t i = 0; i < pages; i++)
        p[i * PAGE] = v;
    return minflt() - before;
}

static long read_pages(const char *p, size_t pages, volatile char *sum)
{
    long before = minflt();
    for (size_t i = 0; i < pages; i++)
        *sum += p[i * PAGE];
    return minflt() - before;
}

/* mincore as a string of '0'/'1', one per page. */
static const char *residency(char *p, size_t pages, char *out)
{
    unsigned char vec[N];
    if (mincore(p, pages * PAGE, vec) != 0) {
        snprintf(out, N + 1, "mincore: %s", ut_errno_name(errno));
        return out;
    }
    for (size_t i = 0; i < pages; i++)
        out[i] = (vec[i] & 1) ? '1' : '0';
    out[pages] = 0;
    return out;
}

static void fault_counts(void)
{
    volatile char sum = 0;
    char *a = map(N), *b = map(N);
    if (!a || !b) {
        ut_check(0, "mmap", "%s", ut_errno_name(errno));
        return;
    }
    /* Warm up the code and stack of the loops on a scratch mapping. */
    char *warm = map(2);
    write_pages(warm, 2, 1);
    read_pages(warm, 2, &sum);

    long w = write_pages(a, N, 'w');
    ut_check(w == N, "first_write_one_fault_per_page", "%ld faults for %d pages", w, N);
    long again = write_pages(a, N, 'x');
    ut_check(again == 0, "second_write_no_fault", "%ld faults", again);
    long r = read_pages(b, N, &sum);
    ut_check(r == N, "first_read_one_fault_per_page", "%ld faults for %d pages", r, N);
    ut_check(sum == 0 + 2, "first_read_reads_zero", "pages read back non-zero");
    long rr = read_pages(b, N, &sum);
    ut_check(rr == 0, "second_read_no_fault", "%ld faults", rr);
    /* Writing a page that was only read: zero page -> own frame (a fault)
     * or a frame given at the read (none).  Both are fine. */
    long wr = write_pages(b, N, 'y');
    ut_note("writing %d pages first read: %ld faults (%s)", N, wr,
            wr == N ? "zero page replaced" : wr == 0 ? "frames given at the read" : "?");
    ut_check(wr == 0 || wr == N, "write_after_read_at_most_one_fault_per_page",
             "%ld faults for %d pages", wr, N);

    /* After fork the child's first writes are copy-on-write faults. */
    pid_t pid = ut_fork();
    if (pid == 0) {
        long c = write_pages(a, N, 'c');
        _exit(c == N ? 0 : c > 200 ? 200 : (int)c + 1);
    }
    int st = pid > 0 ? ut_wait(pid) : -1;
    char why[64];
    ut_check(ut_exited_with(st, 0), "child_cow_write_one_fault_per_page",
             "child: %s (exit n+1 = n faults)", ut_status_str(st, why, sizeof why));
    /* The child is gone: the parent's pages are no longer shared, but the
     * parent's entries are still write-protected: one fault per page gives
     * write access back (or copies), then none. */
    long pw = write_pages(a, N, 'p');
    ut_check(pw == N, "parent_write_after_child_exit_one_fault_per_page", "%ld faults", pw);
    ut_check(write_pages(a, N, 'q') == 0, "parent_second_write_no_fault", "faults");
    munmap(a, N * PAGE);
    munmap(b, N * PAGE);
    munmap(warm, 2 * PAGE);
}

static void untouched_costs_nothing(void)
{
    const size_t pages = 16384;            /* 64 MiB */
    long free0 = ut_meminfo("MemFree");
    char *p = map(pages);
    if (!p) {
        ut_check(0, "untouched_64mib_costs_no_memory", "mmap: %s", ut_errno_name(errno));
        return;
    }
    long f = write_pages(p + 8 * PAGE * 1024, 1, 1);   /* one page in the middle */
    long free1 = ut_meminfo("MemFree");
    ut_check(f == 1, "one_touch_in_64mib_one_fault", "%ld faults", f);
    if (ut_on_mmk())
        ut_check(free0 - free1 < 1024, "untouched_64mib_costs_no_memory",
                 "MemFree went down by %ld kB", free0 - free1);
    else
        ut_skip("untouched_64mib_costs_no_memory", "MemFree on the host moves with other processes");
    munmap(p, pages * PAGE);
}

static void mincore_checks(void)
{
    char res[N + 1], *p = map(16);
    if (!p) {
        ut_check(0, "mincore_untouched_not_resident", "mmap: %s", ut_errno_name(errno));
        return;
    }
    ut_check(strcmp(residency(p, 16, res), "0000000000000000") == 0,
             "mincore_untouched_not_resident", "got %s", res);
    for (int i = 0; i < 16; i += 3)
        p[i * PAGE] = 1;
    ut_check(strcmp(residency(p, 16, res), "1001001001001001") == 0,
             "mincore_written_pages_resident", "got %s", res);
    unsigned char vec[4];
    ut_check_errno("mincore_unaligned_einval", mincore(p + 1, PAGE, vec), EINVAL);
    munmap(p + 8 * PAGE, 8 * PAGE);
    ut_check_errno("mincore_unmapped_enomem", mincore(p, 16 * PAGE, vec), ENOMEM);
    munmap(p, 8 * PAGE);
}

static void dontneed(void)
{
    volatile char sum = 0;
    char res[N + 1], *p = map(16);
    if (!p) {
        ut_check(0, "madv_dontneed_reads_zero", "mmap: %s", ut_errno_name(errno));
        return;
    }
    memset(p, 'd', 16 * PAGE);
    int r = madvise(p + 4 * PAGE, 4 * PAGE, MADV_DONTNEED);
    ut_check(r == 0, "madv_dontneed_accepted", "madvise: %s", ut_errno_name(errno));
    ut_check(strcmp(residency(p, 16, res), "1111000011111111") == 0,
             "madv_dontneed_pages_not_resident", "got %s", res);
    long f = read_pages(p + 4 * PAGE, 4, &sum);
    int zero = 1, kept = 1;
    for (size_t i = 0; i < 16 * PAGE; i++) {
        if (i >= 4 * PAGE && i < 8 * PAGE)
            zero &= p[i] == 0;
        else
            kept &= p[i] == 'd';
    }
    ut_check(zero, "madv_dontneed_reads_zero", "a page given back kept data");
    ut_check(kept, "madv_dontneed_leaves_other_pages", "a neighbour page changed");
    ut_check(f == 4, "madv_dontneed_page_faults_again", "%ld faults for 4 pages", f);

    /* In a child, on pages shared copy-on-write: only the child's view changes. */
    memset(p, 'e', 16 * PAGE);
    pid_t pid = ut_fork();
    if (pid == 0) {
        if (madvise(p, 16 * PAGE, MADV_DONTNEED) != 0)
            _exit(2);
        for (size_t i = 0; i < 16 * PAGE; i++)
            if (p[i] != 0)
                _exit(1);
        _exit(0);
    }
    int st = pid > 0 ? ut_wait(pid) : -1;
    int intact = 1;
    for (size_t i = 0; i < 16 * PAGE; i++)
        intact &= p[i] == 'e';
    char why[64];
    ut_check(ut_exited_with(st, 0) && intact, "madv_dontneed_in_child_leaves_parent",
             "child %s, parent's pages %s", ut_status_str(st, why, sizeof why),
             intact ? "intact" : "changed");
    munmap(p, 16 * PAGE);
}

int main(void)
{
    ut_init();
    fault_counts();
    untouched_costs_nothing();
    mincore_checks();
    dontneed();
    return ut_done();
}
