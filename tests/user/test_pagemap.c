/*
 * test_pagemap: the /proc files that show the reverse map and migration,
 * compared with the host's Linux line by line (docs/proc.md):
 *
 *  - /proc/self/pagemap: an untouched page reads 0; a written one is
 *    present, anonymous and exclusive; a page only read maps the shared
 *    zero page (present, not exclusive); after fork a page shared by
 *    copy-on-write is not exclusive in either process, and the child's
 *    /proc/<pid>/pagemap shows the same frame; after the parent's write
 *    the parent has a new frame, exclusive again, and so has the child's
 *    old one; MAP_SHARED anonymous memory is a "file" page; offsets and
 *    counts that are not multiples of 8 are EINVAL, a read past the end
 *    of the address space gives 0 bytes, a read of many records agrees
 *    with reads of one;
 *  - /proc/kpagecount and /proc/kpageflags: 2 for a page shared by fork,
 *    1 after the write; ANON, MMAP and ZERO_PAGE where Linux sets them;
 *    their errors;
 *  - /proc/vmstat has pgmigrate_success and the compaction events;
 *  - /proc/sys/vm/compact_memory takes "1" and refuses "2" (EINVAL) and
 *    reading (EACCES);
 *  - on mmk only ("# SKIP" on the host, which has no such files or other
 *    values): max_map_count, mmap_min_addr, overcommit_memory, user_zone,
 *    evacuate_zone and memview; and migration seen through pagemap: a
 *    page placed in the DMA zone (user_zone) has another frame, and its
 *    data, once the zone is evacuated, and pgmigrate_success grew.
 *
 * Linux shows frame numbers only to CAP_SYS_ADMIN: when the host hides
 * them (a PFN of 0 in a present record), the checks that need one are
 * skipped there.  Bits Linux may set and mmk does not track (soft-dirty,
 * uffd-wp, guard) are masked off before comparing.
 */
#define _GNU_SOURCE
#include "ut.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PM_PFN      ((1ull << 55) - 1)
#define PM_EXCL     (1ull << 56)
#define PM_FILE     (1ull << 61)
#define PM_SWAP     (1ull << 62)
#define PM_PRESENT  (1ull << 63)
#define PM_COMPARED (PM_PFN | PM_EXCL | PM_FILE | PM_SWAP | PM_PRESENT)

#define DMA_PFNS      4096      /* frames below 16 MiB: the DMA zone */

#define KPF_MMAP      11
#define KPF_ANON      12
#define KPF_ZERO_PAGE 24

static int pagemap_fd = -1;
static int pfn_shown;           /* frame numbers are visible to us */

/* The compared bits of the record of the page at p in pagemap fd; ~0 on error. */
static uint64_t record_in(int fd, const void *p)
{
    uint64_t e;
    off_t off = (off_t)((uintptr_t)p / PAGE * 8);
    if (pread(fd, &e, 8, off) != 8)
        return ~0ull;
    return e & PM_COMPARED;
}

static uint64_t record(const void *p)
{
    return record_in(pagemap_fd, p);
}

/* A frame file's record for pfn (kpagecount, kpageflags); ~0 on error. */
static uint64_t frame_record(const char *path, uint64_t pfn)
{
    int fd = open(path, O_RDONLY);
    uint64_t v = ~0ull;
    if (fd >= 0 && pread(fd, &v, 8, (off_t)(pfn * 8)) != 8)
        v = ~0ull;
    if (fd >= 0)
        close(fd);
    return v;
}

/* A check that needs frame numbers: skipped where they are hidden. */
static void check_pfn(int cond, const char *name, const char *what)
{
    if (!pfn_shown && !ut_on_mmk())
        ut_skip(name, "the host hides frame numbers (no CAP_SYS_ADMIN)");
    else
        ut_check(cond, name, "%s", what);
}

static void check_len(long got, long want, const char *name)
{
    int e = errno;
    ut_check(got == want, name, "read %ld bytes (errno %d), not %ld", got, e, want);
}

static void *map_pages(int pages, int flags)
{
    void *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* ---- pagemap of one process ------------------------------------------------------------- */

static void single_pages(void)
{
    char *p = map_pages(4, MAP_PRIVATE);
    if (!ut_check(p != NULL, "mmap_private", "errno %d", errno))
        return;
    ut_check(record(p) == 0, "untouched_page_reads_0", "record %llx",
             (unsigned long long)record(p));
    p[0] = 1;
    uint64_t e = record(p);
    pfn_shown = (e & PM_PFN) != 0;
    ut_check((e & PM_PRESENT) && !(e & (PM_SWAP | PM_FILE)), "written_page_present_anon",
             "record %llx", (unsigned long long)e);
    ut_check((e & PM_EXCL) != 0, "written_page_exclusive", "record %llx",
             (unsigned long long)e);
    if (ut_on_mmk())
        ut_check(pfn_shown, "pfn_shown_on_mmk", "record %llx", (unsigned long long)e);
    else
        ut_skip("pfn_shown_on_mmk", "the host shows them only to CAP_SYS_ADMIN");
    check_pfn(frame_record("/proc/kpagecount", e & PM_PFN) == 1, "kpagecount_1_when_private",
              "count is not 1");
    uint64_t fl = frame_record("/proc/kpageflags", e & PM_PFN);
    check_pfn(fl != ~0ull && (fl >> KPF_ANON & 1) && (fl >> KPF_MMAP & 1),
              "kpageflags_anon_mmap", "flags lack ANON or MMAP");

    /* A read fault maps the zero page: present, neither exclusive nor file. */
    volatile char c = p[PAGE];
    (void)c;
    e = record(p + PAGE);
    ut_check((e & PM_PRESENT) && !(e & (PM_EXCL | PM_FILE)), "read_page_is_the_zero_page",
             "record %llx", (unsigned long long)e);
    fl = frame_record("/proc/kpageflags", e & PM_PFN);
    check_pfn(fl != ~0ull && (fl >> KPF_ZERO_PAGE & 1), "kpageflags_zero_page",
              "ZERO_PAGE not set");
    check_pfn(frame_record("/proc/kpagecount", e & PM_PFN) == 0, "kpagecount_zero_page_0",
              "count is not 0");

    /* One read of many records agrees with reads of one each. */
    p[3 * PAGE] = 1;
    uint64_t many[4];
    off_t off = (off_t)((uintptr_t)p / PAGE * 8);
    int ok = pread(pagemap_fd, many, sizeof(many), off) == (ssize_t)sizeof(many);
    for (int i = 0; ok && i < 4; i++)
        ok = (many[i] & PM_COMPARED) == record(p + i * PAGE);
    ut_check(ok, "one_read_of_four_records", "the records differ");
    ut_check(!(many[2] & PM_PRESENT) && (many[3] & PM_PRESENT), "records_in_order",
             "%llx %llx", (unsigned long long)many[2], (unsigned long long)many[3]);
    munmap(p, 4 * PAGE);
    ut_check(record(p) == 0, "unmapped_page_reads_0", "record %llx",
             (unsigned long long)record(p));

    char *s = map_pages(1, MAP_SHARED);
    if (ut_check(s != NULL, "mmap_shared", "errno %d", errno)) {
        s[0] = 1;
        e = record(s);
        ut_check((e & PM_PRESENT) && (e & PM_FILE) && (e & PM_EXCL), "shared_anon_is_file",
                 "record %llx", (unsigned long long)e);
        munmap(s, PAGE);
    }
}

/* ---- fork: a page shared by copy-on-write, then copied ----------------------------------- */

/*
 * The child reads its own /proc/self/pagemap (a descriptor opened before
 * fork names the parent's address space, on Linux as here): its record
 * before the parent writes, sent at once, then after, when told.
 */
static int child_records(char *p, int go, int back)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);
    uint64_t e = fd >= 0 ? record_in(fd, p) : ~0ull;
    char b;
    if (ut_write_full(back, &e, sizeof(e)) || read(go, &b, 1) != 1)
        return 2;
    e = fd >= 0 ? record_in(fd, p) : ~0ull;
    return ut_write_full(back, &e, sizeof(e)) ? 3 : 0;
}

static void fork_and_cow(void)
{
    char *p = map_pages(1, MAP_PRIVATE);
    if (!ut_check(p != NULL, "mmap_for_fork", "errno %d", errno))
        return;
    p[0] = 'p';
    int go[2], back[2];
    if (pipe(go) || pipe(back)) {
        ut_check(0, "pipes", "errno %d", errno);
        return;
    }
    pid_t pid = ut_fork();
    if (pid == 0)
        _exit(child_records(p, go[0], back[1]));
    uint64_t before = ~0ull, after = ~0ull;
    if (ut_read_full(back[0], &before, sizeof(before)))
        before = ~0ull;
    uint64_t shared = record(p);
    ut_check((shared & PM_PRESENT) && !(shared & PM_EXCL), "cow_shared_page_not_exclusive",
             "record %llx", (unsigned long long)shared);
    ut_check((before & PM_PRESENT) && !(before & PM_EXCL), "child_page_not_exclusive",
             "record %llx", (unsigned long long)before);
    check_pfn(before == shared, "child_sees_the_same_frame", "the child's record differs");
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
    int cfd = open(path, O_RDONLY);
    uint64_t in_child = cfd >= 0 ? record_in(cfd, p) : ~0ull;
    check_pfn(in_child == shared, "pid_pagemap_same_frame", "/proc/<pid>/pagemap differs");
    check_pfn(frame_record("/proc/kpagecount", shared & PM_PFN) == 2, "kpagecount_2_after_fork",
              "count is not 2");
    uint64_t fl = frame_record("/proc/kpageflags", shared & PM_PFN);
    check_pfn(fl != ~0ull && (fl >> KPF_ANON & 1), "kpageflags_anon_after_fork", "ANON not set");

    p[0] = 'q';                     /* the copy-on-write break */
    uint64_t mine = record(p);
    ut_check((mine & PM_PRESENT) && (mine & PM_EXCL), "after_cow_exclusive_again",
             "record %llx", (unsigned long long)mine);
    check_pfn((mine & PM_PFN) != (shared & PM_PFN), "cow_gives_a_new_frame",
              "the frame did not change");
    check_pfn(frame_record("/proc/kpagecount", shared & PM_PFN) == 1, "kpagecount_1_after_cow",
              "count is not 1");
    uint64_t child_now = cfd >= 0 ? record_in(cfd, p) : ~0ull;
    check_pfn(child_now == (shared | PM_EXCL), "child_keeps_the_old_frame_alone",
              "the child's record is not the old frame, exclusive");

    if (write(go[1], "g", 1) != 1 || ut_read_full(back[0], &after, sizeof(after)))
        after = ~0ull;
    int st = ut_wait(pid);
    ut_check(ut_exited_with(st, 0), "child_reported", "status %d", st);
    ut_check((after & PM_EXCL) && (after & PM_PRESENT), "child_exclusive_after_cow",
             "record %llx", (unsigned long long)after);
    check_pfn(after == (shared | PM_EXCL), "child_record_is_the_old_frame",
              "not the old frame, exclusive");
    if (cfd >= 0) {
        uint64_t e;
        check_len(pread(cfd, &e, 8, 0), 0, "pagemap_of_a_gone_process_reads_0");
        close(cfd);
    }
    close(go[0]), close(go[1]), close(back[0]), close(back[1]);
    munmap(p, PAGE);
}

/* ---- the file's rules: offsets, counts, the end ------------------------------------------- */

static void file_rules(void)
{
    uint64_t buf[2];
    ut_check_errno("pagemap_offset_not_8_einval", pread(pagemap_fd, buf, 8, 4), EINVAL);
    ut_check_errno("pagemap_count_not_8_einval", pread(pagemap_fd, buf, 12, 0), EINVAL);
    check_len(pread(pagemap_fd, buf, 0, 0), 0, "pagemap_count_0_reads_0");
    off_t at = lseek(pagemap_fd, 8, SEEK_SET);
    long got = read(pagemap_fd, buf, 8);
    ut_check(at == 8 && got == 8 && lseek(pagemap_fd, 0, SEEK_CUR) == 16,
             "pagemap_read_moves_the_offset", "lseek %ld, read %ld", (long)at, got);
    /* Far past any address space: 2^48 bytes of addresses on 64-bit, 2^32 on i386. */
    off_t past = (off_t)((sizeof(void *) == 8 ? 1ull << 48 : 1ull << 32) / PAGE * 8);
    check_len(pread(pagemap_fd, buf, 8, past), 0, "pagemap_past_the_end_reads_0");
#ifdef __x86_64__
    /* The last user page (Linux's TASK_SIZE is 2^47 - 4096) has a record. */
    off_t end = (off_t)(((1ull << 47) - PAGE) / PAGE * 8);
    check_len(pread(pagemap_fd, buf, 16, end - 8), 8, "pagemap_cut_at_the_end");
#endif

    int fd = open("/proc/kpagecount", O_RDONLY);
    if (ut_check(fd >= 0, "kpagecount_opens", "errno %d", errno)) {
        ut_check_errno("kpagecount_offset_not_8_einval", pread(fd, buf, 8, 3), EINVAL);
        ut_check_errno("kpagecount_count_not_8_einval", pread(fd, buf, 7, 0), EINVAL);
        check_len(pread(fd, buf, 8, (off_t)(1ull << 43)), 0, "kpagecount_past_max_pfn_reads_0");
        check_len(pread(fd, buf, 16, 0), 16, "kpagecount_reads_two_frames");
        close(fd);
    }
    fd = open("/proc/kpageflags", O_RDONLY);
    if (ut_check(fd >= 0, "kpageflags_opens", "errno %d", errno)) {
        ut_check_errno("kpageflags_offset_not_8_einval", pread(fd, buf, 8, 1), EINVAL);
        check_len(pread(fd, buf, 8, (off_t)(1ull << 43)), 0, "kpageflags_past_max_pfn_reads_0");
        close(fd);
    }
}

/* ---- /proc/vmstat and /proc/sys/vm --------------------------------------------------------- */

/* The value of /proc/vmstat's line "name value", or -1 when there is none. */
static long long vmstat_value(const char *name)
{
    static char text[65536];
    int fd = open("/proc/vmstat", O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n, len = 0;
    while (len < (ssize_t)sizeof(text) - 1 && (n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
        len += n;
    close(fd);
    text[len > 0 ? len : 0] = 0;
    size_t k = strlen(name);
    for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, name, k) && l[k] == ' ')
            return strtoll(l + k + 1, NULL, 10);
    return -1;
}

/* Write text to a sysctl file: the write's result, or -1 with errno. */
static long sysctl_write(const char *name, const char *text)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/sys/vm/%s", name);
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    long r = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

static const char *sysctl_read(const char *name)
{
    static char buf[256];
    char path[64];
    snprintf(path, sizeof(path), "/proc/sys/vm/%s", name);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    buf[n > 0 ? n : 0] = 0;
    if (fd >= 0)
        close(fd);
    return buf;
}

/*
 * Migration seen from user space (mmk only): a page placed in the DMA
 * zone (user_zone), then the zone evacuated: the page is elsewhere, with
 * its data, and pgmigrate_success counted it.
 */
static void evacuation_moves_a_page(void)
{
    char *p = NULL;
    if (sysctl_write("user_zone", "DMA") == 3) {
        p = map_pages(1, MAP_PRIVATE);
        if (p)
            p[0] = 'm';
        sysctl_write("user_zone", "Normal");
    }
    if (!p) {
        ut_check(0, "page_placed_in_dma", "no page (errno %d)", errno);
        return;
    }
    uint64_t before = record(p);
    ut_check((before & PM_PRESENT) && (before & PM_PFN) < DMA_PFNS, "page_placed_in_dma",
             "record %llx", (unsigned long long)before);
    long long moved = vmstat_value("pgmigrate_success");
    sysctl_write("evacuate_zone", "DMA");
    uint64_t after = record(p);
    ut_check((after & PM_PRESENT) && (after & PM_PFN) >= DMA_PFNS && (after & PM_EXCL),
             "evacuation_moves_the_page", "record %llx", (unsigned long long)after);
    ut_check(p[0] == 'm', "moved_page_keeps_its_data", "'%c'", p[0]);
    ut_check(vmstat_value("pgmigrate_success") > moved, "pgmigrate_success_counts_it",
             "%lld then %lld", moved, vmstat_value("pgmigrate_success"));
    munmap(p, PAGE);
}

static void vmstat_and_sysctl(void)
{
    static const char *const events[] = { "pgmigrate_success", "pgmigrate_fail",
                                          "compact_stall", "compact_success", "nr_free_pages",
                                          "nr_file_pages", "nr_shmem", "nr_mapped" };
    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
        char name[64];
        snprintf(name, sizeof(name), "vmstat_has_%s", events[i]);
        ut_check(vmstat_value(events[i]) >= 0, name, "no line");
    }
    ut_check_errno("compact_memory_not_readable", open("/proc/sys/vm/compact_memory", O_RDONLY),
                   EACCES);
    long r = sysctl_write("compact_memory", "2");
    if (!ut_on_mmk() && r < 0 && (errno == EROFS || errno == EACCES)) {
        ut_skip("compact_memory_refuses_2", "the host's /proc/sys is read-only here");
        ut_skip("compact_memory_takes_1", "the host's /proc/sys is read-only here");
        ut_skip("compact_memory_takes_1_newline", "the host's /proc/sys is read-only here");
    } else {
        ut_check_errno("compact_memory_refuses_2", r, EINVAL);
        ut_check(sysctl_write("compact_memory", "1") == 1, "compact_memory_takes_1", "errno %d",
                 errno);
        ut_check(sysctl_write("compact_memory", "1\n") == 2, "compact_memory_takes_1_newline",
                 "errno %d", errno);
    }

    static const char *const mmk_only[] = { "max_map_count_65530", "mmap_min_addr_65536",
                                            "overcommit_memory_0", "max_map_count_read_only",
                                            "user_zone_normal", "user_zone_set_dma32",
                                            "user_zone_refuses_bogus", "evacuate_zone_dma",
                                            "evacuate_zone_refuses_bogus", "page_placed_in_dma",
                                            "evacuation_moves_the_page",
                                            "moved_page_keeps_its_data",
                                            "pgmigrate_success_counts_it", "memview_reads_0_or_1",
                                            "memview_refuses_2" };
    if (!ut_on_mmk()) {
        for (size_t i = 0; i < sizeof(mmk_only) / sizeof(mmk_only[0]); i++)
            ut_skip(mmk_only[i], "mmk's values and mmk's own knobs");
        return;
    }
    ut_check(!strcmp(sysctl_read("max_map_count"), "65530\n"), "max_map_count_65530", "'%s'",
             sysctl_read("max_map_count"));
    ut_check(!strcmp(sysctl_read("mmap_min_addr"), "65536\n"), "mmap_min_addr_65536", "'%s'",
             sysctl_read("mmap_min_addr"));
    ut_check(!strcmp(sysctl_read("overcommit_memory"), "0\n"), "overcommit_memory_0", "'%s'",
             sysctl_read("overcommit_memory"));
    ut_check_errno("max_map_count_read_only", sysctl_write("max_map_count", "1"), EACCES);
    ut_check(!strcmp(sysctl_read("user_zone"), "Normal\n"), "user_zone_normal", "'%s'",
             sysctl_read("user_zone"));
    ut_check(sysctl_write("user_zone", "DMA32\n") == 6 &&
                 !strcmp(sysctl_read("user_zone"), "DMA32\n") &&
                 sysctl_write("user_zone", "Normal") == 6,
             "user_zone_set_dma32", "'%s'", sysctl_read("user_zone"));
    ut_check_errno("user_zone_refuses_bogus", sysctl_write("user_zone", "HighMem"), EINVAL);
    r = sysctl_write("evacuate_zone", "DMA");
    int e = errno;
    const char *last = sysctl_read("evacuate_zone");
    ut_check((r == 3 || (r < 0 && e == ENOMEM)) && !strncmp(last, "zone DMA frames ", 16),
             "evacuate_zone_dma", "write %ld errno %d, then '%s'", r, e, last);
    ut_note("evacuate_zone: %.*s", (int)strcspn(last, "\n"), last);
    ut_check_errno("evacuate_zone_refuses_bogus", sysctl_write("evacuate_zone", "dma"), EINVAL);
    evacuation_moves_a_page();
    const char *mv = sysctl_read("memview");
    ut_check(!strcmp(mv, "0\n") || !strcmp(mv, "1\n"), "memview_reads_0_or_1", "'%s'", mv);
    ut_check_errno("memview_refuses_2", sysctl_write("memview", "2"), EINVAL);
}

int main(void)
{
    ut_init();
    pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
    if (!ut_check(pagemap_fd >= 0, "pagemap_opens", "errno %d", errno))
        return ut_done();
    single_pages();
    fork_and_cow();
    file_rules();
    vmstat_and_sysctl();
    close(pagemap_fd);
    return ut_done();
}
