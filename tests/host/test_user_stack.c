/*
 * Host tests of the initial user stack (kernel/proc/user_stack.c).
 *
 * The reference is the host kernel itself: tests/host/stackdump.c, built
 * four ways by the Makefile, is run natively with address randomisation
 * off and reports the bytes of its initial stack.  user_stack_build, given
 * the same argv, envp, path, stack top, random bytes and hardware
 * capabilities, must produce the same bytes from the AT_RANDOM bytes up
 * to the top, the same argv and envp pointers, and the same auxv types in
 * the same order and with the same values, minus the entries this kernel
 * deliberately leaves out (see kernel/proc/user_stack.c).  The rest checks the
 * layout rules, the limits and the parser against hostile stacks.
 */
#include <stdlib.h>

#include "htest.h"
#include "exec_native.h"
#include <elf.h>
#include <kernel/elf_user.h>
#include <kernel/errno.h>
#include <kernel/user_stack.h>

/* Types Linux 6.x adds that this kernel leaves out on purpose. */
static bool omitted_type(uint64_t t)
{
    switch (t) {
    case 2:     /* AT_EXECFD: binfmt_misc only */
    case 24:    /* AT_BASE_PLATFORM: not on x86 */
    case 27:    /* AT_RSEQ_FEATURE_SIZE: no rseq */
    case 28:    /* AT_RSEQ_ALIGN */
    case 29:    /* AT_HWCAP3 */
    case 30:    /* AT_HWCAP4 */
    case 32:    /* AT_SYSINFO, AT_SYSINFO_EHDR: the builder gets no vDSO */
    case 33:    /* address here (t_vdso_auxv checks them) */
    case 51:    /* AT_MINSIGSTKSZ: no signal frames yet */
        return true;
    }
    return false;
}

static const uint64_t our_types[USER_STACK_NAUXV - 1] = {
    AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE, AT_FLAGS,
    AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE, AT_RANDOM, AT_HWCAP2,
    AT_EXECFN, AT_PLATFORM,
};

static uint64_t auxval(const struct user_stack_view *v, uint64_t type)
{
    for (unsigned i = 0; i < v->nauxv; i++)
        if (v->auxv[i][0] == type)
            return v->auxv[i][1];
    return ~0ul;
}

/* ---- a builder call with defaults ---------------------------------------------------- */

#define BIG (512 * 1024)
static uint8_t stack[BIG];
static char argbuf[USER_STACK_ARG_MAX * 2], envbuf[USER_STACK_ARG_MAX * 2];
static const uint8_t rnd[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static struct user_stack_info info(int bits, const char *const *argv, uint32_t argc,
                                   const char *const *envp, uint32_t envc)
{
    struct user_stack_info in = {
        .bits = bits, .execfn = "/bin/prog", .random = rnd,
        .hwcap = 0x178bfbff, .hwcap2 = 2, .phdr = 0x400040,
        .phent = bits == 64 ? 56 : 32, .phnum = 9, .entry = 0x401000,
    };
    if (user_strings_pack(argbuf, sizeof(argbuf), argv, argc, &in.argv) ||
        user_strings_pack(envbuf, sizeof(envbuf), envp, envc, &in.envp))
        abort();
    return in;
}

static uint64_t top_for(int bits)
{
    return bits == 64 ? 0x7ffffffff000ul : 0xffffe000ul;
}

/* Build into the whole of `stack` and parse back. */
static int64_t build(const struct user_stack_info *in, uint64_t top,
                     struct user_stack_layout *lay, struct user_stack_view *v)
{
    memset(stack, 0xa5, sizeof(stack));
    int64_t sp = user_stack_build(stack, sizeof(stack), top, in, lay);
    if (sp > 0 && v)
        if (user_stack_parse(stack, sizeof(stack), top, (uint64_t)sp, in->bits, v) != 0)
            return -1000;
    return sp;
}

/* Everything a program could check about its stack, for the given inputs. */
static void check_layout(const struct user_stack_info *in, const char *const *argv,
                         uint32_t argc, const char *const *envp, uint32_t envc)
{
    struct user_stack_layout lay;
    struct user_stack_view v;
    uint64_t top = top_for(in->bits);
    unsigned w = (unsigned)in->bits / 8;
    int64_t sp = build(in, top, &lay, &v);
    HT_ASSERT(sp > 0, "%d-bit: build/parse failed: %ld", in->bits, sp);
    HT_EQ_U(sp % 16, 0);
    HT_EQ_U(lay.sp, (uint64_t)sp);
#define AT(addr) (stack + sizeof(stack) - (top - (addr)))
    /* The vectors. */
    uint32_t want_argc = argc ? argc : 1;
    HT_EQ_U(v.argc, want_argc);
    HT_EQ_U(v.envc, envc);
    for (uint32_t i = 0; i < want_argc; i++) {
        uint64_t p;
        HT_ASSERT(user_stack_word(&v, v.argv_at + i * w, &p), "argv[%u]", i);
        HT_EQ_STR(user_stack_string(&v, p), argc ? argv[i] : "");
    }
    for (uint32_t i = 0; i < envc; i++) {
        uint64_t p;
        HT_ASSERT(user_stack_word(&v, v.envp_at + i * w, &p), "envp[%u]", i);
        HT_EQ_STR(user_stack_string(&v, p), envp[i]);
    }
    /* auxv: Linux's order, our values. */
    HT_EQ_U(v.nauxv, user_stack_nauxv(in) - 1);
    for (unsigned i = 0; i < v.nauxv; i++)
        HT_ASSERT(v.auxv[i][0] == our_types[i], "auxv[%u] is type %lu, expected %lu",
                  i, v.auxv[i][0], our_types[i]);
    uint64_t mask = w == 8 ? ~0ul : 0xfffffffful;
    HT_EQ_U(auxval(&v, AT_HWCAP), in->hwcap & mask);
    HT_EQ_U(auxval(&v, AT_HWCAP2), in->hwcap2 & mask);
    HT_EQ_U(auxval(&v, AT_PAGESZ), 4096);
    HT_EQ_U(auxval(&v, AT_CLKTCK), 100);
    HT_EQ_U(auxval(&v, AT_PHDR), in->phdr);
    HT_EQ_U(auxval(&v, AT_PHENT), in->phent);
    HT_EQ_U(auxval(&v, AT_PHNUM), in->phnum);
    HT_EQ_U(auxval(&v, AT_ENTRY), in->entry);
    HT_EQ_U(auxval(&v, AT_BASE) | auxval(&v, AT_FLAGS) | auxval(&v, AT_UID) |
            auxval(&v, AT_EUID) | auxval(&v, AT_GID) | auxval(&v, AT_EGID) |
            auxval(&v, AT_SECURE), 0);
    HT_EQ_STR(user_stack_string(&v, auxval(&v, AT_EXECFN)), in->execfn);
    HT_EQ_STR(user_stack_string(&v, auxval(&v, AT_PLATFORM)),
              in->bits == 64 ? "x86_64" : "i686");
    HT_ASSERT(memcmp(AT(auxval(&v, AT_RANDOM)), in->random, 16) == 0, "AT_RANDOM bytes");
    /* Positions, from the top down, as Linux lays them out. */
    uint64_t execfn_len = strlen(in->execfn) + 1;
    HT_EQ_U(lay.execfn, top - 8 - execfn_len);
    HT_EQ_U(auxval(&v, AT_EXECFN), lay.execfn);
    HT_ASSERT(memcmp(AT(top - 8), "\0\0\0\0\0\0\0\0", 8) == 0, "top 8 bytes");
    HT_EQ_U(lay.env_end, lay.execfn);
    HT_EQ_U(lay.env_start, lay.env_end - in->envp.len);
    HT_EQ_U(lay.arg_end, lay.env_start);
    HT_EQ_U(lay.arg_start, lay.arg_end - (argc ? in->argv.len : 1));
    uint64_t first;
    HT_ASSERT(user_stack_word(&v, v.argv_at, &first), "argv[0]");
    HT_EQ_U(first, lay.arg_start);
    HT_EQ_U(lay.platform, (lay.arg_start & ~15ul) - (in->bits == 64 ? 7 : 5));
    HT_EQ_U(auxval(&v, AT_PLATFORM), lay.platform);
    HT_EQ_U(lay.random, lay.platform - 16);
    HT_EQ_U(auxval(&v, AT_RANDOM), lay.random);
    uint64_t words = 2 * (uint64_t)user_stack_nauxv(in) + (want_argc + 1) + (envc + 1) + 1;
    HT_EQ_U(lay.sp, (lay.random - words * w) & ~15ul);
    /* The tables end where auxv's AT_NULL ends, below the random bytes. */
    HT_EQ_U(v.auxv_at + 2 * (uint64_t)user_stack_nauxv(in) * w, lay.sp + words * w);
    /* Gaps are zero: between the tables and the random bytes ... */
    for (uint64_t a = lay.sp + words * w; a < lay.random; a++)
        HT_ASSERT(*AT(a) == 0, "byte at %#lx in the gap is not zero",
                  a);
    /* ... and between the platform string and the arguments. */
    for (uint64_t a = lay.platform + (in->bits == 64 ? 7 : 5); a < lay.arg_start; a++)
        HT_ASSERT(*AT(a) == 0, "byte at %#lx below argv is not zero",
                  a);
    /* Nothing below sp was touched. */
    HT_ASSERT(*AT(lay.sp - 1) == 0xa5 && *AT(top - sizeof(stack)) == 0xa5,
              "bytes below sp written");
#undef AT
}

/* ---- layouts ------------------------------------------------------------------ */

static void t_layout(void)
{
    static const char *const argv[] = { "/bin/prog", "-v", "hello world", "" };
    static const char *const envp[] = { "HOME=/", "TERM=linux", "A=" };
    for (int bits = 64; bits >= 32; bits -= 32) {
        struct user_stack_info in = info(bits, argv, 4, envp, 3);
        HT_TRY(check_layout(&in, argv, 4, envp, 3));
    }
}

static void t_no_argv_no_envp(void)
{
    for (int bits = 64; bits >= 32; bits -= 32) {
        struct user_stack_info in = info(bits, NULL, 0, NULL, 0);
        HT_TRY(check_layout(&in, NULL, 0, NULL, 0));
    }
}

/* Every combination of small counts and string lengths: alignment holds. */
static void t_alignment_sweep(void)
{
    static char s[8][40];
    const char *argv[8], *envp[8];
    for (int bits = 64; bits >= 32; bits -= 32) {
        for (uint32_t argc = 0; argc <= 4; argc++) {
            for (uint32_t envc = 0; envc <= 3; envc++) {
                for (int len = 0; len < 20; len += 1 + (int)argc) {
                    for (uint32_t i = 0; i < 8; i++) {
                        memset(s[i], 'a' + (int)i, sizeof(s[i]));
                        s[i][(len + (int)i * 3) % 39] = 0;
                        (i < 4 ? argv : envp)[i % 4] = s[i];
                    }
                    struct user_stack_info in = info(bits, argv, argc, envp, envc);
                    HT_TRY(check_layout(&in, argv, argc, envp, envc));
                }
            }
        }
    }
}

/* A 32-bit stack just below the mirror; values are 32-bit slots. */
static void t_compat_top(void)
{
    static const char *const argv[] = { "a" };
    struct user_stack_info in = info(32, argv, 1, NULL, 0);
    in.hwcap = 0x1234567887654321ul;
    struct user_stack_view v;
    int64_t sp = build(&in, ELF_USER_END32, NULL, &v);
    HT_ASSERT(sp > 0 && (uint64_t)sp < ELF_USER_END32, "sp %ld", sp);
    HT_EQ_U(auxval(&v, AT_HWCAP), 0x87654321u);
    /* 4-byte slots: argv[0] is 4 bytes above argc. */
    HT_EQ_U(v.argv_at, (uint64_t)sp + 4);
    /* The top of the 32-bit space is allowed, one byte more is not. */
    HT_ASSERT(build(&in, 1ul << 32, NULL, &v) > 0, "top at 4 GiB refused");
    HT_EQ_U(build(&in, (1ul << 32) + 16, NULL, NULL), -EINVAL);
}

/* ---- limits and bad calls --------------------------------------------------------- */

static void t_limits(void)
{
    static char big[USER_STACK_ARG_MAX + 16];
    for (int bits = 64; bits >= 32; bits -= 32) {
        int w = bits / 8;
        const char *argv[] = { big };
        /* execfn "/bin/prog" (10 bytes) + one pointer (8 bytes, the kernel's
         * size, for 32-bit programs too) + the string: exactly the limit. */
        size_t len = USER_STACK_ARG_MAX - 10 - 8 - 1;
        (void)w;
        memset(big, 'x', len);
        big[len] = 0;
        struct user_stack_info in = info(bits, argv, 1, NULL, 0);
        struct user_stack_view v;
        int64_t sp = build(&in, top_for(bits), NULL, &v);
        HT_ASSERT(sp > 0, "%d-bit: exactly at the limit: %ld", bits, sp);
        uint64_t p0 = 0;
        HT_ASSERT(user_stack_word(&v, v.argv_at, &p0) && user_stack_string(&v, p0) &&
                  strlen(user_stack_string(&v, p0)) == len, "argv[0] read back wrong");
        big[len] = 'x';
        big[len + 1] = 0;
        in = info(bits, argv, 1, NULL, 0);
        HT_EQ_U(build(&in, top_for(bits), NULL, NULL), -E2BIG);
        /* The pointers count: the same bytes split in two strings are too many. */
        big[len] = 0;
        big[len / 2] = 0;
        const char *two[] = { big, big + len / 2 + 1 };
        in = info(bits, two, 2, NULL, 0);
        HT_EQ_U(build(&in, top_for(bits), NULL, NULL), -E2BIG);
        /* envp counts as much as argv. */
        big[len / 2] = 'x';
        in = info(bits, NULL, 0, argv, 1);
        HT_EQ_U(build(&in, top_for(bits), NULL, NULL), -E2BIG);
        /* An execfn of 32 pages alone. */
        memset(big, 'p', USER_STACK_STRLEN_MAX);
        big[USER_STACK_STRLEN_MAX] = 0;
        in = info(bits, NULL, 0, NULL, 0);
        in.execfn = big;
        HT_EQ_U(build(&in, top_for(bits), NULL, NULL), -E2BIG);
    }
}

/* Linux's argument limit, and a larger one given to the builder. */
static void t_arg_limit(void)
{
    HT_EQ_U(user_stack_arg_limit(8ul << 20), 2ul << 20);      /* a quarter */
    HT_EQ_U(user_stack_arg_limit(64 * 1024), 128 * 1024);     /* at least 32 pages */
    HT_EQ_U(user_stack_arg_limit(1ul << 30), 6ul << 20);      /* at most 3/4 of 8 MiB */
    HT_EQ_U(user_stack_arg_limit(~0ul), 6ul << 20);           /* RLIM_INFINITY */
    static char big[3 * 128 * 1024];
    static uint8_t room[1 << 20];
    const char *argv[3];
    for (int i = 0; i < 3; i++) {
        memset(big + i * 128 * 1024, 'a' + i, 128 * 1024 - 1);
        big[(i + 1) * 128 * 1024 - 1] = 0;
        argv[i] = big + i * 128 * 1024;
    }
    struct user_stack_info in = info(64, NULL, 0, NULL, 0);
    struct user_strings strs = { big, sizeof big, 3 };
    in.argv = strs;
    HT_EQ_U(user_stack_build(room, sizeof room, top_for(64), &in, NULL), -E2BIG);
    in.arg_max = user_stack_arg_limit(8ul << 20);
    int64_t sp = user_stack_build(room, sizeof room, top_for(64), &in, NULL);
    HT_ASSERT(sp > 0, "384 KiB of arguments under a 2 MiB limit: %ld", sp);
    in.arg_max = 7ul << 20;   /* above 6 MiB: a bad call */
    HT_EQ_U(user_stack_build(room, sizeof room, top_for(64), &in, NULL), -EINVAL);
    (void)argv;
}

/* The vDSO's entries: AT_SYSINFO_EHDR first (64-bit), AT_SYSINFO then
 * AT_SYSINFO_EHDR (i386), as Linux's ARCH_DLINFO. */
static void t_vdso_auxv(void)
{
    for (int bits = 64; bits >= 32; bits -= 32) {
        struct user_stack_info in = info(bits, NULL, 0, NULL, 0);
        in.vdso = bits == 64 ? 0x7ffff7ffd000ul : 0xf7ffd000ul;
        in.vsyscall = bits == 64 ? 0 : 0xf7ffd420ul;
        struct user_stack_view v;
        int64_t sp = build(&in, top_for(bits), NULL, &v);
        HT_ASSERT(sp > 0, "%d-bit: %ld", bits, sp);
        unsigned extra = bits == 64 ? 1 : 2;
        HT_EQ_U(v.nauxv, USER_STACK_NAUXV - 3 + extra);
        HT_EQ_U(user_stack_nauxv(&in), USER_STACK_NAUXV - 2 + extra);
        if (bits == 32) {
            HT_EQ_U(v.auxv[0][0], AT_SYSINFO);
            HT_EQ_U(v.auxv[0][1], in.vsyscall);
        }
        HT_EQ_U(v.auxv[extra - 1][0], AT_SYSINFO_EHDR);
        HT_EQ_U(v.auxv[extra - 1][1], in.vdso);
        for (unsigned i = extra; i < v.nauxv; i++)
            HT_ASSERT(v.auxv[i][0] == our_types[i - extra], "auxv[%u] is type %lu", i,
                      v.auxv[i][0]);
    }
}

/* Many small strings: the count is bounded by the bytes, not by a table. */
static void t_many_strings(void)
{
    static const char *argv[20000];
    for (int i = 0; i < 20000; i++)
        argv[i] = i % 2 ? "" : "ab";
    struct user_stack_info in = info(64, argv, 12000, argv, 1);
    struct user_stack_view v;
    int64_t sp = build(&in, top_for(64), NULL, &v);
    HT_ASSERT(sp > 0, "12000 arguments: %ld", sp);
    HT_EQ_U(v.argc, 12000);
    in = info(64, argv, 20000, NULL, 0);
    HT_EQ_U(build(&in, top_for(64), NULL, NULL), -E2BIG);
}

/*
 * Every buffer size from nothing to enough: below the strings' size
 * -E2BIG, below the tables' -EFAULT, then success with the same sp; a
 * failed call writes nothing.
 */
static void t_buffer_sizes(void)
{
    static const char *const argv[] = { "prog", "arg" };
    static const char *const envp[] = { "X=1" };
    static uint8_t small[1024];
    for (int bits = 64; bits >= 32; bits -= 32) {
        struct user_stack_info in = info(bits, argv, 2, envp, 1);
        struct user_stack_layout lay;
        uint64_t top = top_for(bits);
        int64_t want = build(&in, top, &lay, NULL);
        HT_ASSERT(want > 0, "reference build failed");
        uint64_t need = top - (uint64_t)want;
        uint64_t strings = 8 + 10 + 4 + 9;   /* gap, execfn, envp, argv */
        HT_ASSERT(need < sizeof(small), "need %lu", need);
        for (uint64_t size = 0; size <= need + 40; size++) {
            memset(small, 0x5a, sizeof(small));
            int64_t r = user_stack_build(small + sizeof(small) - size, size, top, &in, NULL);
            int64_t expect = size >= need ? want : size < strings ? -E2BIG : -EFAULT;
            HT_ASSERT(r == expect, "%d-bit size %lu: %ld, expected %ld", bits,
                      size, r, expect);
            bool clean = true;
            for (size_t i = 0; i < sizeof(small) - (r > 0 ? top - (uint64_t)r : 0); i++)
                clean = clean && small[i] == 0x5a;
            HT_ASSERT(clean, "%d-bit size %lu: bytes outside [sp, top) written", bits,
                      size);
        }
    }
}

static void t_bad_calls(void)
{
    static const char *const argv[] = { "prog" };
    struct user_stack_info in = info(64, argv, 1, NULL, 0);
    uint64_t top = top_for(64);
    in.bits = 16;
    HT_EQ_U(build(&in, top, NULL, NULL), -EINVAL);
    in.bits = 64;
    HT_EQ_U(build(&in, top + 8, NULL, NULL), -EINVAL);
    HT_EQ_U(user_stack_build(stack, 0x10000, 0x8000, &in, NULL), -EINVAL);
    in.random = NULL;
    HT_EQ_U(build(&in, top, NULL, NULL), -EINVAL);
    in = info(64, argv, 1, NULL, 0);
    in.execfn = NULL;
    HT_EQ_U(build(&in, top, NULL, NULL), -EINVAL);
    /* user_strings whose count and bytes disagree. */
    in = info(64, argv, 1, NULL, 0);
    in.argv.count = 2;
    HT_EQ_U(build(&in, top, NULL, NULL), -EINVAL);
    in.argv = (struct user_strings){ "a\0b\0", 4, 1 };
    HT_EQ_U(build(&in, top, NULL, NULL), -EINVAL);
    in.argv = (struct user_strings){ "abc", 3, 1 };   /* no NUL */
    HT_EQ_U(build(&in, top, NULL, NULL), -EINVAL);
    in.argv = (struct user_strings){ NULL, 4, 0 };
    HT_EQ_U(build(&in, top, NULL, NULL), -EINVAL);
    in.argv = (struct user_strings){ "a", 2, 5 };
    HT_EQ_U(build(&in, top, NULL, NULL), -EINVAL);
    in.argv = (struct user_strings){ "a", 2, 1 };
    in.envp = (struct user_strings){ "x\0", 2, 2 };
    HT_EQ_U(build(&in, top, NULL, NULL), -EINVAL);
    /* user_strings_pack into a buffer too small. */
    char tiny[5];
    struct user_strings us;
    static const char *const two[] = { "ab", "c" };
    HT_EQ_U(user_strings_pack(tiny, sizeof(tiny), two, 2, &us), 0);
    HT_EQ_U(us.len, 5);
    HT_EQ_U(us.count, 2);
    HT_EQ_U(user_strings_pack(tiny, 4, two, 2, &us), -E2BIG);
    HT_EQ_U(user_strings_pack(tiny, 0, two, 1, &us), -E2BIG);
}

/* ---- the parser on hostile stacks ------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void t_parse_refusals(void)
{
    static const char *const argv[] = { "prog" };
    struct user_stack_info in = info(64, argv, 1, NULL, 0);
    uint64_t top = top_for(64);
    struct user_stack_view v;
    int64_t sp = build(&in, top, NULL, &v);
    HT_ASSERT(sp > 0, "build");
    HT_EQ_U(user_stack_parse(stack, sizeof(stack), top, (uint64_t)sp + 8, 64, &v), -EFAULT);
    HT_EQ_U(user_stack_parse(stack, sizeof(stack), top, top, 64, &v), -EFAULT);
    HT_EQ_U(user_stack_parse(stack, sizeof(stack), top, top - sizeof(stack) - 16, 64, &v),
            -EFAULT);
    HT_EQ_U(user_stack_parse(stack, top - (uint64_t)sp - 16, top, (uint64_t)sp, 64, &v),
            -EFAULT);
    HT_EQ_U(user_stack_parse(stack, sizeof(stack), top, (uint64_t)sp, 48, &v), -EINVAL);
    HT_EQ_U(user_stack_parse(stack, 100, 50, 32, 64, &v), -EINVAL);
    /* argc one too many, one too few. */
    uint8_t *at = stack + sizeof(stack) - (top - (uint64_t)sp);
    at[0] = 2;
    HT_EQ_U(user_stack_parse(stack, sizeof(stack), top, (uint64_t)sp, 64, &v), -EFAULT);
    at[0] = 0;
    HT_EQ_U(user_stack_parse(stack, sizeof(stack), top, (uint64_t)sp, 64, &v), -EFAULT);
    /* No AT_NULL within USER_STACK_AUXV_MAX entries (room made above auxv). */
    static char longarg[2000];
    memset(longarg, 'l', sizeof(longarg) - 1);
    const char *longv[] = { longarg };
    struct user_stack_info in2 = info(64, longv, 1, NULL, 0);
    sp = build(&in2, top, NULL, &v);
    HT_ASSERT(sp > 0 && v.auxv_at + 16 * (USER_STACK_AUXV_MAX + 1) < top, "no room");
    uint8_t *aux = stack + sizeof(stack) - (top - v.auxv_at);
    for (int i = 0; i < USER_STACK_AUXV_MAX + 1; i++) {
        uint64_t pair[2] = { 100 + (uint64_t)i, 0 };
        memcpy(aux + 16 * i, pair, 16);
    }
    HT_EQ_U(user_stack_parse(stack, sizeof(stack), top, (uint64_t)sp, 64, &v), -E2BIG);
    /* A string pointer outside the buffer, and a string running off the top. */
    in = info(64, argv, 1, NULL, 0);    /* info() reuses one buffer */
    sp = build(&in, top, NULL, &v);
    HT_ASSERT(sp > 0, "build");
    uint64_t bad = top + 100;
    memcpy(stack + sizeof(stack) - (top - v.argv_at), &bad, 8);
    HT_EQ_U(user_stack_parse(stack, sizeof(stack), top, (uint64_t)sp, 64, &v), -EFAULT);
    sp = build(&in, top, NULL, &v);
    HT_ASSERT(sp > 0, "build");
    memset(stack + sizeof(stack) - 8, 'z', 8);
    bad = top - 4;
    memcpy(stack + sizeof(stack) - (top - v.argv_at), &bad, 8);
    HT_EQ_U(user_stack_parse(stack, sizeof(stack), top, (uint64_t)sp, 64, &v), -EFAULT);
}

/* Random damage to a built stack: the parser answers, never reads outside. */
static void t_parse_mutations(void)
{
    static const char *const argv[] = { "prog", "x" };
    static const char *const envp[] = { "A=1", "B=2" };
    rng_state = 0x737461636b2d7061ul;
    int ok = 0, bad = 0;
    for (int it = 0; it < 4000; it++) {
        int bits = it % 2 ? 32 : 64;
        struct user_stack_info in = info(bits, argv, 2, envp, 2);
        uint64_t top = top_for(bits);
        int64_t sp = user_stack_build(stack, sizeof(stack), top, &in, NULL);
        HT_ASSERT(sp > 0, "build");
        size_t n = top - (uint64_t)sp;
        uint8_t *copy = malloc(n);
        memcpy(copy, stack + sizeof(stack) - n, n);
        for (int c = 1 + (int)(rng() % 4); c > 0; c--) {
            uint64_t r = rng();
            copy[r % (n < 200 ? n : 200)] = (uint8_t)(r >> 32) & ((r >> 40) % 2 ? 0xff : 0x0f);
        }
        struct user_stack_view v;
        int r = user_stack_parse(copy, n, top, (uint64_t)sp, bits, &v);
        if (r == 0) {
            ok++;
            unsigned w = (unsigned)bits / 8;
            for (uint64_t i = 0; i < v.argc + v.envc; i++) {
                uint64_t p, at = i < v.argc ? v.argv_at + i * w
                                            : v.envp_at + (i - v.argc) * w;
                if (!user_stack_word(&v, at, &p) || !user_stack_string(&v, p)) {
                    free(copy);
                    HT_FAIL("iter %d: parsed, but pointer %lu is not a string", it,
                            i);
                }
            }
        } else {
            bad++;
            if (r != -EFAULT && r != -E2BIG) {
                free(copy);
                HT_FAIL("iter %d: parse returned %d", it, r);
            }
        }
        free(copy);
    }
    HT_ASSERT(ok > 200 && bad > 200, "%d parsed, %d refused", ok, bad);
}

/* ---- against the host kernel ------------------------------------------------------------ */

struct sample {
    const char *name;
    int bits;
    bool pie;
};

static const struct sample samples[] = {
    { "stackdump64", 64, false }, { "stackdump64pie", 64, true },
    { "stackdump32", 32, false }, { "stackdump32pie", 32, true },
};

/*
 * Run the sample natively with (argv, envp), build the same stack
 * ourselves, compare.  argv may be empty: Linux then gives "" as argv[0].
 */
static void compare_native(const struct sample *s, const char *const *argv, uint32_t argc,
                           const char *const *envp, uint32_t envc)
{
    char path[512], err[256];
    static char *av[16], *ev[16];
    snprintf(path, sizeof(path), "%s/%s", EXEC_DIR, s->name);
    for (uint32_t i = 0; i < argc; i++)
        av[i] = (char *)argv[i];
    av[argc] = NULL;
    for (uint32_t i = 0; i < envc; i++)
        ev[i] = (char *)envp[i];
    ev[envc] = NULL;

    struct native_run run;
    if (native_run(path, av, ev, &run, err, sizeof(err)) != 0)
        HT_FAIL("%s", err);
    struct user_stack_view nv, ov;
    int pr = user_stack_parse(run.mem, run.size, run.top, run.sp, s->bits, &nv);
    if (pr != 0) {
        free(run.mem);
        HT_FAIL("%s: the host's own stack does not parse: %d", s->name, pr);
    }

    /* The plan of the same file, at the host's load address. */
    size_t flen;
    uint8_t *file = native_read_file(path, &flen);
    struct elf_user_plan plan;
    const char *why;
    uint64_t e_entry = 0;
    if (file)
        memcpy(&e_entry, file + 24, s->bits == 64 ? 8 : 4);
    uint64_t bias = s->pie ? auxval(&nv, AT_ENTRY) - e_entry : 0;
    int er = file ? elf_user_check(file, flen, bias, &plan, &why) : -1;
    free(file);
    if (er != 0) {
        free(run.mem);
        HT_FAIL("%s: elf_user_check: %d", s->name, er);
    }

    /* Our stack, same inputs, same top. */
    struct user_stack_info in = info(s->bits, argv, argc, envp, envc);
    in.execfn = path;
    uint64_t rnd_at = auxval(&nv, AT_RANDOM);
    const uint8_t *native_rnd = run.mem + (rnd_at - run.sp);
    in.random = native_rnd;
    in.hwcap = auxval(&nv, AT_HWCAP);
    in.hwcap2 = auxval(&nv, AT_HWCAP2);
    in.phdr = plan.phdr;
    in.phent = plan.phent;
    in.phnum = plan.phnum;
    in.entry = plan.entry;
    struct user_stack_layout lay;
    int64_t sp = build(&in, run.top, &lay, &ov);

    char fail[300] = "";
    unsigned w = (unsigned)s->bits / 8;
#define MISMATCH(...) do { if (!fail[0]) snprintf(fail, sizeof(fail), __VA_ARGS__); } while (0)
    if (sp <= 0)
        MISMATCH("our build failed: %ld", sp);
    /* 1. Byte for byte from AT_RANDOM to the top. */
    else if (lay.random != rnd_at)
        MISMATCH("AT_RANDOM at %#lx, host %#lx", lay.random,
                 rnd_at);
    else if (memcmp(stack + sizeof(stack) - (run.top - rnd_at), native_rnd,
                    run.top - rnd_at) != 0)
        MISMATCH("bytes between AT_RANDOM and the top differ");
    /* 2. The same argc, argv and envp pointers. */
    else if (ov.argc != nv.argc || ov.envc != nv.envc)
        MISMATCH("argc/envc %lu/%lu, host %lu/%lu", ov.argc,
                 ov.envc, nv.argc,
                 nv.envc);
    else {
        for (uint64_t i = 0; i < nv.argc + 1 + nv.envc + 1 && !fail[0]; i++) {
            uint64_t a, b;
            user_stack_word(&ov, ov.argv_at + i * w, &a);
            user_stack_word(&nv, nv.argv_at + i * w, &b);
            if (a != b)
                MISMATCH("vector slot %lu: %#lx, host %#lx", i,
                         a, b);
        }
        /* 3. auxv: the host's minus the omitted types, in order, same values. */
        unsigned k = 0;
        for (unsigned i = 0; i < nv.nauxv && !fail[0]; i++) {
            uint64_t t = nv.auxv[i][0], val = nv.auxv[i][1];
            if (omitted_type(t))
                continue;
            if (k >= ov.nauxv || ov.auxv[k][0] != t) {
                MISMATCH("host auxv[%u] is type %lu, ours has %lu there", i,
                         t,
                         k < ov.nauxv ? ov.auxv[k][0] : 0ul);
                break;
            }
            bool ids = t == AT_UID || t == AT_EUID || t == AT_GID || t == AT_EGID;
            if (ov.auxv[k][1] != val && !(ids && getuid() != 0))
                MISMATCH("auxv type %lu: %#lx, host %#lx", t,
                         ov.auxv[k][1], val);
            k++;
        }
        if (!fail[0] && k != ov.nauxv)
            MISMATCH("we have %u auxv entries, the host %u (without omitted ones)",
                     ov.nauxv, k);
        /* 4. sp: Linux's formula, for the host's table and for ours. */
        uint64_t nw = 2 * ((uint64_t)nv.nauxv + 1) + nv.argc + 1 + nv.envc + 1 + 1;
        if (!fail[0] && run.sp != ((rnd_at - nw * w) & ~15ul))
            MISMATCH("the host's sp %#lx is not where Linux's formula puts it",
                     run.sp);
        if (!fail[0] && (run.sp % 16 || (uint64_t)sp % 16))
            MISMATCH("sp not 16-byte aligned");
    }
#undef MISMATCH
    free(run.mem);
    HT_ASSERT(!fail[0], "%s argc %u envc %u: %s", s->name, argc, envc, fail);
}

static void native_cases(const struct sample *s)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", EXEC_DIR, s->name);
    static char long_env[3000];
    memset(long_env, 'v', sizeof(long_env) - 1);
    memcpy(long_env, "LONG=", 5);
    const char *argv1[] = { path };
    const char *argv3[] = { "argv0-is-not-the-path", "a b", "", "ccc" };
    const char *envp2[] = { "A=1", "BB=22" };
    const char *envp3[] = { "PATH=/bin", long_env, "" };
    HT_TRY(compare_native(s, argv1, 1, NULL, 0));
    HT_TRY(compare_native(s, argv1, 1, envp2, 2));
    HT_TRY(compare_native(s, argv3, 4, envp3, 3));
    /* Linux (5.18 and later) gives argv = { "" } to a program started with none. */
    HT_TRY(compare_native(s, NULL, 0, envp2, 2));
    /* Alignment of the strings' end: every residue modulo 16. */
    for (int extra = 0; extra < 16; extra++) {
        char arg[32];
        memset(arg, 'q', sizeof(arg));
        arg[extra] = 0;
        const char *argv2[] = { path, arg };
        HT_TRY(compare_native(s, argv2, 2, envp2, extra % 3));
    }
}

static void t_native_static64(void) { native_cases(&samples[0]); }
static void t_native_pie64(void) { native_cases(&samples[1]); }
static void t_native_static32(void) { native_cases(&samples[2]); }
static void t_native_pie32(void) { native_cases(&samples[3]); }

static const struct htest cases[] = {
    HT_CASE(layout),
    HT_CASE(no_argv_no_envp),
    HT_CASE(alignment_sweep),
    HT_CASE(compat_top),
    HT_CASE(limits),
    HT_CASE(many_strings),
    HT_CASE(arg_limit),
    HT_CASE(vdso_auxv),
    HT_CASE(buffer_sizes),
    HT_CASE(bad_calls),
    HT_CASE(parse_refusals),
    HT_CASE(parse_mutations),
    HT_CASE(native_static64),
    HT_CASE(native_pie64),
    HT_CASE(native_static32),
    HT_CASE(native_pie32),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
