/*
 * test_numa_fallback: a node that runs out falls back to the nearest one
 * (docs/numa.md, "Nodes in the page allocator"), and the counters say so.
 *
 * The program prefers (MPOL_PREFERRED) the smallest node with memory that
 * it can fill quickly (at most 640 MiB free) and touches pages until
 * move_pages says one landed elsewhere.  Then:
 *  - that page is on the node nearest to the preferred one
 *    (/sys/devices/system/node/nodeN/distance when present, else any
 *    other node), and every page before it on the preferred node;
 *  - /proc/zoneinfo's numa_miss grew on the node that took the page and
 *    numa_foreign on the preferred node (Linux's meaning: the page was
 *    meant for the preferred node);
 *  - the contents of every page survive; after munmap, free memory is
 *    back near where it was.
 * On the host (one node) and on layouts without a small node, the checks
 * print # SKIP: the host's memory is left alone.
 */
#include "ut.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MPOL_DEFAULT 0
#define MPOL_PREFERRED 1
#define MPOL_F_MEMS_ALLOWED 4
#define MAXNODES 64
#define FILL_LIMIT_KB (640L << 10)

static const char *const names[] = { "fallback_happened", "fallback_to_nearest",
                                     "earlier_pages_on_preferred", "numa_miss_counted",
                                     "numa_foreign_counted", "contents_intact" };
#define NCHECKS (sizeof(names) / sizeof(names[0]))

static void skip_all(const char *why)
{
    for (unsigned i = 0; i < NCHECKS; i++)
        ut_skip(names[i], "%s", why);
}

/* Sum of a zoneinfo field ("pages free", "numa_miss"...) over node n's
 * zones; -1 when the node is not there. */
static long node_zone_sum(int n, const char *field)
{
    FILE *f = fopen("/proc/zoneinfo", "r");
    char line[256];
    long sum = -1;
    int in = 0;
    size_t flen = strlen(field);
    while (f && fgets(line, sizeof(line), f)) {
        int node;
        if (sscanf(line, "Node %d,", &node) == 1) {
            in = node == n;
            if (in && sum < 0)
                sum = 0;
            continue;
        }
        char *p = line;
        while (*p == ' ')
            p++;
        if (in && strncmp(p, field, flen) == 0 && p[flen] == ' ')
            sum += atol(p + flen);
    }
    if (f)
        fclose(f);
    return sum;
}

/* Distance from a to b from sysfs, or -1. */
static int distance(int a, int b)
{
    char path[80];
    snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/distance", a);
    FILE *f = fopen(path, "r");
    int d = -1, v;
    for (int i = 0; f && i <= b && fscanf(f, "%d", &v) == 1; i++)
        if (i == b)
            d = v;
    if (f)
        fclose(f);
    return d;
}

static int page_node(void *addr)
{
    void *pages[1] = { addr };
    int status[1] = { -1 };
    if (syscall(SYS_move_pages, 0, 1UL, pages, NULL, status, 0) != 0)
        return -1;
    return status[0];
}

int main(void)
{
    ut_init();
    unsigned long allowed[MAXNODES / (8 * sizeof(long))] = { 0 };
    if (syscall(SYS_get_mempolicy, NULL, allowed, (unsigned long)MAXNODES + 1, NULL,
                MPOL_F_MEMS_ALLOWED) != 0) {
        skip_all("get_mempolicy failed");
        return ut_done();
    }
    int pref = -1, nodes = 0;
    long pref_kb = 0;
    for (int n = 0; n < MAXNODES; n++) {
        if (!(allowed[n / (8 * sizeof(long))] >> (n % (8 * sizeof(long))) & 1))
            continue;
        nodes++;
        long kb = node_zone_sum(n, "pages free") * 4;
        if (kb > 0 && (pref < 0 || kb < pref_kb))
            pref = n, pref_kb = kb;
    }
    if (!ut_on_mmk() || nodes < 2 || pref_kb > FILL_LIMIT_KB) {
        skip_all(!ut_on_mmk() ? "the host's memory is left alone"
                              : nodes < 2 ? "one node" : "no node small enough to fill");
        return ut_done();
    }
    ut_note("preferring node %d (%ld kB free) of %d nodes", pref, pref_kb, nodes);
    unsigned long m[MAXNODES / (8 * sizeof(long))] = { 0 };
    m[0] = 1UL << pref;
    ut_check(syscall(SYS_set_mempolicy, MPOL_PREFERRED, m, (unsigned long)MAXNODES + 1) == 0,
             "set_preferred", "set_mempolicy: %s", ut_errno_name(errno));
    long miss0[MAXNODES], foreign0 = node_zone_sum(pref, "numa_foreign");
    for (int n = 0; n < MAXNODES; n++)
        miss0[n] = node_zone_sum(n, "numa_miss");
    size_t len = (size_t)(pref_kb + (64L << 10)) * 1024, page = 4096, i;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    if (p == MAP_FAILED) {
        skip_all("mmap failed");
        return ut_done();
    }
    int other = -1;
    size_t off_pref = 0;
    for (i = 0; i < len / page; i++) {
        p[i * page] = (unsigned char)(i * 13 + 5);
        /* Look every 64 pages, then page by page near the end of the node. */
        if (i % 64 && (size_t)(pref_kb / 4) > i + 2048)
            continue;
        int n = page_node(p + i * page);
        if (n != pref) {
            other = n;
            break;
        }
    }
    size_t first_other = i;
    ut_note("page %zu of %zu went to node %d", first_other, len / page, other);
    ut_check(other >= 0, names[0], "%zu pages all on node %d", i, pref);
    int nearest = -1, dn = 1 << 30;
    for (int n = 0; n < MAXNODES; n++) {
        int d = distance(pref, n);
        if (n != pref && d > 0 && d < dn && node_zone_sum(n, "pages free") > 0)
            nearest = n, dn = d;
    }
    ut_check(other >= 0 && (nearest < 0 || other == nearest), names[1],
             "went to node %d, nearest to %d is %d", other, pref, nearest);
    for (size_t k = 0; k < first_other; k += 97) {
        int n = page_node(p + k * page);
        if (n != pref) {
            off_pref = k + 1;
            break;
        }
    }
    ut_check(off_pref == 0, names[2], "page %zu is on node %d", off_pref ? off_pref - 1 : 0,
             off_pref ? page_node(p + (off_pref - 1) * page) : -1);
    long miss = other >= 0 ? node_zone_sum(other, "numa_miss") - miss0[other] : 0;
    long foreign = node_zone_sum(pref, "numa_foreign") - foreign0;
    ut_check(miss > 0, names[3], "numa_miss on node %d +%ld", other, miss);
    ut_check(foreign > 0, names[4], "numa_foreign on node %d +%ld", pref, foreign);
    size_t bad = 0;
    for (size_t k = 0; k <= first_other && k < len / page; k++)
        bad += p[k * page] != (unsigned char)(k * 13 + 5);
    ut_check(bad == 0, names[5], "%zu pages changed", bad);
    munmap(p, len);
    syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0UL);
    return ut_done();
}
