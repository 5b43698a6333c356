/*
 * execve: replace a process's image with a program from the initrd.
 *
 * Everything that can fail is done on a NEW address space first: find
 * the file (kernel/fs/cpio.c), check the ELF and plan its segments
 * (kernel/proc/elf_user.c), map the segments as private file mappings of the
 * initrd's bytes (nothing is copied until touched: demand paging), set
 * the break after the last segment, map the stack with its guard gap,
 * and write argv, envp and the auxiliary vector at its top as Linux does
 * (kernel/proc/user_stack.c).  Only then is the old address space dropped and
 * the trap frame pointed at the entry point: a failed execve leaves the
 * caller exactly as it was.
 *
 * Each segment's backing file is the initrd file cut at the segment's
 * last file byte (offset + filesz), so the fault handler's "zero past the
 * end of the file" gives the bss its zeros, in the last file page too.
 * Those views live as long as the kernel (the initrd never changes):
 * a small cache keeps one per (file, length).
 */
#include <kernel/exec.h>
#include <kernel/cpio.h>
#include <kernel/elf_user.h>
#include <kernel/cmdline.h>
#include <compat32/compat32.h>
#include <compat32/mmu32.h>
#include <kernel/console.h>
#include <kernel/errno.h>
#include <kernel/file.h>
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>
#include <kernel/x86.h>
#include <mm/layout.h>
#include <mm/slab.h>
#include <mm/vma.h>
#include <mm/vmalloc.h>
#include <elf.h>

#define STACK_SIZE  (8ul << 20)      /* RLIMIT_STACK's default */
#define STACK_GUARD (256ul * 4096)   /* Linux's stack_guard_gap */
#define STACK_BUILD (160ul * 1024)   /* room for argv/envp strings and tables */


struct file_view {
    struct vm_file vf;
    struct file_view *next;
};
static struct file_view *views;

static const struct vm_file *view_of(const struct cpio_entry *e, uint64_t len)
{
    for (struct file_view *v = views; v; v = v->next)
        if (v->vf.data == e->data && v->vf.size == len)
            return &v->vf;
    struct file_view *v = kzalloc(sizeof(*v), GFP_KERNEL);
    if (!v)
        return NULL;
    v->vf.name = e->name;   /* points into the initrd: lives forever */
    v->vf.data = e->data;
    v->vf.size = len;
    v->next = views;
    views = v;
    return &v->vf;
}

const struct vm_file *initrd_file_view(const uint8_t *data, uint64_t size)
{
    const uint8_t *base = phys_to_virt(boot_info->initrd.phys);
    if (!boot_info->initrd.phys || data < base || size > boot_info->initrd.size ||
        data + size > base + boot_info->initrd.size)
        return NULL;
    struct cpio_iter it;
    struct cpio_entry e;
    cpio_iter_init(&it, base, boot_info->initrd.size);
    while (cpio_next(&it, &e, NULL) == 1)
        if (e.data == data && cpio_is_reg(&e))
            return view_of(&e, size);
    return NULL;
}

static unsigned seg_prot(uint32_t p)
{
    return ((p & ELF_USER_R) ? PROT_READ : 0) | ((p & ELF_USER_W) ? PROT_WRITE : 0) |
           ((p & ELF_USER_X) ? PROT_EXEC : 0);
}

static int map_segments(struct mm *mm, const struct cpio_entry *e,
                        const struct elf_user_plan *plan)
{
    for (uint32_t i = 0; i < plan->nseg; i++) {
        const struct elf_user_seg *s = &plan->seg[i];
        uint64_t start = ALIGN_DOWN(s->vaddr, PAGE_SIZE);
        uint64_t end = ALIGN_UP(s->vaddr + s->memsz, PAGE_SIZE);
        uint64_t off = ALIGN_DOWN(s->offset, PAGE_SIZE);
        const struct vm_file *vf = view_of(e, s->offset + s->filesz);
        uint64_t got;
        if (!vf)
            return -ENOMEM;
        int err = mm_mmap(mm, start, end - start, seg_prot(s->prot),
                          MAP_PRIVATE | MAP_FIXED, vf, off, &got);
        if (err)
            return err;
    }
    return 0;
}

/* The new image's stack: argv, envp, auxv written at its top. */
static int64_t build_stack(struct mm *mm, const struct elf_user_plan *plan, int bits,
                           const char *path, const struct user_strings *argv,
                           const struct user_strings *envp)
{
    uint64_t top = mm->va_end;
    int err = mm_setup_stack(mm, top, STACK_SIZE, STACK_GUARD);
    if (err)
        return err;
    uint8_t *buf = vmalloc(STACK_BUILD);
    if (!buf)
        return -ENOMEM;
    uint8_t random[16];
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = kernel_random();
        memcpy(random + i, &r, 8);
    }
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    struct user_stack_info in = {
        .bits = bits, .argv = *argv, .envp = *envp, .execfn = path, .random = random,
        .hwcap = d, .hwcap2 = 0, .phdr = plan->phdr, .phent = plan->phent,
        .phnum = plan->phnum, .entry = plan->entry,
    };
    int64_t sp = user_stack_build(buf, STACK_BUILD, top, &in, NULL);
    if (sp > 0 && mm_write(mm, (uint64_t)sp, buf + STACK_BUILD - (top - (uint64_t)sp),
                           top - (uint64_t)sp))
        sp = -ENOMEM;
    vfree(buf);
    return sp;
}

int exec_image(struct task *t, const char *path, const struct user_strings *argv,
               const struct user_strings *envp)
{
    const void *initrd = phys_to_virt(boot_info->initrd.phys);
    struct cpio_entry e;
    const char *why = NULL;
    if (!boot_info->initrd.phys || cpio_find(initrd, boot_info->initrd.size, path, &e, &why))
        return -ENOENT;
    if (cpio_is_dir(&e))
        return -EACCES;
    if (!cpio_is_reg(&e))
        return -EACCES;
    struct elf_user_plan plan;
    /* The file's own class decides (a static PIE gets its class's usual
     * base); elf_user_check reads the rest of the header by that class. */
    bool is32 = e.size > EI_CLASS && ((const uint8_t *)e.data)[EI_CLASS] == ELFCLASS32;
    if (elf_user_check(e.data, e.size, is32 ? ELF_USER_DYN_BASE32 : ELF_USER_DYN_BASE64, &plan,
                       &why)) {
        printk("execve %s: not a valid executable: %s\n", path, why ? why : "?");
        return -ENOEXEC;
    }
    is32 = plan.elf_class == ELFCLASS32;
    struct mm *mm = kzalloc(sizeof(*mm), GFP_KERNEL);
    if (!mm)
        return -ENOMEM;
    /* A 32-bit program gets compat32's address space (below 0xffc00000,
     * frames below 4 GiB): compat32/mmu32.c. */
    int err = is32 ? mm_init_user32(mm) : mm_init_user(mm, MM_VA_END_64, GFP_KERNEL);
    if (err) {
        kfree(mm);
        return err;
    }
    /* (the kernel half is there: mm_init_user and mmu32 share it) */
    err = map_segments(mm, &e, &plan);
    if (!err)
        err = mm_brk_init(mm, plan.brk);
    int64_t sp = err ? err : build_stack(mm, &plan, is32 ? 32 : 64, path, argv, envp);
    if (sp < 0) {
        mm_release(mm);
        return (int)sp;
    }

    /* The point of no return: the old image goes. */
    struct mm *old = t->mm;
    t->mm = mm;
    if (t == current)
        write_cr3(mm_cr3(mm));
    if (old)
        mm_release(old);
    const char *base = strrchr(path, '/');
    strlcpy(t->name, base ? base + 1 : path, TASK_NAME_MAX);
    t->fs_base = 0;
    t->flags = is32 ? (t->flags | TASK_COMPAT32) : (t->flags & ~TASK_COMPAT32);
    /* No TLS descriptors, DS = ES = user data, FS = GS = 0 (loaded now if
     * t is running) */
    tls_exec_reset(t);
    task_fpu_reset(t);
    if (t == current) {
        wrmsr(MSR_FS_BASE, 0);   /* FS base: the old image's thread pointer is gone */
        __asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t(*)[512])t->fpu));
    }
    if (t->files)
        files_close_on_exec(t->files);
    struct trap_frame *f = task_frame(t);
    memset(f, 0, sizeof(*f));
    f->rip = plan.entry;
    f->rsp = (uint64_t)sp;
    /* a 32-bit program runs in compatibility mode: the L=0 D=1 code segment */
    f->cs = (is32 ? GDT_UCODE32 : GDT_UCODE64) | 3;
    f->ss = GDT_UDATA | 3;
    f->rflags = 0x202;   /* IF: user code runs with interrupts on */
    return 0;
}

/* Copy a NULL-terminated array of user string pointers (ptr_size bytes
 * each: 8, or 4 for a 32-bit caller) into out. */
static int copy_strings(uint64_t uvec, unsigned ptr_size, char *out, size_t cap,
                        struct user_strings *res)
{
    size_t len = 0;
    uint32_t n = 0;
    for (; uvec; n++) {
        uint64_t p = 0;   /* a 4-byte pointer is zero-extended (little-endian) */
        if (copy_from_user(&p, uvec + (uint64_t)n * ptr_size, ptr_size))
            return -EFAULT;
        if (!p)
            break;
        if (n >= 0x7fffffff / 8)
            return -E2BIG;
        long l = strncpy_from_user(out + len, p, cap - len);
        if (l == -ENAMETOOLONG)
            return -E2BIG;
        if (l < 0)
            return (int)l;
        len += (size_t)l + 1;
    }
    res->buf = out;
    res->len = len;
    res->count = n;
    return 0;
}

long do_execve(uint64_t upath, uint64_t uargv, uint64_t uenvp, unsigned ptr_size)
{
    char *path = kmalloc(4096, GFP_KERNEL);
    char *args = vmalloc(2 * USER_STACK_ARG_MAX);
    long err = (!path || !args) ? -ENOMEM : 0;
    struct user_strings argv = { 0 }, envp = { 0 };
    if (!err) {
        long l = strncpy_from_user(path, upath, 4096);
        err = l < 0 ? l : l == 0 ? -ENOENT : 0;
    }
    if (!err)
        err = copy_strings(uargv, ptr_size, args, USER_STACK_ARG_MAX, &argv);
    if (!err)
        err = copy_strings(uenvp, ptr_size, args + USER_STACK_ARG_MAX, USER_STACK_ARG_MAX,
                           &envp);
    if (!err)
        err = exec_image(current, path, &argv, &envp);
    kfree(path);
    vfree(args);
    return err;
}

long sys_execve(const struct sysargs *a)
{
    return do_execve(a->arg[0], a->arg[1], a->arg[2], 8);
}

void start_init(void)
{
    const char *path = option("init");
    if (!path || !*path)
        path = "/bin/init";
    static const char *const env[] = { "HOME=/", "TERM=linux" };
    static char argbuf[BOOT_CMDLINE_MAX + 256], envbuf[64], words[BOOT_CMDLINE_MAX];
    struct user_strings argv, envp;
    /* argv: the path, then the words after "--" on the command line */
    static const char *args[1 + BOOT_CMDLINE_MAX / 2];
    uint32_t n = 0;
    args[n++] = path;
    strlcpy(words, options_init_args(), sizeof(words));
    for (char *p = words; *p;) {
        while (*p == ' ')
            *p++ = 0;
        if (!*p)
            break;
        args[n++] = p;
        while (*p && *p != ' ')
            p++;
    }
    if (user_strings_pack(argbuf, sizeof(argbuf), args, n, &argv) ||
        user_strings_pack(envbuf, sizeof(envbuf), env, 2, &envp)) {
        printk("init: %s: the path is too long\n", path);
        return;
    }
    struct task *t = task_alloc("init", NULL);
    if (!t)
        panic("init: no memory for the first task");
    t->files = files_create_std();
    int err = exec_image(t, path, &argv, &envp);
    if (err) {
        printk("init: cannot run %s (error %d): no user program to start\n", path, err);
        task_reap(t);
        return;
    }
    printk("init: starting %s as pid %d with %u argument%s\n", path, t->pid, n - 1,
           n == 2 ? "" : "s");
    /* COM2 carries the processes' output from here on (tools/qemu.py
     * drops what the firmware wrote before this line). */
    static const char banner[] = "mmk: process output follows\n";
    serial2_write(banner, sizeof(banner) - 1);
    task_start(t);
}
