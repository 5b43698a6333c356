/*
 * execve: replace a process's image with a program from the file system.
 *
 * Everything that can fail is done on a NEW address space first: find
 * the file as open would (kernel/proc/exec_file.c: links followed, the
 * x bit checked), follow "#!" scripts to their interpreter (at most five
 * in a row: -ELOOP beyond, as Linux), check the ELF and plan its
 * segments (kernel/proc/elf_user.c), map the segments, set the break
 * after the last one, map the stack with its guard gap, and write argv,
 * envp and the auxiliary vector at its top as Linux does
 * (kernel/proc/user_stack.c).  Only then is the old address space
 * dropped and the trap frame pointed at the entry point: a failed execve
 * leaves the caller exactly as it was.
 *
 * A program whose bytes are all still the initrd's (never written) is
 * mapped as private file mappings of the archive: nothing is copied
 * until touched (demand paging).  Each segment's backing file is the
 * initrd file cut at the segment's last file byte (offset + filesz), so
 * the fault handler's "zero past the end of the file" gives the bss its
 * zeros, in the last file page too.  Those views live as long as the
 * kernel (the initrd never changes): a small cache keeps one per (file,
 * length).  A program written since (its bytes in page-cache pages) is
 * copied into anonymous private memory at exec instead, since a mapping
 * may not outlive the pages of a file that can be truncated.
 */
#include <kernel/exec.h>
#include <kernel/cpio.h>
#include <kernel/elf_user.h>
#include <kernel/cmdline.h>
#include <compat32/compat32.h>
#include <compat32/mmu32.h>
#include <kernel/console.h>
#include <kernel/errno.h>
#include <kernel/smp.h>
#include <kernel/file.h>
#include <kernel/kernel.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>
#include <kernel/vdso.h>
#include <kernel/vfs.h>
#include <kernel/x86.h>
#include <mm/layout.h>
#include <mm/slab.h>
#include <mm/vma.h>
#include <mm/vmalloc.h>
#include <elf.h>

#define STACK_GUARD  (256ul * 4096)   /* Linux's stack_guard_gap */
#define STACK_EXPAND (128ul * 1024)   /* stack exec maps below the arguments (setup_arg_pages) */
#define RLIMIT_STACK 3
#define ARGS_FIRST   (64ul * 1024)    /* do_execve's first buffer for argv and envp */

/* RLIMIT_STACK of the calling task: the stack's growth limit
 * (mm_stack_limit, set at boot) and the argument limit's base. */
uint64_t exec_stack_limit(void)
{
    struct rlimit64 r;
    return rlimit_do(0, RLIMIT_STACK, NULL, &r) ? (8ul << 20) : r.cur;
}


struct file_view {
    struct vm_file vf;
    struct file_view *next;
};
static struct file_view *views;

static const struct vm_file *view_of(const char *name, const uint8_t *data, uint64_t len)
{
    for (struct file_view *v = views; v; v = v->next)
        if (v->vf.data == data && v->vf.size == len)
            return &v->vf;
    struct file_view *v = kzalloc(sizeof(*v), GFP_KERNEL);
    if (!v)
        return NULL;
    v->vf.name = name;      /* points into the initrd: lives forever */
    v->vf.data = data;
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
            return view_of(e.name, e.data, size);
    return NULL;
}

const struct vm_file *file_mmap_view(struct file *f)
{
    struct inode *ino = f->inode;
    if (!ino || !S_ISREG(ino->mode) || ino->reg.pages.nr_pages || !ino->reg.idata ||
        ino->reg.isize != ino->size)
        return NULL;
    return view_of(ino->reg.iname, ino->reg.idata, ino->size);
}

static unsigned seg_prot(uint32_t p)
{
    return ((p & ELF_USER_R) ? PROT_READ : 0) | ((p & ELF_USER_W) ? PROT_WRITE : 0) |
           ((p & ELF_USER_X) ? PROT_EXEC : 0);
}

/*
 * One segment of a program copied from xf's bytes into anonymous private
 * memory: mapped writable, written (the file's bytes from the start of
 * the segment's first page, as a file mapping would show them; the rest
 * zero), then given its own protection.
 */
static int copy_segment(struct mm *mm, const struct exec_file *xf, const struct elf_user_seg *s,
                        uint64_t start, uint64_t end, uint64_t off)
{
    unsigned prot = seg_prot(s->prot);
    uint64_t got, n = s->offset + s->filesz - off;
    int err = mm_mmap(mm, start, end - start, prot | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, &got);
    if (!err && n)
        err = mm_write(mm, start, xf->data + off, n);
    if (!err && !(prot & PROT_WRITE))
        err = mm_mprotect(mm, start, end - start, prot);
    return err;
}

static int map_segments(struct mm *mm, const struct exec_file *xf,
                        const struct elf_user_plan *plan)
{
    for (uint32_t i = 0; i < plan->nseg; i++) {
        const struct elf_user_seg *s = &plan->seg[i];
        uint64_t start = ALIGN_DOWN(s->vaddr, PAGE_SIZE);
        uint64_t end = ALIGN_UP(s->vaddr + s->memsz, PAGE_SIZE);
        uint64_t off = ALIGN_DOWN(s->offset, PAGE_SIZE);
        int err;
        if (xf->copied) {
            err = copy_segment(mm, xf, s, start, end, off);
        } else {
            const struct vm_file *vf = view_of(xf->name, xf->data, s->offset + s->filesz);
            uint64_t got;
            err = vf ? mm_mmap(mm, start, end - start, seg_prot(s->prot),
                               MAP_PRIVATE | MAP_FIXED, vf, off, &got)
                     : -ENOMEM;
        }
        if (err)
            return err;
    }
    return 0;
}

/*
 * The program behind path: *xf opened on an ELF candidate (or anything
 * that is no script: elf_user_check judges it), after following "#!"
 * lines.  *args is the argv to give it: argv itself, or a rebuilt one in
 * *scratch (vmalloc'ed, the caller frees it).
 */
#define EXEC_MAX_SCRIPTS 5

static int find_program(const char *path, const struct user_strings *argv,
                        struct exec_file *xf, struct user_strings *args, char **scratch)
{
    char *line = kmalloc(EXEC_LINE_MAX, GFP_KERNEL);
    const char *name = path, *script = path;
    int err = line ? 0 : -ENOMEM;
    *args = *argv;
    *scratch = NULL;
    for (int depth = 0; !err; depth++) {
        err = exec_file_open(name, xf);
        if (err)
            break;
        const char *interp, *arg;
        int r = exec_script(xf, line, &interp, &arg);
        if (r == 0)
            break;                     /* not a script: the program itself */
        err = r < 0 ? r : depth >= EXEC_MAX_SCRIPTS ? -ELOOP : 0;
        /* the old argv less argv[0], after the interpreter, its argument
         * and the script's path (the limit is checked on the result) */
        size_t cap = args->len + 2 * EXEC_LINE_MAX + strlen(script) + 1;
        char *buf = err ? NULL : vmalloc(cap);
        struct user_strings next;
        if (!err)
            err = buf ? exec_script_argv(interp, arg, script, args, buf, cap, &next) : -ENOMEM;
        exec_file_close(xf);
        if (err) {
            vfree(buf);
            break;
        }
        vfree(*scratch);
        *scratch = buf;
        *args = next;
        name = script = buf;           /* the interpreter: argv[0] of the new argv */
    }
    kfree(line);
    if (err) {
        vfree(*scratch);
        *scratch = NULL;
    }
    return err;
}

/* The new image's stack: argv, envp, auxv written at its top. */
static int64_t build_stack(struct mm *mm, const struct elf_user_plan *plan, int bits,
                           const char *path, const struct user_strings *argv,
                           const struct user_strings *envp)
{
    uint64_t top = mm->va_end, limit = exec_stack_limit();
    /* What the strings and tables take at most (every table word counted
     * as 8 bytes, the alignments included), in pages: the buffer to
     * build them in, and the stack's first pages. */
    uint64_t need = ALIGN_UP(argv->len + envp->len + strlen(path) + 1 + 128 +
                                 ((uint64_t)argv->count + envp->count + 4 +
                                  2 * USER_STACK_NAUXV) * 8, PAGE_SIZE);
    /* Linux's setup_arg_pages: those pages and 128 KiB below them, or the
     * limit when it is smaller; the stack grows from there (mm/stack.c). */
    uint64_t size = need + STACK_EXPAND;
    if (size > limit)
        size = MAX(need, ALIGN_DOWN(limit, PAGE_SIZE));
    int err = mm_setup_stack(mm, top, size, STACK_GUARD);
    uint64_t vdso = 0, vsyscall = 0;
    if (!err)   /* the vDSO, where mmap puts things, below the stack's room */
        err = vdso_map(mm, bits == 32, &vdso, &vsyscall);
    if (err)
        return err;
    uint8_t *buf = vmalloc(need);
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
        .phnum = plan->phnum, .entry = plan->entry, .vdso = vdso, .vsyscall = vsyscall,
        .arg_max = user_stack_arg_limit(limit),
    };
    struct user_stack_layout lay;
    int64_t sp = user_stack_build(buf, need, top, &in, &lay);
    if (sp > 0 && mm_write(mm, (uint64_t)sp, buf + need - (top - (uint64_t)sp),
                           top - (uint64_t)sp))
        sp = -ENOMEM;
    if (sp > 0) {   /* what /proc/<pid>/stat, cmdline and environ show */
        mm->start_stack = lay.sp;
        mm->arg_start = lay.arg_start, mm->arg_end = lay.arg_end;
        mm->env_start = lay.env_start, mm->env_end = lay.env_end;
    }
    vfree(buf);
    return sp;
}

static int exec_load(struct task *t, const char *path, struct exec_file *xf,
                     const struct user_strings *argv, const struct user_strings *envp);

int exec_image(struct task *t, const char *path, const struct user_strings *argv,
               const struct user_strings *envp)
{
    struct exec_file xf;
    struct user_strings args;
    char *scratch;
    int err = find_program(path, argv, &xf, &args, &scratch);
    if (err)
        return err;
    err = exec_load(t, path, &xf, &args, envp);
    exec_file_close(&xf);
    vfree(scratch);
    return err;
}

/* Everything after the file is found: the ELF, the new address space, the switch. */
static int exec_load(struct task *t, const char *path, struct exec_file *xf,
                     const struct user_strings *argv, const struct user_strings *envp)
{
    const char *why = NULL;
    struct elf_user_plan plan;
    /* The file's own class decides (a static PIE gets its class's usual
     * base); elf_user_check reads the rest of the header by that class. */
    bool is32 = xf->size > EI_CLASS && xf->data[EI_CLASS] == ELFCLASS32;
    if (elf_user_check(xf->data, xf->size, is32 ? ELF_USER_DYN_BASE32 : ELF_USER_DYN_BASE64,
                       &plan, &why)) {
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
    err = map_segments(mm, xf, &plan);
    if (!err)
        err = mm_brk_init(mm, plan.brk);
    int64_t sp = err ? err : build_stack(mm, &plan, is32 ? 32 : 64, path, argv, envp);
    if (sp < 0) {
        mm_release(mm);
        return (int)sp;
    }

    /* From a thread: the other threads die first and t becomes the
     * leader (kernel/proc/thread_group.c); a table shared with another
     * process becomes t's own. */
    err = t == current ? de_thread(t) : 0;
    if (!err)
        err = files_unshare(&t->files);
    if (err) {
        mm_release(mm);
        return err;
    }
    /* The point of no return: the old image goes (kept while a vfork
     * parent still runs on it: CLONE_VM, kernel/proc/fork.c). */
    clone_exec(t);
    struct mm *old = t->mm;
    t->mm = mm;
    if (t == current)
        cpu_switch_mm(mm);   /* this CPU's bit moves to the new image's cpu_mask */
    if (old && !mm_has_users(old))
        mm_release(old);
    const char *base = strrchr(path, '/');
    strlcpy(t->name, base ? base + 1 : path, TASK_NAME_MAX);
    t->fs_base = 0;
    t->flags = is32 ? (t->flags | TASK_COMPAT32) : (t->flags & ~TASK_COMPAT32);
    t->flags &= ~TASK_FORKNOEXEC;   /* setpgid's EACCES from now on */
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
    exe_install(t->files, xf->exe);   /* /proc/self/exe: the table owns the path now */
    xf->exe = NULL;
    signal_exec(t);   /* handlers back to SIG_DFL; mask, pending and SIG_IGN stay */
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
 * each: 8, or 4 for a 32-bit caller) into out[0..cap): -E2BIG for a
 * string longer than Linux's MAX_ARG_STRLEN, -ENOSPC when cap is too
 * small (do_execve tries again with more), -EFAULT. */
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
        size_t room = MIN(cap - len, (size_t)USER_STACK_STRLEN_MAX);
        long l = strncpy_from_user(out + len, p, room);
        if (l == -ENAMETOOLONG)
            return room == USER_STACK_STRLEN_MAX ? -E2BIG : -ENOSPC;
        if (l < 0)
            return (int)l;
        len += (size_t)l + 1;
    }
    res->buf = out;
    res->len = len;
    res->count = n;
    return 0;
}

/*
 * argv and envp into one vmalloc'ed buffer (*bufp, the caller frees it),
 * argv first.  Their size is only known once copied: the first buffer is
 * ARGS_FIRST bytes, and a copy that does not fit starts again in one as
 * large as the argument limit allows (Linux copies them straight to the
 * new stack; we keep the old image intact until the point of no return).
 * Past the limit: -E2BIG.
 */
static int copy_args(uint64_t uargv, uint64_t uenvp, unsigned ptr_size, uint64_t limit,
                     char **bufp, struct user_strings *argv, struct user_strings *envp)
{
    size_t cap = ARGS_FIRST;
    for (;;) {
        char *buf = vmalloc(cap);
        if (!buf)
            return -ENOMEM;
        int err = copy_strings(uargv, ptr_size, buf, cap, argv);
        if (!err)
            err = copy_strings(uenvp, ptr_size, buf + argv->len, cap - argv->len, envp);
        if (err == -ENOSPC && cap < limit) {
            vfree(buf);
            cap = limit;   /* the strings alone may not pass it */
            continue;
        }
        if (err == -ENOSPC)
            err = -E2BIG;
        if (err) {
            vfree(buf);
            return err;
        }
        *bufp = buf;
        return 0;
    }
}

long do_execve(uint64_t upath, uint64_t uargv, uint64_t uenvp, unsigned ptr_size)
{
    char *path = kmalloc(4096, GFP_KERNEL);
    char *args = NULL;
    long err = !path ? -ENOMEM : 0;
    struct user_strings argv = { 0 }, envp = { 0 };
    if (!err) {
        long l = strncpy_from_user(path, upath, 4096);
        err = l < 0 ? l : l == 0 ? -ENOENT : 0;
    }
    /* The limit is checked again, exactly, where the stack is built
     * (user_stack_build: strings and pointers together). */
    if (!err)
        err = copy_args(uargv, uenvp, ptr_size, user_stack_arg_limit(exec_stack_limit()), &args,
                        &argv, &envp);
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
