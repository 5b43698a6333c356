/*
 * The serial ports: COM1 (8250/16550 UART at I/O port 0x3f8), the kernel
 * log, and COM2 (0x2f8), where user processes' output goes
 * (serial2_write); both polled, 115200 8N1.
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

#define COM2 0x2f8

static bool present, com2_present;

/* Probe and set up the UART at `port`; true when one answered. */
static bool uart_init(uint16_t port)
{
    outb(port + REG_SCR, 0xa5);
    if (inb(port + REG_SCR) != 0xa5)
        return false;
    outb(port + REG_IER, 0x00);  /* no interrupts: we poll */
    outb(port + REG_LCR, 0x80);  /* DLAB on: set the divisor */
    outb(port + REG_DATA, 1);    /* 115200 baud */
    outb(port + REG_IER, 0);
    outb(port + REG_LCR, 0x03);  /* 8 bits, no parity, 1 stop */
    outb(port + REG_FCR, 0xc7);  /* FIFOs on, cleared */
    outb(port + REG_MCR, 0x1e);  /* loopback, to test the line */
    outb(port + REG_DATA, 0xae);
    if (inb(port + REG_DATA) != 0xae)
        return false;
    outb(port + REG_MCR, 0x0f);  /* normal operation */
    return true;
}

bool serial_init(void)
{
    present = uart_init(COM1);
    com2_present = uart_init(COM2);
    return present;
}

bool serial_present(void)
{
    return present;
}

static void uart_putc(uint16_t port, char c)
{
    /* Bounded wait: a wedged UART must not hang the kernel. */
    for (int i = 0; i < 100000 && !(inb(port + REG_LSR) & LSR_THR_EMPTY); i++)
        ;
    outb(port + REG_DATA, (uint8_t)c);
}

static void serial_putc(char c)
{
    uart_putc(COM1, c);
}

/* COM2 carries what user processes write to the console, byte for byte
 * (no \r added): `make run-elf` gives it to the user as the program's
 * stdout (docs/user-programs.md). */
void serial2_write(const char *s, size_t n)
{
    if (!com2_present)
        return;
    for (size_t i = 0; i < n; i++)
        uart_putc(COM2, s[i]);
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
