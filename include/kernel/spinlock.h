/*
 * Spinlocks and the lock-order checker (kernel/lib/spinlock.c;
 * docs/smp.md, "Locks and their order").
 *
 * A spinlock is a word that one CPU at a time may own: spin_lock swaps 1
 * into it until it read 0 (x86's xchg is atomic and a full barrier),
 * spin_unlock stores 0 (a release: x86 keeps stores in order).  The
 * _irqsave forms also turn interrupts off on this CPU, for a lock an
 * interrupt handler takes too: otherwise the handler could spin forever on
 * a lock its own CPU holds.
 *
 * The checker (Linux's lockdep, much reduced): each lock belongs to a
 * class, named at its definition (locks of one name share one), and
 * every acquisition records "class B taken while holding class A".  Taking
 * B while holding A when B -> ... -> A was recorded before is an order
 * inversion: two CPUs doing one each can deadlock.  It is reported once
 * per pair, as is taking a lock already held, releasing one not held,
 * and sleeping (schedule) with a spinlock held.  It runs when enabled:
 * the `lockdep` command-line option, DEBUG builds, or lockdep_enable.
 * The order the kernel follows is documented in docs/smp.md.
 */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

typedef struct spinlock {
    volatile uint32_t locked;
    uint16_t cls;            /* the checker's class + 1 (0: not seen yet) */
    uint16_t pad;
    const char *name;        /* the class: locks of one name are one class */
} spinlock_t;

#define SPINLOCK_INIT(lname) { 0, 0, 0, lname }
#define DEFINE_SPINLOCK(var) spinlock_t var = SPINLOCK_INIT(#var)

#ifdef HOST_TEST
/* The host tests and benchmarks run the memory code on one thread:
 * nothing to wait for; a lock taken twice (a deadlock in the kernel) or
 * released unheld stops the test at once. */
static inline void spin_lock(spinlock_t *l)
{
    if (l->locked)
        __builtin_trap();
    l->locked = 1;
}
static inline void spin_unlock(spinlock_t *l)
{
    if (!l->locked)
        __builtin_trap();
    l->locked = 0;
}
static inline bool spin_is_locked(const spinlock_t *l) { return l->locked; }
#else
void spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);
/* Interrupts off, then the lock; the returned flags give them back. */
uint64_t spin_lock_irqsave(spinlock_t *l);
void spin_unlock_irqrestore(spinlock_t *l, uint64_t flags);
bool spin_is_locked(const spinlock_t *l);
#endif

/* ---- the checker ---- */
#define LOCKDEP_CLASSES 64
#define LOCKDEP_DEPTH 16
void lockdep_enable(bool on);
bool lockdep_enabled(void);
/* Reports made so far (a counter that only grows) and the last one. */
uint64_t lockdep_reports(void);
const char *lockdep_last_report(void);
/* Called where the CPU may sleep (schedule): a spinlock held there is
 * reported. */
void lockdep_might_sleep(const char *where);
/* Forget the recorded order (tests only: a class pair reported once). */
void lockdep_reset(void);

#endif
