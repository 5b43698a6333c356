/*
 * In-kernel tests of the system-call tables (docs/syscalls.md): Linux's
 * names of both tables (kernel/proc/syscall_names.c,
 * compat32/syscall32_names.c), and -ENOSYS for a call without a handler,
 * a number Linux leaves empty and one beyond both tables, through the
 * real dispatchers.  The user programs (test_syscalls) check -ENOSYS
 * from user mode.
 */
#include <compat32/compat32.h>
#include <kernel/errno.h>
#include <kernel/ktest.h>
#include <kernel/string.h>
#include <kernel/syscall.h>

static bool named(const char *got, const char *want)
{
    return got && strcmp(got, want) == 0;
}

KTEST(syscall_names_64)
{
    static const struct { unsigned nr; const char *name; } cases[] = {
        { 0, "read" }, { 56, "clone" }, { 58, "vfork" }, { 157, "prctl" },
        { 202, "futex" }, { 270, "pselect6" }, { 302, "prlimit64" }, { 334, "rseq" },
        { 424, "pidfd_send_signal" }, { 435, "clone3" }, { 469, "file_setattr" },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        KT_ASSERT(named(syscall_name(cases[i].nr), cases[i].name), "x86-64 %u is not %s",
                  cases[i].nr, cases[i].name);
    for (unsigned nr = 0; nr < NR_SYSCALLS; nr++)
        KT_ASSERT((nr > 334 && nr < 424) || syscall_name(nr), "x86-64 %u has no name", nr);
    KT_ASSERT(!syscall_name(335) && !syscall_name(423) && !syscall_name(NR_SYSCALLS),
              "a number Linux does not use has a name");
}

KTEST(syscall_names_i386)
{
    static const struct { unsigned nr; const char *name; } cases[] = {
        { 0, "restart_syscall" }, { 82, "select" }, { 120, "clone" }, { 142, "_newselect" },
        { 190, "vfork" }, { 191, "ugetrlimit" }, { 240, "futex" }, { 386, "rseq" },
        { 393, "semget" }, { 414, "ppoll_time64" }, { 435, "clone3" }, { 469, "file_setattr" },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        KT_ASSERT(named(syscall32_name(cases[i].nr), cases[i].name), "i386 %u is not %s",
                  cases[i].nr, cases[i].name);
    static const unsigned holes[] = { 222, 223, 251, 285, 387, 392, 415 };
    for (unsigned i = 0; i < sizeof(holes) / sizeof(holes[0]); i++)
        KT_ASSERT(!syscall32_name(holes[i]), "i386 %u should have no name", holes[i]);
    KT_ASSERT(!syscall32_name(NR32_SYSCALLS), "a name beyond the table");
}

/* Run one call through a dispatcher with no arguments: its result. */
static long dispatch64(uint64_t nr)
{
    struct trap_frame f;
    memset(&f, 0, sizeof(f));
    f.rax = nr;
    syscall_dispatch(&f);
    return (long)f.rax;
}

static long dispatch32(uint32_t nr)
{
    struct trap_frame f;
    memset(&f, 0, sizeof(f));
    f.rax = nr;
    syscall32_dispatch(&f);
    return (long)f.rax;
}

KTEST(syscall_enosys)
{
    KT_ASSERT(dispatch64(NR_rseq) == -ENOSYS, "x86-64 rseq: %ld", dispatch64(NR_rseq));
    KT_ASSERT(dispatch64(NR_clone3) == -ENOSYS, "x86-64 clone3");
    KT_ASSERT(dispatch64(400) == -ENOSYS, "x86-64 400 (unused)");
    KT_ASSERT(dispatch64(100000) == -ENOSYS, "x86-64 100000");
    KT_ASSERT(dispatch32(386) == -ENOSYS, "i386 rseq");
    KT_ASSERT(dispatch32(222) == -ENOSYS, "i386 222 (unused)");
    KT_ASSERT(dispatch32(100000) == -ENOSYS, "i386 100000");
}
