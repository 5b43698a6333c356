/*
 * In-kernel tests: named cases registered in a table (the `ktests`
 * linker section), selected with ktest=all or ktest=name1,name2 on the
 * command line.  Each case prints "ok - name" or "not ok - name: reason";
 * the run ends with "N passed, N failed" and leaves QEMU through
 * isa-debug-exit (kernel/test/ktest.c, docs/testing.md).
 *
 *   KTEST(bootinfo_magic) {
 *       KT_ASSERT(bi->magic == BOOT_INFO_MAGIC, "magic %lx", bi->magic);
 *   }
 */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include <kernel/types.h>

struct ktest {
    const char *name;
    void (*fn)(void);
};

#define KTEST(tname)                                                        \
    static void kt_##tname(void);                                           \
    static const struct ktest kt_rec_##tname                                \
        __attribute__((used, section("ktests"), aligned(8))) = {            \
            #tname, kt_##tname };                                           \
    static void kt_##tname(void)

/* Record a failure (the first one is the reported reason). */
void ktest_fail(const char *file, int line, const char *fmt, ...) __printf(3, 4);

#define KT_ASSERT(cond, ...)                                                \
    do {                                                                    \
        if (!(cond)) {                                                      \
            ktest_fail(__FILE__, __LINE__, __VA_ARGS__);                    \
            return;                                                         \
        }                                                                   \
    } while (0)

/* Run the selected tests; returns the number of failures. */
int ktest_run(const char *selection);
bool ktest_running(void);
/* Give back what the kernel keeps between cases on purpose, before a case
 * counts free frames or live objects: the lazily freed vmalloc areas
 * (whose descriptors are slab objects), every CPU's slab arrays and frame
 * caches, the empty slabs. */
void ktest_settle(void);

/* QEMU isa-debug-exit (iobase 0xf4): the process exits with (code<<1)|1. */
#define QEMU_EXIT_PASS 0x10  /* QEMU exit status 33 */
#define QEMU_EXIT_FAIL 0x11  /* QEMU exit status 35 */
void qemu_exit(uint32_t code);

#endif
