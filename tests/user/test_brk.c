/*
 * test_brk: the program break, brk and sbrk.
 *
 * brk(2) as Linux has it: the system call returns the new break on success
 * and the unchanged break on failure (never an error code); the break may
 * be any byte address (sbrk(1) moves it by one byte), and pages are mapped
 * from the start of the heap up to the page that holds the last byte.
 * Checked: growing and shrinking; memory given back by a shrink is unmapped
 * (a child touching it dies with SIGSEGV) and reads back as zero when the
 * break grows again; 5000 sbrk(1) calls return contiguous addresses; huge
 * requests (beyond memory, beyond user space, to the top of the address
 * space, below the start of the heap, into an existing mapping) fail and
 * change nothing.
 *
 * musl's sbrk() refuses any increment other than 0 (musl keeps the break
 * for its own malloc), so xsbrk() here is the program's own, on top of the
 * system call, as glibc's is.  musl's malloc also moves the break, so this
 * program never calls malloc (nor does ut.c); stdout's buffer is static.
 */
#include "ut.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static uintptr_t brk_call(uintptr_t addr)
{
    return (uintptr_t)syscall(SYS_brk, addr);
}

/* sbrk as in glibc: the old break, or (void *)-1 with ENOMEM. */
static void *xsbrk(intptr_t inc)
{
    uintptr_t cur = brk_call(0);
    if (inc == 0)
        return (void *)cur;
    uintptr_t want = cur + (uintptr_t)inc;
    if ((inc > 0 && want < cur) || (inc < 0 && want > cur) || brk_call(want) != want) {
        errno = ENOMEM;
        return (void *)-1;
    }
    return (void *)cur;
}

static uintptr_t page_up(uintptr_t a)
{
    return (a + PAGE - 1) & ~(PAGE - 1);
}

static int touch_child(void *addr)
{
    *(volatile char *)addr = 1;
    return 0;
}

int main(void)
{
    ut_init();
    char why[64];
    uintptr_t b0 = brk_call(0);
    ut_check(b0 != 0 && brk_call(0) == b0 && (uintptr_t)xsbrk(0) == b0, "brk0_is_stable",
             "brk(0) answers differ");

    /* Grow by three pages and use them. */
    char *p = xsbrk(3 * PAGE);
    ut_check((uintptr_t)p == b0 && brk_call(0) == b0 + 3 * PAGE, "sbrk_grow_returns_old_break",
             "sbrk returned the wrong address");
    memset(p, 'g', 3 * PAGE);
    int ok = 1;
    for (size_t i = 0; i < 3 * PAGE; i++)
        ok &= p[i] == 'g';
    ut_check(ok, "grown_heap_is_usable", "data read back wrong");

    /* Shrink by two pages: the freed pages are gone... */
    char *q = xsbrk(-(intptr_t)(2 * PAGE));
    uintptr_t b1 = brk_call(0);
    ut_check((uintptr_t)q == b0 + 3 * PAGE && b1 == b0 + PAGE, "sbrk_shrink", "break now %s",
             b1 == b0 + PAGE ? "right" : "wrong");
    int st = ut_run_child(touch_child, (void *)(page_up(b1) + PAGE));
    ut_check(ut_killed_by(st, SIGSEGV), "shrunk_heap_unmapped", "child touching it: %s",
             ut_status_str(st, why, sizeof why));
    ok = 1;
    for (size_t i = 0; i < PAGE; i++)
        ok &= p[i] == 'g';
    ut_check(ok, "shrink_keeps_the_rest", "data below the new break changed");
    /* ...and read back as zero when the break grows again. */
    xsbrk(2 * PAGE);
    ok = 1;
    for (uintptr_t a = page_up(b1); a < b0 + 3 * PAGE; a++)
        ok &= *(char *)a == 0;
    ut_check(ok, "regrown_heap_reads_zero", "old data came back");

    /* 5000 sbrk(1): contiguous, byte by byte, across page boundaries. */
    uintptr_t start = (uintptr_t)xsbrk(0);
    int contiguous = 1;
    for (int i = 0; i < 5000; i++) {
        char *c = xsbrk(1);
        if ((uintptr_t)c != start + (uintptr_t)i) {
            contiguous = 0;
            break;
        }
        *c = (char)i;
    }
    ut_check(contiguous && brk_call(0) == start + 5000, "sbrk1_5000_times_contiguous",
             "a call returned a non-contiguous address");
    ok = 1;
    for (int i = 0; i < 5000; i++)
        ok &= *(char *)(start + (uintptr_t)i) == (char)i;
    ut_check(ok, "sbrk1_bytes_hold_their_values", "data read back wrong");

    /* Huge requests fail cleanly: the break does not move. */
    uintptr_t cur = brk_call(0);
    /* (On i386 no request is beyond memory: a host with more than 3 GiB
     * grants any break that fits the address space, so the 64-bit-only
     * cases are left out there.) */
    struct { const char *name; uintptr_t addr; } huge[] = {
#if UINTPTR_MAX > 0xffffffffu
        { "brk_beyond_memory_fails",       cur + ((uintptr_t)1 << 44) },
        { "brk_into_kernel_half_fails",    (uintptr_t)0xffff800000000000ULL },
        { "brk_non_canonical_fails",       (uintptr_t)0x0000800000000000ULL },
#endif
        { "brk_to_top_of_address_space_fails", UINTPTR_MAX & ~(PAGE - 1) },
        { "brk_below_heap_start_fails",    b0 - 16 * PAGE },
    };
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        uintptr_t r = brk_call(huge[i].addr);
        uintptr_t now = brk_call(0);
        ut_check(r == cur && now == cur, huge[i].name, "break %s",
                 r == cur ? "unchanged but brk(0) differs" : "moved");
        if (now != cur)
            brk_call(cur);          /* keep the next cases independent */
    }
#if UINTPTR_MAX > 0xffffffffu
    errno = 0;
    void *w = xsbrk(INTPTR_MAX);
    ut_check(w == (void *)-1 && errno == ENOMEM && brk_call(0) == cur, "sbrk_intptr_max_fails_enomem",
             "sbrk returned %s, errno %s", w == (void *)-1 ? "-1" : "an address",
             ut_errno_name(errno));
#endif
    ok = 1;
    for (int i = 0; i < 5000; i++)
        ok &= *(char *)(start + (uintptr_t)i) == (char)i;
    ut_check(ok, "heap_intact_after_failures", "data changed");

    /* A mapping just above the break blocks growth into it. */
    uintptr_t hint = page_up(cur) + 16 * PAGE;
    char *m = mmap((void *)hint, PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    ut_check(m == (char *)hint, "mmap_fixed_noreplace_above_break", "mmap %s",
             m == MAP_FAILED ? ut_errno_name(errno) : "placed it elsewhere");
    if (m == (char *)hint) {
        m[0] = 'm';
        uintptr_t r = brk_call(hint + 8 * PAGE);
        ut_check(r == cur && m[0] == 'm', "brk_into_mapping_fails", "break %s",
                 r == cur ? "unchanged but mapping changed" : "moved");
        munmap(m, PAGE);
        r = brk_call(hint + 8 * PAGE);
        ut_check(r == hint + 8 * PAGE, "brk_grows_once_mapping_gone", "break did not move");
        *(volatile char *)(hint + 8 * PAGE - 1) = 1;
        brk_call(cur);
    }
    ut_check(brk_call(cur) == cur, "brk_back_to_previous", "could not shrink back");
    return ut_done();
}
