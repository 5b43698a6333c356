/*
 * panic: a broken invariant or an unhandled kernel exception.  Prints the
 * message and where it came from, then stops.  Under the test harness it
 * leaves QEMU with the failure code so the run ends at once instead of
 * waiting for the timeout.
 */
#include <kernel/printk.h>
#include <kernel/console.h>
#include <kernel/trap.h>
#include <kernel/ktest.h>
#include <kernel/x86.h>
#include <kernel/cmdline.h>

__noreturn void panic(const char *fmt, ...)
{
    va_list ap;
    cli();
    fbcon_set_text_cols(FBCON_ALL_COLS);   /* the whole screen back from the memory map */
    printk("\nKERNEL PANIC: ");
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
    printk("\n");
    uint64_t rbp;
    __asm__ volatile("mov %%rbp, %0" : "=r"(rbp));
    /* Start at our caller: rbp's frame holds its frame pointer and our return address. */
    backtrace_from(((uint64_t *)rbp)[0], ((uint64_t *)rbp)[1]);
    printk("System halted.\n");
    fbcon_flush();   /* the screen too, even in the middle of a burst */
    if (ktest_running() || option("ktest"))
        qemu_exit(QEMU_EXIT_FAIL);
    for (;;)
        hlt();
}
