/*
 * reboot(2): the shell's `poweroff`, `halt` and `reboot` (busybox calls
 * it directly with -f).  Linux's checks in Linux's order (kernel/reboot.c):
 * EPERM without privilege (here: an effective uid other than 0), EINVAL
 * unless magic1 is LINUX_REBOOT_MAGIC1 and magic2 one of the four
 * LINUX_REBOOT_MAGIC2 values, then the command:
 *
 *   POWER_OFF  ACPI S5 (kernel/acpi/power.c); if that fails, a halt, as
 *              Linux falls back to halting
 *   HALT       the CPU stops with interrupts off ("System halted.")
 *   RESTART    the keyboard controller's reset line (command 0xfe to port
 *              0x64), then a triple fault if the machine is still there
 *   CAD_ON/OFF accepted, nothing to change (no Ctrl-Alt-Del handling)
 *   others     EINVAL
 *
 * Nothing is synced: tmpfs has nothing to write back, and a swap area
 * holds nothing worth keeping across a power cycle.
 */
#include <kernel/acpi_hw.h>
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/x86.h>

#define MAGIC1      0xfee1deadu
#define CMD_RESTART 0x01234567u
#define CMD_HALT    0xcdef0123u
#define CMD_CAD_ON  0x89abcdefu
#define CMD_CAD_OFF 0x00000000u
#define CMD_POWER_OFF 0x4321fedcu

static bool magic2_ok(uint32_t m)
{
    return m == 672274793u || m == 85072278u || m == 369367448u || m == 537993216u;
}

static __attribute__((noreturn)) void halt_here(const char *what)
{
    printk("%s\n", what);
    for (;;) {
        cli();
        hlt();
    }
}

long sys_reboot(const struct sysargs *a)
{
    uint32_t m1 = (uint32_t)a->arg[0], m2 = (uint32_t)a->arg[1], cmd = (uint32_t)a->arg[2];
    if (current->euid != 0)
        return -EPERM;
    if (m1 != MAGIC1 || !magic2_ok(m2))
        return -EINVAL;
    switch (cmd) {
    case CMD_CAD_ON:
    case CMD_CAD_OFF:
        return 0;
    case CMD_POWER_OFF:
        printk("reboot: power down\n");
        acpi_power_off();
        halt_here("System halted.");
    case CMD_HALT:
        halt_here("System halted.");
    case CMD_RESTART:
        printk("reboot: restarting system\n");
        cli();
        for (int i = 0; i < 100000 && (inb(0x64) & 0x02); i++)
            ;   /* the controller's input buffer empty */
        outb(0x64, 0xfe);
        for (int i = 0; i < 1000000; i++)
            (void)inb(0x80);
        __asm__ volatile("lidt %0; int3" : : "m"((struct { uint16_t l; uint64_t b; }
                                                    __attribute__((packed))){ 0, 0 }));
        halt_here("reboot: the machine did not restart");
    default:
        return -EINVAL;
    }
}
