/*
 * test_smp: one address space on several CPUs at once, and many address
 * spaces on all of them (docs/smp.md, "What the stress tests check").
 *
 * Run with four CPUs (the user-programs boot), every part has tasks in
 * user mode on other CPUs while the kernel changes their mappings:
 *
 *  - fork storm: eight children at a time, three rounds, each breaking
 *    copy-on-write on all 64 pages the parent filled, while the parent
 *    rewrites its own copy; each side then checks it sees its own values
 *    only;
 *  - threads faulting and unmapping one region: four threads map, fill,
 *    check and unmap their own slices of one 2 MiB range over and over
 *    (their page tables share pages), and write their own words of 16
 *    shared pages in turn; every value read back is the writer's;
 *  - the shootdown: a thread reads a page in a loop while the main
 *    thread unmaps it and maps a new page with other contents at the
 *    same address; once the main thread says the page is gone, the
 *    reader must fault or see the new contents, never the old ones (a
 *    CPU that kept the old translation in its TLB would);
 *  - a thread that sleeps between reads: it reads a page, then blocks on
 *    a pipe (its CPU goes idle, keeping the address space's tables:
 *    lazy TLB); meanwhile the main thread moves a new page with other
 *    contents to that address (mremap with MREMAP_FIXED: the new frame
 *    is taken while the old one is still mapped, so the two differ; a
 *    second page keeps the page table alive); woken, the thread must
 *    read the new contents, never the old ones (a CPU that came back
 *    without flushing would);
 *  - pages that move under a running thread: a thread keeps writing and
 *    checking a counter in each of 64 pages while the main thread asks
 *    for compaction (/proc/sys/vm/compact_memory: the pages migrate) and
 *    for their page-out (MADV_PAGEOUT, where there is swap); no write may
 *    be lost;
 *  - FUTEX_WAKE_OP's operation on its second word is atomic: a thread
 *    keeps adding 1 to a word in user mode (lock xadd) while the main
 *    thread has the kernel add 1 to the same word a few thousand times
 *    through FUTEX_WAKE_OP; no addition of either may be lost (a kernel
 *    that reads the word, then writes the sum back, loses the thread's
 *    additions made in between);
 *  - 32-bit: the same program built for i386 (compat32) runs the same
 *    parts through the two-level tables.
 *
 * The program's lines are the same on the host (Linux, any number of
 * CPUs): what it checks holds on any correct kernel.  The CPUs each part
 * ran on (sched_getcpu) go to notes.
 */
#define _GNU_SOURCE
#include "ut.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define STORM_PAGES 64
#define STORM_CHILDREN 8
#define STORM_ROUNDS 3

static volatile int stop_all;

/* ---- fork storm --------------------------------------------------------------- */

static int storm_child(char *p, int id)
{
    for (int i = 0; i < STORM_PAGES; i++)
        if (p[i * PAGE] != 'P' || p[i * PAGE + PAGE - 1] != 'P')
            return 10;   /* the parent's values, before our first write */
    for (int i = 0; i < STORM_PAGES; i++)
        memset(p + i * PAGE, 'a' + id, PAGE);
    for (int i = 0; i < STORM_PAGES; i++)
        for (unsigned k = 0; k < PAGE; k += 512)
            if (p[i * PAGE + k] != 'a' + id)
                return 11;
    return 0;
}

static void fork_storm(void)
{
    char *p = mmap(NULL, STORM_PAGES * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int bad_child = 0, bad_parent = 0, forks = 0;
    if (p == MAP_FAILED) {
        ut_check(0, "fork_storm_children_see_their_own", "mmap: %s", strerror(errno));
        return;
    }
    for (int r = 0; r < STORM_ROUNDS; r++) {
        memset(p, 'P', STORM_PAGES * PAGE);
        pid_t kids[STORM_CHILDREN];
        for (int c = 0; c < STORM_CHILDREN; c++) {
            kids[c] = ut_fork();
            if (kids[c] == 0)
                _exit(storm_child(p, c));
            forks += kids[c] > 0;
        }
        /* Meanwhile the parent writes its own copy: copy-on-write both ways. */
        for (int i = 0; i < STORM_PAGES; i++)
            memset(p + i * PAGE, 'Q', PAGE);
        for (int c = 0; c < STORM_CHILDREN; c++)
            if (kids[c] > 0 && !ut_exited_with(ut_wait(kids[c]), 0))
                bad_child++;
        for (int i = 0; i < STORM_PAGES; i++)
            if (p[i * PAGE] != 'Q' || p[i * PAGE + PAGE / 2] != 'Q')
                bad_parent++;
    }
    munmap(p, STORM_PAGES * PAGE);
    ut_check(forks == STORM_ROUNDS * STORM_CHILDREN, "fork_storm_forks",
             "%d of %d forks", forks, STORM_ROUNDS * STORM_CHILDREN);
    ut_check(bad_child == 0, "fork_storm_children_see_their_own",
             "%d children saw another's values or the parent's late writes", bad_child);
    ut_check(bad_parent == 0, "fork_storm_parent_sees_its_own",
             "%d pages of the parent lost its writes", bad_parent);
}

/* ---- threads faulting and unmapping one region --------------------------------- */

#define SLICE_PAGES 32
#define NTHREADS 4
#define SHARED_PAGES 16

struct region {
    char *base;                  /* NTHREADS slices of SLICE_PAGES, reserved PROT_NONE */
    uint32_t *shared;            /* SHARED_PAGES written by every thread */
    int rounds;
};

struct worker {
    struct region *rg;
    int id, bad, cpu_seen;
    pthread_t th;
};

static void *slice_worker(void *arg)
{
    struct worker *w = arg;
    char *slice = w->rg->base + (size_t)w->id * SLICE_PAGES * PAGE;
    w->cpu_seen = sched_getcpu();
    for (int r = 0; r < w->rg->rounds; r++) {
        char *p = mmap(slice, SLICE_PAGES * PAGE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (p != slice) {
            w->bad++;
            continue;
        }
        char v = (char)('A' + (w->id * 7 + r) % 26);
        for (int i = 0; i < SLICE_PAGES; i++)
            p[i * PAGE + (r % 64) * 64] = v;
        for (int i = 0; i < SLICE_PAGES; i++)
            if (p[i * PAGE + (r % 64) * 64] != v)
                w->bad++;
        /* Each thread's word in every shared page, then read back. */
        for (int i = 0; i < SHARED_PAGES; i++)
            __atomic_store_n(&w->rg->shared[i * (PAGE / 4) + w->id], (uint32_t)(r + 1),
                             __ATOMIC_RELAXED);
        for (int i = 0; i < SHARED_PAGES; i++)
            if (__atomic_load_n(&w->rg->shared[i * (PAGE / 4) + w->id], __ATOMIC_RELAXED) !=
                (uint32_t)(r + 1))
                w->bad++;
        /* Back to PROT_NONE: the slice's pages go, the range stays ours. */
        if (mmap(slice, SLICE_PAGES * PAGE, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) != slice)
            w->bad++;
    }
    return NULL;
}

static void threads_fault_and_unmap(void)
{
    struct region rg;
    rg.rounds = 40;
    rg.base = mmap(NULL, NTHREADS * SLICE_PAGES * PAGE, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    rg.shared = mmap(NULL, SHARED_PAGES * PAGE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (rg.base == MAP_FAILED || rg.shared == MAP_FAILED) {
        ut_check(0, "threads_fault_unmap_values", "mmap: %s", strerror(errno));
        return;
    }
    struct worker w[NTHREADS];
    int started = 0, bad = 0;
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (struct worker){ &rg, i, 0, -1, 0 };
        started += pthread_create(&w[i].th, NULL, slice_worker, &w[i]) == 0;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(w[i].th, NULL);
        bad += w[i].bad;
    }
    ut_note("slice threads ran on CPUs %d %d %d %d", w[0].cpu_seen, w[1].cpu_seen,
            w[2].cpu_seen, w[3].cpu_seen);
    ut_check(started == NTHREADS, "threads_fault_unmap_started", "%d threads", started);
    ut_check(bad == 0, "threads_fault_unmap_values", "%d wrong values or failed maps", bad);
    munmap(rg.base, NTHREADS * SLICE_PAGES * PAGE);
    munmap(rg.shared, SHARED_PAGES * PAGE);
}

/* ---- the shootdown: munmap while another thread reads ---------------------------- */

#define SHOOT_ROUNDS 200

static char *volatile shoot_page;
static volatile int shoot_round;        /* the round the main thread is in */
static volatile int shoot_gone;         /* round r: the old page of round r is unmapped */
static volatile int shoot_stale, shoot_faults, shoot_reads;
static __thread sigjmp_buf reader_jmp;
static __thread volatile int reader_armed;

static void reader_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)si, (void)uc;
    if (reader_armed)
        siglongjmp(reader_jmp, 1);
    _exit(99);   /* a fault nobody expected */
}

static void *shoot_reader(void *arg)
{
    int *cpu = arg;
    *cpu = sched_getcpu();
    while (!stop_all) {
        int r = shoot_round, gone = shoot_gone == r;
        /* The old contents of round r are 'a' + r % 26; the new ones 'N'. */
        reader_armed = 1;
        if (sigsetjmp(reader_jmp, 1) == 0) {
            char c = ((volatile char *)shoot_page)[100];
            shoot_reads++;
            if (gone && shoot_round == r && c == (char)('a' + r % 26))
                shoot_stale++;
        } else {
            shoot_faults++;
        }
        reader_armed = 0;
    }
    return NULL;
}

static void munmap_while_reading(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = reader_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, &old);
    char *addr = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int bad_map = 0, reader_cpu = -1;
    if (addr == MAP_FAILED) {
        ut_check(0, "shootdown_no_stale_read", "mmap: %s", strerror(errno));
        return;
    }
    memset(addr, 'a', PAGE);
    shoot_page = addr;
    shoot_round = 0;
    shoot_gone = -1;
    stop_all = 0;
    pthread_t th;
    int ok = pthread_create(&th, NULL, shoot_reader, &reader_cpu) == 0;
    for (int r = 0; ok && r < SHOOT_ROUNDS; r++) {
        /* The reader reads the old page while we unmap it... */
        for (volatile int spin = 0; spin < 20000; spin++)
            ;
        if (munmap(addr, PAGE) != 0)
            bad_map++;
        shoot_gone = r;   /* from here on, the old contents are gone */
        for (volatile int spin = 0; spin < 5000; spin++)
            ;
        /* ...then a new page, other contents, at the same address. */
        char *p = mmap(addr, PAGE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (p != addr) {
            bad_map++;
            break;
        }
        memset(p, 'N', PAGE);
        for (volatile int spin = 0; spin < 5000; spin++)
            ;
        /* The next round's old contents. */
        memset(p, 'a' + (r + 1) % 26, PAGE);
        shoot_round = r + 1;
    }
    stop_all = 1;
    if (ok)
        pthread_join(th, NULL);
    sigaction(SIGSEGV, &old, NULL);
    munmap(addr, PAGE);
    ut_note("reader on CPU %d: %d reads, %d faults", reader_cpu, shoot_reads, shoot_faults);
    ut_check(ok && bad_map == 0, "shootdown_maps", "thread %d, %d failed maps", ok, bad_map);
    ut_check(shoot_stale == 0, "shootdown_no_stale_read",
             "%d reads saw a page's contents after its munmap returned", shoot_stale);
}

/* ---- a thread that sleeps between reads (lazy TLB) ---------------------------------- */

#define NAP_ROUNDS 40

struct napper {
    volatile uint64_t *page;     /* the first of two pages; the first is replaced */
    int wake[2], done[2];        /* main -> reader, reader -> main */
    int stale, wrong, same_cpu;
};

static void *nap_reader(void *arg)
{
    struct napper *n = arg;
    for (int r = 0; r < NAP_ROUNDS; r++) {
        uint64_t v = n->page[0];   /* round r's contents: r, through this CPU's TLB */
        if (v != (uint64_t)r)
            n->wrong++;
        int cpu = sched_getcpu();
        char c = 'r';
        if (write(n->done[1], &c, 1) != 1 || read(n->wake[0], &c, 1) != 1)
            break;                 /* asleep in read: this CPU went idle */
        n->same_cpu += sched_getcpu() == cpu;
        v = n->page[0];            /* the page was replaced: r + 1 */
        if (v == (uint64_t)r)
            n->stale++;
        else if (v != (uint64_t)r + 1)
            n->wrong++;
    }
    return NULL;
}

static void lazy_reader(void)
{
    struct napper n = { 0 };
    char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || pipe(n.wake) || pipe(n.done)) {
        ut_check(0, "lazy_reader_sees_new_page", "mmap or pipe: %s", strerror(errno));
        return;
    }
    n.page = (volatile uint64_t *)p;
    n.page[0] = 0;
    p[PAGE] = 1;   /* the second page: the page table stays */
    pthread_t th;
    int ok = pthread_create(&th, NULL, nap_reader, &n) == 0, bad_map = 0;
    for (int r = 0; ok && r < NAP_ROUNDS; r++) {
        char c;
        if (read(n.done[0], &c, 1) != 1)
            break;
        /* Give the reader time to fall asleep, then replace its page: a
         * new frame first, filled, then moved over the old one (MAP_FIXED
         * would free the old frame first, and the fault after it would
         * likely get the same frame back: a stale entry would then read
         * the right value). */
        for (volatile int spin = 0; spin < 20000; spin++)
            ;
        uint64_t *q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (q == MAP_FAILED) {
            bad_map++;
            break;
        }
        q[0] = (uint64_t)r + 1;
        if (mremap(q, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, p) != p) {
            bad_map++;
            break;
        }
        if (write(n.wake[1], &c, 1) != 1)
            break;
    }
    if (ok)
        pthread_join(th, NULL);
    ut_note("lazy reader: woken on the CPU it slept on in %d of %d rounds", n.same_cpu,
            NAP_ROUNDS);
    ut_check(ok && bad_map == 0, "lazy_reader_maps", "thread %d, %d failed maps", ok, bad_map);
    ut_check(n.stale == 0 && n.wrong == 0, "lazy_reader_sees_new_page",
             "%d reads after a wake-up saw the replaced page, %d saw something else", n.stale,
             n.wrong);
    close(n.wake[0]);
    close(n.wake[1]);
    close(n.done[0]);
    close(n.done[1]);
    munmap(p, 2 * PAGE);
}

/* ---- pages that move under a running thread --------------------------------------- */

#define MOVE_PAGES 64

struct mover {
    uint64_t *pages;
    volatile uint64_t passes;
    int bad, cpu;
};

static void *move_writer(void *arg)
{
    struct mover *m = arg;
    m->cpu = sched_getcpu();
    uint64_t n = 0;
    while (!stop_all) {
        n++;
        for (int i = 0; i < MOVE_PAGES; i++)
            m->pages[i * (PAGE / 8) + (n % 16)] = n * 1000 + (uint64_t)i;
        for (int i = 0; i < MOVE_PAGES; i++)
            if (m->pages[i * (PAGE / 8) + (n % 16)] != n * 1000 + (uint64_t)i)
                m->bad++;
        m->passes = n;
    }
    /* Every word still holds the last value written into it. */
    for (int i = 0; i < MOVE_PAGES; i++)
        for (uint64_t slot = 0; slot < 16; slot++) {
            /* The last pass that wrote this slot: the largest p <= n with p % 16 == slot. */
            if (n < 1)
                break;
            uint64_t p = n - ((n % 16 + 16 - slot) % 16);
            if (p >= 1 && m->pages[i * (PAGE / 8) + slot] != p * 1000 + (uint64_t)i)
                m->bad++;
        }
    return NULL;
}

static void write_str(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY);
    if (fd >= 0) {
        if (write(fd, s, strlen(s)) < 0)
            ut_note("%s: %s", path, strerror(errno));
        close(fd);
    }
}

static void pages_move_under_a_thread(void)
{
    struct mover m = { 0 };
    m.pages = mmap(NULL, MOVE_PAGES * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m.pages == MAP_FAILED) {
        ut_check(0, "moved_pages_keep_writes", "mmap: %s", strerror(errno));
        return;
    }
    memset(m.pages, 0, MOVE_PAGES * PAGE);
    stop_all = 0;
    pthread_t th;
    int ok = pthread_create(&th, NULL, move_writer, &m) == 0;
    int pageouts = 0;
    for (int r = 0; ok && r < 6; r++) {
        uint64_t before = m.passes;
        while (m.passes < before + 2)
            sched_yield();
        if (ut_on_mmk())
            write_str("/proc/sys/vm/compact_memory", "1");   /* the host may refuse: fine */
        pageouts += madvise(m.pages, MOVE_PAGES * PAGE, MADV_PAGEOUT) == 0;
    }
    stop_all = 1;
    if (ok)
        pthread_join(th, NULL);
    ut_note("writer on CPU %d: %lu passes, %d page-outs asked", m.cpu,
            (unsigned long)m.passes, pageouts);
    ut_check(ok, "moved_pages_thread", "pthread_create failed");
    ut_check(m.bad == 0, "moved_pages_keep_writes", "%d words lost or wrong", m.bad);
    munmap(m.pages, MOVE_PAGES * PAGE);
}

/* ---- FUTEX_WAKE_OP against a thread in user mode ------------------------------------ */

#define WAKE_OPS 3000
#define FUTEX_WAKE_OP_PRIVATE (5 | 128)
/* FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0): add 1, wake uaddr2's
 * waiters if the old value was 0 (there are none). */
#define WAKE_OP_ADD_ONE ((1u << 28) | (0u << 24) | (1u << 12) | 0u)

static volatile uint32_t wop_word, wop_other;
static volatile unsigned long wop_user_adds;

static void *wop_adder(void *arg)
{
    int *cpu = arg;
    *cpu = sched_getcpu();
    unsigned long n = 0;
    while (!stop_all) {
        __atomic_fetch_add(&wop_word, 1, __ATOMIC_RELAXED);
        wop_user_adds = ++n;
    }
    return NULL;
}

static void wake_op_against_a_thread(void)
{
    stop_all = 0;
    wop_word = 0;
    wop_user_adds = 0;
    int cpu = -1;
    pthread_t th;
    int ok = pthread_create(&th, NULL, wop_adder, &cpu) == 0;
    while (ok && wop_user_adds == 0)
        sched_yield();
    int bad_ret = 0;
    for (int i = 0; ok && i < WAKE_OPS; i++)
        if (syscall(SYS_futex, &wop_other, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &wop_word,
                    WAKE_OP_ADD_ONE) != 0)
            bad_ret++;
    stop_all = 1;
    if (ok)
        pthread_join(th, NULL);
    unsigned long want = wop_user_adds + WAKE_OPS;
    ut_note("adder on CPU %d: %lu additions in user mode, %d by FUTEX_WAKE_OP", cpu,
            wop_user_adds, WAKE_OPS);
    ut_check(ok && bad_ret == 0, "wake_op_calls", "%d calls did not return 0", bad_ret);
    ut_check(wop_word == (uint32_t)want, "wake_op_is_atomic",
             "the word holds %u, not %lu: %ld additions lost", wop_word, want,
             (long)want - (long)wop_word);
}

int main(void)
{
    ut_init();
    ut_note("%ld CPUs online", sysconf(_SC_NPROCESSORS_ONLN));
    fork_storm();
    threads_fault_and_unmap();
    munmap_while_reading();
    lazy_reader();
    pages_move_under_a_thread();
    wake_op_against_a_thread();
    return ut_done();
}
