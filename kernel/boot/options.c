/*
 * The options the kernel understands.  An unknown word on the command
 * line is reported and ignored; the boot goes on.  Add new options to
 * `known` with a one-line help (README.md lists them too).
 */
#include <kernel/cmdline.h>
#include <kernel/printk.h>
#include <kernel/string.h>

static const struct {
    const char *key;
    const char *help;
} known[] = {
    { "ktest", "run in-kernel tests: ktest=all or ktest=name1,name2" },
    { "ktest.end", "after the tests: exit (QEMU isa-debug-exit, default), halt, init "
                   "(start init as without ktest: a boot that runs both), or poweroff "
                   "(ACPI S5, no exit code)" },
    { "calibrate", "calibrate=cpuid|hpet|pmtimer|pit: the reference clock that measures the "
                   "TSC and the APIC timer at boot (default: the first that works)" },
    { "ktest.crash", "test of the harness, outside any test: oops (a fault), kfree (a double "
                     "kfree), vfree (vfree of a non-vmalloc address); each must panic" },
    { "slab_debug", "slab debugging: red zones, poisoning, double/invalid-free checks" },
    { "nosmep", "leave SMEP off even when the CPU has it" },
    { "smp", "smp=off (or smp=1): leave the other CPUs parked in the firmware (docs/smp.md)" },
    { "lockdep", "check the order in which spinlocks are taken, and sleeps with one held "
                 "(on in DEBUG builds; docs/smp.md)" },
    { "smp.ghost", "smp.ghost=N: also start APIC id N, which no CPU has: the test of the "
                   "start's timeout (docs/smp.md)" },
    { "nosmap", "leave SMAP off even when the CPU has it" },
    { "bench", "run the in-QEMU benchmarks (make bench) instead of stopping; bench=migrate: "
               "only page migration's; bench=swap: only swap I/O's" },
    { "init", "the first program, from the initrd (default /bin/init)" },
    { "fork", "fork=copy: copy every page at fork instead of copy-on-write" },
    { "memview", "memview=on: the live map of physical memory on the framebuffer from boot "
                 "(F12 switches it; docs/memview.md)" },
    { "swap", "swap=vda2, swap=/dev/vda2 or swap=PARTUUID=<guid>: swapon that device at "
              "boot (it must carry mkswap's header; docs/swap.md)" },
    { "compat32.mirror", "compat32.mirror=ro: 32-bit processes may read their own page "
                         "tables at 0xffc00000 (supervisor-only by default)" },
};

static struct cmdline cmdline;

/* The words after a lone "--": init's arguments (docs/user-programs.md). */
static char init_args[BOOT_CMDLINE_MAX];

const char *options_init_args(void)
{
    return init_args;
}

void options_init(const char *line)
{
    char opts[BOOT_CMDLINE_MAX];
    strlcpy(opts, line, sizeof(opts));
    /* cut at the first word that is exactly "--" */
    for (char *p = opts; *p; p++) {
        if ((p == opts || p[-1] == ' ') && p[0] == '-' && p[1] == '-' &&
            (p[2] == ' ' || p[2] == 0)) {
            strlcpy(init_args, p[2] ? p + 3 : "", sizeof(init_args));
            *p = 0;
            break;
        }
    }
    cmdline_parse(&cmdline, opts);
    for (int i = 0; i < cmdline.n; i++) {
        bool ok = false;
        for (size_t k = 0; k < ARRAY_SIZE(known); k++)
            if (strcmp(cmdline.opt[i].key, known[k].key) == 0)
                ok = true;
        if (!ok)
            printk("cmdline: unknown option '%s' ignored (known: see README.md)\n",
                   cmdline.opt[i].key);
    }
    if (cmdline.dropped)
        printk("cmdline: %d options past the first %d ignored\n", cmdline.dropped,
               CMDLINE_MAX_OPTS);
}

const char *option(const char *key)
{
    return cmdline_get(&cmdline, key);
}

void options_print_help(void)
{
    for (size_t k = 0; k < ARRAY_SIZE(known); k++)
        printk("  %-14s %s\n", known[k].key, known[k].help);
}
