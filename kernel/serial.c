/*
 * COM1 (8250/16550 UART at I/O port 0x3f8), polled, 115200 8N1.
 *
 * Laptops often have no UART: we probe with the scratch register and
 * the loopback mode before using it, so that a machine without one
 * spends no time spinning on a line-status register that never says
 * "ready" (every message still reaches the framebuffer console).
 */
#include <kernel/console.h>
#include <kernel/x86.h>

#define COM1 0x3f8
#define REG_DATA 0
#define REG_IER  1
#define REG_FCR  2
#define REG_LCR  3
#define REG_MCR  4
#define REG_LSR  5
#define REG_SCR  7
#define LSR_THR_EMPTY 0x20

static bool present;

bool serial_init(void)
{
    outb(COM1 + REG_SCR, 0xa5);
    if (inb(COM1 + REG_SCR) != 0xa5)
        return present = false;
    outb(COM1 + REG_IER, 0x00);  /* no interrupts: we poll */
    outb(COM1 + REG_LCR, 0x80);  /* DLAB on: set the divisor */
    outb(COM1 + REG_DATA, 1);    /* 115200 baud */
    outb(COM1 + REG_IER, 0);
    outb(COM1 + REG_LCR, 0x03);  /* 8 bits, no parity, 1 stop */
    outb(COM1 + REG_FCR, 0xc7);  /* FIFOs on, cleared */
    outb(COM1 + REG_MCR, 0x1e);  /* loopback, to test the line */
    outb(COM1 + REG_DATA, 0xae);
    if (inb(COM1 + REG_DATA) != 0xae)
        return present = false;
    outb(COM1 + REG_MCR, 0x0f);  /* normal operation */
    return present = true;
}

bool serial_present(void)
{
    return present;
}

static void serial_putc(char c)
{
    /* Bounded wait: a wedged UART must not hang the kernel. */
    for (int i = 0; i < 100000 && !(inb(COM1 + REG_LSR) & LSR_THR_EMPTY); i++)
        ;
    outb(COM1 + REG_DATA, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
    if (!present)
        return;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            serial_putc('\r');
        serial_putc(s[i]);
    }
}
