"""The last lines of `make bench`: one per target, in one format for the C
benchmarks (tests/bench/bench.h) and the QEMU ones:

    target NAME: measured X, goal Y: met
    target NAME: measured X, goal Y: NOT MET

A target that is not met does not change the exit status: a benchmark
reports, the reader judges (docs/benchmarks.md)."""


def target(name, measured, goal, met):
    """Print the line; `measured` and `goal` are already formatted text."""
    print("target %s: measured %s, goal %s: %s" % (name, measured, goal,
                                                   "met" if met else "NOT MET"))
    return met
