/*
 * kmain: from the loader's hand-off to a running kernel.
 *
 * Order matters: the serial port first (so everything after can be
 * reported), then our own GDT and IDT (so a fault is an oops, not a
 * triple fault), then the hand-off is checked, the identity map the
 * loader left for itself is dropped, and the framebuffer console comes
 * up.  After the command line and the firmware map's print come the
 * memory managers: the physical layer (mem_init), then slab, the kernel's
 * own page tables, vmalloc and kmap (vm_init), after which kmain moves to
 * a vmalloc'ed stack with guard pages.  kmain_late then starts processes
 * (proc_init), and runs the benchmarks, the in-kernel tests or PID 1.
 */
#include <kernel/kernel.h>
#include <kernel/console.h>
#include <kernel/cpu.h>
#include <kernel/percpu.h>
#include <kernel/printk.h>
#include <kernel/cmdline.h>
#include <kernel/ktest.h>
#include <kernel/kernel_lock.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include <kernel/cpufeature.h>
#include <kernel/bench.h>
#include <kernel/memview.h>
#include <kernel/blkdev.h>
#include <mm/swap.h>
#include <mm/bootmem.h>
#include <mm/gfp.h>
#include <mm/layout.h>
#include <mm/kernel_pt.h>
#include <mm/kmap.h>
#include <mm/slab.h>
#include <mm/vmalloc.h>
#include <mm/vma.h>
#include <mm/rmap.h>
#include <mm/vmscan.h>
#include <kernel/vfs.h>
#include <mm/tlb.h>
#include <kernel/apic.h>
#include <kernel/acpi.h>
#include <kernel/acpi_hw.h>
#include <kernel/smp.h>
#include <kernel/spinlock.h>
#include <kernel/exec.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/time.h>
#include <compat32/mmu32.h>

__noreturn void idle_loop(void);

#define KERNEL_STACK_SIZE (16 * 1024)
__noreturn void call_on_stack(void *top, __noreturn void (*fn)(void));

const struct boot_info *boot_info;

__noreturn void kmain(const struct boot_info *bi);

static __noreturn void halt_forever(void)
{
    fbcon_flush();   /* the console may have deferred its last redraw */
    for (;;) {
        cli();
        hlt();
    }
}

/* The loader's PML4 maps RAM at 0 too; nothing of ours lives there. */
static void drop_identity_map(void)
{
    uint64_t *pml4 = phys_to_virt(read_cr3() & ~0xffful);
    for (int i = 0; i < 256; i++)
        pml4[i] = 0;
    write_cr3(read_cr3());
}

/*
 * boot_info and the firmware map live in loader memory that is given
 * back to the allocator once the kernel's own tables run; keep copies.
 */
static struct boot_info bi_copy;

static void keep_boot_info(const struct boot_info *bi)
{
    bi_copy = *bi;
    unsigned order = 0;
    while ((PAGE_SIZE << order) < bi->mmap.size && order < MAX_ORDER)
        order++;
    void *map = __get_free_pages(GFP_KERNEL, order);
    if (!map || (PAGE_SIZE << order) < bi->mmap.size)
        panic("no memory for a copy of the firmware map (%lu bytes)",
              bi->mmap.size);
    memcpy(map, phys_to_virt(bi->mmap.phys), bi->mmap.size);
    bi_copy.mmap.phys = (uint64_t)map - DIRECT_MAP_BASE;
    boot_info = &bi_copy;
}

static __noreturn void kmain_late(void);

/*
 * From the loader's tables to ours: slab first (vmalloc keeps its areas
 * in kmalloc memory), then the tables, the framebuffer's own mapping,
 * the switch, and the loader's memory back to the allocator.
 */
static void vm_init(const struct boot_info *bi)
{
    bool debug = option("slab_debug") != NULL;
    slab_set_debug(debug);
    kmem_cache_init();
    kernel_pt_build(bi);
    cpu_enable_protections();
    vmalloc_init(debug);
    kmap_init();
    void *fb = NULL;
    if (fbcon_active()) {
        fb = ioremap_wc(bi->fb.phys, fbcon_mapping_bytes());
        if (!fb)
            panic("cannot map the framebuffer");
    }
    keep_boot_info(bi);
    /* No printk between the switch and the new framebuffer address:
     * the console's old address is gone with the loader's tables. */
    kernel_pt_activate();
    if (fb)
        fbcon_set_mapping(fb);
    printk("kernel page tables: loaded (CR3 = %#lx), framebuffer remapped write-combining "
           "at %p\n", kernel_pt.root, fb);
    uint64_t t = mem_release_boot(MEM_BOOT_TABLES);
    uint64_t b = mem_release_boot(MEM_BOOT_INFO);
    printk("loader memory released: %lu KiB of page tables, %lu KiB of boot info\n",
           t * 4, b * 4);
    kernel_pt_dump();
    if (kernel_pt_audit() && option("ktest"))
        panic("W^X audit failed");
}

/* /proc/slabinfo and /proc/vmallocinfo as they stand after boot. */
static void print_vm_stats(void)
{
    static char text[8192];
    slabinfo(text, sizeof(text));
    printk_lines(text);
    printk("vmallocinfo:\n");
    vmallocinfo(text, sizeof(text));
    printk_lines(text);
}

__noreturn void kmain(const struct boot_info *bi)
{
    serial_init();
    gdt_init();
    percpu_init(0);         /* %gs: the boot CPU's struct percpu (docs/smp.md) */
    lock_kernel();          /* the boot CPU runs the kernel (include/kernel/kernel_lock.h) */
    idt_init();

    if (bi->magic != BOOT_INFO_MAGIC || bi->version != BOOT_INFO_VERSION ||
        bi->size != sizeof(struct boot_info)) {
        printk("mmk: boot_info mismatch (magic %lx version %u size %u, expected "
               "version %u size %zu): loader and kernel were built apart. Halting.\n",
               bi->magic, bi->version, bi->size,
               BOOT_INFO_VERSION, sizeof(struct boot_info));
        halt_forever();
    }
    boot_info = bi;
    drop_identity_map();
    write_cr0(read_cr0() | CR0_WP); /* the kernel, too, obeys read-only pages */

    bool fb = fbcon_init(&bi->fb, KERNEL_TITLE);
    printk("%s\n", KERNEL_TITLE);
    printk("consoles: serial %s, framebuffer %s", serial_ports(), fb ? "on" : "off");
    if (fb)
        printk(" (%ux%u, %s)", bi->fb.width, bi->fb.height,
               bi->fb.format == BOOT_FB_BGRX ? "BGRX" :
               bi->fb.format == BOOT_FB_RGBX ? "RGBX" : "bitmask");
    printk("\n");
    if (fb) {
        struct fbcon_info fi;
        fbcon_get_info(&fi);
        printk("fbcon: %ux%u cells of %ux%u pixels, colours fg %06x bg %06x, "
               "title %06x on %06x\n", fi.cols, fi.rows, fi.glyph_w, fi.glyph_h,
               fi.fg, fi.bg, fi.title_fg, fi.title_bg);
    }
    if (bi->loader_log[0]) {
        printk("loader said:\n");
        /* bounded: the loader's log is not trusted to be terminated */
        printk("%.*s", (int)strnlen(bi->loader_log, sizeof(bi->loader_log)),
               bi->loader_log);
    }
    printk("kernel: %#lx bytes at phys %#lx, virt %#lx\n",
           bi->kernel.size, bi->kernel.phys,
           bi->kernel_virt);
    if (bi->initrd.phys) {
        printk("initrd: %lu bytes at phys %#lx\n",
               bi->initrd.size, bi->initrd.phys);
        /* Never unpacked: kernel/fs/initrd_fs.c serves files in place from
         * the archive.  Here, only a look at its magic. */
        if (bi->initrd.size < 110 ||
            memcmp(phys_to_virt(bi->initrd.phys), "070701", 6) != 0)
            printk("initrd: warning: not a cpio (newc) archive, it will be ignored\n");
    } else {
        printk("initrd: none\n");
    }
    printk("ACPI RSDP: %#lx (ACPI %s)\n", bi->acpi_rsdp,
           bi->acpi_rsdp_version == 2 ? "2.0+" : bi->acpi_rsdp ? "1.0" : "absent");
    cpu_detect();

    char line[BOOT_CMDLINE_MAX];
    size_t len = strnlen(bi->cmdline, sizeof(bi->cmdline));
    if (len == sizeof(bi->cmdline))
        len--; /* not terminated: cut rather than read past */
    memcpy(line, bi->cmdline, len);
    line[len] = 0;
    printk("command line: \"%s\"\n", line);
    options_init(line);
    if (option("lockdep"))
        lockdep_enable(true);   /* the lock-order checker (docs/smp.md) */

    bootmap_print(bi);
    mem_init(bi);
    vm_init(bi);
    acpi_kernel_vm_ready(); /* ACPI tables through kmap from now on */
    serial_add_spcr();      /* the firmware's console port, if another (docs/consoles.md) */
    acpi_numa_report();   /* the nodes the ACPI SRAT/SLIT describe (docs/numa.md) */

    /* Leave the boot stack in .bss for a vmalloc'ed one with guard pages. */
    void *stack = vmalloc_stack(KERNEL_STACK_SIZE, "kmain");
    if (!stack)
        panic("no memory for the kernel stack");
    call_on_stack((uint8_t *)stack + KERNEL_STACK_SIZE, kmain_late);
}

/* Processes: the scheduler, the syscall entry, the timer, the zero page. */
/* The tables in CR3 (mm_loaded_root): their physical address. */
static uint64_t loaded_root(void)
{
    return read_cr3() & ~0xfffull;
}

static void proc_init(void)
{
    task_init();            /* and the boot CPU's system-call MSRs */
    apic_init();
    smp_boot();             /* the other CPUs of the MADT, started and waiting (docs/smp.md) */
    timekeeping_init();     /* the wall clock from the CMOS clock (kernel/proc/timekeeping.c) */
    console_input_init();   /* COM1 and keyboard interrupts: the console becomes a terminal */
    if (mm_zero_page_init())
        panic("no memory for the zero page");
    mm_tlb_flush = tlb_flush_range;
    mm_loaded_root = loaded_root;
    mm_stack_limit = exec_stack_limit;   /* RLIMIT_STACK for stack growth (mm/stack.c) */
    mm_kernel_share = kernel_pt_share;
    mm_shmem_new = shmem_zero_setup;     /* MAP_SHARED anonymous: tmpfs files (docs/page-cache.md) */
    filemap_owner = &pagecache_owner;    /* page-cache pages can migrate (include/mm/rmap.h) */
    mm_payload_put = swap_payload_put;   /* swap entries in PTEs (mm/swap_fault.c) */
    mm_payload_dup = swap_payload_dup;
    mm_payload_fault = do_swap_page;
    mm_madvise_reclaim = madvise_reclaim; /* MADV_PAGEOUT, MADV_COLD (mm/madvise_pageout.c) */
    swapoff_hook = swap_unuse;           /* swapoff brings the pages back */
    tmpfs_swap_init();                   /* tmpfs pages are swap-backed (docs/reclaim.md) */
    const char *mirror = option("compat32.mirror");
    mmu32_mirror_user = mirror && strcmp(mirror, "ro") == 0;
    if (mirror && !mmu32_mirror_user)
        printk("compat32.mirror=%s: unknown value (ro is the one), the mirror stays "
               "supervisor-only\n", mirror);
}

static __noreturn void kmain_late(void)
{
    print_vm_stats();
    proc_init();
    blk_init();     /* the PCI bus and its disks (docs/block.md) */
    swap_boot();    /* /dev/vda..., then swap=<device> (docs/swap.md) */

    /* memview=on: the memory map from the start (docs/memview.md). */
    const char *mv = option("memview");
    if (mv && strcmp(mv, "on") == 0) {
        int r = memview_set(true);
        if (r)
            printk("memview=on: no map (error %d)\n", r);
        memview_report();
    } else if (mv) {
        printk("memview=%s: unknown value (on is the one), the map stays off\n", mv);
    }

    const char *crash = option("ktest.crash");
    if (crash && strcmp(crash, "oops") == 0) {
        printk("ktest.crash=oops: faulting on purpose outside any test\n");
        *(volatile uint64_t *)0xffffdfffffff0000ul = 1; /* vmalloc range, never used */
    } else if (crash && strcmp(crash, "kfree") == 0) {
        /* Without slab_debug a bad free is a panic naming the culprit. */
        void *p = kmalloc(64, GFP_KERNEL);
        printk("ktest.crash=kfree: freeing %p twice on purpose\n", p);
        kfree(p);
        kfree(p);
        printk("ktest.crash=kfree: the double free went on (slab_debug?)\n");
    } else if (crash && strcmp(crash, "vfree") == 0) {
        static uint64_t not_vmalloc; /* kernel .bss: no vmalloc area */
        printk("ktest.crash=vfree: vfree of %p on purpose\n", (void *)&not_vmalloc);
        vfree(&not_vmalloc);
        printk("ktest.crash=vfree: the bad vfree went on (slab_debug?)\n");
    }

    if (option("bench")) {
        bench_run();
        halt_forever();
    }

    const char *sel = option("ktest");
    if (sel) {
        int failures = ktest_run(*sel ? sel : "all");
        const char *end = option("ktest.end");
        if (end && strcmp(end, "halt") == 0) {
            printk("ktest: halted (ktest.end=halt)\n");
            halt_forever();
        }
        if (end && strcmp(end, "poweroff") == 0) {
            printk("ktest: powering off through ACPI (ktest.end=poweroff)\n");
            acpi_power_off();
        }
        if (!end || strcmp(end, "init") != 0)
            machine_power_off(failures ? QEMU_EXIT_FAIL : QEMU_EXIT_PASS);
        printk("ktest: starting init (ktest.end=init)\n");
    }

    task_start_aps();   /* the other CPUs take tasks from the run queue too (docs/smp.md) */
    start_init();
    if (task_count() > 0)
        kswapd_run();   /* the background reclaimer, a kernel thread (mm/kswapd.c) */
    if (task_count() == 0) {
        printk("Nothing to run. Halted.\n");
        halt_forever();
    }
    idle_loop();
}
