/*
 * Thread-local storage of 32-bit programs: set_thread_area and the
 * segment registers.
 *
 * An i386 program finds its thread pointer through GS: musl's start-up
 * asks the kernel for a GDT descriptor whose base is the thread block
 * (set_thread_area with entry_number -1: "pick one and tell me which"),
 * then loads GS with that entry's selector; every %gs: access afterwards
 * adds the base.  Compatibility mode keeps this part of segmentation.
 *
 * Invariants:
 *  - t->tls[i] is 0 or a present, DPL 3, 32-bit data segment descriptor
 *    (the only kind set_thread_area accepts, as Linux's tls_desc_okay);
 *  - while t runs, GDT slots GDT_TLS_FIRST..+2 hold t->tls, and the CPU's
 *    DS/ES/FS/GS are t's; while it is switched out, t->useg holds them;
 *  - a selector reloaded by the kernel can never fault: one that does not
 *    name a user segment that is present (tls_switch_in checks) is loaded
 *    as 0, as Linux does when a task's saved selector went stale.  A
 *    program that later uses it gets the #GP it would get on Linux.
 *
 * The descriptor bits are those of Intel SDM vol. 3A, 3.4.5 (figure 3-8);
 * struct user_desc is Linux's (asm/ldt.h).  Linux puts its TLS entries at
 * GDT indexes 6-8; here they are 8-10 (include/kernel/cpu.h), and a
 * program learns the number from entry_number, as it must on Linux too.
 */
#include <compat32/compat32.h>
#include <kernel/errno.h>
#include <kernel/string.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/uaccess.h>
#include <kernel/x86.h>

/* Linux's struct user_desc; the bit fields of `flags` as masks. */
struct user_desc {
    uint32_t entry_number;
    uint32_t base_addr;
    uint32_t limit;
    uint32_t flags;
};
_Static_assert(sizeof(struct user_desc) == 16, "struct user_desc is 16 bytes");
#define UD_SEG_32BIT       0x01u
#define UD_CONTENTS_SHIFT  1       /* 2 bits: 0 data, 1 expand-down data, 2-3 code */
#define UD_READ_EXEC_ONLY  0x08u
#define UD_LIMIT_IN_PAGES  0x10u
#define UD_SEG_NOT_PRESENT 0x20u
#define UD_USEABLE         0x40u

/* Descriptor fields (SDM 3.4.5). */
#define D_TYPE_SHIFT 40         /* bit 40 accessed, 41 writable/readable, 42 expand-down/conforming, 43 code */
#define D_S     (1ul << 44)
#define D_DPL3  (3ul << 45)
#define D_P     (1ul << 47)
#define D_AVL   (1ul << 52)
#define D_DB    (1ul << 54)
#define D_G     (1ul << 55)

static uint32_t ud_contents(const struct user_desc *u)
{
    return (u->flags >> UD_CONTENTS_SHIFT) & 3;
}

/* Linux's "empty" forms: all zero, or the one with read_exec_only and
 * seg_not_present set.  Either clears the entry. */
static bool ud_clears(const struct user_desc *u)
{
    uint32_t f = u->flags & 0x7f;
    return u->base_addr == 0 && u->limit == 0 &&
           (f == 0 || f == (UD_READ_EXEC_ONLY | UD_SEG_NOT_PRESENT));
}

static uint64_t ud_encode(const struct user_desc *u)
{
    uint64_t base = u->base_addr, limit = u->limit & 0xfffff;
    uint64_t type = 1 /* accessed: the CPU need not write the GDT */ |
                    ((u->flags & UD_READ_EXEC_ONLY) ? 0 : 2) | (uint64_t)ud_contents(u) << 2;
    return (limit & 0xffff) | (base & 0xffffff) << 16 | type << D_TYPE_SHIFT | D_S | D_DPL3 |
           ((u->flags & UD_SEG_NOT_PRESENT) ? 0 : D_P) | ((limit >> 16) & 0xf) << 48 |
           ((u->flags & UD_USEABLE) ? D_AVL : 0) | ((u->flags & UD_SEG_32BIT) ? D_DB : 0) |
           ((u->flags & UD_LIMIT_IN_PAGES) ? D_G : 0) | ((base >> 24) & 0xff) << 56;
}

static void ud_decode(uint64_t d, struct user_desc *u)
{
    uint32_t type = (d >> D_TYPE_SHIFT) & 0xf;
    u->base_addr = (uint32_t)(((d >> 16) & 0xffffff) | ((d >> 56) & 0xff) << 24);
    u->limit = (uint32_t)((d & 0xffff) | ((d >> 48) & 0xf) << 16);
    u->flags = ((d & D_DB) ? UD_SEG_32BIT : 0) | ((type >> 2) & 3) << UD_CONTENTS_SHIFT |
               ((type & 2) ? 0 : UD_READ_EXEC_ONLY) | ((d & D_G) ? UD_LIMIT_IN_PAGES : 0) |
               ((d & D_P) ? 0 : UD_SEG_NOT_PRESENT) | ((d & D_AVL) ? UD_USEABLE : 0);
}

/* A selector the kernel may load for t without faulting: a user segment
 * of the GDT (RPL and TI aside, the LDT does not exist), readable. */
static uint16_t safe_selector(const struct task *t, uint16_t sel)
{
    if (sel & 4)
        return 0;   /* LDT: there is none */
    unsigned idx = sel >> 3;
    if (idx == GDT_UCODE32 / 8 || idx == GDT_UDATA / 8 || idx == GDT_UCODE64 / 8)
        return sel;
    if (idx >= GDT_TLS_FIRST && idx < GDT_TLS_FIRST + GDT_TLS_ENTRIES &&
        (t->tls[idx - GDT_TLS_FIRST] & D_P))
        return sel;
    return 0;
}

/* set_thread_area(struct user_desc *u) */
long sys32_set_thread_area(const struct sysargs *a)
{
    struct user_desc u;
    if (copy_from_user(&u, a->arg[0], sizeof(u)))
        return -EFAULT;
    /* Only present 32-bit data segments (Linux's tls_desc_okay): no code,
     * no 16-bit segment, nothing not present. */
    if (!ud_clears(&u) && (!(u.flags & UD_SEG_32BIT) || ud_contents(&u) > 1 ||
                           (u.flags & UD_SEG_NOT_PRESENT)))
        return -EINVAL;
    uint32_t idx = u.entry_number;
    if (idx == 0xffffffffu) {
        for (idx = 0; idx < GDT_TLS_ENTRIES && current->tls[idx]; idx++)
            ;
        if (idx == GDT_TLS_ENTRIES)
            return -ESRCH;
        idx += GDT_TLS_FIRST;
        if (copy_to_user(a->arg[0], &idx, sizeof(idx)))
            return -EFAULT;
    }
    if (idx < GDT_TLS_FIRST || idx >= GDT_TLS_FIRST + GDT_TLS_ENTRIES)
        return -EINVAL;
    current->tls[idx - GDT_TLS_FIRST] = ud_clears(&u) ? 0 : ud_encode(&u);
    /* Into the GDT now, and reload a segment register that holds this
     * entry so that it sees the new base at once (or becomes null when
     * the entry was cleared), as Linux's set_thread_area does. */
    gdt_set_tls(current->tls);
    for (int i = 0; i < 4; i++) {
        uint16_t sel = read_seg(i);
        if ((sel & ~7u) == (idx << 3))
            load_seg(i, safe_selector(current, sel));
    }
    return 0;
}

/* clone's CLONE_SETTLS: the entry is the one named (Linux passes
 * can_allocate = 0, so -1 is refused), in the child, not yet running. */
long tls_clone_settls(struct task *child, uint64_t utls)
{
    struct user_desc u;
    if (copy_from_user(&u, utls, sizeof(u)))
        return -EFAULT;
    if (!ud_clears(&u) && (!(u.flags & UD_SEG_32BIT) || ud_contents(&u) > 1 ||
                           (u.flags & UD_SEG_NOT_PRESENT)))
        return -EINVAL;
    uint32_t idx = u.entry_number;
    if (idx < GDT_TLS_FIRST || idx >= GDT_TLS_FIRST + GDT_TLS_ENTRIES)
        return -EINVAL;
    child->tls[idx - GDT_TLS_FIRST] = ud_clears(&u) ? 0 : ud_encode(&u);
    return 0;
}

/* get_thread_area(struct user_desc *u): u->entry_number says which. */
long sys32_get_thread_area(const struct sysargs *a)
{
    struct user_desc u;
    if (copy_from_user(&u.entry_number, a->arg[0], sizeof(u.entry_number)))
        return -EFAULT;
    uint32_t idx = u.entry_number;
    if (idx < GDT_TLS_FIRST || idx >= GDT_TLS_FIRST + GDT_TLS_ENTRIES)
        return -EINVAL;
    ud_decode(current->tls[idx - GDT_TLS_FIRST], &u);
    return copy_to_user(a->arg[0], &u, sizeof(u));
}


void tls_switch_out(struct task *prev)
{
    for (int i = 0; i < 4; i++)
        prev->useg[i] = read_seg(i);
}

void tls_switch_in(struct task *next)
{
    gdt_set_tls(next->tls);
    for (int i = 0; i < 4; i++)
        load_seg(i, safe_selector(next, next->useg[i]));
}

void tls_fork(struct task *child, const struct task *parent)
{
    memcpy(child->tls, parent->tls, sizeof(child->tls));
    for (int i = 0; i < 4; i++)
        child->useg[i] = parent == current ? read_seg(i) : parent->useg[i];
}

void tls_exec_reset(struct task *t)
{
    memset(t->tls, 0, sizeof(t->tls));
    t->useg[0] = t->useg[1] = GDT_UDATA | 3;   /* compatibility mode addresses through DS/ES */
    t->useg[2] = t->useg[3] = 0;
    if (t == current)
        tls_switch_in(t);
}
