/*
 * The kernel's vsnprintf/snprintf under other names, so that the host
 * test can call them next to the C library's functions of the same
 * names.  The kernel source is compiled unchanged.
 */
#define vsnprintf k_vsnprintf
#define snprintf k_snprintf
#include "../../kernel/lib/vsnprintf.c"
