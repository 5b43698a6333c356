/*
 * What execve runs: the file found by its path exactly as open finds it,
 * the "#!" line of a script, and the bytes of an ELF program.
 *
 *  - exec_file_open walks the path (kernel/fs/namei.c: links followed,
 *    -ENOENT, -ENOTDIR, -ELOOP, -ENAMETOOLONG as open gives them), then
 *    refuses anything but a regular file with some x bit (-EACCES, as
 *    Linux's may_open with MAY_EXEC for root), and records the file's
 *    absolute path for /proc/self/exe (its directory's path and the name
 *    the last link led to);
 *  - the program's bytes: a file still wholly in the initrd (never
 *    written, kernel/fs/pagecache.c) is used in place, and exec maps its
 *    segments as private views of the archive (demand paging, nothing
 *    copied); a file whose bytes are in page-cache pages is read into a
 *    vmalloc'ed copy, which exec loads into the new address space and
 *    frees (a mapping cannot outlive the pages of a file that may be
 *    truncated: shared file mappings of page-cache pages are the next
 *    step of the file system);
 *  - exec_script parses "#!" as Linux's fs/binfmt_script.c: within the
 *    first 256 bytes, the interpreter's path after "#!" and blanks, then
 *    everything after the next blanks up to the end of the line (blanks
 *    at the end trimmed) as ONE optional argument.  A line without a
 *    newline in 256 bytes is used as it is if the interpreter's name ends
 *    in it, else -ENOEXEC; no interpreter name is -ENOEXEC.  The new
 *    argv is: interpreter, the argument if any, the script's path as
 *    given, then the old argv without its argv[0].
 */
#include <kernel/exec.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <kernel/vfs.h>
#include <mm/slab.h>
#include <mm/vmalloc.h>

#define EXEC_MAX_COPY (1ul << 30)      /* a page-cache program larger than this: -ENOMEM */

int exec_file_open(const char *path, struct exec_file *xf)
{
    memset(xf, 0, sizeof(*xf));
    struct inode *dir, *ino;
    char name[NAME_MAX + 1];
    int err = namei_at(NULL, path, LOOKUP_FOLLOW, &ino, &dir, name);
    if (err)
        return err;
    if (!S_ISREG(ino->mode) || inode_permission(ino, 1)) {
        err = -EACCES;
        goto out;
    }
    xf->exe = kmalloc(PATH_MAX, GFP_KERNEL);
    if (!xf->exe) {
        err = -ENOMEM;
        goto out;
    }
    long n = dir_path(dir, xf->exe, PATH_MAX);
    if (n < 0 || (size_t)n + 1 + strlen(name) + 1 > PATH_MAX) {
        err = n == -ENOENT ? -ENOENT : -ENAMETOOLONG;
        goto out;
    }
    if (n > 1)
        xf->exe[n++] = '/';
    strlcpy(xf->exe + n, name, PATH_MAX - (size_t)n);
    xf->size = ino->size;
    if (!ino->reg.pages.nr_pages && ino->reg.isize == ino->size) {
        xf->data = ino->reg.idata;     /* still the initrd's: used in place */
        xf->name = ino->reg.iname;
    } else if (ino->size) {
        if (ino->size > EXEC_MAX_COPY) {
            err = -ENOMEM;
            goto out;
        }
        uint8_t *copy = vmalloc(ino->size);
        if (!copy) {
            err = -ENOMEM;
            goto out;
        }
        xf->data = copy;
        xf->copied = true;
        err = pagecache_read(ino, 0, copy, ino->size);  /* pages on swap come back */
        if (err)
            goto out;
    }
    xf->ino = inode_get(ino);
out:
    inode_put(ino);
    inode_put(dir);
    if (err)
        exec_file_close(xf);
    return err;
}

void exec_file_close(struct exec_file *xf)
{
    if (xf->copied)
        vfree((void *)xf->data);
    kfree(xf->exe);
    inode_put(xf->ino);
    memset(xf, 0, sizeof(*xf));
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The first character in [p, end) that is not a blank, or NULL. */
static char *skip_blanks(char *p, char *end)
{
    while (p < end && blank(*p))
        p++;
    return p < end ? p : NULL;
}

/* The first blank or NUL in [p, end), or NULL. */
static char *next_terminator(char *p, char *end)
{
    while (p < end && !blank(*p) && *p)
        p++;
    return p < end ? p : NULL;
}

int exec_script(const struct exec_file *xf, char line[EXEC_LINE_MAX], const char **interp,
                const char **arg)
{
    memset(line, 0, EXEC_LINE_MAX);
    memcpy(line, xf->data, (size_t)MIN(xf->size, (uint64_t)EXEC_LINE_MAX));
    if (xf->size < 2 || line[0] != '#' || line[1] != '!')
        return 0;
    char *buf_end = line + EXEC_LINE_MAX - 1;
    char *i_end = line;
    while (i_end < line + EXEC_LINE_MAX && *i_end != '\n')
        i_end++;
    if (i_end == line + EXEC_LINE_MAX) {
        i_end = skip_blanks(line + 2, buf_end);
        if (!i_end || !next_terminator(i_end, buf_end))
            return -ENOEXEC;           /* only blanks, or a name cut by the limit */
        i_end = buf_end;
    }
    while (i_end > line + 2 && blank(i_end[-1]))
        i_end--;
    char *i_name = skip_blanks(line + 2, i_end);
    if (!i_name || i_name == i_end)
        return -ENOEXEC;
    char *i_sep = next_terminator(i_name, i_end);
    char *i_arg = NULL;
    if (i_sep && *i_sep)
        i_arg = skip_blanks(i_sep, i_end);
    *i_end = 0;
    if (i_sep)
        *i_sep = 0;
    *interp = i_name;
    *arg = i_arg;
    return 1;
}

int exec_script_argv(const char *interp, const char *arg, const char *script,
                     const struct user_strings *argv, char *buf, size_t cap,
                     struct user_strings *out)
{
    /* The old argv without argv[0]. */
    const char *rest = argv->buf;
    size_t rest_len = argv->len;
    uint32_t rest_n = argv->count;
    if (rest_n) {
        size_t l0 = strlen(rest) + 1;
        rest += l0;
        rest_len -= l0;
        rest_n--;
    }
    const char *front[3] = { interp, arg, script };
    size_t len = 0;
    uint32_t n = 0;
    for (int i = 0; i < 3; i++) {
        if (!front[i])
            continue;
        size_t l = strlen(front[i]) + 1;
        if (len + l > cap)
            return -E2BIG;
        memcpy(buf + len, front[i], l);
        len += l;
        n++;
    }
    if (len + rest_len > cap)
        return -E2BIG;
    memmove(buf + len, rest, rest_len);
    out->buf = buf;
    out->len = len + rest_len;
    out->count = n + rest_n;
    return 0;
}
