/*
 * test_mmap: mmap, munmap and mprotect, and the VMA splits they cause.
 *
 * A region is cut up by munmap and mprotect in its middle, across holes and
 * across several areas, and after each step its layout is read back from
 * /proc/self/maps and drawn one character per page:
 *
 *     w  rw-    r  r--    n  ---    x  r-x    .  not mapped
 *
 * The drawing is independent of how the kernel merges neighbouring areas
 * with equal permissions (Linux merges, a simpler kernel may not), so the
 * same string is expected on the host and on mmk.  Each step also checks
 * the data and, in a child, that a forbidden access kills with SIGSEGV.
 * Then: MAP_FIXED replacing a mapping, a free hint honoured, the argument
 * errors Linux reports (EINVAL, ENOMEM, EBADF), a read-only private mapping
 * of the program's own file, and the names in /proc/self/maps.
 *
 *     test_mmap            (argv[0] must be the program's path: it maps itself)
 */
#include "ut.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static char maps[65536];

static int read_maps(void)
{
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0)
        return -1;
    size_t len = 0;
    ssize_t n;
    while (len + 1 < sizeof maps && (n = read(fd, maps + len, sizeof maps - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    maps[len] = 0;
    return 0;
}

/* The maps line that covers addr: its perms (5 chars) and name; 0 if none. */
static int maps_find(uintptr_t addr, char perms[5], char *name, size_t name_size)
{
    for (char *line = maps; *line;) {
        char *nl = strchr(line, '\n');
        unsigned long start, end;
        char p[5];
        int off = 0;
        if (sscanf(line, "%lx-%lx %4s %*s %*s %*s%n", &start, &end, p, &off) >= 3 &&
            addr >= start && addr < end) {
            memcpy(perms, p, 5);
            if (name) {
                const char *s = line + off;
                while (*s == ' ')
                    s++;
                size_t l = nl ? (size_t)(nl - s) : strlen(s);
                if (l >= name_size)
                    l = name_size - 1;
                memcpy(name, s, l);
                name[l] = 0;
            }
            return 1;
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    return 0;
}

/* One character per page of [base, base + pages * PAGE), as above. */
static const char *layout(char *base, size_t pages)
{
    static char out[128];
    if (read_maps() < 0)
        return "no /proc/self/maps";
    for (size_t i = 0; i < pages && i + 1 < sizeof out; i++) {
        char p[5];
        out[i + 1] = 0;
        if (!maps_find((uintptr_t)base + i * PAGE, p, NULL, 0))
            out[i] = '.';
        else if (p[0] == 'r' && p[1] == 'w')
            out[i] = 'w';
        else if (p[0] == 'r' && p[2] == 'x')
            out[i] = 'x';
        else if (p[0] == 'r')
            out[i] = 'r';
        else if (p[0] == '-' && p[1] == '-' && p[2] == '-')
            out[i] = 'n';
        else
            out[i] = '?';
    }
    return out;
}

static void check_layout(char *base, size_t pages, const char *want, const char *name)
{
    const char *got = layout(base, pages);
    ut_check(strcmp(got, want) == 0, name, "got %s, want %s", got, want);
}

static int do_read(void *a)
{
    return *(volatile char *)a == 0x55 ? 3 : 0;
}

static int do_write(void *a)
{
    *(volatile char *)a = 1;
    return 0;
}

static void expect_segv(int (*fn)(void *), void *addr, const char *name)
{
    char why[64];
    int st = ut_run_child(fn, addr);
    ut_check(ut_killed_by(st, SIGSEGV), name, "child: %s", ut_status_str(st, why, sizeof why));
}

/* True when page i of base is filled with byte v. */
static int page_is(char *base, size_t i, char v)
{
    for (size_t k = 0; k < PAGE; k++)
        if (base[i * PAGE + k] != v)
            return 0;
    return 1;
}

static void splitting(void)
{
    char *m = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        ut_check(0, "mmap_8_pages", "%s", ut_errno_name(errno));
        return;
    }
    for (size_t i = 0; i < 8; i++)
        memset(m + i * PAGE, (char)('0' + i), PAGE);
    check_layout(m, 8, "wwwwwwww", "maps_after_mmap");

    int r = munmap(m + 3 * PAGE, 2 * PAGE);
    ut_check(r == 0, "munmap_middle", "%s", ut_errno_name(errno));
    check_layout(m, 8, "www..www", "maps_after_munmap_middle");
    int ok = 1;
    for (size_t i = 0; i < 8; i++)
        if (i != 3 && i != 4)
            ok &= page_is(m, i, (char)('0' + i));
    ut_check(ok, "munmap_middle_keeps_neighbours", "a neighbour page changed");
    expect_segv(do_read, m + 3 * PAGE, "munmapped_page_read_killed");

    r = mprotect(m + PAGE, 2 * PAGE, PROT_READ);
    ut_check(r == 0, "mprotect_ro_middle", "%s", ut_errno_name(errno));
    check_layout(m, 8, "wrr..www", "maps_after_mprotect_ro_middle");
    expect_segv(do_write, m + PAGE, "write_to_ro_page_killed");
    ut_check(page_is(m, 1, '1') && page_is(m, 2, '2'), "ro_pages_still_readable", "data changed");

    r = mprotect(m + 6 * PAGE, PAGE, PROT_NONE);
    ut_check(r == 0, "mprotect_none", "%s", ut_errno_name(errno));
    check_layout(m, 8, "wrr..wnw", "maps_after_mprotect_none");
    expect_segv(do_read, m + 6 * PAGE, "read_of_prot_none_page_killed");

    r = mprotect(m, 3 * PAGE, PROT_READ | PROT_WRITE);
    ut_check(r == 0, "mprotect_rw_again", "%s", ut_errno_name(errno));
    check_layout(m, 8, "www..wnw", "maps_after_mprotect_rw_again");
    m[PAGE] = 'A';
    ut_check(m[PAGE] == 'A' && page_is(m, 2, '2'), "write_after_rw_again", "data wrong");

    errno = 0;
    r = mprotect(m, 8 * PAGE, PROT_READ);
    ut_check(r == -1 && errno == ENOMEM, "mprotect_over_hole_enomem", "returned %d, errno %s", r,
             ut_errno_name(errno));
    mprotect(m, 3 * PAGE, PROT_READ | PROT_WRITE);      /* Linux may have changed these */

    r = munmap(m + 2 * PAGE, 5 * PAGE);   /* a page, the hole, two areas */
    ut_check(r == 0, "munmap_across_hole_and_areas", "%s", ut_errno_name(errno));
    check_layout(m, 8, "ww.....w", "maps_after_munmap_across");
    ut_check(page_is(m, 7, '7') && m[0] == '0', "munmap_across_keeps_ends", "data changed");
    munmap(m, PAGE);
    check_layout(m, 8, ".w.....w", "maps_after_munmap_first_page");
    munmap(m, 8 * PAGE);
    check_layout(m, 8, "........", "maps_after_munmap_all");
}

/* Many small areas: every other page read-only, then every third PROT_NONE. */
static void many_splits(void)
{
    enum { P = 32 };
    char want[P + 1];
    char *m = mmap(NULL, P * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        ut_check(0, "mmap_32_pages", "%s", ut_errno_name(errno));
        return;
    }
    for (size_t i = 0; i < P; i++)
        m[i * PAGE] = (char)i;
    int ok = 1;
    for (size_t i = 1; i < P; i += 2)
        ok &= mprotect(m + i * PAGE, PAGE, PROT_READ) == 0;
    for (size_t i = 0; i < P; i++)
        want[i] = i % 2 ? 'r' : 'w';
    want[P] = 0;
    ut_check(ok, "mprotect_16_single_pages", "an mprotect failed");
    check_layout(m, P, want, "maps_alternating_rw_ro");
    for (size_t i = 0; i < P; i += 3)
        ok &= mprotect(m + i * PAGE, PAGE, PROT_NONE) == 0;
    for (size_t i = 0; i < P; i += 3)
        want[i] = 'n';
    check_layout(m, P, want, "maps_alternating_with_prot_none");
    ok &= mprotect(m, P * PAGE, PROT_READ | PROT_WRITE) == 0;
    memset(want, 'w', P);
    check_layout(m, P, want, "maps_all_rw_again");
    for (size_t i = 0; i < P; i++)
        ok &= m[i * PAGE] == (char)i;
    ut_check(ok, "data_survives_splits", "an mprotect failed or data changed");
    munmap(m, P * PAGE);
}

static void fixed_and_hint(void)
{
    char *m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        ut_check(0, "mmap_4_pages", "%s", ut_errno_name(errno));
        return;
    }
    memset(m, 'a', 4 * PAGE);
    char *f = mmap(m + PAGE, 2 * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    ut_check(f == m + PAGE, "map_fixed_at_the_address", "got another address or failed");
    ut_check(page_is(m, 0, 'a') && page_is(m, 1, 0) && page_is(m, 2, 0) && page_is(m, 3, 'a'),
             "map_fixed_replaces_contents", "pages are not a,0,0,a");
    check_layout(m, 4, "wwww", "maps_after_map_fixed");
    munmap(m, 4 * PAGE);
    /* The hole just made is free: a hint there is honoured. */
    char *h = mmap(m + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ut_check(h == m + PAGE, "free_hint_honoured", "placed elsewhere");
    check_layout(m, 4, ".r..", "maps_after_hinted_mmap");
    munmap(h, PAGE);
}

/*
 * Argument errors, through the raw system calls: musl's wrappers answer
 * some of these themselves (mmap of a length >= PTRDIFF_MAX) or round the
 * address (mprotect), which would hide the kernel's answer.
 */
static long sys_mmap(void *addr, size_t len, int prot, int flags, int fd)
{
#ifdef SYS_mmap2                    /* i386: SYS_mmap is the old one-pointer call */
    return syscall(SYS_mmap2, addr, len, prot, flags, fd, 0L);
#else
    return syscall(SYS_mmap, addr, len, prot, flags, fd, 0L);
#endif
}

static void arg_errors(void)
{
    struct {
        const char *name;
        void *addr;
        size_t len;
        int prot, flags, fd;
        int want;
    } cases[] = {
        { "mmap_length_zero_einval", NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, EINVAL },
        { "mmap_fixed_unaligned_einval", (void *)(0x40000000UL + 1), PAGE, PROT_READ,
          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, EINVAL },
        { "mmap_no_private_or_shared_einval", NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, EINVAL },
        { "mmap_bad_fd_ebadf", NULL, PAGE, PROT_READ, MAP_PRIVATE, 1000, EBADF },
#if UINTPTR_MAX > 0xffffffffu
        { "mmap_huge_length_enomem", NULL, (size_t)1 << 47, PROT_READ,
          MAP_PRIVATE | MAP_ANONYMOUS, -1, ENOMEM },
        { "mmap_fixed_in_kernel_half_enomem", (void *)0xffff800000000000UL, PAGE, PROT_READ,
          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, ENOMEM },
#endif
        { "mmap_length_near_max_enomem", NULL, SIZE_MAX - PAGE, PROT_READ,
          MAP_PRIVATE | MAP_ANONYMOUS, -1, ENOMEM },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long r = sys_mmap(cases[i].addr, cases[i].len, cases[i].prot, cases[i].flags,
                          cases[i].fd);
        if (!ut_check_errno(cases[i].name, r, cases[i].want) && r != -1)
            munmap((void *)r, cases[i].len);
    }
    char *m = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(m, 2 * PAGE);
    ut_check_errno("munmap_unaligned_einval", syscall(SYS_munmap, m + 1, PAGE), EINVAL);
    ut_check_errno("munmap_length_zero_einval", syscall(SYS_munmap, m, 0), EINVAL);
    long r = syscall(SYS_munmap, m, 2 * PAGE);
    ut_check(r == 0, "munmap_of_nothing_succeeds", "returned %ld", r);
    ut_check_errno("mprotect_unaligned_einval", syscall(SYS_mprotect, m + 1, PAGE, PROT_READ),
                   EINVAL);
    ut_check_errno("mprotect_unmapped_enomem", syscall(SYS_mprotect, m, PAGE, PROT_READ), ENOMEM);
}

static void file_mapping(const char *self)
{
    static char first[PAGE];
    int fd = open(self, O_RDONLY);
    if (fd < 0) {
        ut_check(0, "open_own_file", "open %s: %s", self, ut_errno_name(errno));
        return;
    }
    ssize_t n = read(fd, first, PAGE);
    char *f = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);                                   /* the mapping outlives the fd */
    if (f == MAP_FAILED) {
        ut_check(0, "file_mapping_ro_private", "mmap: %s", ut_errno_name(errno));
        return;
    }
    ut_check(n > 0 && memcmp(f, "\177ELF", 4) == 0 && memcmp(f, first, (size_t)n) == 0,
             "file_mapping_ro_private", "contents differ from read()");
    check_layout(f, 1, "r", "maps_file_mapping_read_only");
    expect_segv(do_write, f, "write_to_ro_file_mapping_killed");
    munmap(f, PAGE);
}

static void maps_names(void)
{
    char perms[5], name[256];
    int local = 0;
    read_maps();
    int found = maps_find((uintptr_t)&maps_names, perms, name, sizeof name);
    ut_check(found && strncmp(perms, "r-xp", 4) == 0, "maps_text_is_r_xp", "perms %.4s",
             found ? perms : "none");
    found = maps_find((uintptr_t)&local, perms, name, sizeof name);
    ut_check(found && strcmp(name, "[stack]") == 0 && strncmp(perms, "rw-p", 4) == 0,
             "maps_names_the_stack", "line %s %s", found ? perms : "none", found ? name : "");
}

int main(int argc, char **argv)
{
    (void)argc;
    ut_init();
    splitting();
    many_splits();
    fixed_and_hint();
    arg_errors();
    file_mapping(argv[0]);
    maps_names();
    return ut_done();
}
