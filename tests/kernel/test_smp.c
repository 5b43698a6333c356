/*
 * In-kernel tests of the CPUs' start (kernel/cpu/smpboot.c; docs/smp.md):
 * every CPU the MADT lists answered (or, for the ghost that smp.ghost=ID
 * adds on purpose, was given up), each with its own APIC id and stack;
 * and of the lock-order checker (kernel/lib/spinlock.c).
 */
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/spinlock.h>
#include <kernel/string.h>
#include <kernel/x86.h>

KTEST(smp_cpus_started)
{
    unsigned online = 0;
    KT_ASSERT(nr_cpus_possible >= 1 && nr_cpus_possible <= NR_CPUS, "%u CPUs",
              nr_cpus_possible);
    KT_ASSERT(cpu_info[0].online && cpu_info[0].cpu == 0, "the boot CPU is not CPU 0");
    for (unsigned i = 0; i < nr_cpus_possible; i++) {
        const struct cpu_info *c = &cpu_info[i];
        online += c->online;
        KT_ASSERT(c->cpu == i, "cpu_info[%u] says CPU %u", i, c->cpu);
        for (unsigned j = 0; j < i; j++)
            KT_ASSERT(cpu_info[j].apic_id != c->apic_id, "CPUs %u and %u share APIC id %#x",
                      j, i, c->apic_id);
        if (i && c->online) {
            KT_ASSERT(c->started_tsc && c->started_tsc <= rdtsc(), "CPU %u never started", i);
            KT_ASSERT(c->stack_top, "CPU %u has no stack", i);
        }
        for (unsigned j = 0; i && c->online && j < i; j++)
            KT_ASSERT(cpu_info[j].stack_top != c->stack_top || !j, "CPUs %u and %u share a "
                      "stack", j, i);
    }
    KT_ASSERT(online == nr_cpus_online, "%u online, nr_cpus_online %u", online, nr_cpus_online);
}

/* ---- locks and the lock-order checker (kernel/lib/spinlock.c) ---------------------- */


/* A deliberately inverted pair: A then B, later B then A.  The checker
 * must say so (once), and a lock taken twice, a release of a lock not
 * held and a sleep with a lock held are reported too. */
KTEST(lockdep_finds_inversion)
{
    static DEFINE_SPINLOCK(test_lock_a);
    static DEFINE_SPINLOCK(test_lock_b);
    bool was = lockdep_enabled();
    lockdep_enable(true);
    lockdep_reset();
    uint64_t r0 = lockdep_reports();
    spin_lock(&test_lock_a);
    spin_lock(&test_lock_b);
    spin_unlock(&test_lock_b);
    spin_unlock(&test_lock_a);
    bool quiet = lockdep_reports() == r0;          /* one order: nothing to say */
    uint64_t f = spin_lock_irqsave(&test_lock_b);
    spin_lock(&test_lock_a);                        /* the inversion */
    uint64_t r1 = lockdep_reports();
    char msg[200];
    snprintf(msg, sizeof(msg), "%s", lockdep_last_report());
    spin_unlock(&test_lock_a);
    spin_unlock_irqrestore(&test_lock_b, f);
    spin_lock(&test_lock_b);                        /* again: reported once only */
    spin_lock(&test_lock_a);
    spin_unlock(&test_lock_a);
    spin_unlock(&test_lock_b);
    uint64_t r2 = lockdep_reports();
    spin_lock(&test_lock_a);
    lockdep_might_sleep("schedule");                /* a sleep with a lock held */
    uint64_t r3 = lockdep_reports();
    spin_unlock(&test_lock_a);
    spin_unlock(&test_lock_a);                      /* not held any more */
    uint64_t r4 = lockdep_reports();
    lockdep_enable(was);
    KT_ASSERT(quiet, "one order was reported: %s", lockdep_last_report());
    KT_ASSERT(r1 == r0 + 1 && strstr(msg, "order inversion") &&
                  strstr(msg, "test_lock_a taken while holding test_lock_b"),
              "inversion: %lu reports, \"%s\"", r1 - r0, msg);
    KT_ASSERT(r2 == r1, "the same inversion reported %lu more times", r2 - r1);
    KT_ASSERT(r3 == r2 + 1, "sleep with a lock held: %lu reports", r3 - r2);
    KT_ASSERT(r4 == r3 + 1 && strstr(lockdep_last_report(), "released but not held"),
              "bad release: \"%s\"", lockdep_last_report());
    KT_ASSERT(!spin_is_locked(&test_lock_a) && !spin_is_locked(&test_lock_b), "still locked");
}
