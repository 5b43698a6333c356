/* Starting programs: execve (kernel/proc/exec.c, kernel/proc/exec_file.c). */
#ifndef KERNEL_EXEC_H
#define KERNEL_EXEC_H

#include <kernel/task.h>
#include <kernel/user_stack.h>

/*
 * Give task t a fresh image of the program at path (resolved as open
 * does, from the working directory), with these arguments and
 * environment (kernel copies); a "#!" script runs its interpreter.  On
 * success t's address space is replaced and its trap frame points at the
 * program's entry; on failure (-ENOENT, -ENOTDIR, -EACCES, -ENOEXEC,
 * -ELOOP, -ENAMETOOLONG, -E2BIG, -ENOMEM) t is left exactly as it was.
 */
int exec_image(struct task *t, const char *path, const struct user_strings *argv,
               const struct user_strings *envp);

/*
 * execve's work: copy the path and the argv/envp vectors from user memory
 * (vectors of ptr_size-byte pointers: 8 for 64-bit callers, 4 for i386
 * ones, zero-extended) and exec_image.  0 or -errno.
 */
long do_execve(uint64_t upath, uint64_t uargv, uint64_t uenvp, unsigned ptr_size);
/* RLIMIT_STACK of the calling task, in bytes (RLIM_INFINITY: ~0): the
 * stack's growth limit (mm_stack_limit) and exec's argument limit
 * (user_stack_arg_limit). */
uint64_t exec_stack_limit(void);

/* A read-only mapping object for the initrd file whose bytes are
 * [data, data + size), or NULL when those bytes are not an initrd file. */
struct vm_file;
struct file;
const struct vm_file *initrd_file_view(const uint8_t *data, uint64_t size);
/* mmap of an open file: the mapping object of a tmpfs file whose bytes
 * are all still the initrd's, else NULL (-ENODEV for the caller). */
const struct vm_file *file_mmap_view(struct file *f);

/* ---- the file to run (kernel/proc/exec_file.c) ---------------------------------- */

struct inode;

/* The first bytes read for "#!" (Linux's BINPRM_BUF_SIZE). */
#define EXEC_LINE_MAX 256

/* An executable found by exec_file_open. */
struct exec_file {
    struct inode *ino;       /* referenced */
    char *exe;               /* its absolute path (kmalloc'ed, PATH_MAX bytes) */
    const uint8_t *data;     /* its bytes: the initrd's in place, or a vmalloc'ed copy */
    uint64_t size;
    bool copied;             /* data is a copy (the file is in page-cache pages) */
    const char *name;        /* in place: the initrd entry's name (/proc/self/maps) */
};

/* Find path as open does and check it may run: 0, or -ENOENT, -ENOTDIR,
 * -ELOOP, -ENAMETOOLONG, -EACCES (not a regular file, no x bit), -ENOMEM. */
int exec_file_open(const char *path, struct exec_file *xf);
void exec_file_close(struct exec_file *xf);
/*
 * A "#!" script?  0: no; 1: yes, with *interp and *arg (NULL: none)
 * pointing into line; -ENOEXEC: a "#!" line without an interpreter.
 */
int exec_script(const struct exec_file *xf, char line[EXEC_LINE_MAX], const char **interp,
                const char **arg);
/* The interpreter's argv: interp, arg (if any), script, argv[1..], into
 * buf (cap bytes): 0 or -E2BIG. */
int exec_script_argv(const char *interp, const char *arg, const char *script,
                     const struct user_strings *argv, char *buf, size_t cap,
                     struct user_strings *out);

/* Start PID 1 from the command line's init= (default /bin/init). */
void start_init(void);

#endif
