/* The local APIC timer: the scheduler's clock (kernel/cpu/apic.c). */
#ifndef KERNEL_APIC_H
#define KERNEL_APIC_H

#include <kernel/types.h>

#define HZ 100   /* timer interrupts per second */

/* Map the local APIC, mask the legacy PICs, calibrate the timer against
 * the PIT and start it in periodic mode on VEC_TIMER. */
void apic_init(void);
void apic_eoi(void);
/* TSC ticks per second, measured during calibration (0 before). */
uint64_t tsc_hz(void);

#endif
