/*
 * libFuzzer target: compat32's software i386 MMU (compat32/mmu32.c) under
 * the generic mm code (mm/vma.c, mmap.c, user_fault.c, mm_fork.c), driven by
 * arbitrary bytes: the i386 two-level tables of 32-bit processes are the
 * authoritative map, the 4-level "hw" tables (mmu32_hw) are derived from
 * them on demand, accessed/dirty emulated (docs/compat32.md).
 *
 * Each input starts a fresh node with 4 MiB of RAM (so -ENOMEM comes up)
 * and zero watermarks, and one 32-bit process (mm_init_user32), with the
 * mirror user-readable or not (first byte).  Then a program of up to
 * MAX_OPS operations on up to three processes: mmap (private or shared
 * anonymous, private file; fixed or no-replace, every protection),
 * munmap, mprotect, madvise, brk, user reads, writes and executions
 * through a simulated CPU (walk hw; if the leaf refuses, mm_hw_fault and
 * one retry), kernel copies (mm_write, mm_read), fork (CoW or eager),
 * exit, reads/writes of the page-table mirror at 0xffc00000, and
 * migration of a mapped page (migrate_page: the page moves to a frame
 * below 4 GiB, every i386 entry that mapped it maps the new frame with
 * its A and D bits kept, the derived entry is gone or follows; the zero
 * page and shared objects' frames are refused); before any of them,
 * optionally, memory pressure (every frame taken but a few).
 *
 * The model, per process and page of an 80-page window (64 pages across
 * a PDE boundary for mmap, 16 of heap in another PDE): kind, protection,
 * object, bytes at offsets 0 and 4095, and the A and D bits the PTE must
 * hold (A iff accessed since the PTE was made, D iff written; fork copies
 * them, mprotect and a write fault that only gives R/W back keep them, a
 * new frame is a new PTE).  Each access's fault count is predicted from
 * the raw i386 entries (allowed by them: the emulated MMU's fill only, no
 * minor fault; refused: exactly one).  Under pressure -ENOMEM is allowed
 * and then the data may not have changed; the A/D bits of the pages that
 * operation touched are re-read (a fill may record an access whose hw
 * entry it then could not make).  After every operation: the model,
 * mmu32_check, an independent check of every hw leaf against the raw
 * i386 entries, pt_check of both tables, mm_check_frames, rmap_check_mm
 * and the reverse map against the tables (rmap_count of each frame of
 * private anonymous pages is the number of i386 entries mapping it, 0 for
 * the zero page and shared objects), and (every fourth operation and at
 * the end) mm_check_consistency, node_check and slab_check.  At the end every process exits and every frame and slab
 * object must be back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_host.h"
#include <compat32/mmu32.h>
#include <kernel/errno.h>
#include <mm/gfp.h>
#include <mm/migrate.h>
#include <mm/pgtable.h>
#include <mm/rmap.h>
#include <compat32/pt_i386.h>
#include <mm/slab.h>
#include <mm/vma.h>
#include <mm/zone.h>

#include "../shared/mmu32_oracle.h"

#define MiB (1ul << 20)
#define FR 4096ul
#define TOP (1ul << 32)
#define MAX_OPS 64
#define OP_BYTES 8
#define NPROC 3
#define WPAGES 64
#define HPAGES 16
#define NP (WPAGES + HPAGES)
#define WIN (0x00800000ul - 32 * FR)
#define HEAP 0x02000000ul
#define MAXOBJ 48
#define FILE_SIZE 14000

#define RW (PROT_READ | PROT_WRITE)
#define P_ I386_PTE_P
#define A_ I386_PTE_A
#define D_ I386_PTE_D

static const struct host_ram ram[] = { { 1 * MiB, 5 * MiB } };

#define FUZZ_NAME "fuzz_mmu32"
#include "fuzz_input.h"

/* ---- input ---------------------------------------------------------------------------------------- */

/* The input being replayed (one per run: libFuzzer calls us in turn). */
static struct input in;

/* A number below n from the input (one byte, two for large n). */
static uint64_t rnd(uint64_t n)
{
    if (!n)
        return 0;
    uint64_t v = u8(&in);
    if (n > 256)
        v |= (uint64_t)u8(&in) << 8;
    return v % n;
}

/* ---- the model ------------------------------------------------------------------------------------ */

enum kind { K_NONE, K_ANON, K_SHM, K_FILE };

struct mpage {
    uint8_t kind, prot;
    uint16_t obj;
    uint32_t idx;
    uint8_t v[2];
    struct ad_model ad; /* the accessed / dirty model (touch, this operation: 1 accessed,
                         * 2 written, 4 re-read the bits) */
};

struct proc {
    bool live;
    struct mm mm;
    struct mpage pg[NP];
};

static struct proc procs[NPROC];
static uint8_t objv[MAXOBJ][WPAGES][2];
static struct vm_shm *objreal[MAXOBJ];
static unsigned nobj;
static uint8_t fdata[FILE_SIZE];
static const struct vm_file file = { "/f", fdata, FILE_SIZE };
static const unsigned offs[2] = { 0, 4095 };
static uint64_t base_frames, base_live, hw_faults;
static struct page *hoard[2048];
static uint8_t hoard_order[2048];
static size_t nhoard;
static void *objs_held;
static bool pressure;

static uint64_t va_of(unsigned page)
{
    return page < WPAGES ? WIN + page * FR : HEAP + (page - WPAGES) * FR;
}

static uint8_t fbyte(uint64_t off)
{
    return off < FILE_SIZE ? fdata[off] : 0;
}

static uint8_t fresh(const struct mpage *m, unsigned k)
{
    return m->kind == K_FILE ? fbyte(m->idx * FR + offs[k]) : 0;
}

static uint8_t mwant(const struct mpage *m, unsigned k)
{
    return m->kind == K_SHM ? objv[m->obj][m->idx][k] : m->v[k];
}

static bool may(const struct mpage *m, unsigned access)
{
    if (m->kind == K_NONE)
        return false;
    if (access & FAULT_WRITE)
        return m->prot & PROT_WRITE;
    if (access & FAULT_EXEC)
        return m->prot & PROT_EXEC;
    return m->prot != PROT_NONE;
}

/* ---- the CPU (the raw i386 walkers: tests/shared/mmu32_oracle.h) ---------------------------------- */

static int cpu_access(struct mm *mm, uint64_t va, unsigned access, uint8_t **p)
{
    if (!mmu32_hw(mm))
        DIE("not a 32-bit mm");
    int rc = cpu_try(mm, va, access, p, &hw_faults);
    if (rc == 1)
        DIE("access %#x at %#lx: mm_hw_fault said yes, hw still refuses", access, va);
    return rc;
}

/* ---- memory pressure (as fuzz_vma.c) --------------------------------------------------------- */

static void release(void)
{
    while (nhoard) {
        nhoard--;
        __free_pages(hoard[nhoard], hoard_order[nhoard]);
    }
    while (objs_held) {
        void *o = objs_held;
        objs_held = *(void **)o;
        kfree(o);
    }
    pressure = false;
}

static void squeeze(unsigned left)
{
    static const size_t sizes[] = { sizeof(struct vma), sizeof(struct vm_shm), 64, 4096 };
    struct page *keep[16], *p;
    unsigned nkeep = 0;
    slab_shrink_all();
    uint64_t (*shrink)(void) = mm_host_node.shrink;
    mm_host_node.shrink = NULL;
    while (nkeep < left && (keep[nkeep] = alloc_pages(__GFP_MEMALLOC | __GFP_NOWARN, 0)))
        nkeep++;
    static const unsigned orders[] = { MAX_ORDER, 8, 6, 4, 2, 0 };
    for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
        unsigned order = orders[i];
        while ((p = alloc_pages(__GFP_MEMALLOC | __GFP_NOWARN, order))) {
            if (nhoard == sizeof(hoard) / sizeof(hoard[0]))
                DIE("arena larger than the hoard");
            hoard_order[nhoard] = (uint8_t)order;
            hoard[nhoard++] = p;
        }
    }
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        void *o;
        while ((o = kmalloc(sizes[i], GFP_KERNEL | __GFP_NOWARN))) {
            *(void **)o = objs_held;
            objs_held = o;
        }
    }
    while (nkeep)
        __free_pages(keep[--nkeep], 0);
    mm_host_node.shrink = shrink;
    pressure = true;
}

/* `got` must be `expect`, or -ENOMEM under pressure; true: as expected. */
static bool result(const char *what, long got, long expect)
{
    if (got == expect)
        return true;
    if (pressure && got == -ENOMEM)
        return false;
    DIE("%s returned %ld, expected %ld", what, got, expect);
}

/* ---- validators --------------------------------------------------------------------------------- */

static const struct mm *raw_mm;

static NOCOV int raw_hw_leaf(const struct pt_view *hv, void *arg)
{
    char why[200];
    (void)arg;
    if (hw_leaf_bad(raw_mm, hv, why, sizeof(why)))
        DIE("%s", why);
    return 0;
}

/* The model (A/D, data, VMAs) against every page of every process. */
static NOCOV void model_check(void)
{
    for (int i = 0; i < NPROC; i++) {
        struct proc *pr = &procs[i];
        if (!pr->live)
            continue;
        for (unsigned p = 0; p < NP; p++) {
            struct mpage *m = &pr->pg[p];
            uint64_t va = va_of(p);
            uint32_t e = pte_of(&pr->mm, va);
            uint32_t pa = (e & P_) ? pte_addr(e) : 0;
            struct vma *v = vma_lookup(&pr->mm, va);
            if (!!v != (m->kind != K_NONE) || (v && v->prot != m->prot))
                DIE("proc %d page %u: VMA not as the model (kind %u prot %u)", i, p, m->kind,
                    m->prot);
            if (ad_model_step(&m->ad, e) == AD_TOUCHED_ABSENT)
                DIE("proc %d page %u accessed, not present", i, p);
            if (ad_mismatch(&m->ad, e))
                DIE("proc %d page %u (%#lx kind %u prot %u): PTE %08x, model A %d D %d", i, p,
                    va, m->kind, m->prot, e, m->ad.a, m->ad.d);
            if (m->kind == K_NONE)
                continue;
            const uint8_t *bytes = NULL;
            if (pa)
                bytes = mm_host_arena() + pa;
            else if (m->kind == K_SHM && vm_shm_frame(v->shm, m->idx))
                bytes = mm_host_arena() + vm_shm_frame(v->shm, m->idx);
            if (m->kind == K_SHM && v->shm != objreal[m->obj])
                DIE("proc %d page %u: another object", i, p);
            for (unsigned k = 0; k < 2; k++) {
                uint8_t got = bytes ? bytes[offs[k]] : fresh(m, k);
                if (got != mwant(m, k))
                    DIE("proc %d page %u (kind %u) byte %u: %#x, model %#x", i, p, m->kind,
                        offs[k], got, mwant(m, k));
            }
        }
    }
}

/* The reverse map against the i386 entries of every process: a frame
 * mapped only by private anonymous pages is found exactly as many times
 * as entries map it; the zero page and shared objects' frames never. */
static NOCOV void rmap_oracle(void)
{
    static uint32_t pas[NPROC * NP];
    static uint8_t kinds[NPROC * NP];
    size_t n = 0;
    for (int i = 0; i < NPROC; i++) {
        if (!procs[i].live)
            continue;
        for (unsigned p = 0; p < NP; p++) {
            uint32_t e = pte_of(&procs[i].mm, va_of(p));
            if (e & P_) {
                pas[n] = pte_addr(e);
                kinds[n++] = procs[i].pg[p].kind;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t count = 0;
        bool anon = true, seen = false;
        for (size_t j = 0; j < n; j++) {
            if (pas[j] != pas[i])
                continue;
            seen = seen || j < i;
            count++;
            anon = anon && kinds[j] == K_ANON;
        }
        if (seen)
            continue;
        uint64_t got = rmap_count(pfn_to_page(pas[i] / FR));
        if (pas[i] == mm_zero_page() || kinds[i] == K_SHM) {
            if (got)
                DIE("frame %#x (zero page or shared object) has %lu reverse-map hits", pas[i],
                    got);
        } else if (anon && got != count) {
            DIE("frame %#x: %lu i386 entries map it, rmap_count says %lu", pas[i], count, got);
        }
    }
}

static NOCOV void check_all(bool deep)
{
    char why[256];
    struct mm *live[NPROC];
    size_t n = 0;
    model_check();
    for (int i = 0; i < NPROC; i++) {
        struct proc *pr = &procs[i];
        if (!pr->live)
            continue;
        if (!mm_is32(&pr->mm))
            DIE("proc %d is not 32-bit", i);
        if (mmu32_check(&pr->mm, why, sizeof(why)))
            DIE("proc %d: mmu32_check: %s", i, why);
        if (pt_check(&pr->mm.pt, why, sizeof(why)))
            DIE("proc %d: i386 pt_check: %s", i, why);
        if (pt_check(mmu32_hw(&pr->mm), why, sizeof(why)))
            DIE("proc %d: hw pt_check: %s", i, why);
        raw_mm = &pr->mm;
        pt_for_each(mmu32_hw(&pr->mm), 0, TOP, raw_hw_leaf, NULL);
        if (deep && mm_check_consistency(&pr->mm, why, sizeof(why)))
            DIE("proc %d: %s", i, why);
        if (rmap_check_mm(&pr->mm, why, sizeof(why)))
            DIE("proc %d: rmap_check_mm: %s", i, why);
        live[n++] = &pr->mm;
    }
    if (mm_check_frames(live, n, why, sizeof(why)))
        DIE("mm_check_frames: %s", why);
    rmap_oracle();
    if (deep && node_check(why, sizeof(why)))
        DIE("node_check: %s", why);
    if (deep && slab_check(why, sizeof(why)))
        DIE("slab_check: %s", why);
    if (mm_host_node.errors)
        DIE("allocator errors: %s", mm_host_last_report());
}

/* ---- operations --------------------------------------------------------------------------------- */

static struct proc *pick(void)
{
    unsigned k = (unsigned)rnd(NPROC);
    for (unsigned i = 0; i < NPROC; i++)
        if (procs[(k + i) % NPROC].live)
            return &procs[(k + i) % NPROC];
    DIE("no process left");
}

static void range(unsigned *s, unsigned *n, bool heap_too)
{
    unsigned b = u8(&in), lo = 0, hi = WPAGES;
    if (heap_too && (b & 3) == 0)
        lo = WPAGES, hi = NP;
    *s = lo + (unsigned)rnd(hi - lo);
    *n = 1 + (unsigned)rnd((b & 4) ? 24 : 6);
    if (*n > hi - *s)
        *n = hi - *s;
}

static const unsigned prots[] = { PROT_NONE, PROT_READ, RW, PROT_READ | PROT_EXEC,
                                  RW | PROT_EXEC, PROT_WRITE, RW, PROT_READ };

static void set_none(struct proc *pr, unsigned s, unsigned n)
{
    for (unsigned i = s; i < s + n; i++) {
        pr->pg[i].kind = K_NONE;
        pr->pg[i].prot = 0;
    }
}

static void do_mmap(struct proc *pr)
{
    unsigned s, n, b = u8(&in);
    range(&s, &n, false);
    enum kind kind = K_ANON + b % 3;
    unsigned prot = prots[(b >> 2) % 8], nore = (b >> 5) & 1, fo = (b >> 6) % 4;
    if (kind == K_SHM && nobj == MAXOBJ)
        kind = K_ANON;
    unsigned flags = (kind == K_SHM ? MAP_SHARED : MAP_PRIVATE) |
                     (kind == K_FILE ? 0 : MAP_ANONYMOUS) |
                     (nore ? MAP_FIXED_NOREPLACE : MAP_FIXED);
    bool taken = false;
    for (unsigned i = s; i < s + n; i++)
        taken = taken || pr->pg[i].kind != K_NONE;
    uint64_t got = 0;
    int err = mm_mmap(&pr->mm, va_of(s), n * FR, prot, flags, kind == K_FILE ? &file : NULL,
                      fo * FR, &got);
    if (!result("mmap", err, nore && taken ? -EEXIST : 0) || err)
        return;
    if (got != va_of(s))
        DIE("mmap at %#lx returned %#lx", va_of(s), got);
    unsigned o = 0;
    if (kind == K_SHM) {
        o = nobj++;
        memset(objv[o], 0, sizeof(objv[o]));
        objreal[o] = vma_lookup(&pr->mm, va_of(s))->shm;
    }
    for (unsigned i = 0; i < n; i++) {
        struct mpage *m = &pr->pg[s + i];
        m->kind = (uint8_t)kind;
        m->prot = (uint8_t)prot;
        m->obj = (uint16_t)o;
        m->idx = kind == K_SHM ? i : fo + i;
        m->v[0] = fresh(m, 0);
        m->v[1] = fresh(m, 1);
    }
}

static void do_munmap(struct proc *pr)
{
    unsigned s, n;
    range(&s, &n, true);
    if (result("munmap", mm_munmap(&pr->mm, va_of(s), n * FR), 0))
        set_none(pr, s, n);
}

static void do_mprotect(struct proc *pr)
{
    unsigned s, n, prot = prots[u8(&in) % 8];
    range(&s, &n, true);
    int expect = 0;
    for (unsigned i = s; i < s + n; i++)
        if (pr->pg[i].kind == K_NONE)
            expect = -ENOMEM;
    if (result("mprotect", mm_mprotect(&pr->mm, va_of(s), n * FR, prot), expect) && !expect)
        for (unsigned i = s; i < s + n; i++)
            pr->pg[i].prot = (uint8_t)prot;
}

static void do_madvise(struct proc *pr)
{
    unsigned s, n, b = u8(&in) % 3;
    int advice = b == 0 ? MADV_DONTNEED : b == 1 ? MADV_FREE : MADV_WILLNEED;
    range(&s, &n, true);
    int expect = 0;
    bool hole = false;
    for (unsigned i = s; i < s + n; i++) {
        struct mpage *m = &pr->pg[i];
        if (m->kind == K_NONE) {
            hole = true;
            continue;
        }
        if (advice == MADV_FREE && m->kind != K_ANON) {
            expect = -EINVAL;
            break;
        }
    }
    if (!expect && hole)
        expect = -ENOMEM;
    result("madvise", mm_madvise(&pr->mm, va_of(s), n * FR, advice), expect);
    if (advice == MADV_WILLNEED)
        return;
    for (unsigned i = s; i < s + n; i++) {
        struct mpage *m = &pr->pg[i];
        if (expect == -EINVAL && m->kind != K_NONE && m->kind != K_ANON)
            break;
        if (m->kind != K_NONE && m->kind != K_SHM) {
            m->v[0] = fresh(m, 0);
            m->v[1] = fresh(m, 1);
        }
    }
}

static void do_brk(struct proc *pr)
{
    uint64_t old = pr->mm.brk, want_brk = HEAP + rnd(HPAGES * FR + 1);
    unsigned old_end = (unsigned)((((old + FR - 1) & ~(FR - 1)) - HEAP) / FR);
    unsigned new_end = (unsigned)((((want_brk + FR - 1) & ~(FR - 1)) - HEAP) / FR);
    uint64_t got = mm_brk(&pr->mm, want_brk);
    if (pressure && got == old)
        return;
    if (got != want_brk)
        DIE("brk(%#lx) returned %#lx", want_brk, got);
    if (new_end < old_end) {
        set_none(pr, WPAGES + new_end, old_end - new_end);
    } else {
        for (unsigned i = old_end; i < new_end; i++) {
            struct mpage *m = &pr->pg[WPAGES + i];
            m->kind = K_ANON;
            m->prot = RW;
            m->v[0] = m->v[1] = 0;
        }
    }
}

static void do_access(struct proc *pr, unsigned access)
{
    unsigned page = (unsigned)rnd(NP), k = u8(&in) & 1;
    uint8_t val = u8(&in);
    struct mpage *m = &pr->pg[page];
    uint64_t va = va_of(page) + offs[k];
    unsigned acc = access | FAULT_USER;
    bool allowed = i386_allows(&pr->mm, va, acc);
    uint64_t mf = pr->mm.minor_faults;
    uint8_t *p;
    int err = cpu_access(&pr->mm, va, acc, &p);
    if (!result("access", err, may(m, access) ? 0 : -EFAULT)) {
        m->ad.touch |= 4; /* -ENOMEM: a fill may have recorded the access */
        return;
    }
    if (err) {
        if (pr->mm.minor_faults != mf)
            DIE("a refused access counted a fault");
        return;
    }
    if (pr->mm.minor_faults != mf + (allowed ? 0 : 1))
        DIE("access %#x page %u: %lu minor faults, the i386 entries %s it", access, page,
            (pr->mm.minor_faults - mf), allowed ? "allowed" : "refused");
    m->ad.touch |= 1 | ((access & FAULT_WRITE) ? 2 : 0);
    if (access & FAULT_WRITE) {
        *p = val;
        if (m->kind == K_SHM)
            objv[m->obj][m->idx][k] = val;
        else
            m->v[k] = val;
    } else if (*p != mwant(m, k)) {
        DIE("read of page %u byte %u: %#x, model %#x", page, offs[k], *p, mwant(m, k));
    }
}

static void do_kernel(struct proc *pr, bool write)
{
    static uint8_t buf[4 * 4096];
    unsigned page = (unsigned)rnd(WPAGES);
    uint64_t len = 1 + rnd(3 * FR), start = va_of(page) + (u8(&in) & 1) * 4095, end = start + len;
    if (end > WIN + WPAGES * FR)
        end = WIN + WPAGES * FR, len = end - start;
    unsigned acc = FAULT_USER | (write ? FAULT_WRITE : 0);
    bool ok = true;
    uint64_t faults = 0;
    unsigned first = (unsigned)((start - WIN) / FR), last = (unsigned)((end - 1 - WIN) / FR);
    for (unsigned i = first; i <= last && ok; i++) {
        ok = may(&pr->pg[i], write ? FAULT_WRITE : 0);
        if (ok)
            faults += !i386_allows(&pr->mm, va_of(i), acc);
    }
    uint64_t mf = pr->mm.minor_faults;
    uint8_t val = u8(&in);
    int err;
    if (write) {
        memset(buf, val, len);
        err = mm_write(&pr->mm, start, buf, len);
    } else {
        err = mm_read(&pr->mm, buf, start, len);
    }
    bool as_expected = result(write ? "mm_write" : "mm_read", err, ok ? 0 : -EFAULT);
    if (as_expected && pr->mm.minor_faults != mf + faults)
        DIE("mm_%s: %lu minor faults, expected %lu", write ? "write" : "read",
            (pr->mm.minor_faults - mf), faults);
    for (unsigned i = first; i <= last; i++) {
        struct mpage *m = &pr->pg[i];
        if (!may(m, write ? FAULT_WRITE : 0))
            break;
        if (!as_expected) {
            m->ad.touch |= 4;
            continue;
        }
        m->ad.touch |= 1 | (write ? 2 : 0);
        for (unsigned k = 0; k < 2 && !err; k++) {
            uint64_t at = va_of(i) + offs[k];
            if (at < start || at >= end)
                continue;
            if (write) {
                if (m->kind == K_SHM)
                    objv[m->obj][m->idx][k] = val;
                else
                    m->v[k] = val;
            } else if (buf[at - start] != mwant(m, k)) {
                DIE("mm_read of page %u byte %u: %#x, model %#x", i, offs[k], buf[at - start],
                    mwant(m, k));
            }
        }
    }
}

static void do_fork(struct proc *pr)
{
    bool eager = u8(&in) & 1;
    struct proc *c = NULL;
    for (int i = 0; i < NPROC && !c; i++)
        if (!procs[i].live)
            c = &procs[i];
    if (!c)
        return;
    memset(&c->mm, 0x5a, sizeof(c->mm));
    if (!result("fork", mm_fork(&c->mm, &pr->mm, eager), 0))
        return;
    if (!mm_is32(&c->mm) || !mmu32_hw(&c->mm))
        DIE("the child of a 32-bit process is not 32-bit");
    c->live = true;
    memcpy(c->pg, pr->pg, sizeof(c->pg));
    for (unsigned i = 0; i < NP; i++) {
        uint32_t e = pte_of(&c->mm, va_of(i));
        c->pg[i].ad.pa = (e & P_) ? pte_addr(e) : 0;
        c->pg[i].ad.touch = pr->pg[i].ad.touch;
        if (!!c->pg[i].ad.pa != !!pr->pg[i].ad.pa)
            DIE("page %u present in only one of parent and child", i);
    }
}

/*
 * Move the frame an i386 entry of pr maps: a private anonymous or file
 * copy page moves below 4 GiB (under pressure it may find no target:
 * -ENOMEM, nothing changed); the zero page and a shared object's frame are
 * refused.  Every entry that mapped it then maps the new frame, A and D
 * as they were (the model's ad.pa follows, so a changed bit shows as a
 * mismatch), and the derived entry is gone or maps the new frame
 * (mmu32_check and the raw hw check of check_all).
 */
static void do_migrate(struct proc *pr)
{
    /* One of the present pages (any page would mostly be absent). */
    unsigned mapped[NP], n = 0;
    for (unsigned p = 0; p < NP; p++)
        if (pte_of(&pr->mm, va_of(p)) & P_)
            mapped[n++] = p;
    if (!n)
        return;
    unsigned page = mapped[rnd(n)];
    uint32_t e = pte_of(&pr->mm, va_of(page));
    uint32_t pa = pte_addr(e);
    struct page *pg = pfn_to_page(pa / FR);
    uint8_t kind = pr->pg[page].kind;
    uint32_t refs = page_count(pg);
    struct page *np = NULL;
    enum migrate_result why = NR_MIGRATE_RESULTS;
    int err = migrate_page(pg, migrate_alloc_any, NULL, &np, &why);
    bool unmovable = pa == mm_zero_page() || kind == K_SHM;
    if (unmovable && (err != -EINVAL || why != MIGRATE_UNMOVABLE))
        DIE("migrate_page of %s frame: %d (%s)", kind == K_SHM ? "a shared object's" :
            "the zero page", err, migrate_result_str(why));
    if (!unmovable && !(err == 0 || (pressure && err == -ENOMEM)))
        DIE("migrate_page of a private page (kind %u): %d (%s)", kind, err,
            migrate_result_str(why));
    if (err)
        return;
    uint64_t now = page_to_phys(np);
    if (np == pg || page_count(pg) || page_count(np) != refs || now + FR > TOP)
        DIE("migrate_page: new %#lx (%u references, %u before), old %#x (%u)", now,
            page_count(np), refs, pa, page_count(pg));
    for (int i = 0; i < NPROC; i++) {
        if (!procs[i].live)
            continue;
        for (unsigned p = 0; p < NP; p++) {
            struct mpage *m = &procs[i].pg[p];
            uint32_t f = pte_of(&procs[i].mm, va_of(p));
            if ((f & P_) && pte_addr(f) == pa)
                DIE("proc %d page %u still maps the old frame %#x", i, p, pa);
            if (m->ad.pa == pa) {
                if (!(f & P_) || pte_addr(f) != now)
                    DIE("proc %d page %u: %08x after the move, not the new frame %#lx", i, p, f,
                        now);
                m->ad.pa = (uint32_t)now;   /* the same PTE: A and D must be kept */
            }
        }
    }
}

static void do_exit(struct proc *pr)
{
    int live = 0;
    for (int i = 0; i < NPROC; i++)
        live += procs[i].live;
    if (live < 2)
        return;
    mm_destroy(&pr->mm);
    pr->live = false;
}

static void do_mirror(struct proc *pr)
{
    static const unsigned pdes[] = { 1, 2, 8, 5, I386_MIRROR_PDE };
    unsigned b = u8(&in), pde = pdes[b % 5];
    bool user = (b >> 3) & 1, write = ((b >> 4) & 7) == 0;
    uint64_t va = I386_MIRROR_BASE + (uint64_t)pde * FR + rnd(1024) * 4;
    const uint32_t *pd = tab(pr->mm.pt.root);
    bool present = pde == I386_MIRROR_PDE || (pd[pde] & P_);
    bool ok = present && !write && (!user || mmu32_mirror_user);
    uint64_t mf = pr->mm.minor_faults;
    uint8_t *p;
    int err = cpu_access(&pr->mm, va, (user ? FAULT_USER : 0) | (write ? FAULT_WRITE : 0), &p);
    if (!result("mirror access", err, ok ? 0 : -EFAULT) || err)
        return;
    if (pr->mm.minor_faults != mf)
        DIE("a mirror read counted a minor fault");
    struct pt_view v;
    if (pt_walk(mmu32_hw(&pr->mm), va & ~(FR - 1), &v))
        DIE("mirror read, no hw entry");
    uint64_t want = pde == I386_MIRROR_PDE ? pr->mm.pt.root : pte_addr(pd[pde]);
    if (v.pa != want)
        DIE("mirror page of PDE %u maps %#lx, the table is %#lx", pde, v.pa, want);
    unsigned idx = (unsigned)((va & (FR - 1)) / 4);
    if (*(const uint32_t *)p != tab(want)[idx])
        DIE("mirror word %u of PDE %u: not the entry", idx, pde);
}

/* ---- the program ---------------------------------------------------------------------------------- */

static void reset(bool mirror_user)
{
    static bool ready;
    if (!ready) {
        mm_host_init(5 * MiB / FR, ram, sizeof(ram) / sizeof(ram[0]));
        for (size_t i = 0; i < FILE_SIZE; i++)
            fdata[i] = (uint8_t)(i * 7 + 3 + i / 4096);
        ready = true;
    } else {
        mm_host_reset();
    }
    for (int z = 0; z < NR_ZONES; z++)
        mm_host_node.zones[z].wmark_min = mm_host_node.zones[z].wmark_low =
            mm_host_node.zones[z].wmark_high = 0;
    kmem_cache_init();
    mm_tlb_flush = NULL;
    mm_kernel_share = NULL;
    if (mm_zero_page_init())
        DIE("no zero page");
    base_frames = nr_free_pages() + slab_pages_held() + kmalloc_large_pages();
    base_live = slab_live_objects();
    memset(procs, 0, sizeof(procs));
    nobj = 0;
    nhoard = 0;
    objs_held = NULL;
    pressure = false;
    mmu32_mirror_user = mirror_user;
    if (mm_init_user32(&procs[0].mm))
        DIE("mm_init_user32");
    procs[0].live = true;
    if (mm_brk_init(&procs[0].mm, HEAP))
        DIE("mm_brk_init");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in.p = data;
    in.n = size;
    reset(u8(&in) & 1);
    const uint8_t *next = in.p;
    size_t left = in.n;
    for (int op = 0; op < MAX_OPS && left; op++) {
        /* One record of OP_BYTES per operation (missing bytes read 0). */
        in.p = next;
        in.n = left < OP_BYTES ? left : OP_BYTES;
        next += in.n;
        left -= in.n;
        uint8_t b = u8(&in);
        if (b >= 0xf0)
            squeeze(b & 0x0f);
        struct proc *pr = pick();
        switch (b % 16) {
        case 0:
        case 1:
            do_mmap(pr);
            break;
        case 2:
            do_munmap(pr);
            break;
        case 3:
            do_mprotect(pr);
            break;
        case 4:
            do_madvise(pr);
            break;
        case 5:
            do_brk(pr);
            break;
        case 6:
        case 7:
            do_access(pr, FAULT_WRITE);
            break;
        case 8:
        case 9:
            do_access(pr, 0);
            break;
        case 10:
            do_access(pr, FAULT_EXEC);
            break;
        case 11:
            do_kernel(pr, u8(&in) & 1);
            break;
        case 12:
            do_fork(pr);
            break;
        case 13:
            do_exit(pr);
            break;
        case 14:
            do_migrate(pr);
            break;
        default:
            do_mirror(pr);
            break;
        }
        release();
        check_all(op % 4 == 3);
    }
    check_all(true);
    for (int i = 0; i < NPROC; i++)
        if (procs[i].live)
            mm_destroy(&procs[i].mm);
    memset(procs, 0, sizeof(procs));
    check_all(true);
    uint64_t frames = nr_free_pages() + slab_pages_held() + kmalloc_large_pages();
    if (frames != base_frames)
        DIE("%lu frames free or in slabs at the end, %lu at the start", frames,
            base_frames);
    if (slab_live_objects() != base_live)
        DIE("%lu slab objects live at the end, %lu at the start", slab_live_objects(),
            base_live);
    (void)hw_faults;
    return 0;
}
