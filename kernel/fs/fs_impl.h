/*
 * What the file system calls (kernel/fs/sys_*.c) share: the user path
 * copy and the starting directory of the *at calls (kernel/fs/sys_file.c).
 * Internal to kernel/fs/.
 */
#ifndef KERNEL_FS_FS_IMPL_H
#define KERNEL_FS_FS_IMPL_H

#include <kernel/vfs.h>

#define R_OK 4
#define W_OK 2
#define X_OK 1

/*
 * Copy a user path into a new PATH_MAX buffer (*name, to be freed with
 * kfree, also on failure: NULL then).  Linux's getname: -EFAULT,
 * -ENAMETOOLONG (no NUL in PATH_MAX bytes), -ENOENT for "" unless
 * empty_ok.  Returns the length.
 */
long getname(uint64_t upath, char **name, bool empty_ok);
/*
 * The directory a relative path starts from: AT_FDCWD's working directory
 * or dirfd's, borrowed for the call (NULL means the working directory).
 * An absolute path needs none (dirfd is not even looked at, as Linux).
 * -EBADF, -ENOTDIR (dirfd is not a directory).
 */
int dirfd_base(int dirfd, const char *path, struct inode **base);
/* getname + dirfd_base + namei; an empty path with empty_ok resolves to
 * dirfd's own inode (AT_FDCWD: the working directory), any kind. */
int user_namei(int dirfd, uint64_t upath, unsigned lookup, bool empty_ok, struct inode **out);
/* The same for the parent (np.last points into *name: free it after). */
int user_namei_parent(int dirfd, uint64_t upath, char **name, struct nameparent *np);

#endif
