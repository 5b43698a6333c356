/*
 * In-kernel tests of the clocks and the vDSO images (docs/time.md): the
 * CMOS clock answers with a date after 2020 and the wall clock follows
 * it; the boot clock and the wall clock move together; each clock id
 * reads or is refused as Linux's; both vDSO images pass their check (an
 * ELF shared object of the right class, the i386 entry and signal
 * returns inside it).  The user programs (test_time) check the system
 * calls and the vDSO from user space.
 */
#include <kernel/errno.h>
#include <kernel/ktest.h>
#include <kernel/syscall.h>
#include <kernel/time.h>
#include <kernel/vdso.h>
#include <mm/vma.h>

#define Y2020 1577836800l

KTEST(time_rtc_and_wall_clock)
{
    struct rtc_regs r;
    KT_ASSERT(rtc_read(&r), "the CMOS clock does not answer");
    int64_t rtc = rtc_regs_to_time(&r);
    KT_ASSERT(rtc > Y2020, "the CMOS clock says %ld", rtc);
    int64_t wall = realtime_ns() / NSEC_PER_SEC;
    /* The wall clock is the CMOS reading at boot plus the time since boot
     * as the kernel's timer counts it.  Under QEMU's emulation on a busy
     * host that count can drift from the CMOS clock (both are emulated,
     * from different host clocks), so allow 2 s plus a tenth of the time
     * since boot. */
    int64_t slack = 2 + (int64_t)(now_ns() / NSEC_PER_SEC) / 10;
    KT_ASSERT(wall - rtc >= -slack && wall - rtc <= slack, "wall %ld, CMOS %ld (slack %ld s)",
              wall, rtc, slack);
}

KTEST(time_clocks_move_together)
{
    struct kernel_timespec m0, r0, m1, r1;
    KT_ASSERT(clock_read(CLOCK_MONOTONIC, &m0) == 0 && clock_read(CLOCK_REALTIME, &r0) == 0,
              "read");
    for (volatile int i = 0; i < 2000000; i++)
        ;
    clock_read(CLOCK_MONOTONIC, &m1);
    clock_read(CLOCK_REALTIME, &r1);
    int64_t dm = (m1.tv_sec - m0.tv_sec) * NSEC_PER_SEC + (m1.tv_nsec - m0.tv_nsec);
    int64_t dr = (r1.tv_sec - r0.tv_sec) * NSEC_PER_SEC + (r1.tv_nsec - r0.tv_nsec);
    KT_ASSERT(dm > 0 && dr > 0, "clocks did not move: %ld %ld", dm, dr);
    KT_ASSERT(dr - dm < 1000000 && dm - dr < 1000000, "apart by %ld ns", dr - dm);
}

KTEST(time_clock_ids)
{
    struct kernel_timespec t;
    static const int good[] = { 0, 1, 2, 3, 4, 5, 6, 7, 11 };
    for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        KT_ASSERT(clock_read(good[i], &t) == 0, "clock %d refused", good[i]);
        KT_ASSERT(clock_resolution(good[i], NULL) == 0, "clock %d: no resolution", good[i]);
    }
    static const int bad[] = { 8, 9, 10, 12, 16, -5 /* a clock fd */ };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        KT_ASSERT(clock_read(bad[i], &t) == -EINVAL, "clock %d accepted", bad[i]);
    KT_ASSERT(clock_set(CLOCK_MONOTONIC, &t) == -EINVAL, "MONOTONIC set");
    struct kernel_timespec late = { 1, NSEC_PER_SEC };
    KT_ASSERT(settimeofday_do(&late, NULL) == -EINVAL, "a bad nsec accepted");
    KT_ASSERT(clock_abs_to_boot(CLOCK_MONOTONIC, 5, 7) == 5 * NSEC_PER_SEC + 7, "monotonic");
    KT_ASSERT(clock_abs_to_boot(CLOCK_REALTIME, 0, 0) == 0, "the epoch is in the past");
}

KTEST(vdso_images)
{
    const struct vm_file *v64 = vdso_image(false), *v32 = vdso_image(true);
    KT_ASSERT(v64 && v64->size > 0 && v64->size < 8192, "the 64-bit image is refused");
    KT_ASSERT(v32 && v32->size > 0 && v32->size < 8192, "the i386 image is refused");
    KT_ASSERT(((uint64_t)v64->data & 4095) == 0 && ((uint64_t)v32->data & 4095) == 0,
              "images not page aligned");
}
