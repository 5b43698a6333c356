/* Host replacements for the kernel services of the file layer (file_host.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_host.h"
#include <kernel/errno.h>
#include <kernel/printk.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>
#include <mm/slab.h>

struct task *current;
static struct task fh_task;

int fh_kmalloc_fail_in = -1;
uint64_t fh_ulo = 4096, fh_uhi = FH_USER_END;
void (*fh_sleep_hook)(void);
jmp_buf fh_would_block;
int fh_sleeps;

void fh_reset(void)
{
    memset(&fh_task, 0, sizeof(fh_task));
    fh_task.pid = fh_task.tgid = 1;   /* a process of one thread */
    fh_task.group_leader = &fh_task;
    current = &fh_task;
    fh_kmalloc_fail_in = -1;
    fh_ulo = 4096;
    fh_uhi = FH_USER_END;
    fh_sleep_hook = NULL;
    fh_sleeps = 0;
    fh_last_sig = 0;
}

void *kmalloc(size_t size, gfp_t gfp)
{
    if (fh_kmalloc_fail_in == 0)
        return NULL;
    if (fh_kmalloc_fail_in > 0)
        fh_kmalloc_fail_in--;
    void *p = malloc(size);
    if (p)
        memset(p, (gfp & __GFP_ZERO) ? 0 : 0xa5, size);  /* fresh memory is never zero by luck */
    return p;
}

void kfree(const void *p)
{
    free((void *)p);
}

/* Caches are kmalloc of their size here (the page cache's nodes). */
struct kmem_cache {
    size_t size;
};

struct kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align,
                                     unsigned long flags, void (*ctor)(void *))
{
    (void)name, (void)align, (void)flags, (void)ctor;
    static struct kmem_cache caches[8];
    static int n;
    if (n == 8)
        return NULL;
    caches[n].size = size;
    return &caches[n++];
}

void *kmem_cache_alloc(struct kmem_cache *cache, gfp_t gfp)
{
    return kmalloc(cache->size, gfp);
}

void kmem_cache_free(struct kmem_cache *cache, void *obj)
{
    (void)cache;
    kfree(obj);
}

uint64_t kmem_cache_shrink(struct kmem_cache *cache)
{
    (void)cache;
    return 0;
}

/* Weak: the tests that also link mm_host.c (the page allocator) get its panic. */
__attribute__((weak)) __noreturn void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("panic: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    abort();
}

static bool uok(uint64_t a, size_t n)
{
    return a >= fh_ulo && a <= fh_uhi && n <= fh_uhi - a;
}

bool user_range_ok(uint64_t u, size_t n)
{
    return uok(u, n);
}

int copy_from_user(void *dst, uint64_t usrc, size_t n)
{
    if (!uok(usrc, n))
        return -EFAULT;
    memcpy(dst, (const void *)(uintptr_t)usrc, n);
    return 0;
}

int copy_to_user(uint64_t udst, const void *src, size_t n)
{
    if (!uok(udst, n))
        return -EFAULT;
    memcpy((void *)(uintptr_t)udst, src, n);
    return 0;
}

long strncpy_from_user(char *dst, uint64_t usrc, size_t max)
{
    for (size_t i = 0; i < max; i++) {
        if (!uok(usrc + i, 1))
            return -EFAULT;
        dst[i] = *(const char *)(uintptr_t)(usrc + i);
        if (!dst[i])
            return (long)i;
    }
    return -ENAMETOOLONG;
}

void sleep_on(void *chan)
{
    (void)chan;
    if (++fh_sleeps > 100000) {
        printf("sleep_on: the other side never made progress\n");
        abort();
    }
    if (!fh_sleep_hook)
        longjmp(fh_would_block, 1);
    fh_sleep_hook();
}

void wake_up(void *chan)
{
    (void)chan;
}

/* No signals here: an interruptible sleep is the same sleep, and a signal
 * sent is only remembered (fh_last_sig). */
int sleep_on_intr(void *chan)
{
    sleep_on(chan);
    return 0;
}

int fh_last_sig;

int send_sig(int sig, struct task *t, int priv)
{
    (void)t, (void)priv;
    fh_last_sig = sig;
    return 0;
}
