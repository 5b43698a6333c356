/*
 * test_swaperr: MADV_PAGEOUT, and swap I/O errors (docs/reclaim.md,
 * docs/swap.md "I/O errors").
 *
 *     test_swaperr              MADV_PAGEOUT's errors (unaligned start,
 *                               holes, length 0, unknown advice) and, when
 *                               a swap area is on, what it does: the pages
 *                               of a range go out (pagemap's swapped bit and
 *                               entry, VmSwap up, VmRSS down, pswpout) and
 *                               come back intact; a page a forked child
 *                               shares stays until the child is gone; the
 *                               zero page stays; a hole still pages out the
 *                               mapped parts; MADV_COLD keeps the pages.
 *                               Without swap (the host oracle usually, the
 *                               user-programs boot) those checks are skipped
 *     test_swaperr errors R W   first, on an area whose slot R fails on read
 *                               and slot W = R + 1 on write (tests/run_all.py's
 *                               swap-errors boot, QEMU's blkdebug): a page
 *                               put in slot R gives SIGBUS (a child is killed
 *                               by it, a handler sees BUS_ADRERR at the
 *                               address), the page whose write failed stays
 *                               in memory with its data, the next page skips
 *                               the retired slot, which stays used in
 *                               /proc/swaps with no owner, and fork and exit
 *                               still work; then the checks above; last,
 *                               swapoff refuses the area (EBUSY: the
 *                               retired slot stays used).  On the host the
 *                               error checks print SKIP
 *
 * Pages land in slots one after the other: the page meant for slot R is
 * paged out and read back until the slot it gets (pagemap) is R.
 */
#include "ut.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define PM_SWAP    (1ull << 62)
#define PM_PRESENT (1ull << 63)

static int on_mmk, have_swap;

static long madv(void *addr, size_t len, int advice)
{
    return syscall(SYS_madvise, addr, len, advice);
}

static void *map(size_t pages)
{
    void *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    return p;
}

/* Page i of a region: bytes that say which page and which round. */
static void fill(unsigned char *p, unsigned i, unsigned seed)
{
    for (size_t k = 0; k < PAGE; k++)
        p[k] = (unsigned char)(k * 7 + i * 31 + seed);
}

static int same(const unsigned char *p, unsigned i, unsigned seed)
{
    for (size_t k = 0; k < PAGE; k++)
        if (p[k] != (unsigned char)(k * 7 + i * 31 + seed))
            return 0;
    return 1;
}

static uint64_t pagemap(const void *addr)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);
    uint64_t e = 0;
    if (fd < 0 || pread(fd, &e, 8, (off_t)((uintptr_t)addr / PAGE) * 8) != 8)
        e = 0;
    if (fd >= 0)
        close(fd);
    return e;
}

static int swapped(const void *addr)
{
    uint64_t e = pagemap(addr);
    return (e & PM_SWAP) && !(e & PM_PRESENT);
}

static int present(const void *addr)
{
    return (pagemap(addr) & PM_PRESENT) != 0;
}

/* The slot of a swapped page: bits 5..54 of its pagemap entry, or 0. */
static uint64_t slot_of(const void *addr)
{
    uint64_t e = pagemap(addr);
    return swapped(addr) ? (e & ((1ull << 55) - 1)) >> 5 : 0;
}

static long majflt(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_majflt;
}

/* ---- the SIGBUS handler -------------------------------------------------------- */

static sigjmp_buf bus_jmp;
static volatile int bus_code;
static void *volatile bus_addr;

static void on_bus(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    bus_code = si->si_code;
    bus_addr = si->si_addr;
    siglongjmp(bus_jmp, 1);
}

/* Read the first byte of p with a SIGBUS handler: 1 when SIGBUS came. */
static int read_gets_sigbus(volatile unsigned char *p, unsigned char *val)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &sa, &old);
    int got = 0;
    bus_code = 0;
    bus_addr = NULL;
    if (sigsetjmp(bus_jmp, 1) == 0)
        *val = p[0];
    else
        got = 1;
    sigaction(SIGBUS, &old, NULL);
    return got;
}

static int child_read(void *arg)
{
    volatile unsigned char *p = arg;
    return p[0] == 0x5a ? 3 : 4;      /* SIGBUS before either */
}

/* ---- errors ------------------------------------------------------------------------ */

static const char *const error_checks[] = {
    "swaperr_page_in_read_error_slot", "swaperr_write_error_page_stays",
    "swaperr_write_error_data_intact", "swaperr_retired_slot_skipped",
    "swaperr_good_page_back", "swaperr_child_killed_by_sigbus",
    "swaperr_handler_sees_bus_adrerr", "swaperr_entry_kept_after_error",
    "swaperr_failed_page_out_later", "swaperr_retired_slot_used",
    "swaperr_retired_slot_no_owner", "swaperr_fork_exit_after",
};

/* The area's path, the first line of /proc/swaps after the header. */
static int first_area(char *path, size_t size)
{
    FILE *f = fopen("/proc/swaps", "r");
    char line[256];
    int ok = f && fgets(line, sizeof line, f) && fgets(line, sizeof line, f) &&
             sscanf(line, "%255s", path) == 1;
    (void)size;
    if (f)
        fclose(f);
    return ok;
}

/* Last, with a retired slot: swapoff brings every page back, then finds
 * the retired slot still used and refuses; the area stays on. */
static void swapoff_refused(void)
{
    char path[256];
    if (!on_mmk || !have_swap || !first_area(path, sizeof path)) {
        ut_skip("swaperr_swapoff_busy", "no disk with injected errors here");
        return;
    }
    long r = syscall(SYS_swapoff, path);
    int e = errno;
    ut_check(r == -1 && e == EBUSY && ut_swap_used() >= 4, "swaperr_swapoff_busy",
             "swapoff %s: %ld (%s)", path, r, ut_errno_name(e));
}

static void errors(uint64_t rslot, uint64_t wslot)
{
    if (!on_mmk || !have_swap) {
        for (size_t i = 0; i < sizeof error_checks / sizeof *error_checks; i++)
            ut_skip(error_checks[i], "no disk with injected errors here");
        return;
    }
    long used0 = ut_swap_used(), unowned0 = ut_swap_unowned();
    unsigned char *p = map(3);
    unsigned char *a = p, *b = p + PAGE, *c = p + 2 * PAGE;
    /* Page a out and back until it gets slot rslot. */
    uint64_t got = 0;
    int tries = 0;
    for (; tries < 4096; tries++) {
        fill(a, 0, 1);
        madv(a, PAGE, MADV_PAGEOUT);
        got = slot_of(a);
        if (got == 0 || got >= rslot)
            break;
        if (!same(a, 0, 1))           /* back in, its slot free again */
            break;
    }
    ut_check(got == rslot, "swaperr_page_in_read_error_slot", "page went to slot %lu, not %lu",
             (unsigned long)got, (unsigned long)rslot);
    /* The write to wslot fails: the page stays, the slot is retired. */
    fill(b, 1, 2);
    long r = madv(b, PAGE, MADV_PAGEOUT);
    ut_check(r == 0 && present(b) && !swapped(b), "swaperr_write_error_page_stays",
             "madvise %ld, pagemap %#llx", r, (unsigned long long)pagemap(b));
    ut_check(same(b, 1, 2), "swaperr_write_error_data_intact", "bytes changed");
    fill(c, 2, 3);
    madv(c, PAGE, MADV_PAGEOUT);
    ut_check(slot_of(c) == wslot + 1, "swaperr_retired_slot_skipped", "next page in slot %lu",
             (unsigned long)slot_of(c));
    ut_check(same(c, 2, 3), "swaperr_good_page_back", "bytes changed");
    ut_note("%d page-outs to reach slot %lu", tries + 1, (unsigned long)rslot);
    ut_note("slots: read error %lu, write error %lu, next %lu", (unsigned long)got,
            (unsigned long)wslot, (unsigned long)wslot + 1);
    /* The read of slot rslot fails: SIGBUS, in a child and here. */
    char st[64];
    int status = ut_run_child(child_read, a);
    ut_check(ut_killed_by(status, SIGBUS), "swaperr_child_killed_by_sigbus", "child: %s",
             ut_status_str(status, st, sizeof st));
    unsigned char v = 0;
    int bus = read_gets_sigbus(a, &v);
    ut_check(bus && bus_code == BUS_ADRERR && bus_addr == (void *)a,
             "swaperr_handler_sees_bus_adrerr", "SIGBUS %d, si_code %d, si_addr %p (page %p)",
             bus, bus_code, bus_addr, (void *)a);
    ut_check(swapped(a) && slot_of(a) == rslot, "swaperr_entry_kept_after_error",
             "pagemap %#llx", (unsigned long long)pagemap(a));
    /* The page whose write failed goes out later to a good slot. */
    madv(b, PAGE, MADV_PAGEOUT);
    ut_check(swapped(b) && slot_of(b) != wslot && same(b, 1, 2), "swaperr_failed_page_out_later",
             "slot %lu", (unsigned long)slot_of(b));
    /* Everything back or gone: only the retired slot stays used. */
    munmap(p, 3 * PAGE);
    long used = ut_swap_used(), unowned = ut_swap_unowned();
    ut_check(used == used0 + 4, "swaperr_retired_slot_used", "Used %ld kB, was %ld kB", used,
             used0);
    ut_check(unowned == unowned0 + 4, "swaperr_retired_slot_no_owner",
             "%ld kB without an owner, was %ld kB", unowned, unowned0);
    pid_t pid = ut_fork();
    if (pid == 0)
        _exit(7);
    status = ut_wait(pid);
    ut_check(ut_exited_with(status, 7), "swaperr_fork_exit_after", "child: %s",
             ut_status_str(status, st, sizeof st));
}

/* ---- MADV_PAGEOUT's arguments ------------------------------------------------------ */

static void arguments(void)
{
    unsigned char *p = map(4);
    memset(p, 1, 4 * PAGE);
    munmap(p + 2 * PAGE, PAGE);
    ut_check_errno("pageout_unaligned_einval", madv(p + 1, PAGE, MADV_PAGEOUT), EINVAL);
    ut_check_errno("pageout_unaligned_len0_einval", madv(p + 1, 0, MADV_PAGEOUT), EINVAL);
    ut_check(madv(p, 0, MADV_PAGEOUT) == 0, "pageout_len0", "not 0");
    ut_check(madv(p, 100, MADV_PAGEOUT) == 0, "pageout_short_len_rounds_up", "not 0");
    ut_check_errno("pageout_hole_enomem", madv(p, 4 * PAGE, MADV_PAGEOUT), ENOMEM);
    ut_check_errno("pageout_unmapped_enomem", madv(p + 2 * PAGE, PAGE, MADV_PAGEOUT), ENOMEM);
    if (sizeof(size_t) == 8)          /* (an i386 range cannot wrap the 64-bit kernel's) */
        ut_check_errno("pageout_wraps_einval", madv(p, (size_t)-2 * PAGE, MADV_PAGEOUT), EINVAL);
    ut_check_errno("unknown_advice_einval", madv(p, PAGE, 99), EINVAL);
    ut_check(madv(p, 2 * PAGE, MADV_COLD) == 0 && p[0] == 1 && p[PAGE] == 1, "cold_keeps_data",
             "not 0, or the bytes changed");
    unsigned char *n = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ut_check(madv(n, PAGE, MADV_PAGEOUT) == 0, "pageout_prot_none", "not 0");
    unsigned char *s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    s[0] = 9;
    ut_check(madv(s, PAGE, MADV_PAGEOUT) == 0 && s[0] == 9, "pageout_shared_anon_keeps_data",
             "not 0, or the byte changed");
    munmap(n, PAGE);
    munmap(s, PAGE);
    munmap(p, 4 * PAGE);
}

/* ---- MADV_PAGEOUT at work --------------------------------------------------------- */

#define N 8

static int wait_for_word(void *arg)
{
    int fd = *(int *)arg;
    char c;
    return read(fd, &c, 1) == 1 ? 0 : 1;
}

static void at_work(void)
{
    static const char *const names[] = {
        "pageout_pages_swapped", "pageout_entries_in_pagemap", "pageout_vmswap_grows",
        "pageout_rss_shrinks", "pageout_counts_pswpout", "pageout_pages_come_back",
        "pageout_major_faults", "pageout_vmswap_back", "pageout_write_after",
        "pageout_shared_with_child_stays", "pageout_after_child_gone",
        "pageout_zero_page_stays", "pageout_hole_mapped_parts_go",
        "pageout_fork_over_swapped",
    };
    if (!have_swap) {
        /* Nowhere to write: the call succeeds and nothing moves. */
        unsigned char *q = map(2);
        fill(q, 0, 4);
        fill(q + PAGE, 1, 4);
        long r = madv(q, 2 * PAGE, MADV_PAGEOUT);
        ut_check(r == 0 && present(q) && present(q + PAGE) && same(q, 0, 4) && same(q + PAGE, 1, 4),
                 "pageout_without_swap_keeps_pages", "madvise %ld, pagemap %#llx", r,
                 (unsigned long long)pagemap(q));
        munmap(q, 2 * PAGE);
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            ut_skip(names[i], "no swap area");
        return;
    }
    ut_skip("pageout_without_swap_keeps_pages", "a swap area is on");
    unsigned char *p = map(N);
    for (unsigned i = 0; i < N; i++)
        fill(p + i * PAGE, i, 5);
    long swap0 = ut_proc_field("/proc/self/status", "VmSwap");
    long rss0 = ut_proc_field("/proc/self/status", "VmRSS");
    long out0 = ut_proc_field("/proc/vmstat", "pswpout");
    long r = madv(p, N * PAGE, MADV_PAGEOUT);
    int all = r == 0, entries = 1;
    for (unsigned i = 0; i < N; i++) {
        all &= swapped(p + i * PAGE);
        uint64_t e = pagemap(p + i * PAGE);
        entries &= slot_of(p + i * PAGE) != 0 && (e & 31) < 32;
        for (unsigned k = 0; k < i; k++)
            entries &= slot_of(p + i * PAGE) != slot_of(p + k * PAGE);
    }
    long swap1 = ut_proc_field("/proc/self/status", "VmSwap");
    long rss1 = ut_proc_field("/proc/self/status", "VmRSS");
    long out1 = ut_proc_field("/proc/vmstat", "pswpout");
    ut_check(all, "pageout_pages_swapped", "madvise %ld, page 0: %#llx", r,
             (unsigned long long)pagemap(p));
    ut_check(entries, "pageout_entries_in_pagemap", "a slot 0 or used twice");
    ut_check(swap1 - swap0 == N * 4, "pageout_vmswap_grows", "VmSwap %ld -> %ld kB", swap0, swap1);
    ut_check(rss0 - rss1 >= N * 4, "pageout_rss_shrinks", "VmRSS %ld -> %ld kB", rss0, rss1);
    ut_check(out1 - out0 >= N, "pageout_counts_pswpout", "pswpout %ld -> %ld", out0, out1);
    long maj0 = majflt();
    int back = 1;
    for (unsigned i = 0; i < N; i++)
        back &= same(p + i * PAGE, i, 5) && present(p + i * PAGE);
    long maj1 = majflt();
    ut_check(back, "pageout_pages_come_back", "bytes changed, or not present");
    /* At least the first read is a major fault; read-ahead may bring the
     * others in with it (then their faults are minor). */
    ut_note("%ld major faults for %d pages read back", maj1 - maj0, N);
    if (on_mmk)
        ut_check(maj1 - maj0 >= 1 && maj1 - maj0 <= N, "pageout_major_faults",
                 "%ld major faults", maj1 - maj0);
    else
        ut_skip("pageout_major_faults", "Linux may find the pages still in the swap cache");
    ut_check(ut_proc_field("/proc/self/status", "VmSwap") == swap0, "pageout_vmswap_back",
             "VmSwap %ld kB", ut_proc_field("/proc/self/status", "VmSwap"));
    madv(p, PAGE, MADV_PAGEOUT);
    p[0] = 0x77;
    ut_check(p[0] == 0x77 && p[1] == (unsigned char)(7 + 5) && present(p), "pageout_write_after",
             "the write or the rest of the page lost");

    /* A page a child shares stays; once the child is gone it goes. */
    int fds[2];
    if (pipe(fds))
        exit(2);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[1]);
        _exit(wait_for_word(&fds[0]));
    }
    close(fds[0]);
    madv(p + PAGE, PAGE, MADV_PAGEOUT);
    ut_check(present(p + PAGE) && !swapped(p + PAGE), "pageout_shared_with_child_stays",
             "pagemap %#llx", (unsigned long long)pagemap(p + PAGE));
    if (write(fds[1], "x", 1) != 1)
        exit(2);
    close(fds[1]);
    ut_wait(pid);
    madv(p + PAGE, PAGE, MADV_PAGEOUT);
    ut_check(swapped(p + PAGE) && same(p + PAGE, 1, 5), "pageout_after_child_gone",
             "pagemap %#llx", (unsigned long long)pagemap(p + PAGE));

    /* The zero page is nobody's: it stays. */
    unsigned char *z = map(1);
    volatile unsigned char zv = z[0];
    (void)zv;
    madv(z, PAGE, MADV_PAGEOUT);
    ut_check(present(z) && z[0] == 0, "pageout_zero_page_stays", "pagemap %#llx",
             (unsigned long long)pagemap(z));

    /* A hole: ENOMEM, and the mapped parts still go out. */
    unsigned char *h = map(3);
    fill(h, 0, 9);
    fill(h + 2 * PAGE, 2, 9);
    munmap(h + PAGE, PAGE);
    r = madv(h, 3 * PAGE, MADV_PAGEOUT);
    ut_check(r == -1 && swapped(h) && swapped(h + 2 * PAGE) && same(h, 0, 9) &&
                 same(h + 2 * PAGE, 2, 9),
             "pageout_hole_mapped_parts_go", "madvise %ld, pagemap %#llx", r,
             (unsigned long long)pagemap(h));

    /* Fork over a swapped page: both read it. */
    madv(p + 2 * PAGE, PAGE, MADV_PAGEOUT);
    int was_out = swapped(p + 2 * PAGE);
    pid = ut_fork();
    if (pid == 0)
        _exit(same(p + 2 * PAGE, 2, 5) ? 0 : 1);
    int status = ut_wait(pid);
    ut_check(was_out && ut_exited_with(status, 0) && same(p + 2 * PAGE, 2, 5),
             "pageout_fork_over_swapped", "out %d, child status %d", was_out, status);
    munmap(z, PAGE);
    munmap(h, PAGE);
    munmap(h + 2 * PAGE, PAGE);
    munmap(p, N * PAGE);
}

int main(int argc, char **argv)
{
    ut_init();
    on_mmk = ut_on_mmk();
    have_swap = ut_proc_field("/proc/meminfo", "SwapTotal") > 0;
    if (argc > 1 && !strcmp(argv[1], "errors")) {
        uint64_t r = argc > 2 ? strtoull(argv[2], NULL, 0) : 256;
        uint64_t w = argc > 3 ? strtoull(argv[3], NULL, 0) : r + 1;
        errors(r, w);
    }
    arguments();
    at_work();
    if (argc > 1 && !strcmp(argv[1], "errors"))
        swapoff_refused();
    return ut_done();
}
