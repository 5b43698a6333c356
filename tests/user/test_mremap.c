/*
 * test_mremap: mremap, and mmap's argument checks in Linux's order
 * (docs/address-spaces.md).
 *
 * mremap's errors, one wrong thing at a time and then two at once to see
 * which is checked first: unknown flags, MREMAP_FIXED or
 * MREMAP_DONTUNMAP without MREMAP_MAYMOVE, DONTUNMAP resizing, an
 * unaligned address, a zero new size (all EINVAL, before looking at the
 * mapping), a range that is not mapped (EFAULT), a resize past the end of
 * its mapping (EFAULT), a private "duplicate" (old size 0: EINVAL),
 * overlapping or unaligned or too high targets (EINVAL), no room to grow
 * without MAYMOVE (ENOMEM).  Then what it does: shrink in place, grow in
 * place when the pages after are free, move when they are not (the data
 * comes along; the old address is unmapped; the moved pages are not
 * faulted in again: the page-table entries moved, not the data), a fixed
 * target replaced, several mappings and holes moved at once without
 * resizing (Linux 6.17), DONTUNMAP (private: the old range reads zero;
 * shared: it still shows the data), the shared duplicate, a file mapping
 * grown (the new pages show the file), a move after fork leaving the
 * child's copy alone, a move from the middle of a mapping, and realloc.
 *
 * mmap's checks come in do_mmap's order: the offset's alignment before
 * the descriptor, the length before the file's properties, the address
 * before the type, then the type (EINVAL, or EOPNOTSUPP for unknown
 * flags with MAP_SHARED_VALIDATE on a file), the file's open mode
 * (EACCES) and whether it can be mapped at all (ENODEV).
 *
 * Every check prints only a fact Linux 6.17 or later shows too.
 */
#define _GNU_SOURCE
#include "ut.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 3
#endif

#if UINTPTR_MAX > 0xffffffffu
#define IS64 1
#define TOP 0x7ffffffff000UL   /* the last user page ends here (Linux's TASK_SIZE) */
#define HUGE_LEN (1UL << 50)
#else
#define IS64 0
#define TOP 0xfffff000UL       /* above every 32-bit task size */
#define HUGE_LEN 0xfffff000UL
#endif

static const char *self;   /* argv[0]: the program's own file */

static long err_of(long r)
{
    return r == -1 ? -errno : r;
}

/* Did a call that returns an address succeed?  (On i386 an address above
 * 2 GiB is a negative long: only -4095..-1 are errors.) */
static int good(long r)
{
    return (unsigned long)r < -4095UL;
}

static long mr(void *a, size_t ol, size_t nl, int flags, void *na)
{
    return err_of(syscall(SYS_mremap, a, ol, nl, flags, na));
}

/* The raw mmap: an address or -errno (i386: mmap2, the offset in pages). */
static long mm(void *a, size_t len, int prot, int flags, int fd, unsigned long off)
{
#if IS64
    long r = syscall(SYS_mmap, a, len, prot, flags, fd, off);
#else
    long r = syscall(SYS_mmap2, a, len, prot, flags, fd, off / PAGE);
#endif
    return r < 0 && r > -4096 ? -errno : r;
}

static char *anon(size_t pages)
{
    char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* A free range of `pages` pages, kept free: a PROT_NONE reservation that
 * later mappings cannot take, with its own pages unmapped when asked. */
static char *hole(size_t pages)
{
    char *p = mmap(NULL, (pages + 2) * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p + PAGE, pages * PAGE);
    return p + PAGE;
}

static void fill(char *p, size_t pages, int seed)
{
    for (size_t i = 0; i < pages; i++)
        memset(p + i * PAGE, seed + (int)i, PAGE);
}

static int holds(const char *p, size_t pages, int seed)
{
    for (size_t i = 0; i < pages; i++)
        for (size_t k = 0; k < PAGE; k += 512)
            if (p[i * PAGE + k] != (char)(seed + (int)i))
                return 0;
    return 1;
}

static int zero(const char *p, size_t pages)
{
    for (size_t i = 0; i < pages * PAGE; i += 256)
        if (p[i])
            return 0;
    return 1;
}

static int read_child(void *a)
{
    return *(volatile char *)a == 0x7f;   /* 0 or 1: it read */
}

static int write_child(void *a)
{
    *(volatile char *)a = 1;
    return 0;
}

static int unmapped(void *a)
{
    return ut_killed_by(ut_run_child(read_child, a), SIGSEGV);
}

static long minflt(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* ---- errors ------------------------------------------------------------------------------ */

static void mremap_errors(void)
{
    char *a = anon(4), *gap = hole(4), *far = hole(8);
    fill(a, 4, 1);
    ut_check(mr(a, PAGE, PAGE, 8, NULL) == -EINVAL, "unknown_flag_einval", "wrong");
    ut_check(mr(a, PAGE, PAGE, MREMAP_FIXED, far) == -EINVAL, "fixed_without_maymove_einval",
             "wrong");
    ut_check(mr(a, PAGE, PAGE, MREMAP_DONTUNMAP, NULL) == -EINVAL,
             "dontunmap_without_maymove_einval", "wrong");
    ut_check(mr(a, PAGE, 2 * PAGE, MREMAP_DONTUNMAP | MREMAP_MAYMOVE, NULL) == -EINVAL,
             "dontunmap_resizing_einval", "wrong");
    ut_check(mr(a + 1, PAGE, PAGE, 0, NULL) == -EINVAL, "unaligned_address_einval", "wrong");
    ut_check(mr(a, PAGE, 0, 0, NULL) == -EINVAL, "new_size_zero_einval", "wrong");
    ut_check(mr(gap, PAGE, 2 * PAGE, MREMAP_MAYMOVE, NULL) == -EFAULT, "not_mapped_efault",
             "%ld", mr(gap, PAGE, 2 * PAGE, MREMAP_MAYMOVE, NULL));
    ut_check(mr(gap, PAGE, 0, 0, NULL) == -EINVAL, "new_size_zero_checked_before_mapping",
             "wrong");
    ut_check(mr(gap, 2 * PAGE, PAGE, 0, NULL) == -EFAULT, "shrink_not_mapped_efault", "wrong");
    ut_check(mr(a, 8 * PAGE, 9 * PAGE, MREMAP_MAYMOVE, NULL) == -EFAULT,
             "grow_past_its_mapping_efault", "wrong");
    ut_check(mr(a, 0, PAGE, MREMAP_MAYMOVE, NULL) == -EINVAL, "private_duplicate_einval",
             "wrong");
    ut_check(mr(a, 2 * PAGE, 2 * PAGE, MREMAP_FIXED | MREMAP_MAYMOVE, a + PAGE) == -EINVAL,
             "fixed_overlapping_einval", "wrong");
    ut_check(mr(a, PAGE, PAGE, MREMAP_FIXED | MREMAP_MAYMOVE, far + 1) == -EINVAL,
             "fixed_unaligned_target_einval", "wrong");
    ut_check(mr(gap, PAGE, PAGE, MREMAP_FIXED | MREMAP_MAYMOVE, far + 1) == -EINVAL,
             "fixed_unaligned_target_before_mapping", "wrong");
    ut_check(mr(a, PAGE, PAGE, MREMAP_FIXED | MREMAP_MAYMOVE, (void *)TOP) == -EINVAL,
             "fixed_target_past_the_top_einval", "wrong");
    ut_check(mr(a, PAGE, PAGE, MREMAP_DONTUNMAP | MREMAP_MAYMOVE, far + 1) == -EINVAL,
             "dontunmap_unaligned_hint_einval", "wrong");
    char *b = hole(3);
    long m1 = mm(b, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                 -1, 0);
    long m2 = mm(b + 2 * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    ut_check(good(m1) && good(m2) && mr(b, 2 * PAGE, 4 * PAGE, 0, NULL) == -ENOMEM,
             "cannot_grow_without_maymove_enomem", "maps %ld %ld", m1, m2);
    char *h = hole(6);
    mm(h + PAGE, 5 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
       0);
    ut_check(mr(h, 6 * PAGE, 6 * PAGE, MREMAP_FIXED | MREMAP_MAYMOVE, far) == -EFAULT,
             "fixed_move_starting_in_a_hole_efault", "wrong");
    ut_check(holds(a, 4, 1), "errors_changed_nothing", "data moved");
    munmap(a, 4 * PAGE);
    munmap(b, 3 * PAGE);
    munmap(h, 6 * PAGE);
}

/* ---- what it does ---------------------------------------------------------------------------- */

static void resize(void)
{
    char *a = anon(4);
    fill(a, 4, 10);
    ut_check(mr(a, 4 * PAGE, 2 * PAGE, 0, NULL) == (long)a && holds(a, 2, 10),
             "shrink_keeps_address_and_data", "wrong");
    ut_check(unmapped(a + 2 * PAGE), "shrink_unmaps_the_tail", "still mapped");
    ut_check(mr(a, 2 * PAGE, 2 * PAGE, 0, NULL) == (long)a, "same_size_is_a_no_op", "wrong");

    char *g = anon(8);
    munmap(g + 4 * PAGE, 4 * PAGE);
    fill(g, 4, 20);
    long r = mr(g, 4 * PAGE, 8 * PAGE, 0, NULL);
    ut_check(r == (long)g, "grow_in_place_when_free", "%#lx", (unsigned long)r);
    ut_check(r == (long)g && holds(g, 4, 20) && zero(g + 4 * PAGE, 4),
             "grown_pages_read_zero", "wrong data");
    munmap(g, 8 * PAGE);

    /* blocked: a page after it is mapped */
    char *m = hole(5);
    mm(m, 5 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    mprotect(m + 4 * PAGE, PAGE, PROT_READ);   /* another mapping right after */
    fill(m, 4, 30);
    long before = minflt();
    long n = mr(m, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE, NULL);
    char *p = (char *)n;
    ut_check(good(n) && p != m, "grow_moves_when_blocked", "%ld", n);
    if (good(n)) {
        int data = holds(p, 4, 30);
        long faults = minflt() - before;
        ut_check(data, "moved_data_comes_along", "wrong data");
        if (faults && !ut_on_mmk())
            ut_skip("moved_pages_are_not_faulted_again", "%ld faults: the host may be migrating "
                    "pages (compaction), and a migrating page faults once", faults);
        else
            ut_check(faults == 0, "moved_pages_are_not_faulted_again", "%ld faults", faults);
        ut_check(zero(p + 4 * PAGE, 4), "moved_and_grown_reads_zero", "not zero");
        ut_check(unmapped(m), "old_address_unmapped_after_move", "still mapped");
        ut_check(!unmapped(m + 4 * PAGE), "page_after_old_range_untouched", "gone");
        munmap(p, 8 * PAGE);
    }
    munmap(m + 4 * PAGE, PAGE);

    /* read-only pages (the zero page) move too */
    char *z = hole(4);
    mm(z, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    volatile char sink = 0;
    for (int i = 0; i < 3; i++)
        sink += z[i * PAGE];
    (void)sink;
    char *blk = (char *)mm(z + 3 * PAGE, PAGE, PROT_READ,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    before = minflt();
    n = mr(z, 3 * PAGE, 6 * PAGE, MREMAP_MAYMOVE, NULL);
    long zfaults = good(n) && zero((char *)n, 3) ? minflt() - before : -1;
    if (zfaults > 0 && !ut_on_mmk())
        ut_skip("zero_pages_move_without_faults", "%ld faults on the host (see above)", zfaults);
    else
        ut_check(zfaults == 0, "zero_pages_move_without_faults", "%ld, %ld faults", n, zfaults);
    if (good(n))
        munmap((void *)n, 6 * PAGE);
    if (good((long)blk))
        munmap(blk, PAGE);
}

static void moves(void)
{
    /* MREMAP_FIXED onto another mapping replaces it */
    char *a = anon(2), *t = anon(2);
    fill(a, 2, 40);
    fill(t, 2, 50);
    long r = mr(a, 2 * PAGE, 2 * PAGE, MREMAP_FIXED | MREMAP_MAYMOVE, t);
    ut_check(r == (long)t && holds(t, 2, 40), "fixed_move_replaces_the_target", "%ld", r);
    ut_check(unmapped(a), "fixed_move_unmaps_the_source", "still mapped");
    munmap(t, 2 * PAGE);

    /* several mappings and a hole, without resizing */
    char *s = anon(6), *dst = hole(6);
    fill(s, 6, 60);
    mprotect(s + 2 * PAGE, 2 * PAGE, PROT_READ);
    munmap(s + 5 * PAGE, PAGE);
    r = mr(s, 6 * PAGE, 6 * PAGE, MREMAP_FIXED | MREMAP_MAYMOVE, dst);
    ut_check(r == (long)dst, "fixed_move_across_mappings_and_holes", "%ld", r);
    if (r == (long)dst) {
        ut_check(holds(dst, 5, 60), "multi_move_keeps_every_piece", "wrong data");
        ut_check(ut_killed_by(ut_run_child(write_child, dst + 2 * PAGE), SIGSEGV),
                 "multi_move_keeps_protections", "read-only piece written");
        ut_check(unmapped(dst + 5 * PAGE), "multi_move_keeps_the_hole", "hole mapped");
        ut_check(unmapped(s) && unmapped(s + 3 * PAGE), "multi_move_empties_the_source",
                 "source mapped");
        munmap(dst, 6 * PAGE);
    }

    /* DONTUNMAP: private */
    char *d = anon(2);
    fill(d, 2, 70);
    r = mr(d, 2 * PAGE, 2 * PAGE, MREMAP_DONTUNMAP | MREMAP_MAYMOVE, NULL);
    ut_check(good(r) && (char *)r != d && holds((char *)r, 2, 70), "dontunmap_moves_the_data",
             "%ld", r);
    ut_check(!unmapped(d) && zero(d, 2), "dontunmap_private_old_range_reads_zero", "wrong");
    if (good(r))
        munmap((void *)r, 2 * PAGE);
    munmap(d, 2 * PAGE);

    /* DONTUNMAP: shared */
    char *sh = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    fill(sh, 2, 80);
    r = mr(sh, 2 * PAGE, 2 * PAGE, MREMAP_DONTUNMAP | MREMAP_MAYMOVE, NULL);
    ut_check(good(r) && holds((char *)r, 2, 80) && holds(sh, 2, 80),
             "dontunmap_shared_old_range_keeps_the_data", "%ld", r);
    if (good(r))
        munmap((void *)r, 2 * PAGE);

    /* old size 0: a second mapping of the same shared memory */
    r = mr(sh, 0, 2 * PAGE, MREMAP_MAYMOVE, NULL);
    ut_check(good(r) && (char *)r != sh, "shared_duplicate_makes_a_second_mapping", "%ld", r);
    if (good(r)) {
        ((char *)r)[5] = 99;
        ut_check(sh[5] == 99 && holds(sh + PAGE, 1, 81), "duplicate_shares_the_pages",
                 "not shared");
        munmap((void *)r, 2 * PAGE);
    }
    ut_check(mr(sh, 0, PAGE, 0, NULL) == -ENOMEM, "shared_duplicate_without_maymove_enomem",
             "wrong");
    munmap(sh, 2 * PAGE);
}

static void file_and_fork(void)
{
    /* a private mapping of a file grown: the new pages show the file */
    int fd = open(self, O_RDONLY);
    char want[3 * 4096];
    int got = fd >= 0 && pread(fd, want, sizeof want, 0) == (ssize_t)sizeof want;
    char *f = got ? mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    long r = f != MAP_FAILED ? mr(f, PAGE, 3 * PAGE, MREMAP_MAYMOVE, NULL) : -1;
    ut_check(good(r) && memcmp((void *)r, want, sizeof want) == 0,
             "grown_file_mapping_shows_the_file", "r %ld", r);
    if (good(r))
        munmap((void *)r, 3 * PAGE);
    if (fd >= 0)
        close(fd);

    /* a move in the parent after fork leaves the child's copy alone */
    char *a = anon(4);
    fill(a, 4, 90);
    int pfd[2];
    if (pipe(pfd))
        return;
    pid_t pid = ut_fork();
    if (pid == 0) {
        char c;
        read(pfd[0], &c, 1);   /* the parent has moved and written */
        _exit(holds(a, 4, 90) ? 0 : 1);
    }
    long n = mr(a, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE, NULL);
    if (good(n))
        fill((char *)n, 4, 100);
    write(pfd[1], "x", 1);
    int st = ut_wait(pid);
    ut_check(good(n) && ut_exited_with(st, 0), "move_after_fork_leaves_the_child_alone",
             "n %ld, status %#x", n, st);
    ut_check(good(n) && holds((char *)n, 4, 100), "moved_copy_is_the_parents", "wrong");
    close(pfd[0]);
    close(pfd[1]);
    if (good(n))
        munmap((void *)n, 8 * PAGE);

    /* a part from the middle of a mapping */
    char *m = hole(8);
    mm(m, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    fill(m, 8, 110);
    r = mr(m + 2 * PAGE, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE, NULL);
    ut_check(good(r) && holds((char *)r, 2, 112) && zero((char *)r + 2 * PAGE, 2),
             "move_from_the_middle_takes_that_part", "%ld", r);
    ut_check(holds(m, 2, 110) && holds(m + 4 * PAGE, 4, 114) && unmapped(m + 2 * PAGE),
             "move_from_the_middle_leaves_the_rest", "wrong");
    if (good(r))
        munmap((void *)r, 4 * PAGE);
    munmap(m, 8 * PAGE);

    /* realloc of a large block (musl and glibc mremap it) */
    size_t big = 1 << 20;
    char *p = malloc(big);
    for (size_t i = 0; i < big; i += 4096)
        p[i] = (char)(i >> 12);
    char *q = realloc(p, 16 * big);
    int ok = q != NULL;
    for (size_t i = 0; ok && i < big; i += 4096)
        ok = q[i] == (char)(i >> 12);
    ut_check(ok, "realloc_large_keeps_the_data", "wrong");
    free(q);
}

/* ---- mmap's order ------------------------------------------------------------------------------ */

static void mmap_order(void)
{
    int fd = open(self, O_RDONLY);
    char path[] = "/tmp/test_mremap.XXXXXX";
    int wfd = mkstemp(path);
    if (wfd >= 0) {
        static char page[4096];
        write(wfd, page, sizeof page);
        write(wfd, page, sizeof page);
        close(wfd);
    }
    int wo = open(path, O_WRONLY);
    int dir = open("/tmp", O_RDONLY);
    int pfd[2] = { -1, -1 };
    if (pipe(pfd)) {}
    const int RW = PROT_READ | PROT_WRITE, A = MAP_ANONYMOUS;
    static const struct {
        const char *name;
        int want;
    } cases[] = {
        { "anon_shared_validate_einval", EINVAL },
        { "anon_no_type_einval", EINVAL },
        { "anon_type_4_einval", EINVAL },
        { "no_type_huge_length_enomem_first", ENOMEM },
        { "no_type_zero_length_einval", EINVAL },
        { "file_no_type_einval", EINVAL },
        { "file_validate_map_sync_eopnotsupp", EOPNOTSUPP },
        { "file_validate_unknown_flag_eopnotsupp", EOPNOTSUPP },
        { "file_validate_noreplace_eopnotsupp", EOPNOTSUPP },
        { "file_validate_plain_ok", 0 },
        { "file_shared_unknown_flag_ignored", 0 },
        { "anon_shared_unknown_flag_ignored", 0 },
        { "anon_private_unknown_flag_ignored", 0 },
        { "anon_shared_growsdown_einval", EINVAL },
        { "anon_private_growsdown_ok", 0 },
        { "file_growsdown_einval", EINVAL },
        { "file_hugetlb_einval", EINVAL },
        { "zero_length_einval", EINVAL },
        { "bad_fd_ebadf", EBADF },
        { "bad_fd_before_zero_length", EBADF },
        { "huge_length_enomem", ENOMEM },
        { "fixed_unaligned_einval", EINVAL },
        { "fixed_past_the_top_enomem", ENOMEM },
        { "shared_writable_read_only_file_eacces", EACCES },
        { "private_writable_read_only_file_ok", 0 },
        { "validate_writable_read_only_file_eacces", EACCES },
        { "file_type_5_einval", EINVAL },
        { "pipe_enodev", ENODEV },
        { "write_only_file_private_eacces", EACCES },
        { "write_only_file_shared_eacces", EACCES },
        { "write_only_file_zero_length_einval", EINVAL },
        { "directory_enodev", ENODEV },
        { "unknown_prot_bits_ignored", 0 },
    };
    long got[sizeof cases / sizeof cases[0]];
    int k = 0;
    char *fx = hole(2);
    got[k++] = mm(NULL, PAGE, RW, 3 | A, -1, 0);
    got[k++] = mm(NULL, PAGE, RW, 0 | A, -1, 0);
    got[k++] = mm(NULL, PAGE, RW, 4 | A, -1, 0);
    got[k++] = mm(NULL, HUGE_LEN, RW, 0 | A, -1, 0);
    got[k++] = mm(NULL, 0, RW, 0 | A, -1, 0);
    got[k++] = mm(NULL, PAGE, PROT_READ, 0, fd, 0);
    got[k++] = mm(NULL, PAGE, PROT_READ, MAP_SHARED_VALIDATE | 0x80000, fd, 0);
    got[k++] = mm(NULL, PAGE, PROT_READ, MAP_SHARED_VALIDATE | 0x200000, fd, 0);
    got[k++] = mm(fx, PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE, fd, 0);
    got[k++] = mm(NULL, PAGE, PROT_READ, MAP_SHARED_VALIDATE, fd, 0);
    got[k++] = mm(NULL, PAGE, PROT_READ, MAP_SHARED | 0x200000, fd, 0);
    got[k++] = mm(NULL, PAGE, RW, MAP_SHARED | A | 0x200000, -1, 0);
    got[k++] = mm(NULL, PAGE, RW, MAP_PRIVATE | A | 0x200000, -1, 0);
    got[k++] = mm(NULL, PAGE, RW, MAP_SHARED | A | MAP_GROWSDOWN, -1, 0);
    got[k++] = mm(NULL, PAGE, RW, MAP_PRIVATE | A | MAP_GROWSDOWN, -1, 0);
    got[k++] = mm(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, fd, 0);
    got[k++] = mm(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_HUGETLB, fd, 0);
    got[k++] = mm(NULL, 0, RW, MAP_PRIVATE | A, -1, 0);
    got[k++] = mm(NULL, PAGE, PROT_READ, MAP_PRIVATE, 999, 0);
    got[k++] = mm(NULL, 0, PROT_READ, MAP_PRIVATE, 999, 0);
    got[k++] = mm(NULL, (size_t)-1, RW, MAP_PRIVATE | A, -1, 0);
    got[k++] = mm(fx + 1, PAGE, RW, MAP_PRIVATE | A | MAP_FIXED, -1, 0);
    got[k++] = mm((void *)(TOP - PAGE), 2 * PAGE, RW, MAP_PRIVATE | A | MAP_FIXED, -1, 0);
    got[k++] = mm(NULL, PAGE, RW, MAP_SHARED, fd, 0);
    got[k++] = mm(NULL, PAGE, RW, MAP_PRIVATE, fd, 0);
    got[k++] = mm(NULL, PAGE, RW, MAP_SHARED_VALIDATE, fd, 0);
    got[k++] = mm(NULL, PAGE, PROT_READ, 5, fd, 0);
    got[k++] = mm(NULL, PAGE, PROT_READ, MAP_PRIVATE, pfd[0], 0);
    got[k++] = mm(NULL, PAGE, PROT_READ, MAP_PRIVATE, wo, 0);
    got[k++] = mm(NULL, PAGE, PROT_READ, MAP_SHARED, wo, 0);
    got[k++] = mm(NULL, 0, PROT_READ, MAP_PRIVATE, wo, 0);
    got[k++] = mm(NULL, PAGE, PROT_READ, MAP_PRIVATE, dir, 0);
    got[k++] = mm(NULL, PAGE, PROT_READ | 0x10, MAP_PRIVATE | A, -1, 0);
    for (int i = 0; i < k; i++) {
        int e = good(got[i]) ? 0 : (int)-got[i];
        ut_check(e == cases[i].want, cases[i].name, "%s", e ? ut_errno_name(e) : "mapped");
        if (good(got[i]))
            munmap((void *)got[i], PAGE);
    }
#if IS64
    /* the offset: its alignment first of all; past 2^63 with a file */
    ut_check(mm(NULL, PAGE, PROT_READ, MAP_PRIVATE, 999, 1) == -EINVAL,
             "unaligned_offset_before_bad_fd", "wrong");
    ut_check(mm(NULL, PAGE, RW, MAP_PRIVATE | A, -1, 1) == -EINVAL,
             "anon_unaligned_offset_einval", "wrong");
    ut_check(mm(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, ~0UL << 12) == -EOVERFLOW,
             "file_offset_past_2_63_eoverflow", "wrong");
#endif
    close(fd);
    close(wo);
    close(dir);
    close(pfd[0]);
    close(pfd[1]);
    unlink(path);
}

int main(int argc, char **argv)
{
    (void)argc;
    self = argv[0];
    ut_init();
    mremap_errors();
    resize();
    moves();
    file_and_fork();
    mmap_order();
    return ut_done();
}
