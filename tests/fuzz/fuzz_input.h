/*
 * What every fuzz target of tests/fuzz/ needs around its operations: the
 * input read a byte at a time (reads past the end give 0, so any input is
 * a valid sequence of operations), DIE for a broken invariant (abort, the
 * fuzzer's crash), and NOCOV for the checks that run after every
 * operation (their coverage says nothing about the code under test, and
 * comparison tracing made them most of the time spent).
 *
 * Define FUZZ_NAME ("fuzz_pgtable"...) before including it.
 */
#ifndef TESTS_FUZZ_INPUT_H
#define TESTS_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_NAME
#error "define FUZZ_NAME before including fuzz_input.h"
#endif

#define DIE(...)                                                            \
    do {                                                                    \
        fprintf(stderr, FUZZ_NAME ": " __VA_ARGS__);                        \
        fprintf(stderr, "\n");                                              \
        abort();                                                            \
    } while (0)

#define NOCOV __attribute__((no_sanitize("coverage")))


struct input {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t u8(struct input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t u16(struct input *in)
{
    return (uint16_t)(u8(in) | u8(in) << 8);
}

#endif
