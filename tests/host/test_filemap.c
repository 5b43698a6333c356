/*
 * Host tests of file pages in address spaces (mm/filemap.c): the i_mmap
 * list, shared and private faults over a page cache, map counts, fork,
 * exit, truncation unmapping every process's pages, SIGBUS past the end,
 * msync, /proc/self/maps, and MAP_SHARED anonymous memory through the
 * mm_shmem_new hook.
 *
 * The file system is a fake one in this file: a "file" is a struct
 * vm_mapping with a size and an array of pages taken from the host
 * allocator (mm_host.c's arena) the way kernel/fs/pagecache.c takes them
 * (filemap_page_added/removed), and a truncation does what tmpfs_setsize
 * does: unmap_mapping_pages, then drop the pages.  The test plays the CPU
 * as tests/host/test_vma.c does: an access walks the tables and calls
 * mm_fault when the entry refuses it, then reads or writes the frame
 * through the arena.
 *
 * After every step check() runs the validators over every live address
 * space (mm_check_consistency, mm_check_frames: each page-cache page's
 * refcount must be exactly its mappings + 1 and its map count exactly its
 * mappings), and each case ends with every frame and slab object back.
 */
#include <stdlib.h>

#include "htest.h"
#include "mm_host.h"
#include <kernel/errno.h>
#include <mm/filemap.h>
#include <mm/gfp.h>
#include <mm/pgtable.h>
#include <mm/slab.h>
#include <mm/vma.h>
#include <mm/zone.h>

#define MiB (1ul << 20)
#define FR 4096ul
#define RW (PROT_READ | PROT_WRITE)

static const struct host_ram ram[] = { { 1 * MiB, 31 * MiB } };

#define NMM 6
static struct mm mms[NMM];
static bool used[NMM];
static uint64_t base_frames, base_live;

/* ---- a fake file system ---------------------------------------------------------------- */

#define FMAX 16

struct ffile {
    struct vm_mapping m;           /* first */
    uint64_t size;                 /* bytes */
    struct page *pg[FMAX];
    int refs;                      /* VMAs holding it (get/put) */
    bool full;                     /* new pages: -ENOSPC */
    bool unlinked;
    bool is_shmem;                 /* made by fake_shmem_new: freed by its last put */
};

static struct ffile *ff_of(struct vm_mapping *m)
{
    return (struct ffile *)m;
}

static int ff_fault(struct vm_mapping *m, uint64_t index, uint64_t *pa)
{
    struct ffile *f = ff_of(m);
    if (index >= (f->size + FR - 1) / FR)
        return -EIO;
    if (index >= FMAX)
        return -EIO;
    if (!f->pg[index]) {
        if (f->full)
            return -ENOSPC;
        struct page *p = alloc_page(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN);
        if (!p)
            return -ENOMEM;
        filemap_page_added(p, true);
        p->mapping = (uint64_t)(uintptr_t)f;  /* the reverse map's record (rmap.h) */
        p->index = index;
        f->pg[index] = p;
    }
    *pa = page_to_phys(f->pg[index]);
    return 0;
}

static uint64_t ff_find(struct vm_mapping *m, uint64_t index)
{
    struct ffile *f = ff_of(m);
    return index < FMAX && f->pg[index] ? page_to_phys(f->pg[index]) : 0;
}

static void ff_drop_pages(struct ffile *f, uint64_t from)
{
    for (uint64_t i = from; i < FMAX; i++)
        if (f->pg[i]) {
            filemap_page_removed(f->pg[i], true);
            put_page(f->pg[i]);
            f->pg[i] = NULL;
        }
}

static void ff_get(struct vm_mapping *m)
{
    ff_of(m)->refs++;
}

static void ff_put(struct vm_mapping *m)
{
    struct ffile *f = ff_of(m);
    if (--f->refs == 0 && f->is_shmem) {
        ff_drop_pages(f, 0);
        free(f);
    }
}

static void ff_ident(struct vm_mapping *m, uint64_t *dev, uint64_t *ino)
{
    (void)m;
    *dev = 0x801;                  /* 08:01 in Linux's encoding */
    *ino = 42;
}

static const char *ff_name(struct vm_mapping *m, bool *deleted)
{
    *deleted = ff_of(m)->unlinked;
    return ff_of(m)->is_shmem ? "/dev/zero" : "/tmp/f";
}

static int ff_migrate(struct vm_mapping *m, uint64_t index, gfp_t gfp, uint64_t *pa);

static const struct vm_mapping_ops ff_ops = {
    ff_fault, ff_find, ff_get, ff_put, ff_ident, ff_name, ff_migrate,
};

static struct ffile file;

/* What tmpfs_mmap.c's migrate does, over the fake cache. */
static int ff_migrate(struct vm_mapping *m, uint64_t index, gfp_t gfp, uint64_t *pa)
{
    struct ffile *f = ff_of(m);
    struct page *pg = alloc_page(gfp | __GFP_NOWARN), *old = f->pg[index];
    if (!pg)
        return -ENOMEM;
    memcpy(page_address(pg), page_address(old), FR);
    filemap_page_added(pg, true);
    pg->mapping = (uint64_t)(uintptr_t)f;
    pg->index = index;
    f->pg[index] = pg;
    filemap_move_ptes(m, index, page_to_phys(old), page_to_phys(pg));
    filemap_page_removed(old, true);
    put_page(old);
    *pa = page_to_phys(pg);
    return 0;
}

static void file_init(uint64_t size)
{
    memset(&file, 0, sizeof(file));
    file.m.ops = &ff_ops;
    file.size = size;
}

/* What tmpfs_setsize does for a shrink: unmap, then drop the pages. */
static void file_truncate(struct ffile *f, uint64_t size)
{
    uint64_t keep = (size + FR - 1) / FR;
    unmap_mapping_pages(&f->m, keep, UINT64_MAX - keep);
    ff_drop_pages(f, keep);
    if (size % FR && f->pg[size / FR])
        memset((uint8_t *)page_address(f->pg[size / FR]) + size % FR, 0, FR - size % FR);
    f->size = size;
}

static uint8_t *file_byte(struct ffile *f, uint64_t off)
{
    return f->pg[off / FR] ? (uint8_t *)page_address(f->pg[off / FR]) + off % FR : NULL;
}

static int fake_shmem_new(uint64_t len, struct vm_mapping **out)
{
    struct ffile *f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->m.ops = &ff_ops;
    f->size = len;
    f->refs = 1;                   /* the caller's */
    f->is_shmem = true;
    f->unlinked = true;
    *out = &f->m;
    return 0;
}

/* ---- set-up and validators ------------------------------------------------------------------ */

static uint64_t frames_now(void)
{
    return nr_free_pages() + slab_pages_held() + kmalloc_large_pages();
}

static void setup(void)
{
    mm_host_init_no_watermarks(32 * MiB / FR, ram, HT_COUNT(ram));
    kmem_cache_init();
    memset(used, 0, sizeof(used));
    mm_tlb_flush = NULL;
    mm_shmem_new = NULL;
    HT_ASSERT(mm_zero_page_init() == 0, "no zero page");
    base_frames = frames_now();
    base_live = slab_live_objects();
}

static struct mm *new_mm(void)
{
    for (int i = 0; i < NMM; i++) {
        if (used[i])
            continue;
        if (mm_init_user(&mms[i], MM_VA_END_64, GFP_KERNEL))
            return NULL;
        used[i] = true;
        return &mms[i];
    }
    return NULL;
}

static struct mm *fork_mm(struct mm *parent)
{
    for (int i = 0; i < NMM; i++) {
        if (used[i])
            continue;
        if (mm_fork(&mms[i], parent, false))
            return NULL;
        used[i] = true;
        return &mms[i];
    }
    return NULL;
}

static void drop_mm(struct mm *mm)
{
    mm_destroy(mm);
    used[mm - mms] = false;
}

static void check(void)
{
    char why[256];
    struct mm *live[NMM];
    size_t n = 0;
    for (int i = 0; i < NMM; i++) {
        if (!used[i])
            continue;
        HT_ASSERT(mm_check_consistency(&mms[i], why, sizeof(why)) == 0, "mm %d: %s", i, why);
        HT_ASSERT(pt_check(&mms[i].pt, why, sizeof(why)) == 0, "mm %d: pt_check: %s", i, why);
        live[n++] = &mms[i];
    }
    HT_ASSERT(mm_check_frames(live, n, why, sizeof(why)) == 0, "mm_check_frames: %s", why);
    HT_ASSERT(node_check(why, sizeof(why)) == 0, "node_check: %s", why);
    HT_ASSERT(slab_check(why, sizeof(why)) == 0, "slab_check: %s", why);
    HT_ASSERT(mm_host_node.errors == 0, "allocator errors: %s", mm_host_last_report());
}

static void teardown(void)
{
    for (int i = 0; i < NMM; i++)
        if (used[i])
            drop_mm(&mms[i]);
    HT_ASSERT(file.refs == 0 && file.m.i_mmap == NULL && file.m.nr_vmas == 0,
              "the file still has %d references, %lu VMAs", file.refs, file.m.nr_vmas);
    ff_drop_pages(&file, 0);
    mm_shmem_new = NULL;
    HT_TRY(check());
    HT_EQ_U(global_node_page_state(NR_FILE_PAGES), 0);
    HT_EQ_U(global_node_page_state(NR_SHMEM), 0);
    HT_EQ_U(global_node_page_state(NR_FILE_MAPPED), 0);
    HT_ASSERT(frames_now() == base_frames, "%lu frames free or in slabs, %lu before: leak",
              frames_now(), base_frames);
    HT_ASSERT(slab_live_objects() == base_live, "%lu slab objects live, %lu before",
              slab_live_objects(), base_live);
}

/* ---- the CPU ------------------------------------------------------------------------------------ */

static int uaccess(struct mm *mm, uint64_t va, unsigned access, uint8_t **p)
{
    for (int tries = 0;; tries++) {
        struct pt_view v;
        if (pt_walk(&mm->pt, va & ~(FR - 1), &v) == 0 && (v.prot & PT_U) &&
            (!(access & FAULT_WRITE) || (v.prot & PT_W))) {
            *p = mm_host_arena() + v.pa + (va & (FR - 1));
            return 0;
        }
        if (tries)
            return -1000;
        int err = mm_fault(mm, va, access | FAULT_USER);
        if (err)
            return err;
    }
}

static void uw(struct mm *mm, uint64_t va, uint8_t val)
{
    uint8_t *p;
    int err = uaccess(mm, va, FAULT_WRITE, &p);
    HT_ASSERT(err == 0, "write at %#lx: %d", va, err);
    *p = val;
}

static void ur(struct mm *mm, uint64_t va, uint8_t want)
{
    uint8_t *p;
    int err = uaccess(mm, va, 0, &p);
    HT_ASSERT(err == 0, "read at %#lx: %d", va, err);
    HT_ASSERT(*p == want, "read at %#lx: %#x, expected %#x", va, *p, want);
}

/* An access that must get SIGBUS (-EIO, MM_FAULT_SIGBUS). */
static void sigbus(struct mm *mm, uint64_t va, unsigned access)
{
    uint8_t *p;
    enum mm_fault_why why;
    HT_EQ_U(uaccess(mm, va, access, &p), -EIO);
    HT_EQ_U(mm_fault_why(mm, va, access | FAULT_USER, &why), -EIO);
    HT_ASSERT(why == MM_FAULT_SIGBUS, "access at %#lx: reason %d", va, why);
}

static bool present(struct mm *mm, uint64_t va, uint64_t *pa)
{
    struct pt_view v;
    if (pt_walk(&mm->pt, va, &v))
        return false;
    if (pa)
        *pa = v.pa;
    return true;
}

/* mmap of the fake file: readable, writable as asked. */
static uint64_t fmap(struct mm *mm, uint64_t len, unsigned prot, unsigned flags, struct ffile *f,
                     bool writable, uint64_t off, int *err)
{
    struct mmap_file mf = { NULL, true, writable, &f->m };
    uint64_t at = 0;
    *err = mm_mmap_file(mm, 0, len, prot, flags, &mf, off, &at);
    return at;
}

#define MAP(mm, len, prot, flags, off, a)                                   \
    do {                                                                    \
        int e_;                                                             \
        (a) = fmap((mm), (len), (prot), (flags), &file, true, (off), &e_);  \
        HT_ASSERT(e_ == 0, "mmap: %d", e_);                                 \
    } while (0)

/* ---- cases ---------------------------------------------------------------------------------------- */

/* Two address spaces share the file's pages: one pte each, one map
 * count each, the i_mmap list holds both VMAs, and the file lives as
 * long as they do. */
static void t_shared_two_processes(void)
{
    HT_TRY(setup());
    file_init(3 * FR);
    struct mm *a = new_mm(), *b = new_mm();
    uint64_t va, vb, pa, pb;
    MAP(a, 3 * FR, RW, MAP_SHARED, 0, va);
    MAP(b, 2 * FR, RW, MAP_SHARED, FR, vb);
    HT_EQ_U(file.m.nr_vmas, 2);
    HT_EQ_U(file.refs, 2);
    HT_TRY(uw(a, va + FR + 5, 0x11));          /* file offset FR + 5 */
    HT_TRY(ur(b, vb + 5, 0x11));
    HT_TRY(uw(b, vb + FR + 7, 0x22));          /* file offset 2 FR + 7 */
    HT_TRY(ur(a, va + 2 * FR + 7, 0x22));
    HT_ASSERT(*file_byte(&file, 2 * FR + 7) == 0x22, "the file does not hold the write");
    HT_ASSERT(present(a, va + FR, &pa) && present(b, vb, &pb) && pa == pb &&
                  pa == ff_find(&file.m, 1),
              "not the file's page");
    struct page *pg = file.pg[1];
    HT_EQ_U(page_mapcount(pg), 2);
    HT_EQ_U(page_count(pg), 3);
    HT_EQ_U(global_node_page_state(NR_FILE_MAPPED), 2);   /* pages 1 and 2 */
    HT_TRY(check());
    HT_EQ_U(mm_munmap(a, va, 3 * FR), 0);
    HT_EQ_U(page_mapcount(pg), 1);
    HT_EQ_U(file.m.nr_vmas, 1);
    HT_TRY(check());
    drop_mm(b);                                 /* exit: the counts go too */
    HT_EQ_U(page_mapcount(pg), 0);
    HT_EQ_U(page_count(pg), 1);
    HT_EQ_U(global_node_page_state(NR_FILE_MAPPED), 0);
    HT_EQ_U(file.refs, 0);
    HT_TRY(teardown());
}

/* A private mapping maps the cache's page read-only; the first write
 * copies it; the file never changes; a write to the file shows until
 * then. */
static void t_private_copy_on_write(void)
{
    HT_TRY(setup());
    file_init(2 * FR);
    struct mm *a = new_mm();
    uint64_t va, pa;
    MAP(a, 2 * FR, RW, MAP_PRIVATE, 0, va);
    HT_TRY(ur(a, va + 3, 0));
    HT_ASSERT(present(a, va, &pa) && pa == ff_find(&file.m, 0), "read fault: not the file's");
    struct pt_view v;
    HT_ASSERT(pt_walk(&a->pt, va, &v) == 0 && !(v.prot & PT_W), "the file's page is writable");
    *file_byte(&file, 3) = 0x33;                /* write() to the file */
    HT_TRY(ur(a, va + 3, 0x33));
    HT_TRY(uw(a, va + 4, 0x44));                /* the copy */
    HT_ASSERT(present(a, va, &pa) && pa != ff_find(&file.m, 0), "no copy made");
    HT_ASSERT(*file_byte(&file, 4) == 0, "the private write reached the file");
    HT_EQ_U(page_mapcount(file.pg[0]), 0);
    *file_byte(&file, 5) = 0x55;                /* no longer seen */
    HT_TRY(ur(a, va + 5, 0));
    HT_TRY(ur(a, va + 3, 0x33));
    /* A first access that writes: a copy at once. */
    HT_TRY(uw(a, va + FR, 0x66));
    HT_ASSERT(*file_byte(&file, FR) == 0, "the private write reached the file");
    HT_EQ_U(page_mapcount(file.pg[1]), 0);
    HT_TRY(check());
    HT_TRY(teardown());
}

/* fork: shared pages stay shared (no copy-on-write), private ones are
 * copy-on-write, and every map count follows. */
static void t_fork_and_exit(void)
{
    HT_TRY(setup());
    file_init(2 * FR);
    struct mm *p = new_mm();
    uint64_t vs, vp;
    MAP(p, 2 * FR, RW, MAP_SHARED, 0, vs);
    MAP(p, 2 * FR, RW, MAP_PRIVATE, 0, vp);
    HT_TRY(uw(p, vs, 1));
    HT_TRY(ur(p, vp + FR, 0));                  /* the file's page, read-only */
    HT_TRY(uw(p, vp, 2));                       /* a private copy */
    struct mm *c = fork_mm(p);
    HT_ASSERT(c, "fork failed");
    HT_EQ_U(file.m.nr_vmas, 4);
    HT_EQ_U(page_mapcount(file.pg[0]), 2);      /* shared in both */
    HT_EQ_U(page_mapcount(file.pg[1]), 2);      /* private read-only in both */
    HT_TRY(check());
    HT_TRY(uw(c, vs + 1, 3));                   /* shared: the parent sees it */
    HT_TRY(ur(p, vs + 1, 3));
    HT_TRY(uw(c, vp + 1, 4));                   /* private copy: the parent does not */
    HT_TRY(ur(p, vp + 1, 0));
    HT_TRY(ur(p, vp, 2));
    HT_TRY(uw(c, vp + FR, 5));                  /* the file's page: copied */
    HT_ASSERT(*file_byte(&file, FR) == 0, "a private write reached the file");
    HT_EQ_U(page_mapcount(file.pg[1]), 1);
    HT_TRY(check());
    drop_mm(c);
    HT_EQ_U(page_mapcount(file.pg[0]), 1);
    HT_EQ_U(file.m.nr_vmas, 2);
    HT_TRY(check());
    HT_TRY(teardown());
}

/* The i_mmap list follows splits, merges and munmap. */
static void t_i_mmap_follows_splits(void)
{
    HT_TRY(setup());
    file_init(8 * FR);
    struct mm *a = new_mm();
    uint64_t va;
    MAP(a, 8 * FR, RW, MAP_SHARED, 0, va);
    HT_EQ_U(file.m.nr_vmas, 1);
    HT_EQ_U(mm_mprotect(a, va + 2 * FR, 2 * FR, PROT_READ), 0);
    HT_EQ_U(file.m.nr_vmas, 3);
    HT_EQ_U(file.refs, 3);
    HT_TRY(check());
    HT_EQ_U(mm_mprotect(a, va + 2 * FR, 2 * FR, RW), 0);   /* merged back */
    HT_EQ_U(file.m.nr_vmas, 1);
    HT_EQ_U(file.refs, 1);
    HT_EQ_U(mm_munmap(a, va + 3 * FR, FR), 0);
    HT_EQ_U(file.m.nr_vmas, 2);
    /* The two pieces keep their file offsets: page 5 is still page 5. */
    HT_TRY(uw(a, va + 5 * FR, 9));
    HT_ASSERT(*file_byte(&file, 5 * FR) == 9, "offset lost in the split");
    HT_TRY(check());
    /* Two mappings of one file never merge with each other's offsets
     * wrong: a second mapping right after the first, at offset 0. */
    HT_EQ_U(mm_munmap(a, va, 8 * FR), 0);
    HT_EQ_U(file.m.nr_vmas, 0);
    HT_EQ_U(file.refs, 0);
    HT_TRY(teardown());
}

/* Truncation unmaps the pages past the new end in every address space,
 * private copies included; an access there is SIGBUS, the rest of the
 * last page reads zero. */
static void t_truncate_unmaps_everywhere(void)
{
    HT_TRY(setup());
    file_init(4 * FR);
    struct mm *p = new_mm(), *other = new_mm();
    uint64_t vs, vp, vo;
    MAP(p, 4 * FR, RW, MAP_SHARED, 0, vs);
    MAP(p, 4 * FR, RW, MAP_PRIVATE, 0, vp);
    MAP(other, 3 * FR, PROT_READ, MAP_SHARED, FR, vo);     /* file pages 1..3 */
    for (uint64_t i = 0; i < 4; i++) {
        HT_TRY(uw(p, vs + i * FR + 1, (uint8_t)(i + 1)));
        HT_TRY(ur(p, vp + i * FR + 1, (uint8_t)(i + 1)));
    }
    HT_TRY(uw(p, vp + 3 * FR, 7));              /* a private copy of page 3 */
    for (uint64_t i = 0; i < 3; i++)
        HT_TRY(ur(other, vo + i * FR + 1, (uint8_t)(i + 2)));
    struct mm *c = fork_mm(p);
    HT_ASSERT(c, "fork failed");
    HT_TRY(check());
    uint64_t before = frames_now();
    file_truncate(&file, FR + 10);
    uint64_t freed = frames_now() - before;
    HT_TRY(check());
    /* Pages 2 and 3 are gone from every process and from the file; the
     * private copies of page 3 (parent's, and the child's sharing it)
     * too: 2 file pages and 1 copy back to the allocator. */
    for (int k = 0; k < 2; k++) {
        struct mm *mm = k ? c : p;
        for (uint64_t i = 2; i < 4; i++) {
            HT_ASSERT(!present(mm, vs + i * FR, NULL) && !present(mm, vp + i * FR, NULL),
                      "page %lu still mapped", i);
            HT_TRY(sigbus(mm, vs + i * FR, 0));
            HT_TRY(sigbus(mm, vp + i * FR, FAULT_WRITE));
        }
        HT_ASSERT(present(mm, vs + FR, NULL) && present(mm, vp, NULL), "page 0/1 unmapped");
    }
    HT_ASSERT(!present(other, vo + FR, NULL) && present(other, vo, NULL),
              "the other process keeps page 2 or lost page 1");
    HT_TRY(sigbus(other, vo + 2 * FR, 0));
    HT_EQ_U(freed, 3);
    HT_TRY(ur(p, vs + FR + 9, 0));               /* tail of the last page: zeros */
    HT_TRY(ur(other, vo + 10, 0));
    HT_TRY(ur(p, vs + FR + 1, 2));
    HT_TRY(check());
    /* Growing again: the pages come back, zero. */
    file.size = 4 * FR;
    HT_TRY(ur(c, vs + 3 * FR + 1, 0));
    HT_TRY(check());
    HT_TRY(teardown());
}

static void hoard_all_but(uint64_t keep);
static void give_back_all(void);

/* Past the end of the file, and a full file system: SIGBUS; no memory:
 * -ENOMEM (the OOM kill), nothing changed. */
static void t_fault_errors(void)
{
    HT_TRY(setup());
    file_init(100);
    struct mm *a = new_mm();
    uint64_t va;
    MAP(a, 4 * FR, RW, MAP_SHARED, 0, va);
    HT_TRY(ur(a, va + 99, 0));
    HT_TRY(ur(a, va + 4095, 0));
    HT_TRY(sigbus(a, va + FR, 0));
    HT_TRY(sigbus(a, va + 3 * FR, FAULT_WRITE));
    file.size = 4 * FR;
    file.full = true;
    HT_TRY(sigbus(a, va + FR, 0));              /* -ENOSPC: SIGBUS, as Linux's shmem */
    file.full = false;
    HT_TRY(ur(a, va + FR, 0));
    /* No frame: for a new file page, for a private copy. */
    uint64_t vp;
    MAP(a, 4 * FR, RW, MAP_PRIVATE, 0, vp);
    HT_TRY(ur(a, vp + FR, 0));                  /* the table exists now */
    hoard_all_but(0);
    uint8_t *p;
    int e1 = uaccess(a, va + 2 * FR, 0, &p), e2 = uaccess(a, vp + FR + 1, FAULT_WRITE, &p);
    give_back_all();
    HT_EQ_U(e1, -ENOMEM);
    HT_EQ_U(e2, -ENOMEM);
    HT_ASSERT(!file.pg[2] && present(a, vp + FR, NULL), "a failed fault changed something");
    HT_TRY(ur(a, vp + FR + 1, 0));
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_refusals(void)
{
    HT_TRY(setup());
    file_init(2 * FR);
    struct mm *a = new_mm();
    int err;
    uint64_t at;
    fmap(a, FR, RW, MAP_SHARED, &file, false, 0, &err);
    HT_EQ_U(err, -EACCES);                      /* opened read-only */
    at = fmap(a, FR, PROT_READ, MAP_SHARED, &file, false, 0, &err);
    HT_EQ_U(err, 0);
    HT_EQ_U(mm_mprotect(a, at, FR, RW), -EACCES);
    HT_EQ_U(mm_mprotect(a, at, FR, PROT_READ | PROT_EXEC), 0);
    at = fmap(a, FR, RW, MAP_PRIVATE, &file, false, 0, &err);
    HT_EQ_U(err, 0);                            /* private: the copies are writable */
    HT_TRY(uw(a, at, 1));
    fmap(a, FR, PROT_READ, MAP_SHARED_VALIDATE | 0x200000u, &file, true, 0, &err);
    HT_EQ_U(err, -EOPNOTSUPP);
    struct mmap_file none = { NULL, true, true, NULL };
    HT_EQ_U(mm_mmap_file(a, 0, FR, PROT_READ, MAP_SHARED, &none, 0, &at), -ENODEV);
    HT_EQ_U(file.m.nr_vmas, 2);
    HT_TRY(check());
    HT_TRY(teardown());
}

static void t_msync(void)
{
    HT_TRY(setup());
    file_init(2 * FR);
    struct mm *a = new_mm();
    uint64_t va;
    MAP(a, 2 * FR, RW, MAP_SHARED, 0, va);
    HT_EQ_U(mm_msync(a, va, 2 * FR, MS_SYNC), 0);
    HT_EQ_U(mm_msync(a, va, 1, MS_ASYNC | MS_INVALIDATE), 0);
    HT_EQ_U(mm_msync(a, va, 0, MS_SYNC), 0);
    HT_EQ_U(mm_msync(a, va, FR, MS_SYNC | MS_ASYNC), -EINVAL);
    HT_EQ_U(mm_msync(a, va, FR, 8), -EINVAL);
    HT_EQ_U(mm_msync(a, va + 1, FR, MS_SYNC), -EINVAL);
    HT_EQ_U(mm_msync(a, va, 3 * FR, MS_SYNC), -ENOMEM);
    HT_EQ_U(mm_msync(a, va - FR, 2 * FR, MS_SYNC), -ENOMEM);
    HT_EQ_U(mm_msync(a, va, UINT64_MAX - va, MS_SYNC), -ENOMEM);
    HT_TRY(teardown());
}

/* /proc/self/maps: the file's name, offset, device and inode; " (deleted)". */
static void t_maps_line(void)
{
    HT_TRY(setup());
    file_init(4 * FR);
    struct mm *a = new_mm();
    uint64_t va;
    MAP(a, 2 * FR, RW, MAP_SHARED, 2 * FR, va);
    char buf[512], want[128];
    mm_maps(a, buf, sizeof(buf));
    snprintf(want, sizeof(want), "%08lx-%08lx rw-s 00002000 08:01 42 ", va, va + 2 * FR);
    HT_ASSERT(strncmp(buf, want, strlen(want)) == 0, "maps: %s", buf);
    HT_ASSERT(strstr(buf, " /tmp/f\n"), "maps: %s", buf);
    file.unlinked = true;
    mm_maps(a, buf, sizeof(buf));
    HT_ASSERT(strstr(buf, " /tmp/f (deleted)\n"), "maps: %s", buf);
    HT_TRY(teardown());
}

/* MAP_SHARED anonymous memory through mm_shmem_new: a file of its own,
 * shared with a forked child, gone with its last VMA. */
static void t_shared_anonymous_file(void)
{
    HT_TRY(setup());
    file_init(0);
    mm_shmem_new = fake_shmem_new;
    struct mm *p = new_mm();
    uint64_t va;
    HT_EQ_U(mm_mmap(p, 0, 3 * FR, RW, MAP_SHARED | MAP_ANONYMOUS, NULL, 0, &va), 0);
    struct vm_mapping *m = vma_lookup(p, va)->mapping;
    HT_ASSERT(m && ff_of(m)->refs == 1 && m->nr_vmas == 1, "no shmem file, or refs wrong");
    HT_TRY(uw(p, va, 1));
    struct mm *c = fork_mm(p);
    HT_ASSERT(c, "fork failed");
    HT_TRY(uw(c, va + 2 * FR, 2));
    HT_TRY(ur(p, va + 2 * FR, 2));
    HT_TRY(ur(c, va, 1));
    HT_EQ_U(global_node_page_state(NR_SHMEM), 2);
    char buf[256];
    mm_maps(p, buf, sizeof(buf));
    HT_ASSERT(strstr(buf, "rw-s 00000000 08:01 42 ") && strstr(buf, "/dev/zero (deleted)\n"),
              "maps: %s", buf);
    HT_TRY(check());
    drop_mm(c);
    HT_EQ_U(mm_munmap(p, va, 3 * FR), 0);       /* the last VMA: the file goes */
    HT_EQ_U(global_node_page_state(NR_SHMEM), 0);
    HT_TRY(teardown());
}

/* Take every free frame but `keep`: how fork is made to fail at each of
 * its allocations in turn. */
static struct page *hoard[8192];
static size_t nhoard;

static void hoard_all_but(uint64_t keep)
{
    struct page *p;
    while (nhoard < HT_COUNT(hoard) && (p = alloc_page(GFP_KERNEL | __GFP_NOWARN)) != NULL)
        hoard[nhoard++] = p;
    while (keep-- && nhoard)
        __free_pages(hoard[--nhoard], 0);
}

static void give_back_all(void)
{
    while (nhoard)
        __free_pages(hoard[--nhoard], 0);
}

/* fork running out of memory at every step: nothing of the child stays,
 * the parent's pages keep their references and map counts, the file its
 * list. */
static void t_fork_enomem(void)
{
    HT_TRY(setup());
    file_init(8 * FR);
    struct mm *p = new_mm();
    uint64_t vs, vp;
    MAP(p, 8 * FR, RW, MAP_SHARED, 0, vs);
    MAP(p, 8 * FR, RW, MAP_PRIVATE, 0, vp);
    for (uint64_t i = 0; i < 8; i++) {
        HT_TRY(uw(p, vs + i * FR, (uint8_t)i));
        HT_TRY(ur(p, vp + i * FR, (uint8_t)i));
    }
    HT_TRY(uw(p, vp + 7 * FR, 0x77));
    uint64_t mapped = global_node_page_state(NR_FILE_MAPPED), fails = 0;
    for (uint64_t keep = 0;; keep++) {
        hoard_all_but(keep);
        struct mm *c = fork_mm(p);
        give_back_all();
        if (c) {
            HT_EQ_U(page_mapcount(file.pg[3]), 4);
            drop_mm(c);
            break;
        }
        fails++;
        HT_EQ_U(file.m.nr_vmas, 2);
        HT_EQ_U(global_node_page_state(NR_FILE_MAPPED), mapped);
        HT_EQ_U(page_mapcount(file.pg[3]), 2);
        HT_TRY(check());
        HT_ASSERT(keep < 64, "fork still fails with %lu frames free", keep);
    }
    HT_ASSERT(fails > 0, "fork never failed");
    HT_TRY(ur(p, vp + 7 * FR, 0x77));
    HT_TRY(check());
    HT_TRY(teardown());
}

/* mremap moves a file VMA's entries: the new VMA is on the file's list
 * at the same offset, the map counts do not change; old_len 0 makes a
 * second mapping of the file. */
static void t_mremap_keeps_the_file(void)
{
    HT_TRY(setup());
    file_init(4 * FR);
    struct mm *a = new_mm();
    uint64_t va, nva, dup;
    MAP(a, 2 * FR, RW, MAP_SHARED, FR, va);     /* file pages 1, 2 */
    HT_TRY(uw(a, va + 1, 7));
    HT_EQ_U(mm_mremap(a, va, 2 * FR, 3 * FR, MREMAP_MAYMOVE | MREMAP_FIXED, va - 64 * FR, &nva),
            0);
    HT_EQ_U(nva, va - 64 * FR);
    HT_EQ_U(file.m.nr_vmas, 1);
    HT_EQ_U(page_mapcount(file.pg[1]), 1);
    HT_TRY(ur(a, nva + 1, 7));
    HT_TRY(uw(a, nva + 2 * FR, 8));             /* file page 3, grown into */
    HT_ASSERT(*file_byte(&file, 3 * FR) == 8, "the grown part is not the file's");
    HT_EQ_U(mm_mremap(a, nva, 0, FR, MREMAP_MAYMOVE, 0, &dup), 0);
    HT_EQ_U(file.m.nr_vmas, 2);
    HT_TRY(ur(a, dup + 1, 7));
    HT_EQ_U(page_mapcount(file.pg[1]), 2);
    HT_TRY(check());
    HT_TRY(teardown());
}

/* Migration (what an i386 process faulting on a page above 4 GiB
 * triggers): the page moves in the cache and in every pte mapping it,
 * in place, with its rights and state; a private copy stays. */
static void t_migrate_moves_every_pte(void)
{
    HT_TRY(setup());
    file_init(2 * FR);
    struct mm *a = new_mm(), *b = new_mm();
    uint64_t va, vb, vp, old, pa;
    MAP(a, 2 * FR, RW, MAP_SHARED, 0, va);
    MAP(b, 2 * FR, PROT_READ, MAP_SHARED, 0, vb);
    MAP(b, 2 * FR, RW, MAP_PRIVATE, 0, vp);
    HT_TRY(uw(a, va + FR + 3, 0x42));
    HT_TRY(ur(b, vb + FR + 3, 0x42));
    HT_TRY(ur(b, vp + FR + 3, 0x42));          /* the cache's page, read-only */
    HT_TRY(uw(b, vp + 5, 0x43));               /* a private copy of page 0 */
    HT_ASSERT(present(a, va + FR, &old), "not mapped");
    struct pt_view before, after;
    HT_EQ_U(pt_walk(&a->pt, va + FR, &before), 0);
    HT_EQ_U(ff_migrate(&file.m, 1, GFP_KERNEL, &pa), 0);
    HT_ASSERT(pa != old && file.pg[1] == pfn_to_page(pa >> 12), "not moved");
    HT_TRY(check());
    uint64_t got;
    HT_ASSERT(present(a, va + FR, &got) && got == pa, "a still maps the old frame");
    HT_ASSERT(present(b, vb + FR, &got) && got == pa, "b still maps the old frame");
    HT_ASSERT(present(b, vp + FR, &got) && got == pa, "the private read-only pte not moved");
    HT_EQ_U(pt_walk(&a->pt, va + FR, &after), 0);
    HT_ASSERT(after.prot == before.prot && after.dirty == before.dirty &&
                  after.accessed == before.accessed, "rights or state changed");
    HT_EQ_U(page_mapcount(file.pg[1]), 3);
    HT_TRY(ur(b, vb + FR + 3, 0x42));
    HT_TRY(uw(a, va + FR + 4, 0x44));
    HT_TRY(ur(b, vb + FR + 4, 0x44));
    HT_TRY(ur(b, vp + 5, 0x43));               /* the copy is untouched */
    HT_TRY(teardown());
}

/* The validators see a wrong map count and a file page in a wrong place. */
static void t_validators_catch(void)
{
    HT_TRY(setup());
    file_init(FR);
    struct mm *a = new_mm();
    uint64_t va;
    char why[256];
    MAP(a, FR, RW, MAP_SHARED, 0, va);
    HT_TRY(uw(a, va, 1));
    struct mm *one[1] = { a };
    file.pg[0]->prev++;
    HT_EQ_U(mm_check_frames(one, 1, why, sizeof(why)), -EUCLEAN);
    HT_ASSERT(strstr(why, "map count"), "why: %s", why);
    file.pg[0]->prev--;
    struct vma *v = vma_lookup(a, va);
    v->prot = PROT_READ | PROT_WRITE;
    v->flags &= ~VMA_MAYWRITE;
    HT_EQ_U(mm_check_consistency(a, why, sizeof(why)), -EUCLEAN);
    HT_ASSERT(strstr(why, "not opened for writing"), "why: %s", why);
    v->flags |= VMA_MAYWRITE;
    HT_TRY(check());
    HT_TRY(teardown());
}

static const struct htest cases[] = {
    HT_CASE(shared_two_processes),
    HT_CASE(private_copy_on_write),
    HT_CASE(fork_and_exit),
    HT_CASE(fork_enomem),
    HT_CASE(i_mmap_follows_splits),
    HT_CASE(truncate_unmaps_everywhere),
    HT_CASE(fault_errors),
    HT_CASE(refusals),
    HT_CASE(msync),
    HT_CASE(maps_line),
    HT_CASE(shared_anonymous_file),
    HT_CASE(mremap_keeps_the_file),
    HT_CASE(migrate_moves_every_pte),
    HT_CASE(validators_catch),
};

int main(int argc, char **argv)
{
    return htest_main(cases, HT_COUNT(cases), argc - 1, argv + 1);
}
