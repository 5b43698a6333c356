/* Starting programs from the initrd (kernel/proc/exec.c). */
#ifndef KERNEL_EXEC_H
#define KERNEL_EXEC_H

#include <kernel/task.h>
#include <kernel/user_stack.h>

/*
 * Give task t a fresh image of the initrd program at path, with these
 * arguments and environment (kernel copies).  On success t's address
 * space is replaced and its trap frame points at the program's entry;
 * on failure (-ENOENT, -EACCES, -ENOEXEC, -E2BIG, -ENOMEM) t is left
 * exactly as it was.
 */
int exec_image(struct task *t, const char *path, const struct user_strings *argv,
               const struct user_strings *envp);

/*
 * execve's work: copy the path and the argv/envp vectors from user memory
 * (vectors of ptr_size-byte pointers: 8 for 64-bit callers, 4 for i386
 * ones, zero-extended) and exec_image.  0 or -errno.
 */
long do_execve(uint64_t upath, uint64_t uargv, uint64_t uenvp, unsigned ptr_size);

/* A read-only mapping object for the initrd file whose bytes are
 * [data, data + size), or NULL when those bytes are not an initrd file. */
struct vm_file;
const struct vm_file *initrd_file_view(const uint8_t *data, uint64_t size);

/* Start PID 1 from the command line's init= (default /bin/init). */
void start_init(void);

#endif
