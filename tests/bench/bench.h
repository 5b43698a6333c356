/*
 * Timing for the host benchmarks (tests/bench/bench_*.c): figures that
 * hold on a shared, noisy machine.
 *
 *  - Time is the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID), not
 *    the wall clock: while another job has the core, the clock stops.
 *    What other jobs still cost (caches, a busy sibling hyperthread, a
 *    lower clock) is shared out by the next point.
 *  - The candidates of a comparison run in rounds, interleaved: candidate
 *    0, 1, 2, then 0, 1, 2 again..., at least BENCH_MIN_ROUNDS rounds, so
 *    that a burst of load falls on all of them alike.  One untimed run of
 *    each comes first (first touches of memory, cold caches).
 *  - A ratio is the median over the rounds of the per-round ratio (two
 *    candidates measured seconds apart), and its spread is the lowest and
 *    highest of those per-round ratios; a single time is the median of
 *    the rounds.
 *  - A goal is printed as one line, exactly
 *        target NAME: measured X, goal Y: met
 *        target NAME: measured X, goal Y: NOT MET
 *    and never changes the exit status: a benchmark reports, it does not
 *    fail (make test never depends on speed).
 *
 * Header only; every function is static, so each benchmark gets its own
 * copy and needs no extra object file.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#define BENCH_MIN_ROUNDS 7
#define BENCH_MAX_ROUNDS 31
#define BENCH_MAX_CANDIDATES 4

/* The calling thread's CPU time, in nanoseconds. */
static inline double bench_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/*
 * One comparison: run(who, arg) does candidate `who`'s whole workload once
 * and returns its cost per operation (ns, measured with bench_now_ns).
 * t[who][k] is that cost in round k.
 */
struct bench_rounds {
    int rounds, candidates;
    double t[BENCH_MAX_CANDIDATES][BENCH_MAX_ROUNDS];
};

/* Run `candidates` candidates for `rounds` rounds (clamped to
 * [BENCH_MIN_ROUNDS, BENCH_MAX_ROUNDS]), interleaved, after one untimed
 * run of each. */
static inline void bench_run_rounds(struct bench_rounds *r, int rounds, int candidates,
                                    double (*run)(int who, void *arg), void *arg)
{
    if (rounds < BENCH_MIN_ROUNDS)
        rounds = BENCH_MIN_ROUNDS;
    if (rounds > BENCH_MAX_ROUNDS)
        rounds = BENCH_MAX_ROUNDS;
    if (candidates > BENCH_MAX_CANDIDATES)
        candidates = BENCH_MAX_CANDIDATES;
    r->rounds = rounds;
    r->candidates = candidates;
    for (int w = 0; w < candidates; w++)
        run(w, arg);
    for (int k = 0; k < rounds; k++)
        for (int w = 0; w < candidates; w++)
            r->t[w][k] = run(w, arg);
}

/* The median of n values (n <= BENCH_MAX_ROUNDS; v is left as it was). */
static inline double bench_median(const double *v, int n)
{
    double s[BENCH_MAX_ROUNDS];
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && s[j - 1] > v[i]) {
            s[j] = s[j - 1];
            j--;
        }
        s[j] = v[i];
    }
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Median cost per operation of one candidate. */
static inline double bench_time(const struct bench_rounds *r, int who)
{
    return bench_median(r->t[who], r->rounds);
}

/* Median over the rounds of t[a] / t[b], and (if lo, hi are given) the
 * lowest and highest per-round ratio. */
static inline double bench_ratio(const struct bench_rounds *r, int a, int b, double *lo,
                                 double *hi)
{
    double q[BENCH_MAX_ROUNDS];
    double mn = 1e300, mx = 0;
    for (int k = 0; k < r->rounds; k++) {
        q[k] = r->t[a][k] / r->t[b][k];
        mn = q[k] < mn ? q[k] : mn;
        mx = q[k] > mx ? q[k] : mx;
    }
    if (lo)
        *lo = mn;
    if (hi)
        *hi = mx;
    return bench_median(q, r->rounds);
}

/*
 * Print the target line.  measured and goal are formatted with fmt (one
 * double conversion, e.g. "%.2fx" or "%.1f%%"); at_most: the goal is an
 * upper bound (measured <= goal is met), else a lower bound.  Returns
 * whether it was met.
 */
static inline bool bench_target(const char *name, double measured, double goal, bool at_most,
                                const char *fmt)
{
    char m[32], g[32];
    bool met = at_most ? measured <= goal : measured >= goal;
    snprintf(m, sizeof(m), fmt, measured);
    snprintf(g, sizeof(g), fmt, goal);
    printf("target %s: measured %s, goal %s %s: %s\n", name, m, at_most ? "<=" : ">=", g,
           met ? "met" : "NOT MET");
    return met;
}

#endif
