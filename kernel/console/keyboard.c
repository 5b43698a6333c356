/*
 * The PS/2 keyboard behind the i8042 controller (I/O ports 0x60 and 0x64),
 * by interrupt (IRQ 1).  Each byte the controller delivers is a scan code
 * of set 1 (the controller translates the keyboard's set 2, as QEMU's and
 * a PC's do by default); kernel/console/keymap.c turns it into terminal
 * bytes, which go to the console's terminal (console_receive).
 *
 * Setting up: many UEFI PCs have no i8042 at all (USB keyboards, no
 * legacy emulation once the firmware has gone), and a missing controller
 * reads 0xff on its status port.  So: the status port must not read 0xff,
 * every wait on the controller is bounded, and the controller must answer
 * "read configuration".  Then the configuration byte gets the keyboard
 * interrupt and translation on, the mouse port's interrupt off, and the
 * keyboard port enabled.  Left out: the mouse, the LEDs, typematic rate,
 * other layouts.
 */
#include <kernel/console.h>
#include <kernel/irq.h>
#include <kernel/keymap.h>
#include <kernel/memview.h>
#include <kernel/printk.h>
#include <kernel/x86.h>

#define KBD_DATA   0x60
#define KBD_STATUS 0x64
#define KBD_CMD    0x64
#define ST_OUT_FULL 0x01
#define ST_IN_FULL  0x02
#define ST_AUX      0x20            /* the byte waiting is the mouse's */
#define CMD_READ_CONFIG  0x20
#define CMD_WRITE_CONFIG 0x60
#define CMD_DISABLE_AUX  0xa7
#define CMD_DISABLE_KBD  0xad
#define CMD_ENABLE_KBD   0xae
#define CFG_KBD_IRQ   0x01
#define CFG_AUX_IRQ   0x02
#define CFG_KBD_CLOCK_OFF 0x10
#define CFG_TRANSLATE 0x40
#define KBD_IRQ 1
#define SC_F12_MAKE 0x58       /* scan code set 1 (kernel/console/keymap.c) */

static struct kbd_state kbd;

static bool wait_input_empty(void)
{
    for (int i = 0; i < 100000; i++)
        if (!(inb(KBD_STATUS) & ST_IN_FULL))
            return true;
    return false;
}

static bool wait_output_full(void)
{
    for (int i = 0; i < 100000; i++)
        if (inb(KBD_STATUS) & ST_OUT_FULL)
            return true;
    return false;
}

static bool command(uint8_t cmd)
{
    if (!wait_input_empty())
        return false;
    outb(KBD_CMD, cmd);
    return true;
}

static void flush_output(void)
{
    for (int i = 0; i < 64 && (inb(KBD_STATUS) & ST_OUT_FULL); i++)
        (void)inb(KBD_DATA);
}

/* IRQ 1: the bytes the controller holds; IRQ_NONE if it held none. */
static irqreturn_t kbd_irq(int irq)
{
    (void)irq;
    char out[4 * KBD_MAX_BYTES];
    size_t n = 0;
    int got = 0;
    for (; got < 4 && (inb(KBD_STATUS) & ST_OUT_FULL); got++) {
        uint8_t st = inb(KBD_STATUS);
        uint8_t code = inb(KBD_DATA);
        if (st & ST_AUX)
            continue;
        /* F12 pressed (not behind 0xe0 or inside Pause): the memory map's
         * key, not the terminal's, when there is a map to show. */
        if (code == SC_F12_MAKE && !kbd.e0 && !kbd.skip && memview_key())
            continue;
        n += kbd_scancode(&kbd, code, out + n);
    }
    if (n)
        console_receive(out, n);
    return got ? IRQ_HANDLED : IRQ_NONE;
}

bool keyboard_init(void)
{
    if (inb(KBD_STATUS) == 0xff) {
        printk("keyboard: no i8042 controller\n");
        return false;
    }
    if (!command(CMD_DISABLE_KBD) || !command(CMD_DISABLE_AUX))
        goto absent;
    flush_output();
    if (!command(CMD_READ_CONFIG) || !wait_output_full())
        goto absent;
    uint8_t cfg = inb(KBD_DATA);
    cfg = (uint8_t)((cfg | CFG_KBD_IRQ | CFG_TRANSLATE) & ~(CFG_AUX_IRQ | CFG_KBD_CLOCK_OFF));
    if (!command(CMD_WRITE_CONFIG) || !wait_input_empty())
        goto absent;
    outb(KBD_DATA, cfg);
    flush_output();
    if (irq_request(KBD_IRQ, kbd_irq) != 0)
        return false;
    if (!command(CMD_ENABLE_KBD))
        goto absent;
    printk("keyboard: PS/2 on the i8042, configuration %#x, scan code set 1 (translated)\n",
           cfg);
    return true;
absent:
    printk("keyboard: the i8042 does not answer\n");
    return false;
}
