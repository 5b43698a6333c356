/*
 * Exceptions are caught, decoded and reported; the kernel goes on.
 * Each case raises a real exception inside catch_faults() and checks the
 * vector, the error code, CR2 and what the oops printed.
 */
#include <kernel/ktest.h>
#include <kernel/trap.h>
#include <kernel/printk.h>
#include <kernel/ksyms.h>
#include <kernel/kernel.h>
#include <kernel/x86.h>

/* An address in the vmalloc range that nothing maps yet. */
#define UNMAPPED 0xffffdfffffff0000ul

static void do_ud2(void *arg)
{
    (void)arg;
    __asm__ volatile("ud2");
}

static void do_divide(void *arg)
{
    volatile uint64_t zero = (uint64_t)(uintptr_t)arg;
    uint64_t q;
    __asm__ volatile("xor %%edx, %%edx; mov $1, %%eax; divq %1"
                     : "=&a"(q) : "r"(zero) : "rdx");
    (void)q;
}

static __attribute__((noinline)) void do_read_unmapped(void *arg)
{
    (void)arg;
    (void)*(volatile uint64_t *)UNMAPPED;
}

static void do_write_text(void *arg)
{
    (void)arg;
    *(volatile uint8_t *)(uintptr_t)&do_ud2 = 0xc3;
}

static void do_noncanonical(void *arg)
{
    (void)arg;
    (void)*(volatile uint64_t *)0x0000900000000000ul;
}

static void do_fine(void *arg)
{
    *(int *)arg = 42;
}

KTEST(trap_returns_normally)
{
    struct fault_info fi = { 0 };
    int v = 0;
    KT_ASSERT(catch_faults(do_fine, &v, &fi) == 0, "a function that does not fault was caught");
    KT_ASSERT(v == 42, "function did not run");
}

KTEST(trap_invalid_opcode)
{
    struct fault_info fi = { 0 };
    uint64_t mark = log_mark();
    KT_ASSERT(catch_faults(do_ud2, NULL, &fi) == 1, "ud2 was not caught");
    KT_ASSERT(fi.vector == VEC_UD, "vector %lu", fi.vector);
    KT_ASSERT(log_contains_since(mark, "#UD invalid opcode"), "oops did not name #UD");
    KT_ASSERT(log_contains_since(mark, "<do_ud2+"), "oops did not symbolize RIP");
}

KTEST(trap_divide_error)
{
    struct fault_info fi = { 0 };
    KT_ASSERT(catch_faults(do_divide, NULL, &fi) == 1, "division by zero was not caught");
    KT_ASSERT(fi.vector == VEC_DE, "vector %lu", fi.vector);
}

KTEST(trap_page_fault_not_present)
{
    struct fault_info fi = { 0 };
    uint64_t mark = log_mark();
    KT_ASSERT(catch_faults(do_read_unmapped, NULL, &fi) == 1, "read of unmapped page not caught");
    KT_ASSERT(fi.vector == VEC_PF, "vector %lu", fi.vector);
    KT_ASSERT(fi.cr2 == UNMAPPED, "CR2 %#lx", fi.cr2);
    KT_ASSERT((fi.error & 0x7) == 0, "error code %#lx: expected not-present kernel read",
              fi.error);
    KT_ASSERT(log_contains_since(mark, "not-present page, read, kernel mode"),
              "error code not decoded in words");
    KT_ASSERT(log_contains_since(mark, "CR2 (faulting address) = ffffdfffffff0000"),
              "CR2 not printed");
    /* The backtrace walks from the faulting function back into this test. */
    KT_ASSERT(log_contains_since(mark, "<catch_faults+"), "backtrace missing catch_faults");
    KT_ASSERT(log_contains_since(mark, "<kt_trap_page_fault_not_present+"),
              "backtrace does not reach the test function");
}

KTEST(trap_page_fault_write_protect)
{
    struct fault_info fi = { 0 };
    uint64_t mark = log_mark();
    KT_ASSERT(read_cr0() & CR0_WP, "CR0.WP is off: the kernel could write read-only pages");
    KT_ASSERT(catch_faults(do_write_text, NULL, &fi) == 1, "write to kernel text not caught");
    KT_ASSERT(fi.vector == VEC_PF, "vector %lu", fi.vector);
    KT_ASSERT((fi.error & 0x3) == 0x3, "error code %#lx: expected protection+write",
              fi.error);
    KT_ASSERT(fi.cr2 == (uint64_t)(uintptr_t)&do_ud2, "CR2 %#lx", fi.cr2);
    KT_ASSERT(log_contains_since(mark, "protection violation, write, kernel mode"),
              "error code not decoded in words");
}

KTEST(trap_general_protection)
{
    struct fault_info fi = { 0 };
    KT_ASSERT(catch_faults(do_noncanonical, NULL, &fi) == 1, "non-canonical access not caught");
    KT_ASSERT(fi.vector == VEC_GP, "vector %lu", fi.vector);
}

/*
 * A double fault: point the stack at an unmapped page and fault.  The CPU
 * cannot push the #PF frame, which makes a #DF; the #DF gate has its own
 * IST stack, so the handler runs anyway.  This is how a kernel stack
 * overflow will be reported.
 */
static void do_double_fault(void *arg)
{
    (void)arg;
    __asm__ volatile("mov %0, %%rsp\n\t"
                     "pushq $0\n\t"
                     : : "r"(UNMAPPED + 4096) : "memory");
}

KTEST(trap_double_fault_on_ist)
{
    struct fault_info fi = { 0 };
    uint64_t lo, hi, mark = log_mark();
    ist_bounds(IST_DOUBLE_FAULT, &lo, &hi);
    KT_ASSERT(catch_faults(do_double_fault, NULL, &fi) == 1, "double fault not caught");
    KT_ASSERT(fi.vector == VEC_DF, "vector %lu, expected 8", fi.vector);
    KT_ASSERT(fi.handler_rsp >= lo && fi.handler_rsp < hi,
              "handler frame %#lx not on the double-fault IST stack [%#lx, %#lx)",
              fi.handler_rsp, lo,
              hi);
    KT_ASSERT(log_contains_since(mark, "#DF double fault"), "oops did not name #DF");
}

KTEST(trap_symbols)
{
    uint64_t off = 99;
    uint64_t addr = (uint64_t)(uintptr_t)&do_fine;
    const char *name = ksym_lookup(addr + 1, &off);
    KT_ASSERT(ksym_count() > 50, "symbol table has %zu entries", ksym_count());
    KT_ASSERT(name && __builtin_strcmp(name, "do_fine") == 0, "lookup gave %s",
              name ? name : "(null)");
    KT_ASSERT(off == 1, "offset %lu", off);
    KT_ASSERT(ksym_address("kmain") != 0, "kmain not found by name");
    KT_ASSERT(ksym_lookup(0x1000, &off) == NULL, "an address outside the kernel got a name");
}

KTEST(trap_decode_selector_error)
{
    char buf[128];
    decode_error(VEC_GP, 0x1a, buf, sizeof(buf)); /* IDT entry 3 */
    KT_ASSERT(__builtin_strcmp(buf, "IDT vector 3") == 0, "got '%s'", buf);
    decode_error(VEC_GP, 0x2c, buf, sizeof(buf)); /* LDT entry 5 */
    KT_ASSERT(__builtin_strcmp(buf, "LDT entry 5 (selector 0x28)") == 0, "got '%s'", buf);
    decode_error(VEC_PF, 0x15, buf, sizeof(buf));
    KT_ASSERT(__builtin_strcmp(buf, "protection violation, instruction fetch, user mode") == 0,
              "got '%s'", buf);
}
