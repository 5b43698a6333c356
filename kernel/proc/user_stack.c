/*
 * The initial user stack (see include/kernel/user_stack.h for the picture).
 *
 * Linux builds it in two steps, and so do we, in one function: execve
 * first copies the strings below the top (the execfn, then envp and argv
 * from their last string to their first, so that in memory they read in
 * order), then create_elf_tables aligns down to 16, puts the platform
 * string and the 16 random bytes, and finally places argc, the two vectors
 * and auxv so that sp (at argc) is 16-byte aligned, as the x86-64 psABI
 * requires at process entry (section 3.4.1) and as Linux also does for
 * 32-bit programs.  The ordering of auxv is Linux's (create_elf_tables):
 * a program that walks it sees the same sequence, minus the entries for
 * things this kernel does not have (see docs/exec.md).
 *
 * Everything is computed first, then checked against the buffer, then
 * written: a call that fails has written nothing.  Sizes are bounded by
 * the argument limit (at most 6 MiB) before any address arithmetic, so no
 * sum overflows.
 *
 * The vDSO's entries come first, as Linux's ARCH_DLINFO puts them:
 * AT_SYSINFO_EHDR for a 64-bit program; AT_SYSINFO (the address of
 * __kernel_vsyscall, which i386 C libraries call for every system call)
 * then AT_SYSINFO_EHDR for a 32-bit one (docs/time.md, "The vDSO").
 *
 * Left out from Linux: the random shift of up to 8 KiB below the strings
 * (arch_align_stack; the caller may lower stack_top instead), and the
 * auxv entries AT_MINSIGSTKSZ, AT_RSEQ_* (no rseq) and
 * AT_EXECFD/AT_BASE_PLATFORM (not used on x86).
 */
#include <kernel/user_stack.h>
#include <kernel/errno.h>
#include <kernel/string.h>

/* One slot: 4 or 8 bytes, little-endian (x86). */
static void put_word(uint8_t *at, int w, uint64_t v)
{
    if (w == 8) {
        memcpy(at, &v, 8);
    } else {
        uint32_t v32 = (uint32_t)v;
        memcpy(at, &v32, 4);
    }
}

uint64_t user_stack_arg_limit(uint64_t rlimit_stack)
{
    uint64_t limit = USER_STACK_STK_LIM / 4 * 3;
    if (rlimit_stack / 4 < limit)
        limit = rlimit_stack / 4;
    return limit > USER_STACK_ARG_MAX ? limit : USER_STACK_ARG_MAX;
}

unsigned user_stack_nauxv(const struct user_stack_info *in)
{
    if (!in->vdso)
        return USER_STACK_NAUXV - 2;
    return USER_STACK_NAUXV - (in->bits == 32 && in->vsyscall ? 0 : 1);
}

/* Check that s holds exactly s->count strings, each short enough. */
static int check_strings(const struct user_strings *s, uint64_t arg_max)
{
    size_t off = 0;

    if (s->len > arg_max)
        return -E2BIG;
    if (s->count > s->len || (s->len && !s->buf))
        return -EINVAL;
    for (uint32_t i = 0; i < s->count; i++) {
        size_t n = strnlen(s->buf + off, s->len - off);
        if (n == s->len - off)
            return -EINVAL;             /* no NUL: count and bytes disagree */
        if (n + 1 > USER_STACK_STRLEN_MAX)
            return -E2BIG;
        off += n + 1;
    }
    return off == s->len ? 0 : -EINVAL;
}

int user_strings_pack(char *out, size_t cap, const char *const *v, uint32_t n,
                      struct user_strings *res)
{
    size_t off = 0;

    for (uint32_t i = 0; i < n; i++) {
        size_t len = strnlen(v[i], cap - off);
        if (len == cap - off)
            return -E2BIG;
        memcpy(out + off, v[i], len + 1);
        off += len + 1;
    }
    *res = (struct user_strings){ out, off, n };
    return 0;
}

int64_t user_stack_build(void *buf, size_t size, uint64_t stack_top,
                         const struct user_stack_info *in,
                         struct user_stack_layout *out)
{
    static const char empty[] = "";
    uint8_t *b = buf;
    int w, r;

    if (in->bits != 64 && in->bits != 32)
        return -EINVAL;
    w = in->bits / 8;
    if (stack_top % 16 || size > stack_top || !in->execfn || !in->random ||
        (in->bits == 32 && stack_top > (1ul << 32)))
        return -EINVAL;
    uint64_t arg_max = in->arg_max ? in->arg_max : USER_STACK_ARG_MAX;
    if (arg_max > USER_STACK_STK_LIM / 4 * 3)
        return -EINVAL;   /* more than user_stack_arg_limit ever gives */
    if ((r = check_strings(&in->argv, arg_max)) < 0 || (r = check_strings(&in->envp, arg_max)) < 0)
        return r;
    size_t execfn_len = strnlen(in->execfn, USER_STACK_STRLEN_MAX) + 1;
    if (execfn_len > USER_STACK_STRLEN_MAX)
        return -E2BIG;

    /* Linux gives a program started with no argv a single "" (5.18). */
    struct user_strings argv = in->argv;
    if (argv.count == 0)
        argv = (struct user_strings){ empty, 1, 1 };
    const struct user_strings *envp = &in->envp;

    /* Linux's bprm_stack_limits and copy_strings: the strings and one
     * kernel pointer per string (argv counted as at least one) within
     * the limit.  Each part <= arg_max, counts <= their bytes: no overflow. */
    uint64_t strings = argv.len + envp->len + execfn_len;
    uint64_t ptrs = ((uint64_t)(in->argv.count ? in->argv.count : 1) + envp->count) * 8;
    if (strings + ptrs > arg_max)
        return -E2BIG;

    /* Step 1, the strings, below 8 bytes left free at the very top. */
    uint64_t base = stack_top - size;
    if (size < 8 || stack_top - 8 - base < strings)
        return -E2BIG;
    uint64_t execfn = stack_top - 8 - execfn_len;
    uint64_t env_start = execfn - envp->len;
    uint64_t arg_start = env_start - argv.len;

    /* Step 2, create_elf_tables. */
    const char *plat = in->bits == 64 ? "x86_64" : "i686";
    uint64_t plat_len = strlen(plat) + 1;
    uint64_t p = ALIGN_DOWN(arg_start, 16);
    unsigned nauxv = user_stack_nauxv(in);
    uint64_t words = 2 * (uint64_t)nauxv + (argv.count + 1) + (envp->count + 1) + 1;
    if (p < base || p - base < plat_len + 16 + words * w)
        return -EFAULT;
    uint64_t platform = p - plat_len;
    uint64_t random = platform - 16;
    uint64_t sp = ALIGN_DOWN(random - words * w, 16);
    if (sp < base)
        return -EFAULT;

    /* Everything fits: write. */
    memset(b + (sp - base), 0, stack_top - sp);
    memcpy(b + (execfn - base), in->execfn, execfn_len - 1);
    memcpy(b + (env_start - base), envp->buf, envp->len);
    memcpy(b + (arg_start - base), argv.buf, argv.len);
    memcpy(b + (platform - base), plat, plat_len);
    memcpy(b + (random - base), in->random, 16);

    uint8_t *slot = b + (sp - base);
#define PUT(v) do { put_word(slot, w, (v)); slot += w; } while (0)
    PUT(argv.count);
    uint64_t s = arg_start;
    for (uint32_t i = 0; i < argv.count; i++) {
        PUT(s);
        s += strlen((const char *)b + (s - base)) + 1;
    }
    PUT(0);
    s = env_start;
    for (uint32_t i = 0; i < envp->count; i++) {
        PUT(s);
        s += strlen((const char *)b + (s - base)) + 1;
    }
    PUT(0);

    uint64_t auxv[USER_STACK_NAUXV][2] = {
        { AT_SYSINFO, in->vsyscall },
        { AT_SYSINFO_EHDR, in->vdso },
        { AT_HWCAP, in->hwcap },
        { AT_PAGESZ, 4096 },
        { AT_CLKTCK, 100 },
        { AT_PHDR, in->phdr },
        { AT_PHENT, in->phent },
        { AT_PHNUM, in->phnum },
        { AT_BASE, 0 },              /* no dynamic linker */
        { AT_FLAGS, 0 },
        { AT_ENTRY, in->entry },
        { AT_UID, 0 },
        { AT_EUID, 0 },
        { AT_GID, 0 },
        { AT_EGID, 0 },
        { AT_SECURE, 0 },
        { AT_RANDOM, random },
        { AT_HWCAP2, in->hwcap2 },
        { AT_EXECFN, execfn },
        { AT_PLATFORM, platform },
        { AT_NULL, 0 },
    };
    /* The vDSO's entries that apply, then the rest. */
    for (unsigned i = USER_STACK_NAUXV - nauxv; i < USER_STACK_NAUXV; i++) {
        PUT(auxv[i][0]);
        PUT(auxv[i][1]);
    }
#undef PUT

    if (out)
        *out = (struct user_stack_layout){
            .sp = sp, .arg_start = arg_start, .arg_end = env_start,
            .env_start = env_start, .env_end = execfn, .execfn = execfn,
            .platform = platform, .random = random,
        };
    return (int64_t)sp;
}

/* ---- reading a stack back -------------------------------------------------- */

bool user_stack_word(const struct user_stack_view *v, uint64_t addr,
                     uint64_t *val)
{
    unsigned w = v->bits / 8;
    uint64_t base = v->top - v->size;

    if (addr < base || addr >= v->top || v->top - addr < w)
        return false;
    if (w == 8) {
        memcpy(val, v->buf + (addr - base), 8);
    } else {
        uint32_t x;
        memcpy(&x, v->buf + (addr - base), 4);
        *val = x;
    }
    return true;
}

const char *user_stack_string(const struct user_stack_view *v, uint64_t addr)
{
    uint64_t base = v->top - v->size;

    if (addr < base || addr >= v->top)
        return NULL;
    const char *s = (const char *)v->buf + (addr - base);
    size_t room = v->top - addr;
    return strnlen(s, room) < room ? s : NULL;
}

/* Walk a NULL-terminated vector of string pointers at *at; count them. */
static int walk_vector(const struct user_stack_view *v, uint64_t *at,
                       uint64_t *count)
{
    uint64_t ptr;

    *count = 0;
    for (;;) {
        if (!user_stack_word(v, *at, &ptr))
            return -EFAULT;
        *at += v->bits / 8;
        if (ptr == 0)
            return 0;
        if (!user_stack_string(v, ptr))
            return -EFAULT;
        (*count)++;
    }
}

int user_stack_parse(const void *buf, size_t size, uint64_t stack_top,
                     uint64_t sp, int bits, struct user_stack_view *v)
{
    uint64_t at, n;
    int r;

    memset(v, 0, sizeof(*v));
    if ((bits != 64 && bits != 32) || size > stack_top)
        return -EINVAL;
    v->buf = buf;
    v->size = size;
    v->top = stack_top;
    v->bits = bits;
    v->sp = sp;
    if (sp % 16 || !user_stack_word(v, sp, &v->argc))
        return -EFAULT;

    at = v->argv_at = sp + bits / 8;
    if ((r = walk_vector(v, &at, &n)) < 0)
        return r;
    if (n != v->argc)
        return -EFAULT;         /* argv[argc] is not the NULL */
    v->envp_at = at;
    if ((r = walk_vector(v, &at, &v->envc)) < 0)
        return r;
    v->auxv_at = at;
    for (;;) {
        uint64_t type, val;
        if (!user_stack_word(v, at, &type) ||
            !user_stack_word(v, at + bits / 8, &val))
            return -EFAULT;
        at += 2 * (bits / 8);
        if (type == AT_NULL)
            return 0;
        if (v->nauxv == USER_STACK_AUXV_MAX)
            return -E2BIG;
        v->auxv[v->nauxv][0] = type;
        v->auxv[v->nauxv][1] = val;
        v->nauxv++;
    }
}
