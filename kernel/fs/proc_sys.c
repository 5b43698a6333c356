/*
 * The machine's files in /proc: uptime, loadavg, stat, cpuinfo, version,
 * filesystems, cmdline and mounts, in Linux's formats (fs/proc/ and
 * arch/x86/kernel/cpu/proc.c).
 *
 *   uptime       the boot clock, and the idle task's time (kernel/fs/proc_kstat.c)
 *   loadavg      the 1, 5 and 15 minute averages of active tasks, the
 *                runnable and existing tasks, the last pid
 *   stat         the CPU's ticks (user, nice 0, system, idle, and 0 for
 *                what mmk does not tell apart: iowait, irq, softirq,
 *                steal, guest), the boot time from the wall clock (RTC),
 *                the tasks started, running and blocked
 *   cpuinfo      CPUID: vendor, family, model, stepping, the model name,
 *                the flags Linux names, sizes; the TSC's frequency
 *   version      the release uname gives, the compiler, the build's title
 *   filesystems  tmpfs and proc, both "nodev" (no block device)
 *   cmdline      the kernel command line the loader passed
 *   mounts       the two mounts (what df and mount read)
 *
 * Linux's /proc/stat also counts interrupts, context switches and
 * softirqs (the intr, ctxt and softirq lines); mmk does not count them
 * and leaves those lines out rather than print made-up numbers.
 */
#include <kernel/apic.h>
#include <kernel/kernel.h>
#include <kernel/kstat.h>
#include <kernel/printk.h>
#include <kernel/sbuf.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/time.h>
#include <kernel/x86.h>
#include <boot/boot_info.h>
#include "proc_impl.h"

#define UTS_RELEASE "6.1.0-mmk"   /* what uname's release says (kernel/proc/sys_proc.c) */

/* Hundredths of a second in "%lu.%02lu" form. */
#define CS_INT(cs)  ((unsigned long)((cs) / 100))
#define CS_FRAC(cs) ((unsigned long)((cs) % 100))

int proc_uptime(char *buf, size_t size)
{
    uint64_t up = now_ns() / 10000000ul;           /* hundredths of a second */
    struct kstat_cpu c;
    kstat_cpu_get(&c);
    uint64_t idle = c.idle * 100 / HZ;
    return snprintf(buf, size, "%lu.%02lu %lu.%02lu\n", CS_INT(up), CS_FRAC(up), CS_INT(idle),
                    CS_FRAC(idle));
}

int proc_loadavg(char *buf, size_t size)
{
    uint64_t l[3];
    loadavg_get(l, FIXED_1 / 200, 0);              /* rounded to two decimals */
#define LOAD_INT(x)  ((unsigned long)((x) >> FSHIFT))
#define LOAD_FRAC(x) ((unsigned long)((((x) & (FIXED_1 - 1)) * 100) >> FSHIFT))
    return snprintf(buf, size, "%lu.%02lu %lu.%02lu %lu.%02lu %d/%d %d\n", LOAD_INT(l[0]),
                    LOAD_FRAC(l[0]), LOAD_INT(l[1]), LOAD_FRAC(l[1]), LOAD_INT(l[2]),
                    LOAD_FRAC(l[2]), kstat_nr_running(), task_count(), task_last_pid());
}

int proc_stat(char *buf, size_t size)
{
    struct sbuf out = { buf, size, 0 };
    struct kstat_cpu c;
    kstat_cpu_get(&c);
    uint64_t user = c.user * USER_HZ / HZ, sys = c.system * USER_HZ / HZ;
    uint64_t idle = c.idle * USER_HZ / HZ;
    sbuf_put(&out, "cpu  %lu 0 %lu %lu 0 0 0 0 0 0\n", user, sys, idle);
    for (unsigned i = 0; i < NR_CPUS; i++) {
        if (!kstat_cpu_online(i))
            continue;
        kstat_cpu_get_one(i, &c);
        sbuf_put(&out, "cpu%u %lu 0 %lu %lu 0 0 0 0 0 0\n", i, c.user * USER_HZ / HZ,
                 c.system * USER_HZ / HZ, c.idle * USER_HZ / HZ);
    }
    int64_t boot = realtime_offset_ns();
    sbuf_put(&out, "btime %ld\nprocesses %lu\nprocs_running %d\nprocs_blocked %d\n",
             boot > 0 ? boot / NSEC_PER_SEC : 0l, task_forks(), kstat_nr_running(),
             kstat_nr_blocked());
    return (int)out.len;
}

/* ---- cpuinfo ------------------------------------------------------------------------ */

/* The CPUID words whose bits Linux names, in the order of its feature
 * words (arch/x86/include/asm/cpufeatures.h). */
enum { W_1EDX, W_X1EDX, W_1ECX, W_X1ECX, W_7EBX, W_7ECX, W_7EDX, NWORDS };

static const char *const flag_names[NWORDS][32] = {
    [W_1EDX] = { "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", NULL,
                 "sep", "mtrr", "pge", "mca", "cmov", "pat", "pse36", "pn", "clflush", NULL,
                 "dts", "acpi", "mmx", "fxsr", "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe" },
    [W_X1EDX] = { [11] = "syscall", [19] = "mp", [20] = "nx", [22] = "mmxext",
                  [25] = "fxsr_opt", [26] = "pdpe1gb", [27] = "rdtscp", [29] = "lm",
                  [30] = "3dnowext", [31] = "3dnow" },
    [W_1ECX] = { "pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est", "tm2",
                 "ssse3", "cid", "sdbg", "fma", "cx16", "xtpr", "pdcm", NULL, "pcid", "dca",
                 "sse4_1", "sse4_2", "x2apic", "movbe", "popcnt", "tsc_deadline_timer", "aes",
                 "xsave", NULL, "avx", "f16c", "rdrand", "hypervisor" },
    [W_X1ECX] = { "lahf_lm", "cmp_legacy", "svm", "extapic", "cr8_legacy", "abm", "sse4a",
                  "misalignsse", "3dnowprefetch", "osvw", "ibs", "xop", "skinit", "wdt", NULL,
                  "lwp", "fma4", "tce", NULL, "nodeid_msr", NULL, "tbm", "topoext",
                  "perfctr_core", "perfctr_nb", NULL, "bpext", "ptsc", "perfctr_llc",
                  "mwaitx" },
    [W_7EBX] = { "fsgsbase", "tsc_adjust", "sgx", "bmi1", "hle", "avx2", NULL, "smep", "bmi2",
                 "erms", "invpcid", "rtm", "cqm", NULL, "mpx", "rdt_a", "avx512f", "avx512dq",
                 "rdseed", "adx", "smap", "avx512ifma", NULL, "clflushopt", "clwb", "intel_pt",
                 "avx512pf", "avx512er", "avx512cd", "sha_ni", "avx512bw", "avx512vl" },
    [W_7ECX] = { [1] = "avx512vbmi", [2] = "umip", [3] = "pku", [4] = "ospke", [5] = "waitpkg",
                 [6] = "avx512_vbmi2", [8] = "gfni", [9] = "vaes", [10] = "vpclmulqdq",
                 [11] = "avx512_vnni", [12] = "avx512_bitalg", [14] = "avx512_vpopcntdq",
                 [16] = "la57", [22] = "rdpid", [25] = "cldemote", [27] = "movdiri",
                 [28] = "movdir64b" },
    [W_7EDX] = { [4] = "fsrm", [8] = "avx512_vp2intersect", [10] = "md_clear",
                 [14] = "serialize", [16] = "tsxldtrk", [18] = "pconfig", [20] = "ibt",
                 [22] = "amx_bf16", [24] = "amx_tile", [25] = "amx_int8",
                 [28] = "flush_l1d", [29] = "arch_capabilities" },
};

struct cpuid_info {
    uint32_t max, xmax, sig, misc, words[NWORDS];
    char vendor[13], model_name[49];
};

static void cpuid_read(struct cpuid_info *ci)
{
    uint32_t a, b, c, d;
    memset(ci, 0, sizeof(*ci));
    cpuid(0, 0, &ci->max, &b, &c, &d);
    memcpy(ci->vendor, &b, 4);
    memcpy(ci->vendor + 4, &d, 4);
    memcpy(ci->vendor + 8, &c, 4);
    cpuid(1, 0, &ci->sig, &ci->misc, &ci->words[W_1ECX], &ci->words[W_1EDX]);
    if (ci->max >= 7)
        cpuid(7, 0, &a, &ci->words[W_7EBX], &ci->words[W_7ECX], &ci->words[W_7EDX]);
    cpuid(0x80000000, 0, &ci->xmax, &b, &c, &d);
    if (ci->xmax >= 0x80000001)
        cpuid(0x80000001, 0, &a, &b, &ci->words[W_X1ECX], &ci->words[W_X1EDX]);
    if (ci->xmax >= 0x80000004) {
        uint32_t n[12];
        for (uint32_t leaf = 0; leaf < 3; leaf++)
            cpuid(0x80000002 + leaf, 0, &n[4 * leaf], &n[4 * leaf + 1], &n[4 * leaf + 2],
                  &n[4 * leaf + 3]);
        memcpy(ci->model_name, n, sizeof(n));   /* 48 bytes, NUL-padded */
    }
}

int proc_cpuinfo(char *buf, size_t size)
{
    struct sbuf out = { buf, size, 0 };
    struct cpuid_info ci;
    cpuid_read(&ci);
    unsigned family = (ci.sig >> 8) & 0xf, model = (ci.sig >> 4) & 0xf;
    if (family == 0xf)
        family += (ci.sig >> 20) & 0xff;
    if (family >= 6)
        model += ((ci.sig >> 16) & 0xf) << 4;
    const char *name = ci.model_name;
    while (*name == ' ')
        name++;
    uint64_t khz = tsc_hz() / 1000;
    unsigned ncpus = 0;
    for (unsigned i = 0; i < NR_CPUS; i++)
        ncpus += kstat_cpu_online(i);
    /* One block per online CPU, as Linux: the CPUID facts are the boot
     * CPU's (the CPUs of a PC are alike), the numbers each CPU's own. */
    for (unsigned cpu = 0, first = 1; cpu < NR_CPUS; cpu++) {
        if (!kstat_cpu_online(cpu))
            continue;
        if (!first)
            sbuf_put(&out, "power management:\n\n");
        first = 0;
        sbuf_put(&out, "processor\t: %u\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n"
                       "model name\t: %s\nstepping\t: %u\ncpu MHz\t\t: %lu.%03lu\n",
                 cpu, ci.vendor, family, model, *name ? name : "unknown", ci.sig & 0xf,
                 (unsigned long)(khz / 1000), (unsigned long)(khz % 1000));
        uint32_t a, b, c, d;
        if (ci.xmax >= 0x80000006) {
            cpuid(0x80000006, 0, &a, &b, &c, &d);
            sbuf_put(&out, "cache size\t: %u KB\n", c >> 16);
        }
        uint32_t apic = kstat_cpu_apic_id(cpu);
        sbuf_put(&out, "physical id\t: 0\nsiblings\t: %u\ncore id\t\t: %u\ncpu cores\t: %u\n"
                       "apicid\t\t: %u\ninitial apicid\t: %u\nfpu\t\t: %s\nfpu_exception\t: %s\n"
                       "cpuid level\t: %u\nwp\t\t: yes\nflags\t\t:",
                 ncpus, cpu, ncpus, apic, apic, ci.words[W_1EDX] & 1 ? "yes" : "no",
                 ci.words[W_1EDX] & 1 ? "yes" : "no", ci.max);
        for (int w = 0; w < NWORDS; w++)
            for (int bit = 0; bit < 32; bit++)
                if ((ci.words[w] >> bit) & 1 && flag_names[w][bit])
                    sbuf_put(&out, " %s", flag_names[w][bit]);
        unsigned clflush = ((ci.misc >> 8) & 0xff) * 8;
        sbuf_put(&out, "\nbugs\t\t:\nbogomips\t: %lu.%02lu\nclflush size\t: %u\n"
                       "cache_alignment\t: %u\n",
                 (unsigned long)(khz * 2 / 1000), (unsigned long)(khz * 2 % 1000 / 10), clflush,
                 clflush);
        if (ci.xmax >= 0x80000008) {
            cpuid(0x80000008, 0, &a, &b, &c, &d);
            sbuf_put(&out, "address sizes\t: %u bits physical, %u bits virtual\n", a & 0xff,
                     (a >> 8) & 0xff);
        }
    }
    sbuf_put(&out, "power management:\n\n");
    return (int)out.len;
}

/* ---- the rest ------------------------------------------------------------------------- */

int proc_version(char *buf, size_t size)
{
    return snprintf(buf, size, "Linux version " UTS_RELEASE " (mmk@mmk) (clang version %s) %s\n",
                    __clang_version__, KERNEL_TITLE);
}

int proc_filesystems(char *buf, size_t size)
{
    return snprintf(buf, size, "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\n");
}

int proc_cmdline(char *buf, size_t size)
{
    const char *line = boot_info ? boot_info->cmdline : "";
    return snprintf(buf, size, "%.*s\n", (int)strnlen(line, BOOT_CMDLINE_MAX), line);
}

/* What df and mount read: "device mountpoint type options 0 0". */
int proc_mounts(char *buf, size_t size)
{
    return snprintf(buf, size,
                    "tmpfs / tmpfs rw,size=%luk 0 0\n"
                    "proc /proc proc ro,nosuid,nodev,noexec 0 0\n"
                    "%s",
                    (unsigned long)(tmpfs_root_fs.max_pages * 4),
                    sysfs_fs.root ? "sysfs /sys sysfs ro,nosuid,nodev,noexec 0 0\n" : "");
}
