/*
 * test_kswapd: the background reclaimer (mm/kswapd.c, docs/reclaim.md),
 * compared with the host's Linux where the host can show the same:
 *
 *  - kswapd0 is a kernel thread: /proc/PID/stat names it, its command
 *    line is empty (ps shows it in brackets), /proc/PID/status has no Vm
 *    lines (no address space), and it sleeps ('S') when there is nothing
 *    to do; on the host it is skipped when the PID namespace hides it;
 *  - on mmk, SIGKILL does not reach it (kill succeeds, it stays);
 *  - on mmk with swap (the swap-pressure boot): a process touches pages
 *    until the zone user pages come from is below its low watermark
 *    (/proc/zoneinfo), then sleeps; kswapd, woken by the allocator, pages
 *    out until the zone is above its high watermark, and /proc/vmstat's
 *    pgsteal_kswapd counts it while the process slept (pgsteal_direct
 *    does not move: the process did not reclaim itself); the pages come
 *    back intact.
 */
#define _GNU_SOURCE
#include "ut.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* The pid of the task whose comm is name, or 0. */
static int find_comm(const char *name)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int found = 0;
    while (d && !found && (e = readdir(d))) {
        char path[300], buf[256], want[40];
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t got = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[got] = 0;
        snprintf(want, sizeof(want), " (%s) ", name);
        if (strstr(buf, want))
            found = atoi(e->d_name);
    }
    if (d)
        closedir(d);
    return found;
}

/* Field `name` of a /proc/PID file ("State:"...) into out; 0 if found. */
static int pid_file_has(int pid, const char *file, const char *name, char *out, size_t size)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
    FILE *f = fopen(path, "r");
    int found = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, name, strlen(name)) == 0) {
            if (out)
                snprintf(out, size, "%s", line + strlen(name));
            found = 0;
            break;
        }
    if (f)
        fclose(f);
    return found;
}

static long cmdline_bytes(int pid)
{
    char path[64], buf[64];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long n = (long)fread(buf, 1, sizeof(buf), f);
    fclose(f);
    return n;
}

static void kthread_checks(void)
{
    int pid = find_comm("kswapd0");
    if (!pid && !ut_on_mmk()) {
        const char *names[] = { "kswapd0_listed", "kswapd0_no_cmdline", "kswapd0_no_mm",
                                "kswapd0_sleeps", "kswapd0_ignores_sigkill" };
        for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            ut_skip(names[i], "the host's kernel threads are outside this PID namespace");
        return;
    }
    ut_check(pid > 0, "kswapd0_listed", "no task named kswapd0 in /proc");
    if (!pid)
        return;
    ut_check(cmdline_bytes(pid) == 0, "kswapd0_no_cmdline", "%ld bytes in its cmdline",
             cmdline_bytes(pid));
    ut_check(pid_file_has(pid, "status", "VmSize:", NULL, 0) != 0, "kswapd0_no_mm",
             "its status has a VmSize line");
    /* Asleep, or at work (R) if memory is short right now. */
    char state[64] = "";
    pid_file_has(pid, "status", "State:", state, sizeof(state));
    ut_check(strchr(state, 'S') || strchr(state, 'R'), "kswapd0_sleeps", "State:%s", state);
    if (!ut_on_mmk()) {
        ut_skip("kswapd0_ignores_sigkill", "not sent to the host's kswapd");
        return;
    }
    int r = kill(pid, SIGKILL);
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    ut_check(r == 0 && find_comm("kswapd0") == pid, "kswapd0_ignores_sigkill",
             "kill gave %d, kswapd0 is now pid %d", r, find_comm("kswapd0"));
}

/* free, low and high (in pages) of zone name in /proc/zoneinfo; 0 if found. */
static int zone_marks(const char *name, long *free, long *low, long *high)
{
    FILE *f = fopen("/proc/zoneinfo", "r");
    char line[256];
    int in = 0, got = 0;
    while (f && fgets(line, sizeof(line), f)) {
        char zname[32];
        if (sscanf(line, "Node %*d, zone %31s", zname) == 1) {
            if (in)
                break;
            in = strcmp(zname, name) == 0;
            continue;
        }
        if (!in)
            continue;
        long v;
        if (sscanf(line, " pages free %ld", &v) == 1)
            *free = v, got |= 1;
        else if (sscanf(line, " low %ld", &v) == 1)
            *low = v, got |= 2;
        else if (sscanf(line, " high %ld", &v) == 1)
            *high = v, got |= 4;
    }
    if (f)
        fclose(f);
    return got == 7 ? 0 : -1;
}

static void reclaim_checks(void)
{
    const char *names[] = { "zone_went_below_low", "kswapd_reached_high",
                            "kswapd_did_the_work", "pages_back_intact" };
    long low, high, free;
    const char *zone = "Normal";
    if (zone_marks(zone, &free, &low, &high) || high == 0)
        zone = "DMA32";
    if (!ut_on_mmk() || ut_proc_field("/proc/meminfo", "SwapTotal") <= 0 ||
        zone_marks(zone, &free, &low, &high)) {
        for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            ut_skip(names[i], "%s", ut_on_mmk() ? "no swap (the swap-pressure boot has it)"
                                                : "the host's memory is left alone");
        return;
    }
    long total_kb = ut_proc_field("/proc/meminfo", "MemTotal");
    size_t len = (size_t)total_kb * 1024 * 2, n = 0;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    if (p == MAP_FAILED) {
        ut_check(0, names[0], "mmap of %zu bytes failed", len);
        return;
    }
    /* Touch pages until the zone is seen below its low watermark. */
    int below = 0;
    for (; n < len / PAGE && !below; n++) {
        p[n * PAGE] = (unsigned char)(n * 7 + 1);
        if (n % 64 == 63 && zone_marks(zone, &free, &low, &high) == 0)
            below = free < low;
    }
    ut_note("%s: %ld free, low %ld, high %ld after %zu pages", zone, free, low, high, n);
    ut_check(below, names[0], "%zu pages touched, %s still has %ld free (low %ld)", n, zone,
             free, low);
    long k0 = ut_proc_field("/proc/vmstat", "pgsteal_kswapd");
    long d0 = ut_proc_field("/proc/vmstat", "pgsteal_direct");
    /* Asleep: kswapd has the CPU; up to 5 s for it to reach high. */
    for (int i = 0; i < 50 && below; i++) {
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        if (zone_marks(zone, &free, &low, &high) == 0 && free >= high)
            break;
    }
    long k1 = ut_proc_field("/proc/vmstat", "pgsteal_kswapd");
    long d1 = ut_proc_field("/proc/vmstat", "pgsteal_direct");
    ut_note("pgsteal_kswapd +%ld, pgsteal_direct +%ld while asleep", k1 - k0, d1 - d0);
    ut_check(below && free >= high, names[1], "%s has %ld free, high %ld", zone, free, high);
    ut_check(below && k1 > k0 && d1 == d0, names[2],
             "pgsteal_kswapd %ld -> %ld, pgsteal_direct %ld -> %ld", k0, k1, d0, d1);
    size_t bad = 0;
    for (size_t i = 0; i < n; i += 8)
        bad += p[i * PAGE] != (unsigned char)(i * 7 + 1);
    ut_check(bad == 0, names[3], "%zu of every 8th page wrong", bad);
    munmap(p, len);
}

int main(void)
{
    ut_init();
    kthread_checks();
    reclaim_checks();
    return ut_done();
}
