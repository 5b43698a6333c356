/* In-QEMU benchmarks (kernel/test/bench.c), run with `bench` on the command line. */
#ifndef KERNEL_BENCH_H
#define KERNEL_BENCH_H

#include <kernel/types.h>

void bench_run(void);
/* The framebuffer console's figure and target (kernel/test/bench_fbcon.c). */
void bench_fbcon(void);
/* Swap I/O against the raw disk (kernel/test/bench_swap.c), with swap=vda. */
void bench_swap(void);
/* What a TLB shootdown costs per CPU reached, beside a local invlpg
 * (kernel/test/bench_smp.c), with bench=smp on several CPUs. */
void bench_smp(void);
/* The median of v[0..n), n at most 32 (kernel/test/bench.c). */
uint64_t bench_median(const uint64_t *v, int n);

#endif
