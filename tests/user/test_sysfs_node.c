/*
 * test_sysfs_node: the NUMA nodes as Linux shows them in
 * /sys/devices/system/node (docs/numa.md, "Seeing the nodes"), the files
 * numactl-style tools read.
 *
 * The node lists (possible, online, has_normal_memory, has_memory,
 * has_cpu) parse in Linux's bitmap list format and nest as Linux's node
 * states do; a nodeN directory exists for each online node and no
 * other; each has cpulist, distance, meminfo and numastat, regular
 * files of mode 0444 and size 4096.  Their texts agree with each other
 * and with /proc: the nodes' MemTotal add up to /proc/meminfo's (on mmk
 * exactly), MemUsed is MemTotal - MemFree, the nodes with memory are
 * the nodes with a MemTotal; the numastat counters summed over the nodes
 * lie between two readings of /proc/vmstat's numa_* lines taken before
 * and after (they only grow); the distance matrix has 10 on its
 * diagonal, more elsewhere, and is symmetric; the CPU getcpu names is in
 * its node's cpulist.  Then the file system's behaviour: opening for
 * writing is refused (EACCES, or EROFS where /proc/mounts says the mount
 * is read-only), lseek's SEEK_END counts from 4096, statfs says sysfs,
 * /proc/self/fd names the file.
 *
 * Nothing printed depends on how many nodes the machine has: the host
 * (one node, usually) and mmk's boots with one, two and four nodes
 * print the same lines.
 */
#include "ut.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NODE_DIR "/sys/devices/system/node"
#define MAXN 64                     /* nodes this program follows (a mask word) */
#define MAXCPU 4096                 /* CPUs (Linux's x86-64 NR_CPUS of distributions: 8192) */
#define SYSFS_MAGIC 0x62656572

typedef unsigned long long u64;

/* The whole file into buf (NUL-terminated): its length, or -1. */
static long slurp(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t n = 0;
    long r;
    while (n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    buf[n] = 0;
    return (long)n;
}

/* Linux's bitmap list ("0-1,3\n", "\n" for none) into bits[] (nbits
 * of them, a multiple of 64): 0, or -1 when malformed or too large. */
static int parse_bits(const char *s, u64 *bits, unsigned long nbits)
{
    memset(bits, 0, nbits / 8);
    if (*s == '\n')
        return s[1] ? -1 : 0;
    for (;;) {
        char *end;
        unsigned long a = strtoul(s, &end, 10), b = a;
        if (end == s || a >= nbits)
            return -1;
        if (*end == '-') {
            s = end + 1;
            b = strtoul(s, &end, 10);
            if (end == s || b >= nbits || b <= a)
                return -1;
        }
        for (unsigned long i = a; i <= b; i++)
            bits[i / 64] |= 1ull << (i % 64);
        if (*end == '\n')
            return end[1] ? -1 : 0;
        if (*end != ',')
            return -1;
        s = end + 1;
    }
}

/* A node list: one word. */
static int parse_list(const char *s, u64 *mask)
{
    return parse_bits(s, mask, MAXN);
}

static int subset(u64 a, u64 b)
{
    return (a & ~b) == 0;
}

/* ---- the node lists ------------------------------------------------------------- */

static const char *const state_names[] = {
    "possible", "online", "has_normal_memory", "has_memory", "has_cpu",
};
enum { S_POSSIBLE, S_ONLINE, S_NORMAL, S_MEMORY, S_CPU, NR_STATES };
static u64 state[NR_STATES];
static u64 online;
static int nr_online;

static void check_lists(void)
{
    char buf[256], path[128];
    int all = 1;
    for (int s = 0; s < NR_STATES; s++) {
        snprintf(path, sizeof path, NODE_DIR "/%s", state_names[s]);
        int ok = slurp(path, buf, sizeof buf) > 0 && parse_list(buf, &state[s]) == 0;
        if (!ok)
            ut_note("%s: \"%s\"", path, buf);
        all &= ok;
    }
    ut_check(all, "node_lists_parse", "a list is missing or malformed");
    online = state[S_ONLINE];
    for (int n = 0; n < MAXN; n++)
        nr_online += (int)(online >> n & 1);
    ut_note("possible %llx online %llx normal %llx memory %llx cpu %llx", state[S_POSSIBLE],
            online, state[S_NORMAL], state[S_MEMORY], state[S_CPU]);
    ut_check((online & 1) && subset(online, state[S_POSSIBLE]), "online_in_possible",
             "online %llx possible %llx", online, state[S_POSSIBLE]);
    ut_check(state[S_MEMORY] && subset(state[S_MEMORY], online), "has_memory_in_online",
             "has_memory %llx online %llx", state[S_MEMORY], online);
    ut_check(state[S_NORMAL] && subset(state[S_NORMAL], state[S_MEMORY]),
             "has_normal_memory_in_has_memory", "normal %llx memory %llx", state[S_NORMAL],
             state[S_MEMORY]);
    ut_check(state[S_CPU] && subset(state[S_CPU], online), "has_cpu_in_online",
             "has_cpu %llx online %llx", state[S_CPU], online);
}

/* The nodeN entries of NODE_DIR are exactly the online nodes, directories. */
static void check_node_dirs(void)
{
    DIR *d = opendir(NODE_DIR);
    u64 seen = 0;
    int bad = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char *end;
        if (strncmp(e->d_name, "node", 4) || e->d_name[4] < '0' || e->d_name[4] > '9')
            continue;
        unsigned long n = strtoul(e->d_name + 4, &end, 10);
        if (*end || n >= MAXN || e->d_type != DT_DIR || (seen >> n & 1))
            bad = 1;
        else
            seen |= 1ull << n;
    }
    if (d)
        closedir(d);
    ut_check(d && !bad && seen == online, "node_dirs_are_online_nodes", "seen %llx online %llx%s",
             seen, online, bad ? " (a bad entry)" : "");
    struct stat st;
    ut_check(stat(NODE_DIR "/node0", &st) == 0 && S_ISDIR(st.st_mode) &&
                 (st.st_mode & 07777) == 0755,
             "node0_is_a_directory_0755", "mode %o", (unsigned)st.st_mode);
    ut_check_errno("node_beyond_online_enoent", stat(NODE_DIR "/node63", &st), ENOENT);
    ut_check_errno("node_leading_zero_enoent", stat(NODE_DIR "/node00", &st), ENOENT);
    ut_check_errno("node_unknown_file_enoent", stat(NODE_DIR "/node0/nothing", &st), ENOENT);
}

/* Every node file: a regular file, 0444, size 4096 (Linux's sysfs). */
static void check_attr_stat(void)
{
    static const char *const files[] = { "cpulist", "distance", "meminfo", "numastat" };
    char path[128];
    int all = 1;
    struct stat st;
    for (int s = 0; s < NR_STATES; s++) {
        snprintf(path, sizeof path, NODE_DIR "/%s", state_names[s]);
        int ok = stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0444 &&
                 st.st_size == 4096;
        if (!ok)
            ut_note("%s: mode %o size %lld", path, (unsigned)st.st_mode, (long long)st.st_size);
        all &= ok;
    }
    for (int n = 0; n < MAXN; n++)
        for (unsigned i = 0; (online >> n & 1) && i < sizeof files / sizeof files[0]; i++) {
            snprintf(path, sizeof path, NODE_DIR "/node%d/%s", n, files[i]);
            int ok = stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
                     (st.st_mode & 07777) == 0444 && st.st_size == 4096;
            if (!ok)
                ut_note("%s: mode %o size %lld", path, (unsigned)st.st_mode,
                        (long long)st.st_size);
            all &= ok;
        }
    ut_check(all, "node_files_0444_size_4096", "see the notes");
}

/* ---- meminfo -------------------------------------------------------------------- */

/* "Node N Name:   value kB" of a node's meminfo; -1 when absent. */
static long long node_field(const char *text, int nid, const char *name)
{
    char want[64];
    int len = snprintf(want, sizeof want, "Node %d %s:", nid, name);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, want, (size_t)len))
            return strtoll(l + len, NULL, 10);
    return -1;
}

static void check_meminfo(void)
{
    char buf[4096], path[128];
    long long sum = 0;
    int fields = 1, used = 1, memory = 1;
    for (int n = 0; n < MAXN; n++) {
        if (!(online >> n & 1))
            continue;
        snprintf(path, sizeof path, NODE_DIR "/node%d/meminfo", n);
        slurp(path, buf, sizeof buf);
        long long total = node_field(buf, n, "MemTotal"), free = node_field(buf, n, "MemFree");
        long long u = node_field(buf, n, "MemUsed");
        ut_note("node %d: MemTotal %lld MemFree %lld MemUsed %lld kB", n, total, free, u);
        fields &= total >= 0 && free >= 0 && u >= 0 && strstr(buf, " kB\n") != NULL;
        used &= u == total - free && free <= total;
        memory &= (total > 0) == (int)(state[S_MEMORY] >> n & 1);
        sum += total;
    }
    ut_check(fields, "meminfo_lines", "a node's MemTotal, MemFree or MemUsed line is missing");
    ut_check(used, "meminfo_used_is_total_minus_free", "see the notes");
    ut_check(memory, "meminfo_total_iff_has_memory", "see the notes");
    long long all = ut_meminfo("MemTotal");
    ut_note("sum of the nodes' MemTotal %lld kB, /proc/meminfo %lld kB", sum, all);
    /* The host may move memory in or out (hotplug, a balloon) between the
     * readings: within 1/1000 there, exactly on mmk. */
    long long diff = sum > all ? sum - all : all - sum;
    ut_check(ut_on_mmk() ? diff == 0 : diff * 1000 <= all, "meminfo_totals_add_up",
             "nodes %lld kB, /proc/meminfo %lld kB", sum, all);
}

/* ---- numastat --------------------------------------------------------------------- */

static const char *const numastat_names[] = {
    "numa_hit", "numa_miss", "numa_foreign", "interleave_hit", "local_node", "other_node",
};
static const char *const vmstat_names[] = {
    "numa_hit", "numa_miss", "numa_foreign", "numa_interleave", "numa_local", "numa_other",
};
#define NR_NUMA 6

/* "name value" lines of text, in the order of names[]: 0, or -1 when a
 * line is missing or out of order. */
static int numa_lines(const char *text, const char *const *names, int strict_order, u64 *v)
{
    const char *at = text;
    for (int k = 0; k < NR_NUMA; k++) {
        size_t len = strlen(names[k]);
        const char *l = strict_order ? at : text;
        while (l && *l && !(!strncmp(l, names[k], len) && l[len] == ' '))
            l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL;
        if (!l || !*l)
            return -1;
        v[k] = strtoull(l + len + 1, NULL, 10);
        at = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l);
    }
    return 0;
}

static void check_numastat(void)
{
    static char vm[16384];
    char buf[1024], path[128];
    u64 before[NR_NUMA], after[NR_NUMA], sum[NR_NUMA] = { 0 };
    int ok_before = slurp("/proc/vmstat", vm, sizeof vm) > 0 &&
                    numa_lines(vm, vmstat_names, 0, before) == 0;
    int fields = 1, balanced = 1;
    u64 miss = 0, foreign = 0;
    for (int n = 0; n < MAXN; n++) {
        if (!(online >> n & 1))
            continue;
        u64 v[NR_NUMA];
        snprintf(path, sizeof path, NODE_DIR "/node%d/numastat", n);
        if (slurp(path, buf, sizeof buf) <= 0 || numa_lines(buf, numastat_names, 1, v) < 0) {
            ut_note("%s: \"%s\"", path, buf);
            fields = 0;
            continue;
        }
        for (int k = 0; k < NR_NUMA; k++)
            sum[k] += v[k];
        /* Every allocation counts hit or miss, and local or other, on
         * the node it got (Linux's zone_statistics). */
        balanced &= v[0] + v[1] == v[4] + v[5];
        miss += v[1];
        foreign += v[2];
    }
    int ok_after = slurp("/proc/vmstat", vm, sizeof vm) > 0 &&
                   numa_lines(vm, vmstat_names, 0, after) == 0;
    ut_check(fields, "numastat_six_lines_in_order", "see the notes");
    ut_check(ok_before && ok_after, "vmstat_numa_lines", "a numa_* line is missing");
    int between = 1;
    for (int k = 0; k < NR_NUMA; k++) {
        ut_note("%s: vmstat %llu, nodes %llu, vmstat %llu", numastat_names[k], before[k], sum[k],
                after[k]);
        between &= before[k] <= sum[k] && sum[k] <= after[k];
    }
    ut_check(fields && ok_before && ok_after && between, "numastat_sums_between_vmstat",
             "see the notes");
    /* On the host the counters move while the files are read (other CPUs,
     * other processes): these two hold there only on a quiet machine. */
    if (ut_on_mmk()) {
        ut_check(balanced, "numastat_hit_miss_is_local_other", "see the notes");
        ut_check(miss == foreign, "numastat_miss_sum_is_foreign_sum", "miss %llu foreign %llu",
                 miss, foreign);
    } else {
        ut_skip("numastat_hit_miss_is_local_other", "counters move on the host");
        ut_skip("numastat_miss_sum_is_foreign_sum", "counters move on the host");
    }
}

/* ---- distance and cpulist ---------------------------------------------------------- */

static void check_distance(void)
{
    static int dist[MAXN][MAXN];
    char buf[1024], path[128];
    int rows = 1, diag = 1, sym = 1;
    for (int a = 0; a < MAXN; a++) {
        if (!(online >> a & 1))
            continue;
        snprintf(path, sizeof path, NODE_DIR "/node%d/distance", a);
        slurp(path, buf, sizeof buf);
        ut_note("node %d distance: %.*s", a, (int)strcspn(buf, "\n"), buf);
        /* One number per online node, in node order, blank-separated. */
        const char *s = buf;
        for (int b = 0; b < MAXN; b++) {
            if (!(online >> b & 1))
                continue;
            char *end;
            long d = strtol(s, &end, 10);
            if (end == s || (*end != ' ' && *end != '\n')) {
                rows = 0;
                break;
            }
            dist[a][b] = (int)d;
            s = end + 1;
        }
        rows &= s > buf && s[-1] == '\n' && *s == 0;
    }
    for (int a = 0; rows && a < MAXN; a++)
        for (int b = 0; b < MAXN; b++) {
            if (!(online >> a & 1) || !(online >> b & 1))
                continue;
            diag &= a == b ? dist[a][b] == 10 : dist[a][b] > 10;
            sym &= dist[a][b] == dist[b][a];
        }
    ut_check(rows, "distance_one_per_online_node", "see the notes");
    ut_check(rows && diag, "distance_10_to_itself_more_to_others", "see the notes");
    ut_check(rows && sym, "distance_symmetric", "see the notes");
}

static void check_cpulist(void)
{
    static char buf[16384];
    static u64 cpus_of[MAXN][MAXCPU / 64];
    char path[128];
    u64 with_cpus = 0;
    int parse = 1;
    for (int n = 0; n < MAXN; n++) {
        if (!(online >> n & 1))
            continue;
        snprintf(path, sizeof path, NODE_DIR "/node%d/cpulist", n);
        if (slurp(path, buf, sizeof buf) <= 0 || parse_bits(buf, cpus_of[n], MAXCPU) < 0) {
            ut_note("%s: \"%s\"", path, buf);
            parse = 0;
        }
        for (unsigned w = 0; w < MAXCPU / 64; w++)
            if (cpus_of[n][w])
                with_cpus |= 1ull << n;
    }
    ut_check(parse, "cpulist_parses", "see the notes");
    ut_check(with_cpus == state[S_CPU], "cpulist_nodes_are_has_cpu", "cpulists %llx has_cpu %llx",
             with_cpus, state[S_CPU]);
    unsigned cpu = ~0u, node = ~0u;
    long r = syscall(SYS_getcpu, &cpu, &node, NULL);
    ut_note("getcpu: cpu %u node %u", cpu, node);
    ut_check(r == 0 && node < MAXN && cpu < MAXCPU && (cpus_of[node][cpu / 64] >> cpu % 64 & 1),
             "getcpu_in_cpulist",
             "cpu %u node %u", cpu, node);
}

/* ---- the file system ------------------------------------------------------------------- */

/* Is /sys mounted read-only, by /proc/mounts? */
static int sys_mount_ro(void)
{
    char buf[8192];
    slurp("/proc/mounts", buf, sizeof buf);
    for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
        char dev[64], dir[64], type[32], opts[256];
        if (sscanf(l, "%63s %63s %31s %255s", dev, dir, type, opts) == 4 && !strcmp(dir, "/sys"))
            return !strcmp(type, "sysfs") && (!strncmp(opts, "ro,", 3) || !strcmp(opts, "ro"))
                       ? 1 : !strcmp(type, "sysfs") ? 0 : -1;
    }
    return -1;
}

static void check_fs(void)
{
    int ro = sys_mount_ro();
    ut_check(ro >= 0, "sysfs_in_proc_mounts", "no sysfs line for /sys");
    int want = ro == 1 ? EROFS : EACCES;
    ut_check_errno("open_write_refused", open(NODE_DIR "/online", O_WRONLY), want);
    ut_check_errno("open_rdwr_refused", open(NODE_DIR "/node0/meminfo", O_RDWR), want);
    /* Linux answers EPERM or EACCES depending on the directory (kernfs),
     * EROFS on a read-only mount. */
    int r = mkdir(NODE_DIR "/node0/new", 0755), e = errno;
    ut_check(r == -1 && (e == EPERM || e == EACCES || e == EROFS), "mkdir_refused", "%d %s", r,
             ut_errno_name(e));

    char text[256], again[256];
    long len = slurp(NODE_DIR "/node0/distance", text, sizeof text);
    int fd = open(NODE_DIR "/node0/distance", O_RDONLY);
    ut_check_errno("write_to_read_only_fd_ebadf", write(fd, "1", 1), EBADF);
    ut_check(lseek(fd, 0, SEEK_END) == 4096, "seek_end_is_4096", "not 4096");
    ut_check(lseek(fd, 1, SEEK_SET) == 1 && read(fd, again, sizeof again) == len - 1 &&
                 !memcmp(again, text + 1, (size_t)len - 1),
             "read_from_offset", "a different text");
    ut_check(lseek(fd, 100000, SEEK_SET) == 100000 && read(fd, again, sizeof again) == 0,
             "read_past_end_zero", "not 0");
    ut_check_errno("seek_negative_einval", lseek(fd, -1, SEEK_SET), EINVAL);
    char link[64], path[128];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    long n = readlink(link, path, sizeof path - 1);
    path[n > 0 ? n : 0] = 0;
    ut_check(!strcmp(path, NODE_DIR "/node0/distance"), "proc_fd_names_the_file", "\"%s\"", path);
    struct stat st;
    ut_check(fstat(fd, &st) == 0 && st.st_size == 4096 && S_ISREG(st.st_mode), "fstat_size_4096",
             "size %lld", (long long)st.st_size);
    close(fd);

    struct statfs sf;
    ut_check(statfs(NODE_DIR, &sf) == 0 && (unsigned long)sf.f_type == SYSFS_MAGIC,
             "statfs_says_sysfs", "f_type %lx", (unsigned long)sf.f_type);
    /* getcwd and ".." inside the tree. */
    char cwd[256];
    ut_check(chdir(NODE_DIR "/node0") == 0 && getcwd(cwd, sizeof cwd) &&
                 !strcmp(cwd, NODE_DIR "/node0") && chdir("../../..") == 0 &&
                 getcwd(cwd, sizeof cwd) && !strcmp(cwd, "/sys/devices") && chdir("/") == 0,
             "getcwd_and_dotdot", "\"%s\"", cwd);
}

int main(void)
{
    ut_init();
    check_lists();
    check_node_dirs();
    check_attr_stat();
    check_meminfo();
    check_numastat();
    check_distance();
    check_cpulist();
    check_fs();
    return ut_done();
}
