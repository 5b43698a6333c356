/*
 * Command-line splitting.  Words are separated by spaces; the first '='
 * in a word separates key and value.  Nothing is allocated: the line is
 * copied into the struct and cut in place.
 */
#include <kernel/cmdline.h>
#include <kernel/string.h>

void cmdline_parse(struct cmdline *c, const char *line)
{
    size_t len = strnlen(line, sizeof(c->buf) - 1);
    memcpy(c->buf, line, len);
    c->buf[len] = 0;
    c->n = 0;
    c->dropped = 0;

    char *p = c->buf;
    for (;;) {
        while (*p == ' ')
            *p++ = 0;
        if (!*p)
            break;
        char *word = p;
        while (*p && *p != ' ')
            p++;
        if (*p)
            *p++ = 0;
        if (c->n == CMDLINE_MAX_OPTS) {
            c->dropped++;
            continue;
        }
        char *eq = strchr(word, '=');
        if (eq)
            *eq = 0;
        c->opt[c->n].key = word;
        c->opt[c->n].val = eq ? eq + 1 : word + strlen(word);
        c->n++;
    }
}

const char *cmdline_get(const struct cmdline *c, const char *key)
{
    for (int i = c->n - 1; i >= 0; i--)
        if (strcmp(c->opt[i].key, key) == 0)
            return c->opt[i].val;
    return NULL;
}
