/*
 * Reading the initrd: a cpio archive in the "newc" format (what
 * `cpio -o -H newc` and Linux's initramfs use), read in place.
 *
 * Each entry is a 110-byte ASCII header ("070701" and thirteen 8-digit
 * hex fields), the path name with its NUL, zero padding to a multiple of
 * 4 bytes, the file's bytes, zero padding to 4 again.  The entry named
 * "TRAILER!!!" ends the archive; anything after it is ignored.
 *
 * The archive is untrusted: every entry is checked against the buffer
 * before anything in it is returned, and a broken archive gives -EINVAL
 * with a static English sentence saying why.  Nothing is allocated and
 * nothing is written: entries point into the caller's buffer, which must
 * stay mapped (and unchanged) while they are used.  Pure code, host-tested
 * (tests/host/test_cpio.c, tests/fuzz/fuzz_exec.c).  docs/exec.md has the
 * format with an example.
 */
#ifndef KERNEL_CPIO_H
#define KERNEL_CPIO_H

#include <kernel/types.h>

#define CPIO_HDR_SIZE 110
/* Longest accepted name, its NUL included (Linux's PATH_MAX). */
#define CPIO_NAME_MAX 4096

/* File types in the mode field: the st_mode bits of POSIX. */
#define CPIO_S_IFMT  0170000u
#define CPIO_S_IFDIR 0040000u
#define CPIO_S_IFREG 0100000u
#define CPIO_S_IFLNK 0120000u

/* One entry, as a view into the archive. */
struct cpio_entry {
    const char *name;     /* as stored ("./bin/init", "bin", "."), NUL-terminated */
    size_t name_len;      /* strlen(name), at least 1 */
    uint32_t mode;        /* file type (CPIO_S_IF*) and permission bits */
    uint32_t ino, uid, gid, nlink, mtime;
    const uint8_t *data;  /* the file's bytes (a symlink's: its target) */
    uint64_t size;        /* 0 for directories, always */
};

static inline bool cpio_is_dir(const struct cpio_entry *e)
{
    return (e->mode & CPIO_S_IFMT) == CPIO_S_IFDIR;
}

static inline bool cpio_is_reg(const struct cpio_entry *e)
{
    return (e->mode & CPIO_S_IFMT) == CPIO_S_IFREG;
}

/* A walk over an archive; set up by cpio_iter_init, no other state. */
struct cpio_iter {
    const uint8_t *buf;
    size_t len;
    size_t off;           /* where the next header starts */
    int state;            /* 0 walking, 1 trailer seen, -EINVAL broken */
    const char *why;      /* the reason, once broken */
};

void cpio_iter_init(struct cpio_iter *it, const void *buf, size_t len);

/*
 * The next entry.  Returns 1 and fills *e; 0 at the trailer (and on every
 * later call); -EINVAL with *why set when the entry is malformed or the
 * archive ends before its trailer (and the same on every later call).
 * `why` may be NULL.  The trailer itself is never returned as an entry.
 */
int cpio_next(struct cpio_iter *it, struct cpio_entry *e, const char **why);

/*
 * Walk the whole archive.  Returns the number of entries before the
 * trailer (>= 0), or -EINVAL with *why set.  The kernel calls this once
 * at boot, to refuse a broken initrd with one clear message.
 */
long cpio_check(const void *buf, size_t len, const char **why);

/*
 * Find `path` in the archive.  "/bin/sh", "bin/sh", "./bin/sh" and
 * "bin//sh/" name the same entry (see cpio_name_eq).  When several
 * entries have the name, the last one wins, as when Linux unpacks an
 * initramfs over itself.  Returns 0 and fills *e; -ENOENT when no entry
 * has the name; -EINVAL with *why when the archive is broken anywhere
 * (the whole archive is walked, so the answer never depends on where the
 * damage is).  The caller checks the type: cpio_is_reg() before exec.
 */
int cpio_find(const void *buf, size_t len, const char *path,
              struct cpio_entry *e, const char **why);

/*
 * Do two paths name the same entry?  Both are split at '/', and empty
 * and "." components are dropped; the rest must match one for one.
 * ".." is not resolved (it only matches a literal ".." component).
 * The root is the empty path: "/", ".", "" all match the entry ".".
 */
bool cpio_name_eq(const char *a, const char *b);

#endif
