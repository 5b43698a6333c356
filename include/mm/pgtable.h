/*
 * The page-table interface.
 *
 * Everything above this header (the kernel's own tables, vmalloc,
 * ioremap, address spaces, demand paging, fork and copy-on-write) speaks
 * in generic terms: map a range with protections, unmap it, change its
 * protections, replace one leaf in place, park a payload in a non-present
 * entry, walk an address to a generic view of its entry.  Nobody above
 * this header touches entry bits.
 *
 * Behind it sit page-table *formats*: the x86-64 4-level format
 * (mm/pt_x86_64.c) and the i386 two-level format of compat32
 * (compat32/pt_i386.c).
 * A format only says how one entry is encoded and decoded and how many
 * levels there are; the walker (mm/pgtable_walk.c) is one loop over
 * levels shared by every format and every operation.
 *
 * Levels are numbered from the leaf: level 0 is the last table (PTEs,
 * 4 KiB pages), level 1 the one above (PDEs: 2 MiB pages on x86-64, 4 MiB
 * on i386), level 2 (PDPTEs, 1 GiB pages), level 3 the x86-64 top (PML4).
 *
 * Table pages come from the page allocator (pt->gfp) through node0, so
 * the host tests run the same code over their fake physical memory.
 */
#ifndef MM_PGTABLE_H
#define MM_PGTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mm/gfp.h>

/* Generic protections.  A present mapping is always readable. */
#define PT_W      0x01u  /* writable */
#define PT_X      0x02u  /* executable (no NX bit) */
#define PT_U      0x04u  /* user accessible */
#define PT_G      0x08u  /* global: survives CR3 switches */
/* Cache type: a 2-bit field, write-back when 0. */
#define PT_CACHE_MASK 0x30u
#define PT_WB     0x00u
#define PT_WC     0x10u  /* write-combining (framebuffers) */
#define PT_UC     0x20u  /* uncached (MMIO) */
#define PT_WT     0x30u  /* write-through */
#define PT_PROT_MASK 0x3fu
/*
 * State bits, for a format's make_leaf only (pt_map and pt_protect refuse
 * them): the leaf is created with its accessed / dirty bit set.  The
 * walker uses them to keep what the CPU recorded when it rewrites a leaf
 * (pt_protect, splitting a large leaf).
 */
#define PT_ACCESSED 0x40u
#define PT_DIRTY    0x80u

/* pt_map flags */
#define PT_MAP_LARGE   0x1u  /* use 2 MiB / 1 GiB leaves where va, pa and length allow */

#define PT_MAX_LEVELS 4

/*
 * Flags of pt_clone and pt_destroy_each: the page-table layer itself
 * takes or drops the frames' references of present leaves, a level-0
 * table at a time, with no call per page (fork's copy-on-write and exit).
 * The frames are mapped, so each is the head of an allocated block; the
 * function given sees only what the layer cannot handle alone: payload
 * entries, whose owner must take or drop what they name.
 */
#define PT_SHARE_FRAMES 0x1u  /* pt_clone: every present leaf is shared, one more reference */
#define PT_PUT_FRAMES   0x2u  /* pt_destroy_each: every present leaf's frame, one less */

struct pgtable;

/*
 * What a walk found for one entry: a leaf (payload 0) or a payload entry
 * (payload != 0: nothing is mapped, pa, prot and the state are 0, size is
 * 4 KiB and level 0).  pt_walk, pt_for_each, pt_clone's and
 * pt_destroy_each's functions all get one.
 */
struct pt_view {
    uint64_t va;          /* start of the page holding the address */
    uint64_t pa;          /* its physical start (0 for a payload entry) */
    uint64_t payload;     /* a payload entry's payload; 0 for a leaf */
    uint64_t size;        /* page size: 4 KiB, 2 MiB, 1 GiB (4 MiB on i386) */
    unsigned prot;        /* PT_* */
    bool accessed, dirty;
    unsigned level;       /* level of the leaf entry */
    /* The entries read on the way down, top first, for oops reports:
     * raw[0] from the root, raw[nraw - 1] the leaf or the first
     * non-present entry. */
    unsigned nraw;
    uint64_t raw[PT_MAX_LEVELS];
    /* Where the entry raw[nraw - 1] is (pt_walk fills these; other views
     * have NULL): the pgtable walked, the table holding that entry (its
     * direct-map address) and its index.  pt_replace_view rewrites the
     * leaf from there without a second walk. */
    const struct pgtable *pt;
    void *table;
    unsigned index;
};

/*
 * A format: how entries are encoded.  The walker never looks inside an
 * entry except through these.  Entries are read and written as 64-bit
 * integers; entry_bytes says how wide they are in memory (8 or 4).
 * A table is one page: (1 << index_bits) * entry_bytes == 4096.  The
 * levels that may hold leaves are 0..k for some k (no gap), an entry of
 * value 0 is not present, and va_bits == 12 + levels * index_bits.
 *
 * The tests a walk makes at every level are data, so that a step down is
 * a mask and a shift rather than a call: an entry e is present when
 * (e & present_mask) != 0, a present entry of a level above 0 that may
 * hold leaves is a leaf when (e & leaf_mask) != 0 (level 0: always), the
 * table a present non-leaf entry points to is e & table_mask, and a
 * leaf's accessed and dirty bits are accessed_mask and dirty_mask.  What
 * is rarer (making and decoding an entry) goes through the functions.
 *
 * A 4 KiB leaf holds its frame in place: make_leaf(pa, 0, prot) == pa |
 * make_leaf(0, 0, prot) for every page-aligned pa below 2^pa_bits, and
 * present_mask has no frame bit (pt_clone and pt_destroy_each decode one
 * leaf and reuse the result for neighbours that differ only in their
 * frame).  pt_init refuses a format breaking any of this, or whose masks
 * disagree with what its functions make.
 */
struct pt_format {
    const char *name;
    unsigned levels;                /* 4 for x86-64, 2 for i386 */
    unsigned entry_bytes;           /* 8 or 4 */
    unsigned index_bits;            /* 9 or 10 */
    unsigned leaf_levels;           /* bit L set: level L may hold a leaf */
    uint64_t va_bits;               /* 48 or 32: addresses the tables translate */
    uint64_t pa_bits;               /* 52 or 32: physical addresses a leaf can hold */
    uint64_t present_mask;          /* P */
    uint64_t leaf_mask;             /* PS, in entries above level 0 */
    uint64_t table_mask;            /* the table address of a non-leaf entry */
    uint64_t accessed_mask, dirty_mask; /* A and D of a leaf */
    /* An entry pointing to a next-level table covering va. */
    uint64_t (*make_table)(uint64_t table_pa, uint64_t va);
    /* A leaf mapping pa at this level with these protections (PT_* plus
     * PT_ACCESSED / PT_DIRTY).  Every bit of the entry is the format's:
     * rewriting a leaf keeps only what decode_leaf reports. */
    uint64_t (*make_leaf)(uint64_t pa, unsigned level, unsigned prot);
    /* Fill pa (of the leaf), prot, accessed and dirty from a leaf entry;
     * the exact inverse of make_leaf.  A format that cannot express a
     * protection (decode does not give it back) makes pt_map refuse it. */
    void (*decode_leaf)(uint64_t e, unsigned level, struct pt_view *v);
    /* Is va an address these tables can translate (e.g. canonical)?  The
     * translatable addresses must form at most two intervals, at the
     * bottom and the top of the 64-bit space. */
    bool (*va_ok)(uint64_t va);
    /*
     * Payload entries: a level-0 entry that is not present but not empty
     * either, holding a number for the operating system (where a page
     * went: a swap slot, a migration in progress).  The CPU ignores every
     * bit of a non-present entry but bit 0, so the format chooses where
     * the payload goes.  Payloads are 1 .. 2^payload_bits - 1;
     * make_payload's entry is not present and not 0, and
     * payload_of(make_payload(x)) == x.  Any other non-present, non-zero
     * entry is corruption (the validator says so).
     */
    unsigned payload_bits;
    uint64_t (*make_payload)(uint64_t payload);
    uint64_t (*payload_of)(uint64_t e);
};

extern const struct pt_format pt_x86_64;

struct pgtable {
    const struct pt_format *fmt;
    uint64_t root;                  /* physical address of the top table */
    gfp_t gfp;                      /* table pages: GFP_KERNEL, GFP_DMA32 for i386 */
    uint64_t va_start, va_end;      /* the range operations may touch */
    /*
     * Tables referenced from the root are never freed (the kernel half's
     * top-level entries, shared by every address space, must stay).
     * Set it after pt_init (which clears the whole struct), as flush.
     */
    bool keep_top_tables;
    uint64_t nr_tables;             /* table pages held, the root included */
    /* The last prot found expressible (a cache: the fault path asks about
     * the same few values again and again) and its 4 KiB leaf without a
     * frame, make_leaf(0, 0, prot_ok). */
    unsigned prot_ok;
    uint64_t prot_ok_leaf0;
    /*
     * Called once at the end of an operation that changed or removed
     * present entries, with a range inside the operation's range that
     * covers every translation changed, before any table page the
     * operation emptied is freed (so no stale TLB or paging-structure
     * cache entry refers to a freed table).  Not called when nothing
     * present changed (a pt_map only fills empty entries).  NULL: nothing
     * to flush (host tests, tables not loaded in CR3).
     */
    void (*flush)(struct pgtable *pt, uint64_t va, uint64_t len);
    /*
     * Called after flush and before the table pages an operation unlinked
     * are freed (never for a pt_map, which frees none): a CPU that
     * skipped the flush (an idle CPU keeping the tables lazily,
     * docs/smp.md) may still cache entries of those tables in its
     * paging-structure caches, and must drop them first.  NULL: nobody
     * skips a flush.
     */
    void (*tables_freed)(struct pgtable *pt);
};

/*
 * All functions return 0 or a negative errno (kernel/errno.h):
 *   -EINVAL  unaligned address or length, zero length, range outside
 *            [va_start, va_end), non-translatable address, bad prot,
 *            physical range beyond the format's pa_bits
 *   -EEXIST  pt_map over an existing mapping (nothing is changed)
 *   -ENOMEM  no page for a table (nothing is changed); a page the format
 *            cannot point to (above 2^pa_bits: give i386 tables a
 *            GFP_DMA32 gfp) counts as none
 *   -ENOENT  pt_walk of an unmapped address; pt_replace or
 *            pt_set_payload where no table reaches the address (they
 *            never allocate) or, for pt_replace, no leaf is present
 *            (a payload entry is not a leaf)
 *   -EFAULT  pt_walk met an entry pointing outside physical memory
 *            (corrupt tables, or a walk before mem_init)
 * None of them sleeps; the caller serializes operations on one pgtable.
 */

/* A new, empty set of tables: one zeroed root page.  [va_start, va_end)
 * must be page aligned, non-empty and translatable. */
int pt_init(struct pgtable *pt, const struct pt_format *fmt, gfp_t gfp,
            uint64_t va_start, uint64_t va_end);
/* Free every table page in [va_start, va_end) and the root; the mapped
 * frames themselves are not touched (their owner frees them).  Root
 * entries outside the range (shared kernel tables) are left alone.  No
 * flush: the tables must not be in use by any CPU.  Only after a
 * successful pt_init. */
void pt_destroy(struct pgtable *pt);

/*
 * pt_destroy, after showing fn (when not NULL) every leaf and payload
 * entry of [va_start, va_end), each once, in address order: how exit
 * drops its frames and frees its tables in one walk, each table freed as
 * soon as the walk leaves it.  With PT_PUT_FRAMES, every present leaf's
 * frame loses one reference (freed with it when it was the last, as
 * put_page), a level-0 table at a time with no call per page, and fn
 * sees only the payload entries (whose owner must let go of what they
 * name).  fn must not change the tables.  flags: 0 or PT_PUT_FRAMES
 * (anything else is a bug: panic).
 */
void pt_destroy_each(struct pgtable *pt, unsigned flags,
                     void (*fn)(const struct pt_view *v, void *arg), void *arg);

/*
 * Fork's copy (Linux's copy_page_range): give dst a leaf for every
 * present leaf of src in [start, end), and a copy of every payload entry,
 * building dst's tables as needed, a table's worth of entries at a time.
 * Both use the same format; an entry of dst where src has one is -EEXIST
 * (dst's other entries in the range are left alone).  `clear`: rights
 * both copies of a leaf lose (PT_W: copy-on-write); src's changed leaves
 * get one src->flush at the end.
 *
 * fn(v, arg) sees each leaf as src's view with `clear` removed and may
 * change v->pa and v->prot for dst's copy (the accessed and dirty state
 * is copied as it is); it returns 0, or a negative errno that stops the
 * clone.  A payload entry reaches fn with v->payload set: the copy will
 * name the same thing (a swap slot...), so the owner of what it names
 * must take its own reference there; dst gets the entry as it is when fn
 * returns 0.  With PT_SHARE_FRAMES, every present leaf goes to dst as
 * src keeps it (without `clear`) and its frame gets one more reference,
 * with no call per page (fork's copy-on-write): fn sees only the payload
 * entries, and when fn is NULL a payload entry is -EINVAL (nobody would
 * take its reference).  Without the flag fn must not be NULL.  An entry
 * is written to dst exactly when fn returned 0 for it (fn giving a pa or
 * prot the format cannot hold is a bug: panic).
 *
 * Not all or nothing: on an error (-ENOMEM for a table, fn's, -EEXIST,
 * -EINVAL for a large leaf crossing the range's edge) dst holds the
 * entries copied so far (the caller drops dst) and src's copied leaves
 * have lost `clear`.  [start, end) must be page aligned and inside both
 * ranges, and the two tables distinct (-EINVAL).
 */
int pt_clone(struct pgtable *dst, struct pgtable *src, uint64_t start, uint64_t end,
             unsigned clear, unsigned flags, int (*fn)(struct pt_view *v, void *arg), void *arg);

/*
 * Copy src's top-level entries for [start, start + len) into dst, so that
 * both point to the same lower tables: how every address space shares the
 * kernel half.  The range must be aligned to what one top-level entry
 * maps and lie outside dst's own range (dst never frees those tables).
 */
int pt_share_top(struct pgtable *dst, const struct pgtable *src, uint64_t start,
                 uint64_t len);

/* Map [va, va + len) to [pa, pa + len).  4 KiB aligned; large leaves
 * only with PT_MAP_LARGE and where va, pa and the remaining length are
 * aligned to the large size (and no table exists there already: then
 * the smaller leaves go into it).  All or nothing.  A payload entry in
 * the range is in the way as a leaf is (-EEXIST). */
int pt_map(struct pgtable *pt, uint64_t va, uint64_t pa, uint64_t len,
           unsigned prot, unsigned flags);
/*
 * Replace the present leaf mapping va, in place: it maps pa with prot
 * (PT_* rights, plus PT_ACCESSED / PT_DIRTY to set those state bits; the
 * state the old leaf had is kept).  The leaf keeps its level: va and pa
 * must be aligned to its size, and the whole leaf inside [va_start,
 * va_end) (a leaf of a table shared with other spaces, like the kernel
 * half, is refused: -EINVAL).  One entry write and one pt->flush of the
 * leaf, no memory: it cannot fail once the arguments are right.  How a
 * copy-on-write break gives the writer its copy, mprotect changes one
 * page, and migration moves a page.  -EINVAL, or -ENOENT (no leaf; a
 * payload entry is not a leaf).
 */
int pt_replace(struct pgtable *pt, uint64_t va, uint64_t pa, unsigned prot);
/*
 * pt_replace of the leaf that pt_walk(pt, va, v) has just found (it
 * returned 0), without walking again: the view keeps where the leaf is.
 * The same result and errors as pt_replace(pt, v->va, pa, prot), and
 * -EINVAL for a view that is not such a one (another pgtable's, a
 * payload or a hole, or a leaf that changed since the walk other than by
 * the accessed and dirty bits the CPU sets).  How a copy-on-write fault
 * breaks the sharing with the one walk it made to find the page.
 */
int pt_replace_view(struct pgtable *pt, const struct pt_view *v, uint64_t pa, unsigned prot);

/*
 * Make the level-0 entry for va a payload entry holding payload (1 ..
 * 2^payload_bits - 1, else -EINVAL).  The entry may be empty, a payload
 * entry, or a present 4 KiB leaf, which is removed (one pt->flush; its
 * frame is the caller's to drop).  The tables down to level 0 must exist
 * (-ENOENT: it never allocates); a large leaf covering va is -EINVAL
 * (split it first with pt_protect or pt_unmap of a part).  Nothing is
 * changed on an error.
 */
int pt_set_payload(struct pgtable *pt, uint64_t va, uint64_t payload);

/*
 * The payload entry for va becomes a 4 KiB leaf mapping pa with prot
 * (PT_* rights plus PT_ACCESSED / PT_DIRTY), in place: one entry write,
 * no memory, no flush (nothing was present).  How a page comes back from
 * swap where its swap entry was.  -EINVAL (bad arguments), -ENOENT (the
 * entry is not a payload entry, or no table reaches it).
 */
int pt_fill_payload(struct pgtable *pt, uint64_t va, uint64_t pa, unsigned prot);

/*
 * Reclaim's aging: clear the accessed bit of the leaf pt_walk just found
 * (v as for pt_replace_view) and flush its translation, so the next
 * access sets the bit again.  1 if it was set, 0 if not, -EINVAL for a
 * view that is not such a leaf.  (Linux's ptep_clear_flush_young.)
 */
int pt_test_clear_young(struct pgtable *pt, const struct pt_view *v);

/* Remove every mapping in [va, va + len) (holes are fine).  A large leaf
 * partly inside the range is split first (which may fail with -ENOMEM,
 * leaving everything as it was).  Payload entries in the range are
 * cleared too (their owner must have dealt with what they name).  Table
 * pages left empty are freed. */
int pt_unmap(struct pgtable *pt, uint64_t va, uint64_t len);
/* Set the protections of every mapping in [va, va + len) (holes are
 * skipped), splitting large leaves partly inside the range (-ENOMEM as
 * for pt_unmap).  Accessed and dirty bits are kept.  Never merges leaves
 * back into a large one.  Payload entries are left as they are (they map
 * nothing to protect). */
int pt_protect(struct pgtable *pt, uint64_t va, uint64_t len, unsigned prot);
/* Translate va: any translatable address, also outside [va_start,
 * va_end) (an oops may walk a kernel address through a process's root).
 * On -ENOENT, v->nraw and v->raw still say how far the walk got, v->level
 * is the level of the non-present entry, and v->payload is the payload
 * when that entry is a payload entry (0 otherwise).  v->pt, v->table and
 * v->index say where the last entry read is (for pt_replace_view). */
int pt_walk(const struct pgtable *pt, uint64_t va, struct pt_view *v);

/*
 * A cursor for many walks of nearby addresses (the reverse map's during a
 * batch of migrations, include/mm/migrate.h): the last level-0 table a
 * walk through it reached.  pt_walk_cursor(pt, va, v, c) gives what
 * pt_walk(pt, va, v) gives, but for the entries above the leaf
 * (raw[0 .. nraw - 2], which only oops reports read): those are the ones
 * the cursor saw when it was filled, and the CPU may have set their
 * accessed bits since.  When va lies in the table the cursor holds, it
 * reads that one entry instead of walking down from the root (x86-64:
 * one read for four).  A cursor stays right across any change of the
 * tables, because every table freed bumps pt_table_frees, which the
 * cursor compares with the count it saw: a table is never moved, and the
 * only entries that come to point to a new table are empty ones and
 * large leaves (a split), neither of which a level-0 cursor can hold
 * without the table it held having been freed first.  Zero it before its
 * first use.
 */
struct pt_cursor {
    const struct pgtable *pt;   /* NULL: empty */
    const void *table;          /* the level-0 table, direct-map address */
    uint64_t base;              /* va >> (PAGE_SHIFT + index_bits) of the addresses it holds */
    uint64_t frees;             /* pt_table_frees when it was filled */
    unsigned nraw;              /* the entries above the leaf, as pt_walk read them */
    uint64_t raw[PT_MAX_LEVELS];
};
extern uint64_t pt_table_frees;
int pt_walk_cursor(const struct pgtable *pt, uint64_t va, struct pt_view *v, struct pt_cursor *c);
/* Call fn on every leaf and every payload entry overlapping [start, end),
 * in address order (a payload entry: v->payload set, see struct pt_view);
 * stops and returns fn's value when it is not 0.  [start, end) must be page
 * aligned, non-empty and translatable (-EINVAL), but may lie outside
 * [va_start, va_end).  A leaf only partly inside is reported whole.  fn
 * must not change the tables. */
int pt_for_each(const struct pgtable *pt, uint64_t start, uint64_t end,
                int (*fn)(const struct pt_view *v, void *arg), void *arg);

/* Text of a prot value, for dumps and oopses: "rwx ug wb", a '-' for
 * each right or attribute missing ("r-- -g wb": read-only, global). */
const char *pt_prot_str(unsigned prot, char buf[16]);

/*
 * The validator: walk every table in [va_start, va_end) and check that
 * nr_tables counts exactly the table pages reachable (the root
 * included), each an allocated frame, none empty unless kept
 * (keep_top_tables), every table's count of used entries right, every
 * leaf at a leaf level with its physical address aligned to its size and
 * its entry as make_leaf would write it, and every non-present entry
 * either 0 or a well-formed payload entry at level 0.
 * Returns 0, or -EUCLEAN with the first problem in why.
 */
int pt_check(const struct pgtable *pt, char *why, size_t size);

#endif
