/*
 * pagemove: watch the kernel move pages that are in use (docs/memview.md).
 *
 *     pagemove [-n] [PAGES]
 *
 * The program asks for its next pages to come from the DMA zone (the
 * first 16 MiB of RAM), fills PAGES pages (default 300) with a pattern,
 * prints where they are in physical memory (/proc/self/pagemap), asks the
 * kernel to empty the DMA zone (/proc/sys/vm/evacuate_zone), and prints
 * again: the same virtual pages, the same contents, other frames.  With
 * the memory map on (F12 on the console, or echo 1 >
 * /proc/sys/vm/memview) the DMA band fills with green, then empties.
 * Each step pauses a moment so that the map can be watched; -n does not
 * pause.  Exit status 0 when every page moved out and kept its contents.
 *
 * mmk-only: /proc/sys/vm/user_zone and evacuate_zone are mmk's teaching
 * switches (Linux has neither); on Linux the program says so and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096ul
#define DMA_END_PFN (16ul << 20 >> 12)     /* 16 MiB */
#define DMA32_END_PFN (4ul << 30 >> 12)    /* 4 GiB */
#define SHOWN 6                            /* rows of the table */

static int pause_ms = 1500;

static void step(const char *what)
{
    printf("\n%s\n", what);
    fflush(stdout);
}

static void wait_a_moment(void)
{
    struct timespec ts = { pause_ms / 1000, (long)(pause_ms % 1000) * 1000000 };
    if (pause_ms)
        nanosleep(&ts, NULL);
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int err = n < 0 ? -errno : 0;
    close(fd);
    return err;
}

static int read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, size - 1);
    int err = n < 0 ? -errno : 0;
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    return err;
}

static const char *zone_of(uint64_t pfn)
{
    return pfn < DMA_END_PFN ? "DMA" : pfn < DMA32_END_PFN ? "DMA32" : "Normal";
}

/* The frames behind pages[0..n) from /proc/self/pagemap (0: not present). */
static int read_pfns(const unsigned char *pages, size_t n, uint64_t *pfn)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);
    if (fd < 0)
        return -errno;
    for (size_t i = 0; i < n; i++) {
        uint64_t e = 0;
        off_t off = (off_t)((uintptr_t)(pages + i * PAGE) / PAGE * 8);
        if (pread(fd, &e, sizeof(e), off) != (ssize_t)sizeof(e)) {
            int err = -errno;
            close(fd);
            return err ? err : -EIO;
        }
        pfn[i] = (e >> 63) ? e & ((1ul << 55) - 1) : 0;
    }
    close(fd);
    return 0;
}

static void table(const unsigned char *pages, size_t n, const uint64_t *pfn)
{
    printf("  page  virtual address   frame (PFN)  physical address  zone\n");
    for (size_t i = 0; i < n; i++) {
        if (i == SHOWN / 2 && n > SHOWN) {
            printf("  ...   (%zu more)\n", n - SHOWN);
            i = n - SHOWN / 2;
        }
        printf("  %4zu  %#14lx  %#11lx  %#16lx  %s\n", i, (unsigned long)(pages + i * PAGE),
               (unsigned long)pfn[i], (unsigned long)(pfn[i] * PAGE), zone_of(pfn[i]));
    }
    size_t dma = 0;
    for (size_t i = 0; i < n; i++)
        dma += pfn[i] && pfn[i] < DMA_END_PFN;
    printf("  %zu of the %zu pages are in the DMA zone (frames below %#lx).\n", dma, n,
           DMA_END_PFN);
}

static unsigned char pattern(size_t page, size_t byte)
{
    return (unsigned char)(page * 7 + byte / 64 + 1);
}

int main(int argc, char **argv)
{
    size_t n = 300;
    int a = 1;
    if (a < argc && strcmp(argv[a], "-n") == 0) {
        pause_ms = 0;
        a++;
    }
    if (a < argc) {
        char *end;
        n = strtoul(argv[a], &end, 10);
        if (*end || n == 0 || n > 3000) {
            fprintf(stderr, "usage: pagemove [-n] [PAGES]   (PAGES from 1 to 3000, default 300)\n");
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("pagemove: the kernel moves %zu pages while they are in use.\n"
           "Press F12 on the console to see the memory map (F12 again for the text).\n", n);

    char old_zone[32];
    if (read_file("/proc/sys/vm/user_zone", old_zone, sizeof(old_zone)) < 0) {
        printf("pagemove: no /proc/sys/vm/user_zone: this program needs mmk's teaching "
               "switches.\n");
        return 1;
    }
    step("1. New user pages will come from the DMA zone, the first 16 MiB of RAM\n"
         "   (write DMA to /proc/sys/vm/user_zone).");
    int err = write_file("/proc/sys/vm/user_zone", "DMA");
    if (err) {
        printf("pagemove: cannot write /proc/sys/vm/user_zone: %s\n", strerror(-err));
        return 1;
    }
    step("2. Fill the pages with a pattern: the first write to a page faults a frame\n"
         "   in, taken from the DMA zone now.");
    unsigned char *pages = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t *before = calloc(n, sizeof(uint64_t)), *after = calloc(n, sizeof(uint64_t));
    if (pages == MAP_FAILED || !before || !after) {
        write_file("/proc/sys/vm/user_zone", old_zone);
        printf("pagemove: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t b = 0; b < PAGE; b++)
            pages[i * PAGE + b] = pattern(i, b);
    write_file("/proc/sys/vm/user_zone", old_zone);
    printf("   (the switch is back to %s: other programs are not affected)\n", old_zone);
    printf("   The memory map shows them: green cells in the DMA band.\n");
    wait_a_moment();

    step("3. Where the pages are (virtual page -> frame, from /proc/self/pagemap):");
    if ((err = read_pfns(pages, n, before)) < 0) {
        printf("pagemove: cannot read /proc/self/pagemap: %s\n", strerror(-err));
        return 1;
    }
    table(pages, n, before);
    wait_a_moment();

    step("4. Empty the DMA zone (write DMA to /proc/sys/vm/evacuate_zone): each page\n"
         "   in use there is copied to a frame elsewhere and its page-table entry\n"
         "   rewritten, found through the reverse map; the program notices nothing.");
    err = write_file("/proc/sys/vm/evacuate_zone", "DMA");
    char result[256];
    if (read_file("/proc/sys/vm/evacuate_zone", result, sizeof(result)) == 0)
        printf("   the kernel says:\n   %s\n", result);
    if (err)
        printf("   the write failed: %s (some frames could not be freed)\n", strerror(-err));
    wait_a_moment();

    step("5. The same virtual pages now, and their contents:");
    if ((err = read_pfns(pages, n, after)) < 0) {
        printf("pagemove: cannot read /proc/self/pagemap: %s\n", strerror(-err));
        return 1;
    }
    table(pages, n, after);
    size_t moved = 0, out = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        moved += after[i] != before[i];
        out += after[i] >= DMA_END_PFN;
        for (size_t b = 0; b < PAGE; b++)
            if (pages[i * PAGE + b] != pattern(i, b)) {
                bad++;
                break;
            }
    }
    printf("  %zu pages changed frame, %zu are out of the DMA zone,\n"
           "  %zu lost their pattern.\n", moved, out, bad);
    bool ok = out == n && bad == 0;
    printf("\npagemove: %s\n", ok ? "same memory for the program, other frames under it."
                                  : "some pages did not move or changed: see above.");
    munmap(pages, n * PAGE);
    return ok ? 0 : 1;
}
