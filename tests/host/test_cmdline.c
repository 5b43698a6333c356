/*
 * Host tests of the kernel command-line splitter (kernel/boot/cmdline.c),
 * linked against the C library's string functions.
 */
#include <stdlib.h>

#include "htest.h"
#include <kernel/cmdline.h>

/* The struct is large (1 KiB of text + 64 options): keep it off the stack. */
static struct cmdline cl;

/* Parse and check the number of options and of dropped words. */
static void parse(const char *line, int n, int dropped)
{
    /* Poison first, so that stale contents cannot pass for a result. */
    memset(&cl, 0xa5, sizeof(cl));
    cmdline_parse(&cl, line);
    HT_ASSERT(cl.n == n, "\"%.40s\": %d options, expected %d", line, cl.n, n);
    HT_ASSERT(cl.dropped == dropped, "\"%.40s\": %d dropped, expected %d",
              line, cl.dropped, dropped);
}

/* Option i must be key=val. */
static void opt_is(int i, const char *key, const char *val)
{
    HT_ASSERT(i < cl.n, "no option %d", i);
    HT_EQ_STR(cl.opt[i].key, key);
    HT_EQ_STR(cl.opt[i].val, val);
}

/* Every key and value must point into the struct's own copy. */
static void points_into_buf(void)
{
    for (int i = 0; i < cl.n; i++) {
        const char *k = cl.opt[i].key, *v = cl.opt[i].val;
        HT_ASSERT(k >= cl.buf && k < cl.buf + sizeof(cl.buf) &&
                  v >= cl.buf && v < cl.buf + sizeof(cl.buf),
                  "option %d points outside the buffer", i);
    }
}

static void t_empty(void)
{
    HT_TRY(parse("", 0, 0));
    HT_ASSERT(cmdline_get(&cl, "") == NULL, "empty key found");
    HT_ASSERT(cmdline_get(&cl, "x") == NULL, "x found");
}

static void t_only_spaces(void)
{
    HT_TRY(parse("     ", 0, 0));
    HT_TRY(parse(" ", 0, 0));
    HT_ASSERT(cmdline_get(&cl, "") == NULL, "empty key found");
}

static void t_flag(void)
{
    HT_TRY(parse("quiet", 1, 0));
    HT_TRY(opt_is(0, "quiet", ""));
    HT_EQ_STR(cmdline_get(&cl, "quiet"), "");
    HT_ASSERT(cmdline_get(&cl, "quie") == NULL, "prefix of a key matched");
    HT_ASSERT(cmdline_get(&cl, "quiet2") == NULL, "longer key matched");
}

static void t_key_value(void)
{
    HT_TRY(parse("ktest=all", 1, 0));
    HT_TRY(opt_is(0, "ktest", "all"));
    HT_EQ_STR(cmdline_get(&cl, "ktest"), "all");
    HT_ASSERT(cmdline_get(&cl, "all") == NULL, "a value was found as a key");
    HT_TRY(points_into_buf());
}

static void t_empty_value(void)
{
    HT_TRY(parse("console=", 1, 0));
    HT_TRY(opt_is(0, "console", ""));
    HT_EQ_STR(cmdline_get(&cl, "console"), "");
    /* "=x": an empty key with a value. */
    HT_TRY(parse("=x", 1, 0));
    HT_TRY(opt_is(0, "", "x"));
    HT_EQ_STR(cmdline_get(&cl, ""), "x");
}

static void t_value_with_equals(void)
{
    HT_TRY(parse("init=/bin/sh=x a==b", 2, 0));
    HT_TRY(opt_is(0, "init", "/bin/sh=x"));
    HT_TRY(opt_is(1, "a", "=b"));
}

static void t_many_spaces(void)
{
    HT_TRY(parse("a=1     b      c=3", 3, 0));
    HT_TRY(opt_is(0, "a", "1"));
    HT_TRY(opt_is(1, "b", ""));
    HT_TRY(opt_is(2, "c", "3"));
    HT_TRY(points_into_buf());
}

static void t_leading_trailing_spaces(void)
{
    HT_TRY(parse("   mem=1G  debug   ", 2, 0));
    HT_TRY(opt_is(0, "mem", "1G"));
    HT_TRY(opt_is(1, "debug", ""));
}

static void t_last_wins(void)
{
    HT_TRY(parse("log=1 x log=2 y log=3 z", 6, 0));
    HT_EQ_STR(cmdline_get(&cl, "log"), "3");
    HT_EQ_STR(cmdline_get(&cl, "x"), "");
    /* Every occurrence is still in the list, in order. */
    HT_TRY(opt_is(0, "log", "1"));
    HT_TRY(opt_is(2, "log", "2"));
    /* A later flag without '=' also wins over an earlier value. */
    HT_TRY(parse("v=9 v", 2, 0));
    HT_EQ_STR(cmdline_get(&cl, "v"), "");
}

static void t_too_many_words(void)
{
    static char line[16 * (CMDLINE_MAX_OPTS + 10)];
    char *p = line;
    for (int i = 0; i < CMDLINE_MAX_OPTS + 10; i++)
        p += sprintf(p, "k%d=%d ", i, i);
    HT_ASSERT(p - line < (long)BOOT_CMDLINE_MAX, "test line too long");
    HT_TRY(parse(line, CMDLINE_MAX_OPTS, 10));
    HT_TRY(opt_is(0, "k0", "0"));
    HT_TRY(opt_is(CMDLINE_MAX_OPTS - 1, "k63", "63"));
    HT_ASSERT(cmdline_get(&cl, "k64") == NULL, "dropped word k64 found");
    HT_ASSERT(cmdline_get(&cl, "k73") == NULL, "dropped word k73 found");
    HT_TRY(points_into_buf());
    /* Exactly the maximum drops nothing. */
    line[0] = 0;
    p = line;
    for (int i = 0; i < CMDLINE_MAX_OPTS; i++)
        p += sprintf(p, "w%d ", i);
    HT_TRY(parse(line, CMDLINE_MAX_OPTS, 0));
}

/* A line longer than the buffer is cut at BOOT_CMDLINE_MAX - 1 bytes. */
static void t_long_line(void)
{
    size_t len = 3 * BOOT_CMDLINE_MAX;
    /* Exact-size heap copy: ASan catches a read past the NUL. */
    char *line = malloc(len + 1);
    HT_ASSERT(line != NULL, "out of memory");
    /* "a=xxxx...xxx b=yyyy...": the cut falls inside b's value. */
    memset(line, 'y', len);
    memcpy(line, "a=", 2);
    memset(line + 2, 'x', 500);
    memcpy(line + 502, " b=", 3);
    line[len] = 0;
    memset(&cl, 0xa5, sizeof(cl));
    cmdline_parse(&cl, line);
    free(line);

    HT_ASSERT(cl.n == 2, "%d options, expected 2", cl.n);
    HT_EQ_U(strlen(cl.opt[0].val), 500);
    HT_EQ_U(strlen(cl.opt[1].val), BOOT_CMDLINE_MAX - 1 - 505);
    HT_ASSERT(cl.buf[BOOT_CMDLINE_MAX - 1] == 0, "buffer not terminated");
    HT_TRY(points_into_buf());
}

/* One word of 1023 characters: the longest that fits whole. */
static void t_longest_word(void)
{
    char *line = malloc(BOOT_CMDLINE_MAX);
    HT_ASSERT(line != NULL, "out of memory");
    memset(line, 'w', BOOT_CMDLINE_MAX - 1);
    line[BOOT_CMDLINE_MAX - 1] = 0;
    memset(&cl, 0xa5, sizeof(cl));
    cmdline_parse(&cl, line);
    int same = cl.n == 1 && strcmp(cl.opt[0].key, line) == 0;
    free(line);
    HT_ASSERT(same, "%d options, or the word was changed", cl.n);
    HT_EQ_STR(cl.opt[0].val, "");
    HT_EQ_U(strlen(cl.opt[0].key), BOOT_CMDLINE_MAX - 1);

    /* With a value: "k=vvv...", 1023 characters in all. */
    line = malloc(BOOT_CMDLINE_MAX);
    HT_ASSERT(line != NULL, "out of memory");
    memset(line, 'v', BOOT_CMDLINE_MAX - 1);
    memcpy(line, "k=", 2);
    line[BOOT_CMDLINE_MAX - 1] = 0;
    memset(&cl, 0xa5, sizeof(cl));
    cmdline_parse(&cl, line);
    free(line);
    HT_ASSERT(cl.n == 1, "%d options", cl.n);
    HT_EQ_U(strlen(cmdline_get(&cl, "k")), BOOT_CMDLINE_MAX - 3);
}

/* Parsing again forgets the previous line. */
static void t_reparse(void)
{
    HT_TRY(parse("a=1 b=2 c=3", 3, 0));
    cmdline_parse(&cl, "d=4");
    HT_ASSERT(cl.n == 1 && cl.dropped == 0, "n %d dropped %d", cl.n,
              cl.dropped);
    HT_ASSERT(cmdline_get(&cl, "a") == NULL, "a survived a new parse");
    HT_EQ_STR(cmdline_get(&cl, "d"), "4");
}

/* The input line is copied, not cut in place. */
static void t_input_untouched(void)
{
    const char orig[] = "  a=1 b  ";
    char line[sizeof(orig)];
    memcpy(line, orig, sizeof(orig));
    HT_TRY(parse(line, 2, 0));
    HT_ASSERT(memcmp(line, orig, sizeof(orig)) == 0, "input line modified");
    HT_TRY(points_into_buf());
}

static const struct htest cases[] = {
    HT_CASE(empty),
    HT_CASE(only_spaces),
    HT_CASE(flag),
    HT_CASE(key_value),
    HT_CASE(empty_value),
    HT_CASE(value_with_equals),
    HT_CASE(many_spaces),
    HT_CASE(leading_trailing_spaces),
    HT_CASE(last_wins),
    HT_CASE(too_many_words),
    HT_CASE(long_line),
    HT_CASE(longest_word),
    HT_CASE(reparse),
    HT_CASE(input_untouched),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
