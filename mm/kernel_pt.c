/*
 * The kernel's own page tables.
 *
 * The loader left tables that map all of physical memory with 1 GiB pages
 * (2 MiB ones on a CPU without them), writable, plus the image.  We
 * replace them with tables built through the generic interface
 * (mm/pgtable.c), mapping exactly:
 *
 *   - the direct map: every RAM range of the cleaned firmware map (not
 *     MMIO, not firmware-reserved memory) at DIRECT_MAP_BASE + pa, read+
 *     write, never executable, with 1 GiB / 2 MiB pages where aligned; the
 *     alias of the kernel's text and rodata is then made read-only (which
 *     splits the large pages around it), so the code cannot be changed
 *     through the back door either;
 *   - the image, one section at a time: text read+execute, rodata and the
 *     symbol table read-only, data and bss read+write;
 *   - nothing else: vmalloc, ioremap and kmap add their own mappings to
 *     these tables when they are called.
 *
 * Invariants once built: every top-level entry of the kernel half (256..
 * 511) points to a table that is never freed, so an address space that
 * copies these 256 entries sees every later kernel mapping; no kernel
 * mapping is both writable and executable (checked by kernel_pt_audit);
 * no kernel mapping is user-accessible; every kernel mapping is global.
 */
#include <mm/kernel_pt.h>
#include <mm/layout.h>
#include <mm/bootmem.h>
#include <mm/tlb.h>
#include <kernel/cpufeature.h>
#include <kernel/errno.h>
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <kernel/x86.h>

struct pgtable kernel_pt;
static struct pt_format kernel_fmt;   /* pt_x86_64, without 1 GiB leaves if absent */
static bool active;

extern const char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern const char __data_start[], __bss_end[], __ksyms_start[], __kernel_end[];

static void kernel_flush(struct pgtable *pt, uint64_t va, uint64_t len)
{
    (void)pt;
    if (active)
        tlb_flush_range(va, len);
}

static void kernel_tables_freed(struct pgtable *pt)
{
    (void)pt;
    if (active)
        tlb_tables_freed();   /* a deferred flush (a lazy vfree) cannot wait */
}

static void must(int err, const char *what, uint64_t va, uint64_t len)
{
    if (err)
        panic("kernel page tables: %s %#lx+%#lx failed (%d)", what,
              va, len, err);
}

/*
 * Give each of the 256 kernel-half top-level entries its table now: map
 * one page in each 512 GiB slot and unmap it again; keep_top_tables keeps
 * the level-2 table, the lower ones are freed.
 */
static void populate_top_level(void)
{
    for (uint64_t slot = 256; slot < 512; slot++) {
        uint64_t va = 0xffff000000000000ul | (slot << 39);
        /* frame 0 is never accessed through this: it is unmapped at once */
        must(pt_map(&kernel_pt, va, 0, PAGE_SIZE, PT_G, 0), "populate", va, PAGE_SIZE);
        must(pt_unmap(&kernel_pt, va, PAGE_SIZE), "populate", va, PAGE_SIZE);
    }
}

static void map_direct(void)
{
    size_t n;
    const struct mem_range *r = mem_ranges(&n);
    /* Adjacent RAM ranges of different kinds are mapped as one run, so
     * that large pages are not cut at kind boundaries. */
    for (size_t i = 0; i < n;) {
        if (r[i].kind == MEM_RESERVED) {
            i++;
            continue;
        }
        uint64_t s = r[i].start, e = r[i].end;
        for (i++; i < n && r[i].kind != MEM_RESERVED && r[i].start == e; i++)
            e = r[i].end;
        must(pt_map(&kernel_pt, DIRECT_MAP_BASE + s, s, e - s, PT_W | PT_G, PT_MAP_LARGE),
             "direct map", DIRECT_MAP_BASE + s, e - s);
    }
}

static uint64_t image_pa(const struct boot_info *bi, const void *va)
{
    return bi->kernel.phys + ((uint64_t)va - bi->kernel_virt);
}

static void map_section(const struct boot_info *bi, const char *start, const char *end,
                        unsigned prot)
{
    uint64_t s = ALIGN_DOWN((uint64_t)start, PAGE_SIZE);
    uint64_t e = ALIGN_UP((uint64_t)end, PAGE_SIZE);
    if (e > s)
        must(pt_map(&kernel_pt, s, image_pa(bi, (void *)s), e - s, prot | PT_G, 0),
             "image", s, e - s);
}

void kernel_pt_build(const struct boot_info *bi)
{
    kernel_fmt = pt_x86_64;
    if (!cpu.gbpages)
        kernel_fmt.leaf_levels &= ~(1u << 2);
    if (pt_init(&kernel_pt, &kernel_fmt, GFP_KERNEL, KERNEL_HALF_START, KERNEL_HALF_END))
        panic("kernel page tables: no page for the root");
    kernel_pt.keep_top_tables = true;
    kernel_pt.flush = kernel_flush;
    kernel_pt.tables_freed = kernel_tables_freed;
    populate_top_level();
    map_direct();

    map_section(bi, __text_start, __text_end, PT_X);
    map_section(bi, __rodata_start, __rodata_end, 0);
    map_section(bi, __data_start, __bss_end, PT_W);
    map_section(bi, __ksyms_start, __kernel_end, 0);

    /* The direct-map alias of text and rodata: read-only as well. */
    uint64_t ts = image_pa(bi, __text_start);
    uint64_t te = ALIGN_UP(image_pa(bi, __rodata_end), PAGE_SIZE);
    must(pt_protect(&kernel_pt, DIRECT_MAP_BASE + ts, te - ts, PT_G),
         "read-only alias", DIRECT_MAP_BASE + ts, te - ts);
    printk("kernel page tables: %lu table pages (%lu KiB), direct map with %s pages\n",
           kernel_pt.nr_tables,
           kernel_pt.nr_tables * 4,
           cpu.gbpages ? "1 GiB / 2 MiB / 4 KiB" : "2 MiB / 4 KiB");
}

void kernel_pt_activate(void)
{
    write_cr3(kernel_pt.root);
    active = true;
    tlb_flush_all(); /* the loader's global entries, if it made any */
    /* No printk here: the caller first moves the framebuffer console to
     * its new mapping (the old one went with the loader's tables). */
}

int kernel_pt_share(struct pgtable *pt)
{
    return pt_share_top(pt, &kernel_pt, KERNEL_HALF_START, 0 - KERNEL_HALF_START);
}

int user_pt_create(struct pgtable *pt)
{
    int err = pt_init(pt, &kernel_fmt, GFP_KERNEL, 0, USER_SPACE_END);
    if (err)
        return err;
    pt->flush = kernel_flush; /* harmless when the space is not loaded */
    err = kernel_pt_share(pt);
    if (err)
        pt_destroy(pt);
    return err;
}

void current_pt(struct pgtable *out)
{
    *out = kernel_pt;
    if (!out->fmt) /* before kernel_pt_build: the loader's tables */
        out->fmt = &pt_x86_64;
    out->root = read_cr3() & 0x000ffffffffff000ul;
    out->flush = NULL;
}

/* ---- the audit and the dump ------------------------------------------------------ */

struct audit {
    uint64_t leaves[3];       /* by level: 4 KiB, 2 MiB, 1 GiB */
    uint64_t bytes_x, bytes_w;
    int bad;
};

static int audit_leaf(const struct pt_view *v, void *arg)
{
    struct audit *a = arg;
    char buf[16];
    if (v->payload)
        return 0; /* maps nothing (the kernel's tables park none) */
    if (v->level < 3)
        a->leaves[v->level]++;
    if (v->prot & PT_X)
        a->bytes_x += v->size;
    if (v->prot & PT_W)
        a->bytes_w += v->size;
    if ((v->prot & PT_W) && (v->prot & PT_X)) {
        a->bad++;
        printk("W^X: %#lx-%#lx is writable and executable (%s)\n",
               v->va, (v->va + v->size),
               pt_prot_str(v->prot, buf));
    }
    if (v->prot & PT_U) {
        a->bad++;
        printk("W^X: %#lx-%#lx is a kernel mapping open to user mode (%s)\n",
               v->va, (v->va + v->size),
               pt_prot_str(v->prot, buf));
    }
    return 0;
}

int kernel_pt_audit(void)
{
    struct audit a = { { 0 }, 0, 0, 0 };
    struct pgtable cur;
    current_pt(&cur);
    pt_for_each(&cur, KERNEL_HALF_START, KERNEL_HALF_END, audit_leaf, &a);
    printk("W^X audit: %lu leaves (%lu of 4 KiB, %lu of 2 MiB, %lu of 1 GiB); "
           "%lu KiB executable, %lu MiB writable\n",
           (a.leaves[0] + a.leaves[1] + a.leaves[2]),
           a.leaves[0], a.leaves[1],
           a.leaves[2], (a.bytes_x >> 10),
           (a.bytes_w >> 20));
    if (a.bad == 0)
        printk("W^X: no writable+executable pages\n");
    return a.bad;
}

/* One line per run of leaves with the same protections and size. */
struct dump {
    uint64_t start, end, size;
    unsigned prot;
    uint64_t count;
};

static void dump_flush(struct dump *d)
{
    char buf[16], sz[16];
    if (!d->count)
        return;
    format_size(sz, sizeof(sz), d->size);
    printk("  %016lx-%016lx %5lu x %-7s %s\n", d->start,
           d->end, d->count, sz,
           pt_prot_str(d->prot, buf));
    d->count = 0;
}

static int dump_leaf(const struct pt_view *v, void *arg)
{
    struct dump *d = arg;
    if (v->payload)
        return 0; /* maps nothing (the kernel's tables park none) */
    if (d->count && (v->va != d->end || v->size != d->size || v->prot != d->prot))
        dump_flush(d);
    if (!d->count) {
        d->start = v->va;
        d->size = v->size;
        d->prot = v->prot;
    }
    d->end = v->va + v->size;
    d->count++;
    return 0;
}

void kernel_pt_dump(void)
{
    struct dump d = { 0, 0, 0, 0, 0 };
    printk("Kernel mappings (runs of equal pages):\n");
    pt_for_each(&kernel_pt, KERNEL_HALF_START, KERNEL_HALF_END, dump_leaf, &d);
    dump_flush(&d);
}
