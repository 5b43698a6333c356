/*
 * Host tests of the initrd reader (kernel/fs/cpio.c).
 *
 * Archives are written in memory by a tiny newc writer below, then
 * broken one field at a time; one archive comes from the real GNU cpio,
 * made the way the Makefile makes the initrd.  The reader always gets a
 * private heap copy of exactly the length under test, so that ASan
 * reports any read past the end of the archive.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "htest.h"
#include <kernel/cpio.h>
#include <kernel/errno.h>

/* ---- a newc writer ---------------------------------------------------------- */

#define AR_CAP (256 * 1024)
static uint8_t ar[AR_CAP];
static size_t ar_len;

/* Field numbers after the magic, as in the format. */
enum { F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_FILESIZE, F_NAMESIZE = 11,
       F_CHECK = 12 };

static void put(const void *p, size_t n)
{
    if (ar_len + n > AR_CAP)
        abort();
    memcpy(ar + ar_len, p, n);
    ar_len += n;
}

static void pad4(void)
{
    while (ar_len % 4)
        put("", 1);
}

static void ar_reset(void)
{
    memset(ar, 0, sizeof(ar));
    ar_len = 0;
}

/* One entry; returns its offset.  namesize counts the NUL, as stored. */
static size_t ar_add(const char *name, uint32_t mode, const void *data,
                     size_t size)
{
    static uint32_t ino = 1000;
    size_t at = ar_len;
    char hdr[CPIO_HDR_SIZE + 1];
    snprintf(hdr, sizeof(hdr),
             "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
             ino++, mode, 0u, 0u, 1u, 0x5f000000u, (unsigned)size, 0u, 0u, 0u, 0u,
             (unsigned)strlen(name) + 1, 0u);
    put(hdr, CPIO_HDR_SIZE);
    put(name, strlen(name) + 1);
    pad4();
    put(data, size);
    pad4();
    return at;
}

static size_t ar_trailer(void)
{
    return ar_add("TRAILER!!!", 0, "", 0);
}

/* Overwrite field f of the header at `at` with 8 hex digits of v. */
static void set_field(size_t at, int f, uint32_t v)
{
    char digits[9];
    snprintf(digits, sizeof(digits), "%08x", v);
    memcpy(ar + at + 6 + 8 * f, digits, 8);
}

static const char init_text[] = "\177ELF pretend this is a program";
static const char motd[] = "hello\n";

/*
 * The standard archive: ./bin/init (a file), ./bin/sh -> init (a
 * symlink), ./etc/motd, with the names as `find .` prints them.  GNU cpio
 * drops the leading "./" (t_gnu_cpio), other writers keep it: both forms
 * must be found.
 */
static size_t off_root, off_bin, off_init, off_sh, off_etc, off_motd, off_trailer;

static void make_standard(void)
{
    ar_reset();
    off_root = ar_add(".", CPIO_S_IFDIR | 0755, "", 0);
    off_bin = ar_add("./bin", CPIO_S_IFDIR | 0755, "", 0);
    off_init = ar_add("./bin/init", CPIO_S_IFREG | 0755, init_text,
                      sizeof(init_text) - 1);
    off_sh = ar_add("./bin/sh", CPIO_S_IFLNK | 0777, "init", 4);
    off_etc = ar_add("./etc", CPIO_S_IFDIR | 0755, "", 0);
    off_motd = ar_add("./etc/motd", CPIO_S_IFREG | 0644, motd, sizeof(motd) - 1);
    off_trailer = ar_trailer();
}

/* ---- calling the reader on exact-size copies ----------------------------------- */

static uint8_t *copy_of(size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    if (!c)
        abort();
    memcpy(c, ar, len);
    return c;
}

static long check_len(size_t len, const char **why)
{
    uint8_t *c = copy_of(len);
    *why = NULL;
    long r = cpio_check(c, len, why);
    free(c);
    return r;
}

/* The archive (first len bytes) must be refused, with `word` in the reason. */
static void expect_bad_len(size_t len, const char *word)
{
    const char *why;
    long r = check_len(len, &why);
    HT_ASSERT(r == -EINVAL, "accepted (%ld), expected a refusal about '%s'", r, word);
    HT_ASSERT(why && strstr(why, word), "reason \"%s\" does not mention '%s'",
              why ? why : "(none)", word);
}

static void expect_bad(const char *word)
{
    expect_bad_len(ar_len, word);
}

/* Find `path` in a copy; the entry's pointers are turned into offsets. */
static int find(const char *path, struct cpio_entry *e, size_t *data_off,
                const char **why)
{
    uint8_t *c = copy_of(ar_len);
    *why = NULL;
    int r = cpio_find(c, ar_len, path, e, why);
    if (r == 0)
        *data_off = (size_t)(e->data - c);
    free(c);
    e->name = NULL;
    e->data = NULL;
    return r;
}

/* ---- accepted archives ------------------------------------------------------------ */

static void t_trailer_only(void)
{
    const char *why;
    ar_reset();
    ar_trailer();
    HT_ASSERT(check_len(ar_len, &why) == 0, "refused: %s", why);
}

static void t_walk(void)
{
    struct cpio_iter it;
    struct cpio_entry e;
    const char *why = NULL;
    make_standard();
    uint8_t *c = copy_of(ar_len);
    static const struct { const char *name; uint32_t type; size_t off, size; } want[] = {
        { ".", CPIO_S_IFDIR, 0, 0 },
        { "./bin", CPIO_S_IFDIR, 0, 0 },
        { "./bin/init", CPIO_S_IFREG, 0, sizeof(init_text) - 1 },
        { "./bin/sh", CPIO_S_IFLNK, 0, 4 },
        { "./etc", CPIO_S_IFDIR, 0, 0 },
        { "./etc/motd", CPIO_S_IFREG, 0, sizeof(motd) - 1 },
    };
    cpio_iter_init(&it, c, ar_len);
    for (size_t i = 0; i < HT_COUNT(want); i++) {
        int r = cpio_next(&it, &e, &why);
        if (r != 1) {
            free(c);
            HT_FAIL("entry %zu: cpio_next = %d (%s)", i, r, why ? why : "");
        }
        bool ok = strcmp(e.name, want[i].name) == 0 &&
                  e.name_len == strlen(want[i].name) &&
                  (e.mode & CPIO_S_IFMT) == want[i].type &&
                  e.size == want[i].size && e.nlink == 1 &&
                  e.mtime == 0x5f000000u &&
                  cpio_is_dir(&e) == (want[i].type == CPIO_S_IFDIR) &&
                  cpio_is_reg(&e) == (want[i].type == CPIO_S_IFREG);
        if (ok && i == 2)
            ok = memcmp(e.data, init_text, e.size) == 0;
        if (ok && i == 3)
            ok = memcmp(e.data, "init", 4) == 0;
        if (!ok) {
            free(c);
            HT_FAIL("entry %zu (%s) read back wrong", i, want[i].name);
        }
    }
    int r1 = cpio_next(&it, &e, &why);
    int r2 = cpio_next(&it, &e, &why);
    free(c);
    HT_ASSERT(r1 == 0 && r2 == 0, "after the last entry: %d then %d", r1, r2);
    HT_EQ_U(check_len(ar_len, &why), 6);
}

static void t_find_forms(void)
{
    static const char *const forms[] = {
        "/bin/init", "bin/init", "./bin/init", "bin//init", "/./bin/./init",
        "//bin/init/", ".//bin/init",
    };
    struct cpio_entry e;
    size_t off;
    const char *why;
    make_standard();
    for (size_t i = 0; i < HT_COUNT(forms); i++) {
        int r = find(forms[i], &e, &off, &why);
        HT_ASSERT(r == 0, "\"%s\" not found (%d)", forms[i], r);
        HT_EQ_U(e.size, sizeof(init_text) - 1);
        HT_ASSERT(cpio_is_reg(&e), "\"%s\" is not a regular file", forms[i]);
        HT_EQ_U(off, off_init + 124); /* 110 + 11 padded to 124 */
    }
    HT_ASSERT(find("/bin", &e, &off, &why) == 0 && cpio_is_dir(&e),
              "/bin is not found as a directory");
    HT_ASSERT(find("/", &e, &off, &why) == 0 && cpio_is_dir(&e) && e.name_len == 1,
              "/ is not the entry \".\"");
    HT_ASSERT(find("etc/motd", &e, &off, &why) == 0 && e.size == sizeof(motd) - 1,
              "etc/motd");
    static const char *const absent[] = {
        "bin/ini", "bin/init/x", "bin/initx", "/sbin/init", "init", "bin/../bin/init",
        "TRAILER!!!", "etc/motd\n",
    };
    for (size_t i = 0; i < HT_COUNT(absent); i++) {
        int r = find(absent[i], &e, &off, &why);
        HT_ASSERT(r == -ENOENT, "\"%s\": %d, expected -ENOENT", absent[i], r);
    }
}

static void t_name_eq(void)
{
    static const struct { const char *a, *b; bool eq; } t[] = {
        { "", "", true }, { "/", ".", true }, { "./", "", true },
        { "a", "a", true }, { "a", "b", false }, { "a/b", "a/b/", true },
        { "a/b", "ab", false }, { "a/b", "a", false }, { "a", "a/b", false },
        { "a/./b", "a/b", true }, { "a/../b", "b", false }, { "..", "..", true },
        { ".a", "a", false }, { "a.", "a", false }, { "./.", "/", true },
        { "bin/sh", "/bin///sh", true }, { "abc", "abd", false },
    };
    for (size_t i = 0; i < HT_COUNT(t); i++) {
        HT_ASSERT(cpio_name_eq(t[i].a, t[i].b) == t[i].eq,
                  "\"%s\" vs \"%s\": expected %s", t[i].a, t[i].b,
                  t[i].eq ? "equal" : "different");
        HT_ASSERT(cpio_name_eq(t[i].b, t[i].a) == t[i].eq,
                  "\"%s\" vs \"%s\" (swapped)", t[i].b, t[i].a);
    }
}

/* Every name length and data size around the 4-byte padding. */
static void t_padding(void)
{
    char name[16], data[16];
    const char *why;
    for (int nl = 1; nl <= 9; nl++) {
        for (int ds = 0; ds <= 9; ds++) {
            ar_reset();
            memset(name, 'n', sizeof(name));
            name[nl] = 0;
            for (int i = 0; i < ds; i++)
                data[i] = (char)('a' + i);
            ar_add(name, CPIO_S_IFREG | 0644, data, (size_t)ds);
            ar_add("z", CPIO_S_IFREG | 0644, "Z", 1);
            ar_trailer();
            HT_ASSERT(ar_len % 4 == 0, "writer broke the padding");
            HT_ASSERT(check_len(ar_len, &why) == 2, "name %d data %d: %s", nl, ds,
                      why ? why : "wrong count");
            struct cpio_entry e;
            size_t off;
            HT_ASSERT(find(name, &e, &off, &why) == 0 && e.size == (uint64_t)ds &&
                      memcmp(ar + off, data, (size_t)ds) == 0 && off % 4 == 0,
                      "name %d data %d: first entry read back wrong", nl, ds);
            HT_ASSERT(find("z", &e, &off, &why) == 0 && e.size == 1 &&
                      ar[off] == 'Z', "name %d data %d: second entry", nl, ds);
        }
    }
}

/* The last of several entries with one name wins; so does a later type. */
static void t_duplicates(void)
{
    struct cpio_entry e;
    size_t off;
    const char *why;
    ar_reset();
    ar_add("bin/x", CPIO_S_IFREG | 0755, "one", 3);
    ar_add("./bin/x", CPIO_S_IFREG | 0755, "second", 6);
    ar_add("y", CPIO_S_IFREG | 0644, "y", 1);
    ar_trailer();
    HT_ASSERT(find("/bin/x", &e, &off, &why) == 0, "not found");
    HT_ASSERT(e.size == 6 && memcmp(ar + off, "second", 6) == 0,
              "the first copy was returned");
    ar_reset();
    ar_add("d", CPIO_S_IFREG | 0644, "file", 4);
    ar_add("d", CPIO_S_IFDIR | 0755, "", 0);
    ar_trailer();
    HT_ASSERT(find("d", &e, &off, &why) == 0 && cpio_is_dir(&e),
              "the later directory did not replace the file");
}

/* Hex digits in either case; what follows the trailer is never read. */
static void t_hex_case_and_tail(void)
{
    const char *why;
    make_standard();
    for (size_t i = 6; i < CPIO_HDR_SIZE; i++)
        if (ar[off_motd + i] >= 'A' && ar[off_motd + i] <= 'F')
            ar[off_motd + i] += 'a' - 'A';
    set_field(off_motd, F_INO, 0xabcdef12);
    HT_EQ_U(check_len(ar_len, &why), 6);
    /* Garbage after the trailer (GNU cpio pads to 512 bytes with zeros). */
    size_t len = ar_len;
    put("garbage that is not a header at all", 35);
    HT_EQ_U(check_len(ar_len, &why), 6);
    ar_len = len;
    put("\0\0\0\0\0\0\0\0", 8);
    HT_EQ_U(check_len(ar_len, &why), 6);
}

/* ---- refused archives ---------------------------------------------------------- */

static void t_empty_and_null(void)
{
    const char *why = NULL;
    HT_ASSERT(cpio_check(NULL, 0, &why) == -EINVAL && why && strstr(why, "TRAILER"),
              "NULL, 0: %s", why ? why : "accepted");
    why = NULL;
    HT_ASSERT(cpio_check(NULL, 1000, &why) == -EINVAL && why,
              "NULL with a length accepted");
    ar_reset();
    HT_TRY(expect_bad_len(0, "TRAILER"));
}

static void t_no_trailer(void)
{
    make_standard();
    HT_TRY(expect_bad_len(off_trailer, "TRAILER"));
    HT_TRY(expect_bad_len(off_motd, "TRAILER"));
}

/* Every proper prefix of a valid archive is refused. */
static void t_every_truncation(void)
{
    make_standard();
    for (size_t len = 0; len < ar_len; len++) {
        const char *why;
        long r = check_len(len, &why);
        HT_ASSERT(r == -EINVAL && why && why[0], "prefix of %zu/%zu bytes: %ld",
                  len, ar_len, r);
    }
}

static void t_truncation_reasons(void)
{
    make_standard();
    HT_TRY(expect_bad_len(off_motd + 50, "header"));
    HT_TRY(expect_bad_len(off_motd + CPIO_HDR_SIZE + 3, "name"));
    HT_TRY(expect_bad_len(off_motd + 124 + 2, "data"));
    /* The data's padding is part of the entry too. */
    HT_TRY(expect_bad_len(off_motd + 124 + 6, "data"));
}

static void t_bad_magic(void)
{
    static const char *const magics[] = { "070707", "070702", "070700", "170701",
                                          "07070l", "\0\0\0\0\0\0" };
    for (size_t i = 0; i < HT_COUNT(magics); i++) {
        make_standard();
        memcpy(ar + off_init, magics[i], 6);
        HT_TRY(expect_bad("magic"));
    }
    make_standard();
    ar[0] = 0x7f; /* an ELF where the initrd should be */
    HT_TRY(expect_bad("magic"));
}

static void t_bad_hex(void)
{
    static const char bad[] = { ' ', 'g', 'G', 'x', '-', '+', 0, '/', ':', '@', '`' };
    for (int f = 0; f < 13; f++) {
        for (size_t k = 0; k < sizeof(bad); k++) {
            make_standard();
            ar[off_init + 6 + 8 * f + (size_t)(f + k) % 8] = (uint8_t)bad[k];
            HT_TRY(expect_bad("hex digit"));
        }
    }
}

static void t_namesize(void)
{
    make_standard();
    set_field(off_init, F_NAMESIZE, 0);
    HT_TRY(expect_bad("empty name"));
    set_field(off_init, F_NAMESIZE, 1);
    HT_TRY(expect_bad("empty name"));
    set_field(off_init, F_NAMESIZE, 0xffffffff);
    HT_TRY(expect_bad("longer than 4096"));
    set_field(off_init, F_NAMESIZE, 4097);
    HT_TRY(expect_bad("longer than 4096"));
    /* One short: the last counted byte is 't', not the NUL. */
    set_field(off_init, F_NAMESIZE, 10);
    HT_TRY(expect_bad("NUL"));
    /* One long: the NUL is inside the name. */
    set_field(off_init, F_NAMESIZE, 12);
    HT_TRY(expect_bad("NUL"));
    /* Past the end of the archive. */
    set_field(off_init, F_NAMESIZE, 4096);
    ar_len = off_init + 2000;
    HT_TRY(expect_bad("name"));
}

static void t_name_max(void)
{
    static char name[CPIO_NAME_MAX + 1];
    const char *why;
    ar_reset();
    memset(name, 'a', CPIO_NAME_MAX - 1);
    name[CPIO_NAME_MAX - 1] = 0;
    ar_add(name, CPIO_S_IFREG | 0644, "x", 1);
    ar_trailer();
    HT_EQ_U(check_len(ar_len, &why), 1);
    ar_reset();
    name[CPIO_NAME_MAX - 1] = 'a';
    ar_add(name, CPIO_S_IFREG | 0644, "x", 1);
    ar_trailer();
    HT_TRY(expect_bad("longer than 4096"));
}

static void t_filesize(void)
{
    make_standard();
    set_field(off_motd, F_FILESIZE, 0xffffffff);
    HT_TRY(expect_bad("data"));
    make_standard();
    set_field(off_init, F_FILESIZE, 0x7fffffff);
    HT_TRY(expect_bad("data"));
    /* A size that lands the next header in the middle of the data. */
    make_standard();
    set_field(off_init, F_FILESIZE, 8);
    HT_TRY(expect_bad("magic"));
}

static void t_directory_with_data(void)
{
    make_standard();
    set_field(off_etc, F_FILESIZE, 4);
    HT_TRY(expect_bad("directory"));
}

/* A broken archive stays broken; the reason is repeated. */
static void t_error_sticks(void)
{
    struct cpio_iter it;
    struct cpio_entry e;
    const char *why1 = NULL, *why2 = NULL;
    make_standard();
    memcpy(ar + off_sh, "070707", 6);
    cpio_iter_init(&it, ar, ar_len);
    int r;
    int n = 0;
    while ((r = cpio_next(&it, &e, &why1)) > 0)
        n++;
    HT_ASSERT(r == -EINVAL && n == 3, "%d entries then %d", n, r);
    HT_ASSERT(cpio_next(&it, &e, &why2) == -EINVAL && why2 == why1,
              "the second call after the error changed its answer");
    HT_ASSERT(cpio_next(&it, &e, NULL) == -EINVAL, "why may be NULL");
    /* And cpio_find refuses, even for a name before the damage. */
    size_t off;
    HT_ASSERT(find("bin/init", &e, &off, &why1) == -EINVAL, "found in a broken archive");
}

/* ---- the real cpio ---------------------------------------------------------------- */

/* The Makefile's recipe for the initrd, on a small tree made here. */
static void t_gnu_cpio(void)
{
    char dir[] = "/tmp/test_cpio.XXXXXX", cmd[512], path[256];
    if (!mkdtemp(dir))
        HT_FAIL("mkdtemp failed");
    snprintf(cmd, sizeof(cmd),
             "cd %s && mkdir -p root/bin root/etc/empty && "
             "printf 'hello\\n' > root/etc/motd && "
             "head -c 10000 /dev/urandom > root/bin/prog && "
             "ln -s prog root/bin/link && "
             "cd root && find . -mindepth 1 | LC_ALL=C sort | "
             "cpio --quiet -o -H newc > ../a.cpio", dir);
    int st = system(cmd);
    snprintf(path, sizeof(path), "%s/a.cpio", dir);
    FILE *f = fopen(path, "rb");
    ar_reset();
    if (f) {
        ar_len = fread(ar, 1, sizeof(ar), f);
        fclose(f);
    }
    snprintf(path, sizeof(path), "%s/root/bin/prog", dir);
    static uint8_t prog[10000];
    f = fopen(path, "rb");
    size_t plen = f ? fread(prog, 1, sizeof(prog), f) : 0;
    if (f)
        fclose(f);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0 || st != 0)
        HT_FAIL("building the archive failed (status %d)", st);
    HT_ASSERT(plen == sizeof(prog), "could not read the file back");

    const char *why;
    HT_ASSERT(ar_len % 512 == 0, "GNU cpio output is %zu bytes, not blocks", ar_len);
    HT_EQ_U(check_len(ar_len, &why), 6); /* bin, bin/link, bin/prog, etc, etc/empty, etc/motd */
    struct cpio_entry e;
    size_t off;
    HT_ASSERT(find("/bin/prog", &e, &off, &why) == 0, "bin/prog not found");
    HT_ASSERT(cpio_is_reg(&e) && e.size == plen && memcmp(ar + off, prog, plen) == 0,
              "bin/prog read back wrong");
    HT_ASSERT(find("bin/link", &e, &off, &why) == 0 &&
              (e.mode & CPIO_S_IFMT) == CPIO_S_IFLNK && e.size == 4 &&
              memcmp(ar + off, "prog", 4) == 0, "the symlink read back wrong");
    HT_ASSERT(find("./etc/empty", &e, &off, &why) == 0 && cpio_is_dir(&e) &&
              e.size == 0, "etc/empty is not a directory");
    HT_ASSERT(find("etc/motd", &e, &off, &why) == 0 && e.size == 6 &&
              memcmp(ar + off, "hello\n", 6) == 0, "etc/motd");
    /* Cut anywhere before the trailer (in the last 512 bytes): refused. */
    for (size_t len = 0; len + 512 <= ar_len; len += 7)
        HT_TRY(expect_bad_len(len, ""));
}

/* ---- random corruption ----------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const char hexchars[] = "0123456789abcdefABCDEF";

/* What every entry of an accepted archive must satisfy. */
static void check_accepted(const uint8_t *c, size_t len, int iter)
{
    struct cpio_iter it;
    struct cpio_entry e;
    const char *why;
    size_t prev_end = 0;
    int r;
    cpio_iter_init(&it, c, len);
    while ((r = cpio_next(&it, &e, &why)) > 0) {
        const uint8_t *n = (const uint8_t *)e.name;
        HT_ASSERT(n >= c + prev_end + CPIO_HDR_SIZE && n + e.name_len < c + len,
                  "iter %d: name outside the archive", iter);
        HT_ASSERT(strlen(e.name) == e.name_len && e.name_len > 0,
                  "iter %d: name length", iter);
        HT_ASSERT(e.data >= n + e.name_len + 1 && e.data <= c + len &&
                  e.size <= (uint64_t)(c + len - e.data),
                  "iter %d: data outside the archive", iter);
        HT_ASSERT(((size_t)(e.data - c)) % 4 == 0, "iter %d: data misaligned", iter);
        HT_ASSERT(!cpio_is_dir(&e) || e.size == 0, "iter %d: directory with data", iter);
        prev_end = (size_t)(e.data - c) + (size_t)((e.size + 3) & ~3ul);
        struct cpio_entry f;
        HT_ASSERT(cpio_find(c, len, e.name, &f, &why) == 0,
                  "iter %d: \"%s\" listed but not found", iter, e.name);
    }
    HT_ASSERT(r == 0, "iter %d: check passed, walk failed", iter);
}

static void t_mutations(void)
{
    const int iters = 5000;
    int accepted = 0, refused = 0;
    rng_state = 0x6370696f2d6e6577ul;
    for (int it = 0; it < iters; it++) {
        make_standard();
        int changes = 1 + (int)(rng() % 3);
        for (int k = 0; k < changes; k++) {
            uint64_t r = rng();
            size_t at = (size_t)(r % ar_len);
            switch ((r >> 32) % 5) {
            case 0: ar[at] ^= (uint8_t)(1u << ((r >> 40) % 8)); break;
            case 1: ar[at] = (uint8_t)(r >> 48); break;
            /* A hex digit for a hex digit: keeps headers parseable. */
            case 2: case 3: {
                size_t hdrs[] = { off_root, off_bin, off_init, off_sh, off_etc,
                                  off_motd, off_trailer };
                size_t h = hdrs[(r >> 40) % 7];
                ar[h + 6 + (r >> 48) % 104] = (uint8_t)hexchars[(r >> 56) % 22];
                break;
            }
            default: ar[at] = 0; break;
            }
        }
        size_t len = ar_len;
        if (rng() % 8 == 0)
            len = rng() % ar_len;
        uint8_t *c = copy_of(len);
        const char *why = NULL;
        long r = cpio_check(c, len, &why);
        if (r >= 0) {
            accepted++;
            check_accepted(c, len, it);
        } else {
            refused++;
            if (!why || !why[0]) {
                free(c);
                HT_FAIL("iter %d: refused with no reason", it);
            }
        }
        free(c);
        if (ht_failed)
            return;
    }
    HT_ASSERT(accepted > iters / 20 && refused > iters / 20,
              "%d accepted, %d refused: mutations too weak or too strong",
              accepted, refused);
}

static const struct htest cases[] = {
    HT_CASE(trailer_only),
    HT_CASE(walk),
    HT_CASE(find_forms),
    HT_CASE(name_eq),
    HT_CASE(padding),
    HT_CASE(duplicates),
    HT_CASE(hex_case_and_tail),
    HT_CASE(empty_and_null),
    HT_CASE(no_trailer),
    HT_CASE(every_truncation),
    HT_CASE(truncation_reasons),
    HT_CASE(bad_magic),
    HT_CASE(bad_hex),
    HT_CASE(namesize),
    HT_CASE(name_max),
    HT_CASE(filesize),
    HT_CASE(directory_with_data),
    HT_CASE(error_sticks),
    HT_CASE(gnu_cpio),
    HT_CASE(mutations),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
