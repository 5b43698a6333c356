/*
 * test_swapon: swapon and swapoff as Linux has them, and /proc/swaps
 * (docs/swap.md), compared with the host's Linux:
 *
 *  - the refusals, which never touch a device: a missing path (ENOENT), a
 *    path through a file (ENOTDIR), a directory (EISDIR), a character
 *    device and a regular file of zeros without a signature (EINVAL),
 *    unknown flags (EINVAL); swapoff of things that are not areas
 *    (ENOENT, EINVAL); a caller that is not root (EPERM, in a child that
 *    gave up root);
 *  - /proc/swaps starts with Linux's header line, /proc/meminfo has
 *    SwapTotal and SwapFree, and sysinfo's totalswap is SwapTotal;
 *  - on mmk with a swap disk attached (make run SWAP=512M, the swap boot
 *    of tests/run_all.py: swap=vda), "# SKIP" elsewhere: /dev/vda is a
 *    block device listed in /proc/swaps; swapon again is EBUSY; swapoff
 *    takes the area away (SwapTotal drops to 0), swapon with a priority
 *    brings it back with that priority, a plain swapon gives -1 again, and
 *    a swapon through a symbolic link shows the device's own path.
 *
 * The host may deny swapon to everybody (a container without
 * CAP_SYS_ADMIN answers EPERM even to root): the checks that need root's
 * answers are then skipped there.
 */
#define _GNU_SOURCE
#include "ut.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/sysmacros.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *dir = "/tmp/test_swapon.d";

/* Root's answer can be compared: mmk, or a host where root may swapon. */
static int root_answers(void)
{
    if (ut_on_mmk())
        return geteuid() == 0;
    errno = 0;
    int r = swapon("/nonexistent-test-swapon", 0);
    return geteuid() == 0 && !(r < 0 && errno == EPERM);
}

static void errno_or_skip(int can, const char *name, long r, int want)
{
    if (can)
        ut_check_errno(name, r, want);
    else
        ut_skip(name, "this host denies swapon to root");
}

static int nonroot_child(void *arg)
{
    (void)arg;
    if (setuid(65534) != 0)
        return 10;
    if (swapon("/dev/null", 0) != -1 || errno != EPERM)
        return 1;
    if (swapoff("/dev/null") != -1 || errno != EPERM)
        return 2;
    if (swapon("/dev/null", 0x40000000) != -1 || errno != EINVAL)
        return 3;   /* the flags are checked first */
    return 0;
}

/* The /proc/swaps line of path: its priority in *prio; 0 when not listed. */
static int swaps_line(const char *path, char *type, long *size, long *prio)
{
    FILE *f = fopen("/proc/swaps", "r");
    char line[256];
    int found = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        char name[128];
        long used;
        if (sscanf(line, "%127s %15s %ld %ld %ld", name, type, size, &used, prio) == 5 &&
            strcmp(name, path) == 0)
            found = 1;
    }
    fclose(f);
    return found;
}

static void swap_disk_checks(void)
{
    static const char *names[] = { "disk_is_block", "disk_listed", "disk_swapon_ebusy",
                                   "disk_swapoff", "disk_gone", "disk_swapon_prio",
                                   "disk_prio_shown", "disk_swapon_again", "disk_prio_auto",
                                   "disk_via_symlink" };
    char type[16];
    long size = 0, prio = 0;
    struct stat st;
    if (!ut_on_mmk() || stat("/dev/vda", &st) != 0 || !swaps_line("/dev/vda", type, &size, &prio)) {
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            ut_skip(names[i], "%s", ut_on_mmk() ? "no swap disk (boot with swap=vda)"
                                                : "only mmk has the swap disk");
        return;
    }
    ut_check(S_ISBLK(st.st_mode), names[0], "mode %o", st.st_mode);
    ut_check(strcmp(type, "partition") == 0 && size > 0, names[1], "type %s size %ld", type,
             size);
    ut_note("swap disk: /dev/vda, %ld kB, priority %ld", size, prio);
    ut_check_errno(names[2], swapon("/dev/vda", 0), EBUSY);
    ut_check(swapoff("/dev/vda") == 0, names[3], "errno %d", errno);
    ut_check(!swaps_line("/dev/vda", type, &size, &prio) && ut_meminfo("SwapTotal") == 0,
             names[4], "still listed, SwapTotal %ld", ut_meminfo("SwapTotal"));
    ut_check(swapon("/dev/vda", SWAP_FLAG_PREFER | 5) == 0, names[5], "errno %d", errno);
    ut_check(swaps_line("/dev/vda", type, &size, &prio) && prio == 5 &&
             ut_meminfo("SwapTotal") == size, names[6], "priority %ld", prio);
    swapoff("/dev/vda");
    ut_check(swapon("/dev/vda", 0) == 0, names[7], "errno %d", errno);
    ut_check(swaps_line("/dev/vda", type, &size, &prio) && prio == -1, names[8],
             "priority %ld", prio);
    /* Through a link: /proc/swaps names the device's own path. */
    char link[64];
    snprintf(link, sizeof(link), "%s/swaplink", dir);
    swapoff("/dev/vda");
    int ok = symlink("/dev/vda", link) == 0 && swapon(link, 0) == 0 &&
             swaps_line("/dev/vda", type, &size, &prio) && !swaps_line(link, type, &size, &prio);
    ut_check(ok, names[9], "errno %d", errno);
    if (!swaps_line("/dev/vda", type, &size, &prio))
        swapon("/dev/vda", 0);
    unlink(link);
}

int main(void)
{
    ut_init();
    int can = root_answers();
    mkdir(dir, 0755);
    char file[64];
    snprintf(file, sizeof(file), "%s/zeros", dir);
    int fd = open(file, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    static char zeros[65536];
    ut_check(fd >= 0 && write(fd, zeros, sizeof(zeros)) == (long)sizeof(zeros), "setup",
             "errno %d", errno);
    close(fd);

    errno_or_skip(can, "swapon_enoent", swapon("/nonexistent/swap", 0), ENOENT);
    errno_or_skip(can, "swapon_enotdir", swapon("/dev/null/swap", 0), ENOTDIR);
    errno_or_skip(can, "swapon_eisdir", swapon(dir, 0), EISDIR);
    errno_or_skip(can, "swapon_chrdev", swapon("/dev/null", 0), EINVAL);
    errno_or_skip(can, "swapon_no_signature", swapon(file, 0), EINVAL);
    errno_or_skip(can, "swapon_flags", swapon("/dev/null", 0x40000000), EINVAL);
    errno_or_skip(can, "swapon_empty", swapon("", 0), ENOENT);
    errno_or_skip(can, "swapoff_enoent", swapoff("/nonexistent/swap"), ENOENT);
    errno_or_skip(can, "swapoff_chrdev", swapoff("/dev/null"), EINVAL);
    errno_or_skip(can, "swapoff_not_swap", swapoff(file), EINVAL);
    /* A block device node whose number no driver has (240: local use). */
    char node[64];
    snprintf(node, sizeof(node), "%s/nodisk", dir);
    int made = mknod(node, S_IFBLK | 0600, makedev(240, 77)) == 0;
    ut_check(made || !can, "mknod_block", "errno %d", errno);
    /* A host whose /tmp is mounted nodev answers EACCES to any open. */
    int nodev = 0;
    if (made && !ut_on_mmk()) {
        int nfd = open(node, O_RDONLY);
        nodev = nfd < 0 && errno == EACCES;
        if (nfd >= 0)
            close(nfd);
    }
    errno_or_skip(can && made && !nodev, "swapon_no_driver", swapon(node, 0), ENXIO);
    errno_or_skip(can && made && !nodev, "swapoff_no_driver", swapoff(node), ENXIO);
    unlink(node);
    int st = ut_run_child(nonroot_child, NULL);
    char sbuf[64];
    ut_check(geteuid() != 0 || (WIFEXITED(st) && WEXITSTATUS(st) == 0), "nonroot_eperm",
             "child: %s", ut_status_str(st, sbuf, sizeof(sbuf)));

    FILE *f = fopen("/proc/swaps", "r");
    char line[256] = "";
    if (f) {
        if (!fgets(line, sizeof(line), f))
            line[0] = 0;
        fclose(f);
    }
    ut_check(strcmp(line, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n") == 0,
             "proc_swaps_header", "first line \"%s\"", line);
    long total = ut_meminfo("SwapTotal"), free = ut_meminfo("SwapFree");
    ut_check(total >= 0 && free >= 0 && free <= total, "meminfo_swap", "SwapTotal %ld SwapFree %ld",
             total, free);

    struct sysinfo si;
    ut_check(sysinfo(&si) == 0 && (long)((unsigned long long)si.totalswap * si.mem_unit / 1024) ==
             ut_meminfo("SwapTotal"), "sysinfo_swap", "totalswap %lu x %u, SwapTotal %ld",
             (unsigned long)si.totalswap, si.mem_unit, ut_meminfo("SwapTotal"));

    swap_disk_checks();

    unlink(file);
    rmdir(dir);
    return ut_done();
}
