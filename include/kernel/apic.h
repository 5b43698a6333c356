/* The local APIC timer: the scheduler's clock (kernel/cpu/apic.c). */
#ifndef KERNEL_APIC_H
#define KERNEL_APIC_H

#include <kernel/types.h>

#define HZ 100   /* timer interrupts per second */

/* Map the local APIC, mask the legacy PICs, calibrate the timer against
 * a reference clock (kernel/cpu/calibrate.c) and start it in periodic mode on VEC_TIMER. */
void apic_init(void);
/* This CPU's local APIC timer, periodic at HZ at the rate the boot CPU
 * measured (an AP joining the scheduler: kernel/proc/task.c). */
void apic_timer_start(void);
void apic_eoi(void);
/* The local APIC's register at byte offset reg of the xAPIC page, in
 * whichever mode the firmware left it (xAPIC: memory-mapped; x2APIC:
 * MSR 0x800 + reg / 16); valid from apic_init on. */
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
bool lapic_x2apic(void);
/* This CPU's APIC id (8 bits in xAPIC mode, 32 in x2APIC mode). */
uint32_t lapic_id(void);
/* TSC ticks per second, measured during calibration (0 before). */
uint64_t tsc_hz(void);
/* Nanoseconds since the timer last expired (0 before apic_init): in the
 * timer's handler, how long the tick waited to be taken (interrupts are
 * off in the kernel, so a tick that falls there waits for the return to
 * user mode): kernel/fs/proc_kstat.c. */
uint64_t apic_tick_age_ns(void);
struct calib_result;
/* Calibrate again against one source (enum calib_source,
 * include/kernel/calibrate.h), the timer masked meanwhile: 0 or
 * calib_measure's error. */
int apic_calibrate_source(int src, struct calib_result *r);

#endif
