/*
 * copy_from_user, copy_to_user, strncpy_from_user (include/kernel/uaccess.h).
 *
 * Before a range is touched, every page of it is made present with the
 * access the copy needs, exactly as if the process had touched it:
 * mm_prepare_read faults in pages not yet there (demand paging),
 * mm_prepare_write also breaks copy-on-write, so read() into a buffer
 * shared after fork changes only the caller's copy.  Only then does the
 * copy run, through the user address, between stac and clac (SMAP).  One
 * CPU and a non-preemptible kernel: nothing can unmap a page between the
 * check and the copy, so the copy itself never faults; if it did, that
 * would be a kernel bug and an oops.
 */
#include <kernel/uaccess.h>
#include <kernel/cpufeature.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/x86.h>
#include <mm/layout.h>
#include <mm/vma.h>

bool user_range_ok(uint64_t u, size_t n)
{
    uint64_t end = current->mm ? current->mm->pt.va_end : 0;
    return current->mm && u + n >= u && u + n <= end;
}

static inline void user_open(void)
{
    if (cpu.smap)
        stac();
}

static inline void user_close(void)
{
    if (cpu.smap)
        clac();
}

/* sendfile (kernel/fs/sendfile.c) lends the file operations it calls a
 * kernel buffer in place of user memory: current->kwin, set only around
 * those calls, with addresses the kernel chose.  Nothing else can name it. */
static bool in_kwin(uint64_t u, size_t n)
{
    uint64_t w = (uint64_t)current->kwin;
    return w && u >= w && u + n >= u && u + n <= w + current->kwin_len;
}

/* Make [u, u + n) ready for the access; 0 or -EFAULT. */
static int prepare(uint64_t u, size_t n, bool write)
{
    if (in_kwin(u, n))
        return 0;
    if (!user_range_ok(u, n))
        return -EFAULT;
    if (n == 0)
        return 0;
    int err = write ? mm_prepare_write(current->mm, u, n) : mm_prepare_read(current->mm, u, n);
    return err ? -EFAULT : 0;
}

int copy_from_user(void *dst, uint64_t usrc, size_t n)
{
    if (prepare(usrc, n, false))
        return -EFAULT;
    user_open();
    memcpy(dst, (const void *)usrc, n);
    user_close();
    return 0;
}

int copy_to_user(uint64_t udst, const void *src, size_t n)
{
    if (prepare(udst, n, true))
        return -EFAULT;
    user_open();
    memcpy((void *)udst, src, n);
    user_close();
    return 0;
}

int user_cmpxchg_u32(uint64_t u, uint32_t expected, uint32_t desired, uint32_t *found)
{
    if (u & 3)
        return -EINVAL;
    if (prepare(u, sizeof(uint32_t), true))
        return -EFAULT;
    uint32_t v = expected;
    user_open();
    /* lock cmpxchg: one locked read-modify-write, seen whole by every CPU */
    __atomic_compare_exchange_n((volatile uint32_t *)u, &v, desired, false, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    user_close();
    *found = v;
    return 0;
}

long strncpy_from_user(char *dst, uint64_t usrc, size_t max)
{
    /* A page at a time: the string may end just before an unmapped page. */
    size_t len = 0;
    while (len < max) {
        uint64_t at = usrc + len;
        size_t chunk = PAGE_SIZE - (at & (PAGE_SIZE - 1));
        if (chunk > max - len)
            chunk = max - len;
        if (prepare(at, chunk, false))
            return -EFAULT;
        user_open();
        for (size_t i = 0; i < chunk; i++) {
            char c = ((const volatile char *)at)[i];
            dst[len + i] = c;
            if (c == 0) {
                user_close();
                return (long)(len + i);
            }
        }
        user_close();
        len += chunk;
    }
    return -ENAMETOOLONG;
}
