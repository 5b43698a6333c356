/*
 * Interrupts nobody serves (kernel/cpu/ioapic.c): an IRQ without a handler
 * is masked at its first interrupt and logged once; an IRQ whose handler
 * keeps answering IRQ_NONE is masked after a window of IRQ_WINDOW
 * interrupts of which more than IRQ_UNHANDLED_MAX went unclaimed.
 *
 * The interrupts are simulated: the tests call irq_dispatch as
 * trap_dispatch does (the kernel runs with interrupts off, so no real one
 * arrives meanwhile).  They use ISA IRQ 13, the FPU error line, which no
 * device raises while CR0.NE is set.
 */
#include <kernel/ktest.h>
#include <kernel/errno.h>
#include <kernel/irq.h>
#include <kernel/printk.h>

#define TEST_IRQ 13

static uint32_t calls, claim_every;

/* Claims one interrupt in claim_every (never when 0). */
static irqreturn_t picky_handler(int irq)
{
    (void)irq;
    calls++;
    return claim_every && calls % claim_every == 0 ? IRQ_HANDLED : IRQ_NONE;
}

static void dispatch(uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        irq_dispatch(TEST_IRQ);
}

KTEST(irq_no_handler_masked_once)
{
    irq_free(TEST_IRQ);                  /* whatever a failed test before left */
    KT_ASSERT(irq_request(TEST_IRQ, picky_handler) == 0, "IRQ %d cannot be requested",
              TEST_IRQ);
    irq_free(TEST_IRQ);                  /* now it has no handler, like any unused line */
    KT_ASSERT(irq_masked(TEST_IRQ), "irq_free left IRQ %d unmasked", TEST_IRQ);
    uint64_t before = irq_count(TEST_IRQ), mark = log_mark();
    dispatch(1);
    KT_ASSERT(irq_disabled(TEST_IRQ) && irq_masked(TEST_IRQ), "IRQ %d not masked", TEST_IRQ);
    KT_ASSERT(log_contains_since(mark, "ioapic: IRQ 13 (vector 0x3d) has no handler: masked"),
              "no log line for an interrupt without a handler");
    mark = log_mark();
    dispatch(1000);                      /* sent before the mask took effect */
    KT_ASSERT(!log_contains_since(mark, "IRQ 13"), "logged more than once");
    KT_ASSERT(irq_count(TEST_IRQ) - before == 1001, "%lu interrupts counted",
              irq_count(TEST_IRQ) - before);
    /* a handler brings it back */
    KT_ASSERT(irq_request(TEST_IRQ, picky_handler) == 0, "IRQ %d cannot be requested again",
              TEST_IRQ);
    KT_ASSERT(!irq_disabled(TEST_IRQ) && !irq_masked(TEST_IRQ), "IRQ %d still masked",
              TEST_IRQ);
    irq_free(TEST_IRQ);
}

KTEST(irq_nobody_cared)
{
    irq_free(TEST_IRQ);
    KT_ASSERT(irq_request(TEST_IRQ, picky_handler) == 0, "IRQ %d cannot be requested",
              TEST_IRQ);
    /* Exactly IRQ_UNHANDLED_MAX unclaimed in a window: a busy shared line,
     * not a stuck one.  The line stays on. */
    calls = 0;
    claim_every = IRQ_WINDOW / (IRQ_WINDOW - IRQ_UNHANDLED_MAX);
    uint64_t mark = log_mark();
    dispatch(IRQ_WINDOW);
    KT_ASSERT(calls == IRQ_WINDOW, "the handler ran %u times", calls);
    KT_ASSERT(!irq_disabled(TEST_IRQ) && !irq_masked(TEST_IRQ),
              "masked with %u of %u unhandled", IRQ_UNHANDLED_MAX, IRQ_WINDOW);
    /* Nothing claimed: masked at the end of the window, not before. */
    calls = 0;
    claim_every = 0;
    dispatch(IRQ_WINDOW - 1);
    KT_ASSERT(!irq_disabled(TEST_IRQ), "masked before the window ended");
    KT_ASSERT(!log_contains_since(mark, "nobody cared"), "reported too early");
    dispatch(1);
    KT_ASSERT(irq_disabled(TEST_IRQ) && irq_masked(TEST_IRQ), "a stuck line stays unmasked");
    KT_ASSERT(log_contains_since(mark, "ioapic: IRQ 13: nobody cared"), "no report");
    /* once masked, the handler no longer runs */
    dispatch(10);
    KT_ASSERT(calls == IRQ_WINDOW, "the handler ran %u times after the mask",
              calls - IRQ_WINDOW);
    irq_free(TEST_IRQ);
    KT_ASSERT(!irq_disabled(TEST_IRQ) && irq_masked(TEST_IRQ), "irq_free: wrong state");
}

KTEST(irq_request_bad_input)
{
    irq_free(TEST_IRQ);
    KT_ASSERT(irq_request(-1, picky_handler) == -EINVAL, "IRQ -1 accepted");
    KT_ASSERT(irq_request(NR_LEGACY_IRQS, picky_handler) == -EINVAL, "IRQ 16 accepted");
    KT_ASSERT(irq_request(TEST_IRQ, NULL) == -EINVAL, "a NULL handler accepted");
    KT_ASSERT(irq_request(TEST_IRQ, picky_handler) == 0, "IRQ %d cannot be requested",
              TEST_IRQ);
    KT_ASSERT(irq_request(TEST_IRQ, picky_handler) == -EINVAL, "IRQ %d taken twice", TEST_IRQ);
    irq_free(TEST_IRQ);
    irq_free(TEST_IRQ);                  /* twice: nothing */
    irq_free(-1);
    KT_ASSERT(irq_masked(TEST_IRQ) && irq_masked(-1) && !irq_disabled(99), "wrong state");
}
