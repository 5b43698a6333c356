/*
 * The in-kernel test runner (see include/kernel/ktest.h).
 */
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include <mm/gfp.h>
#include <mm/slab.h>
#include <mm/vmalloc.h>

extern const struct ktest __ktests_start[], __ktests_end[];

static bool running;
static bool failed;
static char reason[256];

void ktest_settle(void)
{
    vmalloc_purge();
    drain_pcp();          /* every CPU's slab arrays back to their slabs */
    slab_shrink_all();    /* the empty slabs' frames */
    drain_pcp();          /* and the frames to the buddy lists */
}

bool ktest_running(void)
{
    return running;
}

void ktest_fail(const char *file, int line, const char *fmt, ...)
{
    if (failed)
        return;
    failed = true;
    int n = snprintf(reason, sizeof(reason), "%s:%d: ", file, line);
    if (n < 0 || (size_t)n >= sizeof(reason) - 1)
        return; /* the location filled the buffer */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason + n, sizeof(reason) - (size_t)n, fmt, ap);
    va_end(ap);
}

void qemu_exit(uint32_t code)
{
    outl(0xf4, code);
    /* Not under QEMU (or no isa-debug-exit device): just stop. */
    for (;;) {
        cli();
        hlt();
    }
}

/* The next comma-separated word of a selection: its start and length;
 * returns where the word after it starts, or NULL at the end. */
static const char *next_word(const char *p, size_t *len)
{
    const char *end = strchr(p, ',');
    *len = end ? (size_t)(end - p) : strlen(p);
    return end ? end + 1 : NULL;
}

/* Does a word of the selection name this test?  "vm_*" names every
 * test whose name starts with "vm_". */
static bool word_matches(const char *word, size_t len, const char *name)
{
    if (len && word[len - 1] == '*')
        return strncmp(word, name, len - 1) == 0;
    return strlen(name) == len && strncmp(word, name, len) == 0;
}

static const struct ktest *find(const char *word, size_t len)
{
    for (const struct ktest *t = __ktests_start; t < __ktests_end; t++)
        if (word_matches(word, len, t->name))
            return t;
    return NULL;
}

static bool selected(const char *sel, const char *name)
{
    size_t len;
    if (strcmp(sel, "all") == 0)
        return true;
    for (const char *p = sel, *next; p; p = next) {
        next = next_word(p, &len);
        if (word_matches(p, len, name))
            return true;
    }
    return false;
}

int ktest_run(const char *sel)
{
    int pass = 0, fail = 0;

    running = true;
    printk("ktest: running %s\n", sel);
    for (const struct ktest *t = __ktests_start; t < __ktests_end; t++) {
        if (!selected(sel, t->name))
            continue;
        failed = false;
        reason[0] = 0;
        t->fn();
        if (failed) {
            printk("not ok - %s: %s\n", t->name, reason);
            fail++;
        } else {
            printk("ok - %s\n", t->name);
            pass++;
        }
    }
    /* A name asked for that does not exist is a failure, not a silent skip. */
    if (strcmp(sel, "all") != 0) {
        size_t len;
        for (const char *p = sel, *next; p; p = next) {
            next = next_word(p, &len);
            if (len && !find(p, len)) {
                printk("not ok - %.*s: no such test\n", (int)len, p);
                fail++;
            }
        }
    }
    running = false;
    printk("%d passed, %d failed\n", pass, fail);
    return fail;
}
