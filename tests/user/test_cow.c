/*
 * test_cow: copy-on-write isolation after fork.
 *
 * After fork, parent and child start with the same contents, and from then
 * on a write by either one is invisible to the other: in anonymous
 * mappings, in .data, .bss and on the stack; after mprotect read-only then
 * read-write; with three processes (siblings, and a chain down to a
 * grandchild) writing the same region; in a page that was only ever read
 * (the shared zero page); and when the kernel itself writes into a
 * CoW-shared buffer (read() from a pipe changes only the reader's copy).
 * MAP_SHARED anonymous memory, on the other hand, stays shared across
 * fork, also with a grandchild and after the child's mprotect.
 *
 * Processes synchronise through pipes, and only the first process prints;
 * children answer through their exit status (0 = all their checks held).
 */
#include "ut.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define NPAGES 16
#define LEN (NPAGES * PAGE)

static char *region;             /* private anonymous, NPAGES */
static int data_word = 1;        /* .data */
static char bss_buf[2 * PAGE];   /* .bss */

static void fill(char *p, size_t len, char v)
{
    memset(p, v, len);
}

/* True when every byte of p[0..len) is v. */
static int all(const char *p, size_t len, char v)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

static void post(int fd)
{
    char c = 1;
    ut_write_full(fd, &c, 1);
}

static int await(int fd)
{
    char c;
    return ut_read_full(fd, &c, 1) == 0;
}

static int child_ok(int status, char *why, size_t size)
{
    ut_status_str(status, why, size);
    return ut_exited_with(status, 0);
}

/* 1. The child's writes stay in the child, everywhere in its memory. */
static void child_writes(void)
{
    char stack_buf[256];
    char why[64];
    fill(region, LEN, 'A');
    fill(stack_buf, sizeof stack_buf, 's');
    data_word = 1;
    fill(bss_buf, sizeof bss_buf, 0);
    pid_t pid = ut_fork();
    if (pid == 0) {
        fill(region, LEN, 'B');
        fill(stack_buf, sizeof stack_buf, 'c');
        data_word = 2;
        fill(bss_buf, sizeof bss_buf, 'b');
        _exit(!(all(region, LEN, 'B') && all(stack_buf, sizeof stack_buf, 'c') &&
                data_word == 2 && all(bss_buf, sizeof bss_buf, 'b')));
    }
    int st = pid > 0 ? ut_wait(pid) : -1;
    ut_check(child_ok(st, why, sizeof why), "child_sees_its_own_writes", "child: %s", why);
    ut_check(all(region, LEN, 'A'), "child_writes_invisible_in_mmap", "parent's region changed");
    ut_check(data_word == 1 && all(bss_buf, sizeof bss_buf, 0), "child_writes_invisible_in_data_bss",
             "parent's .data or .bss changed");
    ut_check(all(stack_buf, sizeof stack_buf, 's'), "child_writes_invisible_on_stack",
             "parent's stack changed");
}

/* 2. The parent's writes after fork do not reach the child. */
static void parent_writes(void)
{
    int go[2];
    char why[64];
    fill(region, LEN, 'A');
    if (pipe(go) < 0) {
        ut_check(0, "parent_writes_invisible_to_child", "pipe: %s", ut_errno_name(errno));
        return;
    }
    pid_t pid = ut_fork();
    if (pid == 0) {
        close(go[1]);
        if (!await(go[0]))
            _exit(2);
        _exit(!all(region, LEN, 'A'));
    }
    close(go[0]);
    fill(region, LEN, 'P');
    post(go[1]);
    close(go[1]);
    int st = pid > 0 ? ut_wait(pid) : -1;
    ut_check(child_ok(st, why, sizeof why), "parent_writes_invisible_to_child", "child: %s", why);
    ut_check(all(region, LEN, 'P'), "parent_sees_its_own_writes", "parent's region is not 'P'");
}

/*
 * 3. Both sides write at the same time, after mprotect read-only then
 * read-write; `ro_before_fork` makes the region read-only across the fork.
 */
static void mprotect_cycle(int ro_before_fork, const char *name)
{
    int c2p[2], p2c[2];
    char why[64];
    fill(region, LEN, 'A');
    if (ro_before_fork)
        mprotect(region, LEN, PROT_READ);
    if (pipe(c2p) < 0 || pipe(p2c) < 0) {
        ut_check(0, name, "pipe: %s", ut_errno_name(errno));
        return;
    }
    pid_t pid = ut_fork();
    if (pid == 0) {
        if (!ro_before_fork && mprotect(region, LEN, PROT_READ) != 0)
            _exit(3);
        if (mprotect(region, LEN, PROT_READ | PROT_WRITE) != 0)
            _exit(4);
        fill(region, LEN, 'C');
        post(c2p[1]);
        if (!await(p2c[0]))
            _exit(2);
        _exit(!all(region, LEN, 'C'));
    }
    int ok = 1;
    if (!ro_before_fork && mprotect(region, LEN, PROT_READ) != 0)
        ok = 0;
    if (mprotect(region, LEN, PROT_READ | PROT_WRITE) != 0)
        ok = 0;
    fill(region, LEN, 'P');
    await(c2p[0]);
    post(p2c[1]);
    int st = pid > 0 ? ut_wait(pid) : -1;
    for (int i = 0; i < 2; i++) {
        close(c2p[i]);
        close(p2c[i]);
    }
    child_ok(st, why, sizeof why);
    ut_check(ok && ut_exited_with(st, 0) && all(region, LEN, 'P'), name,
             "mprotect %s, child %s, parent's region %s", ok ? "ok" : "failed", why,
             all(region, LEN, 'P') ? "intact" : "changed");
}

/* 4. The child's mprotect changes only the child's view. */
static void child_mprotect_private(void)
{
    char why[64];
    fill(region, LEN, 'A');
    pid_t pid = ut_fork();
    if (pid == 0) {
        mprotect(region, LEN, PROT_READ);
        region[PAGE] = 'x';          /* must kill the child */
        _exit(0);
    }
    int st = pid > 0 ? ut_wait(pid) : -1;
    ut_check(ut_killed_by(st, SIGSEGV), "child_write_after_its_mprotect_ro_killed", "child: %s",
             ut_status_str(st, why, sizeof why));
    region[PAGE] = 'y';
    ut_check(region[PAGE] == 'y' && region[0] == 'A', "child_mprotect_leaves_parent_writable",
             "parent's region unexpected");
}

/*
 * 5. Three processes write the same region at the same time: two siblings
 * (`chain` = 0) or a child and a grandchild (`chain` = 1).  Each writes its
 * own letter once every process has forked, then each checks its own.
 */
static int three_writer(char me, int go_fd, int done_fd, int check_fd)
{
    if (!await(go_fd))
        return 2;
    fill(region, LEN, me);
    post(done_fd);
    if (!await(check_fd))
        return 2;
    return !all(region, LEN, me);
}

static void three_processes(int chain, const char *name)
{
    int go[2], done[2], check[2];
    char why[64];
    fill(region, LEN, 'A');
    if (pipe(go) < 0 || pipe(done) < 0 || pipe(check) < 0) {
        ut_check(0, name, "pipe: %s", ut_errno_name(errno));
        return;
    }
    pid_t c1 = ut_fork();
    if (c1 == 0) {
        if (chain) {
            /* The grandchild shares the frames with its parent and ours. */
            pid_t g = fork();
            if (g == 0)
                _exit(three_writer('G', go[0], done[1], check[0]));
            int r = three_writer('C', go[0], done[1], check[0]);
            int gs = g > 0 ? ut_wait(g) : -1;
            _exit(r ? r : ut_exited_with(gs, 0) ? 0 : 5);
        }
        _exit(three_writer('C', go[0], done[1], check[0]));
    }
    pid_t c2 = chain ? 0 : ut_fork();
    if (c2 == 0 && !chain)
        _exit(three_writer('D', go[0], done[1], check[0]));
    /* Every process exists now: let them write, and write too. */
    post(go[1]);
    post(go[1]);
    fill(region, LEN, 'P');
    int ok = await(done[0]) && await(done[0]);
    post(check[1]);
    post(check[1]);
    int s1 = c1 > 0 ? ut_wait(c1) : -1;
    int s2 = chain ? 0 : c2 > 0 ? ut_wait(c2) : -1;
    for (int i = 0; i < 2; i++) {
        close(go[i]);
        close(done[i]);
        close(check[i]);
    }
    char why2[64];
    ut_status_str(s1, why, sizeof why);
    ut_status_str(s2, why2, sizeof why2);
    ut_check(ok && ut_exited_with(s1, 0) && ut_exited_with(s2, 0) && all(region, LEN, 'P'),
             name, "first child %s, second %s, parent's region %s", why, chain ? "-" : why2,
             all(region, LEN, 'P') ? "intact" : "changed");
}

/* 6. The last sharer writes after the others exited: its data is intact. */
static void last_sharer(void)
{
    fill(region, LEN, 'L');
    pid_t pid = ut_fork();
    if (pid == 0)
        _exit(0);
    ut_wait(pid);
    region[0] = 'M';
    region[LEN - 1] = 'N';
    ut_check(region[0] == 'M' && region[LEN - 1] == 'N' && all(region + 1, LEN - 2, 'L'),
             "last_sharer_writes_keep_its_data", "parent's region changed unexpectedly");
}

/* 7. A page only ever read (the zero page, on mmk and Linux) written by the child. */
static void zero_page(void)
{
    char why[64];
    char *z = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (z == MAP_FAILED) {
        ut_check(0, "zero_page_write_in_child_invisible", "mmap: %s", ut_errno_name(errno));
        return;
    }
    volatile char sum = 0;
    for (size_t i = 0; i < 4 * PAGE; i += PAGE)
        sum += z[i];                 /* read only: maps the zero page */
    pid_t pid = ut_fork();
    if (pid == 0) {
        fill(z, 4 * PAGE, 'z');
        _exit(!all(z, 4 * PAGE, 'z'));
    }
    int st = pid > 0 ? ut_wait(pid) : -1;
    ut_check(child_ok(st, why, sizeof why) && all(z, 4 * PAGE, 0) && sum == 0,
             "zero_page_write_in_child_invisible", "child %s, parent's pages %s", why,
             all(z, 4 * PAGE, 0) ? "zero" : "changed");
    munmap(z, 4 * PAGE);
}

/*
 * 8. read() into a CoW-shared buffer: the kernel's write breaks the
 * sharing and changes only the reader's copy.  The buffer spans three
 * pages (offset 2048, 6000 bytes).  `parent_reads` picks the reader.
 */
#define MSG_OFF 2048
#define MSG_LEN 6000

static void make_msg(char *m)
{
    for (int i = 0; i < MSG_LEN; i++)
        m[i] = (char)('a' + i % 26);
}

static int reader_ok(const char *msg)
{
    return memcmp(region + MSG_OFF, msg, MSG_LEN) == 0 && all(region, MSG_OFF, 'R') &&
           all(region + MSG_OFF + MSG_LEN, LEN - MSG_OFF - MSG_LEN, 'R');
}

static void pipe_into_cow(int parent_reads, const char *name)
{
    static char msg[MSG_LEN];
    int data[2], sync[2];
    char why[64];
    make_msg(msg);
    fill(region, LEN, 'R');
    if (pipe(data) < 0 || pipe(sync) < 0) {
        ut_check(0, name, "pipe: %s", ut_errno_name(errno));
        return;
    }
    pid_t pid = ut_fork();
    if (pid == 0) {
        if (!parent_reads) {
            /* Nothing written into region since fork: still shared. */
            int r = ut_read_full(data[0], region + MSG_OFF, MSG_LEN);
            _exit(r != 0 ? 2 : !reader_ok(msg));
        }
        ut_write_full(data[1], msg, MSG_LEN);
        if (!await(sync[0]))            /* the parent has read */
            _exit(2);
        _exit(!all(region, LEN, 'R'));
    }
    int rd = 0;
    if (parent_reads) {
        rd = ut_read_full(data[0], region + MSG_OFF, MSG_LEN) == 0;
        post(sync[1]);
    } else {
        ut_write_full(data[1], msg, MSG_LEN);
    }
    int st = pid > 0 ? ut_wait(pid) : -1;
    child_ok(st, why, sizeof why);
    if (parent_reads)
        ut_check(rd && reader_ok(msg) && ut_exited_with(st, 0), name,
                 "parent read %s, data %s, child (whose copy must be intact) %s",
                 rd ? "ok" : "failed", reader_ok(msg) ? "right" : "wrong", why);
    else
        ut_check(ut_exited_with(st, 0) && all(region, LEN, 'R'), name,
                 "child (the reader) %s, parent's copy %s", why,
                 all(region, LEN, 'R') ? "intact" : "changed");
    for (int i = 0; i < 2; i++) {
        close(data[i]);
        close(sync[i]);
    }
}

/* 9. MAP_SHARED anonymous memory stays shared: child, grandchild, parent. */
static void shared_anon(void)
{
    int c2p[2], p2c[2];
    char why[64];
    char *s = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED || pipe(c2p) < 0 || pipe(p2c) < 0) {
        ut_check(0, "shared_anon_child_write_seen_by_parent", "mmap or pipe: %s",
                 ut_errno_name(errno));
        return;
    }
    fill(s, 2 * PAGE, 'a');
    pid_t pid = ut_fork();
    if (pid == 0) {
        fill(s, PAGE, 'c');                      /* page 0 by the child */
        pid_t g = fork();
        if (g == 0) {
            s[PAGE] = 'g';                       /* page 1 by the grandchild */
            _exit(s[0] != 'c');
        }
        int gs = g > 0 ? ut_wait(g) : -1;
        if (!ut_exited_with(gs, 0) || s[PAGE] != 'g')
            _exit(3);
        /* An mprotect cycle in the child does not unshare the mapping. */
        if (mprotect(s, 2 * PAGE, PROT_READ) || mprotect(s, 2 * PAGE, PROT_READ | PROT_WRITE))
            _exit(4);
        post(c2p[1]);
        if (!await(p2c[0]))
            _exit(2);
        _exit(s[PAGE + 1] != 'p');               /* written by the parent meanwhile */
    }
    int seen = await(c2p[0]);
    ut_check(seen && all(s, PAGE, 'c'), "shared_anon_child_write_seen_by_parent",
             "parent sees %c", s[0]);
    ut_check(seen && s[PAGE] == 'g', "shared_anon_grandchild_write_seen_by_parent",
             "parent sees %c", s[PAGE]);
    s[PAGE + 1] = 'p';
    post(p2c[1]);
    int st = pid > 0 ? ut_wait(pid) : -1;
    ut_check(child_ok(st, why, sizeof why), "shared_anon_parent_write_seen_by_child", "child: %s",
             why);
    munmap(s, 2 * PAGE);
    for (int i = 0; i < 2; i++) {
        close(c2p[i]);
        close(p2c[i]);
    }
}

int main(void)
{
    ut_init();
    region = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) {
        ut_check(0, "mmap_region", "mmap: %s", ut_errno_name(errno));
        return ut_done();
    }
    child_writes();
    parent_writes();
    mprotect_cycle(0, "mprotect_ro_rw_after_fork_keeps_isolation");
    mprotect_cycle(1, "mprotect_rw_after_fork_of_ro_region_keeps_isolation");
    child_mprotect_private();
    three_processes(0, "three_processes_siblings_write_same_region");
    three_processes(1, "three_processes_chain_write_same_region");
    last_sharer();
    zero_page();
    pipe_into_cow(0, "pipe_read_into_cow_buffer_by_child");
    pipe_into_cow(1, "pipe_read_into_cow_buffer_by_parent");
    shared_anon();
    return ut_done();
}
