/*
 * The kernel command line: space-separated `key` or `key=value` words,
 * from boot/cmdline.txt through the loader.  Parsing is pure code
 * (kernel/boot/cmdline.c, host-tested); the list of options the kernel knows
 * and their help texts are in kernel/boot/options.c.
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include <kernel/types.h>
#include <boot/boot_info.h>

#define CMDLINE_MAX_OPTS 64

struct cmdline {
    char buf[BOOT_CMDLINE_MAX];
    struct {
        const char *key;
        const char *val;   /* "" when the word had no '=' */
    } opt[CMDLINE_MAX_OPTS];
    int n;
    int dropped;           /* words past CMDLINE_MAX_OPTS */
};

/* Split `line` (any length; cut at BOOT_CMDLINE_MAX - 1) into options. */
void cmdline_parse(struct cmdline *c, const char *line);
/* Value of the LAST occurrence of key, or NULL when absent. */
const char *cmdline_get(const struct cmdline *c, const char *key);

/* The kernel's parsed command line (kernel/boot/options.c). */
void options_init(const char *line);
/* The words after a lone "--" on the command line (init's arguments), or "". */
const char *options_init_args(void);
const char *option(const char *key);
/* Print the known options with their help (for the README and `help`). */
void options_print_help(void);

#endif
