/*
 * The shared page-table cases in the kernel: the same source
 * (tests/shared/pt_cases.c, over the harness of tests/shared/pt_harness.h)
 * that the host runs as x86_64/<case> and i386/<case> over its private
 * arena runs here over the real buddy allocator and the direct map, once
 * per format, as the ktests pt_x86_64_<case> and pt_i386_<case>
 * (`ktest=pt_*` selects them all).
 *
 * The tables built are never loaded into CR3: the frames they map are
 * numbers, so the cases can map gigabytes of "physical memory" with a few
 * table pages, as on the host.  The environment differs in three ways:
 *  - the baseline of the frame count is taken after the slab's empty
 *    slabs and the per-CPU lists went back to the buddy lists, so that
 *    exhausting memory cannot free frames behind the case's back;
 *  - node_check, which walks every frame of the machine, runs when a
 *    case ends rather than after every operation;
 *  - the random case runs a tenth of its operations (an emulator is some
 *    hundred times slower than the host), its "enough happened" limits
 *    scaled alike.
 */
#include <kernel/ktest.h>
#include <mm/bootmem.h>
#include <mm/gfp.h>
#include <mm/slab.h>

#include "../shared/pt_cases.h"
#include "../shared/pt_harness.h"

static void kernel_mem_reset(void)
{
    ktest_settle();
}

static bool kernel_is_ram(uint64_t pa)
{
    return mem_is_ram(pa, FR);
}

static const struct pt_env kernel_env = {
    .world = "kernel",
    .mem_reset = kernel_mem_reset,
    .is_ram = kernel_is_ram,
    .node_check_each = false,
    .random_percent = 10,
};

static void run(const struct pt_desc *d, void (*fn)(void))
{
    ph_use(d, &kernel_env);
    tcase_begin();
    fn();
}

#define AS_KTEST(name)                                                      \
    KTEST(pt_x86_64_##name) { run(&pt_desc_x86_64, tcase_##name); }        \
    KTEST(pt_i386_##name) { run(&pt_desc_i386, tcase_##name); }

PT_CASES(AS_KTEST)
