/* Numbers of the host's Linux ABI (tests/host/file_abi_host.c). */
#ifndef FILE_ABI_HOST_H
#define FILE_ABI_HOST_H

#include <stddef.h>

struct host_abi {
    size_t stat_size, off_dev, off_ino, off_nlink, off_mode, off_uid, off_gid, off_rdev,
        off_size, off_blksize, off_blocks, off_atim, off_mtim, off_ctim;
    size_t iovec_size, off_iov_len;
    long o_wronly, o_rdwr, o_creat, o_excl, o_trunc, o_append, o_nonblock, o_directory,
        o_cloexec, f_dupfd_cloexec, at_fdcwd, at_empty_path;
    long s_ifdir, s_ifreg, s_ififo, s_ifchr, seek_data, seek_hole;
};

extern const struct host_abi host_abi;

#endif
