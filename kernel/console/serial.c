/*
 * The serial ports: COM1 (8250/16550 UART at I/O port 0x3f8), the kernel
 * log and a terminal, and COM2 (0x2f8), where user processes' output goes
 * (serial2_write); 115200 8N1.  Output is polled on both.  Input is read
 * on COM1 only, by interrupt (IRQ 4, "received data available"), and
 * handed to the console's terminal (console_receive; docs/terminal.md).
 *
 * Laptops often have no UART: we probe with the scratch register and
 * the loopback mode before using it, so that a machine without one
 * spends no time spinning on a line-status register that never says
 * "ready" (every message still reaches the framebuffer console).
 */
#include <kernel/console.h>
#include <kernel/irq.h>
#include <kernel/x86.h>

#define COM1 0x3f8
#define REG_DATA 0
#define REG_IER  1
#define REG_FCR  2
#define REG_LCR  3
#define REG_MCR  4
#define REG_LSR  5
#define REG_IIR  2
#define REG_SCR  7
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define IER_RX_DATA 0x01
#define COM1_IRQ 4

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
    outb(port + REG_FCR, 0x07);  /* FIFOs on, cleared; receive interrupt at every byte */
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

/* COM1 without the \n -> \r\n of serial_write: the terminal's own output,
 * already processed by its line discipline (c_oflag). */
void serial_write_raw(const char *s, size_t n)
{
    if (!present)
        return;
    for (size_t i = 0; i < n; i++)
        serial_putc(s[i]);
}

/* IRQ 4: every byte the UART holds goes to the terminal.  IRQ_NONE when
 * the UART had no interrupt pending (IIR bit 0) and no byte. */
static irqreturn_t com1_irq(int irq)
{
    (void)irq;
    char buf[64];
    size_t n = 0;
    bool pending = !(inb(COM1 + REG_IIR) & 1);   /* reading IIR acknowledges it */
    int i = 0;
    for (; i < 4096 && (inb(COM1 + REG_LSR) & LSR_DATA_READY); i++) {
        buf[n++] = (char)inb(COM1 + REG_DATA);
        if (n == sizeof(buf)) {
            console_receive(buf, n);
            n = 0;
        }
    }
    if (n)
        console_receive(buf, n);
    return pending || i ? IRQ_HANDLED : IRQ_NONE;
}

bool serial_input_init(void)
{
    if (!present || irq_request(COM1_IRQ, com1_irq) != 0)
        return false;
    for (int i = 0; i < 64 && (inb(COM1 + REG_LSR) & LSR_DATA_READY); i++)
        (void)inb(COM1 + REG_DATA);   /* what the firmware left unread */
    outb(COM1 + REG_IER, IER_RX_DATA);
    return true;
}
