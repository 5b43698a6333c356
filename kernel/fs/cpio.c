/*
 * The initrd reader (see include/kernel/cpio.h for the contract).
 *
 * Invariant of the walk: it->off is where the next header starts, it is a
 * multiple of 4 (the format keeps every header 4-byte aligned) and
 * it->off <= it->len.  Every size read from a header is at most 2^32 - 1
 * (eight hex digits), so sums of one offset and a few such sizes cannot
 * overflow 64 bits; they are still compared with what is left of the
 * buffer (len - off) rather than added to off, so the code stays right on
 * a target whose size_t is 32 bits.
 *
 * Deliberately left out: the "070702" variant (newc with a checksum,
 * `cpio -H crc`), the old binary and "odc" formats, compressed archives,
 * several archives one after the other (Linux accepts those; our initrd
 * is one archive made by the Makefile), and hard links (newc stores a
 * hard-linked file's bytes only with the last of its names; the others
 * read as empty files here).
 */
#include <kernel/cpio.h>
#include <kernel/errno.h>
#include <kernel/string.h>

/* Offsets of the fields in the header, after the six-byte magic. */
enum {
    F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_FILESIZE,
    F_DEVMAJOR, F_DEVMINOR, F_RDEVMAJOR, F_RDEVMINOR, F_NAMESIZE, F_CHECK,
    F_COUNT
};
_Static_assert(6 + F_COUNT * 8 == CPIO_HDR_SIZE, "newc header is 110 bytes");

static const char trailer_name[] = "TRAILER!!!";

/* Eight ASCII hex digits, either case; nothing else (no sign, no space). */
static bool hex8(const uint8_t *s, uint32_t *out)
{
    uint32_t v = 0;

    for (int i = 0; i < 8; i++) {
        uint8_t c = s[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return false;
        v = v << 4 | d;     /* 8 digits: never more than 32 bits */
    }
    *out = v;
    return true;
}

static uint64_t pad4(uint64_t n)
{
    return (n + 3) & ~3ul;
}

void cpio_iter_init(struct cpio_iter *it, const void *buf, size_t len)
{
    it->buf = buf;
    it->len = buf ? len : 0;
    it->off = 0;
    it->state = 0;
    it->why = NULL;
}

static int broken(struct cpio_iter *it, const char *reason, const char **why)
{
    it->state = -EINVAL;
    it->why = reason;
    if (why)
        *why = reason;
    return -EINVAL;
}

int cpio_next(struct cpio_iter *it, struct cpio_entry *e, const char **why)
{
    if (it->state < 0) {
        if (why)
            *why = it->why;
        return it->state;
    }
    if (it->state > 0)
        return 0;

    uint64_t left = it->len - it->off;
    uint32_t f[F_COUNT];

    if (left == 0)
        return broken(it, "initrd ends without the TRAILER!!! entry", why);
    const uint8_t *h = it->buf + it->off;
    if (left < CPIO_HDR_SIZE)
        return broken(it, "initrd is truncated inside an entry header", why);
    if (memcmp(h, "070701", 6) != 0)
        return broken(it, "initrd entry has a bad magic (not cpio newc 070701)",
                      why);
    for (int i = 0; i < F_COUNT; i++)
        if (!hex8(h + 6 + 8 * i, &f[i]))
            return broken(it, "initrd entry header has a character that is "
                              "not a hex digit", why);

    uint32_t namesize = f[F_NAMESIZE];
    if (namesize < 2)
        return broken(it, "initrd entry has an empty name", why);
    if (namesize > CPIO_NAME_MAX)
        return broken(it, "initrd entry name is longer than 4096 bytes", why);
    /* Header plus name, padded: both at most 2^32, no overflow. */
    uint64_t head = pad4(CPIO_HDR_SIZE + (uint64_t)namesize);
    if (head > left)
        return broken(it, "initrd is truncated inside an entry name", why);
    const char *name = (const char *)h + CPIO_HDR_SIZE;
    if (name[namesize - 1] != 0 || strnlen(name, namesize) != namesize - 1)
        return broken(it, "initrd entry name is not one NUL-terminated string",
                      why);

    if (namesize == sizeof(trailer_name) &&
        memcmp(name, trailer_name, sizeof(trailer_name)) == 0) {
        it->state = 1;
        it->off = it->len;
        return 0;
    }

    uint64_t size = f[F_FILESIZE];
    if (pad4(size) > left - head)
        return broken(it, "initrd is truncated inside an entry's data", why);
    if ((f[F_MODE] & CPIO_S_IFMT) == CPIO_S_IFDIR && size != 0)
        return broken(it, "initrd directory entry carries data", why);

    e->name = name;
    e->name_len = namesize - 1;
    e->mode = f[F_MODE];
    e->ino = f[F_INO];
    e->uid = f[F_UID];
    e->gid = f[F_GID];
    e->nlink = f[F_NLINK];
    e->mtime = f[F_MTIME];
    e->data = h + head;
    e->size = size;
    it->off += head + pad4(size);
    return 1;
}

long cpio_check(const void *buf, size_t len, const char **why)
{
    struct cpio_iter it;
    struct cpio_entry e;
    long n = 0;
    int r;

    cpio_iter_init(&it, buf, len);
    while ((r = cpio_next(&it, &e, why)) > 0)
        n++;
    return r < 0 ? r : n;
}

/*
 * The next component of a path at *p: skip '/'s and "." components,
 * return its start and length (0 at the end), leave *p after it.
 */
static size_t next_component(const char **p, const char **start)
{
    for (;;) {
        const char *s = *p;
        while (*s == '/')
            s++;
        size_t n = 0;
        while (s[n] && s[n] != '/')
            n++;
        *p = s + n;
        if (n == 1 && s[0] == '.')
            continue;
        *start = s;
        return n;
    }
}

bool cpio_name_eq(const char *a, const char *b)
{
    for (;;) {
        const char *sa, *sb;
        size_t na = next_component(&a, &sa);
        size_t nb = next_component(&b, &sb);
        if (na != nb || memcmp(sa, sb, na) != 0)
            return false;
        if (na == 0)
            return true;
    }
}

int cpio_find(const void *buf, size_t len, const char *path,
              struct cpio_entry *e, const char **why)
{
    struct cpio_iter it;
    struct cpio_entry cur;
    bool found = false;
    int r;

    cpio_iter_init(&it, buf, len);
    while ((r = cpio_next(&it, &cur, why)) > 0) {
        if (cpio_name_eq(cur.name, path)) {
            *e = cur;
            found = true;
        }
    }
    if (r < 0)
        return r;
    return found ? 0 : -ENOENT;
}
