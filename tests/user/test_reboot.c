/*
 * test_reboot: reboot(2)'s refusals, in Linux's order (docs/boot.md,
 * "What the kernel checks on a real PC"): EPERM for a process without
 * privilege, EINVAL for a wrong magic number or an unknown command, 0 for
 * the Ctrl-Alt-Del switch.  Nothing here powers anything off; the shell
 * session's last step does (`poweroff -f`).  On the host every check is
 * skipped: reboot(2) there is the host's own.
 */
#include "ut.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAGIC1 0xfee1deadu
#define MAGIC2 672274793u

static long rb(unsigned m1, unsigned m2, unsigned cmd)
{
    return syscall(SYS_reboot, m1, m2, cmd, 0);
}

static int as_user(void *arg)
{
    (void)arg;
    if (setuid(1000) != 0)
        return 2;
    return rb(MAGIC1, MAGIC2, 0) == -1 && errno == EPERM ? 0 : 1;
}

int main(void)
{
    ut_init();
    static const char *const names[] = { "reboot_bad_magic1", "reboot_bad_magic2",
                                          "reboot_bad_command", "reboot_cad_off",
                                          "reboot_unprivileged_eperm" };
    if (!ut_on_mmk()) {
        for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            ut_skip(names[i], "the host's reboot(2) is not touched");
        return ut_done();
    }
    long r = rb(0x12345678u, MAGIC2, 0);
    ut_check_errno(names[0], r, EINVAL);
    r = rb(MAGIC1, 1, 0);
    ut_check_errno(names[1], r, EINVAL);
    r = rb(MAGIC1, MAGIC2, 0x11111111u);
    ut_check_errno(names[2], r, EINVAL);
    r = rb(MAGIC1, 85072278u, 0);   /* LINUX_REBOOT_CMD_CAD_OFF, another magic2 */
    ut_check(r == 0, names[3], "returned %ld", r);
    int st = ut_run_child(as_user, NULL);
    ut_check(ut_exited_with(st, 0), names[4], "child status %#x", st);
    return ut_done();
}
