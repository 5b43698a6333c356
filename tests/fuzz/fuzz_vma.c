/*
 * libFuzzer target: user address spaces (mm/vma.c, mmap.c, user_fault.c,
 * mm_fork.c, vma_check.c) over the page-table walker, the slab allocator and
 * the page allocator, driven by arbitrary bytes.
 *
 * Each input starts a fresh node with 3 MiB of RAM (so -ENOMEM comes up)
 * and zero watermarks, and one process.  Then it is a program of up to
 * MAX_OPS operations on up to four processes: mmap (private or shared,
 * anonymous or from a file, fixed, no-replace or hinted, with every
 * protection), munmap, mprotect, brk, madvise, user reads, writes and
 * executions (through the tables, faulting as the CPU would), kernel
 * writes (mm_write: prepare_write then copy), mincore, fork (CoW or
 * eager), exit, migration of a mapped page (migrate_page: private
 * anonymous pages move, the zero page and shared objects' frames are
 * refused; every pte that mapped the page maps the new frame, the old
 * one is free); and, before any of them, memory pressure: every frame
 * and free slab slot taken but a few, so that the operation may fail.
 *
 * The model: per process, per page of a 72-page window (48 pages for
 * mmap, then the heap), what is mapped there (kind, protection, file
 * page or shared object page) and the bytes at offsets 0 and 4095; per
 * shared object, its bytes.  From it the target knows every result: the
 * errno of each call, which accesses fault with -EFAULT, what each read
 * returns; under pressure -ENOMEM is also allowed, and then nothing may
 * have changed.  After every operation (check_all says how deep):
 * mm_check_frames (exact refcounts over all processes), pt_check,
 * node_check, mm_check_consistency, slab_check, the zero page still zero,
 * mincore against the tables, rmap_check_mm of every process and the
 * reverse map against the tables (each frame's rmap_count is the number
 * of ptes mapping it, 0 for the zero page and shared objects), and
 * every page of every process against the model without faulting
 * (present: the frame's bytes; absent: what a fault would produce).  At
 * the end every process exits and every frame and slab object must be
 * back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_host.h"
#include <kernel/errno.h>
#include <mm/gfp.h>
#include <mm/migrate.h>
#include <mm/pgtable.h>
#include <mm/rmap.h>
#include <mm/slab.h>
#include <mm/vma.h>
#include <mm/zone.h>

#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((a) - 1))

#define MiB (1ul << 20)
#define FR 4096ul
#define MAX_OPS 64
#define OP_BYTES 6                /* an operation and its arguments */
#define NPROC 4
#define W 48                      /* pages mmap works on */
#define NP 72                     /* pages modelled: mmap window, gap, heap */
#define HEAP_PAGE 56
#define HEAP_MAX 16               /* pages */
#define WIN 0x10000000ul
#define MAXOBJ 48
#define FILE_SIZE 14000

static const struct host_ram ram[] = { { 1 * MiB, 4 * MiB } };

#define FUZZ_NAME "fuzz_vma"
#include "fuzz_input.h"

/* ---- the model ------------------------------------------------------------------------------------ */

enum kind { K_NONE, K_ANON, K_SHM, K_FILE, K_SFILE };

struct mpage {
    uint8_t kind, prot;
    uint16_t obj;                 /* K_SHM: model object */
    uint32_t idx;                 /* K_SHM: page in the object; K_FILE/K_SFILE: file page */
    uint8_t v[2];                 /* bytes at offsets 0 and 4095 (private kinds) */
};

struct proc {
    bool live;
    struct mm mm;
    struct mpage pg[NP];
};

struct mobj {
    uint8_t v[W][2];
    struct vm_shm *real;          /* the kernel's object, learnt at mmap */
};

static struct proc procs[NPROC];
static struct mobj objs[MAXOBJ];
static unsigned nobj;
static uint8_t fdata[FILE_SIZE];
static const struct vm_file file = { "/f", fdata, FILE_SIZE };
static uint64_t base_frames, base_live, brk_start;
static struct page *hoard[1024];
static uint8_t hoard_order[1024];
static size_t nhoard;
static void *objs_held;
static bool pressure;
static struct proc *child;    /* made by the last operation */

static const unsigned offs[2] = { 0, 4095 };

static uint8_t file_byte(uint64_t off)
{
    return off < FILE_SIZE ? fdata[off] : 0;
}

static uint64_t va_of(unsigned page)
{
    return WIN + page * FR;
}

/* What a fresh fault would put at offset k of the page. */
static uint8_t fresh(const struct mpage *m, unsigned k)
{
    if (m->kind == K_FILE || m->kind == K_SFILE)
        return file_byte(m->idx * FR + offs[k]);
    return 0;
}

static uint8_t want(const struct mpage *m, unsigned k)
{
    return m->kind == K_SHM ? objs[m->obj].v[m->idx][k] : m->v[k];
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

/* ---- memory pressure ------------------------------------------------------------------------------- */

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

/* Leave exactly `left` frames and no free slab slot.  The frames are
 * taken in blocks as large as possible (few calls), after setting aside
 * the `left` frames given back at the end. */
static void squeeze(unsigned left)
{
    /* What mm/ allocates with kmalloc: VMAs, shared objects and their
     * directory leaves.  (Their directories, 8 bytes here, are left out:
     * filling the 8-byte class takes hundreds of calls.) */
    static const size_t sizes[] = { sizeof(struct vma), sizeof(struct vm_shm), 4096 };
    struct page *keep[16], *p;
    unsigned nkeep = 0;
    slab_shrink_all();
    /* Without the shrinker while taking everything: each failing call
     * below would run it again, for nothing. */
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

/* A result that must be `expect`, or -ENOMEM under pressure.  Returns
 * whether it succeeded as expected (so the model changes). */
static bool result(const char *what, long got, long expect)
{
    if (got == expect)
        return true;
    if (pressure && got == -ENOMEM)
        return false;
    DIE("%s returned %ld, expected %ld", what, got, expect);
}

/* ---- the CPU ---------------------------------------------------------------------------------------- */

static int uaccess(struct mm *mm, uint64_t va, unsigned access, uint8_t **p)
{
    for (int tries = 0;; tries++) {
        struct pt_view v;
        if (pt_walk(&mm->pt, va & ~(FR - 1), &v) == 0 && (v.prot & PT_U) &&
            (!(access & FAULT_WRITE) || (v.prot & PT_W)) &&
            (!(access & FAULT_EXEC) || (v.prot & PT_X))) {
            *p = mm_host_arena() + v.pa + (va & (FR - 1));
            return 0;
        }
        if (tries)
            DIE("mm_fault(%#lx, %#x) succeeded but the entry still refuses", va, access);
        int err = mm_fault(mm, va, access | FAULT_USER);
        if (err)
            return err;
    }
}

/* ---- validators -------------------------------------------------------------------------------------- */

/* The frames mapped in the window, by page (0: not present). */
static uint64_t present[NP];

static NOCOV int note_present(const struct pt_view *v, void *arg)
{
    (void)arg;
    present[(v->va - WIN) / FR] = v->pa;
    return 0;
}

/* The VMA holding va, moving *cur forward (pages are checked in order). */
static NOCOV struct vma *cursor(struct vma **cur, uint64_t va)
{
    while (*cur && (*cur)->end <= va)
        *cur = (*cur)->next;
    return *cur && (*cur)->start <= va ? *cur : NULL;
}

static NOCOV void check_page(struct proc *pr, unsigned page, struct vma *vma)
{
    struct mpage *m = &pr->pg[page];
    uint64_t va = va_of(page);
    if (m->kind == K_NONE) {
        if (vma || present[page])
            DIE("page %u: mapped, the model says not", page);
        return;
    }
    if (!vma)
        DIE("page %u: no VMA, the model has kind %u", page, m->kind);
    if (vma->prot != m->prot)
        DIE("page %u: prot %#x, model %#x", page, vma->prot, m->prot);
    if ((m->kind == K_SHM && vma->shm != objs[m->obj].real) ||
        ((m->kind == K_FILE || m->kind == K_SFILE) && vma->file != &file) ||
        (m->kind != K_ANON && (vma->off + va - vma->start) / FR != m->idx))
        DIE("page %u: not the model's object or file page", page);
    if (!!(vma->flags & VMA_SHARED) != (m->kind == K_SHM || m->kind == K_SFILE))
        DIE("page %u: shared or private, not as the model", page);
    const uint8_t *bytes = NULL;
    if (present[page]) {
        bytes = mm_host_arena() + present[page];
    } else if (m->kind == K_SHM) {
        uint64_t pa = vm_shm_frame(vma->shm, m->idx);
        if (pa)
            bytes = mm_host_arena() + pa;
    }
    for (unsigned k = 0; k < 2; k++) {
        uint8_t got = bytes ? bytes[offs[k]] : fresh(m, k);
        if (got != want(m, k))
            DIE("page %u (kind %u) byte %u: %#x, model %#x (%s)", page, m->kind, offs[k], got,
                want(m, k), bytes ? "present" : "absent");
    }
}

/* Every present frame of the window in every process, for the reverse
 * map's oracle: frame, process, page. */
static uint64_t all_pa[NPROC * NP];
static uint8_t all_kind[NPROC * NP];
static size_t nall;

/* Frames mapped only by private anonymous pages: rmap_count is exactly
 * the number of ptes mapping them; shared objects' frames and the zero
 * page have no reverse map. */
static NOCOV void rmap_oracle(void)
{
    for (size_t i = 0; i < nall; i++) {
        uint64_t pa = all_pa[i], n = 0;
        bool anon = true, seen = false;
        for (size_t j = 0; j < nall; j++) {
            if (all_pa[j] != pa)
                continue;
            seen = seen || j < i;
            n++;
            anon = anon && all_kind[j] == K_ANON;
        }
        if (seen)
            continue;   /* counted at its first pte */
        struct page *pg = pfn_to_page(pa / FR);
        uint64_t got = rmap_count(pg);
        if (pa == mm_zero_page() || all_kind[i] == K_SHM) {
            if (got)
                DIE("frame %#lx (zero page or shared object) has %lu reverse-map hits", pa, got);
        } else if (anon && got != n) {
            DIE("frame %#lx: %lu ptes map it, rmap_count says %lu", pa, n, got);
        }
    }
}

/*
 * After every operation, at three depths (running everything after every
 * operation made `make test`'s bounded run ~5x slower):
 *  - always: mm_check_frames (every check of mm_check_consistency over
 *    the VMAs of every process, where a stray pte shows as a count that
 *    does not match, and exact refcounts over all of them), node_check, the
 *    zero page, every page of every process against the model, and
 *    mincore of the process operated on (and of a new child);
 *  - every fourth operation (deep): pt_check of every process, slab_check,
 *    and mm_check_consistency of the process operated on (and a new
 *    child), which walks its whole user half for stray ptes;
 *  - at the end of the input (all): mm_check_consistency of everyone.
 */
enum depth { LIGHT, DEEP, ALL };

static NOCOV void check_all(struct proc *focus, enum depth depth)
{
    char why[256];
    for (int i = 0; i < NPROC; i++) {
        struct proc *pr = &procs[i];
        bool mine = pr == focus || pr == child;
        if (!pr->live || depth == LIGHT)
            continue;
        if (pt_check(&pr->mm.pt, why, sizeof(why)))
            DIE("proc %d: pt_check: %s", i, why);
        if ((depth == ALL || (depth == DEEP && mine)) &&
            mm_check_consistency(&pr->mm, why, sizeof(why)))
            DIE("proc %d: %s", i, why);
    }
    if (depth != LIGHT && slab_check(why, sizeof(why)))
        DIE("slab_check: %s", why);
    struct mm *live[NPROC];
    size_t n = 0;
    nall = 0;
    for (int i = 0; i < NPROC; i++) {
        struct proc *pr = &procs[i];
        if (!pr->live)
            continue;
        if (rmap_check_mm(&pr->mm, why, sizeof(why)))
            DIE("proc %d: rmap_check_mm: %s", i, why);
        memset(present, 0, sizeof(present));
        if (pt_for_each(&pr->mm.pt, WIN, va_of(NP), note_present, NULL))
            DIE("pt_for_each over the window");
        for (unsigned p = 0; p < NP; p++) {
            if (!present[p])
                continue;
            all_pa[nall] = present[p];
            all_kind[nall++] = pr->pg[p].kind;
        }
        struct vma *cur = vma_find(&pr->mm, WIN);
        for (unsigned p = 0; p < NP; p++)
            check_page(pr, p, cursor(&cur, va_of(p)));
        /* mincore against the tables and the objects */
        uint8_t vec[NP];
        unsigned p = pr == focus || pr == child ? 0 : NP;
        while (p < NP) {
            unsigned q = p;
            while (q < NP && pr->pg[q].kind != K_NONE)
                q++;
            if (q > p) {
                if (mm_mincore(&pr->mm, va_of(p), (q - p) * FR, vec))
                    DIE("mincore of mapped pages %u-%u failed", p, q);
                struct vma *c2 = vma_find(&pr->mm, va_of(p));
                for (unsigned j = p; j < q; j++) {
                    struct vma *vma = cursor(&c2, va_of(j));
                    bool res = present[j] ||
                               (vma->shm && vm_shm_frame(vma->shm, pr->pg[j].idx));
                    if (vec[j - p] != res)
                        DIE("mincore says %u for page %u", vec[j - p], j);
                }
            }
            p = q + 1;
        }
        live[n++] = &pr->mm;
    }
    /* mm_check_frames runs every check of mm_check_consistency on each
     * process, and compares refcounts exactly over all of them. */
    if (mm_check_frames(live, n, why, sizeof(why)))
        DIE("mm_check_frames: %s", why);
    rmap_oracle();
    if (node_check(why, sizeof(why)))
        DIE("node_check: %s", why);
    const uint8_t *z = mm_host_arena() + mm_zero_page();
    for (unsigned i = 0; i < FR; i += 8)
        if (*(const uint64_t *)(z + i))
            DIE("the zero page is not zero at %u", i);
    if (mm_host_node.errors)
        DIE("allocator errors: %s", mm_host_last_report());
    child = NULL;
}

/* ---- operations --------------------------------------------------------------------------------------- */

static struct proc *pick(struct input *in)
{
    unsigned k = u8(in) % NPROC;
    for (unsigned i = 0; i < NPROC; i++)
        if (procs[(k + i) % NPROC].live)
            return &procs[(k + i) % NPROC];
    DIE("no process left");
}

/* A range of pages [s, s + n) inside [0, limit). */
static void range(struct input *in, unsigned limit, unsigned *s, unsigned *n)
{
    *s = u8(in) % limit;
    *n = 1 + u8(in) % 8;
    if (*n > limit - *s)
        *n = limit - *s;
}

static const unsigned prots[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE,
                                  PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC,
                                  PROT_WRITE, PROT_READ | PROT_WRITE, PROT_READ };

static void set_unmapped(struct proc *pr, unsigned s, unsigned n)
{
    for (unsigned i = s; i < s + n; i++)
        memset(&pr->pg[i], 0, sizeof(pr->pg[i]));
}

static void do_mmap(struct input *in, struct proc *pr)
{
    unsigned s, n, b = u8(in), fo = u8(in) % 5;
    range(in, W, &s, &n);
    enum kind kind = K_ANON + b % 4;
    unsigned prot = prots[(b >> 2) % 8], mode = (b >> 5) % 4;
    unsigned flags = kind == K_SHM || kind == K_SFILE ? MAP_SHARED : MAP_PRIVATE;
    if (kind == K_ANON || kind == K_SHM)
        flags |= MAP_ANONYMOUS;
    if (kind == K_SHM && nobj == MAXOBJ)
        return;
    flags |= mode == 0 ? MAP_FIXED_NOREPLACE : mode == 3 ? 0 : MAP_FIXED;
    bool taken = false;
    for (unsigned i = s; i < s + n; i++)
        taken = taken || pr->pg[i].kind != K_NONE;
    /* Linux's order (do_mmap): MAP_FIXED_NOREPLACE's overlap before the
     * file's access mode. */
    long expect = 0;
    if (mode == 0 && taken)
        expect = -EEXIST;
    else if (kind == K_SFILE && (prot & PROT_WRITE))
        expect = -EACCES;
    uint64_t got = 0, va = va_of(s);
    int err = mm_mmap(&pr->mm, va, n * FR, prot, flags, kind >= K_FILE ? &file : NULL, fo * FR,
                      &got);
    if (!result("mmap", err, expect) || err)
        return;
    if (mode == 3 && taken) {
        /* The hint was taken: the mapping went elsewhere, outside the window. */
        if (got < va_of(NP) && got + n * FR > WIN)
            DIE("hinted mmap at %#lx landed in the window", got);
        release();
        if (mm_munmap(&pr->mm, got, n * FR))
            DIE("munmap of the hinted mapping failed");
        return;
    }
    if (got != va)
        DIE("mmap at %#lx returned %#lx", va, got);
    unsigned o = 0;
    if (kind == K_SHM) {
        o = nobj++;
        memset(&objs[o], 0, sizeof(objs[o]));
        objs[o].real = vma_lookup(&pr->mm, va)->shm;
    }
    for (unsigned i = 0; i < n; i++) {
        struct mpage *m = &pr->pg[s + i];
        m->kind = kind;
        m->prot = prot;
        m->obj = o;
        m->idx = kind == K_SHM ? i : fo + i;
        m->v[0] = fresh(m, 0);
        m->v[1] = fresh(m, 1);
    }
}

static void do_munmap(struct input *in, struct proc *pr)
{
    unsigned s, n;
    range(in, NP, &s, &n);
    if (result("munmap", mm_munmap(&pr->mm, va_of(s), n * FR), 0))
        set_unmapped(pr, s, n);
}

static void do_mprotect(struct input *in, struct proc *pr)
{
    unsigned s, n, prot = prots[u8(in) % 8];
    range(in, NP, &s, &n);
    long expect = 0;
    for (unsigned i = s; i < s + n && !expect; i++) {
        if (pr->pg[i].kind == K_NONE)
            expect = -ENOMEM;
        else if (pr->pg[i].kind == K_SFILE && (prot & PROT_WRITE))
            expect = -EACCES;
    }
    if (result("mprotect", mm_mprotect(&pr->mm, va_of(s), n * FR, prot), expect) && !expect)
        for (unsigned i = s; i < s + n; i++)
            pr->pg[i].prot = (uint8_t)prot;
}

static void do_madvise(struct input *in, struct proc *pr)
{
    unsigned s, n, b = u8(in);
    int advice = b % 3 == 0 ? MADV_DONTNEED : b % 3 == 1 ? MADV_FREE : MADV_WILLNEED;
    range(in, NP, &s, &n);
    long expect = 0;
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
        if (advice != MADV_WILLNEED && m->kind != K_SHM) {
            m->v[0] = fresh(m, 0);
            m->v[1] = fresh(m, 1);
        }
    }
    if (!expect && hole)
        expect = -ENOMEM;
    result("madvise", mm_madvise(&pr->mm, va_of(s), n * FR, advice), expect);
}

static void do_brk(struct input *in, struct proc *pr)
{
    uint64_t old = pr->mm.brk, want_brk = brk_start + (u8(in) * 263ul) % (HEAP_MAX * FR);
    unsigned old_end = (unsigned)((ALIGN_UP(old, FR) - WIN) / FR);
    unsigned new_end = (unsigned)((ALIGN_UP(want_brk, FR) - WIN) / FR);
    bool ok = true; /* growing: free pages, and one more of gap */
    for (unsigned i = old_end; new_end > old_end && i <= new_end && i < NP; i++)
        ok = ok && pr->pg[i].kind == K_NONE;
    uint64_t got = mm_brk(&pr->mm, want_brk);
    if (pressure && ok && got == old)
        return; /* no memory: brk keeps the old break */
    if (got != (ok ? want_brk : old))
        DIE("brk(%#lx) returned %#lx, expected %#lx", want_brk, got,
            (ok ? want_brk : old));
    if (!ok)
        return;
    if (new_end < old_end) {
        set_unmapped(pr, new_end, old_end - new_end);
    } else {
        for (unsigned i = old_end; i < new_end; i++) {
            pr->pg[i].kind = K_ANON;
            pr->pg[i].prot = PROT_READ | PROT_WRITE;
        }
    }
}

static void do_access(struct input *in, struct proc *pr, unsigned access)
{
    unsigned page = u8(in) % NP, k = u8(in) & 1;
    uint8_t val = u8(in);
    struct mpage *m = &pr->pg[page];
    uint8_t *p;
    int err = uaccess(&pr->mm, va_of(page) + offs[k], access, &p);
    if (!result("access", err, may(m, access) ? 0 : -EFAULT) || err)
        return;
    if (access & FAULT_WRITE) {
        *p = val;
        if (m->kind == K_SHM)
            objs[m->obj].v[m->idx][k] = val;
        else
            m->v[k] = val;
    } else if (*p != want(m, k)) {
        DIE("read of page %u byte %u: %#x, model %#x", page, offs[k], *p, want(m, k));
    }
}

/* The kernel writes into the process (read() into a buffer). */
static void do_kernel_write(struct input *in, struct proc *pr)
{
    static uint8_t buf[8 * 4096];
    unsigned page = u8(in) % NP, len = 1 + (unsigned)((u8(in) * 131u) % (3 * FR));
    uint8_t val = u8(in);
    uint64_t start = va_of(page) + 4095, end = start + len;
    bool ok = true;
    for (uint64_t va = start & ~(FR - 1); va < end; va += FR) {
        unsigned p = (unsigned)((va - WIN) / FR);
        ok = ok && p < NP && may(&pr->pg[p], FAULT_WRITE);
    }
    memset(buf, val, len);
    if (!result("mm_write", mm_write(&pr->mm, start, buf, len), ok ? 0 : -EFAULT) || !ok)
        return;
    for (uint64_t va = start & ~(FR - 1); va < end; va += FR) {
        struct mpage *m = &pr->pg[(va - WIN) / FR];
        for (unsigned k = 0; k < 2; k++) {
            if (va + offs[k] < start || va + offs[k] >= end)
                continue;
            if (m->kind == K_SHM)
                objs[m->obj].v[m->idx][k] = val;
            else
                m->v[k] = val;
        }
    }
}

static void do_fork(struct input *in, struct proc *pr)
{
    bool eager = u8(in) & 1;
    struct proc *c = NULL;
    for (int i = 0; i < NPROC && !c; i++)
        if (!procs[i].live)
            c = &procs[i];
    if (!c)
        return;
    memset(&c->mm, 0x5a, sizeof(c->mm));
    if (!result("fork", mm_fork(&c->mm, &pr->mm, eager), 0))
        return;
    c->live = true;
    memcpy(c->pg, pr->pg, sizeof(c->pg));
    child = c;
}

/*
 * Move the frame mapped at a page of pr: a private anonymous page moves
 * (or, under pressure, may find no target: -ENOMEM, nothing changed);
 * the zero page and a shared object's frame are refused (-EINVAL,
 * unmovable).  File pages (copies of the file) are anonymous copies:
 * either they move or they are refused, and then nothing changed.  The
 * model's bytes must read back (check_all) from wherever the page is.
 */
static void do_migrate(struct input *in, struct proc *pr)
{
    /* One of the present pages (any page would mostly be absent). */
    unsigned mapped[NP], nmapped = 0;
    struct pt_view v;
    for (unsigned p = 0; p < NP; p++)
        if (!pt_walk(&pr->mm.pt, va_of(p), &v))
            mapped[nmapped++] = p;
    if (!nmapped)
        return;
    unsigned page = mapped[u8(in) % nmapped];
    if (pt_walk(&pr->mm.pt, va_of(page), &v))
        DIE("page %u is no longer mapped", page);
    struct page *pg = pfn_to_page(v.pa / FR);
    uint8_t kind = pr->pg[page].kind;
    /* Every pte of every process mapping the frame (all in the window). */
    struct { struct proc *pr; unsigned page; } was[NPROC * NP];
    unsigned nwas = 0;
    for (int i = 0; i < NPROC; i++) {
        if (!procs[i].live)
            continue;
        for (unsigned p = 0; p < NP; p++) {
            struct pt_view w;
            if (!pt_walk(&procs[i].mm.pt, va_of(p), &w) && w.pa == v.pa)
                was[nwas].pr = &procs[i], was[nwas++].page = p;
        }
    }
    uint32_t refs = page_count(pg);
    struct page *np = NULL;
    enum migrate_result why = NR_MIGRATE_RESULTS;
    int err = migrate_page(pg, migrate_alloc_any, NULL, &np, &why);
    bool unmovable = v.pa == mm_zero_page() || kind == K_SHM;
    if (unmovable && (err != -EINVAL || why != MIGRATE_UNMOVABLE))
        DIE("migrate_page of %s frame: %d (%s)", kind == K_SHM ? "a shared object's" :
            "the zero page", err, migrate_result_str(why));
    if (!unmovable && kind == K_ANON && !(err == 0 || (pressure && err == -ENOMEM)))
        DIE("migrate_page of an anonymous page: %d (%s)", err, migrate_result_str(why));
    if (err != 0 && err != -EINVAL && err != -ENOMEM)
        DIE("migrate_page: %d (%s)", err, migrate_result_str(why));
    uint64_t now = err ? v.pa : page_to_phys(np);
    if (!err && (np == pg || page_count(pg) || page_count(np) != refs))
        DIE("migrate_page: new %#lx (%u references, %u before), old %#lx (%u)", now,
            page_count(np), refs, v.pa, page_count(pg));
    for (unsigned i = 0; i < nwas; i++) {
        struct pt_view w;
        if (pt_walk(&was[i].pr->mm.pt, va_of(was[i].page), &w) || w.pa != now)
            DIE("after migrate_page (%d), page %u of proc %ld does not map %#lx", err,
                was[i].page, (long)(was[i].pr - procs), now);
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

/* ---- the program ---------------------------------------------------------------------------------------- */

static void reset(void)
{
    static bool ready;
    if (!ready) {
        mm_host_init(4 * MiB / FR, ram, sizeof(ram) / sizeof(ram[0]));
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
    if (mm_zero_page_init())
        DIE("no zero page");
    base_frames = nr_free_pages() + slab_pages_held() + kmalloc_large_pages();
    base_live = slab_live_objects();
    memset(procs, 0, sizeof(procs));
    nobj = 0;
    nhoard = 0;
    objs_held = NULL;
    pressure = false;
    if (mm_init_user(&procs[0].mm, MM_VA_END_64, GFP_KERNEL))
        DIE("mm_init_user");
    procs[0].live = true;
    brk_start = va_of(HEAP_PAGE);
    if (mm_brk_init(&procs[0].mm, brk_start))
        DIE("mm_brk_init");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input all = { data, size };
    reset();
    for (int op = 0; op < MAX_OPS && all.n; op++) {
        /* One record of OP_BYTES per operation (missing bytes read 0). */
        struct input in = { all.p, all.n < OP_BYTES ? all.n : OP_BYTES };
        all.p += in.n;
        all.n -= in.n;
        uint8_t b = u8(&in);
        if (b >= 0xf0)
            squeeze(b & 0x0f); /* 0..15 frames for the next operation */
        struct proc *pr = pick(&in);
        switch (b % 14) {
        case 0:
        case 1:
            do_mmap(&in, pr);
            break;
        case 2:
            do_munmap(&in, pr);
            break;
        case 3:
            do_mprotect(&in, pr);
            break;
        case 4:
            do_madvise(&in, pr);
            break;
        case 5:
            do_brk(&in, pr);
            break;
        case 6:
        case 7:
            do_access(&in, pr, FAULT_WRITE);
            break;
        case 8:
            do_access(&in, pr, 0);
            break;
        case 9:
            do_access(&in, pr, FAULT_EXEC);
            break;
        case 10:
            do_kernel_write(&in, pr);
            break;
        case 11:
            do_fork(&in, pr);
            break;
        case 12:
            if (u8(&in) & 1)
                do_exit(pr);
            else
                do_fork(&in, pr);
            break;
        case 13:
            do_migrate(&in, pr);
            break;
        }
        release();
        check_all(pr, op % 4 == 3 ? DEEP : LIGHT);
    }
    check_all(NULL, ALL);
    for (int i = 0; i < NPROC; i++)
        if (procs[i].live)
            mm_destroy(&procs[i].mm);
    memset(procs, 0, sizeof(procs));
    check_all(NULL, ALL);
    uint64_t frames = nr_free_pages() + slab_pages_held() + kmalloc_large_pages();
    if (frames != base_frames)
        DIE("%lu frames free or in slabs at the end, %lu at the start", frames,
            base_frames);
    if (slab_live_objects() != base_live)
        DIE("%lu slab objects live at the end, %lu at the start", slab_live_objects(),
            base_live);
    return 0;
}
