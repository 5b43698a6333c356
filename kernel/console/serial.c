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
 *
 * The kernel log goes to every port found: COM1-COM4 at their usual
 * addresses (0x3f8, 0x2f8, 0x3e8, 0x2e8), probed at boot, and the port
 * the firmware's ACPI SPCR table names (a server's console may be
 * anywhere; serial_add_spcr, once ACPI can be read).  COM2 leaves the
 * log the moment a user process first writes there (serial2_write), so
 * what programs print stays apart (docs/consoles.md).
 */
#include <kernel/acpi_hw.h>
#include <kernel/console.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/string.h>
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
#define MAX_PORTS 5

static bool present, com2_present, com2_user;
static uint16_t log_port[MAX_PORTS];   /* the kernel log's ports, COM1 first */
static unsigned nr_log;
static char ports_text[48];

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

static void name_ports(void)
{
    static const uint16_t std[] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
    size_t k = 0;
    for (unsigned i = 0; i < nr_log && k + 12 < sizeof(ports_text); i++) {
        unsigned c = 0;
        for (unsigned j = 0; j < 4; j++)
            if (std[j] == log_port[i])
                c = j + 1;
        k += (size_t)snprintf(ports_text + k, sizeof(ports_text) - k, c ? "%sCOM%u" : "%s%#x",
                              i ? ", " : "", c ? c : log_port[i]);
    }
    if (!nr_log)
        strlcpy(ports_text, "absent", sizeof(ports_text));
}

bool serial_init(void)
{
    static const uint16_t probe[] = { COM1, COM2, 0x3e8, 0x2e8 };
    for (unsigned i = 0; i < 4; i++)
        if (uart_init(probe[i]))
            log_port[nr_log++] = probe[i];
    present = nr_log && log_port[0] == COM1;
    com2_present = (nr_log > 0 && log_port[0] == COM2) || (nr_log > 1 && log_port[1] == COM2);
    name_ports();
    return present;
}

const char *serial_ports(void)
{
    return ports_text;
}

int serial_add_port(uint16_t port)
{
    for (unsigned i = 0; i < nr_log; i++)
        if (log_port[i] == port)
            return 0;
    if (nr_log == MAX_PORTS)
        return -ENOSPC;
    if (!uart_init(port))
        return -ENODEV;
    log_port[nr_log++] = port;
    name_ports();
    return 1;
}

bool serial_present(void)
{
    return present;
}

static void spcr_report(const char *line)
{
    printk("%s\n", line);
}

void serial_add_spcr(void)
{
    static uint8_t tbl[512];
    uint16_t port;
    long n = acpi_copy_table(acpi_kernel(), "SPCR", tbl, sizeof(tbl));
    if (n <= 0 || acpi_spcr_parse(tbl, (size_t)n, &port, spcr_report) != 0)
        return;
    int r = serial_add_port(port);
    printk("serial: the ACPI SPCR names the UART at %#x: %s\n", port,
           r == 1 ? "added to the log" : r == 0 ? "already in the log" :
           r == -ENODEV ? "no UART answers there" : "too many ports");
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
    com2_user = true;   /* from now on COM2 is the programs' alone */
    for (size_t i = 0; i < n; i++)
        uart_putc(COM2, s[i]);
}

void serial_write(const char *s, size_t n)
{
    for (unsigned p = 0; p < nr_log; p++) {
        if (log_port[p] == COM2 && com2_user)
            continue;
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '\n')
                uart_putc(log_port[p], '\r');
            uart_putc(log_port[p], s[i]);
        }
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
