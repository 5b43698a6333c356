/*
 * pagetable: a 32-bit program prints its own page tables in the
 * documents' format (the i386 entries of the blog post on kernel memory
 * management, 2024, and the blog post on i386 paging, 2008), for
 * `make run`'s demo init.
 *
 * On mmk a 32-bit process's address space is described by i386
 * two-level tables, a directory of 1024 PDEs and page tables of 1024
 * PTEs (docs/compat32.md).  /proc/self/pagetable32 lists the present
 * entries with their index, frame number and flags.  Three pages are
 * mapped first and left in three states: read (P and A, the shared zero
 * page, read-only), written (P, RW, A, D, a frame of their own) and
 * never touched (no PTE at all).
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
    char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    volatile char c = m[0]; /* read: the zero page */
    (void)c;
    m[4096] = 1;            /* written: a frame of its own */
    printf("pagetable: a %d-bit process; three pages at %08lx: read, written, untouched\n",
           (int)(8 * sizeof(void *)), (unsigned long)m);
    int fd = open("/proc/self/pagetable32", O_RDONLY);
    if (fd < 0) {
        perror("/proc/self/pagetable32");
        return 1;
    }
    char buf[4096];
    ssize_t n;
    fflush(stdout);
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        if (write(1, buf, (size_t)n) != n)
            return 1;
    close(fd);
    return n < 0;
}
