/*
 * make bench's figure for the framebuffer console (docs/terminal.md):
 * 2000 lines of 55 characters through fbcon_write as a program's burst of
 * output reaches it, the final redraw included, beside the baseline of a
 * console without deferral (interval 0: a redraw after every line)
 * measured in the same round.  The baseline is timed on EAGER_LINES lines
 * and scaled to 2000: it costs a full screen per line.
 *
 * The figure is in milliseconds of TSC time under QEMU's TCG: the goal
 * (GOAL_MS) is an absolute one, the time a person would wait for 2000
 * lines, so the baseline's ratio is printed beside it to tell a slow
 * console from a slow host.  Each value is the median of ROUNDS rounds.
 * The in-kernel test fbcon_2000_lines (tests/kernel/test_fbcon.c) checks
 * what the same burst leaves in the ring and on the screen; it times
 * nothing.
 */
#include <kernel/apic.h>
#include <kernel/bench.h>
#include <kernel/console.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/x86.h>

#define LINES 2000
#define EAGER_LINES 50
#define ROUNDS 7
#define GOAL_MS 40

/* n lines, numbered from first; line k has text k & 1. */
static void print_lines(uint32_t n, uint32_t first)
{
    static const char *const text[2] = {
        "bench line %4u: the quick brown fox jumps over the dog\n",
        "BENCH %4u, 0123456789 ABCDEFGHIJ abcdefghij +-*/=<>()\n",
    };
    char line[80];
    for (uint32_t k = first; k < first + n; k++) {
        int len = snprintf(line, sizeof(line), text[k & 1], k);
        fbcon_write(line, (size_t)len);
    }
}

/* TSC ticks of n lines from first and the flush after them, at flush
 * interval ms. */
static uint64_t timed_lines(uint32_t n, uint32_t first, uint32_t interval_ms)
{
    uint32_t old = fbcon_set_flush_interval(interval_ms);
    fbcon_flush();
    uint64_t t0 = rdtsc();
    print_lines(n, first);
    fbcon_flush();
    uint64_t t = rdtsc() - t0;
    fbcon_set_flush_interval(old);
    return t;
}

/* ticks as hundredths of a millisecond */
static uint64_t ms100(uint64_t ticks, uint64_t hz)
{
    return hz ? ticks * 100000 / hz : 0;
}

void bench_fbcon(void)
{
    uint64_t hz = tsc_hz();
    if (!fbcon_active() || !hz) {
        printk("bench: fbcon: %s: not measured\n",
               fbcon_active() ? "the TSC is not calibrated" : "no framebuffer console");
        printk("bench: target fbcon_2000_lines_ms: measured none, goal <= %d: NOT MET\n",
               GOAL_MS);
        return;
    }
    uint64_t fast[ROUNDS], eager[ROUNDS], ratio[ROUNDS], redraws = 0, cells = 0;
    uint32_t ref = fbcon_set_flush_interval(0);   /* the boot's interval, 20 ms */
    fbcon_set_flush_interval(ref);
    fbcon_write("\x1b[2J\x1b[H", 7);
    /*
     * The baseline's lines start at an odd number, the burst's at 0: each
     * burst ends on a screen whose every row changed text (as when a
     * program's output replaces what was there), not on the screen the
     * previous burst left, which would cost only the changed digits.
     */
    timed_lines(LINES, 0, ref);                      /* warm up */
    timed_lines(EAGER_LINES, 1, 0);
    for (int i = 0; i < ROUNDS; i++) {
        struct fbcon_info a, b;
        fbcon_get_info(&a);
        fast[i] = timed_lines(LINES, 0, ref);
        fbcon_get_info(&b);
        redraws += b.flushes - a.flushes;
        cells += b.cells_drawn - a.cells_drawn;
        eager[i] = timed_lines(EAGER_LINES, 1, 0) * (LINES / EAGER_LINES);
        ratio[i] = fast[i] ? eager[i] * 100 / fast[i] : 0;
    }
    uint64_t f = ms100(bench_median(fast, ROUNDS), hz), e = ms100(bench_median(eager, ROUNDS), hz);
    uint64_t r = bench_median(ratio, ROUNDS);
    printk("bench: fbcon: %d lines in %lu.%02lu ms (flush interval %u ms; per round %lu "
           "redraws, %lu cells drawn); a redraw after every line: %lu ms for %d "
           "(timed on %d), %lu.%02lu times as long\n", LINES, f / 100, f % 100, ref,
           redraws / ROUNDS, cells / ROUNDS, e / 100, LINES, EAGER_LINES, r / 100, r % 100);
    printk("bench: target fbcon_2000_lines_ms: measured %lu.%02lu, goal <= %d: %s\n", f / 100,
           f % 100, GOAL_MS, f <= GOAL_MS * 100 ? "met" : "NOT MET");
}
