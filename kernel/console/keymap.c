/*
 * Scan code set 1 to terminal bytes, US layout (include/kernel/keymap.h).
 *
 * A key press sends its make code, a release the same code with bit 7
 * set; keys added after the PC/XT (the arrows, the right Ctrl and Alt,
 * the editing block) come after a 0xe0 prefix.  Pause sends a six-byte
 * sequence of its own (0xe1 ...), ignored whole.  The modifiers are
 * tracked from their make and break codes; Caps Lock toggles on each
 * press (its LED is not driven).  The keypad sends its digits and
 * operators (as with Num Lock on).
 *
 * Pure code: the host test (tests/host/test_tty.c) feeds it byte strings.
 */
#include <kernel/keymap.h>
#include <kernel/string.h>

/* Make codes 0x00-0x58 without and with Shift; 0 = no character. */
static const char plain[0x59] =
    "\0\x1b" "1234567890-=\x7f\t"
    "qwertyuiop[]\r\0as"
    "dfghjkl;'`\0\\zxcv"
    "bnm,./\0*\0 \0\0\0\0\0\0"
    "\0\0\0\0\0\0\0" "789-456+1"
    "230.\0\0\0\0\0";
static const char shifted[0x59] =
    "\0\x1b" "!@#$%^&*()_+\x7f\t"
    "QWERTYUIOP{}\r\0AS"
    "DFGHJKL:\"~\0|ZXCV"
    "BNM<>?\0*\0 \0\0\0\0\0\0"
    "\0\0\0\0\0\0\0" "789-456+1"
    "230.\0\0\0\0\0";

#define SC_LCTRL  0x1d
#define SC_LSHIFT 0x2a
#define SC_RSHIFT 0x36
#define SC_LALT   0x38
#define SC_CAPS   0x3a
#define SC_F1     0x3b
#define SC_F10    0x44
#define SC_F11    0x57
#define SC_F12    0x58

/* The Linux console's sequences for F1..F12. */
static const char *const fkeys[12] = {
    "\x1b[[A", "\x1b[[B", "\x1b[[C", "\x1b[[D", "\x1b[[E", "\x1b[17~",
    "\x1b[18~", "\x1b[19~", "\x1b[20~", "\x1b[21~", "\x1b[23~", "\x1b[24~",
};

static size_t put_str(char *out, const char *s)
{
    size_t n = strlen(s);
    memcpy(out, s, n);
    return n;
}

/* Keys behind the 0xe0 prefix. */
static size_t extended(struct kbd_state *k, uint8_t code, bool up, char *out)
{
    switch (code) {
    case SC_LCTRL: k->rctrl = !up; return 0;
    case SC_LALT:  k->ralt = !up; return 0;
    case 0x2a: case 0x36: return 0;          /* fake shifts around some keys */
    }
    if (up)
        return 0;
    switch (code) {
    case 0x1c: return put_str(out, "\r");    /* keypad Enter */
    case 0x35: return put_str(out, "/");     /* keypad / */
    case 0x48: return put_str(out, "\x1b[A");
    case 0x50: return put_str(out, "\x1b[B");
    case 0x4d: return put_str(out, "\x1b[C");
    case 0x4b: return put_str(out, "\x1b[D");
    case 0x47: return put_str(out, "\x1b[1~");   /* Home */
    case 0x52: return put_str(out, "\x1b[2~");   /* Insert */
    case 0x53: return put_str(out, "\x1b[3~");   /* Delete */
    case 0x4f: return put_str(out, "\x1b[4~");   /* End */
    case 0x49: return put_str(out, "\x1b[5~");   /* Page Up */
    case 0x51: return put_str(out, "\x1b[6~");   /* Page Down */
    }
    return 0;
}

/* Ctrl with a key that is not a letter (as the Linux console maps them). */
static int ctrl_of(char c)
{
    switch (c) {
    case '@': case '2': case ' ': return 0;
    case '[': case '3': return 0x1b;
    case '\\': case '4': return 0x1c;
    case ']': case '5': return 0x1d;
    case '^': case '6': return 0x1e;
    case '_': case '-': case '/': case '7': return 0x1f;
    case '8': case '\x7f': return 0x7f;
    }
    return -1;
}

size_t kbd_scancode(struct kbd_state *k, uint8_t code, char *out)
{
    if (k->skip) {
        k->skip--;
        return 0;
    }
    if (code == 0xe1) {                      /* Pause: e1 1d 45 e1 9d c5 */
        k->skip = 5;
        return 0;
    }
    if (code == 0xe0) {
        k->e0 = true;
        return 0;
    }
    bool up = code & 0x80, ext = k->e0;
    code &= 0x7f;
    k->e0 = false;
    if (code == 0x00 || code == 0x7f)        /* buffer overrun, errors */
        return 0;
    bool alt = k->lalt || k->ralt;
    size_t n = 0;
    if (ext) {
        if (alt && !up && code != SC_LALT && code != SC_LCTRL)
            out[n++] = 0x1b;
        size_t m = extended(k, code, up, out + n);
        return m ? n + m : 0;
    }
    switch (code) {
    case SC_LSHIFT: k->lshift = !up; return 0;
    case SC_RSHIFT: k->rshift = !up; return 0;
    case SC_LCTRL:  k->lctrl = !up; return 0;
    case SC_LALT:   k->lalt = !up; return 0;
    case SC_CAPS:
        if (!up)
            k->caps = !k->caps;
        return 0;
    }
    if (up)
        return 0;
    bool shift = k->lshift || k->rshift, ctrl = k->lctrl || k->rctrl;
    if (alt)
        out[n++] = 0x1b;                     /* Alt: "meta sends escape" */
    if (code >= SC_F1 && code <= SC_F10)
        return n + put_str(out + n, fkeys[code - SC_F1]);
    if (code == SC_F11 || code == SC_F12)
        return n + put_str(out + n, fkeys[10 + (code - SC_F11)]);
    if (code >= sizeof(plain))
        return 0;
    char c = shift ? shifted[code] : plain[code];
    if (c == 0)
        return 0;
    bool letter = (plain[code] >= 'a' && plain[code] <= 'z');
    if (letter && k->caps)
        c = shift ? plain[code] : shifted[code];
    if (code == 0x0f && shift)
        return n + put_str(out + n, "\x1b[Z");   /* Shift+Tab */
    if (ctrl) {
        if (letter)
            c = (char)(plain[code] & 0x1f);
        else if (code == 0x0e)
            c = 0x08;                        /* Ctrl+Backspace: ^H */
        else if (ctrl_of(c) >= 0)
            c = (char)ctrl_of(c);
    }
    out[n++] = c;
    return n;
}
