/* In-QEMU benchmarks (kernel/test/bench.c), run with `bench` on the command line. */
#ifndef KERNEL_BENCH_H
#define KERNEL_BENCH_H

void bench_run(void);
/* The framebuffer console's figure and target (kernel/test/bench_fbcon.c). */
void bench_fbcon(void);
/* Swap I/O against the raw disk (kernel/test/bench_swap.c), with swap=vda. */
void bench_swap(void);

#endif
