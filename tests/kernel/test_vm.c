/*
 * The kernel's virtual memory at work: its own tables (W^X, NX, read-only
 * text, SMEP/SMAP), the TLB calls, vmalloc and its guard pages, kernel
 * stacks, ioremap with PAT cache types, kmap.  Each case checks that free
 * frames, vmalloc areas and kmap slots return to where they were.
 */
#include <kernel/ktest.h>
#include <kernel/trap.h>
#include <kernel/printk.h>
#include <kernel/kernel.h>
#include <kernel/cpufeature.h>
#include <kernel/cmdline.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include <mm/gfp.h>
#include <mm/kernel_pt.h>
#include <mm/kmap.h>
#include <mm/layout.h>
#include <mm/bootmem.h>
#include <mm/tlb.h>
#include <mm/slab.h>
#include <mm/vmalloc.h>

#define PF_PRESENT 1
#define PF_WRITE   2
#define PF_FETCH   16

struct baseline {
    uint64_t free, areas, vpages;
    unsigned kmaps;
};

/* Empty slabs and the per-CPU caches hold frames between tests on
 * purpose; give them back before counting. */
static void take(struct baseline *b)
{
    ktest_settle();
    b->free = nr_free_pages();
    b->areas = vmalloc_nr_areas();
    b->vpages = vmalloc_nr_pages();
    b->kmaps = kmap_slots_used();
}

/* Did everything come back?  Returns a reason or NULL. */
static const char *changed(const struct baseline *b)
{
    static char why[160];
    struct baseline now;
    take(&now);
    if (vmalloc_check(&vmalloc_space, why, sizeof(why)))
        return why; /* the whole structure, after every test: mm/vmalloc_check.c */
    if (now.free != b->free)
        snprintf(why, sizeof(why), "free frames %lu, baseline %lu",
                 now.free, b->free);
    else if (now.areas != b->areas || now.vpages != b->vpages)
        snprintf(why, sizeof(why), "vmalloc areas %lu/%lu pages, baseline %lu/%lu",
                 now.areas, now.vpages,
                 b->areas, b->vpages);
    else if (now.kmaps != b->kmaps)
        snprintf(why, sizeof(why), "kmap slots %u, baseline %u", now.kmaps, b->kmaps);
    else
        return NULL;
    return why;
}

#define KT_BASELINE(b)                                                      \
    do {                                                                    \
        const char *why_ = changed(b);                                      \
        KT_ASSERT(!why_, "leak: %s", why_);                                 \
    } while (0)

static int walk(uint64_t va, struct pt_view *v)
{
    struct pgtable cur;
    current_pt(&cur);
    return pt_walk(&cur, va, v);
}

/* ---- the kernel's own tables ------------------------------------------------------ */

KTEST(vm_wx_audit)
{
    uint64_t mark = log_mark();
    KT_ASSERT(kernel_pt_audit() == 0, "the audit found offending mappings");
    KT_ASSERT(log_contains_since(mark, "W^X: no writable+executable pages"),
              "the audit did not print its verdict");
    /* A positive control: plant one writable+executable page (vmap refuses
     * to make one, so through the tables directly) and one user page. */
    uint64_t *frame = get_zeroed_page(GFP_KERNEL);
    KT_ASSERT(frame, "no page");
    uint64_t pa = (uint64_t)frame - DIRECT_MAP_BASE;
    uint64_t va = VMALLOC_END - 64 * PAGE_SIZE;
    KT_ASSERT(vmap(&pa, 1, PT_W | PT_X) == NULL, "vmap made a writable+executable mapping");
    int err = pt_map(&kernel_pt, va, pa, PAGE_SIZE, PT_W | PT_X | PT_G, 0);
    err |= pt_map(&kernel_pt, va + PAGE_SIZE, pa, PAGE_SIZE, PT_U | PT_G, 0);
    mark = log_mark();
    int bad = kernel_pt_audit();
    pt_unmap(&kernel_pt, va, 2 * PAGE_SIZE);
    free_page(frame);
    KT_ASSERT(err == 0, "could not plant the test mappings");
    KT_ASSERT(bad == 2, "the audit counted %d offenders, planted 2", bad);
    KT_ASSERT(log_contains_since(mark, "is writable and executable") &&
              log_contains_since(mark, "open to user mode"), "offenders not named");
    KT_ASSERT(kernel_pt_audit() == 0, "offenders left behind");
    KT_ASSERT(read_cr3() == kernel_pt.root, "CR3 %#lx is not the kernel's tables %#lx",
              read_cr3(), kernel_pt.root);
}

extern const char __text_start[], __rodata_start[], __data_start[];

KTEST(vm_image_sections)
{
    struct pt_view v;
    KT_ASSERT(walk((uint64_t)__text_start, &v) == 0, "text not mapped");
    KT_ASSERT((v.prot & (PT_W | PT_X)) == PT_X, "text prot %#x", v.prot);
    KT_ASSERT(walk((uint64_t)__rodata_start, &v) == 0, "rodata not mapped");
    KT_ASSERT((v.prot & (PT_W | PT_X)) == 0, "rodata prot %#x", v.prot);
    KT_ASSERT(walk((uint64_t)__data_start, &v) == 0, "data not mapped");
    KT_ASSERT((v.prot & (PT_W | PT_X)) == PT_W, "data prot %#x", v.prot);
    KT_ASSERT(v.pa == boot_info->kernel.phys + ((uint64_t)__data_start - boot_info->kernel_virt),
              "data maps phys %#lx", v.pa);
    /* the direct-map alias of the text is read-only and NX */
    uint64_t alias = DIRECT_MAP_BASE + boot_info->kernel.phys;
    KT_ASSERT(walk(alias, &v) == 0, "text alias not mapped");
    KT_ASSERT((v.prot & (PT_W | PT_X)) == 0, "text alias prot %#x", v.prot);
}

KTEST(vm_direct_map_large_pages)
{
    /* The frame of the mem_map of a >= 1 GiB machine lies in a large page
     * of the direct map; any free frame of the buddy allocator too. */
    size_t n;
    const struct mem_range *r = mem_ranges(&n);
    uint64_t large = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].kind != MEM_USABLE)
            continue;
        struct pt_view v;
        uint64_t mid = ALIGN_DOWN((r[i].start + r[i].end) / 2, PAGE_SIZE);
        KT_ASSERT(walk(DIRECT_MAP_BASE + mid, &v) == 0, "RAM at %#lx not in the direct map",
                  mid);
        KT_ASSERT(v.pa + (DIRECT_MAP_BASE + mid - v.va) == mid, "direct map of %#lx wrong",
                  mid);
        KT_ASSERT(!(v.prot & PT_X) && (v.prot & PT_W), "direct map prot %#x", v.prot);
        if (v.size > PAGE_SIZE)
            large++;
    }
    KT_ASSERT(large > 0, "no RAM range is mapped with 2 MiB or 1 GiB pages");
}

static void write_text(void *arg)
{
    *(volatile uint8_t *)arg = 0xc3;
}

KTEST(vm_text_write_faults)
{
    struct fault_info fi;
    uint64_t mark = log_mark();
    KT_ASSERT(catch_faults(write_text, (void *)&write_text, &fi) == 1, "text write succeeded");
    KT_ASSERT(fi.vector == VEC_PF && (fi.error & (PF_PRESENT | PF_WRITE)) == (PF_PRESENT | PF_WRITE),
              "vector %lu error %#lx", fi.vector,
              fi.error);
    KT_ASSERT(log_contains_since(mark, "(kernel text)"), "the walk did not name the region");
    /* and through the direct-map alias */
    void *alias = phys_to_virt(boot_info->kernel.phys + ((uint64_t)&write_text -
                                                         boot_info->kernel_virt));
    KT_ASSERT(catch_faults(write_text, alias, &fi) == 1, "write to the text alias succeeded");
    KT_ASSERT(fi.vector == VEC_PF && (fi.error & PF_WRITE), "error %#lx",
              fi.error);
}

static void call_it(void *arg)
{
    ((void (*)(void))arg)();
}

KTEST(vm_direct_map_nx)
{
    struct baseline b;
    struct fault_info fi;
    take(&b);
    uint8_t *page = __get_free_pages(GFP_KERNEL, 0);
    KT_ASSERT(page, "no page");
    page[0] = 0xc3; /* ret */
    int caught = catch_faults(call_it, page, &fi);
    free_pages(page, 0);
    KT_ASSERT(caught == 1, "executing from the direct map worked");
    KT_ASSERT(fi.vector == VEC_PF && (fi.error & PF_FETCH), "vector %lu error %#lx",
              fi.vector, fi.error);
    KT_ASSERT(fi.cr2 == (uint64_t)page, "CR2 %#lx", fi.cr2);
    KT_BASELINE(&b);
}

/* ---- SMEP and SMAP, with a user page in a temporary address space -------------------- */

#define USER_VA 0x400000ul

static void read_user(void *arg)
{
    (void)*(volatile uint8_t *)arg;
}

static void read_user_stac(void *arg)
{
    stac();
    (void)*(volatile uint8_t *)arg;
    clac();
}

KTEST(vm_smep_smap)
{
    /* What should be on follows from CPUID and the command line, not
     * from CR4, which is what is under test. */
    bool want_smep = cpu.smep && !option("nosmep"), want_smap = cpu.smap && !option("nosmap");
    KT_ASSERT(!!(read_cr4() & CR4_SMEP) == want_smep, "CR4.SMEP is %d", !want_smep);
    KT_ASSERT(!!(read_cr4() & CR4_SMAP) == want_smap, "CR4.SMAP is %d", !want_smap);
    if (!want_smep && !want_smap) {
        printk("vm_smep_smap: the CPU has neither (QEMU -cpu max has both); nothing more\n");
        return;
    }
    struct baseline b;
    struct pgtable upt;
    struct fault_info fi;
    take(&b);
    KT_ASSERT(user_pt_create(&upt) == 0, "no memory for an address space");
    uint8_t *frame = get_zeroed_page(GFP_KERNEL);
    KT_ASSERT(frame, "no page");
    frame[0] = 0xc3;
    uint64_t pa = (uint64_t)frame - DIRECT_MAP_BASE;
    int err = pt_map(&upt, USER_VA, pa, PAGE_SIZE, PT_U | PT_X | PT_W, 0);
    KT_ASSERT(err == 0, "pt_map %d", err);
    uint64_t old = read_cr3();
    write_cr3(upt.root);
    int exec = -1, rd = -1, rd_ok = -1;
    uint64_t exec_err = 0, rd_err = 0;
    if (read_cr4() & CR4_SMEP) {
        exec = catch_faults(call_it, (void *)USER_VA, &fi);
        exec_err = fi.error;
    }
    if (read_cr4() & CR4_SMAP) {
        rd = catch_faults(read_user, (void *)USER_VA, &fi);
        rd_err = fi.error;
        rd_ok = catch_faults(read_user_stac, (void *)USER_VA, &fi);
    }
    write_cr3(old);
    pt_destroy(&upt);
    free_page(frame);
    if (read_cr4() & CR4_SMEP)
        KT_ASSERT(exec == 1 && (exec_err & PF_FETCH), "SMEP: executing a user page from "
                  "ring 0 gave %d (error %#lx)", exec, exec_err);
    if (read_cr4() & CR4_SMAP) {
        KT_ASSERT(rd == 1 && (rd_err & PF_PRESENT), "SMAP: reading a user page gave %d "
                  "(error %#lx)", rd, rd_err);
        KT_ASSERT(rd_ok == 0, "SMAP: reading with RFLAGS.AC set (stac) faulted");
    }
    KT_BASELINE(&b);
}

/* ---- TLB ---------------------------------------------------------------------------- */

KTEST(vm_tlb_calls)
{
    struct tlb_stats before = tlb_stats;
    tlb_flush_range(VMALLOC_END - 16 * PAGE_SIZE, 4 * PAGE_SIZE);
    KT_ASSERT(tlb_stats.pages == before.pages + 4 && tlb_stats.full == before.full,
              "4 pages: %lu invlpg, %lu full", (tlb_stats.pages - before.pages),
              (tlb_stats.full - before.full));
    before = tlb_stats;
    tlb_flush_range(VMALLOC_START, (TLB_FLUSH_CEILING + 1) * PAGE_SIZE);
    KT_ASSERT(tlb_stats.pages == before.pages && tlb_stats.full == before.full + 1,
              "%d pages: %lu invlpg, %lu full", TLB_FLUSH_CEILING + 1,
              (tlb_stats.pages - before.pages),
              (tlb_stats.full - before.full));
}

/* A stale translation would show the old frame's contents after a remap. */
KTEST(vm_tlb_remap_seen)
{
    struct baseline b;
    take(&b);
    uint64_t *x = get_zeroed_page(GFP_KERNEL), *y = get_zeroed_page(GFP_KERNEL);
    KT_ASSERT(x && y, "no pages");
    x[0] = 0x1111;
    y[0] = 0x2222;
    uint64_t fx = (uint64_t)x - DIRECT_MAP_BASE, fy = (uint64_t)y - DIRECT_MAP_BASE;
    uint64_t *v = vmap(&fx, 1, PT_W);
    KT_ASSERT(v, "vmap failed");
    uint64_t first = *(volatile uint64_t *)v; /* now in the TLB */
    uint64_t va = (uint64_t)v;
    pt_unmap(&kernel_pt, va, PAGE_SIZE);
    pt_map(&kernel_pt, va, fy, PAGE_SIZE, PT_W | PT_G, 0);
    uint64_t second = *(volatile uint64_t *)v;
    vunmap(v);
    free_page(x);
    free_page(y);
    KT_ASSERT(first == 0x1111 && second == 0x2222, "read %#lx then %#lx",
              first, second);
    KT_BASELINE(&b);
}

/* ---- vmalloc -------------------------------------------------------------------------- */

KTEST(vm_vmalloc_scattered)
{
    struct baseline b;
    take(&b);
    uint64_t tables = kernel_pt.nr_tables;
    size_t size = 1 << 20;
    uint8_t *p = vmalloc(size);
    KT_ASSERT(p, "vmalloc(1 MiB) failed");
    KT_ASSERT((uint64_t)p >= VMALLOC_START && (uint64_t)p < VMALLOC_END, "address %p", p);
    for (size_t i = 0; i < size; i += 8)
        *(uint64_t *)(p + i) = i * 0x9e3779b97f4a7c15ul;
    uint64_t bad = 0, physically_contiguous = 0;
    for (size_t i = 0; i < size; i += 8)
        bad += *(uint64_t *)(p + i) != i * 0x9e3779b97f4a7c15ul;
    struct pt_view v0, v;
    uint64_t unmapped = walk((uint64_t)p, &v0) != 0;
    for (size_t i = PAGE_SIZE; i < size; i += PAGE_SIZE) {
        if (walk((uint64_t)p + i, &v)) {
            unmapped++;
            continue;
        }
        physically_contiguous += v.pa == v0.pa + i;
    }
    static char info[4096];
    vmallocinfo(info, sizeof(info));
    bool listed = strstr(info, "kt_vm_vmalloc_scattered+") && strstr(info, "pages=256");
    vfree(p);
    KT_ASSERT(unmapped == 0, "%lu pages of the area are not mapped", unmapped);
    KT_ASSERT(bad == 0, "%lu words read back wrong", bad);
    KT_ASSERT(listed, "vmallocinfo lacks the area:\n%s", info);
    printk("vm_vmalloc_scattered: %lu of 255 pages physically follow the first\n",
           physically_contiguous);
    KT_ASSERT(kernel_pt.nr_tables == tables, "table pages %lu -> %lu",
              tables, kernel_pt.nr_tables);
    KT_BASELINE(&b);
}

static void write_byte(void *arg)
{
    *(volatile uint8_t *)arg = 1;
}

KTEST(vm_vmalloc_guard_page)
{
    struct baseline b;
    struct fault_info fi;
    take(&b);
    size_t size = 3 * PAGE_SIZE;
    uint8_t *p = vmalloc(size);
    KT_ASSERT(p, "vmalloc failed");
    memset(p, 0x5a, size); /* all of it is usable */
    uint64_t mark = log_mark();
    int caught = catch_faults(write_byte, p + size, &fi); /* one byte past the end */
    bool named = log_contains_since(mark, "guard page hit") &&
                 log_contains_since(mark, "kt_vm_vmalloc_guard_page+");
    vfree(p);
    KT_ASSERT(caught == 1, "writing one byte past a vmalloc area did not fault");
    KT_ASSERT(fi.cr2 == (uint64_t)p + size, "CR2 %#lx", fi.cr2);
    KT_ASSERT(named, "no 'guard page hit' report naming the owner");
    KT_BASELINE(&b);
}

KTEST(vm_vmalloc_bad_input)
{
    struct baseline b;
    take(&b);
    KT_ASSERT(vmalloc(0) == NULL, "vmalloc(0) returned memory");
    KT_ASSERT(vmalloc(VMALLOC_END - VMALLOC_START) == NULL, "vmalloc(whole range) worked");
    KT_ASSERT(vmalloc((size_t)-1) == NULL, "vmalloc(-1) worked");
    KT_ASSERT(vmap(NULL, 1, PT_W) == NULL, "vmap(NULL) worked");
    uint64_t odd = 0x1234;
    KT_ASSERT(vmap(&odd, 1, PT_W) == NULL, "vmap of an unaligned frame worked");
    KT_ASSERT(ioremap(0, 0) == NULL, "ioremap of 0 bytes worked");
    KT_ASSERT(ioremap(~0ul - 10, 100) == NULL, "ioremap crossing 2^64 worked");
    vfree(NULL); /* allowed, does nothing */
    vfree_stack(NULL);
    /* RAM is not device memory: a second, uncached mapping is refused */
    uint64_t *frame = get_zeroed_page(GFP_KERNEL);
    KT_ASSERT(frame, "no page");
    void *io = ioremap((uint64_t)frame - DIRECT_MAP_BASE, 8);
    free_page(frame);
    KT_ASSERT(io == NULL, "ioremap of a RAM frame worked");
    KT_BASELINE(&b);
}

/* Running out of frames half-way: everything taken so far is given back. */
KTEST(vm_vmalloc_out_of_memory)
{
    struct baseline b;
    take(&b);
    uint64_t want = (nr_free_pages() + 1024) * PAGE_SIZE;
    uint64_t mark = log_mark();
    void *p = vmalloc(want);
    KT_ASSERT(p == NULL, "vmalloc of more than free memory succeeded");
    /* it failed for lack of frames, after taking what there was */
    KT_ASSERT(log_contains_since(mark, "vmalloc: out of memory"), "failed for another reason");
    KT_BASELINE(&b);
}

/* ---- kernel stacks ------------------------------------------------------------------------- */

__noreturn void call_on_stack(void *top, __noreturn void (*fn)(void));

/* Deep enough to overflow any stack; the limit only silences the
 * compiler's infinite-recursion warning. */
static __attribute__((noinline)) uint64_t recurse(uint64_t depth)
{
    volatile uint8_t pad[200];
    pad[0] = (uint8_t)depth;
    if (depth > (1ul << 40))
        return 0;
    return recurse(depth + 1) + pad[0];
}

static __noreturn void overflow(void)
{
    recurse(0);
    for (;;)
        ;
}

static void on_small_stack(void *arg)
{
    call_on_stack((uint8_t *)arg + 8 * PAGE_SIZE, overflow);
}

KTEST(vm_stack_overflow)
{
    struct baseline b;
    struct fault_info fi;
    take(&b);
    uint8_t *stack = vmalloc_stack(8 * PAGE_SIZE, "overflow-test");
    KT_ASSERT(stack, "no stack");
    uint64_t mark = log_mark();
    uint64_t lo, hi;
    ist_bounds(IST_DOUBLE_FAULT, &lo, &hi);
    int caught = catch_faults(on_small_stack, stack, &fi);
    bool reported = log_contains_since(mark, "kernel stack overflow") &&
                    log_contains_since(mark, "overflow-test");
    vfree_stack(stack);
    KT_ASSERT(caught == 1, "endless recursion was not caught");
    KT_ASSERT(fi.vector == VEC_DF, "vector %lu, expected #DF", fi.vector);
    KT_ASSERT(fi.handler_rsp >= lo && fi.handler_rsp < hi,
              "the report did not run on the double-fault IST stack (%#lx)",
              fi.handler_rsp);
    KT_ASSERT(reported, "no 'kernel stack overflow' report naming the stack");
    KT_BASELINE(&b);
}

KTEST(vm_running_on_vmalloc_stack)
{
    uint64_t rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    const struct vm_area *a = find_vm_area(rsp);
    KT_ASSERT(a && a->kind == VM_STACK, "RSP %#lx is not on a vmalloc'ed stack",
              rsp);
    KT_ASSERT(a->guard_below == PAGE_SIZE, "no guard page below the stack");
}

/* ---- ioremap and PAT ------------------------------------------------------------------------ */

KTEST(vm_ioremap_cache_types)
{
    struct baseline b;
    struct pt_view v;
    take(&b);
    /* The local APIC's registers: uncached MMIO. Version register at 0x30. */
    uint64_t apic = rdmsr(0x1b) & 0x000ffffffffff000ul;
    volatile uint32_t *regs = ioremap(apic, PAGE_SIZE);
    KT_ASSERT(regs, "ioremap of the local APIC failed");
    uint32_t version = regs[0x30 / 4];
    KT_ASSERT(walk((uint64_t)regs, &v) == 0 && (v.prot & PT_CACHE_MASK) == PT_UC,
              "ioremap is not uncached (prot %#x)", v.prot);
    iounmap(regs);
    KT_ASSERT((version & 0xff) >= 0x10 && (version & 0xff) <= 0x15,
              "local APIC version register reads %#x", version);
    if (boot_info->fb.phys) {
        /* the console's own mapping is write-combining */
        uint8_t *fb = ioremap_wc(boot_info->fb.phys + 100, 10);
        KT_ASSERT(fb, "ioremap_wc failed");
        KT_ASSERT(((uint64_t)fb & (PAGE_SIZE - 1)) == 100, "offset lost: %p", fb);
        KT_ASSERT(walk((uint64_t)fb, &v) == 0 && (v.prot & PT_CACHE_MASK) == PT_WC,
                  "ioremap_wc is not write-combining (prot %#x)", v.prot);
        iounmap(fb);
    }
    /* Linux's layout, byte i = type of PAT entry i: WB WC UC- UC WB WP UC- WT */
    if (cpu.pat)
        KT_ASSERT(rdmsr(MSR_PAT) == 0x0407050600070106ul, "IA32_PAT is %#lx",
                  rdmsr(MSR_PAT));
    KT_BASELINE(&b);
}

/* ---- kmap ---------------------------------------------------------------------------------- */

static void read_byte(void *arg)
{
    (void)*(volatile uint8_t *)arg;
}

KTEST(vm_kmap)
{
    struct baseline b;
    struct fault_info fi;
    take(&b);
    uint64_t *direct = get_zeroed_page(GFP_KERNEL);
    KT_ASSERT(direct, "no page");
    direct[7] = 0xfeedface;
    uint64_t *k = kmap(virt_to_page(direct));
    KT_ASSERT(k, "kmap failed");
    bool same = k[7] == 0xfeedface;
    k[8] = 0xdecade;
    bool back = direct[8] == 0xdecade;
    kunmap(virt_to_page(direct));
    int stale = catch_faults(read_byte, k, &fi);
    free_page(direct);
    KT_ASSERT(same && back, "kmap and the direct map disagree");
    KT_ASSERT(stale == 1, "a kunmap'ed slot still reads");

    /* Any frame, also one outside the direct map: a firmware-reserved one. */
    size_t n;
    const struct mem_range *r = mem_ranges(&n);
    uint64_t pa = 0;
    struct pt_view v;
    for (size_t i = 0; i < n && !pa; i++)
        if (r[i].kind == MEM_RESERVED && r[i].start && walk(DIRECT_MAP_BASE + r[i].start, &v))
            pa = r[i].start;
    if (pa) {
        void *m = kmap_phys(pa);
        KT_ASSERT(m, "kmap of reserved frame %#lx failed", pa);
        bool uc = walk((uint64_t)m, &v) == 0 && (v.prot & PT_CACHE_MASK) == PT_UC;
        int rd = catch_faults(read_byte, m, &fi);
        kunmap_phys(m);
        KT_ASSERT(rd == 0, "reading through kmap faulted");
        KT_ASSERT(uc, "a frame outside RAM was not mapped uncached (prot %#x)", v.prot);
    }
    /* Exhaustion: all slots, then one more (kmap_phys takes a slot per
     * call; kmap(page) exhaustion is in test_kmap.c). */
    void *slots[KMAP_SLOTS];
    unsigned got = 0;
    uint64_t *frame = get_zeroed_page(GFP_KERNEL);
    while (got < KMAP_SLOTS && (slots[got] = kmap_phys(page_to_phys(virt_to_page(frame)))))
        got++;
    for (unsigned i = 0; i < got; i++)
        kunmap_phys(slots[i]);
    free_page(frame);
    KT_ASSERT(got == KMAP_SLOTS - 1, "%u slots, expected %u", got, KMAP_SLOTS - 1);
    KT_BASELINE(&b);
}

/* ---- the loader's memory ------------------------------------------------------------------ */

KTEST(vm_loader_memory_released)
{
    size_t n;
    const struct mem_range *r = mem_ranges(&n);
    for (size_t i = 0; i < n; i++) {
        KT_ASSERT(r[i].kind != MEM_BOOT_TABLES && r[i].kind != MEM_BOOT_INFO,
                  "%#lx-%#lx is still held as %s", r[i].start,
                  r[i].end, mem_kind_name(r[i].kind));
        KT_ASSERT(i == 0 || r[i - 1].end != r[i].start || r[i - 1].kind != r[i].kind,
                  "ranges %zu and %zu touch and have the same kind", i - 1, i);
    }
    /* the loader's page tables and boot info are ordinary frames now */
    const struct boot_range *gone[] = { &boot_info->pagetables, &boot_info->bootinfo };
    for (size_t k = 0; k < ARRAY_SIZE(gone); k++)
        for (uint64_t pa = gone[k]->phys; pa < gone[k]->phys + gone[k]->size; pa += PAGE_SIZE)
            KT_ASSERT(!(pfn_to_page(pa >> PAGE_SHIFT)->flags & PG_RESERVED),
                      "frame %#lx of the loader is still reserved", pa);
    /* and boot_info itself was copied out of them */
    uint64_t bi = (uint64_t)boot_info - DIRECT_MAP_BASE;
    KT_ASSERT(bi < boot_info->bootinfo.phys || bi >= boot_info->bootinfo.phys +
              boot_info->bootinfo.size, "boot_info still points into the released block");
}
