/*
 * test_pte: a 32-bit process reads its own page tables in the documents'
 * format, through SOS's mirror (docs/compat32.md).
 *
 * With compat32.mirror=ro on the kernel's command line, the page tables
 * of a 32-bit process appear read-only in its own address space: the
 * page table of PDE i at 0xffc00000 + i * 4096, so the PTE of address va
 * is the 32-bit word at 0xffc00000 + (va >> 12) * 4, and the directory
 * at 0xfffff000, so the PDE of va is the word at 0xfffff000 + (va >> 22) * 4.
 * The checks follow one page through its life and watch the bits the
 * i386 MMU would have set: P when the kernel maps it, A at the first
 * access, D at the first write, R/W cleared by fork's copy-on-write and
 * given back at the next write.
 *
 * Only meaningful on mmk in 32-bit mode: elsewhere (the host, or a 64-bit
 * build) every check is skipped, which the comparison with the host
 * accepts.
 */
#include "ut.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIRROR_PT 0xffc00000u
#define MIRROR_PD 0xfffff000u
#define E_P  0x001u
#define E_RW 0x002u
#define E_US 0x004u
#define E_A  0x020u
#define E_D  0x040u
#define E_PS 0x080u

static volatile uint32_t *pte_at(uintptr_t va)
{
    return (volatile uint32_t *)(uintptr_t)(MIRROR_PT + (uint32_t)(va >> 12) * 4);
}

static volatile uint32_t *pde_at(uintptr_t va)
{
    return (volatile uint32_t *)(uintptr_t)(MIRROR_PD + (uint32_t)(va >> 22) * 4);
}

static const char *const names[] = {
    "directory_readable", "pde_accessed",  "untouched_not_present", "read_sets_a",
    "read_leaves_d_clear", "write_sets_d", "write_gets_own_frame",  "frames_20_bits",
    "fork_clears_rw",      "child_sees_rw_clear", "write_after_fork_same_frame",
    "mirror_write_killed",
};

static int child_checks_rw(void *arg)
{
    uintptr_t va = (uintptr_t)arg;
    uint32_t e = *pte_at(va);
    return (e & E_P) && !(e & E_RW) ? 0 : 1;
}

static int child_writes_mirror(void *arg)
{
    *pte_at((uintptr_t)arg) = 0; /* read-only mirror: SIGSEGV */
    return 0;
}

int main(void)
{
    ut_init();
    if (sizeof(void *) != 4 || !ut_on_mmk()) {
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            ut_skip(names[i], "needs mmk's compat32 mirror (compat32.mirror=ro)");
        return ut_done();
    }

    /* A 4 MiB-aligned region, so that the pages below share one page
     * table: page 0 is touched first to create it, page 1 is the one
     * watched (its PTE can be read while it is still absent). */
    char *map = mmap(NULL, 8u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        ut_check(0, names[0], "mmap failed");
        return ut_done();
    }
    char *region = (char *)(((uintptr_t)map + (4u << 20) - 1) & ~(uintptr_t)((4u << 20) - 1));
    region[0] = 1;
    char *page = region + PAGE;

    uint32_t pde = *pde_at((uintptr_t)page);
    ut_check((pde & (E_P | E_US)) == (E_P | E_US) && !(pde & E_PS), names[0],
             "PDE %#x", pde);
    ut_check(pde & E_A, names[1], "PDE %#x", pde);
    uint32_t e0 = *pte_at((uintptr_t)page);
    ut_check(!(e0 & E_P), names[2], "PTE %#x before any access", e0);

    volatile char c = page[100];
    (void)c;
    uint32_t e1 = *pte_at((uintptr_t)page);
    ut_check((e1 & (E_P | E_A)) == (E_P | E_A), names[3], "PTE %#x after a read", e1);
    ut_check(!(e1 & E_D) && !(e1 & E_RW), names[4], "PTE %#x after a read (zero page, clean)",
             e1);
    ut_note("after a read: PTE %08x (frame %05x)", e1, e1 >> 12);

    page[200] = 7;
    uint32_t e2 = *pte_at((uintptr_t)page);
    ut_check((e2 & (E_P | E_A | E_D | E_RW)) == (E_P | E_A | E_D | E_RW), names[5],
             "PTE %#x after a write", e2);
    ut_check((e2 >> 12) != (e1 >> 12), names[6], "frame %#x before and after the write",
             e2 >> 12);
    ut_note("after a write: PTE %08x (frame %05x)", e2, e2 >> 12);
    ut_check((e2 >> 12) != 0 && (e2 >> 12) < (1u << 20) && (pde >> 12) < (1u << 20), names[7],
             "frames %#x, %#x", e2 >> 12, pde >> 12);

    pid_t pid = ut_fork();
    if (pid == 0)
        _exit(child_checks_rw(page));
    uint32_t e3 = *pte_at((uintptr_t)page);
    ut_check((e3 & E_P) && !(e3 & E_RW) && (e3 >> 12) == (e2 >> 12), names[8],
             "parent's PTE %#x after fork", e3);
    int status = ut_wait(pid);
    char why[64];
    ut_check(status == 0, names[9], "child: %s", ut_status_str(status, why, sizeof(why)));
    /* The child is gone: the frame is referenced once again, and the
     * write takes R/W back without a copy. */
    page[300] = 9;
    uint32_t e4 = *pte_at((uintptr_t)page);
    ut_check((e4 & (E_P | E_RW | E_D)) == (E_P | E_RW | E_D) && (e4 >> 12) == (e2 >> 12),
             names[10], "PTE %#x after the write (was %#x)", e4, e2);

    status = ut_run_child(child_writes_mirror, page);
    ut_check(ut_killed_by(status, SIGSEGV), names[11], "child: %s",
             ut_status_str(status, why, sizeof(why)));
    munmap(map, 8u << 20);
    return ut_done();
}
