/*
 * The memory system calls: thin wrappers from Linux's ABI to the address
 * space (mm/mmap.c): brk, mmap, munmap, mprotect, madvise, mincore.
 */
#include <kernel/syscall.h>
#include <kernel/errno.h>
#include <kernel/exec.h>
#include <kernel/file.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>
#include <mm/vma.h>
#include <mm/page.h>

long sys_brk(const struct sysargs *a)
{
    /* mm_brk refuses a growth no RAM could back (Linux's heuristic
     * overcommit): the break then stays where it was. */
    return (long)mm_brk(current->mm, a->arg[0]);
}

long sys_mmap(const struct sysargs *a)
{
    uint64_t addr = a->arg[0], len = a->arg[1], off = a->arg[5];
    unsigned prot = (unsigned)a->arg[2], flags = (unsigned)a->arg[3];
    int fd = (int)a->arg[4];
    const struct vm_file *vf = NULL;
    if (!(flags & MAP_ANONYMOUS)) {
        /* Files: the initrd's, read-only (private copies may be written). */
        struct file *f = fd >= 0 ? fd_file(fd) : NULL;
        if (!f)
            return -EBADF;
        if ((f->flags & O_ACCMODE) == O_WRONLY)
            return -EACCES;
        vf = f->data ? initrd_file_view(f->data, f->size) : NULL;
        if (!vf)
            return -ENODEV;   /* pipes, the console, /proc: no mmap */
    }
    uint64_t out;
    int err = mm_mmap(current->mm, addr, len, prot, flags, vf, off, &out);
    return err ? err : (long)out;
}

long sys_munmap(const struct sysargs *a)
{
    return mm_munmap(current->mm, a->arg[0], a->arg[1]);
}

long sys_mprotect(const struct sysargs *a)
{
    return mm_mprotect(current->mm, a->arg[0], a->arg[1], (unsigned)a->arg[2]);
}

long sys_madvise(const struct sysargs *a)
{
    return mm_madvise(current->mm, a->arg[0], a->arg[1], (int)a->arg[2]);
}

long sys_mincore(const struct sysargs *a)
{
    uint64_t addr = a->arg[0], len = a->arg[1], uvec = a->arg[2];
    uint8_t vec[256];
    if (addr & 4095)
        return -EINVAL;
    if (len > UINT64_MAX - 4095 || addr + len < addr)
        return -ENOMEM;
    uint64_t pages = (len + 4095) / 4096;
    if (len && !user_range_ok(uvec, pages))
        return -EFAULT;
    for (uint64_t done = 0; done < pages; done += sizeof(vec)) {
        uint64_t n = pages - done < sizeof(vec) ? pages - done : sizeof(vec);
        int err = mm_mincore(current->mm, addr + done * 4096, n * 4096, vec);
        if (err)
            return err;
        if (copy_to_user(uvec + done, vec, n))
            return -EFAULT;
    }
    return 0;
}
