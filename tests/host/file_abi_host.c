/*
 * The host C library's view of Linux's x86-64 structures, for
 * tests/host/test_file.c to compare with include/kernel/file.h.  Kept in
 * its own file: <sys/stat.h> and <fcntl.h> define the same macro names as
 * the kernel header.
 */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "file_abi_host.h"

const struct host_abi host_abi = {
    .stat_size = sizeof(struct stat),
    .off_dev = offsetof(struct stat, st_dev),
    .off_ino = offsetof(struct stat, st_ino),
    .off_nlink = offsetof(struct stat, st_nlink),
    .off_mode = offsetof(struct stat, st_mode),
    .off_uid = offsetof(struct stat, st_uid),
    .off_gid = offsetof(struct stat, st_gid),
    .off_rdev = offsetof(struct stat, st_rdev),
    .off_size = offsetof(struct stat, st_size),
    .off_blksize = offsetof(struct stat, st_blksize),
    .off_blocks = offsetof(struct stat, st_blocks),
    .off_atim = offsetof(struct stat, st_atim),
    .off_mtim = offsetof(struct stat, st_mtim),
    .off_ctim = offsetof(struct stat, st_ctim),
    .iovec_size = sizeof(struct iovec),
    .off_iov_len = offsetof(struct iovec, iov_len),
    .o_wronly = O_WRONLY, .o_rdwr = O_RDWR, .o_creat = O_CREAT, .o_excl = O_EXCL,
    .o_trunc = O_TRUNC, .o_append = O_APPEND, .o_nonblock = O_NONBLOCK,
    .o_directory = O_DIRECTORY, .o_cloexec = O_CLOEXEC,
    .f_dupfd_cloexec = F_DUPFD_CLOEXEC, .at_fdcwd = AT_FDCWD,
    .at_empty_path = AT_EMPTY_PATH,
    .s_ifdir = S_IFDIR, .s_ifreg = S_IFREG, .s_ififo = S_IFIFO, .s_ifchr = S_IFCHR,
    .seek_data = SEEK_DATA, .seek_hole = SEEK_HOLE,
};
