/*
 * The initial user stack of a new program, laid out byte for byte as
 * Linux's execve does (fs/exec.c and create_elf_tables in
 * fs/binfmt_elf.c): for x86-64 with 8-byte slots, and for 32-bit programs
 * as Linux's IA32 emulation does, with 4-byte slots.  From the top down:
 *
 *   stack_top -  8     8 zero bytes
 *                      execfn string (the path given to execve)
 *                      envp strings, argv strings (argv[0] lowest)
 *                      zero padding to 16 bytes
 *                      platform string "x86_64" / "i686"
 *                      16 AT_RANDOM bytes
 *                      zero padding so that sp is 16-byte aligned
 *                      auxv pairs ... AT_NULL, 0
 *                      NULL, envp[envc - 1] ... envp[0]
 *                      NULL, argv[argc - 1] ... argv[0]
 *   sp ->              argc
 *
 * docs/exec.md draws it with real numbers.  Pure code over a buffer that
 * stands for [stack_top - size, stack_top) of user memory, so the host
 * test compares it with what the host kernel gives a real process.
 */
#ifndef KERNEL_USER_STACK_H
#define KERNEL_USER_STACK_H

#include <kernel/types.h>

/*
 * Limits, as Linux's: one string (NUL included) at most 32 pages
 * (MAX_ARG_STRLEN); argv and envp strings, execfn and one 8-byte pointer
 * slot per argv/envp string (at least one for argv, 8 bytes even for a
 * 32-bit program: the kernel's pointer size) within the argument limit,
 * which follows the stack rlimit (user_stack_arg_limit).
 * USER_STACK_ARG_MAX is the floor of that limit (Linux's ARG_MAX, 32
 * pages), used when no limit is given.
 */
#define USER_STACK_STRLEN_MAX (32 * 4096)
#define USER_STACK_ARG_MAX    (128 * 1024)
/* _STK_LIM, Linux's default stack limit: the argument limit is at most 3/4 of it. */
#define USER_STACK_STK_LIM    (8ul << 20)
/* Auxiliary vector entries the parser keeps (AT_NULL not counted). */
#define USER_STACK_AUXV_MAX   48

/* Auxiliary vector types (Linux's include/uapi/linux/auxvec.h). */
#define AT_NULL     0
#define AT_PHDR     3
#define AT_PHENT    4
#define AT_PHNUM    5
#define AT_PAGESZ   6
#define AT_BASE     7
#define AT_FLAGS    8
#define AT_ENTRY    9
#define AT_UID      11
#define AT_EUID     12
#define AT_GID      13
#define AT_EGID     14
#define AT_PLATFORM 15
#define AT_HWCAP    16
#define AT_CLKTCK   17
#define AT_SECURE   23
#define AT_RANDOM   25
#define AT_HWCAP2   26
#define AT_EXECFN   31
#define AT_SYSINFO  32   /* i386: the vDSO's __kernel_vsyscall */
#define AT_SYSINFO_EHDR 33   /* the vDSO's ELF header */
/* Entries user_stack_build writes, AT_NULL included: 19, and one
 * (64-bit) or two (i386) more with a vDSO. */
#define USER_STACK_NAUXV 21

/*
 * `count` NUL-terminated strings back to back in `len` bytes: argv or
 * envp as execve copied them in from the old program.
 */
struct user_strings {
    const char *buf;
    size_t len;
    uint32_t count;
};

struct user_stack_info {
    int bits;                    /* 64 (x86-64) or 32 (i386) */
    struct user_strings argv;    /* count 0: Linux's single "" is used */
    struct user_strings envp;
    const char *execfn;          /* AT_EXECFN: the path given to execve */
    const uint8_t *random;       /* 16 bytes for AT_RANDOM */
    uint64_t hwcap, hwcap2;      /* AT_HWCAP (CPUID.1:EDX), AT_HWCAP2 */
    uint64_t phdr, phent, phnum, entry;   /* from struct elf_user_plan */
    uint64_t vdso;               /* AT_SYSINFO_EHDR: where the vDSO is mapped, 0 for none */
    uint64_t vsyscall;           /* AT_SYSINFO (32-bit only): __kernel_vsyscall, 0 for none */
    uint64_t arg_max;            /* the argument limit (user_stack_arg_limit); 0: USER_STACK_ARG_MAX */
};

/*
 * Linux's argument limit for a stack rlimit (bprm_stack_limits): a
 * quarter of the limit, at most 3/4 of _STK_LIM (6 MiB), at least ARG_MAX
 * (32 pages): 2 MiB for the usual 8 MiB.
 */
uint64_t user_stack_arg_limit(uint64_t rlimit_stack);
/* The auxiliary vector's length (AT_NULL included) for in: 19 + 1 with a
 * vDSO, + 1 more for a 32-bit program's AT_SYSINFO. */
unsigned user_stack_nauxv(const struct user_stack_info *in);

/* Where things went, in user addresses (Linux keeps these in mm_struct). */
struct user_stack_layout {
    uint64_t sp;                    /* at argc, 16-byte aligned */
    uint64_t arg_start, arg_end;    /* the argv strings: /proc/pid/cmdline */
    uint64_t env_start, env_end;    /* the envp strings: /proc/pid/environ */
    uint64_t execfn, platform, random;
};

/*
 * Build the stack in buf, which stands for the `size` bytes just below
 * stack_top (16-byte aligned; below 4 GiB for 32-bit).  Every byte of
 * [sp, stack_top) is written (gaps with zeros); bytes below sp are left
 * alone.  Returns the user sp (> 0) and fills *out when not NULL; or
 * -E2BIG when a string is longer than USER_STACK_STRLEN_MAX, the
 * arguments exceed the limit (in->arg_max) or the strings do not fit in the
 * buffer; -EFAULT when the strings fit but the tables below them do not
 * (Linux's errors for the two cases); -EINVAL for a bad call (a
 * user_strings whose count and bytes disagree, bits not 32 or 64, a
 * misaligned or too high stack_top, size > stack_top, an arg_max above
 * 6 MiB).
 */
int64_t user_stack_build(void *buf, size_t size, uint64_t stack_top,
                         const struct user_stack_info *in,
                         struct user_stack_layout *out);

/*
 * Pack `n` C strings into out[0..cap) for a struct user_strings.
 * Returns 0, or -E2BIG when they do not fit.
 */
int user_strings_pack(char *out, size_t cap, const char *const *v, uint32_t n,
                      struct user_strings *res);

/* A stack read back: what a program sees at its first instruction. */
struct user_stack_view {
    const uint8_t *buf;          /* the stack as given to user_stack_parse */
    size_t size;
    uint64_t top;
    int bits;
    uint64_t sp, argc, envc;
    uint64_t argv_at, envp_at, auxv_at;   /* user addresses of the arrays */
    uint32_t nauxv;                       /* entries before AT_NULL */
    uint64_t auxv[USER_STACK_AUXV_MAX][2];
};

/*
 * Read a stack back, as a program's startup code would, from sp (at
 * argc): every pointer must be inside [stack_top - size, stack_top) and
 * every string NUL-terminated there, the vectors NULL-terminated, auxv
 * ended by AT_NULL within USER_STACK_AUXV_MAX entries, sp 16-byte
 * aligned.  Returns 0 and fills *v, or -EFAULT (anything outside the
 * buffer, misaligned) or -E2BIG (auxv too long).  For the host tests (and
 * a kernel self-test); it trusts nothing in the buffer.
 */
int user_stack_parse(const void *buf, size_t size, uint64_t stack_top,
                     uint64_t sp, int bits, struct user_stack_view *v);
/* The word (4 or 8 bytes) at user address addr; false when outside. */
bool user_stack_word(const struct user_stack_view *v, uint64_t addr,
                     uint64_t *val);
/* The NUL-terminated string at user address addr, or NULL when outside. */
const char *user_stack_string(const struct user_stack_view *v, uint64_t addr);

#endif
