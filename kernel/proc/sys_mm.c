/*
 * The memory system calls: thin wrappers from Linux's ABI to the address
 * space (mm/mmap.c, mm/mremap.c, mm/filemap.c): brk, mmap, munmap,
 * mprotect, mremap, msync, madvise, mincore.
 */
#include <kernel/syscall.h>
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>
#include <kernel/vfs.h>
#include <mm/vma.h>
#include <mm/page.h>

long sys_brk(const struct sysargs *a)
{
    /* mm_brk refuses a growth no RAM could back (Linux's heuristic
     * overcommit): the break then stays where it was. */
    return (long)mm_brk(current->mm, a->arg[0]);
}

/*
 * mmap(addr, len, prot, flags, fd, off), in Linux's order: the offset's
 * alignment (-EINVAL) before anything, then the fd (-EBADF), then
 * do_mmap's checks (mm_mmap_file), which come to the file's own
 * properties (readable, writable, mappable at all) only after the length
 * and the address.
 */
long sys_mmap(const struct sysargs *a)
{
    uint64_t addr = a->arg[0], len = a->arg[1], off = a->arg[5];
    unsigned prot = (unsigned)a->arg[2], flags = (unsigned)a->arg[3];
    int fd = (int)a->arg[4];
    if (off & 4095)
        return -EINVAL;
    struct mmap_file mf, *mfp = NULL;
    if (!(flags & MAP_ANONYMOUS)) {
        struct file *f = fd >= 0 ? fd_file(fd) : NULL;
        if (!f)
            return -EBADF;
        /* A regular tmpfs file maps its page cache (kernel/fs/tmpfs_mmap.c,
         * mm/filemap.c); pipes, the console, /proc and directories cannot
         * be mapped (-ENODEV); /dev/zero is anonymous memory, shared or
         * private (Linux's mmap_zero). */
        int kind = file_mmap_prepare(f, &mf);
        if (kind < 0)
            return kind;
        if (kind == 1 && !mf.readable)
            return -EACCES;
        if (kind == 1)
            flags |= MAP_ANONYMOUS;
        else
            mfp = &mf;
    }
    uint64_t out;
    int err = mm_mmap_file(current->mm, addr, len, prot, flags, mfp, off, &out);
    if (mfp)
        file_mmap_finish(&mf);   /* a mapping no VMA took goes */
    return err ? err : (long)out;
}

/* msync(addr, len, flags): Linux's checks; the page cache is the file's
 * only copy, so there is nothing to write (mm/filemap.c). */
long sys_msync(const struct sysargs *a)
{
    return mm_msync(current->mm, a->arg[0], a->arg[1], (int)a->arg[2]);
}

long sys_munmap(const struct sysargs *a)
{
    return mm_munmap(current->mm, a->arg[0], a->arg[1]);
}

long sys_mprotect(const struct sysargs *a)
{
    return mm_mprotect(current->mm, a->arg[0], a->arg[1], (unsigned)a->arg[2]);
}

/* mremap(old_addr, old_len, new_len, flags, new_addr): mm/mremap.c */
long sys_mremap(const struct sysargs *a)
{
    uint64_t out;
    int err = mm_mremap(current->mm, a->arg[0], a->arg[1], a->arg[2], (unsigned)a->arg[3],
                        a->arg[4], &out);
    return err ? err : (long)out;
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
