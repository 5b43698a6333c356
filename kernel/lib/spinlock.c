/*
 * Spinlocks and the lock-order checker (include/kernel/spinlock.h).
 *
 * The checker keeps, per class, the set of classes taken while it was
 * held (after[]: one bit per class, LOCKDEP_CLASSES of them) and the
 * stack of locks the CPU holds now.  Taking lock L of class c while
 * holding locks of classes h1..hn: for each hi, if c can already reach hi
 * through after[] (a depth-first search over at most 64 classes), taking
 * them in this order is the reverse of an order seen before: reported,
 * once per pair.  Then after[hi] gains c.
 *
 * Invariants: cpus[c].held[0..depth) are the locks CPU c holds, in the
 * order taken (each CPU has its own stack, found through
 * smp_processor_id); a class id is assigned once per name and never
 * changes; the checker only reads and writes its tables with interrupts
 * off (a lock taken by an interrupt handler is checked like any other)
 * and, for the tables every CPU shares (the classes, after[], the
 * reports), while holding `graph`, a bare lock the checker does not
 * check itself.
 */
#include <stdarg.h>
#include <kernel/spinlock.h>
#include <kernel/percpu.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/x86.h>

#define IF_FLAG (1ul << 9)

#if defined(DEBUG) && DEBUG
static bool enabled = true;     /* DEBUG builds check every lock */
#else
static bool enabled;            /* the `lockdep` option, or lockdep_enable */
#endif

static const char *class_name[LOCKDEP_CLASSES];
static unsigned nr_classes;
static uint64_t after[LOCKDEP_CLASSES];
static uint64_t reported[LOCKDEP_CLASSES];    /* pairs (i, j) already reported */
static struct {
    const spinlock_t *held[LOCKDEP_DEPTH];
    unsigned depth;
    unsigned untracked;         /* locks taken past LOCKDEP_DEPTH, not in held[] */
} cpus[NR_CPUS];
static volatile uint32_t graph; /* the shared tables' lock (not itself checked) */
static uint64_t reports;
static char last[200];

void lockdep_enable(bool on)
{
    enabled = on;
}

bool lockdep_enabled(void)
{
    return enabled;
}

uint64_t lockdep_reports(void)
{
    return reports;
}

const char *lockdep_last_report(void)
{
    return last;
}

void lockdep_reset(void)
{
    for (unsigned i = 0; i < LOCKDEP_CLASSES; i++)
        after[i] = reported[i] = 0;
    for (unsigned c = 0; c < NR_CPUS; c++)
        cpus[c].depth = cpus[c].untracked = 0;
}

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last, sizeof(last), fmt, ap);
    va_end(ap);
    reports++;
    printk("lockdep: %s\n", last);
}

/* The class of l, assigned at its first acquisition; -1 when the table
 * is full (that lock is then not checked, and it is said once). */
static int class_of(spinlock_t *l)
{
    if (l->cls)
        return l->cls - 1;
    for (unsigned i = 0; i < nr_classes; i++)
        if (class_name[i] == l->name) {
            l->cls = (uint16_t)(i + 1);
            return (int)i;
        }
    if (nr_classes == LOCKDEP_CLASSES) {
        static bool said;
        if (!said) {
            said = true;
            report("more than %u lock classes: %s and later ones not checked",
                   LOCKDEP_CLASSES, l->name);
        }
        return -1;
    }
    class_name[nr_classes] = l->name;
    l->cls = (uint16_t)(nr_classes + 1);
    return (int)nr_classes++;
}

/* Can class `from` reach class `to` through after[]? */
static bool reaches(unsigned from, unsigned to)
{
    uint64_t seen = 1ul << from, todo = 1ul << from;
    while (todo) {
        unsigned c = (unsigned)__builtin_ctzl(todo);
        todo &= todo - 1;
        if (c == to)
            return true;
        uint64_t next = after[c] & ~seen;
        seen |= next;
        todo |= next;
    }
    return false;
}

static void check_acquire(spinlock_t *l)
{
    const spinlock_t **held = cpus[smp_processor_id()].held;
    unsigned *depth = &cpus[smp_processor_id()].depth;
    int c = class_of(l);
    for (unsigned i = 0; i < *depth; i++) {
        if (held[i] == l) {
            report("%s taken again while held: it would spin forever", l->name);
            return;
        }
        int h = held[i]->cls ? held[i]->cls - 1 : -1;
        if (c < 0 || h < 0 || h == c)
            continue;
        if (reaches((unsigned)c, (unsigned)h) && !(reported[h] >> c & 1)) {
            reported[h] |= 1ul << c;
            report("order inversion: %s taken while holding %s, but %s was taken while "
                   "holding %s before: two CPUs doing one each would deadlock",
                   l->name, held[i]->name, held[i]->name, l->name);
        }
        after[h] |= 1ul << c;
    }
    if (*depth == LOCKDEP_DEPTH) {
        if (!cpus[smp_processor_id()].untracked++)
            report("more than %u locks held at once: %s not tracked", LOCKDEP_DEPTH, l->name);
    } else
        held[(*depth)++] = l;
}

static void check_release(const spinlock_t *l)
{
    const spinlock_t **held = cpus[smp_processor_id()].held;
    unsigned *depth = &cpus[smp_processor_id()].depth;
    for (unsigned i = *depth; i-- > 0;) {
        if (held[i] != l)
            continue;
        for (unsigned j = i; j + 1 < *depth; j++)
            held[j] = held[j + 1];
        (*depth)--;
        return;
    }
    if (cpus[smp_processor_id()].untracked) {  /* taken past the depth: not an error */
        cpus[smp_processor_id()].untracked--;
        return;
    }
    report("%s released but not held", l->name);
}

void lockdep_might_sleep(const char *where)
{
    unsigned d = cpus[smp_processor_id()].depth;
    if (enabled && d)
        report("%s with %s held (a spinlock must not be held across a sleep)", where,
               cpus[smp_processor_id()].held[d - 1]->name);
}

/* The checker's tables are changed with interrupts off, the shared ones
 * under `graph`. */
static void checked(void (*fn)(spinlock_t *), spinlock_t *l)
{
    uint64_t f = read_rflags();
    cli();
    while (__atomic_exchange_n(&graph, 1, __ATOMIC_ACQUIRE))
        while (graph)
            cpu_relax();
    fn(l);
    __atomic_store_n(&graph, 0, __ATOMIC_RELEASE);
    if (f & IF_FLAG)
        sti();
}

static void release_fn(spinlock_t *l)
{
    check_release(l);
}

void spin_lock(spinlock_t *l)
{
    if (enabled)
        checked(check_acquire, l);
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        while (l->locked)
            cpu_relax();
}

void spin_unlock(spinlock_t *l)
{
    if (enabled)
        checked(release_fn, l);
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

uint64_t spin_lock_irqsave(spinlock_t *l)
{
    uint64_t f = read_rflags();
    cli();
    spin_lock(l);
    return f;
}

void spin_unlock_irqrestore(spinlock_t *l, uint64_t flags)
{
    spin_unlock(l);
    if (flags & IF_FLAG)
        sti();
}

bool spin_is_locked(const spinlock_t *l)
{
    return l->locked != 0;
}
