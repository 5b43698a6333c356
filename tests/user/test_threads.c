/*
 * test_threads: POSIX threads (musl's pthreads) and the calls under them
 * (docs/threads.md).
 *
 *  - pthread_create/join of several threads writing to shared memory;
 *    the values they return; getpid the same in every thread, gettid
 *    its own; thread-local storage (__thread) per thread;
 *  - a mutex and condition-variable ping-pong, and a broadcast to
 *    several waiters (musl requeues them on the mutex: FUTEX_REQUEUE);
 *  - a detached thread; pages one thread maps and another faults in;
 *    /proc/self/status's Threads line, /proc/self/task/TID/status;
 *  - one descriptor table and working directory (CLONE_FILES, CLONE_FS):
 *    a file a thread opens, a chdir, a pipe read that goes on while
 *    another thread closes its descriptor;
 *  - the life of a process of threads, each in a child: pthread_exit from
 *    main with threads left (the process ends with its last thread, and
 *    its parent's wait4 sees the process, not the threads), exit from a
 *    thread (exit_group: the others die), a fault in one thread (the
 *    process is killed), kill() to the process, SIGSTOP and SIGCONT to it
 *    (every thread stops and goes on), tgkill to one thread (its
 *    handler runs there), fork from a thread (the child has one thread),
 *    execve from a thread (the others die, the new program has the
 *    process's pid);
 *  - raw clone: a thread with a stack pointer of 0, bad tid pointers
 *    (ignored, as Linux), the flag rules (EINVAL);
 *  - futex: EFAULT, EINVAL, EAGAIN, ETIMEDOUT, FUTEX_CMP_REQUEUE's
 *    EAGAIN and its move of two waiters, FUTEX_WAKE_OP's operation and
 *    its ENOSYS; a robust mutex whose owner thread exits (EOWNERDEAD:
 *    musl marks it itself, glibc counts on the kernel's robust list).
 * Threads record what they saw in memory; only the main thread of the
 * first process prints.  "test_threads exec-check PID" is the program a
 * thread executes: it checks it is PID's only thread; "test_threads
 * main-exits FD" is the process whose main thread leaves first.
 */
#define _GNU_SOURCE
#include "ut.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAIT        0
#define FUTEX_WAKE        1
#define FUTEX_REQUEUE     3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP     5
#define FUTEX_PRIVATE     128

static const char *self;

static long gettid_(void)
{
    return syscall(SYS_gettid);
}

static long futex(void *uaddr, int op, unsigned val, void *ts_or_val2, void *uaddr2, unsigned val3)
{
    return syscall(SYS_futex, uaddr, op, val, ts_or_val2, uaddr2, val3);
}

/* The raw nanosleep takes the kernel's timespec (4-byte longs on i386). */
static void sleep_ms(long ms)
{
    long ts[2] = { ms / 1000, (ms % 1000) * 1000000 };
    syscall(SYS_nanosleep, ts, NULL);
}

/* ---- create and join, shared memory, ids, TLS ------------------------------------------ */

#define NTHREADS 4
#define SLOTS 1000
static int shared[NTHREADS][SLOTS];
static __thread int tls_var = 7;
struct worker {
    int index;
    long pid, tid;
    int tls_ok;
};

static void *worker(void *arg)
{
    struct worker *w = arg;
    w->pid = getpid();
    w->tid = gettid_();
    tls_var = 100 + w->index;
    for (int i = 0; i < SLOTS; i++) {
        shared[w->index][i] = w->index * SLOTS + i;
        if (i % 250 == 0)
            sched_yield();   /* let the others run between the writes */
    }
    w->tls_ok = tls_var == 100 + w->index;
    return (void *)(long)(w->index * 10);
}

static void create_join(void)
{
    pthread_t th[NTHREADS];
    struct worker w[NTHREADS];
    int created = 1;
    tls_var = 1;
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (struct worker){ .index = i };
        created &= pthread_create(&th[i], NULL, worker, &w[i]) == 0;
    }
    ut_check(created, "create", "pthread_create failed");
    if (!created)
        exit(ut_done());
    int rets = 1, same_pid = 1, own_tid = 1, tls = 1, data = 1;
    for (int i = 0; i < NTHREADS; i++) {
        void *ret;
        rets &= pthread_join(th[i], &ret) == 0 && ret == (void *)(long)(i * 10);
        same_pid &= w[i].pid == getpid();
        own_tid &= w[i].tid != getpid() && w[i].tid > 0;
        for (int j = 0; j < i; j++)
            own_tid &= w[i].tid != w[j].tid;
        tls &= w[i].tls_ok;
        for (int k = 0; k < SLOTS; k++)
            data &= shared[i][k] == i * SLOTS + k;
    }
    ut_check(rets, "join_values", "a thread returned the wrong value");
    ut_check(same_pid, "getpid_same_in_threads", "getpid differs in a thread");
    ut_check(own_tid, "gettid_own", "a thread's gettid is the pid or another's");
    ut_check(gettid_() == getpid(), "main_tid_is_pid", "main's tid %ld, pid %d", gettid_(),
             getpid());
    ut_check(tls && tls_var == 1, "tls_per_thread", "__thread values mixed (main's %d)", tls_var);
    ut_check(data, "shared_memory", "a thread's writes are missing");
}

/* ---- mutex and condition variable ------------------------------------------------------ */

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int turn, rounds_done;
#define ROUNDS 200

static void *pinger(void *arg)
{
    int me = (int)(long)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&mtx);
        while (turn != me)
            pthread_cond_wait(&cond, &mtx);
        rounds_done++;
        turn = !me;
        pthread_cond_signal(&cond);
        pthread_mutex_unlock(&mtx);
    }
    return NULL;
}

static int gate, waiting, woken;
static void *gate_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mtx);
    waiting++;
    while (!gate)
        pthread_cond_wait(&cond, &mtx);
    woken++;
    pthread_mutex_unlock(&mtx);
    return NULL;
}

static void ping_pong(void)
{
    pthread_t a, b;
    turn = 0;
    pthread_create(&a, NULL, pinger, (void *)0L);
    pthread_create(&b, NULL, pinger, (void *)1L);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    ut_check(rounds_done == 2 * ROUNDS, "mutex_cond_pingpong", "%d rounds", rounds_done);

    pthread_t w[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&w[i], NULL, gate_waiter, NULL);
    for (;;) {
        pthread_mutex_lock(&mtx);
        int n = waiting;
        pthread_mutex_unlock(&mtx);
        if (n == 3)
            break;
        sched_yield();
    }
    pthread_mutex_lock(&mtx);
    gate = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mtx);
    for (int i = 0; i < 3; i++)
        pthread_join(w[i], NULL);
    ut_check(woken == 3, "cond_broadcast", "%d of 3 woken", woken);
}

/* ---- a detached thread, shared demand paging, /proc ----------------------------------- */

static int thread_ss_flags;
static void *altstack_reader(void *arg)
{
    (void)arg;
    stack_t old;
    thread_ss_flags = sigaltstack(NULL, &old) == 0 ? old.ss_flags : -1;
    return NULL;
}

static volatile int detached_ran;
static void *detached_fn(void *arg)
{
    (void)arg;
    detached_ran = 1;
    return NULL;
}

static char *region;
#define REGION_PAGES 16
static void *toucher(void *arg)
{
    (void)arg;
    for (int p = 0; p < REGION_PAGES; p++)
        region[p * PAGE] = (char)(p + 1);   /* first touch: demand-zero faults here */
    return NULL;
}

static char *thread_map;
static void *mapper(void *arg)
{
    (void)arg;
    thread_map = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return NULL;
}

static volatile int hold;
static volatile long held_tids[2];
static void *holder(void *arg)
{
    held_tids[(long)arg] = gettid_();
    while (hold)
        sleep_ms(5);
    return NULL;
}

static long field_of(const char *path, const char *name)
{
    return ut_proc_field(path, name);
}

static void misc(void)
{
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int r = pthread_create(&t, &attr, detached_fn, NULL);
    for (int i = 0; i < 200 && !detached_ran; i++)
        sleep_ms(5);
    ut_check(r == 0 && detached_ran, "detached_thread", "create %d, ran %d", r, detached_ran);

    /* A new thread has no alternate signal stack, whatever its creator's. */
    static char alt[65536];
    stack_t ss = { .ss_sp = alt, .ss_size = sizeof(alt), .ss_flags = 0 };
    sigaltstack(&ss, NULL);
    pthread_create(&t, NULL, altstack_reader, NULL);
    pthread_join(t, NULL);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    ut_check(thread_ss_flags == SS_DISABLE, "thread_no_altstack", "ss_flags %d", thread_ss_flags);

    region = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                  -1, 0);
    pthread_create(&t, NULL, toucher, NULL);
    pthread_join(t, NULL);
    int ok = 1;
    for (int p = 0; p < REGION_PAGES; p++)
        ok &= region[p * PAGE] == (char)(p + 1);
    ut_check(ok, "fault_in_thread_seen_by_main", "main does not see the thread's pages");
    pthread_create(&t, NULL, mapper, NULL);
    pthread_join(t, NULL);
    ok = thread_map != MAP_FAILED;
    if (ok) {
        thread_map[3 * PAGE] = 42;   /* main faults in what the thread mapped */
        ok = thread_map[3 * PAGE] == 42 && thread_map[0] == 0;
        munmap(thread_map, 4 * PAGE);
    }
    ut_check(ok, "main_faults_thread_mapping", "the thread's mapping is not main's");
    munmap(region, REGION_PAGES * PAGE);

    /* Two threads held alive: Threads: 3, their own status files. */
    hold = 1;
    pthread_t h1, h2;
    pthread_create(&h1, NULL, holder, (void *)0L);
    pthread_create(&h2, NULL, holder, (void *)1L);
    while (!held_tids[0] || !held_tids[1])
        sleep_ms(1);
    long held_tid = held_tids[0];
    ut_check(field_of("/proc/self/status", "Threads") == 3, "proc_status_threads",
             "Threads: %ld", field_of("/proc/self/status", "Threads"));
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%ld/status", held_tid);
    long pid_f = field_of(path, "Pid"), tgid_f = field_of(path, "Tgid");
    ut_check(pid_f == held_tid && tgid_f == getpid(), "proc_task_status",
             "Pid %ld Tgid %ld", pid_f, tgid_f);
    int entries = 0;
    DIR *d = opendir("/proc/self/task");
    for (struct dirent *e; d && (e = readdir(d));)
        entries += e->d_name[0] != '.';
    if (d)
        closedir(d);
    ut_check(entries == 3, "proc_task_dir", "%d entries", entries);
    snprintf(path, sizeof(path), "/proc/self/task/%ld/stat", held_tid);
    FILE *f = fopen(path, "r");
    long stat_tid = 0;
    if (f) {
        if (fscanf(f, "%ld", &stat_tid) != 1)
            stat_tid = 0;
        fclose(f);
    }
    ut_check(stat_tid == held_tid, "proc_task_stat", "first field %ld", stat_tid);
    /* A thread's maps are its process's: one address space. */
    static char maps_self[8192], maps_task[8192];
    snprintf(path, sizeof(path), "/proc/self/task/%ld/maps", held_tid);
    int fa = open("/proc/self/maps", O_RDONLY), fb = open(path, O_RDONLY);
    long na = fa >= 0 ? read(fa, maps_self, sizeof(maps_self) - 1) : -1;
    long nb = fb >= 0 ? read(fb, maps_task, sizeof(maps_task) - 1) : -1;
    close(fa);
    close(fb);
    ut_check(na > 0 && na == nb && memcmp(maps_self, maps_task, (size_t)na) == 0,
             "proc_task_maps_same", "%ld and %ld bytes", na, nb);
    struct rusage ru;
    ut_check(getrusage(RUSAGE_THREAD, &ru) == 0, "getrusage_thread", "errno %d", errno);
    /* Another thread's CPU clock (a thread of ours: allowed). */
    clockid_t cid;
    struct timespec cts;
    int cr = pthread_getcpuclockid(h1, &cid);
    ut_check(cr == 0 && clock_gettime(cid, &cts) == 0, "thread_cpu_clock_of_other_thread",
             "getcpuclockid %d, errno %d", cr, errno);
    ut_check(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cts) == 0 &&
             clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cts) == 0, "cpu_clocks_in_threads",
             "errno %d", errno);
    /* kill(0) on a thread's id names the process; a thread is no child. */
    ut_check(kill((pid_t)held_tid, 0) == 0, "kill_thread_id", "errno %d", errno);
    ut_check_errno("waitpid_thread_echild", waitpid((pid_t)held_tid, NULL, WNOHANG), ECHILD);
    hold = 0;
    pthread_join(h1, NULL);
    pthread_join(h2, NULL);
    ut_check(field_of("/proc/self/status", "Threads") == 1, "proc_status_threads_after",
             "Threads: %ld", field_of("/proc/self/status", "Threads"));
}

/* ---- shared descriptor table and working directory ----------------------------------- */

static int fs_pipe[2];
static int thread_fd = -1;
static void *opener(void *arg)
{
    (void)arg;
    thread_fd = open("/proc/self/status", O_RDONLY);   /* in the shared table */
    chdir("/proc");                                      /* the shared working directory */
    return NULL;
}

/* Closes the pipe's read end while main sleeps reading it, then writes:
 * main's read, on the file it already had, still gets the byte. */
static void *closer(void *arg)
{
    (void)arg;
    sleep_ms(50);
    close(fs_pipe[0]);
    write(fs_pipe[1], "z", 1);
    return NULL;
}

static void shared_files(void)
{
    char cwd[64] = "";
    int fd0 = open("/", O_RDONLY | O_DIRECTORY);
    pthread_t t;
    pthread_create(&t, NULL, opener, NULL);
    pthread_join(t, NULL);
    char buf[8];
    ut_check(thread_fd >= 0 && read(thread_fd, buf, 5) == 5 && memcmp(buf, "Name:", 5) == 0,
             "clone_files_shared_fd", "fd %d", thread_fd);
    ut_check(close(thread_fd) == 0, "clone_files_close_thread_fd", "errno %d", errno);
    ut_check(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/proc") == 0, "clone_fs_shared_cwd",
             "cwd %s", cwd);
    fchdir(fd0);
    close(fd0);
    pipe(fs_pipe);
    pthread_create(&t, NULL, closer, NULL);
    char c = 0;
    long n = read(fs_pipe[0], &c, 1);   /* sleeps until the thread writes */
    pthread_join(t, NULL);
    ut_check(n == 1 && c == 'z', "read_survives_close_by_thread", "read %ld '%c'", n, c);
    ut_check_errno("closed_by_thread_ebadf", read(fs_pipe[0], &c, 1), EBADF);
    close(fs_pipe[1]);
}

/* ---- the life of a process of threads (each in a child) ------------------------------- */

static int pipefd[2];

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        sleep_ms(100);
    return NULL;
}

static void *late_writer(void *arg)
{
    (void)arg;
    sleep_ms(50);
    /* The leader is a zombie by now: the process lives on in us. */
    long threads = field_of("/proc/self/status", "Threads");
    char c = threads == 2 ? 'y' : 'n';
    write(pipefd[1], &c, 1);
    return NULL;   /* the last thread: the process exits with 0 */
}

/* "test_threads main-exits FD": run in a program of its own, since
 * musl 1.2.3's fork does not give the child's main thread a tid address
 * (set_tid_address): its pthread_exit would leave the thread list locked
 * for the last thread, on Linux too.  exec makes a fresh one. */
static int main_exits(const char *fd)
{
    pipefd[1] = atoi(fd);
    pthread_t t;
    pthread_create(&t, NULL, late_writer, NULL);
    pthread_exit(NULL);
    return 0;
}

static void *exiter(void *arg)
{
    (void)arg;
    sleep_ms(20);
    exit(3);   /* exit_group: the process, every thread */
}

static int child_thread_exits(void *arg)
{
    (void)arg;
    pthread_t t;
    pthread_create(&t, NULL, sleeper, NULL);
    pthread_create(&t, NULL, sleeper, NULL);
    pthread_create(&t, NULL, exiter, NULL);
    for (;;)
        sleep_ms(100);
    return 0;
}

static void *faulter(void *arg)
{
    (void)arg;
    sleep_ms(20);
    volatile int *bad = (volatile int *)(uintptr_t)8;
    __asm__ volatile("" : "+r"(bad));
    *bad = 1;   /* SIGSEGV: the whole process goes */
    return NULL;
}

static int child_thread_faults(void *arg)
{
    (void)arg;
    pthread_t t;
    pthread_create(&t, NULL, sleeper, NULL);
    pthread_create(&t, NULL, faulter, NULL);
    for (;;)
        sleep_ms(100);
    return 0;
}

static int child_sleeps(void *arg)
{
    (void)arg;
    pthread_t t;
    pthread_create(&t, NULL, sleeper, NULL);
    pthread_create(&t, NULL, sleeper, NULL);
    char c = 'r';
    write(pipefd[1], &c, 1);
    for (;;)
        sleep_ms(100);
    return 0;
}

static volatile long handled_in;
static void on_usr1(int sig)
{
    (void)sig;
    handled_in = gettid_();
}

static volatile long target_tid;
static void *usr1_target(void *arg)
{
    (void)arg;
    target_tid = gettid_();
    while (!handled_in)
        sleep_ms(2);
    return NULL;
}

/* The state letters of every thread of pid (from task/TID/stat), up to
 * n of them, in tid order; the count. */
static int thread_states(pid_t pid, char *states, int n)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    DIR *d = opendir(path);
    long tids[16];
    int k = 0;
    for (struct dirent *e; d && (e = readdir(d)) && k < 16;)
        if (e->d_name[0] != '.')
            tids[k++] = atol(e->d_name);
    if (d)
        closedir(d);
    for (int i = 0; i < k; i++)   /* sort: readdir's order is the file system's */
        for (int j = i + 1; j < k; j++)
            if (tids[j] < tids[i]) {
                long x = tids[i];
                tids[i] = tids[j];
                tids[j] = x;
            }
    int m = 0;
    for (int i = 0; i < k && m < n; i++) {
        snprintf(path, sizeof(path), "/proc/%d/task/%ld/stat", pid, tids[i]);
        FILE *f = fopen(path, "r");
        char st = '?';
        if (f) {
            if (fscanf(f, "%*d (%*[^)]) %c", &st) != 1)
                st = '?';
            fclose(f);
        }
        states[m++] = st;
    }
    states[m] = 0;
    return m;
}

/* Wait (up to a second) until every thread of pid is in state want. */
static int all_threads_in(pid_t pid, char want, char *states)
{
    for (int tries = 0; tries < 100; tries++) {
        int m = thread_states(pid, states, 8), same = m > 0;
        for (int i = 0; i < m; i++)
            same &= states[i] == want;
        if (same)
            return m;
        sleep_ms(10);
    }
    return 0;
}

static void group_stop(void)
{
    char buf[64], states[16];
    pipe(pipefd);
    pid_t c = ut_fork();
    if (c == 0)
        _exit(child_sleeps(NULL));
    char got;
    read(pipefd[0], &got, 1);
    close(pipefd[0]);
    close(pipefd[1]);
    kill(c, SIGSTOP);
    int status = 0;
    pid_t w = waitpid(c, &status, WUNTRACED);
    ut_check(w == c && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP, "stop_process_of_threads",
             "%s", ut_status_str(status, buf, sizeof(buf)));
    int m = all_threads_in(c, 'T', states);
    ut_check(m == 3, "stop_stops_every_thread", "states '%s'", states);
    kill(c, SIGCONT);
    w = waitpid(c, &status, WCONTINUED);
    ut_check(w == c && WIFCONTINUED(status), "continue_process_of_threads", "%s",
             ut_status_str(status, buf, sizeof(buf)));
    m = all_threads_in(c, 'S', states);
    ut_check(m == 3, "continue_wakes_every_thread", "states '%s'", states);
    kill(c, SIGKILL);
    status = ut_wait(c);
    ut_check(ut_killed_by(status, SIGKILL), "sigkill_process_of_threads", "%s",
             ut_status_str(status, buf, sizeof(buf)));
}

static int child_tgkill(void *arg)
{
    (void)arg;
    signal(SIGUSR1, on_usr1);
    pthread_t t;
    pthread_create(&t, NULL, usr1_target, NULL);
    while (!target_tid)
        sleep_ms(1);
    if (syscall(SYS_tgkill, getpid(), target_tid, SIGUSR1))
        return 10;
    pthread_join(t, NULL);
    if (handled_in != target_tid)
        return 11;   /* the handler ran in another thread */
    /* tgkill with the wrong process: ESRCH. */
    if (syscall(SYS_tgkill, getppid(), gettid_(), 0) != -1 || errno != ESRCH)
        return 12;
    return 0;
}

/* A signal sent to the process while every thread blocks it waits for
 * the process: a thread that sigwaits for it, or unblocks it, takes it. */
static volatile int parked_sent;
static volatile long parked_sig, parked_tid;
static void *parked_sigwaiter(void *arg)
{
    (void)arg;
    while (!parked_sent)
        sleep_ms(2);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    int sig = 0;
    parked_sig = sigwait(&set, &sig) == 0 ? sig : -1;
    return NULL;
}

static void *parked_unblocker(void *arg)
{
    (void)arg;
    parked_tid = gettid_();
    while (!parked_sent)
        sleep_ms(2);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);   /* the handler runs here, now */
    return NULL;
}

static int child_parked_signals(void *arg)
{
    (void)arg;
    sigset_t set, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    signal(SIGUSR1, on_usr1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);   /* the threads inherit the mask */
    pthread_t t;
    pthread_create(&t, NULL, parked_sigwaiter, NULL);
    kill(getpid(), SIGUSR2);
    parked_sent = 1;
    pthread_join(t, NULL);
    if (parked_sig != SIGUSR2)
        return 50;
    sigpending(&pend);
    if (sigismember(&pend, SIGUSR2))
        return 51;   /* taken once, by the thread */
    parked_sent = 0;
    pthread_create(&t, NULL, parked_unblocker, NULL);
    while (!parked_tid)
        sleep_ms(1);
    kill(getpid(), SIGUSR1);
    parked_sent = 1;
    pthread_join(t, NULL);
    if (handled_in != parked_tid)
        return 52;
    sigpending(&pend);
    return sigismember(&pend, SIGUSR1) ? 53 : 0;
}

static volatile int fork_result = -1;
static void *forker(void *arg)
{
    (void)arg;
    long pid_before = getpid();
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        int ok = getpid() == gettid_() && getppid() == pid_before &&
                 ut_proc_field("/proc/self/status", "Threads") == 1;
        _exit(ok ? 0 : 1);
    }
    int status = ut_wait(c);
    fork_result = ut_exited_with(status, 0) ? 0 : 1;
    return NULL;
}

static int child_fork_from_thread(void *arg)
{
    (void)arg;
    pthread_t t, s;
    pthread_create(&s, NULL, sleeper, NULL);
    pthread_create(&t, NULL, forker, NULL);
    pthread_join(t, NULL);
    return fork_result == 0 ? 0 : 20;
}

static void *execer(void *arg)
{
    (void)arg;
    char pid[32];
    snprintf(pid, sizeof(pid), "%d", getpid());
    char *argv[] = { (char *)self, "exec-check", pid, NULL };
    execv(self, argv);
    _exit(30);
}

static int child_exec_from_thread(void *arg)
{
    (void)arg;
    pthread_t t;
    pthread_create(&t, NULL, sleeper, NULL);
    pthread_create(&t, NULL, execer, NULL);
    for (;;)
        sleep_ms(100);
    return 0;
}

static int exec_check(const char *want)
{
    long pid = atol(want);
    if (getpid() != pid)
        return 31;
    if (gettid_() != pid)
        return 32;
    if (ut_proc_field("/proc/self/status", "Threads") != 1)
        return 33;
    return 0;
}

/* A thread that blocks SIGPIPE writes to a pipe nobody reads: EPIPE, and
 * the SIGPIPE stays pending on that thread (the kernel sent it to the
 * writer, not to the process).  Main, which does not block it, changing
 * its mask or joining the (exited) thread must not receive it.  On Linux
 * the process exits 0. */
static int sigpipe_ret;
static void *sigpipe_writer(void *arg)
{
    (void)arg;
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &m, NULL);
    int p[2];
    if (pipe(p))
        return NULL;
    close(p[0]);
    sigpipe_ret = (int)write(p[1], "x", 1) < 0 && errno == EPIPE ? 0 : 1;
    close(p[1]);
    return NULL;
}

static int child_thread_sigpipe(void *arg)
{
    (void)arg;
    pthread_t t;
    if (pthread_create(&t, NULL, sigpipe_writer, NULL))
        return 2;
    pthread_join(t, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &none, NULL);   /* mmk once moved the SIGPIPE here */
    return sigpipe_ret;
}

static void life(void)
{
    char buf[64];
    pipe(pipefd);
    pid_t c = ut_fork();
    if (c == 0) {
        char fd[16];
        snprintf(fd, sizeof(fd), "%d", pipefd[1]);
        char *argv[] = { (char *)self, "main-exits", fd, NULL };
        execv(self, argv);
        _exit(40);
    }
    char got = 0;
    read(pipefd[0], &got, 1);
    int status = ut_wait(c);
    ut_check(got == 'y', "zombie_leader_threads_live", "the thread saw '%c'", got);
    ut_check(ut_exited_with(status, 0), "pthread_exit_main_last_thread_ends",
             "%s", ut_status_str(status, buf, sizeof(buf)));
    ut_check_errno("wait_sees_process_once", waitpid(-1, NULL, WNOHANG), ECHILD);

    status = ut_run_child(child_thread_exits, NULL);
    ut_check(ut_exited_with(status, 3), "exit_group_from_thread", "%s",
             ut_status_str(status, buf, sizeof(buf)));
    status = ut_run_child(child_thread_faults, NULL);
    ut_check(ut_killed_by(status, SIGSEGV), "fault_kills_all_threads", "%s",
             ut_status_str(status, buf, sizeof(buf)));

    c = ut_fork();
    if (c == 0)
        _exit(child_sleeps(NULL));
    read(pipefd[0], &got, 1);
    kill(c, SIGTERM);
    status = ut_wait(c);
    ut_check(ut_killed_by(status, SIGTERM), "kill_process_of_threads", "%s",
             ut_status_str(status, buf, sizeof(buf)));
    close(pipefd[0]);
    close(pipefd[1]);

    group_stop();
    status = ut_run_child(child_tgkill, NULL);
    ut_check(ut_exited_with(status, 0), "tgkill_one_thread", "%s",
             ut_status_str(status, buf, sizeof(buf)));
    status = ut_run_child(child_parked_signals, NULL);
    ut_check(ut_exited_with(status, 0), "process_signal_waits_for_a_thread", "%s",
             ut_status_str(status, buf, sizeof(buf)));
    status = ut_run_child(child_fork_from_thread, NULL);
    ut_check(ut_exited_with(status, 0), "fork_from_thread_one_thread", "%s",
             ut_status_str(status, buf, sizeof(buf)));
    status = ut_run_child(child_thread_sigpipe, NULL);
    ut_check(ut_exited_with(status, 0), "sigpipe_stays_with_its_thread", "%s",
             ut_status_str(status, buf, sizeof(buf)));
    c = ut_fork();
    if (c == 0)
        _exit(child_exec_from_thread(NULL));
    pid_t w;
    do
        w = waitpid(c, &status, 0);
    while (w < 0 && errno == EINTR);
    ut_check(w == c && ut_exited_with(status, 0), "exec_from_thread", "%s",
             ut_status_str(status, buf, sizeof(buf)));
}

/* ---- raw clone ------------------------------------------------------------------------ */

#define CLONE_RAW_THREAD (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | \
                          CLONE_SYSVSEM)

/* clone(flags, sp 0, ptid, ctid): the child leaves at once with exit(0),
 * touching no memory (it runs on the caller's stack pointer). */
static long clone_exit_now(unsigned long flags, int *ptid, int *ctid)
{
#if defined(__x86_64__)
    register long rax __asm__("rax") = SYS_clone;
    register long rdi __asm__("rdi") = (long)flags;
    register long rsi __asm__("rsi") = 0;
    register long rdx __asm__("rdx") = (long)ptid;
    register long r10 __asm__("r10") = (long)ctid;
    register long r8 __asm__("r8") = 0;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "xor %%edi, %%edi\n\t"
                     "mov $60, %%eax\n\t"        /* exit(0), this thread */
                     "syscall\n\t"
                     "hlt\n"
                     "1:"
                     : "+r"(rax)
                     : "r"(rdi), "r"(rsi), "r"(rdx), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return rax;
#else
    long eax = SYS_clone;
    __asm__ volatile("int $0x80\n\t"
                     "test %%eax, %%eax\n\t"
                     "jnz 1f\n\t"
                     "xor %%ebx, %%ebx\n\t"
                     "mov $1, %%eax\n\t"         /* exit(0), this thread */
                     "int $0x80\n\t"
                     "hlt\n"
                     "1:"
                     : "+a"(eax)
                     : "b"(flags), "c"(0), "d"(ptid), "S"(0), "D"(ctid)
                     : "memory");
    return eax;
#endif
}

/* Wait until thread tid of ours is gone (tgkill says ESRCH). */
static int thread_gone(long tid)
{
    for (int i = 0; i < 400; i++) {
        if (syscall(SYS_tgkill, getpid(), tid, 0) != 0 && errno == ESRCH)
            return 1;
        sleep_ms(5);
    }
    return 0;
}

/* In a child process of its own (musl keeps its own tid address). */
static int tid_address_child(void *arg)
{
    (void)arg;
    static int word;
    return syscall(SYS_set_tid_address, &word) == gettid_() ? 0 : 1;
}

static void raw_clone(void)
{
    volatile int ctid = -1;
    int ptid = 0;
    long tid = clone_exit_now(CLONE_RAW_THREAD | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID |
                              CLONE_CHILD_CLEARTID, &ptid, (int *)&ctid);
    ut_check(tid > 0 && ptid == tid, "clone_thread_sp0", "clone %ld, ptid %d", tid, ptid);
    /* The tid word (-1, then the tid) is cleared and its futex woken
     * when the thread exits. */
    for (int i = 0; i < 100; i++) {
        int v = ctid;
        if (v == 0)
            break;
        long ts[2] = { 0, 20000000 };
        futex((int *)&ctid, FUTEX_WAIT, (unsigned)v, ts, NULL, 0);
    }
    ut_check(ctid == 0, "clone_cleartid_woken", "tid word %d", ctid);

    /* Bad tid pointers: Linux ignores the failed writes. */
    tid = clone_exit_now(CLONE_RAW_THREAD | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID |
                         CLONE_CHILD_CLEARTID, (int *)16, (int *)16);
    ut_check(tid > 0 && thread_gone(tid), "clone_bad_tid_pointers_ignored", "clone %ld", tid);
    tid = clone_exit_now(CLONE_RAW_THREAD | CLONE_CHILD_CLEARTID, NULL, (int *)((char *)&ptid + 1));
    ut_check(tid > 0 && thread_gone(tid), "clone_misaligned_cleartid", "clone %ld", tid);

    ut_check(ut_run_child(tid_address_child, NULL) == 0, "set_tid_address_returns_tid",
             "the child said no");
    /* Linux's rules: CLONE_THREAD needs CLONE_SIGHAND, which needs CLONE_VM. */
    ut_check_errno("clone_sighand_without_vm_einval",
                   syscall(SYS_clone, CLONE_THREAD | CLONE_SIGHAND, 0, NULL, NULL, 0), EINVAL);
    ut_check_errno("clone_thread_without_sighand_einval",
                   syscall(SYS_clone, CLONE_VM | CLONE_THREAD, 0, NULL, NULL, 0), EINVAL);
}

/* ---- futex errors and operations ------------------------------------------------------- */

/* ---- a robust mutex whose owner dies ------------------------------------------------------ */

static pthread_mutex_t robust_mtx;
static void *robust_owner(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&robust_mtx);
    return NULL;   /* exits holding it */
}

static void robust_mutex(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust_mtx, &a);
    pthread_t t;
    pthread_create(&t, NULL, robust_owner, NULL);
    pthread_join(t, NULL);
    int r = pthread_mutex_lock(&robust_mtx);
    ut_check(r == EOWNERDEAD, "robust_mutex_owner_died", "lock gave %d", r);
    if (r == EOWNERDEAD)
        pthread_mutex_consistent(&robust_mtx);
    ut_check(pthread_mutex_unlock(&robust_mtx) == 0 && pthread_mutex_lock(&robust_mtx) == 0 &&
             pthread_mutex_unlock(&robust_mtx) == 0, "robust_mutex_consistent_again", "r %d", r);
}

/* ---- a requeue with real waiters -------------------------------------------------------- */

static int fa_word, fb_word;
static volatile long waiter_tid[2];
static volatile long waiter_ret[2];
static void *futex_waiter(void *arg)
{
    int i = (int)(long)arg;
    waiter_tid[i] = gettid_();
    waiter_ret[i] = futex(&fa_word, FUTEX_WAIT | FUTEX_PRIVATE, 0, NULL, NULL, 0);
    return NULL;
}

/* Wait (up to a second) until thread tid sleeps (state S). */
static int thread_sleeps(long tid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%ld/stat", tid);
    for (int tries = 0; tries < 100; tries++) {
        FILE *f = fopen(path, "r");
        char st = '?';
        if (f) {
            if (fscanf(f, "%*d (%*[^)]) %c", &st) != 1)
                st = '?';
            fclose(f);
        }
        if (st == 'S')
            return 1;
        sleep_ms(10);
    }
    return 0;
}

static void futex_requeue_waiters(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, futex_waiter, (void *)(long)i);
    while (!waiter_tid[0] || !waiter_tid[1])
        sleep_ms(1);
    int asleep = thread_sleeps(waiter_tid[0]) && thread_sleeps(waiter_tid[1]);
    /* Wake none, move both to fb_word: 2; then fa_word has nobody. */
    long moved = futex(&fa_word, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE, 0, (void *)2L, &fb_word, 0);
    long on_a = futex(&fa_word, FUTEX_WAKE | FUTEX_PRIVATE, 2, NULL, NULL, 0);
    long on_b = futex(&fb_word, FUTEX_WAKE | FUTEX_PRIVATE, 2, NULL, NULL, 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ut_check(asleep && moved == 2 && on_a == 0 && on_b == 2 && waiter_ret[0] == 0 &&
             waiter_ret[1] == 0, "futex_cmp_requeue_moves_waiters",
             "asleep %d, moved %ld, woken on a %ld, on b %ld", asleep, moved, on_a, on_b);
}

static void futex_cases(void)
{
    char *page = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + PAGE, PAGE);   /* the second page: unmapped */
    int *word = (int *)page;
    int *gone = (int *)(page + PAGE);
    *word = 5;
    long ts[2] = { 0, 10000000 };   /* 10 ms */

    ut_check_errno("futex_wait_unmapped_efault", futex(gone, FUTEX_WAIT, 0, NULL, NULL, 0),
                   EFAULT);
    ut_check_errno("futex_wait_misaligned_einval",
                   futex(page + 1, FUTEX_WAIT, 0, NULL, NULL, 0), EINVAL);
    ut_check_errno("futex_wait_changed_eagain", futex(word, FUTEX_WAIT, 4, NULL, NULL, 0),
                   EAGAIN);
    ut_check_errno("futex_wait_timeout", futex(word, FUTEX_WAIT | FUTEX_PRIVATE, 5, ts, NULL, 0),
                   ETIMEDOUT);
    long bad_ts[2] = { 0, 1000000000 };
    ut_check_errno("futex_wait_bad_timeout_einval", futex(word, FUTEX_WAIT, 5, bad_ts, NULL, 0),
                   EINVAL);
    ut_check_errno("futex_wake_unmapped_shared_efault", futex(gone, FUTEX_WAKE, 1, NULL, NULL, 0),
                   EFAULT);
    ut_check(futex(gone, FUTEX_WAKE | FUTEX_PRIVATE, 1, NULL, NULL, 0) == 0,
             "futex_wake_unmapped_private_zero", "errno %d", errno);
    ut_check(futex(word, FUTEX_WAKE, 1, NULL, NULL, 0) == 0, "futex_wake_nobody", "errno %d",
             errno);
    ut_check_errno("futex_cmp_requeue_changed_eagain",
                   futex(word, FUTEX_CMP_REQUEUE, 1, (void *)1L, word + 1, 4), EAGAIN);
    ut_check(futex(word, FUTEX_CMP_REQUEUE, 1, (void *)1L, word + 1, 5) == 0,
             "futex_cmp_requeue_nobody", "errno %d", errno);
    ut_check_errno("futex_requeue_negative_einval",
                   futex(word, FUTEX_CMP_REQUEUE, (unsigned)-1, (void *)1L, word + 1, 5), EINVAL);
    ut_check_errno("futex_requeue_unmapped_efault",
                   futex(word, FUTEX_REQUEUE, 1, (void *)1L, gone, 0), EFAULT);
    /* FUTEX_WAKE_OP: word[1] = 3 (SET), then old value 0 == 0: wakes on both. */
    word[1] = 0;
    unsigned op_set3_cmp_eq0 = (0u << 28) | (0u << 24) | (3u << 12) | 0u;
    long r = futex(word, FUTEX_WAKE_OP, 1, (void *)1L, word + 1, op_set3_cmp_eq0);
    ut_check(r == 0 && word[1] == 3, "futex_wake_op_set", "ret %ld, word %d", r, word[1]);
    unsigned op_add = (1u << 28) | (5u << 24) | (2u << 12) | 0u;   /* ADD 2, GE 0 */
    r = futex(word, FUTEX_WAKE_OP, 1, (void *)1L, word + 1, op_add);
    ut_check(r == 0 && word[1] == 5, "futex_wake_op_add", "ret %ld, word %d", r, word[1]);
    ut_check_errno("futex_wake_op_bad_op_enosys",
                   futex(word, FUTEX_WAKE_OP, 1, (void *)1L, word + 1, 7u << 28), ENOSYS);
    word[1] = 0;
    unsigned op_set9_bad_cmp = (0u << 28) | (7u << 24) | (9u << 12);
    ut_check_errno("futex_wake_op_bad_cmp_enosys",
                   futex(word, FUTEX_WAKE_OP, 1, (void *)1L, word + 1, op_set9_bad_cmp), ENOSYS);
    ut_check(word[1] == 9, "futex_wake_op_bad_cmp_wrote", "word %d", word[1]);
    ut_check_errno("futex_wake_op_unmapped_efault",
                   futex(word, FUTEX_WAKE_OP, 1, (void *)1L, gone, 0), EFAULT);
    munmap(page, PAGE);
}

int main(int argc, char **argv)
{
    self = argv[0];
    if (argc == 3 && strcmp(argv[1], "exec-check") == 0)
        return exec_check(argv[2]);
    if (argc == 3 && strcmp(argv[1], "main-exits") == 0)
        return main_exits(argv[2]);
    ut_init();
    create_join();
    ping_pong();
    misc();
    shared_files();
    life();
    raw_clone();
    futex_cases();
    futex_requeue_waiters();
    robust_mutex();
    return ut_done();
}
