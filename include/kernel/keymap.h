/*
 * PS/2 keyboard scan codes to the bytes a terminal expects
 * (kernel/console/keymap.c; docs/terminal.md).
 *
 * Input: scan code set 1, which is what the i8042 controller delivers when
 * it translates the keyboard's set 2 (its default, and QEMU's).  Output:
 * what a Linux console with the US layout sends: ASCII, ^A..^Z with Ctrl,
 * ESC before a key pressed with Alt, DEL for Backspace, CR for Enter, and
 * ANSI sequences for the arrows and the editing and function keys
 * (Up is ESC [ A, Delete ESC [ 3 ~, F1 ESC [ [ A ...).
 */
#ifndef KERNEL_KEYMAP_H
#define KERNEL_KEYMAP_H

#include <kernel/types.h>

struct kbd_state {
    bool e0;                        /* the last byte was the 0xe0 prefix */
    int skip;                       /* bytes of a Pause sequence still to ignore */
    bool lshift, rshift, lctrl, rctrl, lalt, ralt, caps;
};

#define KBD_MAX_BYTES 8             /* the longest sequence one key gives */

/* One byte from the controller: updates the state and writes the bytes
 * the key gives (none for a release or a modifier) to out; returns how
 * many. */
size_t kbd_scancode(struct kbd_state *k, uint8_t code, char *out);

#endif
