/*
 * What the two halves of test_tmpfs share: the tree each case starts
 * from, and small wrappers around the system calls.
 *
 *   tests/host/test_tmpfs.c        inodes, the page cache, seeding from the
 *                                  initrd, sizes, ENOSPC, leaks, attributes
 *   tests/host/test_tmpfs_names.c  path resolution, names, links, rename,
 *                                  getdents, the working directory, /proc
 *   tests/host/test_tmpfs_swap.c   the page cache's pages on swap
 */
#ifndef TEST_TMPFS_H
#define TEST_TMPFS_H

#include "htest.h"
#include "file_host.h"
#include "fs_host.h"
#include <kernel/errno.h>
#include <kernel/syscall.h>
#include <kernel/vfs.h>

#define INIT_TEXT "\177ELF pretend program"
#define MOTD_TEXT "hello\n"

/* The archive: /bin/init (0755), /etc/motd, /etc/link -> motd,
 * /bin/sh -> init, /lib/deep/file ("lib" implied). */
void tt_setup(void);
/* Leak check and cleanup; fails the case when something is left. */
#define TT_TEARDOWN()                                                       \
    do {                                                                    \
        const char *tt_leak_ = fs_host_teardown();                          \
        HT_ASSERT(!tt_leak_, "leak: %s", tt_leak_);                         \
    } while (0)

long tt_open(const char *path, unsigned flags, unsigned mode);
long tt_write(long fd, const void *buf, size_t n);
long tt_read(long fd, void *buf, size_t n);
long tt_stat(const char *path, struct linux_stat *st);
long tt_lstat(const char *path, struct linux_stat *st);
/* A whole file's contents into buf (size bytes): the length, or -errno. */
long tt_slurp(const char *path, char *buf, size_t size);
/* Write a new file with these contents: 0 or -errno. */
long tt_put(const char *path, const char *text);

/* The cases of test_tmpfs_names.c. */
extern const struct htest tt_name_cases[];
extern const size_t tt_name_count;
/* The cases of test_tmpfs_swap.c (pages on swap, through a fake store). */
extern const struct htest tt_swap_cases[];
extern const size_t tt_swap_count;

#endif
