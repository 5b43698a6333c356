/*
 * Refusing 5-level paging left on by the firmware (efi/la57.h).
 *
 * With CR4.LA57 set, CR3 points to a PML5 and every walk has five
 * levels; the loader's tables have four, so loading them would make the
 * PML4 be read as a PML5 and the next instruction fetch fault with no
 * handler: a triple fault, a silent reset.  Turning LA57 off is not
 * possible from here: the bit "cannot be modified in IA-32e mode" (Intel
 * SDM vol. 3A, 2.5 "Control Registers", and 4.1.2: a MOV to CR4 that
 * changes it in long mode is #GP).  Leaving long mode would take a
 * trampoline below 4 GiB in compatibility mode, paging off, LA57 cleared,
 * long mode entered again with 4-level tables, while the firmware's
 * handlers still expect the old mode.  The loader does not do that: it
 * stops with a sentence on the console, before ExitBootServices, and
 * returns to the firmware.
 */
#include "la57.h"

const char *la57_refusal(uint64_t cr4)
{
    if (!(cr4 & CR4_LA57_BIT))
        return 0;
    return "the firmware runs with 5-level paging (CR4.LA57 set); this loader builds "
           "4-level page tables and cannot switch modes (LA57 cannot change in long "
           "mode): turn 5-level paging off in the firmware setup";
}
