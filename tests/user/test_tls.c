/*
 * test_tls: each process keeps its own thread pointer.
 *
 * A 64-bit program's thread pointer is the FS base (arch_prctl
 * ARCH_SET_FS); a 32-bit one's is the base of a GDT descriptor that
 * set_thread_area installs and the program loads into a segment register
 * (musl uses GS; this test uses FS for its own descriptors, so that libc
 * keeps working).  Checked, for the build's own mode:
 *  - the C library's thread block is where the kernel says it is;
 *  - (i386) set_thread_area picks a free entry and writes its number back,
 *    get_thread_area reads the descriptor back, bad requests get EINVAL or
 *    EFAULT, a cleared entry reads back empty;
 *  - a fork child starts with its parent's thread pointer;
 *  - parent and child, each with another block behind the SAME selector
 *    (i386) or FS (x86-64), read their own block for many time slices: a
 *    task switch that did not switch the descriptors, or did not reload
 *    the segment register, shows up as a read of the other's block.
 * No address or entry number is printed: they differ between Linux and mmk.
 */
#include "ut.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SPINS 50000000L   /* a second or more under QEMU: many time slices */

/* Two "thread blocks": word 0 is what a read of %fs:0 must give. */
static uintptr_t block_a[4] = { 0xaaaa1111u, 0xaaaa2222u };
static uintptr_t block_b[4] = { 0xbbbb1111u, 0xbbbb2222u };

/* Read %fs:0 `spins` times; how many reads did not give want. */
static long spin_fs(uintptr_t want, long spins)
{
    long bad = 0;
    for (long i = 0; i < spins; i++) {
        uintptr_t v;
        __asm__ volatile("mov %%fs:0, %0" : "=r"(v));
        bad += v != want;
    }
    return bad;
}

#if defined(__i386__)

/* Linux's struct user_desc (asm/ldt.h), the bit fields as masks. */
struct user_desc {
    uint32_t entry_number, base_addr, limit, flags;
};
#define SEG_32BIT       0x01u
#define CONTENTS_CODE   0x04u    /* contents = 2 */
#define READ_EXEC_ONLY  0x08u
#define LIMIT_IN_PAGES  0x10u
#define SEG_NOT_PRESENT 0x20u
#define USEABLE         0x40u

static long set_area(struct user_desc *u)
{
    return syscall(SYS_set_thread_area, u);
}

static long get_area(struct user_desc *u)
{
    return syscall(SYS_get_thread_area, u);
}

static void load_fs(uint16_t sel)
{
    __asm__ volatile("mov %0, %%fs" : : "r"(sel) : "memory");
}

static int mode_checks(void)
{
    uint16_t gs;
    uintptr_t self;
    __asm__ volatile("mov %%gs, %0" : "=r"(gs));
    __asm__ volatile("mov %%gs:0, %0" : "=r"(self));
    struct user_desc u = { .entry_number = gs >> 3 };
    ut_check(get_area(&u) == 0 && u.base_addr == self, "gs_names_the_thread_block",
             "get_thread_area of the GS entry: %s", ut_errno_name(errno));

    struct user_desc a = { 0xffffffffu, (uint32_t)(uintptr_t)block_a, 0xfffff,
                           SEG_32BIT | LIMIT_IN_PAGES | USEABLE };
    long r = set_area(&a);
    int picked = r == 0 && a.entry_number != 0xffffffffu && a.entry_number != (gs >> 3u);
    ut_check(picked, "set_thread_area_picks_a_free_entry", "returned %ld (%s)", r,
             ut_errno_name(errno));
    if (!picked)
        return 0;
    uint16_t sel = (uint16_t)(a.entry_number << 3 | 3);
    load_fs(sel);
    uintptr_t w0, w1;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(w0));
    __asm__ volatile("mov %%fs:4, %0" : "=r"(w1));
    ut_check(w0 == block_a[0] && w1 == block_a[1], "fs_reads_through_the_new_entry",
             "read other words");
    struct user_desc g = { .entry_number = a.entry_number };
    ut_check(get_area(&g) == 0 && g.base_addr == (uint32_t)(uintptr_t)block_a &&
             g.limit == 0xfffff && (g.flags & 0x7f) == (SEG_32BIT | LIMIT_IN_PAGES | USEABLE),
             "get_thread_area_gives_it_back", "flags %#x", g.flags);

    struct user_desc bad = a;
    bad.entry_number = 1;
    r = set_area(&bad);
    ut_check_errno("set_thread_area_not_a_tls_entry_einval", r, EINVAL);
    bad = a;
    bad.flags |= CONTENTS_CODE;
    r = set_area(&bad);
    ut_check_errno("set_thread_area_code_segment_einval", r, EINVAL);
    bad = a;
    bad.flags &= ~SEG_32BIT;
    r = set_area(&bad);
    ut_check_errno("set_thread_area_16bit_segment_einval", r, EINVAL);
    r = set_area(NULL);
    ut_check_errno("set_thread_area_null_efault", r, EFAULT);
    struct user_desc far = { .entry_number = 200 };
    r = get_area(&far);
    ut_check_errno("get_thread_area_not_a_tls_entry_einval", r, EINVAL);

    /* Fork: the child starts with the parent's entry, then puts block_b
     * behind the same selector; both read their own for a while. */
    pid_t c = ut_fork();
    if (c == 0) {
        uintptr_t first;
        __asm__ volatile("mov %%fs:0, %0" : "=r"(first));
        struct user_desc b = a;
        b.base_addr = (uint32_t)(uintptr_t)block_b;
        if (set_area(&b))
            _exit(3);
        load_fs(sel);
        long n = spin_fs(block_b[0], SPINS);
        _exit((first == block_a[0] ? 0 : 1) | (n ? 2 : 0));
    }
    long n = spin_fs(block_a[0], SPINS);
    int st = ut_wait(c);
    ut_check(n == 0, "parent_keeps_its_descriptor", "%ld reads saw another block", n);
    ut_check(ut_exited_with(st, 0), "child_inherits_then_keeps_its_descriptor",
             "child status %#x (1: not inherited, 2: lost across switches, 3: set failed)",
             WIFEXITED(st) ? WEXITSTATUS(st) : st);

    /* A new base for the entry FS holds is seen at once: set_thread_area
     * reloads the segment registers holding the entry (Linux does). */
    struct user_desc nb = a;
    nb.base_addr = (uint32_t)(uintptr_t)block_b;
    r = set_area(&nb);
    uintptr_t w2;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(w2));
    ut_check(r == 0 && w2 == block_b[0], "new_base_seen_at_once", "set %ld, fs:0 %s", r,
             w2 == block_a[0] ? "still the old block" : "another word");

    load_fs(0);
    struct user_desc clear = { .entry_number = a.entry_number };
    r = set_area(&clear);
    struct user_desc e = { .entry_number = a.entry_number };
    ut_check(r == 0 && get_area(&e) == 0 && e.base_addr == 0 && e.limit == 0 &&
             (e.flags & 0x7f) == (READ_EXEC_ONLY | SEG_NOT_PRESENT),
             "cleared_entry_reads_back_empty", "flags %#x", e.flags);
    return 0;
}

#else /* x86-64 */

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

/* arch_prctl without libc: while FS points elsewhere, libc's errno and
 * its thread block are out of reach. */
static long raw_arch_prctl(long code, unsigned long addr)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"((long)SYS_arch_prctl), "D"(code), "S"(addr)
                     : "rcx", "r11", "memory");
    return r;
}

/* FS on block for a while; FS restored.  How many reads missed. */
static long spin_with_fs(uintptr_t *block, long spins)
{
    unsigned long old;
    raw_arch_prctl(ARCH_GET_FS, (unsigned long)&old);
    raw_arch_prctl(ARCH_SET_FS, (unsigned long)block);
    long n = spin_fs(block[0], spins);
    raw_arch_prctl(ARCH_SET_FS, old);
    return n;
}

static int mode_checks(void)
{
    unsigned long fs = 0;
    uintptr_t self;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(self));
    ut_check(raw_arch_prctl(ARCH_GET_FS, (unsigned long)&fs) == 0 && fs == self,
             "fs_base_is_the_thread_block", "ARCH_GET_FS disagrees with %%fs:0");
    long r = syscall(SYS_arch_prctl, 0x9999, 0);
    ut_check_errno("arch_prctl_unknown_code_einval", r, EINVAL);

    pid_t c = ut_fork();
    if (c == 0) {
        uintptr_t first;
        __asm__ volatile("mov %%fs:0, %0" : "=r"(first));
        long n = spin_with_fs(block_b, SPINS);
        _exit((first == self ? 0 : 1) | (n ? 2 : 0));
    }
    long n = spin_with_fs(block_a, SPINS);
    int st = ut_wait(c);
    ut_check(n == 0, "parent_keeps_its_fs_base", "%ld reads saw another block", n);
    ut_check(ut_exited_with(st, 0), "child_inherits_then_keeps_its_fs_base",
             "child status %#x (1: not inherited, 2: lost across switches)",
             WIFEXITED(st) ? WEXITSTATUS(st) : st);
    return 0;
}

#endif

int main(void)
{
    ut_init();
    mode_checks();
    /* errno lives in the thread block: it still works afterwards */
    errno = 0;
    long r = syscall(SYS_close, -1);
    ut_check_errno("errno_still_works", r, EBADF);
    return ut_done();
}
